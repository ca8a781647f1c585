//! The end of a source reconcile, as upstream's `summarize` helper does it: the
//! `Reconciling`/`Stalled` bookkeeping, `observedGeneration`, `lastHandledReconcileAt`,
//! and the `Ready` condition summarised from the kind's conditions by priority.
//!
//! # How `Ready` is computed
//! The kind lists its conditions in priority order ([`ReadySummary::priority`]) and says
//! which of them are abnormal when `True` ([`ReadySummary::negative_polarity`]). The
//! present conditions are grouped: negative-`True` (failures) first, then
//! positive-`False`, positive-`True`, negative-`False`, `Unknown`; `Ready` takes the
//! reason and message of the first condition (in priority order) of the first group, and
//! is `False` for the failure groups, `True` for positive-`True`, `Unknown` otherwise. A
//! `False` bipolar condition (`SourceVerified`) then overrides `Ready`.

use kube::{Resource, ResourceExt};
use sluice_api::meta::conditions::{
    self, ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, ConditionStatus, FETCH_FAILED,
    INCLUDE_UNAVAILABLE, PROGRESSING_WITH_RETRY_REASON, READY, RECONCILING, SOURCE_VERIFIED,
    STALLED, STORAGE_OPERATION_FAILED,
};
use sluice_api::meta::{Condition, FluxStatus};
use sluice_runtime::status::reconcile_request;

use crate::error::Error;

/// How a kind's conditions summarise into `Ready`.
#[derive(Debug, Clone, Copy)]
pub struct ReadySummary {
    /// Conditions in priority order.
    pub priority: &'static [&'static str],
    /// Conditions that are abnormal when `True`.
    pub negative_polarity: &'static [&'static str],
    /// Conditions that may be `True` or `False` and, when `False`, decide `Ready`.
    pub bipolar: &'static [&'static str],
    /// Conditions whose disappearance is a recovery (for the `Succeeded` event).
    pub failures: &'static [&'static str],
}

/// GitRepository: StorageOperationFailed > FetchFailed > IncludeUnavailable >
/// ArtifactOutdated > ArtifactInStorage > SourceVerified > Stalled > Reconciling.
pub const GIT_REPOSITORY: ReadySummary = ReadySummary {
    priority: &[
        STORAGE_OPERATION_FAILED,
        FETCH_FAILED,
        INCLUDE_UNAVAILABLE,
        ARTIFACT_OUTDATED,
        ARTIFACT_IN_STORAGE,
        SOURCE_VERIFIED,
        STALLED,
        RECONCILING,
    ],
    negative_polarity: &[
        STORAGE_OPERATION_FAILED,
        FETCH_FAILED,
        INCLUDE_UNAVAILABLE,
        ARTIFACT_OUTDATED,
        STALLED,
        RECONCILING,
    ],
    bipolar: &[SOURCE_VERIFIED],
    failures: &[FETCH_FAILED, INCLUDE_UNAVAILABLE, STORAGE_OPERATION_FAILED],
};

/// OCIRepository: as GitRepository without IncludeUnavailable.
pub const OCI_REPOSITORY: ReadySummary = ReadySummary {
    priority: &[
        STORAGE_OPERATION_FAILED,
        FETCH_FAILED,
        ARTIFACT_OUTDATED,
        ARTIFACT_IN_STORAGE,
        SOURCE_VERIFIED,
        STALLED,
        RECONCILING,
    ],
    negative_polarity: &[
        STORAGE_OPERATION_FAILED,
        FETCH_FAILED,
        ARTIFACT_OUTDATED,
        STALLED,
        RECONCILING,
    ],
    bipolar: &[SOURCE_VERIFIED],
    failures: &[FETCH_FAILED, STORAGE_OPERATION_FAILED],
};

