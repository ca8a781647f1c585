//! The artifact file server on `--storage-addr`: plain HTTP over the storage root, as
//! upstream's file server.
//!
//! - `GET`/`HEAD` of a stored file answers 200 with the bytes (ranges supported), a
//!   missing file 404; consumers rely on exactly that.
//! - `GET /` answers 200: it is the pod's readiness probe.
//! - Paths with `..` never leave the root. Symlinks (the `latest.tar.gz` links) are
//!   followed, as upstream.
//!
//! Upstream starts the server on the elected leader only; [`crate::run`] starts it once
//! leadership is acquired.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::services::ServeDir;

/// The router serving `root`.
pub fn router(root: PathBuf) -> Router {
    Router::new()
        .route("/", get(|| async { (StatusCode::OK, "ok\n") }))
        .fallback_service(ServeDir::new(root).append_index_html_on_directories(false))
}

/// Binds `address` and serves `root` until `shutdown` is cancelled; returns the bound
/// address (useful with port 0).
///
/// # Errors
/// The bind error.
pub async fn serve(
    address: SocketAddr,
    root: PathBuf,
    shutdown: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(address).await?;
    let bound = listener.local_addr()?;
    let app = router(root);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "artifact server stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn request(address: SocketAddr, raw: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(raw.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    async fn get(address: SocketAddr, path: &str) -> String {
        request(
            address,
            &format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        )
        .await
    }

    #[tokio::test]
    async fn files_are_served_missing_ones_are_404_and_the_root_is_ready() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("gitrepository/ns/name");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("abc.tar.gz"), b"artifact-bytes").unwrap();
        std::os::unix::fs::symlink("abc.tar.gz", dir.join("latest.tar.gz")).unwrap();
        std::fs::write(root.path().join("secret"), b"top").unwrap();
        let shutdown = CancellationToken::new();
        let address = serve(
            "127.0.0.1:0".parse().unwrap(),
            root.path().to_owned(),
            shutdown.clone(),
        )
        .await
        .unwrap();

        let ready = get(address, "/").await;
        assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
        let file = get(address, "/gitrepository/ns/name/abc.tar.gz").await;
        assert!(file.starts_with("HTTP/1.1 200"), "{file}");
        assert!(file.ends_with("artifact-bytes"), "{file}");
        let linked = get(address, "/gitrepository/ns/name/latest.tar.gz").await;
        assert!(linked.ends_with("artifact-bytes"), "{linked}");
        let missing = get(address, "/gitrepository/ns/name/nope.tar.gz").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
        let escape = get(address, "/gitrepository/../../etc/passwd").await;
        assert!(!escape.starts_with("HTTP/1.1 200"), "{escape}");
        let head = request(
            address,
            "HEAD /gitrepository/ns/name/abc.tar.gz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(!head.ends_with("artifact-bytes"), "{head}");
        let range = request(
            address,
            "GET /gitrepository/ns/name/abc.tar.gz HTTP/1.1\r\nhost: x\r\nrange: bytes=0-7\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(range.starts_with("HTTP/1.1 206"), "{range}");
        assert!(range.ends_with("artifact"), "{range}");
        shutdown.cancel();
    }
}
