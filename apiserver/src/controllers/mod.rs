//! The controllers a real cluster runs and clients rely on, running inside the server:
//! the garbage collector (owner references, foreground and orphan deletion), namespace
//! deletion, and a workload simulator in the spirit of kwok (Deployments, ReplicaSets,
//! StatefulSets, DaemonSets, Jobs, CronJobs, a kubelet for one fake node, Service cluster
//! IPs and Endpoints).
//!
//! They run on a thread of their own with a single-threaded runtime: one task watches the
//! whole store and turns changes into work items (deduplicated, possibly delayed), and
//! reconciles them one at a time through [`Backend`], like any other client would write.
//! Every reconcile is level-triggered: it reads the current state and moves it one step
//! towards the desired one, so missed or repeated events do no harm. After a lagging watch
//! everything is resynchronised from a full scan.
//!
//! Test hooks on pod templates (see [`READY_AFTER`]): an image name containing `fail` keeps
//! pods from becoming ready (pods of Jobs fail), and the annotation
//! `sluice.dev/ready-after: 5s` delays readiness (or, for pods that run to completion,
//! completion).

mod cron;
mod cronjob;
mod daemonset;
mod defaults;
mod deployment;
mod endpoints;
mod gc;
mod ipam;
mod job;
mod kubelet;
mod namespace;
mod queue;
mod replicaset;
mod revisions;
mod statefulset;
mod util;
mod workload;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use serde::Deserialize;
use serde_json::Value;

use crate::backend::{Backend, DeleteOptions, Part, Propagation, WriteOptions};
use crate::errors::ApiError;
use crate::resources::{Codec, ResourceType};
use crate::store::{EventType, StoreError, Watch};

pub use defaults::{prepare_create, prepare_update};
pub use kubelet::{HOST_IP, NODE_NAME, READY_AFTER};

use queue::WorkQueue;

/// A controller step failed.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// Reading an object failed.
    #[error("cannot read {what}: {source}")]
    Read {
        /// What was read.
        what: String,
        /// Why it failed.
        #[source]
        source: ApiError,
    },
    /// Creating an object failed.
    #[error("cannot create {what}: {source}")]
    Create {
        /// What was created.
        what: String,
        /// Why it failed.
        #[source]
        source: ApiError,
    },
    /// Updating an object (or its status) failed.
    #[error("cannot update {what}: {source}")]
    Update {
        /// What was updated.
        what: String,
        /// Why it failed.
        #[source]
        source: ApiError,
    },
    /// Deleting an object failed.
    #[error("cannot delete {what}: {source}")]
    Delete {
        /// What was deleted.
        what: String,
        /// Why it failed.
        #[source]
        source: ApiError,
    },
    /// An owner reference or a built-in type names a kind that is not served.
    #[error("kind {kind} of API group {group:?} is not served")]
    UnknownKind {
        /// The API group.
        group: String,
        /// The kind (or resource).
        kind: String,
    },
    /// The store could not be watched.
    #[error("cannot watch the store: {0}")]
    Watch(#[source] StoreError),
    /// The controllers' thread could not be started.
    #[error("cannot start the controllers' thread: {0}")]
    Thread(#[source] std::io::Error),
}

impl ControllerError {
    /// Whether a retry can succeed right away (a write lost a race).
    fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::Create { source, .. } | Self::Update { source, .. } | Self::Delete { source, .. }
                if source.code == 409
        )
    }
}

/// The built-in controllers of a running server; stopped with the server.
#[derive(Debug)]
pub struct Controllers {
    stop: tokio::sync::watch::Sender<bool>,
    done: tokio::sync::oneshot::Receiver<()>,
}

impl Controllers {
    /// Registers the fake node and starts the controllers on a thread of their own.
    ///
    /// # Errors
    /// When the node cannot be written, the store cannot be watched or the thread not
    /// started.
    pub fn start(backend: Arc<Backend>) -> Result<Self, ControllerError> {
        kubelet::ensure_node(&backend)?;
        // Subscribe before the first scan: nothing written in between is missed.
        let watch = backend
            .store
            .watch("", backend.revision())
            .map_err(ControllerError::Watch)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (finished, done) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("sluice-controllers".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(Ctx::new(backend), watch, stopped)),
                    Err(error) => tracing::error!(%error, "cannot start the controllers"),
                }
                let _ = finished.send(());
            })
            .map_err(ControllerError::Thread)?;
        Ok(Self { stop, done })
    }

    /// Stops the controllers and waits for the reconcile in progress to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.done.await;
    }
}

