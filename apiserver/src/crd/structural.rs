//! Structural schemas: the typed shape of `pkg/apiserver/schema` (`Structural`,
//! `NestedValueValidation`), the conversion from a JSONSchemaProps tree (`NewStructural`)
//! and the structural invariants (`ValidateStructural`).
//!
//! A schema is structural when every node states its type outside of the logical
//! junctors (`allOf`, `anyOf`, `oneOf`, `not`), the junctors only add value validation on
//! fields that are also specified outside them, and metadata is only restricted in name
//! and generateName.

use std::collections::BTreeMap;

use serde_json::Value;

use super::field::{FieldError, Path};
use super::types::{Props, PropsOrArray, PropsOrBool, Rule};

/// A structural schema node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Structural {
    pub(crate) items: Option<Box<Structural>>,
    /// Empty when the node has no properties (Go keeps `nil` for an empty map here).
    pub(crate) properties: BTreeMap<String, Structural>,
    pub(crate) additional_properties: Option<StructuralOrBool>,
    pub(crate) generic: Generic,
    pub(crate) extensions: Extensions,
    pub(crate) x_validations: Vec<Rule>,
    pub(crate) value_validation: ValueValidation,
}

/// `additionalProperties` of a structural node.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StructuralOrBool {
    pub(crate) structural: Option<Box<Structural>>,
    pub(crate) allows: bool,
}

/// The generic (non-validating) keywords.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Generic {
    pub(crate) description: String,
    pub(crate) type_: String,
    pub(crate) title: String,
    pub(crate) default: Option<Value>,
    pub(crate) nullable: bool,
    pub(crate) external_docs: Option<(String, String)>,
    pub(crate) example: Option<Value>,
}

/// The Kubernetes vendor extensions.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Extensions {
    pub(crate) x_preserve_unknown_fields: bool,
    pub(crate) x_embedded_resource: bool,
    pub(crate) x_int_or_string: bool,
    pub(crate) x_list_map_keys: Option<Vec<String>>,
    pub(crate) x_list_type: Option<String>,
    pub(crate) x_map_type: Option<String>,
}

/// Value validation keywords, including the logical junctors.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ValueValidation {
    pub(crate) format: String,
    pub(crate) maximum: Option<f64>,
    pub(crate) exclusive_maximum: bool,
    pub(crate) minimum: Option<f64>,
    pub(crate) exclusive_minimum: bool,
    pub(crate) max_length: Option<i64>,
    pub(crate) min_length: Option<i64>,
    pub(crate) pattern: String,
    pub(crate) max_items: Option<i64>,
    pub(crate) min_items: Option<i64>,
    pub(crate) unique_items: bool,
    pub(crate) multiple_of: Option<f64>,
    /// Empty when absent or empty (Go appends into a nil slice).
    pub(crate) enum_: Vec<Value>,
    pub(crate) max_properties: Option<i64>,
    pub(crate) min_properties: Option<i64>,
    pub(crate) required: Option<Vec<String>>,
    pub(crate) all_of: Vec<Nested>,
    pub(crate) one_of: Vec<Nested>,
    pub(crate) any_of: Vec<Nested>,
    pub(crate) not: Option<Box<Nested>>,
}

/// A schema under a logical junctor: value validation only; whatever else it states is
/// kept in `forbidden_*` so that it can be reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Nested {
    pub(crate) value_validation: ValueValidation,
    pub(crate) x_validations: Vec<Rule>,
    pub(crate) items: Option<Box<Nested>>,
    pub(crate) properties: Option<BTreeMap<String, Nested>>,
    pub(crate) additional_properties: Option<Box<Nested>>,
    pub(crate) forbidden_generics: Generic,
    pub(crate) forbidden_extensions: Extensions,
}

