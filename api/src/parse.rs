//! Strict reading of manifests: every field must be known, and errors name the field path.
//!
//! The API server prunes unknown fields silently; users deserve better when they run
//! `sluice` commands on files. [`object_from_yaml`] and [`object_from_json_value`] read a
//! Kubernetes object, checking its `apiVersion` and `kind`; [`from_yaml`] and
//! [`from_json_value`] read any other type. All of them fail on the first unknown field
//! with its path (`spec.ref.brnch`), and on type errors with the path of the offending
//! value.

use kube::Resource;
use serde::de::DeserializeOwned;

/// A manifest that does not match its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not valid YAML or JSON.
    #[error("malformed document: {0}")]
    Malformed(String),
    /// A field is not part of the type.
    #[error("unknown field \"{path}\"")]
    UnknownField {
        /// Dotted path of the field, with list indexes in brackets (`spec.include[0].frm`).
        path: String,
    },
    /// The document's `apiVersion` or `kind` is not the one of the expected type.
    #[error(
        "expected apiVersion {expected_api_version:?} and kind {expected_kind:?}, found {found_api_version:?} and {found_kind:?}"
    )]
    WrongType {
        /// The API version of the type being read.
        expected_api_version: String,
        /// The kind of the type being read.
        expected_kind: String,
        /// The API version in the document.
        found_api_version: String,
        /// The kind in the document.
        found_kind: String,
    },
    /// A value has the wrong type or an invalid value.
    #[error("invalid value at \"{path}\": {message}")]
    InvalidValue {
        /// Dotted path of the value (`.` for the document itself).
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads one YAML document into `T`, refusing unknown fields.
///
/// # Errors
/// See [`ParseError`].
pub fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let value: serde_json::Value =
        crate::yaml::from_str(text).map_err(|e| ParseError::Malformed(e.to_string()))?;
    from_json_value(value)
}

/// Converts a JSON value into `T`, refusing unknown fields.
///
/// # Errors
/// See [`ParseError`].
pub fn from_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ParseError> {
    strict(value, &[])
}

/// Reads one YAML document as a Kubernetes object of type `K`, refusing unknown fields and
/// an `apiVersion` or `kind` other than `K`'s.
///
/// # Errors
/// See [`ParseError`].
pub fn object_from_yaml<K>(text: &str) -> Result<K, ParseError>
where
    K: Resource<DynamicType = ()> + DeserializeOwned,
{
    let value: serde_json::Value =
        crate::yaml::from_str(text).map_err(|e| ParseError::Malformed(e.to_string()))?;
    object_from_json_value(value)
}

/// Converts a JSON value into a Kubernetes object of type `K`, refusing unknown fields and
/// an `apiVersion` or `kind` other than `K`'s.
///
/// # Errors
/// See [`ParseError`].
pub fn object_from_json_value<K>(value: serde_json::Value) -> Result<K, ParseError>
where
    K: Resource<DynamicType = ()> + DeserializeOwned,
{
    let found = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let (found_api_version, found_kind) = (found("apiVersion"), found("kind"));
    if found_api_version != K::api_version(&()) || found_kind != K::kind(&()) {
        return Err(ParseError::WrongType {
            expected_api_version: K::api_version(&()).into_owned(),
            expected_kind: K::kind(&()).into_owned(),
            found_api_version,
            found_kind,
        });
    }
    // The type meta was checked above; the object types do not hold it as fields.
    strict(value, &["apiVersion", "kind"])
}

/// Deserializes `value` into `T`, failing on the first unknown field other than the
/// top-level keys in `allowed_root_keys`.
fn strict<T: DeserializeOwned>(
    value: serde_json::Value,
    allowed_root_keys: &[&str],
) -> Result<T, ParseError> {
    let mut unknown: Option<String> = None;
    let result: Result<T, serde_json::Error> = serde_ignored::deserialize(&value, |path| {
        let rendered = render_ignored_path(&path);
        if unknown.is_none() && !allowed_root_keys.contains(&rendered.as_str()) {
            unknown = Some(rendered);
        }
    });
    match result {
        Ok(parsed) => match unknown {
            Some(path) => Err(ParseError::UnknownField { path }),
            None => Ok(parsed),
        },
        Err(_) => {
            // Run again with path tracking to say where the bad value is.
            let error = serde_path_to_error::deserialize::<_, T>(&value)
                .err()
                .map(|e| ParseError::InvalidValue {
                    path: e.path().to_string(),
                    message: e.into_inner().to_string(),
                });
            Err(error.unwrap_or_else(|| {
                ParseError::Malformed("inconsistent deserialization".to_owned())
            }))
        }
    }
}

fn render_ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", render_ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = render_ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render_ignored_path(parent),
    }
}
