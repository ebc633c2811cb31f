//! What is reported at all, and how: ignore rules, sampling, grouping, `before_send`.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use regex::Regex;

use super::fingerprint::Fingerprint;
use super::model::{Entry, Report};
use crate::filter::{FilterContext, ReporterFilter, TextKind};
use crate::model::Capture;

type BeforeSend = dyn Fn(&mut Draft<'_>) + Send + Sync;
type Grouping = dyn Fn(&ErrorSummary<'_>) -> Option<Vec<String>> + Send + Sync;
type Random = dyn Fn() -> f64 + Send + Sync;

/// What is reported at all, and how: ignore rules, a sampling rate, a custom grouping and
/// a `before_send` step that may change or drop a filtered report.
///
/// # Example
/// ```
/// use safe_report::{Capture, ExceptionReporter};
/// use safe_report::report::Controls;
///
/// let controls = Controls::new()
///     .ignore_type("ClientDisconnected")
///     .ignore_message(r"^broken pipe")?
///     .sample_rate(1.0)
///     .fingerprint(|error| Some(vec![error.exception_type.unwrap_or("").to_owned()]))
///     .before_send(|draft| {
///         if draft.report().message().contains("retry later") {
///             draft.drop_report();
///         } else {
///             draft.set_tag("team", "payments");
///         }
///     });
/// assert!(!controls.admits(&Capture::error("ClientDisconnected", "gone")));
///
/// let reporter = ExceptionReporter::default();
/// let report = reporter.report(&Capture::error("PaymentError", "declined"));
/// let report = controls.apply(report, reporter.filter()).expect("kept");
/// assert_eq!(report.tags[0].value, "payments");
/// # Ok::<(), safe_report::report::PatternError>(())
/// ```
///
/// The panic hook ([`HookBuilder::controls`](crate::panic::HookBuilder::controls)), the
/// web layer and the [`AdminNotifier`](crate::AdminNotifier) take them. Where they apply:
///
/// | control | on | where |
/// |---|---|---|
/// | ignore rules, sampling | the capture, before anything is built | the caller, once per error (a capture admitted by the layer is not sampled again by its notifier) |
/// | fingerprint | the error's type, message and application frames | flood control and the Sentry event's `fingerprint`; only a hash of what it returns leaves |
/// | `before_send` | the filtered [`Report`] | the worker that delivers, before rendering |
///
/// `before_send` sees the report after the filter and cannot bring back what it hid: the
/// hidden values are not in the report, and what it adds (a message, a tag) goes through
/// the reporter's filter before it is kept (its value detectors, and its name rules for
/// tags). A `before_send` that panics keeps the report as it was.
///
/// Cheap to clone. `Debug` counts the rules and shows no pattern.
#[derive(Clone, Default)]
#[must_use = "Controls do nothing until given to a hook, a layer or a notifier"]
#[non_exhaustive]
pub struct Controls {
    ignore_types: Vec<String>,
    ignore_messages: Vec<Regex>,
    sample_rate: Option<f64>,
    random: Option<Arc<Random>>,
    fingerprint: Option<Arc<Grouping>>,
    before_send: Option<Arc<BeforeSend>>,
}

impl fmt::Debug for Controls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controls")
            .field("ignore_types", &self.ignore_types.len())
            .field("ignore_messages", &self.ignore_messages.len())
            .field("sample_rate", &self.sample_rate)
            .field("fingerprint", &self.fingerprint.is_some())
            .field("before_send", &self.before_send.is_some())
            .finish()
    }
}

/// A message pattern that is not a valid regular expression.
#[derive(Debug)]
#[non_exhaustive]
pub struct PatternError {
    source: regex::Error,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the ignore pattern is not a valid regular expression")
    }
}

impl std::error::Error for PatternError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// What a custom fingerprint is computed from: the error as captured (unfiltered, as the
/// fingerprint is only hashed) or as reported (filtered).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ErrorSummary<'a> {
    /// The error's type name.
    pub exception_type: Option<&'a str>,
    /// The error's message.
    pub message: Option<&'a str>,
    /// The application frames' functions, outermost first.
    pub app_functions: Vec<&'a str>,
}

impl Controls {
    /// No rule: everything is reported, grouped as [`Fingerprint`] does, unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ignores errors of this type: the name as captured (`std::io::Error`), or its last
    /// segment (`Error` does not match it; `io::Error` does).
    pub fn ignore_type(mut self, type_name: impl Into<String>) -> Self {
        self.ignore_types.push(type_name.into());
        self
    }

