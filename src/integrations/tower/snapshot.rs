//! The request as it came in: cheap clones on the way in, turned into a
//! [`RequestInfo`] only when something fails.

use std::net::IpAddr;

use http::{HeaderName, HeaderValue, Method, Request, Uri, header};

use super::body::BodySnapshot;
use super::layer::Config;
use super::overrides::Overrides;
use crate::capture::{RawText, RequestInfo};
use crate::mail::NotFound;

/// What the layer keeps of a request while the handler runs.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    /// The headers in order (a list, cheaper to copy than a `HeaderMap`; the values are
    /// shared with the request's, not copied).
    headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) remote_addr: Option<IpAddr>,
    #[cfg(feature = "axum")]
    matched: Option<axum::extract::MatchedPath>,
    pub(crate) user: Option<String>,
    pub(crate) body: BodySnapshot,
}

impl Snapshot {
    pub(crate) fn take<B>(request: &Request<B>, config: &Config) -> Self {
        let extensions = request.extensions();
        #[cfg(feature = "axum")]
        let uri = extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| request.uri().clone(), |original| original.0.clone());
        #[cfg(not(feature = "axum"))]
        let uri = request.uri().clone();
        #[cfg(feature = "axum")]
        let connected = extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        #[cfg(not(feature = "axum"))]
        let connected = None;
        let remote_addr = connected.or_else(|| {
            extensions
                .get::<std::net::SocketAddr>()
                .map(std::net::SocketAddr::ip)
        });
        Self {
            method: request.method().clone(),
            uri,
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
            remote_addr,
            #[cfg(feature = "axum")]
            matched: extensions.get::<axum::extract::MatchedPath>().cloned(),
            user: config.user.and_then(|user| user(extensions)),
            body: BodySnapshot::Empty,
        }
    }

    /// The matched route, when the router said.
    pub(crate) fn route(&self) -> Option<&str> {
        #[cfg(feature = "axum")]
        if let Some(matched) = &self.matched {
            return Some(matched.as_str());
        }
        None
    }

    /// The path, for log messages (`Internal Server Error: /path`).
    pub(crate) fn path(&self) -> &str {
        self.uri.path()
    }

    /// The first header with this name.
    fn header(&self, name: HeaderName) -> Option<&HeaderValue> {
        self.headers
            .iter()
            .find(|(header, _)| *header == name)
            .map(|(_, value)| value)
    }

    pub(crate) fn accept(&self) -> Option<&str> {
        self.header(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
    }

    /// The host as the client sent it (with the port), as text safe to put in a URL.
    fn host(&self) -> Option<String> {
        let raw = match self.uri.authority() {
            Some(authority) => authority.as_str().as_bytes(),
            None => self.header(header::HOST)?.as_bytes(),
        };
        Some(url_safe_host(raw))
    }

    /// The full URL: scheme, host, path and query as received.
    pub(crate) fn url(&self) -> String {
        let scheme = self.uri.scheme_str().unwrap_or("http");
        let host = self.host().unwrap_or_default();
        let path = self
            .uri
            .path_and_query()
            .map_or("/", |path_and_query| path_and_query.as_str());
        format!("{scheme}://{host}{path}")
    }

    /// The request as a report shows it, with the route's and handler's settings.
    pub(crate) fn request_info(&self, overrides: &Overrides, route: Option<&str>) -> RequestInfo {
        let mut info = RequestInfo::new(self.method.as_str(), self.url());
        let mut sensitive_headers = Vec::new();
        info.headers = self
            .headers
            .iter()
            .map(|(name, value)| {
                if value.is_sensitive() {
                    sensitive_headers.push(name.as_str().to_owned());
                }
                (name.as_str().to_owned(), RawText(value.as_bytes().to_vec()))
            })
            .collect();
        info.sensitive_headers = sensitive_headers;
        match &self.body {
            BodySnapshot::Empty => {}
            BodySnapshot::Buffered(bytes) => info.body = Some(RawText(bytes.to_vec())),
            BodySnapshot::Omitted(omitted) => {
                info.body_omitted = Some(omitted.note(self.header(header::CONTENT_TYPE)));
            }
        }
        info.remote_addr = self.remote_addr.map(|addr| addr.to_string());
        info.user = overrides.user.clone().or_else(|| self.user.clone());
        info.route = route.map(str::to_owned);
        info.sensitive_post_parameters = overrides.sensitive_post_parameters.clone();
        info
    }

    /// The 404 as the broken-link rules see it; `None` without a host.
    pub(crate) fn not_found(&self) -> Option<NotFound> {
        let text = |value: &HeaderValue| String::from_utf8_lossy(value.as_bytes()).into_owned();
        let path = self
            .uri
            .path_and_query()
            .map_or("/", |path_and_query| path_and_query.as_str());
        let mut link = NotFound::new(self.host()?, path);
        if let Some(referer) = self.header(header::REFERER) {
            link = link.referer(text(referer));
        }
        if let Some(agent) = self.header(header::USER_AGENT) {
            link = link.user_agent(text(agent));
        }
        if let Some(addr) = self.remote_addr {
            link = link.remote_addr(addr.to_string());
        }
        Some(link)
    }
}

/// A host as sent by the client, with every byte that has no place in a host
/// percent-encoded, so that a hostile `Host` header cannot change where the path starts.
fn url_safe_host(raw: &[u8]) -> String {
    let mut host = String::with_capacity(raw.len());
    for &byte in raw {
        if byte.is_ascii_alphanumeric() || b".-_:[]".contains(&byte) {
            host.push(char::from(byte));
        } else {
            host.push_str(&format!("%{byte:02X}"));
        }
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_hosts_cannot_move_the_path() {
        assert_eq!(
            url_safe_host(b"shop.example.com:8080"),
            "shop.example.com:8080"
        );
        assert_eq!(url_safe_host(b"evil.com/x?y"), "evil.com%2Fx%3Fy");
        assert_eq!(url_safe_host(b"a\xffb c"), "a%FFb%20c");
        assert_eq!(url_safe_host(b"[::1]:80"), "[::1]:80");
    }
}
