//! What the layer does when something fails: build the capture from the snapshot, answer
//! with the technical page (debug) or the production page, mail the report.
//!
//! The slow part of a report (resolving the trace's symbols, filtering, rendering) runs on
//! the report worker, never on the async runtime's thread that served the request: the
//! production page is answered at once, and the debug page's future waits for its body.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::oneshot;

use super::body::BodySnapshot;
use super::config::Config;
use super::error::ReportedError;
use super::overrides::{Overrides, take_current};
use super::pages::{DebugPageRenderer, Page, page, technical_404};
use super::snapshot::Snapshot;
use crate::hook::PendingPanic;
use crate::mail::Level;
use crate::model::{Capture, RequestInfo};
use crate::render::{negotiate, template};
use crate::report::{ExceptionReporter, Format};
use crate::runtime::background;
use crate::sinks::Origin;

/// A failure whose capture is not built yet: its symbols are resolved where it is reported.
pub(crate) enum Caught {
    /// A panic the hook captured.
    Panic(PendingPanic),
    /// An error value with its unresolved stack.
    Error(ReportedError),
    /// A capture made already (a panic without the hook: its message alone).
    Ready(Box<Capture>),
}

impl Caught {
    /// The capture, with symbols resolved now, on the calling thread.
    fn resolve(self) -> Capture {
        match self {
            Caught::Panic(panic) => panic.resolve(),
            Caught::Error(error) => error.capture(),
            Caught::Ready(capture) => *capture,
        }
    }
}

/// A panic just caught on this thread: the panic hook's capture (frames and registered
/// variables, symbols not resolved yet) when it is installed, else one made from the
/// payload and the breadcrumbs.
pub(crate) fn caught_panic(payload: &(dyn Any + Send)) -> Caught {
    match crate::panic::take_last_panic() {
        Some(panic) => Caught::Panic(panic),
        None => {
            let message = if let Some(text) = payload.downcast_ref::<&str>() {
                (*text).to_owned()
            } else if let Some(text) = payload.downcast_ref::<String>() {
                text.clone()
            } else {
                "Box<dyn Any>".to_owned()
            };
            let mut capture = Capture::error(crate::panic::PANIC_TYPE, message);
            // What the request logged (its trail is the thread's while it is polled).
            capture.breadcrumbs = crate::runtime::breadcrumbs::snapshot();
            Caught::Ready(Box::new(capture))
        }
    }
}

/// The core's answer to a failure: a page now, or a debug page being rendered on the
/// report worker.
pub(crate) enum Answer {
    Now(Page),
    Later(PendingPage),
}

/// A debug page the report worker renders; the future polls it.
pub(crate) struct PendingPage {
    body: oneshot::Receiver<String>,
    status: StatusCode,
    format: Format,
    config: Arc<Config>,
}

impl PendingPage {
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Page> {
        match Pin::new(&mut self.body).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(body)) => Poll::Ready(page(self.status, self.format, body)),
            // The rendering failed (a renderer that panicked): the production page.
            Poll::Ready(Err(_)) => {
                Poll::Ready(self.config.pages.response(self.status, self.format))
            }
        }
    }
}

/// What a capture gets from the request, taken on the request's thread.
struct RequestParts {
    request: RequestInfo,
    debug: bool,
}

impl RequestParts {
    fn apply(self, mut capture: Capture, config: &Config) -> Capture {
        capture.request = Some(self.request);
        capture.debug = self.debug;
        if config.settings.is_some() {
            capture.settings.clone_from(&config.settings);
        }
        capture
    }
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

