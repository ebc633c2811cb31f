//! Controls on what is reported: `before_send` changing and dropping filtered reports,
//! ignore rules, sampling and custom grouping, through the admin notifier. The same set on
//! the web layer: `controls_web.rs`; on the panic hook: `controls_hook.rs`.
#![cfg(feature = "mail")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use safe_report::mail::{AdminNotifier, Level, MailConfig, Mailer, MemoryBackend, Outcome};
use safe_report::report::{Controls, Fingerprint};
use safe_report::{Capture, ExceptionReporter, Frame};

fn notifier(controls: Controls) -> (AdminNotifier, Mailer, MemoryBackend) {
    let outbox = MemoryBackend::new();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .subject_prefix("[shop] ")
        .build()
        .expect("a config");
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .build()
        .expect("a mailer");
    let notifier = AdminNotifier::new(mailer.clone()).controls(controls);
    (notifier, mailer, outbox)
}

#[test]
fn before_send_changes_the_report_and_what_it_adds_is_filtered() {
    let secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
    let controls = Controls::new().before_send(move |draft| {
        assert!(!draft.report().text().to_string().contains("hunter2-pass"));
        draft.set_tag("team", "payments");
        // A value the filter hid elsewhere cannot be put back by name or by form.
        draft.set_tag("api_key", "anything");
        draft.set_context("note", &format!("key {secret}"));
        draft.set_message(&format!("declined (retry with {secret})"));
    });
    let (notifier, mailer, outbox) = notifier(controls);
    let capture = Capture::error("PaymentError", "declined")
        .with_frame(Frame::new("shop::pay", "src/pay.rs", 3).var("password", "hunter2-pass"));
    assert_eq!(
        notifier.notify(Level::Error, "payment failed", capture),
        Outcome::Queued
    );
    assert!(mailer.flush(Duration::from_secs(10)));
    let emails = outbox.messages();
    assert_eq!(emails.len(), 1);
    let text = emails[0].text();
    assert!(
        text.contains("Tags:\nteam = payments\napi_key = ********************"),
        "{text}"
    );
    assert!(
        text.contains("Exception Value: declined (retry with "),
        "{text}"
    );
    assert!(!text.contains(secret), "{text}");
    assert!(!text.contains("hunter2-pass"), "{text}");
}

#[test]
fn before_send_drops_the_report_and_nothing_is_mailed() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&seen);
    let controls = Controls::new().before_send(move |draft| {
        counted.fetch_add(1, Ordering::SeqCst);
        if draft.report().message().contains("retry later") {
            draft.drop_report();
        }
    });
    let (notifier, mailer, outbox) = notifier(controls);
    notifier.notify(Level::Error, "a", Capture::error("Busy", "retry later"));
    notifier.notify(Level::Error, "b", Capture::error("Broken", "gone"));
    assert!(mailer.flush(Duration::from_secs(10)));
    assert_eq!(seen.load(Ordering::SeqCst), 2);
    let subjects: Vec<_> = outbox
        .messages()
        .iter()
        .map(|e| e.subject().to_owned())
        .collect();
    assert_eq!(subjects, ["[shop] ERROR: b"]);
}

#[test]
fn a_panicking_before_send_keeps_the_report_as_it_was() {
    let controls = Controls::new().before_send(|_| panic!("user code failed"));
    let reporter = ExceptionReporter::default();
    let report = reporter.report(&Capture::error("E", "boom"));
    let kept = controls.apply(report, reporter.filter()).expect("kept");
    assert_eq!(kept.message(), "boom");
}

#[test]
fn ignored_types_and_messages_are_not_mailed() {
    let controls = Controls::new()
        .ignore_type("io::Error")
        .ignore_message(r"(?i)client (closed|reset)")
        .expect("a valid pattern");
    let (notifier, mailer, outbox) = notifier(controls);
    let outcomes = [
        notifier.notify(
            Level::Error,
            "a",
            Capture::error("std::io::Error", "broken pipe"),
        ),
        notifier.notify(
            Level::Error,
            "b",
            Capture::error("Http", "Client closed the stream"),
        ),
        notifier.notify(Level::Error, "c", Capture::error("DbError", "timeout")),
    ];
    assert_eq!(
        outcomes,
        [Outcome::Ignored, Outcome::Ignored, Outcome::Queued]
    );
    assert!(mailer.flush(Duration::from_secs(10)));
    assert_eq!(outbox.messages().len(), 1);
    assert!(Controls::new().ignore_message("(unclosed").is_err());
}

