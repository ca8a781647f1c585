//! Who owns what: the managers of an object (`metadata.managedFields` decoded), and how
//! an update or an apply moves ownership between them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::fieldpath::{FieldSet, PathElement, display_path};
use super::typed::{Comparison, Problems, Typed};

/// How a manager last wrote its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Server-side apply: the manager declared the fields it owns.
    Apply,
    /// Create, update or a non-apply patch: the manager owns the fields it changed.
    Update,
}

impl Operation {
    /// `Apply` or `Update`, as written in `managedFields`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// The identity of a manager: its name, operation, subresource and, for updaters, the API
/// version it wrote (appliers keep their identity across versions).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ManagerId {
    /// The field manager's name.
    pub manager: String,
    /// How it wrote.
    pub operation: Operation,
    /// The API version, for [`Operation::Update`] only (empty for appliers).
    pub api_version: String,
    /// `status` for writes through the status subresource, else empty.
    pub subresource: String,
}

impl ManagerId {
    /// An updater.
    pub fn update(manager: &str, api_version: &str, subresource: &str) -> Self {
        Self {
            manager: manager.to_owned(),
            operation: Operation::Update,
            api_version: api_version.to_owned(),
            subresource: subresource.to_owned(),
        }
    }

    /// An applier.
    pub fn apply(manager: &str, subresource: &str) -> Self {
        Self {
            manager: manager.to_owned(),
            operation: Operation::Apply,
            api_version: String::new(),
            subresource: subresource.to_owned(),
        }
    }

    /// As conflict messages name a manager: `"kubectl"`,
    /// `"kubectl-edit" using apps/v1`, `"ctrl" with subresource "status"`.
    pub fn describe(&self) -> String {
        let mut text = Value::String(self.manager.clone()).to_string();
        if !self.subresource.is_empty() {
            text.push_str(&format!(
                " with subresource {}",
                Value::String(self.subresource.clone())
            ));
        }
        if self.operation == Operation::Update {
            text.push_str(&format!(" using {}", self.api_version));
        }
        text
    }
}

/// What one manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The owned fields.
    pub set: FieldSet,
    /// The API version the fields are expressed in.
    pub api_version: String,
    /// When the manager last changed the object (RFC 3339), if known.
    pub time: Option<String>,
}

/// Every manager of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Managed {
    /// The managers and what they own.
    pub entries: BTreeMap<ManagerId, Entry>,
}

impl Managed {
    /// Whether no manager owns anything.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Decodes `metadata.managedFields` (absent or null: no managers).
    ///
    /// # Errors
    /// A description of the first invalid entry, worded as upstream.
    pub fn decode(value: Option<&Value>) -> Result<Managed, String> {
        let mut managed = Managed::default();
        let entries = match value {
            None | Some(Value::Null) => return Ok(managed),
            Some(Value::Array(entries)) => entries,
            Some(other) => return Err(format!("managedFields must be a list, found {other}")),
        };
        for (index, entry) in entries.iter().enumerate() {
            let Value::Object(entry) = entry else {
                return Err(format!("managed fields entry {index} is not an object"));
            };
            let text = |name: &str| -> Result<String, String> {
                match entry.get(name) {
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(Value::String(text)) => Ok(text.clone()),
                    Some(other) => Err(format!("{name} must be a string, found {other}")),
                }
            };
            let operation = match text("operation")?.as_str() {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                _ => return Err("operation must be `Apply` or `Update`".into()),
            };
            let api_version = text("apiVersion")?;
            if api_version.is_empty() {
                return Err("apiVersion must not be empty".into());
            }
            match text("fieldsType")?.as_str() {
                "FieldsV1" => {}
                "" => {
                    return Err(format!(
                        "missing fieldsType in managed fields entry {index}"
                    ));
                }
                other => {
                    return Err(format!(
                        "invalid fieldsType {other:?} in managed fields entry {index}"
                    ));
                }
            }
            let set = match entry.get("fieldsV1") {
                None | Some(Value::Null) => FieldSet::new(),
                Some(fields) => FieldSet::from_fields_v1(fields)
                    .map_err(|e| format!("error decoding versioned set: {e}"))?,
            };
            let manager = text("manager")?;
            let subresource = text("subresource")?;
            let id = match operation {
                Operation::Apply => ManagerId::apply(&manager, &subresource),
                Operation::Update => ManagerId::update(&manager, &api_version, &subresource),
            };
            let time = Some(text("time")?).filter(|t| !t.is_empty());
            managed.entries.insert(
                id,
                Entry {
                    set,
                    api_version,
                    time,
                },
            );
        }
        Ok(managed)
    }

