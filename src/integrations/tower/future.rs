//! The response future: buffers the body when asked to, polls the inner future with every
//! panic caught, and turns failures into pages and reports.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, request};
use http_body::Body;
use pin_project_lite::pin_project;
use tower::Service;

use super::body::{PageBody, ReplayBody, RequestBody};
use super::error_of;
use super::request::{respond, take};
use crate::integrations::web::body::{BodySnapshot, Collected, Omitted};
use crate::integrations::web::config::Config;
use crate::integrations::web::failure::{Answer, Caught, InFlight, PendingPage, caught_panic};
use crate::integrations::web::overrides::with_overrides;
use crate::panic::handled_here_reporting;
use crate::runtime::breadcrumbs::Trail;

pin_project! {
    /// The future of [`ErrorReport`](super::ErrorReport): one state machine, allocation-free
    /// on the happy path (what the layer keeps of the request is held inline).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
        B: Body,
    {
        #[pin]
        state: State<S, B>,
        in_flight: InFlight,
        // The request's breadcrumbs: what it logs, and what its reports carry.
        trail: Trail,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
        B: Body,
    {
        // The cold states are boxed, to keep the future small on the happy path.
        Buffering { buffering: Box<Buffering<S, B>> },
        Running { #[pin] future: S::Future },
        Panicked { caught: Option<Box<Caught>> },
        // A debug page the report worker renders.
        AwaitingPage { page: Box<PendingPage> },
        Done,
    }
}

/// Reading a body before calling the inner service.
pub(crate) struct Buffering<S, B: Body> {
    inner: S,
    parts: Option<request::Parts>,
    body: Option<Pin<Box<B>>>,
    collected: Collected,
    limit: usize,
    timeout: Option<Duration>,
    timer: Timer,
}

enum Timer {
    NotStarted,
    Tokio(Pin<Box<tokio::time::Sleep>>),
    /// No tokio timer here: no time limit.
    Unavailable,
}

/// Frames read in one poll before yielding to other tasks.
const FRAMES_PER_POLL: usize = 256;

impl<S, B: Body<Data = Bytes>> Buffering<S, B> {
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        if let Timer::NotStarted = self.timer {
            self.timer = match self.timeout {
                // `sleep` needs a tokio runtime with its timer; without one there is no limit.
                Some(timeout) if tokio::runtime::Handle::try_current().is_ok() => {
                    match catch_unwind(|| Box::pin(tokio::time::sleep(timeout))) {
                        Ok(sleep) => Timer::Tokio(sleep),
                        Err(_) => Timer::Unavailable,
                    }
                }
                _ => Timer::Unavailable,
            };
        }
        match &mut self.timer {
            Timer::Tokio(sleep) => sleep.as_mut().poll(cx).is_ready(),
            Timer::NotStarted | Timer::Unavailable => false,
        }
    }

    /// Reads until the body ends, passes the bound, fails or times out; then the request to
    /// hand on and what the report keeps of its body.
    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<(RequestBody<B>, BodySnapshot)> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready((
                RequestBody::complete(Bytes::new(), None),
                BodySnapshot::Empty,
            ));
        };
        for _ in 0..FRAMES_PER_POLL {
            match body.as_mut().poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        self.collected.push(data);
                        if self.collected.len() > self.limit {
                            let collected = std::mem::take(&mut self.collected).into_bytes();
                            let rest = self.body.take().expect("checked above");
                            return Poll::Ready((
                                RequestBody::replay(collected, rest),
                                BodySnapshot::Omitted(Omitted::TooLarge {
                                    len: None,
                                    limit: self.limit,
                                }),
                            ));
                        }
                    }
                    Err(frame) => {
                        let trailers = frame.into_trailers().ok();
                        let collected = std::mem::take(&mut self.collected).into_bytes();
                        return Poll::Ready((
                            RequestBody::complete(collected.clone(), trailers),
                            BodySnapshot::Buffered(collected),
                        ));
                    }
                },
                Poll::Ready(Some(Err(error))) => {
                    let received = self.collected.len();
                    let collected = std::mem::take(&mut self.collected).into_bytes();
                    return Poll::Ready((
                        RequestBody::failed(collected, error),
                        BodySnapshot::Omitted(Omitted::Failed { received }),
                    ));
                }
                Poll::Ready(None) => {
                    let collected = std::mem::take(&mut self.collected).into_bytes();
                    return Poll::Ready((
                        RequestBody::complete(collected.clone(), None),
                        BodySnapshot::Buffered(collected),
                    ));
                }
                Poll::Pending => {
                    if self.poll_timer(cx) {
                        let received = self.collected.len();
                        let collected = std::mem::take(&mut self.collected).into_bytes();
                        let rest = self.body.take().expect("checked above");
                        let timeout_ms = self.timeout.unwrap_or_default().as_millis();
                        return Poll::Ready((
                            RequestBody::replay(collected, rest),
                            BodySnapshot::Omitted(Omitted::TooSlow {
                                received,
                                timeout_ms,
                            }),
                        ));
                    }
                    return Poll::Pending;
                }
            }
        }
        // A body of many tiny frames: let other tasks run, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
    B: Body,
{
    pub(crate) fn buffering(
        inner: S,
        parts: request::Parts,
        body: B,
        limit: usize,
        timeout: Option<Duration>,
        in_flight: InFlight,
    ) -> Self {
        Self {
            state: State::Buffering {
                buffering: Box::new(Buffering {
                    inner,
                    parts: Some(parts),
                    body: Some(Box::pin(body)),
                    collected: Collected::default(),
                    limit,
                    timeout,
                    timer: Timer::NotStarted,
                }),
            },
            in_flight,
            trail: Trail::default(),
        }
    }

    /// Takes what a report needs of `request` (its body as `body` says), then calls `inner`
    /// with the request's settings and every panic caught. Everything is written where it
    /// lies in the future.
    #[inline]
    pub(crate) fn call(
        inner: &mut S,
        request: &mut Option<Request<B>>,
        config: &Arc<Config>,
        body: BodySnapshot,
    ) -> Self {
        let mut this = Self {
            state: State::Done,
            in_flight: InFlight::new(config),
            trail: Trail::default(),
        };
        if let Some(request) = request {
            take(&mut this.in_flight, request);
        }
        if !matches!(body, BodySnapshot::Empty) {
            this.in_flight.set_body(body);
        }
        let _entered = this.trail.enter();
        call_into(&mut this.state, &mut this.in_flight, inner, request);
        drop(_entered);
        this
    }
}

