//! Writing the views of a [`Report`] (text, browser HTML, email HTML, JSON and Markdown), plus content
//! negotiation.
//!
//! The templates live in `templates/` and are compiled in by askama. The HTML templates
//! escape every value (askama's HTML escaping on `.html` files); the text template does
//! not escape. Every rendering ends with the redaction summary.

pub mod editor;
mod escape;
mod markdown;
mod negotiate;
pub mod template;

pub use editor::{EditorError, EditorLinks};
pub use negotiate::negotiate;
pub use template::{ReportTemplate, TemplateError};

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

/// Frames of a trace shown one after the other: application frames, or a run of library
/// frames that the browser page folds away behind a "Show N library frames" toggle.
struct FrameRun<'f> {
    frames: &'f [ReportFrame],
    /// Folded: library frames, on the browser page, in a trace that has application frames.
    folded: bool,
}

impl HtmlView<'_> {
    /// `frames` in runs, in their order. The browser page folds each run of library frames
    /// when the trace has an application frame; the email shows every frame.
    fn runs<'f>(&self, frames: &'f [ReportFrame]) -> Vec<FrameRun<'f>> {
        let fold = !self.is_email && frames.iter().any(|frame| frame.in_app);
        if !fold {
            return vec![FrameRun {
                frames,
                folded: false,
            }];
        }
        frames
            .chunk_by(|a, b| a.in_app == b.in_app)
            .map(|run| FrameRun {
                frames: run,
                folded: !run[0].in_app,
            })
            .collect()
    }

    /// The link to `frame`'s line in an editor, and its text: on the browser page only.
    fn editor<'f>(&self, frame: &'f ReportFrame) -> Option<(&'f str, &'static str)> {
        if self.is_email {
            None
        } else {
            frame
                .editor
                .as_ref()
                .map(|(url, label)| (url.as_str(), *label))
        }
    }

    /// The Markdown the "Copy as Markdown" button copies: on the browser page only.
    fn markdown(&self) -> Option<String> {
        (!self.is_email).then(|| self.report.markdown().to_string())
    }

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

    use crate::{Capture, EditorLinks, ExceptionReporter, Frame};

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

    #[test]
    fn library_frames_are_folded_behind_a_toggle_on_the_browser_page() {
        let capture = Capture::error("E", "boom")
            .with_frame(Frame::new("std::rt::lang_start", "/rustc/std/rt.rs", 1).in_app(false))
            .with_frame(Frame::new("tokio::run", "/cargo/tokio/rt.rs", 2).in_app(false))
            .with_frame(Frame::new("shop::handler", "src/handler.rs", 3))
            .with_frame(Frame::new("serde::de", "/cargo/serde/de.rs", 4).in_app(false))
            .with_frame(Frame::new("shop::parse", "src/parse.rs", 5));
        let report = ExceptionReporter::default().report(&capture);
        let page = Document::parse_document(&report.html().to_string());
        let toggles = select(&page, "#browserTraceback li.library-frames > details");
        assert_eq!(toggles.len(), 2);
        for (toggle, n, label) in [
            (&toggles[0], 2, "Show 2 library frames"),
            (&toggles[1], 1, "Show 1 library frame"),
        ] {
            assert_eq!(toggle.attr("open"), None);
            let summary = toggle
                .select(&Selector::parse(":scope > summary .when-closed").unwrap())
                .next()
                .unwrap();
            assert_eq!(text(&summary), "Show");
            let whole: String = toggle
                .select(&Selector::parse(":scope > summary").unwrap())
                .next()
                .map(|s| text(&s))
                .unwrap()
                .replace("ShowHide", "Show");
            assert_eq!(whole, label);
            let inside = toggle
                .select(&Selector::parse("li.frame.library").unwrap())
                .count();
            assert_eq!(inside, n);
        }
        // The order of the frames is kept; application frames are not folded.
        let order: Vec<String> = select(&page, "#browserTraceback li.frame")
            .iter()
            .map(|frame| {
                let name = text(frame);
                name.split(", in ")
                    .nth(1)
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
                    .trim()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            order,
            [
                "std::rt::lang_start",
                "tokio::run",
                "shop::handler",
                "serde::de",
                "shop::parse"
            ]
        );
        assert_eq!(
            select(&page, "#browserTraceback details li.frame.user").len(),
            0
        );

        // The email shows every frame, unfolded.
        let email = Document::parse_document(&report.html().for_email().to_string());
        assert_eq!(select(&email, "li.library-frames").len(), 0);
        assert_eq!(select(&email, "li.frame").len(), 5);
    }

    #[test]
    fn a_trace_of_library_frames_only_is_not_folded() {
        let capture = Capture::error("E", "boom")
            .with_frame(Frame::new("std::rt::lang_start", "/rustc/std/rt.rs", 1).in_app(false))
            .with_frame(Frame::new("core::panicking", "/rustc/core/p.rs", 2).in_app(false));
        let report = ExceptionReporter::default().report(&capture);
        let page = Document::parse_document(&report.html().to_string());
        assert_eq!(select(&page, "li.library-frames").len(), 0);
        assert_eq!(select(&page, "#browserTraceback li.frame.library").len(), 2);
    }

    #[test]
    fn editor_links_are_on_the_browser_page_only() {
        let links = EditorLinks::new("idea")
            .unwrap()
            .map_path("/app", "/home/me/shop");
        let capture = Capture::error("E", "boom")
            .with_frame(Frame::new("shop::a", "/app/src/a.rs", 7).column(3))
            .with_frame(Frame::new("shop::b", "relative.rs", 8));
        let mut unknown = Frame::new("shop::c", "x", 9);
        unknown.file = None;
        let capture = capture.with_frame(unknown);
        let reporter = ExceptionReporter::default()
            .source_root("/app/src")
            .editor(links);
        let report = reporter.report(&capture);
        let page = Document::parse_document(&report.html().to_string());
        let hrefs: Vec<&str> = select(&page, "li.frame > a.editor")
            .iter()
            .map(|a| a.attr("href").unwrap())
            .collect();
        assert_eq!(
            hrefs,
            [
                "idea://open?file=/home/me/shop/src/a.rs&line=7",
                "idea://open?file=/home/me/shop/src/relative.rs&line=8",
            ]
        );
        assert_eq!(
            text(&select(&page, "li.frame > a.editor")[0]),
            "Open in IntelliJ IDEA"
        );
        let email = report.html().for_email().to_string();
        assert!(!email.contains("idea:"), "{email}");
        assert!(!report.text().to_string().contains("idea:"));
        assert!(!report.json().to_string().contains("idea:"));
    }

    #[test]
    fn editor_links_use_the_file_name_as_filtered() {
        let links = EditorLinks::new("vscode").unwrap();
        let capture = Capture::error("E", "boom").with_frame(Frame::new(
            "shop::a",
            "/srv/postgres://shop:db-pass-123456@db/src/a.rs",
            7,
        ));
        let report = ExceptionReporter::default().editor(links).report(&capture);
        let href = report.frames[0].editor_url().unwrap();
        assert!(!report.frames[0].file.contains("db-pass-123456"));
        assert!(!href.contains("db-pass-123456"), "{href}");
        assert!(href.starts_with("vscode://file/srv/"), "{href}");
    }
}
