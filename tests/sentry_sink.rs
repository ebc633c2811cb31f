//! The Sentry sink against a real Sentry-compatible server: Bugsink on 127.0.0.1, one fresh
//! instance per test (tests/support/sentry_server.rs). Every event is read back through the
//! server's API, since Bugsink answers 200 to an event its strict schema then drops; each
//! stored event also goes through Sentry's own normalizer (Relay's `StoreNormalizer`).
//!
//! - the benchmark's twenty-frame scenario arrives whole, and none of its 40 planted tokens
//!   is anywhere in the stored JSON;
//! - the demo's `/panic`, `/error` and `/login` arrive with the exception chain, application
//!   frames with file, line, source lines and variables, and the request, without the
//!   card number, the form password or the database password;
//! - over the server's quota the sink waits as told (429 with `X-Sentry-Rate-Limits`),
//!   sends nothing meanwhile, and counts what it held back;
//! - while the server is down reports wait, and after its restart each arrives once;
//! - with a spool, what waits survives a restart of the sink, on disk, filtered, and a
//!   restart of the process: a new process delivers what the last one left, each once;
//! - the tracing layer's ERROR events arrive with their message and filtered fields;
//! - breadcrumbs arrive with message, level and category, a token in them only as the
//!   substitute.
//!
//! Skipped with a message when tests/servers/sentry/install.sh has not been run, unless
//! `SAFE_REPORT_REQUIRE_SENTRY=1`.
#![cfg(feature = "sentry")]

#[path = "support/sentry_server.rs"]
mod sentry_server;

mod web;

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use safe_report::mail::QueueConfig;
use safe_report::sinks::{Origin, SentryConfig, Sink};
use safe_report::{Breadcrumb, BreadcrumbLevel, Capture, DEFAULT_SUBSTITUTE, ExceptionReporter};
use sentry_server::{SentryServer, normalize};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench")
}

fn scenario(name: &str) -> Capture {
    let text = std::fs::read_to_string(bench_dir().join(name)).expect("the scenario");
    Capture::from_json(&text).expect("a capture-v1 document")
}

fn reporter() -> ExceptionReporter {
    ExceptionReporter::default().source_root(bench_dir().join("source"))
}

/// The 40 tokens of `planted.json`.
fn planted() -> Vec<String> {
    let text = std::fs::read_to_string(bench_dir().join("planted.json")).expect("planted.json");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let tokens: Vec<String> = json
        .as_object()
        .expect("an object")
        .values()
        .map(|entry| entry["token"].as_str().expect("a token").to_owned())
        .collect();
    assert_eq!(tokens.len(), 40);
    tokens
}

/// The forms a token could take in stored JSON: raw, JSON-escaped, percent-encoded.
fn forms(token: &str) -> Vec<String> {
    let json = serde_json::to_string(token).expect("a string");
    let percent: String = token
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    let mut forms = vec![
        token.to_owned(),
        json[1..json.len() - 1].to_owned(),
        percent,
    ];
    forms.dedup();
    forms
}

fn leaks(stored: &str, secrets: &[String]) -> Vec<String> {
    secrets
        .iter()
        .filter(|secret| {
            forms(secret)
                .iter()
                .any(|form| stored.contains(form.as_str()))
        })
        .cloned()
        .collect()
}

/// A sink for `server`, retrying quickly (the tests stop and restart servers).
fn sink(server: &SentryServer) -> Sink {
    let queue =
        QueueConfig::default().backoff(Duration::from_millis(20), Duration::from_millis(500));
    let config = SentryConfig::new(server.dsn())
        .expect("the server's DSN")
        .queue(queue)
        .timeout(Duration::from_secs(30));
    Sink::sentry(config).expect("a sink")
}

/// Waits, with a deadline, until `done` holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    let mut pause = Duration::from_millis(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not after {WAIT:?}");
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

