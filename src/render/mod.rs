//! Views of a [`Report`]: text, browser HTML, email HTML and JSON, plus content negotiation.
//!
//! The templates live in `templates/` and are compiled in by askama. The HTML templates
//! escape every value (askama's HTML escaping on `.html` files); the text template does
//! not escape. Every rendering ends with the redaction summary.

mod negotiate;

pub use negotiate::{Format, negotiate};

use askama::Template;

use crate::report::Report;

#[derive(Template)]
#[template(path = "report.txt")]
struct TextView<'a> {
    report: &'a Report,
    is_email: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
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
        })
    }

    /// The text report for email: as [`render_text`](Self::render_text), without the
    /// debug-mode footer.
    pub fn render_email_text(&self) -> String {
        render(&TextView {
            report: self,
            is_email: true,
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
