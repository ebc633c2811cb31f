//! Django-style error reports for Rust services, with secrets filtered out before any output.
//!
//! A [`Capture`] holds plain, unfiltered data about an error: the error and its causes,
//! frames with variables, the HTTP request, settings, environment and the debug flag.
//! [`ExceptionReporter`] runs it through a [`ReporterFilter`] (by default
//! [`SafeReporterFilter`]) into a [`Report`], the only thing any output ever sees. A report
//! renders as text, browser HTML, email HTML or JSON.
//!
//! ```
//! use safe_report::{Capture, ExceptionReporter, Frame, RequestInfo, SensitiveNames};
//!
//! let capture = Capture::error("PaymentError", "payment declined")
//!     .with_request(
//!         RequestInfo::new("POST", "https://shop.example.com/pay?access_token=abc123xyz")
//!             .header("Content-Type", "application/x-www-form-urlencoded")
//!             .body("user=alice&password=hunter2")
//!             .user("alice"),
//!     )
//!     .with_frame(
//!         Frame::new("shop::charge", "src/charge.rs", 42)
//!             .var("card_number", "4111111111111111")
//!             .var("order_id", "ord_42")
//!             .sensitive_variables(SensitiveNames::names(["card_number"])),
//!     );
//! let report = ExceptionReporter::default().report(&capture);
//! for output in [report.text().to_string(), report.html().to_string(), report.json().to_string()] {
//!     assert!(!output.contains("hunter2"));
//!     assert!(!output.contains("abc123xyz"));
//!     assert!(!output.contains("4111111111111111"));
//! }
//! assert!(report.html().to_string().contains("ord_42"));
//! ```
//!
//! # Other crates' types in this API
//!
//! Public signatures name std and this crate's types, and a short list of other crates'
//! (checked in CI against `external-types.toml`; each decision in `docs/api.md`). Among them,
//! [`jiff`] 1.x (re-exported as `safe_report::jiff`): timestamps in the model and the report
//! (`Breadcrumb::timestamp`, `Environment::server_time`) are jiff's `Timestamp` and
//! `ZonedDateTime`.
#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod filter;
pub mod hook;
pub mod integrations;
pub mod limits;
#[cfg(feature = "mail")]
pub mod mail;
pub mod model;
pub mod render;
pub mod report;
pub mod runtime;
pub mod sinks;
mod words;

/// jiff, the version whose `Timestamp` and `ZonedDateTime` this crate's model holds.
pub use jiff;

/// The panic hook under its former name: [`hook`].
#[doc(hidden)]
pub use hook as panic;

pub use filter::{
    CLIENT_ADDRESS_HEADERS, Detector, FilterContext, Named, RedactionSummary, ReporterFilter, Rule,
    SafeReporterFilter, SafeReporterFilterBuilder, Shown, TextKind,
};
pub use limits::{DEFAULT_SUBSTITUTE, MAX_INTERPRETED_BODY};
#[cfg(feature = "mail")]
pub use mail::{AdminNotifier, BrokenLinkReporter, MailConfig, Mailer, check_deploy};
pub use model::{
    Breadcrumb, BreadcrumbField, BreadcrumbLevel, Capture, CaptureError, Cause, Environment,
    ErrorInfo, Frame, Identity, RawText, RequestInfo, SensitiveNames, TaskContext, UploadedFile,
    Variable,
};
pub use render::{EditorLinks, ReportTemplate, negotiate};
#[cfg(feature = "embed-sources")]
pub use report::EmbeddedSources;
pub use report::{ExceptionReporter, Format, Report};
pub use runtime::{ResultExt, Traced};

/// The application's own source files, compressed, in its binary (feature `embed-sources`),
/// so that reports from a deployed build show source lines where the files are not on disk.
///
/// With no argument it embeds every `.rs` file under the crate's `src`; otherwise the files
/// and directories named, relative to the crate's `Cargo.toml`. The files are read when the
/// crate is compiled, and it is rebuilt when one of them changes. Call
/// [`EmbeddedSources::install`] once, early in `main`:
///
/// ```
/// # fn main() {
/// safe_report::embed_sources!().install();
/// // or: safe_report::embed_sources!("src", "examples/demo.rs").install();
/// # }
/// ```
///
/// A file on disk is still preferred to its embedded copy; the filter hides secrets in
/// source lines from either. What it adds to the binary is measured in
/// `docs/production.md`.
#[cfg(feature = "embed-sources")]
#[macro_export]
macro_rules! embed_sources {
    ($($path:literal),* $(,)?) => {
        $crate::EmbeddedSources::from_macro($crate::__private::embed_sources_blob!($($path),*))
    };
}

/// What the crate's macros expand to; not public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "embed-sources")]
    pub use safe_report_macros::embed_sources_blob;
}
