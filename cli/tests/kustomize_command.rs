//! `sluice kustomize DIR`: prints the build on stdout, fails with the error on stderr.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::process::Command;

fn sluice() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
}

#[test]
fn prints_the_build_as_kustomize_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "namePrefix: p-\nconfigMapGenerator:\n- name: app-config\n  literals: [a=1, b=two]\n",
    )
    .expect("write");
    let out = sluice()
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf-8"),
        "apiVersion: v1\ndata:\n  a: \"1\"\n  b: two\nkind: ConfigMap\nmetadata:\n  name: p-app-config-5m9tg7g54f\n"
    );
}

#[test]
fn fails_with_the_error_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [missing.yaml]\n",
    )
    .expect("write");
    let out = sluice()
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("missing.yaml"), "{stderr}");
}

#[test]
fn deprecation_warnings_go_to_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "commonLabels: {a: b}\nresources: [cm.yaml]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .expect("write");
    let out = sluice()
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert!(stderr.contains("'commonLabels' is deprecated"), "{stderr}");
    assert!(
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .contains("  labels:\n    a: b\n")
    );
}
