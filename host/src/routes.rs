//! HTTP route matching with Spin's rules: an exact route (`/healthz`), a
//! wildcard route (`/api/v1/reports/...`, which also matches the prefix itself),
//! and the catch-all `/...`. The most specific match wins: exact before
//! wildcard, a longer wildcard prefix before a shorter one.

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Matches exactly this path.
    Exact(String),
    /// Matches this prefix and everything below it (`prefix/...`).
    Wildcard(String),
}

impl Route {
    /// Parses a `route` value from `[[trigger.http]]`.
    pub fn parse(route: &str) -> Result<Self, String> {
        if !route.starts_with('/') {
            return Err(format!("route `{route}` must start with `/`"));
        }
        if let Some(prefix) = route.strip_suffix("/...") {
            if prefix.contains("...") {
                return Err(format!("route `{route}` may use `...` only at its end"));
            }
            return Ok(Self::Wildcard(prefix.to_owned()));
        }
        if route.contains("...") {
            return Err(format!(
                "route `{route}` may use `...` only as a final `/...` segment"
            ));
        }
        let trimmed = route.trim_end_matches('/');
        Ok(Self::Exact(if trimmed.is_empty() {
            "/".into()
        } else {
            trimmed.into()
        }))
    }

    /// If the route matches `path`, the part of the path after the route's
    /// prefix (Spin's `spin-path-info`), else `None`.
    pub fn matches<'p>(&self, path: &'p str) -> Option<&'p str> {
        match self {
            Self::Exact(exact) => {
                let path_trimmed = path.trim_end_matches('/');
                let path_trimmed = if path_trimmed.is_empty() {
                    "/"
                } else {
                    path_trimmed
                };
                (path_trimmed == exact).then_some("")
            }
            Self::Wildcard(prefix) => {
                let rest = path.strip_prefix(prefix.as_str())?;
                (rest.is_empty() || rest.starts_with('/')).then_some(rest)
            }
        }
    }

    /// Higher is more specific.
    fn specificity(&self) -> (u8, usize) {
        match self {
            Self::Exact(p) => (1, p.len()),
            Self::Wildcard(p) => (0, p.len()),
        }
    }
}

/// A routing table: routes and the component each leads to.
#[derive(Debug, Clone)]
pub struct Router<T> {
    routes: Vec<(Route, String, T)>,
}

/// A successful match.
#[derive(Debug)]
pub struct Match<'r, 'p, T> {
    /// The route as written in the manifest.
    pub route: &'r str,
    /// What the route leads to.
    pub target: &'r T,
    /// The path after the route's prefix.
    pub path_info: &'p str,
}

impl<T> Router<T> {
    /// Builds a router; two triggers with the same route are an error.
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> Result<Self, String> {
        let mut routes: Vec<(Route, String, T)> = Vec::new();
        for (text, target) in entries {
            let route = Route::parse(&text)?;
            if let Some((_, other, _)) = routes.iter().find(|(r, _, _)| *r == route) {
                return Err(format!(
                    "routes `{other}` and `{text}` are the same; remove one of the triggers"
                ));
            }
            routes.push((route, text, target));
        }
        routes.sort_by_key(|(r, _, _)| std::cmp::Reverse(r.specificity()));
        Ok(Self { routes })
    }

    /// One line per route, most specific first: `route -> target`.
    pub fn describe(&self) -> Vec<String>
    where
        T: std::fmt::Display,
    {
        self.routes
            .iter()
            .map(|(_, text, target)| format!("{text} -> {target}"))
            .collect()
    }

    /// The most specific route that matches `path`.
    pub fn route<'r, 'p>(&'r self, path: &'p str) -> Option<Match<'r, 'p, T>> {
        self.routes.iter().find_map(|(route, text, target)| {
            route.matches(path).map(|path_info| Match {
                route: text,
                target,
                path_info,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router<&'static str> {
        Router::new([
            ("/...".to_string(), "fallback"),
            ("/api/v1/reports/...".to_string(), "intake"),
            ("/api/v1/reports/stats".to_string(), "stats"),
            ("/api/...".to_string(), "api"),
        ])
        .unwrap()
    }

    #[test]
    fn most_specific_route_wins() {
        let cases = [
            ("/api/v1/reports", "intake", ""),
            ("/api/v1/reports/", "intake", "/"),
            ("/api/v1/reports/JD123", "intake", "/JD123"),
            ("/api/v1/reports/stats", "stats", ""),
            ("/api/v1/reportsx", "api", "/v1/reportsx"),
            ("/api/v2", "api", "/v2"),
            ("/", "fallback", "/"),
            ("/other", "fallback", "/other"),
        ];
        let r = router();
        for (path, target, info) in cases {
            let m = r.route(path).unwrap_or_else(|| panic!("{path} unmatched"));
            assert_eq!((*m.target, m.path_info), (target, info), "{path}");
        }
    }

    #[test]
    fn exact_route_does_not_match_below_it() {
        let r = Router::new([("/healthz".to_string(), ())]).unwrap();
        assert!(r.route("/healthz").is_some());
        assert!(r.route("/healthz/x").is_none());
        assert!(r.route("/health").is_none());
    }

    #[test]
    fn duplicate_and_malformed_routes_are_refused() {
        assert!(Router::new([("/a/...".to_string(), ()), ("/a/...".to_string(), ())]).is_err());
        assert!(Route::parse("a").is_err());
        assert!(Route::parse("/a/.../b").is_err());
    }
}
