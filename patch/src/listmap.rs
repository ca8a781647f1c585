//! How server-side apply identifies list elements, for managed fields.
//!
//! A list's [`ListType`] comes from the schema ([`FieldSchema::list_type`]): elements of a
//! map list are identified by their key fields (`k:{"containerPort":80,"protocol":"TCP"}`
//! in `managedFields`), elements of a set by their value (`v:"example.com/finalizer"`),
//! and elements of an atomic list not at all: the list is one value.

use std::fmt;

use serde_json::Value;

use crate::schema::display_path;
use crate::value::{json_equal, type_name};
use crate::{Error, FieldSchema, ListType, PatchSchema, PathElement};

/// The identity of one list element.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementKey {
    /// An element of a map list: its key fields and their values, sorted by field name.
    Fields(Vec<(String, Value)>),
    /// An element of a set: the value itself.
    Value(Value),
}

impl ElementKey {
    /// Whether two keys identify the same element (numbers compared by value).
    pub fn matches(&self, other: &ElementKey) -> bool {
        match (self, other) {
            (ElementKey::Fields(a), ElementKey::Fields(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && json_equal(va, vb))
            }
            (ElementKey::Value(a), ElementKey::Value(b)) => json_equal(a, b),
            _ => false,
        }
    }
}

/// The path element server-side apply writes in `managedFields` (`fieldsV1`):
/// `k:{"name":"app"}` or `v:"value"`, keys in name order, JSON without spaces.
impl fmt::Display for ElementKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElementKey::Fields(fields) => {
                f.write_str("k:{")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{value}", Value::String(name.clone()))?;
                }
                f.write_str("}")
            }
            ElementKey::Value(value) => write!(f, "v:{value}"),
        }
    }
}

/// The list type of the list at `path` according to `schema`.
pub fn list_type(schema: &dyn PatchSchema, path: &[PathElement]) -> ListType {
    schema.field(path).list_type()
}

/// The key of one element of a list of type `list_type`; `Ok(None)` for atomic lists,
/// whose elements have no identity.
///
/// A map-list element that omits a key field takes the key's default when the schema has
/// one (`protocol: TCP` for ports), as server-side apply does.
///
/// # Errors
///
/// [`Error::ListMapKey`] (with `path` as the list's path) when a map-list element is not a
/// map or lacks a key field without a default, or a set element is not a primitive.
pub fn element_key(
    list_type: &ListType,
    element: &Value,
    path: &[PathElement],
) -> Result<Option<ElementKey>, Error> {
    let fail = |reason: String| Error::ListMapKey {
        path: display_path(path),
        reason,
    };
    match list_type {
        ListType::Atomic => Ok(None),
        ListType::Set => match element {
            Value::Object(_) | Value::Array(_) => Err(fail(format!(
                "a set holds primitive values, found a {}",
                type_name(element)
            ))),
            value => Ok(Some(ElementKey::Value(value.clone()))),
        },
        ListType::Map(keys) => {
            let Value::Object(map) = element else {
                return Err(fail(format!(
                    "a map list holds maps, found a {}",
                    type_name(element)
                )));
            };
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                let value = map
                    .get(key.name.as_ref())
                    .or(key.default.as_ref())
                    .ok_or_else(|| fail(format!("an element omits the key field {:?} (and it has no default): {element}", key.name)))?;
                fields.push((key.name.to_string(), value.clone()));
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Some(ElementKey::Fields(fields)))
        }
    }
}

/// The keys of every element of the list at `path`, in order; `Ok(None)` when the list is
/// atomic.
///
/// # Errors
///
/// As [`element_key`], and [`Error::ListMapKey`] when two elements share a key: server-side
/// apply cannot tell them apart.
pub fn element_keys(
    schema: &dyn PatchSchema,
    path: &[PathElement],
    items: &[Value],
) -> Result<Option<Vec<ElementKey>>, Error> {
    keys_of(&schema.field(path), path, items)
}

/// Like [`element_keys`], for a field schema already looked up.
///
/// # Errors
///
/// As [`element_keys`].
pub fn keys_of(
    field: &FieldSchema,
    path: &[PathElement],
    items: &[Value],
) -> Result<Option<Vec<ElementKey>>, Error> {
    let list_type = field.list_type();
    if list_type == ListType::Atomic {
        return Ok(None);
    }
    let mut keys: Vec<ElementKey> = Vec::with_capacity(items.len());
    for item in items {
        let Some(key) = element_key(&list_type, item, path)? else {
            return Ok(None);
        };
        if keys.iter().any(|seen| seen.matches(&key)) {
            return Err(Error::ListMapKey {
                path: display_path(path),
                reason: format!("duplicate entries for key {key}"),
            });
        }
        keys.push(key);
    }
    Ok(Some(keys))
}

