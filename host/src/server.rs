//! The HTTP server: accepts connections, routes each request to its
//! component, enforces the body limit, turns guest failures into JSON 500s,
//! and writes one access-log line per request.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::app::App;
use crate::log::AccessLine;
use crate::spin_headers::{self, Origin};

/// Whatever failed while a body was read or written.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A request's or an answer's body.
pub(crate) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let origin = Arc::new(Origin::new(listener.local_addr()?));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // At most this many connections are served at once; the next client
    // waits in the listen backlog until one closes.
    let connections = Arc::new(tokio::sync::Semaphore::new(app.limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(app.limits.header_timeout);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Without TCP_NODELAY every response waits ~40 ms for delayed ACKs.
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let origin = origin.clone();
        let client_addr = spin_headers::client_addr(client);
        let service = hyper::service::service_fn(move |req| {
            let app = app.clone();
            let origin = origin.clone();
            let client_addr = client_addr.clone();
            async move { Ok::<_, Infallible>(handle(&app, req, &origin, client_addr).await) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection from {client} ended: {e}");
            }
            drop(permit);
        });
    }
    app.shutting_down
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!("shutting down; waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("in-flight requests did not finish within 10 s");
        }
    }
    Ok(())
}

async fn handle(
    app: &App,
    req: Request<Incoming>,
    origin: &Origin,
    client_addr: HeaderValue,
) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = new_request_id();
    let (mut response, route, component) =
        route(app, req, &path, origin, client_addr, &request_id).await;
    secure(response.headers_mut());
    AccessLine {
        request_id: request_id.to_str().unwrap_or("-"),
        method: method.as_str(),
        path: &path,
        route: route.unwrap_or("-"),
        component: component.unwrap_or("-"),
        status: response.status().as_u16(),
        us: started.elapsed().as_micros() as u64,
    }
    .write(app.log.as_ref());
    response.headers_mut().insert(REQUEST_ID, request_id);
    response
}

/// Headers every answer carries: nothing a reporter or staff member is told
/// is stored by a cache (unless the component says it may be, as the API
/// description does), sniffed into another type, framed or referred on.
fn secure(headers: &mut http::HeaderMap) {
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The header that names a request in the access log, the audit log and the answer.
const REQUEST_ID: &str = "x-request-id";

/// A fresh request id: 24 hex digits, unique across hosts — a random
/// prefix chosen once per process, then a counter — so no request pays for
/// a system call to get one. A client's own `x-request-id` is replaced, so
/// an audit entry's request id is always the host's.
fn new_request_id() -> HeaderValue {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: LazyLock<u64> = LazyLock::new(|| {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the OS provides randomness");
        u64::from_le_bytes(bytes) & 0xffff_ffff_ffff
    });
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff_ffff;
    // Each half: 12 hex digits of a 48-bit number, most significant first.
    let hex = |word: u64, digits: &mut [u8]| {
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = b"0123456789abcdef"[((word >> (44 - 4 * i)) & 0xf) as usize];
        }
    };
    let mut id = [0u8; 24];
    let (prefix, counter) = id.split_at_mut(12);
    hex(*PREFIX, prefix);
    hex(n, counter);
    HeaderValue::from_bytes(&id).expect("hex digits are a valid header value")
}

/// Routes a request and runs it: the answer, and the route and component
/// that served it (for the access log).
async fn route<'a>(
    app: &'a App,
    req: Request<Incoming>,
    path: &str,
    origin: &Origin,
    client_addr: HeaderValue,
    request_id: &HeaderValue,
) -> (Response<Body>, Option<&'a str>, Option<&'a str>) {
    if path == "/healthz" {
        return (
            json(StatusCode::OK, r#"{"status":"ok"}"#.into()),
            Some("/healthz"),
            None,
        );
    }
    if path == crate::dev_sign_in::PATH
        && let Some(dev) = &app.dev_sign_in
    {
        let method = req.method().clone();
        let body = Limited::new(req.into_body(), 4096)
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let (status, answer) = dev.answer(&method, &body, now).await;
        return (
            json(status, answer.to_string()),
            Some(crate::dev_sign_in::PATH),
            None,
        );
    }
    let Some(matched) = app.router.route(path) else {
        return (
            error(StatusCode::NOT_FOUND, &format!("no route matches {path}")),
            None,
            None,
        );
    };
    let route = Some(matched.route);
    let served = &matched.target.served;
    let component = Some(&*served.id);
    let path_info = matched.path_info;

    let (mut parts, body) = req.into_parts();
    let limit = app.limits.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return (too_large(limit), route, component);
    }
    // A request without a body (most GETs) arms no timer to read one.
    let collected = if body.is_end_stream() {
        Ok(Ok(http_body_util::Collected::default()))
    } else {
        tokio::time::timeout(app.limits.body_timeout, Limited::new(body, limit).collect()).await
    };
    let body = match collected {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return (too_large(limit), route, component);
        }
        Err(_) => {
            let seconds = app.limits.body_timeout.as_secs_f64();
            return (
                error(
                    StatusCode::REQUEST_TIMEOUT,
                    &format!("the request body did not arrive within {seconds} s"),
                ),
                route,
                component,
            );
        }
        Ok(Err(e)) => {
            return (
                error(
                    StatusCode::BAD_REQUEST,
                    &format!("could not read the request body: {e}"),
                ),
                route,
                component,
            );
        }
    };

    // The guest's URI comes from the request path and the address the host
    // listens on, never from the client's Host header.
    let (uri, full_url) = match origin.uri(std::mem::take(&mut parts.uri)) {
        Ok(pair) => pair,
        Err(_) => {
            return (
                error(StatusCode::BAD_REQUEST, "the request's path is invalid"),
                route,
                component,
            );
        }
    };
    parts.uri = uri;
    parts.headers.insert(REQUEST_ID, request_id.clone());
    spin_headers::Request {
        route: &matched.target.headers,
        full_url,
        path_info,
        client_addr,
    }
    .apply(&mut parts.headers);
    let request = Request::from_parts(
        parts,
        Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );

    let response = match served.handler.handle((), request).await {
        Ok(response) => {
            let response = response.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync());
            crate::whole_body::gather(response).await
        }
        Err(e) => {
            let cause = if e.is::<wasmtime_wasi_http::handler::ExpirationError>() {
                "timed out"
            } else if e.is::<wasmtime_wasi_http::handler::TrapOrPanicError>() {
                "trapped"
            } else {
                "failed"
            };
            tracing::warn!(component = %served.id, "request {cause}: {e:#}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!(
                    "the component handling this request {cause}; the request was not completed"
                ),
            )
        }
    };
    (response, route, component)
}

fn too_large(limit: usize) -> Response<Body> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is larger than {limit} bytes"),
    )
}

/// A JSON error body in the API's shape: `{"errors":[{"pointer":"","message":...}]}`.
fn error(status: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "errors": [{ "pointer": "", "message": message }] });
    json(status, body.to_string())
}

fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_share_the_process_prefix_and_count_up() {
        let first = new_request_id();
        let second = new_request_id();
        let (first, second) = (first.to_str().unwrap(), second.to_str().unwrap());
        for id in [first, second] {
            assert_eq!(id.len(), 24, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        assert_eq!(first[..12], second[..12]);
        let counter = |id: &str| u64::from_str_radix(&id[12..], 16).unwrap();
        assert!(counter(second) > counter(first), "{first} then {second}");
    }
}
