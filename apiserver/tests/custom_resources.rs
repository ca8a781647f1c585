//! Custom resources are served as kube-apiserver serves them: our generated Flux CRDs and
//! small CRDs written here, driven through kube-rs.

use std::path::PathBuf;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
    PostParams, ValidationDirective,
};
use serde_json::{Value, json};

/// Every CRD document in `manifests/crds/`.
fn flux_crds() -> Vec<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../manifests/crds");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("manifests/crds exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).expect("readable");
            serde_saphyr::from_multiple::<Value>(&text).expect("YAML")
        })
        .filter(|d| !d.is_null())
        .collect()
}

fn api(
    client: &kube::Client,
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    Api::namespaced_with(client.clone(), "default", &resource)
}

fn object(api_version: &str, kind: &str, name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }))
    .expect("a valid object")
}

fn git_repository(name: &str, spec: Value) -> DynamicObject {
    object("source.toolkit.fluxcd.io/v1", "GitRepository", name, spec)
}

fn git_repositories(client: &kube::Client) -> Api<DynamicObject> {
    api(
        client,
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
    )
}

/// Creates a GitRepository with `fieldValidation=Strict` (kube-rs' `PostParams` has no
/// such option).
async fn create_strict(
    client: &kube::Client,
    object: &impl serde::Serialize,
) -> Result<DynamicObject, kube::Error> {
    let request = http::Request::post(
        "/apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories?fieldValidation=Strict",
    )
    .header("content-type", "application/json")
    .body(serde_json::to_vec(object).expect("serializable"))
    .expect("a valid request");
    client.request(request).await
}

/// The `Status` of a refused request.
fn refusal(result: Result<DynamicObject, kube::Error>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected the API to refuse, got {other:?}"),
    }
}

