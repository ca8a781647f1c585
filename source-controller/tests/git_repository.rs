#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.
//! GitRepository against the local control plane and real Git servers (smart HTTP(S)
//! through nginx + `git http-backend`, `sshd` with `git-shell`): the reconciler is
//! called directly, one reconcile at a time, so every step is observable.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use common::{GIT_NEGATIVE, Harness, NAMESPACE, assert_condition_invariants, condition};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use sluice_api::meta::FINALIZER;
use sluice_api::meta::conditions::{
    ARTIFACT_IN_STORAGE, ARTIFACT_OUTDATED, FETCH_FAILED, READY, RECONCILING, STALLED,
};
use sluice_api::source::v1::{GitRepository, GitRepositorySpec};
use sluice_runtime::artifact::ArtifactFetcher;
use sluice_source_controller::Error;
use sluice_source_controller::gitrepository::reconcile;
use sluice_testkit::{GitHttpOptions, GitHttpServer, GitRepo, GitSshServer, SshKey};

/// A fixture like upstream's `testdata/git/repository`: a manifest, a `.txt` file the
/// `.sourceignore` leaves out, and symlinks (one pointing outside the repository).
fn fixture(branch: &str) -> GitRepo {
    let repo = GitRepo::init(branch).unwrap();
    repo.write(
        "manifest.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
    )
    .unwrap();
    repo.write("foo.txt", "ignored by .sourceignore\n").unwrap();
    repo.write(".sourceignore", "**.txt\n").unwrap();
    repo.write("apps/app.yaml", "kind: App\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", repo.path().join("passwd")).unwrap();
    std::os::unix::fs::symlink("../manifest.yaml", repo.path().join("apps/link.yaml")).unwrap();
    repo.commit("Initial commit").unwrap();
    repo
}

fn spec(url: &str, f: impl FnOnce(&mut GitRepositorySpec)) -> GitRepositorySpec {
    let mut spec = GitRepositorySpec {
        url: url.to_owned(),
        interval: "5m".to_owned(),
        ..GitRepositorySpec::default()
    };
    f(&mut spec);
    spec
}

fn branch(name: &str) -> sluice_api::source::v1::GitRepositoryRef {
    sluice_api::source::v1::GitRepositoryRef {
        branch: Some(name.to_owned()),
        ..Default::default()
    }
}

fn api(h: &Harness) -> Api<GitRepository> {
    Api::namespaced(h.client.clone(), NAMESPACE)
}

async fn create(h: &Harness, name: &str, spec: GitRepositorySpec) -> GitRepository {
    api(h)
        .create(&PostParams::default(), &GitRepository::new(name, spec))
        .await
        .unwrap()
}

/// One reconcile of the stored object; returns its outcome and the object after it,
/// with the condition invariants checked.
async fn reconcile_once(h: &Harness, name: &str) -> (Result<Action, Error>, GitRepository) {
    let object = api(h).get(name).await.unwrap();
    let result = reconcile(Arc::new(object), Arc::clone(&h.context)).await;
    let after = api(h).get(name).await.unwrap();
    let status = after.status.clone().unwrap_or_default();
    assert_condition_invariants(&after, &status, GIT_NEGATIVE);
    (result, after)
}

async fn update_spec(h: &Harness, name: &str, f: impl FnOnce(&mut GitRepositorySpec)) {
    let mut object = api(h).get(name).await.unwrap();
    f(&mut object.spec);
    api(h)
        .replace(name, &PostParams::default(), &object)
        .await
        .unwrap();
}

