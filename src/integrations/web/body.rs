//! What the core keeps of a request body: the buffered bytes or why there are none, and
//! the decision to buffer, taken from the headers before anything is read.

use bytes::{Bytes, BytesMut};
use mediatype::MediaType;

use crate::model::redacted::ByteLen;

/// What the snapshot holds of the request body. `Debug` shows a buffered body's size only.
#[derive(Clone, Default)]
pub(crate) enum BodySnapshot {
    /// No body.
    #[default]
    Empty,
    /// The whole body.
    Buffered(Bytes),
    /// Not buffered, and why.
    Omitted(Omitted),
}

impl std::fmt::Debug for BodySnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodySnapshot::Empty => f.write_str("Empty"),
            BodySnapshot::Buffered(bytes) => f
                .debug_tuple("Buffered")
                .field(&ByteLen(bytes.len()))
                .finish(),
            BodySnapshot::Omitted(omitted) => f.debug_tuple("Omitted").field(omitted).finish(),
        }
    }
}

/// Why a body was not buffered. Turned into the report's note only when something fails.
#[derive(Debug, Clone)]
pub(crate) enum Omitted {
    /// Not a form, multipart or JSON body.
    OtherType { len: Option<u64> },
    /// Larger than the bound: its declared length, or `None` when it was found out while
    /// reading.
    TooLarge { len: Option<u64>, limit: usize },
    /// The body did not arrive within the timeout.
    TooSlow { received: usize, timeout_ms: u128 },
    /// Reading the body failed.
    Failed { received: usize },
}

impl Omitted {
    /// The note the report shows instead of the body.
    pub(crate) fn note(&self, content_type: Option<&[u8]>) -> String {
        let kind = content_type
            .map(|value| String::from_utf8_lossy(value).chars().take(100).collect())
            .unwrap_or_else(|| "unknown type".to_owned());
        match self {
            Omitted::OtherType { len: Some(len) } => format!(
                "{len} bytes of {kind}: the error-report layer buffers only form, multipart and JSON bodies"
            ),
            Omitted::OtherType { len: None } => format!(
                "a body of {kind}: the error-report layer buffers only form, multipart and JSON bodies"
            ),
            Omitted::TooLarge {
                len: Some(len),
                limit,
            } => format!(
                "{len} bytes of {kind}: larger than the {limit} bytes the error-report layer buffers"
            ),
            Omitted::TooLarge { len: None, limit } => format!(
                "more than {limit} bytes of {kind}: larger than the {limit} bytes the error-report layer buffers"
            ),
            Omitted::TooSlow {
                received,
                timeout_ms,
            } => format!(
                "{kind}: {received} bytes arrived in {timeout_ms} ms, then the error-report layer stopped waiting"
            ),
            Omitted::Failed { received } => {
                format!("{kind}: reading the body failed after {received} bytes")
            }
        }
    }
}

/// What the layer does with a request body.
pub(crate) enum Plan {
    /// Hand it on as it is; the snapshot says why.
    Pass(BodySnapshot),
    /// Buffer it (a form, multipart or JSON body within the bound).
    Buffer,
}

/// Whether `content_type` is a form, multipart or JSON body.
pub(crate) fn is_buffered_type(content_type: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(content_type) else {
        return false;
    };
    let Ok(media) = MediaType::parse(text.trim()) else {
        return false;
    };
    let (ty, subty) = (media.ty.as_str(), media.subty.as_str());
    let suffix = media.suffix.as_ref().map(|suffix| suffix.as_str());
    (ty.eq_ignore_ascii_case("application")
        && (subty.eq_ignore_ascii_case("x-www-form-urlencoded")
            || subty.eq_ignore_ascii_case("json")
            || suffix.is_some_and(|suffix| suffix.eq_ignore_ascii_case("json"))))
        || (ty.eq_ignore_ascii_case("multipart") && subty.eq_ignore_ascii_case("form-data"))
}

/// Decides from the request's `Content-Type`, whether its body is known to be empty, and
/// the bounds its framework knows of its length, without reading anything.
pub(crate) fn plan(
    content_type: Option<&[u8]>,
    empty: bool,
    lower: u64,
    exact: Option<u64>,
    limit: usize,
) -> Plan {
    if empty {
        return Plan::Pass(BodySnapshot::Empty);
    }
    let buffered_type = content_type.is_some_and(is_buffered_type);
    if !buffered_type {
        return Plan::Pass(BodySnapshot::Omitted(Omitted::OtherType { len: exact }));
    }
    if lower > limit as u64 {
        return Plan::Pass(BodySnapshot::Omitted(Omitted::TooLarge {
            len: exact.or(Some(lower)),
            limit,
        }));
    }
    Plan::Buffer
}

/// Bytes collected while buffering: chunks kept as they came, joined once at the end.
#[derive(Default)]
pub(crate) struct Collected {
    chunks: Vec<Bytes>,
    len: usize,
}

impl Collected {
    pub(crate) fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.chunks.push(chunk);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// One contiguous buffer (no copy when the body came in one chunk).
    pub(crate) fn into_bytes(mut self) -> Bytes {
        match self.chunks.len() {
            0 => Bytes::new(),
            1 => self.chunks.pop().unwrap_or_default(),
            _ => {
                let mut joined = BytesMut::with_capacity(self.len);
                for chunk in &self.chunks {
                    joined.extend_from_slice(chunk);
                }
                joined.freeze()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_multipart_and_json_bodies_are_buffered_types() {
        for ty in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-8",
            "multipart/form-data; boundary=X",
            "application/json",
            "Application/JSON",
            "application/vnd.api+json",
        ] {
            assert!(is_buffered_type(ty.as_bytes()), "{ty}");
        }
        for ty in [
            "text/plain",
            "application/octet-stream",
            "",
            "garbage",
            "multipart/mixed",
        ] {
            assert!(!is_buffered_type(ty.as_bytes()), "{ty}");
        }
        assert!(!is_buffered_type(b"application/json\xff"));
    }

    #[test]
    fn notes_say_why_a_body_was_not_buffered() {
        assert_eq!(
            Omitted::TooLarge {
                len: Some(70000),
                limit: 65536
            }
            .note(Some(b"application/json")),
            "70000 bytes of application/json: larger than the 65536 bytes the error-report layer buffers"
        );
        assert_eq!(
            Omitted::OtherType { len: Some(3) }.note(None),
            "3 bytes of unknown type: the error-report layer buffers only form, multipart and JSON bodies"
        );
    }

    #[test]
    fn debug_of_a_buffered_body_shows_its_size_only() {
        let body = BodySnapshot::Buffered(Bytes::from_static(b"card=mk7q-plant3d"));
        for shown in [format!("{body:?}"), format!("{body:#?}")] {
            assert!(!shown.contains("mk7q"), "{shown}");
            assert!(shown.contains("17"), "{shown}");
        }
    }
}
