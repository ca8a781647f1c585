//! Conditions as Flux and kstatus read them.
//!
//! Every Flux-compatible object carries `Ready` at the end of a reconcile; `Reconciling` and
//! `Stalled` are "abnormal-true" and present only while true, and never both at once. With
//! `observedGeneration` on the status and on each condition, this makes `kubectl wait
//! --for=condition=ready` and kstatus (`Current` / `InProgress` / `Failed`) work.
//!
//! The helpers here edit a `Vec<Condition>` in memory; controllers write the result once per
//! reconcile.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// `Ready`: the object is fully reconciled (always present after a reconcile).
pub const READY: &str = "Ready";
/// `Reconciling`: work is under way (present only while true).
pub const RECONCILING: &str = "Reconciling";
/// `Stalled`: the object cannot make progress without a spec change (present only while true).
pub const STALLED: &str = "Stalled";
/// `Healthy`: the applied workloads passed their health checks (Kustomization).
pub const HEALTHY: &str = "Healthy";
/// `ArtifactInStorage`: the source's artifact is stored and served.
pub const ARTIFACT_IN_STORAGE: &str = "ArtifactInStorage";
/// `ArtifactOutdated`: the stored artifact is older than the upstream revision.
pub const ARTIFACT_OUTDATED: &str = "ArtifactOutdated";
/// `FetchFailed`: fetching from upstream failed.
pub const FETCH_FAILED: &str = "FetchFailed";
/// `BuildFailed`: building the artifact failed.
pub const BUILD_FAILED: &str = "BuildFailed";
/// `StorageOperationFailed`: a storage operation of the source-controller failed.
pub const STORAGE_OPERATION_FAILED: &str = "StorageOperationFailed";
/// `IncludeUnavailable`: an included GitRepository artifact is not available.
pub const INCLUDE_UNAVAILABLE: &str = "IncludeUnavailable";
/// `SourceVerified`: signature verification of the source (present when configured).
pub const SOURCE_VERIFIED: &str = "SourceVerified";

/// Reason: the operation succeeded.
pub const SUCCEEDED_REASON: &str = "Succeeded";
/// Reason: the operation failed.
pub const FAILED_REASON: &str = "Failed";
/// Reason: reconciliation is in progress.
pub const PROGRESSING_REASON: &str = "Progressing";
/// Reason: reconciliation failed and will be retried.
pub const PROGRESSING_WITH_RETRY_REASON: &str = "ProgressingWithRetry";
/// Reason: a dependency is not ready yet.
pub const DEPENDENCY_NOT_READY_REASON: &str = "DependencyNotReady";
/// Reason: the reconciliation succeeded (appliers).
pub const RECONCILIATION_SUCCEEDED_REASON: &str = "ReconciliationSucceeded";
/// Reason: the reconciliation failed (appliers).
pub const RECONCILIATION_FAILED_REASON: &str = "ReconciliationFailed";
/// Reason: the health checks failed.
pub const HEALTH_CHECK_FAILED_REASON: &str = "HealthCheckFailed";
/// Reason: the health checks were cancelled by a newer request.
pub const HEALTH_CHECK_CANCELED_REASON: &str = "HealthCheckCanceled";
/// Reason: the source artifact could not be fetched (appliers).
pub const ARTIFACT_FAILED_REASON: &str = "ArtifactFailed";
/// Reason: the build failed (appliers).
pub const BUILD_FAILED_REASON: &str = "BuildFailed";
/// Reason: an object is referenced across namespaces where that is not allowed.
pub const ACCESS_DENIED_REASON: &str = "AccessDenied";
/// Reason: a CEL expression in the spec does not compile.
pub const INVALID_CEL_EXPRESSION_REASON: &str = "InvalidCELExpression";
/// Reason: the spec uses a feature behind a disabled feature gate.
pub const FEATURE_GATE_DISABLED_REASON: &str = "FeatureGateDisabled";
/// Reason: the spec uses a field or value Sluice does not support yet.
pub const UNSUPPORTED_FIELD_REASON: &str = "UnsupportedField";
/// Reason: the object is suspended (`spec.suspend: true`).
pub const SUSPENDED_REASON: &str = "Suspended";

