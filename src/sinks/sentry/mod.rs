//! The Sentry sink (feature `sentry`): filtered reports as Sentry events, in envelopes,
//! to any Sentry-compatible server (Sentry, self-hosted or SaaS, GlitchTip, Bugsink).
//!
//! ```
//! use safe_report::{Capture, Environment, ExceptionReporter, Frame, Identity};
//! use safe_report::sinks::{Origin, SentryConfig};
//!
//! let config = SentryConfig::new("https://public@sentry.example.com/42")?;
//! // Usually installed once for the process (`Identity::from_env().install()`).
//! let identity = Identity::new().environment("production").release("shop@1.4.2");
//! let capture = Capture::error("PaymentError", "card declined")
//!     .with_environment(Environment::default().identity(identity))
//!     .with_frame(Frame::new("shop::charge", "src/charge.rs", 42).var("order_id", "ord_42").var("password", "hunter2"));
//! let report = ExceptionReporter::default().report(&capture);
//! let event = config.event(&report, Origin::Error);
//! let frame = &event["exception"]["values"][0]["stacktrace"]["frames"][0];
//! assert_eq!(frame["vars"]["order_id"], "ord_42");
//! assert_eq!(frame["vars"]["password"], "********************");
//! assert_eq!(event["environment"], "production");
//! assert_eq!(event["release"], "shop@1.4.2");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The event is written as JSON by this crate (serde_json), not with the `sentry-types`
//! crate: that crate's model cannot say what Bugsink's strict schema and Relay want here
//! (cookies as an object, `_meta` remarks), it would add about a dozen crates to a build
//! (time, uuid, rand, debugid, hex and theirs) and needs a newer Rust than this crate's
//! minimum. The envelope is three lines of text. See `docs/sentry.md` for the mapping.

mod event;

use url::Url;

use super::{DeliveryOptions, Endpoint, Origin, Sink, SinkError};
use crate::filter::SafeReporterFilter;
use crate::report::Report;

/// The environment variable with the DSN ([`SentryConfig::from_env`]).
pub const DSN_VAR: &str = "SAFE_REPORT_SENTRY_DSN";
/// The environment variable that sends the client's IP address (`1`, `true`).
pub const SEND_IP_VAR: &str = "SAFE_REPORT_SENTRY_SEND_IP";

/// Why a Sentry configuration was refused. Messages name the part that is wrong, never the
/// DSN (its key lets anyone send events to the project).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SentryConfigError {
    /// The DSN is not a URL.
    NotAUrl,
    /// The DSN's scheme is neither `http` nor `https`.
    Scheme,
    /// The DSN has no public key (the user name).
    NoPublicKey,
    /// The DSN has no host.
    NoHost,
    /// The DSN's path does not end in a project id.
    NoProject,
    /// An environment variable is not valid Unicode.
    NotUnicode(&'static str),
}

impl std::fmt::Display for SentryConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SentryConfigError::NotAUrl => "the Sentry DSN is not a URL",
            SentryConfigError::Scheme => "the Sentry DSN's scheme must be http or https",
            SentryConfigError::NoPublicKey => {
                "the Sentry DSN has no public key (the part before `@`)"
            }
            SentryConfigError::NoHost => "the Sentry DSN has no host",
            SentryConfigError::NoProject => "the Sentry DSN's path does not end in a project id",
            SentryConfigError::NotUnicode(name) => return write!(f, "{name} is not valid Unicode"),
        })
    }
}

impl std::error::Error for SentryConfigError {}

/// A parsed DSN: `{scheme}://{public_key}@{host}[:{port}]/{path/}{project_id}`. `Debug`
/// shows the host and project, never the key.
#[derive(Clone, PartialEq, Eq)]
struct Dsn {
    public_key: String,
    envelope_url: String,
    project: String,
    host: String,
}

