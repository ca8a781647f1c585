//! HelmChart: a chart pulled from a HelmRepository, or packaged from a path in a
//! GitRepository or Bucket artifact, and stored as a chart archive.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::HelmChartVerification;
use crate::meta::Artifact;
use crate::schema::DURATION_PATTERN;

/// Which chart, from which source, at which version, and how to build it.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmChart",
    plural = "helmcharts",
    shortname = "hc",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    status = "HelmChartStatus",
    derive = "PartialEq",
    doc = "HelmChart is the Schema for the helmcharts API: a Helm chart the source-controller pulls from a HelmRepository or packages from a GitRepository or Bucket, and stores as an artifact.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(name = "Chart", type_ = "string", json_path = ".spec.chart"),
    printcolumn(name = "Version", type_ = "string", json_path = ".spec.version"),
    printcolumn(
        name = "Source Kind",
        type_ = "string",
        json_path = ".spec.sourceRef.kind"
    ),
    printcolumn(
        name = "Source Name",
        type_ = "string",
        json_path = ".spec.sourceRef.name"
    ),
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
#[x_kube(validation = Rule::new("!has(self.verify) || self.sourceRef.kind == 'HelmRepository'").message("spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'"))]
pub struct HelmChartSpec {
    /// The chart's name in a HelmRepository, or its directory (or packaged `.tgz`) path
    /// inside a GitRepository or Bucket artifact.
    pub chart: String,
    /// Semantic version range of the chart to pick from a HelmRepository; defaults to `*`
    /// (the latest stable version). Not used for GitRepository and Bucket sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "*"))]
    pub version: Option<String>,
    /// The source, in the same namespace, the chart comes from.
    pub source_ref: LocalHelmChartSourceReference,
    /// How often to check the source for a new chart version, e.g. `10m`.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// When a new artifact is built: `ChartVersion` (the default: when the chart's version
    /// changes) or `Revision` (on every new revision of the source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "ChartVersion"))]
    pub reconcile_strategy: Option<ReconcileStrategy>,
    /// Values files, relative to the source root, merged in order (later files win) and
    /// packaged into the chart as its `values.yaml`. The chart's own `values.yaml` is only
    /// included when listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values_files: Option<Vec<String>>,
    /// Skip values files that do not exist instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_missing_values_files: Option<bool>,
    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Signature verification of the chart; only for charts from a HelmRepository of type
    /// `oci`. Dependencies not bundled into the chart are not verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<HelmChartVerification>,
}

impl HelmChartSpec {
    /// The version range, `*` when not set.
    pub fn version(&self) -> &str {
        match self.version.as_deref() {
            None | Some("") => "*",
            Some(version) => version,
        }
    }

    /// When a new artifact is built, `ChartVersion` when not set.
    pub fn reconcile_strategy(&self) -> ReconcileStrategy {
        self.reconcile_strategy.unwrap_or_default()
    }

    /// The values files to merge, in order.
    pub fn values_files(&self) -> &[String] {
        self.values_files.as_deref().unwrap_or_default()
    }
}

/// What makes a HelmChart build a new artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ReconcileStrategy {
    /// A new chart version.
    #[default]
    ChartVersion,
    /// A new revision of the source artifact, even with the same chart version.
    Revision,
}

/// The source, in the same namespace, a HelmChart is taken from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalHelmChartSourceReference {
    /// API version of the source; when empty the controller uses the version it serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source: `HelmRepository`, `GitRepository` or `Bucket`.
    pub kind: HelmChartSourceKind,
    /// Name of the source.
    pub name: String,
}

/// The kinds a HelmChart can be taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum HelmChartSourceKind {
    /// A Helm repository (HTTP/S index or OCI registry).
    #[default]
    HelmRepository,
    /// A path inside a GitRepository artifact.
    GitRepository,
    /// A path inside a Bucket artifact.
    Bucket,
}

impl HelmChartSourceKind {
    /// The kind's name, as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HelmRepository => "HelmRepository",
            Self::GitRepository => "GitRepository",
            Self::Bucket => "Bucket",
        }
    }
}

/// What the source-controller observed and produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The source artifact revision the current chart was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_source_artifact_revision: Option<String>,
    /// The chart name resolved from the chart reference for the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_chart_name: Option<String>,
    /// The values files merged into the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_values_files: Option<Vec<String>>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `ArtifactInStorage`,
    /// `ArtifactOutdated`, `FetchFailed`, `BuildFailed`, `StorageOperationFailed`,
    /// `SourceVerified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// Address where the latest chart can be downloaded; `artifact.url` is the exact one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The chart archive of the last successful reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(HelmChartStatus);

/// Condition reasons specific to HelmChart, including the chart build error reasons.
pub mod reasons {
    /// The chart was pulled from a HelmRepository.
    pub const CHART_PULL_SUCCEEDED: &str = "ChartPullSucceeded";
    /// The chart was packaged from a GitRepository or Bucket (or values files merged).
    pub const CHART_PACKAGE_SUCCEEDED: &str = "ChartPackageSucceeded";
    /// `ArtifactOutdated`: a new chart is to be built.
    pub const NEW_CHART: &str = "NewChart";
    /// The chart reference cannot be resolved (no such chart, no matching version, bad
    /// path); the object is stalled.
    pub const INVALID_CHART_REFERENCE: &str = "InvalidChartReference";
    /// Downloading the chart failed.
    pub const CHART_PULL_ERROR: &str = "ChartPullError";
    /// Rewriting the chart's metadata (e.g. its version) failed.
    pub const METADATA_PATCH_ERROR: &str = "MetadataPatchError";
    /// Reading or merging the values files failed.
    pub const VALUES_FILES_ERROR: &str = "ValuesFilesError";
    /// Resolving or building the chart's dependencies failed.
    pub const DEPENDENCY_BUILD_ERROR: &str = "DependencyBuildError";
    /// Packaging the chart failed.
    pub const CHART_PACKAGE_ERROR: &str = "ChartPackageError";
    /// Verifying the chart's signature failed.
    pub const CHART_VERIFICATION_ERROR: &str = "ChartVerificationError";
    /// A build error without a more specific reason.
    pub const UNKNOWN: &str = "Unknown";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_fields_are_unset() {
        let mut spec = HelmChartSpec {
            chart: "podinfo".to_owned(),
            interval: "5m".to_owned(),
            ..Default::default()
        };
        assert_eq!(spec.version(), "*");
        assert_eq!(spec.reconcile_strategy(), ReconcileStrategy::ChartVersion);
        assert!(spec.values_files().is_empty());
        spec.version = Some("6.x".to_owned());
        assert_eq!(spec.version(), "6.x");
        assert_eq!(HelmChartSourceKind::Bucket.as_str(), "Bucket");
    }
}
