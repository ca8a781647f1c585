//! kube-rs discovery against the server, legacy and aggregated: built-in kinds and CRD kinds
//! resolve with their scope, verbs and subresources, and a CRD created later is found by the
//! next discovery.

use std::path::PathBuf;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiCapabilities, ApiResource, Discovery, Scope, verbs};
use serde_json::Value;

fn crd(name: &str) -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../manifests/crds/{name}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).expect("CRD YAML")
}

fn subresources(caps: &ApiCapabilities) -> Vec<String> {
    let mut names: Vec<String> = caps
        .subresources
        .iter()
        .map(|(r, _)| r.plural.clone())
        .collect();
    names.sort();
    names
}

fn resolve(
    discovery: &Discovery,
    group: &str,
    version: &str,
    kind: &str,
) -> (ApiResource, ApiCapabilities) {
    discovery
        .resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
        .unwrap_or_else(|| panic!("{group}/{version} {kind} not discovered"))
}

#[tokio::test]
async fn legacy_and_aggregated_discovery_resolve_built_in_and_crd_kinds_alike() {
    let server =
        sluice_apiserver::testing::start(&[crd("source.toolkit.fluxcd.io_gitrepositories")])
            .await
            .expect("server starts");
    let client = server.client().await.expect("client");
    let legacy = Discovery::new(client.clone())
        .run()
        .await
        .expect("legacy discovery");
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");

    for discovery in [&legacy, &aggregated] {
        let (deployments, caps) = resolve(discovery, "apps", "v1", "Deployment");
        assert_eq!(deployments.plural, "deployments");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert!(caps.supports_operation(verbs::WATCH));
        assert_eq!(subresources(&caps), ["scale", "status"]);

        let (namespaces, caps) = resolve(discovery, "", "v1", "Namespace");
        assert_eq!(namespaces.plural, "namespaces");
        assert_eq!(caps.scope, Scope::Cluster);
        assert_eq!(subresources(&caps), ["finalize", "status"]);

        let (repositories, caps) =
            resolve(discovery, "source.toolkit.fluxcd.io", "v1", "GitRepository");
        assert_eq!(repositories.plural, "gitrepositories");
        assert_eq!(caps.scope, Scope::Namespaced);
        assert_eq!(subresources(&caps), ["status"]);

        let group = discovery
            .get("source.toolkit.fluxcd.io")
            .expect("the CRD's group");
        assert_eq!(group.preferred_version_or_latest(), "v1");
    }
    let (resource, _) =
        discovery::pinned_kind(&client, &GroupVersionKind::gvk("batch", "v1", "CronJob"))
            .await
            .expect("one group version");
    assert_eq!(resource.plural, "cronjobs");
    server.stop().await;
}

#[tokio::test]
async fn a_crd_created_later_is_in_the_next_discovery() {
    let server = sluice_apiserver::testing::start(&[])
        .await
        .expect("server starts");
    let client = server.client().await.expect("client");
    let before = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("discovery");
    assert!(!before.has_group("source.toolkit.fluxcd.io"));

    let definition: CustomResourceDefinition =
        serde_json::from_value(crd("source.toolkit.fluxcd.io_gitrepositories")).expect("a CRD");
    Api::<CustomResourceDefinition>::all(client.clone())
        .create(&PostParams::default(), &definition)
        .await
        .expect("CRD created");

    for discovery in [
        Discovery::new(client.clone())
            .run()
            .await
            .expect("legacy discovery"),
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .expect("aggregated discovery"),
    ] {
        let (resource, _) = resolve(
            &discovery,
            "source.toolkit.fluxcd.io",
            "v1",
            "GitRepository",
        );
        assert_eq!(resource.plural, "gitrepositories");
    }
    server.stop().await;
}
