//! Create-time validation of an `apiextensions.k8s.io/v1` CustomResourceDefinition, as
//! kube-apiserver performs it (`ValidateCustomResourceDefinition` after the v1 object is
//! defaulted, converted to the internal version and prepared for create).
//!
//! # Guarantees
//!
//! Every check we make is one kube-apiserver makes, reported at the same field path with
//! the same error kind and, where we could, the same words. In particular:
//!
//! * Paths follow the *internal* API version, as Kubernetes reports them: when every
//!   version has the same `schema` (always so for a single version), schema errors are
//!   reported under `spec.validation.openAPIV3Schema`, not
//!   `spec.versions[0].schema.openAPIV3Schema`; likewise `spec.subresources`,
//!   `spec.additionalPrinterColumns` and `spec.selectableFields`. Printer columns report
//!   their path as `JSONPath`, and the conversion webhook as
//!   `spec.conversion.webhookClientConfig`.
//! * Unknown keys and mistyped values are reported alone (as `UnknownField` and
//!   `TypeInvalid`): Kubernetes refuses such a request while decoding it, before validation.
//!
//! # Caveats
//!
//! What we do not check, and why:
//!
//! * CEL: `x-kubernetes-validations` rules are parsed (a syntax error refuses the CRD) but
//!   not type-checked against the schema nor costed, and not run against defaults.
//! * Regular expressions are compiled with Rust's `regex`, not Go's RE2: the syntax is
//!   nearly the same, the error wording is not.
//! * Values printed in messages for composite Go types (a whole `versions` list, a schema)
//!   are the JSON we were given, where Go prints its internal structs.
//! * String formats in defaults, and ObjectMeta rules for defaults inside embedded
//!   resources' metadata, are not checked.
//! * Update-only rules (immutable names, ratcheting of existing invalid schemas) do not
//!   apply: this validates a create.
//! * Conflicts of names with other CRDs are not validation: Kubernetes reports them later
//!   in the CRD's `NamesAccepted` condition.

use std::collections::BTreeSet;

use serde_json::Value;

use super::decode::decode;
use super::defaults::validate_defaults;
use super::field::{FieldError, Path};
use super::names;
use super::openapi::{Context, valid_field_path, validate_schema};
use super::structural::{Structural, new_structural, validate_structural};
use super::types::*;

const PRINTER_COLUMN_TYPES: &[&str] = &["boolean", "date", "integer", "number", "string"];
const PRINTER_COLUMN_FORMATS: &[&str] = &[
    "byte",
    "date",
    "date-time",
    "double",
    "float",
    "int32",
    "int64",
    "password",
];
const ACCEPTED_CONVERSION_REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];
const MAX_SELECTABLE_FIELDS: usize = 8;
const API_APPROVAL_ANNOTATION: &str = "api-approved.kubernetes.io";
const ALLOWED_AT_ROOT_WITH_STATUS: &[&str] = &[
    "Description",
    "Type",
    "Format",
    "Title",
    "Maximum",
    "ExclusiveMaximum",
    "Minimum",
    "ExclusiveMinimum",
    "MaxLength",
    "MinLength",
    "Pattern",
    "MaxItems",
    "MinItems",
    "UniqueItems",
    "MultipleOf",
    "Required",
    "Items",
    "Properties",
    "ExternalDocs",
    "Example",
    "XPreserveUnknownFields",
    "XValidations",
];

/// Validates a CustomResourceDefinition (as JSON) the way kube-apiserver validates it on
/// create, returning every error found; an empty list means a cluster would accept it.
///
/// Unknown keys anywhere (including inside schemas) and values of the wrong JSON type are
/// reported first and alone, since Kubernetes stops there; otherwise all validation errors
/// are returned, in the order Kubernetes finds them. See the [module docs](self) for what
/// is and is not checked.
pub fn validate_crd(crd: &Value) -> Vec<FieldError> {
    let (crd, decode_errors) = decode(crd);
    if !decode_errors.is_empty() {
        return decode_errors;
    }
    let mut errs = validate_metadata(&crd);
    errs.extend(validate_spec(&crd.spec));
    errs.extend(validate_stored_versions(&crd.spec));
    errs.extend(validate_api_approval(&crd));
    if crd.spec.preserve_unknown_fields {
        errs.push(FieldError::invalid(
            &Path::new("spec").child("preserveUnknownFields"),
            true,
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ));
    }
    errs
}

