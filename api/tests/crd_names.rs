//! The 17 CRDs have exactly upstream's group, served version, kind, plural, singular, short
//! names, categories and scope, and each has the status subresource where upstream does.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests may unwrap.

use sluice_api::crds;

/// (group, version, kind, plural, short names, categories, status subresource)
type Names = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    bool,
);

const UPSTREAM: &[Names] = &[
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "GitRepository",
        "gitrepositories",
        &["gitrepo"],
        &["all", "fluxcd", "fluxcd-sources"],
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "OCIRepository",
        "ocirepositories",
        &["ocirepo"],
        &["all", "fluxcd", "fluxcd-sources"],
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmRepository",
        "helmrepositories",
        &["helmrepo"],
        &["all", "fluxcd", "fluxcd-sources"],
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "HelmChart",
        "helmcharts",
        &["hc"],
        &["all", "fluxcd", "fluxcd-sources"],
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "Bucket",
        "buckets",
        &[],
        &["all", "fluxcd", "fluxcd-sources"],
        true,
    ),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "ExternalArtifact",
        "externalartifacts",
        &["ea"],
        &["all", "fluxcd", "fluxcd-sources"],
        true,
    ),
    (
        "kustomize.toolkit.fluxcd.io",
        "v1",
        "Kustomization",
        "kustomizations",
        &["ks"],
        &["all", "fluxcd", "fluxcd-appliers"],
        true,
    ),
    (
        "helm.toolkit.fluxcd.io",
        "v2",
        "HelmRelease",
        "helmreleases",
        &["hr"],
        &["all", "fluxcd", "fluxcd-appliers"],
        true,
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1beta3",
        "Provider",
        "providers",
        &[],
        &["all", "fluxcd", "fluxcd-notifications"],
        false,
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1beta3",
        "Alert",
        "alerts",
        &[],
        &["all", "fluxcd", "fluxcd-notifications"],
        false,
    ),
    (
        "notification.toolkit.fluxcd.io",
        "v1",
        "Receiver",
        "receivers",
        &[],
        &["all", "fluxcd", "fluxcd-notifications"],
        true,
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1",
        "ImageRepository",
        "imagerepositories",
        &["imgrepo", "imagerepo"],
        &["all", "fluxcd", "fluxcd-images"],
        true,
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1",
        "ImagePolicy",
        "imagepolicies",
        &["imgpol", "imagepol"],
        &["all", "fluxcd", "fluxcd-images"],
        true,
    ),
    (
        "image.toolkit.fluxcd.io",
        "v1",
        "ImageUpdateAutomation",
        "imageupdateautomations",
        &["iua", "imgupd", "imgauto"],
        &["all", "fluxcd", "fluxcd-images"],
        true,
    ),
    (
        "flagger.app",
        "v1beta1",
        "Canary",
        "canaries",
        &[],
        &["all"],
        true,
    ),
    (
        "flagger.app",
        "v1beta1",
        "MetricTemplate",
        "metrictemplates",
        &[],
        &["all"],
        true,
    ),
    (
        "flagger.app",
        "v1beta1",
        "AlertProvider",
        "alertproviders",
        &[],
        &["all"],
        true,
    ),
];

#[test]
fn there_are_seventeen_crds_named_as_upstream() {
    let all = crds::all();
    assert_eq!(all.len(), UPSTREAM.len());
    for (crd, (group, version, kind, plural, short_names, categories, has_status)) in
        all.iter().zip(UPSTREAM)
    {
        let names = &crd.spec.names;
        assert_eq!(crd.spec.group, *group, "{kind}");
        assert_eq!(names.kind, *kind);
        assert_eq!(names.plural, *plural, "{kind}");
        assert_eq!(
            names.singular.as_deref(),
            Some(kind.to_lowercase().as_str()),
            "{kind}"
        );
        assert_eq!(
            names.short_names.clone().unwrap_or_default(),
            *short_names,
            "{kind}"
        );
        assert_eq!(
            names.categories.clone().unwrap_or_default(),
            *categories,
            "{kind}"
        );
        assert_eq!(crd.spec.scope, "Namespaced", "{kind}");
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some(format!("{plural}.{group}").as_str())
        );
        assert_eq!(crd.spec.versions.len(), 1, "{kind} serves one version");
        let served = &crd.spec.versions[0];
        assert_eq!(served.name, *version, "{kind}");
        assert!(served.served && served.storage, "{kind}");
        let status = served
            .subresources
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .is_some();
        assert_eq!(status, *has_status, "{kind} status subresource");
    }
}

#[test]
fn flux_crds_opt_out_of_post_build_substitution_where_upstream_does() {
    // Upstream's image-reflector CRDs (ImageRepository, ImagePolicy) and Flagger's do not
    // carry the annotation; every other Flux CRD does.
    let without = [
        "ImageRepository",
        "ImagePolicy",
        "Canary",
        "MetricTemplate",
        "AlertProvider",
    ];
    for crd in crds::all() {
        let annotated = crd
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("kustomize.toolkit.fluxcd.io/substitute"))
            .is_some_and(|v| v == "disabled");
        assert_eq!(
            annotated,
            !without.contains(&crd.spec.names.kind.as_str()),
            "{}",
            crd.spec.names.kind
        );
    }
}

#[test]
fn flux_statuses_default_to_an_unobserved_generation() {
    for crd in crds::all() {
        let schema = crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .unwrap();
        let status = schema.properties.as_ref().and_then(|p| p.get("status"));
        let has_observed_generation = status
            .and_then(|s| s.properties.as_ref())
            .is_some_and(|p| p.contains_key("observedGeneration"));
        let default = status.and_then(|s| s.default.as_ref()).map(|d| d.0.clone());
        if has_observed_generation {
            assert_eq!(
                default,
                Some(serde_json::json!({"observedGeneration": -1})),
                "{}",
                crd.spec.names.kind
            );
        }
    }
}
