//! Objects read through their [`Shape`]: the set of fields an object sets, what changed
//! between two versions of an object, merging an applied configuration into an object and
//! removing a set of fields from one. These are the operations of Kubernetes'
//! structured-merge-diff, written for `serde_json` values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};
use sluice_patch::{ListType, PathElement as Step, json_equal};

use super::fieldpath::{FieldSet, PathElement, display_path};
use super::schema::{Member, Shape};

/// Problems found reading an object against its shape, each at a path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<(String, String)>);

impl Problems {
    fn push(&mut self, path: &[PathElement], message: impl Into<String>) {
        self.0.push((display_path(path), message.into()));
    }

    fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// As structured-merge-diff words validation errors: `path: message`, or a list under
/// `errors:`.
impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |(path, message): &(String, String)| {
            if path.is_empty() {
                message.clone()
            } else {
                format!("{path}: {message}")
            }
        };
        match self.0.as_slice() {
            [one] => f.write_str(&line(one)),
            many => {
                f.write_str("errors:")?;
                for problem in many {
                    write!(f, "\n  {}", line(problem))?;
                }
                Ok(())
            }
        }
    }
}

/// What changed from one object to another.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Fields only the old object has.
    pub removed: FieldSet,
    /// Fields both have, with different values.
    pub modified: FieldSet,
    /// Fields only the new object has.
    pub added: FieldSet,
}

impl Comparison {
    /// Applies `filter` to the three sets.
    pub fn filtered(self, filter: impl Fn(&FieldSet) -> FieldSet) -> Comparison {
        Comparison {
            removed: filter(&self.removed),
            modified: filter(&self.modified),
            added: filter(&self.added),
        }
    }

    /// Whether nothing changed.
    pub fn is_same(&self) -> bool {
        self.removed.is_empty() && self.modified.is_empty() && self.added.is_empty()
    }
}

/// The JSON kind of a value, null aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scalar,
    List,
    Map,
}

fn kind_of(value: &Value) -> Option<Kind> {
    match value {
        Value::Null => None,
        Value::Array(_) => Some(Kind::List),
        Value::Object(_) => Some(Kind::Map),
        _ => Some(Kind::Scalar),
    }
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(map)) => map.is_empty(),
        Some(_) => false,
    }
}

fn items(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

fn entries(value: Option<&Value>) -> Option<&Map<String, Value>> {
    match value {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// The path element identifying `item` in a list of type `list_type`.
///
/// # Errors
/// Upstream's message when the element cannot be identified.
pub fn element(list_type: &ListType, item: &Value) -> Result<PathElement, String> {
    match list_type {
        ListType::Atomic => Err("invalid indexing of non-associative list".into()),
        ListType::Set => match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".into())
            }
            Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
            Value::Null => {
                Err("associative list without keys has an element that's an explicit null".into())
            }
            scalar => Ok(PathElement::Value(scalar.clone())),
        },
        ListType::Map(keys) => {
            let map = match item {
                Value::Null => {
                    return Err("associative list with keys may not have a null element".into());
                }
                Value::Object(map) => map,
                _ => {
                    return Err("associative list with keys may not have non-map elements".into());
                }
            };
            let mut fields: Vec<(String, Value)> = keys
                .iter()
                .filter_map(|key| {
                    map.get(key.name.as_ref())
                        .or(key.default.as_ref())
                        .map(|value| (key.name.to_string(), value.clone()))
                })
                .collect();
            if !keys.is_empty() && fields.is_empty() {
                let names = keys
                    .iter()
                    .map(|k| Value::String(k.name.to_string()).to_string())
                    .collect::<Vec<_>>()
                    .join(" ");
                return Err(format!(
                    "associative list with keys has an element that omits all key fields [{names}] (and doesn't have default values for any key fields)"
                ));
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(PathElement::Key(fields))
        }
    }
}

/// The elements of `list` grouped by identity; identities seen for the first time are
/// added to `order`.
fn group_elements<'v>(
    list_type: &ListType,
    list: &'v [Value],
    order: &mut Vec<PathElement>,
) -> BTreeMap<PathElement, Vec<&'v Value>> {
    let mut grouped: BTreeMap<PathElement, Vec<&'v Value>> = BTreeMap::new();
    for item in list {
        let Ok(pe) = element(list_type, item) else {
            continue;
        };
        if !grouped.contains_key(&pe) && !order.contains(&pe) {
            order.push(pe.clone());
        }
        grouped.entry(pe).or_default().push(item);
    }
    grouped
}

