//! The CronJob controller: creates a Job (named `<cronjob>-<scheduled minute>`) for the
//! most recent scheduled time that has not been run, honouring `suspend`,
//! `startingDeadlineSeconds`, `concurrencyPolicy` and `timeZone`; keeps
//! `status.active`, `lastScheduleTime` and `lastSuccessfulTime`; prunes finished Jobs to
//! the history limits; and wakes up for the next scheduled time. Schedules are parsed by
//! [`super::cron`].

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::cron::Schedule;
use super::workload::Controller;
use super::{Action, ControllerError, Ctx, managers, util};
use crate::backend::Propagation;
use crate::object;

const COMPONENT: &str = "cronjob-controller";
const SCHEDULED: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// How a Job ended, if it did.
fn outcome(job: &Value) -> Option<&'static str> {
    let conditions = util::conditions(job);
    for (type_, outcome) in [("Complete", "Complete"), ("Failed", "Failed")] {
        if util::condition(&conditions, type_)
            .and_then(|c| c.get("status"))
            .and_then(Value::as_str)
            == Some("True")
        {
            return Some(outcome);
        }
    }
    None
}

/// The most recent scheduled time in `(earliest, now]`, and the first one after `now`.
pub fn schedule_times(
    schedule: &Schedule,
    earliest: Timestamp,
    now: Timestamp,
    zone: &TimeZone,
) -> (Option<Timestamp>, Option<Timestamp>) {
    let Some(first) = schedule.next_after(earliest, zone) else {
        return (None, None);
    };
    if first > now {
        return (None, Some(first));
    }
    let mut last = first;
    for _ in 0..100_000 {
        match schedule.next_after(last, zone) {
            Some(next) if next <= now => last = next,
            next => return (Some(last), next),
        }
    }
    (Some(last), schedule.next_after(last, zone))
}

/// Reconciles one CronJob.
///
/// # Errors
/// Failed reads or writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("batch", "cronjobs")?;
    let jobs_rt = ctx.rt("batch", "jobs")?;
    let Some(cron_job) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    if object::is_terminating(&cron_job) {
        return Ok(Action::Done);
    }
    let controller = Controller {
        object: &cron_job,
        api_version: "batch/v1",
        kind: "CronJob",
    };
    let uid = util::uid(&cron_job).to_owned();
    let mut jobs: Vec<Value> = ctx
        .list(&jobs_rt, Some(namespace))
        .into_iter()
        .filter(|j| util::controlled_by(j, &uid))
        .collect();
    let now = util::now();
    let mut status = cron_job.get("status").cloned().unwrap_or_else(|| json!({}));
    let previously_active: Vec<String> = status
        .get("active")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("name")?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();

    // Jobs that finished since the last look.
    let mut last_success = util::time_at(&status, &["lastSuccessfulTime"]);
    for job in &jobs {
        let Some(outcome) = outcome(job) else {
            continue;
        };
        if previously_active.iter().any(|n| n == util::name(job)) {
            ctx.event(
                &cron_job,
                "Normal",
                "SawCompletedJob",
                &format!(
                    "Saw completed job: {}, condition: {outcome}",
                    util::name(job)
                ),
                COMPONENT,
            );
        }
        if outcome == "Complete"
            && let Some(done) = util::time_at(job, &["status", "completionTime"])
            && last_success.is_none_or(|t| done > t)
        {
            last_success = Some(done);
        }
    }

    // Schedule.
    let mut next = None;
    let zone = util::str_at(&cron_job, &["spec", "timeZone"])
        .and_then(|z| TimeZone::get(z).ok())
        .unwrap_or(TimeZone::UTC);
    let suspended =
        util::at(&cron_job, &["spec", "suspend"]).and_then(Value::as_bool) == Some(true);
    let schedule_text = util::str_at(&cron_job, &["spec", "schedule"]).unwrap_or_default();
    match Schedule::parse(schedule_text) {
        Err(error) => {
            ctx.event(
                &cron_job,
                "Warning",
                "UnparseableSchedule",
                &format!("unparseable schedule: {schedule_text:?} : {error}"),
                COMPONENT,
            );
        }
        Ok(schedule) => {
            let mut earliest = util::time_at(&status, &["lastScheduleTime"])
                .unwrap_or_else(|| util::created(&cron_job));
            let deadline = util::int_at(&cron_job, &["spec", "startingDeadlineSeconds"]);
            if let Some(deadline) = deadline {
                let window = util::plus_seconds(now, -deadline);
                if window > earliest {
                    earliest = window;
                }
            }
            let (due, upcoming) = schedule_times(&schedule, earliest, now, &zone);
            next = upcoming.map(|t| util::until(t, now) + Duration::from_millis(50));
            if let Some(due) = due
                && !suspended
            {
                let active: Vec<&Value> = jobs
                    .iter()
                    .filter(|j| outcome(j).is_none() && !object::is_terminating(j))
                    .collect();
                let policy =
                    util::str_at(&cron_job, &["spec", "concurrencyPolicy"]).unwrap_or("Allow");
                if policy == "Forbid" && !active.is_empty() {
                    // Skipped; look again when the active Job finishes or the next time comes.
                } else {
                    if policy == "Replace" {
                        for job in &active {
                            ctx.delete(
                                &jobs_rt,
                                Some(namespace),
                                util::name(job),
                                Some(Propagation::Background),
                                Some(util::uid(job)),
                            )?;
                            ctx.event(
                                &cron_job,
                                "Normal",
                                "SuccessfulDelete",
                                &format!("Deleted job {}", util::name(job)),
                                COMPONENT,
                            );
                        }
                        let gone: Vec<String> =
                            active.iter().map(|j| util::uid(j).to_owned()).collect();
                        jobs.retain(|j| !gone.iter().any(|g| g == util::uid(j)));
                    }
                    let job_name = format!("{name}-{}", due.as_second().div_euclid(60));
                    if !jobs.iter().any(|j| util::name(j) == job_name) {
                        let job = job_for(&cron_job, controller, &job_name, due, &zone);
                        match ctx.create(
                            &jobs_rt,
                            Some(namespace),
                            job,
                            managers::CONTROLLER_MANAGER,
                        ) {
                            Ok(created) => {
                                ctx.event(
                                    &cron_job,
                                    "Normal",
                                    "SuccessfulCreate",
                                    &format!("Created job {job_name}"),
                                    COMPONENT,
                                );
                                jobs.push(created);
                            }
                            Err(ControllerError::Create { source, .. }) if source.code == 409 => {}
                            Err(error) => return Err(error),
                        }
                    }
                    status["lastScheduleTime"] = Value::from(util::format_time(due));
                }
            }
        }
    }

    // History limits.
    for (wanted, limit_field) in [
        ("Complete", "successfulJobsHistoryLimit"),
        ("Failed", "failedJobsHistoryLimit"),
    ] {
        let Some(limit) = util::int_at(&cron_job, &["spec", limit_field]) else {
            continue;
        };
        let mut finished: Vec<&Value> = jobs
            .iter()
            .filter(|j| outcome(j) == Some(wanted) && !object::is_terminating(j))
            .collect();
        finished.sort_by_key(|j| {
            util::time_at(j, &["status", "startTime"]).unwrap_or_else(|| util::created(j))
        });
        let excess = finished
            .len()
            .saturating_sub(usize::try_from(limit.max(0)).unwrap_or(0));
        for job in finished.into_iter().take(excess) {
            ctx.delete(
                &jobs_rt,
                Some(namespace),
                util::name(job),
                Some(Propagation::Background),
                Some(util::uid(job)),
            )?;
        }
    }

    let active: Vec<Value> = jobs
        .iter()
        .filter(|j| outcome(j).is_none() && !object::is_terminating(j))
        .filter(|j| ctx.get(&jobs_rt, Some(namespace), util::name(j)).is_some())
        .map(|j| {
            json!({
                "apiVersion": "batch/v1", "kind": "Job", "name": util::name(j), "namespace": namespace,
                "uid": util::uid(j),
                "resourceVersion": util::str_at(j, &["metadata", "resourceVersion"]).unwrap_or_default(),
            })
        })
        .collect();
    if active.is_empty() {
        util::remove_field(&mut status, "active");
    } else {
        status["active"] = Value::Array(active);
    }
    if let Some(success) = last_success {
        status["lastSuccessfulTime"] = Value::from(util::format_time(success));
    }
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        status,
    )?;
    Ok(Action::after(next))
}

