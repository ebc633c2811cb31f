//! The admin notifier: Django's `AdminEmailHandler`, queued and flood-controlled.

use std::sync::Arc;

use super::flood::Fingerprint;
use super::message::Email;
use super::queue::{Audience, Composed, Mailer, Outcome};
use crate::model::Capture;
use crate::model::Level;
use crate::render::{ReportTemplate, template};
use crate::report::{Controls, ExceptionReporter, Report};

/// The report as it goes into an email: the log message, the text, and HTML when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderedReport {
    /// The log message with secrets hidden: the end of the subject and the first line of
    /// the body.
    pub message: String,
    /// The text report (the email body after the message).
    pub text: String,
    /// The HTML report (email variant: no script, no form), when asked for.
    pub html: Option<String>,
    /// The deployment's environment as the report shows it (`staging`), for the subject.
    pub environment: Option<String>,
}

impl RenderedReport {
    /// A rendered report.
    pub fn new(message: impl Into<String>, text: impl Into<String>, html: Option<String>) -> Self {
        Self {
            message: message.into(),
            text: text.into(),
            html,
            environment: None,
        }
    }

    /// Names the environment, which the subject then shows: `{prefix}[staging] ERROR …`.
    #[must_use]
    pub fn with_environment(mut self, environment: Option<String>) -> Self {
        self.environment = environment;
        self
    }
}

/// The parts an admin email carries: the text alone, or the text with the HTML report as
/// its `multipart/alternative` part ([`MailConfig::include_html`](super::MailConfig::include_html)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmailParts {
    /// The text alone.
    Text,
    /// The text and the HTML report.
    TextAndHtml,
}

impl EmailParts {
    /// The parts a mail configuration asks for.
    pub fn of(config: &super::MailConfig) -> Self {
        if config.include_html {
            EmailParts::TextAndHtml
        } else {
            EmailParts::Text
        }
    }

    /// Whether the HTML report is one of the parts.
    pub fn has_html(self) -> bool {
        matches!(self, EmailParts::TextAndHtml)
    }
}

/// Turns a capture and its log message into what an email carries (Django's
/// `reporter_class`).
///
/// [`ExceptionReporter`] implements it: the report and the message go through its filter
/// together (a value hidden anywhere in the report is hidden in the subject too), so pass
/// a reporter with your own filter to change what is hidden. Implement it yourself to
/// change the rendering; what your implementation returns is mailed as it is, the message
/// included.
///
/// ```
/// use safe_report::{Capture, ExceptionReporter};
/// use safe_report::mail::{EmailParts, EmailRenderer, RenderedReport};
///
/// /// Django's test reporter: a fixed text, the message filtered as usual.
/// struct Custom;
///
/// impl EmailRenderer for Custom {
///     fn render(&self, capture: &Capture, message: &str, _parts: EmailParts) -> RenderedReport {
///         let filtered = EmailRenderer::render(&ExceptionReporter::default(), capture, message, EmailParts::Text);
///         RenderedReport::new(filtered.message, "custom traceback text", None)
///     }
/// }
/// # let _ = Custom;
/// ```
pub trait EmailRenderer: Send + Sync + 'static {
    /// The log `message` with secrets hidden, the text report, and the HTML report when
    /// `parts` include it.
    fn render(&self, capture: &Capture, message: &str, parts: EmailParts) -> RenderedReport;

    /// As [`render`](Self::render), with `controls`' grouping and `before_send` applied to
    /// the filtered report before it is rendered; `None` when `before_send` dropped it.
    /// The default renders without them (a renderer that builds no
    /// [`Report`](crate::Report) has nothing to give `before_send`).
    fn render_controlled(
        &self,
        capture: &Capture,
        message: &str,
        parts: EmailParts,
        controls: &Controls,
    ) -> Option<RenderedReport> {
        let _ = controls;
        Some(self.render(capture, message, parts))
    }

    /// As [`render_controlled`](Self::render_controlled), the filtered report rendered by
    /// `template` (see [`AdminNotifier::template`]); our rendering where it fails. The
    /// default ignores the template (a renderer that builds no [`Report`] has nothing to
    /// give it).
    fn render_templated(
        &self,
        capture: &Capture,
        message: &str,
        parts: EmailParts,
        controls: &Controls,
        template: &dyn ReportTemplate,
    ) -> Option<RenderedReport> {
        let _ = template;
        self.render_controlled(capture, message, parts, controls)
    }
}

