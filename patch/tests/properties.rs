//! Property tests: invariants of the patch formats over generated documents.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use sluice_patch::{BuiltinSchema, NoSchema, json_equal, json_patch, merge_patch, strategic};

/// JSON values built from `leaf` and object keys drawn from `key`.
fn json_value(
    leaf: BoxedStrategy<Value>,
    key: BoxedStrategy<String>,
) -> impl Strategy<Value = Value> {
    leaf.prop_recursive(4, 48, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn leaf_without_null() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-c]{0,3}".prop_map(Value::from),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        6 => leaf_without_null(),
        2 => prop::sample::select(vec!["replace", "delete", "merge", "name", "x"]).prop_map(Value::from),
    ]
    .boxed()
}

fn plain_key() -> BoxedStrategy<String> {
    "[a-d]{1,2}".boxed()
}

/// Keys that hit the built-in metadata and the directives.
fn kubernetes_key() -> BoxedStrategy<String> {
    prop::sample::select(vec![
        "name",
        "spec",
        "template",
        "containers",
        "ports",
        "containerPort",
        "protocol",
        "env",
        "metadata",
        "finalizers",
        "ownerReferences",
        "uid",
        "volumes",
        "a",
        "b",
        "$patch",
        "$retainKeys",
        "$setElementOrder/containers",
        "$setElementOrder/finalizers",
        "$deleteFromPrimitiveList/finalizers",
        "$deleteFromPrimitiveList/containers",
        "$setElementOrder",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

fn object(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    value.prop_map(|v| if v.is_object() { v } else { json!({"a": v}) })
}

fn pointer() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-d]{1,2}",
            "[0-3]",
            Just("-".to_owned()),
            Just("~1".to_owned())
        ],
        0..4,
    )
    .prop_map(|tokens| tokens.iter().map(|t| format!("/{t}")).collect())
}

fn operation() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["add", "remove", "replace", "move", "copy", "test"]),
        pointer(),
        pointer(),
        json_value(leaf_without_null(), plain_key()),
    )
        .prop_map(
            |(op, path, from, value)| json!({"op": op, "path": path, "from": from, "value": value}),
        )
}

/// `value` with the null members of maps inside lists removed.
fn without_nulls_in_lists(value: &Value) -> Value {
    fn strip(value: &Value, in_list: bool) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| !(in_list && v.is_null()))
                    .map(|(k, v)| (k.clone(), strip(v, in_list)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(|v| strip(v, true)).collect()),
            other => other.clone(),
        }
    }
    strip(value, false)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn applying_a_computed_merge_patch_yields_the_target(
        a in json_value(leaf_without_null(), plain_key()),
        b in json_value(leaf_without_null(), plain_key()),
    ) {
        let patch = merge_patch::diff(&a, &b);
        let result = merge_patch::apply(&a, &patch);
        prop_assert!(json_equal(&result, &b), "diff {} applied to {} gave {}, not {}", patch, a, result, b);
    }

    #[test]
    fn a_merge_patch_of_an_object_with_itself_is_empty(a in object(json_value(leaf_without_null(), plain_key()))) {
        prop_assert_eq!(merge_patch::diff(&a, &a), json!({}));
    }

    #[test]
    fn json_patch_is_atomic(
        document in json_value(leaf_without_null(), plain_key()),
        operations in prop::collection::vec(operation(), 0..6),
    ) {
        let patch = Value::Array(operations.clone());
        let mut patched = document.clone();
        match json_patch::apply_in_place(&mut patched, &patch) {
            Err(error) => {
                prop_assert_eq!(&patched, &document, "a failed patch changed the document: {}", error);
            }
            Ok(()) => {
                // Applying the operations one at a time gives the same document.
                let mut stepwise = document.clone();
                for operation in operations {
                    json_patch::apply_in_place(&mut stepwise, &Value::Array(vec![operation])).unwrap();
                }
                prop_assert_eq!(stepwise, patched);
            }
        }
    }

    #[test]
    fn strategic_merge_with_an_empty_patch_is_identity(
        original in object(json_value(leaf(), kubernetes_key())),
        kind in prop::sample::select(vec!["Pod", "Deployment", "Service", "ConfigMap", "Widget"]),
    ) {
        let api_version = match kind { "Deployment" => "apps/v1", "Widget" => "example.com/v1", _ => "v1" };
        let mut original = original;
        if let Value::Object(map) = &mut original {
            map.insert("apiVersion".into(), json!(api_version));
            map.insert("kind".into(), json!(kind));
        }
        prop_assert_eq!(strategic::apply_builtin(&original, &json!({})).unwrap(), original.clone());
        prop_assert_eq!(strategic::apply(&original, &Value::Null, &NoSchema).unwrap(), original);
    }

    #[test]
    fn strategic_merge_without_directives_or_schema_matches_a_json_merge_patch_on_maps(
        original in object(json_value(leaf_without_null(), plain_key())),
        patch in object(json_value(leaf(), plain_key())),
    ) {
        // With no merge metadata and no directive keys, the two formats agree, except that a
        // strategic merge also drops the null members of maps inside lists it copies.
        let strategic = strategic::apply(&original, &patch, &NoSchema).unwrap();
        let merged = merge_patch::apply(&original, &without_nulls_in_lists(&patch));
        prop_assert_eq!(strategic, merged);
    }

    #[test]
    fn applying_patches_never_panics(
        original in json_value(leaf(), kubernetes_key()),
        patch in json_value(leaf(), kubernetes_key()),
    ) {
        let pod = BuiltinSchema::for_kind("v1", "Pod").unwrap();
        let deployment = BuiltinSchema::for_kind("apps/v1", "Deployment").unwrap();
        let _ = strategic::apply(&original, &patch, &pod);
        let _ = strategic::apply(&original, &patch, &deployment);
        let _ = strategic::StrategicMerge::new(&pod).allow_merge_directive(true).apply(&original, &patch);
        let _ = strategic::apply_builtin(&original, &patch);
        let _ = json_patch::apply(&original, &patch);
        let _ = merge_patch::apply(&original, &patch);
    }
}
