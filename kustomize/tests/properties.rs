//! Property tests of the engine on generated input, through its public API
//! (`sluice_kustomize::build`):
//!
//! - strategic merge and JSON 6902 patches, and the generator name hash, against the oracle
//!   (`kubectl kustomize`, kustomize v5.8.1) on generated objects and patches;
//! - the name hash's shape (10 characters of kustomize's alphabet), stability and dependence
//!   on content alone;
//! - path confinement: generated paths (`..`, absolute, through symlinks) never make a build
//!   read a file outside its root;
//! - generated graphs of bases (cycles, diamonds, long chains) end in a result or an error,
//!   never a crash, and agree with the oracle;
//! - printing: every string, YAML indicators and line breaks included, reads back unchanged,
//!   and printing what was read prints the same bytes;
//! - strategic merge never panics on arbitrary patches, and an empty patch changes nothing.
//!
//! `PROPTEST_CASES` raises the number of cases (the oracle-backed ones default to few: each
//! case runs kubectl once).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};
use tempfile::TempDir;

/// kustomize's hash alphabet: hexadecimal with 0, 1, 3, a and e replaced by g, h, k, m and t
/// (so that no suffix reads as a word or a number).
const HASH_ALPHABET: &str = "2456789bcdfghkmt";

/// Cases for the properties that run the oracle once per case.
fn oracle_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(24);
    ProptestConfig {
        cases,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    }
}

fn kubectl() -> PathBuf {
    match common::kubectl() {
        Ok(path) => path,
        Err(message) => panic!("{message}"),
    }
}

/// A fresh directory with `files` (path → contents) written in it.
fn tree(files: &[(&str, String)]) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("sluice-kustomize-prop")
        .tempdir()
        .expect("tempdir");
    for (path, contents) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(&path, contents).expect("write");
    }
    dir
}

fn to_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("JSON")
}

/// Builds `dir` with the oracle and with sluice and requires the same outcome: both fail, or
/// the same objects in the same order.
fn agree_with_oracle(dir: &Path) -> Result<(), TestCaseError> {
    let oracle = common::run_kubectl(&kubectl(), dir);
    let ours = sluice_kustomize::build(dir);
    match (oracle, ours) {
        (Err(_), Err(_)) => Ok(()),
        (Ok(expected), Ok(actual)) => {
            let expected = common::parse_documents(&expected).map_err(TestCaseError::fail)?;
            match common::compare_documents(&expected, &actual) {
                None => Ok(()),
                Some(difference) => Err(TestCaseError::fail(format!(
                    "sluice differs from kubectl on\n{}\n{difference}",
                    describe_tree(dir)
                ))),
            }
        }
        (Ok(expected), Err(error)) => Err(TestCaseError::fail(format!(
            "kubectl built\n{}\nbut sluice failed: {error}\nkubectl printed:\n{expected}",
            describe_tree(dir)
        ))),
        (Err(message), Ok(actual)) => Err(TestCaseError::fail(format!(
            "kubectl rejected\n{}\n({}) but sluice built {} objects",
            describe_tree(dir),
            message.trim(),
            actual.len()
        ))),
    }
}

/// The files of a small tree, for failure messages.
fn describe_tree(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(entries) = fs::read_dir(&path) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() && !entry.is_symlink() {
                stack.push(entry);
            } else if let Ok(text) = fs::read_to_string(&entry) {
                let name = entry
                    .strip_prefix(dir)
                    .unwrap_or(&entry)
                    .display()
                    .to_string();
                out.push_str(&format!("--- {name}\n{text}\n"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Generated objects and patches.

fn small_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "d", "e"]).prop_map(str::to_owned)
}

fn small_text() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,5}"
}

fn env_list() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::btree_map(
        prop::sample::select(vec!["X", "Y", "Z"]),
        small_text(),
        0..3,
    )
    .prop_map(|env| {
        env.into_iter()
            .map(|(n, v)| json!({"name": n, "value": v}))
            .collect()
    })
}

