//! The framework-neutral core of web error reporting, which the tower layer
//! ([`integrations::tower`](crate::integrations::tower), feature `tower`) and the actix-web
//! middleware ([`integrations::actix`](crate::integrations::actix), feature `actix`) adapt
//! to their frameworks.
//!
//! The core works on plain request and response parts: what to keep of a request (method,
//! URI, headers, client address, route, user, a bounded copy of a form, multipart or JSON
//! body), when to buffer a body, how a panic or an error response becomes a report, the
//! technical and production pages with `Accept` negotiation, Django's 404 rules, the
//! per-route and per-request settings, the calls to the admins' notifier and the sinks.
//! The adapters only read their framework's request, call the handler with every panic
//! caught, and turn the core's pages into their response type.
//!
//! What it answers, whatever the framework:
//!
//! | what happens | debug mode on | debug mode off (default) |
//! |---|---|---|
//! | the handler panics | the technical 500 page | Django's minimal 500 page, the report mailed to the admins |
//! | a response carries a [`ReportedError`] (or, with actix, any `ResponseError`) | the technical page, with the response's status | the production page for that status; for a 5xx, the admins' email |
//! | another 5xx response | handed back as it is | handed back as it is; the admins get `Report at /path` |
//! | a 404 without a body (a router's fallback), or with an error value | the technical 404 page: request, path, routes | the broken-link rules, then the managers' email; Django's minimal 404 page |
//! | a 404 with its own body | handed back as it is | the broken-link rules; handed back as it is |
//! | anything else | handed back as it is | handed back as it is |
//!
//! This module holds the types both adapters share: [`ReportedError`], [`RequestReport`],
//! [`DebugPageRenderer`] and the default bounds. Each adapter module re-exports them.
//!
//! # Example
//!
//! ```
//! use safe_report::integrations::web::{ReportedError, RequestReport};
//!
//! // A handler body that works the same under axum and actix-web.
//! fn change_password(report: RequestReport, old: &str) -> Result<&'static str, ReportedError> {
//!     report.sensitive_post_parameters(safe_report::SensitiveNames::names(["old", "new"]));
//!     let _pin: u32 = old.parse()?; // a ParseIntError becomes a reported 500
//!     Ok("changed")
//! }
//!
//! assert!(change_password(RequestReport::current(), "hunter2").is_err());
//! ```

// The `web` feature alone (without an adapter) only builds the core: nothing calls it.
#![cfg_attr(
    not(any(feature = "tower", feature = "actix")),
    allow(dead_code, unused_imports, unused_macros)
)]

pub(crate) mod body;
pub(crate) mod config;
mod error;
pub(crate) mod failure;
pub(crate) mod overrides;
pub(crate) mod pages;
pub(crate) mod snapshot;

pub use config::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT};
pub use error::ReportedError;
pub use overrides::RequestReport;
pub use pages::DebugPageRenderer;
