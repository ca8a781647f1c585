//! A pull-only client of the OCI distribution API for one repository.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Deserialize;
use sluice_runtime::artifact::{Digest, Digester};
use tokio::sync::Mutex;

use super::OciError;
use super::auth::{Challenge, Credential};
use super::manifest::{self, Descriptor, Fetched, ImageManifest, MANIFEST_ACCEPT};
use super::reference::Repository;
use crate::transport::{HttpClient, TlsSettings, describe_transport_error};

/// Manifests bigger than this are refused (distribution's own limit is 4 MiB).
pub const MANIFEST_LIMIT: usize = 4 * 1024 * 1024;
/// Error bodies are read up to this size for the message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Tag list pages requested at once.
const TAGS_PAGE_SIZE: usize = 1000;
/// Tag list pages followed at most (a million tags).
const MAX_TAG_PAGES: usize = 1000;
/// Redirects followed for one blob.
const MAX_REDIRECTS: usize = 10;
/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("sluice-source-controller/", env!("CARGO_PKG_VERSION"));

/// How to reach and authenticate to a registry.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Allow plain HTTP (after HTTPS failed), and, when `tls` has no material, accept
    /// any server certificate: OCIRepository's `insecure: true`.
    pub insecure: bool,
    /// CA and client certificate from `certSecretRef`.
    pub tls: Option<crate::transport::TlsMaterial>,
    /// The login for this registry, if any.
    pub credential: Option<Credential>,
    /// Refuse blobs bigger than this many bytes (`None`: only the descriptor's size).
    pub max_blob_size: Option<u64>,
}

/// The transport and authorization found by the first request.
#[derive(Clone)]
struct Session {
    /// `https://<registry>` or `http://<registry>`.
    base: String,
    /// The challenge of `GET /v2/`, if it asked for credentials.
    challenge: Option<Challenge>,
    /// The `Authorization` header value to send.
    authorization: Option<String>,
}

/// Pulls from one repository of a registry: tags, manifests, blobs.
///
/// The first request pings `/v2/` (over HTTPS, then plain HTTP if allowed, see
/// [`Repository::allows_plain_http`]) to learn the auth scheme: anonymous, Basic (the
/// credential is sent on every request) or Bearer (a `repository:<path>:pull` token is
/// fetched from the challenge's realm with the credential, refreshed once when a request
/// answers 401 with another scope).
pub struct RegistryClient {
    http: HttpClient,
    repository: Repository,
    allow_http: bool,
    credential: Option<Credential>,
    max_blob_size: Option<u64>,
    session: Mutex<Option<Session>>,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("repository", &self.repository)
            .field("allow_http", &self.allow_http)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// A blob written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedBlob {
    /// Bytes written.
    pub size: u64,
    /// The verified digest.
    pub digest: String,
}

impl RegistryClient {
    /// A client for `repository`.
    ///
    /// # Errors
    /// [`OciError::Tls`] when the TLS material does not parse.
    pub fn new(repository: Repository, options: ClientOptions) -> Result<Self, OciError> {
        let settings = TlsSettings {
            skip_verify: options.insecure && options.tls.is_none(),
            material: options.tls.unwrap_or_default(),
        };
        let http = HttpClient::new(&settings).map_err(OciError::Tls)?;
        Ok(Self {
            http,
            allow_http: repository.allows_plain_http(options.insecure),
            repository,
            credential: options.credential,
            max_blob_size: options.max_blob_size,
            session: Mutex::new(None),
        })
    }

