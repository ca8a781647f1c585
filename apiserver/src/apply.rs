//! Server-side apply (`PATCH` with `application/apply-patch+yaml`): the request side.
//!
//! The configuration (YAML or JSON) is applied to the stored object, or to nothing when the
//! object does not exist yet (the apply then creates it, answering 201); field ownership is
//! worked out by [`crate::managed::apply`], and the result is stored through the same
//! pipeline as every other write ([`Backend::modify`] or [`Backend::create`]): decoding and
//! validation, server-owned metadata, `generation`, `resourceVersion`, dry runs.

use serde_json::{Value, json};

use crate::backend::{Backend, Part, WriteOptions, Written};
use crate::errors::{ApiError, Cause};
use crate::managed::{self, Apply};
use crate::object;
use crate::resources::{Codec, ResourceType};

/// How often an apply that raced with a concurrent create is retried.
const CREATE_RACE_RETRIES: usize = 3;

/// Applies a configuration as `fieldManager`, creating the object if needed.
///
/// # Errors
/// 422 without a `fieldManager`; 400 for a body that is not a YAML or JSON object, a
/// configuration of another kind or with another name; 404 when applying to the status of
/// a missing object; 409 on field conflicts without `force`, or a stale
/// `resourceVersion`; 500 (as kube-apiserver) for fields the kind does not declare; and
/// whatever storing the result refuses.
#[allow(clippy::too_many_arguments)]
pub fn server_side_apply(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    body: &[u8],
    part: Part,
    options: &WriteOptions,
    force: bool,
) -> Result<Written, ApiError> {
    let manager = options
        .field_manager
        .as_deref()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            ApiError::invalid(
                "PatchOptions",
                "meta.k8s.io",
                "",
                vec![Cause::new(
                    "FieldValueRequired",
                    "fieldManager",
                    "Required value: is required for apply patch",
                )],
            )
        })?;
    let config = parse(body)?;
    let request = Apply {
        manager,
        force,
        part,
    };
    let options = WriteOptions {
        applying: true,
        ..options.clone()
    };
    check_declared(rt, &config)?;
    for _ in 0..CREATE_RACE_RETRIES {
        let updated = backend.modify(
            rt,
            namespace,
            name,
            &options,
            |current| {
                let applied = managed::apply(&current.object, &config, rt, request)?;
                check_namespace(rt, &applied, namespace)?;
                check_name(&applied, name)?;
                if let Some(requested) =
                    object::resource_version(&applied).map_err(ApiError::bad_request)?
                    && requested != current.revision
                {
                    return Err(ApiError::conflict(&rt.group, &rt.plural, name));
                }
                Ok(applied)
            },
            part,
        );
        match updated {
            Err(error) if error.code == 404 && part == Part::Main => {}
            other => return other,
        }
        let mut created = managed::apply(&json!({}), &config, rt, request)?;
        if let Some(uid) = object::meta_str(&created, "uid").filter(|u| !u.is_empty()) {
            let mut error = ApiError::conflict(&rt.group, &rt.plural, name);
            error.message = format!(
                "Operation cannot be fulfilled on {} \"{name}\": uid mismatch: the provided object specified uid {uid}, and no existing object was found",
                rt.group_resource()
            );
            return Err(error);
        }
        check_name(&created, name)?;
        // A create ignores a resourceVersion; an apply that creates does too.
        object::metadata_mut(&mut created).remove("resourceVersion");
        match backend.create(rt, namespace, created, &options) {
            Err(error) if error.reason == "AlreadyExists" => continue,
            other => return other,
        }
    }
    Err(ApiError::conflict(&rt.group, &rt.plural, name))
}

/// The configuration: a YAML (or JSON, which is YAML) object.
fn parse(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("error decoding YAML: the body is not UTF-8"))?;
    let value: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_str(text).or_else(|_| {
            serde_saphyr::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
        })?
    };
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(Default::default())),
        other => Err(ApiError::bad_request(format!(
            "error decoding YAML: error unmarshaling JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            go_type(&other)
        ))),
    }
}

fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}

