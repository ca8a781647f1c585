//! Signature verification of OCI artifacts with cosign or notation, used by OCIRepository
//! and HelmChart (charts from OCI Helm repositories).

use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;

/// How an OCIRepository's artifact is verified before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = require_provider)]
pub struct OCIRepositoryVerification {
    /// The signing technology: `cosign` (the default) or `notation`. Required by the schema,
    /// but the API server fills in `cosign` when it is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "cosign"))]
    pub provider: Option<VerificationProvider>,
    /// Secret holding the trusted public keys (cosign) or the trust policy and CA
    /// certificates (notation). Without it, cosign verifies keyless signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// For cosign keyless signatures: the accepted signer identities. The signature is
    /// accepted when any one entry matches.
    #[serde(
        default,
        rename = "matchOIDCIdentity",
        skip_serializing_if = "Option::is_none"
    )]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
    /// Secret with a `trusted_root.json` key: the Sigstore trusted root to verify against,
    /// for self-hosted Fulcio and Rekor instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root_secret_ref: Option<LocalObjectReference>,
}

impl OCIRepositoryVerification {
    /// The signing technology, `cosign` when not set.
    pub fn provider(&self) -> VerificationProvider {
        self.provider.unwrap_or_default()
    }
}

/// How a HelmChart pulled from an OCI Helm repository is verified. The same settings as
/// [`OCIRepositoryVerification`] except the custom Sigstore trusted root, which upstream
/// does not offer for charts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = require_provider)]
pub struct HelmChartVerification {
    /// The signing technology: `cosign` (the default) or `notation`. Required by the schema,
    /// but the API server fills in `cosign` when it is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "cosign"))]
    pub provider: Option<VerificationProvider>,
    /// Secret holding the trusted public keys (cosign) or the trust policy and CA
    /// certificates (notation). Without it, cosign verifies keyless signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// For cosign keyless signatures: the accepted signer identities. The signature is
    /// accepted when any one entry matches.
    #[serde(
        default,
        rename = "matchOIDCIdentity",
        skip_serializing_if = "Option::is_none"
    )]
    pub match_oidc_identity: Option<Vec<OIDCIdentityMatch>>,
}

impl HelmChartVerification {
    /// The signing technology, `cosign` when not set.
    pub fn provider(&self) -> VerificationProvider {
        self.provider.unwrap_or_default()
    }
}

/// The technology an OCI artifact was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum VerificationProvider {
    /// Sigstore cosign, with public keys or keyless (Fulcio certificates).
    #[default]
    Cosign,
    /// Notary Project notation, with a trust policy and CA certificates.
    Notation,
}

/// An accepted identity of a cosign keyless signer: both regular expressions must match
/// the Fulcio certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct OIDCIdentityMatch {
    /// Regular expression (Go RE2 syntax) the OIDC issuer of the certificate must match,
    /// e.g. `^https://token.actions.githubusercontent.com$`.
    pub issuer: String,
    /// Regular expression (Go RE2 syntax) the identity subject of the certificate must
    /// match, e.g. a workflow URL.
    pub subject: String,
}

/// Marks `provider` as required in the schema, as upstream does: it has a default, so the
/// API server supplies it before validation, while the Rust field stays optional so that
/// manifests without it parse and round-trip unchanged.
fn require_provider(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut()
        && let Some(list) = object
            .entry("required")
            .or_insert_with(|| serde_json::Value::Array(Vec::new()))
            .as_array_mut()
        && !list.iter().any(|v| v == "provider")
    {
        list.insert(0, "provider".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(schema: &Schema) -> Vec<String> {
        schema
            .get("required")
            .and_then(|r| r.as_array())
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn provider_is_required_in_the_schema_but_optional_in_rust() {
        let oci = schemars::schema_for!(OCIRepositoryVerification);
        let chart = schemars::schema_for!(HelmChartVerification);
        assert_eq!(required(&oci), ["provider"]);
        assert_eq!(required(&chart), ["provider"]);

        let parsed: OCIRepositoryVerification =
            serde_json::from_str(r#"{"secretRef":{"name":"keys"}}"#).expect("parses");
        assert_eq!(parsed.provider, None);
        assert_eq!(parsed.provider(), VerificationProvider::Cosign);
        let parsed: HelmChartVerification =
            serde_json::from_str(r#"{"provider":"notation"}"#).expect("parses");
        assert_eq!(parsed.provider(), VerificationProvider::Notation);
    }
}
