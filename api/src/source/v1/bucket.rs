//! Bucket: the objects of an S3-compatible, GCS or Azure Blob bucket, packaged as an
//! artifact.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::{Artifact, LocalObjectReference};
use crate::schema::{DURATION_PATTERN, TIMEOUT_PATTERN};

/// Which bucket to read, where, how often, and how to authenticate.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "source.toolkit.fluxcd.io",
    version = "v1",
    kind = "Bucket",
    plural = "buckets",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-sources",
    namespaced,
    status = "BucketStatus",
    derive = "PartialEq",
    doc = "Bucket is the Schema for the buckets API: an object storage bucket whose objects the source-controller downloads and packages as an artifact.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(name = "Endpoint", type_ = "string", json_path = ".spec.endpoint"),
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
#[x_kube(
    validation = Rule::new("self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)").message("STS configuration is only supported for the 'aws' and 'generic' Bucket providers"),
    validation = Rule::new("self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'").message("'aws' is the only supported STS provider for the 'aws' Bucket provider"),
    validation = Rule::new("self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'").message("'ldap' is the only supported STS provider for the 'generic' Bucket provider"),
    validation = Rule::new("!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)").message("spec.sts.secretRef is not required for the 'aws' STS provider"),
    validation = Rule::new("!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)").message("spec.sts.certSecretRef is not required for the 'aws' STS provider"),
    validation = Rule::new("self.provider != 'generic' || !has(self.serviceAccountName)").message("ServiceAccountName is not supported for the 'generic' Bucket provider"),
    validation = Rule::new("!has(self.secretRef) || !has(self.serviceAccountName)").message("cannot set both .spec.secretRef and .spec.serviceAccountName"),
)]
pub struct BucketSpec {
    /// The storage service: `generic` (any S3-compatible API, the default), `aws`, `gcp`
    /// or `azure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "generic"))]
    pub provider: Option<BucketProvider>,
    /// Name of the bucket.
    pub bucket_name: String,
    /// Address of the storage service, e.g. `minio.example.com:9000` or
    /// `s3.amazonaws.com`.
    pub endpoint: String,
    /// A Security Token Service to get temporary credentials from; only with the `aws`
    /// and `generic` providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<BucketSTSSpec>,
    /// Talk to the endpoint over plain HTTP instead of HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// Region of the bucket, for the providers that need one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Only objects whose keys start with this prefix are listed (filtered by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Secret with the credentials: `accesskey` and `secretkey` (generic, aws),
    /// `serviceaccount` (gcp), or the Azure keys (client id and secret or certificate,
    /// `accountKey`, `sasKey`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount whose workload identity authenticates to the bucket; not with the
    /// `generic` provider, nor together with `secretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Secret (type `Opaque` or `kubernetes.io/tls`) with TLS material for the endpoint:
    /// `tls.crt` and `tls.key` for a client certificate, `ca.crt` for a private CA. Only
    /// with the `generic` provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Secret with the proxy to use: `address` (required), `username`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// How often to list the bucket for changes, e.g. `5m`.
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: String,
    /// Timeout of listing and download operations; defaults to `60s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TIMEOUT_PATTERN), extend("default" = "60s"))]
    pub timeout: Option<String>,
    /// Exclusion patterns in `.gitignore` format. When set, they replace the default
    /// exclusions; a `.sourceignore` object in the bucket still applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore: Option<String>,
    /// Stop reconciling this object until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl BucketSpec {
    /// The storage service, `generic` when not set.
    pub fn provider(&self) -> BucketProvider {
        self.provider.unwrap_or_default()
    }

    /// The timeout of bucket operations, `60s` when not set.
    pub fn timeout(&self) -> &str {
        self.timeout.as_deref().unwrap_or("60s")
    }
}

/// The object storage service a Bucket is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum BucketProvider {
    /// Any S3-compatible API (MinIO, Ceph...), with static credentials.
    #[default]
    Generic,
    /// Amazon S3, also with EC2 instance credentials or workload identity.
    Aws,
    /// Google Cloud Storage, also with workload identity.
    Gcp,
    /// Azure Blob Storage, with a service principal, managed identity or shared key.
    Azure,
}

/// A Security Token Service that issues the temporary credentials used to read a Bucket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketSTSSpec {
    /// The kind of service: `aws` (AWS STS, with the `aws` Bucket provider) or `ldap`
    /// (MinIO's LDAP STS, with the `generic` provider).
    pub provider: STSProvider,
    /// HTTP or HTTPS address of the service.
    #[schemars(regex(pattern = r"^(http|https)://.*$"))]
    pub endpoint: String,
    /// Secret with the `username` and `password` to present to the service; only with
    /// the `ldap` provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Secret (type `Opaque` or `kubernetes.io/tls`) with TLS material for the service:
    /// `tls.crt` and `tls.key` for a client certificate, `ca.crt` for a private CA. Only
    /// with the `ldap` provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
}

/// The kind of Security Token Service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum STSProvider {
    /// AWS Security Token Service.
    #[default]
    Aws,
    /// An STS endpoint that authenticates with LDAP credentials (e.g. MinIO).
    Ldap,
}

/// What the source-controller observed and produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`, `ArtifactInStorage`,
    /// `ArtifactOutdated`, `FetchFailed`, `StorageOperationFailed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// Address where the latest artifact can be downloaded; `artifact.url` is the exact one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The artifact of the last successful reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// The exclusion patterns used to build the current artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_ignore: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(BucketStatus);

/// Condition reasons specific to Bucket.
pub mod reasons {
    /// Listing and downloading the bucket's objects succeeded.
    pub const BUCKET_OPERATION_SUCCEEDED: &str = "BucketOperationSucceeded";
    /// Listing or downloading the bucket's objects failed.
    pub const BUCKET_OPERATION_FAILED: &str = "BucketOperationFailed";
}
