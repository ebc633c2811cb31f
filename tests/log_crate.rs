//! The `log` crate: ERROR records become reports with the frame that logged them, the
//! wrapped logger still gets every record it wants, records at other levels are not
//! reported, and the crate's own records never are. One logger per process: one test.
#![cfg(feature = "log")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use log::{LevelFilter, Log, Metadata, Record};
use safe_report::Capture;
use safe_report::integrations::log::ReportLogger;

/// The application's own logger: keeps what it is given from INFO up.
#[derive(Clone, Default)]
struct AppLogger(Arc<Mutex<Vec<String>>>);

impl Log for AppLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }

    fn flush(&self) {}
}

#[inline(never)]
fn sync_inventory(sku: &str) {
    log::error!("inventory sync failed for {sku}");
}

#[test]
fn error_records_are_reported_and_the_wrapped_logger_keeps_working() {
    let app = AppLogger::default();
    let reports: Arc<Mutex<Vec<Capture>>> = Arc::default();
    let sink = Arc::clone(&reports);
    ReportLogger::new()
        .wrap(app.clone())
        .max_level(LevelFilter::Info)
        .on_error(move |capture| sink.lock().unwrap().push(capture))
        .install()
        .unwrap();
    assert_eq!(log::max_level(), LevelFilter::Info);

    log::debug!("not made at all");
    log::info!("charging order ord_42");
    log::warn!("slow payment gateway");
    sync_inventory("sku-17");
    // The crate's own records are the wrapped logger's alone.
    log::error!(target: "safe_report::mail", "a delivery failed");
    // A second logger cannot be installed: the first one stays.
    assert!(ReportLogger::new().install().is_err());

    assert!(safe_report::runtime::background::flush(
        Duration::from_secs(60)
    ));
    assert_eq!(
        *app.0.lock().unwrap(),
        [
            "INFO charging order ord_42",
            "WARN slow payment gateway",
            "ERROR inventory sync failed for sku-17",
            "ERROR a delivery failed",
        ]
    );
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let capture = &reports[0];
    assert_eq!(
        capture.error.message.as_deref(),
        Some("inventory sync failed for sku-17")
    );
    // The innermost frame is where the record was made, not the log crate's machinery.
    let innermost = capture.frames.last().expect("frames");
    assert!(
        innermost.function.contains("sync_inventory"),
        "{:?}",
        capture
            .frames
            .iter()
            .map(|f| &f.function)
            .collect::<Vec<_>>()
    );
    assert!(
        innermost
            .file
            .as_deref()
            .is_some_and(|f| f.ends_with("log_crate.rs")),
        "{innermost:?}"
    );
    assert!(innermost.line.is_some());
}
