//! The built-in kinds the server serves, and how their objects are decoded: through the
//! typed Kubernetes structs of `k8s-openapi`, as kube-apiserver decodes into Go structs.
//! Decoding drops unknown fields (reporting their paths for `fieldValidation=Strict`) and
//! rejects values of the wrong type.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::resources::{Codec, NameRule, ResourceType, ScaleSpec};

/// The result of decoding an object of a built-in kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The object with unknown fields dropped, as stored.
    pub value: Value,
    /// Paths of the unknown fields that were dropped, e.g. `spec.replicass`.
    pub unknown_fields: Vec<String>,
}

/// How a built-in kind's objects are decoded, and converted when another version shares
/// their storage.
#[derive(Clone, Copy)]
pub struct Decoder {
    /// Decodes a request body into the stored form.
    pub decode: fn(Value) -> Result<Decoded, String>,
    /// Converts a stored object into this version's form, when storage is shared.
    pub from_storage: Option<fn(Value) -> Value>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("converts", &self.from_storage.is_some())
            .finish()
    }
}

/// Decodes `value` as `T` and re-encodes it, collecting the paths of ignored fields.
fn typed<T: DeserializeOwned + Serialize>(value: Value) -> Result<Decoded, String> {
    let mut unknown_fields = Vec::new();
    let decoded: Result<T, serde_json::Error> =
        serde_ignored::deserialize(&value, |path| unknown_fields.push(render_path(&path)));
    let typed = match decoded {
        Ok(typed) => typed,
        Err(_) => {
            // Decode again, tracking the path, to say where the bad value is.
            let error = serde_path_to_error::deserialize::<_, T>(&value)
                .err()
                .map(|e| format!("{} (at {})", e.inner(), e.path()))
                .unwrap_or_else(|| "invalid object".to_owned());
            return Err(error);
        }
    };
    let mut value = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    crate::object::omit_empty_metadata(&mut value);
    Ok(Decoded {
        value,
        unknown_fields,
    })
}

/// Renders a serde_ignored path as Kubernetes writes field paths: `spec.containers[0].x`.
fn render_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", render_path(parent)),
        Path::Map { parent, key } => {
            let parent = render_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render_path(parent),
    }
}

/// Facts about one built-in kind, expanded into a [`ResourceType`] by [`all`].
struct Kind {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    namespaced: bool,
    status: bool,
    scale: bool,
    generation: bool,
    name_rule: NameRule,
    selectable: &'static [&'static str],
    decoder: Decoder,
}

const fn decoder(decode: fn(Value) -> Result<Decoded, String>) -> Decoder {
    Decoder {
        decode,
        from_storage: None,
    }
}

use k8s_openapi::api as k8s;

const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
];

const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

