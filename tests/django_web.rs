//! Django's `DebugViewTests` and `NonHTMLResponseExceptionReporterFilter`
//! (`tests/view_tests/tests/test_debug.py`), the cases that apply, through real HTTP on
//! 127.0.0.1, against both frameworks: every case runs once against axum routes behind the
//! tower layer (module `axum`) and once against the same routes served by actix-web behind
//! the actix middleware (module `actix`, with the `actix` feature). The fixtures (the views'
//! logic, the filters, the reporters, the settings and the expectations) are written once;
//! only the route wiring differs per framework.
//!
//! Adaptations:
//! - Django's views answer with `technical_500_response` themselves, also with `DEBUG`
//!   off; the layer shows the technical page only in debug mode. With debug off these
//!   tests check what Django's `send_log` checks: the admin email (text and HTML).
//! - Routes are paths (`/raises500/`), shown where Django shows view names.
//! - `Accept: application/json` gets the JSON report here (Django: the text report).
//! - The reports are built with `SafeReporterFilter::django()`, Django's rules alone
//!   (the default filter would also hide `sausage-key`, whose name contains `key`).
//! - Not applicable: class-based views, templates and template loaders, the default
//!   URLconf page, path converters, `FORCE_SCRIPT_NAME`, the template encoding.
//! - Every case that applies to axum applies to actix-web as well.
#![cfg(feature = "axum")]

mod web;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

use safe_report::integrations::web::{DebugPageRenderer, ReportedError, RequestReport};
use safe_report::mail::{AdminNotifier, Email, MailConfig, Mailer, MemoryBackend};
use safe_report::{
    Capture, FilterContext, Format, Named, ReporterFilter, RequestInfo, Rule, SafeReporterFilter,
    SensitiveNames, Shown,
};
use serde_json::Value;
use web::{Answer, get as http_get, post_form};

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

/// The views' logic, whatever the framework. The framework modules below read the POST
/// data (as Django's views do) with their own extractors, then call these.
mod views {
    use super::*;

    /// Django's views: (after reading the POST data) raise `Exception`.
    pub fn view() -> Result<(), ReportedError> {
        Err(Exception("raised by the view".into()))?
    }

    /// `async_sensitive_view_nested`: not decorated; the function it awaits declares the
    /// sensitive POST parameters on the request, then raises.
    pub async fn nested_view(report: RequestReport) -> Result<(), ReportedError> {
        async_sensitive_function(&report).await
    }

    async fn async_sensitive_function(report: &RequestReport) -> Result<(), ReportedError> {
        report.sensitive_post_parameters(SensitiveNames::names(["bacon-key", "sausage-key"]));
        Err(Exception("raised by the nested function".into()))?
    }

    /// `custom_exception_reporter_filter_view`: paranoid, but the request's filter shows all.
    pub fn custom_filter_view(report: RequestReport) -> Result<(), ReportedError> {
        report.filter(UnsafeExceptionReporterFilter(SafeReporterFilter::django()));
        Err(Exception("raised by the view".into()))?
    }

    /// `custom_reporter_class_view`: the request's reporter is `CustomExceptionReporter`.
    pub async fn custom_reporter_class_view(report: RequestReport) -> Result<(), ReportedError> {
        report.reporter(CustomExceptionReporter);
        raises500().await
    }

    /// `technical404`: Django's `raise Http404("Testing technical 404.")`.
    pub async fn technical404() -> Result<(), ReportedError> {
        Err(ReportedError::not_found("Testing technical 404."))
    }

    pub async fn raises500() -> Result<(), ReportedError> {
        Err(Exception("raises500".into()))?
    }