/// What a reconcile asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Nothing until something changes.
    Done,
    /// Look again after this long (a timer: readiness delays, deadlines, schedules).
    RequeueAfter(Duration),
}

impl Action {
    /// Requeue after `delay` if `delay` is some.
    fn after(delay: Option<Duration>) -> Action {
        delay.map_or(Action::Done, |d| {
            Action::RequeueAfter(d.max(Duration::from_millis(10)))
        })
    }
}

/// One unit of work: which object (or set of objects) to reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Work {
    /// Garbage collection of the object stored under this key.
    Gc(Arc<str>),
    /// A namespace's deletion.
    Namespace(String),
    /// A pod's status, as its kubelet reports it.
    Pod(String, String),
    /// A ReplicaSet's pods and status.
    ReplicaSet(String, String),
    /// A Deployment's ReplicaSets and status.
    Deployment(String, String),
    /// A StatefulSet's pods and status.
    StatefulSet(String, String),
    /// A DaemonSet's pods and status.
    DaemonSet(String, String),
    /// A Job's pods and status.
    Job(String, String),
    /// A CronJob's Jobs and status.
    CronJob(String, String),
    /// A Service's Endpoints and EndpointSlice.
    Service(String, String),
    /// Every Service of a namespace (pods there changed).
    Services(String),
    /// A PersistentVolumeClaim (bound at once).
    Claim(String, String),
}

/// The metadata a watch event is dispatched on, read without decoding the whole object.
#[derive(Debug, Default, Deserialize)]
struct Head {
    #[serde(default)]
    metadata: HeadMeta,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct HeadMeta {
    uid: Option<String>,
    deletion_timestamp: Option<String>,
    finalizers: Option<Vec<String>>,
    owner_references: Option<Vec<OwnerRef>>,
    labels: Option<BTreeMap<String, String>>,
}

/// An owner reference, as the garbage collector tracks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct OwnerRef {
    api_version: String,
    kind: String,
    name: String,
    uid: String,
    controller: Option<bool>,
    block_owner_deletion: Option<bool>,
}

impl OwnerRef {
    /// The API group of the owner's `apiVersion`.
    fn group(&self) -> &str {
        self.api_version
            .split_once('/')
            .map_or("", |(group, _)| group)
    }
}

impl Head {
    fn parse(bytes: &[u8]) -> Head {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn owners(&self) -> &[OwnerRef] {
        self.metadata
            .owner_references
            .as_deref()
            .unwrap_or_default()
    }

    fn controller(&self) -> Option<&OwnerRef> {
        self.owners().iter().find(|r| r.controller == Some(true))
    }

    fn terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
    }

    fn has_finalizer(&self, finalizer: &str) -> bool {
        self.metadata
            .finalizers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|f| f == finalizer)
    }
}

/// A store key split into its parts: `<group>/<resource>/[<namespace>/]<name>`, with
/// `core` standing for the core group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key<'a> {
    group: &'a str,
    resource: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

impl<'a> Key<'a> {
    fn parse(key: &'a str) -> Option<Key<'a>> {
        let parts: Vec<&str> = key.split('/').collect();
        let (group, resource, namespace, name) = match parts.as_slice() {
            [group, resource, namespace, name] => (*group, *resource, Some(*namespace), *name),
            [group, resource, name] => (*group, *resource, None, *name),
            _ => return None,
        };
        let group = if group == "core" { "" } else { group };
        Some(Key {
            group,
            resource,
            namespace,
            name,
        })
    }
}

/// The field manager names the built-in controllers write with.
mod managers {
    /// kube-controller-manager's controllers.
    pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
    /// The kubelet.
    pub const KUBELET: &str = "kubelet";
}

/// Everything the controllers share: the backend, the work queue and their indexes.
struct Ctx {
    backend: Arc<Backend>,
    queue: WorkQueue<Work>,
    /// The garbage collector's view of owner references.
    graph: gc::Graph,
    /// The kubelet's pod IP allocations.
    pod_ips: kubelet::PodIps,
    /// Namespaces being deleted.
    terminating: HashSet<String>,
    /// Consecutive failures per work item, for backoff.
    failures: HashMap<Work, u32>,
}

impl Ctx {
    fn new(backend: Arc<Backend>) -> Self {
        Self {
            backend,
            queue: WorkQueue::default(),
            graph: gc::Graph::default(),
            pod_ips: kubelet::PodIps::default(),
            terminating: HashSet::new(),
            failures: HashMap::new(),
        }
    }

