//! `Table` responses (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which
//! `kubectl get` prints: the columns of a built-in kind's printer ([`crate::printers`]) or a
//! CRD version's `additionalPrinterColumns`, one row per object, and each row's object as
//! `includeObject` asks (`None`, `Metadata` by default, or `Object`).

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::backend::ListPage;
use crate::errors::ApiError;
use crate::jsonpath;
use crate::object;
use crate::printers::{self, ColumnDefinition, Printer};
use crate::resources::{Codec, Column, ResourceType};

/// Whether the client asked for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|part| part.contains("as=Table"))
}

/// What each row carries as its `object` (the `includeObject` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Include {
    /// No object.
    None,
    /// The object's metadata as a `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The whole object (kubectl asks for it with `--sort-by`).
    Object,
}

impl Include {
    /// Parses the `includeObject` query parameter.
    ///
    /// # Errors
    /// 400 for a value other than `None`, `Metadata` or `Object`.
    pub fn parse(value: Option<&str>) -> Result<Include, ApiError> {
        match value {
            None | Some("" | "Metadata") => Ok(Include::Metadata),
            Some("None") => Ok(Include::None),
            Some("Object") => Ok(Include::Object),
            Some(other) => Err(ApiError::bad_request(format!(
                "includeObject: Unsupported value: {other:?}: supported values: \"Metadata\", \"None\", \"Object\""
            ))),
        }
    }
}

/// How the rows of a type are made: a built-in printer, or a CRD's JSONPath columns.
#[derive(Debug)]
pub enum Layout {
    /// A built-in kind (or the default `Name`/`Created At` printer).
    Printer(&'static Printer),
    /// A custom resource: `Name`, then the version's printer columns.
    Custom(Vec<Column>),
}

impl Layout {
    /// The layout of a served type.
    pub fn of(rt: &ResourceType) -> Layout {
        match rt.codec {
            Codec::Builtin(_) => Layout::Printer(printers::for_kind(&rt.group, &rt.kind)),
            Codec::Custom(_) if rt.columns.is_empty() => Layout::Custom(vec![Column {
                name: "Age".into(),
                type_: "date".into(),
                format: String::new(),
                description: printers::for_kind("", "")
                    .columns
                    .get(1)
                    .map(|c| c.description.clone())
                    .unwrap_or_default(),
                priority: 0,
                json_path: ".metadata.creationTimestamp".into(),
            }]),
            Codec::Custom(_) => Layout::Custom(rt.columns.clone()),
        }
    }

    /// The column definitions, the name column first.
    pub fn definitions(&self) -> Vec<ColumnDefinition> {
        match self {
            Layout::Printer(printer) => printer.columns.clone(),
            Layout::Custom(columns) => std::iter::once(printers::name_column())
                .chain(columns.iter().map(|c| ColumnDefinition {
                    name: c.name.clone(),
                    type_: c.type_.clone(),
                    format: c.format.clone(),
                    description: if c.description.is_empty() {
                        format!(
                            "Custom resource definition column (in JSONPath format): {}",
                            c.json_path
                        )
                    } else {
                        c.description.clone()
                    },
                    priority: c.priority,
                }))
                .collect(),
        }
    }

    /// The row of one object.
    pub fn row(&self, object: &Value, include: Include, now: Timestamp) -> Value {
        let (cells, conditions) = match self {
            Layout::Printer(printer) => {
                ((printer.cells)(object, now), (printer.conditions)(object))
            }
            Layout::Custom(columns) => {
                let mut cells = vec![Value::from(object::name(object).unwrap_or_default())];
                cells.extend(columns.iter().map(|c| custom_cell(c, object, now)));
                (cells, None)
            }
        };
        let mut row = json!({"cells": cells});
        if let Some(conditions) = conditions {
            row["conditions"] = conditions;
        }
        match include {
            Include::None => {}
            Include::Metadata => {
                row["object"] = json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
                });
            }
            Include::Object => row["object"] = object.clone(),
        }
        row
    }
}

/// The cell of a CRD printer column, as kube-apiserver computes it: the first value the
/// JSONPath selects, typed by the column (`null`, shown as `<none>`, when nothing matches
/// or the value has another type); `date` columns become an age.
fn custom_cell(column: &Column, object: &Value, now: Timestamp) -> Value {
    let Some(value) = jsonpath::select(object, &column.json_path)
        .into_iter()
        .next()
        .filter(|v| !v.is_null())
    else {
        return Value::Null;
    };
    match column.type_.as_str() {
        "string" => Value::from(match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => match n.as_f64() {
                // Go prints whole floats without a fraction.
                Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => {
                    format!("{f:.0}")
                }
                _ => n.to_string(),
            },
            other => other.to_string(),
        }),
        "integer" => match value {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
                .map_or(Value::Null, Value::from),
            _ => Value::Null,
        },
        "number" => match value {
            Value::Number(n) => n.as_f64().map_or(Value::Null, Value::from),
            _ => Value::Null,
        },
        "boolean" => match value {
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Null,
        },
        "date" => match value.as_str() {
            Some(time) => Value::from(time.parse::<Timestamp>().map_or_else(
                |_| "<invalid>".to_owned(),
                |t| printers::human_duration(now.as_second() - t.as_second()),
            )),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

fn definitions_json(layout: &Layout) -> Vec<Value> {
    layout
        .definitions()
        .iter()
        .map(ColumnDefinition::to_json)
        .collect()
}

/// The Table of a list page.
///
/// # Errors
/// 500 when a stored object does not parse.
pub fn from_list(rt: &ResourceType, page: &ListPage, include: Include) -> Result<Value, ApiError> {
    let layout = Layout::of(rt);
    let now = Timestamp::now();
    let mut rows = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let object: Value =
            serde_json::from_slice(item).map_err(|e| ApiError::internal(e.to_string()))?;
        rows.push(layout.row(&object, include, now));
    }
    let mut metadata = json!({"resourceVersion": page.revision.to_string()});
    if let Some(token) = &page.continue_token {
        metadata["continue"] = Value::from(token.clone());
    }
    Ok(json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions_json(&layout),
        "rows": rows,
    }))
}

