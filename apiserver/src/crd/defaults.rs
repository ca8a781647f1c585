//! Default values (`pkg/apiserver/schema/defaulting/validation.go`): every `default` must be
//! kept whole by pruning and must validate against the schema it sits in, including the
//! `apiVersion` and `kind` that an embedded resource needs.
//!
//! # Caveats
//!
//! Defaults inside the `metadata`, `apiVersion` or `kind` of an embedded resource are not
//! checked against ObjectMeta rules (Kubernetes builds the surrounding object for that), and
//! embedded `metadata` in a default is not validated as ObjectMeta. CEL rules are not run
//! against defaults.

use serde_json::{Map, Value};

use super::field::{FieldError, Path};
use super::names;
use super::structural::Structural;
use super::values::{Schema, validate_value};

const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// `ValidateDefaults` for the schema of a resource root.
pub(crate) fn validate_defaults(path: &Path, root: &Structural) -> Vec<FieldError> {
    let mut root = root.clone();
    root.extensions.x_embedded_resource = true;
    let mut errs = Vec::new();
    walk(path, &root, false, &mut errs);
    errs
}

fn walk(path: &Path, s: &Structural, inside_meta: bool, errs: &mut Vec<FieldError>) {
    let inside_meta = inside_meta && !s.extensions.x_embedded_resource;
    if let Some(default) = &s.generic.default
        && !inside_meta
    {
        check_default(path, s, default, errs);
    }
    // additionalProperties are not followed: defaults are forbidden there.
    if let Some(items) = &s.items {
        walk(&path.child("items"), items, inside_meta, errs);
    }
    for (k, sub) in &s.properties {
        let sub_inside_meta =
            inside_meta || (s.extensions.x_embedded_resource && META_FIELDS.contains(&k.as_str()));
        walk(&path.child("properties").key(k), sub, sub_inside_meta, errs);
    }
}

fn check_default(path: &Path, s: &Structural, default: &Value, errs: &mut Vec<FieldError>) {
    let default_path = path.child("default");
    let mut pruned = default.clone();
    prune(&mut pruned, Some(s), s.extensions.x_embedded_resource);
    if pruned != *default {
        errs.push(FieldError::invalid(
            &default_path,
            default.clone(),
            "must not have unknown fields",
        ));
    }
    let meta_errors = embedded_resources(
        &default_path,
        default,
        Some(s),
        s.extensions.x_embedded_resource,
    );
    if !meta_errors.is_empty() {
        errs.extend(meta_errors);
        return;
    }
    errs.extend(validate_value(
        &Schema::from_structural(s),
        default,
        &default_path,
    ));
}

/// `pruning.Prune`: drops object fields the schema does not specify, keeping
/// `apiVersion`, `kind` and `metadata` of embedded resources.
pub(crate) fn prune(x: &mut Value, s: Option<&Structural>, is_resource_root: bool) {
    let owned;
    let s = match s {
        Some(s) if is_resource_root && !s.extensions.x_embedded_resource => {
            let mut clone = s.clone();
            clone.extensions.x_embedded_resource = true;
            owned = clone;
            Some(&owned)
        }
        None if is_resource_root => {
            let mut clone = Structural::default();
            clone.extensions.x_embedded_resource = true;
            owned = clone;
            Some(&owned)
        }
        other => other,
    };
    prune_node(x, s);
}

fn prune_node(x: &mut Value, s: Option<&Structural>) {
    if let Some(s) = s
        && s.extensions.x_preserve_unknown_fields
    {
        skip_prune(x, s);
        return;
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                map.clear();
                return;
            };
            prune_map(map, s, false);
        }
        Value::Array(items) => {
            let item_schema = s.and_then(|s| s.items.as_deref());
            for item in items {
                prune_node(item, item_schema);
            }
        }
        _ => {}
    }
}

fn prune_map(map: &mut Map<String, Value>, s: &Structural, preserve_unknown: bool) {
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        if s.extensions.x_embedded_resource && META_FIELDS.contains(&k.as_str()) {
            continue;
        }
        let Some(v) = map.get_mut(&k) else { continue };
        if let Some(prop) = s.properties.get(&k) {
            prune_node(v, Some(prop));
        } else if let Some(ap) = &s.additional_properties {
            prune_node(v, ap.structural.as_deref());
        } else if !preserve_unknown {
            map.remove(&k);
        }
    }
}

fn skip_prune(x: &mut Value, s: &Structural) {
    match x {
        Value::Object(map) => prune_map(map, s, true),
        Value::Array(items) => {
            if let Some(item_schema) = s.items.as_deref() {
                for item in items {
                    skip_prune(item, item_schema);
                }
            }
        }
        _ => {}
    }
}

/// `objectmeta.Validate`'s checks of embedded resources in a default: `apiVersion` and
/// `kind` are present, non-empty strings of the right form.
fn embedded_resources(
    path: &Path,
    x: &Value,
    s: Option<&Structural>,
    is_resource_root: bool,
) -> Vec<FieldError> {
    let Some(s) = s else { return Vec::new() };
    let mut errs = Vec::new();
    match x {
        Value::Object(map) => {
            if s.extensions.x_embedded_resource || is_resource_root {
                errs.extend(embedded_resource(path, map));
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                let v = &map[k];
                if let Some(prop) = s.properties.get(k) {
                    errs.extend(embedded_resources(&path.child(k), v, Some(prop), false));
                } else if let Some(ap) = &s.additional_properties {
                    errs.extend(embedded_resources(
                        &path.key(k),
                        v,
                        ap.structural.as_deref(),
                        false,
                    ));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                errs.extend(embedded_resources(
                    &path.index(i),
                    item,
                    s.items.as_deref(),
                    false,
                ));
            }
        }
        _ => {}
    }
    errs
}

pub(crate) fn embedded_resource(path: &Path, map: &Map<String, Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !map.contains_key("apiVersion") {
        errs.push(FieldError::required(&path.child("apiVersion"), ""));
    }
    if !map.contains_key("kind") {
        errs.push(FieldError::required(&path.child("kind"), ""));
    }
    if let Some(v) = map.get("apiVersion") {
        let p = path.child("apiVersion");
        match v.as_str() {
            None => errs.push(FieldError::invalid(&p, v.clone(), "must be a string")),
            Some("") => errs.push(FieldError::invalid(&p, "", "must not be empty")),
            Some(api_version) if api_version.matches('/').count() > 1 => {
                errs.push(FieldError::invalid(
                    &p,
                    api_version,
                    format!("unexpected GroupVersion string: {api_version}"),
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(v) = map.get("kind") {
        let p = path.child("kind");
        match v.as_str() {
            None => errs.push(FieldError::invalid(&p, v.clone(), "must be a string")),
            Some("") => errs.push(FieldError::invalid(&p, "", "must not be empty")),
            Some(kind) => {
                let msgs = names::dns1035_label(&kind.to_lowercase());
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &p,
                        kind,
                        format!(
                            "may have mixed case, but should otherwise match: {}",
                            msgs.join(",")
                        ),
                    ));
                }
            }
        }
    }
    if let Some(v) = map.get("metadata")
        && !v.is_object()
    {
        errs.push(FieldError::invalid(
            &path.child("metadata"),
            v.clone(),
            "must be an object",
        ));
    }
    errs
}
