//! Strategic merge patches as kustomize applies them.
//!
//! kustomize does not use apimachinery's strategic merge; it walks the target and the patch
//! together with its own merger (kyaml's `merge2`), and the two disagree on details users
//! see, so this module follows kustomize:
//!
//! - Maps merge key by key; `null` in the patch deletes; `$patch: delete` deletes the map,
//!   `$patch: replace` replaces it, `$patch: merge` is the default.
//! - A list merges by key only when the schema gives it the `merge` strategy; its keys are
//!   the `x-kubernetes-list-map-keys` when declared, else the merge key; without keys its
//!   primitives are united. Other lists are replaced.
//! - Merged lists hold the patch's elements first, in the patch's order, then the target's
//!   other elements in theirs. An element `{$patch: delete, <key>: ...}` removes that
//!   element; a lone `{$patch: replace}` element replaces the whole list (`delete` removes
//!   it). An element carrying `$patch: replace` beside other fields leaves the target's
//!   element as it was (kustomize's merger loses it).
//! - `$retainKeys`, `$setElementOrder/...` and `$deleteFromPrimitiveList/...` are not
//!   directives for kustomize: they are copied like any other field.
//!
//! Field metadata comes from a [`PatchSchema`] (the built-in kinds' table of
//! `sluice-patch`, or an `openapi:` document).

use serde_json::{Map, Value};
use sluice_patch::{ListType, PatchSchema, PatchStrategy, PathElement};

const DIRECTIVE: &str = "$patch";

/// Applies `patch` to `target`; `None` when the patch deletes the target.
///
/// # Errors
///
/// A message naming the field path when the patch and the target disagree on a field's
/// kind, or a directive is unknown.
pub(crate) fn merge(
    target: &Value,
    patch: &Value,
    schema: &dyn PatchSchema,
) -> Result<Option<Value>, String> {
    let mut w = Walker {
        schema,
        path: Vec::new(),
    };
    w.walk(Some(target), Some(patch))
}

struct Walker<'s> {
    schema: &'s dyn PatchSchema,
    path: Vec<PathElement>,
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

fn kind_of(v: &Value) -> u8 {
    match v {
        Value::Object(_) => 1,
        Value::Array(_) => 2,
        _ => 3,
    }
}

