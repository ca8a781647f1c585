//! The workload simulator, through kube-rs: Deployments, ReplicaSets, StatefulSets,
//! DaemonSets, Jobs and CronJobs get pods and the status their controllers write; pods get
//! believable status; Services get cluster IPs and Endpoints.

mod lifecycle_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Endpoints, Node, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use lifecycle_support::{eventually, object};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(10);

async fn setup() -> (sluice_apiserver::testing::TestServer, Client) {
    let server = sluice_apiserver::testing::start(&[])
        .await
        .expect("the call succeeds");
    let client = server.client().await.expect("the call succeeds");
    (server, client)
}

fn deployment(
    name: &str,
    replicas: i32,
    image: &str,
    extra_spec: Value,
    template_annotations: Value,
) -> Deployment {
    let mut spec = json!({
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}, "annotations": template_annotations},
            "spec": {"containers": [{"name": "app", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}]},
        },
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        spec.extend(extra.clone());
    }
    object(json!({"metadata": {"name": name}, "spec": spec}))
}

fn condition(conditions: &[Value], type_: &str) -> Option<(String, String)> {
    let found = conditions.iter().find(|c| c["type"] == type_)?;
    Some((
        found["status"].as_str().unwrap_or_default().to_owned(),
        found["reason"].as_str().unwrap_or_default().to_owned(),
    ))
}

fn status_conditions<T: serde::Serialize>(object: &T) -> Vec<Value> {
    serde_json::to_value(object).expect("the call succeeds")["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn wait_available(api: &Api<Deployment>, name: &str, replicas: i32) -> Deployment {
    eventually(
        &format!("deployment {name} to roll out {replicas} replicas"),
        LIMIT,
        || async {
            let deployment = api.get(name).await.expect("the call succeeds");
            let status = deployment.status.clone()?;
            let done = status.observed_generation == deployment.metadata.generation
                && status.updated_replicas.unwrap_or(0) == replicas
                && status.replicas.unwrap_or(0) == replicas
                && status.available_replicas.unwrap_or(0) == replicas;
            done.then_some(deployment)
        },
    )
    .await
}

async fn pods_of(api: &Api<Pod>, selector: &str) -> Vec<Pod> {
    api.list(&ListParams::default().labels(selector))
        .await
        .expect("the call succeeds")
        .items
}

#[tokio::test]
async fn a_deployment_becomes_available_through_a_replica_set_and_running_pods() {
    let (server, client) = setup().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 3, "nginx:1.27", json!({}), json!({})),
        )
        .await
        .unwrap();
    let rolled = wait_available(&deployments, "web", 3).await;
    let conditions = status_conditions(&rolled);
    assert_eq!(
        condition(&conditions, "Available").unwrap(),
        ("True".into(), "MinimumReplicasAvailable".into())
    );
    assert_eq!(
        condition(&conditions, "Progressing").unwrap(),
        ("True".into(), "NewReplicaSetAvailable".into())
    );
    assert_eq!(rolled.status.as_ref().unwrap().ready_replicas, Some(3));
    assert_eq!(
        rolled.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"],
        "1"
    );
    // Defaults as kube-apiserver fills them.
    let spec = rolled.spec;
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    assert_eq!(
        spec.strategy.unwrap().type_.as_deref(),
        Some("RollingUpdate")
    );

    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let set = sets
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0);
    let hash = set.metadata.labels.as_ref().unwrap()["pod-template-hash"].clone();
    assert_eq!(
        set.metadata.name.as_deref(),
        Some(format!("web-{hash}").as_str())
    );
    assert_eq!(
        set.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"],
        "1"
    );
    assert_eq!(
        set.metadata.owner_references.as_ref().unwrap()[0].name,
        "web"
    );
    assert_eq!(
        set.spec.selector.match_labels.as_ref().unwrap()["pod-template-hash"],
        hash
    );

    let pods = pods_of(&Api::namespaced(client.clone(), "default"), "app=web").await;
    assert_eq!(pods.len(), 3);
    let mut ips = BTreeSet::new();
    for pod in &pods {
        let name = pod.metadata.name.clone().unwrap();
        assert!(name.starts_with(&format!("web-{hash}-")), "{name}");
        assert_eq!(name.len(), format!("web-{hash}-").len() + 5, "{name}");
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.controller),
            ("ReplicaSet", Some(true))
        );
        assert_eq!(
            pod.spec.as_ref().unwrap().node_name.as_deref(),
            Some("sluice-node")
        );
        let status = pod.status.as_ref().unwrap();
        assert_eq!(status.phase.as_deref(), Some("Running"));
        assert_eq!(status.host_ip.as_deref(), Some("172.18.0.2"));
        assert!(status.start_time.is_some());
        let ip = status.pod_ip.clone().unwrap();
        assert!(ip.starts_with("10.244."), "{ip}");
        ips.insert(ip);
        let conditions = status.conditions.as_ref().unwrap();
        for type_ in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
            let found = conditions.iter().find(|c| c.type_ == type_).unwrap();
            assert_eq!(found.status, "True", "{type_}");
        }
        let container = &status.container_statuses.as_ref().unwrap()[0];
        assert!(container.ready);
        assert_eq!(container.started, Some(true));
        assert_eq!(container.restart_count, 0);
        assert!(container.state.as_ref().unwrap().running.is_some());
        assert_eq!(container.image, "docker.io/library/nginx:1.27");
    }
    assert_eq!(ips.len(), 3, "every pod has its own IP");
    server.stop().await;
}

