//! Canary: the progressive release of a workload. Flagger creates a `-primary` copy of the
//! target that serves production traffic, then, for each new revision of the target, shifts
//! traffic to it step by step (or runs A/B and Blue/Green iterations) while metrics and
//! webhooks pass, and finally promotes it or rolls it back.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::gateway_api::{HttpRequestMirrorFilter, ParentReference};
use super::istio::{CorsPolicy, Headers, HttpMatchRequest, HttpRetry, StringMatch, TrafficPolicy};
use super::schemas;
use super::{FlaggerCondition, set_flagger_condition};
use crate::meta::{ConditionStatus, NamespacedObjectReference};
use crate::schema::FLAGGER_DURATION_PATTERN;

pub use crate::meta::FLAGGER_FINALIZER;

/// The condition type a Canary reports: whether the last revision was promoted.
pub const PROMOTED_CONDITION: &str = "Promoted";

/// Annotation on ConfigMaps and Secrets: a value starting with `disable` keeps them out of
/// config tracking (no `-primary` copy, no new analysis when they change).
pub const CONFIG_TRACKING_ANNOTATION: &str = "flagger.app/config-tracking";

/// Annotation on Knative Services: the revision that serves as the primary.
pub const PRIMARY_REVISION_ANNOTATION: &str = "flagger.app/primary-revision";

/// Node selector key set to `"true"` on a DaemonSet target to scale it to zero.
pub const SCALE_TO_ZERO_NODE_SELECTOR: &str = "flagger.app/scale-to-zero";

/// Pod template annotation holding a random id, renewed on each promotion to force a
/// rollout of the primary.
pub const POD_ID_ANNOTATION: &str = "flagger-id";

/// Annotation on routing objects Flagger took over: their spec before Flagger changed it,
/// restored when a Canary with `revertOnDeletion` is deleted.
pub const ORIGINAL_CONFIGURATION_ANNOTATION: &str = "flagger.kubernetes.io/original-configuration";

/// The default of `spec.progressDeadlineSeconds`.
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;

/// The analysis interval used when `spec.analysis.interval` cannot be parsed.
pub const DEFAULT_ANALYSIS_INTERVAL: Duration = Duration::from_secs(60);

/// The shortest analysis interval; shorter ones are raised to it.
pub const MIN_ANALYSIS_INTERVAL: Duration = Duration::from_secs(10);

/// The default of the metric `interval`, the window of metric queries.
pub const DEFAULT_METRIC_INTERVAL: &str = "1m";

/// The default of the webhook `timeout`.
pub const DEFAULT_WEBHOOK_TIMEOUT: &str = "10s";

/// The default of `sessionAffinity.maxAge`: one day, in seconds.
pub const DEFAULT_COOKIE_MAX_AGE: i32 = 86_400;

