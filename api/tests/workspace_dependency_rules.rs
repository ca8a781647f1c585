//! The dependency rules of DESIGN.md, checked on the real workspace with `cargo metadata`:
//!
//! - `api` depends on no crate of ours (not even for tests);
//! - `patch` depends on no crate of ours; the engines (`kustomize`, `helm`) and `apiserver`
//!   depend on none except `patch`;
//! - `runtime` depends only on `api` and `patch`;
//! - no controller crate depends on another controller crate, in any way;
//! - controllers use `testkit` and `apiserver` only as dev-dependencies;
//! - `testkit` depends on no controller.
//!
//! The rules live in this test because `api` is the bottom of the graph; the test reads
//! the workspace, it does not depend on it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::collections::BTreeMap;
use std::process::Command;

/// One dependency edge between two crates of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
    /// `normal`, `dev` or `build`.
    kind: String,
}

fn is_controller(name: &str) -> bool {
    name.ends_with("-controller")
}

/// Every rule broken by `edges`, as readable sentences.
fn violations(edges: &[Edge]) -> Vec<String> {
    let mut out = Vec::new();
    for edge in edges {
        let Edge { from, to, kind } = edge;
        let broken = match from.as_str() {
            "sluice-api" => Some("api depends on no crate of ours"),
            "sluice-patch" => Some("patch depends on no crate of ours"),
            "sluice-kustomize" | "sluice-helm" | "sluice-apiserver" if to != "sluice-patch" => {
                Some("engines and the apiserver depend on no crate of ours except patch")
            }
            "sluice-runtime" if to != "sluice-api" && to != "sluice-patch" => {
                Some("runtime depends only on api and patch")
            }
            "sluice-testkit" if is_controller(to) => Some("testkit depends on no controller"),
            from if is_controller(from) && is_controller(to) => {
                Some("a controller never depends on another controller")
            }
            from if is_controller(from)
                && (to == "sluice-testkit" || to == "sluice-apiserver")
                && kind != "dev" =>
            {
                Some("controllers use testkit and apiserver only as dev-dependencies")
            }
            _ => None,
        };
        if let Some(rule) = broken {
            out.push(format!("{from} -> {to} ({kind}): {rule}"));
        }
    }
    out
}

/// The edges between workspace crates, from `cargo metadata`.
fn workspace_edges() -> Vec<Edge> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let ours: BTreeMap<&str, ()> = packages
        .iter()
        .filter_map(|p| p["name"].as_str())
        .map(|n| (n, ()))
        .collect();
    let mut edges = Vec::new();
    for package in packages {
        let from = package["name"].as_str().expect("name");
        for dependency in package["dependencies"].as_array().into_iter().flatten() {
            let to = dependency["name"].as_str().expect("dependency name");
            if ours.contains_key(to) {
                let kind = dependency["kind"].as_str().unwrap_or("normal").to_owned();
                edges.push(Edge {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    kind,
                });
            }
        }
    }
    edges
}

#[test]
fn workspace_crates_follow_the_dependency_rules() {
    let edges = workspace_edges();
    let broken = violations(&edges);
    assert!(
        broken.is_empty(),
        "dependency rules broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_rules_catch_forbidden_edges() {
    let edge = |from: &str, to: &str, kind: &str| Edge {
        from: from.into(),
        to: to.into(),
        kind: kind.into(),
    };
    let allowed = [
        edge("sluice-runtime", "sluice-api", "normal"),
        edge("sluice-source-controller", "sluice-runtime", "normal"),
        edge("sluice-source-controller", "sluice-testkit", "dev"),
        edge("sluice-source-controller", "sluice-apiserver", "dev"),
        edge("sluice-kustomize", "sluice-patch", "normal"),
        edge("sluice-cli", "sluice-kustomize-controller", "normal"),
    ];
    assert!(
        violations(&allowed).is_empty(),
        "{:?}",
        violations(&allowed)
    );
    let forbidden = [
        edge("sluice-api", "sluice-runtime", "dev"),
        edge(
            "sluice-kustomize-controller",
            "sluice-source-controller",
            "normal",
        ),
        edge(
            "sluice-helm-controller",
            "sluice-kustomize-controller",
            "dev",
        ),
        edge("sluice-source-controller", "sluice-apiserver", "normal"),
        edge("sluice-apiserver", "sluice-api", "normal"),
        edge("sluice-kustomize", "sluice-runtime", "normal"),
        edge("sluice-testkit", "sluice-source-controller", "normal"),
        edge("sluice-runtime", "sluice-kustomize", "normal"),
    ];
    assert_eq!(
        violations(&forbidden).len(),
        forbidden.len(),
        "{:?}",
        violations(&forbidden)
    );
}
