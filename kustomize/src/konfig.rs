//! kustomize's built-in field specs: where each transformer writes, per kind. This is API
//! data (the same paths kustomize v5 uses), kept as tables in this crate's own format:
//! `group:version:Kind path [create]`, `-` for an empty part, `*` for every kind.

use std::sync::OnceLock;

use crate::fieldspec::{FieldSpec, parse_gvk, table};
use crate::resid::Gvk;

const METADATA_LABELS: &str = r"
* metadata/labels create
-:v1:ReplicationController spec/template/metadata/labels create
-:-:Deployment spec/template/metadata/labels create
-:-:ReplicaSet spec/template/metadata/labels create
-:-:DaemonSet spec/template/metadata/labels create
apps:-:StatefulSet spec/template/metadata/labels create
apps:-:StatefulSet spec/volumeClaimTemplates[]/metadata/labels create
batch:-:Job spec/template/metadata/labels create
batch:-:CronJob spec/jobTemplate/metadata/labels create
batch:-:CronJob spec/jobTemplate/spec/template/metadata/labels create
";

const COMMON_LABEL_SELECTORS: &str = r"
-:v1:Service spec/selector create
-:v1:ReplicationController spec/selector create
-:-:Deployment spec/selector/matchLabels create
apps:-:Deployment spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps:-:Deployment spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps:-:Deployment spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps:-:Deployment spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps:-:Deployment spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels
-:-:ReplicaSet spec/selector/matchLabels create
-:-:DaemonSet spec/selector/matchLabels create
apps:-:StatefulSet spec/selector/matchLabels create
apps:-:StatefulSet spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps:-:StatefulSet spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps:-:StatefulSet spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels
apps:-:StatefulSet spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels
apps:-:StatefulSet spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels
batch:-:Job spec/selector/matchLabels
batch:-:CronJob spec/jobTemplate/spec/selector/matchLabels
policy:-:PodDisruptionBudget spec/selector/matchLabels
networking.k8s.io:-:NetworkPolicy spec/podSelector/matchLabels
networking.k8s.io:-:NetworkPolicy spec/ingress/from/podSelector/matchLabels
networking.k8s.io:-:NetworkPolicy spec/egress/to/podSelector/matchLabels
";

const COMMON_ANNOTATIONS: &str = r"
* metadata/annotations create
-:v1:ReplicationController spec/template/metadata/annotations create
-:-:Deployment spec/template/metadata/annotations create
-:-:ReplicaSet spec/template/metadata/annotations create
-:-:DaemonSet spec/template/metadata/annotations create
-:-:StatefulSet spec/template/metadata/annotations create
batch:-:Job spec/template/metadata/annotations create
batch:-:CronJob spec/jobTemplate/metadata/annotations create
batch:-:CronJob spec/jobTemplate/spec/template/metadata/annotations create
";

const NAMESPACE: &str = r"
-:-:Namespace metadata/name create
apiregistration.k8s.io:-:APIService spec/service/namespace create
apiextensions.k8s.io:-:CustomResourceDefinition spec/conversion/webhook/clientConfig/service/namespace
";

const IMAGES: &str = r"
* spec/containers[]/image create
* spec/initContainers[]/image create
* spec/volumes[]/image/reference create
* spec/template/spec/containers[]/image create
* spec/template/spec/initContainers[]/image create
* spec/template/spec/volumes[]/image/reference create
";

const REPLICAS: &str = r"
-:-:Deployment spec/replicas create
-:-:ReplicationController spec/replicas create
-:-:ReplicaSet spec/replicas create
-:-:StatefulSet spec/replicas create
";