    /// `/raises/`: raises after reading the body (an upload).
    pub fn raises_with_files(read: usize) -> Result<(), ReportedError> {
        Err(Exception(format!("raises after reading {read} bytes")))?
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct SuspiciousOperation(String);

    pub async fn raises400() -> Result<(), ReportedError> {
        Err(
            ReportedError::traced(SuspiciousOperation("Malformed request syntax".into()))
                .with_status(http::StatusCode::BAD_REQUEST),
        )
    }

    pub async fn raises403() -> Result<(), ReportedError> {
        Err(
            ReportedError::traced(Exception("Insufficient Permissions".into()))
                .with_status(http::StatusCode::FORBIDDEN),
        )
    }

    pub async fn xss() -> Result<(), ReportedError> {
        // Built from pieces, so that the source lines shown do not hold it (as Django's views).
        let tag = "script";
        Err(Exception(format!("<{tag}>alert(1);</{tag}>")))?
    }
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

/// The POST parameters `/sensitive_view/` and `/async_sensitive_view/` declare sensitive
/// (Django's `@sensitive_post_parameters("bacon-key", "sausage-key")`).
fn sensitive_names() -> SensitiveNames {
    SensitiveNames::names(["bacon-key", "sausage-key"])
}

// ---------------------------------------------------------------------------------------
// The sites: which routes, and what the layer or middleware is given.

/// The routes a test serves.
#[derive(Clone, Copy)]
enum Routes {
    /// Django's test URLconf for these views.
    Django,
    /// One route answering `ok` (Django's single-pattern URLconf).
    One(&'static str),
    /// `/raises500/` alone.
    Raises500,
}

/// A debug page renderer chosen for the whole site (Django's `DEFAULT_EXCEPTION_REPORTER`).
#[derive(Clone, Copy)]
enum Renderer {
    Custom,
    TemplateOverride,
}

/// The settings of the error-report layer or middleware, the same for both frameworks.
#[derive(Clone, Default)]
struct Settings {
    debug: bool,
    /// `SafeReporterFilter::django()` for every report.
    django_filter: bool,
    notifier: Option<Mailer>,
    routes: Option<&'static [&'static str]>,
    renderer: Option<Renderer>,
}

/// `$reports` (an `ErrorReportLayer` or an `ErrorReportMiddleware`: the same builder
/// methods) with `$settings`.
macro_rules! configured {
    ($reports:expr, $settings:expr) => {{
        let settings: &Settings = $settings;
        let mut reports = $reports.debug(settings.debug);
        if settings.django_filter {
            reports = reports.filter(SafeReporterFilter::django());
        }
        if let Some(mailer) = &settings.notifier {
            reports = reports.notifier(AdminNotifier::new(mailer.clone()));
        }
        if let Some(routes) = settings.routes {
            reports = reports.routes(routes.iter().copied());
        }
        match settings.renderer {
            Some(Renderer::Custom) => reports.debug_page_renderer(CustomExceptionReporter),
            Some(Renderer::TemplateOverride) => {
                reports.debug_page_renderer(TemplateOverrideExceptionReporter)
            }
            None => reports,
        }
    }};
}

/// axum routes behind the tower layer.
mod axum_site {
    use std::collections::HashMap;

    use ::axum::Router;
    use ::axum::body::Bytes;
    use ::axum::extract::Form;
    use ::axum::http::StatusCode;
    use ::axum::routing::{get, post};
    use safe_report::integrations::tower::{ErrorReportLayer, ReportOverridesLayer};

    use super::*;

    type Post = Form<HashMap<String, String>>;

    async fn view(_post: Post) -> Result<(), ReportedError> {
        views::view()
    }

    async fn nested_view(report: RequestReport, _post: Post) -> Result<(), ReportedError> {
        views::nested_view(report).await
    }

    async fn custom_filter_view(report: RequestReport, _post: Post) -> Result<(), ReportedError> {
        views::custom_filter_view(report)
    }

    async fn raises_with_files(body: Bytes) -> Result<(), ReportedError> {
        views::raises_with_files(body.len())
    }

    fn django() -> Router {
        let sensitive = ReportOverridesLayer::new().sensitive_post_parameters(sensitive_names());
        let paranoid = ReportOverridesLayer::new().sensitive_post_parameters(SensitiveNames::All);
        Router::new()
            .route("/technical404/", get(views::technical404))
            .route("/raises500/", get(views::raises500))
            .route("/raises/", post(raises_with_files))
            .route("/raises404/", get(|| async { StatusCode::NOT_FOUND }))
            .route("/raises400/", get(views::raises400))
            .route("/raises403/", get(views::raises403))
            .route("/xss/", get(views::xss))
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
                get(views::custom_reporter_class_view),
            )
    }

    pub async fn serve(routes: Routes, settings: &Settings) -> SocketAddr {
        let router = match routes {
            Routes::Django => django(),
            Routes::One(path) => Router::new().route(path, get(|| async { "ok" })),
            Routes::Raises500 => Router::new().route("/raises500/", get(views::raises500)),
        };
        crate::web::serve(router.layer(configured!(ErrorReportLayer::new(), settings))).await
    }
}

/// The same routes served by actix-web behind the actix middleware.
#[cfg(feature = "actix")]
mod actix_site {
    use std::collections::HashMap;

    use actix_web::web::{self, Bytes, Form};
    use actix_web::{App, HttpResponse};
    use safe_report::integrations::actix::{ErrorReportMiddleware, ReportOverridesMiddleware};

    use super::*;

    type Post = Form<HashMap<String, String>>;

    async fn view(_post: Post) -> Result<(), ReportedError> {
        views::view()
    }

    async fn nested_view(report: RequestReport, _post: Post) -> Result<(), ReportedError> {
        views::nested_view(report).await
    }

    async fn custom_filter_view(report: RequestReport, _post: Post) -> Result<(), ReportedError> {
        views::custom_filter_view(report)
    }