/// The workload to release, how traffic reaches it, and how each new revision is analysed.
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "flagger.app",
    version = "v1beta1",
    kind = "Canary",
    plural = "canaries",
    category = "all",
    namespaced,
    status = "CanaryStatus",
    derive = "PartialEq",
    doc = "Canary is the Schema for the canaries API: the progressive release of a Deployment, DaemonSet or Service, with traffic shifting, metric analysis, webhooks, and promotion or rollback.",
    annotation("helm.sh/resource-policy", "keep"),
    printcolumn(name = "Status", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Weight", type_ = "string", json_path = ".status.canaryWeight"),
    printcolumn(
        name = "Suspended",
        type_ = "boolean",
        json_path = ".spec.suspend",
        priority = 1
    ),
    printcolumn(
        name = "FailedChecks",
        type_ = "string",
        json_path = ".status.failedChecks",
        priority = 1
    ),
    printcolumn(
        name = "Interval",
        type_ = "string",
        json_path = ".spec.analysis.interval",
        priority = 1
    ),
    printcolumn(
        name = "Mirror",
        type_ = "boolean",
        json_path = ".spec.analysis.mirror",
        priority = 1
    ),
    printcolumn(
        name = "StepWeight",
        type_ = "string",
        json_path = ".spec.analysis.stepWeight",
        priority = 1
    ),
    printcolumn(
        name = "StepWeights",
        type_ = "string",
        json_path = ".spec.analysis.stepWeights",
        priority = 1
    ),
    printcolumn(
        name = "MaxWeight",
        type_ = "string",
        json_path = ".spec.analysis.maxWeight",
        priority = 1
    ),
    printcolumn(
        name = "LastTransitionTime",
        type_ = "string",
        json_path = ".status.lastTransitionTime"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct CanarySpec {
    /// The traffic management provider for this Canary, overriding Flagger's
    /// `-mesh-provider` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<MeshProvider>,
    /// Address of the Prometheus server that answers the built-in metrics and inline
    /// queries of this Canary, overriding Flagger's `-metrics-server` flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_server: Option<String>,
    /// The workload to release: a Deployment, a DaemonSet, or a Service (a Knative Service
    /// with `apiVersion: serving.knative.dev/v1`).
    pub target_ref: TargetReference,
    /// The autoscaler of the target, copied as `<name>-primary` for the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler_ref: Option<AutoscalerReference>,
    /// The Ingress whose canary twin carries the test traffic (`nginx` and `skipper`
    /// providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_ref: Option<IngressReference>,
    /// The ApisixRoute whose canary twin carries the test traffic (`apisix` provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_ref: Option<RouteReference>,
    /// A Gloo Upstream whose settings are copied into the Upstreams Flagger generates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_ref: Option<UpstreamReference>,
    /// The Services Flagger generates and how the provider routes traffic to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<CanaryService>,
    /// How each new revision is analysed and how traffic moves to it.
    pub analysis: CanaryAnalysis,
    /// Former name of `analysis`, deprecated. Accepted when reading manifests, but, as in
    /// upstream's CRD, not part of the schema, so the API server drops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub canary_analysis: Option<CanaryAnalysis>,
    /// Seconds the primary or the canary may take to become ready before the release is
    /// considered failed; defaults to 600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub progress_deadline_seconds: Option<i32>,
    /// Promote new revisions without analysing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_analysis: Option<bool>,
    /// When the Canary is deleted, give the target and the routing objects back their
    /// original state (Flagger adds a finalizer for this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revert_on_deletion: Option<bool>,
    /// Pause the Canary: no analysis runs, and a release under way stays where it is
    /// until set back to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend: Option<bool>,
}

/// The traffic management provider that routes traffic between primary and canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum MeshProvider {
    /// Apache APISIX ingress (needs `routeRef`).
    #[serde(rename = "apisix")]
    Apisix,
    /// AWS App Mesh, `appmesh.k8s.aws/v1beta1`.
    #[serde(rename = "appmesh")]
    AppMesh,
    /// AWS App Mesh, `appmesh.k8s.aws/v1beta2`.
    #[serde(rename = "appmesh:v1beta2")]
    AppMeshV1beta2,
    /// Contour HTTPProxy.
    #[serde(rename = "contour")]
    Contour,
    /// Gateway API HTTPRoute, `gateway.networking.k8s.io/v1`.
    #[serde(rename = "gatewayapi:v1")]
    GatewayApiV1,
    /// Gateway API HTTPRoute, `gateway.networking.k8s.io/v1beta1`.
    #[serde(rename = "gatewayapi:v1beta1")]
    GatewayApiV1beta1,
    /// Gloo Edge RouteTable.
    #[serde(rename = "gloo")]
    Gloo,
    /// Istio VirtualService and DestinationRules.
    #[serde(rename = "istio")]
    Istio,
    /// Knative Serving revisions.
    #[serde(rename = "knative")]
    Knative,
    /// Plain Kubernetes Services, without traffic shifting (Blue/Green only).
    #[serde(rename = "kubernetes")]
    Kubernetes,
    /// Kuma TrafficRoute.
    #[serde(rename = "kuma")]
    Kuma,
    /// Linkerd through an SMI TrafficSplit.
    #[serde(rename = "linkerd")]
    Linkerd,
    /// NGINX ingress canary annotations (needs `ingressRef`).
    #[serde(rename = "nginx")]
    Nginx,
    /// Open Service Mesh through an SMI TrafficSplit.
    #[serde(rename = "osm")]
    Osm,
    /// Skipper ingress (needs `ingressRef`).
    #[serde(rename = "skipper")]
    Skipper,
    /// SMI TrafficSplit, `split.smi-spec.io/v1alpha1`.
    #[serde(rename = "smi:v1alpha1")]
    SmiV1alpha1,
    /// SMI TrafficSplit, `split.smi-spec.io/v1alpha2`.
    #[serde(rename = "smi:v1alpha2")]
    SmiV1alpha2,
    /// SMI TrafficSplit, `split.smi-spec.io/v1alpha3`.
    #[serde(rename = "smi:v1alpha3")]
    SmiV1alpha3,
    /// Traefik TraefikService.
    #[serde(rename = "traefik")]
    Traefik,
}

impl MeshProvider {
    /// Every provider with its spelling, in schema order.
    pub const ALL: [(MeshProvider, &'static str); 19] = [
        (MeshProvider::Apisix, "apisix"),
        (MeshProvider::AppMesh, "appmesh"),
        (MeshProvider::AppMeshV1beta2, "appmesh:v1beta2"),
        (MeshProvider::Contour, "contour"),
        (MeshProvider::GatewayApiV1, "gatewayapi:v1"),
        (MeshProvider::GatewayApiV1beta1, "gatewayapi:v1beta1"),
        (MeshProvider::Gloo, "gloo"),
        (MeshProvider::Istio, "istio"),
        (MeshProvider::Knative, "knative"),
        (MeshProvider::Kubernetes, "kubernetes"),
        (MeshProvider::Kuma, "kuma"),
        (MeshProvider::Linkerd, "linkerd"),
        (MeshProvider::Nginx, "nginx"),
        (MeshProvider::Osm, "osm"),
        (MeshProvider::Skipper, "skipper"),
        (MeshProvider::SmiV1alpha1, "smi:v1alpha1"),
        (MeshProvider::SmiV1alpha2, "smi:v1alpha2"),
        (MeshProvider::SmiV1alpha3, "smi:v1alpha3"),
        (MeshProvider::Traefik, "traefik"),
    ];

    /// The spelling used in `spec.provider` and in the `-mesh-provider` flag.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(provider, _)| *provider == self)
            .map_or("", |(_, name)| name)
    }

    /// The provider spelled `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, spelling)| *spelling == name)
            .map(|(provider, _)| *provider)
    }
}

/// The workload under release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetReference {
    /// API version of the target, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind of the target.
    pub kind: TargetKind,
    /// Name of the target, in the Canary's namespace.
    pub name: String,
}

impl TargetReference {
    /// Whether the target is a Knative Service rather than a Kubernetes Service.
    pub fn is_knative_service(&self) -> bool {
        self.kind == TargetKind::Service && self.api_version == "serving.knative.dev/v1"
    }
}

/// Kinds of workload a Canary can release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum TargetKind {
    /// An `apps/v1` DaemonSet.
    DaemonSet,
    /// An `apps/v1` Deployment.
    Deployment,
    /// A Kubernetes Service, or a Knative Service.
    Service,
}

/// The autoscaler of the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerReference {
    /// API version of the autoscaler, e.g. `autoscaling/v2` or `keda.sh/v1alpha1`.
    pub api_version: String,
    /// Kind of the autoscaler.
    pub kind: AutoscalerKind,
    /// Name of the autoscaler, in the Canary's namespace.
    pub name: String,
    /// Queries for the primary's copy of the autoscaler, by trigger name, replacing the
    /// target's (for scalers driven by queries, such as KEDA's Prometheus trigger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_scaler_queries: Option<BTreeMap<String, String>>,
    /// Replica bounds for the primary's copy of the autoscaler, replacing the target's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_scaler_replicas: Option<ScalerReplicas>,
}