/// Why a schema cannot be turned into a structural one at all (`NewStructural`'s error).
fn unsupported(p: &Props) -> Option<String> {
    let name = if !p.id.is_empty() {
        "id"
    } else if !p.schema.is_empty() {
        "schema"
    } else if p.reference.as_deref().is_some_and(|r| !r.is_empty()) {
        "$ref"
    } else if p.pattern_properties.as_ref().is_some_and(|m| !m.is_empty()) {
        "patternProperties"
    } else if p.dependencies.as_ref().is_some_and(|m| !m.is_empty()) {
        "dependencies"
    } else if p.additional_items.is_some() {
        "additionalItems"
    } else if p.definitions.as_ref().is_some_and(|m| !m.is_empty()) {
        "definitions"
    } else {
        return None;
    };
    Some(format!("OpenAPIV3Schema '{name}' is not supported"))
}

const ITEMS_ARRAY: &str = "OpenAPIV3Schema 'items' must be a schema, but is an array";

fn generic(p: &Props) -> Generic {
    Generic {
        description: p.description.clone(),
        type_: p.type_.clone(),
        title: p.title.clone(),
        default: p.default.clone(),
        nullable: p.nullable,
        external_docs: p.external_docs.clone(),
        example: p.example.clone(),
    }
}

fn extensions(p: &Props) -> Result<Extensions, String> {
    if p.x_preserve_unknown_fields == Some(false) {
        return Err(
            "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
                .to_string(),
        );
    }
    Ok(Extensions {
        x_preserve_unknown_fields: p.x_preserve_unknown_fields == Some(true),
        x_embedded_resource: p.x_embedded_resource,
        x_int_or_string: p.x_int_or_string,
        x_list_map_keys: p.x_list_map_keys.clone(),
        x_list_type: p.x_list_type.clone(),
        x_map_type: p.x_map_type.clone(),
    })
}

fn new_value_validation(p: &Props) -> Result<ValueValidation, String> {
    let not = match &p.not {
        Some(n) => Some(Box::new(nested(n)?)),
        None => None,
    };
    let list = |l: &Option<Vec<Props>>| -> Result<Vec<Nested>, String> {
        l.iter().flatten().map(nested).collect()
    };
    Ok(ValueValidation {
        format: p.format.clone(),
        maximum: p.maximum,
        exclusive_maximum: p.exclusive_maximum,
        minimum: p.minimum,
        exclusive_minimum: p.exclusive_minimum,
        max_length: p.max_length,
        min_length: p.min_length,
        pattern: p.pattern.clone(),
        max_items: p.max_items,
        min_items: p.min_items,
        unique_items: p.unique_items,
        multiple_of: p.multiple_of,
        enum_: p.enum_.clone().unwrap_or_default(),
        max_properties: p.max_properties,
        min_properties: p.min_properties,
        required: p.required.clone(),
        all_of: list(&p.all_of)?,
        any_of: list(&p.any_of)?,
        one_of: list(&p.one_of)?,
        not,
    })
}

/// `NewStructural`: converts a (pre-validated) schema, failing on what no structural schema
/// can hold.
pub(crate) fn new_structural(p: &Props) -> Result<Structural, String> {
    if let Some(err) = unsupported(p) {
        return Err(err);
    }
    let value_validation = new_value_validation(p)?;
    let generic = generic(p);
    let extensions = extensions(p)?;
    let items = match &p.items {
        Some(PropsOrArray::Array(_)) => return Err(ITEMS_ARRAY.to_string()),
        Some(PropsOrArray::Schema(s)) => Some(Box::new(new_structural(s)?)),
        None => None,
    };
    let mut properties = BTreeMap::new();
    for (k, v) in p.props() {
        properties.insert(k.clone(), new_structural(v)?);
    }
    let additional_properties = match &p.additional_properties {
        Some(PropsOrBool::Schema(s)) => Some(StructuralOrBool {
            structural: Some(Box::new(new_structural(s)?)),
            allows: true,
        }),
        Some(PropsOrBool::Bool(b)) => Some(StructuralOrBool {
            structural: None,
            allows: *b,
        }),
        None => None,
    };
    Ok(Structural {
        items,
        properties,
        additional_properties,
        generic,
        extensions,
        x_validations: p.x_validations.clone().unwrap_or_default(),
        value_validation,
    })
}

