//! JSON patch (RFC 6902): `[{"op": "add", "path": "/a", "value": 1}, ...]`.
//!
//! Application is atomic: either every operation applies, or the document is left as it
//! was and the error names the failing operation's index and path.
//!
//! # Caveats
//!
//! This is RFC 6902 as written. The JSON patch library behind the Kubernetes API server
//! also accepts negative array indexes (`/items/-1`); those are rejected here.

use serde_json::{Map, Value};

use crate::Error;
use crate::pointer;
use crate::value::json_equal;

/// One JSON patch operation, with its pointers kept as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Adds `value` at `path`: sets an object member, inserts into an array (`-` appends),
    /// or replaces the whole document when `path` is `""`.
    Add {
        /// Target pointer.
        path: String,
        /// Value to add.
        value: Value,
    },
    /// Removes the value at `path`, which must exist.
    Remove {
        /// Target pointer.
        path: String,
    },
    /// Replaces the value at `path`, which must exist.
    Replace {
        /// Target pointer.
        path: String,
        /// New value.
        value: Value,
    },
    /// Removes the value at `from` and adds it at `path`.
    Move {
        /// Source pointer.
        from: String,
        /// Target pointer; must not be inside `from`.
        path: String,
    },
    /// Adds a copy of the value at `from` at `path`.
    Copy {
        /// Source pointer.
        from: String,
        /// Target pointer.
        path: String,
    },
    /// Checks that the value at `path` equals `value` (see [`json_equal`]).
    Test {
        /// Tested pointer.
        path: String,
        /// Expected value.
        value: Value,
    },
}

impl Operation {
    /// The operation's name as written in a patch (`add`, `remove`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Add { .. } => "add",
            Operation::Remove { .. } => "remove",
            Operation::Replace { .. } => "replace",
            Operation::Move { .. } => "move",
            Operation::Copy { .. } => "copy",
            Operation::Test { .. } => "test",
        }
    }

    /// The operation's target pointer.
    pub fn path(&self) -> &str {
        match self {
            Operation::Add { path, .. }
            | Operation::Remove { path }
            | Operation::Replace { path, .. }
            | Operation::Move { path, .. }
            | Operation::Copy { path, .. }
            | Operation::Test { path, .. } => path,
        }
    }
}

/// Parses a JSON patch document.
///
/// Members an operation does not use are ignored, as RFC 6902 asks; a `value` of `null`
/// counts as present.
///
/// # Errors
///
/// [`Error::ParseJsonPatch`] when the document is not a list;
/// [`Error::ParseJsonPatchOperation`] when an operation is not an object, has an unknown
/// `op`, lacks a member it needs, or holds a malformed pointer.
pub fn parse(patch: &Value) -> Result<Vec<Operation>, Error> {
    let Value::Array(items) = patch else {
        return Err(Error::ParseJsonPatch {
            reason: format!(
                "expected a list of operations, found a {}",
                crate::value::type_name(patch)
            ),
        });
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            parse_operation(item).map_err(|reason| Error::ParseJsonPatchOperation { index, reason })
        })
        .collect()
}

fn parse_operation(item: &Value) -> Result<Operation, String> {
    let Value::Object(map) = item else {
        return Err(format!(
            "expected an object, found a {}",
            crate::value::type_name(item)
        ));
    };
    let op = string_member(map, "op")?;
    let path = pointer_member(map, "path")?;
    let value = || {
        map.get("value")
            .cloned()
            .ok_or_else(|| format!("\"{op}\" needs a \"value\""))
    };
    Ok(match op.as_str() {
        "add" => Operation::Add {
            path,
            value: value()?,
        },
        "remove" => Operation::Remove { path },
        "replace" => Operation::Replace {
            path,
            value: value()?,
        },
        "move" => Operation::Move {
            from: pointer_member(map, "from")?,
            path,
        },
        "copy" => Operation::Copy {
            from: pointer_member(map, "from")?,
            path,
        },
        "test" => Operation::Test {
            path,
            value: value()?,
        },
        other => return Err(format!("unknown op {other:?}")),
    })
}

fn string_member(map: &Map<String, Value>, name: &str) -> Result<String, String> {
    match map.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "\"{name}\" must be a string, found a {}",
            crate::value::type_name(other)
        )),
        None => Err(format!("missing \"{name}\"")),
    }
}

fn pointer_member(map: &Map<String, Value>, name: &str) -> Result<String, String> {
    let pointer = string_member(map, name)?;
    pointer::parse(&pointer).map_err(|e| format!("\"{name}\": {e}"))?;
    Ok(pointer)
}

/// Parses and applies a JSON patch document to `document`, returning the patched copy.
///
/// # Errors
///
/// Any error of [`parse`] and [`apply_operations`].
pub fn apply(document: &Value, patch: &Value) -> Result<Value, Error> {
    apply_operations(document, &parse(patch)?)
}

