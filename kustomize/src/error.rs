//! The crate's one error type.

/// Everything that makes a build fail. Every variant names the file (relative to the build
/// root) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read (missing, unreadable, not a kustomization).
    #[error("{path}: {reason}")]
    ReadFile {
        /// The file or directory.
        path: String,
        /// What went wrong.
        reason: String,
    },

    /// A file is not valid YAML.
    #[error("{path}: malformed yaml: {reason}")]
    ParseYaml {
        /// The file.
        path: String,
        /// The parser's message, with the line.
        reason: String,
    },

    /// A path reaches outside what the build may read: an absolute path, `../` out of the
    /// root, a symlink pointing outside (the class of CVE-2022-24877).
    #[error("{path}: security: {reason}")]
    EscapeRoot {
        /// The path as written.
        path: String,
        /// Why it is refused.
        reason: String,
    },

    /// Kustomizations include each other in a cycle, or nest deeper than allowed
    /// (the class of CVE-2022-24878).
    #[error("{path}: {reason}")]
    Recursion {
        /// The kustomization directory where the cycle or the depth was detected.
        path: String,
        /// The cycle or depth found.
        reason: String,
    },

    /// A kustomization file is invalid: unknown field, wrong type, bad value.
    #[error("{path}: invalid kustomization: {reason}")]
    InvalidKustomization {
        /// The kustomization file.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// A kustomization uses a feature this engine does not implement (remote bases, Helm
    /// charts, plugins).
    #[error("{path}: field '{field}' is not supported: {reason}")]
    Unsupported {
        /// The kustomization file.
        path: String,
        /// The field.
        field: String,
        /// Why, and what to do instead.
        reason: String,
    },

    /// Resources could not be accumulated: invalid objects, duplicate ids, conflicting
    /// generator behaviours.
    #[error("{path}: {reason}")]
    AccumulateResources {
        /// The file or kustomization the resources come from.
        path: String,
        /// What is wrong.
        reason: String,
    },

    /// A transformation (patch, replacement, label, image...) failed.
    #[error("{path}: {reason}")]
    Transform {
        /// The kustomization file that configured it.
        path: String,
        /// What failed.
        reason: String,
    },
}
