//! `sluice-apiserver`: a Kubernetes-API-compatible server with an embedded store, for local
//! runs and tests.
//!
//! ```text
//! sluice-apiserver --data-dir DIR --listen 127.0.0.1:PORT --kubeconfig-out FILE
//! ```
//! Port 0 picks a free port; the address is printed and written to the kubeconfig.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(
    name = "sluice-apiserver",
    version,
    about = "A Kubernetes-API-compatible server with an embedded store"
)]
struct Args {
    /// Directory for the store, the CA and the token (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// Where to write a kubeconfig for this server.
    #[arg(long)]
    kubeconfig_out: Option<PathBuf>,
    /// Seconds between watch bookmarks.
    #[arg(long, default_value_t = 60)]
    bookmark_interval: u64,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = sluice_apiserver::Config::new(&args.data_dir, args.listen);
    config.kubeconfig_out = args.kubeconfig_out.clone();
    config.bookmark_interval = std::time::Duration::from_secs(args.bookmark_interval.max(1));
    let server = match sluice_apiserver::start(config, &[]).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("sluice-apiserver: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("serving on {}", server.url());
    if let Some(path) = &args.kubeconfig_out {
        println!("kubeconfig written to {}", path.display());
    }
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
    server.stop().await;
    std::process::ExitCode::SUCCESS
}
