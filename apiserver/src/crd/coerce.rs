//! What kube-apiserver does to a custom resource while decoding it, before any
//! validation (`unstructuredSchemaCoercer` and `unstructuredDefaulter`):
//!
//! 1. `metadata` is decoded as an `ObjectMeta` (unknown fields dropped and reported as
//!    `metadata.foo`, mistyped fields refused);
//! 2. fields the structural schema does not specify are pruned, keeping `apiVersion`,
//!    `kind` and `metadata` of the root and of `x-kubernetes-embedded-resource` objects, and
//!    everything under `x-kubernetes-preserve-unknown-fields` (`pruning.PruneWithOptions`);
//!    the pruned paths are reported as unknown fields;
//! 3. `null`s where the schema neither allows them (`nullable`) nor has a default are
//!    dropped (`PruneNonNullableNullsWithoutDefaults`);
//! 4. `apiVersion`, `kind` and `metadata` of embedded resources are checked and
//!    normalized (`objectmeta.Coerce`);
//! 5. defaults are applied at every level (`defaulting.Default`).

use serde_json::{Map, Value};

use super::field::{FieldError, Path};
use super::structural::Structural;

const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// Why an object could not be decoded (a 400 Bad Request, not a 422).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// `metadata` (of the root or an embedded resource) is not a valid `ObjectMeta`.
    #[error("{0}")]
    Metadata(String),
    /// An embedded resource's `apiVersion`, `kind` or `metadata` has the wrong type.
    #[error("{0}")]
    Embedded(FieldError),
}

/// Tracks the path of the node being pruned, printed as kube-apiserver prints unknown
/// field paths (`spec.containers[0].foo`).
struct Tracker {
    parent: String,
    unknown: Vec<String>,
}

impl Tracker {
    fn key(&self, key: &str) -> String {
        if self.parent.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.parent)
        }
    }

    fn enter(&mut self, next: String) -> String {
        std::mem::replace(&mut self.parent, next)
    }
}

/// Prunes `obj` (a resource root) against `s`, returning the sorted paths of the fields
/// it dropped.
pub(crate) fn prune_root(obj: &mut Value, s: &Structural) -> Vec<String> {
    let mut root = s.clone();
    root.extensions.x_embedded_resource = true;
    let mut tracker = Tracker {
        parent: String::new(),
        unknown: Vec::new(),
    };
    prune(obj, Some(&root), &mut tracker);
    tracker.unknown.sort();
    tracker.unknown
}

fn prune(x: &mut Value, s: Option<&Structural>, t: &mut Tracker) {
    if let Some(s) = s
        && s.extensions.x_preserve_unknown_fields
    {
        skip_prune(x, s, t);
        return;
    }
    match x {
        Value::Object(map) => {
            let Some(s) = s else {
                let mut keys: Vec<String> = map.keys().cloned().collect();
                keys.sort();
                for k in keys {
                    t.unknown.push(t.key(&k));
                }
                map.clear();
                return;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if s.extensions.x_embedded_resource && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                let child = if let Some(prop) = s.properties.get(&k) {
                    Some(Some(prop))
                } else {
                    s.additional_properties
                        .as_ref()
                        .map(|ap| ap.structural.as_deref())
                };
                match child {
                    Some(child) => {
                        let next = t.key(&k);
                        let saved = t.enter(next);
                        if let Some(v) = map.get_mut(&k) {
                            prune(v, child, t);
                        }
                        t.parent = saved;
                    }
                    None => {
                        t.unknown.push(t.key(&k));
                        map.remove(&k);
                    }
                }
            }
        }
        Value::Array(items) => {
            let item_schema = s.and_then(|s| s.items.as_deref());
            for (i, item) in items.iter_mut().enumerate() {
                let next = format!("{}[{i}]", t.parent);
                let saved = t.enter(next);
                prune(item, item_schema, t);
                t.parent = saved;
            }
        }
        _ => {}
    }
}

fn skip_prune(x: &mut Value, s: &Structural, t: &mut Tracker) {
    match x {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if s.extensions.x_embedded_resource && META_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                let child = if let Some(prop) = s.properties.get(&k) {
                    Some(Some(prop))
                } else {
                    s.additional_properties
                        .as_ref()
                        .map(|ap| ap.structural.as_deref())
                };
                if let Some(child) = child {
                    let next = t.key(&k);
                    let saved = t.enter(next);
                    if let Some(v) = map.get_mut(&k) {
                        prune(v, child, t);
                    }
                    t.parent = saved;
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.items.as_deref() {
                for (i, item) in items.iter_mut().enumerate() {
                    let next = format!("{}[{i}]", t.parent);
                    let saved = t.enter(next);
                    skip_prune(item, item_schema, t);
                    t.parent = saved;
                }
            }
        }
        _ => {}
    }
}