    /// The storage type of a built-in or custom resource.
    fn rt(&self, group: &str, plural: &str) -> Result<Arc<ResourceType>, ControllerError> {
        self.backend
            .registry
            .storage_type(group, plural)
            .ok_or_else(|| ControllerError::UnknownKind {
                group: group.to_owned(),
                kind: plural.to_owned(),
            })
    }

    /// One object as stored, if it exists.
    fn get(&self, rt: &ResourceType, namespace: Option<&str>, name: &str) -> Option<Value> {
        let entry = self.backend.entry(&rt.key(namespace, name))?;
        serde_json::from_slice(&entry.value).ok()
    }

    /// Every object of a type in a namespace (or everywhere), in name order.
    fn list(&self, rt: &ResourceType, namespace: Option<&str>) -> Vec<Value> {
        let Ok(page) = self
            .backend
            .store
            .list(&rt.key_prefix(namespace), None, None, 0)
        else {
            return Vec::new();
        };
        page.items
            .iter()
            .filter_map(|(_, entry)| serde_json::from_slice(&entry.value).ok())
            .collect()
    }

    /// Creates an object.
    fn create(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        object: Value,
        manager: &str,
    ) -> Result<Value, ControllerError> {
        let what = describe(rt, namespace, util::name(&object));
        self.backend
            .create(rt, namespace, object, &options(manager))
            .map(|written| written.object)
            .map_err(|source| ControllerError::Create { what, source })
    }

    /// Changes an object (not its status) with `change`, which returns whether it changed
    /// anything. Returns the object as stored, `None` when it does not exist.
    fn update(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        manager: &str,
        change: impl FnOnce(&mut Value) -> bool,
    ) -> Result<Option<Value>, ControllerError> {
        let result = self.backend.modify(
            rt,
            namespace,
            name,
            &options(manager),
            |current| {
                let mut object = current.object.clone();
                change(&mut object);
                Ok(object)
            },
            Part::Main,
        );
        match result {
            Ok(written) => Ok(Some(written.object)),
            Err(source) if source.code == 404 => Ok(None),
            Err(source) => Err(ControllerError::Update {
                what: describe(rt, namespace, name),
                source,
            }),
        }
    }

    /// Writes `status` unless the stored status already says the same. Returns whether
    /// it wrote.
    fn write_status(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        manager: &str,
        status: Value,
    ) -> Result<bool, ControllerError> {
        let Some(mut current) = self.get(rt, namespace, name) else {
            return Ok(false);
        };
        let before = current.get("status").cloned().unwrap_or(Value::Null);
        current["status"] = status.clone();
        if normalized(rt, current).get("status") == Some(&before) {
            return Ok(false);
        }
        let result = self.backend.modify(
            rt,
            namespace,
            name,
            &options(manager),
            |current| {
                let mut object = current.object.clone();
                object["status"] = status;
                Ok(object)
            },
            Part::Status,
        );
        match result {
            Ok(_) => Ok(true),
            Err(source) if source.code == 404 => Ok(false),
            Err(source) => Err(ControllerError::Update {
                what: format!("the status of {}", describe(rt, namespace, name)),
                source,
            }),
        }
    }

