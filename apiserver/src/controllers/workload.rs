//! What the workload controllers share: which objects a controller owns (adopting
//! matching orphans and releasing what no longer matches, as the controllers' ref
//! managers do), pods made from templates, and pod states.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::{ControllerError, Ctx, managers, util};
use crate::object;
use crate::resources::ResourceType;

/// A controller, as its owned objects refer to it.
#[derive(Debug, Clone, Copy)]
pub struct Controller<'a> {
    /// The controller object.
    pub object: &'a Value,
    /// Its `apiVersion`, e.g. `apps/v1`.
    pub api_version: &'a str,
    /// Its kind, e.g. `ReplicaSet`.
    pub kind: &'a str,
}

impl Controller<'_> {
    fn uid(&self) -> &str {
        util::uid(self.object)
    }

    fn namespace(&self) -> &str {
        util::str_at(self.object, &["metadata", "namespace"]).unwrap_or_default()
    }

    /// A controller owner reference to this controller.
    pub fn reference(&self) -> Value {
        util::controller_reference(self.object, self.api_version, self.kind)
    }
}

/// The objects of type `rt` the controller owns: those it controls and still selects,
/// plus orphans it selects (adopted now, unless the controller is being deleted). Objects
/// it controls but no longer selects are released.
///
/// # Errors
/// A failed adoption or release.
pub fn claim(
    ctx: &Ctx,
    controller: Controller<'_>,
    rt: &ResourceType,
    selector: Option<&Value>,
) -> Result<Vec<Value>, ControllerError> {
    let namespace = controller.namespace().to_owned();
    let uid = controller.uid().to_owned();
    let can_adopt = !object::is_terminating(controller.object);
    let mut owned = Vec::new();
    for candidate in ctx.list(rt, Some(&namespace)) {
        let labels = util::labels(&candidate);
        let selected =
            !util::selector_is_empty(selector) && util::selector_matches(selector, &labels);
        match util::controller_of(&candidate) {
            Some(owner) if owner.get("uid").and_then(Value::as_str) == Some(uid.as_str()) => {
                if selected || object::is_terminating(&candidate) {
                    owned.push(candidate);
                } else if can_adopt {
                    release(ctx, rt, &namespace, &candidate, &uid)?;
                }
            }
            Some(_) => {}
            None => {
                if selected
                    && can_adopt
                    && !object::is_terminating(&candidate)
                    && let Some(adopted) = adopt(ctx, rt, &namespace, &candidate, controller)?
                {
                    owned.push(adopted);
                }
            }
        }
    }
    Ok(owned)
}

fn adopt(
    ctx: &Ctx,
    rt: &ResourceType,
    namespace: &str,
    orphan: &Value,
    controller: Controller<'_>,
) -> Result<Option<Value>, ControllerError> {
    let reference = controller.reference();
    ctx.update(
        rt,
        Some(namespace),
        util::name(orphan),
        managers::CONTROLLER_MANAGER,
        |object| {
            if util::controller_of(object).is_some() {
                return false;
            }
            let meta = object::metadata_mut(object);
            let refs = meta.entry("ownerReferences").or_insert_with(|| json!([]));
            if let Some(list) = refs.as_array_mut() {
                list.push(reference);
            }
            true
        },
    )
}

fn release(
    ctx: &Ctx,
    rt: &ResourceType,
    namespace: &str,
    owned: &Value,
    uid: &str,
) -> Result<(), ControllerError> {
    ctx.update(
        rt,
        Some(namespace),
        util::name(owned),
        managers::CONTROLLER_MANAGER,
        |object| {
            let meta = object::metadata_mut(object);
            let Some(list) = meta
                .get_mut("ownerReferences")
                .and_then(Value::as_array_mut)
            else {
                return false;
            };
            list.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid));
            if list.is_empty() {
                meta.remove("ownerReferences");
            }
            true
        },
    )?;
    Ok(())
}

/// A pod made from `template` for `controller`, named `name` or generated from
/// `generate_name`, with `extra_labels` added.
pub fn pod_from_template(
    template: &Value,
    controller: Controller<'_>,
    name: Option<&str>,
    generate_name: Option<&str>,
    extra_labels: &[(&str, String)],
) -> Value {
    let mut labels: Map<String, Value> = util::at(template, &["metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (key, value) in extra_labels {
        labels.insert((*key).to_owned(), Value::from(value.as_str()));
    }
    let mut metadata = json!({
        "namespace": controller.namespace(),
        "labels": labels,
        "ownerReferences": [controller.reference()],
    });
    if let Some(name) = name {
        metadata["name"] = Value::from(name);
    }
    if let Some(prefix) = generate_name {
        metadata["generateName"] = Value::from(prefix);
    }
    for field in ["annotations", "finalizers"] {
        if let Some(value) = util::at(template, &["metadata", field]) {
            metadata[field] = value.clone();
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or_else(|| json!({})),
    })
}

/// `generateName` for pods of a controller named `name` (`web-7d9f8c6b5-`), trimmed as
/// Kubernetes trims it.
pub fn generate_name(name: &str) -> String {
    let prefix: String = name.chars().take(57).collect();
    format!("{prefix}-")
}

/// Whether a pod counts as active: not being deleted and not finished.
pub fn is_active(pod: &Value) -> bool {
    !object::is_terminating(pod) && !is_finished(pod)
}

/// Whether a pod has succeeded or failed.
pub fn is_finished(pod: &Value) -> bool {
    matches!(
        util::str_at(pod, &["status", "phase"]),
        Some("Succeeded" | "Failed")
    )
}

/// Since when a pod has been ready, if it is.
pub fn ready_since(pod: &Value) -> Option<Timestamp> {
    let conditions = util::at(pod, &["status", "conditions"]).and_then(Value::as_array)?;
    let ready = util::condition(conditions, "Ready")?;
    if ready.get("status").and_then(Value::as_str) != Some("True") {
        return None;
    }
    Some(
        ready
            .get("lastTransitionTime")
            .and_then(Value::as_str)
            .and_then(util::parse_time)
            .unwrap_or(Timestamp::UNIX_EPOCH),
    )
}

/// Whether a pod is ready.
pub fn is_ready(pod: &Value) -> bool {
    ready_since(pod).is_some()
}

/// Whether a pod is available (ready for `min_ready_seconds`), and if it is ready but not
/// yet available, how long until it is.
pub fn availability(
    pod: &Value,
    min_ready_seconds: i64,
    now: Timestamp,
) -> (bool, Option<Duration>) {
    let Some(since) = ready_since(pod) else {
        return (false, None);
    };
    if min_ready_seconds <= 0 {
        return (true, None);
    }
    let at = util::plus_seconds(since, min_ready_seconds);
    if now >= at {
        (true, None)
    } else {
        (false, Some(util::until(at, now)))
    }
}

/// Counts of a set of pods, as the workload statuses report them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PodCounts {
    /// Active pods.
    pub active: i64,
    /// Ready active pods.
    pub ready: i64,
    /// Available active pods.
    pub available: i64,
    /// When the next ready pod becomes available.
    pub next_available: Option<Duration>,
}