/// The Table of one object. Watches send the column definitions with their first event
/// only (`with_definitions`), as kube-apiserver does; kubectl reuses the last ones.
pub fn from_object(
    rt: &ResourceType,
    object: &Value,
    include: Include,
    with_definitions: bool,
) -> Value {
    let layout = Layout::of(rt);
    let version = object::meta_str(object, "resourceVersion").unwrap_or_default();
    let definitions = if with_definitions {
        definitions_json(&layout)
    } else {
        Vec::new()
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": version},
        "columnDefinitions": definitions,
        "rows": [layout.row(object, include, Timestamp::now())],
    })
}

/// The Table of a `Scale` (`kubectl get --subresource=scale`).
pub fn of_scale(scale: &Value, include: Include) -> Value {
    let layout = Layout::Printer(printers::for_kind("autoscaling", "Scale"));
    let version = object::meta_str(scale, "resourceVersion").unwrap_or_default();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": version},
        "columnDefinitions": definitions_json(&layout),
        "rows": [layout.row(scale, include, Timestamp::now())],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{CustomResourceSchema, NameRule};
    use std::sync::Arc;

    fn custom(columns: Vec<Column>) -> ResourceType {
        ResourceType {
            group: "source.toolkit.fluxcd.io".into(),
            version: "v1".into(),
            kind: "GitRepository".into(),
            plural: "gitrepositories".into(),
            singular: "gitrepository".into(),
            short_names: vec![],
            categories: vec![],
            namespaced: true,
            status_subresource: true,
            scale: None,
            has_generation: true,
            codec: Codec::Custom(Arc::new(CustomResourceSchema {
                crd_name: "gitrepositories.source.toolkit.fluxcd.io".into(),
                schema: Value::Null,
                compiled: crate::crd::ResourceSchema::new(&Value::Null).map(Arc::new),
            })),
            name_rule: NameRule::Subdomain,
            columns,
            selectable_fields: vec![],
            storage: ("source.toolkit.fluxcd.io".into(), "gitrepositories".into()),
            storage_version: true,
        }
    }

    fn col(name: &str, type_: &str, path: &str) -> Column {
        Column {
            name: name.into(),
            type_: type_.into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: path.into(),
        }
    }

    #[test]
    fn include_object_accepts_the_three_modes_only() {
        assert_eq!(Include::parse(None).unwrap(), Include::Metadata);
        assert_eq!(Include::parse(Some("Object")).unwrap(), Include::Object);
        assert_eq!(Include::parse(Some("None")).unwrap(), Include::None);
        assert_eq!(Include::parse(Some("true")).unwrap_err().code, 400);
    }

    #[test]
    fn crd_columns_take_the_first_value_typed_by_the_column() {
        let rt = custom(vec![
            col("URL", "string", ".spec.url"),
            col(
                "Ready",
                "string",
                ".status.conditions[?(@.type==\"Ready\")].status",
            ),
            col("Port", "string", ".spec.ports[*].port"),
            col("Replicas", "integer", ".spec.replicas"),
            col("Weight", "number", ".spec.weight"),
            col("Suspended", "boolean", ".spec.suspend"),
            col("Wrong", "integer", ".spec.url"),
            col("Missing", "string", ".spec.missing"),
            col("Age", "date", ".metadata.creationTimestamp"),
            col("Ratio", "string", ".spec.ratio"),
        ]);
        let object = json!({
            "metadata": {"name": "podinfo", "creationTimestamp": "2026-11-22T11:00:00Z"},
            "spec": {"url": "https://x", "ports": [{"port": 80}, {"port": 443}], "replicas": 2.0,
                     "weight": 5, "suspend": false, "ratio": 3.0},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        });
        let now: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let row = Layout::of(&rt).row(&object, Include::None, now);
        assert_eq!(
            row,
            json!({"cells": ["podinfo", "https://x", "True", "80", 2, 5.0, false, null, null, "60m", "3"]})
        );
    }

    #[test]
    fn a_crd_without_printer_columns_gets_an_age_column() {
        let layout = Layout::of(&custom(vec![]));
        let names: Vec<String> = layout.definitions().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["Name", "Age"]);
        let with_columns = Layout::of(&custom(vec![col("URL", "string", ".spec.url")]));
        let names: Vec<String> = with_columns
            .definitions()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["Name", "URL"]);
    }

    #[test]
    fn rows_carry_metadata_by_default_and_the_object_when_asked() {
        let layout = Layout::of(&custom(vec![]));
        let object =
            json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {}});
        let now = Timestamp::now();
        let metadata = layout.row(&object, Include::Metadata, now);
        assert_eq!(metadata["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(metadata["object"]["metadata"]["name"], "a");
        assert_eq!(layout.row(&object, Include::Object, now)["object"], object);
        assert!(
            layout
                .row(&object, Include::None, now)
                .get("object")
                .is_none()
        );
    }
}
