//! # sluice-source-controller
//!
//! A Flux-compatible source-controller: it fetches Git repositories, OCI artifacts and
//! S3-compatible buckets, packages what it fetched as a `tar.gz` artifact with a digest,
//! serves it over HTTP, and writes the artifact into the object's status, exactly as
//! Flux's source-controller does, so Flux's and Sluice's consumers work with it.
//!
//! - [`Options`]: the upstream flags (`--storage-path`, `--storage-addr`,
//!   `--storage-adv-addr`, `--artifact-retention-ttl`, `--artifact-retention-records`,
//!   `--artifact-digest-algo`, ...) plus every flag of [`sluice_runtime::Args`];
//! - [`run`]: starts the process (client, endpoints, leader election), then, once leading,
//!   the artifact server and the controllers;
//! - [`Context`]: what every reconciler shares;
//! - [`storage`]: the artifact storage, [`server`]: the artifact HTTP server,
//!   [`ignore`]: `.sourceignore` semantics, [`summary`]: the end-of-reconcile status
//!   bookkeeping shared by the source kinds, [`error`]: the error type;
//! - [`gitrepository`]: the GitRepository reconciler, over [`git`].

pub mod bucket;
pub mod common;
pub mod error;
pub mod git;
pub mod gitrepository;
pub mod ignore;
pub mod oci;
pub mod ocirepository;
pub mod server;
pub mod storage;
pub mod summary;
pub mod transport;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use futures::future::BoxFuture;
use kube::Client;
use sluice_runtime::args::{parse_bind_address, parse_go_duration};
use sluice_runtime::artifact::DigestAlgorithm;
use sluice_runtime::watch::FeatureGates;
use sluice_runtime::{Args, EventRecorder, Metrics, RetryBackoff, Runtime};
use tokio_util::sync::CancellationToken;

pub use error::Error;
use storage::{Storage, StorageOptions};

/// The controller's name: field manager of its status writes and reporting controller of
/// its events.
pub const CONTROLLER_NAME: &str = "source-controller";

/// Feature gates upstream's source-controller knows, with their defaults. Only their
/// names matter here (Flux's install patches may set them); none changes behaviour yet.
pub const FEATURE_GATES: &[(&str, bool)] = &[
    ("OptimizedGitClones", true),
    ("CacheSecretsAndConfigMaps", false),
    ("ObjectLevelWorkloadIdentity", false),
    ("DisableChartDigestTracking", false),
    ("GitShallowClone", true),
];

/// The command line of `source-controller`, as upstream's (unknown to this parser are
/// only flags upstream does not have).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "source-controller",
    version,
    about = "Flux-compatible source-controller"
)]
pub struct Options {
    /// Flags shared by every controller.
    #[command(flatten)]
    pub runtime: Args,

    /// Directory where artifacts are stored.
    #[arg(long, env = "STORAGE_PATH", default_value = "/data")]
    pub storage_path: PathBuf,

    /// Address the artifact server binds to.
    #[arg(long, env = "STORAGE_ADDRESS", default_value = ":9090")]
    pub storage_addr: String,

    /// Address advertised in artifact URLs (a host, `host:port`, or an `http(s)://`
    /// prefix); derived from `--storage-addr` when empty.
    #[arg(long, env = "STORAGE_ADV_ADDR", default_value = "")]
    pub storage_adv_addr: String,

    /// Artifacts other than the current one older than this are garbage collected.
    #[arg(long, default_value = "1m", value_parser = parse_go_duration)]
    pub artifact_retention_ttl: Duration,

    /// How many artifacts (the current one included) are kept per object.
    #[arg(long, default_value_t = 2)]
    pub artifact_retention_records: usize,

    /// Digest algorithm of artifacts: sha256, sha384 or sha512.
    #[arg(long, default_value = "sha256")]
    pub artifact_digest_algo: String,

    /// Largest Helm repository index accepted, in bytes.
    #[arg(long, default_value_t = 50 << 20)]
    pub helm_index_max_size: i64,

    /// Largest Helm chart accepted, in bytes.
    #[arg(long, default_value_t = 10 << 20)]
    pub helm_chart_max_size: i64,

    /// Largest file in a Helm chart accepted, in bytes.
    #[arg(long, default_value_t = 5 << 20)]
    pub helm_chart_file_max_size: i64,

    /// Number of Helm indexes cached in memory (0 disables the cache).
    #[arg(long, default_value_t = 0)]
    pub helm_cache_max_size: i64,

    /// How long a cached Helm index lives.
    #[arg(long, default_value = "15m")]
    pub helm_cache_ttl: String,

    /// How often the Helm index cache is purged.
    #[arg(long, default_value = "1m")]
    pub helm_cache_purge_interval: String,

    /// Key exchange algorithms for SSH connections, most preferred first.
    #[arg(long, value_delimiter = ',')]
    pub ssh_kex_algos: Vec<String>,

