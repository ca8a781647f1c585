//! Credentials of a GitRepository, read from its `secretRef` the way upstream reads them
//! (fluxcd/pkg `git.NewAuthOptions`): basic auth, a bearer token, TLS material for HTTPS,
//! an SSH identity with `known_hosts`.

use std::collections::BTreeMap;

use base64::Engine as _;

/// What a Secret gave for one Git URL.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `username` / `password` (HTTP basic auth).
    pub basic: Option<(String, String)>,
    /// `bearerToken` (HTTP `Authorization: Bearer`).
    pub bearer: Option<String>,
    /// PEM CA bundle trusted for HTTPS (`ca.crt`, else the legacy `caFile`).
    pub ca_pem: Option<Vec<u8>>,
    /// PEM client certificate and key for mutual TLS (`tls.crt` + `tls.key`, else the
    /// legacy `certFile` + `keyFile`).
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    /// The SSH identity and the host keys it may talk to.
    pub ssh: Option<SshCredentials>,
}

/// An SSH identity, its optional passphrase and the accepted host keys.
#[derive(Clone, PartialEq, Eq)]
pub struct SshCredentials {
    /// The private key (`identity`), OpenSSH or PEM format; empty when the Secret has
    /// only `known_hosts`.
    pub identity: Vec<u8>,
    /// The key's passphrase (`password`).
    pub passphrase: Option<String>,
    /// `known_hosts` lines; host keys are checked strictly against them.
    pub known_hosts: String,
}

impl std::fmt::Debug for Credentials {
    // Never print secrets: only which parts are present.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("basic", &self.basic.as_ref().map(|(user, _)| user))
            .field("bearer", &self.bearer.is_some())
            .field("ca", &self.ca_pem.is_some())
            .field("client_cert", &self.client_cert.is_some())
            .field("ssh", &self.ssh.is_some())
            .finish()
    }
}

impl std::fmt::Debug for SshCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshCredentials")
            .field("passphrase", &self.passphrase.is_some())
            .finish_non_exhaustive()
    }
}

/// The URL scheme a GitRepository may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`
    Http,
    /// `https://`
    Https,
    /// `ssh://`
    Ssh,
}

/// The scheme of `url`, or a message saying why it is not a Git URL Sluice accepts
/// (upstream accepts `http`, `https` and `ssh` URLs only; scp-like `user@host:path` is
/// refused by the CRD).
///
/// # Errors
/// A message for an unsupported scheme, an empty host, or characters that could be read
/// as a command line option or a control sequence.
pub fn parse_scheme(url: &str) -> Result<Scheme, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("URL '{url}' has no scheme: use http://, https:// or ssh://"))?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        "ssh" => Scheme::Ssh,
        other => return Err(format!("scheme '{other}' is not supported")),
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("URL '{url}' has no host"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "URL '{url}' contains whitespace or control characters"
        ));
    }
    Ok(scheme)
}

/// `url` with the `git` user added to an `ssh://` URL that names none (upstream's
/// default SSH user).
pub fn with_default_ssh_user(url: &str) -> String {
    match url.strip_prefix("ssh://") {
        Some(rest) => {
            let authority = rest.split('/').next().unwrap_or_default();
            if authority.contains('@') {
                url.to_owned()
            } else {
                format!("ssh://git@{rest}")
            }
        }
        None => url.to_owned(),
    }
}

fn text(data: &BTreeMap<String, Vec<u8>>, key: &str) -> Option<String> {
    data.get(key)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|v| !v.is_empty())
}

fn bytes(data: &BTreeMap<String, Vec<u8>>, key: &str) -> Option<Vec<u8>> {
    data.get(key).filter(|v| !v.is_empty()).cloned()
}

