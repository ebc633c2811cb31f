//! Django's `DebugViewTests` and `NonHTMLResponseExceptionReporterFilter`
//! (`tests/view_tests/tests/test_debug.py`), the cases that apply, through real HTTP on
//! 127.0.0.1 against axum routes behind the error-report layer.
//!
//! Adaptations:
//! - Django's views answer with `technical_500_response` themselves, also with `DEBUG`
//!   off; the layer shows the technical page only in debug mode. With debug off these
//!   tests check what Django's `send_log` checks: the admin email (text and HTML).
//! - Routes are axum paths (`/raises500/`), shown where Django shows view names.
//! - `Accept: application/json` gets the JSON report here (Django: the text report).
//! - The reports are built with `SafeReporterFilter::django()`, Django's rules alone
//!   (the default filter would also hide `sausage-key`, whose name contains `key`).
//! - Not applicable: class-based views, templates and template loaders, the default
//!   URLconf page, path converters, `FORCE_SCRIPT_NAME`, the template encoding.
#![cfg(feature = "axum")]

mod web;

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Form;
use axum::http::StatusCode;
use axum::routing::{get, post};
use safe_report::integrations::tower::{
    DebugPageRenderer, ErrorReportLayer, ReportOverridesLayer, ReportedError, RequestReport,
};
use safe_report::mail::{AdminNotifier, Email, MailConfig, Mailer, MemoryBackend};
use safe_report::{
    Capture, FilterContext, Format, Named, ReporterFilter, RequestInfo, Rule, SafeReporterFilter,
    SensitiveNames, Shown,
};
use serde_json::Value;
use web::{Answer, get as http_get, post_form, serve};

// ---------------------------------------------------------------------------------------
// Django's fixtures: the breakfast data, the views, the filters and reporters.

const BREAKFAST: [(&str, &str); 4] = [
    ("sausage-key", "sausage-value"),
    ("baked-beans-key", "baked-beans-value"),
    ("hash-brown-key", "hash-brown-value"),
    ("bacon-key", "bacon-value"),
];

fn breakfast_form() -> String {
    BREAKFAST
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Exception(String);

/// Django's views: read the POST data, then raise `Exception`.
async fn view(Form(_post): Form<HashMap<String, String>>) -> Result<(), ReportedError> {
    Err(Exception("raised by the view".into()))?
}

/// `async_sensitive_view_nested`: not decorated; the function it awaits declares the
/// sensitive POST parameters on the request, then raises.
async fn nested_view(
    report: RequestReport,
    Form(_post): Form<HashMap<String, String>>,
) -> Result<(), ReportedError> {
    async_sensitive_function(&report).await
}

async fn async_sensitive_function(report: &RequestReport) -> Result<(), ReportedError> {
    report.sensitive_post_parameters(SensitiveNames::names(["bacon-key", "sausage-key"]));
    Err(Exception("raised by the nested function".into()))?
}

/// `custom_exception_reporter_filter_view`: paranoid, but the request's filter shows all.
async fn custom_filter_view(
    report: RequestReport,
    Form(_post): Form<HashMap<String, String>>,
) -> Result<(), ReportedError> {
    report.filter(UnsafeExceptionReporterFilter(SafeReporterFilter::django()));
    Err(Exception("raised by the view".into()))?
}

/// Django's `UnsafeExceptionReporterFilter`: POST parameters unfiltered.
struct UnsafeExceptionReporterFilter(SafeReporterFilter);

impl ReporterFilter for UnsafeExceptionReporterFilter {
    fn sensitive_name(&self, name: &str) -> Option<Rule> {
        self.0.sensitive_name(name)
    }

    fn names_beyond_django(&self) -> bool {
        false
    }

    fn post_parameters<'v>(
        &self,
        _request: &RequestInfo,
        parameters: &'v [(String, String)],
        _cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        parameters
            .iter()
            .map(|(name, value)| {
                (
                    Cow::Borrowed(name.as_str()),
                    Shown::Text(Cow::Borrowed(value.as_str())),
                )
            })
            .collect()
    }
}

