//! HelmRelease: a Helm release of a chart from a source, with its values, and the
//! configuration of every Helm action the helm-controller runs on it (install, upgrade,
//! test, rollback, uninstall), of drift detection and of post-rendering.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema, ResourceExt};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::meta::kustomize::{CommonMetadata, CustomHealthCheck, IgnoreRule, Image, Patch};
use crate::meta::{
    DependencyReference, DurationError, KubeConfigReference, LocalObjectReference,
    ResourceInventory, ValuesReference, parse_duration,
};
use crate::schema::DURATION_PATTERN;

/// The chart to release (from a template or an existing source), the release's name and
/// namespaces, its values, and how each Helm action is run.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "helm.toolkit.fluxcd.io",
    version = "v2",
    kind = "HelmRelease",
    plural = "helmreleases",
    shortname = "hr",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-appliers",
    namespaced,
    status = "HelmReleaseStatus",
    derive = "PartialEq",
    doc = "HelmRelease is the Schema for the helmreleases API: a Helm release the helm-controller installs, upgrades, tests, remediates and uninstalls from a chart artifact.",
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
#[x_kube(validation = Rule::new("(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))").message("either chart or chartRef must be set"))]
pub struct HelmReleaseSpec {
    /// Template of the HelmChart the controller creates (in the namespace of its source)
    /// to fetch the chart. Exactly one of `chart` and `chartRef` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<HelmChartTemplate>,
    /// An existing source object holding the chart artifact (an OCIRepository, HelmChart or
    /// ExternalArtifact). Exactly one of `chart` and `chartRef` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_ref: Option<CrossNamespaceSourceReference>,
    /// How often to reconcile the release, e.g. `10m`; a small jitter is added.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Kubeconfig of a remote cluster to release to instead of the local one. With
    /// `serviceAccountName`, that account is impersonated on the remote cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_config: Option<KubeConfigReference>,
    /// Stop reconciling this object until set back to false; a reconcile already under way
    /// finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Name of the Helm release; defaults to `<targetNamespace>-<name>` when
    /// `targetNamespace` is set, else to the HelmRelease's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 53))]
    pub release_name: Option<String>,
    /// Namespace the release is installed into; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub target_namespace: Option<String>,
    /// Namespace of Helm's release storage (its Secrets); defaults to the HelmRelease's
    /// namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    /// Other HelmReleases that must be ready before this one is reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<DependencyReference>>,
    /// Time to wait for any single Kubernetes operation (such as a hook Job) during a Helm
    /// action; defaults to `5m0s`. Each action can override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Number of release revisions Helm keeps; `0` keeps all. Defaults to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub max_history: Option<i64>,
    /// ServiceAccount, in the HelmRelease's namespace, impersonated for every Helm action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub service_account_name: Option<String>,
    /// Reuse one Kubernetes client for a whole reconcile instead of one per action step;
    /// defaults to true. Charts that create CRDs outside Helm's CRD handling and use them
    /// in later hooks may need false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_client: Option<bool>,
    /// Detection (and optional correction) of differences between the release manifest
    /// in Helm storage and the objects in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_detection: Option<DriftDetection>,
    /// How Helm install actions are run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,
    /// How Helm upgrade actions are run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// Whether and how Helm tests are run after an install or upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Test>,
    /// How Helm rollback actions (upgrade remediation) are run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// How Helm uninstall actions (remediation and deletion) are run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninstall: Option<Uninstall>,
    /// ConfigMaps and Secrets holding values, merged in order before `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_from: Option<Vec<ValuesReference>>,
    /// Inline Helm values, merged last (except values set at a `targetPath` of
    /// `valuesFrom`, which win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::any_json")]
    pub values: Option<serde_json::Value>,
    /// Labels and annotations set on every object of the release, replacing existing
    /// values of the same keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_metadata: Option<CommonMetadata>,
    /// Post-renderers applied, in order, to the rendered manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_renderers: Option<Vec<PostRenderer>>,
    /// Whether hooks go through the post-renderers: `nohooks` (Helm 3 behaviour),
    /// `combined` (the default: hooks and templates in one stream) or `separate` (in two
    /// streams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_render_strategy: Option<PostRenderStrategy>,
    /// How Helm waits for the applied objects to become ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_strategy: Option<WaitStrategy>,
    /// CEL expressions that compute the health of custom resources; used when an action
    /// waits and the `poller` wait strategy is in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_exprs: Option<Vec<CustomHealthCheck>>,
}

/// Schema of a Go `int` field: an integer without a format, as upstream declares it.
fn go_int(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer" })
}

/// Schema of a string field whose Go type is an open string (no enum in the CRD).
fn plain_string(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string" })
}

/// Schema of `status.lastAttemptedReleaseAction`: only `install` and `upgrade`.
fn attempted_release_action(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["install", "upgrade"] })
}

/// The template of the HelmChart the controller creates for a HelmRelease.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct HelmChartTemplate {
    /// Labels and annotations of the HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HelmChartTemplateObjectMeta>,
    /// Spec of the HelmChart.
    pub spec: HelmChartTemplateSpec,
}

