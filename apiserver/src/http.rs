//! The HTTP(S) front end: authentication, routing, content negotiation, and the mapping of
//! REST verbs onto [`Backend`] operations.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::backend::{
    Backend, DeleteOptions, FieldValidation, ListOptions, Part, Propagation, WriteOptions,
};
use crate::errors::ApiError;
use crate::resources::ResourceType;
use crate::route::{self, ResourcePath, Route};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::{discovery, openapi, patch, table, watch};

/// The largest request body accepted, as kube-apiserver's limit.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Response bodies: whole documents or streams (watches).
pub type Body = BoxBody<Bytes, Infallible>;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Server {
    /// Objects with Kubernetes semantics.
    pub backend: Arc<Backend>,
    /// The bearer token clients must present.
    pub token: String,
    /// How often watches with `allowWatchBookmarks` get a bookmark.
    pub bookmark_interval: Duration,
}

/// Handles one request.
pub async fn handle(server: Arc<Server>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let response = match route_request(&server, request).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    response
}

async fn route_request(
    server: &Arc<Server>,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let (route, legacy_watch) = route::parse(request.uri().path());
    let public = matches!(route, Route::Health | Route::Version);
    if !public && !authorized(&request, &server.token) {
        return Err(ApiError::unauthorized());
    }
    let query = Query::parse(request.uri().query().unwrap_or_default());
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let backend = &server.backend;
    match route {
        Route::Health => Ok(text_response(StatusCode::OK, "ok")),
        Route::Version => Ok(json_response(StatusCode::OK, &discovery::version())),
        Route::CoreVersions => Ok(discovery::core(backend, &accept, if_none_match(&request))),
        Route::Groups => Ok(discovery::groups(backend, &accept, if_none_match(&request))),
        Route::Group(group) => discovery::group(backend, &group),
        Route::GroupVersion(group, version) => discovery::resources(backend, &group, &version),
        Route::OpenApiV2 => Ok(openapi::v2(&accept, if_none_match(&request))),
        Route::OpenApiV3Index => Ok(openapi::v3_index(backend, if_none_match(&request))),
        Route::OpenApiV3(group, version) => openapi::v3(
            backend,
            &group,
            &version,
            query.get("hash"),
            if_none_match(&request),
        ),
        Route::Unknown => Err(ApiError::no_route(request.uri().path())),
        Route::Resource(path) if crate::reviews::serves(&path) => {
            if request.method() != Method::POST {
                return Err(ApiError::method_not_allowed(
                    request.method().as_str(),
                    &path.plural,
                ));
            }
            let content_type = header_text(&request, header::CONTENT_TYPE);
            let body = read_body(request, &content_type).await?;
            let review = crate::reviews::create(&path, body)?;
            Ok(json_response(StatusCode::CREATED, &review))
        }
        Route::Resource(path) => {
            let rt = backend
                .registry
                .require(&path.group, &path.version, &path.plural)?;
            if rt.namespaced != path.namespace.is_some()
                && !(rt.namespaced && path.name.is_none() && path.namespace.is_none())
            {
                return Err(ApiError::no_route(request.uri().path()));
            }
            let watching = legacy_watch || query.flag("watch");
            resource_request(server, request, &rt, &path, &query, &accept, watching).await
        }
    }
}

