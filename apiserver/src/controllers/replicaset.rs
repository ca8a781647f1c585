//! The ReplicaSet controller: keeps `spec.replicas` active pods (named after the
//! ReplicaSet with a random suffix, owned by it) and reports `replicas`,
//! `fullyLabeledReplicas`, `readyReplicas`, `availableReplicas` and `observedGeneration`.
//! A ReplicaSet being deleted keeps its pods (the garbage collector takes them).

use serde_json::{Value, json};

use super::workload::{self, Controller};
use super::{Action, ControllerError, Ctx, managers, util};
use crate::object;

/// Most pods created in one pass (the rest follow on the next).
const BURST: i64 = 500;

/// Reconciles one ReplicaSet.
///
/// # Errors
/// Failed reads or writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("apps", "replicasets")?;
    let pods_rt = ctx.rt("", "pods")?;
    let Some(replica_set) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    let controller = Controller {
        object: &replica_set,
        api_version: "apps/v1",
        kind: "ReplicaSet",
    };
    let selector = util::at(&replica_set, &["spec", "selector"]);
    let mut pods = workload::claim(ctx, controller, &pods_rt, selector)?;
    let desired = util::spec_replicas(&replica_set);
    if !object::is_terminating(&replica_set) {
        let mut active: Vec<Value> = pods
            .iter()
            .filter(|p| workload::is_active(p))
            .cloned()
            .collect();
        let diff = i64::try_from(active.len()).unwrap_or(i64::MAX) - desired;
        let template = util::at(&replica_set, &["spec", "template"])
            .cloned()
            .unwrap_or_else(|| json!({}));
        if diff < 0 {
            for _ in 0..(-diff).min(BURST) {
                let pod = workload::pod_from_template(
                    &template,
                    controller,
                    None,
                    Some(&workload::generate_name(name)),
                    &[],
                );
                let created =
                    ctx.create(&pods_rt, Some(namespace), pod, managers::CONTROLLER_MANAGER)?;
                ctx.event(
                    &replica_set,
                    "Normal",
                    "SuccessfulCreate",
                    &format!("Created pod: {}", util::name(&created)),
                    "replicaset-controller",
                );
                pods.push(created);
            }
        } else if diff > 0 {
            workload::deletion_order(&mut active);
            for pod in active.iter().take(usize::try_from(diff).unwrap_or(0)) {
                ctx.delete(
                    &pods_rt,
                    Some(namespace),
                    util::name(pod),
                    None,
                    Some(util::uid(pod)),
                )?;
                ctx.event(
                    &replica_set,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", util::name(pod)),
                    "replicaset-controller",
                );
            }
            let deleted: Vec<String> = active
                .iter()
                .take(usize::try_from(diff).unwrap_or(0))
                .map(|p| util::uid(p).to_owned())
                .collect();
            pods.retain(|p| !deleted.iter().any(|uid| uid == util::uid(p)));
        }
    }

    let now = util::now();
    let min_ready = util::int_at(&replica_set, &["spec", "minReadySeconds"]).unwrap_or(0);
    let counts = workload::count(&pods, min_ready, now);
    let template_labels = util::at(&replica_set, &["spec", "template", "metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let fully_labeled = pods
        .iter()
        .filter(|p| workload::is_active(p))
        .filter(|p| {
            let labels = util::labels(p);
            template_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
        })
        .count();
    let mut status = replica_set
        .get("status")
        .cloned()
        .unwrap_or_else(|| json!({}));
    status["replicas"] = Value::from(counts.active);
    workload::put_count(
        &mut status,
        "fullyLabeledReplicas",
        i64::try_from(fully_labeled).unwrap_or(0),
    );
    workload::put_count(&mut status, "readyReplicas", counts.ready);
    workload::put_count(&mut status, "availableReplicas", counts.available);
    util::remove_field(&mut status, "terminatingReplicas");
    if let Some(generation) = util::int_at(&replica_set, &["metadata", "generation"]) {
        status["observedGeneration"] = Value::from(generation);
    }
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        status,
    )?;
    Ok(Action::after(counts.next_available))
}
