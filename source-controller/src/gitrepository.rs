//! The GitRepository reconciler.
//!
//! One reconcile is a fixed list of steps that stop at the first error, as upstream's:
//!
//! 1. the finalizer (deletion removes the object's storage directory, then the
//!    finalizer; a new object gets the finalizer first), then `spec.suspend`;
//! 2. `reconcile_storage`: garbage collection, the integrity of the current artifact
//!    (a missing or corrupt file clears `status.artifact`), the URL rewritten to the
//!    advertised address;
//! 3. `reconcile_source`: fields Sluice does not support yet stop here with a
//!    `Stalled` condition naming them; the included GitRepositories' artifacts, the
//!    URL, the credentials, the remote reference (an `ls-remote`: when it still points
//!    at the stored revision and the content configuration and verification are
//!    unchanged, nothing is fetched), then a shallow fetch and checkout, and the
//!    signature verification of `spec.verify`;
//! 4. `reconcile_artifact`: the includes copied in, the checkout archived with the
//!    ignore rules, stored atomically, recorded in the status.
//!
//! The steps fill an in-memory status; it is summarised ([`crate::summary::finish`]) and
//! written once with server-side apply, whatever the outcome, then the events are
//! recorded (`NewArtifact`, `Succeeded` on recovery, the failure's reason).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::BoxFuture;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::{PredicateConfig, WatchStreamExt, reflector, watcher};
use kube::{Api, Resource, ResourceExt};
use sluice_api::meta::conditions::{
    self, ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, ConditionStatus, FETCH_FAILED,
    INCLUDE_UNAVAILABLE, PROGRESSING_REASON, READY, RECONCILING, SOURCE_VERIFIED,
    STORAGE_OPERATION_FAILED, SUCCEEDED_REASON, UNSUPPORTED_FIELD_REASON,
};
use sluice_api::meta::{Artifact, EventSeverity, FINALIZER, ObjectWithConditions};
use sluice_api::source::v1::git_repository::reasons as git_reasons;
use sluice_api::source::v1::reasons;
use sluice_api::source::v1::{
    GitProvider, GitRepository, GitRepositoryInclude, GitRepositoryStatus,
    GitRepositoryVerification, GitVerificationMode,
};
use sluice_runtime::ReconcileError as _;
use sluice_runtime::args::parse_go_duration;
use sluice_runtime::events::EventDetails;
use sluice_runtime::reconcile::{error_policy, jitter};
use sluice_runtime::status::{apply_status, generation_or_reconcile_request};
use sluice_runtime::watch::{scoped_api, watcher_config};
use tokio_util::sync::CancellationToken;

use crate::common::{self, api_message};
use crate::error::Error;
use crate::git::{
    self, Commit, Credentials, GitError, GitOptions, Reference, Session, Signed, TrustedKeys,
};
use crate::ignore::IgnoreRules;
use crate::storage::Integrity;
use crate::summary::{self, GIT_REPOSITORY, Progress};
use crate::{CONTROLLER_NAME, Context};

/// The kind, as it appears in storage paths (lower-cased) and metrics.
pub const KIND: &str = "GitRepository";

/// The default of `spec.timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the GitRepository controller until `shutdown`.
pub fn controller(context: Arc<Context>, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    let api: Api<GitRepository> = scoped_api(context.client.clone(), &context.options.runtime);
    let config = watcher_config(&context.options.runtime);
    let concurrency = context.options.runtime.concurrent;
    let (reader, writer) = reflector::store();
    // Only a new generation, a new requestedAt token, a deletion or a finalizer change
    // starts a reconcile: the controller's own status writes do not.
    let triggers = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .predicate_filter(trigger_key, PredicateConfig::default());
    Box::pin(
        Controller::for_stream(triggers, reader)
            .with_config(ControllerConfig::default().concurrency(concurrency))
            .graceful_shutdown_on(shutdown.cancelled_owned())
            .run(reconcile, on_error, context)
            .for_each(|result| async move {
                if let Err(error) = result {
                    tracing::debug!(%error, "GitRepository reconcile ended with an error");
                }
            }),
    )
}

/// What a change must alter to start a reconcile (see [`controller`]).
fn trigger_key(object: &GitRepository) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    generation_or_reconcile_request(object).hash(&mut hasher);
    object.meta().deletion_timestamp.is_some().hash(&mut hasher);
    object.finalizers().hash(&mut hasher);
    Some(hasher.finish())
}

