//! The garbage collector: objects whose owners are all gone are deleted, owners deleted
//! with `propagationPolicy: Foreground` wait (with the `foregroundDeletion` finalizer)
//! until their blocking dependents are gone, and owners deleted with `Orphan` first strip
//! their references from every dependent (then lose the `orphan` finalizer).
//!
//! As in kube-controller-manager, an owner reference is resolved by kind and name in the
//! dependent's namespace (or cluster-wide for cluster-scoped owner kinds) and must match
//! the owner's uid: an owner that is missing, lives in another namespace or has another
//! uid counts as absent. A cluster-scoped dependent naming a namespaced owner kind is
//! unresolvable: it is left alone and an `OwnerRefInvalidNamespace` warning is recorded.
//! An owner kind that is not served is retried with backoff (its CRD may come later).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::{Action, ControllerError, Ctx, Head, Key, OwnerRef, Work, managers, util};
use crate::backend::Propagation;
use crate::object;
use crate::store::EventType;

/// The finalizer that keeps an owner until its dependents are deleted.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer that keeps an owner until its dependents are orphaned.
pub const ORPHAN: &str = "orphan";

/// Who refers to whom: the owner references of every object that has some.
#[derive(Debug, Default)]
pub struct Graph {
    owners: HashMap<Arc<str>, Vec<OwnerRef>>,
    dependents: HashMap<String, HashSet<Arc<str>>>,
}

impl Graph {
    /// Records the owner references of `key`, returning the previous ones.
    fn set(&mut self, key: &Arc<str>, refs: Vec<OwnerRef>) -> Vec<OwnerRef> {
        let previous = if refs.is_empty() {
            self.owners.remove(key).unwrap_or_default()
        } else {
            self.owners
                .insert(key.clone(), refs.clone())
                .unwrap_or_default()
        };
        for old in &previous {
            if let Some(keys) = self.dependents.get_mut(&old.uid) {
                keys.remove(key);
                if keys.is_empty() {
                    self.dependents.remove(&old.uid);
                }
            }
        }
        for new in refs {
            self.dependents
                .entry(new.uid)
                .or_default()
                .insert(key.clone());
        }
        previous
    }

