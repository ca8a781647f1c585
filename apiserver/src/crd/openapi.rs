//! The OpenAPI-level checks on every schema node (`ValidateCustomResourceDefinitionOpenAPISchema`
//! and its `specStandardValidatorV3`): forbidden keywords, where defaults may appear, the
//! list/map extensions and the shape of `x-kubernetes-validations`.
//!
//! # Caveats
//!
//! `x-kubernetes-validations` rules are not compiled: we check their shape (a non-empty
//! `rule`, messages without line breaks, a supported `reason`, a `fieldPath` that names a
//! field of the schema), not that they are valid CEL, nor their cost. `optionalOldSelf` is
//! refused when the rule does not mention `oldSelf`, judged from the rule's text.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::field::{FieldError, Path};
use super::structural::{Structural, new_structural};
use super::types::{Props, PropsOrArray, PropsOrStringArray};

const OPENAPI_V3_TYPES: &[&str] = &["array", "boolean", "integer", "number", "object", "string"];
const META_FIELDS: &[&str] = &["metadata", "kind", "apiVersion"];
const SUPPORTED_REASONS: &[&str] = &[
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueInvalid",
    "FieldValueRequired",
];

/// What a node's ancestors allow (`specStandardValidatorV3`).
#[derive(Debug, Clone)]
pub(crate) struct Context {
    allow_defaults: bool,
    disallow_defaults_reason: String,
    inside_resource_meta: bool,
    /// Whether Kubernetes would look at `x-kubernetes-validations` as CEL (it does only
    /// when the whole schema is structural with valid defaults).
    cel: bool,
}

impl Context {
    /// The context of a schema root: defaults allowed, outside of metadata.
    pub(crate) fn root(cel: bool) -> Self {
        Context {
            allow_defaults: true,
            disallow_defaults_reason: String::new(),
            inside_resource_meta: false,
            cel,
        }
    }

    fn with_forbidden_defaults(&self, reason: String) -> Self {
        Context {
            allow_defaults: false,
            disallow_defaults_reason: reason,
            ..self.clone()
        }
    }

    fn with_inside_resource_meta(&self) -> Self {
        Context {
            inside_resource_meta: true,
            ..self.clone()
        }
    }
}

