//! `replacements`: copy a field of one resource into fields of others.

use regex::Regex;
use serde_json::{Map, Value};

use crate::kustomization::{FieldOptions, ReplacementField, Selector, TargetSelector};
use crate::resid::{Gvk, ResId};
use crate::resource::{ResMap, Resource};
use crate::select::LabelSelector;
use crate::yaml::Flavor;

/// Applies every replacement in order.
pub(crate) fn apply(map: &mut ResMap, replacements: &[ReplacementField]) -> Result<(), String> {
    for r in replacements {
        let value = match (&r.source, &r.source_value) {
            (Some(source), None) => source_value(map, source)?,
            (None, Some(v)) => Value::String(v.clone()),
            _ => {
                return Err(
                    "exactly one of [replacements.source, replacements.sourceValue] must be set"
                        .into(),
                );
            }
        };
        if r.targets.is_empty() {
            return Err("replacements must specify a target".into());
        }
        for target in &r.targets {
            apply_target(map, &value, target)?;
        }
    }
    Ok(())
}

/// All ids of a resource: current first, then previous ones.
fn ids(r: &Resource) -> Vec<ResId> {
    std::iter::once(r.cur_id()).chain(r.prev_ids()).collect()
}

fn selected_by(id: &ResId, gvk: &Gvk, name: &str, namespace: &str) -> bool {
    (name.is_empty() || name == id.name)
        && (namespace.is_empty() || {
            let sel = ResId {
                gvk: id.gvk.clone(),
                name: String::new(),
                namespace: namespace.to_owned(),
            };
            sel.ns_equals(id)
        })
        && id.gvk.is_selected_by(gvk)
}

fn source_value(
    map: &ResMap,
    source: &crate::kustomization::SourceSelector,
) -> Result<Value, String> {
    let gvk = Gvk::new(&source.group, &source.version, &source.kind);
    let mut found: Option<&Resource> = None;
    for r in &map.list {
        if ids(r)
            .iter()
            .any(|id| selected_by(id, &gvk, &source.name, &source.namespace))
        {
            if found.is_some() {
                return Err(format!(
                    "multiple matches for selector {}",
                    describe(&gvk, &source.name, &source.namespace)
                ));
            }
            found = Some(r);
        }
    }
    let Some(r) = found else {
        return Err(format!(
            "nothing selected by {}",
            describe(&gvk, &source.name, &source.namespace)
        ));
    };
    let path = if source.field_path.is_empty() {
        "metadata.name"
    } else {
        source.field_path.as_str()
    };
    let parts = split_path(path);
    let mut matches = Vec::new();
    lookup(&r.obj, &parts, &mut matches);
    let value = match matches.first() {
        Some(v) if !is_empty(v) => (*v).clone(),
        _ => {
            return Err(format!(
                "fieldPath `{path}` is missing for replacement source {}",
                describe(&gvk, &source.name, &source.namespace)
            ));
        }
    };
    refine(source.options.as_ref(), value)
}

fn describe(gvk: &Gvk, name: &str, namespace: &str) -> String {
    ResId {
        gvk: gvk.clone(),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
    }
    .to_string()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn refine(options: Option<&FieldOptions>, value: Value) -> Result<Value, String> {
    let Some(o) = options.filter(|o| !o.delimiter.is_empty()) else {
        return Ok(value);
    };
    if value.is_object() || value.is_array() {
        return Err("delimiter option can only be used with scalar nodes".into());
    }
    let text = scalar_text(&value);
    let parts: Vec<&str> = text.split(o.delimiter.as_str()).collect();
    if o.index < 0 || o.index as usize >= parts.len() {
        return Err(format!(
            "options.index {} is out of bounds for value {text}",
            o.index
        ));
    }
    Ok(Value::String(parts[o.index as usize].to_owned()))
}

fn anchored(p: &str) -> Result<Option<Regex>, String> {
    if p.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{p})$"))
        .map(Some)
        .map_err(|e| format!("error creating target selector: {e}"))
}