/// Downloads the artifact from its URL (the digest is checked by the fetcher) and
/// returns the files in it.
async fn served_files(object: &GitRepository) -> (tempfile::TempDir, BTreeSet<String>) {
    let artifact = object.status.as_ref().unwrap().artifact.clone().unwrap();
    let (dir, _) = ArtifactFetcher::new()
        .fetch_to_temp_dir(&artifact.url, &artifact.digest)
        .await
        .unwrap();
    let mut files = BTreeSet::new();
    collect(dir.path(), dir.path(), &mut files);
    (dir, files)
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        assert!(
            !kind.is_symlink(),
            "symlink {} in the artifact",
            path.display()
        );
        if kind.is_dir() {
            collect(root, &path, out);
        } else {
            out.insert(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn revision(object: &GitRepository) -> String {
    object
        .status
        .as_ref()
        .unwrap()
        .artifact
        .as_ref()
        .unwrap()
        .revision
        .clone()
}

#[tokio::test]
async fn an_http_repository_becomes_ready_with_its_artifact_served() {
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let repo = fixture("main");
    let head = repo.head().unwrap();
    let url = git.publish(&repo, "repo.git").unwrap();
    create(
        &h,
        "podinfo",
        spec(&url, |s| s.reference = Some(branch("main"))),
    )
    .await;

    let (result, object) = reconcile_once(&h, "podinfo").await;
    assert!(result.is_ok(), "{result:?}");
    assert!(object.finalizers().iter().any(|f| f == FINALIZER));
    let status = object.status.clone().unwrap();
    assert_eq!(status.observed_generation, object.metadata.generation);
    let ready = condition(&status, READY);
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("True", "Succeeded")
    );
    assert_eq!(
        ready.message,
        format!("stored artifact for revision 'main@sha1:{head}'")
    );
    let artifact = status.artifact.clone().unwrap();
    assert_eq!(artifact.revision, format!("main@sha1:{head}"));
    assert_eq!(
        artifact.path,
        format!("gitrepository/default/podinfo/{head}.tar.gz")
    );
    assert!(artifact.digest.starts_with("sha256:"));

    // .sourceignore leaves foo.txt out; .git and both symlinks never reach the artifact.
    let (_dir, files) = served_files(&object).await;
    assert_eq!(
        files,
        set(&[".sourceignore", "apps/app.yaml", "manifest.yaml"])
    );

    let events = h.events_for("podinfo").await;
    assert!(
        events.iter().any(|(t, reason, message)| t == "Normal"
            && reason == "NewArtifact"
            && message == "stored artifact for commit 'Initial commit'"),
        "{events:?}"
    );

    // Nothing changed upstream: no new artifact, same update time.
    let (result, again) = reconcile_once(&h, "podinfo").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        again.status.clone().unwrap().artifact,
        Some(artifact.clone())
    );

    // A new commit becomes a new artifact; the previous file is kept (retention 2).
    repo.commit_files(&[("apps/app.yaml", "kind: App2\n")], "Second commit")
        .unwrap();
    let second = repo.head().unwrap();
    repo.push(
        &git.repo_root().join("repo.git").display().to_string(),
        &["main"],
        &[],
    )
    .unwrap();
    let (result, object) = reconcile_once(&h, "podinfo").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(revision(&object), format!("main@sha1:{second}"));
    let dir = h.storage_dir.path().join("gitrepository/default/podinfo");
    assert!(dir.join(format!("{head}.tar.gz")).is_file());
    assert!(dir.join(format!("{second}.tar.gz")).is_file());

    // spec.ignore re-includes the .txt file: same revision, rebuilt artifact.
    let digest = object.status.clone().unwrap().artifact.unwrap().digest;
    update_spec(&h, "podinfo", |s| s.ignore = Some("!**.txt\n".into())).await;
    let (result, object) = reconcile_once(&h, "podinfo").await;
    assert!(result.is_ok(), "{result:?}");
    let status = object.status.clone().unwrap();
    assert_eq!(status.observed_ignore.as_deref(), Some("!**.txt\n"));
    assert_ne!(status.artifact.clone().unwrap().digest, digest);
    let (_dir, files) = served_files(&object).await;
    assert!(files.contains("foo.txt"), "{files:?}");

    h.stop().await;
}

#[tokio::test]
async fn references_resolve_to_upstream_revisions() {
    // [G4] the checkout matrix.
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let repo = GitRepo::init("master").unwrap();
    let mut commits = std::collections::BTreeMap::new();
    for (i, tag) in [
        "non-semver-tag",
        "v0.1.0",
        "0.2.0",
        "v0.2.1",
        "v1.0.0-alpha",
        "v1.1.0",
        "v2.0.0",
    ]
    .into_iter()
    .enumerate()
    {
        let commit = repo
            .commit_files(&[("file.txt", &format!("{i}\n"))], &format!("commit {tag}"))
            .unwrap();
        if tag == "v0.2.1" {
            repo.annotated_tag(tag, "an annotated tag").unwrap();
        } else {
            repo.tag(tag).unwrap();
        }
        commits.insert(tag, commit);
    }
    let master = repo.head().unwrap();
    repo.branch("staging").unwrap();
    let staging = repo
        .commit_files(&[("staging.txt", "s\n")], "on staging")
        .unwrap();
    let url = git.publish(&repo, "matrix.git").unwrap();
    let pull = repo
        .commit_files(&[("pr.txt", "p\n")], "a pull request")
        .unwrap();
    repo.push(
        &git.repo_root().join("matrix.git").display().to_string(),
        &["HEAD:refs/pull/420/head"],
        &[],
    )
    .unwrap();

    use sluice_api::source::v1::GitRepositoryRef as Ref;
    let cases: Vec<(&str, Option<Ref>, String)> = vec![
        ("default", None, format!("master@sha1:{master}")),
        (
            "branch",
            Some(branch("staging")),
            format!("staging@sha1:{staging}"),
        ),
        (
            "tag",
            Some(Ref {
                tag: Some("v0.1.0".into()),
                ..Ref::default()
            }),
            format!("v0.1.0@sha1:{}", commits["v0.1.0"]),
        ),
        (
            "annotated",
            Some(Ref {
                tag: Some("v0.2.1".into()),
                ..Ref::default()
            }),
            format!("v0.2.1@sha1:{}", commits["v0.2.1"]),
        ),
        (
            "semver-any",
            Some(Ref {
                semver: Some("*".into()),
                ..Ref::default()
            }),
            format!("v2.0.0@sha1:{}", commits["v2.0.0"]),
        ),
        (
            "semver-below",
            Some(Ref {
                semver: Some("<v0.2.1".into()),
                ..Ref::default()
            }),
            format!("0.2.0@sha1:{}", commits["0.2.0"]),
        ),
        (
            "semver-pre",
            Some(Ref {
                semver: Some(">=1.0.0-0 <1.1.0-0".into()),
                ..Ref::default()
            }),
            format!("v1.0.0-alpha@sha1:{}", commits["v1.0.0-alpha"]),
        ),
        (
            "name-branch",
            Some(Ref {
                name: Some("refs/heads/staging".into()),
                ..Ref::default()
            }),
            format!("refs/heads/staging@sha1:{staging}"),
        ),
        (
            "name-pull",
            Some(Ref {
                name: Some("refs/pull/420/head".into()),
                ..Ref::default()
            }),
            format!("refs/pull/420/head@sha1:{pull}"),
        ),
        (
            "commit",
            Some(Ref {
                commit: Some(commits["v1.1.0"].clone()),
                ..Ref::default()
            }),
            format!("sha1:{}", commits["v1.1.0"]),
        ),
        (
            "branch-commit",
            Some(Ref {
                branch: Some("staging".into()),
                commit: Some(commits["v0.1.0"].clone()),
                ..Ref::default()
            }),
            format!("staging@sha1:{}", commits["v0.1.0"]),
        ),
    ];
    for (name, reference, expected) in cases {
        create(&h, name, spec(&url, |s| s.reference = reference)).await;
        let (result, object) = reconcile_once(&h, name).await;
        assert!(result.is_ok(), "{name}: {result:?}");
        assert_eq!(revision(&object), expected, "{name}");
    }
    h.stop().await;
}

#[tokio::test]
async fn basic_auth_over_https_with_a_private_ca() {
    let h = Harness::start(&[]).await;
    let git =
        GitHttpServer::start(GitHttpOptions::basic_auth("gituser", "gitpass").with_tls()).unwrap();
    let repo = fixture("main");
    git.publish(&repo, "repo.git").unwrap();
    let url = git.https_url("repo.git").unwrap();
    let ca = git.ca().unwrap().ca_pem().to_owned();
    h.secret(
        "auth",
        &[
            ("username", "gituser"),
            ("password", "gitpass"),
            ("ca.crt", &ca),
        ],
    )
    .await;
    create(
        &h,
        "private",
        spec(&url, |s| {
            s.reference = Some(branch("main"));
            s.secret_ref = Some(sluice_api::meta::LocalObjectReference {
                name: "auth".into(),
            });
        }),
    )
    .await;
    let (result, object) = reconcile_once(&h, "private").await;
    assert!(result.is_ok(), "{result:?}");
    let artifact = object.status.clone().unwrap().artifact.unwrap();

    // Wrong credentials and a new upstream commit: FetchFailed, the old artifact stays
    // in the status and is still served.
    h.secret(
        "auth",
        &[
            ("username", "gituser"),
            ("password", "wrong"),
            ("ca.crt", &ca),
        ],
    )
    .await;
    repo.commit_files(&[("new.yaml", "x: 1\n")], "new").unwrap();
    repo.push(
        &git.repo_root().join("repo.git").display().to_string(),
        &["main"],
        &[],
    )
    .unwrap();
    let (result, object) = reconcile_once(&h, "private").await;
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "failed to checkout and determine revision: unable to clone '{url}': authentication required"
        )
    );
    let status = object.status.clone().unwrap();
    let fetch = condition(&status, FETCH_FAILED);
    assert_eq!(
        (fetch.status.as_str(), fetch.reason.as_str()),
        ("True", "GitOperationFailed")
    );
    let ready = condition(&status, READY);
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "GitOperationFailed")
    );
    assert_eq!(status.artifact.as_ref(), Some(&artifact));
    assert_eq!(condition(&status, ARTIFACT_IN_STORAGE).status, "True");
    served_files(&object).await;
    let events = h.events_for("private").await;
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "GitOperationFailed"),
        "{events:?}"
    );

    // Without the CA the server's certificate is not trusted.
    h.secret("auth", &[("username", "gituser"), ("password", "gitpass")])
        .await;
    let (result, _) = reconcile_once(&h, "private").await;
    let message = result.unwrap_err().to_string();
    assert!(message.contains("certificate"), "{message}");

    // Fixed credentials: recovery, a new artifact.
    h.secret(
        "auth",
        &[
            ("username", "gituser"),
            ("password", "gitpass"),
            ("ca.crt", &ca),
        ],
    )
    .await;
    let (result, object) = reconcile_once(&h, "private").await;
    assert!(result.is_ok(), "{result:?}");
    let status = object.status.clone().unwrap();
    assert!(
        sluice_api::meta::conditions::find(&status.conditions.clone().unwrap(), FETCH_FAILED)
            .is_none()
    );
    assert_ne!(status.artifact.unwrap().revision, artifact.revision);
    h.stop().await;
}

