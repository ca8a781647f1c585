//! Merge metadata of the built-in Kubernetes kinds.
//!
//! Written from the Kubernetes API contract (the `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type` and
//! `x-kubernetes-list-map-keys` extensions of the OpenAPI, i.e. the `patchStrategy` /
//! `patchMergeKey` struct tags and `+listType` / `+listMapKey` markers of `k8s.io/api`).
//! Only fields that carry metadata, and the objects on the way to them, are listed: every
//! other field merges as a map or is replaced as a list, exactly as with no metadata.
//!
//! The table is a graph of object types, so the pod template is described once and found
//! wherever it is embedded (Deployment, StatefulSet, Job, CronJob's job template, ...).

use std::borrow::Cow;

use serde_json::Value;

use crate::schema::{FieldSchema, ListMapKey, ListType, PatchSchema, PatchStrategy, PathElement};

/// An object type: the fields of it that matter to merging.
struct Node {
    fields: &'static [Field],
}

/// One field of an object type.
struct Field {
    name: &'static str,
    strategy: PatchStrategy,
    merge_key: Option<&'static str>,
    retain_keys: bool,
    list_type: Option<StaticListType>,
    /// The type of the value (of each element, for lists), when it has fields that matter.
    child: Option<&'static Node>,
}

/// [`ListType`] in a form a `static` can hold. Map keys are `(name, default string value)`.
#[derive(Clone, Copy)]
enum StaticListType {
    Atomic,
    Set,
    Map(&'static [(&'static str, Option<&'static str>)]),
}

impl Field {
    /// A nested object whose own fields carry metadata.
    const fn object(name: &'static str, child: &'static Node) -> Field {
        Field {
            name,
            strategy: PatchStrategy::Default,
            merge_key: None,
            retain_keys: false,
            list_type: None,
            child: Some(child),
        }
    }

    /// `patchStrategy: merge` + `patchMergeKey: key`: a list of maps merged by `key`.
    const fn merge_by(name: &'static str, key: &'static str) -> Field {
        Field {
            name,
            strategy: PatchStrategy::Merge,
            merge_key: Some(key),
            retain_keys: false,
            list_type: None,
            child: None,
        }
    }

    /// `patchStrategy: merge` without a key: a list of primitives merged as a union.
    const fn merge_primitives(name: &'static str) -> Field {
        Field {
            name,
            strategy: PatchStrategy::Merge,
            merge_key: None,
            retain_keys: false,
            list_type: None,
            child: None,
        }
    }

    /// No patch strategy (replaced by a strategic merge patch), but a server-side apply
    /// list type.
    const fn listed(name: &'static str, list_type: StaticListType) -> Field {
        Field {
            name,
            strategy: PatchStrategy::Default,
            merge_key: None,
            retain_keys: false,
            list_type: Some(list_type),
            child: None,
        }
    }

    /// `patchStrategy: replace`: replaced wholesale, even when a map.
    const fn replace(name: &'static str) -> Field {
        Field {
            name,
            strategy: PatchStrategy::Replace,
            merge_key: None,
            retain_keys: false,
            list_type: None,
            child: None,
        }
    }

    /// A map with only the `retainKeys` strategy.
    const fn retain_keys_object(name: &'static str) -> Field {
        Field {
            name,
            strategy: PatchStrategy::Default,
            merge_key: None,
            retain_keys: true,
            list_type: None,
            child: None,
        }
    }

    /// Adds the `retainKeys` strategy (`merge,retainKeys`).
    const fn retaining_keys(self) -> Field {
        Field {
            retain_keys: true,
            ..self
        }
    }

    /// Declares the server-side apply list type, where it differs from the one the patch
    /// strategy implies.
    const fn list_type(self, list_type: StaticListType) -> Field {
        Field {
            list_type: Some(list_type),
            ..self
        }
    }

    /// The type of each element (or of the value) has fields that matter.
    const fn of(self, child: &'static Node) -> Field {
        Field {
            child: Some(child),
            ..self
        }
    }

