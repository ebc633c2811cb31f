//! The panic hook: captures what a report needs inside the hook, and hands it off.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! let _hook = safe_report::panic::HookBuilder::new()
//!     .in_app_include([env!("CARGO_CRATE_NAME")])
//!     .install();
//! // … a panic anywhere now produces a filtered report on stderr; the hook that was
//! // installed before still runs after ours.
//! // When `_hook` is dropped (also when a panic unwinds `main`) pending reports are written,
//! // waiting at most five seconds (`HookBuilder::flush_timeout`).
//! ```
//!
//! # What happens in the hook
//!
//! Only capture: the panic message and location, the thread's name, the stack as raw
//! addresses (about ten microseconds), and the registered frame variables
//! ([`vars!`](crate::vars); values whose capture runs user code are formatted on a helper
//! thread while this one waits, since a panic inside a panic hook aborts the process; it
//! waits at most [`HookBuilder::format_timeout`], since that code may wait for a lock the
//! panicking thread holds).
//! No symbol is resolved, nothing is rendered and nothing is written in the hook. The
//! capture goes to this crate's reporting thread, which resolves symbols (with a cache),
//! builds the report through the filter and delivers it; the hook that was installed
//! before runs after ours.
//!
//! A web framework integration that catches panics itself runs the handler inside
//! [`handled_here`]; the hook then only keeps the capture for [`take_last_capture`],
//! which the integration calls after catching the panic to report it with the request.
//!
//! With `panic = "abort"` the process ends when the hook returns, and nothing is caught:
//! the hook then reports every panic itself, inside [`handled_here`] too (where the web
//! layer has it send the admin email with the request), and waits for the delivery to
//! every destination, the emails of admin notifiers and the sinks' events included (at most
//! [`HookBuilder::flush_timeout`] in all).

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::model::redacted::Count;
use crate::model::{Capture, Environment, ErrorInfo, panic_message};
use crate::render::{ReportTemplate, template};
use crate::report::{Controls, ExceptionReporter, Report};
use crate::runtime::scope::{self, CapturedScope, SiteScope};
use crate::runtime::span_scopes;
use crate::runtime::trace::{self, InApp, PanicLocation};

/// The error type shown for a panic.
pub const PANIC_TYPE: &str = "panic";

/// Where the reporting thread sends a panic's report.
#[derive(Clone)]
#[non_exhaustive]
pub enum Destination {
    /// The text report, with each frame's variables, on standard error.
    Stderr,
    /// The text report, with each frame's variables, appended to a file.
    File(PathBuf),
    /// A function of yours, given the report (render it as you like).
    Callback(Arc<dyn Fn(&Report) + Send + Sync>),
    /// The admin notifier: an email to the admins (queued, flood-controlled; feature `mail`).
    #[cfg(feature = "mail")]
    Notifier(crate::mail::AdminNotifier),
    /// A sink: a Sentry-compatible server or a webhook (queued; the report, never the
    /// capture, goes to its worker).
    Sink(crate::sinks::Sink),
}

impl Destination {
    /// Whether the destination builds its own report from the capture (the admin notifier
    /// renders an email, with its own controls).
    fn renders_itself(&self) -> bool {
        #[cfg(feature = "mail")]
        if let Destination::Notifier(_) = self {
            return true;
        }
        false
    }
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Stderr => f.write_str("Stderr"),
            Destination::File(path) => f.debug_tuple("File").field(path).finish(),
            Destination::Callback(_) => f.write_str("Callback(..)"),
            #[cfg(feature = "mail")]
            Destination::Notifier(_) => f.write_str("Notifier(..)"),
            Destination::Sink(sink) => f.debug_tuple("Sink").field(sink).finish(),
        }
    }
}

/// Configures and installs the panic hook (once per process). `Debug` shows how many
/// settings there are, never their values.
#[derive(Clone)]
#[must_use]
pub struct HookBuilder {
    destinations: Vec<Destination>,
    reporter: Option<ExceptionReporter>,
    in_app: InApp,
    settings: Option<Arc<Map<String, Value>>>,
    application: Option<String>,
    debug: bool,
    queue: usize,
    flush_timeout: Duration,
    format_timeout: Duration,
    warm_up: bool,
    controls: Controls,
    template: Option<Arc<dyn ReportTemplate>>,
}