fn validate_metadata(crd: &Crd) -> Vec<FieldError> {
    let meta = &crd.metadata;
    let path = Path::new("metadata");
    let required_name = format!("{}.{}", crd.spec.names.plural, crd.spec.group);
    let name_fn = |name: &str, prefix: bool| {
        let mut msgs = names::name_is_dns_subdomain(name, prefix);
        if name != required_name {
            msgs.push(r#"must be spec.names.plural+"."+spec.group"#.to_string());
        }
        msgs
    };
    let mut errs = Vec::new();
    if !meta.generate_name.is_empty() {
        for msg in name_fn(&meta.generate_name, true) {
            errs.push(FieldError::invalid(
                &path.child("generateName"),
                meta.generate_name.as_str(),
                msg,
            ));
        }
    }
    if meta.name.is_empty() {
        // With generateName, Kubernetes generates a name (with a random suffix, so never
        // plural.group) before validating; we report the generateName only.
        if meta.generate_name.is_empty() {
            errs.push(FieldError::required(
                &path.child("name"),
                "name or generateName is required",
            ));
        }
    } else {
        for msg in name_fn(&meta.name, false) {
            errs.push(FieldError::invalid(
                &path.child("name"),
                meta.name.as_str(),
                msg,
            ));
        }
    }
    if !meta.namespace.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if meta.generation < 0 {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            meta.generation,
            "must be greater than or equal to 0",
        ));
    }
    for (k, v) in &meta.labels {
        for msg in names::qualified_name(k) {
            errs.push(FieldError::invalid(&path.child("labels"), k.as_str(), msg));
        }
        for msg in names::label_value(v) {
            errs.push(FieldError::invalid(&path.child("labels"), v.as_str(), msg));
        }
    }
    let mut annotations_size = 0;
    for (k, v) in &meta.annotations {
        for msg in names::qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(
                &path.child("annotations"),
                k.as_str(),
                msg,
            ));
        }
        annotations_size += k.len() + v.len();
    }
    if annotations_size > 256 * 1024 {
        errs.push(FieldError::too_long(&path.child("annotations"), 256 * 1024));
    }
    let mut controller: Option<String> = None;
    for (i, r) in meta.owner_references.iter().enumerate() {
        let p = path.child("ownerReferences").index(i);
        if r.api_version.is_empty() {
            errs.push(FieldError::required(
                &p.child("apiVersion"),
                "must not be empty",
            ));
        } else if r.api_version.matches('/').count() > 1 || r.api_version.ends_with('/') {
            errs.push(FieldError::invalid(
                &p.child("apiVersion"),
                r.api_version.as_str(),
                "must be <group>/<version> or <version>",
            ));
        }
        for (field, value) in [("kind", &r.kind), ("name", &r.name), ("uid", &r.uid)] {
            if value.is_empty() {
                errs.push(FieldError::required(&p.child(field), "must not be empty"));
            }
        }
        if r.controller {
            let this = format!("{}/{}", r.kind, r.name);
            match &controller {
                Some(first) => errs.push(FieldError::invalid(
                    &path.child("ownerReferences"),
                    Value::Null,
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"
                    ),
                )),
                None => controller = Some(this),
            }
        }
    }
    for f in &meta.finalizers {
        for msg in names::qualified_name(f) {
            errs.push(FieldError::invalid(
                &path.child("finalizers"),
                f.as_str(),
                msg,
            ));
        }
    }
    let has = |f: &str| meta.finalizers.iter().any(|x| x == f);
    if has("orphan") && has("foregroundDeletion") {
        errs.push(FieldError::invalid(
            &path.child("finalizers"),
            meta.finalizers.clone(),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// How Kubernetes sees a per-version field after conversion to the internal version: one
/// top-level value when all versions carry the same one, per-version values otherwise.
struct Placed<'a, T> {
    top: Option<&'a T>,
    per_version: Vec<Option<&'a T>>,
}

fn place<'a, T>(
    versions: &'a [Version],
    get: impl Fn(&'a Version) -> Option<&'a (T, Value)>,
) -> Placed<'a, T> {
    let identical = versions.first().is_some_and(|first| {
        versions
            .iter()
            .all(|v| get(v).map(|x| &x.1) == get(first).map(|x| &x.1))
    });
    if identical {
        Placed {
            top: versions.first().and_then(&get).map(|x| &x.0),
            per_version: vec![None; versions.len()],
        }
    } else {
        Placed {
            top: None,
            per_version: versions.iter().map(|v| get(v).map(|x| &x.0)).collect(),
        }
    }
}

fn validate_spec(spec: &Spec) -> Vec<FieldError> {
    let path = Path::new("spec");
    let mut errs = Vec::new();

    if spec.group.is_empty() {
        errs.push(FieldError::required(&path.child("group"), ""));
    } else {
        let msgs = names::dns1123_subdomain(&spec.group);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("group"),
                spec.group.as_str(),
                msgs.join(","),
            ));
        } else if spec.group.split('.').count() < 2 {
            errs.push(FieldError::invalid(
                &path.child("group"),
                spec.group.as_str(),
                "should be a domain with at least one dot",
            ));
        }
    }
    errs.extend(enum_string(
        &path.child("scope"),
        &spec.scope,
        &["Cluster", "Namespaced"],
    ));

    let schemas = place(&spec.versions, |v| v.schema.as_ref());
    let subresources = place(&spec.versions, |v| v.subresources.as_ref());
    let columns = place(&spec.versions, |v| v.additional_printer_columns.as_ref());
    let selectable = place(&spec.versions, |v| v.selectable_fields.as_ref());
    let all_schemas: Vec<&Props> = spec
        .versions
        .iter()
        .filter_map(|v| {
            v.schema
                .as_ref()
                .and_then(|s| s.0.open_api_v3_schema.as_ref())
        })
        .collect();

    // Pruning (preserveUnknownFields false, as v1 requires) needs structural schemas.
    let mut require_structural = !spec.preserve_unknown_fields;
    if schemas
        .top
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .is_none()
    {
        for (i, s) in schemas.per_version.iter().enumerate() {
            if s.and_then(|s| s.open_api_v3_schema.as_ref()).is_none() {
                errs.push(FieldError::required(
                    &path
                        .child("versions")
                        .index(i)
                        .child("schema")
                        .child("openAPIV3Schema"),
                    "",
                ));
            }
        }
    }
    if all_schemas
        .iter()
        .any(|s| schema_has(s, &|p| p.default.is_some()))
    {
        require_structural = true;
        if spec.preserve_unknown_fields {
            errs.push(FieldError::invalid(
                &path.child("preserveUnknownFields"),
                true,
                "must be false in order to use defaults in the schema",
            ));
        }
    }
    if all_schemas
        .iter()
        .any(|s| schema_has(s, &has_kubernetes_extensions))
    {
        require_structural = true;
    }

    let any_status = spec
        .versions
        .iter()
        .any(|v| v.subresources.as_ref().is_some_and(|s| s.0.status));
    let mut storage_count = 0;
    let mut seen = BTreeSet::new();
    let mut unique = true;
    for (i, version) in spec.versions.iter().enumerate() {
        let vpath = path.child("versions").index(i);
        if version.storage {
            storage_count += 1;
        }
        if !seen.insert(version.name.as_str()) {
            unique = false;
        }
        let msgs = names::dns1035_label(&version.name);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &vpath.child("name"),
                version.name.as_str(),
                msgs.join(","),
            ));
        }
        let version_subresources = if subresources.per_version.iter().all(Option::is_none) {
            subresources.top
        } else {
            spec.versions
                .iter()
                .position(|v| v.name == version.name)
                .and_then(|first| subresources.per_version[first])
        };
        let status_enabled = version_subresources.is_some_and(|s| s.status);

        if let Some(warning) = &version.deprecation_warning {
            for msg in deprecation_warning(version.deprecated, warning) {
                errs.push(FieldError::invalid(
                    &vpath.child("deprecationWarning"),
                    warning.as_str(),
                    msg,
                ));
            }
        }
        let version_schema = schemas.per_version[i];
        errs.extend(validate_validation(
            version_schema,
            status_enabled,
            require_structural,
            &vpath.child("schema"),
        ));
        errs.extend(validate_subresources(
            subresources.per_version[i],
            &vpath.child("subresources"),
        ));
        for (j, column) in columns.per_version[i].iter().copied().flatten().enumerate() {
            errs.extend(validate_column(
                column,
                &vpath.child("additionalPrinterColumns").index(j),
            ));
        }
        if let Some(fields) = selectable.per_version[i] {
            // As upstream: the version's own schema is looked at, which is empty when all
            // versions share one schema.
            match version_schema.and_then(|s| s.open_api_v3_schema.as_ref()) {
                None => errs.push(FieldError::invalid(
                    &vpath.child("selectableFields"),
                    "",
                    "may only be set when `version.schema.openAPIV3Schema` is not included",
                )),
                Some(schema) => errs.extend(selectable_fields_against(
                    fields,
                    schema,
                    &vpath.child("schema.openAPIV3Schema"),
                    &vpath.child("selectableFields"),
                )),
            }
        }
    }
    let versions_value = spec.versions_raw.clone();
    if !unique {
        errs.push(FieldError::invalid(
            &path.child("versions"),
            versions_value.clone(),
            "must contain unique version names",
        ));
    }
    if storage_count != 1 {
        errs.push(FieldError::invalid(
            &path.child("versions"),
            versions_value,
            "must have exactly one version marked as storage version",
        ));
    }
    // The internal version also carries the first version's name as spec.version.
    if let Some(first) = spec.versions.first() {
        let msgs = names::dns1035_label(&first.name);
        if !first.name.is_empty() && !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("version"),
                first.name.as_str(),
                msgs.join(","),
            ));
        }
    }

    let names = defaulted_names(&spec.names);
    for (field, value) in [
        ("plural", &names.plural),
        ("singular", &names.singular),
        ("kind", &names.kind),
        ("listKind", &names.list_kind),
    ] {
        if value.is_empty() {
            errs.push(FieldError::required(&path.child("names").child(field), ""));
        }
    }
    errs.extend(validate_names(&names, &path.child("names")));
    errs.extend(validate_validation(
        schemas.top,
        any_status,
        require_structural,
        &path.child("validation"),
    ));
    errs.extend(validate_subresources(
        subresources.top,
        &path.child("subresources"),
    ));
    for (j, column) in columns.top.into_iter().flatten().enumerate() {
        errs.extend(validate_column(
            column,
            &path.child("additionalPrinterColumns").index(j),
        ));
    }
    if let Some(fields) = selectable.top {
        match schemas.top {
            None => errs.push(FieldError::invalid(
                &path.child("selectableFields"),
                "",
                "may only be set when validations.schema is included",
            )),
            Some(validation) => {
                if let Some(schema) = &validation.open_api_v3_schema {
                    errs.extend(selectable_fields_against(
                        fields,
                        schema,
                        &path.child("schema.openAPIV3Schema"),
                        &path.child("selectableFields"),
                    ));
                }
            }
        }
    }

    let strategy = spec
        .conversion
        .as_ref()
        .map_or("None", |c| c.strategy.as_str());
    if strategy != "None" && spec.preserve_unknown_fields {
        errs.push(FieldError::invalid(
            &path.child("conversion").child("strategy"),
            strategy,
            "must be None if spec.preserveUnknownFields is true",
        ));
    }
    if let Some(conversion) = &spec.conversion {
        errs.extend(validate_conversion(conversion, &path.child("conversion")));
    }
    errs
}

fn enum_string(path: &Path, value: &str, accepted: &[&str]) -> Vec<FieldError> {
    if value.is_empty() {
        vec![FieldError::required(path, "")]
    } else if accepted.contains(&value) {
        Vec::new()
    } else {
        vec![FieldError::not_supported(path, value, accepted)]
    }
}

fn deprecation_warning(deprecated: bool, warning: &str) -> Vec<String> {
    if !deprecated {
        return vec!["can only be set for deprecated versions".to_string()];
    }
    let mut msgs = Vec::new();
    if warning.len() > 256 {
        msgs.push("must be <= 256 characters long".to_string());
    }
    if warning.is_empty() {
        msgs.push("must not be an empty string".to_string());
    }
    for (i, c) in warning.char_indices() {
        if c.is_control() {
            msgs.push(format!(
                "must only contain printable UTF-8 characters; non-printable character found at index {i}"
            ));
            break;
        }
    }
    msgs
}