/// The elements of `list` in order with their identities, and each identity's element
/// (`None` for identities shared by several elements, which are then not merged). Without
/// `allow_duplicates`, shared identities are problems.
#[allow(clippy::type_complexity)]
fn index_elements<'v>(
    list_type: &ListType,
    list: &'v [Value],
    allow_duplicates: bool,
    path: &[PathElement],
    problems: &mut Problems,
) -> (
    Vec<(PathElement, &'v Value)>,
    BTreeMap<PathElement, Option<&'v Value>>,
) {
    let mut order = Vec::with_capacity(list.len());
    let mut observed: BTreeMap<PathElement, Option<&'v Value>> = BTreeMap::new();
    for (i, item) in list.iter().enumerate() {
        let pe = match element(list_type, item) {
            Ok(pe) => pe,
            Err(error) => {
                problems.push(path, format!("element {i}: {error}"));
                continue;
            }
        };
        match observed.get(&pe) {
            Some(_) if !allow_duplicates => {
                problems.push(path, format!("duplicate entries for key {pe}"));
                continue;
            }
            Some(_) => {
                observed.insert(pe.clone(), None);
            }
            None => {
                observed.insert(pe.clone(), Some(item));
            }
        }
        order.push((pe, item));
    }
    (order, observed)
}

/// The step into a child of a map (`Field`) or a list (`Item`), for schema lookups.
fn step_for(element: &PathElement) -> Step {
    match element {
        PathElement::Field(name) => Step::field(name.clone()),
        _ => Step::Item,
    }
}

/// Objects of one kind, read through its shape.
pub struct Typed<'s> {
    shape: &'s dyn Shape,
}

impl fmt::Debug for Typed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Typed")
    }
}

/// Walk state: the schema path and the field path of the current node.
#[derive(Default)]
struct At {
    steps: Vec<Step>,
    path: Vec<PathElement>,
}

impl At {
    fn enter(&mut self, element: PathElement) {
        self.steps.push(step_for(&element));
        self.path.push(element);
    }

    fn leave(&mut self) {
        self.steps.pop();
        self.path.pop();
    }
}

impl<'s> Typed<'s> {
    /// Objects shaped by `shape`.
    pub fn new(shape: &'s dyn Shape) -> Self {
        Self { shape }
    }

    /// The set of fields `config` sets, as an applied configuration: every element must be
    /// identifiable, list keys unique and every field declared.
    ///
    /// # Errors
    /// Every problem found.
    pub fn config_field_set(&self, config: &Value) -> Result<FieldSet, Problems> {
        let mut set = FieldSet::new();
        let mut problems = Problems::default();
        self.field_set(config, &mut At::default(), &mut set, Some(&mut problems));
        problems.into_result(set)
    }

    /// The set of fields a stored object sets (duplicate elements tolerated).
    pub fn object_field_set(&self, object: &Value) -> FieldSet {
        let mut set = FieldSet::new();
        self.field_set(object, &mut At::default(), &mut set, None);
        set
    }

