//! The OCIRepository reconciler: resolves `spec.ref` (digest > semver > tag > `latest`)
//! to a manifest digest, pulls the selected layer when the revision or the content
//! configuration changed, and stores it (extracted and re-archived, or copied as is) as
//! `ocirepository/<ns>/<name>/<digest>.tar.gz`.
//!
//! Steps, each stopping the reconcile at its first error: finalizer, suspend,
//! [`common::reconcile_storage`], `reconcile_source` (credentials, TLS, reference,
//! revision, verification, pull), `reconcile_artifact` (store, link, record).
//!
//! # Caveats
//! - Only the `generic` provider is implemented: `aws`, `azure` and `gcp` work when a
//!   `secretRef` is given (it takes precedence upstream too); without one the object
//!   stalls with `AuthenticationFailed` saying cloud authentication is not supported yet.
//! - `spec.verify` is not implemented: the object gets `SourceVerified=False`
//!   (`VerificationError`, "not supported yet") and no artifact, rather than unverified
//!   content.
//! - `proxySecretRef` is not implemented: the object stalls with a message saying so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use sluice_api::meta::conditions::{
    self, ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, ConditionStatus, FETCH_FAILED, SOURCE_VERIFIED,
    STORAGE_OPERATION_FAILED, SUCCEEDED_REASON,
};
use sluice_api::meta::{Artifact, ObjectWithConditions};
use sluice_api::source::v1::oci_repository::reasons::{
    OCI_LAYER_OPERATION_FAILED, OCI_PULL_FAILED,
};
use sluice_api::source::v1::reasons::{
    AUTHENTICATION_FAILED, NEW_REVISION, READ_OPERATION_FAILED, URL_INVALID, VERIFICATION_ERROR,
};
use sluice_api::source::v1::{
    LayerOperation, OCILayerSelector, OCIRepository, OCIRepositoryStatus, OciProvider,
};
use sluice_runtime::artifact::ExtractOptions;
use sluice_runtime::semver::{Constraints, Version};
use tokio_util::sync::CancellationToken;

use crate::common::{self, Notes, SourceObject};
use crate::error::Error;
use crate::ignore::IgnoreRules;
use crate::oci::{
    ClientOptions, DEFAULT_TAG, HELM_CHART_LAYER, ImageManifest, Keychain, RegistryClient,
    Repository, annotations,
};
use crate::summary::{self, Progress};
use crate::transport::TlsMaterial;
use crate::{Context, storage::Storage};

/// The kind, as in storage paths and events.
pub const KIND: &str = "OCIRepository";

impl SourceObject for OCIRepository {
    type Status = OCIRepositoryStatus;
    const SUMMARY: summary::ReadySummary = summary::OCI_REPOSITORY;

    fn status(&self) -> Option<&Self::Status> {
        self.status.as_ref()
    }
    fn suspended(&self) -> bool {
        self.spec.suspend.unwrap_or(false)
    }
    fn interval(&self) -> &str {
        &self.spec.interval
    }
    fn artifact(status: &Self::Status) -> Option<&Artifact> {
        status.artifact.as_ref()
    }
    fn set_artifact(status: &mut Self::Status, artifact: Option<Artifact>) {
        status.artifact = artifact;
    }
    fn url(status: &Self::Status) -> Option<&str> {
        status.url.as_deref()
    }
    fn set_url(status: &mut Self::Status, url: Option<String>) {
        status.url = url;
    }
}

/// The OCIRepository controller, a future that ends on `shutdown`.
pub fn controller(context: Arc<Context>, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    common::run_controller::<OCIRepository, _, _>(context, shutdown, reconcile)
}

