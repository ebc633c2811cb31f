//! Personal data categories: IBANs and social security numbers hidden by default; home
//! directory user names, email addresses and client addresses shown by default and hidden,
//! in every rendering and counted, when their detector is on.

use safe_report::{
    Capture, Detector, ExceptionReporter, Format, Frame, RequestInfo, Rule, SafeReporterFilter,
};

const EMAIL: &str = "maria.lopez+orders@example.org";
const USER: &str = "mlopez42";
const CLIENT: &str = "198.51.100.23";
const FORWARDED: &str = "203.0.113.77";
const IBAN: &str = "GB82 WEST 1234 5698 7654 32";
const SSN: &str = "536-22-1897";

fn capture() -> Capture {
    Capture::error(
        "PaymentError",
        format!(
            "refund to {IBAN} for {EMAIL} failed, customer SSN {SSN}, \
             read /home/{USER}/shop/config.toml"
        ),
    )
    .with_frame(
        Frame::new("shop::refund", "src/refund.rs", 40)
            .var("config_file", format!("/home/{USER}/shop/config.toml"))
            .var("contact", EMAIL),
    )
    .with_request(
        RequestInfo::new("POST", "https://shop.example/refund")
            .header("X-Forwarded-For", format!("{FORWARDED}, 10.0.0.1"))
            .header("X-Real-IP", FORWARDED)
            .remote_addr(CLIENT),
    )
}

fn renderings(reporter: &ExceptionReporter) -> Vec<(Format, String)> {
    [Format::Text, Format::Html, Format::Json]
        .into_iter()
        .map(|format| (format, reporter.report(&capture()).render(format)))
        .chain([(
            Format::Text,
            reporter
                .text_report(&capture())
                .text()
                .for_email()
                .to_string(),
        )])
        .collect()
}

#[test]
fn ibans_and_social_security_numbers_are_hidden_and_the_other_categories_shown_by_default() {
    let reporter = ExceptionReporter::default();
    for (format, output) in renderings(&reporter) {
        assert!(!output.contains("WEST 1234"), "{format:?}: the IBAN");
        assert!(!output.contains(SSN), "{format:?}: the SSN");
        for shown in [EMAIL, USER, CLIENT, FORWARDED] {
            assert!(output.contains(shown), "{format:?}: {shown} is hidden");
        }
    }
    let report = reporter.report(&capture());
    assert_eq!(report.redactions.count(Rule::Iban), 1);
    assert_eq!(report.redactions.count(Rule::Ssn), 1);
    for rule in [
        Rule::HomeDirectoryUser,
        Rule::EmailAddress,
        Rule::ClientAddress,
    ] {
        assert_eq!(report.redactions.count(rule), 0, "{rule}");
    }
}

#[test]
fn each_category_switched_on_hides_its_values_everywhere_and_is_counted() {
    let filter = SafeReporterFilter::builder()
        .enable_detector(Detector::HomeDirectoryUser)
        .enable_detector(Detector::EmailAddress)
        .enable_detector(Detector::ClientAddress)
        .build();
    let reporter = ExceptionReporter::new(filter);
    for (format, output) in renderings(&reporter) {
        for hidden in [EMAIL, USER, CLIENT, FORWARDED] {
            assert!(!output.contains(hidden), "{format:?}: {hidden} is shown");
        }
        // The rest of the path and of the message stay readable.
        assert!(output.contains("/shop/config.toml"), "{format:?}: the path");
        assert!(
            output.contains("failed, customer"),
            "{format:?}: the message"
        );
    }
    let report = reporter.report(&capture());
    // In the message and the variables; `REMOTE_ADDR` and the two forwarding headers.
    assert!(report.redactions.count(Rule::EmailAddress) >= 2);
    assert!(report.redactions.count(Rule::HomeDirectoryUser) >= 1);
    assert_eq!(report.redactions.count(Rule::ClientAddress), 3);
    let summary = report.redactions.to_string();
    for label in [
        "email address",
        "user name in a home directory",
        "client IP address",
    ] {
        assert!(summary.contains(label), "{label} in {summary}");
    }
}

#[test]
fn a_category_switched_on_alone_hides_only_its_own_values() {
    let filter = SafeReporterFilter::builder()
        .enable_detector(Detector::ClientAddress)
        .build();
    let reporter = ExceptionReporter::new(filter);
    let json = reporter.report(&capture()).render(Format::Json);
    assert!(!json.contains(CLIENT) && !json.contains(FORWARDED));
    assert!(json.contains(EMAIL) && json.contains(USER));
}

#[test]
fn django_parity_and_detectors_off_hide_no_personal_data() {
    for filter in [
        SafeReporterFilter::django(),
        SafeReporterFilter::builder().detectors(false).build(),
    ] {
        let reporter = ExceptionReporter::new(filter);
        let json = reporter.report(&capture()).render(Format::Json);
        for shown in [EMAIL, USER, CLIENT, FORWARDED, SSN] {
            assert!(json.contains(shown), "{shown} is hidden");
        }
    }
}