/// Validates `schema` at `path` and everything under it, appending to `errs`.
pub(crate) fn validate_schema(
    schema: &Props,
    path: &Path,
    ctx: &Context,
    is_root: bool,
    errs: &mut Vec<FieldError>,
) {
    let before = errs.len();
    standard(schema, path, ctx, errs);

    if schema.unique_items {
        errs.push(FieldError::forbidden(
            &path.child("uniqueItems"),
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ));
    }

    if let Some(ap) = &schema.additional_properties {
        if schema.props().next().is_some() && (!ap.allows() || ap.schema().is_some()) {
            errs.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        let sub = if ctx.inside_resource_meta {
            ctx.with_forbidden_defaults(
                "inside additionalProperties applying to object metadata".to_string(),
            )
        } else {
            ctx.clone()
        };
        if let Some(s) = ap.schema() {
            validate_schema(s, &path.child("additionalProperties"), &sub, false, errs);
        }
    }

    for (name, property) in schema.props() {
        let mut sub = ctx.clone();
        if (is_root || schema.x_embedded_resource) && META_FIELDS.contains(&name.as_str()) {
            sub = sub.with_inside_resource_meta();
            if is_root {
                sub = sub.with_forbidden_defaults(format!("in top-level {name}"));
            }
        }
        validate_schema(
            property,
            &path.child("properties").key(name),
            &sub,
            false,
            errs,
        );
    }

    if let Some(not) = &schema.not {
        validate_schema(not, &path.child("not"), ctx, false, errs);
    }
    for (junctor, list) in [
        ("allOf", &schema.all_of),
        ("oneOf", &schema.one_of),
        ("anyOf", &schema.any_of),
    ] {
        for (i, s) in list.iter().flatten().enumerate() {
            validate_schema(s, &path.child(junctor).index(i), ctx, false, errs);
        }
    }
    for (name, s) in schema.definitions.iter().flatten() {
        validate_schema(s, &path.child("definitions").key(name), ctx, false, errs);
    }
    match &schema.items {
        Some(PropsOrArray::Schema(s)) => validate_schema(s, &path.child("items"), ctx, false, errs),
        Some(PropsOrArray::Array(list)) => {
            for (i, s) in list.iter().enumerate() {
                validate_schema(s, &path.child("items").index(i), ctx, false, errs);
            }
        }
        None => {}
    }
    for (name, dep) in schema.dependencies.iter().flatten() {
        if let PropsOrStringArray::Schema(s) = dep {
            validate_schema(s, &path.child("dependencies").key(name), ctx, false, errs);
        }
    }

    if schema.x_preserve_unknown_fields == Some(false) {
        errs.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }

    list_and_map_types(schema, path, errs);
    map_list_keys_map_set(schema, path, errs);
    validation_rules(schema, path, ctx.cel, before, errs);
}

/// `specStandardValidatorV3.validate`: keywords a CRD schema may not use.
fn standard(schema: &Props, path: &Path, ctx: &Context, errs: &mut Vec<FieldError>) {
    let ty = schema.type_.as_str();
    if !ty.is_empty() && !OPENAPI_V3_TYPES.contains(&ty) {
        errs.push(FieldError::not_supported(
            &path.child("type"),
            ty,
            OPENAPI_V3_TYPES,
        ));
    }
    if schema.default.is_some() && !ctx.allow_defaults {
        let mut detail = "must not be set".to_string();
        if !ctx.disallow_defaults_reason.is_empty() {
            detail.push(' ');
            detail.push_str(&ctx.disallow_defaults_reason);
        }
        errs.push(FieldError::forbidden(&path.child("default"), detail));
    }
    if !schema.id.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("id"),
            "id is not supported",
        ));
    }
    if schema.additional_items.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("additionalItems"),
            "additionalItems is not supported",
        ));
    }
    if schema
        .pattern_properties
        .as_ref()
        .is_some_and(|m| !m.is_empty())
    {
        errs.push(FieldError::forbidden(
            &path.child("patternProperties"),
            "patternProperties is not supported",
        ));
    }
    if schema.definitions.as_ref().is_some_and(|m| !m.is_empty()) {
        errs.push(FieldError::forbidden(
            &path.child("definitions"),
            "definitions is not supported",
        ));
    }
    if schema.dependencies.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("dependencies"),
            "dependencies is not supported",
        ));
    }
    if schema.reference.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("$ref"),
            "$ref is not supported",
        ));
    }
    if ty == "null" {
        errs.push(FieldError::forbidden(
            &path.child("type"),
            "type cannot be set to null, use nullable as an alternative",
        ));
    }
    if matches!(&schema.items, Some(PropsOrArray::Array(list)) if !list.is_empty()) {
        errs.push(FieldError::forbidden(
            &path.child("items"),
            "items must be a schema object and not an array",
        ));
    }
    if ctx.inside_resource_meta && schema.x_embedded_resource {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-embedded-resource"),
            "must not be used inside of resource meta",
        ));
    }
}

fn type_must_be(schema: &Props, path: &Path, ty: &str, msg: &str) -> FieldError {
    if schema.type_.is_empty() {
        FieldError::required(&path.child("type"), msg)
    } else {
        FieldError::invalid(&path.child("type"), ty, msg)
    }
}

