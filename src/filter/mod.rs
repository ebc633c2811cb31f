//! The filter: the one choke point between a [`Capture`] and every output.
//!
//! [`ReporterFilter`] is the pluggable part (Django's `SafeExceptionReporterFilter`): its
//! primitives say what the substitute is, which names are sensitive, whether the filter is
//! active and how free text is scrubbed; its section methods apply them to settings,
//! headers, cookies, GET and POST parameters, JSON bodies and frame variables. Override a
//! primitive to change a rule everywhere, or a section method to change one section.
//!
//! [`SafeReporterFilter`] is the default. Beyond Django, and each switchable on its builder,
//! it applies the name rules to GET parameters, POST fields, JSON keys and keys nested in
//! variables; knows more sensitive terms; runs value detectors on every string; hides a
//! value hidden by name anywhere wherever else it appears; and never shows the length of a
//! hidden value.
//!
//! ```
//! use safe_report::{Capture, ExceptionReporter, Frame, SafeReporterFilter};
//!
//! let filter = SafeReporterFilter::builder()
//!     .substitute("[hidden]")
//!     .sensitive_term("pin")
//!     .build();
//! let capture = Capture::error("E", "boom")
//!     .with_frame(Frame::new("app::f", "src/f.rs", 1).var("card_pin", "1234"));
//! let report = ExceptionReporter::new(filter).report(&capture);
//! assert_eq!(report.frames[0].vars[0].value, "\"[hidden]\"");
//! ```

mod detect;
mod names;
mod rules;
mod safe;

pub use detect::{Detector, TextKind};
pub use names::{DEFAULT_SESSION_COOKIE_NAME, DJANGO_TERMS, EXTENDED_TERMS, EXTENDED_WORDS};
pub use rules::{RedactionSummary, Rule};
pub use safe::{SafeReporterFilter, SafeReporterFilterBuilder};

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::limits::{
    DEFAULT_SUBSTITUTE, FILTER_MARGIN_CHARS, MAX_DEPTH, MAX_VALUE_CHARS, REVERSE_LOOKUP_MIN_CHARS,
};
use crate::model::redacted::Count;
use crate::model::value::{Kind, Leaf, Tree};
use crate::model::{Capture, CapturedRef, Frame, RequestInfo, SensitiveNames};

/// The part of `text` worth filtering, when `text` is longer than a report can show.
#[inline]
pub(crate) fn shown_prefix(text: &str) -> Option<&str> {
    let keep = MAX_VALUE_CHARS + FILTER_MARGIN_CHARS;
    if text.len() <= keep {
        return None;
    }
    let cut = if text.as_bytes()[..keep].is_ascii() {
        keep
    } else {
        text.char_indices().nth(keep)?.0
    };
    Some(&text[..cut])
}

/// State shared by the filter's section methods while one report is built: whether the
/// filter is active, the redaction counts, and the values hidden so far. `Debug` counts the
/// hidden values and never shows them (nor the capture's values).
pub struct FilterContext<'a> {
    capture: &'a Capture,
    active: bool,
    summary: RedactionSummary,
    /// Inside [`silently`](Self::silently): nothing is counted.
    silent: bool,
    hidden: HiddenValues,
    collect_hidden: bool,
    post_field_names: Vec<String>,
    /// The first rule that hid something in the value being filtered (see
    /// [`value`](Self::value)); `None` outside one.
    value_rule: Option<Rule>,
    in_value: bool,
    /// The values of the section being filtered so far, and the rule of each hidden one by
    /// its index (only hidden values take room: nothing is stored on the happy path).
    values: usize,
    value_rules: Vec<(usize, Rule)>,
}

impl fmt::Debug for FilterContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilterContext")
            .field("capture", &self.capture)
            .field("active", &self.active)
            .field("summary", &self.summary)
            .field("silent", &self.silent)
            .field("hidden", &self.hidden)
            .field("collect_hidden", &self.collect_hidden)
            .field("post_field_names", &self.post_field_names)
            .field("value_rules", &self.value_rules)
            .finish()
    }
}

impl<'a> FilterContext<'a> {
    /// A context for filtering `capture` with `filter`.
    pub fn new(capture: &'a Capture, filter: &dyn ReporterFilter) -> Self {
        Self {
            capture,
            active: filter.is_active(capture),
            summary: RedactionSummary::default(),
            silent: false,
            hidden: HiddenValues::default(),
            collect_hidden: filter.reverse_lookup(),
            post_field_names: Vec::new(),
            value_rule: None,
            in_value: false,
            values: 0,
            value_rules: Vec::new(),
        }
    }

