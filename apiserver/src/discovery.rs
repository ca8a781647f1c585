//! Discovery: `/version`, `/api`, `/apis` (legacy and aggregated `apidiscovery.k8s.io/v2`),
//! `/apis/{group}` and the resource lists of each group version.
//!
//! Everything is computed from the registry on each request, so the kinds of a CRD appear
//! (and disappear) the moment it is registered. kubectl caches discovery on disk for hours
//! but drops that cache when it meets a kind it does not know, and `kubectl api-resources`
//! always asks afresh. The aggregated documents carry an `ETag` (a hash of the body) and
//! answer `If-None-Match` with `304 Not Modified`, as kube-apiserver does, so the HTTP cache
//! of client-go can revalidate them cheaply.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

use crate::backend::Backend;
use crate::errors::ApiError;
use crate::http::{Body, bytes_response};
use crate::resources::{Codec, ResourceType};

/// The Kubernetes version the server reports (the minor version matches the pinned
/// k8s-openapi types and the kubectl used in tests).
pub const MINOR: &str = "37";

/// The media type of aggregated discovery documents.
pub const AGGREGATED_MEDIA_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The `/version` document.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": MINOR,
        "emulationMajor": "1",
        "emulationMinor": MINOR,
        "gitVersion": format!("v1.{MINOR}.0+sluice"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// The `/api` document.
pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}],
    })
}

/// Whether the client asked for aggregated discovery (`apidiscovery.k8s.io/v2`) in an
/// `Accept` header. Clients list it first and fall back to the legacy documents; the
/// `v2beta1` form, which kubectl also offers, is not served.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let params: Vec<&str> = part.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

/// Orders versions as Kubernetes does: GA before beta before alpha, higher numbers first;
/// versions of another form last.
fn version_priority(version: &str) -> (u8, i64, i64) {
    let Some(rest) = version.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<i64>() else {
        return (0, 0, 0);
    };
    let tail = &rest[digits.len()..];
    if tail.is_empty() {
        return (3, major, 0);
    }
    let stage = |prefix: &str, rank: u8| {
        tail.strip_prefix(prefix)
            .and_then(|n| n.parse::<i64>().ok())
            .map(|n| (rank, major, n))
    };
    stage("beta", 2)
        .or_else(|| stage("alpha", 1))
        .unwrap_or((0, 0, 0))
}

/// The built-in groups in kube-apiserver's discovery order (highest group priority first);
/// other groups (CRDs) follow alphabetically.
const GROUP_ORDER: &[&str] = &[
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "resource.k8s.io",
];

fn group_rank(group: &str) -> (usize, &str) {
    (
        GROUP_ORDER
            .iter()
            .position(|g| *g == group)
            .unwrap_or(GROUP_ORDER.len()),
        group,
    )
}

/// Served group versions in discovery order: groups by priority, each group's versions
/// preferred first.
fn group_versions(backend: &Backend) -> Vec<(String, Vec<String>)> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rt in backend.registry.all() {
        let versions = groups.entry(rt.group.clone()).or_default();
        if !versions.contains(&rt.version) {
            versions.push(rt.version.clone());
        }
    }
    let mut groups: Vec<(String, Vec<String>)> = groups.into_iter().collect();
    for (_, versions) in &mut groups {
        versions.sort_by(|a, b| {
            version_priority(b)
                .cmp(&version_priority(a))
                .then_with(|| a.cmp(b))
        });
    }
    groups.sort_by(|(a, _), (b, _)| group_rank(a).cmp(&group_rank(b)));
    groups
}

fn group_document(group: &str, versions: &[String]) -> Value {
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": entries,
        "preferredVersion": entries.first().cloned().unwrap_or(Value::Null),
    })
}

