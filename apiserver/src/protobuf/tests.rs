//! Tests of protobuf decoding: real kubectl bodies, hand-built wire data, and a JSON →
//! protobuf encoder driven by the same table, checked against the k8s-openapi types.

use base64::Engine;
use pretty_assertions::assert_eq;
use serde_json::{Map, Value, json};

use super::schema::{self, Message, Rule, Type};
use super::*;

// ---------------------------------------------------------------------------------------------
// A wire-level builder, independent of the table: field numbers written by hand.

#[derive(Debug, Default, Clone)]
struct Pb(Vec<u8>);

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn put_key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    put_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

fn put_bytes(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    put_key(out, number, 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

impl Pb {
    fn varint(mut self, number: u32, value: u64) -> Self {
        put_key(&mut self.0, number, 0);
        put_varint(&mut self.0, value);
        self
    }

    fn bytes(mut self, number: u32, bytes: &[u8]) -> Self {
        put_bytes(&mut self.0, number, bytes);
        self
    }

    fn string(self, number: u32, text: &str) -> Self {
        self.bytes(number, text.as_bytes())
    }

    fn message(self, number: u32, message: Pb) -> Self {
        self.bytes(number, &message.0)
    }

    fn fixed64(mut self, number: u32, value: u64) -> Self {
        put_key(&mut self.0, number, 1);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }

    fn fixed32(mut self, number: u32, value: u32) -> Self {
        put_key(&mut self.0, number, 5);
        self.0.extend_from_slice(&value.to_le_bytes());
        self
    }
}

/// A whole body: magic, envelope, raw object.
fn body(api_version: &str, kind: &str, raw: Pb) -> Vec<u8> {
    let envelope = Pb::default()
        .message(1, Pb::default().string(1, api_version).string(2, kind))
        .message(2, raw);
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&envelope.0);
    out
}

fn meta(name: &str) -> Pb {
    Pb::default().string(1, name)
}

// ---------------------------------------------------------------------------------------------
// An encoder from JSON driven by the table (the inverse of the decoder).

fn encode_value(out: &mut Vec<u8>, number: u32, ty: Type, value: &Value) {
    let text = || value.as_str().expect("a string").to_owned();
    match ty {
        Type::Str => put_bytes(out, number, text().as_bytes()),
        Type::Bytes => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text())
                .expect("base64");
            put_bytes(out, number, &bytes);
        }
        Type::Bool => {
            put_key(out, number, 0);
            put_varint(out, u64::from(value.as_bool().expect("a bool")));
        }
        Type::Int32 | Type::Int64 => {
            put_key(out, number, 0);
            put_varint(out, value.as_i64().expect("an integer") as u64);
        }
        Type::Time | Type::MicroTime => {
            let timestamp: jiff::Timestamp = text().parse().expect("RFC 3339");
            let mut message = Pb::default().varint(1, timestamp.as_second() as u64);
            if ty == Type::MicroTime {
                message = message.varint(2, u64::from(timestamp.subsec_nanosecond() as u32));
            }
            put_bytes(out, number, &message.0);
        }
        Type::Quantity => put_bytes(out, number, &Pb::default().string(1, &text()).0),
        Type::IntOrString => {
            let message = match value {
                Value::String(s) => Pb::default().varint(1, 1).string(3, s),
                other => Pb::default()
                    .varint(1, 0)
                    .varint(2, other.as_i64().expect("an integer") as u64),
            };
            put_bytes(out, number, &message.0);
        }
        Type::RawExtension | Type::FieldsV1 => {
            let raw = serde_json::to_vec(value).expect("JSON");
            put_bytes(out, number, &Pb::default().bytes(1, &raw).0);
        }
        Type::StringList => {
            let mut message = Pb::default();
            for item in value.as_array().expect("a list") {
                message = message.string(1, item.as_str().expect("a string"));
            }
            put_bytes(out, number, &message.0);
        }
        Type::Message(name) => {
            let message = schema::message(name).expect("a message of the table");
            let object = value.as_object().expect("an object");
            put_bytes(out, number, &encode(message, object));
        }
    }
}