fn on_error(object: Arc<GitRepository>, error: &Error, context: Arc<Context>) -> Action {
    tracing::warn!(object = %summary::object_key(object.as_ref()), %error, "GitRepository reconcile failed");
    error_policy(
        error,
        format!("{KIND}/{}", summary::object_key(object.as_ref())),
        &context.backoff,
        context.requeue_dependency,
    )
}

/// Reconciles one GitRepository (see the module documentation).
///
/// # Errors
/// The failed step's [`Error`] (after the status was written), or [`Error::Api`] when
/// the finalizer or the status cannot be written.
pub async fn reconcile(object: Arc<GitRepository>, context: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let api: Api<GitRepository> = Api::namespaced(context.client.clone(), &namespace);

    if object.meta().deletion_timestamp.is_some() {
        return finalize(&api, &object, &context).await;
    }
    let object = if object.finalizers().iter().any(|f| f == FINALIZER) {
        object
    } else {
        Arc::new(add_finalizer(&api, &object).await?)
    };
    let suspended = object.spec.suspend == Some(true);
    context
        .metrics
        .record_suspend(KIND, &namespace, &name, suspended);
    if suspended {
        tracing::info!(object = %summary::object_key(object.as_ref()), "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }

    let before = object.status.clone().unwrap_or_default();
    let mut run = Run {
        object: &object,
        context: &context,
        status: before.clone(),
        new_artifact: None,
        checkout: None,
        includes: Vec::new(),
    };
    run.mark_progress();
    let outcome = run.steps().await;
    let Run {
        mut status,
        new_artifact,
        ..
    } = run;
    let not_ready = summary::finish(object.as_ref(), &mut status, &GIT_REPOSITORY, &outcome);

    match apply_status(&api, object.as_ref(), CONTROLLER_NAME, &status).await {
        Ok(_) => {}
        Err(kube::Error::Api(response)) if response.code == 404 => {
            return Ok(Action::await_change());
        }
        Err(error) => {
            return Err(Error::Api {
                context: format!("failed to update status of {KIND} '{namespace}/{name}'"),
                source: error,
            });
        }
    }
    context
        .metrics
        .observe_reconcile(KIND, &namespace, &name, started.elapsed());
    context
        .metrics
        .record_conditions(KIND, &namespace, &name, status.conditions());

    record_events(
        &context,
        object.as_ref(),
        &before,
        &status,
        &outcome,
        new_artifact,
    )
    .await;

    let key = format!("{KIND}/{namespace}/{name}");
    match outcome {
        Ok(_) => {
            if let Some(message) = not_ready {
                return Err(Error::generic(reasons::ARTIFACT_UP_TO_DATE, message));
            }
            context.backoff.reset(&key);
            let interval =
                parse_go_duration(&object.spec.interval).unwrap_or(Duration::from_secs(60));
            Ok(Action::requeue(jitter(interval, context.interval_jitter)))
        }
        Err(error) => Err(error),
    }
}

/// The `NewArtifact`, recovery and failure events of one reconcile.
async fn record_events(
    context: &Context,
    object: &GitRepository,
    before: &GitRepositoryStatus,
    after: &GitRepositoryStatus,
    outcome: &Result<Progress, Error>,
    new_artifact: Option<(Artifact, Commit)>,
) {
    match outcome {
        Err(error) => {
            let details =
                EventDetails::new(error.event_severity(), error.reason(), error.to_string());
            context.events.publish(object, details).await;
        }
        Ok(_) => {
            let old_digest = before.artifact.as_ref().map(|a| a.digest.as_str());
            if let Some((artifact, commit)) = new_artifact
                && old_digest != Some(artifact.digest.as_str())
            {
                let details = EventDetails::new(
                    EventSeverity::Info,
                    "NewArtifact",
                    format!("stored artifact for commit '{}'", commit.short_message()),
                )
                .with("revision", artifact.revision.clone())
                .with("digest", artifact.digest.clone());
                context.events.publish(object, details).await;
            } else if summary::recovered(before.conditions(), after.conditions(), &GIT_REPOSITORY) {
                let message = conditions::find(after.conditions(), READY)
                    .map(|c| c.message.clone())
                    .unwrap_or_default();
                let mut details = EventDetails::new(EventSeverity::Info, SUCCEEDED_REASON, message);
                if let Some(artifact) = &after.artifact {
                    details = details
                        .with("revision", artifact.revision.clone())
                        .with("digest", artifact.digest.clone());
                }
                context.events.publish(object, details).await;
            }
        }
    }
}

async fn add_finalizer(
    api: &Api<GitRepository>,
    object: &GitRepository,
) -> Result<GitRepository, Error> {
    let mut finalizers = object.finalizers().to_vec();
    finalizers.push(FINALIZER.to_owned());
    let patch = serde_json::json!({
        "metadata": {
            "resourceVersion": object.resource_version(),
            "finalizers": finalizers,
        }
    });
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await
    .map_err(Error::api(format!(
        "failed to add the finalizer to {KIND} '{}'",
        summary::object_key(object)
    )))
}

/// Deletion: the object's storage directory goes, then the finalizer.
async fn finalize(
    api: &Api<GitRepository>,
    object: &GitRepository,
    context: &Context,
) -> Result<Action, Error> {
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    if !object.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    context
        .storage
        .remove_all(KIND, &namespace, &name)
        .map_err(|e| {
            Error::generic(
                reasons::DIRECTORY_CREATION_FAILED,
                format!("garbage collection for deleted resource failed: {e}"),
            )
        })?;
    let finalizers: Vec<&String> = object
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .collect();
    let patch = serde_json::json!({
        "metadata": {
            "resourceVersion": object.resource_version(),
            "finalizers": finalizers,
        }
    });
    match api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(response)) if response.code == 404 => {}
        Err(error) => {
            return Err(Error::Api {
                context: format!("failed to remove the finalizer from {KIND} '{namespace}/{name}'"),
                source: error,
            });
        }
    }
    context.metrics.forget(KIND, &namespace, &name);
    context.backoff.reset(&format!("{KIND}/{namespace}/{name}"));
    Ok(Action::await_change())
}

