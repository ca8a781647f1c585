//! The inventory of objects an applier (Kustomization, HelmRelease) has applied, as kept in
//! `status.inventory`. The Flux CLI reads it (`flux tree`, `flux diff`), so the format is
//! the contract: one entry per object, `{id: "<namespace>_<name>_<group>_<kind>", v: "<version>"}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The objects applied by the last successful reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResourceInventory {
    /// One entry per applied object.
    pub entries: Vec<ResourceRef>,
}

/// One applied object, identified by namespace, name, API group and kind, plus the API
/// version it was applied with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResourceRef {
    /// `<namespace>_<name>_<group>_<kind>`: the namespace is empty for cluster-scoped
    /// objects, the group is empty for the core group, and a `:` in the name is written
    /// as `__`.
    pub id: String,
    /// API version of the object's kind, e.g. `v1` or `v1beta2`.
    #[serde(rename = "v")]
    pub version: String,
}

/// The parts of an inventory entry's `id`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectId {
    /// Namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Name, with any `:` restored.
    pub name: String,
    /// API group; empty for the core group.
    pub group: String,
    /// Kind.
    pub kind: String,
}

const SEPARATOR: char = '_';
const ENCODED_COLON: &str = "__";

impl ObjectId {
    /// The inventory `id` of this object.
    pub fn encode(&self) -> String {
        format!(
            "{}{SEPARATOR}{}{SEPARATOR}{}{SEPARATOR}{}",
            self.namespace,
            self.name.replace(':', ENCODED_COLON),
            self.group,
            self.kind
        )
    }

    /// Reads an inventory `id`. The namespace is everything before the first `_`, the kind
    /// everything after the last, the group the field before that; what remains is the
    /// name, in which `__` stands for `:`. Returns `None` when a field is missing or the
    /// name holds a single `_`.
    pub fn decode(id: &str) -> Option<ObjectId> {
        let (namespace, rest) = id.split_once(SEPARATOR)?;
        let (rest, kind) = rest.rsplit_once(SEPARATOR)?;
        let (name, group) = rest.rsplit_once(SEPARATOR)?;
        let name = name.replace(ENCODED_COLON, ":");
        if name.contains(SEPARATOR) || kind.is_empty() {
            return None;
        }
        Some(ObjectId {
            namespace: namespace.to_owned(),
            name,
            group: group.to_owned(),
            kind: kind.to_owned(),
        })
    }
}

impl ResourceRef {
    /// The entry for an object of `group`/`version` `kind`.
    pub fn new(object: &ObjectId, version: impl Into<String>) -> ResourceRef {
        ResourceRef {
            id: object.encode(),
            version: version.into(),
        }
    }

    /// The namespace, name, group and kind encoded in `id`, if it is well formed.
    pub fn object(&self) -> Option<ObjectId> {
        ObjectId::decode(&self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(namespace: &str, name: &str, group: &str, kind: &str) -> ObjectId {
        ObjectId {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            group: group.to_owned(),
            kind: kind.to_owned(),
        }
    }

    #[test]
    fn ids_are_written_as_flux_writes_them() {
        assert_eq!(
            id("default", "podinfo", "", "Service").encode(),
            "default_podinfo__Service"
        );
        assert_eq!(
            id("", "foo", "rbac.authorization.k8s.io", "ClusterRole").encode(),
            "_foo_rbac.authorization.k8s.io_ClusterRole"
        );
        assert_eq!(
            id(
                "",
                "system:auth-delegator",
                "rbac.authorization.k8s.io",
                "ClusterRoleBinding"
            )
            .encode(),
            "_system__auth-delegator_rbac.authorization.k8s.io_ClusterRoleBinding"
        );
    }

    #[test]
    fn ids_read_back() {
        for object in [
            id("default", "podinfo", "", "Service"),
            id("apps", "podinfo", "apps", "Deployment"),
            id(
                "",
                "system:auth-delegator",
                "rbac.authorization.k8s.io",
                "ClusterRole",
            ),
            id(
                "flux-system",
                "podinfo",
                "helm.toolkit.fluxcd.io",
                "HelmRelease",
            ),
        ] {
            let entry = ResourceRef::new(&object, "v1");
            assert_eq!(entry.object(), Some(object));
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert_eq!(ObjectId::decode("no-separators"), None);
        assert_eq!(ObjectId::decode("ns_name_Kind"), None);
        assert_eq!(ObjectId::decode("ns_na_me_group_Kind"), None);
        assert_eq!(ObjectId::decode("ns_name_group_"), None);
    }
}
