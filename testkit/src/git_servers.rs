//! Git servers: `git daemon`, smart HTTP(S) through nginx + fcgiwrap + `git http-backend`,
//! and `sshd` with a `git-shell` user.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::git::{GitRepo, SshKey, git_command, init_bare};
use crate::process::{Daemon, free_port, require_tool, run, tcp_ready, with_free_port};
use crate::tls::TestCa;
use crate::{Error, temp_dir, write};

fn create_dir(path: &Path) -> Result<(), Error> {
    fs::create_dir_all(path).map_err(Error::io(format!("creating {}", path.display())))
}

/// Creates a bare repository `name` (e.g. `repo.git`) under `root` and pushes every
/// branch and tag of `fixture` into it, if given.
fn bare_repo(root: &Path, name: &str, fixture: Option<&GitRepo>) -> Result<PathBuf, Error> {
    let path = root.join(name);
    let branch = match fixture {
        Some(repo) => repo
            .git(&["symbolic-ref", "--short", "HEAD"])
            .map(|b| b.trim().to_owned())
            .unwrap_or_else(|_| "main".to_owned()),
        None => "main".to_owned(),
    };
    init_bare(&path, &branch)?;
    if let Some(repo) = fixture {
        repo.push_all(&path.display().to_string(), &[])?;
    }
    Ok(path)
}

/// `git daemon` serving `git://127.0.0.1:<port>/<name>` from a temporary directory, with
/// pushes enabled.
#[derive(Debug)]
pub struct GitDaemon {
    // Field order: the daemon stops before its directory goes.
    daemon: Daemon,
    port: u16,
    dir: tempfile::TempDir,
}

impl GitDaemon {
    /// Starts the daemon and waits until it accepts connections.
    ///
    /// # Errors
    /// [`Error::NotReady`] with the log, or [`Error::Io`].
    pub fn start() -> Result<Self, Error> {
        let dir = temp_dir("git-daemon-")?;
        let root = dir.path().join("srv");
        create_dir(&root)?;
        let log = dir.path().join("daemon.log");
        let (daemon, port) = with_free_port(|port| {
            let mut command = git_command(dir.path());
            command
                .arg("daemon")
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", root.display()))
                .args([
                    "--export-all",
                    "--reuseaddr",
                    "--informative-errors",
                    "--enable=receive-pack",
                ])
                .arg(&root);
            let mut daemon = Daemon::spawn("git daemon", command, &log)?;
            daemon.wait_ready(|| tcp_ready(port))?;
            Ok((daemon, port))
        })?;
        Ok(Self { daemon, port, dir })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The daemon's PID (also its process group).
    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }
    /// The directory repositories are served from.
    pub fn repo_root(&self) -> PathBuf {
        self.dir.path().join("srv")
    }
    /// `git://127.0.0.1:<port>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
    /// Creates an empty bare repository `name` (e.g. `repo.git`).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn create_repo(&self, name: &str) -> Result<PathBuf, Error> {
        bare_repo(&self.repo_root(), name, None)
    }
    /// Serves `fixture`'s branches and tags as `name`; returns its URL.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn publish(&self, fixture: &GitRepo, name: &str) -> Result<String, Error> {
        bare_repo(&self.repo_root(), name, Some(fixture))?;
        Ok(self.url(name))
    }
    /// Stops the daemon now (also done on drop).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }
}

/// Options of a [`GitHttpServer`].
#[derive(Debug, Clone, Default)]
pub struct GitHttpOptions {
    /// Basic-auth user and password; `None` serves anonymously (pushes included).
    pub credentials: Option<(String, String)>,
    /// Also serve HTTPS with a certificate from a per-server CA.
    pub tls: bool,
    /// Require a client certificate signed by that CA on the HTTPS port.
    pub require_client_cert: bool,
}

