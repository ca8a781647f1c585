//! Object metadata semantics shared by every kind: names, `generateName`, uid, timestamps,
//! `resourceVersion`, `generation`, and the pieces of an object the server owns.

use rand::Rng;
use serde_json::{Map, Value, json};

use crate::errors::Cause;
use crate::resources::NameRule;

/// `metadata` of an object (an empty map when missing or malformed).
pub fn metadata(object: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    object
        .get("metadata")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// `metadata`, created if missing.
pub fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    object["metadata"]
        .as_object_mut()
        .expect("metadata was just made an object")
}

/// Drops the empty maps and lists of every `metadata` in `value` (the object's own and
/// those of templates), as Go's `omitempty` does when kube-apiserver encodes an
/// `ObjectMeta`: removing the last label leaves no `labels: {}` behind. `managedFields`
/// stay: an empty list there is a request to clear them, which the write path reads.
pub fn omit_empty_metadata(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "metadata"
                    && let Value::Object(meta) = child
                {
                    meta.retain(|field, v| {
                        !(matches!(
                            field.as_str(),
                            "labels" | "annotations" | "finalizers" | "ownerReferences"
                        ) && (v.as_object().is_some_and(Map::is_empty)
                            || v.as_array().is_some_and(Vec::is_empty)))
                    });
                }
                omit_empty_metadata(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(omit_empty_metadata),
        _ => {}
    }
}

/// A string field of `metadata`.
pub fn meta_str<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    metadata(object).get(field).and_then(Value::as_str)
}

/// `metadata.name`.
pub fn name(object: &Value) -> Option<&str> {
    meta_str(object, "name").filter(|n| !n.is_empty())
}

/// `metadata.namespace`.
pub fn namespace(object: &Value) -> Option<&str> {
    meta_str(object, "namespace").filter(|n| !n.is_empty())
}

/// `metadata.resourceVersion` parsed as a revision; `None` when empty.
pub fn resource_version(object: &Value) -> Result<Option<u64>, String> {
    match meta_str(object, "resourceVersion") {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| format!("invalid resourceVersion {text:?}")),
    }
}

/// `metadata.labels` as string pairs.
pub fn labels(object: &Value) -> Vec<(&str, &str)> {
    metadata(object)
        .get("labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                .collect()
        })
        .unwrap_or_default()
}

/// `metadata.finalizers`.
pub fn finalizers(object: &Value) -> Vec<String> {
    metadata(object)
        .get("finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether deletion has started (`metadata.deletionTimestamp` is set).
pub fn is_terminating(object: &Value) -> bool {
    metadata(object)
        .get("deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

/// The current time as Kubernetes writes `metav1.Time` (seconds precision, UTC).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random UUID (version 4), as object uids are.
pub fn new_uid() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let mut b = bytes;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A name from `generateName`: the prefix plus five random characters from Kubernetes'
/// alphabet (no vowels, no easily confused characters).
pub fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    // Kubernetes trims the prefix so the result stays within 63 characters.
    let prefix: String = prefix.chars().take(58).collect();
    let suffix: String = (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{suffix}")
}

/// Checks a name against its rule; returns the messages Kubernetes gives.
pub fn validate_name(rule: NameRule, name: &str) -> Vec<String> {
    match rule {
        NameRule::Subdomain => dns_subdomain(name),
        NameRule::Label => dns_label(name, false),
        NameRule::Label1035 => dns_label(name, true),
        NameRule::PathSegment => {
            let mut problems = Vec::new();
            if name == "." || name == ".." {
                problems.push(format!("may not be '{name}'"));
            }
            for bad in ['/', '%'] {
                if name.contains(bad) {
                    problems.push(format!("may not contain '{bad}'"));
                }
            }
            problems
        }
    }
}

fn dns_subdomain(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if name.len() > 253 {
        problems.push("must be no more than 253 characters".to_owned());
    }
    let valid = !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if !valid {
        problems.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned());
    }
    problems
}

fn dns_label(name: &str, rfc1035: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if name.len() > 63 {
        problems.push("must be no more than 63 characters".to_owned());
    }
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let edges_ok = !name.is_empty() && !name.starts_with('-') && !name.ends_with('-');
    let first_ok = !rfc1035 || name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if !(chars_ok && edges_ok && first_ok) {
        problems.push(if rfc1035 {
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_owned()
        } else {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_owned()
        });
    }
    problems
}

/// Checks label keys and values and annotation sizes, as Kubernetes validates metadata.
pub fn validate_metadata(object: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let meta = metadata(object);
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        for (key, value) in labels {
            for problem in qualified_name(key) {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "metadata.labels",
                    &format!("Invalid value: {key:?}: {problem}"),
                ));
            }
            let value = value.as_str().unwrap_or_default();
            if value.len() > 63 || !label_value_ok(value) {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "metadata.labels",
                    &format!("Invalid value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
                ));
            }
        }
    }
    if let Some(annotations) = meta.get("annotations").and_then(Value::as_object) {
        let total: usize = annotations
            .iter()
            .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
            .sum();
        if total > 256 * 1024 {
            causes.push(Cause::new(
                "FieldValueTooLong",
                "metadata.annotations",
                &format!("Too long: may not be more than 262144 bytes (got {total})"),
            ));
        }
        for key in annotations.keys() {
            for problem in qualified_name(key) {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "metadata.annotations",
                    &format!("Invalid value: {key:?}: {problem}"),
                ));
            }
        }
    }
    causes
}