/// Every built-in kind, as served.
pub fn all() -> Vec<ResourceType> {
    use NameRule::{Label, Label1035, PathSegment, Subdomain};
    let kinds = [
        Kind { group: "", version: "v1", kind: "Namespace", plural: "namespaces", short_names: &["ns"], categories: &[], namespaced: false, status: true, scale: false, generation: false, name_rule: Label, selectable: &["status.phase"], decoder: decoder(typed::<k8s::core::v1::Namespace>) },
        Kind { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", short_names: &["cm"], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::ConfigMap>) },
        Kind { group: "", version: "v1", kind: "Secret", plural: "secrets", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &["type"], decoder: decoder(typed::<k8s::core::v1::Secret>) },
        Kind { group: "", version: "v1", kind: "Service", plural: "services", short_names: &["svc"], categories: &["all"], namespaced: true, status: true, scale: false, generation: false, name_rule: Label1035, selectable: &["spec.clusterIP", "spec.type"], decoder: decoder(typed::<k8s::core::v1::Service>) },
        Kind { group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", short_names: &["sa"], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::ServiceAccount>) },
        Kind { group: "", version: "v1", kind: "Event", plural: "events", short_names: &["ev"], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: EVENT_FIELDS, decoder: decoder(typed::<k8s::core::v1::Event>) },
        Kind { group: "", version: "v1", kind: "Pod", plural: "pods", short_names: &["po"], categories: &["all"], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: POD_FIELDS, decoder: decoder(typed::<k8s::core::v1::Pod>) },
        Kind { group: "", version: "v1", kind: "ReplicationController", plural: "replicationcontrollers", short_names: &["rc"], categories: &["all"], namespaced: true, status: true, scale: true, generation: true, name_rule: Subdomain, selectable: &["status.replicas"], decoder: decoder(typed::<k8s::core::v1::ReplicationController>) },
        Kind { group: "", version: "v1", kind: "Endpoints", plural: "endpoints", short_names: &["ep"], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::Endpoints>) },
        Kind { group: "", version: "v1", kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", short_names: &["pvc"], categories: &[], namespaced: true, status: true, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::PersistentVolumeClaim>) },
        Kind { group: "", version: "v1", kind: "PersistentVolume", plural: "persistentvolumes", short_names: &["pv"], categories: &[], namespaced: false, status: true, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::PersistentVolume>) },
        Kind { group: "", version: "v1", kind: "Node", plural: "nodes", short_names: &["no"], categories: &[], namespaced: false, status: true, scale: false, generation: false, name_rule: Subdomain, selectable: &["spec.unschedulable"], decoder: decoder(typed::<k8s::core::v1::Node>) },
        Kind { group: "", version: "v1", kind: "LimitRange", plural: "limitranges", short_names: &["limits"], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::LimitRange>) },
        Kind { group: "", version: "v1", kind: "ResourceQuota", plural: "resourcequotas", short_names: &["quota"], categories: &[], namespaced: true, status: true, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::core::v1::ResourceQuota>) },
        Kind { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", short_names: &["deploy"], categories: &["all"], namespaced: true, status: true, scale: true, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::apps::v1::Deployment>) },
        Kind { group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", short_names: &["rs"], categories: &["all"], namespaced: true, status: true, scale: true, generation: true, name_rule: Subdomain, selectable: &["status.replicas"], decoder: decoder(typed::<k8s::apps::v1::ReplicaSet>) },
        Kind { group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", short_names: &["sts"], categories: &["all"], namespaced: true, status: true, scale: true, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::apps::v1::StatefulSet>) },
        Kind { group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets", short_names: &["ds"], categories: &["all"], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::apps::v1::DaemonSet>) },
        Kind { group: "apps", version: "v1", kind: "ControllerRevision", plural: "controllerrevisions", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::apps::v1::ControllerRevision>) },
        Kind { group: "batch", version: "v1", kind: "Job", plural: "jobs", short_names: &[], categories: &["all"], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &["status.successful"], decoder: decoder(typed::<k8s::batch::v1::Job>) },
        Kind { group: "batch", version: "v1", kind: "CronJob", plural: "cronjobs", short_names: &["cj"], categories: &["all"], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::batch::v1::CronJob>) },
        Kind { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", short_names: &["hpa"], categories: &["all"], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::autoscaling::v2::HorizontalPodAutoscaler>) },
        Kind { group: "networking.k8s.io", version: "v1", kind: "Ingress", plural: "ingresses", short_names: &["ing"], categories: &[], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::networking::v1::Ingress>) },
        Kind { group: "networking.k8s.io", version: "v1", kind: "IngressClass", plural: "ingressclasses", short_names: &[], categories: &[], namespaced: false, status: false, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::networking::v1::IngressClass>) },
        Kind { group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", short_names: &["netpol"], categories: &[], namespaced: true, status: false, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::networking::v1::NetworkPolicy>) },
        Kind { group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::discovery::v1::EndpointSlice>) },
        Kind { group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: PathSegment, selectable: &[], decoder: decoder(typed::<k8s::rbac::v1::Role>) },
        Kind { group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: PathSegment, selectable: &[], decoder: decoder(typed::<k8s::rbac::v1::RoleBinding>) },
        Kind { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", plural: "clusterroles", short_names: &[], categories: &[], namespaced: false, status: false, scale: false, generation: false, name_rule: PathSegment, selectable: &[], decoder: decoder(typed::<k8s::rbac::v1::ClusterRole>) },
        Kind { group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", plural: "clusterrolebindings", short_names: &[], categories: &[], namespaced: false, status: false, scale: false, generation: false, name_rule: PathSegment, selectable: &[], decoder: decoder(typed::<k8s::rbac::v1::ClusterRoleBinding>) },
        Kind { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", short_names: &[], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::coordination::v1::Lease>) },
        Kind { group: "apiextensions.k8s.io", version: "v1", kind: "CustomResourceDefinition", plural: "customresourcedefinitions", short_names: &["crd", "crds"], categories: &["api-extensions"], namespaced: false, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>) },
        Kind { group: "policy", version: "v1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets", short_names: &["pdb"], categories: &[], namespaced: true, status: true, scale: false, generation: true, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::policy::v1::PodDisruptionBudget>) },
        Kind { group: "scheduling.k8s.io", version: "v1", kind: "PriorityClass", plural: "priorityclasses", short_names: &["pc"], categories: &[], namespaced: false, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::scheduling::v1::PriorityClass>) },
        Kind { group: "storage.k8s.io", version: "v1", kind: "StorageClass", plural: "storageclasses", short_names: &["sc"], categories: &[], namespaced: false, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: &[], decoder: decoder(typed::<k8s::storage::v1::StorageClass>) },
        Kind { group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", short_names: &["ev"], categories: &[], namespaced: true, status: false, scale: false, generation: false, name_rule: Subdomain, selectable: EVENT_FIELDS, decoder: Decoder { decode: decode_events_v1, from_storage: Some(core_event_to_events_v1) } },
    ];
    kinds.into_iter().map(expand).collect()
}

fn expand(kind: Kind) -> ResourceType {
    let shares_core_events = kind.group == "events.k8s.io";
    ResourceType {
        group: kind.group.to_owned(),
        version: kind.version.to_owned(),
        kind: kind.kind.to_owned(),
        plural: kind.plural.to_owned(),
        singular: kind.kind.to_lowercase(),
        short_names: kind.short_names.iter().map(|s| (*s).to_owned()).collect(),
        categories: kind.categories.iter().map(|s| (*s).to_owned()).collect(),
        namespaced: kind.namespaced,
        status_subresource: kind.status,
        scale: kind.scale.then(|| ScaleSpec {
            spec_replicas_path: ".spec.replicas".to_owned(),
            status_replicas_path: ".status.replicas".to_owned(),
            label_selector_path: Some(".status.selector".to_owned()),
        }),
        has_generation: kind.generation,
        codec: Codec::Builtin(kind.decoder),
        name_rule: kind.name_rule,
        columns: Vec::new(),
        selectable_fields: kind.selectable.iter().map(|s| (*s).to_owned()).collect(),
        storage: if shares_core_events {
            (String::new(), "events".to_owned())
        } else {
            (kind.group.to_owned(), kind.plural.to_owned())
        },
        storage_version: !shares_core_events,
    }
}

/// Field renames between `events.k8s.io/v1` Event (left) and core `v1` Event (right),
/// which share storage.
const EVENT_RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

/// Decodes an `events.k8s.io/v1` Event and converts it to the stored core form.
fn decode_events_v1(value: Value) -> Result<Decoded, String> {
    let decoded = typed::<k8s::events::v1::Event>(value)?;
    let Value::Object(fields) = decoded.value else {
        return Err("an Event must be an object".into());
    };
    let mut core = Map::new();
    for (key, field) in fields {
        let renamed = EVENT_RENAMES
            .iter()
            .find(|(from, _)| *from == key)
            .map_or(key.as_str(), |(_, to)| *to);
        core.insert(renamed.to_owned(), field);
    }
    core.insert("apiVersion".to_owned(), Value::from("v1"));
    // Core events name their source component too; kubectl shows it.
    if let Some(controller) = core.get("reportingComponent").cloned() {
        core.entry("source")
            .or_insert_with(|| serde_json::json!({"component": controller}));
    }
    Ok(Decoded {
        value: Value::Object(core),
        unknown_fields: decoded.unknown_fields,
    })
}

/// Converts a stored core Event to the `events.k8s.io/v1` form.
fn core_event_to_events_v1(value: Value) -> Value {
    let Value::Object(fields) = value else {
        return value;
    };
    let mut out = Map::new();
    for (key, field) in fields {
        if key == "message" && field.is_null() {
            continue;
        }
        let renamed = EVENT_RENAMES
            .iter()
            .find(|(_, to)| *to == key)
            .map_or(key.as_str(), |(from, _)| *from);
        out.insert(renamed.to_owned(), field);
    }
    out.insert("apiVersion".to_owned(), Value::from("events.k8s.io/v1"));
    // events.k8s.io requires eventTime; old core events only have timestamps.
    if !out.contains_key("eventTime") {
        let time = out
            .get("deprecatedFirstTimestamp")
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(seconds) = time.as_str() {
            out.insert(
                "eventTime".to_owned(),
                Value::from(seconds.replace('Z', ".000000Z")),
            );
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(kind: &str) -> ResourceType {
        all()
            .into_iter()
            .find(|r| r.kind == kind && r.storage_version)
            .unwrap()
    }

    fn decode(kind: &str, value: Value) -> Result<Decoded, String> {
        match find(kind).codec {
            Codec::Builtin(decoder) => (decoder.decode)(value),
            Codec::Custom(_) => unreachable!(),
        }
    }

    #[test]
    fn unknown_fields_of_built_in_kinds_are_dropped_and_reported() {
        let decoded = decode(
            "Deployment",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"replicas": 2, "replicass": 3, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": {"containers": [{"name": "c", "image": "nginx", "imagePullPolize": "x"}]}}}}),
        )
        .unwrap();
        assert_eq!(
            decoded.unknown_fields,
            [
                "spec.replicass",
                "spec.template.spec.containers[0].imagePullPolize"
            ]
        );
        assert!(decoded.value["spec"].get("replicass").is_none());
        assert_eq!(decoded.value["spec"]["replicas"], 2);
    }

    #[test]
    fn values_of_the_wrong_type_are_refused_with_their_path() {
        let error = decode(
            "ConfigMap",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}}),
        )
        .unwrap_err();
        assert!(error.contains("data.a"), "{error}");
    }

    #[test]
    fn events_share_storage_across_both_apis() {
        let events = all()
            .into_iter()
            .find(|r| r.group == "events.k8s.io")
            .unwrap();
        assert_eq!(
            events.key_prefix(Some("ns")),
            find("Event").key_prefix(Some("ns"))
        );
        let Codec::Builtin(decoder) = events.codec else {
            unreachable!()
        };
        let stored = (decoder.decode)(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "ns"},
            "eventTime": "2026-11-22T00:00:00.000000Z", "reportingController": "source-controller",
            "reportingInstance": "pod-1", "action": "Reconcile", "reason": "NewArtifact", "note": "stored", "type": "Normal",
            "regarding": {"kind": "GitRepository", "name": "podinfo", "namespace": "ns"}
        }))
        .unwrap()
        .value;
        assert_eq!(stored["apiVersion"], "v1");
        assert_eq!(stored["message"], "stored");
        assert_eq!(stored["involvedObject"]["name"], "podinfo");
        assert_eq!(stored["reportingComponent"], "source-controller");
        assert_eq!(stored["source"]["component"], "source-controller");
        let back = (decoder.from_storage.unwrap())(stored);
        assert_eq!(back["note"], "stored");
        assert_eq!(back["regarding"]["kind"], "GitRepository");
        assert_eq!(back["apiVersion"], "events.k8s.io/v1");
    }
}
