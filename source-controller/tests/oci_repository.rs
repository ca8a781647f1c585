//! OCIRepository against the local control plane and a real `docker-registry` (plain,
//! and TLS with htpasswd), reference scenarios O1-O7 and C2-C4, C10.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

mod common;
mod source_support;

use std::io::Write;
use std::path::Path;

use k8s_openapi::api::core::v1::{LocalObjectReference as CoreRef, ServiceAccount};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use sluice_api::meta::LocalObjectReference;
use sluice_api::meta::conditions::{
    ARTIFACT_IN_STORAGE, FETCH_FAILED, READY, SOURCE_VERIFIED, STALLED,
};
use sluice_api::source::v1::{
    LayerOperation, OCILayerSelector, OCIRepository, OCIRepositoryRef, OCIRepositorySpec,
    OCIRepositoryVerification,
};
use sluice_source_controller::ocirepository::reconcile;
use sluice_testkit::registry::{Blob, FLUX_CONFIG_MEDIA_TYPE, FLUX_CONTENT_MEDIA_TYPE};
use sluice_testkit::{OciRegistry, RegistryOptions};
use source_support::{Harness, NS, assert_digest, condition};

const SOURCE: &str = "https://github.com/example/podinfo";

fn repo(name: &str, url: &str) -> OCIRepository {
    OCIRepository::new(
        name,
        OCIRepositorySpec {
            url: url.to_owned(),
            interval: "5m".to_owned(),
            ..Default::default()
        },
    )
}

fn with_tag(mut repo: OCIRepository, tag: &str) -> OCIRepository {
    repo.spec.reference = Some(OCIRepositoryRef {
        tag: Some(tag.to_owned()),
        ..Default::default()
    });
    repo
}

/// A directory with a few manifests, pushed as a Flux artifact.
fn content(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("kustomize")).unwrap();
    std::fs::write(
        dir.path().join("kustomize/deployment.yaml"),
        format!("kind: Deployment\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kustomize/hpa.yaml"),
        "kind: HorizontalPodAutoscaler\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("foo.txt"), "foo\n").unwrap();
    dir
}

async fn push(registry: &OciRegistry, repository: &str, tag: &str) -> String {
    let dir = content(tag);
    registry
        .push_artifact(
            repository,
            tag,
            dir.path(),
            &[
                ("org.opencontainers.image.source", SOURCE),
                ("org.opencontainers.image.revision", "main@sha1:0123456789"),
            ],
        )
        .await
        .unwrap()
        .manifest_digest
}

