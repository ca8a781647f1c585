//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded into
//! the JSON the rest of the server handles.
//!
//! kubectl's typed clients (`kubectl create configmap|secret|deployment|...`, `create token`,
//! `auth can-i`, `autoscale`, `drain`, `debug`) send protobuf and accept JSON answers, so only
//! requests are decoded; responses stay JSON.
//!
//! A body is the magic `k8s\0` followed by a `runtime.Unknown` message:
//! `typeMeta{apiVersion = 1, kind = 2} = 1`, `raw = 2` (the object's own message),
//! `contentEncoding = 3`, `contentType = 4`. The object's message is read with a small
//! generic wire-format reader ([`wire`]) driven by a table of the messages involved
//! ([`schema`], `table.rs`), written from the upstream `generated.proto` files. The JSON is the
//! one Go's `encoding/json` writes for the decoded struct: unset fields omitted, explicit
//! zeros kept where a pointer carries them, `bytes` as base64, times as RFC 3339, maps from
//! their entry messages, embedded structs inlined.
//!
//! A body of a kind the table does not have (custom resources, which Kubernetes never serves
//! as protobuf, or built-ins outside the table) is refused with 415 naming the kind.

mod decode;
pub mod schema;
mod table;
pub mod wire;

use serde_json::{Map, Value};

use crate::errors::ApiError;

/// The four bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// The content type of Kubernetes protobuf.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The top-level kinds: `(apiVersion, kind, message)`. `DeleteOptions` is accepted in every
/// group version, as Kubernetes registers it in each.
const KINDS: &[(&str, &str, &str)] = &[
    ("v1", "ConfigMap", "core.v1.ConfigMap"),
    ("v1", "Endpoints", "core.v1.Endpoints"),
    ("v1", "Event", "core.v1.Event"),
    ("v1", "LimitRange", "core.v1.LimitRange"),
    ("v1", "Namespace", "core.v1.Namespace"),
    ("v1", "Node", "core.v1.Node"),
    ("v1", "PersistentVolume", "core.v1.PersistentVolume"),
    (
        "v1",
        "PersistentVolumeClaim",
        "core.v1.PersistentVolumeClaim",
    ),
    ("v1", "Pod", "core.v1.Pod"),
    ("v1", "ResourceQuota", "core.v1.ResourceQuota"),
    ("v1", "Secret", "core.v1.Secret"),
    ("v1", "Service", "core.v1.Service"),
    ("v1", "ServiceAccount", "core.v1.ServiceAccount"),
    (
        "apps/v1",
        "ControllerRevision",
        "apps.v1.ControllerRevision",
    ),
    ("apps/v1", "DaemonSet", "apps.v1.DaemonSet"),
    ("apps/v1", "Deployment", "apps.v1.Deployment"),
    ("apps/v1", "ReplicaSet", "apps.v1.ReplicaSet"),
    ("apps/v1", "StatefulSet", "apps.v1.StatefulSet"),
    (
        "authentication.k8s.io/v1",
        "SelfSubjectReview",
        "authentication.v1.SelfSubjectReview",
    ),
    (
        "authentication.k8s.io/v1",
        "TokenRequest",
        "authentication.v1.TokenRequest",
    ),
    (
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        "authorization.v1.SelfSubjectAccessReview",
    ),
    (
        "authorization.k8s.io/v1",
        "SelfSubjectRulesReview",
        "authorization.v1.SelfSubjectRulesReview",
    ),
    ("autoscaling/v1", "Scale", "autoscaling.v1.Scale"),
    (
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "autoscaling.v2.HorizontalPodAutoscaler",
    ),
    ("batch/v1", "CronJob", "batch.v1.CronJob"),
    ("batch/v1", "Job", "batch.v1.Job"),
    ("coordination.k8s.io/v1", "Lease", "coordination.v1.Lease"),
    (
        "discovery.k8s.io/v1",
        "EndpointSlice",
        "discovery.v1.EndpointSlice",
    ),
    ("events.k8s.io/v1", "Event", "events.v1.Event"),
    ("networking.k8s.io/v1", "Ingress", "networking.v1.Ingress"),
    (
        "networking.k8s.io/v1",
        "IngressClass",
        "networking.v1.IngressClass",
    ),
    (
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networking.v1.NetworkPolicy",
    ),
    ("policy/v1", "Eviction", "policy.v1.Eviction"),
    (
        "policy/v1",
        "PodDisruptionBudget",
        "policy.v1.PodDisruptionBudget",
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "rbac.v1.ClusterRole",
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "rbac.v1.ClusterRoleBinding",
    ),
    ("rbac.authorization.k8s.io/v1", "Role", "rbac.v1.Role"),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "rbac.v1.RoleBinding",
    ),
    (
        "scheduling.k8s.io/v1",
        "PriorityClass",
        "scheduling.v1.PriorityClass",
    ),
    (
        "storage.k8s.io/v1",
        "StorageClass",
        "storage.v1.StorageClass",
    ),
];

