//! Registry credentials: Docker config Secrets (`kubernetes.io/dockerconfigjson`, and
//! the older `.dockercfg`), the lookup of the credential for a registry, and the
//! `WWW-Authenticate` challenges of the distribution auth protocol.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

/// A login for one registry.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credential {
    /// User name (for Basic auth and for token requests).
    pub username: String,
    /// Password or access token.
    pub password: String,
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint.
    pub identity_token: Option<String>,
    /// A bearer token to send as is (`registrytoken`).
    pub registry_token: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Whether there is a user name and password to send.
    pub fn has_basic(&self) -> bool {
        !self.username.is_empty() || !self.password.is_empty()
    }

    /// The `Authorization: Basic` value.
    pub fn basic_header(&self) -> String {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password));
        format!("Basic {token}")
    }
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
}

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

/// The registry logins of one or more pull secrets, searched in order (the
/// OCIRepository's `secretRef` first, then the ServiceAccount's image pull secrets).
#[derive(Debug, Clone, Default)]
pub struct Keychain {
    entries: Vec<(String, Credential)>,
}

impl Keychain {
    /// Adds the logins of a Secret's data: `.dockerconfigjson` (`{"auths": {...}}`) or
    /// the legacy `.dockercfg` (the `auths` map alone). `secret` (`<namespace>/<name>`)
    /// names the Secret in messages.
    ///
    /// # Errors
    /// A message when the Secret has neither key, or its JSON or an `auth` field does
    /// not parse.
    pub fn add_secret(
        &mut self,
        secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
    ) -> Result<(), String> {
        let auths = if let Some(json) = data.get(".dockerconfigjson") {
            serde_json::from_slice::<ConfigFile>(json)
                .map_err(|e| format!("invalid '.dockerconfigjson' in secret '{secret}': {e}"))?
                .auths
        } else if let Some(json) = data.get(".dockercfg") {
            serde_json::from_slice::<BTreeMap<String, Entry>>(json)
                .map_err(|e| format!("invalid '.dockercfg' in secret '{secret}': {e}"))?
        } else {
            return Err(format!(
                "secret '{secret}' has no '.dockerconfigjson' (type kubernetes.io/dockerconfigjson) \
                 or '.dockercfg' key"
            ));
        };
        for (key, entry) in auths {
            let mut credential = Credential {
                username: entry.username.unwrap_or_default(),
                password: entry.password.unwrap_or_default(),
                identity_token: entry.identitytoken.filter(|t| !t.is_empty()),
                registry_token: entry.registrytoken.filter(|t| !t.is_empty()),
            };
            if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .and_then(|text| {
                        text.split_once(':')
                            .map(|(u, p)| (u.to_owned(), p.to_owned()))
                    })
                    .ok_or_else(|| {
                        format!("invalid 'auth' for '{key}' in secret '{secret}': not base64 of <user>:<password>")
                    })?;
                if credential.username.is_empty() && credential.password.is_empty() {
                    (credential.username, credential.password) = decoded;
                }
            }
            self.entries.push((key, credential));
        }
        Ok(())
    }

    /// Whether no login was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The login for `registry` (host\[:port\]) and repository `path`: the first entry,
    /// in secret order, whose key matches. Keys may carry a scheme, a path (which must be
    /// a prefix of the repository) and `*` labels (`*.azurecr.io`); Docker Hub answers to
    /// `docker.io`, `index.docker.io`, `registry-1.docker.io` and
    /// `https://index.docker.io/v1/`.
    pub fn resolve(&self, registry: &str, path: &str) -> Option<&Credential> {
        // The most specific key (longest host and path) wins, as in the kubelet's keyring;
        // among equally specific keys, the first one added.
        let mut best: Option<(&Credential, usize)> = None;
        for (key, credential) in &self.entries {
            if let Some(specificity) = key_matches(key, registry, path)
                && best.is_none_or(|(_, s)| specificity > s)
            {
                best = Some((credential, specificity));
            }
        }
        best.map(|(credential, _)| credential)
    }
}

fn normalize_host(host: &str) -> &str {
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "docker.io",
        other => other,
    }
}

/// `Some(specificity)` when `key` applies to `registry`/`path`.
fn key_matches(key: &str, registry: &str, path: &str) -> Option<usize> {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let (key_host, key_path) = key.split_once('/').unwrap_or((key, ""));
    let key_path = key_path.trim_end_matches('/');
    let key_host = normalize_host(key_host);
    let registry = normalize_host(registry);
    // Docker Hub's legacy key `index.docker.io/v1/` has a path that is not a namespace.
    let key_path = if key_host == "docker.io" && key_path == "v1" {
        ""
    } else {
        key_path
    };
    let (key_name, key_port) = split_port(key_host);
    let (name, port) = split_port(registry);
    if key_port.is_some() && key_port != port {
        return None;
    }
    if key_port.is_none() && port.is_some() {
        return None;
    }
    if !host_glob_matches(key_name, name) {
        return None;
    }
    let path_matches =
        key_path.is_empty() || path == key_path || path.starts_with(&format!("{key_path}/"));
    if !path_matches {
        return None;
    }
    Some(key_host.len() + key_path.len())
}

fn split_port(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        return match host.split_once("]:") {
            Some((h, port)) => (&host[..h.len() + 1], Some(port)),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((h, port)) => (h, Some(port)),
        None => (host, None),
    }
}