fn plain_registry() -> OciRegistry {
    OciRegistry::start(RegistryOptions::default()).unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_tagged_artifact_becomes_a_ready_served_artifact_with_the_manifest_annotations() {
    // [O1] [C2] [O7] [O10]
    let h = Harness::start().await;
    let registry = plain_registry();
    let digest = push(&registry, "podinfo", "6.1.6").await;
    h.create(&with_tag(
        repo("podinfo", &registry.oci_url("podinfo")),
        "6.1.6",
    ))
    .await;

    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let status = object.status.clone().unwrap();
    let artifact = status.artifact.clone().unwrap();
    let revision = format!("6.1.6@{digest}");
    assert_eq!(artifact.revision, revision);
    assert_eq!(
        artifact.path,
        format!("ocirepository/{NS}/podinfo/{digest}.tar.gz")
    );
    assert_eq!(
        condition(&object, READY).unwrap(),
        (
            "True".into(),
            "Succeeded".into(),
            format!("stored artifact for digest '{revision}'")
        )
    );
    assert_eq!(
        condition(&object, ARTIFACT_IN_STORAGE).unwrap().2,
        format!("stored artifact for digest '{revision}'")
    );
    assert_eq!(status.observed_generation, object.metadata.generation);
    let metadata = artifact.metadata.clone().unwrap();
    assert_eq!(metadata["org.opencontainers.image.source"], SOURCE);
    assert!(metadata.contains_key("org.opencontainers.image.revision"));
    assert!(status.url.as_deref().unwrap().ends_with("/latest.tar.gz"));

    assert_digest(&h.stored_bytes(&artifact), &artifact);
    let files = h.fetch_artifact(&artifact).await;
    assert_eq!(
        files.keys().cloned().collect::<Vec<_>>(),
        vec!["foo.txt", "kustomize/deployment.yaml", "kustomize/hpa.yaml"]
    );
    assert_eq!(
        files["kustomize/deployment.yaml"],
        b"kind: Deployment\nversion: 6.1.6\n"
    );

    let events = h.events("podinfo").await;
    let expected = format!(
        "stored artifact with revision '{revision}' from '{}', origin source '{SOURCE}', origin revision 'main@sha1:0123456789'",
        registry.oci_url("podinfo")
    );
    assert!(
        events
            .iter()
            .any(|(t, r, m)| t == "Normal" && r == "NewArtifact" && *m == expected),
        "{events:#?}"
    );

    // [O6] [C10] The same revision again: nothing pulled, nothing rewritten, no event.
    let (result, again) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    assert_eq!(again.status.as_ref().unwrap().artifact, Some(artifact));
    assert_eq!(h.events("podinfo").await.len(), events.len());
}

#[tokio::test]
async fn references_resolve_with_upstream_precedence_and_revisions() {
    // [O3]
    let h = Harness::start().await;
    let registry = plain_registry();
    let d4 = push(&registry, "podinfo", "6.1.4").await;
    let d5 = push(&registry, "podinfo", "6.1.5").await;
    let d6 = push(&registry, "podinfo", "6.1.6").await;
    let latest = push(&registry, "podinfo", "latest").await;
    let url = registry.oci_url("podinfo");

    let cases: Vec<(&str, OCIRepositoryRef, String)> = vec![
        (
            "none",
            OCIRepositoryRef::default(),
            format!("latest@{latest}"),
        ),
        (
            "semver",
            OCIRepositoryRef {
                semver: Some(">= 6.1 <= 6.1.5".into()),
                tag: Some("6.1.4".into()),
                ..Default::default()
            },
            format!("6.1.5@{d5}"),
        ),
        (
            "semver-open",
            OCIRepositoryRef {
                semver: Some(">= 6.1.5".into()),
                ..Default::default()
            },
            format!("6.1.6@{d6}"),
        ),
        (
            "digest",
            OCIRepositoryRef {
                digest: Some(d4.clone()),
                semver: Some(">= 6.1.5".into()),
                ..Default::default()
            },
            d4.clone(),
        ),
    ];
    for (name, reference, revision) in cases {
        let mut object = repo(name, &url);
        object.spec.reference = Some(reference);
        h.create(&object).await;
        let (result, object) = h
            .reconcile_fully::<OCIRepository, _, _>(name, reconcile)
            .await;
        result.unwrap();
        let artifact = object.status.unwrap().artifact.unwrap();
        assert_eq!(artifact.revision, revision, "{name}");
        let file = revision.rsplit('@').next().unwrap();
        assert!(artifact.path.ends_with(&format!("{file}.tar.gz")), "{name}");
    }
}

#[tokio::test]
async fn a_missing_tag_and_an_unmatched_range_fail_and_keep_the_old_artifact_served() {
    // [O3] missing tag → OCIArtifactPullFailed (MANIFEST_UNKNOWN); semver no match →
    // ReadOperationFailed; the stored artifact stays.
    let h = Harness::start().await;
    let registry = plain_registry();
    push(&registry, "podinfo", "6.1.6").await;
    h.create(&with_tag(
        repo("podinfo", &registry.oci_url("podinfo")),
        "6.1.6",
    ))
    .await;
    let (result, good) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let artifact = good.status.clone().unwrap().artifact.unwrap();

    let api: Api<OCIRepository> = Api::namespaced(h.client.clone(), NS);
    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"ref": {"tag": "9.9.9"}}})),
    )
    .await
    .unwrap();
    let (result, failed) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    let error = result.unwrap_err();
    let (status, reason, message) = condition(&failed, FETCH_FAILED).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "OCIArtifactPullFailed")
    );
    assert!(
        message.starts_with("failed to determine artifact digest: "),
        "{message}"
    );
    assert!(message.contains("MANIFEST_UNKNOWN"), "{message}");
    assert_eq!(error.to_string(), message);
    assert_eq!(
        condition(&failed, READY).unwrap().1,
        "OCIArtifactPullFailed"
    );
    // The old artifact is still recorded, stored and served.
    let kept = failed.status.clone().unwrap().artifact.unwrap();
    assert_eq!(kept, artifact);
    assert_eq!(h.fetch_artifact(&kept).await.len(), 3);
    // A failed attempt does not observe the new generation.
    assert_eq!(
        failed.status.as_ref().unwrap().observed_generation,
        good.metadata.generation
    );
    assert!(
        h.events("podinfo")
            .await
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "OCIArtifactPullFailed")
    );

    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"ref": {"tag": null, "semver": "<= 6.1.0"}}})),
    )
    .await
    .unwrap();
    let (result, failed) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    assert!(result.is_err());
    assert_eq!(
        condition(&failed, FETCH_FAILED).unwrap(),
        (
            "True".into(),
            "ReadOperationFailed".into(),
            format!(
                "failed to determine the artifact tag for '{}': no match found for semver: <= 6.1.0",
                registry.oci_url("podinfo")
            )
        )
    );
    assert_eq!(failed.status.unwrap().artifact.unwrap(), artifact);
}

