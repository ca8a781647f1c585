//! The name-suffix hash of generated ConfigMaps and Secrets, identical to kustomize's: the
//! SHA-256 of a JSON encoding (Go's `encoding/json`: sorted keys, HTML-safe escapes) of the
//! kind, data (and the Secret type), whose first ten hex digits are re-spelled so that the
//! suffix can never read as a number or a word made of hex digits (`0`→`g`, `1`→`h`,
//! `3`→`k`, `a`→`m`, `e`→`t`).
//!
//! The encoding has a `name` member, but kustomize looks the name up under a field literally
//! called `metadata/name`, which no object has: it is always the empty string, so prefixes,
//! suffixes and the generator's name never change the hash. Reproduced as is.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The suffix for a ConfigMap or Secret (its current name and data).
pub(crate) fn suffix(object: &Value) -> String {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = object
        .get("metadata/name")
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));
    let field = |f: &str| match object.get(f) {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(v) => v.clone(),
    };
    let mut m = Map::new();
    m.insert("kind".into(), Value::String(kind.to_owned()));
    m.insert("name".into(), name);
    m.insert("data".into(), field("data"));
    match kind {
        "Secret" => {
            m.insert("type".into(), field("type"));
            if let Some(sd @ Value::Object(_)) = object.get("stringData") {
                m.insert("stringData".into(), sd.clone());
            }
        }
        _ => {
            if let Some(bd @ Value::Object(_)) = object.get("binaryData") {
                m.insert("binaryData".into(), bd.clone());
            }
        }
    }
    let mut encoded = String::new();
    go_json(&Value::Object(m), &mut encoded);
    encode(&hex_sha256(encoded.as_bytes()))
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// kustomize's re-spelling of the first ten hex digits.
fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

/// Go's `json.Marshal` of a decoded value: keys sorted by bytes, `<`, `>`, `&`, U+2028 and
/// U+2029 escaped, numbers as float64.
pub(crate) fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => go_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&map[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

fn go_number(n: &serde_json::Number) -> String {
    // Values pass through interface{} as float64.
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Go writes e+21 / e-07 style exponents, trimmed to at least one digit.
        match s.split_once('e') {
            Some((m, e)) if e.starts_with('-') => format!("{m}e-{}", &e[1..]),
            Some((m, e)) => format!("{m}e+{e}"),
            None => s,
        }
    } else if f.fract() == 0.0 {
        format!("{}", f as i128)
    } else {
        format!("{f}")
    }
}

fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn config_map_hashes_match_kustomize() {
        // Names generated by kubectl kustomize v5.8.1.
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "app-config"}, "data": {"a": "1", "b": "two"}});
        assert_eq!(suffix(&cm), "5m9tg7g54f");
        let empty = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e"}});
        assert_eq!(suffix(&empty), "6ct58987ht");
    }

    #[test]
    fn secret_hashes_match_kustomize() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "creds"}, "data": {"password": "c2VjcmV0"}});
        assert_eq!(suffix(&secret), "m4d885dchh");
    }

    #[test]
    fn json_is_encoded_as_go_encodes_it() {
        let mut out = String::new();
        go_json(&json!({"b": "<&>", "a": [1, 1.5, "\u{1}"]}), &mut out);
        assert_eq!(out, r#"{"a":[1,1.5,"\u0001"],"b":"\u003c\u0026\u003e"}"#);
    }

    #[test]
    fn the_suffix_alphabet_avoids_digits_that_read_as_numbers() {
        assert_eq!(encode("0123456789abcdef"), "gh2k456789");
        assert_eq!(encode("abcdef0123"), "mbcdtfgh2k");
    }
}
