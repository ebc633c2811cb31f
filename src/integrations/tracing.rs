//! `tracing` integration: span fields as frame variables, ERROR events as reports.
//!
//! Add [`ReportLayer`] to a `tracing_subscriber` registry. The fields of every span (the
//! arguments `#[tracing::instrument]` records, and fields recorded later) then become the
//! variables of that span's frame in any report made while the span is entered: a panic,
//! a [`Traced`](crate::Traced) error, or an ERROR event, which the layer turns into a report
//! itself (Django's `AdminEmailHandler`: the event's message is the report's message, its
//! fields the variables of the event's frame).
//!
//! Events at INFO or above (see [`ReportLayer::breadcrumbs`]) are also kept, with their
//! fields, as breadcrumbs of the thread or task that logs them: the next report made there
//! shows them ([`runtime::breadcrumbs`](crate::runtime::breadcrumbs)).
//!
//! Events about this crate's own work are never reported: those it logs itself (target
//! `safe_report::…`, such as a mail worker giving up on a report) and anything logged on
//! the threads that deliver reports (what a mail library says while a delivery fails).
//! Other layers of the subscriber still see them. Reporting them would mail a report
//! through the path that just failed, and report that failure too.
//!
//! Names are checked when a field is recorded: a field whose name the filter hides
//! (`password`, `api_key`, …) or that the span declares sensitive is stored as the
//! substitute and never formatted. A span declares sensitive fields with a field named
//! `sensitive_variables` (`"card_number, cvv"`, or `"__ALL__"`); spans inside it inherit
//! the declaration, as in Django.
//!
//! Fields are formatted when recorded, outside every lock (the layer keeps them in a table
//! of its own, not in the registry's span extensions), and a `Debug` that panics becomes
//! `Error in formatting: …` instead of a panic out of `record`. The panic hook reads the
//! table without waiting: a panic while another layer holds a span's lock (the fmt layer
//! formats recorded values under it) cannot block the report.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use tracing_subscriber::layer::SubscriberExt as _;
//! use safe_report::integrations::tracing::ReportLayer;
//!
//! let reports = Arc::new(Mutex::new(Vec::new()));
//! let sink = Arc::clone(&reports);
//! let subscriber = tracing_subscriber::registry().with(
//!     ReportLayer::new().on_error(move |capture| sink.lock().unwrap().push(capture)),
//! );
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("login", user = "alice", password = "hunter2");
//!     let _entered = span.enter();
//!     tracing::error!(attempt = 3, "login failed");
//! });
//! // The report is built on the report worker.
//! safe_report::runtime::background::flush(std::time::Duration::from_secs(60));
//! let reports = reports.lock().unwrap();
//! let frame = reports[0].frames.iter().find(|f| f.function.ends_with("login")).unwrap();
//! assert_eq!(frame.vars[1].value, safe_report::DEFAULT_SUBSTITUTE);
//! assert_eq!(reports[0].error.message.as_deref(), Some("login failed"));
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::filter::{ReporterFilter, SafeReporterFilter};
use crate::limits::DEFAULT_SUBSTITUTE;
use tracing::level_filters::LevelFilter;

use crate::model::{
    BreadcrumbLevel, Capture, CapturedValue, ErrorInfo, Frame, SensitiveNames, Variable,
};
use crate::runtime::scope::{CapturedScope, format_guarded};
use crate::runtime::trace::{self, InApp};

/// The name of the span field that declares sensitive fields.
pub const SENSITIVE_FIELD: &str = "sensitive_variables";

type Sink = Arc<dyn Fn(Capture) + Send + Sync>;

/// A `tracing_subscriber` layer that keeps span fields for reports and reports ERROR
/// events (see the [module docs](self)).
///
/// A clone has the same configuration and starts with no spans of its own (it belongs in
/// another subscriber).
pub struct ReportLayer {
    filter: Arc<dyn ReporterFilter>,
    on_error: Option<Sink>,
    in_app: InApp,
    level: Level,
    breadcrumbs: LevelFilter,
    spans: SpanTable,
}

impl Clone for ReportLayer {
    fn clone(&self) -> Self {
        Self {
            filter: Arc::clone(&self.filter),
            on_error: self.on_error.clone(),
            in_app: self.in_app.clone(),
            level: self.level,
            breadcrumbs: self.breadcrumbs,
            spans: SpanTable::default(),
        }
    }
}

