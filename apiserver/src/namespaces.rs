//! Namespaces: the `/finalize` subresource, through which the namespace cleanup removes
//! `spec.finalizers` once a terminating namespace is empty.

use serde_json::Value;

use crate::backend::{Backend, Part, WriteOptions};
use crate::errors::ApiError;

/// `PUT /api/v1/namespaces/{name}/finalize`: replaces `spec.finalizers`; a terminating
/// namespace without finalizers is then deleted.
///
/// # Errors
/// 404 when the namespace does not exist.
pub fn finalize(backend: &Backend, name: &str, body: Value) -> Result<Value, ApiError> {
    let rt = backend.registry.require("", "v1", "namespaces")?;
    let finalizers = body["spec"]["finalizers"].clone();
    let written = backend.modify(
        &rt,
        None,
        name,
        &WriteOptions::default(),
        |current| {
            let mut object = current.object.clone();
            if finalizers.is_null() {
                if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
                    spec.remove("finalizers");
                }
            } else {
                object["spec"]["finalizers"] = finalizers.clone();
            }
            Ok(object)
        },
        Part::Main,
    )?;
    Ok(written.object)
}