#[test]
fn sampling_at_zero_and_one_is_all_or_nothing() {
    let none = Controls::new().sample_rate(0.0);
    let all = Controls::new().sample_rate(1.0);
    for n in 0..100 {
        let capture = Capture::error("E", format!("error {n}"));
        assert!(!none.admits(&capture));
        assert!(all.admits(&capture));
    }
}

#[test]
fn sampling_keeps_the_errors_whose_draw_is_below_the_rate() {
    // A seeded source: the draws are known, so the kept errors are too.
    let draws = [0.1, 0.9, 0.3, 0.7, 0.49, 0.5];
    let next = Arc::new(AtomicUsize::new(0));
    let controls = Controls::new()
        .sample_rate(0.5)
        .random_source(move || draws[next.fetch_add(1, Ordering::SeqCst) % draws.len()]);
    let (notifier, mailer, outbox) = notifier(controls);
    let outcomes: Vec<Outcome> = (0..6)
        .map(|n| {
            notifier.notify(
                Level::Error,
                format!("m{n}"),
                Capture::error(format!("E{n}"), "x"),
            )
        })
        .collect();
    use Outcome::{Ignored, Queued};
    assert_eq!(
        outcomes,
        [Queued, Ignored, Queued, Ignored, Queued, Ignored]
    );
    assert!(mailer.flush(Duration::from_secs(10)));
    assert_eq!(outbox.messages().len(), 3);
}

#[test]
fn a_sampled_capture_is_not_drawn_again_by_a_second_entry_point() {
    // The layer (or the hook) admits the capture, then hands it to a notifier with the
    // same controls: one draw, not two.
    let draws = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&draws);
    let controls = Controls::new().sample_rate(0.5).random_source(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        0.0
    });
    let (notifier, mailer, _outbox) = notifier(controls.clone());
    assert_eq!(
        notifier.notify(Level::Error, "m", Capture::error("E", "x")),
        Outcome::Queued
    );
    assert_eq!(draws.load(Ordering::SeqCst), 1);
    assert!(mailer.flush(Duration::from_secs(10)));
}

#[test]
fn a_custom_fingerprint_groups_errors_the_default_keeps_apart() {
    // By type alone: two messages with different words are one error.
    let controls = Controls::new()
        .fingerprint(|error| Some(vec![error.exception_type.unwrap_or("").to_owned()]));
    let (notifier, mailer, outbox) = notifier(controls.clone());
    let first = Capture::error("DbError", "orders table locked");
    let second = Capture::error("DbError", "customers table locked");
    assert_ne!(Fingerprint::of(&first, ""), Fingerprint::of(&second, ""));
    assert_eq!(
        notifier.notify(Level::Error, "a", first.clone()),
        Outcome::Queued
    );
    assert_eq!(
        notifier.notify(Level::Error, "b", second.clone()),
        Outcome::Repeat
    );
    assert!(mailer.flush(Duration::from_secs(10)));
    assert_eq!(outbox.messages().len(), 1);

    // The reports carry the grouping (the Sentry sink sends it as the event's fingerprint).
    let reporter = ExceptionReporter::default();
    let report = |capture: &Capture| {
        controls
            .apply(reporter.report(capture), reporter.filter())
            .expect("kept")
    };
    assert_eq!(
        Fingerprint::of_report(&report(&first), ""),
        Fingerprint::of_report(&report(&second), "")
    );
    // `None` from the function keeps the default grouping.
    let default = Controls::new().fingerprint(|_| None);
    let kept = default
        .apply(reporter.report(&first), reporter.filter())
        .expect("kept");
    assert_eq!(
        Fingerprint::of_report(&kept, ""),
        Fingerprint::of(&first, "")
    );
}