/// Applies operations in order to a copy of `document`.
///
/// # Guarantees
///
/// Atomic: on error, nothing of the patch is visible (the input is borrowed, never
/// changed); see [`apply_in_place`] to patch a value you own.
///
/// # Errors
///
/// [`Error::ApplyJsonPatch`] for an operation whose target or source does not exist, an
/// array index out of range, a move into its own child, or a parent that is not a
/// container; [`Error::JsonPatchTestFailed`] for a failed `test`.
pub fn apply_operations(document: &Value, operations: &[Operation]) -> Result<Value, Error> {
    let mut out = document.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_one(&mut out, operation).map_err(|failure| match failure {
            Failure::TestFailed => Error::JsonPatchTestFailed {
                index,
                path: operation.path().to_owned(),
            },
            Failure::Other(reason) => Error::ApplyJsonPatch {
                index,
                op: operation.name().to_owned(),
                path: operation.path().to_owned(),
                reason,
            },
        })?;
    }
    Ok(out)
}

/// Applies a JSON patch document to `document` in place; on error `document` is unchanged.
///
/// # Errors
///
/// As [`apply`].
pub fn apply_in_place(document: &mut Value, patch: &Value) -> Result<(), Error> {
    *document = apply(document, patch)?;
    Ok(())
}

enum Failure {
    TestFailed,
    Other(String),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Other(reason)
    }
}

fn apply_one(document: &mut Value, operation: &Operation) -> Result<(), Failure> {
    // Pointers were validated by `parse`; operations built by hand are checked here too.
    let tokens = |p: &str| pointer::parse(p).map_err(|e| Failure::Other(e.to_string()));
    match operation {
        Operation::Add { path, value } => add(document, &tokens(path)?, value.clone())?,
        Operation::Remove { path } => {
            remove(document, &tokens(path)?)?;
        }
        Operation::Replace { path, value } => {
            let target = pointer::resolve_mut(document, &tokens(path)?)
                .ok_or_else(|| "the target does not exist".to_owned())?;
            *target = value.clone();
        }
        Operation::Move { from, path } => {
            let (from, to) = (tokens(from)?, tokens(path)?);
            if from == to {
                pointer::resolve(document, &from)
                    .ok_or_else(|| "\"from\" does not exist".to_owned())?;
                return Ok(());
            }
            if to.len() > from.len() && to.starts_with(&from) {
                return Err("cannot move a value into one of its own children"
                    .to_owned()
                    .into());
            }
            let value = remove(document, &from).map_err(|reason| format!("\"from\": {reason}"))?;
            add(document, &to, value)?;
        }
        Operation::Copy { from, path } => {
            let value = pointer::resolve(document, &tokens(from)?)
                .ok_or_else(|| "\"from\" does not exist".to_owned())?
                .clone();
            add(document, &tokens(path)?, value)?;
        }
        Operation::Test { path, value } => {
            let actual = pointer::resolve(document, &tokens(path)?)
                .ok_or_else(|| "the target does not exist".to_owned())?;
            if !json_equal(actual, value) {
                return Err(Failure::TestFailed);
            }
        }
    }
    Ok(())
}

fn add(document: &mut Value, tokens: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = tokens.split_last() else {
        *document = value;
        return Ok(());
    };
    match pointer::resolve_mut(document, parents) {
        Some(Value::Object(map)) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Some(Value::Array(items)) => {
            if last == "-" {
                items.push(value);
                return Ok(());
            }
            let index = pointer::array_index(last)
                .ok_or_else(|| format!("{last:?} is not an array index"))?;
            if index > items.len() {
                return Err(format!(
                    "index {index} is out of range for a list of {}",
                    items.len()
                ));
            }
            items.insert(index, value);
            Ok(())
        }
        Some(other) => Err(format!(
            "the parent is a {}, not a map or a list",
            crate::value::type_name(other)
        )),
        None => Err("the parent does not exist".to_owned()),
    }
}