/// Bucket: no SourceVerified, no includes.
pub const BUCKET: ReadySummary = ReadySummary {
    priority: &[
        STORAGE_OPERATION_FAILED,
        FETCH_FAILED,
        ARTIFACT_OUTDATED,
        ARTIFACT_IN_STORAGE,
        STALLED,
        RECONCILING,
    ],
    negative_polarity: &[
        STORAGE_OPERATION_FAILED,
        FETCH_FAILED,
        ARTIFACT_OUTDATED,
        STALLED,
        RECONCILING,
    ],
    bipolar: &[],
    failures: &[FETCH_FAILED, STORAGE_OPERATION_FAILED],
};

/// How the reconcile steps ended, when they did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// A full reconcile; the artifact is current.
    Success,
    /// Nothing to do ("no changes since last reconciliation"): a success that skips the
    /// artifact steps.
    NoOp,
}

/// Finishes the in-memory status of `object` after its steps ended with `outcome`.
///
/// Returns the message of a `Ready` that is not `True` although the steps succeeded
/// (the caller turns it into an error so the object is retried), as upstream does.
pub fn finish<K, S>(
    object: &K,
    status: &mut S,
    summary: &ReadySummary,
    outcome: &Result<Progress, Error>,
) -> Option<String>
where
    K: Resource,
    S: FluxStatus,
{
    let generation = object.meta().generation;
    let token = reconcile_request(object)
        .map(str::to_owned)
        .or_else(|| status.last_handled_reconcile_at().map(str::to_owned));
    status.set_last_handled_reconcile_at(token);

    let conds = status.conditions_mut();
    if outcome.is_ok() {
        conditions::remove(conds, RECONCILING);
    }
    if let Some(reconciling) = conditions::find(conds, RECONCILING).cloned() {
        conditions::set(
            conds,
            RECONCILING,
            ConditionStatus::True,
            PROGRESSING_WITH_RETRY_REASON,
            &reconciling.message,
            generation,
        );
    }
    let mut observe = false;
    match outcome {
        Err(Error::Stalling { reason, message }) => {
            conditions::remove(conds, RECONCILING);
            conditions::set(
                conds,
                STALLED,
                ConditionStatus::True,
                reason,
                message,
                generation,
            );
            observe = true;
        }
        Err(_) => conditions::remove(conds, STALLED),
        Ok(_) => {
            conditions::remove(conds, STALLED);
            observe = true;
        }
    }

    set_summary(conds, summary, generation);

    let stalled = conditions::is_true(conds, STALLED);
    let ready = conditions::is_true(conds, READY);
    if ready {
        // Every condition describes this generation once the object is ready.
        for condition in conds.iter_mut() {
            condition.observed_generation = generation;
        }
    }
    let not_ready = (!stalled && outcome.is_ok() && !ready).then(|| {
        conditions::find(conds, READY)
            .map(|c| c.message.clone())
            .unwrap_or_default()
    });
    if observe {
        status.set_observed_generation(generation);
    }
    not_ready
}

/// Sets `Ready` from the kind's conditions (see the module documentation).
pub fn set_summary(conds: &mut Vec<Condition>, summary: &ReadySummary, generation: Option<i64>) {
    let rank = |c: &Condition| {
        let negative = summary.negative_polarity.contains(&c.type_.as_str());
        match (c.status.as_str(), negative) {
            ("True", true) => 0,
            ("False", false) => 1,
            ("True", false) => 2,
            ("False", true) => 3,
            ("Unknown", _) => 4,
            _ => 99,
        }
    };
    let mut top: Option<(u8, usize, Condition)> = None;
    for (position, type_) in summary.priority.iter().enumerate() {
        if let Some(c) = conditions::find(conds, type_) {
            let r = rank(c);
            if top.as_ref().is_none_or(|(best, _, _)| r < *best) {
                top = Some((r, position, c.clone()));
            }
        }
    }
    if let Some((r, _, c)) = top {
        let status = match r {
            0 | 1 => ConditionStatus::False,
            2 => ConditionStatus::True,
            3 => ConditionStatus::True,
            _ => ConditionStatus::Unknown,
        };
        conditions::set(conds, READY, status, &c.reason, &c.message, generation);
    }
    if let Some(failed) = summary
        .bipolar
        .iter()
        .find_map(|t| conditions::find(conds, t).filter(|c| c.status == "False"))
        .cloned()
    {
        conditions::set(
            conds,
            READY,
            ConditionStatus::False,
            &failed.reason,
            &failed.message,
            generation,
        );
    }
}

