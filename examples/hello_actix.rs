//! A hello-world actix-web service with the error-report middleware (or without it, for
//! comparison): the subject of `benches/overhead-actix.sh`.
//!
//! ```sh
//! cargo run --release --features actix --example hello_actix -- 127.0.0.1:8080
//! cargo run --release --features actix --example hello_actix -- 127.0.0.1:8081 --without-layer
//! ```
//!
//! `GET /` answers `Hello, World!`; `GET /panic` panics; `GET /error` returns an error value.
//! With the middleware, debug mode is off unless `--debug` is given, and error reports go to
//! a mailer that drops them (the null backend). One worker thread, as the axum hello's
//! server runs on one pinned core.

use std::error::Error;

use actix_web::{App, HttpServer, web};
use safe_report::integrations::actix::{ErrorReportMiddleware, ReportedError};
use safe_report::mail::{AdminNotifier, MailConfig, Mailer, NullBackend};

fn main() -> Result<(), Box<dyn Error>> {
    actix_web::rt::System::new().block_on(serve())
}

async fn serve() -> Result<(), Box<dyn Error>> {
    // As a service would: the hook captures each panic's frames for the middleware's report.
    let _hook = safe_report::panic::HookBuilder::new().install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|arg| arg == name);
    let addr = args
        .iter()
        .find(|arg| !arg.starts_with("--"))
        .map_or("127.0.0.1:8080", String::as_str)
        .to_owned();
    let workers = 1;
    if flag("--without-layer") {
        let server = HttpServer::new(|| {
            App::new()
                .route("/", web::get().to(hello))
                .route("/panic", web::get().to(panics))
                .route("/error", web::get().to(error))
        })
        .workers(workers)
        .bind(&addr)?;
        println!("hello listening on http://{}/", server.addrs()[0]);
        server.run().await?;
        return Ok(());
    }
    let config = MailConfig::builder()
        .admins(["admin@example.com"])
        .build()?;
    let mailer = Mailer::builder(config).backend(NullBackend).build()?;
    let middleware = ErrorReportMiddleware::new()
        .debug(flag("--debug"))
        .notifier(AdminNotifier::new(mailer))
        .routes(["/", "/panic", "/error"]);
    let server = HttpServer::new(move || {
        App::new()
            .route("/", web::get().to(hello))
            .route("/panic", web::get().to(panics))
            .route("/error", web::get().to(error))
            .wrap(middleware.clone())
    })
    .workers(workers)
    .bind(&addr)?;
    println!("hello listening on http://{}/", server.addrs()[0]);
    server.run().await?;
    Ok(())
}

async fn hello() -> &'static str {
    "Hello, World!"
}

async fn panics() -> &'static str {
    panic!("hello panics")
}

async fn error() -> Result<&'static str, ReportedError> {
    Err(std::io::Error::other("the hello database is down"))?
}
