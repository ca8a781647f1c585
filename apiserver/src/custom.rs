//! Custom resources: serving the kinds of registered CRDs as kube-apiserver does.
//!
//! - Requests are decoded through the version's structural schema ([`decode`]): unknown
//!   fields pruned and reported (`fieldValidation`), defaults applied.
//! - Writes are validated ([`prepare_create`], [`prepare_update`]): OpenAPI value
//!   validation, list sets and maps, CEL rules, the scale subresource's replicas, with
//!   upstream's ratcheting on update; failures are `422 Invalid` with field paths.
//! - Reads go through the schema too ([`present`]): objects stored before a schema change
//!   are read pruned and with the new defaults, in the requested version.
//! - CRDs ([`sync_crd`]): names are checked against the other CRDs (and built-in kinds) of
//!   the group (`NamesAccepted`), accepted names are served (`Established`), and a deleted
//!   CRD first deletes its custom resources (`Terminating`).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::backend::{Backend, Part, WriteOptions};
use crate::crd::{FieldError, FieldErrorKind, ResourceSchema};
use crate::errors::{ApiError, Cause};
use crate::object;
use crate::resources::{
    Codec, Column, CustomResourceSchema, NameRule, Registry, ResourceType, ScaleSpec,
};

/// The finalizer kube-apiserver puts on CRDs: their custom resources are deleted before the
/// CRD goes away.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