/// Whether the object recovered from a failure: some failure condition was present in
/// `before` and none is now.
pub fn recovered(before: &[Condition], after: &[Condition], summary: &ReadySummary) -> bool {
    let had = summary
        .failures
        .iter()
        .any(|t| conditions::find(before, t).is_some());
    let has = summary
        .failures
        .iter()
        .any(|t| conditions::find(after, t).is_some());
    had && !has
}

/// `namespace/name` of an object, for logs and backoff keys.
pub fn object_key<K: Resource>(object: &K) -> String {
    format!(
        "{}/{}",
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_api::meta::ObjectWithConditions;
    use sluice_api::meta::conditions::{find, mark_reconciling};
    use sluice_api::source::v1::{GitRepository, GitRepositorySpec, GitRepositoryStatus};

    fn repo(generation: i64) -> GitRepository {
        let mut repo = GitRepository::new("podinfo", GitRepositorySpec::default());
        repo.metadata.generation = Some(generation);
        repo
    }

    fn mark(status: &mut GitRepositoryStatus, type_: &str, value: ConditionStatus, reason: &str) {
        conditions::set(
            status.conditions_mut(),
            type_,
            value,
            reason,
            reason,
            Some(1),
        );
    }

    fn ready(status: &GitRepositoryStatus) -> (String, String) {
        let c = find(status.conditions(), READY).unwrap();
        (c.status.clone(), c.reason.clone())
    }

    #[test]
    fn a_failure_wins_over_the_stored_artifact() {
        // [C9] FetchFailed(AuthenticationFailed) + ArtifactInStorage.
        let mut status = GitRepositoryStatus::default();
        mark(
            &mut status,
            FETCH_FAILED,
            ConditionStatus::True,
            "AuthenticationFailed",
        );
        mark(
            &mut status,
            ARTIFACT_IN_STORAGE,
            ConditionStatus::True,
            "Succeeded",
        );
        let error = Error::generic("AuthenticationFailed", "bad credentials");
        finish(&repo(1), &mut status, &GIT_REPOSITORY, &Err(error));
        assert_eq!(
            ready(&status),
            ("False".into(), "AuthenticationFailed".into())
        );
    }

    #[test]
    fn storage_failures_have_the_highest_priority() {
        // [C9] StorageOperationFailed + FetchFailed + IncludeUnavailable + ArtifactOutdated.
        let mut status = GitRepositoryStatus::default();
        mark(
            &mut status,
            ARTIFACT_OUTDATED,
            ConditionStatus::True,
            "NewRevision",
        );
        mark(
            &mut status,
            INCLUDE_UNAVAILABLE,
            ConditionStatus::True,
            "NotFound",
        );
        mark(
            &mut status,
            FETCH_FAILED,
            ConditionStatus::True,
            "GitOperationFailed",
        );
        mark(
            &mut status,
            STORAGE_OPERATION_FAILED,
            ConditionStatus::True,
            "ArchiveOperationFailed",
        );
        let error = Error::generic("ArchiveOperationFailed", "x");
        finish(&repo(1), &mut status, &GIT_REPOSITORY, &Err(error));
        assert_eq!(
            ready(&status),
            ("False".into(), "ArchiveOperationFailed".into())
        );
    }

    #[test]
    fn success_removes_reconciling_and_observes_the_generation() {
        let mut status = GitRepositoryStatus::default();
        mark_reconciling(
            status.conditions_mut(),
            "Progressing",
            "building artifact",
            Some(2),
        );
        mark(
            &mut status,
            ARTIFACT_IN_STORAGE,
            ConditionStatus::True,
            "Succeeded",
        );
        assert_eq!(
            finish(
                &repo(2),
                &mut status,
                &GIT_REPOSITORY,
                &Ok(Progress::Success)
            ),
            None
        );
        assert_eq!(ready(&status), ("True".into(), "Succeeded".into()));
        assert!(find(status.conditions(), RECONCILING).is_none());
        assert_eq!(status.observed_generation, Some(2));
        assert!(
            status
                .conditions()
                .iter()
                .all(|c| c.observed_generation == Some(2))
        );
    }

    #[test]
    fn a_retried_failure_keeps_reconciling_with_retry_and_the_old_generation() {
        let mut status = GitRepositoryStatus {
            observed_generation: Some(1),
            ..Default::default()
        };
        mark_reconciling(
            status.conditions_mut(),
            "Progressing",
            "building artifact",
            Some(2),
        );
        mark(
            &mut status,
            FETCH_FAILED,
            ConditionStatus::True,
            "GitOperationFailed",
        );
        let error = Error::generic("GitOperationFailed", "x");
        finish(&repo(2), &mut status, &GIT_REPOSITORY, &Err(error));
        assert_eq!(
            find(status.conditions(), RECONCILING).unwrap().reason,
            PROGRESSING_WITH_RETRY_REASON
        );
        assert_eq!(status.observed_generation, Some(1));
    }

    #[test]
    fn a_stalling_failure_marks_stalled_and_observes_the_generation() {
        let mut status = GitRepositoryStatus::default();
        mark_reconciling(status.conditions_mut(), "Progressing", "x", Some(3));
        mark(
            &mut status,
            FETCH_FAILED,
            ConditionStatus::True,
            "URLInvalid",
        );
        let error = Error::stalling("URLInvalid", "failed to parse url");
        finish(&repo(3), &mut status, &GIT_REPOSITORY, &Err(error));
        assert!(conditions::is_true(status.conditions(), STALLED));
        assert!(find(status.conditions(), RECONCILING).is_none());
        assert_eq!(ready(&status), ("False".into(), "URLInvalid".into()));
        assert_eq!(status.observed_generation, Some(3));
    }

    #[test]
    fn a_failed_verification_decides_ready() {
        let mut status = GitRepositoryStatus::default();
        mark(
            &mut status,
            ARTIFACT_IN_STORAGE,
            ConditionStatus::True,
            "Succeeded",
        );
        mark(
            &mut status,
            SOURCE_VERIFIED,
            ConditionStatus::False,
            "InvalidCommitSignature",
        );
        let error = Error::generic("InvalidCommitSignature", "x");
        finish(&repo(1), &mut status, &GIT_REPOSITORY, &Err(error));
        assert_eq!(
            ready(&status),
            ("False".into(), "InvalidCommitSignature".into())
        );
    }

    #[test]
    fn success_without_a_ready_summary_is_reported() {
        let mut status = GitRepositoryStatus::default();
        mark(
            &mut status,
            ARTIFACT_OUTDATED,
            ConditionStatus::True,
            "NewRevision",
        );
        let message = finish(
            &repo(1),
            &mut status,
            &GIT_REPOSITORY,
            &Ok(Progress::Success),
        );
        assert_eq!(message.as_deref(), Some("NewRevision"));
    }

    #[test]
    fn recovery_is_the_disappearance_of_every_failure() {
        let mut before = Vec::new();
        conditions::set(
            &mut before,
            FETCH_FAILED,
            ConditionStatus::True,
            "x",
            "x",
            Some(1),
        );
        assert!(recovered(&before, &[], &GIT_REPOSITORY));
        assert!(!recovered(&before, &before, &GIT_REPOSITORY));
        assert!(!recovered(&[], &[], &GIT_REPOSITORY));
    }
}
