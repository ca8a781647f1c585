//! Server-side apply and managedFields through kube-rs: creating by apply, managers sharing
//! an object, pruning, conflicts and `force`, ownership moving between managers, `/status`,
//! list-map merging on built-ins and custom resources.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

fn apply(manager: &str) -> PatchParams {
    PatchParams::apply(manager)
}

fn forced(manager: &str) -> PatchParams {
    PatchParams::apply(manager).force()
}

/// `managedFields` as `(manager, operation, subresource, fieldsV1)`, in the order served.
fn owners(object: &impl serde::Serialize) -> Vec<(String, String, String, Value)> {
    let value = serde_json::to_value(object).expect("objects serialize");
    value["metadata"]["managedFields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or_default().to_owned(),
                e["operation"].as_str().unwrap_or_default().to_owned(),
                e["subresource"].as_str().unwrap_or_default().to_owned(),
                e["fieldsV1"].clone(),
            )
        })
        .collect()
}

fn fields_of(object: &impl serde::Serialize, manager: &str) -> Option<Value> {
    owners(object)
        .into_iter()
        .find(|(m, ..)| m == manager)
        .map(|(.., fields)| fields)
}

fn api_error(error: kube::Error) -> kube::core::Status {
    match error {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn config_map(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data})
}

fn deployment(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": spec})
}

fn web_spec(replicas: i64, containers: Value) -> Value {
    json!({
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}
    })
}

/// A namespaced CRD `widgets.example.com` with a status subresource and a list map of
/// ports keyed by `port` and `protocol` (defaulting to TCP).
fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {
                            "size": {"type": "integer"},
                            "color": {"type": "string"},
                            "ports": {
                                "type": "array",
                                "x-kubernetes-list-type": "map",
                                "x-kubernetes-list-map-keys": ["port", "protocol"],
                                "items": {"type": "object", "required": ["port"], "properties": {
                                    "port": {"type": "integer"},
                                    "protocol": {"type": "string", "default": "TCP"},
                                    "name": {"type": "string"}
                                }}
                            },
                            "tags": {"type": "array", "items": {"type": "string"}}
                        }},
                        "status": {"type": "object", "properties": {
                            "phase": {"type": "string"}
                        }}
                    }
                }}
            }]
        }
    })
}

fn widgets(client: kube::Client) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    Api::namespaced_with(client, "default", &resource)
}

fn widget(spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": spec
    }))
    .expect("a valid object")
}