    fn schema(&self) -> FieldSchema {
        FieldSchema {
            strategy: self.strategy,
            merge_key: self.merge_key.map(Cow::Borrowed),
            retain_keys: self.retain_keys,
            list_type: self.list_type.map(|list_type| match list_type {
                StaticListType::Atomic => ListType::Atomic,
                StaticListType::Set => ListType::Set,
                StaticListType::Map(keys) => ListType::Map(
                    keys.iter()
                        .map(|(name, default)| ListMapKey {
                            name: Cow::Borrowed(*name),
                            default: default.map(|d| Value::String(d.to_owned())),
                        })
                        .collect(),
                ),
            }),
        }
    }
}

const KEYED_BY_NAME: StaticListType = StaticListType::Map(&[("name", None)]);

// --- meta/v1 ---------------------------------------------------------------------------

static OBJECT_META: Node = Node {
    fields: &[
        Field::merge_by("ownerReferences", "uid"),
        Field::merge_primitives("finalizers"),
    ],
};

/// An object whose only metadata is in `metadata`.
static PLAIN_OBJECT: Node = Node {
    fields: &[Field::object("metadata", &OBJECT_META)],
};

/// `status.conditions` merged by `type` (and nothing else in status).
static CONDITIONS_STATUS: Node = Node {
    fields: &[Field::merge_by("conditions", "type")],
};

// --- core/v1: the pod ------------------------------------------------------------------

static RESOURCE_REQUIREMENTS: Node = Node {
    fields: &[Field::listed("claims", KEYED_BY_NAME)],
};

static VOLUME_MOUNT: Node = Node {
    fields: &[Field::listed("bindMountOptions", StaticListType::Set)],
};

/// `Container`, and `EphemeralContainer` (same list fields, inlined from
/// `EphemeralContainerCommon`).
static CONTAINER: Node = Node {
    fields: &[
        Field::merge_by("ports", "containerPort").list_type(StaticListType::Map(&[
            ("containerPort", None),
            ("protocol", Some("TCP")),
        ])),
        Field::merge_by("env", "name"),
        Field::object("resources", &RESOURCE_REQUIREMENTS),
        Field::merge_by("volumeMounts", "mountPath").of(&VOLUME_MOUNT),
        Field::merge_by("volumeDevices", "devicePath"),
    ],
};

static PERSISTENT_VOLUME_CLAIM_TEMPLATE: Node = Node {
    fields: &[Field::object("metadata", &OBJECT_META)],
};

static EPHEMERAL_VOLUME_SOURCE: Node = Node {
    fields: &[Field::object(
        "volumeClaimTemplate",
        &PERSISTENT_VOLUME_CLAIM_TEMPLATE,
    )],
};

/// `Volume`, with its `VolumeSource` inlined.
static VOLUME: Node = Node {
    fields: &[Field::object("ephemeral", &EPHEMERAL_VOLUME_SOURCE)],
};

static POD_SPEC: Node = Node {
    fields: &[
        Field::merge_by("volumes", "name")
            .retaining_keys()
            .of(&VOLUME),
        Field::merge_by("initContainers", "name").of(&CONTAINER),
        Field::merge_by("containers", "name").of(&CONTAINER),
        Field::merge_by("ephemeralContainers", "name").of(&CONTAINER),
        Field::merge_by("imagePullSecrets", "name"),
        Field::merge_by("hostAliases", "ip"),
        Field::merge_by("topologySpreadConstraints", "topologyKey").list_type(StaticListType::Map(
            &[("topologyKey", None), ("whenUnsatisfiable", None)],
        )),
        Field::merge_by("schedulingGates", "name"),
        Field::merge_by("resourceClaims", "name").retaining_keys(),
        Field::object("resources", &RESOURCE_REQUIREMENTS),
        Field::merge_by("evictionResponders", "name"),
    ],
};

static POD_TEMPLATE_SPEC: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &POD_SPEC),
    ],
};

static NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS: Node = Node {
    fields: &[
        Field::listed("containers", StaticListType::Set),
        Field::merge_by("mapping", "name"),
        Field::merge_by("overhead", "name"),
    ],
};

static VOLUME_HEALTH: Node = Node {
    fields: &[Field::merge_by("healthConditions", "status")
        .list_type(StaticListType::Map(&[("status", None), ("reason", None)]))],
};

static POD_STATUS: Node = Node {
    fields: &[
        Field::merge_by("conditions", "type"),
        Field::merge_by("hostIPs", "ip").list_type(StaticListType::Atomic),
        Field::merge_by("podIPs", "ip"),
        Field::merge_by("resourceClaimStatuses", "name").retaining_keys(),
        Field::object("resources", &RESOURCE_REQUIREMENTS),
        Field::merge_by("nodeAllocatableResourceClaimStatuses", "resourceClaimName")
            .of(&NODE_ALLOCATABLE_RESOURCE_CLAIM_STATUS),
        Field::listed("volumeHealth", KEYED_BY_NAME).of(&VOLUME_HEALTH),
    ],
};

