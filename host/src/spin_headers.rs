//! The `spin-*` request headers Spin gives a component: where the request
//! came from, which route matched and the path below it.
//!
//! Most of their values are known before any request arrives — the route's
//! from the manifest, the listening address's when the server starts, the
//! client's when it connects — so they are made once as header values and
//! each request clones them (a reference count) instead of formatting and
//! validating them again.

use std::net::SocketAddr;

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};

const FULL_URL: HeaderName = HeaderName::from_static("spin-full-url");
const PATH_INFO: HeaderName = HeaderName::from_static("spin-path-info");
const MATCHED_ROUTE: HeaderName = HeaderName::from_static("spin-matched-route");
const COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-component-route");
const RAW_COMPONENT_ROUTE: HeaderName = HeaderName::from_static("spin-raw-component-route");
const BASE_PATH: HeaderName = HeaderName::from_static("spin-base-path");
const CLIENT_ADDR: HeaderName = HeaderName::from_static("spin-client-addr");

/// The headers one route of the manifest gives every request it matches.
#[derive(Debug, Clone)]
pub struct RouteHeaders {
    matched_route: HeaderValue,
    component_route: HeaderValue,
}

impl RouteHeaders {
    /// The values for `route` as the manifest writes it (`/api/v1/reports/...`).
    pub fn new(route: &str) -> Result<Self, http::header::InvalidHeaderValue> {
        Ok(Self {
            matched_route: HeaderValue::from_str(route)?,
            component_route: HeaderValue::from_str(route.trim_end_matches("/..."))?,
        })
    }
}

/// The address the server listens on, as a URI's authority and as the start
/// of `spin-full-url`.
#[derive(Debug, Clone)]
pub struct Origin {
    authority: Authority,
    base: String,
}

impl Origin {
    /// The origin of a server listening on `local`.
    pub fn new(local: SocketAddr) -> Self {
        let base = local.to_string();
        Self {
            authority: base.parse().expect("a socket address is a valid authority"),
            base: format!("http://{base}"),
        }
    }

    /// The URI a component is given: the request's path and query on this
    /// origin, whatever `Host` the client sent, and the same as a
    /// `spin-full-url` value.
    pub fn uri(&self, request: Uri) -> Result<(Uri, HeaderValue), http::Error> {
        let mut parts = request.into_parts();
        let path_and_query = parts
            .path_and_query
            .take()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let mut full = String::with_capacity(self.base.len() + path_and_query.as_str().len());
        full.push_str(&self.base);
        full.push_str(path_and_query.as_str());
        let full = HeaderValue::from_maybe_shared(Bytes::from(full))?;
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Ok((Uri::from_parts(parts)?, full))
    }
}

/// The value of `spin-client-addr` for a client at `client`: made once per connection.
pub fn client_addr(client: SocketAddr) -> HeaderValue {
    HeaderValue::from_maybe_shared(Bytes::from(client.to_string()))
        .expect("a socket address is a valid header value")
}

/// What Spin tells a component about one request.
pub struct Request<'a> {
    /// The headers of the route that matched.
    pub route: &'a RouteHeaders,
    /// The request's URL on the host's origin.
    pub full_url: HeaderValue,
    /// The path below the route's prefix.
    pub path_info: &'a str,
    /// The client's address.
    pub client_addr: HeaderValue,
}

impl Request<'_> {
    /// Replaces any client-sent `spin-*` headers with the host's own, so a
    /// client cannot forge its address or route. A path that is not a valid
    /// header value cannot have reached routing, so `spin-path-info` is
    /// always set.
    pub fn apply(self, headers: &mut HeaderMap) {
        let forged: Vec<HeaderName> = headers
            .keys()
            .filter(|k| k.as_str().starts_with("spin-"))
            .cloned()
            .collect();
        for name in forged {
            headers.remove(name);
        }
        headers.insert(FULL_URL, self.full_url);
        if let Ok(path_info) = HeaderValue::from_str(self.path_info) {
            headers.insert(PATH_INFO, path_info);
        }
        headers.insert(MATCHED_ROUTE, self.route.matched_route.clone());
        headers.insert(COMPONENT_ROUTE, self.route.component_route.clone());
        headers.insert(RAW_COMPONENT_ROUTE, self.route.matched_route.clone());
        headers.insert(BASE_PATH, HeaderValue::from_static("/"));
        headers.insert(CLIENT_ADDR, self.client_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_carries_spins_headers_and_none_the_client_sent() {
        let origin = Origin::new("127.0.0.1:3000".parse().unwrap());
        let (uri, full_url) = origin
            .uri("/api/v1/reports/JD1?x=1".parse().unwrap())
            .unwrap();
        assert_eq!(uri, "http://127.0.0.1:3000/api/v1/reports/JD1?x=1");
        let mut headers = HeaderMap::new();
        headers.insert("spin-path-info", HeaderValue::from_static("/forged"));
        headers.insert("spin-forged", HeaderValue::from_static("x"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        Request {
            route: &RouteHeaders::new("/api/v1/reports/...").unwrap(),
            full_url,
            path_info: "/JD1",
            client_addr: client_addr("10.0.0.1:5".parse().unwrap()),
        }
        .apply(&mut headers);
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(
            get("spin-full-url"),
            Some("http://127.0.0.1:3000/api/v1/reports/JD1?x=1")
        );
        assert_eq!(get("spin-path-info"), Some("/JD1"));
        assert_eq!(get("spin-matched-route"), Some("/api/v1/reports/..."));
        assert_eq!(get("spin-raw-component-route"), Some("/api/v1/reports/..."));
        assert_eq!(get("spin-component-route"), Some("/api/v1/reports"));
        assert_eq!(get("spin-base-path"), Some("/"));
        assert_eq!(get("spin-client-addr"), Some("10.0.0.1:5"));
        assert_eq!(get("spin-forged"), None);
        assert_eq!(get("accept"), Some("*/*"));
    }
}
