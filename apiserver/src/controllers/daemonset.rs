//! The DaemonSet controller: one pod per node that fits the template (the simulated node,
//! and any Node objects added), pinned to its node by node affinity, replaced on template
//! changes within `maxUnavailable`, with ControllerRevisions and the status
//! `kubectl rollout status` reads (`desiredNumberScheduled`, `updatedNumberScheduled`,
//! `numberAvailable`...).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::revisions;
use super::workload::{self, Controller};
use super::{Action, ControllerError, Ctx, kubelet, managers, util};
use crate::object;

const REVISION_LABEL: &str = "controller-revision-hash";
const GENERATION_LABEL: &str = "pod-template-generation";

/// The tolerations the DaemonSet controller adds to its pods.
fn daemon_tolerations() -> [Value; 6] {
    [
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}),
    ]
}

/// Reconciles one DaemonSet.
///
/// # Errors
/// Failed reads or writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("apps", "daemonsets")?;
    let pods_rt = ctx.rt("", "pods")?;
    let nodes_rt = ctx.rt("", "nodes")?;
    let Some(daemon_set) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    let controller = Controller {
        object: &daemon_set,
        api_version: "apps/v1",
        kind: "DaemonSet",
    };
    let selector = util::at(&daemon_set, &["spec", "selector"]);
    let mut pods = workload::claim(ctx, controller, &pods_rt, selector)?;
    let template = util::at(&daemon_set, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut revision_labels = util::at(&template, &["metadata", "labels"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let generation = util::int_at(&daemon_set, &["metadata", "generation"]).unwrap_or(1);
    let revision = {
        let update = revisions::ensure(ctx, controller, &template, &revision_labels)?;
        revision_labels[REVISION_LABEL] = Value::from(update.hash.as_str());
        update
    };
    let probe = json!({"spec": template.get("spec").cloned().unwrap_or_else(|| json!({}))});
    let nodes: Vec<String> = ctx
        .list(&nodes_rt, None)
        .iter()
        .filter(|node| kubelet::fits(&probe, node))
        .map(|node| util::name(node).to_owned())
        .collect();
    let now = util::now();
    let min_ready = util::int_at(&daemon_set, &["spec", "minReadySeconds"]).unwrap_or(0);

    if !object::is_terminating(&daemon_set) {
        let mut by_node: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for pod in pods.iter().filter(|p| !object::is_terminating(p)) {
            let node = pod_node(pod);
            by_node.entry(node).or_default().push(pod.clone());
        }
        let mut deleted = Vec::new();
        for node in &nodes {
            let on_node = by_node.get(node).cloned().unwrap_or_default();
            let (finished, mut running): (Vec<Value>, Vec<Value>) =
                on_node.into_iter().partition(workload::is_finished);
            for pod in finished {
                deleted.push(pod);
            }
            if running.is_empty() {
                let created = create_pod(
                    ctx,
                    &daemon_set,
                    controller,
                    &template,
                    node,
                    &revision.hash,
                    generation,
                )?;
                pods.push(created);
            } else {
                running.sort_by_key(util::created);
                deleted.extend(running.into_iter().skip(1));
            }
        }
        for (node, on_node) in &by_node {
            if !nodes.contains(node) {
                deleted.extend(on_node.iter().cloned());
            }
        }
        // Rolling update: replace outdated pods while no more than maxUnavailable are
        // unavailable.
        if util::str_at(&daemon_set, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate") {
            let desired = i64::try_from(nodes.len()).unwrap_or(0);
            let max_unavailable = util::int_or_percent(
                util::at(
                    &daemon_set,
                    &["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"],
                ),
                desired,
                true,
                1,
            )
            .max(1);
            let live: Vec<&Value> = pods
                .iter()
                .filter(|p| {
                    !object::is_terminating(p)
                        && !deleted.iter().any(|d| util::uid(d) == util::uid(p))
                })
                .collect();
            let available = i64::try_from(
                live.iter()
                    .filter(|p| workload::availability(p, min_ready, now).0)
                    .count(),
            )
            .unwrap_or(0);
            let mut budget = max_unavailable - (desired - available);
            let mut outdated: Vec<&Value> = live
                .iter()
                .copied()
                .filter(|p| {
                    util::str_at(p, &["metadata", "labels", REVISION_LABEL])
                        != Some(revision.hash.as_str())
                })
                .collect();
            // Unavailable outdated pods go first: replacing them costs nothing.
            outdated.sort_by_key(|p| workload::availability(p, min_ready, now).0);
            for pod in outdated {
                let available_now = workload::availability(pod, min_ready, now).0;
                if available_now {
                    if budget <= 0 {
                        break;
                    }
                    budget -= 1;
                }
                deleted.push(pod.clone());
            }
        }
        for pod in &deleted {
            ctx.delete(
                &pods_rt,
                Some(namespace),
                util::name(pod),
                None,
                Some(util::uid(pod)),
            )?;
        }
        pods.retain(|p| !deleted.iter().any(|d| util::uid(d) == util::uid(p)));
    }

    // Status.
    let mut scheduled = 0;
    let mut misscheduled = 0;
    let mut ready = 0;
    let mut available = 0;
    let mut updated = 0;
    let mut next = None;
    for pod in pods.iter().filter(|p| workload::is_active(p)) {
        if !nodes.contains(&pod_node(pod)) {
            misscheduled += 1;
            continue;
        }
        scheduled += 1;
        if workload::is_ready(pod) {
            ready += 1;
        }
        let (is_available, later) = workload::availability(pod, min_ready, now);
        if is_available {
            available += 1;
        }
        if later.is_some() {
            next = later;
        }
        if util::str_at(pod, &["metadata", "labels", REVISION_LABEL])
            == Some(revision.hash.as_str())
        {
            updated += 1;
        }
    }
    let desired = i64::try_from(nodes.len()).unwrap_or(0);
    let mut status = daemon_set
        .get("status")
        .cloned()
        .unwrap_or_else(|| json!({}));
    status["currentNumberScheduled"] = Value::from(scheduled);
    status["numberMisscheduled"] = Value::from(misscheduled);
    status["desiredNumberScheduled"] = Value::from(desired);
    status["numberReady"] = Value::from(ready);
    workload::put_count(&mut status, "numberAvailable", available);
    workload::put_count(
        &mut status,
        "numberUnavailable",
        (desired - available).max(0),
    );
    workload::put_count(&mut status, "updatedNumberScheduled", updated);
    status["observedGeneration"] = Value::from(generation);
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        status,
    )?;
    let limit = util::int_at(&daemon_set, &["spec", "revisionHistoryLimit"]).unwrap_or(10);
    revisions::truncate(ctx, controller, limit, &[revision.name.as_str()])?;
    Ok(Action::after(next))
}

/// The node a pod is bound (or pinned) to.
fn pod_node(pod: &Value) -> String {
    if let Some(node) = util::str_at(pod, &["spec", "nodeName"]).filter(|n| !n.is_empty()) {
        return node.to_owned();
    }
    util::at(
        pod,
        &[
            "spec",
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    )
    .and_then(Value::as_array)
    .and_then(|terms| terms.first())
    .and_then(|term| term.get("matchFields"))
    .and_then(Value::as_array)
    .and_then(|fields| fields.first())
    .and_then(|field| field.get("values"))
    .and_then(Value::as_array)
    .and_then(|values| values.first())
    .and_then(Value::as_str)
    .unwrap_or_default()
    .to_owned()
}

/// Creates the daemon pod for `node`.
fn create_pod(
    ctx: &Ctx,
    daemon_set: &Value,
    controller: Controller<'_>,
    template: &Value,
    node: &str,
    hash: &str,
    generation: i64,
) -> Result<Value, ControllerError> {
    let namespace = util::str_at(daemon_set, &["metadata", "namespace"]).unwrap_or_default();
    let mut pod = workload::pod_from_template(
        template,
        controller,
        None,
        Some(&workload::generate_name(util::name(daemon_set))),
        &[
            (REVISION_LABEL, hash.to_owned()),
            (GENERATION_LABEL, generation.to_string()),
        ],
    );
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}],
    });
    let mut tolerations: Vec<Value> = util::at(&pod, &["spec", "tolerations"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for toleration in daemon_tolerations() {
        let present = tolerations.iter().any(|t| {
            t.get("key") == toleration.get("key") && t.get("effect") == toleration.get("effect")
        });
        if !present {
            tolerations.push(toleration);
        }
    }
    pod["spec"]["tolerations"] = Value::Array(tolerations);
    let pods_rt = ctx.rt("", "pods")?;
    let created = ctx.create(&pods_rt, Some(namespace), pod, managers::CONTROLLER_MANAGER)?;
    ctx.event(
        daemon_set,
        "Normal",
        "SuccessfulCreate",
        &format!("Created pod: {}", util::name(&created)),
        "daemonset-controller",
    );
    Ok(created)
}