static POD: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &POD_SPEC),
        Field::object("status", &POD_STATUS),
    ],
};

static POD_TEMPLATE: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("template", &POD_TEMPLATE_SPEC),
    ],
};

// --- core/v1: other kinds --------------------------------------------------------------

static NAMESPACE: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

static SERVICE_SPEC: Node = Node {
    fields: &[
        Field::merge_by("ports", "port").list_type(StaticListType::Map(&[
            ("port", None),
            ("protocol", Some("TCP")),
        ])),
    ],
};

static SERVICE: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &SERVICE_SPEC),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

static SERVICE_ACCOUNT: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::merge_by("secrets", "name"),
    ],
};

static PERSISTENT_VOLUME_CLAIM_STATUS: Node = Node {
    fields: &[
        Field::merge_by("conditions", "type"),
        Field::object("healthStatus", &VOLUME_HEALTH),
    ],
};

static PERSISTENT_VOLUME_CLAIM: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("status", &PERSISTENT_VOLUME_CLAIM_STATUS),
    ],
};

static NODE_SPEC: Node = Node {
    fields: &[
        Field::merge_primitives("podCIDRs"),
        Field::object("podPreemptionPolicy", &NODE_POD_PREEMPTION_POLICY),
    ],
};

static NODE_POD_PREEMPTION_POLICY: Node = Node {
    fields: &[Field::listed(
        "disableResizePreemption",
        StaticListType::Set,
    )],
};

static NODE_STATUS: Node = Node {
    fields: &[
        Field::merge_by("conditions", "type"),
        Field::merge_by("addresses", "type"),
    ],
};

static NODE: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &NODE_SPEC),
        Field::object("status", &NODE_STATUS),
    ],
};

// --- apps/v1 ---------------------------------------------------------------------------

/// Spec of the workloads whose only metadata is the pod template (ReplicaSet, StatefulSet,
/// DaemonSet, ReplicationController).
static TEMPLATED_SPEC: Node = Node {
    fields: &[Field::object("template", &POD_TEMPLATE_SPEC)],
};

/// ReplicaSet, StatefulSet, DaemonSet, ReplicationController.
static TEMPLATED_WORKLOAD: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &TEMPLATED_SPEC),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

static DEPLOYMENT_SPEC: Node = Node {
    fields: &[
        Field::object("template", &POD_TEMPLATE_SPEC),
        Field::retain_keys_object("strategy"),
    ],
};

static DEPLOYMENT: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &DEPLOYMENT_SPEC),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

// --- batch/v1 --------------------------------------------------------------------------

static JOB_SCHEDULING: Node = Node {
    fields: &[Field::merge_by("resourceClaims", "name")],
};

static JOB_SPEC: Node = Node {
    fields: &[
        Field::object("template", &POD_TEMPLATE_SPEC),
        Field::object("scheduling", &JOB_SCHEDULING),
    ],
};

static UNCOUNTED_TERMINATED_PODS: Node = Node {
    fields: &[
        Field::listed("succeeded", StaticListType::Set),
        Field::listed("failed", StaticListType::Set),
    ],
};

static JOB_STATUS: Node = Node {
    fields: &[
        Field::merge_by("conditions", "type").list_type(StaticListType::Atomic),
        Field::object("uncountedTerminatedPods", &UNCOUNTED_TERMINATED_PODS),
    ],
};

static JOB: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &JOB_SPEC),
        Field::object("status", &JOB_STATUS),
    ],
};

static JOB_TEMPLATE_SPEC: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &JOB_SPEC),
    ],
};

static CRON_JOB_SPEC: Node = Node {
    fields: &[Field::object("jobTemplate", &JOB_TEMPLATE_SPEC)],
};

static CRON_JOB: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &CRON_JOB_SPEC),
    ],
};

// --- policy/v1 -------------------------------------------------------------------------

static POD_DISRUPTION_BUDGET_SPEC: Node = Node {
    fields: &[Field::replace("selector")],
};

static POD_DISRUPTION_BUDGET: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("spec", &POD_DISRUPTION_BUDGET_SPEC),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

// --- kinds -----------------------------------------------------------------------------

