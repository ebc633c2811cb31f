//! The SMTP backend: lettre's SMTP client over rustls, with separate connect and command
//! timeouts.

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use super::{BackendError, Email, MailBackend};
use crate::mail::email_url::{SmtpConfig, TlsMode};

/// Delivers through an SMTP server (Django's `smtp.EmailBackend`), one connection per
/// email: connect (TCP, greeting and `EHLO` within the connect timeout), `STARTTLS` or TLS
/// from the first byte as configured, `AUTH` when credentials are set, then the message,
/// each step within the command timeout. TLS is rustls with the Mozilla roots plus any
/// configured root certificates; no OpenSSL.
///
/// Credentials are never sent over an unencrypted connection to a host that is not a
/// loopback address: that is a permanent error instead. Error messages name the server,
/// never the credentials.
///
/// ```
/// use safe_report::mail::{SmtpBackend, SmtpConfig, TlsMode};
///
/// let backend = SmtpBackend::new(
///     SmtpConfig::from_url("smtp://app:s3cret@smtp.example.com:587?tls=required")?,
/// )?;
/// assert!(!format!("{backend:?}").contains("s3cret"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SmtpBackend {
    config: SmtpConfig,
    tls: Option<TlsParameters>,
    hello: ClientId,
}

impl std::fmt::Debug for SmtpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpBackend")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SmtpBackend {
    /// A backend for `config`. Fails if a root certificate is not valid PEM.
    pub fn new(config: SmtpConfig) -> Result<Self, BackendError> {
        let tls = match config.tls {
            TlsMode::None => None,
            _ => {
                let mut builder = TlsParameters::builder(config.host.clone());
                for pem in &config.root_certificates {
                    let certificate = Certificate::from_pem(pem.as_bytes()).map_err(|error| {
                        BackendError::permanent(format!(
                            "{}: a root certificate is not valid PEM: {error}",
                            server(&config)
                        ))
                    })?;
                    builder = builder.add_root_certificate(certificate);
                }
                Some(builder.build_rustls().map_err(|error| {
                    BackendError::permanent(format!(
                        "{}: TLS setup failed: {error}",
                        server(&config)
                    ))
                })?)
            }
        };
        Ok(Self {
            hello: hello_name(),
            tls,
            config,
        })
    }

    fn deliver(&self, message: &lettre::Message) -> Result<(), Failure> {
        let raw = message.formatted();
        let config = &self.config;
        let wrapper = match config.tls {
            TlsMode::Implicit => self.tls.as_ref(),
            _ => None,
        };
        let mut connection = SmtpConnection::connect(
            (config.host.as_str(), config.port),
            Some(config.connect_timeout),
            &self.hello,
            wrapper,
            None,
        )?;
        let mut session = || -> Result<(), Failure> {
            connection
                .set_timeout(Some(config.command_timeout))
                .map_err(Failure::Timeout)?;
            match (config.tls, &self.tls) {
                (TlsMode::StartTls, Some(tls)) => connection.starttls(tls, &self.hello)?,
                (TlsMode::Opportunistic, Some(tls)) if connection.can_starttls() => {
                    connection.starttls(tls, &self.hello)?
                }
                _ => {}
            }
            if let (Some(username), Some(password)) = (&config.username, &config.password) {
                if !connection.is_encrypted() && !config.is_loopback() {
                    return Err(Failure::PlaintextCredentials);
                }
                let credentials = Credentials::new(username.clone(), password.expose().to_owned());
                connection.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)?;
            }
            connection.send(message.envelope(), &raw)?;
            Ok(())
        };
        match session() {
            Ok(()) => {
                let _ = connection.quit();
                Ok(())
            }
            Err(error) => {
                connection.abort();
                Err(error)
            }
        }
    }

    /// Hides the credentials in a server's or the client library's message, should one
    /// ever echo them.
    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let secrets = [
            self.config.password.as_ref().map(|p| p.expose().to_owned()),
            self.config.username.clone(),
        ];
        for secret in secrets.into_iter().flatten().filter(|s| s.len() >= 3) {
            text = text.replace(&secret, "[redacted]");
        }
        text
    }
}

/// Why one delivery failed.
enum Failure {
    Smtp(lettre::transport::smtp::Error),
    Timeout(std::io::Error),
    PlaintextCredentials,
}

impl From<lettre::transport::smtp::Error> for Failure {
    fn from(error: lettre::transport::smtp::Error) -> Self {
        Failure::Smtp(error)
    }
}

impl MailBackend for SmtpBackend {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        let message = email.to_message()?;
        self.deliver(&message).map_err(|failure| {
            let server = server(&self.config);
            match failure {
                Failure::PlaintextCredentials => BackendError::permanent(format!(
                    "SMTP delivery to {server} refused: credentials would go over an unencrypted \
                     connection (use tls=required or smtps://)"
                )),
                Failure::Timeout(error) => {
                    BackendError::transient(format!("SMTP delivery to {server} failed: {error}"))
                }
                Failure::Smtp(error) => {
                    let message = format!(
                        "SMTP delivery to {server} failed: {}",
                        self.scrub(&error.to_string())
                    );
                    if error.is_permanent() {
                        BackendError::permanent(message)
                    } else {
                        // Timeouts, refused connections, 4xx, a connection closed mid-DATA.
                        BackendError::transient(message)
                    }
                }
            }
        })
    }
}

fn server(config: &SmtpConfig) -> String {
    format!("{}:{}", config.host, config.port)
}

fn hello_name() -> ClientId {
    let name = crate::model::host_name();
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        ClientId::Domain(name)
    } else {
        ClientId::Domain("localhost".to_owned())
    }
}