#[tokio::test]
async fn schema_violations_are_422_with_kube_apiserver_messages_and_field_paths() {
    let server = sluice_apiserver::testing::start(&flux_crds())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let repos = git_repositories(&client);
    let pp = PostParams::default();

    let bad_interval = refusal(
        repos
            .create(
                &pp,
                &git_repository(
                    "a",
                    json!({"url": "https://example.com/x", "interval": "5x"}),
                ),
            )
            .await,
    );
    assert_eq!(bad_interval.code, 422);
    assert_eq!(bad_interval.reason, "Invalid");
    assert_eq!(
        bad_interval.message,
        r#"GitRepository.source.toolkit.fluxcd.io "a" is invalid: spec.interval: Invalid value: "5x": spec.interval in body should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'"#
    );
    let details = bad_interval.details.expect("details");
    assert_eq!(details.causes[0].field, "spec.interval");
    assert_eq!(details.causes[0].reason, "FieldValueInvalid");

    // A missing field blocks the CEL rules, and kube-apiserver says so.
    let no_url = refusal(
        repos
            .create(&pp, &git_repository("a", json!({"interval": "1m"})))
            .await,
    );
    assert_eq!(
        no_url.message,
        r#"GitRepository.source.toolkit.fluxcd.io "a" is invalid: [spec.url: Required value, <nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]"#
    );
    assert_eq!(
        no_url.details.expect("details").causes[0].reason,
        "FieldValueRequired"
    );

    let provider = refusal(
        repos
            .create(
                &pp,
                &git_repository(
                    "a",
                    json!({"url": "https://e.com/x", "interval": "1m", "provider": "x"}),
                ),
            )
            .await,
    );
    assert!(
        provider.message.contains(
            r#"spec.provider: Unsupported value: "x": supported values: "generic", "aws", "azure", "github""#
        ),
        "{}",
        provider.message
    );

    // Several problems are listed together, as kube-apiserver lists them.
    let many = refusal(
        repos
            .create(&pp, &git_repository("a", json!({"interval": 5})))
            .await,
    );
    assert!(
        many.message.contains("spec.url: Required value"),
        "{}",
        many.message
    );
    assert!(
        many.message.contains(r#"spec.interval: Invalid value: "integer": spec.interval in body must be of type string: "integer""#),
        "{}",
        many.message
    );
    server.stop().await;
}

#[tokio::test]
async fn defaults_appear_on_create_and_unknown_fields_are_pruned_or_refused() {
    let server = sluice_apiserver::testing::start(&flux_crds())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let repos = git_repositories(&client);

    let created = repos
        .create(
            &PostParams::default(),
            &git_repository(
                "a",
                json!({"url": "https://e.com/x", "interval": "1m", "bogus": true}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["timeout"], "60s");
    assert!(
        created.data["spec"].get("bogus").is_none(),
        "{:?}",
        created.data
    );
    // The status default shows on read although the status subresource drops it on create.
    assert_eq!(created.data["status"]["observedGeneration"], -1);
    let read = repos.get("a").await.unwrap();
    assert_eq!(read.data["spec"]["timeout"], "60s");

    let refused = refusal(
        create_strict(
            &client,
            &git_repository("b", json!({"url": "https://e.com/x", "interval": "1m", "bogus": true, "ref": {"nope": 1}})),
        )
        .await,
    );
    assert_eq!(refused.code, 400);
    assert_eq!(
        refused.message,
        r#"GitRepository in version "v1" cannot be handled as a GitRepository: strict decoding error: unknown field "spec.bogus", unknown field "spec.ref.nope""#
    );

    let mut with_meta = git_repository("b", json!({"url": "https://e.com/x", "interval": "1m"}));
    with_meta.metadata.name = Some("b".into());
    let mut body = serde_json::to_value(&with_meta).unwrap();
    body["metadata"]["colour"] = json!("blue");
    // (sent as JSON: kube-rs' ObjectMeta would drop the unknown field before sending)
    let refused = refusal(create_strict(&client, &body).await);
    assert!(
        refused
            .message
            .ends_with(r#"unknown field "metadata.colour""#),
        "{}",
        refused.message
    );

    // A patch under Strict is refused the same way; under Warn it is pruned.
    let strict = PatchParams::default().validation(ValidationDirective::Strict);
    let patched = repos
        .patch("a", &strict, &Patch::Merge(json!({"spec": {"typo": 1}})))
        .await;
    assert!(
        refusal(patched)
            .message
            .ends_with(r#"unknown field "spec.typo""#)
    );
    let warned = repos
        .patch(
            "a",
            &PatchParams::default().validation(ValidationDirective::Warn),
            &Patch::Merge(json!({"spec": {"typo": 1}})),
        )
        .await
        .unwrap();
    assert!(warned.data["spec"].get("typo").is_none());
    server.stop().await;
}

#[tokio::test]
async fn cel_rules_of_the_flux_crds_refuse_what_they_forbid() {
    let server = sluice_apiserver::testing::start(&flux_crds())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let repos = git_repositories(&client);
    let pp = PostParams::default();

    let refused = refusal(
        repos
            .create(
                &pp,
                &git_repository(
                    "a",
                    json!({"url": "https://e.com/x", "interval": "1m", "provider": "generic", "serviceAccountName": "sa"}),
                ),
            )
            .await,
    );
    assert_eq!(refused.code, 422);
    assert_eq!(
        refused.message,
        r#"GitRepository.source.toolkit.fluxcd.io "a" is invalid: spec: Invalid value: serviceAccountName can only be set when provider is 'azure' or 'aws'"#
    );
    repos
        .create(
            &pp,
            &git_repository(
                "a",
                json!({"url": "https://e.com/x", "interval": "1m", "provider": "aws", "serviceAccountName": "sa"}),
            ),
        )
        .await
        .unwrap();

    let releases = api(
        &client,
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
    );
    let both = object(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "r",
        json!({
            "interval": "5m",
            "chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}},
            "chartRef": {"kind": "OCIRepository", "name": "podinfo"},
        }),
    );
    let refused = refusal(releases.create(&pp, &both).await);
    assert_eq!(
        refused.message,
        r#"HelmRelease.helm.toolkit.fluxcd.io "r" is invalid: spec: Invalid value: either chart or chartRef must be set"#
    );
    let one = object(
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "r",
        json!({"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": "podinfo"}}),
    );
    releases.create(&pp, &one).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn status_writes_through_the_subresource_leave_spec_and_generation_alone() {
    let server = sluice_apiserver::testing::start(&flux_crds())
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let repos = git_repositories(&client);
    let created = repos
        .create(
            &PostParams::default(),
            &git_repository("a", json!({"url": "https://e.com/x", "interval": "1m"})),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));

    // /status: only status changes; the spec in the body is ignored.
    let mut body = serde_json::to_value(&created).unwrap();
    body["spec"]["interval"] = json!("9m");
    body["status"] = json!({"observedGeneration": 1, "conditions": []});
    let written = repos
        .replace_status(
            "a",
            &PostParams::default(),
            &serde_json::from_value(body).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(written.data["spec"]["interval"], "1m");
    assert_eq!(written.data["status"]["observedGeneration"], 1);
    assert_eq!(written.metadata.generation, Some(1));

    // The main resource ignores status; a spec change bumps the generation.
    let patched = repos
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"interval": "2m"}, "status": {"observedGeneration": 7}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.generation, Some(2));
    assert_eq!(patched.data["status"]["observedGeneration"], 1);

    // A metadata-only change does not.
    let labelled = repos
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "a"}}})),
        )
        .await
        .unwrap();
    assert_eq!(labelled.metadata.generation, Some(2));

    // Status is validated against its schema too.
    let refused = repos
        .patch_status(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"observedGeneration": "x"}})),
        )
        .await;
    assert_eq!(refusal(refused).code, 422);
    server.stop().await;
}

