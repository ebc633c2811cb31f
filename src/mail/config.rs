//! Mail configuration: who gets reports, from which address, through which backend, with
//! which queue and flood-control limits. Built in code or read from `SAFE_REPORT_*`
//! environment variables.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::{Mailbox, Mailboxes};

use super::email_url::{BackendConfig, Password, parse_duration, redact_url};
use super::flood::FloodConfig;
use super::queue::QueueConfig;

/// Django's `SERVER_EMAIL` default: the `From:` of report emails.
pub const DEFAULT_SERVER_EMAIL: &str = "root@localhost";
/// The default subject prefix (Django's is `"[Django] "`).
pub const DEFAULT_SUBJECT_PREFIX: &str = "[safe-report] ";

/// Mail settings (Django's `ADMINS`, `MANAGERS`, `SERVER_EMAIL`, `EMAIL_SUBJECT_PREFIX`,
/// `INTERNAL_IPS`, `EMAIL_BACKEND` and the SMTP settings), plus the queue and flood limits.
///
/// Build it with [`MailConfig::builder`], optionally starting from the environment
/// ([`MailConfigBuilder::env`]); `build` checks every address and value and names the bad
/// one. `Debug` never shows the SMTP credentials.
///
/// ```
/// use safe_report::mail::MailConfig;
///
/// let config = MailConfig::builder()
///     .admins(["ops@example.com", "\"Dev, On Call\" <dev@example.com>"])
///     .server_email("errors@shop.example.com")
///     .subject_prefix("[shop] ")
///     .internal_ips(["10.0.0.7"])
///     .email_url("smtp://app:s3cret@smtp.example.com:587?tls=required")
///     .build()?;
/// assert_eq!(config.admins.len(), 2);
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok::<(), safe_report::mail::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MailConfig {
    /// Who gets error reports (`SAFE_REPORT_ADMINS`).
    pub admins: Vec<Mailbox>,
    /// Who gets broken-link reports (`SAFE_REPORT_MANAGERS`).
    pub managers: Vec<Mailbox>,
    /// The `From:` address (`SAFE_REPORT_SERVER_EMAIL`, default `root@localhost`).
    pub server_email: Mailbox,
    /// Put before every subject (`SAFE_REPORT_EMAIL_SUBJECT_PREFIX`).
    pub subject_prefix: String,
    /// Client addresses shown as `internal` in subjects (`SAFE_REPORT_INTERNAL_IPS`).
    pub internal_ips: Vec<IpAddr>,
    /// Attach the HTML report as a `multipart/alternative` part
    /// (`SAFE_REPORT_EMAIL_INCLUDE_HTML`).
    pub include_html: bool,
    /// Where mail goes (`SAFE_REPORT_EMAIL_URL`).
    pub backend: BackendConfig,
    /// The queue to the background worker and its retries.
    pub queue: QueueConfig,
    /// Deduplication, digests and the global cap.
    pub flood: FloodConfig,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            admins: Vec::new(),
            managers: Vec::new(),
            server_email: DEFAULT_SERVER_EMAIL
                .parse()
                .expect("a valid default address"),
            subject_prefix: DEFAULT_SUBJECT_PREFIX.to_owned(),
            internal_ips: Vec::new(),
            include_html: false,
            backend: BackendConfig::default(),
            queue: QueueConfig::default(),
            flood: FloodConfig::default(),
        }
    }
}

impl MailConfig {
    /// A builder with the defaults.
    pub fn builder() -> MailConfigBuilder {
        MailConfigBuilder::default()
    }

    /// The configuration from the `SAFE_REPORT_*` environment variables alone.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::builder().env()?.build()
    }

    /// Whether `addr` is one of the internal IPs.
    pub fn is_internal_ip(&self, addr: &str) -> bool {
        addr.trim()
            .parse::<IpAddr>()
            .is_ok_and(|ip| self.internal_ips.contains(&ip))
    }
}

/// Builds a [`MailConfig`]; values are checked by [`build`](Self::build).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MailConfigBuilder {
    admins: Option<Setting<Vec<String>>>,
    managers: Option<Setting<Vec<String>>>,
    server_email: Option<Setting<String>>,
    subject_prefix: Option<String>,
    internal_ips: Option<Setting<Vec<String>>>,
    include_html: Option<bool>,
    email_url: Option<Setting<RawUrl>>,
    backend: Option<BackendConfig>,
    password: Option<Password>,
    queue: QueueConfig,
    flood: FloodConfig,
}