/// Kubernetes caps condition messages; Flux trims them to this many bytes.
pub const MAX_MESSAGE_BYTES: usize = 32_768;

/// The three values of `Condition.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionStatus {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

impl ConditionStatus {
    /// The string written to `Condition.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

impl From<bool> for ConditionStatus {
    fn from(value: bool) -> Self {
        if value {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}

/// Status structs that hold a list of conditions and the generation they describe.
pub trait ObjectWithConditions {
    /// The current conditions.
    fn conditions(&self) -> &[Condition];
    /// The conditions, for editing.
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;
}

/// The condition of type `type_`, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition `type_` is present with status `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Whether the condition `type_` is present with status `False`.
pub fn is_false(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "False")
}

/// Sets condition `type_`, replacing any previous one of that type.
///
/// `lastTransitionTime` is kept when the status does not change, so it records the last
/// flip as Kubernetes conventions require. The message is trimmed to
/// [`MAX_MESSAGE_BYTES`]. `generation` is the object's `metadata.generation`.
pub fn set(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    let status = status.as_str();
    let last_transition_time = match find(conditions, type_) {
        Some(old) if old.status == status => old.last_transition_time.clone(),
        _ => Time(jiff::Timestamp::now()),
    };
    let condition = Condition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: reason.to_owned(),
        message: trim_message(message),
        observed_generation: generation,
        last_transition_time,
    };
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(slot) => *slot = condition,
        None => conditions.push(condition),
    }
}

/// Removes condition `type_` if present.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) {
    conditions.retain(|c| c.type_ != type_);
}

/// Marks the object as being reconciled: `Reconciling=True` and, as kstatus requires,
/// no `Stalled` condition.
pub fn mark_reconciling(
    conditions: &mut Vec<Condition>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    remove(conditions, STALLED);
    set(
        conditions,
        RECONCILING,
        ConditionStatus::True,
        reason,
        message,
        generation,
    );
}

/// Marks the object as stalled (it needs a spec change): `Stalled=True`, no `Reconciling`,
/// and `Ready=False` with the same reason and message.
pub fn mark_stalled(
    conditions: &mut Vec<Condition>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    remove(conditions, RECONCILING);
    set(
        conditions,
        STALLED,
        ConditionStatus::True,
        reason,
        message,
        generation,
    );
    set(
        conditions,
        READY,
        ConditionStatus::False,
        reason,
        message,
        generation,
    );
}

/// Marks the object ready: `Ready=True` and neither `Reconciling` nor `Stalled`.
pub fn mark_ready(
    conditions: &mut Vec<Condition>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    remove(conditions, RECONCILING);
    remove(conditions, STALLED);
    set(
        conditions,
        READY,
        ConditionStatus::True,
        reason,
        message,
        generation,
    );
}

/// Marks a failed attempt that will be retried: `Ready=False` with the reason and message,
/// and a `Reconciling` condition (if one is present) rewritten to `ProgressingWithRetry`.
pub fn mark_failed_with_retry(
    conditions: &mut Vec<Condition>,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) {
    remove(conditions, STALLED);
    if find(conditions, RECONCILING).is_some() {
        set(
            conditions,
            RECONCILING,
            ConditionStatus::True,
            PROGRESSING_WITH_RETRY_REASON,
            message,
            generation,
        );
    }
    set(
        conditions,
        READY,
        ConditionStatus::False,
        reason,
        message,
        generation,
    );
}

/// The kstatus verdict for an object with Flux-style conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KStatus {
    /// Reconciled for the current generation and ready.
    Current,
    /// Still being reconciled (or not yet observed).
    InProgress,
    /// Stalled, or reconciled for the current generation but not ready.
    Failed,
}