struct IdRegex {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    empty: bool,
}

impl IdRegex {
    fn new(s: &Selector) -> Result<IdRegex, String> {
        Ok(IdRegex {
            group: anchored(&s.group)?,
            version: anchored(&s.version)?,
            kind: anchored(&s.kind)?,
            name: anchored(&s.name)?,
            namespace: anchored(&s.namespace)?,
            empty: s.group.is_empty()
                && s.version.is_empty()
                && s.kind.is_empty()
                && s.name.is_empty()
                && s.namespace.is_empty(),
        })
    }

    fn matches(&self, id: &ResId) -> bool {
        let m = |r: &Option<Regex>, s: &str| r.as_ref().is_none_or(|r| r.is_match(s));
        m(&self.group, &id.gvk.group)
            && m(&self.version, &id.gvk.version)
            && m(&self.kind, &id.gvk.kind)
            && m(&self.name, &id.name)
            && m(&self.namespace, &id.namespace)
    }
}

fn matches_meta(r: &Resource, s: &Selector) -> Result<bool, String> {
    if !s.label_selector.is_empty()
        && !LabelSelector::parse(&s.label_selector)?.matches(&r.string_map("labels"))
    {
        return Ok(false);
    }
    if !s.annotation_selector.is_empty()
        && !LabelSelector::parse(&s.annotation_selector)?.matches(&r.string_map("annotations"))
    {
        return Ok(false);
    }
    Ok(true)
}

fn apply_target(map: &mut ResMap, value: &Value, target: &TargetSelector) -> Result<(), String> {
    let Some(select) = &target.select else {
        return Err("target must specify resources to select".into());
    };
    let select_re = IdRegex::new(select)?;
    let rejects: Vec<(IdRegex, &Selector)> = target
        .reject
        .iter()
        .map(|r| IdRegex::new(r).map(|re| (re, r)))
        .collect::<Result<_, _>>()?;
    let default_paths = vec!["metadata.name".to_owned()];
    let paths = if target.field_paths.is_empty() {
        &default_paths
    } else {
        &target.field_paths
    };
    for r in &mut map.list {
        if !matches_meta(r, select)? {
            continue;
        }
        let mut rejected = false;
        for (_, rej) in &rejects {
            if (rej.annotation_selector.is_empty() && rej.label_selector.is_empty())
                || !matches_meta(r, rej)?
            {
                continue;
            }
            rejected = true;
        }
        if rejected {
            continue;
        }
        let all = ids(r);
        if rejects
            .iter()
            .any(|(re, _)| !re.empty && all.iter().any(|id| re.matches(id)))
        {
            continue;
        }
        if !all.iter().any(|id| select_re.matches(id)) {
            continue;
        }
        for path in paths {
            copy_to(&mut r.obj, value, path, target.options.as_ref())?;
        }
    }
    Ok(())
}

fn copy_to(
    obj: &mut Value,
    value: &Value,
    path: &str,
    options: Option<&FieldOptions>,
) -> Result<(), String> {
    let create = options.is_some_and(|o| o.create);
    let parts = split_path(path);
    let mut count = 0;
    let mut error = None;
    visit_mut(
        obj,
        &parts,
        create,
        &mut |field: &mut Value, created: bool| {
            count += 1;
            if let Err(e) = set_field(field, value, options, created) {
                error = Some(e);
            }
        },
    )?;
    if let Some(e) = error {
        return Err(e);
    }
    if count == 0 {
        return Err(if create {
            format!("unable to find or create field {path:?} in replacement target")
        } else {
            format!("unable to find field {path:?} in replacement target")
        });
    }
    Ok(())
}

