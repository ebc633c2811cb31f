//! The shop demo on actix-web: the shop of `examples/demo.rs` (axum) behind the actix-web
//! error-report middleware, with the same routes, variables, settings and environment.
//!
//! ```sh
//! cargo run --example demo_actix --features actix,embed-sources,log                      # debug off
//! SAFE_REPORT_DEBUG=1 cargo run --example demo_actix --features actix,embed-sources,log  # the debug pages
//! ```
//!
//! Then open <http://127.0.0.1:8000/>. The environment:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SAFE_REPORT_DEMO_ADDR` | where to listen (`127.0.0.1:0` picks a port) | `127.0.0.1:8000` |
//! | `SAFE_REPORT_DEBUG` | `1` for debug mode | off |
//! | `SAFE_REPORT_EDITOR` | link each frame of the debug page to your editor: `vscode`, `idea`, `zed`, or a URL template with `{path}` and `{line}` | no links |
//! | `SAFE_REPORT_EDITOR_PATH_MAP` | where the demo's sources are on your machine, `DEPLOYED=LOCAL[, …]` (`/app=/home/me/src/safe-report`) | as the demo names them |
//! | `SAFE_REPORT_EMAIL_URL` | where mail goes | `console:` (printed on stdout) |
//! | `SAFE_REPORT_ADMINS` | who gets error reports | `admin@example.com` |
//! | `SAFE_REPORT_MANAGERS` | who gets broken-link reports | the admins |
//! | `SAFE_REPORT_SERVER_EMAIL` and the other `SAFE_REPORT_*` mail variables | see `docs/mail.md` | |
//! | `SAFE_REPORT_SENTRY_DSN` | also send every report to this Sentry-compatible server (built with `--features sentry`; see `docs/sentry.md`) | unset: email only |
//!
//! Routes: `GET /` links to the others; `GET /panic` logs `charging order ord_42` (a
//! breadcrumb), then panics two calls deep with the variables `order_id` and `card_number` (declared sensitive); `POST /login` (form
//! `username`, `password`, declared a sensitive POST parameter) fails with a database URL
//! holding a password in its message; `GET /error` returns an error with two causes
//! through `?`; every other path is a 404 (with a `Referer` from the same host, the
//! managers get a broken-link email).

use std::error::Error;
use std::time::Duration;

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::web::{self, Form, Html};
use actix_web::{App, HttpServer};
use safe_report::SensitiveNames;
use safe_report::integrations::actix::{
    ErrorReportMiddleware, ReportOverridesMiddleware, ReportedError,
};
use safe_report::mail::{AdminNotifier, BrokenLinkReporter, MailConfig, Mailer};
use safe_report::panic::Destination;
use safe_report::sinks::Sink;

/// The shop's settings, shown (filtered) in every report.
#[derive(serde::Serialize)]
#[allow(non_snake_case)]
struct Settings {
    DEBUG: bool,
    DATABASE_URL: &'static str,
    SECRET_KEY: &'static str,
    PAYMENT_GATEWAY: &'static str,
    ORDERS_PER_PAGE: u32,
}

const DATABASE_URL: &str = "postgres://shop:hunter2-db-pass@db.internal/shop";

const ROUTES: [&str; 5] = ["/", "/panic", "/login", "/error", "/log-error"];

pub fn main() -> Result<(), Box<dyn Error>> {
    actix_web::rt::System::new().block_on(serve())
}

