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
//! * CEL: `x-kubernetes-validations` rules are checked for shape only, never compiled nor
//!   costed (there is no CEL implementation here), and not run against defaults.
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
            top: versions.first().and_then(|v| get(v)).map(|x| &x.0),
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