fn field_schema<'a>(s: Option<&'a Structural>, key: &str) -> Option<&'a Structural> {
    let s = s?;
    match s.properties.get(key) {
        Some(prop) => Some(prop),
        None => s
            .additional_properties
            .as_ref()
            .and_then(|ap| ap.structural.as_deref()),
    }
}

/// `PruneNonNullableNullsWithoutDefaults`: drops `null` object fields whose schema neither
/// is `nullable` nor has a default (those with a default are defaulted later).
pub(crate) fn prune_nulls(x: &mut Value, s: Option<&Structural>) {
    match x {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let schema = field_schema(s, &k);
                let drop = map.get(&k).is_some_and(Value::is_null)
                    && schema.is_some_and(|s| !s.generic.nullable && s.generic.default.is_none());
                if drop {
                    map.remove(&k);
                } else if let Some(v) = map.get_mut(&k) {
                    prune_nulls(v, schema);
                }
            }
        }
        Value::Array(items) => {
            let schema = s.and_then(|s| s.items.as_deref());
            for item in items {
                prune_nulls(item, schema);
            }
        }
        _ => {}
    }
}

fn non_nullable_null(x: &Value, s: Option<&Structural>) -> bool {
    x.is_null() && s.is_some_and(|s| !s.generic.nullable)
}

/// `defaulting.Default`: fills absent (and non-nullable `null`) fields from their
/// schema's `default`, at every level, including list items and map values.
pub(crate) fn apply_defaults(x: &mut Value, s: Option<&Structural>) {
    let Some(s) = s else { return };
    match x {
        Value::Object(map) => {
            for (k, prop) in &s.properties {
                let Some(default) = &prop.generic.default else {
                    continue;
                };
                let missing = match map.get(k) {
                    None => true,
                    Some(v) => non_nullable_null(v, Some(prop)),
                };
                if missing {
                    map.insert(k.clone(), default.clone());
                }
            }
            for (k, v) in map.iter_mut() {
                if let Some(prop) = s.properties.get(k) {
                    apply_defaults(v, Some(prop));
                } else if let Some(ap) = &s.additional_properties {
                    let ap = ap.structural.as_deref();
                    if non_nullable_null(v, ap)
                        && let Some(default) = ap.and_then(|a| a.generic.default.as_ref())
                    {
                        *v = default.clone();
                    }
                    apply_defaults(v, ap);
                }
            }
        }
        Value::Array(items) => {
            let item_schema = s.items.as_deref();
            for item in items {
                if non_nullable_null(item, item_schema)
                    && let Some(default) = item_schema.and_then(|a| a.generic.default.as_ref())
                {
                    *item = default.clone();
                }
                apply_defaults(item, item_schema);
            }
        }
        _ => {}
    }
}

/// Decodes `metadata` of `obj` as an `ObjectMeta`: returns the normalized metadata and
/// the paths (under `prefix`) of unknown metadata fields.
///
/// # Errors
/// When a known field has the wrong type.
pub(crate) fn object_meta(
    metadata: &Value,
    prefix: &str,
) -> Result<(Value, Vec<String>), DecodeError> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let mut unknown = Vec::new();
    let decoded: Result<ObjectMeta, serde_json::Error> =
        serde_ignored::deserialize(metadata, |path| {
            unknown.push(format!("{prefix}.{}", render_ignored(&path)))
        });
    let meta = decoded.map_err(|_| {
        let detail = serde_path_to_error::deserialize::<_, ObjectMeta>(metadata)
            .err()
            .map(|e| {
                let at = e.path().to_string();
                if at == "." || at.is_empty() {
                    e.inner().to_string()
                } else {
                    format!("{} (at {prefix}.{at})", e.inner())
                }
            })
            .unwrap_or_else(|| "invalid metadata".to_owned());
        DecodeError::Metadata(detail)
    })?;
    let mut value = serde_json::json!({
        "metadata": serde_json::to_value(&meta).map_err(|e| DecodeError::Metadata(e.to_string()))?
    });
    crate::object::omit_empty_metadata(&mut value);
    Ok((value["metadata"].take(), unknown))
}

