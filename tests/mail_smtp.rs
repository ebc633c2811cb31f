//! Admin emails through a real SMTP server (mailin-embedded, started here on 127.0.0.1):
//! plain and STARTTLS with AUTH. Every received message is parsed with a MIME parser
//! (mail-parser) and checked for its headers, its structure and filtered content.
#![cfg(feature = "smtp")]

mod support;

use std::time::Duration;

use mail_parser::MimeHeaders;

use safe_report::mail::{
    AdminNotifier, Level, MailConfig, Mailer, QueueConfig, SmtpConfig, TlsMode,
};
use safe_report::{Capture, Frame, RequestInfo, SensitiveNames};
use support::{ServerOptions, capture_logs, certificate, listener, start_smtp};

const WAIT: Duration = Duration::from_secs(20);

/// Canary secrets placed in every part of a capture; none may reach a mail.
const CANARIES: &[&str] = &[
    "hunter2-canary",
    "tok_live_canary_81b3",
    "sess-canary-7f7f",
    "Zm9vOmNhbmFyeWJhc2lj",
    "sk_live_canaryKEY123456",
    "4111111111111111",
];

fn capture_with_secrets() -> Capture {
    Capture::error("PaymentError", "card declined for order ord_42")
        .with_request(
            RequestInfo::new(
                "POST",
                "https://shop.example.com/pay?access_token=tok_live_canary_81b3&page=2",
            )
            .header("Authorization", "Basic Zm9vOmNhbmFyeWJhc2lj")
            .header("Cookie", "sessionid=sess-canary-7f7f; theme=dark")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("user=alice&password=hunter2-canary")
            .remote_addr("203.0.113.9"),
        )
        .with_settings(&serde_json::json!({"SECRET_KEY": "sk_live_canaryKEY123456", "WORKERS": 4}))
        .with_frame(
            Frame::new("shop::pay::charge", "src/pay.rs", 42)
                .var("card_number", "4111111111111111")
                .var("order_id", "ord_42")
                .sensitive_variables(SensitiveNames::names(["card_number"])),
        )
}

fn assert_no_canary(what: &str, text: &str) {
    for canary in CANARIES {
        assert!(!text.contains(canary), "{what} contains {canary}:\n{text}");
    }
}

fn fast_queue() -> QueueConfig {
    QueueConfig::default().backoff(Duration::from_millis(50), Duration::from_millis(200))
}

#[test]
fn plain_smtp_delivers_a_filtered_multipart_alternative_report() {
    let (listener, addr) = listener();
    let inbox = start_smtp(listener, ServerOptions::default());
    let config = MailConfig::builder()
        .admins(["ops@example.com", "\"Dev, On Call\" <dev@example.com>"])
        .server_email("errors@shop.example.com")
        .subject_prefix("[shop] ")
        .include_html(true)
        .email_url(format!("smtp://{addr}?timeout=5s"))
        .queue(fast_queue())
        .build()
        .unwrap();
    let mailer = Mailer::new(config).unwrap();
    let notifier = AdminNotifier::new(mailer.clone());

    notifier.notify(
        Level::Error,
        "Internal Server Error: /pay?access_token=tok_live_canary_81b3",
        capture_with_secrets(),
    );
    assert!(mailer.flush(WAIT));
    let received = inbox.wait_for(1, WAIT);
    assert_eq!(received.len(), 1);
    let envelope = &received[0];
    assert_eq!(envelope.from, "errors@shop.example.com");
    assert_eq!(envelope.to, ["ops@example.com", "dev@example.com"]);

    let message = envelope.parse();
    let subject = message.subject().unwrap();
    assert!(
        subject
            .starts_with("[shop] ERROR (EXTERNAL IP): Internal Server Error: /pay?access_token="),
        "{subject}"
    );
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("errors@shop.example.com")
    );
    let to: Vec<_> = message
        .to()
        .unwrap()
        .iter()
        .map(|a| (a.name().map(str::to_owned), a.address().unwrap().to_owned()))
        .collect();
    assert_eq!(
        to[1],
        (
            Some("Dev, On Call".to_owned()),
            "dev@example.com".to_owned()
        )
    );
    assert_eq!(
        message.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
    assert!(message.message_id().is_some());

    let content_type = message.root_part().content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(
        (message.text_body_count(), message.html_body_count()),
        (1, 1)
    );
    let text = message.body_text(0).unwrap();
    let html = message.body_html(0).unwrap();
    assert!(
        text.starts_with("Internal Server Error: /pay?access_token="),
        "{text}"
    );
    assert!(text.contains("PaymentError at /pay"));
    assert!(!text.contains("ord_42\"")); // the text report shows no variables
    assert!(html.contains("order_id") && html.contains("ord_42"));
    assert!(!html.contains("<script") && !html.contains("<form"));

    let raw = String::from_utf8_lossy(&envelope.data);
    for (what, content) in [
        ("subject", subject),
        ("text", &*text),
        ("html", &*html),
        ("raw message", &*raw),
    ] {
        assert_no_canary(what, content);
    }
}

