//! Events: a Kubernetes Event (`events.k8s.io/v1`) about the object for every call, and,
//! when `--events-addr` is set, the same event POSTed as JSON to the notification
//! endpoint, fire-and-forget, so a slow or absent notification-controller never blocks a
//! reconcile.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::ObjectReference as CoreObjectReference;
use k8s_openapi::api::events::v1::Event as KubeEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::PostParams;
use kube::{Api, Client, Resource, ResourceExt};
use sluice_api::meta::{
    EVENT_ANNOTATION_PREFIX, Event, EventSeverity, MAX_EVENT_MESSAGE_CHARS, ObjectReference,
};

/// Longest `note` the `events.k8s.io/v1` API accepts.
const MAX_NOTE_BYTES: usize = 1024;

/// How long a POST to the notification endpoint may take.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// Records events for one controller.
#[derive(Clone)]
pub struct EventRecorder {
    client: Client,
    controller: String,
    instance: String,
    notifier: Option<Arc<Notifier>>,
}

impl std::fmt::Debug for EventRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventRecorder")
            .field("controller", &self.controller)
            .field("instance", &self.instance)
            .field(
                "notify",
                &self.notifier.as_ref().map(|n| n.endpoint.as_str()),
            )
            .finish()
    }
}

/// An event to record about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDetails {
    /// `Trace` and `Info` become Kubernetes `Normal` events, `Error` a `Warning`. Trace
    /// events are never sent to the notification endpoint.
    pub severity: EventSeverity,
    /// UpperCamelCase reason, usually a condition reason (`NewArtifact`,
    /// `GitOperationFailed`).
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// Extra data such as `revision` or `digest`; keys are sent prefixed with the object's
    /// API group (`source.toolkit.fluxcd.io/revision`).
    pub metadata: BTreeMap<String, String>,
}

impl EventDetails {
    /// An event with no metadata.
    pub fn new(
        severity: EventSeverity,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            reason: reason.into(),
            message: message.into(),
            metadata: BTreeMap::new(),
        }
    }

    /// Adds a metadata entry (without the group prefix).
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

impl EventRecorder {
    /// A recorder writing events as `controller` (e.g. `source-controller`) from
    /// `instance` (the pod name or hostname), POSTing to `notify_endpoint` when given.
    pub fn new(
        client: Client,
        controller: &str,
        instance: &str,
        notify_endpoint: Option<&str>,
    ) -> Self {
        Self {
            client,
            controller: controller.to_owned(),
            instance: instance.to_owned(),
            notifier: notify_endpoint.map(|endpoint| Arc::new(Notifier::new(endpoint))),
        }
    }

    /// Records `details` about `object`: creates the Kubernetes Event (a failure is logged,
    /// never returned: events are best effort) and, for `Info`/`Error` severities, spawns
    /// the POST to the notification endpoint without waiting for it.
    pub async fn publish<K>(&self, object: &K, details: EventDetails)
    where
        K: Resource<DynamicType = ()>,
    {
        let now = jiff::Timestamp::now();
        let kube_event = self.kube_event(object, &details, now);
        let namespace = kube_event
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let api: Api<KubeEvent> = Api::namespaced(self.client.clone(), &namespace);
        if let Err(error) = api.create(&PostParams::default(), &kube_event).await {
            tracing::warn!(%error, reason = %details.reason, object = %object.name_any(), "could not record event");
        }
        if details.severity == EventSeverity::Trace {
            return;
        }
        if let Some(notifier) = &self.notifier {
            let payload = self.notification(object, &details, now);
            let notifier = Arc::clone(notifier);
            tokio::spawn(async move { notifier.send(&payload).await });
        }
    }

