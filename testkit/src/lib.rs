//! # sluice-testkit
//!
//! Starts the real servers Sluice's tests talk to, on 127.0.0.1 with free ports and
//! temporary directories, and stops them by PID when dropped. Used by tests only; depends
//! on no controller.
//!
//! | server | type | what runs |
//! |---|---|---|
//! | `git://` | [`GitDaemon`] | `git daemon` with receive-pack |
//! | smart HTTP(S) | [`GitHttpServer`] | nginx + fcgiwrap + `git http-backend`, basic auth, optional TLS (and client certificates) from a per-server CA |
//! | SSH | [`GitSshServer`] | `sshd` with a key-only `git-shell` user and `known_hosts` (needs root) |
//! | OCI registry | [`OciRegistry`] | `docker-registry` (CNCF distribution 2.8), plain or TLS + htpasswd, with a Flux-style artifact push |
//! | S3 | [`S3Server`] | moto from the repository's `.venv`, with bucket and object helpers |
//! | metrics | [`Prometheus`] | Prometheus scraping targets every second, or serving backfilled data |
//!
//! Fixtures: [`GitRepo`] (commits, branches, annotated and lightweight tags, GPG- and
//! SSH-signed commits and tags), [`GpgKey`], [`SshKey`], [`TestCa`].
//!
//! Tools come from Debian packages and the repository's `.venv`, both installed by
//! `.ci/install`. Every launcher polls for readiness (bounded, see
//! [`process::READY_TIMEOUT`]) and returns [`Error::NotReady`] with the server's log when
//! it does not come up.
//!
//! # Environment
//! Nothing here relies on inherited CA variables (`SSL_CERT_FILE`, `GIT_SSL_CAINFO`, ...):
//! each server says which variables a client needs (e.g. [`GitHttpServer::git_env`]),
//! and tests set them on the commands they run.

pub mod git;
pub mod git_servers;
pub mod http;
pub mod process;
pub mod prometheus;
pub mod registry;
pub mod s3;
pub mod tls;

pub use git::{GitRepo, GpgKey, SshKey, git_command};
pub use git_servers::{GitDaemon, GitHttpOptions, GitHttpServer, GitSshServer};
pub use process::Daemon;
pub use prometheus::Prometheus;
pub use registry::{OciRegistry, PushedArtifact, RegistryOptions};
pub use s3::S3Server;
pub use tls::TestCa;

/// Starting, using or stopping a test server failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was attempted.
        context: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A command exited unsuccessfully.
    #[error("{command} failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it wrote to stderr.
        stderr: String,
    },
    /// A server did not become ready.
    #[error("{name} did not become ready: {reason}\n--- log ---\n{log}")]
    NotReady {
        /// Which server.
        name: String,
        /// Exit status or timeout.
        reason: String,
        /// The server's output.
        log: String,
    },
    /// A program is not installed.
    #[error("{0} not found: run .ci/install")]
    MissingTool(String),
    /// The server needs privileges this process lacks.
    #[error("{0}")]
    Unsupported(String),
    /// An HTTP exchange with a server failed or was refused.
    #[error("{context}: {detail}")]
    Http {
        /// What was attempted.
        context: String,
        /// Status and body, or the transport error.
        detail: String,
    },
    /// Certificate generation failed.
    #[error("generating certificates: {0}")]
    Tls(#[from] rcgen::Error),
    /// Building an artifact failed.
    #[error(transparent)]
    Artifact(#[from] sluice_runtime::artifact::ArtifactError),
}

impl Error {
    pub(crate) fn io(context: String) -> impl FnOnce(std::io::Error) -> Self {
        move |source| Self::Io { context, source }
    }
}

/// Writes `contents` to `path`, naming the path on failure.
pub(crate) fn write(path: &std::path::Path, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    std::fs::write(path, contents).map_err(Error::io(format!("writing {}", path.display())))
}

/// Creates a temporary directory for a server.
pub(crate) fn temp_dir(prefix: &str) -> Result<tempfile::TempDir, Error> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(Error::io("creating a temporary directory".to_owned()))
}
