//! Django's `ExceptionReporterTests` (`tests/view_tests/tests/test_debug.py`), ported to
//! safe-report.
//!
//! Django builds `ExceptionReporter(request, exc_type, exc_value, tb)` and checks
//! `get_traceback_html()` / `get_traceback_text()`. Here a capture is built with the builder
//! API and reported through Django's filter (`SafeReporterFilter::django()`); the browser page
//! is `render_html` and the text report `render_text`.
//!
//! The templates escape with askama, which writes numeric character references: `<` is
//! `&#60;`, `>` is `&#62;`, `"` is `&#34;` and `'` is `&#39;` where Django writes `&lt;`,
//! `&gt;`, `&quot;` and `&#x27;`. Values are quoted the Rust way (`"Oops"`) where Django
//! shows a Python repr (`'Oops'`).

use std::io::Write;
use std::sync::Arc;

use safe_report::report::SourceCache;
use safe_report::{
    Capture, Cause, Environment, ExceptionReporter, Frame, RequestInfo, SafeReporterFilter,
    Variable,
};

/// `RequestFactory().get("/test_view/")` with a user whose `str` is `jacob`.
fn request() -> RequestInfo {
    RequestInfo::new("GET", "http://testserver/test_view/").user("jacob")
}

/// The frame `raise ValueError(...)` ran in. Its file does not exist, so the report shows
/// `<source code not available>`.
fn raising_frame() -> Frame {
    Frame::new(
        "view_tests::test_debug::raise_value_error",
        "view_tests/tests/test_debug.rs",
        12,
    )
}

/// `ValueError("Can't find my keys")`, raised in one frame.
fn value_error() -> Capture {
    Capture::error("ValueError", "Can't find my keys")
        .with_environment(Environment::default())
        .with_frame(raising_frame())
}

fn reporter() -> ExceptionReporter {
    ExceptionReporter::new(SafeReporterFilter::django())
}

/// A reporter with its own source cache, for frames whose files a test writes.
fn reporter_with_fresh_sources() -> ExceptionReporter {
    reporter().source_cache(Arc::new(SourceCache::new()))
}

fn html(capture: &Capture) -> String {
    reporter().report(capture).html().to_string()
}

fn text(capture: &Capture) -> String {
    reporter().report(capture).text().to_string()
}

#[track_caller]
fn assert_in(needle: &str, haystack: &str) {
    assert!(
        haystack.contains(needle),
        "{needle:?} missing from:\n{haystack}"
    );
}

#[track_caller]
fn assert_not_in(needle: &str, haystack: &str) {
    assert!(
        !haystack.contains(needle),
        "{needle:?} unexpectedly in:\n{haystack}"
    );
}

/// A source file written for one test.
fn source_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(bytes))
        .expect("writing a source file");
    path.to_str().expect("a UTF-8 temp path").to_owned()
}

