//! Per-route settings as an actix-web middleware, and [`RequestReport`] as an extractor.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::{Payload, Service, ServiceRequest, Transform, forward_ready};
use actix_web::{FromRequest, HttpRequest};

use crate::integrations::web::RequestReport;
use crate::integrations::web::overrides::{Overrides, apply_route};

impl FromRequest for RequestReport {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(_: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(RequestReport::current()))
    }
}

/// Report settings for the resources or scopes it wraps: the counterpart of Django's view
/// decorators `@sensitive_post_parameters` and of setting `exception_reporter_filter` or
/// `exception_reporter_class` in a view.
///
/// Wrap a resource or a scope inside [`ErrorReportMiddleware`](super::ErrorReportMiddleware):
///
/// ```
/// use actix_web::{App, web};
/// use safe_report::SensitiveNames;
/// use safe_report::integrations::actix::{ErrorReportMiddleware, ReportOverridesMiddleware};
///
/// async fn login() -> &'static str { "welcome" }
///
/// let app = App::new()
///     .service(
///         web::resource("/login")
///             .wrap(
///                 ReportOverridesMiddleware::new()
///                     .sensitive_post_parameters(SensitiveNames::names(["password"])),
///             )
///             .route(web::post().to(login)),
///     )
///     .wrap(ErrorReportMiddleware::new());
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ReportOverridesMiddleware {
    overrides: Arc<Overrides>,
}

impl std::fmt::Debug for ReportOverridesMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.overrides.fmt_as("ReportOverridesMiddleware", f)
    }
}

impl ReportOverridesMiddleware {
    crate::integrations::web::overrides::override_methods!();
}

impl<S> Transform<S, ServiceRequest> for ReportOverridesMiddleware
where
    S: Service<ServiceRequest>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Transform = ReportOverridesService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ReportOverridesService {
            service,
            overrides: Arc::clone(&self.overrides),
        }))
    }
}

/// The service of [`ReportOverridesMiddleware`]: sets its report settings on each request,
/// then calls the resource.
pub struct ReportOverridesService<S> {
    service: S,
    overrides: Arc<Overrides>,
}

impl<S> std::fmt::Debug for ReportOverridesService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportOverridesService")
            .finish_non_exhaustive()
    }
}

impl<S> Service<ServiceRequest> for ReportOverridesService<S>
where
    S: Service<ServiceRequest>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        apply_route(&self.overrides);
        self.service.call(request)
    }
}