impl fmt::Debug for ReportLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportLayer")
            .field("level", &self.level)
            .field("breadcrumbs", &self.breadcrumbs)
            .field("on_error", &self.on_error.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ReportLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ReportLayer {
    /// A layer that keeps span fields, with the default filter's name rules, and reports
    /// nothing by itself until [`on_error`](Self::on_error) is set.
    pub fn new() -> Self {
        // From now on, captures carry the fields of the spans a thread is in.
        crate::runtime::set_span_source(current_span_scopes);
        Self {
            filter: Arc::new(SafeReporterFilter::default()),
            on_error: None,
            in_app: InApp::default(),
            level: Level::ERROR,
            breadcrumbs: LevelFilter::INFO,
            spans: SpanTable::default(),
        }
    }

    /// The filter whose name rules decide, when a field is recorded, which fields are
    /// hidden (never formatted).
    #[must_use]
    pub fn filter(mut self, filter: impl ReporterFilter + 'static) -> Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Reports events at `level` or more severe (default: ERROR) to `sink`, as captures.
    ///
    /// The thread that logged only takes the event's fields and the stack's addresses;
    /// the symbols are resolved and `sink` is called on the report worker
    /// ([`runtime::background`](crate::runtime::background)), whose
    /// [`flush`](crate::runtime::background::flush) waits for it.
    #[must_use]
    pub fn on_error(mut self, sink: impl Fn(Capture) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(sink));
        self
    }

    /// Reports events to the admin notifier (queued, flood-controlled; never blocks).
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

    /// Reports events to `sink` (a Sentry-compatible server, a webhook; queued, never
    /// blocks), built through this layer's filter on the sink's worker. Like
    /// `notify`, it replaces what [`on_error`](Self::on_error) set; to report
    /// to both, call both from one `on_error` closure.
    #[must_use]
    pub fn sink(self, sink: crate::sinks::Sink) -> Self {
        let reporter =
            crate::report::ExceptionReporter::with_shared_filter(Arc::clone(&self.filter));
        self.on_error(move |capture| {
            sink.capture(
                capture,
                &reporter,
                crate::sinks::Origin::Log(crate::model::Level::Error),
            );
        })
    }

    /// The most verbose level kept as a breadcrumb (default: INFO, so INFO, WARN and ERROR
    /// events); `LevelFilter::OFF` keeps none. Every event at this level or above goes into
    /// the trail of the thread (or task) that logs it, with its fields, and reports carry
    /// the trail: see [`runtime::breadcrumbs`](crate::runtime::breadcrumbs).
    ///
    /// ```
    /// use tracing::level_filters::LevelFilter;
    /// let layer = safe_report::integrations::tracing::ReportLayer::new().breadcrumbs(LevelFilter::WARN);
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn breadcrumbs(mut self, level: LevelFilter) -> Self {
        self.breadcrumbs = level;
        self
    }

    /// The least severe level reported (default: ERROR).
    #[must_use]
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Rules for which frames of an event's trace are application code.
    #[must_use]
    pub fn in_app(mut self, in_app: InApp) -> Self {
        self.in_app = in_app;
        self
    }
}

/// The fields of the spans a layer has seen, by span id.
///
/// They are kept here rather than in the registry's span extensions: those sit behind one
/// lock per span, which other layers hold while they run user code (the fmt layer formats
/// recorded values under it), and the panic hook must never wait for a lock the panicking
/// thread may hold. Only this module's code runs under this table's locks, for a lookup,
/// an insert or a removal, never user code; the hook only tries them. Spans are spread over
/// a few shards, so that threads creating spans rarely meet on one lock.
struct SpanTable {
    shards: [Mutex<HashMap<Id, SpanFields>>; SHARDS],
}

const SHARDS: usize = 16;

/// How often the hook tries a shard's lock, yielding in between, before it goes without the
/// span's fields (another thread holds it for a lookup or an insert at most).
const TRIES: usize = 64;

impl Default for SpanTable {
    fn default() -> Self {
        Self {
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }
}

impl SpanTable {
    fn shard(&self, id: &Id) -> &Mutex<HashMap<Id, SpanFields>> {
        &self.shards[(id.into_u64() % SHARDS as u64) as usize]
    }

    fn lock(&self, id: &Id) -> MutexGuard<'_, HashMap<Id, SpanFields>> {
        // No user code runs under the lock: a poisoned shard is still consistent.
        self.shard(id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, id: &Id, fields: SpanFields) {
        self.lock(id).insert(id.clone(), fields);
    }

    fn remove(&self, id: &Id) {
        self.lock(id).remove(id);
    }

    /// What the span declared sensitive, with the spans around it (`None` for a span this
    /// layer has not seen).
    fn sensitive(&self, id: &Id) -> Option<Option<SensitiveNames>> {
        self.lock(id).get(id).map(|fields| fields.sensitive.clone())
    }

    /// Sets fields recorded after the span was created.
    fn record(&self, id: &Id, recorded: Vec<Variable>) {
        if let Some(fields) = self.lock(id).get_mut(id) {
            for variable in recorded {
                put_variable(&mut fields.vars, variable);
            }
        }
    }

    fn fields(&self, id: &Id) -> Option<SpanFields> {
        self.lock(id).get(id).cloned()
    }

    /// The span's fields, without waiting for a thread that holds their shard (for the
    /// panic hook): `None` if it cannot be had.
    fn try_fields(&self, id: &Id) -> Option<SpanFields> {
        for _ in 0..TRIES {
            match self.shard(id).try_lock() {
                Ok(shard) => return shard.get(id).cloned(),
                Err(TryLockError::Poisoned(poisoned)) => {
                    return poisoned.into_inner().get(id).cloned();
                }
                Err(TryLockError::WouldBlock) => std::thread::yield_now(),
            }
        }
        None
    }
}

/// A span's fields, as its frame's variables (hidden ones already replaced). `Debug` shows
/// the variables' names and kinds, never their values.
#[derive(Clone, Default)]
struct SpanFields {
    vars: Vec<Variable>,
    /// What this span declared sensitive, joined with what the spans around it declared.
    sensitive: Option<SensitiveNames>,
    /// What this span itself declared.
    declared: Option<SensitiveNames>,
}

impl fmt::Debug for SpanFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanFields")
            .field("vars", &self.vars)
            .field("sensitive", &self.sensitive)
            .field("declared", &self.declared)
            .finish()
    }
}