impl std::fmt::Debug for HookBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookBuilder")
            .field("destinations", &self.destinations)
            .field("reporter", &self.reporter)
            .field("in_app", &self.in_app)
            .field(
                "settings",
                &self
                    .settings
                    .as_ref()
                    .map(|settings| Count::entries(settings.len())),
            )
            .field("application", &self.application)
            .field("debug", &self.debug)
            .field("queue", &self.queue)
            .field("flush_timeout", &self.flush_timeout)
            .field("warm_up", &self.warm_up)
            .field("controls", &self.controls)
            .field("template", &self.template.is_some())
            .finish()
    }
}

impl Default for HookBuilder {
    fn default() -> Self {
        Self {
            destinations: Vec::new(),
            reporter: None,
            in_app: InApp::default(),
            settings: None,
            application: None,
            debug: false,
            queue: 64,
            flush_timeout: Duration::from_secs(5),
            format_timeout: Duration::from_secs(2),
            warm_up: false,
            controls: Controls::default(),
            template: None,
        }
    }
}

impl HookBuilder {
    /// A hook reporting to standard error, with the default filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a destination (standard error is used when none is added).
    pub fn destination(mut self, destination: Destination) -> Self {
        self.destinations.push(destination);
        self
    }

    /// The reporter (filter, source root) used to build reports.
    pub fn reporter(mut self, reporter: ExceptionReporter) -> Self {
        self.reporter = Some(reporter);
        self
    }

    /// Ignore rules, sampling, grouping and `before_send` for panic reports (see
    /// [`Controls`]): applied on the reporting thread, once per panic, before any
    /// destination; an admin notifier destination without controls of its own gets these.
    /// The hook itself only captures, as always.
    pub fn controls(mut self, controls: Controls) -> Self {
        self.controls = controls;
        self
    }

    /// Renders panic reports with `template` (see
    /// [`render::template`](crate::render::template)): its
    /// [`log_text`](ReportTemplate::log_text) on standard error and in files, its email
    /// parts for an admin notifier destination without a template of its own. It gets the
    /// filtered report, after `before_send`, on the reporting thread; where it fails, our
    /// rendering is used.
    pub fn template(mut self, template: impl ReportTemplate) -> Self {
        self.template = Some(Arc::new(template));
        self
    }

