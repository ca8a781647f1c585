//! Field paths and sets of them, the vocabulary of field ownership.
//!
//! A path is a list of [`PathElement`]s from the object root: a map member
//! (`f:replicas`), a map-list element by its keys (`k:{"name":"app"}`), a set element by
//! its value (`v:"example.com/finalizer"`) or an atomic-list position (`i:0`). A
//! [`FieldSet`] is a tree of such paths; serialized, it is the `fieldsV1` of a
//! `managedFields` entry, where `.` marks a path that is itself in the set when it also has
//! children.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// One step of a field path.
#[derive(Debug, Clone)]
pub enum PathElement {
    /// A member of a map (or a field of a struct).
    Field(String),
    /// An element of a map list, by its key fields (sorted by name).
    Key(Vec<(String, Value)>),
    /// An element of a set, by its value.
    Value(Value),
    /// An element of a list by position (only ever written by others: atomic lists are
    /// owned as a whole).
    Index(usize),
}

impl PathElement {
    /// A [`PathElement::Field`].
    pub fn field(name: impl Into<String>) -> Self {
        PathElement::Field(name.into())
    }

    /// The key under which the element appears in `fieldsV1`: `f:name`,
    /// `k:{"name":"app"}`, `v:"value"` or `i:0`.
    pub fn serialize(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let mut out = String::from("k:{");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(name.clone()).to_string());
                    out.push(':');
                    out.push_str(&value.to_string());
                }
                out.push('}');
                out
            }
            PathElement::Value(value) => format!("v:{value}"),
            PathElement::Index(index) => format!("i:{index}"),
        }
    }

    /// Parses a `fieldsV1` key; `Ok(None)` for element types this version does not know
    /// (they are dropped, as upstream does).
    ///
    /// # Errors
    /// A description of what is malformed.
    pub fn deserialize(text: &str) -> Result<Option<PathElement>, String> {
        let Some((kind, rest)) = text.split_once(':') else {
            return Err(format!("missing colon: {text}"));
        };
        if kind.len() != 1 {
            return Err(format!("missing colon: {text}"));
        }
        match kind {
            "f" => Ok(Some(PathElement::Field(rest.to_owned()))),
            "v" => serde_json::from_str(rest)
                .map(|value| Some(PathElement::Value(value)))
                .map_err(|e| format!("parsing {text:?}: {e}")),
            "k" => {
                let map: Map<String, Value> =
                    serde_json::from_str(rest).map_err(|e| format!("parsing {text:?}: {e}"))?;
                let mut fields: Vec<(String, Value)> = map.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Some(PathElement::Key(fields)))
            }
            "i" => rest
                .parse()
                .map(|index| Some(PathElement::Index(index)))
                .map_err(|e| format!("parsing {text:?}: {e}")),
            _ => Ok(None),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }
}

