//! The decoded `apiextensions.k8s.io/v1` CustomResourceDefinition, as far as validation
//! needs it. Fields mirror the Go types: absent and `null` both decode to the zero value
//! (`""`, `false`, `None`), and `Option<Vec<_>>` keeps the difference Go keeps between an
//! absent list and an empty one where validation depends on it.

use std::collections::BTreeMap;

use serde_json::Value;

/// A whole CustomResourceDefinition.
#[derive(Debug, Clone, Default)]
pub(crate) struct Crd {
    pub(crate) metadata: ObjectMeta,
    pub(crate) spec: Spec,
}

/// The parts of `metadata` that create-time validation looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjectMeta {
    pub(crate) name: String,
    pub(crate) generate_name: String,
    pub(crate) namespace: String,
    pub(crate) generation: i64,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) owner_references: Vec<OwnerReference>,
    pub(crate) finalizers: Vec<String>,
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct OwnerReference {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) uid: String,
    pub(crate) controller: bool,
}

/// `spec`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spec {
    pub(crate) group: String,
    pub(crate) names: Names,
    pub(crate) scope: String,
    pub(crate) versions: Vec<Version>,
    /// The `versions` JSON, to show as a bad value.
    pub(crate) versions_raw: Value,
    pub(crate) conversion: Option<Conversion>,
    pub(crate) preserve_unknown_fields: bool,
}

/// `spec.names`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Names {
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) short_names: Vec<String>,
    pub(crate) kind: String,
    pub(crate) list_kind: String,
    pub(crate) categories: Vec<String>,
}

/// One `spec.versions[]` entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Version {
    pub(crate) name: String,
    pub(crate) storage: bool,
    pub(crate) deprecated: bool,
    pub(crate) deprecation_warning: Option<String>,
    /// `schema`, with the JSON it came from (per-version fields are compared as JSON to
    /// decide whether Kubernetes treats them as one top-level field).
    pub(crate) schema: Option<(Validation, Value)>,
    pub(crate) subresources: Option<(Subresources, Value)>,
    pub(crate) additional_printer_columns: Option<(Vec<Column>, Value)>,
    pub(crate) selectable_fields: Option<(Vec<SelectableField>, Value)>,
}

/// `schema` (`CustomResourceValidation`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Validation {
    pub(crate) open_api_v3_schema: Option<Props>,
}

/// `subresources`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subresources {
    pub(crate) status: bool,
    pub(crate) scale: Option<Scale>,
}

/// `subresources.scale`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scale {
    pub(crate) spec_replicas_path: String,
    pub(crate) status_replicas_path: String,
    pub(crate) label_selector_path: Option<String>,
}

/// One `additionalPrinterColumns[]` entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) type_: String,
    pub(crate) format: String,
    pub(crate) json_path: String,
}

/// One `selectableFields[]` entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectableField {
    pub(crate) json_path: String,
}

/// `spec.conversion`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conversion {
    pub(crate) strategy: String,
    pub(crate) webhook: Option<WebhookConversion>,
}

/// `spec.conversion.webhook`.
#[derive(Debug, Clone, Default)]
pub(crate) struct WebhookConversion {
    pub(crate) client_config: Option<ClientConfig>,
    pub(crate) conversion_review_versions: Option<Vec<String>>,
}

/// `spec.conversion.webhook.clientConfig`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientConfig {
    pub(crate) url: Option<String>,
    pub(crate) service: Option<ServiceReference>,
}

/// `spec.conversion.webhook.clientConfig.service`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServiceReference {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) path: Option<String>,
    /// Defaults to 443, as the v1 defaulting does.
    pub(crate) port: i64,
}

/// `JSONSchemaProps`: one node of an OpenAPI v3 schema, with every key the v1 type knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Props {
    pub(crate) id: String,
    pub(crate) schema: String,
    pub(crate) reference: Option<String>,
    pub(crate) description: String,
    pub(crate) type_: String,
    pub(crate) format: String,
    pub(crate) title: String,
    pub(crate) default: Option<Value>,
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
    pub(crate) enum_: Option<Vec<Value>>,
    pub(crate) max_properties: Option<i64>,
    pub(crate) min_properties: Option<i64>,
    pub(crate) required: Option<Vec<String>>,
    pub(crate) items: Option<PropsOrArray>,
    pub(crate) all_of: Option<Vec<Props>>,
    pub(crate) one_of: Option<Vec<Props>>,
    pub(crate) any_of: Option<Vec<Props>>,
    pub(crate) not: Option<Box<Props>>,
    pub(crate) properties: Option<BTreeMap<String, Props>>,
    pub(crate) additional_properties: Option<PropsOrBool>,
    pub(crate) pattern_properties: Option<BTreeMap<String, Props>>,
    pub(crate) dependencies: Option<BTreeMap<String, PropsOrStringArray>>,
    pub(crate) additional_items: Option<PropsOrBool>,
    pub(crate) definitions: Option<BTreeMap<String, Props>>,
    pub(crate) external_docs: Option<(String, String)>,
    pub(crate) example: Option<Value>,
    pub(crate) nullable: bool,
    pub(crate) x_preserve_unknown_fields: Option<bool>,
    pub(crate) x_embedded_resource: bool,
    pub(crate) x_int_or_string: bool,
    pub(crate) x_list_map_keys: Option<Vec<String>>,
    pub(crate) x_list_type: Option<String>,
    pub(crate) x_map_type: Option<String>,
    pub(crate) x_validations: Option<Vec<Rule>>,
    /// The JSON this node was decoded from, to show as a bad value.
    pub(crate) raw: Value,
}

impl Props {
    /// The node's properties, empty when it has none.
    pub(crate) fn props(&self) -> impl Iterator<Item = (&String, &Props)> {
        self.properties.iter().flatten()
    }

    /// The single-schema `items`, if that is what `items` is.
    pub(crate) fn items_schema(&self) -> Option<&Props> {
        match &self.items {
            Some(PropsOrArray::Schema(s)) => Some(s),
            _ => None,
        }
    }

    /// The property named `name`.
    pub(crate) fn property(&self, name: &str) -> Option<&Props> {
        self.properties.as_ref().and_then(|p| p.get(name))
    }
}

/// `items`: one schema, or (not allowed in CRDs) a list of them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PropsOrArray {
    Schema(Box<Props>),
    Array(Vec<Props>),
}

/// `additionalProperties` / `additionalItems`: a boolean or a schema (which allows).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PropsOrBool {
    Bool(bool),
    Schema(Box<Props>),
}

impl PropsOrBool {
    /// Whether additional entries are allowed at all.
    pub(crate) fn allows(&self) -> bool {
        match self {
            PropsOrBool::Bool(b) => *b,
            PropsOrBool::Schema(_) => true,
        }
    }

    /// The schema, if one was given.
    pub(crate) fn schema(&self) -> Option<&Props> {
        match self {
            PropsOrBool::Bool(_) => None,
            PropsOrBool::Schema(s) => Some(s),
        }
    }
}

/// A `dependencies` entry: a schema or a list of property names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PropsOrStringArray {
    Schema(Box<Props>),
    Strings(Vec<String>),
}

/// One `x-kubernetes-validations` rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rule {
    pub(crate) rule: String,
    pub(crate) message: String,
    pub(crate) message_expression: String,
    pub(crate) reason: Option<String>,
    pub(crate) field_path: String,
    pub(crate) optional_old_self: Option<bool>,
}
