//! OpenAPI v3 documents, as kube-apiserver serves them at `/openapi/v3`: an index of group
//! versions, each with a `serverRelativeURL` carrying a hash of its document, and one
//! document per group version with the `paths` of its resources and the
//! `components.schemas` of its kinds.
//!
//! kubectl reads them for `kubectl explain` (which finds a kind by the
//! `x-kubernetes-group-version-kind` of a path's operation and of a schema), to learn that the
//! server validates fields itself (a `fieldValidation` parameter on the kind's `PATCH`), and
//! for client-side `apply` of built-in kinds, which computes a strategic merge patch from the
//! `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` extensions.
//!
//! Built-in kinds get the schemas of `k8s-openapi` (generated with schemars), annotated with
//! the merge metadata of [`sluice_patch::BuiltinSchema`]; custom resources get their CRD
//! version's `openAPIV3Schema` with the standard `apiVersion`, `kind` and `metadata`.
//!
//! Documents are cached per group version and rebuilt when the served types change (a CRD
//! is created, updated or deleted). As in kube-apiserver, a document fetched with the
//! current `hash` is immutable (`Cache-Control: public, immutable`), a stale hash redirects
//! to the current one, and `ETag`/`If-None-Match` work on every document.
//!
//! `/openapi/v2` serves the definitions of the built-in kinds ([`crate::openapi_v2`]): kubectl
//! validates the items of `kind: List` manifests against it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use k8s_openapi::api as k8s;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};
use sluice_patch::{BuiltinSchema, ListType, PatchSchema, PatchStrategy, PathElement};

use crate::backend::Backend;
use crate::discovery;
use crate::errors::ApiError;
use crate::http::{Body, bytes_response};
use crate::resources::{Codec, ResourceType};

/// `/openapi/v2`: the Swagger 2.0 document of the built-in kinds (see
/// [`crate::openapi_v2`]).
pub fn v2(accept: &str, if_none_match: Option<&str>) -> Response<Body> {
    crate::openapi_v2::serve(accept, if_none_match)
}

/// Every definition of the built-in kinds' documents (kinds, lists, what they refer to, the
/// metadata types), annotated as in the v3 documents.
pub fn builtin_definitions() -> Map<String, Value> {
    let mut definitions = (*meta_schemas()).clone();
    for kind in builtin_kinds() {
        for (name, schema) in builtin_schemas(kind).iter() {
            merge_schema(&mut definitions, name, schema);
        }
    }
    let mut generator = generator();
    add_schema::<k8s::autoscaling::v1::Scale>(&mut generator);
    for (name, schema) in generator.take_definitions(true) {
        merge_schema(&mut definitions, &name, &schema);
    }
    definitions
}

/// One built group-version document.
#[derive(Debug)]
struct Document {
    bytes: Bytes,
    /// Upper-case hex SHA-512 of `bytes`: the `hash` of its URL and its `ETag`.
    hash: String,
}

/// `/openapi/v3`: the index of group-version documents, each with the URL of its current
/// version.
pub fn v3_index(backend: &Backend, if_none_match: Option<&str>) -> Response<Body> {
    let mut paths = Map::new();
    for ((group, version), types) in served_group_versions(backend) {
        let document = document(&group, &version, &types);
        let path = document_path(&group, &version);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", document.hash)}),
        );
    }
    let bytes = serde_json::to_vec(&json!({ "paths": paths })).unwrap_or_default();
    let tag = discovery::etag(&bytes);
    let mut response = if discovery::matches_etag(if_none_match, &tag) {
        discovery::not_modified(&tag)
    } else {
        bytes_response(StatusCode::OK, Bytes::from(bytes), "application/json")
    };
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `/openapi/v3/apis/{group}/{version}` and `/openapi/v3/api/v1`.
///
/// With the current `hash` the response may be cached forever; with another one it
/// redirects (301) to the current document.
///
/// # Errors
/// 404 for a group version that is not served.
pub fn v3(
    backend: &Backend,
    group: &str,
    version: &str,
    hash: Option<&str>,
    if_none_match: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let types = types_of(backend, group, version);
    if types.is_empty() {
        return Err(ApiError::no_route(&format!(
            "/openapi/v3/{}",
            document_path(group, version)
        )));
    }
    let document = document(group, version, &types);
    let current = format!(
        "/openapi/v3/{}?hash={}",
        document_path(group, version),
        document.hash
    );
    if let Some(hash) = hash.filter(|h| !h.is_empty() && *h != document.hash) {
        let _ = hash;
        let mut response = bytes_response(StatusCode::MOVED_PERMANENTLY, Bytes::new(), "");
        response.headers_mut().remove(header::CONTENT_TYPE);
        if let Ok(location) = HeaderValue::from_str(&current) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        return Ok(response);
    }
    let tag = format!("\"{}\"", document.hash);
    let mut response = if discovery::matches_etag(if_none_match, &tag) {
        discovery::not_modified(&tag)
    } else {
        bytes_response(StatusCode::OK, document.bytes.clone(), "application/json")
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if hash.is_some_and(|h| !h.is_empty()) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, immutable"),
        );
        let expires = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(24 * 365))
            .unwrap_or_else(|_| jiff::Timestamp::now());
        if let Ok(value) =
            HeaderValue::from_str(&expires.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        {
            headers.insert(header::EXPIRES, value);
        }
    }
    Ok(response)
}