    /// Ignores errors whose message matches `pattern` (a regular expression, searched
    /// anywhere in the message).
    pub fn ignore_message(mut self, pattern: &str) -> Result<Self, PatternError> {
        let regex = Regex::new(pattern).map_err(|source| PatternError { source })?;
        self.ignore_messages.push(regex);
        Ok(self)
    }

    /// Reports only this share of errors, from 0.0 (none) to 1.0 (all, the default).
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.sample_rate = Some(if rate.is_nan() {
            1.0
        } else {
            rate.clamp(0.0, 1.0)
        });
        self
    }

    /// Draws the sampling numbers (in `[0, 1)`) from `random` instead of the built-in
    /// generator: for tests, or a seeded generator.
    pub fn random_source(mut self, random: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        self.random = Some(Arc::new(random));
        self
    }

    /// Groups errors by what `fingerprint` returns instead of by [`Fingerprint`]'s parts
    /// (`None`: the default grouping for that error). Its parts are hashed with the
    /// environment; they never appear in an output.
    pub fn fingerprint(
        mut self,
        fingerprint: impl Fn(&ErrorSummary<'_>) -> Option<Vec<String>> + Send + Sync + 'static,
    ) -> Self {
        self.fingerprint = Some(Arc::new(fingerprint));
        self
    }

    /// Runs `before_send` on every filtered report before it is delivered: it may change it
    /// through the [`Draft`], or drop it.
    pub fn before_send(
        mut self,
        before_send: impl Fn(&mut Draft<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.before_send = Some(Arc::new(before_send));
        self
    }

    /// Whether there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.ignore_types.is_empty()
            && self.ignore_messages.is_empty()
            && self.sample_rate.is_none()
            && self.fingerprint.is_none()
            && self.before_send.is_none()
    }

    /// Whether `capture` is to be reported: not ignored, and drawn by the sampling. Each
    /// call draws again; entry points call it once per error.
    pub fn admits(&self, capture: &Capture) -> bool {
        if let Some(kind) = capture.error.type_name.as_deref()
            && self
                .ignore_types
                .iter()
                .any(|ignored| type_matches(kind, ignored))
        {
            return false;
        }
        if let Some(message) = capture.error.message.as_deref()
            && self
                .ignore_messages
                .iter()
                .any(|pattern| pattern.is_match(message))
        {
            return false;
        }
        match self.sample_rate {
            None => true,
            Some(rate) if rate >= 1.0 => true,
            Some(rate) if rate <= 0.0 => false,
            Some(rate) => {
                let drawn = match &self.random {
                    Some(random) => catch_unwind(AssertUnwindSafe(|| random())).unwrap_or(0.0),
                    None => builtin_random(),
                };
                drawn < rate
            }
        }
    }

    /// [`admits`](Self::admits) once per capture: a capture an entry point admitted is
    /// admitted again without a draw; one admitted is marked.
    pub(crate) fn admit_once(&self, capture: &mut Capture) -> bool {
        if capture.admitted {
            return true;
        }
        let admitted = self.admits(capture);
        capture.admitted = admitted;
        admitted
    }

    /// The custom fingerprint of `capture`, when a grouping is set and gives one.
    #[cfg(feature = "mail")]
    pub(crate) fn fingerprint_of(&self, capture: &Capture) -> Option<Fingerprint> {
        let grouping = self.fingerprint.as_ref()?;
        let summary = ErrorSummary {
            exception_type: capture.error.type_name.as_deref(),
            message: capture.error.message.as_deref(),
            app_functions: capture
                .frames
                .iter()
                .filter(|frame| frame.in_app)
                .map(|frame| frame.function.as_str())
                .collect(),
        };
        let environment = match &capture.environment {
            Some(environment) => environment.identity.environment.as_deref(),
            None => crate::model::Identity::current().environment.as_deref(),
        };
        let parts = catch_unwind(AssertUnwindSafe(|| grouping(&summary))).ok()??;
        Some(Fingerprint::of_custom(environment, &parts))
    }

    fn fingerprint_of_report(&self, report: &Report) -> Option<Fingerprint> {
        let grouping = self.fingerprint.as_ref()?;
        let summary = ErrorSummary {
            exception_type: report.exception_type.as_deref(),
            message: report.exception_value.as_deref(),
            app_functions: report
                .frames
                .iter()
                .filter(|frame| frame.in_app)
                .map(|frame| frame.function.as_str())
                .collect(),
        };
        let parts = catch_unwind(AssertUnwindSafe(|| grouping(&summary))).ok()??;
        Some(Fingerprint::of_custom(
            report.deployment_environment(),
            &parts,
        ))
    }

    /// The custom fingerprint, then `before_send`: the report to deliver, or `None` when
    /// `before_send` dropped it. What `before_send` adds goes through `filter`.
    pub fn apply(&self, mut report: Report, filter: &dyn ReporterFilter) -> Option<Report> {
        if let Some(fingerprint) = self.fingerprint_of_report(&report) {
            report.fingerprint = Some(fingerprint);
        }
        let Some(before_send) = &self.before_send else {
            return Some(report);
        };
        let original = report.clone();
        let mut draft = Draft {
            report,
            filter,
            dropped: false,
        };
        match catch_unwind(AssertUnwindSafe(|| before_send(&mut draft))) {
            Ok(()) if draft.dropped => None,
            Ok(()) => Some(draft.report),
            Err(_) => {
                eprintln!("safe-report: a before_send step panicked; the report is sent as it was");
                Some(original)
            }
        }
    }
}

