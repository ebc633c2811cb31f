//! A hello-world axum service with the error-report layer (or without it, for comparison):
//! the subject of `benches/overhead.sh`.
//!
//! ```sh
//! cargo run --release --features axum --example hello -- 127.0.0.1:8080                   # with the layer
//! cargo run --release --features axum --example hello -- 127.0.0.1:8081 --without-layer   # without
//! ```
//!
//! `GET /` answers `Hello, World!`; `GET /panic` panics; `GET /error` returns an error value.
//! With the layer, debug mode is off unless `--debug` is given, and error reports go to a
//! mailer that drops them (the null backend), so the error path pays for building the
//! capture, flood control and the enqueue, and the worker for rendering.

use std::error::Error;
use std::net::SocketAddr;

use axum::routing::get;
use axum::{Router, ServiceExt};
use safe_report::integrations::tower::{ErrorReportLayer, ReportedError};
use safe_report::mail::{AdminNotifier, MailConfig, Mailer, NullBackend};
use tower::Layer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // As a service would: the hook captures each panic's frames for the layer's report.
    let _hook = safe_report::panic::HookBuilder::new().install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|arg| arg == name);
    let addr = args
        .iter()
        .find(|arg| !arg.starts_with("--"))
        .map_or("127.0.0.1:8080", String::as_str);

    let routes = Router::new()
        .route("/", get(|| async { "Hello, World!" }))
        .route("/panic", get(panics))
        .route("/error", get(error));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("hello listening on http://{}/", listener.local_addr()?);
    if flag("--without-layer") {
        let app = routes.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await?;
        return Ok(());
    }
    let config = MailConfig::builder()
        .admins(["admin@example.com"])
        .build()?;
    let mailer = Mailer::builder(config).backend(NullBackend).build()?;
    let layer = ErrorReportLayer::new()
        .debug(flag("--debug"))
        .notifier(AdminNotifier::new(mailer))
        .routes(["/", "/panic", "/error"]);
    if flag("--around-router") {
        // One layer around the whole router, finished with `with_state(())` as
        // `Router::into_make_service` would do (else axum rebuilds each handler's service
        // per request).
        let app = layer.layer(routes.with_state(()));
        let app = ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            SocketAddr,
        >(app);
        axum::serve(listener, app).await?;
    } else {
        // A layer on every route (`Router::layer`).
        let app = routes.layer(layer);
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await?;
    }
    Ok(())
}

async fn panics() -> &'static str {
    panic!("hello panics")
}

async fn error() -> Result<&'static str, ReportedError> {
    Err(std::io::Error::other("the hello database is down"))?
}
