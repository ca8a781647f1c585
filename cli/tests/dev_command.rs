//! `sluice dev`: the local control plane comes up with the toolkit's CRDs, the kubeconfig it
//! prints works with the real kubectl, source-controller in the same process turns a
//! GitRepository served by a real smart-HTTP Git server into an artifact, SIGTERM stops it
//! cleanly, and objects survive a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sluice_testkit::{GitHttpOptions, GitHttpServer, GitRepo};

fn kubectl_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("KUBECTL") {
        return PathBuf::from(path);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/kubectl");
    if venv.exists() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("kubectl"))
                .find(|candidate| candidate.exists())
        })
        .expect("kubectl not found in KUBECTL, .venv/bin or PATH: run .ci/install")
}

/// A loopback port free right now (the artifact server's address must be known before it
/// binds: it is also the address in artifact URLs).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// A running `sluice dev` and the kubeconfig it announced.
struct Dev {
    child: Child,
    kubeconfig: PathBuf,
    banner: Vec<String>,
    _stdout: BufReader<ChildStdout>,
}

impl Dev {
    fn start(data_dir: &Path) -> Dev {
        let storage_addr = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "dev",
                "--listen",
                "127.0.0.1:0",
                "--storage-addr",
                &storage_addr,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sluice dev starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut banner = Vec::new();
        let mut kubeconfig = None;
        // The banner ends with the line about Ctrl-C.
        loop {
            let mut line = String::new();
            let read = stdout.read_line(&mut line).expect("reads stdout");
            assert!(read > 0, "sluice dev exited early; printed {banner:?}");
            let line = line.trim_end().to_owned();
            if let Some(path) = line.strip_prefix("kubeconfig written to ") {
                kubeconfig = Some(PathBuf::from(path));
            }
            let last = line.starts_with("Ctrl-C stops it");
            banner.push(line);
            if last {
                break;
            }
        }
        Dev {
            child,
            kubeconfig: kubeconfig.expect("the banner names the kubeconfig"),
            banner,
            _stdout: stdout,
        }
    }

    /// Runs kubectl with the announced kubeconfig; returns its stdout, failing on error.
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut child = Command::new(kubectl_binary())
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("HOME", self.kubeconfig.parent().expect("data dir"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(input) = stdin {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("writes stdin");
        }
        let out = child.wait_with_output().expect("kubectl finishes");
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// Sends SIGTERM and returns whether the process exited successfully.
    fn terminate(mut self) -> bool {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits"));
        kill(pid, Signal::SIGTERM).expect("signal sent");
        self.child.wait().expect("exits").success()
    }
}

fn git_repository(url: &str) -> String {
    format!(
        "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: podinfo
  namespace: default
spec:
  interval: 5m
  url: {url}
  ref:
    branch: master
"
    )
}

#[test]
fn dev_serves_the_crds_reconciles_a_git_repository_and_keeps_objects_across_restarts() {
    let git = GitHttpServer::start(GitHttpOptions::default()).expect("git server starts");
    let repo = GitRepo::init("master").expect("repo");
    repo.write(
        "deploy/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n",
    )
    .expect("write");
    let commit = repo.commit("Initial commit").expect("commit");
    git.publish(&repo, "podinfo.git").expect("published");

    let data = tempfile::tempdir().expect("tempdir");
    let dev = Dev::start(data.path());
    assert!(
        dev.banner[0].starts_with("sluice dev: local control plane serving on https://127.0.0.1:"),
        "{:?}",
        dev.banner
    );
    assert_eq!(dev.kubeconfig, data.path().join("kubeconfig"));

    let crds = dev.kubectl(&["get", "crds", "-o", "name"], None);
    for name in [
        "customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io",
        "customresourcedefinition.apiextensions.k8s.io/kustomizations.kustomize.toolkit.fluxcd.io",
        "customresourcedefinition.apiextensions.k8s.io/helmreleases.helm.toolkit.fluxcd.io",
        "customresourcedefinition.apiextensions.k8s.io/canaries.flagger.app",
    ] {
        assert!(crds.lines().any(|line| line == name), "{name} in {crds}");
    }
    let manifest = git_repository(&git.http_url("podinfo.git"));
    assert_eq!(
        dev.kubectl(&["apply", "-f", "-"], Some(&manifest)).trim(),
        "gitrepository.source.toolkit.fluxcd.io/podinfo created"
    );
    assert_eq!(
        dev.kubectl(
            &[
                "wait",
                "gitrepository/podinfo",
                "--for=condition=Ready",
                "--timeout=60s"
            ],
            None
        )
        .trim(),
        "gitrepository.source.toolkit.fluxcd.io/podinfo condition met"
    );
    let jsonpath = |path: &str| {
        dev.kubectl(
            &[
                "get",
                "gitrepository",
                "podinfo",
                "-o",
                &format!("jsonpath={path}"),
            ],
            None,
        )
    };
    assert_eq!(
        jsonpath("{.status.artifact.revision}"),
        format!("master@sha1:{commit}")
    );
    let url = jsonpath("{.status.artifact.url}");
    assert!(
        url.starts_with("http://127.0.0.1:")
            && url.contains("/gitrepository/default/podinfo/")
            && url.ends_with(".tar.gz"),
        "{url}"
    );
    let artifact = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "-w", "%{http_code}", &url])
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&artifact.stdout), "200", "{url}");
    assert!(dev.terminate(), "SIGTERM stops sluice dev with success");

    let again = Dev::start(data.path());
    assert_eq!(
        again
            .kubectl(
                &[
                    "get",
                    "gitrepository",
                    "podinfo",
                    "-o",
                    "jsonpath={.spec.ref.branch}"
                ],
                None
            )
            .trim(),
        "master"
    );
    assert!(again.terminate());
}