/// The applied object may not move to another namespace.
fn check_namespace(
    rt: &ResourceType,
    object: &Value,
    namespace: Option<&str>,
) -> Result<(), ApiError> {
    let applied = object::meta_str(object, "namespace").unwrap_or_default();
    if rt.namespaced && !applied.is_empty() && applied != namespace.unwrap_or_default() {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

/// The applied object must name the object of the URL.
fn check_name(object: &Value, name: &str) -> Result<(), ApiError> {
    let applied = object::meta_str(object, "name").unwrap_or_default();
    if applied != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({applied}) does not match the name on the URL ({name})"
        )));
    }
    Ok(())
}

/// Built-in kinds refuse configurations with fields their types do not have, as the
/// field manager's typed conversion does upstream (custom resources are checked against
/// their schema by the field manager itself).
fn check_declared(rt: &ResourceType, config: &Value) -> Result<(), ApiError> {
    let Codec::Builtin(decoder) = &rt.codec else {
        return Ok(());
    };
    let kind_matches = config.get("apiVersion").and_then(Value::as_str)
        == Some(rt.api_version().as_str())
        && config.get("kind").and_then(Value::as_str) == Some(rt.kind.as_str());
    if !kind_matches {
        // The field manager reports the wrong type.
        return Ok(());
    }
    let Ok(decoded) = (decoder.decode)(config.clone()) else {
        // Type errors are reported when the result is decoded.
        return Ok(());
    };
    if decoded.unknown_fields.is_empty() {
        return Ok(());
    }
    let shape = managed::schema::of(rt);
    let problems: Vec<String> = decoded
        .unknown_fields
        .iter()
        .map(|path| {
            format!(
                "{}: field not declared in schema",
                smd_path(&*shape, config, path)
            )
        })
        .collect();
    let listed = match problems.as_slice() {
        [one] => one.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    };
    Err(ApiError {
        code: 500,
        reason: "",
        message: format!(
            "failed to create typed patch object ({}/{}; {}): {listed}",
            object::meta_str(config, "namespace").unwrap_or_default(),
            object::meta_str(config, "name").unwrap_or_default(),
            gvk(rt)
        ),
        details: None,
    })
}

fn gvk(rt: &ResourceType) -> String {
    format!("{}/{}, Kind={}", rt.group, rt.version, rt.kind)
}

/// Rewrites a decoder path (`spec.containers[0].foo`) the way structured-merge-diff
/// prints it (`.spec.containers[name="app"].foo`), following `config`.
fn smd_path(shape: &dyn managed::schema::Shape, config: &Value, path: &str) -> String {
    use managed::fieldpath::PathElement;
    use sluice_patch::PathElement as Step;
    let mut out = Vec::new();
    let mut steps = Vec::new();
    let mut value = Some(config);
    for segment in path.split('.') {
        let (field, indices) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        out.push(PathElement::field(field));
        steps.push(Step::field(field));
        value = value.and_then(|v| v.get(field));
        for index in indices
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse::<usize>().ok())
        {
            let item = value.and_then(|v| v.get(index));
            let list_type = shape.list_type(&steps);
            let element = item
                .and_then(|item| managed::typed::element(&list_type, item).ok())
                .unwrap_or(PathElement::Index(index));
            out.push(element);
            steps.push(Step::Item);
            value = item;
        }
    }
    managed::fieldpath::display_path(&out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Registry;

    #[test]
    fn configs_are_yaml_or_json_objects() {
        assert_eq!(parse(b"a: 1\n").unwrap(), json!({"a": 1}));
        assert_eq!(parse(br#"{"a": [1]}"#).unwrap(), json!({"a": [1]}));
        assert_eq!(parse(b"").unwrap(), json!({}));
        assert_eq!(parse(b"- 1").unwrap_err().code, 400);
        assert_eq!(parse(b"a: [").unwrap_err().code, 400);
    }

    #[test]
    fn unknown_built_in_fields_are_named_by_element_key() {
        let registry = Registry::with_builtins();
        let rt = registry.get("apps", "v1", "deployments").expect("served");
        let config = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "bogus": 1}]}}}});
        let error = check_declared(&rt, &config).unwrap_err();
        assert_eq!(error.code, 500);
        assert_eq!(
            error.message,
            "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers[name=\"app\"].bogus: field not declared in schema"
        );
    }
}