fn ports() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::btree_set(prop::sample::select(vec![80_u16, 443, 8080]), 0..3).prop_map(
        |ports| {
            ports
                .into_iter()
                .map(|p| json!({"containerPort": p}))
                .collect()
        },
    )
}

fn container(name: String) -> impl Strategy<Value = Value> {
    (
        small_text(),
        prop::option::of(env_list()),
        prop::option::of(ports()),
        prop::option::of(prop::collection::vec(small_text(), 0..3)),
    )
        .prop_map(move |(image, env, ports, args)| {
            let mut c = json!({"name": name, "image": format!("{image}:1")});
            if let Some(env) = env {
                c["env"] = Value::Array(env);
            }
            if let Some(ports) = ports {
                c["ports"] = Value::Array(ports);
            }
            if let Some(args) = args {
                c["args"] = json!(args);
            }
            c
        })
}

fn deployment() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("[a-d]", small_text(), 0..3),
        1_u8..5,
        prop::collection::btree_set(small_name(), 1..4),
        prop::collection::btree_set(small_name(), 0..3),
    )
        .prop_flat_map(|(labels, replicas, names, volumes)| {
            let containers: Vec<_> = names.into_iter().map(container).collect();
            (Just(labels), Just(replicas), containers, Just(volumes))
        })
        .prop_map(|(labels, replicas, containers, volumes)| {
            let volumes: Vec<Value> = volumes
                .into_iter()
                .map(|v| json!({"name": v, "emptyDir": {}}))
                .collect();
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "target", "labels": labels},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": "target"}},
                    "template": {
                        "metadata": {"labels": {"app": "target"}},
                        "spec": {"containers": containers, "volumes": volumes},
                    },
                },
            })
        })
}

/// A strategic merge patch element for a container: changes, or a `$patch` directive.
fn container_patch(name: String) -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => container(name.clone()).prop_map(|mut c| {
            // Patches usually leave the image alone.
            if c["image"].as_str().is_some_and(|i| i.starts_with('a'))
                && let Some(map) = c.as_object_mut()
            {
                map.remove("image");
            }
            c
        }),
        1 => Just(json!({"name": name.clone(), "$patch": "delete"})),
        1 => container(name.clone()).prop_map(|mut c| {
            c["$patch"] = json!("replace");
            c
        }),
        1 => Just(json!({"name": name.clone(), "env": [{"name": "X", "$patch": "delete"}]})),
        1 => Just(json!({"name": name.clone(), "image": null})),
    ]
}

fn strategic_patch() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(
            "[a-e]",
            prop_oneof![3 => small_text().prop_map(Value::from), 1 => Just(Value::Null)],
            0..3,
        ),
        prop::option::of(prop_oneof![
            (1_u8..9).prop_map(Value::from),
            Just(Value::Null)
        ]),
        prop::collection::btree_set(
            prop::sample::select(vec!["a", "b", "c", "d", "e", "f"]),
            0..4,
        ),
        prop::option::of(prop::collection::btree_map(
            small_name(),
            prop_oneof![
                Just(json!({"emptyDir": {}})),
                Just(json!({"$patch": "delete"})),
                Just(json!({"configMap": {"name": "cm"}})),
            ],
            0..3,
        )),
        prop::sample::select(vec![None, Some("replace"), Some("merge"), Some("delete")]),
    )
        .prop_flat_map(|(labels, replicas, names, volumes, directive)| {
            let containers: Vec<_> = names
                .into_iter()
                .map(|n| container_patch(n.to_owned()))
                .collect();
            (
                Just(labels),
                Just(replicas),
                containers,
                Just(volumes),
                Just(directive),
            )
        })
        .prop_map(|(labels, replicas, containers, volumes, directive)| {
            let mut spec = Map::new();
            if let Some(replicas) = replicas {
                spec.insert("replicas".into(), replicas);
            }
            let mut pod = Map::new();
            if !containers.is_empty() {
                pod.insert("containers".into(), Value::Array(containers));
            }
            if let Some(volumes) = volumes {
                let volumes = volumes
                    .into_iter()
                    .map(|(name, mut v)| {
                        v["name"] = json!(name);
                        v
                    })
                    .collect();
                pod.insert("volumes".into(), Value::Array(volumes));
            }
            if !pod.is_empty() {
                spec.insert("template".into(), json!({"spec": pod}));
            }
            let mut patch = json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "target", "labels": labels},
                "spec": spec,
            });
            // A directive on the spec: rarely on the whole object (delete would drop it).
            match directive {
                Some("delete") => patch["$patch"] = json!("delete"),
                Some(other) => patch["spec"]["$patch"] = json!(other),
                None => {}
            }
            patch
        })
}