#[tokio::test]
async fn an_unreachable_registry_and_an_invalid_url_fail_with_upstream_reasons() {
    let h = Harness::start().await;
    let url = format!("oci://127.0.0.1:{}/podinfo", free_port());
    h.create(&repo("unreachable", &url)).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("unreachable", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "OCIArtifactPullFailed");
    assert!(message.contains("Connection refused"), "{message}");

    // [O4] URL with a tag → stalled URLInvalid, generation observed.
    h.create(&repo("tagged", "oci://ghcr.io/stefanprodan/podinfo:6.1.6"))
        .await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("tagged", reconcile)
        .await;
    assert!(result.is_err());
    assert_eq!(
        condition(&object, STALLED).unwrap(),
        (
            "True".into(),
            "URLInvalid".into(),
            "URL validation failed for 'oci://ghcr.io/stefanprodan/podinfo:6.1.6': URL must not contain a tag; remove ':6.1.6'".into()
        )
    );
    assert_eq!(
        object.status.unwrap().observed_generation,
        object.metadata.generation
    );
}

#[tokio::test]
async fn a_tls_registry_with_basic_auth_needs_the_login_and_the_ca() {
    // [O5]
    let h = Harness::start().await;
    let registry = OciRegistry::start(RegistryOptions::secured("ociuser", "ocipass")).unwrap();
    let digest = push(&registry, "podinfo", "6.1.6").await;
    let ca = registry.ca().unwrap().ca_pem().as_bytes().to_vec();
    h.secret(
        "login",
        "kubernetes.io/dockerconfigjson",
        &[(
            ".dockerconfigjson",
            registry.docker_config_json().as_bytes(),
        )],
    )
    .await;
    h.secret("ca", "Opaque", &[("ca.crt", &ca)]).await;
    let wrong = registry
        .docker_config_json()
        .replace("ocipass", "wrong")
        .replace(&base64_of("ociuser:ocipass"), &base64_of("ociuser:wrong"));
    h.secret(
        "wrong-login",
        "kubernetes.io/dockerconfigjson",
        &[(".dockerconfigjson", wrong.as_bytes())],
    )
    .await;

    let url = registry.oci_url("podinfo");
    let mut good = with_tag(repo("good", &url), "6.1.6");
    good.spec.secret_ref = Some(LocalObjectReference {
        name: "login".into(),
    });
    good.spec.cert_secret_ref = Some(LocalObjectReference { name: "ca".into() });
    h.create(&good).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("good", reconcile)
        .await;
    result.unwrap();
    assert_eq!(
        object.status.unwrap().artifact.unwrap().revision,
        format!("6.1.6@{digest}")
    );

    // The login through the ServiceAccount's image pull secrets.
    let account = ServiceAccount {
        metadata: kube::api::ObjectMeta {
            name: Some("puller".into()),
            namespace: Some(NS.into()),
            ..Default::default()
        },
        image_pull_secrets: Some(vec![CoreRef {
            name: "login".into(),
        }]),
        ..Default::default()
    };
    Api::<ServiceAccount>::namespaced(h.client.clone(), NS)
        .create(&PostParams::default(), &account)
        .await
        .unwrap();
    let mut via_account = with_tag(repo("via-account", &url), "6.1.6");
    via_account.spec.service_account_name = Some("puller".into());
    via_account.spec.cert_secret_ref = Some(LocalObjectReference { name: "ca".into() });
    h.create(&via_account).await;
    let (result, _) = h
        .reconcile_fully::<OCIRepository, _, _>("via-account", reconcile)
        .await;
    result.unwrap();

    // A missing Secret is AuthenticationFailed.
    let mut missing = with_tag(repo("missing", &url), "6.1.6");
    missing.spec.secret_ref = Some(LocalObjectReference {
        name: "nope".into(),
    });
    h.create(&missing).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("missing", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "AuthenticationFailed");
    assert!(
        message.starts_with("failed to get credential: failed to get secret 'default/nope'"),
        "{message}"
    );

    // Wrong credentials: the registry refuses the pull.
    let mut refused = with_tag(repo("refused", &url), "6.1.6");
    refused.spec.secret_ref = Some(LocalObjectReference {
        name: "wrong-login".into(),
    });
    refused.spec.cert_secret_ref = Some(LocalObjectReference { name: "ca".into() });
    h.create(&refused).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("refused", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "OCIArtifactPullFailed");
    assert!(
        message.contains("UNAUTHORIZED") || message.contains("401"),
        "{message}"
    );

    // `insecure: true` without a CA accepts the registry's certificate, as upstream.
    let mut insecure = with_tag(repo("insecure", &url), "6.1.6");
    insecure.spec.secret_ref = Some(LocalObjectReference {
        name: "login".into(),
    });
    insecure.spec.insecure = Some(true);
    h.create(&insecure).await;
    let (result, _) = h
        .reconcile_fully::<OCIRepository, _, _>("insecure", reconcile)
        .await;
    result.unwrap();

    // Without the CA the server certificate is not trusted.
    let mut untrusted = with_tag(repo("untrusted", &url), "6.1.6");
    untrusted.spec.secret_ref = Some(LocalObjectReference {
        name: "login".into(),
    });
    h.create(&untrusted).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("untrusted", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "OCIArtifactPullFailed");
    assert!(message.to_lowercase().contains("certificate"), "{message}");
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A gzip tarball with one file entry whose name is written as given (no checks).
fn raw_tarball(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    header[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

async fn push_layer(
    registry: &OciRegistry,
    repository: &str,
    tag: &str,
    media_type: &str,
    data: Vec<u8>,
) {
    registry
        .push_manifest(
            repository,
            tag,
            Blob {
                media_type: FLUX_CONFIG_MEDIA_TYPE.into(),
                data: b"{}".to_vec(),
            },
            &[Blob {
                media_type: media_type.into(),
                data,
            }],
            &[],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_layer_with_path_traversal_is_refused_and_nothing_is_written_outside() {
    let h = Harness::start().await;
    let registry = plain_registry();
    push_layer(
        &registry,
        "evil",
        "v1",
        FLUX_CONTENT_MEDIA_TYPE,
        raw_tarball("../../../escaped.txt", b"pwned"),
    )
    .await;
    h.create(&with_tag(repo("evil", &registry.oci_url("evil")), "v1"))
        .await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("evil", reconcile)
        .await;
    assert!(result.is_err());
    let (_, reason, message) = condition(&object, FETCH_FAILED).unwrap();
    assert_eq!(reason, "OCIArtifactLayerOperationFailed");
    assert!(
        message.starts_with("failed to extract layer contents from artifact: "),
        "{message}"
    );
    assert!(object.status.unwrap().artifact.is_none());
    assert!(h.stored_files().is_empty());
    for outside in ["/escaped.txt", "/tmp/escaped.txt"] {
        assert!(!Path::new(outside).exists(), "{outside} was written");
    }
}

#[tokio::test]
async fn layer_selection_copies_or_fails_by_media_type() {
    // [O2] copy stores the selected layer as is; an unknown media type fails.
    let h = Harness::start().await;
    let registry = plain_registry();
    let chart = raw_tarball("podinfo/Chart.yaml", b"name: podinfo\nversion: 6.1.6\n");
    push_layer(
        &registry,
        "charts/podinfo",
        "6.1.6",
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        chart.clone(),
    )
    .await;
    let url = registry.oci_url("charts/podinfo");
    let mut copy = with_tag(repo("copy", &url), "6.1.6");
    copy.spec.layer_selector = Some(OCILayerSelector {
        media_type: Some("application/vnd.cncf.helm.chart.content.v1.tar+gzip".into()),
        operation: Some(LayerOperation::Copy),
    });
    h.create(&copy).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("copy", reconcile)
        .await;
    result.unwrap();
    let status = object.status.unwrap();
    let artifact = status.artifact.clone().unwrap();
    assert_eq!(h.stored_bytes(&artifact), chart);
    assert_digest(&chart, &artifact);
    assert_eq!(status.observed_layer_selector, copy.spec.layer_selector);

    let mut unknown = with_tag(repo("unknown", &url), "6.1.6");
    unknown.spec.layer_selector = Some(OCILayerSelector {
        media_type: Some("application/vnd.unknown".into()),
        operation: None,
    });
    h.create(&unknown).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("unknown", reconcile)
        .await;
    assert!(result.is_err());
    assert_eq!(
        condition(&object, FETCH_FAILED).unwrap(),
        (
            "True".into(),
            "OCIArtifactLayerOperationFailed".into(),
            "failed to find layer with media type 'application/vnd.unknown' in artifact".into()
        )
    );
}

#[tokio::test]
async fn spec_ignore_changes_the_artifact_and_forces_a_new_pull() {
    // [O6] [O7]
    let h = Harness::start().await;
    let registry = plain_registry();
    push(&registry, "podinfo", "6.1.6").await;
    h.create(&with_tag(
        repo("podinfo", &registry.oci_url("podinfo")),
        "6.1.6",
    ))
    .await;
    let (result, first) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let first = first.status.unwrap().artifact.unwrap();

    let api: Api<OCIRepository> = Api::namespaced(h.client.clone(), NS);
    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"ignore": "foo.txt"}})),
    )
    .await
    .unwrap();
    let (result, second) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    let status = second.status.unwrap();
    assert_eq!(status.observed_ignore.as_deref(), Some("foo.txt"));
    let artifact = status.artifact.unwrap();
    assert_eq!(artifact.revision, first.revision);
    assert_ne!(artifact.digest, first.digest);
    let files = h.fetch_artifact(&artifact).await;
    assert!(!files.contains_key("foo.txt"));
    assert!(files.contains_key("kustomize/deployment.yaml"));
}

