//! Broken-link reports (Django's `BrokenLinkEmailsMiddleware`), framework-independent: hand
//! every 404 to [`BrokenLinkReporter::not_found`].
//!
//! A 404 is mailed to the managers unless one of these rules applies, in order (Django's
//! `is_ignorable_request`):
//! 1. there is no `Referer` (typed URLs, most bots);
//! 2. with `append_slash`, the path ends in `/` and the referer is the same path (or URL on
//!    this domain) without it: the redirect `APPEND_SLASH` made;
//! 3. the referer is external and has a query string (a search engine);
//! 4. the referer, on this domain or without a domain, is the requested path with its query
//!    string (a bot that sends the URL as its own referer). Django compares the referer's
//!    path with the path *and* query, so it never matches a URL with a query string; this
//!    compares both parts;
//! 5. an ignorable URL pattern matches anywhere in the path (Django's `IGNORABLE_404_URLS`);
//!
//! and, beyond Django, when an ignorable user-agent pattern matches (crawlers). The subject
//! is `{prefix}Broken [INTERNAL ]link on {domain}` (internal: the referer is on this
//! domain); the body has `Referrer`, `Requested URL`, `User agent` and `IP address`, the
//! URLs through the filter (tokens in query strings are hidden). Repeats of a link are
//! counted into digests like repeated errors.
//!
//! ```
//! use std::time::Duration;
//! use safe_report::mail::{BrokenLinkReporter, BrokenLinkRules, MailConfig, Mailer, MemoryBackend, NotFound, Outcome};
//!
//! let outbox = MemoryBackend::new();
//! let config = MailConfig::builder().managers(["web@example.com"]).build()?;
//! let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
//! let reporter = BrokenLinkReporter::new(mailer.clone())
//!     .rules(BrokenLinkRules::new().ignorable_url(r"\.php$")?.ignorable_user_agent("(?i)bot")?);
//!
//! let link = NotFound::new("shop.example.com", "/old-page")
//!     .referer("https://shop.example.com/")
//!     .user_agent("Mozilla/5.0")
//!     .remote_addr("203.0.113.9");
//! assert_eq!(reporter.not_found(link), Outcome::Queued);
//! assert_eq!(reporter.not_found(NotFound::new("shop.example.com", "/wp-login.php")
//!     .referer("https://shop.example.com/")), Outcome::Ignored);
//! assert!(mailer.flush(Duration::from_secs(5)));
//! let email = &outbox.messages()[0];
//! assert_eq!(email.subject(), "[safe-report] Broken INTERNAL link on shop.example.com");
//! assert_eq!(email.text(), "Referrer: https://shop.example.com/\nRequested URL: /old-page\n\
//!                           User agent: Mozilla/5.0\nIP address: 203.0.113.9\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use regex::Regex;

use super::config::ConfigError;
use super::flood::Fingerprint;
use super::message::Email;
use super::queue::{Audience, Composed, Mailer, Outcome};
use crate::filter::{FilterContext, ReporterFilter, SafeReporterFilter, TextKind};
use crate::model::Level;
use crate::model::redacted::ByteLen;
use crate::model::{Capture, RequestInfo};

/// A request that ended in 404, as the broken-link rules see it. `Debug` shows the domain
/// and the sizes of the rest (the path's query string, the referer and the client address
/// may hold secrets or personal data).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotFound {
    /// The host, with the port when it is not the default (Django's `get_host()`).
    pub domain: String,
    /// The path with its query string (Django's `get_full_path()`).
    pub path: String,
    /// The `Referer` header.
    pub referer: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The client address.
    pub remote_addr: Option<String>,
}

impl std::fmt::Debug for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotFound")
            .field("domain", &self.domain)
            .field("path", &ByteLen(self.path.len()))
            .field("referer", &ByteLen::of(self.referer.as_deref()))
            .field("user_agent", &ByteLen::of(self.user_agent.as_deref()))
            .field("remote_addr", &ByteLen::of(self.remote_addr.as_deref()))
            .finish()
    }
}

