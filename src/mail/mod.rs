//! Error reports by email to admins and managers, and broken-link reports, without ever
//! blocking the caller.
//!
//! - [`MailConfig`]: addresses, subject prefix, internal IPs, the backend (an email URL such
//!   as `smtp://user:pass@host:587?tls=required`), queue and flood limits; in code or from
//!   `SAFE_REPORT_*` environment variables.
//! - [`Mailer`]: a bounded queue to a background worker that delivers through a
//!   [`MailBackend`] (SMTP, console, file, memory, null, or yours), with timeouts, retries
//!   and a flush with a deadline at shutdown.
//! - [`AdminNotifier`]: Django's `AdminEmailHandler`: a [`Capture`](crate::Capture), a level
//!   and a log message in, a filtered report mailed to the admins (or managers).
//! - Flood control ([`flood`]): the first occurrence at once, repeats as
//!   digests, a cap per minute with a storm summary, bounded memory.
//! - [`BrokenLinkReporter`]: Django's `BrokenLinkEmailsMiddleware` rules for 404s.
//! - [`check_deploy`]: misconfigurations, like Django's `check --deploy`.
//!
//! ```
//! use std::time::Duration;
//! use safe_report::{Capture, Frame};
//! use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend};
//!
//! let outbox = MemoryBackend::new();
//! let config = MailConfig::builder().admins(["ops@example.com"]).build()?;
//! let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
//! let notifier = AdminNotifier::new(mailer.clone());
//!
//! for attempt in 0..100 {
//!     let capture = Capture::error("DbError", format!("timeout after {attempt} ms"))
//!         .with_frame(Frame::new("shop::orders::load", "src/orders.rs", 40).var("password", "hunter2"));
//!     notifier.notify(Level::Error, "Order lookup failed", capture);
//! }
//! assert!(mailer.shutdown(Duration::from_secs(10)));
//! let sent = outbox.messages();
//! assert_eq!(sent.len(), 2); // the first report, then a digest of 99 more
//! assert!(sent[1].text().starts_with("99 more occurrences of \"ERROR: Order lookup failed\""));
//! assert!(sent.iter().all(|email| !email.text().contains("hunter2")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backend;
mod broken_link;
mod check;
mod config;
mod email_url;
pub mod flood;
mod message;
mod notifier;
mod queue;

pub use crate::model::Level;
#[cfg(feature = "smtp")]
pub use backend::SmtpBackend;
pub use backend::{
    BackendError, ConsoleBackend, FileBackend, MailBackend, MemoryBackend, NullBackend,
};
pub use broken_link::{BrokenLinkReporter, BrokenLinkRules, NotFound, is_internal_request};
pub use check::{DebugMode, DeployIssue, Severity, check_deploy};
pub use config::{
    ConfigError, DEFAULT_SERVER_EMAIL, DEFAULT_SUBJECT_PREFIX, ENV_VARS, MailConfig,
    MailConfigBuilder,
};
pub use email_url::{
    BackendConfig, DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, Password, SmtpConfig, TlsMode,
};
pub use flood::{Clock, Fingerprint, FloodConfig, ManualClock, SystemClock, normalise_message};
pub use lettre::message::Mailbox;
pub use message::{Email, MAX_SUBJECT_CHARS, format_subject};
pub use notifier::{AdminNotifier, EmailParts, EmailRenderer, RenderedReport};
pub use queue::{Audience, MailStats, Mailer, MailerBuilder, Outcome, QueueConfig, ShutdownGuard};