/// Finds a span's `sensitive_variables` declaration (before any field is recorded).
struct DeclarationFinder(Option<SensitiveNames>);

impl Visit for DeclarationFinder {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == SENSITIVE_FIELD {
            self.0 = Some(parse_declaration(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == SENSITIVE_FIELD {
            // A declaration that cannot be read declares everything: fail closed.
            self.0 = Some(match format_guarded(|| format!("{value:?}")) {
                Ok(text) => parse_declaration(text.trim_matches('"')),
                Err(_) => SensitiveNames::All,
            });
        }
    }
}

fn parse_declaration(text: &str) -> SensitiveNames {
    if text.trim() == "__ALL__" {
        SensitiveNames::All
    } else {
        SensitiveNames::names(
            text.split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned),
        )
    }
}

/// Records fields as variables; a field that is hidden is never formatted.
struct Recorder<'a> {
    filter: &'a dyn ReporterFilter,
    sensitive: Option<&'a SensitiveNames>,
    vars: &'a mut Vec<Variable>,
    /// The `message` field of an event goes here instead of the variables.
    message: Option<&'a mut Option<String>>,
}

impl Recorder<'_> {
    fn hidden(&self, name: &str) -> bool {
        self.sensitive.is_some_and(|s| s.contains(name))
            || self.filter.sensitive_name(name).is_some()
    }

    /// Records a field: its value, or why it could not be formatted.
    fn put(&mut self, name: &'static str, value: impl FnOnce() -> Result<CapturedValue, String>) {
        if name == SENSITIVE_FIELD {
            return;
        }
        let variable = if self.hidden(name) {
            Variable::new(name, DEFAULT_SUBSTITUTE)
        } else {
            match value() {
                Ok(value) => Variable::new(name, value),
                Err(reason) => Variable::formatting_failed(name, reason),
            }
        };
        put_variable(self.vars, variable);
    }
}

