//! Git fixtures: repositories with commits, branches, tags and signatures, and the keys
//! to sign with.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::{require_tool, run};
use crate::{Error, temp_dir};

/// Author and committer of fixture commits.
pub const AUTHOR_NAME: &str = "Sluice Test";
/// E-mail of fixture commits.
pub const AUTHOR_EMAIL: &str = "test@sluice.test";
/// Committer time of the first fixture commit (2024-01-01T00:00:00Z); each commit adds
/// a minute, so commit and tag times are ordered and reproducible.
pub const EPOCH: i64 = 1_704_067_200;

/// A `git` command isolated from the machine's and user's configuration
/// (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), never prompting
/// (`GIT_TERMINAL_PROMPT=0`), with the fixture identity, running in `dir`.
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
        .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
        .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
        .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
        // Repositories served by the SSH server belong to its user.
        .args(["-c", "safe.directory=*", "-c", "init.defaultBranch=main"]);
    command
}

/// Creates a bare repository at `path` whose HEAD is `branch`.
///
/// # Errors
/// [`Error::Command`] when `git init` fails.
pub fn init_bare(path: &Path, branch: &str) -> Result<(), Error> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    run(git_command(parent)
        .args(["init", "--quiet", "--bare", "-b", branch])
        .arg(path))?;
    Ok(())
}

/// A working repository in a temporary directory, for building fixtures and pushing them
/// to a server.
#[derive(Debug)]
pub struct GitRepo {
    dir: tempfile::TempDir,
    clock: Cell<i64>,
}

