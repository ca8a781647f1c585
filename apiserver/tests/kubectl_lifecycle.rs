//! The real kubectl against the server's controllers: `rollout status`, `wait`,
//! `delete --cascade=...` and `delete namespace` finish (or fail) as on a real cluster.
//! Objects are created with kube-rs; kubectl does what users do with them.

mod lifecycle_support;

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, ListParams, PostParams};
use lifecycle_support::{eventually, kubectl, object};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(10);

fn deployment(name: &str, replicas: i32, image: &str, deadline: Option<i32>) -> Deployment {
    let mut spec = json!({
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": image}]}},
    });
    if let Some(deadline) = deadline {
        spec["progressDeadlineSeconds"] = json!(deadline);
    }
    object(json!({"metadata": {"name": name}, "spec": spec}))
}

#[tokio::test]
async fn kubectl_rollout_status_finishes_for_deployments_statefulsets_and_daemonsets() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let kubeconfig = server.kubeconfig_file().unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 3, "nginx:1.27", None),
        )
        .await
        .unwrap();
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    sets.create(
        &PostParams::default(),
        &object(json!({"metadata": {"name": "db"}, "spec": {"replicas": 2, "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "pg", "image": "postgres"}]}}}})),
    )
    .await
    .unwrap();
    let daemons: Api<DaemonSet> = Api::namespaced(client.clone(), "default");
    daemons
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "agent"}, "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "agent"}]}}}})),
        )
        .await
        .unwrap();

    let web = kubectl(
        &kubeconfig,
        &["rollout", "status", "deployment/web", "--timeout=10s"],
        None,
    )
    .await;
    assert!(web.ok, "{web:?}");
    assert!(
        web.stdout
            .contains("deployment \"web\" successfully rolled out"),
        "{web:?}"
    );
    let db = kubectl(
        &kubeconfig,
        &["rollout", "status", "statefulset/db", "--timeout=10s"],
        None,
    )
    .await;
    assert!(db.ok, "{db:?}");
    assert!(
        db.stdout
            .contains("partitioned roll out complete: 2 new pods have been updated..."),
        "{db:?}"
    );
    let agent = kubectl(
        &kubeconfig,
        &["rollout", "status", "daemonset/agent", "--timeout=10s"],
        None,
    )
    .await;
    assert!(agent.ok, "{agent:?}");
    assert!(
        agent
            .stdout
            .contains("daemon set \"agent\" successfully rolled out"),
        "{agent:?}"
    );

    // `kubectl scale` flows through to the pods.
    let scaled = kubectl(
        &kubeconfig,
        &["scale", "deployment/web", "--replicas=4"],
        None,
    )
    .await;
    assert!(scaled.ok, "{scaled:?}");
    let web = kubectl(
        &kubeconfig,
        &["rollout", "status", "deployment/web", "--timeout=10s"],
        None,
    )
    .await;
    assert!(web.ok, "{web:?}");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    eventually("four pods", LIMIT, || async {
        (pods
            .list(&ListParams::default().labels("app=web"))
            .await
            .unwrap()
            .items
            .len()
            == 4)
            .then_some(())
    })
    .await;

    // A new template rolls out too, and the history has both revisions.
    let patched = kubectl(
        &kubeconfig,
        &["set", "image", "deployment/web", "app=nginx:1.28"],
        None,
    )
    .await;
    assert!(patched.ok, "{patched:?}");
    let rolled = kubectl(
        &kubeconfig,
        &["rollout", "status", "deployment/web", "--timeout=10s"],
        None,
    )
    .await;
    assert!(rolled.ok, "{rolled:?}");
    let history = kubectl(&kubeconfig, &["rollout", "history", "deployment/web"], None).await;
    assert!(history.ok, "{history:?}");
    let revisions: Vec<&str> = history
        .stdout
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["1", "2"], "{history:?}");
    server.stop().await;
}

