//! Provider: a destination for events (a chat, an incident tool, a Git forge's commit
//! statuses, a generic webhook...) and how to reach it.

use kube::CustomResource;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::meta::LocalObjectReference;
use crate::schema::{DURATION_PATTERN, TIMEOUT_PATTERN};

/// Timeout of one send when `spec.timeout` is not set.
pub const DEFAULT_PROVIDER_TIMEOUT: &str = "15s";

/// Where events are sent and with which credentials. A Provider has no status: it is
/// read when an Alert forwards an event to it.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "notification.toolkit.fluxcd.io",
    version = "v1beta3",
    kind = "Provider",
    plural = "providers",
    category = "all",
    category = "fluxcd",
    category = "fluxcd-notifications",
    namespaced,
    derive = "PartialEq",
    doc = "Provider is the Schema for the providers API: an endpoint that Alerts send events to.",
    annotation("kustomize.toolkit.fluxcd.io/substitute", "disabled"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)").message("spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types"))]
pub struct ProviderSpec {
    /// The kind of endpoint, which decides the payload format and the meaning of
    /// `address` and `channel`.
    #[serde(rename = "type")]
    pub type_: ProviderType,
    /// Not used in v1beta3; accepted for compatibility with older manifests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = DURATION_PATTERN))]
    pub interval: Option<String>,
    /// Where to post within the endpoint: a chat channel or room, a topic, an environment,
    /// depending on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub channel: Option<String>,
    /// The name events are posted under, where the endpoint supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub username: Option<String>,
    /// The endpoint: an HTTP(S) URL for webhook types, a repository URL for Git forges, a
    /// project ID or a server for others. The `address` key of `secretRef`, when present,
    /// takes precedence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub address: Option<String>,
    /// Timeout of one send; defaults to `15s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = TIMEOUT_PATTERN))]
    pub timeout: Option<String>,
    /// HTTP(S) address of a proxy. Deprecated: use `proxySecretRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^(http|https)://.*$"), length(max = 2048))]
    pub proxy: Option<String>,
    /// Secret with the proxy to use: `address` (required), `username`, `password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret_ref: Option<LocalObjectReference>,
    /// Secret with the credentials: `token`, or `username` and `password`, plus optional
    /// `address`, `headers` and type-specific keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// ServiceAccount whose workload identity authenticates to the cloud endpoint
    /// (`azureeventhub`, `azuredevops`, `googlepubsub`); must not be combined with static
    /// credentials in `secretRef`. Needs the `ObjectLevelWorkloadIdentity` feature gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Secret with TLS material: `ca.crt` to trust the server, `tls.crt` and `tls.key` for
    /// a client certificate, or all three. The keys `caFile`, `certFile` and `keyFile` are
    /// still read but deprecated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_secret_ref: Option<LocalObjectReference>,
    /// Drop events meant for this Provider until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
    /// A CEL expression returning the commit status identifier to use; it sees `event`,
    /// `provider` and `alert`. Only for the commit-status types (`github`, `gitlab`,
    /// `gitea`, `bitbucketserver`, `bitbucket`, `azuredevops`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_status_expr: Option<String>,
}

impl ProviderSpec {
    /// The send timeout, defaulting to [`DEFAULT_PROVIDER_TIMEOUT`].
    pub fn timeout(&self) -> &str {
        self.timeout.as_deref().unwrap_or(DEFAULT_PROVIDER_TIMEOUT)
    }

    /// Whether the Provider is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }
}

/// The kinds of endpoints events can be sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum ProviderType {
    /// Slack (incoming webhook or `chat.postMessage`).
    Slack,
    /// Discord, through its Slack-compatible webhook.
    Discord,
    /// Microsoft Teams.
    MsTeams,
    /// Rocket.Chat.
    Rocket,
    /// Any HTTP endpoint: the event is posted as JSON.
    Generic,
    /// Any HTTP endpoint, with an HMAC signature of the body.
    #[serde(rename = "generic-hmac")]
    GenericHmac,
    /// GitHub commit statuses.
    GitHub,
    /// GitLab commit statuses.
    GitLab,
    /// Gitea commit statuses.
    Gitea,
    /// Comments on Gitea pull requests.
    GiteaPullRequestComment,
    /// Bitbucket Server / Data Center build statuses.
    BitbucketServer,
    /// Bitbucket Cloud build statuses.
    Bitbucket,
    /// Azure DevOps commit statuses.
    AzureDevOps,
    /// Google Chat.
    GoogleChat,
    /// Google Cloud Pub/Sub.
    GooglePubSub,
    /// Webex.
    Webex,
    /// Sentry.
    Sentry,
    /// Azure Event Hubs.
    AzureEventHub,
    /// Telegram.
    Telegram,
    /// Lark.
    Lark,
    /// Matrix.
    Matrix,
    /// Opsgenie.
    Opsgenie,
    /// Prometheus Alertmanager.
    AlertManager,
    /// Grafana annotations.
    Grafana,
    /// GitHub `repository_dispatch` events.
    GitHubDispatch,
    /// Comments on GitHub pull requests.
    GitHubPullRequestComment,
    /// Comments on GitLab merge requests.
    GitLabMergeRequestComment,
    /// PagerDuty.
    PagerDuty,
    /// Datadog events.
    DataDog,
    /// NATS subjects.
    Nats,
    /// Zulip.
    Zulip,
    /// OpenTelemetry traces (OTLP).
    Otel,
    /// Zoom.
    Zoom,
    /// incident.io alert events.
    #[serde(rename = "incident.io")]
    IncidentIo,
}