    /// The repository this client pulls from.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// All tags of the repository, following `Link` pagination.
    ///
    /// # Errors
    /// [`OciError::Transport`], [`OciError::Registry`] or [`OciError::InvalidResponse`].
    pub async fn list_tags(&self) -> Result<Vec<String>, OciError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let session = self.session().await?;
        let mut url = format!(
            "{}/v2/{}/tags/list?n={TAGS_PAGE_SIZE}",
            session.base,
            self.repository.path()
        );
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let response = self.request(Method::GET, &url, None).await?;
            let response = check(response, &Method::GET, &url).await?;
            let next = next_link(response.headers()).map(|link| resolve(&session.base, &link));
            let body = read_limited(response.into_body(), MANIFEST_LIMIT, &url).await?;
            let page: Page = serde_json::from_slice(&body).map_err(|e| {
                OciError::InvalidResponse(format!("GET {url}: invalid tag list: {e}"))
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(next) if next != url => url = next,
                _ => return Ok(tags),
            }
        }
        Err(OciError::InvalidResponse(format!(
            "GET {url}: more than {MAX_TAG_PAGES} pages of tags"
        )))
    }

    /// The manifest digest a tag points at: `HEAD` for `Docker-Content-Digest`, then
    /// `GET` (hashing the manifest) when `HEAD` fails or carries no digest, as upstream.
    ///
    /// # Errors
    /// The `GET`'s error when both fail.
    pub async fn resolve_tag(&self, tag: &str) -> Result<String, OciError> {
        let session = self.session().await?;
        let url = self.manifest_url(&session, tag);
        let head = self
            .request(Method::HEAD, &url, Some(MANIFEST_ACCEPT))
            .await;
        if let Ok(response) = head
            && response.status() == StatusCode::OK
            && let Some(digest) = response
                .headers()
                .get("docker-content-digest")
                .and_then(|d| d.to_str().ok())
                .filter(|d| super::reference::parse_digest(d).is_ok())
        {
            return Ok(digest.to_owned());
        }
        let (_, digest) = self.fetch_manifest(tag).await?;
        Ok(digest)
    }

    /// Fetches and parses the manifest at a tag or digest; returns it with its digest
    /// (the registry's `Docker-Content-Digest`, checked against the bytes when it is a
    /// sha256 one, else the sha256 of the bytes). A digest reference must match the
    /// bytes.
    ///
    /// # Errors
    /// [`OciError::Registry`] (e.g. `MANIFEST_UNKNOWN`), [`OciError::Transport`],
    /// [`OciError::InvalidResponse`] for an unparsable or oversized manifest,
    /// [`OciError::DigestMismatch`].
    pub async fn fetch_manifest(&self, reference: &str) -> Result<(Fetched, String), OciError> {
        let session = self.session().await?;
        let url = self.manifest_url(&session, reference);
        let response = self
            .request(Method::GET, &url, Some(MANIFEST_ACCEPT))
            .await?;
        let response = check(response, &Method::GET, &url).await?;
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .map(str::to_owned);
        let header_digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .map(str::to_owned);
        let body = read_limited(response.into_body(), MANIFEST_LIMIT, &url).await?;
        let computed = Digest::sha256_of(&body).to_string();
        if reference.starts_with("sha256:") && reference != computed {
            return Err(OciError::DigestMismatch {
                what: format!("manifest {}", self.repository.digest_reference(reference)),
                expected: reference.to_owned(),
                actual: computed,
            });
        }
        if let Some(header_digest) = &header_digest
            && header_digest.starts_with("sha256:")
            && *header_digest != computed
        {
            return Err(OciError::DigestMismatch {
                what: format!("manifest at {url} (Docker-Content-Digest)"),
                expected: header_digest.clone(),
                actual: computed,
            });
        }
        let digest = if reference.contains(':') {
            reference.to_owned()
        } else {
            header_digest.unwrap_or(computed)
        };
        let fetched = manifest::parse_manifest(content_type.as_deref(), &body)
            .map_err(|e| OciError::InvalidResponse(format!("GET {url}: {e}")))?;
        Ok((fetched, digest))
    }

    /// The image manifest at `reference`; an index is resolved to its `linux/amd64`
    /// entry, as upstream's pull does.
    ///
    /// # Errors
    /// As [`RegistryClient::fetch_manifest`], and [`OciError::InvalidResponse`] when an
    /// index has no such entry or points at another index.
    pub async fn image_manifest(&self, reference: &str) -> Result<ImageManifest, OciError> {
        match self.fetch_manifest(reference).await? {
            (Fetched::Image(manifest), _) => Ok(*manifest),
            (Fetched::Index(index), _) => {
                let name = if reference.contains(':') {
                    self.repository.digest_reference(reference)
                } else {
                    self.repository.tag_reference(reference)
                };
                let child = index
                    .default_platform(&name)
                    .map_err(OciError::InvalidResponse)?
                    .digest
                    .clone();
                match self.fetch_manifest(&child).await? {
                    (Fetched::Image(manifest), _) => Ok(*manifest),
                    (Fetched::Index(_), _) => Err(OciError::InvalidResponse(format!(
                        "index {name} points at another index"
                    ))),
                }
            }
        }
    }

    /// Downloads a blob into `path` (created or truncated), following redirects, and
    /// checks its size against the descriptor (and the client's limit) while reading and
    /// its digest at the end. On error the partial file is left for the caller's
    /// temporary directory to remove.
    ///
    /// # Errors
    /// [`OciError::TooLarge`], [`OciError::DigestMismatch`], [`OciError::Registry`],
    /// [`OciError::Transport`], [`OciError::Io`].
    pub async fn download_blob(
        &self,
        descriptor: &Descriptor,
        path: &Path,
    ) -> Result<DownloadedBlob, OciError> {
        let expected = Digest::parse(&descriptor.digest).map_err(|_| {
            OciError::InvalidResponse(format!(
                "layer digest {:?} is not a supported digest",
                descriptor.digest
            ))
        })?;
        let declared = u64::try_from(descriptor.size).map_err(|_| {
            OciError::InvalidResponse(format!("layer {} has a negative size", descriptor.digest))
        })?;
        if let Some(limit) = self.max_blob_size
            && declared > limit
        {
            return Err(OciError::TooLarge {
                what: format!("layer {}", descriptor.digest),
                limit,
            });
        }
        let session = self.session().await?;
        let mut url = format!(
            "{}/v2/{}/blobs/{}",
            session.base,
            self.repository.path(),
            descriptor.digest
        );
        let mut same_host = true;
        let mut response = None;
        for _ in 0..=MAX_REDIRECTS {
            let r = if same_host {
                self.request(Method::GET, &url, None).await?
            } else {
                // Never send registry credentials to another host (e.g. a storage CDN).
                self.send(Method::GET, &url, None, None).await?
            };
            if r.status().is_redirection()
                && let Some(location) = r.headers().get(header::LOCATION)
            {
                let location = location.to_str().unwrap_or_default();
                let next = resolve(&url, location);
                same_host = same_host && origin(&next) == origin(&session.base);
                url = next;
                continue;
            }
            response = Some(r);
            break;
        }
        let Some(response) = response else {
            return Err(OciError::InvalidResponse(format!(
                "GET {url}: more than {MAX_REDIRECTS} redirects"
            )));
        };
        let response = check(response, &Method::GET, &url).await?;
        let mut file = std::fs::File::create(path).map_err(|e| OciError::Io {
            operation: "creating",
            path: path.to_owned(),
            source: e,
        })?;
        let mut digester = Digester::new(expected.algorithm());
        let mut body = response.into_body();
        let mut written: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| OciError::Transport {
                method: "GET".to_owned(),
                url: url.clone(),
                message: describe_transport_error(&e),
            })?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            written += chunk.len() as u64;
            if written > declared {
                return Err(OciError::TooLarge {
                    what: format!("layer {} (bigger than its descriptor)", descriptor.digest),
                    limit: declared,
                });
            }
            digester.update(&chunk);
            file.write_all(&chunk).map_err(|e| OciError::Io {
                operation: "writing",
                path: path.to_owned(),
                source: e,
            })?;
        }
        file.flush().map_err(|e| OciError::Io {
            operation: "writing",
            path: path.to_owned(),
            source: e,
        })?;
        let actual = digester.finish();
        if written != declared || actual != expected {
            return Err(OciError::DigestMismatch {
                what: format!("layer {}", descriptor.digest),
                expected: expected.to_string(),
                actual: format!("{actual} ({written} bytes, descriptor says {declared})"),
            });
        }
        Ok(DownloadedBlob {
            size: written,
            digest: actual.to_string(),
        })
    }

    fn manifest_url(&self, session: &Session, reference: &str) -> String {
        format!(
            "{}/v2/{}/manifests/{reference}",
            session.base,
            self.repository.path()
        )
    }

    /// The session, pinging and logging in on first use.
    async fn session(&self) -> Result<Session, OciError> {
        let mut guard = self.session.lock().await;
        if let Some(session) = guard.as_ref() {
            return Ok(session.clone());
        }
        let (base, challenge) = self.ping().await?;
        let authorization = match (&challenge, &self.credential) {
            (Some(challenge), Some(credential)) if challenge.scheme == "basic" => {
                credential.has_basic().then(|| credential.basic_header())
            }
            (Some(challenge), _) if challenge.scheme == "bearer" => {
                let scope = format!("repository:{}:pull", self.repository.path());
                Some(format!("Bearer {}", self.token(challenge, &scope).await?))
            }
            _ => None,
        };
        let session = Session {
            base,
            challenge,
            authorization,
        };
        *guard = Some(session.clone());
        Ok(session)
    }

    /// `GET /v2/` over HTTPS, then HTTP if allowed: the base URL and the challenge.
    async fn ping(&self) -> Result<(String, Option<Challenge>), OciError> {
        let schemes: &[&str] = if self.allow_http {
            &["https", "http"]
        } else {
            &["https"]
        };
        let mut errors = Vec::new();
        for scheme in schemes {
            let base = format!("{scheme}://{}", self.repository.registry());
            let url = format!("{base}/v2/");
            match self.send(Method::GET, &url, None, None).await {
                Err(e) => errors.push(e),
                Ok(response) => match response.status() {
                    StatusCode::OK => return Ok((base, None)),
                    StatusCode::UNAUTHORIZED => {
                        let challenge = response
                            .headers()
                            .get(header::WWW_AUTHENTICATE)
                            .and_then(|v| v.to_str().ok())
                            .and_then(Challenge::parse);
                        return Ok((base, challenge));
                    }
                    _ => {
                        let error = check(response, &Method::GET, &url).await.err().unwrap_or(
                            OciError::InvalidResponse(format!("GET {url}: unexpected answer")),
                        );
                        if errors.is_empty() {
                            return Err(error);
                        }
                        // HTTPS failed and plain HTTP answered nonsense (often an HTTPS
                        // port): the HTTPS failure is the useful part of the message.
                        errors.push(error);
                        break;
                    }
                },
            }
        }
        if errors.len() == 1 {
            Err(errors.remove(0))
        } else {
            Err(OciError::Transport {
                method: "GET".to_owned(),
                url: format!("{}/v2/", self.repository.registry()),
                message: errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })
        }
    }

    /// A bearer token for `scope` from the challenge's realm.
    async fn token(&self, challenge: &Challenge, scope: &str) -> Result<String, OciError> {
        if let Some(token) = self
            .credential
            .as_ref()
            .and_then(|c| c.registry_token.clone())
        {
            return Ok(token);
        }
        let realm = challenge.params.get("realm").cloned().unwrap_or_default();
        if !realm.starts_with("https://") && !realm.starts_with("http://") {
            return Err(OciError::InvalidResponse(format!(
                "the registry asked for a bearer token from an invalid realm {realm:?}"
            )));
        }
        let service = challenge.params.get("service").cloned().unwrap_or_default();
        #[derive(Deserialize)]
        struct TokenResponse {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let (method, url, body, authorization) = match self
            .credential
            .as_ref()
            .and_then(|c| c.identity_token.clone())
        {
            Some(refresh) => {
                let form = form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "refresh_token")
                    .append_pair("service", &service)
                    .append_pair("client_id", "sluice")
                    .append_pair("scope", scope)
                    .append_pair("refresh_token", &refresh)
                    .finish();
                (Method::POST, realm.clone(), Some(form), None)
            }
            None => {
                let mut query = form_urlencoded::Serializer::new(String::new());
                if !service.is_empty() {
                    query.append_pair("service", &service);
                }
                query.append_pair("scope", scope);
                let separator = if realm.contains('?') { '&' } else { '?' };
                let url = format!("{realm}{separator}{}", query.finish());
                let authorization = self
                    .credential
                    .as_ref()
                    .filter(|c| c.has_basic())
                    .map(Credential::basic_header);
                (Method::GET, url, None, authorization)
            }
        };
        let response = self.send(method.clone(), &url, authorization, body).await?;
        let response = check(response, &method, &redact(&url)).await?;
        let body = read_limited(response.into_body(), ERROR_BODY_LIMIT, &url).await?;
        let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            OciError::InvalidResponse(format!(
                "{method} {}: invalid token response: {e}",
                redact(&url)
            ))
        })?;
        token
            .token
            .or(token.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                OciError::InvalidResponse(format!(
                    "{method} {}: no token in response",
                    redact(&url)
                ))
            })
    }

    /// Sends with the session's authorization; on a 401 carrying a Bearer challenge,
    /// fetches a token for the challenge's scope and retries once.
    async fn request(
        &self,
        method: Method,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response<Incoming>, OciError> {
        let session = self.session().await?;
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_str(accept)
                    .map_err(|e| OciError::InvalidResponse(e.to_string()))?,
            );
        }
        let response = self
            .send_with(
                method.clone(),
                url,
                session.authorization.clone(),
                None,
                &headers,
            )
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(challenge) = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(Challenge::parse)
            .filter(|c| c.scheme == "bearer")
        else {
            return Ok(response);
        };
        let default_scope = format!("repository:{}:pull", self.repository.path());
        let scope = challenge
            .params
            .get("scope")
            .cloned()
            .unwrap_or(default_scope);
        let token = self.token(&challenge, &scope).await?;
        let authorization = format!("Bearer {token}");
        {
            let mut guard = self.session.lock().await;
            if let Some(session) = guard.as_mut() {
                session.authorization = Some(authorization.clone());
                session.challenge = Some(challenge);
            }
        }
        self.send_with(method, url, Some(authorization), None, &headers)
            .await
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        authorization: Option<String>,
        form: Option<String>,
    ) -> Result<Response<Incoming>, OciError> {
        self.send_with(method, url, authorization, form, &HeaderMap::new())
            .await
    }

    async fn send_with(
        &self,
        method: Method,
        url: &str,
        authorization: Option<String>,
        form: Option<String>,
        headers: &HeaderMap,
    ) -> Result<Response<Incoming>, OciError> {
        let transport = |message: String| OciError::Transport {
            method: method.to_string(),
            url: redact(url),
            message,
        };
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(header::USER_AGENT, USER_AGENT);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if let Some(authorization) = authorization {
            builder = builder.header(header::AUTHORIZATION, authorization);
        }
        let body = match form {
            Some(form) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(form)
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(Full::new(body))
            .map_err(|e| transport(e.to_string()))?;
        self.http
            .send(request)
            .await
            .map_err(|e| transport(describe_transport_error(&e)))
    }
}