#[tokio::test]
async fn kubectl_rollout_status_fails_when_the_progress_deadline_passes() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let kubeconfig = server.kubeconfig_file().unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("broken", 1, "nginx:fail", Some(1)),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let run = kubectl(
        &kubeconfig,
        &["rollout", "status", "deployment/broken", "--timeout=15s"],
        None,
    )
    .await;
    assert!(!run.ok, "{run:?}");
    assert!(
        run.stderr
            .contains("deployment \"broken\" exceeded its progress deadline"),
        "{run:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn kubectl_wait_sees_deployments_become_available_and_jobs_complete() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let kubeconfig = server.kubeconfig_file().unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(&PostParams::default(), &deployment("web", 2, "nginx", None))
        .await
        .unwrap();
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &object(json!({"metadata": {"name": "once"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}})),
    )
    .await
    .unwrap();
    let available = kubectl(
        &kubeconfig,
        &[
            "wait",
            "--for=condition=available",
            "deployment/web",
            "--timeout=10s",
        ],
        None,
    )
    .await;
    assert!(available.ok, "{available:?}");
    assert!(
        available
            .stdout
            .contains("deployment.apps/web condition met"),
        "{available:?}"
    );
    let complete = kubectl(
        &kubeconfig,
        &[
            "wait",
            "--for=condition=complete",
            "job/once",
            "--timeout=10s",
        ],
        None,
    )
    .await;
    assert!(complete.ok, "{complete:?}");
    assert!(
        complete.stdout.contains("job.batch/once condition met"),
        "{complete:?}"
    );
    let ready = kubectl(
        &kubeconfig,
        &[
            "wait",
            "--for=condition=Ready",
            "pod",
            "-l",
            "app=web",
            "--timeout=10s",
        ],
        None,
    )
    .await;
    assert!(ready.ok, "{ready:?}");
    assert_eq!(ready.stdout.lines().count(), 2, "{ready:?}");
    server.stop().await;
}

#[tokio::test]
async fn kubectl_delete_cascades_in_the_background_in_the_foreground_or_not_at_all() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let kubeconfig = server.kubeconfig_file().unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    for name in ["background", "foreground", "orphan"] {
        deployments
            .create(&PostParams::default(), &deployment(name, 2, "nginx", None))
            .await
            .unwrap();
    }
    for name in ["background", "foreground", "orphan"] {
        let run = kubectl(
            &kubeconfig,
            &[
                "rollout",
                "status",
                &format!("deployment/{name}"),
                "--timeout=10s",
            ],
            None,
        )
        .await;
        assert!(run.ok, "{run:?}");
    }
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let count = |selector: String| {
        let sets = sets.clone();
        let pods = pods.clone();
        async move {
            let lp = ListParams::default().labels(&selector);
            (
                sets.list(&lp).await.unwrap().items.len(),
                pods.list(&lp).await.unwrap().items.len(),
            )
        }
    };

    // Foreground: kubectl waits for the deployment, which goes after its dependents.
    let run = kubectl(
        &kubeconfig,
        &[
            "delete",
            "deployment",
            "foreground",
            "--cascade=foreground",
            "--timeout=10s",
        ],
        None,
    )
    .await;
    assert!(run.ok, "{run:?}");
    assert!(deployments.get_opt("foreground").await.unwrap().is_none());
    assert_eq!(
        count("app=foreground".into()).await,
        (0, 0),
        "dependents went first"
    );

    // Background: the deployment goes at once, its ReplicaSet and pods right after.
    let run = kubectl(
        &kubeconfig,
        &["delete", "deployment", "background", "--cascade=background"],
        None,
    )
    .await;
    assert!(run.ok, "{run:?}");
    eventually("the background dependents to go", LIMIT, || async {
        (count("app=background".into()).await == (0, 0)).then_some(())
    })
    .await;

    // Orphan: the ReplicaSet and its pods stay, without an owner.
    let run = kubectl(
        &kubeconfig,
        &["delete", "deployment", "orphan", "--cascade=orphan"],
        None,
    )
    .await;
    assert!(run.ok, "{run:?}");
    assert!(deployments.get_opt("orphan").await.unwrap().is_none());
    let orphaned = sets
        .list(&ListParams::default().labels("app=orphan"))
        .await
        .unwrap()
        .items;
    assert_eq!(orphaned.len(), 1);
    assert!(
        orphaned[0]
            .metadata
            .owner_references
            .as_ref()
            .is_none_or(Vec::is_empty)
    );
    assert_eq!(count("app=orphan".into()).await, (1, 2));
    server.stop().await;
}

#[tokio::test]
async fn kubectl_delete_namespace_returns_once_the_namespace_is_gone() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let kubeconfig = server.kubeconfig_file().unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "team"}})),
        )
        .await
        .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    config_maps
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "settings"}})),
        )
        .await
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "team");
    deployments
        .create(&PostParams::default(), &deployment("web", 2, "nginx", None))
        .await
        .unwrap();

    let run = kubectl(
        &kubeconfig,
        &["delete", "namespace", "team", "--timeout=10s"],
        None,
    )
    .await;
    assert!(run.ok, "{run:?}");
    assert!(run.stdout.contains("namespace \"team\" deleted"), "{run:?}");
    assert!(namespaces.get_opt("team").await.unwrap().is_none());
    let gone = kubectl(&kubeconfig, &["get", "namespace", "team"], None).await;
    assert!(!gone.ok);
    assert!(
        gone.stderr.contains("namespaces \"team\" not found"),
        "{gone:?}"
    );
    server.stop().await;
}
