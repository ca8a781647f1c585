//! Resources being built, with the bookkeeping kustomize keeps beside each object.

use serde_json::{Map, Value};

use crate::resid::{Gvk, ResId};

/// The prefix of kustomize's build annotation keys.
pub(crate) const BUILD_ANNOTATION_DOMAIN: &str = "internal.config.kubernetes.io";

/// How a generated resource combines with one of the same id from a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Behavior {
    #[default]
    Create,
    Merge,
    Replace,
}

impl Behavior {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Behavior::Create => "create",
            Behavior::Merge => "merge",
            Behavior::Replace => "replace",
        }
    }
}

/// One object and what kustomize remembers about it while building (held in "build
/// annotations" upstream, in fields here; none of it is printed).
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    /// The object.
    pub obj: Value,
    /// Earlier ids (before renames), oldest first; empty when never renamed.
    pub prev_ids: Vec<ResId>,
    /// Name prefixes applied, innermost first.
    pub prefixes: Vec<String>,
    /// Name suffixes applied, innermost first.
    pub suffixes: Vec<String>,
    /// Generator behaviour.
    pub behavior: Behavior,
    /// Whether the generated name gets the content hash suffix.
    pub needs_hash: bool,
    /// Variable names referenced (legacy vars), carried across generator merges.
    pub ref_var_names: Vec<String>,
}

impl Resource {
    pub(crate) fn new(obj: Value) -> Resource {
        Resource {
            obj,
            prev_ids: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            behavior: Behavior::Create,
            needs_hash: false,
            ref_var_names: Vec::new(),
        }
    }

    pub(crate) fn cur_id(&self) -> ResId {
        ResId::of(&self.obj)
    }

    pub(crate) fn gvk(&self) -> Gvk {
        Gvk::of(&self.obj)
    }

    /// The id it had first (before any rename).
    pub(crate) fn org_id(&self) -> ResId {
        match self.prev_ids.first() {
            Some(first) => {
                let mut id = first.clone();
                // Previous ids carry the current apiVersion, as upstream rebuilds them.
                let gvk = self.gvk();
                id.gvk.group = gvk.group;
                id.gvk.version = gvk.version;
                id
            }
            None => self.cur_id(),
        }
    }

    /// Previous ids, with the current group and version (as upstream rebuilds them).
    pub(crate) fn prev_ids(&self) -> Vec<ResId> {
        let gvk = self.gvk();
        self.prev_ids
            .iter()
            .map(|id| {
                let mut id = id.clone();
                id.gvk.group = gvk.group.clone();
                id.gvk.version = gvk.version.clone();
                id
            })
            .collect()
    }

    /// Remembers the current id before a rename.
    pub(crate) fn store_previous_id(&mut self) {
        let id = self.cur_id();
        let namespace = id.effective_namespace().to_owned();
        self.prev_ids.push(ResId {
            gvk: id.gvk,
            name: id.name,
            namespace,
        });
    }

    /// The build annotations kustomize would hold in `metadata.annotations` for what this
    /// resource remembers: its previous ids and its name prefixes and suffixes, each a
    /// comma-separated list, oldest first. They are visible to a JSON patch (see
    /// [`crate::patch`]); generator bookkeeping is not reproduced.
    pub(crate) fn build_annotations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut csv = |key: &str, items: Vec<&str>| {
            if !items.is_empty() {
                out.push((format!("{BUILD_ANNOTATION_DOMAIN}/{key}"), items.join(",")));
            }
        };
        csv(
            "previousKinds",
            self.prev_ids
                .iter()
                .map(|id| id.gvk.kind.as_str())
                .collect(),
        );
        csv(
            "previousNames",
            self.prev_ids.iter().map(|id| id.name.as_str()).collect(),
        );
        csv(
            "previousNamespaces",
            self.prev_ids
                .iter()
                .map(|id| id.namespace.as_str())
                .collect(),
        );
        csv(
            "prefixes",
            self.prefixes.iter().map(String::as_str).collect(),
        );
        csv(
            "suffixes",
            self.suffixes.iter().map(String::as_str).collect(),
        );
        out
    }

    pub(crate) fn kind(&self) -> &str {
        self.obj.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    pub(crate) fn name(&self) -> &str {
        crate::resid::str_at(&self.obj, &["metadata", "name"])
    }

    pub(crate) fn namespace(&self) -> &str {
        crate::resid::str_at(&self.obj, &["metadata", "namespace"])
    }

    fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        let obj = ensure_object(&mut self.obj);
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        ensure_object(meta)
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        self.metadata_mut()
            .insert("name".into(), Value::String(name.to_owned()));
    }

    pub(crate) fn set_namespace(&mut self, namespace: &str) {
        let meta = self.metadata_mut();
        if namespace.is_empty() {
            meta.remove("namespace");
        } else {
            meta.insert("namespace".into(), Value::String(namespace.to_owned()));
        }
    }

    /// A string map under `metadata` (`labels`, `annotations`).
    pub(crate) fn string_map(&self, field: &str) -> Vec<(String, String)> {
        self.obj
            .get("metadata")
            .and_then(|m| m.get(field))
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), value_text(v))).collect())
            .unwrap_or_default()
    }

    pub(crate) fn set_string_map(&mut self, field: &str, entries: Vec<(String, String)>) {
        let meta = self.metadata_mut();
        if entries.is_empty() {
            meta.remove(field);
            return;
        }
        let map: Map<String, Value> = entries
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        meta.insert(field.to_owned(), Value::Object(map));
    }

    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.obj
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    }

    pub(crate) fn set_annotation(&mut self, key: &str, value: &str) {
        let meta = self.metadata_mut();
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        ensure_object(annotations).insert(key.to_owned(), Value::String(value.to_owned()));
    }

    pub(crate) fn remove_annotation(&mut self, key: &str) {
        let Some(meta) = self.obj.get_mut("metadata").and_then(Value::as_object_mut) else {
            return;
        };
        let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) else {
            return;
        };
        annotations.remove(key);
        if annotations.is_empty() {
            meta.remove("annotations");
        }
    }
}

