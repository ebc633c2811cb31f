//! HTTP delivery for the sinks: one blocking `ureq` agent (rustls, no OpenSSL) on the
//! worker thread, and what a server's answer means for the queue.
//!
//! | answer | what the queue does |
//! |---|---|
//! | 2xx | delivered; a rate limit in `X-Sentry-Rate-Limits` pauses what follows |
//! | 429 | held; retried after `X-Sentry-Rate-Limits`, else `Retry-After`, else 60 s |
//! | 408, 5xx, no connection, a timeout | held; retried after the backoff |
//! | other 4xx (400 invalid, 401/403 bad key, 413 too large) | dropped and counted |

use std::io::Read as _;
use std::time::Duration;

use super::queue::Attempt;

/// A bare 429 asks for this wait (Sentry's convention).
const DEFAULT_RATE_LIMIT: Duration = Duration::from_secs(60);
/// A server's answer body is read up to this many bytes (only to reuse the connection).
const MAX_ANSWER_BYTES: u64 = 64 * 1024;
/// The longest wait a server can impose (a day): a wild header must not stop a sink.
const MAX_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// What a server answered, as far as delivery cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) rate_limits: Option<String>,
}

pub(crate) struct Client {
    agent: ureq::Agent,
}

impl Client {
    pub(crate) fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("safe-report/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { agent }
    }

    /// POSTs `body`; `Err` is a transport failure (no connection, a timeout, TLS),
    /// described without the URL's credentials.
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let mut builder = self.agent.post(url);
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = builder.send(body).map_err(|error| describe(&error))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let answer = Answer {
            status: response.status().as_u16(),
            retry_after: header("retry-after"),
            rate_limits: header("x-sentry-rate-limits"),
        };
        // Read the rest, so that the connection can be used again.
        let mut sink = Vec::new();
        let _ = response
            .into_body()
            .into_reader()
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut sink);
        Ok(answer)
    }
}

/// A transport error in words that name no URL (a URL may hold a key).
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) => format!("connection failed: {}", io.kind()),
        ureq::Error::Timeout(what) => format!("timed out ({what:?})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::Tls(what) => format!("TLS: {what}"),
        ureq::Error::Rustls(error) => format!("TLS: {error}"),
        other => format!("transport error: {}", kind_of(other)),
    }
}

fn kind_of(error: &ureq::Error) -> &'static str {
    match error {
        ureq::Error::BadUri(_) | ureq::Error::Http(_) => "the URL is not usable",
        ureq::Error::Protocol(_) => "the server's answer is not HTTP/1.1",
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => "redirects",
        _ => "other",
    }
}

/// What an answer means for the item sent; `category` is the item's kind in
/// `X-Sentry-Rate-Limits` (`error` for events).
pub(crate) fn classify(answer: &Answer, category: &str) -> Attempt {
    let limit = answer
        .rate_limits
        .as_deref()
        .and_then(|header| rate_limit(header, category));
    match answer.status {
        200..=299 => Attempt::Delivered { pause: limit },
        429 => Attempt::Retry {
            reason: "429 Too Many Requests (rate limited)".to_owned(),
            after: Some(
                limit
                    .or_else(|| answer.retry_after.as_deref().and_then(retry_after))
                    .unwrap_or(DEFAULT_RATE_LIMIT),
            ),
        },
        status @ (408 | 500..=599) => Attempt::Retry {
            reason: format!("the server answered {status}"),
            after: None,
        },
        status => Attempt::Reject {
            reason: format!("the server answered {status}"),
        },
    }
}

/// `Retry-After`: seconds, or an HTTP date.
pub(crate) fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return seconds_of(seconds);
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = date.duration_since(jiff::Timestamp::now());
    Some(
        Duration::try_from(wait)
            .unwrap_or(Duration::ZERO)
            .min(MAX_WAIT),
    )
}

fn seconds_of(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(MAX_WAIT.as_secs_f64())))
}

/// The longest wait `X-Sentry-Rate-Limits` asks of `category`:
/// `seconds:categories:scope[:reason[:namespaces]], …`, where no categories means all.
/// `default` covers events as `error` does.
///
/// ```text
/// 60::key, 86400:transaction;span:organization   → 60 s for an error event
/// ```
pub(crate) fn rate_limit(header: &str, category: &str) -> Option<Duration> {
    header
        .split(',')
        .filter_map(|limit| {
            let mut fields = limit.trim().split(':');
            let seconds = fields.next()?.trim().parse::<f64>().ok()?;
            let categories = fields.next().unwrap_or("");
            let applies = categories.trim().is_empty()
                || categories.split(';').any(|named| {
                    let named = named.trim();
                    named == category || (category == "error" && named == "default")
                });
            applies.then(|| seconds_of(seconds)).flatten()
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, retry: Option<&str>, limits: Option<&str>) -> Answer {
        Answer {
            status,
            retry_after: retry.map(str::to_owned),
            rate_limits: limits.map(str::to_owned),
        }
    }

    #[test]
    fn rate_limits_apply_to_their_categories_only() {
        let bugsink = "60::key, 86400:transaction;span:organization";
        assert_eq!(rate_limit(bugsink, "error"), Some(Duration::from_secs(60)));
        let spans = "86400:transaction;span:organization";
        assert_eq!(rate_limit(spans, "error"), None);
        assert_eq!(
            rate_limit("30:default:project, 10:error:key", "error"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(rate_limit("garbage, :::", "error"), None);
    }

    #[test]
    fn answers_decide_between_delivered_retry_and_drop() {
        let ok = classify(
            &answer(200, None, Some("86400:transaction:organization")),
            "error",
        );
        assert_eq!(ok, Attempt::Delivered { pause: None });
        let paused = classify(&answer(200, None, Some("5::key")), "error");
        assert_eq!(
            paused,
            Attempt::Delivered {
                pause: Some(Duration::from_secs(5))
            }
        );
        let after = |attempt: Attempt| match attempt {
            Attempt::Retry { after, .. } => after,
            other => panic!("{other:?}"),
        };
        // The Sentry header wins over Retry-After; a bare 429 waits a minute.
        let limited = answer(429, Some("7"), Some("60::key"));
        assert_eq!(
            after(classify(&limited, "error")),
            Some(Duration::from_secs(60))
        );
        let retry = answer(429, Some("7"), None);
        assert_eq!(
            after(classify(&retry, "error")),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            after(classify(&answer(429, None, None), "error")),
            Some(DEFAULT_RATE_LIMIT)
        );
        assert_eq!(after(classify(&answer(503, None, None), "error")), None);
        for status in [400, 401, 403, 413] {
            assert!(matches!(
                classify(&answer(status, None, None), "error"),
                Attempt::Reject { .. }
            ));
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("-1"), None);
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("1e30"), Some(MAX_WAIT));
    }
}
