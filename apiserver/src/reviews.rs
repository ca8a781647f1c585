//! The self-review kinds clients create to ask who they are and what they may do:
//! `SelfSubjectAccessReview` and `SelfSubjectRulesReview` (`authorization.k8s.io/v1`, used by
//! `kubectl auth can-i`) and `SelfSubjectReview` (`authentication.k8s.io/v1`, used by
//! `kubectl auth whoami`).
//!
//! The server has one user, the administrator holding the bearer token, and it may do
//! everything: every access review is allowed, and the rules are the wildcard ones of
//! `cluster-admin`. Nothing is stored; each review is answered as it is created (201).

use serde_json::{Value, json};

use crate::errors::{ApiError, Cause};
use crate::route::ResourcePath;

/// The name of the server's one user.
pub const USERNAME: &str = "sluice-admin";

/// The groups of the server's one user.
pub const GROUPS: &[&str] = &["system:masters", "system:authenticated"];

/// A review kind and where it is served.
struct Review {
    group: &'static str,
    plural: &'static str,
    kind: &'static str,
    answer: fn(Value) -> Result<Value, ApiError>,
}

const REVIEWS: &[Review] = &[
    Review {
        group: "authorization.k8s.io",
        plural: "selfsubjectaccessreviews",
        kind: "SelfSubjectAccessReview",
        answer: access_review,
    },
    Review {
        group: "authorization.k8s.io",
        plural: "selfsubjectrulesreviews",
        kind: "SelfSubjectRulesReview",
        answer: rules_review,
    },
    Review {
        group: "authentication.k8s.io",
        plural: "selfsubjectreviews",
        kind: "SelfSubjectReview",
        answer: subject_review,
    },
];

fn find(path: &ResourcePath) -> Option<&'static Review> {
    REVIEWS
        .iter()
        .find(|r| r.group == path.group && r.plural == path.plural && path.version == "v1")
}

/// Whether `path` is the collection of a review kind (they are cluster-scoped and only
/// created).
pub fn serves(path: &ResourcePath) -> bool {
    find(path).is_some()
        && path.namespace.is_none()
        && path.name.is_none()
        && path.subresource.is_none()
}

/// Answers the creation of a review at `path` with `body`: the review with its `status`.
///
/// # Errors
/// 404 for paths [`serves`] refuses, 400 for a body of another kind or of the wrong shape,
/// 422 for an invalid review.
pub fn create(path: &ResourcePath, body: Value) -> Result<Value, ApiError> {
    let review = find(path)
        .filter(|_| serves(path))
        .ok_or_else(|| ApiError::no_route(&path.plural))?;
    let api_version = format!("{}/v1", review.group);
    let body = with_type_meta(body, &api_version, review.kind)?;
    (review.answer)(body)
}

/// Checks the body's `apiVersion` and `kind` against the endpoint's, filling them in when
/// absent (as kube-apiserver defaults them from the endpoint).
///
/// # Errors
/// 400 when the body is not an object or names another version or kind.
pub fn with_type_meta(mut body: Value, api_version: &str, kind: &str) -> Result<Value, ApiError> {
    let Some(object) = body.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        ));
    };
    for (field, expected, what) in [
        ("apiVersion", api_version, "API version"),
        ("kind", kind, "kind"),
    ] {
        match object.get(field).and_then(Value::as_str) {
            None | Some("") => {
                object.insert(field.to_owned(), Value::from(expected));
            }
            Some(found) if found == expected => {}
            Some(found) => {
                return Err(ApiError::bad_request(format!(
                    "the {what} in the data ({found}) does not match the expected {what} ({expected})"
                )));
            }
        }
    }
    Ok(body)
}

/// Decodes `body` as `T` to check its shape, as kube-apiserver's typed decoding does.
fn check_shape<T: serde::de::DeserializeOwned>(body: &Value, kind: &str) -> Result<(), ApiError> {
    serde_json::from_value::<T>(body.clone())
        .map(|_| ())
        .map_err(|e| {
            ApiError::bad_request(format!(
                "{kind} in version \"v1\" cannot be handled as a {kind}: {e}"
            ))
        })
}

fn access_review(mut body: Value) -> Result<Value, ApiError> {
    use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
    check_shape::<SelfSubjectAccessReview>(&body, "SelfSubjectAccessReview")?;
    let spec = &body["spec"];
    let resource = spec.get("resourceAttributes").filter(|v| !v.is_null());
    let non_resource = spec.get("nonResourceAttributes").filter(|v| !v.is_null());
    // kube-apiserver reports the nonResourceAttributes value (its internal struct) either way.
    let bad_value = match non_resource {
        None => "null".to_owned(),
        Some(attributes) => format!(
            "{{\"Path\":{},\"Verb\":{}}}",
            Value::from(attributes["path"].as_str().unwrap_or_default()),
            Value::from(attributes["verb"].as_str().unwrap_or_default()),
        ),
    };
    if resource.is_some() == non_resource.is_some() {
        return Err(ApiError::invalid(
            "SelfSubjectAccessReview",
            "authorization.k8s.io",
            "",
            vec![Cause::new(
                "FieldValueInvalid",
                "spec",
                &format!(
                    "Invalid value: {bad_value}: exactly one of nonResourceAttributes or resourceAttributes must be specified"
                ),
            )],
        ));
    }
    body["status"] = json!({"allowed": true});
    Ok(body)
}