impl Visit for Recorder<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message"
            && let Some(message) = self.message.as_deref_mut()
        {
            *message = Some(value.to_owned());
            return;
        }
        self.put(field.name(), || Ok(CapturedValue::from(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field.name(), || Ok(CapturedValue::from(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field.name(), || Ok(CapturedValue::from(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field.name(), || Ok(CapturedValue::from(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field.name(), || Ok(CapturedValue::from(value)));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message"
            && let Some(message) = self.message.as_deref_mut()
        {
            // User code (a `Display` in the message's arguments): a panic in it becomes a
            // notice, as a field's does.
            *message = Some(
                format_guarded(|| format!("{value:?}"))
                    .unwrap_or_else(|reason| format!("Error in formatting: {reason}")),
            );
            return;
        }
        self.put(field.name(), || {
            format_guarded(|| format!("{value:?}")).map(CapturedValue::from)
        });
    }
}

impl<S> Layer<S> for ReportLayer
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
{
    // User code (the fields' `Debug`) runs outside every lock: outside the span's
    // extensions, which this layer does not use, and outside the table, taken only to read
    // what a span declared and to store what was recorded.
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut finder = DeclarationFinder(None);
        attrs.record(&mut finder);
        let inherited = span
            .parent()
            .and_then(|parent| self.spans.sensitive(&parent.id()).flatten());
        let sensitive = match (inherited, &finder.0) {
            (Some(mut outer), Some(own)) => {
                outer.extend(own);
                Some(outer)
            }
            (outer, own) => outer.or_else(|| own.clone()),
        };
        let mut vars = Vec::new();
        attrs.record(&mut Recorder {
            filter: self.filter.as_ref(),
            sensitive: sensitive.as_ref(),
            vars: &mut vars,
            message: None,
        });
        let fields = SpanFields {
            vars,
            sensitive,
            declared: finder.0,
        };
        self.spans.insert(id, fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let Some(sensitive) = self.spans.sensitive(id) else {
            return;
        };
        let mut recorded = Vec::new();
        values.record(&mut Recorder {
            filter: self.filter.as_ref(),
            sensitive: sensitive.as_ref(),
            vars: &mut recorded,
            message: None,
        });
        self.spans.record(id, recorded);
    }

    fn on_close(&self, id: Id, _: Context<'_, S>) {
        self.spans.remove(&id);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        let report = self.on_error.is_some() && level <= self.level;
        let crumb = level <= self.breadcrumbs;
        if !(report || crumb) || is_own(event.metadata()) {
            return;
        }
        // The report carries the events before this one, then this one joins the trail.
        if report && let Some(sink) = &self.on_error {
            self.report(event, &ctx, sink);
        }
        if crumb {
            keep_breadcrumb(event);
        }
    }
}

impl ReportLayer {
    fn report<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, sink: &Sink)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let scopes: Vec<CapturedScope> = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| span_scope(&span, self.spans.fields(&span.id())))
                    .collect()
            })
            .unwrap_or_default();
        let sensitive = scopes.iter().fold(None::<SensitiveNames>, |acc, scope| {
            match (acc, &scope.sensitive_variables) {
                (Some(mut acc), Some(own)) => {
                    acc.extend(own);
                    Some(acc)
                }
                (acc, own) => acc.or_else(|| own.clone()),
            }
        });
        let mut message = None;
        let mut vars = Vec::new();
        event.record(&mut Recorder {
            filter: self.filter.as_ref(),
            sensitive: sensitive.as_ref(),
            vars: &mut vars,
            message: Some(&mut message),
        });
        let metadata = event.metadata();
        // Only the stack's addresses here; the symbols are resolved on the report worker.
        let stack = trace::Trace::capture();
        let environment = crate::model::Environment::current();
        let breadcrumbs = crate::runtime::breadcrumbs::snapshot();
        let context = crate::runtime::context::current();
        let message = message.unwrap_or_else(|| metadata.name().to_owned());
        let in_app = self.in_app.clone();
        let sink = Arc::clone(sink);
        let report = move || {
            let symbols = trace::resolve(&stack);
            let site = trace::CallSite {
                module: metadata.module_path().unwrap_or(metadata.target()),
                file: metadata.file(),
                line: metadata.line(),
            };
            let frames = trace::event_frames(
                trace::to_frames(&symbols, &in_app, scopes),
                |frame| frame.function.starts_with("tracing_core::event::Event::"),
                is_dispatch,
                &site,
                vars,
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
        if crate::runtime::background::submit(Box::new(report)).is_err() {
            crate::runtime::background::count_dropped();
        }
    }
}

/// Keeps an event as a breadcrumb: its target, message and fields copied, nothing filtered.
fn keep_breadcrumb(event: &Event<'_>) {
    let metadata = event.metadata();
    let level = match *metadata.level() {
        Level::ERROR => BreadcrumbLevel::Error,
        Level::WARN => BreadcrumbLevel::Warn,
        Level::INFO => BreadcrumbLevel::Info,
        Level::DEBUG => BreadcrumbLevel::Debug,
        _ => BreadcrumbLevel::Trace,
    };
    crate::runtime::breadcrumbs::record_with(level, metadata.target(), |crumb| {
        event.record(&mut CrumbFields { crumb });
    });
}

/// Copies an event's fields into a breadcrumb: `message` is its message.
struct CrumbFields<'r, 's> {
    crumb: &'r mut crate::runtime::breadcrumbs::Recorder<'s>,
}

impl Visit for CrumbFields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.crumb.message_str(value),
            name if name.starts_with("log.") => {}
            name => self.crumb.field_str(name, value),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.crumb.message(format_args!("{value:?}")),
            name if name.starts_with("log.") => {}
            name => self.crumb.field(name, format_args!("{value:?}")),
        }
    }
}

