//! Strategic merge patch (`application/strategic-merge-patch+json`), as Kubernetes'
//! apimachinery applies it to built-in kinds.
//!
//! Maps merge recursively and `null` deletes, as in a JSON merge patch. Lists replace,
//! unless the [`PatchSchema`] gives the field the `merge` strategy: then lists of maps
//! merge element by element, matched by the field's merge key, and lists of primitives
//! become an ordered union. Directives steer the merge:
//!
//! - `$patch: replace` in a map replaces the map; in a list element, replaces the list
//!   with the patch's other elements.
//! - `$patch: delete` in a map empties it; in a list element, removes the elements whose
//!   merge key has that value.
//! - `$patch: merge` is the default behaviour spelt out; apimachinery rejects it, kustomize
//!   accepts it (see [`StrategicMerge::allow_merge_directive`]).
//! - `$retainKeys: [...]` drops the original's keys that are not listed.
//! - `$setElementOrder/<field>: [...]` orders the merged list `<field>`.
//! - `$deleteFromPrimitiveList/<field>: [...]` removes values from the primitive list
//!   `<field>`.
//!
//! Element order follows upstream: the patch's elements keep the patch's (or
//! `$setElementOrder`'s) order, the original's other elements keep theirs, and the two are
//! interleaved by the positions they had in the original. A new element therefore comes
//! before the original's elements that follow the last patched element it comes after
//! (for a patch of only new elements: first).
//!
//! # Caveats
//!
//! Deliberate differences from apimachinery, none of which changes what the API server
//! stores for a typed built-in object:
//!
//! - Wherever a value is taken from the patch wholesale (a new field, a new list element,
//!   a replaced list or map), its `null` members and directive keys are dropped and maps
//!   holding `$patch` are left out. Upstream does this for new fields only and relies on
//!   decoding into Go structs to drop the rest; objects here stay JSON.
//! - `$deleteFromPrimitiveList` applies after the field's own patch, in a fixed order;
//!   upstream's order depends on Go map iteration. It is an error on a list of maps.
//! - `null` elements in a merged list are an error (upstream panics), and so is a
//!   `$setElementOrder` whose list holds maps without the merge key; an empty list with
//!   `$setElementOrder` is accepted.
//! - Patch creation (two- and three-way diffs) is not implemented.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::schema::display_path;
use crate::value::{json_equal, type_name};
use crate::{BuiltinSchema, Error, FieldSchema, NoSchema, PatchSchema, PatchStrategy, PathElement};

/// The directive key of maps and list elements.
pub const PATCH_DIRECTIVE: &str = "$patch";
/// The directive listing the keys a map keeps.
pub const RETAIN_KEYS_DIRECTIVE: &str = "$retainKeys";
/// Prefix of the directive ordering a list: `$setElementOrder/<field>`.
pub const SET_ELEMENT_ORDER_PREFIX: &str = "$setElementOrder";
/// Prefix of the directive deleting values from a primitive list:
/// `$deleteFromPrimitiveList/<field>`.
pub const DELETE_FROM_PRIMITIVE_LIST_PREFIX: &str = "$deleteFromPrimitiveList";

/// Applies a strategic merge patch to `original` with the merge metadata of `schema`.
///
/// # Errors
///
/// [`Error::ApplyStrategicMerge`], naming the field path, when the patch or the original is
/// not a map, a directive is invalid, a merged list lacks merge keys or mixes element types.
pub fn apply(original: &Value, patch: &Value, schema: &dyn PatchSchema) -> Result<Value, Error> {
    StrategicMerge::new(schema).apply(original, patch)
}

/// Applies a strategic merge patch with the built-in merge metadata of the original's
/// `apiVersion` and `kind` (or the patch's, when the original has none). Kinds not in
/// [`BuiltinSchema`] get no metadata, so their lists are replaced, as upstream does for
/// types it does not know.
///
/// # Errors
///
/// As [`apply`].
pub fn apply_builtin(original: &Value, patch: &Value) -> Result<Value, Error> {
    match BuiltinSchema::for_object(original).or_else(|| BuiltinSchema::for_object(patch)) {
        Some(schema) => apply(original, patch, &schema),
        None => apply(original, patch, &NoSchema),
    }
}

/// A configured strategic merge.
#[derive(Clone, Copy)]
pub struct StrategicMerge<'s> {
    schema: &'s dyn PatchSchema,
    allow_merge_directive: bool,
}

impl std::fmt::Debug for StrategicMerge<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategicMerge")
            .field("allow_merge_directive", &self.allow_merge_directive)
            .finish_non_exhaustive()
    }
}

impl<'s> StrategicMerge<'s> {
    /// A merge with `schema`'s metadata and apimachinery's rules.
    pub fn new(schema: &'s dyn PatchSchema) -> Self {
        StrategicMerge {
            schema,
            allow_merge_directive: false,
        }
    }

    /// Whether `$patch: merge` is accepted (as kustomize does) and means "merge as usual";
    /// apimachinery rejects it, which is the default.
    pub fn allow_merge_directive(self, allow: bool) -> Self {
        StrategicMerge {
            allow_merge_directive: allow,
            ..self
        }
    }

    /// Applies `patch` to `original` and returns the result; the inputs are not changed.
    ///
    /// A `null` original is an empty map, and a `null` patch changes nothing.
    ///
    /// # Errors
    ///
    /// As [`apply`].
    pub fn apply(&self, original: &Value, patch: &Value) -> Result<Value, Error> {
        let mut walk = Walk {
            merge: self,
            path: Vec::new(),
            shown: Vec::new(),
        };
        let original = match original {
            Value::Object(map) => map.clone(),
            Value::Null => Map::new(),
            other => {
                return Err(walk.fail(format!(
                    "the original must be a map, found a {}",
                    type_name(other)
                )));
            }
        };
        match patch {
            Value::Object(patch) => walk.merge_map(original, patch).map(Value::Object),
            Value::Null => Ok(Value::Object(original)),
            other => Err(walk.fail(format!(
                "the patch must be a map, found a {}",
                type_name(other)
            ))),
        }
    }
}