/// One entry of a registry's `{"errors": [...]}` body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Diagnostic {
    /// e.g. `MANIFEST_UNKNOWN`, `UNAUTHORIZED`, `NAME_UNKNOWN`.
    #[serde(default)]
    pub code: String,
    /// e.g. `manifest unknown`.
    #[serde(default)]
    pub message: String,
    /// Anything the registry adds.
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

/// A registry answer with an unexpected status, rendered like go-containerregistry's
/// `transport.Error` (`GET <url>: MANIFEST_UNKNOWN: manifest unknown; {...}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// The request method.
    pub method: String,
    /// The request URL (credentials redacted).
    pub url: String,
    /// The status received.
    pub status: StatusCode,
    /// The structured errors of the body, if any.
    pub diagnostics: Vec<Diagnostic>,
    /// The body, when it was not structured.
    pub body: String,
}

impl RegistryError {
    /// Whether the registry said the manifest, blob or repository does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.method, self.url)?;
        let render = |d: &Diagnostic| match &d.detail {
            Some(detail) if !detail.is_null() => format!("{}: {}; {detail}", d.code, d.message),
            _ => format!("{}: {}", d.code, d.message),
        };
        match self.diagnostics.as_slice() {
            [one] => f.write_str(&render(one)),
            [] if self.method == "HEAD" => write!(
                f,
                "unexpected status code {} (HEAD responses have no body, use GET for details)",
                self.status
            ),
            [] => write!(f, "unexpected status code {}: {}", self.status, self.body),
            many => write!(
                f,
                "multiple errors returned: {}",
                many.iter().map(render).collect::<Vec<_>>().join("; ")
            ),
        }
    }
}