    /// The Kubernetes Event for `details`, named `<object>.<nanoseconds hex>` as client-go
    /// names them, with the metadata in annotations.
    pub fn kube_event<K>(
        &self,
        object: &K,
        details: &EventDetails,
        now: jiff::Timestamp,
    ) -> KubeEvent
    where
        K: Resource<DynamicType = ()>,
    {
        let name = format!("{}.{:x}", object.name_any(), now.as_nanosecond());
        let annotations = prefixed_metadata(object, &details.metadata);
        KubeEvent {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(object.namespace().unwrap_or_else(|| "default".to_owned())),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..Default::default()
            },
            event_time: Some(MicroTime(now)),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            action: Some("Reconcile".to_owned()),
            reason: Some(details.reason.clone()),
            note: Some(truncate(&details.message, MAX_NOTE_BYTES)),
            type_: Some(
                match details.severity {
                    EventSeverity::Error => "Warning",
                    EventSeverity::Trace | EventSeverity::Info => "Normal",
                }
                .to_owned(),
            ),
            regarding: Some(CoreObjectReference {
                api_version: Some(K::api_version(&()).into_owned()),
                kind: Some(K::kind(&()).into_owned()),
                name: object.meta().name.clone(),
                namespace: object.namespace(),
                uid: object.meta().uid.clone(),
                resource_version: object.meta().resource_version.clone(),
                field_path: None,
            }),
            ..Default::default()
        }
    }

    /// The payload POSTed to the notification endpoint for `details`.
    pub fn notification<K>(&self, object: &K, details: &EventDetails, now: jiff::Timestamp) -> Event
    where
        K: Resource<DynamicType = ()>,
    {
        let metadata = prefixed_metadata(object, &details.metadata);
        Event {
            involved_object: ObjectReference {
                kind: Some(K::kind(&()).into_owned()),
                namespace: object.namespace(),
                name: object.meta().name.clone(),
                uid: object.meta().uid.clone(),
                api_version: Some(K::api_version(&()).into_owned()),
                resource_version: object.meta().resource_version.clone(),
                field_path: None,
            },
            severity: details.severity,
            timestamp: Time(now),
            message: details
                .message
                .chars()
                .take(MAX_EVENT_MESSAGE_CHARS)
                .collect(),
            reason: details.reason.clone(),
            metadata: (!metadata.is_empty()).then_some(metadata),
            reporting_controller: self.controller.clone(),
            reporting_instance: Some(self.instance.clone()),
        }
    }
}