/// JSON pointers into a Deployment, some there and some not.
fn pointer() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "/metadata/labels",
        "/metadata/labels/a",
        "/metadata/labels/z",
        "/metadata/annotations",
        "/metadata/annotations/x~1y",
        "/spec/replicas",
        "/spec/paused",
        "/spec/template/spec/containers/0",
        "/spec/template/spec/containers/1",
        "/spec/template/spec/containers/-",
        "/spec/template/spec/containers/0/image",
        "/spec/template/spec/containers/0/env",
        "/spec/template/spec/containers/0/env/0",
        "/spec/template/spec/containers/0/env/-",
        "/spec/template/spec/containers/0/args/0",
        "/spec/template/spec/volumes/0",
        "/spec/template/spec/volumes/9",
        "/spec/missing/deeper",
        "/spec",
    ])
    .prop_map(str::to_owned)
}

fn patch_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        small_text().prop_map(Value::from),
        (0_u8..10).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(json!({"name": "X", "value": "v"})),
        Just(json!({"a": "b"})),
        Just(json!([])),
        Just(json!({"name": "n", "image": "n:1"})),
    ]
}

fn json_operation() -> impl Strategy<Value = Value> {
    (
        // Weighted so that about half of the generated patches apply.
        prop::sample::select(vec![
            "add", "add", "add", "replace", "replace", "remove", "move", "copy", "test",
        ]),
        pointer(),
        pointer(),
        patch_value(),
    )
        .prop_map(|(op, path, from, value)| match op {
            "remove" => json!({"op": op, "path": path}),
            "move" | "copy" => json!({"op": op, "from": from, "path": path}),
            _ => json!({"op": op, "path": path, "value": value}),
        })
}

proptest! {
    #![proptest_config(oracle_config())]

    #[test]
    fn strategic_merge_patches_agree_with_kustomize(base in deployment(), patch in strategic_patch()) {
        let dir = tree(&[
            ("deployment.json", to_json(&base)),
            ("patch.json", to_json(&patch)),
            ("kustomization.yaml", "resources:\n- deployment.json\npatches:\n- path: patch.json\n".to_owned()),
        ]);
        agree_with_oracle(dir.path())?;
    }

    #[test]
    fn json_patches_agree_with_kustomize(
        base in deployment(),
        operations in prop::collection::vec(json_operation(), 1..4),
    ) {
        let kustomization = json!({
            "resources": ["deployment.json"],
            "patches": [{"target": {"kind": "Deployment", "name": "target"}, "path": "ops.json"}],
        });
        let dir = tree(&[
            ("deployment.json", to_json(&base)),
            ("ops.json", to_json(&Value::Array(operations))),
            ("kustomization.yaml", to_json(&kustomization)),
        ]);
        agree_with_oracle(dir.path())?;
    }

    #[test]
    fn generated_names_agree_with_kustomize(
        literals in prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_.-]{0,8}", "[ -~]{0,12}", 0..5),
        files in prop::collection::btree_map("[a-z]{1,6}\\.txt", "[ -~\n]{0,40}", 0..3),
        secret in any::<bool>(),
    ) {
        let dir = generator_tree(&literals, &files, secret);
        agree_with_oracle(dir.path())?;
    }

    #[test]
    fn graphs_of_bases_agree_with_kustomize(edges in base_graph()) {
        let dir = graph_tree(&edges);
        agree_with_oracle(dir.path())?;
    }
}

// ---------------------------------------------------------------------------------------------
// The generator name hash.