/// Django's `CustomExceptionReporter`: a fixed text.
struct CustomExceptionReporter;

impl DebugPageRenderer for CustomExceptionReporter {
    fn render(&self, _: &Capture, _: Option<&dyn ReporterFilter>, _: Format) -> String {
        "custom traceback text".to_owned()
    }
}

/// `TemplateOverrideExceptionReporter`: its own HTML and text templates.
struct TemplateOverrideExceptionReporter;

impl DebugPageRenderer for TemplateOverrideExceptionReporter {
    fn render(&self, _: &Capture, _: Option<&dyn ReporterFilter>, format: Format) -> String {
        match format {
            Format::Html => "<h1>Oh no, an error occurred!</h1>".to_owned(),
            _ => "Oh dear, an error occurred!".to_owned(),
        }
    }
}

const ROUTES: [&str; 4] = ["/technical404/", "/raises500/", "/raises/", "/raises404/"];

struct Site {
    debug: bool,
    outbox: MemoryBackend,
    mailer: Mailer,
}

impl Site {
    fn new(debug: bool) -> Self {
        let config = MailConfig::builder()
            .admins(["admin@example.com"])
            .include_html(true)
            .build()
            .unwrap();
        let outbox = MemoryBackend::new();
        let mailer = Mailer::builder(config)
            .backend(outbox.clone())
            .build()
            .unwrap();
        Self {
            debug,
            outbox,
            mailer,
        }
    }

    fn layer(&self) -> ErrorReportLayer {
        ErrorReportLayer::new()
            .debug(self.debug)
            .filter(SafeReporterFilter::django())
            .notifier(AdminNotifier::new(self.mailer.clone()))
            .routes(ROUTES)
    }

    fn router(&self) -> Router {
        let sensitive = ReportOverridesLayer::new()
            .sensitive_post_parameters(SensitiveNames::names(["bacon-key", "sausage-key"]));
        let paranoid = ReportOverridesLayer::new().sensitive_post_parameters(SensitiveNames::All);
        Router::new()
            .route(
                "/technical404/",
                get(|| async { ReportedError::not_found("Testing technical 404.") }),
            )
            .route("/raises500/", get(raises500))
            .route("/raises/", post(raises_with_files))
            .route("/raises404/", get(|| async { StatusCode::NOT_FOUND }))
            .route("/raises400/", get(raises400))
            .route("/raises403/", get(raises403))
            .route("/xss/", get(xss))
            .route("/non_sensitive_view/", post(view))
            .route("/sensitive_view/", post(view).layer(sensitive.clone()))
            .route("/async_sensitive_view/", post(view).layer(sensitive))
            .route("/async_sensitive_view_nested/", post(nested_view))
            .route("/paranoid_view/", post(view).layer(paranoid.clone()))
            .route(
                "/custom_exception_reporter_filter_view/",
                post(custom_filter_view).layer(paranoid),
            )
            .route(
                "/custom_reporter_class_view/",
                get(|report: RequestReport| async move {
                    report.reporter(CustomExceptionReporter);
                    raises500().await
                }),
            )
            .layer(self.layer())
    }

    async fn serve(&self) -> std::net::SocketAddr {
        serve(self.router()).await
    }

    fn emails(&self) -> Vec<Email> {
        assert!(self.mailer.flush(Duration::from_secs(10)));
        self.outbox.messages()
    }
}

async fn raises500() -> Result<(), ReportedError> {
    Err(Exception("raises500".into()))?
}

