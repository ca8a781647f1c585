//! AlertProvider: a chat service that receives the alerts of Canaries.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FlaggerCondition;
use crate::meta::LocalObjectReference;

/// The default of `spec.channel`.
pub const DEFAULT_ALERT_CHANNEL: &str = "general";

/// The default of `spec.username`.
pub const DEFAULT_ALERT_USERNAME: &str = "flagger";

/// Where alerts go: the kind of service and its webhook address (given directly or in a
/// Secret, but not both).
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "flagger.app",
    version = "v1beta1",
    kind = "AlertProvider",
    plural = "alertproviders",
    category = "all",
    namespaced,
    status = "AlertProviderStatus",
    derive = "PartialEq",
    doc = "AlertProvider is the Schema for the alertproviders API: a chat service that receives the alerts of Canaries.",
    annotation("helm.sh/resource-policy", "keep"),
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type")
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("oneOf" = [
    {"required": ["type", "address"]},
    {"required": ["type", "secretRef"]}
]))]
pub struct AlertProviderSpec {
    /// Kind of chat service.
    #[serde(rename = "type")]
    pub type_: AlertProviderType,
    /// Channel the alerts are posted to; defaults to `general`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Name the alerts are posted under; defaults to `flagger`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Webhook address of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// HTTP(S) proxy to reach the service through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Secret, in the provider's namespace, with the webhook address under `address`
    /// (overriding `spec.address`) and optionally a bearer `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

impl AlertProviderSpec {
    /// The channel, defaulting to `general`.
    pub fn channel(&self) -> &str {
        self.channel
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(DEFAULT_ALERT_CHANNEL)
    }

    /// The user name, defaulting to `flagger`.
    pub fn username(&self) -> &str {
        self.username
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_ALERT_USERNAME)
    }
}

/// Kinds of chat service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum AlertProviderType {
    /// Slack incoming webhook.
    Slack,
    /// Microsoft Teams webhook.
    Msteams,
    /// Discord webhook (Slack-compatible endpoint).
    Discord,
    /// Rocket.Chat webhook.
    Rocket,
    /// Google Chat webhook.
    Gchat,
}

/// The state of an AlertProvider; Flagger does not write it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct AlertProviderStatus {
    /// Conditions of the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<FlaggerCondition>>,
}