/// Kinds of autoscaler Flagger can copy for the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum AutoscalerKind {
    /// A Kubernetes HorizontalPodAutoscaler.
    HorizontalPodAutoscaler,
    /// A KEDA ScaledObject.
    ScaledObject,
}

/// Replica bounds of an autoscaler.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScalerReplicas {
    /// Fewest replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::integer", range(min = 1))]
    pub min_replicas: Option<i32>,
    /// Most replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::integer", range(min = 1))]
    pub max_replicas: Option<i32>,
}

/// An Ingress in the Canary's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressReference {
    /// API version of the Ingress, e.g. `networking.k8s.io/v1`.
    pub api_version: String,
    /// `Ingress`.
    #[schemars(extend("enum" = ["Ingress"]))]
    pub kind: String,
    /// Name of the Ingress.
    pub name: String,
}

/// An ApisixRoute in the Canary's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteReference {
    /// API version of the route, e.g. `apisix.apache.org/v2`.
    pub api_version: String,
    /// `ApisixRoute`.
    #[schemars(extend("enum" = ["ApisixRoute"]))]
    pub kind: String,
    /// Name of the route.
    pub name: String,
}

/// A Gloo Upstream, optionally in another namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamReference {
    /// API version of the Upstream, e.g. `gloo.solo.io/v1`.
    pub api_version: String,
    /// `Upstream`.
    #[schemars(extend("enum" = ["Upstream"]))]
    pub kind: String,
    /// Name of the Upstream.
    pub name: String,
    /// Namespace of the Upstream; the Canary's namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The Services Flagger generates (`<name>`, `<name>-primary`, `<name>-canary`) and the
/// routing the provider applies to them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryService {
    /// Name of the apex Service; defaults to the target's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Port the Services expose.
    #[schemars(schema_with = "schemas::number")]
    pub port: i32,
    /// Name of that port; defaults to `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_name: Option<String>,
    /// Application protocol of that port, e.g. `http`, `grpc` or `tcp`; with Istio, `tcp`
    /// switches to TCP routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    /// How the Services prefer nearby endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_distribution: Option<TrafficDistribution>,
    /// Container port number or name the Services send traffic to; defaults to `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// Also expose every other container port of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port_discovery: Option<bool>,
    /// Generate headless Services (`clusterIP: None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headless: Option<bool>,
    /// Timeout of HTTP and gRPC requests, e.g. `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Timeout of each request from the gateway to a backend (Gateway API only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_timeout: Option<String>,
    /// App Mesh: the mesh of the generated virtual nodes and virtual service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh_name: Option<String>,
    /// App Mesh: the virtual services the generated virtual nodes may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<String>>,
    /// Host names routed to the Services (Istio VirtualService hosts, Gateway API
    /// hostnames); the apex name is always included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    /// Istio: generate a delegate VirtualService, without hosts and gateways.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<bool>,
    /// Conditions requests must meet to be routed, applied to every generated route.
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<HttpMatchRequest>>,
    /// Retries of failed requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<HttpRetry>,
    /// Rewrite of the request path and authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<HttpRewrite>,
    /// Gateway API: backends that receive a copy of every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<Vec<HttpRequestMirrorFilter>>,
    /// Header operations on requests and responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
    /// Istio: the gateways the VirtualService is bound to; `mesh` (the sidecars) when
    /// unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
    /// Gateway API: the Gateways (or Services) the generated HTTPRoute attaches to;
    /// required with that provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub gateway_refs: Option<Vec<ParentReference>>,
    /// Cross-Origin Resource Sharing policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors_policy: Option<CorsPolicy>,
    /// Istio: the traffic policy of the generated DestinationRules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_policy: Option<TrafficPolicy>,
    /// Labels and annotations of the apex Service (and of the routing object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apex: Option<CustomMetadata>,
    /// Labels and annotations of the primary Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<CustomMetadata>,
    /// Labels and annotations of the canary Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CustomMetadata>,
    /// Label and annotation keys on the generated Services that Flagger never adds,
    /// changes or removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmanaged_metadata: Option<UnmanagedMetadata>,
}

impl CanaryService {
    /// The port name, defaulting to `http`.
    pub fn port_name(&self) -> &str {
        self.port_name.as_deref().unwrap_or("http")
    }

    /// The target port, defaulting to `port`.
    pub fn target_port(&self) -> IntOrString {
        self.target_port
            .clone()
            .unwrap_or(IntOrString::Int(self.port))
    }
}

/// How a Service prefers nearby endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum TrafficDistribution {
    /// Endpoints topologically close to the client.
    PreferClose,
    /// Endpoints in the client's zone.
    PreferSameZone,
    /// Endpoints on the client's node.
    PreferSameNode,
}

/// A rewrite of the request before it is forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct HttpRewrite {
    /// The new path, or the new prefix when the route matched a prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The new authority (`Host` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Gateway API: `ReplacePrefixMatch` replaces only the matched prefix; anything else
    /// replaces the full path.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
}

impl HttpRewrite {
    /// The Gateway API path modifier: `ReplacePrefixMatch` when set so, else
    /// `ReplaceFullPath`.
    pub fn path_modifier(&self) -> &'static str {
        match self.type_.as_deref() {
            Some("ReplacePrefixMatch") => "ReplacePrefixMatch",
            _ => "ReplaceFullPath",
        }
    }
}

/// Labels and annotations to set on a generated object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CustomMetadata {
    /// Labels to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Annotations to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Metadata keys Flagger leaves alone on the objects it generates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct UnmanagedMetadata {
    /// Annotation keys left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<String>>,
    /// Label keys left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