/// The kind of the elements of a list being merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ElementKind {
    Map,
    Primitive(&'static str),
}

/// One merge in progress: the options and where in the object it is.
struct Walk<'m, 's> {
    merge: &'m StrategicMerge<'s>,
    /// The schema path of the current field.
    path: Vec<PathElement>,
    /// The same path for messages, with list elements named by their merge key.
    shown: Vec<String>,
}

impl Walk<'_, '_> {
    fn fail(&self, reason: impl Into<String>) -> Error {
        let path = if self.shown.is_empty() {
            display_path(&[])
        } else {
            self.shown.concat()
        };
        Error::ApplyStrategicMerge {
            path,
            reason: reason.into(),
        }
    }

    fn enter_field(&mut self, name: &str) {
        self.path.push(PathElement::field(name));
        let dot = if self.shown.is_empty() { "" } else { "." };
        self.shown.push(format!("{dot}{name}"));
    }

    fn enter_item(&mut self, key: &str, value: &Value) {
        self.path.push(PathElement::Item);
        self.shown.push(format!("[{key}={value}]"));
    }

    fn leave(&mut self) {
        self.path.pop();
        self.shown.pop();
    }

    fn schema(&self) -> FieldSchema {
        self.merge.schema.field(&self.path)
    }

    /// `$setElementOrder/<field>` → `<field>`.
    fn directive_field<'k>(&self, key: &'k str, prefix: &str) -> Result<&'k str, Error> {
        key.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|field| !field.is_empty())
            .ok_or_else(|| {
                self.fail(format!(
                    "invalid directive {key:?}: expected \"{prefix}/<field>\""
                ))
            })
    }

    fn merge_map(
        &mut self,
        mut original: Map<String, Value>,
        patch: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Error> {
        let mut patch = Cow::Borrowed(patch);
        if let Some(directive) = patch.get(PATCH_DIRECTIVE) {
            match directive.as_str() {
                Some("replace") => {
                    let mut replacement = patch.into_owned();
                    replacement.remove(PATCH_DIRECTIVE);
                    return Ok(clean_map(&replacement));
                }
                Some("delete") => return Ok(Map::new()),
                Some("merge") if self.merge.allow_merge_directive => {
                    patch.to_mut().remove(PATCH_DIRECTIVE);
                }
                _ => {
                    return Err(self.fail(format!(
                        "unknown patch type {directive} in a map (expected \"replace\" or \"delete\")"
                    )));
                }
            }
        }
        let patch: &Map<String, Value> = &patch;

        if let Some(retained) = patch.get(RETAIN_KEYS_DIRECTIVE) {
            let Value::Array(retained) = retained else {
                return Err(self.fail(format!(
                    "invalid {RETAIN_KEYS_DIRECTIVE}: expected a list of field names"
                )));
            };
            let kept = |key: &str| retained.iter().any(|name| name.as_str() == Some(key));
            if let Some((key, _)) = patch
                .iter()
                .find(|(key, value)| !value.is_null() && !is_directive_key(key) && !kept(key))
            {
                return Err(self.fail(format!(
                    "invalid {RETAIN_KEYS_DIRECTIVE}: the patch sets {key:?}, which it does not list"
                )));
            }
            original.retain(|key, _| kept(key));
        }

        let mut ordered = BTreeSet::new();
        for (key, order) in patch
            .iter()
            .filter(|(key, _)| key.starts_with(SET_ELEMENT_ORDER_PREFIX))
        {
            let field = self.directive_field(key, SET_ELEMENT_ORDER_PREFIX)?;
            self.order_list(&mut original, patch, field, order)?;
            ordered.insert(field);
        }

        for (key, value) in patch {
            if !is_directive_key(key) && !ordered.contains(key.as_str()) {
                self.merge_field(&mut original, key, value)?;
            }
        }

        for (key, doomed) in patch
            .iter()
            .filter(|(key, _)| key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX))
        {
            let field = self.directive_field(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX)?;
            self.delete_from_primitive_list(&mut original, field, doomed)?;
        }
        Ok(original)
    }

    fn merge_field(
        &mut self,
        original: &mut Map<String, Value>,
        key: &str,
        patch: &Value,
    ) -> Result<(), Error> {
        if patch.is_null() {
            original.remove(key);
            return Ok(());
        }
        self.enter_field(key);
        let merged = match (original.remove(key), patch) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                if self.schema().strategy == PatchStrategy::Replace {
                    clean(patch)
                } else {
                    Some(Value::Object(self.merge_map(old, new)?))
                }
            }
            (Some(Value::Array(old)), Value::Array(new)) => {
                let field = self.schema();
                if field.strategy == PatchStrategy::Merge {
                    Some(Value::Array(self.merge_list(old, new, &field)?))
                } else {
                    clean(patch)
                }
            }
            // Absent, null, a different type, or a primitive: the patch value wins.
            _ => clean(patch),
        };
        self.leave();
        if let Some(value) = merged {
            original.insert(key.to_owned(), value);
        }
        Ok(())
    }

    fn element_kind(&self, original: &[Value], patch: &[Value]) -> Result<ElementKind, Error> {
        let mut kind = None;
        for element in original.iter().chain(patch) {
            let this = match element {
                Value::Object(_) => ElementKind::Map,
                Value::Array(_) => return Err(self.fail("lists of lists are not supported")),
                Value::Null => return Err(self.fail("a merged list cannot hold null elements")),
                other => ElementKind::Primitive(type_name(other)),
            };
            match kind {
                None => kind = Some(this),
                Some(seen) if seen != this => {
                    return Err(self.fail(format!(
                        "list elements are not all of one type: found a {} and a {}",
                        kind_name(seen),
                        kind_name(this)
                    )));
                }
                Some(_) => {}
            }
        }
        Ok(kind.unwrap_or(ElementKind::Primitive("string")))
    }

    /// Merges two lists of a field with the `merge` strategy.
    fn merge_list(
        &mut self,
        original: Vec<Value>,
        patch: &[Value],
        field: &FieldSchema,
    ) -> Result<Vec<Value>, Error> {
        if original.is_empty() && patch.is_empty() {
            return Ok(original);
        }
        match self.element_kind(&original, patch)? {
            ElementKind::Map => self.merge_map_list(original, patch, field),
            ElementKind::Primitive(_) => Ok(merge_primitive_list(&original, patch)),
        }
    }

    fn merge_map_list(
        &mut self,
        original: Vec<Value>,
        patch: &[Value],
        field: &FieldSchema,
    ) -> Result<Vec<Value>, Error> {
        let Some(key) = field.merge_key.as_deref() else {
            return Err(self.fail("cannot merge a list of maps without a merge key"));
        };
        let mut original = original;
        let mut plain: Vec<Cow<'_, Map<String, Value>>> = Vec::new();
        let mut replace = false;
        for element in patch.iter().filter_map(Value::as_object) {
            let Some(directive) = element.get(PATCH_DIRECTIVE) else {
                plain.push(Cow::Borrowed(element));
                continue;
            };
            match directive.as_str() {
                Some("delete") => {
                    let Some(doomed) = element.get(key) else {
                        return Err(self.fail(format!(
                            "an element with \"$patch: delete\" lacks the merge key {key:?}: {}",
                            Value::Object(element.clone())
                        )));
                    };
                    original.retain(|o| !o.get(key).is_some_and(|v| json_equal(v, doomed)));
                }
                Some("replace") => replace = true,
                Some("merge") if self.merge.allow_merge_directive => {
                    let mut element = element.clone();
                    element.remove(PATCH_DIRECTIVE);
                    plain.push(Cow::Owned(element));
                }
                Some("merge") => {
                    return Err(self.fail("merging lists cannot yet be specified in the patch (\"$patch: merge\" in a list element)"));
                }
                _ => {
                    return Err(self.fail(format!(
                        "unknown patch type {directive} in a list element (expected \"replace\" or \"delete\")"
                    )));
                }
            }
        }
        if replace {
            original = plain
                .iter()
                .filter_map(|element| clean_element(element))
                .collect();
            plain.clear();
        }

        // Positions in the original (after deletions), by merge key, for ordering.
        let original_keys: Vec<Option<Value>> =
            original.iter().map(|o| o.get(key).cloned()).collect();
        let mut merged = original;
        for element in &plain {
            let Some(value) = element.get(key) else {
                return Err(self.fail(format!(
                    "an element of the patch lacks the merge key {key:?}: {}",
                    Value::Object(element.as_ref().clone())
                )));
            };
            match merged
                .iter()
                .position(|o| o.get(key).is_some_and(|v| json_equal(v, value)))
            {
                Some(at) => {
                    let Value::Object(existing) = std::mem::take(&mut merged[at]) else {
                        return Err(self.fail("list elements are not all maps"));
                    };
                    self.enter_item(key, value);
                    merged[at] = Value::Object(self.merge_map(existing, element)?);
                    self.leave();
                }
                None => merged.extend(clean_element(element)),
            }
        }
        if let Some(element) = merged.iter().find(|element| element.get(key).is_none()) {
            return Err(self.fail(format!("an element lacks the merge key {key:?}: {element}")));
        }

        let patch_keys: Vec<&Value> = plain
            .iter()
            .filter_map(|element| element.get(key))
            .collect();
        let in_patch = |e: &Value| {
            e.get(key)
                .and_then(|k| patch_keys.iter().position(|p| json_equal(p, k)))
        };
        let in_original = |e: &Value| {
            e.get(key).and_then(|k| {
                original_keys
                    .iter()
                    .position(|o| o.as_ref().is_some_and(|o| json_equal(o, k)))
            })
        };
        let (mut from_patch, server_only): (Vec<Value>, Vec<Value>) =
            merged.into_iter().partition(|e| in_patch(e).is_some());
        from_patch.sort_by_key(|e| in_patch(e));
        Ok(interleave(server_only, from_patch, in_original))
    }

    /// `$setElementOrder/<field>`: merges `<field>` (if the patch has it) and orders it.
    fn order_list(
        &mut self,
        original: &mut Map<String, Value>,
        patch: &Map<String, Value>,
        field: &str,
        order: &Value,
    ) -> Result<(), Error> {
        self.enter_field(field);
        let Value::Array(order) = order else {
            return Err(self.fail(format!(
                "invalid {SET_ELEMENT_ORDER_PREFIX}/{field}: expected a list"
            )));
        };
        let schema = self.schema();
        let key = schema.merge_key.as_deref();
        let current = match original.remove(field) {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items),
            Some(other) => {
                return Err(self.fail(format!(
                    "{SET_ELEMENT_ORDER_PREFIX}/{field} orders a list, but the field is a {}",
                    type_name(&other)
                )));
            }
        };
        let patched = match patch.get(field) {
            None => None,
            Some(Value::Array(items)) => Some(items.as_slice()),
            Some(other) => {
                return Err(self.fail(format!(
                    "{SET_ELEMENT_ORDER_PREFIX}/{field} orders a list, but the patch sets the field to a {}",
                    type_name(other)
                )));
            }
        };
        if let Some(patched) = patched {
            self.check_order(patched, order, key, field)?;
        }
        let before = current.clone().unwrap_or_default();
        let merged = match (current, patched) {
            (Some(current), None) => current,
            (None, Some(patched)) => patched.iter().filter_map(clean).collect(),
            (Some(current), Some(patched)) => {
                if schema.strategy == PatchStrategy::Merge {
                    self.merge_list(current, patched, &schema)?
                } else {
                    patched.iter().filter_map(clean).collect()
                }
            }
            (None, None) => {
                self.leave();
                return Ok(());
            }
        };

        let identity = |e: &Value| -> Option<Value> {
            match key {
                Some(key) => e.get(key).cloned(),
                None => Some(e.clone()),
            }
        };
        if let (Some(key), Some(element)) = (
            key,
            merged.iter().chain(order).find(|e| identity(e).is_none()),
        ) {
            return Err(self.fail(format!("an element lacks the merge key {key:?}: {element}")));
        }
        let position_in = |list: &[Value], e: &Value| {
            let id = identity(e)?;
            list.iter()
                .position(|o| identity(o).is_some_and(|o| json_equal(&o, &id)))
        };
        let (mut listed, mut server_only): (Vec<Value>, Vec<Value>) = merged
            .into_iter()
            .partition(|e| position_in(order, e).is_some());
        listed.sort_by_key(|e| position_in(order, e));
        server_only.sort_by_key(|e| position_in(&before, e).unwrap_or(usize::MAX));
        let ordered = interleave(server_only, listed, |e| position_in(&before, e));
        original.insert(field.to_owned(), Value::Array(ordered));
        self.leave();
        Ok(())
    }

    /// Checks that the patch list's elements appear in `$setElementOrder` in the same order.
    fn check_order(
        &self,
        patched: &[Value],
        order: &[Value],
        key: Option<&str>,
        field: &str,
    ) -> Result<(), Error> {
        let mut wanted = Vec::new();
        for element in patched {
            match (key, element) {
                (_, Value::Object(map)) if map.contains_key(PATCH_DIRECTIVE) => {}
                (Some(key), Value::Object(map)) => match map.get(key) {
                    Some(value) => wanted.push(value),
                    None => {
                        return Err(self.fail(format!(
                            "an element of the patch lacks the merge key {key:?}: {element}"
                        )));
                    }
                },
                (Some(_), other) => {
                    return Err(self.fail(format!(
                        "expected list elements to be maps, found a {}",
                        type_name(other)
                    )));
                }
                (None, other) => wanted.push(other),
            }
        }
        let mut next = 0;
        for listed in order {
            let Some(expected) = wanted.get(next) else {
                break;
            };
            let listed = match key {
                Some(key) => listed.get(key).ok_or_else(|| {
                    self.fail(format!(
                        "an element of {SET_ELEMENT_ORDER_PREFIX}/{field} lacks the merge key {key:?}: {listed}"
                    ))
                })?,
                None => listed,
            };
            if json_equal(expected, listed) {
                next += 1;
            }
        }
        if next < wanted.len() {
            return Err(self.fail(format!(
                "the order of the patch list does not match {SET_ELEMENT_ORDER_PREFIX}/{field}"
            )));
        }
        Ok(())
    }

    fn delete_from_primitive_list(
        &mut self,
        original: &mut Map<String, Value>,
        field: &str,
        doomed: &Value,
    ) -> Result<(), Error> {
        self.enter_field(field);
        let directive = format!("{DELETE_FROM_PRIMITIVE_LIST_PREFIX}/{field}");
        let Value::Array(doomed) = doomed else {
            return Err(self.fail(format!("invalid {directive}: expected a list")));
        };
        if doomed.iter().any(|v| v.is_object() || v.is_array()) {
            return Err(self.fail(format!(
                "invalid {directive}: it may only hold primitive values"
            )));
        }
        // An absent field has nothing to delete: the directive never creates it.
        if let Some(Value::Array(items)) = original.get_mut(field) {
            if items.iter().any(|v| v.is_object() || v.is_array()) {
                return Err(self.fail(format!("{directive} applies to lists of primitives")));
            }
            items.retain(|item| !doomed.iter().any(|d| json_equal(item, d)));
        }
        self.leave();
        Ok(())
    }
}

