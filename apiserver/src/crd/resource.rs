//! Serving custom resources: one CRD version's schema compiled once, then applied to every
//! object of that version the way kube-apiserver applies it (decoding with pruning and
//! defaulting, validation with ratcheting, CEL rules).

use serde_json::Value;

use super::cel::CelNode;
use super::coerce::{self, DecodeError};
use super::field::{FieldError, FieldErrorKind, Path};
use super::structural::{Structural, new_structural};
use super::values::{Schema, validate_update};

/// A CRD version's `openAPIV3Schema`, compiled for serving its custom resources.
///
/// ```
/// use serde_json::json;
/// use sluice_apiserver::crd::ResourceSchema;
///
/// let schema = ResourceSchema::new(&json!({
///     "type": "object",
///     "properties": {"spec": {"type": "object", "required": ["url"], "properties": {
///         "url": {"type": "string"},
///         "timeout": {"type": "string", "default": "60s"},
///     }}},
/// }))
/// .unwrap();
/// let mut object = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
///     "spec": {"url": "https://example.com", "typo": 1}});
/// let unknown = schema.decode(&mut object).unwrap();
/// assert_eq!(unknown, vec!["spec.typo"]);
/// assert_eq!(object["spec"]["timeout"], "60s");
///
/// let mut missing = json!({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"}, "spec": {}});
/// schema.decode(&mut missing).unwrap();
/// let errors = schema.validate(&missing, None);
/// assert_eq!(errors[0].to_string(), "spec.url: Required value");
/// ```
#[derive(Debug)]
pub struct ResourceSchema {
    source: Value,
    structural: Structural,
    validator: Schema,
    cel: Option<CelNode>,
}

impl PartialEq for ResourceSchema {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// Why a schema cannot serve custom resources (it should have been refused with its CRD).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server could not properly serve the CR schema: {0}")]
pub struct SchemaError(String);

impl ResourceSchema {
    /// Compiles a version's `openAPIV3Schema`.
    ///
    /// # Errors
    /// When the schema is not structural (a CRD validation would have refused it).
    pub fn new(openapi_v3_schema: &Value) -> Result<Self, SchemaError> {
        let (props, problems) = super::decode::decode_schema(openapi_v3_schema);
        if let Some(problem) = problems.first() {
            return Err(SchemaError(problem.to_string()));
        }
        let structural = new_structural(&props).map_err(SchemaError)?;
        Ok(ResourceSchema {
            source: openapi_v3_schema.clone(),
            validator: Schema::from_structural(&structural),
            cel: CelNode::build(&structural),
            structural,
        })
    }

    /// Decodes a request body in place as kube-apiserver does before validation:
    /// `metadata` as an `ObjectMeta`, unknown fields pruned, non-nullable `null`s dropped,
    /// embedded resources coerced, defaults applied. Returns the paths of the unknown
    /// fields that were dropped (sorted; `metadata.*` ones first), for
    /// `fieldValidation=Strict|Warn`.
    ///
    /// # Errors
    /// A metadata or embedded-resource field of the wrong type (a 400 upstream).
    pub fn decode(&self, object: &mut Value) -> Result<Vec<String>, DecodeError> {
        let mut unknown = Vec::new();
        if let Some(metadata) = object.get("metadata") {
            let (meta, paths) = coerce::object_meta(metadata, "metadata")?;
            unknown.extend(paths);
            object["metadata"] = meta;
        }
        unknown.extend(coerce::prune_root(object, &self.structural));
        coerce::prune_nulls(object, Some(&self.structural));
        let mut embedded_unknown = Vec::new();
        coerce::coerce_embedded(
            object,
            Some(&self.structural),
            &Path::new(""),
            &mut embedded_unknown,
        )?;
        embedded_unknown.sort();
        unknown.extend(embedded_unknown);
        coerce::apply_defaults(object, Some(&self.structural));
        Ok(unknown)
    }

