//! Receiver: an HTTP endpoint that, when a trusted webhook arrives, asks Flux objects to
//! reconcile now.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CrossNamespaceObjectReference, ReferencedKind};
use crate::meta::LocalObjectReference;
use crate::schema::DURATION_PATTERN;

/// Every webhook path starts with this prefix, followed by a hex SHA-256 digest.
pub const WEBHOOK_PATH_PREFIX: &str = "/hook/";

/// The token audience a `generic-oidc` provider expects when it names none.
pub const DEFAULT_OIDC_AUDIENCE: &str = "notification-controller";

/// Who sends the webhooks, how they are authenticated, and which objects they trigger.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1",
    kind = "Receiver",
    plural = "receivers",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    namespaced,
    status = "ReceiverStatus",
    derive = "PartialEq",
    doc = "Receiver is the Schema for the receivers API: a webhook endpoint that requests the reconciliation of Flux objects when a verified request arrives.",
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
#[x_kube(
    validation = Rule::new("self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)").message("generic-oidc receivers must define at least one oidcProvider"),
    validation = Rule::new("self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0").message("oidcProviders can only be set when type is generic-oidc"),
    validation = Rule::new("self.type != 'generic-oidc' || !has(self.secretRef)").message("secretRef cannot be set when type is generic-oidc"),
    validation = Rule::new("self.type == 'generic-oidc' || has(self.secretRef)").message("secretRef is required when type is not generic-oidc"),
)]
pub struct ReceiverSpec {
    /// The sender of the webhooks, which decides how requests are verified and how their
    /// payload is read.
    #[serde(rename = "type")]
    pub type_: ReceiverType,
    /// How often to re-read the referenced Secret and refresh the webhook path; defaults
    /// to `10m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN), extend("default" = "10m"))]
    pub interval: Option<String>,
    /// Event types to act on, compared case-insensitively with the sender's event header,
    /// e.g. `push` for GitHub or `Push Hook` for GitLab. Empty accepts every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// The objects to reconcile when a webhook is accepted.
    pub resources: Vec<ReceiverResource>,
    /// A CEL expression returning a boolean, evaluated for every resource before it is
    /// reconciled; `false` skips the resource. It sees the resource metadata as `res`, the
    /// request body as `req`, and for `generic-oidc` the verified token claims as `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_filter: Option<String>,
    /// Secret with the `token` that authenticates requests and seeds the webhook path
    /// (`gcr` also needs `email` and `audience`). Required except for `generic-oidc`,
    /// which must not set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// The OIDC issuers trusted to sign request tokens; only for `generic-oidc`, which
    /// needs at least one. A token is checked against the provider whose issuer matches
    /// its `iss` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend(
        "x-kubernetes-list-type" = "map",
        "x-kubernetes-list-map-keys" = ["issuerURL"]
    ))]
    pub oidc_providers: Option<Vec<OidcProvider>>,
    /// Ignore incoming webhooks until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

impl ReceiverSpec {
    /// The refresh interval, defaulting to `10m`.
    pub fn interval(&self) -> &str {
        self.interval.as_deref().unwrap_or("10m")
    }

    /// Whether the Receiver is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }
}

/// The senders a Receiver understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverType {
    /// Any sender; knowing the webhook path is the only credential.
    Generic,
    /// Any sender signing the body with an HMAC of the token (`X-Signature`).
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    /// Any sender presenting an OIDC bearer token from a trusted issuer.
    #[serde(rename = "generic-oidc")]
    GenericOidc,
    /// GitHub webhooks.
    Github,
    /// GitLab webhooks.
    Gitlab,
    /// Bitbucket Server and Bitbucket Cloud webhooks.
    Bitbucket,
    /// Harbor webhooks.
    Harbor,
    /// Docker Hub webhooks.
    Dockerhub,
    /// Quay webhooks.
    Quay,
    /// Google Container Registry / Artifact Registry notifications through Pub/Sub push.
    Gcr,
    /// Sonatype Nexus webhooks.
    Nexus,
    /// Azure Container Registry webhooks.
    Acr,
    /// CDEvents.
    Cdevents,
}