/// Labels and annotations given to the generated HelmChart.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct HelmChartTemplateObjectMeta {
    /// Labels of the HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations of the HelmChart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// The spec of the generated HelmChart: which chart, which version, from which source.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateSpec {
    /// Name of the chart in a HelmRepository, or path of the chart in a GitRepository or
    /// Bucket.
    #[schemars(length(min = 1, max = 2048))]
    pub chart: String,
    /// SemVer range of the chart version; defaults to `*` (the latest). Ignored for
    /// charts from a GitRepository or Bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "*"))]
    pub version: Option<String>,
    /// The source holding the chart.
    pub source_ref: CrossNamespaceObjectReference,
    /// How often the HelmChart checks its source; defaults to the HelmRelease's
    /// `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    /// What produces a new chart artifact: `ChartVersion` (the default: a new version in
    /// `Chart.yaml`) or `Revision` (any new source revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ChartVersion"))]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    /// Values files, relative to the source root, merged in order (later files win) and
    /// used instead of the chart's `values.yaml`, which is only included if listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    /// Skip entries of `valuesFiles` that do not exist instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    /// Signature verification of the chart; OCI sources only. Dependencies not bundled in
    /// the chart are not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartTemplateVerification>,
}

impl HelmChartTemplateSpec {
    /// The chart version range, defaulting to `*`.
    pub fn version(&self) -> &str {
        self.version.as_deref().unwrap_or("*")
    }

    /// The reconcile strategy, defaulting to `ChartVersion`.
    pub fn reconcile_strategy(&self) -> ReconcileStrategy {
        self.reconcile_strategy.unwrap_or_default()
    }
}

/// What makes the HelmChart produce a new artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ReconcileStrategy {
    /// A new chart version.
    #[default]
    ChartVersion,
    /// A new revision of the source.
    Revision,
}

/// Signature verification of an OCI chart.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartTemplateVerification {
    /// The signing technology: `cosign` or `notation`. Required by the schema, but the API
    /// server fills in `cosign` when it is left out, so a manifest may omit it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(required, extend("default" = "cosign"))]
    pub provider: Option<VerificationProvider>,
    /// Secret with the trusted public keys (cosign) or certificates and trust policy
    /// (notation); without it, cosign keyless verification is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

impl HelmChartTemplateVerification {
    /// The provider, defaulting to `cosign`.
    pub fn provider(&self) -> VerificationProvider {
        self.provider.unwrap_or_default()
    }
}

/// The technology a chart was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    /// Sigstore cosign.
    #[default]
    Cosign,
    /// Notary Project notation.
    Notation,
}

/// The source of a chart template, possibly in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the source, e.g. `source.toolkit.fluxcd.io/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source: `HelmRepository`, `GitRepository` or `Bucket`.
    pub kind: ChartSourceKind,
    /// Name of the source.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the source; defaults to the HelmRelease's namespace. The HelmChart is
    /// created in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// The kinds of source a chart template can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ChartSourceKind {
    /// A Helm repository (HTTP/S index or OCI registry).
    #[default]
    HelmRepository,
    /// A Git repository holding the chart's directory.
    GitRepository,
    /// An S3-compatible bucket holding the chart's directory.
    Bucket,
}

impl ChartSourceKind {
    /// The kind as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartSourceKind::HelmRepository => "HelmRepository",
            ChartSourceKind::GitRepository => "GitRepository",
            ChartSourceKind::Bucket => "Bucket",
        }
    }
}

/// An existing source object holding a chart artifact, possibly in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceSourceReference {
    /// API version of the source, e.g. `source.toolkit.fluxcd.io/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source: `OCIRepository`, `HelmChart` or `ExternalArtifact`.
    pub kind: ChartRefKind,
    /// Name of the source.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the source; defaults to the HelmRelease's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

impl CrossNamespaceSourceReference {
    /// The namespace of the source, defaulting to `own_namespace` (the HelmRelease's).
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

/// The kinds of source `chartRef` can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ChartRefKind {
    /// An OCI artifact holding a packaged chart.
    #[default]
    #[serde(rename = "OCIRepository")]
    OciRepository,
    /// A HelmChart object.
    HelmChart,
    /// An artifact produced by a third-party controller.
    ExternalArtifact,
}

impl ChartRefKind {
    /// The kind as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ChartRefKind::OciRepository => "OCIRepository",
            ChartRefKind::HelmChart => "HelmChart",
            ChartRefKind::ExternalArtifact => "ExternalArtifact",
        }
    }
}

/// Detection of differences between the release manifest and the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct DriftDetection {
    /// `enabled` (detect and correct drift), `warn` (detect and report only) or
    /// `disabled` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DriftDetectionMode>,
    /// Fields left out of the comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<Vec<IgnoreRule>>,
}

impl DriftDetection {
    /// The mode, defaulting to `disabled`.
    pub fn mode(&self) -> DriftDetectionMode {
        self.mode.unwrap_or_default()
    }
}

/// What the controller does about drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum DriftDetectionMode {
    /// Detect drift and correct it.
    Enabled,
    /// Detect drift and report it without correcting it.
    Warn,
    /// Do not look for drift.
    #[default]
    Disabled,
}

impl DriftDetectionMode {
    /// Whether drift is looked for (`enabled` or `warn`).
    pub fn detects_changes(self) -> bool {
        matches!(self, DriftDetectionMode::Enabled | DriftDetectionMode::Warn)
    }
}

/// Whether hooks are sent to the post-renderers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum PostRenderStrategy {
    /// Hooks are not post-rendered (Helm 3 behaviour).
    #[serde(rename = "nohooks")]
    NoHooks,
    /// Hooks and templates are post-rendered together (Helm 4 default).
    Combined,
    /// Hooks and templates are post-rendered in separate streams.
    Separate,
}

