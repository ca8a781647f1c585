//! A small S3 client: `HEAD` bucket, ListObjectsV2 with pagination, `GET` object into a
//! file; path-style addressing, SigV4 signing with static credentials (or anonymous
//! requests without them), over the shared [`HttpClient`].

use std::path::Path;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use tokio::io::AsyncWriteExt;

use super::sigv4::{self, Credentials, EMPTY_PAYLOAD_SHA256, SigningRequest};
use super::xml;
use crate::transport::{HttpClient, TlsSettings, describe_transport_error};

/// Listing pages followed at most (a billion objects).
const MAX_PAGES: usize = 1_000_000;
/// Error and listing bodies are read up to this size.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
/// The region signed for when the Bucket names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// An S3 request failed.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// The connection failed.
    #[error("{method} {url}: {message}")]
    Transport {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The service answered with an error; the message is S3's, as minio-go reports it.
    #[error("{message}")]
    Service {
        /// The HTTP status.
        status: StatusCode,
        /// The S3 error code (`NoSuchBucket`, `NoSuchKey`, `AccessDenied`...), or the
        /// status text when the body had none.
        code: String,
        /// The message.
        message: String,
    },
    /// The answer is not what the API promises.
    #[error("{0}")]
    InvalidResponse(String),
    /// Writing a downloaded object failed.
    #[error("{operation} '{path}': {source}")]
    Io {
        /// What was attempted.
        operation: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl S3Error {
    /// Whether S3 said the object does not exist.
    pub fn is_no_such_key(&self) -> bool {
        matches!(self, Self::Service { code, .. } if code == "NoSuchKey")
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The key.
    pub key: String,
    /// The ETag without its quotes (minio-go trims them; revisions depend on it).
    pub etag: String,
}

/// Where and how to reach the service.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// `host[:port]` (`spec.endpoint`).
    pub endpoint: String,
    /// Plain HTTP (`spec.insecure`).
    pub insecure: bool,
    /// The signing region (`spec.region`, else `us-east-1`).
    pub region: Option<String>,
    /// Credentials; `None` sends anonymous requests.
    pub credentials: Option<Credentials>,
    /// CA and client certificate (`certSecretRef`).
    pub tls: TlsSettings,
}

/// A client of one S3-compatible endpoint.
#[derive(Debug, Clone)]
pub struct S3Client {
    http: HttpClient,
    base: String,
    host: String,
    region: String,
    credentials: Option<Credentials>,
}

impl S3Client {
    /// A client for `options`.
    ///
    /// # Errors
    /// A message for an endpoint with a scheme or path (minio-go's rule), or TLS
    /// material that does not parse.
    pub fn new(options: S3Options) -> Result<Self, String> {
        let endpoint = options.endpoint.trim();
        if endpoint.is_empty() {
            return Err(
                "Endpoint:  does not follow ip address or domain name standards.".to_owned(),
            );
        }
        if endpoint.contains("://") || endpoint.contains('/') {
            return Err("Endpoint url cannot have fully qualified paths.".to_owned());
        }
        let http = HttpClient::new(&options.tls).map_err(|e| e.to_string())?;
        let scheme = if options.insecure { "http" } else { "https" };
        Ok(Self {
            http,
            base: format!("{scheme}://{endpoint}"),
            host: endpoint.to_owned(),
            region: options
                .region
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| DEFAULT_REGION.to_owned()),
            credentials: options.credentials,
        })
    }

    /// Whether the bucket exists (`HEAD /<bucket>`: 404 is `false`).
    ///
    /// # Errors
    /// Transport failures and other error statuses (e.g. 403).
    pub async fn bucket_exists(&self, bucket: &str) -> Result<bool, S3Error> {
        let path = format!("/{bucket}");
        let (status, _, body) = self.request(Method::HEAD, &path, &[]).await?;
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(service_error(status, &body)),
        }
    }

    /// Every object under `prefix`, following continuation tokens.
    ///
    /// # Errors
    /// Transport failures, S3 errors, unparsable listings.
    pub async fn list_objects(
        &self,
        bucket: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<ObjectInfo>, S3Error> {
        let path = format!("/{bucket}");
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![
                ("list-type".to_owned(), "2".to_owned()),
                ("encoding-type".to_owned(), "url".to_owned()),
                ("fetch-owner".to_owned(), "false".to_owned()),
            ];
            if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
                query.push(("prefix".to_owned(), prefix.to_owned()));
            }
            if let Some(token) = &token {
                query.push(("continuation-token".to_owned(), token.clone()));
            }
            let (status, _, body) = self.request(Method::GET, &path, &query).await?;
            if !status.is_success() {
                return Err(service_error(status, &body));
            }
            let text = String::from_utf8_lossy(&body);
            if !text.contains("<ListBucketResult") {
                return Err(S3Error::InvalidResponse(format!(
                    "the listing of bucket '{bucket}' is not a ListBucketResult"
                )));
            }
            let url_encoded = xml::text(&text, "EncodingType").as_deref() == Some("url");
            for entry in xml::elements(&text, "Contents") {
                let Some(key) = xml::text(entry, "Key") else {
                    continue;
                };
                let key = if url_encoded {
                    xml::percent_decode(&key)
                } else {
                    key
                };
                let etag = xml::text(entry, "ETag").unwrap_or_default();
                objects.push(ObjectInfo {
                    key,
                    etag: trim_etag(&etag),
                });
            }
            let truncated = xml::text(&text, "IsTruncated").as_deref() == Some("true");
            match xml::text(&text, "NextContinuationToken").filter(|t| !t.is_empty()) {
                Some(next) if truncated => token = Some(next),
                None if truncated => {
                    return Err(S3Error::InvalidResponse(format!(
                        "the listing of bucket '{bucket}' is truncated without a continuation token"
                    )));
                }
                _ => return Ok(objects),
            }
        }
        Err(S3Error::InvalidResponse(format!(
            "the listing of bucket '{bucket}' has more than {MAX_PAGES} pages"
        )))
    }

    /// Downloads an object into `path` (created or truncated); returns its ETag without
    /// quotes.
    ///
    /// # Errors
    /// [`S3Error::Service`] with `NoSuchKey` for a missing object, transport and I/O
    /// failures.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
    ) -> Result<String, S3Error> {
        let url_path = format!("/{bucket}/{key}");
        let response = self.send(Method::GET, &url_path, &[]).await?;
        let status = response.status();
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|e| e.to_str().ok())
            .map(trim_etag)
            .unwrap_or_default();
        let mut body = response.into_body();
        if !status.is_success() {
            let bytes = read_limited(&mut body).await.unwrap_or_default();
            return Err(service_error(status, &bytes));
        }
        let io = |operation| {
            let path = path.to_owned();
            move |source| S3Error::Io {
                operation,
                path,
                source,
            }
        };
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(io("creating"))?;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| S3Error::Transport {
                method: "GET".to_owned(),
                url: format!("{}{url_path}", self.base),
                message: describe_transport_error(&e),
            })?;
            if let Ok(data) = frame.into_data() {
                file.write_all(&data).await.map_err(io("writing"))?;
            }
        }
        file.flush().await.map_err(io("writing"))?;
        Ok(etag)
    }

    /// Sends a signed request and reads the whole (limited) body.
    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
    ) -> Result<(StatusCode, http::HeaderMap, Vec<u8>), S3Error> {
        let response = self.send(method, path, query).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = response.into_body();
        let bytes = read_limited(&mut body)
            .await
            .map_err(|message| S3Error::Transport {
                method: "GET".to_owned(),
                url: format!("{}{path}", self.base),
                message,
            })?;
        Ok((status, headers, bytes))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
    ) -> Result<http::Response<hyper::body::Incoming>, S3Error> {
        let encoded_query = sigv4::canonical_query(query);
        let url = if encoded_query.is_empty() {
            format!("{}{}", self.base, sigv4::uri_encode(path, true))
        } else {
            format!(
                "{}{}?{encoded_query}",
                self.base,
                sigv4::uri_encode(path, true)
            )
        };
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header(header::HOST, &self.host)
            .header(
                header::USER_AGENT,
                concat!("sluice-source-controller/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(credentials) = &self.credentials {
            let amz_date = jiff::Timestamp::now()
                .strftime("%Y%m%dT%H%M%SZ")
                .to_string();
            let mut headers = vec![
                ("host".to_owned(), self.host.clone()),
                (
                    "x-amz-content-sha256".to_owned(),
                    EMPTY_PAYLOAD_SHA256.to_owned(),
                ),
                ("x-amz-date".to_owned(), amz_date.clone()),
            ];
            if let Some(token) = &credentials.session_token {
                headers.push(("x-amz-security-token".to_owned(), token.clone()));
            }
            let authorization = sigv4::authorization(
                &SigningRequest {
                    method: method.as_str(),
                    path,
                    query,
                    headers: &headers,
                    amz_date: &amz_date,
                    region: &self.region,
                    payload_sha256: EMPTY_PAYLOAD_SHA256,
                },
                credentials,
            );
            for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
                builder = builder.header(name.as_str(), value.as_str());
            }
            builder = builder.header(header::AUTHORIZATION, authorization);
        }
        let request = builder
            .body(Full::new(Bytes::new()))
            .map_err(|e| S3Error::InvalidResponse(format!("invalid request {url}: {e}")))?;
        self.http
            .send(request)
            .await
            .map_err(|e| S3Error::Transport {
                method: method.to_string(),
                url,
                message: describe_transport_error(&e),
            })
    }
}

