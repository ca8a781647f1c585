//! Git: resolving a GitRepository's reference against the remote and checking out the
//! commit it names.
//!
//! The transport is the `git` program (with `ssh` for `ssh://` URLs), run with a
//! sealed environment: no system or global configuration, no terminal prompts, no
//! hooks, only the `http`, `https` and `ssh` protocols allowed (so a URL such as
//! `ext::sh -c ...` can never run a command), and the credentials passed through the
//! environment and files in a private temporary directory, never on the command line.
//! Every command of a fetch shares one deadline (`spec.timeout`) and is killed when it
//! passes.
//!
//! - [`Reference`]: `spec.ref` with upstream's precedence (commit > name > semver >
//!   tag > branch; branch `master` when nothing is set);
//! - [`Session::resolve`]: the commit the reference names on the remote (an
//!   `ls-remote`), for the "no changes since last reconciliation" check;
//! - [`Session::checkout`]: a shallow, single-ref fetch and a detached checkout;
//! - [`Commit::revision`]: the revision string as upstream writes it
//!   (`main@sha1:<hex>`, `v1.2.3@sha1:<hex>`, `refs/pull/420/head@sha1:<hex>`,
//!   `sha1:<hex>`).

pub mod auth;

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use sluice_api::source::v1::GitRepositoryRef;
use sluice_runtime::semver::{Constraints, latest_matching};
use tokio::process::Command;
use tokio::time::Instant;

pub use auth::{Credentials, Scheme, SshCredentials};

/// The branch used when `spec.ref` sets nothing (the CRD's default).
pub const DEFAULT_BRANCH: &str = "master";

/// What a GitRepository asks to check out, in upstream's precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A commit, optionally on a branch (then only that branch is fetched and the commit
    /// must be in it).
    Commit {
        /// The full commit id.
        commit: String,
        /// The branch holding it.
        branch: Option<String>,
    },
    /// A full reference name (`refs/heads/x`, `refs/tags/v1`, `refs/pull/420/head`).
    Name(String),
    /// The highest tag matching a semver range (Masterminds rules).
    Semver(String),
    /// A tag.
    Tag(String),
    /// A branch.
    Branch(String),
}

impl Reference {
    /// The reference `spec.ref` describes.
    pub fn from_spec(reference: Option<&GitRepositoryRef>) -> Self {
        let non_empty =
            |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let Some(r) = reference else {
            return Self::Branch(DEFAULT_BRANCH.to_owned());
        };
        if let Some(commit) = non_empty(&r.commit) {
            return Self::Commit {
                commit,
                branch: non_empty(&r.branch),
            };
        }
        if let Some(name) = non_empty(&r.name) {
            return Self::Name(name);
        }
        if let Some(range) = non_empty(&r.semver) {
            return Self::Semver(range);
        }
        if let Some(tag) = non_empty(&r.tag) {
            return Self::Tag(tag);
        }
        Self::Branch(non_empty(&r.branch).unwrap_or_else(|| DEFAULT_BRANCH.to_owned()))
    }
}

/// A resolved reference: the name that goes before `@` in the revision, the remote ref
/// to fetch and the commit it points at (when known before fetching).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Revision label (`main`, `v1.2.3`, `refs/pull/420/head`), `None` for a bare commit.
    pub label: Option<String>,
    /// What to fetch: a full ref name, or `None` for every branch (a bare commit).
    pub fetch: Option<String>,
    /// The commit (annotated tags dereferenced).
    pub commit: String,
    /// Whether a depth-1 fetch of [`Resolved::fetch`] is enough (refs); a commit needs
    /// the history of its branch.
    pub shallow: bool,
}

impl Resolved {
    /// The revision string of this resolution.
    pub fn revision(&self) -> String {
        revision(self.label.as_deref(), &self.commit)
    }
}

/// The revision string upstream writes: `<label>@sha1:<hex>` or `sha1:<hex>`.
pub fn revision(label: Option<&str>, commit: &str) -> String {
    let algo = if commit.len() == 40 {
        "sha1"
    } else {
        "<unknown>"
    };
    match label {
        Some(label) => format!("{label}@{algo}:{commit}"),
        None => format!("{algo}:{commit}"),
    }
}

