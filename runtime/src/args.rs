//! The flags every controller accepts, spelled as Flux's install manifests pass them.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{ArgAction, Args as ClapArgs, ValueEnum};

/// Process flags shared by all Sluice controllers; each controller binary flattens this
/// into its own `clap::Parser` and adds its own flags.
///
/// Boolean flags accept both `--flag` and the Go spelling `--flag=true|false`, because
/// Flux's manifests and the Flux CLI patch arguments such as `--watch-all-namespaces=false`.
#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// Address the Prometheus `/metrics` endpoint binds to (`:8080` means all interfaces).
    #[arg(long, default_value = ":8080", value_parser = parse_bind_address)]
    pub metrics_addr: SocketAddr,

    /// Address the `/healthz` and `/readyz` probes bind to.
    #[arg(long, default_value = ":9440", value_parser = parse_bind_address)]
    pub health_addr: SocketAddr,

    /// Run only while holding the `<controller>-leader-election` Lease in the runtime
    /// namespace.
    #[arg(long, num_args = 0..=1, default_value = "false", default_missing_value = "true", action = ArgAction::Set)]
    pub enable_leader_election: bool,

    /// HTTP address of the notification-controller's event endpoint; when set, events are
    /// also POSTed there as JSON.
    #[arg(long, default_value = "")]
    pub events_addr: String,

    /// Log verbosity.
    #[arg(long, value_enum, default_value = "info")]
    pub log_level: LogLevel,

    /// Log format: `json` for machines (the default, as in Flux), `console` for people.
    #[arg(long, value_enum, default_value = "json")]
    pub log_encoding: LogEncoding,

    /// Watch objects in every namespace; when false, only in the runtime namespace.
    #[arg(long, num_args = 0..=1, default_value = "true", default_missing_value = "true", action = ArgAction::Set)]
    pub watch_all_namespaces: bool,

    /// Only watch objects matching this label selector (sharding), e.g.
    /// `sharding.fluxcd.io/key=shard1`.
    #[arg(long, default_value = "")]
    pub watch_label_selector: String,

    /// How many objects are reconciled at the same time.
    #[arg(long, default_value_t = 4)]
    pub concurrent: u16,

    /// How long to wait before retrying an object whose dependency is not ready.
    #[arg(long, default_value = "30s", value_parser = parse_go_duration)]
    pub requeue_dependency: Duration,

    /// Smallest delay before retrying a failed reconcile.
    #[arg(long, default_value = "750ms", value_parser = parse_go_duration)]
    pub min_retry_delay: Duration,

    /// Largest delay before retrying a failed reconcile.
    #[arg(long, default_value = "15m", value_parser = parse_go_duration)]
    pub max_retry_delay: Duration,

    /// Refuse references to objects in other namespaces (multi-tenancy lockdown).
    #[arg(long, num_args = 0..=1, default_value = "false", default_missing_value = "true", action = ArgAction::Set)]
    pub no_cross_namespace_refs: bool,

    /// Feature gates as `Name=true,Other=false`; unknown names are rejected at start-up.
    #[arg(long, default_value = "")]
    pub feature_gates: String,

    /// Namespace the controller runs in (from the `RUNTIME_NAMESPACE` environment variable,
    /// set from the pod's namespace in the install manifests).
    #[arg(long, env = "RUNTIME_NAMESPACE", default_value = "flux-system")]
    pub runtime_namespace: String,
}

impl Args {
    /// The namespace to watch, or `None` for all namespaces.
    pub fn watch_namespace(&self) -> Option<&str> {
        (!self.watch_all_namespaces).then_some(self.runtime_namespace.as_str())
    }

    /// The notification endpoint, or `None` when events are only recorded in Kubernetes.
    pub fn events_endpoint(&self) -> Option<&str> {
        let addr = self.events_addr.trim();
        (!addr.is_empty()).then_some(addr)
    }
}

/// Log verbosity, as Flux spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Everything, including per-request tracing.
    Trace,
    /// Developer detail.
    Debug,
    /// Normal operation.
    Info,
    /// Only errors.
    Error,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogEncoding {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Console,
}

/// Parses a Go/Kubernetes style bind address: `:8080` (all interfaces), `0.0.0.0:8080`,
/// `127.0.0.1:0` or `[::1]:9440`.
///
/// # Errors
/// A message naming the address when it has no valid port or host.
pub fn parse_bind_address(text: &str) -> Result<SocketAddr, String> {
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_owned()
    };
    full.parse().map_err(|_| {
        format!("invalid address {text:?}: expected [host]:port, e.g. :8080 or 127.0.0.1:8080")
    })
}

/// Parses a Go duration flag (`30s`, `1m30s`, `750ms`).
///
/// # Errors
/// The parse error of [`sluice_api::meta::parse_duration`] as text.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    sluice_api::meta::parse_duration(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        runtime: Args,
    }

    fn parse(args: &[&str]) -> Args {
        let mut argv = vec!["controller"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("flags parse").runtime
    }

    #[test]
    fn defaults_match_upstream() {
        let args = parse(&[]);
        assert_eq!(args.metrics_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(args.health_addr, "0.0.0.0:9440".parse().unwrap());
        assert!(!args.enable_leader_election);
        assert!(args.watch_all_namespaces);
        assert_eq!(args.requeue_dependency, Duration::from_secs(30));
        assert_eq!(args.events_endpoint(), None);
        assert_eq!(args.log_encoding, LogEncoding::Json);
    }

    #[test]
    fn flux_install_manifest_arguments_are_accepted() {
        let args = parse(&[
            "--events-addr=http://notification-controller.flux-system.svc.cluster.local./",
            "--watch-all-namespaces=false",
            "--log-level=debug",
            "--log-encoding=json",
            "--enable-leader-election",
            "--concurrent=10",
            "--requeue-dependency=5s",
        ]);
        assert_eq!(
            args.events_endpoint(),
            Some("http://notification-controller.flux-system.svc.cluster.local./")
        );
        assert!(!args.watch_all_namespaces);
        assert_eq!(
            args.watch_namespace(),
            Some(args.runtime_namespace.as_str())
        );
        assert_eq!(args.log_level, LogLevel::Debug);
        assert!(args.enable_leader_election);
        assert_eq!(args.concurrent, 10);
        assert_eq!(args.requeue_dependency, Duration::from_secs(5));
    }

    #[test]
    fn go_boolean_spellings_are_accepted() {
        assert!(parse(&["--enable-leader-election=true"]).enable_leader_election);
        assert!(!parse(&["--enable-leader-election=false"]).enable_leader_election);
        assert!(parse(&["--no-cross-namespace-refs"]).no_cross_namespace_refs);
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        let err = Cli::try_parse_from(["controller", "--requeue-dependency=soon"]).unwrap_err();
        assert!(err.to_string().contains("--requeue-dependency"), "{err}");
        let err = Cli::try_parse_from(["controller", "--metrics-addr=8080"]).unwrap_err();
        assert!(err.to_string().contains("--metrics-addr"), "{err}");
    }
}
