//! Where mail goes: the backend choice and the SMTP settings, read from an email URL.
//!
//! ```text
//! smtp://user:password@smtp.example.com:587?tls=required&connect_timeout=10s&timeout=30s
//! smtps://user:password@smtp.example.com          (TLS from the first byte, port 465)
//! console:                                        (print each message)
//! file:///var/spool/safe-report                   (one .eml file per message)
//! null:                                           (drop everything)
//! ```

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::config::ConfigError;

/// Default time allowed to connect, including the greeting and `EHLO`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time allowed for each SMTP command (and the TLS handshake) after connecting.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Which backend the mailer uses (Django's `EMAIL_BACKEND`).
///
/// ```
/// use safe_report::mail::{BackendConfig, TlsMode};
///
/// let backend = BackendConfig::from_url("smtp://app:s3cret@smtp.example.com:587?tls=required")?;
/// let BackendConfig::Smtp(smtp) = &backend else { unreachable!() };
/// assert_eq!(smtp.port, 587);
/// assert_eq!(smtp.tls, TlsMode::StartTls);
/// assert_eq!(backend.to_string(), "smtp://[redacted]@smtp.example.com:587?tls=required&connect_timeout=10s&timeout=30s");
/// # Ok::<(), safe_report::mail::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendConfig {
    /// An SMTP server (needs the `smtp` feature to deliver).
    Smtp(SmtpConfig),
    /// Print each message on standard output.
    Console,
    /// One `.eml` file per message in this directory.
    File(PathBuf),
    /// Drop every message.
    Null,
}

impl Default for BackendConfig {
    /// Django's default: SMTP on `localhost:25`, without TLS.
    fn default() -> Self {
        BackendConfig::Smtp(SmtpConfig::new("localhost"))
    }
}

impl BackendConfig {
    /// Reads an email URL (`smtp://`, `smtps://`, `console:`, `file:///dir`, `null:`).
    ///
    /// Errors name the problem and show the URL with its credentials redacted.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        parse(url, "email URL")
    }
}

impl fmt::Display for BackendConfig {
    /// The URL form, credentials redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendConfig::Smtp(smtp) => smtp.fmt(f),
            BackendConfig::Console => f.write_str("console:"),
            BackendConfig::File(dir) => write!(f, "file://{}", dir.display()),
            BackendConfig::Null => f.write_str("null:"),
        }
    }
}

/// How the SMTP connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (`tls=none`): only for a relay on the same host or network.
    None,
    /// `STARTTLS` when the server offers it, plain text otherwise (`tls=opportunistic`):
    /// an attacker on the path can strip it. Credentials are never sent in plain text to a
    /// host that is not a loopback address.
    Opportunistic,
    /// `STARTTLS`, required (`tls=required` or `tls=starttls`; port 587).
    StartTls,
    /// TLS from the first byte (`smtps://`, `tls=implicit` or `tls=wrapper`; port 465).
    Implicit,
}

impl TlsMode {
    fn as_query(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::Opportunistic => "opportunistic",
            TlsMode::StartTls => "required",
            TlsMode::Implicit => "implicit",
        }
    }
}

/// A secret (the SMTP password): shown as `[redacted]` by `Debug`, no `Display`.
///
/// ```
/// use safe_report::mail::Password;
///
/// assert_eq!(format!("{:?}", Password::new("hunter2")), "[redacted]");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    #[cfg_attr(not(feature = "smtp"), allow(dead_code))]
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// SMTP server settings. `Debug` and `Display` show neither the user name nor the password.
///
/// ```
/// use std::time::Duration;
/// use safe_report::mail::{SmtpConfig, TlsMode};
///
/// let smtp = SmtpConfig::new("smtp.example.com")
///     .port(587)
///     .tls(TlsMode::StartTls)
///     .credentials("app", "s3cret")
///     .command_timeout(Duration::from_secs(20));
/// assert!(!format!("{smtp:?} {smtp}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmtpConfig {
    /// The server's host name or IP address.
    pub host: String,
    /// The port (25 by default; 587 for `STARTTLS`, 465 for implicit TLS from a URL).
    pub port: u16,
    /// How the connection is encrypted.
    pub tls: TlsMode,
    /// The user name for `AUTH`, if any.
    pub username: Option<String>,
    /// The password for `AUTH`, if any.
    pub password: Option<Password>,
    /// Time allowed to connect, read the greeting and answer `EHLO`.
    pub connect_timeout: Duration,
    /// Time allowed for each later command, the TLS handshake and the message data.
    pub command_timeout: Duration,
    /// Extra trusted root certificates (PEM), for a server with a private CA.
    pub root_certificates: Vec<String>,
}

