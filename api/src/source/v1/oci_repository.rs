//! OCIRepository: an artifact in an OCI registry, pulled at a tag, semver range or digest
//! and stored as an artifact.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::OCIRepositoryVerification;
use crate::meta::{Artifact, LocalObjectReference};
use crate::schema::{DURATION_PATTERN, TIMEOUT_PATTERN};

/// Which OCI artifact to pull, how often, and how to authenticate, verify and unpack it.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "OCIRepository",
    plural = "ocirepositories",
    shortname = "ocirepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    status = "OCIRepositoryStatus",
    derive = "PartialEq",
    doc = "OCIRepository is the Schema for the ocirepositories API: an artifact in an OCI registry the source-controller pulls at a tag, semver range or digest and stores as an artifact.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(name = "URL", type_ = "string", json_path = ".spec.url"),
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
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositorySpec {
    /// Address of the repository in the registry, `oci://<host>/<path>`, without a tag or
    /// digest (those go into `ref`).
    #[schemars(regex(pattern = r"^oci://.*$"))]
    pub url: String,
    /// The tag, semver range or digest to pull; defaults to the `latest` tag.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<OCIRepositoryRef>,
    /// Which layer of the artifact to take and what to do with it; by default the first
    /// layer is extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_selector: Option<OCILayerSelector>,
    /// Who provides the registry credentials: `generic` (the default: `secretRef` or the
    /// ServiceAccount's image pull secrets), `aws`, `azure` or `gcp` (workload identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<OciProvider>,
    /// Secret of type `kubernetes.io/dockerconfigjson` with the registry login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Signature verification of the artifact before it is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<OCIRepositoryVerification>,
    /// ServiceAccount whose image pull secrets (with the `generic` provider) or workload
    /// identity (with a cloud provider) authenticates the pull.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Secret (type `Opaque` or `kubernetes.io/tls`) with TLS material for the registry:
    /// `tls.crt` and `tls.key` for a client certificate, `ca.crt` for a private CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Secret with the proxy to use: `address` (required), `username`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// How often to check the registry for a new digest, e.g. `5m`.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Timeout of registry operations such as pulls; defaults to `60s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TIMEOUT_PATTERN), extend("default" = "60s"))]
    pub timeout: Option<String>,
    /// Exclusion patterns in `.gitignore` format applied to the extracted files. When set,
    /// they replace the default exclusions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Talk to the registry over plain HTTP instead of HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl OCIRepositorySpec {
    /// The timeout of registry operations, `60s` when not set.
    pub fn timeout(&self) -> &str {
        self.timeout.as_deref().unwrap_or("60s")
    }

    /// The credentials provider, `generic` when not set.
    pub fn provider(&self) -> OciProvider {
        self.provider.unwrap_or_default()
    }

    /// The media type of the layer to select, if one is set.
    pub fn layer_media_type(&self) -> Option<&str> {
        self.layer_selector
            .as_ref()
            .and_then(|s| s.media_type.as_deref())
    }

    /// What to do with the selected layer, `extract` when not set.
    pub fn layer_operation(&self) -> LayerOperation {
        self.layer_selector
            .as_ref()
            .map(OCILayerSelector::operation)
            .unwrap_or_default()
    }
}

/// Who provides the credentials for an OCI registry (OCIRepository, and HelmRepository of
/// type `oci`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum OciProvider {
    /// Static credentials from `secretRef` or the ServiceAccount's image pull secrets.
    #[default]
    Generic,
    /// Amazon ECR, through AWS workload identity.
    Aws,
    /// Azure Container Registry, through Azure workload identity or managed identity.
    Azure,
    /// Google Artifact Registry, through GCP workload identity.
    Gcp,
}

/// The version of the artifact to pull. Precedence: `digest` > `semver` > `tag`; with
/// none set, the `latest` tag.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryRef {
    /// Manifest digest to pull, `sha256:<hex>`; takes precedence over every other field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Semantic version range; the highest matching tag is pulled. Takes precedence over
    /// `tag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// Regular expression the tags must match before the `semver` range is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver_filter: Option<String>,
    /// Tag to pull; defaults to `latest` when no other field is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// Which layer of the OCI artifact becomes the stored artifact, and how.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCILayerSelector {
    /// Media type of the layer to take; the first layer with this type is selected. When
    /// not set, the first layer is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// `extract` (the default) unpacks the compressed layer into the artifact; `copy`
    /// stores the compressed layer as it is (e.g. a Helm chart `.tgz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<LayerOperation>,
}

impl OCILayerSelector {
    /// What to do with the selected layer, `extract` when not set.
    pub fn operation(&self) -> LayerOperation {
        self.operation.unwrap_or_default()
    }
}

/// What is done with the selected OCI layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum LayerOperation {
    /// Decompress and unpack the layer's tarball.
    #[default]
    Extract,
    /// Store the compressed layer unchanged.
    Copy,
}

/// What the source-controller observed and produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OCIRepositoryStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `ArtifactInStorage`,
    /// `ArtifactOutdated`, `FetchFailed`, `StorageOperationFailed`, `SourceVerified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// Address where the latest artifact can be downloaded; `artifact.url` is the exact one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The artifact of the last successful reconcile; its `metadata` holds the OCI
    /// manifest annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The exclusion patterns used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The layer selector used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_layer_selector: Option<OCILayerSelector>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(OCIRepositoryStatus);

/// Condition reasons specific to OCIRepository.
pub mod reasons {
    /// Pulling the artifact (manifest or layer) from the registry failed.
    pub const OCI_PULL_FAILED: &str = "OCIArtifactPullFailed";
    /// Extracting or copying the selected layer failed.
    pub const OCI_LAYER_OPERATION_FAILED: &str = "OCIArtifactLayerOperationFailed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_fields_are_unset() {
        let mut spec = OCIRepositorySpec {
            url: "oci://ghcr.io/example/app".to_owned(),
            interval: "5m".to_owned(),
            ..Default::default()
        };
        assert_eq!(spec.timeout(), "60s");
        assert_eq!(spec.provider(), OciProvider::Generic);
        assert_eq!(spec.layer_media_type(), None);
        assert_eq!(spec.layer_operation(), LayerOperation::Extract);

        spec.layer_selector = Some(OCILayerSelector {
            media_type: Some("application/vnd.cncf.helm.chart.content.v1.tar+gzip".to_owned()),
            operation: Some(LayerOperation::Copy),
        });
        assert_eq!(
            spec.layer_media_type(),
            Some("application/vnd.cncf.helm.chart.content.v1.tar+gzip")
        );
        assert_eq!(spec.layer_operation(), LayerOperation::Copy);
    }
}