/// Encodes `object` as `message`, writing only what the JSON has.
fn encode(message: Message, object: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for field in message.fields {
        if field.rule == Rule::Inline {
            let Type::Message(name) = field.ty else {
                panic!("inline {name:?}", name = field.ty)
            };
            let inner = schema::message(name).expect("a message of the table");
            put_bytes(&mut out, field.number, &encode(inner, object));
            continue;
        }
        let Some(value) = object.get(field.name) else {
            continue;
        };
        match field.rule {
            Rule::Single(_) => encode_value(&mut out, field.number, field.ty, value),
            Rule::Repeated => {
                for item in value.as_array().expect("a list") {
                    encode_value(&mut out, field.number, field.ty, item);
                }
            }
            Rule::Map(key_type) => {
                for (key, item) in value.as_object().expect("a map") {
                    let mut entry = Vec::new();
                    encode_value(&mut entry, 1, key_type, &Value::String(key.clone()));
                    encode_value(&mut entry, 2, field.ty, item);
                    put_bytes(&mut out, field.number, &entry);
                }
            }
            Rule::Inline => unreachable!(),
        }
    }
    out
}

/// A whole body for a JSON object of a top-level kind.
fn encode_object(object: &Value) -> Vec<u8> {
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let kind = object["kind"].as_str().expect("kind");
    let message = kind_message(api_version, kind).expect("a kind of the table");
    let raw = encode(message, object.as_object().expect("an object"));
    body(api_version, kind, Pb(raw))
}

/// An object of `message` with every field set (lists and maps with one element).
fn sample(message: Message, seed: &mut i64) -> Map<String, Value> {
    let mut object = Map::new();
    for field in message.fields {
        *seed += 1;
        let value = sample_value(field.ty, seed);
        match field.rule {
            Rule::Single(_) => {
                object.insert(field.name.to_owned(), value);
            }
            Rule::Repeated => {
                object.insert(field.name.to_owned(), Value::Array(vec![value]));
            }
            Rule::Map(_) => {
                object.insert(field.name.to_owned(), json!({ format!("k{seed}"): value }));
            }
            Rule::Inline => {
                let Value::Object(inner) = value else {
                    panic!("inline field of {}", message.name)
                };
                object.extend(inner);
            }
        }
    }
    object
}

fn sample_value(ty: Type, seed: &mut i64) -> Value {
    match ty {
        Type::Str => json!(format!("s{seed}")),
        Type::Bytes => json!(base64::engine::general_purpose::STANDARD.encode(format!("b{seed}"))),
        Type::Bool => json!(true),
        Type::Int32 => json!(*seed),
        Type::Int64 => json!(*seed * 1_000_000_007),
        Type::Time => json!("2024-05-06T07:08:09Z"),
        Type::MicroTime => json!("2024-05-06T07:08:09.123456Z"),
        Type::Quantity => json!("250m"),
        Type::IntOrString if *seed % 2 == 0 => json!(*seed),
        Type::IntOrString => json!("25%"),
        Type::RawExtension => json!({"apiVersion": "v1", "kind": "ConfigMap"}),
        Type::FieldsV1 => json!({"f:metadata": {"f:labels": {}}}),
        Type::StringList => json!(["a", "b"]),
        Type::Message(name) => {
            Value::Object(sample(schema::message(name).expect("a message"), seed))
        }
    }
}