/// `SetDefaults_CustomResourceDefinitionSpec`: singular and listKind default from kind.
fn defaulted_names(names: &Names) -> Names {
    let mut out = names.clone();
    if out.singular.is_empty() {
        out.singular = out.kind.to_lowercase();
    }
    if out.list_kind.is_empty() && !out.kind.is_empty() {
        out.list_kind = format!("{}List", out.kind);
    }
    out
}

fn validate_names(names: &Names, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (field, value) in [("plural", &names.plural), ("singular", &names.singular)] {
        let msgs = names::dns1035_label(value);
        if !value.is_empty() && !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child(field),
                value.as_str(),
                msgs.join(","),
            ));
        }
    }
    for (field, value) in [("kind", &names.kind), ("listKind", &names.list_kind)] {
        let msgs = names::dns1035_label(&value.to_lowercase());
        if !value.is_empty() && !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child(field),
                value.as_str(),
                format!(
                    "may have mixed case, but should otherwise match: {}",
                    msgs.join(",")
                ),
            ));
        }
    }
    for (i, short) in names.short_names.iter().enumerate() {
        let msgs = names::dns1035_label(short);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("shortNames").index(i),
                short.as_str(),
                msgs.join(","),
            ));
        }
    }
    if !names.kind.is_empty() && names.kind == names.list_kind {
        errs.push(FieldError::invalid(
            &path.child("listKind"),
            names.list_kind.as_str(),
            "kind and listKind may not be the same",
        ));
    }
    for (i, category) in names.categories.iter().enumerate() {
        let msgs = names::dns1035_label(category);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("categories").index(i),
                category.as_str(),
                msgs.join(","),
            ));
        }
    }
    errs
}

fn validate_column(column: &Column, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if column.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    let types = format!("must be one of {}", PRINTER_COLUMN_TYPES.join(","));
    if column.type_.is_empty() {
        errs.push(FieldError::required(&path.child("type"), types));
    } else if !PRINTER_COLUMN_TYPES.contains(&column.type_.as_str()) {
        errs.push(FieldError::invalid(
            &path.child("type"),
            column.type_.as_str(),
            types,
        ));
    }
    if !column.format.is_empty() && !PRINTER_COLUMN_FORMATS.contains(&column.format.as_str()) {
        errs.push(FieldError::invalid(
            &path.child("format"),
            column.format.as_str(),
            format!("must be one of {}", PRINTER_COLUMN_FORMATS.join(",")),
        ));
    }
    if column.json_path.is_empty() {
        errs.push(FieldError::required(&path.child("JSONPath"), ""));
    } else {
        errs.extend(simple_json_path(&column.json_path, &path.child("JSONPath")));
    }
    errs
}

fn simple_json_path(s: &str, path: &Path) -> Vec<FieldError> {
    if s.is_empty() {
        vec![FieldError::invalid(path, s, "must not be empty")]
    } else if !s.starts_with('.') {
        vec![FieldError::invalid(
            path,
            s,
            "must be a simple json path starting with .",
        )]
    } else {
        Vec::new()
    }
}

fn validate_subresources(subresources: Option<&Subresources>, path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(scale) = subresources.and_then(|s| s.scale.as_ref()) else {
        return errs;
    };
    for (field, value, prefix, under) in [
        (
            "scale.specReplicasPath",
            &scale.spec_replicas_path,
            ".spec.",
            "should be a json path under .spec",
        ),
        (
            "scale.statusReplicasPath",
            &scale.status_replicas_path,
            ".status.",
            "should be a json path under .status",
        ),
    ] {
        let p = path.child(field);
        if value.is_empty() {
            errs.push(FieldError::required(&p, ""));
        } else {
            let path_errs = simple_json_path(value, &p);
            if !path_errs.is_empty() {
                errs.extend(path_errs);
            } else if !value.starts_with(prefix) {
                errs.push(FieldError::invalid(&p, value.as_str(), under));
            }
        }
    }
    if let Some(selector) = scale
        .label_selector_path
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        let p = path.child("scale.labelSelectorPath");
        let path_errs = simple_json_path(selector, &p);
        if !path_errs.is_empty() {
            errs.extend(path_errs);
        } else if !selector.starts_with(".spec.") && !selector.starts_with(".status.") {
            errs.push(FieldError::invalid(
                &p,
                selector,
                "should be a json path under either .spec or .status",
            ));
        }
    }
    errs
}

/// Go's field names of JSONSchemaProps that are set on `p`, in declaration order.
fn set_schema_fields(p: &Props) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 44] = [
        ("ID", !p.id.is_empty()),
        ("Schema", !p.schema.is_empty()),
        ("Ref", p.reference.is_some()),
        ("Description", !p.description.is_empty()),
        ("Type", !p.type_.is_empty()),
        ("Nullable", p.nullable),
        ("Format", !p.format.is_empty()),
        ("Title", !p.title.is_empty()),
        ("Default", p.default.is_some()),
        ("Maximum", p.maximum.is_some()),
        ("ExclusiveMaximum", p.exclusive_maximum),
        ("Minimum", p.minimum.is_some()),
        ("ExclusiveMinimum", p.exclusive_minimum),
        ("MaxLength", p.max_length.is_some()),
        ("MinLength", p.min_length.is_some()),
        ("Pattern", !p.pattern.is_empty()),
        ("MaxItems", p.max_items.is_some()),
        ("MinItems", p.min_items.is_some()),
        ("UniqueItems", p.unique_items),
        ("MultipleOf", p.multiple_of.is_some()),
        ("Enum", p.enum_.is_some()),
        ("MaxProperties", p.max_properties.is_some()),
        ("MinProperties", p.min_properties.is_some()),
        ("Required", p.required.is_some()),
        ("Items", p.items.is_some()),
        ("AllOf", p.all_of.is_some()),
        ("OneOf", p.one_of.is_some()),
        ("AnyOf", p.any_of.is_some()),
        ("Not", p.not.is_some()),
        ("Properties", p.properties.is_some()),
        ("AdditionalProperties", p.additional_properties.is_some()),
        ("PatternProperties", p.pattern_properties.is_some()),
        ("Dependencies", p.dependencies.is_some()),
        ("AdditionalItems", p.additional_items.is_some()),
        ("Definitions", p.definitions.is_some()),
        ("ExternalDocs", p.external_docs.is_some()),
        ("Example", p.example.is_some()),
        (
            "XPreserveUnknownFields",
            p.x_preserve_unknown_fields.is_some(),
        ),
        ("XEmbeddedResource", p.x_embedded_resource),
        ("XIntOrString", p.x_int_or_string),
        ("XListMapKeys", p.x_list_map_keys.is_some()),
        ("XListType", p.x_list_type.is_some()),
        ("XMapType", p.x_map_type.is_some()),
        ("XValidations", p.x_validations.is_some()),
    ];
    checks
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| name)
        .collect()
}

/// `validateCustomResourceDefinitionValidation`: one version's (or the shared) schema.
fn validate_validation(
    validation: Option<&Validation>,
    status_enabled: bool,
    require_structural: bool,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let Some(schema) = validation.and_then(|v| v.open_api_v3_schema.as_ref()) else {
        return errs;
    };
    let schema_path = path.child("openAPIV3Schema");
    if status_enabled {
        for field in set_schema_fields(schema) {
            if field == "Type" {
                if schema.type_ != "object" {
                    errs.push(FieldError::invalid(
                        &path.child("openAPIV3Schema.type"),
                        schema.type_.as_str(),
                        r#"only "object" is allowed as the type at the root of the schema if the status subresource is enabled"#,
                    ));
                    break;
                }
                continue;
            }
            if !ALLOWED_AT_ROOT_WITH_STATUS.contains(&field) {
                errs.push(FieldError::invalid(
                    &schema_path,
                    schema.raw.clone(),
                    format!(
                        "only [{}] fields are allowed at the root of the schema if the status subresource is enabled",
                        ALLOWED_AT_ROOT_WITH_STATUS.join(" ")
                    ),
                ));
                break;
            }
        }
    }
    if schema.nullable {
        errs.push(FieldError::forbidden(
            &path.child("openAPIV3Schema.nullable"),
            "nullable cannot be true at the root",
        ));
    }

    let mut init_errs = Vec::new();
    let mut cel = false;
    if require_structural {
        match new_structural(schema) {
            Err(e) => init_errs.push(FieldError::invalid(&schema_path, "", e)),
            Ok(structural) => {
                let structural_errs = validate_structural(&schema_path, &structural);
                if !structural_errs.is_empty() {
                    errs.extend(structural_errs);
                } else {
                    let default_errs = validate_defaults(&schema_path, &structural);
                    if !default_errs.is_empty() {
                        errs.extend(default_errs);
                    } else {
                        cel = true;
                    }
                }
            }
        }
    }
    validate_schema(schema, &schema_path, &Context::root(cel), true, &mut errs);
    if errs.is_empty() {
        errs.extend(init_errs);
    }
    errs
}