    /// Host key algorithms for SSH connections, most preferred first.
    #[arg(long, value_delimiter = ',')]
    pub ssh_hostkey_algos: Vec<String>,

    /// Service account used for workload identity when an object names none.
    #[arg(long, default_value = "")]
    pub default_service_account: String,

    /// Spread of the successful-requeue interval, in percent (`--interval-jitter-percentage`).
    #[arg(long, default_value_t = 5)]
    pub interval_jitter_percentage: u8,

    /// Maximum number of cached cloud tokens (accepted for compatibility).
    #[arg(long, default_value_t = 100)]
    pub token_cache_max_size: u64,

    /// Maximum lifetime of a cached cloud token (accepted for compatibility).
    #[arg(long, default_value = "1h")]
    pub token_cache_max_duration: String,
}

/// Starting or running the controller failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A flag has a value that cannot be used.
    #[error("invalid flag: {0}")]
    InvalidFlag(String),
    /// The process machinery (client, endpoints, leadership) failed.
    #[error(transparent)]
    Start(#[from] sluice_runtime::StartError),
    /// The storage root cannot be used.
    #[error("cannot open the artifact storage: {0}")]
    Storage(#[from] storage::StorageError),
    /// The artifact server cannot bind its address.
    #[error("cannot serve artifacts on {address}: {source}")]
    Serve {
        /// The address.
        address: String,
        /// The bind error.
        #[source]
        source: std::io::Error,
    },
}

impl Options {
    /// The address artifacts are advertised at: `--storage-adv-addr`, else
    /// `--storage-addr` with an empty host read as `localhost` and `0.0.0.0` as the
    /// host name.
    ///
    /// # Errors
    /// [`RunError::InvalidFlag`] when `--storage-addr` has no port.
    pub fn advertised_address(&self) -> Result<String, RunError> {
        if !self.storage_adv_addr.is_empty() {
            return Ok(self.storage_adv_addr.clone());
        }
        let (host, port) = self.storage_addr.rsplit_once(':').ok_or_else(|| {
            RunError::InvalidFlag(format!("invalid storage address {:?}", self.storage_addr))
        })?;
        let host = match host {
            "" => "localhost".to_owned(),
            "0.0.0.0" => std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .or_else(|| {
                    std::fs::read_to_string("/proc/sys/kernel/hostname")
                        .ok()
                        .map(|h| h.trim().to_owned())
                })
                .unwrap_or_else(|| "localhost".to_owned()),
            other => other.to_owned(),
        };
        Ok(format!("{host}:{port}"))
    }

    /// The storage configuration the flags describe.
    ///
    /// # Errors
    /// [`RunError::InvalidFlag`] for an unsupported digest algorithm or a bad address.
    pub fn storage_options(&self) -> Result<StorageOptions, RunError> {
        let digest_algorithm = match self.artifact_digest_algo.as_str() {
            "sha256" => DigestAlgorithm::Sha256,
            "sha384" => DigestAlgorithm::Sha384,
            "sha512" => DigestAlgorithm::Sha512,
            other => {
                return Err(RunError::InvalidFlag(format!(
                    "unsupported --artifact-digest-algo {other:?}: use sha256, sha384 or sha512"
                )));
            }
        };
        Ok(StorageOptions {
            root: self.storage_path.clone(),
            advertised_address: self.advertised_address()?,
            retention_ttl: self.artifact_retention_ttl,
            retention_records: self.artifact_retention_records,
            digest_algorithm,
        })
    }

    /// The address the artifact server binds to.
    ///
    /// # Errors
    /// [`RunError::InvalidFlag`] when `--storage-addr` cannot be parsed.
    pub fn storage_bind_address(&self) -> Result<SocketAddr, RunError> {
        parse_bind_address(&self.storage_addr).map_err(RunError::InvalidFlag)
    }
}

/// What every reconciler of this controller shares.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// The artifact storage.
    pub storage: Storage,
    /// Kubernetes events (and the notification endpoint).
    pub events: EventRecorder,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Per-object retry backoff of failed reconciles, keyed by `kind/namespace/name`.
    pub backoff: RetryBackoff<String>,
    /// How long to wait for a dependency that is not ready (`--requeue-dependency`).
    pub requeue_dependency: Duration,
    /// Spread of successful requeues (0.05 = ±5%).
    pub interval_jitter: f64,
    /// The feature gates.
    pub features: FeatureGates,
    /// The flags, for controller-specific settings.
    pub options: Options,
}

impl Context {
    /// A context for `runtime` with `storage`.
    ///
    /// # Errors
    /// [`RunError::InvalidFlag`] for unknown feature gates.
    pub fn new(runtime: &Runtime, storage: Storage, options: Options) -> Result<Self, RunError> {
        Self::with_parts(
            runtime.client().clone(),
            runtime.events().clone(),
            runtime.metrics().clone(),
            storage,
            options,
        )
    }