#[tokio::test]
async fn mutual_tls_uses_the_client_certificate_of_the_secret() {
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default().with_client_certs()).unwrap();
    let repo = fixture("main");
    git.publish(&repo, "repo.git").unwrap();
    let url = git.https_url("repo.git").unwrap();
    let ca = git.ca().unwrap();
    h.secret(
        "mtls",
        &[
            ("ca.crt", ca.ca_pem()),
            ("tls.crt", ca.client_cert_pem()),
            ("tls.key", ca.client_key_pem()),
        ],
    )
    .await;
    h.secret("ca-only", &[("ca.crt", ca.ca_pem())]).await;
    for (name, secret, ok) in [
        ("with-cert", "mtls", true),
        ("without-cert", "ca-only", false),
    ] {
        create(
            &h,
            name,
            spec(&url, |s| {
                s.reference = Some(branch("main"));
                s.secret_ref = Some(sluice_api::meta::LocalObjectReference {
                    name: secret.into(),
                });
            }),
        )
        .await;
        let (result, object) = reconcile_once(&h, name).await;
        assert_eq!(result.is_ok(), ok, "{name}: {result:?}");
        let ready = condition(object.status.as_ref().unwrap(), READY).clone();
        assert_eq!(
            ready.status,
            if ok { "True" } else { "False" },
            "{name}: {ready:?}"
        );
    }
    h.stop().await;
}