/// How a new revision is analysed. Exactly one of `iterations` (A/B testing and
/// Blue/Green), `stepWeight` or `stepWeights` (progressive traffic shifting) is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("oneOf" = [
    {"required": ["interval", "threshold", "iterations"]},
    {"required": ["interval", "threshold", "stepWeight"]},
    {"required": ["interval", "threshold", "stepWeights"]}
]))]
pub struct CanaryAnalysis {
    /// How often the analysis runs, e.g. `1m`; at least 10s.
    #[schemars(regex(pattern = FLAGGER_DURATION_PATTERN))]
    pub interval: String,
    /// Number of analysis runs for A/B testing and Blue/Green.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub iterations: Option<i32>,
    /// Mirror the traffic to the canary before shifting any (Istio, Gateway API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<bool>,
    /// Percentage (0 to 100) of the traffic mirrored; all of it when unset or 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub mirror_weight: Option<i32>,
    /// Canary weight at which promotion starts; 100 when unset, ignored with `stepWeights`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub max_weight: Option<i32>,
    /// Percentage of traffic added to the canary at each successful run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub step_weight: Option<i32>,
    /// Successive canary weights, e.g. `[1, 5, 10, 50]`; the last one is the weight at which
    /// promotion starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number_array")]
    pub step_weights: Option<Vec<i32>>,
    /// Percentage of traffic moved back to the primary at each run while promoting; all at
    /// once when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub step_weight_promotion: Option<i32>,
    /// Failed checks after which the release is rolled back; at least 1.
    #[schemars(schema_with = "schemas::number")]
    pub threshold: i32,
    /// Percentage of the primary's pods that must be available for it to count as ready;
    /// defaults to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub primary_ready_threshold: Option<i32>,
    /// Percentage of the canary's pods that must be available for it to count as ready;
    /// defaults to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub canary_ready_threshold: Option<i32>,
    /// Alerts sent to AlertProviders about this Canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<CanaryAlert>>,
    /// Metrics checked at each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<CanaryMetric>>,
    /// Webhooks called during the release: gates, tests, load generators, notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Vec<CanaryWebhook>>,
    /// A/B testing: the requests routed to the canary (matching any of the entries).
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<Vec<AnalysisMatch>>,
    /// Keep users on the version they first reached during the release, with cookies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<SessionAffinity>,
}

/// The release strategy an analysis describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeploymentStrategy {
    /// Progressive traffic shifting by weight.
    Canary,
    /// A fixed number of runs with all test traffic on the canary, then promotion.
    BlueGreen,
    /// A fixed number of runs with the matching requests on the canary, then promotion.
    AbTesting,
}

impl DeploymentStrategy {
    /// The name Flagger uses in metrics and events: `canary`, `blue-green`, `ab-testing`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStrategy::Canary => "canary",
            DeploymentStrategy::BlueGreen => "blue-green",
            DeploymentStrategy::AbTesting => "ab-testing",
        }
    }
}

/// The total traffic weight shared by primary and canary.
const TOTAL_WEIGHT: i32 = 100;

impl CanaryAnalysis {
    /// The analysis period: `interval` parsed as a Go duration, 60s when it cannot be
    /// parsed, raised to 10s when shorter.
    pub fn interval(&self) -> Duration {
        crate::meta::parse_duration(&self.interval)
            .unwrap_or(DEFAULT_ANALYSIS_INTERVAL)
            .max(MIN_ANALYSIS_INTERVAL)
    }

    /// The failed checks that trigger a rollback: `threshold`, or 1 when not positive.
    pub fn threshold(&self) -> i32 {
        if self.threshold > 0 {
            self.threshold
        } else {
            1
        }
    }

    /// The number of A/B or Blue/Green runs; 0 for progressive traffic shifting.
    pub fn iterations(&self) -> i32 {
        self.iterations.unwrap_or(0)
    }

    /// Whether traffic is mirrored to the canary first.
    pub fn mirror(&self) -> bool {
        self.mirror.unwrap_or(false)
    }

    /// The linear weight step, 0 when unset.
    pub fn step_weight(&self) -> i32 {
        self.step_weight.unwrap_or(0)
    }

    /// The promotion step, 0 (all at once) when unset.
    pub fn step_weight_promotion(&self) -> i32 {
        self.step_weight_promotion.unwrap_or(0)
    }

    /// The readiness threshold of the primary, in percent (default 100).
    pub fn primary_ready_threshold(&self) -> i32 {
        self.primary_ready_threshold.unwrap_or(100)
    }

    /// The readiness threshold of the canary, in percent (default 100).
    pub fn canary_ready_threshold(&self) -> i32 {
        self.canary_ready_threshold.unwrap_or(100)
    }

    /// The canary weight at which promotion starts: the last of `stepWeights` (at most
    /// 100) when set, else `maxWeight` when positive, else 100.
    pub fn max_weight(&self) -> i32 {
        match self.step_weights.as_deref() {
            Some([.., last]) => TOTAL_WEIGHT.min(*last),
            _ => match self.max_weight {
                Some(weight) if weight > 0 => weight,
                _ => TOTAL_WEIGHT,
            },
        }
    }

    /// The weight to add to the canary when it is at `canary_weight`: `stepWeight` when
    /// positive or when there are no `stepWeights`; otherwise the distance to the next of
    /// `stepWeights`, never beyond 100 (and 1 at 100, so that promotion starts).
    pub fn next_step_weight(&self, canary_weight: i32) -> i32 {
        let steps = self.step_weights.as_deref().unwrap_or_default();
        if self.step_weight() > 0 || steps.is_empty() {
            return self.step_weight();
        }
        let max_step = TOTAL_WEIGHT - canary_weight;
        if max_step == 0 {
            return 1;
        }
        if canary_weight == 0 {
            return max_step.min(steps[0]);
        }
        steps
            .windows(2)
            .find(|pair| pair[0] == canary_weight)
            .map_or(max_step, |pair| max_step.min(pair[1] - canary_weight))
    }