/// The state of one reconcile.
struct Run<'a> {
    object: &'a GitRepository,
    context: &'a Context,
    status: GitRepositoryStatus,
    /// The artifact stored by this reconcile, with its commit (for the event).
    new_artifact: Option<(Artifact, Commit)>,
    /// The checkout: its directory (removed on drop) and commit.
    checkout: Option<(tempfile::TempDir, Commit)>,
    /// The artifacts of `spec.include`, in order.
    includes: Vec<(GitRepositoryInclude, Artifact)>,
}

/// The content configuration an artifact was built with: a change forces a rebuild even
/// when the commit is the same.
#[derive(Debug, PartialEq, Eq)]
struct ContentConfig {
    ignore: Option<String>,
    recurse_submodules: bool,
    sparse_checkout: Option<Vec<String>>,
    include: Vec<GitRepositoryInclude>,
    /// Revision and digest of each included artifact.
    included: Vec<(String, String)>,
}

fn normalize_sparse(dirs: Option<&Vec<String>>) -> Option<Vec<String>> {
    dirs.filter(|d| !d.is_empty()).map(|dirs| {
        dirs.iter()
            .map(|d| d.strip_prefix("./").unwrap_or(d).to_owned())
            .collect()
    })
}

impl Run<'_> {
    fn generation(&self) -> Option<i64> {
        self.object.meta().generation
    }

    fn spec_content(&self) -> ContentConfig {
        let spec = &self.object.spec;
        ContentConfig {
            ignore: spec.ignore.clone(),
            recurse_submodules: spec.recurse_submodules.unwrap_or(false),
            sparse_checkout: normalize_sparse(spec.sparse_checkout.as_ref()),
            include: spec.include.clone().unwrap_or_default(),
            included: self
                .includes
                .iter()
                .map(|(_, a)| (a.revision.clone(), a.digest.clone()))
                .collect(),
        }
    }

    fn observed_content(&self) -> ContentConfig {
        ContentConfig {
            ignore: self.status.observed_ignore.clone(),
            recurse_submodules: self.status.observed_recurse_submodules.unwrap_or(false),
            sparse_checkout: normalize_sparse(self.status.observed_sparse_checkout.as_ref()),
            include: self.status.observed_include.clone().unwrap_or_default(),
            included: self
                .status
                .included_artifacts
                .iter()
                .flatten()
                .map(|a| (a.revision.clone(), a.digest.clone()))
                .collect(),
        }
    }

    fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: &str) {
        let generation = self.generation();
        conditions::set(
            self.status.conditions_mut(),
            type_,
            status,
            reason,
            message,
            generation,
        );
    }

    fn remove(&mut self, type_: &str) {
        conditions::remove(self.status.conditions_mut(), type_);
    }

    /// `Reconciling=True` and `Ready=Unknown` with the same message.
    fn progressing(&mut self, message: &str) {
        self.set(
            RECONCILING,
            ConditionStatus::True,
            PROGRESSING_REASON,
            message,
        );
        self.set(READY, ConditionStatus::Unknown, PROGRESSING_REASON, message);
    }

    fn mark_progress(&mut self) {
        let generation = self.generation().unwrap_or_default();
        let observed = self.status.observed_generation.unwrap_or(-1);
        if observed != generation {
            self.progressing(&format!(
                "processing object: new generation {observed} -> {generation}"
            ));
        }
    }

    /// Records `error` on the negative condition `type_`, then returns it.
    fn fail(&mut self, type_: &str, error: Error) -> Error {
        let reason = error.reason().to_owned();
        self.set(type_, ConditionStatus::True, &reason, &error.to_string());
        error
    }

    async fn steps(&mut self) -> Result<Progress, Error> {
        self.reconcile_storage();
        let progress = self.reconcile_source().await?;
        if progress == Progress::NoOp {
            return Ok(Progress::NoOp);
        }
        self.reconcile_artifact().await?;
        Ok(Progress::Success)
    }
}

