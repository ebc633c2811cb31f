//! The report: what a filter let through, ready for any rendering.

use std::sync::Arc;

use serde::Serialize;

use crate::filter::{RedactionSummary, Rule};

/// A name and a formatted value (a setting, header, cookie, parameter or variable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// The name.
    pub name: String,
    /// The value, formatted and filtered.
    pub value: String,
    /// The size of the captured value when only its start was formatted.
    #[serde(skip)]
    pub(crate) full_len: Option<usize>,
    /// The rule that hid the value, or the first that hid a part of it.
    #[serde(skip)]
    pub(crate) hidden_by: Option<Rule>,
}

impl Entry {
    pub(crate) fn new(name: String, value: String) -> Self {
        Self {
            name,
            value,
            full_len: None,
            hidden_by: None,
        }
    }

    /// The rule that hid this value whole, or the first that hid a part of it (a token in
    /// a text); `None` when nothing in it was hidden, or when the filter did not say which
    /// rule did (a section method of a filter's own, or a value hidden afterwards because
    /// it was hidden elsewhere).
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter, Frame, Rule};
    ///
    /// let frame = Frame::new("shop::pay", "src/pay.rs", 3)
    ///     .var("password", "hunter2")
    ///     .var("card", "4111 1111 1111 1111")
    ///     .var("order_id", "ord_42");
    /// let report = ExceptionReporter::default().report(&Capture::error("E", "x").with_frame(frame));
    /// let rule = |name: &str| {
    ///     let vars = &report.frames[0].vars;
    ///     vars.iter().find(|v| v.name == name).unwrap().hidden_by()
    /// };
    /// assert_eq!(rule("password"), Some(Rule::NamePattern));
    /// assert_eq!(rule("card"), Some(Rule::CardNumber));
    /// assert_eq!(rule("order_id"), None);
    /// ```
    pub fn hidden_by(&self) -> Option<Rule> {
        self.hidden_by
    }
}

/// A redacted error report: every string in it has passed the filter.
///
/// A `Report` can only be obtained from [`ExceptionReporter`](crate::ExceptionReporter),
/// which builds it through a [`ReporterFilter`](crate::ReporterFilter). Text, HTML, email
/// and JSON are views of it (see the `render_*` methods); a custom view is an askama
/// template over `&Report`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The capture's debug flag: the browser page and text report then say so.
    pub debug: bool,
    /// The error's type name, if any.
    pub exception_type: Option<String>,
    /// The error's message, if any.
    pub exception_value: Option<String>,
    /// Where the error was raised: the innermost frame.
    pub location: Option<Location>,
    /// The route or handler that raised (Django's "Raised during").
    pub raised_during: Option<String>,
    /// The request, if there was one.
    pub request: Option<RequestSection>,
    /// The causes of the error, oldest first, each with its frames.
    pub causes: Vec<CauseSection>,
    /// The error's own frames, outermost first.
    pub frames: Vec<ReportFrame>,
    /// Frames left out because the trace was longer than the report keeps (the outermost go).
    pub frames_omitted: usize,
    /// Settings sorted by name. Shared: reports of unchanged settings share one filtered
    /// section (see [`ExceptionReporter::cache_settings`](crate::ExceptionReporter::cache_settings)).
    pub settings: Arc<[Entry]>,
    /// The environment.
    pub environment: EnvironmentSection,
    /// The events logged before the error, oldest first.
    pub breadcrumbs: Vec<BreadcrumbEntry>,
    /// The tags of the work the error happened in (see
    /// [`runtime::context`](crate::runtime::context)), filtered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Entry>,
    /// The context values of the work the error happened in, filtered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<Entry>,
    /// The grouping [`Controls`](super::Controls) set, if any.
    #[serde(skip)]
    pub(crate) fingerprint: Option<super::Fingerprint>,
    /// What was hidden, counted per rule.
    pub redactions: RedactionSummary,
    /// The part of `redactions` in what the text report leaves out (frame variables and the
    /// source lines around each frame's line).
    pub detail_redactions: RedactionSummary,
    /// The substitute hidden values were replaced with.
    pub substitute: String,
}

/// File, line and function of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Location {
    /// The source file.
    pub file: String,
    /// The 1-based line, if known.
    pub line: Option<u32>,
    /// The function.
    pub function: String,
}

impl std::fmt::Display for Location {
    /// `file, line N, in function` (Django's "Exception Location").
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {}, in {}", self.file, line, self.function),
            None => write!(f, "{}, in {}", self.file, self.function),
        }
    }
}

/// One cause of the error, with the sentence that links it to the next (newer) exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CauseSection {
    /// The cause's type name, if known.
    pub exception_type: Option<String>,
    /// The cause's message, if any.
    pub exception_value: Option<String>,
    /// `true`: the next exception was raised from this one; `false`: while handling it.
    pub explicit: bool,
    /// The cause's own frames, when it carried a trace.
    pub frames: Vec<ReportFrame>,
}

