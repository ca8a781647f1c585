//! Field errors shaped like `k8s.io/apimachinery/pkg/util/validation/field`: a path, a
//! kind, the offending value where Kubernetes shows one, and a detail message, printed the
//! way kube-apiserver prints them in a `422 Invalid` status.

use std::fmt;

use serde_json::Value;

/// What is wrong with a field, one variant per `field.ErrorType` that CRD validation
/// produces, plus the two ways strict decoding fails ([`UnknownField`] and
/// [`TypeInvalid`]).
///
/// [`UnknownField`]: FieldErrorKind::UnknownField
/// [`TypeInvalid`]: FieldErrorKind::TypeInvalid
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorKind {
    /// A required value is missing (`FieldValueRequired`, printed "Required value").
    Required,
    /// A value is malformed (`FieldValueInvalid`, printed "Invalid value").
    Invalid,
    /// A value is well-formed but not allowed here (`FieldValueForbidden`, printed
    /// "Forbidden").
    Forbidden,
    /// A value is not one of an enumerated set (`FieldValueNotSupported`, printed
    /// "Unsupported value").
    NotSupported,
    /// A value collides with another that must be unique (`FieldValueDuplicate`, printed
    /// "Duplicate value").
    Duplicate,
    /// A string is too long (`FieldValueTooLong`, printed "Too long").
    TooLong,
    /// A list or map has too many entries (`FieldValueTooMany`, printed "Too many").
    TooMany,
    /// A value has the wrong JSON type (`FieldValueTypeInvalid`, printed "Invalid value").
    TypeInvalid,
    /// A key the `apiextensions.k8s.io/v1` types do not define. Kubernetes reports these
    /// from strict decoding (`strict decoding error: unknown field "…"`), before validation.
    UnknownField,
}

impl FieldErrorKind {
    /// The words Kubernetes prints for this kind (`field.ErrorType.String()`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Invalid | FieldErrorKind::TypeInvalid => "Invalid value",
            FieldErrorKind::Forbidden => "Forbidden",
            FieldErrorKind::NotSupported => "Unsupported value",
            FieldErrorKind::Duplicate => "Duplicate value",
            FieldErrorKind::TooLong => "Too long",
            FieldErrorKind::TooMany => "Too many",
            FieldErrorKind::UnknownField => "Unknown field",
        }
    }

    /// Whether Kubernetes prints the offending value for this kind.
    fn shows_value(self) -> bool {
        matches!(
            self,
            FieldErrorKind::Invalid
                | FieldErrorKind::TypeInvalid
                | FieldErrorKind::NotSupported
                | FieldErrorKind::Duplicate
                | FieldErrorKind::TooMany
        )
    }
}

impl fmt::Display for FieldErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One validation failure: where, what kind, the offending value and why.
///
/// `Display` prints it as kube-apiserver does, for example
/// `spec.names.plural: Invalid value: "Foos": a DNS-1035 label must consist of …`, or
/// `unknown field "spec.foo"` for [`FieldErrorKind::UnknownField`].
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field path in Kubernetes notation: `spec.versions[0].schema.openAPIV3Schema`,
    /// with map keys in brackets (`properties[spec]`).
    pub path: String,
    /// What kind of failure this is.
    pub kind: FieldErrorKind,
    /// The offending value, for the kinds that show one (`Invalid`, `NotSupported`,
    /// `Duplicate`, `TooMany`, `TypeInvalid`); `None` otherwise, and where the value is
    /// deliberately not shown.
    pub value: Option<Value>,
    /// The detail message, exactly as Kubernetes words it where we know the wording; may be
    /// empty (a bare `Required value`).
    pub message: String,
}

impl FieldError {
    fn new(path: &Path, kind: FieldErrorKind, value: Option<Value>, message: String) -> Self {
        FieldError {
            path: path.to_string(),
            kind,
            value,
            message,
        }
    }