/// Step 2 (see the module documentation).
fn reconcile_storage(run: &mut Run<'_>) {
    let storage = &run.context.storage;
    if let Some(mut artifact) = run.status.artifact.clone() {
        if let Err(error) = storage.garbage_collect(&artifact) {
            tracing::warn!(%error, "garbage collection of old artifacts failed");
        }
        match storage.check_current(&artifact) {
            Ok(Integrity::Intact) => {
                storage.set_artifact_url(&mut artifact);
                let message = format!("stored artifact for revision '{}'", artifact.revision);
                run.status.artifact = Some(artifact);
                run.set(
                    ARTIFACT_IN_STORAGE,
                    ConditionStatus::True,
                    SUCCEEDED_REASON,
                    &message,
                );
                return;
            }
            Ok(Integrity::Missing) => {}
            Ok(Integrity::Corrupt(error)) => {
                tracing::warn!(%error, "the stored artifact failed verification and was removed");
            }
            Err(error) => tracing::warn!(%error, "removing a corrupt artifact failed"),
        }
        run.status.artifact = None;
        run.remove(ARTIFACT_IN_STORAGE);
        run.progressing("building artifact: disappeared from storage");
        return;
    }
    run.remove(ARTIFACT_IN_STORAGE);
    run.progressing("building artifact");
}

impl Run<'_> {
    fn reconcile_storage(&mut self) {
        reconcile_storage(self);
    }

    async fn reconcile_source(&mut self) -> Result<Progress, Error> {
        reconcile_source(self).await
    }

    async fn reconcile_artifact(&mut self) -> Result<(), Error> {
        reconcile_artifact(self).await
    }
}

/// The fields Sluice does not act on yet, named so the object says so instead of
/// silently ignoring them.
fn unsupported_fields(object: &GitRepository) -> Vec<&'static str> {
    let spec = &object.spec;
    let mut fields = Vec::new();
    if spec
        .provider
        .as_ref()
        .is_some_and(|p| *p != GitProvider::Generic)
    {
        fields.push("spec.provider");
    }
    if spec
        .service_account_name
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        fields.push("spec.serviceAccountName");
    }
    if spec.proxy_secret_ref.is_some() {
        fields.push("spec.proxySecretRef");
    }
    fields
}