impl std::fmt::Debug for Dsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dsn")
            .field("host", &self.host)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl Dsn {
    fn parse(dsn: &str) -> Result<Self, SentryConfigError> {
        let url = Url::parse(dsn.trim()).map_err(|_| SentryConfigError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SentryConfigError::Scheme);
        }
        if url.username().is_empty() {
            return Err(SentryConfigError::NoPublicKey);
        }
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or(SentryConfigError::NoHost)?;
        let path = url.path().trim_end_matches('/');
        let (prefix, project) = path.rsplit_once('/').unwrap_or(("", path));
        if project.is_empty() || !project.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(SentryConfigError::NoProject);
        }
        let port = url
            .port()
            .map(|port| format!(":{port}"))
            .unwrap_or_default();
        let host_part = match url.host() {
            Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
            _ => host.to_owned(),
        };
        Ok(Self {
            public_key: url.username().to_owned(),
            envelope_url: format!(
                "{}://{host_part}{port}{prefix}/api/{project}/envelope/",
                url.scheme()
            ),
            project: project.to_owned(),
            host: host.to_owned(),
        })
    }

    /// `X-Sentry-Auth`.
    fn auth(&self) -> String {
        format!(
            "Sentry sentry_version=7, sentry_client=safe-report/{}, sentry_key={}",
            env!("CARGO_PKG_VERSION"),
            self.public_key
        )
    }
}

/// Where and how the Sentry sink sends: the DSN, the tags every event carries, whether the
/// client's IP address goes along, and the delivery ([`DeliveryOptions`]: queue, timeout,
/// spool). The event's `environment`, `release` and
/// `server_name` are the report's [`Identity`](crate::Identity) (the one source for every
/// output), the server name defaulting to the host name.
///
/// ```
/// use std::time::Duration;
/// use safe_report::mail::QueueConfig;
/// use safe_report::sinks::SentryConfig;
///
/// let config = SentryConfig::new("https://public@o1.ingest.example.com/42")?
///     .tag("region", "eu-west")
///     .send_client_ip(false)
///     .queue(QueueConfig::default().capacity(1024))
///     .timeout(Duration::from_secs(10));
/// assert!(format!("{config:?}").contains("o1.ingest.example.com"));
/// assert!(!format!("{config:?}").contains("public"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a SentryConfig does nothing until passed to Sink::sentry"]
#[non_exhaustive]
pub struct SentryConfig {
    dsn: Dsn,
    tags: Vec<(String, String)>,
    send_client_ip: bool,
    delivery: DeliveryOptions,
}

impl SentryConfig {
    /// A configuration for `dsn`; no tags; the IP address not sent; the default queue; 30 s
    /// per request.
    pub fn new(dsn: &str) -> Result<Self, SentryConfigError> {
        Ok(Self {
            dsn: Dsn::parse(dsn)?,
            tags: Vec::new(),
            send_client_ip: false,
            delivery: DeliveryOptions::default(),
        })
    }

    /// From `SAFE_REPORT_SENTRY_DSN` (and `SAFE_REPORT_SENTRY_SEND_IP`); `Ok(None)` when the
    /// DSN variable is unset or empty. The environment, release and server name come from
    /// the [`Identity`](crate::Identity) (`SAFE_REPORT_ENVIRONMENT`, …).
    pub fn from_env() -> Result<Option<Self>, SentryConfigError> {
        let var = |name: &'static str| match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_owned())),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(SentryConfigError::NotUnicode(name)),
        };
        let Some(dsn) = var(DSN_VAR)? else {
            return Ok(None);
        };
        let mut config = Self::new(&dsn)?;
        config.send_client_ip = matches!(
            var(SEND_IP_VAR)?.as_deref(),
            Some("1" | "true" | "yes" | "on")
        );
        Ok(Some(config))
    }

    /// A tag every event carries.
    pub fn tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((name.into(), value.into()));
        self
    }

    /// Sends the client's IP address as the user's (`user.ip_address`, off by default: it
    /// is personal data).
    pub fn send_client_ip(mut self, send: bool) -> Self {
        self.send_client_ip = send;
        self
    }

    super::delivery_setters!();

    /// The Sentry event of `report` (what the sink sends, without the envelope), with a
    /// fresh `event_id` and the current time.
    pub fn event(&self, report: &Report, origin: Origin) -> serde_json::Value {
        event::Mapping::new(self, &SafeReporterFilter::default()).event(
            report,
            origin,
            &event::new_event_id(),
            jiff::Timestamp::now(),
        )
    }
}