/// The commit hash of a revision string (`main@sha1:<hex>`, `sha1:<hex>`, and the
/// legacy `main/<hex>`).
pub fn revision_commit(revision: &str) -> Option<&str> {
    let tail = revision.rsplit_once('@').map_or(revision, |(_, t)| t);
    if let Some((_, hex)) = tail.split_once(':') {
        return Some(hex);
    }
    revision
        .rsplit_once('/')
        .map(|(_, hex)| hex)
        .filter(|hex| hex.len() == 40 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A checked-out commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Revision label (see [`Resolved::label`]).
    pub label: Option<String>,
    /// The commit id.
    pub hash: String,
    /// The first line of its message.
    pub subject: String,
}

impl Commit {
    /// The revision string.
    pub fn revision(&self) -> String {
        revision(self.label.as_deref(), &self.hash)
    }

    /// The subject as upstream puts it in the `NewArtifact` event: at most 50
    /// characters, then `…`.
    pub fn short_message(&self) -> String {
        let mut chars = self.subject.chars();
        let short: String = chars.by_ref().take(50).collect();
        if chars.next().is_some() {
            format!("{short}…")
        } else {
            short
        }
    }
}

/// A failed Git operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    /// The remote has no refs at all.
    #[error("git repository is empty")]
    Empty,
    /// The reference does not exist, or no tag matches the range.
    #[error("{0}")]
    NotFound(String),
    /// The remote refused the credentials, or the host key is not trusted.
    #[error("{0}")]
    Auth(String),
    /// Anything else: the remote is unreachable, a command failed.
    #[error("{0}")]
    Failed(String),
    /// The operation ran past `spec.timeout`.
    #[error("operation timed out after {0:?}")]
    Timeout(Duration),
}

/// Trusted keys for signature verification, from the Secret of `spec.verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    /// Armored PGP public keys (`*.asc`, and legacy keys with other names).
    pub pgp: Vec<Vec<u8>>,
    /// SSH public keys (`*.sshpub`, authorized_keys lines).
    pub ssh: Vec<String>,
}

impl TrustedKeys {
    /// Reads the keys of a verification Secret's `data`.
    pub fn from_secret(data: &std::collections::BTreeMap<String, Vec<u8>>) -> Self {
        let mut keys = Self::default();
        for (name, value) in data {
            if name.ends_with(".sshpub") {
                keys.ssh.extend(
                    String::from_utf8_lossy(value)
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_owned),
                );
            } else {
                keys.pgp.push(value.clone());
            }
        }
        keys
    }
}

/// What a verification checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// The checked-out commit.
    Commit,
    /// The fetched annotated tag.
    Tag,
}

/// Settings of the `git`/`ssh` programs, from the controller's flags.
#[derive(Debug, Clone, Default)]
pub struct GitOptions {
    /// `--ssh-kex-algos`.
    pub kex_algorithms: Vec<String>,
    /// `--ssh-hostkey-algos`.
    pub host_key_algorithms: Vec<String>,
}

/// One fetch of one URL with one set of credentials: a private directory with the
/// credential files and the environment of every `git` command.
#[derive(Debug)]
pub struct Session {
    url: String,
    env: Vec<(String, String)>,
    deadline: Instant,
    timeout: Duration,
    // Holds the credential files; removed on drop.
    home: tempfile::TempDir,
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    if !contents.ends_with(b"\n") {
        file.write_all(b"\n")?;
    }
    Ok(())
}

/// Quotes `text` for the POSIX shell git runs `GIT_SSH_COMMAND` with.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `scheme://host[:port]/` of an HTTP(S) URL, without user information: the scope of
/// the credentials (so a submodule on another host never receives them).
fn http_scope(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit('@').next()?;
    Some(format!("{scheme}://{host}/"))
}

