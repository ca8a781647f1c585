//! `Table` responses (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which
//! `kubectl get` prints: a name column, the kind's printer columns, and an age.

use serde_json::{Value, json};

use crate::backend::ListPage;
use crate::errors::ApiError;
use crate::jsonpath;
use crate::object;
use crate::resources::{Column, ResourceType};

/// Whether the client asked for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|part| part.contains("as=Table"))
}

/// The columns of a kind: Name, its printer columns, and Age unless it has a date column.
pub fn columns(rt: &ResourceType) -> Vec<Column> {
    let mut columns = vec![Column {
        name: "Name".into(),
        type_: "string".into(),
        format: "name".into(),
        description: "Name must be unique within a namespace.".into(),
        priority: 0,
        json_path: ".metadata.name".into(),
    }];
    columns.extend(rt.columns.iter().cloned());
    if !rt
        .columns
        .iter()
        .any(|c| c.json_path == ".metadata.creationTimestamp")
    {
        columns.push(Column {
            name: "Age".into(),
            type_: "date".into(),
            format: String::new(),
            description: "CreationTimestamp is a timestamp representing the server time when this object was created.".into(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        });
    }
    columns
}

fn definitions(columns: &[Column]) -> Vec<Value> {
    columns
        .iter()
        .map(|c| json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}))
        .collect()
}

/// One row for `object`.
pub fn row(rt: &ResourceType, columns: &[Column], object: &Value, include_object: bool) -> Value {
    let cells: Vec<Value> = columns
        .iter()
        .map(|column| {
            let selected = jsonpath::select(object, &column.json_path);
            match column.type_.as_str() {
                "date" => selected
                    .first()
                    .and_then(|v| v.as_str())
                    .map_or(Value::from("<unknown>"), |t| Value::from(human_age(t))),
                "integer" | "number" | "boolean" => {
                    selected.first().map_or(Value::Null, |v| (*v).clone())
                }
                _ => Value::from(jsonpath::cell_text(&selected)),
            }
        })
        .collect();
    let embedded = if include_object {
        object.clone()
    } else {
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object.get("metadata").cloned().unwrap_or(json!({}))})
    };
    let _ = rt;
    json!({"cells": cells, "object": embedded})
}

/// The Table of a list page.
///
/// # Errors
/// 500 when a stored object does not parse.
pub fn from_list(
    rt: &ResourceType,
    page: &ListPage,
    include_object: bool,
) -> Result<Value, ApiError> {
    let columns = columns(rt);
    let mut rows = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let object: Value =
            serde_json::from_slice(item).map_err(|e| ApiError::internal(e.to_string()))?;
        rows.push(row(rt, &columns, &object, include_object));
    }
    let mut metadata = json!({"resourceVersion": page.revision.to_string()});
    if let Some(token) = &page.continue_token {
        metadata["continue"] = Value::from(token.clone());
    }
    Ok(
        json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": definitions(&columns), "rows": rows}),
    )
}

/// The Table of one object.
///
/// # Errors
/// Never for now; the signature leaves room for per-kind printers that can fail.
pub fn from_object(rt: &ResourceType, object: &Value) -> Result<Value, ApiError> {
    let columns = columns(rt);
    let version = object::meta_str(object, "resourceVersion").unwrap_or_default();
    Ok(json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": version},
        "columnDefinitions": definitions(&columns),
        "rows": [row(rt, &columns, object, false)],
    }))
}

/// Kubernetes' human-readable age of an RFC 3339 timestamp (`5m`, `3h12m`, `2d`).
pub fn human_age(timestamp: &str) -> String {
    let Ok(then) = timestamp.parse::<jiff::Timestamp>() else {
        return "<invalid>".to_owned();
    };
    let seconds = (jiff::Timestamp::now().as_second() - then.as_second()).max(0);
    human_duration(seconds)
}

/// `duration.HumanDuration` of apimachinery.
pub fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let hours = seconds / 3600;
    let days = hours / 24;
    let years = days / 365;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 192 {
        let h = hours % 24;
        if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        }
    } else if days < 730 {
        format!("{days}d")
    } else if years < 8 {
        let d = days % 365;
        if d == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{d}d")
        }
    } else {
        format!("{years}y")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl() {
        let cases = [
            (5, "5s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 120, "3h2m"),
            (10 * 3600, "10h"),
            (3 * 86400 + 3600, "3d1h"),
            (30 * 86400, "30d"),
            (800 * 86400, "2y70d"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(seconds), expected, "{seconds}");
        }
    }
}