    /// Prunes fields the schema does not specify (converting an object to this version).
    pub fn prune(&self, object: &mut Value) {
        coerce::prune_root(object, &self.structural);
    }

    /// Prepares a stored object for reading with this schema: pruned and defaulted (so that
    /// objects stored before a schema change read with the new defaults).
    pub fn read(&self, object: &mut Value) {
        coerce::prune_root(object, &self.structural);
        coerce::prune_nulls(object, Some(&self.structural));
        coerce::apply_defaults(object, Some(&self.structural));
    }

    /// Validates a decoded object against the schema: OpenAPI value validation, embedded
    /// resources, `set`/`map` list uniqueness, then (unless a blocking error was found)
    /// the CEL rules. With `old` (an update), errors in parts of the object that did not
    /// change are ratcheted away, and transition rules run.
    pub fn validate(&self, object: &Value, old: Option<&Value>) -> Vec<FieldError> {
        let root = Path::new("");
        let mut errs = validate_update(&self.validator, object, old, &root);
        coerce::validate_embedded(object, Some(&self.structural), &root, &mut errs);
        if let Some(map) = object.as_object() {
            let list_errs = super::listtype::validate_lists(&root, &self.structural, map);
            let old_list_errs = old
                .and_then(Value::as_object)
                .map(|o| super::listtype::validate_lists(&root, &self.structural, o));
            if old_list_errs.is_none_or(|e| e.is_empty()) {
                errs.extend(list_errs);
            }
        }
        if let Some(cel) = &self.cel {
            if errs.iter().any(blocking) {
                errs.push(FieldError::invalid(
                    &Path::new("<nil>"),
                    Value::Null,
                    "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
                ));
            } else {
                errs.extend(super::cel::validate(cel, &self.structural, object, old));
            }
        }
        errs
    }
}

/// Errors after which kube-apiserver does not run CEL rules (`hasBlockingErr`).
fn blocking(error: &FieldError) -> bool {
    matches!(
        error.kind,
        FieldErrorKind::NotSupported
            | FieldErrorKind::Required
            | FieldErrorKind::TooLong
            | FieldErrorKind::TooMany
            | FieldErrorKind::TypeInvalid
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    fn schema() -> ResourceSchema {
        ResourceSchema::new(&json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["url"],
                    "x-kubernetes-validations": [{"rule": "self.url.startsWith('https://')", "message": "url must be https"}],
                    "properties": {
                        "url": {"type": "string"},
                        "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
                        "provider": {"type": "string", "enum": ["generic", "aws"]},
                        "replicas": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 10, "exclusiveMaximum": true},
                        "ratio": {"type": "number"},
                        "port": {"x-kubernetes-int-or-string": true},
                        "name": {"type": "string", "minLength": 2, "maxLength": 4},
                        "at": {"type": "string", "format": "date-time"},
                        "tags": {"type": "array", "maxItems": 2, "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                        "labels": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}},
                        "note": {"type": "string", "nullable": true},
                        "choice": {"type": "string", "oneOf": [{"enum": ["a"]}, {"enum": ["b"]}]},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
                    },
                },
            },
        }))
        .expect("schema compiles")
    }

    fn object(spec: Value) -> Value {
        json!({"apiVersion": "x.io/v1", "kind": "X", "metadata": {"name": "a"}, "spec": spec})
    }

    #[test]
    fn value_errors_are_worded_like_kube_apiserver() {
        let s = schema();
        let table = [
            (
                json!({"url": "https://x", "interval": "5x"}),
                r#"spec.interval: Invalid value: "5x": spec.interval in body should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'"#,
            ),
            (json!({}), "spec.url: Required value"),
            (
                json!({"url": "https://x", "provider": "x"}),
                r#"spec.provider: Unsupported value: "x": supported values: "generic", "aws""#,
            ),
            (
                json!({"url": "https://x", "replicas": "3"}),
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
            ),
            // kube-openapi checks the format first: a float is a "double", not an int32.
            (
                json!({"url": "https://x", "replicas": 1.5}),
                r#"spec.replicas: Invalid value: "double": spec.replicas in body must be of type int32: "double""#,
            ),
            (
                json!({"url": "https://x", "replicas": 10}),
                "spec.replicas: Invalid value: 10: spec.replicas in body should be less than 10",
            ),
            (
                json!({"url": "https://x", "replicas": -1}),
                "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
            ),
            (
                json!({"url": "https://x", "port": true}),
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
            ),
            (
                json!({"url": "https://x", "name": "a"}),
                r#"spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long"#,
            ),
            (
                json!({"url": "https://x", "name": "abcde"}),
                "spec.name: Too long: may not be more than 4 bytes",
            ),
            (
                json!({"url": "https://x", "at": "yesterday"}),
                r#"spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday""#,
            ),
            (
                json!({"url": "https://x", "tags": ["a", "b", "c"]}),
                "spec.tags: Too many: 3: must have at most 2 items",
            ),
            (
                json!({"url": "https://x", "tags": ["a", "a"]}),
                r#"spec.tags[1]: Duplicate value: "a""#,
            ),
            (
                json!({"url": "https://x", "labels": {}}),
                "spec.labels: Invalid value: 1: spec.labels in body should have at least 1 properties",
            ),
            (
                json!({"url": "https://x", "template": {"kind": "Pod"}}),
                "spec.template.apiVersion: Required value",
            ),
            (
                json!({"url": "http://x"}),
                "spec: Invalid value: url must be https",
            ),
        ];
        for (spec, expected) in table {
            let mut obj = object(spec.clone());
            s.decode(&mut obj).expect("decodes");
            let errs = messages(&s.validate(&obj, None));
            assert_eq!(
                errs.first().map(String::as_str),
                Some(expected),
                "{spec}: {errs:?}"
            );
        }
    }

    #[test]
    fn valid_objects_pass_and_nullable_nulls_stay() {
        let s = schema();
        let mut obj = object(
            json!({"url": "https://x", "interval": "1m30s", "port": "http",
            "ratio": 1, "note": null, "choice": "a", "at": "2024-01-01T00:00:00Z",
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}}),
        );
        s.decode(&mut obj).expect("decodes");
        assert_eq!(messages(&s.validate(&obj, None)), Vec::<String>::new());
        assert_eq!(obj["spec"]["note"], Value::Null);
    }

    #[test]
    fn cel_rules_wait_for_blocking_errors() {
        let s = schema();
        let mut obj = object(json!({"url": "http://x", "provider": "nope"}));
        s.decode(&mut obj).expect("decodes");
        assert_eq!(
            messages(&s.validate(&obj, None)),
            vec![
                r#"spec.provider: Unsupported value: "nope": supported values: "generic", "aws""#,
                "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
            ]
        );
    }

    #[test]
    fn unchanged_invalid_fields_ratchet_on_update() {
        let s = schema();
        let old = object(json!({"url": "https://x", "interval": "bad"}));
        let mut new = old.clone();
        new["spec"]["provider"] = json!("aws");
        assert!(s.validate(&new, Some(&old)).is_empty());
        new["spec"]["interval"] = json!("worse");
        assert_eq!(s.validate(&new, Some(&old)).len(), 1);
    }

    #[test]
    fn embedded_metadata_is_decoded_and_unknown_fields_reported() {
        let s = schema();
        let mut obj = object(json!({"url": "https://x",
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "nope": 1}, "extra": true}}));
        obj["metadata"]["bogus"] = json!(true);
        let unknown = s.decode(&mut obj).expect("decodes");
        assert_eq!(
            unknown,
            vec!["metadata.bogus", "spec.template.metadata.nope"]
        );
        assert_eq!(obj["spec"]["template"]["extra"], true);
        let mut bad = object(json!({"url": "https://x", "template": {"apiVersion": 1}}));
        assert!(s.decode(&mut bad).is_err());
    }
}
