//! The `/scale` subresource: an `autoscaling/v1` Scale view of replicas.

use serde_json::{Value, json};

use crate::backend::{Backend, Part, WriteOptions};
use crate::errors::ApiError;
use crate::object;
use crate::patch::PatchType;
use crate::resources::ResourceType;

/// Reads a simple JSON path such as `.spec.replicas`.
fn at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim_start_matches('.')
        .split('.')
        .try_fold(object, |node, part| node.get(part))
}

fn set_at(object: &mut Value, path: &str, value: Value) {
    let parts: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    let mut node = object;
    for part in &parts[..parts.len() - 1] {
        if !node.get(*part).is_some_and(Value::is_object) {
            node[*part] = json!({});
        }
        node = &mut node[*part];
    }
    node[parts[parts.len() - 1]] = value;
}

/// The label selector of a built-in workload as a string (`app=web,tier=front`).
fn selector_string(object: &Value) -> Option<String> {
    let labels = object
        .get("spec")?
        .get("selector")?
        .get("matchLabels")?
        .as_object()?;
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// The Scale of an object.
///
/// # Errors
/// 500 when the kind has no scale subresource (a routing bug).
pub fn to_scale(rt: &ResourceType, object: &Value) -> Result<Value, ApiError> {
    let spec = rt
        .scale
        .as_ref()
        .ok_or_else(|| ApiError::internal("no scale subresource"))?;
    let replicas = at(object, &spec.spec_replicas_path)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status_replicas = at(object, &spec.status_replicas_path)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = match &spec.label_selector_path {
        Some(path) if matches!(rt.codec, crate::resources::Codec::Custom(_)) => {
            at(object, path).and_then(Value::as_str).map(str::to_owned)
        }
        _ => selector_string(object),
    };
    let meta = object::metadata(object);
    let mut status = json!({"replicas": status_replicas});
    if let Some(selector) = selector {
        status["selector"] = Value::from(selector);
    }
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": replicas},
        "status": status,
    }))
}

/// `PUT .../scale`: sets the replicas from a Scale body.
///
/// # Errors
/// 400 for a body that is not a Scale, 409 on a stale resourceVersion.
pub fn update(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    body: Value,
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    let replicas = body["spec"]["replicas"].as_i64().unwrap_or(0);
    let requested = object::resource_version(&body).map_err(ApiError::bad_request)?;
    set_replicas(backend, rt, namespace, name, replicas, requested, options)
}

/// `PATCH .../scale`: patches the Scale view, then sets the replicas.
///
/// # Errors
/// As [`update`], and 415 for an unsupported patch type.
pub fn patch(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    content_type: &str,
    body: &[u8],
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    let current = to_scale(rt, &backend.get(rt, namespace, name)?)?;
    let patch: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let patched = match PatchType::from_content_type(content_type)? {
        PatchType::Json => sluice_patch::json_patch::apply(&current, &patch)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        PatchType::Merge | PatchType::Strategic | PatchType::Apply => {
            sluice_patch::merge_patch::apply(&current, &patch)
        }
    };
    let replicas = patched["spec"]["replicas"].as_i64().unwrap_or(0);
    set_replicas(backend, rt, namespace, name, replicas, None, options)
}

fn set_replicas(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    replicas: i64,
    requested: Option<u64>,
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    if replicas < 0 {
        return Err(ApiError::invalid(
            "Scale",
            "autoscaling",
            name,
            vec![crate::errors::Cause::new(
                "FieldValueInvalid",
                "spec.replicas",
                &format!("Invalid value: {replicas}: must be greater than or equal to 0"),
            )],
        ));
    }
    let path = rt
        .scale
        .as_ref()
        .map(|s| s.spec_replicas_path.clone())
        .unwrap_or_default();
    // Recorded in managedFields as a write through `/scale`.
    let options = WriteOptions {
        subresource: Some("scale"),
        ..options.clone()
    };
    let written = backend.modify(
        rt,
        namespace,
        name,
        &options,
        |current| {
            if let Some(requested) = requested
                && requested != current.revision
            {
                return Err(ApiError::conflict(&rt.group, &rt.plural, name));
            }
            let mut object = current.object.clone();
            set_at(&mut object, &path, Value::from(replicas));
            Ok(object)
        },
        Part::Main,
    )?;
    to_scale(rt, &written.object)
}
