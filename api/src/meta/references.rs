//! References from one object to another, as Flux spells them.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to an object in the same namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    /// Name of the referent.
    pub name: String,
}

/// A reference to an object, optionally in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct NamespacedObjectReference {
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent; defaults to the namespace of the referring object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to an object of a given kind, optionally in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespacedObjectKindReference {
    /// API version of the referent; when empty the controller picks the version it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referent.
    pub kind: String,
    /// Name of the referent.
    pub name: String,
    /// Namespace of the referent; defaults to the namespace of the referring object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A reference to a Secret in the same namespace, and optionally to one of its keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyReference {
    /// Name of the Secret.
    pub name: String,
    /// Key in the Secret; when empty, a default key chosen by the controller is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Where a controller finds the kubeconfig of a remote cluster to act on: exactly one of a
/// Secret holding a kubeconfig file, or a ConfigMap describing a cloud-provider identity.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.configMapRef) || has(self.secretRef)").message("exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"),
    validation = Rule::new("!has(self.configMapRef) || !has(self.secretRef)").message("exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"),
)]
pub struct KubeConfigReference {
    /// A ConfigMap holding the provider settings (`provider`, `cluster`, `address`,
    /// `serviceAccountName`, `audiences`) used to obtain credentials through workload
    /// identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
    /// A Secret holding a kubeconfig file; the key defaults to `value`, then `value.yaml`.
    /// The kubeconfig must be self-contained: no exec or auth-provider plugins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyReference>,
}

/// A dependency on another object of the same kind that must be ready first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DependencyReference {
    /// Name of the dependency.
    pub name: String,
    /// Namespace of the dependency; defaults to the namespace of the dependent object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// A CEL expression over `self` (the dependent) and `dep` (the dependency) that decides
    /// readiness instead of the dependency's `Ready` condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_expr: Option<String>,
}
