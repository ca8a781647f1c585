//! Shared harness of the OCIRepository and Bucket tests: a local control plane with the
//! CRDs, a storage root served by the artifact server, a [`Context`] around them, a
//! reconcile driver, and the condition invariants of reference §0.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Event, Secret};
use kube::api::{ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sluice_api::meta::conditions::{self, RECONCILING, STALLED};
use sluice_api::meta::{Artifact, FINALIZER, ObjectWithConditions};
use sluice_runtime::artifact::{ArtifactFetcher, Digest};
use sluice_runtime::{EventRecorder, Metrics};
use sluice_source_controller::common::SourceObject;
use sluice_source_controller::storage::Storage;
use sluice_source_controller::{Context, Error, Options};
use tokio_util::sync::CancellationToken;

/// The namespace the tests work in.
pub const NS: &str = "default";

/// A control plane, a served storage root and a context.
pub struct Harness {
    pub server: sluice_apiserver::testing::TestServer,
    pub client: Client,
    pub context: Arc<Context>,
    pub storage_dir: tempfile::TempDir,
    shutdown: CancellationToken,
}

impl Harness {
    /// Starts everything; the artifact server listens on a free port that is also the
    /// advertised address.
    pub async fn start() -> Self {
        let crds: Vec<serde_json::Value> = sluice_api::crds::all()
            .into_iter()
            .map(|crd| serde_json::to_value(crd).unwrap())
            .collect();
        let server = sluice_apiserver::testing::start(&crds).await.unwrap();
        let client = server.client().await.unwrap();
        let storage_dir = tempfile::tempdir().unwrap();
        let root = storage_dir.path().join("data");
        std::fs::create_dir_all(&root).unwrap();
        let shutdown = CancellationToken::new();
        let bound = sluice_source_controller::server::serve(
            "127.0.0.1:0".parse().unwrap(),
            root.clone(),
            shutdown.clone(),
        )
        .await
        .unwrap();
        let options = Options::try_parse_from([
            "source-controller".to_owned(),
            format!("--storage-path={}", root.display()),
            format!("--storage-adv-addr={bound}"),
            "--watch-all-namespaces=true".to_owned(),
        ])
        .unwrap();
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

    /// The storage root.
    pub fn root(&self) -> PathBuf {
        self.storage_dir.path().join("data")
    }

    /// Creates a Secret with `data` in [`NS`].
    pub async fn secret(&self, name: &str, type_: &str, data: &[(&str, &[u8])]) {
        let secret = Secret {
            metadata: kube::api::ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(NS.to_owned()),
                ..Default::default()
            },
            type_: Some(type_.to_owned()),
            data: Some(
                data.iter()
                    .map(|(k, v)| ((*k).to_owned(), ByteString(v.to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        };
        Api::<Secret>::namespaced(self.client.clone(), NS)
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
    }

    /// Creates `object` in [`NS`].
    pub async fn create<K>(&self, object: &K) -> K
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + Serialize
            + std::fmt::Debug,
    {
        Api::<K>::namespaced(self.client.clone(), NS)
            .create(&PostParams::default(), object)
            .await
            .unwrap()
    }

    /// Reads an object back.
    pub async fn get<K>(&self, name: &str) -> K
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        Api::<K>::namespaced(self.client.clone(), NS)
            .get(name)
            .await
            .unwrap()
    }

    /// Reconciles `name` once with `reconcile`, as the controller would after a watch
    /// event; returns the result and the object as stored afterwards.
    pub async fn reconcile<K, F, Fut>(&self, name: &str, reconcile: F) -> (Result<Action, Error>, K)
    where
        K: SourceObject + Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        F: Fn(Arc<K>, Arc<Context>) -> Fut,
        Fut: Future<Output = Result<Action, Error>>,
    {
        let object: K = self.get(name).await;
        let result = reconcile(Arc::new(object), self.context.clone()).await;
        let after: K = self.get(name).await;
        (result, after)
    }

    /// Reconciles until the finalizer is there and one full reconcile ran; checks the
    /// condition invariants on the result.
    pub async fn reconcile_fully<K, F, Fut>(
        &self,
        name: &str,
        reconcile: F,
    ) -> (Result<Action, Error>, K)
    where
        K: SourceObject + Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        F: Fn(Arc<K>, Arc<Context>) -> Fut,
        Fut: Future<Output = Result<Action, Error>>,
    {
        let current: K = self.get(name).await;
        if !current.finalizers().iter().any(|f| f == FINALIZER) {
            let (first, after) = self.reconcile(name, &reconcile).await;
            first.expect("adding the finalizer succeeds");
            assert!(after.finalizers().iter().any(|f| f == FINALIZER));
        }
        let (result, after) = self.reconcile(name, &reconcile).await;
        assert_invariants(&after);
        (result, after)
    }

    /// The Kubernetes Events recorded about `name`: (type, reason, message).
    pub async fn events(&self, name: &str) -> Vec<(String, String, String)> {
        let events = Api::<Event>::namespaced(self.client.clone(), NS)
            .list(&ListParams::default())
            .await
            .unwrap();
        events
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

    /// Downloads the artifact over HTTP from its URL, checks the digest, and extracts
    /// it; returns the files (relative path → contents).
    pub async fn fetch_artifact(&self, artifact: &Artifact) -> BTreeMap<String, Vec<u8>> {
        let (dir, _) = ArtifactFetcher::new()
            .retries(0)
            .fetch_to_temp_dir(&artifact.url, &artifact.digest)
            .await
            .unwrap();
        read_tree(dir.path())
    }

    /// The bytes of the artifact file in storage.
    pub fn stored_bytes(&self, artifact: &Artifact) -> Vec<u8> {
        std::fs::read(self.root().join(&artifact.path)).unwrap()
    }

    /// Every regular file under the storage root (relative paths), and asserts that
    /// nothing was written in the parent of the root (the temporary directory the tests
    /// made), i.e. outside the storage.
    pub fn stored_files(&self) -> Vec<String> {
        let mut files: Vec<String> = read_tree(&self.root()).into_keys().collect();
        files.sort();
        let outside: Vec<_> = std::fs::read_dir(self.storage_dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            outside,
            vec!["data".to_owned()],
            "files outside the storage root"
        );
        files
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Regular files under `dir`, by `/`-separated relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.is_file() {
                let relative = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    out
}

/// The condition invariants of reference §0, checked on an object at rest with the
/// shared checker of `tests/common` and the kind's negative-polarity conditions.
pub fn assert_invariants<K: SourceObject>(object: &K) {
    let status = object.status().expect("a reconciled object has a status");
    crate::common::assert_condition_invariants(object, status, K::SUMMARY.negative_polarity);
    for c in status.conditions() {
        if [RECONCILING, STALLED].contains(&c.type_.as_str()) {
            assert_eq!(c.status, "True", "{} is only present when True", c.type_);
        }
    }
}

/// `(status, reason, message)` of condition `type_`.
pub fn condition<K: SourceObject>(object: &K, type_: &str) -> Option<(String, String, String)> {
    object
        .status()
        .and_then(|s| conditions::find(s.conditions(), type_))
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Asserts the artifact's digest is the sha256 of the stored bytes.
pub fn assert_digest(bytes: &[u8], artifact: &Artifact) {
    assert_eq!(Digest::sha256_of(bytes).to_string(), artifact.digest);
    assert_eq!(artifact.size, Some(bytes.len() as i64));
}