#[tokio::test]
async fn apply_creates_a_missing_object_with_201_and_an_apply_entry() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let request =
        http::Request::patch("/api/v1/namespaces/default/configmaps/cm?fieldManager=creator")
            .header("content-type", "application/apply-patch+yaml")
            .body(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: \"1\"\n"
                    .as_bytes()
                    .to_vec(),
            )
            .unwrap();
    let response = client.send(request.map(Into::into)).await.unwrap();
    assert_eq!(response.status(), 201);

    let api: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let stored = api.get("cm").await.unwrap();
    assert_eq!(stored.data.as_ref().unwrap()["a"], "1");
    assert_eq!(
        owners(&stored),
        vec![(
            "creator".to_owned(),
            "Apply".to_owned(),
            String::new(),
            json!({"f:data": {"f:a": {}}})
        )]
    );
    let entry = &stored.metadata.managed_fields.as_ref().unwrap()[0];
    assert_eq!(entry.api_version.as_deref(), Some("v1"));
    assert_eq!(entry.fields_type.as_deref(), Some("FieldsV1"));
    assert!(entry.time.is_some());

    // Applying the same configuration again changes nothing, not even the revision.
    let again = api
        .patch(
            "cm",
            &apply("creator"),
            &Patch::Apply(config_map(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        stored.metadata.resource_version
    );
    server.stop().await;
}

#[tokio::test]
async fn two_managers_owning_different_fields_both_survive() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client().await.unwrap());
    api.patch(
        "cm",
        &apply("one"),
        &Patch::Apply(config_map(json!({"a": "1"}))),
    )
    .await
    .unwrap();
    let both = api
        .patch(
            "cm",
            &apply("two"),
            &Patch::Apply(config_map(json!({"b": "2"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        both.data.as_ref().unwrap(),
        &[
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned())
        ]
        .into()
    );
    assert_eq!(
        fields_of(&both, "one"),
        Some(json!({"f:data": {"f:a": {}}}))
    );
    assert_eq!(
        fields_of(&both, "two"),
        Some(json!({"f:data": {"f:b": {}}}))
    );

    // Re-applying one's configuration leaves two's field alone.
    let again = api
        .patch(
            "cm",
            &apply("one"),
            &Patch::Apply(config_map(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    assert_eq!(again.data.unwrap()["b"], "2");
    server.stop().await;
}

#[tokio::test]
async fn fields_a_manager_stops_applying_are_removed_unless_someone_else_owns_them() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client().await.unwrap());
    api.patch(
        "cm",
        &apply("one"),
        &Patch::Apply(config_map(json!({"a": "1", "shared": "s", "gone": "g"}))),
    )
    .await
    .unwrap();
    api.patch(
        "cm",
        &apply("two"),
        &Patch::Apply(config_map(json!({"shared": "s"}))),
    )
    .await
    .unwrap();
    let pruned = api
        .patch(
            "cm",
            &apply("one"),
            &Patch::Apply(config_map(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    let data = pruned.data.clone().unwrap();
    assert_eq!(data.get("gone"), None);
    assert_eq!(data["shared"], "s");
    assert_eq!(data["a"], "1");
    assert_eq!(
        fields_of(&pruned, "one"),
        Some(json!({"f:data": {"f:a": {}}}))
    );
    assert_eq!(
        fields_of(&pruned, "two"),
        Some(json!({"f:data": {"f:shared": {}}}))
    );

    // Labels go the same way.
    let labelled = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"team": "x"}}, "data": {"a": "1"}});
    api.patch("cm", &apply("one"), &Patch::Apply(labelled))
        .await
        .unwrap();
    let unlabelled = api
        .patch(
            "cm",
            &apply("one"),
            &Patch::Apply(config_map(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    assert!(unlabelled.metadata.labels.unwrap_or_default().is_empty());
    assert_eq!(unlabelled.metadata.name.as_deref(), Some("cm"));
    server.stop().await;
}

#[tokio::test]
async fn a_conflicting_apply_fails_with_409_naming_the_fields_and_force_takes_them() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<Deployment> = Api::default_namespaced(server.client().await.unwrap());
    let app = json!([{"name": "app", "image": "nginx:1"}]);
    api.patch(
        "web",
        &apply("owner"),
        &Patch::Apply(deployment(web_spec(2, app.clone()))),
    )
    .await
    .unwrap();

    let contender = deployment(json!({"replicas": 3, "template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:2"}
    ]}}}));
    let error = api_error(
        api.patch("web", &apply("contender"), &Patch::Apply(contender.clone()))
            .await
            .unwrap_err(),
    );
    assert_eq!(error.code, 409);
    assert_eq!(error.reason, "Conflict");
    assert_eq!(
        error.message,
        "Apply failed with 2 conflicts: conflicts with \"owner\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image"
    );

    // The Status body lists each field as a cause.
    let client = server.client().await.unwrap();
    let request = http::Request::patch(
        "/apis/apps/v1/namespaces/default/deployments/web?fieldManager=contender",
    )
    .header("content-type", "application/apply-patch+yaml")
    .body(serde_json::to_vec(&contender).unwrap())
    .unwrap();
    let response = client.send(request.map(Into::into)).await.unwrap();
    assert_eq!(response.status(), 409);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let status: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        status["details"]["causes"],
        json!([
            {"reason": "FieldManagerConflict", "message": "conflict with \"owner\"", "field": ".spec.replicas"},
            {"reason": "FieldManagerConflict", "message": "conflict with \"owner\"",
             "field": ".spec.template.spec.containers[name=\"app\"].image"}
        ])
    );

    // Nothing changed; then force takes the fields over.
    assert_eq!(api.get("web").await.unwrap().spec.replicas, Some(2));
    let taken = api
        .patch("web", &forced("contender"), &Patch::Apply(contender))
        .await
        .unwrap();
    assert_eq!(taken.spec.replicas, Some(3));
    let owner = fields_of(&taken, "owner").unwrap();
    assert!(owner["f:spec"].get("f:replicas").is_none(), "{owner}");
    assert_eq!(
        owner["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"],
        json!({".": {}, "f:name": {}})
    );
    assert_eq!(
        fields_of(&taken, "contender").unwrap()["f:spec"]["f:replicas"],
        json!({})
    );

    // The former owner re-applying its old value now conflicts with the new owner.
    let error = api_error(
        api.patch(
            "web",
            &apply("owner"),
            &Patch::Apply(deployment(web_spec(2, app))),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        error.message.contains("conflicts with \"contender\""),
        "{}",
        error.message
    );
    server.stop().await;
}

