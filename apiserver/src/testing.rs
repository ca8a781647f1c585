//! A server for tests: a fresh data directory, a free port on 127.0.0.1, CRDs preloaded.
//!
//! ```no_run
//! # async fn example(crds: Vec<serde_json::Value>) -> Result<(), Box<dyn std::error::Error>> {
//! let server = sluice_apiserver::testing::start(&crds).await?;
//! let client = server.client().await?;
//! // ... run the controller under test against `client` ...
//! server.stop().await;
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde_json::Value;

use crate::{Config, RunningServer, StartError};

/// A running test server and the temporary directory it lives in (removed on drop).
#[derive(Debug)]
pub struct TestServer {
    server: RunningServer,
    dir: tempfile::TempDir,
}

impl std::ops::Deref for TestServer {
    type Target = RunningServer;
    fn deref(&self) -> &RunningServer {
        &self.server
    }
}

impl TestServer {
    /// The data directory (store, CA, token).
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes the kubeconfig into the data directory and returns its path (for kubectl).
    ///
    /// # Errors
    /// I/O errors.
    pub fn kubeconfig_file(&self) -> std::io::Result<std::path::PathBuf> {
        let path = self.dir.path().join("kubeconfig");
        std::fs::write(&path, self.server.kubeconfig())?;
        Ok(path)
    }

    /// Stops the server and removes its directory.
    pub async fn stop(self) {
        self.server.stop().await;
        drop(self.dir);
    }
}

/// Starts a server for a test with `objects` (typically CRDs) preloaded, with one-second
/// watch bookmarks.
///
/// # Errors
/// See [`StartError`].
pub async fn start(objects: &[Value]) -> Result<TestServer, StartError> {
    start_with(objects, true).await
}

/// Like [`start`], without the built-in controllers (no garbage collection, namespace
/// cleanup or workload simulation): for tests that need objects to stay exactly as
/// written.
///
/// # Errors
/// See [`StartError`].
pub async fn start_without_controllers(objects: &[Value]) -> Result<TestServer, StartError> {
    start_with(objects, false).await
}

async fn start_with(objects: &[Value], controllers: bool) -> Result<TestServer, StartError> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path(), "127.0.0.1:0".parse().expect("valid address"));
    config.bookmark_interval = Duration::from_secs(1);
    config.controllers = controllers;
    let server = crate::start(config, objects).await?;
    Ok(TestServer { server, dir })
}