impl NotFound {
    /// A 404 for `path` (with its query string) on `domain`.
    pub fn new(domain: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// Sets the referer.
    #[must_use]
    pub fn referer(mut self, referer: impl Into<String>) -> Self {
        self.referer = Some(referer.into());
        self
    }

    /// Sets the user agent.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets the client address.
    #[must_use]
    pub fn remote_addr(mut self, addr: impl Into<String>) -> Self {
        self.remote_addr = Some(addr.into());
        self
    }

    /// The 404 of a captured request: domain and path from its URL, the `Referer` and
    /// `User-Agent` headers, the client address. `None` when the URL has no host.
    ///
    /// ```
    /// use safe_report::RequestInfo;
    /// use safe_report::mail::NotFound;
    ///
    /// let request = RequestInfo::new("GET", "https://shop.example.com:8443/a?b=1")
    ///     .header("Referer", "https://google.com/?q=x");
    /// let link = NotFound::from_request(&request).unwrap();
    /// assert_eq!((link.domain.as_str(), link.path.as_str()), ("shop.example.com:8443", "/a?b=1"));
    /// ```
    pub fn from_request(request: &RequestInfo) -> Option<Self> {
        let url = url::Url::parse(&request.url).ok()?;
        let host = url.host_str()?;
        let domain = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let header = |name: &str| {
            request
                .header_value(name)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        };
        Some(Self {
            domain,
            path,
            referer: header("Referer"),
            user_agent: header("User-Agent"),
            remote_addr: request.remote_addr.clone(),
        })
    }
}

/// Which 404s are not worth a mail (Django's `is_ignorable_request`, its query-string bug
/// fixed, plus crawler user agents).
///
/// ```
/// use safe_report::mail::{BrokenLinkRules, NotFound};
///
/// let rules = BrokenLinkRules::new();
/// // No referer: ignored.
/// assert!(rules.is_ignorable(&NotFound::new("example.com", "/x")));
/// // A bot that sends the URL, query string included, as its referer: ignored.
/// assert!(rules.is_ignorable(&NotFound::new("example.com", "/x?page=2")
///     .referer("http://example.com/x?page=2")));
/// // A link from another page on the site: reported.
/// assert!(!rules.is_ignorable(&NotFound::new("example.com", "/x").referer("http://example.com/")));
/// ```
#[derive(Debug, Clone)]
pub struct BrokenLinkRules {
    ignorable_urls: Vec<Regex>,
    ignorable_user_agents: Vec<Regex>,
    append_slash: bool,
}

impl Default for BrokenLinkRules {
    fn default() -> Self {
        Self {
            ignorable_urls: Vec::new(),
            ignorable_user_agents: Vec::new(),
            append_slash: true,
        }
    }
}

impl BrokenLinkRules {
    /// Django's rules: `APPEND_SLASH` on, no patterns.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ignores paths this pattern matches anywhere (Django's `IGNORABLE_404_URLS`).
    pub fn ignorable_url(mut self, pattern: &str) -> Result<Self, ConfigError> {
        self.ignorable_urls.push(compile("ignorable_url", pattern)?);
        Ok(self)
    }

    /// Ignores requests whose `User-Agent` this pattern matches anywhere.
    pub fn ignorable_user_agent(mut self, pattern: &str) -> Result<Self, ConfigError> {
        self.ignorable_user_agents
            .push(compile("ignorable_user_agent", pattern)?);
        Ok(self)
    }

    /// Whether the service redirects `/path` to `/path/` (Django's `APPEND_SLASH`, on by
    /// default).
    #[must_use]
    pub fn append_slash(mut self, append_slash: bool) -> Self {
        self.append_slash = append_slash;
        self
    }

    /// Whether the 404 is not worth a mail.
    pub fn is_ignorable(&self, link: &NotFound) -> bool {
        let uri = link.path.as_str();
        let domain = link.domain.as_str();
        let referer = link.referer.as_deref().unwrap_or("");
        // 1. No referer.
        if referer.is_empty() {
            return true;
        }
        let (referer_host, referer_path) = split_referer(referer);
        let same_site = referer_host.is_none_or(|host| host == domain);
        // 2. The redirect APPEND_SLASH made.
        if self.append_slash
            && let Some(without_slash) = uri.strip_suffix('/')
            && (referer == without_slash || (same_site && referer_path == without_slash))
        {
            return true;
        }
        // 3. An external referer with a query string: a search engine.
        if !is_internal_request(domain, referer) && referer.contains('?') {
            return true;
        }
        // 4. The referer is the requested URL (path and query string).
        if same_site && referer_path == uri {
            return true;
        }
        // 5. Ignorable URLs, then (beyond Django) crawlers.
        if self
            .ignorable_urls
            .iter()
            .any(|pattern| pattern.is_match(uri))
        {
            return true;
        }
        let user_agent = link.user_agent.as_deref().unwrap_or("");
        self.ignorable_user_agents
            .iter()
            .any(|pattern| pattern.is_match(user_agent))
    }
}

fn compile(setting: &str, pattern: &str) -> Result<Regex, ConfigError> {
    Regex::new(pattern).map_err(|error| ConfigError::Pattern {
        setting: setting.to_owned(),
        pattern: pattern.to_owned(),
        reason: error.to_string(),
    })
}

/// The referer's host (with a non-default port) and its path with query string; no host
/// for a relative referer.
fn split_referer(referer: &str) -> (Option<String>, String) {
    match url::Url::parse(referer) {
        Ok(url) if url.has_host() => {
            let host = url.host_str().unwrap_or("");
            let host = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            let path = match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            };
            (Some(host), path)
        }
        _ => (None, referer.split('#').next().unwrap_or("").to_owned()),
    }
}