impl Credentials {
    /// Reads the credentials for a `scheme` URL from a Secret's `data`.
    ///
    /// # Errors
    /// A message (for an `AuthenticationFailed` condition) for inconsistent keys: a
    /// password without a username, basic auth together with a bearer token, a TLS
    /// certificate without its key (or the reverse), an SSH secret without
    /// `known_hosts`, or an encrypted SSH key without its `password`.
    pub fn from_secret(data: &BTreeMap<String, Vec<u8>>, scheme: Scheme) -> Result<Self, String> {
        let mut credentials = Self::default();
        match scheme {
            Scheme::Http | Scheme::Https => {
                let username = text(data, "username");
                let password = text(data, "password");
                let bearer = text(data, "bearerToken");
                match (username, password) {
                    (Some(user), password) => {
                        credentials.basic = Some((user, password.unwrap_or_default()));
                    }
                    (None, Some(_)) => {
                        return Err("invalid 'password': requires 'username' to be set".into());
                    }
                    (None, None) => {}
                }
                if bearer.is_some() && credentials.basic.is_some() {
                    return Err(
                        "invalid 'bearerToken': cannot be used together with basic authentication ('username'/'password')"
                            .into(),
                    );
                }
                credentials.bearer = bearer;
                credentials.ca_pem = bytes(data, "ca.crt").or_else(|| bytes(data, "caFile"));
                let cert = bytes(data, "tls.crt").or_else(|| bytes(data, "certFile"));
                let key = bytes(data, "tls.key").or_else(|| bytes(data, "keyFile"));
                credentials.client_cert = match (cert, key) {
                    (Some(cert), Some(key)) => Some((cert, key)),
                    (None, None) => None,
                    _ => {
                        return Err(
                            "invalid TLS client certificate: 'tls.crt' and 'tls.key' must be set together"
                                .into(),
                        );
                    }
                };
            }
            Scheme::Ssh => {
                // Without an identity the host keys still decide which servers are
                // trusted (an empty identity is not offered).
                let identity = bytes(data, "identity").unwrap_or_default();
                let known_hosts = text(data, "known_hosts").ok_or_else(|| {
                    "invalid 'known_hosts': the secret has no 'known_hosts' key".to_owned()
                })?;
                let passphrase = text(data, "password");
                if passphrase.is_none() && !identity.is_empty() && key_is_encrypted(&identity) {
                    return Err(
                        "failed to parse SSH identity: the private key is protected by a passphrase and the secret has no 'password'"
                            .into(),
                    );
                }
                credentials.ssh = Some(SshCredentials {
                    identity,
                    passphrase,
                    known_hosts,
                });
            }
        }
        Ok(credentials)
    }

    /// Fills basic auth from the URL's `user:password@` when the Secret gave none
    /// (upstream uses URL credentials only as a fallback).
    pub fn with_url_userinfo(mut self, url: &str) -> Self {
        if self.basic.is_some() || self.bearer.is_some() {
            return self;
        }
        let Some((_, rest)) = url.split_once("://") else {
            return self;
        };
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((user, password)) = userinfo.split_once(':')
        {
            self.basic = Some((percent_decode(user), percent_decode(password)));
        }
        self
    }