    /// The capture being filtered.
    pub fn capture(&self) -> &'a Capture {
        self.capture
    }

    /// Whether POST parameters and frame variables declared sensitive are hidden
    /// (Django's `is_active`: debug is off).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The counts so far.
    pub fn summary(&self) -> &RedactionSummary {
        &self.summary
    }

    /// Counts one value hidden by `rule`.
    pub fn count(&mut self, rule: Rule) {
        if self.in_value && self.value_rule.is_none() {
            self.value_rule = Some(rule);
        }
        if !self.silent {
            self.summary.add(rule);
        }
    }

    /// Runs `f`, which filters one value, and returns what it returns with the first rule
    /// that hid something in the value (the rule that hid it whole, or that hid a part).
    pub(crate) fn value_rule<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> (R, Option<Rule>) {
        let outer = (
            std::mem::replace(&mut self.in_value, true),
            self.value_rule.take(),
        );
        let result = f(self);
        let rule = self.value_rule.take();
        (self.in_value, self.value_rule) = outer;
        (result, rule)
    }

    /// Runs `f`, which filters the next value of a section (a setting, header, cookie,
    /// parameter or variable), and records the rule that hid something in it (see
    /// [`value_rule`](Self::value_rule)) by the value's index in the section.
    pub(crate) fn value<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let (result, rule) = self.value_rule(f);
        if let Some(rule) = rule {
            self.value_rules.push((self.values, rule));
        }
        self.values += 1;
        result
    }

    /// Starts a section: no values filtered yet.
    pub(crate) fn begin_values(&mut self) {
        self.values = 0;
        self.value_rules.clear();
        self.in_value = false;
        self.value_rule = None;
    }

    /// The rules of the section's hidden values by index, when the section filtered `len`
    /// values one by one (a filter's own section method may not say).
    pub(crate) fn value_rules(&self, len: usize) -> Option<&[(usize, Rule)]> {
        (self.values == len).then_some(&self.value_rules)
    }

    /// Forgets the section's value rules (its values were reordered).
    pub(crate) fn forget_value_rules(&mut self) {
        self.values = usize::MAX;
        self.value_rules.clear();
    }

    /// Hides `value` because of `rule`: counts it, remembers it for the reverse lookup and
    /// returns the substitute.
    ///
    /// A hidden text or number is remembered whole. Inside a hidden map or list (a whole
    /// `ctx` declared sensitive, say) only the leaves that look like secrets are remembered
    /// (8+ characters with letters and digits, no spaces): ordinary leaves such as a city
    /// or an origin URL would otherwise disappear from the rest of the report.
    pub fn hide(&mut self, rule: Rule, value: &Value, substitute: &str) -> Value {
        self.hidden(rule, value, substitute).into_value()
    }

    /// As [`hide`](Self::hide), the substitute as shown.
    pub(crate) fn hidden<'t>(
        &mut self,
        rule: Rule,
        value: impl Tree<'t>,
        substitute: &str,
    ) -> Shown<'static> {
        self.count(rule);
        self.remember_hidden_in(value, substitute);
        Shown::Text(if substitute == DEFAULT_SUBSTITUTE {
            Cow::Borrowed(DEFAULT_SUBSTITUTE)
        } else {
            Cow::Owned(substitute.to_owned())
        })
    }

    /// Hides a text value because of `rule` (see [`hide`](Self::hide)).
    pub fn hide_text(&mut self, rule: Rule, text: &str, substitute: &str) -> Value {
        self.count(rule);
        self.remember(text, substitute);
        Value::String(substitute.to_owned())
    }

    /// Remembers a hidden value for the reverse lookup without counting it (for values a
    /// rendering leaves out but whose secrets must still be hidden elsewhere).
    pub fn remember_hidden(&mut self, value: &Value, substitute: &str) {
        self.remember_hidden_in(value, substitute);
    }

    /// As [`remember_hidden`](Self::remember_hidden), for any value.
    pub(crate) fn remember_hidden_in<'t>(&mut self, value: impl Tree<'t>, substitute: &str) {
        if self.collect_hidden {
            match value.kind() {
                Kind::Str(text) => self.remember(text, substitute),
                Kind::Leaf(Leaf::Number(number)) => self.remember(&number.to_string(), substitute),
                Kind::Leaf(_) => {}
                Kind::Value(plain) => self.remember_hidden_in(plain, substitute),
                Kind::Captured(captured) => self.remember_hidden_in(captured, substitute),
                Kind::List(..) | Kind::Map(..) => {
                    self.remember_secret_like_leaves(value, substitute, 0)
                }
            }
        }
    }

    /// Remembers a secret found in text so that it is hidden wherever else it appears.
    pub fn remember(&mut self, secret: &str, substitute: &str) {
        if !self.collect_hidden {
            return;
        }
        let secret = secret.trim();
        if !has_chars(secret, REVERSE_LOOKUP_MIN_CHARS) || secret == substitute {
            return;
        }
        self.hidden.push(secret);
        // "Bearer abc…", "Basic abc…": the credential also travels without its scheme.
        if let Some(space) = memchr::memchr(b' ', secret.as_bytes()) {
            let (scheme, credential) = (&secret[..space], &secret[space + 1..]);
            if !scheme.is_empty()
                && scheme.bytes().all(|b| b.is_ascii_alphabetic())
                && memchr::memchr(b' ', credential.as_bytes()).is_none()
            {
                self.remember(credential, substitute);
            }
        }
    }

    fn remember_secret_like_leaves<'t>(
        &mut self,
        value: impl Tree<'t>,
        substitute: &str,
        depth: usize,
    ) {
        if depth > MAX_DEPTH || self.hidden.len() > 100_000 {
            return;
        }
        match value.kind() {
            Kind::Str(text) if looks_secret(text) => self.remember(text, substitute),
            Kind::List(_, items) => {
                for item in items {
                    self.remember_secret_like_leaves(item, substitute, depth + 1);
                }
            }
            Kind::Map(_, entries) => {
                for (_, item) in entries {
                    self.remember_secret_like_leaves(item, substitute, depth + 1);
                }
            }
            Kind::Value(plain) => self.remember_secret_like_leaves(plain, substitute, depth),
            Kind::Captured(captured) => {
                self.remember_secret_like_leaves(captured, substitute, depth)
            }
            Kind::Str(_) | Kind::Leaf(_) => {}
        }
    }

    pub(crate) fn set_post_field_names(&mut self, names: Vec<String>) {
        self.post_field_names = names;
    }

    /// Names of the request's POST fields (for hiding declared-sensitive fields in copies of
    /// the POST data held by frame variables).
    pub fn post_field_names(&self) -> &[String] {
        &self.post_field_names
    }

    /// The POST fields declared sensitive (`sensitive_post_parameters`: the names, or every
    /// field for all) while the filter is active; none otherwise.
    pub(crate) fn declared_post_names(&self) -> Cow<'a, [String]> {
        let declared = self
            .capture
            .request
            .as_ref()
            .and_then(|request| request.sensitive_post_parameters.as_ref());
        match declared {
            Some(SensitiveNames::Names(names)) if self.active => Cow::Borrowed(names),
            Some(SensitiveNames::All) if self.active => Cow::Owned(self.post_field_names.clone()),
            _ => Cow::Borrowed(&[]),
        }
    }

    /// How many hidden values have been remembered so far.
    pub(crate) fn hidden_len(&self) -> usize {
        self.hidden.len()
    }

    /// The hidden values remembered after the first `from`.
    pub(crate) fn hidden_since(&self, from: usize) -> impl Iterator<Item = &str> {
        self.hidden.iter().skip(from)
    }

    /// Runs `f` without counting what it hides (values it hides are still remembered for
    /// the reverse lookup): for parts a rendering leaves out.
    pub fn silently<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let outer = std::mem::replace(&mut self.silent, true);
        let result = f(self);
        self.silent = outer;
        result
    }

    /// Whether counting is off (inside [`silently`](Self::silently)).
    pub(crate) fn is_silent(&self) -> bool {
        self.silent
    }

    /// Switches counting off or on again (after a step that panicked inside `silently`).
    pub(crate) fn set_silent(&mut self, silent: bool) {
        self.silent = silent;
    }

    /// Forgets the hidden values remembered after the first `from` (the caller looks them up
    /// itself).
    pub(crate) fn forget_hidden_since(&mut self, from: usize) {
        self.hidden.truncate(from);
    }

    /// Adds counts recorded earlier for the same input (nothing inside
    /// [`silently`](Self::silently), as [`count`](Self::count)).
    pub(crate) fn replay(&mut self, summary: &RedactionSummary) {
        if self.silent {
            return;
        }
        for (rule, count) in summary.iter() {
            self.summary.add_many(rule, count);
        }
    }

    pub(crate) fn into_parts(self) -> (RedactionSummary, HiddenValues) {
        (self.summary, self.hidden)
    }
}