/// `api/v1` or `apis/{group}/{version}`.
fn document_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn served_group_versions(backend: &Backend) -> BTreeMap<(String, String), Vec<Arc<ResourceType>>> {
    let mut served: BTreeMap<(String, String), Vec<Arc<ResourceType>>> = BTreeMap::new();
    for rt in backend.registry.all() {
        served
            .entry((rt.group.clone(), rt.version.clone()))
            .or_default()
            .push(rt);
    }
    served
}

fn types_of(backend: &Backend, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
    backend
        .registry
        .all()
        .into_iter()
        .filter(|rt| rt.group == group && rt.version == version)
        .collect()
}

/// A built document and the types it was built from.
struct Cached {
    types: Vec<Arc<ResourceType>>,
    document: Arc<Document>,
}

/// The document of a group version, from the cache while its types are the very same
/// objects (the registry replaces a type's `Arc` whenever its CRD changes; holding the
/// `Arc`s here keeps their addresses from being reused).
fn document(group: &str, version: &str, types: &[Arc<ResourceType>]) -> Arc<Document> {
    static CACHE: OnceLock<Mutex<HashMap<(String, String), Cached>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let key = (group.to_owned(), version.to_owned());
    let same = |cached: &Cached| {
        cached.types.len() == types.len()
            && cached
                .types
                .iter()
                .zip(types)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    };
    if let Some(cached) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .filter(|c| same(c))
    {
        return Arc::clone(&cached.document);
    }
    let value = build(group, version, types);
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    let hash = hex::encode_upper(<sha2::Sha512 as sha2::Digest>::digest(&bytes));
    let document = Arc::new(Document {
        bytes: Bytes::from(bytes),
        hash,
    });
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
        key,
        Cached {
            types: types.to_vec(),
            document: Arc::clone(&document),
        },
    );
    document
}

/// Builds the document of a group version.
pub fn build(group: &str, version: &str, types: &[Arc<ResourceType>]) -> Value {
    let mut schemas = (*meta_schemas()).clone();
    let mut paths = Map::new();
    for rt in types {
        let Some(kind_ref) = add_kind_schemas(&mut schemas, rt) else {
            continue;
        };
        add_paths(&mut paths, rt, &kind_ref);
    }
    if types.iter().any(|rt| rt.scale.is_some()) {
        let mut generator = generator();
        add_schema::<k8s::autoscaling::v1::Scale>(&mut generator);
        for (name, schema) in generator.take_definitions(true) {
            merge_schema(&mut schemas, &name, &schema);
        }
    }
    let _ = (group, version);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"}},
        },
    })
}

const COMPONENTS: &str = "#/components/schemas/";
const API_VERSION_DOC: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND_DOC: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

fn generator() -> SchemaGenerator {
    SchemaSettings::openapi3().into_generator()
}

fn add_schema<T: JsonSchema>(generator: &mut SchemaGenerator) {
    let _ = generator.subschema_for::<T>();
}

/// The schemas every document has: object and list metadata, `Status`, `DeleteOptions`,
/// `Patch`, `WatchEvent` and what they refer to.
fn meta_schemas() -> Arc<Map<String, Value>> {
    static META: OnceLock<Arc<Map<String, Value>>> = OnceLock::new();
    Arc::clone(META.get_or_init(|| {
        let mut generator = generator();
        add_schema::<meta::ObjectMeta>(&mut generator);
        add_schema::<meta::ListMeta>(&mut generator);
        add_schema::<meta::Status>(&mut generator);
        add_schema::<meta::DeleteOptions>(&mut generator);
        add_schema::<meta::Patch>(&mut generator);
        add_schema::<meta::WatchEvent<k8s::core::v1::ConfigMap>>(&mut generator);
        add_schema::<meta::APIResourceList>(&mut generator);
        let mut definitions = generator.take_definitions(true);
        if let Some(merge) = BuiltinSchema::for_kind("v1", "ConfigMap") {
            let object_meta = meta::ObjectMeta::schema_name();
            annotate_merge_metadata(
                &mut definitions,
                &object_meta,
                &merge,
                vec![PathElement::field("metadata")],
            );
        }
        Arc::new(definitions)
    }))
}

/// A built-in kind with a schema in `k8s-openapi`.
struct BuiltinKind {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    add: fn(&mut SchemaGenerator),
    name: fn() -> String,
}

fn builtin<T: k8s_openapi::Resource + JsonSchema>() -> BuiltinKind {
    BuiltinKind {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        add: add_schema::<T>,
        name: || T::schema_name().into_owned(),
    }
}