/// Reconciles one OCIRepository (see the module documentation).
///
/// # Errors
/// The failed step's error, after it was written to the status.
pub async fn reconcile(object: Arc<OCIRepository>, context: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<OCIRepository> = Api::namespaced(context.client.clone(), &namespace);
    if let Some(action) = common::finalize(&api, &*object, &context).await? {
        return Ok(action);
    }
    let suspended = object.spec.suspend.unwrap_or(false);
    context
        .metrics
        .record_suspend(KIND, &namespace, &object.name_any(), suspended);
    if suspended {
        tracing::info!(object = %summary::object_key(&*object), "reconciliation is suspended for this object");
        return Ok(Action::await_change());
    }
    let mut status = object.status.clone().unwrap_or_default();
    common::begin(&*object, &mut status);
    let mut notes = Notes::default();
    let outcome = steps(&object, &context, &mut status, &mut notes).await;
    common::end(&api, &*object, &context, status, outcome, notes, started).await
}

async fn steps(
    object: &OCIRepository,
    context: &Context,
    status: &mut OCIRepositoryStatus,
    notes: &mut Notes,
) -> Result<Progress, Error> {
    common::reconcile_storage(object, status, context).await?;
    let work = tempfile::Builder::new()
        .prefix("ocirepository-")
        .tempdir()
        .map_err(|e| {
            let error = Error::generic(
                sluice_api::source::v1::reasons::DIRECTORY_CREATION_FAILED,
                format!("failed to create temporary working directory: {e}"),
            );
            mark(status, STORAGE_OPERATION_FAILED, &error, object);
            error
        })?;
    let fetched = reconcile_source(object, context, status, work.path()).await?;
    reconcile_artifact(object, context, status, fetched, work.path(), notes).await
}

/// Sets the negative-polarity condition `type_` from `error`.
fn mark(status: &mut OCIRepositoryStatus, type_: &str, error: &Error, object: &OCIRepository) {
    use sluice_runtime::ReconcileError;
    conditions::set(
        status.conditions_mut(),
        type_,
        ConditionStatus::True,
        error.reason(),
        &error.to_string(),
        object.meta().generation,
    );
}

/// A failure of the source step: `FetchFailed=True` with the error.
fn fetch_failed(status: &mut OCIRepositoryStatus, object: &OCIRepository, error: Error) -> Error {
    mark(status, FETCH_FAILED, &error, object);
    error
}

/// What the source step found.
struct Fetched {
    /// `<tag>@sha256:<hex>` or `sha256:<hex>`.
    revision: String,
    /// The manifest's annotations, when the layer was pulled.
    metadata: Option<BTreeMap<String, String>>,
    /// Whether the layer was pulled into the work directory (else the artifact is
    /// current).
    pulled: bool,
}

/// Whether `spec.ignore` or `spec.layerSelector` differ from what the artifact was
/// built with.
fn content_config_changed(object: &OCIRepository, status: &OCIRepositoryStatus) -> bool {
    object.spec.ignore != status.observed_ignore
        || object.spec.layer_selector != status.observed_layer_selector
}

