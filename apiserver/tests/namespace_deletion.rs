//! Namespace deletion, through kube-rs: a deleted namespace goes `Terminating`, its
//! content is deleted (finalizers respected and reported in its conditions), new content
//! is refused, and it disappears once empty.

mod lifecycle_support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use lifecycle_support::{eventually, object};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(10);

fn condition(namespace: &Namespace, type_: &str) -> Option<(String, String, String)> {
    let conditions = namespace.status.as_ref()?.conditions.as_ref()?;
    let found = conditions.iter().find(|c| c.type_ == type_)?;
    Some((
        found.status.clone(),
        found.reason.clone().unwrap_or_default(),
        found.message.clone().unwrap_or_default(),
    ))
}

#[tokio::test]
async fn a_deleted_namespace_is_emptied_and_disappears() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "team"}})),
        )
        .await
        .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "team");
    for name in ["a", "b"] {
        config_maps
            .create(
                &PostParams::default(),
                &object(json!({"metadata": {"name": name}})),
            )
            .await
            .unwrap();
    }
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "team");
    deployments
        .create(
            &PostParams::default(),
            &object(json!({
                "metadata": {"name": "web"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
            })),
        )
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "team");
    eventually("the deployment's pods", LIMIT, || async {
        (pods.list(&ListParams::default()).await.unwrap().items.len() == 2).then_some(())
    })
    .await;

    let deleted = namespaces
        .delete("team", &DeleteParams::default())
        .await
        .unwrap();
    let terminating = deleted
        .left()
        .expect("the namespace waits for its finalizer");
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    eventually("the namespace to disappear", LIMIT, || async {
        namespaces
            .get_opt("team")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        config_maps
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        pods.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        deployments
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    server.stop().await;
}

#[tokio::test]
async fn content_with_finalizers_holds_a_terminating_namespace_and_is_reported() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "held"}})),
        )
        .await
        .unwrap();
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), "held");
    config_maps
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "keep", "finalizers": ["example.com/hold"]}})),
        )
        .await
        .unwrap();
    namespaces
        .delete("held", &DeleteParams::default())
        .await
        .unwrap();

    let namespace = eventually(
        "the namespace to report remaining content",
        LIMIT,
        || async {
            let namespace = namespaces.get("held").await.unwrap();
            condition(&namespace, "NamespaceContentRemaining")
                .is_some_and(|c| c.0 == "True")
                .then_some(namespace)
        },
    )
    .await;
    assert_eq!(
        condition(&namespace, "NamespaceContentRemaining").unwrap(),
        (
            "True".to_owned(),
            "SomeResourcesRemain".to_owned(),
            "Some resources are remaining: configmaps. has 1 resource instances".to_owned()
        )
    );
    assert_eq!(
        condition(&namespace, "NamespaceFinalizersRemaining").unwrap(),
        (
            "True".to_owned(),
            "SomeFinalizersRemain".to_owned(),
            "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances".to_owned()
        )
    );
    assert_eq!(
        condition(&namespace, "NamespaceDeletionContentFailure")
            .unwrap()
            .1,
        "ContentDeleted"
    );
    assert_eq!(
        namespace.spec.unwrap().finalizers,
        Some(vec!["kubernetes".to_owned()])
    );
    assert!(
        config_maps
            .get("keep")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
    );

    let refused = config_maps
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "late"}})),
        )
        .await
        .unwrap_err();
    match refused {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 403);
            assert_eq!(
                status.message,
                "unable to create new content in namespace held because it is being terminated"
            );
        }
        other => panic!("unexpected {other:?}"),
    }

    config_maps
        .patch(
            "keep",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    eventually("the namespace to disappear", LIMIT, || async {
        namespaces
            .get_opt("held")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    server.stop().await;
}
