//! `patches`, `patchesStrategicMerge` and `patchesJson6902`.

use serde_json::Value;
use sluice_patch::{BuiltinSchema, NoSchema, PatchSchema};

use crate::openapi::OpenApi;
use crate::resource::{ResMap, Resource};
use crate::select::Matcher;

/// A parsed patch: strategic merge documents or one JSON patch.
#[derive(Debug, Clone)]
pub(crate) enum Parsed {
    Strategic(Vec<Resource>),
    Json(Value),
}

/// Options of a `patches` entry.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

/// Tells a strategic merge patch (YAML maps) from a JSON patch (a list of operations).
pub(crate) fn parse(text: &str) -> Result<Parsed, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("must specify one of patch and path".into());
    }
    let docs = crate::yaml::parse_documents(trimmed, crate::yaml::Flavor::V3)
        .map_err(|e| format!("unable to parse SM or JSON patch from {trimmed}: {e}"))?;
    let docs: Vec<Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    if docs.len() == 1 && docs[0].is_array() {
        // JSON patches go through sigs.k8s.io/yaml: YAML 1.1 scalars.
        let ops = crate::yaml::parse_documents(trimmed, crate::yaml::Flavor::V2)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|d| !d.is_null())
            .unwrap_or(Value::Null);
        return Ok(Parsed::Json(ops));
    }
    let mut patches = Vec::new();
    for doc in docs {
        match doc {
            Value::Object(_) => patches.extend(crate::target::expand_list(doc)?),
            _ => return Err(format!("unable to parse SM or JSON patch from {trimmed}")),
        }
    }
    if patches.is_empty() {
        return Err(format!("patch appears to be empty; Patch={trimmed}"));
    }
    Ok(Parsed::Strategic(
        patches.into_iter().map(Resource::new).collect(),
    ))
}

/// Applies strategic merge `patch` to `target` as kustomize does: the patch may not rename
/// or re-kind the target unless allowed, and never moves it to another namespace. Returns
/// `false` when the patch deletes the target.
pub(crate) fn apply_strategic(
    target: &mut Resource,
    patch: &Value,
    options: Options,
    openapi: Option<&OpenApi>,
) -> Result<bool, String> {
    let name = target.name().to_owned();
    let namespace = target.namespace().to_owned();
    let kind = target.kind().to_owned();
    if options.allow_name_change || options.allow_kind_change {
        target.store_previous_id();
    }
    let result = {
        let builtin = BuiltinSchema::for_object(&target.obj);
        let custom = openapi.and_then(|o| o.schema_for(&target.obj));
        let schema: &dyn PatchSchema = match (&custom, &builtin) {
            (Some(c), _) => c,
            (None, Some(b)) => b,
            (None, None) => &NoSchema,
        };
        crate::smp::merge(&target.obj, patch, schema)?
    };
    let Some(result) = result else {
        return Ok(false);
    };
    target.obj = result;
    if target.obj.as_object().is_none_or(serde_json::Map::is_empty) {
        return Ok(false);
    }
    if !options.allow_kind_change {
        crate::resource::ensure_object(&mut target.obj).insert("kind".into(), Value::String(kind));
    }
    if !options.allow_name_change {
        target.set_name(&name);
    }
    target.set_namespace(&namespace);
    Ok(true)
}

