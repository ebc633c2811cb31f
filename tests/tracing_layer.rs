//! The `tracing` integration: span fields as frame variables (sensitive ones never
//! formatted), spans declaring sensitive fields, ERROR events as reports, and spans seen by
//! the panic hook and by traced errors.
#![cfg(feature = "tracing")]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use safe_report::integrations::tracing::ReportLayer;
use safe_report::panic::{HookBuilder, handled_here, take_last_capture};
use safe_report::{Capture, DEFAULT_SUBSTITUTE, ExceptionReporter, Frame, ResultExt};
use tracing_subscriber::layer::SubscriberExt as _;

fn collecting() -> (
    Arc<Mutex<Vec<Capture>>>,
    impl tracing::Subscriber + Send + Sync,
) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let subscriber = tracing_subscriber::registry()
        .with(ReportLayer::new().on_error(move |capture| sink.lock().unwrap().push(capture)));
    (reports, subscriber)
}

/// The captures, once the report worker has built every one of them.
fn built(reports: &Mutex<Vec<Capture>>) -> std::sync::MutexGuard<'_, Vec<Capture>> {
    assert!(safe_report::runtime::background::flush(
        std::time::Duration::from_secs(60)
    ));
    reports.lock().unwrap()
}

fn frame<'c>(capture: &'c Capture, name_suffix: &str) -> &'c Frame {
    capture
        .frames
        .iter()
        .find(|f| f.function.ends_with(name_suffix))
        .unwrap_or_else(|| panic!("no frame {name_suffix}"))
}

fn var(frame: &Frame, name: &str) -> serde_json::Value {
    frame
        .vars
        .iter()
        .find(|v| v.name == name)
        .unwrap()
        .value
        .to_value()
}

#[tracing::instrument]
fn login(user: &str, password: &str) {
    check(user);
}

#[tracing::instrument(fields(sensitive_variables = "pin"))]
fn check(user: &str) {
    let span = tracing::Span::current();
    span.record("attempts", 3);
    verify("1234");
}

#[tracing::instrument]
fn verify(pin: &str) {
    let token = format!("tok_{}", "abcdefghijklmnop");
    tracing::error!(code = 17, token, "login refused for {}", "alice");
}

#[test]
fn span_fields_become_frame_variables_and_a_password_shows_as_the_substitute() {
    let (reports, subscriber) = collecting();
    // Built at run time, so that the value is not in the source lines the report shows.
    let password = ["hunter2", "long", "secret"].join("-");
    tracing::subscriber::with_default(subscriber, || login("alice", &password));
    let reports = built(&reports);
    assert_eq!(reports.len(), 1);
    let capture = &reports[0];
    assert_eq!(
        capture.error.message.as_deref(),
        Some("login refused for alice")
    );

    let login = frame(capture, "tracing_layer::login");
    assert_eq!(var(login, "user"), "alice");
    assert_eq!(var(login, "password"), DEFAULT_SUBSTITUTE);

    // A span's own declaration covers the spans inside it.
    let verify = frame(capture, "tracing_layer::verify");
    assert_eq!(var(verify, "pin"), DEFAULT_SUBSTITUTE);

    // The event's fields are the variables of its own frame; `token` is hidden by name.
    let event = capture
        .frames
        .iter()
        .find(|f| f.vars.iter().any(|v| v.name == "code"))
        .unwrap();
    assert_eq!(var(event, "code"), 17);
    assert_eq!(var(event, "token"), DEFAULT_SUBSTITUTE);
    // That frame is the function that logged, the innermost one: the macro's closure and
    // tracing's dispatch to this layer are left out.
    assert!(
        event.function.ends_with("tracing_layer::verify"),
        "{}",
        event.function
    );
    assert!(std::ptr::eq(event, capture.frames.last().unwrap()));
    assert!(
        capture
            .frames
            .iter()
            .all(|f| !f.function.contains("Event::dispatch")
                && !f.function.contains("safe_report::")),
        "{:#?}",
        capture
            .frames
            .iter()
            .map(|f| &f.function)
            .collect::<Vec<_>>()
    );

    let text = ExceptionReporter::default()
        .report(capture)
        .html()
        .to_string();
    assert!(!text.contains("hunter2-long-secret"));
    assert!(!text.contains("tok_abcdefghijklmnop"));
    assert!(text.contains("alice"));
}