    /// The `managedFields` list, ordered as upstream orders it (appliers first, then by
    /// time, manager, API version and subresource); `None` when there are no managers.
    pub fn encode(&self) -> Option<Value> {
        if self.entries.is_empty() {
            return None;
        }
        let mut entries: Vec<(&ManagerId, &Entry)> = self.entries.iter().collect();
        entries.sort_by(|(a, ea), (b, eb)| {
            a.operation
                .cmp(&b.operation)
                .then_with(|| seconds(&ea.time).cmp(&seconds(&eb.time)))
                .then_with(|| a.manager.cmp(&b.manager))
                .then_with(|| ea.api_version.cmp(&eb.api_version))
                .then_with(|| a.subresource.cmp(&b.subresource))
        });
        let list = entries
            .into_iter()
            .map(|(id, entry)| {
                let mut out = Map::new();
                out.insert("manager".into(), Value::from(id.manager.clone()));
                out.insert("operation".into(), Value::from(id.operation.as_str()));
                out.insert("apiVersion".into(), Value::from(entry.api_version.clone()));
                if let Some(time) = &entry.time {
                    out.insert("time".into(), Value::from(time.clone()));
                }
                out.insert("fieldsType".into(), Value::from("FieldsV1"));
                out.insert("fieldsV1".into(), entry.set.to_fields_v1());
                if !id.subresource.is_empty() {
                    out.insert("subresource".into(), Value::from(id.subresource.clone()));
                }
                Value::Object(out)
            })
            .collect();
        Some(Value::Array(list))
    }
}

fn seconds(time: &Option<String>) -> i64 {
    time.as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_second())
}

/// Which fields a write through an endpoint leaves to others: the main resource does not
/// set the status of kinds with a status subresource, the status subresource sets nothing
/// else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignore {
    /// Every field counts.
    Nothing,
    /// `status` does not count.
    Status,
    /// Only `status` counts.
    AllButStatus,
}

impl Ignore {
    /// `set` without the ignored fields.
    pub fn filter(self, set: &FieldSet) -> FieldSet {
        let status = PathElement::field("status");
        match self {
            Ignore::Nothing => set.clone(),
            Ignore::Status => {
                let mut ignored = FieldSet::new();
                ignored.insert(std::slice::from_ref(&status));
                set.recursive_difference(&ignored)
            }
            Ignore::AllButStatus => set.only_under(&status),
        }
    }
}

/// The fields nobody owns: type meta and the metadata the server maintains.
pub fn strip_set() -> &'static FieldSet {
    static SET: std::sync::OnceLock<FieldSet> = std::sync::OnceLock::new();
    SET.get_or_init(build_strip_set)
}

fn build_strip_set() -> FieldSet {
    let mut set = FieldSet::new();
    set.insert(&[PathElement::field("apiVersion")]);
    set.insert(&[PathElement::field("kind")]);
    set.insert(&[PathElement::field("metadata")]);
    for field in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[PathElement::field("metadata"), PathElement::field(field)]);
    }
    set
}

/// `set` without the fields nobody owns.
pub fn strip_meta(set: &FieldSet) -> FieldSet {
    set.difference(strip_set())
}

/// A field another manager owns with a different value than the one being applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager.
    pub manager: ManagerId,
    /// The field.
    pub path: Vec<PathElement>,
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyFailure {
    /// The configuration does not fit the kind's shape.
    Config(Problems),
    /// The configuration does not merge into the live object.
    Merge(Problems),
    /// Other managers own fields the configuration changes.
    Conflicts(Vec<Conflict>),
}

