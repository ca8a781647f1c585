//! Small pieces every controller uses: label selectors as objects carry them, owner
//! references, conditions, times, Go durations, int-or-percent values and the
//! pod-template hash.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// The current time.
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// A time as Kubernetes writes `metav1.Time`: RFC 3339, seconds precision, UTC.
pub fn format_time(time: Timestamp) -> String {
    time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses a `metav1.Time` (or any RFC 3339 time).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

/// A time field of `object` at `path`, parsed.
pub fn time_at(object: &Value, path: &[&str]) -> Option<Timestamp> {
    at(object, path)
        .and_then(Value::as_str)
        .and_then(parse_time)
}

/// How long until `time` (zero when it has passed).
pub fn until(time: Timestamp, now: Timestamp) -> Duration {
    let millis = time.as_millisecond() - now.as_millisecond();
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// `time + seconds`.
pub fn plus_seconds(time: Timestamp, seconds: i64) -> Timestamp {
    time.checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(time)
}

/// `time + duration`.
pub fn plus(time: Timestamp, duration: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(duration)
        .ok()
        .and_then(|d| time.checked_add(d).ok())
        .unwrap_or(time)
}

/// The value at a path of object fields.
pub fn at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(object, |value, field| value.get(field))
}

/// An integer at a path.
pub fn int_at(object: &Value, path: &[&str]) -> Option<i64> {
    at(object, path).and_then(Value::as_i64)
}

/// A string at a path.
pub fn str_at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(object, path).and_then(Value::as_str)
}

/// `spec.replicas`, which Kubernetes defaults to 1.
pub fn spec_replicas(object: &Value) -> i64 {
    int_at(object, &["spec", "replicas"]).unwrap_or(1).max(0)
}

