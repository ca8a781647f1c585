//! ImageUpdateAutomation: rewrite the image references marked in a Git repository to the
//! images elected by ImagePolicies, then commit and push.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::ImageRef;
use crate::meta::LocalObjectReference;
use crate::schema::DURATION_PATTERN;
use crate::source::v1::GitRepositoryRef;

/// The commit message used when `spec.git.commit.messageTemplate` is not set.
pub const DEFAULT_COMMIT_MESSAGE: &str = "Update from image update automation";

/// Which repository to update, how to commit and push, and which policies to apply.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1",
    kind = "ImageUpdateAutomation",
    plural = "imageupdateautomations",
    shortname = "iua",
    shortname = "imgupd",
    shortname = "imgauto",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
    namespaced,
    status = "ImageUpdateAutomationStatus",
    derive = "PartialEq",
    doc = "ImageUpdateAutomation is the Schema for the imageupdateautomations API: commits the images elected by ImagePolicies into the manifests of a Git repository.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    ),
    printcolumn(
        name = "Last run",
        type_ = "string",
        json_path = ".status.lastAutomationRunTime",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpdateAutomationSpec {
    /// The GitRepository giving the repository URL and credentials.
    pub source_ref: CrossNamespaceSourceReference,
    /// Checkout, commit and push settings. Optional in the schema, but needed in practice
    /// since Git is the only kind of source.
    #[serde(default, rename = "git", skip_serializing_if = "Option::is_none")]
    pub git_spec: Option<GitSpec>,
    /// The shortest time between two automation runs, e.g. `30m`.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Which ImagePolicies of the namespace apply, by label; all of them when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "atomic_label_selector")]
    pub policy_selector: Option<LabelSelector>,
    /// How files are updated; defaults to the `Setters` strategy at the repository root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {"strategy": "Setters"}))]
    pub update: Option<UpdateStrategy>,
    /// Stop running the automation until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl ImageUpdateAutomationSpec {
    /// Whether the automation is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }

    /// The update strategy's name, defaulting to `Setters`.
    pub fn update_strategy(&self) -> UpdateStrategyName {
        self.update
            .as_ref()
            .and_then(|update| update.strategy)
            .unwrap_or(UpdateStrategyName::Setters)
    }

    /// The directory to update, relative to the repository root; `None` for the root.
    pub fn update_path(&self) -> Option<&str> {
        self.update
            .as_ref()
            .and_then(|update| update.path.as_deref())
    }
}

/// Schema of `policySelector`: a Kubernetes label selector, replaced as a whole by
/// server-side apply (`x-kubernetes-map-type: atomic`), as upstream declares it.
fn atomic_label_selector(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": {
            "matchExpressions": {
                "description": "Label requirements, all of which must hold.",
                "type": "array",
                "items": {
                    "description": "A requirement on one label: its key, an operator (`In`, `NotIn`, `Exists` or `DoesNotExist`) and, for `In` and `NotIn`, the values.",
                    "type": "object",
                    "properties": {
                        "key": {
                            "description": "The label key.",
                            "type": "string"
                        },
                        "operator": {
                            "description": "How the key relates to the values: `In`, `NotIn`, `Exists` or `DoesNotExist`.",
                            "type": "string"
                        },
                        "values": {
                            "description": "The values; non-empty for `In` and `NotIn`, empty for `Exists` and `DoesNotExist`.",
                            "type": "array",
                            "items": { "type": "string" },
                            "x-kubernetes-list-type": "atomic"
                        }
                    },
                    "required": ["key", "operator"]
                },
                "x-kubernetes-list-type": "atomic"
            },
            "matchLabels": {
                "description": "Labels that must all be present with these values.",
                "type": "object",
                "additionalProperties": { "type": "string" }
            }
        },
        "x-kubernetes-map-type": "atomic"
    })
}

/// The source an automation pushes to: a GitRepository, optionally in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = require_kind)]
pub struct CrossNamespaceSourceReference {
    /// API version of the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source; only `GitRepository`, the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "GitRepository"))]
    pub kind: Option<SourceKind>,
    /// Name of the source.
    pub name: String,
    /// Namespace of the source; defaults to the automation's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl CrossNamespaceSourceReference {
    /// The source kind, defaulting to `GitRepository`.
    pub fn kind(&self) -> SourceKind {
        self.kind.unwrap_or(SourceKind::GitRepository)
    }

    /// The namespace of the source, given the automation's namespace.
    pub fn namespace_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(default)
    }
}

/// Upstream lists `kind` as required and defaulted: the API server fills it in before
/// validating, so it may be left out of manifests. The Rust field is optional so those
/// manifests round-trip unchanged; this puts `kind` back into the schema's `required`.
fn require_kind(schema: &mut Schema) {
    let object = schema.ensure_object();
    let required = object
        .entry("required")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    if let serde_json::Value::Array(names) = required {
        if !names.iter().any(|name| name == "kind") {
            names.push("kind".into());
        }
        names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
}

/// The kinds of sources an automation can update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum SourceKind {
    /// A `source.toolkit.fluxcd.io` GitRepository.
    GitRepository,
}

