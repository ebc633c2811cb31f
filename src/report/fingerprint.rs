//! What identifies "the same error": flood control groups emails by it, and the Sentry sink
//! sends it as the event's `fingerprint`, so a server groups events as the digests do.
//!
//! # Example
//! ```
//! use safe_report::{Capture, ExceptionReporter, Frame};
//! use safe_report::report::Fingerprint;
//!
//! let capture = Capture::error("DbError", "timeout after 31 ms")
//!     .with_frame(Frame::new("shop::orders::load", "src/orders.rs", 40));
//! let report = ExceptionReporter::default().report(&capture);
//! // The capture and its report have the same fingerprint.
//! assert_eq!(Fingerprint::of(&capture, ""), Fingerprint::of_report(&report, ""));
//! ```

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use super::Report;
use crate::model::Capture;

/// What identifies "the same error" for flood control and for a server's grouping.
///
/// The deployment's environment (see [`Identity`](crate::Identity)), the error type and
/// the application frames (function and file, no line numbers); without application
/// frames, the type and the message with numbers, ids, UUIDs and hex values replaced by
/// placeholders. The release and the server name are left out: an error keeps its group
/// across deploys and across the servers that run one release. The hash is FNV-1a over those parts, the same in every
/// build and every process.
///
/// ```
/// use safe_report::{Capture, Frame};
/// use safe_report::report::Fingerprint;
///
/// // Same type and application frames, other lines and messages: the same error.
/// let a = Capture::error("DbError", "timeout after 31 ms on shard 4")
///     .with_frame(Frame::new("shop::orders::load", "src/orders.rs", 40));
/// let b = Capture::error("DbError", "timeout after 57 ms on shard 9")
///     .with_frame(Frame::new("shop::orders::load", "src/orders.rs", 41));
/// assert_eq!(Fingerprint::of(&a, ""), Fingerprint::of(&b, ""));
///
/// // Without frames, the message counts, with numbers and ids normalised.
/// let c = Capture::error("NotFound", "order 1234 not found");
/// let d = Capture::error("NotFound", "order 98 not found");
/// let e = Capture::error("NotFound", "customer 98 not found");
/// assert_eq!(Fingerprint::of(&c, ""), Fingerprint::of(&d, ""));
/// assert_ne!(Fingerprint::of(&c, ""), Fingerprint::of(&e, ""));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub(crate) u64);

