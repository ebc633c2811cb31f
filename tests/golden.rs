//! Golden files: every rendering of one fixed capture (with identity, breadcrumbs, tags and
//! context), compared byte for byte with the files in `tests/data/golden/`. A change to a
//! template or to formatting shows up here for review.
//!
//! To regenerate the files after an intended change, run
//! `SAFE_REPORT_BLESS=1 cargo test --test golden` and review the diff.

use std::path::{Path, PathBuf};

use safe_report::{
    Breadcrumb, BreadcrumbLevel, Capture, Cause, Environment, ExceptionReporter, Frame, Identity,
    RequestInfo, SensitiveNames, TaskContext,
};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

fn capture() -> Capture {
    let mut environment = Environment::default();
    environment.executable = Some("/srv/shop/bin/shop".to_owned());
    environment.application = Some("shop 1.4.2".to_owned());
    environment.safe_report_version = Some("0.1.0".to_owned());
    environment.rustc_version = Some("rustc 1.95.0".to_owned());
    environment.target = Some("x86_64-unknown-linux-gnu".to_owned());
    environment.hostname = Some("web-1".to_owned());
    environment.pid = Some(4242);
    environment.server_time = Some("2026-11-21T10:29:06+01:00[+01:00]".parse().unwrap());
    environment.identity = Identity::new()
        .environment("staging")
        .release("shop@1.4.2+3f2c1ab")
        .server_name("web-1.staging");

    let request = RequestInfo::new(
        "POST",
        "https://shop.example.com/checkout/?step=pay&access_token=tok_12345678abc",
    )
    .header("Host", "shop.example.com")
    .header("User-Agent", "Mozilla/5.0 (golden)")
    .header("Cookie", "sessionid=sess-abcdef123456; theme=dark")
    .header("Authorization", "Bearer abc.def.ghi-123456")
    .header("Content-Type", "application/x-www-form-urlencoded")
    .body("username=alice&password=hunter2-secret&city=Berlin")
    .remote_addr("203.0.113.7")
    .user("alice")
    .route("shop::checkout")
    .sensitive_post_parameters(SensitiveNames::names(["password"]));

    Capture::error("shop::PaymentError", "payment declined for order ord_42")
        .with_cause(Cause::direct(
            Some("std::io::Error".to_owned()),
            "connection reset by postgres://shop:db-pass-123456@db.internal/shop",
        ))
        .with_request(request)
        .with_frame(
            Frame::new("shop::checkout", "src/checkout.rs", 5)
                .var("order_id", "ord_42")
                .var("card_number", "4111111111111111")
                .sensitive_variables(SensitiveNames::names(["card_number"])),
        )
        .with_frame(
            Frame::new("shop::charge", "src/checkout.rs", 15)
                .column(13)
                .var("total", 4200)
                .var("gateway", serde_json::json!({"url": "https://payments.example/v1", "api_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc"})),
        )
        .with_frame(Frame::new("std::rt::lang_start", "library/std/src/rt.rs", 100).in_app(false))
        .with_settings(&serde_json::json!({
            "DEBUG": false,
            "DATABASE_URL": "postgres://shop:db-pass-123456@db.internal/shop",
            "SECRET_KEY": "not-in-any-output",
            "ALLOWED_HOSTS": ["shop.example.com"],
        }))
        .with_environment(environment)
        .with_breadcrumb(breadcrumb(
            "2026-11-21T09:29:04.250Z",
            Breadcrumb::new(BreadcrumbLevel::Info, "shop::cart", "cart loaded")
                .field("items", "3")
                .field("coupon", "None"),
        ))
        .with_breadcrumb(breadcrumb(
            "2026-11-21T09:29:05.500Z",
            Breadcrumb::new(BreadcrumbLevel::Info, "shop::checkout", "charging order ord_42"),
        ))
        .with_breadcrumb(breadcrumb(
            "2026-11-21T09:29:05.875Z",
            Breadcrumb::new(
                BreadcrumbLevel::Warn,
                "shop::gateway",
                "retrying with Bearer abc.def.ghi-123456",
            )
            .field("attempt", "2")
            .field("api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ))
        .with_context(
            TaskContext::new()
                .with_tag("tenant", "acme")
                .with_tag("region", "eu-west-1")
                .with_tag("auth_token", "tok_12345678abc")
                .with_value("job_id", "job-7")
                .with_value("upstream", "postgres://shop:db-pass-123456@db.internal/shop"),
        )
}

/// `crumb`, logged at `timestamp` (fixed, for the golden files).
fn breadcrumb(timestamp: &str, mut crumb: Breadcrumb) -> Breadcrumb {
    crumb.timestamp = timestamp.parse().unwrap();
    crumb
}

fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("SAFE_REPORT_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with SAFE_REPORT_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the length".to_owned(), |n| format!("line {}", n + 1));
        panic!(
            "{name} differs from the golden file at {line}; if the change is intended, \
             run SAFE_REPORT_BLESS=1 cargo test --test golden and review the diff"
        );
    }
}

fn reporter() -> ExceptionReporter {
    ExceptionReporter::default().source_root(golden_dir())
}

#[test]
fn text_report_matches_its_golden_file() {
    check(
        "report.txt",
        &reporter().text_report(&capture()).text().to_string(),
    );
}

#[test]
fn email_text_report_matches_its_golden_file() {
    check(
        "report-email.txt",
        &reporter()
            .text_report(&capture())
            .text()
            .for_email()
            .to_string(),
    );
}

#[test]
fn browser_page_matches_its_golden_file() {
    check(
        "report.html",
        &reporter().report(&capture()).html().to_string(),
    );
}

#[test]
fn email_html_matches_its_golden_file() {
    check(
        "report-email.html",
        &reporter().report(&capture()).html().for_email().to_string(),
    );
}

#[test]
fn json_report_matches_its_golden_file() {
    check(
        "report.json",
        &reporter().report(&capture()).json().to_string(),
    );
}

#[test]
fn markdown_report_matches_its_golden_file() {
    check(
        "report.md",
        &reporter().report(&capture()).markdown().to_string(),
    );
}

#[test]
fn every_rendering_shows_identity_breadcrumbs_tags_and_context_without_their_secrets() {
    let report = reporter().report(&capture());
    let renderings = [
        ("text", report.text().to_string()),
        ("email text", report.text().for_email().to_string()),
        ("page", report.html().to_string()),
        ("email HTML", report.html().for_email().to_string()),
        ("JSON", report.json().to_string()),
        ("Markdown", report.markdown().to_string()),
    ];
    for (name, rendered) in &renderings {
        for shown in [
            "staging",
            "shop@1.4.2+3f2c1ab",
            "charging order ord_42",
            "acme",
            "job-7",
        ] {
            assert!(rendered.contains(shown), "{name} lacks {shown}");
        }
        for hidden in [
            "tok_12345678abc",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "db-pass-123456",
            "abc.def.ghi-123456",
        ] {
            assert!(!rendered.contains(hidden), "{name} shows {hidden}");
        }
    }
}

#[test]
fn debug_capture_text_ends_with_the_debug_footer() {
    let text = reporter()
        .text_report(&capture().with_debug(true))
        .text()
        .to_string();
    assert!(text.contains("You’re seeing this error because debug mode is on."));
    let email = reporter()
        .text_report(&capture().with_debug(true))
        .text()
        .for_email()
        .to_string();
    assert!(!email.contains("debug mode is on"));
}

#[test]
fn both_text_paths_agree_on_everything_including_the_counts() {
    let reporter = reporter();
    let capture = capture();
    assert_eq!(
        reporter.text_report(&capture).text().to_string(),
        reporter.report(&capture).text().to_string()
    );
    assert_eq!(
        reporter
            .text_report(&capture)
            .text()
            .for_email()
            .to_string(),
        reporter.report(&capture).text().for_email().to_string()
    );
}
