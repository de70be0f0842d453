//! Outbound connections: a component may reach only the hosts its manifest
//! lists in `allowed_outbound_hosts`. An HTTP request to any other is
//! refused with `HttpRequestDenied`, a PostgreSQL connection with
//! `connection-failed`, before any connection is made.

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

/// One entry of `allowed_outbound_hosts`: `scheme://host[:port]`, where the
/// scheme, host and port may each be `*` and a host may be `*.domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: HostPattern,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(String),
    Subdomain(String),
}

impl AllowedHost {
    /// Parses one entry.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "allowed_outbound_hosts entry `{text}` {why}; write it as `scheme://host[:port]`, e.g. `https://api.example.com` or `http://127.0.0.1:8080`"
            ))
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return bad("has no scheme");
        };
        let scheme = match scheme {
            "*" => None,
            "http" | "https" | "postgres" => Some(scheme.to_owned()),
            _ => return bad("has a scheme other than http, https, postgres or *"),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            return bad("has a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, "*")) => (h, None),
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) => (h, Some(p)),
                Err(_) => return bad("has an invalid port"),
            },
            None => (
                rest,
                match scheme.as_deref() {
                    Some("http") => Some(80),
                    Some("https") => Some(443),
                    Some("postgres") => Some(5432),
                    _ => None,
                },
            ),
        };
        let host = match host {
            "" => return bad("has no host"),
            "*" => HostPattern::Any,
            h => match h.strip_prefix("*.") {
                Some(domain) => HostPattern::Subdomain(domain.to_ascii_lowercase()),
                None if h.contains('*') => return bad("uses `*` inside a host name"),
                None => HostPattern::Exact(h.to_ascii_lowercase()),
            },
        };
        Ok(Self { scheme, host, port })
    }

    /// Whether a request to `scheme://host:port` is allowed by this entry.
    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.port.is_none_or(|p| p == port)
            && match &self.host {
                HostPattern::Any => true,
                HostPattern::Exact(h) => *h == host,
                HostPattern::Subdomain(d) => host
                    .strip_suffix(d.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.')),
            }
    }
}

/// The `wasi:http` hooks for one component: outbound requests are checked
/// against its allow-list.
#[derive(Clone, Default)]
pub struct OutboundPolicy {
    allowed: Arc<[AllowedHost]>,
}

impl OutboundPolicy {
    /// Builds the policy from a component's `allowed_outbound_hosts`.
    pub fn new(entries: &[String]) -> Result<Self, String> {
        let allowed = entries
            .iter()
            .map(|e| AllowedHost::parse(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            allowed: allowed.into(),
        })
    }

    /// Whether a connection to `scheme://host:port` is allowed.
    pub fn allows_address(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.allowed.iter().any(|a| a.allows(scheme, host, port))
    }

    fn allows(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else { return false };
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        self.allowed.iter().any(|a| a.allows(scheme, host, port))
    }
}

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), Error>> + Send>,
                    ),
                    Error,
                >,
            > + Send,
    > {
        drop(fut);
        if !self.allows(request.uri()) {
            tracing::warn!(uri = %request.uri(), "outbound request refused: host not in allowed_outbound_hosts");
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_scheme_host_and_port() {
        let cases = [
            ("http://127.0.0.1:8080", "http", "127.0.0.1", 8080, true),
            ("http://127.0.0.1:8080", "http", "127.0.0.1", 8081, false),
            ("http://127.0.0.1:8080", "https", "127.0.0.1", 8080, false),
            (
                "https://api.example.com",
                "https",
                "API.example.com",
                443,
                true,
            ),
            (
                "https://api.example.com",
                "https",
                "api.example.com",
                8443,
                false,
            ),
            ("*://*.example.com:*", "http", "a.example.com", 1, true),
            ("*://*.example.com:*", "http", "badexample.com", 1, false),
            ("https://*", "https", "anything", 443, true),
            ("postgres://127.0.0.1", "postgres", "127.0.0.1", 5432, true),
            (
                "postgres://127.0.0.1:5432",
                "postgres",
                "127.0.0.1",
                5433,
                false,
            ),
            (
                "postgres://127.0.0.1:5432",
                "http",
                "127.0.0.1",
                5432,
                false,
            ),
            ("https://db.example", "postgres", "db.example", 443, false),
        ];
        for (entry, scheme, host, port, expected) in cases {
            let a = AllowedHost::parse(entry).unwrap();
            assert_eq!(
                a.allows(scheme, host, port),
                expected,
                "{entry} vs {scheme}://{host}:{port}"
            );
        }
    }

    #[test]
    fn malformed_entries_say_how_to_fix_them() {
        for entry in [
            "example.com",
            "ftp://x",
            "http://x/path",
            "http://x:port",
            "http://a*b",
        ] {
            let err = AllowedHost::parse(entry).unwrap_err();
            assert!(err.contains("scheme://host"), "{err}");
        }
    }
}
