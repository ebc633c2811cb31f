//! The backend that keeps emails in memory, for tests.

use std::sync::{Arc, Mutex, PoisonError};

use super::{BackendError, Email, MailBackend};

/// Keeps every email in memory (Django's `locmem` backend and `mail.outbox`).
///
/// Clones share one outbox: give a clone to the mailer and keep one to look at what was
/// sent. Use it in your own tests, after [`Mailer::flush`](crate::mail::Mailer::flush):
///
/// ```
/// use std::time::Duration;
/// use safe_report::Capture;
/// use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend};
///
/// let outbox = MemoryBackend::new();
/// let config = MailConfig::builder().admins(["ops@example.com"]).build()?;
/// let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
/// let notifier = AdminNotifier::new(mailer.clone());
///
/// notifier.notify(Level::Error, "checkout failed", Capture::error("PaymentError", "declined"));
/// assert!(mailer.flush(Duration::from_secs(10)));
///
/// let sent = outbox.messages();
/// assert_eq!(sent.len(), 1);
/// assert_eq!(sent[0].subject(), "[safe-report] ERROR: checkout failed");
/// assert!(sent[0].text().starts_with("checkout failed\n\nPaymentError\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    outbox: Arc<Mutex<Vec<Email>>>,
}

impl MemoryBackend {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// The emails sent so far, oldest first.
    pub fn messages(&self) -> Vec<Email> {
        self.lock().clone()
    }

    /// Removes and returns the emails sent so far.
    pub fn take(&self) -> Vec<Email> {
        std::mem::take(&mut *self.lock())
    }

    /// How many emails were sent.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing was sent.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Email>> {
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl MailBackend for MemoryBackend {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        self.lock().push(email.clone());
        Ok(())
    }
}
