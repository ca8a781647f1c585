//! Bucket against the local control plane and a real S3-compatible server (moto),
//! reference scenarios B1, C2, C4, C7, C10.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

mod common;
mod source_support;

use std::collections::BTreeMap;

use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use sha2::{Digest as _, Sha256};
use sluice_api::meta::LocalObjectReference;
use sluice_api::meta::conditions::{ARTIFACT_IN_STORAGE, FETCH_FAILED, READY, STALLED};
use sluice_api::source::v1::{Bucket, BucketProvider, BucketSpec};
use sluice_source_controller::bucket::reconcile;
use sluice_testkit::S3Server;
use sluice_testkit::s3::{ACCESS_KEY, SECRET_KEY};
use source_support::{Harness, NS, assert_digest, condition};

fn bucket(name: &str, server: &S3Server, bucket_name: &str) -> Bucket {
    Bucket::new(
        name,
        BucketSpec {
            bucket_name: bucket_name.to_owned(),
            endpoint: server.host(),
            insecure: Some(true),
            secret_ref: Some(LocalObjectReference {
                name: "s3".to_owned(),
            }),
            interval: "5m".to_owned(),
            ..Default::default()
        },
    )
}

async fn harness_with_secret() -> Harness {
    let h = Harness::start().await;
    h.secret(
        "s3",
        "Opaque",
        &[
            ("accesskey", ACCESS_KEY.as_bytes()),
            ("secretkey", SECRET_KEY.as_bytes()),
        ],
    )
    .await;
    h
}

/// Upstream's revision, computed independently: sha256 over `<key> <etag>\n`, keys
/// sorted, ETags without quotes.
fn expected_revision(objects: &BTreeMap<&str, String>) -> String {
    let mut text = String::new();
    for (key, etag) in objects {
        text.push_str(&format!("{key} {}\n", etag.trim_matches('"')));
    }
    format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())))
}

#[tokio::test]
async fn a_bucket_becomes_an_artifact_of_its_objects_minus_the_ignored_ones() {
    // [B1] [C2] [C10]
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("podinfo").await.unwrap();
    let deploy = s3
        .put_object("podinfo", "manifests/deploy.yaml", "kind: Deployment\n")
        .await
        .unwrap();
    let service = s3
        .put_object(
            "podinfo",
            "manifests/nested/service.yaml",
            "kind: Service\n",
        )
        .await
        .unwrap();
    s3.put_object("podinfo", "notes.txt", "ignored\n")
        .await
        .unwrap();
    s3.put_object("podinfo", ".sourceignore", "*.txt\n")
        .await
        .unwrap();
    s3.put_object("podinfo", "manifests/", "").await.unwrap();
    h.create(&bucket("podinfo", &s3, "podinfo")).await;

    let (result, object) = h
        .reconcile_fully::<Bucket, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let status = object.status.clone().unwrap();
    let artifact = status.artifact.clone().unwrap();
    let revision = expected_revision(&BTreeMap::from([
        ("manifests/deploy.yaml", deploy),
        ("manifests/nested/service.yaml", service),
    ]));
    assert_eq!(artifact.revision, revision);
    let hex = revision.trim_start_matches("sha256:");
    assert_eq!(artifact.path, format!("bucket/{NS}/podinfo/{hex}.tar.gz"));
    assert_eq!(
        condition(&object, READY).unwrap(),
        (
            "True".into(),
            "Succeeded".into(),
            format!("stored artifact: revision '{revision}'")
        )
    );
    assert!(condition(&object, ARTIFACT_IN_STORAGE).is_some());
    assert!(status.url.as_deref().unwrap().ends_with("/latest.tar.gz"));
    assert_digest(&h.stored_bytes(&artifact), &artifact);
    let files = h.fetch_artifact(&artifact).await;
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        vec!["manifests/deploy.yaml", "manifests/nested/service.yaml"]
    );
    assert_eq!(files["manifests/deploy.yaml"], b"kind: Deployment\n");
    let events = h.events("podinfo").await;
    assert!(
        events.iter().any(|(t, r, m)| t == "Normal"
            && r == "NewArtifact"
            && m == "stored artifact with 2 fetched files from 'podinfo' bucket"),
        "{events:#?}"
    );

    // Unchanged bucket: the same artifact, no new event.
    let (result, again) = h
        .reconcile_fully::<Bucket, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    assert_eq!(
        again.status.as_ref().unwrap().artifact,
        Some(artifact.clone())
    );
    assert_eq!(h.events("podinfo").await.len(), events.len());

    // spec.ignore comes after the bucket's .sourceignore and wins; the prefix narrows.
    let api: Api<Bucket> = Api::namespaced(h.client.clone(), NS);
    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"ignore": "!notes.txt\nnested/\n"}})),
    )
    .await
    .unwrap();
    let (result, ignored) = h
        .reconcile_fully::<Bucket, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let changed = ignored.status.clone().unwrap().artifact.unwrap();
    assert_ne!(changed.revision, artifact.revision);
    assert_eq!(
        h.fetch_artifact(&changed)
            .await
            .into_keys()
            .collect::<Vec<_>>(),
        vec!["manifests/deploy.yaml", "notes.txt"]
    );
    assert_eq!(
        ignored.status.unwrap().observed_ignore.as_deref(),
        Some("!notes.txt\nnested/\n")
    );

    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"ignore": null, "prefix": "manifests/nested/"}})),
    )
    .await
    .unwrap();
    let (result, prefixed) = h
        .reconcile_fully::<Bucket, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let artifact = prefixed.status.unwrap().artifact.unwrap();
    assert_eq!(
        h.fetch_artifact(&artifact)
            .await
            .into_keys()
            .collect::<Vec<_>>(),
        vec!["manifests/nested/service.yaml"]
    );
}