#[tokio::test]
async fn a_template_change_rolls_out_a_new_replica_set_and_scales_the_old_one_down() {
    let (server, client) = setup().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 3, "nginx:1.27", json!({}), json!({})),
        )
        .await
        .unwrap();
    wait_available(&deployments, "web", 3).await;
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}})),
        )
        .await
        .unwrap();
    let rolled = wait_available(&deployments, "web", 3).await;
    assert_eq!(
        rolled.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"],
        "2"
    );
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let mut by_revision: Vec<(String, i32)> = sets
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|rs| {
            (
                rs.metadata.annotations.as_ref().unwrap()["deployment.kubernetes.io/revision"]
                    .clone(),
                rs.spec.replicas.unwrap(),
            )
        })
        .collect();
    by_revision.sort();
    assert_eq!(by_revision, [("1".to_owned(), 0), ("2".to_owned(), 3)]);
    let pods = eventually("only new pods", LIMIT, || async {
        let pods = pods_of(&Api::namespaced(client.clone(), "default"), "app=web").await;
        (pods.len() == 3).then_some(pods)
    })
    .await;
    for pod in pods {
        assert_eq!(
            pod.spec.unwrap().containers[0].image.as_deref(),
            Some("nginx:1.28")
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn scaling_through_the_scale_subresource_flows_to_the_pods() {
    let (server, client) = setup().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 1, "nginx", json!({}), json!({})),
        )
        .await
        .unwrap();
    wait_available(&deployments, "web", 1).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for replicas in [4, 2] {
        deployments
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"replicas": replicas}})),
            )
            .await
            .unwrap();
        wait_available(&deployments, "web", replicas).await;
        eventually(&format!("{replicas} pods"), LIMIT, || async {
            (pods_of(&pods, "app=web").await.len() == usize::try_from(replicas).unwrap())
                .then_some(())
        })
        .await;
    }
    let scale = deployments.get_scale("web").await.unwrap();
    assert_eq!(scale.status.unwrap().replicas, 2);
    server.stop().await;
}