    async fn raises_with_files(body: Bytes) -> Result<(), ReportedError> {
        views::raises_with_files(body.len())
    }

    /// A resource whose POST handler is `handler`, wrapped in `overrides`.
    macro_rules! post_with {
        ($path:expr, $overrides:expr, $handler:expr) => {
            web::resource($path)
                .wrap($overrides)
                .route(web::post().to($handler))
        };
    }

    pub fn serve(routes: Routes, settings: &Settings) -> crate::web::ActixServer {
        let middleware = configured!(ErrorReportMiddleware::new(), settings);
        crate::web::serve_actix(move || {
            let app = App::new();
            let app = match routes {
                Routes::Django => {
                    let sensitive = ReportOverridesMiddleware::new()
                        .sensitive_post_parameters(sensitive_names());
                    let paranoid = ReportOverridesMiddleware::new()
                        .sensitive_post_parameters(SensitiveNames::All);
                    app.route("/technical404/", web::get().to(views::technical404))
                        .route("/raises500/", web::get().to(views::raises500))
                        .route("/raises/", web::post().to(raises_with_files))
                        .route(
                            "/raises404/",
                            web::get().to(|| async { HttpResponse::NotFound().finish() }),
                        )
                        .route("/raises400/", web::get().to(views::raises400))
                        .route("/raises403/", web::get().to(views::raises403))
                        .route("/xss/", web::get().to(views::xss))
                        .route("/non_sensitive_view/", web::post().to(view))
                        .service(post_with!("/sensitive_view/", sensitive.clone(), view))
                        .service(post_with!("/async_sensitive_view/", sensitive, view))
                        .route("/async_sensitive_view_nested/", web::post().to(nested_view))
                        .service(post_with!("/paranoid_view/", paranoid.clone(), view))
                        .service(post_with!(
                            "/custom_exception_reporter_filter_view/",
                            paranoid,
                            custom_filter_view
                        ))
                        .route(
                            "/custom_reporter_class_view/",
                            web::get().to(views::custom_reporter_class_view),
                        )
                }
                Routes::One(path) => app.route(path, web::get().to(|| async { "ok" })),
                Routes::Raises500 => app.route("/raises500/", web::get().to(views::raises500)),
            };
            app.wrap(middleware.clone())
        })
    }
}

/// The framework a case runs against.
#[derive(Clone, Copy)]
enum Framework {
    Axum,
    #[cfg(feature = "actix")]
    Actix,
}

/// A site being served (an actix-web server stops when this is dropped).
struct Served {
    addr: SocketAddr,
    #[cfg(feature = "actix")]
    _actix: Option<crate::web::ActixServer>,
}

impl Framework {
    async fn serve(self, routes: Routes, settings: &Settings) -> Served {
        match self {
            Framework::Axum => Served {
                addr: axum_site::serve(routes, settings).await,
                #[cfg(feature = "actix")]
                _actix: None,
            },
            #[cfg(feature = "actix")]
            Framework::Actix => {
                let server = actix_site::serve(routes, settings);
                Served {
                    addr: server.addr,
                    _actix: Some(server),
                }
            }
        }
    }
}

/// Django's test site with its outbox.
struct Site {
    served: Served,
    outbox: MemoryBackend,
    mailer: Mailer,
}

impl Site {
    async fn start(framework: Framework, debug: bool) -> Self {
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
        let settings = Settings {
            debug,
            django_filter: true,
            notifier: Some(mailer.clone()),
            routes: Some(&ROUTES),
            renderer: None,
        };
        Self {
            served: framework.serve(Routes::Django, &settings).await,
            outbox,
            mailer,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.served.addr
    }

    fn emails(&self) -> Vec<Email> {
        assert!(self.mailer.flush(Duration::from_secs(10)));
        self.outbox.messages()
    }
}

/// Each case, once per framework.
macro_rules! for_both_frameworks {
    ($($test:ident),* $(,)?) => {
        mod axum {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Framework::Axum).await;
            })*
        }
        #[cfg(feature = "actix")]
        mod actix {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Framework::Actix).await;
            })*
        }
    };
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
async fn breakfast_outputs(framework: Framework, debug: bool, path: &str) -> Vec<String> {
    let site = Site::start(framework, debug).await;
    let addr = site.addr();
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

async fn test_non_sensitive_request(framework: Framework) {
    for debug in [true, false] {
        for body in breakfast_outputs(framework, debug, "/non_sensitive_view/").await {
            verify_unsafe(&body);
        }
    }
}

async fn test_sensitive_request(framework: Framework) {
    for body in breakfast_outputs(framework, true, "/sensitive_view/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(framework, false, "/sensitive_view/").await {
        verify_safe(&body);
    }
}

async fn test_async_sensitive_request(framework: Framework) {
    for body in breakfast_outputs(framework, true, "/async_sensitive_view/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(framework, false, "/async_sensitive_view/").await {
        verify_safe(&body);
    }
}

async fn test_async_sensitive_request_nested(framework: Framework) {
    for body in breakfast_outputs(framework, true, "/async_sensitive_view_nested/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(framework, false, "/async_sensitive_view_nested/").await {
        verify_safe(&body);
    }
}

async fn test_paranoid_request(framework: Framework) {
    for body in breakfast_outputs(framework, true, "/paranoid_view/").await {
        verify_unsafe(&body);
    }
    for body in breakfast_outputs(framework, false, "/paranoid_view/").await {
        verify_paranoid(&body);
    }
}

async fn test_custom_exception_reporter_filter(framework: Framework) {
    for debug in [true, false] {
        for body in
            breakfast_outputs(framework, debug, "/custom_exception_reporter_filter_view/").await
        {
            verify_unsafe(&body);
        }
    }
}

/// Adapted: a JSON client gets the JSON report (Django: the text report).
async fn test_non_html_response_encoding(framework: Framework) {
    let site = Site::start(framework, true).await;
    let addr = site.addr();
    let answer = http_get(addr, "/raises500/", Some("application/json")).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.content_type, "application/json");
    let report: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(report["exception_value"], "raises500");
}

