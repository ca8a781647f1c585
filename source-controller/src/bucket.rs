//! The Bucket reconciler and its S3 client ([`s3`], signed with [`sigv4`]).
//!
//! A reconcile indexes the bucket (keys under `spec.prefix` with their ETags, minus
//! what the bucket's own `.sourceignore` object and `spec.ignore` exclude), computes the
//! revision from that index exactly as upstream does ([`revision`]), downloads the
//! objects only when the revision differs from the stored artifact's, and archives them
//! as `bucket/<ns>/<name>/<hex>.tar.gz`.
//!
//! # Caveats
//! - Providers `generic` and `aws` are implemented over path-style S3 requests with
//!   static credentials from `secretRef` (for `aws` without a Secret, the
//!   `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` environment of the
//!   controller, else anonymous requests). `gcp` and `azure`, `sts` and
//!   `proxySecretRef` stall the object with a "not supported yet" condition.
//! - Object keys that would leave the download directory (`../`, absolute keys,
//!   backslashes) fail the fetch rather than being clamped into it as upstream's secure
//!   join does: such a key is never written anywhere.

pub mod s3;
pub mod sigv4;
pub mod xml;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use futures::future::BoxFuture;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};
use sha2::{Digest as _, Sha256};
use sluice_api::meta::conditions::{
    self, ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, ConditionStatus, FETCH_FAILED,
    STORAGE_OPERATION_FAILED, SUCCEEDED_REASON,
};
use sluice_api::meta::{Artifact, ObjectWithConditions};
use sluice_api::source::v1::bucket::reasons::BUCKET_OPERATION_FAILED;
use sluice_api::source::v1::reasons::{
    AUTHENTICATION_FAILED, INVALID_STS_CONFIGURATION, NEW_REVISION,
};
use sluice_api::source::v1::{Bucket, BucketProvider, BucketStatus};
use tokio_util::sync::CancellationToken;

use self::s3::{S3Client, S3Options};
use self::sigv4::Credentials;
use crate::common::{self, Notes, SourceObject};
use crate::error::Error;
use crate::ignore::{IGNORE_FILE, IgnoreRules, parse_patterns};
use crate::summary::{self, Progress};
use crate::transport::{TlsMaterial, TlsSettings};
use crate::{Context, storage::Storage};

/// The kind, as in storage paths and events.
pub const KIND: &str = "Bucket";
/// Objects downloaded at once, as upstream.
pub const MAX_CONCURRENT_FETCHES: usize = 100;