fn remove(document: &mut Value, tokens: &[String]) -> Result<Value, String> {
    let Some((last, parents)) = tokens.split_last() else {
        return Err("cannot remove the whole document".to_owned());
    };
    match pointer::resolve_mut(document, parents) {
        Some(Value::Object(map)) => map
            .remove(last)
            .ok_or_else(|| "the target does not exist".to_owned()),
        Some(Value::Array(items)) => {
            let index = pointer::array_index(last)
                .ok_or_else(|| format!("{last:?} is not an array index"))?;
            if index >= items.len() {
                return Err(format!(
                    "index {index} is out of range for a list of {}",
                    items.len()
                ));
            }
            Ok(items.remove(index))
        }
        Some(other) => Err(format!(
            "the parent is a {}, not a map or a list",
            crate::value::type_name(other)
        )),
        None => Err("the target does not exist".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    /// (document, patch, expected result)
    fn apply_cases() -> Vec<(&'static str, Value, Value, Value)> {
        vec![
            (
                "add sets a new member",
                json!({"a": 1}),
                json!([{"op": "add", "path": "/b", "value": 2}]),
                json!({"a": 1, "b": 2}),
            ),
            (
                "add replaces an existing member",
                json!({"a": 1}),
                json!([{"op": "add", "path": "/a", "value": [1]}]),
                json!({"a": [1]}),
            ),
            (
                "add inserts into a list",
                json!({"a": [1, 3]}),
                json!([{"op": "add", "path": "/a/1", "value": 2}]),
                json!({"a": [1, 2, 3]}),
            ),
            (
                "add at the list length appends",
                json!({"a": [1]}),
                json!([{"op": "add", "path": "/a/1", "value": 2}]),
                json!({"a": [1, 2]}),
            ),
            (
                "dash appends",
                json!({"a": [1]}),
                json!([{"op": "add", "path": "/a/-", "value": 2}]),
                json!({"a": [1, 2]}),
            ),
            (
                "add at the root replaces the document",
                json!({"a": 1}),
                json!([{"op": "add", "path": "", "value": [1]}]),
                json!([1]),
            ),
            (
                "add of null sets null",
                json!({}),
                json!([{"op": "add", "path": "/a", "value": null}]),
                json!({"a": null}),
            ),
            (
                "escaped tokens address keys with slash and tilde",
                json!({"metadata": {"annotations": {}}}),
                json!([{"op": "add", "path": "/metadata/annotations/example.com~1a~0b", "value": "x"}]),
                json!({"metadata": {"annotations": {"example.com/a~b": "x"}}}),
            ),
            (
                "the empty key is a key",
                json!({"": 1}),
                json!([{"op": "replace", "path": "/", "value": 2}]),
                json!({"": 2}),
            ),
            (
                "remove deletes a member",
                json!({"a": 1, "b": 2}),
                json!([{"op": "remove", "path": "/a"}]),
                json!({"b": 2}),
            ),
            (
                "remove deletes a list element",
                json!([1, 2, 3]),
                json!([{"op": "remove", "path": "/1"}]),
                json!([1, 3]),
            ),
            (
                "replace changes a value",
                json!({"a": {"b": 1}}),
                json!([{"op": "replace", "path": "/a/b", "value": "x"}]),
                json!({"a": {"b": "x"}}),
            ),
            (
                "replace at the root",
                json!({"a": 1}),
                json!([{"op": "replace", "path": "", "value": 3}]),
                json!(3),
            ),
            (
                "move relocates a value",
                json!({"a": {"b": 1}, "c": {}}),
                json!([{"op": "move", "from": "/a/b", "path": "/c/d"}]),
                json!({"a": {}, "c": {"d": 1}}),
            ),
            (
                "move within a list",
                json!([1, 2, 3]),
                json!([{"op": "move", "from": "/0", "path": "/-"}]),
                json!([2, 3, 1]),
            ),
            (
                "move onto itself is a no-op",
                json!({"a": 1}),
                json!([{"op": "move", "from": "/a", "path": "/a"}]),
                json!({"a": 1}),
            ),
            (
                "copy duplicates a value",
                json!({"a": [1]}),
                json!([{"op": "copy", "from": "/a", "path": "/b"}]),
                json!({"a": [1], "b": [1]}),
            ),
            (
                "test passes on deep equality",
                json!({"a": {"b": [1, 2]}}),
                json!([{"op": "test", "path": "/a", "value": {"b": [1.0, 2]}}]),
                json!({"a": {"b": [1, 2]}}),
            ),
            (
                "operations apply in order",
                json!({}),
                json!([
                    {"op": "add", "path": "/a", "value": []},
                    {"op": "add", "path": "/a/-", "value": 1},
                    {"op": "test", "path": "/a/0", "value": 1},
                    {"op": "copy", "from": "/a", "path": "/b"},
                    {"op": "remove", "path": "/a"},
                ]),
                json!({"b": [1]}),
            ),
            (
                "unknown members are ignored",
                json!({}),
                json!([{"op": "add", "path": "/a", "value": 1, "extra": true}]),
                json!({"a": 1}),
            ),
        ]
    }

    #[test]
    fn operations_apply_as_rfc_6902_says() {
        for (name, document, patch, expected) in apply_cases() {
            assert_eq!(apply(&document, &patch).unwrap(), expected, "{name}");
        }
    }

    /// (document, patch, index of the failing operation, text the error must contain)
    #[test]
    fn failing_operations_name_their_index_and_path() {
        let cases = vec![
            (
                json!({}),
                json!([{"op": "remove", "path": "/a"}]),
                0,
                "(remove \"/a\") failed: the target does not exist",
            ),
            (
                json!({}),
                json!([{"op": "replace", "path": "/a", "value": 1}]),
                0,
                "the target does not exist",
            ),
            (
                json!({}),
                json!([{"op": "add", "path": "/a/b", "value": 1}]),
                0,
                "the parent does not exist",
            ),
            (
                json!({"a": [1]}),
                json!([{"op": "add", "path": "/a/2", "value": 1}]),
                0,
                "index 2 is out of range",
            ),
            (
                json!({"a": [1]}),
                json!([{"op": "add", "path": "/a/01", "value": 1}]),
                0,
                "not an array index",
            ),
            (
                json!({"a": [1]}),
                json!([{"op": "remove", "path": "/a/1"}]),
                0,
                "out of range",
            ),
            (
                json!({"a": [1]}),
                json!([{"op": "remove", "path": "/a/-"}]),
                0,
                "not an array index",
            ),
            (
                json!({"a": 1}),
                json!([{"op": "add", "path": "/a/b", "value": 1}]),
                0,
                "the parent is a number",
            ),
            (
                json!({"a": {"b": 1}}),
                json!([{"op": "move", "from": "/a", "path": "/a/c"}]),
                0,
                "into one of its own children",
            ),
            (
                json!({}),
                json!([{"op": "move", "from": "/x", "path": "/y"}]),
                0,
                "\"from\": the target does not exist",
            ),
            (
                json!({}),
                json!([{"op": "copy", "from": "/x", "path": "/y"}]),
                0,
                "\"from\" does not exist",
            ),
            (
                json!({"a": 1}),
                json!([{"op": "add", "path": "/b", "value": 1}, {"op": "remove", "path": "/c"}]),
                1,
                "operation 1 (remove \"/c\")",
            ),
            (
                json!({"a": 1}),
                json!([{"op": "test", "path": "/a", "value": 2}]),
                0,
                "(test \"/a\") failed: the value differs",
            ),
            (
                json!({"a": 1}),
                json!([{"op": "test", "path": "/b", "value": 1}]),
                0,
                "the target does not exist",
            ),
            (
                json!({}),
                json!([{"op": "remove", "path": ""}]),
                0,
                "cannot remove the whole document",
            ),
        ];
        for (document, patch, index, text) in cases {
            let error = apply(&document, &patch).unwrap_err();
            let message = error.to_string();
            assert!(
                message.contains(&format!("operation {index}")),
                "{patch}: {message}"
            );
            assert!(message.contains(text), "{patch}: {message}");
        }
    }

    #[test]
    fn a_failed_test_has_its_own_error_variant() {
        let error = apply(
            &json!({"a": 1}),
            &json!([{"op": "test", "path": "/a", "value": "1"}]),
        )
        .unwrap_err();
        assert_eq!(
            error,
            Error::JsonPatchTestFailed {
                index: 0,
                path: "/a".into()
            }
        );
    }

    #[test]
    fn malformed_patches_are_rejected_before_anything_applies() {
        let cases = vec![
            (json!({"op": "add"}), "expected a list of operations"),
            (json!([1]), "operation 0: expected an object"),
            (json!([{"path": "/a"}]), "missing \"op\""),
            (
                json!([{"op": "frobnicate", "path": "/a"}]),
                "unknown op \"frobnicate\"",
            ),
            (
                json!([{"op": "add", "path": "/a"}]),
                "\"add\" needs a \"value\"",
            ),
            (json!([{"op": "remove"}]), "missing \"path\""),
            (json!([{"op": "move", "path": "/a"}]), "missing \"from\""),
            (
                json!([{"op": "remove", "path": 3}]),
                "\"path\" must be a string",
            ),
            (
                json!([{"op": "remove", "path": "a"}]),
                "must start with \"/\"",
            ),
            (
                json!([{"op": "add", "path": "/a", "value": 1}, {"op": "remove", "path": "/a~"}]),
                "operation 1",
            ),
        ];
        for (patch, text) in cases {
            let message = apply(&json!({}), &patch).unwrap_err().to_string();
            assert!(message.contains(text), "{patch}: {message}");
        }
    }

    #[test]
    fn a_failing_operation_leaves_the_document_unchanged() {
        let mut document = json!({"a": [1, 2]});
        let patch = json!([
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "remove", "path": "/a/0"},
            {"op": "test", "path": "/a/0", "value": 99},
        ]);
        assert!(apply_in_place(&mut document, &patch).is_err());
        assert_eq!(document, json!({"a": [1, 2]}));
    }
}
