//! Status handling: the reconcile-request token, the end-of-reconcile summary, and the
//! single status write per reconcile (server-side apply on the status subresource).

use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sluice_api::meta::{FluxStatus, RECONCILE_REQUEST_ANNOTATION, conditions};

use crate::reconcile::{ErrorClass, ReconcileError};

/// The `reconcile.fluxcd.io/requestedAt` token on the object, if any.
pub fn reconcile_request<K: Resource>(object: &K) -> Option<&str> {
    object
        .meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(RECONCILE_REQUEST_ANNOTATION))
        .map(String::as_str)
}

/// Watch predicate for the primary object of a Flux-style controller: it changes when the
/// generation changes, when the reconcile-request token changes, or when deletion starts.
/// Status-only and label/annotation-only updates do not wake the controller, as upstream.
///
/// Use with `kube::runtime::WatchStreamExt::predicate_filter`.
pub fn generation_or_reconcile_request<K: Resource>(object: &K) -> Option<u64> {
    let mut hasher = DefaultHasher::new();
    object.meta().generation.hash(&mut hasher);
    reconcile_request(object).hash(&mut hasher);
    object.meta().deletion_timestamp.is_some().hash(&mut hasher);
    Some(hasher.finish())
}

/// How a reconcile ended, for [`summarize`].
#[derive(Debug)]
pub enum Outcome<'a> {
    /// Everything succeeded; `Ready=True` with this reason and message.
    Ready {
        /// Condition reason, e.g. `Succeeded`.
        reason: &'a str,
        /// Condition message, e.g. `stored artifact for revision '...'`.
        message: &'a str,
    },
    /// The reconcile failed.
    Failed(&'a dyn ReconcileError),
}

/// Writes the end of a reconcile into the in-memory status, the way Flux does:
///
/// - `lastHandledReconcileAt` takes the object's reconcile-request token (if any);
/// - success: `Ready=True`, no `Reconciling`/`Stalled`, `observedGeneration` = generation;
/// - a stalling error: `Stalled=True`, `Ready=False` with the error's reason, and
///   `observedGeneration` = generation (the generation was acted on; only a new spec helps);
/// - other errors: `Ready=False` with the error's reason, `Reconciling` (if present)
///   rewritten to `ProgressingWithRetry`, `observedGeneration` unchanged.
pub fn summarize<K: Resource, S: FluxStatus>(object: &K, status: &mut S, outcome: Outcome<'_>) {
    let generation = object.meta().generation;
    status.set_last_handled_reconcile_at(
        reconcile_request(object)
            .map(str::to_owned)
            .or_else(|| status.last_handled_reconcile_at().map(str::to_owned)),
    );
    match outcome {
        Outcome::Ready { reason, message } => {
            conditions::mark_ready(status.conditions_mut(), reason, message, generation);
            status.set_observed_generation(generation);
        }
        Outcome::Failed(error) => {
            let message = error.to_string();
            match error.class() {
                ErrorClass::Stalled => {
                    conditions::mark_stalled(
                        status.conditions_mut(),
                        error.reason(),
                        &message,
                        generation,
                    );
                    status.set_observed_generation(generation);
                }
                ErrorClass::Transient | ErrorClass::Waiting => {
                    conditions::mark_failed_with_retry(
                        status.conditions_mut(),
                        error.reason(),
                        &message,
                        generation,
                    );
                }
            }
        }
    }
}

