//! Discovery: `/version`, `/api`, `/apis` (legacy and aggregated `apidiscovery.k8s.io/v2`),
//! `/apis/{group}` and the resource lists of each group version.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::backend::Backend;
use crate::errors::ApiError;
use crate::http::{Body, bytes_response, json_response};
use crate::resources::ResourceType;

/// The Kubernetes version the server reports (the minor version matches the pinned
/// k8s-openapi types and the kubectl used in tests).
pub const MINOR: &str = "37";

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

/// Whether the client asked for aggregated discovery.
fn wants_aggregated(accept: &str) -> bool {
    accept.contains("g=apidiscovery.k8s.io") && accept.contains("as=APIGroupDiscoveryList")
}

/// Orders versions as Kubernetes does: GA before beta before alpha, higher numbers first.
fn version_priority(version: &str) -> (u8, i64, i64) {
    let rest = version.strip_prefix('v').unwrap_or(version);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major: i64 = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (stage, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stage, major, minor)
}

/// Served group versions: group → versions, preferred first.
fn group_versions(backend: &Backend) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rt in backend.registry.all() {
        let versions = groups.entry(rt.group.clone()).or_default();
        if !versions.contains(&rt.version) {
            versions.push(rt.version.clone());
        }
    }
    for versions in groups.values_mut() {
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
    }
    groups
}

fn group_document(group: &str, versions: &[String]) -> Value {
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries.first().cloned().unwrap_or(Value::Null),
    })
}

/// `/apis`: the legacy `APIGroupList`, or the aggregated `APIGroupDiscoveryList` when
/// asked for.
pub fn groups(backend: &Backend, accept: &str) -> Response<Body> {
    let groups = group_versions(backend);
    if wants_aggregated(accept) {
        let items: Vec<Value> = groups
            .iter()
            .filter(|(group, _)| !group.is_empty())
            .map(|(group, versions)| aggregated_group(backend, group, versions))
            .collect();
        return aggregated_response(items);
    }
    let list: Vec<Value> = groups
        .iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| group_document(group, versions))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": list}),
    )
}

/// `/api` when aggregated discovery is asked for: the core group.
pub fn core_aggregated(backend: &Backend) -> Response<Body> {
    aggregated_response(vec![aggregated_group(backend, "", &["v1".to_owned()])])
}

fn aggregated_response(items: Vec<Value>) -> Response<Body> {
    let body = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items});
    bytes_response(
        StatusCode::OK,
        bytes::Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
    )
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

fn aggregated_resource(rt: &ResourceType) -> Value {
    let kind = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
    let mut subresources = Vec::new();
    if rt.status_subresource {
        subresources.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
    }
    if rt.scale.is_some() {
        subresources.push(json!({"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
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
pub fn group(backend: &Backend, group: &str) -> Result<Value, ApiError> {
    let groups = group_versions(backend);
    let versions = groups
        .get(group)
        .filter(|_| !group.is_empty())
        .ok_or_else(|| ApiError::no_route(group))?;
    Ok(group_document(group, versions))
}

/// `/api/v1` and `/apis/{group}/{version}`: the `APIResourceList` (or, for `/api` asked
/// with the aggregated media type, the core group's aggregated document).
///
/// # Errors
/// 404 for a group version nothing is served in.
pub fn resources(
    backend: &Backend,
    group: &str,
    version: &str,
    accept: &str,
) -> Result<Response<Body>, ApiError> {
    let types = types_of(backend, group, version);
    if types.is_empty() {
        return Err(ApiError::no_route(version));
    }
    let _ = accept;
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
        resources.push(entry);
        if rt.status_subresource {
            resources.push(json!({"name": format!("{}/status", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": rt.kind, "verbs": ["get", "patch", "update"]}));
        }
        if rt.scale.is_some() {
            resources.push(json!({"name": format!("{}/scale", rt.plural), "singularName": "", "namespaced": rt.namespaced, "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            resources.push(json!({"name": "namespaces/finalize", "singularName": "", "namespaced": false, "kind": "Namespace", "verbs": ["update"]}));
        }
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_ga_then_beta_then_alpha() {
        let mut versions = vec!["v1alpha1", "v1beta2", "v2", "v1", "v1beta1", "v2beta1"];
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(
            versions,
            ["v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1"]
        );
    }
}
