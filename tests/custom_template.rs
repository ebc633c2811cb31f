//! The application's own templates: the web layer's debug page (real HTTP on 127.0.0.1)
//! and the admin email are the template's, from the filtered report: a secret in the
//! request or in a frame's variables shows as the substitute there too. A template that
//! fails leaves our rendering in its place.
#![cfg(feature = "axum")]

mod web;

use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::routing::get;
use safe_report::integrations::tower::ErrorReportLayer;
use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend};
use safe_report::render::{ReportTemplate, TemplateError};
use safe_report::{Capture, DEFAULT_SUBSTITUTE, Format, Frame, Report};
use web::{get as http_get, serve};

const SECRET: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

#[derive(Template)]
#[template(
    ext = "html",
    source = "<h1 id=\"house\">{{ report.exception_type.as_deref().unwrap_or(\"?\") }}: {{ report.exception_value.as_deref().unwrap_or(\"\") }}</h1>\
{% if let Some(request) = report.request %}{% for entry in request.get %}<p class=\"get\">{{ entry.name }}={{ entry.value }}</p>{% endfor %}{% endif %}\
{% for frame in report.frames %}{% for var in frame.vars %}<p class=\"var\">{{ var.name }}={{ var.value }}</p>{% endfor %}{% endfor %}"
)]
struct HousePage<'a> {
    report: &'a Report,
}

#[derive(Template)]
#[template(
    ext = "txt",
    source = "HOUSE {{ report.exception_type.as_deref().unwrap_or(\"?\") }}\
{% for frame in report.frames %}{% for var in frame.vars %}\n{{ var.name }}={{ var.value }}{% endfor %}{% endfor %}"
)]
struct HouseText<'a> {
    report: &'a Report,
}

struct House;

impl ReportTemplate for House {
    fn page(&self, report: &Report, format: Format) -> Result<String, TemplateError> {
        match format {
            Format::Html => Ok(HousePage { report }.render()?),
            other => Ok(report.render(other)),
        }
    }

    fn email_text(&self, report: &Report) -> Result<String, TemplateError> {
        Ok(HouseText { report }.render()?)
    }

    fn email_html(&self, report: &Report) -> Result<Option<String>, TemplateError> {
        Ok(Some(HousePage { report }.render()?))
    }
}

/// Fails at everything: our rendering is used instead.
struct Broken;

impl ReportTemplate for Broken {
    fn page(&self, _: &Report, _: Format) -> Result<String, TemplateError> {
        Err("the template is missing".into())
    }

    fn email_text(&self, _: &Report) -> Result<String, TemplateError> {
        panic!("the template panicked")
    }
}

fn app(layer: ErrorReportLayer) -> Router {
    Router::new()
        .route(
            "/charge",
            get(|| async { panic!("the card was declined") as &'static str }),
        )
        .layer(layer)
}

fn outbox(html: bool) -> (Mailer, MemoryBackend) {
    let memory = MemoryBackend::new();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .include_html(html)
        .build()
        .unwrap();
    let mailer = Mailer::builder(config)
        .backend(memory.clone())
        .build()
        .unwrap();
    (mailer, memory)
}

#[tokio::test]
async fn the_layer_answers_with_the_templates_debug_page_without_the_secret() {
    let addr = serve(app(ErrorReportLayer::new().debug(true).template(House))).await;
    let path = format!("/charge?api_key={SECRET}&order=ord_42");
    let page = http_get(addr, &path, Some("text/html")).await;
    assert_eq!(page.status, 500);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    assert!(
        page.body
            .starts_with("<h1 id=\"house\">panic: the card was declined</h1>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!(
            "<p class=\"get\">api_key=&#34;{DEFAULT_SUBSTITUTE}&#34;</p>"
        )),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<p class=\"get\">order=&#34;ord_42&#34;</p>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(SECRET), "{}", page.body);

    // The formats the template leaves to us are ours.
    let text = http_get(addr, &path, Some("text/plain")).await;
    assert!(text.body.starts_with("panic at /charge\n"), "{}", text.body);
    assert!(!text.body.contains(SECRET));
}

#[tokio::test]
async fn the_layer_mails_with_the_template_given_to_it() {
    let (mailer, memory) = outbox(true);
    let layer = ErrorReportLayer::new()
        .notifier(AdminNotifier::new(mailer.clone()))
        .template(House);
    let addr = serve(app(layer)).await;
    let page = http_get(addr, &format!("/charge?api_key={SECRET}"), None).await;
    assert_eq!(page.status, 500);
    assert!(!page.body.contains("house"), "the production page is ours");
    // The report is built on the report worker, then mailed by the mail worker.
    assert!(safe_report::runtime::background::flush(
        Duration::from_secs(30)
    ));
    assert!(mailer.flush(Duration::from_secs(10)));
    let emails = memory.messages();
    assert_eq!(emails.len(), 1);
    assert_eq!(
        emails[0].text(),
        "Internal Server Error: /charge\n\nHOUSE panic"
    );
    let html = emails[0].html().unwrap();
    assert!(
        html.contains(&format!("api_key=&#34;{DEFAULT_SUBSTITUTE}&#34;")),
        "{html}"
    );
    assert!(!html.contains(SECRET), "{html}");
}

#[test]
fn the_notifier_mails_the_templates_text_and_html_without_the_secret() {
    let (mailer, memory) = outbox(true);
    let notifier = AdminNotifier::new(mailer.clone()).template(House);
    let capture = Capture::error("PaymentError", "declined")
        .with_frame(Frame::new("shop::charge", "src/charge.rs", 42).var("api_key", SECRET));
    notifier.notify(Level::Error, "payment failed", capture);
    assert!(mailer.flush(Duration::from_secs(10)));
    let emails = memory.messages();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].subject(), "[safe-report] ERROR: payment failed");
    assert_eq!(
        emails[0].text(),
        format!("payment failed\n\nHOUSE PaymentError\napi_key=\"{DEFAULT_SUBSTITUTE}\"")
    );
    let html = emails[0].html().unwrap();
    assert!(html.starts_with("<h1 id=\"house\">PaymentError: declined</h1>"));
    assert!(!html.contains(SECRET), "{html}");
}

#[test]
fn a_failing_template_leaves_our_email() {
    let (mailer, memory) = outbox(true);
    let notifier = AdminNotifier::new(mailer.clone()).template(Broken);
    let capture = Capture::error("PaymentError", "declined")
        .with_frame(Frame::new("shop::charge", "src/charge.rs", 42).var("api_key", SECRET));
    notifier.notify(Level::Error, "payment failed", capture);
    assert!(mailer.flush(Duration::from_secs(10)));
    let emails = memory.messages();
    assert_eq!(emails.len(), 1);
    assert!(
        emails[0]
            .text()
            .starts_with("payment failed\n\nPaymentError\ndeclined\n"),
        "{}",
        emails[0].text()
    );
    // Its HTML method was not overridden: ours.
    assert!(emails[0].html().unwrap().contains("<!DOCTYPE html>"));
    assert!(!emails[0].text().contains(SECRET));
}

#[tokio::test]
async fn a_failing_template_leaves_our_debug_page() {
    let addr = serve(app(ErrorReportLayer::new().debug(true).template(Broken))).await;
    let page = http_get(addr, "/charge", Some("text/html")).await;
    assert_eq!(page.status, 500);
    assert!(page.body.contains("the card was declined"), "{}", page.body);
    assert!(page.body.contains("<!DOCTYPE html>"), "{}", page.body);
}
