//! Per-route settings as a tower layer: the counterpart of Django's view decorators. The
//! settings themselves and [`RequestReport`](crate::integrations::web::RequestReport) live in the web core.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower::{Layer, Service};

use crate::integrations::web::overrides::{Overrides, apply_route};

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum::extract::FromRequestParts<S>
    for crate::integrations::web::RequestReport
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        _parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(crate::integrations::web::RequestReport::current())
    }
}

/// Report settings for the routes it wraps: the counterpart of Django's view decorators
/// `@sensitive_post_parameters` and of setting `exception_reporter_filter` or
/// `exception_reporter_class` in a view.
///
/// Put it on a route (inside [`ErrorReportLayer`](super::ErrorReportLayer), which must wrap
/// the route for the settings to reach it):
///
/// ```
/// use axum::{Router, routing::post};
/// use safe_report::SensitiveNames;
/// use safe_report::integrations::tower::{ErrorReportLayer, ReportOverridesLayer};
///
/// async fn login() -> &'static str { "welcome" }
///
/// let app: Router = Router::new()
///     .route(
///         "/login",
///         post(login).layer(
///             ReportOverridesLayer::new()
///                 .sensitive_post_parameters(SensitiveNames::names(["password"])),
///         ),
///     )
///     .layer(ErrorReportLayer::new());
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ReportOverridesLayer {
    overrides: Arc<Overrides>,
}

impl std::fmt::Debug for ReportOverridesLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.overrides.fmt_as("ReportOverridesLayer", f)
    }
}

impl ReportOverridesLayer {
    crate::integrations::web::overrides::override_methods!();
}

impl<S> Layer<S> for ReportOverridesLayer {
    type Service = ReportOverrides<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ReportOverrides {
            inner,
            overrides: Arc::clone(&self.overrides),
        }
    }
}

/// The service of [`ReportOverridesLayer`]: sets its report settings on each request, then
/// calls the route.
#[derive(Clone)]
pub struct ReportOverrides<S> {
    inner: S,
    overrides: Arc<Overrides>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for ReportOverrides<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportOverrides")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for ReportOverrides<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        apply_route(&self.overrides);
        self.inner.call(request)
    }
}