const VAR_REFERENCE: &str = r"
-:-:CronJob spec/jobTemplate/spec/template/spec/containers/args
-:-:CronJob spec/jobTemplate/spec/template/spec/containers/command
-:-:CronJob spec/jobTemplate/spec/template/spec/containers/env/value
-:-:CronJob spec/jobTemplate/spec/template/spec/containers/volumeMounts/mountPath
-:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/args
-:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/command
-:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/env/value
-:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/volumeMounts/mountPath
-:-:CronJob spec/jobTemplate/spec/template/volumes/nfs/server
-:-:DaemonSet spec/template/spec/containers/args
-:-:DaemonSet spec/template/spec/containers/command
-:-:DaemonSet spec/template/spec/containers/env/value
-:-:DaemonSet spec/template/spec/containers/volumeMounts/mountPath
-:-:DaemonSet spec/template/spec/initContainers/args
-:-:DaemonSet spec/template/spec/initContainers/command
-:-:DaemonSet spec/template/spec/initContainers/env/value
-:-:DaemonSet spec/template/spec/initContainers/volumeMounts/mountPath
-:-:DaemonSet spec/template/spec/volumes/nfs/server
-:-:Deployment spec/template/spec/containers/args
-:-:Deployment spec/template/spec/containers/command
-:-:Deployment spec/template/spec/containers/env/value
-:-:Deployment spec/template/spec/containers/volumeMounts/mountPath
-:-:Deployment spec/template/spec/initContainers/args
-:-:Deployment spec/template/spec/initContainers/command
-:-:Deployment spec/template/spec/initContainers/env/value
-:-:Deployment spec/template/spec/initContainers/volumeMounts/mountPath
-:-:Deployment spec/template/spec/volumes/nfs/server
-:-:Deployment spec/template/metadata/annotations
-:-:Ingress spec/rules/host
-:-:Ingress spec/tls/hosts
-:-:Ingress spec/tls/secretName
-:-:Job spec/template/spec/containers/args
-:-:Job spec/template/spec/containers/command
-:-:Job spec/template/spec/containers/env/value
-:-:Job spec/template/spec/containers/volumeMounts/mountPath
-:-:Job spec/template/spec/initContainers/args
-:-:Job spec/template/spec/initContainers/command
-:-:Job spec/template/spec/initContainers/env/value
-:-:Job spec/template/spec/initContainers/volumeMounts/mountPath
-:-:Job spec/template/spec/volumes/nfs/server
-:-:Pod spec/containers/args
-:-:Pod spec/containers/command
-:-:Pod spec/containers/env/value
-:-:Pod spec/containers/volumeMounts/mountPath
-:-:Pod spec/initContainers/args
-:-:Pod spec/initContainers/command
-:-:Pod spec/initContainers/env/value
-:-:Pod spec/initContainers/volumeMounts/mountPath
-:-:Pod spec/volumes/nfs/server
-:-:ReplicaSet spec/template/spec/containers/args
-:-:ReplicaSet spec/template/spec/containers/command
-:-:ReplicaSet spec/template/spec/containers/env/value
-:-:ReplicaSet spec/template/spec/containers/volumeMounts/mountPath
-:-:ReplicaSet spec/template/spec/initContainers/args
-:-:ReplicaSet spec/template/spec/initContainers/command
-:-:ReplicaSet spec/template/spec/initContainers/env/value
-:-:ReplicaSet spec/template/spec/initContainers/volumeMounts/mountPath
-:-:ReplicaSet spec/template/spec/volumes/nfs/server
-:-:Service spec/ports/port
-:-:Service spec/ports/targetPort
-:-:StatefulSet spec/template/spec/containers/args
-:-:StatefulSet spec/template/spec/containers/command
-:-:StatefulSet spec/template/spec/containers/env/value
-:-:StatefulSet spec/template/spec/containers/volumeMounts/mountPath
-:-:StatefulSet spec/template/spec/initContainers/args
-:-:StatefulSet spec/template/spec/initContainers/command
-:-:StatefulSet spec/template/spec/initContainers/env/value
-:-:StatefulSet spec/template/spec/initContainers/volumeMounts/mountPath
-:-:StatefulSet spec/volumeClaimTemplates/spec/nfs/server
-:-:PersistentVolume spec/nfs/server
* metadata/labels
* metadata/annotations
";