impl GitRepo {
    /// `git init` with `branch` as the initial branch.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Command`].
    pub fn init(branch: &str) -> Result<Self, Error> {
        let dir = temp_dir("git-work-")?;
        run(git_command(dir.path()).args(["init", "--quiet", "-b", branch]))?;
        Ok(Self {
            dir,
            clock: Cell::new(EPOCH),
        })
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `git <args>` in the work tree at the current fixture time; returns stdout.
    ///
    /// # Errors
    /// [`Error::Command`] when git fails.
    pub fn git(&self, args: &[&str]) -> Result<String, Error> {
        self.git_with(args, &[])
    }

    /// Like [`GitRepo::git`] with extra environment variables.
    ///
    /// # Errors
    /// [`Error::Command`] when git fails.
    pub fn git_with(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String, Error> {
        let date = format!("@{} +0000", self.clock.get());
        let mut command = git_command(self.path());
        command
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        run(&mut command)
    }

    /// The fixture time used for the next commit or tag (seconds since the epoch).
    pub fn time(&self) -> i64 {
        self.clock.get()
    }

    /// Sets the fixture time for the next commit or tag.
    pub fn set_time(&self, unix_seconds: i64) {
        self.clock.set(unix_seconds);
    }

    fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }

    /// Writes a file (creating parent directories) relative to the work tree.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) -> Result<&Self, Error> {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)
                .map_err(Error::io(format!("creating {}", parent.display())))?;
        }
        crate::write(&full, contents)?;
        Ok(self)
    }

    /// Stages everything and commits; returns the commit id. Allows empty commits.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn commit(&self, message: &str) -> Result<String, Error> {
        self.commit_with(message, &[], &[])
    }

    /// Writes `files` and commits them; returns the commit id.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Command`].
    pub fn commit_files(&self, files: &[(&str, &str)], message: &str) -> Result<String, Error> {
        for (path, contents) in files {
            self.write(path, contents)?;
        }
        self.commit(message)
    }

    fn commit_with(
        &self,
        message: &str,
        config: &[&str],
        env: &[(&str, &str)],
    ) -> Result<String, Error> {
        self.git(&["add", "--all"])?;
        let mut args: Vec<&str> = config.to_vec();
        args.extend(["commit", "--quiet", "--allow-empty", "-m", message]);
        self.git_with(&args, env)?;
        self.tick();
        self.head()
    }

    /// A commit signed with `key` (`git commit -S`); returns its id.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn commit_signed_gpg(&self, message: &str, key: &GpgKey) -> Result<String, Error> {
        let signing = format!("user.signingkey={}", key.fingerprint());
        self.commit_with(
            message,
            &["-c", &signing, "-c", "commit.gpgsign=true"],
            &key.env(),
        )
    }

    /// A commit signed with the SSH key `key` (`gpg.format=ssh`); returns its id.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn commit_signed_ssh(&self, message: &str, key: &SshKey) -> Result<String, Error> {
        let signing = format!("user.signingkey={}", key.private_key_path().display());
        self.commit_with(
            message,
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                &signing,
                "-c",
                "commit.gpgsign=true",
            ],
            &[],
        )
    }

    /// The id of `HEAD`.
    ///
    /// # Errors
    /// [`Error::Command`] (e.g. no commit yet).
    pub fn head(&self) -> Result<String, Error> {
        self.rev_parse("HEAD")
    }

    /// The object id `rev` resolves to (`git rev-parse`).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn rev_parse(&self, rev: &str) -> Result<String, Error> {
        Ok(self.git(&["rev-parse", rev])?.trim().to_owned())
    }

    /// Creates a branch at `HEAD` and switches to it.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn branch(&self, name: &str) -> Result<&Self, Error> {
        self.git(&["checkout", "--quiet", "-b", name])?;
        Ok(self)
    }

    /// Switches to an existing branch (or any revision).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn checkout(&self, rev: &str) -> Result<&Self, Error> {
        self.git(&["checkout", "--quiet", rev])?;
        Ok(self)
    }

    /// A lightweight tag at `HEAD`.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn tag(&self, name: &str) -> Result<&Self, Error> {
        self.git(&["tag", name])?;
        Ok(self)
    }

    /// An annotated tag at `HEAD`; returns the tag object's id.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn annotated_tag(&self, name: &str, message: &str) -> Result<String, Error> {
        self.git(&["tag", "-a", name, "-m", message])?;
        self.tick();
        self.rev_parse(&format!("refs/tags/{name}"))
    }

    /// An annotated tag at `HEAD` signed with `key`; returns the tag object's id.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn tag_signed_gpg(&self, name: &str, message: &str, key: &GpgKey) -> Result<String, Error> {
        let signing = format!("user.signingkey={}", key.fingerprint());
        self.git_with(
            &["-c", &signing, "tag", "-s", name, "-m", message],
            &key.env(),
        )?;
        self.tick();
        self.rev_parse(&format!("refs/tags/{name}"))
    }

    /// An annotated tag at `HEAD` signed with the SSH key `key`; returns the tag object's
    /// id.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn tag_signed_ssh(&self, name: &str, message: &str, key: &SshKey) -> Result<String, Error> {
        let signing = format!("user.signingkey={}", key.private_key_path().display());
        self.git(&[
            "-c",
            "gpg.format=ssh",
            "-c",
            &signing,
            "tag",
            "-s",
            name,
            "-m",
            message,
        ])?;
        self.tick();
        self.rev_parse(&format!("refs/tags/{name}"))
    }

    /// `git push --force <remote> <refspecs...>` (e.g. a bare repository path or a server
    /// URL) with extra environment (e.g. [`crate::GitHttpServer::git_env`]).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn push(&self, remote: &str, refspecs: &[&str], env: &[(&str, &str)]) -> Result<(), Error> {
        let mut args = vec!["push", "--quiet", "--force", remote];
        args.extend_from_slice(refspecs);
        self.git_with(&args, env)?;
        Ok(())
    }

    /// Pushes every branch and tag to `remote`.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn push_all(&self, remote: &str, env: &[(&str, &str)]) -> Result<(), Error> {
        self.push(
            remote,
            &["refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"],
            env,
        )
    }
}

/// A throwaway GPG signing key (ed25519, no passphrase) in its own `GNUPGHOME`. Dropping
/// it stops the `gpg-agent` that signing started (`gpgconf --kill all`).
#[derive(Debug)]
pub struct GpgKey {
    home: tempfile::TempDir,
    fingerprint: String,
}

impl GpgKey {
    /// Generates a key for `name <email>`.
    ///
    /// # Errors
    /// [`Error::MissingTool`], [`Error::Io`] or [`Error::Command`].
    pub fn generate(name: &str, email: &str) -> Result<Self, Error> {
        let gpg = require_tool("gpg")?;
        let home = temp_dir("gnupg-")?;
        // A `Drop` now covers the agent even if a later step fails.
        let mut key = Self {
            home,
            fingerprint: String::new(),
        };
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(key.home.path(), std::fs::Permissions::from_mode(0o700))
                .map_err(Error::io("protecting GNUPGHOME".to_owned()))?;
        }
        let params = key.home.path().join("params");
        crate::write(
            &params,
            format!(
                "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\n\
                 Name-Real: {name}\nName-Email: {email}\nExpire-Date: 0\n%commit\n"
            ),
        )?;
        run(Command::new(&gpg)
            .env("GNUPGHOME", key.home.path())
            .args(["--batch", "--quiet", "--gen-key"])
            .arg(&params))?;
        let listing = run(Command::new(&gpg).env("GNUPGHOME", key.home.path()).args([
            "--batch",
            "--list-secret-keys",
            "--with-colons",
        ]))?;
        key.fingerprint = listing
            .lines()
            .find_map(|line| line.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
            .map(str::to_owned)
            .ok_or_else(|| Error::Command {
                command: "gpg --list-secret-keys".to_owned(),
                status: "0".to_owned(),
                stderr: format!("no fingerprint in: {listing}"),
            })?;
        Ok(key)
    }