/// The directive of a map, with the map minus the directive.
fn map_directive(
    m: &Map<String, Value>,
) -> Result<(Option<&'static str>, Map<String, Value>), String> {
    let Some(d) = m.get(DIRECTIVE) else {
        return Ok((None, m.clone()));
    };
    let directive = match d.as_str() {
        Some("delete") => "delete",
        Some("replace") => "replace",
        Some("merge") => "merge",
        _ => return Err(format!("unknown patch strategy '{}'", text(d))),
    };
    let mut rest = m.clone();
    rest.remove(DIRECTIVE);
    Ok((Some(directive), rest))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Walker<'_> {
    fn fail(&self, reason: String) -> String {
        let mut shown = String::new();
        for e in &self.path {
            match e {
                PathElement::Field(f) => {
                    if !shown.is_empty() {
                        shown.push('.');
                    }
                    shown.push_str(f);
                }
                PathElement::Item => shown.push_str("[]"),
            }
        }
        if shown.is_empty() {
            reason
        } else {
            format!("{shown}: {reason}")
        }
    }

    fn walk(
        &mut self,
        dest: Option<&Value>,
        origin: Option<&Value>,
    ) -> Result<Option<Value>, String> {
        let origin = match origin {
            None => return Ok(dest.cloned()),
            Some(Value::Null) => return Ok(None),
            Some(o) => o,
        };
        let dest = dest.filter(|d| !d.is_null());
        if let Some(d) = dest
            && kind_of(d) != kind_of(origin)
        {
            return Err(self.fail(format!(
                "wrong node kind: expected {} but got {}",
                kind_name(d),
                kind_name(origin)
            )));
        }
        match origin {
            Value::Object(o) => self.walk_map(dest.and_then(Value::as_object), o),
            Value::Array(o) => self.walk_list(dest.and_then(Value::as_array), o),
            scalar => Ok(Some(scalar.clone())),
        }
    }

    fn walk_map(
        &mut self,
        dest: Option<&Map<String, Value>>,
        origin: &Map<String, Value>,
    ) -> Result<Option<Value>, String> {
        let (directive, origin) = map_directive(origin).map_err(|e| self.fail(e))?;
        let base = match (directive, dest) {
            (Some("delete"), _) => return Ok(None),
            // Added or replaced: the patch's map, walked against itself.
            (_, None) | (Some("replace"), _) => origin.clone(),
            (_, Some(d)) => d.clone(),
        };
        let mut keys: Vec<String> = base.keys().cloned().collect();
        for k in origin.keys() {
            if !base.contains_key(k) {
                keys.push(k.clone());
            }
        }
        let mut out = Map::new();
        for key in keys {
            self.path.push(PathElement::field(key.clone()));
            let merged = self.walk(base.get(&key), origin.get(&key));
            self.path.pop();
            if let Some(v) = merged? {
                out.insert(key, v);
            }
        }
        Ok(Some(Value::Object(out)))
    }

    fn walk_list(
        &mut self,
        dest: Option<&Vec<Value>>,
        origin: &[Value],
    ) -> Result<Option<Value>, String> {
        let field = self.schema.field(&self.path);
        if field.strategy != PatchStrategy::Merge {
            return Ok(Some(Value::Array(origin.to_vec())));
        }
        // A lone `{$patch: ...}` element is a directive for the whole list.
        let mut origin: Vec<Value> = origin.to_vec();
        let mut replace = false;
        if let Some(pos) = origin.iter().position(|e| {
            e.as_object()
                .is_some_and(|m| m.len() == 1 && m.contains_key(DIRECTIVE))
        }) {
            let d = text(&origin[pos][DIRECTIVE]);
            match d.as_str() {
                "delete" => return Ok(None),
                "replace" => replace = true,
                "merge" => {}
                _ => return Err(self.fail(format!("unknown patch strategy '{d}'"))),
            }
            origin.retain(|e| {
                !e.as_object().is_some_and(|m| {
                    m.len() == 1 && m.contains_key(DIRECTIVE) && text(&m[DIRECTIVE]) == d
                })
            });
        }
        let dest: Vec<Value> = match dest {
            Some(d) if !replace => d.clone(),
            _ => origin.clone(),
        };
        let keys: Vec<String> = match field.list_type() {
            ListType::Map(keys) if field.list_type.is_some() => {
                keys.iter().map(|k| k.name.to_string()).collect()
            }
            _ => field.merge_key.iter().map(|k| k.to_string()).collect(),
        };
        if keys.is_empty() {
            return Ok(Some(self.union_primitives(&dest, &origin)));
        }
        // Key tuples, patch first.
        let tuple = |e: &Value| -> Option<Vec<String>> {
            let m = e.as_object()?;
            Some(
                keys.iter()
                    .map(|k| {
                        m.get(k)
                            .filter(|v| !v.is_object() && !v.is_array())
                            .map(text)
                            .unwrap_or_default()
                    })
                    .collect(),
            )
        };
        let mut values: Vec<Vec<String>> = Vec::new();
        for e in origin.iter().chain(dest.iter()) {
            if let Some(t) = tuple(e)
                && !t.iter().all(String::is_empty)
                && !values.contains(&t)
            {
                values.push(t);
            }
        }
        if keys.len() > 1 {
            merge_values(&mut values);
        }
        let matches = |e: &Value, ks: &[String], vs: &[String]| -> bool {
            let Some(m) = e.as_object() else { return false };
            ks.iter().zip(vs).all(|(k, v)| {
                let got = m
                    .get(k)
                    .filter(|x| !x.is_object() && !x.is_array())
                    .map(text)
                    .unwrap_or_default();
                got == *v
            })
        };
        let mut items: Vec<(Vec<String>, Vec<String>, Value)> = Vec::new();
        let mut deleted: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        for t in &values {
            let (ks, vs) = valid_keys(&values, t, &keys);
            let d = dest.iter().find(|e| matches(e, &ks, &vs));
            let o = origin.iter().find(|e| matches(e, &ks, &vs));
            self.path.push(PathElement::Item);
            let merged = self.walk(d, o);
            self.path.pop();
            let merged = merged?;
            let empty = match &merged {
                None | Some(Value::Null) => true,
                Some(Value::Object(m)) => m.is_empty(),
                _ => false,
            };
            if empty {
                deleted.push((ks, vs));
                continue;
            }
            let mut val = merged.unwrap_or(Value::Null);
            if let Some(m) = val.as_object_mut() {
                for (k, v) in ks.iter().zip(&vs) {
                    if !m.contains_key(k) && !v.is_empty() {
                        m.insert(k.clone(), Value::String(v.clone()));
                    }
                }
            }
            // kustomize's merger replaces a target element with a `$patch: replace` patch
            // element in a copy it then discards: the target's element stays.
            let replaced =
                o.and_then(|o| o.get(DIRECTIVE)).and_then(Value::as_str) == Some("replace");
            if let (Some(d), true) = (d, replaced) {
                val = d.clone();
                // Inside a map the patch replaces, the "target" element is the patch's own,
                // whose directive kustomize has consumed by then.
                if o == Some(d)
                    && let Some(m) = val.as_object_mut()
                {
                    m.remove(DIRECTIVE);
                }
            }
            items.push((ks, vs, val));
        }
        Ok(Some(Value::Array(
            items.into_iter().map(|(_, _, v)| v).collect(),
        )))
    }

    fn union_primitives(&mut self, dest: &[Value], origin: &[Value]) -> Value {
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for e in origin.iter().chain(dest.iter()) {
            let t = text(e);
            if seen.contains(&t) {
                continue;
            }
            seen.push(t.clone());
            let from_origin = origin.iter().find(|x| text(x) == t);
            out.push(from_origin.unwrap_or(e).clone());
        }
        Value::Array(out)
    }
}