impl SourceObject for Bucket {
    type Status = BucketStatus;
    const SUMMARY: summary::ReadySummary = summary::BUCKET;

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

/// The Bucket controller, a future that ends on `shutdown`.
pub fn controller(context: Arc<Context>, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
    common::run_controller::<Bucket, _, _>(context, shutdown, reconcile)
}

/// The revision of an index: `sha256:<hex>` of one `<key> <etag>\n` line per object,
/// keys in byte order (upstream's `index.Digester`).
pub fn revision(index: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (key, etag) in index {
        hasher.update(key.as_bytes());
        hasher.update(b" ");
        hasher.update(etag.as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// The local path of object `key` under `root`.
///
/// # Errors
/// A message when the key is absolute, contains a backslash or a `..` component, or
/// names no file.
pub fn object_path(root: &Path, key: &str) -> Result<PathBuf, String> {
    if key.starts_with('/') || key.contains('\\') || key.contains('\0') {
        return Err("the key is not a relative path".to_owned());
    }
    let mut path = root.to_owned();
    let mut any = false;
    for component in Path::new(key).components() {
        match component {
            Component::Normal(part) => {
                path.push(part);
                any = true;
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err("the key escapes the artifact root".to_owned());
            }
        }
    }
    if !any {
        return Err("the key names no file".to_owned());
    }
    Ok(path)
}

/// Reconciles one Bucket (see the module documentation).
///
/// # Errors
/// The failed step's error, after it was written to the status.
pub async fn reconcile(object: Arc<Bucket>, context: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<Bucket> = Api::namespaced(context.client.clone(), &namespace);
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
    object: &Bucket,
    context: &Context,
    status: &mut BucketStatus,
    notes: &mut Notes,
) -> Result<Progress, Error> {
    common::reconcile_storage(object, status, context).await?;
    let work = tempfile::Builder::new()
        .prefix("bucket-")
        .tempdir()
        .map_err(|e| {
            let error = Error::generic(
                sluice_api::source::v1::reasons::DIRECTORY_CREATION_FAILED,
                format!("failed to create temporary working directory: {e}"),
            );
            mark(status, STORAGE_OPERATION_FAILED, &error, object);
            error
        })?;
    let index = reconcile_source(object, context, status, work.path()).await?;
    reconcile_artifact(object, context, status, &index, work.path(), notes).await
}

fn mark(status: &mut BucketStatus, type_: &str, error: &Error, object: &Bucket) {
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

fn fetch_failed(status: &mut BucketStatus, object: &Bucket, error: Error) -> Error {
    mark(status, FETCH_FAILED, &error, object);
    error
}

/// Credentials and TLS from the Bucket's Secrets, the S3 client.
async fn client(object: &Bucket, context: &Context) -> Result<S3Client, Error> {
    let spec = &object.spec;
    let namespace = object.namespace().unwrap_or_default();
    match spec.provider() {
        BucketProvider::Generic | BucketProvider::Aws => {}
        other => {
            let provider = serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(Error::stalling(
                BUCKET_OPERATION_FAILED,
                format!(
                    "provider '{provider}' is not supported yet: use 'generic' or 'aws' with an S3-compatible endpoint"
                ),
            ));
        }
    }
    if spec.sts.is_some() {
        return Err(Error::stalling(
            INVALID_STS_CONFIGURATION,
            "spec.sts is not supported yet",
        ));
    }
    if spec.proxy_secret_ref.is_some() {
        return Err(Error::stalling(
            AUTHENTICATION_FAILED,
            "failed to get proxy URL: proxySecretRef is not supported yet",
        ));
    }
    let credentials = match &spec.secret_ref {
        Some(reference) => {
            let data = common::secret_data(context, &namespace, &reference.name)
                .await
                .map_err(|message| Error::generic(AUTHENTICATION_FAILED, message))?;
            let get = |key: &str| {
                data.get(key)
                    .map(|v| String::from_utf8_lossy(v).trim().to_owned())
            };
            match (get("accesskey"), get("secretkey")) {
                (Some(access_key), Some(secret_key)) => Some(Credentials {
                    access_key,
                    secret_key,
                    session_token: None,
                }),
                _ => {
                    return Err(Error::generic(
                        AUTHENTICATION_FAILED,
                        format!(
                            "invalid '{}' secret data: required fields 'accesskey' and 'secretkey'",
                            reference.name
                        ),
                    ));
                }
            }
        }
        None if spec.provider() == BucketProvider::Aws => {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(access_key), Some(secret_key)) => Some(Credentials {
                    access_key,
                    secret_key,
                    session_token: var("AWS_SESSION_TOKEN"),
                }),
                _ => None,
            }
        }
        None => None,
    };
    let material = match &spec.cert_secret_ref {
        None => TlsMaterial::default(),
        Some(reference) => {
            let data = common::secret_data(context, &namespace, &reference.name)
                .await
                .map_err(|message| Error::generic(AUTHENTICATION_FAILED, message))?;
            TlsMaterial::from_secret_data(&format!("{namespace}/{}", reference.name), &data)
                .map_err(|e| Error::generic(AUTHENTICATION_FAILED, e.to_string()))?
        }
    };
    S3Client::new(S3Options {
        endpoint: spec.endpoint.clone(),
        insecure: spec.insecure.unwrap_or(false),
        region: spec.region.clone(),
        credentials,
        tls: TlsSettings {
            material,
            skip_verify: false,
        },
    })
    .map_err(|message| Error::generic(AUTHENTICATION_FAILED, message))
}

/// Builds the index (keys → ETags) and downloads the objects when the revision
/// changed; returns the index.
async fn reconcile_source(
    object: &Bucket,
    context: &Context,
    status: &mut BucketStatus,
    work: &Path,
) -> Result<BTreeMap<String, String>, Error> {
    let generation = object.meta().generation;
    let client = match client(object, context).await {
        Ok(client) => client,
        Err(error) => return Err(fetch_failed(status, object, error)),
    };
    let timeout = sluice_runtime::args::parse_go_duration(object.spec.timeout())
        .unwrap_or(std::time::Duration::from_secs(60));
    let bucket = object.spec.bucket_name.as_str();
    let mut index = match tokio::time::timeout(timeout, etag_index(&client, object)).await {
        Ok(Ok(index)) => index,
        Ok(Err(message)) => {
            return Err(fetch_failed(
                status,
                object,
                Error::generic(BUCKET_OPERATION_FAILED, message),
            ));
        }
        Err(_) => {
            let message = format!(
                "indexation of objects from bucket '{bucket}' failed: timeout after {timeout:?}"
            );
            return Err(fetch_failed(
                status,
                object,
                Error::generic(BUCKET_OPERATION_FAILED, message),
            ));
        }
    };
    let current = status.artifact.as_ref().map(|a| a.revision.clone());
    let changed = current.as_deref() != Some(revision(&index).as_str());
    if changed {
        let fetched =
            tokio::time::timeout(timeout, fetch_objects(&client, bucket, &mut index, work)).await;
        let fetched = match fetched {
            Ok(result) => result,
            Err(_) => Err(format!("timeout after {timeout:?}")),
        };
        if let Err(message) = fetched {
            let message = format!("fetch from bucket '{bucket}' failed: {message}");
            return Err(fetch_failed(
                status,
                object,
                Error::generic(BUCKET_OPERATION_FAILED, message),
            ));
        }
        let revision = revision(&index);
        if current.as_deref() != Some(revision.as_str()) {
            let message = format!("new upstream revision '{revision}'");
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
    }
    conditions::remove(status.conditions_mut(), FETCH_FAILED);
    Ok(index)
}

/// Upstream's `fetchEtagIndex`: checks the bucket, reads its `.sourceignore`, lists the
/// objects and keeps those not ignored (nor directories, nor `.sourceignore` itself).
async fn etag_index(
    client: &S3Client,
    object: &Bucket,
) -> Result<BTreeMap<String, String>, String> {
    let bucket = object.spec.bucket_name.as_str();
    let exists = client
        .bucket_exists(bucket)
        .await
        .map_err(|e| format!("failed to confirm existence of '{bucket}' bucket: {e}"))?;
    if !exists {
        return Err(format!("bucket '{bucket}' not found"));
    }
    // The file is only read for its patterns: it is downloaded next to the work
    // directory, never into it, so it is not part of the artifact.
    let ignore_file = tempfile::NamedTempFile::new()
        .map_err(|e| format!("failed to create a temporary file: {e}"))?;
    let mut patterns = match client
        .get_object(bucket, IGNORE_FILE, ignore_file.path())
        .await
    {
        Ok(_) => {
            let text = tokio::fs::read_to_string(ignore_file.path())
                .await
                .map_err(|e| format!("failed to read '{IGNORE_FILE}' object: {e}"))?;
            parse_patterns(&text, &[])
        }
        Err(error) if error.is_no_such_key() => Vec::new(),
        Err(error) => {
            return Err(format!(
                "failed to get Etag for '{IGNORE_FILE}' object: {error}"
            ));
        }
    };
    if let Some(spec) = &object.spec.ignore {
        patterns.extend(parse_patterns(spec, &[]));
    }
    let rules = IgnoreRules::exact(patterns);
    let objects = client
        .list_objects(bucket, object.spec.prefix.as_deref())
        .await
        .map_err(|e| {
            format!(
                "indexation of objects from bucket '{bucket}' failed: listing objects from bucket '{bucket}' failed: {e}"
            )
        })?;
    let mut index = BTreeMap::new();
    for listed in objects {
        if listed.key.ends_with('/') || listed.key == IGNORE_FILE {
            continue;
        }
        if rules.is_ignored_key(&listed.key, false) {
            continue;
        }
        index.insert(listed.key, listed.etag);
    }
    Ok(index)
}

/// Downloads every indexed object under `dir` (at most [`MAX_CONCURRENT_FETCHES`] at
/// once). Objects that disappeared meanwhile leave the index; a changed ETag updates it.
async fn fetch_objects(
    client: &S3Client,
    bucket: &str,
    index: &mut BTreeMap<String, String>,
    dir: &Path,
) -> Result<(), String> {
    // Every path is checked before anything is downloaded.
    let mut planned = Vec::with_capacity(index.len());
    for key in index.keys() {
        let path = object_path(dir, key)
            .map_err(|e| format!("failed to resolve path for '{key}' object: {e}"))?;
        planned.push((key.clone(), path));
    }
    let results: Vec<(String, Result<String, s3::S3Error>)> = futures::stream::iter(planned)
        .map(|(key, path)| async move {
            if let Some(parent) = path.parent()
                && let Err(error) = tokio::fs::create_dir_all(parent).await
            {
                return (
                    key,
                    Err(s3::S3Error::Io {
                        operation: "creating",
                        path: parent.to_owned(),
                        source: error,
                    }),
                );
            }
            let result = client.get_object(bucket, &key, &path).await;
            (key, result)
        })
        .buffer_unordered(MAX_CONCURRENT_FETCHES)
        .collect()
        .await;
    for (key, result) in results {
        match result {
            Ok(etag) => {
                if !etag.is_empty() && index.get(&key) != Some(&etag) {
                    index.insert(key, etag);
                }
            }
            Err(error) if error.is_no_such_key() => {
                tracing::info!(key, bucket, "indexed object disappeared from the bucket");
                index.remove(&key);
            }
            Err(error) => return Err(format!("failed to get '{key}' object: {error}")),
        }
    }
    Ok(())
}

async fn reconcile_artifact(
    object: &Bucket,
    context: &Context,
    status: &mut BucketStatus,
    index: &BTreeMap<String, String>,
    work: &Path,
    notes: &mut Notes,
) -> Result<Progress, Error> {
    let generation = object.meta().generation;
    let revision = revision(index);
    let stored = |status: &mut BucketStatus| {
        conditions::remove(status.conditions_mut(), ARTIFACT_OUTDATED);
        conditions::set(
            status.conditions_mut(),
            ARTIFACT_IN_STORAGE,
            ConditionStatus::True,
            SUCCEEDED_REASON,
            &format!("stored artifact: revision '{revision}'"),
            generation,
        );
    };
    if status
        .artifact
        .as_ref()
        .is_some_and(|a| a.revision == revision)
    {
        stored(status);
        return Ok(Progress::Success);
    }
    let hex = revision.trim_start_matches("sha256:");
    let artifact = context
        .storage
        .new_artifact(
            KIND,
            &object.namespace().unwrap_or_default(),
            &object.name_any(),
            &revision,
            &format!("{hex}.tar.gz"),
        )
        .map_err(|e| {
            let error = Error::generic(
                sluice_api::source::v1::reasons::INVALID_PATH,
                format!("invalid artifact path: {e}"),
            );
            mark(status, STORAGE_OPERATION_FAILED, &error, object);
            error
        })?;
    let dir = work.to_owned();
    let write =
        move |storage: &Storage, artifact: &mut Artifact| storage.archive(artifact, &dir, None);
    let (artifact, url) = match common::store_artifact(
        context,
        artifact,
        "unable to archive artifact to storage",
        write,
    )
    .await
    {
        Ok(stored) => stored,
        Err(error) => {
            mark(status, STORAGE_OPERATION_FAILED, &error, object);
            return Err(error);
        }
    };
    notes.new_artifact_message = Some(format!(
        "stored artifact with {} fetched files from '{}' bucket",
        index.len(),
        object.spec.bucket_name
    ));
    status.artifact = Some(artifact);
    status.observed_ignore = object.spec.ignore.clone();
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

    #[test]
    fn the_revision_hashes_sorted_key_etag_lines() {
        let index: BTreeMap<String, String> = [("b.yaml", "2"), ("a.yaml", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let expected = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(b"a.yaml 1\nb.yaml 2\n"))
        );
        assert_eq!(revision(&index), expected);
        assert_eq!(
            revision(&BTreeMap::new()),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn keys_that_leave_the_root_are_refused() {
        let root = Path::new("/work/dir");
        assert_eq!(
            object_path(root, "dir/./a.yaml").unwrap(),
            PathBuf::from("/work/dir/dir/a.yaml")
        );
        assert_eq!(
            object_path(root, "a//b").unwrap(),
            PathBuf::from("/work/dir/a/b")
        );
        for key in [
            "../evil",
            "a/../../evil",
            "/etc/passwd",
            "a\\..\\b",
            ".",
            "",
        ] {
            assert!(object_path(root, key).is_err(), "{key}");
        }
    }
}