fn host_glob_matches(pattern: &str, host: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let host: Vec<&str> = host.split('.').collect();
    pattern.len() == host.len()
        && pattern
            .iter()
            .zip(&host)
            .all(|(p, h)| *p == "*" || p.eq_ignore_ascii_case(h))
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `basic` or `bearer` (lower case).
    pub scheme: String,
    /// The parameters (`realm`, `service`, `scope`, ...), names in lower case.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parses a header value such as
    /// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
    /// Returns `None` for an empty value.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.is_empty() {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
                chars.next();
            }
            let mut name = String::new();
            while let Some(c) = chars.peek().copied() {
                if c == '=' || c == ',' {
                    break;
                }
                name.push(c);
                chars.next();
            }
            if name.is_empty() {
                break;
            }
            let mut val = String::new();
            if chars.peek() == Some(&'=') {
                chars.next();
                if chars.peek() == Some(&'"') {
                    chars.next();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some(escaped) = chars.next() {
                                    val.push(escaped);
                                }
                            }
                            '"' => break,
                            c => val.push(c),
                        }
                    }
                } else {
                    while let Some(c) = chars.peek().copied() {
                        if c == ',' {
                            break;
                        }
                        val.push(c);
                        chars.next();
                    }
                }
            }
            params.insert(name.trim().to_ascii_lowercase(), val.trim().to_owned());
        }
        Some(Self {
            scheme: scheme.to_ascii_lowercase(),
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(json: &str) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([(".dockerconfigjson".to_owned(), json.as_bytes().to_vec())])
    }

    #[test]
    fn logins_are_found_by_host_port_and_path() {
        let mut keychain = Keychain::default();
        keychain
            .add_secret(
                "ns/a",
                &secret(
                    r#"{"auths":{
                    "127.0.0.1:5000":{"username":"u","password":"p"},
                    "https://ghcr.io/org":{"auth":"b3JnOnNlY3JldA=="},
                    "*.azurecr.io":{"username":"az","password":"x"},
                    "https://index.docker.io/v1/":{"username":"hub","password":"h"}}}"#,
                ),
            )
            .unwrap();
        let user = |registry: &str, path: &str| {
            keychain.resolve(registry, path).map(|c| c.username.clone())
        };
        assert_eq!(user("127.0.0.1:5000", "podinfo").as_deref(), Some("u"));
        assert_eq!(user("127.0.0.1:5001", "podinfo"), None);
        assert_eq!(user("127.0.0.1", "podinfo"), None);
        assert_eq!(user("ghcr.io", "org/app").as_deref(), Some("org"));
        assert_eq!(
            keychain.resolve("ghcr.io", "org/app").unwrap().password,
            "secret"
        );
        assert_eq!(user("ghcr.io", "other/app"), None);
        assert_eq!(user("ghcr.io", "organisation/app"), None);
        assert_eq!(user("my.azurecr.io", "a").as_deref(), Some("az"));
        assert_eq!(user("a.b.azurecr.io", "a"), None);
        assert_eq!(
            user("index.docker.io", "library/nginx").as_deref(),
            Some("hub")
        );
    }

    #[test]
    fn the_first_secret_with_a_login_wins() {
        let mut keychain = Keychain::default();
        keychain
            .add_secret(
                "ns/a",
                &secret(r#"{"auths":{"r.io":{"username":"first","password":"1"}}}"#),
            )
            .unwrap();
        keychain
            .add_secret(
                "ns/b",
                &secret(r#"{"auths":{"r.io":{"username":"second","password":"2"}}}"#),
            )
            .unwrap();
        assert_eq!(keychain.resolve("r.io", "x").unwrap().username, "first");
    }

    #[test]
    fn legacy_dockercfg_and_tokens_are_read() {
        let mut keychain = Keychain::default();
        let data = BTreeMap::from([(
            ".dockercfg".to_owned(),
            br#"{"r.io":{"identitytoken":"refresh"}}"#.to_vec(),
        )]);
        keychain.add_secret("ns/a", &data).unwrap();
        let credential = keychain.resolve("r.io", "x").unwrap();
        assert_eq!(credential.identity_token.as_deref(), Some("refresh"));
        assert!(!credential.has_basic());
    }

    #[test]
    fn unusable_secrets_are_errors() {
        let mut keychain = Keychain::default();
        let err = keychain
            .add_secret(
                "ns/a",
                &BTreeMap::from([("username".to_owned(), b"u".to_vec())]),
            )
            .unwrap_err();
        assert!(err.contains("has no '.dockerconfigjson'"), "{err}");
        assert!(keychain.add_secret("ns/a", &secret("{")).is_err());
        assert!(
            keychain
                .add_secret("ns/a", &secret(r#"{"auths":{"r.io":{"auth":"!!"}}}"#))
                .is_err()
        );
    }

    #[test]
    fn challenges_parse_with_quoted_commas() {
        let challenge = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        )
        .unwrap();
        assert_eq!(challenge.scheme, "bearer");
        assert_eq!(challenge.params["realm"], "https://auth.docker.io/token");
        assert_eq!(challenge.params["service"], "registry.docker.io");
        assert_eq!(
            challenge.params["scope"],
            "repository:samalba/my-app:pull,push"
        );
        let basic = Challenge::parse(r#"Basic realm="test-realm""#).unwrap();
        assert_eq!(basic.scheme, "basic");
        assert_eq!(basic.params["realm"], "test-realm");
        assert_eq!(Challenge::parse("  "), None);
    }
}
