//! The HTTP(S) client shared by the OCI registry client ([`crate::oci`]) and the S3 client
//! ([`crate::bucket`]): hyper with rustls, the system roots plus an optional private CA,
//! an optional client certificate, and the one insecure mode Flux allows (an
//! OCIRepository with `insecure: true` and no `certSecretRef` skips server verification).
//!
//! TLS material comes from a `certSecretRef` Secret read the way Flux reads it
//! ([`TlsMaterial::from_secret_data`]): `ca.crt` (legacy `caFile`), `tls.crt` + `tls.key`
//! (legacy `certFile` / `keyFile`), the modern key winning when both are present.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// Building a client from TLS material failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// `tls.crt` without `tls.key`.
    #[error("secret '{secret}' contains 'tls.crt' but missing 'tls.key'")]
    MissingPrivateKey {
        /// `<namespace>/<name>` of the Secret.
        secret: String,
    },
    /// `tls.key` without `tls.crt`.
    #[error("secret '{secret}' contains 'tls.key' but missing 'tls.crt'")]
    MissingCertificate {
        /// `<namespace>/<name>` of the Secret.
        secret: String,
    },
    /// Neither a CA nor a client certificate pair.
    #[error("secret '{secret}' must contain either 'ca.crt' or both 'tls.crt' and 'tls.key'")]
    Empty {
        /// `<namespace>/<name>` of the Secret.
        secret: String,
    },
    /// The CA is not PEM certificates.
    #[error("failed to parse CA certificate")]
    InvalidCa,
    /// The client certificate or key does not parse, or they do not match.
    #[error("failed to parse TLS certificate and key: {0}")]
    InvalidKeyPair(String),
}

/// TLS material from a `certSecretRef` Secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsMaterial {
    /// PEM certificates to trust in addition to the system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate chain and private key.
    pub client_pair: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca", &self.ca_pem.is_some())
            .field("client_certificate", &self.client_pair.is_some())
            .finish()
    }
}

impl TlsMaterial {
    /// Reads a Secret's data as Flux does: `ca.crt` (or the legacy `caFile`), `tls.crt`
    /// and `tls.key` (or the legacy `certFile` and `keyFile`); empty values count as
    /// missing. `secret` is `<namespace>/<name>`, for messages.
    ///
    /// # Errors
    /// [`TlsError::MissingPrivateKey`], [`TlsError::MissingCertificate`] for half a pair,
    /// [`TlsError::Empty`] when there is neither a CA nor a pair.
    pub fn from_secret_data(
        secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<Self, TlsError> {
        let get = |key: &str, legacy: &str| {
            data.get(key)
                .filter(|v| !v.is_empty())
                .or_else(|| data.get(legacy).filter(|v| !v.is_empty()))
                .cloned()
        };
        let ca = get("ca.crt", "caFile");
        let cert = get("tls.crt", "certFile");
        let key = get("tls.key", "keyFile");
        let secret = secret.to_owned();
        let client_pair = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (Some(_), None) => return Err(TlsError::MissingPrivateKey { secret }),
            (None, Some(_)) => return Err(TlsError::MissingCertificate { secret }),
            (None, None) => None,
        };
        if ca.is_none() && client_pair.is_none() {
            return Err(TlsError::Empty { secret });
        }
        Ok(Self {
            ca_pem: ca,
            client_pair,
        })
    }
}