fn render_ignored(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path as P;
    match path {
        P::Root => String::new(),
        P::Seq { parent, index } => format!("{}[{index}]", render_ignored(parent)),
        P::Map { parent, key } => {
            let parent = render_ignored(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            render_ignored(parent)
        }
    }
}

/// `objectmeta.Coerce` below the root: `apiVersion` and `kind` of embedded resources must
/// be strings, their `metadata` is decoded as an `ObjectMeta` (unknown fields dropped and
/// reported). Returns the unknown field paths.
///
/// # Errors
/// The first embedded resource with a mistyped type or metadata field.
pub(crate) fn coerce_embedded(
    x: &mut Value,
    s: Option<&Structural>,
    path: &Path,
    unknown: &mut Vec<String>,
) -> Result<(), DecodeError> {
    let Some(s) = s else { return Ok(()) };
    match x {
        Value::Object(map) => {
            if s.extensions.x_embedded_resource {
                coerce_embedded_meta(map, path, unknown)?;
            }
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let (child_path, child) = if let Some(prop) = s.properties.get(&k) {
                    (path.child(&k), Some(prop))
                } else if let Some(ap) = &s.additional_properties {
                    (path.key(&k), ap.structural.as_deref())
                } else {
                    continue;
                };
                if let Some(v) = map.get_mut(&k) {
                    coerce_embedded(v, child, &child_path, unknown)?;
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                coerce_embedded(item, s.items.as_deref(), &path.index(i), unknown)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn coerce_embedded_meta(
    map: &mut Map<String, Value>,
    path: &Path,
    unknown: &mut Vec<String>,
) -> Result<(), DecodeError> {
    for k in ["apiVersion", "kind"] {
        if let Some(v) = map.get(k)
            && !v.is_string()
        {
            return Err(DecodeError::Embedded(FieldError::invalid(
                &path.child(k),
                v.clone(),
                "must be a string",
            )));
        }
    }
    if let Some(metadata) = map.get("metadata") {
        let (meta, paths) = object_meta(metadata, &path.child("metadata").to_string())?;
        unknown.extend(paths);
        map.insert("metadata".into(), meta);
    }
    Ok(())
}

/// `objectmeta.Validate` for embedded resources (the root's metadata is validated as any
/// object's): `apiVersion` and `kind` present and well-formed, `metadata` a valid object
/// meta for a resource whose name is a path segment.
pub(crate) fn validate_embedded(
    x: &Value,
    s: Option<&Structural>,
    path: &Path,
    errs: &mut Vec<FieldError>,
) {
    let Some(s) = s else { return };
    match x {
        Value::Object(map) => {
            if s.extensions.x_embedded_resource {
                errs.extend(super::defaults::embedded_resource(path, map));
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                if let Some(prop) = s.properties.get(k) {
                    validate_embedded(&map[k], Some(prop), &path.child(k), errs);
                } else if let Some(ap) = &s.additional_properties {
                    validate_embedded(&map[k], ap.structural.as_deref(), &path.key(k), errs);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                validate_embedded(item, s.items.as_deref(), &path.index(i), errs);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::structural::new_structural;
    use serde_json::json;

    fn schema(v: Value) -> Structural {
        let props = crate::crd::decode::props_for_test(&v);
        new_structural(&props).expect("structural")
    }

    #[test]
    fn pruning_reports_paths_of_dropped_fields_in_order() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                }},
            },
        }));
        let mut obj = json!({
            "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"},
            "spec": {"zzz": 1, "items": [{"a": "x", "b": 2}], "free": {"anything": true}},
            "extra": {"deep": 1},
        });
        let pruned = prune_root(&mut obj, &s);
        assert_eq!(pruned, vec!["extra", "spec.items[0].b", "spec.zzz"]);
        assert_eq!(
            obj,
            json!({
                "apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"},
                "spec": {"items": [{"a": "x"}], "free": {"anything": true}},
            })
        );
    }

    #[test]
    fn defaults_apply_at_every_level() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "default": {}, "properties": {
                    "timeout": {"type": "string", "default": "60s"},
                    "ports": {"type": "array", "items": {"type": "object", "properties": {
                        "protocol": {"type": "string", "default": "TCP"},
                        "port": {"type": "integer"},
                    }}},
                    "byName": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                        "weight": {"type": "integer", "default": 1},
                    }}},
                }},
            },
        }));
        let mut empty = json!({});
        apply_defaults(&mut empty, Some(&s));
        assert_eq!(empty, json!({"spec": {"timeout": "60s"}}));
        let mut obj =
            json!({"spec": {"ports": [{"port": 80}], "byName": {"a": {}}, "timeout": "5s"}});
        apply_defaults(&mut obj, Some(&s));
        assert_eq!(
            obj,
            json!({"spec": {"timeout": "5s", "ports": [{"port": 80, "protocol": "TCP"}], "byName": {"a": {"weight": 1}}}})
        );
    }

    #[test]
    fn nulls_are_dropped_unless_nullable_or_defaulted() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "string", "nullable": true},
                "c": {"type": "string", "default": "x"},
            },
        }));
        let mut obj = json!({"a": null, "b": null, "c": null});
        prune_nulls(&mut obj, Some(&s));
        assert_eq!(obj, json!({"b": null, "c": null}));
        apply_defaults(&mut obj, Some(&s));
        assert_eq!(obj, json!({"b": null, "c": "x"}));
    }

    #[test]
    fn unknown_metadata_fields_are_reported_and_mistyped_ones_refused() {
        let (meta, unknown) =
            object_meta(&json!({"name": "a", "bogus": 1}), "metadata").expect("decodes");
        assert_eq!(meta, json!({"name": "a"}));
        assert_eq!(unknown, vec!["metadata.bogus"]);
        assert!(object_meta(&json!({"labels": "x"}), "metadata").is_err());
    }
}