/// The email parts of `report`: ours, or `template`'s where it succeeds.
fn rendered(
    report: &Report,
    message: String,
    parts: EmailParts,
    template: Option<&dyn ReportTemplate>,
) -> RenderedReport {
    let (text, html) = match template {
        Some(template) => (
            template::email_text(template, report),
            parts
                .has_html()
                .then(|| template::email_html(template, report))
                .flatten(),
        ),
        None => (
            report.text().for_email().to_string(),
            parts
                .has_html()
                .then(|| report.html().for_email().to_string()),
        ),
    };
    RenderedReport::new(message, text, html)
        .with_environment(report.deployment_environment().map(str::to_owned))
}

impl EmailRenderer for ExceptionReporter {
    /// The message and the report filtered in one pass (see
    /// [`ExceptionReporter::report_with_message`]).
    ///
    /// ```
    /// use safe_report::{Capture, ExceptionReporter, RequestInfo};
    /// use safe_report::mail::{EmailParts, EmailRenderer};
    ///
    /// let capture = Capture::error("E", "boom").with_request(
    ///     RequestInfo::new("POST", "https://shop.example/login")
    ///         .header("Content-Type", "application/x-www-form-urlencoded")
    ///         .body("password=hunter2-pass"),
    /// );
    /// let rendered = EmailRenderer::render(
    ///     &ExceptionReporter::default(),
    ///     &capture,
    ///     "login failed: hunter2-pass rejected, see /reset?token=abc123def456ghi",
    ///     EmailParts::Text,
    /// );
    /// assert!(!rendered.message.contains("hunter2-pass"));
    /// assert!(!rendered.message.contains("abc123def456ghi"));
    /// assert!(rendered.message.starts_with("login failed: "));
    /// ```
    fn render(&self, capture: &Capture, message: &str, parts: EmailParts) -> RenderedReport {
        let (report, message) = if parts.has_html() {
            self.report_with_message(capture, message)
        } else {
            self.text_report_with_message(capture, message)
        };
        rendered(&report, message, parts, None)
    }

    fn render_controlled(
        &self,
        capture: &Capture,
        message: &str,
        parts: EmailParts,
        controls: &Controls,
    ) -> Option<RenderedReport> {
        let (report, message) = if parts.has_html() {
            self.report_with_message(capture, message)
        } else {
            self.text_report_with_message(capture, message)
        };
        let report = controls.apply(report, self.filter())?;
        Some(rendered(&report, message, parts, None))
    }

    fn render_templated(
        &self,
        capture: &Capture,
        message: &str,
        parts: EmailParts,
        controls: &Controls,
        template: &dyn ReportTemplate,
    ) -> Option<RenderedReport> {
        // The template may show frame variables in the text: build them always.
        let (report, message) = self.report_with_message(capture, message);
        let report = controls.apply(report, self.filter())?;
        Some(rendered(&report, message, parts, Some(template)))
    }
}