    /// Deletes an object (a missing one is fine), optionally only if its uid matches.
    fn delete(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        propagation: Option<Propagation>,
        uid: Option<&str>,
    ) -> Result<(), ControllerError> {
        let options = DeleteOptions {
            propagation,
            precondition_uid: uid.map(str::to_owned),
            ..Default::default()
        };
        match self.backend.delete(rt, namespace, name, &options) {
            Ok(_) => Ok(()),
            Err(source) if source.code == 404 => Ok(()),
            Err(source) => Err(ControllerError::Delete {
                what: describe(rt, namespace, name),
                source,
            }),
        }
    }

    /// Records a core Event about `object`, as the controllers' event recorders do.
    fn event(&self, object: &Value, type_: &str, reason: &str, message: &str, component: &str) {
        let Ok(rt) = self.rt("", "events") else {
            return;
        };
        let namespace = util::str_at(object, &["metadata", "namespace"]).unwrap_or("default");
        let name = util::name(object);
        let now = util::format_time(util::now());
        let event = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": format!("{name}.{:x}", rand::random::<u64>() >> 8),
                "namespace": namespace,
            },
            "involvedObject": {
                "apiVersion": object.get("apiVersion").cloned().unwrap_or(Value::Null),
                "kind": object.get("kind").cloned().unwrap_or(Value::Null),
                "name": name,
                "namespace": namespace,
                "uid": util::uid(object),
                "resourceVersion": util::str_at(object, &["metadata", "resourceVersion"]).unwrap_or_default(),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": component,
            "reportingInstance": "",
        });
        if let Err(error) = self.create(&rt, Some(namespace), event, component) {
            tracing::debug!(%error, "cannot record an event");
        }
    }
}

/// Write options of a controller.
fn options(manager: &str) -> WriteOptions {
    WriteOptions {
        field_manager: Some(manager.to_owned()),
        ..Default::default()
    }
}

/// `deployments.apps "web"` for messages.
fn describe(rt: &ResourceType, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{} {namespace}/{name}", rt.group_resource()),
        None => format!("{} {name}", rt.group_resource()),
    }
}

/// The object as the server would store it (typed decoding of built-in kinds), so that
/// computed statuses compare equal to stored ones.
fn normalized(rt: &ResourceType, object: Value) -> Value {
    match &rt.codec {
        Codec::Builtin(decoder) => match (decoder.decode)(object.clone()) {
            Ok(decoded) => decoded.value,
            Err(_) => object,
        },
        Codec::Custom(_) => object,
    }
}

/// The controllers' loop: watch, dispatch, reconcile, until stopped.
async fn run(mut ctx: Ctx, mut watch: Watch, mut stopped: tokio::sync::watch::Receiver<bool>) {
    ctx.resync();
    loop {
        if *stopped.borrow() {
            break;
        }
        // Take in every change already delivered before working, so work coalesces.
        loop {
            match watch.next().now_or_never() {
                Some(Ok(event)) => {
                    ctx.observe(&event.key, &event.value, event.prev.as_deref(), event.kind)
                }
                Some(Err(_)) => {
                    watch = ctx.restart_watch();
                }
                None => break,
            }
        }
        if let Some(work) = ctx.queue.pop(Instant::now()) {
            // A bug in one reconcile must not stop every controller.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ctx.process(work.clone());
            }));
            if outcome.is_err() {
                tracing::error!(?work, "a reconcile panicked; retrying later");
                ctx.queue
                    .add_after(work, Duration::from_secs(30), Instant::now());
            }
            continue;
        }
        let due = ctx
            .queue
            .next_due()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            changed = stopped.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            event = watch.next() => match event {
                Ok(event) => ctx.observe(&event.key, &event.value, event.prev.as_deref(), event.kind),
                Err(_) => watch = ctx.restart_watch(),
            },
            () = tokio::time::sleep_until(due) => {}
        }
    }
}