fn frames(exception: &Value) -> Vec<Value> {
    exception["stacktrace"]["frames"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn all_frames(event: &Value) -> Vec<Value> {
    event["exception"]["values"]
        .as_array()
        .expect("exception values")
        .iter()
        .flat_map(frames)
        .collect()
}

/// What an event carries, counted as the peer benchmark counts it.
struct Counts {
    app_frames: usize,
    with_vars: usize,
    with_context: usize,
}

fn counts(event: &Value) -> Counts {
    let frames = all_frames(event);
    let app: Vec<&Value> = frames.iter().filter(|f| f["in_app"] == true).collect();
    Counts {
        app_frames: app.len(),
        with_vars: frames
            .iter()
            .filter(|f| f["vars"].as_object().is_some_and(|v| !v.is_empty()))
            .count(),
        with_context: frames
            .iter()
            .filter(|f| f["context_line"].is_string())
            .count(),
    }
}

/// Every stored event passes Relay, and none was dropped by the schema.
fn assert_valid(server: &SentryServer, events: &[Value]) {
    assert_eq!(server.validation_errors(), Vec::<String>::new());
    for event in events {
        assert_eq!(normalize(event), Ok(()), "{event:#}");
    }
}

#[test]
fn the_scenario_arrives_whole_and_no_planted_token_is_stored() {
    let Some(server) = SentryServer::start(None) else {
        return;
    };
    let sink = sink(&server);
    let capture = scenario("scenario-20.json");
    assert_eq!(
        sink.capture(capture, &reporter(), Origin::Panic),
        safe_report::mail::Outcome::Queued
    );
    assert!(sink.flush(WAIT), "{:?}", sink.stats());
    let events = server.wait_for_events(1, WAIT);
    assert_valid(&server, &events);
    let event = &events[0];
    let stored = event.to_string();
    assert_eq!(leaks(&stored, &planted()), Vec::<String>::new());

    let values = event["exception"]["values"].as_array().unwrap();
    let last = values.last().unwrap();
    assert_eq!(last["type"], "PaymentGatewayError");
    assert_eq!(last["mechanism"]["type"], "panic");
    assert_eq!(last["mechanism"]["handled"], false);
    assert_eq!(event["level"], "fatal");
    let counts = counts(event);
    eprintln!(
        "scenario-20 as stored: {} frames, {} application frames, {} with variables, {} with \
         source lines, {} bytes",
        all_frames(event).len(),
        counts.app_frames,
        counts.with_vars,
        counts.with_context,
        stored.len()
    );
    assert!(counts.app_frames >= 17, "{}", counts.app_frames);
    assert!(counts.with_vars >= 17, "{}", counts.with_vars);
    assert!(counts.with_context >= 17, "{}", counts.with_context);
    // What the filter hid is marked, by rule.
    assert!(
        stored.contains("\"rem\":[[\"safe-report:"),
        "{}",
        event["_meta"]
    );
    assert_eq!(event["request"]["method"], "POST");
    assert!(
        event["fingerprint"][0]
            .as_str()
            .unwrap()
            .starts_with("safe-report:")
    );
    let stats = sink.stats();
    assert_eq!((stats.delivered, stats.failed), (1, 0));
}

/// The demo itself, run by the test below in a process of its own.
#[test]
#[ignore = "runs the demo server until it is killed; started by the other tests"]
fn demo_process() {
    demo::main().unwrap();
}

fn event_of<'a>(events: &'a [Value], path: &str) -> &'a Value {
    events
        .iter()
        .find(|event| {
            event["request"]["url"]
                .as_str()
                .is_some_and(|url| url.ends_with(path))
        })
        .unwrap_or_else(|| panic!("no event of {path} among {events:#?}"))
}