async fn serve() -> Result<(), Box<dyn Error>> {
    // This file, compressed, in the binary: a deployed build shows source lines without
    // its source on the host.
    safe_report::embed_sources!("examples/demo_actix.rs").install();
    // Which deployment reports come from: SAFE_REPORT_ENVIRONMENT (staging, production) and
    // SAFE_REPORT_RELEASE, by default this crate's name and version.
    let _ = safe_report::Identity::from_env()
        .default_release(safe_report::release!())
        .install();
    // Reports also go to a Sentry-compatible server when SAFE_REPORT_SENTRY_DSN is set.
    let sentry = sentry_sink()?;
    let _flush_sentry = sentry
        .as_ref()
        .map(|sink| sink.shutdown_guard(Duration::from_secs(5)));
    // The panic hook captures each panic's frames and registered variables; the layer
    // joins that capture with the request. Panics outside requests go to standard error,
    // and to Sentry.
    let mut hook = safe_report::panic::HookBuilder::new();
    if let Some(sink) = &sentry {
        hook = hook
            .destination(Destination::Stderr)
            .destination(Destination::Sink(sink.clone()));
    }
    let _hook = hook.install();
    let debug = matches!(
        std::env::var("SAFE_REPORT_DEBUG").as_deref(),
        Ok("1" | "true" | "yes" | "on")
    );
    let editor = safe_report::EditorLinks::from_env()?;
    let config = mail_config()?;
    if !debug {
        // Like Django's `check --deploy`: what would go wrong in production, on stderr.
        for issue in safe_report::check_deploy(&config, safe_report::mail::DebugMode::Off) {
            eprintln!("safe-report check: {issue}");
        }
    }
    let mailer = Mailer::new(config)?;
    // `log::error!` records become admin emails too, as Django's AdminEmailHandler does.
    let _ = safe_report::integrations::log::ReportLogger::new()
        .notify(AdminNotifier::new(mailer.clone()))
        .install();
    let _flush_at_exit = mailer.shutdown_guard(Duration::from_secs(5));

    let addr = std::env::var("SAFE_REPORT_DEMO_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let middleware = middleware(debug, mailer, editor, sentry);
    // Two workers: enough for the demo, and as many as the axum demo's runtime would use
    // on a small machine.
    let server = HttpServer::new(move || app(middleware.clone()))
        .workers(2)
        .disable_signals()
        .bind(&addr)?;
    let local = server.addrs()[0];
    println!(
        "safe-report demo listening on http://{local}/ (debug {})",
        if debug { "on" } else { "off" }
    );
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        handle.stop(true).await;
    });
    server.await?;
    Ok(())
}

/// Mail settings: the `SAFE_REPORT_*` variables over the demo's defaults (the console
/// backend, `admin@example.com`, managers as admins).
fn mail_config() -> Result<MailConfig, Box<dyn Error>> {
    let admins = std::env::var("SAFE_REPORT_ADMINS").unwrap_or_else(|_| "admin@example.com".into());
    let managers = std::env::var("SAFE_REPORT_MANAGERS").unwrap_or_else(|_| admins.clone());
    Ok(MailConfig::builder()
        .vars([
            ("SAFE_REPORT_EMAIL_URL", "console:"),
            ("SAFE_REPORT_ADMINS", admins.as_str()),
            ("SAFE_REPORT_MANAGERS", managers.as_str()),
        ])?
        .env()?
        .build()?)
}

/// The Sentry sink, when `SAFE_REPORT_SENTRY_DSN` is set (and the `sentry` feature is on).
#[cfg(feature = "sentry")]
fn sentry_sink() -> Result<Option<Sink>, Box<dyn Error>> {
    match safe_report::sinks::SentryConfig::from_env()? {
        Some(config) => {
            let sink = Sink::sentry(config)?;
            println!("reports also go to the Sentry DSN in SAFE_REPORT_SENTRY_DSN");
            Ok(Some(sink))
        }
        None => Ok(None),
    }
}

#[cfg(not(feature = "sentry"))]
fn sentry_sink() -> Result<Option<Sink>, Box<dyn Error>> {
    if std::env::var_os("SAFE_REPORT_SENTRY_DSN").is_some() {
        println!("SAFE_REPORT_SENTRY_DSN is ignored: build the demo with --features sentry");
    }
    Ok(None)
}

/// The error-report middleware, configured for the shop.
fn middleware(
    debug: bool,
    mailer: Mailer,
    editor: Option<safe_report::EditorLinks>,
    sentry: Option<Sink>,
) -> ErrorReportMiddleware {
    let mut middleware = ErrorReportMiddleware::new()
        .debug(debug)
        .notifier(AdminNotifier::new(mailer.clone()))
        .broken_links(BrokenLinkReporter::new(mailer))
        .routes(ROUTES)
        .settings(&Settings {
            DEBUG: debug,
            DATABASE_URL,
            SECRET_KEY: "demo-secret-key-9f8e7d6c5b4a",
            PAYMENT_GATEWAY: "https://pay.example.com/v1",
            ORDERS_PER_PAGE: 20,
        });
    if let Some(editor) = editor {
        middleware = middleware.editor(editor);
    }
    if let Some(sink) = sentry {
        middleware = middleware.sink(sink);
    }
    middleware
}

