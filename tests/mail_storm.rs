//! Storms: 10,000 errors of 3 kinds from 8 threads give a bounded number of emails, with
//! digests that count every occurrence, and bounded memory.
//!
//! The bound (see `safe_report::mail::flood`): for `K` kinds over a time `T`, at most
//! `min(K·(1 + ⌈T/window⌉), max_per_minute·⌈T/1 min⌉) + ⌈T/1 min⌉` emails. A burst shorter
//! than the window with `K ≤ max_per_minute` gives exactly `2·K`.
#![cfg(feature = "mail")]

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use safe_report::mail::{
    AdminNotifier, BackendError, Email, FloodConfig, Level, MailBackend, MailConfig, Mailer,
    ManualClock, MemoryBackend, Outcome, QueueConfig,
};
use safe_report::{Capture, Frame};

const WAIT: Duration = Duration::from_secs(30);
const THREADS: usize = 8;
const TOTAL: usize = 10_000;

fn start() -> ManualClock {
    ManualClock::new("2026-03-21T10:00:00Z".parse().unwrap())
}

fn kind_capture(kind: usize, n: usize) -> Capture {
    let (type_name, function) = [
        ("DbError", "shop::orders::load"),
        ("PaymentError", "shop::pay::charge"),
        ("TemplateError", "shop::views::render"),
    ][kind];
    Capture::error(type_name, format!("attempt {n} failed after {} ms", n % 97))
        .with_frame(Frame::new("shop::serve", "src/main.rs", 10))
        .with_frame(Frame::new(function, "src/lib.rs", 100 + (n % 7) as u32))
}

/// Sends `TOTAL` reports from `THREADS` threads; `capture(i)` makes the i-th.
fn storm(notifier: &AdminNotifier, capture: fn(usize) -> Capture) -> Vec<Outcome> {
    let outcomes = Arc::new(Mutex::new(Vec::with_capacity(TOTAL)));
    thread::scope(|scope| {
        for t in 0..THREADS {
            let notifier = notifier.clone();
            let outcomes = Arc::clone(&outcomes);
            scope.spawn(move || {
                let per = TOTAL / THREADS;
                let mine: Vec<Outcome> = (t * per..(t + 1) * per)
                    .map(|i| {
                        notifier.notify(Level::Error, "Internal Server Error: /orders", capture(i))
                    })
                    .collect();
                outcomes.lock().unwrap().extend(mine);
            });
        }
    });
    Arc::try_unwrap(outcomes).unwrap().into_inner().unwrap()
}

fn count(outcomes: &[Outcome], which: Outcome) -> usize {
    outcomes.iter().filter(|o| **o == which).count()
}

#[test]
fn ten_thousand_errors_of_three_kinds_give_three_reports_then_three_digests() {
    let clock = start();
    let outbox = MemoryBackend::new();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .build()
        .unwrap();
    let flood = config.flood;
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let notifier = AdminNotifier::new(mailer.clone());

    let outcomes = storm(&notifier, |i| kind_capture(i % 3, i));
    assert_eq!(count(&outcomes, Outcome::Queued), 3);
    assert_eq!(count(&outcomes, Outcome::Repeat), TOTAL - 3);
    assert!(mailer.flush(WAIT));
    assert_eq!(
        outbox.len(),
        3,
        "the first occurrence of each kind, at once"
    );
    assert_eq!(mailer.stats().tracked_fingerprints, 3);

    // Nothing more until the window closes.
    clock.advance(flood.window - Duration::from_secs(1));
    assert!(mailer.flush(WAIT));
    assert_eq!(outbox.len(), 3);
    clock.advance(Duration::from_secs(1));
    assert!(mailer.flush(WAIT));
    let sent = outbox.messages();
    assert_eq!(
        sent.len(),
        6,
        "K = 3 kinds: 2·K emails for a burst shorter than the window"
    );

    let mut digest_counts: Vec<(String, u64)> = sent[3..]
        .iter()
        .map(|email| {
            let text = email.text();
            let count: u64 = text.split(' ').next().unwrap().parse().unwrap();
            assert!(text.contains("more occurrences of \"ERROR: Internal Server Error: /orders\" since 2026-03-21 10:00:00 UTC"), "{text}");
            assert!(text.contains("First: 2026-03-21 10:00:00 UTC") && text.contains("Last:  2026-03-21 10:00:00 UTC"), "{text}");
            (email.subject().to_owned(), count)
        })
        .collect();
    digest_counts.sort_by_key(|(_, count)| *count);
    let counts: Vec<u64> = digest_counts.iter().map(|(_, c)| *c).collect();
    // Indices 0..10,000 by i % 3: 3,334 of the first kind, 3,333 of the others, one mailed each.
    assert_eq!(counts, [3332, 3332, 3333]);
    assert_eq!(counts.iter().sum::<u64>() + 3, TOTAL as u64);
    assert!(
        digest_counts
            .iter()
            .all(|(subject, _)| subject.ends_with("more occurrences)"))
    );
    assert_eq!(mailer.stats().repeats, (TOTAL - 3) as u64);

    // A quiet window later the kinds are forgotten: memory goes back to nothing.
    clock.advance(flood.window);
    assert!(mailer.flush(WAIT));
    assert_eq!(mailer.stats().tracked_fingerprints, 0);
    assert_eq!(outbox.len(), 6);
}

