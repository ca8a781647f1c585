//! Prometheus metrics with Flux's names, served on `/metrics` in the text format.

use std::time::Duration;

use prometheus::{Encoder, GaugeVec, HistogramOpts, HistogramVec, Opts, Registry, TextEncoder};
use sluice_api::meta::Condition;

/// The metrics every controller exports.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    reconcile_duration: HistogramVec,
    reconcile_condition: GaugeVec,
    suspend_status: GaugeVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates the registry with `gotk_reconcile_duration_seconds`,
    /// `gotk_reconcile_condition`, `gotk_suspend_status` and the process collector
    /// (`process_resident_memory_bytes`, CPU, file descriptors).
    pub fn new() -> Self {
        let registry = Registry::new();
        // Flux: exponential buckets from 10ms to 30m, 10 buckets.
        let buckets = exponential_buckets_range(0.01, 1800.0, 10);
        let reconcile_duration = HistogramVec::new(
            HistogramOpts::new(
                "gotk_reconcile_duration_seconds",
                "The duration in seconds of a GitOps Toolkit resource reconciliation.",
            )
            .buckets(buckets),
            &["kind", "name", "namespace"],
        )
        .expect("static metric definition is valid");
        let reconcile_condition = GaugeVec::new(
            Opts::new(
                "gotk_reconcile_condition",
                "The current condition status of a GitOps Toolkit resource reconciliation.",
            ),
            &["kind", "name", "namespace", "type", "status"],
        )
        .expect("static metric definition is valid");
        let suspend_status = GaugeVec::new(
            Opts::new(
                "gotk_suspend_status",
                "The current suspend status of a GitOps Toolkit resource.",
            ),
            &["kind", "name", "namespace"],
        )
        .expect("static metric definition is valid");
        for collector in [
            Box::new(reconcile_duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(reconcile_condition.clone()),
            Box::new(suspend_status.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("process collector registers once");
        Self {
            registry,
            reconcile_duration,
            reconcile_condition,
            suspend_status,
        }
    }

    /// Records how long one reconcile of an object took.
    pub fn observe_reconcile(&self, kind: &str, namespace: &str, name: &str, took: Duration) {
        self.reconcile_duration
            .with_label_values(&[kind, name, namespace])
            .observe(took.as_secs_f64());
    }

    /// Records the object's `Ready`, `Reconciling` and `Stalled` conditions: 1 for the
    /// current status of each, 0 for the others.
    pub fn record_conditions(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        conditions: &[Condition],
    ) {
        use sluice_api::meta::conditions::{READY, RECONCILING, STALLED, find};
        for type_ in [READY, RECONCILING, STALLED] {
            let current = find(conditions, type_).map(|c| c.status.as_str());
            for status in ["True", "False", "Unknown", "Deleted"] {
                let value = if current == Some(status) { 1.0 } else { 0.0 };
                self.reconcile_condition
                    .with_label_values(&[kind, name, namespace, type_, status])
                    .set(value);
            }
        }
    }

    /// Records whether the object is suspended.
    pub fn record_suspend(&self, kind: &str, namespace: &str, name: &str, suspended: bool) {
        self.suspend_status
            .with_label_values(&[kind, name, namespace])
            .set(if suspended { 1.0 } else { 0.0 });
    }

    /// Drops every series of a deleted object.
    pub fn forget(&self, kind: &str, namespace: &str, name: &str) {
        let _ = self
            .reconcile_duration
            .remove_label_values(&[kind, name, namespace]);
        let _ = self
            .suspend_status
            .remove_label_values(&[kind, name, namespace]);
        for type_ in ["Ready", "Reconciling", "Stalled"] {
            for status in ["True", "False", "Unknown", "Deleted"] {
                let _ = self
                    .reconcile_condition
                    .remove_label_values(&[kind, name, namespace, type_, status]);
            }
        }
    }

    /// The registry, for controllers that add their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail on I/O; a collector error would be a bug.
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(%error, "could not encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The Content-Type of [`Metrics::render`].
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `count` buckets growing exponentially from `min` to `max`, as Prometheus'
/// `ExponentialBucketsRange` computes them.
fn exponential_buckets_range(min: f64, max: f64, count: u16) -> Vec<f64> {
    let factor = (max / min).powf(1.0 / f64::from(count - 1));
    (0..count)
        .map(|i| min * factor.powi(i32::from(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconcile_durations_are_exported_with_flux_labels() {
        let metrics = Metrics::new();
        metrics.observe_reconcile(
            "GitRepository",
            "flux-system",
            "podinfo",
            Duration::from_millis(120),
        );
        let text = metrics.render();
        assert!(
            text.contains("# TYPE gotk_reconcile_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(r#"gotk_reconcile_duration_seconds_count{kind="GitRepository",name="podinfo",namespace="flux-system"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn buckets_span_ten_milliseconds_to_thirty_minutes() {
        let buckets = exponential_buckets_range(0.01, 1800.0, 10);
        assert_eq!(buckets.len(), 10);
        assert!((buckets[0] - 0.01).abs() < 1e-12);
        assert!((buckets[9] - 1800.0).abs() < 1e-6);
        assert!(buckets.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn conditions_and_suspension_are_exported_and_forgotten() {
        let metrics = Metrics::new();
        let mut conditions = Vec::new();
        sluice_api::meta::conditions::mark_ready(&mut conditions, "Succeeded", "ok", Some(1));
        metrics.record_conditions("Bucket", "apps", "b", &conditions);
        metrics.record_suspend("Bucket", "apps", "b", true);
        let text = metrics.render();
        assert!(text.contains(r#"gotk_reconcile_condition{kind="Bucket",name="b",namespace="apps",status="True",type="Ready"} 1"#), "{text}");
        assert!(
            text.contains(r#"gotk_suspend_status{kind="Bucket",name="b",namespace="apps"} 1"#),
            "{text}"
        );
        metrics.forget("Bucket", "apps", "b");
        assert!(!metrics.render().contains(r#"name="b""#));
    }
}
