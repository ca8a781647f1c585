//! An S3-compatible server: moto from the repository's `.venv`.
//!
//! moto keeps ETags in listings and honours `If-None-Match` like S3, which Bucket
//! revisions depend on; it does not verify signatures (any credentials work), but it
//! refuses anonymous reads, so the helpers send a well-formed but unsigned
//! `Authorization` header.

use http::Method;

use crate::http::HttpClient;
use crate::process::{Daemon, http_status, require_tool, with_free_port};
use crate::{Error, temp_dir};

/// The access key tests may use (moto accepts any).
pub const ACCESS_KEY: &str = "test";
/// The secret key tests may use (moto accepts any).
pub const SECRET_KEY: &str = "test";
/// The region moto serves by default.
pub const REGION: &str = "us-east-1";

/// `moto_server` on 127.0.0.1, path-style addressing.
#[derive(Debug)]
pub struct S3Server {
    daemon: Daemon,
    port: u16,
    _dir: tempfile::TempDir,
}

impl S3Server {
    /// Starts moto and waits until it answers (about a second and a half: it is Python).
    ///
    /// # Errors
    /// [`Error::MissingTool`] (run `.ci/install`), [`Error::NotReady`] with the log.
    pub fn start() -> Result<Self, Error> {
        let moto = require_tool("moto_server")?;
        let dir = temp_dir("s3-")?;
        let log = dir.path().join("moto.log");
        let (daemon, port) = with_free_port(|port| {
            let mut command = std::process::Command::new(&moto);
            command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .current_dir(dir.path());
            let mut daemon = Daemon::spawn("moto_server", command, &log)?;
            daemon.wait_ready(|| http_status(port, "/moto-api/") == Some(200))?;
            Ok((daemon, port))
        })?;
        Ok(Self {
            daemon,
            port,
            _dir: dir,
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// moto's PID.
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    /// `127.0.0.1:<port>`, as in a Bucket's `spec.endpoint` (with `insecure: true`).
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn client() -> Result<HttpClient, Error> {
        Ok(HttpClient::new(None)?.authorization(format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20240101/{REGION}/s3/aws4_request, \
             SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000"
        )))
    }

    /// Creates a bucket.
    ///
    /// # Errors
    /// [`Error::Http`].
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), Error> {
        Self::client()?
            .expect_success(
                Method::PUT,
                &format!("{}/{bucket}", self.endpoint_url()),
                &[],
                Vec::new(),
            )
            .await?;
        Ok(())
    }

    /// Uploads an object; returns its ETag (quoted MD5, as S3 reports it).
    ///
    /// # Errors
    /// [`Error::Http`].
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        data: impl Into<Vec<u8>>,
    ) -> Result<String, Error> {
        let response = Self::client()?
            .expect_success(
                Method::PUT,
                &format!("{}/{bucket}/{}", self.endpoint_url(), encode_key(key)),
                &[("Content-Type", "application/octet-stream")],
                data.into(),
            )
            .await?;
        Ok(response
            .headers
            .get(http::header::ETAG)
            .and_then(|e| e.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    /// Reads an object back.
    ///
    /// # Errors
    /// [`Error::Http`] (also for a missing object).
    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
        let response = Self::client()?
            .expect_success(
                Method::GET,
                &format!("{}/{bucket}/{}", self.endpoint_url(), encode_key(key)),
                &[],
                Vec::new(),
            )
            .await?;
        Ok(response.body.to_vec())
    }

    /// Deletes every bucket and object (moto's reset).
    ///
    /// # Errors
    /// [`Error::Http`].
    pub async fn reset(&self) -> Result<(), Error> {
        HttpClient::new(None)?
            .expect_success(
                Method::POST,
                &format!("{}/moto-api/reset", self.endpoint_url()),
                &[],
                Vec::new(),
            )
            .await?;
        Ok(())
    }

    /// Stops moto now (also done on drop).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

/// Percent-encodes an object key for the URL path, keeping `/` (as S3 clients do).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