fn list_and_map_types(schema: &Props, path: &Path, errs: &mut Vec<FieldError>) {
    let ty = schema.type_.as_str();
    if let Some(map_type) = &schema.x_map_type {
        if ty != "object" {
            errs.push(type_must_be(
                schema,
                path,
                ty,
                "must be object if x-kubernetes-map-type is specified",
            ));
        }
        if map_type != "atomic" && map_type != "granular" {
            errs.push(FieldError::not_supported(
                &path.child("x-kubernetes-map-type"),
                map_type.as_str(),
                &["atomic", "granular"],
            ));
        }
    }

    let list_type = schema.x_list_type.as_deref();
    if list_type.is_some() && ty != "array" {
        errs.push(type_must_be(
            schema,
            path,
            ty,
            "must be array if x-kubernetes-list-type is specified",
        ));
    } else if list_type == Some("set")
        && let Some(items) = schema.items_schema()
    {
        let msg = "must be atomic as item of a list with x-kubernetes-list-type=set";
        let items_list_type = items
            .x_list_type
            .as_deref()
            .map_or(serde_json::Value::Null, |t| t.into());
        match items.type_.as_str() {
            "array" if items.x_list_type.as_deref().is_some_and(|t| t != "atomic") => {
                errs.push(FieldError::invalid(
                    &path.child("items").child("x-kubernetes-list-type"),
                    items_list_type,
                    msg,
                ));
            }
            // Kubernetes reports the items' list type here, not their map type.
            "object" if items.x_map_type.as_deref() != Some("atomic") => {
                errs.push(FieldError::invalid(
                    &path.child("items").child("x-kubernetes-map-type"),
                    items_list_type,
                    msg,
                ));
            }
            _ => {}
        }
    }
    if let Some(lt) = list_type
        && !["atomic", "set", "map"].contains(&lt)
    {
        errs.push(FieldError::not_supported(
            &path.child("x-kubernetes-list-type"),
            lt,
            &["atomic", "set", "map"],
        ));
    }

    let keys = schema.x_list_map_keys.clone().unwrap_or_default();
    if !keys.is_empty() {
        let msg = "must be map if x-kubernetes-list-map-keys is non-empty";
        match list_type {
            None => errs.push(FieldError::required(
                &path.child("x-kubernetes-list-type"),
                msg,
            )),
            Some(lt) if lt != "map" => {
                errs.push(FieldError::invalid(
                    &path.child("x-kubernetes-list-type"),
                    lt,
                    msg,
                ));
            }
            _ => {}
        }
    }

    if list_type == Some("map") {
        if keys.is_empty() {
            errs.push(FieldError::required(
                &path.child("x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
        match &schema.items {
            None => errs.push(FieldError::required(
                &path.child("items"),
                "must have a schema if x-kubernetes-list-type is map",
            )),
            Some(PropsOrArray::Array(list)) => {
                let raw: Vec<serde_json::Value> = list.iter().map(|p| p.raw.clone()).collect();
                errs.push(FieldError::invalid(
                    &path.child("items"),
                    raw,
                    "must only have a single schema if x-kubernetes-list-type is map",
                ));
            }
            Some(PropsOrArray::Schema(items)) if items.type_ != "object" => {
                errs.push(FieldError::invalid(
                    &path.child("items").child("type"),
                    items.type_.as_str(),
                    "must be object if parent array's x-kubernetes-list-type is map",
                ));
            }
            Some(PropsOrArray::Schema(items)) => {
                let mut seen: Vec<&str> = Vec::new();
                for k in &keys {
                    match items.property(k) {
                        Some(p) if p.type_ == "array" || p.type_ == "object" => {
                            // Kubernetes shows the items' type as the bad value.
                            errs.push(FieldError::invalid(
                                &path.child("items").child("properties").key(k).child("type"),
                                items.type_.as_str(),
                                "must be a scalar type if parent array's x-kubernetes-list-type is map",
                            ));
                        }
                        Some(_) => {}
                        None => errs.push(FieldError::invalid(
                            &path.child("x-kubernetes-list-map-keys"),
                            keys.clone(),
                            "entries must all be names of item properties",
                        )),
                    }
                    if seen.contains(&k.as_str()) {
                        errs.push(FieldError::invalid(
                            &path.child("x-kubernetes-list-map-keys"),
                            keys.clone(),
                            "must not contain duplicate entries",
                        ));
                    }
                    seen.push(k);
                }
            }
        }
    }
}

/// `validateMapListKeysMapSet`: items of set and map lists are not nullable, and map keys
/// are required or defaulted, and not nullable.
fn map_list_keys_map_set(schema: &Props, path: &Path, errs: &mut Vec<FieldError>) {
    let Some(items) = schema.items_schema() else {
        return;
    };
    let Some(list_type) = schema.x_list_type.as_deref() else {
        return;
    };
    if list_type != "set" && list_type != "map" {
        return;
    }
    if items.nullable {
        errs.push(FieldError::forbidden(
            &path.child("items").child("nullable"),
            format!("cannot be nullable when x-kubernetes-list-type is {list_type}"),
        ));
    }
    if list_type == "map" {
        let required = items.required.clone().unwrap_or_default();
        for k in schema.x_list_map_keys.iter().flatten() {
            let Some(p) = items.property(k) else { continue };
            let key_path = path.child("items").child("properties").key(k);
            if !required.contains(k) && p.default.is_none() {
                errs.push(FieldError::required(
                    &key_path.child("default"),
                    "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                ));
            }
            if p.nullable {
                errs.push(FieldError::forbidden(
                    &key_path.child("nullable"),
                    "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                ));
            }
        }
    }
}

fn has_newlines(s: &str) -> bool {
    s.contains(['\n', '\r'])
}

static OLD_SELF: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"\boldSelf\b").expect("constant pattern")
});

/// The shape of `x-kubernetes-validations` (CEL itself is not compiled).
fn validation_rules(
    schema: &Props,
    path: &Path,
    cel: bool,
    errors_before_node: usize,
    errs: &mut Vec<FieldError>,
) {
    let Some(rules) = &schema.x_validations else {
        return;
    };
    let mut cel_errors = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let rule_path = path.child("x-kubernetes-validations").index(i);
        let trimmed_rule = rule.rule.trim();
        let trimmed_msg = rule.message.trim();
        if trimmed_rule.is_empty() {
            errs.push(FieldError::required(
                &rule_path.child("rule"),
                "rule is not specified",
            ));
        } else if !rule.message.is_empty() && trimmed_msg.is_empty() {
            errs.push(FieldError::invalid(
                &rule_path.child("message"),
                rule.message.as_str(),
                "must be non-empty if specified",
            ));
        } else if has_newlines(trimmed_msg) {
            errs.push(FieldError::invalid(
                &rule_path.child("message"),
                rule.message.as_str(),
                "must not contain line breaks",
            ));
        } else if has_newlines(trimmed_rule) && trimmed_msg.is_empty() {
            errs.push(FieldError::required(
                &rule_path.child("message"),
                "message must be specified if rule contains line breaks",
            ));
        }
        if !rule.message_expression.is_empty() && rule.message_expression.trim().is_empty() {
            errs.push(FieldError::required(
                &rule_path.child("messageExpression"),
                "messageExpression must be non-empty if specified",
            ));
        }
        if let Some(reason) = &rule.reason
            && !SUPPORTED_REASONS.contains(&reason.as_str())
        {
            errs.push(FieldError::not_supported(
                &rule_path.child("reason"),
                reason.as_str(),
                SUPPORTED_REASONS,
            ));
        }
        if !rule.field_path.is_empty() && rule.field_path.trim().is_empty() {
            errs.push(FieldError::invalid(
                &rule_path.child("fieldPath"),
                rule.field_path.as_str(),
                "must be non-empty if specified",
            ));
        }
        if has_newlines(&rule.field_path) {
            errs.push(FieldError::invalid(
                &rule_path.child("fieldPath"),
                rule.field_path.as_str(),
                "must not contain line breaks",
            ));
        }
        if !rule.field_path.is_empty() && !path_valid(schema, &rule.field_path) {
            errs.push(FieldError::invalid(
                &rule_path.child("fieldPath"),
                rule.field_path.as_str(),
                "must be a valid path",
            ));
        }
        if let Some(optional) = rule.optional_old_self
            && !trimmed_rule.is_empty()
            && !OLD_SELF.is_match(&rule.rule)
        {
            cel_errors.push(FieldError::invalid(
                &rule_path.child("optionalOldSelf"),
                optional,
                "may not be set if oldSelf is not used in rule",
            ));
        }
    }
    for (i, field, message) in super::cel::compile_errors(rules) {
        let rule = &rules[i];
        cel_errors.push(FieldError::invalid(
            &path.child("x-kubernetes-validations").index(i).child(field),
            rule_json(rule),
            message,
        ));
    }
    // Kubernetes only looks at the rules as CEL when the schema here and below is sound.
    if cel && errs.len() == errors_before_node {
        errs.extend(cel_errors);
    }
}

/// A rule as the JSON it was given (Go prints its internal struct).
fn rule_json(rule: &super::types::Rule) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("rule".into(), Value::from(rule.rule.as_str()));
    for (key, value) in [
        ("message", &rule.message),
        ("messageExpression", &rule.message_expression),
        ("fieldPath", &rule.field_path),
    ] {
        if !value.is_empty() {
            out.insert(key.into(), Value::from(value.as_str()));
        }
    }
    if let Some(reason) = &rule.reason {
        out.insert("reason".into(), Value::from(reason.as_str()));
    }
    if let Some(optional) = rule.optional_old_self {
        out.insert("optionalOldSelf".into(), Value::from(optional));
    }
    Value::Object(out)
}

fn path_valid(schema: &Props, field_path: &str) -> bool {
    match new_structural(schema) {
        Ok(s) => valid_field_path(field_path, &s, true).is_ok(),
        Err(_) => true,
    }
}

/// `cel.ValidFieldPath`: resolves a JSON path such as `.spec.replicas` or
/// `.spec['a.b']` against a structural schema. Returns the field path it names (keys of
/// additionalProperties in brackets) and the schema it ends at.
pub(crate) fn valid_field_path<'a>(
    json_path: &str,
    mut schema: &'a Structural,
    allow_array_notation: bool,
) -> Result<(Path, &'a Structural), String> {
    let tokens = tokenize(json_path);
    let mut segments = Path::new("");
    let mut i = 0;
    let step = |name: String, schema: &mut &'a Structural, path: &mut Path| -> Result<(), String> {
        if !schema.properties.is_empty() {
            let next = schema
                .properties
                .get(&name)
                .ok_or("does not refer to a valid field")?;
            *schema = next;
            *path = path.child(&name);
            Ok(())
        } else if let Some(ap) = &schema.additional_properties {
            let next = ap
                .structural
                .as_deref()
                .ok_or("does not refer to a valid field")?;
            *schema = next;
            *path = path.key(&name);
            Ok(())
        } else {
            Err("does not refer to a valid field".to_string())
        }
    };
    while i < tokens.len() {
        let tok = tokens[i].as_str();
        match tok {
            "[" => {
                if !allow_array_notation {
                    return Err("array notation is not allowed".to_string());
                }
                let quoted = tokens.get(i + 1).ok_or("unexpected end of JSON path")?;
                if quoted.len() < 2 || !quoted.starts_with('\'') || !quoted.ends_with('\'') {
                    return Err(format!("expected single quoted string but got {quoted}"));
                }
                let name = unescape_single_quote(&quoted[1..quoted.len() - 1])
                    .map_err(|e| format!("invalid string literal: {e}"))?;
                step(name, &mut schema, &mut segments)?;
                let close = tokens.get(i + 2).ok_or("unexpected end of JSON path")?;
                if close != "]" {
                    return Err(format!("expected ] but got {close}"));
                }
                i += 3;
            }
            "." => {
                let name = tokens.get(i + 1).ok_or("unexpected end of JSON path")?;
                step(name.clone(), &mut schema, &mut segments)?;
                i += 2;
            }
            other => return Err(format!("expected [ or . but got: {other}")),
        }
    }
    Ok((segments, schema))
}

/// Splits a JSON path into the delimiters `.`, `[`, `]` and the text between them, keeping
/// single-quoted strings whole.
fn tokenize(s: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            while j < chars.len() && !(chars[j] == '\'' && chars[j - 1] != '\\') {
                j += 1;
            }
            let end = (j + 1).min(chars.len());
            tokens.push(chars[i..end].iter().collect());
            i = end;
        } else if matches!(c, '.' | '[' | ']') {
            tokens.push(c.to_string());
            i += 1;
        } else {
            let mut j = i;
            while j < chars.len() && !matches!(chars[j], '.' | '[' | ']') {
                j += 1;
            }
            tokens.push(chars[i..j].iter().collect());
            i = j;
        }
    }
    tokens
}

fn unescape_single_quote(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\'' | '\\')) => out.push(e),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => return Err(format!("invalid escape sequence \\{other}")),
                None => return Err("unterminated escape sequence".to_string()),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}