#[tokio::test]
async fn ssh_needs_a_known_host_key_and_the_identity() {
    let h = Harness::start(&[]).await;
    let git = GitSshServer::start().unwrap();
    let repo = fixture("main");
    let head = repo.head().unwrap();
    let url = git.publish(&repo, "repo.git").unwrap();
    let identity = git.client_key().private_key().unwrap();
    let known_hosts = git.known_hosts();
    h.secret(
        "ssh",
        &[("identity", &identity), ("known_hosts", &known_hosts)],
    )
    .await;

    let protected = SshKey::generate_with_passphrase(Some("s3cret")).unwrap();
    git.authorize(&protected).unwrap();
    let protected_key = protected.private_key().unwrap();
    h.secret(
        "ssh-protected",
        &[
            ("identity", &protected_key),
            ("password", "s3cret"),
            ("known_hosts", &known_hosts),
        ],
    )
    .await;
    h.secret(
        "ssh-no-passphrase",
        &[("identity", &protected_key), ("known_hosts", &known_hosts)],
    )
    .await;
    let stranger = SshKey::generate().unwrap();
    let wrong_host = format!(
        "[127.0.0.1]:{} {}\n",
        git.port(),
        stranger
            .public_key()
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    );
    h.secret(
        "ssh-unknown-host",
        &[("identity", &identity), ("known_hosts", &wrong_host)],
    )
    .await;

    let cases = [
        ("ssh", "ssh", Ok(())),
        ("protected", "ssh-protected", Ok(())),
        (
            "no-passphrase",
            "ssh-no-passphrase",
            Err(("AuthenticationFailed", "passphrase")),
        ),
        (
            "unknown-host",
            "ssh-unknown-host",
            Err(("GitOperationFailed", "host key verification failed")),
        ),
    ];
    for (name, secret, expected) in cases {
        create(
            &h,
            name,
            spec(&url, |s| {
                s.reference = Some(branch("main"));
                s.secret_ref = Some(sluice_api::meta::LocalObjectReference {
                    name: secret.into(),
                });
            }),
        )
        .await;
        let (result, object) = reconcile_once(&h, name).await;
        let status = object.status.clone().unwrap();
        match expected {
            Ok(()) => {
                assert!(result.is_ok(), "{name}: {result:?}");
                assert_eq!(revision(&object), format!("main@sha1:{head}"));
            }
            Err((reason, text)) => {
                assert!(result.is_err(), "{name}");
                let fetch = condition(&status, FETCH_FAILED);
                assert_eq!(fetch.reason, reason, "{name}: {fetch:?}");
                assert!(fetch.message.contains(text), "{name}: {}", fetch.message);
                assert!(status.artifact.is_none());
            }
        }
    }
    h.stop().await;
}

#[tokio::test]
async fn fetch_failures_carry_upstream_reasons() {
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let repo = fixture("main");
    repo.tag("v1.0.0").unwrap();
    let url = git.publish(&repo, "repo.git").unwrap();
    git.create_repo("empty.git").unwrap();
    let empty = git.http_url("empty.git");
    use sluice_api::source::v1::GitRepositoryRef as Ref;
    let cases: Vec<(&str, GitRepositorySpec, &str, String)> = vec![
        (
            "empty",
            spec(&empty, |_| {}),
            "EmptyGitRepository",
            "git repository is empty".into(),
        ),
        (
            "missing-branch",
            spec(&url, |s| s.reference = Some(branch("nope"))),
            "GitOperationFailed",
            format!(
                "failed to checkout and determine revision: unable to clone '{url}': couldn't find remote ref \"refs/heads/nope\""
            ),
        ),
        (
            "semver-no-match",
            spec(&url, |s| {
                s.reference = Some(Ref {
                    semver: Some(">= 2.0.0".into()),
                    ..Ref::default()
                })
            }),
            "GitOperationFailed",
            format!(
                "failed to checkout and determine revision: unable to clone '{url}': no match found for semver: >= 2.0.0"
            ),
        ),
        (
            "missing-commit",
            spec(&url, |s| {
                s.reference = Some(Ref {
                    commit: Some("0".repeat(40)),
                    ..Ref::default()
                })
            }),
            "GitOperationFailed",
            format!(
                "failed to checkout and determine revision: unable to clone '{url}': unable to resolve commit object for '{}': object not found",
                "0".repeat(40)
            ),
        ),
        (
            "missing-secret",
            spec(&url, |s| {
                s.secret_ref = Some(sluice_api::meta::LocalObjectReference {
                    name: "absent".into(),
                })
            }),
            "AuthenticationFailed",
            "failed to get secret 'default/absent': secrets \"absent\" not found".into(),
        ),
    ];
    for (name, spec, reason, message) in cases {
        create(&h, name, spec).await;
        let (result, object) = reconcile_once(&h, name).await;
        assert!(result.is_err(), "{name}");
        let status = object.status.clone().unwrap();
        let fetch = condition(&status, FETCH_FAILED);
        assert_eq!(fetch.reason, reason, "{name}");
        assert_eq!(fetch.message, message, "{name}");
        let ready = condition(&status, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", reason),
            "{name}"
        );
        assert_eq!(
            condition(&status, RECONCILING).reason,
            "ProgressingWithRetry",
            "{name}"
        );
        assert!(status.artifact.is_none());
    }

    // An unreachable server.
    create(
        &h,
        "unreachable",
        spec("http://127.0.0.1:1/repo.git", |_| {}),
    )
    .await;
    let (result, object) = reconcile_once(&h, "unreachable").await;
    assert!(result.is_err());
    let fetch = condition(object.status.as_ref().unwrap(), FETCH_FAILED).clone();
    assert_eq!(fetch.reason, "GitOperationFailed");
    assert!(fetch.message.contains("127.0.0.1"), "{}", fetch.message);
    h.stop().await;
}