impl Session {
    /// Prepares a session for `url` (already checked with [`auth::parse_scheme`]).
    ///
    /// # Errors
    /// The private directory or a credential file cannot be written.
    pub fn new(
        url: &str,
        scheme: Scheme,
        credentials: &Credentials,
        options: &GitOptions,
        timeout: Duration,
    ) -> io::Result<Self> {
        let home = tempfile::Builder::new().prefix("sluice-git-").tempdir()?;
        fs::set_permissions(home.path(), fs::Permissions::from_mode(0o700))?;
        let mut config: Vec<(String, String)> = vec![
            ("protocol.allow".into(), "never".into()),
            ("protocol.http.allow".into(), "always".into()),
            ("protocol.https.allow".into(), "always".into()),
            ("protocol.ssh.allow".into(), "always".into()),
            ("core.hooksPath".into(), "/dev/null".into()),
            ("init.templateDir".into(), String::new()),
            ("init.defaultBranch".into(), "sluice".into()),
            ("advice.detachedHead".into(), "false".into()),
            ("credential.helper".into(), String::new()),
            ("core.askPass".into(), String::new()),
            ("fetch.recurseSubmodules".into(), "false".into()),
            ("gc.auto".into(), "0".into()),
        ];
        let url = match scheme {
            Scheme::Ssh => auth::with_default_ssh_user(url),
            Scheme::Http | Scheme::Https => url.to_owned(),
        };
        let mut env: Vec<(String, String)> = vec![
            ("HOME".into(), home.path().display().to_string()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GIT_ASKPASS".into(), "/bin/false".into()),
            ("SSH_ASKPASS".into(), "/bin/false".into()),
            ("LC_ALL".into(), "C".into()),
        ];
        for key in [
            "PATH",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            if let Ok(value) = std::env::var(key) {
                env.push((key.into(), value));
            }
        }
        if let Some(scope) = http_scope(&url).filter(|_| scheme != Scheme::Ssh)
            && let Some(header) = credentials.authorization()
        {
            config.push((
                format!("http.{scope}.extraHeader"),
                format!("Authorization: {header}"),
            ));
        }
        if let Some(ca) = &credentials.ca_pem {
            let path = home.path().join("ca.crt");
            write_private(&path, ca)?;
            config.push(("http.sslCAInfo".into(), path.display().to_string()));
        }
        if let Some((cert, key)) = &credentials.client_cert {
            let cert_path = home.path().join("tls.crt");
            let key_path = home.path().join("tls.key");
            write_private(&cert_path, cert)?;
            write_private(&key_path, key)?;
            config.push(("http.sslCert".into(), cert_path.display().to_string()));
            config.push(("http.sslKey".into(), key_path.display().to_string()));
        }
        if scheme == Scheme::Ssh {
            let command = ssh_command(home.path(), credentials, options, &mut env)?;
            env.push(("GIT_SSH_COMMAND".into(), command));
            env.push(("GIT_SSH_VARIANT".into(), "ssh".into()));
        }
        env.push(("GIT_CONFIG_COUNT".into(), config.len().to_string()));
        for (i, (key, value)) in config.into_iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{i}"), key));
            env.push((format!("GIT_CONFIG_VALUE_{i}"), value));
        }
        Ok(Self {
            url,
            env,
            deadline: Instant::now() + timeout,
            timeout,
            home,
        })
    }