/// A post-renderer of the rendered manifests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct PostRenderer {
    /// Kustomize patches and image overrides applied to the manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kustomize: Option<Kustomize>,
}

/// Kustomize transformations used as a Helm post-renderer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Kustomize {
    /// Strategic merge or JSON 6902 patches, each optionally limited to the objects
    /// matched by its target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<Patch>>,
    /// Image name, tag and digest overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
}

/// How Helm waits for applied objects to become ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WaitStrategy {
    /// `poller` (kstatus polling, with `healthCheckExprs` support; the default) or `legacy`
    /// (Helm 3's wait logic).
    pub name: WaitStrategyName,
}

/// The wait strategies Helm offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum WaitStrategyName {
    /// Poll object statuses with kstatus.
    Poller,
    /// Helm 3's readiness checks.
    Legacy,
}

/// How Helm install actions are run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Install {
    /// Time to wait for any single Kubernetes operation during install; defaults to the
    /// HelmRelease's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// What to do after a failed install: `RemediateOnFailure` (the default) or
    /// `RetryOnFailure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<InstallStrategy>,
    /// Remediation (uninstall) of failed installs and the number of retries; by default
    /// nothing is remediated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<InstallRemediation>,
    /// Do not take ownership of objects that already exist in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_take_ownership: Option<bool>,
    /// Do not wait for the objects to be ready after installing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Do not wait for Jobs to complete after installing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Do not run hooks during install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Do not validate the rendered manifests against the cluster's OpenAPI schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "disableOpenAPIValidation")]
    pub disable_open_api_validation: Option<bool>,
    /// Do not validate the values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    /// Reuse the release name if it belongs to an uninstalled release still in history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<bool>,
    /// Deprecated: use `crds: Skip`. Ignored by the upstream controller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "skipCRDs")]
    pub skip_crds: Option<bool>,
    /// What to do with the chart's `crds/` on install: `Skip`, `Create` (the default:
    /// create missing CRDs) or `CreateReplace` (also replace existing ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "crds")]
    pub crds: Option<CrdsPolicy>,
    /// Create `targetNamespace` if it does not exist; it is never deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_namespace: Option<bool>,
    /// Apply objects with server-side apply; defaults to true (false when the upstream
    /// `UseHelm3Defaults` feature gate is on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<bool>,
}

impl Install {
    /// The install timeout, defaulting to `default` (the HelmRelease's timeout).
    pub fn timeout_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.timeout.as_deref().unwrap_or(default)
    }

    /// The remediation settings, with their defaults when unset.
    pub fn remediation(&self) -> InstallRemediation {
        self.remediation.clone().unwrap_or_default()
    }

    /// The strategy name, defaulting to `default` (`RemediateOnFailure`, or
    /// `RetryOnFailure` with the upstream `DefaultToRetryOnFailure` gate).
    pub fn strategy_name(&self, default: ActionStrategyName) -> ActionStrategyName {
        self.strategy.as_ref().map_or(default, |s| s.name)
    }

    /// The CRD policy, defaulting to `Create`.
    pub fn crds(&self) -> CrdsPolicy {
        self.crds.unwrap_or(CrdsPolicy::Create)
    }

    /// Whether waiting is disabled.
    pub fn disable_wait(&self) -> bool {
        self.disable_wait.unwrap_or(false)
    }
}

/// What to do after a failed install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.retryInterval) || self.name != 'RemediateOnFailure'").message(".retryInterval cannot be set when .name is 'RemediateOnFailure'"))]
pub struct InstallStrategy {
    /// `RemediateOnFailure` (remediate as configured in `remediation`) or
    /// `RetryOnFailure` (retry after `retryInterval`, without remediation).
    pub name: ActionStrategyName,
    /// Delay before retrying a failed install; only with `RetryOnFailure`. Defaults to
    /// `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub retry_interval: Option<String>,
}

/// What to do after a failed upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.retryInterval) || self.name == 'RetryOnFailure'").message(".retryInterval can only be set when .name is 'RetryOnFailure'"))]
pub struct UpgradeStrategy {
    /// `RemediateOnFailure` (remediate as configured in `remediation`) or
    /// `RetryOnFailure` (retry after `retryInterval`, without remediation).
    pub name: ActionStrategyName,
    /// Delay before retrying a failed upgrade; only with `RetryOnFailure`. Defaults to
    /// `5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub retry_interval: Option<String>,
}

/// The default delay before retrying a failed install or upgrade with `RetryOnFailure`.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(300);

impl InstallStrategy {
    /// The retry delay, defaulting to five minutes.
    ///
    /// # Errors
    /// When `retryInterval` is not a duration.
    pub fn retry_interval(&self) -> Result<Duration, DurationError> {
        self.retry_interval
            .as_deref()
            .map_or(Ok(DEFAULT_RETRY_INTERVAL), parse_duration)
    }
}

impl UpgradeStrategy {
    /// The retry delay, defaulting to five minutes.
    ///
    /// # Errors
    /// When `retryInterval` is not a duration.
    pub fn retry_interval(&self) -> Result<Duration, DurationError> {
        self.retry_interval
            .as_deref()
            .map_or(Ok(DEFAULT_RETRY_INTERVAL), parse_duration)
    }
}

/// The strategies for a failed install or upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ActionStrategyName {
    /// Remediate according to the action's `remediation` settings.
    RemediateOnFailure,
    /// Retry after the strategy's `retryInterval`, without remediation.
    RetryOnFailure,
}

