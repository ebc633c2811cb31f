//! The service: snapshot on the way in, the inner service's answer or a page on the way out.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use super::body::{PageBody, ReplayBody, plan};
use super::future::ResponseFuture;
use super::request::take;
use crate::integrations::web::body::Plan;
use crate::integrations::web::config::Config;
use crate::integrations::web::failure::InFlight;

/// The service of [`ErrorReportLayer`](super::ErrorReportLayer): wraps a service whose
/// failures it reports.
pub struct ErrorReport<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> ErrorReport<S> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self { inner, config }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone> Clone for ErrorReport<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for ErrorReport<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErrorReport")
            .field("inner", &self.inner)
            .field("debug", &self.config.debug)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for ErrorReport<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
    B: ReplayBody,
    ResBody: PageBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match plan(request.headers(), request.body(), self.config.body_limit) {
            Plan::Buffer => {
                let mut in_flight = InFlight::new(&self.config);
                take(&mut in_flight, &request);
                // The inner service is called once the body is in; the ready one goes with
                // the future and a clone takes its place (as tower's buffering middleware do).
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let (parts, body) = request.into_parts();
                let timeout = self.config.body_timeout;
                let limit = self.config.body_limit;
                ResponseFuture::buffering(inner, parts, body, limit, timeout, in_flight)
            }
            Plan::Pass(body) => {
                // The request is moved once, here; the inner service takes it from there.
                let mut request = Some(request);
                ResponseFuture::call(&mut self.inner, &mut request, &self.config, body)
            }
        }
    }
}
