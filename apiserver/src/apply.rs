//! Server-side apply (`application/apply-patch+yaml`).

use crate::backend::{Backend, Part, WriteOptions, Written};
use crate::errors::ApiError;
use crate::resources::ResourceType;

/// Applies a configuration as `fieldManager`, creating the object if needed.
///
/// # Errors
/// 409 on field conflicts without `force`, 400/422 for bad configurations.
#[allow(clippy::too_many_arguments)]
pub fn server_side_apply(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    body: &[u8],
    part: Part,
    options: &WriteOptions,
    force: bool,
) -> Result<Written, ApiError> {
    let _ = (backend, rt, namespace, name, body, part, options, force);
    Err(ApiError::unsupported_media_type(
        "server-side apply is not supported yet",
    ))
}