/// Whether `referer` is a page of `domain` (Django's `is_internal_request`:
/// `^https?://{domain}/`, so another port or a subdomain is external).
///
/// ```
/// use safe_report::mail::is_internal_request;
///
/// assert!(is_internal_request("example.com", "https://example.com/page"));
/// assert!(!is_internal_request("example.com", "https://example.com.evil.net/"));
/// assert!(!is_internal_request("example.com", "https://www.example.com/"));
/// ```
pub fn is_internal_request(domain: &str, referer: &str) -> bool {
    let rest = referer
        .strip_prefix("https://")
        .or_else(|| referer.strip_prefix("http://"));
    rest.and_then(|rest| rest.strip_prefix(domain))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Mails broken links to the managers.
#[derive(Clone)]
pub struct BrokenLinkReporter {
    mailer: Mailer,
    rules: Arc<BrokenLinkRules>,
    filter: Arc<dyn ReporterFilter>,
    debug: bool,
}

impl std::fmt::Debug for BrokenLinkReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokenLinkReporter")
            .field("rules", &self.rules)
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

impl BrokenLinkReporter {
    /// Django's rules, the default filter, debug off.
    pub fn new(mailer: Mailer) -> Self {
        Self {
            mailer,
            rules: Arc::new(BrokenLinkRules::default()),
            filter: Arc::new(SafeReporterFilter::default()),
            debug: false,
        }
    }

    /// Uses these rules.
    #[must_use]
    pub fn rules(mut self, rules: BrokenLinkRules) -> Self {
        self.rules = Arc::new(rules);
        self
    }

    /// Filters the URLs with `filter`.
    #[must_use]
    pub fn filter(mut self, filter: impl ReporterFilter + 'static) -> Self {
        self.filter = Arc::new(filter);
        self
    }

    /// In debug mode nothing is mailed (as Django, which acts only when `DEBUG` is off).
    #[must_use]
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Reports a 404 unless it is ignorable. Never waits.
    pub fn not_found(&self, link: NotFound) -> Outcome {
        if self.debug || self.rules.is_ignorable(&link) {
            return Outcome::Ignored;
        }
        let path_only = link.path.split('?').next().unwrap_or("");
        let fingerprint = Fingerprint::of_key(&format!("404 {} {path_only}", link.domain));
        let filter = Arc::clone(&self.filter);
        self.mailer.submit(
            Some(Audience::Managers),
            Some((fingerprint, Level::Warning, "Broken link")),
            Box::new(move |config| {
                let empty = Capture::new();
                let mut cx = FilterContext::new(&empty, filter.as_ref());
                let mut safe =
                    |text: &str| filter.safe_text(text, TextKind::Free, &mut cx).to_string();
                let referer = link.referer.as_deref().unwrap_or("");
                let internal = is_internal_request(&link.domain, referer);
                let title = format!(
                    "Broken {}link on {}",
                    if internal { "INTERNAL " } else { "" },
                    safe(&link.domain)
                );
                let text = format!(
                    "Referrer: {}\nRequested URL: {}\nUser agent: {}\nIP address: {}\n",
                    safe(referer),
                    safe(&link.path),
                    safe(link.user_agent.as_deref().unwrap_or("<none>")),
                    safe(link.remote_addr.as_deref().unwrap_or("<none>")),
                );
                let email = Email::new(
                    config.server_email.clone(),
                    config.managers.clone(),
                    format!("{}{title}", config.subject_prefix),
                    text,
                );
                Some(Composed { email, title })
            }),
        )
    }
}