/// Whether an event is about this crate's own work: logged by this crate (a mail worker
/// giving up, a shutdown that timed out), or by anything on a thread that delivers reports
/// (what a mail library logs while a delivery fails). Reporting it would send a report
/// through the path that just failed, and report that failure in turn.
fn is_own(metadata: &tracing::Metadata<'_>) -> bool {
    const CRATE: &str = env!("CARGO_CRATE_NAME");
    let target = metadata.target();
    let ours = target
        .strip_prefix(CRATE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"));
    ours || crate::runtime::on_delivery_thread()
}

/// A frame of the machinery that delivers an event to this layer.
fn is_dispatch(frame: &Frame) -> bool {
    const PREFIXES: &[&str] = &[
        "tracing_core::",
        "<tracing_core::",
        "tracing_subscriber::",
        "<tracing_subscriber::",
        "tracing::__macro_support",
        "safe_report::integrations::tracing",
        "<safe_report::integrations::tracing",
    ];
    // The closure the `event!` macros expand to is the calling function's, in tracing's
    // `macros.rs`.
    let in_tracing_macros = frame.file.as_deref().is_some_and(|file| {
        let file = file.replace('\\', "/");
        file.ends_with("/src/macros.rs")
            && file
                .rsplit('/')
                .nth(2)
                .is_some_and(|krate| krate.starts_with("tracing-"))
    });
    in_tracing_macros
        || PREFIXES
            .iter()
            .any(|prefix| frame.function.starts_with(prefix))
}

/// Sets `variable`, replacing a variable of the same name (a field recorded again).
fn put_variable(vars: &mut Vec<Variable>, variable: Variable) {
    match vars.iter_mut().find(|var| var.name == variable.name) {
        Some(existing) => *existing = variable,
        None => vars.push(variable),
    }
}

/// A span as a frame's scope, with its fields as found in the table (none if they could
/// not be read).
fn span_scope<R: for<'a> LookupSpan<'a>>(
    span: &tracing_subscriber::registry::SpanRef<'_, R>,
    fields: Option<SpanFields>,
) -> CapturedScope {
    let metadata = span.metadata();
    let fields = fields.unwrap_or_default();
    CapturedScope {
        function: format!("{}::{}", metadata.target(), metadata.name()),
        file: metadata.file().unwrap_or("<unknown>").to_owned(),
        line: metadata.line().unwrap_or(0),
        vars: fields.vars,
        sensitive_variables: fields.declared,
    }
}

/// The entered spans of this thread, outermost first, as captured scopes (for the panic
/// hook and [`Traced`](crate::Traced)). Empty without a `tracing_subscriber` registry as
/// the current subscriber.
///
/// Never waits for a lock: the spans come from the registry's lock-free storage, their
/// fields from this layer's table, only tried (a span's variables are left out if its
/// shard cannot be had).
fn current_span_scopes() -> Vec<CapturedScope> {
    tracing::dispatcher::get_default(|dispatch| {
        let (Some(registry), Some(layer)) = (
            dispatch.downcast_ref::<Registry>(),
            dispatch.downcast_ref::<ReportLayer>(),
        ) else {
            return Vec::new();
        };
        let Some(span) = registry
            .current_span()
            .id()
            .and_then(|id| registry.span(id))
        else {
            return Vec::new();
        };
        span.scope()
            .from_root()
            .map(|span| span_scope(&span, layer.spans.try_fields(&span.id())))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_span_fields_shows_names_only() {
        let fields = SpanFields {
            vars: vec![Variable::new("card", "mk7q-plant3d")],
            ..SpanFields::default()
        };
        for shown in [format!("{fields:?}"), format!("{fields:#?}")] {
            assert!(!shown.contains("mk7q"), "{shown}");
            assert!(shown.contains("card"), "{shown}");
        }
    }
}