/// A kustomization with one generator of the given literals and files.
fn generator_tree(
    literals: &BTreeMap<String, String>,
    files: &BTreeMap<String, String>,
    secret: bool,
) -> TempDir {
    // Quoted, so that a value such as `yes` or `1e3` stays a string in the kustomization.
    let literals: Vec<Value> = literals
        .iter()
        .map(|(k, v)| Value::String(format!("{k}={v}")))
        .collect();
    let generator = json!({
        "name": "generated",
        "literals": literals,
        "files": files.keys().collect::<Vec<_>>(),
    });
    let field = if secret {
        "secretGenerator"
    } else {
        "configMapGenerator"
    };
    let mut contents: Vec<(&str, String)> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.clone()))
        .collect();
    contents.push((
        "kustomization.yaml",
        to_json(&json!({ field: [generator] })),
    ));
    tree(&contents)
}

/// The suffix kustomize added to `generated`.
fn suffix_of(objects: &[Value]) -> Result<String, TestCaseError> {
    let name = objects
        .iter()
        .find_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
        .ok_or_else(|| TestCaseError::fail("no generated object"))?;
    name.strip_prefix("generated-")
        .map(str::to_owned)
        .ok_or_else(|| TestCaseError::fail(format!("{name} has no hash suffix")))
}

fn build_suffix(dir: &Path) -> Result<String, TestCaseError> {
    let objects = sluice_kustomize::build(dir)
        .map_err(|e| TestCaseError::fail(format!("build failed: {e}\n{}", describe_tree(dir))))?;
    suffix_of(&objects)
}

fn literal_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        "[A-Za-z_][A-Za-z0-9_]{0,8}",
        "[a-zA-Z0-9 ._:/-]{0,16}",
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_hash_is_ten_characters_of_kustomizes_alphabet(
        literals in literal_map(),
        secret in any::<bool>(),
    ) {
        let dir = generator_tree(&literals, &BTreeMap::new(), secret);
        let suffix = build_suffix(dir.path())?;
        prop_assert_eq!(suffix.len(), 10, "suffix {}", suffix);
        prop_assert!(suffix.chars().all(|c| HASH_ALPHABET.contains(c)), "suffix {}", suffix);
    }

    #[test]
    fn the_hash_depends_on_the_content_not_on_the_build_or_the_place(
        literals in literal_map(),
        secret in any::<bool>(),
    ) {
        let here = generator_tree(&literals, &BTreeMap::new(), secret);
        let there = generator_tree(&literals, &BTreeMap::new(), secret);
        let first = build_suffix(here.path())?;
        prop_assert_eq!(&first, &build_suffix(here.path())?, "a rebuild changed the hash");
        prop_assert_eq!(&first, &build_suffix(there.path())?, "another directory changed the hash");
    }

    #[test]
    fn the_hash_ignores_the_order_of_literals(literals in literal_map(), secret in any::<bool>()) {
        let forward = generator_tree(&literals, &BTreeMap::new(), secret);
        // The same literals listed in reverse order.
        let reversed: Vec<Value> =
            literals.iter().rev().map(|(k, v)| Value::String(format!("{k}={v}"))).collect();
        let field = if secret { "secretGenerator" } else { "configMapGenerator" };
        let backward = tree(&[(
            "kustomization.yaml",
            to_json(&json!({ field: [{"name": "generated", "literals": reversed}] })),
        )]);
        prop_assert_eq!(build_suffix(forward.path())?, build_suffix(backward.path())?);
    }

    #[test]
    fn the_hash_changes_with_the_content(
        literals in literal_map(),
        other in literal_map(),
        secret in any::<bool>(),
    ) {
        prop_assume!(literals != other);
        let a = generator_tree(&literals, &BTreeMap::new(), secret);
        let b = generator_tree(&other, &BTreeMap::new(), secret);
        prop_assert_ne!(build_suffix(a.path())?, build_suffix(b.path())?);
    }

    #[test]
    fn the_hash_of_a_config_map_differs_from_the_secret_with_the_same_data(literals in literal_map()) {
        let config_map = generator_tree(&literals, &BTreeMap::new(), false);
        let secret = generator_tree(&literals, &BTreeMap::new(), true);
        prop_assert_ne!(build_suffix(config_map.path())?, build_suffix(secret.path())?);
    }
}