#[tokio::test]
async fn updates_take_ownership_from_appliers_and_record_update_entries() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client().await.unwrap());
    api.patch(
        "cm",
        &apply("applier"),
        &Patch::Apply(config_map(json!({"a": "1", "b": "1"}))),
    )
    .await
    .unwrap();
    let edited = api
        .patch(
            "cm",
            &PatchParams {
                field_manager: Some("editor".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"data": {"a": "2", "c": "3"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        fields_of(&edited, "applier"),
        Some(json!({"f:data": {"f:b": {}}}))
    );
    assert_eq!(
        owners(&edited)
            .into_iter()
            .find(|(m, ..)| m == "editor")
            .map(|(_, op, _, fields)| (op, fields)),
        Some((
            "Update".to_owned(),
            json!({"f:data": {"f:a": {}, "f:c": {}}})
        ))
    );

    // Without a fieldManager, kube-rs (which sends no User-Agent) is "unknown".
    let mut replaced = edited.clone();
    replaced
        .data
        .as_mut()
        .unwrap()
        .insert("d".into(), "4".into());
    let replaced = api
        .replace("cm", &PostParams::default(), &replaced)
        .await
        .unwrap();
    assert_eq!(
        fields_of(&replaced, "unknown"),
        Some(json!({"f:data": {"f:d": {}}}))
    );

    // The applier re-applying its old value of a conflicts with the editor.
    let error = api_error(
        api.patch(
            "cm",
            &apply("applier"),
            &Patch::Apply(config_map(json!({"a": "1", "b": "1"}))),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        error.message,
        "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.a"
    );
    server.stop().await;
}

#[tokio::test]
async fn clients_cannot_forge_managed_fields_but_may_clear_them() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<ConfigMap> = Api::default_namespaced(server.client().await.unwrap());
    let created = api
        .patch(
            "cm",
            &apply("applier"),
            &Patch::Apply(config_map(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    let before = owners(&created);

    // An invalid entry is ignored: the stored managers stay.
    let forged = api
        .patch(
            "cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"managedFields": [{"manager": "forged", "operation": "Nonsense"}]}})),
        )
        .await
        .unwrap();
    assert_eq!(owners(&forged), before);

    // Moving an object to another name or namespace is refused.
    let mut elsewhere = config_map(json!({"a": "1"}));
    elsewhere["metadata"]["namespace"] = json!("kube-system");
    let error = api_error(
        api.patch("cm", &apply("applier"), &Patch::Apply(elsewhere))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (error.code, error.message.as_str()),
        (
            400,
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    );
    let mut renamed = config_map(json!({"a": "1"}));
    renamed["metadata"]["name"] = json!("other");
    let error = api_error(
        api.patch("cm", &apply("applier"), &Patch::Apply(renamed))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        error.message,
        "the name of the object (other) does not match the name on the URL (cm)"
    );

    // Applying with managedFields in the configuration is refused.
    let mut with_managed = config_map(json!({"a": "1"}));
    with_managed["metadata"]["managedFields"] = json!([]);
    let error = api_error(
        api.patch("cm", &apply("applier"), &Patch::Apply(with_managed))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (error.code, error.message.as_str()),
        (400, "metadata.managedFields must be nil")
    );

    // An empty list clears them.
    let cleared = api
        .patch(
            "cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"managedFields": []}})),
        )
        .await
        .unwrap();
    assert!(cleared.metadata.managed_fields.is_none());
    server.stop().await;
}

#[tokio::test]
async fn apply_without_a_field_manager_is_invalid_and_dry_runs_store_nothing() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let request = http::Request::patch("/api/v1/namespaces/default/configmaps/cm")
        .header("content-type", "application/apply-patch+yaml")
        .body(serde_json::to_vec(&config_map(json!({"a": "1"}))).unwrap())
        .unwrap();
    let response = client.send(request.map(Into::into)).await.unwrap();
    assert_eq!(response.status(), 422);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let status: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );

    let api: Api<ConfigMap> = Api::default_namespaced(client);
    let dry = api
        .patch(
            "cm",
            &apply("m").dry_run(),
            &Patch::Apply(config_map(json!({"a": "1"}))),
        )
        .await
        .unwrap();
    assert_eq!(dry.data.unwrap()["a"], "1");
    assert!(api.get_opt("cm").await.unwrap().is_none());
    server.stop().await;
}

#[tokio::test]
async fn containers_are_merged_by_name_between_managers() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<Deployment> = Api::default_namespaced(server.client().await.unwrap());
    api.patch(
        "web",
        &apply("main"),
        &Patch::Apply(deployment(web_spec(
            1,
            json!([{"name": "app", "image": "app:1"}]),
        ))),
    )
    .await
    .unwrap();
    let sidecar = deployment(json!({"template": {"spec": {"containers": [
        {"name": "proxy", "image": "proxy:1"}
    ]}}}));
    let both = api
        .patch("web", &apply("injector"), &Patch::Apply(sidecar))
        .await
        .unwrap();
    let names: Vec<String> = both
        .spec
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["app", "proxy"]);
    assert_eq!(
        fields_of(&both, "injector").unwrap()["f:spec"]["f:template"]["f:spec"]["f:containers"],
        json!({"k:{\"name\":\"proxy\"}": {".": {}, "f:image": {}, "f:name": {}}})
    );
    // The selector is owned whole.
    assert_eq!(
        fields_of(&both, "main").unwrap()["f:spec"]["f:selector"],
        json!({})
    );

    // The injector dropping its container removes only that container.
    let gone = api
        .patch(
            "web",
            &apply("injector"),
            &Patch::Apply(deployment(
                json!({"template": {"spec": {"containers": []}}}),
            )),
        )
        .await
        .unwrap();
    let containers = &gone.spec.template.spec.unwrap().containers;
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].name, "app");
    assert_eq!(containers[0].image.as_deref(), Some("app:1"));
    server.stop().await;
}