/// Every built-in kind the documents can describe.
fn builtin_kinds() -> &'static [BuiltinKind] {
    static KINDS: OnceLock<Vec<BuiltinKind>> = OnceLock::new();
    KINDS.get_or_init(|| {
        vec![
            builtin::<k8s::core::v1::Namespace>(),
            builtin::<k8s::core::v1::ConfigMap>(),
            builtin::<k8s::core::v1::Secret>(),
            builtin::<k8s::core::v1::Service>(),
            builtin::<k8s::core::v1::ServiceAccount>(),
            builtin::<k8s::core::v1::Event>(),
            builtin::<k8s::core::v1::Pod>(),
            builtin::<k8s::core::v1::PodTemplate>(),
            builtin::<k8s::core::v1::ReplicationController>(),
            builtin::<k8s::core::v1::Endpoints>(),
            builtin::<k8s::core::v1::PersistentVolumeClaim>(),
            builtin::<k8s::core::v1::PersistentVolume>(),
            builtin::<k8s::core::v1::Node>(),
            builtin::<k8s::core::v1::LimitRange>(),
            builtin::<k8s::core::v1::ResourceQuota>(),
            builtin::<k8s::apps::v1::Deployment>(),
            builtin::<k8s::apps::v1::ReplicaSet>(),
            builtin::<k8s::apps::v1::StatefulSet>(),
            builtin::<k8s::apps::v1::DaemonSet>(),
            builtin::<k8s::apps::v1::ControllerRevision>(),
            builtin::<k8s::batch::v1::Job>(),
            builtin::<k8s::batch::v1::CronJob>(),
            builtin::<k8s::autoscaling::v1::HorizontalPodAutoscaler>(),
            builtin::<k8s::autoscaling::v2::HorizontalPodAutoscaler>(),
            builtin::<k8s::networking::v1::Ingress>(),
            builtin::<k8s::networking::v1::IngressClass>(),
            builtin::<k8s::networking::v1::NetworkPolicy>(),
            builtin::<k8s::discovery::v1::EndpointSlice>(),
            builtin::<k8s::rbac::v1::Role>(),
            builtin::<k8s::rbac::v1::RoleBinding>(),
            builtin::<k8s::rbac::v1::ClusterRole>(),
            builtin::<k8s::rbac::v1::ClusterRoleBinding>(),
            builtin::<k8s::coordination::v1::Lease>(),
            builtin::<apiextensions::CustomResourceDefinition>(),
            builtin::<k8s::policy::v1::PodDisruptionBudget>(),
            builtin::<k8s::scheduling::v1::PriorityClass>(),
            builtin::<k8s::storage::v1::StorageClass>(),
            builtin::<k8s::events::v1::Event>(),
        ]
    })
}

/// Group, version and kind of a built-in kind.
type KindKey = (&'static str, &'static str, &'static str);

/// Schemas by name, shared.
type Definitions = Arc<Map<String, Value>>;

/// The schemas of a built-in kind (with everything they refer to), annotated; cached.
fn builtin_schemas(kind: &BuiltinKind) -> Arc<Map<String, Value>> {
    static CACHE: OnceLock<Mutex<HashMap<KindKey, Definitions>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let key = (kind.group, kind.version, kind.kind);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Arc::clone(found);
    }
    let mut generator = generator();
    (kind.add)(&mut generator);
    let mut definitions = generator.take_definitions(true);
    let name = (kind.name)();
    let api_version = if kind.group.is_empty() {
        kind.version.to_owned()
    } else {
        format!("{}/{}", kind.group, kind.version)
    };
    if let Some(merge) = BuiltinSchema::for_kind(&api_version, kind.kind) {
        annotate_merge_metadata(&mut definitions, &name, &merge, Vec::new());
    }
    if let Some(schema) = definitions.get_mut(&name) {
        // k8s-openapi lists fields that are not optional in Rust as required; the API
        // requires neither metadata nor spec of these kinds (core events do require
        // metadata, CRDs a spec).
        let keep_metadata = kind.group.is_empty() && kind.kind == "Event";
        let keep_spec = kind.kind == "CustomResourceDefinition";
        drop_required(schema, |field| {
            (field == "metadata" && !keep_metadata) || (field == "spec" && !keep_spec)
        });
        schema["x-kubernetes-group-version-kind"] = gvk_list(kind.group, kind.version, kind.kind);
    }
    // Reference and selector types whose `name` k8s-openapi makes required (it defaults to
    // "" in the API).
    for selector in [
        "LocalObjectReference",
        "ConfigMapEnvSource",
        "SecretEnvSource",
        "ConfigMapKeySelector",
        "SecretKeySelector",
        "ConfigMapProjection",
        "SecretProjection",
        "ConfigMapVolumeSource",
    ] {
        let Some(schema) = definitions.get_mut(&format!("io.k8s.api.core.v1.{selector}")) else {
            continue;
        };
        drop_required(schema, |field| field == "name");
    }
    let list_name = format!("{name}List");
    definitions.insert(
        list_name,
        list_schema(kind.group, kind.version, kind.kind, &name),
    );
    let definitions = Arc::new(definitions);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, Arc::clone(&definitions));
    definitions
}

/// Removes the fields `drop` names from a schema's `required` (and an emptied list).
fn drop_required(schema: &mut Value, drop: impl Fn(&str) -> bool) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(required) = object.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|field| !field.as_str().is_some_and(&drop));
        if required.is_empty() {
            object.remove("required");
        }
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

fn gvk_list(group: &str, version: &str, kind: &str) -> Value {
    json!([gvk(group, version, kind)])
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("{COMPONENTS}{name}") })
}

