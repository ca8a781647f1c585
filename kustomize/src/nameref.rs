//! Name references: once every rename is done (prefixes, suffixes, hashes, namespaces),
//! fields that refer to a renamed object by name (`envFrom`, volumes,
//! `serviceAccountName`, RoleBinding subjects, Ingress backends...) are updated, following
//! kustomize's rules for choosing among candidates.

use serde_json::Value;

use crate::fieldspec::{self, FieldSpec};
use crate::konfig::Konfig;
use crate::resid::{Gvk, ResId};
use crate::resource::{ResMap, Resource};

/// What the candidate selection needs to know about a resource.
#[derive(Debug, Clone)]
struct Snapshot {
    cur: ResId,
    prev: Vec<ResId>,
    org: ResId,
    kind: String,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    cluster_scoped: bool,
    namespace: String,
}

impl Snapshot {
    fn of(r: &Resource) -> Snapshot {
        let cur = r.cur_id();
        Snapshot {
            cluster_scoped: cur.gvk.is_cluster_scoped(),
            namespace: cur.effective_namespace().to_owned(),
            cur,
            prev: r.prev_ids(),
            org: r.org_id(),
            kind: r.kind().to_owned(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
        }
    }

    fn prefixes_suffixes_equal(&self, other: &Snapshot, allow_empty: bool) -> bool {
        crate::resource::affixes_equal(
            (&self.prefixes, &self.suffixes),
            (&other.prefixes, &other.suffixes),
            allow_empty,
        )
    }
}

/// Updates every name reference in `map`.
pub(crate) fn fix(map: &mut ResMap, config: &Konfig) -> Result<(), String> {
    let snapshots: Vec<Snapshot> = map.list.iter().map(Snapshot::of).collect();
    // Resources by the names they had before a rename (only renamed ones can be referred
    // to by an old name), in list order.
    let mut by_prev_name: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    for (j, snap) in snapshots.iter().enumerate() {
        let mut names: Vec<&str> = snap.prev.iter().map(|id| id.name.as_str()).collect();
        names.dedup();
        for name in names {
            let list = by_prev_name.entry(name).or_default();
            if list.last() != Some(&j) {
                list.push(j);
            }
        }
    }
    // Filters per referrer, in kustomize's order: by target type, then by field spec.
    let mut filters: Vec<Vec<(FieldSpec, Gvk)>> = vec![Vec::new(); map.list.len()];
    for back_ref in &config.name_reference {
        for spec in &back_ref.referrers {
            for (i, snap) in snapshots.iter().enumerate() {
                if snap.org.gvk.is_selected_by(&spec.gvk) {
                    filters[i].push((spec.clone(), back_ref.target.clone()));
                }
            }
        }
    }
    for (i, list) in filters.into_iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        let candidates = referable_by(map, i, &snapshots)?;
        let mut is_candidate = vec![false; snapshots.len()];
        for &j in &candidates {
            is_candidate[j] = true;
        }
        let referrer = snapshots[i].clone();
        let obj = &mut map.list[i].obj;
        for (spec, target) in list {
            let role_ref_gvk = if spec.path.ends_with("roleRef/name") {
                role_ref_gvk(obj)
            } else {
                None
            };
            let ctx = Ctx {
                referrer: &referrer,
                target: &target,
                role_ref: role_ref_gvk.as_ref(),
                snapshots: &snapshots,
                candidates: &candidates,
                is_candidate: &is_candidate,
                by_prev_name: &by_prev_name,
            };
            let mut spec = spec.clone();
            spec.gvk = Gvk::default();
            let mut set = |node: &mut Value| ctx.set(node);
            fieldspec::apply(obj, &spec, None, &mut set).map_err(|e| {
                format!(
                    "updating name reference in '{}' field of '{}': {e}",
                    spec.path, referrer.cur
                )
            })?;
        }
    }
    Ok(())
}

fn role_ref_gvk(obj: &Value) -> Option<Gvk> {
    let role_ref = obj.get("roleRef")?;
    let group = role_ref.get("apiGroup")?.as_str()?;
    let kind = role_ref.get("kind")?.as_str()?;
    Some(Gvk::new(group, "", kind))
}

/// The resources `referrer` could refer to: all for a cluster-scoped referrer, else those in
/// its namespace, cluster-scoped ones, and (for RoleBindings) those in the namespaces of its
/// ServiceAccount subjects.
fn referable_by(map: &ResMap, i: usize, snaps: &[Snapshot]) -> Result<Vec<usize>, String> {
    let referrer = &snaps[i];
    if referrer.cluster_scoped {
        return Ok((0..snaps.len()).collect());
    }
    let mut binding_namespaces = Vec::new();
    if referrer.kind == "RoleBinding"
        && let Some(subjects) = map.list[i].obj.get("subjects").and_then(Value::as_array)
    {
        for s in subjects {
            if let (Some(ns), Some(kind)) = (s.get("namespace"), s.get("kind"))
                && kind.as_str() == Some("ServiceAccount")
            {
                match ns.as_str() {
                    Some(n) => binding_namespaces.push(n.to_owned()),
                    None => {
                        return Err(format!(
                            "Invalid Input: namespace is blank for resource \"{}\"",
                            referrer.cur
                        ));
                    }
                }
            }
        }
    }
    Ok(snaps
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.cluster_scoped
                || s.namespace == referrer.namespace
                || binding_namespaces.contains(&s.cur.namespace)
        })
        .map(|(j, _)| j)
        .collect())
}