impl ProviderType {
    /// Every type, in the order of the upstream enum.
    pub const ALL: [ProviderType; 34] = [
        Self::Slack,
        Self::Discord,
        Self::MsTeams,
        Self::Rocket,
        Self::Generic,
        Self::GenericHmac,
        Self::GitHub,
        Self::GitLab,
        Self::Gitea,
        Self::GiteaPullRequestComment,
        Self::BitbucketServer,
        Self::Bitbucket,
        Self::AzureDevOps,
        Self::GoogleChat,
        Self::GooglePubSub,
        Self::Webex,
        Self::Sentry,
        Self::AzureEventHub,
        Self::Telegram,
        Self::Lark,
        Self::Matrix,
        Self::Opsgenie,
        Self::AlertManager,
        Self::Grafana,
        Self::GitHubDispatch,
        Self::GitHubPullRequestComment,
        Self::GitLabMergeRequestComment,
        Self::PagerDuty,
        Self::DataDog,
        Self::Nats,
        Self::Zulip,
        Self::Otel,
        Self::Zoom,
        Self::IncidentIo,
    ];

    /// The type as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Discord => "discord",
            Self::MsTeams => "msteams",
            Self::Rocket => "rocket",
            Self::Generic => "generic",
            Self::GenericHmac => "generic-hmac",
            Self::GitHub => "github",
            Self::GitLab => "gitlab",
            Self::Gitea => "gitea",
            Self::GiteaPullRequestComment => "giteapullrequestcomment",
            Self::BitbucketServer => "bitbucketserver",
            Self::Bitbucket => "bitbucket",
            Self::AzureDevOps => "azuredevops",
            Self::GoogleChat => "googlechat",
            Self::GooglePubSub => "googlepubsub",
            Self::Webex => "webex",
            Self::Sentry => "sentry",
            Self::AzureEventHub => "azureeventhub",
            Self::Telegram => "telegram",
            Self::Lark => "lark",
            Self::Matrix => "matrix",
            Self::Opsgenie => "opsgenie",
            Self::AlertManager => "alertmanager",
            Self::Grafana => "grafana",
            Self::GitHubDispatch => "githubdispatch",
            Self::GitHubPullRequestComment => "githubpullrequestcomment",
            Self::GitLabMergeRequestComment => "gitlabmergerequestcomment",
            Self::PagerDuty => "pagerduty",
            Self::DataDog => "datadog",
            Self::Nats => "nats",
            Self::Zulip => "zulip",
            Self::Otel => "otel",
            Self::Zoom => "zoom",
            Self::IncidentIo => "incident.io",
        }
    }

    /// Whether the type writes commit statuses on a Git forge (the only types that accept
    /// `commitStatusExpr`).
    pub fn is_commit_status(self) -> bool {
        matches!(
            self,
            Self::GitHub
                | Self::GitLab
                | Self::Gitea
                | Self::BitbucketServer
                | Self::Bitbucket
                | Self::AzureDevOps
        )
    }

    /// Whether the type comments on pull or merge requests.
    pub fn is_change_request(self) -> bool {
        matches!(
            self,
            Self::GitHubPullRequestComment
                | Self::GitLabMergeRequestComment
                | Self::GiteaPullRequestComment
        )
    }

    /// Whether `serviceAccountName` (object-level workload identity) applies to the type.
    pub fn supports_workload_identity(self) -> bool {
        matches!(
            self,
            Self::AzureEventHub | Self::AzureDevOps | Self::GooglePubSub
        )
    }
}

impl std::fmt::Display for ProviderType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ProviderType;

    #[test]
    fn as_str_matches_the_serialized_name() {
        for provider in ProviderType::ALL {
            let json = serde_json::to_value(provider).expect("serializes");
            assert_eq!(json, serde_json::Value::from(provider.as_str()));
        }
    }
}
