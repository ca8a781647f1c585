//! ImageRepository: a container image repository whose tags are scanned periodically.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::meta::{AccessFrom, LocalObjectReference};
use crate::schema::{DURATION_PATTERN, TIMEOUT_PATTERN};

/// The tag exclusions used when `spec.exclusionList` is empty: signature tags.
pub const DEFAULT_EXCLUSION_LIST: &[&str] = &["^.*\\.sig$"];

/// Most patterns `spec.exclusionList` may hold.
pub const MAX_EXCLUSION_LIST_ITEMS: usize = 25;

/// Which repository to scan, how often, and how to authenticate to the registry.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1",
    kind = "ImageRepository",
    plural = "imagerepositories",
    shortname = "imgrepo",
    shortname = "imagerepo",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
    namespaced,
    status = "ImageRepositoryStatus",
    derive = "PartialEq",
    doc = "ImageRepository is the Schema for the imagerepositories API: a container image repository whose tags the image-reflector-controller scans.",
    printcolumn(name = "Image", type_ = "string", json_path = ".spec.image"),
    printcolumn(
        name = "Tags",
        type_ = "string",
        json_path = ".status.lastScanResult.tagCount"
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
    ),
    printcolumn(
        name = "Last scan",
        type_ = "string",
        json_path = ".status.lastScanResult.scanTime",
        priority = 1
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct ImageRepositorySpec {
    /// The image repository, without scheme or tag, e.g. `ghcr.io/fluxcd/flux-cli` or
    /// `alpine` (which means `docker.io/library/alpine`).
    pub image: String,
    /// How long to wait between two scans, e.g. `5m`.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Timeout of a scan, authentication included; defaults to the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TIMEOUT_PATTERN))]
    pub timeout: Option<String>,
    /// Secret with registry credentials, of type `kubernetes.io/dockerconfigjson` (as made
    /// by `kubectl create secret docker-registry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Secret with the proxy to use: `address` (required), `username`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount whose image pull secrets authenticate the scan, or whose workload
    /// identity does with a cloud `provider`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub service_account_name: Option<String>,
    /// Secret with TLS material for the registry: `ca.crt` to trust a private CA,
    /// `tls.crt` and `tls.key` for a client certificate. Of type `Opaque` or
    /// `kubernetes.io/tls`; the keys `caFile`, `certFile` and `keyFile` are deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Stop scanning until set back to false; a scan already running completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// Namespaces, by label, from which ImagePolicies may refer to this repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_from: Option<AccessFrom>,
    /// Regular expressions; tags matching any of them are not stored. Defaults to
    /// `["^.*\\.sig$"]`; at most 25.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = ["^.*\\.sig$"]), length(max = 25))]
    pub exclusion_list: Option<Vec<String>>,
    /// Who provides the registry credentials: `generic` (the default, from `secretRef` or
    /// the ServiceAccount), `aws`, `azure` or `gcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<ImageProvider>,
    /// Talk to the registry over plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

impl ImageRepositorySpec {
    /// The scan timeout: `spec.timeout`, else the interval.
    pub fn timeout(&self) -> &str {
        self.timeout.as_deref().unwrap_or(&self.interval)
    }

    /// The exclusion patterns in force: `spec.exclusionList`, or
    /// [`DEFAULT_EXCLUSION_LIST`] when it is missing or empty.
    pub fn exclusion_list(&self) -> Vec<&str> {
        match self.exclusion_list.as_deref() {
            Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
            _ => DEFAULT_EXCLUSION_LIST.to_vec(),
        }
    }

    /// The credentials provider, defaulting to `generic`.
    pub fn provider(&self) -> ImageProvider {
        self.provider.unwrap_or(ImageProvider::Generic)
    }

    /// Whether the ImageRepository is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }
}

/// Who provides the registry credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum ImageProvider {
    /// `secretRef` or the ServiceAccount's image pull secrets.
    Generic,
    /// Amazon ECR through AWS credentials.
    Aws,
    /// Azure Container Registry through an Azure identity.
    Azure,
    /// Google Artifact Registry / GCR through a GCP identity.
    Gcp,
}

/// What the last successful scan found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScanResult {
    /// A checksum of the stored tag list; it changes when the tags change, and
    /// ImagePolicies are re-evaluated when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// How many tags were stored.
    #[schemars(schema_with = "plain_integer")]
    pub tag_count: i64,
    /// When the scan ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_time: Option<Time>,
    /// A sample of the tags: the first ten in descending alphabetical order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_tags: Option<Vec<String>>,
}

/// An integer without a format, as upstream declares a Go `int`.
fn plain_integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer" })
}

/// What the image-reflector-controller observed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRepositoryStatus {
    /// Conditions: `Ready`, `Reconciling`, `Stalled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The image name with every implied part spelled out, e.g.
    /// `index.docker.io/library/alpine` for `alpine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_image_name: Option<String>,
    /// The outcome of the last scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scan_result: Option<ScanResult>,
    /// The exclusion patterns the last scan applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_exclusion_list: Option<Vec<String>>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(ImageRepositoryStatus);

/// Condition reasons specific to ImageRepository.
pub mod reasons {
    /// `spec.image` is not a valid repository name (a scheme or a tag in it, for example).
    pub const IMAGE_URL_INVALID: &str = "ImageURLInvalid";
    /// The credentials are missing, incomplete or refused.
    pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
    /// Reading from the registry or from the tag store failed.
    pub const READ_OPERATION_FAILED: &str = "ReadOperationFailed";
}