// ---------------------------------------------------------------------------------------------
// Path confinement.

/// Written in files outside the build root: it must never show up in a build.
const MARKER: &str = "outside-the-root-7f3c9d";

/// Path segments that build references and symlink targets from.
fn segment() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "..",
        "..",
        ".",
        "",
        "sub",
        "ok.yaml",
        "secret.yaml",
        "secret.txt",
        "root",
        "link0",
        "link1",
        "sublink",
        "kustomization.yaml",
        "~",
        "%2e%2e",
    ])
    .prop_map(str::to_owned)
}

/// A path as a kustomization may spell it: relative, absolute, or absolute into the outer
/// directory (`{outer}` is replaced when the tree is written).
fn reference() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "/", "{outer}/", "./", "sub/"]),
        prop::collection::vec(segment(), 1..5),
    )
        .prop_map(|(prefix, segments)| format!("{prefix}{}", segments.join("/")))
}

/// A symlink target.
fn link_target() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => reference(),
        1 => prop::sample::select(vec![
            "../secret.yaml", "../secret.txt", "..", "../..", "{outer}/secret.yaml", "{outer}",
            "/etc/passwd", "/", "ok.yaml", "sub", "link0", "missing", ".",
        ]).prop_map(str::to_owned),
    ]
}

#[derive(Debug, Clone)]
struct Confinement {
    resources: Vec<String>,
    generator_files: Vec<String>,
    patch: Option<String>,
    links: Vec<(String, String)>,
}

fn confinement() -> impl Strategy<Value = Confinement> {
    (
        prop::collection::vec(reference(), 0..4),
        prop::collection::vec(reference(), 0..3),
        prop::option::of(reference()),
        prop::collection::vec(
            (
                prop::sample::select(vec!["link0", "link1", "sub/sublink", "sub/link0"]),
                link_target(),
            ),
            0..4,
        ),
    )
        .prop_map(|(resources, generator_files, patch, links)| Confinement {
            resources,
            generator_files,
            patch,
            links: links.into_iter().map(|(l, t)| (l.to_owned(), t)).collect(),
        })
}