/// The Job for the scheduled time `due`.
fn job_for(
    cron_job: &Value,
    controller: Controller<'_>,
    name: &str,
    due: Timestamp,
    zone: &TimeZone,
) -> Value {
    let template = util::at(cron_job, &["spec", "jobTemplate"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut annotations = util::at(&template, &["metadata", "annotations"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let scheduled = due
        .to_zoned(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
        .replace("+00:00", "Z");
    annotations[SCHEDULED] = Value::from(scheduled);
    let mut metadata = json!({
        "name": name,
        "namespace": util::str_at(cron_job, &["metadata", "namespace"]).unwrap_or_default(),
        "annotations": annotations,
        "ownerReferences": [controller.reference()],
    });
    if let Some(labels) = util::at(&template, &["metadata", "labels"]) {
        metadata["labels"] = labels.clone();
    }
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_most_recent_missed_time_is_run_and_the_next_one_awaited() {
        let every_five = Schedule::parse("*/5 * * * *").unwrap();
        let (due, next) = schedule_times(
            &every_five,
            at("2026-01-01T00:00:00Z"),
            at("2026-01-01T00:17:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(due, Some(at("2026-01-01T00:15:00Z")));
        assert_eq!(next, Some(at("2026-01-01T00:20:00Z")));
        let (due, next) = schedule_times(
            &every_five,
            at("2026-01-01T00:15:00Z"),
            at("2026-01-01T00:17:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(due, None);
        assert_eq!(next, Some(at("2026-01-01T00:20:00Z")));
    }

    #[test]
    fn jobs_carry_the_template_and_their_scheduled_time() {
        let cron_job = json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "backup", "namespace": "ops", "uid": "c1"},
            "spec": {"jobTemplate": {"metadata": {"labels": {"app": "backup"}}, "spec": {"backoffLimit": 2}}},
        });
        let controller = Controller {
            object: &cron_job,
            api_version: "batch/v1",
            kind: "CronJob",
        };
        let job = job_for(
            &cron_job,
            controller,
            "backup-29000000",
            at("2026-01-01T00:15:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(job["metadata"]["labels"]["app"], "backup");
        assert_eq!(
            job["metadata"]["annotations"][SCHEDULED],
            "2026-01-01T00:15:00Z"
        );
        assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
        assert_eq!(job["spec"]["backoffLimit"], 2);
    }
}
