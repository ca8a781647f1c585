//! What a strategic merge patch and server-side apply need to know about an object's fields.

use std::borrow::Cow;

use serde_json::Value;

/// One step of a path from the object root, as a [`PatchSchema`] sees it.
///
/// List elements are one step, [`PathElement::Item`], whatever their position or key: merge
/// metadata belongs to a field, never to one element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A member of a map (an object field).
    Field(String),
    /// Any element of a list.
    Item,
}

impl PathElement {
    /// A [`PathElement::Field`].
    pub fn field(name: impl Into<String>) -> Self {
        PathElement::Field(name.into())
    }
}

/// How a strategic merge patch combines a field's value with the patch
/// (`x-kubernetes-patch-strategy` in the OpenAPI, `patchStrategy` in Go struct tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PatchStrategy {
    /// Nothing declared: maps are merged key by key, lists are replaced.
    #[default]
    Default,
    /// `merge`: lists are merged, by [`FieldSchema::merge_key`] for lists of maps and as an
    /// ordered union for lists of primitives.
    Merge,
    /// `replace`: the patch value replaces the field wholesale, maps included.
    Replace,
}

/// The schema facts about one field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSchema {
    /// The strategic merge patch strategy.
    pub strategy: PatchStrategy,
    /// For lists of maps merged by key: the member identifying an element
    /// (`x-kubernetes-patch-merge-key`).
    pub merge_key: Option<Cow<'static, str>>,
    /// Whether the field also has the `retainKeys` strategy. Patches generated for it carry a
    /// `$retainKeys` directive; applying honours `$retainKeys` wherever it appears, so this
    /// only informs patch producers.
    pub retain_keys: bool,
    /// The server-side apply list type when the schema declares one
    /// (`x-kubernetes-list-type`); see [`FieldSchema::list_type`] for the effective one.
    pub list_type: Option<ListType>,
}

impl FieldSchema {
    /// The list type server-side apply uses for this field: the declared one, or else the
    /// one implied by the patch strategy, as Kubernetes converts its OpenAPI: `merge` with
    /// a merge key is a map list keyed by it, `merge` without one is a set, anything else
    /// is atomic.
    pub fn list_type(&self) -> ListType {
        if let Some(declared) = &self.list_type {
            return declared.clone();
        }
        match (self.strategy, &self.merge_key) {
            (PatchStrategy::Merge, Some(key)) => ListType::Map(vec![ListMapKey {
                name: key.clone(),
                default: None,
            }]),
            (PatchStrategy::Merge, None) => ListType::Set,
            _ => ListType::Atomic,
        }
    }
}

/// How server-side apply identifies a list's elements (`x-kubernetes-list-type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// The list is one value: elements have no identity of their own.
    Atomic,
    /// A set of primitives: an element is identified by its value.
    Set,
    /// A list of maps identified by the values of these keys (`x-kubernetes-list-map-keys`).
    Map(Vec<ListMapKey>),
}

/// One key of a map list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMapKey {
    /// The member name.
    pub name: Cow<'static, str>,
    /// The value used when an element omits the member (the field's OpenAPI `default`), as
    /// `protocol: TCP` for container and service ports.
    pub default: Option<Value>,
}

/// Where the merge metadata of an object's fields comes from.
///
/// The built-in kinds use [`crate::BuiltinSchema`]; callers plug in others (CRD schemas with
/// `x-kubernetes-list-type: map`, kustomize's OpenAPI hints).
pub trait PatchSchema {
    /// The schema facts of the field at `path`, from the object root, with
    /// [`PathElement::Item`] for each list level crossed. Unknown fields get
    /// [`FieldSchema::default`]: maps merge, lists are replaced and atomic.
    fn field(&self, path: &[PathElement]) -> FieldSchema;
}

impl<S: PatchSchema + ?Sized> PatchSchema for &S {
    fn field(&self, path: &[PathElement]) -> FieldSchema {
        (**self).field(path)
    }
}

/// A schema that knows nothing: every field gets [`FieldSchema::default`]. This is how
/// upstream treats kinds it has no type information for, and it makes a strategic merge
/// patch behave like a JSON merge patch plus the `$patch` directives.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSchema;

impl PatchSchema for NoSchema {
    fn field(&self, _path: &[PathElement]) -> FieldSchema {
        FieldSchema::default()
    }
}

/// Renders a schema path for messages: `spec.containers[].ports`.
pub(crate) fn display_path(path: &[PathElement]) -> String {
    let mut out = String::new();
    for element in path {
        match element {
            PathElement::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            PathElement::Item => out.push_str("[]"),
        }
    }
    if out.is_empty() {
        out.push_str("the object root");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_type_follows_the_patch_strategy_unless_declared() {
        let merge_by_name = FieldSchema {
            strategy: PatchStrategy::Merge,
            merge_key: Some("name".into()),
            ..FieldSchema::default()
        };
        assert_eq!(
            merge_by_name.list_type(),
            ListType::Map(vec![ListMapKey {
                name: "name".into(),
                default: None
            }])
        );
        let merge_primitives = FieldSchema {
            strategy: PatchStrategy::Merge,
            ..FieldSchema::default()
        };
        assert_eq!(merge_primitives.list_type(), ListType::Set);
        assert_eq!(FieldSchema::default().list_type(), ListType::Atomic);
        let declared_atomic = FieldSchema {
            list_type: Some(ListType::Atomic),
            ..merge_by_name
        };
        assert_eq!(declared_atomic.list_type(), ListType::Atomic);
    }

    #[test]
    fn paths_display_with_dots_and_brackets() {
        let path = [
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::Item,
            PathElement::field("ports"),
        ];
        assert_eq!(display_path(&path), "spec.containers[].ports");
        assert_eq!(display_path(&[]), "the object root");
    }
}
