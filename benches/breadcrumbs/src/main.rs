//! What recording a breadcrumb costs per event: the happy path, on every log line of a
//! service.
//!
//! ```text
//! ./run.sh [--iters N] [--runs N]
//! ```
//!
//! Each case logs `--iters` events (default 1,000,000) in a loop, `--runs` times (default
//! 11), and prints the median and the fastest run in ns per event. Each case with
//! breadcrumbs on is next to the same case with them off (the logger or layer still
//! installed), so the difference is what recording costs:
//!
//! - `log`: a `ReportLogger` (no logger wrapped, no report sink) called with an INFO
//!   record, as `log::info!` calls the installed logger: a message without arguments
//!   (`charging order`), and one with an argument (`charging order {}`);
//! - `tracing`: `tracing::info!(order_id, "charging order {}", id)` in a registry with a
//!   `ReportLayer`.
//!
//! The ring of each thread is full after its first 50 events; what is timed is the steady
//! state, where a slot and its buffers are reused.

use std::hint::black_box;
use std::time::Instant;

use log::{Level, LevelFilter, Log, Record};
use safe_report::integrations::log::ReportLogger;
use safe_report::integrations::tracing::ReportLayer;
use tracing_subscriber::layer::SubscriberExt as _;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `events` `runs` times; prints the median and fastest ns per event.
fn measure(name: &str, iters: usize, runs: usize, mut events: impl FnMut(usize)) {
    events(iters / 10); // warm-up
    let mut per_event: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            events(iters);
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    per_event.sort_by(f64::total_cmp);
    println!(
        "case={name} median_ns_per_event={:.1} min_ns_per_event={:.1} iters={iters} runs={runs}",
        per_event[runs / 2], per_event[0]
    );
}

fn log_case(logger: &ReportLogger, with_argument: bool, n: usize) {
    let order_id = black_box("ord_42");
    for _ in 0..n {
        if with_argument {
            logger.log(
                &Record::builder()
                    .args(format_args!("charging order {order_id}"))
                    .level(Level::Info)
                    .target("shop::orders")
                    .module_path_static(Some("shop::orders"))
                    .file_static(Some("src/orders.rs"))
                    .line(Some(42))
                    .build(),
            );
        } else {
            logger.log(
                &Record::builder()
                    .args(format_args!("charging order"))
                    .level(Level::Info)
                    .target("shop::orders")
                    .module_path_static(Some("shop::orders"))
                    .file_static(Some("src/orders.rs"))
                    .line(Some(42))
                    .build(),
            );
        }
    }
}

fn tracing_case(n: usize) {
    let order_id = black_box("ord_42");
    for _ in 0..n {
        tracing::info!(order_id, "charging order {}", order_id);
    }
}

fn main() {
    let iters = arg("--iters", 1_000_000);
    let runs = arg("--runs", 11).max(1);

    let off = ReportLogger::new().breadcrumbs(LevelFilter::Off);
    let on = ReportLogger::new();
    for (with_argument, label) in [(false, "constant"), (true, "one_argument")] {
        measure(&format!("log_{label}_breadcrumbs_off"), iters, runs, |n| {
            log_case(&off, with_argument, n)
        });
        measure(&format!("log_{label}_breadcrumbs_on"), iters, runs, |n| {
            log_case(&on, with_argument, n)
        });
    }

    let off = tracing_subscriber::registry().with(
        ReportLayer::new().breadcrumbs(tracing::level_filters::LevelFilter::OFF),
    );
    tracing::subscriber::with_default(off, || {
        measure("tracing_breadcrumbs_off", iters, runs, tracing_case);
    });
    let on = tracing_subscriber::registry().with(ReportLayer::new());
    tracing::subscriber::with_default(on, || {
        measure("tracing_breadcrumbs_on", iters, runs, tracing_case);
    });
    // What the trail holds at the end: the last events, bounded.
    println!(
        "trail_events={} capacity={}",
        safe_report::runtime::breadcrumbs::snapshot().len(),
        safe_report::runtime::breadcrumbs::capacity()
    );
}