#[tokio::test]
async fn custom_resources_are_applied_with_their_list_maps_merged_by_key() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let api = widgets(server.client().await.unwrap());
    let created = api
        .patch(
            "w",
            &apply("alice"),
            &Patch::Apply(widget(
                json!({"size": 1, "ports": [{"port": 80, "name": "http"}],
                "tags": ["a"]}),
            )),
        )
        .await
        .unwrap();
    assert_eq!(
        fields_of(&created, "alice"),
        Some(json!({"f:spec": {
            "f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {}}},
            "f:size": {},
            "f:tags": {}
        }}))
    );
    let merged = api
        .patch(
            "w",
            &apply("bob"),
            &Patch::Apply(widget(json!({"ports": [{"port": 443, "name": "https"}],
                "tags": ["b"]}))),
        )
        .await
        .unwrap_err();
    // Tags are an atomic list: bob changing it conflicts with alice.
    assert_eq!(
        api_error(merged).message,
        "Apply failed with 1 conflict: conflict with \"alice\": .spec.tags"
    );
    let merged = api
        .patch(
            "w",
            &apply("bob"),
            &Patch::Apply(widget(json!({"ports": [{"port": 443, "name": "https"}]}))),
        )
        .await
        .unwrap();
    assert_eq!(
        merged.data["spec"]["ports"],
        // The schema defaults `protocol`.
        json!([
            {"port": 80, "name": "http", "protocol": "TCP"},
            {"port": 443, "name": "https", "protocol": "TCP"}
        ])
    );
    assert_eq!(merged.data["spec"]["size"], 1);

    // Alice dropping her port leaves bob's.
    let pruned = api
        .patch(
            "w",
            &apply("alice"),
            &Patch::Apply(widget(json!({"size": 2}))),
        )
        .await
        .unwrap();
    assert_eq!(
        pruned.data["spec"],
        json!({"size": 2, "ports": [{"port": 443, "name": "https", "protocol": "TCP"}]})
    );

    // Fields the schema does not declare are refused, as kube-apiserver does.
    let error = api_error(
        api.patch(
            "w",
            &apply("alice"),
            &Patch::Apply(widget(json!({"bogus": 1}))),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(error.code, 500);
    assert_eq!(
        error.message,
        "failed to create typed patch object (/w; example.com/v1, Kind=Widget): .spec.bogus: field not declared in schema"
    );
    server.stop().await;
}

#[tokio::test]
async fn apply_to_status_leaves_spec_and_generation_alone() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let api = widgets(server.client().await.unwrap());
    let created = api
        .patch(
            "w",
            &apply("spec-owner"),
            &Patch::Apply(widget(json!({"size": 1}))),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));

    let mut status = widget(json!({"size": 99}));
    status.data["status"] = json!({"phase": "Ready"});
    let updated = api
        .patch_status("w", &apply("status-owner"), &Patch::Apply(status))
        .await
        .unwrap();
    assert_eq!(updated.data["spec"], json!({"size": 1}));
    assert_eq!(updated.data["status"], json!({"phase": "Ready"}));
    assert_eq!(updated.metadata.generation, Some(1));
    let status_entry = owners(&updated)
        .into_iter()
        .find(|(m, ..)| m == "status-owner")
        .unwrap();
    assert_eq!(
        status_entry,
        (
            "status-owner".to_owned(),
            "Apply".to_owned(),
            "status".to_owned(),
            json!({"f:status": {"f:phase": {}}})
        )
    );

    // Status in a main-resource apply is not applied, nor owned.
    let mut sneaky = widget(json!({"size": 1}));
    sneaky.data["status"] = json!({"phase": "Broken"});
    let unchanged = api
        .patch("w", &apply("spec-owner"), &Patch::Apply(sneaky))
        .await
        .unwrap();
    assert_eq!(unchanged.data["status"], json!({"phase": "Ready"}));
    assert_eq!(
        fields_of(&unchanged, "spec-owner"),
        Some(json!({"f:spec": {"f:size": {}}}))
    );

    // Applying to the status of a missing object does not create it.
    let error = api_error(
        api.patch_status(
            "missing",
            &apply("status-owner"),
            &Patch::Apply(widget(json!({}))),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(error.code, 404);
    server.stop().await;
}

#[tokio::test]
async fn scaling_takes_replicas_from_the_applier_under_the_scale_subresource() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let api: Api<Deployment> = Api::default_namespaced(server.client().await.unwrap());
    api.patch(
        "web",
        &apply("main"),
        &Patch::Apply(deployment(web_spec(
            2,
            json!([{"name": "app", "image": "app:1"}]),
        ))),
    )
    .await
    .unwrap();
    api.patch_scale(
        "web",
        &PatchParams {
            field_manager: Some("scaler".into()),
            ..PatchParams::default()
        },
        &Patch::Merge(json!({"spec": {"replicas": 4}})),
    )
    .await
    .unwrap();
    let scaled = api.get("web").await.unwrap();
    assert_eq!(scaled.spec.replicas, Some(4));
    let scaler = owners(&scaled)
        .into_iter()
        .find(|(m, ..)| m == "scaler")
        .unwrap();
    assert_eq!(
        scaler,
        (
            "scaler".to_owned(),
            "Update".to_owned(),
            "scale".to_owned(),
            json!({"f:spec": {"f:replicas": {}}})
        )
    );
    assert!(
        fields_of(&scaled, "main").unwrap()["f:spec"]
            .get("f:replicas")
            .is_none()
    );
    server.stop().await;
}