    /// The HTTP `Authorization` header value, if any.
    pub fn authorization(&self) -> Option<String> {
        if let Some(token) = &self.bearer {
            return Some(format!("Bearer {token}"));
        }
        self.basic.as_ref().map(|(user, password)| {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            format!("Basic {encoded}")
        })
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a private key needs a passphrase: a PEM key with `ENCRYPTED` in its headers,
/// or an OpenSSH key whose cipher is not `none`.
pub fn key_is_encrypted(identity: &[u8]) -> bool {
    let text = String::from_utf8_lossy(identity);
    if text.contains("ENCRYPTED") {
        return true;
    }
    let Some(body) = text
        .split("-----BEGIN OPENSSH PRIVATE KEY-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END OPENSSH PRIVATE KEY-----").next())
    else {
        return false;
    };
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(body) else {
        return false;
    };
    // "openssh-key-v1\0", then the cipher name as a length-prefixed string.
    let magic = b"openssh-key-v1\0";
    let Some(rest) = decoded.strip_prefix(magic.as_slice()) else {
        return false;
    };
    let Some(len) = rest
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
    else {
        return false;
    };
    let cipher = usize::try_from(len)
        .ok()
        .and_then(|len| rest.get(4..4 + len));
    cipher.is_some_and(|c| c != b"none")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn only_http_https_and_ssh_urls_are_accepted() {
        assert_eq!(parse_scheme("https://h/x.git"), Ok(Scheme::Https));
        assert_eq!(parse_scheme("http://h:80/x"), Ok(Scheme::Http));
        assert_eq!(parse_scheme("ssh://git@h:22/x"), Ok(Scheme::Ssh));
        for bad in [
            "git@github.com:org/repo",
            "ext::sh -c touch% /tmp/pwned",
            "file:///etc",
            "git://h/x",
            "https:///x",
            "https://h/x y",
        ] {
            assert!(parse_scheme(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_urls_default_to_the_git_user() {
        assert_eq!(with_default_ssh_user("ssh://h:22/r"), "ssh://git@h:22/r");
        assert_eq!(with_default_ssh_user("ssh://me@h/r"), "ssh://me@h/r");
        assert_eq!(with_default_ssh_user("https://h/r"), "https://h/r");
    }

    #[test]
    fn basic_auth_needs_a_username() {
        let c = Credentials::from_secret(
            &secret(&[("username", "u"), ("password", "p")]),
            Scheme::Https,
        )
        .unwrap();
        assert_eq!(c.basic, Some(("u".into(), "p".into())));
        assert_eq!(c.authorization().unwrap(), "Basic dTpw");
        assert!(Credentials::from_secret(&secret(&[("password", "p")]), Scheme::Http).is_err());
    }

    #[test]
    fn a_bearer_token_cannot_be_combined_with_basic_auth() {
        let c = Credentials::from_secret(&secret(&[("bearerToken", "t")]), Scheme::Https).unwrap();
        assert_eq!(c.authorization().unwrap(), "Bearer t");
        let err = Credentials::from_secret(
            &secret(&[("bearerToken", "t"), ("username", "u")]),
            Scheme::Https,
        )
        .unwrap_err();
        assert!(err.contains("bearerToken"), "{err}");
    }

    #[test]
    fn ca_crt_wins_over_the_legacy_ca_file() {
        let c =
            Credentials::from_secret(&secret(&[("ca.crt", "A"), ("caFile", "B")]), Scheme::Https)
                .unwrap();
        assert_eq!(c.ca_pem.as_deref(), Some(b"A".as_slice()));
        let c = Credentials::from_secret(&secret(&[("caFile", "B")]), Scheme::Https).unwrap();
        assert_eq!(c.ca_pem.as_deref(), Some(b"B".as_slice()));
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        assert!(Credentials::from_secret(&secret(&[("tls.crt", "C")]), Scheme::Https).is_err());
        let c = Credentials::from_secret(
            &secret(&[("tls.crt", "C"), ("tls.key", "K")]),
            Scheme::Https,
        )
        .unwrap();
        assert!(c.client_cert.is_some());
    }

    #[test]
    fn ssh_secrets_need_known_hosts() {
        let err =
            Credentials::from_secret(&secret(&[("identity", "KEY")]), Scheme::Ssh).unwrap_err();
        assert!(err.contains("known_hosts"), "{err}");
        let c = Credentials::from_secret(
            &secret(&[("identity", "KEY"), ("known_hosts", "h ssh-ed25519 AAAA")]),
            Scheme::Ssh,
        )
        .unwrap();
        assert!(c.ssh.is_some());
        let hosts_only = Credentials::from_secret(
            &secret(&[("known_hosts", "h ssh-ed25519 AAAA")]),
            Scheme::Ssh,
        )
        .unwrap();
        assert_eq!(hosts_only.ssh.unwrap().known_hosts, "h ssh-ed25519 AAAA");
    }

    #[test]
    fn url_credentials_are_a_fallback() {
        let c = Credentials::default().with_url_userinfo("https://u%40x:p%3A@h/r");
        assert_eq!(c.basic, Some(("u@x".into(), "p:".into())));
        let c = Credentials {
            bearer: Some("t".into()),
            ..Credentials::default()
        }
        .with_url_userinfo("https://u:p@h/r");
        assert!(c.basic.is_none());
    }

    #[test]
    fn pem_keys_marked_encrypted_need_a_passphrase() {
        assert!(key_is_encrypted(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        ));
        assert!(!key_is_encrypted(
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"
        ));
    }
}