impl GitHttpOptions {
    /// Basic auth with `user`/`password`.
    pub fn basic_auth(user: &str, password: &str) -> Self {
        Self {
            credentials: Some((user.to_owned(), password.to_owned())),
            ..Self::default()
        }
    }
    /// Adds HTTPS.
    pub fn with_tls(mut self) -> Self {
        self.tls = true;
        self
    }
    /// Adds HTTPS requiring client certificates (mutual TLS).
    pub fn with_client_certs(mut self) -> Self {
        self.tls = true;
        self.require_client_cert = true;
        self
    }
}

/// Smart HTTP(S) Git: nginx in front of fcgiwrap running `git http-backend`, repositories
/// under `/git/`, optional basic auth and HTTPS.
#[derive(Debug)]
pub struct GitHttpServer {
    nginx: Daemon,
    fcgiwrap: Daemon,
    http_port: u16,
    https_port: Option<u16>,
    ca: Option<TestCa>,
    options: GitHttpOptions,
    dir: tempfile::TempDir,
}

impl GitHttpServer {
    /// Starts fcgiwrap and nginx and waits until both serve.
    ///
    /// # Errors
    /// [`Error::MissingTool`], [`Error::NotReady`] with the logs, [`Error::Io`],
    /// [`Error::Command`] or [`Error::Tls`].
    pub fn start(options: GitHttpOptions) -> Result<Self, Error> {
        let nginx_bin = require_tool("nginx")?;
        let fcgiwrap_bin = require_tool("fcgiwrap")?;
        let dir = temp_dir("git-http-")?;
        let base = dir.path();
        for sub in ["srv", "tmp", "logs"] {
            create_dir(&base.join(sub))?;
        }
        let ca = if options.tls {
            let tls_dir = base.join("tls");
            create_dir(&tls_dir)?;
            Some(TestCa::generate(&tls_dir, "git-http")?)
        } else {
            None
        };
        let auth = match &options.credentials {
            Some((user, password)) => {
                let htpasswd = base.join("htpasswd");
                run(Command::new(require_tool("htpasswd")?)
                    .arg("-bc")
                    .arg(&htpasswd)
                    .args([user, password]))?;
                format!(
                    "auth_basic \"git\"; auth_basic_user_file {}; fastcgi_param REMOTE_USER $remote_user;",
                    htpasswd.display()
                )
            }
            // git http-backend only accepts pushes from an authenticated user.
            None => "fastcgi_param REMOTE_USER anonymous;".to_owned(),
        };
        let backend =
            Path::new(run(git_command(base).arg("--exec-path"))?.trim()).join("git-http-backend");

        let socket = base.join("fcgiwrap.sock");
        let mut fcgi_command = Command::new(fcgiwrap_bin);
        fcgi_command
            .arg("-s")
            .arg(format!("unix:{}", socket.display()));
        let mut fcgiwrap =
            Daemon::spawn("fcgiwrap", fcgi_command, &base.join("logs/fcgiwrap.log"))?;
        fcgiwrap.wait_ready(|| socket.exists())?;

        let (nginx, http_port, https_port) = with_free_port(|http_port| {
            let https_port = if options.tls {
                Some(free_port()?)
            } else {
                None
            };
            let location = format!(
                "location ~ ^/git(/.*) {{ {auth}
                    fastcgi_pass unix:{socket}; include /etc/nginx/fastcgi_params;
                    fastcgi_param SCRIPT_FILENAME {backend};
                    fastcgi_param GIT_PROJECT_ROOT {root}; fastcgi_param GIT_HTTP_EXPORT_ALL \"\";
                    fastcgi_param PATH_INFO $1; }}",
                socket = socket.display(),
                backend = backend.display(),
                root = base.join("srv").display(),
            );
            let https = match (&ca, https_port) {
                (Some(ca), Some(port)) => {
                    let client = if options.require_client_cert {
                        format!(
                            "ssl_verify_client on; ssl_client_certificate {};",
                            ca.ca_path().display()
                        )
                    } else {
                        String::new()
                    };
                    format!(
                        "server {{ listen 127.0.0.1:{port} ssl; ssl_certificate {}; ssl_certificate_key {}; {client} {location} }}",
                        ca.server_cert_path().display(),
                        ca.server_key_path().display(),
                    )
                }
                _ => String::new(),
            };
            let b = base.display();
            let config = format!(
                "daemon off; user root; worker_processes 1; pid {b}/nginx.pid; error_log {b}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{ access_log {b}/logs/access.log; client_max_body_size 0;
  client_body_temp_path {b}/tmp/body; fastcgi_temp_path {b}/tmp/fcgi; proxy_temp_path {b}/tmp/proxy;
  uwsgi_temp_path {b}/tmp/uwsgi; scgi_temp_path {b}/tmp/scgi;
  server {{ listen 127.0.0.1:{http_port}; {location} }}
  {https}
}}
"
            );
            let config_path = base.join("nginx.conf");
            write(&config_path, config)?;
            let mut command = Command::new(&nginx_bin);
            command
                .arg("-e")
                .arg(base.join("logs/error.log"))
                .arg("-c")
                .arg(&config_path)
                .arg("-p")
                .arg(base);
            let mut nginx = Daemon::spawn("nginx", command, &base.join("logs/nginx.log"))?;
            let ready =
                nginx.wait_ready(|| tcp_ready(http_port) && https_port.is_none_or(tcp_ready));
            if let Err(Error::NotReady { name, reason, log }) = ready {
                let errors = fs::read_to_string(base.join("logs/error.log")).unwrap_or_default();
                return Err(Error::NotReady {
                    name,
                    reason,
                    log: format!("{log}{errors}"),
                });
            }
            Ok((nginx, http_port, https_port))
        })?;
        Ok(Self {
            nginx,
            fcgiwrap,
            http_port,
            https_port,
            ca,
            options,
            dir,
        })
    }

    /// The plain HTTP port.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }
    /// The HTTPS port, when started with TLS.
    pub fn https_port(&self) -> Option<u16> {
        self.https_port
    }
    /// PIDs of nginx's master and of fcgiwrap.
    pub fn pids(&self) -> [u32; 2] {
        [self.nginx.pid(), self.fcgiwrap.pid()]
    }
    /// The CA that signed the HTTPS certificate (and the client certificate).
    pub fn ca(&self) -> Option<&TestCa> {
        self.ca.as_ref()
    }
    /// The basic-auth credentials.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.options
            .credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }
    /// The directory repositories are served from.
    pub fn repo_root(&self) -> PathBuf {
        self.dir.path().join("srv")
    }
    /// `http://127.0.0.1:<port>/git/<name>`, without credentials.
    pub fn http_url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/git/{name}", self.http_port)
    }
    /// `https://127.0.0.1:<port>/git/<name>`, without credentials (`None` without TLS).
    pub fn https_url(&self, name: &str) -> Option<String> {
        self.https_port
            .map(|port| format!("https://127.0.0.1:{port}/git/{name}"))
    }
    /// `url` with the basic-auth credentials as userinfo (for the git CLI).
    pub fn with_credentials(&self, url: &str) -> String {
        match self.credentials() {
            Some((user, password)) => url.replacen("://", &format!("://{user}:{password}@"), 1),
            None => url.to_owned(),
        }
    }
    /// Environment the git CLI needs for the HTTPS URL: `GIT_SSL_CAINFO` (which overrides
    /// `http.sslCAInfo`, so it must be set) and, with client certificates,
    /// `GIT_SSL_CERT`/`GIT_SSL_KEY`.
    pub fn git_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let Some(ca) = &self.ca {
            env.push((
                "GIT_SSL_CAINFO".to_owned(),
                ca.ca_path().display().to_string(),
            ));
            if self.options.require_client_cert {
                env.push((
                    "GIT_SSL_CERT".to_owned(),
                    ca.client_cert_path().display().to_string(),
                ));
                env.push((
                    "GIT_SSL_KEY".to_owned(),
                    ca.client_key_path().display().to_string(),
                ));
            }
        }
        env
    }
    /// Creates an empty bare repository `name` (e.g. `repo.git`).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn create_repo(&self, name: &str) -> Result<PathBuf, Error> {
        bare_repo(&self.repo_root(), name, None)
    }
    /// Serves `fixture`'s branches and tags as `name`; returns the HTTP URL.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn publish(&self, fixture: &GitRepo, name: &str) -> Result<String, Error> {
        bare_repo(&self.repo_root(), name, Some(fixture))?;
        Ok(self.http_url(name))
    }
    /// Stops nginx and fcgiwrap now (also done on drop).
    pub fn stop(&mut self) {
        self.nginx.stop();
        self.fcgiwrap.stop();
    }
}