    /// A context from its parts (tests build one around the local control plane).
    ///
    /// # Errors
    /// [`RunError::InvalidFlag`] for unknown feature gates.
    pub fn with_parts(
        client: Client,
        events: EventRecorder,
        metrics: Metrics,
        storage: Storage,
        options: Options,
    ) -> Result<Self, RunError> {
        let features = FeatureGates::parse(FEATURE_GATES, &options.runtime.feature_gates)
            .map_err(RunError::InvalidFlag)?;
        Ok(Self {
            client,
            storage,
            events,
            metrics,
            backoff: RetryBackoff::new(
                options.runtime.min_retry_delay,
                options.runtime.max_retry_delay,
            ),
            requeue_dependency: options.runtime.requeue_dependency,
            interval_jitter: f64::from(options.interval_jitter_percentage) / 100.0,
            features,
            options,
        })
    }
}

/// The controllers this process runs, each a future that ends on `shutdown`.
fn controllers(
    context: &Arc<Context>,
    shutdown: &CancellationToken,
) -> Vec<BoxFuture<'static, ()>> {
    vec![
        gitrepository::controller(Arc::clone(context), shutdown.clone()),
        ocirepository::controller(Arc::clone(context), shutdown.clone()),
        bucket::controller(Arc::clone(context), shutdown.clone()),
    ]
}

/// Runs source-controller until SIGTERM: starts the process machinery (and waits for
/// leadership), then the artifact server and the controllers.
///
/// # Errors
/// See [`RunError`].
pub async fn run(options: Options) -> Result<(), RunError> {
    let runtime = Runtime::start(CONTROLLER_NAME, options.runtime.clone()).await?;
    run_with_runtime(options, runtime).await
}

/// Like [`run`] with a client (for `sluice dev` and tests against the local control
/// plane).
///
/// # Errors
/// See [`RunError`].
pub async fn run_with_client(options: Options, client: Client) -> Result<(), RunError> {
    let runtime =
        Runtime::start_with_client(CONTROLLER_NAME, options.runtime.clone(), client).await?;
    run_with_runtime(options, runtime).await
}

async fn run_with_runtime(options: Options, runtime: Runtime) -> Result<(), RunError> {
    let storage = Storage::new(options.storage_options()?)?;
    let bind = options.storage_bind_address()?;
    // Leadership is held here (Runtime::start waits for it): the server runs on the
    // leader only, as upstream.
    let bound = server::serve(bind, storage.root().to_owned(), runtime.shutdown().clone())
        .await
        .map_err(|source| RunError::Serve {
            address: options.storage_addr.clone(),
            source,
        })?;
    tracing::info!(address = %bound, advertised = %storage.advertised_address(), "artifact server listening");
    let context = Arc::new(Context::new(&runtime, storage, options)?);
    let running = controllers(&context, runtime.shutdown());
    runtime.readiness().set(true);
    futures::future::join_all(running).await;
    runtime.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Options {
        let mut argv = vec!["source-controller"];
        argv.extend_from_slice(args);
        Options::try_parse_from(argv).unwrap()
    }

    #[test]
    fn flux_install_arguments_are_accepted() {
        let options = parse(&[
            "--watch-all-namespaces",
            "--log-level=info",
            "--log-encoding=json",
            "--enable-leader-election",
            "--storage-path=/data",
            "--storage-adv-addr=source-controller.flux-system.svc.cluster.local.",
            "--helm-cache-max-size=10",
            "--ssh-kex-algos=curve25519-sha256,diffie-hellman-group14-sha256",
            "--feature-gates=OptimizedGitClones=false",
        ]);
        assert_eq!(options.storage_path, PathBuf::from("/data"));
        assert_eq!(
            options.advertised_address().unwrap(),
            "source-controller.flux-system.svc.cluster.local."
        );
        assert_eq!(options.ssh_kex_algos.len(), 2);
    }

    #[test]
    fn defaults_match_upstream() {
        let options = parse(&[]);
        assert_eq!(options.artifact_retention_ttl, Duration::from_secs(60));
        assert_eq!(options.artifact_retention_records, 2);
        assert_eq!(options.storage_addr, ":9090");
        assert_eq!(options.advertised_address().unwrap(), "localhost:9090");
        assert_eq!(
            options.storage_bind_address().unwrap(),
            "0.0.0.0:9090".parse().unwrap()
        );
    }

    #[test]
    fn the_advertised_address_comes_from_the_bind_address() {
        let options = parse(&["--storage-addr=127.0.0.1:9091"]);
        assert_eq!(options.advertised_address().unwrap(), "127.0.0.1:9091");
        assert!(
            parse(&["--storage-addr=nonsense"])
                .advertised_address()
                .is_err()
        );
    }

    #[test]
    fn unsupported_digest_algorithms_are_refused() {
        let err = parse(&["--artifact-digest-algo=blake3"])
            .storage_options()
            .unwrap_err();
        assert!(err.to_string().contains("blake3"), "{err}");
        assert!(
            parse(&["--artifact-digest-algo=sha512"])
                .storage_options()
                .is_ok()
        );
    }
}
