//! Resource identity: group, version, kind, name and namespace, as kustomize compares them.

use serde_json::Value;

/// Group, version and kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub(crate) struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// Splits an `apiVersion` into group and version (`apps/v1` → `apps`, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.to_owned()),
    }
}

impl Gvk {
    pub(crate) fn new(group: &str, version: &str, kind: &str) -> Gvk {
        Gvk {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    pub(crate) fn of(object: &Value) -> Gvk {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, version) = split_api_version(api_version);
        Gvk {
            group,
            version,
            kind: object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        }
    }

    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether this GVK matches `selector`, whose empty fields match anything.
    pub(crate) fn is_selected_by(&self, selector: &Gvk) -> bool {
        (selector.group.is_empty() || self.group == selector.group)
            && (selector.version.is_empty() || self.version == selector.version)
            && (selector.kind.is_empty() || self.kind == selector.kind)
    }

    /// Whether kustomize knows this type to be cluster-scoped (from its built-in schema);
    /// unknown types count as namespaced.
    pub(crate) fn is_cluster_scoped(&self) -> bool {
        CLUSTER_SCOPED.iter().any(|(api_version, kind)| {
            *kind == self.kind
                && match api_version.split_once('/') {
                    Some((g, v)) => g == self.group && v == self.version,
                    None => self.group.is_empty() && *api_version == self.version,
                }
        })
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or = |s: &str, d: &'static str| {
            if s.is_empty() {
                d.to_owned()
            } else {
                s.to_owned()
            }
        };
        write!(
            f,
            "{}.{}.{}",
            or(&self.kind, "[noKind]"),
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]")
        )
    }
}

/// The types kustomize's built-in schema lists as cluster-scoped.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicy",
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    ("apiregistration.k8s.io/v1", "APIService"),
    ("apiregistration.k8s.io/v1beta1", "APIService"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io/v1", "IngressClass"),
    ("networking.k8s.io/v1beta1", "IngressClass"),
    ("node.k8s.io/v1", "RuntimeClass"),
    ("node.k8s.io/v1beta1", "RuntimeClass"),
    ("policy/v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io/v1", "PriorityClass"),
    ("scheduling.k8s.io/v1beta1", "PriorityClass"),
    ("storage.k8s.io/v1", "CSIDriver"),
    ("storage.k8s.io/v1", "CSINode"),
    ("storage.k8s.io/v1", "StorageClass"),
    ("storage.k8s.io/v1", "VolumeAttachment"),
    ("storage.k8s.io/v1beta1", "CSIDriver"),
    ("storage.k8s.io/v1beta1", "CSINode"),
    ("storage.k8s.io/v1beta1", "StorageClass"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"),
    ("v1", "ComponentStatus"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "NodeProxyOptions"),
    ("v1", "PersistentVolume"),
];

/// A resource's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    pub(crate) fn of(object: &Value) -> ResId {
        ResId {
            gvk: Gvk::of(object),
            name: str_at(object, &["metadata", "name"]).to_owned(),
            namespace: str_at(object, &["metadata", "namespace"]).to_owned(),
        }
    }

    /// The namespace as kustomize compares it: cluster-scoped types have none, and an empty
    /// namespace means `default`.
    pub(crate) fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            "_non_namespaceable_"
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    pub(crate) fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// Same GVK, name and effective namespace.
    pub(crate) fn equals(&self, other: &ResId) -> bool {
        self.gvk == other.gvk && self.name == other.name && self.ns_equals(other)
    }

    /// A key equal for ids that [`ResId::equals`] says are equal.
    pub(crate) fn key(&self) -> (Gvk, String, String) {
        (
            self.gvk.clone(),
            self.name.clone(),
            self.effective_namespace().to_owned(),
        )
    }
}

impl std::fmt::Display for ResId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ns = if self.namespace.is_empty() {
            "[noNs]"
        } else {
            &self.namespace
        };
        let name = if self.name.is_empty() {
            "[noName]"
        } else {
            &self.name
        };
        write!(f, "{}/{}.{}", self.gvk, name, ns)
    }
}

/// The string at `path` in `object`, or `""`.
pub(crate) fn str_at<'v>(object: &'v Value, path: &[&str]) -> &'v str {
    let mut cur = object;
    for key in path {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_print_and_compare_as_kustomize_does() {
        let a = ResId::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"}}));
        assert_eq!(a.to_string(), "Deployment.v1.apps/web.[noNs]");
        let b = ResId::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"}}));
        assert!(a.equals(&b));
        let ns = ResId::of(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "x", "namespace": "y"}}));
        assert_eq!(ns.effective_namespace(), "_non_namespaceable_");
    }
}
