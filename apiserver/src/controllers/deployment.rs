//! The Deployment controller: one ReplicaSet per pod template (named
//! `<deployment>-<pod-template-hash>`, with the hash label added to its selector and
//! template), revisions in `deployment.kubernetes.io/revision` annotations, rolling
//! updates that respect `maxSurge` and `maxUnavailable` (or `Recreate`), old ReplicaSets
//! pruned to `revisionHistoryLimit`, and the status kubectl and clients read:
//! `observedGeneration`, replica counts, the `Available` and `Progressing` conditions
//! (`NewReplicaSetCreated`, `FoundNewReplicaSet`, `ReplicaSetUpdated`,
//! `NewReplicaSetAvailable`, `ProgressDeadlineExceeded`, `DeploymentPaused`).
//!
//! Scaling during a rollout is simpler than upstream's proportional scaling: the new
//! ReplicaSet is capped at the desired replicas and old ones are scaled down as the
//! rolling update allows.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::workload::{self, Controller};
use super::{Action, ControllerError, Ctx, managers, util};
use crate::object;
use crate::resources::ResourceType;

const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const HASH_LABEL: &str = "pod-template-hash";
const COMPONENT: &str = "deployment-controller";

/// Annotations of a Deployment that are not copied to its ReplicaSets.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// `maxSurge` and `maxUnavailable` resolved against the desired replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    surge: i64,
    unavailable: i64,
}

fn limits(deployment: &Value, replicas: i64) -> Limits {
    if util::str_at(deployment, &["spec", "strategy", "type"]) != Some("RollingUpdate") {
        return Limits {
            surge: 0,
            unavailable: 0,
        };
    }
    let rolling = util::at(deployment, &["spec", "strategy", "rollingUpdate"]);
    let surge = util::int_or_percent(rolling.and_then(|r| r.get("maxSurge")), replicas, true, 0);
    let mut unavailable = util::int_or_percent(
        rolling.and_then(|r| r.get("maxUnavailable")),
        replicas,
        false,
        0,
    );
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Limits { surge, unavailable }
}

fn revision(object: &Value) -> i64 {
    util::str_at(object, &["metadata", "annotations", REVISION])
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn rs_replicas(replica_set: &Value) -> i64 {
    util::spec_replicas(replica_set)
}

fn status_count(object: &Value, field: &str) -> i64 {
    util::int_at(object, &["status", field]).unwrap_or(0)
}

/// A pod template without the `pod-template-hash` label, for comparing templates.
fn without_hash(template: &Value) -> Value {
    let mut template = template.clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
        if labels.is_empty()
            && let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("labels");
        }
    }
    template
}

