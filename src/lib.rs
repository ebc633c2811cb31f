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
//! for output in [report.render_text(), report.render_html(), report.render_json()] {
//!     assert!(!output.contains("hunter2"));
//!     assert!(!output.contains("abc123xyz"));
//!     assert!(!output.contains("4111111111111111"));
//! }
//! assert!(report.render_html().contains("ord_42"));
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod capture;
pub mod filter;
pub mod integrations;
pub mod mail;
pub mod render;
pub mod report;
mod request;
mod words;

pub use capture::{
    Capture, CaptureError, Cause, Environment, ErrorInfo, Frame, RawText, RequestInfo, ResultExt,
    SensitiveNames, Traced, UploadedFile, Variable, panic,
};
pub use filter::{
    DEFAULT_SUBSTITUTE, Detector, FilterContext, Named, RedactionSummary, ReporterFilter, Rule,
    SafeReporterFilter, SafeReporterFilterBuilder, Shown, TextKind,
};
pub use mail::{AdminNotifier, BrokenLinkReporter, MailConfig, Mailer, check_deploy};
pub use render::{Format, negotiate};
pub use report::{ExceptionReporter, Report};
pub use request::MAX_INTERPRETED_BODY;
