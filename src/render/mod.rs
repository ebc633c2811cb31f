//! Writing the views of a [`Report`] (text, browser HTML, email HTML and JSON), plus content
//! negotiation.
//!
//! The templates live in `templates/` and are compiled in by askama. The HTML templates
//! escape every value (askama's HTML escaping on `.html` files); the text template does
//! not escape. Every rendering ends with the redaction summary.

mod escape;
mod negotiate;

pub use negotiate::negotiate;

use std::fmt;

use askama::Template;

use crate::report::{Html, Json, Report, ReportFrame, Text};

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

impl HtmlView<'_> {
    /// The blank text before the caret under `frame`'s line: on the browser page only.
    fn caret<'f>(&self, frame: &'f ReportFrame) -> Option<&'f str> {
        if self.is_email {
            None
        } else {
            frame.caret_padding()
        }
    }
}

/// Writes `template`; rendering only fails if a value's `Display` fails, which none of ours
/// do: fail closed with a fixed notice rather than an error.
fn write(template: &impl Template, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match template.render() {
        Ok(text) => f.write_str(&text),
        Err(error) => write!(f, "[the report could not be rendered: {error}]"),
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(
            &TextView {
                report: self.report,
                is_email: self.email,
                with_variables: self.variables,
            },
            f,
        )
    }
}

impl fmt::Display for Html<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(
            &HtmlView {
                report: self.report,
                is_email: self.email,
            },
            f,
        )
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string_pretty(self.report) {
            Ok(json) => f.write_str(&json),
            Err(error) => write!(
                f,
                "{{\"error\": \"the report could not be serialized: {error}\"}}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use scraper::{Html as Document, Selector};

    use crate::{Capture, ExceptionReporter, Frame};

    const SOURCE: &str = "fn checkout() {\n\
        \tlet total = price(order)?;\n\
        \x20   let url = \"postgres://shop:db-pass-123456@db.internal/shop\"; panic!(\"down\");\n\
        \x20   panic!(\"refused\"); // postgres://shop:db-pass-123456@db.internal/shop\n\
        }\n";

    fn reporter(dir: &Path) -> ExceptionReporter {
        std::fs::write(dir.join("shop.rs"), SOURCE).unwrap();
        ExceptionReporter::default().source_root(dir)
    }

    fn select<'d>(page: &'d Document, selector: &str) -> Vec<scraper::ElementRef<'d>> {
        page.select(&Selector::parse(selector).unwrap()).collect()
    }

    fn text(element: &scraper::ElementRef<'_>) -> String {
        element.text().collect()
    }

    #[test]
    fn the_caret_marks_the_column_on_the_browser_page_only() {
        let dir = tempfile::tempdir().unwrap();
        let frame = Frame::new("shop::checkout", "shop.rs", 2).column(14);
        let report = reporter(dir.path()).report(&Capture::error("E", "boom").with_frame(frame));
        let page = Document::parse_document(&report.html().to_string());
        let carets = select(&page, "ol.context-line li span.marked pre.caret");
        assert_eq!(carets.len(), 1);
        // A tab stays a tab, every other character before the column is a space.
        assert_eq!(text(&carets[0]), "\t            ^");
        assert_eq!(carets[0].attr("title"), Some("column 14"));
        let line = select(&page, "ol.context-line li span.marked > pre:first-child");
        assert_eq!(text(&line[0]), "\tlet total = price(order)?;");
        assert_eq!(text(&line[0]).chars().nth(13), Some('p'));

        let email = report.html().for_email().to_string();
        assert!(!email.contains("class=\"caret\""), "{email}");
        assert!(!report.text().to_string().contains('^'));
    }

    #[test]
    fn no_caret_when_a_hidden_value_before_the_column_moved_the_text() {
        let dir = tempfile::tempdir().unwrap();
        let reporter = reporter(dir.path());
        let column_of = |line: &str, what: &str| line.find(what).unwrap() as u32 + 1;
        let lines: Vec<&str> = SOURCE.lines().collect();
        let before = Frame::new("shop::a", "shop.rs", 3).column(column_of(lines[2], "panic!"));
        let after = Frame::new("shop::b", "shop.rs", 4).column(column_of(lines[3], "panic!"));
        let capture = Capture::error("E", "boom")
            .with_frame(before)
            .with_frame(after);
        let report = reporter.report(&capture);
        assert!(!report.frames[0].context_line.contains("db-pass-123456"));
        assert_eq!(report.frames[0].caret_padding(), None);
        assert_eq!(report.frames[1].caret_padding(), Some("    "));
        let page = Document::parse_document(&report.html().to_string());
        assert_eq!(select(&page, "pre.caret").len(), 1);
    }

    #[test]
    fn no_caret_without_a_column_or_a_character_at_it() {
        let dir = tempfile::tempdir().unwrap();
        let reporter = reporter(dir.path());
        let capture = Capture::error("E", "boom")
            .with_frame(Frame::new("shop::a", "shop.rs", 2))
            .with_frame(Frame::new("shop::b", "shop.rs", 5).column(3))
            .with_frame(Frame::new("shop::c", "shop.rs", 2).column(0))
            .with_frame(Frame::new("shop::d", "missing.rs", 2).column(1));
        let report = reporter.report(&capture);
        for frame in &report.frames {
            assert_eq!(frame.caret_padding(), None, "{}", frame.function);
        }
        assert!(!report.html().to_string().contains("class=\"caret\""));
    }
}
