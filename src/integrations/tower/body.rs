//! Bodies: the client's body handed on after bounded buffering, and the pages the layer
//! writes, in the body types of the wrapped service (so the happy path wraps nothing).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::{BoxBody, UnsyncBoxBody};
use http_body_util::{BodyExt, Full};

use crate::integrations::web::body::Plan;

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

/// Decides from the headers and the body's size hint, without reading anything.
#[inline]
pub(crate) fn plan<B: Body>(headers: &HeaderMap, body: &B, limit: usize) -> Plan {
    let hint = body.size_hint();
    crate::integrations::web::body::plan(
        headers
            .get(http::header::CONTENT_TYPE)
            .map(http::HeaderValue::as_bytes),
        body.is_end_stream(),
        hint.lower(),
        hint.exact(),
        limit,
    )
}
