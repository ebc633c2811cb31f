//! An `#[instrument]`ed call chain that logs an ERROR event: the layer turns it into a
//! report, with the spans' fields as frame variables and the `password` field hidden.
//!
//! ```text
//! cargo run --example tracing --features tracing
//! ```

use safe_report::ExceptionReporter;
use safe_report::integrations::tracing::ReportLayer;
use tracing_subscriber::layer::SubscriberExt as _;

#[tracing::instrument]
fn sign_in(user: &str, password: &str) {
    load_profile(user, 7);
}

#[tracing::instrument]
fn load_profile(user: &str, shard: u32) {
    tracing::error!(attempt = 3, "profile store unavailable for {user}");
}

fn main() {
    let reporter = ExceptionReporter::default();
    let layer = ReportLayer::new().on_error(move |capture| {
        // The text report with each frame's variables (the spans' fields).
        eprintln!("{}", reporter.report(&capture).text().with_variables());
    });
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || sign_in("alice", "hunter2-secret"));
}
