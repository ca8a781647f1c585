//! What the source-controller's integration tests share: a local control plane with the
//! CRDs, a storage directory served over HTTP, a [`Context`] around them, and the
//! condition invariants of the reference (§0) every test checks.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::collections::BTreeMap;
use std::sync::Arc;

use clap::Parser;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client, Resource};
use sluice_api::meta::conditions::{
    self, ARTIFACT_OUTDATED, FETCH_FAILED, INCLUDE_UNAVAILABLE, KStatus, READY, RECONCILING,
    STALLED, STORAGE_OPERATION_FAILED, find, is_true,
};
use sluice_api::meta::{Condition, FluxStatus, ObjectWithConditions};
use sluice_apiserver::testing::TestServer;
use sluice_runtime::{EventRecorder, Metrics};
use sluice_source_controller::storage::Storage;
use sluice_source_controller::{Context, Options};
use tokio_util::sync::CancellationToken;

/// The namespace the tests work in.
pub const NAMESPACE: &str = "default";

/// A control plane, a served storage and the controller's context.
pub struct Harness {
    pub server: TestServer,
    pub client: Client,
    pub context: Arc<Context>,
    pub storage_dir: tempfile::TempDir,
    shutdown: CancellationToken,
}

impl Harness {
    /// Starts everything; `flags` are extra controller flags.
    pub async fn start(flags: &[&str]) -> Self {
        let crds: Vec<serde_json::Value> = sluice_api::crds::all()
            .into_iter()
            .map(|crd| serde_json::to_value(crd).unwrap())
            .collect();
        let server = sluice_apiserver::testing::start(&crds).await.unwrap();
        let client = server.client().await.unwrap();
        let storage_dir = tempfile::tempdir().unwrap();
        let shutdown = CancellationToken::new();
        let bound = sluice_source_controller::server::serve(
            "127.0.0.1:0".parse().unwrap(),
            storage_dir.path().to_owned(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        let storage_path = storage_dir.path().display().to_string();
        let adv = bound.to_string();
        let mut argv = vec![
            "source-controller",
            "--storage-path",
            &storage_path,
            "--storage-adv-addr",
            &adv,
        ];
        argv.extend_from_slice(flags);
        let options = Options::try_parse_from(argv).unwrap();
        let storage = Storage::new(options.storage_options().unwrap()).unwrap();
        let events = EventRecorder::new(client.clone(), "source-controller", "test", None);
        let context =
            Context::with_parts(client.clone(), events, Metrics::new(), storage, options).unwrap();
        Self {
            server,
            client,
            context: Arc::new(context),
            storage_dir,
            shutdown,
        }
    }

    /// Creates a Secret with `data` in the test namespace.
    pub async fn secret(&self, name: &str, data: &[(&str, &str)]) {
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), NAMESPACE);
        let mut secret = Secret::default();
        secret.metadata.name = Some(name.to_owned());
        secret.data = Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.as_bytes().to_vec())))
                .collect::<BTreeMap<_, _>>(),
        );
        match secrets.get_opt(name).await.unwrap() {
            Some(existing) => {
                secret.metadata.resource_version = existing.metadata.resource_version;
                secrets
                    .replace(name, &PostParams::default(), &secret)
                    .await
                    .unwrap();
            }
            None => {
                secrets
                    .create(&PostParams::default(), &secret)
                    .await
                    .unwrap();
            }
        }
    }

    /// The events recorded about the object `name`, as `(type, reason, message)`.
    pub async fn events_for(&self, name: &str) -> Vec<(String, String, String)> {
        let events: Api<Event> = Api::namespaced(self.client.clone(), NAMESPACE);
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .map(|e| {
                (
                    e.type_.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    e.message.unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Stops the artifact server and the control plane.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.server.stop().await;
    }
}

/// The condition `type_` of `status`, which must be present.
pub fn condition<'a, S: ObjectWithConditions>(status: &'a S, type_: &str) -> &'a Condition {
    find(status.conditions(), type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {:#?}", status.conditions()))
}

/// The condition invariants upstream's test checker enforces (reference §0), for an
/// object at rest after a reconcile.
pub fn assert_condition_invariants<K, S>(object: &K, status: &S, negative_polarity: &[&str])
where
    K: Resource,
    S: FluxStatus,
{
    let conds = status.conditions();
    let generation = object.meta().generation;
    let ready = find(conds, READY).unwrap_or_else(|| panic!("Ready is missing: {conds:#?}"));
    for type_ in negative_polarity {
        if is_true(conds, type_) {
            assert_ne!(
                ready.status, "True",
                "{type_}=True but Ready=True: {conds:#?}"
            );
        }
    }
    if is_true(conds, RECONCILING) {
        assert_ne!(
            ready.status, "True",
            "Reconciling=True but Ready=True: {conds:#?}"
        );
    }
    if is_true(conds, STALLED) {
        assert_eq!(
            ready.status, "False",
            "Stalled=True but Ready not False: {conds:#?}"
        );
    }
    assert!(
        !(is_true(conds, RECONCILING) && is_true(conds, STALLED)),
        "both Reconciling and Stalled: {conds:#?}"
    );
    if let (Some(observed), Some(generation)) = (status.observed_generation(), generation) {
        assert!(
            observed <= generation,
            "observedGeneration {observed} > generation {generation}"
        );
    }
    if ready.status == "True" {
        for c in conds {
            assert_eq!(
                c.observed_generation,
                status.observed_generation(),
                "{} has another observedGeneration than the status: {conds:#?}",
                c.type_
            );
        }
        // A ready object reconciled for its generation is Current for kstatus (a
        // suspended one keeps the status of its last reconciled generation).
        if status.observed_generation() == generation {
            assert_eq!(
                conditions::kstatus(conds, generation, status.observed_generation()),
                KStatus::Current
            );
        }
    }
    if ready.status == "Unknown" {
        assert!(
            is_true(conds, RECONCILING),
            "Ready=Unknown without Reconciling: {conds:#?}"
        );
    }
}

/// The negative-polarity conditions of GitRepository.
pub const GIT_NEGATIVE: &[&str] = &[
    STORAGE_OPERATION_FAILED,
    FETCH_FAILED,
    INCLUDE_UNAVAILABLE,
    ARTIFACT_OUTDATED,
    STALLED,
];