#[tokio::test]
async fn verification_is_reported_as_not_supported_and_blocks_the_artifact() {
    let h = Harness::start().await;
    let registry = plain_registry();
    push(&registry, "podinfo", "6.1.6").await;
    let mut object = with_tag(repo("verify", &registry.oci_url("podinfo")), "6.1.6");
    object.spec.verify = Some(OCIRepositoryVerification::default());
    h.create(&object).await;
    let (result, object) = h
        .reconcile_fully::<OCIRepository, _, _>("verify", reconcile)
        .await;
    assert!(result.is_err());
    let (status, reason, message) = condition(&object, SOURCE_VERIFIED).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "VerificationError")
    );
    assert!(message.contains("not supported yet"), "{message}");
    assert_eq!(condition(&object, READY).unwrap().1, "VerificationError");
    assert!(object.status.unwrap().artifact.is_none());
}

#[tokio::test]
async fn suspended_objects_are_left_alone_and_deletion_removes_the_artifacts() {
    // [C3] [C4]
    let h = Harness::start().await;
    let registry = plain_registry();
    push(&registry, "podinfo", "6.1.6").await;
    h.create(&with_tag(
        repo("podinfo", &registry.oci_url("podinfo")),
        "6.1.6",
    ))
    .await;
    let (result, _) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();

    let api: Api<OCIRepository> = Api::namespaced(h.client.clone(), NS);
    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({
            "metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}
        })),
    )
    .await
    .unwrap();
    let (result, requested) = h
        .reconcile_fully::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    assert_eq!(
        requested
            .status
            .as_ref()
            .unwrap()
            .last_handled_reconcile_at
            .as_deref(),
        Some("now")
    );

    api.patch(
        "podinfo",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"spec": {"suspend": true, "ref": {"tag": "nope"}}})),
    )
    .await
    .unwrap();
    let (result, suspended) = h
        .reconcile::<OCIRepository, _, _>("podinfo", reconcile)
        .await;
    result.unwrap();
    assert_eq!(suspended.status, requested.status);

    let dir = h.root().join(format!("ocirepository/{NS}/podinfo"));
    assert!(dir.exists());
    api.delete("podinfo", &DeleteParams::default())
        .await
        .unwrap();
    let deleting: OCIRepository = h.get("podinfo").await;
    assert!(deleting.metadata.deletion_timestamp.is_some());
    reconcile(std::sync::Arc::new(deleting), h.context.clone())
        .await
        .unwrap();
    assert!(!dir.exists());
    assert!(api.get_opt("podinfo").await.unwrap().is_none());
}

