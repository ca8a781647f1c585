//! The event payload controllers POST to the notification endpoint (`--events-addr`),
//! wire-compatible with Flux's `event.toolkit.fluxcd.io/v1beta1` Event.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How serious an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventSeverity {
    /// Recorded as a Kubernetes Event only; never forwarded to the notification endpoint.
    Trace,
    /// Normal operation (a Kubernetes `Normal` event).
    Info,
    /// A failure (a Kubernetes `Warning` event).
    Error,
}

/// The object an event is about, as in a core `ObjectReference`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Kind of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// UID of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// API version of the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Resource version of the object the event was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// A field within the object, when the event is about part of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}

/// An event sent to the notification-controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The object the event is about.
    pub involved_object: ObjectReference,
    /// `info` or `error` (`trace` events are never sent).
    pub severity: EventSeverity,
    /// When the event happened.
    pub timestamp: Time,
    /// Human-readable description, at most 39000 characters.
    #[schemars(length(max = 39000))]
    pub message: String,
    /// Machine-readable reason in UpperCamelCase, usually a condition reason.
    pub reason: String,
    /// Extra data; keys are prefixed with the involved object's API group
    /// (`source.toolkit.fluxcd.io/revision`) or `event.toolkit.fluxcd.io/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Name of the controller that emitted the event, e.g. `source-controller`.
    pub reporting_controller: String,
    /// Instance (pod name or hostname) of the controller that emitted the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting_instance: Option<String>,
}

/// Largest message the notification endpoint accepts.
pub const MAX_EVENT_MESSAGE_CHARS: usize = 39_000;
