//! Legacy `vars`: `$(NAME)` in the fields of kustomize's var-reference table replaced by a
//! field of a named object, once every other transformation is done.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::fieldspec;
use crate::konfig::Konfig;
use crate::kustomization::Var;
use crate::resid::{Gvk, ResId};
use crate::resource::ResMap;

fn var_id(v: &Var) -> ResId {
    let t = &v.objref;
    let gvk = if t.api_version.is_empty() {
        Gvk::new(&t.group, &t.version, &t.kind)
    } else {
        let (g, ver) = match t.api_version.split_once('/') {
            Some((g, ver)) => (g.to_owned(), ver.to_owned()),
            None => (String::new(), t.api_version.clone()),
        };
        Gvk {
            group: g,
            version: ver,
            kind: t.kind.clone(),
        }
    };
    ResId {
        gvk,
        name: t.name.clone(),
        namespace: t.namespace.clone(),
    }
}

/// Resolves `vars` over the built resources.
pub(crate) fn resolve(map: &mut ResMap, vars: &[Var], config: &Konfig) -> Result<(), String> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for var in vars {
        let id = var_id(var);
        let strict = !id.namespace.is_empty() || id.gvk.is_cluster_scoped();
        let matched: Vec<usize> = (0..map.list.len())
            .filter(|&i| {
                let r = &map.list[i];
                r.prev_ids()
                    .into_iter()
                    .chain(std::iter::once(r.cur_id()))
                    .any(|rid| {
                        let gvkn = rid.gvk == id.gvk && rid.name == id.name;
                        if strict {
                            gvkn && rid.ns_equals(&id)
                        } else {
                            gvkn
                        }
                    })
            })
            .collect();
        if matched.len() > 1 {
            return Err(format!(
                "found {} resId matches for var {} (unable to disambiguate)",
                matched.len(),
                var.name
            ));
        }
        let Some(&i) = matched.first() else {
            return Err(format!(
                "var '{}' cannot be mapped to a field in the set of known resources",
                var.name
            ));
        };
        let path = var
            .fieldref
            .as_ref()
            .map(|f| f.field_path.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("metadata.name");
        let value = field_value(&map.list[i].obj, path).ok_or_else(|| {
            format!(
                "var '{}': field '{path}' not found in {}",
                var.name,
                map.list[i].cur_id()
            )
        })?;
        values.insert(var.name.clone(), value);
    }
    for res in &mut map.list {
        for spec in &config.var_reference {
            let mut set = |node: &mut Value| {
                expand_node(node, &values);
                Ok(())
            };
            fieldspec::apply(&mut res.obj, spec, None, &mut set)?;
        }
    }
    Ok(())
}

fn field_value(obj: &Value, path: &str) -> Option<Value> {
    let mut cur = obj;
    for part in crate::replace::split_path(path) {
        // `a[0]` and `[name=x]` forms.
        let (field, index) = match part.find('[') {
            Some(i) if i > 0 => (&part[..i], Some(&part[i..])),
            Some(_) => ("", Some(part.as_str())),
            None => (part.as_str(), None),
        };
        if !field.is_empty() {
            cur = cur.get(field)?;
        }
        if let Some(index) = index {
            let inner = index.strip_prefix('[')?.strip_suffix(']')?;
            let items = cur.as_array()?;
            cur = match inner.split_once('=') {
                Some((k, v)) => items
                    .iter()
                    .find(|i| i.get(k).and_then(Value::as_str) == Some(v))?,
                None => items.get(inner.parse::<usize>().ok()?)?,
            };
        }
    }
    match cur {
        Value::Object(_) | Value::Array(_) => None,
        other => Some(other.clone()),
    }
}

fn expand_node(node: &mut Value, values: &BTreeMap<String, Value>) {
    match node {
        Value::String(s) => *node = expand(s, values),
        Value::Object(map) => {
            for v in map.values_mut() {
                if let Value::String(s) = v {
                    *v = expand(s, values);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                if let Value::String(s) = v {
                    *v = expand(s, values);
                }
            }
        }
        _ => {}
    }
}

/// Kubernetes' `$(VAR)` expansion (`$$` escapes); an input that is exactly one reference
/// takes the value's type.
pub(crate) fn expand(input: &str, values: &BTreeMap<String, Value>) -> Value {
    if let Some(name) = input.strip_prefix("$(").and_then(|r| r.strip_suffix(')'))
        && !name.contains(')')
        && let Some(v) = values.get(name)
    {
        return v.clone();
    }
    let bytes = input.as_bytes();
    let mut out = String::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let (read, is_var, advance) = match rest.as_bytes()[0] {
                b'$' => (rest[..1].to_owned(), false, 1),
                b'(' => match rest.find(')') {
                    Some(end) => (rest[1..end].to_owned(), true, end + 1),
                    None => ("$(".to_owned(), false, 1),
                },
                _ => {
                    let ch = rest.chars().next().map(|c| c.len_utf8()).unwrap_or(1);
                    (format!("${}", &rest[..ch]), false, ch)
                }
            };
            if is_var {
                match values.get(&read) {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(Value::Null) | None => {
                        out.push_str("$(");
                        out.push_str(&read);
                        out.push(')');
                    }
                    Some(other) => out.push_str(&other.to_string()),
                }
            } else {
                out.push_str(&read);
            }
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint <= input.len() {
        out.push_str(&input[checkpoint.min(input.len())..]);
    }
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_expand_and_escapes_survive() {
        let values: BTreeMap<String, Value> = [
            ("SVC".to_owned(), json!("web")),
            ("PORT".to_owned(), json!(80)),
        ]
        .into();
        assert_eq!(
            expand("http://$(SVC):$(PORT)/", &values),
            json!("http://web:80/")
        );
        assert_eq!(expand("$(PORT)", &values), json!(80));
        assert_eq!(expand("$$(SVC)", &values), json!("$(SVC)"));
        assert_eq!(expand("$(NOPE) $(", &values), json!("$(NOPE) $("));
        assert_eq!(expand("a$b", &values), json!("a$b"));
    }
}
