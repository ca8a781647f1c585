//! Namespace deletion, as kube-controller-manager's namespace controller does it: a
//! terminating namespace has every namespaced object in it deleted (finalizers are
//! respected: such objects stay until their finalizers are removed), its status conditions
//! say what remains, and once it is empty the `kubernetes` entry of `spec.finalizers` is
//! removed through `/finalize`, after which the namespace itself goes.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Action, ControllerError, Ctx, managers, util};
use crate::backend::Propagation;
use crate::object;

/// The finalizer of `spec.finalizers` this controller owns.
const FINALIZER: &str = "kubernetes";

/// The condition types, in the order upstream keeps them, with their "all is well"
/// reason and message.
const CONDITIONS: [(&str, &str, &str); 5] = [
    (
        "NamespaceDeletionDiscoveryFailure",
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        "NamespaceDeletionContentFailure",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    (
        "NamespaceContentRemaining",
        "ContentRemoved",
        "All content successfully removed",
    ),
    (
        "NamespaceFinalizersRemaining",
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
];

/// What is left in a namespace after a deletion pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Remaining {
    /// Objects left, by `resource.group`.
    by_resource: BTreeMap<String, usize>,
    /// Objects left, by finalizer.
    by_finalizer: BTreeMap<String, usize>,
    /// Deletions that failed.
    errors: Vec<String>,
}

/// Deletes a terminating namespace's content, reports progress in its conditions and
/// finalizes it once empty.
///
/// # Errors
/// Failed writes of the namespace.
pub(super) fn reconcile(ctx: &mut Ctx, name: &str) -> Result<Action, ControllerError> {
    let rt = ctx.rt("", "namespaces")?;
    let Some(namespace) = ctx.get(&rt, None, name) else {
        return Ok(Action::Done);
    };
    if !object::is_terminating(&namespace) {
        return Ok(Action::Done);
    }
    let spec_finalizers: Vec<String> = util::at(&namespace, &["spec", "finalizers"])
        .and_then(Value::as_array)
        .map(|f| {
            f.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !spec_finalizers.iter().any(|f| f == FINALIZER) {
        return Ok(Action::Done);
    }

    let errors = delete_content(ctx, name);
    let mut remaining = count_content(ctx, name);
    remaining.errors = errors;

    let now = util::format_time(util::now());
    let mut status = namespace
        .get("status")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut conditions = util::conditions(&namespace);
    for condition in conditions_for(&remaining) {
        update_condition(&mut conditions, condition, &now);
    }
    status["phase"] = Value::from("Terminating");
    status["conditions"] = Value::Array(conditions);
    ctx.write_status(&rt, None, name, managers::CONTROLLER_MANAGER, status)?;

    if !remaining.by_resource.is_empty() {
        // Objects with finalizers go when someone removes them; look again now and then.
        return Ok(Action::RequeueAfter(Duration::from_secs(5)));
    }
    let kept: Vec<Value> = spec_finalizers
        .into_iter()
        .filter(|f| f != FINALIZER)
        .map(Value::from)
        .collect();
    crate::namespaces::finalize(&ctx.backend, name, json!({"spec": {"finalizers": kept}}))
        .map_err(|source| ControllerError::Update {
            what: format!("the finalizers of namespace {name}"),
            source,
        })?;
    Ok(Action::Done)
}

/// Every namespaced type's storage, once.
fn namespaced_types(ctx: &Ctx) -> Vec<std::sync::Arc<crate::resources::ResourceType>> {
    let mut seen = HashSet::new();
    ctx.backend
        .registry
        .all()
        .into_iter()
        .filter(|rt| rt.namespaced && rt.storage_version && seen.insert(rt.storage.clone()))
        .collect()
}

/// Deletes every object in the namespace that is not already being deleted; returns the
/// failures.
fn delete_content(ctx: &Ctx, namespace: &str) -> Vec<String> {
    let mut errors = Vec::new();
    for rt in namespaced_types(ctx) {
        for object in ctx.list(&rt, Some(namespace)) {
            if object::is_terminating(&object) {
                continue;
            }
            let result = ctx.delete(
                &rt,
                Some(namespace),
                util::name(&object),
                Some(Propagation::Background),
                None,
            );
            if let Err(error) = result {
                errors.push(error.to_string());
            }
        }
    }
    errors
}

/// Counts what is left in the namespace.
fn count_content(ctx: &Ctx, namespace: &str) -> Remaining {
    let mut remaining = Remaining::default();
    for rt in namespaced_types(ctx) {
        let objects = ctx.list(&rt, Some(namespace));
        if objects.is_empty() {
            continue;
        }
        let (group, resource) = &rt.storage;
        *remaining
            .by_resource
            .entry(format!("{resource}.{group}"))
            .or_default() += objects.len();
        for object in &objects {
            for finalizer in object::finalizers(object) {
                *remaining.by_finalizer.entry(finalizer).or_default() += 1;
            }
        }
    }
    remaining
}

/// The conditions that are not in their "all is well" state: `(type, reason, message)`.
fn conditions_for(remaining: &Remaining) -> Vec<(&'static str, String, String, String)> {
    let mut out = Vec::new();
    for (type_, reason, message) in CONDITIONS {
        let failing = match type_ {
            "NamespaceDeletionContentFailure" if !remaining.errors.is_empty() => {
                let mut errors = remaining.errors.clone();
                errors.sort();
                Some((
                    "ContentDeletionFailed".to_owned(),
                    format!(
                        "Failed to delete all resource types, {} remaining: {}",
                        errors.len(),
                        errors.join(", ")
                    ),
                ))
            }
            "NamespaceContentRemaining" if !remaining.by_resource.is_empty() => {
                let parts: Vec<String> = remaining
                    .by_resource
                    .iter()
                    .map(|(resource, count)| format!("{resource} has {count} resource instances"))
                    .collect();
                Some((
                    "SomeResourcesRemain".to_owned(),
                    format!("Some resources are remaining: {}", parts.join(", ")),
                ))
            }
            "NamespaceFinalizersRemaining" if !remaining.by_finalizer.is_empty() => {
                let parts: Vec<String> = remaining
                    .by_finalizer
                    .iter()
                    .map(|(finalizer, count)| format!("{finalizer} in {count} resource instances"))
                    .collect();
                Some((
                    "SomeFinalizersRemain".to_owned(),
                    format!(
                        "Some content in the namespace has finalizers remaining: {}",
                        parts.join(", ")
                    ),
                ))
            }
            _ => None,
        };
        out.push(match failing {
            Some((reason, message)) => (type_, "True".to_owned(), reason, message),
            None => (
                type_,
                "False".to_owned(),
                reason.to_owned(),
                message.to_owned(),
            ),
        });
    }
    out
}

/// Updates one namespace condition as upstream does: the transition time changes with
/// the status only, reason and message follow.
fn update_condition(
    conditions: &mut Vec<Value>,
    (type_, status, reason, message): (&str, String, String, String),
    now: &str,
) {
    match conditions
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
    {
        Some(current) => {
            if current.get("status").and_then(Value::as_str) != Some(status.as_str()) {
                current["lastTransitionTime"] = Value::from(now);
            }
            current["status"] = Value::from(status);
            current["reason"] = Value::from(reason);
            current["message"] = Value::from(message);
        }
        None => conditions.push(json!({
            "type": type_,
            "status": status,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_content_is_reported_as_upstream_words_it() {
        let remaining = Remaining {
            by_resource: [("pods.".to_owned(), 2), ("configmaps.".to_owned(), 1)].into(),
            by_finalizer: [("example.com/keep".to_owned(), 1)].into(),
            errors: Vec::new(),
        };
        let conditions = conditions_for(&remaining);
        let remaining_condition = conditions
            .iter()
            .find(|c| c.0 == "NamespaceContentRemaining")
            .unwrap();
        assert_eq!(remaining_condition.1, "True");
        assert_eq!(remaining_condition.2, "SomeResourcesRemain");
        assert_eq!(
            remaining_condition.3,
            "Some resources are remaining: configmaps. has 1 resource instances, pods. has 2 resource instances"
        );
        let finalizers = conditions
            .iter()
            .find(|c| c.0 == "NamespaceFinalizersRemaining")
            .unwrap();
        assert_eq!(
            finalizers.3,
            "Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances"
        );
        let content = conditions
            .iter()
            .find(|c| c.0 == "NamespaceDeletionContentFailure")
            .unwrap();
        assert_eq!(
            (content.1.as_str(), content.2.as_str()),
            ("False", "ContentDeleted")
        );
    }

    #[test]
    fn condition_transition_times_change_with_the_status_only() {
        let mut conditions = Vec::new();
        let remaining = (
            "NamespaceContentRemaining",
            "True".to_owned(),
            "SomeResourcesRemain".to_owned(),
            "x".to_owned(),
        );
        update_condition(&mut conditions, remaining.clone(), "t1");
        update_condition(
            &mut conditions,
            (remaining.0, remaining.1, remaining.2, "y".to_owned()),
            "t2",
        );
        assert_eq!(conditions[0]["lastTransitionTime"], "t1");
        assert_eq!(conditions[0]["message"], "y");
        update_condition(
            &mut conditions,
            (
                "NamespaceContentRemaining",
                "False".to_owned(),
                "ContentRemoved".to_owned(),
                "z".to_owned(),
            ),
            "t3",
        );
        assert_eq!(conditions[0]["lastTransitionTime"], "t3");
        assert_eq!(conditions.len(), 1);
    }
}
