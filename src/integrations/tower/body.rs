//! Bodies: the client's body handed on after bounded buffering, and the pages the layer
//! writes, in the body types of the wrapped service (so the happy path wraps nothing).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Full};
use mediatype::MediaType;

use crate::model::redacted::ByteLen;

/// A request body type the layer can hand on after it buffered the start of a body: the
/// handler then reads the buffered bytes, followed by whatever had not arrived yet, as if
/// nothing had read them.
///
/// Implemented for axum's `Body` and for http-body-util's boxed bodies. A plain hyper
/// service, whose requests carry `hyper::body::Incoming`, boxes the body before the layer:
///
/// ```
/// use http_body_util::BodyExt;
/// use safe_report::integrations::tower::ErrorReportLayer;
///
/// # fn wrap<S>(service: S) -> impl Sized
/// # where S: tower::Service<http::Request<http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, std::io::Error>>> {
/// tower::ServiceBuilder::new()
///     .map_request(|request: http::Request<http_body_util::Full<bytes::Bytes>>| {
///         request.map(|body| body.map_err(|never| match never {}).boxed_unsync())
///     })
///     .layer(ErrorReportLayer::new())
///     .service(service)
/// # }
/// ```
pub trait ReplayBody: Body<Data = Bytes> + Sized {
    /// A body of this type that yields `body` (the buffered bytes, then the rest).
    fn replay(body: RequestBody<Self>) -> Self;
}

/// A response body type the layer can write its pages in (debug pages, production pages).
///
/// Implemented for axum's `Body`, `String`, http-body-util's `Full<Bytes>` and boxed bodies.
pub trait PageBody: Body<Data = Bytes> {
    /// A body holding `bytes`.
    fn page(bytes: Bytes) -> Self;
}

/// What a replayed body yields: the bytes the layer buffered, then what followed.
pub struct RequestBody<B: Body> {
    data: Option<Bytes>,
    rest: Rest<B>,
}

/// What follows the buffered bytes.
enum Rest<B: Body> {
    /// The body ended, with these trailers if any.
    End(Option<HeaderMap>),
    /// The rest of the body, not read yet.
    Body(Pin<Box<B>>),
    /// Reading the body failed: the handler gets the same error after the bytes.
    Error(Option<B::Error>),
}

impl<B: Body> RequestBody<B> {
    pub(crate) fn replay(data: Bytes, rest: Pin<Box<B>>) -> Self {
        Self::replaying(data, Rest::Body(rest))
    }

    pub(crate) fn complete(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        Self::replaying(data, Rest::End(trailers))
    }

    pub(crate) fn failed(data: Bytes, error: B::Error) -> Self {
        Self::replaying(data, Rest::Error(Some(error)))
    }

    fn replaying(data: Bytes, rest: Rest<B>) -> Self {
        Self {
            data: (!data.is_empty()).then_some(data),
            rest,
        }
    }
}

// The fields are never pinned: the rest of the body is boxed.
impl<B: Body> Unpin for RequestBody<B> {}

impl<B: Body<Data = Bytes>> Body for RequestBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match &mut this.rest {
            Rest::End(trailers) => Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(t)))),
            Rest::Body(body) => body.as_mut().poll_frame(cx),
            Rest::Error(error) => Poll::Ready(error.take().map(Err)),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
            && match &self.rest {
                Rest::End(trailers) => trailers.is_none(),
                Rest::Body(body) => body.is_end_stream(),
                Rest::Error(error) => error.is_none(),
            }
    }

    fn size_hint(&self) -> SizeHint {
        let buffered = self.data.as_ref().map_or(0, |data| data.len() as u64);
        let mut hint = match &self.rest {
            Rest::Body(body) => body.size_hint(),
            Rest::End(_) | Rest::Error(_) => SizeHint::with_exact(0),
        };
        hint.set_lower(hint.lower().saturating_add(buffered));
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper.saturating_add(buffered));
        }
        hint
    }
}

impl<B: Body> std::fmt::Debug for RequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody")
            .field("buffered", &self.data.as_ref().map_or(0, Bytes::len))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "axum")]
impl ReplayBody for axum::body::Body {
    fn replay(body: RequestBody<Self>) -> Self {
        axum::body::Body::new(body)
    }
}

#[cfg(feature = "axum")]
impl PageBody for axum::body::Body {
    fn page(bytes: Bytes) -> Self {
        axum::body::Body::from(bytes)
    }
}

impl<E: Send + 'static> ReplayBody for UnsyncBoxBody<Bytes, E> {
    fn replay(body: RequestBody<Self>) -> Self {
        UnsyncBoxBody::new(body)
    }
}

impl<E: Send + Sync + 'static> ReplayBody for BoxBody<Bytes, E> {
    fn replay(body: RequestBody<Self>) -> Self {
        BoxBody::new(body)
    }
}

impl<E: 'static> PageBody for UnsyncBoxBody<Bytes, E> {
    fn page(bytes: Bytes) -> Self {
        UnsyncBoxBody::new(Full::new(bytes).map_err(|never| match never {}))
    }
}

impl<E: 'static> PageBody for BoxBody<Bytes, E> {
    fn page(bytes: Bytes) -> Self {
        BoxBody::new(Full::new(bytes).map_err(|never| match never {}))
    }
}

impl PageBody for Full<Bytes> {
    fn page(bytes: Bytes) -> Self {
        Full::new(bytes)
    }
}

impl PageBody for String {
    fn page(bytes: Bytes) -> Self {
        // The layer's pages are UTF-8.
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

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

/// Decides from the headers and the body's size hint, without reading anything.
pub(crate) fn plan<B: Body>(headers: &HeaderMap, body: &B, limit: usize) -> Plan {
    if body.is_end_stream() {
        return Plan::Pass(BodySnapshot::Empty);
    }
    let hint = body.size_hint();
    let len = hint.exact();
    let buffered_type = headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|value| is_buffered_type(value.as_bytes()));
    if !buffered_type {
        return Plan::Pass(BodySnapshot::Omitted(Omitted::OtherType { len }));
    }
    if hint.lower() > limit as u64 {
        return Plan::Pass(BodySnapshot::Omitted(Omitted::TooLarge {
            len: len.or(Some(hint.lower())),
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