#[tokio::test]
async fn a_changed_object_makes_a_new_revision_and_a_vanished_file_is_rebuilt() {
    // [B1] new revision; [C7] artifact missing from storage.
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("bkt").await.unwrap();
    s3.put_object("bkt", "a.yaml", "a: 1\n").await.unwrap();
    h.create(&bucket("bkt", &s3, "bkt")).await;
    let (result, first) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    result.unwrap();
    let first = first.status.unwrap().artifact.unwrap();

    let etag = s3.put_object("bkt", "a.yaml", "a: 2\n").await.unwrap();
    let (result, second) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    result.unwrap();
    let second = second.status.unwrap().artifact.unwrap();
    assert_eq!(
        second.revision,
        expected_revision(&BTreeMap::from([("a.yaml", etag)]))
    );
    assert_ne!(second.revision, first.revision);
    assert_eq!(h.fetch_artifact(&second).await["a.yaml"], b"a: 2\n");

    std::fs::remove_file(h.root().join(&second.path)).unwrap();
    let (result, rebuilt) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    result.unwrap();
    let rebuilt = rebuilt.status.unwrap().artifact.unwrap();
    assert_eq!(rebuilt.revision, second.revision);
    assert_digest(&h.stored_bytes(&rebuilt), &rebuilt);
}

#[tokio::test]
async fn a_missing_bucket_fails_and_the_old_artifact_stays_served() {
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("bkt").await.unwrap();
    s3.put_object("bkt", "a.yaml", "a: 1\n").await.unwrap();
    h.create(&bucket("bkt", &s3, "bkt")).await;
    let (result, good) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    result.unwrap();
    let artifact = good.status.unwrap().artifact.unwrap();

    let api: Api<Bucket> = Api::namespaced(h.client.clone(), NS);
    api.patch(
        "bkt",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"bucketName": "nope"}})),
    )
    .await
    .unwrap();
    let (result, failed) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    assert_eq!(result.unwrap_err().to_string(), "bucket 'nope' not found");
    assert_eq!(
        condition(&failed, FETCH_FAILED).unwrap(),
        (
            "True".into(),
            "BucketOperationFailed".into(),
            "bucket 'nope' not found".into()
        )
    );
    assert_eq!(condition(&failed, READY).unwrap().0, "False");
    let kept = failed.status.unwrap().artifact.unwrap();
    assert_eq!(kept, artifact);
    assert_eq!(h.fetch_artifact(&kept).await["a.yaml"], b"a: 1\n");
    assert!(h.events("bkt").await.iter().any(|(t, r, m)| t == "Warning"
        && r == "BucketOperationFailed"
        && m == "bucket 'nope' not found"));

    // Recovery: FetchFailed disappears and a Succeeded event is recorded.
    api.patch(
        "bkt",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"bucketName": "bkt"}})),
    )
    .await
    .unwrap();
    let (result, recovered) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    result.unwrap();
    assert!(condition(&recovered, FETCH_FAILED).is_none());
    assert!(
        h.events("bkt")
            .await
            .iter()
            .any(|(t, r, _)| t == "Normal" && r == "Succeeded")
    );
}