/// Calls `inner` with `request` (taken from the option), the request's settings and every
/// panic caught, and leaves the next state in `state`: running its future, or the panic.
#[inline]
fn call_into<S, B>(
    state: &mut State<S, B>,
    in_flight: &mut InFlight,
    inner: &mut S,
    request: &mut Option<Request<B>>,
) where
    S: Service<Request<B>>,
    B: Body,
{
    // The closures take references only, so that the request and the future are not moved
    // through `catch_unwind`.
    let on_abort = cfg!(panic = "abort").then(|| in_flight.abort_report());
    let called = with_overrides(&mut in_flight.overrides, || {
        catch_unwind(AssertUnwindSafe(|| {
            handled_here_reporting(on_abort, || {
                if let Some(request) = request.take() {
                    let running = State::Running {
                        future: inner.call(request),
                    };
                    // `state` was `Done`, which owns nothing: no destructor to run.
                    debug_assert!(matches!(state, State::Done));
                    std::mem::forget(std::mem::replace(state, running));
                }
            });
        }))
    });
    if let Err(payload) = called {
        let caught = caught_panic(payload.as_ref());
        *state = State::Panicked {
            caught: Some(Box::new(caught)),
        };
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    B: ReplayBody,
    ResBody: PageBody,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let in_flight = this.in_flight;
        let _entered = this.trail.enter();
        loop {
            match this.state.as_mut().project() {
                StateProj::Buffering { buffering } => {
                    let (body, snapshot) = match buffering.poll_body(cx) {
                        Poll::Ready(done) => done,
                        Poll::Pending => return Poll::Pending,
                    };
                    in_flight.set_body(snapshot);
                    let parts = buffering.parts.take().expect("buffering ends once");
                    let mut request = Some(Request::from_parts(parts, B::replay(body)));
                    let mut next = State::Done;
                    call_into(&mut next, in_flight, &mut buffering.inner, &mut request);
                    this.state.set(next);
                }
                StateProj::Running { future } => {
                    // The route and the handler find their request's settings; the hook
                    // keeps a panic inside for `panic_capture` instead of reporting it.
                    // The result is written in place rather than returned through the
                    // closures, which would move it at each level.
                    let mut polled = Poll::Pending;
                    let on_abort = cfg!(panic = "abort").then(|| in_flight.abort_report());
                    let caught = with_overrides(&mut in_flight.overrides, || {
                        catch_unwind(AssertUnwindSafe(|| {
                            handled_here_reporting(on_abort, || polled = future.poll(cx));
                        }))
                    });
                    match caught {
                        Ok(()) => {
                            let happy = match &polled {
                                Poll::Pending => return Poll::Pending,
                                Poll::Ready(Ok(response)) => {
                                    InFlight::is_happy(response.status().as_u16())
                                }
                                Poll::Ready(Err(_)) => true,
                            };
                            this.state.set(State::Done);
                            // The happy path hands the result back without moving it again.
                            if happy {
                                return polled;
                            }
                            let Poll::Ready(Ok(response)) = polled else {
                                return polled;
                            };
                            let bare = response.body().size_hint().exact() == Some(0);
                            let error = error_of(&response);
                            match in_flight.answer(response.status(), error, bare) {
                                None => return Poll::Ready(Ok(response)),
                                Some(Answer::Now(page)) => return Poll::Ready(Ok(respond(page))),
                                Some(Answer::Later(page)) => this.state.set(State::AwaitingPage {
                                    page: Box::new(page),
                                }),
                            }
                        }
                        Err(payload) => {
                            // Take the hook's capture before anything else can panic here.
                            let caught = caught_panic(payload.as_ref());
                            // The inner future is dropped now; a panic in its drop is caught too.
                            let mut state = this.state.as_mut();
                            let _ = catch_unwind(AssertUnwindSafe(move || state.set(State::Done)));
                            drop(payload);
                            match in_flight.panicked(caught) {
                                Answer::Now(page) => return Poll::Ready(Ok(respond(page))),
                                Answer::Later(page) => this.state.set(State::AwaitingPage {
                                    page: Box::new(page),
                                }),
                            }
                        }
                    }
                }
                StateProj::Panicked { caught } => {
                    let caught = caught
                        .take()
                        .map_or_else(|| Caught::Ready(Box::default()), |caught| *caught);
                    this.state.set(State::Done);
                    match in_flight.panicked(caught) {
                        Answer::Now(page) => return Poll::Ready(Ok(respond(page))),
                        Answer::Later(page) => this.state.set(State::AwaitingPage {
                            page: Box::new(page),
                        }),
                    }
                }
                StateProj::AwaitingPage { page } => {
                    let page = match page.poll(cx) {
                        Poll::Ready(page) => page,
                        Poll::Pending => return Poll::Pending,
                    };
                    this.state.set(State::Done);
                    return Poll::Ready(Ok(respond(page)));
                }
                StateProj::Done => panic!("ResponseFuture polled after completion"),
            }
        }
    }
}
