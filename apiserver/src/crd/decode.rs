//! Strict decoding of a CustomResourceDefinition from JSON into [`types`](super::types):
//! every key must be one the `apiextensions.k8s.io/v1` Go types define, and every value
//! must have the JSON type Go would decode it into. This is what kube-apiserver does before
//! validation when the client asks for strict field validation (kubectl's default).
//!
//! # Caveats
//!
//! Kubernetes decodes the schemas under `items`, `additionalProperties`, `additionalItems`
//! and `dependencies` with a lenient decoder (their custom `UnmarshalJSON`), so an unknown
//! key there slips through a real cluster. We reject unknown keys everywhere: a typo in a
//! schema is a bug wherever it sits.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::field::{FieldError, Path};
use super::types::*;

const CRD_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];
const META_KEYS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
const OWNER_REFERENCE_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "name",
    "uid",
    "controller",
    "blockOwnerDeletion",
];
const SPEC_KEYS: &[&str] = &[
    "group",
    "names",
    "scope",
    "versions",
    "conversion",
    "preserveUnknownFields",
];
const NAMES_KEYS: &[&str] = &[
    "plural",
    "singular",
    "shortNames",
    "kind",
    "listKind",
    "categories",
];
const VERSION_KEYS: &[&str] = &[
    "name",
    "served",
    "storage",
    "deprecated",
    "deprecationWarning",
    "schema",
    "subresources",
    "additionalPrinterColumns",
    "selectableFields",
];
const SCALE_KEYS: &[&str] = &[
    "specReplicasPath",
    "statusReplicasPath",
    "labelSelectorPath",
];
const COLUMN_KEYS: &[&str] = &[
    "name",
    "type",
    "format",
    "description",
    "priority",
    "jsonPath",
];
const CONVERSION_KEYS: &[&str] = &["strategy", "webhook"];
const WEBHOOK_KEYS: &[&str] = &["clientConfig", "conversionReviewVersions"];
const CLIENT_CONFIG_KEYS: &[&str] = &["url", "service", "caBundle"];
const SERVICE_KEYS: &[&str] = &["namespace", "name", "path", "port"];
const STATUS_KEYS: &[&str] = &[
    "conditions",
    "acceptedNames",
    "storedVersions",
    "observedGeneration",
];
const CONDITION_KEYS: &[&str] = &[
    "type",
    "status",
    "lastTransitionTime",
    "reason",
    "message",
    "observedGeneration",
];
/// Every key of `JSONSchemaProps` in `apiextensions.k8s.io/v1`.
pub(crate) const SCHEMA_KEYS: &[&str] = &[
    "id",
    "$schema",
    "$ref",
    "description",
    "type",
    "format",
    "title",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "additionalItems",
    "definitions",
    "externalDocs",
    "example",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];
const RULE_KEYS: &[&str] = &[
    "rule",
    "message",
    "messageExpression",
    "reason",
    "fieldPath",
    "optionalOldSelf",
];

/// Decodes `value` as a v1 CustomResourceDefinition. Returns the decoded object, and the
/// unknown keys and type mismatches found (if any, Kubernetes would refuse the request
/// before validating).
pub(crate) fn decode(value: &Value) -> (Crd, Vec<FieldError>) {
    let mut d = Decoder::default();
    let crd = d.crd(value);
    (crd, d.errors)
}

/// Decodes one `openAPIV3Schema` (of an already validated CRD) into [`Props`]; returns
/// the problems found alongside.
pub(crate) fn decode_schema(value: &Value) -> (Props, Vec<FieldError>) {
    let mut d = Decoder::default();
    let props = d.props(value, &Path::new("openAPIV3Schema"));
    (props, d.errors)
}

#[cfg(test)]
pub(crate) fn props_for_test(value: &Value) -> Props {
    decode_schema(value).0
}

#[derive(Default)]
struct Decoder {
    errors: Vec<FieldError>,
}

/// A JSON object being decoded at `path`.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: Path,
}

impl<'a> Obj<'a> {
    /// The value under `key`, treating `null` as absent (as Go's decoder does).
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn path(&self, key: &str) -> Path {
        self.path.child(key)
    }
}