/// A `patches` (or legacy) entry applied to the map.
pub(crate) fn apply(
    map: &mut ResMap,
    parsed: &Parsed,
    target: Option<&crate::kustomization::Selector>,
    options: Options,
    openapi: Option<&OpenApi>,
) -> Result<(), String> {
    match parsed {
        Parsed::Strategic(patches) => match target {
            None => {
                for patch in patches {
                    let id = patch.org_id();
                    let matches = map.matching_any_id(&id);
                    let index = match matches.as_slice() {
                        [one] => *one,
                        [] => {
                            return Err(format!(
                                "no resource matches strategic merge patch \"{id}\": no matches for Id {id}; failed to find unique target for patch {id}"
                            ));
                        }
                        _ => {
                            return Err(format!(
                                "no resource matches strategic merge patch \"{id}\": multiple matches for Id {id}; failed to find unique target for patch {id}"
                            ));
                        }
                    };
                    apply_to(map, &[index], &patch.obj, options, openapi)?;
                }
                Ok(())
            }
            Some(selector) => {
                let matcher = Matcher::new(selector)?;
                let selected: Vec<usize> = (0..map.list.len())
                    .filter(|&i| matcher.matches(&map.list[i]))
                    .collect();
                apply_to(map, &selected, &patches[0].obj, options, openapi)
            }
        },
        Parsed::Json(ops) => {
            let Some(selector) = target else {
                return Err(format!("must specify a target for JSON patch {ops}"));
            };
            let matcher = Matcher::new(selector)?;
            for res in map.list.iter_mut().filter(|r| matcher.matches(r)) {
                res.store_previous_id();
                apply_json(res, ops)?;
            }
            Ok(())
        }
    }
}

/// A JSON patch applied as kustomize applies it. Upstream the object carries its build
/// annotations in `metadata.annotations` while the patch runs (so `add` under
/// `/metadata/annotations` always finds the map, and `move` or `copy` of the whole map carries
/// them along); afterwards kustomize reads the annotations back as strings (a map or list
/// value becomes `""`, a number its text), puts back the build annotations it saw before the
/// patch, and writes the map again, dropping it when it is empty.
fn apply_json(res: &mut Resource, ops: &Value) -> Result<(), String> {
    let build = res.build_annotations();
    let mut obj = res.obj.clone();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        let annotations = crate::resource::ensure_object(annotations);
        for (k, v) in &build {
            annotations.insert(k.clone(), Value::String(v.clone()));
        }
    }
    let mut obj = apply_json_operations(obj, ops)?;
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let mut annotations: serde_json::Map<String, Value> = match meta.remove("annotations") {
            Some(Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| (k, Value::String(node_text(&v))))
                .collect(),
            _ => serde_json::Map::new(),
        };
        // The build annotations stay in the resource's fields, not in the object.
        for (k, _) in &build {
            annotations.remove(k);
        }
        if !annotations.is_empty() {
            meta.insert("annotations".into(), Value::Object(annotations));
        }
    }
    res.obj = obj;
    Ok(())
}

/// Applies a JSON patch's operations in order, with one quirk of the library kustomize uses
/// (evanphx/json-patch v4), which reads a key missing from an existing map as `null`:
/// `copy` from it copies `null`, `replace` of it adds it, and `test` of it against `null`
/// passes.
fn apply_json_operations(mut obj: Value, ops: &Value) -> Result<Value, String> {
    use sluice_patch::json_patch::{self, Operation};
    let operations = json_patch::parse(ops).map_err(|e| e.to_string())?;
    for (index, operation) in operations.into_iter().enumerate() {
        let operation = match operation {
            Operation::Copy { from, path } if names_a_missing_key(&obj, &from) => Operation::Add {
                path,
                value: Value::Null,
            },
            Operation::Replace { path, value } if names_a_missing_key(&obj, &path) => {
                Operation::Add { path, value }
            }
            Operation::Test { path, value }
                if value.is_null() && names_a_missing_key(&obj, &path) =>
            {
                continue;
            }
            other => other,
        };
        obj =
            json_patch::apply_operations(&obj, std::slice::from_ref(&operation)).map_err(|e| {
                match e {
                    // Errors count operations from the start of the whole patch.
                    sluice_patch::Error::ApplyJsonPatch {
                        op, path, reason, ..
                    } => sluice_patch::Error::ApplyJsonPatch {
                        index,
                        op,
                        path,
                        reason,
                    }
                    .to_string(),
                    sluice_patch::Error::JsonPatchTestFailed { path, .. } => {
                        sluice_patch::Error::JsonPatchTestFailed { index, path }.to_string()
                    }
                    other => other.to_string(),
                }
            })?;
    }
    Ok(obj)
}