/// `/apis`: the legacy `APIGroupList`, or the aggregated `APIGroupDiscoveryList` when
/// asked for (answering `304` when `if_none_match` names its current `ETag`).
pub fn groups(backend: &Backend, accept: &str, if_none_match: Option<&str>) -> Response<Body> {
    let groups = group_versions(backend);
    if wants_aggregated(accept) {
        let items: Vec<Value> = groups
            .iter()
            .filter(|(group, _)| !group.is_empty())
            .map(|(group, versions)| aggregated_group(backend, group, versions))
            .collect();
        return aggregated_response(items, if_none_match);
    }
    let list: Vec<Value> = groups
        .iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| group_document(group, versions))
        .collect();
    legacy_response(&json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}))
}

/// `/api`: the legacy `APIVersions`, or the core group's aggregated document when asked for.
pub fn core(backend: &Backend, accept: &str, if_none_match: Option<&str>) -> Response<Body> {
    if wants_aggregated(accept) {
        aggregated_response(
            vec![aggregated_group(backend, "", &["v1".to_owned()])],
            if_none_match,
        )
    } else {
        legacy_response(&core_versions())
    }
}

/// A strong `ETag` of a body: a hash of its bytes.
pub fn etag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode_upper(Sha512::digest(body)))
}

/// Whether an `If-None-Match` header names `etag` (or is `*`).
pub fn matches_etag(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|header| {
        header
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == etag || tag == "*")
    })
}

/// A `304 Not Modified` response for `etag`.
pub fn not_modified(etag: &str) -> Response<Body> {
    let mut response = bytes_response(StatusCode::NOT_MODIFIED, Bytes::new(), "");
    response.headers_mut().remove(header::CONTENT_TYPE);
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn legacy_response(body: &Value) -> Response<Body> {
    let mut response = bytes_response(
        StatusCode::OK,
        Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        "application/json",
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

fn aggregated_response(items: Vec<Value>, if_none_match: Option<&str>) -> Response<Body> {
    let body = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items});
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let tag = etag(&bytes);
    let mut response = if matches_etag(if_none_match, &tag) {
        not_modified(&tag)
    } else {
        bytes_response(StatusCode::OK, Bytes::from(bytes), AGGREGATED_MEDIA_TYPE)
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(value) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, value);
    }
    response
}