    pub(crate) fn required(path: &Path, message: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Required, None, message.into())
    }

    pub(crate) fn invalid(
        path: &Path,
        value: impl Into<Value>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            path,
            FieldErrorKind::Invalid,
            Some(value.into()),
            message.into(),
        )
    }

    pub(crate) fn forbidden(path: &Path, message: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Forbidden, None, message.into())
    }

    pub(crate) fn not_supported(path: &Path, value: impl Into<Value>, supported: &[&str]) -> Self {
        let message = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(
            path,
            FieldErrorKind::NotSupported,
            Some(value.into()),
            message,
        )
    }

    /// An `Invalid` error whose value is not shown (`field.OmitValueType`), as
    /// Kubernetes reports failed CEL rules on objects and lists.
    pub(crate) fn invalid_omitting_value(path: &Path, message: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Invalid, None, message.into())
    }

    /// A `Duplicate` error whose value is not shown.
    pub(crate) fn duplicate_omitting_value(path: &Path) -> Self {
        Self::new(path, FieldErrorKind::Duplicate, None, String::new())
    }

    pub(crate) fn duplicate(path: &Path, value: impl Into<Value>) -> Self {
        Self::new(
            path,
            FieldErrorKind::Duplicate,
            Some(value.into()),
            String::new(),
        )
    }

    pub(crate) fn too_long(path: &Path, max_bytes: i64) -> Self {
        let message = if max_bytes >= 0 {
            let unit = if max_bytes == 1 { "byte" } else { "bytes" };
            format!("may not be more than {max_bytes} {unit}")
        } else {
            "value is too long".to_string()
        };
        Self::new(path, FieldErrorKind::TooLong, None, message)
    }

    pub(crate) fn too_many(path: &Path, actual: i64, max: i64) -> Self {
        let message = if max >= 0 {
            let unit = if max == 1 { "item" } else { "items" };
            format!("must have at most {max} {unit}")
        } else {
            "has too many items".to_string()
        };
        Self::new(
            path,
            FieldErrorKind::TooMany,
            Some(Value::from(actual)),
            message,
        )
    }

    pub(crate) fn type_invalid(
        path: &Path,
        value: impl Into<Value>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            path,
            FieldErrorKind::TypeInvalid,
            Some(value.into()),
            message.into(),
        )
    }

    pub(crate) fn unknown_field(path: &Path) -> Self {
        Self::new(path, FieldErrorKind::UnknownField, None, String::new())
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == FieldErrorKind::UnknownField {
            return write!(f, "unknown field {}", go_quote(&self.path));
        }
        write!(f, "{}: {}", self.path, self.kind)?;
        // A missing value is an omitted one (`field.OmitValueType`); `null` is a value.
        if self.kind.shows_value()
            && let Some(value) = &self.value
        {
            write!(f, ": {}", render_value(value))?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldError {}

/// A field path under construction, printed like `field.Path.String()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    /// A path starting at the named root field.
    pub(crate) fn new(root: &str) -> Self {
        Path(root.to_string())
    }

    /// The named child field: `a` then `b` prints `a.b`.
    pub(crate) fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// The list element at `index`: `a[3]`.
    pub(crate) fn index(&self, index: usize) -> Self {
        Path(format!("{}[{index}]", self.0))
    }

    /// The map entry under `key`: `a[key]` (unquoted, as Kubernetes prints it).
    pub(crate) fn key(&self, key: &str) -> Self {
        Path(format!("{}[{key}]", self.0))
    }

    /// The first segment of the path (`field.Path.Root()`).
    pub(crate) fn root_name(&self) -> &str {
        let end = self.0.find(['.', '[']).unwrap_or(self.0.len());
        &self.0[..end]
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Renders a bad value as `field.Error.ErrorBody` does: strings quoted Go-style, numbers and
/// booleans bare, everything else as JSON.
pub(crate) fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => go_quote(s),
        Value::Number(n) => go_number(n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        other => sorted_json(other),
    }
}

/// Compact JSON with object keys sorted, as Go's `json.Marshal` writes maps (serde_json
/// may keep insertion order when another crate enables its `preserve_order` feature).
pub(crate) fn sorted_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let entries: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), sorted_json(&map[k])))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(sorted_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Quotes a string as Go's `%q` (strconv.Quote) does for the characters that occur in
/// practice: backslash escapes for quotes, backslashes and control characters.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints a JSON number as Go prints the `int64` or `float64` it decodes to.
pub(crate) fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        go_float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Prints a float as Go's `%v` does: shortest round-trip digits, in exponent form when
/// the exponent is below -4 or at least 21.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..21).contains(&exp) {
        // Rust's Display is shortest round-trip and never uses an exponent.
        return format!("{f}");
    }
    // Rust's `{:e}` gives `1.5e-7`; Go writes `1.5e-07`.
    let formatted = format!("{f:e}");
    match formatted.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exponent),
            };
            let digits = if digits.len() < 2 {
                format!("0{digits}")
            } else {
                digits.to_string()
            };
            format!("{mantissa}e{sign}{digits}")
        }
        None => formatted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_invalid_value_prints_like_kubernetes() {
        let err = FieldError::invalid(
            &Path::new("spec").child("names").child("plural"),
            "Foo",
            "must be lowercase",
        );
        assert_eq!(
            err.to_string(),
            r#"spec.names.plural: Invalid value: "Foo": must be lowercase"#
        );
    }

    #[test]
    fn a_required_value_prints_no_value_and_may_have_no_detail() {
        let err = FieldError::required(&Path::new("spec").child("group"), "");
        assert_eq!(err.to_string(), "spec.group: Required value");
    }

    #[test]
    fn map_keys_and_indices_print_in_brackets() {
        let path = Path::new("spec")
            .child("versions")
            .index(0)
            .child("schema")
            .key("x");
        assert_eq!(path.to_string(), "spec.versions[0].schema[x]");
        assert_eq!(path.root_name(), "spec");
    }

    #[test]
    fn not_supported_lists_the_supported_values_quoted() {
        let err = FieldError::not_supported(
            &Path::new("spec").child("scope"),
            "Global",
            &["Cluster", "Namespaced"],
        );
        assert_eq!(
            err.to_string(),
            r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#
        );
    }

    #[test]
    fn too_many_prints_the_count_and_the_limit() {
        let err = FieldError::too_many(&Path::new("spec").child("selectableFields"), 9, 8);
        assert_eq!(
            err.to_string(),
            "spec.selectableFields: Too many: 9: must have at most 8 items"
        );
    }

    #[test]
    fn unknown_fields_print_like_strict_decoding() {
        let err = FieldError::unknown_field(&Path::new("spec").child("foo"));
        assert_eq!(err.to_string(), r#"unknown field "spec.foo""#);
    }

    #[test]
    fn values_render_as_go_renders_them() {
        assert_eq!(render_value(&json!(15)), "15");
        assert_eq!(render_value(&json!(1.5)), "1.5");
        assert_eq!(render_value(&json!(true)), "true");
        assert_eq!(render_value(&json!("a\"b")), r#""a\"b""#);
        assert_eq!(
            render_value(&json!({"b": 1, "a": [2]})),
            r#"{"a":[2],"b":1}"#
        );
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e20), "100000000000000000000");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(0.0001), "0.0001");
    }
}