async fn read_limited(body: &mut hyper::body::Incoming) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| describe_transport_error(&e))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > BODY_LIMIT {
                return Err(format!("answer bigger than {BODY_LIMIT} bytes"));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The error of an S3 answer: its `<Code>` and `<Message>`, else the status.
fn service_error(status: StatusCode, body: &[u8]) -> S3Error {
    let text = String::from_utf8_lossy(body);
    let code = xml::text(&text, "Code").filter(|c| !c.is_empty());
    let message = xml::text(&text, "Message").filter(|m| !m.is_empty());
    let (code, message) = match (code, message) {
        (Some(code), Some(message)) => (code, message),
        (Some(code), None) => (code.clone(), code),
        // HEAD answers have no body: name the error as minio-go does.
        (None, _) => match status {
            StatusCode::NOT_FOUND => ("NoSuchKey".to_owned(), "Not Found".to_owned()),
            StatusCode::FORBIDDEN => ("AccessDenied".to_owned(), "Access Denied.".to_owned()),
            other => (
                other.canonical_reason().unwrap_or("Error").replace(' ', ""),
                format!("unexpected status code {other}"),
            ),
        },
    };
    S3Error::Service {
        status,
        code,
        message,
    }
}

/// An ETag without its surrounding quotes.
pub fn trim_etag(etag: &str) -> String {
    etag.trim().trim_matches('"').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_hosts_without_scheme_or_path() {
        let options = |endpoint: &str| S3Options {
            endpoint: endpoint.to_owned(),
            insecure: true,
            region: None,
            credentials: None,
            tls: TlsSettings::default(),
        };
        assert!(S3Client::new(options("127.0.0.1:9000")).is_ok());
        assert_eq!(
            S3Client::new(options("http://127.0.0.1:9000")).unwrap_err(),
            "Endpoint url cannot have fully qualified paths."
        );
        assert!(S3Client::new(options("")).is_err());
    }

    #[test]
    fn errors_carry_the_s3_code_and_message() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>";
        let error = service_error(StatusCode::NOT_FOUND, body);
        assert_eq!(error.to_string(), "The specified bucket does not exist");
        assert!(!error.is_no_such_key());
        assert!(service_error(StatusCode::NOT_FOUND, b"").is_no_such_key());
        assert_eq!(trim_etag("\"abc\""), "abc");
    }
}