async fn reconcile_source(
    object: &OCIRepository,
    context: &Context,
    status: &mut OCIRepositoryStatus,
    work: &Path,
) -> Result<Fetched, Error> {
    let spec = &object.spec;
    let namespace = object.namespace().unwrap_or_default();
    let generation = object.meta().generation;

    if spec.proxy_secret_ref.is_some() {
        let error = Error::stalling(
            AUTHENTICATION_FAILED,
            "failed to get proxy address: proxySecretRef is not supported yet",
        );
        return Err(fetch_failed(status, object, error));
    }

    // Credentials: secretRef, else the ServiceAccount's image pull secrets.
    let keychain = match keychain(object, context, &namespace).await {
        Ok(keychain) => keychain,
        Err(message) => {
            let error = Error::generic(
                AUTHENTICATION_FAILED,
                format!("failed to get credential: {message}"),
            );
            return Err(fetch_failed(status, object, error));
        }
    };
    if spec.provider() != OciProvider::Generic && spec.secret_ref.is_none() {
        let provider = serde_json::to_value(spec.provider())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let error = Error::stalling(
            AUTHENTICATION_FAILED,
            format!(
                "failed to get credential from {provider}: cloud provider authentication is not supported yet; use a secretRef"
            ),
        );
        return Err(fetch_failed(status, object, error));
    }

    let tls = match &spec.cert_secret_ref {
        None => None,
        Some(reference) => {
            let material = match common::secret_data(context, &namespace, &reference.name).await {
                Ok(data) => {
                    TlsMaterial::from_secret_data(&format!("{namespace}/{}", reference.name), &data)
                        .map_err(|e| e.to_string())
                }
                Err(message) => Err(message),
            };
            match material {
                Ok(material) => Some(material),
                Err(message) => {
                    let error = Error::generic(
                        AUTHENTICATION_FAILED,
                        format!("failed to generate transport for '{}': {message}", spec.url),
                    );
                    return Err(fetch_failed(status, object, error));
                }
            }
        }
    };

    let repository = match Repository::parse_url(&spec.url) {
        Ok(repository) => repository,
        Err(invalid) => {
            let error = Error::stalling(
                URL_INVALID,
                format!("URL validation failed for '{}': {invalid}", spec.url),
            );
            return Err(fetch_failed(status, object, error));
        }
    };
    let credential = keychain
        .resolve(repository.registry(), repository.path())
        .cloned();
    let client = RegistryClient::new(
        repository.clone(),
        ClientOptions {
            insecure: spec.insecure.unwrap_or(false),
            tls,
            credential,
            max_blob_size: None,
        },
    )
    .map_err(|e| {
        let error = Error::generic(
            AUTHENTICATION_FAILED,
            format!("failed to generate transport for '{}': {e}", spec.url),
        );
        fetch_failed(status, object, error)
    })?;

    let timeout = sluice_runtime::args::parse_go_duration(spec.timeout())
        .unwrap_or(std::time::Duration::from_secs(60));
    let reference = match tokio::time::timeout(timeout, artifact_reference(object, &client)).await {
        Ok(Ok(reference)) => reference,
        Ok(Err(message)) => {
            let error = Error::generic(
                READ_OPERATION_FAILED,
                format!(
                    "failed to determine the artifact tag for '{}': {message}",
                    spec.url
                ),
            );
            return Err(fetch_failed(status, object, error));
        }
        Err(_) => {
            let error = Error::generic(
                READ_OPERATION_FAILED,
                format!(
                    "failed to determine the artifact tag for '{}': timeout after {timeout:?}",
                    spec.url
                ),
            );
            return Err(fetch_failed(status, object, error));
        }
    };

    let revision = match &reference {
        Reference::Digest(digest) => match crate::oci::parse_digest(digest) {
            Ok(_) => Ok(digest.clone()),
            Err(message) => Err(message),
        },
        Reference::Tag(tag) => match tokio::time::timeout(timeout, client.resolve_tag(tag)).await {
            Ok(Ok(digest)) => Ok(format!("{tag}@{digest}")),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("timeout after {timeout:?}")),
        },
    };
    let revision = match revision {
        Ok(revision) => revision,
        Err(message) => {
            let error = Error::generic(
                OCI_PULL_FAILED,
                format!("failed to determine artifact digest: {message}"),
            );
            return Err(fetch_failed(status, object, error));
        }
    };
    let digest = digest_of_revision(&revision).to_owned();

    let has_revision = status
        .artifact
        .as_ref()
        .is_some_and(|a| a.revision == revision);
    if !has_revision {
        let shown = match &reference {
            Reference::Tag(tag) => repository.tag_reference(tag),
            Reference::Digest(digest) => repository.digest_reference(digest),
        };
        let message = format!("new revision '{revision}' for '{shown}'");
        if status.artifact.is_some() {
            conditions::set(
                status.conditions_mut(),
                ARTIFACT_OUTDATED,
                ConditionStatus::True,
                NEW_REVISION,
                &message,
                generation,
            );
        }
        common::progress(status, &format!("building artifact: {message}"), generation);
    }

    match &spec.verify {
        None => conditions::remove(status.conditions_mut(), SOURCE_VERIFIED),
        Some(verify) => {
            let provider = serde_json::to_value(verify.provider())
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "cosign".to_owned());
            let message = format!(
                "failed to verify the signature using provider '{provider}': signature verification is not supported yet; remove spec.verify to pull unverified artifacts"
            );
            conditions::set(
                status.conditions_mut(),
                SOURCE_VERIFIED,
                ConditionStatus::False,
                VERIFICATION_ERROR,
                &message,
                generation,
            );
            return Err(Error::stalling(VERIFICATION_ERROR, message));
        }
    }

    if has_revision && !content_config_changed(object, status) {
        conditions::remove(status.conditions_mut(), FETCH_FAILED);
        return Ok(Fetched {
            revision,
            metadata: None,
            pulled: false,
        });
    }

    let manifest = match tokio::time::timeout(timeout, client.image_manifest(&digest)).await {
        Ok(Ok(manifest)) => manifest,
        Ok(Err(error)) => {
            let error = Error::generic(
                OCI_PULL_FAILED,
                format!("failed to pull artifact from '{}': {error}", spec.url),
            );
            return Err(fetch_failed(status, object, error));
        }
        Err(_) => {
            let error = Error::generic(
                OCI_PULL_FAILED,
                format!(
                    "failed to pull artifact from '{}': timeout after {timeout:?}",
                    spec.url
                ),
            );
            return Err(fetch_failed(status, object, error));
        }
    };
    let metadata = annotations(&manifest);
    let layer = match select_layer(&manifest, spec.layer_media_type()) {
        Ok(layer) => layer.clone(),
        Err(message) => {
            let error = Error::generic(OCI_LAYER_OPERATION_FAILED, message);
            return Err(fetch_failed(status, object, error));
        }
    };

    let blob = work.join("layer.blob");
    let downloaded = tokio::time::timeout(timeout, client.download_blob(&layer, &blob)).await;
    match downloaded {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            let error = Error::generic(
                OCI_PULL_FAILED,
                format!("failed to pull artifact from '{}': {error}", spec.url),
            );
            return Err(fetch_failed(status, object, error));
        }
        Err(_) => {
            let error = Error::generic(
                OCI_PULL_FAILED,
                format!(
                    "failed to pull artifact from '{}': timeout after {timeout:?}",
                    spec.url
                ),
            );
            return Err(fetch_failed(status, object, error));
        }
    }

    let content = work.join("content");
    let placed = match spec.layer_operation() {
        LayerOperation::Extract => {
            let content = content.clone();
            let blob = blob.clone();
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&content).map_err(|e| e.to_string())?;
                let file = std::fs::File::open(&blob).map_err(|e| e.to_string())?;
                sluice_runtime::artifact::extract_tarball(file, &content, ExtractOptions::default())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .map_err(|e| format!("failed to extract layer contents from artifact: {e}"))
        }
        LayerOperation::Copy => {
            let target = content.join(format!("{digest}.tgz"));
            std::fs::create_dir_all(&content)
                .and_then(|()| std::fs::rename(&blob, &target))
                .map_err(|e| format!("failed to copy layer from artifact: {e}"))
        }
    };
    if let Err(message) = placed {
        let error = Error::generic(OCI_LAYER_OPERATION_FAILED, message);
        return Err(fetch_failed(status, object, error));
    }
    conditions::remove(status.conditions_mut(), FETCH_FAILED);
    Ok(Fetched {
        revision,
        metadata: Some(metadata),
        pulled: true,
    })
}

