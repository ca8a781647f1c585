//! `sluice dev`: the local control plane with the toolkit's CRDs, for trying Sluice without
//! a cluster.
//!
//! It starts `sluice-apiserver` in this process (HTTPS on loopback, the store under
//! `--data-dir`, so a restart keeps every object), registers every Flux and Flagger CRD,
//! writes a kubeconfig that `kubectl` and kube-rs use as is, runs the controllers built so
//! far against it (source-controller, its artifacts under `<data-dir>/artifacts` served on
//! `--storage-addr`), prints how to use it, and serves until Ctrl-C or SIGTERM.

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
    /// Address of source-controller's artifact server (it is also the address in artifact
    /// URLs).
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub storage_addr: SocketAddr,
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
    let client = match server.client().await {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: cannot connect to the local control plane: {error}");
            server.stop().await;
            return ExitCode::FAILURE;
        }
    };
    let source_controller = match source_controller_options(args) {
        Ok(options) => tokio::spawn(sluice_source_controller::run_with_client(options, client)),
        Err(error) => {
            eprintln!("error: source-controller flags: {error}");
            server.stop().await;
            return ExitCode::FAILURE;
        }
    };
    print_banner(&server.url(), &kubeconfig, crds.len(), args.storage_addr);
    // The controllers stop on the same signal (their runtime listens for it too).
    let mut status = ExitCode::SUCCESS;
    let mut source_controller = source_controller;
    tokio::select! {
        () = wait_for_shutdown() => {
            println!("stopping");
            if let Ok(Err(error)) = (&mut source_controller).await {
                eprintln!("error: source-controller: {error}");
                status = ExitCode::FAILURE;
            }
        }
        finished = &mut source_controller => {
            eprintln!("error: source-controller stopped: {}", match finished {
                Ok(Ok(())) => "without a signal".to_owned(),
                Ok(Err(error)) => error.to_string(),
                Err(error) => error.to_string(),
            });
            status = ExitCode::FAILURE;
        }
    }
    server.stop().await;
    status
}

/// source-controller's flags for a local run: no leader election, endpoints on free
/// loopback ports, artifacts in the data directory.
fn source_controller_options(
    args: &DevArgs,
) -> Result<sluice_source_controller::Options, clap::Error> {
    use clap::Parser as _;
    let storage_path = args.data_dir.join("artifacts");
    sluice_source_controller::Options::try_parse_from([
        "source-controller".to_owned(),
        format!("--storage-path={}", storage_path.display()),
        format!("--storage-addr={}", args.storage_addr),
        format!("--storage-adv-addr={}", args.storage_addr),
        "--metrics-addr=127.0.0.1:0".to_owned(),
        "--health-addr=127.0.0.1:0".to_owned(),
        "--enable-leader-election=false".to_owned(),
    ])
}

/// Every CRD of the toolkit (`sluice_api::crds::all`) as the JSON the server preloads.
fn toolkit_crds() -> Result<Vec<serde_json::Value>, serde_json::Error> {
    sluice_api::crds::all()
        .iter()
        .map(serde_json::to_value)
        .collect()
}

fn print_banner(url: &str, kubeconfig: &Path, crd_count: usize, storage_addr: SocketAddr) {
    println!("sluice dev: local control plane serving on {url}");
    println!("source-controller running; artifacts served on http://{storage_addr}");
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