/// The values remembered for the reverse lookup, kept end to end in one string (a report
/// remembers dozens to hundreds of them; one allocation each cost more than finding them).
/// `Debug` counts them.
#[derive(Default)]
pub(crate) struct HiddenValues {
    text: String,
    ends: Vec<usize>,
}

impl fmt::Debug for HiddenValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HiddenValues")
            .field(&Count::new(self.len(), "value", "values"))
            .finish()
    }
}

impl HiddenValues {
    fn push(&mut self, value: &str) {
        self.text.push_str(value);
        self.ends.push(self.text.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn truncate(&mut self, len: usize) {
        if len < self.ends.len() {
            self.text
                .truncate(if len == 0 { 0 } else { self.ends[len - 1] });
            self.ends.truncate(len);
        }
    }

    /// The values, in the order they were remembered.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.text[start..end])
    }
}

/// A reporter filter: decides what of a [`Capture`] may be shown (Django's
/// `SafeExceptionReporterFilter`).
///
/// Implement the primitives (`sensitive_name`, and optionally `substitute`, `is_active`,
/// `scrub_text`) to get Django's section semantics with your rules; override a section
/// method to change one section. A filter that returns values unfiltered (Django's test
/// `UnsafeExceptionReporterFilter`) is possible, and is the implementer's responsibility.
///
/// ```
/// use regex::Regex;
/// use safe_report::{Capture, ExceptionReporter, ReporterFilter, Rule};
///
/// /// Django's CustomExceptionReporterFilter from its test suite.
/// struct Custom(Regex);
///
/// impl ReporterFilter for Custom {
///     fn substitute(&self) -> &str {
///         "XXXXXXXXXXXXXXXXXXXX"
///     }
///     fn sensitive_name(&self, name: &str) -> Option<Rule> {
///         self.0.is_match(name).then_some(Rule::NamePattern)
///     }
/// }
///
/// let filter = Custom(Regex::new("(?i)PASS|DATABASE").unwrap());
/// let capture = Capture::error("E", "x").with_settings(&serde_json::json!({
///     "DATABASE_URL": "sqlite://x", "API_KEY": "visible with this filter"
/// }));
/// let report = ExceptionReporter::new(filter).report(&capture);
/// assert_eq!(report.settings[0].value, "\"visible with this filter\"");
/// assert_eq!(report.settings[1].value, "\"XXXXXXXXXXXXXXXXXXXX\"");
/// ```
pub trait ReporterFilter: Send + Sync {
    /// The text shown instead of a hidden value (Django's `cleansed_substitute`).
    fn substitute(&self) -> &str {
        DEFAULT_SUBSTITUTE
    }