/// `kind` is `ignored`, or ends with `::ignored`.
fn type_matches(kind: &str, ignored: &str) -> bool {
    kind == ignored
        || kind
            .strip_suffix(ignored)
            .is_some_and(|head| head.ends_with("::"))
}

/// A number in `[0, 1)`: xorshift64* per thread, seeded from std's random hasher keys.
fn builtin_random() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    STATE
        .try_with(|state| {
            let mut x = state.get();
            if x == 0 {
                x = RandomState::new().hash_one(std::thread::current().id()) | 1;
            }
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            state.set(x);
            let out = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
            (out >> 11) as f64 / (1u64 << 53) as f64
        })
        .unwrap_or(0.0)
}

/// A filtered report as `before_send` may change it: read all of it, replace the message,
/// add tags and context values, set the grouping, or drop it. What it adds goes through
/// the filter.
pub struct Draft<'a> {
    report: Report,
    filter: &'a dyn ReporterFilter,
    dropped: bool,
}

impl fmt::Debug for Draft<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Draft")
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl Draft<'_> {
    /// The report as the filter left it (and as changed so far).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Drops the report: nothing is delivered.
    pub fn drop_report(&mut self) {
        self.dropped = true;
    }

    /// Replaces the error's message; it goes through the filter's value detectors.
    pub fn set_message(&mut self, message: &str) {
        let message = self.scrub(message);
        self.report.exception_value = Some(message);
    }

    /// Adds or replaces a tag; a sensitive name hides the value, as for settings.
    pub fn set_tag(&mut self, name: &str, value: &str) {
        let entry = self.entry(name, value);
        put(&mut self.report.tags, entry);
    }

    /// Adds or replaces a context value; filtered as [`set_tag`](Self::set_tag).
    pub fn set_context(&mut self, name: &str, value: &str) {
        let entry = self.entry(name, value);
        put(&mut self.report.context, entry);
    }

    /// Groups the report by `parts` (with the environment), as
    /// [`Controls::fingerprint`] does.
    pub fn set_fingerprint<S: AsRef<str>>(&mut self, parts: &[S]) {
        let parts: Vec<String> = parts.iter().map(|part| part.as_ref().to_owned()).collect();
        self.report.fingerprint = Some(Fingerprint::of_custom(
            self.report.deployment_environment(),
            &parts,
        ));
    }

    fn scrub(&self, text: &str) -> String {
        let empty = Capture::new();
        let mut cx = FilterContext::new(&empty, self.filter);
        catch_unwind(AssertUnwindSafe(|| {
            self.filter
                .safe_text(text, TextKind::Free, &mut cx)
                .into_owned()
        }))
        .unwrap_or_else(|_| self.filter.substitute().to_owned())
    }

    fn entry(&self, name: &str, value: &str) -> Entry {
        // A filter that fails on the name hides the value (fail closed).
        let hidden = !matches!(
            catch_unwind(AssertUnwindSafe(|| self.filter.sensitive_name(name))),
            Ok(None)
        );
        let value = if hidden {
            self.filter.substitute().to_owned()
        } else {
            self.scrub(value)
        };
        Entry::new(self.scrub(name), value)
    }
}

fn put(list: &mut Vec<Entry>, entry: Entry) {
    match list.iter_mut().find(|known| known.name == entry.name) {
        Some(known) => *known = entry,
        None => list.push(entry),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_match_whole_segments() {
        assert!(type_matches("std::io::Error", "std::io::Error"));
        assert!(type_matches("std::io::Error", "io::Error"));
        assert!(!type_matches("std::io::Error", "o::Error"));
        assert!(!type_matches("MyError", "Error"));
    }

    #[test]
    fn the_builtin_generator_stays_in_range() {
        for _ in 0..1000 {
            let x = builtin_random();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