fn label_value_ok(value: &str) -> bool {
    value.is_empty()
        || (value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && value
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && value
                .bytes()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric()))
}

/// Problems of a qualified name (`prefix/name`) as used for label and annotation keys.
fn qualified_name(key: &str) -> Vec<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let mut problems = Vec::new();
    if let Some(prefix) = prefix
        && (prefix.is_empty() || !dns_subdomain(prefix).is_empty())
    {
        problems.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character".to_owned());
    }
    if name.is_empty() || name.len() > 63 || !label_value_ok(name) {
        problems.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".to_owned());
    }
    problems
}

/// The object without the parts a generation bump ignores: `metadata` and, when the kind
/// has a status subresource, `status`.
pub fn spec_view(object: &Value, status_subresource: bool) -> Value {
    let mut view = object.clone();
    if let Some(fields) = view.as_object_mut() {
        fields.remove("metadata");
        fields.remove("apiVersion");
        fields.remove("kind");
        if status_subresource {
            fields.remove("status");
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_metadata_maps_and_lists_are_omitted_as_go_does() {
        let mut object = json!({
            "metadata": {"name": "x", "labels": {}, "annotations": {"a": "b"}, "finalizers": [],
                "managedFields": []},
            "spec": {"template": {"metadata": {"labels": {}, "ownerReferences": []}}},
            "data": {"labels": {}},
        });
        omit_empty_metadata(&mut object);
        assert_eq!(
            object,
            json!({
                "metadata": {"name": "x", "annotations": {"a": "b"}, "managedFields": []},
                "spec": {"template": {"metadata": {}}},
                "data": {"labels": {}},
            })
        );
    }

    #[test]
    fn names_follow_the_rules_of_their_kind() {
        assert!(validate_name(NameRule::Subdomain, "web.example-1").is_empty());
        assert!(!validate_name(NameRule::Subdomain, "Web").is_empty());
        assert!(!validate_name(NameRule::Subdomain, "-web").is_empty());
        assert!(!validate_name(NameRule::Label, "a.b").is_empty());
        assert!(!validate_name(NameRule::Label1035, "1abc").is_empty());
        assert!(validate_name(NameRule::PathSegment, "system:controller:x").is_empty());
        assert!(!validate_name(NameRule::PathSegment, "a/b").is_empty());
    }

    #[test]
    fn generated_names_keep_the_prefix_and_add_five_characters() {
        let name = generate_name("web-");
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        assert!(validate_name(NameRule::Subdomain, &name).is_empty());
    }

    #[test]
    fn uids_look_like_uuids() {
        let uid = new_uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        assert_ne!(uid, new_uid());
    }

    #[test]
    fn bad_label_keys_and_values_are_causes() {
        let object =
            json!({"metadata": {"labels": {"ok": "v", "bad key": "v", "k": "bad value!"}}});
        let causes = validate_metadata(&object);
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert!(causes.iter().all(|c| c.field == "metadata.labels"));
    }
}
