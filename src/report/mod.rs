//! The reporter: a [`Capture`] and a filter in, a redacted [`Report`] out.
//!
//! ```
//! use safe_report::{Capture, ExceptionReporter, Frame, RequestInfo};
//!
//! let capture = Capture::error("ValueError", "Can't find my keys")
//!     .with_request(RequestInfo::new("GET", "http://shop.example.com/cart?page=2").user("jacob"))
//!     .with_frame(Frame::new("shop::cart", "src/cart.rs", 10).var("token", "abc123456789"));
//! let report = ExceptionReporter::default().report(&capture);
//! assert_eq!(report.title(), "ValueError at /cart");
//! assert_eq!(report.frames[0].vars[0].value, "\"********************\"");
//! let text = report.text().to_string();
//! assert!(text.contains("USER: jacob"));
//! assert!(!text.contains("abc123456789"));
//! ```

mod controls;
#[cfg(feature = "embed-sources")]
mod embedded;
mod fingerprint;
mod format;
mod lookup;
mod model;
pub(crate) mod request;
mod settings_cache;
mod source;
mod view;

pub use controls::{Controls, Draft, ErrorSummary, PatternError};
#[cfg(feature = "embed-sources")]
pub use embedded::{EmbeddedSources, EmbeddedSourcesError};
pub use fingerprint::{Fingerprint, normalise_message};
pub use model::{
    BreadcrumbEntry, CauseSection, Entry, EnvironmentSection, FileEntry, Location, Report,
    ReportFrame, RequestSection, UNKNOWN_USER,
};
pub use source::{
    CONTEXT_AFTER, CONTEXT_BEFORE, MAX_CACHED_SOURCE, MAX_SOURCE_FILE, SOURCE_NOT_AVAILABLE,
    SourceCache,
};
pub use view::{Format, Html, Json, Markdown, Text};

pub(crate) use format::{format_value, quoted};
use lookup::{Lookup, forms_of, hide_everywhere, hide_in};
use settings_cache::SettingsCache;
use source::SourceFile;

use std::borrow::Cow;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use crate::filter::{
    FilterContext, Named, RedactionSummary, ReporterFilter, Rule, SafeReporterFilter, Shown,
    TextKind,
};
use crate::limits::{MAX_FRAMES, MAX_VARS_PER_FRAME};
use crate::model::value::{Kind, Tree};
use crate::model::{Breadcrumb, Capture, Environment, Frame, SensitiveNames};
use crate::render::EditorLinks;
use request::Body;

/// Turns captures into redacted reports (Django's `ExceptionReporter`).
///
/// It holds the filter, an optional source root for relative file names and the cache of
/// source files. Cloning is cheap.
#[derive(Clone)]
pub struct ExceptionReporter {
    filter: Arc<dyn ReporterFilter>,
    source_root: Option<PathBuf>,
    sources: Arc<SourceCache>,
    settings_cache: Option<Arc<SettingsCache>>,
    editor: Option<Arc<EditorLinks>>,
}

impl std::fmt::Debug for ExceptionReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExceptionReporter")
            .field("source_root", &self.source_root)
            .field("editor", &self.editor)
            .finish_non_exhaustive()
    }
}

impl Default for ExceptionReporter {
    fn default() -> Self {
        Self::new(SafeReporterFilter::default())
    }
}

impl ExceptionReporter {
    /// A reporter using `filter`.
    pub fn new(filter: impl ReporterFilter + 'static) -> Self {
        Self::with_shared_filter(Arc::new(filter))
    }

    /// A reporter using a shared filter.
    pub fn with_shared_filter(filter: Arc<dyn ReporterFilter>) -> Self {
        Self {
            filter,
            source_root: None,
            sources: SourceCache::shared(),
            settings_cache: Some(Arc::new(SettingsCache::default())),
            editor: None,
        }
    }

    /// Whether to reuse the filtered settings section while the settings stay the same (on
    /// by default). Settings rarely change between reports, and filtering and formatting
    /// them is a large part of building a report; the section is reused only for settings
    /// of identical content and the same filter state, with the same redaction counts. Turn
    /// it off for a custom filter whose settings output depends on anything else.
    #[must_use]
    pub fn cache_settings(mut self, on: bool) -> Self {
        self.settings_cache = on.then(|| Arc::new(SettingsCache::default()));
        self
    }

