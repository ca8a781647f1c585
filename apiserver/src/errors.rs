//! API errors as Kubernetes reports them: an HTTP status with a `Status` object body
//! (`kind: Status`, `reason`, `message`, `details`, `code`).

use serde_json::{Value, json};

use crate::store::StoreError;

/// A failed request, rendered as a `Status` body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Machine-readable reason (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`...).
    pub reason: &'static str,
    /// Human-readable message, worded like kube-apiserver's.
    pub message: String,
    /// `details` of the Status, when the error is about one object.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400: the request is malformed (bad JSON, bad selector, bad parameter).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401: no or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 404 for an object: `<resource> "<name>" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        let mut error = Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"));
        error.details = Some(json!({"name": name, "group": group, "kind": resource}));
        error
    }

    /// 404 for a path that serves nothing.
    pub fn no_route(path: &str) -> Self {
        let _ = path;
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 405: the resource does not support the verb.
    pub fn method_not_allowed(verb: &str, resource: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({verb} {resource})"
            ),
        )
    }

    /// 409: the object already exists.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        let mut error = Self::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        );
        error.details = Some(json!({"name": name, "group": group, "kind": resource}));
        error
    }

    /// 409: the update was based on an old resourceVersion.
    pub fn conflict(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        let mut error = Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        );
        error.details = Some(json!({"name": name, "group": group, "kind": resource}));
        error
    }

    /// 409 with a custom message (e.g. server-side apply field conflicts).
    pub fn conflict_with(message: impl Into<String>, details: Option<Value>) -> Self {
        let mut error = Self::new(409, "Conflict", message);
        error.details = details;
        error
    }

    /// 410: the requested resourceVersion is too old.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 413: the request body is larger than the server accepts.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("the request is too large: the limit is {limit} bytes"),
        )
    }

    /// 415: unsupported content type (e.g. strategic merge patch on a custom resource).
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    /// 422: the object is invalid; `causes` are `(field, message)` pairs.
    pub fn invalid(kind: &str, group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let qualified = if group.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind}.{group}")
        };
        let summary = causes.iter().map(Cause::to_string).collect::<Vec<_>>();
        let message = match summary.len() {
            0 => format!("{qualified} \"{name}\" is invalid"),
            1 => format!("{qualified} \"{name}\" is invalid: {}", summary[0]),
            _ => format!(
                "{qualified} \"{name}\" is invalid: [{}]",
                summary.join(", ")
            ),
        };
        let mut error = Self::new(422, "Invalid", message);
        error.details = Some(json!({
            "name": name,
            "group": group,
            "kind": kind,
            "causes": causes.iter().map(Cause::to_json).collect::<Vec<_>>(),
        }));
        error
    }

    /// 422 without an object: what kube-apiserver answers when a JSON patch does not
    /// apply (a generic server response, the library's message as the one cause).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        let mut error = Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        );
        error.details = Some(json!({
            "causes": [{"reason": "UnexpectedServerResponse", "message": message.into()}],
        }));
        error
    }

    /// 403: the operation is forbidden (e.g. creating in a terminating namespace).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// 500: an internal failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// 504: the request timed out.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }

    /// The `Status` object body.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Compacted { .. } => ApiError::gone(format!(
                "The resourceVersion for the provided list is too old. {error}"
            )),
            StoreError::Lagged => ApiError::gone("watch fell behind; please relist"),
            StoreError::Io(message) => ApiError::internal(message),
        }
    }
}

/// One reason an object is invalid, as a Kubernetes `StatusCause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`,
    /// `FieldValueDuplicate`, `FieldValueForbidden`, `FieldValueTooLong`...
    pub reason: String,
    /// The field path, e.g. `spec.replicas`.
    pub field: String,
    /// The full message, e.g. `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
    pub message: String,
}

impl Cause {
    /// A cause with the message prefixed by the field, as Kubernetes writes them.
    pub fn new(reason: &str, field: &str, detail: &str) -> Self {
        Self {
            reason: reason.to_owned(),
            field: field.to_owned(),
            message: format!("{field}: {detail}"),
        }
    }

    /// The `StatusCause`: its message is the error without the field, as Kubernetes
    /// writes it (`ErrorBody`), since clients print `<field>: <message>`.
    fn to_json(&self) -> Value {
        let body = self
            .message
            .strip_prefix(&format!("{}: ", self.field))
            .unwrap_or(&self.message);
        json!({"reason": self.reason, "message": body, "field": self.field})
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `deployments.apps`, or `configmaps` for the core group.
fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_worded_like_kube_apiserver() {
        let error = ApiError::not_found("apps", "deployments", "web");
        assert_eq!(error.message, "deployments.apps \"web\" not found");
        let status = error.to_status();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["code"], 404);
        assert_eq!(status["reason"], "NotFound");
        let invalid = ApiError::invalid(
            "GitRepository",
            "source.toolkit.fluxcd.io",
            "repo",
            vec![Cause::new(
                "FieldValueRequired",
                "spec.url",
                "Required value",
            )],
        );
        assert_eq!(
            invalid.message,
            "GitRepository.source.toolkit.fluxcd.io \"repo\" is invalid: spec.url: Required value"
        );
        assert_eq!(
            invalid.to_status()["details"]["causes"][0]["field"],
            "spec.url"
        );
        assert_eq!(
            invalid.to_status()["details"]["causes"][0]["message"],
            "Required value"
        );
    }
}