fn selectable_fields_against(
    fields: &[SelectableField],
    schema: &Props,
    schema_path: &Path,
    path: &Path,
) -> Vec<FieldError> {
    match new_structural(schema) {
        Err(e) => vec![FieldError::invalid(schema_path, "", e)],
        Ok(structural) => validate_selectable_fields(fields, &structural, path),
    }
}

fn validate_selectable_fields(
    fields: &[SelectableField],
    s: &Structural,
    path: &Path,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut unique = BTreeSet::new();
    for (i, field) in fields.iter().enumerate() {
        let p = path.index(i).child("jsonPath");
        if field.json_path.is_empty() {
            errs.push(FieldError::required(&p, ""));
            continue;
        }
        let (field_path, found) = match valid_field_path(&field.json_path, s, false) {
            Ok(found) => found,
            Err(e) => {
                errs.push(FieldError::invalid(
                    &p,
                    field.json_path.as_str(),
                    format!("is an invalid path: {e}"),
                ));
                continue;
            }
        };
        if field_path.root_name() == "metadata" {
            errs.push(FieldError::invalid(
                &p,
                field.json_path.as_str(),
                "must not point to fields in metadata",
            ));
        }
        if !matches!(
            found.generic.type_.as_str(),
            "string" | "boolean" | "integer"
        ) {
            errs.push(FieldError::invalid(
                &p,
                field.json_path.as_str(),
                "must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.",
            ));
        }
        if !unique.insert(field_path.to_string()) {
            errs.push(FieldError::duplicate(&p, field.json_path.as_str()));
        }
    }
    if unique.len() > MAX_SELECTABLE_FIELDS {
        errs.push(FieldError::too_many(
            path,
            unique.len() as i64,
            MAX_SELECTABLE_FIELDS as i64,
        ));
    }
    errs
}

fn validate_conversion(conversion: &Conversion, path: &Path) -> Vec<FieldError> {
    let mut errs = enum_string(
        &path.child("strategy"),
        &conversion.strategy,
        &["None", "Webhook"],
    );
    let client_config = conversion
        .webhook
        .as_ref()
        .and_then(|w| w.client_config.as_ref());
    let review_versions = conversion
        .webhook
        .as_ref()
        .and_then(|w| w.conversion_review_versions.as_ref());
    // The internal version flattens webhook.clientConfig to webhookClientConfig.
    let cc_path = path.child("webhookClientConfig");
    if conversion.strategy == "Webhook" {
        match client_config {
            None => errs.push(FieldError::required(
                &cc_path,
                "required when strategy is set to Webhook",
            )),
            Some(cc) => match (&cc.url, &cc.service) {
                (Some(url), None) => errs.extend(webhook_url(&cc_path.child("url"), url)),
                (None, Some(service)) => {
                    errs.extend(webhook_service(&cc_path.child("service"), service))
                }
                _ => errs.push(FieldError::required(
                    &cc_path,
                    "exactly one of url or service is required",
                )),
            },
        }
        errs.extend(conversion_review_versions(
            review_versions.map_or(&[][..], Vec::as_slice),
            &path.child("conversionReviewVersions"),
        ));
    } else {
        if client_config.is_some() {
            errs.push(FieldError::forbidden(
                &cc_path,
                "should not be set when strategy is not set to Webhook",
            ));
        }
        if review_versions.is_some_and(|v| !v.is_empty()) {
            errs.push(FieldError::forbidden(
                &path.child("conversionReviewVersions"),
                "should not be set when strategy is not set to Webhook",
            ));
        }
    }
    errs
}

fn conversion_review_versions(versions: &[String], path: &Path) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if versions.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    let mut seen = BTreeSet::new();
    let mut accepted = false;
    for (i, v) in versions.iter().enumerate() {
        if !seen.insert(v.as_str()) {
            errs.push(FieldError::invalid(
                &path.index(i),
                v.as_str(),
                "duplicate version",
            ));
            continue;
        }
        for msg in names::dns1035_label(v) {
            errs.push(FieldError::invalid(&path.index(i), v.as_str(), msg));
        }
        accepted |= ACCEPTED_CONVERSION_REVIEW_VERSIONS.contains(&v.as_str());
    }
    if !accepted {
        errs.push(FieldError::invalid(
            path,
            versions.to_vec(),
            format!(
                "must include at least one of {}",
                ACCEPTED_CONVERSION_REVIEW_VERSIONS.join(", ")
            ),
        ));
    }
    errs
}

/// The parts of a URL that webhook validation looks at, split as Go's `net/url` does.
struct UrlParts<'a> {
    scheme: &'a str,
    user: Option<&'a str>,
    host: &'a str,
    query: &'a str,
    fragment: &'a str,
}

fn split_url(url: &str) -> Result<UrlParts<'_>, String> {
    let (rest, fragment) = url.split_once('#').unwrap_or((url, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (scheme, rest) = match rest.split_once(':') {
        Some((scheme, after))
            if scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (scheme, after)
        }
        Some(("", _)) => {
            return Err(format!(
                "parse {}: missing protocol scheme",
                super::field::go_quote(url)
            ));
        }
        _ => ("", rest),
    };
    let (user, host) = match rest.strip_prefix("//") {
        Some(authority) => {
            let authority = authority.split('/').next().unwrap_or_default();
            match authority.rsplit_once('@') {
                Some((user, host)) => (Some(user), host),
                None => (None, authority),
            }
        }
        None => (None, ""),
    };
    Ok(UrlParts {
        scheme,
        user,
        host,
        query,
        fragment,
    })
}

fn webhook_url(path: &Path, url: &str) -> Vec<FieldError> {
    const FORM: &str = "; desired format: https://host[/path]";
    let mut errs = Vec::new();
    match split_url(url) {
        Err(e) => errs.push(FieldError::required(
            path,
            format!("url must be a valid URL: {e}{FORM}"),
        )),
        Ok(u) => {
            if u.scheme != "https" {
                errs.push(FieldError::invalid(
                    path,
                    u.scheme,
                    format!("'https' is the only allowed URL scheme{FORM}"),
                ));
            }
            if u.host.is_empty() {
                errs.push(FieldError::invalid(
                    path,
                    u.host,
                    format!("host must be provided{FORM}"),
                ));
            }
            if let Some(user) = u.user {
                errs.push(FieldError::invalid(
                    path,
                    user,
                    "user information is not permitted in the URL",
                ));
            }
            if !u.fragment.is_empty() {
                errs.push(FieldError::invalid(
                    path,
                    u.fragment,
                    "fragments are not permitted in the URL",
                ));
            }
            if !u.query.is_empty() {
                errs.push(FieldError::invalid(
                    path,
                    u.query,
                    "query parameters are not permitted in the URL",
                ));
            }
        }
    }
    errs
}

fn webhook_service(path: &Path, service: &ServiceReference) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if service.name.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "service name is required",
        ));
    }
    if service.namespace.is_empty() {
        errs.push(FieldError::required(
            &path.child("namespace"),
            "service namespace is required",
        ));
    }
    if !(1..=65535).contains(&service.port) {
        errs.push(FieldError::invalid(
            &path.child("port"),
            service.port,
            "port is not valid: must be between 1 and 65535, inclusive",
        ));
    }
    let Some(url_path) = service.path.as_deref() else {
        return errs;
    };
    if url_path == "/" || url_path.is_empty() {
        return errs;
    }
    let p = path.child("path");
    if url_path == "//" {
        errs.push(FieldError::invalid(
            &p,
            url_path,
            "segment[0] may not be empty",
        ));
        return errs;
    }
    if !url_path.starts_with('/') {
        errs.push(FieldError::invalid(&p, url_path, "must start with a '/'"));
    }
    let mut to_check = &url_path[1..];
    if let Some(stripped) = to_check.strip_suffix('/') {
        to_check = stripped;
    }
    for (i, step) in to_check.split('/').enumerate() {
        if step.is_empty() {
            errs.push(FieldError::invalid(
                &p,
                url_path,
                format!("segment[{i}] may not be empty"),
            ));
            continue;
        }
        for failure in names::dns1123_subdomain(step) {
            errs.push(FieldError::invalid(
                &p,
                url_path,
                format!("segment[{i}]: {failure}"),
            ));
        }
    }
    errs
}