fn decoded(bytes: &[u8]) -> Value {
    decode(bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// Drops `null`s, which Go writes for nil lists and maps and which mean the same as absent.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Real kubectl bodies.

#[test]
fn kubectl_bodies_decode_to_the_json_kubectl_prints_for_them() {
    let fixtures = include_str!("testdata/kubectl.txt");
    let blocks: Vec<Vec<&str>> = fixtures
        .split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter(|line| !line.starts_with('#') && !line.is_empty())
                .collect()
        })
        .filter(|lines: &Vec<&str>| !lines.is_empty())
        .collect();
    assert!(blocks.len() >= 28, "{} fixtures", blocks.len());
    for lines in blocks {
        let [command, body, expected] = lines.as_slice() else {
            panic!("malformed fixture {lines:?}")
        };
        let expected: Value = serde_json::from_str(expected).expect("fixture JSON");
        let actual = decode(&hex(body)).unwrap_or_else(|e| panic!("{command}: {e}"));
        assert_eq!(actual, without_nulls(expected), "{command}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-built wire data.

#[test]
fn unset_fields_are_omitted_zero_values_are_dropped_and_pointer_zeros_are_kept() {
    // gogo-protobuf writes every value field, zero or not, and pointer fields only when set.
    let metadata = meta("web")
        .string(2, "") // generateName: "" (omitempty)
        .varint(7, 0) // generation: 0 (omitempty)
        .message(8, Pb::default()); // creationTimestamp: zero time
    let container = Pb::default()
        .string(1, "c")
        .message(6, Pb::default().string(1, "")); // a port without containerPort
    let spec = Pb::default()
        .varint(1, 0) // replicas: pointer to 0
        .message(
            3,
            Pb::default().message(2, Pb::default().message(2, container)),
        );
    let raw = Pb::default().message(1, metadata).message(2, spec);
    assert_eq!(
        decoded(&body("apps/v1", "Deployment", raw)),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 0,
                "template": {
                    "metadata": {},
                    "spec": {"containers": [{
                        "name": "c",
                        "ports": [{"containerPort": 0}],
                        "resources": {},
                    }]},
                },
                "strategy": {},
            },
            "status": {},
        })
    );
}

#[test]
fn times_are_rfc3339_and_the_zero_time_is_dropped() {
    let at = |seconds: u64, nanos: u64| Pb::default().varint(1, seconds).varint(2, nanos);
    let metadata = meta("x")
        .message(8, at(1_700_000_000, 999)) // creationTimestamp: nanoseconds dropped
        .message(9, at(0, 0)) // deletionTimestamp: a set pointer to the epoch
        .message(
            17,
            Pb::default().string(1, "kubectl").message(4, Pb::default()), // managedFields[0].time: zero
        );
    let event = Pb::default()
        .message(1, metadata)
        .message(10, at(1_700_000_000, 123_456_789)); // eventTime: MicroTime
    assert_eq!(
        decoded(&body("v1", "Event", event)),
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": "x",
                "creationTimestamp": "2023-11-14T22:13:20Z",
                "deletionTimestamp": "1970-01-01T00:00:00Z",
                "managedFields": [{"manager": "kubectl"}],
            },
            "involvedObject": {},
            "source": {},
            "eventTime": "2023-11-14T22:13:20.123456Z",
            // No omitempty on these two in Go.
            "reportingComponent": "",
            "reportingInstance": "",
        })
    );
    let far = meta("x").message(8, at(400_000_000_000, 0));
    let error = decode(&body("v1", "ConfigMap", Pb::default().message(1, far))).unwrap_err();
    assert!(
        error.to_string().contains("year outside of range"),
        "{error}"
    );
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let metadata = meta("x")
        .varint(1000, 5)
        .fixed64(1001, 6)
        .string(1002, "future")
        .fixed32(1003, 7);
    let raw = Pb::default()
        .message(1, metadata)
        .message(99, Pb::default().string(1, "nested"));
    assert_eq!(
        decoded(&body("v1", "ConfigMap", raw)),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    );
}

#[test]
fn repeated_scalars_may_be_packed_or_not() {
    let mut packed = Vec::new();
    for group in [1000u64, 2000, 3000] {
        put_varint(&mut packed, group);
    }
    let context = Pb::default().bytes(4, &packed).varint(4, 4000); // supplementalGroups
    let spec = Pb::default()
        .message(2, Pb::default().string(1, "c"))
        .message(14, context);
    let raw = Pb::default().message(1, meta("p")).message(2, spec);
    let pod = decoded(&body("v1", "Pod", raw));
    assert_eq!(
        pod["spec"]["securityContext"]["supplementalGroups"],
        json!([1000, 2000, 3000, 4000])
    );
}

#[test]
fn a_message_sent_twice_is_merged_and_a_scalar_sent_twice_keeps_the_last() {
    let raw = Pb::default()
        .message(1, meta("first").string(3, "ns"))
        .message(1, meta("second"))
        .string(3, "Opaque")
        .string(3, "kubernetes.io/tls");
    assert_eq!(
        decoded(&body("v1", "Secret", raw)),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "second", "namespace": "ns"},
            "type": "kubernetes.io/tls",
        })
    );
}