fn vars_of(event: &Value, name: &str) -> Vec<Value> {
    all_frames(event)
        .iter()
        .filter_map(|frame| frame["vars"].get(name).cloned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_sends_its_panic_error_and_login_failure_whole_and_filtered() {
    let Some(server) = SentryServer::start(None) else {
        return;
    };
    let demo = web::Demo::start("demo_process", &[("SAFE_REPORT_SENTRY_DSN", server.dsn())]);
    assert_eq!(web::get(demo.addr, "/panic", None).await.status, 500);
    assert_eq!(web::get(demo.addr, "/error", None).await.status, 500);
    let login = web::post_form(
        demo.addr,
        "/login",
        "username=alice&password=correct+horse",
        None,
    )
    .await;
    assert_eq!(login.status, 500);
    let events = tokio::task::spawn_blocking(move || server_events(server, 3))
        .await
        .unwrap();

    let panic = event_of(&events, "/panic");
    let values = panic["exception"]["values"].as_array().unwrap();
    assert_eq!(values.last().unwrap()["type"], "panic");
    assert_eq!(values.last().unwrap()["mechanism"]["type"], "panic");
    let panic_frames = all_frames(panic);
    let functions: Vec<&str> = panic_frames
        .iter()
        .filter(|f| f["in_app"] == true)
        .filter_map(|f| f["function"].as_str())
        .collect();
    for function in ["demo::checkout", "demo::place_order", "demo::charge"] {
        assert!(
            functions.iter().any(|f| f.contains(function)),
            "{function} missing from {functions:?}"
        );
    }
    let charge = all_frames(panic)
        .into_iter()
        .find(|f| {
            f["function"]
                .as_str()
                .is_some_and(|f| f.ends_with("demo::charge"))
        })
        .unwrap();
    assert!(
        charge["filename"].as_str().unwrap().ends_with("demo.rs"),
        "{charge}"
    );
    assert!(charge["lineno"].as_u64().unwrap() > 0);
    assert!(
        charge["context_line"].as_str().unwrap().contains("panic!"),
        "{charge}"
    );
    assert!(!charge["pre_context"].as_array().unwrap().is_empty());
    assert!(vars_of(panic, "order_id").contains(&Value::from("ord_42")));
    assert_eq!(
        vars_of(panic, "card_number"),
        [Value::from("********************")]
    );
    assert_eq!(panic["request"]["method"], "GET");
    assert_eq!(panic["transaction"], "/panic");

    let error = event_of(&events, "/error");
    let chain: Vec<&str> = error["exception"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|value| value["value"].as_str())
        .collect();
    assert_eq!(
        chain,
        [
            "connection to db.internal:5432 timed out",
            "the orders query failed",
            "order ord_42 could not be loaded"
        ]
    );
    let last = error["exception"]["values"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    assert_eq!(
        last["mechanism"],
        serde_json::json!({"type": "generic", "handled": true, "exception_id": 0})
    );
    assert!(vars_of(error, "order_id").contains(&Value::from("ord_42")));
    assert!(
        all_frames(error)
            .iter()
            .any(|f| f["in_app"] == true && f["context_line"].is_string())
    );

    let login = event_of(&events, "/login");
    assert_eq!(login["request"]["method"], "POST");
    assert_eq!(login["request"]["data"]["username"], "alice");
    assert_eq!(login["request"]["data"]["password"], "********************");
    // The demo declares `password` a sensitive POST parameter: that is the rule that hid it.
    assert_eq!(
        login["_meta"]["request"]["data"]["password"][""]["rem"][0][0],
        "safe-report:sensitive-post-parameters"
    );

    let secrets = [
        "4111111111111111".to_owned(),
        "correct horse".to_owned(),
        "correct+horse".to_owned(),
        "hunter2-db-pass".to_owned(),
        "demo-secret-key-9f8e7d6c5b4a".to_owned(),
    ];
    for event in &events {
        assert_eq!(leaks(&event.to_string(), &secrets), Vec::<String>::new());
    }
}

/// Waits for `n` events of `server`, checks them and returns them (the server is stopped
/// when this returns).
fn server_events(server: SentryServer, n: usize) -> Vec<Value> {
    let events = server.wait_for_events(n, WAIT);
    assert_valid(&server, &events);
    events
}

#[test]
fn over_the_quota_the_sink_waits_as_told_and_counts_what_it_held_back() {
    let Some(server) = SentryServer::start(Some(2)) else {
        return;
    };
    let sink = sink(&server);
    for n in 0..5 {
        let capture = Capture::error("QuotaError", format!("report {n}"));
        sink.capture(capture, &reporter(), Origin::Error);
    }
    // Two are taken; the third is answered 429 with `X-Sentry-Rate-Limits: 60::key`, and it
    // and the two after it wait for the minute to pass.
    wait_until("the sink has tried the third", || {
        sink.stats().rate_limited >= 3
    });
    let stats = sink.stats();
    assert_eq!(stats.delivered, 2, "{stats:?}");
    assert_eq!(stats.awaiting_retry, 3, "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    // The server's access log: the envelopes it was sent.
    let posts = || {
        std::fs::read_to_string(server.dir().join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("/envelope/"))
            .count()
    };
    wait_until("the access log shows the third envelope", || posts() >= 3);
    // A flush during the wait sends nothing: the server saw three envelopes, no more.
    assert!(!sink.flush(Duration::from_secs(5)));
    assert_eq!(posts(), 3, "envelopes posted");
    assert_eq!(server.events().len(), 2);
}

#[test]
fn reports_queued_while_the_server_is_down_arrive_once_after_it_is_back() {
    let Some(mut server) = SentryServer::start(None) else {
        return;
    };
    let sink = sink(&server);
    sink.capture(
        Capture::error("BeforeOutage", "first"),
        &reporter(),
        Origin::Error,
    );
    assert!(sink.flush(WAIT));
    server.stop();
    for n in 0..5 {
        let capture = Capture::error("DuringOutage", format!("report {n}"));
        sink.capture(capture, &reporter(), Origin::Error);
    }
    wait_until("the sink has failed to connect", || {
        sink.stats().retries >= 1
    });
    assert!(!sink.flush(Duration::from_secs(5)));
    assert_eq!(sink.stats().delivered, 1);
    server.restart();
    wait_until("the held reports are delivered", || {
        sink.stats().awaiting_retry == 0 && sink.stats().delivered == 6
    });
    assert!(sink.shutdown(WAIT));
    let events = server.wait_for_events(6, WAIT);
    assert_valid(&server, &events);
    assert_eq!(events.len(), 6, "each report once");
    let ids: HashSet<&str> = events
        .iter()
        .filter_map(|event| event["event_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 6);
    let mut messages: Vec<&str> = events
        .iter()
        .filter_map(|event| event["exception"]["values"][0]["value"].as_str())
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            "first", "report 0", "report 1", "report 2", "report 3", "report 4"
        ]
    );
    assert_eq!(sink.stats().failed, 0);
}

#[test]
fn the_spool_keeps_what_waits_across_a_restart_of_the_sink_and_never_a_secret() {
    let Some(mut server) = SentryServer::start(None) else {
        return;
    };
    let spool = server.dir().join("spool");
    let config = |dsn: &str| {
        let queue =
            QueueConfig::default().backoff(Duration::from_millis(20), Duration::from_millis(500));
        SentryConfig::new(dsn)
            .unwrap()
            .queue(queue)
            .spool(&spool, 10 * 1024 * 1024)
    };
    server.stop();
    let first = Sink::sentry(config(server.dsn())).unwrap();
    for n in 0..3 {
        let capture = Capture::error("SpooledError", format!("report {n}")).with_frame(
            safe_report::Frame::new("app::pay", "src/pay.rs", 7)
                .var("password", "hunter2-spool-secret")
                .var("order_id", "ord_42"),
        );
        first.capture(capture, &reporter(), Origin::Error);
    }
    wait_until("all three wait for a retry", || {
        first.stats().awaiting_retry == 3
    });
    // The process ends with the server still down: what waits is on disk, filtered.
    assert!(!first.shutdown(Duration::from_secs(5)));
    drop(first);
    let files: Vec<Vec<u8>> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 3);
    for file in &files {
        let text = String::from_utf8_lossy(file);
        assert!(text.contains("ord_42"), "{text}");
        assert!(!text.contains("hunter2-spool-secret"));
        assert!(
            !text.contains(server.public_key()),
            "the DSN key is not spooled"
        );
    }

    server.restart();
    let second = Sink::sentry(config(server.dsn())).unwrap();
    wait_until("the spooled reports are delivered", || {
        second.stats().delivered == 3
    });
    assert!(second.shutdown(WAIT));
    let events = server.wait_for_events(3, WAIT);
    assert_valid(&server, &events);
    assert_eq!(events.len(), 3, "each once");
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
}

/// The variables and settings of the process that spools (`spool_process`).
const SPOOL_MODE: &str = "SAFE_REPORT_TEST_SPOOL_MODE";
const SPOOL_DSN: &str = "SAFE_REPORT_TEST_SPOOL_DSN";
const SPOOL_DIR: &str = "SAFE_REPORT_TEST_SPOOL_DIR";
const SPOOL_EXPECT: &str = "SAFE_REPORT_TEST_SPOOL_EXPECT";

/// One process of the test below. `queue`: three reports while the server is down, until
/// all three wait for a retry, then the process ends (its flush gives up). `deliver`: a new
/// sink on the same spool, until it has delivered `SAFE_REPORT_TEST_SPOOL_EXPECT` reports.
#[test]
#[ignore = "a process of its own, started by the_spool_survives_a_restart_of_the_process"]
fn spool_process() {
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} unset"));
    let queue =
        QueueConfig::default().backoff(Duration::from_millis(20), Duration::from_millis(500));
    let config = SentryConfig::new(&var(SPOOL_DSN))
        .expect("the server's DSN")
        .queue(queue)
        .spool(var(SPOOL_DIR), 10 * 1024 * 1024);
    let sink = Sink::sentry(config).expect("a sink");
    match var(SPOOL_MODE).as_str() {
        "queue" => {
            for n in 0..3 {
                let capture = Capture::error("SpooledError", format!("process report {n}"))
                    .with_frame(
                        safe_report::Frame::new("app::pay", "src/pay.rs", 7)
                            .var("password", "hunter2-process-secret")
                            .var("order_id", "ord_42"),
                    );
                sink.capture(capture, &reporter(), Origin::Error);
            }
            wait_until("all three wait for a retry", || {
                sink.stats().awaiting_retry == 3
            });
            assert!(!sink.shutdown(Duration::from_secs(2)));
        }
        "deliver" => {
            let expect: u64 = var(SPOOL_EXPECT).parse().expect("a count");
            wait_until("the spooled reports are delivered", || {
                sink.stats().delivered >= expect
            });
            assert!(sink.shutdown(WAIT), "{:?}", sink.stats());
            assert_eq!(sink.stats().delivered, expect, "{:?}", sink.stats());
        }
        other => panic!("no mode {other}"),
    }
    println!("spool process stats: {:?}", sink.stats());
}

/// Runs this binary's test `name` as a process of its own with `vars`, until it ends (the
/// child waits with its own deadlines; this one bounds the whole run), and returns its
/// output; panics when it fails.
fn run_process(name: &str, vars: &[(&str, &str)]) -> String {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("SAFE_REPORT_SENTRY_DSN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the child process");
    let deadline = Instant::now() + 2 * WAIT;
    let mut pause = Duration::from_millis(5);
    while child.try_wait().expect("the child's status").is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("{name} still runs after {:?}", 2 * WAIT);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn the_spool_survives_a_restart_of_the_process_and_each_report_arrives_once() {
    let Some(mut server) = SentryServer::start(None) else {
        return;
    };
    let spool = server.dir().join("process-spool");
    let spool_arg = spool.to_str().expect("a UTF-8 path").to_owned();
    let dsn = server.dsn().to_owned();
    let vars = |mode: &'static str, expect: &'static str| {
        [
            (SPOOL_MODE, mode),
            (SPOOL_DSN, dsn.as_str()),
            (SPOOL_DIR, spool_arg.as_str()),
            (SPOOL_EXPECT, expect),
        ]
    };
    server.stop();
    // The first process queues three reports, cannot deliver them, and ends.
    let first = run_process("spool_process", &vars("queue", "0"));
    assert!(first.contains("awaiting_retry: 3"), "{first}");
    let files: Vec<String> = std::fs::read_dir(&spool)
        .expect("the spool")
        .map(|entry| {
            String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned()
        })
        .collect();
    assert_eq!(files.len(), 3, "one file per report");
    for file in &files {
        assert!(file.contains("ord_42"), "{file}");
        assert!(!file.contains("hunter2-process-secret"), "{file}");
    }

    // A new process, the server back: it sends what the first left, and the spool empties.
    server.restart();
    let second = run_process("spool_process", &vars("deliver", "3"));
    assert!(second.contains("delivered: 3"), "{second}");
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    // A third process on the same spool has nothing to send.
    let third = run_process("spool_process", &vars("deliver", "0"));
    assert!(third.contains("delivered: 0"), "{third}");

    let events = server.wait_for_events(3, WAIT);
    assert_valid(&server, &events);
    assert_eq!(events.len(), 3, "each report once, nothing twice");
    let ids: HashSet<&str> = events
        .iter()
        .filter_map(|event| event["event_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 3, "three distinct event ids");
    let mut messages: Vec<&str> = events
        .iter()
        .filter_map(|event| event["exception"]["values"][0]["value"].as_str())
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        ["process report 0", "process report 1", "process report 2"]
    );
    for event in &events {
        assert_eq!(vars_of(event, "order_id"), [Value::from("ord_42")]);
        assert_eq!(
            vars_of(event, "password"),
            [Value::from(DEFAULT_SUBSTITUTE)]
        );
    }
}

#[cfg(feature = "tracing")]
#[test]
fn the_tracing_layer_sends_an_error_event_with_its_message_and_filtered_fields() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let Some(server) = SentryServer::start(None) else {
        return;
    };
    let token = "tok-tracing-9f8e7d6c5b4a3210";
    let sink = sink(&server);
    let layer = safe_report::integrations::tracing::ReportLayer::new().sink(sink.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: "shop::gateway", attempt = 1, "charging order ord_42");
        tracing::error!(
            order_id = "ord_42",
            api_token = token,
            "the charge of order ord_42 failed"
        );
    });
    // The layer builds the capture on the report worker, then the sink sends it.
    assert!(safe_report::runtime::background::flush(WAIT));
    assert!(sink.flush(WAIT), "{:?}", sink.stats());
    let events = server.wait_for_events(1, WAIT);
    assert_valid(&server, &events);
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["level"], "error");
    let values = event["exception"]["values"].as_array().unwrap();
    let last = values.last().unwrap();
    assert_eq!(last["value"], "the charge of order ord_42 failed");
    assert_eq!(last["mechanism"]["type"], "log");
    assert_eq!(last["mechanism"]["handled"], true);
    assert_eq!(vars_of(event, "order_id"), [Value::from("ord_42")]);
    assert_eq!(
        vars_of(event, "api_token"),
        [Value::from(DEFAULT_SUBSTITUTE)]
    );
    // The INFO event before it is the report's breadcrumb.
    let crumbs = event["breadcrumbs"]["values"]
        .as_array()
        .expect("breadcrumbs");
    assert!(
        crumbs
            .iter()
            .any(|crumb| crumb["message"] == "charging order ord_42"
                && crumb["category"] == "shop::gateway"
                && crumb["level"] == "info"),
        "{crumbs:#?}"
    );
    assert_eq!(
        leaks(&event.to_string(), &[token.to_owned()]),
        Vec::<String>::new()
    );
    assert_eq!((sink.stats().delivered, sink.stats().failed), (1, 0));
}