fn kind_name(kind: ElementKind) -> &'static str {
    match kind {
        ElementKind::Map => "map",
        ElementKind::Primitive(name) => name,
    }
}

fn is_directive_key(key: &str) -> bool {
    key == PATCH_DIRECTIVE
        || key == RETAIN_KEYS_DIRECTIVE
        || key.starts_with(SET_ELEMENT_ORDER_PREFIX)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
}

/// The union of two primitive lists, without duplicates, in upstream's order.
fn merge_primitive_list(original: &[Value], patch: &[Value]) -> Vec<Value> {
    let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
    for value in original.iter().chain(patch) {
        if !merged.iter().any(|m| json_equal(m, value)) {
            merged.push(value.clone());
        }
    }
    let in_patch = |v: &Value| patch.iter().position(|p| json_equal(p, v));
    let (mut from_patch, server_only): (Vec<Value>, Vec<Value>) =
        merged.into_iter().partition(|v| in_patch(v).is_some());
    from_patch.sort_by_key(|v| in_patch(v));
    interleave(server_only, from_patch, |v| {
        original.iter().position(|o| json_equal(o, v))
    })
}

/// Interleaves the original's untouched elements (in their order) with the patch's (in
/// theirs): an untouched element goes first only when both it and the next patch element
/// were in the original and it came earlier there.
fn interleave(
    server_only: Vec<Value>,
    from_patch: Vec<Value>,
    position: impl Fn(&Value) -> Option<usize>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(server_only.len() + from_patch.len());
    let mut server = server_only.into_iter().peekable();
    let mut patched = from_patch.into_iter().peekable();
    loop {
        let take_server = match (server.peek(), patched.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(s), Some(p)) => matches!((position(s), position(p)), (Some(i), Some(j)) if i < j),
        };
        let next = if take_server {
            server.next()
        } else {
            patched.next()
        };
        out.extend(next);
    }
    out
}

