//! The CNCF distribution registry (`docker-registry`), plain or TLS + htpasswd, and a
//! push of Flux-style OCI artifacts.

use std::path::Path;
use std::process::Command;

use http::Method;
use serde_json::json;
use sluice_runtime::artifact::{Digest, write_tarball};

use crate::http::HttpClient;
use crate::process::{Daemon, http_status, require_tool, run, tcp_ready, with_free_port};
use crate::tls::TestCa;
use crate::{Error, temp_dir, write};

/// Media type of a Flux artifact's config.
pub const FLUX_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.flux.config.v1+json";
/// Media type of a Flux artifact's content layer.
pub const FLUX_CONTENT_MEDIA_TYPE: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
/// Media type of an OCI image manifest.
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// Options of an [`OciRegistry`].
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// htpasswd (bcrypt) user and password; `None` serves anonymously.
    pub credentials: Option<(String, String)>,
    /// Serve HTTPS with a certificate from a per-registry CA.
    pub tls: bool,
}

impl RegistryOptions {
    /// TLS and basic auth with `user`/`password`.
    pub fn secured(user: &str, password: &str) -> Self {
        Self {
            credentials: Some((user.to_owned(), password.to_owned())),
            tls: true,
        }
    }
}

/// A blob to push: media type and bytes.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The media type in the manifest.
    pub media_type: String,
    /// The content.
    pub data: Vec<u8>,
}

/// What a push produced.
#[derive(Debug, Clone)]
pub struct PushedArtifact {
    /// `sha256:<hex>` of the manifest bytes (the registry's `Docker-Content-Digest`).
    pub manifest_digest: String,
    /// The manifest as pushed.
    pub manifest: serde_json::Value,
    /// Digests of the layers, in order.
    pub layer_digests: Vec<String>,
}

/// `docker-registry serve` with filesystem storage in a temporary directory.
#[derive(Debug)]
pub struct OciRegistry {
    daemon: Daemon,
    port: u16,
    ca: Option<TestCa>,
    options: RegistryOptions,
    dir: tempfile::TempDir,
}

