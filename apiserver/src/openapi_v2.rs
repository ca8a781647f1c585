//! `/openapi/v2`: the Swagger 2.0 document of the built-in kinds, in JSON or in the
//! protobuf form kubectl asks for (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`,
//! gnostic's `openapi.v2.Document`).
//!
//! kubectl 1.37 reads OpenAPI v3 for nearly everything, but validates the items of a
//! `kind: List` manifest against the v2 definitions (the v3 check of server-side field
//! validation does not apply to `List`), so `kubectl apply -f` of `kubectl get -o yaml`
//! output needs this document. It holds the definitions of the built-in kinds (converted
//! from the v3 schemas: `allOf` of one reference becomes the reference, `oneOf`/`anyOf` and
//! `nullable`, which Swagger 2.0 lacks, are dropped) and no paths. Custom resources are left
//! out: kubectl skips client-side validation of kinds the document does not describe and
//! the server validates them instead, whereas a CRD schema converted to Swagger 2.0 can
//! reject valid objects (kube-apiserver prunes such schemas with rules of its own).

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::discovery;
use crate::http::{Body, bytes_response};
use crate::openapi;

/// The media type of the v2 document in protobuf, as kube-apiserver labels it (clients ask
/// for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, whose `@` Go's media
/// type parser refuses in a response).
pub const PROTOBUF_MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The document in both encodings, with their `ETag`s.
struct Encoded {
    json: Bytes,
    json_etag: String,
    protobuf: Bytes,
    protobuf_etag: String,
}

fn encoded() -> &'static Encoded {
    static ENCODED: OnceLock<Encoded> = OnceLock::new();
    ENCODED.get_or_init(|| {
        let document = document();
        let json = serde_json::to_vec(&document).unwrap_or_default();
        let protobuf = encode_document(&document);
        Encoded {
            json_etag: discovery::etag(&json),
            json: Bytes::from(json),
            protobuf_etag: discovery::etag(&protobuf),
            protobuf: Bytes::from(protobuf),
        }
    })
}