    /// Application code is what starts with one of these prefixes (crate names or paths);
    /// by default, everything but the standard library and registry crates.
    pub fn in_app_include<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.in_app = self.in_app.include(prefixes);
        self
    }

    /// Code starting with one of these prefixes is never application code.
    pub fn in_app_exclude<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.in_app = self.in_app.exclude(prefixes);
        self
    }

    /// Settings to include in every panic report (any serializable map or struct). They are
    /// serialized now; if that fails or panics, the reports show why instead (see
    /// [`Capture::with_settings`]).
    pub fn settings<T: serde::Serialize + ?Sized>(mut self, settings: &T) -> Self {
        let settings = scope::while_formatting(|| Capture::settings_map(settings));
        self.settings = Some(Arc::new(settings));
        self
    }

    /// The application's name and version, for the environment section.
    pub fn application(mut self, name_and_version: impl Into<String>) -> Self {
        self.application = Some(name_and_version.into());
        self
    }

    /// Debug mode (declared-sensitive variables are then not hidden by the filter; they are
    /// never formatted either way).
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// How many panics may wait for the reporting thread (default 64); beyond that they
    /// are counted and dropped, never waited on.
    pub fn queue(mut self, capacity: usize) -> Self {
        self.queue = capacity.max(1);
        self
    }

    /// How long the flush at exit (and the hook, with `panic = "abort"`) waits for pending
    /// reports (default 5 seconds; `Duration::MAX` waits as long as it takes).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// How long the hook waits for the registered values whose capture runs user code
    /// (`Serialize`, `Debug`) to be formatted (default 2 seconds). Such code may wait for a
    /// lock that the panicking thread holds, which it only releases when the panic unwinds,
    /// after the hook; values not formatted by then are reported as not captured, the first
    /// of them named as the one that did not finish. `Duration::MAX` waits as long as it
    /// takes.
    pub fn format_timeout(mut self, timeout: Duration) -> Self {
        self.format_timeout = timeout;
        self
    }

    /// Loads the debug information on a background thread now, so that the first report
    /// does not wait for it (tens of milliseconds and tens of megabytes, once).
    pub fn warm_up(mut self, warm_up: bool) -> Self {
        self.warm_up = warm_up;
        self
    }

    /// Installs the hook, chaining the one installed before. Only the first call in a
    /// process installs anything: a later call keeps the hook installed first, says on
    /// standard error that this builder's settings are not used, and returns a guard for
    /// that hook ([`try_install`](Self::try_install) returns an error instead).
    ///
    /// The guard flushes pending reports when dropped; it does not uninstall the hook,
    /// which stays for the life of the process (a panic hook that another one chained
    /// cannot be taken out safely).
    pub fn install(self) -> HookGuard {
        let flush_timeout = self.flush_timeout;
        self.try_install().unwrap_or_else(|AlreadyInstalled| {
            eprintln!(
                "safe-report: the panic hook was installed before; the settings of this \
                 HookBuilder are not used"
            );
            HookGuard { flush_timeout }
        })
    }

    /// Installs the hook as [`install`](Self::install) does, or returns
    /// [`AlreadyInstalled`] when a hook of this crate was installed before in the process
    /// (and keeps that one).
    ///
    /// ```
    /// use safe_report::panic::{AlreadyInstalled, HookBuilder};
    ///
    /// let _hook = HookBuilder::new().install();
    /// assert_eq!(HookBuilder::new().debug(true).try_install().err(), Some(AlreadyInstalled));
    /// ```
    pub fn try_install(self) -> Result<HookGuard, AlreadyInstalled> {
        let flush_timeout = self.flush_timeout;
        let mut installed = false;
        // The hook is set inside the initialisation: a thread that installs at the same
        // time waits until it is set, so its own panics are captured.
        STATE.get_or_init(|| {
            installed = true;
            let state = Arc::new(State::start(self));
            if state.config.warm_up {
                trace::warm_up();
            }
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                hook(info);
                if !scope::is_formatting() {
                    previous(info);
                }
            }));
            state
        });
        if !installed {
            return Err(AlreadyInstalled);
        }
        Ok(HookGuard { flush_timeout })
    }
}

/// The panic hook of this crate was installed before in the process; the first one stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyInstalled;

impl std::fmt::Display for AlreadyInstalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the panic hook of safe-report is already installed")
    }
}

impl std::error::Error for AlreadyInstalled {}

/// Flushes pending panic reports when dropped (see [`HookBuilder::install`]).
#[derive(Debug)]
#[must_use = "dropping the guard at once flushes at once; keep it for the life of `main`"]
pub struct HookGuard {
    flush_timeout: Duration,
}

impl Drop for HookGuard {
    fn drop(&mut self) {
        flush(self.flush_timeout);
    }
}

/// Waits until every panic captured so far has been reported, at most `timeout`. Returns
/// whether everything was delivered.
pub fn flush(timeout: Duration) -> bool {
    match STATE.get() {
        Some(state) => state.wait_delivered(state.submitted(), timeout),
        None => true,
    }
}

/// How long the hook took to capture the most recent panic on this thread (the message,
/// the unresolved trace and the registered variables), for measuring.
pub fn last_capture_duration() -> Option<Duration> {
    CAPTURE_TIME.get()
}

/// How many panics were dropped because the reporting queue was full.
pub fn dropped() -> u64 {
    STATE.get().map_or(0, |state| {
        *state.dropped.lock().unwrap_or_else(PoisonError::into_inner)
    })
}

/// Runs `f` as code whose panics are caught and reported by the caller (a web framework
/// integration): a panic inside is captured for [`take_last_capture`] and not reported by
/// the reporting thread. With `panic = "abort"`, where nothing is caught, the hook reports
/// it as any other panic.
pub fn handled_here<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            HANDLED.set(HANDLED.get().saturating_sub(1));
        }
    }
    HANDLED.set(HANDLED.get() + 1);
    let _leave = Leave;
    f()
}

