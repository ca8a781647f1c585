//! ImagePolicy: how to choose the latest image among the tags of an ImageRepository.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::NamespacedObjectReference;
use crate::schema::DURATION_PATTERN;

/// How often the digest is refreshed under `digestReflectionPolicy: Always` when
/// `spec.interval` is not set.
pub const DEFAULT_DIGEST_INTERVAL: &str = "10m";

/// Which repository's tags to consider, which to keep, and how to order them.
#[derive(CustomResource, Debug, Clone, PartialEq, Default, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "image.toolkit.fluxcd.io",
    version = "v1",
    kind = "ImagePolicy",
    plural = "imagepolicies",
    shortname = "imgpol",
    shortname = "imagepol",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-images",
    namespaced,
    status = "ImagePolicyStatus",
    derive = "PartialEq",
    doc = "ImagePolicy is the Schema for the imagepolicies API: a rule electing the latest image among the tags of an ImageRepository.",
    printcolumn(name = "Image", type_ = "string", json_path = ".status.latestRef.name"),
    printcolumn(name = "Tag", type_ = "string", json_path = ".status.latestRef.tag"),
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
#[x_kube(
    validation = Rule::new("!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')").message("spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'"),
    validation = Rule::new("has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'").message("spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'"),
)]
pub struct ImagePolicySpec {
    /// The ImageRepository whose tags are considered; in another namespace only when its
    /// `accessFrom` allows this one.
    pub image_repository_ref: NamespacedObjectReference,
    /// How tags are ordered to elect the latest one.
    pub policy: ImagePolicyChoice,
    /// Which tags take part, and what part of them is compared; all tags when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_tags: Option<TagFilter>,
    /// When to record the digest of the elected image in `status.latestRef.digest`:
    /// `Never` (the default), `IfNotPresent` (once per elected tag) or `Always` (refreshed
    /// every `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "Never"))]
    pub digest_reflection_policy: Option<ReflectionPolicy>,
    /// How often to refresh the digest of the elected tag; only with, and required by,
    /// `digestReflectionPolicy: Always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    /// Stop evaluating the policy until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl ImagePolicySpec {
    /// The digest reflection policy, defaulting to `Never`.
    pub fn digest_reflection_policy(&self) -> ReflectionPolicy {
        self.digest_reflection_policy
            .unwrap_or(ReflectionPolicy::Never)
    }

    /// The period of digest refreshes: `Some` only under `Always`, defaulting to
    /// [`DEFAULT_DIGEST_INTERVAL`]. Other policies are not requeued periodically.
    pub fn interval(&self) -> Option<&str> {
        (self.digest_reflection_policy() == ReflectionPolicy::Always)
            .then(|| self.interval.as_deref().unwrap_or(DEFAULT_DIGEST_INTERVAL))
    }

    /// Whether the ImagePolicy is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }
}

/// When the digest of the elected image is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum ReflectionPolicy {
    /// Look the digest up at every reconcile, overwriting the recorded one.
    Always,
    /// Look the digest up only when none is recorded or the elected image changed.
    IfNotPresent,
    /// Never record a digest.
    Never,
}

/// The ordering used to elect the latest tag. Exactly one of the fields is expected.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ImagePolicyChoice {
    /// Elect the highest tag that is a semantic version within a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<SemVerPolicy>,
    /// Elect the last (or first) tag in alphabetical order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alphabetical: Option<AlphabeticalPolicy>,
    /// Elect the largest (or smallest) tag read as a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerical: Option<NumericalPolicy>,
}

/// Semantic version ordering.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SemVerPolicy {
    /// The version range tags must satisfy, e.g. `>=1.0.0 <2.0.0` or `5.x`; the highest
    /// matching version wins.
    pub range: String,
}

/// Alphabetical ordering.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct AlphabeticalPolicy {
    /// `asc` (the default) elects the last tag in alphabetical order (`Z` over `A`),
    /// `desc` the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "asc"))]
    pub order: Option<SortOrder>,
}

impl AlphabeticalPolicy {
    /// The order, defaulting to ascending.
    pub fn order(&self) -> SortOrder {
        self.order.unwrap_or(SortOrder::Asc)
    }
}

/// Numerical ordering.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct NumericalPolicy {
    /// `asc` (the default) elects the largest number, `desc` the smallest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "asc"))]
    pub order: Option<SortOrder>,
}

impl NumericalPolicy {
    /// The order, defaulting to ascending.
    pub fn order(&self) -> SortOrder {
        self.order.unwrap_or(SortOrder::Asc)
    }
}

/// Sort direction of an alphabetical or numerical policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending: the greatest value is elected.
    Asc,
    /// Descending: the smallest value is elected.
    Desc,
}

/// Which tags are considered, and what part of each is compared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct TagFilter {
    /// A regular expression (Go syntax) tags must match to be considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// A template over the capture groups of `pattern` (`$1`, `$name`, `${name}`) giving
    /// the value that is ordered instead of the whole tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract: Option<String>,
}

/// An image by repository name, tag and optionally digest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ImageRef {
    /// The repository name, as written in the ImageRepository's `spec.image`.
    pub name: String,
    /// The tag.
    pub tag: String,
    /// The manifest digest, e.g. `sha256:...`, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl std::fmt::Display for ImageRef {
    /// `name:tag`, followed by `@digest` when there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)?;
        match self.digest.as_deref() {
            Some(digest) if !digest.is_empty() => write!(f, "@{digest}"),
            _ => Ok(()),
        }
    }
}

/// What the image-reflector-controller elected.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImagePolicyStatus {
    /// The image elected by the policy among the filtered tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_ref: Option<ImageRef>,
    /// The image elected before the current one, kept when `latestRef` changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_previous_ref: Option<ImageRef>,
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(ImagePolicyStatus);

/// Condition reasons specific to ImagePolicy (it also uses the generic
/// `DependencyNotReady` and `AccessDenied` of [`crate::meta::conditions`]).
pub mod reasons {
    /// The policy cannot be applied: an invalid range or regular expression, or no
    /// ordering chosen.
    pub const INVALID_POLICY: &str = "InvalidPolicy";
    /// `digestReflectionPolicy: Always` is set without an interval.
    pub const INTERVAL_NOT_CONFIGURED: &str = "IntervalNotConfigured";
    /// The referenced repository's image name is invalid.
    pub const IMAGE_URL_INVALID: &str = super::super::image_repository::reasons::IMAGE_URL_INVALID;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs_print_with_their_digest_when_known() {
        let mut image = ImageRef {
            name: "ghcr.io/stefanprodan/podinfo".to_owned(),
            tag: "6.5.0".to_owned(),
            digest: None,
        };
        assert_eq!(image.to_string(), "ghcr.io/stefanprodan/podinfo:6.5.0");
        image.digest = Some("sha256:abc".to_owned());
        assert_eq!(
            image.to_string(),
            "ghcr.io/stefanprodan/podinfo:6.5.0@sha256:abc"
        );
    }

    #[test]
    fn the_digest_interval_only_applies_to_always() {
        let mut spec = ImagePolicySpec::default();
        assert_eq!(spec.interval(), None);
        spec.digest_reflection_policy = Some(ReflectionPolicy::Always);
        assert_eq!(spec.interval(), Some("10m"));
        spec.interval = Some("1h".to_owned());
        assert_eq!(spec.interval(), Some("1h"));
        spec.digest_reflection_policy = Some(ReflectionPolicy::IfNotPresent);
        assert_eq!(spec.interval(), None);
    }
}
