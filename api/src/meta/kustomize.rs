//! Kustomize settings embedded in Flux specs (Kustomization `patches`/`images`, HelmRelease
//! post-renderers) and the history, health-check, common-metadata and drift-ignore types
//! shared by the appliers.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An image override: `name` is matched against container images and replaced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Image name to match (without tag or digest).
    pub name: String,
    /// Replacement image name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Replacement tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_tag: Option<String>,
    /// Replacement digest; takes precedence over `newTag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Selects the objects a patch applies to; `name` and `namespace` are regular expressions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    /// API group of the target objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// API version of the target objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Kind of the target objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the target objects (a regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the target objects (a regular expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A Kubernetes annotation selector the target objects must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_selector: Option<String>,
    /// A Kubernetes label selector the target objects must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
}

/// A strategic merge patch or a JSON 6902 patch (as YAML text), with an optional target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Patch {
    /// The patch document: a partial object (strategic merge) or a list of operations
    /// (JSON 6902).
    pub patch: String,
    /// The objects the patch applies to; without it, the patch names its own target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}

/// CEL expressions that compute the health of a custom resource kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomHealthCheck {
    /// API version of the resources; only the group is used for matching.
    pub api_version: String,
    /// Kind of the resources; when empty, the expressions apply to every kind of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// CEL expression that is true when the resource is healthy.
    pub current: String,
    /// CEL expression that is true while the resource is still progressing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_progress: Option<String>,
    /// CEL expression that is true when the resource has failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// One entry of an applier's reconcile history, keyed by the digest of what was applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// sha256 digest of the applied manifests.
    pub digest: String,
    /// When this digest was first reconciled.
    pub first_reconciled: Time,
    /// When this digest was last reconciled.
    pub last_reconciled: Time,
    /// How long the last reconcile took, as a Go duration string.
    pub last_reconciled_duration: String,
    /// Outcome of the last reconcile, e.g. `ReconciliationSucceeded` or `HealthCheckFailed`.
    pub last_reconciled_status: String,
    /// How many times this digest was reconciled.
    pub total_reconciliations: i64,
    /// Extra data such as the source revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

/// Labels and annotations an applier sets on every object it applies, overriding any
/// value the object already has for the same key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CommonMetadata {
    /// Annotations to add to every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels to add to every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A drift-detection rule: the JSON Pointers in `paths` are left out when comparing the
/// desired objects (those matched by `target`, or all of them) with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct IgnoreRule {
    /// JSON Pointer (RFC 6901) paths to leave out, e.g. `/spec/replicas`.
    pub paths: Vec<String>,
    /// The objects the rule applies to; without it, every object of the applier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Selector>,
}