/// What a catch site does with a panic it will never catch, since the process aborts
/// (`panic = "abort"`): it reports the capture itself, from the hook, waiting at most the
/// given time for delivery.
pub(crate) type AbortReport = Box<dyn FnOnce(Capture, Duration)>;

/// [`handled_here`], for a catch site that also says how to report a panic it will never
/// catch (`panic = "abort"`); `on_abort` is `None` when the process unwinds.
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) fn handled_here_reporting<R>(on_abort: Option<AbortReport>, f: impl FnOnce() -> R) -> R {
    let Some(on_abort) = on_abort else {
        return handled_here(f);
    };
    struct Restore(Option<AbortReport>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = ON_ABORT.try_with(|slot| slot.replace(self.0.take()));
        }
    }
    let outer = ON_ABORT
        .try_with(|slot| slot.replace(Some(on_abort)))
        .unwrap_or(None);
    let _restore = Restore(outer);
    handled_here(f)
}

/// The capture the hook made of the most recent panic on this thread, taken (a second
/// call returns `None`). Symbols are resolved now, on the calling thread.
pub fn take_last_capture() -> Option<Capture> {
    take_last_panic().map(PendingPanic::resolve)
}

/// A panic the hook captured for a catch site, its symbols not resolved yet: a catch site
/// on an async runtime's thread hands it to the report worker to resolve.
pub(crate) struct PendingPanic {
    event: PanicEvent,
    state: &'static State,
}

impl PendingPanic {
    /// The capture, with the trace's symbols resolved now, on the calling thread.
    pub(crate) fn resolve(self) -> Capture {
        self.state.capture(self.event)
    }
}

/// [`take_last_capture`] without resolving the symbols.
pub(crate) fn take_last_panic() -> Option<PendingPanic> {
    let event = LAST
        .try_with(|last| last.try_borrow_mut().ok()?.take())
        .ok()??;
    let state = STATE.get()?;
    Some(PendingPanic { event, state })
}

thread_local! {
    /// The last panic captured on this thread, for `take_last_capture`.
    static LAST: RefCell<Option<PanicEvent>> = const { RefCell::new(None) };
    /// Depth of `handled_here` calls on this thread.
    static HANDLED: Cell<u32> = const { Cell::new(0) };
    /// Set while the hook runs on this thread (a panic inside it is not captured again).
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
    /// How the innermost catch site reports a panic it will never catch (`panic = "abort"`).
    static ON_ABORT: RefCell<Option<AbortReport>> = const { RefCell::new(None) };
    /// How long the last capture on this thread took.
    static CAPTURE_TIME: Cell<Option<Duration>> = const { Cell::new(None) };
}

static STATE: OnceLock<Arc<State>> = OnceLock::new();

/// What the hook captures.
struct PanicEvent {
    message: String,
    thread: Option<String>,
    backtrace: trace::Trace,
    scopes: Vec<SiteScope>,
    spans: Vec<CapturedScope>,
    time: jiff::Timestamp,
    /// The tags and context values of the work that panicked.
    context: Option<std::sync::Arc<crate::model::TaskContext>>,
    /// Where the panic happened, for the frame of the function that panicked (the trace
    /// may not know: no debug information).
    location: Option<PanicLocation>,
    /// The events the thread (or the task it polled) logged before the panic.
    breadcrumbs: Vec<crate::model::Breadcrumb>,
}

/// What the hook hands to the reporting thread: a panic as captured, or (`panic =
/// "abort"`, inside a catch site, which needs the capture too) already resolved. A resolved
/// panic goes to standard error, files and callbacks only: the catch site mails it and
/// sends it to its sinks with the request, as it does when the process unwinds, and a
/// second copy would be a second event.
enum Pending {
    Event(PanicEvent),
    Resolved(Box<Capture>),
}

/// A panic for the reporting thread, numbered for the waits on its delivery.
struct Job {
    pending: Pending,
    sequence: u64,
}