/// Reconciles one Deployment.
///
/// # Errors
/// Failed reads or writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("apps", "deployments")?;
    let rs_rt = ctx.rt("apps", "replicasets")?;
    let Some(deployment) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    let controller = Controller {
        object: &deployment,
        api_version: "apps/v1",
        kind: "Deployment",
    };
    let selector = util::at(&deployment, &["spec", "selector"]);
    let mut sets = workload::claim(ctx, controller, &rs_rt, selector)?;
    sets.sort_by(|a, b| {
        util::created(a)
            .cmp(&util::created(b))
            .then_with(|| util::name(a).cmp(util::name(b)))
    });
    let now = util::now();
    let now_text = util::format_time(now);
    let mut conditions = util::conditions(&deployment);
    let mut status = deployment
        .get("status")
        .cloned()
        .unwrap_or_else(|| json!({}));

    if object::is_terminating(&deployment) {
        let new_index = find_new(&deployment, &sets);
        let new_status = compute_status(&deployment, &sets, new_index, &mut conditions, &now_text);
        ctx.write_status(
            &rt,
            Some(namespace),
            name,
            managers::CONTROLLER_MANAGER,
            new_status,
        )?;
        return Ok(Action::Done);
    }

    let replicas = util::spec_replicas(&deployment);
    let limits = limits(&deployment, replicas);
    let paused = util::at(&deployment, &["spec", "paused"]).and_then(Value::as_bool) == Some(true);
    let has_deadline = util::int_at(&deployment, &["spec", "progressDeadlineSeconds"]).is_some();
    let template = util::at(&deployment, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));

    let mut new_index = find_new(&deployment, &sets);
    let max_old_revision = sets
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_index)
        .map(|(_, rs)| revision(rs))
        .max()
        .unwrap_or(0);
    let new_revision = max_old_revision + 1;

    match new_index {
        Some(index) => {
            let updated = sync_new_annotations(
                ctx,
                &rs_rt,
                &deployment,
                &sets[index],
                new_revision,
                replicas + limits.surge,
            )?;
            if let Some(updated) = updated {
                sets[index] = updated;
            }
            if has_deadline && util::condition(&conditions, "Progressing").is_none() {
                let message = format!("Found new replica set {:?}", util::name(&sets[index]));
                util::set_condition(
                    &mut conditions,
                    &util::Condition {
                        type_: "Progressing",
                        status: "True",
                        reason: "FoundNewReplicaSet",
                        message: &message,
                    },
                    &now_text,
                    true,
                );
            }
        }
        None if !paused => {
            let collision = util::int_at(&deployment, &["status", "collisionCount"]);
            let hash = util::template_hash(&template, collision);
            let rs_name = format!("{name}-{hash}");
            let initial = match util::str_at(&deployment, &["spec", "strategy", "type"]) {
                Some("RollingUpdate") => new_replicas(replicas, limits, total(&sets), 0),
                _ if sets
                    .iter()
                    .any(|rs| status_count(rs, "replicas") > 0 || rs_replicas(rs) > 0) =>
                {
                    0
                }
                _ => replicas,
            };
            let replica_set = new_replica_set(
                &deployment,
                controller,
                &rs_name,
                &hash,
                new_revision,
                initial,
                replicas + limits.surge,
            );
            match ctx.create(
                &rs_rt,
                Some(namespace),
                replica_set,
                managers::CONTROLLER_MANAGER,
            ) {
                Ok(created) => {
                    if initial > 0 {
                        ctx.event(
                            &deployment,
                            "Normal",
                            "ScalingReplicaSet",
                            &format!("Scaled up replica set {rs_name} from 0 to {initial}"),
                            COMPONENT,
                        );
                    }
                    if has_deadline {
                        let message = format!("Created new replica set {rs_name:?}");
                        util::set_condition(
                            &mut conditions,
                            &util::Condition {
                                type_: "Progressing",
                                status: "True",
                                reason: "NewReplicaSetCreated",
                                message: &message,
                            },
                            &now_text,
                            true,
                        );
                    }
                    sets.push(created);
                    new_index = Some(sets.len() - 1);
                }
                Err(ControllerError::Create { source, .. }) if source.code == 409 => {
                    // A ReplicaSet of that name with another template: hash again.
                    status["collisionCount"] = Value::from(collision.unwrap_or(0) + 1);
                    ctx.write_status(
                        &rt,
                        Some(namespace),
                        name,
                        managers::CONTROLLER_MANAGER,
                        status,
                    )?;
                    return Ok(Action::RequeueAfter(Duration::from_millis(10)));
                }
                Err(error) => return Err(error),
            }
        }
        None => {}
    }

    if let Some(index) = new_index {
        let wanted = util::str_at(&sets[index], &["metadata", "annotations", REVISION])
            .unwrap_or("1")
            .to_owned();
        if util::str_at(&deployment, &["metadata", "annotations", REVISION])
            != Some(wanted.as_str())
        {
            ctx.update(
                &rt,
                Some(namespace),
                name,
                managers::CONTROLLER_MANAGER,
                |object| {
                    object::metadata_mut(object)
                        .entry("annotations")
                        .or_insert_with(|| json!({}))[REVISION] = Value::from(wanted.as_str());
                    true
                },
            )?;
        }
    }

    if paused {
        // Only scaling while paused.
        if let Some(index) = new_index
            && sets
                .iter()
                .enumerate()
                .all(|(i, rs)| i == index || rs_replicas(rs) == 0)
            && rs_replicas(&sets[index]) != replicas
        {
            sets[index] = scale(
                ctx,
                &rs_rt,
                &deployment,
                &sets[index],
                replicas,
                replicas + limits.surge,
            )?;
        }
        if has_deadline {
            util::set_condition(
                &mut conditions,
                &util::Condition {
                    type_: "Progressing",
                    status: "Unknown",
                    reason: "DeploymentPaused",
                    message: "Deployment is paused",
                },
                &now_text,
                true,
            );
        }
    } else {
        if has_deadline
            && util::condition(&conditions, "Progressing")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str)
                == Some("DeploymentPaused")
        {
            util::set_condition(
                &mut conditions,
                &util::Condition {
                    type_: "Progressing",
                    status: "Unknown",
                    reason: "DeploymentResumed",
                    message: "Deployment is resumed",
                },
                &now_text,
                true,
            );
        }
        if let Some(index) = new_index {
            match util::str_at(&deployment, &["spec", "strategy", "type"]) {
                Some("Recreate") => recreate(ctx, &rs_rt, &deployment, &mut sets, index, replicas)?,
                _ => roll(ctx, &rs_rt, &deployment, &mut sets, index, replicas, limits)?,
            }
        }
        if complete_status(&deployment) {
            cleanup(ctx, &rs_rt, &deployment, &sets, new_index)?;
        }
    }

    let new_status = compute_status(&deployment, &sets, new_index, &mut conditions, &now_text);
    let new_status = progress(
        &deployment,
        &sets,
        new_index,
        new_status,
        has_deadline,
        &now_text,
    );
    let next = deadline_requeue(&deployment, &new_status, now);
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        new_status,
    )?;
    Ok(Action::after(next))
}