impl SmtpConfig {
    /// `host` on port 25, no TLS, no credentials, default timeouts.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            port: 25,
            tls: TlsMode::None,
            username: None,
            password: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            root_certificates: Vec::new(),
        }
    }

    /// Sets the port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the TLS mode.
    #[must_use]
    pub fn tls(mut self, tls: TlsMode) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the user name and password for `AUTH`.
    #[must_use]
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(Password::new(password));
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the per-command timeout.
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Trusts this root certificate (PEM) in addition to the Mozilla roots.
    #[must_use]
    pub fn root_certificate(mut self, pem: impl Into<String>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Reads an `smtp://` or `smtps://` URL.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        match parse(url, "email URL")? {
            BackendConfig::Smtp(smtp) => Ok(smtp),
            other => Err(ConfigError::Url {
                setting: "email URL".to_owned(),
                url: other.to_string(),
                reason: "not an smtp:// or smtps:// URL".to_owned(),
            }),
        }
    }

    /// Whether the host is a loopback address (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether credentials are set.
    pub fn has_credentials(&self) -> bool {
        self.username.is_some() || self.password.is_some()
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { Some("[redacted]") } else { None };
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &redacted(self.username.is_some()))
            .field("password", &redacted(self.password.is_some()))
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("root_certificates", &self.root_certificates.len())
            .finish()
    }
}

impl fmt::Display for SmtpConfig {
    /// `smtp://[redacted]@host:port?tls=…&connect_timeout=…&timeout=…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == TlsMode::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let credentials = if self.has_credentials() {
            "[redacted]@"
        } else {
            ""
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{scheme}://{credentials}{host}:{}", self.port)?;
        if self.tls != TlsMode::Implicit {
            write!(f, "?tls={}&", self.tls.as_query())?;
        } else {
            f.write_str("?")?;
        }
        write!(
            f,
            "connect_timeout={}&timeout={}",
            duration_text(self.connect_timeout),
            duration_text(self.command_timeout)
        )
    }
}