    /// The store keys of the objects referring to the owner with `uid`.
    pub fn dependents_of(&self, uid: &str) -> Vec<Arc<str>> {
        let mut keys: Vec<Arc<str>> = self
            .dependents
            .get(uid)
            .map(|keys| keys.iter().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// The owner references of the object under `key`.
    fn owners_of(&self, key: &str) -> &[OwnerRef] {
        self.owners.get(key).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Updates the graph from a change and queues what the change concerns: the object
/// itself when its references changed or it started a foreground or orphan deletion, the
/// dependents of a deleted owner, and the owners of a deleted dependent.
pub(super) fn observe(
    ctx: &mut Ctx,
    key: &Arc<str>,
    parsed: &Key<'_>,
    head: &Head,
    kind: EventType,
) {
    let deleted = kind == EventType::Deleted;
    let refs = if deleted {
        Vec::new()
    } else {
        head.owners().to_vec()
    };
    let previous = ctx.graph.set(key, refs.clone());
    if deleted {
        if let Some(uid) = &head.metadata.uid {
            for dependent in ctx.graph.dependents_of(uid) {
                ctx.queue.add(Work::Gc(dependent));
            }
        }
        for owner in &previous {
            queue_owner(ctx, parsed, owner);
        }
        return;
    }
    if refs != previous || (kind == EventType::Added && !refs.is_empty()) {
        if !refs.is_empty() {
            ctx.queue.add(Work::Gc(key.clone()));
        }
        for owner in previous.iter().filter(|owner| !refs.contains(owner)) {
            queue_owner(ctx, parsed, owner);
        }
    }
    if head.terminating() && (head.has_finalizer(FOREGROUND) || head.has_finalizer(ORPHAN)) {
        ctx.queue.add(Work::Gc(key.clone()));
    }
}

/// Queues the owner `owner` of the dependent at `dependent`, if it can be resolved.
fn queue_owner(ctx: &mut Ctx, dependent: &Key<'_>, owner: &OwnerRef) {
    if let Some(rt) = ctx.backend.registry.by_kind(owner.group(), &owner.kind) {
        let namespace = if rt.namespaced {
            dependent.namespace
        } else {
            None
        };
        if rt.namespaced && namespace.is_none() {
            return;
        }
        ctx.queue
            .add(Work::Gc(Arc::from(rt.key(namespace, &owner.name))));
    }
}

/// How an owner reference resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
    /// The owner exists and is not waiting for its dependents.
    Solid,
    /// The owner is gone, elsewhere or another object (uid mismatch).
    Dangling,
    /// The owner is being deleted in the foreground.
    Waiting,
}

/// Garbage-collects the object under `key`: as an owner being deleted in the foreground or
/// with orphaning, and as a dependent whose owners may be gone.
///
/// # Errors
/// Failed writes, and owner kinds that are not served (retried).
pub(super) fn reconcile(ctx: &mut Ctx, key: &Arc<str>) -> Result<Action, ControllerError> {
    let Some(parsed) = Key::parse(key) else {
        return Ok(Action::Done);
    };
    let Some(entry) = ctx.backend.entry(key) else {
        return Ok(Action::Done);
    };
    let Ok(object) = serde_json::from_slice::<Value>(&entry.value) else {
        return Ok(Action::Done);
    };
    let rt = ctx.rt(parsed.group, parsed.resource)?;
    let uid = util::uid(&object).to_owned();
    if object::is_terminating(&object) {
        let finalizers = object::finalizers(&object);
        if finalizers.iter().any(|f| f == ORPHAN) {
            orphan_dependents(ctx, &uid)?;
            remove_finalizer(ctx, &parsed, ORPHAN)?;
        } else if finalizers.iter().any(|f| f == FOREGROUND) {
            let mut blocking = 0;
            for dependent in ctx.graph.dependents_of(&uid) {
                let blocks = ctx
                    .graph
                    .owners_of(&dependent)
                    .iter()
                    .any(|r| r.uid == uid && r.block_owner_deletion == Some(true));
                if blocks {
                    blocking += 1;
                }
                ctx.queue.add(Work::Gc(dependent));
            }
            if blocking == 0 {
                remove_finalizer(ctx, &parsed, FOREGROUND)?;
            }
        }
        // Anything else being deleted waits for its own finalizers.
        return Ok(Action::Done);
    }

    let refs: Vec<OwnerRef> = util::owner_references(&object)
        .iter()
        .filter_map(|r| serde_json::from_value(r.clone()).ok())
        .collect();
    if refs.is_empty() {
        return Ok(Action::Done);
    }
    let mut solid = 0;
    let mut dangling = Vec::new();
    let mut waiting = Vec::new();
    for owner in &refs {
        let owner_rt = ctx
            .backend
            .registry
            .by_kind(owner.group(), &owner.kind)
            .ok_or_else(|| ControllerError::UnknownKind {
                group: owner.group().to_owned(),
                kind: owner.kind.clone(),
            })?;
        if owner_rt.namespaced && parsed.namespace.is_none() {
            let message = format!(
                "ownerRef [{}/{}, namespace: , name: {}, uid: {}] does not exist in namespace \"\"",
                owner.api_version, owner.kind, owner.name, owner.uid
            );
            ctx.event(
                &object,
                "Warning",
                "OwnerRefInvalidNamespace",
                &message,
                "garbage-collector-controller",
            );
            return Ok(Action::Done);
        }
        let namespace = if owner_rt.namespaced {
            parsed.namespace
        } else {
            None
        };
        let resolved = match ctx.get(&owner_rt, namespace, &owner.name) {
            Some(found) if util::uid(&found) == owner.uid => {
                if object::is_terminating(&found)
                    && object::finalizers(&found).iter().any(|f| f == FOREGROUND)
                {
                    Resolved::Waiting
                } else {
                    Resolved::Solid
                }
            }
            _ => {
                if owner_rt.namespaced
                    && ctx
                        .list(&owner_rt, None)
                        .iter()
                        .any(|o| util::uid(o) == owner.uid)
                {
                    // The owner lives in another namespace: upstream says so in an event.
                    let namespace = parsed.namespace.unwrap_or_default();
                    let message = format!(
                        "ownerRef [{}/{}, namespace: {namespace}, name: {}, uid: {}] does not exist in namespace {namespace:?}",
                        owner.api_version, owner.kind, owner.name, owner.uid
                    );
                    ctx.event(
                        &object,
                        "Warning",
                        "OwnerRefInvalidNamespace",
                        &message,
                        "garbage-collector-controller",
                    );
                }
                Resolved::Dangling
            }
        };
        match resolved {
            Resolved::Solid => solid += 1,
            Resolved::Dangling => dangling.push(owner.uid.clone()),
            Resolved::Waiting => waiting.push(owner.uid.clone()),
        }
    }
    if solid > 0 {
        if dangling.is_empty() && waiting.is_empty() {
            return Ok(Action::Done);
        }
        // Some owner still holds it: only the references to the others go.
        let gone: HashSet<String> = dangling.into_iter().chain(waiting).collect();
        ctx.update(
            &rt,
            parsed.namespace,
            parsed.name,
            managers::CONTROLLER_MANAGER,
            |object| remove_owner_references(object, &gone),
        )?;
        return Ok(Action::Done);
    }
    let finalizers = object::finalizers(&object);
    let policy = if !waiting.is_empty() && !ctx.graph.dependents_of(&uid).is_empty() {
        Propagation::Foreground
    } else if finalizers.iter().any(|f| f == ORPHAN) {
        Propagation::Orphan
    } else if finalizers.iter().any(|f| f == FOREGROUND) {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    ctx.delete(&rt, parsed.namespace, parsed.name, Some(policy), Some(&uid))
        .or_else(|error| match &error {
            // The object was replaced by another of the same name: not ours to delete.
            ControllerError::Delete { source, .. } if source.code == 409 => Ok(()),
            _ => Err(error),
        })?;
    Ok(Action::Done)
}

/// Removes the references to the owner with `uid` from all its dependents.
fn orphan_dependents(ctx: &mut Ctx, uid: &str) -> Result<(), ControllerError> {
    let owner: HashSet<String> = [uid.to_owned()].into();
    for dependent in ctx.graph.dependents_of(uid) {
        let Some(parsed) = Key::parse(&dependent) else {
            continue;
        };
        let rt = ctx.rt(parsed.group, parsed.resource)?;
        ctx.update(
            &rt,
            parsed.namespace,
            parsed.name,
            managers::CONTROLLER_MANAGER,
            |object| remove_owner_references(object, &owner),
        )?;
    }
    Ok(())
}

/// Removes one finalizer from the object at `key`; the object goes once none is left.
fn remove_finalizer(ctx: &Ctx, key: &Key<'_>, finalizer: &str) -> Result<(), ControllerError> {
    let rt = ctx.rt(key.group, key.resource)?;
    ctx.update(
        &rt,
        key.namespace,
        key.name,
        managers::CONTROLLER_MANAGER,
        |object| {
            let finalizers = object::finalizers(object);
            if !finalizers.iter().any(|f| f == finalizer) {
                return false;
            }
            let kept: Vec<Value> = finalizers
                .into_iter()
                .filter(|f| f != finalizer)
                .map(Value::from)
                .collect();
            let meta = object::metadata_mut(object);
            if kept.is_empty() {
                meta.remove("finalizers");
            } else {
                meta.insert("finalizers".into(), Value::Array(kept));
            }
            true
        },
    )?;
    Ok(())
}

/// Drops the owner references to the given uids; returns whether any went.
fn remove_owner_references(object: &mut Value, uids: &HashSet<String>) -> bool {
    let meta = object::metadata_mut(object);
    let Some(refs) = meta
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    let before = refs.len();
    refs.retain(|r| {
        r.get("uid")
            .and_then(Value::as_str)
            .is_none_or(|uid| !uids.contains(uid))
    });
    let changed = refs.len() != before;
    if refs.is_empty() {
        meta.remove("ownerReferences");
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn owner(uid: &str, block: bool) -> OwnerRef {
        OwnerRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: format!("owner-{uid}"),
            uid: uid.into(),
            controller: None,
            block_owner_deletion: Some(block),
        }
    }

    #[test]
    fn the_graph_follows_changing_owner_references() {
        let mut graph = Graph::default();
        let a: Arc<str> = Arc::from("core/configmaps/default/a");
        let b: Arc<str> = Arc::from("core/configmaps/default/b");
        graph.set(&a, vec![owner("1", true)]);
        graph.set(&b, vec![owner("1", false), owner("2", true)]);
        assert_eq!(graph.dependents_of("1"), vec![a.clone(), b.clone()]);
        let previous = graph.set(&b, vec![owner("2", true)]);
        assert_eq!(previous.len(), 2);
        assert_eq!(graph.dependents_of("1"), vec![a.clone()]);
        graph.set(&a, Vec::new());
        assert!(graph.dependents_of("1").is_empty());
        assert!(graph.owners_of(&a).is_empty());
        assert_eq!(graph.owners_of(&b).len(), 1);
    }

    #[test]
    fn removing_owner_references_keeps_the_others() {
        let mut object = json!({"metadata": {"ownerReferences": [
            {"uid": "1", "kind": "A"}, {"uid": "2", "kind": "B"}
        ]}});
        assert!(remove_owner_references(
            &mut object,
            &["1".to_owned()].into()
        ));
        assert_eq!(
            object["metadata"]["ownerReferences"],
            json!([{"uid": "2", "kind": "B"}])
        );
        assert!(!remove_owner_references(
            &mut object,
            &["1".to_owned()].into()
        ));
        assert!(remove_owner_references(
            &mut object,
            &["2".to_owned()].into()
        ));
        assert!(object["metadata"].get("ownerReferences").is_none());
    }
}