    /// Whether POST parameters and frame variables declared sensitive are hidden. Django:
    /// when debug is off. Settings, headers and cookies are filtered either way.
    fn is_active(&self, capture: &Capture) -> bool {
        !capture.debug
    }

    /// The rule that makes `name` sensitive, or `None` (Django's `hidden_settings` search,
    /// plus the session cookie name).
    fn sensitive_name(&self, name: &str) -> Option<Rule>;

    /// Whether the name rules also apply where Django does not apply them: GET parameters,
    /// POST fields, frame variable names and keys nested inside variables.
    fn names_beyond_django(&self) -> bool {
        false
    }

    /// Whether a value hidden anywhere is also hidden wherever else it appears.
    fn reverse_lookup(&self) -> bool {
        false
    }

    /// Whether the client's IP address is hidden: `REMOTE_ADDR` and the headers that
    /// forward it ([`CLIENT_ADDRESS_HEADERS`]). The default shows it, as Django does.
    fn hides_client_address(&self) -> bool {
        false
    }

    /// Hides secrets inside `text` (value detectors). Returns `None` when nothing was
    /// hidden. The default hides nothing. For [`TextKind::LookupOnly`] only what it
    /// remembers in `cx` counts: the text returned is not used.
    fn scrub_text(&self, text: &str, kind: TextKind, cx: &mut FilterContext<'_>) -> Option<String> {
        let _ = (text, kind, cx);
        None
    }