/// Name references: `> target` lines, each followed by the fields (indented) that refer to
/// objects of that type by name. (`IngressClass`'s group is written upstream as
/// `networking.k8s.io/v1`, which no object has; kept as is for identical output.)
const NAME_REFERENCE: &str = r"
> -:-:Deployment
  -:-:HorizontalPodAutoscaler spec/scaleTargetRef/name
> -:-:ReplicationController
  -:-:HorizontalPodAutoscaler spec/scaleTargetRef/name
> -:-:ReplicaSet
  -:-:HorizontalPodAutoscaler spec/scaleTargetRef/name
> -:-:StatefulSet
  -:-:HorizontalPodAutoscaler spec/scaleTargetRef/name
> -:v1:ConfigMap
  -:v1:Pod spec/volumes/configMap/name
  -:v1:Pod spec/containers/env/valueFrom/configMapKeyRef/name
  -:v1:Pod spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:v1:Pod spec/containers/envFrom/configMapRef/name
  -:v1:Pod spec/initContainers/envFrom/configMapRef/name
  -:v1:Pod spec/volumes/projected/sources/configMap/name
  -:-:PodTemplate template/spec/volumes/configMap/name
  -:-:PodTemplate template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:PodTemplate template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:PodTemplate template/spec/containers/envFrom/configMapRef/name
  -:-:PodTemplate template/spec/initContainers/envFrom/configMapRef/name
  -:-:PodTemplate template/spec/volumes/projected/sources/configMap/name
  -:-:Deployment spec/template/spec/volumes/configMap/name
  -:-:Deployment spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:Deployment spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:Deployment spec/template/spec/containers/envFrom/configMapRef/name
  -:-:Deployment spec/template/spec/initContainers/envFrom/configMapRef/name
  -:-:Deployment spec/template/spec/volumes/projected/sources/configMap/name
  -:-:ReplicaSet spec/template/spec/volumes/configMap/name
  -:-:ReplicaSet spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:ReplicaSet spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:ReplicaSet spec/template/spec/containers/envFrom/configMapRef/name
  -:-:ReplicaSet spec/template/spec/initContainers/envFrom/configMapRef/name
  -:-:ReplicaSet spec/template/spec/volumes/projected/sources/configMap/name
  -:-:DaemonSet spec/template/spec/volumes/configMap/name
  -:-:DaemonSet spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:DaemonSet spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:DaemonSet spec/template/spec/containers/envFrom/configMapRef/name
  -:-:DaemonSet spec/template/spec/initContainers/envFrom/configMapRef/name
  -:-:DaemonSet spec/template/spec/volumes/projected/sources/configMap/name
  -:-:StatefulSet spec/template/spec/volumes/configMap/name
  -:-:StatefulSet spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:StatefulSet spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:StatefulSet spec/template/spec/containers/envFrom/configMapRef/name
  -:-:StatefulSet spec/template/spec/initContainers/envFrom/configMapRef/name
  -:-:StatefulSet spec/template/spec/volumes/projected/sources/configMap/name
  -:-:Job spec/template/spec/volumes/configMap/name
  -:-:Job spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:Job spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:Job spec/template/spec/containers/envFrom/configMapRef/name
  -:-:Job spec/template/spec/initContainers/envFrom/configMapRef/name
  -:-:Job spec/template/spec/volumes/projected/sources/configMap/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/volumes/configMap/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/volumes/projected/sources/configMap/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/containers/env/valueFrom/configMapKeyRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/configMapKeyRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/containers/envFrom/configMapRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/envFrom/configMapRef/name
  -:-:Node spec/configSource/configMap
  -:-:Role rules/resourceNames
  -:-:ClusterRole rules/resourceNames
  -:-:Ingress metadata/annotations/nginx.ingress.kubernetes.io\/fastcgi-params-configmap
