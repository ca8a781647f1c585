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

/// Kind of the object a values or variables reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ValuesSourceKind {
    /// A Secret; its `data` values are base64-decoded before use.
    Secret,
    /// A ConfigMap; its `data` values are used as written.
    ConfigMap,
}

impl ValuesSourceKind {
    /// The kind as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ValuesSourceKind::Secret => "Secret",
            ValuesSourceKind::ConfigMap => "ConfigMap",
        }
    }
}

/// Helm values to read from a ConfigMap or Secret in the namespace of the referring
/// object, either merged at the root or set at a single path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValuesReference {
    /// Kind of the object holding the values: `Secret` or `ConfigMap`.
    pub kind: ValuesSourceKind,
    /// Name of the ConfigMap or Secret, in the namespace of the referring object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Data key to read; defaults to `values.yaml`. Without `targetPath` the key must
    /// hold a YAML document of values; with it, a single value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253), regex(pattern = r"^[\-._a-zA-Z0-9]+$"))]
    pub values_key: Option<String>,
    /// Dotted path (Helm `--set` syntax, e.g. `image.tag` or `args[0]`) at which the
    /// value is set; without it, the values are merged at the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(max = 250),
        regex(pattern = r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$")
    )]
    pub target_path: Option<String>,
    /// Tolerate a missing ConfigMap or Secret (or missing key) by skipping this reference;
    /// other errors still fail the reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// With `targetPath`, set the value verbatim (like `helm --set-literal`) instead of
    /// parsing it with `--set` syntax; useful for whole files or strings with commas,
    /// brackets or dots. No effect without `targetPath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<bool>,
}

impl ValuesReference {
    /// The data key holding the values, defaulting to `values.yaml`.
    pub fn values_key(&self) -> &str {
        self.values_key.as_deref().unwrap_or("values.yaml")
    }

    /// Whether a missing object or key is tolerated.
    pub fn is_optional(&self) -> bool {
        self.optional.unwrap_or(false)
    }

    /// Whether the value is set verbatim at `targetPath`.
    pub fn is_literal(&self) -> bool {
        self.literal.unwrap_or(false)
    }
}