/// A value and where it came from (a builder method or an environment variable), so
/// errors can say which setting is wrong.
#[derive(Clone)]
struct Setting<T> {
    source: String,
    value: T,
}

impl<T> Setting<T> {
    fn code(method: &str, value: T) -> Self {
        Self {
            source: method.to_owned(),
            value,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Setting<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// An email URL as given: `Debug` shows it with everything between its scheme and its last
/// `@` redacted.
#[derive(Clone)]
struct RawUrl(String);

impl fmt::Debug for RawUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact_url(&self.0), f)
    }
}

/// The environment variables [`MailConfigBuilder::env`] reads.
pub const ENV_VARS: &[&str] = &[
    "SAFE_REPORT_ADMINS",
    "SAFE_REPORT_MANAGERS",
    "SAFE_REPORT_SERVER_EMAIL",
    "SAFE_REPORT_EMAIL_SUBJECT_PREFIX",
    "SAFE_REPORT_INTERNAL_IPS",
    "SAFE_REPORT_EMAIL_INCLUDE_HTML",
    "SAFE_REPORT_EMAIL_URL",
    "SAFE_REPORT_EMAIL_PASSWORD",
    "SAFE_REPORT_MAIL_QUEUE_CAPACITY",
    "SAFE_REPORT_MAIL_RETRY_FOR",
    "SAFE_REPORT_FLOOD_WINDOW",
    "SAFE_REPORT_FLOOD_MAX_PER_MINUTE",
    "SAFE_REPORT_FLOOD_MAX_FINGERPRINTS",
];

impl MailConfigBuilder {
    /// Reads the `SAFE_REPORT_*` variables of the process environment (see [`ENV_VARS`]
    /// and `docs/mail.md`). Unset variables leave the builder as it was; settings made
    /// after this call override the environment.
    pub fn env(self) -> Result<Self, ConfigError> {
        self.vars(ENV_VARS.iter().filter_map(|name| {
            std::env::var_os(name)
                .map(|value| (name.to_string(), value.to_string_lossy().into_owned()))
        }))
    }

    /// As [`env`](Self::env), from the given name and value pairs (for tests, or another
    /// source of settings). Names not in [`ENV_VARS`] are ignored.
    ///
    /// ```
    /// use safe_report::mail::MailConfig;
    ///
    /// let config = MailConfig::builder()
    ///     .vars([("SAFE_REPORT_ADMINS", "a@example.com, b@example.com"),
    ///            ("SAFE_REPORT_EMAIL_INCLUDE_HTML", "yes")])?
    ///     .build()?;
    /// assert_eq!(config.admins.len(), 2);
    /// assert!(config.include_html);
    ///
    /// let error = MailConfig::builder().vars([("SAFE_REPORT_FLOOD_WINDOW", "soon")]).unwrap_err();
    /// assert_eq!(error.to_string(),
    ///            "SAFE_REPORT_FLOOD_WINDOW: \"soon\" is not a duration (such as 300, 300s or 5m)");
    /// # Ok::<(), safe_report::mail::ConfigError>(())
    /// ```
    pub fn vars<I, K, V>(mut self, vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (name, value) in vars {
            let (name, value) = (name.as_ref(), value.as_ref());
            let setting = |value| Setting {
                source: name.to_owned(),
                value,
            };
            match name {
                "SAFE_REPORT_ADMINS" => self.admins = Some(setting(vec![value.to_owned()])),
                "SAFE_REPORT_MANAGERS" => self.managers = Some(setting(vec![value.to_owned()])),
                "SAFE_REPORT_SERVER_EMAIL" => {
                    self.server_email = Some(Setting {
                        source: name.to_owned(),
                        value: value.to_owned(),
                    })
                }
                "SAFE_REPORT_EMAIL_SUBJECT_PREFIX" => self.subject_prefix = Some(value.to_owned()),
                "SAFE_REPORT_INTERNAL_IPS" => {
                    self.internal_ips = Some(setting(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|ip| !ip.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    ))
                }
                "SAFE_REPORT_EMAIL_INCLUDE_HTML" => {
                    self.include_html = Some(parse_bool(name, value)?)
                }
                "SAFE_REPORT_EMAIL_URL" => {
                    self.email_url = Some(Setting {
                        source: name.to_owned(),
                        value: RawUrl(value.to_owned()),
                    })
                }
                "SAFE_REPORT_EMAIL_PASSWORD" => self.password = Some(Password::new(value)),
                "SAFE_REPORT_MAIL_QUEUE_CAPACITY" => {
                    self.queue.capacity = parse_number(name, value)?;
                }
                "SAFE_REPORT_MAIL_RETRY_FOR" => {
                    self.queue.retry_for = parse_env_duration(name, value)?
                }
                "SAFE_REPORT_FLOOD_WINDOW" => self.flood.window = parse_env_duration(name, value)?,
                "SAFE_REPORT_FLOOD_MAX_PER_MINUTE" => {
                    self.flood.max_per_minute = parse_number(name, value)?;
                }
                "SAFE_REPORT_FLOOD_MAX_FINGERPRINTS" => {
                    self.flood.max_fingerprints = parse_number(name, value)?;
                }
                _ => {}
            }
        }
        Ok(self)
    }

