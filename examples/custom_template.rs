//! Reports rendered with the application's own askama templates: the debug page of the web
//! layer, the admin email and the panic hook's log text.
//!
//! ```sh
//! cargo run --features axum --example custom_template
//! ```
//!
//! It answers one request that panics through the layer in debug mode (the page is the
//! template's), mails one report to an in-memory outbox (the email's text and HTML are the
//! template's), and prints both. The template only ever gets the filtered [`Report`]: the
//! API key in the frame's variables shows as the substitute.

use std::error::Error;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use safe_report::integrations::tower::ErrorReportLayer;
use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend};
use safe_report::render::{ReportTemplate, TemplateError};
use safe_report::{Capture, Format, Frame, Report};
use tower::ServiceExt;

/// The debug page and the email's HTML: askama escapes every value (`ext = "html"`).
#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body>
<h1>{{ title }}</h1>
{% if let Some(value) = report.exception_value %}<p class="message">{{ value }}</p>{% endif %}
{% if let Some(request) = report.request %}<p class="request">{{ request.method }} {{ request.path }}</p>{% endif %}
<ol class="frames">
{% for frame in report.frames %}{% if frame.in_app %}<li><code>{{ frame.function }}</code> at {{ frame.file }}{% if let Some(line) = frame.line %}:{{ line }}{% endif %}
<dl>{% for var in frame.vars %}<dt>{{ var.name }}</dt><dd>{{ var.value }}</dd>{% endfor %}</dl></li>
{% endif %}{% endfor %}
</ol>
<p class="footer">{% if for_email %}Sent by the shop's error reports.{% else %}Shown because debug mode is on.{% endif %}</p>
</body></html>
"#
)]
struct ShopPage<'a> {
    report: &'a Report,
    title: String,
    for_email: bool,
}

/// The email's text and the logged text.
#[derive(Template)]
#[template(
    ext = "txt",
    source = "[shop] {{ title }}\n{% for frame in report.frames %}{% if frame.in_app %}  at {{ frame.function }}\n{% for var in frame.vars %}    {{ var.name }} = {{ var.value }}\n{% endfor %}{% endif %}{% endfor %}"
)]
struct ShopText<'a> {
    report: &'a Report,
    title: String,
}

/// The shop's templates: HTML page and emails of its own, text and JSON pages ours.
struct Shop;

fn title(report: &Report) -> String {
    let kind = report.exception_type.as_deref().unwrap_or("Report");
    match &report.raised_during {
        Some(route) => format!("{kind} in {route}"),
        None => kind.to_owned(),
    }
}

impl ReportTemplate for Shop {
    fn page(&self, report: &Report, format: Format) -> Result<String, TemplateError> {
        match format {
            Format::Html => Ok(ShopPage {
                report,
                title: title(report),
                for_email: false,
            }
            .render()?),
            other => Ok(report.render(other)),
        }
    }

    fn email_text(&self, report: &Report) -> Result<String, TemplateError> {
        Ok(ShopText {
            report,
            title: title(report),
        }
        .render()?)
    }

    fn email_html(&self, report: &Report) -> Result<Option<String>, TemplateError> {
        let page = ShopPage {
            report,
            title: title(report),
            for_email: true,
        };
        Ok(Some(page.render()?))
    }

    fn log_text(&self, report: &Report) -> Result<String, TemplateError> {
        self.email_text(report)
    }
}

fn charge(api_key: &str) -> &'static str {
    safe_report::vars!(api_key).run(|| panic!("the card was declined"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The hook captures each panic's frames and variables for the layer; its own reports
    // (panics outside a request) are rendered with the same templates.
    let _hook = safe_report::panic::HookBuilder::new()
        .template(Shop)
        .install();

    // The debug page, through the layer.
    let app = Router::new()
        .route(
            "/charge",
            get(|| async { charge("sk_live_4eC39HqLyjWDarjtT1zdp7dc") }),
        )
        .layer(ErrorReportLayer::new().debug(true).template(Shop));
    let request = Request::get("/charge")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())?;
    let response = app.oneshot(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
    let page = String::from_utf8_lossy(&body);
    println!("--- the debug page ({status}) ---\n{page}");
    assert!(page.contains("Shown because debug mode is on."));
    assert!(!page.contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));

    // The admin email, through the notifier.
    let outbox = MemoryBackend::new();
    let config = MailConfig::builder()
        .admins(["ops@shop.example"])
        .include_html(true)
        .build()?;
    let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
    let notifier = AdminNotifier::new(mailer.clone()).template(Shop);
    let capture = Capture::error("PaymentError", "declined").with_frame(
        Frame::new("shop::charge", "src/charge.rs", 42)
            .var("api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    );
    notifier.notify(Level::Error, "payment failed", capture);
    mailer.flush(Duration::from_secs(10));
    for email in outbox.messages() {
        println!("--- the email: {} ---\n{}", email.subject(), email.text());
        println!(
            "--- its HTML part ---\n{}",
            email.html().unwrap_or_default()
        );
        assert!(!email.text().contains("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
    }
    Ok(())
}