/// A small CRD with two versions (`v1beta1` served, `v1` stored), status and scale
/// subresources, and a few rules.
fn widget_crd() -> Value {
    let schema = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [
                    {"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas", "fieldPath": ".replicas"},
                ],
                "properties": {
                    "replicas": {"type": "integer", "format": "int32", "default": 1},
                    "maxReplicas": {"type": "integer", "default": 10},
                    "name": {"type": "string", "x-kubernetes-validations": [
                        {"rule": "self == oldSelf", "message": "name is immutable"},
                    ]},
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port"],
                        "items": {"type": "object", "required": ["port"], "properties": {
                            "port": {"type": "integer"},
                            "protocol": {"type": "string", "default": "TCP"},
                        }},
                    },
                },
            },
            "status": {"type": "object", "properties": {
                "replicas": {"type": "integer"},
                "selector": {"type": "string"},
            }},
        },
    });
    let version = |name: &str, storage: bool| {
        json!({
            "name": name, "served": true, "storage": storage,
            "schema": {"openAPIV3Schema": schema},
            "subresources": {"status": {}, "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector",
            }},
        })
    };
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "scope": "Namespaced",
            "versions": [version("v1beta1", false), version("v1", true)],
        },
    })
}

fn widgets(client: &kube::Client, version: &str) -> Api<DynamicObject> {
    api(client, "example.com", version, "Widget", "widgets")
}

fn widget(version: &str, name: &str, spec: Value) -> DynamicObject {
    object(&format!("example.com/{version}"), "Widget", name, spec)
}

#[tokio::test]
async fn defaults_reach_list_items_and_transition_rules_and_list_maps_are_enforced() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let api = widgets(&client, "v1");
    let pp = PostParams::default();
    let created = api
        .create(
            &pp,
            &widget("v1", "w", json!({"name": "a", "ports": [{"port": 80}]})),
        )
        .await
        .unwrap();
    assert_eq!(created.data["spec"]["replicas"], 1);
    assert_eq!(created.data["spec"]["ports"][0]["protocol"], "TCP");

    let refused = refusal(
        api.create(&pp, &widget("v1", "x", json!({"replicas": 20})))
            .await,
    );
    assert_eq!(
        refused.message,
        r#"Widget.example.com "x" is invalid: spec.replicas: Invalid value: replicas must not exceed maxReplicas"#
    );

    let duplicate = refusal(
        api.create(
            &pp,
            &widget(
                "v1",
                "x",
                json!({"ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}]}),
            ),
        )
        .await,
    );
    assert_eq!(
        duplicate.message,
        r#"Widget.example.com "x" is invalid: spec.ports[1]: Duplicate value: {"port":80}"#
    );

    let renamed = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"name": "b"}})),
        )
        .await;
    assert_eq!(
        refusal(renamed).message,
        r#"Widget.example.com "w" is invalid: spec.name: Invalid value: "b": name is immutable"#
    );
    server.stop().await;
}

#[tokio::test]
async fn the_scale_subresource_follows_the_crd_paths() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let api = widgets(&client, "v1");
    api.create(
        &PostParams::default(),
        &widget("v1", "w", json!({"replicas": 2})),
    )
    .await
    .unwrap();
    api.patch_status(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"replicas": 2, "selector": "app=w"}})),
    )
    .await
    .unwrap();
    let scale = api.get_scale("w").await.unwrap();
    assert_eq!(scale.spec.and_then(|s| s.replicas), Some(2));
    let status = scale.status.expect("scale status");
    assert_eq!(status.replicas, 2);
    assert_eq!(status.selector.as_deref(), Some("app=w"));

    let scaled = api
        .patch_scale(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(5));
    let after = api.get("w").await.unwrap();
    assert_eq!(after.data["spec"]["replicas"], 5);
    assert_eq!(after.metadata.generation, Some(2));
    server.stop().await;
}