#[tracing::instrument(fields(sensitive_variables = "card"))]
fn pay(order: &str, card: &str) {
    panic!("gateway down");
}

#[test]
fn the_panic_hook_sees_the_entered_spans() {
    let _hook = HookBuilder::new().install();
    let (_, subscriber) = collecting();
    let capture = tracing::subscriber::with_default(subscriber, || {
        let card = "4111".repeat(4);
        let result = catch_unwind(AssertUnwindSafe(|| handled_here(|| pay("ord_3", &card))));
        assert!(result.is_err());
        take_last_capture().unwrap()
    });
    let pay = frame(&capture, "tracing_layer::pay");
    assert_eq!(var(pay, "order"), "ord_3");
    assert_eq!(var(pay, "card"), DEFAULT_SUBSTITUTE);
    let text = ExceptionReporter::default()
        .text_report(&capture)
        .text()
        .to_string();
    assert!(!text.contains("4111111111111111"));
}

#[tracing::instrument]
fn fetch(url: &str) -> Result<(), safe_report::Traced<std::io::Error>> {
    Err(std::io::Error::other("refused")).traced()
}

#[test]
fn traced_errors_see_the_entered_spans() {
    let (_, subscriber) = collecting();
    let error =
        tracing::subscriber::with_default(subscriber, || fetch("https://a.example/b").unwrap_err());
    let capture = Capture::from_traced(&error);
    assert_eq!(
        var(frame(&capture, "tracing_layer::fetch"), "url"),
        "https://a.example/b"
    );
}

/// A value whose `Debug` panics.
struct Explodes;

impl std::fmt::Debug for Explodes {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug exploded")
    }
}

#[test]
fn a_field_whose_debug_panics_is_an_error_in_formatting_and_the_span_goes_on() {
    let (reports, subscriber) = collecting();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("checkout", order = "ord_4", note = tracing::field::Empty);
        let _entered = span.enter();
        // Formatted by the layer outside any lock, the panic caught: `record` returns.
        span.record("note", tracing::field::debug(Explodes));
        span.record("order", "ord_5");
        tracing::error!(attempt = 2, "checkout failed");
    });
    let reports = built(&reports);
    let checkout = frame(&reports[0], "tracing_layer::checkout");
    assert_eq!(var(checkout, "order"), "ord_5");
    let note = checkout.vars.iter().find(|v| v.name == "note").unwrap();
    assert_eq!(
        note.error.as_deref(),
        Some("the value's formatting panicked: Debug exploded")
    );
}

#[test]
fn a_cloned_layer_keeps_its_configuration_and_its_own_spans() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let layer = ReportLayer::new().on_error(move |capture| sink.lock().unwrap().push(capture));
    let (first, second) = (layer.clone(), layer);
    // Two registries number their spans alike: each layer keeps the fields of its own.
    let outer = tracing_subscriber::registry().with(first);
    let inner = tracing_subscriber::registry().with(second);
    tracing::subscriber::with_default(outer, || {
        let span = tracing::info_span!("checkout", order = "ord_a");
        let _entered = span.enter();
        tracing::subscriber::with_default(inner, || {
            let span = tracing::info_span!("checkout", order = "ord_b");
            let _entered = span.enter();
            tracing::error!("inner failed");
        });
        tracing::error!("outer failed");
    });
    let reports = built(&reports);
    let orders: Vec<_> = reports
        .iter()
        .map(|capture| var(frame(capture, "tracing_layer::checkout"), "order"))
        .collect();
    assert_eq!(orders, ["ord_b", "ord_a"]);
}
