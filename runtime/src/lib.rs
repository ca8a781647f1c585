//! # sluice-runtime
//!
//! What every Sluice controller shares, so that each controller is only its reconcile
//! logic:
//!
//! - [`Args`]: the upstream flags (`--metrics-addr`, `--health-addr`,
//!   `--enable-leader-election`, `--events-addr`, `--log-level`, `--log-encoding`,
//!   `--watch-all-namespaces`, `--concurrent`, `--requeue-dependency`, ...) and
//!   `RUNTIME_NAMESPACE`, flattened into every controller's command line;
//! - [`Runtime::start`]: JSON logs, a Kubernetes client (kubeconfig or in-cluster),
//!   `/metrics`, `/healthz` and `/readyz`, leader election on a Lease, and shutdown on
//!   SIGTERM/SIGINT;
//! - [`reconcile`]: error classification (transient / waiting / stalled), the shared
//!   `error_policy` and the per-object jittered backoff;
//! - [`status`]: the end-of-reconcile summary, `requestedAt` handling, the watch predicate,
//!   and the single server-side-apply status write;
//! - [`events`]: Kubernetes Events plus the notification endpoint;
//! - [`metrics`]: `gotk_reconcile_duration_seconds` and friends.
//!
//! A controller's `main` is then roughly:
//!
//! ```no_run
//! # async fn example(args: sluice_runtime::Args) -> Result<(), sluice_runtime::StartError> {
//! let runtime = sluice_runtime::Runtime::start("source-controller", args).await?;
//! // build the kube::runtime::Controller with runtime.client(), run it with
//! // .graceful_shutdown_on(runtime.shutdown().cancelled_owned()), mark ready...
//! runtime.readiness().set(true);
//! runtime.finish().await
//! # }
//! ```

pub mod args;
pub mod artifact;
pub mod events;
pub mod leader;
pub mod metrics;
pub mod reconcile;
pub mod semver;
pub mod server;
pub mod status;
pub mod telemetry;
pub mod watch;

#[cfg(test)]
mod testing;

use std::sync::Arc;

pub use args::Args;
pub use events::{EventDetails, EventRecorder};
pub use metrics::Metrics;
pub use reconcile::{ErrorClass, ReconcileError, RetryBackoff, error_policy};
pub use server::Readiness;

use kube::Client;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::leader::{LeaderElector, LeaseConfig, TermEnd};
use crate::server::BoundAddresses;

