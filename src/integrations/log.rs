//! The `log` crate (feature `log`): ERROR records as reports, as Django's
//! `AdminEmailHandler` makes them of logging records, in front of the application's own
//! logger, which keeps working.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//! use safe_report::integrations::log::ReportLogger;
//!
//! let reports = Arc::new(Mutex::new(Vec::new()));
//! let sink = Arc::clone(&reports);
//! ReportLogger::new()
//!     .on_error(move |capture| sink.lock().unwrap().push(capture))
//!     .install()
//!     .unwrap();
//!
//! log::info!("not a report");
//! log::error!("inventory sync failed for {}", "sku-17");
//!
//! // Reports are built on the report worker.
//! safe_report::runtime::background::flush(Duration::from_secs(60));
//! let reports = reports.lock().unwrap();
//! assert_eq!(reports.len(), 1);
//! assert_eq!(reports[0].error.message.as_deref(), Some("inventory sync failed for sku-17"));
//! ```
//!
//! Records at INFO or above (see [`ReportLogger::breadcrumbs`]) are also kept as
//! breadcrumbs of the thread or task that logs them: the next report made there shows them
//! ([`runtime::breadcrumbs`](crate::runtime::breadcrumbs)).
//!
//! The thread that logs formats the record's message and takes the stack's addresses, only
//! for records at the report level; the symbols are resolved and the callback runs on the
//! report worker ([`runtime::background`](crate::runtime::background)). Records about this
//! crate's own work (its target, or logged on a thread that delivers reports) are passed to
//! the wrapped logger and never reported, so a failing delivery is not reported again.

use std::sync::Arc;

use log::{LevelFilter, Log, Metadata, Record};

use crate::model::{BreadcrumbLevel, Capture, Environment, ErrorInfo};
use crate::runtime::trace::{self, CallSite, InApp};
use crate::runtime::{background, breadcrumbs};

type Sink = Arc<dyn Fn(Capture) + Send + Sync>;

/// A `log::Log` that reports ERROR records (or the level set with [`level`](Self::level))
/// and hands every record to the logger it wraps.
pub struct ReportLogger {
    inner: Option<Box<dyn Log>>,
    level: LevelFilter,
    breadcrumbs: LevelFilter,
    max_level: Option<LevelFilter>,
    in_app: InApp,
    sink: Option<Sink>,
}