impl OciRegistry {
    /// Starts the registry and waits until it answers.
    ///
    /// # Errors
    /// [`Error::MissingTool`], [`Error::NotReady`] with the log, [`Error::Io`],
    /// [`Error::Command`] or [`Error::Tls`].
    pub fn start(options: RegistryOptions) -> Result<Self, Error> {
        let registry = require_tool("docker-registry")?;
        let dir = temp_dir("oci-registry-")?;
        let base = dir.path();
        let ca = if options.tls {
            Some(TestCa::generate(base, "registry")?)
        } else {
            None
        };
        let auth = match &options.credentials {
            Some((user, password)) => {
                let htpasswd = base.join("htpasswd");
                let line =
                    run(Command::new(require_tool("htpasswd")?).args(["-Bbn", user, password]))?;
                write(&htpasswd, line)?;
                format!(
                    "auth: {{ htpasswd: {{ realm: test-realm, path: {} }} }}\n",
                    htpasswd.display()
                )
            }
            None => String::new(),
        };
        let log = base.join("registry.log");
        let (daemon, port) = with_free_port(|port| {
            let tls = match &ca {
                Some(ca) => format!(
                    ", tls: {{ certificate: {}, key: {} }}",
                    ca.server_cert_path().display(),
                    ca.server_key_path().display()
                ),
                None => String::new(),
            };
            let config = base.join("config.yml");
            write(
                &config,
                format!(
                    "version: 0.1\nlog: {{ level: info, accesslog: {{ disabled: true }} }}\n\
                     storage: {{ filesystem: {{ rootdirectory: {data} }}, delete: {{ enabled: true }}, cache: {{ blobdescriptor: inmemory }} }}\n\
                     http: {{ addr: 127.0.0.1:{port}, secret: test-only-secret{tls} }}\n\
                     health: {{ storagedriver: {{ enabled: false }} }}\n{auth}",
                    data = base.join("data").display(),
                ),
            )?;
            let mut command = Command::new(&registry);
            command.arg("serve").arg(&config);
            let mut daemon = Daemon::spawn("docker-registry", command, &log)?;
            let plain = ca.is_none() && options.credentials.is_none();
            daemon.wait_ready(|| {
                if plain {
                    http_status(port, "/v2/") == Some(200)
                } else {
                    tcp_ready(port)
                }
            })?;
            Ok((daemon, port))
        })?;
        Ok(Self {
            daemon,
            port,
            ca,
            options,
            dir,
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The registry's PID.
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }
    /// `127.0.0.1:<port>`, the registry host as it appears in image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    /// `http://` or `https://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }
    /// `oci://127.0.0.1:<port>/<repository>`, as in an OCIRepository's `spec.url`.
    pub fn oci_url(&self, repository: &str) -> String {
        format!("oci://{}/{repository}", self.host())
    }
    /// The CA of the TLS certificate.
    pub fn ca(&self) -> Option<&TestCa> {
        self.ca.as_ref()
    }
    /// The htpasswd credentials.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.options
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }
    /// A `.dockerconfigjson` for these credentials (a Flux `secretRef` of type
    /// `kubernetes.io/dockerconfigjson`).
    pub fn docker_config_json(&self) -> String {
        use base64::Engine as _;
        let (user, password) = self.credentials().unwrap_or(("", ""));
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        json!({ "auths": { self.host(): { "username": user, "password": password, "auth": auth } } })
            .to_string()
    }
    /// An HTTP client trusting the registry's CA and sending its credentials.
    ///
    /// # Errors
    /// [`Error::Http`].
    pub fn client(&self) -> Result<HttpClient, Error> {
        let client = HttpClient::new(self.ca.as_ref().map(TestCa::ca_pem))?;
        Ok(match self.credentials() {
            Some((user, password)) => client.basic_auth(user, password),
            None => client,
        })
    }
    /// The directory the registry runs in (config, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Pushes `dir` as a Flux artifact (like `flux push artifact`): config `{}` of
    /// [`FLUX_CONFIG_MEDIA_TYPE`], one layer of [`FLUX_CONTENT_MEDIA_TYPE`] made by
    /// [`write_tarball`], and `annotations` (e.g. `org.opencontainers.image.revision`,
    /// `org.opencontainers.image.source`; `org.opencontainers.image.created` is added
    /// when missing) on the manifest, tagged `tag`.
    ///
    /// # Errors
    /// [`Error::Artifact`] when the directory cannot be archived, [`Error::Http`] when the
    /// registry refuses.
    pub async fn push_artifact(
        &self,
        repository: &str,
        tag: &str,
        dir: &Path,
        annotations: &[(&str, &str)],
    ) -> Result<PushedArtifact, Error> {
        let mut layer = Vec::new();
        write_tarball(dir, &mut layer, |_, _| false)?;
        let mut annotations: Vec<(&str, &str)> = annotations.to_vec();
        if !annotations
            .iter()
            .any(|(k, _)| *k == "org.opencontainers.image.created")
        {
            annotations.push(("org.opencontainers.image.created", "2024-01-01T00:00:00Z"));
        }
        self.push_manifest(
            repository,
            tag,
            Blob {
                media_type: FLUX_CONFIG_MEDIA_TYPE.to_owned(),
                data: b"{}".to_vec(),
            },
            &[Blob {
                media_type: FLUX_CONTENT_MEDIA_TYPE.to_owned(),
                data: layer,
            }],
            &annotations,
        )
        .await
    }

    /// Pushes an OCI image manifest with the given config, layers and annotations, tagged
    /// `tag` (blobs by monolithic upload: POST, then PUT `?digest=`).
    ///
    /// # Errors
    /// [`Error::Http`] when the registry refuses.
    pub async fn push_manifest(
        &self,
        repository: &str,
        tag: &str,
        config: Blob,
        layers: &[Blob],
        annotations: &[(&str, &str)],
    ) -> Result<PushedArtifact, Error> {
        let client = self.client()?;
        let config_digest = self.push_blob(&client, repository, &config.data).await?;
        let mut layer_entries = Vec::new();
        let mut layer_digests = Vec::new();
        for layer in layers {
            let digest = self.push_blob(&client, repository, &layer.data).await?;
            layer_entries.push(json!({
                "mediaType": layer.media_type,
                "digest": digest,
                "size": layer.data.len(),
            }));
            layer_digests.push(digest);
        }
        let annotations: serde_json::Map<String, serde_json::Value> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": config.media_type,
                "digest": config_digest,
                "size": config.data.len(),
            },
            "layers": layer_entries,
        });
        if !annotations.is_empty() {
            manifest["annotations"] = serde_json::Value::Object(annotations);
        }
        let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Http {
            context: "encoding the manifest".to_owned(),
            detail: e.to_string(),
        })?;
        let manifest_digest = Digest::sha256_of(&bytes).to_string();
        client
            .expect_success(
                Method::PUT,
                &format!("{}/v2/{repository}/manifests/{tag}", self.base_url()),
                &[("Content-Type", OCI_MANIFEST_MEDIA_TYPE)],
                bytes,
            )
            .await?;
        Ok(PushedArtifact {
            manifest_digest,
            manifest,
            layer_digests,
        })
    }

    async fn push_blob(
        &self,
        client: &HttpClient,
        repository: &str,
        data: &[u8],
    ) -> Result<String, Error> {
        let digest = Digest::sha256_of(data).to_string();
        let started = client
            .expect_success(
                Method::POST,
                &format!("{}/v2/{repository}/blobs/uploads/", self.base_url()),
                &[],
                Vec::new(),
            )
            .await?;
        let location = started
            .headers
            .get(http::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| Error::Http {
                context: "starting a blob upload".to_owned(),
                detail: "no Location header".to_owned(),
            })?;
        let location = if location.starts_with('/') {
            format!("{}{location}", self.base_url())
        } else {
            location.to_owned()
        };
        let separator = if location.contains('?') { '&' } else { '?' };
        client
            .expect_success(
                Method::PUT,
                &format!("{location}{separator}digest={digest}"),
                &[("Content-Type", "application/octet-stream")],
                data.to_vec(),
            )
            .await?;
        Ok(digest)
    }

    /// GETs a manifest by tag or digest; returns its `Docker-Content-Digest` and body.
    ///
    /// # Errors
    /// [`Error::Http`] when missing or refused.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<(String, serde_json::Value), Error> {
        let response = self
            .client()?
            .expect_success(
                Method::GET,
                &format!("{}/v2/{repository}/manifests/{reference}", self.base_url()),
                &[("Accept", OCI_MANIFEST_MEDIA_TYPE)],
                Vec::new(),
            )
            .await?;
        let digest = response
            .headers
            .get("docker-content-digest")
            .and_then(|d| d.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = serde_json::from_slice(&response.body).map_err(|e| Error::Http {
            context: "reading the manifest".to_owned(),
            detail: e.to_string(),
        })?;
        Ok((digest, body))
    }

    /// Stops the registry now (also done on drop).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}
