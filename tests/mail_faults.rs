//! Delivery faults against 127.0.0.1: the server is down, refuses with 5xx, stalls past
//! the timeout, or closes the connection in the middle of DATA. In each case the caller
//! returns as soon as the report is queued, nothing panics, the failure is logged, and
//! queued reports are delivered once a working server is back on the same port.
#![cfg(feature = "smtp")]

mod support;

use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, Outcome, QueueConfig};
use safe_report::{Capture, Frame};
use support::{Behaviour, Fault, ServerOptions, capture_logs, start_smtp};

const WAIT: Duration = Duration::from_secs(30);
/// Connect and command timeouts of the mailer under test.
const TIMEOUT: Duration = Duration::from_millis(400);

fn mailer_for(addr: SocketAddr) -> Mailer {
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!(
            "smtp://{addr}?connect_timeout={}ms&timeout={}ms",
            TIMEOUT.as_millis(),
            TIMEOUT.as_millis()
        ))
        .queue(
            QueueConfig::default().backoff(Duration::from_millis(50), Duration::from_millis(300)),
        )
        .build()
        .unwrap();
    Mailer::new(config).unwrap()
}

/// Three distinct errors, each queued (that `notify` does not wait for the delivery is
/// checked by `notify_returns_while_the_delivery_is_still_stalled`).
fn report_three(notifier: &AdminNotifier) {
    for n in 0..3 {
        let capture = Capture::error(format!("Error{n}"), "boom").with_frame(Frame::new(
            format!("app::handler{n}"),
            "src/app.rs",
            1,
        ));
        let outcome = notifier.notify(Level::Error, format!("failure {n}"), capture);
        assert_eq!(outcome, Outcome::Queued);
    }
}

fn subjects(inbox: &support::Inbox) -> Vec<String> {
    let mut subjects: Vec<String> = inbox
        .messages()
        .iter()
        .map(|m| m.parse().subject().unwrap_or("").to_owned())
        .collect();
    subjects.sort();
    subjects
}

fn expected_subjects() -> Vec<String> {
    (0..3)
        .map(|n| format!("[safe-report] ERROR: failure {n}"))
        .collect()
}

#[test]
fn server_down_reports_wait_for_retry_and_are_delivered_when_it_is_back() {
    let (logs, _guard) = capture_logs();
    let fault = Fault::start(Behaviour::Close);
    let addr = fault.addr;
    let mailer = mailer_for(addr);
    let notifier = AdminNotifier::new(mailer.clone());

    report_three(&notifier);
    let text = logs.wait_for("will retry", WAIT);
    assert!(
        text.contains(&format!("SMTP delivery to {addr} failed")),
        "{text}"
    );
    assert!(
        !mailer.flush(Duration::from_secs(5)),
        "nothing can be delivered yet"
    );
    assert_eq!(mailer.stats().awaiting_retry, 3);

    let inbox = start_smtp(fault.stop(), ServerOptions::default());
    inbox.wait_for(3, WAIT);
    assert_eq!(subjects(&inbox), expected_subjects());
    assert!(mailer.flush(WAIT));
    assert_eq!(mailer.stats().sent, 3);
}

#[test]
fn a_server_refusing_with_5xx_is_logged_and_the_report_dropped_while_later_ones_are_delivered() {
    let (logs, _guard) = capture_logs();
    let refusing = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = refusing.local_addr().unwrap();
    let refused = start_smtp(
        refusing,
        ServerOptions {
            reject_with: Some(554),
            ..ServerOptions::default()
        },
    );
    let mailer = mailer_for(addr);
    let notifier = AdminNotifier::new(mailer.clone());
    report_three(&notifier);
    mailer.flush(WAIT);
    let text = logs.wait_for("mail dropped", WAIT);
    assert!(text.contains("554"), "{text}");
    assert_eq!(mailer.stats().failed, 3, "a 5xx is permanent: not retried");
    assert_eq!(refused.len(), 0);

    // A working server elsewhere gets the next reports.
    let (listener, good) = support::listener();
    let inbox = start_smtp(listener, ServerOptions::default());
    let mailer = mailer_for(good);
    report_three(&AdminNotifier::new(mailer.clone()));
    assert!(mailer.flush(WAIT));
    assert_eq!(subjects(&inbox), expected_subjects());
}

#[test]
fn a_stalling_server_times_out_and_reports_are_delivered_when_a_server_answers() {
    let (logs, _guard) = capture_logs();
    let fault = Fault::start(Behaviour::Stall);
    let mailer = mailer_for(fault.addr);
    let notifier = AdminNotifier::new(mailer.clone());

    report_three(&notifier);
    let text = logs.wait_for("will retry", WAIT);
    assert!(
        text.contains(&format!("SMTP delivery to {} failed", fault.addr)),
        "{text}"
    );

    let inbox = start_smtp(fault.stop(), ServerOptions::default());
    inbox.wait_for(3, WAIT);
    assert_eq!(subjects(&inbox), expected_subjects());
}

#[test]
fn a_connection_closed_mid_data_is_retried_and_delivered_when_a_server_answers() {
    let (logs, _guard) = capture_logs();
    let fault = Fault::start(Behaviour::CloseMidData);
    let mailer = mailer_for(fault.addr);
    let notifier = AdminNotifier::new(mailer.clone());

    report_three(&notifier);
    let text = logs.wait_for("will retry", WAIT);
    assert!(
        text.contains(&format!("SMTP delivery to {} failed", fault.addr)),
        "{text}"
    );

    let inbox = start_smtp(fault.stop(), ServerOptions::default());
    inbox.wait_for(3, WAIT);
    assert_eq!(subjects(&inbox), expected_subjects());
}

#[test]
fn notify_returns_while_the_delivery_is_still_stalled() {
    // The server accepts and never answers, and the mailer would wait 20 s for it: had
    // `notify` waited for the delivery, the attempt would have failed (and been logged, and
    // counted) before it returned.
    let (logs, _guard) = capture_logs();
    let fault = Fault::start(Behaviour::Stall);
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!(
            "smtp://{}?connect_timeout=20s&timeout=20s",
            fault.addr
        ))
        .build()
        .unwrap();
    let mailer = Mailer::new(config).unwrap();
    report_three(&AdminNotifier::new(mailer.clone()));
    let stats = mailer.stats();
    assert_eq!(
        (stats.sent, stats.failed, stats.retries),
        (0, 0, 0),
        "{stats:?}"
    );
    let text = logs.text();
    assert!(!text.contains("failed"), "{text}");
    assert!(!mailer.shutdown(Duration::from_millis(300)));
    fault.stop();
}

#[test]
fn shutdown_waits_no_longer_than_its_deadline_when_the_server_stalls() {
    let fault = Fault::start(Behaviour::Stall);
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!(
            "smtp://{}?connect_timeout=20s&timeout=20s",
            fault.addr
        ))
        .build()
        .unwrap();
    let mailer = Mailer::new(config).unwrap();
    AdminNotifier::new(mailer.clone()).notify(Level::Error, "boom", Capture::message("x"));
    let started = Instant::now();
    assert!(!mailer.shutdown(Duration::from_millis(300)));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown ignored its deadline"
    );
    assert_eq!(
        AdminNotifier::new(mailer.clone()).notify(Level::Error, "after", Capture::message("y")),
        Outcome::Closed
    );
    fault.stop();
}