/// The system user whose login shell is `git-shell`, shared by every [`GitSshServer`].
pub const SSH_USER: &str = "sluice-git";

/// `sshd` on 127.0.0.1 accepting only public keys for [`SSH_USER`], whose shell is
/// `git-shell`; needs root (it runs sshd and creates the user once).
#[derive(Debug)]
pub struct GitSshServer {
    sshd: Daemon,
    port: u16,
    client_key: SshKey,
    host_public_key: String,
    dir: tempfile::TempDir,
}

impl GitSshServer {
    /// Creates [`SSH_USER`] if missing, a host key, a client key (authorized), and starts
    /// sshd.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when not root; [`Error::MissingTool`], [`Error::NotReady`]
    /// with the log, [`Error::Io`] or [`Error::Command`].
    pub fn start() -> Result<Self, Error> {
        if !rustix::process::geteuid().is_root() {
            return Err(Error::Unsupported(
                "GitSshServer needs root (sshd, useradd)".to_owned(),
            ));
        }
        let sshd_bin = require_tool("sshd")?;
        ensure_ssh_user()?;
        let dir = temp_dir("git-ssh-")?;
        let base = dir.path();
        // The git-shell user must reach the repositories and authorized_keys.
        fs::set_permissions(base, fs::Permissions::from_mode(0o755))
            .map_err(Error::io(format!("opening up {}", base.display())))?;
        create_dir(&base.join("srv"))?;
        chown_to_ssh_user(&base.join("srv"))?;
        let host_key = base.join("host_ed25519");
        run(Command::new(require_tool("ssh-keygen")?)
            .args(["-q", "-t", "ed25519", "-N", ""])
            .arg("-f")
            .arg(&host_key))?;
        let host_public_key = fs::read_to_string(host_key.with_extension("pub"))
            .map_err(Error::io("reading the host key".to_owned()))?;
        let host_public_key = host_public_key
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let client_key = SshKey::generate()?;
        let authorized = base.join("authorized_keys");
        write(&authorized, format!("{}\n", client_key.public_key()))?;
        fs::set_permissions(&authorized, fs::Permissions::from_mode(0o644))
            .map_err(Error::io("opening up authorized_keys".to_owned()))?;
        create_dir(Path::new("/run/sshd"))?;

        let log = base.join("sshd.log");
        let (sshd, port) = with_free_port(|port| {
            let config = base.join("sshd_config");
            write(
                &config,
                format!(
                    "ListenAddress 127.0.0.1\nPort {port}\nHostKey {host}\nPidFile {b}/sshd.pid\n\
                     AuthorizedKeysFile {authorized}\nAuthenticationMethods publickey\n\
                     PubkeyAuthentication yes\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nPermitRootLogin no\nAllowUsers {SSH_USER}\n\
                     UsePAM no\nStrictModes no\nLogLevel VERBOSE\n",
                    host = host_key.display(),
                    b = base.display(),
                    authorized = authorized.display(),
                ),
            )?;
            run(Command::new(&sshd_bin).arg("-t").arg("-f").arg(&config))?;
            let mut command = Command::new(&sshd_bin);
            command.args(["-D", "-e", "-f"]).arg(&config);
            let mut sshd = Daemon::spawn("sshd", command, &log)?;
            sshd.wait_ready(|| tcp_ready(port))?;
            Ok((sshd, port))
        })?;
        Ok(Self {
            sshd,
            port,
            client_key,
            host_public_key,
            dir,
        })
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// sshd's PID.
    pub fn pid(&self) -> u32 {
        self.sshd.pid()
    }
    /// The directory repositories are served from (owned by [`SSH_USER`]).
    pub fn repo_root(&self) -> PathBuf {
        self.dir.path().join("srv")
    }
    /// `ssh://sluice-git@127.0.0.1:<port>/<absolute path of name>`.
    pub fn url(&self, name: &str) -> String {
        format!(
            "ssh://{SSH_USER}@127.0.0.1:{}{}",
            self.port,
            self.repo_root().join(name).display()
        )
    }
    /// The authorized client key (Flux's `identity`).
    pub fn client_key(&self) -> &SshKey {
        &self.client_key
    }
    /// Also accept `key` (e.g. a passphrase-protected one).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn authorize(&self, key: &SshKey) -> Result<(), Error> {
        use std::io::Write;
        let path = self.dir.path().join("authorized_keys");
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(Error::io(format!("opening {}", path.display())))?;
        writeln!(file, "{}", key.public_key())
            .map_err(Error::io(format!("writing {}", path.display())))
    }
    /// The `known_hosts` line for this server (`[127.0.0.1]:<port> ssh-ed25519 ...`).
    pub fn known_hosts(&self) -> String {
        format!("[127.0.0.1]:{} {}\n", self.port, self.host_public_key)
    }
    /// A `GIT_SSH_COMMAND` using `key` and strict host checking against
    /// [`GitSshServer::known_hosts`] (written next to the server's files).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn ssh_command(&self, key: &SshKey) -> Result<String, Error> {
        let known_hosts = self.dir.path().join("known_hosts");
        write(&known_hosts, self.known_hosts())?;
        Ok(format!(
            "ssh -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o BatchMode=yes",
            key.private_key_path().display(),
            known_hosts.display()
        ))
    }
    /// Creates an empty bare repository `name` owned by [`SSH_USER`].
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn create_repo(&self, name: &str) -> Result<PathBuf, Error> {
        let path = bare_repo(&self.repo_root(), name, None)?;
        chown_to_ssh_user(&path)?;
        Ok(path)
    }
    /// Serves `fixture`'s branches and tags as `name`; returns the SSH URL.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub fn publish(&self, fixture: &GitRepo, name: &str) -> Result<String, Error> {
        let path = bare_repo(&self.repo_root(), name, Some(fixture))?;
        chown_to_ssh_user(&path)?;
        Ok(self.url(name))
    }
    /// Stops sshd and its connection processes now (also done on drop).
    pub fn stop(&mut self) {
        self.sshd.stop();
    }
}

fn chown_to_ssh_user(path: &Path) -> Result<(), Error> {
    run(Command::new("chown")
        .arg("-R")
        .arg(format!("{SSH_USER}:{SSH_USER}"))
        .arg(path))?;
    Ok(())
}

/// Creates [`SSH_USER`] once per machine; a file lock keeps parallel test processes from
/// racing `useradd`.
fn ensure_ssh_user() -> Result<(), Error> {
    let lock_path = std::env::temp_dir().join("sluice-testkit-ssh-user.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(Error::io(format!("opening {}", lock_path.display())))?;
    lock.lock()
        .map_err(Error::io(format!("locking {}", lock_path.display())))?;
    if run(Command::new("id").args(["-u", SSH_USER])).is_ok() {
        return Ok(());
    }
    let shell = require_tool("git-shell")?;
    // `*` as the password hash: no password login, but not locked (a locked account
    // refuses public keys too when PAM is off).
    run(Command::new(require_tool("useradd")?)
        .args([
            "--create-home",
            "--home-dir",
            "/var/lib/sluice-git",
            "--password",
            "*",
        ])
        .arg("--shell")
        .arg(shell)
        .arg(SSH_USER))?;
    Ok(())
}
