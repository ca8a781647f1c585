//! The Job controller: runs up to `parallelism` pods until `completions` have succeeded
//! (per index with `completionMode: Indexed`), replaces failed pods until more than
//! `backoffLimit` have failed, honours `suspend` and `activeDeadlineSeconds`, writes the
//! conditions clients wait for (`SuccessCriteriaMet` and `Complete`, `FailureTarget` and
//! `Failed`, `Suspended`) and deletes finished Jobs after `ttlSecondsAfterFinished`.
//!
//! Unlike upstream there is no retry backoff between failed pods and no pod tracking
//! finalizer: counts come from the pods that exist (and never go down).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::workload::{self, Controller};
use super::{Action, ControllerError, Ctx, managers, util};
use crate::backend::Propagation;
use crate::object;

const INDEX: &str = "batch.kubernetes.io/job-completion-index";
const COMPONENT: &str = "job-controller";

/// Whether a Job has finished (a `Complete` or `Failed` condition that is true).
fn finished_condition(conditions: &[Value]) -> Option<&Value> {
    conditions.iter().find(|c| {
        matches!(
            c.get("type").and_then(Value::as_str),
            Some("Complete" | "Failed")
        ) && c.get("status").and_then(Value::as_str) == Some("True")
    })
}

/// Sets a Job condition (Job conditions carry `lastProbeTime`).
fn set_job_condition(
    conditions: &mut Vec<Value>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    if let Some(current) = util::condition(conditions, type_)
        && current.get("status").and_then(Value::as_str) == Some(status)
        && current.get("reason").and_then(Value::as_str) == Some(reason)
    {
        return;
    }
    conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some(type_));
    conditions.push(json!({
        "type": type_, "status": status, "lastProbeTime": now, "lastTransitionTime": now,
        "reason": reason, "message": message,
    }));
}

fn index_of(pod: &Value) -> Option<i64> {
    util::str_at(pod, &["metadata", "annotations", INDEX])
        .or_else(|| util::str_at(pod, &["metadata", "labels", INDEX]))
        .and_then(|i| i.parse().ok())
}

/// `0-2,5` for a set of indexes.
fn compress(indexes: &BTreeSet<i64>) -> String {
    let mut parts = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(",")
}