/// The shop behind the error-report middleware.
fn app(
    middleware: ErrorReportMiddleware,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        // axum's limit for forms (actix-web's default is 16 KiB).
        .app_data(web::FormConfig::default().limit(2 * 1024 * 1024))
        .route("/", web::get().to(index))
        .route("/panic", web::get().to(checkout))
        .service(
            web::resource("/login")
                .wrap(
                    ReportOverridesMiddleware::new()
                        .sensitive_post_parameters(SensitiveNames::names(["password"])),
                )
                .route(web::post().to(login)),
        )
        .route("/error", web::get().to(order))
        .route("/log-error", web::get().to(log_error))
        .wrap(middleware)
}

async fn index() -> Html {
    Html::new(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>safe-report demo shop</title></head>
<body>
  <h1>safe-report demo shop</h1>
  <ul>
    <li><a href="/panic">/panic</a>: a panic two calls deep, with a card number in a variable</li>
    <li><a href="/error">/error</a>: an error with two causes, returned through <code>?</code></li>
    <li><a href="/log-error">/log-error</a>: an error logged through the <code>log</code> crate, answered with 200</li>
    <li><a href="/no-such-page">/no-such-page</a>: a broken link</li>
  </ul>
  <form method="post" action="/login">
    <p><label>User <input name="username" value="alice"></label>
       <label>Password <input name="password" type="password" value="correct horse"></label>
       <button>Log in</button> (fails: the user database is down)</p>
  </form>
</body>
</html>
"#,
    )
}

/// `GET /panic`: the checkout panics in the payment call.
async fn checkout() -> &'static str {
    let order_id = "ord_42";
    let card_number = "4111111111111111";
    log::info!("charging order {order_id}");
    // A token in a log line: the report's breadcrumb shows the substitute.
    log::info!("calling the gateway with Authorization: Bearer gw-7Hq2xKp9Lm4Zr8Tn");
    safe_report::vars!(order_id, card_number)
        .sensitive(&["card_number"])
        .run_async(async { place_order(order_id, card_number) })
        .await
}

#[inline(never)]
fn place_order(order_id: &str, card_number: &str) -> &'static str {
    charge(order_id, card_number)
}

#[inline(never)]
fn charge(order_id: &str, card_number: &str) -> &'static str {
    let last_digits = &card_number[card_number.len().saturating_sub(4)..];
    panic!("the payment gateway refused order {order_id} (card ending in {last_digits})");
}

/// `GET /log-error`: a failure the handler logs and gets over; the log record is reported.
async fn log_error() -> &'static str {
    log::error!("inventory sync failed for sku-17");
    "the inventory sync failed and was logged; the admins get an email\n"
}

#[derive(serde::Deserialize)]
struct Login {
    username: String,
    #[allow(dead_code)]
    password: String,
}

/// The user database is down.
#[derive(Debug, thiserror::Error)]
#[error("login of {username} failed: could not connect to {url}")]
struct LoginError {
    username: String,
    url: &'static str,
}

/// `POST /login`: reads the form, then fails.
async fn login(Form(login): Form<Login>) -> Result<Html, ReportedError> {
    Err(LoginError {
        username: login.username,
        url: DATABASE_URL,
    })?
}

#[derive(Debug, thiserror::Error)]
#[error("order {order_id} could not be loaded")]
struct OrderError {
    order_id: String,
    #[source]
    source: QueryError,
}

#[derive(Debug, thiserror::Error)]
#[error("the orders query failed")]
struct QueryError {
    #[source]
    source: std::io::Error,
}

/// `GET /error`: an error with two causes, through `?`, with the order id registered.
async fn order() -> Result<String, ReportedError> {
    let order_id = "ord_42";
    safe_report::vars!(order_id).run(|| Ok(load_order(order_id)?))
}

fn load_order(order_id: &str) -> Result<String, OrderError> {
    query_orders(order_id).map_err(|source| OrderError {
        order_id: order_id.to_owned(),
        source,
    })
}

fn query_orders(_order_id: &str) -> Result<String, QueryError> {
    Err(QueryError {
        source: std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connection to db.internal:5432 timed out",
        ),
    })
}
