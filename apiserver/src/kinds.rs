//! Rules of particular kinds, applied by the backend around writes: Secrets' `stringData`,
//! immutable ConfigMaps and Secrets, namespaces' lifecycle, and CustomResourceDefinitions
//! (validated, then served as soon as they are stored).

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::backend::{Backend, Part, WriteOptions};
use crate::errors::{ApiError, Cause};
use crate::object;
use crate::resources::ResourceType;

fn is(rt: &ResourceType, group: &str, kind: &str) -> bool {
    rt.group == group && rt.kind == kind
}

/// Kind rules on create, after metadata was filled in.
///
/// # Errors
/// 422 when the object breaks a rule of its kind.
pub fn prepare_create(
    backend: &Backend,
    rt: &ResourceType,
    object: &mut Value,
) -> Result<(), ApiError> {
    let _ = backend;
    if is(rt, "", "Secret") {
        merge_string_data(object);
    }
    if is(rt, "", "Namespace") {
        let spec = object
            .as_object_mut()
            .map(|o| o.entry("spec").or_insert_with(|| json!({})));
        if let Some(spec) = spec.and_then(Value::as_object_mut) {
            spec.entry("finalizers")
                .or_insert_with(|| json!(["kubernetes"]));
        }
        object["status"] = json!({"phase": "Active"});
    }
    if is(rt, "apiextensions.k8s.io", "CustomResourceDefinition") {
        validate_crd(object)?;
        let finalizers = object::metadata_mut(object)
            .entry("finalizers")
            .or_insert_with(|| json!([]));
        if let Some(list) = finalizers.as_array_mut()
            && !list.iter().any(|f| f == crate::custom::CLEANUP_FINALIZER)
        {
            list.push(Value::from(crate::custom::CLEANUP_FINALIZER));
        }
    }
    crate::controllers::prepare_create(backend, rt, object)?;
    crate::custom::prepare_create(backend, rt, object)
}

/// Kind rules on update; `old` is the stored object, `new` the object about to be stored.
///
/// # Errors
/// 422 when the change breaks a rule of its kind (immutability).
pub fn prepare_update(
    backend: &Backend,
    rt: &ResourceType,
    old: &Value,
    new: &mut Value,
) -> Result<(), ApiError> {
    let _ = backend;
    if is(rt, "", "Secret") {
        merge_string_data(new);
    }
    if is(rt, "", "Secret") || is(rt, "", "ConfigMap") {
        let name = object::name(old).unwrap_or_default();
        if old.get("immutable") == Some(&Value::Bool(true)) {
            let mut causes = Vec::new();
            for field in ["data", "binaryData"] {
                if old.get(field) != new.get(field) {
                    causes.push(Cause::new(
                        "FieldValueForbidden",
                        field,
                        "Forbidden: field is immutable when `immutable` is set",
                    ));
                }
            }
            if new.get("immutable") != Some(&Value::Bool(true)) {
                causes.push(Cause::new(
                    "FieldValueForbidden",
                    "immutable",
                    "Forbidden: field is immutable when `immutable` is set",
                ));
            }
            if !causes.is_empty() {
                return Err(ApiError::invalid(&rt.kind, &rt.group, name, causes));
            }
        }
        if is(rt, "", "Secret") && old.get("type") != new.get("type") && new.get("type").is_some() {
            return Err(ApiError::invalid(
                &rt.kind,
                &rt.group,
                name,
                vec![Cause::new(
                    "FieldValueInvalid",
                    "type",
                    "Invalid value: field is immutable",
                )],
            ));
        }
    }
    if is(rt, "", "Namespace") {
        // A namespace's phase follows its deletion state; clients cannot change it.
        let phase = if object::is_terminating(old) {
            "Terminating"
        } else {
            "Active"
        };
        if new
            .get("status")
            .and_then(|s| s.get("phase"))
            .and_then(Value::as_str)
            != Some(phase)
        {
            new["status"]["phase"] = Value::from(phase);
        }
    }
    if is(rt, "apiextensions.k8s.io", "CustomResourceDefinition") {
        validate_crd(new)?;
    }
    crate::controllers::prepare_update(backend, rt, old, new)?;
    crate::custom::prepare_update(backend, rt, old, new)
}

/// Extra state set when deletion starts (a namespace becomes `Terminating`).
pub fn prepare_terminating(rt: &ResourceType, object: &mut Value) {
    if is(rt, "", "Namespace") {
        object["status"]["phase"] = Value::from("Terminating");
    }
}

/// Whether a terminating object must stay although its `metadata.finalizers` are empty: a
/// namespace waits for `spec.finalizers` (emptied through `/finalize`).
pub fn has_pending_finalization(rt: &ResourceType, object: &Value) -> bool {
    is(rt, "", "Namespace")
        && object
            .get("spec")
            .and_then(|s| s.get("finalizers"))
            .and_then(Value::as_array)
            .is_some_and(|f| !f.is_empty())
}

/// Reactions to a stored write: CRDs start (or stop) being served.
pub fn after_write(backend: &Backend, rt: &ResourceType, stored: &[u8]) {
    crate::custom::after_write(backend, rt, stored);
    if is(rt, "apiextensions.k8s.io", "CustomResourceDefinition") {
        let Ok(crd) = serde_json::from_slice::<Value>(stored) else {
            return;
        };
        crate::custom::sync_crd(backend, &crd);
    }
}

/// Writes status for `rt` (used by the built-in controllers).
///
/// # Errors
/// As [`Backend::modify`].
pub fn write_status(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    status: Value,
) -> Result<(), ApiError> {
    backend
        .modify(
            rt,
            namespace,
            name,
            &WriteOptions {
                field_manager: Some("sluice-apiserver".into()),
                ..Default::default()
            },
            |current| {
                let mut object = current.object.clone();
                object["status"] = status.clone();
                Ok(object)
            },
            Part::Status,
        )
        .map(|_| ())
}

fn validate_crd(object: &Value) -> Result<(), ApiError> {
    let errors = crate::crd::validate_crd(object);
    if errors.is_empty() {
        return Ok(());
    }
    let name = object::name(object).unwrap_or_default();
    let causes = errors
        .iter()
        .map(|error| Cause {
            reason: reason_of(error.kind).to_owned(),
            field: error.path.clone(),
            message: error.to_string(),
        })
        .collect();
    Err(ApiError::invalid(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        name,
        causes,
    ))
}

fn reason_of(kind: crate::crd::FieldErrorKind) -> &'static str {
    use crate::crd::FieldErrorKind as K;
    match kind {
        K::Required => "FieldValueRequired",
        K::Invalid | K::UnknownField => "FieldValueInvalid",
        K::TypeInvalid => "FieldValueTypeInvalid",
        K::Forbidden => "FieldValueForbidden",
        K::NotSupported => "FieldValueNotSupported",
        K::Duplicate => "FieldValueDuplicate",
        K::TooLong => "FieldValueTooLong",
        K::TooMany => "FieldValueTooMany",
    }
}

/// Moves Secret `stringData` into `data` (base64), as the API server does on write.
fn merge_string_data(secret: &mut Value) {
    let Some(fields) = secret.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = fields.remove("stringData") else {
        return;
    };
    let data = fields
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(data) = data.as_object_mut() {
        for (key, value) in string_data {
            let text = value.as_str().unwrap_or_default();
            data.insert(
                key,
                Value::from(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}
