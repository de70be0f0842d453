//! Serves the pages people use (`clients/web`: the public's report page and
//! its follow-up) from the component's `files` mount, read-only, the way
//! Spin's own file server serves a manifest's `files`: the same spin.toml
//! runs unchanged on Spin.
//!
//! Only GET and HEAD. A path names a file below the mount by plain segments
//! (letters, digits, `-`, `_`, `.`, never starting with a dot), so no path
//! leaves the mount or reaches a hidden file; a path ending in `/` names that
//! directory's `index.html`. Every answer forbids loading anything from
//! outside the app (`Content-Security-Policy`), and files are revalidated by
//! their `ETag` rather than cached blindly, so a deployment is seen at once.

use bytes::Bytes;
use spin_sdk::http::{FullBody, Method, Request, Response, StatusCode};
use spin_sdk::http_service;

/// Where the manifest mounts the pages (`destination = "/"`).
const MOUNT: &str = "/";

/// Nothing from another origin: no CDN, no web fonts, no frames, no form
/// posted elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

type Reply = Response<FullBody<Bytes>>;

#[http_service]
async fn handle(req: Request) -> Reply {
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut reply = error(StatusCode::METHOD_NOT_ALLOWED, "use GET here");
            reply
                .headers_mut()
                .insert("allow", "GET, HEAD".parse().expect("a valid header"));
            return reply;
        }
    };
    let Some(file) = file_for(req.uri().path()) else {
        return error(StatusCode::NOT_FOUND, "no such page");
    };
    let contents = match std::fs::read(&file) {
        Ok(contents) => contents,
        // A directory named without its trailing `/`, or nothing at all.
        Err(_) => return error(StatusCode::NOT_FOUND, "no such page"),
    };
    let etag = format!("\"{:016x}\"", fnv1a(&contents));
    let unchanged = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag));
    let (status, body) = if unchanged {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else if head {
        (StatusCode::OK, Bytes::new())
    } else {
        (StatusCode::OK, Bytes::from(contents))
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type(&file))
        .header("etag", etag)
        .header("cache-control", "no-cache")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .body(FullBody::new(body))
        .expect("a valid response")
}

/// The file below the mount that `path` names, or `None` when a segment is
/// not a plain name.
fn file_for(path: &str) -> Option<String> {
    let relative = path.strip_prefix('/')?;
    let mut file = String::from(MOUNT);
    for segment in relative.split('/') {
        if segment.is_empty() {
            continue;
        }
        let plain = !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !plain {
            return None;
        }
        if !file.ends_with('/') {
            file.push('/');
        }
        file.push_str(segment);
    }
    if relative.is_empty() || relative.ends_with('/') {
        if !file.ends_with('/') {
            file.push('/');
        }
        file.push_str("index.html");
    }
    Some(file)
}

/// The media type for a file's extension.
fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// FNV-1a (64 bits): a cheap fingerprint for `ETag`, not a security measure.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The API's error shape, so a missing page reads like any other 404.
fn error(status: StatusCode, message: &str) -> Reply {
    let body = format!(r#"{{"errors":[{{"pointer":"","message":"{message}"}}]}}"#);
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .body(FullBody::new(Bytes::from(body)))
        .expect("a valid response")
}