async fn raises_with_files(body: Bytes) -> Result<(), ReportedError> {
    Err(Exception(format!(
        "raises after reading {} bytes",
        body.len()
    )))?
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SuspiciousOperation(String);

async fn raises400() -> Result<(), ReportedError> {
    Err(
        ReportedError::traced(SuspiciousOperation("Malformed request syntax".into()))
            .with_status(StatusCode::BAD_REQUEST),
    )
}

async fn raises403() -> Result<(), ReportedError> {
    Err(
        ReportedError::traced(Exception("Insufficient Permissions".into()))
            .with_status(StatusCode::FORBIDDEN),
    )
}

async fn xss() -> Result<(), ReportedError> {
    // Built from pieces, so that the source lines shown do not hold it (as Django's views).
    let tag = "script";
    Err(Exception(format!("<{tag}>alert(1);</{tag}>")))?
}

// ---------------------------------------------------------------------------------------
// ExceptionReportTestMixin's assertions (POST data only: the text and JSON reports).

fn verify_unsafe(body: &str) {
    for (name, value) in BREAKFAST {
        assert!(body.contains(name), "{name} missing:\n{body}");
        assert!(body.contains(value), "{value} missing:\n{body}");
    }
}

fn verify_safe(body: &str) {
    for (name, _) in BREAKFAST {
        assert!(body.contains(name), "{name} missing:\n{body}");
    }
    assert!(body.contains("baked-beans-value"));
    assert!(body.contains("hash-brown-value"));
    assert!(!body.contains("sausage-value"), "{body}");
    assert!(!body.contains("bacon-value"), "{body}");
}

fn verify_paranoid(body: &str) {
    for (name, value) in BREAKFAST {
        assert!(body.contains(name), "{name} missing:\n{body}");
        assert!(!body.contains(value), "{value} shown:\n{body}");
    }
}

/// A POST of the breakfast data as a JSON client; with debug off, the admin email's text
/// and HTML bodies.
async fn breakfast_outputs(debug: bool, path: &str) -> Vec<String> {
    let site = Site::new(debug);
    let addr = site.serve().await;
    let answer = post_form(addr, path, &breakfast_form(), Some("application/json")).await;
    assert_eq!(answer.status, 500);
    if debug {
        assert_eq!(answer.content_type, "application/json");
        assert!(site.emails().is_empty());
        vec![answer.body]
    } else {
        assert_eq!(
            answer.body,
            r#"{"error":"Server Error (500)","status":500}"#
        );
        let emails = site.emails();
        assert_eq!(emails.len(), 1);
        vec![
            emails[0].text().to_owned(),
            emails[0].html().unwrap().to_owned(),
        ]
    }
}

// ---------------------------------------------------------------------------------------
// NonHTMLResponseExceptionReporterFilter (7)

#[tokio::test]
async fn test_non_sensitive_request() {
    for debug in [true, false] {
        for body in breakfast_outputs(debug, "/non_sensitive_view/").await {
            verify_unsafe(&body);
        }
    }
}

#[tokio::test]
async fn test_sensitive_request() {
    for body in breakfast_outputs(true, "/sensitive_view/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(false, "/sensitive_view/").await {
        verify_safe(&body);
    }
}

#[tokio::test]
async fn test_async_sensitive_request() {
    for body in breakfast_outputs(true, "/async_sensitive_view/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(false, "/async_sensitive_view/").await {
        verify_safe(&body);
    }
}

#[tokio::test]
async fn test_async_sensitive_request_nested() {
    for body in breakfast_outputs(true, "/async_sensitive_view_nested/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(false, "/async_sensitive_view_nested/").await {
        verify_safe(&body);
    }
}

#[tokio::test]
async fn test_paranoid_request() {
    for body in breakfast_outputs(true, "/paranoid_view/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(false, "/paranoid_view/").await {
        verify_paranoid(&body);
    }
}

#[tokio::test]
async fn test_custom_exception_reporter_filter() {
    for debug in [true, false] {
        for body in breakfast_outputs(debug, "/custom_exception_reporter_filter_view/").await {
            verify_unsafe(&body);
        }
    }
}

/// Adapted: a JSON client gets the JSON report (Django: the text report).
#[tokio::test]
async fn test_non_html_response_encoding() {
    let site = Site::new(true);
    let addr = site.serve().await;
    let answer = http_get(addr, "/raises500/", Some("application/json")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.content_type, "application/json");
    let report: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(report["exception_value"], "raises500");
}

// ---------------------------------------------------------------------------------------
// DebugViewTests

async fn debug_site() -> std::net::SocketAddr {
    Site::new(true).serve().await
}

/// POST `/raises/` with an upload: its name is shown, its content never.
#[tokio::test]
async fn test_files() {
    let addr = debug_site().await;
    assert_eq!(http_get(addr, "/raises500/", None).await.status, 500);
    let body = "--B\r\nContent-Disposition: form-data; name=\"file_data.txt\"; filename=\"file_data.txt\"\r\n\
                Content-Type: text/plain\r\n\r\nhaha\r\n--B--\r\n";
    let answer = web::answer(
        web::client()
            .post(format!("http://{addr}/raises/"))
            .header("content-type", "multipart/form-data; boundary=B")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("file_data.txt"));
    assert!(!answer.body.contains("haha"));
}

/// A reported 400: the technical page with the status (Django's `SuspiciousOperation`).
#[tokio::test]
async fn test_400() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/raises400/", None).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body.contains("<div class=\"context\" id=\""),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("Malformed request syntax"));
}