/// Remediation of failed installs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstallRemediation {
    /// How many times a failed install is retried, with an uninstall in between; defaults
    /// to 0, and a negative number retries forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub retries: Option<i64>,
    /// Do not remediate when tests run after an install fail; defaults to
    /// `test.ignoreFailures`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// Remediate the last failure too, once no retries remain; defaults to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
}

impl InstallRemediation {
    /// The number of retries (negative: unlimited), defaulting to 0.
    pub fn retries(&self) -> i64 {
        self.retries.unwrap_or(0)
    }

    /// Whether failed tests are ignored, given the default from `test.ignoreFailures`.
    pub fn ignore_test_failures(&self, default: bool) -> bool {
        self.ignore_test_failures.unwrap_or(default)
    }

    /// Whether the last failure is remediated; defaults to false.
    pub fn remediate_last_failure(&self) -> bool {
        self.remediate_last_failure.unwrap_or(false)
    }

    /// Whether `failures` install failures exhaust the retries.
    pub fn retries_exhausted(&self, failures: i64) -> bool {
        let retries = self.retries();
        retries >= 0 && failures > retries
    }
}

/// How Helm upgrade actions are run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// Time to wait for any single Kubernetes operation during upgrade; defaults to the
    /// HelmRelease's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// What to do after a failed upgrade: `RemediateOnFailure` (the default) or
    /// `RetryOnFailure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<UpgradeStrategy>,
    /// Remediation (rollback or uninstall) of failed upgrades and the number of retries;
    /// by default nothing is remediated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<UpgradeRemediation>,
    /// Do not take ownership of objects that already exist in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_take_ownership: Option<bool>,
    /// Do not wait for the objects to be ready after upgrading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Do not wait for Jobs to complete after upgrading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Do not run hooks during upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Do not validate the rendered manifests against the cluster's OpenAPI schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "disableOpenAPIValidation")]
    pub disable_open_api_validation: Option<bool>,
    /// Do not validate the values against the chart's JSON schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_schema_validation: Option<bool>,
    /// Replace objects instead of patching them when client-side apply hits a conflict;
    /// no effect with server-side apply, which always forces conflicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Reuse the previous release's values and merge the new ones over them; this makes
    /// the HelmRelease non-declarative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_values: Option<bool>,
    /// Delete objects created by a failed upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    /// What to do with the chart's `crds/` on upgrade: `Skip`, `Create` (create missing
    /// CRDs) or `CreateReplace` (also replace existing ones). Upstream documents `Skip` as
    /// the default, but its controller applies `Create` when the field is unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "crds")]
    pub crds: Option<CrdsPolicy>,
    /// `enabled`, `disabled`, or `auto` (the default: use the method of the previous
    /// release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
    /// What to do when the chart's name changes: `Reinstall` (the default: uninstall the
    /// old release, then install) or `InPlaceUpdate` (upgrade the release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_name_change_strategy: Option<ChartNameChangeStrategy>,
}

impl Upgrade {
    /// The upgrade timeout, defaulting to `default` (the HelmRelease's timeout).
    pub fn timeout_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.timeout.as_deref().unwrap_or(default)
    }

    /// The remediation settings, with their defaults when unset.
    pub fn remediation(&self) -> UpgradeRemediation {
        self.remediation.clone().unwrap_or_default()
    }

    /// The strategy name, defaulting to `default` (`RemediateOnFailure`, or
    /// `RetryOnFailure` with the upstream `DefaultToRetryOnFailure` gate).
    pub fn strategy_name(&self, default: ActionStrategyName) -> ActionStrategyName {
        self.strategy.as_ref().map_or(default, |s| s.name)
    }

    /// The CRD policy as the upstream controller applies it: `Create` when unset.
    pub fn crds(&self) -> CrdsPolicy {
        self.crds.unwrap_or(CrdsPolicy::Create)
    }

    /// The server-side apply mode, defaulting to `auto`.
    pub fn server_side_apply(&self) -> ServerSideApplyMode {
        self.server_side_apply.unwrap_or_default()
    }

    /// The chart-name change strategy, defaulting to `Reinstall`.
    pub fn chart_name_change_strategy(&self) -> ChartNameChangeStrategy {
        self.chart_name_change_strategy.unwrap_or_default()
    }

    /// Whether waiting is disabled.
    pub fn disable_wait(&self) -> bool {
        self.disable_wait.unwrap_or(false)
    }
}

/// Remediation of failed upgrades.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRemediation {
    /// How many times a failed upgrade is retried, with a remediation in between;
    /// defaults to 0, and a negative number retries forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub retries: Option<i64>,
    /// Do not remediate when tests run after an upgrade fail; defaults to
    /// `test.ignoreFailures`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_test_failures: Option<bool>,
    /// Remediate the last failure too, once no retries remain; defaults to true when
    /// `retries` is greater than 0, false otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_last_failure: Option<bool>,
    /// How to remediate: `rollback` (the default) or `uninstall`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RemediationStrategy>,
}

impl UpgradeRemediation {
    /// The number of retries (negative: unlimited), defaulting to 0.
    pub fn retries(&self) -> i64 {
        self.retries.unwrap_or(0)
    }

    /// Whether failed tests are ignored, given the default from `test.ignoreFailures`.
    pub fn ignore_test_failures(&self, default: bool) -> bool {
        self.ignore_test_failures.unwrap_or(default)
    }

