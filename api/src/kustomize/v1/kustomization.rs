//! Kustomization: a directory of a source's artifact, built with kustomize (or as plain
//! YAML), optionally decrypted and substituted, then applied to the cluster with
//! server-side apply, pruned and health-checked.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::kustomize::{
    CommonMetadata, CustomHealthCheck, IgnoreRule, Image, Patch, Snapshot,
};
use crate::meta::{
    DependencyReference, DurationError, KubeConfigReference, LocalObjectReference,
    NamespacedObjectKindReference, ResourceInventory, ValuesSourceKind, parse_duration,
};
use crate::schema::DURATION_PATTERN;

/// Which source to build, which path in it, how to transform the result and how to apply,
/// prune and health-check the objects.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "kustomize.toolkit.fluxcd.io",
    version = "v1",
    kind = "Kustomization",
    plural = "kustomizations",
    shortname = "ks",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "KustomizationStatus",
    derive = "PartialEq",
    doc = "Kustomization is the Schema for the kustomizations API: a path in a source artifact that the kustomize-controller builds and applies to a cluster, keeping an inventory of what it applied.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
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
pub struct KustomizationSpec {
    /// Labels and annotations set on every applied object, replacing existing values of
    /// the same keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// Other Kustomizations that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<DependencyReference>>,
    /// Decryption of SOPS-encrypted Secrets (and other objects) before they are applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// How often to reconcile, e.g. `10m`; a small jitter is added.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// How soon to retry after a failed reconcile; defaults to `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub retry_interval: Option<String>,
    /// Kubeconfig of a remote cluster to apply to instead of the local one. With
    /// `serviceAccountName`, that account is impersonated on the remote cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
    /// Directory in the artifact holding a `kustomization.yaml` or plain manifests; defaults
    /// to the root of the artifact. It cannot point outside the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Transformations of the built manifests, such as variable substitution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,
    /// Delete objects that were applied before but are no longer in the build (garbage
    /// collection).
    pub prune: bool,
    /// What happens to the applied objects when the Kustomization is deleted:
    /// `MirrorPrune` (the default: delete them if `prune` is true), `Delete`,
    /// `WaitForTermination` (delete and wait until they are gone) or `Orphan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// Objects whose health is checked after applying; ignored when `wait` is true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_checks: Option<Vec<NamespacedObjectKindReference>>,
    /// Prefix added to the names of all applied objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_prefix: Option<String>,
    /// Suffix added to the names of all applied objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name_suffix: Option<String>,
    /// Strategic merge or JSON 6902 patches applied to the build, each optionally limited
    /// to the objects matched by its target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<Patch>>,
    /// Image name, tag and digest overrides applied to the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    /// ServiceAccount, in the Kustomization's namespace, impersonated to apply and prune.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// The source whose artifact holds the manifests.
    pub source_ref: CrossNamespaceSourceReference,
    /// Stop reconciling this object until set back to false; a reconcile already under way
    /// finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespace set on every namespaced object of the build (kustomize `namespace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    /// Time limit of the apply, prune and health-check steps; defaults to `interval`
    /// minus 30 seconds, and is never less than 30 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Delete and recreate objects whose update fails because an immutable field changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub force: Option<bool>,
    /// Check the health of every applied object (instead of only `healthChecks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
    /// Kustomize build metadata to add to the objects as annotations:
    /// `originAnnotations` (the file each object came from) and/or
    /// `transformerAnnotations` (the transformers that changed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_metadata: Option<Vec<BuildMetadataOption>>,
    /// Paths, relative to `path`, of kustomize Components to include in the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
    /// Leave out entries of `components` that do not exist in the artifact instead of
    /// failing the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_components: Option<bool>,
    /// CEL expressions that compute the health of custom resources; used only when `wait`
    /// or `healthChecks` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_exprs: Option<Vec<CustomHealthCheck>>,
    /// Rules naming fields (as JSON Pointers) that are left out of drift detection and
    /// apply, so changes made in the cluster to them are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<IgnoreRule>>,
}

/// What to do with the applied objects when the Kustomization is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum DeletionPolicy {
    /// Delete them if `spec.prune` is true, keep them otherwise.
    #[default]
    MirrorPrune,
    /// Delete them.
    Delete,
    /// Delete them and wait, up to `spec.timeout`, until they are gone.
    WaitForTermination,
    /// Keep them.
    Orphan,
}

impl DeletionPolicy {
    /// Whether deleting the Kustomization deletes its objects, given `spec.prune`.
    pub fn deletes_objects(self, prune: bool) -> bool {
        match self {
            DeletionPolicy::MirrorPrune => prune,
            DeletionPolicy::Delete | DeletionPolicy::WaitForTermination => true,
            DeletionPolicy::Orphan => false,
        }
    }
}