/// A 403 gets the 403 page, also in debug mode.
#[tokio::test]
async fn test_403() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/raises403/", None).await;
    assert_eq!(answer.status, 403);
    assert!(
        answer.body.contains("<h1>403 Forbidden</h1>"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("Insufficient Permissions"));
}

/// A handler's bare 404: no reason shown.
#[tokio::test]
async fn test_404() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/raises404/", None).await;
    assert_eq!(answer.status, 404);
    assert!(!answer.body.contains("<pre class=\"exception_value\">"));
    assert!(
        answer
            .body
            .contains("<p>The current path, <code>/raises404/</code>, matched the last one.</p>"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn test_404_not_in_urls() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/not-in-urls", None).await;
    assert_eq!(answer.status, 404);
    assert!(!answer.body.contains("Raised by:"));
    assert!(!answer.body.contains("<pre class=\"exception_value\">"));
    assert!(answer.body.contains("routes were tried in this order"));
    for route in ROUTES {
        assert!(
            answer
                .body
                .contains(&format!("<li><code>{route}</code></li>"))
        );
    }
    assert!(answer.body.contains(
        "<p>The current path, <code>/not-in-urls</code>, didn’t match any of these.</p>"
    ));
}

/// Adapted: routes begin with `/`, so the empty path is `/`.
#[tokio::test]
async fn test_404_empty_path_not_in_urls() {
    let app = Router::new()
        .route("/url/", get(|| async { "url" }))
        .layer(ErrorReportLayer::new().debug(true).routes(["/url/"]));
    let addr = serve(app).await;
    let answer = http_get(addr, "/", None).await;
    assert_eq!(answer.status, 404);
    assert!(
        answer
            .body
            .contains("<p>The current path, <code>/</code>, didn’t match any of these.</p>")
    );
}

#[tokio::test]
async fn test_technical_404() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/technical404/", None).await;
    assert_eq!(answer.status, 404);
    for landmark in [
        "<header id=\"summary\">",
        "<main id=\"info\">",
        "<footer id=\"explanation\">",
    ] {
        assert!(answer.body.contains(landmark), "{landmark}");
    }
    assert!(
        answer
            .body
            .contains("<pre class=\"exception_value\">Testing technical 404.</pre>")
    );
    assert!(
        answer
            .body
            .contains("<th scope=\"row\">Raised by:</th><td>/technical404/</td>")
    );
    // The routes tried up to the one that answered.
    assert!(answer.body.contains("<li><code>/technical404/</code></li>"));
    assert!(!answer.body.contains("<li><code>/raises500/</code></li>"));
    assert!(
        answer.body.contains(
            "<p>The current path, <code>/technical404/</code>, matched the last one.</p>"
        )
    );
}

#[tokio::test]
async fn test_technical_500() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/raises500/", None).await;
    assert_eq!(answer.status, 500);
    for landmark in [
        "<header id=\"summary\">",
        "<main id=\"info\">",
        "<footer id=\"explanation\">",
    ] {
        assert!(answer.body.contains(landmark), "{landmark}");
    }
    assert!(
        answer
            .body
            .contains("<th scope=\"row\">Raised during:</th><td>/raises500/</td>")
    );
    let answer = http_get(addr, "/raises500/", Some("text/plain")).await;
    assert!(answer.body.contains("Raised during: /raises500/"));
}