/// A request header as text (empty when absent or not text).
fn header_text(request: &Request<Incoming>, name: header::HeaderName) -> String {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The `If-None-Match` header of a request, if any.
fn if_none_match(request: &Request<Incoming>) -> Option<&str> {
    request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
}

fn authorized(request: &Request<Incoming>, token: &str) -> bool {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn resource_request(
    server: &Arc<Server>,
    request: Request<Incoming>,
    rt: &Arc<ResourceType>,
    path: &ResourcePath,
    query: &Query,
    accept: &str,
    watching: bool,
) -> Result<Response<Body>, ApiError> {
    let backend = &server.backend;
    let namespace = path.namespace.as_deref();
    let method = request.method().clone();
    let content_type = header_text(&request, header::CONTENT_TYPE);
    let user_agent = header_text(&request, header::USER_AGENT);
    let as_table = table::wanted(accept);
    match (&method, path.name.as_deref(), path.subresource.as_deref()) {
        (&Method::GET, None, None) if watching => {
            let options = list_options(rt, query)?;
            watch::serve(server, rt, namespace, query, options, as_table)
        }
        (&Method::GET, None, None) => {
            let options = list_options(rt, query)?;
            let page = backend.list(rt, namespace, &options)?;
            if as_table {
                return Ok(json_response(
                    StatusCode::OK,
                    &table::from_list(
                        rt,
                        &page,
                        table::Include::parse(query.get("includeObject"))?,
                    )?,
                ));
            }
            Ok(list_response(rt, &page))
        }
        (&Method::GET, Some(name), None) if watching => {
            let mut options = list_options(rt, query)?;
            options.fields =
                FieldSelector::parse(&format!("metadata.name={name}"), &rt.selectable_fields)
                    .map_err(ApiError::bad_request)?;
            watch::serve(server, rt, namespace, query, options, as_table)
        }
        (&Method::GET, Some(name), None) => {
            let object = backend.get(rt, namespace, name)?;
            if as_table {
                return Ok(json_response(
                    StatusCode::OK,
                    &table::from_object(
                        rt,
                        &object,
                        table::Include::parse(query.get("includeObject"))?,
                        true,
                    ),
                ));
            }
            Ok(json_response(StatusCode::OK, &object))
        }
        (&Method::GET, Some(name), Some("status")) if rt.status_subresource => {
            let object = backend.get(rt, namespace, name)?;
            if as_table {
                let include = table::Include::parse(query.get("includeObject"))?;
                let table = table::from_object(rt, &object, include, true);
                return Ok(json_response(StatusCode::OK, &table));
            }
            Ok(json_response(StatusCode::OK, &object))
        }
        (&Method::GET, Some(name), Some("scale")) if rt.scale.is_some() => {
            let object = backend.get(rt, namespace, name)?;
            let scale = crate::scale::to_scale(rt, &object)?;
            if as_table {
                let include = table::Include::parse(query.get("includeObject"))?;
                return Ok(json_response(
                    StatusCode::OK,
                    &table::of_scale(&scale, include),
                ));
            }
            Ok(json_response(StatusCode::OK, &scale))
        }
        (&Method::POST, None, None) => {
            let body = read_body(request, &content_type).await?;
            let written =
                backend.create(rt, namespace, body, &write_options(query, &user_agent)?)?;
            Ok(with_warnings(
                json_response(StatusCode::CREATED, &written.object),
                &written.warnings,
            ))
        }
        (&Method::PUT, Some(name), sub) => {
            let part = match sub {
                None => Part::Main,
                Some("status") if rt.status_subresource => Part::Status,
                Some("finalize") if rt.group.is_empty() && rt.plural == "namespaces" => {
                    let body = read_body(request, &content_type).await?;
                    return Ok(json_response(
                        StatusCode::OK,
                        &crate::namespaces::finalize(backend, name, body)?,
                    ));
                }
                Some("scale") if rt.scale.is_some() => {
                    let body = read_body(request, &content_type).await?;
                    let object = crate::scale::update(
                        backend,
                        rt,
                        namespace,
                        name,
                        body,
                        &write_options(query, &user_agent)?,
                    )?;
                    return Ok(json_response(StatusCode::OK, &object));
                }
                Some(other) => return Err(ApiError::no_route(other)),
            };
            let body = read_body(request, &content_type).await?;
            let written = backend.update(
                rt,
                namespace,
                name,
                body,
                part,
                &write_options(query, &user_agent)?,
            )?;
            Ok(with_warnings(
                json_response(StatusCode::OK, &written.object),
                &written.warnings,
            ))
        }
        (&Method::PATCH, Some(name), sub) => {
            let part = match sub {
                None => Part::Main,
                Some("status") if rt.status_subresource => Part::Status,
                Some("scale") if rt.scale.is_some() => {
                    let bytes = read_bytes(request).await?;
                    let object = crate::scale::patch(
                        backend,
                        rt,
                        namespace,
                        name,
                        &content_type,
                        &bytes,
                        &write_options(query, &user_agent)?,
                    )?;
                    return Ok(json_response(StatusCode::OK, &object));
                }
                Some(other) => return Err(ApiError::no_route(other)),
            };
            let bytes = read_bytes(request).await?;
            let force = query.flag("force");
            let written = patch::apply(
                backend,
                rt,
                namespace,
                name,
                &content_type,
                &bytes,
                part,
                &write_options(query, &user_agent)?,
                force,
            )?;
            let status = if written.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(with_warnings(
                json_response(status, &written.object),
                &written.warnings,
            ))
        }
        (&Method::POST, Some(name), Some("token"))
            if rt.group.is_empty() && rt.plural == "serviceaccounts" =>
        {
            let body = read_body(request, &content_type).await?;
            let token = crate::tokens::create(backend, namespace.unwrap_or_default(), name, body)?;
            Ok(json_response(StatusCode::CREATED, &token))
        }
        (&Method::DELETE, Some(name), None) => {
            let bytes = read_bytes(request).await?;
            let options = delete_options(query, &bytes, &content_type)?;
            let deleted = backend.delete(rt, namespace, name, &options)?;
            if deleted.gone {
                Ok(json_response(
                    StatusCode::OK,
                    &success_status(rt, name, &deleted.object),
                ))
            } else {
                Ok(json_response(StatusCode::OK, &deleted.object))
            }
        }
        (&Method::DELETE, None, None) => {
            let bytes = read_bytes(request).await?;
            let options = delete_options(query, &bytes, &content_type)?;
            let list = list_options(rt, query)?;
            let page = backend.list(
                rt,
                namespace,
                &ListOptions {
                    limit: 0,
                    continue_token: None,
                    ..list
                },
            )?;
            let mut deleted = Vec::new();
            for item in &page.items {
                let object: Value =
                    serde_json::from_slice(item).map_err(|e| ApiError::internal(e.to_string()))?;
                let name = crate::object::name(&object).unwrap_or_default().to_owned();
                let item_namespace = crate::object::namespace(&object).map(str::to_owned);
                match backend.delete(rt, item_namespace.as_deref(), &name, &options) {
                    Ok(result) => deleted.push(result.object),
                    Err(error) if error.code == 404 => {}
                    Err(error) => return Err(error),
                }
            }
            Ok(json_response(
                StatusCode::OK,
                &json!({
                    "kind": format!("{}List", rt.kind),
                    "apiVersion": rt.api_version(),
                    "metadata": {"resourceVersion": backend.revision().to_string()},
                    "items": deleted,
                }),
            ))
        }
        (method, _, _) => Err(ApiError::method_not_allowed(method.as_str(), &rt.plural)),
    }
}

/// The body of a successful immediate deletion, as kube-apiserver answers.
fn success_status(rt: &ResourceType, name: &str, object: &Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": name,
            "group": rt.group,
            "kind": rt.plural,
            "uid": crate::object::meta_str(object, "uid").unwrap_or_default(),
        }
    })
}

