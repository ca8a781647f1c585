//! The field-spec driven built-in transformers: namespace, name prefix and suffix, labels,
//! annotations, images, replicas.

use serde_json::{Map, Value};

use crate::fieldspec::{self, CreateKind, FieldSpec};
use crate::resid::Gvk;
use crate::resource::{ResMap, Resource, ensure_object};

/// Sets `key: value` in the map at the field (creating the map when the field is null).
fn set_entry<'a>(
    key: &'a str,
    value: &'a str,
) -> impl FnMut(&mut Value) -> Result<(), String> + 'a {
    move |node: &mut Value| match node {
        Value::Object(_) | Value::Null => {
            ensure_object(node).insert(key.to_owned(), Value::String(value.to_owned()));
            Ok(())
        }
        _ => Err(format!(
            "wrong node kind: expected MappingNode but got {}",
            kind_name(node)
        )),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `namespace:`: sets the namespace of namespaced objects and the namespace fields the
/// field specs name; renames `Namespace` objects; fixes RoleBinding subjects named
/// `default`.
pub(crate) fn namespace(
    map: &mut ResMap,
    namespace: &str,
    specs: &[FieldSpec],
) -> Result<(), String> {
    for i in 0..map.list.len() {
        let res = &mut map.list[i];
        if res.obj.as_object().is_none_or(Map::is_empty) {
            continue;
        }
        res.store_previous_id();
        let gvk = res.gvk();
        let api_version = gvk.api_version();
        let mut setter = |node: &mut Value| -> Result<(), String> {
            match node {
                Value::Object(_) | Value::Array(_) => {
                    Err("namespace field specs must target scalar nodes".to_owned())
                }
                _ => {
                    *node = Value::String(namespace.to_owned());
                    Ok(())
                }
            }
        };
        if !gvk.is_cluster_scoped() {
            let meta = FieldSpec::new("metadata/namespace", true);
            fieldspec::apply(&mut res.obj, &meta, Some(CreateKind::Scalar), &mut setter)?;
        }
        let is_binding = gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding";
        if is_binding
            && let Some(subjects) = res.obj.get_mut("subjects").and_then(Value::as_array_mut)
        {
            for subject in subjects {
                if subject.get("name").and_then(Value::as_str) == Some("default") {
                    ensure_object(subject)
                        .insert("namespace".into(), Value::String(namespace.to_owned()));
                }
            }
        }
        for spec in specs {
            if spec.path == "metadata/namespace" {
                continue;
            }
            if api_version != "v1" && spec.path == "metadata/name" {
                continue;
            }
            if is_binding
                && (spec.gvk.kind == "RoleBinding" || spec.gvk.kind == "ClusterRoleBinding")
                && spec.path == "subjects/namespace"
            {
                continue;
            }
            fieldspec::apply(&mut res.obj, spec, Some(CreateKind::Scalar), &mut setter)
                .map_err(|e| format!("namespace transformation failed: {e}"))?;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in &map.list {
        let id = r.cur_id();
        if !seen.insert(id.key()) {
            return Err(format!(
                "namespace transformation produces ID conflict: {id}"
            ));
        }
    }
    Ok(())
}

/// Kinds that never get a name prefix or suffix.
fn skips_prefix_suffix(gvk: &Gvk) -> bool {
    gvk.kind == "CustomResourceDefinition"
        || gvk.kind == "Namespace"
        || (gvk.group == "apiregistration.k8s.io" && gvk.kind == "APIService")
}

/// `namePrefix:` or `nameSuffix:`.
pub(crate) fn prefix_suffix(
    map: &mut ResMap,
    text: &str,
    specs: &[FieldSpec],
    is_prefix: bool,
) -> Result<(), String> {
    for res in &mut map.list {
        let org = res.org_id();
        if skips_prefix_suffix(&org.gvk) {
            continue;
        }
        for spec in specs {
            if !org.gvk.is_selected_by(&spec.gvk) {
                continue;
            }
            if spec.path == "metadata/name" {
                if is_prefix {
                    res.prefixes.push(text.to_owned());
                } else {
                    res.suffixes.push(text.to_owned());
                }
                if !text.is_empty() {
                    res.store_previous_id();
                }
            }
            let mut setter = |node: &mut Value| -> Result<(), String> {
                let cur = scalar_text(node);
                *node = Value::String(if is_prefix {
                    format!("{text}{cur}")
                } else {
                    format!("{cur}{text}")
                });
                Ok(())
            };
            fieldspec::apply(&mut res.obj, spec, Some(CreateKind::Scalar), &mut setter)?;
        }
    }
    Ok(())
}

/// Labels or annotations: every pair set at every field the specs name.
pub(crate) fn set_pairs(
    map: &mut ResMap,
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<(), String> {
    for res in &mut map.list {
        set_pairs_on(res, pairs, specs)?;
    }
    Ok(())
}

pub(crate) fn set_pairs_on(
    res: &mut Resource,
    pairs: &[(String, String)],
    specs: &[FieldSpec],
) -> Result<(), String> {
    for (k, v) in pairs {
        if !matches!(
            crate::yaml::resolve_json(k, crate::yaml::Flavor::V3),
            Value::String(_)
        ) {
            // kustomize writes the key untagged; it reads back as a non-string key, which
            // JSON cannot hold.
            return Err(format!(
                "key {k:?}: json: unsupported type: map[interface {{}}]interface {{}}"
            ));
        }
        for spec in specs {
            fieldspec::apply(
                &mut res.obj,
                spec,
                Some(CreateKind::Map),
                &mut set_entry(k, v),
            )?;
        }
    }
    Ok(())
}

/// Merges field specs as kustomize's `FsSlice.MergeAll` does: a spec already present (same
/// GVK and path) is not added again.
pub(crate) fn merge_specs(into: &mut Vec<FieldSpec>, more: &[FieldSpec]) -> Result<(), String> {
    for spec in more {
        if let Some(existing) = into
            .iter()
            .find(|s| s.gvk == spec.gvk && s.path == spec.path)
        {
            if existing.create != spec.create {
                return Err(format!(
                    "conflicting fieldspecs for path '{}' (create {} and {})",
                    spec.path, existing.create, spec.create
                ));
            }
            continue;
        }
        into.push(spec.clone());
    }
    Ok(())
}

/// One `images:` entry.
pub(crate) fn image(
    map: &mut ResMap,
    img: &crate::kustomization::Image,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let pattern = regex::Regex::new(&format!(
        "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
        img.name
    ))
    .ok();
    let mut update = |node: &mut Value| -> Result<(), String> {
        let Value::String(value) = node else {
            return match node {
                Value::Object(_) | Value::Array(_) => Err(format!(
                    "wrong node kind: expected ScalarNode but got {}",
                    kind_name(node)
                )),
                _ => Ok(()),
            };
        };
        let Some(pattern) = &pattern else {
            return Ok(());
        };
        if !pattern.is_match(value) {
            return Ok(());
        }
        let (mut name, mut tag, mut digest) = split_image(value);
        if !img.new_name.is_empty() {
            name = img.new_name.clone();
        }
        if !img.new_tag.is_empty() && !img.digest.is_empty() {
            tag = img.new_tag.clone();
            digest = img.digest.clone();
        } else if !img.new_tag.is_empty() {
            tag = img.new_tag.clone();
            digest.clear();
        } else if !img.digest.is_empty() {
            tag.clear();
            digest = img.digest.clone();
        } else if !img.tag_suffix.is_empty() {
            tag.push_str(&img.tag_suffix);
            digest.clear();
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        *node = Value::String(name);
        Ok(())
    };
    for res in &mut map.list {
        if res.kind() == "CustomResourceDefinition" {
            continue;
        }
        find_containers(&mut res.obj, &mut update)?;
    }
    for res in &mut map.list {
        if res.kind() == "CustomResourceDefinition" {
            continue;
        }
        for spec in specs {
            fieldspec::apply(&mut res.obj, spec, None, &mut update)?;
        }
    }
    Ok(())
}

/// kustomize's legacy image walk: every `containers`/`initContainers` list anywhere.
fn find_containers(
    node: &mut Value,
    update: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                find_containers(value, update)?;
                if (key == "containers" || key == "initContainers")
                    && let Value::Array(items) = value
                {
                    for item in items {
                        if let Some(image) = item.get_mut("image")
                            && !image.is_null()
                        {
                            update(image)?;
                        }
                    }
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                find_containers(item, update)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Splits an image reference into name, tag and digest.
pub(crate) fn split_image(image: &str) -> (String, String, String) {
    let slash = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[slash..];
    let id = search.find('@');
    let ic = search.find(':');
    match (id, ic) {
        (None, None) => (image.to_owned(), String::new(), String::new()),
        (Some(d), c) if c.is_none_or(|c| d < c) => {
            let d = d + slash;
            (
                image[..d].to_owned(),
                String::new(),
                image[d + 1..].to_owned(),
            )
        }
        (Some(d), Some(c)) => {
            let (d, c) = (d + slash, c + slash);
            (
                image[..c].to_owned(),
                image[c + 1..d].to_owned(),
                image[d + 1..].to_owned(),
            )
        }
        (None, Some(c)) => {
            let c = c + slash;
            (
                image[..c].to_owned(),
                image[c + 1..].to_owned(),
                String::new(),
            )
        }
        (Some(_), None) => (image.to_owned(), String::new(), String::new()),
    }
}

/// One `replicas:` entry.
pub(crate) fn replicas(
    map: &mut ResMap,
    name: &str,
    count: i64,
    specs: &[FieldSpec],
) -> Result<(), String> {
    let mut found = false;
    for spec in specs {
        for res in &mut map.list {
            let ids: Vec<_> = res
                .prev_ids()
                .into_iter()
                .chain(std::iter::once(res.cur_id()))
                .collect();
            if !ids
                .iter()
                .any(|id| id.name == name && id.gvk.is_selected_by(&spec.gvk))
            {
                continue;
            }
            found = true;
            let mut setter = |node: &mut Value| -> Result<(), String> {
                *node = Value::Number(count.into());
                Ok(())
            };
            fieldspec::apply(&mut res.obj, spec, Some(CreateKind::Scalar), &mut setter)?;
        }
    }
    if !found {
        let gvks: Vec<String> = specs.iter().map(|s| s.gvk.to_string()).collect();
        return Err(format!(
            "resource with name {name} does not match a config with the following GVK [{}]",
            gvks.join(" ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_split_into_name_tag_and_digest() {
        let cases = [
            ("nginx", ("nginx", "", "")),
            ("nginx:1.2", ("nginx", "1.2", "")),
            ("localhost:5000/app:v1", ("localhost:5000/app", "v1", "")),
            ("app@sha256:abc", ("app", "", "sha256:abc")),
            ("app:v1@sha256:abc", ("app", "v1", "sha256:abc")),
        ];
        for (input, (n, t, d)) in cases {
            assert_eq!(
                split_image(input),
                (n.to_owned(), t.to_owned(), d.to_owned()),
                "{input}"
            );
        }
    }
}