/// The index of the ReplicaSet whose template is the Deployment's (ignoring the hash
/// label); the oldest when several are.
fn find_new(deployment: &Value, sets: &[Value]) -> Option<usize> {
    let template =
        without_hash(util::at(deployment, &["spec", "template"]).unwrap_or(&Value::Null));
    sets.iter().position(|rs| {
        !object::is_terminating(rs)
            && without_hash(util::at(rs, &["spec", "template"]).unwrap_or(&Value::Null)) == template
    })
}

fn total(sets: &[Value]) -> i64 {
    sets.iter().map(rs_replicas).sum()
}

/// How many replicas the new ReplicaSet may have in a rolling update.
fn new_replicas(replicas: i64, limits: Limits, current_total: i64, current_new: i64) -> i64 {
    let max_total = replicas + limits.surge;
    if current_total >= max_total {
        return current_new;
    }
    let scale_up = (max_total - current_total)
        .min(replicas - current_new)
        .max(0);
    current_new + scale_up
}

/// A new ReplicaSet for the Deployment's current template.
fn new_replica_set(
    deployment: &Value,
    controller: Controller<'_>,
    name: &str,
    hash: &str,
    revision: i64,
    replicas: i64,
    max_replicas: i64,
) -> Value {
    let mut template = util::at(deployment, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !template.get("metadata").is_some_and(Value::is_object) {
        template["metadata"] = json!({});
    }
    if !template["metadata"]
        .get("labels")
        .is_some_and(Value::is_object)
    {
        template["metadata"]["labels"] = json!({});
    }
    template["metadata"]["labels"][HASH_LABEL] = Value::from(hash);
    let mut selector = util::at(deployment, &["spec", "selector"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !selector.get("matchLabels").is_some_and(Value::is_object) {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"][HASH_LABEL] = Value::from(hash);
    let labels = template["metadata"]["labels"].clone();
    let mut annotations = copied_annotations(deployment);
    annotations.insert(REVISION.into(), Value::from(revision.to_string()));
    annotations.insert(
        DESIRED_REPLICAS.into(),
        Value::from(util::spec_replicas(deployment).to_string()),
    );
    annotations.insert(MAX_REPLICAS.into(), Value::from(max_replicas.to_string()));
    let mut spec = json!({
        "replicas": replicas,
        "selector": selector,
        "template": template,
    });
    if let Some(min_ready) = util::at(deployment, &["spec", "minReadySeconds"]) {
        spec["minReadySeconds"] = min_ready.clone();
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": util::str_at(deployment, &["metadata", "namespace"]).unwrap_or_default(),
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [controller.reference()],
        },
        "spec": spec,
    })
}

fn copied_annotations(deployment: &Value) -> Map<String, Value> {
    util::at(deployment, &["metadata", "annotations"])
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Brings the new ReplicaSet's annotations up to date: copied Deployment annotations, the
/// revision (bumped when an old template comes back, with the history kept), desired and
/// maximum replicas. Returns the updated ReplicaSet when something changed.
fn sync_new_annotations(
    ctx: &Ctx,
    rs_rt: &ResourceType,
    deployment: &Value,
    replica_set: &Value,
    new_revision: i64,
    max_replicas: i64,
) -> Result<Option<Value>, ControllerError> {
    let copied = copied_annotations(deployment);
    let desired = util::spec_replicas(deployment).to_string();
    let current_revision = revision(replica_set);
    let needs = copied
        .iter()
        .any(|(k, v)| util::at(replica_set, &["metadata", "annotations", k]) != Some(v))
        || current_revision < new_revision
        || util::str_at(replica_set, &["metadata", "annotations", DESIRED_REPLICAS])
            != Some(desired.as_str())
        || util::str_at(replica_set, &["metadata", "annotations", MAX_REPLICAS])
            != Some(max_replicas.to_string().as_str());
    if !needs {
        return Ok(None);
    }
    let namespace = util::str_at(replica_set, &["metadata", "namespace"]).unwrap_or_default();
    ctx.update(
        rs_rt,
        Some(namespace),
        util::name(replica_set),
        managers::CONTROLLER_MANAGER,
        |object| {
            let annotations = object::metadata_mut(object)
                .entry("annotations")
                .or_insert_with(|| json!({}));
            let Some(annotations) = annotations.as_object_mut() else {
                return false;
            };
            for (k, v) in &copied {
                annotations.insert(k.clone(), v.clone());
            }
            if current_revision < new_revision {
                if current_revision > 0 {
                    let mut history: Vec<String> = annotations
                        .get(REVISION_HISTORY)
                        .and_then(Value::as_str)
                        .map(|h| h.split(',').map(str::to_owned).collect())
                        .unwrap_or_default();
                    history.push(current_revision.to_string());
                    annotations.insert(REVISION_HISTORY.into(), Value::from(history.join(",")));
                }
                annotations.insert(REVISION.into(), Value::from(new_revision.to_string()));
            }
            annotations.insert(DESIRED_REPLICAS.into(), Value::from(desired.as_str()));
            annotations.insert(MAX_REPLICAS.into(), Value::from(max_replicas.to_string()));
            true
        },
    )
}

/// Sets a ReplicaSet's replicas (and its replica annotations), recording the event.
fn scale(
    ctx: &Ctx,
    rs_rt: &ResourceType,
    deployment: &Value,
    replica_set: &Value,
    replicas: i64,
    max_replicas: i64,
) -> Result<Value, ControllerError> {
    let before = rs_replicas(replica_set);
    let namespace = util::str_at(replica_set, &["metadata", "namespace"]).unwrap_or_default();
    let desired = util::spec_replicas(deployment).to_string();
    let updated = ctx.update(
        rs_rt,
        Some(namespace),
        util::name(replica_set),
        managers::CONTROLLER_MANAGER,
        |object| {
            object["spec"]["replicas"] = Value::from(replicas);
            let annotations = object::metadata_mut(object)
                .entry("annotations")
                .or_insert_with(|| json!({}));
            annotations[DESIRED_REPLICAS] = Value::from(desired.as_str());
            annotations[MAX_REPLICAS] = Value::from(max_replicas.to_string());
            true
        },
    )?;
    if before != replicas {
        let direction = if replicas > before { "up" } else { "down" };
        ctx.event(
            deployment,
            "Normal",
            "ScalingReplicaSet",
            &format!(
                "Scaled {direction} replica set {} from {before} to {replicas}",
                util::name(replica_set)
            ),
            COMPONENT,
        );
    }
    Ok(updated.unwrap_or_else(|| replica_set.clone()))
}

/// `Recreate`: every old ReplicaSet goes to zero, and once their pods are gone the new
/// one gets all replicas.
fn recreate(
    ctx: &Ctx,
    rs_rt: &ResourceType,
    deployment: &Value,
    sets: &mut [Value],
    new: usize,
    replicas: i64,
) -> Result<(), ControllerError> {
    let mut old_running = false;
    for (index, replica_set) in sets.iter_mut().enumerate() {
        if index == new || object::is_terminating(replica_set) {
            continue;
        }
        if rs_replicas(replica_set) > 0 {
            *replica_set = scale(ctx, rs_rt, deployment, replica_set, 0, replicas)?;
        }
        if status_count(replica_set, "replicas") > 0 {
            old_running = true;
        }
    }
    if !old_running && rs_replicas(&sets[new]) != replicas {
        sets[new] = scale(ctx, rs_rt, deployment, &sets[new], replicas, replicas)?;
    }
    Ok(())
}

/// `RollingUpdate`: scale the new ReplicaSet up as far as `maxSurge` allows, then old
/// ones down as far as `maxUnavailable` allows (unhealthy old replicas first).
fn roll(
    ctx: &Ctx,
    rs_rt: &ResourceType,
    deployment: &Value,
    sets: &mut [Value],
    new: usize,
    replicas: i64,
    limits: Limits,
) -> Result<(), ControllerError> {
    let max_replicas = replicas + limits.surge;
    let current_new = rs_replicas(&sets[new]);
    let wanted = if current_new > replicas {
        replicas
    } else {
        new_replicas(replicas, limits, total(sets), current_new)
    };
    if wanted != current_new {
        sets[new] = scale(ctx, rs_rt, deployment, &sets[new], wanted, max_replicas)?;
    }

    let old: Vec<usize> = (0..sets.len())
        .filter(|i| *i != new && !object::is_terminating(&sets[*i]))
        .collect();
    let old_total: i64 = old.iter().map(|i| rs_replicas(&sets[*i])).sum();
    if old_total == 0 {
        return Ok(());
    }
    let min_available = replicas - limits.unavailable;
    let new_unavailable =
        (rs_replicas(&sets[new]) - status_count(&sets[new], "availableReplicas")).max(0);
    let mut max_scale_down = total(sets) - min_available - new_unavailable;
    if max_scale_down <= 0 {
        return Ok(());
    }
    // Old replicas that are not available go first, within the budget.
    for index in &old {
        if max_scale_down <= 0 {
            break;
        }
        let spec = rs_replicas(&sets[*index]);
        let unhealthy = spec - status_count(&sets[*index], "availableReplicas");
        if spec == 0 || unhealthy <= 0 {
            continue;
        }
        let down = unhealthy.min(max_scale_down);
        sets[*index] = scale(
            ctx,
            rs_rt,
            deployment,
            &sets[*index],
            spec - down,
            max_replicas,
        )?;
        max_scale_down -= down;
    }
    // Then available old replicas, keeping the minimum available.
    let available: i64 = sets
        .iter()
        .map(|rs| status_count(rs, "availableReplicas"))
        .sum();
    let mut budget = (available - min_available).max(0);
    for index in &old {
        if budget <= 0 {
            break;
        }
        let spec = rs_replicas(&sets[*index]);
        if spec == 0 {
            continue;
        }
        let down = spec.min(budget);
        sets[*index] = scale(
            ctx,
            rs_rt,
            deployment,
            &sets[*index],
            spec - down,
            max_replicas,
        )?;
        budget -= down;
    }
    Ok(())
}

/// Whether the stored status says the rollout is complete.
fn complete_status(deployment: &Value) -> bool {
    let replicas = util::spec_replicas(deployment);
    status_count(deployment, "updatedReplicas") == replicas
        && status_count(deployment, "replicas") == replicas
        && status_count(deployment, "availableReplicas") == replicas
        && util::int_at(deployment, &["status", "observedGeneration"]).unwrap_or(0)
            >= util::int_at(deployment, &["metadata", "generation"]).unwrap_or(0)
}

/// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`.
fn cleanup(
    ctx: &Ctx,
    rs_rt: &ResourceType,
    deployment: &Value,
    sets: &[Value],
    new: Option<usize>,
) -> Result<(), ControllerError> {
    let Some(limit) = util::int_at(deployment, &["spec", "revisionHistoryLimit"]) else {
        return Ok(());
    };
    let mut cleanable: Vec<&Value> = sets
        .iter()
        .enumerate()
        .filter(|(i, rs)| {
            Some(*i) != new
                && rs_replicas(rs) == 0
                && status_count(rs, "replicas") == 0
                && !object::is_terminating(rs)
                && util::int_at(rs, &["status", "observedGeneration"]).unwrap_or(0)
                    >= util::int_at(rs, &["metadata", "generation"]).unwrap_or(0)
        })
        .map(|(_, rs)| rs)
        .collect();
    let excess = i64::try_from(cleanable.len()).unwrap_or(0) - limit.max(0);
    if excess <= 0 {
        return Ok(());
    }
    cleanable.sort_by_key(|rs| (revision(rs), util::created(rs)));
    for rs in cleanable
        .into_iter()
        .take(usize::try_from(excess).unwrap_or(0))
    {
        let namespace = util::str_at(rs, &["metadata", "namespace"]).unwrap_or_default();
        ctx.delete(
            rs_rt,
            Some(namespace),
            util::name(rs),
            None,
            Some(util::uid(rs)),
        )?;
    }
    Ok(())
}

/// The status counts and the `Available` condition, from the ReplicaSets.
fn compute_status(
    deployment: &Value,
    sets: &[Value],
    new: Option<usize>,
    conditions: &mut Vec<Value>,
    now: &str,
) -> Value {
    let replicas = util::spec_replicas(deployment);
    let available: i64 = sets
        .iter()
        .map(|rs| status_count(rs, "availableReplicas"))
        .sum();
    let total_spec = total(sets);
    let mut status = json!({});
    if let Some(generation) = util::int_at(deployment, &["metadata", "generation"]) {
        status["observedGeneration"] = Value::from(generation);
    }
    workload::put_count(
        &mut status,
        "replicas",
        sets.iter().map(|rs| status_count(rs, "replicas")).sum(),
    );
    workload::put_count(
        &mut status,
        "updatedReplicas",
        new.map_or(0, |i| status_count(&sets[i], "replicas")),
    );
    workload::put_count(
        &mut status,
        "readyReplicas",
        sets.iter()
            .map(|rs| status_count(rs, "readyReplicas"))
            .sum(),
    );
    workload::put_count(&mut status, "availableReplicas", available);
    workload::put_count(
        &mut status,
        "unavailableReplicas",
        (total_spec - available).max(0),
    );
    if let Some(collision) = util::at(deployment, &["status", "collisionCount"]) {
        status["collisionCount"] = collision.clone();
    }
    let max_unavailable = if util::str_at(deployment, &["spec", "strategy", "type"])
        == Some("RollingUpdate")
        && replicas > 0
    {
        limits(deployment, replicas).unavailable.min(replicas)
    } else {
        0
    };
    let condition = if available >= replicas - max_unavailable {
        util::Condition {
            type_: "Available",
            status: "True",
            reason: "MinimumReplicasAvailable",
            message: "Deployment has minimum availability.",
        }
    } else {
        util::Condition {
            type_: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
        }
    };
    util::set_condition(conditions, &condition, now, true);
    status["conditions"] = Value::Array(conditions.clone());
    status
}

fn count(status: &Value, field: &str) -> i64 {
    status.get(field).and_then(Value::as_i64).unwrap_or(0)
}

/// The `Progressing` condition, as `syncRolloutStatus` sets it.
fn progress(
    deployment: &Value,
    sets: &[Value],
    new: Option<usize>,
    mut status: Value,
    has_deadline: bool,
    now: &str,
) -> Value {
    if !has_deadline {
        return status;
    }
    let mut conditions: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let current = util::condition(&conditions, "Progressing").cloned();
    let reason = current
        .as_ref()
        .and_then(|c| c.get("reason"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if reason == "DeploymentPaused" {
        return status;
    }
    let replicas = util::spec_replicas(deployment);
    let complete_already = count(&status, "replicas") == count(&status, "updatedReplicas")
        && reason == "NewReplicaSetAvailable";
    if !complete_already {
        let subject = match new {
            Some(i) => format!("ReplicaSet {:?}", util::name(&sets[i])),
            None => format!("Deployment {:?}", util::name(deployment)),
        };
        let complete = count(&status, "updatedReplicas") == replicas
            && count(&status, "replicas") == replicas
            && count(&status, "availableReplicas") == replicas
            && count(&status, "observedGeneration")
                >= util::int_at(deployment, &["metadata", "generation"]).unwrap_or(0);
        let old = deployment
            .get("status")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let progressing = count(&status, "updatedReplicas") > count(&old, "updatedReplicas")
            || count(&status, "replicas") - count(&status, "updatedReplicas")
                < count(&old, "replicas") - count(&old, "updatedReplicas")
            || count(&status, "readyReplicas") > count(&old, "readyReplicas")
            || count(&status, "availableReplicas") > count(&old, "availableReplicas");
        if complete {
            let message = format!("{subject} has successfully progressed.");
            util::set_condition(
                &mut conditions,
                &util::Condition {
                    type_: "Progressing",
                    status: "True",
                    reason: "NewReplicaSetAvailable",
                    message: &message,
                },
                now,
                true,
            );
        } else if progressing {
            // Progress refreshes lastUpdateTime even when the reason stays the same.
            let transition = current
                .as_ref()
                .filter(|c| c.get("status").and_then(Value::as_str) == Some("True"))
                .and_then(|c| c.get("lastTransitionTime").cloned())
                .unwrap_or_else(|| Value::from(now));
            conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some("Progressing"));
            conditions.push(json!({
                "type": "Progressing", "status": "True",
                "lastUpdateTime": now, "lastTransitionTime": transition,
                "reason": "ReplicaSetUpdated", "message": format!("{subject} is progressing."),
            }));
        } else if timed_out(
            deployment,
            current.as_ref(),
            util::parse_time(now).unwrap_or_else(util::now),
        ) {
            let message = format!("{subject} has timed out progressing.");
            util::set_condition(
                &mut conditions,
                &util::Condition {
                    type_: "Progressing",
                    status: "False",
                    reason: "ProgressDeadlineExceeded",
                    message: &message,
                },
                now,
                true,
            );
        }
    }
    status["conditions"] = Value::Array(conditions);
    status
}

fn timed_out(deployment: &Value, progressing: Option<&Value>, now: jiff::Timestamp) -> bool {
    let Some(deadline) = util::int_at(deployment, &["spec", "progressDeadlineSeconds"]) else {
        return false;
    };
    let Some(condition) = progressing else {
        return false;
    };
    match condition.get("reason").and_then(Value::as_str) {
        Some("NewReplicaSetAvailable") => return false,
        Some("ProgressDeadlineExceeded") => return true,
        _ => {}
    }
    let Some(from) = condition
        .get("lastUpdateTime")
        .and_then(Value::as_str)
        .and_then(util::parse_time)
    else {
        return false;
    };
    util::plus_seconds(from, deadline) < now
}

/// When to look again for a progress deadline to pass.
fn deadline_requeue(deployment: &Value, status: &Value, now: jiff::Timestamp) -> Option<Duration> {
    let deadline = util::int_at(deployment, &["spec", "progressDeadlineSeconds"])?;
    let conditions = status.get("conditions").and_then(Value::as_array)?;
    let condition = util::condition(conditions, "Progressing")?;
    match condition.get("reason").and_then(Value::as_str) {
        Some("NewReplicaSetAvailable" | "ProgressDeadlineExceeded" | "DeploymentPaused") => None,
        _ => {
            let from = condition
                .get("lastUpdateTime")
                .and_then(Value::as_str)
                .and_then(util::parse_time)?;
            // Timestamps have whole seconds: look a second after the deadline passed.
            Some(util::until(util::plus_seconds(from, deadline + 1), now))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surge_and_unavailability_resolve_like_upstream() {
        let deployment = |surge: Value, unavailable: Value| json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}}});
        assert_eq!(
            limits(&deployment(json!("25%"), json!("25%")), 3),
            Limits {
                surge: 1,
                unavailable: 0
            }
        );
        assert_eq!(
            limits(&deployment(json!("25%"), json!("25%")), 10),
            Limits {
                surge: 3,
                unavailable: 2
            }
        );
        assert_eq!(
            limits(&deployment(json!(0), json!(0)), 10),
            Limits {
                surge: 0,
                unavailable: 1
            }
        );
        assert_eq!(
            limits(&json!({"spec": {"strategy": {"type": "Recreate"}}}), 10),
            Limits {
                surge: 0,
                unavailable: 0
            }
        );
    }

    #[test]
    fn the_new_replica_set_grows_within_the_surge() {
        let limits = Limits {
            surge: 1,
            unavailable: 0,
        };
        assert_eq!(new_replicas(3, limits, 0, 0), 3);
        assert_eq!(new_replicas(3, limits, 3, 0), 1);
        assert_eq!(new_replicas(3, limits, 4, 1), 1);
        assert_eq!(new_replicas(3, limits, 3, 2), 3);
    }

    #[test]
    fn templates_compare_without_the_hash_label() {
        let a =
            json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {}});
        let b = json!({"metadata": {"labels": {"app": "web"}}, "spec": {}});
        assert_eq!(without_hash(&a), b);
    }

    #[test]
    fn a_deadline_passes_after_the_last_progress() {
        let deployment = json!({"spec": {"progressDeadlineSeconds": 2}});
        let condition = json!({"type": "Progressing", "reason": "ReplicaSetUpdated", "lastUpdateTime": "2026-01-01T00:00:00Z"});
        assert!(!timed_out(
            &deployment,
            Some(&condition),
            "2026-01-01T00:00:02Z".parse().unwrap()
        ));
        assert!(timed_out(
            &deployment,
            Some(&condition),
            "2026-01-01T00:00:03Z".parse().unwrap()
        ));
        let done = json!({"type": "Progressing", "reason": "NewReplicaSetAvailable", "lastUpdateTime": "2026-01-01T00:00:00Z"});
        assert!(!timed_out(
            &deployment,
            Some(&done),
            "2026-01-02T00:00:00Z".parse().unwrap()
        ));
    }
}