/// Parses a Go duration (`300ms`, `5s`, `1m30s`, `1.5h`); `None` when malformed.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text == "0" {
        return Some(Duration::ZERO);
    }
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// `metadata.labels` as a map (empty when missing).
pub fn labels(object: &Value) -> Map<String, Value> {
    at(object, &["metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Whether `labels` satisfy a `metav1.LabelSelector` (`matchLabels` and
/// `matchExpressions`). An empty selector matches everything; a missing one nothing.
pub fn selector_matches(selector: Option<&Value>, labels: &Map<String, Value>) -> bool {
    let Some(selector) = selector.filter(|s| s.is_object()) else {
        return false;
    };
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    if let Some(match_labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in match_labels {
            if label(key) != value.as_str() {
                return false;
            }
        }
    }
    let expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    expressions.iter().all(|expression| {
        let key = expression
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        match expression.get("operator").and_then(Value::as_str) {
            Some("In") => label(key).is_some_and(|v| values.contains(&v)),
            Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
            Some("Exists") => label(key).is_some(),
            Some("DoesNotExist") => label(key).is_none(),
            _ => false,
        }
    })
}

/// Whether a selector selects nothing in practice (missing, or with no requirement at
/// all, which controllers refuse to act on).
pub fn selector_is_empty(selector: Option<&Value>) -> bool {
    selector.is_none_or(|s| {
        s.get("matchLabels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
            && s.get("matchExpressions")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
    })
}

/// `metadata.ownerReferences` (empty when missing).
pub fn owner_references(object: &Value) -> &[Value] {
    at(object, &["metadata", "ownerReferences"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The owner reference marked `controller: true`, if any.
pub fn controller_of(object: &Value) -> Option<&Value> {
    owner_references(object)
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
}

/// Whether `object`'s controller is the object with `uid`.
pub fn controlled_by(object: &Value, uid: &str) -> bool {
    controller_of(object).and_then(|r| r.get("uid")?.as_str()) == Some(uid)
}

/// A controller owner reference to `owner`, as the built-in controllers set it.
pub fn controller_reference(owner: &Value, api_version: &str, kind: &str) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": str_at(owner, &["metadata", "name"]).unwrap_or_default(),
        "uid": str_at(owner, &["metadata", "uid"]).unwrap_or_default(),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// `metadata.uid`.
pub fn uid(object: &Value) -> &str {
    str_at(object, &["metadata", "uid"]).unwrap_or_default()
}

/// `metadata.name`.
pub fn name(object: &Value) -> &str {
    str_at(object, &["metadata", "name"]).unwrap_or_default()
}

/// `metadata.creationTimestamp`, or the epoch.
pub fn created(object: &Value) -> Timestamp {
    time_at(object, &["metadata", "creationTimestamp"]).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The condition of `type_` in `conditions`.
pub fn condition<'a>(conditions: &'a [Value], type_: &str) -> Option<&'a Value> {
    conditions
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// `status.conditions` of an object.
pub fn conditions(object: &Value) -> Vec<Value> {
    at(object, &["status", "conditions"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A condition to set with [`set_condition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition<'a> {
    /// `type`.
    pub type_: &'a str,
    /// `True`, `False` or `Unknown`.
    pub status: &'a str,
    /// `reason`.
    pub reason: &'a str,
    /// `message`.
    pub message: &'a str,
}

/// Sets a condition as the Kubernetes controllers do: nothing changes when status and
/// reason are the same; otherwise the condition moves to the end of the list, keeping its
/// `lastTransitionTime` when only the reason or message changed. `with_update_time` adds
/// `lastUpdateTime` (Deployments). Returns whether anything changed.
pub fn set_condition(
    conditions: &mut Vec<Value>,
    new: &Condition<'_>,
    now: &str,
    with_update_time: bool,
) -> bool {
    let current = condition(conditions, new.type_).cloned();
    if let Some(current) = &current
        && current.get("status").and_then(Value::as_str) == Some(new.status)
        && current.get("reason").and_then(Value::as_str) == Some(new.reason)
    {
        return false;
    }
    let transition = match &current {
        Some(c) if c.get("status").and_then(Value::as_str) == Some(new.status) => c
            .get("lastTransitionTime")
            .cloned()
            .unwrap_or_else(|| Value::from(now)),
        _ => Value::from(now),
    };
    conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some(new.type_));
    let mut value = json!({
        "type": new.type_,
        "status": new.status,
        "lastTransitionTime": transition,
        "reason": new.reason,
        "message": new.message,
    });
    if with_update_time {
        value["lastUpdateTime"] = Value::from(now);
    }
    conditions.push(value);
    true
}

/// Resolves an int-or-percent value (`maxSurge: 25%`) against `total`, rounding up or
/// down as Kubernetes does; `default` when missing or malformed.
pub fn int_or_percent(value: Option<&Value>, total: i64, round_up: bool, default: i64) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
        Some(Value::String(s)) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(percent) => {
                let scaled = percent * total;
                if round_up {
                    (scaled + 99).div_euclid(100)
                } else {
                    scaled.div_euclid(100)
                }
            }
            None => s.parse().unwrap_or(default),
        },
        _ => default,
    }
}

/// The alphabet of Kubernetes' `SafeEncodeString`: no vowels, no look-alikes.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A hash of a pod template (and a collision count), rendered as Kubernetes renders
/// `pod-template-hash` and `controller-revision-hash` values: FNV-1a (32 bit) over a
/// canonical serialization, its decimal digits mapped onto the safe alphabet.
pub fn template_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    };
    // serde_json's maps are ordered, so this serialization is canonical.
    feed(template.to_string().as_bytes());
    if let Some(count) = collision_count {
        feed(&count.to_le_bytes());
    }
    hash.to_string()
        .bytes()
        .map(|digit| SAFE_ALPHABET[usize::from(digit) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// A deterministic hexadecimal string of `len` characters derived from `seed` (for fake
/// container and image ids).
pub fn fake_hex(seed: &str, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut round: u64 = 0;
    while out.len() < len {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
        for byte in seed.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        out.push_str(&format!("{hash:016x}"));
        round += 1;
    }
    out.truncate(len);
    out
}

/// A deterministic UUID-shaped string derived from `seed`.
pub fn fake_uuid(seed: &str) -> String {
    let hex = fake_hex(seed, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Removes `key` from a JSON object's map, if present.
pub fn remove_field(object: &mut Value, key: &str) {
    if let Some(fields) = object.as_object_mut() {
        fields.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_are_parsed_like_time_parse_duration() {
        let cases = [
            ("5s", Some(Duration::from_secs(5))),
            ("300ms", Some(Duration::from_millis(300))),
            ("1m30s", Some(Duration::from_secs(90))),
            ("1.5h", Some(Duration::from_secs(5400))),
            ("0", Some(Duration::ZERO)),
            ("5", None),
            ("s", None),
            ("", None),
            ("5 parsecs", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), expected, "{text}");
        }
    }

    #[test]
    fn label_selectors_match_labels_and_expressions() {
        let labels: Map<String, Value> =
            serde_json::from_value(json!({"app": "web", "tier": "front"})).unwrap();
        let yes = [
            json!({}),
            json!({"matchLabels": {"app": "web"}}),
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}),
            json!({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}),
            json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}),
        ];
        let no = [
            json!({"matchLabels": {"app": "db"}}),
            json!({"matchExpressions": [{"key": "env", "operator": "Exists"}]}),
            json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
        ];
        for selector in yes {
            assert!(selector_matches(Some(&selector), &labels), "{selector}");
        }
        for selector in no {
            assert!(!selector_matches(Some(&selector), &labels), "{selector}");
        }
        assert!(!selector_matches(None, &labels));
    }

    #[test]
    fn percentages_round_up_for_surge_and_down_for_unavailability() {
        assert_eq!(int_or_percent(Some(&json!("25%")), 3, true, 0), 1);
        assert_eq!(int_or_percent(Some(&json!("25%")), 3, false, 0), 0);
        assert_eq!(int_or_percent(Some(&json!("50%")), 10, false, 0), 5);
        assert_eq!(int_or_percent(Some(&json!(2)), 10, false, 0), 2);
        assert_eq!(int_or_percent(None, 10, false, 7), 7);
    }

    #[test]
    fn template_hashes_are_stable_safe_and_change_with_the_template() {
        let a = template_hash(&json!({"spec": {"containers": [{"image": "nginx"}]}}), None);
        let b = template_hash(
            &json!({"spec": {"containers": [{"image": "nginx:2"}]}}),
            None,
        );
        assert_eq!(
            a,
            template_hash(&json!({"spec": {"containers": [{"image": "nginx"}]}}), None)
        );
        assert_ne!(a, b);
        assert_ne!(
            a,
            template_hash(
                &json!({"spec": {"containers": [{"image": "nginx"}]}}),
                Some(1)
            )
        );
        assert!(a.bytes().all(|c| SAFE_ALPHABET.contains(&c)), "{a}");
        assert!((1..=10).contains(&a.len()));
    }

    #[test]
    fn setting_a_condition_keeps_its_transition_time_until_the_status_changes() {
        let mut conditions = Vec::new();
        let available = Condition {
            type_: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
        };
        assert!(set_condition(&mut conditions, &available, "t1", true));
        assert!(!set_condition(&mut conditions, &available, "t2", true));
        let reworded = Condition {
            reason: "Other",
            ..available.clone()
        };
        assert!(set_condition(&mut conditions, &reworded, "t3", true));
        assert_eq!(conditions[0]["lastTransitionTime"], "t1");
        assert_eq!(conditions[0]["lastUpdateTime"], "t3");
        let now_true = Condition {
            status: "True",
            reason: "MinimumReplicasAvailable",
            ..available
        };
        assert!(set_condition(&mut conditions, &now_true, "t4", true));
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0]["lastTransitionTime"], "t4");
    }
}