/// Mails error reports to the admins (or the managers), with Django's `AdminEmailHandler`
/// semantics, without ever blocking the caller.
///
/// [`notify`](Self::notify) takes the capture, a level and the log message, runs flood
/// control and enqueues; the mail worker then builds the report through the filter and
/// sends:
///
/// - subject: `{prefix}{LEVEL} ({internal|EXTERNAL} IP): {message}` when the capture has a
///   request (internal when its client address is in the internal IPs), else
///   `{prefix}{LEVEL}: {message}`; with an environment (see [`Identity`](crate::Identity)),
///   `{prefix}[{environment}] {LEVEL}…`, as in `[shop] [staging] ERROR: …`; escaped and bounded by
///   [`format_subject`](super::format_subject);
/// - body: the message, a blank line, the text report; with
///   [`include_html`](super::MailConfig::include_html), the HTML report as the
///   `multipart/alternative` part;
/// - the message goes through the filter with the report: a token in a URL in the message,
///   or a value hidden anywhere in the report (a password POST field, say), is hidden in
///   the subject too;
/// - with no recipients nothing is rendered or queued.
///
/// ```
/// use std::time::Duration;
/// use safe_report::{Capture, RequestInfo};
/// use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend, Outcome};
///
/// let outbox = MemoryBackend::new();
/// let config = MailConfig::builder()
///     .admins(["ops@example.com"])
///     .subject_prefix("[shop] ")
///     .internal_ips(["10.0.0.7"])
///     .include_html(true)
///     .build()?;
/// let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
/// let notifier = AdminNotifier::new(mailer.clone());
///
/// let capture = Capture::error("PaymentError", "declined")
///     .with_request(RequestInfo::new("POST", "https://shop.example.com/pay").remote_addr("203.0.113.9"));
/// assert_eq!(notifier.notify(Level::Error, "Internal Server Error: /pay", capture), Outcome::Queued);
/// assert!(mailer.flush(Duration::from_secs(10)));
///
/// let email = &outbox.messages()[0];
/// assert_eq!(email.subject(), "[shop] ERROR (EXTERNAL IP): Internal Server Error: /pay");
/// assert!(email.text().starts_with("Internal Server Error: /pay\n\nPaymentError at /pay\n"));
/// assert!(!email.html().unwrap().contains("<script"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct AdminNotifier {
    mailer: Mailer,
    audience: Audience,
    renderer: Arc<dyn EmailRenderer>,
    template: Option<Arc<dyn ReportTemplate>>,
    controls: Controls,
}

impl std::fmt::Debug for AdminNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminNotifier")
            .field("audience", &self.audience)
            .field("template", &self.template.is_some())
            .finish_non_exhaustive()
    }
}

impl AdminNotifier {
    /// Reports to the admins, rendered by the default [`ExceptionReporter`].
    pub fn new(mailer: Mailer) -> Self {
        Self {
            mailer,
            audience: Audience::Admins,
            renderer: Arc::new(ExceptionReporter::default()),
            template: None,
            controls: Controls::default(),
        }
    }

    /// Reports to the managers instead (Django's `send_mail` overridden to `mail_managers`).
    pub fn for_managers(mailer: Mailer) -> Self {
        Self {
            audience: Audience::Managers,
            ..Self::new(mailer)
        }
    }

    /// Renders with `reporter`: an [`ExceptionReporter`] with your filter, or your own
    /// [`EmailRenderer`].
    #[must_use]
    pub fn reporter(mut self, reporter: impl EmailRenderer) -> Self {
        self.renderer = Arc::new(reporter);
        self
    }

