//! Custom resources: serving the kinds of registered CRDs.

use serde_json::Value;

use serde_json::json;

use crate::backend::{Backend, Part, WriteOptions};
use crate::errors::ApiError;
use crate::object;
use crate::resources::{
    Codec, Column, CustomResourceSchema, NameRule, Registry, ResourceType, ScaleSpec,
};

/// The finalizer kube-apiserver puts on CRDs: their custom resources are deleted before the
/// CRD goes away.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// Decodes a custom resource against its schema: returns the object to store and the
/// paths of unknown fields that were pruned.
///
/// # Errors
/// 422 when the object does not validate.
pub fn decode(
    rt: &ResourceType,
    schema: &CustomResourceSchema,
    body: Value,
) -> Result<(Value, Vec<String>), ApiError> {
    let _ = (rt, schema);
    Ok((body, Vec::new()))
}

/// Converts a custom resource to its storage version (only `apiVersion` changes: CRDs
/// with conversion strategy `None`).
pub fn to_storage(backend: &Backend, rt: &ResourceType, mut object: Value) -> Value {
    if let Some(storage) = backend.registry.storage_type(&rt.group, &rt.plural)
        && object.is_object()
    {
        object["apiVersion"] = Value::from(storage.api_version());
    }
    object
}

/// Custom-resource rules on create.
///
/// # Errors
/// 422 when the object breaks its schema.
pub fn prepare_create(
    backend: &Backend,
    rt: &ResourceType,
    object: &mut Value,
) -> Result<(), ApiError> {
    let _ = (backend, rt, object);
    Ok(())
}

/// Custom-resource rules on update.
///
/// # Errors
/// 422 when the object breaks its schema.
pub fn prepare_update(
    backend: &Backend,
    rt: &ResourceType,
    old: &Value,
    new: &mut Value,
) -> Result<(), ApiError> {
    let _ = (backend, rt, old, new);
    Ok(())
}

