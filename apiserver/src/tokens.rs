//! `TokenRequest`: `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`, as
//! `kubectl create token` sends it.
//!
//! The request is checked and defaulted as kube-apiserver does (name and namespace must match
//! the service account's, `expirationSeconds` defaults to one hour and must lie between ten
//! minutes and 2^32 seconds, audiences default to the server's, a bound Pod, Secret or Node
//! must exist), and the answer carries a fresh token and its expiration. The token is shaped
//! like a service-account JWT (header, claims, signature) so tools that decode one can, but its
//! signature is random: this server authenticates only its own bearer token.

use base64::Engine;
use rand::Rng;
use serde_json::{Value, json};

use crate::backend::Backend;
use crate::errors::{ApiError, Cause};
use crate::object;

/// The audience tokens get when the request names none (kube-apiserver's default issuer).
pub const DEFAULT_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";

/// `expirationSeconds` when the request leaves it out.
const DEFAULT_EXPIRATION_SECONDS: i64 = 3600;

const GROUP: &str = "authentication.k8s.io";
const KIND: &str = "TokenRequest";

fn invalid(name: &str, field: &str, detail: String) -> ApiError {
    ApiError::invalid(
        KIND,
        GROUP,
        name,
        vec![Cause::new("FieldValueInvalid", field, &detail)],
    )
}