    /// Whether the last failure is remediated; defaults to `retries > 0`.
    pub fn remediate_last_failure(&self) -> bool {
        self.remediate_last_failure.unwrap_or(self.retries() > 0)
    }

    /// The remediation strategy, defaulting to `rollback`.
    pub fn strategy(&self) -> RemediationStrategy {
        self.strategy.unwrap_or_default()
    }

    /// Whether `failures` upgrade failures exhaust the retries.
    pub fn retries_exhausted(&self, failures: i64) -> bool {
        let retries = self.retries();
        retries >= 0 && failures > retries
    }
}

/// How a failed upgrade is remediated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum RemediationStrategy {
    /// Roll back to the previous successful release.
    #[default]
    Rollback,
    /// Uninstall the release.
    Uninstall,
}

/// What Helm does with the CRDs in a chart's `crds/` directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum CrdsPolicy {
    /// Neither create nor update CRDs.
    Skip,
    /// Create missing CRDs; leave existing ones as they are.
    Create,
    /// Create missing CRDs and replace existing ones; never delete any.
    CreateReplace,
}

/// Whether upgrades and rollbacks use server-side apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum ServerSideApplyMode {
    /// Always use server-side apply.
    Enabled,
    /// Always use client-side apply.
    Disabled,
    /// Use the method the previous release used.
    #[default]
    Auto,
}

/// What to do when the chart of a release changes name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ChartNameChangeStrategy {
    /// Upgrade the existing release in place.
    InPlaceUpdate,
    /// Uninstall the existing release and install a new one.
    #[default]
    Reinstall,
}

/// Helm tests run after installs and upgrades.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Test {
    /// Run the chart's tests after each install or upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Time to wait for any single Kubernetes operation during tests; defaults to the
    /// HelmRelease's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Do not remediate when tests fail; `install.remediation.ignoreTestFailures` and
    /// `upgrade.remediation.ignoreTestFailures` override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_failures: Option<bool>,
    /// Tests to run or to leave out, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<Filter>>,
}

impl Test {
    /// Whether tests are enabled.
    pub fn enabled(&self) -> bool {
        self.enable.unwrap_or(false)
    }

    /// Whether test failures are ignored.
    pub fn ignore_failures(&self) -> bool {
        self.ignore_failures.unwrap_or(false)
    }
}

/// Selects a Helm test by name, to run it or leave it out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Filter {
    /// Name of the test.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Leave the test out instead of selecting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<bool>,
}

/// How Helm rollback actions are run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// Time to wait for any single Kubernetes operation during rollback; defaults to the
    /// HelmRelease's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Do not wait for the objects to be ready after rolling back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Do not wait for Jobs to complete after rolling back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait_for_jobs: Option<bool>,
    /// Do not run hooks during rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Deprecated and without effect (Helm 4 removed pod recreation); kept so existing
    /// manifests stay valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreate: Option<bool>,
    /// Replace objects instead of patching them when client-side apply hits a conflict;
    /// no effect with server-side apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Delete objects created by a failed rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_on_fail: Option<bool>,
    /// `enabled`, `disabled`, or `auto` (the default: use the method of the release
    /// rolled back to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_side_apply: Option<ServerSideApplyMode>,
}

impl Rollback {
    /// The rollback timeout, defaulting to `default` (the HelmRelease's timeout).
    pub fn timeout_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.timeout.as_deref().unwrap_or(default)
    }
}

/// How Helm uninstall actions are run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Uninstall {
    /// Time to wait for any single Kubernetes operation during uninstall; defaults to the
    /// HelmRelease's `timeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Do not run hooks during uninstall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_hooks: Option<bool>,
    /// Delete the release's objects but keep its history, marking it uninstalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_history: Option<bool>,
    /// Do not wait for the objects to be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_wait: Option<bool>,
    /// Propagation policy of the deletions: `background` (the default), `foreground` or
    /// `orphan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "background"))]
    pub deletion_propagation: Option<DeletionPropagation>,
}

impl Uninstall {
    /// The uninstall timeout, defaulting to `default` (the HelmRelease's timeout).
    pub fn timeout_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.timeout.as_deref().unwrap_or(default)
    }

    /// The deletion propagation, defaulting to `background`.
    pub fn deletion_propagation(&self) -> DeletionPropagation {
        self.deletion_propagation.unwrap_or_default()
    }
}

/// Kubernetes deletion propagation policies, as Helm spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum DeletionPropagation {
    /// Delete dependents in the background.
    #[default]
    Background,
    /// Delete dependents before the owner.
    Foreground,
    /// Leave dependents in place.
    Orphan,
}

/// The Helm actions the controller records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ReleaseAction {
    /// `helm install`.
    #[serde(rename = "install")]
    Install,
    /// `helm upgrade`.
    #[serde(rename = "upgrade")]
    Upgrade,
    /// `helm rollback`.
    #[serde(rename = "rollback")]
    Rollback,
    /// `helm uninstall`.
    #[serde(rename = "uninstall")]
    Uninstall,
    /// `helm uninstall` run to remediate a failed install or upgrade.
    #[serde(rename = "uninstall-remediation")]
    UninstallRemediation,
}

