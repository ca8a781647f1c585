//! Logging set-up: JSON lines (Flux's default) or human-readable console output.

use tracing_subscriber::EnvFilter;

use crate::args::{LogEncoding, LogLevel};

/// Installs the global `tracing` subscriber. `RUST_LOG`, when set, overrides `level` (for
/// developers who want per-module filters). Calling it twice is harmless: the second
/// call keeps the first subscriber.
pub fn init_logging(level: LogLevel, encoding: LogEncoding) {
    let default = match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Error => "error",
    };
    // Keep dependencies quieter than our own code at debug level.
    let directives =
        format!("{default},hyper=info,h2=info,rustls=info,tower=info,kube_client=info");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match encoding {
        LogEncoding::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogEncoding::Console => builder.try_init(),
    };
}
