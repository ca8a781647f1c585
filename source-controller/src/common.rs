//! The parts of a source reconcile that OCIRepository and Bucket share: the finalizer,
//! the storage step (garbage collection, integrity, URL rewrite), the progress
//! conditions, the single status write at the end with its events, and the controller
//! loop around a reconcile function.
//!
//! Each kind plugs in through [`SourceObject`]; its reconcile is
//! `finalize → suspend → begin → (storage, source, artifact steps) → end`, every step
//! filling the in-memory status and stopping at the first error.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector;
use kube::runtime::{Controller, PredicateConfig, WatchStreamExt, watcher};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sluice_api::meta::conditions::{self, ARTIFACT_IN_STORAGE, PROGRESSING_REASON, READY};
use sluice_api::meta::{Artifact, EventSeverity, FINALIZER, FluxStatus, ObjectWithConditions};
use sluice_runtime::reconcile::{error_policy, jitter};
use sluice_runtime::status::{apply_status, generation_or_reconcile_request, reconcile_request};
use sluice_runtime::{EventDetails, ReconcileError};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::storage::Integrity;
use crate::summary::{self, Progress, ReadySummary};
use crate::{CONTROLLER_NAME, Context};

/// The name of the convenience link next to OCIRepository and Bucket artifacts.
pub const LATEST_LINK: &str = "latest.tar.gz";

/// A source kind the shared steps work on.
pub trait SourceObject:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug + Send + Sync + 'static
{
    /// The status type.
    type Status: FluxStatus + Default + Clone + Serialize + Debug + PartialEq + Send + Sync;
    /// How the kind's conditions summarise into `Ready`.
    const SUMMARY: ReadySummary;
    /// The current status, if any.
    fn status(&self) -> Option<&Self::Status>;
    /// `spec.suspend`.
    fn suspended(&self) -> bool;
    /// `spec.interval`, e.g. `5m`.
    fn interval(&self) -> &str;
    /// The artifact recorded in `status`.
    fn artifact(status: &Self::Status) -> Option<&Artifact>;
    /// Records (or clears) the artifact in `status`.
    fn set_artifact(status: &mut Self::Status, artifact: Option<Artifact>);
    /// `status.url`.
    fn url(status: &Self::Status) -> Option<&str>;
    /// Sets `status.url`.
    fn set_url(status: &mut Self::Status, url: Option<String>);
}

/// Handles deletion and the finalizer. Returns the action to end the reconcile with,
/// when there is nothing more to do: the object is being deleted (its storage directory
/// is removed, then the finalizer), or the finalizer was just added.
///
/// # Errors
/// [`Error::Api`] when patching the finalizer fails; a generic error when the storage
/// directory cannot be removed.
pub async fn finalize<K: SourceObject>(
    api: &Api<K>,
    object: &K,
    context: &Context,
) -> Result<Option<Action>, Error> {
    let finalizers = object.finalizers();
    let has = finalizers.iter().any(|f| f == FINALIZER);
    if object.meta().deletion_timestamp.is_some() {
        if has {
            let storage = context.storage.clone();
            let kind = K::kind(&()).to_string();
            let namespace = object.namespace().unwrap_or_default();
            let name = object.name_any();
            let removed =
                tokio::task::spawn_blocking(move || storage.remove_all(&kind, &namespace, &name))
                    .await
                    .map_err(|e| Error::generic("GarbageCollectionFailed", e.to_string()))?
                    .map_err(|e| {
                        Error::generic(
                            "GarbageCollectionFailed",
                            format!("garbage collection for deleted resource failed: {e}"),
                        )
                    })?;
            context.metrics.forget(
                &K::kind(&()),
                &object.namespace().unwrap_or_default(),
                &object.name_any(),
            );
            if removed {
                tracing::debug!(object = %summary::object_key(object), "removed the artifacts of a deleted object");
            }
            let remaining: Vec<String> = finalizers
                .iter()
                .filter(|f| *f != FINALIZER)
                .cloned()
                .collect();
            patch_finalizers(api, object, remaining).await?;
        }
        return Ok(Some(Action::await_change()));
    }
    if !has {
        let mut wanted = finalizers.to_vec();
        wanted.push(FINALIZER.to_owned());
        patch_finalizers(api, object, wanted).await?;
        // The finalizer patch changes neither the generation nor the request token, so the
        // watch does not bring the object back: requeue it now.
        return Ok(Some(Action::requeue(Duration::from_millis(50))));
    }
    Ok(None)
}