struct Ctx<'a> {
    referrer: &'a Snapshot,
    target: &'a Gvk,
    role_ref: Option<&'a Gvk>,
    snapshots: &'a [Snapshot],
    candidates: &'a [usize],
    is_candidate: &'a [bool],
    by_prev_name: &'a std::collections::HashMap<&'a str, Vec<usize>>,
}

impl Ctx<'_> {
    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::Object(_) => self.set_mapping(node),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Null => {}
                        Value::Object(_) => self.set_mapping(item)?,
                        Value::Array(_) => {
                            return Err(
                                "node is expected to be either a string or a map of string".into(),
                            );
                        }
                        _ => self.set_scalar(item)?,
                    }
                }
                Ok(())
            }
            _ => self.set_scalar(node),
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Value::String(old) = node else {
            return Ok(());
        };
        let Some(j) = self.select(old, None, false)? else {
            return Ok(());
        };
        let new = &self.snapshots[j].cur.name;
        if new != old {
            *node = Value::String(new.clone());
        }
        Ok(())
    }

    fn set_mapping(&self, node: &mut Value) -> Result<(), String> {
        let Some(map) = node.as_object_mut() else {
            return Err("expect a mapping node".into());
        };
        let Some(name) = map.get("name") else {
            return Err("path config error; no 'name' field in node".into());
        };
        let old = match name {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let candidates: Option<Vec<usize>> = match map.get("namespace") {
            None => None,
            Some(ns) => {
                let ns = match ns {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                let by = |f: &dyn Fn(&Snapshot) -> String| -> Vec<usize> {
                    self.candidates
                        .iter()
                        .copied()
                        .filter(|&j| {
                            let e = f(&self.snapshots[j]);
                            e != "_non_namespaceable_" && e == ns
                        })
                        .collect()
                };
                let original = by(&|s: &Snapshot| s.org.effective_namespace().to_owned());
                Some(if original.is_empty() {
                    by(&|s: &Snapshot| s.namespace.clone())
                } else {
                    original
                })
            }
        };
        let Some(j) = self.select(&old, candidates.as_deref(), true)? else {
            return Ok(());
        };
        let referral = &self.snapshots[j].cur;
        if referral.name == old && referral.namespace.is_empty() {
            return Ok(());
        }
        map.insert("name".into(), Value::String(referral.name.clone()));
        if !referral.namespace.is_empty() {
            map.insert(
                "namespace".into(),
                Value::String(referral.namespace.clone()),
            );
        }
        Ok(())
    }

    /// Chooses the referral among `candidates` (all referable resources when `None`).
    fn select(
        &self,
        old: &str,
        candidates: Option<&[usize]>,
        with_namespaces: bool,
    ) -> Result<Option<usize>, String> {
        let snaps = self.snapshots;
        let renamed_from_old: &[usize] =
            self.by_prev_name.get(old).map(Vec::as_slice).unwrap_or(&[]);
        let pool: Vec<usize> = match candidates {
            None => renamed_from_old
                .iter()
                .copied()
                .filter(|&j| self.is_candidate[j])
                .collect(),
            Some(c) => c.to_vec(),
        };
        let mut c: Vec<usize> = pool
            .into_iter()
            .filter(|&j| snaps[j].prev.iter().any(|id| id.name == old))
            .filter(|&j| {
                snaps[j]
                    .prev
                    .iter()
                    .any(|id| id.gvk.is_selected_by(self.target))
            })
            .filter(|&j| {
                self.role_ref
                    .is_none_or(|g| snaps[j].prev.iter().any(|id| id.gvk.is_selected_by(g)))
            })
            .filter(|&j| {
                let r = self.referrer;
                r.cluster_scoped
                    || snaps[j].cluster_scoped
                    || snaps[j].kind == "ServiceAccount"
                    || r.namespace == snaps[j].namespace
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        c.retain(|&j| snaps[j].prefixes_suffixes_equal(self.referrer, true));
        if c.len() > 1 {
            c.retain(|&j| snaps[j].prefixes_suffixes_equal(self.referrer, false));
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ => {
                let first = &snaps[c[0]].cur;
                let identical = c.iter().all(|&j| {
                    snaps[j].cur.name == first.name
                        && (!with_namespaces || snaps[j].cur.namespace == first.namespace)
                });
                if identical {
                    Ok(Some(c[0]))
                } else {
                    let ids: Vec<String> = c.iter().map(|&j| snaps[j].cur.to_string()).collect();
                    Err(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    ))
                }
            }
        }
    }
}