    /// Free text (messages, URLs, header values, source lines) as it may be shown; borrowed
    /// when nothing was hidden.
    fn safe_text<'t>(
        &self,
        text: &'t str,
        kind: TextKind,
        cx: &mut FilterContext<'_>,
    ) -> Cow<'t, str> {
        match self.scrub_text(text, kind, cx) {
            Some(scrubbed) => Cow::Owned(scrubbed),
            None => Cow::Borrowed(text),
        }
    }

    /// Django's `cleanse_setting`: hides the value if `name` is sensitive, otherwise recurses
    /// into maps (each value under its own key) and lists (elements under the name `""`), and
    /// scrubs strings. Unchanged values are borrowed, not copied.
    fn cleanse_value<'v>(
        &self,
        name: &str,
        value: &'v Value,
        cx: &mut FilterContext<'_>,
    ) -> Shown<'v> {
        cleanse(self, name, value, cx, 0, &|_: &str| None)
    }

    /// The settings, sorted by name, each cleansed under its name.
    fn safe_settings<'v>(
        &self,
        settings: &'v Map<String, Value>,
        cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        let mut out: Vec<Named<'v>> = settings
            .iter()
            .map(|(name, value)| {
                (
                    self.safe_text(name, TextKind::Free, cx),
                    cx.value(|cx| self.cleanse_value(name, value, cx)),
                )
            })
            .collect();
        if !out.is_sorted_by(|a, b| a.0 <= b.0) {
            out.sort_by(|a, b| a.0.cmp(&b.0));
            cx.forget_value_rules();
        }
        out
    }

    /// The request headers in order. A header is hidden when the HTTP stack marked it
    /// sensitive, or when its name, in Django's META form (`HTTP_X_API_KEY`) or as sent, is
    /// sensitive; other values are scrubbed.
    fn safe_headers<'v>(
        &self,
        request: &'v RequestInfo,
        cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        request
            .headers
            .iter()
            .map(|(name, value)| {
                let text = value.to_marked_text();
                let shown = cx.value(|cx| {
                    if request
                        .sensitive_headers
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(name))
                    {
                        cx.hide_text(Rule::SensitiveHeader, &text, self.substitute())
                    } else if self.hides_client_address() && is_client_address_header(name) {
                        cx.hide_text(Rule::ClientAddress, &text, self.substitute())
                    } else if let Some(rule) = self
                        .sensitive_name(&meta_name(name))
                        .or_else(|| self.sensitive_name(name))
                    {
                        cx.hide_text(rule, &text, self.substitute())
                    } else {
                        Value::String(self.safe_text(&text, TextKind::Free, cx).into_owned())
                    }
                });
                (self.safe_text(name, TextKind::Free, cx), Shown::from(shown))
            })
            .collect()
    }

    /// Cookies, each cleansed under its name (the session cookie and sensitive names hidden).
    fn safe_cookies<'v>(
        &self,
        cookies: &'v [(String, String)],
        cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        cookies
            .iter()
            .map(|(name, value)| {
                let shown = cx.value(|cx| match self.sensitive_name(name) {
                    Some(rule) => cx.hide_text(rule, value, self.substitute()),
                    None => Value::String(self.safe_text(value, TextKind::Free, cx).into_owned()),
                });
                (self.safe_text(name, TextKind::Free, cx), Shown::from(shown))
            })
            .collect()
    }

    /// GET parameters. Django shows them unfiltered; with `names_beyond_django` the name
    /// rules apply, and values are scrubbed either way.
    fn get_parameters<'v>(
        &self,
        parameters: &'v [(String, String)],
        cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        parameters
            .iter()
            .map(|(name, value)| {
                let shown = cx.value(|cx| {
                    match self
                        .sensitive_name(name)
                        .filter(|_| self.names_beyond_django())
                    {
                        Some(rule) => cx.hide_text(rule, value, self.substitute()),
                        None => {
                            Value::String(self.safe_text(value, TextKind::Free, cx).into_owned())
                        }
                    }
                });
                (self.safe_text(name, TextKind::Free, cx), Shown::from(shown))
            })
            .collect()
    }

    /// POST parameters: while active, those declared sensitive (names or all) are hidden;
    /// with `names_beyond_django` the name rules apply too.
    fn post_parameters<'v>(
        &self,
        request: &RequestInfo,
        parameters: &'v [(String, String)],
        cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        let declared = request.sensitive_post_parameters.as_ref();
        parameters
            .iter()
            .map(|(name, value)| {
                let rule = if cx.is_active() && declared.is_some_and(|d| d.contains(name)) {
                    Some(Rule::SensitivePostParameters)
                } else {
                    self.sensitive_name(name)
                        .filter(|_| self.names_beyond_django())
                };
                let shown = cx.value(|cx| match rule {
                    Some(rule) => cx.hide_text(rule, value, self.substitute()),
                    None => Value::String(self.safe_text(value, TextKind::Free, cx).into_owned()),
                });
                (self.safe_text(name, TextKind::Free, cx), Shown::from(shown))
            })
            .collect()
    }

    /// A JSON request body: keys are cleansed at every level, and while active, top-level
    /// keys declared sensitive POST parameters are hidden.
    fn json_body<'v>(
        &self,
        request: &RequestInfo,
        body: &'v Value,
        cx: &mut FilterContext<'_>,
    ) -> Shown<'v> {
        let declared = request
            .sensitive_post_parameters
            .clone()
            .filter(|_| cx.is_active());
        match body {
            Value::Object(_) => cleanse(self, "", body, cx, 0, &|key: &str| {
                declared
                    .as_ref()
                    .is_some_and(|d| d.contains(key))
                    .then_some(Rule::SensitivePostParameters)
            }),
            other => self.cleanse_value("", other, cx),
        }
    }

    /// A frame's variables. While active, names in `sensitive` (the frame's own declaration
    /// and those of the frames that called it) are hidden, and so are declared-sensitive
    /// POST fields inside maps (copies of the POST data). With `names_beyond_django` the
    /// name rules apply to variable names and nested keys. Strings are scrubbed.
    fn frame_variables<'v>(
        &self,
        frame: &'v Frame,
        sensitive: Option<&SensitiveNames>,
        cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        let post_names = cx.declared_post_names();
        let post_key = |key: &str| {
            post_names
                .iter()
                .any(|name| name == key)
                .then_some(Rule::SensitivePostParameters)
        };
        let names = self.names_beyond_django();
        frame
            .vars
            .iter()
            .map(|var| {
                let value = var.value.root();
                let shown = cx.value(|cx| {
                    if cx.is_active() && sensitive.is_some_and(|s| s.contains(&var.name)) {
                        cx.hidden(Rule::SensitiveVariables, value, self.substitute())
                    } else if names {
                        cleanse(self, &var.name, value, cx, 0, &post_key)
                    } else {
                        cleanse_with(self, value, cx, 0, &|_: &str| None, &post_key)
                    }
                });
                (self.safe_text(&var.name, TextKind::Free, cx), shown)
            })
            .collect()
    }
}

