//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics, so a
//! Sluice controller and a Flux controller configured alike never both lead.
//!
//! A candidate takes the lease when it does not exist, when its holder released it (empty
//! holder), or when the lease record has not changed for a whole lease duration *as seen by
//! this candidate*: like client-go, expiry is judged on the local clock from when the
//! candidate last saw the record change, never on the holder's timestamps, so clock skew
//! between nodes cannot split the brain.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::PostParams;
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

/// Timings and names of an election.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    /// Lease name, `<controller>-leader-election` for Flux controllers.
    pub name: String,
    /// Namespace of the lease (the runtime namespace).
    pub namespace: String,
    /// This candidate's identity, unique per process.
    pub identity: String,
    /// How long a lease lasts without renewal (Flux: 35s).
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before giving up (Flux: 30s).
    pub renew_deadline: Duration,
    /// Pause between attempts (Flux: 5s).
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// Flux's settings for `controller`: lease `<controller>-leader-election`, 35s/30s/5s.
    pub fn flux_defaults(controller: &str, namespace: &str, identity: &str) -> Self {
        Self {
            name: format!("{controller}-leader-election"),
            namespace: namespace.to_owned(),
            identity: identity.to_owned(),
            lease_duration: Duration::from_secs(35),
            renew_deadline: Duration::from_secs(30),
            retry_period: Duration::from_secs(5),
        }
    }
}

/// Why a term of leadership ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermEnd {
    /// The lease could not be renewed within the renew deadline: another candidate may lead
    /// now, so this process must stop reconciling.
    Lost,
    /// Shutdown was requested and the lease was released for the next candidate.
    Released,
}

/// Campaigns for and holds one lease.
#[derive(Debug)]
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaseConfig,
    /// The last lease record seen (its resourceVersion) and when this candidate saw it.
    observed: Mutex<Option<(String, Instant)>>,
}

impl LeaderElector {
    /// An elector for `config.name` in `config.namespace`.
    pub fn new(client: Client, config: LeaseConfig) -> Self {
        let api = Api::namespaced(client, &config.namespace);
        Self {
            api,
            config,
            observed: Mutex::new(None),
        }
    }

