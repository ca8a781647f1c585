//! Downloading an artifact over HTTP(S), verifying and extracting it.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::{ArtifactError, Digest, Digester, ExtractOptions, Extracted, extract_tarball};

/// The environment variable that overrides the host (and port) of artifact URLs, e.g.
/// `localhost:9090` when source-controller is port-forwarded for a controller running
/// outside the cluster.
pub const LOCALHOST_ENV: &str = "SOURCE_CONTROLLER_LOCALHOST";

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Downloads artifacts (`status.artifact.url` + `status.artifact.digest`), verifies them
/// and extracts them safely, like Flux's `fetch.ArchiveFetcher`.
///
/// Defaults: 9 retries (Flux's `--http-retry`), backoff from 5 s doubling up to 30 s,
/// no download size limit, no extraction limit, a 5-minute timeout per attempt, no host
/// override. HTTPS URLs are verified against the system's root certificates.
#[derive(Clone)]
pub struct ArtifactFetcher {
    client: HttpsClient,
    retries: u32,
    min_backoff: Duration,
    max_backoff: Duration,
    attempt_timeout: Duration,
    max_download_size: Option<u64>,
    extract: ExtractOptions,
    host_override: Option<String>,
}

impl std::fmt::Debug for ArtifactFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactFetcher")
            .field("retries", &self.retries)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_download_size", &self.max_download_size)
            .field("extract", &self.extract)
            .field("host_override", &self.host_override)
            .finish_non_exhaustive()
    }
}

impl Default for ArtifactFetcher {
    fn default() -> Self {
        Self::new()
    }
}

impl ArtifactFetcher {
    /// A fetcher with the defaults above.
    pub fn new() -> Self {
        let mut roots = rustls::RootCertStore::empty();
        // Missing or unreadable system certificates only make HTTPS URLs fail later;
        // plain HTTP (what source-controller serves) keeps working.
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        Self::with_roots(roots)
    }

