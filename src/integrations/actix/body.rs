//! Bounded buffering of an actix-web request body: the start of a form, multipart or JSON
//! body read before the handler runs, then handed back to it with the rest of the body.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use bytes::Bytes;
use futures_util::stream::Stream;

use crate::integrations::web::body::{BodySnapshot, Collected, Omitted, Plan, plan};

/// Chunks read in one poll before yielding to other tasks.
const CHUNKS_PER_POLL: usize = 256;

/// Decides from the headers, without reading anything.
#[inline]
pub(super) fn plan_of(request: &ServiceRequest, limit: usize) -> Plan {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    // Without a length or a chunked encoding an HTTP/1 request has no body; HTTP/2 bodies
    // come without either, so only a declared length of 0 is taken for an empty one there.
    let empty = match length {
        Some(length) => length == 0,
        None => {
            request.version() < actix_web::http::Version::HTTP_2
                && !headers.contains_key(header::TRANSFER_ENCODING)
        }
    };
    plan(
        headers
            .get(header::CONTENT_TYPE)
            .map(|value| value.as_bytes()),
        empty,
        length.unwrap_or(0),
        length,
        limit,
    )
}

/// Reads the request's body until it ends, passes `limit`, fails or `timeout` runs out;
/// puts back a body that yields what was read followed by the rest, and returns what the
/// report keeps of it.
pub(super) async fn buffer(
    request: &mut ServiceRequest,
    limit: usize,
    timeout: Option<Duration>,
) -> BodySnapshot {
    let mut payload = request.take_payload();
    let mut collected = Collected::default();
    let mut timer = timeout.map(|timeout| Box::pin(tokio::time::sleep(timeout)));
    let stop = poll_fn(|cx| {
        for _ in 0..CHUNKS_PER_POLL {
            match Pin::new(&mut payload).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    collected.push(chunk);
                    if collected.len() > limit {
                        return Poll::Ready(Stop::TooLarge);
                    }
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Stop::Failed(error)),
                Poll::Ready(None) => return Poll::Ready(Stop::End),
                Poll::Pending => {
                    if let Some(timer) = &mut timer
                        && timer.as_mut().poll(cx).is_ready()
                    {
                        return Poll::Ready(Stop::TooSlow);
                    }
                    return Poll::Pending;
                }
            }
        }
        // A body of many tiny chunks: let other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
    let received = collected.len();
    let bytes = collected.into_bytes();
    let (rest, snapshot) = match stop {
        Stop::End => (Rest::End, BodySnapshot::Buffered(bytes.clone())),
        Stop::TooLarge => (
            Rest::Payload(payload),
            BodySnapshot::Omitted(Omitted::TooLarge { len: None, limit }),
        ),
        Stop::TooSlow => (
            Rest::Payload(payload),
            BodySnapshot::Omitted(Omitted::TooSlow {
                received,
                timeout_ms: timeout.unwrap_or_default().as_millis(),
            }),
        ),
        Stop::Failed(error) => (
            Rest::Error(Some(error)),
            BodySnapshot::Omitted(Omitted::Failed { received }),
        ),
    };
    let replay = Replay {
        data: (!bytes.is_empty()).then_some(bytes),
        rest,
    };
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(replay);
    request.set_payload(Payload::from(stream));
    snapshot
}

/// Why buffering stopped.
enum Stop {
    End,
    TooLarge,
    TooSlow,
    Failed(PayloadError),
}

/// What a handler reads: the buffered bytes, then what followed.
struct Replay {
    data: Option<Bytes>,
    rest: Rest,
}

enum Rest {
    End,
    Payload(Payload),
    /// Reading failed: the handler gets the error after the bytes.
    Error(Option<PayloadError>),
}

impl Stream for Replay {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take() {
            return Poll::Ready(Some(Ok(data)));
        }
        match &mut this.rest {
            Rest::End => Poll::Ready(None),
            Rest::Payload(payload) => Pin::new(payload).poll_next(cx),
            Rest::Error(error) => Poll::Ready(error.take().map(Err)),
        }
    }
}
