//! The garbage collector, through kube-rs: owner references behave as on a real cluster
//! for background, foreground and orphan deletion, and unresolvable owners are treated as
//! upstream treats them.

mod lifecycle_support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace};
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use lifecycle_support::{eventually, object};
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(10);

fn config_map(name: &str, owners: serde_json::Value, finalizers: &[&str]) -> ConfigMap {
    object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "ownerReferences": owners, "finalizers": finalizers},
    }))
}

fn owned_by(owner: &ConfigMap, block: bool) -> serde_json::Value {
    json!([{
        "apiVersion": "v1", "kind": "ConfigMap",
        "name": owner.metadata.name, "uid": owner.metadata.uid, "blockOwnerDeletion": block,
    }])
}

async fn create(api: &Api<ConfigMap>, object: ConfigMap) -> ConfigMap {
    api.create(&PostParams::default(), &object)
        .await
        .expect("the call succeeds")
}

async fn gone(api: &Api<ConfigMap>, name: &str) {
    eventually(&format!("{name} to be deleted"), LIMIT, || async {
        api.get_opt(name)
            .await
            .expect("the call succeeds")
            .is_none()
            .then_some(())
    })
    .await;
}

async fn release(api: &Api<ConfigMap>, name: &str) {
    api.patch(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("the call succeeds");
}

async fn setup() -> (
    sluice_apiserver::testing::TestServer,
    Client,
    Api<ConfigMap>,
) {
    let server = sluice_apiserver::testing::start(&[])
        .await
        .expect("the call succeeds");
    let client = server.client().await.expect("the call succeeds");
    let api = Api::namespaced(client.clone(), "default");
    (server, client, api)
}

#[tokio::test]
async fn dependents_of_a_deleted_owner_are_deleted_in_the_background() {
    let (server, _, api) = setup().await;
    let owner = create(&api, config_map("owner", json!([]), &[])).await;
    create(&api, config_map("first", owned_by(&owner, false), &[])).await;
    create(&api, config_map("second", owned_by(&owner, true), &[])).await;

    api.delete("owner", &DeleteParams::default()).await.unwrap();
    assert!(
        api.get_opt("owner").await.unwrap().is_none(),
        "a background delete is immediate"
    );
    gone(&api, "first").await;
    gone(&api, "second").await;
    server.stop().await;
}

#[tokio::test]
async fn foreground_deletion_keeps_the_owner_until_blocking_dependents_are_gone() {
    let (server, _, api) = setup().await;
    let owner = create(&api, config_map("owner", json!([]), &[])).await;
    create(
        &api,
        config_map("blocking", owned_by(&owner, true), &["example.com/hold"]),
    )
    .await;

    api.delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    // The dependent is deleted (it waits for its own finalizer) and the owner waits for it.
    eventually("the dependent to be terminating", LIMIT, || async {
        api.get("blocking")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .map(|_| ())
    })
    .await;
    let waiting = api.get("owner").await.unwrap();
    assert!(waiting.metadata.deletion_timestamp.is_some());
    assert_eq!(
        waiting.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_owned()])
    );

    release(&api, "blocking").await;
    gone(&api, "blocking").await;
    gone(&api, "owner").await;
    server.stop().await;
}

#[tokio::test]
async fn a_dependent_that_does_not_block_its_owner_is_deleted_without_holding_it() {
    let (server, _, api) = setup().await;
    let owner = create(&api, config_map("owner", json!([]), &[])).await;
    create(
        &api,
        config_map("lenient", owned_by(&owner, false), &["example.com/hold"]),
    )
    .await;

    api.delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    gone(&api, "owner").await;
    // It is deleted too, but its finalizer did not hold the owner.
    eventually("the dependent to be terminating", LIMIT, || async {
        api.get("lenient")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .map(|_| ())
    })
    .await;
    release(&api, "lenient").await;
    gone(&api, "lenient").await;
    server.stop().await;
}

