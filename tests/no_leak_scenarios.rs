//! The benchmark workload in `tests/data/bench/` through every output.
//!
//! Each scenario (one, twenty and a hundred frames) holds the 40 secret tokens listed in
//! `planted.json`: settings, URL passwords, POST fields, query parameters, headers, cookies,
//! frame variables, free text and the exception message. None of them may reach any output,
//! in any encoding a reader (or a search) could find it in, while the ordinary values next to
//! them stay visible.
#![cfg(feature = "mail")]

use std::path::PathBuf;

use safe_report::mail::{EmailParts, EmailRenderer};
use safe_report::{Capture, ExceptionReporter};
use serde_json::Value;

fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench")
}

fn reporter() -> ExceptionReporter {
    ExceptionReporter::default().source_root(bench_dir().join("source"))
}

fn read(name: &str) -> String {
    let path = bench_dir().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn load(name: &str) -> Capture {
    Capture::from_json(&read(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// A planted secret: its key in `planted.json`, the token and where it sits.
struct Planted {
    key: String,
    token: String,
    place: String,
}

fn planted() -> Vec<Planted> {
    let json: Value = serde_json::from_str(&read("planted.json")).expect("planted.json is JSON");
    let map = json.as_object().expect("planted.json is an object");
    let planted: Vec<Planted> = map
        .iter()
        .map(|(key, entry)| Planted {
            key: key.clone(),
            token: entry["token"]
                .as_str()
                .expect("every entry has a token")
                .to_owned(),
            place: entry["where"].as_str().unwrap_or("?").to_owned(),
        })
        .collect();
    assert_eq!(planted.len(), 40, "planted.json lists 40 tokens");
    planted
}

/// How a format writes text: what a value looks like inside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Text,
    Html,
    Json,
}

/// One rendering of a scenario.
struct Output {
    format: &'static str,
    family: Family,
    /// Whether this format shows frame variables.
    shows_variables: bool,
    text: String,
}

/// The output that is an email's log message (subject and first line), not a report.
const SUBJECT: &str = "email subject and first line (EmailRenderer::render)";

fn render_all(capture: &Capture) -> Vec<Output> {
    let reporter = reporter();
    let report = reporter.report(capture);
    vec![
        Output {
            format: "text (Report::render_text)",
            family: Family::Text,
            shows_variables: false,
            text: report.text().to_string(),
        },
        Output {
            format: "text (ExceptionReporter::text_report)",
            family: Family::Text,
            shows_variables: false,
            text: reporter.text_report(capture).text().to_string(),
        },
        Output {
            format: "email text (ExceptionReporter::text_report, text().for_email())",
            family: Family::Text,
            shows_variables: false,
            text: reporter.text_report(capture).text().for_email().to_string(),
        },
        Output {
            format: "email text (Report::text().for_email())",
            family: Family::Text,
            shows_variables: false,
            text: report.text().for_email().to_string(),
        },
        Output {
            format: "text with variables (Report::render_text_with_variables)",
            family: Family::Text,
            shows_variables: true,
            text: report.text().with_variables().to_string(),
        },
        Output {
            format: SUBJECT,
            family: Family::Text,
            shows_variables: false,
            text: {
                let url = capture.request.as_ref().map_or("", |request| &request.url);
                let message = capture.error.message.as_deref().unwrap_or("");
                EmailRenderer::render(
                    &reporter,
                    capture,
                    &format!("{message} at {url}"),
                    EmailParts::Text,
                )
                .message
            },
        },
        Output {
            format: "browser HTML (render_html)",
            family: Family::Html,
            shows_variables: true,
            text: report.html().to_string(),
        },
        Output {
            format: "email HTML (render_email_html)",
            family: Family::Html,
            shows_variables: true,
            text: report.html().for_email().to_string(),
        },
        Output {
            format: "JSON (render_json)",
            family: Family::Json,
            shows_variables: true,
            text: report.json().to_string(),
        },
    ]
}

/// `text` HTML-escaped with numeric character references (as the templates write it) or
/// with named ones.
fn html_escaped(text: &str, numeric: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        let entity = match (ch, numeric) {
            ('&', true) => "&#38;",
            ('<', true) => "&#60;",
            ('>', true) => "&#62;",
            ('"', true) => "&#34;",
            ('\'', true) => "&#39;",
            ('&', false) => "&amp;",
            ('<', false) => "&lt;",
            ('>', false) => "&gt;",
            ('"', false) => "&quot;",
            ('\'', false) => "&#x27;",
            _ => {
                out.push(ch);
                continue;
            }
        };
        out.push_str(entity);
    }
    out
}

fn percent_encoded(text: &str, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b' ' if space_as_plus => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("a string serializes");
    quoted[1..quoted.len() - 1].to_owned()
}

/// Every form `token` could take in an output, named; forms equal to an earlier one are dropped.
fn encodings(token: &str) -> Vec<(&'static str, String)> {
    let candidates = [
        ("raw", token.to_owned()),
        ("HTML-escaped", html_escaped(token, true)),
        ("HTML-escaped (named entities)", html_escaped(token, false)),
        ("URL-encoded (percent)", percent_encoded(token, false)),
        (
            "URL-encoded (form, + for space)",
            percent_encoded(token, true),
        ),
        ("JSON-escaped", json_escaped(token)),
        (
            "JSON-escaped, then HTML-escaped",
            html_escaped(&json_escaped(token), true),
        ),
    ];
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (name, form) in candidates {
        if !out.iter().any(|(_, seen)| *seen == form) {
            out.push((name, form));
        }
    }
    out
}

fn excerpt(text: &str, at: usize, len: usize) -> String {
    let mut start = at.saturating_sub(80);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + len + 80).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[start..end].replace('\n', "\\n")
}

fn assert_no_leaks(scenario: &str, outputs: &[Output], planted: &[Planted]) {
    let mut leaks = Vec::new();
    for secret in planted {
        for (encoding, form) in encodings(&secret.token) {
            for output in outputs {
                if let Some(at) = output.text.find(&form) {
                    leaks.push(format!(
                        "token {token} ({key}: {place}) leaked in {format} {encoding}: …{context}…",
                        token = secret.token,
                        key = secret.key,
                        place = secret.place,
                        format = output.format,
                        encoding = if encoding == "raw" {
                            "raw".to_owned()
                        } else {
                            format!("as {encoding} {form:?}")
                        },
                        context = excerpt(&output.text, at, form.len()),
                    ));
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{scenario}: {} leak(s):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

/// `value` as the format writes it: HTML escapes it, JSON escapes it inside strings.
fn as_written(value: &str, family: Family) -> String {
    match family {
        Family::Text => value.to_owned(),
        Family::Html => html_escaped(value, true),
        Family::Json => json_escaped(value),
    }
}

fn assert_visible(scenario: &str, outputs: &[Output]) {
    const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
    const REQUEST_ID: &str = "5f0c6a1e-8f1b-4c5e-9a57-3d2f1b0c9e11";
    // (what, value as the report shows it, only where variables are shown)
    let expected: [(&str, &str, bool); 8] = [
        ("the POST field username", "\"alice\"", false),
        ("the order id in ctx", "\"ord_123000\"", true),
        ("an item of items", "\"sku-000-0000\"", true),
        ("the POST field city", "\"Berlin\"", false),
        ("the POST field promo_code", "\"SPRING25\"", false),
        ("the User-Agent header", USER_AGENT, false),
        ("the X-Request-Id header", REQUEST_ID, false),
        ("the request's user", "alice", false),
    ];
    let mut missing = Vec::new();
    for output in outputs {
        if output.format == SUBJECT {
            // Only the log message: the error message and the URL, not a report.
            if !output.text.contains(" at https://shop.example.com/") {
                missing.push(format!("the URL is missing from {}", output.format));
            }
            continue;
        }
        for (what, value, variables_only) in expected {
            if variables_only && !output.shows_variables {
                continue;
            }
            let written = as_written(value, output.family);
            if !output.text.contains(&written) {
                missing.push(format!(
                    "{what} ({written}) is missing from {}",
                    output.format
                ));
            }
        }
        // The user line itself, not just some text containing "alice".
        let user_shown = match output.family {
            Family::Text => output.text.contains("USER: alice\n"),
            Family::Json => output.text.contains("\"user\": \"alice\""),
            Family::Html => {
                let document = scraper::Html::parse_document(&output.text);
                let selector = scraper::Selector::parse("#user-info + p").unwrap();
                document
                    .select(&selector)
                    .any(|element| element.text().collect::<String>() == "alice")
            }
        };
        if !user_shown {
            missing.push(format!("the USER entry is not alice in {}", output.format));
        }
        // Frame variables: only where the format shows them.
        let shows_ctx = output.text.contains("ord_12300");
        if !output.shows_variables && shows_ctx {
            missing.push(format!("{} shows frame variables", output.format));
        }
    }
    assert!(
        missing.is_empty(),
        "{scenario}: ordinary values not shown as expected:\n{}",
        missing.join("\n")
    );
}

fn check_scenario(name: &str) {
    let capture = load(name);
    let raw = read(name);
    let planted = planted();
    // The scenario really holds the tokens (scenario-1 has no sensitive_variables frames).
    let present = planted.iter().filter(|p| raw.contains(&p.token)).count();
    assert!(
        present >= 38,
        "{name} holds only {present} of the 40 tokens"
    );
    let outputs = render_all(&capture);
    assert_no_leaks(name, &outputs, &planted);
    assert_visible(name, &outputs);
}

/// The outputs of a report that the HTTP sinks send: the Sentry event, the webhook body.
fn sink_outputs(capture: &Capture) -> Vec<Output> {
    #[allow(unused_mut)]
    let mut outputs = Vec::new();
    #[cfg(feature = "sentry")]
    {
        use safe_report::sinks::{Origin, SentryConfig};
        let config = SentryConfig::new("https://public@sentry.example.invalid/1")
            .expect("a DSN")
            .send_client_ip(true);
        let report = reporter().report(capture);
        outputs.push(Output {
            format: "Sentry event (SentryConfig::event)",
            family: Family::Json,
            shows_variables: true,
            text: config.event(&report, Origin::Panic).to_string(),
        });
    }
    #[cfg(feature = "webhook")]
    {
        use safe_report::sinks::{Origin, WebhookConfig};
        let config = WebhookConfig::new("https://hooks.example.invalid/report").expect("a URL");
        let report = reporter().report(capture);
        outputs.push(Output {
            format: "webhook body (WebhookConfig::body)",
            family: Family::Json,
            shows_variables: true,
            text: config.body(&report, Origin::Panic),
        });
    }
    let _ = capture;
    outputs
}

/// What a sink sends holds no planted token, and the ordinary values beside them.
fn check_sink_outputs(name: &str) {
    let capture = load(name);
    let outputs = sink_outputs(&capture);
    assert_no_leaks(name, &outputs, &planted());
    for output in &outputs {
        for ordinary in ["ord_123000", "sku-000-0000", "alice", "Berlin", "SPRING25"] {
            assert!(
                output.text.contains(ordinary),
                "{name}: {ordinary} is missing from {}",
                output.format
            );
        }
    }
}

#[test]
fn what_the_sinks_send_of_each_scenario_leaks_no_planted_token() {
    for name in ["scenario-1.json", "scenario-20.json", "scenario-100.json"] {
        check_sink_outputs(name);
    }
}

#[test]
fn scenario_1_leaks_no_planted_token() {
    check_scenario("scenario-1.json");
}

#[test]
fn scenario_20_leaks_no_planted_token() {
    check_scenario("scenario-20.json");
}

#[test]
fn scenario_100_leaks_no_planted_token() {
    check_scenario("scenario-100.json");
}

#[test]
fn every_planted_token_sits_in_the_twenty_and_hundred_frame_scenarios() {
    for name in ["scenario-20.json", "scenario-100.json"] {
        let raw = read(name);
        for secret in planted() {
            assert!(
                raw.contains(&secret.token),
                "{name} lacks {} ({})",
                secret.token,
                secret.place
            );
        }
    }
}

#[test]
fn scenario_files_load_unchanged() {
    for name in ["scenario-1.json", "scenario-20.json", "scenario-100.json"] {
        let capture = load(name);
        assert!(!capture.debug, "{name}: the scenarios run with debug off");
        assert!(capture.request.is_some(), "{name}: has a request");
        assert!(capture.settings.is_some(), "{name}: has settings");
        let again = Capture::from_json(&capture.to_json())
            .unwrap_or_else(|error| panic!("{name}: its own JSON does not load: {error}"));
        assert!(
            again == capture,
            "{name}: to_json/from_json changed the capture"
        );
        // The written form is the same document: nothing dropped or added on the way.
        let original: Value = serde_json::from_str(&read(name)).unwrap();
        let written: Value = serde_json::from_str(&capture.to_json()).unwrap();
        assert_eq!(
            strip_nulls(original),
            strip_nulls(written),
            "{name}: to_json differs from the file"
        );
    }
}

/// Drops object members whose value is null: absent and null optional fields mean the same.
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}