/// Kustomize build metadata that can be added to the built objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "camelCase")]
pub enum BuildMetadataOption {
    /// `config.kubernetes.io/origin`: the file and path each object was loaded from.
    OriginAnnotations,
    /// `alpha.config.kubernetes.io/transformations`: the transformers that changed each
    /// object.
    TransformerAnnotations,
}

/// The source a Kustomization builds from, possibly in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the source, e.g. `source.toolkit.fluxcd.io/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source: `OCIRepository`, `GitRepository`, `Bucket` or
    /// `ExternalArtifact`.
    pub kind: SourceKind,
    /// Name of the source.
    pub name: String,
    /// Namespace of the source; defaults to the Kustomization's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl CrossNamespaceSourceReference {
    /// The namespace of the source, defaulting to `own_namespace` (the Kustomization's).
    pub fn namespace_or<'a>(&'a self, own_namespace: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(own_namespace)
    }
}

impl fmt::Display for CrossNamespaceSourceReference {
    /// `Kind/name`, or `Kind/namespace/name` when the namespace is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{}/{}/{}", self.kind.as_str(), namespace, self.name),
            None => write!(f, "{}/{}", self.kind.as_str(), self.name),
        }
    }
}

/// The kinds of source a Kustomization can build from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum SourceKind {
    /// An OCI artifact (`source.toolkit.fluxcd.io` OCIRepository).
    #[serde(rename = "OCIRepository")]
    OciRepository,
    /// A Git repository (`source.toolkit.fluxcd.io` GitRepository).
    GitRepository,
    /// An S3-compatible bucket (`source.toolkit.fluxcd.io` Bucket).
    Bucket,
    /// An artifact produced by a third-party controller (`source.toolkit.fluxcd.io`
    /// ExternalArtifact).
    ExternalArtifact,
}

impl SourceKind {
    /// The kind as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::OciRepository => "OCIRepository",
            SourceKind::GitRepository => "GitRepository",
            SourceKind::Bucket => "Bucket",
            SourceKind::ExternalArtifact => "ExternalArtifact",
        }
    }
}

/// How encrypted manifests are decrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// The decryption engine; only `sops` exists.
    pub provider: DecryptionProvider,
    /// ServiceAccount, in the Kustomization's namespace, whose workload identity
    /// authenticates to cloud KMS services. Static credentials in `secretRef` take
    /// precedence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Secret with the decryption keys: OpenPGP keys (`*.asc`), age keys (`*.agekey`),
    /// a Vault token (`sops.vault-token`) or cloud KMS credentials (`sops.aws-kms`,
    /// `sops.azure-kv`, `sops.gcp-kms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// The decryption engines a Kustomization supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum DecryptionProvider {
    /// Mozilla SOPS.
    Sops,
}

/// Steps run on the built manifests before they are applied.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// When to run variable substitution: `WithVariables` (the default: only when at
    /// least one variable is defined) or `Always` (useful when every reference has a
    /// default, as in `${var:=default}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_strategy: Option<SubstituteStrategy>,
    /// Variables and their values. `${name}` references in the manifests are replaced,
    /// with bash-style operators such as `${var:=default}`, `${var:position}` and
    /// `${var/substring/replacement}`. These override variables from `substituteFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute: Option<BTreeMap<String, String>>,
    /// ConfigMaps and Secrets whose data keys are variable names and whose values are
    /// substituted; later entries override earlier ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_from: Option<Vec<SubstituteReference>>,
}

/// When post-build variable substitution runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum SubstituteStrategy {
    /// Only when at least one variable is defined, inline or from a referenced object.
    #[default]
    WithVariables,
    /// Always, even with no variable defined.
    Always,
}

/// A ConfigMap or Secret, in the Kustomization's namespace, holding substitution variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubstituteReference {
    /// Kind of the object: `Secret` or `ConfigMap`.
    pub kind: ValuesSourceKind,
    /// Name of the object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Treat a missing object as one without variables instead of failing the build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = false))]
    pub optional: Option<bool>,
}

impl SubstituteReference {
    /// Whether a missing object is tolerated.
    pub fn is_optional(&self) -> bool {
        self.optional.unwrap_or(false)
    }
}

/// What the kustomize-controller observed and applied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KustomizationStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled` and `Healthy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// The source revision last applied successfully (applied, pruned and healthy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// The origin revision of the artifact last applied successfully, taken from its
    /// metadata (for OCI, the `org.opencontainers.image.revision` annotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_origin_revision: Option<String>,
    /// The source revision of the last reconcile attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The objects applied by the last successful apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// The last reconcile attempts, newest first: digest of the built manifests, timing,
    /// outcome and revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Snapshot>>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(KustomizationStatus);

/// The shortest timeout Flux uses for a Kustomization.
const MIN_TIMEOUT: Duration = Duration::from_secs(30);