struct Config {
    destinations: Vec<Destination>,
    reporter: ExceptionReporter,
    in_app: InApp,
    settings: Option<Arc<Map<String, Value>>>,
    environment: Environment,
    debug: bool,
    flush_timeout: Duration,
    format_timeout: Duration,
    warm_up: bool,
    controls: Controls,
    template: Option<Arc<dyn ReportTemplate>>,
}

impl Config {
    fn new(builder: HookBuilder) -> Self {
        let mut environment = Environment::current();
        environment.application = builder.application.clone();
        Self {
            destinations: if builder.destinations.is_empty() {
                vec![Destination::Stderr]
            } else {
                builder.destinations
            },
            reporter: builder.reporter.unwrap_or_default(),
            in_app: builder.in_app,
            settings: builder.settings,
            environment,
            debug: builder.debug,
            flush_timeout: builder.flush_timeout,
            format_timeout: builder.format_timeout,
            warm_up: builder.warm_up,
            controls: builder.controls,
            template: builder.template,
        }
    }

    /// Resolves a panic's trace and builds its capture.
    fn capture(&self, event: PanicEvent) -> Capture {
        let mut frames =
            trace::resolve_to_frames(&event.backtrace, &self.in_app, event.scopes, event.spans);
        if let Some(location) = &event.location {
            trace::place_location(&mut frames, location);
        }
        let mut environment = self.environment.clone();
        environment.server_time = Some(event.time.to_zoned_datetime(
            jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC),
        ));
        environment.thread = event.thread;
        Capture {
            debug: self.debug,
            error: ErrorInfo::new(Some(PANIC_TYPE.to_owned()), Some(event.message)),
            frames,
            request: None,
            settings: self.settings.clone(),
            environment: Some(environment),
            breadcrumbs: event.breadcrumbs,
            context: event.context,
            admitted: false,
        }
    }
}

struct State {
    config: Config,
    sender: SyncSender<Job>,
    progress: Mutex<Progress>,
    delivered: Condvar,
    dropped: Mutex<u64>,
}

#[derive(Default)]
struct Progress {
    submitted: u64,
    delivered: u64,
}

impl State {
    /// Records that the report with this sequence number has been delivered, and wakes
    /// whoever waits for it.
    fn mark_delivered(&self, sequence: u64) {
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        progress.delivered = progress.delivered.max(sequence);
        drop(progress);
        self.delivered.notify_all();
    }

