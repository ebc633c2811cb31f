//! An actix-web 4 middleware with Django's debug and production error behaviour: a thin
//! adapter over the [web core](crate::integrations::web), which the tower layer shares.
//!
//! [`ErrorReportMiddleware`] wraps an actix-web `App` (or a scope, or a resource) and
//! reports what goes wrong in it, as the tower layer does (the table in the
//! [web core](crate::integrations::web) says what it answers to each failure):
//!
//! - a panic in a handler is caught around each poll of the handler's future (actix-web
//!   does not catch it: without the middleware the connection is dropped) and answered
//!   with the technical 500 page (debug mode) or the production page, the report mailed to
//!   the admins;
//! - a handler's error (any `ResponseError`: the response carries it) is answered with the
//!   technical page or the production page of its status, and reported for a 5xx. A
//!   [`ReportedError`] brings its type, its chain of sources and the stack where `?`
//!   converted it; another `ResponseError` its message and its `Debug` form;
//! - another 5xx response is handed back and mailed as `Internal Server Error: /path`;
//! - a 404 follows Django's rules: the technical 404 page in debug mode (the request, the
//!   routes), otherwise the broken-link email to the managers and the production 404 page.
//!
//! The pages come as HTML, text or JSON by the request's `Accept` header. The request is
//! recorded on the way in: method, URI, headers, the client address, the route it matched
//! (`HttpRequest::match_pattern`, read only when something failed), a user (see
//! [`ErrorReportMiddleware::user_extension`] and [`RequestReport::user`]). Form,
//! multipart and JSON bodies up to [`DEFAULT_BODY_LIMIT`] are read before the handler runs
//! and handed on unchanged (the handler's `web::Form`, `web::Json` or `web::Payload` read
//! them as if nothing had); larger bodies and other types are handed on unread, and the
//! report says why.
//!
//! The actix worker does not build 500 reports: a debug page is rendered on the report
//! worker and awaited; the production path only enqueues. (The technical 404 page, debug
//! mode only, is built on the request's thread, as the tower layer does.)
//!
//! # Example
//!
//! ```
//! use actix_web::{App, HttpServer, web};
//! use safe_report::SensitiveNames;
//! use safe_report::integrations::actix::{
//!     ErrorReportMiddleware, ReportOverridesMiddleware, ReportedError,
//! };
//! use safe_report::mail::{AdminNotifier, BrokenLinkReporter, MailConfig, Mailer};
//!
//! async fn orders() -> Result<String, ReportedError> {
//!     let count: u32 = "many".parse()?; // a ParseIntError becomes a reported 500
//!     Ok(count.to_string())
//! }
//!
//! async fn login() -> &'static str { "welcome" }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mailer = Mailer::new(MailConfig::builder().env()?.build()?)?;
//! let reports = ErrorReportMiddleware::new()
//!     .debug(std::env::var("APP_DEBUG").as_deref() == Ok("1"))
//!     .notifier(AdminNotifier::new(mailer.clone()))
//!     .broken_links(BrokenLinkReporter::new(mailer))
//!     .routes(["/orders", "/login"]);
//! HttpServer::new(move || {
//!     App::new()
//!         .route("/orders", web::get().to(orders))
//!         .service(
//!             web::resource("/login")
//!                 .wrap(
//!                     ReportOverridesMiddleware::new()
//!                         .sensitive_post_parameters(SensitiveNames::names(["password"])),
//!                 )
//!                 .route(web::post().to(login)),
//!         )
//!         .wrap(reports.clone())
//! })
//! .bind("127.0.0.1:0")?
//! .run()
//! .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Where to put it
//!
//! - `App::wrap` last (actix-web runs the last `wrap` first), so that it sees every
//!   request, the default service's 404s included; middleware wrapped after it are not
//!   reported on.
//! - [`ReportOverridesMiddleware`] goes on a resource or a scope inside it.
//! - With `panic = "abort"` nothing can be caught: the panic hook reports the panic.

mod body;
mod error;
mod middleware;
mod overrides;
mod service;

pub use middleware::ErrorReportMiddleware;
pub use overrides::{ReportOverridesMiddleware, ReportOverridesService};
pub use service::ErrorReportService;

pub use crate::integrations::web::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DebugPageRenderer, ReportedError, RequestReport,
};