/// The `<Kind>List` schema of a kind.
fn list_schema(group: &str, version: &str, kind: &str, item: &str) -> Value {
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"description": API_VERSION_DOC, "type": "string"},
            "items": {"description": format!("Items is the list of {kind} objects."), "type": "array", "items": reference(item)},
            "kind": {"description": KIND_DOC, "type": "string"},
            "metadata": {"allOf": [reference("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")], "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"},
        },
        "x-kubernetes-group-version-kind": gvk_list(group, version, &format!("{kind}List")),
    })
}

/// Adds the schemas of a served type; returns the name of its kind's schema, or `None`
/// when there is no schema for it.
fn add_kind_schemas(schemas: &mut Map<String, Value>, rt: &ResourceType) -> Option<String> {
    match &rt.codec {
        Codec::Builtin(_) => {
            let kind = builtin_kinds()
                .iter()
                .find(|k| k.group == rt.group && k.version == rt.version && k.kind == rt.kind)?;
            for (name, schema) in builtin_schemas(kind).iter() {
                merge_schema(schemas, name, schema);
            }
            Some((kind.name)())
        }
        Codec::Custom(custom) => {
            let name = custom_schema_name(&rt.group, &rt.version, &rt.kind);
            schemas.insert(name.clone(), custom_kind_schema(rt, &custom.schema));
            schemas.insert(
                format!("{name}List"),
                list_schema(&rt.group, &rt.version, &rt.kind, &name),
            );
            Some(name)
        }
    }
}

/// Adds a schema to a document's schemas; when it is there already (a definition two kinds
/// share), adds the `x-kubernetes-*` extensions the new copy has and the old one lacks: each
/// kind's copy carries the merge metadata of the paths that kind reaches it by.
fn merge_schema(schemas: &mut Map<String, Value>, name: &str, schema: &Value) {
    match schemas.get_mut(name) {
        Some(existing) => merge_extensions(existing, schema),
        None => {
            schemas.insert(name.to_owned(), schema.clone());
        }
    }
}

fn merge_extensions(existing: &mut Value, incoming: &Value) {
    let (Some(existing), Some(incoming)) = (existing.as_object_mut(), incoming.as_object()) else {
        return;
    };
    for (key, value) in incoming {
        match existing.get_mut(key) {
            None if key.starts_with("x-kubernetes-") => {
                existing.insert(key.clone(), value.clone());
            }
            Some(present) if present.is_object() => merge_extensions(present, value),
            _ => {}
        }
    }
}