/// The part of a revision after its last `@`: the manifest digest.
fn digest_of_revision(revision: &str) -> &str {
    revision.rsplit('@').next().unwrap_or(revision)
}

/// The layer `spec.layerSelector.mediaType` selects: the first layer of that media type,
/// or the first layer when no media type is given.
fn select_layer<'a>(
    manifest: &'a ImageManifest,
    media_type: Option<&str>,
) -> Result<&'a crate::oci::Descriptor, String> {
    if manifest.layers.is_empty() {
        return Err("no layers found in artifact".to_owned());
    }
    match media_type.filter(|m| !m.is_empty()) {
        None => manifest
            .layers
            .first()
            .ok_or_else(|| "no layers found in artifact".to_owned()),
        Some(wanted) => manifest
            .layers
            .iter()
            .find(|l| l.media_type == wanted)
            .ok_or_else(|| format!("failed to find layer with media type '{wanted}' in artifact")),
    }
}

/// Which manifest `spec.ref` points at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reference {
    Tag(String),
    Digest(String),
}

/// Resolves `spec.ref` with upstream's precedence: digest, semver, tag, `latest`.
async fn artifact_reference(
    object: &OCIRepository,
    client: &RegistryClient,
) -> Result<Reference, String> {
    let Some(reference) = &object.spec.reference else {
        return Ok(Reference::Tag(DEFAULT_TAG.to_owned()));
    };
    if let Some(digest) = reference.digest.as_deref().filter(|d| !d.is_empty()) {
        return Ok(Reference::Digest(digest.to_owned()));
    }
    if let Some(range) = reference.semver.as_deref().filter(|s| !s.is_empty()) {
        let tags = client.list_tags().await.map_err(|e| e.to_string())?;
        return select_semver_tag(
            &tags,
            range,
            reference.semver_filter.as_deref(),
            object.spec.layer_media_type(),
        )
        .map(Reference::Tag);
    }
    if let Some(tag) = reference.tag.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Reference::Tag(tag.to_owned()));
    }
    Ok(Reference::Tag(DEFAULT_TAG.to_owned()))
}

