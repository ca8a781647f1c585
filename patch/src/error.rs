//! The crate's one error type.

/// Everything that can go wrong while parsing or applying a patch.
///
/// Every variant names what failed and where: the operation index and JSON pointer of a
/// JSON patch operation, or the field path of a strategic merge patch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A JSON pointer (RFC 6901) is malformed.
    #[error("invalid json pointer {pointer:?}: {reason}")]
    InvalidPointer {
        /// The pointer as given.
        pointer: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A JSON patch document is not a list of operations.
    #[error("invalid json patch: {reason}")]
    ParseJsonPatch {
        /// What is wrong with it.
        reason: String,
    },

    /// One operation of a JSON patch document is malformed (unknown `op`, missing member,
    /// bad pointer).
    #[error("invalid json patch operation {index}: {reason}")]
    ParseJsonPatchOperation {
        /// Position of the operation in the patch, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },

    /// A well-formed JSON patch operation could not be applied to the document.
    #[error("json patch operation {index} ({op} {path:?}) failed: {reason}")]
    ApplyJsonPatch {
        /// Position of the operation in the patch, from 0.
        index: usize,
        /// The operation (`add`, `remove`, ...).
        op: String,
        /// The operation's target pointer.
        path: String,
        /// Why it failed.
        reason: String,
    },

    /// A JSON patch `test` operation found a different value.
    #[error("json patch operation {index} (test {path:?}) failed: the value differs")]
    JsonPatchTestFailed {
        /// Position of the operation in the patch, from 0.
        index: usize,
        /// The tested pointer.
        path: String,
    },

    /// A strategic merge patch is invalid or does not fit the object.
    #[error("strategic merge patch failed at {path}: {reason}")]
    ApplyStrategicMerge {
        /// The field path, from the object root (`spec.containers[name="app"].ports`).
        path: String,
        /// Why it failed.
        reason: String,
    },

    /// A list element cannot be identified the way its list type requires.
    #[error("list at {path} cannot key its elements: {reason}")]
    ListMapKey {
        /// The path of the list, from the object root.
        path: String,
        /// Why it failed.
        reason: String,
    },
}
