//! Django's `AdminEmailHandlerTest` (tests/logging_tests/tests.py, 12 tests), ported.
//!
//! Adaptations: Django's logger call `logger.error(msg, *args, extra={"request": …})` is
//! `AdminNotifier::notify(Level::Error, message, capture)`, with `format!` for the `%`
//! arguments and the request in the capture. `mail.outbox` is a `MemoryBackend`, read after
//! `Mailer::flush` because sending is asynchronous. Django's `reporter_class` is an
//! `EmailRenderer`; its `email_backend` is `MailerBuilder::backend`. Flood control is off
//! so that each test sees every mail, as Django sends them.
#![cfg(feature = "mail")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use safe_report::mail::{
    AdminNotifier, BackendError, Email, EmailParts, EmailRenderer, FloodConfig, Level, MailBackend,
    MailConfig, MailConfigBuilder, Mailer, MemoryBackend, Outcome, RenderedReport,
};
use safe_report::{Capture, ExceptionReporter, Frame, RequestInfo};

const WAIT: Duration = Duration::from_secs(10);

fn settings() -> MailConfigBuilder {
    MailConfig::builder()
        .admins(["admin@example.com"])
        .subject_prefix("[Django] ")
        .flood(FloodConfig::disabled())
}

fn handler(config: MailConfigBuilder) -> (AdminNotifier, Mailer, MemoryBackend) {
    let outbox = MemoryBackend::new();
    let mailer = Mailer::builder(config.build().unwrap())
        .backend(outbox.clone())
        .build()
        .unwrap();
    (AdminNotifier::new(mailer.clone()), mailer, outbox)
}

/// `RequestFactory().get(path)`: REMOTE_ADDR is 127.0.0.1.
fn rf_get(path: &str) -> RequestInfo {
    RequestInfo::new("GET", format!("http://testserver{path}")).remote_addr("127.0.0.1")
}

fn sent(mailer: &Mailer, outbox: &MemoryBackend) -> Vec<Email> {
    assert!(mailer.flush(WAIT));
    outbox.messages()
}

struct Failing;

impl MailBackend for Failing {
    fn send(&mut self, _email: &Email) -> Result<(), BackendError> {
        Err(BackendError::permanent("connection refused"))
    }
}

/// Django: the handler's connection has `fail_silently=True`. Here: a failing backend never
/// reaches the caller, who only sees the report queued.
#[test]
fn test_fail_silently() {
    let mailer = Mailer::builder(settings().build().unwrap())
        .backend(Failing)
        .build()
        .unwrap();
    let outcome =
        AdminNotifier::new(mailer.clone()).notify(Level::Error, "boom", Capture::message("x"));
    assert_eq!(outcome, Outcome::Queued);
    assert!(mailer.flush(WAIT));
    assert_eq!(mailer.stats().failed, 1);
}

#[test]
fn test_accepts_args() {
    let (notifier, mailer, outbox) = handler(settings().subject_prefix("-SuperAwesomeSubject-"));
    let message = format!("Custom message that says '{}' and '{}'", "ping", "pong");
    notifier.notify(Level::Error, message.clone(), Capture::message(message));
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to()[0].to_string(), "admin@example.com");
    assert_eq!(
        mail[0].subject(),
        "-SuperAwesomeSubject-ERROR: Custom message that says 'ping' and 'pong'"
    );
}

#[test]
fn test_accepts_args_and_request() {
    let (notifier, mailer, outbox) = handler(
        settings()
            .subject_prefix("-SuperAwesomeSubject-")
            .internal_ips(["127.0.0.1"]),
    );
    let message = format!("Custom message that says '{}' and '{}'", "ping", "pong");
    notifier.notify(
        Level::Error,
        message.clone(),
        Capture::message(message).with_request(rf_get("/")),
    );
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to()[0].to_string(), "admin@example.com");
    assert_eq!(
        mail[0].subject(),
        "-SuperAwesomeSubject-ERROR (internal IP): Custom message that says 'ping' and 'pong'"
    );
}

#[test]
fn test_subject_accepts_newlines() {
    let (notifier, mailer, outbox) = handler(settings().subject_prefix(""));
    let message = "Message \r\n with newlines";
    notifier.notify(Level::Error, message, Capture::message(message));
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail.len(), 1);
    assert!(!mail[0].subject().contains('\n'));
    assert!(!mail[0].subject().contains('\r'));
    assert_eq!(mail[0].subject(), "ERROR: Message \\r\\n with newlines");
}