/// Step 3 (see the module documentation).
async fn reconcile_source(run: &mut Run<'_>) -> Result<Progress, Error> {
    let object = run.object;
    let unsupported = unsupported_fields(object);
    if !unsupported.is_empty() {
        return Err(Error::stalling(
            UNSUPPORTED_FIELD_REASON,
            format!("{} not supported by Sluice yet", join_fields(&unsupported)),
        ));
    }
    collect_includes(run).await?;
    let url = object.spec.url.clone();
    let scheme = git::auth::parse_scheme(&url).map_err(|message| {
        let error = Error::stalling(
            reasons::URL_INVALID,
            format!("failed to configure authentication options: {message}"),
        );
        run.fail(FETCH_FAILED, error)
    })?;
    let timeout = match object.spec.timeout.as_deref() {
        Some(text) => parse_go_duration(text).map_err(|e| {
            Error::stalling(
                reasons::URL_INVALID,
                format!("invalid timeout '{text}': {e}"),
            )
        })?,
        None => DEFAULT_TIMEOUT,
    };

    let mut credentials = Credentials::default();
    if let Some(secret_ref) = &object.spec.secret_ref {
        let namespace = object.namespace().unwrap_or_default();
        let data = common::secret_data(run.context, &namespace, &secret_ref.name)
            .await
            .map_err(|message| {
                run.fail(
                    FETCH_FAILED,
                    Error::generic(reasons::AUTHENTICATION_FAILED, message),
                )
            })?;
        credentials = Credentials::from_secret(&data, scheme).map_err(|message| {
            let error = Error::generic(
                reasons::AUTHENTICATION_FAILED,
                format!("failed to configure authentication options: {message}"),
            );
            run.fail(FETCH_FAILED, error)
        })?;
    }
    let credentials = credentials.with_url_userinfo(&url);
    let options = GitOptions {
        kex_algorithms: run.context.options.ssh_kex_algos.clone(),
        host_key_algorithms: run.context.options.ssh_hostkey_algos.clone(),
    };
    let session = Session::new(&url, scheme, &credentials, &options, timeout).map_err(|e| {
        let error = Error::generic(
            reasons::DIRECTORY_CREATION_FAILED,
            format!("failed to create temporary working directory: {e}"),
        );
        run.fail(STORAGE_OPERATION_FAILED, error)
    })?;

    let reference = Reference::from_spec(object.spec.reference.as_ref());
    let resolved = session.resolve(&reference).await.map_err(|e| {
        let error = git_error(&url, e);
        run.fail(FETCH_FAILED, error)
    })?;

    // Nothing changed upstream and the artifact was built with this configuration: no
    // fetch, no rebuild.
    let revision = resolved.revision();
    let optimized = run.context.features.enabled("OptimizedGitClones");
    if optimized
        && conditions::is_true(run.status.conditions(), ARTIFACT_IN_STORAGE)
        && run
            .status
            .artifact
            .as_ref()
            .is_some_and(|a| a.revision == revision)
        && run.observed_content() == run.spec_content()
        && verification_current(run)
    {
        run.remove(FETCH_FAILED);
        run.remove(ARTIFACT_OUTDATED);
        tracing::debug!(object = %summary::object_key(object), "no changes since last reconciliation: observed revision '{revision}'");
        return Ok(Progress::NoOp);
    }
    if let Some(artifact) = &run.status.artifact
        && artifact.revision != revision
    {
        let message = format!("new upstream revision '{revision}'");
        run.set(
            ARTIFACT_OUTDATED,
            ConditionStatus::True,
            reasons::NEW_REVISION,
            &message,
        );
        run.progressing(&format!("building artifact: {message}"));
    }

    let scratch = tempfile::Builder::new()
        .prefix("gitrepository-")
        .tempdir()
        .map_err(|e| {
            let error = Error::generic(
                reasons::DIRECTORY_CREATION_FAILED,
                format!("failed to create temporary working directory: {e}"),
            );
            run.fail(STORAGE_OPERATION_FAILED, error)
        })?;
    let dir = scratch.path().join("checkout");
    let sparse = normalize_sparse(object.spec.sparse_checkout.as_ref()).unwrap_or_default();
    let submodules = object.spec.recurse_submodules.unwrap_or(false);
    let commit = session
        .checkout(&resolved, &dir, &sparse, submodules)
        .await
        .map_err(|e| {
            let error = git_error(&url, e);
            run.fail(FETCH_FAILED, error)
        })?;
    run.remove(FETCH_FAILED);
    match &object.spec.verification {
        Some(verification) => {
            verify_source(run, &session, &dir, &reference, &commit, verification).await?;
        }
        None => {
            run.remove(SOURCE_VERIFIED);
            run.status.source_verification_mode = None;
        }
    }
    run.checkout = Some((scratch, commit));
    Ok(Progress::Success)
}