#[tokio::test]
async fn pods_of_an_image_containing_fail_never_become_ready_and_the_rollout_times_out() {
    let (server, client) = setup().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment(
                "broken",
                2,
                "nginx:fail",
                json!({"progressDeadlineSeconds": 1}),
                json!({}),
            ),
        )
        .await
        .unwrap();
    let timed_out = eventually("the progress deadline to pass", LIMIT, || async {
        let deployment = deployments.get("broken").await.unwrap();
        (condition(&status_conditions(&deployment), "Progressing")
            == Some(("False".into(), "ProgressDeadlineExceeded".into())))
        .then_some(deployment)
    })
    .await;
    let conditions = status_conditions(&timed_out);
    assert_eq!(
        condition(&conditions, "Available").unwrap(),
        ("False".into(), "MinimumReplicasUnavailable".into())
    );
    let status = timed_out.status.unwrap();
    assert_eq!(status.available_replicas, None);
    assert_eq!(status.unavailable_replicas, Some(2));
    let progressing = conditions
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert!(
        progressing["message"]
            .as_str()
            .unwrap()
            .ends_with("has timed out progressing.")
    );
    for pod in pods_of(&Api::namespaced(client.clone(), "default"), "app=broken").await {
        let status = pod.status.unwrap();
        assert_eq!(status.phase.as_deref(), Some("Running"));
        let ready = status
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_deref()),
            ("False", Some("ContainersNotReady"))
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn the_ready_after_annotation_delays_readiness() {
    let (server, client) = setup().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let started = Instant::now();
    deployments
        .create(
            &PostParams::default(),
            &deployment(
                "slow",
                1,
                "nginx",
                json!({}),
                json!({"sluice.dev/ready-after": "2s"}),
            ),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let running = eventually("a running pod", LIMIT, || async {
        pods_of(&pods, "app=slow")
            .await
            .into_iter()
            .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
    })
    .await;
    let ready = running
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "False");
    wait_available(&deployments, "slow", 1).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "ready after {:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_statefulset_creates_ordinal_pods_claims_and_revisions() {
    let (server, client) = setup().await;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    sets.create(
        &PostParams::default(),
        &object(json!({
            "metadata": {"name": "db"},
            "spec": {
                "replicas": 3, "serviceName": "db",
                "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "pg", "image": "postgres:17"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}],
            },
        })),
    )
    .await
    .unwrap();
    let ready = eventually("3 ready replicas", LIMIT, || async {
        let set = sets.get("db").await.unwrap();
        let status = set.status.clone()?;
        (status.ready_replicas == Some(3) && status.current_revision == status.update_revision)
            .then_some(set)
    })
    .await;
    let status = ready.status.unwrap();
    assert_eq!(status.updated_replicas, Some(3));
    assert_eq!(status.observed_generation, ready.metadata.generation);
    let update_revision = status.update_revision.unwrap();
    assert!(update_revision.starts_with("db-"));
    let revisions: Api<ControllerRevision> = Api::namespaced(client.clone(), "default");
    assert!(revisions.get_opt(&update_revision).await.unwrap().is_some());

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let mut names: Vec<String> = pods_of(&pods, "app=db")
        .await
        .into_iter()
        .map(|p| p.metadata.name.unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    let first = pods.get("db-0").await.unwrap();
    assert_eq!(
        first.metadata.labels.as_ref().unwrap()["controller-revision-hash"],
        update_revision
    );
    assert_eq!(
        first.metadata.labels.as_ref().unwrap()["statefulset.kubernetes.io/pod-name"],
        "db-0"
    );
    assert_eq!(
        first.spec.as_ref().unwrap().hostname.as_deref(),
        Some("db-0")
    );
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    let claim = claims.get("data-db-0").await.unwrap();
    assert_eq!(claim.status.unwrap().phase.as_deref(), Some("Bound"));

    sets.patch_scale(
        "db",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 1}})),
    )
    .await
    .unwrap();
    eventually("scale-down from the highest ordinal", LIMIT, || async {
        let names: Vec<String> = pods_of(&pods, "app=db")
            .await
            .into_iter()
            .map(|p| p.metadata.name.unwrap())
            .collect();
        (names == ["db-0"]).then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_daemonset_runs_one_pod_on_the_simulated_node() {
    let (server, client) = setup().await;
    let nodes: Api<Node> = Api::all(client.clone());
    let node = nodes.get("sluice-node").await.unwrap();
    let ready = node
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");

    let daemons: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
    daemons
        .create(
            &PostParams::default(),
            &object(json!({
                "metadata": {"name": "agent"},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "fluent-bit"}]}}},
            })),
        )
        .await
        .unwrap();
    let status = eventually("the daemon pod to be available", LIMIT, || async {
        let status = daemons.get("agent").await.unwrap().status?;
        (status.number_available == Some(1)).then_some(status)
    })
    .await;
    assert_eq!(status.desired_number_scheduled, 1);
    assert_eq!(status.current_number_scheduled, 1);
    assert_eq!(status.updated_number_scheduled, Some(1));
    assert_eq!(status.number_ready, 1);
    let pods = pods_of(&Api::namespaced(client.clone(), "kube-system"), "app=agent").await;
    assert_eq!(pods.len(), 1);
    assert_eq!(
        pods[0].spec.as_ref().unwrap().node_name.as_deref(),
        Some("sluice-node")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_job_runs_its_pods_to_completion() {
    let (server, client) = setup().await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &object(json!({
            "metadata": {"name": "pi"},
            "spec": {"completions": 3, "parallelism": 2,
                     "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl"}]}}},
        })),
    )
    .await
    .unwrap();
    let done = eventually("the job to complete", LIMIT, || async {
        let job = jobs.get("pi").await.unwrap();
        (condition(&status_conditions(&job), "Complete")
            == Some(("True".into(), "CompletionsReached".into())))
        .then_some(job)
    })
    .await;
    let conditions = status_conditions(&done);
    assert_eq!(
        condition(&conditions, "SuccessCriteriaMet").unwrap().0,
        "True"
    );
    let status = done.status.unwrap();
    assert_eq!(status.succeeded, Some(3));
    assert!(status.completion_time.is_some() && status.start_time.is_some());
    let selector = done.spec.unwrap().selector.unwrap().match_labels.unwrap();
    assert_eq!(
        selector["batch.kubernetes.io/controller-uid"],
        done.metadata.uid.unwrap()
    );
    let pods = pods_of(&Api::namespaced(client.clone(), "default"), "job-name=pi").await;
    assert_eq!(pods.len(), 3);
    assert!(
        pods.iter()
            .all(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Succeeded"))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_job_whose_pods_fail_gives_up_after_its_backoff_limit() {
    let (server, client) = setup().await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    jobs.create(
        &PostParams::default(),
        &object(json!({
            "metadata": {"name": "doomed"},
            "spec": {"backoffLimit": 1,
                     "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox-fail"}]}}},
        })),
    )
    .await
    .unwrap();
    let failed = eventually("the job to fail", LIMIT, || async {
        let job = jobs.get("doomed").await.unwrap();
        (condition(&status_conditions(&job), "Failed")
            == Some(("True".into(), "BackoffLimitExceeded".into())))
        .then_some(job)
    })
    .await;
    assert_eq!(failed.status.unwrap().failed, Some(2));
    let refused = jobs
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "always"},
                           "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(refused, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("spec.template.spec.restartPolicy: Unsupported value: \"Always\"")),
        "{refused:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cronjob_creates_jobs_on_its_schedule() {
    let (server, client) = setup().await;
    let cron_jobs: Api<CronJob> = Api::namespaced(client.clone(), "default");
    cron_jobs
        .create(
            &PostParams::default(),
            &object(json!({
                "metadata": {"name": "tick"},
                "spec": {"schedule": "@every 1s",
                         "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}},
            })),
        )
        .await
        .unwrap();
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let job = eventually("a scheduled job", LIMIT, || async {
        jobs.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .next()
    })
    .await;
    assert!(job.metadata.name.as_ref().unwrap().starts_with("tick-"));
    assert_eq!(
        job.metadata.owner_references.as_ref().unwrap()[0].kind,
        "CronJob"
    );
    assert!(
        job.metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key("batch.kubernetes.io/cronjob-scheduled-timestamp")
    );
    let status = eventually("the last successful time", LIMIT, || async {
        let status = cron_jobs.get("tick").await.unwrap().status?;
        status.last_successful_time.is_some().then_some(status)
    })
    .await;
    assert!(status.last_schedule_time.is_some());

    let invalid = cron_jobs
        .create(
            &PostParams::default(),
            &object(json!({
                "metadata": {"name": "bad"},
                "spec": {"schedule": "61 * * * *",
                         "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}},
            })),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("spec.schedule: Invalid value: \"61 * * * *\"")),
        "{invalid:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn services_get_stable_cluster_ips_from_the_service_range() {
    let (server, client) = setup().await;
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let service = |name: &str, cluster_ip: Option<&str>| -> Service {
        let mut spec = json!({"selector": {"app": name}, "ports": [{"port": 80}]});
        if let Some(ip) = cluster_ip {
            spec["clusterIP"] = json!(ip);
        }
        object(json!({"metadata": {"name": name}, "spec": spec}))
    };
    let a = services
        .create(&PostParams::default(), &service("a", None))
        .await
        .unwrap();
    let b = services
        .create(&PostParams::default(), &service("b", None))
        .await
        .unwrap();
    let a_spec = a.spec.unwrap();
    let a_ip = a_spec.cluster_ip.clone().unwrap();
    assert!(a_ip.starts_with("10.96."), "{a_ip}");
    assert_ne!(Some(a_ip.clone()), b.spec.unwrap().cluster_ip);
    assert_eq!(a_spec.cluster_ips, Some(vec![a_ip.clone()]));
    assert_eq!(a_spec.ip_families, Some(vec!["IPv4".to_owned()]));
    assert_eq!(a_spec.type_.as_deref(), Some("ClusterIP"));
    assert_eq!(a_spec.ports.unwrap()[0].protocol.as_deref(), Some("TCP"));

    let headless = services
        .create(&PostParams::default(), &service("headless", Some("None")))
        .await
        .unwrap();
    assert_eq!(headless.spec.unwrap().cluster_ip.as_deref(), Some("None"));

    let taken = services
        .create(&PostParams::default(), &service("copy", Some(&a_ip)))
        .await
        .unwrap_err();
    assert!(
        matches!(taken, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("provided IP is already allocated")),
        "{taken:?}"
    );
    let outside = services
        .create(
            &PostParams::default(),
            &service("outside", Some("192.168.0.1")),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(outside, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("The range of valid IPs is 10.96.0.0/16")),
        "{outside:?}"
    );

    // Replacing without the IP keeps it; changing it is refused.
    let mut current = services.get("a").await.unwrap();
    current.spec.as_mut().unwrap().cluster_ip = None;
    current.spec.as_mut().unwrap().cluster_ips = None;
    let replaced = services
        .replace("a", &PostParams::default(), &current)
        .await
        .unwrap();
    assert_eq!(replaced.spec.unwrap().cluster_ip, Some(a_ip.clone()));
    let moved = services
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"clusterIP": "10.96.0.77", "clusterIPs": ["10.96.0.77"]}}),
            ),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(moved, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("may not change once set")),
        "{moved:?}"
    );

    // Deleting a Service frees its IP.
    services
        .delete("a", &DeleteParams::default())
        .await
        .unwrap();
    let reused = services
        .create(&PostParams::default(), &service("again", Some(&a_ip)))
        .await
        .unwrap();
    assert_eq!(reused.spec.unwrap().cluster_ip, Some(a_ip));
    server.stop().await;
}