/// Event metadata as Flux sends it: each key prefixed with the object's API group, plus the
/// object's `event.toolkit.fluxcd.io/*` annotations copied as they are (RFC-0008).
fn prefixed_metadata<K: Resource<DynamicType = ()>>(
    object: &K,
    metadata: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let group = K::group(&());
    let mut out: BTreeMap<String, String> = metadata
        .iter()
        .map(|(key, value)| {
            let key = if group.is_empty() {
                key.clone()
            } else {
                format!("{group}/{key}")
            };
            (key, value.clone())
        })
        .collect();
    for (key, value) in object.annotations() {
        if key.starts_with(EVENT_ANNOTATION_PREFIX) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// POSTs events to the notification endpoint.
struct Notifier {
    endpoint: String,
    http: HttpClient<HttpConnector, Full<Bytes>>,
}

impl Notifier {
    fn new(endpoint: &str) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            http: HttpClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends one event; failures are logged, never returned.
    async fn send(&self, event: &Event) {
        let outcome = tokio::time::timeout(NOTIFY_TIMEOUT, self.post(event)).await;
        match outcome {
            Ok(Ok(status)) if status.is_success() => {}
            Ok(Ok(status)) => {
                tracing::debug!(%status, endpoint = %self.endpoint, "notification endpoint refused event")
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, endpoint = %self.endpoint, "could not send event")
            }
            Err(_) => tracing::debug!(endpoint = %self.endpoint, "sending event timed out"),
        }
    }

    async fn post(
        &self,
        event: &Event,
    ) -> Result<http::StatusCode, Box<dyn std::error::Error + Send + Sync>> {
        let body = serde_json::to_vec(event)?;
        let request = http::Request::post(&self.endpoint)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))?;
        let response = self.http.request(request).await?;
        Ok(response.status())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{expect, json_response, mock_client};
    use sluice_api::source::v1::{GitRepository, GitRepositorySpec};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn repo() -> GitRepository {
        let mut repo = GitRepository::new("podinfo", GitRepositorySpec::default());
        repo.metadata.namespace = Some("flux-system".into());
        repo.metadata.uid = Some("0b9f-uid".into());
        repo.metadata.resource_version = Some("42".into());
        repo.annotations_mut()
            .insert("event.toolkit.fluxcd.io/team".into(), "platform".into());
        repo
    }

    /// A one-shot HTTP endpoint that hands over the body of the first request it gets.
    async fn capture_one_post() -> (String, tokio::sync::oneshot::Receiver<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = stream.read(&mut chunk).await.unwrap();
                buffer.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buffer).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        stream
                            .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                            .await
                            .unwrap();
                        let _ = tx.send(body.to_owned());
                        return;
                    }
                }
                if n == 0 {
                    return;
                }
            }
        });
        (url, rx)
    }

    #[tokio::test]
    async fn an_event_is_recorded_about_the_object_and_forwarded() {
        let (client, mut server) = mock_client();
        let (url, posted) = capture_one_post().await;
        let recorder = EventRecorder::new(
            client,
            "source-controller",
            "source-controller-7d9",
            Some(&url),
        );
        let api = tokio::spawn(async move {
            let (body, respond) = expect(
                &mut server,
                "POST",
                "/apis/events.k8s.io/v1/namespaces/flux-system/events?",
            )
            .await;
            respond.send_response(json_response(201, &body));
            body
        });
        let details = EventDetails::new(
            EventSeverity::Info,
            "NewArtifact",
            "stored artifact for commit 'abc'",
        )
        .with("revision", "main@sha1:abc");
        recorder.publish(&repo(), details).await;

        let event = api.await.unwrap();
        assert_eq!(event["type"], "Normal");
        assert_eq!(event["reason"], "NewArtifact");
        assert_eq!(event["reportingController"], "source-controller");
        assert_eq!(event["regarding"]["kind"], "GitRepository");
        assert_eq!(event["regarding"]["uid"], "0b9f-uid");
        assert_eq!(
            event["metadata"]["annotations"]["source.toolkit.fluxcd.io/revision"],
            "main@sha1:abc"
        );
        assert!(
            event["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("podinfo.")
        );

        let body = tokio::time::timeout(Duration::from_secs(5), posted)
            .await
            .unwrap()
            .unwrap();
        let sent: Event = serde_json::from_str(&body).unwrap();
        assert_eq!(sent.severity, EventSeverity::Info);
        assert_eq!(sent.involved_object.kind.as_deref(), Some("GitRepository"));
        assert_eq!(sent.reporting_controller, "source-controller");
        let metadata = sent.metadata.unwrap();
        assert_eq!(
            metadata["source.toolkit.fluxcd.io/revision"],
            "main@sha1:abc"
        );
        assert_eq!(metadata["event.toolkit.fluxcd.io/team"], "platform");
    }

    #[tokio::test]
    async fn an_unreachable_notification_endpoint_never_blocks() {
        let (client, mut server) = mock_client();
        // A listener that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", silent.local_addr().unwrap());
        let recorder = EventRecorder::new(client, "kustomize-controller", "x", Some(&url));
        let api = tokio::spawn(async move {
            let (body, respond) = expect(
                &mut server,
                "POST",
                "/apis/events.k8s.io/v1/namespaces/flux-system/events?",
            )
            .await;
            respond.send_response(json_response(201, &body));
        });
        let started = std::time::Instant::now();
        recorder
            .publish(
                &repo(),
                EventDetails::new(
                    EventSeverity::Error,
                    "BuildFailed",
                    "kustomize build failed",
                ),
            )
            .await;
        assert!(started.elapsed() < Duration::from_secs(2));
        api.await.unwrap();
    }

    #[tokio::test]
    async fn warnings_are_errors_and_long_notes_are_cut_to_the_api_limit() {
        let (client, _server) = mock_client();
        let recorder = EventRecorder::new(client, "helm-controller", "x", None);
        let details = EventDetails::new(EventSeverity::Error, "UpgradeFailed", "é".repeat(2000));
        let event = recorder.kube_event(&repo(), &details, jiff::Timestamp::UNIX_EPOCH);
        assert_eq!(event.type_.as_deref(), Some("Warning"));
        assert!(event.note.unwrap().len() <= MAX_NOTE_BYTES);
    }

    #[tokio::test]
    async fn trace_events_stay_in_kubernetes() {
        let (client, mut server) = mock_client();
        let (url, posted) = capture_one_post().await;
        let recorder = EventRecorder::new(client, "source-controller", "x", Some(&url));
        let api = tokio::spawn(async move {
            let (body, respond) = expect(
                &mut server,
                "POST",
                "/apis/events.k8s.io/v1/namespaces/flux-system/events?",
            )
            .await;
            respond.send_response(json_response(201, &body));
        });
        recorder
            .publish(
                &repo(),
                EventDetails::new(
                    EventSeverity::Trace,
                    "ArtifactUpToDate",
                    "artifact up-to-date",
                ),
            )
            .await;
        api.await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), posted)
                .await
                .is_err()
        );
    }
}
