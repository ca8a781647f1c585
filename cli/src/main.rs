//! `sluice`: the Sluice command line.
//!
//! - `sluice kustomize DIR` prints exactly what `kubectl kustomize DIR` prints;
//! - `sluice dev` runs the local control plane with the toolkit's CRDs (see [`dev`]).

mod dev;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sluice: GitOps toolkit, API-compatible with Flux v2.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a kustomization directory and print the objects as YAML, exactly as
    /// `kubectl kustomize DIR` does (kustomize v5 semantics, no subprocess).
    Kustomize {
        /// The directory holding kustomization.yaml (default: the current directory).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Run the local control plane (a Kubernetes-API-compatible server with the toolkit's
    /// CRDs) on this machine, no cluster needed; prints the kubeconfig to use.
    Dev(dev::DevArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Kustomize { dir } => kustomize(&dir),
        Command::Dev(args) => dev::run(&args),
    }
}

fn kustomize(dir: &std::path::Path) -> ExitCode {
    match sluice_kustomize::build_with_warnings(dir) {
        Ok((objects, warnings)) => {
            let mut stderr = std::io::stderr().lock();
            for warning in warnings {
                let _ = writeln!(stderr, "{warning}");
            }
            let yaml = sluice_kustomize::to_yaml(&objects);
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(yaml.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