/// kube-apiserver's name of a custom resource's schema: the group reversed, the version,
/// the kind (`io.fluxcd.toolkit.source.v1.GitRepository`).
pub fn custom_schema_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// A CRD version's schema as published: its `openAPIV3Schema` with the standard
/// `apiVersion`, `kind` and `metadata` properties and the kind's group-version-kind.
fn custom_kind_schema(rt: &ResourceType, schema: &Value) -> Value {
    let mut schema = if schema.is_object() {
        schema.clone()
    } else {
        json!({"type": "object"})
    };
    if schema.get("type").is_none() {
        schema["type"] = Value::from("object");
    }
    if !schema.get("properties").is_some_and(Value::is_object) {
        schema["properties"] = json!({});
    }
    let properties = &mut schema["properties"];
    properties["apiVersion"] = json!({"description": API_VERSION_DOC, "type": "string"});
    properties["kind"] = json!({"description": KIND_DOC, "type": "string"});
    properties["metadata"] = json!({
        "allOf": [reference("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")],
        "description": "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    });
    schema["x-kubernetes-group-version-kind"] = gvk_list(&rt.group, &rt.version, &rt.kind);
    schema
}

/// The definition a property schema refers to: `$ref`, or the single `$ref` of an
/// `allOf`.
fn referenced(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .or_else(|| schema.get("allOf")?.get(0)?.get("$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(COMPONENTS))
}

/// Writes the merge metadata of a built-in kind into the definitions reachable from
/// `root` (its schema, or the one at `path` in it), as `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
/// `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`.
fn annotate_merge_metadata(
    definitions: &mut Map<String, Value>,
    root: &str,
    merge: &BuiltinSchema,
    mut path: Vec<PathElement>,
) {
    let mut stack = Vec::new();
    walk(definitions, root, merge, &mut path, &mut stack);
}

fn walk(
    definitions: &mut Map<String, Value>,
    name: &str,
    merge: &BuiltinSchema,
    path: &mut Vec<PathElement>,
    stack: &mut Vec<String>,
) {
    if stack.iter().any(|n| n == name) {
        return;
    }
    let Some(properties) = definitions
        .get(name)
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object)
    else {
        return;
    };
    // What to visit: (property, definition it refers to, whether through list items).
    let children: Vec<(String, Option<String>, bool)> = properties
        .iter()
        .map(|(field, schema)| match referenced(schema) {
            Some(target) => (field.clone(), Some(target.to_owned()), false),
            None => (
                field.clone(),
                schema.get("items").and_then(referenced).map(str::to_owned),
                true,
            ),
        })
        .collect();
    stack.push(name.to_owned());
    for (field, target, through_items) in children {
        path.push(PathElement::field(field.clone()));
        let facts = merge.field(path);
        if let Some(property) = definitions
            .get_mut(name)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(&field))
            .and_then(Value::as_object_mut)
        {
            let strategy = match (facts.strategy, facts.retain_keys) {
                (PatchStrategy::Merge, true) => Some("merge,retainKeys"),
                (PatchStrategy::Merge, false) => Some("merge"),
                (PatchStrategy::Replace, _) => Some("replace"),
                (PatchStrategy::Default, true) => Some("retainKeys"),
                (PatchStrategy::Default, false) => None,
            };
            if let Some(strategy) = strategy {
                property
                    .entry("x-kubernetes-patch-strategy")
                    .or_insert_with(|| Value::from(strategy));
            }
            if let Some(key) = &facts.merge_key {
                property
                    .entry("x-kubernetes-patch-merge-key")
                    .or_insert_with(|| Value::from(key.as_ref()));
            }
            match &facts.list_type {
                Some(ListType::Atomic) => {
                    property
                        .entry("x-kubernetes-list-type")
                        .or_insert_with(|| Value::from("atomic"));
                }
                Some(ListType::Set) => {
                    property
                        .entry("x-kubernetes-list-type")
                        .or_insert_with(|| Value::from("set"));
                }
                Some(ListType::Map(keys)) => {
                    property
                        .entry("x-kubernetes-list-type")
                        .or_insert_with(|| Value::from("map"));
                    property
                        .entry("x-kubernetes-list-map-keys")
                        .or_insert_with(|| {
                            Value::from(keys.iter().map(|k| k.name.to_string()).collect::<Vec<_>>())
                        });
                }
                None => {}
            }
        }
        if let Some(target) = target {
            if through_items {
                path.push(PathElement::Item);
            }
            walk(definitions, &target, merge, path, stack);
            if through_items {
                path.pop();
            }
        }
        path.pop();
    }
    stack.pop();
}

/// `apps` → `Apps`, `rbac.authorization.k8s.io` → `RbacAuthorization`,
/// `source.toolkit.fluxcd.io` → `SourceToolkitFluxcdIo`, core → `Core`: how kube-apiserver
/// names groups in operation ids.
fn group_identifier(group: &str) -> String {
    if group.is_empty() {
        return "Core".to_owned();
    }
    group
        .trim_end_matches(".k8s.io")
        .split(['.', '-'])
        .map(capitalize)
        .collect()
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn parameter(name: &str, location: &str, type_: &str, description: &str) -> Value {
    let mut parameter = json!({"name": name, "in": location, "description": description, "schema": {"type": type_, "uniqueItems": true}});
    if location == "path" {
        parameter["required"] = Value::Bool(true);
    }
    parameter
}

fn dry_run() -> Value {
    parameter(
        "dryRun",
        "query",
        "string",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    )
}

fn field_manager() -> Value {
    parameter(
        "fieldManager",
        "query",
        "string",
        "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.",
    )
}

fn field_validation() -> Value {
    parameter(
        "fieldValidation",
        "query",
        "string",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.",
    )
}

fn list_parameters() -> Vec<Value> {
    vec![
        parameter(
            "allowWatchBookmarks",
            "query",
            "boolean",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.",
        ),
        parameter(
            "continue",
            "query",
            "string",
            "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.",
        ),
        parameter(
            "fieldSelector",
            "query",
            "string",
            "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
        ),
        parameter(
            "labelSelector",
            "query",
            "string",
            "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
        ),
        parameter(
            "limit",
            "query",
            "integer",
            "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.",
        ),
        parameter(
            "resourceVersion",
            "query",
            "string",
            "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
        ),
        parameter(
            "resourceVersionMatch",
            "query",
            "string",
            "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset",
        ),
        parameter(
            "sendInitialEvents",
            "query",
            "boolean",
            "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic \"Bookmark\" event  will be sent.",
        ),
        parameter(
            "timeoutSeconds",
            "query",
            "integer",
            "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.",
        ),
        parameter(
            "watch",
            "query",
            "boolean",
            "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.",
        ),
    ]
}

fn delete_parameters() -> Vec<Value> {
    vec![
        dry_run(),
        parameter(
            "gracePeriodSeconds",
            "query",
            "integer",
            "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
        ),
        parameter(
            "orphanDependents",
            "query",
            "boolean",
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.",
        ),
        parameter(
            "propagationPolicy",
            "query",
            "string",
            "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
        ),
    ]
}

/// Everything about one resource that its operations share.
struct Operations<'a> {
    rt: &'a ResourceType,
    kind_ref: String,
    tag: String,
    group_id: String,
    media_types: &'static [&'static str],
}

impl Operations<'_> {
    fn content(&self, schema: &str) -> Value {
        let mut content = Map::new();
        for media_type in self.media_types {
            content.insert(
                (*media_type).to_owned(),
                json!({"schema": reference(schema)}),
            );
        }
        Value::Object(content)
    }

    fn responses(&self, codes: &[(&str, &str)], schema: &str) -> Value {
        let mut responses = Map::new();
        for (code, description) in codes {
            responses.insert(
                (*code).to_owned(),
                json!({"description": description, "content": self.content(schema)}),
            );
        }
        responses.insert("401".to_owned(), json!({"description": "Unauthorized"}));
        Value::Object(responses)
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &self,
        id: &str,
        action: &str,
        description: String,
        parameters: Vec<Value>,
        body: Option<Value>,
        responses: Value,
        gvk: Value,
    ) -> Value {
        let mut operation = json!({
            "description": description,
            "operationId": id,
            "responses": responses,
            "tags": [self.tag],
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
        });
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(body) = body {
            operation["requestBody"] = body;
        }
        operation
    }

    fn write_body(&self, schema: &str) -> Value {
        json!({"content": {"*/*": {"schema": reference(schema)}}, "required": true})
    }

    fn patch_body(&self) -> Value {
        let patch = reference("io.k8s.apimachinery.pkg.apis.meta.v1.Patch");
        let mut content = json!({
            "application/apply-patch+yaml": {"schema": patch},
            "application/json-patch+json": {"schema": patch},
            "application/merge-patch+json": {"schema": patch},
        });
        if matches!(self.rt.codec, Codec::Builtin(_)) {
            content["application/strategic-merge-patch+json"] = json!({ "schema": patch });
        }
        json!({"content": content, "required": true})
    }

    /// `NamespacedDeployment` or `Namespace`: the end of an operation id.
    fn kind_part(&self, namespaced: bool) -> String {
        format!(
            "{}{}",
            if namespaced { "Namespaced" } else { "" },
            self.rt.kind
        )
    }

    /// `readAppsV1NamespacedDeploymentScale`: kube-apiserver's operation ids.
    fn id(&self, verb: &str, namespaced: bool, suffix: &str) -> String {
        format!(
            "{verb}{}{}{}{suffix}",
            self.group_id,
            capitalize(&self.rt.version),
            self.kind_part(namespaced),
        )
    }

    fn collection(&self, all_namespaces: bool) -> Value {
        let rt = self.rt;
        let kind = &rt.kind;
        let gvk = gvk(&rt.group, &rt.version, kind);
        let list = format!("{}List", self.kind_ref);
        let mut list_media: Vec<&str> = self.media_types.to_vec();
        list_media.extend(["application/json;stream=watch"]);
        let list_content: Map<String, Value> = list_media
            .iter()
            .map(|m| ((*m).to_owned(), json!({"schema": reference(&list)})))
            .collect();
        let list_responses = json!({"200": {"description": "OK", "content": list_content}, "401": {"description": "Unauthorized"}});
        if all_namespaces {
            let mut path = json!({
                "get": self.operation(&format!("{}ForAllNamespaces", self.id("list", false, "")), "list",
                    format!("list or watch objects of kind {kind}"), Vec::new(), None, list_responses, gvk),
            });
            path["parameters"] =
                Value::Array(list_parameters().into_iter().chain([pretty()]).collect());
            return path;
        }
        let namespaced = rt.namespaced;
        let mut create_parameters = vec![dry_run(), field_manager(), field_validation()];
        create_parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let mut delete_parameters = delete_parameters();
        delete_parameters.extend(
            list_parameters()
                .into_iter()
                .filter(|p| !matches!(p["name"].as_str(), Some("watch" | "allowWatchBookmarks"))),
        );
        delete_parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let mut path = json!({
            "get": self.operation(&self.id("list", namespaced, ""), "list",
                format!("list or watch objects of kind {kind}"), list_parameters(), None, list_responses, gvk.clone()),
            "post": self.operation(&self.id("create", namespaced, ""), "post",
                format!("create a {kind}"), create_parameters, Some(self.write_body(&self.kind_ref)),
                self.responses(&[("200", "OK"), ("201", "Created"), ("202", "Accepted")], &self.kind_ref), gvk.clone()),
            "delete": self.operation(&format!("delete{}{}Collection{}", self.group_id, capitalize(&rt.version), self.kind_part(namespaced)), "deletecollection",
                format!("delete collection of {kind}"), delete_parameters,
                Some(self.write_body("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")),
                self.responses(&[("200", "OK")], "io.k8s.apimachinery.pkg.apis.meta.v1.Status"), gvk),
        });
        path["parameters"] = Value::Array(self.scope_parameters(false));
        path
    }

    fn scope_parameters(&self, named: bool) -> Vec<Value> {
        let mut parameters = Vec::new();
        if named {
            parameters.push(parameter(
                "name",
                "path",
                "string",
                &format!("name of the {}", self.rt.kind),
            ));
        }
        if self.rt.namespaced {
            parameters.push(parameter(
                "namespace",
                "path",
                "string",
                "object name and auth scope, such as for teams and projects",
            ));
        }
        parameters.push(pretty());
        parameters
    }

    /// The object path, or one of its subresources (`status`, `scale`).
    fn item(&self, subresource: Option<&str>) -> Value {
        let rt = self.rt;
        let namespaced = rt.namespaced;
        let kind = &rt.kind;
        let (schema, gvk, suffix, what) = match subresource {
            Some("scale") => (
                "io.k8s.api.autoscaling.v1.Scale".to_owned(),
                gvk("autoscaling", "v1", "Scale"),
                "Scale",
                format!("scale of the specified {kind}"),
            ),
            Some(_) => (
                self.kind_ref.clone(),
                gvk(&rt.group, &rt.version, kind),
                "Status",
                format!("status of the specified {kind}"),
            ),
            None => (
                self.kind_ref.clone(),
                gvk(&rt.group, &rt.version, kind),
                "",
                format!("the specified {kind}"),
            ),
        };
        let mut write_parameters = vec![dry_run(), field_manager(), field_validation()];
        write_parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let mut patch_parameters = write_parameters.clone();
        patch_parameters.push(parameter("force", "query", "boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."));
        let mut path = json!({
            "get": self.operation(&self.id("read", namespaced, suffix), "get",
                format!("read {what}"), Vec::new(), None, self.responses(&[("200", "OK")], &schema), gvk.clone()),
            "put": self.operation(&self.id("replace", namespaced, suffix), "put",
                format!("replace {what}"), write_parameters, Some(self.write_body(&schema)),
                self.responses(&[("200", "OK"), ("201", "Created")], &schema), gvk.clone()),
            "patch": self.operation(&self.id("patch", namespaced, suffix), "patch",
                format!("partially update {what}"), patch_parameters, Some(self.patch_body()),
                self.responses(&[("200", "OK"), ("201", "Created")], &schema), gvk.clone()),
        });
        if subresource.is_none() {
            let mut delete_parameters = delete_parameters();
            delete_parameters.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            path["delete"] = self.operation(
                &self.id("delete", namespaced, ""),
                "delete",
                format!("delete a {kind}"),
                delete_parameters,
                Some(self.write_body("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions")),
                self.responses(
                    &[("200", "OK"), ("202", "Accepted")],
                    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
                ),
                gvk,
            );
        }
        path["parameters"] = Value::Array(self.scope_parameters(true));
        path
    }
}

