//! Views of a [`Report`]: text, browser HTML, email HTML and JSON, plus content negotiation.
//!
//! The templates live in `templates/` and are compiled in by askama. The HTML templates
//! escape every value (askama's HTML escaping on `.html` files); the text template does
//! not escape. Every rendering ends with the redaction summary.

mod escape;
mod negotiate;

pub use negotiate::{Format, negotiate};

use askama::Template;

use crate::report::{Entry, Report};

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

fn render(template: &impl Template, size_hint: usize) -> String {
    // Allocated once at about its final size: a page of a few hundred kilobytes otherwise
    // grows by copying itself several times.
    let mut out = String::with_capacity(size_hint);
    // Rendering into a String only fails if a value's Display fails, which none of ours do;
    // fail closed with a fixed notice rather than panic.
    match template.render_into(&mut out) {
        Ok(()) => out,
        Err(error) => format!("[the report could not be rendered: {error}]"),
    }
}

/// Bytes of markup, styles and script a page has beyond its values.
const PAGE_CHROME: usize = 48 * 1024;

/// Bytes of headings and labels a text report has beyond its values.
const TEXT_CHROME: usize = 4 * 1024;

impl Report {
    /// About how long a rendering is, with room for escaping: for a page (`page`), the
    /// frames' lines and variables, the settings and the markup around them; for text, each
    /// frame's own line and (`with_variables`) its variables, and the settings.
    fn size_hint(&self, page: bool, with_variables: bool) -> usize {
        let entries = |list: &[Entry]| -> usize {
            list.iter()
                .map(|entry| entry.name.len() + entry.value.len() + 32)
                .sum()
        };
        let frames: usize = self
            .all_frames()
            .map(|frame| {
                let mut len = frame.context_line.len() + frame.function.len() + frame.file.len();
                if page {
                    len += frame
                        .pre_context
                        .iter()
                        .chain(&frame.post_context)
                        .map(String::len)
                        .sum::<usize>()
                        + 256;
                }
                if with_variables {
                    len += entries(&frame.vars);
                }
                len
            })
            .sum();
        let values = frames + entries(&self.settings);
        if page {
            values / 4 * 5 + PAGE_CHROME
        } else {
            values + TEXT_CHROME
        }
    }
}

impl Report {
    /// The text report (Django's `technical_500.txt`): no variables, one source line per frame.
    pub fn render_text(&self) -> String {
        render(
            &TextView {
                report: self,
                is_email: false,
                with_variables: false,
            },
            self.size_hint(false, false),
        )
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
        render(
            &TextView {
                report: self,
                is_email: false,
                with_variables: true,
            },
            self.size_hint(false, true),
        )
    }

    /// The text report for email: as [`render_text`](Self::render_text), without the
    /// debug-mode footer.
    pub fn render_email_text(&self) -> String {
        render(
            &TextView {
                report: self,
                is_email: true,
                with_variables: false,
            },
            self.size_hint(false, false),
        )
    }

    /// The browser page (Django's `technical_500.html`): context lines expand on click,
    /// variables in collapsed `<details>`, a copy-and-paste view. Self-contained: inline CSS
    /// and JavaScript, no external assets.
    pub fn render_html(&self) -> String {
        render(
            &HtmlView {
                report: self,
                is_email: false,
            },
            self.size_hint(true, true),
        )
    }

    /// The HTML for email: no script, no form, only each frame's own line, variables shown.
    pub fn render_email_html(&self) -> String {
        render(
            &HtmlView {
                report: self,
                is_email: true,
            },
            self.size_hint(true, true),
        )
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

#[cfg(test)]
mod tests {
    use crate::{Capture, ExceptionReporter};

    #[test]
    fn the_size_hint_is_near_the_rendered_size() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bench");
        let json = std::fs::read_to_string(format!("{dir}/scenario-20.json")).unwrap();
        let capture = Capture::from_json(&json).unwrap();
        let report = ExceptionReporter::default()
            .source_root(format!("{dir}/source"))
            .report(&capture);
        for (hint, rendered) in [
            (report.size_hint(true, true), report.render_html().len()),
            (
                report.size_hint(true, true),
                report.render_email_html().len(),
            ),
            (report.size_hint(false, false), report.render_text().len()),
            (
                report.size_hint(false, true),
                report.render_text_with_variables().len(),
            ),
        ] {
            assert!(
                hint >= rendered && hint <= rendered * 4,
                "hint {hint} for {rendered} bytes"
            );
        }
    }
}