/// Counts active, ready and available pods.
pub fn count(pods: &[Value], min_ready_seconds: i64, now: Timestamp) -> PodCounts {
    let mut counts = PodCounts::default();
    for pod in pods.iter().filter(|p| is_active(p)) {
        counts.active += 1;
        if is_ready(pod) {
            counts.ready += 1;
        }
        let (available, later) = availability(pod, min_ready_seconds, now);
        if available {
            counts.available += 1;
        }
        if let Some(later) = later {
            counts.next_available = Some(counts.next_available.map_or(later, |n| n.min(later)));
        }
    }
    counts
}

/// Sets an integer status field, leaving it out when zero (Go's `omitempty`).
pub fn put_count(status: &mut Value, field: &str, value: i64) {
    if value == 0 {
        util::remove_field(status, field);
    } else {
        status[field] = Value::from(value);
    }
}

/// The order in which surplus pods are deleted: unscheduled before scheduled, pending
/// before running, unready before ready, recently ready before long ready, newer before
/// older (as `ActivePods` sorts them).
pub fn deletion_order(pods: &mut [Value]) {
    let key = |pod: &Value| {
        let scheduled = util::str_at(pod, &["spec", "nodeName"]).is_some_and(|n| !n.is_empty());
        let phase = match util::str_at(pod, &["status", "phase"]) {
            Some("Pending") => 0,
            Some("Unknown") => 1,
            Some("Running") => 2,
            _ => 0,
        };
        let ready = ready_since(pod);
        (
            scheduled,
            phase,
            ready.is_some(),
            std::cmp::Reverse(ready.map(|t| t.as_second())),
            std::cmp::Reverse(util::created(pod).as_second()),
        )
    };
    pods.sort_by_key(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, created: &str, ready: Option<&str>) -> Value {
        let conditions = match ready {
            Some(at) => json!([{"type": "Ready", "status": "True", "lastTransitionTime": at}]),
            None => json!([{"type": "Ready", "status": "False", "lastTransitionTime": created}]),
        };
        json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": "n"},
            "status": {"phase": "Running", "conditions": conditions},
        })
    }

    #[test]
    fn unready_and_newer_pods_are_deleted_first() {
        let mut pods = vec![
            pod(
                "old-ready",
                "2026-01-01T00:00:00Z",
                Some("2026-01-01T00:00:01Z"),
            ),
            pod(
                "new-ready",
                "2026-01-01T00:01:00Z",
                Some("2026-01-01T00:01:01Z"),
            ),
            pod("unready", "2026-01-01T00:00:00Z", None),
        ];
        deletion_order(&mut pods);
        let names: Vec<&str> = pods.iter().map(util::name).collect();
        assert_eq!(names, ["unready", "new-ready", "old-ready"]);
    }

    #[test]
    fn pods_become_available_after_min_ready_seconds() {
        let ready = pod("p", "2026-01-01T00:00:00Z", Some("2026-01-01T00:00:10Z"));
        let now: Timestamp = "2026-01-01T00:00:12Z".parse().unwrap();
        assert_eq!(availability(&ready, 0, now), (true, None));
        assert_eq!(
            availability(&ready, 5, now),
            (false, Some(Duration::from_secs(3)))
        );
        assert_eq!(availability(&ready, 2, now), (true, None));
        let counts = count(
            &[ready.clone(), pod("q", "2026-01-01T00:00:00Z", None)],
            5,
            now,
        );
        assert_eq!(
            counts,
            PodCounts {
                active: 2,
                ready: 1,
                available: 0,
                next_available: Some(Duration::from_secs(3))
            }
        );
    }

    #[test]
    fn zero_counts_are_left_out() {
        let mut status = json!({"readyReplicas": 3});
        put_count(&mut status, "readyReplicas", 0);
        put_count(&mut status, "availableReplicas", 2);
        assert_eq!(status, json!({"availableReplicas": 2}));
    }
}
