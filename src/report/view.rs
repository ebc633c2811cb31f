//! The renderings of a report, as values: `report.text()`, `report.html()`,
//! `report.json()`, each `Display`, with named switches for their variants.
//!
//! ```
//! use safe_report::{Capture, ExceptionReporter, Frame};
//!
//! let capture = Capture::error("PaymentError", "payment declined")
//!     .with_frame(Frame::new("shop::charge", "src/charge.rs", 42).var("order_id", "ord_42"));
//! let report = ExceptionReporter::default().report(&capture);
//! let text = report.text().with_variables().to_string();
//! assert!(text.contains("order_id = \"ord_42\""));
//! let email = report.html().for_email().to_string();
//! assert!(!email.contains("<script"));
//! ```
//!
//! The views are written by the [`render`](crate::render) module, which implements their
//! `Display`; this module only says what is asked for.

use super::Report;

/// A format a report can be asked for (and a client answered in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The browser page (`text/html`).
    Html,
    /// The text report (`text/plain`).
    Text,
    /// The JSON report (`application/json`).
    Json,
    /// GitHub-flavoured Markdown (`text/markdown`): the error, the request line, the
    /// environment, release and server, the cause chain, the application frames with their
    /// line and variables, the breadcrumbs, the tags and the context, as the browser page's "Copy as Markdown" button copies them. Never
    /// chosen by content negotiation; ask for it.
    Markdown,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
            Format::Json => "application/json",
            Format::Markdown => "text/markdown; charset=utf-8",
        }
    }
}

/// The text report (Django's `technical_500.txt`): the error, the request, one source line
/// per frame, settings and environment; without frame variables unless asked for.
#[derive(Debug, Clone, Copy)]
#[must_use = "a view renders nothing until it is displayed"]
pub struct Text<'a> {
    pub(crate) report: &'a Report,
    pub(crate) email: bool,
    pub(crate) variables: bool,
}

impl Text<'_> {
    /// Each frame's variables under its source line, for logs and standard error where
    /// there is no HTML to show them (Django's text report leaves them out). The
    /// redaction summary then counts the whole report.
    pub fn with_variables(mut self) -> Self {
        self.variables = true;
        self
    }

    /// The text for an email: without the debug-mode footer.
    pub fn for_email(mut self) -> Self {
        self.email = true;
        self
    }
}

/// The HTML page (Django's `technical_500.html`): context lines expand on click, variables
/// in collapsed `<details>`, a copy-and-paste view; inline CSS and JavaScript only.
#[derive(Debug, Clone, Copy)]
#[must_use = "a view renders nothing until it is displayed"]
pub struct Html<'a> {
    pub(crate) report: &'a Report,
    pub(crate) email: bool,
}

impl Html<'_> {
    /// The HTML for an email: no script, no form, only each frame's own line, variables
    /// shown.
    pub fn for_email(mut self) -> Self {
        self.email = true;
        self
    }
}

/// The report as pretty-printed JSON.
#[derive(Debug, Clone, Copy)]
#[must_use = "a view renders nothing until it is displayed"]
pub struct Json<'a> {
    pub(crate) report: &'a Report,
}

/// The report as GitHub-flavoured Markdown, from the filtered report: what the browser
/// page's "Copy as Markdown" button puts on the clipboard. Report texts sit in code spans
/// and fenced blocks, so none is read as Markdown or HTML.
///
/// ```
/// use safe_report::{Capture, ExceptionReporter, Frame};
///
/// let capture = Capture::error("PaymentError", "payment declined")
///     .with_frame(Frame::new("shop::charge", "src/charge.rs", 42).var("api_key", "sk_live_abcdef123456"));
/// let markdown = ExceptionReporter::default().report(&capture).markdown().to_string();
/// assert!(markdown.starts_with("## `PaymentError`"));
/// assert!(markdown.contains("#### `src/charge.rs:42` in `shop::charge`"));
/// assert!(!markdown.contains("sk_live_abcdef123456"));
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "a view renders nothing until it is displayed"]
pub struct Markdown<'a> {
    pub(crate) report: &'a Report,
}

impl Report {
    /// The report as Markdown; see [`Markdown`].
    pub fn markdown(&self) -> Markdown<'_> {
        Markdown { report: self }
    }

    /// The text report; see [`Text`] for its switches.
    pub fn text(&self) -> Text<'_> {
        Text {
            report: self,
            email: false,
            variables: false,
        }
    }

    /// The HTML page; see [`Html`] for the email variant.
    pub fn html(&self) -> Html<'_> {
        Html {
            report: self,
            email: false,
        }
    }

    /// The report as JSON.
    pub fn json(&self) -> Json<'_> {
        Json { report: self }
    }

    /// The report rendered in `format` (a client's negotiated choice, say).
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter, Format};
    ///
    /// let report = ExceptionReporter::default().report(&Capture::error("E", "boom"));
    /// assert!(report.render(Format::Text).starts_with("E\nboom\n"));
    /// assert!(report.render(Format::Json).starts_with('{'));
    /// ```
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Html => self.html().to_string(),
            Format::Text => self.text().to_string(),
            Format::Json => self.json().to_string(),
            Format::Markdown => self.markdown().to_string(),
        }
    }
}
