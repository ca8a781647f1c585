//! Each Git server starts, serves clones and pushes to the real git CLI, refuses what it
//! should, and leaves no process behind when stopped. Fixtures: branches, annotated and
//! lightweight tags, GPG- and SSH-signed commits and tags, checked by git itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::path::Path;
use std::process::Command;

use sluice_testkit::process::{descendants, is_alive, processes_in_group, run};
use sluice_testkit::{
    GitDaemon, GitHttpOptions, GitHttpServer, GitRepo, GitSshServer, GpgKey, SshKey, git_command,
};

/// A repository with `main` (two commits), `feature` (one more), a lightweight tag
/// `v1.0.0` and an annotated tag `v1.1.0`.
fn fixture() -> GitRepo {
    let repo = GitRepo::init("main").unwrap();
    repo.commit_files(
        &[(
            "deploy/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
        )],
        "init",
    )
    .unwrap();
    repo.tag("v1.0.0").unwrap();
    repo.commit_files(&[("deploy/extra.yaml", "x: 1\n")], "second")
        .unwrap();
    repo.annotated_tag("v1.1.0", "release 1.1.0").unwrap();
    repo.branch("feature").unwrap();
    repo.commit_files(&[("feature.txt", "f\n")], "feature")
        .unwrap();
    repo.checkout("main").unwrap();
    repo
}

fn clone(
    url: &str,
    into: &Path,
    env: &[(String, String)],
) -> Result<String, sluice_testkit::Error> {
    let mut command = git_command(into.parent().unwrap());
    command.args(["clone", "--quiet", url]).arg(into);
    for (key, value) in env {
        command.env(key, value);
    }
    run(&mut command)
}

/// Clones `url`, checks the fixture's content, commits and pushes a change, and checks
/// the server has it.
fn clone_and_push(url: &str, env: &[(String, String)], fixture: &GitRepo) {
    let scratch = tempfile::tempdir().unwrap();
    let work = scratch.path().join("clone");
    clone(url, &work, env).unwrap();
    assert!(work.join("deploy/cm.yaml").is_file());
    let head = run(git_command(&work).args(["rev-parse", "HEAD"])).unwrap();
    assert_eq!(head.trim(), fixture.rev_parse("main").unwrap());

    std::fs::write(work.join("pushed.txt"), "pushed\n").unwrap();
    run(git_command(&work).args(["add", "pushed.txt"])).unwrap();
    run(git_command(&work).args(["commit", "--quiet", "-m", "pushed"])).unwrap();
    let mut push = git_command(&work);
    push.args(["push", "--quiet", "origin", "main"]);
    for (key, value) in env {
        push.env(key, value);
    }
    run(&mut push).unwrap();
    let local = run(git_command(&work).args(["rev-parse", "HEAD"])).unwrap();
    let mut remote = git_command(&work);
    remote.args(["ls-remote", url, "refs/heads/main"]);
    for (key, value) in env {
        remote.env(key, value);
    }
    let remote = run(&mut remote).unwrap();
    assert!(remote.starts_with(local.trim()), "{remote}");
}

fn assert_stopped(pids: &[u32]) {
    for &pid in pids {
        assert!(!is_alive(pid), "{pid} still alive");
        assert!(processes_in_group(pid).is_empty(), "group {pid} not empty");
    }
}

#[test]
fn git_daemon_serves_clones_and_pushes_and_stops_by_pid() {
    let repo = fixture();
    let mut daemon = GitDaemon::start().unwrap();
    let url = daemon.publish(&repo, "repo.git").unwrap();
    let refs = run(git_command(repo.path()).args(["ls-remote", &url])).unwrap();
    for name in [
        "refs/heads/main",
        "refs/heads/feature",
        "refs/tags/v1.0.0",
        "refs/tags/v1.1.0^{}",
    ] {
        assert!(refs.contains(name), "{name} in {refs}");
    }
    clone_and_push(&url, &[], &repo);
    let pid = daemon.pid();
    daemon.stop();
    assert_stopped(&[pid]);
}