/// kyaml's `mergeValues`: key tuples that agree where both are set are completed from each
/// other.
fn merge_values(values: &mut [Vec<String>]) {
    for i in 0..values.len() {
        for j in 0..values.len() {
            if let Some(m) = match_tuples(&values[i], &values[j]) {
                values[i] = m.clone();
                values[j] = m;
            }
        }
    }
}

fn match_tuples(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::new();
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
            continue;
        }
        if !x.is_empty() && !y.is_empty() {
            return None;
        }
        out.push(if x.is_empty() { y.clone() } else { x.clone() });
    }
    common.then_some(out)
}

/// kyaml's `validateKeys`: only the keys some element sets.
fn valid_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let set: Vec<bool> = (0..keys.len())
        .map(|i| all.iter().any(|t| t.get(i).is_some_and(|v| !v.is_empty())))
        .collect();
    if !set.iter().any(|b| *b) {
        return (keys.to_vec(), values.to_vec());
    }
    let ks = keys
        .iter()
        .zip(&set)
        .filter(|(_, s)| **s)
        .map(|(k, _)| k.clone())
        .collect();
    let vs = values
        .iter()
        .zip(&set)
        .filter(|(v, s)| !v.is_empty() || **s)
        .map(|(v, _)| v.clone())
        .collect();
    (ks, vs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sluice_patch::{BuiltinSchema, NoSchema};

    use super::*;

    fn deploy(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec})
    }

    fn apply(target: &Value, patch: &Value) -> Option<Value> {
        let schema = BuiltinSchema::for_object(target).expect("built-in kind");
        merge(target, patch, &schema).expect("merges")
    }

    #[test]
    fn merged_lists_put_the_patch_elements_first() {
        let target = deploy(json!({"template": {"spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "c", "image": "c:1"}]}}}));
        let patch = deploy(json!({"template": {"spec": {"containers": [
            {"name": "b", "image": "b:1"}, {"name": "a", "image": "a:2"}]}}}));
        let out = apply(&target, &patch).expect("kept");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "b", "image": "b:1"}, {"name": "a", "image": "a:2"}, {"name": "c", "image": "c:1"}])
        );
    }

    #[test]
    fn a_replaced_map_keeps_no_directive_of_its_list_elements() {
        let target = deploy(json!({"replicas": 1, "template": {"spec": {"containers": [
            {"name": "b", "image": "b:1"}]}}}));
        let patch = deploy(
            json!({"$patch": "replace", "replicas": 4, "template": {"spec": {
            "containers": [{"$patch": "replace", "name": "a", "image": "a:1"}]}}}),
        );
        let out = apply(&target, &patch).expect("kept");
        assert_eq!(
            out["spec"],
            json!({"replicas": 4, "template": {"spec": {"containers": [{"name": "a", "image": "a:1"}]}}})
        );
    }

    #[test]
    fn directives_delete_and_replace() {
        let target = deploy(
            json!({"strategy": {"type": "Recreate"}, "other": {"k1": "v1"},
            "template": {"spec": {"volumes": [{"name": "v1"}, {"name": "v2"}],
                                  "containers": [{"name": "gone"}, {"name": "kept", "image": "k"}]}}}),
        );
        let patch = deploy(
            json!({"strategy": {"$patch": "delete"}, "other": {"$patch": "replace", "k2": "v2"},
            "template": {"spec": {"volumes": [{"$patch": "replace"}, {"name": "only"}],
                                  "containers": [{"name": "gone", "$patch": "delete"},
                                                 {"name": "kept", "$patch": "replace", "image": "x"}]}}}),
        );
        let out = apply(&target, &patch).expect("kept");
        assert!(out["spec"].get("strategy").is_none());
        assert_eq!(out["spec"]["other"], json!({"k2": "v2"}));
        assert_eq!(
            out["spec"]["template"]["spec"]["volumes"],
            json!([{"name": "only"}])
        );
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "kept", "image": "k"}])
        );
        let gone = apply(&target, &json!({"$patch": "delete"}));
        assert!(gone.is_none());
    }

    #[test]
    fn apimachinery_only_directives_are_plain_fields() {
        let target = deploy(
            json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}),
        );
        let patch = deploy(json!({"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}));
        let out = apply(&target, &patch).expect("kept");
        assert_eq!(
            out["spec"]["strategy"],
            json!({"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 1}})
        );
    }

    #[test]
    fn lists_without_merge_metadata_are_replaced_and_nulls_delete() {
        let target =
            json!({"kind": "Foo", "spec": {"items": [{"name": "a"}], "x": 1, "keep": null}});
        let patch =
            json!({"spec": {"items": [{"name": "b"}], "x": null, "new": {"y": null, "z": 1}}});
        let out = merge(&target, &patch, &NoSchema)
            .expect("merges")
            .expect("kept");
        assert_eq!(
            out,
            json!({"kind": "Foo", "spec": {"items": [{"name": "b"}], "keep": null, "new": {"z": 1}}})
        );
    }

    #[test]
    fn ports_merge_by_port_and_protocol() {
        let target = deploy(
            json!({"template": {"spec": {"containers": [{"name": "a", "ports": [
            {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}]}]}}}),
        );
        let patch = deploy(
            json!({"template": {"spec": {"containers": [{"name": "a", "ports": [
            {"containerPort": 80, "protocol": "UDP"}]}]}}}),
        );
        let out = apply(&target, &patch).expect("kept");
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"][0]["ports"],
            json!([{"containerPort": 80, "protocol": "UDP"}, {"containerPort": 80, "protocol": "TCP"}, {"containerPort": 81}])
        );
    }
}
