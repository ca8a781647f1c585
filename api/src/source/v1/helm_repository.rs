//! HelmRepository: a Helm chart repository whose index is fetched and stored as an
//! artifact, or (type `oci`) the address and credentials of an OCI registry holding charts.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::OciProvider;
use crate::meta::{AccessFrom, Artifact, LocalObjectReference};
use crate::schema::{DURATION_PATTERN, TIMEOUT_PATTERN};

/// Where the Helm repository is, how often to fetch its index, and how to authenticate.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "HelmRepository",
    plural = "helmrepositories",
    shortname = "helmrepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    status = "HelmRepositoryStatus",
    derive = "PartialEq",
    doc = "HelmRepository is the Schema for the helmrepositories API: a Helm repository whose index the source-controller fetches and stores as an artifact, or an OCI registry HelmCharts pull from.",
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
pub struct HelmRepositorySpec {
    /// Address of the repository: `http://` or `https://` (the index is read from
    /// `<url>/index.yaml`), or `oci://` with `type: oci`.
    #[schemars(regex(pattern = r"^(http|https|oci)://.*$"))]
    pub url: String,
    /// Secret with the credentials: `username` and `password` for basic auth (or a
    /// `kubernetes.io/dockerconfigjson` Secret with `type: oci`). The `certFile`, `keyFile`
    /// and `caFile` keys are still read for TLS, but `certSecretRef` replaces them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Secret (type `Opaque` or `kubernetes.io/tls`) with TLS material: `tls.crt` and
    /// `tls.key` for a client certificate, `ca.crt` for a private CA. Takes precedence over
    /// TLS keys in `secretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Also send the `secretRef` credentials when chart URLs in the index point to another
    /// host than `url`. Only for trusted indexes: the credentials leave the repository's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_credentials: Option<bool>,
    /// How often to fetch the index, e.g. `10m`; one minute when not set. Not used with
    /// `type: oci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    /// With `type: oci`, talk to the registry over plain HTTP instead of HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Timeout of the index download, and of chart pulls from an OCI repository by the
    /// HelmCharts using it; 60 seconds when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TIMEOUT_PATTERN))]
    pub timeout: Option<String>,
    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespaces allowed to refer to this repository. Accepted for compatibility; not
    /// enforced, as upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// `default` (an HTTP/S repository with an index, the default) or `oci` (an OCI
    /// registry; `url` must then start with `oci://`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<HelmRepositoryType>,
    /// With `type: oci`, who provides the registry credentials: `generic` (the default,
    /// from `secretRef`), `aws`, `azure` or `gcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<OciProvider>,
}

impl HelmRepositorySpec {
    /// The fetch interval, `1m` when not set.
    pub fn interval(&self) -> &str {
        self.interval.as_deref().unwrap_or("1m")
    }

    /// The timeout of index downloads and chart pulls, `60s` when not set.
    pub fn timeout(&self) -> &str {
        self.timeout.as_deref().unwrap_or("60s")
    }

    /// The repository type, `default` when not set.
    pub fn type_(&self) -> HelmRepositoryType {
        self.type_.unwrap_or_default()
    }

    /// Whether this is an OCI repository (`type: oci`).
    pub fn is_oci(&self) -> bool {
        self.type_() == HelmRepositoryType::Oci
    }

    /// The credentials provider for OCI repositories, `generic` when not set.
    pub fn provider(&self) -> OciProvider {
        self.provider.unwrap_or_default()
    }
}

/// The kind of Helm repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum HelmRepositoryType {
    /// An HTTP/S repository serving an `index.yaml`.
    #[default]
    Default,
    /// An OCI registry holding charts as OCI artifacts; no index is fetched.
    Oci,
}

/// What the source-controller observed and produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepositoryStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `ArtifactInStorage`,
    /// `ArtifactOutdated`, `FetchFailed`, `StorageOperationFailed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// Address where the latest index can be downloaded; `artifact.url` is the exact one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The stored index of the last successful reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(HelmRepositoryStatus);

/// Condition reasons specific to HelmRepository.
pub mod reasons {
    /// Downloading or loading the repository index failed.
    pub const INDEXATION_FAILED: &str = "IndexationFailed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_fields_are_unset() {
        let mut spec = HelmRepositorySpec {
            url: "https://stefanprodan.github.io/podinfo".to_owned(),
            ..Default::default()
        };
        assert_eq!(spec.interval(), "1m");
        assert_eq!(spec.timeout(), "60s");
        assert_eq!(spec.type_(), HelmRepositoryType::Default);
        assert!(!spec.is_oci());
        spec.type_ = Some(HelmRepositoryType::Oci);
        assert!(spec.is_oci());
    }
}