impl Ctx {
    /// After the watch fell behind: watch again from now and rescan everything.
    fn restart_watch(&mut self) -> Watch {
        tracing::warn!("the controllers fell behind the store; resynchronising");
        loop {
            match self.backend.store.watch("", self.backend.revision()) {
                Ok(watch) => {
                    self.resync();
                    return watch;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot watch the store");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Rebuilds every index from a full scan and queues everything.
    fn resync(&mut self) {
        self.graph = gc::Graph::default();
        self.terminating.clear();
        self.pod_ips = kubelet::PodIps::default();
        let Ok(page) = self.backend.store.list("", None, None, 0) else {
            return;
        };
        for (key, entry) in &page.items {
            self.observe(key, &entry.value, None, EventType::Added);
        }
    }

    /// Turns one change into work.
    fn observe(&mut self, key: &Arc<str>, value: &[u8], prev: Option<&[u8]>, kind: EventType) {
        let Some(parsed) = Key::parse(key) else {
            return;
        };
        let head = Head::parse(value);
        let prev_head = prev.map(Head::parse);
        let deleted = kind == EventType::Deleted;
        gc::observe(self, key, &parsed, &head, kind);

        if parsed.group.is_empty() && parsed.resource == "namespaces" {
            if !deleted && head.terminating() {
                self.terminating.insert(parsed.name.to_owned());
                self.queue.add(Work::Namespace(parsed.name.to_owned()));
            } else {
                self.terminating.remove(parsed.name);
            }
        } else if let Some(namespace) = parsed.namespace
            && self.terminating.contains(namespace)
        {
            // Content of a terminating namespace changed: look again soon (coalesced).
            self.queue.add_after(
                Work::Namespace(namespace.to_owned()),
                Duration::from_millis(50),
                Instant::now(),
            );
        }

        let namespace = parsed.namespace.unwrap_or_default().to_owned();
        let name = parsed.name.to_owned();
        let controllers = || {
            let mut owners: Vec<OwnerRef> = head.controller().cloned().into_iter().collect();
            if let Some(prev) = &prev_head
                && let Some(owner) = prev.controller()
                && !owners.contains(owner)
            {
                owners.push(owner.clone());
            }
            owners
        };
        match (parsed.group, parsed.resource) {
            ("apps", "deployments") => self.queue.add(Work::Deployment(namespace, name)),
            ("apps", "replicasets") => {
                for owner in controllers() {
                    if owner.kind == "Deployment" {
                        self.queue
                            .add(Work::Deployment(namespace.clone(), owner.name.clone()));
                    }
                }
                if head.controller().is_none() && !deleted {
                    self.adoption_candidates("deployments", &namespace, &head, |ns, n| {
                        Work::Deployment(ns, n)
                    });
                }
                self.queue.add(Work::ReplicaSet(namespace, name));
            }
            ("apps", "statefulsets") => self.queue.add(Work::StatefulSet(namespace, name)),
            ("apps", "daemonsets") => self.queue.add(Work::DaemonSet(namespace, name)),
            ("batch", "jobs") => {
                for owner in controllers() {
                    if owner.kind == "CronJob" {
                        self.queue
                            .add(Work::CronJob(namespace.clone(), owner.name.clone()));
                    }
                }
                self.queue.add(Work::Job(namespace, name));
            }
            ("batch", "cronjobs") => self.queue.add(Work::CronJob(namespace, name)),
            ("", "pods") => {
                if deleted {
                    self.pod_ips.release(value);
                } else {
                    self.pod_ips.observe(value);
                    self.queue.add(Work::Pod(namespace.clone(), name));
                }
                for owner in controllers() {
                    let work = match owner.kind.as_str() {
                        "ReplicaSet" => Work::ReplicaSet(namespace.clone(), owner.name.clone()),
                        "StatefulSet" => Work::StatefulSet(namespace.clone(), owner.name.clone()),
                        "DaemonSet" => Work::DaemonSet(namespace.clone(), owner.name.clone()),
                        "Job" => Work::Job(namespace.clone(), owner.name.clone()),
                        _ => continue,
                    };
                    self.queue.add(work);
                }
                if head.controller().is_none() && !deleted && !head.terminating() {
                    self.adoption_candidates("replicasets", &namespace, &head, |ns, n| {
                        Work::ReplicaSet(ns, n)
                    });
                }
                self.queue.add_after(
                    Work::Services(namespace),
                    Duration::from_millis(5),
                    Instant::now(),
                );
            }
            ("", "services") => self.queue.add(Work::Service(namespace, name)),
            ("", "nodes") => {
                if let Ok(rt) = self.rt("apps", "daemonsets") {
                    for daemon_set in self.list(&rt, None) {
                        let ns = util::str_at(&daemon_set, &["metadata", "namespace"])
                            .unwrap_or_default()
                            .to_owned();
                        self.queue
                            .add(Work::DaemonSet(ns, util::name(&daemon_set).to_owned()));
                    }
                }
            }
            ("", "persistentvolumeclaims") if !deleted => {
                self.queue.add(Work::Claim(namespace, name));
            }
            _ => {}
        }
    }

    /// Queues the controllers of `plural` in `namespace` whose selector matches an
    /// orphan's labels, so that they adopt it.
    fn adoption_candidates(
        &mut self,
        plural: &str,
        namespace: &str,
        orphan: &Head,
        work: impl Fn(String, String) -> Work,
    ) {
        let Some(labels) = orphan.metadata.labels.as_ref().filter(|l| !l.is_empty()) else {
            return;
        };
        let Ok(rt) = self.rt("apps", plural) else {
            return;
        };
        let labels: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect();
        for owner in self.list(&rt, Some(namespace)) {
            let selector = util::at(&owner, &["spec", "selector"]);
            if !util::selector_is_empty(selector) && util::selector_matches(selector, &labels) {
                self.queue
                    .add(work(namespace.to_owned(), util::name(&owner).to_owned()));
            }
        }
    }

    /// Runs one work item and schedules what comes next.
    fn process(&mut self, work: Work) {
        let result = match &work {
            Work::Gc(key) => gc::reconcile(self, key),
            Work::Namespace(name) => namespace::reconcile(self, name),
            Work::Pod(ns, name) => kubelet::reconcile(self, ns, name),
            Work::ReplicaSet(ns, name) => replicaset::reconcile(self, ns, name),
            Work::Deployment(ns, name) => deployment::reconcile(self, ns, name),
            Work::StatefulSet(ns, name) => statefulset::reconcile(self, ns, name),
            Work::DaemonSet(ns, name) => daemonset::reconcile(self, ns, name),
            Work::Job(ns, name) => job::reconcile(self, ns, name),
            Work::CronJob(ns, name) => cronjob::reconcile(self, ns, name),
            Work::Service(ns, name) => endpoints::reconcile(self, ns, name),
            Work::Services(ns) => endpoints::reconcile_namespace(self, ns),
            Work::Claim(ns, name) => kubelet::bind_claim(self, ns, name),
        };
        let now = Instant::now();
        match result {
            Ok(Action::Done) => {
                self.failures.remove(&work);
            }
            Ok(Action::RequeueAfter(delay)) => {
                self.failures.remove(&work);
                self.queue.add_after(work, delay, now);
            }
            Err(error) => {
                let failures = self.failures.entry(work.clone()).or_insert(0);
                *failures = failures.saturating_add(1);
                let delay = if error.is_conflict() {
                    Duration::from_millis(5)
                } else {
                    // 50ms, 100ms, ... up to 30s, like client-go's rate limiter.
                    Duration::from_millis(50)
                        .saturating_mul(1 << (*failures).min(10))
                        .min(Duration::from_secs(30))
                };
                tracing::debug!(?work, %error, ?delay, "reconcile failed; retrying");
                self.queue.add_after(work, delay, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_keys_split_into_group_resource_namespace_and_name() {
        assert_eq!(
            Key::parse("core/pods/default/web-1"),
            Some(Key {
                group: "",
                resource: "pods",
                namespace: Some("default"),
                name: "web-1"
            })
        );
        assert_eq!(
            Key::parse("core/namespaces/default"),
            Some(Key {
                group: "",
                resource: "namespaces",
                namespace: None,
                name: "default"
            })
        );
        assert_eq!(Key::parse("nonsense"), None);
    }

    #[test]
    fn heads_read_owner_references_and_survive_nulls() {
        let head = Head::parse(
            br#"{"metadata":{"uid":"u","finalizers":null,"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"r","uid":"o","controller":true}]}}"#,
        );
        assert_eq!(head.controller().map(|o| o.name.as_str()), Some("r"));
        assert_eq!(head.owners()[0].group(), "apps");
        assert!(!head.has_finalizer("orphan"));
        assert!(Head::parse(b"not json").owners().is_empty());
    }
}
