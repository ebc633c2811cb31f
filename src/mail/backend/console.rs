//! The backend that prints each email.

use std::io::Write;

use super::{BackendError, Email, MailBackend};

/// Writes each email in its wire form (MIME) to standard output, followed by a line of 79
/// dashes, as Django's `console` backend does. For development.
///
/// ```
/// use safe_report::mail::{ConsoleBackend, Email, MailBackend};
///
/// let mut printed = Vec::new();
/// let email = Email::new("root@localhost".parse()?, vec!["ops@example.com".parse()?], "hello", "body");
/// ConsoleBackend::with_writer(&mut printed).send(&email)?;
/// let printed = String::from_utf8(printed)?;
/// assert!(printed.contains("Subject: hello"));
/// assert!(printed.ends_with(&format!("{}\n", "-".repeat(79))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ConsoleBackend<W = std::io::Stdout> {
    out: W,
}

impl std::fmt::Debug for ConsoleBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleBackend").finish_non_exhaustive()
    }
}

impl ConsoleBackend {
    /// Prints to standard output.
    pub fn new() -> Self {
        Self {
            out: std::io::stdout(),
        }
    }
}

impl Default for ConsoleBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl<W: Write> ConsoleBackend<W> {
    /// Prints to `out` instead.
    pub fn with_writer(out: W) -> Self {
        Self { out }
    }

    /// Writes one email (usable without the `Send + 'static` a mailer's backend needs).
    pub fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        let mime = email.to_mime()?;
        let mut write = || -> std::io::Result<()> {
            self.out.write_all(&mime)?;
            self.out.write_all(b"\n")?;
            self.out.write_all("-".repeat(79).as_bytes())?;
            self.out.write_all(b"\n")?;
            self.out.flush()
        };
        write().map_err(|error| BackendError::transient(format!("console: {error}")))
    }
}

impl<W: Write + Send + 'static> MailBackend for ConsoleBackend<W> {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        ConsoleBackend::send(self, email)
    }
}
