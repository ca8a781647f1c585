//! `PATCH`: JSON patch, JSON merge patch, strategic merge patch (built-in kinds only, as
//! upstream) and server-side apply.

use serde_json::Value;

use crate::backend::{Backend, Part, WriteOptions, Written};
use crate::errors::ApiError;
use crate::resources::{Codec, ResourceType};

/// The patch formats, by request content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json` (RFC 6902).
    Json,
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`.
    Strategic,
    /// `application/apply-patch+yaml` (server-side apply).
    Apply,
}

impl PatchType {
    /// The patch type of a content type.
    ///
    /// # Errors
    /// 415 for anything else.
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/json-patch+json" => Ok(Self::Json),
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media_type(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
            ))),
        }
    }
}

/// Applies a patch request to an object (or its status).
///
/// # Errors
/// 415 for an unsupported patch type, 422/400 for a patch that does not apply, 404 when the
/// object does not exist (except for server-side apply, which creates it).
#[allow(clippy::too_many_arguments)]
pub fn apply(
    backend: &Backend,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    content_type: &str,
    body: &[u8],
    part: Part,
    options: &WriteOptions,
    force: bool,
) -> Result<Written, ApiError> {
    let patch_type = PatchType::from_content_type(content_type)?;
    if patch_type == PatchType::Apply {
        return crate::apply::server_side_apply(
            backend, rt, namespace, name, body, part, options, force,
        );
    }
    if force {
        return Err(ApiError::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            vec![crate::errors::Cause::new(
                "FieldValueForbidden",
                "force",
                "Forbidden: may not be specified for non-apply patch",
            )],
        ));
    }
    let patch: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch document: {e}")))?;
    if patch_type == PatchType::Strategic && matches!(rt.codec, Codec::Custom(_)) {
        return Err(ApiError::unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        ));
    }
    backend.modify(
        rt,
        namespace,
        name,
        options,
        |current| {
            let patched = match patch_type {
                PatchType::Json => sluice_patch::json_patch::apply(&current.object, &patch)
                    .map_err(|e| {
                        ApiError::invalid(
                            &rt.kind,
                            &rt.group,
                            name,
                            vec![crate::errors::Cause::new(
                                "FieldValueInvalid",
                                "",
                                &e.to_string(),
                            )],
                        )
                    })?,
                PatchType::Merge => sluice_patch::merge_patch::apply(&current.object, &patch),
                PatchType::Strategic => {
                    sluice_patch::strategic::apply_builtin(&current.object, &patch).map_err(
                        |e| {
                            ApiError::invalid(
                                &rt.kind,
                                &rt.group,
                                name,
                                vec![crate::errors::Cause::new(
                                    "FieldValueInvalid",
                                    "",
                                    &e.to_string(),
                                )],
                            )
                        },
                    )?
                }
                PatchType::Apply => unreachable!("handled above"),
            };
            let requested =
                crate::object::resource_version(&patched).map_err(ApiError::bad_request)?;
            if let Some(requested) = requested
                && requested != current.revision
            {
                return Err(ApiError::conflict(&rt.group, &rt.plural, name));
            }
            Ok(patched)
        },
        part,
    )
}