/// The tag of the highest version within `range` among `tags` (only those matching
/// `filter`, an unanchored regular expression, when given). For Helm chart layers, `_`
/// in a tag reads as `+` (OCI tags cannot hold `+`).
///
/// # Errors
/// The upstream messages: an invalid filter or range, `no match found for semver: ..`.
pub fn select_semver_tag(
    tags: &[String],
    range: &str,
    filter: Option<&str>,
    media_type: Option<&str>,
) -> Result<String, String> {
    let tags: Vec<&String> = match filter.filter(|f| !f.is_empty()) {
        None => tags.iter().collect(),
        Some(pattern) => {
            let regex = regex::Regex::new(pattern)
                .map_err(|e| format!("failed to compile regex '{pattern}': {e}"))?;
            tags.iter().filter(|t| regex.is_match(t)).collect()
        }
    };
    let constraints =
        Constraints::parse(range).map_err(|e| format!("semver '{range}' parse error: {e}"))?;
    let helm = media_type == Some(HELM_CHART_LAYER);
    let mut best: Option<(Version, &String)> = None;
    for tag in tags {
        let semver_tag = if helm {
            tag.replace('_', "+")
        } else {
            tag.clone()
        };
        let Ok(version) = Version::parse_tag(&semver_tag) else {
            continue;
        };
        if !constraints.matches(&version) {
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| version > *b) {
            best = Some((version, tag));
        }
    }
    best.map(|(_, tag)| tag.clone())
        .ok_or_else(|| format!("no match found for semver: {range}"))
}

/// The logins for the registry: `spec.secretRef`, then the image pull secrets of
/// `spec.serviceAccountName`.
async fn keychain(
    object: &OCIRepository,
    context: &Context,
    namespace: &str,
) -> Result<Keychain, String> {
    let mut keychain = Keychain::default();
    if let Some(reference) = &object.spec.secret_ref {
        let data = common::secret_data(context, namespace, &reference.name).await?;
        keychain.add_secret(&format!("{namespace}/{}", reference.name), &data)?;
    }
    if let Some(account) = object
        .spec
        .service_account_name
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        let api: Api<ServiceAccount> = Api::namespaced(context.client.clone(), namespace);
        let account = api.get(account).await.map_err(|e| {
            format!(
                "failed to get service account '{namespace}/{account}': {}",
                common::api_message(&e)
            )
        })?;
        for secret in account.image_pull_secrets.unwrap_or_default() {
            let name = secret.name;
            if name.is_empty() {
                continue;
            }
            let data = common::secret_data(context, namespace, &name).await?;
            keychain.add_secret(&format!("{namespace}/{name}"), &data)?;
        }
    }
    Ok(keychain)
}