fn list_options(rt: &ResourceType, query: &Query) -> Result<ListOptions, ApiError> {
    Ok(ListOptions {
        labels: LabelSelector::parse(query.get("labelSelector").unwrap_or_default())
            .map_err(ApiError::bad_request)?,
        fields: FieldSelector::parse(
            query.get("fieldSelector").unwrap_or_default(),
            &rt.selectable_fields,
        )
        .map_err(ApiError::bad_request)?,
        limit: match query.get("limit") {
            Some(text) if !text.is_empty() => text
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid limit {text:?}")))?,
            _ => 0,
        },
        continue_token: query
            .get("continue")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
    })
}

fn write_options(query: &Query, user_agent: &str) -> Result<WriteOptions, ApiError> {
    let dry_run = match query.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dryRun value {other:?}: supported values: \"All\""
            )));
        }
    };
    let field_validation = match query.get("fieldValidation") {
        None | Some("") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        Some("Warn") => FieldValidation::Warn,
        Some("Ignore") => FieldValidation::Ignore,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation: Invalid value: {other:?}: fieldValidation must be one of \"Ignore\", \"Strict\", or \"Warn\""
            )));
        }
    };
    let field_manager = query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    if field_manager.as_ref().is_some_and(|m| m.len() > 128) {
        return Err(ApiError::bad_request(
            "fieldManager: Invalid value: must be 128 characters or fewer",
        ));
    }
    Ok(WriteOptions {
        dry_run,
        field_manager,
        field_validation,
        user_agent: Some(user_agent.to_owned()).filter(|a| !a.is_empty()),
        applying: false,
        subresource: None,
    })
}

