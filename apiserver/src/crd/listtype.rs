//! `x-kubernetes-list-type` uniqueness (`listtype.ValidateListSetsAndMaps`): items of a
//! `set` list are unique, items of a `map` list have unique keys.

use serde_json::{Map, Value, json};

use super::field::{FieldError, Path, sorted_json};
use super::structural::Structural;

/// Validates every `set` and `map` list in `obj` (an object at the root of `s`).
pub(crate) fn validate_lists(
    path: &Path,
    s: &Structural,
    obj: &Map<String, Value>,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    if let Some(ap) = s
        .additional_properties
        .as_ref()
        .and_then(|ap| ap.structural.as_deref())
    {
        for k in &keys {
            errs.extend(node(&path.key(k), ap, &obj[*k]));
        }
    }
    for k in &keys {
        if let Some(sub) = s.properties.get(*k) {
            errs.extend(node(&path.child(k), sub, &obj[*k]));
        }
    }
    errs
}

fn node(path: &Path, s: &Structural, value: &Value) -> Vec<FieldError> {
    match value {
        Value::Array(items) => array(path, s, items),
        Value::Object(map) => validate_lists(path, s, map),
        _ => Vec::new(),
    }
}

fn array(path: &Path, s: &Structural, items: &[Value]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match s.extensions.x_list_type.as_deref() {
        Some("set") => {
            for i in non_unique(items) {
                errs.push(FieldError::duplicate(&path.index(i), items[i].clone()));
            }
        }
        Some("map") => errs.extend(list_map(path, s, items)),
        _ => {}
    }
    if let Some(item_schema) = s.items.as_deref() {
        for (i, item) in items.iter().enumerate() {
            errs.extend(node(&path.index(i), item_schema, item));
        }
    }
    errs
}

/// The indices of the second occurrence of each repeated value (as Kubernetes reports
/// them: each duplicated value once).
fn non_unique(items: &[Value]) -> Vec<usize> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let key = canonical(item);
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, times)) => {
                *times += 1;
                if *times == 2 {
                    out.push(i);
                }
            }
            None => seen.push((key, 1)),
        }
    }
    out
}

/// A value as a comparable key: numbers compare by value (1 and 1.0 are the same).
fn canonical(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => format!("n{}", f as i64),
            _ => format!("n{n}"),
        },
        other => sorted_json(other),
    }
}

fn list_map(path: &Path, s: &Structural, items: &[Value]) -> Vec<FieldError> {
    for (i, item) in items.iter().enumerate() {
        if !item.is_null() && !item.is_object() {
            return vec![FieldError::invalid(
                &path.index(i),
                item.clone(),
                "must be an object for an array of list-type map",
            )];
        }
    }
    if items.len() <= 1 {
        return Vec::new();
    }
    let key_fields = s.extensions.x_list_map_keys.clone().unwrap_or_default();
    let keys: Vec<Value> = items
        .iter()
        .map(|item| {
            let mut key = Map::new();
            if let Some(map) = item.as_object() {
                for field in &key_fields {
                    if let Some(v) = map.get(field) {
                        key.insert(field.clone(), v.clone());
                    }
                }
            }
            Value::Object(key)
        })
        .collect();
    non_unique(&keys)
        .into_iter()
        .map(|i| {
            let shown = if key_fields.len() == 1 {
                match keys[i].get(&key_fields[0]) {
                    Some(v) => json!({ key_fields[0].clone(): v.clone() }),
                    None => json!({}),
                }
            } else {
                keys[i].clone()
            };
            FieldError::duplicate(&path.index(i), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::structural::new_structural;

    fn schema(v: Value) -> Structural {
        new_structural(&crate::crd::decode::props_for_test(&v)).expect("structural")
    }

    #[test]
    fn repeated_set_items_and_map_keys_are_duplicates() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                    "items": {"type": "object", "required": ["port"], "properties": {"port": {"type": "integer"}, "name": {"type": "string"}}}},
            },
        }));
        let obj = json!({"tags": ["a", "b", "a", "a"], "ports": [{"port": 80, "name": "x"}, {"port": 80, "name": "y"}]});
        let errs: Vec<String> =
            validate_lists(&Path::new(""), &s, obj.as_object().expect("object"))
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(
            errs,
            vec![
                r#"ports[1]: Duplicate value: {"port":80}"#,
                r#"tags[2]: Duplicate value: "a""#,
            ]
        );
    }
}
