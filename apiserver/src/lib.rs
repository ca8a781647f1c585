//! # sluice-apiserver
//!
//! A Kubernetes-API-compatible server with an embedded, durable store: the local control
//! plane for trying Sluice without a cluster and the backend of every controller test.
//! Real `kubectl` and kube-rs talk to it over HTTPS with a bearer token.
//!
//! - [`start`] runs a server (the `sluice-apiserver` binary is a thin wrapper);
//! - [`testing::start`] runs one on a free port in a temporary directory, with CRDs
//!   preloaded, and hands out `kube::Client`s;
//! - [`crd`] validates CustomResourceDefinitions as kube-apiserver does.
//!
//! Inside: [`store`] (write-ahead log, revisions, watch history), [`backend`] (object
//! semantics), the HTTP layer, discovery, tables, patches and server-side apply. Request
//! bodies may be JSON, YAML or Kubernetes protobuf ([`protobuf`], which kubectl's typed
//! clients send); answers are JSON. [`reviews`] and [`tokens`] answer `kubectl auth can-i`,
//! `auth whoami` and `create token`. [`controllers`] runs the garbage collector, namespace
//! deletion and the workload simulator.
//!
//! This crate depends on no other Sluice crate except `patch`.

pub mod apply;
pub mod backend;
pub mod builtin;
pub mod controllers;
pub mod crd;
pub mod custom;
pub mod discovery;
pub mod errors;
pub mod http;
pub mod jsonpath;
pub mod kinds;
pub mod managed;
pub mod namespaces;
pub mod object;
pub mod openapi;
pub mod openapi_v2;
pub mod patch;
pub mod printers;
pub mod protobuf;
pub mod resources;
pub mod reviews;
pub mod route;
pub mod scale;
pub mod selectors;
pub mod store;
pub mod table;
pub mod testing;
pub mod tls;
pub mod tokens;
pub mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinSet;

use crate::backend::{Backend, WriteOptions};
use crate::resources::Registry;
use crate::store::{Store, StoreOptions};

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store, the CA and the token live.
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where to write a kubeconfig for this server, if anywhere.
    pub kubeconfig_out: Option<PathBuf>,
    /// Interval of watch bookmarks.
    pub bookmark_interval: Duration,
    /// Store tunables.
    pub store: StoreOptions,
    /// Whether the built-in controllers (garbage collector, namespace deletion, workload
    /// simulator) run.
    pub controllers: bool,
}

impl Config {
    /// Defaults for a data directory and address.
    pub fn new(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen,
            kubeconfig_out: None,
            bookmark_interval: Duration::from_secs(60),
            store: StoreOptions::default(),
            controllers: true,
        }
    }
}

/// Starting the server failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    OpenStore(#[from] store::StoreError),
    /// Credentials, the listener or the kubeconfig failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The built-in controllers could not be started.
    #[error("cannot start the controllers: {0}")]
    Controllers(#[from] controllers::ControllerError),
    /// A preloaded object was refused.
    #[error("cannot preload {name}: {error}")]
    Preload {
        /// What was being created.
        name: String,
        /// Why it was refused.
        #[source]
        error: errors::ApiError,
    },
}

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    address: SocketAddr,
    kubeconfig: String,
    backend: Arc<Backend>,
    controllers: Option<controllers::Controllers>,
    stop: signal::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    /// A kubeconfig (YAML) for this server, usable by kubectl and kube-rs as is.
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    /// A new kube-rs client for this server.
    ///
    /// # Errors
    /// When the kubeconfig cannot be turned into a client (a bug).
    pub async fn client(&self) -> Result<kube::Client, kube::Error> {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&self.kubeconfig)
            .map_err(kube::Error::InferKubeconfig)?;
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .map_err(kube::Error::InferKubeconfig)?;
        kube::Client::try_from(config)
    }

    /// The object layer, for tests that need to reach below the HTTP API (e.g. to force a
    /// compaction).
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    /// Stops serving and the controllers, and waits until every connection is closed.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Some(controllers) = self.controllers {
            controllers.stop().await;
        }
    }
}