    /// Resolves relative file names of frames against `root`.
    #[must_use]
    pub fn source_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.source_root = Some(root.into());
        self
    }

    /// Links each frame of the browser page to its line in an editor (not in emails).
    /// `EditorLinks::from_env` reads the editor from `SAFE_REPORT_EDITOR` and
    /// `SAFE_REPORT_EDITOR_PATH_MAP`; see [`render::editor`](crate::render::editor).
    ///
    /// ```
    /// use safe_report::{Capture, EditorLinks, ExceptionReporter, Frame};
    ///
    /// let reporter = ExceptionReporter::default()
    ///     .editor(EditorLinks::new("vscode")?.map_path("/app", "/home/me/src/shop"));
    /// let capture = Capture::error("E", "boom")
    ///     .with_frame(Frame::new("shop::cart", "/app/src/cart.rs", 12));
    /// let report = reporter.report(&capture);
    /// assert_eq!(
    ///     report.frames[0].editor_url(),
    ///     Some("vscode://file/home/me/src/shop/src/cart.rs:12")
    /// );
    /// assert!(report.html().to_string().contains(
    ///     r#"<a class="editor" href="vscode://file/home/me/src/shop/src/cart.rs:12">Open in VS Code</a>"#
    /// ));
    /// assert!(!report.html().for_email().to_string().contains("vscode:"));
    /// # Ok::<(), safe_report::render::EditorError>(())
    /// ```
    #[must_use]
    pub fn editor(mut self, links: EditorLinks) -> Self {
        self.editor = Some(Arc::new(links));
        self
    }

    /// The editor links, if any (see [`editor`](Self::editor)).
    pub fn editor_links(&self) -> Option<&EditorLinks> {
        self.editor.as_deref()
    }

    /// Uses `cache` for source files instead of the process-wide one.
    #[must_use]
    pub fn source_cache(mut self, cache: Arc<SourceCache>) -> Self {
        self.sources = cache;
        self
    }

    /// The filter.
    pub fn filter(&self) -> &dyn ReporterFilter {
        self.filter.as_ref()
    }

    /// Builds the report of `capture` through this reporter's filter.
    pub fn report(&self, capture: &Capture) -> Report {
        self.report_with(capture, self.filter.as_ref())
    }

    /// Builds the report of `capture` through another filter (Django's per-request
    /// `exception_reporter_filter`).
    pub fn report_with(&self, capture: &Capture, filter: &dyn ReporterFilter) -> Report {
        self.build(capture, filter, true)
    }

    /// The report of `capture` for the text renderings ([`Report::text`]): frame variables
    /// and the source lines around each frame are filtered (what they hide is hidden
    /// everywhere else too) but not formatted, which the text report never shows. The
    /// same text as [`report`](Self::report)'s, for less work; its other renderings show no
    /// variables and no surrounding lines.
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter};
    ///
    /// let capture = Capture::error("E", "boom");
    /// let text = ExceptionReporter::default().text_report(&capture).text().to_string();
    /// assert!(text.starts_with("E\nboom\n"));
    /// ```
    pub fn text_report(&self, capture: &Capture) -> Report {
        self.build(capture, self.filter.as_ref(), false)
    }

    /// The report of `capture` and `message`, the log message that goes with it (an
    /// email's subject and first line), filtered together: a value hidden anywhere in the
    /// report is hidden in the message too, and what the message hides counts in the
    /// report's redaction summary.
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter, Frame};
    ///
    /// let capture = Capture::error("E", "login failed")
    ///     .with_frame(Frame::new("app::login", "src/login.rs", 1).var("password", "hunter2-pass"));
    /// let (report, message) = ExceptionReporter::default()
    ///     .report_with_message(&capture, "login failed with hunter2-pass");
    /// assert_eq!(message, "login failed with ********************");
    /// assert!(report.text().to_string().contains("login failed"));
    /// ```
    pub fn report_with_message(&self, capture: &Capture, message: &str) -> (Report, String) {
        self.build_with_message(capture, message, true)
    }

    /// As [`report_with_message`](Self::report_with_message), the report for the text
    /// renderings only, as [`text_report`](Self::text_report) builds it.
    pub fn text_report_with_message(&self, capture: &Capture, message: &str) -> (Report, String) {
        self.build_with_message(capture, message, false)
    }

    fn build_with_message(
        &self,
        capture: &Capture,
        message: &str,
        with_variables: bool,
    ) -> (Report, String) {
        let (report, message) = self
            .builder(capture, self.filter.as_ref(), with_variables)
            .build(capture, Some(message));
        (report, message.unwrap_or_default())
    }

    pub(crate) fn build(
        &self,
        capture: &Capture,
        filter: &dyn ReporterFilter,
        with_variables: bool,
    ) -> Report {
        self.builder(capture, filter, with_variables)
            .build(capture, None)
            .0
    }

    fn builder<'a>(
        &'a self,
        capture: &'a Capture,
        filter: &'a dyn ReporterFilter,
        with_variables: bool,
    ) -> Builder<'a> {
        // The cache belongs to this reporter's own filter; another filter gets no cache.
        let own_filter = std::ptr::addr_eq(filter, self.filter.as_ref());
        Builder {
            settings_cache: self.settings_cache.as_deref().filter(|_| own_filter),
            filter,
            source_root: self.source_root.as_deref(),
            editor: self.editor.as_deref(),
            sources: &self.sources,
            cx: FilterContext::new(capture, filter),
            settings_forms: None,
            next_id: 0,
            with_variables,
            code_lines: Vec::new(),
            files: HashMap::new(),
            detail: RedactionSummary::default(),
            caret_prefixes: Vec::new(),
        }
    }
}

