//! Native `kustomize build` (kustomize v5 semantics).
//!
//! Placeholder: the engine lands separately; this skeleton only lets the parity suite, the
//! property tests and the benchmark compile.

use std::path::Path;

use serde_json::Value;

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine is not there yet.
    #[error("kustomize build of {0}: not implemented")]
    NotImplemented(String),
}

/// Builds the kustomization at `root` into the list of objects `kustomize build` prints.
///
/// # Errors
/// Always, in this skeleton.
pub fn build(root: &Path) -> Result<Vec<Value>, Error> {
    Err(Error::NotImplemented(root.display().to_string()))
}

/// Prints objects as `kustomize build` does: YAML documents separated by `---`.
pub fn to_yaml(objects: &[Value]) -> String {
    let _ = objects;
    String::new()
}

/// [`build`], then [`to_yaml`].
///
/// # Errors
/// As [`build`].
pub fn build_yaml(root: &Path) -> Result<String, Error> {
    build(root).map(|objects| to_yaml(&objects))
}