#[tokio::test]
async fn unsupported_fields_stall_with_a_condition_naming_them() {
    let h = Harness::start(&[]).await;
    create(
        &h,
        "proxy",
        spec("https://127.0.0.1:1/r.git", |s| {
            s.proxy_secret_ref = Some(sluice_api::meta::LocalObjectReference {
                name: "proxy".into(),
            });
        }),
    )
    .await;
    let (result, object) = reconcile_once(&h, "proxy").await;
    assert!(result.is_err());
    let status = object.status.clone().unwrap();
    let stalled = condition(&status, STALLED);
    assert_eq!(stalled.reason, "UnsupportedField");
    assert_eq!(
        stalled.message,
        "spec.proxySecretRef is not supported by Sluice yet"
    );
    assert_eq!(condition(&status, READY).reason, "UnsupportedField");
    assert_eq!(status.observed_generation, object.metadata.generation);
    h.stop().await;
}

#[tokio::test]
async fn suspend_requested_at_and_deletion() {
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let url = git.publish(&fixture("master"), "repo.git").unwrap();
    create(&h, "life", spec(&url, |_| {})).await;
    let (result, object) = reconcile_once(&h, "life").await;
    assert!(result.is_ok(), "{result:?}");
    let status = object.status.clone().unwrap();

    // [C3] requestedAt is echoed.
    let annotate = serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}});
    api(&h)
        .patch("life", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap();
    let (_, object) = reconcile_once(&h, "life").await;
    assert_eq!(
        object
            .status
            .clone()
            .unwrap()
            .last_handled_reconcile_at
            .as_deref(),
        Some("now")
    );

    // Suspended: the status is not touched, even for a new generation.
    update_spec(&h, "life", |s| {
        s.suspend = Some(true);
        s.ignore = Some("x".into());
    })
    .await;
    let (result, object) = reconcile_once(&h, "life").await;
    assert!(matches!(result, Ok(ref action) if *action == Action::await_change()));
    assert_eq!(
        object.status.clone().unwrap().artifact,
        status.artifact.clone()
    );
    assert_eq!(
        object.status.clone().unwrap().observed_generation,
        status.observed_generation
    );

    // [C4] a suspended object with an artifact can be deleted; its storage goes.
    let dir = h.storage_dir.path().join("gitrepository/default/life");
    assert!(dir.is_dir());
    api(&h)
        .delete("life", &DeleteParams::default())
        .await
        .unwrap();
    let object = api(&h).get("life").await.unwrap();
    assert!(object.metadata.deletion_timestamp.is_some());
    reconcile(Arc::new(object), Arc::clone(&h.context))
        .await
        .unwrap();
    assert!(!dir.exists());
    assert!(api(&h).get_opt("life").await.unwrap().is_none());
    h.stop().await;
}

#[tokio::test]
async fn a_new_upstream_revision_marks_the_artifact_outdated_until_stored() {
    // [G5] with storage failing: the checkout succeeds but the artifact cannot be
    // written, so ArtifactOutdated stays with the new revision.
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let repo = fixture("master");
    let url = git.publish(&repo, "repo.git").unwrap();
    create(&h, "outdated", spec(&url, |_| {})).await;
    let (result, _) = reconcile_once(&h, "outdated").await;
    assert!(result.is_ok(), "{result:?}");
    repo.commit_files(&[("b.yaml", "b: 1\n")], "second")
        .unwrap();
    let second = repo.head().unwrap();
    repo.push(
        &git.repo_root().join("repo.git").display().to_string(),
        &["master"],
        &[],
    )
    .unwrap();
    // A file where the new artifact must go makes the write fail.
    let target = h
        .storage_dir
        .path()
        .join(format!("gitrepository/default/outdated/{second}.tar.gz"));
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("blocker"), "x").unwrap();
    let (result, object) = reconcile_once(&h, "outdated").await;
    assert!(result.is_err());
    let status = object.status.clone().unwrap();
    let outdated = condition(&status, ARTIFACT_OUTDATED);
    assert_eq!(outdated.reason, "NewRevision");
    assert_eq!(
        outdated.message,
        format!("new upstream revision 'master@sha1:{second}'")
    );
    let storage = condition(&status, "StorageOperationFailed");
    assert_eq!(storage.reason, "ArchiveOperationFailed");
    assert_eq!(condition(&status, READY).reason, "ArchiveOperationFailed");
    served_files(&object).await;
    h.stop().await;
}