/// Passes a 2xx response through; turns anything else into [`OciError::Registry`].
async fn check(
    response: Response<Incoming>,
    method: &Method,
    url: &str,
) -> Result<Response<Incoming>, OciError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body = read_limited(response.into_body(), ERROR_BODY_LIMIT, url)
        .await
        .unwrap_or_default();
    #[derive(Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<Diagnostic>,
    }
    let diagnostics = serde_json::from_slice::<Errors>(&body)
        .map(|e| e.errors)
        .unwrap_or_default();
    Err(OciError::Registry(RegistryError {
        method: method.to_string(),
        url: redact(url),
        status,
        diagnostics,
        body: String::from_utf8_lossy(&body).trim().to_owned(),
    }))
}

/// Reads a body, refusing more than `limit` bytes.
async fn read_limited(mut body: Incoming, limit: usize, url: &str) -> Result<Bytes, OciError> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| OciError::Transport {
            method: "GET".to_owned(),
            url: redact(url),
            message: describe_transport_error(&e),
        })?;
        if let Ok(chunk) = frame.into_data() {
            if buffer.len() + chunk.len() > limit {
                return Err(OciError::TooLarge {
                    what: format!("response of {}", redact(url)),
                    limit: limit as u64,
                });
            }
            buffer.extend_from_slice(&chunk);
        }
    }
    Ok(buffer.freeze())
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let rel_next = params.split(';').any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            });
            rel_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
}