> -:v1:Secret
  -:v1:Pod spec/volumes/secret/secretName
  -:v1:Pod spec/containers/env/valueFrom/secretKeyRef/name
  -:v1:Pod spec/initContainers/env/valueFrom/secretKeyRef/name
  -:v1:Pod spec/containers/envFrom/secretRef/name
  -:v1:Pod spec/initContainers/envFrom/secretRef/name
  -:v1:Pod spec/imagePullSecrets/name
  -:v1:Pod spec/volumes/projected/sources/secret/name
  -:-:PodTemplate template/spec/volumes/secret/secretName
  -:-:PodTemplate template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:PodTemplate template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:PodTemplate template/spec/containers/envFrom/secretRef/name
  -:-:PodTemplate template/spec/initContainers/envFrom/secretRef/name
  -:-:PodTemplate template/spec/imagePullSecrets/name
  -:-:PodTemplate template/spec/volumes/projected/sources/secret/name
  -:-:Deployment spec/template/spec/volumes/secret/secretName
  -:-:Deployment spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:Deployment spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:Deployment spec/template/spec/containers/envFrom/secretRef/name
  -:-:Deployment spec/template/spec/initContainers/envFrom/secretRef/name
  -:-:Deployment spec/template/spec/imagePullSecrets/name
  -:-:Deployment spec/template/spec/volumes/projected/sources/secret/name
  -:-:ReplicaSet spec/template/spec/volumes/secret/secretName
  -:-:ReplicaSet spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:ReplicaSet spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:ReplicaSet spec/template/spec/containers/envFrom/secretRef/name
  -:-:ReplicaSet spec/template/spec/initContainers/envFrom/secretRef/name
  -:-:ReplicaSet spec/template/spec/imagePullSecrets/name
  -:-:ReplicaSet spec/template/spec/volumes/projected/sources/secret/name
  -:-:DaemonSet spec/template/spec/volumes/secret/secretName
  -:-:DaemonSet spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:DaemonSet spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:DaemonSet spec/template/spec/containers/envFrom/secretRef/name
  -:-:DaemonSet spec/template/spec/initContainers/envFrom/secretRef/name
  -:-:DaemonSet spec/template/spec/imagePullSecrets/name
  -:-:DaemonSet spec/template/spec/volumes/projected/sources/secret/name
  -:-:StatefulSet spec/template/spec/volumes/secret/secretName
  -:-:StatefulSet spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:StatefulSet spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:StatefulSet spec/template/spec/containers/envFrom/secretRef/name
  -:-:StatefulSet spec/template/spec/initContainers/envFrom/secretRef/name
  -:-:StatefulSet spec/template/spec/imagePullSecrets/name
  -:-:StatefulSet spec/template/spec/volumes/projected/sources/secret/name
  -:-:Job spec/template/spec/volumes/secret/secretName
  -:-:Job spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:Job spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:Job spec/template/spec/containers/envFrom/secretRef/name
  -:-:Job spec/template/spec/initContainers/envFrom/secretRef/name
  -:-:Job spec/template/spec/imagePullSecrets/name
  -:-:Job spec/template/spec/volumes/projected/sources/secret/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/volumes/secret/secretName
  -:-:CronJob spec/jobTemplate/spec/template/spec/volumes/projected/sources/secret/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/env/valueFrom/secretKeyRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/containers/envFrom/secretRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/initContainers/envFrom/secretRef/name
  -:-:CronJob spec/jobTemplate/spec/template/spec/imagePullSecrets/name
  -:-:Ingress spec/tls/secretName
  -:-:Ingress metadata/annotations/ingress.kubernetes.io\/auth-secret
  -:-:Ingress metadata/annotations/nginx.ingress.kubernetes.io\/auth-secret
  -:-:Ingress metadata/annotations/nginx.ingress.kubernetes.io\/auth-tls-secret
  -:-:Ingress spec/tls/secretName
  -:-:ServiceAccount imagePullSecrets/name
  -:-:StorageClass parameters/secretName
  -:-:StorageClass parameters/adminSecretName
  -:-:StorageClass parameters/userSecretName
  -:-:StorageClass parameters/secretRef
  -:-:Role rules/resourceNames
  -:-:ClusterRole rules/resourceNames
  serving.knative.dev:v1:Service spec/template/spec/containers/env/valueFrom/secretKeyRef/name
  -:-:PersistentVolume spec/azureFile/secretName
