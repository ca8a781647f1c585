//! Property tests for the pieces that take arbitrary input: printing (every string reads
//! back unchanged), strategic merge (no panics; an empty patch changes nothing), the hash
//! (stable, ten characters of its alphabet) and path confinement (nothing outside the root
//! is ever read).
//!
//! `PROPTEST_CASES=5000 cargo test -p sluice-kustomize --test properties` runs more cases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use proptest::prelude::*;
use serde_json::{Value, json};

/// Strings mixing YAML indicators, spaces, line breaks, quotes and non-ASCII text.
fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\t".to_owned()),
            Just(": ".to_owned()),
            Just("- ".to_owned()),
            Just("#".to_owned()),
            Just("'".to_owned()),
            Just("\"".to_owned()),
            Just("\\".to_owned()),
            Just("yes".to_owned()),
            Just("012".to_owned()),
            Just("1e3".to_owned()),
            Just("~".to_owned()),
            Just("é".to_owned()),
            Just("---".to_owned()),
            "[a-z]{1,12}",
            "[0-9]{1,4}",
            "[{}\\[\\],&*!|>%@`?]",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn configmap(data: &Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data})
}

/// Builds a one-file kustomization holding `yaml` and returns the engine's objects.
fn build_file(yaml: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [r.yaml]\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("r.yaml"), yaml).expect("write");
    sluice_kustomize::build(dir.path()).expect("builds")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn printed_strings_read_back_unchanged(value in tricky_string(), key in "[a-z][a-z0-9._/-]{0,20}") {
        let object = configmap(&json!({ key.clone(): value.clone() }));
        let printed = sluice_kustomize::to_yaml(std::slice::from_ref(&object));
        let back = build_file(&printed);
        prop_assert_eq!(&back[0]["data"][&key], &Value::String(value), "printed:\n{}", printed);
    }

    #[test]
    fn printing_is_stable(value in tricky_string()) {
        let object = configmap(&json!({ "k": value }));
        let once = sluice_kustomize::to_yaml(std::slice::from_ref(&object));
        let again = sluice_kustomize::to_yaml(&build_file(&once));
        prop_assert_eq!(once, again);
    }
}

/// Arbitrary JSON-like values, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(|i| json!(i)),
        "[a-z$]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z$]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn patches_never_panic_and_an_empty_patch_changes_nothing(spec in json_value(), patch_spec in json_value()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": spec});
        let text = sluice_kustomize::to_yaml(std::slice::from_ref(&target));
        std::fs::write(dir.path().join("d.yaml"), &text).expect("write");
        let patch = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": patch_spec});
        std::fs::write(dir.path().join("p.yaml"), sluice_kustomize::to_yaml(&[patch])).expect("write");
        std::fs::write(dir.path().join("kustomization.yaml"),
            "resources: [d.yaml]\npatches: [{path: p.yaml}]\n").expect("write");
        // Any outcome but a panic is fine.
        let _ = sluice_kustomize::build(dir.path());

        let empty = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
        std::fs::write(dir.path().join("p.yaml"), sluice_kustomize::to_yaml(&[empty])).expect("write");
        if let Ok(unpatched) = build_file_result(&text) {
            let patched = sluice_kustomize::build(dir.path()).expect("an empty patch applies");
            prop_assert_eq!(patched, unpatched);
        }
    }

    #[test]
    fn generated_names_get_a_stable_ten_letter_suffix(literals in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,12}", 0..5)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut k = String::from("configMapGenerator:\n- name: c\n  literals:\n");
        for (key, value) in &literals {
            k.push_str(&format!("  - {}\n", serde_json::to_string(&format!("{key}={value}")).expect("json")));
        }
        std::fs::write(dir.path().join("kustomization.yaml"), &k).expect("write");
        let first = sluice_kustomize::build(dir.path());
        let second = sluice_kustomize::build(dir.path());
        prop_assert_eq!(&first, &second);
        if let Ok(objects) = first {
            let name = objects[0]["metadata"]["name"].as_str().expect("name");
            let suffix = name.strip_prefix("c-").expect("suffixed");
            prop_assert_eq!(suffix.len(), 10);
            prop_assert!(suffix.chars().all(|c| "ghk2456789mbcdtf".contains(c)), "{}", suffix);
        }
    }

    #[test]
    fn no_resource_path_reads_outside_the_root(parts in proptest::collection::vec(prop_oneof![
        Just("..".to_owned()), Just(".".to_owned()), Just("sub".to_owned()), Just("x.yaml".to_owned()),
        Just("link".to_owned()), Just("".to_owned()),
    ], 1..6)) {
        let outer = tempfile::tempdir().expect("tempdir");
        let root = outer.path().join("root");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(outer.path().join("x.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside}\n").expect("write");
        std::fs::write(outer.path().join("kustomization.yaml"), "resources: [x.yaml]\n").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(outer.path(), root.join("link")).expect("symlink");
        let path = parts.join("/");
        std::fs::write(root.join("kustomization.yaml"), format!("resources: [{path:?}]\n")).expect("write");
        if let Ok(objects) = sluice_kustomize::build(&root) {
            prop_assert!(objects.iter().all(|o| o["metadata"]["name"] != "outside"), "{}", path);
        }
    }
}

fn build_file_result(yaml: &str) -> Result<Vec<Value>, sluice_kustomize::Error> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [r.yaml]\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("r.yaml"), yaml).expect("write");
    sluice_kustomize::build(dir.path())
}