    fn field_set(
        &self,
        value: &Value,
        at: &mut At,
        set: &mut FieldSet,
        mut problems: Option<&mut Problems>,
    ) {
        match value {
            Value::Array(list) => {
                let list_type = self.shape.list_type(&at.steps);
                if list_type == ListType::Atomic {
                    set.insert(&at.path);
                    return;
                }
                let mut elements = Vec::with_capacity(list.len());
                for (index, item) in list.iter().enumerate() {
                    match element(&list_type, item) {
                        Ok(pe) => elements.push(Some(pe)),
                        Err(error) => {
                            if let Some(problems) = problems.as_deref_mut() {
                                problems.push(&at.path, format!("element {index}: {error}"));
                            }
                            elements.push(None);
                        }
                    }
                }
                let mut seen = BTreeSet::new();
                let mut duplicates = BTreeSet::new();
                for pe in elements.iter().flatten() {
                    if !seen.insert(pe.clone()) && duplicates.insert(pe.clone()) {
                        if let Some(problems) = problems.as_deref_mut() {
                            problems.push(&at.path, format!("duplicate entries for key {pe}"));
                        }
                        at.path.push(pe.clone());
                        set.insert(&at.path);
                        at.path.pop();
                    }
                }
                for (item, pe) in list.iter().zip(elements) {
                    let Some(pe) = pe else { continue };
                    if duplicates.contains(&pe) {
                        continue;
                    }
                    at.enter(pe);
                    self.field_set(item, at, set, problems.as_deref_mut());
                    set.insert(&at.path);
                    at.leave();
                }
            }
            Value::Object(map) => {
                if self.shape.atomic_map(&at.steps) {
                    set.insert(&at.path);
                    return;
                }
                for (key, child) in map {
                    let member = self.shape.member(&at.steps, key);
                    if member == Member::Undeclared
                        && let Some(problems) = problems.as_deref_mut()
                    {
                        at.path.push(PathElement::field(key.clone()));
                        problems.push(&at.path, "field not declared in schema");
                        at.path.pop();
                        continue;
                    }
                    at.enter(PathElement::field(key.clone()));
                    self.field_set(child, at, set, problems.as_deref_mut());
                    let empty_map = child.as_object().is_some_and(Map::is_empty);
                    if child.is_null() || empty_map || member != Member::Field {
                        set.insert(&at.path);
                    }
                    at.leave();
                }
            }
            _ => set.insert(&at.path),
        }
    }

    /// What changed from `old` to `new` (`metadata.managedFields` aside).
    pub fn compare(&self, old: &Value, new: &Value) -> Comparison {
        let mut comparison = Comparison::default();
        self.compare_node(Some(old), Some(new), &mut At::default(), &mut comparison);
        comparison
    }

    fn compare_node(
        &self,
        old: Option<&Value>,
        new: Option<&Value>,
        at: &mut At,
        out: &mut Comparison,
    ) {
        if let (Some(a), Some(b)) = (old, new)
            && json_equal(a, b)
        {
            // Nothing below changed (the common case for most of an object).
            return;
        }
        let (old_kind, new_kind) = (old.and_then(kind_of), new.and_then(kind_of));
        if let (Some(a), Some(b)) = (old_kind, new_kind)
            && a != b
        {
            // A value changed kind: the field was modified, whatever was below it went or
            // came.
            out.modified.insert(&at.path);
            self.compare_children(a, old, None, at, out);
            self.compare_children(b, None, new, at, out);
            return;
        }
        let kind = new_kind.or(old_kind).unwrap_or(Kind::Scalar);
        let leaf = match kind {
            Kind::Scalar => true,
            Kind::List => {
                self.shape.list_type(&at.steps) == ListType::Atomic
                    || (is_empty(old) && is_empty(new))
            }
            Kind::Map => self.shape.atomic_map(&at.steps) || (is_empty(old) && is_empty(new)),
        };
        if leaf {
            match (old, new) {
                (None, Some(_)) => out.added.insert(&at.path),
                (Some(_), None) => out.removed.insert(&at.path),
                (Some(a), Some(b)) if !json_equal(a, b) => out.modified.insert(&at.path),
                _ => {}
            }
            return;
        }
        self.compare_children(kind, old, new, at, out);
        match (old, new) {
            (None, Some(_)) => out.added.insert(&at.path),
            (Some(_), None) => out.removed.insert(&at.path),
            _ => {}
        }
    }