impl CauseSection {
    /// Django's sentence linking this cause to the exception after it:
    /// `The above exception (…) was the direct cause of the following exception:` or
    /// `During handling of the above exception (…), another exception occurred:`.
    pub fn sentence(&self) -> String {
        let what = self
            .exception_value
            .as_deref()
            .or(self.exception_type.as_deref())
            .unwrap_or("");
        if self.explicit {
            format!("The above exception ({what}) was the direct cause of the following exception:")
        } else {
            format!("During handling of the above exception ({what}), another exception occurred:")
        }
    }
}

/// A frame with its source context and variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportFrame {
    /// A number unique within the report (used for element ids in HTML).
    pub id: usize,
    /// The function.
    pub function: String,
    /// The source file as captured.
    pub file: String,
    /// The 1-based line, if known.
    pub line: Option<u32>,
    /// The 1-based column on the line, when known (the frame where a panic happened has
    /// its location's), counted in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// What goes before the caret that marks `column` under `context_line`: a space for
    /// each character before the column (a tab for a tab). Set only when the line is shown
    /// exactly as in the source up to that column, so that the caret points at it.
    #[serde(skip)]
    pub(crate) caret: Option<String>,
    /// The link to the line in an editor and the link's text, when the reporter has
    /// [`EditorLinks`](crate::render::EditorLinks).
    #[serde(skip)]
    pub(crate) editor: Option<(String, &'static str)>,
    /// Application code (`true`) or library code.
    pub in_app: bool,
    /// The 1-based number of the first line of `pre_context`.
    pub pre_context_lineno: usize,
    /// Up to 7 lines before the frame's line.
    pub pre_context: Vec<String>,
    /// The frame's line, or `<source code not available>`.
    pub context_line: String,
    /// Up to 6 lines after the frame's line.
    pub post_context: Vec<String>,
    /// Variables, sorted by name, formatted and filtered.
    pub vars: Vec<Entry>,
}

impl ReportFrame {
    /// `user` for application frames, `library` otherwise (the HTML class).
    pub fn kind(&self) -> &'static str {
        if self.in_app { "user" } else { "library" }
    }

    /// The 1-based number of the first line of `post_context`.
    pub fn post_context_lineno(&self) -> usize {
        self.pre_context_lineno + self.pre_context.len() + 1
    }

    /// The frame's line number, or 0 when unknown.
    pub fn line_number(&self) -> u32 {
        self.line.unwrap_or(0)
    }

    /// The blank text to write under `context_line` before a caret (`^`) that marks
    /// `column`, when the column is known and the line is shown as in the source up to it
    /// (a hidden value before the column would move the caret off its character).
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter, Frame};
    /// # let dir = tempfile::tempdir().unwrap();
    /// # std::fs::write(dir.path().join("lib.rs"), "fn f() {\n\tlet x = y.unwrap();\n}\n").unwrap();
    /// let frame = Frame::new("app::f", "lib.rs", 2).column(10); // `y`
    /// let capture = Capture::error("E", "boom").with_frame(frame);
    /// let report = ExceptionReporter::default()
    /// #   .source_root(dir.path())
    ///     .report(&capture);
    /// let frame = &report.frames[0];
    /// assert_eq!(frame.context_line, "\tlet x = y.unwrap();");
    /// assert_eq!(frame.caret_padding(), Some("\t        "));
    /// ```
    pub fn caret_padding(&self) -> Option<&str> {
        self.caret.as_deref()
    }

    /// The link to this frame's line in the editor the reporter was given (see
    /// [`ExceptionReporter::editor`](crate::ExceptionReporter::editor)), if any.
    pub fn editor_url(&self) -> Option<&str> {
        self.editor.as_ref().map(|(url, _)| url.as_str())
    }

    /// The frame's line number as text, or `?`.
    pub fn line_text(&self) -> String {
        self.line
            .map_or_else(|| "?".to_owned(), |line| line.to_string())
    }
}

/// Where a string of the report sits, for report-wide passes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    /// In what the text report leaves out (variables, surrounding source lines).
    pub(crate) detail: bool,
    /// The size of the captured value, when only its start was formatted.
    pub(crate) full_len: Option<usize>,
}

impl Part {
    const MAIN: Part = Part {
        detail: false,
        full_len: None,
    };
    const DETAIL: Part = Part {
        detail: true,
        full_len: None,
    };

    fn of(detail: bool) -> Part {
        Part {
            detail,
            full_len: None,
        }
    }
}

/// Shown as the user when the request has none (Django's wording).
pub const UNKNOWN_USER: &str = "[unable to retrieve the current user]";

