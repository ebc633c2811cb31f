//! The middleware: the web core's settings, applied to an actix-web service.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};

use super::service::ErrorReportService;
use crate::integrations::web::config::Config;

/// An actix-web middleware that reports what goes wrong in the services it wraps, the way
/// Django does: the technical 500 and 404 pages in debug mode; otherwise a generic page,
/// the report mailed to the admins and broken links to the managers.
///
/// Debug mode is off by default. It takes the settings of the tower layer
/// ([`ErrorReportLayer`](crate::integrations::tower::ErrorReportLayer) with the `tower`
/// feature), with the same names; see the [module documentation](super) for an example.
///
/// ```
/// use actix_web::{App, web};
/// use safe_report::integrations::actix::ErrorReportMiddleware;
///
/// let app = App::new()
///     .route("/", web::get().to(|| async { "hello" }))
///     .wrap(ErrorReportMiddleware::new().debug(true).routes(["/"]));
/// # let _ = app;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ErrorReportMiddleware {
    config: Arc<Config>,
}

impl std::fmt::Debug for ErrorReportMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.config.fmt_as("ErrorReportMiddleware", f)
    }
}

impl ErrorReportMiddleware {
    /// Debug mode off, the default reporter, no email, bodies buffered up to 64 KiB.
    pub fn new() -> Self {
        Self::default()
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    crate::integrations::web::config::settings_methods!(actix_web::dev::Extensions);
}

impl<S, B> Transform<S, ServiceRequest> for ErrorReportMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ErrorReportService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ErrorReportService::new(
            Rc::new(service),
            Arc::clone(&self.config),
        )))
    }
}
