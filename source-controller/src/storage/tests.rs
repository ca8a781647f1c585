use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use sluice_runtime::artifact::{Digest, DigestAlgorithm};

use super::*;
use crate::ignore::{IgnoreRules, parse_patterns};

fn storage_with(root: &Path, address: &str, ttl: Duration, records: usize) -> Storage {
    Storage::new(StorageOptions {
        root: root.to_owned(),
        advertised_address: address.to_owned(),
        retention_ttl: ttl,
        retention_records: records,
        digest_algorithm: DigestAlgorithm::Sha256,
    })
    .unwrap()
}

fn storage(root: &Path) -> Storage {
    storage_with(
        root,
        "source-controller.flux-system.svc.cluster.local.",
        Duration::from_secs(60),
        2,
    )
}

fn source_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("apps")).unwrap();
    fs::write(dir.path().join("apps/deploy.yaml"), "kind: Deployment\n").unwrap();
    fs::write(dir.path().join("foo.txt"), "foo\n").unwrap();
    dir
}

#[test]
fn artifact_paths_follow_the_upstream_layout() {
    assert_eq!(
        Storage::artifact_path("GitRepository", "flux-system", "podinfo", "abc.tar.gz").unwrap(),
        "gitrepository/flux-system/podinfo/abc.tar.gz"
    );
    for bad in ["", ".", "..", "a/b"] {
        assert!(
            Storage::artifact_path("GitRepository", bad, "podinfo", "f").is_err(),
            "{bad:?}"
        );
        assert!(
            Storage::artifact_path("GitRepository", "ns", "podinfo", bad).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn urls_are_built_from_the_advertised_address() {
    let root = tempfile::tempdir().unwrap();
    let plain = storage_with(
        root.path(),
        "source-controller.flux-system.svc.cluster.local.",
        Duration::ZERO,
        2,
    );
    assert_eq!(
        plain.url_for("gitrepository/ns/name/abc.tar.gz"),
        "http://source-controller.flux-system.svc.cluster.local./gitrepository/ns/name/abc.tar.gz"
    );
    let prefixed = storage_with(
        root.path(),
        "https://artifacts.example.com/",
        Duration::ZERO,
        2,
    );
    assert_eq!(
        prefixed.url_for("/gitrepository/ns/name/abc.tar.gz"),
        "https://artifacts.example.com/gitrepository/ns/name/abc.tar.gz"
    );
}

#[test]
fn a_changed_advertised_address_rewrites_the_url_and_nothing_else() {
    let root = tempfile::tempdir().unwrap();
    let old = storage_with(root.path(), "old-host:9090", Duration::ZERO, 2);
    let mut artifact = old
        .new_artifact("GitRepository", "ns", "name", "main@sha1:abc", "abc.tar.gz")
        .unwrap();
    let tree = source_tree();
    old.archive(&mut artifact, tree.path(), None).unwrap();
    let (digest, size) = (artifact.digest.clone(), artifact.size);
    let new = storage_with(root.path(), "new-host:9090", Duration::ZERO, 2);
    assert!(new.set_artifact_url(&mut artifact));
    assert_eq!(
        artifact.url,
        "http://new-host:9090/gitrepository/ns/name/abc.tar.gz"
    );
    assert_eq!((artifact.digest.clone(), artifact.size), (digest, size));
    assert!(!new.set_artifact_url(&mut artifact.clone()) || artifact.url.is_empty());
}

#[test]
fn archive_records_the_digest_and_size_of_the_stored_bytes() {
    let root = tempfile::tempdir().unwrap();
    let s = storage(root.path());
    let mut artifact = s
        .new_artifact("GitRepository", "ns", "name", "main@sha1:abc", "abc.tar.gz")
        .unwrap();
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    let path = s.local_path(&artifact.path).unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(artifact.digest, Digest::sha256_of(&bytes).to_string());
    assert_eq!(artifact.size, Some(bytes.len() as i64));
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["abc.tar.gz"]);
    s.verify_artifact(&artifact).unwrap();
}

#[test]
fn other_digest_algorithms_are_recorded_with_their_name() {
    let root = tempfile::tempdir().unwrap();
    let s = Storage::new(StorageOptions {
        root: root.path().to_owned(),
        advertised_address: "localhost:9090".into(),
        retention_ttl: Duration::ZERO,
        retention_records: 2,
        digest_algorithm: DigestAlgorithm::Sha512,
    })
    .unwrap();
    let mut artifact = s
        .new_artifact("Bucket", "ns", "b", "sha256:x", "x.tar.gz")
        .unwrap();
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    assert!(
        artifact.digest.starts_with("sha512:"),
        "{}",
        artifact.digest
    );
    s.verify_artifact(&artifact).unwrap();
}

#[test]
fn archive_leaves_out_ignored_paths() {
    let root = tempfile::tempdir().unwrap();
    let s = storage(root.path());
    let mut artifact = s
        .new_artifact("GitRepository", "ns", "n", "r", "a.tar.gz")
        .unwrap();
    let rules = IgnoreRules::with_defaults(parse_patterns("**.txt", &[]));
    s.archive(&mut artifact, source_tree().path(), Some(&rules))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = fs::File::open(s.local_path(&artifact.path).unwrap()).unwrap();
    sluice_runtime::artifact::extract_tarball(file, out.path(), Default::default()).unwrap();
    assert!(out.path().join("apps/deploy.yaml").is_file());
    assert!(!out.path().join("foo.txt").exists());
}

#[test]
fn archiving_a_missing_directory_fails_without_writing() {
    let root = tempfile::tempdir().unwrap();
    let s = storage(root.path());
    let mut artifact = s
        .new_artifact("GitRepository", "ns", "n", "r", "a.tar.gz")
        .unwrap();
    let err = s
        .archive(&mut artifact, &root.path().join("nope"), None)
        .unwrap_err();
    assert!(err.to_string().contains("invalid dir path"), "{err}");
    assert!(!s.artifact_exists(&artifact));
}

#[test]
fn integrity_check_of_the_current_artifact() {
    let root = tempfile::tempdir().unwrap();
    let s = storage(root.path());
    let mut artifact = s
        .new_artifact("GitRepository", "ns", "n", "r", "a.tar.gz")
        .unwrap();
    assert!(matches!(
        s.check_current(&artifact).unwrap(),
        Integrity::Missing
    ));
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    assert!(matches!(
        s.check_current(&artifact).unwrap(),
        Integrity::Intact
    ));

    // Empty digest: the file is removed.
    let mut no_digest = artifact.clone();
    no_digest.digest.clear();
    match s.check_current(&no_digest).unwrap() {
        Integrity::Corrupt(e) => assert_eq!(e.to_string(), "artifact has no digest"),
        other => panic!("{other:?}"),
    }
    assert!(!s.artifact_exists(&artifact));

    // Wrong digest: the file is removed.
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    let mut wrong = artifact.clone();
    wrong.digest = format!("sha256:{}", "0".repeat(64));
    match s.check_current(&wrong).unwrap() {
        Integrity::Corrupt(e) => assert!(
            e.to_string().starts_with("computed digest doesn't match"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(!s.artifact_exists(&artifact));

    // A symlink in place of the file counts as missing.
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    let path = s.local_path(&artifact.path).unwrap();
    fs::rename(&path, path.with_extension("moved")).unwrap();
    std::os::unix::fs::symlink(path.with_extension("moved"), &path).unwrap();
    assert!(matches!(
        s.check_current(&artifact).unwrap(),
        Integrity::Missing
    ));
}

fn touch(path: &Path, age: Duration) {
    fs::write(path, path.display().to_string()).unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn garbage_collection_drops_expired_artifacts_and_keeps_the_newest_records() {
    // Upstream's reconcileStorage case: a, b, c, d written one second apart, TTL 2s,
    // 2 records: c and d stay.
    let root = tempfile::tempdir().unwrap();
    let s = storage_with(root.path(), "localhost", Duration::from_secs(2), 2);
    let dir = s.object_dir("GitRepository", "ns", "n").unwrap();
    fs::create_dir_all(&dir).unwrap();
    for (name, age) in [("a", 3.5), ("b", 2.5), ("c", 1.5), ("d", 0.5)] {
        touch(&dir.join(name), Duration::from_secs_f64(age));
    }
    touch(&dir.join("a.lock"), Duration::from_secs(10));
    let current = s
        .new_artifact("GitRepository", "ns", "n", "r", "d")
        .unwrap();
    let mut removed: Vec<String> = s
        .garbage_collect(&current)
        .unwrap()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    removed.sort();
    assert_eq!(removed, ["a", "b"]);
    assert!(dir.join("c").exists() && dir.join("d").exists());
    assert!(
        !dir.join("a.lock").exists(),
        "lock files go with their artifact"
    );
}

#[test]
fn garbage_collection_never_removes_the_current_artifact_or_links() {
    let root = tempfile::tempdir().unwrap();
    let s = storage_with(root.path(), "localhost", Duration::from_secs(3600), 2);
    let dir = s.object_dir("OCIRepository", "ns", "n").unwrap();
    fs::create_dir_all(&dir).unwrap();
    // The current artifact is the oldest file.
    for (name, age) in [("cur", 50), ("x", 40), ("y", 30), ("z", 20)] {
        touch(&dir.join(name), Duration::from_secs(age));
    }
    std::os::unix::fs::symlink("cur", dir.join("latest.tar.gz")).unwrap();
    let current = s
        .new_artifact("OCIRepository", "ns", "n", "r", "cur")
        .unwrap();
    let removed = s.garbage_collect(&current).unwrap();
    assert_eq!(removed.len(), 2);
    assert!(dir.join("cur").exists() && dir.join("z").exists());
    assert!(fs::symlink_metadata(dir.join("latest.tar.gz")).is_ok());
}

#[test]
fn locks_serialise_writers_of_the_same_artifact() {
    let root = tempfile::tempdir().unwrap();
    let s = Arc::new(storage(root.path()));
    let artifact = s
        .new_artifact("GitRepository", "ns", "n", "r", "a.tar.gz")
        .unwrap();
    let held = s.lock(&artifact).unwrap();
    let acquired = Arc::new(AtomicBool::new(false));
    let thread = {
        let (s, artifact, acquired) = (Arc::clone(&s), artifact.clone(), Arc::clone(&acquired));
        std::thread::spawn(move || {
            let _lock = s.lock(&artifact).unwrap();
            acquired.store(true, Ordering::SeqCst);
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    assert!(!acquired.load(Ordering::SeqCst), "the second writer waits");
    drop(held);
    thread.join().unwrap();
    assert!(acquired.load(Ordering::SeqCst));
}

#[test]
fn latest_links_point_at_the_artifact_and_can_be_removed() {
    let root = tempfile::tempdir().unwrap();
    let s = storage_with(root.path(), "localhost:9090", Duration::ZERO, 2);
    let mut artifact = s
        .new_artifact("Bucket", "ns", "b", "r", "abc.tar.gz")
        .unwrap();
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    let url = s.symlink(&artifact, "latest.tar.gz").unwrap();
    assert_eq!(url, "http://localhost:9090/bucket/ns/b/latest.tar.gz");
    let link = s.local_path("bucket/ns/b/latest.tar.gz").unwrap();
    assert_eq!(
        fs::read(&link).unwrap(),
        fs::read(s.local_path(&artifact.path).unwrap()).unwrap()
    );
    // Re-linking replaces the link.
    s.symlink(&artifact, "latest.tar.gz").unwrap();
    assert!(s.remove_symlink(&artifact, "latest.tar.gz").unwrap());
    assert!(!s.remove_symlink(&artifact, "latest.tar.gz").unwrap());
    assert!(s.artifact_exists(&artifact));
}

#[test]
fn deleting_an_object_removes_its_directory() {
    let root = tempfile::tempdir().unwrap();
    let s = storage(root.path());
    let mut artifact = s
        .new_artifact("GitRepository", "ns", "n", "r", "a.tar.gz")
        .unwrap();
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    assert!(s.remove_all("GitRepository", "ns", "n").unwrap());
    assert!(!s.object_dir("GitRepository", "ns", "n").unwrap().exists());
    assert!(!s.remove_all("GitRepository", "ns", "n").unwrap());
    assert!(
        root.path().join("gitrepository/ns").is_dir(),
        "only the object's directory goes"
    );
}

#[test]
fn secure_join_stays_under_the_root() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    assert_eq!(secure_join(r, "../../../path").unwrap(), r.join("path"));
    assert_eq!(secure_join(r, "/etc/passwd").unwrap(), r.join("etc/passwd"));
    assert_eq!(secure_join(r, "a/../../b").unwrap(), r.join("b"));
    fs::create_dir(r.join("dir")).unwrap();
    std::os::unix::fs::symlink("/etc", r.join("dir/abs")).unwrap();
    std::os::unix::fs::symlink("../../..", r.join("dir/up")).unwrap();
    assert_eq!(
        secure_join(r, "dir/abs/passwd").unwrap(),
        r.join("etc/passwd")
    );
    assert_eq!(secure_join(r, "dir/up/x").unwrap(), r.join("x"));
    std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
    assert!(secure_join(r, "loop/x").is_err());
}

#[test]
fn copy_to_path_copies_a_subdirectory_of_an_artifact() {
    let root = tempfile::tempdir().unwrap();
    let s = storage(root.path());
    let mut artifact = s
        .new_artifact("GitRepository", "ns", "inc", "r", "a.tar.gz")
        .unwrap();
    s.archive(&mut artifact, source_tree().path(), None)
        .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let target = scratch.path().join("work/included");
    s.copy_to_path(&artifact, "apps", &target, scratch.path())
        .unwrap();
    assert!(target.join("deploy.yaml").is_file());
    let err = s
        .copy_to_path(
            &artifact,
            "../../../path",
            &scratch.path().join("x"),
            scratch.path(),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("No such file or directory"),
        "{err}"
    );
}