#[test]
fn smart_http_with_basic_auth_serves_clones_and_pushes_and_refuses_bad_credentials() {
    let repo = fixture();
    let mut server =
        GitHttpServer::start(GitHttpOptions::basic_auth("gituser", "gitpass")).unwrap();
    let url = server.publish(&repo, "repo.git").unwrap();
    clone_and_push(&server.with_credentials(&url), &[], &repo);

    let scratch = tempfile::tempdir().unwrap();
    let wrong = url.replacen("://", "://gituser:wrong@", 1);
    let err = clone(&wrong, &scratch.path().join("a"), &[]).unwrap_err();
    assert!(err.to_string().contains("Authentication failed"), "{err}");
    let err = clone(&url, &scratch.path().join("b"), &[]).unwrap_err();
    assert!(err.to_string().contains("could not read Username"), "{err}");

    let pids = server.pids();
    server.stop();
    assert_stopped(&pids);
}

#[test]
fn smart_https_needs_the_servers_ca() {
    let repo = fixture();
    let server =
        GitHttpServer::start(GitHttpOptions::basic_auth("gituser", "gitpass").with_tls()).unwrap();
    server.publish(&repo, "repo.git").unwrap();
    let url = server.with_credentials(&server.https_url("repo.git").unwrap());
    clone_and_push(&url, &server.git_env(), &repo);

    // Without the CA (whatever the machine's environment says) the certificate is refused.
    let scratch = tempfile::tempdir().unwrap();
    let mut command = git_command(scratch.path());
    command
        .args(["clone", "--quiet", &url, "x"])
        .env_remove("GIT_SSL_CAINFO")
        .env_remove("SSL_CERT_FILE")
        .env_remove("CURL_CA_BUNDLE");
    let err = run(&mut command).unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
}

#[test]
fn smart_https_with_client_certificates_refuses_clients_without_one() {
    let repo = fixture();
    let server = GitHttpServer::start(GitHttpOptions::default().with_client_certs()).unwrap();
    server.publish(&repo, "repo.git").unwrap();
    let url = server.https_url("repo.git").unwrap();
    clone_and_push(&url, &server.git_env(), &repo);

    let ca_only: Vec<(String, String)> = server
        .git_env()
        .into_iter()
        .filter(|(k, _)| k == "GIT_SSL_CAINFO")
        .collect();
    let scratch = tempfile::tempdir().unwrap();
    assert!(clone(&url, &scratch.path().join("x"), &ca_only).is_err());
    // Plain HTTP stays anonymous and open.
    clone(&server.http_url("repo.git"), &scratch.path().join("y"), &[]).unwrap();
}

#[test]
fn ssh_serves_clones_and_pushes_to_authorized_keys_with_strict_host_checking() {
    let repo = fixture();
    let mut server = GitSshServer::start().unwrap();
    let url = server.publish(&repo, "repo.git").unwrap();
    let ssh = server.ssh_command(server.client_key()).unwrap();
    let env = [("GIT_SSH_COMMAND".to_owned(), ssh)];
    clone_and_push(&url, &env, &repo);

    let scratch = tempfile::tempdir().unwrap();
    // An unknown key is refused.
    let stranger = SshKey::generate().unwrap();
    let env = [(
        "GIT_SSH_COMMAND".to_owned(),
        server.ssh_command(&stranger).unwrap(),
    )];
    let err = clone(&url, &scratch.path().join("a"), &env).unwrap_err();
    assert!(err.to_string().contains("Permission denied"), "{err}");
    // ... until authorized.
    server.authorize(&stranger).unwrap();
    clone(&url, &scratch.path().join("b"), &env).unwrap();
    // A host key that is not in known_hosts is refused.
    let ssh = server
        .ssh_command(server.client_key())
        .unwrap()
        .replace("UserKnownHostsFile=", "UserKnownHostsFile=/dev/null.");
    let err = clone(
        &url,
        &scratch.path().join("c"),
        &[("GIT_SSH_COMMAND".to_owned(), ssh)],
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("Host key verification failed"),
        "{err}"
    );

    let pid = server.pid();
    let before = descendants(pid);
    server.stop();
    assert_stopped(&[pid]);
    assert!(before.iter().all(|&p| !is_alive(p)), "{before:?}");
}