    /// Renders the email's text and HTML with `template` (see
    /// [`render::template`](crate::render::template)), from the report the reporter's filter
    /// built: the template never sees the capture. It stays when the reporter changes
    /// ([`reporter`](Self::reporter)); a renderer of your own that builds no report ignores
    /// it. The subject and the body's first line (the log message) stay ours.
    ///
    /// ```
    /// use std::time::Duration;
    /// use safe_report::{Capture, Report};
    /// use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend};
    /// use safe_report::render::{ReportTemplate, TemplateError};
    ///
    /// struct Short;
    ///
    /// impl ReportTemplate for Short {
    ///     fn email_text(&self, report: &Report) -> Result<String, TemplateError> {
    ///         Ok(format!("{}: see the logs", report.exception_type.as_deref().unwrap_or("?")))
    ///     }
    /// }
    ///
    /// let outbox = MemoryBackend::new();
    /// let config = MailConfig::builder().admins(["ops@example.com"]).build()?;
    /// let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
    /// let notifier = AdminNotifier::new(mailer.clone()).template(Short);
    /// notifier.notify(Level::Error, "payment failed", Capture::error("PaymentError", "declined"));
    /// assert!(mailer.flush(Duration::from_secs(10)));
    /// assert_eq!(outbox.messages()[0].text(), "payment failed\n\nPaymentError: see the logs");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn template(mut self, template: impl ReportTemplate) -> Self {
        self.template = Some(Arc::new(template));
        self
    }

    /// The same, shared.
    pub(crate) fn shared_template(mut self, template: Arc<dyn ReportTemplate>) -> Self {
        self.template = Some(template);
        self
    }

    /// Whether a template was given.
    pub(crate) fn has_template(&self) -> bool {
        self.template.is_some()
    }

    /// Applies `controls`: ignore rules and sampling before flood control (an ignored or
    /// unsampled error answers [`Outcome::Ignored`]), their grouping for flood control,
    /// and their `before_send` on the mail worker (a dropped report sends nothing).
    ///
    /// ```
    /// use std::time::Duration;
    /// use safe_report::Capture;
    /// use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend, Outcome};
    /// use safe_report::report::Controls;
    ///
    /// let outbox = MemoryBackend::new();
    /// let config = MailConfig::builder().admins(["ops@example.com"]).build()?;
    /// let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
    /// let notifier = AdminNotifier::new(mailer.clone())
    ///     .controls(Controls::new().ignore_type("Cancelled"));
    /// let ignored = notifier.notify(Level::Error, "cancelled", Capture::error("Cancelled", "by user"));
    /// assert_eq!(ignored, Outcome::Ignored);
    /// assert!(mailer.flush(Duration::from_secs(10)));
    /// assert!(outbox.messages().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn controls(mut self, controls: Controls) -> Self {
        self.controls = controls;
        self
    }

    /// Whether controls were given.
    pub(crate) fn has_controls(&self) -> bool {
        !self.controls.is_empty()
    }

    /// The mailer.
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Reports `capture` at `level` with the log `message`. Never waits: the caller pays
    /// the fingerprint, a flood-control lookup and the enqueue.
    pub fn notify(&self, level: Level, message: impl Into<String>, capture: Capture) -> Outcome {
        let mut capture = capture;
        if !self.controls.admit_once(&mut capture) {
            return Outcome::Ignored;
        }
        let message = message.into();
        let fingerprint = self
            .controls
            .fingerprint_of(&capture)
            .unwrap_or_else(|| Fingerprint::of(&capture, &message));
        let label = capture
            .error
            .type_name
            .clone()
            .unwrap_or_else(|| "Report".to_owned());
        let audience = self.audience;
        let renderer = Arc::clone(&self.renderer);
        let template = self.template.clone();
        let controls = self.controls.clone();
        self.mailer.submit(
            Some(audience),
            Some((fingerprint, level, &label)),
            Box::new(move |config| {
                let report = match &template {
                    Some(template) => renderer.render_templated(
                        &capture,
                        &message,
                        EmailParts::of(config),
                        &controls,
                        template.as_ref(),
                    )?,
                    None => renderer.render_controlled(
                        &capture,
                        &message,
                        EmailParts::of(config),
                        &controls,
                    )?,
                };
                let message = report.message;
                let title = match &capture.request {
                    Some(request) => {
                        let internal = request
                            .remote_addr
                            .as_deref()
                            .is_some_and(|addr| config.is_internal_ip(addr));
                        let ip = if internal { "internal" } else { "EXTERNAL" };
                        format!("{level} ({ip} IP): {message}")
                    }
                    None => format!("{level}: {message}"),
                };
                let environment = match &report.environment {
                    Some(environment) => format!("[{environment}] "),
                    None => String::new(),
                };
                let mut email = Email::new(
                    config.server_email.clone(),
                    audience.recipients(config).to_vec(),
                    format!("{}{environment}{title}", config.subject_prefix),
                    format!("{message}\n\n{}", report.text),
                );
                if let Some(html) = report.html {
                    email = email.with_html(html);
                }
                Some(Composed { email, title })
            }),
        )
    }
}
