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
    /// Errors name the problem. They show a URL that parses with everything between its
    /// scheme and its last `@` redacted, and never show one that does not parse.
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
#[non_exhaustive]
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

/// What an error says to add when an `@` sits outside the user name and password.
const ENCODE_HINT: &str =
    "a / # ? or @ in the user name or password must be percent-encoded (%2F %23 %3F %40)";

/// The schemes an email URL may have.
const SCHEMES: &[&str] = &["smtp", "smtps", "console", "file", "null", "dummy"];

/// The URL for error messages: everything between the scheme and the last `@` replaced,
/// however malformed the URL. An `@` ends the user name and password of a URL, and one that
/// is not where a parser expects it (a password with an unencoded `/`, `#` or `?`, a
/// missing `//`) still means that whatever comes before it may be a credential.
///
/// The scheme is kept when it is followed by `//` or is one this crate knows; otherwise
/// (`bob:secret@host`) what looks like a scheme may be a user name, and is hidden too.
pub(crate) fn redact_url(url: &str) -> String {
    let url = url.trim();
    let Some(at) = url.rfind('@') else {
        return url.to_owned();
    };
    let kept = scheme_prefix(url).filter(|&end| end <= at).unwrap_or(0);
    format!("{}[redacted]@{}", &url[..kept], &url[at + 1..])
}

/// The length of `scheme:` and the slashes after it, when `url` starts with a scheme that
/// is followed by `//` or is a known one.
fn scheme_prefix(url: &str) -> Option<usize> {
    let colon = url.find(':')?;
    let scheme = &url[..colon];
    let well_formed = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !well_formed {
        return None;
    }
    let slashes = url[colon + 1..].bytes().take_while(|&b| b == b'/').count();
    let known = SCHEMES
        .iter()
        .any(|known| scheme.eq_ignore_ascii_case(known));
    (known || slashes >= 2).then_some(colon + 1 + slashes)
}

