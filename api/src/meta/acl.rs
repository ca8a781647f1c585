//! Access control lists that let objects in other namespaces refer to a source
//! (HelmRepository, ImageRepository). Provisional upstream: declared, not enforced.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which namespaces may refer to this object, by their labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessFrom {
    /// Selectors of the allowed namespaces; a namespace is allowed when any one selector
    /// matches it.
    pub namespace_selectors: Vec<NamespaceSelector>,
}

/// Selects namespaces by label; an empty selector matches every namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Labels the namespace must all carry, with these exact values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}
