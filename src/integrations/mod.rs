//! Integrations, each behind a cargo feature.
//!
//! - [`web`] (with `tower` or `actix`): the framework-neutral core both web integrations
//!   adapt, and the types they share.
//! - [`tower`] (feature `tower`; with `axum`, also the matched route and the client
//!   address): a layer that answers failures with Django's debug or production pages,
//!   mails reports to the admins and broken links to the managers.
//! - [`actix`] (feature `actix`): an actix-web 4 middleware with the tower layer's
//!   behaviour.
//! - [`tracing`] (feature `tracing`): span fields as frame variables, ERROR events as
//!   reports.
//! - [`log`] (feature `log`): ERROR records as reports, in front of the application's own
//!   logger.

#[cfg(feature = "web")]
pub mod web;

#[cfg(feature = "tower")]
pub mod tower;

#[cfg(feature = "actix")]
pub mod actix;

#[cfg(feature = "tracing")]
pub mod tracing;

#[cfg(feature = "log")]
pub mod log;
