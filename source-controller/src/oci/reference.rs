//! OCIRepository URLs (`oci://<registry>/<repository>`), tags and digests, read with the
//! rules of go-containerregistry's `name` package that upstream relies on.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// The prefix every OCIRepository URL has.
pub const OCI_PREFIX: &str = "oci://";
/// The registry a reference without a registry part points at (Docker Hub).
pub const DOCKER_HUB: &str = "index.docker.io";
/// The tag pulled when the spec names none.
pub const DEFAULT_TAG: &str = "latest";

const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";

/// An `oci://` URL that cannot be used; the reconciler reports it as stalled
/// `URLInvalid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidUrl(pub String);

/// A repository in a registry, e.g. `ghcr.io` + `stefanprodan/manifests/podinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    registry: String,
    path: String,
}

impl Repository {
    /// Reads an OCIRepository `spec.url`.
    ///
    /// The registry is the first path element when it contains a `.` or a `:` or is
    /// `localhost`; otherwise the whole is a Docker Hub repository (single names get the
    /// `library/` namespace). `docker.io` is spelled `index.docker.io`, as upstream does.
    ///
    /// # Errors
    /// [`InvalidUrl`] without the `oci://` prefix, with a tag or digest, with characters a
    /// repository cannot contain, or with a registry that is not a host\[:port\].
    pub fn parse_url(url: &str) -> Result<Self, InvalidUrl> {
        let Some(rest) = url.strip_prefix(OCI_PREFIX) else {
            return Err(InvalidUrl(
                "URL must be in format 'oci://<domain>/<org>/<repo>'".to_owned(),
            ));
        };
        if rest.is_empty() {
            return Err(InvalidUrl("a repository name must be specified".to_owned()));
        }
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), rest.to_owned()),
        };
        if let Some((_, tag)) = path.split_once(':') {
            return Err(InvalidUrl(format!(
                "URL must not contain a tag; remove ':{tag}'"
            )));
        }
        if path.contains('@') {
            return Err(InvalidUrl(format!(
                "URL must not contain a digest; remove '@{}'",
                path.split_once('@').map(|(_, d)| d).unwrap_or_default()
            )));
        }
        if path.len() < 2 || path.len() > 255 {
            return Err(InvalidUrl(format!(
                "repository must be between 2 and 255 characters in length: {path}"
            )));
        }
        if !path.chars().all(|c| REPOSITORY_CHARS.contains(c))
            || path.starts_with('/')
            || path.ends_with('/')
            || path.contains("//")
        {
            return Err(InvalidUrl(format!(
                "repository can only contain the characters `{REPOSITORY_CHARS}`: {path}"
            )));
        }
        check_registry(&registry)?;
        let registry = match registry.as_str() {
            "docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
            _ => registry,
        };
        let path = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Ok(Self { registry, path })
    }

    /// The registry host and optional port, e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry, e.g. `stefanprodan/podinfo`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether plain HTTP may be tried (after HTTPS) for this registry: with `insecure`,
    /// or for `localhost`, loopback and RFC 1918 addresses, as go-containerregistry does.
    pub fn allows_plain_http(&self, insecure: bool) -> bool {
        if insecure {
            return true;
        }
        let host = host_of(&self.registry);
        if host == "localhost" {
            return true;
        }
        match host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(IpAddr::V4(ip)) => ip.is_loopback() || is_rfc1918(ip),
            Ok(IpAddr::V6(ip)) => ip.is_loopback(),
            Err(_) => false,
        }
    }

    /// `<registry>/<path>:<tag>`.
    pub fn tag_reference(&self, tag: &str) -> String {
        format!("{self}:{tag}")
    }

    /// `<registry>/<path>@<digest>`.
    pub fn digest_reference(&self, digest: &str) -> String {
        format!("{self}@{digest}")
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

/// Whether `tag` is a valid OCI tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Checks a manifest digest as the spec's `ref.digest` must be written:
/// `sha256:<64 hex>` or `sha512:<128 hex>`.
///
/// # Errors
/// `cannot parse hash: "<digest>"`, upstream's message.
pub fn parse_digest(digest: &str) -> Result<&str, String> {
    let valid = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest
        .split_once(':')
        .is_some_and(|(_, hex)| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if valid {
        Ok(digest)
    } else {
        Err(format!("cannot parse hash: {digest:?}"))
    }
}

fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        // [::1]:5000
        return registry
            .split_once(']')
            .map_or(registry, |(host, _)| &registry[..host.len() + 1]);
    }
    registry.rsplit_once(':').map_or(registry, |(host, _)| host)
}