    /// The strategy: A/B testing with match conditions and iterations, Blue/Green with
    /// iterations only, progressive traffic shifting otherwise.
    pub fn strategy(&self) -> DeploymentStrategy {
        let has_match = self.matches.as_ref().is_some_and(|m| !m.is_empty());
        match (has_match, self.iterations() > 0) {
            (true, true) => DeploymentStrategy::AbTesting,
            (false, true) => DeploymentStrategy::BlueGreen,
            _ => DeploymentStrategy::Canary,
        }
    }
}

/// A/B testing conditions: requests matching all the fields set go to the canary.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisMatch {
    /// Match on request headers (cookies included, through the `cookie` header), by
    /// lower-case header name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, HeaderMatch>>,
    /// Match on query parameters, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_params: Option<BTreeMap<String, StringMatch>>,
    /// Only requests from workloads with these labels match; only applies when the `mesh`
    /// gateway is among `service.gateways`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_labels: Option<BTreeMap<String, String>>,
}

/// How a header value must match in A/B testing: exactly one of the fields is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("oneOf" = [
    {"required": ["exact"]},
    {"required": ["prefix"]},
    {"required": ["suffix"]},
    {"required": ["regex"]}
]))]
pub struct HeaderMatch {
    /// The whole value must equal this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    /// The value must start with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The value must end with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// The value must match this RE2 regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// A metric checked at each analysis run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryMetric {
    /// Name of the metric; `request-success-rate` and `request-duration` are built in
    /// when there is neither `templateRef` nor `query`.
    pub name: String,
    /// Time window of the query, e.g. `1m` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = FLAGGER_DURATION_PATTERN))]
    pub interval: Option<String>,
    /// Deprecated in favour of `thresholdRange`: the lowest accepted value for
    /// `request-success-rate`, the highest for any other metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub threshold: Option<serde_json::Number>,
    /// The accepted range of values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_range: Option<CanaryThresholdRange>,
    /// Deprecated in favour of `templateRef`: a PromQL query run against the Canary's
    /// metrics server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The MetricTemplate that defines the query; in the Canary's namespace unless given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<NamespacedObjectReference>,
    /// Values available to the template's query as `variables.<key>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_variables: Option<BTreeMap<String, String>>,
}

impl CanaryMetric {
    /// The query window, defaulting to `1m`.
    pub fn interval(&self) -> &str {
        self.interval.as_deref().unwrap_or(DEFAULT_METRIC_INTERVAL)
    }

    /// The deprecated `threshold` as a float.
    pub fn threshold(&self) -> Option<f64> {
        self.threshold.as_ref().and_then(serde_json::Number::as_f64)
    }
}

/// The accepted range of a metric; an unset bound is open. The bounds keep the number as
/// written (`99` stays an integer, `0.5` a float).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CanaryThresholdRange {
    /// Lowest accepted value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub min: Option<serde_json::Number>,
    /// Highest accepted value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub max: Option<serde_json::Number>,
}

impl CanaryThresholdRange {
    /// The lower bound as a float.
    pub fn min(&self) -> Option<f64> {
        self.min.as_ref().and_then(serde_json::Number::as_f64)
    }

    /// The upper bound as a float.
    pub fn max(&self) -> Option<f64> {
        self.max.as_ref().and_then(serde_json::Number::as_f64)
    }

    /// Whether `value` lies within the range (bounds included).
    pub fn contains(&self, value: f64) -> bool {
        self.min().is_none_or(|min| value >= min) && self.max().is_none_or(|max| value <= max)
    }
}

/// An alert about this Canary, sent through an AlertProvider.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryAlert {
    /// Name of the alert.
    pub name: String,
    /// The least severe events sent: `info` (the default, everything), `warn` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<AlertSeverity>,
    /// The AlertProvider; in the Canary's namespace unless given.
    pub provider_ref: NamespacedObjectReference,
}

impl CanaryAlert {
    /// The severity, `info` when unset or empty (as documented; Flagger itself sends
    /// nothing to an alert whose severity is empty).
    pub fn severity(&self) -> AlertSeverity {
        match self.severity {
            None | Some(AlertSeverity::Unset) => AlertSeverity::Info,
            Some(severity) => severity,
        }
    }

    /// Whether an event of severity `event` is sent to this alert: `info` alerts get every
    /// event, `warn` alerts get warnings and errors, `error` alerts get errors only.
    pub fn receives(&self, event: AlertSeverity) -> bool {
        match self.severity() {
            AlertSeverity::Warn => matches!(event, AlertSeverity::Warn | AlertSeverity::Error),
            AlertSeverity::Error => event == AlertSeverity::Error,
            AlertSeverity::Info | AlertSeverity::Unset => true,
        }
    }
}

/// Severity of an event, and the least severe events an alert receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum AlertSeverity {
    /// Empty: the same as `info`.
    #[serde(rename = "")]
    Unset,
    /// Informational events and above.
    #[serde(rename = "info")]
    Info,
    /// Warnings and errors.
    #[serde(rename = "warn")]
    Warn,
    /// Errors only.
    #[serde(rename = "error")]
    Error,
}

/// A webhook called during the release.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryWebhook {
    /// When the webhook is called, and what its answer means; `rollout` when empty.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<WebhookType>,
    /// Name of the webhook.
    pub name: String,
    /// Address the webhook payload is POSTed to.
    #[schemars(extend("format" = "url"))]
    pub url: String,
    /// Send no alerts about this webhook (gates waiting for approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute_alert: Option<bool>,
    /// Timeout of the call, e.g. `30s`; defaults to 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = FLAGGER_DURATION_PATTERN))]
    pub timeout: Option<String>,
    /// Key-value pairs sent in the payload's `metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// How many times a failed call is retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub retries: Option<i32>,
    /// Skip verification of the webhook's TLS certificate.
    #[serde(
        default,
        rename = "disableTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_tls: Option<bool>,
}