/// `location` made absolute against `base` (a URL with scheme and host).
fn resolve(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin = origin(base);
    if location.starts_with('/') {
        return format!("{origin}{location}");
    }
    let path = base[origin.len()..].split('?').next().unwrap_or_default();
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    format!("{origin}{dir}/{location}")
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The URL without query parameters that may carry secrets.
fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| {
                    let v = if matches!(k.as_ref(), "refresh_token" | "password" | "token") {
                        "REDACTED".into()
                    } else {
                        v
                    };
                    (k.into_owned(), v.into_owned())
                })
                .collect();
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish();
            format!("{path}?{query}")
        }
        None => url.to_owned(),
    }
}

/// Annotations of a manifest, as the artifact's metadata.
pub fn annotations(manifest: &ImageManifest) -> BTreeMap<String, String> {
    manifest.annotations.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_render_like_go_containerregistry() {
        let error = RegistryError {
            method: "GET".into(),
            url: "http://r/v2/podinfo/manifests/6.1.0".into(),
            status: StatusCode::NOT_FOUND,
            diagnostics: vec![Diagnostic {
                code: "MANIFEST_UNKNOWN".into(),
                message: "manifest unknown".into(),
                detail: Some(serde_json::json!({"Tag": "6.1.0"})),
            }],
            body: String::new(),
        };
        assert_eq!(
            error.to_string(),
            r#"GET http://r/v2/podinfo/manifests/6.1.0: MANIFEST_UNKNOWN: manifest unknown; {"Tag":"6.1.0"}"#
        );
        let head = RegistryError {
            method: "HEAD".into(),
            diagnostics: vec![],
            ..error.clone()
        };
        assert_eq!(
            head.to_string(),
            "HEAD http://r/v2/podinfo/manifests/6.1.0: unexpected status code 404 Not Found (HEAD responses have no body, use GET for details)"
        );
        let plain = RegistryError {
            diagnostics: vec![],
            body: "oops".into(),
            status: StatusCode::BAD_GATEWAY,
            ..error
        };
        assert_eq!(
            plain.to_string(),
            "GET http://r/v2/podinfo/manifests/6.1.0: unexpected status code 502 Bad Gateway: oops"
        );
    }

    #[test]
    fn links_and_locations_resolve_against_the_registry() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::LINK,
            HeaderValue::from_static(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(
            resolve("http://r:5000", "/v2/a/tags/list?last=b"),
            "http://r:5000/v2/a/tags/list?last=b"
        );
        assert_eq!(
            resolve("http://r:5000/v2/a/blobs/x", "https://cdn/b?sig=1"),
            "https://cdn/b?sig=1"
        );
        assert_eq!(
            resolve("http://r/v2/a/blobs/x", "y"),
            "http://r/v2/a/blobs/y"
        );
        assert_eq!(
            origin("https://cdn.example:443/a/b"),
            "https://cdn.example:443"
        );
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn secrets_are_redacted_from_urls() {
        assert_eq!(
            redact("https://auth/token?scope=a&refresh_token=s3cret"),
            "https://auth/token?scope=a&refresh_token=REDACTED"
        );
        assert_eq!(redact("https://r/v2/"), "https://r/v2/");
    }
}