/// The request as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RequestSection {
    /// The method.
    pub method: String,
    /// The full URL as received (Django's "insecure URI": the raw host), filtered.
    pub url: String,
    /// The path, for titles (`ValueError at /path`).
    pub path: String,
    /// The user, or `[unable to retrieve the current user]`.
    pub user: String,
    /// Query parameters in order, duplicates kept.
    pub get: Vec<Entry>,
    /// Form fields (urlencoded or multipart text fields).
    pub post: Vec<Entry>,
    /// Uploaded files: field, name, type and size. Never content.
    pub files: Vec<FileEntry>,
    /// Cookies.
    pub cookies: Vec<Entry>,
    /// Headers in order, then `REMOTE_ADDR`.
    pub meta: Vec<Entry>,
    /// A JSON body, formatted and filtered.
    pub json_body: Option<String>,
    /// Why the body is not shown, when it is not.
    pub body_note: Option<String>,
}

/// An uploaded file as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileEntry {
    /// The form field.
    pub field: String,
    /// `<name (type, N bytes)>`.
    pub description: String,
}

/// A breadcrumb as the report shows it: an event logged before the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BreadcrumbEntry {
    /// When it was logged.
    pub timestamp: jiff::Timestamp,
    /// Its severity.
    pub level: crate::model::BreadcrumbLevel,
    /// Where from: the record's target, filtered.
    pub category: String,
    /// The message, filtered.
    pub message: String,
    /// The fields, in the order logged; a field whose name the filter hides shows the
    /// substitute.
    pub fields: Vec<Entry>,
}

impl BreadcrumbEntry {
    /// The time of day it was logged, in UTC, to the millisecond (`18:21:39.123`).
    pub fn time(&self) -> String {
        self.timestamp.strftime("%H:%M:%S%.3f").to_string()
    }

    /// The level as shown: `INFO`, `WARN`, ….
    pub fn level_name(&self) -> &'static str {
        self.level.as_str()
    }

    /// The message and then the fields as `name=value`, on one line (text renderings).
    pub fn line(&self) -> String {
        let mut line = self.message.clone();
        for field in &self.fields {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&field.name);
            line.push('=');
            line.push_str(&field.value);
        }
        line
    }
}

/// The environment lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EnvironmentSection {
    /// Label and value pairs, in display order (`safe-report Version`, `Rust Version`, …).
    pub lines: Vec<Entry>,
}

impl Report {
    /// Every frame of the report: the causes' and then its own.
    pub(crate) fn all_frames_mut(&mut self) -> impl Iterator<Item = &mut ReportFrame> {
        self.causes
            .iter_mut()
            .flat_map(|cause| cause.frames.iter_mut())
            .chain(self.frames.iter_mut())
    }

    /// The title: `Type at /path`, `Type`, `Report at /path` or `Report`.
    pub fn title(&self) -> String {
        let kind = self.exception_type.as_deref().unwrap_or("Report");
        match &self.request {
            Some(request) => format!("{kind} at {}", request.path),
            None => kind.to_owned(),
        }
    }

    /// An environment line's value, by its label (`Hostname`, `Release`).
    pub fn environment_line(&self, label: &str) -> Option<&str> {
        self.environment
            .lines
            .iter()
            .find(|line| line.name == label)
            .map(|line| line.value.as_str())
    }

    /// The deployment's environment (`staging`), as the filter let it through, when set
    /// (see [`Identity`](crate::Identity)).
    ///
    /// ```
    /// use safe_report::{Capture, Environment, ExceptionReporter, Identity};
    ///
    /// let capture = Capture::error("E", "boom").with_environment(
    ///     Environment::default().identity(Identity::new().environment("staging").release("shop@1.4.2")),
    /// );
    /// let report = ExceptionReporter::default().report(&capture);
    /// assert_eq!(report.deployment_environment(), Some("staging"));
    /// assert_eq!(report.release(), Some("shop@1.4.2"));
    /// assert!(report.text().to_string().contains("Environment: staging"));
    /// ```
    pub fn deployment_environment(&self) -> Option<&str> {
        self.environment_line(super::ENVIRONMENT_LABEL)
    }

    /// The release, when set.
    pub fn release(&self) -> Option<&str> {
        self.environment_line(super::RELEASE_LABEL)
    }

    /// The server name: the one set in the [`Identity`](crate::Identity), else the host name.
    pub fn server_name(&self) -> Option<&str> {
        self.environment_line(super::SERVER_NAME_LABEL)
            .or_else(|| self.environment_line("Hostname"))
    }

    /// The message, or `No exception message supplied`.
    pub fn message(&self) -> &str {
        self.exception_value
            .as_deref()
            .unwrap_or("No exception message supplied")
    }