> -:v1:Service
  apps:-:StatefulSet spec/serviceName
  -:-:Ingress spec/rules/http/paths/backend/serviceName
  -:-:Ingress spec/backend/serviceName
  -:-:Ingress spec/rules/http/paths/backend/service/name
  -:-:Ingress spec/defaultBackend/service/name
  apiregistration.k8s.io:-:APIService spec/service/name
  admissionregistration.k8s.io:-:ValidatingWebhookConfiguration webhooks/clientConfig/service
  admissionregistration.k8s.io:-:MutatingWebhookConfiguration webhooks/clientConfig/service
> rbac.authorization.k8s.io:-:Role
  rbac.authorization.k8s.io:-:RoleBinding roleRef/name
> rbac.authorization.k8s.io:-:ClusterRole
  rbac.authorization.k8s.io:-:RoleBinding roleRef/name
  rbac.authorization.k8s.io:-:ClusterRoleBinding roleRef/name
> -:v1:ServiceAccount
  rbac.authorization.k8s.io:-:RoleBinding subjects
  rbac.authorization.k8s.io:-:ClusterRoleBinding subjects
  -:-:Pod spec/serviceAccountName
  -:-:StatefulSet spec/template/spec/serviceAccountName
  -:-:Deployment spec/template/spec/serviceAccountName
  -:-:ReplicationController spec/template/spec/serviceAccountName
  -:-:CronJob spec/jobTemplate/spec/template/spec/serviceAccountName
  -:-:Job spec/template/spec/serviceAccountName
  -:-:DaemonSet spec/template/spec/serviceAccountName
> -:v1:PersistentVolumeClaim
  -:-:Pod spec/volumes/persistentVolumeClaim/claimName
  -:-:StatefulSet spec/template/spec/volumes/persistentVolumeClaim/claimName
  -:-:Deployment spec/template/spec/volumes/persistentVolumeClaim/claimName
  -:-:ReplicationController spec/template/spec/volumes/persistentVolumeClaim/claimName
  -:-:CronJob spec/jobTemplate/spec/template/spec/volumes/persistentVolumeClaim/claimName
  -:-:Job spec/template/spec/volumes/persistentVolumeClaim/claimName
  -:-:DaemonSet spec/template/spec/volumes/persistentVolumeClaim/claimName
> -:v1:PersistentVolume
  -:-:PersistentVolumeClaim spec/volumeName
  -:-:ClusterRole rules/resourceNames
> storage.k8s.io:v1:StorageClass
  -:-:PersistentVolume spec/storageClassName
  -:-:PersistentVolumeClaim spec/storageClassName
  -:-:StatefulSet spec/volumeClaimTemplates/spec/storageClassName
> scheduling.k8s.io:v1:PriorityClass
  -:-:Pod spec/priorityClassName
  -:-:StatefulSet spec/template/spec/priorityClassName
  -:-:Deployment spec/template/spec/priorityClassName
  -:-:ReplicationController spec/template/spec/priorityClassName
  -:-:CronJob spec/jobTemplate/spec/template/spec/priorityClassName
  -:-:Job spec/template/spec/priorityClassName
  -:-:DaemonSet spec/template/spec/priorityClassName
> networking.k8s.io/v1:v1:IngressClass
  -:-:Ingress spec/ingressClassName
> admissionregistration.k8s.io:-:ValidatingAdmissionPolicy
  admissionregistration.k8s.io:-:ValidatingAdmissionPolicyBinding spec/policyName
";