/// What the helm-controller observed and released.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmReleaseStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Digest of `spec.postRenderers` at the last successful reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_post_renderers_digest: Option<String>,
    /// Digest of `spec.commonMetadata` at the last successful reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_common_metadata_digest: Option<String>,
    /// The last generation the controller attempted to release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `Released`, `TestSuccess`,
    /// `Remediated` and `Drifted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// `<namespace>/<name>` of the HelmChart created from `spec.chart`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_chart: Option<String>,
    /// Namespace of the Helm storage of the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub storage_namespace: Option<String>,
    /// The releases made for this HelmRelease, newest first, back to the last successful
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Snapshot>>,
    /// The objects of the current release (manifest and chart CRDs, not hooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<ResourceInventory>,
    /// The last release action attempted, `install` or `upgrade`; selects which retry and
    /// remediation settings are in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "attempted_release_action")]
    pub last_attempted_release_action: Option<ReleaseAction>,
    /// How long the last release action took, as a Go duration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_release_action_duration: Option<String>,
    /// Failed reconciles against the current desired state; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<i64>,
    /// Failed installs against the current desired state; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_failures: Option<i64>,
    /// Failed upgrades against the current desired state; reset on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_failures: Option<i64>,
    /// The chart version of the last attempt; for OCI sources the first 12 characters of
    /// the digest are appended as build metadata, e.g. `1.2.3+1234567890ab`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The artifact digest of the last attempt; OCI sources only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision_digest: Option<String>,
    /// Deprecated: SHA1 checksum of the values of the last attempt; replaced by
    /// `lastAttemptedConfigDigest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_values_checksum: Option<String>,
    /// Deprecated: revision of the last successful release; replaced by `history`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "go_int")]
    pub last_release_revision: Option<i64>,
    /// Digest of the values of the last attempt, as `<algorithm>:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_config_digest: Option<String>,
    /// The last `reconcile.fluxcd.io/resetAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reset_at: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
    /// The last `reconcile.fluxcd.io/forceAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_force_at: Option<String>,
}

crate::meta::impl_flux_status!(HelmReleaseStatus);

impl HelmReleaseStatus {
    /// Namespace and name of the HelmChart in `helmChart`, if set and well formed.
    pub fn helm_chart(&self) -> Option<(&str, &str)> {
        self.helm_chart.as_deref()?.split_once('/')
    }

    /// The newest snapshot: the one with the highest release version.
    pub fn latest_snapshot(&self) -> Option<&Snapshot> {
        self.history.as_deref()?.iter().max_by_key(|s| s.version)
    }

    /// Resets the failure counters.
    pub fn clear_failures(&mut self) {
        self.failures = None;
        self.install_failures = None;
        self.upgrade_failures = None;
    }
}

/// The current version of the snapshot format (`apiVersion` of history entries).
pub const SNAPSHOT_API_VERSION: &str = "v2";

/// A Helm release as the controller recorded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Version of the snapshot format; it changes when the way `digest` is computed
    /// changes. Currently `v2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Digest of the release object in Helm storage, as `<algorithm>:<hex>`.
    pub digest: String,
    /// Name of the release.
    pub name: String,
    /// Namespace the release is installed into.
    pub namespace: String,
    /// Version (revision) of the release in Helm storage.
    #[schemars(schema_with = "go_int")]
    pub version: i64,
    /// Helm status of the release, e.g. `deployed`, `superseded`, `failed`.
    pub status: String,
    /// The action that produced the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "plain_string")]
    pub action: Option<ReleaseAction>,
    /// Name of the released chart.
    pub chart_name: String,
    /// Version of the released chart.
    pub chart_version: String,
    /// App version of the released chart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Digest of the release's values, as `<algorithm>:<hex>`.
    pub config_digest: String,
    /// When the release was first deployed.
    pub first_deployed: Time,
    /// When the release was last deployed.
    pub last_deployed: Time,
    /// When the release was uninstalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Time>,
    /// The test hooks the controller saw run for this release, by name; an empty map means
    /// the chart has no (selected) tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_hooks: Option<BTreeMap<String, TestHookStatus>>,
    /// Digest of the OCI artifact the chart came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci_digest: Option<String>,
}

impl Snapshot {
    /// `<namespace>/<name>.v<version>`, as Flux names releases in messages.
    pub fn full_release_name(&self) -> String {
        format!("{}/{}.v{}", self.namespace, self.name, self.version)
    }

    /// `<chartName>@<chartVersion>`.
    pub fn versioned_chart_name(&self) -> String {
        format!("{}@{}", self.chart_name, self.chart_version)
    }

    /// Whether a test hook of this release is in `phase` (e.g. `Failed`).
    pub fn has_test_in_phase(&self, phase: &str) -> bool {
        self.test_hooks
            .iter()
            .flat_map(|hooks| hooks.values())
            .any(|hook| hook.phase.as_deref() == Some(phase))
    }
}

/// A test hook as the controller saw it run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestHookStatus {
    /// When the hook last started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_started: Option<Time>,
    /// When the hook last completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<Time>,
    /// Phase the hook was last seen in, e.g. `Succeeded` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// The default Helm action timeout.
pub const DEFAULT_TIMEOUT: &str = "5m0s";

/// The default number of release revisions Helm keeps.
pub const DEFAULT_MAX_HISTORY: i64 = 5;

impl HelmReleaseSpec {
    /// The Helm action timeout, defaulting to five minutes.
    ///
    /// # Errors
    /// When `timeout` is not a duration.
    pub fn timeout(&self) -> Result<Duration, DurationError> {
        parse_duration(self.timeout.as_deref().unwrap_or(DEFAULT_TIMEOUT))
    }

    /// The reconcile interval.
    ///
    /// # Errors
    /// When `interval` is not a duration.
    pub fn interval(&self) -> Result<Duration, DurationError> {
        parse_duration(&self.interval)
    }

