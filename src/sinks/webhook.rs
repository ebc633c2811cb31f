//! The webhook sink (feature `webhook`): each filtered report's JSON rendering POSTed to a
//! URL, for chat bridges and in-house collectors, with the Sentry sink's delivery.
//!
//! ```
//! use safe_report::sinks::WebhookConfig;
//!
//! let config = WebhookConfig::new("https://hooks.example.com/safe-report")?
//!     .header("Authorization", "Bearer s3cr3t-collector-token");
//! // `Debug` names the host, never the path or the header's value.
//! let shown = format!("{config:?}");
//! assert!(shown.contains("hooks.example.com") && !shown.contains("s3cr3t"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The body is [`Report::json`] with the report's origin: `{"origin": "panic" | "error" |
//! "log", "level": …, "report": {…}}`, `Content-Type: application/json`. The answer is read as
//! for Sentry: 2xx delivered; 408, 5xx and no connection retried with backoff; 429 waits for
//! `Retry-After` (60 s without it); any other 4xx drops the report and counts it.

use url::Url;

use super::{DeliveryOptions, Endpoint, Origin, Sink, SinkError};
use crate::report::Report;

/// Why a webhook configuration was refused; messages never show the URL (its path or query
/// may hold a token) or the header's value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookConfigError {
    /// The URL does not parse.
    NotAUrl,
    /// The URL's scheme is neither `http` nor `https`.
    Scheme,
    /// The header's name or value cannot be sent.
    Header,
}

impl std::fmt::Display for WebhookConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WebhookConfigError::NotAUrl => "the webhook URL is not a URL",
            WebhookConfigError::Scheme => "the webhook URL's scheme must be http or https",
            WebhookConfigError::Header => "the webhook header's name or value is not valid in HTTP",
        })
    }
}

impl std::error::Error for WebhookConfigError {}

/// Where the webhook sink POSTs, an optional header (authentication), and the delivery
/// ([`DeliveryOptions`]: queue, timeout, spool; the header is never spooled).
#[derive(Clone)]
#[must_use = "a WebhookConfig does nothing until passed to Sink::webhook"]
#[non_exhaustive]
pub struct WebhookConfig {
    url: Url,
    header: Option<(String, String)>,
    delivery: DeliveryOptions,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("host", &self.url.host_str())
            .field("header", &self.header.as_ref().map(|(name, _)| name))
            .field("delivery", &self.delivery)
            .finish()
    }
}

impl WebhookConfig {
    /// POSTs to `url` (http or https), with the default queue and 30 s per request.
    pub fn new(url: &str) -> Result<Self, WebhookConfigError> {
        let url = Url::parse(url.trim()).map_err(|_| WebhookConfigError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookConfigError::Scheme);
        }
        Ok(Self {
            url,
            header: None,
            delivery: DeliveryOptions::default(),
        })
    }

    /// Sends this header with every request (`Authorization: Bearer …`). A name or value
    /// that HTTP cannot carry (a line break) is refused.
    pub fn header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, WebhookConfigError> {
        let (name, value) = (name.into(), value.into());
        let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
        if name.is_empty()
            || !name.bytes().all(token)
            || value.bytes().any(|b| b.is_ascii_control() && b != b'\t')
        {
            return Err(WebhookConfigError::Header);
        }
        self.header = Some((name, value));
        Ok(self)
    }

    super::delivery_setters!();

    /// The body the sink POSTs for `report`.
    pub fn body(&self, report: &Report, origin: Origin) -> String {
        body(report, origin)
    }
}

fn body(report: &Report, origin: Origin) -> String {
    let kind = match origin {
        Origin::Panic => "panic",
        Origin::Error => "error",
        Origin::Log(_) => "log",
    };
    serde_json::json!({"origin": kind, "level": origin.level(), "report": report}).to_string()
}

impl Sink {
    /// A sink POSTing each report's JSON rendering to a webhook; starts its worker thread.
    pub fn webhook(config: WebhookConfig) -> Result<Sink, SinkError> {
        let url = config.url.to_string();
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        headers.extend(config.header.clone());
        let webhook = Webhook {
            url,
            headers,
            sent: 0,
        };
        Sink::start_http(
            "webhook report",
            "safe-report-webhook",
            &config.delivery,
            webhook,
        )
    }
}

struct Webhook {
    url: String,
    headers: Vec<(String, String)>,
    sent: u64,
}

impl Endpoint for Webhook {
    fn encode(&mut self, report: &Report, origin: Origin) -> (Vec<u8>, String) {
        self.sent += 1;
        let name = format!("report {} of this process", self.sent);
        (body(report, origin).into_bytes(), name)
    }

    fn target(&self) -> (&str, &[(String, String)]) {
        (&self.url, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_headers_are_checked_without_echoing_them() {
        assert_eq!(
            WebhookConfig::new("ftp://host/x").unwrap_err(),
            WebhookConfigError::Scheme
        );
        let config = WebhookConfig::new("https://h.example/hook?token=abc").unwrap();
        assert_eq!(
            config
                .clone()
                .header("X-Key", "a\r\nInjected: 1")
                .unwrap_err(),
            WebhookConfigError::Header
        );
        assert_eq!(
            config.header("Bad Name", "v").unwrap_err(),
            WebhookConfigError::Header
        );
    }
}