async fn patch_finalizers<K: SourceObject>(
    api: &Api<K>,
    object: &K,
    finalizers: Vec<String>,
) -> Result<(), Error> {
    let patch = serde_json::json!({
        "metadata": {
            "finalizers": finalizers,
            "resourceVersion": object.resource_version(),
        }
    });
    match api
        .patch(
            &object.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Deleted meanwhile (or the finalizer was the last one): nothing left to do.
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(Error::api(format!(
            "failed to update the finalizers of '{}'",
            summary::object_key(object)
        ))(error)),
    }
}

/// The start of a reconcile: `Reconciling=True` (reason `Progressing`) saying why, as
/// upstream's progressive status does (`processing object: new generation 1 -> 2`, or
/// `reconciliation in progress`). A `Reconciling` left by a failed attempt is kept.
pub fn begin<K: SourceObject>(object: &K, status: &mut K::Status) {
    let generation = object.meta().generation;
    let observed = status.observed_generation().unwrap_or(-1);
    if generation.is_some_and(|g| g != observed) {
        let message = format!(
            "processing object: new generation {observed} -> {}",
            generation.unwrap_or_default()
        );
        progress(status, &message, generation);
    } else if conditions::find(status.conditions(), conditions::RECONCILING).is_none() {
        progress(status, "reconciliation in progress", generation);
    }
}

/// Marks `Reconciling=True` with `message` and `Ready=Unknown` with the same message.
pub fn progress<S: FluxStatus>(status: &mut S, message: &str, generation: Option<i64>) {
    let conds = status.conditions_mut();
    conditions::mark_reconciling(conds, PROGRESSING_REASON, message, generation);
    conditions::set(
        conds,
        READY,
        conditions::ConditionStatus::Unknown,
        PROGRESSING_REASON,
        message,
        generation,
    );
}

/// The storage step: collects old artifacts, checks the current one (a missing or
/// corrupt file clears it: `building artifact: disappeared from storage`), marks
/// `building artifact` when there is none, and rewrites the URLs to the current
/// advertised address.
///
/// # Errors
/// A corrupt artifact that cannot be removed.
pub async fn reconcile_storage<K: SourceObject>(
    object: &K,
    status: &mut K::Status,
    context: &Context,
) -> Result<(), Error> {
    let generation = object.meta().generation;
    let mut missing = false;
    if let Some(artifact) = K::artifact(status).cloned() {
        let storage = context.storage.clone();
        let checked = tokio::task::spawn_blocking(move || {
            // Garbage collection failures are not fatal upstream either: the next
            // reconcile tries again.
            if let Err(error) = storage.garbage_collect(&artifact) {
                tracing::warn!(%error, "garbage collection of artifacts failed");
            }
            storage.check_current(&artifact)
        })
        .await
        .map_err(|e| Error::generic("StatOperationFailed", e.to_string()))?;
        match checked {
            Ok(Integrity::Intact) => {}
            Ok(Integrity::Missing) => missing = true,
            Ok(Integrity::Corrupt(error)) => {
                missing = true;
                context
                    .events
                    .publish(
                        object,
                        EventDetails::new(
                            EventSeverity::Error,
                            "ArtifactVerificationFailed",
                            format!("failed to verify integrity of artifact: {error}"),
                        ),
                    )
                    .await;
            }
            Err(error) => {
                return Err(Error::generic(
                    "StatOperationFailed",
                    format!("failed to remove artifact after digest mismatch: {error}"),
                ));
            }
        }
    }
    if missing {
        K::set_artifact(status, None);
        K::set_url(status, None);
    }
    match K::artifact(status).cloned() {
        None => {
            let message = if missing {
                "building artifact: disappeared from storage"
            } else {
                "building artifact"
            };
            progress(status, message, generation);
            conditions::remove(status.conditions_mut(), ARTIFACT_IN_STORAGE);
        }
        Some(mut artifact) => {
            if context.storage.set_artifact_url(&mut artifact) {
                let link = artifact
                    .path
                    .rsplit_once('/')
                    .map(|(dir, _)| format!("{dir}/{LATEST_LINK}"));
                K::set_artifact(status, Some(artifact));
                if K::url(status).is_some()
                    && let Some(link) = link
                {
                    K::set_url(status, Some(context.storage.url_for(&link)));
                }
            }
        }
    }
    Ok(())
}