fn duration_text(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// The URL with user name and password replaced, for error messages.
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..end].rfind('@') {
                Some(at) => format!("{scheme}://[redacted]@{}", &rest[at + 1..]),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

fn parse(raw: &str, setting: &str) -> Result<BackendConfig, ConfigError> {
    let error = |reason: String| ConfigError::Url {
        setting: setting.to_owned(),
        url: redact_url(raw),
        reason,
    };
    let url = url::Url::parse(raw.trim()).map_err(|e| error(e.to_string()))?;
    match url.scheme() {
        "console" => return Ok(BackendConfig::Console),
        "null" | "dummy" => return Ok(BackendConfig::Null),
        "file" => {
            let path = url
                .to_file_path()
                .map_err(|()| error("a file URL needs an absolute path".to_owned()))?;
            return Ok(BackendConfig::File(path));
        }
        "smtp" | "smtps" => {}
        other => {
            return Err(error(format!(
                "unknown scheme {other:?}; expected smtp, smtps, console, file or null"
            )));
        }
    }
    let host = url
        .host_str()
        .filter(|host| !host.is_empty())
        .ok_or_else(|| error("no host".to_owned()))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let mut smtp = SmtpConfig::new(host);
    smtp.tls = if url.scheme() == "smtps" {
        TlsMode::Implicit
    } else {
        TlsMode::None
    };
    let decode = |text: &str| {
        percent_decode(text)
            .ok_or_else(|| error("the credentials are not valid percent-encoded UTF-8".to_owned()))
    };
    if !url.username().is_empty() {
        smtp.username = Some(decode(url.username())?);
    }
    if let Some(password) = url.password() {
        smtp.password = Some(Password::new(decode(password)?));
    }
    for (key, value) in url.query_pairs() {
        match &*key {
            "tls" => {
                smtp.tls = match &*value {
                    "none" | "false" | "off" => TlsMode::None,
                    "opportunistic" => TlsMode::Opportunistic,
                    "required" | "starttls" => TlsMode::StartTls,
                    "implicit" | "wrapper" => TlsMode::Implicit,
                    other => {
                        return Err(error(format!(
                            "tls={other:?}; expected none, opportunistic, required (starttls) or implicit (wrapper)"
                        )));
                    }
                }
            }
            "connect_timeout" => {
                smtp.connect_timeout = parse_duration(&value).ok_or_else(|| {
                    error(format!(
                        "connect_timeout={value:?} is not a duration such as 10s"
                    ))
                })?;
            }
            "timeout" | "command_timeout" => {
                smtp.command_timeout = parse_duration(&value).ok_or_else(|| {
                    error(format!("timeout={value:?} is not a duration such as 30s"))
                })?;
            }
            other => return Err(error(format!("unknown parameter {other:?}"))),
        }
    }
    smtp.port = match url.port() {
        Some(port) => port,
        None => match smtp.tls {
            TlsMode::Implicit => 465,
            TlsMode::StartTls => 587,
            TlsMode::None | TlsMode::Opportunistic => 25,
        },
    };
    Ok(BackendConfig::Smtp(smtp))
}

fn percent_decode(text: &str) -> Option<String> {
    // Userinfo keeps `+` as it is (form decoding would turn it into a space).
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

/// `30`, `30s`, `500ms`, `5m`, `1h`, or any duration jiff reads (`1m 30s`, `PT30S`).
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let signed: jiff::SignedDuration = text.parse().ok()?;
    Duration::try_from(signed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_url_with_credentials_starttls_and_timeouts() {
        let smtp = SmtpConfig::from_url(
            "smtp://user%40example.com:p%40ss+w@mail.example.com:2525?tls=starttls&connect_timeout=5s&timeout=500ms",
        )
        .unwrap();
        assert_eq!(smtp.host, "mail.example.com");
        assert_eq!(smtp.port, 2525);
        assert_eq!(smtp.tls, TlsMode::StartTls);
        assert_eq!(smtp.username.as_deref(), Some("user@example.com"));
        assert_eq!(smtp.password.as_ref().unwrap().expose(), "p@ss+w");
        assert_eq!(smtp.connect_timeout, Duration::from_secs(5));
        assert_eq!(smtp.command_timeout, Duration::from_millis(500));
    }

    #[test]
    fn default_ports_follow_the_tls_mode() {
        assert_eq!(SmtpConfig::from_url("smtp://h").unwrap().port, 25);
        assert_eq!(
            SmtpConfig::from_url("smtp://h?tls=required").unwrap().port,
            587
        );
        let implicit = SmtpConfig::from_url("smtps://h").unwrap();
        assert_eq!((implicit.port, implicit.tls), (465, TlsMode::Implicit));
    }

    #[test]
    fn other_schemes_choose_other_backends() {
        assert_eq!(
            BackendConfig::from_url("console:").unwrap(),
            BackendConfig::Console
        );
        assert_eq!(
            BackendConfig::from_url("null://").unwrap(),
            BackendConfig::Null
        );
        assert_eq!(
            BackendConfig::from_url("file:///var/mail/x").unwrap(),
            BackendConfig::File(PathBuf::from("/var/mail/x"))
        );
    }

    #[test]
    fn errors_name_the_problem_and_never_show_credentials() {
        for url in [
            "smtp://bob:hunter2@h?tls=maybe",
            "smtp://bob:hunter2@h?colour=red",
            "ftp://bob:hunter2@h",
            "smtp://bob:hunter2@h?timeout=soon",
        ] {
            let message = BackendConfig::from_url(url).unwrap_err().to_string();
            assert!(!message.contains("hunter2"), "{message}");
            assert!(!message.contains("bob"), "{message}");
            assert!(
                message.contains("smtp://[redacted]@h") || message.contains("ftp://[redacted]@h"),
                "{message}"
            );
        }
    }

    #[test]
    fn debug_and_display_redact_user_and_password() {
        let smtp = SmtpConfig::from_url("smtp://bob:hunter2@h:587?tls=required").unwrap();
        let shown = format!("{smtp:?} {smtp}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("bob"),
            "{shown}"
        );
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(SmtpConfig::new("localhost").is_loopback());
        assert!(SmtpConfig::new("127.0.0.2").is_loopback());
        assert!(SmtpConfig::new("::1").is_loopback());
        assert!(!SmtpConfig::new("smtp.example.com").is_loopback());
    }
}
