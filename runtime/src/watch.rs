//! Where a controller watches: the namespaces and label selector its flags select.

use kube::runtime::watcher;
use kube::{Api, Client, Resource};

use crate::args::Args;

/// An `Api` over every namespace, or only the runtime namespace when
/// `--watch-all-namespaces=false`.
pub fn scoped_api<K>(client: Client, args: &Args) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match args.watch_namespace() {
        Some(namespace) => Api::namespaced(client, namespace),
        None => Api::all(client),
    }
}

/// The watcher configuration for the primary objects: `--watch-label-selector` when set
/// (sharding), and bookmarks so restarts resume cheaply.
pub fn watcher_config(args: &Args) -> watcher::Config {
    let config = watcher::Config::default().any_semantic();
    let selector = args.watch_label_selector.trim();
    if selector.is_empty() {
        config
    } else {
        config.labels(selector)
    }
}

/// Feature gates of a controller: every gate it knows with its default, overridden by
/// `--feature-gates=Name=true,Other=false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureGates {
    gates: Vec<(String, bool)>,
}

impl FeatureGates {
    /// Parses `flag` against the `known` gates and their defaults.
    ///
    /// # Errors
    /// A message naming an unknown gate or a value other than `true`/`false`.
    pub fn parse(known: &[(&str, bool)], flag: &str) -> Result<Self, String> {
        let mut gates: Vec<(String, bool)> =
            known.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect();
        for item in flag.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) = item.split_once('=').ok_or_else(|| {
                format!("invalid feature gate {item:?}: expected Name=true|false")
            })?;
            let value: bool = value
                .trim()
                .parse()
                .map_err(|_| format!("invalid value for feature gate {name}: {value:?}"))?;
            let slot = gates
                .iter_mut()
                .find(|(known, _)| known == name.trim())
                .ok_or_else(|| format!("unknown feature gate {name:?}"))?;
            slot.1 = value;
        }
        Ok(Self { gates })
    }

    /// Whether `name` is enabled (unknown names are disabled).
    pub fn enabled(&self, name: &str) -> bool {
        self.gates.iter().any(|(gate, on)| gate == name && *on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[(&str, bool)] = &[
        ("CacheSecretsAndConfigMaps", false),
        ("GitShallowClone", true),
    ];

    #[test]
    fn gates_keep_defaults_and_take_overrides() {
        let gates = FeatureGates::parse(
            KNOWN,
            "CacheSecretsAndConfigMaps=true, GitShallowClone=false",
        )
        .unwrap();
        assert!(gates.enabled("CacheSecretsAndConfigMaps"));
        assert!(!gates.enabled("GitShallowClone"));
        assert!(
            FeatureGates::parse(KNOWN, "")
                .unwrap()
                .enabled("GitShallowClone")
        );
    }

    #[test]
    fn unknown_gates_and_bad_values_are_refused() {
        assert!(
            FeatureGates::parse(KNOWN, "NoSuchGate=true")
                .unwrap_err()
                .contains("NoSuchGate")
        );
        assert!(FeatureGates::parse(KNOWN, "GitShallowClone=yes").is_err());
        assert!(FeatureGates::parse(KNOWN, "GitShallowClone").is_err());
    }
}
