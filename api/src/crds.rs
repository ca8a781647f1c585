//! Every CustomResourceDefinition Sluice serves, finished and ready to apply.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::schema::finish_crd;
use crate::{flagger, helm, image, kustomize, notification, source};

/// All 17 CRDs, in a stable order (by group, as in the README table), each passed through
/// [`finish_crd`](crate::schema::finish_crd).
pub fn all() -> Vec<CustomResourceDefinition> {
    [
        source::v1::GitRepository::crd(),
        source::v1::OCIRepository::crd(),
        source::v1::HelmRepository::crd(),
        source::v1::HelmChart::crd(),
        source::v1::Bucket::crd(),
        source::v1::ExternalArtifact::crd(),
        kustomize::v1::Kustomization::crd(),
        helm::v2::HelmRelease::crd(),
        notification::v1beta3::Provider::crd(),
        notification::v1beta3::Alert::crd(),
        notification::v1::Receiver::crd(),
        image::v1::ImageRepository::crd(),
        image::v1::ImagePolicy::crd(),
        image::v1::ImageUpdateAutomation::crd(),
        flagger::v1beta1::Canary::crd(),
        flagger::v1beta1::MetricTemplate::crd(),
        flagger::v1beta1::AlertProvider::crd(),
    ]
    .into_iter()
    .map(finish_crd)
    .collect()
}

/// The file name `crdgen` writes a CRD to: `<group>_<plural>.yaml`, as upstream names them.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}
