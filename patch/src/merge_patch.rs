//! JSON merge patch (RFC 7386), the `application/merge-patch+json` PATCH type.
//!
//! A patch object's members are merged into the target recursively; a `null` member deletes;
//! anything that is not an object (lists included) replaces the target wholesale.

use serde_json::{Map, Value};

use crate::value::json_equal;

/// Returns `target` with `patch` merged into it.
///
/// Applying a merge patch cannot fail: every JSON value is a valid merge patch.
pub fn apply(target: &Value, patch: &Value) -> Value {
    let mut out = target.clone();
    apply_in_place(&mut out, patch);
    out
}

/// Merges `patch` into `target` in place.
pub fn apply_in_place(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in members {
            if value.is_null() {
                map.remove(key);
            } else {
                apply_in_place(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Computes a merge patch that turns `original` into `modified`.
///
/// Objects are compared member by member: removed members become `null`, changed ones are
/// diffed recursively when both sides are objects and replaced otherwise. Equal objects
/// give `{}`; when either side is not an object the patch is `modified` itself.
///
/// # Caveats
///
/// A merge patch cannot set a member to `null` (`null` means delete), so when `modified`
/// holds `null` members, applying the patch removes them instead of storing `null`.
pub fn diff(original: &Value, modified: &Value) -> Value {
    match (original, modified) {
        (Value::Object(original), Value::Object(modified)) => {
            Value::Object(diff_maps(original, modified))
        }
        _ => modified.clone(),
    }
}

fn diff_maps(original: &Map<String, Value>, modified: &Map<String, Value>) -> Map<String, Value> {
    let mut patch = Map::new();
    for key in original.keys() {
        if !modified.contains_key(key) {
            patch.insert(key.clone(), Value::Null);
        }
    }
    for (key, new) in modified {
        match original.get(key) {
            None => {
                patch.insert(key.clone(), new.clone());
            }
            Some(Value::Object(old)) if new.is_object() => {
                if let Value::Object(new) = new {
                    let nested = diff_maps(old, new);
                    if !nested.is_empty() {
                        patch.insert(key.clone(), Value::Object(nested));
                    }
                }
            }
            Some(old) => {
                if !json_equal(old, new) {
                    patch.insert(key.clone(), new.clone());
                }
            }
        }
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    /// The examples of RFC 7386, appendix A: (target, patch, result).
    #[test]
    fn rfc_7386_examples_hold() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": "b", "b": "c"}),
                json!({"a": null}),
                json!({"b": "c"}),
            ),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a": "b"}), json!(["c"]), json!(["c"])),
            (json!({"a": "foo"}), json!(null), json!(null)),
            (json!({"a": "foo"}), json!("bar"), json!("bar")),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ];
        for (target, patch, result) in cases {
            assert_eq!(apply(&target, &patch), result, "{target} + {patch}");
        }
    }

    #[test]
    fn diff_treats_numerically_equal_values_as_unchanged() {
        assert_eq!(diff(&json!({"a": 1}), &json!({"a": 1.0})), json!({}));
    }

    #[test]
    fn diff_emits_only_what_changed() {
        let cases = [
            (
                json!({"a": 1, "b": 2}),
                json!({"a": 1, "b": 3}),
                json!({"b": 3}),
            ),
            (json!({"a": 1}), json!({}), json!({"a": null})),
            (
                json!({"a": {"b": 1, "c": 2}}),
                json!({"a": {"b": 1}}),
                json!({"a": {"c": null}}),
            ),
            (json!({"a": [1, 2]}), json!({"a": [1]}), json!({"a": [1]})),
            (json!({"a": {"b": 1}}), json!({"a": {"b": 1}}), json!({})),
            (
                json!({"a": "x"}),
                json!({"a": {"b": 1}}),
                json!({"a": {"b": 1}}),
            ),
            (json!([1]), json!([2]), json!([2])),
            (json!("x"), json!({"a": 1}), json!({"a": 1})),
        ];
        for (original, modified, patch) in cases {
            assert_eq!(
                diff(&original, &modified),
                patch,
                "{original} -> {modified}"
            );
            assert_eq!(
                apply(&original, &patch),
                modified,
                "{original} -> {modified}"
            );
        }
    }
}