/// FNV-1a, 64 bits: small, and the same everywhere (std's `DefaultHasher` may change).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// One part: its length first, so that parts cannot run into each other.
    fn part(&mut self, text: &str) {
        for byte in (text.len() as u64)
            .to_le_bytes()
            .iter()
            .chain(text.as_bytes())
        {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Fingerprint {
    /// The fingerprint of `capture`; `message` (the log message) stands in when the
    /// capture has neither application frames nor a message.
    pub fn of(capture: &Capture, message: &str) -> Self {
        let frames = capture
            .frames
            .iter()
            .filter(|frame| frame.in_app)
            .map(|frame| (frame.function.as_str(), frame.file.as_deref().unwrap_or("")));
        let text = capture.error.message.as_deref().unwrap_or(message);
        let environment = match &capture.environment {
            Some(environment) => environment.identity.environment.as_deref(),
            None => crate::model::Identity::current().environment.as_deref(),
        };
        Self::of_parts(
            environment,
            capture.error.type_name.as_deref(),
            frames,
            text,
        )
    }

    /// The fingerprint of a report: the same parts as [`of`](Self::of), read from what the
    /// filter let through (for a report of a capture, the same fingerprint, unless the
    /// filter hid part of a function name, a file name or the type).
    /// A grouping set by [`Controls`](super::Controls) wins.
    pub fn of_report(report: &Report, message: &str) -> Self {
        if let Some(custom) = report.fingerprint {
            return custom;
        }
        let frames = report
            .frames
            .iter()
            .filter(|frame| frame.in_app)
            .map(|frame| (frame.function.as_str(), frame.file.as_str()));
        let text = report.exception_value.as_deref().unwrap_or(message);
        Self::of_parts(
            report.deployment_environment(),
            report.exception_type.as_deref(),
            frames,
            text,
        )
    }

    fn of_parts<'a>(
        environment: Option<&str>,
        type_name: Option<&str>,
        app_frames: impl Iterator<Item = (&'a str, &'a str)>,
        message: &str,
    ) -> Self {
        let mut hash = Fnv::new();
        // Without an environment the hash is the one of earlier versions.
        if let Some(environment) = environment {
            hash.part("environment");
            hash.part(environment);
        }
        hash.part(type_name.unwrap_or(""));
        let mut app_frames = app_frames.peekable();
        if app_frames.peek().is_some() {
            hash.part("frames");
            for (function, file) in app_frames {
                hash.part(function);
                hash.part(file);
            }
        } else {
            hash.part("message");
            hash.part(&normalise_message(message));
        }
        Fingerprint(hash.0)
    }

    /// A custom grouping's fingerprint: the environment and `parts`.
    pub(crate) fn of_custom(environment: Option<&str>, parts: &[String]) -> Self {
        let mut hash = Fnv::new();
        hash.part("custom");
        hash.part(environment.unwrap_or(""));
        for part in parts {
            hash.part(part);
        }
        Fingerprint(hash.0)
    }

    /// A fingerprint for any key (broken links use the domain and path).
    pub fn of_key(key: &str) -> Self {
        let mut hash = Fnv::new();
        hash.part("key");
        hash.part(key);
        Fingerprint(hash.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The message with variable parts replaced: UUIDs by `<uuid>`, hex values (`0x…`, or 8+
/// hex digits with a digit among them) by `<hex>`, other runs of digits by `<n>`.
///
/// ```
/// use safe_report::report::normalise_message;
///
/// assert_eq!(
///     normalise_message("user 42 (id 3f2a9c1e7b, req 0xdeadbeef) 550e8400-e29b-41d4-a716-446655440000"),
///     "user <n> (id <hex>, req <hex>) <uuid>"
/// );
/// ```
pub fn normalise_message(message: &str) -> String {
    static PARTS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?x)
            (?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
            | (?P<hex0x>\b0[xX][0-9a-fA-F]+\b)
            | (?P<hex>\b[0-9a-fA-F]{8,}\b)
            | (?P<n>[0-9]+)",
        )
        .expect("a valid pattern")
    });
    PARTS
        .replace_all(message, |caps: &regex::Captures<'_>| {
            if caps.name("uuid").is_some() {
                "<uuid>".to_owned()
            } else if caps.name("hex0x").is_some() {
                "<hex>".to_owned()
            } else if let Some(hex) = caps.name("hex") {
                if hex.as_str().bytes().any(|b| b.is_ascii_digit()) {
                    "<hex>".to_owned()
                } else {
                    hex.as_str().to_owned()
                }
            } else {
                "<n>".to_owned()
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_are_grouped_apart() {
        use crate::model::{Environment, Identity};
        let at = |environment: &str| {
            Capture::error("DbError", "timeout").with_environment(
                Environment::default().identity(Identity::new().environment(environment)),
            )
        };
        assert_ne!(
            Fingerprint::of(&at("staging"), ""),
            Fingerprint::of(&at("production"), "")
        );
        assert_eq!(
            Fingerprint::of(&at("staging"), ""),
            Fingerprint::of(&at("staging"), "")
        );
        let report = crate::ExceptionReporter::default().report(&at("staging"));
        assert_eq!(
            Fingerprint::of_report(&report, ""),
            Fingerprint::of(&at("staging"), "")
        );
    }

    #[test]
    fn the_hash_is_the_same_in_every_build() {
        // FNV-1a of fixed parts: a changed value would regroup every server's events.
        assert_eq!(
            Fingerprint::of_key("404 example.com /a").to_string().len(),
            16
        );
        assert_eq!(Fingerprint::of_key(""), Fingerprint::of_key(""));
        assert_ne!(Fingerprint::of_key("ab"), Fingerprint::of_key("a"));
    }
}