#[tokio::test]
async fn endpoints_list_the_ready_pods_a_service_selects() {
    let (server, client) = setup().await;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 2, "nginx", json!({}), json!({})),
        )
        .await
        .unwrap();
    let services: Api<Service> = Api::namespaced(client.clone(), "default");
    let service = services
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})),
        )
        .await
        .unwrap();
    wait_available(&deployments, "web", 2).await;
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "default");
    let found = eventually("two ready addresses", LIMIT, || async {
        let found = endpoints.get_opt("web").await.unwrap()?;
        let subset = found.subsets.clone()?.into_iter().next()?;
        (subset.addresses.as_ref().map(Vec::len) == Some(2)).then_some(subset)
    })
    .await;
    let pod_ips: BTreeSet<String> = pods_of(&Api::namespaced(client.clone(), "default"), "app=web")
        .await
        .into_iter()
        .map(|p| p.status.unwrap().pod_ip.unwrap())
        .collect();
    let addresses: BTreeSet<String> = found.addresses.unwrap().into_iter().map(|a| a.ip).collect();
    assert_eq!(addresses, pod_ips);
    let port = &found.ports.unwrap()[0];
    assert_eq!((port.port, port.name.as_deref()), (8080, Some("http")));

    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "default");
    let slice = slices
        .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(slice.address_type, "IPv4");
    let slice_endpoints = slice.endpoints.unwrap();
    assert_eq!(slice_endpoints.len(), 2);
    assert!(
        slice_endpoints
            .iter()
            .all(|e| e.conditions.as_ref().unwrap().ready == Some(true))
    );
    assert_eq!(
        slice.metadata.owner_references.unwrap()[0].uid,
        service.metadata.uid.unwrap()
    );

    // Scaling down removes the address.
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .unwrap();
    eventually("one address", LIMIT, || async {
        let found = endpoints.get("web").await.unwrap();
        let count = found
            .subsets
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.addresses.map_or(0, |a| a.len()))
            .sum::<usize>();
        (count == 1).then_some(())
    })
    .await;
    // Deleting the Service deletes its Endpoints and (by owner reference) its slices.
    services
        .delete("web", &DeleteParams::default())
        .await
        .unwrap();
    eventually("endpoints to go", LIMIT, || async {
        let gone = endpoints.get_opt("web").await.unwrap().is_none()
            && slices
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .is_empty();
        gone.then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn a_pod_is_bound_to_the_node_unless_nothing_fits() {
    let (server, client) = setup().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let plain = pods
        .create(&PostParams::default(), &object(json!({"metadata": {"name": "plain"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})))
        .await
        .unwrap();
    let spec = plain.spec.unwrap();
    assert_eq!(spec.node_name.as_deref(), Some("sluice-node"));
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        spec.containers[0].image_pull_policy.as_deref(),
        Some("Always")
    );
    eventually("the pod to run", LIMIT, || async {
        let pod = pods.get("plain").await.unwrap();
        (pod.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await;

    let stuck = pods
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "stuck"}, "spec": {"nodeSelector": {"disk": "ssd"}, "containers": [{"name": "c", "image": "nginx"}]}})),
        )
        .await
        .unwrap();
    let status = stuck.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let scheduled = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "PodScheduled")
        .unwrap();
    assert_eq!(
        (scheduled.status.as_str(), scheduled.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
    server.stop().await;
}

#[tokio::test]
async fn after_a_restart_the_controllers_pick_up_where_they_left_off() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config =
        || sluice_apiserver::Config::new(dir.path(), "127.0.0.1:0".parse().expect("an address"));
    let server = sluice_apiserver::start(config(), &[]).await.unwrap();
    let client = server.client().await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 2, "nginx", json!({}), json!({})),
        )
        .await
        .unwrap();
    wait_available(&deployments, "web", 2).await;
    server.stop().await;

    let server = sluice_apiserver::start(config(), &[]).await.unwrap();
    let client = server.client().await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    assert_eq!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .patch_scale(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    wait_available(&deployments, "web", 4).await;
    let pods = pods_of(&Api::namespaced(client.clone(), "default"), "app=web").await;
    let ips: BTreeSet<String> = pods
        .into_iter()
        .map(|p| p.status.unwrap().pod_ip.unwrap())
        .collect();
    assert_eq!(ips.len(), 4, "pod IPs stay unique across restarts: {ips:?}");
    server.stop().await;
}

#[tokio::test]
async fn without_controllers_objects_stay_as_written() {
    let server = sluice_apiserver::testing::start_without_controllers(&[])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deployments
        .create(
            &PostParams::default(),
            &deployment("web", 1, "nginx", json!({}), json!({})),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(deployments.get("web").await.unwrap().status.is_none());
    let sets: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    assert!(
        sets.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    server.stop().await;
}