impl CanaryWebhook {
    /// The webhook type, `rollout` when unset or empty.
    pub fn hook_type(&self) -> WebhookType {
        match self.type_ {
            None | Some(WebhookType::Unset) => WebhookType::Rollout,
            Some(hook_type) => hook_type,
        }
    }

    /// The call timeout, defaulting to `10s`.
    pub fn timeout(&self) -> &str {
        self.timeout.as_deref().unwrap_or(DEFAULT_WEBHOOK_TIMEOUT)
    }
}

/// When a webhook is called, and what its answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookType {
    /// Empty: the same as `rollout`.
    #[serde(rename = "")]
    Unset,
    /// A gate before a new revision is scaled up: the release waits until it succeeds.
    ConfirmRollout,
    /// Before traffic reaches the canary; a failure counts as a failed check.
    PreRollout,
    /// At each analysis run, like a metric; a failure counts as a failed check.
    Rollout,
    /// A gate before promotion: the release waits until it succeeds.
    ConfirmPromotion,
    /// After the release succeeded or failed, for information.
    PostRollout,
    /// Receives every event Flagger emits about the Canary.
    Event,
    /// Polled during the analysis: success rolls the release back.
    Rollback,
    /// A gate before each increase of the canary weight.
    ConfirmTrafficIncrease,
}

impl WebhookType {
    /// The spelling in `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookType::Unset => "",
            WebhookType::ConfirmRollout => "confirm-rollout",
            WebhookType::PreRollout => "pre-rollout",
            WebhookType::Rollout => "rollout",
            WebhookType::ConfirmPromotion => "confirm-promotion",
            WebhookType::PostRollout => "post-rollout",
            WebhookType::Event => "event",
            WebhookType::Rollback => "rollback",
            WebhookType::ConfirmTrafficIncrease => "confirm-traffic-increase",
        }
    }
}

/// Cookie-based session affinity: once routed to the canary, a client stays there.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAffinity {
    /// Name of the cookie that pins a client to the canary.
    pub cookie_name: String,
    /// Name of the cookie that pins a client to the primary for one analysis step; no
    /// primary stickiness when unset. Must differ from `cookieName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_cookie_name: Option<String>,
    /// `Domain` attribute of the cookies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Set the `HttpOnly` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_only: Option<bool>,
    /// Lifetime of the canary cookie in seconds (`Max-Age`); one day by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number", extend("default" = 86400))]
    pub max_age: Option<i32>,
    /// Set the `Partitioned` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioned: Option<bool>,
    /// `Path` attribute of the cookies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `SameSite` attribute of the cookies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSite>,
    /// Set the `Secure` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
}

/// The `SameSite` attribute of a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum SameSite {
    /// Sent only with same-site requests.
    Strict,
    /// Also sent when navigating to the site from elsewhere.
    Lax,
    /// Sent with every request (needs `Secure`).
    None,
}

impl SameSite {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

impl SessionAffinity {
    /// The cookie lifetime in seconds: `maxAge`, or one day when unset or 0.
    pub fn max_age(&self) -> i32 {
        match self.max_age {
            None | Some(0) => DEFAULT_COOKIE_MAX_AGE,
            Some(age) => age,
        }
    }

    /// A `Set-Cookie` value for `cookie` (`name=value`) with the given `Max-Age` and the
    /// configured attributes, in Flagger's order: `Max-Age`, `Domain`, `HttpOnly`,
    /// `Partitioned`, `Path`, `SameSite`, `Secure`.
    pub fn build_cookie(&self, cookie: &str, max_age: i32) -> String {
        let mut out = format!("{cookie}; Max-Age={max_age}");
        if let Some(domain) = self.domain.as_deref().filter(|d| !d.is_empty()) {
            out.push_str(&format!("; Domain={domain}"));
        }
        if self.http_only == Some(true) {
            out.push_str("; HttpOnly");
        }
        if self.partitioned == Some(true) {
            out.push_str("; Partitioned");
        }
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            out.push_str(&format!("; Path={path}"));
        }
        if let Some(same_site) = self.same_site {
            out.push_str(&format!("; SameSite={}", same_site.as_str()));
        }
        if self.secure == Some(true) {
            out.push_str("; Secure");
        }
        out
    }
}

/// The progress of the release, as Flagger records it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryStatus {
    /// Where the release stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<CanaryPhase>,
    /// Failed checks in the current analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub failed_checks: Option<i32>,
    /// Percentage of the traffic currently routed to the canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub canary_weight: Option<i32>,
    /// Runs completed in the current A/B or Blue/Green analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schemas::number")]
    pub iterations: Option<i32>,
    /// Checksums of the ConfigMaps and Secrets the target uses, by `configmap/<name>` or
    /// `secret/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracked_configs: Option<BTreeMap<String, String>>,
    /// Hash of the target's pod template (or spec) at the last full status update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_spec: Option<String>,
    /// Hash of the target's pod template (or spec) last promoted to the primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_promoted_spec: Option<String>,
    /// When the status was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Time>,
    /// The canary's session affinity cookie (`name=value`) in the current release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity_cookie: Option<String>,
    /// The primary's session affinity cookie (`name=value`) of the current step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_session_affinity_cookie: Option<String>,
    /// The canary's session affinity cookie of the previous release, expired on clients
    /// once that release is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_session_affinity_cookie: Option<String>,
    /// The `Promoted` condition, whose reason is the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<FlaggerCondition>>,
}