#[test]
fn volume_sources_are_inlined_and_an_empty_dir_stays_an_empty_object() {
    let volume = |name: &str, source: Pb| Pb::default().string(1, name).message(2, source);
    let spec = Pb::default()
        .message(
            1,
            volume("scratch", Pb::default().message(2, Pb::default())),
        )
        .message(
            1,
            volume(
                "config",
                Pb::default().message(
                    19,
                    Pb::default().message(1, meta("settings")).varint(3, 0o644),
                ),
            ),
        )
        .message(
            2,
            Pb::default()
                .string(1, "app")
                .message(9, Pb::default().string(1, "scratch").string(3, "/tmp")),
        );
    let raw = Pb::default().message(1, meta("p")).message(2, spec);
    let pod = decoded(&body("v1", "Pod", raw));
    assert_eq!(
        pod["spec"]["volumes"],
        json!([
            {"name": "scratch", "emptyDir": {}},
            {"name": "config", "configMap": {"name": "settings", "defaultMode": 420}},
        ])
    );
    assert_eq!(
        pod["spec"]["containers"][0]["volumeMounts"],
        json!([{"name": "scratch", "mountPath": "/tmp"}])
    );
}

#[test]
fn bytes_become_base64_and_map_entries_without_a_value_get_the_zero_value() {
    let raw = Pb::default()
        .message(1, meta("s"))
        .message(
            2,
            Pb::default().string(1, "token").bytes(2, b"\x00\xffsecret"),
        )
        .message(2, Pb::default().string(1, "empty"))
        .message(4, Pb::default().string(1, "plain").string(2, "text"));
    assert_eq!(
        decoded(&body("v1", "Secret", raw)),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"token": "AP9zZWNyZXQ=", "empty": ""},
            "stringData": {"plain": "text"},
        })
    );
}

#[test]
fn int_or_string_and_quantity_decode_as_go_encodes_them() {
    let port = |target: Pb| Pb::default().varint(3, 80).message(4, target);
    let spec = Pb::default()
        .message(1, port(Pb::default().varint(1, 0).varint(2, 8080)))
        .message(1, port(Pb::default().varint(1, 1).string(3, "http")))
        .message(1, port(Pb::default())); // the zero IntOrString
    let raw = Pb::default().message(1, meta("s")).message(2, spec);
    let service = decoded(&body("v1", "Service", raw));
    assert_eq!(
        service["spec"]["ports"],
        json!([
            {"port": 80, "targetPort": 8080},
            {"port": 80, "targetPort": "http"},
            {"port": 80, "targetPort": 0},
        ])
    );
    let bad = Pb::default().message(1, meta("s")).message(
        2,
        Pb::default().message(1, port(Pb::default().varint(1, 7))),
    );
    let error = decode(&body("v1", "Service", bad)).unwrap_err();
    assert!(error.to_string().contains("IntOrString"), "{error}");

    let hard = |quantity: Pb| Pb::default().string(1, "cpu").message(2, quantity);
    let quota = Pb::default().message(1, meta("q")).message(
        2,
        Pb::default()
            .message(1, hard(Pb::default().string(1, "500m")))
            .message(1, Pb::default().string(1, "pods").message(2, Pb::default())),
    );
    assert_eq!(
        decoded(&body("v1", "ResourceQuota", quota))["spec"]["hard"],
        json!({"cpu": "500m", "pods": "0"})
    );
}

#[test]
fn negative_int32s_and_invalid_utf8_decode_as_go_decodes_them() {
    // int32 -1 is a ten-byte varint; Go's JSON encoder replaces invalid UTF-8 with U+FFFD.
    let raw = Pb::default()
        .message(1, meta("pc"))
        .varint(2, u64::MAX)
        .bytes(4, b"caf\xe9");
    assert_eq!(
        decoded(&body("scheduling.k8s.io/v1", "PriorityClass", raw)),
        json!({
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": "pc"},
            "value": -1,
            "description": "caf\u{fffd}",
        })
    );
}