/// Stores the artifact built by `write` (which archives or copies into the artifact
/// file) under the artifact's lock, then points `latest.tar.gz` at it. Returns the
/// artifact with digest and size, and the link's URL (`None` when the link could not be
/// updated, which upstream treats as best effort).
///
/// # Errors
/// Upstream's storage reasons: `DirectoryCreationFailed`, `AcquireLockFailed` (as
/// `Failed`), `ArchiveOperationFailed` with `failure` as the message prefix.
pub async fn store_artifact(
    context: &Context,
    mut artifact: Artifact,
    failure: &'static str,
    write: impl FnOnce(
        &crate::storage::Storage,
        &mut Artifact,
    ) -> Result<(), crate::storage::StorageError>
    + Send
    + 'static,
) -> Result<(Artifact, Option<String>), Error> {
    use sluice_api::source::v1::reasons::{ARCHIVE_OPERATION_FAILED, DIRECTORY_CREATION_FAILED};
    let storage = context.storage.clone();
    tokio::task::spawn_blocking(move || {
        storage.mkdir_all(&artifact).map_err(|e| {
            Error::generic(
                DIRECTORY_CREATION_FAILED,
                format!("failed to create artifact directory: {e}"),
            )
        })?;
        let _lock = storage.lock(&artifact).map_err(|e| {
            Error::generic(
                conditions::FAILED_REASON,
                format!("failed to acquire lock for artifact: {e}"),
            )
        })?;
        write(&storage, &mut artifact)
            .map_err(|e| Error::generic(ARCHIVE_OPERATION_FAILED, format!("{failure}: {e}")))?;
        let url = match storage.symlink(&artifact, LATEST_LINK) {
            Ok(url) => Some(url),
            Err(error) => {
                tracing::warn!(%error, "failed to update status URL symlink");
                None
            }
        };
        Ok((artifact, url))
    })
    .await
    .map_err(|e| Error::generic(ARCHIVE_OPERATION_FAILED, e.to_string()))?
}

/// What the kind's steps report to [`end`] for the success events.
#[derive(Debug, Default)]
pub struct Notes {
    /// The message of the `NewArtifact` event when a new artifact was stored.
    pub new_artifact_message: Option<String>,
}