fn compiled(schema: &CustomResourceSchema) -> Result<&Arc<ResourceSchema>, ApiError> {
    schema
        .compiled
        .as_ref()
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Decodes a custom resource against its schema: returns the object to store and the
/// paths of unknown fields that were pruned.
///
/// # Errors
/// 400 when `metadata` (or an embedded resource's type and metadata) has fields of the
/// wrong type; 500 when the schema cannot serve.
pub fn decode(
    rt: &ResourceType,
    schema: &CustomResourceSchema,
    mut body: Value,
) -> Result<(Value, Vec<String>), ApiError> {
    let unknown = compiled(schema)?.decode(&mut body).map_err(|error| {
        ApiError::bad_request(format!(
            "{} in version \"{}\" cannot be handled as a {}: {error}",
            rt.kind, rt.version, rt.kind
        ))
    })?;
    Ok((body, unknown))
}

/// Converts a custom resource to its storage version (CRDs with conversion strategy
/// `None`: `apiVersion` changes, and fields the storage version's schema does not know are
/// pruned).
pub fn to_storage(backend: &Backend, rt: &ResourceType, mut object: Value) -> Value {
    if rt.storage_version {
        return object;
    }
    if let Some(storage) = backend.registry.storage_type(&rt.group, &rt.plural)
        && object.is_object()
    {
        object["apiVersion"] = Value::from(storage.api_version());
        if let Codec::Custom(schema) = &storage.codec
            && let Ok(compiled) = &schema.compiled
        {
            compiled.prune(&mut object);
        }
    }
    object
}

/// Prepares a stored custom resource for reading as `rt`: read through the storage
/// version's schema (pruned, defaulted), then converted to `rt`'s version and read through
/// its schema.
pub fn present(
    backend: &Backend,
    rt: &ResourceType,
    schema: &CustomResourceSchema,
    value: &mut Value,
) {
    if !value.is_object() {
        return;
    }
    if !rt.storage_version {
        if let Some(storage) = backend.registry.storage_type(&rt.group, &rt.plural)
            && let Codec::Custom(storage_schema) = &storage.codec
            && let Ok(compiled) = &storage_schema.compiled
        {
            compiled.read(value);
        }
        value["apiVersion"] = Value::from(rt.api_version());
    }
    if let Ok(compiled) = &schema.compiled {
        compiled.read(value);
    }
}

/// Custom-resource rules on create: the CRD must not be terminating, and the object must
/// validate.
///
/// # Errors
/// 405 while the CRD is being deleted, 422 when the object breaks its schema.
pub fn prepare_create(
    backend: &Backend,
    rt: &ResourceType,
    object: &mut Value,
) -> Result<(), ApiError> {
    let Codec::Custom(schema) = &rt.codec else {
        return Ok(());
    };
    if crd_object(backend, &schema.crd_name).is_some_and(|crd| object::is_terminating(&crd)) {
        let mut error = ApiError::method_not_allowed("create", &rt.group_resource());
        error.message = "create not allowed while custom resource definition is terminating".into();
        return Err(error);
    }
    let mut errors = compiled(schema)?.validate(object, None);
    errors.extend(scale_errors(rt, object, true));
    refuse(rt, object, errors)
}

/// Custom-resource rules on update (and status updates, whose spec and metadata are the
/// stored ones): the object must validate, with errors in unchanged parts ratcheted.
///
/// # Errors
/// 422 when the object breaks its schema.
pub fn prepare_update(
    backend: &Backend,
    rt: &ResourceType,
    old: &Value,
    new: &mut Value,
) -> Result<(), ApiError> {
    let Codec::Custom(schema) = &rt.codec else {
        return Ok(());
    };
    let mut old = old.clone();
    present(backend, rt, schema, &mut old);
    let mut errors = compiled(schema)?.validate(new, Some(&old));
    errors.extend(scale_errors(rt, new, true));
    refuse(rt, new, errors)
}

fn refuse(rt: &ResourceType, object: &Value, errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    let causes = errors.iter().map(cause).collect();
    Err(ApiError::invalid(
        &rt.kind,
        &rt.group,
        object::name(object).unwrap_or_default(),
        causes,
    ))
}

/// A field error as a `StatusCause`.
pub fn cause(error: &FieldError) -> Cause {
    let reason = match error.kind {
        FieldErrorKind::Required => "FieldValueRequired",
        FieldErrorKind::Invalid | FieldErrorKind::UnknownField => "FieldValueInvalid",
        FieldErrorKind::TypeInvalid => "FieldValueTypeInvalid",
        FieldErrorKind::Forbidden => "FieldValueForbidden",
        FieldErrorKind::NotSupported => "FieldValueNotSupported",
        FieldErrorKind::Duplicate => "FieldValueDuplicate",
        FieldErrorKind::TooLong => "FieldValueTooLong",
        FieldErrorKind::TooMany => "FieldValueTooMany",
    };
    Cause {
        reason: reason.to_owned(),
        field: error.path.clone(),
        message: error.to_string(),
    }
}

/// The scale subresource's checks of a custom resource (`ValidateScaleSpec` and
/// `ValidateScaleStatus`): replicas are non-negative 32-bit integers, the selector a string.
fn scale_errors(rt: &ResourceType, object: &Value, spec: bool) -> Vec<FieldError> {
    let Some(scale) = &rt.scale else {
        return Vec::new();
    };
    let mut errors = Vec::new();
    let mut replicas = |path: &str| {
        let Some(value) = at(object, path) else {
            return;
        };
        let (shown, message) = match value.as_i64() {
            None => (
                0,
                format!(
                    ".{} accessor error: {} is of the type {}, expected int64",
                    path.trim_start_matches('.'),
                    go_print(value),
                    go_type(value)
                ),
            ),
            Some(n) if n < 0 => (n, "should be a non-negative integer".to_owned()),
            Some(n) if n > i64::from(i32::MAX) => {
                (n, format!("should be less than or equal to {}", i32::MAX))
            }
            Some(_) => return,
        };
        errors.push(FieldError {
            path: path.to_owned(),
            kind: FieldErrorKind::Invalid,
            value: Some(Value::from(shown)),
            message,
        });
    };
    if spec {
        replicas(&scale.spec_replicas_path);
    }
    replicas(&scale.status_replicas_path);
    if let Some(selector_path) = &scale.label_selector_path
        && let Some(value) = at(object, selector_path)
        && !value.is_string()
    {
        errors.push(FieldError {
            path: selector_path.clone(),
            kind: FieldErrorKind::Invalid,
            value: Some(Value::from("")),
            message: format!(
                ".{} accessor error: {} is of the type {}, expected string",
                selector_path.trim_start_matches('.'),
                go_print(value),
                go_type(value)
            ),
        });
    }
    errors
}

/// A value as Go's `%v` prints it (strings bare).
fn go_print(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn go_type(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
        Value::Null => "<nil>",
    }
}

fn at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim_start_matches('.')
        .split('.')
        .try_fold(object, |node, part| node.get(part))
}