/// Reads the artifacts of `spec.include`: a missing GitRepository or one without an
/// artifact is a dependency to wait for (`IncludeUnavailable`).
async fn collect_includes(run: &mut Run<'_>) -> Result<(), Error> {
    let object = run.object;
    let includes = object.spec.include.clone().unwrap_or_default();
    let namespace = object.namespace().unwrap_or_default();
    let repositories: Api<GitRepository> = Api::namespaced(run.context.client.clone(), &namespace);
    let mut collected = Vec::with_capacity(includes.len());
    for include in includes {
        let name = include.repository.name.clone();
        let included = match repositories.get_opt(&name).await {
            Ok(Some(included)) => included,
            Ok(None) => {
                let error = Error::waiting(
                    "NotFound",
                    format!(
                        "could not get resource for include '{name}': gitrepositories.source.toolkit.fluxcd.io \"{name}\" not found"
                    ),
                );
                return Err(run.fail(INCLUDE_UNAVAILABLE, error));
            }
            Err(e) => {
                let error = Error::waiting(
                    "NotFound",
                    format!(
                        "could not get resource for include '{name}': {}",
                        api_message(&e)
                    ),
                );
                return Err(run.fail(INCLUDE_UNAVAILABLE, error));
            }
        };
        let Some(artifact) = included.status.and_then(|s| s.artifact) else {
            let error = Error::waiting(
                "NoArtifact",
                format!("no artifact available for include '{name}'"),
            );
            return Err(run.fail(INCLUDE_UNAVAILABLE, error));
        };
        collected.push((include, artifact));
    }
    run.remove(INCLUDE_UNAVAILABLE);
    run.includes = collected;
    Ok(())
}

/// Copies every included artifact into the checkout at `dir`.
fn copy_includes(
    storage: &crate::storage::Storage,
    includes: &[(GitRepositoryInclude, Artifact)],
    dir: &std::path::Path,
    scratch: &std::path::Path,
) -> Result<(), Error> {
    for (include, artifact) in includes {
        let from = include.from_path.as_deref().unwrap_or_default();
        let to = include.to_path();
        let target = crate::storage::secure_join(dir, to).map_err(|e| {
            Error::generic(
                "IllegalPath",
                format!(
                    "path calculation for include '{}' failed: {e}",
                    include.repository.name
                ),
            )
        })?;
        storage
            .copy_to_path(artifact, from, &target, scratch)
            .map_err(|e| {
                Error::generic(
                    "CopyFailure",
                    format!(
                        "failed to copy '{}' include from {from} to {to}: {e}",
                        include.repository.name
                    ),
                )
            })?;
    }
    Ok(())
}

/// Whether the stored artifact's verification still answers `spec.verify`.
fn verification_current(run: &Run<'_>) -> bool {
    let observed = run.status.source_verification_mode;
    match run.object.spec.verification.as_ref() {
        None => observed.is_none(),
        Some(v) => {
            let mode = v.mode.unwrap_or(GitVerificationMode::Head);
            conditions::is_true(run.status.conditions(), SOURCE_VERIFIED)
                && observed.is_some_and(|o| {
                    (!mode.verifies_head() || o.verifies_head())
                        && (!mode.verifies_tag() || o.verifies_tag())
                })
        }
    }
}