fn set_field(
    field: &mut Value,
    value: &Value,
    options: Option<&FieldOptions>,
    created: bool,
) -> Result<(), String> {
    let mut value = value.clone();
    if let Some(o) = options.filter(|o| !o.delimiter.is_empty()) {
        if field.is_object() || field.is_array() {
            return Err("delimiter option can only be used with scalar nodes".into());
        }
        let current = scalar_text(field);
        let mut parts: Vec<String> = current
            .split(o.delimiter.as_str())
            .map(str::to_owned)
            .collect();
        let v = scalar_text(&value);
        if o.index < 0 {
            parts.insert(0, v);
        } else if o.index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[o.index as usize] = v;
        }
        value = Value::String(parts.join(&o.delimiter));
    }
    let value_is_scalar = !value.is_object() && !value.is_array();
    if created {
        // A created field takes the value as it is, type included.
        *field = value;
        return Ok(());
    }
    match field {
        // An existing scalar keeps its type; only the text changes.
        Value::String(_) => *field = Value::String(scalar_text(&value)),
        Value::Number(_) | Value::Bool(_) if value_is_scalar => {
            let text = scalar_text(&value);
            let typed = crate::yaml::resolve_json(&text, Flavor::V3);
            let same_type = matches!(
                (&*field, &typed),
                (Value::Number(_), Value::Number(_)) | (Value::Bool(_), Value::Bool(_))
            );
            if !same_type {
                return Err(format!(
                    "cannot decode {text:?} as the type of the target field"
                ));
            }
            *field = typed;
        }
        _ => *field = value,
    }
    Ok(())
}

/// Splits a replacement path on dots outside brackets and not escaped by a backslash.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    split_path_raw(path)
        .into_iter()
        .map(|p| {
            // `[a.b/c]` without `=` quotes a field name holding dots.
            match p.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(inner) if !inner.contains('=') => inner.to_owned(),
                _ => p,
            }
        })
        .collect()
}

