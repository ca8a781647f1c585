//! Kubernetes object semantics, without I/O: the patch formats the Kubernetes API accepts
//! and the list identities server-side apply relies on.
//!
//! Objects are plain [`serde_json::Value`]s, so the same code serves the local API server
//! (PATCH requests, server-side apply) and the native kustomize engine (patches).
//!
//! - [`merge_patch`]: JSON merge patch (RFC 7386), apply and compute.
//! - [`json_patch`]: JSON patch (RFC 6902), atomic, with [`pointer`](mod@pointer) helpers (RFC 6901).
//! - [`strategic`]: strategic merge patch as Kubernetes' apimachinery applies it, driven by
//!   a [`PatchSchema`]; [`BuiltinSchema`] carries the merge metadata of the built-in kinds.
//! - [`listmap`]: how server-side apply identifies list elements (list-map keys and sets).
//!
//! Upstream behaviour is the reference; where this crate departs from it on purpose, the
//! item's documentation says so under `# Caveats`.

mod builtin;
mod error;
pub mod json_patch;
pub mod listmap;
pub mod merge_patch;
pub mod pointer;
mod schema;
pub mod strategic;

mod value;

pub use builtin::BuiltinSchema;
pub use error::Error;
pub use schema::{
    FieldSchema, ListMapKey, ListType, NoSchema, PatchSchema, PatchStrategy, PathElement,
};
pub use value::json_equal;
