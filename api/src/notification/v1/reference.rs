//! The reference to Flux objects used by Alerts (which objects' events to forward) and
//! Receivers (which objects to reconcile when a webhook arrives).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One Flux object, or a set of them when `name` is `*`, in any namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CrossNamespaceObjectReference {
    /// API version of the object, e.g. `source.toolkit.fluxcd.io/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the object.
    pub kind: ReferencedKind,
    /// Name of the object, or `*` for every object of the kind in the namespace (narrowed
    /// by `matchLabels` when set).
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the object; defaults to the namespace of the referring object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
    /// Labels the objects must all carry, with these values; only used when `name` is `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}

impl CrossNamespaceObjectReference {
    /// The namespace of the object, given the namespace of the referring object.
    pub fn namespace_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(default)
    }

    /// Whether the reference names every object of its kind (`name: "*"`).
    pub fn is_wildcard(&self) -> bool {
        self.name == "*"
    }
}

/// The kinds of Flux objects an Alert or a Receiver can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ReferencedKind {
    /// `source.toolkit.fluxcd.io` Bucket.
    Bucket,
    /// `source.toolkit.fluxcd.io` GitRepository.
    GitRepository,
    /// `kustomize.toolkit.fluxcd.io` Kustomization.
    Kustomization,
    /// `helm.toolkit.fluxcd.io` HelmRelease.
    HelmRelease,
    /// `source.toolkit.fluxcd.io` HelmChart.
    HelmChart,
    /// `source.toolkit.fluxcd.io` HelmRepository.
    HelmRepository,
    /// `image.toolkit.fluxcd.io` ImageRepository.
    ImageRepository,
    /// `image.toolkit.fluxcd.io` ImagePolicy.
    ImagePolicy,
    /// `image.toolkit.fluxcd.io` ImageUpdateAutomation.
    ImageUpdateAutomation,
    /// `source.toolkit.fluxcd.io` OCIRepository.
    #[serde(rename = "OCIRepository")]
    OciRepository,
    /// `source.extensions.fluxcd.io` ArtifactGenerator.
    ArtifactGenerator,
    /// `source.toolkit.fluxcd.io` ExternalArtifact.
    ExternalArtifact,
}

impl ReferencedKind {
    /// The kind as written in manifests and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bucket => "Bucket",
            Self::GitRepository => "GitRepository",
            Self::Kustomization => "Kustomization",
            Self::HelmRelease => "HelmRelease",
            Self::HelmChart => "HelmChart",
            Self::HelmRepository => "HelmRepository",
            Self::ImageRepository => "ImageRepository",
            Self::ImagePolicy => "ImagePolicy",
            Self::ImageUpdateAutomation => "ImageUpdateAutomation",
            Self::OciRepository => "OCIRepository",
            Self::ArtifactGenerator => "ArtifactGenerator",
            Self::ExternalArtifact => "ExternalArtifact",
        }
    }

    /// The API version a Receiver uses for a resource of this kind that gives none, as
    /// upstream does; `None` for kinds where the resource must set `apiVersion`.
    pub fn receiver_default_api_version(self) -> Option<&'static str> {
        match self {
            Self::Bucket
            | Self::HelmChart
            | Self::HelmRepository
            | Self::GitRepository
            | Self::OciRepository => Some("source.toolkit.fluxcd.io/v1"),
            Self::ImageRepository => Some("image.toolkit.fluxcd.io/v1"),
            Self::ArtifactGenerator => Some("source.extensions.fluxcd.io/v1beta1"),
            Self::Kustomization
            | Self::HelmRelease
            | Self::ImagePolicy
            | Self::ImageUpdateAutomation
            | Self::ExternalArtifact => None,
        }
    }
}

impl std::fmt::Display for ReferencedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