fn is_rfc1918(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 10 || (a == 172 && (16..32).contains(&b)) || (a == 192 && b == 168)
}

fn check_registry(registry: &str) -> Result<(), InvalidUrl> {
    let invalid = || {
        InvalidUrl(format!(
            "registries must be valid RFC 3986 URI authorities: {registry}"
        ))
    };
    let host = host_of(registry);
    let port = registry[host.len()..].strip_prefix(':');
    if let Some(port) = port
        && (port.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(invalid());
    }
    if registry.len() > host.len() && port.is_none() {
        return Err(invalid());
    }
    let host_ok = if host.starts_with('[') {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::Ipv6Addr>()
            .is_ok()
    } else {
        !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    if host_ok { Ok(()) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_registry_and_repository() {
        let cases = [
            (
                "oci://ghcr.io/stefanprodan/podinfo",
                "ghcr.io",
                "stefanprodan/podinfo",
            ),
            ("oci://127.0.0.1:5000/podinfo", "127.0.0.1:5000", "podinfo"),
            ("oci://localhost/a/b", "localhost", "a/b"),
            ("oci://docker.io/library/nginx", DOCKER_HUB, "library/nginx"),
            (
                "oci://stefanprodan/podinfo",
                DOCKER_HUB,
                "stefanprodan/podinfo",
            ),
            ("oci://nginx", DOCKER_HUB, "library/nginx"),
            ("oci://[::1]:5000/x/y", "[::1]:5000", "x/y"),
        ];
        for (url, registry, path) in cases {
            let repo = Repository::parse_url(url).unwrap();
            assert_eq!((repo.registry(), repo.path()), (registry, path), "{url}");
        }
    }

    #[test]
    fn bad_urls_are_refused_with_upstream_messages() {
        let cases = [
            (
                "ghcr.io/stefanprodan/charts",
                "URL must be in format 'oci://<domain>/<org>/<repo>'",
            ),
            (
                "oci://ghcr.io/test/test:v1",
                "URL must not contain a tag; remove ':v1'",
            ),
            (
                "oci://127.0.0.1:5000/podinfo:6.1.6",
                "URL must not contain a tag; remove ':6.1.6'",
            ),
            (
                "oci://ghcr.io/Test/Upper",
                "repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Test/Upper",
            ),
            (
                "oci://ghcr.io:x/ab",
                "registries must be valid RFC 3986 URI authorities: ghcr.io:x",
            ),
        ];
        for (url, message) in cases {
            assert_eq!(Repository::parse_url(url).unwrap_err().0, message, "{url}");
        }
        assert!(Repository::parse_url("oci://ghcr.io/a@sha256:abc").is_err());
        // go-containerregistry's minimum repository length.
        assert_eq!(
            Repository::parse_url("oci://ghcr.io/a").unwrap_err().0,
            "repository must be between 2 and 255 characters in length: a"
        );
        assert!(Repository::parse_url("oci://ghcr.io/a//b").is_err());
        assert!(Repository::parse_url("oci://").is_err());
    }

    #[test]
    fn plain_http_is_allowed_for_insecure_and_local_registries_only() {
        let allows = |url: &str, insecure| {
            Repository::parse_url(url)
                .unwrap()
                .allows_plain_http(insecure)
        };
        assert!(allows("oci://ghcr.io/a/b", true));
        assert!(!allows("oci://ghcr.io/a/b", false));
        assert!(allows("oci://127.0.0.1:5000/ab", false));
        assert!(allows("oci://localhost:5000/ab", false));
        assert!(allows("oci://10.1.2.3/ab", false));
        assert!(allows("oci://192.168.0.9:5000/ab", false));
        assert!(allows("oci://172.20.0.1/ab", false));
        assert!(!allows("oci://172.32.0.1/ab", false));
        assert!(allows("oci://[::1]:5000/ab", false));
    }

    #[test]
    fn tags_and_digests_are_validated() {
        assert!(is_valid_tag("6.1.6"));
        assert!(is_valid_tag("latest"));
        assert!(is_valid_tag("_x-1.2"));
        assert!(!is_valid_tag(""));
        assert!(!is_valid_tag(".x"));
        assert!(!is_valid_tag("a/b"));
        assert!(!is_valid_tag(&"a".repeat(129)));
        let hex = "a".repeat(64);
        assert!(parse_digest(&format!("sha256:{hex}")).is_ok());
        assert_eq!(
            parse_digest("invalid").unwrap_err(),
            "cannot parse hash: \"invalid\""
        );
        assert!(parse_digest(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(parse_digest("md5:abc").is_err());
    }
}