impl KustomizationSpec {
    /// The reconcile interval.
    ///
    /// # Errors
    /// When `interval` is not a duration.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// How soon to retry after a failure: `retryInterval`, defaulting to `interval`.
    ///
    /// # Errors
    /// When the duration used is invalid.
    pub fn retry_interval(&self) -> Result<Duration, DurationError> {
        parse_duration(self.retry_interval.as_deref().unwrap_or(&self.interval))
    }

    /// The time limit of apply, prune and health checks: `timeout`, defaulting to
    /// `interval` minus 30 seconds; never less than 30 seconds.
    ///
    /// # Errors
    /// When the duration used is invalid.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        let timeout = match &self.timeout {
            Some(timeout) => parse_duration(timeout)?,
            None => self.interval()?.saturating_sub(MIN_TIMEOUT),
        };
        Ok(timeout.max(MIN_TIMEOUT))
    }

    /// The path in the artifact, defaulting to its root (`""`).
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or_default()
    }

    /// The deletion policy, defaulting to `MirrorPrune`.
    pub fn deletion_policy(&self) -> DeletionPolicy {
        self.deletion_policy.unwrap_or_default()
    }

    /// The substitution strategy, defaulting to `WithVariables`.
    pub fn substitute_strategy(&self) -> SubstituteStrategy {
        self.post_build
            .as_ref()
            .and_then(|post_build| post_build.substitute_strategy)
            .unwrap_or_default()
    }

    /// Whether reconciling is suspended.
    pub fn is_suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }

    /// Whether objects are recreated on immutable-field errors.
    pub fn force(&self) -> bool {
        self.force.unwrap_or(false)
    }

    /// Whether every applied object is health-checked.
    pub fn wait(&self) -> bool {
        self.wait.unwrap_or(false)
    }

    /// Whether missing components are left out of the build.
    pub fn ignore_missing_components(&self) -> bool {
        self.ignore_missing_components.unwrap_or(false)
    }
}

/// Condition reasons specific to Kustomization; the shared ones (`ArtifactFailed`,
/// `BuildFailed`, `HealthCheckFailed`, `ReconciliationSucceeded`...) are in
/// [`crate::meta::conditions`].
pub mod reasons {
    /// Deleting objects no longer in the build failed.
    pub const PRUNE_FAILED: &str = "PruneFailed";
    /// The temporary directory for the build could not be created.
    pub const DIR_CREATION_FAILED: &str = "DirCreationFailed";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(interval: &str, timeout: Option<&str>) -> KustomizationSpec {
        KustomizationSpec {
            common_metadata: None,
            depends_on: None,
            decryption: None,
            interval: interval.to_owned(),
            retry_interval: None,
            kube_config: None,
            path: None,
            post_build: None,
            prune: true,
            deletion_policy: None,
            health_checks: None,
            name_prefix: None,
            name_suffix: None,
            patches: None,
            images: None,
            service_account_name: None,
            source_ref: CrossNamespaceSourceReference {
                api_version: None,
                kind: SourceKind::GitRepository,
                name: "flux-system".to_owned(),
                namespace: None,
            },
            suspend: None,
            target_namespace: None,
            timeout: timeout.map(str::to_owned),
            force: None,
            wait: None,
            build_metadata: None,
            components: None,
            ignore_missing_components: None,
            health_check_exprs: None,
            ignore: None,
        }
    }

    #[test]
    fn timeout_defaults_to_interval_minus_thirty_seconds_with_a_floor() {
        assert_eq!(spec("10m", None).timeout(), Ok(Duration::from_secs(570)));
        assert_eq!(spec("40s", None).timeout(), Ok(MIN_TIMEOUT));
        assert_eq!(spec("10m", Some("5s")).timeout(), Ok(MIN_TIMEOUT));
        assert_eq!(
            spec("10m", Some("2m")).timeout(),
            Ok(Duration::from_secs(120))
        );
    }

    #[test]
    fn retry_interval_defaults_to_interval() {
        let mut spec = spec("10m", None);
        assert_eq!(spec.retry_interval(), Ok(Duration::from_secs(600)));
        spec.retry_interval = Some("1m".to_owned());
        assert_eq!(spec.retry_interval(), Ok(Duration::from_secs(60)));
    }

    #[test]
    fn deletion_policy_mirrors_prune_by_default() {
        let mut spec = spec("10m", None);
        assert!(spec.deletion_policy().deletes_objects(spec.prune));
        spec.prune = false;
        assert!(!spec.deletion_policy().deletes_objects(spec.prune));
        assert!(DeletionPolicy::WaitForTermination.deletes_objects(false));
        assert!(!DeletionPolicy::Orphan.deletes_objects(true));
    }

    #[test]
    fn source_references_print_like_flux() {
        let mut source = spec("1m", None).source_ref;
        assert_eq!(source.to_string(), "GitRepository/flux-system");
        source.namespace = Some("infra".to_owned());
        source.kind = SourceKind::OciRepository;
        assert_eq!(source.to_string(), "OCIRepository/infra/flux-system");
    }
}
