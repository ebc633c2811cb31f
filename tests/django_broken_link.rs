//! Django's `BrokenLinkEmailsMiddlewareTest` (tests/middleware/tests.py, 8 tests), ported,
//! plus the query-string case Django gets wrong.
//!
//! Adaptations: the middleware's `process_response` on a 404 is
//! `BrokenLinkReporter::not_found`, with the request as a `NotFound` (Django's test client
//! host is `testserver`); `mail.outbox` is a `MemoryBackend` read after `Mailer::flush`.
//! Django's subclass overriding `is_ignorable_request` with user-agent regexes is
//! `BrokenLinkRules::ignorable_user_agent`.
#![cfg(feature = "mail")]

use std::time::Duration;

use safe_report::RequestInfo;
use safe_report::mail::{
    BrokenLinkReporter, BrokenLinkRules, MailConfig, Mailer, MemoryBackend, NotFound,
};

const PATH: &str = "/regular_url/that/does/not/exist";

/// `IGNORABLE_404_URLS=[re.compile(r"foo")]`, `MANAGERS=["manager@example.com"]`.
fn rules() -> BrokenLinkRules {
    BrokenLinkRules::new().ignorable_url("foo").unwrap()
}

/// How many mails the 404 of `request` produces under `rules`.
fn mails(rules: BrokenLinkRules, request: NotFound) -> Vec<safe_report::mail::Email> {
    let outbox = MemoryBackend::new();
    let config = MailConfig::builder()
        .managers(["manager@example.com"])
        .subject_prefix("[Django] ")
        .build()
        .unwrap();
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .build()
        .unwrap();
    BrokenLinkReporter::new(mailer.clone())
        .rules(rules)
        .not_found(request);
    assert!(mailer.flush(Duration::from_secs(10)));
    outbox.messages()
}

fn req(path: &str) -> NotFound {
    NotFound::new("testserver", path)
}

#[test]
fn test_404_error_reporting() {
    let mail = mails(rules(), req(PATH).referer("/another/url/"));
    assert_eq!(mail.len(), 1);
    assert!(mail[0].subject().contains("Broken"));
}

#[test]
fn test_404_error_reporting_no_referer() {
    assert_eq!(mails(rules(), req(PATH)).len(), 0);
}

#[test]
fn test_404_error_reporting_ignored_url() {
    assert_eq!(
        mails(
            rules(),
            req("foo_url/that/does/not/exist").referer("/another/url/")
        )
        .len(),
        0
    );
}

#[test]
fn test_custom_request_checker() {
    let rules = || {
        rules()
            .ignorable_user_agent("Spider.*")
            .unwrap()
            .ignorable_user_agent("Robot.*")
            .unwrap()
    };
    let request = req(PATH).referer("/another/url/");
    assert_eq!(
        mails(rules(), request.clone().user_agent("Spider machine 3.4")).len(),
        0
    );
    assert_eq!(mails(rules(), request.user_agent("My user agent")).len(), 1);
}

#[test]
fn test_referer_equal_to_requested_url() {
    // A bot that sets Referer to the path.
    assert_eq!(mails(rules(), req(PATH).referer(PATH)).len(), 0);
    // Or to the full URL.
    assert_eq!(
        mails(
            rules(),
            req(PATH).referer(format!("http://testserver{PATH}"))
        )
        .len(),
        0
    );
    // An HTTPS request (behind a proxy) with an http Referer to the same URL.
    let https = RequestInfo::new("GET", format!("https://testserver{PATH}"))
        .header("Referer", format!("http://testserver{PATH}"));
    assert_eq!(
        mails(rules(), NotFound::from_request(&https).unwrap()).len(),
        0
    );
}

#[test]
fn test_referer_equal_to_requested_url_on_another_domain() {
    assert_eq!(
        mails(
            rules(),
            req(PATH).referer(format!("http://anotherserver{PATH}"))
        )
        .len(),
        1
    );
}

#[test]
fn test_referer_equal_to_requested_url_without_trailing_slash_with_append_slash() {
    let path = format!("{PATH}/");
    assert_eq!(
        mails(rules().append_slash(true), req(&path).referer(PATH)).len(),
        0
    );
}

#[test]
fn test_referer_equal_to_requested_url_without_trailing_slash_with_no_append_slash() {
    let path = format!("{PATH}/");
    assert_eq!(
        mails(rules().append_slash(false), req(&path).referer(PATH)).len(),
        1
    );
}

/// Django compares the referer's path with the path *and* query string, so a bot that sends
/// the URL of a request with a query string as its referer is reported. Fixed here.
#[test]
fn referer_equal_to_requested_url_with_a_query_string_is_ignored() {
    let path = format!("{PATH}?page=2&sort=asc");
    assert_eq!(
        mails(
            rules(),
            req(&path).referer(format!("http://testserver{path}"))
        )
        .len(),
        0
    );
    assert_eq!(mails(rules(), req(&path).referer(path.clone())).len(), 0);
    // Another query string is another URL: reported.
    assert_eq!(
        mails(
            rules(),
            req(&path).referer(format!("http://testserver{PATH}?page=3"))
        )
        .len(),
        1
    );
}

#[test]
fn subject_and_body_follow_django_and_hide_tokens_in_urls() {
    let mail = mails(
        rules(),
        req("/reset?token=abcdef0123456789abcdef")
            .referer("http://testserver/account/")
            .user_agent("Mozilla/5.0")
            .remote_addr("198.51.100.4"),
    );
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0].subject(),
        "[Django] Broken INTERNAL link on testserver"
    );
    let text = mail[0].text();
    assert!(
        text.starts_with("Referrer: http://testserver/account/\nRequested URL: /reset?token="),
        "{text}"
    );
    assert!(
        text.ends_with("User agent: Mozilla/5.0\nIP address: 198.51.100.4\n"),
        "{text}"
    );
    assert!(!text.contains("abcdef0123456789abcdef"), "{text}");

    let external = mails(
        rules(),
        req(PATH).referer("https://elsewhere.example/links"),
    );
    assert_eq!(external[0].subject(), "[Django] Broken link on testserver");
    assert!(
        external[0]
            .text()
            .contains("User agent: <none>\nIP address: <none>\n")
    );
}
