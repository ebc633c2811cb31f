//! The webhook sink against an HTTP server on 127.0.0.1 that records what it receives and
//! answers from a script: the report's JSON rendering arrives with the configured header and
//! none of the scenario's planted tokens; a 503 is retried, a 400 dropped and counted, a 429
//! waited out; each report arrives once.
#![cfg(feature = "webhook")]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use safe_report::mail::{Outcome, QueueConfig};
use safe_report::sinks::{Origin, Sink, WebhookConfig};
use safe_report::{Capture, ExceptionReporter};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
    status: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A status and a `Retry-After` value to answer with.
type Answer = (u16, Option<String>);

/// A server answering each request with the next status of `script` (200 after it).
struct Server {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    fn start(script: &[(u16, Option<&str>)]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/hooks/safe-report",
            listener.local_addr().unwrap()
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<VecDeque<Answer>>> = Arc::new(Mutex::new(
            script
                .iter()
                .map(|(status, retry)| (*status, retry.map(str::to_owned)))
                .collect(),
        ));
        let log = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut headers = Vec::new();
                let mut line = String::new();
                let _ = reader.read_line(&mut line); // the request line
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_owned(), value.trim().to_owned()));
                    }
                }
                let length = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let (status, retry) = script.lock().unwrap().pop_front().unwrap_or((200, None));
                log.lock().unwrap().push(Received {
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                    status,
                });
                let retry = retry
                    .map(|r| format!("Retry-After: {r}\r\n"))
                    .unwrap_or_default();
                let _ = write!(
                    writer,
                    "HTTP/1.1 {status} X\r\n{retry}Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Server { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn sink(server: &Server) -> Sink {
    let queue =
        QueueConfig::default().backoff(Duration::from_millis(10), Duration::from_millis(100));
    let config = WebhookConfig::new(&server.url)
        .unwrap()
        .header("Authorization", "Bearer collector-token-7f3a")
        .unwrap()
        .queue(queue);
    Sink::webhook(config).unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not after {WAIT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench")
}

#[test]
fn the_report_arrives_as_json_with_the_header_and_no_planted_token() {
    let server = Server::start(&[]);
    let sink = sink(&server);
    let text = std::fs::read_to_string(bench_dir().join("scenario-20.json")).unwrap();
    let capture = Capture::from_json(&text).unwrap();
    let reporter = ExceptionReporter::default().source_root(bench_dir().join("source"));
    assert_eq!(
        sink.capture(capture, &reporter, Origin::Panic),
        Outcome::Queued
    );
    assert!(sink.flush(WAIT));
    let received = server.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(
        request.header("authorization"),
        Some("Bearer collector-token-7f3a")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["origin"], "panic");
    assert_eq!(body["level"], "fatal");
    assert_eq!(body["report"]["exception_type"], "PaymentGatewayError");
    assert!(body["report"]["frames"].as_array().unwrap().len() >= 20);
    let planted: Value =
        serde_json::from_str(&std::fs::read_to_string(bench_dir().join("planted.json")).unwrap())
            .unwrap();
    let leaked: Vec<&str> = planted
        .as_object()
        .unwrap()
        .values()
        .filter_map(|entry| entry["token"].as_str())
        .filter(|token| request.body.contains(token))
        .collect();
    assert_eq!(leaked, Vec::<&str>::new());
    assert!(request.body.contains("ord_123000"));
}

#[test]
fn a_503_is_retried_a_400_dropped_and_a_429_waited_out_each_report_once() {
    let server = Server::start(&[
        (503, None),
        (200, None),
        (400, None),
        (429, Some("0")),
        (200, None),
    ]);
    let sink = sink(&server);
    let reporter = ExceptionReporter::default();
    for n in 1..=3 {
        sink.capture(
            Capture::error("HookError", format!("report {n}")),
            &reporter,
            Origin::Error,
        );
    }
    wait_until("every report handled", || {
        let stats = sink.stats();
        stats.delivered + stats.failed == 3
    });
    let stats = sink.stats();
    assert_eq!(
        (stats.delivered, stats.rejected, stats.failed),
        (2, 1, 1),
        "{stats:?}"
    );
    assert_eq!((stats.retries, stats.rate_limited), (2, 1), "{stats:?}");
    let messages: Vec<(u16, String)> = server
        .received()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            (
                r.status,
                body["report"]["exception_value"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let expected = [
        (503, "report 1"),
        (200, "report 1"),
        (400, "report 2"),
        (429, "report 3"),
        (200, "report 3"),
    ];
    let expected: Vec<(u16, String)> = expected
        .iter()
        .map(|(s, m)| (*s, (*m).to_owned()))
        .collect();
    assert_eq!(messages, expected);
}
