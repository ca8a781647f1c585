//! `kubectl apply --server-side` against the server: applying twice with a change, a second
//! field manager running into the first one's fields and taking them with
//! `--force-conflicts`, and moving from client-side to server-side apply.
//!
//! kubectl comes from `.venv/bin` at the repository root (`.ci/install` puts it there),
//! else from `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn kubectl_binary() -> PathBuf {
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
        .expect("kubectl not found in .venv/bin or PATH: run .ci/install")
}

/// Runs kubectl against the server and returns (success, stdout, stderr).
struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    dir: PathBuf,
}

impl Kubectl {
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let output = Command::new(&self.binary)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.dir)
            .current_dir(&self.dir)
            .output()
            .expect("kubectl runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (success, stdout, stderr) = self.run(args);
        assert!(success, "kubectl {args:?} failed: {stderr}");
        stdout
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.join(name), text).expect("manifest written");
        name.to_owned()
    }

    fn object(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json", "--show-managed-fields"]);
        serde_json::from_str(&self.ok(&all)).expect("kubectl prints JSON")
    }
}

/// The managers of an object as `(manager, operation)`.
fn managers(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_owned(),
                e["operation"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn fields_of<'v>(object: &'v Value, manager: &str) -> &'v Value {
    object["metadata"]["managedFields"]
        .as_array()
        .and_then(|list| list.iter().find(|e| e["manager"] == manager))
        .map(|e| &e["fieldsV1"])
        .unwrap_or(&Value::Null)
}

fn deployment(replicas: u32, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    app: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"
    )
}

async fn start() -> (sluice_apiserver::testing::TestServer, Kubectl) {
    // Without the workload simulator: its status writes would add managers to the objects.
    let server = sluice_apiserver::testing::start_without_controllers(&[])
        .await
        .expect("server starts");
    let kubeconfig = server.kubeconfig_file().expect("kubeconfig written");
    let kubectl = Kubectl {
        binary: kubectl_binary(),
        dir: server.data_dir().to_owned(),
        kubeconfig,
    };
    (server, kubectl)
}

// `--validate=false`: kubectl's client-side check of `fieldValidation` support needs the
// OpenAPI v3 documents, which are not what this test is about.
const APPLY: &[&str] = &["apply", "--server-side", "--validate=false"];

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_server_side_apply_applies_changes_and_reports_and_forces_conflicts() {
    let (server, kubectl) = start().await;
    let first = kubectl.write("web.yaml", &deployment(2, "nginx:1.25"));
    let out = kubectl.ok(&[APPLY, &["-f", first.as_str()]].concat());
    assert_eq!(out.trim(), "deployment.apps/web serverside-applied");
    let applied = kubectl.object(&["get", "deployment", "web"]);
    assert_eq!(managers(&applied), [("kubectl".into(), "Apply".into())]);
    assert_eq!(
        fields_of(&applied, "kubectl")["f:spec"]["f:selector"],
        serde_json::json!({})
    );

    // The same manager applying a changed manifest.
    let second = kubectl.write("web.yaml", &deployment(3, "nginx:1.26"));
    kubectl.ok(&[APPLY, &["-f", second.as_str()]].concat());
    let changed = kubectl.ok(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.generation}",
    ]);
    assert_eq!(changed, "3 nginx:1.26 2");

    // Another manager wanting other replicas conflicts with kubectl.
    let other = kubectl.write("other.yaml", &deployment(5, "nginx:1.26"));
    let (success, _, stderr) =
        kubectl.run(&[APPLY, &["--field-manager=other", "-f", other.as_str()]].concat());
    assert!(!success);
    assert!(
        stderr.starts_with(
            "error: Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas\n"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("--force-conflicts"), "{stderr}");
    assert_eq!(
        kubectl.ok(&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "3"
    );

    // With --force-conflicts it takes replicas; both share the fields with equal values.
    kubectl.ok(&[
        APPLY,
        &[
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            other.as_str(),
        ],
    ]
    .concat());
    let forced = kubectl.object(&["get", "deployment", "web"]);
    assert_eq!(forced["spec"]["replicas"], 5);
    assert_eq!(
        managers(&forced),
        [
            ("kubectl".into(), "Apply".into()),
            ("other".into(), "Apply".into())
        ]
    );
    assert!(
        fields_of(&forced, "kubectl")["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    assert_eq!(
        fields_of(&forced, "other")["f:spec"]["f:replicas"],
        serde_json::json!({})
    );
    assert_eq!(
        fields_of(&forced, "kubectl")["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]
            ["f:image"],
        serde_json::json!({})
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_moves_from_client_side_to_server_side_apply_without_conflicts() {
    let (server, kubectl) = start().await;
    let manifest = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  a: \"1\"
  b: \"2\"
";
    let file = kubectl.write("cm.yaml", manifest);
    kubectl.ok(&["apply", "--validate=false", "-f", file.as_str()]);
    let client_side = kubectl.object(&["get", "configmap", "settings"]);
    assert_eq!(
        managers(&client_side),
        [("kubectl-client-side-apply".into(), "Update".into())]
    );

    let file = kubectl.write("cm.yaml", &manifest.replace("\"1\"", "\"10\""));
    kubectl.ok(&[APPLY, &["-f", file.as_str()]].concat());
    let server_side = kubectl.object(&["get", "configmap", "settings"]);
    assert_eq!(server_side["data"]["a"], "10");
    let last_applied: Value = serde_json::from_str(
        server_side["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last_applied["data"]["a"], "10");
    assert!(
        managers(&server_side).contains(&("kubectl".into(), "Apply".into())),
        "{:?}",
        managers(&server_side)
    );
    assert!(
        !managers(&server_side)
            .iter()
            .any(|(m, _)| m == "kubectl-client-side-apply"),
        "{:?}",
        managers(&server_side)
    );

    // Updates by other kubectl commands are recorded under their own names.
    kubectl.ok(&["label", "configmap", "settings", "team=a"]);
    let labelled = kubectl.object(&["get", "configmap", "settings"]);
    assert_eq!(
        fields_of(&labelled, "kubectl-label"),
        &serde_json::json!({"f:metadata": {"f:labels": {".": {}, "f:team": {}}}})
    );
    server.stop().await;
}
