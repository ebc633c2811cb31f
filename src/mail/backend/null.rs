//! The backend that drops every email.

use super::{BackendError, Email, MailBackend};

/// Drops every email (Django's `dummy` backend): for services that report elsewhere.
///
/// ```
/// use safe_report::mail::{Email, MailBackend, NullBackend};
///
/// let email = Email::new("root@localhost".parse()?, vec![], "subject", "body");
/// assert!(NullBackend.send(&email).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NullBackend;

impl MailBackend for NullBackend {
    fn send(&mut self, _email: &Email) -> Result<(), BackendError> {
        Ok(())
    }
}