    fn start(builder: HookBuilder) -> Self {
        let (sender, receiver) = sync_channel::<Job>(builder.queue);
        let state = Self {
            config: Config::new(builder),
            sender,
            progress: Mutex::new(Progress::default()),
            delivered: Condvar::new(),
            dropped: Mutex::new(0),
        };
        let spawned = std::thread::Builder::new()
            .name("safe-report-panics".to_owned())
            .spawn(move || {
                // What destinations log here is never turned into a report of its own.
                crate::runtime::mark_delivery_thread();
                for job in receiver {
                    let Some(state) = STATE.get() else { continue };
                    let sequence = job.sequence;
                    let (capture, remote) = match job.pending {
                        Pending::Event(event) => (state.capture(event), true),
                        Pending::Resolved(capture) => (*capture, false),
                    };
                    // A failing destination must not stop the thread.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        state.deliver(capture, remote);
                    }));
                    state.mark_delivered(sequence);
                }
            });
        if spawned.is_err() {
            eprintln!(
                "safe-report: could not start the panic reporting thread; panics are not reported"
            );
        }
        state
    }

    fn submitted(&self) -> u64 {
        self.progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .submitted
    }

    fn wait_delivered(&self, sequence: u64, timeout: Duration) -> bool {
        // `None`: no deadline (`Duration::MAX` and the like, which `+` would panic on).
        let deadline = Instant::now().checked_add(timeout);
        let mut progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner);
        while progress.delivered < sequence {
            progress = match deadline {
                None => self
                    .delivered
                    .wait(progress)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    self.delivered
                        .wait_timeout(progress, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }

    /// Resolves a panic's trace and builds its capture.
    fn capture(&self, event: PanicEvent) -> Capture {
        self.config.capture(event)
    }

    /// The text written to standard error or a file: the template's, else ours.
    fn log_text(&self, report: &Report) -> String {
        match &self.config.template {
            Some(chosen) => template::log_text(chosen.as_ref(), report),
            None => report.text().with_variables().to_string(),
        }
    }

    /// Delivers to every destination; without `remote`, only to the local ones (standard
    /// error, files, callbacks).
    fn deliver(&self, mut capture: Capture, remote: bool) {
        let controls = &self.config.controls;
        if !controls.admit_once(&mut capture) {
            return;
        }
        let needs_report = self.config.destinations.iter().any(|d| !d.renders_itself());
        let report = match needs_report.then(|| self.config.reporter.report(&capture)) {
            Some(report) => match controls.apply(report, self.config.reporter.filter()) {
                Some(report) => Some(report),
                // `before_send` dropped it: nothing goes anywhere.
                None => return,
            },
            None => None,
        };
        for destination in &self.config.destinations {
            match destination {
                Destination::Stderr => {
                    if let Some(report) = &report {
                        eprintln!("{}", self.log_text(report));
                    }
                }
                Destination::File(path) => {
                    if let Some(report) = &report {
                        use std::io::Write as _;
                        let written = std::fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(path)
                            .and_then(|mut file| writeln!(file, "{}", self.log_text(report)));
                        if let Err(error) = written {
                            eprintln!(
                                "safe-report: cannot write the panic report to {}: {error}",
                                path.display()
                            );
                        }
                    }
                }
                Destination::Callback(callback) => {
                    if let Some(report) = &report {
                        // User code: its panic is contained, and the destinations after it
                        // still get the report.
                        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            callback(report);
                        }));
                        if called.is_err() {
                            eprintln!("safe-report: a report callback panicked");
                        }
                    }
                }
                #[cfg(feature = "mail")]
                Destination::Notifier(_) if !remote => {}
                Destination::Sink(_) if !remote => {}
                #[cfg(feature = "mail")]
                Destination::Notifier(notifier) => {
                    let message = capture.error.message.clone().unwrap_or_default();
                    let mut notifier = notifier.clone();
                    if !controls.is_empty() && !notifier.has_controls() {
                        notifier = notifier.controls(controls.clone());
                    }
                    if let Some(template) = &self.config.template
                        && !notifier.has_template()
                    {
                        notifier = notifier.shared_template(Arc::clone(template));
                    }
                    notifier.notify(crate::mail::Level::Critical, message, capture.clone());
                }
                Destination::Sink(sink) => {
                    if let Some(report) = &report {
                        sink.send(report, crate::sinks::Origin::Panic);
                    }
                }
            }
        }
    }
}

/// Hands a panic to the reporting thread and returns its number. When the queue is full
/// the panic is counted as dropped and kept for a catch site, or, with `panic = "abort"`,
/// where nothing is caught and nothing else will run, delivered on this thread.
fn submit(state: &State, pending: Pending) -> u64 {
    let sequence = {
        let mut progress = state
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        progress.submitted += 1;
        progress.submitted
    };
    let job = Job { pending, sequence };
    if let Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) =
        state.sender.try_send(job)
    {
        let capture = match job.pending {
            Pending::Event(event) if !cfg!(panic = "abort") => {
                *state.dropped.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                // Keep it for a catch site, at least.
                keep_last(event);
                None
            }
            Pending::Event(event) => Some((state.capture(event), true)),
            Pending::Resolved(capture) => Some((*capture, false)),
        };
        if let Some((capture, remote)) = capture {
            state.deliver(capture, remote);
        }
        state.mark_delivered(sequence);
    }
    sequence
}

/// Keeps a capture for [`take_last_capture`]. Neither a thread whose locals are being
/// destroyed nor a capture being taken right now makes the hook panic (which would abort):
/// the capture is then not kept.
fn keep_last(event: PanicEvent) {
    let _ = LAST.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some(event);
        }
    });
}

/// A point in time that waits are measured against; `None` is no deadline (a timeout
/// such as `Duration::MAX`, which `Instant + Duration` would panic on).
struct Deadline(Option<Instant>);

impl Deadline {
    fn after(timeout: Duration) -> Self {
        Self(Instant::now().checked_add(timeout))
    }