/// Whether `pointer` names a key absent from a map that exists.
fn names_a_missing_key(obj: &Value, pointer: &str) -> bool {
    let Ok(tokens) = sluice_patch::pointer::parse(pointer) else {
        return false;
    };
    let Some((last, parents)) = tokens.split_last() else {
        return false;
    };
    let parent = sluice_patch::pointer::format(parents);
    matches!(
        sluice_patch::pointer::get(obj, &parent),
        Ok(Some(Value::Object(map))) if !map.contains_key(last)
    )
}

/// The text of a YAML node made from a JSON value: a scalar's text, `""` for a collection.
fn node_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() => crate::yaml::format_float(f),
            _ => n.to_string(),
        },
        Value::Array(_) | Value::Object(_) => String::new(),
    }
}

fn apply_to(
    map: &mut ResMap,
    indices: &[usize],
    patch: &Value,
    options: Options,
    openapi: Option<&OpenApi>,
) -> Result<(), String> {
    let mut deleted = Vec::new();
    for &i in indices {
        let target = &mut map.list[i];
        // The patch takes the target's apiVersion (kustomize sets the copy's GVK).
        let mut patch = patch.clone();
        if let Some(obj) = patch.as_object_mut() {
            if let Some(av) = target.obj.get("apiVersion") {
                obj.insert("apiVersion".into(), av.clone());
            }
            if !obj.contains_key("kind")
                && let Some(k) = target.obj.get("kind")
            {
                obj.insert("kind".into(), k.clone());
            }
        }
        if !apply_strategic(target, &patch, options, openapi)? {
            deleted.push(i);
        }
    }
    let mut index = 0;
    map.list.retain(|_| {
        let keep = !deleted.contains(&index);
        index += 1;
        keep
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Resource {
        Resource::new(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}}}))
    }

    #[test]
    fn json_patches_read_a_missing_map_key_as_null() {
        let mut res = deployment();
        res.store_previous_id();
        let ops = json!([
            {"op": "copy", "from": "/metadata/labels/missing", "path": "/metadata/labels/copy"},
            {"op": "replace", "path": "/metadata/labels/new", "value": "x"},
            {"op": "test", "path": "/metadata/labels/absent", "value": null}
        ]);
        apply_json(&mut res, &ops).expect("applies");
        assert_eq!(
            res.obj["metadata"]["labels"],
            json!({"app": "web", "copy": null, "new": "x"})
        );
        // A missing parent is still an error, counted from the patch's start.
        let err = apply_json(
            &mut res,
            &json!([{"op": "add", "path": "/metadata/labels/a", "value": "1"},
            {"op": "copy", "from": "/nope/x", "path": "/y"}]),
        )
        .expect_err("fails");
        assert!(err.contains("operation 1"), "{err}");
    }

    #[test]
    fn json_patches_see_build_annotations_and_write_annotations_as_strings() {
        let mut res = deployment();
        res.store_previous_id();
        let ops = json!([
            {"op": "add", "path": "/metadata/annotations/n", "value": 5},
            {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations/m"},
            {"op": "copy", "from": "/metadata/annotations", "path": "/spec"}
        ]);
        apply_json(&mut res, &ops).expect("applies");
        assert_eq!(
            res.obj["metadata"]["annotations"],
            json!({"n": "5", "m": ""})
        );
        assert_eq!(
            res.obj["spec"]["internal.config.kubernetes.io/previousNames"],
            json!("web")
        );
        // Removing every annotation leaves no empty map behind.
        apply_json(
            &mut res,
            &json!([{"op": "remove", "path": "/metadata/annotations"}]),
        )
        .expect("applies");
        assert!(res.obj["metadata"].get("annotations").is_none());
    }
}
