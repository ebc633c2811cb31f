//! One email: addresses, a sanitized subject, a text body and an optional HTML alternative.

use std::fmt;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use super::backend::BackendError;

/// Subjects longer than this many characters (after escaping) are cut, ending in `…`.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// Makes `subject` safe for a mail header and bounded in length.
///
/// As Django's `AdminEmailHandler.format_subject`, a line feed becomes the two characters
/// `\n` and a carriage return `\r`. Beyond Django, a tab becomes `\t`, every other control
/// character (C0, DEL, C1) becomes `\xNN`, the line and paragraph separators and the
/// bidirectional overrides (U+2028, U+2029, U+202A–U+202E, U+2066–U+2069) become `\uNNNN`,
/// and a subject longer than [`MAX_SUBJECT_CHARS`] characters is cut to that length, its
/// last character replaced by `…`.
///
/// ```
/// use safe_report::mail::format_subject;
///
/// assert_eq!(format_subject("Message \r\n with newlines"), r"Message \r\n with newlines");
/// assert_eq!(format_subject("red \u{1b}[31m alert"), r"red \x1b[31m alert");
/// assert_eq!(format_subject(&"x".repeat(500)).chars().count(), 200);
/// ```
pub fn format_subject(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len().min(MAX_SUBJECT_CHARS * 4));
    for c in subject.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                use fmt::Write;
                let code = c as u32;
                if code <= 0xff {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{code:04x}");
                }
            }
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                use fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if out.chars().count() > MAX_SUBJECT_CHARS {
        let cut = out
            .char_indices()
            .nth(MAX_SUBJECT_CHARS - 1)
            .map_or(out.len(), |(at, _)| at);
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// One email, ready for any [`MailBackend`](super::MailBackend).
///
/// The subject is passed through [`format_subject`] when the email is made, so no backend
/// ever sees a header-breaking subject.
///
/// ```
/// use safe_report::mail::Email;
///
/// let email = Email::new(
///     "root@localhost".parse()?,
///     vec!["ops@example.com".parse()?],
///     "[shop] ERROR: boom\r\nBcc: evil@example.com",
///     "boom",
/// )
/// .with_html("<p>boom</p>");
/// assert_eq!(email.subject(), r"[shop] ERROR: boom\r\nBcc: evil@example.com");
/// let mime = String::from_utf8(email.to_mime()?).unwrap();
/// assert!(mime.contains("multipart/alternative"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    from: Mailbox,
    to: Vec<Mailbox>,
    subject: String,
    text: String,
    html: Option<String>,
}

impl Email {
    /// An email with a text body. The subject is sanitized with [`format_subject`].
    pub fn new(
        from: Mailbox,
        to: Vec<Mailbox>,
        subject: impl AsRef<str>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            from,
            to,
            subject: format_subject(subject.as_ref()),
            text: text.into(),
            html: None,
        }
    }

    /// Adds an HTML alternative: the message becomes `multipart/alternative`.
    #[must_use]
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// The sender (`From:`).
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The recipients (`To:`).
    pub fn to(&self) -> &[Mailbox] {
        &self.to
    }

    /// The sanitized subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The plain-text body.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The HTML alternative, if any.
    pub fn html(&self) -> Option<&str> {
        self.html.as_deref()
    }

    /// The message as lettre builds it: headers, encoded subject, MIME structure. Not
    /// public: lettre is before 1.0 (docs/api.md); [`to_mime`](Self::to_mime) gives the bytes.
    pub(crate) fn to_message(&self) -> Result<Message, BackendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(self.subject.clone())
            .message_id(Some(message_id()))
            .header(AutoSubmitted);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let built = match &self.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(self.text.clone())),
        };
        built.map_err(|error| {
            BackendError::permanent(format!("the email could not be built: {error}"))
        })
    }

    /// The message in its wire form (RFC 5322, MIME), as an `.eml` file holds it.
    pub fn to_mime(&self) -> Result<Vec<u8>, BackendError> {
        Ok(self.to_message()?.formatted())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): vacation responders do not answer reports.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// A unique `Message-ID`: time, process, sequence and the host name.
fn message_id() -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    static HOST: LazyLock<String> = LazyLock::new(|| {
        let name = crate::model::host_name();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if valid { name } else { "localhost".to_owned() }
    });
    let nanos = jiff::Timestamp::now().as_nanosecond();
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("<{nanos:x}.{}.{sequence}@{}>", std::process::id(), *HOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_are_escaped_as_in_django() {
        assert_eq!(format_subject("a\nb\rc"), "a\\nb\\rc");
    }

    #[test]
    fn control_characters_and_separators_are_neutralised() {
        assert_eq!(
            format_subject("a\u{0}b\u{7f}c\u{85}d"),
            "a\\x00b\\x7fc\\x85d"
        );
        assert_eq!(format_subject("a\u{2028}b\u{202e}c"), "a\\u2028b\\u202ec");
        assert_eq!(format_subject("tab\there"), "tab\\there");
        assert_eq!(format_subject("café ✓"), "café ✓");
    }

    #[test]
    fn long_subjects_end_in_an_ellipsis_at_the_bound() {
        let subject = format_subject(&"é".repeat(300));
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(subject.ends_with('…'));
        assert_eq!(format_subject(&"a".repeat(200)), "a".repeat(200));
    }

    #[test]
    fn plain_email_is_single_part_and_html_email_is_alternative() {
        let from: Mailbox = "root@localhost".parse().unwrap();
        let to = vec!["a@example.com".parse().unwrap()];
        let plain = Email::new(from.clone(), to.clone(), "s", "body");
        let mime = String::from_utf8(plain.to_mime().unwrap()).unwrap();
        assert!(mime.contains("Content-Type: text/plain"));
        assert!(mime.contains("Auto-Submitted: auto-generated"));
        assert!(!mime.contains("multipart"));
        let html = plain.with_html("<p>x</p>");
        let mime = String::from_utf8(html.to_mime().unwrap()).unwrap();
        assert!(mime.contains("multipart/alternative"));
        assert!(mime.contains("text/html"));
    }
}
