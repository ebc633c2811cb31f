//! Views of a [`Report`]: text, browser HTML, email HTML and JSON, plus content negotiation.
//!
//! The templates live in `templates/` and are compiled in by askama. The HTML templates
//! escape every value (askama's HTML escaping on `.html` files); the text template does
//! not escape. Every rendering ends with the redaction summary.

mod escape;
mod negotiate;

pub use negotiate::{Format, negotiate};

use askama::Template;

use crate::report::Report;

#[derive(Template)]
#[template(path = "report.txt")]
struct TextView<'a> {
    report: &'a Report,
    is_email: bool,
    with_variables: bool,
}

#[derive(Template)]
#[template(path = "report.html", config = "templates/askama.toml")]
struct HtmlView<'a> {
    report: &'a Report,
    is_email: bool,
}

fn render(template: &impl Template) -> String {
    // Rendering into a String only fails if a value's Display fails, which none of ours do;
    // fail closed with a fixed notice rather than panic.
    template
        .render()
        .unwrap_or_else(|error| format!("[the report could not be rendered: {error}]"))
}

impl Report {
    /// The text report (Django's `technical_500.txt`): no variables, one source line per frame.
    pub fn render_text(&self) -> String {
        render(&TextView {
            report: self,
            is_email: false,
            with_variables: false,
        })
    }

    /// The text report with each frame's variables under its source line, for logs and
    /// standard error where there is no HTML to show them (Django's text report leaves
    /// them out). The redaction summary then counts the whole report.
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter, Frame, SensitiveNames};
    ///
    /// let capture = Capture::error("PaymentError", "payment declined").with_frame(
    ///     Frame::new("shop::charge", "src/charge.rs", 42)
    ///         .var("order_id", "ord_42")
    ///         .var("card_number", "4111111111111111")
    ///         .sensitive_variables(SensitiveNames::names(["card_number"])),
    /// );
    /// let text = ExceptionReporter::default().report(&capture).render_text_with_variables();
    /// assert!(text.contains("order_id = \"ord_42\""));
    /// assert!(text.contains("card_number = \"********************\""));
    /// assert!(!text.contains("4111111111111111"));
    /// ```
    pub fn render_text_with_variables(&self) -> String {
        render(&TextView {
            report: self,
            is_email: false,
            with_variables: true,
        })
    }

    /// The text report for email: as [`render_text`](Self::render_text), without the
    /// debug-mode footer.
    pub fn render_email_text(&self) -> String {
        render(&TextView {
            report: self,
            is_email: true,
            with_variables: false,
        })
    }

    /// The browser page (Django's `technical_500.html`): context lines expand on click,
    /// variables in collapsed `<details>`, a copy-and-paste view. Self-contained: inline CSS
    /// and JavaScript, no external assets.
    pub fn render_html(&self) -> String {
        render(&HtmlView {
            report: self,
            is_email: false,
        })
    }

    /// The HTML for email: no script, no form, only each frame's own line, variables shown.
    pub fn render_email_html(&self) -> String {
        render(&HtmlView {
            report: self,
            is_email: true,
        })
    }

    /// The report as pretty-printed JSON.
    pub fn render_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|error| {
            format!("{{\"error\": \"the report could not be serialized: {error}\"}}")
        })
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Html => self.render_html(),
            Format::Text => self.render_text(),
            Format::Json => self.render_json(),
        }
    }
}
