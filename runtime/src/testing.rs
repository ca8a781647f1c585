//! A mocked Kubernetes API for call-sequence tests (tower-test).

use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use tower_test::mock::{self, Handle};

/// The server side of a mocked client: receive each request, answer it.
pub(crate) type ApiServer = Handle<Request<Body>, Response<Body>>;

/// A client whose requests arrive at the returned handle.
pub(crate) fn mock_client() -> (Client, ApiServer) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "default"), handle)
}

/// Receives the next request, asserting its method and path (with query), and returns
/// its JSON body (or null) with the responder.
pub(crate) async fn expect(
    server: &mut ApiServer,
    method: &str,
    path_and_query: &str,
) -> (serde_json::Value, mock::SendResponse<Response<Body>>) {
    let (request, respond) = server.next_request().await.expect("a request was sent");
    assert_eq!(
        request.method().as_str(),
        method,
        "method of {}",
        request.uri()
    );
    let uri = request
        .uri()
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert_eq!(uri, path_and_query);
    let bytes = request
        .into_body()
        .collect_bytes()
        .await
        .expect("request body");
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("JSON body")
    };
    (body, respond)
}

/// A JSON response with `status`.
pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("JSON")))
        .expect("valid response")
}

/// A Kubernetes `Status` error response.
pub(crate) fn status_response(code: u16, reason: &str) -> Response<Body> {
    json_response(
        code,
        &serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": reason, "reason": reason, "code": code
        }),
    )
}
