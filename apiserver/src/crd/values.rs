//! Validation of a JSON value against a structural schema, as kube-openapi's
//! `validate.SchemaValidator` does it for defaults (type, junctors, string length and
//! pattern, numeric bounds, list sizes, enum, required and forbidden properties), with its
//! errors turned into field errors as `kubeOpenAPIResultToFieldErrors` does.
//!
//! # Caveats
//!
//! String formats (`date-time`, `uri`, ...) and numeric format ranges (`int32`) are not
//! checked. Of several failing `anyOf`/`oneOf` alternatives, the errors of the first are
//! reported (kube-openapi picks the one that matched most checks).

use std::collections::BTreeMap;

use serde_json::Value;

use super::field::{FieldError, Path, go_float, go_quote, render_value, sorted_json};
use super::formats;
use super::structural::{Nested, Structural, ValueValidation};

/// A schema as kube-openapi sees it (`Structural.ToKubeOpenAPI`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    type_: String,
    /// `x-kubernetes-int-or-string`: the type is `integer,string`.
    int_or_string: bool,
    nullable: bool,
    format: String,
    vv: ValueValidation,
    /// `x-kubernetes-list-type`, which decides how list items correlate on update.
    list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`.
    list_map_keys: Vec<String>,
    items: Option<Box<Schema>>,
    properties: BTreeMap<String, Schema>,
    /// `(allows, schema)`.
    additional_properties: Option<(bool, Option<Box<Schema>>)>,
    all_of: Vec<Schema>,
    any_of: Vec<Schema>,
    one_of: Vec<Schema>,
    not: Option<Box<Schema>>,
}

fn junctors(vv: &ValueValidation) -> (Vec<Schema>, Vec<Schema>, Vec<Schema>, Option<Box<Schema>>) {
    (
        vv.all_of.iter().map(Schema::from_nested).collect(),
        vv.any_of.iter().map(Schema::from_nested).collect(),
        vv.one_of.iter().map(Schema::from_nested).collect(),
        vv.not.as_deref().map(|n| Box::new(Schema::from_nested(n))),
    )
}

impl Schema {
    /// Converts a structural schema node.
    pub(crate) fn from_structural(s: &Structural) -> Schema {
        let (all_of, any_of, one_of, not) = junctors(&s.value_validation);
        Schema {
            type_: s.generic.type_.clone(),
            int_or_string: s.extensions.x_int_or_string,
            nullable: s.generic.nullable,
            format: formats::effective(
                &s.generic.type_,
                s.extensions.x_int_or_string,
                &s.value_validation.format,
            ),
            vv: s.value_validation.clone(),
            list_type: s.extensions.x_list_type.clone(),
            list_map_keys: s.extensions.x_list_map_keys.clone().unwrap_or_default(),
            items: s
                .items
                .as_deref()
                .map(|i| Box::new(Schema::from_structural(i))),
            properties: s
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), Schema::from_structural(v)))
                .collect(),
            additional_properties: s.additional_properties.as_ref().map(|ap| {
                (
                    ap.allows,
                    ap.structural
                        .as_deref()
                        .map(|st| Box::new(Schema::from_structural(st))),
                )
            }),
            all_of,
            any_of,
            one_of,
            not,
        }
    }

    fn from_nested(n: &Nested) -> Schema {
        let (all_of, any_of, one_of, not) = junctors(&n.value_validation);
        Schema {
            type_: n.forbidden_generics.type_.clone(),
            int_or_string: n.forbidden_extensions.x_int_or_string,
            nullable: n.forbidden_generics.nullable,
            format: formats::effective(
                &n.forbidden_generics.type_,
                n.forbidden_extensions.x_int_or_string,
                &n.value_validation.format,
            ),
            vv: n.value_validation.clone(),
            list_type: None,
            list_map_keys: Vec::new(),
            items: n.items.as_deref().map(|i| Box::new(Schema::from_nested(i))),
            properties: n
                .properties
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Schema::from_nested(v)))
                .collect(),
            additional_properties: n
                .additional_properties
                .as_deref()
                .map(|ap| (true, Some(Box::new(Schema::from_nested(ap))))),
            all_of,
            any_of,
            one_of,
            not,
        }
    }
}

/// One kube-openapi error before conversion to a field error.
#[derive(Debug, Clone)]
enum Failure {
    /// `errors.Validation`: carries the name (path inside the value) and a code.
    Validation {
        code: Code,
        name: String,
        value: Value,
        valid: i64,
        message: String,
        values: Vec<Value>,
    },
    /// Any other error (the junctor messages): reported on the value's root.
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    InvalidType,
    Required,
    TooLong,
    Enum,
    MaxItems,
    TooManyProperties,
    Other,
}

impl Failure {
    fn validation(code: Code, name: &str, value: Value, message: String) -> Failure {
        Failure::Validation {
            code,
            name: name.to_string(),
            value,
            valid: -1,
            message,
            values: Vec::new(),
        }
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn in_body(name: &str, rest: &str) -> String {
    format!("{name} in body {rest}")
}

/// Validates `data` against `schema`; errors are placed under `base` (the `default` field).
pub(crate) fn validate_value(schema: &Schema, data: &Value, base: &Path) -> Vec<FieldError> {
    validate_update(schema, data, None, base)
}

/// Validates `data` against `schema` as an update of `old`, ratcheting as kube-apiserver
/// does: errors inside a part of the value that is unchanged from its correlated old
/// value (object fields by name, `map` list items by key, `set` items by value) are not
/// reported. With no `old` this is plain validation.
pub(crate) fn validate_update(
    schema: &Schema,
    data: &Value,
    old: Option<&Value>,
    base: &Path,
) -> Vec<FieldError> {
    let mut failures = Vec::new();
    validate(schema, data, old, "", &mut failures);
    failures
        .into_iter()
        .map(|f| to_field_error(f, base))
        .collect()
}

fn to_field_error(f: Failure, base: &Path) -> FieldError {
    match f {
        Failure::Other(message) => FieldError::invalid(base, "", message),
        Failure::Validation {
            code,
            name,
            value,
            valid,
            message,
            values,
        } => {
            let path = if name.is_empty() || name == "." {
                base.clone()
            } else {
                base.child(name.trim_start_matches('.'))
            };
            match code {
                Code::Required => FieldError::required(&path, ""),
                Code::Enum => {
                    let supported: Vec<String> = values
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => sorted_json(other),
                        })
                        .collect();
                    let refs: Vec<&str> = supported.iter().map(String::as_str).collect();
                    FieldError::not_supported(&path, value, &refs)
                }
                Code::TooLong => FieldError::too_long(&path, valid),
                Code::MaxItems | Code::TooManyProperties => {
                    FieldError::too_many(&path, value.as_i64().unwrap_or(-1), valid)
                }
                Code::InvalidType => FieldError::type_invalid(&path, value, message),
                Code::Other => FieldError::invalid(&path, value, message),
            }
        }
    }
}

fn validate(s: &Schema, data: &Value, old: Option<&Value>, path: &str, out: &mut Vec<Failure>) {
    if old.is_some_and(|old| old == data) {
        return;
    }
    if data.is_null() {
        type_check(s, data, path, out);
        enum_check(s, data, path, out);
        return;
    }
    type_check(s, data, path, out);
    junctor_check(s, data, path, out);
    if let Value::String(text) = data {
        string_check(&s.vv, text, path, out);
        format_check(s, text, path, out);
    }
    if let Value::Number(_) = data {
        number_check(&s.vv, data, path, out);
    }
    if let Value::Array(items) = data {
        if let Some(item_schema) = &s.items {
            let old_items = old.and_then(Value::as_array);
            for (i, item) in items.iter().enumerate() {
                let old_item = old_items.and_then(|o| correlated_item(s, o, item));
                validate(item_schema, item, old_item, &format!("{path}[{i}]"), out);
            }
        }
        let size = items.len() as i64;
        if let Some(min) = s.vv.min_items
            && size < min
        {
            out.push(Failure::validation(
                Code::Other,
                path,
                Value::from(size),
                in_body(path, &format!("should have at least {min} items")),
            ));
        }
        if let Some(max) = s.vv.max_items
            && size > max
        {
            out.push(Failure::Validation {
                code: Code::MaxItems,
                name: path.to_string(),
                value: Value::from(size),
                valid: max,
                message: in_body(path, &format!("should have at most {max} items")),
                values: Vec::new(),
            });
        }
    }
    enum_check(s, data, path, out);
    if let Value::Object(map) = data {
        object_check(s, map, old.and_then(Value::as_object), path, out);
    }
}

/// The old item an item of a list correlates with: by key for `map` lists, by value for
/// `set` lists; items of atomic lists do not correlate.
pub(crate) fn correlated_item<'a>(s: &Schema, old: &'a [Value], item: &Value) -> Option<&'a Value> {
    match s.list_type.as_deref() {
        Some("map") => {
            let key = |v: &Value| -> Option<Vec<Option<Value>>> {
                let map = v.as_object()?;
                Some(
                    s.list_map_keys
                        .iter()
                        .map(|k| map.get(k).cloned())
                        .collect(),
                )
            };
            let wanted = key(item)?;
            old.iter().find(|o| key(o).as_ref() == Some(&wanted))
        }
        Some("set") => old.iter().find(|o| *o == item),
        _ => None,
    }
}

/// A string checked against its (known, supported) format.
fn format_check(s: &Schema, text: &str, path: &str, out: &mut Vec<Failure>) {
    if s.format.is_empty() || !formats::known(&s.format) || formats::validates(&s.format, text) {
        return;
    }
    out.push(Failure::validation(
        Code::InvalidType,
        path,
        Value::from(text),
        in_body(
            path,
            &format!("must be of type {}: {}", s.format, go_quote(text)),
        ),
    ));
}

fn type_check(s: &Schema, data: &Value, path: &str, out: &mut Vec<Failure>) {
    if s.type_.is_empty() && s.format.is_empty() && !s.int_or_string {
        return;
    }
    let types: Vec<&str> = if s.int_or_string {
        vec!["integer", "string"]
    } else if s.type_.is_empty() {
        Vec::new()
    } else {
        vec![s.type_.as_str()]
    };
    if data.is_null() {
        if !types.is_empty() && !s.nullable {
            out.push(Failure::validation(
                Code::InvalidType,
                path,
                Value::from("null"),
                in_body(
                    path,
                    &format!("must be of type {}: \"null\"", types.join(",")),
                ),
            ));
        }
        return;
    }
    let sch_type = json_type(data);
    let contains = |t: &str| types.contains(&t);
    let is_float_int = sch_type == "number"
        && data.as_f64().is_some_and(|f| f.fract() == 0.0)
        && contains("integer");
    let is_int_float = sch_type == "integer" && contains("number");
    let is_string_or_slice = matches!(data, Value::String(_) | Value::Array(_));
    let format = match sch_type {
        "integer" => "int64",
        "number" => "double",
        _ => "",
    };
    // A declared format that the value's own type does not account for.
    let format_mismatch =
        !(contains(sch_type) || format == s.format || is_float_int || is_int_float);
    if !is_string_or_slice && !s.format.is_empty() && format_mismatch {
        out.push(Failure::validation(
            Code::InvalidType,
            path,
            Value::from(format),
            in_body(
                path,
                &format!("must be of type {}: {}", s.format, go_quote(format)),
            ),
        ));
        return;
    }
    // kube-openapi skips the type check for strings and lists with a non-numeric format.
    let numeric = contains("number") || contains("integer");
    if !numeric && !s.format.is_empty() && is_string_or_slice {
        return;
    }
    if !(contains(sch_type) || is_float_int || is_int_float) {
        out.push(Failure::validation(
            Code::InvalidType,
            path,
            Value::from(sch_type),
            in_body(
                path,
                &format!(
                    "must be of type {}: {}",
                    types.join(","),
                    go_quote(sch_type)
                ),
            ),
        ));
    }
}

fn is_valid(s: &Schema, data: &Value, path: &str) -> Result<(), Vec<Failure>> {
    let mut failures = Vec::new();
    validate(s, data, None, path, &mut failures);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

fn junctor_check(s: &Schema, data: &Value, path: &str, out: &mut Vec<Failure>) {
    let quoted = go_quote(path);
    if !s.any_of.is_empty() {
        let mut first_failure = None;
        let mut succeeded = false;
        for alt in &s.any_of {
            match is_valid(alt, data, path) {
                Ok(()) => {
                    succeeded = true;
                    break;
                }
                Err(f) => {
                    first_failure.get_or_insert(f);
                }
            }
        }
        if !succeeded {
            out.push(Failure::Other(format!(
                "{quoted} must validate at least one schema (anyOf)"
            )));
            out.extend(first_failure.into_iter().flatten());
        }
    }
    if !s.one_of.is_empty() {
        let mut validated = 0;
        let mut first_failure = None;
        for alt in &s.one_of {
            match is_valid(alt, data, path) {
                Ok(()) => validated += 1,
                Err(f) => {
                    if validated == 0 {
                        first_failure.get_or_insert(f);
                    }
                }
            }
        }
        if validated != 1 {
            let additional = if validated == 0 {
                "Found none valid".to_string()
            } else {
                format!("Found {validated} valid alternatives")
            };
            out.push(Failure::Other(format!(
                "{quoted} must validate one and only one schema (oneOf). {additional}"
            )));
            if validated == 0 {
                out.extend(first_failure.into_iter().flatten());
            }
        }
    }
    if !s.all_of.is_empty() {
        let mut validated = 0;
        for alt in &s.all_of {
            match is_valid(alt, data, path) {
                Ok(()) => validated += 1,
                Err(f) => out.extend(f),
            }
        }
        if validated != s.all_of.len() {
            let additional = if validated == 0 {
                ". None validated"
            } else {
                ""
            };
            out.push(Failure::Other(format!(
                "{quoted} must validate all the schemas (allOf){additional}"
            )));
        }
    }
    if let Some(not) = &s.not
        && is_valid(not, data, path).is_ok()
    {
        out.push(Failure::Other(format!(
            "{quoted} must not validate the schema (not)"
        )));
    }
}

fn string_check(vv: &ValueValidation, text: &str, path: &str, out: &mut Vec<Failure>) {
    let len = text.chars().count() as i64;
    let value = Value::from(text);
    if let Some(max) = vv.max_length
        && len > max
    {
        out.push(Failure::Validation {
            code: Code::TooLong,
            name: path.to_string(),
            value,
            valid: max,
            message: in_body(path, &format!("should be at most {max} chars long")),
            values: Vec::new(),
        });
        return;
    }
    if let Some(min) = vv.min_length
        && len < min
    {
        out.push(Failure::validation(
            Code::Other,
            path,
            value,
            in_body(path, &format!("should be at least {min} chars long")),
        ));
        return;
    }
    if !vv.pattern.is_empty() {
        match regex::Regex::new(&vv.pattern) {
            Ok(re) if re.is_match(text) => {}
            Ok(_) => out.push(Failure::validation(
                Code::Other,
                path,
                value,
                in_body(path, &format!("should match '{}'", vv.pattern)),
            )),
            Err(err) => out.push(Failure::validation(
                Code::Other,
                path,
                value,
                in_body(
                    path,
                    &format!(
                        "should match '{}, but pattern is invalid: {err}'",
                        vv.pattern
                    ),
                ),
            )),
        }
    }
}

fn number_check(vv: &ValueValidation, data: &Value, path: &str, out: &mut Vec<Failure>) {
    let Some(n) = data.as_f64() else { return };
    if let Some(factor) = vv.multiple_of {
        if factor <= 0.0 {
            out.push(Failure::validation(
                Code::Other,
                path,
                Value::from(factor),
                format!(
                    "factor MultipleOf declared for {path} must be positive: {}",
                    go_float(factor)
                ),
            ));
        } else if (n / factor).fract() != 0.0 {
            out.push(Failure::validation(
                Code::Other,
                path,
                data.clone(),
                in_body(
                    path,
                    &format!("should be a multiple of {}", go_float(factor)),
                ),
            ));
        }
    }
    if let Some(min) = vv.minimum {
        let (fails, words) = if vv.exclusive_minimum {
            (n <= min, "should be greater than")
        } else {
            (n < min, "should be greater than or equal to")
        };
        if fails {
            out.push(Failure::validation(
                Code::Other,
                path,
                data.clone(),
                in_body(path, &format!("{words} {}", go_float(min))),
            ));
        }
    }
    if let Some(max) = vv.maximum {
        let (fails, words) = if vv.exclusive_maximum {
            (n >= max, "should be less than")
        } else {
            (n > max, "should be less than or equal to")
        };
        if fails {
            out.push(Failure::validation(
                Code::Other,
                path,
                data.clone(),
                in_body(path, &format!("{words} {}", go_float(max))),
            ));
        }
    }
}

fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn enum_check(s: &Schema, data: &Value, path: &str, out: &mut Vec<Failure>) {
    let values = &s.vv.enum_;
    if values.is_empty() || values.iter().any(|v| json_equal(v, data)) {
        return;
    }
    let listed: Vec<String> = values.iter().map(render_value).collect();
    out.push(Failure::Validation {
        code: Code::Enum,
        name: path.to_string(),
        value: data.clone(),
        valid: -1,
        message: in_body(path, &format!("should be one of [{}]", listed.join(" "))),
        values: values.clone(),
    });
}

fn object_check(
    s: &Schema,
    map: &serde_json::Map<String, Value>,
    old: Option<&serde_json::Map<String, Value>>,
    path: &str,
    out: &mut Vec<Failure>,
) {
    // apiVersion and kind of the resource root are not correlated (they are converted).
    let old_of = |k: &str| -> Option<&Value> {
        if path.is_empty() && (k == "apiVersion" || k == "kind") {
            return None;
        }
        old.and_then(|o| o.get(k))
    };
    let count = map.len() as i64;
    if let Some(min) = s.vv.min_properties
        && count < min
    {
        out.push(Failure::validation(
            Code::Other,
            path,
            Value::from(min),
            in_body(path, &format!("should have at least {min} properties")),
        ));
    }
    if let Some(max) = s.vv.max_properties
        && count > max
    {
        out.push(Failure::Validation {
            code: Code::TooManyProperties,
            name: path.to_string(),
            value: Value::from(count),
            valid: max,
            message: in_body(path, &format!("should have at most {max} properties")),
            values: Vec::new(),
        });
    }
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    match &s.additional_properties {
        Some((false, _)) => {
            for k in &keys {
                if !s.properties.contains_key(*k) {
                    out.push(Failure::validation(
                        Code::Other,
                        path,
                        Value::from(k.as_str()),
                        format!("{path}.{k} in body is a forbidden property"),
                    ));
                }
            }
        }
        Some((true, Some(ap))) => {
            for k in &keys {
                if !s.properties.contains_key(*k) {
                    validate(ap, &map[*k], old_of(k), &format!("{path}.{k}"), out);
                }
            }
        }
        _ => {}
    }
    for (name, prop) in &s.properties {
        if let Some(v) = map.get(name) {
            let child = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            validate(prop, v, old_of(name), &child, out);
        }
    }
    for k in s.vv.required.iter().flatten() {
        if !map.contains_key(k) {
            out.push(Failure::validation(
                Code::Required,
                &format!("{path}.{k}"),
                Value::Null,
                in_body(&format!("{path}.{k}"), "is required"),
            ));
        }
    }
}