/// Issues a token for the service account `name` in `namespace`.
///
/// # Errors
/// 400 for a body that is not a `TokenRequest` or binds to an unsupported kind, 404 when the
/// service account (or the bound object) does not exist, 409 when a UID does not match, 422
/// for an invalid request.
pub fn create(
    backend: &Backend,
    namespace: &str,
    name: &str,
    body: Value,
) -> Result<Value, ApiError> {
    let mut request = crate::reviews::with_type_meta(body, &format!("{GROUP}/v1"), KIND)?;
    serde_json::from_value::<k8s_openapi::api::authentication::v1::TokenRequest>(request.clone())
        .map_err(|e| {
        ApiError::bad_request(format!(
            "{KIND} in version \"v1\" cannot be handled as a {KIND}: {e}"
        ))
    })?;
    let meta_name = object::meta_str(&request, "name")
        .unwrap_or_default()
        .to_owned();
    if !meta_name.is_empty() && meta_name != name {
        return Err(invalid(
            name,
            "metadata.name",
            format!(
                "Invalid value: {meta_name:?}: must match the service account name if specified"
            ),
        ));
    }
    let meta_namespace = object::meta_str(&request, "namespace")
        .unwrap_or_default()
        .to_owned();
    if !meta_namespace.is_empty() && meta_namespace != namespace {
        return Err(invalid(
            name,
            "metadata.namespace",
            format!(
                "Invalid value: {meta_namespace:?}: must match the service account namespace if specified"
            ),
        ));
    }
    let accounts = backend.registry.require("", "v1", "serviceaccounts")?;
    let account = backend.get(&accounts, Some(namespace), name)?;
    let account_uid = object::meta_str(&account, "uid")
        .unwrap_or_default()
        .to_owned();
    let uid = object::meta_str(&request, "uid")
        .unwrap_or_default()
        .to_owned();
    if !uid.is_empty() && uid != account_uid {
        return Err(ApiError::conflict_with(
            format!(
                "Operation cannot be fulfilled on {KIND}.{GROUP} \"{name}\": the UID in the token request ({uid}) does not match the UID of the service account ({account_uid})"
            ),
            Some(json!({"name": name, "group": GROUP, "kind": KIND})),
        ));
    }

    let spec = &mut request["spec"];
    if spec["audiences"].as_array().is_none_or(Vec::is_empty) {
        spec["audiences"] = json!([DEFAULT_AUDIENCE]);
    }
    let seconds = match &spec["expirationSeconds"] {
        Value::Null => DEFAULT_EXPIRATION_SECONDS,
        other => other.as_i64().unwrap_or_default(),
    };
    spec["expirationSeconds"] = json!(seconds);
    let mut problems = Vec::new();
    if seconds < 600 {
        problems.push(Cause::new(
            "FieldValueInvalid",
            "spec.expirationSeconds",
            &format!("Invalid value: {seconds}: may not specify a duration less than 10 minutes"),
        ));
    }
    if seconds > 1 << 32 {
        problems.push(Cause::new(
            "FieldValueInvalid",
            "spec.expirationSeconds",
            &format!(
                "Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds"
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(KIND, GROUP, "", problems));
    }
    let bound = bound_object(backend, namespace, name, &spec["boundObjectRef"])?;

    let now = jiff::Timestamp::now();
    let expires = now
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let audiences = spec["audiences"].clone();
    let metadata = &mut request["metadata"];
    if !metadata.is_object() {
        *metadata = json!({});
    }
    metadata["name"] = json!(name);
    metadata["namespace"] = json!(namespace);
    metadata["uid"] = json!(account_uid);
    metadata["creationTimestamp"] = json!(format_time(now));
    let mut kubernetes = json!({
        "namespace": namespace,
        "serviceaccount": {"name": name, "uid": account_uid},
    });
    if let Some((claim, value)) = bound {
        kubernetes[claim] = value;
    }
    let claims = json!({
        "aud": audiences,
        "exp": expires.as_second(),
        "iat": now.as_second(),
        "iss": DEFAULT_AUDIENCE,
        "jti": object::new_uid(),
        "kubernetes.io": kubernetes,
        "nbf": now.as_second(),
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
    });
    request["status"] = json!({
        "token": jwt(&claims),
        "expirationTimestamp": format_time(expires),
    });
    Ok(request)
}

fn format_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The claim of the object the token is bound to (`("pod", {name, uid})`), if any.
///
/// # Errors
/// 400 for kinds a token cannot be bound to, 404 when the object does not exist, 409 when its
/// UID differs from the reference's.
fn bound_object(
    backend: &Backend,
    namespace: &str,
    account: &str,
    reference: &Value,
) -> Result<Option<(&'static str, Value)>, ApiError> {
    if reference.is_null() {
        return Ok(None);
    }
    let api_version = reference["apiVersion"].as_str().unwrap_or_default();
    let kind = reference["kind"].as_str().unwrap_or_default();
    let name = reference["name"].as_str().unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let (plural, scoped, claim) = match (group, kind) {
        ("", "Pod") => ("pods", true, "pod"),
        ("", "Secret") => ("secrets", true, "secret"),
        ("", "Node") => ("nodes", false, "node"),
        _ => {
            return Err(ApiError::bad_request(format!(
                "cannot bind token to object of type {group}/{version}, Kind={kind}"
            )));
        }
    };
    let rt = backend.registry.require("", "v1", plural)?;
    let found = backend.get(&rt, scoped.then_some(namespace), name)?;
    if kind == "Pod"
        && found["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or_default()
            != account
    {
        return Err(ApiError::bad_request(format!(
            "cannot bind token for serviceaccount {account:?} to pod running with different serviceaccount name."
        )));
    }
    let uid = object::meta_str(&found, "uid")
        .unwrap_or_default()
        .to_owned();
    let wanted = reference["uid"].as_str().unwrap_or_default();
    if !wanted.is_empty() && wanted != uid {
        return Err(ApiError::conflict_with(
            format!(
                "Operation cannot be fulfilled on {kind} \"{name}\": the UID in the bound object reference ({wanted}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
            Some(json!({"name": name, "group": group, "kind": kind})),
        ));
    }
    Ok(Some((claim, json!({"name": name, "uid": uid}))))
}

/// A JWT-shaped token: base64url header and claims, and a random signature.
fn jwt(claims: &Value) -> String {
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut rng = rand::rng();
    let key_id: [u8; 16] = rng.random();
    let signature: [u8; 32] = rng.random();
    let header = json!({"alg": "RS256", "kid": encode(&key_id)});
    format!(
        "{}.{}.{}",
        encode(header.to_string().as_bytes()),
        encode(claims.to_string().as_bytes()),
        encode(&signature)
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::backend::WriteOptions;
    use crate::resources::Registry;
    use crate::store::{Store, StoreOptions};

    /// A backend with namespace `default`, service account `robot` and a pod running as
    /// `other`.
    fn backend(dir: &tempfile::TempDir) -> Backend {
        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let backend = Backend::new(store, Arc::new(Registry::with_builtins()));
        let create = |plural: &str, namespace: Option<&str>, object: Value| {
            let rt = backend.registry.require("", "v1", plural).unwrap();
            backend
                .create(&rt, namespace, object, &WriteOptions::default())
                .unwrap();
        };
        create(
            "namespaces",
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}),
        );
        create(
            "serviceaccounts",
            Some("default"),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}),
        );
        create(
            "pods",
            Some("default"),
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                   "spec": {"serviceAccountName": "other", "containers": [{"name": "c", "image": "x"}]}}),
        );
        backend
    }

    fn request(spec: Value) -> Value {
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
    }

    fn claims(answer: &Value) -> Value {
        let token = answer["status"]["token"].as_str().unwrap();
        let part = token.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_request_is_defaulted_and_answered_with_a_token_for_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let answer = create(&backend, "default", "robot", request(json!({}))).unwrap();
        assert_eq!(answer["spec"]["expirationSeconds"], 3600);
        assert_eq!(answer["spec"]["audiences"], json!([DEFAULT_AUDIENCE]));
        assert_eq!(answer["metadata"]["name"], "robot");
        assert_eq!(answer["metadata"]["namespace"], "default");
        assert!(
            answer["metadata"]["uid"]
                .as_str()
                .is_some_and(|u| !u.is_empty())
        );
        let claims = claims(&answer);
        assert_eq!(claims["sub"], "system:serviceaccount:default:robot");
        assert_eq!(
            claims["kubernetes.io"]["serviceaccount"]["uid"],
            answer["metadata"]["uid"]
        );
        let expires: jiff::Timestamp = answer["status"]["expirationTimestamp"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(expires.as_second(), claims["exp"].as_i64().unwrap());
        // Two requests get two tokens.
        let again = create(&backend, "default", "robot", request(json!({}))).unwrap();
        assert_ne!(again["status"]["token"], answer["status"]["token"]);
    }

    #[test]
    fn expirations_outside_ten_minutes_to_two_to_the_32_seconds_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let short = create(
            &backend,
            "default",
            "robot",
            request(json!({"expirationSeconds": 599})),
        )
        .unwrap_err();
        assert_eq!(short.code, 422);
        assert_eq!(
            short.message,
            "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"
        );
        let long = create(
            &backend,
            "default",
            "robot",
            request(json!({"expirationSeconds": (1i64 << 32) + 1})),
        )
        .unwrap_err();
        assert!(
            long.message.contains("larger than 2^32 seconds"),
            "{}",
            long.message
        );
        let ok = create(
            &backend,
            "default",
            "robot",
            request(json!({"expirationSeconds": 600})),
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn names_namespaces_and_uids_must_match_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let mut renamed = request(json!({}));
        renamed["metadata"] = json!({"name": "other"});
        let error = create(&backend, "default", "robot", renamed).unwrap_err();
        assert_eq!(
            error.message,
            "TokenRequest.authentication.k8s.io \"robot\" is invalid: metadata.name: Invalid value: \"other\": must match the service account name if specified"
        );
        let mut moved = request(json!({}));
        moved["metadata"] = json!({"namespace": "kube-system"});
        assert_eq!(
            create(&backend, "default", "robot", moved)
                .unwrap_err()
                .code,
            422
        );
        let mut stale = request(json!({}));
        stale["metadata"] = json!({"uid": "not-the-uid"});
        assert_eq!(
            create(&backend, "default", "robot", stale)
                .unwrap_err()
                .code,
            409
        );
        let missing = create(&backend, "default", "nobody", request(json!({}))).unwrap_err();
        assert_eq!(missing.message, "serviceaccounts \"nobody\" not found");
    }

    #[test]
    fn bound_objects_must_exist_belong_to_the_account_and_be_of_a_bindable_kind() {
        let dir = tempfile::tempdir().unwrap();
        let backend = backend(&dir);
        let bound = |kind: &str, name: &str| {
            request(json!({"boundObjectRef": {"apiVersion": "v1", "kind": kind, "name": name}}))
        };
        let error = create(&backend, "default", "robot", bound("Pod", "p")).unwrap_err();
        assert_eq!(
            error.message,
            "cannot bind token for serviceaccount \"robot\" to pod running with different serviceaccount name."
        );
        let error = create(&backend, "default", "robot", bound("Pod", "gone")).unwrap_err();
        assert_eq!(error.code, 404);
        let error = create(&backend, "default", "robot", bound("ConfigMap", "c")).unwrap_err();
        assert_eq!(
            error.message,
            "cannot bind token to object of type /v1, Kind=ConfigMap"
        );
        let accounts = backend
            .registry
            .require("", "v1", "serviceaccounts")
            .unwrap();
        let other =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "other"}});
        backend
            .create(&accounts, Some("default"), other, &WriteOptions::default())
            .unwrap();
        let answer = create(&backend, "default", "other", bound("Pod", "p")).unwrap();
        assert_eq!(claims(&answer)["kubernetes.io"]["pod"]["name"], "p");
    }
}