/// Reconciles one Job.
///
/// # Errors
/// Failed reads or writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("batch", "jobs")?;
    let pods_rt = ctx.rt("", "pods")?;
    let Some(job) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    let now = util::now();
    let now_text = util::format_time(now);
    let mut conditions = util::conditions(&job);
    if let Some(done) = finished_condition(&conditions) {
        return expire(ctx, &job, done, now);
    }
    if object::is_terminating(&job) {
        return Ok(Action::Done);
    }
    let controller = Controller {
        object: &job,
        api_version: "batch/v1",
        kind: "Job",
    };
    let selector = util::at(&job, &["spec", "selector"]);
    let mut pods = workload::claim(ctx, controller, &pods_rt, selector)?;
    let mut status = job.get("status").cloned().unwrap_or_else(|| json!({}));
    let suspended = util::at(&job, &["spec", "suspend"]).and_then(Value::as_bool) == Some(true);
    let indexed = util::str_at(&job, &["spec", "completionMode"]) == Some("Indexed");
    let completions = util::int_at(&job, &["spec", "completions"]);
    let parallelism = util::int_at(&job, &["spec", "parallelism"])
        .unwrap_or(1)
        .max(0);
    let backoff_limit = util::int_at(&job, &["spec", "backoffLimit"]).unwrap_or(6);

    let phase = |pod: &Value, wanted: &str| util::str_at(pod, &["status", "phase"]) == Some(wanted);
    let succeeded_indexes: BTreeSet<i64> = pods
        .iter()
        .filter(|p| phase(p, "Succeeded"))
        .filter_map(index_of)
        .collect();
    let counted = |field: &str| util::int_at(&status, &[field]).unwrap_or(0);
    let succeeded = if indexed {
        i64::try_from(succeeded_indexes.len()).unwrap_or(0)
    } else {
        i64::try_from(pods.iter().filter(|p| phase(p, "Succeeded")).count()).unwrap_or(0)
    }
    .max(counted("succeeded"));
    let failed = i64::try_from(pods.iter().filter(|p| phase(p, "Failed")).count())
        .unwrap_or(0)
        .max(counted("failed"));
    let mut active: Vec<Value> = pods
        .iter()
        .filter(|p| workload::is_active(p))
        .cloned()
        .collect();

    if !suspended && status.get("startTime").is_none() {
        status["startTime"] = Value::from(now_text.as_str());
    }
    let start = util::time_at(&status, &["startTime"]);
    let deadline = util::int_at(&job, &["spec", "activeDeadlineSeconds"]);
    let complete = match (indexed, completions) {
        (true, Some(total)) => (0..total).all(|i| succeeded_indexes.contains(&i)),
        (_, Some(total)) => succeeded >= total,
        (_, None) => succeeded > 0 && active.is_empty(),
    };
    let failure = if complete {
        None
    } else if failed > backoff_limit {
        Some((
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        ))
    } else if let (Some(deadline), Some(start), false) = (deadline, start, suspended)
        && util::plus_seconds(start, deadline) <= now
    {
        Some((
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        ))
    } else {
        None
    };
    let mut next = None;

    if complete || failure.is_some() || suspended {
        for pod in &active {
            ctx.delete(
                &pods_rt,
                Some(namespace),
                util::name(pod),
                Some(Propagation::Background),
                Some(util::uid(pod)),
            )?;
        }
        let gone: Vec<String> = active.iter().map(|p| util::uid(p).to_owned()).collect();
        pods.retain(|p| !gone.iter().any(|g| g == util::uid(p)));
        active.clear();
    }
    if complete {
        let message = "Reached expected number of succeeded pods";
        set_job_condition(
            &mut conditions,
            "SuccessCriteriaMet",
            "True",
            "CompletionsReached",
            message,
            &now_text,
        );
        set_job_condition(
            &mut conditions,
            "Complete",
            "True",
            "CompletionsReached",
            message,
            &now_text,
        );
        status["completionTime"] = Value::from(now_text.as_str());
        ctx.event(&job, "Normal", "Completed", "Job completed", COMPONENT);
    } else if let Some((reason, message)) = failure {
        set_job_condition(
            &mut conditions,
            "FailureTarget",
            "True",
            reason,
            message,
            &now_text,
        );
        set_job_condition(
            &mut conditions,
            "Failed",
            "True",
            reason,
            message,
            &now_text,
        );
        ctx.event(&job, "Warning", reason, message, COMPONENT);
    } else if suspended {
        set_job_condition(
            &mut conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            &now_text,
        );
        util::remove_field(&mut status, "startTime");
    } else {
        if util::condition(&conditions, "Suspended")
            .and_then(|c| c.get("status"))
            .and_then(Value::as_str)
            == Some("True")
        {
            set_job_condition(
                &mut conditions,
                "Suspended",
                "False",
                "JobResumed",
                "Job resumed",
                &now_text,
            );
        }
        let active_count = i64::try_from(active.len()).unwrap_or(0);
        let template = util::at(&job, &["spec", "template"])
            .cloned()
            .unwrap_or_else(|| json!({}));
        if indexed {
            let total = completions.unwrap_or(0);
            let running: BTreeSet<i64> = active.iter().filter_map(index_of).collect();
            let pending: Vec<i64> = (0..total)
                .filter(|i| !succeeded_indexes.contains(i) && !running.contains(i))
                .take(usize::try_from((parallelism - active_count).max(0)).unwrap_or(0))
                .collect();
            for index in pending {
                let created = create_pod(ctx, &job, controller, &template, Some(index))?;
                active.push(created.clone());
                pods.push(created);
            }
        } else {
            let wanted = match completions {
                Some(total) => parallelism.min(total - succeeded),
                None if succeeded > 0 => 0,
                None => parallelism,
            };
            for _ in 0..(wanted - active_count).max(0) {
                let created = create_pod(ctx, &job, controller, &template, None)?;
                active.push(created.clone());
                pods.push(created);
            }
        }
        if let (Some(deadline), Some(start)) = (deadline, start) {
            next = Some(util::until(util::plus_seconds(start, deadline), now));
        }
    }

    workload::put_count(
        &mut status,
        "active",
        i64::try_from(active.len()).unwrap_or(0),
    );
    status["ready"] = Value::from(
        i64::try_from(active.iter().filter(|p| workload::is_ready(p)).count()).unwrap_or(0),
    );
    status["terminating"] = Value::from(0);
    workload::put_count(&mut status, "succeeded", succeeded);
    workload::put_count(&mut status, "failed", failed);
    status["uncountedTerminatedPods"] = json!({});
    if indexed {
        if succeeded_indexes.is_empty() {
            util::remove_field(&mut status, "completedIndexes");
        } else {
            status["completedIndexes"] = Value::from(compress(&succeeded_indexes));
        }
    }
    if conditions.is_empty() {
        util::remove_field(&mut status, "conditions");
    } else {
        status["conditions"] = Value::Array(conditions.clone());
    }
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        status,
    )?;
    if let Some(done) = finished_condition(&conditions) {
        let done = done.clone();
        if let Some(job) = ctx.get(&rt, Some(namespace), name) {
            return expire(ctx, &job, &done, now);
        }
    }
    Ok(Action::after(next))
}