/// Takes the changed fields from every manager but `skip` (all of them when `force`), and
/// the removed fields from every manager but `skip`; managers left owning nothing go.
///
/// # Errors
/// The conflicts, when there are some and `force` is off; nothing is changed then.
fn reassign(
    comparison: &Comparison,
    managed: &mut Managed,
    skip: Option<&ManagerId>,
    force: bool,
) -> Result<(), Vec<Conflict>> {
    let changed = comparison.modified.union(&comparison.added);
    let mut conflicts: BTreeMap<ManagerId, FieldSet> = BTreeMap::new();
    for (id, entry) in &managed.entries {
        if Some(id) == skip {
            continue;
        }
        let taken = entry.set.intersection(&changed);
        if !taken.is_empty() {
            conflicts.insert(id.clone(), taken);
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(conflicts
            .into_iter()
            .flat_map(|(manager, set)| {
                set.paths().into_iter().map(move |path| Conflict {
                    manager: manager.clone(),
                    path,
                })
            })
            .collect());
    }
    for (id, entry) in managed.entries.iter_mut() {
        if Some(id) == skip {
            continue;
        }
        if let Some(taken) = conflicts.get(id) {
            entry.set = entry.set.difference(taken);
        }
        if !comparison.removed.is_empty() {
            entry.set = entry.set.difference(&comparison.removed);
        }
    }
    managed.entries.retain(|_, entry| !entry.set.is_empty());
    Ok(())
}

/// Records a non-apply write of `new` (previously `live`) by `id`: `id` takes every field
/// the write changed or added, from whoever owned it, and nobody owns removed fields any
/// more. A write that changes nothing leaves the managers (and their times) alone.
pub fn update(
    typed: &Typed<'_>,
    live: &Value,
    new: &Value,
    managed: &mut Managed,
    id: &ManagerId,
    ignore: Ignore,
    now: &str,
) {
    let comparison = typed.compare(live, new).filtered(|s| ignore.filter(s));
    // With force there are no conflicts to report.
    let _ = reassign(&comparison, managed, None, true);
    let taken = strip_meta(&comparison.modified.union(&comparison.added));
    if taken.is_empty() {
        return;
    }
    let set = match managed.entries.remove(id) {
        Some(previous) => taken.union(&previous.set),
        None => taken,
    };
    managed.entries.insert(
        id.clone(),
        Entry {
            set,
            api_version: id.api_version.clone(),
            time: Some(now.to_owned()),
        },
    );
}

/// Applies `config` to `live` as `id`: the result is `live` with `config` merged in and
/// the fields `id` applied before but no longer applies removed (unless someone else owns
/// them); `id` then owns exactly the fields of `config`. Returns `None` when the object
/// does not change.
///
/// # Errors
/// [`ApplyFailure::Conflicts`] when another manager owns a field `config` changes and
/// `force` is off; configuration errors otherwise.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    typed: &Typed<'_>,
    live: &Value,
    config: &Value,
    api_version: &str,
    managed: &mut Managed,
    id: &ManagerId,
    force: bool,
    ignore: Ignore,
) -> Result<Option<Value>, ApplyFailure> {
    let config_set = typed
        .config_field_set(config)
        .map_err(ApplyFailure::Config)?;
    let merged = typed.merge(live, config).map_err(ApplyFailure::Merge)?;
    let previous = managed.entries.get(id).cloned();
    managed.entries.insert(
        id.clone(),
        Entry {
            set: ignore.filter(&config_set),
            api_version: api_version.to_owned(),
            time: previous.as_ref().and_then(|p| p.time.clone()),
        },
    );
    let merged = prune(typed, merged, managed, previous.as_ref().map(|p| &p.set));
    let comparison = typed.compare(live, &merged).filtered(|s| ignore.filter(s));
    reassign(&comparison, managed, Some(id), force).map_err(ApplyFailure::Conflicts)?;
    if sluice_patch::json_equal(live, &merged) {
        return Ok(None);
    }
    Ok(Some(merged))
}