#[test]
fn breadcrumbs_arrive_with_message_level_and_category_and_a_token_only_as_the_substitute() {
    let Some(server) = SentryServer::start(None) else {
        return;
    };
    let bearer = "b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5";
    let field_token = "tok-crumb-0a1b2c3d4e5f6789";
    let capture = Capture::error("CheckoutError", "checkout failed")
        .with_breadcrumb(
            Breadcrumb::new(BreadcrumbLevel::Info, "shop::orders", "loaded order ord_42")
                .field("order_id", "ord_42"),
        )
        .with_breadcrumb(
            Breadcrumb::new(
                BreadcrumbLevel::Warn,
                "shop::gateway",
                format!("retrying with Bearer {bearer}"),
            )
            .field("api_token", field_token),
        )
        .with_breadcrumb(Breadcrumb::new(
            BreadcrumbLevel::Error,
            "shop::gateway",
            "the gateway refused the charge",
        ));
    let sink = sink(&server);
    sink.capture(capture, &reporter(), Origin::Error);
    assert!(sink.flush(WAIT), "{:?}", sink.stats());
    let events = server.wait_for_events(1, WAIT);
    assert_valid(&server, &events);
    let event = &events[0];
    let crumbs = event["breadcrumbs"]["values"]
        .as_array()
        .expect("breadcrumbs");
    let seen: Vec<(&str, &str, &str)> = crumbs
        .iter()
        .map(|crumb| {
            (
                crumb["level"].as_str().unwrap(),
                crumb["category"].as_str().unwrap(),
                crumb["message"].as_str().unwrap(),
            )
        })
        .collect();
    let retrying = format!("retrying with Bearer {DEFAULT_SUBSTITUTE}");
    assert_eq!(
        seen,
        [
            ("info", "shop::orders", "loaded order ord_42"),
            ("warning", "shop::gateway", retrying.as_str()),
            ("error", "shop::gateway", "the gateway refused the charge"),
        ]
    );
    assert_eq!(crumbs[0]["data"]["order_id"], "ord_42");
    assert_eq!(crumbs[1]["data"]["api_token"], DEFAULT_SUBSTITUTE);
    assert!(crumbs.iter().all(|crumb| crumb["timestamp"].is_string()));
    let secrets = [bearer.to_owned(), field_token.to_owned()];
    assert_eq!(leaks(&event.to_string(), &secrets), Vec::<String>::new());
}

