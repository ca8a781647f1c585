//! The JSONPath subset used by printer columns and scale paths: `.a.b`, `[0]`, `[*]`, and
//! filters `[?(@.type=="Ready")]`.

use serde_json::Value;

/// Evaluates `path` on `object`, returning every value it selects.
pub fn select<'a>(object: &'a Value, path: &str) -> Vec<&'a Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut current = vec![object];
    let mut rest = path.trim_start_matches('$');
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let field = &after[..end];
            rest = &after[end..];
            if field.is_empty() {
                continue;
            }
            current = current.into_iter().filter_map(|v| v.get(field)).collect();
        } else if let Some(after) = rest.strip_prefix('[') {
            let Some(end) = closing_bracket(after) else {
                return Vec::new();
            };
            let inner = &after[..end];
            rest = &after[end + 1..];
            current = apply_bracket(current, inner);
        } else {
            return Vec::new();
        }
    }
    current
}

fn closing_bracket(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') if depth == 0 => return Some(i),
            (None, ']') => depth -= 1,
            _ => {}
        }
    }
    None
}

fn apply_bracket<'a>(values: Vec<&'a Value>, inner: &str) -> Vec<&'a Value> {
    let inner = inner.trim();
    if inner == "*" {
        return values
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().collect::<Vec<_>>(),
                Value::Object(map) => map.values().collect(),
                _ => Vec::new(),
            })
            .collect();
    }
    if let Some(filter) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
        return values
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .filter(|item| filter_matches(item, filter))
            .collect();
    }
    if let Ok(index) = inner.parse::<i64>() {
        return values
            .into_iter()
            .filter_map(|v| {
                let items = v.as_array()?;
                let len = i64::try_from(items.len()).ok()?;
                let at = if index < 0 { len + index } else { index };
                usize::try_from(at).ok().and_then(|i| items.get(i))
            })
            .collect();
    }
    let key = inner.trim_matches(|c| c == '\'' || c == '"');
    values.into_iter().filter_map(|v| v.get(key)).collect()
}

/// `@.a.b=="x"`, `@.a!="x"`, or `@.a` (exists).
fn filter_matches(item: &Value, filter: &str) -> bool {
    let (left, operator, right) = if let Some((l, r)) = filter.split_once("==") {
        (l, Some(true), Some(r))
    } else if let Some((l, r)) = filter.split_once("!=") {
        (l, Some(false), Some(r))
    } else {
        (filter, None, None)
    };
    let path = left.trim().trim_start_matches('@');
    let found = select(item, path);
    match (operator, right) {
        (Some(equal), Some(right)) => {
            let right = right.trim();
            let expected: Value = if (right.starts_with('"') && right.ends_with('"'))
                || (right.starts_with('\'') && right.ends_with('\''))
            {
                Value::from(&right[1..right.len() - 1])
            } else {
                serde_json::from_str(right).unwrap_or_else(|_| Value::from(right))
            };
            found.first().is_some_and(|v| **v == expected) == equal
        }
        _ => !found.is_empty(),
    }
}

/// Formats selected values as kubectl prints cells: strings as they are, several values
/// joined by commas, objects and lists as JSON.
pub fn cell_text(values: &[&Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn printer_column_paths_select_what_kubectl_expects() {
        let object = json!({
            "spec": {"url": "https://x", "ports": [{"port": 80}, {"port": 443}]},
            "status": {"conditions": [{"type": "Reconciling", "status": "True"}, {"type": "Ready", "status": "False", "message": "m"}]}
        });
        assert_eq!(cell_text(&select(&object, ".spec.url")), "https://x");
        assert_eq!(
            cell_text(&select(
                &object,
                ".status.conditions[?(@.type==\"Ready\")].status"
            )),
            "False"
        );
        assert_eq!(
            cell_text(&select(
                &object,
                ".status.conditions[?(@.type=='Ready')].message"
            )),
            "m"
        );
        assert_eq!(cell_text(&select(&object, ".spec.ports[*].port")), "80,443");
        assert_eq!(cell_text(&select(&object, ".spec.ports[-1].port")), "443");
        assert!(select(&object, ".spec.missing").is_empty());
    }
}
