//! Manifests, indexes and descriptors of the OCI image spec (and their Docker v2
//! equivalents), as far as pulling an artifact needs them.

use std::collections::BTreeMap;

use serde::Deserialize;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The `Accept` header of manifest requests: every type above.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";
/// Media type of a Helm chart layer; OCI tags of charts spell semver's `+` as `_`.
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Manifest annotation naming the source the artifact was built from.
pub const SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";
/// Manifest annotation naming the source revision the artifact was built from.
pub const REVISION_ANNOTATION: &str = "org.opencontainers.image.revision";

/// A reference to content: media type, digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the referenced content.
    #[serde(default)]
    pub media_type: String,
    /// `<algorithm>:<hex>` of the content.
    pub digest: String,
    /// Size of the content in bytes.
    pub size: i64,
    /// The platform of an index entry.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Free-form annotations.
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// The platform an index entry is built for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    /// e.g. `amd64`.
    #[serde(default)]
    pub architecture: String,
    /// e.g. `linux`.
    #[serde(default)]
    pub os: String,
    /// e.g. `v8` for arm64.
    #[serde(default)]
    pub variant: Option<String>,
}

/// An image manifest: a config blob, layers, annotations.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: i64,
    /// The manifest's own media type, when written.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Annotations; Flux stores them as the artifact's `metadata`.
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image index (or Docker manifest list): manifests per platform.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: i64,
    /// The entries.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// A manifest as fetched: either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// An image manifest.
    Image(Box<ImageManifest>),
    /// An index or manifest list.
    Index(ImageIndex),
}

/// Parses manifest bytes, using the `Content-Type` the registry sent and, when that is
/// missing or generic, the document's own `mediaType` or shape.
///
/// # Errors
/// A message when the bytes are not a manifest of a supported type.
pub fn parse_manifest(content_type: Option<&str>, bytes: &[u8]) -> Result<Fetched, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
        #[serde(default)]
        schema_version: Option<i64>,
    }
    let probe: Probe =
        serde_json::from_slice(bytes).map_err(|e| format!("failed to parse manifest: {e}"))?;
    let declared = content_type
        .map(|c| c.split(';').next().unwrap_or_default().trim())
        .filter(|c| {
            [
                OCI_MANIFEST,
                OCI_INDEX,
                DOCKER_MANIFEST,
                DOCKER_MANIFEST_LIST,
            ]
            .contains(c)
        })
        .map(str::to_owned)
        .or(probe.media_type);
    let is_index = match declared.as_deref() {
        Some(OCI_INDEX | DOCKER_MANIFEST_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        Some(other) => return Err(format!("unsupported manifest media type {other:?}")),
        None => probe.manifests.is_some(),
    };
    if probe.schema_version != Some(2) {
        return Err(format!(
            "unsupported manifest schema version {}",
            probe
                .schema_version
                .map_or_else(|| "(none)".to_owned(), |v| v.to_string())
        ));
    }
    if is_index {
        serde_json::from_slice(bytes)
            .map(Fetched::Index)
            .map_err(|e| format!("failed to parse image index: {e}"))
    } else {
        serde_json::from_slice(bytes)
            .map(|m| Fetched::Image(Box::new(m)))
            .map_err(|e| format!("failed to parse image manifest: {e}"))
    }
}

impl ImageIndex {
    /// The entry for `linux/amd64`, the platform go-containerregistry picks by default
    /// when an index is pulled as an image.
    ///
    /// # Errors
    /// `no child with platform linux/amd64 in index <reference>`.
    pub fn default_platform(&self, reference: &str) -> Result<&Descriptor, String> {
        self.manifests
            .iter()
            .find(|d| {
                d.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
            })
            .ok_or_else(|| format!("no child with platform linux/amd64 in index {reference}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLUX: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"application/vnd.cncf.flux.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},
        "layers":[{"mediaType":"application/vnd.cncf.flux.content.v1.tar+gzip","digest":"sha256:aa","size":10}],
        "annotations":{"org.opencontainers.image.source":"https://github.com/x/y"}}"#;

    #[test]
    fn flux_manifests_parse_with_their_annotations() {
        let Fetched::Image(manifest) = parse_manifest(Some(OCI_MANIFEST), FLUX.as_bytes()).unwrap()
        else {
            panic!("not an image manifest");
        };
        assert_eq!(manifest.layers.len(), 1);
        assert_eq!(
            manifest.annotations.unwrap()[SOURCE_ANNOTATION],
            "https://github.com/x/y"
        );
    }

    #[test]
    fn indexes_are_recognised_by_type_or_shape() {
        let index = r#"{"schemaVersion":2,"manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,"platform":{"architecture":"arm64","os":"linux"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}"#;
        for content_type in [Some(OCI_INDEX), None, Some("application/json")] {
            let Fetched::Index(index) = parse_manifest(content_type, index.as_bytes()).unwrap()
            else {
                panic!("not an index");
            };
            assert_eq!(index.default_platform("r").unwrap().digest, "sha256:b");
        }
        let arm_only = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
        let Fetched::Index(index) = parse_manifest(None, arm_only.as_bytes()).unwrap() else {
            panic!("not an index");
        };
        assert_eq!(
            index.default_platform("reg/repo:1").unwrap_err(),
            "no child with platform linux/amd64 in index reg/repo:1"
        );
    }

    #[test]
    fn unsupported_documents_are_errors() {
        assert!(parse_manifest(None, b"not json").is_err());
        assert!(parse_manifest(None, br#"{"schemaVersion":1,"config":{}}"#).is_err());
        assert!(
            parse_manifest(
                Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
                br#"{"schemaVersion":1}"#
            )
            .is_err()
        );
    }
}
