//! Django's `PlainTextReportTests` (`tests/view_tests/tests/test_debug.py`), ported to
//! safe-report: the text report (`get_traceback_text()`, here `render_text`).
//!
//! Values are quoted the Rust way (`items = "Oops"`) where Django shows a Python repr
//! (`items = 'Oops'`).

use safe_report::{
    Capture, Environment, ExceptionReporter, Frame, RequestInfo, SafeReporterFilter,
};

/// `RequestFactory().get("/test_view/")` with a user whose `str` is `jacob`.
fn request() -> RequestInfo {
    RequestInfo::new("GET", "http://testserver/test_view/").user("jacob")
}

/// `ValueError("Can't find my keys")`, raised in one frame.
fn value_error() -> Capture {
    Capture::error("ValueError", "Can't find my keys")
        .with_environment(Environment::default())
        .with_frame(Frame::new(
            "view_tests::test_debug::raise_value_error",
            "view_tests/tests/test_debug.rs",
            12,
        ))
}

fn text(capture: &Capture) -> String {
    ExceptionReporter::new(SafeReporterFilter::django())
        .report(capture)
        .text()
        .to_string()
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

/// `test_request_and_exception`.
#[test]
fn test_request_and_exception() {
    let text = text(&value_error().with_request(request()));
    assert_in("ValueError at /test_view/", &text);
    assert_in("Can't find my keys", &text);
    assert_in("Request Method:", &text);
    assert_in("Request URL:", &text);
    assert_in("USER: jacob", &text);
    assert_in("Exception Type:", &text);
    assert_in("Exception Value:", &text);
    assert_in("Traceback (most recent call last):", &text);
    assert_in("Request information:", &text);
    assert_not_in("Request data not supplied", &text);
}

/// `test_no_request`.
#[test]
fn test_no_request() {
    let text = text(&value_error());
    assert_in("ValueError", &text);
    assert_in("Can't find my keys", &text);
    assert_not_in("Request Method:", &text);
    assert_not_in("Request URL:", &text);
    assert_not_in("USER:", &text);
    assert_in("Exception Type:", &text);
    assert_in("Exception Value:", &text);
    assert_in("Traceback (most recent call last):", &text);
    assert_in("Request data not supplied", &text);
}

/// `test_no_exception`: Django only checks that the report renders; here also what it says.
#[test]
fn test_no_exception() {
    let capture = Capture::new()
        .with_environment(Environment::default())
        .with_request(request());
    let text = text(&capture);
    assert!(
        text.starts_with("Report at /test_view/\nNo exception message supplied\n"),
        "{text}"
    );
    assert_in("Request information:", &text);
    assert_not_in("Exception Type:", &text);
}

/// `test_request_and_message`: Django only checks that the report renders; here also what it
/// says.
#[test]
fn test_request_and_message() {
    let capture = Capture::message("I'm a little teapot")
        .with_environment(Environment::default())
        .with_request(request());
    let text = text(&capture);
    assert!(
        text.starts_with("Report at /test_view/\nI'm a little teapot\n"),
        "{text}"
    );
    assert_in("USER: jacob", &text);
    assert_not_in("Exception Type:", &text);
}

/// `test_request_with_items_key`: a key named `items` in GET, POST, FILES or COOKIES.
#[test]
fn test_request_with_items_key() {
    let get = RequestInfo::new("GET", "http://testserver/test_view/?items=Oops");
    let post = RequestInfo::new("POST", "http://testserver/test_view/")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("items=Oops");
    let cookies =
        RequestInfo::new("GET", "http://testserver/test_view/").header("Cookie", "items=Oops");
    for (section, request) in [("GET:", get), ("POST:", post), ("COOKIES:", cookies)] {
        let text = text(&Capture::new().with_request(request));
        assert_in(&format!("{section}\nitems = \"Oops\"\n"), &text);
    }

    // Multipart bodies are parsed with the `web` feature.
    #[cfg(feature = "web")]
    {
        let body = "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nfilename\r\n\
                    --B\r\nContent-Disposition: form-data; name=\"items\"; filename=\"items\"\r\n\
                    Content-Type: application/octet-stream\r\n\r\nfilecontent\r\n--B--\r\n";
        let files = RequestInfo::new("POST", "http://testserver/test_view/")
            .header("Content-Type", "multipart/form-data; boundary=B")
            .body(body);
        let text = text(&Capture::new().with_request(files));
        assert_in(
            "FILES:\nitems = <items (application/octet-stream, 11 bytes)>\n",
            &text,
        );
        assert_in("POST:\nname = \"filename\"\n", &text);
        assert_not_in("filecontent", &text);
    }
}

/// `test_message_only`: Django only checks that the report renders; here also what it says.
#[test]
fn test_message_only() {
    let capture = Capture::message("I'm a little teapot").with_environment(Environment::default());
    let text = text(&capture);
    assert!(text.starts_with("Report\nI'm a little teapot\n"), "{text}");
    assert_in("Request data not supplied", &text);
    assert_not_in("Request Method:", &text);
}

/// `test_disallowed_host` (adapted: there is no `ALLOWED_HOSTS`; the URL is shown as the
/// request carried it).
#[test]
fn test_disallowed_host() {
    let capture = Capture::new()
        .with_environment(Environment::default())
        .with_request(RequestInfo::new("GET", "http://evil.com/"));
    assert_in("Request URL: http://evil.com/\n", &text(&capture));
}
