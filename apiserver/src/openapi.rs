//! OpenAPI documents for clients (`kubectl explain`, client-side validation).

use http::{Response, StatusCode};
use serde_json::{Value, json};

use crate::backend::Backend;
use crate::errors::ApiError;
use crate::http::{Body, error_response};

/// `/openapi/v2`: not served (clients fall back to OpenAPI v3 and server-side validation).
pub fn v2(backend: &Backend, accept: &str) -> Response<Body> {
    let _ = (backend, accept);
    let mut response = error_response(&ApiError::no_route("/openapi/v2"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// `/openapi/v3`: the index of group-version documents.
pub fn v3_index(backend: &Backend) -> Value {
    let _ = backend;
    json!({"paths": {}})
}

/// `/openapi/v3/apis/{group}/{version}`.
///
/// # Errors
/// 404 for a group version that is not served.
pub fn v3(backend: &Backend, group: &str, version: &str) -> Result<Value, ApiError> {
    let _ = backend;
    Err(ApiError::no_route(&format!("{group}/{version}")))
}