impl CanaryStatus {
    /// The phase, with an unset phase read as [`CanaryPhase::Unset`].
    pub fn phase(&self) -> CanaryPhase {
        self.phase.unwrap_or(CanaryPhase::Unset)
    }
    /// Failed checks in the current analysis (0 when unset).
    pub fn failed_checks(&self) -> i32 {
        self.failed_checks.unwrap_or(0)
    }
    /// Canary traffic weight (0 when unset).
    pub fn canary_weight(&self) -> i32 {
        self.canary_weight.unwrap_or(0)
    }
    /// Completed A/B or Blue/Green runs (0 when unset).
    pub fn iterations(&self) -> i32 {
        self.iterations.unwrap_or(0)
    }
    /// The `Promoted` condition, if present.
    pub fn promoted_condition(&self) -> Option<&FlaggerCondition> {
        self.conditions
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|c| c.type_ == PROMOTED_CONDITION)
    }

    /// Sets the `Promoted` condition for `phase` (reason: the phase name; status and
    /// message from [`CanaryPhase::promoted_status`] and [`CanaryPhase::promoted_message`]).
    /// Returns false, changing nothing, when the condition already has that status and
    /// reason.
    pub fn set_promoted_condition(
        &mut self,
        phase: CanaryPhase,
        target_kind: &str,
        now: Time,
    ) -> bool {
        set_flagger_condition(
            self.conditions.get_or_insert_with(Vec::new),
            PROMOTED_CONDITION,
            phase.promoted_status(),
            phase.as_str(),
            &phase.promoted_message(target_kind),
            now,
        )
    }
}

/// Where a release stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(transform = crate::schema::drop_description)]
pub enum CanaryPhase {
    /// Empty: not yet seen by the controller.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// Creating the primary, its Services and the routing objects.
    Initializing,
    /// The primary serves all traffic; waiting for a new revision.
    Initialized,
    /// A new revision waits for a `confirm-rollout` gate.
    Waiting,
    /// The analysis of a new revision is under way.
    Progressing,
    /// The analysis passed; waiting for a `confirm-promotion` gate.
    WaitingPromotion,
    /// The new revision is being copied to the primary.
    Promoting,
    /// Traffic goes back to the primary and the canary is scaled down.
    Finalising,
    /// The last revision was promoted.
    Succeeded,
    /// The last revision was rolled back.
    Failed,
    /// The Canary is being deleted and its changes reverted.
    Terminating,
    /// The Canary was deleted and its changes reverted.
    Terminated,
}

impl CanaryPhase {
    /// The phase as written in `status.phase` and in the `Promoted` condition's reason.
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryPhase::Unset => "",
            CanaryPhase::Initializing => "Initializing",
            CanaryPhase::Initialized => "Initialized",
            CanaryPhase::Waiting => "Waiting",
            CanaryPhase::Progressing => "Progressing",
            CanaryPhase::WaitingPromotion => "WaitingPromotion",
            CanaryPhase::Promoting => "Promoting",
            CanaryPhase::Finalising => "Finalising",
            CanaryPhase::Succeeded => "Succeeded",
            CanaryPhase::Failed => "Failed",
            CanaryPhase::Terminating => "Terminating",
            CanaryPhase::Terminated => "Terminated",
        }
    }

    /// Whether the phase is unset or `Initializing`: the primary is not set up yet.
    pub fn is_initializing(self) -> bool {
        matches!(self, CanaryPhase::Unset | CanaryPhase::Initializing)
    }

    /// Whether a release is under way (the analysis advances at every run without waiting
    /// for a new revision): `Progressing`, `Waiting`, `WaitingPromotion`, `Promoting`,
    /// `Finalising`.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            CanaryPhase::Progressing
                | CanaryPhase::Waiting
                | CanaryPhase::WaitingPromotion
                | CanaryPhase::Promoting
                | CanaryPhase::Finalising
        )
    }

    /// Whether entering this phase keeps `canaryWeight` and `iterations`; every other phase
    /// resets them to 0.
    pub fn keeps_progress(self) -> bool {
        matches!(
            self,
            CanaryPhase::Progressing | CanaryPhase::Waiting | CanaryPhase::Promoting
        )
    }

    /// Whether entering this phase records the applied spec as the promoted one.
    pub fn records_promotion(self) -> bool {
        matches!(self, CanaryPhase::Initialized | CanaryPhase::Succeeded)
    }

    /// The status of the `Promoted` condition in this phase.
    pub fn promoted_status(self) -> ConditionStatus {
        match self {
            CanaryPhase::Initialized | CanaryPhase::Succeeded => ConditionStatus::True,
            CanaryPhase::Failed => ConditionStatus::False,
            _ => ConditionStatus::Unknown,
        }
    }

    /// The message of the `Promoted` condition in this phase; `target_kind` is the kind of
    /// the target (`Deployment`...).
    pub fn promoted_message(self, target_kind: &str) -> String {
        match self {
            CanaryPhase::Initialized => format!("{target_kind} initialization completed."),
            CanaryPhase::Waiting | CanaryPhase::WaitingPromotion => {
                "Waiting for approval.".to_owned()
            }
            CanaryPhase::Progressing => {
                "New revision detected, progressing canary analysis.".to_owned()
            }
            CanaryPhase::Promoting => {
                "Canary analysis completed, starting primary rolling update.".to_owned()
            }
            CanaryPhase::Finalising => {
                "Canary analysis completed, routing all traffic to primary.".to_owned()
            }
            CanaryPhase::Succeeded => {
                "Canary analysis completed successfully, promotion finished.".to_owned()
            }
            CanaryPhase::Failed => {
                format!("Canary analysis failed, {target_kind} scaled to zero.")
            }
            _ => format!("New {target_kind} detected, starting initialization."),
        }
    }
}

impl TargetKind {
    /// The kind as written in `targetRef.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::DaemonSet => "DaemonSet",
            TargetKind::Deployment => "Deployment",
            TargetKind::Service => "Service",
        }
    }
}

/// The service settings of a Canary without `spec.service`.
static NO_SERVICE: LazyLock<CanaryService> = LazyLock::new(CanaryService::default);

impl CanarySpec {
    /// The service settings; all unset (port 0) when `service` is absent.
    pub fn service(&self) -> &CanaryService {
        self.service.as_ref().unwrap_or(&NO_SERVICE)
    }