/// The message of a top-level kind, if the table has it.
pub fn kind_message(api_version: &str, kind: &str) -> Option<schema::Message> {
    if kind == "DeleteOptions" {
        return schema::message("meta.v1.DeleteOptions");
    }
    KINDS
        .iter()
        .find(|(v, k, _)| *v == api_version && *k == kind)
        .and_then(|(_, _, message)| schema::message(message))
}

/// The top-level kinds the table decodes, as `(apiVersion, kind)`.
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
    KINDS.iter().map(|(v, k, _)| (*v, *k))
}

/// A protobuf body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    /// The body is empty, or only the magic.
    #[error("empty body")]
    Empty,
    /// The body does not start with the magic.
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
    )]
    NoMagic,
    /// The wire data is malformed.
    #[error("malformed protobuf at {path}: {source}")]
    Wire {
        /// Where in the object.
        path: String,
        /// What is wrong.
        #[source]
        source: wire::WireError,
    },
    /// A field's wire type does not fit its type.
    #[error("malformed protobuf at {path}: wire type {wire_type} cannot hold a {expected}")]
    WrongWireType {
        /// Where in the object.
        path: String,
        /// The wire type found.
        wire_type: u8,
        /// What the schema expects.
        expected: &'static str,
    },
    /// A value Go would refuse to decode or encode.
    #[error("invalid value at {path}: {message}")]
    InvalidValue {
        /// Where in the object.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The envelope names no kind.
    #[error("Object 'Kind' is missing in '{0}'")]
    MissingKind(String),
    /// The envelope names no version.
    #[error("Object 'apiVersion' is missing in '{0}'")]
    MissingVersion(String),
    /// The kind is not in the table.
    #[error(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (protobuf is not supported for {kind} in version {api_version:?})"
    )]
    UnsupportedKind {
        /// `apiVersion` of the envelope.
        api_version: String,
        /// `kind` of the envelope.
        kind: String,
    },
    /// The envelope's raw object is compressed or not protobuf.
    #[error(
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (unsupported protobuf envelope: {0})"
    )]
    UnsupportedEnvelope(String),
    /// The table refers to a message it does not define (a bug of the table).
    #[error("the protobuf schema has no message {0}")]
    UnknownMessage(String),
}

impl From<ProtobufError> for ApiError {
    fn from(error: ProtobufError) -> Self {
        match error {
            ProtobufError::UnsupportedKind { .. } | ProtobufError::UnsupportedEnvelope(_) => {
                ApiError::unsupported_media_type(error.to_string())
            }
            ProtobufError::UnknownMessage(_) => ApiError::internal(error.to_string()),
            _ => ApiError::bad_request(error.to_string()),
        }
    }
}