/// The stored CRD named `name`.
fn crd_object(backend: &Backend, name: &str) -> Option<Value> {
    let crd_type =
        backend
            .registry
            .get("apiextensions.k8s.io", "v1", "customresourcedefinitions")?;
    let entry = backend.store.get(&crd_type.key(None, name))?;
    serde_json::from_slice(&entry.value).ok()
}

thread_local! {
    /// Set while a CRD's custom resources are being deleted on this thread, so that the
    /// deletions do not re-enter the cleanup.
    static CLEANING: Cell<bool> = const { Cell::new(false) };
}

/// Reactions to a stored custom resource: when the last custom resource of a terminating
/// CRD goes away (after its own finalizers), the CRD's deletion completes.
pub fn after_write(backend: &Backend, rt: &ResourceType, stored: &[u8]) {
    let Codec::Custom(schema) = &rt.codec else {
        return;
    };
    if CLEANING.with(Cell::get) {
        return;
    }
    let Ok(object) = serde_json::from_slice::<Value>(stored) else {
        return;
    };
    if !object::is_terminating(&object) {
        return;
    }
    let name = object::name(&object).unwrap_or_default();
    if backend
        .store
        .get(&rt.key(object::namespace(&object), name))
        .is_some()
    {
        return;
    }
    if let Some(crd) = crd_object(backend, &schema.crd_name)
        && object::is_terminating(&crd)
    {
        sync_crd(backend, &crd);
    }
}

/// Makes the registry serve what `crd` declares (under its accepted names), keeps its
/// `NamesAccepted`/`Established` conditions and stored versions, and when it is being
/// deleted, deletes its custom resources and then releases the CRD.
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
        {
            finalize(backend, &crd_type, name, crd);
        }
        return;
    }
    let status = accepted_status(backend, crd);
    if crd.get("status") != Some(&status)
        && let Err(error) = crate::kinds::write_status(backend, &crd_type, None, name, status)
    {
        tracing::warn!(%error, crd = name, "could not update the status of a CRD");
    }
}

/// Deletes the custom resources of a terminating CRD, with its `Terminating` condition,
/// and removes the cleanup finalizer once none remain.
fn finalize(backend: &Backend, crd_type: &ResourceType, name: &str, crd: &Value) {
    let established = condition(crd, "Established") == Some("True");
    let in_progress = json!({"type": "Terminating", "status": "True", "reason": "InstanceDeletionInProgress", "message": "CustomResource deletion is in progress"});
    if condition(crd, "Terminating").is_none() {
        let status = with_condition(crd, in_progress);
        if let Err(error) = crate::kinds::write_status(backend, crd_type, None, name, status) {
            tracing::warn!(%error, crd = name, "could not mark a CRD terminating");
        }
        // The status write above re-entered this sync with the updated CRD.
        return;
    }
    let done = if established {
        let was = CLEANING.with(|c| c.replace(true));
        let done = delete_custom_resources(backend, crd);
        CLEANING.with(|c| c.set(was));
        done
    } else {
        true
    };
    if !done {
        return;
    }
    let final_condition = if established {
        json!({"type": "Terminating", "status": "False", "reason": "InstanceDeletionCompleted", "message": "removed all instances"})
    } else {
        json!({"type": "Terminating", "status": "False", "reason": "NeverEstablished", "message": "resource was never established"})
    };
    let released = backend.modify(
        crd_type,
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
            object::metadata_mut(&mut object).insert("finalizers".into(), Value::Array(remaining));
            object["status"] = with_condition(&object, final_condition.clone());
            Ok(object)
        },
        Part::Main,
    );
    if let Err(error) = released {
        tracing::warn!(%error, crd = name, "could not release a deleted CRD");
    }
}

fn condition<'a>(crd: &'a Value, type_: &str) -> Option<&'a str> {
    crd.get("status")?
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?
        .get("status")?
        .as_str()
}