    /// How many revisions Helm keeps (0: all), defaulting to 5.
    pub fn max_history(&self) -> i64 {
        self.max_history.unwrap_or(DEFAULT_MAX_HISTORY)
    }

    /// Whether one Kubernetes client is reused for a reconcile; defaults to true.
    pub fn persistent_client(&self) -> bool {
        self.persistent_client.unwrap_or(true)
    }

    /// Whether reconciling is suspended.
    pub fn is_suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }

    /// The drift detection mode, defaulting to `disabled`.
    pub fn drift_detection_mode(&self) -> DriftDetectionMode {
        self.drift_detection
            .as_ref()
            .map(DriftDetection::mode)
            .unwrap_or_default()
    }

    /// The install settings, with their defaults when unset.
    pub fn install(&self) -> Install {
        self.install.clone().unwrap_or_default()
    }

    /// The upgrade settings, with their defaults when unset.
    pub fn upgrade(&self) -> Upgrade {
        self.upgrade.clone().unwrap_or_default()
    }

    /// The test settings, with their defaults when unset.
    pub fn test(&self) -> Test {
        self.test.clone().unwrap_or_default()
    }

    /// The rollback settings, with their defaults when unset.
    pub fn rollback(&self) -> Rollback {
        self.rollback.clone().unwrap_or_default()
    }

    /// The uninstall settings, with their defaults when unset.
    pub fn uninstall(&self) -> Uninstall {
        self.uninstall.clone().unwrap_or_default()
    }
}

impl HelmRelease {
    /// The Helm release name: `spec.releaseName`, else `<targetNamespace>-<name>` when
    /// `targetNamespace` is set, else the object's name. The controller shortens names
    /// longer than 53 characters before use.
    pub fn release_name(&self) -> String {
        if let Some(name) = &self.spec.release_name {
            return name.clone();
        }
        match &self.spec.target_namespace {
            Some(namespace) => format!("{namespace}-{}", self.name_any()),
            None => self.name_any(),
        }
    }

    /// The namespace the release is installed into: `spec.targetNamespace`, else the
    /// object's namespace.
    pub fn release_namespace(&self) -> String {
        self.spec
            .target_namespace
            .clone()
            .or_else(|| self.namespace())
            .unwrap_or_default()
    }

    /// The namespace of Helm's storage: `spec.storageNamespace`, else the object's
    /// namespace.
    pub fn storage_namespace(&self) -> String {
        self.spec
            .storage_namespace
            .clone()
            .or_else(|| self.namespace())
            .unwrap_or_default()
    }

    /// Name of the HelmChart created from `spec.chart`: `<namespace>-<name>`.
    pub fn helm_chart_name(&self) -> String {
        format!(
            "{}-{}",
            self.namespace().unwrap_or_default(),
            self.name_any()
        )
    }
}

/// Condition types specific to HelmRelease.
pub mod conditions {
    /// The last release attempt (install or upgrade) against the desired state.
    pub const RELEASED: &str = "Released";
    /// The last Helm test run against the desired state.
    pub const TEST_SUCCESS: &str = "TestSuccess";
    /// The last remediation (rollback or uninstall) of a failed release.
    pub const REMEDIATED: &str = "Remediated";
    /// Whether the cluster has drifted from the release manifest.
    pub const DRIFTED: &str = "Drifted";
}

