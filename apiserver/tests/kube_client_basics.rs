//! kube-rs against the server: the everyday calls a controller makes behave as on a real
//! cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        data: Some([("key".to_owned(), value.to_owned())].into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn objects_can_be_created_read_listed_updated_and_deleted() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    let created = api
        .create(&PostParams::default(), &config_map("a", "1"))
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    assert!(created.metadata.creation_timestamp.is_some());
    let rv1: u64 = created
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();

    let fetched = api.get("a").await.unwrap();
    assert_eq!(fetched.data.unwrap()["key"], "1");

    let mut changed = created.clone();
    changed.data = Some([("key".to_owned(), "2".to_owned())].into());
    let updated = api
        .replace("a", &PostParams::default(), &changed)
        .await
        .unwrap();
    let rv2: u64 = updated
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);
    assert_eq!(updated.metadata.uid.as_deref(), Some(uid.as_str()));

    // Writing from the stale copy conflicts.
    let stale = api
        .replace("a", &PostParams::default(), &changed)
        .await
        .unwrap_err();
    assert!(
        matches!(stale, kube::Error::Api(ref s) if s.code == 409),
        "{stale:?}"
    );

    let patched = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"team": "x"}}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.labels.unwrap()["team"], "x");

    api.create(&PostParams::default(), &config_map("b", "1"))
        .await
        .unwrap();
    let listed = api
        .list(&ListParams::default().labels("team=x"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );

    api.delete("a", &DeleteParams::default()).await.unwrap();
    let missing = api.get("a").await.unwrap_err();
    assert!(
        matches!(missing, kube::Error::Api(ref s) if s.code == 404 && s.reason == "NotFound"),
        "{missing:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_watch_sees_changes_in_order() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let start = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = api
        .watch(&WatchParams::default(), &start)
        .await
        .unwrap()
        .boxed();
    api.create(&PostParams::default(), &config_map("w", "1"))
        .await
        .unwrap();
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"data": {"key": "2"}})),
    )
    .await
    .unwrap();
    api.delete("w", &DeleteParams::default()).await.unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        match stream.try_next().await.unwrap().unwrap() {
            WatchEvent::Added(_) => kinds.push("added"),
            WatchEvent::Modified(_) => kinds.push("modified"),
            WatchEvent::Deleted(_) => kinds.push("deleted"),
            WatchEvent::Bookmark(_) => {}
            WatchEvent::Error(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(kinds, ["added", "modified", "deleted"]);
    server.stop().await;
}

#[tokio::test]
async fn objects_in_a_missing_namespace_are_refused() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "nowhere");
    let error = api
        .create(&PostParams::default(), &config_map("x", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 404),
        "{error:?}"
    );
    let namespaces: Api<Namespace> = Api::all(client);
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert!(names.contains(&"default".to_owned()) && names.contains(&"kube-system".to_owned()));
    server.stop().await;
}