// ---------------------------------------------------------------------------------------
// DebugViewTests

async fn debug_site(framework: Framework) -> Site {
    Site::start(framework, true).await
}

/// POST `/raises/` with an upload: its name is shown, its content never.
async fn test_files(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_400(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_403(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_404(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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

async fn test_404_not_in_urls(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_404_empty_path_not_in_urls(framework: Framework) {
    let settings = Settings {
        debug: true,
        routes: Some(&["/url/"]),
        ..Settings::default()
    };
    let site = framework.serve(Routes::One("/url/"), &settings).await;
    let addr = site.addr;
    let answer = http_get(addr, "/", None).await;
    assert_eq!(answer.status, 404);
    assert!(
        answer
            .body
            .contains("<p>The current path, <code>/</code>, didn’t match any of these.</p>")
    );
}

async fn test_technical_404(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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

async fn test_technical_500(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_technical_500_content_type_negotiation(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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

async fn test_non_l10ned_numeric_ids(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_safestring_in_exception(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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
async fn test_regression_21530(framework: Framework) {
    let settings = Settings {
        debug: true,
        routes: Some(&["/index/"]),
        ..Settings::default()
    };
    let site = framework.serve(Routes::One("/index/"), &settings).await;
    let addr = site.addr;
    let answer = http_get(addr, "/", None).await;
    assert_eq!(answer.status, 404);
    assert!(answer.body.contains("Page not found <small>(404)</small>"));
}

async fn test_exception_reporter_from_request(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
    let answer = http_get(addr, "/custom_reporter_class_view/", None).await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("custom traceback text"));
}

async fn test_exception_reporter_from_settings(framework: Framework) {
    let settings = Settings {
        debug: true,
        renderer: Some(Renderer::Custom),
        ..Settings::default()
    };
    let site = framework.serve(Routes::Raises500, &settings).await;
    let addr = site.addr;
    let answer = http_get(addr, "/raises500/", None).await;
    assert_eq!(answer.status, 500);
    assert!(answer.body.contains("custom traceback text"));
}

async fn test_template_override_exception_reporter(framework: Framework) {
    let settings = Settings {
        debug: true,
        renderer: Some(Renderer::TemplateOverride),
        ..Settings::default()
    };
    let site = framework.serve(Routes::Raises500, &settings).await;
    let addr = site.addr;
    let html = http_get(addr, "/raises500/", None).await;
    assert!(html.body.contains("<h1>Oh no, an error occurred!</h1>"));
    let text = http_get(addr, "/raises500/", Some("text/plain")).await;
    assert!(text.body.contains("Oh dear, an error occurred!"));
}

/// The session cookie's value is never shown.
async fn test_cleanse_session_cookie_value(framework: Framework) {
    let site = debug_site(framework).await;
    let addr = site.addr();
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

for_both_frameworks!(
    test_non_sensitive_request,
    test_sensitive_request,
    test_async_sensitive_request,
    test_async_sensitive_request_nested,
    test_paranoid_request,
    test_custom_exception_reporter_filter,
    test_non_html_response_encoding,
    test_files,
    test_400,
    test_403,
    test_404,
    test_404_not_in_urls,
    test_404_empty_path_not_in_urls,
    test_technical_404,
    test_technical_500,
    test_technical_500_content_type_negotiation,
    test_non_l10ned_numeric_ids,
    test_safestring_in_exception,
    test_regression_21530,
    test_exception_reporter_from_request,
    test_exception_reporter_from_settings,
    test_template_override_exception_reporter,
    test_cleanse_session_cookie_value,
);
