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
