//! The Markdown rendering (GitHub-flavoured): what "Copy as Markdown" on the browser page
//! puts on the clipboard, for an issue or a chat.
//!
//! It holds the error, the request line, the environment, release and server, the cause
//! chain, the application frames with their line and variables, the breadcrumbs, the tags and
//! the context, all from the filtered [`Report`]. Every
//! text from the report sits in a code span or a fenced block whose backtick run is longer
//! than any in the text, so nothing in it is read as Markdown or HTML. Carriage returns
//! become line feeds and other control characters U+FFFD, so the text survives being
//! embedded in the HTML page unchanged.

use std::fmt::{self, Write as _};

use crate::report::{Markdown, Report, ReportFrame};

impl fmt::Display for Markdown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        // Writing to a `String` does not fail.
        let _ = write_report(&mut out, self.report);
        f.write_str(&plain(&out))
    }
}

fn write_report(out: &mut String, report: &Report) -> fmt::Result {
    writeln!(out, "## {}", code(&report.title()))?;
    writeln!(out)?;
    fenced(out, "text", report.message())?;
    if let Some(request) = &report.request {
        writeln!(
            out,
            "- **Request:** {}",
            code(&format!("{} {}", request.method, request.url))
        )?;
    }
    if let Some(route) = &report.raised_during {
        writeln!(out, "- **Raised during:** {}", code(route))?;
    }
    if let Some(location) = &report.location {
        writeln!(out, "- **Location:** {}", code(&location.to_string()))?;
    }
    for (label, value) in [
        ("Environment", report.deployment_environment()),
        ("Release", report.release()),
        ("Server", report.server_name()),
    ] {
        if let Some(value) = value {
            writeln!(out, "- **{label}:** {}", code(value))?;
        }
    }
    if !report.causes.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Cause chain (oldest first)")?;
        writeln!(out)?;
        for cause in &report.causes {
            let kind = cause.exception_type.as_deref().unwrap_or("Error");
            let link = if cause.explicit {
                "the direct cause of the next"
            } else {
                "being handled when the next was raised"
            };
            writeln!(out, "- {} ({link})", code(kind))?;
            if let Some(value) = &cause.exception_value {
                writeln!(out)?;
                fenced_indented(out, "text", value)?;
            }
        }
    }
    let frames: Vec<&ReportFrame> = report.all_frames().filter(|frame| frame.in_app).collect();
    let library = report.all_frames().count() - frames.len();
    if !frames.is_empty() || library > 0 {
        writeln!(out)?;
        writeln!(out, "### Application frames (most recent call last)")?;
        for frame in frames {
            writeln!(out)?;
            writeln!(
                out,
                "#### {} in {}",
                code(&format!("{}:{}", frame.file, frame.line_text())),
                code(&frame.function)
            )?;
            writeln!(out)?;
            fenced(out, "rust", &frame.context_line)?;
            if !frame.vars.is_empty() {
                let vars: Vec<String> = frame
                    .vars
                    .iter()
                    .map(|var| format!("{} = {}", var.name, var.value))
                    .collect();
                fenced(out, "text", &vars.join("\n"))?;
            }
        }
        if library > 0 {
            writeln!(out)?;
            let s = if library == 1 { "" } else { "s" };
            writeln!(out, "_{library} library frame{s} not shown._")?;
        }
    }
    if !report.breadcrumbs.is_empty() {
        writeln!(out)?;
        writeln!(out, "### Breadcrumbs (oldest first)")?;
        writeln!(out)?;
        let lines: Vec<String> = report
            .breadcrumbs
            .iter()
            .map(|crumb| {
                format!(
                    "{} {} {}: {}",
                    crumb.time(),
                    crumb.level_name(),
                    crumb.category,
                    crumb.line()
                )
            })
            .collect();
        fenced(out, "text", &lines.join("\n"))?;
    }
    for (heading, entries) in [("Tags", &report.tags), ("Context", &report.context)] {
        if !entries.is_empty() {
            writeln!(out)?;
            writeln!(out, "### {heading}")?;
            writeln!(out)?;
            for entry in entries {
                writeln!(out, "- {}: {}", code(&entry.name), code(&entry.value))?;
            }
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "_Redactions: {} Hidden values are shown as {}._",
        report.redactions,
        code(&report.substitute)
    )
}

/// `text` as a code span: delimited by a backtick run longer than any inside it, on one line.
fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    // A span that starts or ends with a backtick needs a space to be read as one.
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// `text` as a fenced block, the fence longer than any backtick run inside it.
fn fenced(out: &mut String, lang: &str, text: &str) -> fmt::Result {
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    writeln!(out, "{fence}{lang}")?;
    writeln!(out, "{text}")?;
    writeln!(out, "{fence}")
}

/// A fenced block inside a list item (indented by two spaces).
fn fenced_indented(out: &mut String, lang: &str, text: &str) -> fmt::Result {
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    writeln!(out, "  {fence}{lang}")?;
    for line in text.lines() {
        writeln!(out, "  {line}")?;
    }
    writeln!(out, "  {fence}")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Line feeds for carriage returns, U+FFFD for other control characters (an HTML parser
/// would change or drop them when the text is embedded in the page).
fn plain(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.chars()
        .map(|c| match c {
            '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capture, ExceptionReporter, Frame, RequestInfo};

    #[test]
    fn code_spans_and_fences_outrun_the_backticks_inside() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        let mut out = String::new();
        fenced(&mut out, "text", "```\nx").unwrap();
        assert!(out.starts_with("````text\n"), "{out}");
    }

    #[test]
    fn the_markdown_holds_the_error_the_request_and_application_frames_filtered() {
        let capture = Capture::error("PaymentError", "declined for <b>ord_42</b>")
            .with_request(RequestInfo::new(
                "GET",
                "http://shop.example/pay?token=tok-123456789",
            ))
            .with_frame(Frame::new("std::rt", "/rustc/rt.rs", 1).in_app(false))
            .with_frame(
                Frame::new("shop::pay", "src/pay.rs", 7)
                    .var("order_id", "ord_42")
                    .var("password", "hunter2-secret"),
            );
        let report = ExceptionReporter::default().report(&capture);
        let markdown = report.markdown().to_string();
        assert!(
            markdown.starts_with("## `PaymentError at /pay`\n"),
            "{markdown}"
        );
        assert!(
            markdown.contains("```text\ndeclined for <b>ord_42</b>\n```"),
            "{markdown}"
        );
        assert!(markdown.contains("- **Request:** `GET http://shop.example/pay?token="));
        assert!(
            markdown.contains("#### `src/pay.rs:7` in `shop::pay`"),
            "{markdown}"
        );
        assert!(markdown.contains("order_id = \"ord_42\""));
        assert!(markdown.contains("_1 library frame not shown._"));
        assert!(!markdown.contains("std::rt"));
        assert!(!markdown.contains("hunter2-secret"));
        assert!(!markdown.contains("tok-123456789"));
    }

    #[test]
    fn control_characters_do_not_reach_the_markdown() {
        let capture = Capture::error("E", "a\r\nb\rc\0d\x1be");
        let markdown = ExceptionReporter::default()
            .report(&capture)
            .markdown()
            .to_string();
        assert!(
            markdown.contains("a\nb\nc\u{FFFD}d\u{FFFD}e"),
            "{markdown:?}"
        );
    }
}
