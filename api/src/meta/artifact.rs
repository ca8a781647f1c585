//! The artifact a source produces: a tarball served over HTTP with its digest.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A file produced by a source reconcile (for example a tar.gz of a Git checkout) and
/// served over HTTP by the source-controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Path of the file relative to the storage root:
    /// `<kind>/<namespace>/<name>/<file>`.
    pub path: String,
    /// HTTP address of the file, built from the storage server's advertised address.
    pub url: String,
    /// Human-readable identifier of the upstream version, e.g. `main@sha1:<hex>` for Git or
    /// `<tag>@sha256:<hex>` for OCI.
    pub revision: String,
    /// Digest of the file's bytes as `<algorithm>:<hex>`, e.g. `sha256:...`.
    #[schemars(regex(pattern = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"))]
    pub digest: String,
    /// When the artifact was last updated (a new revision or a new file).
    pub last_update_time: Time,
    /// Size of the file in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Upstream metadata, such as the OCI manifest annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
}

impl Artifact {
    /// Whether two artifacts describe the same content: the same revision and digest.
    pub fn has_same_content(&self, other: &Artifact) -> bool {
        self.revision == other.revision && self.digest == other.digest
    }
}