    /// The URL the session talks to (with the default SSH user added).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `git args` (in `dir` when given) until the session's deadline; returns its
    /// standard output.
    async fn git(&self, dir: Option<&Path>, args: &[&str]) -> Result<String, GitError> {
        let mut command = Command::new("git");
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir.unwrap_or_else(|| self.home.path()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command
            .spawn()
            .map_err(|e| GitError::Failed(format!("cannot run git: {e}")))?;
        let output = tokio::time::timeout_at(self.deadline, child.wait_with_output())
            .await
            .map_err(|_| GitError::Timeout(self.timeout))?
            .map_err(|e| GitError::Failed(format!("git failed: {e}")))?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        Err(classify(&String::from_utf8_lossy(&output.stderr)))
    }

    /// Every ref of the remote with the commit it points at (annotated tags
    /// dereferenced).
    ///
    /// # Errors
    /// [`GitError::Auth`], [`GitError::Failed`] or [`GitError::Timeout`].
    pub async fn remote_refs(&self) -> Result<Vec<(String, String)>, GitError> {
        let out = self.git(None, &["ls-remote", "--", &self.url]).await?;
        let mut refs: Vec<(String, String)> = Vec::new();
        for line in out.lines() {
            let Some((oid, name)) = line.split_once('\t') else {
                continue;
            };
            if let Some(base) = name.strip_suffix("^{}") {
                // The peeled commit of an annotated tag replaces the tag object.
                if let Some(entry) = refs.iter_mut().find(|(n, _)| n == base) {
                    entry.1 = oid.to_owned();
                }
                continue;
            }
            refs.push((name.to_owned(), oid.to_owned()));
        }
        Ok(refs)
    }

    /// What `reference` names on the remote.
    ///
    /// # Errors
    /// [`GitError::Empty`] for a remote without refs, [`GitError::NotFound`] for a
    /// missing ref or a semver range nothing matches, else the errors of
    /// [`Session::remote_refs`].
    pub async fn resolve(&self, reference: &Reference) -> Result<Resolved, GitError> {
        let refs = self.remote_refs().await?;
        if refs.is_empty() {
            return Err(GitError::Empty);
        }
        let find = |name: &str| {
            refs.iter()
                .find(|(n, _)| n == name)
                .map(|(_, oid)| oid.clone())
                .ok_or_else(|| GitError::NotFound(format!("couldn't find remote ref \"{name}\"")))
        };
        match reference {
            Reference::Branch(branch) => {
                let name = format!("refs/heads/{branch}");
                Ok(Resolved {
                    label: Some(branch.clone()),
                    commit: find(&name)?,
                    fetch: Some(name),
                    shallow: true,
                })
            }
            Reference::Tag(tag) => {
                let name = format!("refs/tags/{tag}");
                Ok(Resolved {
                    label: Some(tag.clone()),
                    commit: find(&name)?,
                    fetch: Some(name),
                    shallow: true,
                })
            }
            Reference::Name(name) => Ok(Resolved {
                label: Some(name.clone()),
                commit: find(name)?,
                fetch: Some(name.clone()),
                shallow: true,
            }),
            Reference::Semver(range) => {
                let constraints = Constraints::parse(range)
                    .map_err(|e| GitError::NotFound(format!("semver parse error: {e}")))?;
                let tags = refs
                    .iter()
                    .filter_map(|(name, oid)| Some((name.strip_prefix("refs/tags/")?, oid)));
                let (winner, _) = latest_matching(&constraints, tags, |(tag, _)| tag, |_| ())
                    .ok_or_else(|| {
                        GitError::NotFound(format!("no match found for semver: {range}"))
                    })?;
                Ok(Resolved {
                    label: Some(winner.0.to_owned()),
                    commit: winner.1.clone(),
                    fetch: Some(format!("refs/tags/{}", winner.0)),
                    shallow: true,
                })
            }
            Reference::Commit { commit, branch } => {
                let fetch = match branch {
                    Some(branch) => {
                        let name = format!("refs/heads/{branch}");
                        find(&name)?;
                        Some(name)
                    }
                    None => None,
                };
                Ok(Resolved {
                    label: branch.clone(),
                    commit: commit.clone(),
                    fetch,
                    shallow: false,
                })
            }
        }
    }

    /// Fetches what `resolved` names into a new repository at `dir` and checks it out
    /// (detached): shallow for refs, the whole branch (or every branch) for a commit.
    /// With `sparse`, only those directories are checked out, and each must exist.
    ///
    /// # Errors
    /// [`GitError::NotFound`] for a commit that is not on the fetched branches or a
    /// sparse directory that does not exist, else the transport errors.
    pub async fn checkout(
        &self,
        resolved: &Resolved,
        dir: &Path,
        sparse: &[String],
        submodules: bool,
    ) -> Result<Commit, GitError> {
        let dir_text = dir.display().to_string();
        self.git(None, &["init", "-q", "--", &dir_text]).await?;
        self.git(Some(dir), &["remote", "add", "origin", "--", &self.url])
            .await?;
        if !sparse.is_empty() {
            let mut patterns = String::new();
            for path in sparse {
                let _ = writeln!(
                    patterns,
                    "/{}/",
                    path.trim_start_matches("./").trim_matches('/')
                );
            }
            let info = dir.join(".git").join("info");
            fs::create_dir_all(&info)
                .and_then(|()| fs::write(info.join("sparse-checkout"), patterns))
                .map_err(|e| {
                    GitError::Failed(format!("cannot configure the sparse checkout: {e}"))
                })?;
            self.git(Some(dir), &["config", "core.sparseCheckout", "true"])
                .await?;
        }
        match (&resolved.fetch, resolved.shallow) {
            (Some(name), true) => {
                let spec = format!("+{name}:refs/sluice/target");
                self.git(
                    Some(dir),
                    &["fetch", "-q", "--no-tags", "--depth=1", "origin", &spec],
                )
                .await?;
                self.git(
                    Some(dir),
                    &["checkout", "-q", "--detach", "refs/sluice/target"],
                )
                .await?;
            }
            _ => {
                let spec = match &resolved.fetch {
                    Some(name) => format!("+{name}:refs/sluice/target"),
                    None => "+refs/heads/*:refs/remotes/origin/*".to_owned(),
                };
                self.git(Some(dir), &["fetch", "-q", "--no-tags", "origin", &spec])
                    .await?;
                let object = format!("{}^{{commit}}", resolved.commit);
                if self
                    .git(Some(dir), &["cat-file", "-e", "--", &object])
                    .await
                    .is_err()
                {
                    return Err(GitError::NotFound(format!(
                        "unable to resolve commit object for '{}': object not found",
                        resolved.commit
                    )));
                }
                self.git(Some(dir), &["checkout", "-q", "--detach", &resolved.commit])
                    .await?;
            }
        }
        if submodules {
            self.git(
                Some(dir),
                &[
                    "submodule",
                    "update",
                    "-q",
                    "--init",
                    "--recursive",
                    "--depth=1",
                ],
            )
            .await?;
            // A submodule's `.git` is a file pointing into the superproject's `.git`:
            // meaningless outside this machine, so it never reaches an artifact.
            remove_gitlinks(dir, true)
                .map_err(|e| GitError::Failed(format!("cannot clean submodule checkouts: {e}")))?;
        }
        for path in sparse {
            let relative = path.trim_start_matches("./").trim_matches('/');
            let target = crate::storage::secure_join(dir, relative)
                .map_err(|e| GitError::Failed(e.to_string()))?;
            if !target.is_dir() {
                return Err(GitError::NotFound(format!(
                    "sparse checkout dir '{path}' does not exist in repository"
                )));
            }
        }
        let hash = self
            .git(Some(dir), &["rev-parse", "HEAD"])
            .await?
            .trim()
            .to_owned();
        let subject = self
            .git(Some(dir), &["log", "-1", "--format=%s", "HEAD"])
            .await?
            .trim()
            .to_owned();
        Ok(Commit {
            label: resolved.label.clone(),
            hash,
            subject,
        })
    }
}

impl Session {
    /// Verifies the signature of the checked-out commit or of the fetched tag in `dir`
    /// against `keys`; returns the signing key's id (PGP long key id, or the SSH key's
    /// `SHA256:` fingerprint).
    ///
    /// # Errors
    /// [`GitError::NotFound`] when the tag is not an annotated tag object;
    /// [`GitError::Failed`] with the reason the signature was refused (none, unknown
    /// key, bad signature).
    pub async fn verify(
        &self,
        dir: &Path,
        what: Signed,
        keys: &TrustedKeys,
    ) -> Result<String, GitError> {
        let gnupg = self.home.path().join("gnupg");
        if !gnupg.exists() {
            fs::create_dir(&gnupg)
                .and_then(|()| fs::set_permissions(&gnupg, fs::Permissions::from_mode(0o700)))
                .map_err(|e| GitError::Failed(format!("cannot prepare the keyring: {e}")))?;
            for (i, key) in keys.pgp.iter().enumerate() {
                let path = self.home.path().join(format!("key-{i}.asc"));
                write_private(&path, key)
                    .map_err(|e| GitError::Failed(format!("cannot write a key: {e}")))?;
                let imported = tokio::time::timeout_at(
                    self.deadline,
                    Command::new("gpg")
                        .env_clear()
                        .env("GNUPGHOME", &gnupg)
                        .env("PATH", std::env::var("PATH").unwrap_or_default())
                        .args(["--batch", "--quiet", "--no-autostart", "--import"])
                        .arg(&path)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped())
                        .kill_on_drop(true)
                        .output(),
                )
                .await
                .map_err(|_| GitError::Timeout(self.timeout))?
                .map_err(|e| GitError::Failed(format!("cannot run gpg: {e}")))?;
                if !imported.status.success() {
                    return Err(GitError::Failed(format!(
                        "unable to read armored key ring: {}",
                        String::from_utf8_lossy(&imported.stderr).trim()
                    )));
                }
            }
            let signers: String = keys.ssh.iter().map(|k| format!("* {k}\n")).collect();
            write_private(
                &self.home.path().join("allowed_signers"),
                signers.as_bytes(),
            )
            .map_err(|e| GitError::Failed(format!("cannot write the allowed signers: {e}")))?;
        }
        let target = match what {
            Signed::Commit => "HEAD",
            Signed::Tag => {
                let kind = self
                    .git(Some(dir), &["cat-file", "-t", "refs/sluice/target"])
                    .await?;
                if kind.trim() != "tag" {
                    return Err(GitError::NotFound(
                        "the tag is not an annotated tag object".into(),
                    ));
                }
                "refs/sluice/target"
            }
        };
        let signers = format!(
            "gpg.ssh.allowedSignersFile={}",
            self.home.path().join("allowed_signers").display()
        );
        let verb = match what {
            Signed::Commit => "verify-commit",
            Signed::Tag => "verify-tag",
        };
        let mut command = Command::new("git");
        command
            .args(["-c", &signers, verb, "--raw", target])
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GNUPGHOME", &gnupg)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let output = tokio::time::timeout_at(self.deadline, command.output())
            .await
            .map_err(|_| GitError::Timeout(self.timeout))?
            .map_err(|e| GitError::Failed(format!("cannot run git: {e}")))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success()
            && let Some(id) = signing_key(&text)
        {
            return Ok(id);
        }
        Err(GitError::Failed(refusal(&text)))
    }
}