fn parse(raw: &str, setting: &str) -> Result<BackendConfig, ConfigError> {
    let error = |reason: String| ConfigError::Url {
        setting: setting.to_owned(),
        url: redact_url(raw),
        reason,
    };
    // A URL that does not parse is never shown, not even redacted: which part holds a
    // credential is exactly what cannot be known.
    let url = url::Url::parse(raw.trim()).map_err(|parse_error| {
        let mut reason = parse_error.to_string();
        if raw.contains('@') {
            reason = format!("{reason}; {ENCODE_HINT}");
        }
        ConfigError::UrlSyntax {
            setting: setting.to_owned(),
            reason,
        }
    })?;
    match url.scheme() {
        "console" => return Ok(BackendConfig::Console),
        "null" | "dummy" => return Ok(BackendConfig::Null),
        "file" => {
            let path = url
                .to_file_path()
                .map_err(|()| error("a file URL needs an absolute path".to_owned()))?;
            return Ok(BackendConfig::File(path));
        }
        _ => {}
    }
    // An `@` in the path, query or fragment: the credentials held a `/`, `?` or `#` (or
    // the `//` is missing), and some of them were read as something else.
    if [
        url.path(),
        url.query().unwrap_or(""),
        url.fragment().unwrap_or(""),
    ]
    .iter()
    .any(|part| part.contains('@'))
    {
        return Err(error(format!(
            "an @ outside the user name and password; {ENCODE_HINT}"
        )));
    }
    match url.scheme() {
        "smtp" | "smtps" => {}
        // Named only when `//` follows it: in `bob:secret@host` the "scheme" is the user name.
        other if scheme_prefix(raw.trim()).is_some() => {
            return Err(error(format!(
                "unknown scheme {other:?}; expected smtp, smtps, console, file or null"
            )));
        }
        _ => {
            return Err(error(
                "unknown scheme; expected smtp, smtps, console, file or null".to_owned(),
            ));
        }
    }
    if url.fragment().is_some() {
        return Err(error(format!("a fragment (#…); {ENCODE_HINT}")));
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

    /// Display and Debug of the error of `url`, if it has one, with Debug of what it
    /// parsed to otherwise.
    fn shown(url: &str) -> String {
        match BackendConfig::from_url(url) {
            Err(error) => format!("{error} {error:?}"),
            Ok(backend) => format!("{backend} {backend:?}"),
        }
    }

    #[test]
    fn malformed_urls_never_show_the_password() {
        for (url, password) in [
            ("smtp://bob:pa/ss@h.example.com", "pa/ss"),
            ("smtp://bob:pa#ss@h.example.com", "pa#ss"),
            ("smtp://bob:pa?ss@h.example.com", "pa?ss"),
            ("smtp://bob:pa ss@h.example.com", "pa ss"),
            ("smtp://bob:pa\\ss@h.example.com", "pa\\ss"),
            ("smtp:bob:secret@host", "secret"),
            ("smtp:/bob:secret@host", "secret"),
            ("smtp:///bob:secret@host", "secret"),
            ("smtps:bob:secret@host:465", "secret"),
            ("bob:secret@host", "secret"),
            ("//bob:secret@host", "secret"),
            ("smtp//bob:secret@host", "secret"),
            (" smtp://bob:secret@host:port ", "secret"),
            ("smtp://bob:secret@host:99999", "secret"),
            ("smtp://bob:secret@[::1", "secret"),
            ("smtp://bob:secret@", "secret"),
            ("smtp://bob:secret@/path", "secret"),
            ("smtp://bob:se%ffcret@host", "se%ffcret"),
            ("smtp://bob:p@ss/w#rd@host", "p@ss/w#rd"),
            ("ftp:bob:secret@host", "secret"),
            ("smtp://bob:secret@host?tls=maybe", "secret"),
        ] {
            let shown = shown(url);
            assert!(!shown.contains(password), "{url}: {shown}");
        }
    }

    #[test]
    fn errors_say_that_special_characters_in_credentials_need_percent_encoding() {
        let message = BackendConfig::from_url("smtp://bob:pa/ss@h.example.com")
            .unwrap_err()
            .to_string();
        assert!(message.contains("percent-encoded"), "{message}");
        assert!(message.contains("email URL"), "{message}");
    }

    #[test]
    fn no_character_in_a_password_makes_it_shown() {
        // Every ASCII punctuation character and a few others, at the start, in the middle
        // and at the end of a password, in well-formed and malformed URLs: whatever the
        // outcome, no part of the password (nor of the user name) is shown.
        let specials: Vec<char> = (b'!'..=b'~')
            .map(char::from)
            .filter(|c| !c.is_ascii_alphanumeric())
            .chain([' ', '\t', 'é', '\u{0}'])
            .collect();
        let templates = [
            "smtp://Usr9:{}@h.example.com:587?tls=required",
            "smtps://Usr9:{}@h.example.com",
            "smtp:Usr9:{}@h.example.com",
            "smtp:/Usr9:{}@h.example.com",
            "Usr9:{}@h.example.com",
            "smtp://Usr9:{}@",
            "smtp://Usr9:{}@h.example.com:bad",
            "smtp://Usr9:{}@h.example.com?tls=sometimes",
            "smtp://Usr9:{}@[::1",
            "file://Usr9:{}@h.example.com/x",
            "  smtp://Usr9:{}@h.example.com  ",
        ];
        for template in templates {
            for &c in &specials {
                for password in [
                    format!("{c}Pw1Pw2"),
                    format!("Pw1{c}Pw2"),
                    format!("Pw1Pw2{c}"),
                    format!("Pw1{c}{c}Pw2{c}"),
                ] {
                    let url = template.replace("{}", &password);
                    let shown = shown(&url);
                    for part in ["Pw1", "Pw2"] {
                        assert!(!shown.contains(part), "{url:?}: {shown}");
                    }
                    if !template.trim_start().starts_with("Usr9") {
                        assert!(!shown.contains("Usr9"), "{url:?}: {shown}");
                    }
                }
            }
        }
    }

    #[test]
    fn redacting_hides_everything_between_the_scheme_and_the_last_at() {
        for (url, redacted) in [
            ("smtp://bob:pw@h", "smtp://[redacted]@h"),
            ("smtp://bob:p@w@h:25?x=1", "smtp://[redacted]@h:25?x=1"),
            (
                "smtp://bob:pa/ss@h.example.com",
                "smtp://[redacted]@h.example.com",
            ),
            ("smtp://bob:pa#ss@h", "smtp://[redacted]@h"),
            ("smtp:bob:secret@host", "smtp:[redacted]@host"),
            ("smtp:///bob:secret@host", "smtp:///[redacted]@host"),
            ("bob:secret@host", "[redacted]@host"),
            ("//bob:secret@host", "[redacted]@host"),
            ("smtp://h.example.com:25", "smtp://h.example.com:25"),
            ("console:", "console:"),
        ] {
            assert_eq!(redact_url(url), redacted, "{url}");
        }
    }
}
