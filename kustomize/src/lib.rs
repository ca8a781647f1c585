//! A native `kustomize build`: builds a kustomization directory into the same objects, in
//! the same order, as kustomize v5 (`kubectl kustomize`), and prints them the same way.
//!
//! ```no_run
//! let yaml = sluice_kustomize::build_yaml(std::path::Path::new("deploy/prod"))?;
//! print!("{yaml}");
//! # Ok::<(), sluice_kustomize::Error>(())
//! ```
//!
//! # Guarantees
//!
//! - Every file read stays inside the build root: absolute paths, `../` out of the root and
//!   symlinks pointing outside are refused ([`Error::EscapeRoot`]). Files (resources,
//!   patches, generator inputs) must also sit in or below the kustomization naming them, as
//!   kustomize requires; bases may be reached through `..` while they stay inside the root.
//! - Cycles and chains deeper than 100 kustomizations fail with [`Error::Recursion`], never
//!   a stack overflow.
//!
//! # Caveats
//!
//! Remote bases, Helm chart inflation, plugins (`generators`, `transformers`, `validators`)
//! and `configurations` are refused with [`Error::Unsupported`], naming the field. The
//! crate README lists the kustomize behaviours not reproduced.

use std::path::Path;

mod build;
mod crds;
mod error;
mod fieldspec;
mod fsys;
mod gojson;
mod hash;
mod konfig;
mod kustomization;
mod nameref;
mod openapi;
mod patch;
mod replace;
mod resid;
mod resource;
mod select;
mod smp;
mod target;
mod transform;
mod vars;
mod yaml;

pub use error::Error;

/// The kustomize version whose behaviour is reproduced (and named by `managedByLabel`).
pub const KUSTOMIZE_VERSION: &str = "v5.8.1";

/// The annotation recording where a resource came from (`buildMetadata: [originAnnotations]`).
pub(crate) const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// The annotation recording the transformers applied (`transformerAnnotations`).
pub(crate) const TRANSFORMER_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// Builds the kustomization in `root` (the directory holding `kustomization.yaml`), which
/// is also the directory no read may leave.
///
/// Returns the built objects in output order.
///
/// # Errors
///
/// An [`Error`] naming the file and the problem: missing or malformed files, invalid
/// kustomizations, duplicate resource ids, patches whose target is missing, escapes out of
/// the root, cycles, unsupported features.
pub fn build(root: &Path) -> Result<Vec<serde_json::Value>, Error> {
    build::build(root).map(|b| b.objects)
}

/// Like [`build`], also returning kustomize's deprecation warnings (which `kubectl
/// kustomize` prints on standard error).
///
/// # Errors
///
/// As [`build`].
pub fn build_with_warnings(root: &Path) -> Result<(Vec<serde_json::Value>, Vec<String>), Error> {
    build::build(root).map(|b| (b.objects, b.warnings))
}

/// Prints objects as `kubectl kustomize` prints its build: one YAML document per object,
/// separated by `---`, keys sorted, go-yaml v2's quoting and layout.
pub fn to_yaml(objects: &[serde_json::Value]) -> String {
    yaml::stream(objects)
}

/// [`build`] then [`to_yaml`]: exactly what `kubectl kustomize root` prints.
///
/// # Errors
///
/// As [`build`].
pub fn build_yaml(root: &Path) -> Result<String, Error> {
    build(root).map(|objects| to_yaml(&objects))
}
