//! ControllerRevisions, the history StatefulSets and DaemonSets keep of their pod
//! templates (what `kubectl rollout history` and `rollout undo` read): one per distinct
//! template, named `<owner>-<hash>`, numbered, pruned to `revisionHistoryLimit`.

use serde_json::{Value, json};

use super::workload::Controller;
use super::{ControllerError, Ctx, managers, util};
use crate::object;

/// One revision of a controller's template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The ControllerRevision's name, `<owner>-<hash>`.
    pub name: String,
    /// The hash of the template.
    pub hash: String,
    /// The revision number.
    pub number: i64,
}

/// The data a revision records: the template, to be put back with `$patch: replace`.
fn data_of(template: &Value) -> Value {
    let mut template = template.clone();
    if template.is_object() {
        template["$patch"] = Value::from("replace");
    }
    json!({"spec": {"template": template}})
}

/// The ControllerRevisions `controller` owns, oldest revision first.
pub fn history(ctx: &Ctx, controller: Controller<'_>) -> Result<Vec<Value>, ControllerError> {
    let rt = ctx.rt("apps", "controllerrevisions")?;
    let namespace = util::str_at(controller.object, &["metadata", "namespace"]).unwrap_or_default();
    let uid = util::uid(controller.object);
    let mut owned: Vec<Value> = ctx
        .list(&rt, Some(namespace))
        .into_iter()
        .filter(|r| util::controlled_by(r, uid))
        .collect();
    owned.sort_by_key(|r| util::int_at(r, &["revision"]).unwrap_or(0));
    Ok(owned)
}

/// The template a revision recorded.
pub fn template_of(revision: &Value) -> Option<Value> {
    let mut template = util::at(revision, &["data", "spec", "template"])?.clone();
    util::remove_field(&mut template, "$patch");
    Some(template)
}

/// Makes sure the controller's current template has a revision, the newest one: an
/// existing revision of the same template is renumbered, otherwise one is created.
/// `labels` label the revision.
///
/// # Errors
/// Failed writes.
pub fn ensure(
    ctx: &Ctx,
    controller: Controller<'_>,
    template: &Value,
    labels: &Value,
) -> Result<Revision, ControllerError> {
    let rt = ctx.rt("apps", "controllerrevisions")?;
    let namespace = util::str_at(controller.object, &["metadata", "namespace"]).unwrap_or_default();
    let owner = util::name(controller.object);
    let history = history(ctx, controller)?;
    let data = data_of(template);
    let hash = util::template_hash(&data, None);
    let name = format!("{owner}-{hash}");
    let newest = history
        .iter()
        .map(|r| util::int_at(r, &["revision"]).unwrap_or(0))
        .max()
        .unwrap_or(0);
    if let Some(existing) = history.iter().find(|r| util::name(r) == name) {
        let number = util::int_at(existing, &["revision"]).unwrap_or(0);
        if number == newest {
            return Ok(Revision { name, hash, number });
        }
        let next = newest + 1;
        ctx.update(
            &rt,
            Some(namespace),
            &name,
            managers::CONTROLLER_MANAGER,
            |object| {
                object["revision"] = Value::from(next);
                true
            },
        )?;
        return Ok(Revision {
            name,
            hash,
            number: next,
        });
    }
    let number = newest + 1;
    let mut labels = labels.clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels["controller.kubernetes.io/hash"] = Value::from(hash.as_str());
    let revision = json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [controller.reference()],
        },
        "data": data,
        "revision": number,
    });
    match ctx.create(&rt, Some(namespace), revision, managers::CONTROLLER_MANAGER) {
        Ok(_) => {}
        // Created by an earlier pass whose watch event has not arrived: fine.
        Err(ControllerError::Create { source, .. }) if source.code == 409 => {}
        Err(error) => return Err(error),
    }
    Ok(Revision { name, hash, number })
}

/// Deletes the oldest revisions beyond `limit` that no pod uses (`live` names).
///
/// # Errors
/// Failed deletes.
pub fn truncate(
    ctx: &Ctx,
    controller: Controller<'_>,
    limit: i64,
    live: &[&str],
) -> Result<(), ControllerError> {
    let rt = ctx.rt("apps", "controllerrevisions")?;
    let history = history(ctx, controller)?;
    let unused: Vec<&Value> = history
        .iter()
        .filter(|r| !live.contains(&util::name(r)) && !object::is_terminating(r))
        .collect();
    let excess = i64::try_from(unused.len()).unwrap_or(0) - limit.max(0);
    for revision in unused
        .into_iter()
        .take(usize::try_from(excess.max(0)).unwrap_or(0))
    {
        let namespace = util::str_at(revision, &["metadata", "namespace"]).unwrap_or_default();
        ctx.delete(&rt, Some(namespace), util::name(revision), None, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_record_templates_to_be_replaced() {
        let template = json!({"metadata": {"labels": {"app": "db"}}, "spec": {"containers": []}});
        let data = data_of(&template);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let revision = json!({"data": data});
        assert_eq!(template_of(&revision), Some(template));
    }
}
