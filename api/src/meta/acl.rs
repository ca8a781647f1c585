//! Access control for cross-namespace references (Flux's `acl` package): an object may
//! list which namespaces are allowed to refer to it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which namespaces may refer to the object holding this list. The object is accessible
/// from a namespace when any of the selectors matches that namespace's labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessFrom {
    /// Namespace selectors, combined with a logical OR.
    pub namespace_selectors: Vec<NamespaceSelector>,
}

impl AccessFrom {
    /// Whether a namespace with these labels is granted access.
    pub fn allows(&self, namespace_labels: &BTreeMap<String, String>) -> bool {
        self.namespace_selectors
            .iter()
            .any(|selector| selector.matches(namespace_labels))
    }
}

/// Selects namespaces by their labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Labels a namespace must all carry, with these values, to be selected. An empty or
    /// missing map selects every namespace of the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}

impl NamespaceSelector {
    /// Whether a namespace with these labels is selected.
    pub fn matches(&self, namespace_labels: &BTreeMap<String, String>) -> bool {
        self.match_labels.iter().flatten().all(|(key, value)| {
            namespace_labels
                .get(key)
                .is_some_and(|present| present == value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_empty_selector_matches_every_namespace() {
        let acl = AccessFrom {
            namespace_selectors: vec![NamespaceSelector::default()],
        };
        assert!(acl.allows(&labels(&[])));
        assert!(acl.allows(&labels(&[("team", "a")])));
    }

    #[test]
    fn selectors_are_ored_and_labels_are_anded() {
        let acl = AccessFrom {
            namespace_selectors: vec![
                NamespaceSelector {
                    match_labels: Some(labels(&[("team", "a"), ("env", "prod")])),
                },
                NamespaceSelector {
                    match_labels: Some(labels(&[("team", "b")])),
                },
            ],
        };
        assert!(acl.allows(&labels(&[("team", "a"), ("env", "prod")])));
        assert!(!acl.allows(&labels(&[("team", "a")])));
        assert!(acl.allows(&labels(&[("team", "b"), ("env", "dev")])));
        assert!(!acl.allows(&labels(&[("team", "c")])));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        assert!(!AccessFrom::default().allows(&labels(&[("team", "a")])));
    }
}