/// `outer/` holds bait (a kustomization, a resource and a text file carrying [`MARKER`]);
/// `outer/root/` is the build root, with a resource, a sub-kustomization, the generated links
/// and a kustomization using the generated references.
fn confinement_tree(case: &Confinement) -> (TempDir, PathBuf) {
    let outer = tempfile::Builder::new()
        .prefix("sluice-confine")
        .tempdir()
        .expect("tempdir");
    let o = outer.path();
    let fill = |s: &str| s.replace("{outer}", &o.display().to_string());
    let bait = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\ndata:\n  marker: {MARKER}\n"
    );
    let root = o.join("root");
    fs::create_dir_all(root.join("sub")).expect("mkdir");
    fs::write(o.join("secret.yaml"), &bait).expect("write");
    fs::write(o.join("secret.txt"), MARKER).expect("write");
    fs::write(o.join("kustomization.yaml"), "resources:\n- secret.yaml\n").expect("write");
    fs::write(
        root.join("ok.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\ndata:\n  a: b\n",
    )
    .expect("write");
    fs::write(
        root.join("sub/kustomization.yaml"),
        "resources:\n- ../ok.yaml\n",
    )
    .expect("write");
    for (link, target) in &case.links {
        let _ = std::os::unix::fs::symlink(fill(target), root.join(link));
    }
    let mut kustomization = json!({
        "resources": case.resources.iter().map(|r| fill(r)).collect::<Vec<_>>(),
    });
    if !case.generator_files.is_empty() {
        let files: Vec<String> = case
            .generator_files
            .iter()
            .enumerate()
            .map(|(i, f)| format!("key{i}={}", fill(f)))
            .collect();
        kustomization["configMapGenerator"] = json!([{"name": "files", "files": files}]);
    }
    if let Some(patch) = &case.patch {
        kustomization["patches"] = json!([{"path": fill(patch)}]);
    }
    fs::write(root.join("kustomization.yaml"), to_json(&kustomization)).expect("write");
    (outer, root)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_build_reads_a_file_outside_its_root(case in confinement()) {
        let (_outer, root) = confinement_tree(&case);
        if let Ok(objects) = sluice_kustomize::build(&root) {
            let printed = sluice_kustomize::to_yaml(&objects);
            prop_assert!(
                !printed.contains(MARKER) && !printed.contains("name: leaked"),
                "a build read outside {}:\n{}\nprinted:\n{}",
                root.display(),
                describe_tree(&root),
                printed
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Graphs of bases: cycles, diamonds, long chains.

/// Up to 6 bases `d0`..`d5`, each listing some others (by index) as resources. `d0` is the root.
fn base_graph() -> impl Strategy<Value = Vec<BTreeSet<usize>>> {
    (1_usize..7)
        .prop_flat_map(|n| prop::collection::vec(prop::collection::btree_set(0..n, 0..3), n))
}

fn graph_tree(edges: &[BTreeSet<usize>]) -> TempDir {
    let mut files = Vec::new();
    for (index, targets) in edges.iter().enumerate() {
        let mut resources = vec![format!("cm{index}.yaml")];
        resources.extend(targets.iter().map(|t| format!("../d{t}")));
        let kustomization = json!({"namePrefix": format!("p{index}-"), "resources": resources});
        files.push((
            format!("d{index}/kustomization.yaml"),
            to_json(&kustomization),
        ));
        files.push((
            format!("d{index}/cm{index}.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{index}\n"),
        ));
    }
    files.push((
        "kustomization.yaml".to_owned(),
        "resources:\n- d0\n".to_owned(),
    ));
    let files: Vec<(&str, String)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    tree(&files)
}

/// A chain of `depth` bases, each including the next.
fn chain_tree(depth: usize) -> TempDir {
    let dir = tempfile::Builder::new()
        .prefix("sluice-chain")
        .tempdir()
        .expect("tempdir");
    let mut path = dir.path().to_path_buf();
    for level in 0..depth {
        fs::create_dir_all(&path).expect("mkdir");
        let next = if level + 1 < depth { "- n\n" } else { "" };
        fs::write(
            path.join("kustomization.yaml"),
            format!("resources:\n- cm.yaml\n{next}"),
        )
        .expect("write");
        fs::write(
            path.join("cm.yaml"),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: level{level}\n"),
        )
        .expect("write");
        path.push("n");
    }
    dir
}

#[test]
fn a_very_deep_chain_of_bases_ends_without_overflowing_the_stack() {
    // 600 levels: deeper than any real tree, and the path stays under PATH_MAX. Run on a thread
    // with a small stack, as a controller's worker might: the build must return, either the
    // objects or an error, not crash the process.
    let dir = chain_tree(600);
    let root = dir.path().to_path_buf();
    let outcome = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || sluice_kustomize::build(&root).map(|objects| objects.len()))
        .expect("spawn")
        .join()
        .expect("the build panicked");
    if let Ok(count) = outcome {
        assert_eq!(count, 600, "a successful build has one object per level");
    }
}

#[test]
fn a_symlink_to_an_ancestor_is_a_cycle_not_an_endless_descent() {
    let dir = tree(&[
        ("kustomization.yaml", "resources:\n- a\n".to_owned()),
        ("a/kustomization.yaml", "resources:\n- loop/a\n".to_owned()),
    ]);
    std::os::unix::fs::symlink("..", dir.path().join("a/loop")).expect("symlink");
    let error = sluice_kustomize::build(dir.path()).expect_err("a cycle must fail");
    assert!(!error.to_string().is_empty());
}

// Printing and robustness, without the oracle: what sluice prints reads back as the same
// data and prints the same again; strategic merge takes any patch without panicking, and an
// empty patch changes nothing.

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
