//! `Debug` of captured data shows names, kinds and sizes, never a value: every type that
//! holds what a program captured (variables, the request, settings, messages) is formatted
//! with `{:?}` and `{:#?}` around a marker secret, which must not appear.
#![cfg(feature = "mail")]

use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};

use safe_report::mail::NotFound;
use safe_report::model::{CapturedKind, CapturedValue};
use safe_report::panic::HookBuilder;
use safe_report::runtime::scope::capture_scopes;
use safe_report::{
    Capture, Cause, Environment, FilterContext, Frame, RawText, RequestInfo, SafeReporterFilter,
    SensitiveNames, UploadedFile, Variable,
};
use serde_json::json;

/// The secret planted everywhere.
const MARKER: &str = "mk7q-plant3d";
/// A secret number (a card number held as an integer).
const NUMBER: u64 = 4_111_111_111_111_111;

/// `{:?}` and `{:#?}` of `value`.
fn shown(value: &impl Debug) -> [String; 2] {
    [format!("{value:?}"), format!("{value:#?}")]
}

/// Neither form shows a marker, and both show every one of `names`.
#[track_caller]
fn assert_redacted(value: &impl Debug, names: &[&str]) {
    for text in shown(value) {
        assert!(!text.contains(MARKER), "the marker is shown:\n{text}");
        assert!(
            !text.contains(&NUMBER.to_string()),
            "the number is shown:\n{text}"
        );
        for name in names {
            assert!(text.contains(name), "{name} is missing:\n{text}");
        }
    }
}

fn request() -> RequestInfo {
    let mut request = RequestInfo::new("POST", format!("https://shop.example/pay?token={MARKER}"))
        .header("Authorization", format!("Bearer {MARKER}"))
        .header("X-Custom", vec![0xff, b'a', 0xfe])
        .body(format!("card={MARKER}"))
        .remote_addr(MARKER)
        .user(format!("alice {MARKER}"))
        .route("/pay")
        .sensitive_post_parameters(SensitiveNames::names(["card"]));
    request.files.push(UploadedFile::new(
        "receipt",
        Some(format!("{MARKER}.pdf")),
        Some("application/pdf".to_owned()),
        Some(1234),
    ));
    request
}

fn frame() -> Frame {
    Frame::new("shop::pay", "src/pay.rs", 12)
        .var("password", MARKER)
        .var(
            "order",
            json!({"card": MARKER, "amount": NUMBER, "items": [MARKER, true, null]}),
        )
        .var("pin", NUMBER)
        .var_failed("broken", format!("Debug panicked: {MARKER}"))
        .sensitive_variables(SensitiveNames::names(["pin"]))
}

fn capture() -> Capture {
    Capture::error("PaymentError", format!("declined for {MARKER}"))
        .with_cause(
            Cause::direct(Some("IoError".to_owned()), format!("read {MARKER}")).with_frame(frame()),
        )
        .with_frame(frame())
        .with_request(request())
        .with_settings(&json!({"SECRET_KEY": MARKER, "DATABASES": {"url": MARKER}}))
        .with_environment(Environment::current().application(format!("shop {MARKER}")))
}

#[test]
fn a_capture_shows_its_shape_and_names_but_no_value() {
    assert_redacted(
        &capture(),
        &[
            "PaymentError",
            "IoError",
            "shop::pay",
            "src/pay.rs",
            "password",
            "order",
            "broken",
            "Authorization",
            "POST",
            "receipt",
        ],
    );
}

#[test]
fn a_request_shows_header_names_and_sizes() {
    assert_redacted(
        &request(),
        &["POST", "Authorization", "X-Custom", "receipt", "card"],
    );
    let text = format!("{:?}", request());
    assert!(text.contains("bytes"), "sizes are shown: {text}");
}

#[test]
fn variables_and_captured_values_show_their_kind_and_size() {
    let frame = frame();
    assert_redacted(&frame, &["shop::pay", "password", "order", "pin"]);
    for var in &frame.vars {
        assert_redacted(var, &[&var.name]);
        assert_redacted(&var.value, &[]);
        assert_redacted(&var.value.root(), &[]);
        assert_redacted(&var.value.root().kind(), &[]);
    }
    let order = &frame.vars[1].value;
    assert_redacted(order, &["map", "3"]);
    let CapturedKind::Map(entries) = order.root().kind() else {
        panic!("a map")
    };
    assert_redacted(&entries, &[]);
    for (_, part) in entries {
        assert_redacted(&part, &[]);
        if let CapturedKind::List(items) = part.kind() {
            assert_redacted(&items, &[]);
        }
    }
    assert_redacted(
        &CapturedValue::from(MARKER),
        &["str", &MARKER.len().to_string()],
    );
    assert_redacted(&Variable::new("token", MARKER), &["token"]);
}

#[test]
fn raw_text_shows_its_length() {
    assert_redacted(&RawText::from(MARKER), &[&MARKER.len().to_string()]);
    assert_redacted(&RawText::from(vec![0xff, 0xfe]), &["2"]);
}

#[test]
fn error_info_and_causes_show_type_names_only() {
    let capture = capture();
    assert_redacted(&capture.error, &["PaymentError", "IoError"]);
    assert_redacted(&capture.error.chain[0], &["IoError", "shop::pay"]);
}

#[test]
fn scopes_show_variable_names_only() {
    let password = MARKER.to_owned();
    let amount = NUMBER;
    let scope = safe_report::vars!(password, amount);
    assert_redacted(&scope, &["password", "amount"]);
    let scopes = scope.run(capture_scopes);
    assert!(!scopes.is_empty());
    assert_redacted(&scopes, &["password", "amount"]);
}

#[test]
fn the_hook_builder_does_not_show_its_settings() {
    let builder = HookBuilder::new()
        .settings(&json!({"SECRET_KEY": MARKER}))
        .application("shop 1.0");
    assert_redacted(&builder, &["HookBuilder", "settings"]);
}

#[test]
fn a_filter_context_shows_neither_the_capture_nor_the_hidden_values() {
    let capture = capture();
    let filter = SafeReporterFilter::default();
    let mut cx = FilterContext::new(&capture, &filter);
    cx.remember(&format!("{MARKER}-remembered"), "********************");
    assert_redacted(&cx, &["PaymentError", "HiddenValues"]);
}

#[test]
fn a_not_found_link_shows_its_domain_only() {
    let link = NotFound::new("shop.example.com", format!("/reset/{MARKER}"))
        .referer(format!("https://mail.example/?t={MARKER}"))
        .user_agent(MARKER)
        .remote_addr(MARKER);
    assert_redacted(&link, &["shop.example.com"]);
}

/// A writer that keeps what `tracing` writes.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logging_a_capture_with_tracing_leaks_nothing() {
    let written = Written::default();
    let writer = written.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let capture = capture();
        tracing::debug!(?capture, "captured");
        tracing::debug!(request = ?capture.request, frames = ?capture.frames, "parts");
    });
    let text = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("PaymentError"), "{text}");
    assert!(!text.contains(MARKER), "{text}");
    assert!(!text.contains(&NUMBER.to_string()), "{text}");
}
