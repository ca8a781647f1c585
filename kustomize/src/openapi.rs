//! `openapi:` schema hints: an OpenAPI (swagger 2) document whose definitions carry
//! `x-kubernetes-group-version-kind`, `x-kubernetes-patch-merge-key` and
//! `x-kubernetes-patch-strategy`, so that strategic merge patches merge the lists of custom
//! kinds by key.

use serde_json::Value;
use sluice_patch::{FieldSchema, PatchSchema, PatchStrategy, PathElement};

/// A loaded schema document.
#[derive(Debug, Clone)]
pub(crate) struct OpenApi {
    doc: Value,
}

/// The schema of one kind in the document.
#[derive(Debug, Clone)]
pub(crate) struct KindSchema<'a> {
    doc: &'a Value,
    root: &'a Value,
}

impl OpenApi {
    pub(crate) fn new(doc: Value) -> OpenApi {
        OpenApi { doc }
    }

    /// The schema of `object`'s kind, when the document defines it.
    pub(crate) fn schema_for(&self, object: &Value) -> Option<KindSchema<'_>> {
        let gvk = crate::resid::Gvk::of(object);
        let defs = self.doc.get("definitions")?.as_object()?;
        for def in defs.values() {
            let Some(gvks) = def
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
            else {
                continue;
            };
            let hit = gvks.iter().any(|g| {
                let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("");
                s("group") == gvk.group && s("version") == gvk.version && s("kind") == gvk.kind
            });
            if hit {
                return Some(KindSchema {
                    doc: &self.doc,
                    root: def,
                });
            }
        }
        None
    }
}

impl KindSchema<'_> {
    fn resolve<'v>(&'v self, mut node: &'v Value) -> &'v Value {
        for _ in 0..64 {
            let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                return node;
            };
            let Some(name) = reference.strip_prefix("#/definitions/") else {
                return node;
            };
            match self.doc.get("definitions").and_then(|d| d.get(name)) {
                Some(next) => node = next,
                None => return node,
            }
        }
        node
    }
}

impl PatchSchema for KindSchema<'_> {
    fn field(&self, path: &[PathElement]) -> FieldSchema {
        let mut node = self.resolve(self.root);
        for element in path {
            let next = match element {
                PathElement::Field(name) => node.get("properties").and_then(|p| p.get(name)),
                PathElement::Item => node.get("items"),
            };
            match next {
                Some(n) => node = self.resolve(n),
                None => return FieldSchema::default(),
            }
        }
        let strategy = node
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .unwrap_or("");
        let merge_key = node
            .get("x-kubernetes-patch-merge-key")
            .and_then(Value::as_str)
            .map(|s| std::borrow::Cow::Owned(s.to_owned()));
        FieldSchema {
            strategy: if strategy.split(',').any(|s| s == "merge") {
                PatchStrategy::Merge
            } else if strategy.split(',').any(|s| s == "replace") {
                PatchStrategy::Replace
            } else {
                PatchStrategy::Default
            },
            merge_key,
            retain_keys: strategy.split(',').any(|s| s == "retainKeys"),
            list_type: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn custom_kinds_get_merge_keys_from_the_document() {
        let api = OpenApi::new(json!({"definitions": {
            "io.x.v1.Foo": {
                "x-kubernetes-group-version-kind": [{"group": "x.io", "version": "v1", "kind": "Foo"}],
                "properties": {"spec": {"$ref": "#/definitions/io.x.v1.FooSpec"}}
            },
            "io.x.v1.FooSpec": {"properties": {"items": {
                "type": "array", "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge", "items": {"type": "object"}}}}
        }}));
        let obj = json!({"apiVersion": "x.io/v1", "kind": "Foo"});
        let schema = api.schema_for(&obj).expect("defined");
        let field = schema.field(&[PathElement::field("spec"), PathElement::field("items")]);
        assert_eq!(field.strategy, PatchStrategy::Merge);
        assert_eq!(field.merge_key.as_deref(), Some("name"));
        assert!(
            api.schema_for(&json!({"apiVersion": "v1", "kind": "Pod"}))
                .is_none()
        );
    }
}