fn rules_review(mut body: Value) -> Result<Value, ApiError> {
    use k8s_openapi::api::authorization::v1::SelfSubjectRulesReview;
    check_shape::<SelfSubjectRulesReview>(&body, "SelfSubjectRulesReview")?;
    if body["spec"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        return Err(ApiError::bad_request("no namespace on request"));
    }
    body["status"] = json!({
        "resourceRules": [
            {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
        ],
        "nonResourceRules": [
            {"verbs": ["*"], "nonResourceURLs": ["*"]},
        ],
        "incomplete": false,
    });
    Ok(body)
}

fn subject_review(mut body: Value) -> Result<Value, ApiError> {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    check_shape::<SelfSubjectReview>(&body, "SelfSubjectReview")?;
    body["status"] = json!({"userInfo": {"username": USERNAME, "groups": GROUPS}});
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(group: &str, plural: &str) -> ResourcePath {
        ResourcePath {
            group: group.to_owned(),
            version: "v1".to_owned(),
            namespace: None,
            plural: plural.to_owned(),
            name: None,
            subresource: None,
        }
    }

    #[test]
    fn every_access_review_is_allowed_for_the_admin() {
        let review = create(
            &path("authorization.k8s.io", "selfsubjectaccessreviews"),
            json!({"spec": {"resourceAttributes": {"verb": "delete", "resource": "nodes"}}}),
        )
        .unwrap();
        assert_eq!(review["status"], json!({"allowed": true}));
        assert_eq!(review["kind"], "SelfSubjectAccessReview");
        assert_eq!(review["apiVersion"], "authorization.k8s.io/v1");
        assert_eq!(review["spec"]["resourceAttributes"]["verb"], "delete");
    }

    #[test]
    fn an_access_review_needs_exactly_one_kind_of_attributes() {
        let at = path("authorization.k8s.io", "selfsubjectaccessreviews");
        let none = create(&at, json!({"spec": {}})).unwrap_err();
        assert_eq!(none.code, 422);
        assert_eq!(
            none.message,
            "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified"
        );
        let both = create(
            &at,
            json!({"spec": {"resourceAttributes": {"verb": "get"}, "nonResourceAttributes": {"path": "/logs", "verb": "get"}}}),
        )
        .unwrap_err();
        assert!(
            both.message
                .contains("Invalid value: {\"Path\":\"/logs\",\"Verb\":\"get\"}"),
            "{}",
            both.message
        );
    }

    #[test]
    fn reviews_of_the_wrong_kind_or_shape_are_bad_requests() {
        let at = path("authorization.k8s.io", "selfsubjectaccessreviews");
        let error = create(
            &at,
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview"}),
        )
        .unwrap_err();
        assert_eq!(error.code, 400);
        let error = create(&at, json!({"spec": {"resourceAttributes": "pods"}})).unwrap_err();
        assert_eq!(error.code, 400);
        let error = create(&at, json!(["not", "an", "object"])).unwrap_err();
        assert_eq!(error.code, 400);
    }

    #[test]
    fn rules_reviews_grant_everything_in_the_namespace_asked_about() {
        let at = path("authorization.k8s.io", "selfsubjectrulesreviews");
        let review = create(&at, json!({"spec": {"namespace": "default"}})).unwrap();
        assert_eq!(review["status"]["resourceRules"][0]["verbs"], json!(["*"]));
        assert_eq!(review["status"]["incomplete"], false);
        assert_eq!(create(&at, json!({"spec": {}})).unwrap_err().code, 400);
    }

    #[test]
    fn the_subject_review_names_the_admin() {
        let at = path("authentication.k8s.io", "selfsubjectreviews");
        let review = create(&at, json!({})).unwrap();
        assert_eq!(review["status"]["userInfo"]["username"], USERNAME);
        assert_eq!(
            review["status"]["userInfo"]["groups"],
            json!(["system:masters", "system:authenticated"])
        );
    }

    #[test]
    fn only_the_cluster_scoped_collections_are_served() {
        assert!(serves(&path(
            "authorization.k8s.io",
            "selfsubjectaccessreviews"
        )));
        let mut named = path("authorization.k8s.io", "selfsubjectaccessreviews");
        named.name = Some("x".to_owned());
        assert!(!serves(&named));
        let mut namespaced = path("authorization.k8s.io", "selfsubjectaccessreviews");
        namespaced.namespace = Some("default".to_owned());
        assert!(!serves(&namespaced));
        assert!(!serves(&path(
            "authorization.k8s.io",
            "subjectaccessreviews"
        )));
    }
}
