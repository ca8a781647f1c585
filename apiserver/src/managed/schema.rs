//! What field ownership needs to know about a kind's shape: how each list identifies its
//! elements, which maps are atomic, and which map keys are declared fields (a struct's)
//! rather than entries (a `map[string]T`'s).
//!
//! Built-in kinds take their list types from [`sluice_patch::BuiltinSchema`] (the
//! `x-kubernetes-list-type` / merge-key metadata of `k8s.io/api`) plus the few atomic types
//! and map-typed fields listed here; custom resources read their CRD version's
//! `openAPIV3Schema` (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
//! `x-kubernetes-map-type`, `properties` versus `additionalProperties`).

use sluice_patch::{BuiltinSchema, ListMapKey, ListType, PatchSchema, PathElement as Step};

use serde_json::Value;

use crate::resources::{Codec, ResourceType};

/// How a key of a map is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// A declared field of a struct.
    Field,
    /// An entry of a map that takes any key.
    Entry,
    /// Neither: the schema does not allow it.
    Undeclared,
}

/// The shape of a kind, looked up by schema path (field names, [`Step::Item`] for list
/// levels).
pub trait Shape {
    /// How the list at `path` identifies its elements.
    fn list_type(&self, path: &[Step]) -> ListType;
    /// Whether the map at `path` is owned as a whole.
    fn atomic_map(&self, path: &[Step]) -> bool;
    /// How `key` of the map at `path` is declared.
    fn member(&self, path: &[Step], key: &str) -> Member;
}

/// The shape of `rt`'s objects.
pub fn of(rt: &ResourceType) -> Box<dyn Shape + '_> {
    match &rt.codec {
        Codec::Custom(schema) => Box::new(Custom {
            root: &schema.schema,
        }),
        Codec::Builtin(_) => Box::new(Builtin::new(&rt.group, &rt.kind)),
    }
}

/// Struct fields whose value is owned as a whole wherever they appear in a built-in kind
/// (`+structType=atomic` / `+mapType=atomic` in `k8s.io/api`): label selectors, the pod's
/// node selector, service selectors, key and field references, role references, object
/// references and the Ingress backend port.
const ATOMIC_FIELDS: &[&str] = &[
    "selector",
    "podSelector",
    "namespaceSelector",
    "labelSelector",
    "nodeSelector",
    "scopeSelector",
    "secretKeyRef",
    "configMapKeyRef",
    "fieldRef",
    "resourceFieldRef",
    "fileKeyRef",
    "roleRef",
    "involvedObject",
    "related",
    "regarding",
    "port",
    "requiredDuringSchedulingIgnoredDuringExecution",
];

/// Lists whose elements are owned as a whole (owner references, local object references).
const ATOMIC_ITEM_LISTS: &[&str] = &["ownerReferences", "imagePullSecrets", "secrets"];

/// Fields of built-in kinds that are `map[string]T`: their keys are entries.
const MAP_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "data",
    "binaryData",
    "stringData",
    "limits",
    "requests",
    "capacity",
    "allocatable",
    "allocatedResources",
    "hard",
    "used",
    "parameters",
    "overhead",
    "matchLabels",
    "nodeSelector",
    "selector",
    // JSON schemas (CustomResourceDefinition): named schemas.
    "properties",
    "patternProperties",
];

/// A built-in kind.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    lists: BuiltinSchema,
}

impl Builtin {
    /// The shape of `group`/`kind`; kinds without list metadata get `ObjectMeta`'s only.
    pub fn new(group: &str, kind: &str) -> Self {
        let api_version = if group.is_empty() {
            "v1".to_owned()
        } else {
            format!("{group}/v1")
        };
        let lists = BuiltinSchema::for_kind(&api_version, kind)
            .or_else(|| BuiltinSchema::for_kind("v1", "ConfigMap"))
            .expect("ConfigMap is in the built-in merge table");
        Self { lists }
    }

    /// `ObjectMeta` alone (the `metadata` of custom resources).
    pub fn object_meta() -> Self {
        Self::new("", "ConfigMap")
    }
}

fn last_field(path: &[Step]) -> Option<&str> {
    match path.last() {
        Some(Step::Field(name)) => Some(name),
        _ => None,
    }
}

impl Shape for Builtin {
    fn list_type(&self, path: &[Step]) -> ListType {
        self.lists.field(path).list_type()
    }

    fn atomic_map(&self, path: &[Step]) -> bool {
        match path {
            [.., Step::Field(list), Step::Item] => ATOMIC_ITEM_LISTS.contains(&list.as_str()),
            _ => last_field(path).is_some_and(|name| {
                // `port` is atomic only as the Ingress backend's object; elsewhere it is a
                // scalar, which never asks.
                ATOMIC_FIELDS.contains(&name)
            }),
        }
    }

    fn member(&self, path: &[Step], _key: &str) -> Member {
        match last_field(path) {
            Some(name) if MAP_FIELDS.contains(&name) => Member::Entry,
            _ => Member::Field,
        }
    }
}

/// A custom resource, described by its version's `openAPIV3Schema`.
#[derive(Debug, Clone, Copy)]
pub struct Custom<'a> {
    root: &'a Value,
}

/// Where a schema path leads.
enum Resolved<'a> {
    /// A schema node.
    Node(&'a Value),
    /// Somewhere without a schema (`x-kubernetes-preserve-unknown-fields`, or not declared).
    Untyped,
    /// The object's `metadata`, whose shape is `ObjectMeta`'s.
    Meta,
}