    /// Admins' addresses (`ops@example.com` or `"Name" <ops@example.com>`).
    pub fn admins<I, S>(mut self, addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.admins = Some(Setting::code(
            "admins",
            addresses.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Managers' addresses.
    pub fn managers<I, S>(mut self, addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.managers = Some(Setting::code(
            "managers",
            addresses.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// The `From:` address.
    pub fn server_email(mut self, address: impl Into<String>) -> Self {
        self.server_email = Some(Setting::code("server_email", address.into()));
        self
    }

    /// The subject prefix (include a trailing space).
    pub fn subject_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.subject_prefix = Some(prefix.into());
        self
    }

    /// Internal client addresses.
    pub fn internal_ips<I, S>(mut self, ips: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.internal_ips = Some(Setting::code(
            "internal_ips",
            ips.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Whether to attach the HTML report.
    pub fn include_html(mut self, include: bool) -> Self {
        self.include_html = Some(include);
        self
    }

    /// The email URL (see [`BackendConfig::from_url`]).
    pub fn email_url(mut self, url: impl Into<String>) -> Self {
        self.email_url = Some(Setting::code("email_url", RawUrl(url.into())));
        self.backend = None;
        self
    }

    /// The backend, given directly.
    pub fn backend(mut self, backend: BackendConfig) -> Self {
        self.backend = Some(backend);
        self.email_url = None;
        self
    }

    /// The SMTP password, overriding the URL's (keeps it out of the URL).
    pub fn smtp_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Password::new(password));
        self
    }

    /// The queue settings.
    pub fn queue(mut self, queue: QueueConfig) -> Self {
        self.queue = queue;
        self
    }

    /// The flood-control settings.
    pub fn flood(mut self, flood: FloodConfig) -> Self {
        self.flood = flood;
        self
    }

    /// Checks every value and builds the configuration.
    pub fn build(self) -> Result<MailConfig, ConfigError> {
        let mut config = MailConfig::default();
        if let Some(admins) = &self.admins {
            config.admins = parse_mailboxes(admins)?;
        }
        if let Some(managers) = &self.managers {
            config.managers = parse_mailboxes(managers)?;
        }
        if let Some(server_email) = &self.server_email {
            config.server_email = parse_mailbox(&server_email.source, &server_email.value)?;
        }
        if let Some(prefix) = self.subject_prefix {
            config.subject_prefix = prefix;
        }
        if let Some(ips) = &self.internal_ips {
            config.internal_ips = ips
                .value
                .iter()
                .map(|ip| {
                    ip.trim().parse().map_err(|_| ConfigError::Value {
                        setting: ips.source.clone(),
                        value: ip.clone(),
                        expected: "an IP address such as 10.0.0.7 or ::1",
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(include) = self.include_html {
            config.include_html = include;
        }
        if let Some(backend) = self.backend {
            config.backend = backend;
        } else if let Some(url) = &self.email_url {
            config.backend = BackendConfig::from_url(&url.value.0)
                .map_err(|error| error.for_setting(&url.source))?;
        }
        if let (Some(password), BackendConfig::Smtp(smtp)) = (self.password, &mut config.backend) {
            smtp.password = Some(password);
        }
        if self.queue.capacity == 0 {
            return Err(ConfigError::Value {
                setting: "queue.capacity".to_owned(),
                value: "0".to_owned(),
                expected: "a capacity of at least 1",
            });
        }
        config.queue = self.queue;
        config.flood = self.flood;
        Ok(config)
    }
}

fn parse_mailboxes(setting: &Setting<Vec<String>>) -> Result<Vec<Mailbox>, ConfigError> {
    let mut out = Vec::new();
    for entry in &setting.value {
        if entry.trim().is_empty() {
            continue;
        }
        // A list with commas and quoted names (`"Name, Full" <a@b>, c@d`), as lettre reads it.
        match Mailboxes::from_str(entry) {
            Ok(list) => out.extend(list),
            Err(_) => {
                // Find the first bad address for the message.
                for part in entry.split(',') {
                    parse_mailbox(&setting.source, part)?;
                }
                return Err(ConfigError::Address {
                    setting: setting.source.clone(),
                    value: entry.clone(),
                    reason: "not a list of email addresses".to_owned(),
                });
            }
        }
    }
    Ok(out)
}

fn parse_mailbox(source: &str, value: &str) -> Result<Mailbox, ConfigError> {
    value.trim().parse().map_err(|error| ConfigError::Address {
        setting: source.to_owned(),
        value: value.trim().to_owned(),
        reason: format!("{error}"),
    })
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(ConfigError::Value {
            setting: name.to_owned(),
            value: value.to_owned(),
            expected: "a boolean (true/false, yes/no, on/off, 1/0)",
        }),
    }
}

fn parse_number<T: FromStr>(name: &str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Value {
        setting: name.to_owned(),
        value: value.to_owned(),
        expected: "a whole number",
    })
}

fn parse_env_duration(name: &str, value: &str) -> Result<Duration, ConfigError> {
    parse_duration(value).ok_or_else(|| ConfigError::Value {
        setting: name.to_owned(),
        value: value.to_owned(),
        expected: "a duration (such as 300, 300s or 5m)",
    })
}

/// A configuration value that cannot be used. Messages name the setting (the environment
/// variable or builder method) and the bad value; an email URL is shown with everything
/// between its scheme and its last `@` redacted, or not at all when it does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// An email address that does not parse.
    Address {
        /// The setting.
        setting: String,
        /// The bad address.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An email URL that cannot be used.
    Url {
        /// The setting.
        setting: String,
        /// The URL, everything between its scheme and its last `@` redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An email URL that does not parse. It is not shown, not even redacted: where its
    /// credentials end is what cannot be known.
    UrlSyntax {
        /// The setting.
        setting: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Another value of the wrong form.
    Value {
        /// The setting.
        setting: String,
        /// The bad value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A regular expression that does not compile.
    Pattern {
        /// The setting.
        setting: String,
        /// The bad pattern.
        pattern: String,
        /// The compiler's message.
        reason: String,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Address {
                setting,
                value,
                reason,
            } => write!(
                f,
                "{setting}: {value:?} is not a valid email address ({reason})"
            ),
            ConfigError::Url {
                setting,
                url,
                reason,
            } => write!(f, "{setting}: {url} is not a usable email URL: {reason}"),
            ConfigError::UrlSyntax { setting, reason } => write!(
                f,
                "{setting}: not a valid email URL ({reason}); the value is not shown"
            ),
            ConfigError::Value {
                setting,
                value,
                expected,
            } => write!(f, "{setting}: {value:?} is not {expected}"),
            ConfigError::Pattern {
                setting,
                pattern,
                reason,
            } => write!(
                f,
                "{setting}: {pattern:?} is not a valid regular expression: {reason}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The same error, naming `setting` as the one that holds the bad value.
    pub(crate) fn for_setting(self, setting: &str) -> Self {
        match self {
            ConfigError::Url { url, reason, .. } => ConfigError::Url {
                setting: setting.to_owned(),
                url,
                reason,
            },
            ConfigError::UrlSyntax { reason, .. } => ConfigError::UrlSyntax {
                setting: setting.to_owned(),
                reason,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_django_where_django_has_one() {
        let config = MailConfig::builder().build().unwrap();
        assert!(config.admins.is_empty() && config.managers.is_empty());
        assert_eq!(config.server_email.to_string(), "root@localhost");
        assert_eq!(config.subject_prefix, "[safe-report] ");
        assert!(!config.include_html);
        assert_eq!(
            config.backend.to_string(),
            "smtp://localhost:25?tls=none&connect_timeout=10s&timeout=30s"
        );
    }

    #[test]
    fn environment_variables_fill_every_setting() {
        let config = MailConfig::builder()
            .vars([
                (
                    "SAFE_REPORT_ADMINS",
                    "\"Ops, Team\" <ops@example.com>, dev@example.com",
                ),
                ("SAFE_REPORT_MANAGERS", "pm@example.com"),
                ("SAFE_REPORT_SERVER_EMAIL", "errors@example.com"),
                ("SAFE_REPORT_EMAIL_SUBJECT_PREFIX", "[shop] "),
                ("SAFE_REPORT_INTERNAL_IPS", "127.0.0.1, ::1"),
                ("SAFE_REPORT_EMAIL_INCLUDE_HTML", "on"),
                (
                    "SAFE_REPORT_EMAIL_URL",
                    "smtp://app@smtp.example.com?tls=required",
                ),
                ("SAFE_REPORT_EMAIL_PASSWORD", "from-a-file"),
                ("SAFE_REPORT_MAIL_QUEUE_CAPACITY", "64"),
                ("SAFE_REPORT_MAIL_RETRY_FOR", "10m"),
                ("SAFE_REPORT_FLOOD_WINDOW", "60"),
                ("SAFE_REPORT_FLOOD_MAX_PER_MINUTE", "5"),
                ("SAFE_REPORT_FLOOD_MAX_FINGERPRINTS", "100"),
            ])
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(config.admins.len(), 2);
        assert_eq!(config.admins[0].name.as_deref(), Some("Ops, Team"));
        assert_eq!(config.managers[0].email.to_string(), "pm@example.com");
        assert_eq!(config.server_email.email.to_string(), "errors@example.com");
        assert_eq!(config.subject_prefix, "[shop] ");
        assert!(config.is_internal_ip("::1") && !config.is_internal_ip("10.0.0.1"));
        assert!(config.include_html);
        let BackendConfig::Smtp(smtp) = &config.backend else {
            panic!("smtp expected")
        };
        assert_eq!(smtp.password.as_ref().unwrap().expose(), "from-a-file");
        assert_eq!(config.queue.capacity, 64);
        assert_eq!(config.queue.retry_for, Duration::from_secs(600));
        assert_eq!(config.flood.window, Duration::from_secs(60));
        assert_eq!(config.flood.max_per_minute, 5);
        assert_eq!(config.flood.max_fingerprints, 100);
        assert!(!format!("{config:?}").contains("from-a-file"));
    }

    #[test]
    fn a_bad_address_is_named_with_its_variable() {
        let error = MailConfig::builder()
            .vars([("SAFE_REPORT_ADMINS", "ok@example.com, not-an-address")])
            .unwrap()
            .build()
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("SAFE_REPORT_ADMINS: \"not-an-address\""),
            "{message}"
        );
        let error = MailConfig::builder()
            .server_email("root@")
            .build()
            .unwrap_err();
        assert!(
            error.to_string().starts_with("server_email: \"root@\""),
            "{error}"
        );
    }

    #[test]
    fn a_bad_url_is_named_with_its_variable_and_redacted() {
        let error = MailConfig::builder()
            .vars([("SAFE_REPORT_EMAIL_URL", "smtp://u:hunter2@h?tls=sometimes")])
            .unwrap()
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("SAFE_REPORT_EMAIL_URL: smtp://[redacted]@h"),
            "{error}"
        );
        assert!(!error.contains("hunter2"));
    }

    #[test]
    fn bad_ips_and_booleans_are_named() {
        let error = MailConfig::builder()
            .internal_ips(["10.0.0.300"])
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "internal_ips: \"10.0.0.300\" is not an IP address such as 10.0.0.7 or ::1"
        );
        let error = MailConfig::builder()
            .vars([("SAFE_REPORT_EMAIL_INCLUDE_HTML", "maybe")])
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("SAFE_REPORT_EMAIL_INCLUDE_HTML: \"maybe\"")
        );
    }

    #[test]
    fn a_malformed_url_in_the_environment_is_named_but_never_shown() {
        for url in [
            "smtp://bob:Zx1/Zx2@h.example.com",
            "smtp://bob:Zx1#Zx2@h.example.com",
            "smtp:bob:Zx1Zx2@host",
            "smtp://bob:Zx1Zx2@host:port",
        ] {
            let builder = MailConfig::builder()
                .vars([("SAFE_REPORT_EMAIL_URL", url)])
                .unwrap();
            let debug = format!("{builder:?} {builder:#?}");
            let error = builder.build().unwrap_err();
            let shown = format!("{error} {error:?} {error:#?} {debug}");
            for part in ["Zx1", "Zx2", "bob"] {
                assert!(!shown.contains(part), "{url}: {shown}");
            }
            assert!(
                error.to_string().starts_with("SAFE_REPORT_EMAIL_URL: "),
                "{error}"
            );
            let error = MailConfig::builder().email_url(url).build().unwrap_err();
            assert!(error.to_string().starts_with("email_url: "), "{error}");
            assert!(!error.to_string().contains("Zx1"), "{error}");
        }
    }
}
