//! The parts of Django's `DebugViewTests` (`tests/view_tests/tests/test_debug.py`) that apply
//! to safe-report: `test_files` (an uploaded file's name is shown, its content never) and the
//! content-negotiation table of `test_technical_500_content_type_negotiation`.

use safe_report::{Capture, Environment, ExceptionReporter, Format, SafeReporterFilter, negotiate};

/// `test_files`: POST `/raises/` with the upload `file_data.txt` holding `haha` (DEBUG on).
/// Every rendering names the file and none shows its content, with Django's filter and with
/// the default one.
// Multipart bodies are parsed with the `web` feature.
#[cfg(feature = "web")]
#[test]
fn test_files() {
    use safe_report::RequestInfo;

    let body = "--B\r\nContent-Disposition: form-data; name=\"file_data.txt\"; filename=\"file_data.txt\"\r\n\
                Content-Type: text/plain\r\n\r\nhaha\r\n--B--\r\n";
    let capture = Capture::error("Exception", "")
        .with_environment(Environment::default())
        .with_debug(true)
        .with_request(
            RequestInfo::new("POST", "http://testserver/raises/")
                .header("Content-Type", "multipart/form-data; boundary=B")
                .body(body),
        );
    for reporter in [
        ExceptionReporter::new(SafeReporterFilter::django()),
        ExceptionReporter::default(),
    ] {
        let report = reporter.report(&capture);
        let files = &report.request.as_ref().unwrap().files;
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].field, "file_data.txt");
        assert_eq!(
            files[0].description,
            "<file_data.txt (text/plain, 4 bytes)>"
        );
        for (label, output) in [
            ("html", report.html().to_string()),
            ("text", report.text().to_string()),
            ("json", report.json().to_string()),
            ("email html", report.html().for_email().to_string()),
            ("email text", report.text().for_email().to_string()),
        ] {
            assert!(
                output.contains("file_data.txt"),
                "{label}: no file name:\n{output}"
            );
            assert!(
                !output.contains("haha"),
                "{label}: file content shown:\n{output}"
            );
        }
    }
}

/// `test_technical_500_content_type_negotiation`: the `Accept` header picks the format.
///
/// Adapted: Django answers `text/html` for HTML; the HTML response here is declared
/// `text/html; charset=utf-8`.
#[test]
fn test_technical_500_content_type_negotiation() {
    let capture = Capture::error("Exception", "boom").with_environment(Environment::default());
    let reporter = ExceptionReporter::new(SafeReporterFilter::django());
    for (accept, format, content_type) in [
        ("text/plain", Format::Text, "text/plain; charset=utf-8"),
        ("text/html", Format::Html, "text/html; charset=utf-8"),
        (
            "text/html,text/plain;q=0.9",
            Format::Html,
            "text/html; charset=utf-8",
        ),
        (
            "text/plain,text/html;q=0.9",
            Format::Text,
            "text/plain; charset=utf-8",
        ),
        ("text/*", Format::Html, "text/html; charset=utf-8"),
    ] {
        let chosen = negotiate(Some(accept));
        assert_eq!(chosen, format, "{accept}");
        assert_eq!(chosen.content_type(), content_type, "{accept}");
        let body = reporter.report(&capture).render(chosen);
        match chosen {
            Format::Html => assert!(body.starts_with("<!DOCTYPE html>"), "{accept}: {body}"),
            _ => assert!(body.starts_with("Exception\nboom\n"), "{accept}: {body}"),
        }
    }
    // No `Accept` header counts as `*/*`: the browser page.
    assert_eq!(negotiate(None), Format::Html);
}