/// Serves `/openapi/v2` in the encoding the client accepts (protobuf when it asks for it,
/// JSON otherwise), answering `If-None-Match` with `304`.
pub fn serve(accept: &str, if_none_match: Option<&str>) -> Response<Body> {
    let encoded = encoded();
    let (bytes, tag, media_type) = if accept.contains("protobuf") {
        (
            &encoded.protobuf,
            &encoded.protobuf_etag,
            PROTOBUF_MEDIA_TYPE,
        )
    } else {
        (&encoded.json, &encoded.json_etag, "application/json")
    };
    let mut response = if discovery::matches_etag(if_none_match, tag) {
        discovery::not_modified(tag)
    } else {
        bytes_response(StatusCode::OK, bytes.clone(), media_type)
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(value) = HeaderValue::from_str(tag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// The Swagger 2.0 document (as JSON) of the built-in kinds.
pub fn document() -> Value {
    let mut definitions = Map::new();
    for (name, schema) in openapi::builtin_definitions() {
        definitions.insert(name, to_v2(&schema));
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": format!("v1.{}.0", discovery::MINOR)},
        "paths": {},
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"}},
        "security": [{"BearerToken": []}],
    })
}

/// Converts an OpenAPI v3 schema to Swagger 2.0.
fn to_v2(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "$ref" => {
                let target = value.as_str().unwrap_or_default();
                out.insert(
                    key.clone(),
                    Value::from(target.replace("#/components/schemas/", "#/definitions/")),
                );
            }
            "allOf" => match value.as_array().map(Vec::as_slice) {
                Some([single]) => {
                    if let Value::Object(inner) = to_v2(single) {
                        for (k, v) in inner {
                            out.entry(k).or_insert(v);
                        }
                    }
                }
                Some(many) => {
                    out.insert(key.clone(), Value::Array(many.iter().map(to_v2).collect()));
                }
                None => {}
            },
            "oneOf" | "anyOf" | "not" | "nullable" => {}
            "properties" => {
                let properties: Map<String, Value> = value
                    .as_object()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), to_v2(v))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" | "additionalProperties" if value.is_object() => {
                out.insert(key.clone(), to_v2(value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if out.get("type") == Some(&Value::from("array")) && !out.contains_key("items") {
        out.insert("items".to_owned(), json!({}));
    }
    Value::Object(out)
}

/// A protobuf message being written (only what gnostic's messages need).
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.0.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire_type));
    }

    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.key(field, 2);
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    fn string(&mut self, field: u32, text: &str) {
        if !text.is_empty() {
            self.bytes(field, text.as_bytes());
        }
    }

    fn message(&mut self, field: u32, message: &Message) {
        self.bytes(field, &message.0);
    }

    fn boolean(&mut self, field: u32, value: bool) {
        if value {
            self.key(field, 0);
            self.varint(1);
        }
    }

    fn int64(&mut self, field: u32, value: i64) {
        if value != 0 {
            self.key(field, 0);
            self.varint(value as u64);
        }
    }

    fn double(&mut self, field: u32, value: f64) {
        if value != 0.0 {
            self.key(field, 1);
            self.0.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// gnostic's `Any`: the value as YAML (JSON is YAML).
fn any(value: &Value) -> Message {
    let mut any = Message::default();
    any.string(2, &value.to_string());
    any
}

fn named_any(name: &str, value: &Value) -> Message {
    let mut named = Message::default();
    named.string(1, name);
    named.message(2, &any(value));
    named
}

/// gnostic's `openapi.v2.Document`.
fn encode_document(document: &Value) -> Vec<u8> {
    let mut out = Message::default();
    out.string(1, document["swagger"].as_str().unwrap_or("2.0"));
    let mut info = Message::default();
    info.string(1, document["info"]["title"].as_str().unwrap_or_default());
    info.string(2, document["info"]["version"].as_str().unwrap_or_default());
    out.message(2, &info);
    out.message(8, &Message::default());
    let mut definitions = Message::default();
    for (name, schema) in document["definitions"].as_object().into_iter().flatten() {
        let mut named = Message::default();
        named.string(1, name);
        named.message(2, &encode_schema(schema));
        definitions.message(1, &named);
    }
    out.message(9, &definitions);
    let mut requirement = Message::default();
    let mut named_array = Message::default();
    named_array.string(1, "BearerToken");
    named_array.message(2, &Message::default());
    requirement.message(1, &named_array);
    out.message(12, &requirement);
    let mut security = Message::default();
    let mut item = Message::default();
    let mut api_key = Message::default();
    api_key.string(1, "apiKey");
    api_key.string(2, "authorization");
    api_key.string(3, "header");
    api_key.string(4, "Bearer Token authentication");
    item.message(2, &api_key);
    let mut named_item = Message::default();
    named_item.string(1, "BearerToken");
    named_item.message(2, &item);
    security.message(1, &named_item);
    out.message(13, &security);
    out.0
}

/// gnostic's `openapi.v2.Schema`.
fn encode_schema(schema: &Value) -> Message {
    let mut out = Message::default();
    let text = |key: &str| schema.get(key).and_then(Value::as_str).unwrap_or_default();
    let number = |key: &str| schema.get(key).and_then(Value::as_f64).unwrap_or_default();
    let integer = |key: &str| schema.get(key).and_then(Value::as_i64).unwrap_or_default();
    let flag = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or_default();
    out.string(1, text("$ref"));
    out.string(2, text("format"));
    out.string(3, text("title"));
    out.string(4, text("description"));
    if let Some(default) = schema.get("default") {
        out.message(5, &any(default));
    }
    out.double(6, number("multipleOf"));
    out.double(7, number("maximum"));
    out.boolean(8, flag("exclusiveMaximum"));
    out.double(9, number("minimum"));
    out.boolean(10, flag("exclusiveMinimum"));
    out.int64(11, integer("maxLength"));
    out.int64(12, integer("minLength"));
    out.string(13, text("pattern"));
    out.int64(14, integer("maxItems"));
    out.int64(15, integer("minItems"));
    out.boolean(16, flag("uniqueItems"));
    out.int64(17, integer("maxProperties"));
    out.int64(18, integer("minProperties"));
    for required in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.string(19, required.as_str().unwrap_or_default());
    }
    for value in schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.message(20, &any(value));
    }
    match schema.get("additionalProperties") {
        Some(Value::Bool(allowed)) => {
            let mut item = Message::default();
            item.key(2, 0);
            item.varint(u64::from(*allowed));
            out.message(21, &item);
        }
        Some(additional @ Value::Object(_)) => {
            let mut item = Message::default();
            item.message(1, &encode_schema(additional));
            out.message(21, &item);
        }
        _ => {}
    }
    if let Some(type_) = schema.get("type") {
        let mut types = Message::default();
        match type_ {
            Value::String(single) => types.string(1, single),
            Value::Array(many) => many
                .iter()
                .filter_map(Value::as_str)
                .for_each(|t| types.string(1, t)),
            _ => {}
        }
        out.message(22, &types);
    }
    if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
        let mut item = Message::default();
        item.message(1, &encode_schema(items));
        out.message(23, &item);
    }
    for all_of in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.message(24, &encode_schema(all_of));
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        let mut encoded = Message::default();
        for (name, property) in properties {
            let mut named = Message::default();
            named.string(1, name);
            named.message(2, &encode_schema(property));
            encoded.message(1, &named);
        }
        out.message(25, &encoded);
    }
    out.boolean(27, flag("readOnly"));
    if let Some(example) = schema.get("example") {
        out.message(30, &any(example));
    }
    if let Some(object) = schema.as_object() {
        for (key, value) in object.iter().filter(|(k, _)| k.starts_with("x-")) {
            out.message(31, &named_any(key, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_reference_all_ofs_become_references_and_v3_only_keywords_go() {
        let v3 = json!({
            "type": "object",
            "properties": {
                "metadata": {"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}], "description": "meta"},
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true},
                "list": {"type": "array"}
            }
        });
        assert_eq!(
            to_v2(&v3),
            json!({
                "type": "object",
                "properties": {
                    "metadata": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "description": "meta"},
                    "either": {},
                    "list": {"type": "array", "items": {}}
                }
            })
        );
    }

    #[test]
    fn the_document_describes_built_in_kinds_with_closed_references() {
        let document = document();
        let definitions = document["definitions"].as_object().unwrap();
        let deployment = &definitions["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
        );
        assert_eq!(
            deployment["properties"]["spec"]["$ref"],
            "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
        );
        let text = document.to_string();
        for piece in text.split("\"$ref\":\"").skip(1) {
            let target = piece.split('"').next().unwrap();
            let name = target.strip_prefix("#/definitions/").unwrap();
            assert!(definitions.contains_key(name), "{target}");
        }
        let either = &definitions["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray"];
        assert!(either.get("oneOf").is_none(), "{either}");
    }

    #[test]
    fn protobuf_fields_are_encoded_as_gnostic_declares_them() {
        let mut message = Message::default();
        message.string(1, "2.0");
        message.int64(11, 300);
        message.boolean(16, true);
        assert_eq!(
            message.0,
            [0x0a, 3, b'2', b'.', b'0', 0x58, 0xac, 0x02, 0x80, 0x01, 1]
        );
        let schema = encode_schema(&json!({"type": "string", "description": "d"}));
        assert_eq!(
            schema.0,
            [
                0x22, 1, b'd', 0xb2, 0x01, 8, 0x0a, 6, b's', b't', b'r', b'i', b'n', b'g'
            ]
        );
    }
}