    fn compare_children(
        &self,
        kind: Kind,
        old: Option<&Value>,
        new: Option<&Value>,
        at: &mut At,
        out: &mut Comparison,
    ) {
        match kind {
            Kind::Scalar => {}
            Kind::Map => {
                if self.shape.atomic_map(&at.steps) {
                    return;
                }
                let (old, new) = (entries(old), entries(new));
                let keys: BTreeSet<&String> =
                    old.into_iter().chain(new).flat_map(|m| m.keys()).collect();
                let in_metadata =
                    matches!(at.path.as_slice(), [PathElement::Field(f)] if f == "metadata");
                for key in keys {
                    if in_metadata && key == "managedFields" {
                        // Bookkeeping, not a field anybody owns.
                        continue;
                    }
                    at.enter(PathElement::field(key.clone()));
                    self.compare_node(
                        old.and_then(|m| m.get(key)),
                        new.and_then(|m| m.get(key)),
                        at,
                        out,
                    );
                    at.leave();
                }
            }
            Kind::List => {
                let list_type = self.shape.list_type(&at.steps);
                if list_type == ListType::Atomic {
                    return;
                }
                self.compare_list(&list_type, items(old), items(new), at, out);
            }
        }
    }

    fn compare_list(
        &self,
        list_type: &ListType,
        old: &[Value],
        new: &[Value],
        at: &mut At,
        out: &mut Comparison,
    ) {
        let mut order: Vec<PathElement> = Vec::new();
        let old_items = group_elements(list_type, old, &mut order);
        let new_items = group_elements(list_type, new, &mut order);
        for pe in order {
            let before = old_items.get(&pe).map(Vec::as_slice).unwrap_or_default();
            let after = new_items.get(&pe).map(Vec::as_slice).unwrap_or_default();
            match (before.len(), after.len()) {
                (0..=1, 0..=1) => {
                    at.enter(pe);
                    self.compare_node(before.first().copied(), after.first().copied(), at, out);
                    at.leave();
                }
                (2.., 2..) => {
                    let same = before.len() == after.len()
                        && before.iter().zip(after).all(|(a, b)| json_equal(a, b));
                    if !same {
                        at.path.push(pe);
                        out.modified.insert(&at.path);
                        at.path.pop();
                    }
                }
                (2.., _) => {
                    at.enter(pe.clone());
                    if let Some(first) = after.first() {
                        self.compare_node(None, Some(first), at, out);
                    }
                    at.leave();
                    at.path.push(pe);
                    out.removed.insert(&at.path);
                    at.path.pop();
                }
                (_, _) => {
                    at.enter(pe.clone());
                    if let Some(first) = before.first() {
                        self.compare_node(Some(first), None, at, out);
                    }
                    at.leave();
                    at.path.push(pe);
                    out.added.insert(&at.path);
                    at.path.pop();
                }
            }
        }
    }

    /// `config` merged into `live`: maps merge key by key, lists by their type (atomic
    /// lists and scalars are replaced, map lists merge element by element), and the
    /// configuration wins on every value it sets.
    ///
    /// # Errors
    /// Elements that cannot be identified, or duplicate elements in `config`.
    pub fn merge(&self, live: &Value, config: &Value) -> Result<Value, Problems> {
        let mut problems = Problems::default();
        let merged = self.merge_node(Some(live), Some(config), &mut At::default(), &mut problems);
        problems.into_result(merged.unwrap_or_else(|| Value::Object(Map::new())))
    }

