//! Watch requests: initial state (for `resourceVersion` 0/unset or `sendInitialEvents`),
//! then every change in order, selector-aware (`ADDED`/`DELETED` when an object enters or
//! leaves the selection), with bookmarks, `timeoutSeconds`, and `410 Gone` as an `ERROR`
//! event when the requested revision was compacted.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::backend::ListOptions;
use crate::errors::ApiError;
use crate::http::{Body, Query, Server};
use crate::object;
use crate::resources::ResourceType;
use crate::store::{EventType, StoreError, Watch};
use crate::table;

/// Starts a watch and returns its streaming response.
///
/// # Errors
/// 400 for a malformed resourceVersion or timeout.
pub fn serve(
    server: &Arc<Server>,
    rt: &Arc<ResourceType>,
    namespace: Option<&str>,
    query: &Query,
    options: ListOptions,
    as_table: bool,
) -> Result<Response<Body>, ApiError> {
    let backend = &server.backend;
    let requested = query.get("resourceVersion").unwrap_or_default();
    let send_initial = query.flag("sendInitialEvents");
    let bookmarks = query.flag("allowWatchBookmarks");
    let include = table::Include::parse(query.get("includeObject"))?;
    let timeout = match query.get("timeoutSeconds") {
        Some(text) if !text.is_empty() => Duration::from_secs(
            text.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {text:?}")))?,
        ),
        _ => Duration::from_secs(30 * 60),
    };
    if send_initial && !bookmarks {
        return Err(ApiError::invalid(
            "WatchOptions",
            "meta.k8s.io",
            "",
            vec![crate::errors::Cause::new(
                "FieldValueForbidden",
                "allowWatchBookmarks",
                "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
            )],
        ));
    }
    let from_scratch = requested.is_empty() || requested == "0" || send_initial;
    let (initial, start) = if from_scratch {
        let page = backend.list(
            rt,
            namespace,
            &ListOptions {
                limit: 0,
                continue_token: None,
                ..options.clone()
            },
        )?;
        (page.items, page.revision)
    } else {
        let revision: u64 = requested
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resource version: {requested}")))?;
        (Vec::new(), revision)
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(256);
    match backend.watch(rt, namespace, start) {
        Err(error) if error.code == 410 => {
            let status = ApiError::gone(format!(
                "too old resource version: {start} ({})",
                backend.store.oldest_watchable()
            ))
            .to_status();
            let _ = sender.try_send(frame("ERROR", &status));
        }
        Err(error) => return Err(error),
        Ok(watch) => {
            let task = WatchTask {
                server: Arc::clone(server),
                rt: Arc::clone(rt),
                options,
                as_table,
                include,
                definitions_sent: AtomicBool::new(false),
                bookmarks,
                send_initial,
                timeout,
                sender: sender.clone(),
            };
            tokio::spawn(task.run(initial, start, watch));
        }
    }
    drop(sender);
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), receiver))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// One serialized watch event line.
fn frame(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The event line for an already-serialized object, without re-encoding it.
fn raw_frame(kind: &str, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

struct WatchTask {
    server: Arc<Server>,
    rt: Arc<ResourceType>,
    options: ListOptions,
    as_table: bool,
    /// What table rows carry as their object.
    include: table::Include,
    /// Whether a table with column definitions was sent (later ones go without).
    definitions_sent: AtomicBool,
    bookmarks: bool,
    send_initial: bool,
    timeout: Duration,
    sender: mpsc::Sender<Bytes>,
}

impl WatchTask {
    async fn run(self, initial: Vec<Bytes>, start: u64, mut watch: Watch) {
        for item in &initial {
            if !self.send_presented("ADDED", item).await {
                return;
            }
        }
        if self.send_initial {
            let mut bookmark = self.bookmark(start);
            bookmark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            if self
                .sender
                .send(frame("BOOKMARK", &bookmark))
                .await
                .is_err()
            {
                return;
            }
        }
        let deadline = tokio::time::sleep(self.timeout);
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(self.server.bookmark_interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                () = &mut deadline => return,
                () = self.sender.closed() => return,
                _ = ticker.tick(), if self.bookmarks => {
                    if self.sender.send(frame("BOOKMARK", &self.bookmark(watch.progress()))).await.is_err() {
                        return;
                    }
                }
                next = watch.next() => match next {
                    Ok(event) => {
                        if !self.deliver(&event).await {
                            return;
                        }
                    }
                    Err(StoreError::Lagged | StoreError::Compacted { .. }) => {
                        let status = ApiError::gone("watch fell behind; please relist").to_status();
                        let _ = self.sender.send(frame("ERROR", &status)).await;
                        return;
                    }
                    Err(StoreError::Io(message)) => {
                        let _ = self.sender.send(frame("ERROR", &ApiError::internal(message).to_status())).await;
                        return;
                    }
                },
            }
        }
    }

    fn bookmark(&self, revision: u64) -> Value {
        json!({"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": {"resourceVersion": revision.to_string()}})
    }

    fn filtering(&self) -> bool {
        !self.options.labels.is_empty() || !self.options.fields.is_empty()
    }

    fn matches(&self, bytes: &[u8]) -> bool {
        let Ok(object) = serde_json::from_slice::<Value>(bytes) else {
            return false;
        };
        self.options.labels.matches(&object::labels(&object))
            && self.options.fields.matches(&object)
    }

    async fn deliver(&self, event: &crate::store::Event) -> bool {
        let kind = if self.filtering() {
            let now = self.matches(&event.value);
            let before = event.prev.as_ref().is_some_and(|p| self.matches(p));
            match (event.kind, before, now) {
                (EventType::Added, _, true) => "ADDED",
                (EventType::Modified, true, true) => "MODIFIED",
                (EventType::Modified, false, true) => "ADDED",
                (EventType::Modified, true, false) => "DELETED",
                (EventType::Deleted, b, n) if b || n => "DELETED",
                _ => return true,
            }
        } else {
            match event.kind {
                EventType::Added => "ADDED",
                EventType::Modified => "MODIFIED",
                EventType::Deleted => "DELETED",
            }
        };
        self.send_object(kind, &event.value).await
    }

    async fn send_object(&self, kind: &str, stored: &Bytes) -> bool {
        let line = if self.as_table {
            match self
                .server
                .backend
                .present(&self.rt, stored)
                .map(|object| self.table(&object))
            {
                Ok(table) => frame(kind, &table),
                Err(_) => return true,
            }
        } else {
            match self.server.backend.present(&self.rt, stored) {
                Ok(object) if self.needs_reencode() => frame(kind, &object),
                Ok(_) => raw_frame(kind, stored),
                Err(_) => return true,
            }
        };
        self.sender.send(line).await.is_ok()
    }

    /// Sends an object that is already in the served form (from a list).
    async fn send_presented(&self, kind: &str, presented: &Bytes) -> bool {
        let line = if self.as_table {
            match serde_json::from_slice::<Value>(presented)
                .map_err(|e| ApiError::internal(e.to_string()))
                .map(|o| self.table(&o))
            {
                Ok(table) => frame(kind, &table),
                Err(_) => return true,
            }
        } else {
            raw_frame(kind, presented)
        };
        self.sender.send(line).await.is_ok()
    }

    /// The Table of one object; column definitions go with the first one only.
    fn table(&self, object: &Value) -> Value {
        let first = !self.definitions_sent.swap(true, Ordering::Relaxed);
        table::from_object(&self.rt, object, self.include, first)
    }

    fn needs_reencode(&self) -> bool {
        match &self.rt.codec {
            crate::resources::Codec::Builtin(decoder) => decoder.from_storage.is_some(),
            crate::resources::Codec::Custom(_) => true,
        }
    }
}