/// Computes the kstatus verdict the way kstatus does for objects with a `Ready` condition:
/// an unobserved generation is `InProgress`; `Stalled=True` is `Failed`; `Reconciling=True`
/// is `InProgress`; otherwise `Ready=True` is `Current`, `Ready=False` is `Failed`, and
/// anything else is `InProgress`.
pub fn kstatus(
    conditions: &[Condition],
    generation: Option<i64>,
    observed_generation: Option<i64>,
) -> KStatus {
    if generation.is_some() && observed_generation != generation {
        return KStatus::InProgress;
    }
    if is_true(conditions, STALLED) {
        return KStatus::Failed;
    }
    if is_true(conditions, RECONCILING) {
        return KStatus::InProgress;
    }
    match find(conditions, READY).map(|c| c.status.as_str()) {
        Some("True") => KStatus::Current,
        Some("False") => KStatus::Failed,
        _ => KStatus::InProgress,
    }
}

/// Trims a message to [`MAX_MESSAGE_BYTES`] on a character boundary.
pub fn trim_message(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(conditions: &[Condition]) -> Vec<&str> {
        conditions.iter().map(|c| c.type_.as_str()).collect()
    }

    #[test]
    fn last_transition_time_is_kept_while_status_is_unchanged() {
        let mut conditions = Vec::new();
        set(
            &mut conditions,
            READY,
            ConditionStatus::False,
            "A",
            "first",
            Some(1),
        );
        let first = conditions[0].last_transition_time.clone();
        set(
            &mut conditions,
            READY,
            ConditionStatus::False,
            "B",
            "second",
            Some(2),
        );
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_transition_time, first);
        assert_eq!(conditions[0].reason, "B");
        assert_eq!(conditions[0].observed_generation, Some(2));
    }

    #[test]
    fn reconciling_and_stalled_are_never_both_present() {
        let mut conditions = Vec::new();
        mark_reconciling(&mut conditions, PROGRESSING_REASON, "working", Some(1));
        mark_stalled(&mut conditions, "URLInvalid", "bad url", Some(1));
        assert_eq!(types(&conditions), [STALLED, READY]);
        mark_reconciling(&mut conditions, PROGRESSING_REASON, "again", Some(2));
        assert!(find(&conditions, STALLED).is_none());
        assert!(is_true(&conditions, RECONCILING));
    }

    #[test]
    fn ready_removes_reconciling_and_stalled() {
        let mut conditions = Vec::new();
        mark_reconciling(&mut conditions, PROGRESSING_REASON, "working", Some(3));
        mark_ready(&mut conditions, SUCCEEDED_REASON, "stored", Some(3));
        assert_eq!(types(&conditions), [READY]);
        assert_eq!(kstatus(&conditions, Some(3), Some(3)), KStatus::Current);
    }

    #[test]
    fn failure_with_retry_rewrites_reconciling_reason() {
        let mut conditions = Vec::new();
        mark_reconciling(&mut conditions, PROGRESSING_REASON, "working", Some(1));
        mark_failed_with_retry(&mut conditions, "AuthenticationFailed", "denied", Some(1));
        let reconciling = find(&conditions, RECONCILING).expect("reconciling kept");
        assert_eq!(reconciling.reason, PROGRESSING_WITH_RETRY_REASON);
        assert!(is_false(&conditions, READY));
        assert_eq!(kstatus(&conditions, Some(1), Some(1)), KStatus::InProgress);
    }

    #[test]
    fn kstatus_follows_generation_stalled_and_ready() {
        let mut conditions = Vec::new();
        mark_ready(&mut conditions, SUCCEEDED_REASON, "ok", Some(2));
        assert_eq!(kstatus(&conditions, Some(3), Some(2)), KStatus::InProgress);
        mark_stalled(&mut conditions, "Invalid", "bad", Some(3));
        assert_eq!(kstatus(&conditions, Some(3), Some(3)), KStatus::Failed);
        assert_eq!(kstatus(&[], Some(1), Some(1)), KStatus::InProgress);
    }

    #[test]
    fn long_messages_are_trimmed_on_a_char_boundary() {
        let message = "é".repeat(MAX_MESSAGE_BYTES);
        let trimmed = trim_message(&message);
        assert!(trimmed.len() <= MAX_MESSAGE_BYTES);
        assert!(trimmed.chars().all(|c| c == 'é'));
    }
}
