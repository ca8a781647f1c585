//! The controller's own HTTP endpoints: `/metrics` on `--metrics-addr`, `/healthz` and
//! `/readyz` on `--health-addr`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Metrics, TEXT_FORMAT};

/// Whether the controller is ready to serve: set once its watches are running. Clones
/// share the flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the controller ready (or not).
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }
    /// Whether the controller is ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The addresses the endpoints actually bound to (useful with port 0).
#[derive(Debug, Clone, Copy)]
pub struct BoundAddresses {
    /// Where `/metrics` is served.
    pub metrics: SocketAddr,
    /// Where `/healthz` and `/readyz` are served.
    pub health: SocketAddr,
}

/// Binds both listeners and serves them until `shutdown` is cancelled.
///
/// # Errors
/// The bind error, naming the address, when a port is taken.
pub async fn serve(
    metrics_addr: SocketAddr,
    health_addr: SocketAddr,
    metrics: Metrics,
    readiness: Readiness,
    shutdown: CancellationToken,
) -> std::io::Result<BoundAddresses> {
    let metrics_listener = bind(metrics_addr).await?;
    let health_listener = bind(health_addr).await?;
    let bound = BoundAddresses {
        metrics: metrics_listener.local_addr()?,
        health: health_listener.local_addr()?,
    };
    let metrics_app = Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(metrics);
    let health_app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .with_state(readiness);
    for (listener, app) in [
        (metrics_listener, metrics_app),
        (health_listener, health_app),
    ] {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "endpoint server failed");
            }
        });
    }
    Ok(bound)
}

async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

async fn render_metrics(State(metrics): State<Metrics>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, TEXT_FORMAT)], metrics.render())
}

async fn ready(State(readiness): State<Readiness>) -> impl IntoResponse {
    if readiness.is_ready() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get_text(addr: SocketAddr, path: &str) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let code = response[9..12].parse().unwrap();
        let body = response
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        (code, body)
    }

    #[tokio::test]
    async fn probes_and_metrics_are_served_and_stop_on_shutdown() {
        let metrics = Metrics::new();
        metrics.observe_reconcile(
            "Kustomization",
            "flux-system",
            "apps",
            std::time::Duration::from_millis(5),
        );
        let readiness = Readiness::default();
        let shutdown = CancellationToken::new();
        let any = "127.0.0.1:0".parse().unwrap();
        let bound = serve(any, any, metrics, readiness.clone(), shutdown.clone())
            .await
            .unwrap();

        assert_eq!(get_text(bound.health, "/healthz").await.0, 200);
        assert_eq!(get_text(bound.health, "/readyz").await.0, 503);
        readiness.set(true);
        assert_eq!(get_text(bound.health, "/readyz").await.0, 200);
        let (code, body) = get_text(bound.metrics, "/metrics").await;
        assert_eq!(code, 200);
        assert!(
            body.contains("gotk_reconcile_duration_seconds_bucket"),
            "{body}"
        );

        shutdown.cancel();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(tokio::net::TcpStream::connect(bound.metrics).await.is_err());
    }
}