/// A value as the filter lets it be shown. What the filter left unchanged is borrowed from
/// the capture, at any depth: a map or list of which only some entries changed lists its
/// entries, the unchanged ones borrowed, instead of being copied whole.
///
/// ```
/// use safe_report::Shown;
/// use serde_json::{Value, json};
///
/// let city = json!("Berlin");
/// let shown = Shown::Map(vec![
///     ("city".into(), Shown::Same(&city)),
///     ("password".into(), Shown::Text("********************".into())),
/// ]);
/// assert_eq!(
///     shown.into_value(),
///     json!({"city": "Berlin", "password": "********************"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Shown<'v> {
    /// Unchanged, borrowed from the capture.
    Same(&'v Value),
    /// Unchanged, borrowed from a captured frame variable.
    Captured(CapturedRef<'v>),
    /// Replaced by a text: the substitute, or a string with secrets hidden in it.
    Text(Cow<'v, str>),
    /// Replaced by another value.
    New(Box<Value>),
    /// A map of which some entries changed: every entry in order, each as shown.
    Map(Vec<(Cow<'v, str>, Shown<'v>)>),
    /// A list of which some items changed: every item in order, each as shown.
    List(Vec<Shown<'v>>),
}

impl Shown<'_> {
    /// Whether the filter changed something in the value.
    pub fn is_changed(&self) -> bool {
        !matches!(self, Shown::Same(_) | Shown::Captured(_))
    }

    /// The value as shown, as plain data (entries of a map whose shown keys coincide are
    /// merged, the later one winning, as in a map built from them).
    pub fn into_value(self) -> Value {
        match self {
            Shown::Same(value) => value.clone(),
            Shown::Captured(value) => value.to_value(),
            Shown::Text(text) => Value::String(text.into_owned()),
            Shown::New(value) => *value,
            Shown::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, shown)| (key.into_owned(), shown.into_value()))
                    .collect(),
            ),
            Shown::List(items) => Value::Array(items.into_iter().map(Shown::into_value).collect()),
        }
    }
}

impl From<Value> for Shown<'_> {
    /// A replacement value (a string becomes [`Shown::Text`]).
    fn from(value: Value) -> Self {
        match value {
            Value::String(text) => Shown::Text(Cow::Owned(text)),
            other => Shown::New(Box::new(other)),
        }
    }
}

impl<'v> From<&'v Value> for Shown<'v> {
    fn from(value: &'v Value) -> Self {
        Shown::Same(value)
    }
}

/// A name and its value as the filter lets them be shown.
pub type Named<'v> = (Cow<'v, str>, Shown<'v>);

/// Whether `text` has at least `count` characters (counted only when its length in bytes
/// does not tell: a character takes one to four bytes).
fn has_chars(text: &str, count: usize) -> bool {
    text.len() >= count
        && (text.len() >= 4 * count || text.is_ascii() || text.chars().count() >= count)
}

/// 8+ characters, letters and digits, no whitespace: the shape of keys, tokens and
/// passwords rather than of words, names or plain URLs.
fn looks_secret(text: &str) -> bool {
    has_chars(text, REVERSE_LOOKUP_MIN_CHARS)
        && text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().any(|b| b.is_ascii_alphabetic())
        && !text.bytes().any(|b| b.is_ascii_whitespace())
}