/// A value taken from the patch as it is, minus what only means something to a merge:
/// `null` members, directive keys, and maps carrying `$patch` (`None` for those).
fn clean(value: &Value) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key(PATCH_DIRECTIVE) => None,
        Value::Object(map) => Some(Value::Object(clean_map(map))),
        Value::Array(items) => Some(Value::Array(items.iter().filter_map(clean).collect())),
        other => Some(other.clone()),
    }
}

fn clean_element(element: &Map<String, Value>) -> Option<Value> {
    Some(Value::Object(clean_map(element)))
}

fn clean_map(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(key, value)| !value.is_null() && !is_directive_key(key))
        .filter_map(|(key, value)| clean(value).map(|value| (key.clone(), value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    /// A schema for the generic cases, keyed by displayed path (`mergingList[].nested`),
    /// in the spirit of upstream's `mergeItem` test type.
    struct TestSchema;

    impl PatchSchema for TestSchema {
        fn field(&self, path: &[PathElement]) -> FieldSchema {
            let (strategy, merge_key, retain_keys) = match display_path(path).as_str() {
                "mergingList" | "mergingList[].mergingList" => {
                    (PatchStrategy::Merge, Some("name"), false)
                }
                "mergingIntList" | "mergingList[].mergingIntList" => {
                    (PatchStrategy::Merge, None, false)
                }
                "retainKeysMergingList" => (PatchStrategy::Merge, Some("name"), true),
                "replacingMap" => (PatchStrategy::Replace, None, false),
                "keylessMergingList" => (PatchStrategy::Merge, None, false),
                _ => (PatchStrategy::Default, None, false),
            };
            FieldSchema {
                strategy,
                merge_key: merge_key.map(Cow::Borrowed),
                retain_keys,
                list_type: None,
            }
        }
    }

    fn merge(original: Value, patch: Value) -> Result<Value, Error> {
        apply(&original, &patch, &TestSchema)
    }

    /// (claim, original, patch, expected)
    fn check(cases: Vec<(&str, Value, Value, Value)>) {
        for (claim, original, patch, expected) in cases {
            match merge(original, patch) {
                Ok(result) => assert_eq!(result, expected, "{claim}"),
                Err(error) => panic!("{claim}: {error}"),
            }
        }
    }

    /// (claim, original, patch, text the error must contain)
    fn check_errors(cases: Vec<(&str, Value, Value, &str)>) {
        for (claim, original, patch, text) in cases {
            match merge(original, patch) {
                Ok(result) => panic!("{claim}: expected an error, got {result}"),
                Err(error) => assert!(error.to_string().contains(text), "{claim}: {error}"),
            }
        }
    }

    #[test]
    fn maps_merge_recursively_and_null_deletes() {
        check(vec![
            (
                "a new key is added",
                json!({"a": 1}),
                json!({"b": 2}),
                json!({"a": 1, "b": 2}),
            ),
            (
                "a primitive is replaced",
                json!({"a": 1}),
                json!({"a": "x"}),
                json!({"a": "x"}),
            ),
            (
                "nested maps merge",
                json!({"m": {"a": 1, "b": 2}}),
                json!({"m": {"b": 3, "c": 4}}),
                json!({"m": {"a": 1, "b": 3, "c": 4}}),
            ),
            (
                "null deletes a key",
                json!({"a": 1, "b": 2}),
                json!({"a": null}),
                json!({"b": 2}),
            ),
            (
                "null on a missing key is ignored",
                json!({"a": 1}),
                json!({"z": null}),
                json!({"a": 1}),
            ),
            (
                "a type change replaces",
                json!({"a": {"b": 1}}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                "an empty patch changes nothing",
                json!({"a": {"b": [1]}}),
                json!({}),
                json!({"a": {"b": [1]}}),
            ),
            (
                "a replace-strategy map is replaced",
                json!({"replacingMap": {"a": 1}}),
                json!({"replacingMap": {"b": 2}}),
                json!({"replacingMap": {"b": 2}}),
            ),
        ]);
    }

    #[test]
    fn lists_without_the_merge_strategy_are_replaced() {
        check(vec![
            (
                "a list of primitives",
                json!({"l": [1, 2]}),
                json!({"l": [3]}),
                json!({"l": [3]}),
            ),
            (
                "a list of maps",
                json!({"l": [{"name": "a", "x": 1}]}),
                json!({"l": [{"name": "a"}]}),
                json!({"l": [{"name": "a"}]}),
            ),
        ]);
    }

    #[test]
    fn lists_of_maps_merge_by_their_merge_key() {
        check(vec![
            (
                "a matching element is merged, others are kept",
                json!({"mergingList": [{"name": "a", "v": 1, "w": 1}, {"name": "b", "v": 2}]}),
                json!({"mergingList": [{"name": "a", "v": 9}]}),
                json!({"mergingList": [{"name": "a", "v": 9, "w": 1}, {"name": "b", "v": 2}]}),
            ),
            (
                "a patch of only new elements puts them first, as upstream",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}]}),
                json!({"mergingList": [{"name": "c"}]}),
                json!({"mergingList": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}),
            ),
            (
                "a new element follows the patched element it comes after",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}),
                json!({"mergingList": [{"name": "b", "v": 1}, {"name": "d"}]}),
                json!({"mergingList": [{"name": "a"}, {"name": "b", "v": 1}, {"name": "d"}, {"name": "c"}]}),
            ),
            (
                "patched elements take the patch's order",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}]}),
                json!({"mergingList": [{"name": "b", "v": 2}, {"name": "a", "v": 1}]}),
                json!({"mergingList": [{"name": "b", "v": 2}, {"name": "a", "v": 1}]}),
            ),
            (
                "a null member of an element deletes that member",
                json!({"mergingList": [{"name": "a", "v": 1, "w": 2}]}),
                json!({"mergingList": [{"name": "a", "v": null}]}),
                json!({"mergingList": [{"name": "a", "w": 2}]}),
            ),
            (
                "nulls in a new element are dropped",
                json!({"mergingList": []}),
                json!({"mergingList": [{"name": "a", "v": null, "m": {"x": null}}]}),
                json!({"mergingList": [{"name": "a", "m": {}}]}),
            ),
            (
                "merge lists nest",
                json!({"mergingList": [{"name": "a", "mergingList": [{"name": "x", "v": 1}]}]}),
                json!({"mergingList": [{"name": "a", "mergingList": [{"name": "y"}]}]}),
                json!({"mergingList": [{"name": "a", "mergingList": [{"name": "y"}, {"name": "x", "v": 1}]}]}),
            ),
            (
                "merge keys compare numbers by value",
                json!({"mergingList": [{"name": 1, "v": 1}]}),
                json!({"mergingList": [{"name": 1.0, "v": 2}]}),
                json!({"mergingList": [{"name": 1.0, "v": 2}]}),
            ),
            (
                "a merge list absent from the original is taken from the patch",
                json!({}),
                json!({"mergingList": [{"name": "a"}]}),
                json!({"mergingList": [{"name": "a"}]}),
            ),
        ]);
    }

    #[test]
    fn patch_delete_in_a_list_element_removes_every_match() {
        check(vec![
            (
                "the element with that key goes",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}, {"name": "a", "dup": true}]}),
                json!({"mergingList": [{"name": "a", "$patch": "delete"}]}),
                json!({"mergingList": [{"name": "b"}]}),
            ),
            (
                "deleting an absent element changes nothing",
                json!({"mergingList": [{"name": "b"}]}),
                json!({"mergingList": [{"name": "z", "$patch": "delete"}]}),
                json!({"mergingList": [{"name": "b"}]}),
            ),
            (
                "delete and add in one patch",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}]}),
                json!({"mergingList": [{"name": "a", "$patch": "delete"}, {"name": "c"}]}),
                json!({"mergingList": [{"name": "c"}, {"name": "b"}]}),
            ),
            (
                "a delete element in a new list is dropped",
                json!({}),
                json!({"mergingList": [{"name": "a", "$patch": "delete"}, {"name": "b"}]}),
                json!({"mergingList": [{"name": "b"}]}),
            ),
        ]);
    }

    #[test]
    fn patch_replace_directives_replace_lists_and_maps() {
        check(vec![
            (
                "in a list element, the list becomes the patch's other elements",
                json!({"mergingList": [{"name": "a", "v": 1}, {"name": "b"}]}),
                json!({"mergingList": [{"$patch": "replace"}, {"name": "c", "w": null}, {"name": "a"}]}),
                json!({"mergingList": [{"name": "c"}, {"name": "a"}]}),
            ),
            (
                "in a map, the map becomes the patch",
                json!({"m": {"a": 1, "b": {"c": 2}}}),
                json!({"m": {"$patch": "replace", "b": {"d": 3}}}),
                json!({"m": {"b": {"d": 3}}}),
            ),
            (
                "at the root, the object becomes the patch",
                json!({"a": 1}),
                json!({"$patch": "replace", "b": 2}),
                json!({"b": 2}),
            ),
            (
                "delete in a map empties it",
                json!({"m": {"a": 1}, "n": 1}),
                json!({"m": {"$patch": "delete"}}),
                json!({"m": {}, "n": 1}),
            ),
            (
                "a map with a directive for a new field is left out, as upstream",
                json!({"n": 1}),
                json!({"m": {"$patch": "replace", "a": 1}}),
                json!({"n": 1}),
            ),
        ]);
    }

    #[test]
    fn merge_directives_are_rejected_by_default_and_accepted_when_allowed() {
        let original = json!({"m": {"a": 1}, "mergingList": [{"name": "a", "v": 1}]});
        let patch = json!({"m": {"$patch": "merge", "b": 2}, "mergingList": [{"name": "a", "$patch": "merge", "w": 2}]});
        let error = merge(original.clone(), json!({"m": {"$patch": "merge"}})).unwrap_err();
        assert!(
            error.to_string().contains("unknown patch type \"merge\""),
            "{error}"
        );
        let error = merge(
            original.clone(),
            json!({"mergingList": [{"name": "a", "$patch": "merge"}]}),
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("merging lists cannot yet be specified"),
            "{error}"
        );
        let merged = StrategicMerge::new(&TestSchema)
            .allow_merge_directive(true)
            .apply(&original, &patch)
            .unwrap();
        assert_eq!(
            merged,
            json!({"m": {"a": 1, "b": 2}, "mergingList": [{"name": "a", "v": 1, "w": 2}]})
        );
    }

    #[test]
    fn invalid_directives_and_lists_are_errors_naming_the_path() {
        check_errors(vec![
            (
                "a merge key absent from a patch element",
                json!({"mergingList": [{"name": "a"}]}),
                json!({"mergingList": [{"v": 1}]}),
                "at mergingList: an element of the patch lacks the merge key \"name\"",
            ),
            (
                "a merge key absent from an original element",
                json!({"mergingList": [{"v": 0}]}),
                json!({"mergingList": [{"name": "a"}]}),
                "an element lacks the merge key \"name\"",
            ),
            (
                "a delete element without its merge key",
                json!({"mergingList": [{"name": "a"}]}),
                json!({"mergingList": [{"$patch": "delete"}]}),
                "\"$patch: delete\" lacks the merge key",
            ),
            (
                "a replace list whose elements lack the key",
                json!({"mergingList": []}),
                json!({"mergingList": [{"$patch": "replace"}, {"v": 1}]}),
                "lacks the merge key",
            ),
            (
                "an unknown directive in a map",
                json!({"m": {}}),
                json!({"m": {"$patch": "explode"}}),
                "at m: unknown patch type \"explode\"",
            ),
            (
                "an unknown directive in a list element",
                json!({"mergingList": []}),
                json!({"mergingList": [{"name": "a", "$patch": 1}]}),
                "unknown patch type 1 in a list element",
            ),
            (
                "a null element in a merge list",
                json!({"mergingList": [{"name": "a"}]}),
                json!({"mergingList": [null]}),
                "cannot hold null elements",
            ),
            (
                "a list of lists",
                json!({"mergingIntList": [[1]]}),
                json!({"mergingIntList": [[2]]}),
                "lists of lists are not supported",
            ),
            (
                "mixed element types",
                json!({"mergingIntList": [1]}),
                json!({"mergingIntList": ["a"]}),
                "found a number and a string",
            ),
            (
                "a list of maps without a merge key",
                json!({"keylessMergingList": [{"a": 1}]}),
                json!({"keylessMergingList": [{"a": 2}]}),
                "without a merge key",
            ),
            (
                "the error names the element",
                json!({"mergingList": [{"name": "a", "mergingList": [{"name": "x"}]}]}),
                json!({"mergingList": [{"name": "a", "mergingList": [{"v": 1}]}]}),
                "at mergingList[name=\"a\"].mergingList:",
            ),
            (
                "a malformed setElementOrder key",
                json!({}),
                json!({"$setElementOrder": []}),
                "invalid directive \"$setElementOrder\"",
            ),
            (
                "a setElementOrder that is not a list",
                json!({}),
                json!({"$setElementOrder/mergingList": {}}),
                "expected a list",
            ),
            (
                "a deleteFromPrimitiveList that is not a list",
                json!({}),
                json!({"$deleteFromPrimitiveList/mergingIntList": 1}),
                "expected a list",
            ),
            (
                "a retainKeys that is not a list",
                json!({}),
                json!({"$retainKeys": "a"}),
                "expected a list of field names",
            ),
            (
                "the original is not a map",
                json!([1]),
                json!({}),
                "the original must be a map",
            ),
        ]);
        check_errors(vec![(
            "the patch is not a map",
            json!({}),
            json!([1]),
            "at the object root: the patch must be a map",
        )]);
    }

    #[test]
    fn primitive_merge_lists_are_an_ordered_union() {
        check(vec![
            (
                "new values come first when nothing else is patched",
                json!({"mergingIntList": [1, 2]}),
                json!({"mergingIntList": [3]}),
                json!({"mergingIntList": [3, 1, 2]}),
            ),
            (
                "values already there are not duplicated",
                json!({"mergingIntList": [1, 2]}),
                json!({"mergingIntList": [2, 3]}),
                json!({"mergingIntList": [1, 2, 3]}),
            ),
            (
                "duplicates in the original collapse",
                json!({"mergingIntList": [1, 1, 2]}),
                json!({"mergingIntList": [2]}),
                json!({"mergingIntList": [1, 2]}),
            ),
            (
                "a new list is taken from the patch",
                json!({}),
                json!({"mergingIntList": ["a"]}),
                json!({"mergingIntList": ["a"]}),
            ),
        ]);
    }

    #[test]
    fn delete_from_primitive_list_removes_values() {
        check(vec![
            (
                "listed values go",
                json!({"mergingIntList": [1, 2, 3, 2]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [2]}),
                json!({"mergingIntList": [1, 3]}),
            ),
            (
                "an absent value changes nothing",
                json!({"mergingIntList": [1]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"mergingIntList": [1]}),
            ),
            (
                "an absent list is not created",
                json!({"foo": ["bar"]}),
                json!({"$deleteFromPrimitiveList/mergingIntList": [3]}),
                json!({"foo": ["bar"]}),
            ),
            (
                "it works on lists without the merge strategy too",
                json!({"l": [1, 2, 3]}),
                json!({"$deleteFromPrimitiveList/l": [2]}),
                json!({"l": [1, 3]}),
            ),
            (
                "it applies after the field's own patch",
                json!({"mergingIntList": [1, 2]}),
                json!({"mergingIntList": [3], "$deleteFromPrimitiveList/mergingIntList": [1]}),
                json!({"mergingIntList": [3, 2]}),
            ),
        ]);
        check_errors(vec![(
            "it refuses lists of maps",
            json!({"mergingList": [{"name": "a"}]}),
            json!({"$deleteFromPrimitiveList/mergingList": ["a"]}),
            "applies to lists of primitives",
        )]);
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        check(vec![
            (
                "it reorders without other changes",
                json!({"mergingList": [{"name": "a", "v": 1}, {"name": "b"}, {"name": "c"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}),
                json!({"mergingList": [{"name": "c"}, {"name": "a", "v": 1}, {"name": "b"}]}),
            ),
            (
                "it places an added element",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "a"}, {"name": "c"}, {"name": "b"}], "mergingList": [{"name": "c"}]}),
                json!({"mergingList": [{"name": "a"}, {"name": "c"}, {"name": "b"}]}),
            ),
            (
                "server-only elements keep their place among the original elements",
                json!({"mergingList": [{"name": "1", "other": "a"}, {"name": "2"}, {"name": "7"}, {"name": "9"}, {"name": "8"}, {"name": "3"}, {"name": "4"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "2"}, {"name": "1"}, {"name": "4"}, {"name": "3"}]}),
                json!({"mergingList": [{"name": "2"}, {"name": "1", "other": "a"}, {"name": "7"}, {"name": "9"}, {"name": "8"}, {"name": "4"}, {"name": "3"}]}),
            ),
            (
                "listed elements missing from the list are ignored",
                json!({"mergingList": [{"name": "1"}, {"name": "3"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "3"}, {"name": "2"}, {"name": "1"}],
                       "mergingList": [{"name": "3", "value": 3}, {"name": "1", "value": 1}]}),
                json!({"mergingList": [{"name": "3", "value": 3}, {"name": "1", "value": 1}]}),
            ),
            (
                "it orders primitive lists, keeping duplicates",
                json!({"mergingIntList": [1, 2, 3, 2, 4]}),
                json!({"$setElementOrder/mergingIntList": [2, 1, 4, 3, 2]}),
                json!({"mergingIntList": [2, 2, 1, 4, 3]}),
            ),
            (
                "with deletions from a primitive list",
                json!({"mergingIntList": [1, 2, 3]}),
                json!({"$setElementOrder/mergingIntList": [3, 1, 4], "mergingIntList": [4], "$deleteFromPrimitiveList/mergingIntList": [2]}),
                json!({"mergingIntList": [3, 1, 4]}),
            ),
            (
                "a delete element does not count against the order",
                json!({"mergingList": [{"name": "a"}, {"name": "b"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "b"}], "mergingList": [{"name": "a", "$patch": "delete"}, {"name": "b", "v": 1}]}),
                json!({"mergingList": [{"name": "b", "v": 1}]}),
            ),
            (
                "an order for an absent list in both changes nothing",
                json!({"x": 1}),
                json!({"$setElementOrder/mergingList": [{"name": "a"}]}),
                json!({"x": 1}),
            ),
        ]);
        check_errors(vec![
            (
                "the patch list must follow the order",
                json!({"mergingList": [{"name": "1"}, {"name": "3"}, {"name": "2"}]}),
                json!({"$setElementOrder/mergingList": [{"name": "1"}, {"name": "2"}, {"name": "3"}],
                   "mergingList": [{"name": "3", "value": 3}, {"name": "1", "value": 1}]}),
                "does not match $setElementOrder/mergingList",
            ),
            (
                "the primitive patch list must follow the order",
                json!({"mergingIntList": [1, 3, 2]}),
                json!({"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]}),
                "does not match",
            ),
        ]);
    }

    #[test]
    fn retain_keys_drops_unlisted_keys() {
        check(vec![
            (
                "unlisted keys of the original go",
                json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}),
                json!({"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}),
                json!({"strategy": {"type": "Recreate"}}),
            ),
            (
                "listed keys are merged",
                json!({"m": {"a": {"x": 1}, "b": 1}}),
                json!({"m": {"$retainKeys": ["a"], "a": {"y": 2}}}),
                json!({"m": {"a": {"x": 1, "y": 2}}}),
            ),
            (
                "in list elements",
                json!({"retainKeysMergingList": [{"name": "v", "emptyDir": {}, "old": 1}]}),
                json!({"retainKeysMergingList": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]}),
                json!({"retainKeysMergingList": [{"name": "v", "hostPath": {"path": "/x"}}]}),
            ),
            (
                "null members need not be listed",
                json!({"m": {"a": 1, "b": 2}}),
                json!({"m": {"$retainKeys": ["a"], "b": null}}),
                json!({"m": {"a": 1}}),
            ),
        ]);
        check_errors(vec![(
            "patched keys must be listed",
            json!({"m": {"a": 1}}),
            json!({"m": {"$retainKeys": ["a"], "b": 2}}),
            "at m: invalid $retainKeys: the patch sets \"b\", which it does not list",
        )]);
    }

    #[test]
    fn values_taken_from_the_patch_carry_no_directives() {
        check(vec![(
            "a new field's nested directives and nulls are dropped",
            json!({}),
            json!({"m": {"a": null, "b": {"$patch": "delete"}, "$retainKeys": ["c"], "$setElementOrder/l": [1], "c": [{"$patch": "replace"}, 1]}}),
            json!({"m": {"c": [1]}}),
        )]);
    }

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": spec}}})
    }

    #[test]
    fn builtin_kinds_merge_their_pod_templates() {
        let original = deployment(json!({
            "containers": [{"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}], "ports": [{"containerPort": 80}]}],
            "tolerations": [{"key": "a"}],
            "volumes": [{"name": "data", "emptyDir": {}}],
        }));
        let patch = deployment(json!({
            "containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}], "ports": [{"containerPort": 80, "name": "http"}]}],
            "tolerations": [{"key": "b"}],
            "volumes": [{"name": "cache", "emptyDir": {}}],
        }));
        let merged = apply_builtin(&original, &patch).unwrap();
        assert_eq!(
            merged["spec"]["template"]["spec"],
            json!({
                "containers": [{"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
                                "ports": [{"containerPort": 80, "name": "http"}]}],
                "tolerations": [{"key": "b"}],
                "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "data", "emptyDir": {}}],
            })
        );
    }

    #[test]
    fn builtin_metadata_merges_finalizers_and_owner_references() {
        let original = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "finalizers": ["a"], "ownerReferences": [{"uid": "1", "name": "x"}]}});
        let patch = json!({"metadata": {"finalizers": ["b"], "ownerReferences": [{"uid": "2", "name": "y"}]}});
        let merged = apply_builtin(&original, &patch).unwrap();
        assert_eq!(merged["metadata"]["finalizers"], json!(["b", "a"]));
        assert_eq!(
            merged["metadata"]["ownerReferences"],
            json!([{"uid": "2", "name": "y"}, {"uid": "1", "name": "x"}])
        );
    }

    #[test]
    fn unknown_kinds_replace_their_lists() {
        let original = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"containers": [{"name": "a"}]}, "metadata": {"finalizers": ["a"]}});
        let patch =
            json!({"spec": {"containers": [{"name": "b"}]}, "metadata": {"finalizers": ["b"]}});
        let merged = apply_builtin(&original, &patch).unwrap();
        assert_eq!(merged["spec"]["containers"], json!([{"name": "b"}]));
        assert_eq!(merged["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn pod_disruption_budget_selectors_are_replaced_not_merged() {
        let original = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "spec": {"selector": {"matchLabels": {"a": "1"}}}});
        let patch = json!({"spec": {"selector": {"matchLabels": {"b": "2"}}}});
        let merged = apply_builtin(&original, &patch).unwrap();
        assert_eq!(
            merged["spec"]["selector"],
            json!({"matchLabels": {"b": "2"}})
        );
    }

    #[test]
    fn service_ports_merge_by_port_and_conditions_by_type() {
        let original = json!({"apiVersion": "v1", "kind": "Service",
            "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]},
            "status": {"conditions": [{"type": "A", "status": "True"}]}});
        let patch = json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]},
            "status": {"conditions": [{"type": "A", "status": "False"}, {"type": "B", "status": "True"}]}});
        let merged = apply_builtin(&original, &patch).unwrap();
        assert_eq!(
            merged["spec"]["ports"],
            json!([{"port": 80, "targetPort": 9090}, {"port": 443}])
        );
        assert_eq!(
            merged["status"]["conditions"],
            json!([{"type": "A", "status": "False"}, {"type": "B", "status": "True"}])
        );
    }

    #[test]
    fn a_null_patch_changes_nothing_and_a_null_original_is_empty() {
        assert_eq!(
            merge(json!({"a": 1}), Value::Null).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            merge(Value::Null, json!({"a": 1})).unwrap(),
            json!({"a": 1})
        );
    }
}