#[tokio::test]
async fn credentials_and_endpoints_that_cannot_work_fail_with_upstream_reasons() {
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("bkt").await.unwrap();
    h.secret("incomplete", "Opaque", &[("accesskey", b"x")])
        .await;

    let mut missing = bucket("missing-secret", &s3, "bkt");
    missing.spec.secret_ref = Some(LocalObjectReference {
        name: "nope".into(),
    });
    h.create(&missing).await;
    let (result, object) = h
        .reconcile_fully::<Bucket, _, _>("missing-secret", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "AuthenticationFailed");
    assert!(
        message.starts_with("failed to get secret 'default/nope'"),
        "{message}"
    );

    let mut incomplete = bucket("incomplete", &s3, "bkt");
    incomplete.spec.secret_ref = Some(LocalObjectReference {
        name: "incomplete".into(),
    });
    h.create(&incomplete).await;
    let (result, object) = h
        .reconcile_fully::<Bucket, _, _>("incomplete", reconcile)
        .await;
    assert!(result.is_err());
    assert_eq!(
        condition(&object, FETCH_FAILED).unwrap().2,
        "invalid 'incomplete' secret data: required fields 'accesskey' and 'secretkey'"
    );

    let mut unreachable = bucket("unreachable", &s3, "bkt");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    unreachable.spec.endpoint = format!("127.0.0.1:{port}");
    h.create(&unreachable).await;
    let (result, object) = h
        .reconcile_fully::<Bucket, _, _>("unreachable", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "BucketOperationFailed");
    assert!(
        message.starts_with("failed to confirm existence of 'bkt' bucket: ")
            && message.contains("Connection refused"),
        "{message}"
    );

    let mut gcp = bucket("gcp", &s3, "bkt");
    gcp.spec.provider = Some(BucketProvider::Gcp);
    h.create(&gcp).await;
    let (result, object) = h.reconcile_fully::<Bucket, _, _>("gcp", reconcile).await;
    assert!(result.is_err());
    let (status, reason, message) = condition(&object, STALLED).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "BucketOperationFailed")
    );
    assert!(message.contains("'gcp' is not supported yet"), "{message}");
    assert_eq!(
        object.status.unwrap().observed_generation,
        object.metadata.generation
    );
}

#[tokio::test]
async fn a_key_that_escapes_the_root_is_refused_and_nothing_is_written_outside() {
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("evil").await.unwrap();
    s3.put_object("evil", "ok.yaml", "ok\n").await.unwrap();
    s3.put_object("evil", "dir/../../escaped.yaml", "pwned\n")
        .await
        .unwrap();
    h.create(&bucket("evil", &s3, "evil")).await;
    let (result, object) = h.reconcile_fully::<Bucket, _, _>("evil", reconcile).await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "BucketOperationFailed");
    assert_eq!(
        message,
        "fetch from bucket 'evil' failed: failed to resolve path for 'dir/../../escaped.yaml' object: the key escapes the artifact root"
    );
    assert!(object.status.unwrap().artifact.is_none());
    assert!(h.stored_files().is_empty());
    assert!(!std::env::temp_dir().join("escaped.yaml").exists());
}

#[tokio::test]
async fn deleting_a_bucket_removes_its_artifacts() {
    // [C4]
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("bkt").await.unwrap();
    s3.put_object("bkt", "a.yaml", "a: 1\n").await.unwrap();
    h.create(&bucket("bkt", &s3, "bkt")).await;
    let (result, _) = h.reconcile_fully::<Bucket, _, _>("bkt", reconcile).await;
    result.unwrap();
    let dir = h.root().join(format!("bucket/{NS}/bkt"));
    assert!(dir.join("latest.tar.gz").exists());

    let api: Api<Bucket> = Api::namespaced(h.client.clone(), NS);
    api.delete("bkt", &DeleteParams::default()).await.unwrap();
    let deleting: Bucket = h.get("bkt").await;
    reconcile(std::sync::Arc::new(deleting), h.context.clone())
        .await
        .unwrap();
    assert!(!dir.exists());
    assert!(api.get_opt("bkt").await.unwrap().is_none());
}

#[tokio::test]
async fn the_controller_loop_reconciles_an_aws_bucket_on_request() {
    let h = harness_with_secret().await;
    let s3 = S3Server::start().unwrap();
    s3.create_bucket("bkt").await.unwrap();
    s3.put_object("bkt", "a.yaml", "a: 1\n").await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(sluice_source_controller::bucket::controller(
        std::sync::Arc::clone(&h.context),
        shutdown.clone(),
    ));
    let mut object = bucket("looped", &s3, "bkt");
    object.spec.provider = Some(BucketProvider::Aws);
    object.spec.region = Some("us-east-1".into());
    h.create(&object).await;
    let api: Api<Bucket> = Api::namespaced(h.client.clone(), NS);
    let wait = |done: Box<dyn Fn(&Bucket) -> bool>| {
        let api = api.clone();
        async move {
            for _ in 0..240 {
                let object = api.get("looped").await.unwrap();
                if done(&object) {
                    return object;
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            panic!(
                "never reached: {:#?}",
                api.get("looped").await.unwrap().status
            );
        }
    };
    let ready = wait(Box::new(|b: &Bucket| {
        b.status.as_ref().is_some_and(|s| s.artifact.is_some())
    }))
    .await;
    source_support::assert_invariants(&ready);
    let first = ready.status.unwrap().artifact.unwrap().revision;

    s3.put_object("bkt", "b.yaml", "b: 1\n").await.unwrap();
    api.patch(
        "looped",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({
            "metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}
        })),
    )
    .await
    .unwrap();
    let handled = wait(Box::new(|b: &Bucket| {
        b.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some("t1")
    }))
    .await;
    let artifact = handled.status.unwrap().artifact.unwrap();
    assert_ne!(artifact.revision, first);
    assert_eq!(
        h.fetch_artifact(&artifact)
            .await
            .into_keys()
            .collect::<Vec<_>>(),
        vec!["a.yaml", "b.yaml"]
    );
    shutdown.cancel();
    running.await.unwrap();
}
