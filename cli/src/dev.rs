//! `sluice dev`: the local control plane with the toolkit's CRDs, for trying Sluice without
//! a cluster.
//!
//! It starts `sluice-apiserver` in this process (HTTPS on loopback, the store under
//! `--data-dir`, so a restart keeps every object), registers every Flux and Flagger CRD,
//! writes a kubeconfig that `kubectl` and kube-rs use as is, prints how to use it, and
//! serves until Ctrl-C or SIGTERM. The controllers join this process as they are built.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

/// Flags of `sluice dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Directory for the store, the CA, the token and the kubeconfig (created if missing;
    /// reused on the next start).
    #[arg(long, default_value = ".sluice/dev")]
    pub data_dir: PathBuf,
    /// Address of the API server; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Where to write the kubeconfig (default: `<data-dir>/kubeconfig`).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

/// Runs `sluice dev` until interrupted.
pub fn run(args: &DevArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: &DevArgs) -> ExitCode {
    let kubeconfig = args
        .kubeconfig
        .clone()
        .unwrap_or_else(|| args.data_dir.join("kubeconfig"));
    let crds = match toolkit_crds() {
        Ok(crds) => crds,
        Err(error) => {
            eprintln!("error: cannot encode the CRDs: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = sluice_apiserver::Config::new(&args.data_dir, args.listen);
    config.kubeconfig_out = Some(kubeconfig.clone());
    let server = match sluice_apiserver::start(config, &crds).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("error: cannot start the local control plane: {error}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&server.url(), &kubeconfig, crds.len());
    wait_for_shutdown().await;
    println!("stopping");
    server.stop().await;
    ExitCode::SUCCESS
}

/// Every CRD of the toolkit (`sluice_api::crds::all`) as the JSON the server preloads.
fn toolkit_crds() -> Result<Vec<serde_json::Value>, serde_json::Error> {
    sluice_api::crds::all()
        .iter()
        .map(serde_json::to_value)
        .collect()
}

fn print_banner(url: &str, kubeconfig: &Path, crd_count: usize) {
    println!("sluice dev: local control plane serving on {url}");
    println!("kubeconfig written to {}", kubeconfig.display());
    println!(
        "{crd_count} toolkit CRDs registered (source, kustomize, helm, notification, image, flagger)"
    );
    println!();
    println!("try:");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl get crds");
    println!("  kubectl get gitrepositories -A");
    println!();
    println!("Ctrl-C stops it; objects are kept in the data directory for the next start.");
}

async fn wait_for_shutdown() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