/// The headers through which proxies forward the client's IP address, hidden with
/// `REMOTE_ADDR` when the filter hides client addresses.
pub const CLIENT_ADDRESS_HEADERS: [&str; 6] = [
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "true-client-ip",
    "cf-connecting-ip",
    "x-client-ip",
];

fn is_client_address_header(name: &str) -> bool {
    CLIENT_ADDRESS_HEADERS
        .iter()
        .any(|header| header.eq_ignore_ascii_case(name))
}

/// Django's META name for a header: `X-Api-Key` → `HTTP_X_API_KEY`.
pub(crate) fn meta_name(header: &str) -> String {
    let mut meta = String::with_capacity(header.len() + 5);
    if !header.eq_ignore_ascii_case("content-type")
        && !header.eq_ignore_ascii_case("content-length")
    {
        meta.push_str("HTTP_");
    }
    for ch in header.chars() {
        meta.push(if ch == '-' {
            '_'
        } else {
            ch.to_ascii_uppercase()
        });
    }
    meta
}

/// A value the filter reads: plain data or a captured variable.
trait Input<'v>: Tree<'v> {
    /// The value shown unchanged.
    fn same(self) -> Shown<'v>;
}

impl<'v> Input<'v> for &'v Value {
    #[inline]
    fn same(self) -> Shown<'v> {
        Shown::Same(self)
    }
}

impl<'v> Input<'v> for CapturedRef<'v> {
    #[inline]
    fn same(self) -> Shown<'v> {
        Shown::Captured(self)
    }
}

fn cleanse<'v, F: ReporterFilter + ?Sized>(
    filter: &F,
    name: &str,
    value: impl Input<'v>,
    cx: &mut FilterContext<'_>,
    depth: usize,
    extra: &dyn Fn(&str) -> Option<Rule>,
) -> Shown<'v> {
    if let Some(rule) = filter.sensitive_name(name).or_else(|| extra(name)) {
        return cx.hidden(rule, value, filter.substitute());
    }
    cleanse_with(
        filter,
        value,
        cx,
        depth,
        &|key| filter.sensitive_name(key),
        extra,
    )
}

/// Walks `value`: map entries whose keys `names` or `extra` flag are hidden; other strings
/// (keys included) are scrubbed. Returns the value borrowed when nothing changed.
fn cleanse_with<'v, F: ReporterFilter + ?Sized>(
    filter: &F,
    value: impl Input<'v>,
    cx: &mut FilterContext<'_>,
    depth: usize,
    names: &dyn Fn(&str) -> Option<Rule>,
    extra: &dyn Fn(&str) -> Option<Rule>,
) -> Shown<'v> {
    if depth > MAX_DEPTH {
        return cx.hidden(Rule::TooDeep, value, filter.substitute());
    }
    match value.kind() {
        Kind::Map(len, entries) => {
            let mut changed: Option<Vec<(Cow<'v, str>, Shown<'v>)>> = None;
            for (index, (key, item)) in entries.clone().enumerate() {
                let shown_key = filter.scrub_text(key, TextKind::Free, cx);
                let shown = match names(key).or_else(|| extra(key)) {
                    Some(rule) => cx.hidden(rule, item, filter.substitute()),
                    None => cleanse_with(filter, item, cx, depth + 1, names, extra),
                };
                if changed.is_none() && (shown_key.is_some() || shown.is_changed()) {
                    let mut out = Vec::with_capacity(len);
                    out.extend(
                        entries
                            .clone()
                            .take(index)
                            .map(|(key, item)| (Cow::Borrowed(key), item.same())),
                    );
                    changed = Some(out);
                }
                if let Some(out) = &mut changed {
                    let key = shown_key.map_or(Cow::Borrowed(key), Cow::Owned);
                    out.push((key, shown));
                }
            }
            changed.map_or_else(|| value.same(), Shown::Map)
        }
        Kind::List(len, items) => {
            let mut changed: Option<Vec<Shown<'v>>> = None;
            for (index, item) in items.clone().enumerate() {
                let shown = cleanse_with(filter, item, cx, depth + 1, names, extra);
                if changed.is_none() && shown.is_changed() {
                    let mut out = Vec::with_capacity(len);
                    out.extend(items.clone().take(index).map(Input::same));
                    changed = Some(out);
                }
                if let Some(out) = &mut changed {
                    out.push(shown);
                }
            }
            changed.map_or_else(|| value.same(), Shown::List)
        }
        Kind::Str(text) => cleanse_text(filter, value, text, cx),
        // A long integer may be a card number kept as a number.
        Kind::Leaf(Leaf::Number(number))
            if number.as_u64().is_some_and(|n| n >= 1_000_000_000_000) =>
        {
            match filter.scrub_text(&number.to_string(), TextKind::Free, cx) {
                Some(scrubbed) => Shown::Text(Cow::Owned(scrubbed)),
                None => value.same(),
            }
        }
        Kind::Leaf(_) => value.same(),
        Kind::Value(plain) => cleanse_with(filter, plain, cx, depth, names, extra),
        Kind::Captured(captured) => cleanse_with(filter, captured, cx, depth, names, extra),
    }
}