    /// A fetcher trusting exactly `roots` for HTTPS URLs.
    pub fn with_roots(roots: rustls::RootCertStore) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            // Not input-dependent: ring implements every default protocol version.
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            retries: 9,
            min_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(300),
            max_download_size: None,
            extract: ExtractOptions::default(),
            host_override: None,
        }
    }

    /// A fetcher with the defaults and the host override from
    /// [`SOURCE_CONTROLLER_LOCALHOST`](LOCALHOST_ENV) when set and not empty.
    pub fn from_env() -> Self {
        let fetcher = Self::new();
        match std::env::var(LOCALHOST_ENV) {
            Ok(host) if !host.is_empty() => fetcher.host_override(host),
            _ => fetcher,
        }
    }

    /// How many times a 5xx (other than 501), a 429 or a connection failure is retried.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait before the first retry, doubling per retry up to `max`.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// The longest one attempt (request and whole body) may take.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// Refuse downloads bigger than `bytes`.
    pub fn max_download_size(mut self, bytes: u64) -> Self {
        self.max_download_size = Some(bytes);
        self
    }

    /// Limits for the extraction.
    pub fn extract_options(mut self, options: ExtractOptions) -> Self {
        self.extract = options;
        self
    }

    /// Replace the host and port of every artifact URL by `host` (e.g. `localhost:9090`).
    pub fn host_override(mut self, host: impl Into<String>) -> Self {
        self.host_override = Some(host.into());
        self
    }

    /// Downloads `url`, checks the bytes against `digest` (`<algo>:<hex>` or bare sha256
    /// hex) and extracts them into `dir` with [`extract_tarball`].
    ///
    /// # Errors
    /// [`ArtifactError::NotFound`] on 404 (requeue and wait); the other download, digest
    /// and extraction errors of [`ArtifactError`]. Nothing is extracted unless the digest
    /// matches.
    pub async fn fetch(
        &self,
        url: &str,
        digest: &str,
        dir: &Path,
    ) -> Result<Extracted, ArtifactError> {
        let file = self.download_verified(url, digest).await?;
        let dir: PathBuf = dir.to_owned();
        let options = self.extract;
        tokio::task::spawn_blocking(move || extract_tarball(file, &dir, options))
            .await
            .map_err(|e| ArtifactError::Io {
                operation: "extracting",
                path: PathBuf::new(),
                source: std::io::Error::other(e),
            })?
    }

    /// Like [`ArtifactFetcher::fetch`] into a new temporary directory, removed when the
    /// returned handle drops (also when extraction fails).
    ///
    /// # Errors
    /// As [`ArtifactFetcher::fetch`].
    pub async fn fetch_to_temp_dir(
        &self,
        url: &str,
        digest: &str,
    ) -> Result<(tempfile::TempDir, Extracted), ArtifactError> {
        let dir = tempfile::Builder::new()
            .prefix("artifact-")
            .tempdir()
            .map_err(ArtifactError::io("creating", std::env::temp_dir()))?;
        let extracted = self.fetch(url, digest, dir.path()).await?;
        Ok((dir, extracted))
    }

    /// Downloads `url` and checks it against `digest`; returns the bytes in an anonymous
    /// temporary file, rewound.
    ///
    /// # Errors
    /// As [`ArtifactFetcher::fetch`], minus extraction.
    pub async fn download_verified(
        &self,
        url: &str,
        digest: &str,
    ) -> Result<std::fs::File, ArtifactError> {
        let expected = Digest::parse(digest)?;
        let uri = self.resolve(url)?;
        let mut attempt = 0;
        loop {
            let mut file = tempfile::tempfile().map_err(ArtifactError::io(
                "creating a temporary file in",
                std::env::temp_dir(),
            ))?;
            let mut digester = Digester::new(expected.algorithm());
            let outcome = tokio::time::timeout(
                self.attempt_timeout,
                self.attempt(&uri, url, &mut file, &mut digester),
            )
            .await
            .unwrap_or_else(|_| {
                Err(Attempt::Retry(ArtifactError::Timeout {
                    url: url.to_owned(),
                }))
            });
            match outcome {
                Ok(()) => {
                    expected.check(&digester.finish())?;
                    file.rewind()
                        .map_err(ArtifactError::io("rewinding", "temporary file"))?;
                    return Ok(file);
                }
                Err(Attempt::Retry(error)) if attempt < self.retries => {
                    let wait = self
                        .min_backoff
                        .saturating_mul(1 << attempt.min(16))
                        .min(self.max_backoff);
                    tracing::debug!(%error, url, ?wait, "retrying artifact download");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(Attempt::Retry(error) | Attempt::Fail(error)) => return Err(error),
            }
        }
    }

    /// The URL to request: `url` with the host override applied.
    fn resolve(&self, url: &str) -> Result<Uri, ArtifactError> {
        let invalid = |reason: String| ArtifactError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(invalid("expected an http:// or https:// URL".to_owned()));
        }
        let Some(host) = &self.host_override else {
            return Ok(uri);
        };
        let mut parts = uri.into_parts();
        parts.authority =
            Some(host.parse().map_err(|e: http::uri::InvalidUri| {
                invalid(format!("host override {host:?}: {e}"))
            })?);
        Uri::from_parts(parts).map_err(|e| invalid(e.to_string()))
    }

    async fn attempt(
        &self,
        uri: &Uri,
        url: &str,
        file: &mut std::fs::File,
        digester: &mut Digester,
    ) -> Result<(), Attempt> {
        let download = |source: Box<dyn std::error::Error + Send + Sync>| ArtifactError::Download {
            url: url.to_owned(),
            source,
        };
        let request = http::Request::get(uri.clone())
            .body(Empty::new())
            .map_err(|e| Attempt::Fail(download(e.into())))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| Attempt::Retry(download(e.into())))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(Attempt::Fail(ArtifactError::NotFound {
                    url: url.to_owned(),
                }));
            }
            status => {
                let error = ArtifactError::Status {
                    url: url.to_owned(),
                    status,
                };
                let retry = status == StatusCode::TOO_MANY_REQUESTS
                    || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED);
                return Err(if retry {
                    Attempt::Retry(error)
                } else {
                    Attempt::Fail(error)
                });
            }
        }
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Attempt::Retry(download(e.into())))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            if let Some(limit) = self.max_download_size
                && digester.size() + chunk.len() as u64 > limit
            {
                return Err(Attempt::Fail(ArtifactError::DownloadTooLarge { limit }));
            }
            digester.update(&chunk);
            file.write_all(&chunk)
                .map_err(|e| Attempt::Fail(ArtifactError::io("writing", "temporary file")(e)))?;
        }
        Ok(())
    }
}