#[test]
fn non_ascii_subjects_are_encoded_and_decode_back() {
    let (listener, addr) = listener();
    let inbox = start_smtp(listener, ServerOptions::default());
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!("smtp://{addr}"))
        .build()
        .unwrap();
    let mailer = Mailer::new(config).unwrap();
    AdminNotifier::new(mailer.clone()).notify(
        Level::Critical,
        "Café ✓ commande échouée",
        Capture::message("x"),
    );
    mailer.flush(WAIT);
    let received = inbox.wait_for(1, WAIT);
    let message = received[0].parse();
    let raw_subject = message.header_raw("Subject").unwrap();
    assert!(
        raw_subject.is_ascii() && raw_subject.contains("=?utf-8?"),
        "{raw_subject}"
    );
    assert_eq!(
        message.subject(),
        Some("[safe-report] CRITICAL: Café ✓ commande échouée")
    );
    let content_type = message.root_part().content_type().unwrap();
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("text", Some("plain"))
    );
}

#[test]
fn starttls_with_auth_delivers_to_a_server_with_a_private_certificate() {
    let cert = certificate();
    let (listener, addr) = listener();
    let inbox = start_smtp(
        listener,
        ServerOptions {
            tls: Some(&cert),
            credentials: Some(("reporter", "s3cret-pass")),
            ..ServerOptions::default()
        },
    );
    let smtp = SmtpConfig::new("127.0.0.1")
        .port(addr.port())
        .tls(TlsMode::StartTls)
        .credentials("reporter", "s3cret-pass")
        .root_certificate(cert.pem.clone());
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .backend(safe_report::mail::BackendConfig::Smtp(smtp))
        .queue(fast_queue())
        .build()
        .unwrap();
    let mailer = Mailer::new(config).unwrap();
    AdminNotifier::new(mailer.clone()).notify(Level::Error, "over TLS", capture_with_secrets());
    assert!(mailer.flush(WAIT));
    let received = inbox.wait_for(1, WAIT);
    assert_eq!(received.len(), 1);
    assert_eq!(*inbox.logins.lock().unwrap(), ["reporter"]);
    let message = received[0].parse();
    assert_eq!(
        message.subject(),
        Some("[safe-report] ERROR (EXTERNAL IP): over TLS")
    );
    assert_no_canary("text", &message.body_text(0).unwrap());
}

#[test]
fn a_starttls_url_with_credentials_authenticates_and_wrong_credentials_are_logged_without_the_password()
 {
    let cert = certificate();
    let (listener, addr) = listener();
    let inbox = start_smtp(
        listener,
        ServerOptions {
            tls: Some(&cert),
            credentials: Some(("reporter", "right-pass")),
            ..ServerOptions::default()
        },
    );
    let (logs, _guard) = capture_logs();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!(
            "smtp://reporter:wrong-pass-3e7@{addr}?tls=required"
        ))
        .queue(fast_queue())
        .build()
        .unwrap();
    let safe_report::mail::BackendConfig::Smtp(mut smtp) = config.backend.clone() else {
        unreachable!()
    };
    smtp.root_certificates.push(cert.pem.clone());
    let mailer = Mailer::builder(config)
        .backend(safe_report::mail::SmtpBackend::new(smtp).unwrap())
        .build()
        .unwrap();
    AdminNotifier::new(mailer.clone()).notify(Level::Error, "boom", Capture::message("x"));
    mailer.flush(WAIT);
    let text = logs.wait_for("mail dropped", WAIT);
    assert!(text.contains("535"), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{}", addr.port())),
        "{text}"
    );
    assert!(!text.contains("wrong-pass-3e7"), "{text}");
    assert_eq!(inbox.len(), 0);
    assert_eq!(mailer.stats().failed, 1);
    assert_eq!(*inbox.logins.lock().unwrap(), ["reporter"]);
}
