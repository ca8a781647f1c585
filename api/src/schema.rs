//! Schema pieces shared by the API types: validation patterns, free-form JSON fields, and
//! the final touches that make a generated CRD match what upstream serves.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use schemars::{Schema, SchemaGenerator, json_schema};

/// Pattern of Flux interval fields: a Go duration with units `ms`, `s`, `m` or `h`.
pub const DURATION_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

/// Pattern of Flux timeout fields: a Go duration with units `ms`, `s` or `m`.
pub const TIMEOUT_PATTERN: &str = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$";

/// Pattern of Flagger interval fields, e.g. `1m` or `30s`.
pub const FLAGGER_DURATION_PATTERN: &str = r"^[0-9]+(m|s)";

/// Schema of a free-form JSON object whose fields are kept as written (Helm values,
/// arbitrary metadata): `type: object` with `x-kubernetes-preserve-unknown-fields`.
pub fn preserve_unknown_object(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Schema of any JSON value (an object, a list, a string...), kept as written, like
/// Kubernetes' `apiextensionsv1.JSON`.
pub fn any_json(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// A schemars transform for enum types: drops the type's own description so that the
/// description of the field using it is kept (kube's rewrite of `Option<Enum>` would
/// otherwise replace the field's description with the enum's). Put
/// `#[schemars(transform = crate::schema::drop_description)]` on every enum.
pub fn drop_description(schema: &mut Schema) {
    schema.remove("description");
}

/// Schema of a `conditions` list: `metav1.Condition` items with the validation the
/// Kubernetes API types declare (type and reason patterns, status enum, message length),
/// as upstream CRDs embed it. Use with `#[schemars(schema_with = "crate::schema::conditions")]`.
pub fn conditions(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "description": "The state of one aspect of the object at the last reconcile.",
            "type": "object",
            "required": ["lastTransitionTime", "message", "reason", "status", "type"],
            "properties": {
                "lastTransitionTime": {
                    "description": "When the condition last changed status.",
                    "type": "string",
                    "format": "date-time"
                },
                "message": {
                    "description": "Human-readable details of the last transition; may be empty.",
                    "type": "string",
                    "maxLength": 32768
                },
                "observedGeneration": {
                    "description": "The metadata.generation the condition was computed from.",
                    "type": "integer",
                    "format": "int64",
                    "minimum": 0
                },
                "reason": {
                    "description": "Machine-readable reason for the last transition, in CamelCase.",
                    "type": "string",
                    "maxLength": 1024,
                    "minLength": 1,
                    "pattern": "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
                },
                "status": {
                    "description": "True, False or Unknown.",
                    "type": "string",
                    "enum": ["True", "False", "Unknown"]
                },
                "type": {
                    "description": "The condition type in CamelCase, e.g. Ready.",
                    "type": "string",
                    "maxLength": 316,
                    "pattern": "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
                }
            }
        }
    })
}

/// Applies the conventions every Sluice CRD shares, after generation from the Rust types:
///
/// - `status` defaults to `{observedGeneration: -1}` when the kind has a status whose
///   schema has `observedGeneration` (so `kstatus` sees a new object as not yet observed);
/// - `nullable: true`, which schemars adds to every `Option`, is removed: upstream schemas
///   do not allow nulls, and the API server prunes nulls from non-nullable fields;
/// - `title`, which schemars adds at the root, is removed;
/// - `spec` is optional at the root, as upstream declares it (kube marks it required);
/// - `apiVersion`, `kind` and `metadata` are described at the root, as in every
///   Kubernetes CRD, so that `kubectl explain` shows them.
pub fn finish_crd(mut crd: CustomResourceDefinition) -> CustomResourceDefinition {
    for version in &mut crd.spec.versions {
        // Upstream always writes `subresources`, empty for kinds without status.
        version.subresources.get_or_insert_with(Default::default);
        let Some(schema) = version
            .schema
            .as_mut()
            .and_then(|v| v.open_api_v3_schema.as_mut())
        else {
            continue;
        };
        clean_schema(schema);
        add_object_envelope(schema);
        if let Some(required) = schema.required.as_mut() {
            required.retain(|field| field != "spec");
        }
        if schema.required.as_ref().is_some_and(Vec::is_empty) {
            schema.required = None;
        }
        let status = schema
            .properties
            .as_mut()
            .and_then(|properties| properties.get_mut("status"));
        if let Some(status) = status {
            let has_observed_generation = status
                .properties
                .as_ref()
                .is_some_and(|p| p.contains_key("observedGeneration"));
            if has_observed_generation {
                status.default = Some(
                    k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSON(
                        serde_json::json!({ "observedGeneration": -1 }),
                    ),
                );
            }
        }
    }
    crd
}

fn add_object_envelope(root: &mut JSONSchemaProps) {
    let properties = root.properties.get_or_insert_with(Default::default);
    let string_field = |description: &str| JSONSchemaProps {
        type_: Some("string".to_owned()),
        description: Some(description.to_owned()),
        ..Default::default()
    };
    properties.insert(
        "apiVersion".to_owned(),
        string_field(
            "APIVersion defines the versioned schema of this representation of an object. \
             Servers should convert recognized schemas to the latest internal value, and may \
             reject unrecognized values.",
        ),
    );
    properties.insert(
        "kind".to_owned(),
        string_field(
            "Kind is a string value representing the REST resource this object represents. \
             Servers may infer this from the endpoint the client submits requests to. In \
             CamelCase.",
        ),
    );
    properties.insert(
        "metadata".to_owned(),
        JSONSchemaProps {
            type_: Some("object".to_owned()),
            ..Default::default()
        },
    );
}

fn clean_schema(schema: &mut JSONSchemaProps) {
    schema.nullable = None;
    schema.title = None;
    let children = schema
        .properties
        .iter_mut()
        .flat_map(|p| p.values_mut())
        .chain(
            schema
                .pattern_properties
                .iter_mut()
                .flat_map(|p| p.values_mut()),
        )
        .chain(schema.definitions.iter_mut().flat_map(|p| p.values_mut()))
        .chain(schema.all_of.iter_mut().flatten())
        .chain(schema.any_of.iter_mut().flatten())
        .chain(schema.one_of.iter_mut().flatten())
        .chain(schema.not.as_deref_mut());
    for child in children {
        clean_schema(child);
    }
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
        JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
    };
    match schema.items.as_mut() {
        Some(JSONSchemaPropsOrArray::Schema(item)) => clean_schema(item),
        Some(JSONSchemaPropsOrArray::Schemas(items)) => items.iter_mut().for_each(clean_schema),
        None => {}
    }
    if let Some(JSONSchemaPropsOrBool::Schema(additional)) = schema.additional_properties.as_mut() {
        clean_schema(additional);
    }
}