/// As upstream prints paths in conflicts: `.spec`, `[name="app"]`, `[="value"]`, `[0]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                f.write_str("[")?;
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}={}", display_value(value))?;
                }
                f.write_str("]")
            }
            PathElement::Value(value) => write!(f, "[={}]", display_value(value)),
            PathElement::Index(index) => write!(f, "[{index}]"),
        }
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Fields first, then keys, values and indices, each in their own order.
impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => compare_key_fields(a, b),
            (PathElement::Value(a), PathElement::Value(b)) => compare_values(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn compare_key_fields(a: &[(String, Value)], b: &[(String, Value)]) -> Ordering {
    for ((name_a, value_a), (name_b, value_b)) in a.iter().zip(b) {
        let order = name_a
            .cmp(name_b)
            .then_with(|| compare_values(value_a, value_b));
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// A total order over JSON values: numbers (integers and floats compared by value), then
/// strings, booleans, lists, maps and null.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    fn rank(value: &Value) -> u8 {
        match value {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64().map(i128::from), y.as_i64().map(i128::from)) {
                (Some(i), Some(j)) => i.cmp(&j),
                _ => match (x.as_u64(), y.as_u64()) {
                    (Some(i), Some(j)) => i.cmp(&j),
                    _ => {
                        let (i, j) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                        i.partial_cmp(&j).unwrap_or(Ordering::Equal)
                    }
                },
            }
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (i, j) in x.iter().zip(y) {
                let order = compare_values(i, j);
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((ki, vi), (kj, vj)) in x.iter().zip(y) {
                let order = ki.cmp(kj).then_with(|| compare_values(vi, vj));
                if order != Ordering::Equal {
                    return order;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A value as upstream prints it inside a path: strings quoted, other scalars bare.
fn display_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::String(text) => Value::String(text.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(display_value)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", display_value(v)))
            .collect::<String>(),
        other => other.to_string(),
    }
}

/// A path as upstream prints it: `.spec.template.spec.containers[name="app"].image`.
pub fn display_path(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// A set of field paths, stored as a tree.
///
/// `members` are the paths that end at this level; `children` hold the paths that go
/// further. A path element may be both (a list element owned as such and some of its
/// fields). Empty children are never stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// Adds a path (the empty path is ignored).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether `path` is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self
                .children
                .get(first)
                .is_some_and(|child| child.contains(rest)),
        }
    }

    /// Whether the one-element path `element` is in the set.
    pub fn has_member(&self, element: &PathElement) -> bool {
        self.members.contains(element)
    }

    /// The paths that continue below `element`, relative to it.
    pub fn child(&self, element: &PathElement) -> Option<&FieldSet> {
        self.children.get(element)
    }

    /// The members at this level.
    pub fn members(&self) -> impl Iterator<Item = &PathElement> {
        self.members.iter()
    }

    /// The children at this level.
    pub fn children(&self) -> impl Iterator<Item = (&PathElement, &FieldSet)> {
        self.children.iter()
    }

    /// Adds `element` as a member at this level.
    pub fn insert_member(&mut self, element: PathElement) {
        self.members.insert(element);
    }

    /// Sets the children below `element` (dropped when empty).
    pub fn set_child(&mut self, element: PathElement, child: FieldSet) {
        if child.is_empty() {
            self.children.remove(&element);
        } else {
            self.children.insert(element, child);
        }
    }

    /// Every path in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (element, child) in &other.children {
            let merged = match out.children.get(element) {
                Some(mine) => mine.union(child),
                None => child.clone(),
            };
            out.set_child(element.clone(), merged);
        }
        out
    }

    /// The paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (element, child) in &self.children {
            if let Some(theirs) = other.children.get(element) {
                out.set_child(element.clone(), child.intersection(theirs));
            }
        }
        out
    }

    /// The paths of `self` that are not in `other` (paths below a path of `other` stay).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (element, child) in &self.children {
            let rest = match other.children.get(element) {
                Some(theirs) => child.difference(theirs),
                None => child.clone(),
            };
            out.set_child(element.clone(), rest);
        }
        out
    }

    /// The paths of `self` that are neither in `other` nor below a path of `other`.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (element, child) in &self.children {
            if other.members.contains(element) {
                continue;
            }
            let rest = match other.children.get(element) {
                Some(theirs) => child.recursive_difference(theirs),
                None => child.clone(),
            };
            out.set_child(element.clone(), rest);
        }
        out
    }

    /// Only the paths that start with `element` (as a set from the root).
    pub fn only_under(&self, element: &PathElement) -> FieldSet {
        let mut out = FieldSet::new();
        if self.members.contains(element) {
            out.members.insert(element.clone());
        }
        if let Some(child) = self.children.get(element) {
            out.set_child(element.clone(), child.clone());
        }
        out
    }

    /// Every path, members of a level before its children, in order.
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for member in &self.members {
            let mut path = prefix.clone();
            path.push(member.clone());
            out.push(path);
        }
        for (element, child) in &self.children {
            prefix.push(element.clone());
            child.collect_paths(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` form: `{"f:spec":{"f:replicas":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}`.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if include_self {
            out.insert(".".into(), Value::Object(Map::new()));
        }
        for member in &self.members {
            if !self.children.contains_key(member) {
                out.insert(member.serialize(), Value::Object(Map::new()));
            }
        }
        for (element, child) in &self.children {
            let is_member = self.members.contains(element);
            out.insert(element.serialize(), Value::Object(child.emit(is_member)));
        }
        out
    }

    /// Parses `fieldsV1`.
    ///
    /// # Errors
    /// A description of the first malformed part.
    pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
        let (set, _) = Self::read(value)?;
        Ok(set.unwrap_or_default())
    }

    /// Reads one level: the children found, and whether the level marks its own path.
    fn read(value: &Value) -> Result<(Option<FieldSet>, bool), String> {
        let Value::Object(map) = value else {
            return Err(format!("expected an object, found {value}"));
        };
        let mut children: Option<FieldSet> = None;
        let mut is_member = false;
        for (key, child) in map {
            if key == "." {
                is_member = true;
                continue;
            }
            let Some(element) = PathElement::deserialize(key)? else {
                continue;
            };
            let (grandchildren, child_is_member) = Self::read(child)?;
            let set = children.get_or_insert_with(FieldSet::new);
            if child_is_member {
                set.members.insert(element.clone());
            }
            if let Some(grandchildren) = grandchildren {
                let merged = match set.children.get(&element) {
                    Some(existing) => existing.union(&grandchildren),
                    None => grandchildren,
                };
                set.set_child(element, merged);
            }
        }
        if children.is_none() {
            is_member = true;
        }
        Ok((children.filter(|c| !c.is_empty()), is_member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(elements: &[PathElement]) -> Vec<PathElement> {
        elements.to_vec()
    }

    fn f(name: &str) -> PathElement {
        PathElement::field(name)
    }

    #[test]
    fn fields_v1_marks_paths_that_are_also_parents_with_a_dot() {
        let mut set = FieldSet::new();
        set.insert(&[f("metadata"), f("labels")]);
        set.insert(&[f("metadata"), f("labels"), f("app")]);
        set.insert(&[f("spec"), f("replicas")]);
        let item = PathElement::Key(vec![("name".into(), json!("app"))]);
        set.insert(&[f("spec"), f("containers"), item.clone()]);
        set.insert(&[f("spec"), f("containers"), item, f("image")]);
        assert_eq!(
            set.to_fields_v1(),
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}}},
                    "f:replicas": {}
                }
            })
        );
        assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set);
    }

    #[test]
    fn parsing_fields_v1_ignores_unknown_element_types_and_refuses_garbage() {
        let set = FieldSet::from_fields_v1(&json!({"f:a": {}, "x:b": {}})).unwrap();
        assert_eq!(set.paths(), vec![vec![f("a")]]);
        assert!(FieldSet::from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"nocolon": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!({"k:{bad": {}})).is_err());
        assert!(FieldSet::from_fields_v1(&json!([])).is_err());
    }

    #[test]
    fn element_keys_serialize_sorted_and_print_like_upstream() {
        let key = PathElement::Key(vec![
            ("containerPort".into(), json!(80)),
            ("protocol".into(), json!("TCP")),
        ]);
        assert_eq!(
            key.serialize(),
            r#"k:{"containerPort":80,"protocol":"TCP"}"#
        );
        assert_eq!(
            PathElement::deserialize(&key.serialize()).unwrap(),
            Some(key.clone())
        );
        assert_eq!(key.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
        let value = PathElement::Value(json!("example.com/f"));
        assert_eq!(value.serialize(), r#"v:"example.com/f""#);
        assert_eq!(value.to_string(), r#"[="example.com/f"]"#);
        assert_eq!(
            display_path(&[f("spec"), f("replicas")]),
            ".spec.replicas".to_owned()
        );
    }

    #[test]
    fn set_algebra_follows_paths() {
        let mut a = FieldSet::new();
        a.insert(&path(&[f("spec"), f("a")]));
        a.insert(&path(&[f("spec"), f("b")]));
        let mut b = FieldSet::new();
        b.insert(&path(&[f("spec"), f("b")]));
        b.insert(&path(&[f("status")]));
        assert_eq!(a.difference(&b).paths(), vec![vec![f("spec"), f("a")]]);
        assert_eq!(a.intersection(&b).paths(), vec![vec![f("spec"), f("b")]]);
        assert_eq!(a.union(&b).paths().len(), 3);
        let mut spec = FieldSet::new();
        spec.insert(&[f("spec")]);
        assert!(a.recursive_difference(&spec).is_empty());
        assert_eq!(a.difference(&spec), a);
        assert!(a.contains(&[f("spec"), f("a")]));
        assert!(!a.contains(&[f("spec")]));
    }

    #[test]
    fn numbers_order_by_value_whatever_their_representation() {
        assert_eq!(compare_values(&json!(9), &json!(10)), Ordering::Less);
        assert_eq!(compare_values(&json!(1), &json!(1.0)), Ordering::Equal);
        assert_eq!(compare_values(&json!(1), &json!("a")), Ordering::Less);
        assert_eq!(compare_values(&json!(null), &json!({})), Ordering::Greater);
    }
}