    /// The analysis in effect: `analysis` (the deprecated `canaryAnalysis` is only read by
    /// Flagger when `analysis` is absent, which the schema forbids).
    pub fn analysis(&self) -> &CanaryAnalysis {
        &self.analysis
    }

    /// Whether new revisions are promoted without analysis.
    pub fn skip_analysis(&self) -> bool {
        self.skip_analysis.unwrap_or(false)
    }

    /// Whether the Canary is suspended.
    pub fn suspended(&self) -> bool {
        self.suspend.unwrap_or(false)
    }

    /// Whether deleting the Canary reverts its changes (and so needs the
    /// [`FLAGGER_FINALIZER`]).
    pub fn revert_on_deletion(&self) -> bool {
        self.revert_on_deletion.unwrap_or(false)
    }

    /// The progress deadline in seconds, defaulting to 600.
    pub fn progress_deadline_seconds(&self) -> i32 {
        self.progress_deadline_seconds
            .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS)
    }

    /// The names of the apex, primary and canary Services: `service.name` (or the target's
    /// name), with `-primary` and `-canary` appended.
    pub fn service_names(&self) -> (String, String, String) {
        let apex = self
            .service()
            .name
            .as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(&self.target_ref.name);
        (
            apex.to_owned(),
            format!("{apex}-primary"),
            format!("{apex}-canary"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(step_weight: Option<i32>, step_weights: Option<Vec<i32>>) -> CanaryAnalysis {
        CanaryAnalysis {
            interval: "1m".to_owned(),
            threshold: 5,
            step_weight,
            step_weights,
            ..Default::default()
        }
    }

    #[test]
    fn interval_falls_back_to_a_minute_and_is_at_least_ten_seconds() {
        let mut a = analysis(Some(10), None);
        assert_eq!(a.interval(), Duration::from_secs(60));
        a.interval = "2s".to_owned();
        assert_eq!(a.interval(), Duration::from_secs(10));
        a.interval = "90s".to_owned();
        assert_eq!(a.interval(), Duration::from_secs(90));
        a.interval = "soon".to_owned();
        assert_eq!(a.interval(), Duration::from_secs(60));
    }

    #[test]
    fn max_weight_prefers_the_last_step_weight() {
        let mut a = analysis(Some(20), None);
        assert_eq!(a.max_weight(), 100);
        a.max_weight = Some(50);
        assert_eq!(a.max_weight(), 50);
        a.step_weights = Some(vec![1, 2, 10, 80]);
        assert_eq!(a.max_weight(), 80);
        a.step_weights = Some(vec![1, 2, 10, 200]);
        assert_eq!(a.max_weight(), 100);
    }

    #[test]
    fn next_step_weight_follows_the_ladder() {
        let a = analysis(None, Some(vec![1, 2, 10, 80]));
        let steps: Vec<i32> = [0, 1, 2, 10, 80, 100]
            .iter()
            .map(|w| a.next_step_weight(*w))
            .collect();
        assert_eq!(steps, [1, 1, 8, 70, 20, 1]);
        let over = analysis(None, Some(vec![1, 2, 10, 200]));
        assert_eq!(over.next_step_weight(10), 90);
        let linear = analysis(Some(20), Some(vec![5, 50]));
        assert_eq!(linear.next_step_weight(40), 20);
    }

    #[test]
    fn strategy_depends_on_iterations_and_match() {
        let mut a = analysis(Some(10), None);
        assert_eq!(a.strategy(), DeploymentStrategy::Canary);
        a.iterations = Some(10);
        assert_eq!(a.strategy(), DeploymentStrategy::BlueGreen);
        a.matches = Some(vec![AnalysisMatch::default()]);
        assert_eq!(a.strategy(), DeploymentStrategy::AbTesting);
    }

    #[test]
    fn cookies_carry_the_attributes_in_order() {
        let affinity = SessionAffinity {
            cookie_name: "flagger-cookie".to_owned(),
            domain: Some("example.com".to_owned()),
            http_only: Some(true),
            path: Some("/".to_owned()),
            same_site: Some(SameSite::Lax),
            secure: Some(true),
            ..Default::default()
        };
        assert_eq!(affinity.max_age(), 86_400);
        assert_eq!(
            affinity.build_cookie("flagger-cookie=abc", affinity.max_age()),
            "flagger-cookie=abc; Max-Age=86400; Domain=example.com; HttpOnly; Path=/; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn promoted_condition_follows_the_phase() {
        assert_eq!(
            CanaryPhase::Failed.promoted_message("Deployment"),
            "Canary analysis failed, Deployment scaled to zero."
        );
        assert_eq!(
            CanaryPhase::Succeeded.promoted_status(),
            ConditionStatus::True
        );
        assert_eq!(
            CanaryPhase::Terminating.promoted_message("DaemonSet"),
            "New DaemonSet detected, starting initialization."
        );
    }

    #[test]
    fn alerts_receive_events_at_or_above_their_severity() {
        let alert = |severity| CanaryAlert {
            name: "a".to_owned(),
            severity,
            provider_ref: NamespacedObjectReference::default(),
        };
        assert!(alert(None).receives(AlertSeverity::Info));
        assert!(alert(Some(AlertSeverity::Unset)).receives(AlertSeverity::Warn));
        assert!(alert(Some(AlertSeverity::Warn)).receives(AlertSeverity::Error));
        assert!(!alert(Some(AlertSeverity::Warn)).receives(AlertSeverity::Info));
        assert!(!alert(Some(AlertSeverity::Error)).receives(AlertSeverity::Warn));
    }

    #[test]
    fn provider_spellings_round_trip() {
        for (provider, name) in MeshProvider::ALL {
            assert_eq!(provider.as_str(), name);
            assert_eq!(MeshProvider::from_name(name), Some(provider));
            assert_eq!(
                serde_json::to_value(provider).ok(),
                Some(serde_json::Value::String(name.to_owned()))
            );
        }
    }
}