/// `ValidateCustomResourceDefinitionStoredVersions` after `PrepareForCreate`, which sets
/// `status.storedVersions` to the first storage version.
fn validate_stored_versions(spec: &Spec) -> Vec<FieldError> {
    let path = Path::new("status").child("storedVersions");
    let Some(stored) = spec
        .versions
        .iter()
        .find(|v| v.storage)
        .map(|v| v.name.clone())
    else {
        return vec![FieldError::invalid(
            &path,
            Value::Null,
            "must have at least one stored version",
        )];
    };
    spec.versions
        .iter()
        .filter(|v| v.storage && v.name != stored)
        .map(|v| {
            FieldError::invalid(
                &path,
                vec![stored.clone()],
                format!("must have the storage version {}", v.name),
            )
        })
        .collect()
}

/// Groups under `k8s.io` and `kubernetes.io` need the API approval annotation.
fn validate_api_approval(crd: &Crd) -> Vec<FieldError> {
    let group = crd.spec.group.as_str();
    let protected = group == "k8s.io"
        || group.ends_with(".k8s.io")
        || group == "kubernetes.io"
        || group.ends_with(".kubernetes.io");
    if !protected {
        return Vec::new();
    }
    let path = Path::new("metadata")
        .child("annotations")
        .key(API_APPROVAL_ANNOTATION);
    let annotation = crd
        .metadata
        .annotations
        .get(API_APPROVAL_ANNOTATION)
        .map_or("", String::as_str);
    if annotation.is_empty() {
        return vec![FieldError::required(
            &path,
            format!(
                "protected groups must have approval annotation {}, see https://github.com/kubernetes/enhancements/pull/1111",
                super::field::go_quote(API_APPROVAL_ANNOTATION)
            ),
        )];
    }
    if annotation.starts_with("unapproved") {
        return Vec::new();
    }
    let is_url = split_url(annotation).is_ok_and(|u| !u.scheme.is_empty() && !u.host.is_empty());
    if is_url {
        return Vec::new();
    }
    vec![FieldError::invalid(
        &path,
        annotation,
        format!(
            "protected groups must have approval annotation {} with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111",
            super::field::go_quote(API_APPROVAL_ANNOTATION)
        ),
    )]
}

/// `SchemaHas`: whether `pred` holds for `p` or any schema below it.
fn schema_has(p: &Props, pred: &dyn Fn(&Props) -> bool) -> bool {
    if pred(p) {
        return true;
    }
    let mut children: Vec<&Props> = Vec::new();
    match &p.items {
        Some(PropsOrArray::Schema(s)) => children.push(s),
        Some(PropsOrArray::Array(list)) => children.extend(list),
        None => {}
    }
    for list in [&p.all_of, &p.any_of, &p.one_of] {
        children.extend(list.iter().flatten());
    }
    children.extend(p.not.as_deref());
    for map in [&p.properties, &p.pattern_properties, &p.definitions] {
        children.extend(map.iter().flat_map(|m| m.values()));
    }
    for pb in [&p.additional_properties, &p.additional_items] {
        children.extend(pb.as_ref().and_then(PropsOrBool::schema));
    }
    for dep in p.dependencies.iter().flat_map(|m| m.values()) {
        if let PropsOrStringArray::Schema(s) = dep {
            children.push(s);
        }
    }
    children.into_iter().any(|c| schema_has(c, pred))
}

