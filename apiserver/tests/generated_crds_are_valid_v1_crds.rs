//! Every CustomResourceDefinition we generate into `manifests/crds/` must be one a real
//! kube-apiserver accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::path::PathBuf;

use sluice_apiserver::crd::validate_crd;

fn crd_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../manifests/crds");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn generated_crds_are_valid_v1_crds() {
    let files = crd_files();
    assert!(!files.is_empty(), "no CRDs found in manifests/crds");
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable CRD file");
        let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: not YAML: {e}", file.display()));
        for (i, document) in documents.iter().enumerate() {
            if document.is_null() {
                continue;
            }
            checked += 1;
            for error in validate_crd(document) {
                failures.push(format!("{} (document {i}): {error}", file.display()));
            }
        }
    }
    assert!(checked > 0, "no CRD documents in {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} errors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