async fn reconcile_artifact(
    object: &OCIRepository,
    context: &Context,
    status: &mut OCIRepositoryStatus,
    fetched: Fetched,
    work: &Path,
    notes: &mut Notes,
) -> Result<Progress, Error> {
    let generation = object.meta().generation;
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let revision = fetched.revision.clone();
    let stored = |status: &mut OCIRepositoryStatus| {
        conditions::remove(status.conditions_mut(), ARTIFACT_OUTDATED);
        conditions::set(
            status.conditions_mut(),
            ARTIFACT_IN_STORAGE,
            ConditionStatus::True,
            SUCCEEDED_REASON,
            &format!("stored artifact for digest '{revision}'"),
            generation,
        );
    };
    if !fetched.pulled {
        stored(status);
        return Ok(Progress::Success);
    }
    let file = format!("{}.tar.gz", digest_of_revision(&fetched.revision));
    let mut artifact = context
        .storage
        .new_artifact(KIND, &namespace, &name, &fetched.revision, &file)
        .map_err(|e| {
            let error = Error::generic(
                sluice_api::source::v1::reasons::INVALID_PATH,
                format!("invalid artifact path: {e}"),
            );
            mark(status, STORAGE_OPERATION_FAILED, &error, object);
            error
        })?;
    artifact.metadata = fetched.metadata.clone().filter(|m| !m.is_empty());
    let content: PathBuf = work.join("content");
    let operation = object.spec.layer_operation();
    let ignore = object.spec.ignore.clone();
    let digest = digest_of_revision(&fetched.revision).to_owned();
    let write = move |storage: &Storage, artifact: &mut Artifact| match operation {
        LayerOperation::Copy => {
            let path = content.join(format!("{digest}.tgz"));
            let file =
                std::fs::File::open(&path).map_err(|source| crate::storage::StorageError::Io {
                    operation: "opening",
                    path: path.clone(),
                    source,
                })?;
            storage.copy_from(artifact, file)
        }
        LayerOperation::Extract => {
            let rules = IgnoreRules::for_source(&content, ignore.as_deref()).map_err(|source| {
                crate::storage::StorageError::Io {
                    operation: "loading ignore rules from",
                    path: content.clone(),
                    source,
                }
            })?;
            storage.archive(artifact, &content, Some(&rules))
        }
    };
    let failure = match operation {
        LayerOperation::Copy => "unable to copy artifact to storage",
        LayerOperation::Extract => "unable to archive artifact to storage",
    };
    let (artifact, url) = match common::store_artifact(context, artifact, failure, write).await {
        Ok(stored) => stored,
        Err(error) => {
            mark(status, STORAGE_OPERATION_FAILED, &error, object);
            return Err(error);
        }
    };
    let mut message = format!(
        "stored artifact with revision '{}' from '{}'",
        artifact.revision, object.spec.url
    );
    if let Some(metadata) = &artifact.metadata
        && let (Some(source), Some(origin)) = (
            metadata.get(crate::oci::SOURCE_ANNOTATION),
            metadata.get(crate::oci::REVISION_ANNOTATION),
        )
    {
        message = format!("{message}, origin source '{source}', origin revision '{origin}'");
    }
    notes.new_artifact_message = Some(message);
    status.artifact = Some(artifact);
    status.observed_ignore = object.spec.ignore.clone();
    status.observed_layer_selector = object
        .spec
        .layer_selector
        .clone()
        .map(|s| OCILayerSelector {
            media_type: s.media_type,
            operation: s.operation,
        });
    if let Some(url) = url {
        status.url = Some(url);
    }
    conditions::remove(status.conditions_mut(), STORAGE_OPERATION_FAILED);
    stored(status);
    Ok(Progress::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const UPSTREAM_TAGS: &[&str] = &[
        "6.1.4",
        "6.1.5-beta.1",
        "6.1.5-rc.1",
        "6.1.5",
        "6.1.6-rc.1",
        "6.1.6",
        "6.2.1_ref.1234567",
        "6.2.1",
    ];

    #[test]
    fn semver_picks_the_highest_matching_tag() {
        // [O4] ~6.1.x → 6.1.6.
        let tags = tags(UPSTREAM_TAGS);
        assert_eq!(
            select_semver_tag(&tags, "~6.1.x", None, None).unwrap(),
            "6.1.6"
        );
        assert_eq!(
            select_semver_tag(&tags, ">= 6.1.5", None, None).unwrap(),
            "6.2.1"
        );
    }

    #[test]
    fn helm_chart_tags_read_underscores_as_build_metadata() {
        // [O4] >= 6.2.0 with the Helm media type → 6.2.1 or 6.2.1_ref.1234567.
        let tags = tags(UPSTREAM_TAGS);
        let picked = select_semver_tag(&tags, ">= 6.2.0", None, Some(HELM_CHART_LAYER)).unwrap();
        assert!(
            picked == "6.2.1" || picked == "6.2.1_ref.1234567",
            "{picked}"
        );
    }

    #[test]
    fn the_semver_filter_narrows_the_candidates() {
        // [O4] >= 6.1.x-0 with filter .*-rc.* → 6.1.6-rc.1; .*-alpha.* → no match.
        let tags = tags(UPSTREAM_TAGS);
        assert_eq!(
            select_semver_tag(&tags, ">= 6.1.x-0", Some(".*-rc.*"), None).unwrap(),
            "6.1.6-rc.1"
        );
        assert_eq!(
            select_semver_tag(&tags, ">= 6.1.x-0", Some(".*-alpha.*"), None).unwrap_err(),
            "no match found for semver: >= 6.1.x-0"
        );
    }

    #[test]
    fn no_match_and_bad_ranges_have_upstream_messages() {
        let tags = tags(UPSTREAM_TAGS);
        assert_eq!(
            select_semver_tag(&tags, "<= 6.1.0", None, None).unwrap_err(),
            "no match found for semver: <= 6.1.0"
        );
        assert!(
            select_semver_tag(&tags, "1.0.0p", None, None)
                .unwrap_err()
                .starts_with("semver '1.0.0p' parse error")
        );
        assert!(select_semver_tag(&tags, "*", Some("(["), None).is_err());
    }

    #[test]
    fn the_revision_digest_is_after_the_last_at() {
        assert_eq!(digest_of_revision("6.1.6@sha256:abc"), "sha256:abc");
        assert_eq!(digest_of_revision("sha256:abc"), "sha256:abc");
    }

    fn manifest(layers: &[&str]) -> ImageManifest {
        serde_json::from_value(serde_json::json!({
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.cncf.flux.config.v1+json", "digest": "sha256:00", "size": 2},
            "layers": layers.iter().enumerate().map(|(i, m)| serde_json::json!({
                "mediaType": m, "digest": format!("sha256:{i:064}"), "size": 1
            })).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    #[test]
    fn layers_are_selected_by_media_type_or_first() {
        // [O2] none → first layer; known media type → that layer; unknown → error.
        let m = manifest(&["application/a", "application/b"]);
        assert_eq!(select_layer(&m, None).unwrap().media_type, "application/a");
        assert_eq!(
            select_layer(&m, Some("application/b")).unwrap().media_type,
            "application/b"
        );
        assert_eq!(
            select_layer(&m, Some("application/c")).unwrap_err(),
            "failed to find layer with media type 'application/c' in artifact"
        );
        assert_eq!(
            select_layer(&manifest(&[]), None).unwrap_err(),
            "no layers found in artifact"
        );
    }
}