/// The CRD's status with `condition` set (its transition time kept when the status does
/// not change).
fn with_condition(crd: &Value, mut condition: Value) -> Value {
    let mut status = crd.get("status").cloned().unwrap_or_else(|| json!({}));
    if !status.is_object() {
        status = json!({});
    }
    let mut conditions: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = Value::from(object::now_rfc3339());
    match conditions
        .iter_mut()
        .find(|c| c["type"] == condition["type"])
    {
        Some(existing) => {
            let time = if existing["status"] == condition["status"] {
                existing.get("lastTransitionTime").cloned().unwrap_or(now)
            } else {
                now
            };
            condition["lastTransitionTime"] = time;
            *existing = condition;
        }
        None => {
            condition["lastTransitionTime"] = now;
            conditions.push(condition);
        }
    }
    status["conditions"] = Value::Array(conditions);
    status
}

/// The names other CRDs of the group have been given (`plural`, `singular`, short
/// names; `kind`, `listKind`), and those of built-in kinds of the group.
fn names_in_use(backend: &Backend, crd: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let own = object::name(crd).unwrap_or_default();
    let mut resources = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for rt in backend.registry.all() {
        if rt.group == group && matches!(rt.codec, Codec::Builtin(_)) {
            resources.insert(rt.plural.clone());
            resources.insert(rt.singular.clone());
            resources.extend(rt.short_names.iter().cloned());
            kinds.insert(rt.kind.clone());
            kinds.insert(format!("{}List", rt.kind));
        }
    }
    let Some(crd_type) =
        backend
            .registry
            .get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    else {
        return (resources, kinds);
    };
    let Ok(page) = backend
        .store
        .list(&crd_type.key_prefix(None), None, None, 0)
    else {
        return (resources, kinds);
    };
    for (_, entry) in page.items {
        let Ok(other) = serde_json::from_slice::<Value>(&entry.value) else {
            continue;
        };
        if object::name(&other) == Some(own) || other["spec"]["group"] != group {
            continue;
        }
        let accepted = &other["status"]["acceptedNames"];
        for key in ["plural", "singular"] {
            if let Some(name) = accepted[key].as_str().filter(|n| !n.is_empty()) {
                resources.insert(name.to_owned());
            }
        }
        resources.extend(strings(&accepted["shortNames"]));
        for key in ["kind", "listKind"] {
            if let Some(name) = accepted[key].as_str().filter(|n| !n.is_empty()) {
                kinds.insert(name.to_owned());
            }
        }
    }
    (resources, kinds)
}

/// `equalToAcceptedOrFresh`.
fn fresh(requested: &str, accepted: &str, used: &BTreeSet<String>) -> Result<(), String> {
    if requested == accepted || !used.contains(requested) {
        Ok(())
    } else {
        Err(format!("{requested:?} is already in use"))
    }
}

