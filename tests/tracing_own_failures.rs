//! The crate's own failures never become reports: a mail worker that gives up logs an
//! ERROR event, and the `tracing` layer, installed in the same subscriber, must not turn it
//! (nor what libraries log while delivering) into a report of its own, which would be
//! mailed, fail, be logged, and so on.
#![cfg(all(feature = "tracing", feature = "smtp"))]

mod support;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use safe_report::Capture;
use safe_report::integrations::tracing::ReportLayer;
use safe_report::mail::{
    AdminNotifier, BackendError, Email, Level, MailBackend, MailConfig, Mailer, Outcome,
    QueueConfig,
};
use support::{Behaviour, Fault, Logs, ServerOptions, start_smtp};
use tracing_subscriber::layer::SubscriberExt as _;

const WAIT: Duration = Duration::from_secs(30);

type Reports = Arc<Mutex<Vec<Capture>>>;

/// A subscriber with the report layer (at `level`) and a log of every event; installed
/// as this thread's default while the guard lives, so mail workers built meanwhile log
/// through it too.
fn install(level: tracing::Level) -> (Reports, Logs, tracing::subscriber::DefaultGuard) {
    let reports: Reports = Arc::default();
    let sink = Arc::clone(&reports);
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::registry()
        .with(
            ReportLayer::new()
                .level(level)
                .on_error(move |capture| sink.lock().unwrap().push(capture)),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        );
    let guard = tracing::subscriber::set_default(subscriber);
    (reports, logs, guard)
}

fn messages(reports: &Reports) -> Vec<String> {
    // Reports are built on the report worker: wait for the ones handed to it.
    assert!(safe_report::runtime::background::flush(
        Duration::from_secs(60)
    ));
    reports
        .lock()
        .unwrap()
        .iter()
        .map(|capture| capture.error.message.clone().unwrap_or_default())
        .collect()
}

fn config(addr: SocketAddr) -> MailConfig {
    MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!("smtp://{addr}?connect_timeout=400ms&timeout=400ms"))
        .queue(
            QueueConfig::default()
                .backoff(Duration::from_millis(50), Duration::from_millis(200))
                .retry_for(Duration::from_secs(60)),
        )
        .build()
        .unwrap()
}

fn notify(notifier: &AdminNotifier) {
    let outcome = notifier.notify(
        Level::Error,
        "checkout failed",
        Capture::error("PaymentError", "declined"),
    );
    assert_eq!(outcome, Outcome::Queued);
}

#[test]
fn a_mail_the_worker_gives_up_on_is_logged_but_never_reported() {
    let (reports, logs, _guard) = install(tracing::Level::ERROR);
    // The layer works: the application's own ERROR event is a report.
    tracing::error!("the application failed");
    assert_eq!(messages(&reports), ["the application failed"]);

    let refusing = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = refusing.local_addr().unwrap();
    let _server = start_smtp(
        refusing,
        ServerOptions {
            reject_with: Some(554),
            ..ServerOptions::default()
        },
    );
    let mailer = Mailer::new(config(addr)).unwrap();
    notify(&AdminNotifier::new(mailer.clone()));
    assert!(mailer.flush(WAIT), "the worker did not finish");
    let text = logs.wait_for("mail dropped", WAIT);
    assert!(
        text.contains("mail dropped") && text.contains("554"),
        "{text}"
    );
    assert_eq!(mailer.stats().failed, 1);

    assert_eq!(messages(&reports), ["the application failed"]);
}

#[test]
fn retries_logged_as_warnings_are_not_reported_by_a_layer_that_reports_warnings() {
    let (reports, logs, _guard) = install(tracing::Level::WARN);
    tracing::warn!("the application is degraded");
    assert_eq!(messages(&reports), ["the application is degraded"]);

    // A server that accepts and hangs up at once, kept for the whole test.
    let down = Fault::start(Behaviour::Close);
    let mailer = Mailer::new(config(down.addr)).unwrap();
    notify(&AdminNotifier::new(mailer.clone()));
    let text = logs.wait_for("mail delivery failed again", WAIT);
    assert!(text.contains("will retry"), "{text}");

    assert_eq!(messages(&reports), ["the application is degraded"]);
}

/// A backend that fails after logging an error under its own target, as a mail library
/// does when a delivery fails.
struct Noisy;

impl MailBackend for Noisy {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        tracing::error!(target: "noisy_mail_library", subject = email.subject(), "server said no");
        Err(BackendError::permanent("550 no such mailbox"))
    }
}

#[test]
fn what_libraries_log_while_the_worker_delivers_is_not_reported() {
    let (reports, logs, _guard) = install(tracing::Level::ERROR);
    // The backend fails by itself; the server is never reached.
    let down = Fault::start(Behaviour::Close);
    let mailer = Mailer::builder(config(down.addr))
        .backend(Noisy)
        .build()
        .unwrap();
    notify(&AdminNotifier::new(mailer.clone()));
    assert!(mailer.flush(WAIT), "the worker did not finish");
    let text = logs.wait_for("mail dropped", WAIT);
    assert!(text.contains("server said no"), "{text}");

    assert_eq!(messages(&reports), Vec::<String>::new());
}