#[test]
fn a_passphrase_protected_key_needs_its_passphrase() {
    let key = SshKey::generate_with_passphrase(Some("s3cret")).unwrap();
    assert_eq!(key.passphrase(), Some("s3cret"));
    let derive = |passphrase: &str| {
        run(Command::new("ssh-keygen")
            .args(["-y", "-P", passphrase, "-f"])
            .arg(key.private_key_path()))
    };
    assert!(derive("").is_err());
    assert_eq!(
        derive("s3cret").unwrap().split_whitespace().nth(1),
        key.public_key().split_whitespace().nth(1)
    );
}

#[test]
fn tags_are_lightweight_or_annotated_as_asked() {
    let repo = fixture();
    let kind = |tag: &str| {
        repo.git(&["cat-file", "-t", &format!("refs/tags/{tag}")])
            .unwrap()
    };
    assert_eq!(kind("v1.0.0").trim(), "commit");
    assert_eq!(kind("v1.1.0").trim(), "tag");
    // The fixture clock orders commit times.
    let time = |rev: &str| repo.git(&["log", "-1", "--format=%ct", rev]).unwrap();
    assert!(time("v1.0.0").trim() < time("v1.1.0").trim());
}

#[test]
fn gpg_signed_commits_and_tags_verify_with_the_exported_key() {
    let repo = fixture();
    let key = GpgKey::generate("Test Signer", "signer@example.test").unwrap();
    let commit = repo.commit_signed_gpg("signed", &key).unwrap();
    repo.tag_signed_gpg("v2.0.0", "signed tag", &key).unwrap();
    let unsigned = repo.commit("unsigned").unwrap();

    // A verifier that only has the armored public key.
    let verifier = tempfile::tempdir().unwrap();
    let public = verifier.path().join("pub.asc");
    std::fs::write(&public, key.public_key_armored().unwrap()).unwrap();
    let home = verifier.path().join("gnupg");
    std::fs::create_dir(&home).unwrap();
    run(Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args(["--batch", "--quiet", "--import"])
        .arg(&public))
    .unwrap();
    let verify = |args: &[&str]| {
        let mut command = git_command(repo.path());
        command.env("GNUPGHOME", &home).args(args);
        run(&mut command)
    };
    verify(&["verify-commit", &commit]).unwrap();
    verify(&["verify-tag", "v2.0.0"]).unwrap();
    assert!(verify(&["verify-commit", &unsigned]).is_err());
    let _ = Command::new("gpgconf")
        .env("GNUPGHOME", &home)
        .args(["--kill", "all"])
        .output();

    // Dropping the key stops its agent.
    let home = key.gnupghome().to_owned();
    drop(key);
    assert!(
        agents_for(&home).is_empty(),
        "gpg-agent still running for {home:?}"
    );
}

/// PIDs of processes whose command line mentions `home`.
fn agents_for(home: &Path) -> Vec<u32> {
    let needle = home.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(&needle))
                .unwrap_or(false)
                && is_alive(*pid)
        })
        .collect()
}

#[test]
fn ssh_signed_commits_and_tags_verify_against_allowed_signers() {
    let repo = fixture();
    let key = SshKey::generate().unwrap();
    let commit = repo.commit_signed_ssh("signed", &key).unwrap();
    repo.tag_signed_ssh("v3.0.0", "signed tag", &key).unwrap();
    let signers = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(signers.path(), key.allowed_signers_line()).unwrap();
    let allowed = format!("gpg.ssh.allowedSignersFile={}", signers.path().display());
    repo.git(&["-c", &allowed, "verify-commit", &commit])
        .unwrap();
    repo.git(&["-c", &allowed, "verify-tag", "v3.0.0"]).unwrap();
    assert!(key.fingerprint().unwrap().starts_with("SHA256:"));
}
