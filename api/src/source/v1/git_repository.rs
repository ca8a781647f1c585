//! GitRepository: a Git repository to clone at a ref, packaged as an artifact.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Artifact, LocalObjectReference};
use crate::schema::{DURATION_PATTERN, TIMEOUT_PATTERN};

/// What to clone, how often, and how to authenticate and package it.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "GitRepository",
    plural = "gitrepositories",
    shortname = "gitrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    status = "GitRepositoryStatus",
    derive = "PartialEq",
    doc = "GitRepository is the Schema for the gitrepositories API: a Git repository the source-controller clones at a ref and packages as an artifact.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Status",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].message"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))").message("serviceAccountName can only be set when provider is 'azure' or 'aws'"))]
pub struct GitRepositorySpec {
    /// Address of the repository: `http://`, `https://` or `ssh://`. The scp-like
    /// `user@host:path` form is not accepted.
    #[schemars(regex(pattern = r"^(http|https|ssh)://.*$"))]
    pub url: String,
    /// Secret with the credentials: `username` and `password` or `bearerToken` for HTTPS;
    /// `identity` and `known_hosts` (and optionally `password`) for SSH; `ca.crt`,
    /// `tls.crt` and `tls.key` for custom TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Who provides the credentials: `generic` (the default, from `secretRef`), `aws`,
    /// `azure` or `github` (a GitHub App).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<GitProvider>,
    /// ServiceAccount whose workload identity authenticates to the repository; only with
    /// the `azure` and `aws` providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// How often to check the repository for a new revision, e.g. `5m`.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Timeout of Git operations such as clone; defaults to `60s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TIMEOUT_PATTERN), extend("default" = "60s"))]
    pub timeout: Option<String>,
    /// The ref to check out; defaults to the `master` branch.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<GitRepositoryRef>,
    /// Verification of commit and tag signatures against trusted keys.
    #[serde(default, rename = "verify", skip_serializing_if = "Option::is_none")]
    pub verification: Option<GitRepositoryVerification>,
    /// Secret with the proxy to use: `address` (required), `username`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Exclusion patterns in `.gitignore` format. When set, they replace the default
    /// exclusions; `.sourceignore` files in the repository still apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Initialise and clone the repository's submodules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurse_submodules: Option<bool>,
    /// Other GitRepositories whose artifacts are copied into this one's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<GitRepositoryInclude>>,
    /// Directories to check out; when set, only these end up in the artifact, and each
    /// must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse_checkout: Option<Vec<String>>,
}

/// Who provides the Git credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum GitProvider {
    /// Credentials from `secretRef`.
    Generic,
    /// AWS CodeCommit with IAM credentials.
    Aws,
    /// Azure DevOps with a managed identity.
    Azure,
    /// GitHub App authentication.
    Github,
}

/// Another GitRepository's artifact to copy into this one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryInclude {
    /// The GitRepository, in the same namespace, whose artifact is included.
    pub repository: LocalObjectReference,
    /// Path inside the included artifact to copy from; defaults to its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_path: Option<String>,
    /// Path inside this artifact to copy to; defaults to the included repository's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_path: Option<String>,
}

impl GitRepositoryInclude {
    /// The destination path, defaulting to the included GitRepository's name.
    pub fn to_path(&self) -> &str {
        self.to_path.as_deref().unwrap_or(&self.repository.name)
    }
}

/// The Git reference to check out. Precedence: `commit` > `name` > `semver` > `tag` >
/// `branch`; with none set, the `master` branch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct GitRepositoryRef {
    /// Branch to check out; defaults to `master` when no other field is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Tag to check out; takes precedence over `branch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Semantic version range; the highest matching tag is checked out. Takes precedence
    /// over `tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Full name of a Git reference, e.g. `refs/heads/main`, `refs/tags/v0.1.0` or
    /// `refs/pull/420/head`. Takes precedence over `branch`, `tag` and `semver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Commit SHA to check out; takes precedence over every other field. With `branch`,
    /// the branch is cloned and must contain the commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Signature verification of the checked-out commit and/or tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryVerification {
    /// Which objects to verify: `HEAD` (the default; `head` is accepted too), `Tag`, or
    /// `TagAndHEAD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "HEAD"))]
    pub mode: Option<GitVerificationMode>,
    /// Secret with the trusted public keys: PGP keys under keys ending in `.asc`, SSH keys
    /// under keys ending in `.sshpub`.
    pub secret_ref: LocalObjectReference,
}

/// Which Git objects are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum GitVerificationMode {
    /// The checked-out commit (legacy spelling of `HEAD`).
    #[serde(rename = "head")]
    HeadLowercase,
    /// The checked-out commit.
    #[serde(rename = "HEAD")]
    Head,
    /// The annotated tag named by the ref.
    Tag,
    /// Both the tag and the commit it points to.
    #[serde(rename = "TagAndHEAD")]
    TagAndHead,
}

impl GitVerificationMode {
    /// Whether the checked-out commit must be verified.
    pub fn verifies_head(self) -> bool {
        matches!(self, Self::Head | Self::HeadLowercase | Self::TagAndHead)
    }
    /// Whether the tag must be verified.
    pub fn verifies_tag(self) -> bool {
        matches!(self, Self::Tag | Self::TagAndHead)
    }
}

/// What the source-controller observed and produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitRepositoryStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `ArtifactInStorage`,
    /// `ArtifactOutdated`, `FetchFailed`, `IncludeUnavailable`, `StorageOperationFailed`,
    /// `SourceVerified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// The artifact of the last successful reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The artifacts included through `spec.include` in the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub included_artifacts: Option<Vec<Artifact>>,
    /// The exclusion patterns used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The `recurseSubmodules` setting used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_recurse_submodules: Option<bool>,
    /// The includes used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_include: Option<Vec<GitRepositoryInclude>>,
    /// The sparse-checkout directories used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_sparse_checkout: Option<Vec<String>>,
    /// The verification mode last used, saying which objects were verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub source_verification_mode: Option<GitVerificationMode>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(GitRepositoryStatus);

/// Condition reasons specific to GitRepository.
pub mod reasons {
    /// A Git operation (clone, checkout...) succeeded.
    pub const GIT_OPERATION_SUCCEEDED: &str = "GitOperationSucceeded";
    /// A Git operation (clone, checkout...) failed.
    pub const GIT_OPERATION_FAILED: &str = "GitOperationFailed";
    /// The repository has no commits.
    pub const EMPTY_GIT_REPOSITORY: &str = "EmptyGitRepository";
}
