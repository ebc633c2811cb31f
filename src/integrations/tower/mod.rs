//! A tower layer with Django's debug and production error behaviour: a thin adapter over
//! the [web core](crate::integrations::web), which the actix-web middleware shares.
//!
//! [`ErrorReportLayer`] wraps any tower service over `http` requests (an axum `Router`; a
//! hyper service, its `Incoming` body boxed, see [`ReplayBody`]) and reports what goes
//! wrong in it:
//!
//! | what happens | debug mode on | debug mode off (default) |
//! |---|---|---|
//! | the handler panics | the technical 500 page | Django's minimal 500 page, the report mailed to the admins |
//! | a response carries a [`ReportedError`] | the technical page, with the response's status | the production page for that status; for a 5xx, the admins' email |
//! | another 5xx response | handed back as it is | handed back as it is; the admins get `Report at /path` |
//! | a 404 without a body (a router's fallback), or with a [`ReportedError`] | the technical 404 page: request, path, routes | the broken-link rules, then the managers' email; Django's minimal 404 page |
//! | a 404 with its own body | handed back as it is | the broken-link rules; handed back as it is |
//! | anything else | handed back as it is | handed back as it is |
//!
//! The technical pages come as HTML, text or JSON by the request's `Accept` header
//! ([`negotiate`](crate::negotiate)); so do the production pages, which say nothing but
//! the status. Every report is built through the filter: the debug page of a request shows
//! what an admin email would, minus what only debug mode reveals.
//!
//! On the way in the layer keeps a snapshot of the request: method, URI, headers (those
//! marked [`HeaderValue::is_sensitive`](http::HeaderValue::is_sensitive) are hidden in
//! reports), the client address (axum's `ConnectInfo<SocketAddr>`, or a `SocketAddr`
//! extension), the matched route (axum's `MatchedPath`), a user (see
//! [`ErrorReportLayer::user_extension`] and [`RequestReport::user`]). Form, multipart and
//! JSON bodies up to [`DEFAULT_BODY_LIMIT`] (64 KiB, see [`ErrorReportLayer::body_limit`])
//! are read before the handler runs and handed on unchanged; larger bodies and other types
//! are handed on unread, and the report says why. The snapshot is copied into the
//! response future: no allocation for a request with a few short headers, one for a larger
//! one. Nothing else happens unless something fails: no backtrace, no formatting, no
//! report. The bodies keep their types (the layer writes its pages in the service's
//! response body type, [`PageBody`]), so nothing is wrapped on the way.
//!
//! Routes and handlers can change what a report of their request shows, as Django's view
//! decorators and request attributes do: [`ReportOverridesLayer`] on a route,
//! [`RequestReport`] in a handler (sensitive POST parameters, another filter, another
//! debug-page renderer, the user).
//!
//! # Example
//!
//! ```
//! use std::net::SocketAddr;
//! use axum::{Router, routing::{get, post}};
//! use safe_report::SensitiveNames;
//! use safe_report::integrations::tower::{ErrorReportLayer, ReportOverridesLayer, ReportedError};
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
//! let app = Router::new()
//!     .route("/orders", get(orders))
//!     .route(
//!         "/login",
//!         post(login).layer(
//!             ReportOverridesLayer::new()
//!                 .sensitive_post_parameters(SensitiveNames::names(["password"])),
//!         ),
//!     )
//!     .layer(
//!         ErrorReportLayer::new()
//!             .debug(std::env::var("APP_DEBUG").as_deref() == Ok("1"))
//!             .notifier(AdminNotifier::new(mailer.clone()))
//!             .broken_links(BrokenLinkReporter::new(mailer))
//!             .routes(["/orders", "/login"]),
//!     );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Where to put it
//!
//! - With axum, either around the whole router (`ErrorReportLayer::new()….layer(router)`,
//!   served with `axum::ServiceExt::into_make_service_with_connect_info`): one layer, the
//!   cheapest; give it the routes ([`ErrorReportLayer::routes`]) and it names the route a
//!   request matched. Pass it `router.with_state(())` (what `Router::into_make_service`
//!   does itself), or axum turns each handler into a service anew on every request. Or
//!   with `Router::layer` after the routes and the fallback: it then wraps each of them
//!   (axum boxes every layered route again, which costs more per request) and reads the
//!   matched route from axum. Either way, layers outside it are not reported on, and a
//!   layer that turns 404s into something else must be outside it.
//! - [`ReportOverridesLayer`] goes on a route inside the layer.
//! - A panic is caught around each poll of the handler's future, on the thread it happened
//!   on; a panic in a task the handler spawned is that task's. With `panic = "abort"`
//!   nothing can be caught.
//! - Building a debug page runs on the request's task (it reads source files); email
//!   reports are built on the mail worker. The production path only enqueues.
//! - Body buffering waits at most [`DEFAULT_BODY_TIMEOUT`] (tokio's timer), then hands the
//!   handler what came and the rest as it comes.

mod body;
#[cfg(feature = "axum")]
mod error;
mod future;
mod layer;
mod overrides;
mod request;
mod service;

pub use body::{PageBody, ReplayBody, RequestBody};
pub use future::ResponseFuture;
pub use layer::ErrorReportLayer;
pub use overrides::{ReportOverrides, ReportOverridesLayer};
pub use service::ErrorReport;

pub use crate::integrations::web::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DebugPageRenderer, ReportedError, RequestReport,
};

/// The error value a response carries in its extensions.
fn error_of<B>(response: &http::Response<B>) -> Option<ReportedError> {
    response.extensions().get::<ReportedError>().cloned()
}
