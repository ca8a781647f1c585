//! Helpers of the lifecycle tests (garbage collection, namespaces, workloads): polling with
//! a deadline, typed objects from JSON, and the real kubectl.

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Polls `check` every 20 ms until it returns `Some`, failing the test with `what` after
/// `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A typed object from JSON.
pub fn object<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid object")
}

/// The kubectl the tests drive: `$KUBECTL`, else `.venv/bin/kubectl` at the workspace
/// root (installed by `.ci/install`), else `kubectl` on the `PATH`.
pub fn kubectl_path() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBECTL") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/kubectl");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("kubectl")
}

/// What a kubectl run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit status success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs kubectl against the server behind `kubeconfig` (off the test's runtime, which
/// serves the API), with `stdin` fed when given.
pub async fn kubectl(kubeconfig: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Run {
    let kubeconfig = kubeconfig.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new(kubectl_path())
            .args(&args)
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs (install it with .ci/install)");
        if let Some(input) = stdin
            && let Some(mut pipe) = child.stdin.take()
        {
            pipe.write_all(input.as_bytes()).expect("stdin written");
        }
        let output = child.wait_with_output().expect("kubectl finishes");
        Run {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .expect("kubectl task")
}