/// The field specs of every transformer.
#[derive(Debug, Clone)]
pub(crate) struct Konfig {
    /// `commonLabels` and `labels` with `includeSelectors`: metadata, templates, selectors.
    pub common_labels: Vec<FieldSpec>,
    /// `labels` with `includeTemplates`: metadata and templates.
    pub template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    pub var_reference: Vec<FieldSpec>,
    pub name_reference: Vec<NameBackReference>,
}

/// The fields referring to objects of one type by name.
#[derive(Debug, Clone)]
pub(crate) struct NameBackReference {
    pub target: Gvk,
    pub referrers: Vec<FieldSpec>,
}

impl Konfig {
    /// The built-in configuration.
    pub(crate) fn builtin() -> &'static Konfig {
        static KONFIG: OnceLock<Konfig> = OnceLock::new();
        KONFIG.get_or_init(|| {
            let metadata_labels = table(METADATA_LABELS);
            let mut common_labels = table(COMMON_LABEL_SELECTORS);
            common_labels.extend(metadata_labels.iter().cloned());
            Konfig {
                common_labels,
                template_labels: metadata_labels,
                common_annotations: table(COMMON_ANNOTATIONS),
                namespace: table(NAMESPACE),
                name_prefix: table("* metadata/name"),
                name_suffix: table("* metadata/name"),
                images: table(IMAGES),
                replicas: table(REPLICAS),
                var_reference: table(VAR_REFERENCE),
                name_reference: name_references(NAME_REFERENCE),
            }
        })
    }
}

impl Konfig {
    /// Adds the entries of `other` this configuration lacks (kustomize merges a base's
    /// configuration into its parent's).
    pub(crate) fn merge(&mut self, other: &Konfig) {
        fn add(into: &mut Vec<FieldSpec>, more: &[FieldSpec]) {
            // Configs start as copies of the built-in one and only grow, so `more` is most
            // often a prefix of `into`: one pass then shows there is nothing to add, instead
            // of a search per spec (which made every base used by many overlays costly).
            if into.starts_with(more) {
                return;
            }
            for spec in more {
                if !into.contains(spec) {
                    into.push(spec.clone());
                }
            }
        }
        add(&mut self.common_labels, &other.common_labels);
        add(&mut self.template_labels, &other.template_labels);
        add(&mut self.common_annotations, &other.common_annotations);
        add(&mut self.namespace, &other.namespace);
        add(&mut self.name_prefix, &other.name_prefix);
        add(&mut self.name_suffix, &other.name_suffix);
        add(&mut self.images, &other.images);
        add(&mut self.replicas, &other.replicas);
        add(&mut self.var_reference, &other.var_reference);
        for back_ref in &other.name_reference {
            match self
                .name_reference
                .iter_mut()
                .find(|b| b.target == back_ref.target)
            {
                Some(existing) => add(&mut existing.referrers, &back_ref.referrers),
                None => self.name_reference.push(back_ref.clone()),
            }
        }
    }
}

fn name_references(text: &str) -> Vec<NameBackReference> {
    let mut out: Vec<NameBackReference> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(target) = line.strip_prefix("> ") {
            out.push(NameBackReference {
                target: parse_gvk(target.trim()),
                referrers: Vec::new(),
            });
        } else if let Some(last) = out.last_mut() {
            last.referrers.extend(table(line));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_with_the_expected_sizes() {
        let k = Konfig::builtin();
        assert_eq!(k.template_labels.len(), 10);
        assert_eq!(k.common_labels.len(), 22 + 10);
        assert_eq!(k.common_annotations.len(), 9);
        assert_eq!(k.images.len(), 6);
        assert_eq!(k.name_reference.len(), 16);
        let config_map = &k.name_reference[4];
        assert_eq!(config_map.target.kind, "ConfigMap");
        assert_eq!(config_map.target.version, "v1");
        assert!(
            config_map
                .referrers
                .iter()
                .any(|r| r.gvk.kind == "Ingress" && r.path.ends_with("fastcgi-params-configmap"))
        );
        assert!(
            k.common_labels
                .iter()
                .any(|s| s.gvk.kind == "Service" && s.create)
        );
    }
}