impl ReceiverType {
    /// The type as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::GenericHmac => "generic-hmac",
            Self::GenericOidc => "generic-oidc",
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Bitbucket => "bitbucket",
            Self::Harbor => "harbor",
            Self::Dockerhub => "dockerhub",
            Self::Quay => "quay",
            Self::Gcr => "gcr",
            Self::Nexus => "nexus",
            Self::Acr => "acr",
            Self::Cdevents => "cdevents",
        }
    }
}

/// An object (or set of objects) to reconcile, with an optional filter of its own.
///
/// Upstream embeds the cross-namespace reference; the fields are spelled out here so that
/// strict parsing still reports unknown fields (serde's `flatten` would swallow them).
/// [`ReceiverResource::reference`] gives the embedded reference back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverResource {
    /// API version of the object; when empty, the usual version of a Flux source or
    /// image kind is used, and other kinds must set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the object.
    pub kind: ReferencedKind,
    /// Name of the object, or `*` for every object of the kind in the namespace (then
    /// `matchLabels` is required).
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the object; defaults to the Receiver's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub namespace: Option<String>,
    /// Labels the objects must all carry, with these values; only used when `name` is `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
    /// A CEL expression returning a boolean, evaluated for each object this entry
    /// matches, in addition to `spec.resourceFilter`; the object is reconciled only when
    /// both are true. Same variables as `spec.resourceFilter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl ReceiverResource {
    /// The object reference without the filter.
    pub fn reference(&self) -> CrossNamespaceObjectReference {
        CrossNamespaceObjectReference {
            api_version: self.api_version.clone(),
            kind: self.kind,
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            match_labels: self.match_labels.clone(),
        }
    }
}

/// An OIDC issuer whose tokens a `generic-oidc` Receiver accepts, and the checks a token's
/// claims must pass.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OidcProvider {
    /// Issuer URL, used for discovery; must equal the token's `iss` claim.
    #[serde(rename = "issuerURL")]
    #[schemars(regex(pattern = r"^https?://"))]
    pub issuer_url: String,
    /// The audience (`aud` claim) tokens must be issued for; defaults to
    /// `notification-controller`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Named CEL expressions, evaluated in order and available to later ones and to the
    /// validations as `vars.<name>`; they see the claims as `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<OidcVariable>>,
    /// CEL expressions that must all be true for a request to be accepted. At least one
    /// is needed: a valid signature alone says nothing about who the caller is, so the
    /// validations should pin the caller's identity claims.
    #[schemars(length(min = 1))]
    pub validations: Vec<OidcValidation>,
}

impl OidcProvider {
    /// The expected audience, defaulting to [`DEFAULT_OIDC_AUDIENCE`].
    pub fn audience(&self) -> &str {
        self.audience.as_deref().unwrap_or(DEFAULT_OIDC_AUDIENCE)
    }
}

/// A named CEL expression over the token claims.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct OidcVariable {
    /// Name of the variable; a valid CEL identifier.
    pub name: String,
    /// CEL expression giving the variable's value.
    pub expression: String,
}

/// A CEL check over the token claims and variables.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct OidcValidation {
    /// CEL expression that must return true.
    pub expression: String,
    /// Message returned to the caller when the expression is false.
    pub message: String,
}

/// What the notification-controller observed, and where the webhook is served.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverStatus {
    /// The last generation the controller acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Conditions: `Ready`, `Reconciling`, `Stalled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::schema::conditions")]
    pub conditions: Option<Vec<Condition>>,
    /// Path of the webhook on the receiver server:
    /// `/hook/<hex sha256 of token + name + namespace>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// The last `reconcile.fluxcd.io/requestedAt` token handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

crate::meta::impl_flux_status!(ReceiverStatus);

/// Condition reasons specific to Receiver.
pub mod reasons {
    /// The webhook path was computed and the Receiver serves requests.
    pub const INITIALIZED: &str = "Initialized";
    /// Part of the spec (a CEL filter, the OIDC settings) is invalid.
    pub const VALIDATION_FAILED: &str = "ValidationFailed";
    /// The Secret or its `token` key is missing.
    pub const TOKEN_NOT_FOUND: &str = "TokenNotFound";
}