/// Whether kustomize's name-reference disambiguation sees the same prefixes and suffixes
/// (`(prefixes, suffixes)` of two resources).
pub(crate) fn affixes_equal(
    a: (&[String], &[String]),
    b: (&[String], &[String]),
    allow_empty: bool,
) -> bool {
    if allow_empty {
        let either_prefix_empty = a.0.is_empty() || b.0.is_empty();
        let either_suffix_empty = a.1.is_empty() || b.1.is_empty();
        (either_prefix_empty || same_ending(a.0, b.0))
            && (either_suffix_empty || same_ending(a.1, b.1))
    } else {
        same_ending(a.0, b.0) && same_ending(a.1, b.1)
    }
}

/// Whether the shorter slice is a suffix of the longer one.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long[long.len() - short.len()..] == *short
}

/// A scalar's text, as kustomize reads a string map (numbers and booleans by their text).
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Makes `v` an object (replacing a non-object) and returns its map.
pub(crate) fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// An ordered list of resources with kustomize's id rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResMap {
    pub list: Vec<Resource>,
}

impl ResMap {
    /// Appends, refusing a second resource with the same current id.
    pub(crate) fn append(&mut self, res: Resource) -> Result<(), String> {
        let id = res.cur_id();
        if self.list.iter().any(|r| r.cur_id().equals(&id)) {
            return Err(format!(
                "may not add resource with an already registered id: {id}"
            ));
        }
        self.list.push(res);
        Ok(())
    }

    /// Indices of resources any of whose ids (previous or current) equals `id`.
    pub(crate) fn matching_any_id(&self, id: &ResId) -> Vec<usize> {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, r)| r.prev_ids().iter().any(|p| p.equals(id)) || r.cur_id().equals(id))
            .map(|(i, _)| i)
            .collect()
    }

    /// Adds generated resources: new ids are appended, others merged or replaced by the
    /// generator's behaviour.
    pub(crate) fn absorb(&mut self, mut res: Resource) -> Result<(), String> {
        let id = res.cur_id();
        let matches = self.matching_any_id(&id);
        match matches.as_slice() {
            [] => match res.behavior {
                Behavior::Merge | Behavior::Replace => Err(format!(
                    "id {} does not exist; cannot merge or replace",
                    go_id(&id)
                )),
                Behavior::Create => self.append(res),
            },
            [index] => {
                let old = self.list[*index].clone();
                match res.behavior {
                    Behavior::Replace => copy_merge_metadata(&mut res, &old),
                    Behavior::Merge => {
                        let origin = old.annotation(crate::ORIGIN_ANNOTATION).map(str::to_owned);
                        copy_merge_metadata(&mut res, &old);
                        for field in ["data", "binaryData"] {
                            merge_data_map(&mut res, &old, field);
                        }
                        if let Some(origin) = origin {
                            res.set_annotation(crate::ORIGIN_ANNOTATION, &origin);
                        }
                    }
                    Behavior::Create => {
                        return Err(format!(
                            "id {} exists; can not use behavior: '{}', behavior must be merge or replace",
                            go_id(&id),
                            res.behavior.as_str()
                        ));
                    }
                }
                self.list[*index] = res;
                Ok(())
            }
            _ => Err(format!(
                "found multiple objects that could accept merge of {id}"
            )),
        }
    }
}

/// An id as Go's `%#v` shows it in kustomize's messages, abbreviated.
fn go_id(id: &ResId) -> String {
    format!(
        "resid.ResId{{Gvk:resid.Gvk{{Group:{:?}, Version:{:?}, Kind:{:?}}}, Name:{:?}, Namespace:{:?}}}",
        id.gvk.group, id.gvk.version, id.gvk.kind, id.name, id.namespace
    )
}

fn copy_merge_metadata(res: &mut Resource, old: &Resource) {
    let mut labels = old.string_map("labels");
    for (k, v) in res.string_map("labels") {
        upsert(&mut labels, k, v);
    }
    res.set_string_map("labels", labels);
    let mut annotations = old.string_map("annotations");
    for (k, v) in res.string_map("annotations") {
        upsert(&mut annotations, k, v);
    }
    res.set_string_map("annotations", annotations);
    let name = old.name().to_owned();
    let namespace = old.namespace().to_owned();
    res.set_name(&name);
    res.set_namespace(&namespace);
    // Build annotations come from the old resource; the hash suffix only if both want it.
    res.needs_hash = res.needs_hash && old.needs_hash;
    res.prev_ids = old.prev_ids.clone();
    res.prefixes = old.prefixes.clone();
    res.suffixes = old.suffixes.clone();
    res.ref_var_names = old.ref_var_names.clone();
}

fn upsert(entries: &mut Vec<(String, String)>, k: String, v: String) {
    if let Some(e) = entries.iter_mut().find(|(ek, _)| *ek == k) {
        e.1 = v;
    } else {
        entries.push((k, v));
    }
}

fn merge_data_map(res: &mut Resource, old: &Resource, field: &str) {
    let old_map = old.obj.get(field).and_then(Value::as_object).cloned();
    let new_map = res.obj.get(field).and_then(Value::as_object).cloned();
    let mut merged = old_map.unwrap_or_default();
    for (k, v) in new_map.unwrap_or_default() {
        merged.insert(k, v);
    }
    let obj = ensure_object(&mut res.obj);
    if merged.is_empty() {
        obj.remove(field);
    } else {
        obj.insert(field.to_owned(), Value::Object(merged));
    }
}