struct Builder<'a> {
    filter: &'a dyn ReporterFilter,
    settings_cache: Option<&'a SettingsCache>,
    source_root: Option<&'a Path>,
    editor: Option<&'a EditorLinks>,
    sources: &'a SourceCache,
    cx: FilterContext<'a>,
    /// The forms of the values the settings section hid, when it came from the cache.
    settings_forms: Option<Arc<[String]>>,
    next_id: usize,
    with_variables: bool,
    /// Source lines already filtered in this report (frames of one function repeat them),
    /// with the redactions they made: per source file (by address), by line index.
    code_lines: Vec<(Arc<SourceFile>, Vec<Option<FilteredLine>>)>,
    /// Source files already looked up in this report, by the name frames give.
    files: HashMap<String, Option<Arc<SourceFile>>>,
    /// Redactions in the parts the text report leaves out (variables, surrounding lines).
    detail: RedactionSummary,
    /// For each frame with a known column (by id): its source line up to the column, as
    /// read. The caret is placed once every pass over the report is done, if the line is
    /// still shown as it was up to there.
    caret_prefixes: Vec<(usize, String)>,
}

/// A source line as shown, with what filtering it counted.
type FilteredLine = (String, RedactionSummary);

/// Runs one filter step; if it panics, the report gets `fallback` instead (fail closed).
fn guarded<T>(
    cx: &mut FilterContext<'_>,
    step: impl FnOnce(&mut FilterContext<'_>) -> T,
    fallback: impl FnOnce() -> T,
) -> T {
    let silent = cx.is_silent();
    match catch_unwind(AssertUnwindSafe(|| step(cx))) {
        Ok(value) => value,
        Err(_) => {
            cx.set_silent(silent);
            cx.count(Rule::FilterFailure);
            fallback()
        }
    }
}

impl<'a> Builder<'a> {
    fn text(&mut self, text: &str, kind: TextKind) -> String {
        let filter = self.filter;
        guarded(
            &mut self.cx,
            |cx| filter.safe_text(text, kind, cx).into_owned(),
            || filter.substitute().to_owned(),
        )
    }

    /// The settings section, from the cache when these settings were seen before, with the
    /// forms of the values it hid.
    fn settings(&mut self, settings: &Arc<serde_json::Map<String, Value>>) -> Arc<[Entry]> {
        let Some(cache) = self.settings_cache else {
            return self
                .entries(|filter, cx| filter.safe_settings(settings, cx))
                .into();
        };
        let miss = match cache.replay(settings, self.cx.is_active(), &mut self.cx) {
            Ok((entries, forms)) => {
                self.settings_forms = Some(forms);
                return entries;
            }
            Err(miss) => miss,
        };
        let summary = self.cx.summary().clone();
        let hidden = self.cx.hidden_len();
        let entries: Arc<[Entry]> = self
            .entries(|filter, cx| filter.safe_settings(settings, cx))
            .into();
        let added = self.cx.summary().since(&summary);
        if added.count(Rule::FilterFailure) == 0 {
            self.settings_forms = Some(cache.store(
                settings,
                miss,
                &entries,
                added,
                self.cx.hidden_since(hidden),
            ));
            self.cx.forget_hidden_since(hidden);
        }
        entries
    }

    /// Line `line0` of `file`, filtered once per report (frames of one function show the
    /// same lines); a line of a private key block is hidden whole.
    fn code_line(&mut self, file: &Arc<SourceFile>, line0: usize) -> String {
        let (text, in_private_key) = file.line(line0);
        if in_private_key {
            self.cx.count(Rule::PemPrivateKey);
            return self.filter.substitute().to_owned();
        }
        let slot = match self
            .code_lines
            .iter()
            .position(|(seen, _)| Arc::ptr_eq(seen, file))
        {
            Some(slot) => slot,
            None => {
                self.code_lines
                    .push((Arc::clone(file), vec![None; file.line_count()]));
                self.code_lines.len() - 1
            }
        };
        if let Some((shown, summary)) = &self.code_lines[slot].1[line0] {
            let shown = shown.clone();
            self.cx.replay(summary);
            return shown;
        }
        let before = self.cx.summary().clone();
        let shown = self.text(text, TextKind::Code);
        let added = self.cx.summary().since(&before);
        self.code_lines[slot].1[line0] = Some((shown.clone(), added));
        shown
    }

    /// A text that may be missing; an empty one counts as missing (as in Django, where an
    /// empty message is "No exception message supplied").
    fn optional_text(&mut self, text: Option<&str>) -> Option<String> {
        text.filter(|text| !text.is_empty())
            .map(|text| self.text(text, TextKind::Free))
    }

    fn entries<'v>(
        &mut self,
        step: impl FnOnce(&dyn ReporterFilter, &mut FilterContext<'_>) -> Vec<Named<'v>>,
    ) -> Vec<Entry> {
        let filter = self.filter;
        self.cx.begin_values();
        let pairs = guarded(
            &mut self.cx,
            |cx| step(filter, cx),
            || {
                vec![(
                    Cow::Borrowed("[filter failure]"),
                    Shown::Text(filter.substitute().to_owned().into()),
                )]
            },
        );
        let mut entries: Vec<Entry> = pairs
            .into_iter()
            .map(|(name, value)| Entry::new(name.into_owned(), format_value(&value)))
            .collect();
        // Which rule hid each value, when the section filtered them one by one.
        if let Some(rules) = self.cx.value_rules(entries.len()) {
            for &(index, rule) in rules {
                if let Some(entry) = entries.get_mut(index) {
                    entry.hidden_by = Some(rule);
                }
            }
        }
        entries
    }

    /// Tags or context values: hidden by their name as settings are, free text otherwise.
    fn pairs(&mut self, pairs: &[(String, String)]) -> Vec<Entry> {
        let filter = self.filter;
        pairs
            .iter()
            .map(|(name, value)| {
                let shown_name = self.text(name, TextKind::Free);
                let (value, rule) = match filter.sensitive_name(name) {
                    Some(rule) => {
                        let substitute = filter.substitute();
                        self.cx.hide_text(rule, value, substitute);
                        (substitute.to_owned(), Some(rule))
                    }
                    None => self.cx.value_rule(|cx| {
                        guarded(
                            cx,
                            |cx| filter.safe_text(value, TextKind::Free, cx).into_owned(),
                            || filter.substitute().to_owned(),
                        )
                    }),
                };
                let mut entry = Entry::new(shown_name, value);
                entry.hidden_by = rule;
                entry
            })
            .collect()
    }

    /// The report, and `message` filtered with it.
    fn build(mut self, capture: &'a Capture, message: Option<&str>) -> (Report, Option<String>) {
        let filter = self.filter;
        let request = capture
            .request
            .as_ref()
            .map(|request| self.request(request));
        let settings = match &capture.settings {
            Some(settings) => self.settings(settings),
            None => Arc::new([]),
        };

        let mut causes = Vec::new();
        for cause in capture.error.chain.iter().rev() {
            let exception_type = self.optional_text(cause.type_name.as_deref());
            let exception_value = self.optional_text(cause.message.as_deref());
            let (frames, _) = self.frames(&cause.frames);
            causes.push(CauseSection {
                exception_type,
                exception_value,
                explicit: cause.explicit,
                frames,
            });
        }
        let (frames, frames_omitted) = self.frames(&capture.frames);
        let location = frames.last().map(|frame| Location {
            file: frame.file.clone(),
            line: frame.line,
            function: frame.function.clone(),
        });
        let exception_type = self.optional_text(capture.error.type_name.as_deref());
        let exception_value = self.optional_text(capture.error.message.as_deref());
        let raised_during = self.optional_text(
            capture
                .request
                .as_ref()
                .and_then(|request| request.route.as_deref()),
        );
        let environment = self.environment(capture.environment.as_ref());
        let breadcrumbs = capture
            .breadcrumbs
            .iter()
            .map(|crumb| self.breadcrumb(crumb))
            .collect();
        let (tags, context) = match &capture.context {
            Some(context) => (self.pairs(&context.tags), self.pairs(&context.values)),
            None => (Vec::new(), Vec::new()),
        };
        let mut message = message.map(|message| self.text(message, TextKind::Free));

        let mut report = Report {
            debug: capture.debug,
            exception_type,
            exception_value,
            location,
            raised_during,
            request,
            causes,
            frames,
            frames_omitted,
            settings,
            environment,
            breadcrumbs,
            tags,
            context,
            fingerprint: None,
            redactions: Default::default(),
            detail_redactions: Default::default(),
            substitute: filter.substitute().to_owned(),
        };
        let mut detail = std::mem::take(&mut self.detail);
        let (mut summary, hidden) = self.cx.into_parts();
        if filter.reverse_lookup() {
            let settings = self.settings_forms.as_deref().unwrap_or_default();
            let mut others = forms_of(hidden.iter());
            others.retain(|form| settings.binary_search(form).is_err());
            let lookup = Lookup::new(settings.iter().chain(&others).map(String::as_str));
            let (mut in_detail, mut elsewhere) = (0, 0);
            if let Some(lookup) = lookup {
                (in_detail, elsewhere) = hide_everywhere(&mut report, &lookup, filter.substitute());
                if let Some(message) = &mut message {
                    let hidden = hide_in(message, &lookup, filter.substitute(), &mut Vec::new());
                    elsewhere = elsewhere.saturating_add(hidden);
                }
            }
            summary.add_many(Rule::ReverseLookup, in_detail.saturating_add(elsewhere));
            detail.add_many(Rule::ReverseLookup, in_detail);
        }
        report.trim_values();
        place_carets(&mut report, &self.caret_prefixes);
        if let Some(editor) = self.editor {
            link_frames(&mut report, editor, self.source_root);
        }
        report.redactions = summary;
        report.detail_redactions = detail;
        (report, message)
    }

    fn request(&mut self, request: &crate::model::RequestInfo) -> RequestSection {
        let filter = self.filter;
        let parts = request::split_url(&request.url);
        let query = request::parse_pairs(parts.query.as_bytes());
        let body = request::parse_body(request);
        let (form, mut files, json) = match &body {
            Body::Form(fields) => (fields.clone(), Vec::new(), None),
            Body::Multipart(fields, files) => (fields.clone(), files.clone(), None),
            Body::Json(value) => (Vec::new(), Vec::new(), Some(value)),
            Body::None | Body::NotShown(_) => (Vec::new(), Vec::new(), None),
        };
        files.extend(request.files.iter().cloned());
        let mut post_names: Vec<String> = form.iter().map(|(name, _)| name.clone()).collect();
        if let Some(Value::Object(map)) = json {
            post_names.extend(map.keys().cloned());
        }
        self.cx.set_post_field_names(post_names);

        let get = self.entries(|filter, cx| filter.get_parameters(&query, cx));
        let post = self.entries(|filter, cx| filter.post_parameters(request, &form, cx));
        let json_body = json.map(|value| {
            let substitute = filter.substitute().to_owned();
            let shown = guarded(
                &mut self.cx,
                |cx| filter.json_body(request, value, cx),
                || Shown::Text(substitute.into()),
            );
            format_value(&shown)
        });
        let body_note = match &body {
            Body::NotShown(reason) => {
                self.cx.count(Rule::UnparsedBody);
                Some(self.text(reason, TextKind::Free))
            }
            _ => None,
        };
        let files = files
            .iter()
            .map(|file| {
                let name = self.text(file.filename.as_deref().unwrap_or(""), TextKind::Free);
                let media = self.text(
                    file.content_type
                        .as_deref()
                        .unwrap_or("application/octet-stream"),
                    TextKind::Free,
                );
                let size = file
                    .size
                    .map_or_else(String::new, |size| format!(", {size} bytes"));
                FileEntry {
                    field: self.text(&file.field, TextKind::Free),
                    description: format!("<{name} ({media}{size})>"),
                }
            })
            .collect();
        let cookies_raw = request::parse_cookies(request);
        let cookies = self.entries(|filter, cx| filter.safe_cookies(&cookies_raw, cx));
        let mut meta = self.entries(|filter, cx| filter.safe_headers(request, cx));
        if let Some(addr) = &request.remote_addr {
            let (value, rule) = if self.filter.hides_client_address() {
                let substitute = self.filter.substitute();
                let value = format_value(&self.cx.hide_text(Rule::ClientAddress, addr, substitute));
                (value, Some(Rule::ClientAddress))
            } else {
                (quoted(&self.text(addr, TextKind::Free)), None)
            };
            let mut entry = Entry::new("REMOTE_ADDR".to_owned(), value);
            entry.hidden_by = rule;
            meta.push(entry);
        }
        RequestSection {
            method: self.text(&request.method, TextKind::Free),
            url: self.text(&request.url, TextKind::Free),
            path: self.text(parts.path, TextKind::Free),
            user: match &request.user {
                Some(user) => self.text(user, TextKind::Free),
                None => UNKNOWN_USER.to_owned(),
            },
            get,
            post,
            files,
            cookies,
            meta,
            json_body,
            body_note,
        }
    }

    /// The frames of one trace, with `sensitive_variables` inherited by the frames each
    /// declaring frame calls.
    fn frames(&mut self, frames: &[Frame]) -> (Vec<ReportFrame>, usize) {
        // Frames that declare nothing share their caller's scope.
        let mut inherited: Option<Rc<SensitiveNames>> = None;
        let mut scopes = Vec::with_capacity(frames.len());
        for frame in frames {
            if let Some(declared) = &frame.sensitive_variables {
                inherited = Some(Rc::new(match inherited.as_deref() {
                    Some(scope) => {
                        let mut scope = scope.clone();
                        scope.extend(declared);
                        scope
                    }
                    None => declared.clone(),
                }));
            }
            scopes.push(inherited.clone());
        }
        let omitted = frames.len().saturating_sub(MAX_FRAMES);
        let mut kept = Vec::with_capacity(frames.len() - omitted);
        for (index, (frame, scope)) in frames.iter().zip(scopes).enumerate() {
            if index < omitted {
                // Not shown, but what it would hide is still hidden elsewhere.
                self.remember_hidden_variables(frame, scope.as_deref());
            } else {
                kept.push(self.frame(frame, scope.as_deref()));
            }
        }
        (kept, omitted)
    }

    /// Remembers, for the reverse lookup, what the filter would hide in a frame's variables,
    /// without formatting them: the declared names while active, sensitive names and keys,
    /// and declared-sensitive POST fields inside maps.
    fn remember_hidden_variables(&mut self, frame: &Frame, sensitive: Option<&SensitiveNames>) {
        let filter = self.filter;
        if !filter.reverse_lookup() {
            return;
        }
        let substitute = filter.substitute();
        let post_names = self.cx.declared_post_names();
        let names = filter.names_beyond_django();
        let is_hidden = |key: &str| {
            (names && filter.sensitive_name(key).is_some()) || post_names.iter().any(|n| n == key)
        };
        let active = self.cx.is_active();
        // Nothing here is shown, so nothing is counted.
        self.cx.silently(|cx| {
            for var in &frame.vars {
                if (active && sensitive.is_some_and(|s| s.contains(&var.name)))
                    || is_hidden(&var.name)
                {
                    cx.remember_hidden_in(var.value.root(), substitute);
                } else {
                    remember_hidden_keys(filter, var.value.root(), &is_hidden, cx, substitute, 0);
                }
                if let Some(reason) = &var.error {
                    filter.scrub_text(reason, TextKind::Free, cx);
                }
            }
        });
    }

    fn frame(&mut self, frame: &Frame, sensitive: Option<&SensitiveNames>) -> ReportFrame {
        let filter = self.filter;
        let mut vars = if self.with_variables {
            let before = self.cx.summary().clone();
            let vars = self.entries(|filter, cx| filter.frame_variables(frame, sensitive, cx));
            self.detail.merge(&self.cx.summary().since(&before));
            vars
        } else {
            self.remember_hidden_variables(frame, sensitive);
            Vec::new()
        };
        for (entry, var) in vars.iter_mut().zip(&frame.vars) {
            // A long text of which only the start was formatted: the notice gives its size.
            if let Some(text) = var.value.as_str()
                && crate::filter::shown_prefix(text).is_some()
            {
                entry.full_len = Some(text.len());
            }
            // A value that could not be formatted: the reason, filtered, instead.
            if let Some(reason) = &var.error
                && entry.value != quoted(filter.substitute())
            {
                entry.value = format!("Error in formatting: {}", self.text(reason, TextKind::Free));
            }
        }
        if vars.len() > MAX_VARS_PER_FRAME {
            let extra = vars.len() - MAX_VARS_PER_FRAME;
            vars.truncate(MAX_VARS_PER_FRAME);
            vars.push(Entry::new(
                "[more variables]".to_owned(),
                format!("{extra} more variables left out"),
            ));
        }
        vars.sort_by(|a, b| a.name.cmp(&b.name));

        let file = frame.file.as_deref().unwrap_or(UNKNOWN_FILE);
        let source = frame
            .line
            .filter(|&line| line > 0)
            .zip(frame.file.as_deref())
            .and_then(|(line, file)| Some((line, self.source(file)?)));
        let context = source.as_ref().and_then(|(line, file)| {
            Some((file, file.context(*line as usize - 1, CONTEXT_BEFORE)?))
        });
        let id = self.next_id;
        self.next_id += 1;
        if let Some((_, context)) = &context
            && let Some(prefix) = frame
                .column
                .and_then(|column| line_before(context.line, column))
        {
            self.caret_prefixes.push((id, prefix.to_owned()));
        }
        let (pre_context_lineno, pre_context, context_line, post_context) = match context {
            // The text report shows only the frame's own line.
            Some((file, context)) if self.with_variables => {
                let first = context.first_line0;
                let here = first + context.before.len();
                let last = here + context.after.len().min(CONTEXT_AFTER);
                let line = self.code_line(file, here);
                let before = self.cx.summary().clone();
                let pre: Vec<String> = (first..here)
                    .map(|line0| self.code_line(file, line0))
                    .collect();
                let post: Vec<String> = (here + 1..=last)
                    .map(|line0| self.code_line(file, line0))
                    .collect();
                self.detail.merge(&self.cx.summary().since(&before));
                (first + 1, pre, line, post)
            }
            Some((file, context)) => (
                context.first_line0 + 1,
                Vec::new(),
                self.code_line(file, context.first_line0 + context.before.len()),
                Vec::new(),
            ),
            None => (
                frame.line.unwrap_or(0) as usize,
                Vec::new(),
                SOURCE_NOT_AVAILABLE.to_owned(),
                Vec::new(),
            ),
        };
        ReportFrame {
            id,
            function: self.text(&frame.function, TextKind::Free),
            file: self.text(file, TextKind::Free),
            line: frame.line,
            column: frame.column,
            caret: None,
            editor: None,
            in_app: frame.in_app,
            pre_context_lineno,
            pre_context,
            context_line,
            post_context,
            vars,
        }
    }

    /// The source file of a frame, looked up once per report for each file name.
    fn source(&mut self, file: &str) -> Option<Arc<SourceFile>> {
        if let Some(found) = self.files.get(file) {
            return found.clone();
        }
        let found = self.sources.get(&self.resolve(file));
        self.files.insert(file.to_owned(), found.clone());
        found
    }

    fn resolve(&self, file: &str) -> PathBuf {
        resolve(self.source_root, file)
    }

    /// A breadcrumb, filtered: its target and message as free text, each field hidden when
    /// the name rules hide its name (whatever `names_beyond_django` says: a logged field is
    /// named like a variable), scrubbed otherwise.
    fn breadcrumb(&mut self, crumb: &Breadcrumb) -> BreadcrumbEntry {
        let category = self.text(&crumb.category, TextKind::Free);
        let message = self.text(&crumb.message, TextKind::Free);
        let filter = self.filter;
        let fields = crumb
            .fields
            .iter()
            .map(|field| {
                let name = self.text(&field.name, TextKind::Free);
                let substitute = filter.substitute().to_owned();
                let (value, rule) = self.cx.value_rule(|cx| {
                    guarded(
                        cx,
                        |cx| match filter.sensitive_name(&field.name) {
                            Some(rule) => {
                                cx.hide_text(rule, &field.value, filter.substitute());
                                filter.substitute().to_owned()
                            }
                            None => filter
                                .safe_text(&field.value, TextKind::Free, cx)
                                .into_owned(),
                        },
                        || substitute,
                    )
                });
                let mut entry = Entry::new(name, value);
                entry.hidden_by = rule;
                entry
            })
            .collect();
        BreadcrumbEntry {
            timestamp: crumb.timestamp,
            level: crumb.level,
            category,
            message,
            fields,
        }
    }

    fn environment(&mut self, captured: Option<&Environment>) -> EnvironmentSection {
        let current;
        let env = match captured {
            Some(env) => env,
            None => {
                current = Environment::current();
                &current
            }
        };
        let mut lines = Vec::new();
        let mut add = |this: &mut Self, label: &str, value: Option<String>| {
            if let Some(value) = value {
                let value = this.text(&value, TextKind::Free);
                lines.push(Entry::new(label.to_owned(), value));
            }
        };
        add(self, ENVIRONMENT_LABEL, env.identity.environment.clone());
        add(self, RELEASE_LABEL, env.identity.release.clone());
        add(self, SERVER_NAME_LABEL, env.identity.server_name.clone());
        add(self, "Application", env.application.clone());
        add(self, "safe-report Version", env.safe_report_version.clone());
        add(self, "Rust Version", env.rustc_version.clone());
        add(self, "Executable", env.executable.clone());
        add(self, "Target", env.target.clone());
        add(self, "Hostname", env.hostname.clone());
        add(self, "Process ID", env.pid.map(|pid| pid.to_string()));
        add(self, "Thread", env.thread.clone());
        add(
            self,
            "Server time",
            env.server_time
                .as_ref()
                .map(|time| time.strftime("%a, %d %b %Y %H:%M:%S %z").to_string()),
        );
        EnvironmentSection { lines }
    }
}

/// The environment line with the deployment's environment.
pub(crate) const ENVIRONMENT_LABEL: &str = "Environment";
/// The environment line with the release.
pub(crate) const RELEASE_LABEL: &str = "Release";
/// The environment line with the server name, when it is not the host name.
pub(crate) const SERVER_NAME_LABEL: &str = "Server Name";

/// `file` resolved against `root` when it is relative.
fn resolve(root: Option<&Path>, file: &str) -> PathBuf {
    let path = Path::new(file);
    match root {
        Some(root) if path.is_relative() => root.join(path),
        _ => path.to_path_buf(),
    }
}

/// Links every frame with a file and a line to that line in `editor`. Done last, from the
/// file names as the report shows them (after every pass that may hide a part of them).
fn link_frames(report: &mut Report, editor: &EditorLinks, source_root: Option<&Path>) {
    for frame in report.all_frames_mut() {
        let Some(line) = frame.line.filter(|_| frame.file != UNKNOWN_FILE) else {
            continue;
        };
        let path = resolve(source_root, &frame.file);
        let Some(path) = path.to_str() else {
            continue;
        };
        frame.editor = editor
            .url(path, line, frame.column)
            .map(|url| (url, editor.label()));
    }
}

/// The file name of a frame whose file is not known.
const UNKNOWN_FILE: &str = "<unknown>";

/// The part of `line` before the 1-based character `column`, when the line has a
/// character there.
fn line_before(line: &str, column: u32) -> Option<&str> {
    let before = usize::try_from(column).ok()?.checked_sub(1)?;
    let (at, _) = line.char_indices().nth(before)?;
    Some(&line[..at])
}

/// Gives each frame of `prefixes` its caret, if its line as shown still starts with what
/// the source had before the column (a hidden value or a cut there would misplace it).
fn place_carets(report: &mut Report, prefixes: &[(usize, String)]) {
    if prefixes.is_empty() {
        return;
    }
    for frame in report.all_frames_mut() {
        let Some((_, prefix)) = prefixes.iter().find(|(id, _)| *id == frame.id) else {
            continue;
        };
        let shown = &frame.context_line;
        if shown.starts_with(prefix.as_str()) && shown.len() > prefix.len() {
            let padding = prefix
                .chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            frame.caret = Some(padding);
        }
    }
}

/// Remembers what would be hidden inside a variable's value: entries under hidden keys, and
/// what the value detectors find in its text. Runs inside [`FilterContext::silently`].
fn remember_hidden_keys<'t>(
    filter: &dyn ReporterFilter,
    value: impl Tree<'t>,
    is_hidden: &dyn Fn(&str) -> bool,
    cx: &mut FilterContext<'_>,
    substitute: &str,
    depth: usize,
) {
    if depth > crate::limits::MAX_DEPTH {
        return;
    }
    match value.kind() {
        Kind::Map(_, entries) => {
            for (key, item) in entries {
                filter.scrub_text(key, TextKind::LookupOnly, cx);
                if is_hidden(key) {
                    cx.remember_hidden_in(item, substitute);
                } else {
                    remember_hidden_keys(filter, item, is_hidden, cx, substitute, depth + 1);
                }
            }
        }
        Kind::List(_, items) => {
            for item in items {
                remember_hidden_keys(filter, item, is_hidden, cx, substitute, depth + 1);
            }
        }
        Kind::Str(text) => {
            let shown = crate::filter::shown_prefix(text).unwrap_or(text);
            filter.scrub_text(shown, TextKind::LookupOnly, cx);
        }
        Kind::Value(plain) => remember_hidden_keys(filter, plain, is_hidden, cx, substitute, depth),
        Kind::Captured(captured) => {
            remember_hidden_keys(filter, captured, is_hidden, cx, substitute, depth)
        }
        // A number is recognised by its shape (a card number) wherever else it appears.
        Kind::Leaf(_) => {}
    }
}
