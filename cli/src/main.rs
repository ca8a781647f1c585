//! `sluice`: the Sluice command line. For now it has one subcommand, `sluice kustomize DIR`,
//! which prints exactly what `kubectl kustomize DIR` prints.

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Kustomize { dir } => kustomize(&dir),
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