/// Makes the registry serve what `crd` declares, marks it `Established`, and when it is
/// being deleted, deletes its custom resources and then releases the CRD.
pub fn sync_crd(backend: &Backend, crd: &Value) {
    register(&backend.registry, crd);
    let Some(name) = object::name(crd) else {
        return;
    };
    let crd_type = backend
        .registry
        .get("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    let Some(crd_type) = crd_type else { return };
    if object::is_terminating(crd) {
        if object::finalizers(crd)
            .iter()
            .any(|f| f == CLEANUP_FINALIZER)
            && delete_custom_resources(backend, crd)
        {
            let released = backend.modify(
                &crd_type,
                None,
                name,
                &WriteOptions::default(),
                |current| {
                    let mut object = current.object.clone();
                    let remaining: Vec<Value> = object::finalizers(&object)
                        .into_iter()
                        .filter(|f| f != CLEANUP_FINALIZER)
                        .map(Value::from)
                        .collect();
                    object::metadata_mut(&mut object)
                        .insert("finalizers".into(), Value::Array(remaining));
                    Ok(object)
                },
                Part::Main,
            );
            if let Err(error) = released {
                tracing::warn!(%error, crd = name, "could not release a deleted CRD");
            }
        }
        return;
    }
    let status = established_status(crd);
    if crd.get("status") != Some(&status)
        && let Err(error) = crate::kinds::write_status(backend, &crd_type, None, name, status)
    {
        tracing::warn!(%error, crd = name, "could not mark a CRD established");
    }
}

/// The status kube-apiserver gives an accepted CRD: names accepted, established, and the
/// stored versions.
fn established_status(crd: &Value) -> Value {
    let now = crd
        .get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(|c| c.get("lastTransitionTime"))
        .cloned()
        .unwrap_or_else(|| Value::from(object::now_rfc3339()));
    let names = &crd["spec"]["names"];
    let mut accepted = names.clone();
    if accepted.get("singular").is_none() {
        accepted["singular"] =
            Value::from(names["kind"].as_str().unwrap_or_default().to_lowercase());
    }
    if accepted.get("listKind").is_none() {
        accepted["listKind"] = Value::from(format!(
            "{}List",
            names["kind"].as_str().unwrap_or_default()
        ));
    }
    let mut stored: Vec<Value> = crd
        .get("status")
        .and_then(|s| s.get("storedVersions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for version in crd["spec"]["versions"].as_array().into_iter().flatten() {
        if version["storage"] == Value::Bool(true) && !stored.contains(&version["name"]) {
            stored.push(version["name"].clone());
        }
    }
    json!({
        "acceptedNames": accepted,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
        "storedVersions": stored,
    })
}

/// Deletes every custom resource of `crd`; returns whether none remain (some may wait for
/// their own finalizers).
fn delete_custom_resources(backend: &Backend, crd: &Value) -> bool {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
    let Some(rt) = backend.registry.storage_type(group, plural) else {
        return true;
    };
    let prefix = rt.key_prefix(None);
    let Ok(page) = backend.store.list(&prefix, None, None, 0) else {
        return false;
    };
    let mut remaining = 0;
    for (_, entry) in &page.items {
        let Ok(object) = serde_json::from_slice::<Value>(&entry.value) else {
            continue;
        };
        let name = object::name(&object).unwrap_or_default().to_owned();
        let namespace = object::namespace(&object).map(str::to_owned);
        match backend.delete(
            &rt,
            namespace.as_deref(),
            &name,
            &crate::backend::DeleteOptions::default(),
        ) {
            Ok(deleted) if deleted.gone => {}
            _ => remaining += 1,
        }
    }
    remaining == 0
}

/// Registers every served version of `crd`.
pub fn register(registry: &Registry, crd: &Value) {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default().to_owned();
    let names = &spec["names"];
    let plural = names["plural"].as_str().unwrap_or_default().to_owned();
    registry.remove(&group, &plural);
    if object::is_terminating(crd) && object::finalizers(crd).is_empty() {
        return;
    }
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let name = object::name(crd).unwrap_or_default().to_owned();
    for version in spec["versions"].as_array().into_iter().flatten() {
        if version["served"] != Value::Bool(true) {
            continue;
        }
        let subresources = &version["subresources"];
        let scale = subresources
            .get("scale")
            .filter(|s| s.is_object())
            .map(|scale| ScaleSpec {
                spec_replicas_path: scale["specReplicasPath"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                status_replicas_path: scale["statusReplicasPath"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                label_selector_path: scale["labelSelectorPath"].as_str().map(str::to_owned),
            });
        let columns = version["additionalPrinterColumns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| Column {
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                type_: c["type"].as_str().unwrap_or("string").to_owned(),
                format: c["format"].as_str().unwrap_or_default().to_owned(),
                description: c["description"].as_str().unwrap_or_default().to_owned(),
                priority: c["priority"].as_i64().unwrap_or(0),
                json_path: c["jsonPath"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        let selectable = version["selectableFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                f["jsonPath"]
                    .as_str()
                    .map(|p| p.trim_start_matches('.').to_owned())
            })
            .collect();
        let version_name = version["name"].as_str().unwrap_or_default().to_owned();
        registry.insert(ResourceType {
            group: group.clone(),
            version: version_name,
            kind: names["kind"].as_str().unwrap_or_default().to_owned(),
            plural: plural.clone(),
            singular: names["singular"].as_str().map_or_else(
                || names["kind"].as_str().unwrap_or_default().to_lowercase(),
                str::to_owned,
            ),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            namespaced: spec["scope"] == "Namespaced",
            status_subresource: subresources.get("status").is_some_and(Value::is_object),
            scale,
            has_generation: true,
            codec: Codec::Custom(std::sync::Arc::new(CustomResourceSchema {
                crd_name: name.clone(),
                schema: version["schema"]["openAPIV3Schema"].clone(),
            })),
            name_rule: NameRule::Subdomain,
            columns,
            selectable_fields: selectable,
            storage: (group.clone(), plural.clone()),
            storage_version: version["storage"] == Value::Bool(true),
        });
    }
}
