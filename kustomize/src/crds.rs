//! `crds:`: OpenAPI definitions of custom types whose `x-kubernetes-*` extensions tell
//! kustomize where their names, labels, annotations and object references are.

use serde_json::Value;

use crate::fieldspec::FieldSpec;
use crate::konfig::{Konfig, NameBackReference};
use crate::resid::Gvk;

/// Adds the field specs declared by the definitions in `doc` (a map from type name to
/// `{Schema: ...}`) to `config`.
///
/// # Errors
///
/// A message when the document is not such a map.
pub(crate) fn load(doc: &Value, config: &mut Konfig) -> Result<(), String> {
    let Some(defs) = doc.as_object() else {
        return Err("error unmarshaling JSON: expected a map of OpenAPI definitions".into());
    };
    for (name, def) in defs {
        if !def.is_object() {
            return Err(format!(
                "error unmarshaling JSON: definition {name:?} is not a map"
            ));
        }
    }
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    for name in names {
        let props = properties(&defs[name.as_str()]);
        let looks_like_type = ["kind", "apiVersion", "metadata"]
            .iter()
            .all(|k| props.is_some_and(|p| p.contains_key(*k)));
        if !looks_like_type {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        let gvk = Gvk::new("", "", kind);
        walk(defs, name, &gvk, &mut Vec::new(), config, 0);
    }
    Ok(())
}

fn properties(def: &Value) -> Option<&serde_json::Map<String, Value>> {
    def.get("Schema")?.get("properties")?.as_object()
}

fn spec(gvk: &Gvk, path: &[String]) -> FieldSpec {
    FieldSpec {
        gvk: gvk.clone(),
        path: path.join("/"),
        create: false,
    }
}

fn walk(
    defs: &serde_json::Map<String, Value>,
    type_name: &str,
    gvk: &Gvk,
    path: &mut Vec<String>,
    config: &mut Konfig,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    let Some(props) = defs.get(type_name).and_then(properties) else {
        return;
    };
    for (prop, schema) in props {
        path.push(prop.clone());
        let ext = |k: &str| schema.get(k).and_then(Value::as_str);
        if ext("x-kubernetes-annotation").is_some() {
            config.common_annotations.push(spec(gvk, path));
        }
        if ext("x-kubernetes-label-selector").is_some() {
            config.common_labels.push(spec(gvk, path));
        }
        if ext("x-kubernetes-identity").is_some() {
            config.name_prefix.push(spec(gvk, path));
        }
        if let (Some(version), Some(kind)) = (
            ext("x-kubernetes-object-ref-api-version"),
            ext("x-kubernetes-object-ref-kind"),
        ) {
            let key = ext("x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut referrer = path.clone();
            referrer.push(key.to_owned());
            config.name_reference.push(NameBackReference {
                target: Gvk::new("", version, kind),
                referrers: vec![spec(gvk, &referrer)],
            });
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            walk(defs, reference, gvk, path, config, depth + 1);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn object_references_become_name_references() {
        let doc = json!({
            "x.v1.Bee": {"Schema": {"properties": {
                "kind": {}, "apiVersion": {}, "metadata": {},
                "spec": {"$ref": "x.v1.BeeSpec"}}}},
            "x.v1.BeeSpec": {"Schema": {"properties": {
                "secretRef": {"x-kubernetes-object-ref-api-version": "v1",
                              "x-kubernetes-object-ref-kind": "Secret"}}}}
        });
        let mut config = Konfig::builtin().clone();
        let before = config.name_reference.len();
        load(&doc, &mut config).expect("valid");
        let added = &config.name_reference[before..];
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].target.kind, "Secret");
        assert_eq!(added[0].referrers[0].path, "spec/secretRef/name");
        assert_eq!(added[0].referrers[0].gvk.kind, "Bee");
        assert!(load(&json!({"apiVersion": "v1"}), &mut config).is_err());
    }
}
