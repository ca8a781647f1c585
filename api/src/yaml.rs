//! The one place Sluice reads and writes YAML through serde.
//!
//! Every crate above `api` goes through these functions, so the YAML library
//! (currently `serde-saphyr`) can be swapped in one module.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A YAML document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not valid YAML, or does not fit the target type.
    #[error("invalid YAML: {0}")]
    Parse(String),
    /// The value could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Write(String),
}

/// Reads a single YAML document into `T`.
///
/// # Errors
/// [`YamlError::Parse`] when the text is not YAML, holds several documents, or does not
/// deserialize into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|e| YamlError::Parse(e.to_string()))
}

/// Reads every document of a multi-document YAML stream (`---` separated) into `T`.
/// Empty documents are skipped.
///
/// # Errors
/// [`YamlError::Parse`] when any document is not YAML or does not deserialize into `T`.
pub fn from_str_multi<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, YamlError> {
    serde_saphyr::from_multiple(text).map_err(|e| YamlError::Parse(e.to_string()))
}

/// Writes `value` as a YAML document (block style, no leading `---`).
///
/// # Errors
/// [`YamlError::Write`] when `value` cannot be represented in YAML.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError::Write(e.to_string()))
}