/// How the client verifies servers and presents itself.
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// A CA and/or client certificate.
    pub material: TlsMaterial,
    /// Accept any server certificate. Only an OCIRepository with `insecure: true` and no
    /// `certSecretRef` sets this, as upstream does.
    pub skip_verify: bool,
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// An HTTP/1.1 client for `http://` and `https://` URLs with the given TLS settings.
/// Cheap to clone (connections are pooled and shared).
#[derive(Clone)]
pub struct HttpClient {
    client: Client<Connector, Full<Bytes>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds a client: system roots (from the platform store, which honours
    /// `SSL_CERT_FILE`) plus the CA of `settings`, the client certificate if any.
    ///
    /// # Errors
    /// [`TlsError::InvalidCa`] when the CA has no certificate or one fails to parse,
    /// [`TlsError::InvalidKeyPair`] when the pair does not parse or match.
    pub fn new(settings: &TlsSettings) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            // Not input-dependent: ring implements every default protocol version.
            .map_err(|e| TlsError::InvalidKeyPair(e.to_string()))?;
        let builder = if settings.skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyServer { provider }))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            // Unreadable system certificates only make public HTTPS endpoints fail later.
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            if let Some(ca) = &settings.material.ca_pem {
                let mut added = 0;
                for cert in CertificateDer::pem_slice_iter(ca) {
                    let cert = cert.map_err(|_| TlsError::InvalidCa)?;
                    roots.add(cert).map_err(|_| TlsError::InvalidCa)?;
                    added += 1;
                }
                if added == 0 {
                    return Err(TlsError::InvalidCa);
                }
            }
            builder.with_root_certificates(roots)
        };
        let config = match &settings.material.client_pair {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| TlsError::InvalidKeyPair(e.to_string()))?;
                if chain.is_empty() {
                    return Err(TlsError::InvalidKeyPair(
                        "no certificate in tls.crt".to_owned(),
                    ));
                }
                let key = PrivateKeyDer::from_pem_slice(key)
                    .map_err(|e| TlsError::InvalidKeyPair(e.to_string()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsError::InvalidKeyPair(e.to_string()))?
            }
            None => builder.with_no_client_auth(),
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(30)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(90))
                .build(connector),
        })
    }

    /// Sends a request; any status is a response.
    ///
    /// # Errors
    /// The transport error (connection refused, TLS failure, broken connection), whose
    /// message [`describe_transport_error`] turns into a sentence.
    pub async fn send(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        self.client.request(request).await
    }
}

/// The innermost useful message of a transport error chain, e.g. `Connection refused
/// (os error 111)` or `invalid peer certificate: UnknownIssuer`, prefixed by what failed.
pub fn describe_transport_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut messages = vec![error.to_string()];
    let mut source = error.source();
    while let Some(inner) = source {
        let message = inner.to_string();
        if !messages.iter().any(|m| m.contains(&message)) {
            messages.push(message);
        }
        source = inner.source();
    }
    messages.join(": ")
}

/// Accepts every server certificate but still checks handshake signatures with the
/// certificate's key (what Go's `InsecureSkipVerify` does).
#[derive(Debug)]
struct AcceptAnyServer {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn modern_keys_win_over_legacy_ones() {
        let material = TlsMaterial::from_secret_data(
            "ns/certs",
            &data(&[("ca.crt", "new"), ("caFile", "old"), ("certFile", "c")]),
        );
        assert_eq!(
            material,
            Err(TlsError::MissingPrivateKey {
                secret: "ns/certs".to_owned()
            })
        );
        let material = TlsMaterial::from_secret_data(
            "ns/certs",
            &data(&[("ca.crt", "new"), ("caFile", "old")]),
        )
        .unwrap();
        assert_eq!(material.ca_pem.as_deref(), Some(&b"new"[..]));
        let legacy = TlsMaterial::from_secret_data(
            "ns/certs",
            &data(&[("caFile", "old"), ("certFile", "c"), ("keyFile", "k")]),
        )
        .unwrap();
        assert_eq!(legacy.ca_pem.as_deref(), Some(&b"old"[..]));
        assert!(legacy.client_pair.is_some());
    }

    #[test]
    fn half_pairs_and_empty_secrets_are_refused_with_upstream_messages() {
        let err = TlsMaterial::from_secret_data("ns/c", &data(&[("tls.key", "k")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret 'ns/c' contains 'tls.key' but missing 'tls.crt'"
        );
        let err = TlsMaterial::from_secret_data("ns/c", &data(&[("other", "x")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "secret 'ns/c' must contain either 'ca.crt' or both 'tls.crt' and 'tls.key'"
        );
    }

    #[test]
    fn a_ca_that_is_not_pem_is_refused() {
        let settings = TlsSettings {
            material: TlsMaterial {
                ca_pem: Some(b"not a certificate".to_vec()),
                client_pair: None,
            },
            skip_verify: false,
        };
        assert_eq!(HttpClient::new(&settings).unwrap_err(), TlsError::InvalidCa);
    }
}