fn split_path_raw(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            // `\.` is a dot inside a field name (`topology\.kubernetes\.io/zone`).
            '.' if cur.ends_with('\\') => {
                cur.pop();
                cur.push('.');
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn lookup<'v>(node: &'v Value, parts: &[String], out: &mut Vec<&'v Value>) {
    let Some((head, rest)) = parts.split_first() else {
        out.push(node);
        return;
    };
    match node {
        Value::Object(map) => {
            if let Some(next) = map.get(head.as_str()) {
                lookup(next, rest, out);
            }
        }
        Value::Array(items) => {
            if let Some(filter) = element_filter(head) {
                for item in items {
                    if filter.matches(item) {
                        lookup(item, rest, out);
                    }
                }
            } else if head == "*" {
                for item in items {
                    lookup(item, rest, out);
                }
            } else if let Ok(i) = head.parse::<usize>()
                && let Some(item) = items.get(i)
            {
                lookup(item, rest, out);
            }
        }
        _ => {}
    }
}

/// `[key=value]` (or `[=value]` for a list of scalars).
struct ElementFilter {
    key: String,
    value: String,
}

impl ElementFilter {
    fn matches(&self, item: &Value) -> bool {
        if self.key.is_empty() {
            return scalar_text(item) == self.value && !item.is_object();
        }
        item.get(&self.key)
            .is_some_and(|v| !v.is_object() && !v.is_array() && scalar_text(v) == self.value)
    }
}

fn element_filter(part: &str) -> Option<ElementFilter> {
    let inner = part.strip_prefix('[')?.strip_suffix(']')?;
    let (key, value) = inner.split_once('=')?;
    Some(ElementFilter {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}

/// The node created for a missing field followed by `rest`.
fn fresh_for(rest: &[String]) -> Value {
    match rest.first() {
        None => Value::Null,
        Some(p) if p.starts_with('[') || p.parse::<usize>().is_ok() || p == "*" => {
            Value::Array(Vec::new())
        }
        Some(_) => Value::Object(Map::new()),
    }
}

fn visit_mut(
    node: &mut Value,
    parts: &[String],
    create: bool,
    f: &mut dyn FnMut(&mut Value, bool),
) -> Result<(), String> {
    visit(node, parts, create, false, f)
}

fn visit(
    node: &mut Value,
    parts: &[String],
    create: bool,
    created: bool,
    f: &mut dyn FnMut(&mut Value, bool),
) -> Result<(), String> {
    let Some((head, rest)) = parts.split_first() else {
        f(node, created);
        return Ok(());
    };
    if let Some(filter) = element_filter(head) {
        if node.is_null() && create {
            *node = Value::Array(Vec::new());
        }
        let Value::Array(items) = node else {
            return Ok(());
        };
        let mut any = false;
        for item in items.iter_mut() {
            if filter.matches(item) {
                any = true;
                visit(item, rest, create, false, f)?;
            }
        }
        if !any && create {
            let item = if filter.key.is_empty() {
                Value::String(filter.value.clone())
            } else {
                let mut m = Map::new();
                m.insert(filter.key.clone(), Value::String(filter.value.clone()));
                Value::Object(m)
            };
            items.push(item);
            if let Some(last) = items.last_mut() {
                visit(last, rest, create, true, f)?;
            }
        }
        return Ok(());
    }
    match node {
        Value::Array(items) => {
            if head == "*" {
                for item in items {
                    visit(item, rest, create, false, f)?;
                }
            } else if let Ok(i) = head.parse::<usize>() {
                if i == items.len() && create {
                    items.push(fresh_for(rest));
                    if let Some(item) = items.get_mut(i) {
                        visit(item, rest, create, true, f)?;
                    }
                } else if let Some(item) = items.get_mut(i) {
                    visit(item, rest, create, false, f)?;
                }
            }
            Ok(())
        }
        Value::Object(map) => {
            if !map.contains_key(head.as_str()) {
                if !create {
                    return Ok(());
                }
                map.insert(head.clone(), fresh_for(rest));
                if let Some(next) = map.get_mut(head.as_str()) {
                    return visit(next, rest, create, true, f);
                }
                return Ok(());
            }
            match map.get_mut(head.as_str()) {
                Some(next) => visit(next, rest, create, false, f),
                None => Ok(()),
            }
        }
        Value::Null if create => {
            *node = Value::Object(Map::new());
            visit(node, parts, create, true, f)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_split_on_dots_outside_brackets() {
        assert_eq!(
            split_path("spec.containers.[name=a.b].image"),
            vec!["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(
            split_path(r"spec.nodeSelector.topology\.kubernetes\.io/region"),
            vec!["spec", "nodeSelector", "topology.kubernetes.io/region"]
        );
    }

    #[test]
    fn values_are_copied_into_selected_fields_keeping_their_types() {
        let mut obj = json!({"spec": {"replicas": 1, "containers": [{"name": "a", "image": "x"}]}});
        copy_to(&mut obj, &json!("3"), "spec.replicas", None).expect("ok");
        assert_eq!(obj["spec"]["replicas"], json!(3));
        copy_to(
            &mut obj,
            &json!("y:1"),
            "spec.containers.[name=a].image",
            None,
        )
        .expect("ok");
        assert_eq!(obj["spec"]["containers"][0]["image"], json!("y:1"));
        assert!(copy_to(&mut obj, &json!("v"), "spec.missing", None).is_err());
        let create = FieldOptions {
            create: true,
            ..FieldOptions::default()
        };
        copy_to(&mut obj, &json!("v"), "spec.new.field", Some(&create)).expect("ok");
        assert_eq!(obj["spec"]["new"]["field"], json!("v"));
    }

    #[test]
    fn delimiters_replace_one_part() {
        let mut obj = json!({"image": "repo/app:v1"});
        let o = FieldOptions {
            delimiter: ":".into(),
            index: 1,
            ..FieldOptions::default()
        };
        copy_to(&mut obj, &json!("v2"), "image", Some(&o)).expect("ok");
        assert_eq!(obj["image"], json!("repo/app:v2"));
    }
}