fn has_kubernetes_extensions(p: &Props) -> bool {
    p.x_embedded_resource
        || p.x_preserve_unknown_fields.is_some()
        || p.x_int_or_string
        || p.x_list_map_keys.as_ref().is_some_and(|k| !k.is_empty())
        || p.x_list_type.is_some()
        || p.x_validations.as_ref().is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::FieldErrorKind::{self, *};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    /// A valid CRD: one version, a status subresource, a spec with a few fields.
    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                "scope": "Namespaced",
                "versions": [{
                    "name": "v1",
                    "served": true,
                    "storage": true,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object"},
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "replicas": {"type": "integer"},
                                    "mode": {"type": "string"}
                                }
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                        }
                    }}
                }]
            }
        })
    }

    /// Sets the value at a JSON pointer, creating objects on the way.
    fn set(mut doc: Value, pointer: &str, value: Value) -> Value {
        let mut cur = &mut doc;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            cur = match cur {
                Value::Array(items) => &mut items[token.parse::<usize>().expect("index")],
                other => {
                    if !other.is_object() {
                        *other = json!({});
                    }
                    other
                        .as_object_mut()
                        .expect("object")
                        .entry(token)
                        .or_insert(Value::Null)
                }
            };
        }
        *cur = value;
        doc
    }

    /// Removes the value at a JSON pointer.
    fn remove(mut doc: Value, pointer: &str) -> Value {
        let (parent, last) = pointer.rsplit_once('/').expect("pointer");
        match doc.pointer_mut(parent).expect("parent exists") {
            Value::Object(map) => {
                map.remove(last);
            }
            Value::Array(items) => {
                items.remove(last.parse::<usize>().expect("index"));
            }
            _ => panic!("{parent} is not a container"),
        }
        doc
    }

    const SCHEMA: &str = "/spec/versions/0/schema/openAPIV3Schema";
    const SPEC_PROPS: &str = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties";
    /// Where Kubernetes reports errors in the (single, hence shared) schema.
    const S: &str = "spec.validation.openAPIV3Schema";

    fn spec_prop(name: &str, schema: Value) -> Value {
        set(crd(), &format!("{SPEC_PROPS}/{name}"), schema)
    }

    fn without_status(doc: Value) -> Value {
        remove(doc, "/spec/versions/0/subresources")
    }

    fn two_versions(doc: Value) -> Value {
        let mut v2 = doc["spec"]["versions"][0].clone();
        v2["name"] = json!("v2");
        v2["storage"] = json!(false);
        let mut doc = doc;
        doc["spec"]["versions"]
            .as_array_mut()
            .expect("versions")
            .push(v2);
        doc
    }

    fn assert_errors(doc: &Value, expected: &[(&str, FieldErrorKind)]) {
        let errors = validate_crd(doc);
        let got: Vec<(String, FieldErrorKind)> =
            errors.iter().map(|e| (e.path.clone(), e.kind)).collect();
        let want: Vec<(String, FieldErrorKind)> =
            expected.iter().map(|(p, k)| (p.to_string(), *k)).collect();
        let printed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(got, want, "errors were:\n{}", printed.join("\n"));
    }

    /// Each claim below is a CRD and the errors Kubernetes reports for it, by path and kind.
    macro_rules! claims {
        ($($name:ident: $doc:expr => [$(($path:expr, $kind:expr)),* $(,)?];)*) => {
            $(
                #[test]
                fn $name() {
                    let expected: &[(String, FieldErrorKind)] = &[$(($path.to_string(), $kind)),*];
                    let expected: Vec<(&str, FieldErrorKind)> =
                        expected.iter().map(|(p, k)| (p.as_str(), *k)).collect();
                    assert_errors(&$doc, &expected);
                }
            )*
        };
    }

    claims! {
        // Accepted.
        a_plain_structural_crd_is_valid: crd() => [];
        a_crd_without_a_status_subresource_is_valid: without_status(crd()) => [];
        versions_with_different_schemas_are_valid:
            set(two_versions(crd()), "/spec/versions/1/schema/openAPIV3Schema/description", json!("v2")) => [];
        int_or_string_may_omit_the_type: spec_prop("port", json!({
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": "^[0-9]+$"
        })) => [];
        an_embedded_resource_with_preserved_fields_is_valid: spec_prop("template", json!({
            "type": "object",
            "x-kubernetes-embedded-resource": true,
            "x-kubernetes-preserve-unknown-fields": true
        })) => [];
        a_list_map_with_required_keys_is_valid: spec_prop("ports", json!({
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "port": {"type": "integer"}
            }}
        })) => [];
        defaults_that_fit_their_schema_are_valid: spec_prop("limits", json!({
            "type": "object",
            "default": {"cpu": "1", "count": 3},
            "required": ["cpu"],
            "properties": {
                "cpu": {"type": "string", "pattern": "^[0-9]+$", "default": "2"},
                "count": {"type": "integer", "minimum": 1, "maximum": 5, "enum": [1, 3, 5]}
            }
        })) => [];
        restricting_the_name_in_root_metadata_is_valid:
            set(crd(), &format!("{SCHEMA}/properties/metadata"), json!({
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 63}}
            })) => [];
        well_formed_validation_rules_are_valid: spec_prop("min", json!({
            "type": "integer",
            "x-kubernetes-validations": [
                {"rule": "self >= 0", "message": "must not be negative", "reason": "FieldValueInvalid"}
            ]
        })) => [];
        selectable_fields_on_scalars_are_valid:
            set(crd(), "/spec/versions/0/selectableFields", json!([
                {"jsonPath": ".spec.mode"}, {"jsonPath": ".spec.replicas"}
            ])) => [];
        a_webhook_conversion_to_a_service_is_valid:
            set(crd(), "/spec/conversion", json!({
                "strategy": "Webhook",
                "webhook": {
                    "clientConfig": {"service": {"namespace": "ns", "name": "svc", "path": "/convert"}},
                    "conversionReviewVersions": ["v1"]
                }
            })) => [];
        a_protected_group_with_an_approval_url_is_valid:
            set(set(set(crd(), "/spec/group", json!("x.k8s.io")),
                "/metadata/name", json!("widgets.x.k8s.io")),
                "/metadata/annotations", json!({"api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/pull/1111"})) => [];
        null_values_count_as_absent:
            set(set(crd(), "/metadata/creationTimestamp", Value::Null),
                &format!("{SPEC_PROPS}/mode/default"), Value::Null) => [];
        printer_columns_and_scale_are_valid:
            set(set(crd(), "/spec/versions/0/additionalPrinterColumns", json!([
                {"name": "Replicas", "type": "integer", "format": "int32", "jsonPath": ".spec.replicas", "priority": 1}
            ])), "/spec/versions/0/subresources/scale", json!({
                "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector"
            })) => [];

        // Strict decoding.
        an_unknown_top_level_key_is_refused: set(crd(), "/extra", json!(1)) => [("extra", UnknownField)];
        an_unknown_key_in_a_schema_is_refused: spec_prop("mode", json!({"type": "string", "maxlength": 3}))
            => [("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[mode].maxlength", UnknownField)];
        the_v1beta1_top_level_validation_is_unknown_in_v1: set(crd(), "/spec/validation", json!({}))
            => [("spec.validation", UnknownField)];
        a_type_that_is_not_a_string_is_refused: spec_prop("mode", json!({"type": 5}))
            => [("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[mode].type", TypeInvalid)];
        an_integer_keyword_with_a_fraction_is_refused: spec_prop("mode", json!({"type": "string", "maxLength": 1.5}))
            => [("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[mode].maxLength", TypeInvalid)];
        only_apiextensions_v1_is_understood: set(crd(), "/apiVersion", json!("apiextensions.k8s.io/v1beta1"))
            => [("apiVersion", NotSupported)];
        subresource_status_takes_no_keys: set(crd(), "/spec/versions/0/subresources/status", json!({"x": 1}))
            => [("spec.versions[0].subresources.status.x", UnknownField)];

        // Metadata and names.
        the_name_must_be_plural_dot_group: set(crd(), "/metadata/name", json!("widget.example.com"))
            => [("metadata.name", Invalid)];
        a_name_is_required: remove(crd(), "/metadata/name") => [("metadata.name", Required)];
        a_crd_has_no_namespace: set(crd(), "/metadata/namespace", json!("default"))
            => [("metadata.namespace", Forbidden)];
        label_values_must_be_valid: set(crd(), "/metadata/labels", json!({"app": "-bad"}))
            => [("metadata.labels", Invalid)];
        the_plural_must_be_a_lowercase_dns_label:
            set(set(crd(), "/spec/names/plural", json!("Widgets")), "/metadata/name", json!("Widgets.example.com"))
            => [("metadata.name", Invalid), ("spec.names.plural", Invalid)];
        kind_and_list_kind_must_differ: set(crd(), "/spec/names/listKind", json!("Widget"))
            => [("spec.names.listKind", Invalid)];
        short_names_must_be_dns_labels: set(crd(), "/spec/names/shortNames", json!(["w_g"]))
            => [("spec.names.shortNames[0]", Invalid)];
        categories_must_be_dns_labels: set(crd(), "/spec/names/categories", json!(["All"]))
            => [("spec.names.categories[0]", Invalid)];
        a_kind_is_required_and_list_kind_then_not_defaulted: remove(crd(), "/spec/names/kind")
            => [("spec.names.kind", Required), ("spec.names.listKind", Required)];
        a_group_needs_a_dot:
            set(set(crd(), "/spec/group", json!("example")), "/metadata/name", json!("widgets.example"))
            => [("spec.group", Invalid)];
        the_scope_is_cluster_or_namespaced: set(crd(), "/spec/scope", json!("Global"))
            => [("spec.scope", NotSupported)];
        a_protected_group_needs_api_approval:
            set(set(crd(), "/spec/group", json!("x.k8s.io")), "/metadata/name", json!("widgets.x.k8s.io"))
            => [("metadata.annotations[api-approved.kubernetes.io]", Required)];

        // Versions.
        at_least_one_version_is_required: set(crd(), "/spec/versions", json!([]))
            => [("spec.versions", Invalid), ("status.storedVersions", Invalid)];
        exactly_one_version_is_stored:
            set(two_versions(crd()), "/spec/versions/1/storage", json!(true))
            => [("spec.versions", Invalid), ("status.storedVersions", Invalid)];
        version_names_are_unique: set(two_versions(crd()), "/spec/versions/1/name", json!("v1"))
            => [("spec.versions", Invalid)];
        version_names_are_dns_labels_and_the_first_is_also_spec_version:
            set(crd(), "/spec/versions/0/name", json!("V1"))
            => [("spec.versions[0].name", Invalid), ("spec.version", Invalid)];
        every_version_needs_a_schema: remove(crd(), "/spec/versions/0/schema")
            => [("spec.versions[0].schema.openAPIV3Schema", Required)];
        a_deprecation_warning_needs_a_deprecated_version:
            set(crd(), "/spec/versions/0/deprecationWarning", json!("old"))
            => [("spec.versions[0].deprecationWarning", Invalid)];
        preserve_unknown_fields_cannot_be_true: set(crd(), "/spec/preserveUnknownFields", json!(true))
            => [("spec.preserveUnknownFields", Invalid)];

        // Printer columns, scale, selectable fields, conversion.
        printer_column_types_are_restricted:
            set(crd(), "/spec/versions/0/additionalPrinterColumns", json!([{"name": "A", "type": "text", "jsonPath": ".spec.mode"}]))
            => [("spec.additionalPrinterColumns[0].type", Invalid)];
        printer_column_formats_are_restricted:
            set(crd(), "/spec/versions/0/additionalPrinterColumns", json!([{"name": "A", "type": "string", "format": "uuid", "jsonPath": ".spec.mode"}]))
            => [("spec.additionalPrinterColumns[0].format", Invalid)];
        printer_columns_need_a_json_path_starting_with_a_dot:
            set(crd(), "/spec/versions/0/additionalPrinterColumns", json!([{"name": "A", "type": "string"}, {"name": "B", "type": "string", "jsonPath": "spec.mode"}]))
            => [("spec.additionalPrinterColumns[0].JSONPath", Required), ("spec.additionalPrinterColumns[1].JSONPath", Invalid)];
        scale_paths_point_under_spec_and_status:
            set(crd(), "/spec/versions/0/subresources/scale", json!({"specReplicasPath": ".status.replicas"}))
            => [("spec.subresources.scale.specReplicasPath", Invalid), ("spec.subresources.scale.statusReplicasPath", Required)];
        selectable_fields_must_name_scalar_fields_outside_metadata:
            set(crd(), "/spec/versions/0/selectableFields", json!([
                {"jsonPath": ".metadata.name"}, {"jsonPath": ".spec"}, {"jsonPath": ".spec.nope"},
                {"jsonPath": ".spec.mode"}, {"jsonPath": ".spec.mode"}, {"jsonPath": ""}
            ]))
            => [
                ("spec.selectableFields[0].jsonPath", Invalid),
                ("spec.selectableFields[1].jsonPath", Invalid),
                ("spec.selectableFields[2].jsonPath", Invalid),
                ("spec.selectableFields[4].jsonPath", Duplicate),
                ("spec.selectableFields[5].jsonPath", Required),
            ];
        at_most_eight_selectable_fields: {
            let props: serde_json::Map<String, Value> =
                (0..9).map(|i| (format!("f{i}"), json!({"type": "string"}))).collect();
            let fields: Vec<Value> = (0..9).map(|i| json!({"jsonPath": format!(".spec.f{i}")})).collect();
            set(set(crd(), &format!("{SCHEMA}/properties/spec/properties"), Value::Object(props)),
                "/spec/versions/0/selectableFields", Value::Array(fields))
        } => [("spec.selectableFields", TooMany)];
        the_conversion_strategy_is_none_or_webhook: set(crd(), "/spec/conversion", json!({"strategy": "Magic"}))
            => [("spec.conversion.strategy", NotSupported)];
        a_webhook_conversion_needs_a_client_config_and_review_versions:
            set(crd(), "/spec/conversion", json!({"strategy": "Webhook"}))
            => [("spec.conversion.webhookClientConfig", Required), ("spec.conversion.conversionReviewVersions", Required)];
        a_webhook_url_must_be_https: set(crd(), "/spec/conversion", json!({
                "strategy": "Webhook",
                "webhook": {"clientConfig": {"url": "http://example.com/convert?x=1"}, "conversionReviewVersions": ["v1"]}
            }))
            => [("spec.conversion.webhookClientConfig.url", Invalid), ("spec.conversion.webhookClientConfig.url", Invalid)];
        a_none_conversion_takes_no_webhook: set(crd(), "/spec/conversion", json!({
                "strategy": "None", "webhook": {"clientConfig": {"url": "https://example.com"}}
            }))
            => [("spec.conversion.webhookClientConfig", Forbidden)];

        // Structural schemas.
        a_schema_node_without_a_type_is_not_structural: spec_prop("mode", json!({"description": "no type"}))
            => [(format!("{S}.properties[spec].properties[mode].type"), Required)];
        array_items_need_a_type: spec_prop("list", json!({"type": "array", "items": {}}))
            => [(format!("{S}.properties[spec].properties[list].items.type"), Required)];
        an_array_needs_items: spec_prop("list", json!({"type": "array"}))
            => [(format!("{S}.properties[spec].properties[list].items"), Required)];
        the_root_must_be_an_object: without_status(set(crd(), &format!("{SCHEMA}/type"), json!("string")))
            => [(format!("{S}.type"), Invalid)];
        with_a_status_subresource_the_root_must_be_an_object: set(crd(), &format!("{SCHEMA}/type"), json!("string"))
            => [(format!("{S}.type"), Invalid), (format!("{S}.type"), Invalid)];
        with_a_status_subresource_the_root_takes_few_keywords: set(crd(), &format!("{SCHEMA}/minProperties"), json!(1))
            => [(S.to_string(), Invalid)];
        the_root_cannot_be_nullable: without_status(set(crd(), &format!("{SCHEMA}/nullable"), json!(true)))
            => [(format!("{S}.nullable"), Forbidden)];
        additional_properties_are_not_allowed_at_the_root:
            without_status(set(remove(crd(), &format!("{SCHEMA}/properties")), &format!("{SCHEMA}/additionalProperties"), json!({"type": "string"})))
            => [(format!("{S}.additionalProperties"), Forbidden)];
        properties_and_additional_properties_are_exclusive: spec_prop("labels", json!({
                "type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}
            }))
            => [(format!("{S}.properties[spec].properties[labels].additionalProperties"), Forbidden)];
        ref_is_not_supported: spec_prop("mode", json!({"type": "string", "$ref": "#/definitions/x"}))
            => [(format!("{S}.properties[spec].properties[mode].$ref"), Forbidden)];
        dollar_schema_makes_a_schema_non_structural: spec_prop("mode", json!({"type": "string", "$schema": "http://json-schema.org/draft-04/schema#"}))
            => [(S.to_string(), Invalid)];
        forbidden_keywords_are_refused: spec_prop("mode", json!({
                "type": "object", "id": "x", "definitions": {"d": {"type": "string"}},
                "dependencies": {"a": ["b"]}, "patternProperties": {"^a": {"type": "string"}},
                "additionalItems": false
            }))
            => [
                (format!("{S}.properties[spec].properties[mode].id"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].additionalItems"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].patternProperties"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].definitions"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].dependencies"), Forbidden),
            ];
        unique_items_cannot_be_true: spec_prop("list", json!({"type": "array", "uniqueItems": true, "items": {"type": "string"}}))
            => [(format!("{S}.properties[spec].properties[list].uniqueItems"), Forbidden)];
        items_cannot_be_a_list_of_schemas: spec_prop("list", json!({"type": "array", "items": [{"type": "string"}]}))
            => [(format!("{S}.properties[spec].properties[list].items"), Forbidden)];
        types_are_openapi_v3_types: spec_prop("mode", json!({"type": "null"}))
            => [(format!("{S}.properties[spec].properties[mode].type"), NotSupported),
                (format!("{S}.properties[spec].properties[mode].type"), Forbidden)];
        junctors_cannot_state_types_or_defaults: spec_prop("mode", json!({
                "type": "string",
                "allOf": [{"type": "string"}],
                "anyOf": [{"default": "a"}],
                "oneOf": [{"description": "d"}],
                "not": {"nullable": true}
            }))
            => [
                (format!("{S}.properties[spec].properties[mode].allOf[0].type"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].anyOf[0].default"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].not.nullable"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].oneOf[0].description"), Forbidden),
            ];
        junctors_cannot_use_kubernetes_extensions: spec_prop("mode", json!({
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "allOf": [{"additionalProperties": true, "x-kubernetes-preserve-unknown-fields": true,
                           "x-kubernetes-validations": [{"rule": "true"}]}]
            }))
            => [
                (format!("{S}.properties[spec].properties[mode].allOf[0].additionalProperties"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].allOf[0].x-kubernetes-preserve-unknown-fields"), Forbidden),
                (format!("{S}.properties[spec].properties[mode].allOf[0].x-kubernetes-validations"), Forbidden),
            ];
        junctors_at_the_root_may_only_constrain_specified_fields:
            without_status(set(crd(), &format!("{SCHEMA}/anyOf"), json!([
                {"properties": {"spec": {"properties": {"b": {"maxLength": 3}}}}},
                {"required": ["spec"]}
            ])))
            => [(format!("{S}.properties[spec].properties[b]"), Required)];
        // Upstream checks completeness for the root's junctors only.
        junctors_below_the_root_are_not_checked_for_completeness: spec_prop("opts", json!({
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "anyOf": [{"properties": {"b": {"maxLength": 3}}}, {"required": ["a"]}]
            })) => [];
        root_metadata_may_only_restrict_name_and_generate_name:
            set(crd(), &format!("{SCHEMA}/properties/metadata"), json!({
                "type": "object", "properties": {"labels": {"type": "object"}}
            }))
            => [(format!("{S}.properties[metadata]"), Forbidden)];
        root_metadata_must_be_an_object: set(crd(), &format!("{SCHEMA}/properties/metadata/type"), json!("string"))
            => [(format!("{S}.properties[metadata].type"), Invalid)];
        root_kind_must_be_a_string: set(crd(), &format!("{SCHEMA}/properties/kind/type"), json!("integer"))
            => [(format!("{S}.properties[kind].type"), Invalid)];
        root_metadata_takes_no_default: set(crd(), &format!("{SCHEMA}/properties/metadata/default"), json!({}))
            => [(format!("{S}.properties[metadata].default"), Forbidden)];
        an_embedded_resource_is_an_object_with_properties: spec_prop("template", json!({"x-kubernetes-embedded-resource": true}))
            => [
                (format!("{S}.properties[spec].properties[template].properties"), Required),
                (format!("{S}.properties[spec].properties[template].type"), Required),
            ];
        int_or_string_excludes_preserve_unknown_fields: spec_prop("port", json!({
                "x-kubernetes-int-or-string": true, "x-kubernetes-preserve-unknown-fields": true
            }))
            => [(format!("{S}.properties[spec].properties[port].x-kubernetes-preserve-unknown-fields"), Invalid)];
        preserve_unknown_fields_false_is_refused: spec_prop("mode", json!({"type": "object", "x-kubernetes-preserve-unknown-fields": false}))
            => [(format!("{S}.properties[spec].properties[mode].x-kubernetes-preserve-unknown-fields"), Invalid)];
        an_invalid_pattern_is_refused: spec_prop("mode", json!({"type": "string", "pattern": "(unclosed"}))
            => [(format!("{S}.properties[spec].properties[mode].pattern"), Invalid)];

        // List and map extensions.
        a_list_type_needs_an_array: spec_prop("mode", json!({"type": "string", "x-kubernetes-list-type": "set"}))
            => [(format!("{S}.properties[spec].properties[mode].type"), Invalid)];
        list_types_are_atomic_set_or_map: spec_prop("list", json!({"type": "array", "x-kubernetes-list-type": "bag", "items": {"type": "string"}}))
            => [(format!("{S}.properties[spec].properties[list].x-kubernetes-list-type"), NotSupported)];
        list_map_keys_need_a_map_list: spec_prop("list", json!({"type": "array", "x-kubernetes-list-map-keys": ["a"], "items": {"type": "object", "properties": {"a": {"type": "string"}}}}))
            => [(format!("{S}.properties[spec].properties[list].x-kubernetes-list-type"), Required)];
        a_map_list_needs_keys_that_are_required_item_properties: spec_prop("list", json!({
                "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["a", "b"],
                "items": {"type": "object", "properties": {"a": {"type": "string"}}}
            }))
            => [
                (format!("{S}.properties[spec].properties[list].x-kubernetes-list-map-keys"), Invalid),
                (format!("{S}.properties[spec].properties[list].items.properties[a].default"), Required),
            ];
        a_map_list_needs_keys: spec_prop("list", json!({"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object"}}))
            => [(format!("{S}.properties[spec].properties[list].x-kubernetes-list-map-keys"), Required)];
        set_items_must_be_atomic: spec_prop("list", json!({
                "type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object"}
            }))
            => [(format!("{S}.properties[spec].properties[list].items.x-kubernetes-map-type"), Invalid)];
        map_types_need_an_object_and_a_known_value: spec_prop("mode", json!({"type": "string", "x-kubernetes-map-type": "fine"}))
            => [
                (format!("{S}.properties[spec].properties[mode].type"), Invalid),
                (format!("{S}.properties[spec].properties[mode].x-kubernetes-map-type"), NotSupported),
            ];

        // Validation rules (shape only).
        a_validation_rule_needs_a_rule: spec_prop("mode", json!({"type": "string", "x-kubernetes-validations": [{"rule": " "}]}))
            => [(format!("{S}.properties[spec].properties[mode].x-kubernetes-validations[0].rule"), Required)];
        a_multi_line_rule_needs_a_message: spec_prop("mode", json!({"type": "string", "x-kubernetes-validations": [{"rule": "a ||\nb"}]}))
            => [(format!("{S}.properties[spec].properties[mode].x-kubernetes-validations[0].message"), Required)];
        rule_reasons_are_field_value_reasons: spec_prop("mode", json!({"type": "string", "x-kubernetes-validations": [{"rule": "true", "reason": "Nope"}]}))
            => [(format!("{S}.properties[spec].properties[mode].x-kubernetes-validations[0].reason"), NotSupported)];
        a_rule_field_path_must_name_a_field: spec_prop("opts", json!({"type": "object", "properties": {"a": {"type": "string"}},
                "x-kubernetes-validations": [{"rule": "true", "fieldPath": ".b"}, {"rule": "true", "fieldPath": ".a"}]}))
            => [(format!("{S}.properties[spec].properties[opts].x-kubernetes-validations[0].fieldPath"), Invalid)];
        optional_old_self_needs_a_rule_using_old_self: spec_prop("mode", json!({"type": "string",
                "x-kubernetes-validations": [{"rule": "self != ''", "optionalOldSelf": true}]}))
            => [(format!("{S}.properties[spec].properties[mode].x-kubernetes-validations[0].optionalOldSelf"), Invalid)];

        // Defaults.
        a_default_of_the_wrong_type_is_refused: spec_prop("replicas", json!({"type": "integer", "default": "one"}))
            => [(format!("{S}.properties[spec].properties[replicas].default"), TypeInvalid)];
        a_default_beyond_the_maximum_is_refused: spec_prop("replicas", json!({"type": "integer", "maximum": 3, "default": 5}))
            => [(format!("{S}.properties[spec].properties[replicas].default"), Invalid)];
        a_default_outside_the_enum_is_refused: spec_prop("mode", json!({"type": "string", "enum": ["a", "b"], "default": "c"}))
            => [(format!("{S}.properties[spec].properties[mode].default"), NotSupported)];
        a_default_not_matching_the_pattern_is_refused: spec_prop("mode", json!({"type": "string", "pattern": "^a+$", "default": "b"}))
            => [(format!("{S}.properties[spec].properties[mode].default"), Invalid)];
        a_default_longer_than_max_length_is_refused: spec_prop("mode", json!({"type": "string", "maxLength": 2, "default": "abc"}))
            => [(format!("{S}.properties[spec].properties[mode].default"), TooLong)];
        an_object_default_must_have_its_required_fields: spec_prop("opts", json!({
                "type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                "default": {"b": "x"}
            }))
            => [(format!("{S}.properties[spec].properties[opts].default.a"), Required)];
        a_default_must_not_have_fields_pruning_drops: spec_prop("opts", json!({
                "type": "object", "properties": {"a": {"type": "string"}}, "default": {"a": "x", "z": 1}
            }))
            => [(format!("{S}.properties[spec].properties[opts].default"), Invalid)];
        a_nested_default_is_validated_against_its_field: spec_prop("opts", json!({
                "type": "object", "properties": {"a": {"type": "integer", "minimum": 1}}, "default": {"a": 0}
            }))
            => [(format!("{S}.properties[spec].properties[opts].default.a"), Invalid)];
        an_embedded_resource_default_needs_api_version_and_kind: spec_prop("template", json!({
                "type": "object", "x-kubernetes-embedded-resource": true,
                "x-kubernetes-preserve-unknown-fields": true, "default": {"spec": {}}
            }))
            => [
                (format!("{S}.properties[spec].properties[template].default.apiVersion"), Required),
                (format!("{S}.properties[spec].properties[template].default.kind"), Required),
            ];
        defaults_are_forbidden_in_metadata_additional_properties: set(crd(), &format!("{SCHEMA}/properties/spec/properties/template"), json!({
                "type": "object", "x-kubernetes-embedded-resource": true,
                "properties": {"metadata": {"type": "object", "properties": {"labels": {
                    "type": "object", "additionalProperties": {"type": "string", "default": "x"}
                }}}}
            }))
            => [(format!("{S}.properties[spec].properties[template].properties[metadata].properties[labels].additionalProperties.default"), Forbidden)];

        // Placement of errors.
        schema_errors_are_reported_per_version_when_versions_differ:
            set(two_versions(crd()), "/spec/versions/1/schema/openAPIV3Schema/properties/spec/properties/mode", json!({}))
            => [("spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[mode].type", Required)];
    }

    #[test]
    fn messages_read_as_kubernetes_writes_them() {
        let errors = validate_crd(&spec_prop("mode", json!({"description": "no type"})));
        assert_eq!(
            errors[0].to_string(),
            "spec.validation.openAPIV3Schema.properties[spec].properties[mode].type: Required value: must not be empty for specified object fields"
        );
        let errors = validate_crd(&spec_prop(
            "replicas",
            json!({"type": "integer", "maximum": 3, "default": 5}),
        ));
        assert_eq!(
            errors[0].to_string(),
            "spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: 5:  in body should be less than or equal to 3"
        );
        let errors = validate_crd(&spec_prop(
            "replicas",
            json!({"type": "integer", "default": "one"}),
        ));
        assert_eq!(
            errors[0].to_string(),
            r#"spec.validation.openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string""#
        );
        let errors = validate_crd(&set(crd(), "/spec/scope", json!("Global")));
        assert_eq!(
            errors[0].to_string(),
            r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#
        );
        let errors = validate_crd(&set(crd(), "/metadata/name", json!("widget.example.com")));
        assert_eq!(
            errors[0].to_string(),
            r#"metadata.name: Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group"#
        );
    }

    #[test]
    fn a_document_that_is_not_an_object_is_refused() {
        let errors = validate_crd(&json!("crd"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, FieldErrorKind::TypeInvalid);
    }
}
