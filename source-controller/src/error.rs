//! The controller's error type.
//!
//! Every failed reconcile step returns an [`Error`] that knows three things: the condition
//! reason it reports (`GitOperationFailed`, `AuthenticationFailed`, ...), the message
//! (written to the condition and the event as it is), and how it is retried. The classes
//! are upstream's (`internal/error` in Flux's source-controller):
//!
//! - [`Error::Generic`]: something outside the spec failed (network, credentials, the
//!   remote): a `Warning` event, forwarded to the notification-controller, and a retry
//!   with exponential backoff;
//! - [`Error::Waiting`]: a dependency is not there yet (an included GitRepository without
//!   an artifact): a `Normal` event that is not forwarded, and a retry after
//!   `--requeue-dependency`;
//! - [`Error::Stalling`]: the spec can never work as written (an invalid URL, an invalid
//!   verification mode): `Stalled=True`, a `Warning` event, and no retry until the object
//!   changes;
//! - [`Error::Api`]: the Kubernetes API refused a read or the status write: logged and
//!   retried with backoff.

use std::borrow::Cow;

use sluice_api::meta::EventSeverity;
use sluice_runtime::{ErrorClass, ReconcileError};

/// A failed reconcile of a source object.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A transient failure: retried with backoff.
    #[error("{message}")]
    Generic {
        /// Condition and event reason.
        reason: Cow<'static, str>,
        /// What went wrong, as written to the condition.
        message: String,
    },
    /// A dependency is not ready: retried after the dependency interval.
    #[error("{message}")]
    Waiting {
        /// Condition and event reason.
        reason: Cow<'static, str>,
        /// What is missing.
        message: String,
    },
    /// The spec cannot work: not retried until it changes.
    #[error("{message}")]
    Stalling {
        /// Condition and event reason.
        reason: Cow<'static, str>,
        /// Why the spec cannot work.
        message: String,
    },
    /// A Kubernetes API call failed (reading a Secret or a referenced object, writing the
    /// status).
    #[error("{context}: {source}")]
    Api {
        /// What was attempted.
        context: String,
        /// The API error.
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// A transient failure with `reason`.
    pub fn generic(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Generic {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A dependency that is not ready, with `reason`.
    pub fn waiting(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Waiting {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A spec that cannot work, with `reason`.
    pub fn stalling(reason: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Stalling {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A failed API call described by `context` (e.g. `failed to get secret 'ns/name'`).
    pub fn api(context: impl Into<String>) -> impl FnOnce(kube::Error) -> Self {
        let context = context.into();
        move |source| Self::Api { context, source }
    }

    /// The event severity upstream records for this error: `Normal` and not forwarded
    /// (trace) for waiting, `Warning` for the others.
    pub fn event_severity(&self) -> EventSeverity {
        match self {
            Self::Waiting { .. } => EventSeverity::Trace,
            Self::Generic { .. } | Self::Stalling { .. } | Self::Api { .. } => EventSeverity::Error,
        }
    }
}

impl ReconcileError for Error {
    fn class(&self) -> ErrorClass {
        match self {
            Self::Generic { .. } | Self::Api { .. } => ErrorClass::Transient,
            Self::Waiting { .. } => ErrorClass::Waiting,
            Self::Stalling { .. } => ErrorClass::Stalled,
        }
    }

    fn reason(&self) -> &str {
        match self {
            Self::Generic { reason, .. }
            | Self::Waiting { reason, .. }
            | Self::Stalling { reason, .. } => reason,
            Self::Api { .. } => sluice_api::source::v1::reasons::PATCH_OPERATION_FAILED,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_variant() {
        assert_eq!(
            Error::generic("GitOperationFailed", "x").class(),
            ErrorClass::Transient
        );
        assert_eq!(Error::waiting("NotFound", "x").class(), ErrorClass::Waiting);
        assert_eq!(
            Error::stalling("URLInvalid", "x").class(),
            ErrorClass::Stalled
        );
    }

    #[test]
    fn the_message_is_written_as_given() {
        let error = Error::generic("EmptyGitRepository", "git repository is empty");
        assert_eq!(error.to_string(), "git repository is empty");
        assert_eq!(error.reason(), "EmptyGitRepository");
    }

    #[test]
    fn waiting_errors_are_not_forwarded() {
        assert_eq!(
            Error::waiting("NoArtifact", "x").event_severity(),
            EventSeverity::Trace
        );
        assert_eq!(
            Error::generic("AuthenticationFailed", "x").event_severity(),
            EventSeverity::Error
        );
    }
}
