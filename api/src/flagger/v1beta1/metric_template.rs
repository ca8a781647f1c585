//! MetricTemplate: a custom metric query, run against a metrics provider during a Canary's
//! analysis.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::FlaggerCondition;
use crate::meta::LocalObjectReference;

/// The provider to query and the query itself.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "flagger.app",
    version = "v1beta1",
    kind = "MetricTemplate",
    plural = "metrictemplates",
    category = "all",
    namespaced,
    status = "MetricTemplateStatus",
    derive = "PartialEq",
    doc = "MetricTemplate is the Schema for the metrictemplates API: a query template run against a metrics provider to check a Canary.",
    annotation("helm.sh/resource-policy", "keep"),
    printcolumn(name = "Provider", type_ = "string", json_path = ".spec.provider.type")
)]
#[serde(rename_all = "camelCase")]
pub struct MetricTemplateSpec {
    /// The metrics provider the query runs against.
    pub provider: MetricTemplateProvider,
    /// The query, a Go template. It can use `{{ name }}`, `{{ namespace }}`, `{{ target }}`,
    /// `{{ service }}`, `{{ ingress }}`, `{{ route }}`, `{{ interval }}` and
    /// `{{ variables.<key> }}` (the Canary metric's `templateVariables`). The result must
    /// be a single number.
    pub query: String,
}

/// A metrics provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricTemplateProvider {
    /// Kind of provider.
    #[serde(rename = "type")]
    pub type_: MetricProviderType,
    /// API address of the provider, e.g. `http://prometheus.monitoring:9090`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// HTTP headers sent with every query, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, Vec<String>>>,
    /// Secret, in the template's namespace, with the provider's credentials (for
    /// Prometheus: `token`, or `username` and `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Region of the provider's API (CloudWatch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Skip verification of the provider's TLS certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

impl MetricTemplateProvider {
    /// Whether the provider's TLS certificate is left unverified.
    pub fn insecure_skip_verify(&self) -> bool {
        self.insecure_skip_verify.unwrap_or(false)
    }
}

/// Kinds of metrics provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "lowercase")]
pub enum MetricProviderType {
    /// Prometheus (PromQL).
    Prometheus,
    /// InfluxDB (Flux queries).
    Influxdb,
    /// Datadog.
    Datadog,
    /// The Kubernetes external metrics API.
    Externalmetrics,
    /// Google Cloud Monitoring.
    Stackdriver,
    /// Amazon CloudWatch (metric data queries as JSON).
    Cloudwatch,
    /// New Relic (NRQL).
    Newrelic,
    /// Graphite.
    Graphite,
    /// Dynatrace.
    Dynatrace,
    /// Keptn.
    Keptn,
    /// Splunk Observability.
    Splunk,
}

/// The state of a MetricTemplate; Flagger does not write it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct MetricTemplateStatus {
    /// Conditions of the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<FlaggerCondition>>,
}