impl std::fmt::Debug for ReportLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportLogger")
            .field("wraps", &self.inner.is_some())
            .field("level", &self.level)
            .field("breadcrumbs", &self.breadcrumbs)
            .field("max_level", &self.max_level)
            .field("on_error", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ReportLogger {
    fn default() -> Self {
        Self::new()
    }
}

impl ReportLogger {
    /// A logger that wraps none and reports nothing until [`on_error`](Self::on_error) or
    /// [`notify`](Self::notify) is set.
    pub fn new() -> Self {
        Self {
            inner: None,
            level: LevelFilter::Error,
            breadcrumbs: LevelFilter::Info,
            max_level: None,
            in_app: InApp::default(),
            sink: None,
        }
    }

    /// Hands every record to `logger` as well (env_logger, simplelog, …), which decides on
    /// its own what it writes. Give its level with [`max_level`](Self::max_level), since
    /// this logger is installed in its place.
    #[must_use]
    pub fn wrap(mut self, logger: impl Log + 'static) -> Self {
        self.inner = Some(Box::new(logger));
        self
    }

    /// The most verbose level any record is made for (`log::set_max_level`), for the
    /// wrapped logger; at least the report level. Default: the report level, or what was
    /// set before [`install`](Self::install) if that is more verbose.
    #[must_use]
    pub fn max_level(mut self, level: LevelFilter) -> Self {
        self.max_level = Some(level);
        self
    }

    /// The least severe level reported (default: ERROR).
    #[must_use]
    pub fn level(mut self, level: LevelFilter) -> Self {
        self.level = level;
        self
    }

    /// The most verbose level kept as a breadcrumb (default: INFO, so INFO, WARN and
    /// ERROR records); `LevelFilter::Off` keeps none. Every record at this level or above
    /// goes into the trail of the thread (or task) that logs it, and reports carry the
    /// trail: see [`runtime::breadcrumbs`](crate::runtime::breadcrumbs).
    ///
    /// ```
    /// use log::LevelFilter;
    /// let logger = safe_report::integrations::log::ReportLogger::new().breadcrumbs(LevelFilter::Warn);
    /// # let _ = logger;
    /// ```
    #[must_use]
    pub fn breadcrumbs(mut self, level: LevelFilter) -> Self {
        self.breadcrumbs = level;
        self
    }

    /// Rules for which frames of a record's trace are application code.
    #[must_use]
    pub fn in_app(mut self, in_app: InApp) -> Self {
        self.in_app = in_app;
        self
    }

    /// Reports records to `sink`, as captures, on the report worker.
    #[must_use]
    pub fn on_error(mut self, sink: impl Fn(Capture) + Send + Sync + 'static) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// Reports records to the admin notifier (queued, flood-controlled; never blocks), at
    /// the record's level, with its message as the subject's.
    ///
    /// Feature `mail`.
    #[cfg(feature = "mail")]
    #[must_use]
    pub fn notify(self, notifier: crate::mail::AdminNotifier) -> Self {
        self.on_error(move |capture| {
            let message = capture.error.message.clone().unwrap_or_default();
            notifier.notify(crate::model::Level::Error, message, capture);
        })
    }

    /// Makes this the process's logger (`log::set_boxed_logger`) and sets the maximum
    /// level. Fails when a logger was set before: wrap that one instead.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        let level = [
            Some(self.level),
            Some(self.breadcrumbs),
            self.max_level,
            Some(log::max_level()),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(LevelFilter::Error);
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(level);
        Ok(())
    }

    fn report(&self, record: &Record<'_>) {
        let Some(sink) = &self.sink else { return };
        if record.level() > self.level || is_own(record.target()) {
            return;
        }
        // The record borrows its parts: what the report needs is copied here.
        let message = record.args().to_string();
        let module = record.module_path().unwrap_or(record.target()).to_owned();
        let file = record.file().map(str::to_owned);
        let line = record.line();
        let stack = trace::Trace::capture();
        let environment = Environment::current();
        let breadcrumbs = crate::runtime::breadcrumbs::snapshot();
        let context = crate::runtime::context::current();
        let in_app = self.in_app.clone();
        let sink = Arc::clone(sink);
        let report = move || {
            let symbols = trace::resolve(&stack);
            let site = CallSite {
                module: &module,
                file: file.as_deref(),
                line,
            };
            let frames = trace::event_frames(
                trace::to_frames(&symbols, &in_app, Vec::new()),
                |frame| frame.function.starts_with("log::__private_api"),
                is_dispatch,
                &site,
                Vec::new(),
            );
            sink(Capture {
                error: ErrorInfo::new(None, Some(message)),
                frames,
                environment: Some(environment),
                breadcrumbs,
                context,
                ..Capture::default()
            });
        };
        if background::submit(Box::new(report)).is_err() {
            background::count_dropped();
        }
    }

    /// Keeps the record as a breadcrumb: copies its target and message, nothing else.
    fn keep_breadcrumb(&self, record: &Record<'_>) {
        if record.level() > self.breadcrumbs || is_own(record.target()) {
            return;
        }
        let level = match record.level() {
            log::Level::Error => BreadcrumbLevel::Error,
            log::Level::Warn => BreadcrumbLevel::Warn,
            log::Level::Info => BreadcrumbLevel::Info,
            log::Level::Debug => BreadcrumbLevel::Debug,
            log::Level::Trace => BreadcrumbLevel::Trace,
        };
        breadcrumbs::record_with(level, record.target(), |crumb| {
            crumb.message(*record.args());
        });
    }
}

impl Log for ReportLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
            || metadata.level() <= self.breadcrumbs
            || self
                .inner
                .as_ref()
                .is_some_and(|inner| inner.enabled(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        if let Some(inner) = &self.inner
            && inner.enabled(record.metadata())
        {
            inner.log(record);
        }
        // The report carries the records before this one, then this one joins the trail.
        self.report(record);
        self.keep_breadcrumb(record);
    }

    fn flush(&self) {
        if let Some(inner) = &self.inner {
            inner.flush();
        }
    }
}

/// Whether a record is about this crate's own work: logged by this crate, or on a thread
/// that delivers reports.
fn is_own(target: &str) -> bool {
    const CRATE: &str = env!("CARGO_CRATE_NAME");
    let ours = target
        .strip_prefix(CRATE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
    ours || crate::runtime::on_delivery_thread()
}

/// A frame of the machinery that delivers a record to this logger.
fn is_dispatch(frame: &crate::model::Frame) -> bool {
    const PREFIXES: &[&str] = &[
        "log::",
        "<log::",
        "safe_report::integrations::log",
        "<safe_report::integrations::log",
    ];
    PREFIXES
        .iter()
        .any(|prefix| frame.function.starts_with(prefix))
}