/// The key id in the output of a successful `git verify-*` (`GOODSIG <id>` for PGP,
/// `with ... key SHA256:<fp>` for SSH).
fn signing_key(output: &str) -> Option<String> {
    for line in output.lines() {
        if let Some(rest) = line.trim().strip_prefix("[GNUPG:] GOODSIG ") {
            return rest.split_whitespace().next().map(str::to_owned);
        }
        if line.starts_with("Good \"git\" signature")
            && let Some(fp) = line.split_whitespace().find(|w| w.starts_with("SHA256:"))
        {
            return Some(fp.to_owned());
        }
    }
    None
}

/// Why `git verify-*` refused a signature, in a few words.
fn refusal(output: &str) -> String {
    if output.contains("[GNUPG:] NO_PUBKEY") || output.contains("No public key") {
        return "no public key matches the signature".into();
    }
    if output.contains("[GNUPG:] BADSIG") {
        return "the signature does not match the object".into();
    }
    if output.trim().is_empty() || output.contains("no signature found") {
        return "unable to verify payload as the provided signature is empty".into();
    }
    output
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("[GNUPG:]"))
        .unwrap_or("signature verification failed")
        .trim_start_matches("error:")
        .trim()
        .to_owned()
}

/// Removes the `.git` files (not directories) below `dir`, skipping the repository's
/// own `.git` directory.
fn remove_gitlinks(dir: &Path, top: bool) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let is_git = entry.file_name() == ".git";
        if kind.is_dir() {
            if !(top && is_git) {
                remove_gitlinks(&entry.path(), false)?;
            }
        } else if is_git && !top {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn ssh_command(
    home: &Path,
    credentials: &Credentials,
    options: &GitOptions,
    env: &mut Vec<(String, String)>,
) -> io::Result<String> {
    let known_hosts = home.join("known_hosts");
    let ssh = credentials.ssh.as_ref();
    write_private(
        &known_hosts,
        ssh.map(|s| s.known_hosts.as_bytes()).unwrap_or_default(),
    )?;
    let mut command = vec![
        "ssh".to_owned(),
        "-F".into(),
        "/dev/null".into(),
        "-o".into(),
        format!(
            "UserKnownHostsFile={}",
            shell_quote(&known_hosts.display().to_string())
        ),
        "-o".into(),
        "GlobalKnownHostsFile=/dev/null".into(),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
        "-o".into(),
        "IdentitiesOnly=yes".into(),
        "-o".into(),
        "IdentityAgent=none".into(),
        "-o".into(),
        "PasswordAuthentication=no".into(),
        "-o".into(),
        "KbdInteractiveAuthentication=no".into(),
        "-o".into(),
        "ConnectTimeout=30".into(),
    ];
    if !options.kex_algorithms.is_empty() {
        command.push("-o".into());
        command.push(shell_quote(&format!(
            "KexAlgorithms={}",
            options.kex_algorithms.join(",")
        )));
    }
    if !options.host_key_algorithms.is_empty() {
        command.push("-o".into());
        command.push(shell_quote(&format!(
            "HostKeyAlgorithms={}",
            options.host_key_algorithms.join(",")
        )));
    }
    match ssh.filter(|s| !s.identity.is_empty()) {
        Some(ssh) => {
            let identity = home.join("identity");
            write_private(&identity, &ssh.identity)?;
            command.push("-i".into());
            command.push(shell_quote(&identity.display().to_string()));
            match &ssh.passphrase {
                Some(passphrase) => {
                    // ssh reads a passphrase only from a terminal or an askpass program:
                    // a script that prints it from the environment of this process.
                    let askpass = home.join("askpass");
                    fs::write(
                        &askpass,
                        "#!/bin/sh\nprintf '%s\\n' \"$SLUICE_SSH_PASSPHRASE\"\n",
                    )?;
                    fs::set_permissions(&askpass, fs::Permissions::from_mode(0o700))?;
                    env.retain(|(k, _)| k != "SSH_ASKPASS");
                    env.push(("SSH_ASKPASS".into(), askpass.display().to_string()));
                    env.push(("SSH_ASKPASS_REQUIRE".into(), "force".into()));
                    env.push(("SLUICE_SSH_PASSPHRASE".into(), passphrase.clone()));
                    env.push(("DISPLAY".into(), "none".into()));
                    command.push("-o".into());
                    command.push("NumberOfPasswordPrompts=1".into());
                }
                None => {
                    command.push("-o".into());
                    command.push("BatchMode=yes".into());
                }
            }
        }
        None => {
            command.push("-o".into());
            command.push("BatchMode=yes".into());
        }
    }
    Ok(command.join(" "))
}

/// Turns git's standard error into the error of the failed operation, with a short
/// message (the last `fatal:`/`error:` line, or a fixed wording for the cases a user
/// must recognise: refused credentials, an untrusted host key).
fn classify(stderr: &str) -> GitError {
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("host key verification failed")
        || lower.contains("remote host identification has changed")
    {
        return GitError::Auth(
            "ssh: handshake failed: knownhosts: the host key is not in known_hosts (host key verification failed)".into(),
        );
    }
    if lower.contains("permission denied (publickey") || lower.contains("incorrect passphrase") {
        return GitError::Auth("ssh: handshake failed: ssh: unable to authenticate".into());
    }
    if lower.contains("authentication failed")
        || lower.contains("could not read username")
        || lower.contains("could not read password")
        || lower.contains("http basic: access denied")
        || lower.contains("401")
        || lower.contains("403")
    {
        return GitError::Auth("authentication required".into());
    }
    if let Some(rest) = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("fatal: couldn't find remote ref "))
    {
        return GitError::NotFound(format!("couldn't find remote ref \"{}\"", rest.trim()));
    }
    let line = stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("git failed without a message");
    let line = line
        .trim_start_matches("fatal:")
        .trim_start_matches("error:")
        .trim();
    GitError::Failed(line.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(f: impl FnOnce(&mut GitRepositoryRef)) -> GitRepositoryRef {
        let mut r = GitRepositoryRef::default();
        f(&mut r);
        r
    }

    #[test]
    fn references_follow_upstream_precedence() {
        assert_eq!(
            Reference::from_spec(None),
            Reference::Branch("master".into())
        );
        let all = spec(|r| {
            r.branch = Some("b".into());
            r.tag = Some("t".into());
            r.semver = Some("*".into());
            r.name = Some("refs/heads/n".into());
            r.commit = Some("c".into());
        });
        assert_eq!(
            Reference::from_spec(Some(&all)),
            Reference::Commit {
                commit: "c".into(),
                branch: Some("b".into())
            }
        );
        let no_commit = GitRepositoryRef {
            commit: None,
            ..all.clone()
        };
        assert_eq!(
            Reference::from_spec(Some(&no_commit)),
            Reference::Name("refs/heads/n".into())
        );
        let semver = GitRepositoryRef {
            name: None,
            ..no_commit
        };
        assert_eq!(
            Reference::from_spec(Some(&semver)),
            Reference::Semver("*".into())
        );
        let tag = GitRepositoryRef {
            semver: None,
            ..semver
        };
        assert_eq!(Reference::from_spec(Some(&tag)), Reference::Tag("t".into()));
        assert_eq!(
            Reference::from_spec(Some(&spec(|_| {}))),
            Reference::Branch("master".into())
        );
    }

    #[test]
    fn revisions_are_written_as_upstream_writes_them() {
        let hex = "a".repeat(40);
        assert_eq!(revision(Some("main"), &hex), format!("main@sha1:{hex}"));
        assert_eq!(revision(None, &hex), format!("sha1:{hex}"));
        assert_eq!(
            revision(Some("refs/pull/420/head"), &hex),
            format!("refs/pull/420/head@sha1:{hex}")
        );
        assert_eq!(revision(None, "abc"), "<unknown>:abc");
    }

    #[test]
    fn the_commit_is_read_back_from_any_revision_form() {
        let hex = "b".repeat(40);
        assert_eq!(
            revision_commit(&format!("main@sha1:{hex}")),
            Some(hex.as_str())
        );
        assert_eq!(
            revision_commit(&format!("feature/x@sha1:{hex}")),
            Some(hex.as_str())
        );
        assert_eq!(revision_commit(&format!("sha1:{hex}")), Some(hex.as_str()));
        assert_eq!(revision_commit(&format!("main/{hex}")), Some(hex.as_str()));
        assert_eq!(revision_commit("main"), None);
    }

    #[test]
    fn long_subjects_are_cut_at_fifty_characters() {
        let commit = Commit {
            label: None,
            hash: String::new(),
            subject: "x".repeat(60),
        };
        assert_eq!(commit.short_message(), format!("{}…", "x".repeat(50)));
    }

    #[test]
    fn git_errors_are_classified() {
        assert!(matches!(
            classify(
                "Host key verification failed.\nfatal: Could not read from remote repository."
            ),
            GitError::Auth(_)
        ));
        assert!(matches!(
            classify("fatal: Authentication failed for 'http://x/'"),
            GitError::Auth(_)
        ));
        assert_eq!(
            classify("fatal: couldn't find remote ref refs/heads/nope"),
            GitError::NotFound("couldn't find remote ref \"refs/heads/nope\"".into())
        );
        assert_eq!(
            classify(
                "fatal: unable to access 'http://127.0.0.1:1/': Failed to connect to 127.0.0.1 port 1"
            ),
            GitError::Failed(
                "unable to access 'http://127.0.0.1:1/': Failed to connect to 127.0.0.1 port 1"
                    .into()
            )
        );
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn credentials_are_scoped_to_the_remote_host() {
        assert_eq!(
            http_scope("https://u:p@h:8443/git/r.git").as_deref(),
            Some("https://h:8443/")
        );
    }
}