fn nested(p: &Props) -> Result<Nested, String> {
    if let Some(err) = unsupported(p) {
        return Err(err);
    }
    let value_validation = new_value_validation(p)?;
    let forbidden_generics = generic(p);
    let forbidden_extensions = extensions(p)?;
    let items = match &p.items {
        Some(PropsOrArray::Array(_)) => return Err(ITEMS_ARRAY.to_string()),
        Some(PropsOrArray::Schema(s)) => Some(Box::new(nested(s)?)),
        None => None,
    };
    let properties = match &p.properties {
        Some(map) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                out.insert(k.clone(), nested(v)?);
            }
            Some(out)
        }
        None => None,
    };
    let additional_properties = match &p.additional_properties {
        Some(PropsOrBool::Schema(s)) => Some(Box::new(nested(s)?)),
        Some(PropsOrBool::Bool(true)) => Some(Box::default()),
        _ => None,
    };
    Ok(Nested {
        value_validation,
        x_validations: p.x_validations.clone().unwrap_or_default(),
        items,
        properties,
        additional_properties,
        forbidden_generics,
        forbidden_extensions,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Root,
    Item,
    Field,
}

/// `ValidateStructural`: the invariants and the completeness of a structural schema, sorted
/// by their printed form as Kubernetes sorts them.
pub(crate) fn validate_structural(path: &Path, s: &Structural) -> Vec<FieldError> {
    let mut errs = invariants(s, Level::Root, path);
    errs.extend(value_validation_completeness(
        &s.value_validation,
        s,
        path,
        path,
    ));
    errs.sort_by_key(|e| e.to_string());
    errs
}

fn only_type(n: &Nested, type_: &str) -> bool {
    *n == Nested {
        forbidden_generics: Generic {
            type_: type_.to_string(),
            ..Generic::default()
        },
        ..Nested::default()
    }
}

fn is_int_or_string_any_of(any_of: &[Nested]) -> bool {
    any_of.len() == 2 && only_type(&any_of[0], "integer") && only_type(&any_of[1], "string")
}

fn invariants(s: &Structural, level: Level, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let ty = s.generic.type_.as_str();
    let x = &s.extensions;

    if ty == "array" && s.items.is_none() {
        errs.push(FieldError::required(
            &path.child("items"),
            "must be specified",
        ));
    }
    if let Some(items) = &s.items {
        errs.extend(invariants(items, Level::Item, &path.child("items")));
    }
    for (k, v) in &s.properties {
        errs.extend(invariants(
            v,
            Level::Field,
            &path.child("properties").key(k),
        ));
    }
    if let Some(ap) = &s.additional_properties {
        if level == Level::Root {
            errs.push(FieldError::forbidden(
                &path.child("additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let Some(st) = &ap.structural {
            errs.extend(invariants(
                st,
                Level::Field,
                &path.child("additionalProperties"),
            ));
        }
    }

    if x.x_int_or_string && x.x_preserve_unknown_fields {
        errs.push(FieldError::invalid(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if x.x_int_or_string && x.x_embedded_resource {
        errs.push(FieldError::invalid(
            &path.child("x-kubernetes-embedded-resource"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }

    let vv = &s.value_validation;
    let skip_any_of = is_int_or_string_any_of(&vv.any_of);
    let skip_first_all_of_any_of = vv
        .all_of
        .first()
        .is_some_and(|a| is_int_or_string_any_of(&a.value_validation.any_of));
    errs.extend(check_value_validation(
        vv,
        skip_any_of,
        skip_first_all_of_any_of,
        path,
    ));

    let check_metadata = level == Level::Root || x.x_embedded_resource;
    if x.x_embedded_resource && ty != "object" {
        let msg = "must be object if x-kubernetes-embedded-resource is true";
        errs.push(if ty.is_empty() {
            FieldError::required(&path.child("type"), msg)
        } else {
            FieldError::invalid(&path.child("type"), ty, msg)
        });
    } else if ty.is_empty() && !x.x_int_or_string && !x.x_preserve_unknown_fields {
        let msg = match level {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        errs.push(FieldError::required(&path.child("type"), msg));
    }
    if x.x_embedded_resource && s.additional_properties.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if level == Level::Root && !ty.is_empty() && ty != "object" {
        errs.push(FieldError::invalid(
            &path.child("type"),
            ty,
            "must be object at the root",
        ));
    }
    for meta_type in ["kind", "apiVersion"] {
        if let Some(p) = s.properties.get(meta_type)
            && check_metadata
            && p.generic.type_ != "string"
        {
            errs.push(FieldError::invalid(
                &path.child("properties").key(meta_type).child("type"),
                p.generic.type_.as_str(),
                "must be string",
            ));
        }
    }
    if let Some(metadata) = s.properties.get("metadata") {
        errs.extend(metadata_invariants(
            metadata,
            check_metadata,
            level,
            &path.child("properties").key("metadata"),
        ));
    }
    if x.x_embedded_resource && !x.x_preserve_unknown_fields && s.properties.is_empty() {
        errs.push(FieldError::required(
            &path.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
    errs
}

fn metadata_invariants(
    s: &Structural,
    check_metadata: bool,
    level: Level,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if check_metadata && s.generic.type_ != "object" {
        errs.push(FieldError::invalid(
            &path.child("type"),
            s.generic.type_.as_str(),
            "must be object",
        ));
    }
    if level == Level::Root {
        // At the root, metadata may restrict name and generateName and nothing else: its
        // type (checked above) and default (checked by API validation) aside, everything
        // must be unset.
        let mut rest = s.clone();
        let only_names = rest
            .properties
            .keys()
            .all(|k| k == "name" || k == "generateName");
        if only_names {
            rest.properties.clear();
        }
        rest.generic.type_.clear();
        rest.generic.default = None;
        if rest != Structural::default() {
            errs.push(FieldError::forbidden(
                path,
                "must not specify anything other than name and generateName, but metadata is implicitly specified",
            ));
        }
    }
    errs
}

fn check_value_validation(
    v: &ValueValidation,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if !skip_any_of {
        for (i, n) in v.any_of.iter().enumerate() {
            errs.extend(nested_value_validation(
                n,
                false,
                &path.child("anyOf").index(i),
            ));
        }
    }
    for (i, n) in v.all_of.iter().enumerate() {
        let skip = skip_first_all_of_any_of && i == 0;
        errs.extend(nested_value_validation(
            n,
            skip,
            &path.child("allOf").index(i),
        ));
    }
    for (i, n) in v.one_of.iter().enumerate() {
        errs.extend(nested_value_validation(
            n,
            false,
            &path.child("oneOf").index(i),
        ));
    }
    if let Some(n) = &v.not {
        errs.extend(nested_value_validation(n, false, &path.child("not")));
    }
    if !v.pattern.is_empty()
        && let Err(err) = regex::Regex::new(&v.pattern)
    {
        errs.push(FieldError::invalid(
            &path.child("pattern"),
            v.pattern.as_str(),
            format!(
                "must be a valid regular expression, but isn't: {}",
                err.to_string().lines().last().unwrap_or_default().trim()
            ),
        ));
    }
    errs
}

fn nested_value_validation(v: &Nested, skip_any_of: bool, path: &Path) -> Vec<FieldError> {
    let mut errs = check_value_validation(&v.value_validation, skip_any_of, false, path);
    if let Some(items) = &v.items {
        errs.extend(nested_value_validation(items, false, &path.child("items")));
    }
    for (k, p) in v.properties.iter().flatten() {
        errs.extend(nested_value_validation(
            p,
            false,
            &path.child("properties").key(k),
        ));
    }
    let g = &v.forbidden_generics;
    let x = &v.forbidden_extensions;
    if !g.type_.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("type"),
            "must be empty to be structural",
        ));
    }
    if v.additional_properties.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("additionalProperties"),
            "must be undefined to be structural",
        ));
    }
    if g.default.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("default"),
            "must be undefined to be structural",
        ));
    }
    if !g.title.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("title"),
            "must be empty to be structural",
        ));
    }
    if !g.description.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("description"),
            "must be empty to be structural",
        ));
    }
    if g.nullable {
        errs.push(FieldError::forbidden(
            &path.child("nullable"),
            "must be false to be structural",
        ));
    }
    if x.x_preserve_unknown_fields {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-preserve-unknown-fields"),
            "must be false to be structural",
        ));
    }
    if x.x_embedded_resource {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-embedded-resource"),
            "must be false to be structural",
        ));
    }
    if x.x_int_or_string {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-int-or-string"),
            "must be false to be structural",
        ));
    }
    if x.x_list_map_keys.as_ref().is_some_and(|k| !k.is_empty()) {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-list-map-keys"),
            "must be empty to be structural",
        ));
    }
    if x.x_list_type.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-list-type"),
            "must be undefined to be structural",
        ));
    }
    if x.x_map_type.is_some() {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-map-type"),
            "must be undefined to be structural",
        ));
    }
    if !v.x_validations.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("x-kubernetes-validations"),
            "must be empty to be structural",
        ));
    }
    if v.properties
        .as_ref()
        .is_some_and(|p| p.contains_key("metadata"))
    {
        errs.push(FieldError::forbidden(
            &path.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
    errs
}

/// Every value validation under a junctor must apply to a property or items that the
/// structural part of the schema specifies.
fn value_validation_completeness(
    v: &ValueValidation,
    s: &Structural,
    s_path: &Path,
    v_path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(not) = &v.not {
        errs.extend(nested_completeness(not, s, s_path, &v_path.child("not")));
    }
    for (i, n) in v.all_of.iter().enumerate() {
        errs.extend(nested_completeness(
            n,
            s,
            s_path,
            &v_path.child("allOf").index(i),
        ));
    }
    for (i, n) in v.any_of.iter().enumerate() {
        errs.extend(nested_completeness(
            n,
            s,
            s_path,
            &v_path.child("anyOf").index(i),
        ));
    }
    for (i, n) in v.one_of.iter().enumerate() {
        errs.extend(nested_completeness(
            n,
            s,
            s_path,
            &v_path.child("oneOf").index(i),
        ));
    }
    errs
}

fn nested_completeness(
    v: &Nested,
    s: &Structural,
    s_path: &Path,
    v_path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    errs.extend(value_validation_completeness(
        &v.value_validation,
        s,
        s_path,
        v_path,
    ));
    if let Some(items) = &v.items {
        let items_path = s_path.child("items");
        match &s.items {
            Some(si) => errs.extend(nested_completeness(
                items,
                si,
                &items_path,
                &v_path.child("items"),
            )),
            None => errs.push(FieldError::required(
                &items_path,
                format!("because it is defined in {}", v_path.child("items")),
            )),
        }
    }
    for (k, vf) in v.properties.iter().flatten() {
        let s_child = s_path.child("properties").key(k);
        let v_child = v_path.child("properties").key(k);
        match s.properties.get(k) {
            Some(sf) => errs.extend(nested_completeness(vf, sf, &s_child, &v_child)),
            None => errs.push(FieldError::required(
                &s_child,
                format!("because it is defined in {v_child}"),
            )),
        }
    }
    errs
}