#[test]
fn ten_thousand_distinct_errors_are_capped_per_minute_with_one_storm_summary() {
    let clock = start();
    let outbox = MemoryBackend::new();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .flood(
            FloodConfig::default()
                .max_per_minute(30)
                .max_fingerprints(100),
        )
        .build()
        .unwrap();
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let notifier = AdminNotifier::new(mailer.clone());

    // Every error has its own type: 10,000 kinds.
    let outcomes = storm(&notifier, |i| {
        Capture::error(format!("Error{i}"), "boom").with_frame(Frame::new(
            "app::run",
            "src/app.rs",
            1,
        ))
    });
    assert_eq!(count(&outcomes, Outcome::Queued), 30);
    assert_eq!(count(&outcomes, Outcome::Storm), TOTAL - 30);
    assert!(mailer.flush(WAIT));
    assert!(mailer.stats().tracked_fingerprints <= 100);

    let sent = outbox.messages();
    assert_eq!(sent.len(), 31, "30 reports (the cap) and one summary");
    let summary = sent.iter().find(|e| e.subject().contains("storm")).unwrap();
    assert_eq!(
        summary.subject(),
        "[safe-report] storm: 9970 reports suppressed"
    );
    assert!(summary.text().contains("more than 30 reports a minute"));
    let listed: u64 = summary
        .text()
        .lines()
        .filter_map(|line| line.trim().split("  ").next()?.trim().parse::<u64>().ok())
        .sum();
    assert_eq!(
        listed,
        9970,
        "every suppressed report is counted:\n{}",
        summary.text()
    );
}

/// A backend that blocks until told to go on, to fill the queue.
struct Gate {
    open: mpsc::Receiver<()>,
    inner: MemoryBackend,
    waited: bool,
}

impl MailBackend for Gate {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        if !self.waited {
            let _ = self.open.recv();
            self.waited = true;
        }
        self.inner.send(email)
    }
}

#[test]
fn a_full_queue_drops_and_counts_reports_and_says_so_in_a_later_email() {
    let outbox = MemoryBackend::new();
    let (release, open) = mpsc::channel();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .queue(QueueConfig::default().capacity(4))
        .flood(FloodConfig::disabled())
        .build()
        .unwrap();
    let mailer = Mailer::builder(config)
        .backend(Gate {
            open,
            inner: outbox.clone(),
            waited: false,
        })
        .build()
        .unwrap();
    let notifier = AdminNotifier::new(mailer.clone());
    let outcomes: Vec<Outcome> = (0..100)
        .map(|i| notifier.notify(Level::Error, format!("boom {i}"), Capture::message("x")))
        .collect();
    let queued = count(&outcomes, Outcome::Queued);
    let dropped = count(&outcomes, Outcome::QueueFull);
    assert!((4..=5).contains(&queued), "{queued} queued");
    assert_eq!(queued + dropped, 100);
    release.send(()).unwrap();
    assert!(mailer.flush(WAIT));
    let sent = outbox.messages();
    assert_eq!(sent.len(), queued + 1);
    let notice = sent.last().unwrap();
    assert_eq!(
        notice.subject(),
        format!("[safe-report] WARNING: {dropped} reports dropped (mail queue full)")
    );
    assert_eq!(mailer.stats().queue_full, dropped as u64);
}