/// Git settings of an automation.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct GitSpec {
    /// The ref to clone before making changes; defaults to the GitRepository's own
    /// `spec.ref`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<GitCheckoutSpec>,
    /// How commits are made.
    pub commit: CommitSpec,
    /// Where commits are pushed; defaults to the checked-out branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push: Option<PushSpec>,
}

impl GitSpec {
    /// Whether a push refspec is configured.
    pub fn has_refspec(&self) -> bool {
        self.push
            .as_ref()
            .and_then(|push| push.refspec.as_deref())
            .is_some_and(|refspec| !refspec.is_empty())
    }
}

/// The ref an automation clones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct GitCheckoutSpec {
    /// A branch, tag, semver range, ref name or commit, as in a GitRepository's
    /// `spec.ref`.
    #[serde(rename = "ref")]
    pub reference: GitRepositoryRef,
}

/// How an automation writes commits.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommitSpec {
    /// The author of the commits.
    pub author: CommitUser,
    /// A key in a Secret to sign the commits with (OpenPGP or SSH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<SigningKey>,
    /// A Go `text/template` for the commit message, rendered with the automation object,
    /// the changes made (`.Changed`) and `messageTemplateValues` (`.Values`). The removed
    /// `.Updated` field is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template: Option<String>,
    /// Extra values for the message template, available as `.Values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template_values: Option<BTreeMap<String, String>>,
}

impl CommitSpec {
    /// The message template, defaulting to [`DEFAULT_COMMIT_MESSAGE`].
    pub fn message_template(&self) -> &str {
        self.message_template
            .as_deref()
            .unwrap_or(DEFAULT_COMMIT_MESSAGE)
    }
}

/// A commit author.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CommitUser {
    /// The author's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The author's email address.
    pub email: String,
}

/// A Secret holding the key commits are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningKey {
    /// The Secret, in the automation's namespace. For `gpg` it holds an armored keypair
    /// under `git.asc` and optionally a `passphrase`; for `ssh` a private key under
    /// `identity` and optionally its `password` (the layout of GitRepository SSH Secrets).
    /// SSH keys may be ed25519, ECDSA (P-256/384/521) or RSA of at least 2048 bits.
    pub secret_ref: LocalObjectReference,
    /// The key format: `gpg` (the default) or `ssh`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<SigningKeyType>,
}

impl SigningKey {
    /// The key format, defaulting to `gpg`.
    pub fn key_type(&self) -> SigningKeyType {
        self.type_.unwrap_or(SigningKeyType::Gpg)
    }
}

/// The format of a commit signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum SigningKeyType {
    /// An OpenPGP key (`git.asc`).
    Gpg,
    /// An SSH key (`identity`).
    Ssh,
}

/// Where and how an automation pushes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct PushSpec {
    /// The branch to push to, created from the checked-out ref when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A Git refspec to push with, e.g. `refs/heads/main:refs/heads/auto`; with `branch`
    /// set too, both pushes happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refspec: Option<String>,
    /// Push options (`git push -o key=value`) sent to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<BTreeMap<String, String>>,
}

/// How files are updated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct UpdateStrategy {
    /// The strategy; `Setters` (the default and only one) rewrites the fields marked with
    /// `{"$imagepolicy": "<namespace>:<name>[:tag|:name|:digest]"}` comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Setters"))]
    pub strategy: Option<UpdateStrategyName>,
    /// The directory, relative to the repository root, whose files are updated; defaults
    /// to the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The update strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum UpdateStrategyName {
    /// Rewrite the YAML fields marked with image policy setter comments.
    Setters,
}

/// What the image-automation-controller did last.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageUpdateAutomationStatus {
    /// When the last run completed, whether or not it changed anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_automation_run_time: Option<Time>,
    /// The full SHA-1 of the last commit pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push_commit: Option<String>,
    /// When the last commit was pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push_time: Option<Time>,
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// The ImagePolicies applied in the last run, by name, with the image each elected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_policies: Option<BTreeMap<String, ImageRef>>,
    /// The source revision seen in the last run, e.g. `main@sha1:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_revision: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(ImageUpdateAutomationStatus);

/// Condition reasons specific to ImageUpdateAutomation (it also uses the generic
/// `AccessDenied` of [`crate::meta::conditions`]).
pub mod reasons {
    /// `spec.update` names no usable strategy.
    pub const INVALID_UPDATE_STRATEGY: &str = "InvalidUpdateStrategy";
    /// The source cannot be used: no `spec.git`, an unsupported kind, or a provider
    /// missing what it needs.
    pub const INVALID_SOURCE_CONFIGURATION: &str = "InvalidSourceConfiguration";
    /// Preparing the source failed (e.g. the GitRepository does not exist).
    pub const SOURCE_MANAGER_FAILED: &str = "SourceManagerFailed";
    /// A Git operation (clone, checkout, commit, push) failed.
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    /// Updating the files failed.
    pub const UPDATE_FAILED: &str = "UpdateFailed";
    /// `spec.policySelector` is not a valid label selector.
    pub const INVALID_POLICY_SELECTOR: &str = "InvalidPolicySelector";
    /// The commit message template uses a field that was removed (`.Updated`).
    pub const REMOVED_TEMPLATE_FIELD: &str = "RemovedTemplateField";
}