/// The end of a reconcile: summarises the status ([`summary::finish`]), records the
/// duration and condition metrics of a reconcile that began at `started`, writes it once,
/// records the events (`NewArtifact` for a new digest, `Succeeded` on recovery, a
/// warning for a failure) and turns the outcome into the next action.
///
/// # Errors
/// The reconcile's error (after it was written to the status), [`Error::Api`] when the
/// status write fails, or a generic error when the steps succeeded without `Ready=True`.
pub async fn end<K: SourceObject>(
    api: &Api<K>,
    object: &K,
    context: &Context,
    mut status: K::Status,
    outcome: Result<Progress, Error>,
    notes: Notes,
    started: std::time::Instant,
) -> Result<Action, Error> {
    let before = object.status().cloned().unwrap_or_default();
    let not_ready = summary::finish(object, &mut status, &K::SUMMARY, &outcome);
    let (kind, namespace, name) = (
        K::kind(&()).to_string(),
        object.namespace().unwrap_or_default(),
        object.name_any(),
    );
    context
        .metrics
        .observe_reconcile(&kind, &namespace, &name, started.elapsed());
    context
        .metrics
        .record_conditions(&kind, &namespace, &name, status.conditions());
    if status != before || reconcile_request(object).is_some() {
        match apply_status(api, object, CONTROLLER_NAME, &status).await {
            Ok(_) => {}
            Err(kube::Error::Api(response)) if response.code == 404 => {
                return Ok(Action::await_change());
            }
            Err(error) => {
                return Err(Error::api(format!(
                    "failed to update the status of '{}'",
                    summary::object_key(object)
                ))(error));
            }
        }
    }
    let key = format!("{}/{}", K::kind(&()), summary::object_key(object));
    match outcome {
        Ok(_) => {
            let old = K::artifact(&before);
            let new = K::artifact(&status);
            let annotated = |details: EventDetails| match new {
                Some(artifact) => details
                    .with("revision", artifact.revision.clone())
                    .with("digest", artifact.digest.clone()),
                None => details,
            };
            let new_digest = new.is_some_and(|n| old.is_none_or(|o| o.digest != n.digest));
            if new_digest && let Some(message) = notes.new_artifact_message {
                let details = annotated(EventDetails::new(
                    EventSeverity::Info,
                    "NewArtifact",
                    message,
                ));
                context.events.publish(object, details).await;
            } else if summary::recovered(before.conditions(), status.conditions(), &K::SUMMARY)
                && let Some(ready) = conditions::find(status.conditions(), READY)
            {
                let details = annotated(EventDetails::new(
                    EventSeverity::Info,
                    conditions::SUCCEEDED_REASON,
                    ready.message.clone(),
                ));
                context.events.publish(object, details).await;
            }
            if let Some(message) = not_ready {
                let reason = conditions::find(status.conditions(), READY)
                    .map(|c| c.reason.clone())
                    .unwrap_or_else(|| conditions::FAILED_REASON.to_owned());
                return Err(Error::generic(reason, message));
            }
            context.backoff.reset(&key);
            let interval = sluice_runtime::args::parse_go_duration(object.interval())
                .unwrap_or(Duration::from_secs(60));
            Ok(Action::requeue(jitter(interval, context.interval_jitter)))
        }
        Err(error) => {
            let details =
                EventDetails::new(error.event_severity(), error.reason(), error.to_string());
            context.events.publish(object, details).await;
            Err(error)
        }
    }
}

/// Reads a Secret's data in the object's namespace.
///
/// # Errors
/// The API error, with `failed to get secret '<ns>/<name>'` as context.
pub async fn secret_data(
    context: &Context,
    namespace: &str,
    name: &str,
) -> Result<std::collections::BTreeMap<String, Vec<u8>>, String> {
    let api: Api<Secret> = Api::namespaced(context.client.clone(), namespace);
    let secret = api.get(name).await.map_err(|e| {
        format!(
            "failed to get secret '{namespace}/{name}': {}",
            api_message(&e)
        )
    })?;
    let mut data: std::collections::BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    for (key, value) in secret.string_data.unwrap_or_default() {
        data.entry(key).or_insert_with(|| value.into_bytes());
    }
    Ok(data)
}

/// The message of a Kubernetes API error as kubectl shows it (`secrets "x" not found`).
pub fn api_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Runs the controller of kind `K` with `reconcile` until `shutdown`: the objects in
/// the watched namespaces, woken up on a new generation, a new reconcile request or
/// deletion, as upstream's predicates do.
pub fn run_controller<K, F, Fut>(
    context: Arc<Context>,
    shutdown: CancellationToken,
    reconcile: F,
) -> BoxFuture<'static, ()>
where
    K: SourceObject + Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    F: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    let api: Api<K> =
        sluice_runtime::watch::scoped_api(context.client.clone(), &context.options.runtime);
    let config = sluice_runtime::watch::watcher_config(&context.options.runtime);
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(
            generation_or_reconcile_request::<K>,
            PredicateConfig::default(),
        );
    let concurrency = context.options.runtime.concurrent;
    let policy = |object: Arc<K>, error: &Error, context: Arc<Context>| {
        let key = format!("{}/{}", K::kind(&()), summary::object_key(&*object));
        tracing::warn!(object = %key, %error, "reconcile failed");
        error_policy(error, key, &context.backoff, context.requeue_dependency)
    };
    Box::pin(async move {
        Controller::for_stream(stream, reader)
            .with_config(kube::runtime::controller::Config::default().concurrency(concurrency))
            .graceful_shutdown_on(async move { shutdown.cancelled_owned().await })
            .run(reconcile, policy, context)
            .for_each(|result| async move {
                if let Err(error) = result {
                    tracing::debug!(%error, "controller loop");
                }
            })
            .await;
    })
}