impl Sink {
    /// A sink sending to a Sentry-compatible server; starts its worker thread.
    pub fn sentry(config: SentryConfig) -> Result<Sink, SinkError> {
        let delivery = config.delivery.clone();
        let headers = vec![
            ("X-Sentry-Auth".to_owned(), config.dsn.auth()),
            (
                "Content-Type".to_owned(),
                "application/x-sentry-envelope".to_owned(),
            ),
        ];
        let endpoint = SentryEndpoint {
            config,
            headers,
            names: SafeReporterFilter::default(),
        };
        Sink::start_http("Sentry event", "safe-report-sentry", &delivery, endpoint)
    }
}

struct SentryEndpoint {
    config: SentryConfig,
    headers: Vec<(String, String)>,
    /// The default filter's name rules, to say which rule hid a value (`_meta`).
    names: SafeReporterFilter,
}

impl Endpoint for SentryEndpoint {
    fn encode(&mut self, report: &Report, origin: Origin) -> (Vec<u8>, String) {
        let id = event::new_event_id();
        let now = jiff::Timestamp::now();
        let event = event::Mapping::new(&self.config, &self.names).event(report, origin, &id, now);
        let payload = serde_json::to_vec(&event).unwrap_or_default();
        (envelope(&id, now, &payload), format!("event {id}"))
    }

    fn target(&self) -> (&str, &[(String, String)]) {
        (&self.config.dsn.envelope_url, &self.headers)
    }
}

/// The envelope of one event: its header line, the item's header line, the event.
fn envelope(event_id: &str, sent_at: jiff::Timestamp, payload: &[u8]) -> Vec<u8> {
    let header = serde_json::json!({
        "event_id": event_id,
        "sent_at": sent_at.to_string(),
    });
    let item = serde_json::json!({"type": "event", "length": payload.len()});
    let mut body = Vec::with_capacity(payload.len() + 160);
    body.extend_from_slice(header.to_string().as_bytes());
    body.push(b'\n');
    body.extend_from_slice(item.to_string().as_bytes());
    body.push(b'\n');
    body.extend_from_slice(payload);
    body.push(b'\n');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dsn_gives_the_envelope_url_and_the_key() {
        let dsn = Dsn::parse("https://abc123@o1.ingest.example.com/sub/path/42").unwrap();
        assert_eq!(
            dsn.envelope_url,
            "https://o1.ingest.example.com/sub/path/api/42/envelope/"
        );
        assert!(dsn.auth().ends_with("sentry_key=abc123"));
        let local = Dsn::parse("http://k@127.0.0.1:9000/1").unwrap();
        assert_eq!(local.envelope_url, "http://127.0.0.1:9000/api/1/envelope/");
        assert!(!format!("{dsn:?}").contains("abc123"));
    }

    #[test]
    fn bad_dsns_are_refused_without_echoing_them() {
        for (dsn, error) in [
            ("not a url", SentryConfigError::NotAUrl),
            ("ftp://k@host/1", SentryConfigError::Scheme),
            ("https://host/1", SentryConfigError::NoPublicKey),
            ("https://secretkey@host/", SentryConfigError::NoProject),
        ] {
            let refused = Dsn::parse(dsn).unwrap_err();
            assert_eq!(refused, error);
            assert!(!refused.to_string().contains("secretkey"));
        }
    }

    #[test]
    fn an_envelope_is_three_lines_with_the_payload_length() {
        let body = envelope("0123", jiff::Timestamp::UNIX_EPOCH, br#"{"a":1}"#);
        let text = String::from_utf8(body).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"event_id":"0123","sent_at":"1970-01-01T00:00:00Z"}"#,
                r#"{"length":7,"type":"event"}"#,
                r#"{"a":1}"#
            ]
        );
    }
}
