//! Bad input gets a `Status` error with the right code and nothing is written: malformed
//! JSON or YAML (400), values of the wrong type (400), unknown fields under
//! `fieldValidation=Strict` (400), invalid names and labels (422), oversized bodies (413),
//! and a missing token (401).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};

async fn send(
    client: &kube::Client,
    method: &str,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(body)
        .unwrap();
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn bad_bodies_get_status_errors_and_write_nothing() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let client = server.client().await.unwrap();
    let revision_before = server.backend().store.revision();

    // (what, URI, content type, body, expected code, expected reason)
    type Case = (
        &'static str,
        String,
        &'static str,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        ("malformed JSON", CONFIGMAPS.into(), "application/json", b"{\"apiVersion\": \"v1\", \"kind\":".to_vec(), 400, "BadRequest"),
        ("malformed YAML", CONFIGMAPS.into(), "application/yaml", b"apiVersion: v1\nkind: [ConfigMap\n".to_vec(), 400, "BadRequest"),
        (
            "a value of the wrong type",
            CONFIGMAPS.into(),
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t"},"data":{"k":1}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        (
            "an unknown field under Strict",
            format!("{CONFIGMAPS}?fieldValidation=Strict"),
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"u"},"dat":{"k":"v"}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        (
            "an invalid name",
            CONFIGMAPS.into(),
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#.to_vec(),
            422,
            "Invalid",
        ),
        (
            "an invalid label",
            CONFIGMAPS.into(),
            "application/json",
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l","labels":{"a":"not valid!"}}}"#.to_vec(),
            422,
            "Invalid",
        ),
        (
            "a body over 3 MiB",
            CONFIGMAPS.into(),
            "application/json",
            {
                let big = "x".repeat(3 * 1024 * 1024 + 10);
                format!(r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"big"}},"data":{{"k":"{big}"}}}}"#).into_bytes()
            },
            413,
            "RequestEntityTooLarge",
        ),
        ("a kind that does not match the URL", CONFIGMAPS.into(), "application/json", br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"k"}}"#.to_vec(), 400, "BadRequest"),
    ];
    for (what, uri, content_type, body, code, reason) in cases {
        let (status, body) = send(&client, "POST", &uri, content_type, body).await;
        assert_eq!(status, code, "{what}: {body}");
        assert_eq!(body["kind"], "Status", "{what}");
        assert_eq!(body["reason"], reason, "{what}: {body}");
        assert!(
            !body["message"].as_str().unwrap_or_default().is_empty(),
            "{what}"
        );
    }
    assert_eq!(
        server.backend().store.revision(),
        revision_before,
        "nothing was written"
    );
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let (status, body) = send(
        &client,
        "GET",
        "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20b",
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (400, Some("BadRequest")),
        "{body}"
    );
    let (status, body) = send(
        &client,
        "GET",
        "/apis/nothing.example.com/v1/things",
        "application/json",
        Vec::new(),
    )
    .await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (404, Some("NotFound")),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_missing_bearer_token_is_unauthorized() {
    let server = sluice_apiserver::testing::start(&[]).await.unwrap();
    let mut config = kube::Config::new(server.url().parse().unwrap());
    config.accept_invalid_certs = true;
    let anonymous = kube::Client::try_from(config).unwrap();
    let error = Api::<ConfigMap>::namespaced(anonymous, "default")
        .list(&ListParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 401),
        "{error:?}"
    );
    server.stop().await;
}
