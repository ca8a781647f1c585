//! Reconcile plumbing shared by every controller: how errors are classified, how that
//! becomes a requeue [`Action`], and the per-object retry backoff.
//!
//! Controllers define one `thiserror` enum per crate and implement [`ReconcileError`] on
//! it; the classification is the one place that decides whether a failure is retried with
//! backoff ([`ErrorClass::Transient`]), retried after the dependency interval
//! ([`ErrorClass::Waiting`]), or left alone until the spec changes
//! ([`ErrorClass::Stalled`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use kube::runtime::controller::Action;
use rand::Rng;

/// How a reconcile failure is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Something outside the spec failed (network, API server, upstream): retry with
    /// exponential backoff.
    Transient,
    /// A dependency is not ready yet: retry after `--requeue-dependency`, without
    /// counting it as a failure.
    Waiting,
    /// The spec can never work as written: no retry until the object changes.
    Stalled,
}

/// Implemented by each controller's error enum.
pub trait ReconcileError: std::error::Error + Send + Sync + 'static {
    /// How this failure is retried.
    fn class(&self) -> ErrorClass;
    /// The condition reason (UpperCamelCase) recorded in `Ready` and in the event.
    fn reason(&self) -> &str;
}

/// Per-object exponential backoff with jitter, as controller-runtime's rate limiter does:
/// the n-th consecutive failure waits `min * 2^(n-1)`, capped at `max`, then spread by
/// ±10% so that objects failing together do not retry in lockstep.
#[derive(Debug)]
pub struct RetryBackoff<K> {
    min: Duration,
    max: Duration,
    failures: Mutex<HashMap<K, u32>>,
}

impl<K: Eq + Hash> RetryBackoff<K> {
    /// A backoff between `min` and `max` (the `--min-retry-delay` and `--max-retry-delay`
    /// flags).
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records one more failure of `key` and returns how long to wait before retrying.
    pub fn next_delay(&self, key: K) -> Duration {
        let attempt = {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let count = failures.entry(key).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        jitter(self.base_delay(attempt), 0.1)
    }

    /// Forgets the failures of `key`, after a successful reconcile or a deletion.
    pub fn reset(&self, key: &K) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// The delay of the given 1-based attempt, without jitter.
    fn base_delay(&self, attempt: u32) -> Duration {
        let factor = 2u32
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.min
            .checked_mul(factor)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// Spreads `base` uniformly by ±`fraction` (0.05 = ±5%), as Flux's
/// `--interval-jitter-percentage` does for successful requeues.
pub fn jitter(base: Duration, fraction: f64) -> Duration {
    if base.is_zero() || fraction <= 0.0 {
        return base;
    }
    let spread = rand::rng().random_range(-fraction..=fraction);
    base.mul_f64(1.0 + spread)
}

/// Turns a failed reconcile into the next [`Action`]: backoff for transient errors, the
/// dependency interval for waiting ones, and no requeue for stalled ones (the watch wakes
/// the object up when its spec changes).
///
/// This is the `error_policy` every controller passes to `kube::runtime::Controller::run`
/// (through a one-line closure that picks the backoff and interval from its context).
pub fn error_policy<E: ReconcileError, K: Eq + Hash>(
    error: &E,
    key: K,
    backoff: &RetryBackoff<K>,
    requeue_dependency: Duration,
) -> Action {
    match error.class() {
        ErrorClass::Transient => Action::requeue(backoff.next_delay(key)),
        ErrorClass::Waiting => Action::requeue(requeue_dependency),
        ErrorClass::Stalled => Action::await_change(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{0:?}")]
    struct TestError(ErrorClass);

    impl ReconcileError for TestError {
        fn class(&self) -> ErrorClass {
            self.0
        }
        fn reason(&self) -> &str {
            "TestFailed"
        }
    }

    fn within(d: Duration, base: Duration) -> bool {
        d >= base.mul_f64(0.89) && d <= base.mul_f64(1.11)
    }

    #[test]
    fn transient_failures_back_off_exponentially_up_to_the_cap() {
        let backoff = RetryBackoff::new(Duration::from_millis(750), Duration::from_secs(5));
        let delays: Vec<_> = (0..6).map(|_| backoff.next_delay("a")).collect();
        let bases = [750, 1500, 3000, 5000, 5000, 5000].map(Duration::from_millis);
        for (delay, base) in delays.iter().zip(bases) {
            assert!(within(*delay, base), "{delay:?} not within 10% of {base:?}");
        }
    }

    #[test]
    fn backoff_is_per_object_and_resets_after_success() {
        let backoff = RetryBackoff::new(Duration::from_secs(1), Duration::from_secs(60));
        backoff.next_delay("a");
        backoff.next_delay("a");
        assert!(within(backoff.next_delay("b"), Duration::from_secs(1)));
        backoff.reset(&"a");
        assert!(within(backoff.next_delay("a"), Duration::from_secs(1)));
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let backoff: RetryBackoff<&str> =
            RetryBackoff::new(Duration::from_secs(1), Duration::from_secs(900));
        assert_eq!(backoff.base_delay(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn error_classes_map_to_actions() {
        let backoff = RetryBackoff::new(Duration::from_secs(2), Duration::from_secs(60));
        let dependency = Duration::from_secs(30);
        assert_eq!(
            error_policy(&TestError(ErrorClass::Waiting), "a", &backoff, dependency),
            Action::requeue(dependency)
        );
        assert_eq!(
            error_policy(&TestError(ErrorClass::Stalled), "a", &backoff, dependency),
            Action::await_change()
        );
        let transient = error_policy(&TestError(ErrorClass::Transient), "a", &backoff, dependency);
        assert_ne!(transient, Action::await_change());
        assert_ne!(transient, Action::requeue(dependency));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(100), 0.05);
            assert!(d >= Duration::from_secs(95) && d <= Duration::from_secs(105));
        }
        assert_eq!(jitter(Duration::ZERO, 0.05), Duration::ZERO);
    }
}