#[test]
fn each_hidden_value_is_stored_with_the_rule_that_hid_it() {
    let Some(server) = SentryServer::start(None) else {
        return;
    };
    let token = "ghp_k7Qm2Xw9Lp4Rt8Vz3Nb6Yc1Hd5Fg0Js7Ae2Ku";
    let capture = Capture::error("PaymentError", "card declined").with_frame(
        safe_report::Frame::new("shop::pay", "src/pay.rs", 3)
            .var("password", "hunter2-by-name")
            .var("upstream", token)
            .var("card", "4111111111111111")
            .var("order_id", "ord_42"),
    );
    let expected = [
        ("password", "safe-report:name-pattern"),
        ("upstream", "safe-report:known-key-format"),
        ("card", "safe-report:card-number"),
    ];
    let rules = |event: &Value| -> Vec<(String, Value)> {
        let meta = &event["_meta"]["exception"]["values"]["0"]["stacktrace"]["frames"]["0"];
        expected
            .iter()
            .map(|(name, _)| ((*name).to_owned(), meta["vars"][*name][""]["rem"].clone()))
            .collect()
    };
    let want: Vec<(String, Value)> = expected
        .iter()
        .map(|(name, rule)| ((*name).to_owned(), serde_json::json!([[rule, "s"]])))
        .collect();
    // The event as the sink writes it.
    let report = reporter().report(&capture);
    let config = SentryConfig::new(server.dsn()).unwrap();
    let event = config.event(&report, Origin::Error);
    assert_eq!(rules(&event), want, "{:#}", event["_meta"]);
    // And as the server stored it.
    let sink = sink(&server);
    sink.capture(capture, &reporter(), Origin::Error);
    assert!(sink.flush(WAIT), "{:?}", sink.stats());
    let events = server.wait_for_events(1, WAIT);
    assert_valid(&server, &events);
    let stored = &events[0];
    assert_eq!(rules(stored), want, "{:#}", stored["_meta"]);
    for (name, _) in expected {
        assert_eq!(vars_of(stored, name), [Value::from(DEFAULT_SUBSTITUTE)]);
    }
    assert_eq!(vars_of(stored, "order_id"), [Value::from("ord_42")]);
    let secrets = [
        token.to_owned(),
        "4111111111111111".to_owned(),
        "hunter2-by-name".to_owned(),
    ];
    assert_eq!(leaks(&stored.to_string(), &secrets), Vec::<String>::new());
}