#[test]
fn node_unschedulable_and_the_review_kinds_decode() {
    let node = Pb::default()
        .message(1, meta("n1"))
        .message(2, Pb::default().varint(4, 1));
    assert_eq!(
        decoded(&body("v1", "Node", node)),
        json!({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "spec": {"unschedulable": true},
            "status": {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}}, "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "",
                "osImage": "", "containerRuntimeVersion": "", "kubeletVersion": "",
                "kubeProxyVersion": "", "operatingSystem": "", "architecture": "",
            }},
        })
    );
    let review = Pb::default().message(1, Pb::default()).message(
        2,
        Pb::default().message(
            1,
            Pb::default()
                .string(1, "default")
                .string(2, "get")
                .string(5, "pods"),
        ),
    );
    assert_eq!(
        decoded(&body(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            review
        )),
        json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": {"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}},
            "status": {"allowed": false},
        })
    );
}

#[test]
fn kinds_outside_the_table_are_refused_with_415_naming_the_kind() {
    let raw = Pb::default().message(1, meta("repo"));
    let error = decode(&body("source.toolkit.fluxcd.io/v1", "GitRepository", raw)).unwrap_err();
    assert!(
        matches!(error, ProtobufError::UnsupportedKind { .. }),
        "{error:?}"
    );
    let status = ApiError::from(error);
    assert_eq!(status.code, 415);
    assert!(
        status.message.contains("GitRepository")
            && status.message.contains("source.toolkit.fluxcd.io/v1"),
        "{}",
        status.message
    );
    // A known kind in an unserved version is not guessed at either.
    let error = decode(&body("apps/v1beta1", "Deployment", Pb::default())).unwrap_err();
    assert_eq!(ApiError::from(error).code, 415);
}

#[test]
fn malformed_bodies_are_bad_requests() {
    let code = |bytes: &[u8]| ApiError::from(decode(bytes).unwrap_err()).code;
    assert_eq!(code(b""), 400);
    assert_eq!(code(b"k8s\0"), 400);
    assert_eq!(code(b"{\"kind\":\"ConfigMap\"}"), 400);
    assert_eq!(code(&body("", "", Pb::default())), 400);
    assert_eq!(code(&body("", "ConfigMap", Pb::default())), 400);
    // Truncated in the middle of the object.
    let mut truncated = body("v1", "ConfigMap", Pb::default().message(1, meta("x")));
    truncated.truncate(truncated.len() - 1);
    assert_eq!(code(&truncated), 400);
    // metadata.name sent as a varint.
    let wrong = body(
        "v1",
        "ConfigMap",
        Pb::default().message(1, Pb::default().varint(1, 3)),
    );
    let error = decode(&wrong).unwrap_err();
    assert_eq!(
        error.to_string(),
        "malformed protobuf at ConfigMap.metadata.name: wire type 0 cannot hold a string"
    );
    // A group (wire type 3) inside the object.
    let group = body("v1", "ConfigMap", Pb(vec![0x0b]));
    assert_eq!(code(&group), 400);
    // A compressed envelope is not understood.
    let mut envelope = Pb::default()
        .message(1, Pb::default().string(1, "v1").string(2, "ConfigMap"))
        .string(3, "gzip");
    envelope.0.splice(0..0, MAGIC.iter().copied());
    assert_eq!(code(&envelope.0), 415);
}