#[tokio::test]
async fn served_versions_share_storage_without_conversion() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let beta = widgets(&client, "v1beta1");
    let created = beta
        .create(
            &PostParams::default(),
            &widget("v1beta1", "w", json!({"replicas": 3})),
        )
        .await
        .unwrap();
    assert_eq!(
        created.types.as_ref().map(|t| t.api_version.as_str()),
        Some("example.com/v1beta1")
    );
    let stable = widgets(&client, "v1").get("w").await.unwrap();
    assert_eq!(
        stable.types.as_ref().map(|t| t.api_version.as_str()),
        Some("example.com/v1")
    );
    assert_eq!(stable.data["spec"]["replicas"], 3);

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds.get("widgets.example.com").await.unwrap();
    let status = crd.status.expect("status");
    assert_eq!(status.stored_versions, Some(vec!["v1".to_owned()]));
    let conditions = status.conditions.unwrap_or_default();
    for kind in ["NamesAccepted", "Established"] {
        assert!(
            conditions
                .iter()
                .any(|c| c.type_ == kind && c.status == "True"),
            "{kind}: {conditions:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_crd_whose_names_clash_is_not_accepted_nor_served() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut clash = widget_crd();
    clash["metadata"]["name"] = json!("gadgets.example.com");
    clash["spec"]["names"] = json!({"plural": "gadgets", "kind": "Widget", "shortNames": ["wd"]});
    let created = crds
        .create(
            &PostParams::default(),
            &serde_json::from_value(clash).unwrap(),
        )
        .await
        .unwrap();
    let status = crds
        .get(created.metadata.name.as_deref().unwrap())
        .await
        .unwrap()
        .status
        .expect("status");
    let conditions = status.conditions.unwrap_or_default();
    let names = conditions
        .iter()
        .find(|c| c.type_ == "NamesAccepted")
        .expect("NamesAccepted");
    assert_eq!(names.status, "False");
    assert_eq!(names.reason.as_deref(), Some("ListKindConflict"));
    assert_eq!(
        names.message.as_deref(),
        Some(r#""WidgetList" is already in use"#)
    );
    let established = conditions
        .iter()
        .find(|c| c.type_ == "Established")
        .expect("Established");
    assert_eq!(established.status, "False");
    assert_eq!(established.reason.as_deref(), Some("NotAccepted"));

    let gadgets = api(&client, "example.com", "v1", "Widget", "gadgets");
    match gadgets.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 404),
        other => panic!("gadgets must not be served: {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_crd_deletes_its_resources_first() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let api = widgets(&client, "v1");
    api.create(&PostParams::default(), &widget("v1", "plain", json!({})))
        .await
        .unwrap();
    let mut held = widget("v1", "held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    let crd = crds.get("widgets.example.com").await.unwrap();
    let terminating = crd
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Terminating")
        .expect("Terminating");
    assert_eq!(terminating.status, "True");
    assert_eq!(
        terminating.reason.as_deref(),
        Some("InstanceDeletionInProgress")
    );
    assert!(matches!(api.get("plain").await, Err(kube::Error::Api(s)) if s.code == 404));
    let refused = refusal(
        api.create(&PostParams::default(), &widget("v1", "new", json!({})))
            .await,
    );
    assert_eq!(refused.code, 405);
    assert_eq!(
        refused.message,
        "create not allowed while custom resource definition is terminating"
    );

    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(
        matches!(crds.get("widgets.example.com").await, Err(kube::Error::Api(s)) if s.code == 404)
    );
    assert!(
        matches!(api.list(&Default::default()).await, Err(kube::Error::Api(s)) if s.code == 404)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_schema_change_gives_existing_objects_new_defaults_and_ratchets_old_errors() {
    let server = sluice_apiserver::testing::start(&[widget_crd()])
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let api = widgets(&client, "v1");
    api.create(
        &PostParams::default(),
        &widget("v1", "w", json!({"name": "abc"})),
    )
    .await
    .unwrap();

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut crd = serde_json::to_value(crds.get("widgets.example.com").await.unwrap()).unwrap();
    for version in crd["spec"]["versions"].as_array_mut().unwrap() {
        let spec = &mut version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        spec["tier"] = json!({"type": "string", "default": "gold"});
        spec["name"]["maxLength"] = json!(2);
    }
    crds.replace(
        "widgets.example.com",
        &PostParams::default(),
        &serde_json::from_value(crd).unwrap(),
    )
    .await
    .unwrap();

    let read = api.get("w").await.unwrap();
    assert_eq!(read.data["spec"]["tier"], "gold");
    // The name is now too long, but it did not change: other updates still go through.
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"replicas": 2}})),
    )
    .await
    .unwrap();
    let refused = refusal(
        api.create(
            &PostParams::default(),
            &widget("v1", "x", json!({"name": "abc"})),
        )
        .await,
    );
    assert!(
        refused
            .message
            .starts_with(r#"Widget.example.com "x" is invalid: [spec.name: Too long: may not be more than 2 bytes, "#),
        "{}",
        refused.message
    );
    server.stop().await;
}

#[tokio::test]
async fn a_crd_whose_rule_does_not_parse_is_refused() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let mut crd = widget_crd();
    for version in crd["spec"]["versions"].as_array_mut().unwrap() {
        version["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] =
            json!([{"rule": "self.replicas <="}]);
    }
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds
        .create(
            &PostParams::default(),
            &serde_json::from_value(crd).unwrap(),
        )
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422);
            assert!(
                status.message.contains(
                    "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value"
                ),
                "{}",
                status.message
            );
            assert!(
                status.message.contains("compilation failed"),
                "{}",
                status.message
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    server.stop().await;
}