/// Verifies the signatures `spec.verify` asks for; sets `SourceVerified`.
async fn verify_source(
    run: &mut Run<'_>,
    session: &Session,
    dir: &std::path::Path,
    reference: &Reference,
    commit: &Commit,
    verification: &GitRepositoryVerification,
) -> Result<(), Error> {
    let object = run.object;
    let mode = verification.mode.unwrap_or(GitVerificationMode::Head);
    let fail = |run: &mut Run<'_>, error: Error| {
        let reason = error.reason().to_owned();
        run.set(
            SOURCE_VERIFIED,
            ConditionStatus::False,
            &reason,
            &error.to_string(),
        );
        error
    };
    let tag_reference = match reference {
        Reference::Tag(_) | Reference::Semver(_) => true,
        Reference::Name(name) => name.starts_with("refs/tags/"),
        Reference::Branch(_) | Reference::Commit { .. } => false,
    };
    if mode.verifies_tag() && !tag_reference {
        let error = Error::stalling(
            "InvalidVerificationMode",
            "cannot verify tag object's signature if a tag reference is not specified",
        );
        return Err(fail(run, error));
    }
    let namespace = object.namespace().unwrap_or_default();
    let name = &verification.secret_ref.name;
    let data = match common::secret_data(run.context, &namespace, name).await {
        Ok(data) => data,
        Err(message) => {
            let error = Error::generic(
                reasons::VERIFICATION_ERROR,
                format!("PGP public keys secret error: {message}"),
            );
            return Err(fail(run, error));
        }
    };
    let keys = TrustedKeys::from_secret(&data);
    if keys.pgp.is_empty() && keys.ssh.is_empty() {
        let error = Error::generic(
            reasons::VERIFICATION_ERROR,
            format!("no public keys found in secret '{namespace}/{name}'"),
        );
        return Err(fail(run, error));
    }
    let mut verified = Vec::new();
    if mode.verifies_tag() {
        let label = commit.label.clone().unwrap_or_default();
        match session.verify(dir, Signed::Tag, &keys).await {
            Ok(key) => verified.push(format!("- tag '{label}' with key '{key}'")),
            Err(GitError::NotFound(message)) => {
                let error = Error::generic(
                    "InvalidGitObject",
                    format!("unable to verify tag '{label}': {message}"),
                );
                return Err(fail(run, error));
            }
            Err(e) => {
                let error = Error::generic(
                    "InvalidTagSignature",
                    format!("signature verification of tag '{label}' failed: {e}"),
                );
                return Err(fail(run, error));
            }
        }
    }
    if mode.verifies_head() {
        match session.verify(dir, Signed::Commit, &keys).await {
            Ok(key) => verified.push(format!("- commit '{}' with key '{key}'", commit.hash)),
            Err(e) => {
                let error = Error::generic(
                    "InvalidCommitSignature",
                    format!(
                        "signature verification of commit '{}' failed: {e}",
                        commit.hash
                    ),
                );
                return Err(fail(run, error));
            }
        }
    }
    run.set(
        SOURCE_VERIFIED,
        ConditionStatus::True,
        SUCCEEDED_REASON,
        &format!("verified signature of\n\t{}", verified.join("\n\t")),
    );
    run.status.source_verification_mode = Some(mode);
    Ok(())
}

fn join_fields(fields: &[&str]) -> String {
    match fields {
        [one] => format!("{one} is"),
        many => format!("{} are", many.join(", ")),
    }
}

/// The condition of a failed Git operation, worded as upstream's.
fn git_error(url: &str, error: GitError) -> Error {
    match error {
        GitError::Empty => {
            Error::generic(git_reasons::EMPTY_GIT_REPOSITORY, "git repository is empty")
        }
        other => Error::generic(
            git_reasons::GIT_OPERATION_FAILED,
            format!("failed to checkout and determine revision: unable to clone '{url}': {other}"),
        ),
    }
}

