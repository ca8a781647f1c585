//! `source-controller`: parses the flags and runs [`sluice_source_controller::run`].

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = sluice_source_controller::Options::parse();
    sluice_source_controller::run(options).await?;
    Ok(())
}
