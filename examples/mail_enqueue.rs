//! What a caller pays to report an error by email: the time `AdminNotifier::notify` takes
//! while the SMTP server stalls (it accepts connections and never answers).
//!
//! ```text
//! cargo run --release --example mail_enqueue
//! ```
//!
//! It reports the median, 99th percentile and maximum in microseconds for 10,000 first
//! occurrences (fingerprint, flood-control lookup, enqueue) and 10,000 repeats
//! (fingerprint, flood-control lookup, counted), with a capture that has a request and 10
//! frames. The stalled server listens on 127.0.0.1 only.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use safe_report::mail::{
    AdminNotifier, FloodConfig, Level, MailConfig, Mailer, Outcome, QueueConfig,
};
use safe_report::{Capture, Frame, RequestInfo};

const N: usize = 10_000;

fn capture(kind: usize) -> Capture {
    let mut capture = Capture::error(format!("Error{kind}"), format!("order {kind} failed"))
        .with_request(
            RequestInfo::new("POST", "https://shop.example.com/pay?page=2")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("user=alice&password=hunter2")
                .remote_addr("203.0.113.9"),
        );
    for depth in 0..10 {
        capture = capture.with_frame(
            Frame::new(
                format!("shop::layer{depth}::call"),
                "src/shop.rs",
                10 + depth,
            )
            .var("order_id", format!("ord_{kind}"))
            .var("attempt", depth),
        );
    }
    capture
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let micros = |d: Duration| d.as_nanos() as f64 / 1000.0;
    println!(
        "{label:<34} median {:>6.2} µs   p99 {:>6.2} µs   max {:>8.2} µs   (n = {})",
        micros(times[times.len() / 2]),
        micros(times[times.len() * 99 / 100]),
        micros(*times.last().unwrap()),
        times.len()
    );
}

fn main() {
    // A server that accepts (the kernel's backlog does) and never answers.
    let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = stalled.local_addr().unwrap();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .email_url(format!("smtp://{addr}?connect_timeout=5s&timeout=5s"))
        .queue(QueueConfig::default().capacity(2 * N))
        .flood(
            FloodConfig::default()
                .max_per_minute(u32::MAX)
                .max_fingerprints(2 * N),
        )
        .build()
        .unwrap();
    let mailer = Mailer::new(config).unwrap();
    let notifier = AdminNotifier::new(mailer.clone());

    let firsts: Vec<Capture> = (0..N).map(capture).collect();
    let mut times = Vec::with_capacity(N);
    for capture in firsts {
        let started = Instant::now();
        let outcome = notifier.notify(Level::Error, "Internal Server Error: /pay", capture);
        times.push(started.elapsed());
        assert_eq!(outcome, Outcome::Queued);
    }
    summary("first occurrence (queued)", times);

    let repeats: Vec<Capture> = (0..N).map(|i| capture(i % 10)).collect();
    let mut times = Vec::with_capacity(N);
    for capture in repeats {
        let started = Instant::now();
        let outcome = notifier.notify(Level::Error, "Internal Server Error: /pay", capture);
        times.push(started.elapsed());
        assert_eq!(outcome, Outcome::Repeat);
    }
    summary("repeat (counted for the digest)", times);

    let stats = mailer.stats();
    println!(
        "server stalled at {addr}: {} sent, {} awaiting retry, {} queued in all",
        stats.sent, stats.awaiting_retry, stats.queued
    );
    let started = Instant::now();
    let delivered = mailer.shutdown(Duration::from_millis(200));
    println!(
        "shutdown(200 ms) returned {delivered} after {} ms",
        started.elapsed().as_millis()
    );
    drop(stalled);
}
