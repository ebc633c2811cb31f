//! Deploy checks for mail, like Django's `check --deploy`: misconfigurations that make
//! error reports go nowhere, go out insecurely, or leak.

use std::fmt;
use std::time::Duration;

use super::config::{DEFAULT_SERVER_EMAIL, MailConfig};
use super::email_url::{BackendConfig, TlsMode};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// Reports will not arrive, or secrets can be read on the network.
    Error,
    /// Likely a mistake in production.
    Warning,
}

/// Whether the service runs with debug on, for [`check_deploy`]. A closed pair (debug is
/// on or off), so it is not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DebugMode {
    /// Debug off: the production setting.
    Off,
    /// Debug on: the debug page is shown to visitors.
    On,
}

impl From<bool> for DebugMode {
    /// `true` is [`DebugMode::On`].
    fn from(debug: bool) -> Self {
        if debug { DebugMode::On } else { DebugMode::Off }
    }
}

/// One finding of [`check_deploy`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeployIssue {
    /// A stable id, such as `mail.W002`.
    pub id: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: &'static str,
}

impl fmt::Display for DeployIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} HINT: {}", self.id, self.message, self.hint)
    }
}

/// Lists misconfigurations of mail for a production deployment; `debug` is the service's
/// debug mode. An empty list means nothing was found.
///
/// | id | severity | finding |
/// |---|---|---|
/// | `mail.E001` | error | SMTP credentials over a connection without TLS to a non-loopback host |
/// | `mail.W001` | warning | debug mode is on |
/// | `mail.W002` | warning | no admins: error reports go nowhere |
/// | `mail.W003` | warning | no managers: broken-link reports go nowhere |
/// | `mail.W004` | warning | the server email is the default `root@localhost` |
/// | `mail.W005` | warning | SMTP without TLS, or with optional `STARTTLS`, to a non-loopback host |
/// | `mail.W006` | warning | the subject prefix is empty |
/// | `mail.W007` | warning | the backend is the console or null backend |
/// | `mail.W008` | warning | flood control is off |
/// | `mail.W009` | warning | an SMTP timeout is longer than 2 minutes |
/// | `build.W001` | warning | debug off, and the application's code has no line tables: frames show no file or line |
///
/// `build.W001` looks at the code that calls `check_deploy` (see
/// [`caller_has_line_tables`](crate::runtime::trace::caller_has_line_tables)), so call it
/// from the application's crate; this resolves a few addresses, which loads the debug
/// information as the first report would.
///
/// ```
/// use safe_report::mail::{DebugMode, MailConfig, check_deploy};
///
/// let config = MailConfig::builder()
///     .email_url("smtp://app:s3cret@smtp.example.com:25")
///     .subject_prefix("")
///     .build()?;
/// let ids: Vec<_> = check_deploy(&config, DebugMode::On).iter().map(|issue| issue.id).collect();
/// assert_eq!(ids, ["mail.E001", "mail.W001", "mail.W002", "mail.W003", "mail.W004", "mail.W005", "mail.W006"]);
///
/// let good = MailConfig::builder()
///     .admins(["ops@example.com"])
///     .managers(["web@example.com"])
///     .server_email("errors@example.com")
///     .subject_prefix("[shop] ")
///     .email_url("smtps://app:s3cret@smtp.example.com")
///     .build()?;
/// // Nothing about mail (`build.W001` depends on how this example was compiled).
/// assert!(check_deploy(&good, DebugMode::Off).iter().all(|issue| !issue.id.starts_with("mail.")));
/// # Ok::<(), safe_report::mail::ConfigError>(())
/// ```
#[inline(never)]
pub fn check_deploy(config: &MailConfig, debug: DebugMode) -> Vec<DeployIssue> {
    let debug = debug == DebugMode::On;
    let mut issues = Vec::new();
    let mut add = |id, severity, message: String, hint| {
        issues.push(DeployIssue {
            id,
            severity,
            message,
            hint,
        })
    };
    let smtp = match &config.backend {
        BackendConfig::Smtp(smtp) => Some(smtp),
        _ => None,
    };
    if let Some(smtp) = smtp
        && smtp.has_credentials()
        && matches!(smtp.tls, TlsMode::None | TlsMode::Opportunistic)
        && !smtp.is_loopback()
    {
        add(
            "mail.E001",
            Severity::Error,
            format!("SMTP credentials for {smtp} may be sent without TLS."),
            "Use smtps:// or ?tls=required.",
        );
    }
    if debug {
        add(
            "mail.W001",
            Severity::Warning,
            "Debug mode is on: the debug page is shown to visitors and no broken-link mail is sent."
                .to_owned(),
            "Turn debug off in production.",
        );
    }
    if config.admins.is_empty() {
        add(
            "mail.W002",
            Severity::Warning,
            "No admins: error reports are not mailed to anyone.".to_owned(),
            "Set SAFE_REPORT_ADMINS.",
        );
    }
    if config.managers.is_empty() {
        add(
            "mail.W003",
            Severity::Warning,
            "No managers: broken-link reports are not mailed to anyone.".to_owned(),
            "Set SAFE_REPORT_MANAGERS, or ignore this if you do not report broken links.",
        );
    }
    if config.server_email.email.to_string() == DEFAULT_SERVER_EMAIL {
        add(
            "mail.W004",
            Severity::Warning,
            format!(
                "The server email is the default {DEFAULT_SERVER_EMAIL}: many servers reject or junk it."
            ),
            "Set SAFE_REPORT_SERVER_EMAIL to an address of your domain.",
        );
    }
    if let Some(smtp) = smtp
        && matches!(smtp.tls, TlsMode::None | TlsMode::Opportunistic)
        && !smtp.is_loopback()
    {
        add(
            "mail.W005",
            Severity::Warning,
            format!("Reports go to {smtp} without required TLS: anyone on the path can read them."),
            "Use smtps:// or ?tls=required, or a relay on the same host.",
        );
    }
    if config.subject_prefix.trim().is_empty() {
        add(
            "mail.W006",
            Severity::Warning,
            "The subject prefix is empty: reports from different services look alike.".to_owned(),
            "Set SAFE_REPORT_EMAIL_SUBJECT_PREFIX, such as \"[shop] \".",
        );
    }
    if matches!(config.backend, BackendConfig::Console | BackendConfig::Null) {
        add(
            "mail.W007",
            Severity::Warning,
            format!(
                "The mail backend is {}: reports are not delivered.",
                config.backend
            ),
            "Set SAFE_REPORT_EMAIL_URL to an smtp:// or smtps:// URL.",
        );
    }
    if !config.flood.enabled {
        add(
            "mail.W008",
            Severity::Warning,
            "Flood control is off: an error in a loop sends one email per occurrence.".to_owned(),
            "Keep flood control on in production.",
        );
    }
    if let Some(smtp) = smtp
        && (smtp.connect_timeout > LONG_TIMEOUT || smtp.command_timeout > LONG_TIMEOUT)
    {
        add(
            "mail.W009",
            Severity::Warning,
            format!(
                "An SMTP timeout of {smtp} is longer than 2 minutes: a stalled server holds up every report."
            ),
            "Use connect_timeout and timeout of at most a minute or two.",
        );
    }
    if !debug && crate::runtime::trace::caller_has_line_tables() == Some(false) {
        add(
            "build.W001",
            Severity::Warning,
            "The application's code has no line tables: report frames show no file or line, except the panic's own location.".to_owned(),
            "Set debug = \"line-tables-only\" for the application's package in [profile.release.package.<name>], and split the debug information off if the binary must stay small (docs/production.md).",
        );
    }
    issues
}

const LONG_TIMEOUT: Duration = Duration::from_secs(120);