/// The namespaces every cluster has.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Starts a server: opens the store, ensures the credentials and the system namespaces,
/// preloads `objects` (CRDs first), binds `config.listen` and serves until stopped.
///
/// # Errors
/// See [`StartError`].
pub async fn start(config: Config, objects: &[Value]) -> Result<RunningServer, StartError> {
    let store = Store::open(&config.data_dir.join("store"), config.store.clone())?;
    let registry = Arc::new(Registry::with_builtins());
    let backend = Arc::new(Backend::new(store, Arc::clone(&registry)));
    // CRDs stored before a restart are served again.
    if let Some(crd_type) = registry.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    {
        let page = backend
            .store
            .list(&crd_type.key_prefix(None), None, None, 0)?;
        for (_, entry) in page.items {
            if let Ok(crd) = serde_json::from_slice::<Value>(&entry.value) {
                custom::register(&registry, &crd);
            }
        }
    }
    // The controllers (and their node) come first: preloaded pods find a node.
    let controllers = if config.controllers {
        Some(controllers::Controllers::start(Arc::clone(&backend))?)
    } else {
        None
    };

    for namespace in SYSTEM_NAMESPACES {
        ensure(
            &backend,
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        )?;
    }
    let mut ordered: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
        .collect();
    ordered.extend(
        objects
            .iter()
            .filter(|o| o["kind"] != "CustomResourceDefinition"),
    );
    for object in ordered {
        ensure(&backend, object)?;
    }

    let listener = TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    let credentials = tls::load_or_create(&config.data_dir, address.ip())?;
    let tls_config = tls::server_config(&credentials)?;
    let kubeconfig = kubeconfig_yaml(address, &credentials);
    if let Some(path) = &config.kubeconfig_out {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &kubeconfig)?;
    }
    let server = Arc::new(http::Server {
        backend: Arc::clone(&backend),
        token: credentials.token.clone(),
        bookmark_interval: config.bookmark_interval,
    });
    let (stop, stopped) = signal::channel(false);
    let task = tokio::spawn(serve(
        listener,
        tokio_rustls::TlsAcceptor::from(tls_config),
        server,
        stopped,
    ));
    tracing::info!(%address, "serving the Kubernetes API");
    Ok(RunningServer {
        address,
        kubeconfig,
        backend,
        controllers,
        stop,
        task,
    })
}

/// Creates `object` unless an object of that name exists.
fn ensure(backend: &Backend, object: &Value) -> Result<(), StartError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object::name(object).unwrap_or_default().to_owned();
    let describe = || format!("{kind} {name}");
    let rt = backend
        .registry
        .all()
        .into_iter()
        .find(|rt| rt.group == group && rt.version == version && rt.kind == kind)
        .ok_or_else(|| StartError::Preload {
            name: describe(),
            error: errors::ApiError::no_route(kind),
        })?;
    let namespace = rt
        .namespaced
        .then(|| object::namespace(object).unwrap_or("default").to_owned());
    if backend
        .store
        .get(&rt.key(namespace.as_deref(), &name))
        .is_some()
    {
        return Ok(());
    }
    backend
        .create(
            &rt,
            namespace.as_deref(),
            object.clone(),
            &WriteOptions::default(),
        )
        .map(|_| ())
        .map_err(|error| StartError::Preload {
            name: describe(),
            error,
        })
}

async fn serve(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    server: Arc<http::Server>,
    mut stopped: signal::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let server = Arc::clone(&server);
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else { return };
                    let service = hyper::service::service_fn(move |request| {
                        let server = Arc::clone(&server);
                        async move { Ok::<_, std::convert::Infallible>(http::handle(server, request).await) }
                    });
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection(TokioIo::new(tls), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// A kubeconfig for `address` with the CA inline and the bearer token.
fn kubeconfig_yaml(address: SocketAddr, credentials: &tls::Credentials) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(&credentials.ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sluice\n  cluster:\n    server: https://{address}\n    certificate-authority-data: {ca}\nusers:\n- name: sluice-admin\n  user:\n    token: {token}\ncontexts:\n- name: sluice\n  context:\n    cluster: sluice\n    user: sluice-admin\n    namespace: default\ncurrent-context: sluice\npreferences: {{}}\n",
        token = credentials.token
    )
}