/// `test_request_and_exception`: a request and an exception give the full page.
#[test]
fn test_request_and_exception() {
    let html = html(&value_error().with_request(request()));
    assert_in("<h1>ValueError at /test_view/</h1>", &html);
    assert_in(
        r#"<pre class="exception_value">Can&#39;t find my keys</pre>"#,
        &html,
    );
    assert_in(r#"<th scope="row">Request Method:</th>"#, &html);
    assert_in(r#"<th scope="row">Request URL:</th>"#, &html);
    assert_in(r#"<h3 id="user-info">USER</h3>"#, &html);
    assert_in("<p>jacob</p>", &html);
    assert_in(r#"<th scope="row">Exception Type:</th>"#, &html);
    assert_in(r#"<th scope="row">Exception Value:</th>"#, &html);
    assert_in("<h2>Traceback ", &html);
    assert_in("<h2>Request information</h2>", &html);
    assert_not_in("<p>Request data not supplied</p>", &html);
    assert_in("<p>No POST data</p>", &html);
}

/// `test_no_request`: an exception without a request.
#[test]
fn test_no_request() {
    let html = html(&value_error());
    assert_in("<h1>ValueError</h1>", &html);
    assert_in(
        r#"<pre class="exception_value">Can&#39;t find my keys</pre>"#,
        &html,
    );
    assert_not_in(r#"<th scope="row">Request Method:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Request URL:</th>"#, &html);
    assert_not_in(r#"<h3 id="user-info">USER</h3>"#, &html);
    assert_in(r#"<th scope="row">Exception Type:</th>"#, &html);
    assert_in(r#"<th scope="row">Exception Value:</th>"#, &html);
    assert_in("<h2>Traceback ", &html);
    assert_in("<p>Request data not supplied</p>", &html);
}

/// `test_sharing_traceback` (adapted): Django's page has a form posting the traceback to
/// dpaste.com. This page deliberately has no form that sends the report to a public site;
/// it keeps the copy-and-paste view that form held.
#[test]
fn test_sharing_traceback() {
    let html = html(&value_error().with_request(request()));
    assert_not_in("<form", &html);
    assert_not_in("dpaste", &html);
    assert_in(r#"<div id="pastebinTraceback" class="pastebin">"#, &html);
    assert_in(r#"<textarea id="traceback_area""#, &html);
    assert_in("Switch to copy-and-paste view", &html);
}

/// `test_eol_support` (adapted): `\n`, `\r\n` and `\r` all end source lines. Django calls
/// `_get_lines_from_file(file, 3, 2)`; the reporter's window is fixed (7 lines before, 6
/// after), so the frame at line 4 of the 5-line file gets lines 1-3 before and line 5 after.
#[test]
fn test_eol_support() {
    let dir = tempfile::tempdir().unwrap();
    let lines = ["print 1", "print 2", "print 3", "print 4", "print 5"];
    for (index, newline) in ["\n", "\r\n", "\r"].into_iter().enumerate() {
        let source = lines.join(newline) + newline;
        let file = source_file(&dir, &format!("eol{index}.py"), source.as_bytes());
        let capture = Capture::error("Exception", "").with_frame(Frame::new("eol", file, 4));
        let report = reporter_with_fresh_sources().report(&capture);
        let frame = &report.frames[0];
        assert_eq!(frame.pre_context_lineno, 1, "{newline:?}");
        assert_eq!(
            frame.pre_context,
            ["print 1", "print 2", "print 3"],
            "{newline:?}"
        );
        assert_eq!(frame.context_line, "print 4", "{newline:?}");
        assert_eq!(frame.post_context, ["print 5"], "{newline:?}");
    }
}

/// `test_no_exception`: a report for a request alone.
#[test]
fn test_no_exception() {
    let capture = Capture::new()
        .with_environment(Environment::default())
        .with_request(request());
    let html = html(&capture);
    assert_in("<h1>Report at /test_view/</h1>", &html);
    assert_in(
        r#"<pre class="exception_value">No exception message supplied</pre>"#,
        &html,
    );
    assert_in(r#"<th scope="row">Request Method:</th>"#, &html);
    assert_in(r#"<th scope="row">Request URL:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Exception Type:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Exception Value:</th>"#, &html);
    assert_not_in("<h2>Traceback ", &html);
    assert_in("<h2>Request information</h2>", &html);
    assert_not_in("<p>Request data not supplied</p>", &html);
}

/// `test_suppressed_context` (adapted): `raise ... from None` leaves the context out of the
/// chain. A capture lists its causes explicitly; with none, no cause sentence is shown.
#[test]
fn test_suppressed_context() {
    let capture = Capture::error("ValueError", "Can't find my keys")
        .with_environment(Environment::default())
        .with_frame(raising_frame());
    let html = html(&capture);
    assert_in("<h2>Traceback ", &html);
    assert_not_in("During handling of the above exception", &html);
    assert_not_in("was the direct cause of the following exception", &html);
    assert_not_in("During handling of the above exception", &text(&capture));
}

/// `test_innermost_exception_without_traceback` (adapted): the context `RuntimeError("My
/// context")` was never raised, so it has no frames. Django shows a placeholder frame
/// (`None`); here the cause has no frames and only its sentence is shown.
#[test]
fn test_innermost_exception_without_traceback() {
    let capture = Capture::error("RuntimeError", "Oops")
        .with_environment(Environment::default())
        .with_cause(Cause::during_handling(
            Some("RuntimeError".to_owned()),
            "My context",
        ))
        .with_frame(raising_frame());
    let report = reporter().report(&capture);
    assert_eq!(report.all_frames().count(), 1);
    assert!(report.causes[0].frames.is_empty());

    let html = report.html().to_string();
    assert_in("<h1>RuntimeError</h1>", &html);
    assert_in(r#"<pre class="exception_value">Oops</pre>"#, &html);
    assert_in(
        "During handling of the above exception (My context), another exception occurred",
        &html,
    );
    let text = report.text().to_string();
    assert_in("Exception Type: RuntimeError", &text);
    assert_in("Exception Value: Oops", &text);
    assert_in("Traceback (most recent call last):", &text);
    assert_in(
        "During handling of the above exception (My context), another exception occurred",
        &text,
    );
}

/// `test_exception_with_notes` (adapted: Rust errors have no PEP 678 notes, so the notes are
/// further lines of the message). Markup in the message is escaped in HTML, also in the
/// copy-and-paste view, and shown as is in text.
#[test]
fn test_exception_with_notes() {
    let message = "Oops\nFirst Note\nSecond Note\n<script>alert(1);</script>";
    let capture = Capture::error("RuntimeError", message)
        .with_environment(Environment::default())
        .with_frame(raising_frame());
    let html = html(&capture);
    let escaped = "Oops\nFirst Note\nSecond Note\n&#60;script&#62;alert(1);&#60;/script&#62;";
    assert_in(
        &format!(r#"<pre class="exception_value">{escaped}</pre>"#),
        &html,
    );
    assert_in(&format!("Exception Value: {escaped}"), &html);
    assert_not_in("<script>alert(1);</script>", &html);
    assert_in(&format!("Exception Value: {message}"), &text(&capture));
}

/// `test_mid_stack_exception_without_traceback` (adapted): `Oops` is raised from
/// `RuntimeError("My context")`, never raised itself, whose context is `Inner Oops`. The
/// never-raised cause has no frames (Django shows a `Traceback: None` placeholder); the
/// sentences are shown in order, oldest first.
#[test]
fn test_mid_stack_exception_without_traceback() {
    let mut inner = Cause::during_handling(Some("RuntimeError".to_owned()), "Inner Oops");
    inner.frames = vec![Frame::new(
        "view_tests::test_debug::inner",
        "view_tests/tests/test_debug.rs",
        30,
    )];
    let capture = Capture::error("RuntimeError", "Oops")
        .with_environment(Environment::default())
        .with_cause(Cause::direct(Some("RuntimeError".to_owned()), "My context"))
        .with_cause(inner)
        .with_frame(raising_frame());
    let during = "During handling of the above exception (Inner Oops), another exception occurred:";
    let direct =
        "The above exception (My context) was the direct cause of the following exception:";
    let html = html(&capture);
    let text = text(&capture);
    for body in [&html, &text] {
        let during_at = body.find(during).expect("the during-handling sentence");
        let direct_at = body.find(direct).expect("the direct-cause sentence");
        assert!(during_at < direct_at, "oldest cause first:\n{body}");
    }
    assert_in("Exception Type: RuntimeError", &text);
    assert_in("Exception Value: Oops", &text);
    assert_in("Traceback (most recent call last):", &text);
}

/// `test_reporting_of_nested_exceptions`: `AttributeError("<p>Top level</p>")` is the direct
/// cause of `ValueError("<p>Second exception</p>")`, during whose handling
/// `IndexError("<p>Final exception</p>")` is raised. Messages are escaped in HTML and shown
/// as is in text.
///
/// Django's counts differ where its page shows more copies: the cause sentences appear twice
/// in both (browser and copy-and-paste views); the final message appears 3 times here
/// (summary, Exception Value row, copy-and-paste view) where Django also repeats it in the
/// title, the dpaste form and source lines, and twice in text (Django 3, with a source line).
#[test]
fn test_reporting_of_nested_exceptions() {
    let frame = |function: &str, line: u32| {
        Frame::new(
            format!("view_tests::test_debug::{function}"),
            "view_tests/tests/test_debug.rs",
            line,
        )
    };
    let mut top = Cause::direct(Some("AttributeError".to_owned()), "<p>Top level</p>");
    top.frames = vec![frame("test_func", 40)];
    let mut second =
        Cause::during_handling(Some("ValueError".to_owned()), "<p>Second exception</p>");
    second.frames = vec![frame("test_func", 42)];
    let capture = Capture::error("IndexError", "<p>Final exception</p>")
        .with_environment(Environment::default())
        .with_cause(second)
        .with_cause(top)
        .with_frame(frame("test_func", 44));

    // Django's counts are of its page; ours also embeds the Markdown the copy button copies.
    let page = html(&capture);
    let start = page.find("<template id=\"report-markdown\">").unwrap();
    let end = start + page[start..].find("</template>").unwrap();
    let html = format!("{}{}", &page[..start], &page[end..]);
    assert_eq!(
        html.matches(
            "The above exception (&#60;p&#62;Top level&#60;/p&#62;) was the direct cause of the following exception:"
        )
        .count(),
        2,
        "{html}"
    );
    assert_eq!(
        html.matches(
            "During handling of the above exception (&#60;p&#62;Second exception&#60;/p&#62;), another exception occurred:"
        )
        .count(),
        2,
        "{html}"
    );
    assert_eq!(
        html.matches("&#60;p&#62;Final exception&#60;/p&#62;")
            .count(),
        3,
        "{html}"
    );
    for raw in [
        "<p>Top level</p>",
        "<p>Second exception</p>",
        "<p>Final exception</p>",
    ] {
        assert_not_in(raw, &html);
    }

    let text = text(&capture);
    assert_in(
        "The above exception (<p>Top level</p>) was the direct cause of the following exception:",
        &text,
    );
    assert_in(
        "During handling of the above exception (<p>Second exception</p>), another exception occurred:",
        &text,
    );
    assert_eq!(text.matches("<p>Final exception</p>").count(), 2, "{text}");
}

/// `test_reporting_frames_without_source`: a frame whose file does not exist.
#[test]
fn test_reporting_frames_without_source() {
    let capture = Capture::error("NameError", "name 'x' is not defined")
        .with_environment(Environment::default())
        .with_frame(Frame::new("funcName", "generated", 2));
    let report = reporter().report(&capture);
    let last = report.frames.last().unwrap();
    assert_eq!(last.context_line, "<source code not available>");
    assert_eq!(last.file, "generated");
    assert_eq!(last.function, "funcName");
    assert_eq!(last.line, Some(2));

    let html = report.html().to_string();
    assert_in(
        r#"<span class="fname">generated</span>, line 2, in funcName"#,
        &html,
    );
    assert_in(
        r#"<code class="fname">generated</code>, line 2, in funcName"#,
        &html,
    );
    assert_in(
        "\"generated\", line 2, in funcName\n    &#60;source code not available&#62;",
        &html,
    );
    assert_in(
        "\"generated\", line 2, in funcName\n    <source code not available>",
        &report.text().to_string(),
    );
}

/// `test_reporting_frames_source_not_match` (adapted: instead of mocking the source, the file
/// exists but has no line 2).
#[test]
fn test_reporting_frames_source_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let file = source_file(&dir, "generated", b"wrong source\n");
    let capture = Capture::error("NameError", "name 'x' is not defined")
        .with_environment(Environment::default())
        .with_frame(Frame::new("funcName", file.clone(), 2));
    let report = reporter_with_fresh_sources().report(&capture);
    let last = report.frames.last().unwrap();
    assert_eq!(last.context_line, "<source code not available>");
    assert_eq!(last.file, file);
    assert_eq!(last.function, "funcName");
    assert_eq!(last.line, Some(2));

    let html = report.html().to_string();
    assert_in(
        &format!(r#"<code class="fname">{file}</code>, line 2, in funcName"#),
        &html,
    );
    assert_in(
        &format!("\"{file}\", line 2, in funcName\n    &#60;source code not available&#62;"),
        &html,
    );
    assert_not_in("wrong source", &html);
    assert_in(
        &format!("\"{file}\", line 2, in funcName\n    <source code not available>"),
        &report.text().to_string(),
    );
}

/// `test_request_and_message`: a message instead of an exception, with a request.
///
/// Django also shows a traceback section with one placeholder frame (`None`); a capture with
/// no frames has no traceback section.
#[test]
fn test_request_and_message() {
    let capture = Capture::message("I'm a little teapot")
        .with_environment(Environment::default())
        .with_request(request());
    let html = html(&capture);
    assert_in("<h1>Report at /test_view/</h1>", &html);
    assert_in(
        r#"<pre class="exception_value">I&#39;m a little teapot</pre>"#,
        &html,
    );
    assert_in(r#"<th scope="row">Request Method:</th>"#, &html);
    assert_in(r#"<th scope="row">Request URL:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Exception Type:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Exception Value:</th>"#, &html);
    assert_not_in("<h2>Traceback ", &html);
    assert_in("<h2>Request information</h2>", &html);
    assert_not_in("<p>Request data not supplied</p>", &html);
}

/// `test_message_only`: a message alone.
///
/// As in `test_request_and_message`, Django shows a placeholder traceback and this report has
/// no traceback section.
#[test]
fn test_message_only() {
    let capture = Capture::message("I'm a little teapot").with_environment(Environment::default());
    let html = html(&capture);
    assert_in("<h1>Report</h1>", &html);
    assert_in(
        r#"<pre class="exception_value">I&#39;m a little teapot</pre>"#,
        &html,
    );
    assert_not_in(r#"<th scope="row">Request Method:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Request URL:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Exception Type:</th>"#, &html);
    assert_not_in(r#"<th scope="row">Exception Value:</th>"#, &html);
    assert_not_in("<h2>Traceback ", &html);
    assert_in("<p>Request data not supplied</p>", &html);
}

/// `test_non_utf8_values_handling` (adapted): Rust strings are UTF-8, so the bytes that are not
/// come from files and requests. A source file with the byte 0xE9 in a line is shown with
/// `\xe9` in its place, in the browser page and in the text report.
#[test]
fn test_non_utf8_values_handling() {
    let dir = tempfile::tempdir().unwrap();
    let file = source_file(
        &dir,
        "non_utf8.py",
        b"value = b\"VAL\xe9VAL\"\nraise Exception(b\"EXC\xe9EXC\")\n",
    );
    let capture = Capture::error("Exception", "EXC")
        .with_environment(Environment::default())
        .with_frame(Frame::new("non_utf8", file, 2));
    let report = reporter_with_fresh_sources().report(&capture);
    let html = report.html().to_string();
    assert_in(r"VAL\xe9VAL", &html);
    assert_in(r"EXC\xe9EXC", &html);
    assert_in(r"EXC\xe9EXC", &report.text().to_string());
}

/// `test_non_utf8_values_handling`, for a request header holding the byte 0xE9: the byte
/// should be shown as `\xe9`, and differently from a header holding the four characters
/// `\xe9`.
#[test]
fn test_non_utf8_values_handling_header_value() {
    let capture = Capture::error("Exception", "")
        .with_environment(Environment::default())
        .with_request(
            RequestInfo::new("GET", "http://testserver/test_view/")
                .header("X-Bytes", b"VAL\xe9VAL".to_vec())
                .header("X-Text", r"VAL\xe9VAL"),
        );
    let report = reporter().report(&capture);
    let meta = &report.request.as_ref().unwrap().meta;
    assert_ne!(
        meta[0].value, meta[1].value,
        "the byte and the text look the same"
    );
    assert_in(r"VAL\xe9VAL", &report.text().to_string());
}

/// `test_local_variable_escaping`: markup in a variable is escaped.
#[test]
fn test_local_variable_escaping() {
    let capture = Capture::error("ValueError", "Oops")
        .with_environment(Environment::default())
        .with_frame(raising_frame().var("local", "<p>Local variable</p>"));
    let html = html(&capture);
    assert_in(
        r#"<td class="code"><pre>&#34;&#60;p&#62;Local variable&#60;/p&#62;&#34;</pre></td>"#,
        &html,
    );
    assert_not_in("<p>Local variable</p>", &html);
}

/// `test_unprintable_values_handling` (adapted: a value whose `Debug` failed is captured as
/// `Variable::formatting_failed`).
#[test]
fn test_unprintable_values_handling() {
    let mut frame = raising_frame();
    frame
        .vars
        .push(Variable::formatting_failed("oomvalue", "MemoryError: OOM"));
    let capture = Capture::error("ValueError", "Oops")
        .with_environment(Environment::default())
        .with_frame(frame);
    let html = html(&capture);
    assert_in(
        r#"<td>oomvalue</td><td class="code"><pre>Error in formatting: MemoryError: OOM</pre></td>"#,
        &html,
    );
}

/// `test_too_large_values_handling`: a huge value is cut, with the size of the whole
/// (adapted: the notice gives the string's own size, 262,144 bytes; Django counts the
/// characters of its `repr`, quotes included, and calls them bytes).
#[test]
fn test_too_large_values_handling() {
    let large = "A".repeat(262_144);
    let capture = Capture::error("ValueError", "Oops")
        .with_environment(Environment::default())
        .with_frame(raising_frame().var("large", large));
    let html = html(&capture);
    assert!(html.len() < 128 * 1024, "{} bytes", html.len());
    assert_in("&#60;trimmed 262144 bytes string&#62;", &html);
}

/// `test_disallowed_host` (adapted: there is no `ALLOWED_HOSTS`; the URL is shown as the
/// request carried it, whatever the host).
#[test]
fn test_disallowed_host() {
    let capture = Capture::new()
        .with_environment(Environment::default())
        .with_request(RequestInfo::new("GET", "http://evil.com/"));
    assert_in("http://evil.com/", &html(&capture));
}

/// A multipart body with the text field `name=filename` and the file `items` holding
/// `filecontent`.
#[cfg(feature = "web")]
fn multipart_with_items_file() -> RequestInfo {
    let body = "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nfilename\r\n\
                --B\r\nContent-Disposition: form-data; name=\"items\"; filename=\"items\"\r\n\
                Content-Type: application/octet-stream\r\n\r\nfilecontent\r\n--B--\r\n";
    RequestInfo::new("POST", "http://testserver/test_view/")
        .header("Content-Type", "multipart/form-data; boundary=B")
        .body(body)
}

/// `test_request_with_items_key`: a key named `items` in GET, POST, FILES or COOKIES.
#[test]
fn test_request_with_items_key() {
    let value = r#"<td>items</td><td class="code"><pre>&#34;Oops&#34;</pre></td>"#;
    let get = RequestInfo::new("GET", "http://testserver/test_view/?items=Oops");
    let post = RequestInfo::new("POST", "http://testserver/test_view/")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("items=Oops");
    let cookies =
        RequestInfo::new("GET", "http://testserver/test_view/").header("Cookie", "items=Oops");
    for request in [get, post, cookies] {
        assert_in(value, &html(&Capture::new().with_request(request)));
    }
    // Multipart bodies are parsed with the `web` feature.
    #[cfg(feature = "web")]
    {
        let html = html(&Capture::new().with_request(multipart_with_items_file()));
        assert_in(
            r#"<td>items</td><td class="code"><pre>&#60;items (application/octet-stream, 11 bytes)&#62;</pre></td>"#,
            &html,
        );
        assert_not_in("filecontent", &html);
    }
}

/// `test_exception_fetching_user` (adapted: a capture whose request has no user, as when
/// fetching it failed).
#[test]
fn test_exception_fetching_user() {
    let capture =
        value_error().with_request(RequestInfo::new("GET", "http://testserver/test_view/"));
    let html = html(&capture);
    assert_in(r#"<h3 id="user-info">USER</h3>"#, &html);
    assert_in("<p>[unable to retrieve the current user]</p>", &html);
    assert_in(
        "USER: [unable to retrieve the current user]",
        &text(&capture),
    );
}

/// `test_get_raw_insecure_uri` (adapted: the URL is captured whole; the report shows it
/// unchanged and takes the path from it).
#[test]
fn test_get_raw_insecure_uri() {
    for (url, path) in [
        ("http://evil.com//absolute-uri", "//absolute-uri"),
        ("http://evil.com/?foo=bar", "/"),
        ("http://evil.com/path/with:colons", "/path/with:colons"),
    ] {
        let capture = Capture::new()
            .with_environment(Environment::default())
            .with_request(RequestInfo::new("GET", url));
        let report = reporter().report(&capture);
        let request = report.request.as_ref().unwrap();
        assert_eq!(request.url, url);
        assert_eq!(request.path, path);
        assert_in(&format!("Request URL: {url}\n"), &report.text().to_string());
        assert_in(
            &format!(r#"<th scope="row">Request URL:</th><td>{url}</td>"#),
            &report.html().to_string(),
        );
    }
}
