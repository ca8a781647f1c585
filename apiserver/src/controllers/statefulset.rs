//! The StatefulSet controller: pods `<set>-<ordinal>` with stable names (created in
//! order, each once its predecessors are ready, unless `podManagementPolicy: Parallel`),
//! claims from `volumeClaimTemplates`, scale-down from the highest ordinal, rolling
//! updates from the highest ordinal down to the partition, ControllerRevisions, and the
//! status `kubectl rollout status` reads (`currentRevision`, `updateRevision`,
//! `updatedReplicas`, `readyReplicas`...).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::revisions;
use super::workload::{self, Controller};
use super::{Action, ControllerError, Ctx, managers, util};
use crate::object;

const REVISION_LABEL: &str = "controller-revision-hash";

/// Reconciles one StatefulSet.
///
/// # Errors
/// Failed reads or writes.
pub(super) fn reconcile(
    ctx: &mut Ctx,
    namespace: &str,
    name: &str,
) -> Result<Action, ControllerError> {
    let rt = ctx.rt("apps", "statefulsets")?;
    let pods_rt = ctx.rt("", "pods")?;
    let Some(set) = ctx.get(&rt, Some(namespace), name) else {
        return Ok(Action::Done);
    };
    let controller = Controller {
        object: &set,
        api_version: "apps/v1",
        kind: "StatefulSet",
    };
    let selector = util::at(&set, &["spec", "selector"]);
    let mut pods = workload::claim(ctx, controller, &pods_rt, selector)?;
    let template = util::at(&set, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let template_labels = util::at(&template, &["metadata", "labels"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let update = revisions::ensure(ctx, controller, &template, &template_labels)?;
    let current_name = util::str_at(&set, &["status", "currentRevision"])
        .filter(|c| !c.is_empty())
        .unwrap_or(&update.name)
        .to_owned();
    let replicas = util::spec_replicas(&set);
    let start = util::int_at(&set, &["spec", "ordinals", "start"]).unwrap_or(0);
    let parallel = util::str_at(&set, &["spec", "podManagementPolicy"]) == Some("Parallel");
    let rolling = util::str_at(&set, &["spec", "updateStrategy", "type"]) == Some("RollingUpdate");
    let partition = util::int_at(
        &set,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    )
    .unwrap_or(0);
    let prefix = format!("{name}-");
    let ordinal_of =
        |pod: &Value| -> Option<i64> { util::name(pod).strip_prefix(&prefix)?.parse().ok() };

    if !object::is_terminating(&set) {
        let mut by_ordinal: BTreeMap<i64, Value> = BTreeMap::new();
        for pod in &pods {
            if let Some(ordinal) = ordinal_of(pod) {
                by_ordinal.insert(ordinal, pod.clone());
            }
        }
        let mut blocked = false;
        // Create (or replace finished) pods in order.
        for ordinal in start..start + replicas {
            match by_ordinal.get(&ordinal) {
                None => {
                    let revision_name =
                        if rolling && ordinal < start + partition && current_name != update.name {
                            current_name.clone()
                        } else {
                            update.name.clone()
                        };
                    let pod_template = if revision_name == update.name {
                        template.clone()
                    } else {
                        revision_template(ctx, controller, &revision_name)
                            .unwrap_or_else(|| template.clone())
                    };
                    let created = create_pod(
                        ctx,
                        &set,
                        controller,
                        &pod_template,
                        ordinal,
                        &revision_name,
                    )?;
                    by_ordinal.insert(ordinal, created.clone());
                    pods.push(created);
                    if !parallel {
                        blocked = true;
                        break;
                    }
                }
                Some(pod) if workload::is_finished(pod) => {
                    ctx.delete(
                        &pods_rt,
                        Some(namespace),
                        util::name(pod),
                        None,
                        Some(util::uid(pod)),
                    )?;
                    if !parallel {
                        blocked = true;
                        break;
                    }
                }
                Some(pod)
                    if !parallel && (object::is_terminating(pod) || !workload::is_ready(pod)) =>
                {
                    blocked = true;
                    break;
                }
                Some(_) => {}
            }
        }
        // Scale down from the highest ordinal.
        let surplus: Vec<(i64, Value)> = by_ordinal
            .iter()
            .rev()
            .filter(|(ordinal, pod)| {
                (**ordinal >= start + replicas || **ordinal < start) && !object::is_terminating(pod)
            })
            .map(|(o, p)| (*o, p.clone()))
            .collect();
        for (ordinal, pod) in surplus
            .iter()
            .take(if parallel { surplus.len() } else { 1 })
        {
            if !parallel && blocked {
                break;
            }
            ctx.delete(
                &pods_rt,
                Some(namespace),
                util::name(pod),
                None,
                Some(util::uid(pod)),
            )?;
            by_ordinal.remove(ordinal);
            blocked = true;
        }
        // Roll pods of older revisions, highest ordinal first, one at a time.
        let all_ready = (start..start + replicas).all(|o| {
            by_ordinal
                .get(&o)
                .is_some_and(|p| workload::is_ready(p) && !object::is_terminating(p))
        });
        if rolling && !blocked && all_ready {
            let outdated = (start + partition..start + replicas).rev().find(|o| {
                by_ordinal.get(o).is_some_and(|p| {
                    util::str_at(p, &["metadata", "labels", REVISION_LABEL])
                        != Some(update.name.as_str())
                })
            });
            if let Some(ordinal) = outdated
                && let Some(pod) = by_ordinal.get(&ordinal)
            {
                ctx.delete(
                    &pods_rt,
                    Some(namespace),
                    util::name(pod),
                    None,
                    Some(util::uid(pod)),
                )?;
            }
        }
        // Drop what was deleted above from the status counts.
        pods.retain(|p| {
            ctx.get(&pods_rt, Some(namespace), util::name(p))
                .is_some_and(|s| util::uid(&s) == util::uid(p))
        });
    }

    // Status.
    let now = util::now();
    let min_ready = util::int_at(&set, &["spec", "minReadySeconds"]).unwrap_or(0);
    let live: Vec<&Value> = pods.iter().filter(|p| !object::is_terminating(p)).collect();
    let counts = workload::count(&pods, min_ready, now);
    let at_revision = |revision: &str| {
        i64::try_from(
            live.iter()
                .filter(|p| {
                    util::str_at(p, &["metadata", "labels", REVISION_LABEL]) == Some(revision)
                })
                .count(),
        )
        .unwrap_or(0)
    };
    let created = i64::try_from(live.len()).unwrap_or(0);
    let updated = at_revision(&update.name);
    let mut current_revision = current_name.clone();
    let mut current = at_revision(&current_name);
    if rolling && updated == created && counts.ready == created && created == replicas {
        current_revision = update.name.clone();
        current = updated;
    }
    let mut status = set.get("status").cloned().unwrap_or_else(|| json!({}));
    status["replicas"] = Value::from(created);
    workload::put_count(&mut status, "readyReplicas", counts.ready);
    workload::put_count(&mut status, "currentReplicas", current);
    workload::put_count(&mut status, "updatedReplicas", updated);
    workload::put_count(&mut status, "availableReplicas", counts.available);
    status["currentRevision"] = Value::from(current_revision.as_str());
    status["updateRevision"] = Value::from(update.name.as_str());
    status["collisionCount"] = Value::from(0);
    if let Some(generation) = util::int_at(&set, &["metadata", "generation"]) {
        status["observedGeneration"] = Value::from(generation);
    }
    ctx.write_status(
        &rt,
        Some(namespace),
        name,
        managers::CONTROLLER_MANAGER,
        status,
    )?;
    let limit = util::int_at(&set, &["spec", "revisionHistoryLimit"]).unwrap_or(10);
    revisions::truncate(
        ctx,
        controller,
        limit,
        &[current_revision.as_str(), update.name.as_str()],
    )?;
    Ok(Action::after(counts.next_available))
}

fn revision_template(ctx: &Ctx, controller: Controller<'_>, name: &str) -> Option<Value> {
    revisions::history(ctx, controller)
        .ok()?
        .iter()
        .find(|r| util::name(r) == name)
        .and_then(revisions::template_of)
}

/// Creates pod `ordinal` (and its claims) from `template` at `revision`.
fn create_pod(
    ctx: &Ctx,
    set: &Value,
    controller: Controller<'_>,
    template: &Value,
    ordinal: i64,
    revision: &str,
) -> Result<Value, ControllerError> {
    let namespace = util::str_at(set, &["metadata", "namespace"]).unwrap_or_default();
    let set_name = util::name(set);
    let pod_name = format!("{set_name}-{ordinal}");
    let mut pod = workload::pod_from_template(
        template,
        controller,
        Some(&pod_name),
        None,
        &[
            (REVISION_LABEL, revision.to_owned()),
            ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
            ("apps.kubernetes.io/pod-index", ordinal.to_string()),
        ],
    );
    pod["spec"]["hostname"] = Value::from(pod_name.as_str());
    if let Some(service) = util::str_at(set, &["spec", "serviceName"]).filter(|s| !s.is_empty()) {
        pod["spec"]["subdomain"] = Value::from(service);
    }
    let claims: Vec<Value> = util::at(set, &["spec", "volumeClaimTemplates"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !claims.is_empty() {
        let claims_rt = ctx.rt("", "persistentvolumeclaims")?;
        let selector_labels = util::at(set, &["spec", "selector", "matchLabels"])
            .cloned()
            .unwrap_or_else(|| json!({}));
        let delete_with_set = util::str_at(
            set,
            &[
                "spec",
                "persistentVolumeClaimRetentionPolicy",
                "whenDeleted",
            ],
        ) == Some("Delete");
        let mut volumes: Vec<Value> = util::at(&pod, &["spec", "volumes"])
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for claim in &claims {
            let template_name = util::name(claim);
            let claim_name = format!("{template_name}-{pod_name}");
            if ctx.get(&claims_rt, Some(namespace), &claim_name).is_none() {
                let mut metadata =
                    json!({"name": claim_name, "namespace": namespace, "labels": selector_labels});
                if let Some(annotations) = util::at(claim, &["metadata", "annotations"]) {
                    metadata["annotations"] = annotations.clone();
                }
                if delete_with_set {
                    metadata["ownerReferences"] = json!([controller.reference()]);
                }
                let object = json!({
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": metadata,
                    "spec": claim.get("spec").cloned().unwrap_or_else(|| json!({})),
                });
                match ctx.create(
                    &claims_rt,
                    Some(namespace),
                    object,
                    managers::CONTROLLER_MANAGER,
                ) {
                    Ok(_) => {}
                    Err(ControllerError::Create { source, .. }) if source.code == 409 => {}
                    Err(error) => return Err(error),
                }
            }
            volumes.retain(|v| v.get("name").and_then(Value::as_str) != Some(template_name));
            volumes.push(
                json!({"name": template_name, "persistentVolumeClaim": {"claimName": claim_name}}),
            );
        }
        pod["spec"]["volumes"] = Value::Array(volumes);
    }
    let pods_rt = ctx.rt("", "pods")?;
    let created = ctx.create(&pods_rt, Some(namespace), pod, managers::CONTROLLER_MANAGER)?;
    ctx.event(
        set,
        "Normal",
        "SuccessfulCreate",
        &format!("create Pod {pod_name} in StatefulSet {set_name} successful"),
        "statefulset-controller",
    );
    Ok(created)
}