/// Django: `email_backend="logging_tests.logconfig.MyEmailBackend"` is the connection used.
#[test]
fn test_uses_custom_email_backend() {
    #[derive(Clone, Default)]
    struct MyEmailBackend(Arc<AtomicUsize>);

    impl MailBackend for MyEmailBackend {
        fn send(&mut self, _email: &Email) -> Result<(), BackendError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    let backend = MyEmailBackend::default();
    let mailer = Mailer::builder(settings().build().unwrap())
        .backend(backend.clone())
        .build()
        .unwrap();
    AdminNotifier::new(mailer.clone()).notify(Level::Error, "message", Capture::message("message"));
    assert!(mailer.flush(WAIT));
    assert_eq!(backend.0.load(Ordering::SeqCst), 1);
}

#[test]
fn test_emit_non_ascii() {
    let (notifier, mailer, outbox) = handler(settings());
    notifier.notify(
        Level::Error,
        "message",
        Capture::message("message").with_request(rf_get("/º")),
    );
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to()[0].to_string(), "admin@example.com");
    assert_eq!(mail[0].subject(), "[Django] ERROR (EXTERNAL IP): message");
    assert!(
        mail[0].text().contains("Report at /º"),
        "{}",
        mail[0].text()
    );
}

/// Django overrides `send_mail` to call `mail_managers`; here the notifier is built for the
/// managers. ADMINS is empty and the manager still gets the report.
#[test]
fn test_customize_send_mail_method() {
    let outbox = MemoryBackend::new();
    let config = settings()
        .admins(Vec::<String>::new())
        .managers(["manager@example.com"])
        .build()
        .unwrap();
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .build()
        .unwrap();
    AdminNotifier::for_managers(mailer.clone()).notify(
        Level::Error,
        "message",
        Capture::message("message"),
    );
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to()[0].to_string(), "manager@example.com");
}

/// Django: a request with a disallowed Host must not crash the handler. Rust has no
/// ALLOWED_HOSTS: the equivalent hostile input is a request whose URL does not parse and
/// whose Host header is foreign; with and without the HTML part.
#[test]
fn test_disallowed_host_doesnt_crash() {
    for include_html in [false, true] {
        let (notifier, mailer, outbox) = handler(settings().include_html(include_html));
        let request = RequestInfo::new("GET", "//evil.com:bad port/\u{0}")
            .header("Host", "evil.com")
            .remote_addr("not an ip");
        notifier.notify(
            Level::Error,
            "Invalid HTTP_HOST header",
            Capture::message("x").with_request(request),
        );
        let mail = sent(&mailer, &outbox);
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].html().is_some(), include_html);
    }
}

/// Django: `handler.reporter_class is ExceptionReporter`. Here: the body is exactly what the
/// default `ExceptionReporter` renders for email.
#[test]
fn test_default_exception_reporter_class() {
    let (notifier, mailer, outbox) = handler(settings());
    let capture =
        Capture::error("ValueError", "bad").with_frame(Frame::new("app::view", "src/view.rs", 3));
    notifier.notify(Level::Error, "message", capture.clone());
    let mail = sent(&mailer, &outbox);
    let expected = format!(
        "message\n\n{}",
        ExceptionReporter::default()
            .text_report(&capture)
            .text()
            .for_email()
    );
    assert_eq!(mail[0].text(), expected);
}

#[test]
fn test_custom_exception_reporter_is_used() {
    struct CustomExceptionReporter;

    impl EmailRenderer for CustomExceptionReporter {
        fn render(&self, _capture: &Capture, message: &str, _parts: EmailParts) -> RenderedReport {
            RenderedReport::new(message, "custom traceback text", None)
        }
    }

    let (notifier, mailer, outbox) = handler(settings());
    let notifier = notifier.reporter(CustomExceptionReporter);
    notifier.notify(Level::Error, "message", Capture::message("message"));
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail[0].text(), "message\n\ncustom traceback text");
}

/// Django checks `<div id="traceback">` on a record without exc_info; our template shows
/// the traceback section only when there are frames, so the capture here has one.
#[test]
fn test_emit_no_form_tag() {
    let (notifier, mailer, outbox) = handler(settings().include_html(true));
    let capture = Capture::message("message").with_frame(Frame::new("app::view", "src/view.rs", 3));
    notifier.notify(Level::Error, "message", capture);
    let mail = sent(&mailer, &outbox);
    assert_eq!(mail[0].subject(), "[Django] ERROR: message");
    let html = mail[0].html().expect("one alternative");
    assert!(html.contains("<div id=\"traceback\">"));
    assert!(!html.contains("<form"));
    let mime = String::from_utf8(mail[0].to_mime().unwrap()).unwrap();
    assert_eq!(mime.matches("Content-Type: text/html").count(), 1);
}

#[test]
fn test_emit_no_admins() {
    struct MustNotRender(Arc<AtomicUsize>);

    impl EmailRenderer for MustNotRender {
        fn render(&self, _capture: &Capture, message: &str, _parts: EmailParts) -> RenderedReport {
            self.0.fetch_add(1, Ordering::SeqCst);
            RenderedReport::new(message, "", None)
        }
    }

    let calls = Arc::new(AtomicUsize::new(0));
    let (notifier, mailer, outbox) = handler(settings().admins(Vec::<String>::new()));
    let notifier = notifier.reporter(MustNotRender(Arc::clone(&calls)));
    assert_eq!(
        notifier.notify(Level::Error, "message", Capture::message("message")),
        Outcome::NoRecipients
    );
    assert!(sent(&mailer, &outbox).is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing is rendered");
}
