//! Mail backends (Django's `EMAIL_BACKEND`): where an [`Email`] goes.
//!
//! [`SmtpBackend`] (feature `smtp`, on by default) delivers through an SMTP server;
//! [`ConsoleBackend`] prints each message; [`FileBackend`] writes one `.eml` file per message;
//! [`MemoryBackend`] keeps messages for tests; [`NullBackend`] drops them. Implement
//! [`MailBackend`] for anything else.
//!
//! ```
//! use safe_report::mail::{BackendError, Email, MailBackend};
//!
//! /// Counts messages instead of sending them.
//! #[derive(Default)]
//! struct Counting(usize);
//!
//! impl MailBackend for Counting {
//!     fn send(&mut self, _email: &Email) -> Result<(), BackendError> {
//!         self.0 += 1;
//!         Ok(())
//!     }
//! }
//!
//! let mut backend = Counting::default();
//! let email = Email::new("root@localhost".parse()?, vec![], "subject", "body");
//! backend.send(&email)?;
//! assert_eq!(backend.0, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod console;
mod file;
mod memory;
mod null;
#[cfg(feature = "smtp")]
mod smtp;

pub use console::ConsoleBackend;
pub use file::FileBackend;
pub use memory::MemoryBackend;
pub use null::NullBackend;
#[cfg(feature = "smtp")]
pub use smtp::SmtpBackend;

use super::message::Email;

/// Delivers emails. The mail worker owns its backend and calls it from one thread, so a
/// backend may keep state (a connection, a counter) without locking.
pub trait MailBackend: Send + 'static {
    /// Delivers one email. A [transient](BackendError::is_transient) error makes the worker
    /// retry later; a permanent one drops the email (and logs why).
    fn send(&mut self, email: &Email) -> Result<(), BackendError>;
}

impl MailBackend for Box<dyn MailBackend> {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        (**self).send(email)
    }
}

/// Why a backend could not deliver an email. Messages never hold credentials.
///
/// ```
/// use safe_report::mail::BackendError;
///
/// let error = BackendError::transient("smtp.example.com:587: connection refused");
/// assert!(error.is_transient());
/// assert_eq!(error.to_string(), "smtp.example.com:587: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    transient: bool,
    message: String,
}

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BackendError {}

impl BackendError {
    /// A failure worth retrying: the server is down, timed out, or answered 4xx.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            transient: true,
            message: message.into(),
        }
    }

    /// A failure retrying will not fix: the server answered 5xx, the email is malformed.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            transient: false,
            message: message.into(),
        }
    }

    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }
}