/// Removes from `merged` the fields the applier owned (`last`) and no longer applies,
/// unless some manager (the applier's new configuration included) still owns them.
fn prune(typed: &Typed<'_>, merged: Value, managed: &Managed, last: Option<&FieldSet>) -> Value {
    let Some(last) = last.filter(|set| !set.is_empty()) else {
        return merged;
    };
    // The object's identity is never pruned, whatever the applier owned.
    let last = typed.with_named_fields(last).difference(strip_set());
    let pruned = typed.remove(&merged, &last);
    let owned = managed
        .entries
        .values()
        .fold(FieldSet::new(), |all, entry| all.union(&entry.set));
    let merged_set = typed.with_named_fields(&typed.object_field_set(&merged));
    let pruned_set = typed.with_named_fields(&typed.object_field_set(&pruned));
    let kept = pruned_set.union(&typed.with_named_fields(&owned));
    let pruned = typed.remove(&merged, &merged_set.difference(&kept));
    // Only what the applier owned goes: fields nobody owns stay.
    let pruned_set = typed.with_named_fields(&typed.object_field_set(&pruned));
    typed.remove(
        &merged,
        &merged_set.difference(&pruned_set).intersection(&last),
    )
}

/// The `Status` body details of an apply conflict.
pub fn conflict_message(conflicts: &[Conflict]) -> (String, Value) {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", c.manager.describe()),
                "field": display_path(&c.path),
            })
        })
        .collect();
    let message = match conflicts {
        [one] => format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager.describe(),
            display_path(&one.path)
        ),
        many => {
            let mut by_manager: BTreeMap<&ManagerId, Vec<String>> = BTreeMap::new();
            for conflict in many {
                by_manager
                    .entry(&conflict.manager)
                    .or_default()
                    .push(display_path(&conflict.path));
            }
            let mut lines = Vec::new();
            for (manager, paths) in by_manager {
                lines.push(format!("conflicts with {}:", manager.describe()));
                lines.extend(paths.into_iter().map(|p| format!("- {p}")));
            }
            format!(
                "Apply failed with {} conflicts: {}",
                many.len(),
                lines.join("\n")
            )
        }
    };
    (message, json!({"causes": causes}))
}