/// Polls the object until `done` holds (bounded: about 60 s).
async fn wait_for(h: &Harness, name: &str, done: impl Fn(&GitRepository) -> bool) -> GitRepository {
    for _ in 0..240 {
        if let Some(object) = api(h).get_opt(name).await.unwrap()
            && done(&object)
        {
            return object;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!(
        "{name} never reached the expected state: {:#?}",
        api(h).get_opt(name).await.unwrap()
    );
}

#[tokio::test]
async fn the_controller_loop_reconciles_new_objects_and_reconcile_requests() {
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let repo = fixture("master");
    let url = git.publish(&repo, "repo.git").unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(sluice_source_controller::gitrepository::controller(
        Arc::clone(&h.context),
        shutdown.clone(),
    ));
    create(&h, "looped", spec(&url, |_| {})).await;
    let head = repo.head().unwrap();
    let object = wait_for(&h, "looped", |o| {
        o.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .map(|a| a.revision.clone())
            == Some(format!("master@sha1:{head}"))
    })
    .await;
    assert_condition_invariants(&object, object.status.as_ref().unwrap(), GIT_NEGATIVE);

    // A new commit is picked up on request (`flux reconcile source git`).
    repo.commit_files(&[("c.yaml", "c: 1\n")], "third").unwrap();
    let next = repo.head().unwrap();
    repo.push(
        &git.repo_root().join("repo.git").display().to_string(),
        &["master"],
        &[],
    )
    .unwrap();
    let annotate =
        serde_json::json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}});
    api(&h)
        .patch("looped", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap();
    let object = wait_for(&h, "looped", |o| {
        o.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some("t1")
    })
    .await;
    assert_eq!(revision(&object), format!("master@sha1:{next}"));

    // Deleting the object runs the finalizer.
    api(&h)
        .delete("looped", &DeleteParams::default())
        .await
        .unwrap();
    for _ in 0..240 {
        if api(&h).get_opt("looped").await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(api(&h).get_opt("looped").await.unwrap().is_none());
    assert!(
        !h.storage_dir
            .path()
            .join("gitrepository/default/looped")
            .exists()
    );
    shutdown.cancel();
    running.await.unwrap();
    h.stop().await;
}

fn include(
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> sluice_api::source::v1::GitRepositoryInclude {
    sluice_api::source::v1::GitRepositoryInclude {
        repository: sluice_api::meta::LocalObjectReference { name: name.into() },
        from_path: from.map(Into::into),
        to_path: to.map(Into::into),
    }
}

#[tokio::test]
async fn included_artifacts_are_copied_in_and_wait_while_unavailable() {
    // [G8]
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let main = GitRepo::init("master").unwrap();
    main.commit_files(&[("main.yaml", "m: 1\n")], "main")
        .unwrap();
    let main_url = git.publish(&main, "main.git").unwrap();
    let lib = GitRepo::init("master").unwrap();
    lib.commit_files(&[("deploy/a.yaml", "a: 1\n"), ("README.md", "r\n")], "lib")
        .unwrap();
    let lib_url = git.publish(&lib, "lib.git").unwrap();

    create(
        &h,
        "app",
        spec(&main_url, |s| {
            s.include = Some(vec![
                include("lib", None, None),
                include("lib", Some("deploy"), Some("vendor/deploy")),
            ]);
        }),
    )
    .await;
    // The included GitRepository does not exist yet: a dependency to wait for.
    let (result, object) = reconcile_once(&h, "app").await;
    let error = result.unwrap_err();
    assert_eq!(
        sluice_runtime::ReconcileError::class(&error),
        sluice_runtime::ErrorClass::Waiting
    );
    let status = object.status.clone().unwrap();
    let unavailable = condition(&status, "IncludeUnavailable");
    assert_eq!(unavailable.reason, "NotFound");
    assert_eq!(condition(&status, READY).reason, "NotFound");

    // It exists but has no artifact yet.
    create(&h, "lib", spec(&lib_url, |_| {})).await;
    let (result, object) = reconcile_once(&h, "app").await;
    assert!(result.is_err());
    let status = object.status.clone().unwrap();
    assert_eq!(
        condition(&status, "IncludeUnavailable").reason,
        "NoArtifact"
    );

    // With the artifact: copied to `lib/` and `vendor/deploy/`, the stale condition gone.
    let (result, lib_object) = reconcile_once(&h, "lib").await;
    assert!(result.is_ok(), "{result:?}");
    let (result, object) = reconcile_once(&h, "app").await;
    assert!(result.is_ok(), "{result:?}");
    let status = object.status.clone().unwrap();
    assert!(
        sluice_api::meta::conditions::find(
            status.conditions.as_deref().unwrap(),
            "IncludeUnavailable"
        )
        .is_none()
    );
    assert_eq!(
        status.included_artifacts,
        Some(vec![
            lib_object.status.clone().unwrap().artifact.unwrap();
            2
        ])
    );
    assert_eq!(status.observed_include.as_ref().map(Vec::len), Some(2));
    let (_dir, files) = served_files(&object).await;
    assert_eq!(
        files,
        set(&[
            "main.yaml",
            "lib/README.md",
            "lib/deploy/a.yaml",
            "vendor/deploy/a.yaml"
        ])
    );

    // A new included artifact rebuilds the including one although its commit is the same.
    let digest = status.artifact.unwrap().digest;
    lib.commit_files(&[("deploy/b.yaml", "b: 1\n")], "more")
        .unwrap();
    lib.push(
        &git.repo_root().join("lib.git").display().to_string(),
        &["master"],
        &[],
    )
    .unwrap();
    reconcile_once(&h, "lib").await.0.unwrap();
    let (result, object) = reconcile_once(&h, "app").await;
    assert!(result.is_ok(), "{result:?}");
    assert_ne!(
        object.status.clone().unwrap().artifact.unwrap().digest,
        digest
    );
    let (_dir, files) = served_files(&object).await;
    assert!(files.contains("vendor/deploy/b.yaml"), "{files:?}");

    // A fromPath climbing out of the included artifact is clamped inside it, where it
    // does not exist.
    update_spec(&h, "app", |s| {
        s.include = Some(vec![include("lib", Some("../../../etc"), Some("x"))]);
    })
    .await;
    let (result, object) = reconcile_once(&h, "app").await;
    assert!(result.is_err());
    let status = object.status.clone().unwrap();
    let storage = condition(&status, "StorageOperationFailed");
    assert_eq!(storage.reason, "CopyFailure");
    assert!(
        storage.message.contains("No such file or directory"),
        "{}",
        storage.message
    );
    h.stop().await;
}

#[tokio::test]
async fn sparse_checkout_keeps_only_the_listed_directories() {
    // [G10]
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let repo = GitRepo::init("master").unwrap();
    repo.commit_files(
        &[
            ("apps/a.yaml", "a\n"),
            ("clusters/c.yaml", "c\n"),
            ("infra/i.yaml", "i\n"),
            ("root.yaml", "r\n"),
        ],
        "tree",
    )
    .unwrap();
    let url = git.publish(&repo, "repo.git").unwrap();
    create(
        &h,
        "sparse",
        spec(&url, |s| {
            s.sparse_checkout = Some(vec!["./apps".into(), "clusters/".into()]);
        }),
    )
    .await;
    let (result, object) = reconcile_once(&h, "sparse").await;
    assert!(result.is_ok(), "{result:?}");
    let (_dir, files) = served_files(&object).await;
    assert_eq!(files, set(&["apps/a.yaml", "clusters/c.yaml"]));
    assert_eq!(
        object.status.clone().unwrap().observed_sparse_checkout,
        Some(vec!["./apps".to_owned(), "clusters/".to_owned()])
    );

    update_spec(&h, "sparse", |s| {
        s.sparse_checkout = Some(vec!["missing".into()])
    })
    .await;
    let (result, object) = reconcile_once(&h, "sparse").await;
    assert!(result.is_err());
    let fetch = condition(object.status.as_ref().unwrap(), FETCH_FAILED).clone();
    assert_eq!(fetch.reason, "GitOperationFailed");
    assert!(
        fetch
            .message
            .ends_with("sparse checkout dir 'missing' does not exist in repository"),
        "{}",
        fetch.message
    );
    h.stop().await;
}

#[tokio::test]
async fn submodules_are_checked_out_when_asked() {
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let sub = GitRepo::init("master").unwrap();
    sub.commit_files(&[("sub.yaml", "s\n")], "sub").unwrap();
    let sub_url = git.publish(&sub, "sub.git").unwrap();
    let repo = GitRepo::init("master").unwrap();
    repo.commit_files(&[("top.yaml", "t\n")], "top").unwrap();
    repo.git(&[
        "-c",
        "protocol.allow=always",
        "submodule",
        "add",
        "-q",
        &sub_url,
        "vendor/sub",
    ])
    .unwrap();
    repo.commit("add submodule").unwrap();
    let url = git.publish(&repo, "repo.git").unwrap();

    create(&h, "without", spec(&url, |_| {})).await;
    let (result, object) = reconcile_once(&h, "without").await;
    assert!(result.is_ok(), "{result:?}");
    let (_dir, files) = served_files(&object).await;
    assert_eq!(files, set(&["top.yaml"]));

    create(
        &h,
        "with",
        spec(&url, |s| s.recurse_submodules = Some(true)),
    )
    .await;
    let (result, object) = reconcile_once(&h, "with").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        object.status.clone().unwrap().observed_recurse_submodules,
        Some(true)
    );
    let (_dir, files) = served_files(&object).await;
    assert_eq!(files, set(&["top.yaml", "vendor/sub/sub.yaml"]));
    h.stop().await;
}

fn verify(
    mode: Option<sluice_api::source::v1::GitVerificationMode>,
) -> sluice_api::source::v1::GitRepositoryVerification {
    sluice_api::source::v1::GitRepositoryVerification {
        mode,
        secret_ref: sluice_api::meta::LocalObjectReference {
            name: "keys".into(),
        },
    }
}

#[tokio::test]
async fn signatures_are_verified_with_the_keys_of_the_secret() {
    // [G11]
    use sluice_api::source::v1::GitRepositoryRef as Ref;
    use sluice_api::source::v1::GitVerificationMode as Mode;
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let key = sluice_testkit::GpgKey::generate("Test Signer", "signer@example.test").unwrap();
    let ssh_key = SshKey::generate().unwrap();
    let repo = GitRepo::init("master").unwrap();
    repo.write("a.yaml", "a: 1\n").unwrap();
    let signed = repo.commit_signed_gpg("signed", &key).unwrap();
    repo.tag_signed_gpg("v1.0.0", "signed tag", &key).unwrap();
    repo.branch("unsigned").unwrap();
    repo.commit_files(&[("b.yaml", "b\n")], "unsigned").unwrap();
    repo.annotated_tag("v2.0.0", "unsigned tag").unwrap();
    repo.branch("ssh").unwrap();
    repo.write("c.yaml", "c\n").unwrap();
    let ssh_signed = repo.commit_signed_ssh("ssh signed", &ssh_key).unwrap();
    let url = git.publish(&repo, "repo.git").unwrap();
    h.secret(
        "keys",
        &[
            ("signer.asc", &key.public_key_armored().unwrap()),
            ("signer.sshpub", ssh_key.public_key()),
        ],
    )
    .await;

    let tag = |t: &str| {
        Some(Ref {
            tag: Some(t.into()),
            ..Ref::default()
        })
    };
    /// Name, reference, mode, and the expected verified line or failure reason.
    type Case<'a> = (&'a str, Option<Ref>, Option<Mode>, Result<String, &'a str>);
    let cases: Vec<Case<'_>> = vec![
        (
            "head",
            Some(branch("master")),
            None,
            Ok(format!("- commit '{signed}' with key '{}'", key.key_id())),
        ),
        (
            "legacy-head",
            Some(branch("master")),
            Some(Mode::HeadLowercase),
            Ok(format!("- commit '{signed}'")),
        ),
        (
            "tag",
            tag("v1.0.0"),
            Some(Mode::Tag),
            Ok(format!("- tag 'v1.0.0' with key '{}'", key.key_id())),
        ),
        (
            "tag-and-head",
            tag("v1.0.0"),
            Some(Mode::TagAndHead),
            Ok(format!("- commit '{signed}'")),
        ),
        (
            "ssh",
            Some(branch("ssh")),
            None,
            Ok(format!(
                "- commit '{ssh_signed}' with key '{}'",
                ssh_key.fingerprint().unwrap()
            )),
        ),
        (
            "unsigned",
            Some(branch("unsigned")),
            None,
            Err("InvalidCommitSignature"),
        ),
        (
            "unsigned-tag",
            tag("v2.0.0"),
            Some(Mode::Tag),
            Err("InvalidTagSignature"),
        ),
        (
            "tag-on-branch",
            Some(branch("master")),
            Some(Mode::Tag),
            Err("InvalidVerificationMode"),
        ),
    ];
    for (name, reference, mode, expected) in cases {
        create(
            &h,
            name,
            spec(&url, |s| {
                s.reference = reference;
                s.verification = Some(verify(mode));
            }),
        )
        .await;
        let (result, object) = reconcile_once(&h, name).await;
        let status = object.status.clone().unwrap();
        let verified = condition(&status, "SourceVerified");
        match expected {
            Ok(text) => {
                assert!(result.is_ok(), "{name}: {result:?}");
                assert_eq!(verified.status, "True", "{name}: {verified:?}");
                assert!(
                    verified.message.contains(&text),
                    "{name}: {}",
                    verified.message
                );
                assert!(status.source_verification_mode.is_some());
                assert!(status.artifact.is_some());
            }
            Err(reason) => {
                assert!(result.is_err(), "{name}");
                assert_eq!(
                    (verified.status.as_str(), verified.reason.as_str()),
                    ("False", reason),
                    "{name}"
                );
                assert_eq!(condition(&status, READY).reason, reason, "{name}");
                assert!(status.artifact.is_none(), "{name}");
            }
        }
    }

    // Removing spec.verify removes the condition and the mode.
    update_spec(&h, "head", |s| s.verification = None).await;
    let (result, object) = reconcile_once(&h, "head").await;
    assert!(result.is_ok(), "{result:?}");
    let status = object.status.clone().unwrap();
    assert!(
        sluice_api::meta::conditions::find(status.conditions.as_deref().unwrap(), "SourceVerified")
            .is_none()
    );
    assert!(status.source_verification_mode.is_none());
    h.stop().await;
}

