//! The Sentry test server itself (tests/support/sentry_server.rs): a hand-built envelope is
//! stored and read back, an event outside Sentry's schema is dropped and reported, Relay's
//! normalizer tells a valid event from a bad one, a stopped server refuses connections and comes
//! back on its port with its events, and a quota is answered with 429.
//!
//! Skipped with a message when tests/servers/sentry/install.sh has not been run, unless
//! `SAFE_REPORT_REQUIRE_SENTRY=1`.

#[path = "support/sentry_server.rs"]
mod sentry_server;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry_server::{SentryServer, normalize};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs_f64()
}

/// 32 hex digits, unique within this run.
fn event_id() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos();
    let count = u128::from(COUNT.fetch_add(1, Ordering::Relaxed));
    let pid = u128::from(std::process::id());
    format!("{:032x}", nanos ^ (pid << 96) ^ (count << 80))
}

/// A small but complete error event: one exception with a mechanism and a frame with source
/// context and variables.
fn event(kind: &str) -> Value {
    json!({
        "event_id": event_id(),
        "timestamp": now(),
        "platform": "native",
        "level": "error",
        "logger": "safe_report",
        "exception": {"values": [{
            "type": kind,
            "value": "the smoke test's error",
            "mechanism": {"type": "generic", "handled": true},
            "stacktrace": {"frames": [{
                "function": "smoke::check",
                "filename": "tests/sentry_server_smoke.rs",
                "lineno": 42,
                "in_app": true,
                "pre_context": ["fn check() {"],
                "context_line": "    fail()",
                "post_context": ["}"],
                "vars": {"attempt": "1", "password": "********************"}
            }]}
        }]},
        "sdk": {"name": "safe-report-tests", "version": "0.1.0"}
    })
}

/// The envelope of one event, byte by byte: the envelope header line, the item header line
/// with the payload's length, the payload.
fn envelope(event: &Value) -> Vec<u8> {
    let payload = serde_json::to_vec(event).expect("JSON");
    let id = event["event_id"].as_str().expect("event_id");
    let mut bytes = format!("{{\"event_id\":\"{id}\"}}\n").into_bytes();
    bytes.extend(format!("{{\"type\":\"event\",\"length\":{}}}\n", payload.len()).bytes());
    bytes.extend(&payload);
    bytes.push(b'\n');
    bytes
}

fn post(server: &SentryServer, event: &Value) -> u16 {
    let response = server
        .post_envelope(&envelope(event))
        .expect("the server answers");
    response.status
}

#[test]
fn an_envelope_is_stored_and_an_event_outside_the_schema_is_dropped() {
    let started = Instant::now();
    let Some(server) = SentryServer::start(None) else {
        return;
    };
    eprintln!("server ready in {:?}: {}", started.elapsed(), server.dsn());

    let good = event("SmokeError");
    assert_eq!(normalize(&good), Ok(()), "Relay accepts the valid event");
    let sent = Instant::now();
    assert_eq!(post(&server, &good), 200);
    eprintln!("first envelope answered in {:?}", sent.elapsed());

    let events = server.wait_for_events(1, WAIT);
    assert_eq!(events.len(), 1);
    let stored = &events[0];
    assert_eq!(stored["event_id"], good["event_id"]);
    assert_eq!(stored["exception"]["values"][0]["type"], "SmokeError");
    // Stored as sent, frame variables and source context included.
    assert_eq!(stored["exception"], good["exception"]);
    let id = good["event_id"].as_str().unwrap();
    assert_eq!(server.event(id).as_ref(), Some(stored));
    assert!(server.validation_errors().is_empty());

    // An unknown top-level key: answered 200, then dropped by the strict schema.
    let mut bad = event("BadSmokeError");
    bad["not_a_sentry_field"] = json!(1);
    let report = normalize(&bad).expect_err("Relay flags the unknown key");
    assert!(report.contains("not_a_sentry_field"), "{report}");
    let sent = Instant::now();
    assert_eq!(post(&server, &bad), 200);
    eprintln!("second envelope answered in {:?}", sent.elapsed());
    let bad_id = bad["event_id"].as_str().unwrap();
    let errors = server.validation_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains(bad_id), "{errors:?}");
    assert!(errors[0].contains("not_a_sentry_field"), "{errors:?}");
    assert_eq!(server.event(bad_id), None);
    assert_eq!(server.events().len(), 1);
}

#[test]
fn relay_reports_what_it_would_change_or_drop() {
    if sentry_server::python_or_skip().is_none() {
        return;
    }
    assert_eq!(normalize(&event("Fine")), Ok(()));

    let mut platform = event("Platform");
    platform["platform"] = json!("rust");
    let report = normalize(&platform).expect_err("no such platform in Sentry's list");
    assert!(report.contains("\"val\": \"rust\""), "{report}");

    let mut lineno = event("Lineno");
    lineno["exception"]["values"][0]["stacktrace"]["frames"][0]["lineno"] = json!("seven");
    let report = normalize(&lineno).expect_err("a line number is a number");
    assert!(report.contains("invalid_data"), "{report}");

    let mut frame = event("Frame");
    frame["exception"]["values"][0]["stacktrace"]["frames"][0]["colour"] = json!("red");
    let report = normalize(&frame).expect_err("an unknown frame key is dropped");
    assert!(
        report.contains("exception.values.0.stacktrace.frames.0.colour"),
        "{report}"
    );
}

#[test]
fn a_stopped_server_refuses_and_comes_back_on_its_port_with_its_events() {
    let Some(mut server) = SentryServer::start(None) else {
        return;
    };
    let dsn = server.dsn().to_owned();
    assert_eq!(post(&server, &event("BeforeOutage")), 200);

    let stopping = Instant::now();
    server.stop();
    eprintln!("stopped in {:?}", stopping.elapsed());
    let refused = server.post_envelope(&envelope(&event("DuringOutage")));
    assert!(refused.is_err(), "a stopped server answered: {refused:?}");

    let restarting = Instant::now();
    server.restart();
    eprintln!("restarted in {:?}", restarting.elapsed());
    assert_eq!(server.dsn(), dsn);
    assert_eq!(post(&server, &event("AfterOutage")), 200);
    let kinds: Vec<Value> = server
        .wait_for_events(2, WAIT)
        .iter()
        .map(|e| e["exception"]["values"][0]["type"].clone())
        .collect();
    assert_eq!(kinds, [json!("BeforeOutage"), json!("AfterOutage")]);
}

#[test]
fn over_its_quota_the_server_answers_429_with_rate_limits() {
    let Some(server) = SentryServer::start(Some(2)) else {
        return;
    };
    assert_eq!(post(&server, &event("Quota")), 200);
    assert_eq!(post(&server, &event("Quota")), 200);
    let response = server
        .post_envelope(&envelope(&event("Quota")))
        .expect("the server answers");
    assert_eq!(response.status, 429, "{}", response.text());
    let limits = response
        .header("X-Sentry-Rate-Limits")
        .expect("X-Sentry-Rate-Limits on the 429");
    assert!(limits.contains("::key"), "{limits}");
    assert_eq!(server.events().len(), 2);
}
