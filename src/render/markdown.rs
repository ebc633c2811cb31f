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

use std::borrow::Cow;
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
    let bytes = text.as_bytes();
    let (mut longest, mut run, mut last) = (0, 0, usize::MAX);
    for at in memchr::memchr_iter(b'`', bytes) {
        run = if last.wrapping_add(1) == at {
            run + 1
        } else {
            1
        };
        longest = longest.max(run);
        last = at;
    }
    longest
}

/// Line feeds for carriage returns (a CR LF pair becomes one), U+FFFD for other control
/// characters (an HTML parser would change or drop them when the text is embedded in the
/// page). Text without any is returned as it is; otherwise the clean runs between them are
/// copied whole.
fn plain(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let (mut clean, mut at) = (0, 0);
    loop {
        at = next_special(bytes, at);
        let Some(&byte) = bytes.get(at) else {
            break;
        };
        let (width, replacement) = match byte {
            b'\r' if bytes.get(at + 1) == Some(&b'\n') => (1, ""),
            b'\r' => (1, "\n"),
            // C1 controls, U+0080 to U+009F; other characters from U+0080 to U+00BF are kept.
            0xc2 if matches!(bytes.get(at + 1), Some(0x80..=0x9f)) => (2, "\u{FFFD}"),
            0xc2 => {
                at += 1;
                continue;
            }
            _ => (1, "\u{FFFD}"),
        };
        if out.capacity() == 0 {
            out.reserve(text.len() + 16);
        }
        out.push_str(&text[clean..at]);
        out.push_str(replacement);
        at += width;
        clean = at;
    }
    if clean == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[clean..]);
    Cow::Owned(out)
}

/// The index of the first byte from `from` on that may start a control character other
/// than a line feed or a tab (a C0 control, DEL, or 0xC2, which leads U+0080 to U+00BF), or
/// `bytes.len()`. Clean text is checked 32 bytes at a time, without a branch per byte.
fn next_special(bytes: &[u8], from: usize) -> usize {
    fn special(byte: u8) -> bool {
        (byte < 0x20) & (byte != b'\n') & (byte != b'\t') | (byte == 0x7f) | (byte == 0xc2)
    }
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 32) {
        if chunk.iter().fold(false, |any, &byte| any | special(byte)) {
            break;
        }
        at += 32;
    }
    while bytes.get(at).is_some_and(|&byte| !special(byte)) {
        at += 1;
    }
    at.min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capture, ExceptionReporter, Frame, RequestInfo};

    #[test]
    fn control_characters_are_replaced_and_clean_text_is_not_copied() {
        let samples = [
            "plain text\twith\ttabs\nand lines",
            "crlf\r\nlone cr\rend",
            "nul\0 bell\x07 del\x7f c1\u{85} \u{9f} not c1 \u{a0}\u{c2}",
            "é ü \u{80}x",
            "\r\r\n\n\r",
            "\u{1b}[31mred\u{1b}[0m",
            "a long clean run of text, longer than one chunk of thirty-two bytes\u{7f} then more",
            "a long clean run of text, longer than one chunk of thirty-two bytes · no control",
            "",
        ];
        for sample in samples {
            let expected: String = sample
                .replace("\r\n", "\n")
                .chars()
                .map(|c| match c {
                    '\r' => '\n',
                    '\n' | '\t' => c,
                    c if c.is_control() => '\u{FFFD}',
                    c => c,
                })
                .collect();
            let got = plain(sample);
            assert_eq!(got, expected, "{sample:?}");
            assert_eq!(
                matches!(got, Cow::Borrowed(_)),
                expected == sample,
                "{sample:?}"
            );
        }
    }

    #[test]
    fn the_longest_backtick_run_is_counted() {
        for (text, run) in [
            ("", 0),
            ("a", 0),
            ("`", 1),
            ("a``b`", 2),
            ("```x``````", 6),
            ("`a`b`", 1),
        ] {
            assert_eq!(longest_backtick_run(text), run, "{text:?}");
        }
    }

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
