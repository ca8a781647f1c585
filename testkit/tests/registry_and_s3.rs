//! The OCI registry accepts a Flux-style artifact push and serves the manifest to curl;
//! moto takes buckets and objects and serves them to boto3. Both stop by PID.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use std::process::Command;

use sluice_runtime::artifact::{ArtifactFetcher, Digest};
use sluice_testkit::process::{find_tool, is_alive, processes_in_group, run};
use sluice_testkit::registry::{FLUX_CONFIG_MEDIA_TYPE, FLUX_CONTENT_MEDIA_TYPE};
use sluice_testkit::{OciRegistry, RegistryOptions, S3Server};

fn content() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("deploy")).unwrap();
    std::fs::write(dir.path().join("deploy/cm.yaml"), "kind: ConfigMap\n").unwrap();
    dir
}

fn curl(args: &[&str]) -> (u16, String) {
    let out = run(Command::new("curl")
        .args(["-s", "-o", "/dev/stderr", "-w", "%{http_code}"])
        .args(args))
    .ok();
    let out = out.unwrap_or_default();
    (out.trim().parse().unwrap_or(0), out)
}

#[tokio::test]
async fn a_plain_registry_takes_a_flux_artifact_and_serves_its_manifest() {
    let mut registry = OciRegistry::start(RegistryOptions::default()).unwrap();
    let dir = content();
    let pushed = registry
        .push_artifact(
            "demo/app",
            "v1.0.0",
            dir.path(),
            &[
                ("org.opencontainers.image.revision", "main@sha1:abc"),
                (
                    "org.opencontainers.image.source",
                    "https://example.test/repo",
                ),
            ],
        )
        .await
        .unwrap();

    // curl is the independent client.
    let manifest_url = format!("{}/v2/demo/app/manifests/v1.0.0", registry.base_url());
    let headers = run(Command::new("curl").args([
        "-sf",
        "-D",
        "-",
        "-o",
        "/dev/null",
        "-H",
        "Accept: application/vnd.oci.image.manifest.v1+json",
        &manifest_url,
    ]))
    .unwrap();
    assert!(
        headers.to_ascii_lowercase().contains(&format!(
            "docker-content-digest: {}",
            pushed.manifest_digest
        )),
        "{headers}"
    );
    let tags = run(Command::new("curl").args([
        "-sf",
        &format!("{}/v2/demo/app/tags/list", registry.base_url()),
    ]))
    .unwrap();
    assert!(tags.contains("\"v1.0.0\""), "{tags}");

    let (digest, manifest) = registry.manifest("demo/app", "v1.0.0").await.unwrap();
    assert_eq!(digest, pushed.manifest_digest);
    assert_eq!(manifest["config"]["mediaType"], FLUX_CONFIG_MEDIA_TYPE);
    assert_eq!(manifest["layers"][0]["mediaType"], FLUX_CONTENT_MEDIA_TYPE);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.revision"],
        "main@sha1:abc"
    );

    // The layer is an artifact our own consumer side extracts.
    let layer = &pushed.layer_digests[0];
    let (extracted, _) = ArtifactFetcher::new()
        .retries(0)
        .fetch_to_temp_dir(
            &format!("{}/v2/demo/app/blobs/{layer}", registry.base_url()),
            layer,
        )
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(extracted.path().join("deploy/cm.yaml")).unwrap(),
        "kind: ConfigMap\n"
    );

    let pid = registry.pid();
    registry.stop();
    assert!(!is_alive(pid) && processes_in_group(pid).is_empty());
}

#[tokio::test]
async fn a_tls_registry_with_htpasswd_refuses_anonymous_clients() {
    let mut registry = OciRegistry::start(RegistryOptions::secured("ociuser", "ocipass")).unwrap();
    let dir = content();
    let pushed = registry
        .push_artifact("demo/secure", "latest", dir.path(), &[])
        .await
        .unwrap();
    let ca = registry.ca().unwrap().ca_path();
    let ca = ca.to_str().unwrap();
    let url = format!("{}/v2/demo/secure/manifests/latest", registry.base_url());
    let accept = "Accept: application/vnd.oci.image.manifest.v1+json";

    assert_eq!(curl(&["--cacert", ca, "-H", accept, &url]).0, 401);
    assert_eq!(
        curl(&["--cacert", ca, "-u", "ociuser:wrong", "-H", accept, &url]).0,
        401
    );
    assert_eq!(
        curl(&["--cacert", ca, "-u", "ociuser:ocipass", "-H", accept, &url]).0,
        200
    );
    // Without the CA the certificate is not trusted.
    let untrusted = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-u", "ociuser:ocipass"])
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .arg(&url)
        .status()
        .unwrap();
    assert!(!untrusted.success());

    let (digest, _) = registry.manifest("demo/secure", "latest").await.unwrap();
    assert_eq!(digest, pushed.manifest_digest);
    assert!(registry.docker_config_json().contains(&registry.host()));

    let pid = registry.pid();
    registry.stop();
    assert!(!is_alive(pid) && processes_in_group(pid).is_empty());
}

#[tokio::test]
async fn moto_takes_buckets_and_objects_that_boto3_reads_back() {
    let mut s3 = S3Server::start().unwrap();
    s3.create_bucket("artifacts").await.unwrap();
    let etag = s3
        .put_object("artifacts", "deploy/cm.yaml", "kind: ConfigMap\n")
        .await
        .unwrap();
    s3.put_object("artifacts", ".sourceignore", "*.txt\n")
        .await
        .unwrap();
    assert_eq!(
        s3.get_object("artifacts", "deploy/cm.yaml").await.unwrap(),
        b"kind: ConfigMap\n"
    );

    let python = find_tool("python3").unwrap();
    let script = format!(
        r#"
import boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="{endpoint}", region_name="us-east-1",
    aws_access_key_id="test", aws_secret_access_key="test",
    config=Config(s3={{"addressing_style": "path"}}))
listing = s3.list_objects_v2(Bucket="artifacts")
for o in listing["Contents"]:
    print(o["Key"], o["ETag"])
print(s3.get_object(Bucket="artifacts", Key="deploy/cm.yaml")["Body"].read().decode(), end="")
"#,
        endpoint = s3.endpoint_url()
    );
    let out = run(Command::new(python).arg("-c").arg(script)).unwrap();
    assert!(out.contains(&format!("deploy/cm.yaml {etag}")), "{out}");
    assert!(out.contains(".sourceignore "), "{out}");
    assert!(out.ends_with("kind: ConfigMap\n"), "{out}");
    assert_eq!(etag, format!("\"{}\"", md5_hex_of_configmap()));

    s3.reset().await.unwrap();
    assert!(s3.get_object("artifacts", "deploy/cm.yaml").await.is_err());

    let pid = s3.pid();
    s3.stop();
    assert!(!is_alive(pid) && processes_in_group(pid).is_empty());
}

/// md5 of the object, computed by an independent tool.
fn md5_hex_of_configmap() -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "kind: ConfigMap\n").unwrap();
    run(Command::new("md5sum").arg(file.path()))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn digests_of_pushed_blobs_are_plain_sha256() {
    assert_eq!(
        Digest::sha256_of(b"{}").to_string(),
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}
