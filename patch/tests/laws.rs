//! Algebraic laws of the patch formats over generated documents, beside the invariants of
//! `properties.rs`: patches are idempotent, and JSON patch operations that restate or undo
//! each other leave a document as it was.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sluice_patch::{BuiltinSchema, NoSchema, json_patch, merge_patch, strategic};

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (-3_i64..100).prop_map(Value::from),
        "[a-c]{0,3}".prop_map(Value::from),
    ]
    .boxed()
}

fn value_with(leaf: BoxedStrategy<Value>, key: BoxedStrategy<String>) -> BoxedStrategy<Value> {
    leaf.prop_recursive(4, 40, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

fn document() -> BoxedStrategy<Value> {
    value_with(leaf(), "[a-d]{1,2}".boxed())
        .prop_map(|v| if v.is_object() { v } else { json!({ "a": v }) })
        .boxed()
}

/// Keys that hit the Pod merge metadata (containers by `name`, ports by `containerPort`,
/// finalizers as a union) and the directives.
fn pod_key() -> BoxedStrategy<String> {
    prop::sample::select(vec![
        "spec",
        "containers",
        "initContainers",
        "name",
        "image",
        "ports",
        "containerPort",
        "env",
        "value",
        "metadata",
        "finalizers",
        "labels",
        "volumes",
        "a",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$deleteFromPrimitiveList/finalizers",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

fn pod_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => leaf(),
        1 => Just(Value::Null),
        1 => prop::sample::select(vec!["replace", "delete", "merge", "x", "y"]).prop_map(Value::from),
    ]
    .boxed()
}

fn pod_object() -> BoxedStrategy<Value> {
    value_with(pod_leaf(), pod_key())
        .prop_map(|v| {
            let mut map = match v {
                Value::Object(map) => map,
                other => [("spec".to_owned(), other)].into_iter().collect(),
            };
            map.insert("apiVersion".into(), json!("v1"));
            map.insert("kind".into(), json!("Pod"));
            Value::Object(map)
        })
        .boxed()
}

/// Every JSON pointer into `value` with the value found there.
fn pointers(value: &Value, at: String, out: &mut Vec<(String, Value)>) {
    out.push((at.clone(), value.clone()));
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                let token = key.replace('~', "~0").replace('/', "~1");
                pointers(member, format!("{at}/{token}"), out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{index}"), out);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_merge_patch_applied_twice_is_applied_once(a in document(), patch in document()) {
        let once = merge_patch::apply(&a, &patch);
        prop_assert_eq!(merge_patch::apply(&once, &patch), once);
    }

    #[test]
    fn a_strategic_merge_patch_applied_twice_is_applied_once(
        original in pod_object(),
        patch in pod_object(),
    ) {
        let pod = BuiltinSchema::for_kind("v1", "Pod").expect("Pod is built in");
        for (name, schema) in [("Pod", &pod as &dyn sluice_patch::PatchSchema), ("none", &NoSchema)] {
            if let Ok(once) = strategic::apply(&original, &patch, schema) {
                // A malformed directive (`$retainKeys: false`) is only checked where it
                // meets a map: the first application may replace a non-map without looking
                // at it, the second then rejects it. Errors aside, the law holds.
                if let Ok(twice) = strategic::apply(&once, &patch, schema) {
                    prop_assert!(
                        twice == once,
                        "with schema {}: patch {} on {} gave {} once, then {}",
                        name, patch, original, once, twice
                    );
                }
            }
        }
    }

    #[test]
    fn testing_every_value_of_a_document_passes_and_changes_nothing(doc in document()) {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let tests: Vec<Value> =
            all.into_iter().map(|(path, value)| json!({"op": "test", "path": path, "value": value})).collect();
        prop_assert_eq!(json_patch::apply(&doc, &Value::Array(tests)).expect("tests pass"), doc);
    }

    #[test]
    fn replacing_any_value_with_itself_changes_nothing(doc in document(), pick in any::<prop::sample::Index>()) {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let (path, value) = pick.get(&all).clone();
        let patch = json!([{"op": "replace", "path": path, "value": value}]);
        prop_assert_eq!(json_patch::apply(&doc, &patch).expect("replace applies"), doc);
    }

    #[test]
    fn adding_then_removing_a_new_member_restores_the_document(
        doc in document(),
        pick in any::<prop::sample::Index>(),
        value in document(),
    ) {
        let mut maps = Vec::new();
        pointers(&doc, String::new(), &mut maps);
        maps.retain(|(_, v)| v.as_object().is_some_and(|m| !m.contains_key("new~/")));
        prop_assume!(!maps.is_empty());
        let (path, _) = pick.get(&maps);
        let member = format!("{path}/new~0~1");
        let patch = json!([
            {"op": "add", "path": member, "value": value},
            {"op": "remove", "path": member},
        ]);
        prop_assert_eq!(json_patch::apply(&doc, &patch).expect("add and remove apply"), doc);
    }

    #[test]
    fn copying_a_value_then_testing_the_copy_passes(doc in document(), pick in any::<prop::sample::Index>()) {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        all.retain(|(path, _)| !path.is_empty());
        prop_assume!(!all.is_empty());
        let (from, value) = pick.get(&all).clone();
        let patch = json!([
            {"op": "copy", "from": from, "path": "/copied"},
            {"op": "test", "path": "/copied", "value": value},
            {"op": "test", "path": from, "value": value},
        ]);
        prop_assert!(json_patch::apply(&doc, &patch).is_ok());
    }
}