    fn merge_node(
        &self,
        live: Option<&Value>,
        config: Option<&Value>,
        at: &mut At,
        problems: &mut Problems,
    ) -> Option<Value> {
        let keep = || config.or(live).cloned();
        let (live_kind, config_kind) = (live.and_then(kind_of), config.and_then(kind_of));
        if let (Some(a), Some(b)) = (live_kind, config_kind)
            && a != b
        {
            return keep();
        }
        match config_kind.or(live_kind).unwrap_or(Kind::Scalar) {
            Kind::Scalar => keep(),
            Kind::List => {
                let list_type = self.shape.list_type(&at.steps);
                if list_type == ListType::Atomic || (is_empty(live) && is_empty(config)) {
                    return keep();
                }
                let merged = self.merge_list(&list_type, items(live), items(config), at, problems);
                (!merged.is_empty()).then_some(Value::Array(merged))
            }
            Kind::Map => {
                if self.shape.atomic_map(&at.steps) || (is_empty(live) && is_empty(config)) {
                    return keep();
                }
                let (live, config) = (entries(live), entries(config));
                let keys: BTreeSet<&String> = live
                    .into_iter()
                    .chain(config)
                    .flat_map(|m| m.keys())
                    .collect();
                let mut out = Map::new();
                for key in keys {
                    at.enter(PathElement::field(key.clone()));
                    if let Some(value) = self.merge_node(
                        live.and_then(|m| m.get(key)),
                        config.and_then(|m| m.get(key)),
                        at,
                        problems,
                    ) {
                        out.insert(key.clone(), value);
                    }
                    at.leave();
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
        }
    }

    /// Merges two associative lists. Elements only the live list has keep their place;
    /// elements of the configuration come in its order, interleaved so that elements both
    /// lists share follow the configuration's order.
    fn merge_list(
        &self,
        list_type: &ListType,
        live: &[Value],
        config: &[Value],
        at: &mut At,
        problems: &mut Problems,
    ) -> Vec<Value> {
        let (config_pes, config_seen) =
            index_elements(list_type, config, false, &at.path, problems);
        let (live_pes, live_seen) = index_elements(list_type, live, true, &at.path, problems);
        if !problems.0.is_empty() {
            return Vec::new();
        }
        let mut shared: std::collections::VecDeque<&PathElement> = config_pes
            .iter()
            .map(|(pe, _)| pe)
            .filter(|pe| live_seen.contains_key(*pe))
            .collect();
        let mut next_shared = shared.pop_front();
        let mut merged_config: BTreeSet<PathElement> = BTreeSet::new();
        let mut out = Vec::with_capacity(live.len().max(config.len()));
        let (mut l, mut r) = (0, 0);
        let merge_item = |pe: &PathElement,
                          live_item: Option<&Value>,
                          config_item: Option<&Value>,
                          out: &mut Vec<Value>,
                          at: &mut At,
                          problems: &mut Problems| {
            at.enter(pe.clone());
            if let Some(value) = self.merge_node(live_item, config_item, at, problems) {
                out.push(value);
            }
            at.leave();
        };
        while l < live_pes.len() || r < config_pes.len() {
            if l < live_pes.len() && r < config_pes.len() {
                let pe = &live_pes[l].0;
                if *pe == config_pes[r].0 {
                    merged_config.insert(pe.clone());
                    let live_item = live_seen.get(pe).copied().flatten();
                    let config_item = config_seen.get(pe).copied().flatten();
                    merge_item(pe, live_item, config_item, &mut out, at, problems);
                    l += 1;
                    r += 1;
                    next_shared = shared.pop_front();
                    continue;
                }
                if config_seen.contains_key(pe) && next_shared.is_some_and(|next| next != pe) {
                    // A shared element, but not the one to place now.
                    l += 1;
                    continue;
                }
            }
            if l < live_pes.len() {
                let (pe, item) = &live_pes[l];
                if !config_seen.contains_key(pe) {
                    merge_item(pe, Some(item), None, &mut out, at, problems);
                    l += 1;
                    continue;
                } else if merged_config.contains(pe) {
                    l += 1;
                }
            }
            if r < config_pes.len() {
                let pe = &config_pes[r].0;
                merged_config.insert(pe.clone());
                let live_item = live_seen.get(pe).copied().flatten();
                let config_item = config_seen.get(pe).copied().flatten();
                merge_item(pe, live_item, config_item, &mut out, at, problems);
                r += 1;
                if next_shared.is_some_and(|next| next == pe) {
                    next_shared = shared.pop_front();
                }
            }
        }
        out
    }

    /// `value` without the fields of `set` (a field's subtree goes with it). Maps and lists
    /// left empty by the removal disappear.
    pub fn remove(&self, value: &Value, set: &FieldSet) -> Value {
        self.remove_node(value, set, &mut Vec::new())
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    fn remove_node(&self, value: &Value, set: &FieldSet, steps: &mut Vec<Step>) -> Option<Value> {
        match value {
            Value::Array(list) => {
                let list_type = self.shape.list_type(steps);
                if list.is_empty() || list_type == ListType::Atomic {
                    return None;
                }
                let mut out = Vec::with_capacity(list.len());
                for item in list {
                    let Ok(pe) = element(&list_type, item) else {
                        out.push(item.clone());
                        continue;
                    };
                    if set.has_member(&pe) {
                        continue;
                    }
                    match set.child(&pe) {
                        Some(below) => {
                            steps.push(Step::Item);
                            let kept = self.remove_node(item, below, steps);
                            steps.pop();
                            out.extend(kept);
                        }
                        None => out.push(item.clone()),
                    }
                }
                (!out.is_empty()).then_some(Value::Array(out))
            }
            Value::Object(map) => {
                if map.is_empty() || self.shape.atomic_map(steps) {
                    return None;
                }
                let mut out = Map::new();
                for (key, child) in map {
                    let pe = PathElement::field(key.clone());
                    if set.has_member(&pe) {
                        continue;
                    }
                    match set.child(&pe) {
                        Some(below) => {
                            steps.push(Step::field(key.clone()));
                            let kept = self.remove_node(child, below, steps);
                            steps.pop();
                            if let Some(kept) = kept {
                                out.insert(key.clone(), kept);
                            }
                        }
                        None => {
                            out.insert(key.clone(), child.clone());
                        }
                    }
                }
                (!out.is_empty()).then_some(Value::Object(out))
            }
            scalar => Some(scalar.clone()),
        }
    }

    /// `set` with every declared struct field that has owned fields below it owned as well,
    /// so that removing it removes the struct field once nothing in it is owned.
    pub fn with_named_fields(&self, set: &FieldSet) -> FieldSet {
        self.named_fields(set, &mut Vec::new())
    }

    fn named_fields(&self, set: &FieldSet, steps: &mut Vec<Step>) -> FieldSet {
        let mut out = FieldSet::new();
        for member in set.members() {
            out.insert_member(member.clone());
        }
        for (element, below) in set.children() {
            if let PathElement::Field(name) = element
                && self.shape.member(steps, name) == Member::Field
            {
                out.insert_member(element.clone());
            }
            steps.push(step_for(element));
            let child = self.named_fields(below, steps);
            steps.pop();
            out.set_child(element.clone(), child);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::schema::{Builtin, Custom};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn deployment() -> Builtin {
        Builtin::new("apps", "Deployment")
    }

    #[test]
    fn an_applied_deployment_owns_its_leaves_list_elements_and_the_selector_whole() {
        let shape = deployment();
        let typed = Typed::new(&shape);
        let config = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx",
                        "ports": [{"containerPort": 80}]}]}
                }
            }
        });
        let set = typed.config_field_set(&config).unwrap();
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:apiVersion": {}, "f:kind": {},
                "f:metadata": {"f:labels": {"f:app": {}}, "f:name": {}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                            ".": {}, "f:image": {}, "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {}, "f:containerPort": {}
                            }}
                        }}}
                    }
                }
            })
        );
    }

    #[test]
    fn configs_with_duplicate_or_unidentifiable_elements_are_refused_with_paths() {
        let shape = deployment();
        let typed = Typed::new(&shape);
        let config = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a"}, {"name": "a"}, {"image": "x"}
        ]}}}});
        let problems = typed.config_field_set(&config).unwrap_err();
        assert_eq!(
            problems.to_string(),
            "errors:\n  .spec.template.spec.containers: element 2: associative list with keys has an element that omits all key fields [\"name\"] (and doesn't have default values for any key fields)\n  .spec.template.spec.containers: duplicate entries for key [name=\"a\"]"
        );
    }

    #[test]
    fn undeclared_crd_fields_are_refused() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"a": {"type": "string"}}}}});
        let shape = Custom::new(&schema);
        let typed = Typed::new(&shape);
        let problems = typed
            .config_field_set(&json!({"spec": {"a": "x", "b": "y"}}))
            .unwrap_err();
        assert_eq!(
            problems.to_string(),
            ".spec.b: field not declared in schema"
        );
    }

    #[test]
    fn comparison_marks_new_maps_and_list_elements_themselves() {
        let shape = Builtin::new("", "ConfigMap");
        let typed = Typed::new(&shape);
        let old = json!({"metadata": {"name": "a"}, "data": {"x": "1"}});
        let new = json!({"metadata": {"name": "a", "labels": {"l": "v"}, "finalizers": ["f"]},
            "data": {"x": "2", "y": "3"}});
        let cmp = typed.compare(&old, &new);
        assert_eq!(
            cmp.added.to_fields_v1(),
            json!({"f:data": {"f:y": {}}, "f:metadata": {
                "f:finalizers": {".": {}, "v:\"f\"": {}},
                "f:labels": {".": {}, "f:l": {}}
            }})
        );
        assert_eq!(cmp.modified.to_fields_v1(), json!({"f:data": {"f:x": {}}}));
        assert!(cmp.removed.is_empty());
        let back = typed.compare(&new, &old);
        assert_eq!(back.removed, cmp.added);
    }

    #[test]
    fn merging_keeps_live_elements_and_follows_the_configured_order() {
        let shape = deployment();
        let typed = Typed::new(&shape);
        let live = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}, {"name": "c"}
        ]}}, "replicas": 1}});
        let config = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "c:2"}, {"name": "d"}, {"name": "a", "image": "a:2"}
        ]}}}});
        let merged = typed.merge(&live, &config).unwrap();
        assert_eq!(
            merged,
            json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "b", "image": "b:1"},
                {"name": "c", "image": "c:2"},
                {"name": "d"},
                {"name": "a", "image": "a:2"}
            ]}}}})
        );
    }

    #[test]
    fn atomic_values_are_replaced_whole() {
        let shape = deployment();
        let typed = Typed::new(&shape);
        let live = json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}},
            "template": {"spec": {"tolerations": [{"key": "x"}]}}}});
        let config = json!({"spec": {"selector": {"matchLabels": {"a": "1"}},
            "template": {"spec": {"tolerations": [{"key": "y"}]}}}});
        assert_eq!(typed.merge(&live, &config).unwrap(), config);
    }

    #[test]
    fn removal_drops_fields_elements_and_what_they_leave_empty() {
        let shape = deployment();
        let typed = Typed::new(&shape);
        let object = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 1,
            "template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}}}});
        let mut set = FieldSet::new();
        set.insert(&[
            PathElement::field("metadata"),
            PathElement::field("labels"),
            PathElement::field("a"),
        ]);
        set.insert(&[
            PathElement::field("spec"),
            PathElement::field("template"),
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::Key(vec![("name".into(), json!("a"))]),
        ]);
        assert_eq!(
            typed.remove(&object, &set),
            json!({"spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "b"}]}}}})
        );
    }

    #[test]
    fn named_fields_become_members_but_map_entries_do_not() {
        let shape = Builtin::new("", "ConfigMap");
        let typed = Typed::new(&shape);
        let mut set = FieldSet::new();
        set.insert(&[
            PathElement::field("metadata"),
            PathElement::field("labels"),
            PathElement::field("a"),
        ]);
        assert_eq!(
            typed.with_named_fields(&set).to_fields_v1(),
            json!({"f:metadata": {".": {}, "f:labels": {".": {}, "f:a": {}}}})
        );
    }
}