/// Writes `status` as the object's whole status with server-side apply on the status
/// subresource, owned by `field_manager` (forcing conflicts, since the controller is the
/// status's only writer). Fields of the status the manager wrote before and left out now
/// are removed, so a cleared field really disappears.
///
/// # Errors
/// The API error, e.g. `NotFound` when the object was deleted meanwhile.
pub async fn apply_status<K, S>(
    api: &Api<K>,
    object: &K,
    field_manager: &str,
    status: &S,
) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: Serialize,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(field_manager).force();
    api.patch_status(&object.name_any(), &params, &Patch::Apply(&patch))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_api::meta::ObjectWithConditions;
    use sluice_api::meta::conditions::{READY, RECONCILING, STALLED, find, is_true};
    use sluice_api::source::v1::{GitRepository, GitRepositorySpec, GitRepositoryStatus};

    #[derive(Debug, thiserror::Error)]
    #[error("boom")]
    struct Failure(ErrorClass);
    impl ReconcileError for Failure {
        fn class(&self) -> ErrorClass {
            self.0
        }
        fn reason(&self) -> &str {
            "GitOperationFailed"
        }
    }

    fn repo(generation: i64, token: Option<&str>) -> GitRepository {
        let mut repo = GitRepository::new("podinfo", GitRepositorySpec::default());
        repo.metadata.generation = Some(generation);
        if let Some(token) = token {
            repo.annotations_mut()
                .insert(RECONCILE_REQUEST_ANNOTATION.into(), token.into());
        }
        repo
    }

    #[test]
    fn success_marks_ready_and_observes_the_generation() {
        let mut status = GitRepositoryStatus::default();
        conditions::mark_reconciling(status.conditions_mut(), "Progressing", "x", Some(3));
        summarize(
            &repo(3, Some("now")),
            &mut status,
            Outcome::Ready {
                reason: "Succeeded",
                message: "ok",
            },
        );
        assert!(is_true(status.conditions(), READY));
        assert!(find(status.conditions(), RECONCILING).is_none());
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(status.last_handled_reconcile_at.as_deref(), Some("now"));
    }

    #[test]
    fn transient_failure_keeps_the_observed_generation() {
        let mut status = GitRepositoryStatus {
            observed_generation: Some(1),
            ..Default::default()
        };
        conditions::mark_reconciling(status.conditions_mut(), "Progressing", "x", Some(2));
        summarize(
            &repo(2, None),
            &mut status,
            Outcome::Failed(&Failure(ErrorClass::Transient)),
        );
        assert_eq!(status.observed_generation, Some(1));
        let ready = find(status.conditions(), READY).unwrap();
        assert_eq!(
            (
                ready.status.as_str(),
                ready.reason.as_str(),
                ready.message.as_str()
            ),
            ("False", "GitOperationFailed", "boom")
        );
        assert_eq!(
            find(status.conditions(), RECONCILING).unwrap().reason,
            "ProgressingWithRetry"
        );
    }

    #[test]
    fn stalling_failure_observes_the_generation_and_drops_reconciling() {
        let mut status = GitRepositoryStatus::default();
        conditions::mark_reconciling(status.conditions_mut(), "Progressing", "x", Some(5));
        summarize(
            &repo(5, None),
            &mut status,
            Outcome::Failed(&Failure(ErrorClass::Stalled)),
        );
        assert_eq!(status.observed_generation, Some(5));
        assert!(is_true(status.conditions(), STALLED));
        assert!(find(status.conditions(), RECONCILING).is_none());
    }

    #[test]
    fn an_earlier_token_is_kept_when_the_annotation_is_gone() {
        let mut status = GitRepositoryStatus {
            last_handled_reconcile_at: Some("earlier".into()),
            ..Default::default()
        };
        summarize(
            &repo(1, None),
            &mut status,
            Outcome::Ready {
                reason: "Succeeded",
                message: "ok",
            },
        );
        assert_eq!(status.last_handled_reconcile_at.as_deref(), Some("earlier"));
    }

    #[test]
    fn the_watch_predicate_ignores_status_and_sees_requests() {
        let base = repo(1, None);
        let mut status_only = base.clone();
        status_only.status = Some(GitRepositoryStatus {
            observed_generation: Some(1),
            ..Default::default()
        });
        assert_eq!(
            generation_or_reconcile_request(&base),
            generation_or_reconcile_request(&status_only)
        );
        assert_ne!(
            generation_or_reconcile_request(&base),
            generation_or_reconcile_request(&repo(2, None))
        );
        assert_ne!(
            generation_or_reconcile_request(&base),
            generation_or_reconcile_request(&repo(1, Some("t")))
        );
    }
}

#[cfg(test)]
mod apply_tests {
    use super::*;
    use crate::testing::{expect, json_response, mock_client};
    use sluice_api::source::v1::{GitRepository, GitRepositorySpec, GitRepositoryStatus};

    #[tokio::test]
    async fn status_is_written_once_with_server_side_apply_on_the_subresource() {
        let (client, mut server) = mock_client();
        let api: Api<GitRepository> = Api::namespaced(client, "flux-system");
        let mut repo = GitRepository::new("podinfo", GitRepositorySpec::default());
        repo.metadata.namespace = Some("flux-system".into());
        let status = GitRepositoryStatus {
            observed_generation: Some(2),
            ..Default::default()
        };
        let server = tokio::spawn(async move {
            let (body, respond) = expect(
                &mut server,
                "PATCH",
                "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/podinfo/status?&force=true&fieldManager=source-controller",
            )
            .await;
            assert_eq!(body["apiVersion"], "source.toolkit.fluxcd.io/v1");
            assert_eq!(body["kind"], "GitRepository");
            assert_eq!(body["status"]["observedGeneration"], 2);
            assert!(body.get("spec").is_none(), "only the status is applied");
            let mut object =
                serde_json::to_value(GitRepository::new("podinfo", GitRepositorySpec::default()))
                    .unwrap();
            object["status"] = body["status"].clone();
            respond.send_response(json_response(200, &object));
        });
        let written = apply_status(&api, &repo, "source-controller", &status)
            .await
            .unwrap();
        assert_eq!(written.status.unwrap().observed_generation, Some(2));
        server.await.unwrap();
    }
}