/// Merges the oldest updaters into `ancient-changes` (one per API version) until at most
/// `max` updaters remain, as kube-apiserver keeps managedFields bounded.
pub fn cap_updaters(managed: &mut Managed, max: usize) {
    let mut updaters: Vec<ManagerId> = managed
        .entries
        .keys()
        .filter(|id| id.operation == Operation::Update)
        .cloned()
        .collect();
    if updaters.len() <= max {
        return;
    }
    updaters.sort_by(|a, b| {
        let time = |id: &ManagerId| seconds(&managed.entries[id].time);
        time(a).cmp(&time(b)).then_with(|| a.cmp(b))
    });
    let mut first_of_version: BTreeMap<String, ManagerId> = BTreeMap::new();
    let mut remaining = updaters.len();
    for id in updaters {
        if remaining <= max {
            break;
        }
        let Some(entry) = managed.entries.get(&id).cloned() else {
            continue;
        };
        let version = entry.api_version.clone();
        let bucket = ManagerId::update("ancient-changes", &version, "");
        match first_of_version.get(&version) {
            Some(first) => {
                if !managed.entries.contains_key(&bucket)
                    && let Some(first_entry) = managed.entries.remove(first)
                {
                    managed.entries.insert(bucket.clone(), first_entry);
                }
                if let Some(existing) = managed.entries.get_mut(&bucket) {
                    existing.set = entry.set.union(&existing.set);
                    existing.time = entry.time.clone();
                }
                managed.entries.remove(&id);
                remaining -= 1;
            }
            None => {
                first_of_version.insert(version, id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::schema::Builtin;
    use pretty_assertions::assert_eq;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "uid": "u"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "app", "image": image}
            ]}}}
        })
    }

    fn fields(managed: &Managed, id: &ManagerId) -> Value {
        managed.entries[id].set.to_fields_v1()
    }

    #[test]
    fn an_updater_owns_what_it_changed_and_takes_it_from_others() {
        let shape = Builtin::new("apps", "Deployment");
        let typed = Typed::new(&shape);
        let mut managed = Managed::default();
        let creator = ManagerId::update("creator", "apps/v1", "");
        let scaler = ManagerId::update("scaler", "apps/v1", "");
        update(
            &typed,
            &json!({}),
            &deployment(1, "a"),
            &mut managed,
            &creator,
            Ignore::Status,
            "t1",
        );
        assert_eq!(
            fields(&managed, &creator),
            json!({"f:spec": {".": {}, "f:replicas": {}, "f:template": {".": {}, "f:spec": {
                ".": {}, "f:containers": {".": {}, "k:{\"name\":\"app\"}": {
                    ".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        update(
            &typed,
            &deployment(1, "a"),
            &deployment(3, "a"),
            &mut managed,
            &scaler,
            Ignore::Status,
            "t2",
        );
        assert_eq!(
            fields(&managed, &scaler),
            json!({"f:spec": {"f:replicas": {}}})
        );
        assert!(
            !managed.entries[&creator]
                .set
                .contains(&[PathElement::field("spec"), PathElement::field("replicas")])
        );
        assert_eq!(managed.entries[&scaler].time.as_deref(), Some("t2"));
    }

    #[test]
    fn entries_round_trip_through_managed_fields_in_upstream_order() {
        let mut managed = Managed::default();
        let mut set = FieldSet::new();
        set.insert(&[PathElement::field("data")]);
        for (id, time) in [
            (ManagerId::update("b", "v1", ""), "2024-01-01T00:00:02Z"),
            (
                ManagerId::update("a", "v1", "status"),
                "2024-01-01T00:00:01Z",
            ),
            (ManagerId::apply("z", ""), "2024-01-01T00:00:09Z"),
        ] {
            managed.entries.insert(
                id,
                Entry {
                    set: set.clone(),
                    api_version: "v1".into(),
                    time: Some(time.into()),
                },
            );
        }
        let encoded = managed.encode().unwrap();
        let managers: Vec<&str> = encoded
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(managers, ["z", "a", "b"]);
        assert_eq!(encoded[1]["subresource"], "status");
        assert_eq!(Managed::decode(Some(&encoded)).unwrap(), managed);
    }

    #[test]
    fn invalid_entries_are_refused() {
        for bad in [
            json!([{"manager": "a", "operation": "Bogus", "apiVersion": "v1", "fieldsType": "FieldsV1"}]),
            json!([{"manager": "a", "operation": "Update", "fieldsType": "FieldsV1"}]),
            json!([{"manager": "a", "operation": "Update", "apiVersion": "v1"}]),
            json!([{"manager": "a", "operation": "Update", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"bad": {}}}]),
            json!({"not": "a list"}),
        ] {
            assert!(Managed::decode(Some(&bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn conflicts_are_worded_like_kube_apiserver() {
        let replicas = vec![PathElement::field("spec"), PathElement::field("replicas")];
        let one = [Conflict {
            manager: ManagerId::update("other-manager", "v1", ""),
            path: replicas.clone(),
        }];
        let (message, details) = conflict_message(&one);
        assert_eq!(
            message,
            "Apply failed with 1 conflict: conflict with \"other-manager\" using v1: .spec.replicas"
        );
        assert_eq!(
            details,
            json!({"causes": [{"reason": "FieldManagerConflict",
                "message": "conflict with \"other-manager\" using v1", "field": ".spec.replicas"}]})
        );
        let two = [
            Conflict {
                manager: ManagerId::apply("b", "status"),
                path: vec![PathElement::field("status")],
            },
            Conflict {
                manager: ManagerId::apply("a", ""),
                path: replicas,
            },
        ];
        assert_eq!(
            conflict_message(&two).0,
            "Apply failed with 2 conflicts: conflicts with \"a\":\n- .spec.replicas\nconflicts with \"b\" with subresource \"status\":\n- .status"
        );
    }

    #[test]
    fn updaters_beyond_ten_are_folded_into_ancient_changes() {
        let mut managed = Managed::default();
        for i in 0..12 {
            let mut set = FieldSet::new();
            set.insert(&[PathElement::field(format!("f{i}"))]);
            managed.entries.insert(
                ManagerId::update(&format!("m{i:02}"), "v1", ""),
                Entry {
                    set,
                    api_version: "v1".into(),
                    time: Some(format!("2024-01-01T00:00:{i:02}Z")),
                },
            );
        }
        cap_updaters(&mut managed, 10);
        assert_eq!(managed.entries.len(), 10);
        let ancient = &managed.entries[&ManagerId::update("ancient-changes", "v1", "")];
        assert_eq!(ancient.set.paths().len(), 3);
        assert!(
            !managed
                .entries
                .contains_key(&ManagerId::update("m00", "v1", ""))
        );
        assert!(
            managed
                .entries
                .contains_key(&ManagerId::update("m03", "v1", ""))
        );
    }
}