    /// The redactions in what the text report shows.
    pub fn text_redactions(&self) -> RedactionSummary {
        self.redactions.since(&self.detail_redactions)
    }

    /// Whether there is a traceback section (frames or causes).
    pub fn has_traceback(&self) -> bool {
        !self.frames.is_empty() || !self.causes.is_empty()
    }

    /// Every frame: those of the causes, oldest first, then the error's own.
    pub fn all_frames(&self) -> impl Iterator<Item = &ReportFrame> {
        self.causes
            .iter()
            .flat_map(|cause| cause.frames.iter())
            .chain(self.frames.iter())
    }

    /// Calls `visit` on every string of the report (used to apply report-wide rules); with
    /// `names` false, names (of settings, headers, cookies, parameters, variables, files and
    /// environment lines) are skipped.
    /// Cuts every value longer than [`MAX_VALUE_CHARS`](super::MAX_VALUE_CHARS) characters
    /// with Django's notice; a variable whose long text was only partly formatted counts its
    /// full size.
    pub(crate) fn trim_values(&mut self) {
        self.visit_strings_mut(
            true,
            &mut |text, part| {
                let full = part.full_len.unwrap_or(text.len());
                super::format::trim_counting(text, full);
            },
            &mut |text, _| super::format::may_cut(text),
        );
    }

    /// Calls `visit` on every string of the report (with the names of entries when `names`).
    /// The settings section is shared, so it is copied and visited only when `changes` says
    /// that `visit` would change one of its strings.
    pub(crate) fn visit_strings_mut(
        &mut self,
        names: bool,
        visit: &mut dyn FnMut(&mut String, Part),
        changes: &mut dyn FnMut(&str, Part) -> bool,
    ) {
        let entries =
            |list: &mut [Entry], detail: bool, visit: &mut dyn FnMut(&mut String, Part)| {
                for entry in list {
                    if names {
                        visit(&mut entry.name, Part::of(detail));
                    }
                    let part = Part {
                        detail,
                        full_len: entry.full_len,
                    };
                    visit(&mut entry.value, part);
                }
            };
        let frames = |list: &mut [ReportFrame], visit: &mut dyn FnMut(&mut String, Part)| {
            for frame in list {
                visit(&mut frame.function, Part::MAIN);
                visit(&mut frame.file, Part::MAIN);
                for line in &mut frame.pre_context {
                    visit(line, Part::DETAIL);
                }
                visit(&mut frame.context_line, Part::MAIN);
                for line in &mut frame.post_context {
                    visit(line, Part::DETAIL);
                }
                entries(&mut frame.vars, true, visit);
            }
        };
        let optional = |value: &mut Option<String>, visit: &mut dyn FnMut(&mut String, Part)| {
            if let Some(text) = value {
                visit(text, Part::MAIN);
            }
        };
        optional(&mut self.exception_type, visit);
        optional(&mut self.exception_value, visit);
        optional(&mut self.raised_during, visit);
        if let Some(location) = &mut self.location {
            visit(&mut location.file, Part::MAIN);
            visit(&mut location.function, Part::MAIN);
        }
        if let Some(request) = &mut self.request {
            visit(&mut request.method, Part::MAIN);
            visit(&mut request.url, Part::MAIN);
            visit(&mut request.path, Part::MAIN);
            visit(&mut request.user, Part::MAIN);
            entries(&mut request.get, false, visit);
            entries(&mut request.post, false, visit);
            for file in &mut request.files {
                if names {
                    visit(&mut file.field, Part::MAIN);
                }
                visit(&mut file.description, Part::MAIN);
            }
            entries(&mut request.cookies, false, visit);
            entries(&mut request.meta, false, visit);
            optional(&mut request.json_body, visit);
            optional(&mut request.body_note, visit);
        }
        for cause in &mut self.causes {
            optional(&mut cause.exception_type, visit);
            optional(&mut cause.exception_value, visit);
            frames(&mut cause.frames, visit);
        }
        frames(&mut self.frames, visit);
        let settings_change = self.settings.iter().any(|entry| {
            (names && changes(&entry.name, Part::MAIN))
                || changes(
                    &entry.value,
                    Part {
                        detail: false,
                        full_len: entry.full_len,
                    },
                )
        });
        if settings_change {
            let mut settings = self.settings.to_vec();
            entries(&mut settings, false, visit);
            self.settings = settings.into();
        }
        entries(&mut self.environment.lines, false, visit);
        for crumb in &mut self.breadcrumbs {
            visit(&mut crumb.category, Part::MAIN);
            visit(&mut crumb.message, Part::MAIN);
            entries(&mut crumb.fields, false, visit);
        }
        entries(&mut self.tags, false, visit);
        entries(&mut self.context, false, visit);
    }
}
