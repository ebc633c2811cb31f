//! What the layer does when something fails: build the capture from the snapshot, answer
//! with the technical page (debug) or the production page, mail the report.

use std::any::Any;
use std::sync::Arc;

use http::{Request, Response, StatusCode};

use super::body::{BodySnapshot, PageBody};
use super::error::ReportedError;
use super::layer::Config;
use super::overrides::{Overrides, take_current};
use super::pages::{DebugPageRenderer, page, technical_404};
use super::snapshot::Snapshot;
use crate::mail::Level;
use crate::model::Capture;
use crate::render::negotiate;
use crate::report::ExceptionReporter;

/// The capture of a panic just caught on this thread: the panic hook's (frames with their
/// symbols and registered variables) when it is installed, else one made from the payload.
pub(crate) fn panic_capture(payload: &(dyn Any + Send)) -> Capture {
    crate::panic::take_last_capture().unwrap_or_else(|| {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        Capture::error(crate::panic::PANIC_TYPE, message)
    })
}

/// What the layer holds of a request until its response is known.
pub(crate) struct InFlight {
    config: Arc<Config>,
    snapshot: Snapshot,
    /// What the route and the handler set (see `with_overrides`).
    pub(crate) overrides: Option<Box<Overrides>>,
}

impl InFlight {
    /// Nothing of the request yet: [`take`](Self::take) fills it where it lies (the future
    /// is large, and moving it costs).
    pub(crate) fn new(config: &Arc<Config>) -> Self {
        Self {
            config: Arc::clone(config),
            snapshot: Snapshot::new(),
            overrides: None,
        }
    }

    /// Takes what a report needs of `request`.
    #[inline]
    pub(crate) fn take<B>(&mut self, request: &Request<B>) {
        self.snapshot.take(request, &self.config);
    }

    /// The route the request matched: the router's word, else the given routes'.
    fn route(&self) -> Option<&str> {
        self.snapshot
            .route()
            .or_else(|| self.config.match_route(self.snapshot.path()))
    }

    fn overrides(&self) -> Overrides {
        self.overrides.as_deref().cloned().unwrap_or_default()
    }

    #[inline]
    pub(crate) fn set_body(&mut self, body: BodySnapshot) {
        self.snapshot.set_body(body);
    }

    /// Whether `response` is handed back as it is, without a look at it (the happy path).
    #[inline]
    pub(crate) fn is_happy<B>(response: &Response<B>) -> bool {
        response.status().as_u16() < 400
    }

    /// The response to hand back for the inner service's `response`.
    pub(crate) fn answer<B: PageBody>(&self, response: Response<B>) -> Response<B> {
        if Self::is_happy(&response) {
            return response;
        }
        let status = response.status();
        let error = response.extensions().get::<ReportedError>().cloned();
        match (status, error) {
            (StatusCode::NOT_FOUND, error) => self.not_found(response, error),
            (_, Some(error)) => self.failed(error.capture(), status),
            (status, None) if status.is_server_error() => self.server_error_response(response),
            _ => response,
        }
    }

    /// How to report a panic of this request from the panic hook when it will never be
    /// caught (`panic = "abort"`): debug off, the admins' email, waited for. The request's
    /// settings are those the route and the handler made by the time of the panic. It
    /// copies the snapshot, on every poll: only built when the process aborts on panic.
    pub(crate) fn abort_report(&self) -> crate::panic::AbortReport {
        let mut in_flight = Self {
            config: Arc::clone(&self.config),
            snapshot: self.snapshot.clone(),
            overrides: None,
        };
        Box::new(move |capture, timeout| {
            if in_flight.config.debug {
                // Debug mode shows the page and mails nothing; there is no page to show.
                return;
            }
            in_flight.overrides = take_current();
            let overrides = in_flight.overrides();
            let capture = in_flight.capture(capture, &overrides);
            in_flight.notify(StatusCode::INTERNAL_SERVER_ERROR, capture, &overrides);
            if let Some(notifier) = &in_flight.config.notifier {
                notifier.mailer().flush_all(timeout);
            }
        })
    }

