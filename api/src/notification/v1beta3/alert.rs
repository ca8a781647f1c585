//! Alert: which events (by object, severity and message) are forwarded to a Provider.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{EventSeverity, LocalObjectReference};
use crate::notification::v1::CrossNamespaceObjectReference;

/// A rule selecting events about some Flux objects and sending them to a Provider. An
/// Alert has no status.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Alert",
    plural = "alerts",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    namespaced,
    derive = "PartialEq",
    doc = "Alert is the Schema for the alerts API: a rule forwarding events about Flux objects to a Provider.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct AlertSpec {
    /// The Provider, in the Alert's namespace, that receives the events.
    pub provider_ref: LocalObjectReference,
    /// The lowest severity forwarded: `info` (the default) forwards every event, `error`
    /// only errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "info"))]
    pub event_severity: Option<AlertSeverity>,
    /// The objects whose events are forwarded, by kind, name (or `*` with labels) and
    /// namespace.
    pub event_sources: Vec<CrossNamespaceObjectReference>,
    /// Regular expressions (Go syntax); when set, only events whose message matches one of
    /// them are forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_list: Option<Vec<String>>,
    /// Extra metadata added to every forwarded event. A key already set by the emitter
    /// keeps the emitter's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_metadata: Option<BTreeMap<String, String>>,
    /// Regular expressions (Go syntax); events whose message matches any of them are
    /// dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusion_list: Option<Vec<String>>,
    /// A short description added to events as the `summary` metadata. Deprecated: use
    /// `eventMetadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub summary: Option<String>,
    /// Stop forwarding events until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl AlertSpec {
    /// The severity filter, defaulting to `info`.
    pub fn event_severity(&self) -> AlertSeverity {
        self.event_severity.unwrap_or(AlertSeverity::Info)
    }

    /// Whether the Alert is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }
}

/// The severity filter of an Alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// Forward every event.
    Info,
    /// Forward error events only.
    Error,
}

impl AlertSeverity {
    /// Whether an event of `severity` passes this filter. Trace events never do: they are
    /// not sent to the notification endpoint.
    pub fn admits(self, severity: EventSeverity) -> bool {
        match (self, severity) {
            (_, EventSeverity::Trace) => false,
            (AlertSeverity::Info, _) => true,
            (AlertSeverity::Error, severity) => severity == EventSeverity::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_alerts_admit_only_errors() {
        assert!(AlertSeverity::Info.admits(EventSeverity::Info));
        assert!(AlertSeverity::Info.admits(EventSeverity::Error));
        assert!(!AlertSeverity::Error.admits(EventSeverity::Info));
        assert!(AlertSeverity::Error.admits(EventSeverity::Error));
        assert!(!AlertSeverity::Info.admits(EventSeverity::Trace));
    }
}