fn delete_options(
    query: &Query,
    body: &[u8],
    content_type: &str,
) -> Result<DeleteOptions, ApiError> {
    let body: Value = if body.is_empty() {
        Value::Null
    } else if content_type.contains("protobuf") {
        crate::protobuf::decode(body)?
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let policy = query
        .get("propagationPolicy")
        .map(str::to_owned)
        .or_else(|| {
            body.get("propagationPolicy")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let orphan = query
        .get("orphanDependents")
        .map(|v| v == "true")
        .or_else(|| body.get("orphanDependents").and_then(Value::as_bool));
    let propagation = match (policy.as_deref(), orphan) {
        (Some("Background"), _) => Some(Propagation::Background),
        (Some("Foreground"), _) => Some(Propagation::Foreground),
        (Some("Orphan"), _) | (None, Some(true)) => Some(Propagation::Orphan),
        (None, _) => None,
        (Some(other), _) => {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: Unsupported value: {other:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
            )));
        }
    };
    let dry_run = query.get("dryRun") == Some("All")
        || body
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v == "All"));
    Ok(DeleteOptions {
        propagation,
        precondition_uid: body["preconditions"]["uid"].as_str().map(str::to_owned),
        precondition_resource_version: body["preconditions"]["resourceVersion"]
            .as_str()
            .map(str::to_owned),
        dry_run,
    })
}

/// Reads the whole body, refusing bodies over [`MAX_BODY_BYTES`] with 413.
pub async fn read_bytes(request: Request<Incoming>) -> Result<Bytes, ApiError> {
    let limited = Limited::new(request.into_body(), MAX_BODY_BYTES);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error)
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::too_large(MAX_BODY_BYTES))
        }
        Err(error) => Err(ApiError::bad_request(format!(
            "could not read the request body: {error}"
        ))),
    }
}

/// Reads a JSON or YAML object body.
async fn read_body(request: Request<Incoming>, content_type: &str) -> Result<Value, ApiError> {
    let bytes = read_bytes(request).await?;
    parse_body(&bytes, content_type)
}

/// Parses a request body as JSON, YAML or Kubernetes protobuf, as the content type says.
///
/// # Errors
/// 400 with the parser's message; 415 for CBOR and for protobuf of kinds
/// [`crate::protobuf`] does not decode.
pub fn parse_body(bytes: &[u8], content_type: &str) -> Result<Value, ApiError> {
    if content_type.contains("protobuf") {
        return Ok(crate::protobuf::decode(bytes)?);
    }
    if content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
        )));
    }
    if content_type.contains("yaml") {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::bad_request("the request body is not UTF-8"))?;
        return serde_saphyr::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    bytes_response(status, Bytes::from(bytes), "application/json")
}

/// A response with raw bytes.
pub fn bytes_response(status: StatusCode, body: Bytes, content_type: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(body).boxed());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn text_response(status: StatusCode, text: &'static str) -> Response<Body> {
    bytes_response(
        status,
        Bytes::from_static(text.as_bytes()),
        "text/plain; charset=utf-8",
    )
}

/// The `Status` response of an error.
pub fn error_response(error: &ApiError) -> Response<Body> {
    json_response(
        StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &error.to_status(),
    )
}

fn with_warnings(mut response: Response<Body>, warnings: &[String]) -> Response<Body> {
    for warning in warnings {
        let text = format!(
            "299 - {}",
            serde_json::to_string(warning).unwrap_or_default()
        );
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

/// A `<Kind>List` assembled from already-serialized items (no re-encoding).
fn list_response(rt: &ResourceType, page: &crate::backend::ListPage) -> Response<Body> {
    let mut metadata = json!({"resourceVersion": page.revision.to_string()});
    if let Some(token) = &page.continue_token {
        metadata["continue"] = Value::from(token.clone());
    }
    let head = format!(
        "{{\"kind\":{},\"apiVersion\":{},\"metadata\":{},\"items\":[",
        Value::from(format!("{}List", rt.kind)),
        Value::from(rt.api_version()),
        metadata
    );
    let size = head.len() + page.items.iter().map(|i| i.len() + 1).sum::<usize>() + 2;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(head.as_bytes());
    for (index, item) in page.items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    bytes_response(StatusCode::OK, Bytes::from(out), "application/json")
}

/// Decoded query parameters.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    fn parse(query: &str) -> Self {
        Self {
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is `true` (or `1`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }
}