/// The `runtime.Unknown` envelope.
#[derive(Debug, Default, PartialEq, Eq)]
struct Envelope<'a> {
    api_version: String,
    kind: String,
    raw: &'a [u8],
    content_encoding: String,
    content_type: String,
}

impl std::fmt::Display for Envelope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "runtime.TypeMeta{{APIVersion:{:?}, Kind:{:?}}}",
            self.api_version, self.kind
        )
    }
}

fn envelope(data: &[u8]) -> Result<Envelope<'_>, ProtobufError> {
    let wire_error = |path: &str, source| ProtobufError::Wire {
        path: path.to_owned(),
        source,
    };
    let text = |value: wire::WireValue<'_>, path: &str| match value {
        wire::WireValue::Bytes(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        other => Err(ProtobufError::WrongWireType {
            path: path.to_owned(),
            wire_type: other.wire_type(),
            expected: "string",
        }),
    };
    let mut envelope = Envelope::default();
    for item in wire::Fields::new(data) {
        match item.map_err(|e| wire_error("Unknown", e))? {
            (1, wire::WireValue::Bytes(type_meta)) => {
                for item in wire::Fields::new(type_meta) {
                    match item.map_err(|e| wire_error("Unknown.typeMeta", e))? {
                        (1, value) => {
                            envelope.api_version = text(value, "Unknown.typeMeta.apiVersion")?
                        }
                        (2, value) => envelope.kind = text(value, "Unknown.typeMeta.kind")?,
                        _ => {}
                    }
                }
            }
            (2, wire::WireValue::Bytes(raw)) => envelope.raw = raw,
            (3, value) => envelope.content_encoding = text(value, "Unknown.contentEncoding")?,
            (4, value) => envelope.content_type = text(value, "Unknown.contentType")?,
            (number @ (1 | 2), other) => {
                return Err(ProtobufError::WrongWireType {
                    path: format!("Unknown.{}", if number == 1 { "typeMeta" } else { "raw" }),
                    wire_type: other.wire_type(),
                    expected: "message",
                });
            }
            _ => {}
        }
    }
    Ok(envelope)
}

/// Decodes a Kubernetes protobuf body into the JSON object a JSON client would have sent,
/// with `apiVersion` and `kind` from the envelope.
///
/// # Errors
/// [`ProtobufError::UnsupportedKind`] (415) for kinds outside the table; 400-class errors for
/// bodies that are not well-formed protobuf of the kind they claim.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    if body.is_empty() {
        return Err(ProtobufError::Empty);
    }
    let data = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoMagic)?;
    if data.is_empty() {
        return Err(ProtobufError::Empty);
    }
    let envelope = envelope(data)?;
    if envelope.kind.is_empty() {
        return Err(ProtobufError::MissingKind(envelope.to_string()));
    }
    if envelope.api_version.is_empty() {
        return Err(ProtobufError::MissingVersion(envelope.to_string()));
    }
    if !envelope.content_encoding.is_empty() {
        return Err(ProtobufError::UnsupportedEnvelope(format!(
            "content encoding {:?}",
            envelope.content_encoding
        )));
    }
    if !envelope.content_type.is_empty() && !envelope.content_type.contains("protobuf") {
        return Err(ProtobufError::UnsupportedEnvelope(format!(
            "content type {:?}",
            envelope.content_type
        )));
    }
    let Some(message) = kind_message(&envelope.api_version, &envelope.kind) else {
        return Err(ProtobufError::UnsupportedKind {
            api_version: envelope.api_version,
            kind: envelope.kind,
        });
    };
    let path = decode::Path::Root(&envelope.kind);
    let fields = decode::message(message, envelope.raw, &path, 0)?;
    let mut object = Map::new();
    object.insert(
        "apiVersion".to_owned(),
        Value::String(envelope.api_version.clone()),
    );
    object.insert("kind".to_owned(), Value::String(envelope.kind.clone()));
    object.extend(fields);
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests;