fn sorted_entries(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

impl Decoder {
    fn type_error(&mut self, path: &Path, value: &Value, expected: &str) {
        self.errors.push(FieldError::type_invalid(
            path,
            value.clone(),
            format!("must be {expected}"),
        ));
    }

    /// `value` as an object whose keys must all be in `known`.
    fn object<'a>(&mut self, value: &'a Value, path: &Path, known: &[&str]) -> Option<Obj<'a>> {
        let Some(map) = value.as_object() else {
            self.type_error(path, value, "an object");
            return None;
        };
        for (key, _) in sorted_entries(map) {
            if !known.contains(&key.as_str()) {
                self.errors
                    .push(FieldError::unknown_field(&path.child(key)));
            }
        }
        Some(Obj {
            map,
            path: path.clone(),
        })
    }

    fn child_object<'a>(&mut self, obj: &Obj<'a>, key: &str, known: &[&str]) -> Option<Obj<'a>> {
        let value = obj.get(key)?;
        self.object(value, &obj.path(key), known)
    }

    fn opt_string(&mut self, obj: &Obj<'_>, key: &str) -> Option<String> {
        let value = obj.get(key)?;
        match value.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.type_error(&obj.path(key), value, "a string");
                None
            }
        }
    }

    fn string(&mut self, obj: &Obj<'_>, key: &str) -> String {
        self.opt_string(obj, key).unwrap_or_default()
    }

    fn opt_bool(&mut self, obj: &Obj<'_>, key: &str) -> Option<bool> {
        let value = obj.get(key)?;
        match value.as_bool() {
            Some(b) => Some(b),
            None => {
                self.type_error(&obj.path(key), value, "a boolean");
                None
            }
        }
    }

    fn bool(&mut self, obj: &Obj<'_>, key: &str) -> bool {
        self.opt_bool(obj, key).unwrap_or(false)
    }

    fn opt_i64(&mut self, obj: &Obj<'_>, key: &str) -> Option<i64> {
        let value = obj.get(key)?;
        match value.as_i64() {
            Some(i) => Some(i),
            None => {
                self.type_error(&obj.path(key), value, "an integer");
                None
            }
        }
    }

    fn opt_i32(&mut self, obj: &Obj<'_>, key: &str) -> Option<i64> {
        let value = obj.get(key)?;
        match value.as_i64().filter(|i| i32::try_from(*i).is_ok()) {
            Some(i) => Some(i),
            None => {
                self.type_error(&obj.path(key), value, "a 32-bit integer");
                None
            }
        }
    }

    fn opt_f64(&mut self, obj: &Obj<'_>, key: &str) -> Option<f64> {
        let value = obj.get(key)?;
        match value.as_f64() {
            Some(f) => Some(f),
            None => {
                self.type_error(&obj.path(key), value, "a number");
                None
            }
        }
    }

    fn array<'a>(&mut self, obj: &Obj<'a>, key: &str) -> Option<&'a Vec<Value>> {
        let value = obj.get(key)?;
        match value.as_array() {
            Some(items) => Some(items),
            None => {
                self.type_error(&obj.path(key), value, "an array");
                None
            }
        }
    }

    fn opt_strings(&mut self, obj: &Obj<'_>, key: &str) -> Option<Vec<String>> {
        let items = self.array(obj, key)?;
        let path = obj.path(key);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.clone()),
                // Go decodes a null list element to "".
                Value::Null => out.push(String::new()),
                other => self.type_error(&path.index(i), other, "a string"),
            }
        }
        Some(out)
    }

    fn strings(&mut self, obj: &Obj<'_>, key: &str) -> Vec<String> {
        self.opt_strings(obj, key).unwrap_or_default()
    }

    fn string_map(&mut self, obj: &Obj<'_>, key: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(value) = obj.get(key) else {
            return out;
        };
        let path = obj.path(key);
        let Some(map) = value.as_object() else {
            self.type_error(&path, value, "an object");
            return out;
        };
        for (k, v) in sorted_entries(map) {
            match v {
                Value::String(s) => {
                    out.insert(k.clone(), s.clone());
                }
                Value::Null => {
                    out.insert(k.clone(), String::new());
                }
                other => self.type_error(&path.key(k), other, "a string"),
            }
        }
        out
    }

    /// A list of objects, each decoded by `f`.
    fn objects<'a, T>(
        &mut self,
        obj: &Obj<'a>,
        key: &str,
        known: &[&str],
        mut f: impl FnMut(&mut Self, &Obj<'a>) -> T,
    ) -> Option<Vec<T>> {
        let items = self.array(obj, key)?;
        let path = obj.path(key);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            if let Some(o) = self.object(item, &path.index(i), known) {
                out.push(f(self, &o));
            }
        }
        Some(out)
    }

    fn crd(&mut self, value: &Value) -> Crd {
        let root = Path::new("");
        let Some(obj) = self.object(value, &root, CRD_KEYS) else {
            return Crd::default();
        };
        let api_version = self.string(&obj, "apiVersion");
        if api_version != "apiextensions.k8s.io/v1" {
            self.errors.push(FieldError::not_supported(
                &Path::new("apiVersion"),
                api_version,
                &["apiextensions.k8s.io/v1"],
            ));
        }
        let kind = self.string(&obj, "kind");
        if kind != "CustomResourceDefinition" {
            self.errors.push(FieldError::not_supported(
                &Path::new("kind"),
                kind,
                &["CustomResourceDefinition"],
            ));
        }
        let metadata = match self.child_object(&obj, "metadata", META_KEYS) {
            Some(m) => self.metadata(&m),
            None => ObjectMeta::default(),
        };
        let spec = match self.child_object(&obj, "spec", SPEC_KEYS) {
            Some(s) => self.spec(&s),
            None => Spec::default(),
        };
        // Status is reset on create; only its shape is checked.
        if let Some(status) = self.child_object(&obj, "status", STATUS_KEYS) {
            self.objects(&status, "conditions", CONDITION_KEYS, |_, _| ());
            if let Some(names) = self.child_object(&status, "acceptedNames", NAMES_KEYS) {
                self.names(&names);
            }
            self.strings(&status, "storedVersions");
            self.opt_i64(&status, "observedGeneration");
        }
        Crd { metadata, spec }
    }

    fn metadata(&mut self, obj: &Obj<'_>) -> ObjectMeta {
        for key in [
            "selfLink",
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
        ] {
            self.opt_string(obj, key);
        }
        self.opt_i64(obj, "deletionGracePeriodSeconds");
        self.array(obj, "managedFields");
        ObjectMeta {
            name: self.string(obj, "name"),
            generate_name: self.string(obj, "generateName"),
            namespace: self.string(obj, "namespace"),
            generation: self.opt_i64(obj, "generation").unwrap_or(0),
            labels: self.string_map(obj, "labels"),
            annotations: self.string_map(obj, "annotations"),
            owner_references: self
                .objects(obj, "ownerReferences", OWNER_REFERENCE_KEYS, |d, o| {
                    d.opt_bool(o, "blockOwnerDeletion");
                    OwnerReference {
                        api_version: d.string(o, "apiVersion"),
                        kind: d.string(o, "kind"),
                        name: d.string(o, "name"),
                        uid: d.string(o, "uid"),
                        controller: d.bool(o, "controller"),
                    }
                })
                .unwrap_or_default(),
            finalizers: self.strings(obj, "finalizers"),
        }
    }

    fn spec(&mut self, obj: &Obj<'_>) -> Spec {
        Spec {
            group: self.string(obj, "group"),
            names: match self.child_object(obj, "names", NAMES_KEYS) {
                Some(n) => self.names(&n),
                None => Names::default(),
            },
            scope: self.string(obj, "scope"),
            versions: self
                .objects(obj, "versions", VERSION_KEYS, |d, v| d.version(v))
                .unwrap_or_default(),
            versions_raw: obj.get("versions").cloned().unwrap_or(Value::Null),
            conversion: self
                .child_object(obj, "conversion", CONVERSION_KEYS)
                .map(|c| self.conversion(&c)),
            preserve_unknown_fields: self.bool(obj, "preserveUnknownFields"),
        }
    }

    fn names(&mut self, obj: &Obj<'_>) -> Names {
        Names {
            plural: self.string(obj, "plural"),
            singular: self.string(obj, "singular"),
            short_names: self.strings(obj, "shortNames"),
            kind: self.string(obj, "kind"),
            list_kind: self.string(obj, "listKind"),
            categories: self.strings(obj, "categories"),
        }
    }

    fn version(&mut self, obj: &Obj<'_>) -> Version {
        let schema = self
            .child_object(obj, "schema", &["openAPIV3Schema"])
            .map(|s| {
                let open_api_v3_schema = s
                    .get("openAPIV3Schema")
                    .map(|v| self.props(v, &s.path("openAPIV3Schema")));
                (
                    Validation { open_api_v3_schema },
                    Value::Object(s.map.clone()),
                )
            });
        let subresources = self
            .child_object(obj, "subresources", &["status", "scale"])
            .map(|s| {
                let status = self.child_object(&s, "status", &[]).is_some();
                let scale = self.child_object(&s, "scale", SCALE_KEYS).map(|sc| Scale {
                    spec_replicas_path: self.string(&sc, "specReplicasPath"),
                    status_replicas_path: self.string(&sc, "statusReplicasPath"),
                    label_selector_path: self.opt_string(&sc, "labelSelectorPath"),
                });
                (Subresources { status, scale }, Value::Object(s.map.clone()))
            });
        let columns = self
            .objects(obj, "additionalPrinterColumns", COLUMN_KEYS, |d, c| {
                d.opt_string(c, "description");
                d.opt_i32(c, "priority");
                Column {
                    name: d.string(c, "name"),
                    type_: d.string(c, "type"),
                    format: d.string(c, "format"),
                    json_path: d.string(c, "jsonPath"),
                }
            })
            .filter(|c| !c.is_empty())
            .map(|c| {
                (
                    c,
                    obj.get("additionalPrinterColumns")
                        .cloned()
                        .unwrap_or(Value::Null),
                )
            });
        let selectable = self
            .objects(obj, "selectableFields", &["jsonPath"], |d, s| {
                SelectableField {
                    json_path: d.string(s, "jsonPath"),
                }
            })
            .filter(|s| !s.is_empty())
            .map(|s| {
                (
                    s,
                    obj.get("selectableFields").cloned().unwrap_or(Value::Null),
                )
            });
        // Kubernetes requires no version to be served; only the type is checked.
        self.bool(obj, "served");
        Version {
            name: self.string(obj, "name"),
            storage: self.bool(obj, "storage"),
            deprecated: self.bool(obj, "deprecated"),
            deprecation_warning: self.opt_string(obj, "deprecationWarning"),
            schema,
            subresources,
            additional_printer_columns: columns,
            selectable_fields: selectable,
        }
    }

    fn conversion(&mut self, obj: &Obj<'_>) -> Conversion {
        Conversion {
            strategy: self.string(obj, "strategy"),
            webhook: self
                .child_object(obj, "webhook", WEBHOOK_KEYS)
                .map(|w| WebhookConversion {
                    client_config: self
                        .child_object(&w, "clientConfig", CLIENT_CONFIG_KEYS)
                        .map(|c| {
                            if let Some(bundle) = self.opt_string(&c, "caBundle")
                                && !is_base64(&bundle)
                            {
                                self.type_error(
                                    &c.path("caBundle"),
                                    &Value::String(bundle),
                                    "base64-encoded bytes",
                                );
                            }
                            ClientConfig {
                                url: self.opt_string(&c, "url"),
                                service: self.child_object(&c, "service", SERVICE_KEYS).map(|s| {
                                    ServiceReference {
                                        namespace: self.string(&s, "namespace"),
                                        name: self.string(&s, "name"),
                                        path: self.opt_string(&s, "path"),
                                        port: self.opt_i32(&s, "port").unwrap_or(443),
                                    }
                                }),
                            }
                        }),
                    conversion_review_versions: self.opt_strings(&w, "conversionReviewVersions"),
                }),
        }
    }

    fn schema_map(&mut self, obj: &Obj<'_>, key: &str) -> Option<BTreeMap<String, Props>> {
        let value = obj.get(key)?;
        let path = obj.path(key);
        let Some(map) = value.as_object() else {
            self.type_error(&path, value, "an object");
            return None;
        };
        let mut out = BTreeMap::new();
        for (k, v) in sorted_entries(map) {
            out.insert(k.clone(), self.props(v, &path.key(k)));
        }
        Some(out)
    }

    fn schema_list(&mut self, obj: &Obj<'_>, key: &str) -> Option<Vec<Props>> {
        let items = self.array(obj, key)?;
        let path = obj.path(key);
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| self.props(v, &path.index(i)))
                .collect(),
        )
    }

    fn props_or_bool(&mut self, obj: &Obj<'_>, key: &str) -> Option<PropsOrBool> {
        let value = obj.get(key)?;
        match value {
            Value::Bool(b) => Some(PropsOrBool::Bool(*b)),
            Value::Object(_) => Some(PropsOrBool::Schema(Box::new(
                self.props(value, &obj.path(key)),
            ))),
            other => {
                self.type_error(&obj.path(key), other, "a boolean or a JSON schema");
                None
            }
        }
    }

    /// One JSONSchemaProps node. A non-object decodes to an empty node after reporting it.
    pub(crate) fn props(&mut self, value: &Value, path: &Path) -> Props {
        let Some(obj) = self.object(value, path, SCHEMA_KEYS) else {
            return Props {
                raw: value.clone(),
                ..Props::default()
            };
        };
        let items = match obj.get("items") {
            None => None,
            Some(v @ Value::Object(_)) => Some(PropsOrArray::Schema(Box::new(
                self.props(v, &obj.path("items")),
            ))),
            Some(Value::Array(list)) => {
                let path = obj.path("items");
                Some(PropsOrArray::Array(
                    list.iter()
                        .enumerate()
                        .map(|(i, v)| self.props(v, &path.index(i)))
                        .collect(),
                ))
            }
            Some(other) => {
                self.type_error(
                    &obj.path("items"),
                    other,
                    "a JSON schema or an array of them",
                );
                None
            }
        };
        let dependencies = obj.get("dependencies").and_then(|value| {
            let path = obj.path("dependencies");
            let Some(map) = value.as_object() else {
                self.type_error(&path, value, "an object");
                return None;
            };
            let mut out = BTreeMap::new();
            for (k, v) in sorted_entries(map) {
                let entry = match v {
                    Value::Object(_) => {
                        PropsOrStringArray::Schema(Box::new(self.props(v, &path.key(k))))
                    }
                    Value::Array(list) => {
                        let mut names = Vec::new();
                        for (i, item) in list.iter().enumerate() {
                            match item.as_str() {
                                Some(s) => names.push(s.to_string()),
                                None => self.type_error(&path.key(k).index(i), item, "a string"),
                            }
                        }
                        PropsOrStringArray::Strings(names)
                    }
                    Value::Null => continue,
                    other => {
                        self.type_error(
                            &path.key(k),
                            other,
                            "a JSON schema or an array of strings",
                        );
                        continue;
                    }
                };
                out.insert(k.clone(), entry);
            }
            Some(out)
        });
        let external_docs = self
            .child_object(&obj, "externalDocs", &["description", "url"])
            .map(|e| (self.string(&e, "description"), self.string(&e, "url")));
        let x_validations =
            self.objects(&obj, "x-kubernetes-validations", RULE_KEYS, |d, r| Rule {
                rule: d.string(r, "rule"),
                message: d.string(r, "message"),
                message_expression: d.string(r, "messageExpression"),
                reason: d.opt_string(r, "reason"),
                field_path: d.string(r, "fieldPath"),
                optional_old_self: d.opt_bool(r, "optionalOldSelf"),
            });
        Props {
            id: self.string(&obj, "id"),
            schema: self.string(&obj, "$schema"),
            reference: self.opt_string(&obj, "$ref"),
            description: self.string(&obj, "description"),
            type_: self.string(&obj, "type"),
            format: self.string(&obj, "format"),
            title: self.string(&obj, "title"),
            default: obj.get("default").cloned(),
            maximum: self.opt_f64(&obj, "maximum"),
            exclusive_maximum: self.bool(&obj, "exclusiveMaximum"),
            minimum: self.opt_f64(&obj, "minimum"),
            exclusive_minimum: self.bool(&obj, "exclusiveMinimum"),
            max_length: self.opt_i64(&obj, "maxLength"),
            min_length: self.opt_i64(&obj, "minLength"),
            pattern: self.string(&obj, "pattern"),
            max_items: self.opt_i64(&obj, "maxItems"),
            min_items: self.opt_i64(&obj, "minItems"),
            unique_items: self.bool(&obj, "uniqueItems"),
            multiple_of: self.opt_f64(&obj, "multipleOf"),
            enum_: self.array(&obj, "enum").cloned(),
            max_properties: self.opt_i64(&obj, "maxProperties"),
            min_properties: self.opt_i64(&obj, "minProperties"),
            required: self.opt_strings(&obj, "required"),
            items,
            all_of: self.schema_list(&obj, "allOf"),
            one_of: self.schema_list(&obj, "oneOf"),
            any_of: self.schema_list(&obj, "anyOf"),
            not: obj
                .get("not")
                .map(|v| Box::new(self.props(v, &obj.path("not")))),
            properties: self.schema_map(&obj, "properties"),
            additional_properties: self.props_or_bool(&obj, "additionalProperties"),
            pattern_properties: self.schema_map(&obj, "patternProperties"),
            dependencies,
            additional_items: self.props_or_bool(&obj, "additionalItems"),
            definitions: self.schema_map(&obj, "definitions"),
            external_docs,
            example: obj.get("example").cloned(),
            nullable: self.bool(&obj, "nullable"),
            x_preserve_unknown_fields: self.opt_bool(&obj, "x-kubernetes-preserve-unknown-fields"),
            x_embedded_resource: self.bool(&obj, "x-kubernetes-embedded-resource"),
            x_int_or_string: self.bool(&obj, "x-kubernetes-int-or-string"),
            x_list_map_keys: self.opt_strings(&obj, "x-kubernetes-list-map-keys"),
            x_list_type: self.opt_string(&obj, "x-kubernetes-list-type"),
            x_map_type: self.opt_string(&obj, "x-kubernetes-map-type"),
            x_validations,
            raw: value.clone(),
        }
    }
}

/// Whether `s` is standard base64 with padding, as Go decodes `[]byte` fields.
fn is_base64(s: &str) -> bool {
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return false;
    }
    bytes[..bytes.len() - padding]
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}