fn aggregated_group(backend: &Backend, group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|version| {
            let resources: Vec<Value> = types_of(backend, group, version)
                .iter()
                .map(|rt| aggregated_resource(rt))
                .collect();
            json!({"version": version, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

/// The kind a resource answers with, as aggregated discovery names it: kube-apiserver leaves
/// group and version empty for built-in kinds (they are those of the list) and spells them
/// out for custom resources.
fn response_kind(rt: &ResourceType) -> Value {
    match rt.codec {
        Codec::Builtin(_) => json!({"group": "", "version": "", "kind": rt.kind}),
        Codec::Custom(_) => json!({"group": rt.group, "version": rt.version, "kind": rt.kind}),
    }
}

const SUBRESOURCE_VERBS: [&str; 3] = ["get", "patch", "update"];

fn aggregated_resource(rt: &ResourceType) -> Value {
    let kind = response_kind(rt);
    let mut subresources = Vec::new();
    if rt.scale.is_some() {
        subresources.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": SUBRESOURCE_VERBS}));
    }
    if rt.status_subresource {
        subresources.push(
            json!({"subresource": "status", "responseKind": kind, "verbs": SUBRESOURCE_VERBS}),
        );
    }
    if is_namespaces(rt) {
        subresources
            .push(json!({"subresource": "finalize", "responseKind": kind, "verbs": ["update"]}));
        subresources.sort_by(|a, b| a["subresource"].as_str().cmp(&b["subresource"].as_str()));
    }
    let mut resource = json!({
        "resource": rt.plural,
        "responseKind": kind,
        "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": rt.singular,
        "verbs": rt.verbs(),
    });
    if !rt.short_names.is_empty() {
        resource["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        resource["categories"] = json!(rt.categories);
    }
    if !subresources.is_empty() {
        resource["subresources"] = Value::Array(subresources);
    }
    resource
}

fn is_namespaces(rt: &ResourceType) -> bool {
    rt.group.is_empty() && rt.plural == "namespaces"
}

/// The types served in a group version, ordered by resource name.
fn types_of(backend: &Backend, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
    backend
        .registry
        .all()
        .into_iter()
        .filter(|rt| rt.group == group && rt.version == version)
        .collect()
}

/// `/apis/{group}`.
///
/// # Errors
/// 404 for a group nothing is served in.
pub fn group(backend: &Backend, group: &str) -> Result<Response<Body>, ApiError> {
    let groups = group_versions(backend);
    let (_, versions) = groups
        .iter()
        .find(|(g, _)| g == group && !group.is_empty())
        .ok_or_else(|| ApiError::no_route(group))?;
    let mut document = group_document(group, versions);
    document["kind"] = Value::from("APIGroup");
    document["apiVersion"] = Value::from("v1");
    Ok(legacy_response(&document))
}

/// The `storageVersionHash` kube-apiserver publishes: the first 8 bytes of the SHA-256 of
/// the storage version's `group/version/kind`, in base64. Clients only compare it.
pub fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    let digest = Sha256::digest(format!("{group}/{version}/{kind}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

/// `/api/v1` and `/apis/{group}/{version}`: the `APIResourceList`.
///
/// # Errors
/// 404 for a group version nothing is served in.
pub fn resources(
    backend: &Backend,
    group: &str,
    version: &str,
) -> Result<Response<Body>, ApiError> {
    let types = types_of(backend, group, version);
    if types.is_empty() {
        return Err(ApiError::no_route(version));
    }
    let mut resources = Vec::new();
    for rt in &types {
        let mut entry = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs(),
        });
        if !rt.short_names.is_empty() {
            entry["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            entry["categories"] = json!(rt.categories);
        }
        let (storage_group, storage_plural) = &rt.storage;
        if let Some(storage) = backend.registry.storage_type(storage_group, storage_plural) {
            entry["storageVersionHash"] = Value::from(storage_version_hash(
                &storage.group,
                &storage.version,
                &storage.kind,
            ));
        }
        resources.push(entry);
        let sub = |name: &str, verbs: &[&str]| json!({"name": format!("{}/{name}", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": rt.kind, "verbs": verbs});
        if rt.status_subresource {
            resources.push(sub("status", &SUBRESOURCE_VERBS));
        }
        if rt.scale.is_some() {
            resources.push(json!({"name": format!("{}/scale", rt.plural), "singularName": "", "namespaced": rt.namespaced, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": SUBRESOURCE_VERBS}));
        }
        if is_namespaces(rt) {
            resources.push(sub("finalize", &["update"]));
        }
    }
    resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Ok(legacy_response(
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;
    use crate::store::{Store, StoreOptions};
    use http_body_util::BodyExt;

    fn backend() -> (Backend, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        (
            Backend::new(store, Arc::new(Registry::with_builtins())),
            dir,
        )
    }

    async fn body(response: Response<Body>) -> Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                     "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]},
                     "versions": [
                         {"name": "v1beta1", "served": true, "storage": false, "schema": {"openAPIV3Schema": {"type": "object"}}},
                         {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}},
                          "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}}}
                     ]},
            "status": {"conditions": [{"type": "Established", "status": "True"}],
                       "acceptedNames": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]}}
        })
    }

    #[test]
    fn versions_order_ga_then_beta_then_alpha() {
        let mut versions = vec![
            "v1alpha1", "v1beta2", "v2", "v1", "v1beta1", "v2beta1", "foo",
        ];
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(
            versions,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn aggregated_discovery_is_recognised_in_kubectls_accept_header() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated(kubectl));
        assert!(!wants_aggregated(
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
        ));
        assert!(!wants_aggregated("application/json, */*"));
    }

    #[test]
    fn the_storage_version_hash_is_that_of_kube_apiserver() {
        // kube-apiserver publishes these for configmaps and deployments.
        assert_eq!(storage_version_hash("", "v1", "ConfigMap"), "qFsyl6wFWjQ=");
        assert_eq!(
            storage_version_hash("apps", "v1", "Deployment"),
            "8aSe+NMegvE="
        );
    }

    #[tokio::test]
    async fn groups_come_in_kube_apiserver_order_with_crd_groups_after() {
        let (backend, _dir) = backend();
        crate::custom::register(&backend.registry, &crd());
        let list = body(groups(&backend, "application/json", None)).await;
        let names: Vec<&str> = list["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.first(), Some(&"apps"));
        assert_eq!(names.last(), Some(&"example.com"));
        let example = list["groups"].as_array().unwrap().last().unwrap();
        assert_eq!(example["preferredVersion"]["version"], "v1");
        assert_eq!(
            example["versions"][1]["groupVersion"],
            "example.com/v1beta1"
        );
    }

    #[tokio::test]
    async fn resource_lists_are_sorted_with_subresources_and_hashes() {
        let (backend, _dir) = backend();
        let list = body(resources(&backend, "apps", "v1").unwrap()).await;
        let names: Vec<&str> = list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let deployments = names.iter().position(|n| *n == "deployments").unwrap();
        assert_eq!(
            &names[deployments..deployments + 3],
            ["deployments", "deployments/scale", "deployments/status"]
        );
        let deployment = &list["resources"][deployments];
        assert_eq!(deployment["shortNames"], json!(["deploy"]));
        assert_eq!(deployment["categories"], json!(["all"]));
        assert_eq!(deployment["storageVersionHash"], "8aSe+NMegvE=");
        assert_eq!(list["resources"][deployments + 1]["kind"], "Scale");
        assert_eq!(list["resources"][deployments + 1]["group"], "autoscaling");
        assert_eq!(resources(&backend, "apps", "v9").unwrap_err().code, 404);
    }

    #[tokio::test]
    async fn aggregated_documents_list_crd_kinds_as_soon_as_they_are_registered() {
        let (backend, _dir) = backend();
        let accept = AGGREGATED_MEDIA_TYPE;
        let before = groups(&backend, accept, None);
        let before_tag = before.headers()[header::ETAG].to_str().unwrap().to_owned();
        let before = body(before).await;
        assert!(!before.to_string().contains("example.com"));
        crate::custom::register(&backend.registry, &crd());
        let after = groups(&backend, accept, Some(&before_tag));
        assert_eq!(after.status(), StatusCode::OK);
        assert_eq!(after.headers()[header::CONTENT_TYPE], AGGREGATED_MEDIA_TYPE);
        let after = body(after).await;
        let group = after["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "example.com")
            .unwrap();
        assert_eq!(group["versions"][0]["version"], "v1");
        let widget = &group["versions"][0]["resources"][0];
        assert_eq!(
            widget,
            &json!({
                "resource": "widgets", "singularResource": "widget", "scope": "Namespaced",
                "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"},
                "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                "shortNames": ["wd"], "categories": ["all"],
                "subresources": [
                    {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]},
                    {"subresource": "status", "responseKind": {"group": "example.com", "version": "v1", "kind": "Widget"}, "verbs": ["get", "patch", "update"]}
                ]
            })
        );
    }

    #[tokio::test]
    async fn an_unchanged_aggregated_document_is_not_sent_again() {
        let (backend, _dir) = backend();
        let first = core(&backend, AGGREGATED_MEDIA_TYPE, None);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        let core_group = body(first).await;
        assert_eq!(
            core_group["items"][0]["metadata"],
            json!({"creationTimestamp": null})
        );
        let again = core(&backend, AGGREGATED_MEDIA_TYPE, Some(&tag));
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), tag);
        let legacy = body(core(&backend, "application/json", Some(&tag))).await;
        assert_eq!(legacy["kind"], "APIVersions");
    }
}
