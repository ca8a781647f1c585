//! Small helpers on JSON values.

use serde_json::Value;

/// Deep equality of JSON values as RFC 6902's `test` defines it: numbers are equal when
/// their values are (`1` equals `1.0`), objects when they hold the same members whatever
/// their order, arrays element by element.
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else {
                match (x.as_f64(), y.as_f64()) {
                    (Some(x), Some(y)) => x == y,
                    _ => false,
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The JSON type of a value, for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_equal_by_value_and_containers_deeply() {
        let cases = [
            (json!(1), json!(1.0), true),
            (json!(1), json!(2), false),
            (json!(u64::MAX), json!(u64::MAX), true),
            (json!(-1), json!(u64::MAX), false),
            (
                json!({"a": [1, {"b": 2}]}),
                json!({"a": [1.0, {"b": 2}]}),
                true,
            ),
            (json!({"a": 1}), json!({"a": 1, "b": 2}), false),
            (json!([1, 2]), json!([2, 1]), false),
            (json!(null), json!(null), true),
            (json!("1"), json!(1), false),
        ];
        for (a, b, equal) in cases {
            assert_eq!(json_equal(&a, &b), equal, "{a} vs {b}");
        }
    }
}