#[tokio::test]
async fn orphan_deletion_keeps_dependents_and_strips_their_owner_references() {
    let (server, _, api) = setup().await;
    let owner = create(&api, config_map("owner", json!([]), &[])).await;
    let other = create(&api, config_map("other-owner", json!([]), &[])).await;
    let mut both = owned_by(&owner, true);
    both.as_array_mut()
        .unwrap()
        .extend(owned_by(&other, false).as_array().unwrap().clone());
    create(&api, config_map("kept", both, &[])).await;

    api.delete("owner", &DeleteParams::orphan()).await.unwrap();
    gone(&api, "owner").await;
    let kept = api.get("kept").await.unwrap();
    let owners: Vec<String> = kept
        .metadata
        .owner_references
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(owners, ["other-owner"]);
    server.stop().await;
}

#[tokio::test]
async fn a_dependent_whose_owner_uid_does_not_match_is_collected() {
    let (server, _, api) = setup().await;
    create(&api, config_map("owner", json!([]), &[])).await;
    let stale = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "00000000-0000-4000-8000-000000000000"}]);
    create(&api, config_map("stale", stale, &[])).await;
    gone(&api, "stale").await;
    assert!(api.get_opt("owner").await.unwrap().is_some());
    server.stop().await;
}

#[tokio::test]
async fn a_dependent_with_a_living_owner_survives_and_loses_the_reference_to_the_dead_one() {
    let (server, _, api) = setup().await;
    let dead = create(&api, config_map("dead", json!([]), &[])).await;
    let alive = create(&api, config_map("alive", json!([]), &[])).await;
    let mut both = owned_by(&dead, false);
    both.as_array_mut()
        .unwrap()
        .extend(owned_by(&alive, false).as_array().unwrap().clone());
    create(&api, config_map("shared", both, &[])).await;

    api.delete("dead", &DeleteParams::default()).await.unwrap();
    eventually("the dead owner's reference to go", LIMIT, || async {
        let shared = api.get("shared").await.unwrap();
        let owners: Vec<String> = shared
            .metadata
            .owner_references
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.name)
            .collect();
        (owners == ["alive"]).then_some(())
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn an_owner_in_another_namespace_counts_as_absent() {
    let (server, client, api) = setup().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "elsewhere"}})),
        )
        .await
        .unwrap();
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "elsewhere");
    let owner = create(&other, config_map("owner", json!([]), &[])).await;
    create(&api, config_map("cross", owned_by(&owner, false), &[])).await;
    gone(&api, "cross").await;
    assert!(other.get_opt("owner").await.unwrap().is_some());
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let event = events
        .list(&ListParams::default().fields("reason=OwnerRefInvalidNamespace"))
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("an OwnerRefInvalidNamespace event");
    assert_eq!(
        event.message.as_deref(),
        Some(
            format!(
                "ownerRef [v1/ConfigMap, namespace: default, name: owner, uid: {}] does not exist in namespace \"default\"",
                owner.metadata.uid.as_deref().unwrap()
            )
            .as_str()
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn a_cluster_scoped_owner_collects_its_namespaced_dependents() {
    let (server, client, api) = setup().await;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let role = roles
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "owner-role"}})),
        )
        .await
        .unwrap();
    let owners = json!([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "name": "owner-role", "uid": role.metadata.uid}]);
    create(&api, config_map("by-role", owners, &[])).await;
    // While the owner lives, the dependent stays.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(api.get_opt("by-role").await.unwrap().is_some());
    roles
        .delete("owner-role", &DeleteParams::default())
        .await
        .unwrap();
    gone(&api, "by-role").await;
    server.stop().await;
}

#[tokio::test]
async fn a_cluster_scoped_dependent_of_a_namespaced_kind_is_left_alone_with_a_warning() {
    let (server, client, api) = setup().await;
    let owner = create(&api, config_map("owner", json!([]), &[])).await;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    roles
        .create(
            &PostParams::default(),
            &object(json!({"metadata": {"name": "confused", "ownerReferences": owned_by(&owner, false)}})),
        )
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let event = eventually("an OwnerRefInvalidNamespace event", LIMIT, || async {
        events
            .list(&ListParams::default().fields("reason=OwnerRefInvalidNamespace"))
            .await
            .unwrap()
            .items
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(event.involved_object.name.as_deref(), Some("confused"));
    assert!(roles.get_opt("confused").await.unwrap().is_some());
    server.stop().await;
}