/// Polls `name` until `done` holds (at most a minute: the controller runs on its own).
async fn wait_for(h: &Harness, name: &str, done: impl Fn(&OCIRepository) -> bool) -> OCIRepository {
    for _ in 0..240 {
        let object: OCIRepository = h.get(name).await;
        if done(&object) {
            return object;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!(
        "{name} never reached the expected state: {:#?}",
        h.get::<OCIRepository>(name).await.status
    );
}

#[tokio::test]
async fn the_controller_loop_reconciles_new_objects_requests_and_deletions() {
    let h = Harness::start().await;
    let registry = plain_registry();
    let first = push(&registry, "podinfo", "latest").await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(sluice_source_controller::ocirepository::controller(
        std::sync::Arc::clone(&h.context),
        shutdown.clone(),
    ));
    h.create(&repo("looped", &registry.oci_url("podinfo")))
        .await;
    let object = wait_for(&h, "looped", |o| {
        o.status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .is_some_and(|a| a.revision == format!("latest@{first}"))
    })
    .await;
    source_support::assert_invariants(&object);

    // A new push is picked up on request (`flux reconcile source oci`).
    let changed = content("second");
    let second = registry
        .push_artifact("podinfo", "latest", changed.path(), &[])
        .await
        .unwrap()
        .manifest_digest;
    assert_ne!(first, second);
    let api: Api<OCIRepository> = Api::namespaced(h.client.clone(), NS);
    api.patch(
        "looped",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({
            "metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}
        })),
    )
    .await
    .unwrap();
    let object = wait_for(&h, "looped", |o| {
        o.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some("t1")
    })
    .await;
    let revision = object.status.unwrap().artifact.unwrap().revision;
    assert_eq!(revision, format!("latest@{second}"));

    api.delete("looped", &DeleteParams::default())
        .await
        .unwrap();
    for _ in 0..240 {
        if api.get_opt("looped").await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(api.get_opt("looped").await.unwrap().is_none());
    assert!(!h.root().join(format!("ocirepository/{NS}/looped")).exists());
    shutdown.cancel();
    running.await.unwrap();
}