    /// The key's fingerprint (40 hex digits).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key id (the last 16 hex digits of the fingerprint), as Flux reports it.
    pub fn key_id(&self) -> &str {
        &self.fingerprint[self.fingerprint.len().saturating_sub(16)..]
    }

    /// The `GNUPGHOME` holding the key.
    pub fn gnupghome(&self) -> &Path {
        self.home.path()
    }

    /// Environment for commands that sign with this key.
    pub fn env(&self) -> Vec<(&str, &str)> {
        vec![("GNUPGHOME", self.home.path().to_str().unwrap_or_default())]
    }

    /// The ASCII-armored public key (what goes into a Flux verification Secret as
    /// `<name>.asc`).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn public_key_armored(&self) -> Result<String, Error> {
        run(Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--armor", "--export", &self.fingerprint]))
    }
}

impl Drop for GpgKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "all"])
            .output();
    }
}

/// An SSH key pair (ed25519) in a temporary directory: for SSH authentication (as a
/// Flux `identity`) and for SSH commit signing.
#[derive(Debug)]
pub struct SshKey {
    dir: tempfile::TempDir,
    public_key: String,
    passphrase: Option<String>,
}

impl SshKey {
    /// Generates an unencrypted key.
    ///
    /// # Errors
    /// [`Error::MissingTool`], [`Error::Io`] or [`Error::Command`].
    pub fn generate() -> Result<Self, Error> {
        Self::generate_with_passphrase(None)
    }

    /// Generates a key, encrypted when `passphrase` is given.
    ///
    /// # Errors
    /// [`Error::MissingTool`], [`Error::Io`] or [`Error::Command`].
    pub fn generate_with_passphrase(passphrase: Option<&str>) -> Result<Self, Error> {
        let keygen = require_tool("ssh-keygen")?;
        let dir = temp_dir("ssh-key-")?;
        let path = dir.path().join("id_ed25519");
        run(Command::new(keygen)
            .args([
                "-q",
                "-t",
                "ed25519",
                "-C",
                AUTHOR_EMAIL,
                "-N",
                passphrase.unwrap_or(""),
            ])
            .arg("-f")
            .arg(&path))?;
        let public_key = std::fs::read_to_string(path.with_extension("pub"))
            .map_err(Error::io("reading the public key".to_owned()))?
            .trim()
            .to_owned();
        Ok(Self {
            dir,
            public_key,
            passphrase: passphrase.map(str::to_owned),
        })
    }

    /// Path of the private key (OpenSSH format).
    pub fn private_key_path(&self) -> PathBuf {
        self.dir.path().join("id_ed25519")
    }

    /// The private key (Flux's `identity`).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn private_key(&self) -> Result<String, Error> {
        std::fs::read_to_string(self.private_key_path())
            .map_err(Error::io("reading the private key".to_owned()))
    }

    /// The passphrase the key was encrypted with, if any.
    pub fn passphrase(&self) -> Option<&str> {
        self.passphrase.as_deref()
    }

    /// The public key line (`ssh-ed25519 AAAA... comment`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// An `allowed_signers` line for SSH signature verification.
    pub fn allowed_signers_line(&self) -> String {
        format!("{AUTHOR_EMAIL} {}", self.public_key)
    }

    /// The `SHA256:...` fingerprint, as Flux reports SSH signers.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn fingerprint(&self) -> Result<String, Error> {
        let out = run(Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.private_key_path().with_extension("pub")))?;
        out.split_whitespace()
            .nth(1)
            .map(str::to_owned)
            .ok_or_else(|| Error::Command {
                command: "ssh-keygen -lf".to_owned(),
                status: "0".to_owned(),
                stderr: format!("unexpected output: {out}"),
            })
    }
}