/// The position and value of the element of `items` with key `key`, if any.
///
/// # Errors
///
/// As [`element_key`], for the elements looked at.
pub fn find<'v>(
    list_type: &ListType,
    items: &'v [Value],
    key: &ElementKey,
    path: &[PathElement],
) -> Result<Option<(usize, &'v Value)>, Error> {
    for (index, item) in items.iter().enumerate() {
        if element_key(list_type, item, path)?.is_some_and(|k| k.matches(key)) {
            return Ok(Some((index, item)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuiltinSchema;
    use serde_json::json;

    fn path(steps: &str) -> Vec<PathElement> {
        steps
            .split('.')
            .map(|s| {
                if s == "[]" {
                    PathElement::Item
                } else {
                    PathElement::field(s)
                }
            })
            .collect()
    }

    #[test]
    fn container_ports_are_keyed_by_port_and_protocol_with_its_default() {
        let deployment = BuiltinSchema::for_kind("apps/v1", "Deployment").expect("known");
        let at = path("spec.template.spec.containers.[].ports");
        let ports = [
            json!({"containerPort": 80, "name": "http"}),
            json!({"containerPort": 80, "protocol": "UDP"}),
        ];
        let keys = element_keys(&deployment, &at, &ports)
            .unwrap()
            .expect("a map list");
        let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                r#"k:{"containerPort":80,"protocol":"TCP"}"#,
                r#"k:{"containerPort":80,"protocol":"UDP"}"#
            ]
        );
    }

    #[test]
    fn elements_are_found_by_key() {
        let pod = BuiltinSchema::for_kind("v1", "Pod").expect("known");
        let at = path("spec.containers");
        let list_type = list_type(&pod, &at);
        let containers = [json!({"name": "a"}), json!({"name": "b", "image": "x"})];
        let key = ElementKey::Fields(vec![("name".into(), json!("b"))]);
        assert_eq!(
            find(&list_type, &containers, &key, &at).unwrap(),
            Some((1, &containers[1]))
        );
        let missing = ElementKey::Fields(vec![("name".into(), json!("c"))]);
        assert_eq!(find(&list_type, &containers, &missing, &at).unwrap(), None);
    }

    #[test]
    fn finalizers_are_a_set_keyed_by_value() {
        let cm = BuiltinSchema::for_kind("v1", "ConfigMap").expect("known");
        let at = path("metadata.finalizers");
        let keys = element_keys(&cm, &at, &[json!("example.com/a")])
            .unwrap()
            .expect("a set");
        assert_eq!(keys[0].to_string(), r#"v:"example.com/a""#);
    }

    #[test]
    fn atomic_lists_have_no_element_keys() {
        let pod = BuiltinSchema::for_kind("v1", "Pod").expect("known");
        let keys = element_keys(&pod, &path("spec.tolerations"), &[json!({"key": "a"})]).unwrap();
        assert_eq!(keys, None);
    }

    #[test]
    fn unidentifiable_elements_are_errors_naming_the_list() {
        let pod = BuiltinSchema::for_kind("v1", "Pod").expect("known");
        let cases = [
            (
                "spec.containers",
                vec![json!({"image": "x"})],
                "omits the key field \"name\"",
            ),
            (
                "spec.containers",
                vec![json!("a")],
                "a map list holds maps, found a string",
            ),
            (
                "spec.containers",
                vec![json!({"name": "a"}), json!({"name": "a", "image": "x"})],
                r#"duplicate entries for key k:{"name":"a"}"#,
            ),
            (
                "metadata.finalizers",
                vec![json!({"a": 1})],
                "a set holds primitive values",
            ),
            (
                "metadata.finalizers",
                vec![json!("a"), json!("a")],
                r#"duplicate entries for key v:"a""#,
            ),
        ];
        for (at, items, text) in cases {
            let error = element_keys(&pod, &path(at), &items)
                .unwrap_err()
                .to_string();
            assert!(error.contains(text), "{at}: {error}");
            assert!(error.contains(&display_path(&path(at))), "{at}: {error}");
        }
    }

    #[test]
    fn keys_are_sorted_by_field_name_and_escaped_as_json() {
        let key = ElementKey::Fields(vec![("a\"b".into(), json!("x")), ("n".into(), json!(1))]);
        assert_eq!(key.to_string(), r#"k:{"a\"b":"x","n":1}"#);
    }
}