/// Condition reasons specific to HelmRelease; the shared ones (`DependencyNotReady`,
/// `ArtifactFailed`, `AccessDenied`...) are in [`crate::meta::conditions`].
pub mod reasons {
    /// Helm install succeeded.
    pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
    /// Helm install failed.
    pub const INSTALL_FAILED: &str = "InstallFailed";
    /// Helm upgrade succeeded.
    pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
    /// Helm upgrade failed.
    pub const UPGRADE_FAILED: &str = "UpgradeFailed";
    /// Helm tests passed.
    pub const TEST_SUCCEEDED: &str = "TestSucceeded";
    /// Helm tests failed.
    pub const TEST_FAILED: &str = "TestFailed";
    /// Helm rollback succeeded.
    pub const ROLLBACK_SUCCEEDED: &str = "RollbackSucceeded";
    /// Helm rollback failed.
    pub const ROLLBACK_FAILED: &str = "RollbackFailed";
    /// Helm uninstall succeeded.
    pub const UNINSTALL_SUCCEEDED: &str = "UninstallSucceeded";
    /// Helm uninstall failed.
    pub const UNINSTALL_FAILED: &str = "UninstallFailed";
    /// The chart artifact could not be fetched.
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    /// A dependency is not ready.
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    /// The cluster differs from the release manifest.
    pub const DRIFT_DETECTED: &str = "DriftDetected";
    /// The cluster matches the release manifest.
    pub const NO_DRIFT_DETECTED: &str = "NoDriftDetected";
    /// The inventory of the release could not be computed.
    pub const INVENTORY_BUILD_FAILED: &str = "InventoryBuildFailed";
    /// Whether inventory objects are namespaced could not be determined.
    pub const NAMESPACE_CHECK_SKIPPED: &str = "NamespaceCheckSkipped";
    /// The chart source is not ready (no artifact, not yet observed, or stalled).
    pub const SOURCE_NOT_READY: &str = "SourceNotReady";
    /// The values could not be composed from `valuesFrom` and `values`.
    pub const VALUES_ERROR: &str = "ValuesError";
    /// The chart could not be prepared (e.g. its version rewritten).
    pub const CHART_MUTATE_ERROR: &str = "ChartMutateError";
    /// A Kubernetes client for the target cluster could not be built.
    pub const REST_CLIENT_ERROR: &str = "RESTClientError";
    /// The resource manager for the target cluster could not be built.
    pub const RESOURCE_MANAGER_ERROR: &str = "ResourceManagerError";
    /// The Helm action configuration could not be built.
    pub const FACTORY_ERROR: &str = "FactoryError";
    /// The state of the release in storage could not be determined.
    pub const STATE_ERROR: &str = "StateError";
    /// The release loop failed for another reason.
    pub const RECONCILE_ERROR: &str = "ReconcileError";
    /// Install or upgrade retries are exhausted (with `Stalled`).
    pub const RETRIES_EXCEEDED: &str = "RetriesExceeded";
    /// No earlier release exists to roll back to (with `Stalled`).
    pub const MISSING_ROLLBACK_TARGET: &str = "MissingRollbackTarget";
    /// A release was left in a pending state and has been unlocked.
    pub const PENDING_RELEASE: &str = "PendingRelease";
    /// The release succeeded and its tests are about to run.
    pub const AWAITING_TESTS: &str = "AwaitingTests";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, namespace: &str, spec: HelmReleaseSpec) -> HelmRelease {
        let mut release = HelmRelease::new(name, spec);
        release.metadata.namespace = Some(namespace.to_owned());
        release
    }

    #[test]
    fn release_name_and_namespaces_default_like_flux() {
        let spec = HelmReleaseSpec {
            interval: "10m".to_owned(),
            ..HelmReleaseSpec::default()
        };
        let plain = release("podinfo", "apps", spec.clone());
        assert_eq!(plain.release_name(), "podinfo");
        assert_eq!(plain.release_namespace(), "apps");
        assert_eq!(plain.storage_namespace(), "apps");
        assert_eq!(plain.helm_chart_name(), "apps-podinfo");

        let targeted = release(
            "podinfo",
            "flux-system",
            HelmReleaseSpec {
                target_namespace: Some("prod".to_owned()),
                ..spec.clone()
            },
        );
        assert_eq!(targeted.release_name(), "prod-podinfo");
        assert_eq!(targeted.release_namespace(), "prod");
        assert_eq!(targeted.storage_namespace(), "flux-system");

        let named = release(
            "podinfo",
            "flux-system",
            HelmReleaseSpec {
                release_name: Some("frontend".to_owned()),
                target_namespace: Some("prod".to_owned()),
                ..spec
            },
        );
        assert_eq!(named.release_name(), "frontend");
    }

    #[test]
    fn spec_defaults() {
        let spec = HelmReleaseSpec {
            interval: "10m".to_owned(),
            ..HelmReleaseSpec::default()
        };
        assert_eq!(spec.timeout(), Ok(Duration::from_secs(300)));
        assert_eq!(spec.max_history(), 5);
        assert!(spec.persistent_client());
        assert_eq!(spec.drift_detection_mode(), DriftDetectionMode::Disabled);
        assert_eq!(spec.install().crds(), CrdsPolicy::Create);
        assert_eq!(
            spec.upgrade().server_side_apply(),
            ServerSideApplyMode::Auto
        );
        assert_eq!(
            spec.upgrade().chart_name_change_strategy(),
            ChartNameChangeStrategy::Reinstall
        );
        assert_eq!(
            spec.uninstall().deletion_propagation(),
            DeletionPropagation::Background
        );
    }

    #[test]
    fn remediation_defaults_follow_retries() {
        let mut upgrade = UpgradeRemediation::default();
        assert!(!upgrade.remediate_last_failure());
        assert_eq!(upgrade.strategy(), RemediationStrategy::Rollback);
        assert!(upgrade.retries_exhausted(1));
        upgrade.retries = Some(3);
        assert!(upgrade.remediate_last_failure());
        assert!(!upgrade.retries_exhausted(3));
        assert!(upgrade.retries_exhausted(4));
        upgrade.retries = Some(-1);
        assert!(!upgrade.retries_exhausted(100));

        let install = InstallRemediation {
            retries: Some(3),
            ..InstallRemediation::default()
        };
        assert!(!install.remediate_last_failure());
        assert!(install.ignore_test_failures(true));
    }

    #[test]
    fn retry_interval_defaults_to_five_minutes() {
        let strategy = UpgradeStrategy {
            name: ActionStrategyName::RetryOnFailure,
            retry_interval: None,
        };
        assert_eq!(strategy.retry_interval(), Ok(DEFAULT_RETRY_INTERVAL));
    }

    #[test]
    fn verification_provider_may_be_omitted_and_defaults_to_cosign() {
        let verify: HelmChartTemplateVerification =
            crate::parse::from_yaml("secretRef: {name: keys}").expect("parses");
        assert_eq!(verify.provider, None);
        assert_eq!(verify.provider(), VerificationProvider::Cosign);
        let written = serde_json::to_value(&verify).expect("serializes");
        assert_eq!(written, serde_json::json!({"secretRef": {"name": "keys"}}));
    }

    #[test]
    fn helm_chart_status_splits_namespace_and_name() {
        let status = HelmReleaseStatus {
            helm_chart: Some("flux-system/apps-podinfo".to_owned()),
            ..HelmReleaseStatus::default()
        };
        assert_eq!(status.helm_chart(), Some(("flux-system", "apps-podinfo")));
    }
}