    /// Waits until this candidate holds the lease. Returns `false` if `cancel` fired first.
    /// API errors are logged and retried: a candidate keeps campaigning through outages.
    pub async fn acquire(&self, cancel: &CancellationToken) -> bool {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(lease = %self.config.name, identity = %self.config.identity, "acquired leadership");
                    return true;
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, lease = %self.config.name, "leader election attempt failed")
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(self.config.retry_period) => {}
            }
        }
    }

    /// Renews the lease every retry period until it cannot be renewed for the renew
    /// deadline ([`TermEnd::Lost`]) or `cancel` fires ([`TermEnd::Released`], after
    /// releasing the lease).
    pub async fn hold(&self, cancel: &CancellationToken) -> TermEnd {
        let mut last_renewed = Instant::now();
        loop {
            tokio::select! {
                () = cancel.cancelled() => {
                    if let Err(error) = self.release().await {
                        tracing::warn!(%error, lease = %self.config.name, "could not release leadership");
                    }
                    return TermEnd::Released;
                }
                () = tokio::time::sleep(self.config.retry_period) => {}
            }
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renewed = Instant::now(),
                Ok(false) => {
                    tracing::error!(lease = %self.config.name, "leadership taken by another candidate");
                    return TermEnd::Lost;
                }
                Err(error) => {
                    tracing::warn!(%error, lease = %self.config.name, "could not renew leadership")
                }
            }
            if last_renewed.elapsed() > self.config.renew_deadline {
                tracing::error!(lease = %self.config.name, "leadership lost: renew deadline exceeded");
                return TermEnd::Lost;
            }
        }
    }

    /// One round of the election: creates, renews or takes over the lease. Returns whether
    /// this candidate holds it afterwards.
    ///
    /// # Errors
    /// API errors other than the conflicts that simply mean "someone else was faster".
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = MicroTime(jiff::Timestamp::now());
        let Some(current) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(self.spec(now.clone(), now, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(error) => Err(error),
            };
        };
        let spec = current.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let record_version = current
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        let seen_at = self.observe(&record_version);
        let we_hold = holder == self.config.identity;
        let held_by_other = !holder.is_empty() && !we_hold;
        if held_by_other && seen_at.elapsed() < self.lease_duration_of(&spec) {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0);
        let (acquired_at, transitions) = if we_hold {
            (
                spec.acquire_time.clone().unwrap_or_else(|| now.clone()),
                transitions,
            )
        } else {
            (now.clone(), transitions + 1)
        };
        let mut updated = current;
        updated.spec = Some(self.spec(acquired_at, now, transitions));
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &updated)
            .await
        {
            Ok(written) => {
                self.observe(&written.metadata.resource_version.unwrap_or_default());
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Gives the lease up so the next candidate can take it at once: empty holder and a
    /// one-second duration, as client-go's `ReleaseOnCancel`.
    ///
    /// # Errors
    /// API errors; a lease held by someone else is left alone.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.config.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return Ok(());
        }
        let now = MicroTime(jiff::Timestamp::now());
        lease.spec = Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: spec.lease_transitions,
            ..Default::default()
        });
        self.api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await?;
        Ok(())
    }

    fn spec(&self, acquired_at: MicroTime, renewed_at: MicroTime, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.config.lease_duration.as_secs())
                    .unwrap_or(i32::MAX)
                    .max(1),
            ),
            acquire_time: Some(acquired_at),
            renew_time: Some(renewed_at),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    /// The duration the holder announced, or ours when it announced none.
    fn lease_duration_of(&self, spec: &LeaseSpec) -> Duration {
        spec.lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.config.lease_duration, Duration::from_secs)
    }

    /// Notes the lease record version and returns when this candidate first saw it.
    fn observe(&self, record_version: &str) -> Instant {
        let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        match observed.as_ref() {
            Some((version, at)) if version == record_version => *at,
            _ => {
                let at = Instant::now();
                *observed = Some((record_version.to_owned(), at));
                at
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{expect, json_response, mock_client, status_response};
    use serde_json::json;

    const PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/flux-system/leases/source-controller-leader-election";
    const COLLECTION: &str = "/apis/coordination.k8s.io/v1/namespaces/flux-system/leases";

    fn elector(client: Client) -> LeaderElector {
        let mut config = LeaseConfig::flux_defaults("source-controller", "flux-system", "me");
        config.retry_period = Duration::from_millis(10);
        config.renew_deadline = Duration::from_millis(60);
        LeaderElector::new(client, config)
    }

    fn lease(holder: &str, version: &str, transitions: i32) -> serde_json::Value {
        json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "source-controller-leader-election", "namespace": "flux-system", "resourceVersion": version},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": 1, "leaseTransitions": transitions,
                     "acquireTime": "2026-11-22T00:00:00.000000Z", "renewTime": "2026-11-22T00:00:00.000000Z"}
        })
    }

    #[tokio::test]
    async fn a_missing_lease_is_created_and_held() {
        let (client, mut server) = mock_client();
        let elector = elector(client);
        let api = tokio::spawn(async move {
            let (_, respond) = expect(&mut server, "GET", PATH).await;
            respond.send_response(status_response(404, "NotFound"));
            let (body, respond) = expect(&mut server, "POST", &format!("{COLLECTION}?")).await;
            assert_eq!(body["spec"]["holderIdentity"], "me");
            assert_eq!(body["spec"]["leaseDurationSeconds"], 35);
            assert_eq!(body["spec"]["leaseTransitions"], 0);
            respond.send_response(json_response(201, &lease("me", "1", 0)));
        });
        assert!(elector.try_acquire_or_renew().await.unwrap());
        api.await.unwrap();
    }

    #[tokio::test]
    async fn a_lease_held_by_another_candidate_is_respected_until_it_goes_stale() {
        let (client, mut server) = mock_client();
        let elector = elector(client);
        let api = tokio::spawn(async move {
            let (_, respond) = expect(&mut server, "GET", PATH).await;
            respond.send_response(json_response(200, &lease("other", "7", 3)));
            // Same record a lease duration later: the holder stopped renewing.
            let (_, respond) = expect(&mut server, "GET", PATH).await;
            respond.send_response(json_response(200, &lease("other", "7", 3)));
            let (body, respond) = expect(&mut server, "PUT", &format!("{PATH}?")).await;
            assert_eq!(body["spec"]["holderIdentity"], "me");
            assert_eq!(body["spec"]["leaseTransitions"], 4);
            assert_eq!(
                body["metadata"]["resourceVersion"], "7",
                "takeover is conditional on the record seen"
            );
            respond.send_response(json_response(200, &lease("me", "8", 4)));
        });
        assert!(!elector.try_acquire_or_renew().await.unwrap());
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(elector.try_acquire_or_renew().await.unwrap());
        api.await.unwrap();
    }

    #[tokio::test]
    async fn losing_a_takeover_race_is_not_an_error() {
        let (client, mut server) = mock_client();
        let elector = elector(client);
        let api = tokio::spawn(async move {
            let (_, respond) = expect(&mut server, "GET", PATH).await;
            respond.send_response(json_response(200, &lease("", "2", 1)));
            let (_, respond) = expect(&mut server, "PUT", &format!("{PATH}?")).await;
            respond.send_response(status_response(409, "Conflict"));
        });
        assert!(!elector.try_acquire_or_renew().await.unwrap());
        api.await.unwrap();
    }

    #[tokio::test]
    async fn leadership_is_lost_when_renewals_fail_past_the_deadline() {
        let (client, mut server) = mock_client();
        let elector = elector(client);
        let api = tokio::spawn(async move {
            while let Some((_, respond)) = server.next_request().await {
                respond.send_response(status_response(500, "InternalError"));
            }
        });
        let end = elector.hold(&CancellationToken::new()).await;
        assert_eq!(end, TermEnd::Lost);
        drop(elector);
        api.abort();
    }

    #[tokio::test]
    async fn shutdown_releases_the_lease_for_the_next_candidate() {
        let (client, mut server) = mock_client();
        let elector = elector(client);
        let api = tokio::spawn(async move {
            let (_, respond) = expect(&mut server, "GET", PATH).await;
            respond.send_response(json_response(200, &lease("me", "5", 2)));
            let (body, respond) = expect(&mut server, "PUT", &format!("{PATH}?")).await;
            assert!(
                body["spec"].get("holderIdentity").is_none()
                    || body["spec"]["holderIdentity"].is_null()
            );
            assert_eq!(body["spec"]["leaseDurationSeconds"], 1);
            assert_eq!(body["spec"]["leaseTransitions"], 2);
            respond.send_response(json_response(200, &lease("", "6", 2)));
        });
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert_eq!(elector.hold(&cancel).await, TermEnd::Released);
        api.await.unwrap();
    }
}