fn pretty() -> Value {
    parameter(
        "pretty",
        "query",
        "string",
        "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
    )
}

/// Adds the paths of a resource: its collection, its objects and their subresources, and
/// for namespaced resources the list across namespaces.
fn add_paths(paths: &mut Map<String, Value>, rt: &ResourceType, kind_ref: &str) {
    let builtin = matches!(rt.codec, Codec::Builtin(_));
    let operations = Operations {
        rt,
        kind_ref: kind_ref.to_owned(),
        tag: if rt.group.is_empty() {
            format!("core_{}", rt.version)
        } else {
            let id = group_identifier(&rt.group);
            let mut chars = id.chars();
            let first = chars.next().map(|c| c.to_lowercase().collect::<String>());
            format!(
                "{}{}_{}",
                first.unwrap_or_default(),
                chars.as_str(),
                rt.version
            )
        },
        group_id: group_identifier(&rt.group),
        media_types: if builtin {
            &[
                "application/json",
                "application/vnd.kubernetes.protobuf",
                "application/yaml",
            ]
        } else {
            &["application/json", "application/yaml"]
        },
    };
    let prefix = if rt.group.is_empty() {
        format!("/api/{}", rt.version)
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    let scope = if rt.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural)
    } else {
        format!("{prefix}/{}", rt.plural)
    };
    paths.insert(scope.clone(), operations.collection(false));
    paths.insert(format!("{scope}/{{name}}"), operations.item(None));
    if rt.status_subresource {
        paths.insert(
            format!("{scope}/{{name}}/status"),
            operations.item(Some("status")),
        );
    }
    if rt.scale.is_some() {
        paths.insert(
            format!("{scope}/{{name}}/scale"),
            operations.item(Some("scale")),
        );
    }
    if rt.namespaced {
        paths.insert(
            format!("{prefix}/{}", rt.plural),
            operations.collection(true),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;

    fn registry_with_crd() -> Registry {
        let registry = Registry::with_builtins();
        crate::custom::register(
            &registry,
            &json!({
                "metadata": {"name": "gitrepositories.source.toolkit.fluxcd.io"},
                "spec": {"group": "source.toolkit.fluxcd.io", "scope": "Namespaced",
                    "names": {"plural": "gitrepositories", "singular": "gitrepository", "kind": "GitRepository"},
                    "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                        "schema": {"openAPIV3Schema": {"type": "object", "description": "GitRepository is the Schema for the gitrepositories API.",
                            "properties": {"metadata": {"type": "object"},
                                "spec": {"type": "object", "description": "GitRepositorySpec specifies the Git repository.",
                                         "required": ["url"], "properties": {"url": {"type": "string", "description": "URL specifies the Git repository URL."}}}}}}}]},
                "status": {"conditions": [{"type": "Established", "status": "True"}],
                    "acceptedNames": {"plural": "gitrepositories", "singular": "gitrepository", "kind": "GitRepository"}}
            }),
        );
        registry
    }

    fn doc(registry: &Registry, group: &str, version: &str) -> Value {
        let types: Vec<Arc<ResourceType>> = registry
            .all()
            .into_iter()
            .filter(|rt| rt.group == group && rt.version == version)
            .collect();
        build(group, version, &types)
    }

    fn patch_of<'a>(document: &'a Value, path: &str) -> &'a Value {
        &document["paths"][path]["patch"]
    }

    #[test]
    fn group_names_become_operation_id_words_as_in_kube_apiserver() {
        assert_eq!(group_identifier(""), "Core");
        assert_eq!(group_identifier("apps"), "Apps");
        assert_eq!(
            group_identifier("rbac.authorization.k8s.io"),
            "RbacAuthorization"
        );
        assert_eq!(
            group_identifier("source.toolkit.fluxcd.io"),
            "SourceToolkitFluxcdIo"
        );
        assert_eq!(group_identifier("cert-manager.io"), "CertManagerIo");
        assert_eq!(
            custom_schema_name("source.toolkit.fluxcd.io", "v1", "GitRepository"),
            "io.fluxcd.toolkit.source.v1.GitRepository"
        );
    }

    #[test]
    fn built_in_kinds_have_their_schema_paths_and_patch_parameters() {
        let registry = Registry::with_builtins();
        let apps = doc(&registry, "apps", "v1");
        let deployment = &apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert!(deployment.get("required").is_none(), "{deployment}");
        assert_eq!(
            apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentList"]["x-kubernetes-group-version-kind"]
                [0]["kind"],
            "DeploymentList"
        );
        let patch = patch_of(
            &apps,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
        );
        assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"],
            json!({"group": "apps", "kind": "Deployment", "version": "v1"})
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(
            patch["requestBody"]["content"]
                .get("application/strategic-merge-patch+json")
                .is_some()
        );
        let scale = patch_of(
            &apps,
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale",
        );
        assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
        assert!(
            apps["components"]["schemas"]
                .get("io.k8s.api.autoscaling.v1.Scale")
                .is_some()
        );
        assert_eq!(
            apps["paths"]["/apis/apps/v1/deployments"]["get"]["operationId"],
            "listAppsV1DeploymentForAllNamespaces"
        );
        assert_eq!(
            apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["delete"]["operationId"],
            "deleteAppsV1CollectionNamespacedDeployment"
        );
        let core = doc(&registry, "", "v1");
        assert_eq!(
            core["paths"]["/api/v1/namespaces/{name}"]["get"]["operationId"],
            "readCoreV1Namespace"
        );
    }

    #[test]
    fn built_in_schemas_carry_the_merge_metadata_kubectl_apply_needs() {
        let registry = Registry::with_builtins();
        let core = doc(&registry, "", "v1");
        let schemas = &core["components"]["schemas"];
        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        let ports = &schemas["io.k8s.api.core.v1.Container"]["properties"]["ports"];
        assert_eq!(ports["x-kubernetes-patch-merge-key"], "containerPort");
        let owners = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["ownerReferences"];
        assert_eq!(owners["x-kubernetes-patch-merge-key"], "uid");
        let service_ports = &schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
        assert_eq!(service_ports["x-kubernetes-patch-merge-key"], "port");
        let apps = doc(&registry, "apps", "v1");
        let strategy = &apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]
            ["strategy"];
        assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    }

    #[test]
    fn crd_kinds_get_their_schema_with_standard_metadata_and_no_strategic_merge() {
        let registry = registry_with_crd();
        let source = doc(&registry, "source.toolkit.fluxcd.io", "v1");
        let schemas = &source["components"]["schemas"];
        let kind = &schemas["io.fluxcd.toolkit.source.v1.GitRepository"];
        assert_eq!(
            kind["x-kubernetes-group-version-kind"],
            json!([{"group": "source.toolkit.fluxcd.io", "kind": "GitRepository", "version": "v1"}])
        );
        assert_eq!(
            kind["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        );
        assert_eq!(kind["properties"]["spec"]["required"], json!(["url"]));
        assert!(
            schemas
                .get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
                .is_some()
        );
        assert!(
            schemas
                .get("io.fluxcd.toolkit.source.v1.GitRepositoryList")
                .is_some()
        );
        let patch = patch_of(
            &source,
            "/apis/source.toolkit.fluxcd.io/v1/namespaces/{namespace}/gitrepositories/{name}",
        );
        assert_eq!(
            patch["operationId"],
            "patchSourceToolkitFluxcdIoV1NamespacedGitRepository"
        );
        assert!(
            patch["requestBody"]["content"]
                .get("application/strategic-merge-patch+json")
                .is_none()
        );
        assert!(source["paths"].get("/apis/source.toolkit.fluxcd.io/v1/namespaces/{namespace}/gitrepositories/{name}/status").is_some());
        assert!(
            source["paths"]
                .get("/apis/source.toolkit.fluxcd.io/v1/gitrepositories")
                .is_some()
        );
    }

    #[test]
    fn every_reference_resolves_within_its_document() {
        let registry = registry_with_crd();
        let mut group_versions: Vec<(String, String)> = registry
            .all()
            .iter()
            .map(|rt| (rt.group.clone(), rt.version.clone()))
            .collect();
        group_versions.dedup();
        for (group, version) in group_versions {
            let document = doc(&registry, &group, &version);
            let schemas = document["components"]["schemas"].as_object().unwrap();
            let text = document.to_string();
            for piece in text.split("\"$ref\":\"").skip(1) {
                let target = piece.split('"').next().unwrap();
                let name = target.strip_prefix(COMPONENTS).unwrap_or(target);
                assert!(schemas.contains_key(name), "{group}/{version}: {target}");
            }
        }
    }
}