    /// The time left (zero once passed; `Duration::MAX` without a deadline).
    fn left(&self) -> Duration {
        self.0.map_or(Duration::MAX, |deadline| {
            deadline.saturating_duration_since(Instant::now())
        })
    }
}

/// The hook itself: capture, hand off, never panic, never block on I/O (but with
/// `panic = "abort"`, wait for the delivery, within the flush timeout).
fn hook(info: &std::panic::PanicHookInfo<'_>) {
    // Panics of this crate's own formatting of variables are reported as formatting errors.
    if scope::is_formatting() || IN_HOOK.get() {
        return;
    }
    let Some(state) = STATE.get() else { return };
    // A panic while the reporting thread renders a report is not reported again.
    if std::thread::current().name() == Some("safe-report-panics") {
        return;
    }
    IN_HOOK.set(true);
    let started = Instant::now();
    let message = panic_message(info.payload());
    let message = match info.location() {
        Some(location) => format!(
            "{message} (at {}:{}:{})",
            location.file(),
            location.line(),
            location.column()
        ),
        None => message,
    };
    let event = PanicEvent {
        message,
        thread: std::thread::current().name().map(str::to_owned),
        backtrace: trace::Trace::capture(),
        scopes: scope::capture_scopes_in_panic(state.config.format_timeout),
        spans: span_scopes(),
        time: jiff::Timestamp::now(),
        context: crate::runtime::context::current(),
        location: info.location().map(PanicLocation::of),
        breadcrumbs: crate::runtime::breadcrumbs::snapshot(),
    };
    CAPTURE_TIME.set(Some(started.elapsed()));
    let handled = HANDLED.get() > 0;
    if !cfg!(panic = "abort") {
        if handled {
            // The catch site reports it, with what it knows (the request).
            keep_last(event);
        } else {
            submit(state, Pending::Event(event));
        }
    } else {
        // The process ends when the hook returns: nothing will be caught, so the hook
        // reports the panic to every destination and waits for the delivery.
        let deadline = Deadline::after(state.config.flush_timeout);
        let on_abort = if handled {
            ON_ABORT
                .try_with(|slot| slot.try_borrow_mut().ok()?.take())
                .ok()
                .flatten()
        } else {
            None
        };
        let sequence = match on_abort {
            Some(on_abort) => {
                let capture = state.capture(event);
                let sequence = submit(state, Pending::Resolved(Box::new(capture.clone())));
                on_abort(capture, deadline.left());
                sequence
            }
            None => submit(state, Pending::Event(event)),
        };
        state.wait_delivered(sequence, deadline.left());
        for destination in &state.config.destinations {
            match destination {
                #[cfg(feature = "mail")]
                Destination::Notifier(notifier) => {
                    notifier.mailer().flush_all(deadline.left());
                }
                Destination::Sink(sink) => {
                    sink.flush(deadline.left());
                }
                _ => {}
            }
        }
    }
    IN_HOOK.set(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_report_has_the_panic_location_on_its_top_frame_when_symbols_say_nothing() {
        let config = Config::new(HookBuilder::new());
        let line = line!(); // the panic location of this test
        let event = PanicEvent {
            message: "boom".to_owned(),
            thread: None,
            // No frame resolves (as in a build without debug information).
            backtrace: trace::Trace::default(),
            scopes: Vec::new(),
            spans: Vec::new(),
            time: jiff::Timestamp::UNIX_EPOCH,
            context: None,
            location: Some(PanicLocation {
                file: "src/hook.rs".to_owned(),
                line,
                column: 20,
            }),
            breadcrumbs: Vec::new(),
        };
        let capture = config.capture(event);
        let top = capture
            .frames
            .last()
            .expect("a frame for the panic location");
        assert_eq!(top.file.as_deref(), Some("src/hook.rs"));
        assert_eq!((top.line, top.column), (Some(line), Some(20)));
        assert!(top.in_app);
        // The source around it is read from disk (relative to the working directory).
        let text = config.reporter.report(&capture).text().to_string();
        assert!(
            text.contains(&format!("File \"src/hook.rs\", line {line}")),
            "{text}"
        );
        assert!(
            text.contains("// the panic location of this test"),
            "{text}"
        );
    }
}