/// `(API group, kind, type)`. Versions are not told apart: the merge metadata of a kind is
/// the same in every served version.
static KINDS: &[(&str, &str, &Node)] = &[
    ("", "Namespace", &NAMESPACE),
    ("", "ConfigMap", &PLAIN_OBJECT),
    ("", "Secret", &PLAIN_OBJECT),
    ("", "Service", &SERVICE),
    ("", "ServiceAccount", &SERVICE_ACCOUNT),
    ("", "Pod", &POD),
    ("", "PodTemplate", &POD_TEMPLATE),
    ("", "Endpoints", &PLAIN_OBJECT),
    ("", "PersistentVolumeClaim", &PERSISTENT_VOLUME_CLAIM),
    ("", "PersistentVolume", &PLAIN_OBJECT),
    ("", "ReplicationController", &TEMPLATED_WORKLOAD),
    ("", "Node", &NODE),
    ("", "LimitRange", &PLAIN_OBJECT),
    ("", "ResourceQuota", &PLAIN_OBJECT),
    ("apps", "Deployment", &DEPLOYMENT),
    ("apps", "ReplicaSet", &TEMPLATED_WORKLOAD),
    ("apps", "StatefulSet", &TEMPLATED_WORKLOAD),
    ("apps", "DaemonSet", &TEMPLATED_WORKLOAD),
    ("batch", "Job", &JOB),
    ("batch", "CronJob", &CRON_JOB),
    (
        "autoscaling",
        "HorizontalPodAutoscaler",
        &CONDITIONS_ONLY_OBJECT,
    ),
    ("networking.k8s.io", "Ingress", &PLAIN_OBJECT),
    ("networking.k8s.io", "IngressClass", &PLAIN_OBJECT),
    ("networking.k8s.io", "NetworkPolicy", &PLAIN_OBJECT),
    ("rbac.authorization.k8s.io", "Role", &PLAIN_OBJECT),
    ("rbac.authorization.k8s.io", "RoleBinding", &PLAIN_OBJECT),
    ("rbac.authorization.k8s.io", "ClusterRole", &PLAIN_OBJECT),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        &PLAIN_OBJECT,
    ),
    ("policy", "PodDisruptionBudget", &POD_DISRUPTION_BUDGET),
    ("discovery.k8s.io", "EndpointSlice", &PLAIN_OBJECT),
];

/// An object whose metadata is in `metadata` and `status.conditions` (merged by `type`).
static CONDITIONS_ONLY_OBJECT: Node = Node {
    fields: &[
        Field::object("metadata", &OBJECT_META),
        Field::object("status", &CONDITIONS_STATUS),
    ],
};

/// The merge metadata of one built-in kind.
///
/// ```
/// use serde_json::json;
/// use sluice_patch::{BuiltinSchema, PatchSchema, PatchStrategy, PathElement};
///
/// let deployment = BuiltinSchema::for_kind("apps/v1", "Deployment").unwrap();
/// let path = ["spec", "template", "spec", "containers"].map(PathElement::field);
/// let containers = deployment.field(&path);
/// assert_eq!(containers.strategy, PatchStrategy::Merge);
/// assert_eq!(containers.merge_key.as_deref(), Some("name"));
/// ```
#[derive(Clone, Copy)]
pub struct BuiltinSchema {
    group: &'static str,
    kind: &'static str,
    root: &'static Node,
}

impl std::fmt::Debug for BuiltinSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinSchema")
            .field("group", &self.group)
            .field("kind", &self.kind)
            .finish()
    }
}

impl BuiltinSchema {
    /// The schema of a built-in kind, by `apiVersion` (`v1`, `apps/v1`, ...) and `kind`;
    /// `None` for kinds this table does not know (custom resources among them).
    pub fn for_kind(api_version: &str, kind: &str) -> Option<BuiltinSchema> {
        let group = api_version
            .rsplit_once('/')
            .map_or("", |(group, _version)| group);
        KINDS
            .iter()
            .find(|(g, k, _)| *g == group && *k == kind)
            .map(|(group, kind, root)| BuiltinSchema { group, kind, root })
    }

    /// The schema for an object, from its `apiVersion` and `kind`.
    pub fn for_object(object: &Value) -> Option<BuiltinSchema> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        BuiltinSchema::for_kind(api_version, kind)
    }

    /// Every kind the table knows, as `(API group, kind)`; the core group is `""`.
    pub fn kinds() -> impl Iterator<Item = (&'static str, &'static str)> {
        KINDS.iter().map(|(group, kind, _)| (*group, *kind))
    }
}

