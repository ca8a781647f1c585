//! The Gateway API shapes a Canary embeds in `spec.service`: the parents its HTTPRoute
//! attaches to and static request mirrors.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Pattern of a Gateway API group: empty (the core group) or a DNS subdomain.
const GROUP_PATTERN: &str = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// Pattern of a Gateway API kind.
const KIND_PATTERN: &str = r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$";
/// Pattern of a namespace name (a DNS label).
const NAMESPACE_PATTERN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// Pattern of a section (listener) name (a DNS subdomain).
const SECTION_NAME_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// The default group of a [`ParentReference`].
pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

/// A parent the generated HTTPRoute attaches to: usually a Gateway (optionally one of its
/// listeners), or a Service for mesh (GAMMA) routing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// API group of the parent; `gateway.networking.k8s.io` when unset, `""` for a core
    /// Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 253),
        regex(pattern = GROUP_PATTERN),
        extend("default" = "gateway.networking.k8s.io")
    )]
    pub group: Option<String>,
    /// Kind of the parent; `Gateway` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = KIND_PATTERN),
        extend("default" = "Gateway")
    )]
    pub kind: Option<String>,
    /// Namespace of the parent; the Canary's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63), regex(pattern = NAMESPACE_PATTERN))]
    pub namespace: Option<String>,
    /// Name of the parent.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// A section of the parent, such as the name of a Gateway listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253), regex(pattern = SECTION_NAME_PATTERN))]
    pub section_name: Option<String>,
    /// A port of the parent, such as a Gateway listener's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

impl ParentReference {
    /// The group, defaulting to `gateway.networking.k8s.io`.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or(GATEWAY_GROUP)
    }
    /// The kind, defaulting to `Gateway`.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Gateway")
    }
}

/// A copy of every request is sent to this backend; its answers are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequestMirrorFilter {
    /// Where the copies go.
    pub backend_ref: BackendObjectReference,
}

/// A backend of a route: a Service port, or another kind of backend.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[x_kube(validation = Rule::new("(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true").message("Must have port for Service reference"))]
pub struct BackendObjectReference {
    /// API group of the backend; `""` (the core group) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = GROUP_PATTERN), extend("default" = ""))]
    pub group: Option<String>,
    /// Kind of the backend; `Service` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = KIND_PATTERN),
        extend("default" = "Service")
    )]
    pub kind: Option<String>,
    /// Name of the backend.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the backend; the Canary's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63), regex(pattern = NAMESPACE_PATTERN))]
    pub namespace: Option<String>,
    /// Port of the backend; required for a Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,
}

impl BackendObjectReference {
    /// The group, defaulting to the core group `""`.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }
    /// The kind, defaulting to `Service`.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Service")
    }
}