/// Creates one pod of the Job (for an index in `Indexed` mode).
fn create_pod(
    ctx: &Ctx,
    job: &Value,
    controller: Controller<'_>,
    template: &Value,
    index: Option<i64>,
) -> Result<Value, ControllerError> {
    let namespace = util::str_at(job, &["metadata", "namespace"]).unwrap_or_default();
    let name = util::name(job);
    let mut extra = Vec::new();
    let prefix = match index {
        Some(index) => {
            extra.push((INDEX, index.to_string()));
            format!("{name}-{index}-")
        }
        None => workload::generate_name(name),
    };
    let mut pod = workload::pod_from_template(template, controller, None, Some(&prefix), &extra);
    if let Some(index) = index {
        pod["metadata"]["annotations"][INDEX] = Value::from(index.to_string());
        pod["spec"]["hostname"] = Value::from(format!("{name}-{index}"));
    }
    let pods_rt = ctx.rt("", "pods")?;
    let created = ctx.create(&pods_rt, Some(namespace), pod, managers::CONTROLLER_MANAGER)?;
    ctx.event(
        job,
        "Normal",
        "SuccessfulCreate",
        &format!("Created pod: {}", util::name(&created)),
        COMPONENT,
    );
    Ok(created)
}

/// Deletes a finished Job once `ttlSecondsAfterFinished` has passed (the TTL-after-finished
/// controller), or says when to look again.
fn expire(
    ctx: &Ctx,
    job: &Value,
    finished: &Value,
    now: jiff::Timestamp,
) -> Result<Action, ControllerError> {
    let Some(ttl) = util::int_at(job, &["spec", "ttlSecondsAfterFinished"]) else {
        return Ok(Action::Done);
    };
    if object::is_terminating(job) {
        return Ok(Action::Done);
    }
    let finished_at = util::time_at(job, &["status", "completionTime"])
        .or_else(|| {
            finished
                .get("lastTransitionTime")
                .and_then(Value::as_str)
                .and_then(util::parse_time)
        })
        .unwrap_or(now);
    let expires = util::plus_seconds(finished_at, ttl);
    if now < expires {
        return Ok(Action::after(Some(util::until(expires, now))));
    }
    let rt = ctx.rt("batch", "jobs")?;
    let namespace = util::str_at(job, &["metadata", "namespace"]).unwrap_or_default();
    ctx.delete(
        &rt,
        Some(namespace),
        util::name(job),
        Some(Propagation::Background),
        Some(util::uid(job)),
    )?;
    Ok(Action::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_indexes_are_compressed_into_ranges() {
        assert_eq!(compress(&[0, 1, 2, 5, 7, 8].into()), "0-2,5,7-8");
        assert_eq!(compress(&BTreeSet::new()), "");
    }

    #[test]
    fn job_conditions_keep_their_times_while_unchanged() {
        let mut conditions = Vec::new();
        set_job_condition(
            &mut conditions,
            "Complete",
            "True",
            "CompletionsReached",
            "m",
            "t1",
        );
        set_job_condition(
            &mut conditions,
            "Complete",
            "True",
            "CompletionsReached",
            "m",
            "t2",
        );
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0]["lastTransitionTime"], "t1");
        assert_eq!(conditions[0]["lastProbeTime"], "t1");
    }
}