impl<'a> Custom<'a> {
    /// The shape described by `schema` (an `openAPIV3Schema`).
    pub fn new(schema: &'a Value) -> Self {
        Self { root: schema }
    }

    fn resolve(&self, path: &[Step]) -> Resolved<'a> {
        if matches!(path.first(), Some(Step::Field(name)) if name == "metadata") {
            return Resolved::Meta;
        }
        let mut node = self.root;
        for step in path {
            let next = match step {
                Step::Field(name) => node
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object())),
                Step::Item => node.get("items").filter(|i| i.is_object()),
            };
            match next {
                Some(next) => node = next,
                None => return Resolved::Untyped,
            }
        }
        Resolved::Node(node)
    }
}

impl Shape for Custom<'_> {
    fn list_type(&self, path: &[Step]) -> ListType {
        let node = match self.resolve(path) {
            Resolved::Meta => return Builtin::object_meta().list_type(path),
            Resolved::Untyped => return ListType::Atomic,
            Resolved::Node(node) => node,
        };
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => {
                let item_properties = node.get("items").and_then(|i| i.get("properties"));
                let keys = node
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|keys| {
                        keys.iter()
                            .filter_map(Value::as_str)
                            .map(|name| ListMapKey {
                                name: name.to_owned().into(),
                                default: item_properties
                                    .and_then(|p| p.get(name))
                                    .and_then(|p| p.get("default"))
                                    .cloned(),
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                ListType::Map(keys)
            }
            _ => ListType::Atomic,
        }
    }

    fn atomic_map(&self, path: &[Step]) -> bool {
        match self.resolve(path) {
            Resolved::Meta => Builtin::object_meta().atomic_map(path),
            Resolved::Untyped => false,
            Resolved::Node(node) => {
                node.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic")
            }
        }
    }

    fn member(&self, path: &[Step], key: &str) -> Member {
        let node = match self.resolve(path) {
            Resolved::Meta => return Builtin::object_meta().member(path, key),
            Resolved::Untyped => return Member::Entry,
            Resolved::Node(node) => node,
        };
        if node.get("properties").and_then(|p| p.get(key)).is_some() {
            return Member::Field;
        }
        let embedded = path.is_empty()
            || node.get("x-kubernetes-embedded-resource") == Some(&Value::Bool(true));
        if embedded && matches!(key, "apiVersion" | "kind" | "metadata") {
            return Member::Field;
        }
        let open = node
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() || a == &Value::Bool(true))
            || node.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
        if open {
            Member::Entry
        } else {
            Member::Undeclared
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps(text: &str) -> Vec<Step> {
        text.split('.')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s == "[]" {
                    Step::Item
                } else {
                    Step::field(s)
                }
            })
            .collect()
    }

    #[test]
    fn built_in_selectors_and_owner_references_are_atomic() {
        let deployment = Builtin::new("apps", "Deployment");
        assert!(deployment.atomic_map(&steps("spec.selector")));
        assert!(!deployment.atomic_map(&steps("spec.template")));
        assert!(deployment.atomic_map(&steps("metadata.ownerReferences.[]")));
        assert_eq!(
            deployment.member(&steps("metadata.labels"), "app"),
            Member::Entry
        );
        assert_eq!(deployment.member(&steps("spec"), "replicas"), Member::Field);
        assert!(matches!(
            deployment.list_type(&steps("spec.template.spec.containers")),
            ListType::Map(_)
        ));
    }

    #[test]
    fn kinds_without_merge_metadata_still_know_object_meta() {
        let lease = Builtin::new("coordination.k8s.io", "Lease");
        assert_eq!(
            lease.list_type(&steps("metadata.finalizers")),
            ListType::Set
        );
        assert_eq!(lease.list_type(&steps("spec.whatever")), ListType::Atomic);
    }

    #[test]
    fn crd_schemas_declare_list_types_map_types_and_fields() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "ports": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["port", "protocol"],
                            "items": {"type": "object", "properties": {
                                "port": {"type": "integer"},
                                "protocol": {"type": "string", "default": "TCP"}
                            }}
                        },
                        "tags": {"type": "array", "x-kubernetes-list-type": "set",
                                 "items": {"type": "string"}},
                        "ref": {"type": "object", "x-kubernetes-map-type": "atomic"},
                        "extra": {"type": "object", "additionalProperties": {"type": "string"}},
                        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }
            }
        });
        let shape = Custom::new(&schema);
        let ListType::Map(keys) = shape.list_type(&steps("spec.ports")) else {
            panic!("a map list");
        };
        assert_eq!(keys[1].default, Some(json!("TCP")));
        assert_eq!(shape.list_type(&steps("spec.tags")), ListType::Set);
        assert!(shape.atomic_map(&steps("spec.ref")));
        assert_eq!(shape.member(&[], "spec"), Member::Field);
        assert_eq!(shape.member(&[], "metadata"), Member::Field);
        assert_eq!(shape.member(&[], "bogus"), Member::Undeclared);
        assert_eq!(shape.member(&steps("spec.extra"), "k"), Member::Entry);
        assert_eq!(shape.member(&steps("spec.free"), "k"), Member::Entry);
        assert_eq!(shape.member(&steps("spec.free.k"), "deeper"), Member::Entry);
        assert_eq!(
            shape.list_type(&steps("metadata.finalizers")),
            ListType::Set
        );
    }
}