    /// The settings of the layer or middleware.
    #[inline]
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// The snapshot, for the adapter to record the request in where it lies.
    #[inline]
    pub(crate) fn snapshot_mut(&mut self) -> &mut Snapshot {
        &mut self.snapshot
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

    /// Whether a response of `status` is handed back as it is, without a look at it (the
    /// happy path).
    #[inline]
    pub(crate) fn is_happy(status: u16) -> bool {
        status < 400
    }

    /// What to do with the inner service's response of `status`, carrying `error` (a
    /// [`ReportedError`] or the framework's own error value), `bare` when its body is known
    /// to be empty: `None` hands it back as it is (after any report it is owed).
    pub(crate) fn answer(
        &self,
        status: StatusCode,
        error: Option<ReportedError>,
        bare: bool,
    ) -> Option<Answer> {
        if Self::is_happy(status.as_u16()) {
            return None;
        }
        match (status, error) {
            (StatusCode::NOT_FOUND, error) => self.not_found(bare, error).map(Answer::Now),
            (_, Some(error)) => Some(self.failed(Caught::Error(error), status, Origin::Error)),
            (status, None) if status.is_server_error() => {
                self.server_error_response(status);
                None
            }
            _ => None,
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
            in_flight.notify(
                StatusCode::INTERNAL_SERVER_ERROR,
                capture,
                &overrides,
                Origin::Panic,
            );
            let deadline = Instant::now().checked_add(timeout);
            let left = || {
                deadline.map_or(Duration::MAX, |d| {
                    d.saturating_duration_since(Instant::now())
                })
            };
            if let Some(notifier) = &in_flight.config.notifier {
                notifier.mailer().flush_all(left());
            }
            for sink in &in_flight.config.sinks {
                sink.flush(left());
            }
        })
    }

    /// A panic in the handler: always a 500.
    pub(crate) fn panicked(&self, caught: Caught) -> Answer {
        self.failed(caught, StatusCode::INTERNAL_SERVER_ERROR, Origin::Panic)
    }

    fn request_parts(&self, overrides: &Overrides) -> RequestParts {
        RequestParts {
            request: self.snapshot.request_info(overrides, self.route()),
            debug: self.config.debug,
        }
    }

    fn capture(&self, capture: Capture, overrides: &Overrides) -> Capture {
        self.request_parts(overrides).apply(capture, &self.config)
    }

    /// A panic or an error value: the technical page in debug mode; otherwise the
    /// production page, and for a server error the admins' email and the sinks' reports.
    /// The capture is resolved, filtered and rendered on the report worker.
    fn failed(&self, caught: Caught, status: StatusCode, origin: Origin) -> Answer {
        let overrides = self.overrides();
        let parts = self.request_parts(&overrides);
        let format = negotiate(self.snapshot.accept());
        let config = Arc::clone(&self.config);
        // As Django, a 403 gets the 403 page even in debug mode.
        if config.debug && status != StatusCode::FORBIDDEN {
            let (sender, body) = oneshot::channel();
            let pending = PendingPage {
                body,
                status,
                format,
                config: Arc::clone(&config),
            };
            let render = move || {
                let capture = parts.apply(caught.resolve(), &config);
                let filter = overrides.filter.as_deref();
                let body = match (
                    overrides.renderer.as_ref().or(config.renderer.as_ref()),
                    &config.template,
                ) {
                    (Some(renderer), _) => renderer.render(&capture, filter, format),
                    (None, Some(chosen)) => {
                        let report = match filter {
                            Some(filter) => config.reporter.report_with(&capture, filter),
                            None => config.reporter.report(&capture),
                        };
                        template::page(chosen.as_ref(), &report, format)
                    }
                    (None, None) => {
                        DebugPageRenderer::render(&config.reporter, &capture, filter, format)
                    }
                };
                let _ = sender.send(body);
            };
            // With the worker's queue full, the page is rendered here: debug mode is for
            // development, and a page is owed.
            if let Err(render) = background::submit(Box::new(render)) {
                render();
            }
            return Answer::Later(pending);
        }
        if status.is_server_error() && (config.notifier.is_some() || !config.sinks.is_empty()) {
            let message = self.log_message(status);
            let report = move || {
                let capture = parts.apply(caught.resolve(), &config);
                notify(&config, message, capture, &overrides, origin);
            };
            if background::submit(Box::new(report)).is_err() {
                background::count_dropped();
            }
        }
        Answer::Now(self.config.pages.response(status, format))
    }

