//! Schema pieces for fields whose upstream schema differs from what schemars derives from
//! the Rust type: Flagger declares most integer fields as `type: number`, and reuses the
//! same Istio string match with different `oneOf` rules depending on where it appears.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::json;

use super::istio::StringMatch;

/// `type: number`, as Flagger declares its counters, weights and ports.
pub(crate) fn number(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "number" })
}

/// A list of `type: number` items.
pub(crate) fn number_array(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "number" }
    })
}

/// `type: integer` without a format, as the embedded Istio schemas declare some fields.
pub(crate) fn integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer" })
}

/// A map of names to integers without a format.
pub(crate) fn integer_map(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": { "type": "integer" }
    })
}

/// `{required: [key]}` for each key: with `oneOf`, exactly one of the keys must be set.
pub(crate) fn exactly_one_of(keys: &[&str]) -> serde_json::Value {
    keys.iter()
        .map(|key| json!({ "required": [key] }))
        .collect()
}

/// A list of string matches of which each sets exactly one of `exact`, `prefix`, `regex`
/// (the CORS `allowOrigins` rule), instead of the at-most-one rule of [`StringMatch`].
pub(crate) fn string_match_list_exactly_one(generator: &mut SchemaGenerator) -> Schema {
    let mut item = StringMatch::json_schema(generator);
    item.insert(
        "oneOf".to_owned(),
        exactly_one_of(&["exact", "prefix", "regex"]),
    );
    json_schema!({
        "type": "array",
        "items": item
    })
}