impl PatchSchema for BuiltinSchema {
    fn field(&self, path: &[PathElement]) -> FieldSchema {
        let mut node = self.root;
        let mut rest = path;
        loop {
            let Some((PathElement::Field(name), after)) = rest.split_first() else {
                // An empty path or a list element itself: no field metadata.
                return FieldSchema::default();
            };
            let Some(field) = node.fields.iter().find(|f| f.name == name) else {
                return FieldSchema::default();
            };
            if after.is_empty() {
                return field.schema();
            }
            let Some(child) = field.child else {
                return FieldSchema::default();
            };
            node = child;
            rest = match after.split_first() {
                Some((PathElement::Item, beyond)) => beyond,
                _ => after,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(api_version: &str, kind: &str, path: &str) -> FieldSchema {
        let schema = BuiltinSchema::for_kind(api_version, kind).expect("known kind");
        let path: Vec<PathElement> = path
            .split('.')
            .map(|step| {
                if step == "[]" {
                    PathElement::Item
                } else {
                    PathElement::field(step)
                }
            })
            .collect();
        schema.field(&path)
    }

    fn merge_key(api_version: &str, kind: &str, path: &str) -> Option<String> {
        let field = lookup(api_version, kind, path);
        assert_eq!(field.strategy, PatchStrategy::Merge, "{kind} {path}");
        field.merge_key.map(Cow::into_owned)
    }

    #[test]
    fn the_pod_template_has_the_same_merge_keys_wherever_it_is_embedded() {
        let embeddings = [
            ("v1", "Pod", "spec"),
            ("v1", "PodTemplate", "template.spec"),
            ("v1", "ReplicationController", "spec.template.spec"),
            ("apps/v1", "Deployment", "spec.template.spec"),
            ("apps/v1", "ReplicaSet", "spec.template.spec"),
            ("apps/v1", "StatefulSet", "spec.template.spec"),
            ("apps/v1", "DaemonSet", "spec.template.spec"),
            ("batch/v1", "Job", "spec.template.spec"),
            ("batch/v1", "CronJob", "spec.jobTemplate.spec.template.spec"),
        ];
        let keys = [
            ("containers", Some("name")),
            ("initContainers", Some("name")),
            ("ephemeralContainers", Some("name")),
            ("containers.[].ports", Some("containerPort")),
            ("containers.[].env", Some("name")),
            ("containers.[].volumeMounts", Some("mountPath")),
            ("containers.[].volumeDevices", Some("devicePath")),
            ("initContainers.[].env", Some("name")),
            ("volumes", Some("name")),
            ("imagePullSecrets", Some("name")),
            ("hostAliases", Some("ip")),
            ("topologySpreadConstraints", Some("topologyKey")),
            ("schedulingGates", Some("name")),
            ("resourceClaims", Some("name")),
        ];
        for (api_version, kind, spec) in embeddings {
            for (field, key) in keys {
                let path = format!("{spec}.{field}");
                assert_eq!(
                    merge_key(api_version, kind, &path).as_deref(),
                    key,
                    "{kind} {path}"
                );
            }
        }
    }

    #[test]
    fn object_metadata_merges_owner_references_by_uid_and_finalizers_as_a_set() {
        for (api_version, kind) in BuiltinSchema::kinds().map(|(group, kind)| {
            (
                if group.is_empty() {
                    "v1".to_owned()
                } else {
                    format!("{group}/v1")
                },
                kind,
            )
        }) {
            assert_eq!(
                merge_key(&api_version, kind, "metadata.ownerReferences").as_deref(),
                Some("uid"),
                "{kind}"
            );
            assert_eq!(
                merge_key(&api_version, kind, "metadata.finalizers"),
                None,
                "{kind}"
            );
            assert_eq!(
                lookup(&api_version, kind, "metadata.finalizers").list_type(),
                ListType::Set
            );
        }
    }

    #[test]
    fn other_kinds_carry_their_own_merge_keys() {
        let cases = [
            ("v1", "Service", "spec.ports", Some("port")),
            ("v1", "Service", "status.conditions", Some("type")),
            ("v1", "ServiceAccount", "secrets", Some("name")),
            ("v1", "Namespace", "status.conditions", Some("type")),
            ("v1", "Pod", "status.conditions", Some("type")),
            ("v1", "Pod", "status.podIPs", Some("ip")),
            (
                "v1",
                "PersistentVolumeClaim",
                "status.conditions",
                Some("type"),
            ),
            ("v1", "Node", "spec.podCIDRs", None),
            ("v1", "Node", "status.addresses", Some("type")),
            ("apps/v1", "Deployment", "status.conditions", Some("type")),
            ("apps/v1", "StatefulSet", "status.conditions", Some("type")),
            ("batch/v1", "Job", "status.conditions", Some("type")),
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                "status.conditions",
                Some("type"),
            ),
            (
                "policy/v1",
                "PodDisruptionBudget",
                "status.conditions",
                Some("type"),
            ),
        ];
        for (api_version, kind, path, key) in cases {
            assert_eq!(
                merge_key(api_version, kind, path).as_deref(),
                key,
                "{kind} {path}"
            );
        }
    }

    #[test]
    fn fields_without_a_strategy_are_replaced() {
        let cases = [
            ("apps/v1", "Deployment", "spec.template.spec.tolerations"),
            (
                "apps/v1",
                "Deployment",
                "spec.template.spec.containers.[].args",
            ),
            ("networking.k8s.io/v1", "Ingress", "spec.rules"),
            ("rbac.authorization.k8s.io/v1", "Role", "rules"),
            (
                "rbac.authorization.k8s.io/v1",
                "ClusterRoleBinding",
                "subjects",
            ),
            ("networking.k8s.io/v1", "NetworkPolicy", "spec.ingress"),
            ("v1", "Endpoints", "subsets"),
            ("v1", "ConfigMap", "data"),
            ("apps/v1", "StatefulSet", "spec.volumeClaimTemplates"),
        ];
        for (api_version, kind, path) in cases {
            assert_eq!(
                lookup(api_version, kind, path),
                FieldSchema::default(),
                "{kind} {path}"
            );
        }
    }

    #[test]
    fn replace_and_retain_keys_strategies_are_recorded() {
        assert_eq!(
            lookup("policy/v1", "PodDisruptionBudget", "spec.selector").strategy,
            PatchStrategy::Replace
        );
        assert!(lookup("apps/v1", "Deployment", "spec.strategy").retain_keys);
        assert!(lookup("apps/v1", "Deployment", "spec.template.spec.volumes").retain_keys);
        assert!(!lookup("apps/v1", "Deployment", "spec.template.spec.containers").retain_keys);
    }

    #[test]
    fn list_map_keys_include_those_beyond_the_merge_key() {
        let ports = lookup(
            "apps/v1",
            "Deployment",
            "spec.template.spec.containers.[].ports",
        );
        assert_eq!(
            ports.list_type(),
            ListType::Map(vec![
                ListMapKey {
                    name: "containerPort".into(),
                    default: None
                },
                ListMapKey {
                    name: "protocol".into(),
                    default: Some(Value::String("TCP".into()))
                },
            ])
        );
        let claims = lookup("v1", "Pod", "spec.containers.[].resources.claims");
        assert_eq!(claims.strategy, PatchStrategy::Default);
        assert_eq!(
            claims.list_type(),
            ListType::Map(vec![ListMapKey {
                name: "name".into(),
                default: None
            }])
        );
        assert_eq!(
            lookup("batch/v1", "Job", "status.conditions").list_type(),
            ListType::Atomic
        );
    }

    #[test]
    fn kinds_are_found_by_group_whatever_the_version() {
        assert!(BuiltinSchema::for_kind("autoscaling/v1", "HorizontalPodAutoscaler").is_some());
        assert!(BuiltinSchema::for_kind("batch/v1beta1", "CronJob").is_some());
        assert!(BuiltinSchema::for_kind("v1", "Deployment").is_none());
        assert!(BuiltinSchema::for_kind("example.com/v1", "Widget").is_none());
        let object = serde_json::json!({"apiVersion": "v1", "kind": "Pod"});
        assert!(BuiltinSchema::for_object(&object).is_some());
        assert!(BuiltinSchema::for_object(&serde_json::json!({"kind": "Pod"})).is_none());
    }

    #[test]
    fn paths_through_unknown_fields_or_list_elements_have_no_metadata() {
        let pod = BuiltinSchema::for_kind("v1", "Pod").expect("known kind");
        assert_eq!(pod.field(&[]), FieldSchema::default());
        let element = [
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::Item,
        ];
        assert_eq!(pod.field(&element), FieldSchema::default());
        let unknown = [
            PathElement::field("spec"),
            PathElement::field("nope"),
            PathElement::field("containers"),
        ];
        assert_eq!(pod.field(&unknown), FieldSchema::default());
    }
}