/// A string (`text`, the string `value`) as the filter shows it: scrubbed, only the part a
/// report can show when it is long.
#[inline]
fn cleanse_text<'v, F: ReporterFilter + ?Sized>(
    filter: &F,
    value: impl Input<'v>,
    text: &'v str,
    cx: &mut FilterContext<'_>,
) -> Shown<'v> {
    match shown_prefix(text) {
        // Only the start of a long string can be shown: filter just that (the margin keeps
        // a secret that straddles the cut recognisable).
        Some(prefix) => Shown::Text(
            filter
                .scrub_text(prefix, TextKind::Free, cx)
                .map_or(Cow::Borrowed(prefix), Cow::Owned),
        ),
        None => match filter.scrub_text(text, TextKind::Free, cx) {
            Some(scrubbed) => Shown::Text(Cow::Owned(scrubbed)),
            None => value.same(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CapturedValue;

    /// A value with sensitive keys, secrets and ordinary data, from `seed`.
    fn mixed_value(seed: &mut u64, depth: usize) -> Value {
        let mut next = |below: u64| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed % below
        };
        const KEYS: [&str; 6] = ["city", "password", "api_key", "items", "note", "auth_token"];
        const TEXTS: [&str; 6] = [
            "Berlin",
            "Authorization: Bearer S3CR3T-abc123def456",
            "card 4111 1111 1111 1111",
            "sk_live_51HxYzAbCdEf0123456789",
            "",
            "plain words only",
        ];
        match next(if depth > 3 { 3 } else { 5 }) {
            0 => Value::from(next(2) * 4_111_111_111_111_111 + next(100)),
            1 | 2 => Value::from(TEXTS[next(6) as usize]),
            3 => {
                let len = next(5);
                (0..len).map(|_| mixed_value(seed, depth + 1)).collect()
            }
            _ => {
                let len = next(5);
                Value::Object(
                    (0..len)
                        .map(|index| {
                            let key = format!("{}{}", KEYS[(index as usize + depth) % 6], index);
                            (key, mixed_value(seed, depth + 1))
                        })
                        .collect(),
                )
            }
        }
    }

    #[test]
    fn a_captured_value_is_filtered_as_the_plain_value_it_holds() {
        let filter = crate::SafeReporterFilter::default();
        let capture = Capture::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut changed = 0;
        for _ in 0..2_000 {
            let value = mixed_value(&mut seed, 0);
            let captured = CapturedValue::from(&value);
            let mut plain_cx = FilterContext::new(&capture, &filter);
            let mut captured_cx = FilterContext::new(&capture, &filter);
            let plain = cleanse(&filter, "ctx", &value, &mut plain_cx, 0, &|_: &str| None);
            let shown = cleanse(
                &filter,
                "ctx",
                captured.root(),
                &mut captured_cx,
                0,
                &|_: &str| None,
            );
            assert_eq!(plain.is_changed(), shown.is_changed(), "{value}");
            changed += usize::from(plain.is_changed());
            assert_eq!(plain.into_value(), shown.into_value(), "{value}");
            assert_eq!(plain_cx.summary(), captured_cx.summary(), "{value}");
            assert!(
                plain_cx.hidden_since(0).eq(captured_cx.hidden_since(0)),
                "{value}"
            );
        }
        // The workload exercises the filter: many values have something hidden.
        assert!(changed > 600, "{changed} of 2,000 changed");
    }

    #[test]
    fn has_chars_counts_characters_not_bytes() {
        for text in [
            "",
            "abc",
            "abcdefg",
            "abcdefgh",
            "éééé",
            "éééééééé",
            "日本語の文字です",
            "a😀b",
        ] {
            for count in 0..12 {
                assert_eq!(
                    has_chars(text, count),
                    text.chars().count() >= count,
                    "{text:?} {count}"
                );
            }
        }
        assert!(has_chars(&"😀".repeat(8), 8));
        assert!(!has_chars(&"😀".repeat(7), 8));
    }
}
