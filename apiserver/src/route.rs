//! Parsing request paths into what they address.

/// A resource path, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    /// API group (empty for `/api/v1`).
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace from `/namespaces/{ns}/...`, if any.
    pub namespace: Option<String>,
    /// The resource (plural).
    pub plural: String,
    /// The object's name, if the path names one.
    pub name: Option<String>,
    /// The subresource (`status`, `scale`, `finalize`), if any.
    pub subresource: Option<String>,
}

/// What a request path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/api`: the core API versions.
    CoreVersions,
    /// `/apis`: the API groups.
    Groups,
    /// `/apis/{group}`: one group.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`: the resources of a group version.
    GroupVersion(String, String),
    /// A collection, an object or a subresource.
    Resource(ResourcePath),
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz` (and their sub-paths).
    Health,
    /// `/openapi/v2`.
    OpenApiV2,
    /// `/openapi/v3`: the index of group versions.
    OpenApiV3Index,
    /// `/openapi/v3/apis/{group}/{version}` or `/openapi/v3/api/v1`.
    OpenApiV3(String, String),
    /// Anything else.
    Unknown,
}

/// Parses a request path (without query). A `/watch/` segment after the version (the legacy
/// watch form) is accepted and reported through the second value.
pub fn parse(path: &str) -> (Route, bool) {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match segments.as_slice() {
        ["api"] => (Route::CoreVersions, false),
        ["apis"] => (Route::Groups, false),
        ["version"] => (Route::Version, false),
        ["healthz" | "livez" | "readyz", ..] => (Route::Health, false),
        ["openapi", "v2"] => (Route::OpenApiV2, false),
        ["openapi", "v3"] => (Route::OpenApiV3Index, false),
        ["openapi", "v3", "api", version] => (
            Route::OpenApiV3(String::new(), (*version).to_owned()),
            false,
        ),
        ["openapi", "v3", "apis", group, version] => (
            Route::OpenApiV3((*group).to_owned(), (*version).to_owned()),
            false,
        ),
        ["apis", group] => (Route::Group((*group).to_owned()), false),
        ["api", version] => (
            Route::GroupVersion(String::new(), (*version).to_owned()),
            false,
        ),
        ["apis", group, version] => (
            Route::GroupVersion((*group).to_owned(), (*version).to_owned()),
            false,
        ),
        ["api", version, rest @ ..] => resource("", version, rest),
        ["apis", group, version, rest @ ..] => resource(group, version, rest),
        _ => (Route::Unknown, false),
    }
}

fn resource(group: &str, version: &str, rest: &[&str]) -> (Route, bool) {
    let (watch, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let make =
        |namespace: Option<&str>, plural: &str, name: Option<&str>, subresource: Option<&str>| {
            Route::Resource(ResourcePath {
                group: group.to_owned(),
                version: version.to_owned(),
                namespace: namespace.map(str::to_owned),
                plural: plural.to_owned(),
                name: name.map(str::to_owned),
                subresource: subresource.map(str::to_owned),
            })
        };
    let route = match rest {
        // Namespaces are cluster-scoped and also the prefix of namespaced paths.
        ["namespaces"] => make(None, "namespaces", None, None),
        ["namespaces", name] => make(None, "namespaces", Some(name), None),
        ["namespaces", name, sub @ ("status" | "finalize")] => {
            make(None, "namespaces", Some(name), Some(sub))
        }
        ["namespaces", ns, plural] => make(Some(ns), plural, None, None),
        ["namespaces", ns, plural, name] => make(Some(ns), plural, Some(name), None),
        ["namespaces", ns, plural, name, sub] => make(Some(ns), plural, Some(name), Some(sub)),
        [plural] => make(None, plural, None, None),
        [plural, name] => make(None, plural, Some(name), None),
        [plural, name, sub] => make(None, plural, Some(name), Some(sub)),
        _ => Route::Unknown,
    };
    (route, watch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource_path(path: &str) -> ResourcePath {
        match parse(path).0 {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_cluster_scoped_and_subresource_paths_parse() {
        let r = resource_path("/api/v1/namespaces/default/configmaps/x");
        assert_eq!(
            (
                r.group.as_str(),
                r.namespace.as_deref(),
                r.plural.as_str(),
                r.name.as_deref()
            ),
            ("", Some("default"), "configmaps", Some("x"))
        );
        let r = resource_path("/apis/apps/v1/namespaces/a/deployments/web/scale");
        assert_eq!(
            (r.group.as_str(), r.subresource.as_deref()),
            ("apps", Some("scale"))
        );
        let r = resource_path("/api/v1/namespaces/x");
        assert_eq!(
            (r.plural.as_str(), r.namespace.as_deref(), r.name.as_deref()),
            ("namespaces", None, Some("x"))
        );
        let r = resource_path("/api/v1/namespaces/x/finalize");
        assert_eq!(
            (r.plural.as_str(), r.subresource.as_deref()),
            ("namespaces", Some("finalize"))
        );
        let r = resource_path("/apis/rbac.authorization.k8s.io/v1/clusterroles/admin");
        assert_eq!((r.namespace, r.name.as_deref()), (None, Some("admin")));
        let r = resource_path("/apis/source.toolkit.fluxcd.io/v1/gitrepositories");
        assert_eq!((r.plural.as_str(), r.name), ("gitrepositories", None));
    }

    #[test]
    fn discovery_and_legacy_watch_paths_parse() {
        assert_eq!(parse("/api").0, Route::CoreVersions);
        assert_eq!(
            parse("/apis/apps/v1").0,
            Route::GroupVersion("apps".into(), "v1".into())
        );
        assert_eq!(
            parse("/openapi/v3/apis/apps/v1").0,
            Route::OpenApiV3("apps".into(), "v1".into())
        );
        let (route, watch) = parse("/api/v1/watch/namespaces/a/pods");
        assert!(watch);
        assert!(
            matches!(route, Route::Resource(r) if r.plural == "pods" && r.namespace.as_deref() == Some("a"))
        );
    }
}