/// Step 4 (see the module documentation).
async fn reconcile_artifact(run: &mut Run<'_>) -> Result<(), Error> {
    let Some((scratch, commit)) = run.checkout.take() else {
        return Ok(());
    };
    let object = run.object;
    let revision = commit.revision();
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let storage = run.context.storage.clone();

    let up_to_date = run
        .status
        .artifact
        .as_ref()
        .is_some_and(|a| a.revision == revision)
        && conditions::is_true(run.status.conditions(), ARTIFACT_IN_STORAGE)
        && run.observed_content() == run.spec_content();
    if up_to_date {
        run.remove(ARTIFACT_OUTDATED);
        return Ok(());
    }

    let mut artifact = storage
        .new_artifact(
            KIND,
            &namespace,
            &name,
            &revision,
            &format!("{}.tar.gz", commit.hash),
        )
        .map_err(|e| {
            let error =
                Error::generic(reasons::INVALID_PATH, format!("invalid artifact path: {e}"));
            run.fail(STORAGE_OPERATION_FAILED, error)
        })?;
    let dir = scratch.path().join("checkout");
    let scratch_path = scratch.path().to_owned();
    let ignore = object.spec.ignore.clone();
    let includes = run.includes.clone();
    let built = {
        let storage = storage.clone();
        let mut artifact = artifact.clone();
        tokio::task::spawn_blocking(move || {
            copy_includes(&storage, &includes, &dir, &scratch_path)?;
            storage.mkdir_all(&artifact).map_err(|e| {
                Error::generic(
                    reasons::DIRECTORY_CREATION_FAILED,
                    format!("failed to create artifact directory: {e}"),
                )
            })?;
            let _lock = storage.lock(&artifact).map_err(|e| {
                Error::generic(
                    reasons::ACQUIRE_LOCK_FAILED,
                    format!("failed to acquire lock for artifact: {e}"),
                )
            })?;
            let rules = IgnoreRules::for_source(&dir, ignore.as_deref()).map_err(|e| {
                Error::generic(
                    reasons::ARCHIVE_OPERATION_FAILED,
                    format!("failed to load source ignore patterns from repository: {e}"),
                )
            })?;
            storage
                .archive(&mut artifact, &dir, Some(&rules))
                .map_err(|e| {
                    Error::generic(
                        reasons::ARCHIVE_OPERATION_FAILED,
                        format!("unable to archive artifact to storage: {e}"),
                    )
                })?;
            // Upstream's Git artifacts no longer have a `latest.tar.gz`; remove one left
            // by older versions.
            let _ = storage.remove_symlink(&artifact, "latest.tar.gz");
            Ok::<_, Error>(artifact)
        })
        .await
    };
    drop(scratch);
    artifact = match built {
        Ok(Ok(artifact)) => artifact,
        Ok(Err(error)) => return Err(run.fail(STORAGE_OPERATION_FAILED, error)),
        Err(join) => {
            let error = Error::generic(
                reasons::ARCHIVE_OPERATION_FAILED,
                format!("unable to archive artifact to storage: {join}"),
            );
            return Err(run.fail(STORAGE_OPERATION_FAILED, error));
        }
    };

    let content = run.spec_content();
    run.status.observed_ignore = content.ignore;
    run.status.observed_recurse_submodules = object.spec.recurse_submodules;
    run.status.observed_sparse_checkout = object
        .spec
        .sparse_checkout
        .clone()
        .filter(|d| !d.is_empty());
    run.status.observed_include = object.spec.include.clone().filter(|i| !i.is_empty());
    run.status.included_artifacts =
        (!run.includes.is_empty()).then(|| run.includes.iter().map(|(_, a)| a.clone()).collect());
    run.status.artifact = Some(artifact.clone());
    run.remove(ARTIFACT_OUTDATED);
    run.remove(STORAGE_OPERATION_FAILED);
    run.set(
        ARTIFACT_IN_STORAGE,
        ConditionStatus::True,
        SUCCEEDED_REASON,
        &format!("stored artifact for revision '{revision}'"),
    );
    run.new_artifact = Some((artifact, commit));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_api::meta::LocalObjectReference;
    use sluice_api::source::v1::GitRepositorySpec;

    #[test]
    fn unsupported_fields_are_named() {
        let mut repo = GitRepository::new("r", GitRepositorySpec::default());
        assert!(unsupported_fields(&repo).is_empty());
        repo.spec.provider = Some(GitProvider::Generic);
        assert!(unsupported_fields(&repo).is_empty());
        repo.spec.provider = Some(GitProvider::Github);
        repo.spec.proxy_secret_ref = Some(LocalObjectReference { name: "x".into() });
        assert_eq!(
            unsupported_fields(&repo),
            vec!["spec.provider", "spec.proxySecretRef"]
        );
        assert_eq!(
            join_fields(&unsupported_fields(&repo)),
            "spec.provider, spec.proxySecretRef are"
        );
    }

    #[test]
    fn sparse_checkout_dirs_are_compared_without_a_leading_dot_slash() {
        let a = vec!["./apps".to_owned(), "clusters".to_owned()];
        let b = vec!["apps".to_owned(), "clusters".to_owned()];
        assert_eq!(normalize_sparse(Some(&a)), normalize_sparse(Some(&b)));
        assert_eq!(normalize_sparse(Some(&Vec::new())), None);
    }

    #[test]
    fn an_empty_repository_has_its_own_reason() {
        let error = git_error("https://h/r", GitError::Empty);
        assert_eq!(error.reason(), "EmptyGitRepository");
        assert_eq!(error.to_string(), "git repository is empty");
        let error = git_error(
            "https://h/r",
            GitError::Auth("authentication required".into()),
        );
        assert_eq!(error.reason(), "GitOperationFailed");
        assert_eq!(
            error.to_string(),
            "failed to checkout and determine revision: unable to clone 'https://h/r': authentication required"
        );
    }
}
