//! The service: the request recorded on the way in, the handler called with every panic
//! caught, the core's answer on the way out.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{Error, HttpMessage, HttpResponse};

use super::body::{buffer, plan_of};
use super::error::{reported, status};
use crate::integrations::web::body::Plan;
use crate::integrations::web::config::Config;
use crate::integrations::web::failure::{Answer, Caught, InFlight, caught_panic};
use crate::integrations::web::overrides::with_overrides;
use crate::integrations::web::pages::Page;
use crate::integrations::web::snapshot::UriParts;
use crate::panic::handled_here_reporting;
use crate::runtime::breadcrumbs::BreadcrumbsExt as _;

/// The service of [`ErrorReportMiddleware`](super::ErrorReportMiddleware): wraps a service
/// whose failures it reports.
pub struct ErrorReportService<S> {
    service: Rc<S>,
    config: Arc<Config>,
}

impl<S> ErrorReportService<S> {
    pub(super) fn new(service: Rc<S>, config: Arc<Config>) -> Self {
        Self { service, config }
    }
}

impl<S> std::fmt::Debug for ErrorReportService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorReportService")
            .field("debug", &self.config.debug)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for ErrorReportService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Error>>>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let mut in_flight = InFlight::new(&self.config);
        take(&mut in_flight, &request);
        let plan = plan_of(&request, self.config.body_limit);
        let service = Rc::clone(&self.service);
        let (limit, timeout) = (self.config.body_limit, self.config.body_timeout);
        // The request's breadcrumbs: what it logs, and what its reports carry.
        Box::pin(
            async move {
                match plan {
                    Plan::Buffer => {
                        let body = buffer(&mut request, limit, timeout).await;
                        in_flight.set_body(body);
                    }
                    Plan::Pass(body) => in_flight.set_body(body),
                }
                let outcome = run(&service, request, &mut in_flight).await;
                let response = match outcome {
                    Ok(Ok(response)) => response,
                    Ok(Err(error)) => return Err(error),
                    Err(caught) => {
                        // The handler took the request with it (and actix-web routes only a
                        // request nobody else holds): the page goes back as an error, which
                        // actix-web answers with its response. The route comes from `routes`.
                        let page = page_of(in_flight.panicked(caught)).await;
                        return Err(PageError(page).into());
                    }
                };
                let code = response.status().as_u16();
                if InFlight::is_happy(code) {
                    return Ok(response.map_into_left_body());
                }
                let error = response.response().error().map(reported);
                let bare = matches!(
                    response.response().body().size(),
                    actix_web::body::BodySize::None | actix_web::body::BodySize::Sized(0)
                );
                in_flight
                    .snapshot_mut()
                    .set_route(response.request().match_pattern());
                let code = http::StatusCode::from_u16(code)
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
                match in_flight.answer(code, error, bare) {
                    None => Ok(response.map_into_left_body()),
                    Some(answer) => {
                        let (http_request, _) = response.into_parts();
                        let page = page_of(answer).await;
                        Ok(ServiceResponse::new(http_request, response_of(&page))
                            .map_into_right_body())
                    }
                }
            }
            .with_new_breadcrumbs(),
        )
    }
}

/// Calls `service` with the request's settings and every panic caught, then polls its
/// future the same way: the response or the error, or the panic.
async fn run<S, B>(
    service: &S,
    request: ServiceRequest,
    in_flight: &mut InFlight,
) -> Result<Result<ServiceResponse<B>, Error>, Caught>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    let mut request = Some(request);
    let mut called = None;
    let on_abort = cfg!(panic = "abort").then(|| in_flight.abort_report());
    let result = with_overrides(&mut in_flight.overrides, || {
        catch_unwind(AssertUnwindSafe(|| {
            handled_here_reporting(on_abort, || {
                if let Some(request) = request.take() {
                    called = Some(service.call(request));
                }
            });
        }))
    });
    if let Err(payload) = result {
        return Err(caught_panic(payload.as_ref()));
    }
    let mut future = pin!(called);
    poll_fn(|cx| {
        let Some(running) = future.as_mut().as_pin_mut() else {
            return Poll::Ready(Err(Caught::Ready(Box::default())));
        };
        let mut polled = Poll::Pending;
        let on_abort = cfg!(panic = "abort").then(|| in_flight.abort_report());
        let result = with_overrides(&mut in_flight.overrides, || {
            catch_unwind(AssertUnwindSafe(|| {
                handled_here_reporting(on_abort, || polled = running.poll(cx));
            }))
        });
        match result {
            Ok(()) => polled.map(Ok),
            Err(payload) => {
                // Take the hook's capture before anything else can panic here.
                let caught = caught_panic(payload.as_ref());
                // The handler's future is dropped now; a panic in its drop is caught too.
                let mut future = future.as_mut();
                let _ = catch_unwind(AssertUnwindSafe(move || future.set(None)));
                Poll::Ready(Err(caught))
            }
        }
    })
    .await
}

/// Takes what a report needs of `request` into `in_flight`'s snapshot. The route is read
/// only when something fails (actix-web knows it once the request is routed).
#[inline]
fn take(in_flight: &mut InFlight, request: &ServiceRequest) {
    let uri = request.uri();
    let parts = UriParts {
        scheme: uri.scheme_str(),
        authority: uri.authority().map(|authority| authority.as_str()),
        path_and_query: uri.path_and_query().map(|path| path.as_str()),
        path: uri.path(),
    };
    let method =
        http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap_or(http::Method::GET);
    let remote_addr = request.peer_addr().map(|addr| addr.ip());
    let user = in_flight.config().user;
    let snapshot = in_flight.snapshot_mut();
    snapshot.record(
        method,
        &parts,
        None,
        || {
            request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes(), value.is_sensitive()))
        },
        remote_addr,
    );
    if let Some(user) = user {
        snapshot.set_user(user(&*request.extensions()));
    }
}

/// The core's answer as a page: now, or once the report worker rendered the debug page.
async fn page_of(answer: Answer) -> Page {
    match answer {
        Answer::Now(page) => page,
        Answer::Later(mut pending) => poll_fn(|cx| pending.poll(cx)).await,
    }
}

/// A page of the core as an actix-web response.
fn response_of(page: &Page) -> HttpResponse {
    let mut builder = HttpResponse::build(status(page.status));
    builder.insert_header((header::CONTENT_TYPE, page.content_type()));
    for (name, value) in Page::HEADERS {
        builder.insert_header((
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    builder.body(page.body.clone())
}

/// The page answering a panic, as the error actix-web turns into its response.
struct PageError(Page);

impl std::fmt::Debug for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageError")
            .field("status", &self.0.status)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.status.canonical_reason().unwrap_or("Error"))
    }
}

impl actix_web::ResponseError for PageError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        status(self.0.status)
    }

    fn error_response(&self) -> HttpResponse {
        response_of(&self.0)
    }
}