/// Start-up or shutdown of a controller process failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("cannot create the Kubernetes client: {0}")]
    CreateClient(#[source] kube::Error),
    /// A metrics or probe port could not be bound.
    #[error("cannot serve metrics and probes: {0}")]
    ServeEndpoints(#[source] std::io::Error),
    /// Shutdown was requested before leadership was acquired.
    #[error("shut down before acquiring leadership")]
    ShutdownBeforeLeading,
    /// The lease could not be renewed; the process must exit so another replica leads.
    #[error("leadership lost")]
    LeadershipLost,
}

/// A started controller process: client, endpoints, events, leadership and the shutdown
/// signal.
pub struct Runtime {
    controller: String,
    args: Args,
    client: Client,
    metrics: Metrics,
    events: EventRecorder,
    readiness: Readiness,
    shutdown: CancellationToken,
    endpoints: BoundAddresses,
    leadership: Option<JoinHandle<TermEnd>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("controller", &self.controller)
            .field("endpoints", &self.endpoints)
            .field("leader_election", &self.leadership.is_some())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts the process-level machinery for `controller` (e.g. `source-controller`):
    /// logging, the client, the metrics and probe endpoints, SIGTERM/SIGINT handling, and,
    /// with `--enable-leader-election`, waits until this replica leads.
    ///
    /// # Errors
    /// See [`StartError`].
    pub async fn start(controller: &str, args: Args) -> Result<Self, StartError> {
        telemetry::init_logging(args.log_level, args.log_encoding);
        let client = Client::try_default()
            .await
            .map_err(StartError::CreateClient)?;
        Self::start_with_client(controller, args, client).await
    }

    /// Like [`Runtime::start`] with a given client (for tests and for `sluice dev`, which
    /// runs every controller in one process against the local control plane).
    ///
    /// # Errors
    /// See [`StartError`].
    pub async fn start_with_client(
        controller: &str,
        args: Args,
        client: Client,
    ) -> Result<Self, StartError> {
        let shutdown = CancellationToken::new();
        spawn_signal_handler(shutdown.clone());
        let metrics = Metrics::new();
        let readiness = Readiness::default();
        let endpoints = server::serve(
            args.metrics_addr,
            args.health_addr,
            metrics.clone(),
            readiness.clone(),
            shutdown.clone(),
        )
        .await
        .map_err(StartError::ServeEndpoints)?;
        tracing::info!(controller, metrics = %endpoints.metrics, health = %endpoints.health, "endpoints serving");
        let instance = instance_name();
        let events = EventRecorder::new(
            client.clone(),
            controller,
            &instance,
            args.events_endpoint(),
        );

        let leadership = if args.enable_leader_election {
            let identity = format!("{instance}_{:016x}", rand::random::<u64>());
            let config = LeaseConfig::flux_defaults(controller, &args.runtime_namespace, &identity);
            let elector = Arc::new(LeaderElector::new(client.clone(), config));
            if !elector.acquire(&shutdown).await {
                return Err(StartError::ShutdownBeforeLeading);
            }
            let term_shutdown = shutdown.clone();
            Some(tokio::spawn(async move {
                let end = elector.hold(&term_shutdown).await;
                // Losing the lease stops the controller as if it were told to shut down.
                term_shutdown.cancel();
                end
            }))
        } else {
            None
        };

        Ok(Self {
            controller: controller.to_owned(),
            args,
            client,
            metrics,
            events,
            readiness,
            shutdown,
            endpoints,
            leadership,
        })
    }

    /// The controller's name, e.g. `source-controller`.
    pub fn controller(&self) -> &str {
        &self.controller
    }
    /// The parsed flags.
    pub fn args(&self) -> &Args {
        &self.args
    }
    /// The Kubernetes client.
    pub fn client(&self) -> &Client {
        &self.client
    }
    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    /// The event recorder.
    pub fn events(&self) -> &EventRecorder {
        &self.events
    }
    /// The readiness flag served on `/readyz`; set it once the controller's watches run.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }
    /// Cancelled on SIGTERM/SIGINT or when leadership is lost; pass
    /// `shutdown().cancelled_owned()` to `Controller::graceful_shutdown_on`.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }
    /// Where the endpoints are served.
    pub fn endpoints(&self) -> BoundAddresses {
        self.endpoints
    }

    /// Call after the controller stopped: stops the endpoints and releases the lease.
    ///
    /// # Errors
    /// [`StartError::LeadershipLost`] when the controller stopped because another replica
    /// took the lease, so the process exits non-zero like upstream.
    pub async fn finish(self) -> Result<(), StartError> {
        self.readiness.set(false);
        self.shutdown.cancel();
        if let Some(leadership) = self.leadership
            && let Ok(TermEnd::Lost) = leadership.await
        {
            return Err(StartError::LeadershipLost);
        }
        Ok(())
    }
}

/// Cancels `shutdown` on SIGTERM or SIGINT.
fn spawn_signal_handler(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            () = terminate => tracing::info!("SIGTERM received, shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, shutting down"),
            () = shutdown.cancelled() => {}
        }
        shutdown.cancel();
    });
}

/// The pod name (Kubernetes sets `HOSTNAME` to it) or the machine's host name.
fn instance_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{expect, json_response, mock_client, status_response};
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        runtime: Args,
    }

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec![
            "test-controller",
            "--metrics-addr=127.0.0.1:0",
            "--health-addr=127.0.0.1:0",
        ];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().runtime
    }

    #[tokio::test]
    async fn a_leader_serves_endpoints_and_releases_its_lease_on_finish() {
        let (client, mut server) = mock_client();
        let lease = "/apis/coordination.k8s.io/v1/namespaces/flux-system/leases/test-controller-leader-election";
        let api = tokio::spawn(async move {
            let (_, respond) = expect(&mut server, "GET", lease).await;
            respond.send_response(status_response(404, "NotFound"));
            let (created, respond) = expect(
                &mut server,
                "POST",
                "/apis/coordination.k8s.io/v1/namespaces/flux-system/leases?",
            )
            .await;
            let mut held = created.clone();
            held["metadata"]["resourceVersion"] = "1".into();
            respond.send_response(json_response(201, &held));
            // finish(): the lease is released for the next replica.
            let (_, respond) = expect(&mut server, "GET", lease).await;
            respond.send_response(json_response(200, &held));
            let (released, respond) = expect(&mut server, "PUT", &format!("{lease}?")).await;
            assert!(
                released["spec"]
                    .get("holderIdentity")
                    .is_none_or(serde_json::Value::is_null)
            );
            respond.send_response(json_response(200, &released));
        });
        let runtime = Runtime::start_with_client(
            "test-controller",
            args(&[
                "--enable-leader-election",
                "--runtime-namespace=flux-system",
            ]),
            client,
        )
        .await
        .unwrap();
        let health = runtime.endpoints().health;
        assert!(tokio::net::TcpStream::connect(health).await.is_ok());
        assert!(!runtime.shutdown().is_cancelled());
        runtime.finish().await.unwrap();
        api.await.unwrap();
    }

    #[tokio::test]
    async fn without_leader_election_the_runtime_starts_at_once() {
        let (client, _server) = mock_client();
        let runtime = Runtime::start_with_client("test-controller", args(&[]), client)
            .await
            .unwrap();
        runtime.readiness().set(true);
        assert!(runtime.readiness().is_ready());
        runtime.finish().await.unwrap();
    }
}
