//! A small HTTP(S) client for the helpers (registry push, S3 uploads).

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::Error;

/// A response read to the end.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// An HTTP/1.1 client trusting one CA (or none, for plain HTTP), with optional basic auth.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    authorization: Option<String>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client trusting `ca_pem` (if given) for HTTPS.
    ///
    /// # Errors
    /// [`Error::Http`] when the CA does not parse.
    pub fn new(ca_pem: Option<&str>) -> Result<Self, Error> {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = ca_pem {
            use rustls_pki_types::pem::PemObject;
            for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| Error::Http {
                    context: "reading the CA".to_owned(),
                    detail: e.to_string(),
                })?;
                roots.add(cert).map_err(|e| Error::Http {
                    context: "adding the CA".to_owned(),
                    detail: e.to_string(),
                })?;
            }
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Http {
            context: "configuring TLS".to_owned(),
            detail: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            authorization: None,
        })
    }

    /// Sends `Authorization: Basic` with these credentials on every request.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.authorization = Some(format!("Basic {token}"));
        self
    }

    /// Sends this `Authorization` header on every request.
    pub fn authorization(mut self, value: impl Into<String>) -> Self {
        self.authorization = Some(value.into());
        self
    }

    /// Sends a request and reads the whole response.
    ///
    /// # Errors
    /// [`Error::Http`] on transport errors (any status is returned as is).
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Response, Error> {
        let context = || format!("{method} {url}");
        let mut request = Request::builder().method(method.clone()).uri(url);
        if let Some(auth) = &self.authorization {
            request = request.header(http::header::AUTHORIZATION, auth);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.into()))
            .map_err(|e| Error::Http {
                context: context(),
                detail: e.to_string(),
            })?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Error::Http {
                context: context(),
                detail: format!("{e:?}"),
            })?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| Error::Http {
                context: context(),
                detail: e.to_string(),
            })?
            .to_bytes();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Like [`HttpClient::send`], failing unless the status is 2xx.
    ///
    /// # Errors
    /// [`Error::Http`] with the status and body.
    pub async fn expect_success(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Response, Error> {
        let response = self.send(method.clone(), url, headers, body).await?;
        if !response.status.is_success() {
            return Err(Error::Http {
                context: format!("{method} {url}"),
                detail: format!(
                    "{}: {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                ),
            });
        }
        Ok(response)
    }
}