    /// A 5xx without an error value: handed back unchanged, and (debug off) mailed as
    /// Django mails a logged server error, `Report at /path` with the request.
    fn server_error_response(&self, status: StatusCode) {
        if !self.config.debug && (self.config.notifier.is_some() || !self.config.sinks.is_empty()) {
            let overrides = self.overrides();
            let message = self.log_message(status);
            // What the request logged before it failed (its own trail, entered while the
            // response is looked at).
            let mut logged = Capture::message(message);
            logged.breadcrumbs = crate::runtime::breadcrumbs::snapshot();
            let capture = self.capture(logged, &overrides);
            let origin = Origin::Log(Level::Error);
            self.notify(status, capture, &overrides, origin);
        }
    }

    /// Django's log message: `Internal Server Error: /path`.
    fn log_message(&self, status: StatusCode) -> String {
        let reason = status.canonical_reason().unwrap_or("Server Error");
        format!("{reason}: {}", self.snapshot.path())
    }

    /// The admins' email and the sinks' reports of a server error.
    fn notify(&self, status: StatusCode, capture: Capture, overrides: &Overrides, origin: Origin) {
        notify(
            &self.config,
            self.log_message(status),
            capture,
            overrides,
            origin,
        );
    }

    /// A 404. Debug mode: the technical 404 page when the handler gave no body of its own
    /// (the router's fallback) or an error value with a reason. Otherwise: the broken-link
    /// rules, and the production 404 page in place of an empty body or an error value.
    /// `None`: the response is handed back as it is.
    fn not_found(&self, bare: bool, error: Option<ReportedError>) -> Option<Page> {
        let format = negotiate(self.snapshot.accept());
        let config = &self.config;
        if config.debug {
            if !bare && error.is_none() {
                return None;
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
            return Some(page(StatusCode::NOT_FOUND, format, body));
        }
        if let Some(reporter) = &config.broken_links
            && let Some(link) = self.snapshot.not_found()
        {
            reporter.not_found(link);
        }
        if bare || error.is_some() {
            return Some(config.pages.response(StatusCode::NOT_FOUND, format));
        }
        None
    }
}

/// The sinks' reports and the admins' email of `capture` with the log `message`, through
/// the request's filter when it has one.
fn notify(
    config: &Config,
    message: String,
    capture: Capture,
    overrides: &Overrides,
    origin: Origin,
) {
    let mut capture = capture;
    let controls = config.controls.clone().unwrap_or_default();
    if !controls.admit_once(&mut capture) {
        return;
    }
    let reporter = match (&overrides.filter, config.reporter_chosen) {
        (Some(filter), _) => Some(ExceptionReporter::with_shared_filter(Arc::clone(filter))),
        (None, true) => Some(config.reporter.clone()),
        (None, false) => None,
    };
    for sink in &config.sinks {
        let reporter = reporter.as_ref().unwrap_or(&config.reporter);
        sink.capture_controlled(capture.clone(), reporter, controls.clone(), origin);
    }
    let Some(notifier) = &config.notifier else {
        return;
    };
    let with_settings;
    let notifier = match (&config.controls, &config.template) {
        (None, None) => notifier,
        (controls, chosen) => {
            let mut changed = notifier.clone();
            if let Some(controls) = controls {
                changed = changed.controls(controls.clone());
            }
            if let Some(chosen) = chosen
                && !changed.has_template()
            {
                changed = changed.shared_template(Arc::clone(chosen));
            }
            with_settings = changed;
            &with_settings
        }
    };
    match reporter {
        Some(reporter) => {
            notifier
                .clone()
                .reporter(reporter)
                .notify(Level::Error, message, capture)
        }
        None => notifier.notify(Level::Error, message, capture),
    };
}