/// How an attempt ended, when not in success.
enum Attempt {
    /// Worth another try (connection error, 5xx, 429, timeout).
    Retry(ArtifactError),
    /// Final.
    Fail(ArtifactError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::write_tarball;
    use axum::Router;
    use axum::extract::State;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Clone)]
    struct Served {
        archive: Bytes,
        flaky_failures: Arc<AtomicUsize>,
        broken_hits: Arc<AtomicUsize>,
    }

    fn archive() -> Bytes {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("deploy")).unwrap();
        std::fs::write(dir.path().join("deploy/cm.yaml"), "kind: ConfigMap\n").unwrap();
        let mut bytes = Vec::new();
        write_tarball(dir.path(), &mut bytes, |_, _| false).unwrap();
        Bytes::from(bytes)
    }

    /// Serves `/artifact.tar.gz`, a 404, a path failing twice with 500 then serving, one
    /// always failing with 503 and one answering 501.
    async fn serve() -> (SocketAddr, Served) {
        let served = Served {
            archive: archive(),
            flaky_failures: Arc::new(AtomicUsize::new(2)),
            broken_hits: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route(
                "/artifact.tar.gz",
                get(|State(s): State<Served>| async move { s.archive.clone() }),
            )
            .route(
                "/flaky.tar.gz",
                get(|State(s): State<Served>| async move {
                    let left = s.flaky_failures.load(Ordering::SeqCst);
                    if left > 0 {
                        s.flaky_failures.store(left - 1, Ordering::SeqCst);
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    } else {
                        s.archive.clone().into_response()
                    }
                }),
            )
            .route(
                "/broken.tar.gz",
                get(|State(s): State<Served>| async move {
                    s.broken_hits.fetch_add(1, Ordering::SeqCst);
                    StatusCode::SERVICE_UNAVAILABLE
                }),
            )
            .route(
                "/unimplemented.tar.gz",
                get(|State(s): State<Served>| async move {
                    s.broken_hits.fetch_add(1, Ordering::SeqCst);
                    StatusCode::NOT_IMPLEMENTED
                }),
            )
            .with_state(served.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, served)
    }

    fn fetcher() -> ArtifactFetcher {
        ArtifactFetcher::new()
            .retries(3)
            .backoff(Duration::from_millis(10), Duration::from_millis(40))
    }

    #[tokio::test]
    async fn a_served_artifact_is_downloaded_verified_and_extracted() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let (dir, extracted) = fetcher()
            .fetch_to_temp_dir(&format!("http://{addr}/artifact.tar.gz"), &digest)
            .await
            .unwrap();
        assert_eq!(extracted.files, 1);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("deploy/cm.yaml")).unwrap(),
            "kind: ConfigMap\n"
        );
    }

    #[tokio::test]
    async fn a_bare_hex_digest_is_read_as_sha256() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive);
        fetcher()
            .fetch_to_temp_dir(&format!("http://{addr}/artifact.tar.gz"), digest.hex())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_missing_artifact_is_not_found() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let err = fetcher()
            .fetch_to_temp_dir(&format!("http://{addr}/missing.tar.gz"), &digest)
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_the_artifact_is_served() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let (dir, _) = fetcher()
            .fetch_to_temp_dir(&format!("http://{addr}/flaky.tar.gz"), &digest)
            .await
            .unwrap();
        assert!(dir.path().join("deploy/cm.yaml").is_file());
        assert_eq!(served.flaky_failures.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn persistent_server_errors_give_up_after_the_retries() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let err = fetcher()
            .fetch_to_temp_dir(&format!("http://{addr}/broken.tar.gz"), &digest)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ArtifactError::Status {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            served.broken_hits.load(Ordering::SeqCst),
            4,
            "1 try + 3 retries"
        );
    }

    #[tokio::test]
    async fn not_implemented_is_not_retried() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let err = fetcher()
            .fetch_to_temp_dir(&format!("http://{addr}/unimplemented.tar.gz"), &digest)
            .await
            .unwrap_err();
        assert!(matches!(err, ArtifactError::Status { .. }), "{err}");
        assert_eq!(served.broken_hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_digest_mismatch_is_refused_and_nothing_is_extracted() {
        let (addr, _) = serve().await;
        let wrong = Digest::sha256_of(b"something else").to_string();
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let err = fetcher()
            .fetch(&format!("http://{addr}/artifact.tar.gz"), &wrong, &target)
            .await
            .unwrap_err();
        assert!(matches!(err, ArtifactError::DigestMismatch { .. }), "{err}");
        assert!(!target.exists());
    }

    #[tokio::test]
    async fn downloads_over_the_size_limit_are_refused() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let err = fetcher()
            .max_download_size(served.archive.len() as u64 - 1)
            .fetch_to_temp_dir(&format!("http://{addr}/artifact.tar.gz"), &digest)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ArtifactError::DownloadTooLarge { .. }),
            "{err}"
        );
        fetcher()
            .max_download_size(served.archive.len() as u64)
            .fetch_to_temp_dir(&format!("http://{addr}/artifact.tar.gz"), &digest)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn the_host_override_redirects_every_url() {
        let (addr, served) = serve().await;
        let digest = Digest::sha256_of(&served.archive).to_string();
        let url = "http://source-controller.flux-system.svc.cluster.local./artifact.tar.gz";
        let (dir, _) = fetcher()
            .host_override(addr.to_string())
            .fetch_to_temp_dir(url, &digest)
            .await
            .unwrap();
        assert!(dir.path().join("deploy/cm.yaml").is_file());
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_download_error() {
        // Bind and drop to find a port with nothing listening.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = fetcher()
            .retries(1)
            .fetch_to_temp_dir(
                &format!("http://127.0.0.1:{port}/a.tar.gz"),
                &Digest::sha256_of(b"").to_string(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ArtifactError::Download { .. }), "{err}");
    }

    #[test]
    fn urls_must_be_http_with_a_host() {
        for url in ["ftp://x/a.tar.gz", "/just/a/path", "not a url"] {
            assert!(
                matches!(
                    ArtifactFetcher::new().resolve(url),
                    Err(ArtifactError::InvalidUrl { .. })
                ),
                "{url}"
            );
        }
        let uri = ArtifactFetcher::new()
            .host_override("localhost:9090")
            .resolve("http://source-controller.flux-system.svc.cluster.local./a/b.tar.gz?x=1")
            .unwrap();
        assert_eq!(uri.to_string(), "http://localhost:9090/a/b.tar.gz?x=1");
    }
}
