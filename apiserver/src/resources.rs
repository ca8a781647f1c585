//! What the server serves: every resource type (built-in kinds and the kinds of registered
//! CRDs) with its names, scope, subresources and how its objects are decoded.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::builtin;
use crate::errors::ApiError;

/// How an object's name is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// A DNS-1123 subdomain (most kinds).
    Subdomain,
    /// A DNS-1123 label (namespaces).
    Label,
    /// A DNS-1035 label (services).
    Label1035,
    /// Any string usable as a path segment (RBAC kinds, e.g. `system:controller:x`).
    PathSegment,
}

/// The scale subresource of a kind: where replicas and the selector live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSpec {
    /// JSON path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas_path: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas_path: String,
    /// JSON path of the label selector as a string, if any.
    pub label_selector_path: Option<String>,
}

/// A printer column for `kubectl get` tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Header, e.g. `Ready`.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    /// Optional format (`name` marks the name column).
    pub format: String,
    /// Description shown in the Table's column definitions.
    pub description: String,
    /// 0 = shown by default, 1 = only with `-o wide`.
    pub priority: i64,
    /// JSON path evaluated on the object.
    pub json_path: String,
}

/// How objects of a kind are decoded and checked.
#[derive(Debug, Clone)]
pub enum Codec {
    /// A built-in kind with its typed decoder.
    Builtin(builtin::Decoder),
    /// A custom resource described by a CRD version's schema.
    Custom(Arc<CustomResourceSchema>),
}

/// The schema a custom resource version is validated against.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomResourceSchema {
    /// `<plural>.<group>`: the CRD this comes from.
    pub crd_name: String,
    /// The version's `openAPIV3Schema`.
    pub schema: Value,
    /// The schema compiled for decoding, defaulting and validating objects (an error when
    /// it cannot serve, which CRD validation prevents).
    pub compiled: Result<Arc<crate::crd::ResourceSchema>, crate::crd::SchemaError>,
}

/// One served resource type (one group/version/plural).
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `ConfigMap`.
    pub kind: String,
    /// Plural resource name used in URLs, e.g. `configmaps`.
    pub plural: String,
    /// Singular name, e.g. `configmap`.
    pub singular: String,
    /// Short names, e.g. `cm`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Whether `/status` is a subresource (the main resource then ignores status changes).
    pub status_subresource: bool,
    /// The scale subresource, if any.
    pub scale: Option<ScaleSpec>,
    /// Whether `metadata.generation` is maintained.
    pub has_generation: bool,
    /// How objects are decoded.
    pub codec: Codec,
    /// How names are validated.
    pub name_rule: NameRule,
    /// Printer columns beyond Name (and Age, added for every kind without a date column).
    pub columns: Vec<Column>,
    /// Field paths usable in field selectors besides `metadata.name` and
    /// `metadata.namespace`.
    pub selectable_fields: Vec<String>,
    /// The group/resource objects are stored under, when another type shares storage
    /// (`events.k8s.io` events are stored as core events).
    pub storage: (String, String),
    /// Whether this version is the one objects are stored in.
    pub storage_version: bool,
}

impl ResourceType {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The store key prefix of this type's objects in `namespace` (or every namespace).
    pub fn key_prefix(&self, namespace: Option<&str>) -> String {
        let (group, resource) = &self.storage;
        let group = if group.is_empty() {
            "core"
        } else {
            group.as_str()
        };
        match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{group}/{resource}/{ns}/"),
            _ => format!("{group}/{resource}/"),
        }
    }

    /// The store key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}{name}", self.key_prefix(namespace))
    }

    /// `configmaps` or `deployments.apps`, as used in messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The verbs served, for discovery.
    pub fn verbs(&self) -> Vec<&'static str> {
        vec![
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

/// Every served resource type. CRD-backed types come and go at runtime.
#[derive(Debug, Default)]
pub struct Registry {
    types: RwLock<BTreeMap<(String, String, String), Arc<ResourceType>>>,
}

impl Registry {
    /// A registry with every built-in kind.
    pub fn with_builtins() -> Self {
        let registry = Registry::default();
        for resource in builtin::all() {
            registry.insert(resource);
        }
        registry
    }

    /// Adds or replaces a type.
    pub fn insert(&self, resource: ResourceType) {
        let key = (
            resource.group.clone(),
            resource.version.clone(),
            resource.plural.clone(),
        );
        self.write().insert(key, Arc::new(resource));
    }

    /// Removes every version of `group`/`plural` (a deleted CRD).
    pub fn remove(&self, group: &str, plural: &str) {
        self.write()
            .retain(|(g, _, p), _| !(g == group && p == plural));
    }

    /// The type served at `group`/`version`/`plural`.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.read()
            .get(&(group.to_owned(), version.to_owned(), plural.to_owned()))
            .cloned()
    }

    /// The type for `group`/`version`/`plural`, or the `NotFound` error the real server
    /// gives for an unknown resource.
    ///
    /// # Errors
    /// 404 when nothing is served there.
    pub fn require(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Result<Arc<ResourceType>, ApiError> {
        self.get(group, version, plural)
            .ok_or_else(|| ApiError::no_route(plural))
    }

    /// The storage version of `group`/`plural`, for code that works on stored objects.
    pub fn storage_type(&self, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.read()
            .values()
            .find(|r| r.group == group && r.plural == plural && r.storage_version)
            .cloned()
    }

    /// The storage-version type of a kind in a group (e.g. for owner references).
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.read()
            .values()
            .find(|r| r.group == group && r.kind == kind && r.storage_version)
            .cloned()
    }

    /// Every served type, ordered by group, version and plural.
    pub fn all(&self) -> Vec<Arc<ResourceType>> {
        self.read().values().cloned().collect()
    }

    fn read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, BTreeMap<(String, String, String), Arc<ResourceType>>> {
        self.types.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, BTreeMap<(String, String, String), Arc<ResourceType>>>
    {
        self.types.write().unwrap_or_else(|e| e.into_inner())
    }
}