/// The status the naming and establishing controllers give a CRD: accepted names (or a
/// `NamesAccepted=False` condition naming the conflict), `Established`, stored versions.
fn accepted_status(backend: &Backend, crd: &Value) -> Value {
    let (resources, kinds) = names_in_use(backend, crd);
    let names = &crd["spec"]["names"];
    let kind = names["kind"].as_str().unwrap_or_default();
    let requested_singular = names["singular"]
        .as_str()
        .map_or_else(|| kind.to_lowercase(), str::to_owned);
    let requested_list_kind = names["listKind"]
        .as_str()
        .map_or_else(|| format!("{kind}List"), str::to_owned);
    let accepted = crd["status"]["acceptedNames"].clone();
    let accepted_str = |key: &str| accepted[key].as_str().unwrap_or_default().to_owned();
    let mut new_names = if accepted.is_object() {
        accepted.clone()
    } else {
        json!({})
    };
    let mut conflict: Option<(&str, String)> = None;
    let requested_plural = names["plural"].as_str().unwrap_or_default();
    match fresh(requested_plural, &accepted_str("plural"), &resources) {
        Ok(()) => new_names["plural"] = Value::from(requested_plural),
        Err(e) => conflict = Some(("PluralConflict", e)),
    }
    match fresh(&requested_singular, &accepted_str("singular"), &resources) {
        Ok(()) => new_names["singular"] = Value::from(requested_singular.as_str()),
        Err(e) => conflict = Some(("SingularConflict", e)),
    }
    let requested_short = strings(&names["shortNames"]);
    let accepted_short = strings(&accepted["shortNames"]);
    if requested_short != accepted_short {
        let errors: Vec<String> = requested_short
            .iter()
            .filter(|s| !accepted_short.contains(s))
            .filter_map(|s| fresh(s, "", &resources).err())
            .collect();
        if errors.is_empty() {
            new_names["shortNames"] = json!(requested_short);
        } else {
            let message = if errors.len() == 1 {
                errors[0].clone()
            } else {
                format!("[{}]", errors.join(", "))
            };
            conflict = Some(("ShortNamesConflict", message));
        }
    }
    match fresh(kind, &accepted_str("kind"), &kinds) {
        Ok(()) => new_names["kind"] = Value::from(kind),
        Err(e) => conflict = Some(("KindConflict", e)),
    }
    match fresh(&requested_list_kind, &accepted_str("listKind"), &kinds) {
        Ok(()) => new_names["listKind"] = Value::from(requested_list_kind.as_str()),
        Err(e) => conflict = Some(("ListKindConflict", e)),
    }
    if let Some(categories) = names.get("categories") {
        new_names["categories"] = categories.clone();
    }
    let names_accepted = match &conflict {
        Some((reason, message)) => {
            json!({"type": "NamesAccepted", "status": "False", "reason": reason, "message": message})
        }
        None => {
            json!({"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"})
        }
    };
    let established = if conflict.is_none() || condition(crd, "Established") == Some("True") {
        match condition(crd, "Established") {
            Some("True") => crd["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Established"))
                .cloned()
                .unwrap_or(Value::Null),
            _ => {
                json!({"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"})
            }
        }
    } else {
        json!({"type": "Established", "status": "False", "reason": "NotAccepted", "message": "not all names are accepted"})
    };
    let mut status = crd.clone();
    status["status"] = with_condition(crd, names_accepted);
    let mut status = with_condition(&status, established);
    status["acceptedNames"] = new_names;
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
    status["storedVersions"] = Value::Array(stored);
    status
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Deletes every custom resource of `crd`; returns whether none remain (some may wait for
/// their own finalizers).
fn delete_custom_resources(backend: &Backend, crd: &Value) -> bool {
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = served_plural(crd);
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

/// The plural a CRD is served under: its accepted plural, else the requested one.
fn served_plural(crd: &Value) -> &str {
    crd["status"]["acceptedNames"]["plural"]
        .as_str()
        .filter(|p| !p.is_empty())
        .or_else(|| crd["spec"]["names"]["plural"].as_str())
        .unwrap_or_default()
}

/// Registers every served version of `crd` under its accepted names, once it is
/// `Established`; removes what it served before.
pub fn register(registry: &Registry, crd: &Value) {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default().to_owned();
    let name = object::name(crd).unwrap_or_default().to_owned();
    for rt in registry.all() {
        if let Codec::Custom(schema) = &rt.codec
            && schema.crd_name == name
        {
            registry.remove(&rt.group, &rt.plural);
        }
    }
    if object::is_terminating(crd) && object::finalizers(crd).is_empty() {
        return;
    }
    if condition(crd, "Established") != Some("True") {
        return;
    }
    let names = &crd["status"]["acceptedNames"];
    let plural = served_plural(crd).to_owned();
    let kind = names["kind"]
        .as_str()
        .or_else(|| spec["names"]["kind"].as_str())
        .unwrap_or_default()
        .to_owned();
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
        let schema = version["schema"]["openAPIV3Schema"].clone();
        let compiled = ResourceSchema::new(&schema).map(Arc::new);
        registry.insert(ResourceType {
            group: group.clone(),
            version: version_name,
            kind: kind.clone(),
            plural: plural.clone(),
            singular: names["singular"]
                .as_str()
                .map_or_else(|| kind.to_lowercase(), str::to_owned),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            namespaced: spec["scope"] == "Namespaced",
            status_subresource: subresources.get("status").is_some_and(Value::is_object),
            scale,
            has_generation: true,
            codec: Codec::Custom(Arc::new(CustomResourceSchema {
                crd_name: name.clone(),
                schema,
                compiled,
            })),
            name_rule: NameRule::Subdomain,
            columns,
            selectable_fields: selectable,
            storage: (group.clone(), plural.clone()),
            storage_version: version["storage"] == Value::Bool(true),
        });
    }
}