#[tokio::test]
async fn an_artifact_that_disappeared_from_storage_is_rebuilt_with_the_same_digest() {
    // [C7]
    let h = Harness::start(&[]).await;
    let git = GitHttpServer::start(GitHttpOptions::default()).unwrap();
    let url = git.publish(&fixture("master"), "repo.git").unwrap();
    create(&h, "lost", spec(&url, |_| {})).await;
    let (result, object) = reconcile_once(&h, "lost").await;
    assert!(result.is_ok(), "{result:?}");
    let artifact = object.status.clone().unwrap().artifact.unwrap();
    let file = h.storage_dir.path().join(&artifact.path);
    std::fs::remove_file(&file).unwrap();

    let (result, object) = reconcile_once(&h, "lost").await;
    assert!(result.is_ok(), "{result:?}");
    let rebuilt = object.status.clone().unwrap().artifact.unwrap();
    assert!(file.is_file());
    assert_eq!(rebuilt.digest, artifact.digest);
    assert_eq!(rebuilt.revision, artifact.revision);

    // A corrupted file is removed and rebuilt too.
    std::fs::write(&file, b"not the artifact").unwrap();
    let (result, object) = reconcile_once(&h, "lost").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        object.status.clone().unwrap().artifact.unwrap().digest,
        artifact.digest
    );
    served_files(&object).await;
    h.stop().await;
}