    /// A panic in the handler: always a 500.
    pub(crate) fn panicked<B: PageBody>(&self, capture: Capture) -> Response<B> {
        self.failed(capture, StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn capture(&self, mut capture: Capture, overrides: &Overrides) -> Capture {
        capture.request = Some(self.snapshot.request_info(overrides, self.route()));
        capture.debug = self.config.debug;
        if self.config.settings.is_some() {
            capture.settings.clone_from(&self.config.settings);
        }
        capture
    }

    /// A panic or an error value: the technical page in debug mode; otherwise the
    /// production page, and for a server error the admins' email.
    fn failed<B: PageBody>(&self, capture: Capture, status: StatusCode) -> Response<B> {
        let overrides = self.overrides();
        let capture = self.capture(capture, &overrides);
        let format = negotiate(self.snapshot.accept());
        let config = &self.config;
        // As Django, a 403 gets the 403 page even in debug mode.
        if config.debug && status != StatusCode::FORBIDDEN {
            let filter = overrides.filter.as_deref();
            let body = match overrides.renderer.as_ref().or(config.renderer.as_ref()) {
                Some(renderer) => renderer.render(&capture, filter, format),
                None => DebugPageRenderer::render(&config.reporter, &capture, filter, format),
            };
            return page(status, format, body);
        }
        if status.is_server_error() {
            self.notify(status, capture, &overrides);
        }
        config.pages.response(status, format)
    }

    /// A 5xx without an error value: handed back unchanged, and (debug off) mailed as
    /// Django mails a logged server error, `Report at /path` with the request.
    fn server_error_response<B>(&self, response: Response<B>) -> Response<B> {
        if !self.config.debug && self.config.notifier.is_some() {
            let overrides = self.overrides();
            let message = self.log_message(response.status());
            let capture = self.capture(Capture::message(message), &overrides);
            self.notify(response.status(), capture, &overrides);
        }
        response
    }

    /// Django's log message: `Internal Server Error: /path`.
    fn log_message(&self, status: StatusCode) -> String {
        let reason = status.canonical_reason().unwrap_or("Server Error");
        format!("{reason}: {}", self.snapshot.path())
    }

    fn notify(&self, status: StatusCode, capture: Capture, overrides: &Overrides) {
        let Some(notifier) = &self.config.notifier else {
            return;
        };
        let message = self.log_message(status);
        match (&overrides.filter, self.config.reporter_chosen) {
            (Some(filter), _) => notifier
                .clone()
                .reporter(ExceptionReporter::with_shared_filter(Arc::clone(filter)))
                .notify(Level::Error, message, capture),
            (None, true) => notifier
                .clone()
                .reporter(self.config.reporter.clone())
                .notify(Level::Error, message, capture),
            (None, false) => notifier.notify(Level::Error, message, capture),
        };
    }

    /// A 404. Debug mode: the technical 404 page when the handler gave no body of its own
    /// (the router's fallback) or an error value with a reason. Otherwise: the broken-link
    /// rules, and the production 404 page in place of an empty body or an error value.
    fn not_found<B: PageBody>(
        &self,
        response: Response<B>,
        error: Option<ReportedError>,
    ) -> Response<B> {
        let bare = response.body().size_hint().exact() == Some(0);
        let format = negotiate(self.snapshot.accept());
        let config = &self.config;
        if config.debug {
            if !bare && error.is_none() {
                return response;
            }
            let overrides = self.overrides();
            // A route answered 404 (Django's view raising `Http404`), or no route matched.
            let resolved = error.is_some() || self.route().is_some();
            let capture = error.map_or_else(Capture::new, |error| error.capture());
            let capture = self.capture(capture, &overrides);
            let report = match &overrides.filter {
                Some(filter) => config.reporter.report_with(&capture, filter.as_ref()),
                None => config.reporter.report(&capture),
            };
            let body = technical_404(&report, &config.routes, resolved, format);
            return page(StatusCode::NOT_FOUND, format, body);
        }
        if let Some(reporter) = &config.broken_links
            && let Some(link) = self.snapshot.not_found()
        {
            reporter.not_found(link);
        }
        if bare || error.is_some() {
            return config.pages.response(StatusCode::NOT_FOUND, format);
        }
        response
    }
}