#[test]
fn delete_options_decode_in_any_group_version() {
    let options = Pb::default()
        .varint(1, 0)
        .message(2, Pb::default().string(1, "uid-1"))
        .string(4, "Foreground")
        .string(5, "All");
    for api_version in ["v1", "apps/v1", "meta.k8s.io/v1"] {
        assert_eq!(
            decoded(&body(api_version, "DeleteOptions", options.clone())),
            json!({
                "apiVersion": api_version, "kind": "DeleteOptions",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": "uid-1"},
                "propagationPolicy": "Foreground",
                "dryRun": ["All"],
            })
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The table itself.

#[test]
fn every_message_the_table_refers_to_exists_and_field_numbers_and_names_are_unique() {
    let mut count = 0;
    for message in schema::messages() {
        count += 1;
        let mut numbers: Vec<u32> = message.fields.iter().map(|f| f.number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), message.fields.len(), "{}", message.name);
        for field in message.fields {
            if let Type::Message(name) = field.ty {
                assert!(schema::message(name).is_some(), "{}: {name}", message.name);
            }
            if field.rule == Rule::Inline {
                assert!(matches!(field.ty, Type::Message(_)), "{}", message.name);
            } else {
                assert!(!field.name.is_empty(), "{}", message.name);
            }
        }
        // JSON names, inlined ones included, are unique.
        let mut seed = 0;
        let keys = sample(message, &mut seed).len();
        let declared: usize = message
            .fields
            .iter()
            .map(|f| match (f.rule, f.ty) {
                (Rule::Inline, Type::Message(name)) => {
                    let mut seed = 0;
                    sample(schema::message(name).expect("inline message"), &mut seed).len()
                }
                _ => 1,
            })
            .sum();
        assert_eq!(keys, declared, "{}: duplicate JSON names", message.name);
    }
    assert!(count > 300, "{count} messages");
    for (api_version, kind) in kinds() {
        assert!(
            kind_message(api_version, kind).is_some(),
            "{api_version} {kind}"
        );
    }
}

#[test]
fn every_field_of_every_kind_round_trips_through_the_table_encoder() {
    for (api_version, kind) in kinds() {
        let message = kind_message(api_version, kind).expect("kind");
        let mut seed = 0;
        let mut object = sample(message, &mut seed);
        object.insert("apiVersion".into(), json!(api_version));
        object.insert("kind".into(), json!(kind));
        let object = Value::Object(object);
        assert_eq!(decoded(&encode_object(&object)), object, "{kind}");
    }
}

/// Deserializes `value` as `T`, returning the paths of fields `T` does not know.
fn unknown_fields<T: serde::de::DeserializeOwned>(value: &Value) -> Result<Vec<String>, String> {
    let mut unknown = Vec::new();
    serde_ignored::deserialize::<_, _, T>(value, |path| unknown.push(path.to_string()))
        .map_err(|e| e.to_string())?;
    Ok(unknown)
}

#[test]
fn decoded_objects_of_every_kind_are_accepted_by_the_k8s_openapi_types() {
    use k8s_openapi::api as k8s;
    type Check = fn(&Value) -> Result<Vec<String>, String>;
    let checks: &[(&str, &str, Check)] = &[
        (
            "v1",
            "ConfigMap",
            unknown_fields::<k8s::core::v1::ConfigMap>,
        ),
        (
            "v1",
            "Endpoints",
            unknown_fields::<k8s::core::v1::Endpoints>,
        ),
        ("v1", "Event", unknown_fields::<k8s::core::v1::Event>),
        (
            "v1",
            "LimitRange",
            unknown_fields::<k8s::core::v1::LimitRange>,
        ),
        (
            "v1",
            "Namespace",
            unknown_fields::<k8s::core::v1::Namespace>,
        ),
        ("v1", "Node", unknown_fields::<k8s::core::v1::Node>),
        (
            "v1",
            "PersistentVolume",
            unknown_fields::<k8s::core::v1::PersistentVolume>,
        ),
        (
            "v1",
            "PersistentVolumeClaim",
            unknown_fields::<k8s::core::v1::PersistentVolumeClaim>,
        ),
        ("v1", "Pod", unknown_fields::<k8s::core::v1::Pod>),
        (
            "v1",
            "ResourceQuota",
            unknown_fields::<k8s::core::v1::ResourceQuota>,
        ),
        ("v1", "Secret", unknown_fields::<k8s::core::v1::Secret>),
        ("v1", "Service", unknown_fields::<k8s::core::v1::Service>),
        (
            "v1",
            "ServiceAccount",
            unknown_fields::<k8s::core::v1::ServiceAccount>,
        ),
        (
            "apps/v1",
            "ControllerRevision",
            unknown_fields::<k8s::apps::v1::ControllerRevision>,
        ),
        (
            "apps/v1",
            "DaemonSet",
            unknown_fields::<k8s::apps::v1::DaemonSet>,
        ),
        (
            "apps/v1",
            "Deployment",
            unknown_fields::<k8s::apps::v1::Deployment>,
        ),
        (
            "apps/v1",
            "ReplicaSet",
            unknown_fields::<k8s::apps::v1::ReplicaSet>,
        ),
        (
            "apps/v1",
            "StatefulSet",
            unknown_fields::<k8s::apps::v1::StatefulSet>,
        ),
        (
            "authentication.k8s.io/v1",
            "SelfSubjectReview",
            unknown_fields::<k8s::authentication::v1::SelfSubjectReview>,
        ),
        (
            "authentication.k8s.io/v1",
            "TokenRequest",
            unknown_fields::<k8s::authentication::v1::TokenRequest>,
        ),
        (
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            unknown_fields::<k8s::authorization::v1::SelfSubjectAccessReview>,
        ),
        (
            "authorization.k8s.io/v1",
            "SelfSubjectRulesReview",
            unknown_fields::<k8s::authorization::v1::SelfSubjectRulesReview>,
        ),
        (
            "autoscaling/v1",
            "Scale",
            unknown_fields::<k8s::autoscaling::v1::Scale>,
        ),
        (
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            unknown_fields::<k8s::autoscaling::v2::HorizontalPodAutoscaler>,
        ),
        (
            "batch/v1",
            "CronJob",
            unknown_fields::<k8s::batch::v1::CronJob>,
        ),
        ("batch/v1", "Job", unknown_fields::<k8s::batch::v1::Job>),
        (
            "coordination.k8s.io/v1",
            "Lease",
            unknown_fields::<k8s::coordination::v1::Lease>,
        ),
        (
            "discovery.k8s.io/v1",
            "EndpointSlice",
            unknown_fields::<k8s::discovery::v1::EndpointSlice>,
        ),
        (
            "events.k8s.io/v1",
            "Event",
            unknown_fields::<k8s::events::v1::Event>,
        ),
        (
            "networking.k8s.io/v1",
            "Ingress",
            unknown_fields::<k8s::networking::v1::Ingress>,
        ),
        (
            "networking.k8s.io/v1",
            "IngressClass",
            unknown_fields::<k8s::networking::v1::IngressClass>,
        ),
        (
            "networking.k8s.io/v1",
            "NetworkPolicy",
            unknown_fields::<k8s::networking::v1::NetworkPolicy>,
        ),
        (
            "policy/v1",
            "Eviction",
            unknown_fields::<k8s::policy::v1::Eviction>,
        ),
        (
            "policy/v1",
            "PodDisruptionBudget",
            unknown_fields::<k8s::policy::v1::PodDisruptionBudget>,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            unknown_fields::<k8s::rbac::v1::ClusterRole>,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            unknown_fields::<k8s::rbac::v1::ClusterRoleBinding>,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "Role",
            unknown_fields::<k8s::rbac::v1::Role>,
        ),
        (
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            unknown_fields::<k8s::rbac::v1::RoleBinding>,
        ),
        (
            "scheduling.k8s.io/v1",
            "PriorityClass",
            unknown_fields::<k8s::scheduling::v1::PriorityClass>,
        ),
        (
            "storage.k8s.io/v1",
            "StorageClass",
            unknown_fields::<k8s::storage::v1::StorageClass>,
        ),
    ];
    assert_eq!(checks.len(), kinds().count());
    // The check sees unknown fields.
    let bogus = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"nmae": "x"}});
    assert_eq!(checks[0].2(&bogus), Ok(vec!["metadata.?.nmae".to_owned()]));
    let mut newer = Vec::new();
    for (api_version, kind, check) in checks {
        let message = kind_message(api_version, kind).expect("kind");
        let mut seed = 0;
        let mut object = sample(message, &mut seed);
        object.insert("apiVersion".into(), json!(api_version));
        object.insert("kind".into(), json!(kind));
        let decoded = decoded(&encode_object(&Value::Object(object)));
        let unknown = check(&decoded).unwrap_or_else(|e| panic!("{kind}: {e}"));
        newer.extend(unknown.into_iter().map(|path| format!("{kind}: {path}")));
    }
    // Every JSON name and type of the table agrees with k8s-openapi (generated from the
    // OpenAPI documents, an independent source).
    assert!(newer.is_empty(), "{newer:#?}");
}