/// Adapted: HTML is declared `text/html; charset=utf-8`.
#[tokio::test]
async fn test_technical_500_content_type_negotiation() {
    let addr = debug_site().await;
    for (accept, content_type) in [
        ("text/plain", "text/plain; charset=utf-8"),
        ("text/html", "text/html; charset=utf-8"),
        ("text/html,text/plain;q=0.9", "text/html; charset=utf-8"),
        ("text/plain,text/html;q=0.9", "text/plain; charset=utf-8"),
        ("text/*", "text/html; charset=utf-8"),
    ] {
        let answer: Answer = http_get(addr, "/raises500/", Some(accept)).await;
        assert_eq!(answer.status, 500, "{accept}");
        assert_eq!(answer.content_type, content_type, "{accept}");
    }
}

#[tokio::test]
async fn test_non_l10ned_numeric_ids() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/raises500/", None).await;
    let ids = regex::Regex::new(r#"<div class="context" id="(c[0-9]+)">"#).unwrap();
    let found: Vec<&str> = ids
        .captures_iter(&answer.body)
        .map(|captures| captures.get(1).unwrap().as_str())
        .collect();
    assert!(!found.is_empty(), "{}", answer.body);
    assert!(
        found
            .iter()
            .all(|id| !id.contains(',') && !id.contains('.'))
    );
}

/// The message `<script>alert(1);</script>` is escaped wherever it is shown: the summary,
/// the exception value and the copy-and-paste view (Django's three), and the Markdown the
/// copy button copies.
#[tokio::test]
async fn test_safestring_in_exception() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/xss/", None).await;
    assert!(!answer.body.contains("<script>alert(1);</script>"));
    assert_eq!(
        answer
            .body
            .matches("&#60;script&#62;alert(1);&#60;/script&#62;")
            .count(),
        4,
        "{}",
        answer.body
    );
}

/// Adapted: Django's single-pattern URLconf is a router with one route.
#[tokio::test]
async fn test_regression_21530() {
    let app = Router::new()
        .route("/index/", get(|| async { "index" }))
        .layer(ErrorReportLayer::new().debug(true).routes(["/index/"]));
    let addr = serve(app).await;
    let answer = http_get(addr, "/", None).await;
    assert_eq!(answer.status, 404);
    assert!(answer.body.contains("Page not found <small>(404)</small>"));
}

#[tokio::test]
async fn test_exception_reporter_from_request() {
    let addr = debug_site().await;
    let answer = http_get(addr, "/custom_reporter_class_view/", None).await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("custom traceback text"));
}

#[tokio::test]
async fn test_exception_reporter_from_settings() {
    let app = Router::new().route("/raises500/", get(raises500)).layer(
        ErrorReportLayer::new()
            .debug(true)
            .debug_page_renderer(CustomExceptionReporter),
    );
    let addr = serve(app).await;
    let answer = http_get(addr, "/raises500/", None).await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("custom traceback text"));
}

#[tokio::test]
async fn test_template_override_exception_reporter() {
    let app = Router::new().route("/raises500/", get(raises500)).layer(
        ErrorReportLayer::new()
            .debug(true)
            .debug_page_renderer(TemplateOverrideExceptionReporter),
    );
    let addr = serve(app).await;
    let html = http_get(addr, "/raises500/", None).await;
    assert!(html.body.contains("<h1>Oh no, an error occurred!</h1>"));
    let text = http_get(addr, "/raises500/", Some("text/plain")).await;
    assert!(text.body.contains("Oh dear, an error occurred!"));
}

/// The session cookie's value is never shown.
#[tokio::test]
async fn test_cleanse_session_cookie_value() {
    let addr = debug_site().await;
    let answer = web::answer(
        web::client()
            .get(format!("http://{addr}/raises500/"))
            .header("cookie", "sessionid=should not be displayed")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("sessionid"));
    assert!(!answer.body.contains("should not be displayed"));
}
