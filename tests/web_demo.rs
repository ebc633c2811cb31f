//! The demo shop through real HTTP on 127.0.0.1: the debug pages by `Accept`, the generic
//! production pages, one admin email per failure with the secrets hidden, bodies handlers
//! still read, an oversized body not buffered, and the broken-link email under Django's rules.
//!
//! Every test runs against both shops: the axum demo (`examples/demo.rs`, the tower layer)
//! in module `axum`, the actix-web demo (`examples/demo_actix.rs`, the actix middleware) in
//! module `actix`. Each test runs the demo's `main` in its own process (this test binary
//! again, running the ignored test `demo_process` or `demo_actix_process`), configured by
//! environment variables as a user would, and reads the emails the console backend prints
//! on its standard output. The actix-web half needs the `actix` feature.
#![cfg(feature = "axum")]

mod web;

#[allow(dead_code)]
#[path = "../examples/demo.rs"]
mod demo;

use std::time::Duration;

use web::{Demo, get, post_form};

#[cfg(feature = "actix")]
#[allow(dead_code)]
#[path = "../examples/demo_actix.rs"]
mod demo_actix;

/// The demo itself; the other tests start it in a process of its own.
#[test]
#[ignore = "runs the demo server until it is killed; started by the other tests"]
fn demo_process() {
    demo::main().unwrap();
}

/// The actix-web demo; the other tests start it in a process of its own.
#[cfg(feature = "actix")]
#[test]
#[ignore = "runs the demo server until it is killed; started by the other tests"]
fn demo_actix_process() {
    demo_actix::main().unwrap();
}

/// One of the two shops.
#[derive(Clone, Copy)]
struct Shop {
    /// The ignored test that runs it.
    process: &'static str,
    /// Its module: the path its functions have in a trace.
    module: &'static str,
}

const AXUM: Shop = Shop {
    process: "demo_process",
    module: "demo",
};

#[cfg(feature = "actix")]
const ACTIX: Shop = Shop {
    process: "demo_actix_process",
    module: "demo_actix",
};

impl Shop {
    fn start(self, vars: &[(&str, &str)]) -> Demo {
        Demo::start(self.process, vars)
    }

    /// The path of the shop's function `name` in a trace (`demo::charge`).
    fn function(self, name: &str) -> String {
        format!("{}::{name}", self.module)
    }
}

/// Each test, once per shop.
macro_rules! for_both_shops {
    ($($test:ident),* $(,)?) => {
        mod axum {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::AXUM).await;
            })*
        }
        #[cfg(feature = "actix")]
        mod actix {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::ACTIX).await;
            })*
        }
    };
}

const SERVER_ERROR_PAGE: &str = include_str!("../templates/500.html");
const NOT_FOUND_PAGE: &str = include_str!("../templates/404.html");

async fn the_index_links_to_every_route(shop: Shop) {
    let demo = shop.start(&[]);
    let index = get(demo.addr, "/", None).await;
    assert_eq!(index.status, 200);
    for link in ["href=\"/panic\"", "href=\"/error\"", "action=\"/login\""] {
        assert!(index.body.contains(link), "{link} missing:\n{}", index.body);
    }
}

async fn debug_page_of_the_panic_comes_as_html_text_or_json_by_accept(shop: Shop) {
    let demo = shop.start(&[("SAFE_REPORT_DEBUG", "1")]);

    let html = get(demo.addr, "/panic", Some("text/html,application/xhtml+xml")).await;
    assert_eq!(html.status, 500);
    assert_eq!(html.content_type, "text/html; charset=utf-8");
    assert_eq!(html.headers["cache-control"], "no-store");
    assert!(html.body.starts_with("<!DOCTYPE html>"));
    assert!(
        html.body.contains("<title>panic at /panic</title>"),
        "{}",
        html.body
    );
    assert!(
        html.body
            .contains("the payment gateway refused order ord_42")
    );
    assert!(
        html.body
            .contains("<th scope=\"row\">Raised during:</th><td>/panic</td>")
    );
    assert!(html.body.contains("<footer id=\"explanation\">"));
    // The panic hook's frames, two calls deep, with the registered variables.
    for function in ["checkout", "place_order", "charge"] {
        let function = shop.function(function);
        assert!(html.body.contains(&function), "{function} missing");
    }
    assert!(
        html.body.contains(
            "<tr><td>order_id</td><td class=\"code\"><pre>&#34;ord_42&#34;</pre></td></tr>"
        )
    );
    assert!(html.body.contains("<tr><td>card_number</td>"));

    let text = get(demo.addr, "/panic", Some("text/plain")).await;
    assert_eq!(text.status, 500);
    assert_eq!(text.content_type, "text/plain; charset=utf-8");
    assert!(
        text.body
            .starts_with("panic at /panic\nthe payment gateway refused order ord_42")
    );
    assert!(text.body.contains("Raised during: /panic"));

    let json = get(demo.addr, "/panic", Some("application/json")).await;
    assert_eq!(json.status, 500);
    assert_eq!(json.content_type, "application/json");
    let report: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(report["exception_type"], "panic");
    assert_eq!(report["request"]["path"], "/panic");
    assert_eq!(report["debug"], true);
    let frames = report["frames"].as_array().unwrap();
    assert!(
        frames.last().unwrap()["function"]
            .as_str()
            .unwrap()
            .ends_with(&shop.function("charge"))
    );
    let checkout = frames
        .iter()
        .find(|frame| {
            frame["vars"]
                .as_array()
                .is_some_and(|vars| !vars.is_empty())
        })
        .unwrap();
    assert_eq!(
        checkout["vars"],
        serde_json::json!([
            {"name": "card_number", "value": "\"********************\""},
            {"name": "order_id", "value": "\"ord_42\""},
        ])
    );

    // The settings are shown filtered, and the card number nowhere.
    for body in [&html.body, &text.body, &json.body] {
        assert!(body.contains("DATABASE_URL"));
        assert!(!body.contains("hunter2-db-pass"));
        assert!(!body.contains("demo-secret-key-9f8e7d6c5b4a"));
        assert!(!body.contains("4111111111111111"));
    }
    // Debug mode sends no email.
    assert!(demo.emails_after(Duration::from_millis(300)).is_empty());
}

async fn debug_page_of_the_error_shows_its_two_causes(shop: Shop) {
    let demo = shop.start(&[("SAFE_REPORT_DEBUG", "1")]);
    let text = get(demo.addr, "/error", Some("text/plain")).await;
    assert_eq!(text.status, 500);
    assert!(
        text.body
            .contains("OrderError at /error\norder ord_42 could not be loaded\n")
    );
    assert!(
        text.body.contains(
            "The above exception (connection to db.internal:5432 timed out) was the direct cause \
         of the following exception:"
        ),
        "{}",
        text.body
    );
    assert!(text.body.contains(
        "The above exception (the orders query failed) was the direct cause of the following \
         exception:"
    ));
    assert!(text.body.contains(&shop.function("order")));
}

async fn production_pages_say_nothing_and_each_failure_mails_the_admins_once(shop: Shop) {
    let demo = shop.start(&[]);
    let password = "correct-horse-battery-staple";
    let failures = [
        get(demo.addr, "/panic", None).await,
        get(demo.addr, "/error", Some("text/html")).await,
        post_form(
            demo.addr,
            "/login",
            &format!("username=alice&password={password}"),
            None,
        )
        .await,
    ];
    for page in &failures {
        assert_eq!(page.status, 500);
        assert_eq!(page.content_type, "text/html; charset=utf-8");
        assert_eq!(page.body, SERVER_ERROR_PAGE);
    }
    // JSON and text clients get the status alone.
    let json = get(demo.addr, "/error", Some("application/json")).await;
    assert_eq!(json.body, r#"{"error":"Server Error (500)","status":500}"#);

    let emails = demo.wait_for_emails(3);
    // The /error repeat is counted by flood control, not mailed again.
    let emails_later = demo.emails_after(Duration::from_millis(500));
    assert_eq!(emails_later.len(), 3, "{emails_later:#?}");
    let subject =
        |path: &str| format!("[safe-report] ERROR (EXTERNAL IP): Internal Server Error: {path}");
    let by_path = |path: &str| {
        emails
            .iter()
            .find(|email| email.subject == subject(path))
            .unwrap_or_else(|| panic!("no email for {path}: {emails:#?}"))
    };
    for email in &emails {
        assert_eq!(email.to, ["admin@example.com"]);
        let url = format!("Request URL: http://{}/", demo.addr);
        assert!(email.text.contains(&url), "{}", email.text);
        assert!(email.text.contains("REMOTE_ADDR = \"127.0.0.1\""));
        for secret in [
            "hunter2-db-pass",
            "demo-secret-key-9f8e7d6c5b4a",
            password,
            "4111111111111111",
        ] {
            assert!(
                !email.raw.contains(secret),
                "{secret} leaked:\n{}",
                email.raw
            );
            assert!(
                !email.text.contains(secret),
                "{secret} leaked:\n{}",
                email.text
            );
        }
    }

    let panic = by_path("/panic");
    assert!(
        panic
            .text
            .contains("the payment gateway refused order ord_42")
    );

    let login = by_path("/login");
    assert!(
        login
            .text
            .contains("login of alice failed: could not connect to postgres://shop:")
    );
    assert!(
        login
            .text
            .contains("POST:\nusername = \"alice\"\npassword = \"********************\"")
    );

    let error = by_path("/error");
    assert!(error.text.contains("order ord_42 could not be loaded"));
    assert!(error.text.contains("the orders query failed"));
    assert!(
        error
            .text
            .contains("connection to db.internal:5432 timed out")
    );
}

async fn handlers_read_their_bodies_and_an_oversized_body_is_not_buffered(shop: Shop) {
    let demo = shop.start(&[("SAFE_REPORT_DEBUG", "1")]);

    // Within the bound: buffered, shown (filtered), and read by the handler.
    let small = post_form(
        demo.addr,
        "/login",
        "username=alice&password=pw-123456",
        Some("text/plain"),
    )
    .await;
    assert!(
        small.body.contains("login of alice failed"),
        "{}",
        small.body
    );
    assert!(
        small
            .body
            .contains("POST:\nusername = \"alice\"\npassword = \"********************\"")
    );
    assert!(!small.body.contains("pw-123456"));

    // Over the 64 KiB bound: handed on unread, the handler still gets every byte.
    let padding = "x".repeat(100 * 1024);
    let form = format!("username=bob&padding={padding}&password=pw-123456");
    let large = post_form(demo.addr, "/login", &form, Some("text/plain")).await;
    assert_eq!(large.status, 500);
    assert!(large.body.contains("login of bob failed"), "{}", large.body);
    let note = format!(
        "Body not shown: {} bytes of application/x-www-form-urlencoded: larger than the \
         65536 bytes the error-report layer buffers",
        form.len()
    );
    assert!(large.body.contains(&note), "{}", large.body);
    assert!(large.body.contains("POST: No POST data"));
    assert!(!large.body.contains("xxxxxxxxxx"));
}

async fn broken_links_mail_the_managers_only_under_djangos_rules(shop: Shop) {
    let demo = shop.start(&[]);
    let host = demo.addr.to_string();
    let internal_referer = format!("http://{host}/");
    let cases: [(&str, Option<String>); 5] = [
        // Mailed: a link on this site.
        ("/gone-internal", Some(internal_referer.clone())),
        // Mailed: a link elsewhere, without a query string.
        (
            "/gone-external",
            Some("https://blog.example.org/post".to_owned()),
        ),
        // Not mailed: no referer.
        ("/typed", None),
        // Not mailed: an external referer with a query string (a search engine).
        (
            "/searched",
            Some("https://search.example.org/?q=shop".to_owned()),
        ),
        // Not mailed: the referer is the requested URL (a bot).
        ("/self", Some(format!("http://{host}/self"))),
    ];
    for (path, referer) in &cases {
        let mut request = web::client().get(format!("http://{host}{path}"));
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        let page = web::answer(request.send().await.unwrap()).await;
        assert_eq!(page.status, 404);
        assert_eq!(page.body, NOT_FOUND_PAGE);
    }
    demo.wait_for_emails(2);
    let emails = demo.emails_after(Duration::from_millis(500));
    assert_eq!(emails.len(), 2, "{emails:#?}");
    let internal = &emails
        .iter()
        .find(|email| email.text.contains("/gone-internal"))
        .unwrap();
    assert_eq!(
        internal.subject,
        format!("[safe-report] Broken INTERNAL link on {host}")
    );
    assert_eq!(internal.to, ["admin@example.com"]);
    assert_eq!(
        internal.text,
        format!(
            "Referrer: {internal_referer}\nRequested URL: /gone-internal\n\
             User agent: <none>\nIP address: 127.0.0.1\n"
        )
    );
    let external = emails
        .iter()
        .find(|email| email.text.contains("/gone-external"))
        .unwrap();
    assert_eq!(
        external.subject,
        format!("[safe-report] Broken link on {host}")
    );
}

async fn debug_404_shows_the_path_and_the_routes_and_mails_nobody(shop: Shop) {
    let demo = shop.start(&[("SAFE_REPORT_DEBUG", "1")]);
    let page = get(demo.addr, "/no-such-page?token=abc123def456", None).await;
    assert_eq!(page.status, 404);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(
        page.body
            .contains("<title>Page not found at /no-such-page</title>")
    );
    assert!(
        page.body
            .contains("<h1>Page not found <small>(404)</small></h1>")
    );
    for route in ["/", "/panic", "/login", "/error"] {
        assert!(
            page.body
                .contains(&format!("<li><code>{route}</code></li>")),
            "{route}"
        );
    }
    assert!(page.body.contains(
        "<p>The current path, <code>/no-such-page</code>, didn’t match any of these.</p>"
    ));
    assert!(!page.body.contains("Raised by:"));
    assert!(!page.body.contains("abc123def456"), "{}", page.body);
    assert!(page.body.contains("Request URL:</th><td>http://"));

    let mut referred = web::client().get(format!("http://{}/gone", demo.addr));
    referred = referred.header("referer", format!("http://{}/", demo.addr));
    assert_eq!(referred.send().await.unwrap().status(), 404);
    assert!(demo.emails_after(Duration::from_millis(300)).is_empty());
}

async fn an_error_logged_through_the_log_crate_mails_the_admins(shop: Shop) {
    let demo = shop.start(&[]);
    let answer = get(demo.addr, "/log-error", None).await;
    assert_eq!(answer.status, 200);
    let emails = demo.wait_for_emails(1);
    assert_eq!(emails.len(), 1, "{}", demo.stdout());
    assert_eq!(
        emails[0].subject,
        "[safe-report] ERROR: inventory sync failed for sku-17"
    );
    assert!(emails[0].text.contains("log_error"), "{}", emails[0].text);
}

for_both_shops!(
    the_index_links_to_every_route,
    debug_page_of_the_panic_comes_as_html_text_or_json_by_accept,
    debug_page_of_the_error_shows_its_two_causes,
    production_pages_say_nothing_and_each_failure_mails_the_admins_once,
    handlers_read_their_bodies_and_an_oversized_body_is_not_buffered,
    broken_links_mail_the_managers_only_under_djangos_rules,
    debug_404_shows_the_path_and_the_routes_and_mails_nobody,
    an_error_logged_through_the_log_crate_mails_the_admins,
    what_the_panic_handler_logged_is_a_breadcrumb_in_every_rendering,
    with_safe_report_environment_staging_the_admin_email_says_staging,
    without_an_environment_the_subject_has_no_environment_part,
);

async fn what_the_panic_handler_logged_is_a_breadcrumb_in_every_rendering(shop: Shop) {
    let token = "gw-7Hq2xKp9Lm4Zr8Tn";
    let crumb = "charging order ord_42";
    let demo = shop.start(&[("SAFE_REPORT_DEBUG", "1")]);
    let html = get(demo.addr, "/panic", Some("text/html")).await;
    let text = get(demo.addr, "/panic", Some("text/plain")).await;
    let json = get(demo.addr, "/panic", Some("application/json")).await;
    for answer in [&html, &text, &json] {
        assert_eq!(answer.status, 500);
        assert!(answer.body.contains(crumb), "{}", answer.body);
        assert!(!answer.body.contains(token), "{}", answer.body);
    }
    // The page: the breadcrumbs table, and the Markdown the copy button copies.
    assert!(html.body.contains("<div id=\"breadcrumbs\">"));
    assert!(
        html.body.contains(&format!("<pre>{crumb}</pre>")),
        "{}",
        html.body
    );
    let markdown = &html.body[html.body.find("<template id=\"report-markdown\">").unwrap()..];
    let markdown = &markdown[..markdown.find("</template>").unwrap()];
    assert!(markdown.contains("### Breadcrumbs"), "{markdown}");
    assert!(markdown.contains(crumb), "{markdown}");
    assert!(
        text.body.contains("Breadcrumbs (oldest first):\n"),
        "{}",
        text.body
    );
    assert!(
        text.body.contains(&format!(": {crumb}\n")) && text.body.contains(" INFO "),
        "{}",
        text.body
    );
    assert!(
        text.body
            .contains(": calling the gateway with Authorization: ********************\n"),
        "{}",
        text.body
    );
    let report: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    let crumbs = report["breadcrumbs"].as_array().unwrap();
    // Only what this request logged: the handler keeps a trail of its own.
    assert_eq!(crumbs.len(), 2, "{crumbs:#?}");
    assert_eq!(crumbs[0]["message"], crumb);
    assert_eq!(crumbs[0]["level"], "info");
    // The target is the demo's module path (`demo` or `demo_actix`, inside this binary's).
    assert!(crumbs[0]["category"].as_str().unwrap().contains("demo"));
    assert_eq!(
        crumbs[1]["message"],
        "calling the gateway with Authorization: ********************"
    );

    // The admin email, text and HTML, with debug off.
    let demo = shop.start(&[("SAFE_REPORT_EMAIL_INCLUDE_HTML", "1")]);
    assert_eq!(get(demo.addr, "/panic", None).await.status, 500);
    let emails = demo.wait_for_emails(1);
    let email = &emails[0];
    assert!(
        email.text.contains(&format!(": {crumb}\n")),
        "{}",
        email.text
    );
    assert!(
        email.html.contains("<div id=\"breadcrumbs\">"),
        "{}",
        email.html
    );
    assert!(
        email.html.contains(&format!("<pre>{crumb}</pre>")),
        "{}",
        email.html
    );
    assert!(!email.html.contains("report-markdown"));
    assert!(!email.raw.contains(token) && !email.text.contains(token));
    assert!(!email.html.contains(token));
}

async fn with_safe_report_environment_staging_the_admin_email_says_staging(shop: Shop) {
    let demo = shop.start(&[
        ("SAFE_REPORT_ENVIRONMENT", "staging"),
        ("SAFE_REPORT_RELEASE", "shop@9.9.9+abc1234"),
        ("SAFE_REPORT_EMAIL_INCLUDE_HTML", "1"),
    ]);
    let page = get(demo.addr, "/panic", None).await;
    assert_eq!(page.status, 500);
    let emails = demo.wait_for_emails(1);
    let email = &emails[0];
    assert_eq!(
        email.subject,
        "[safe-report] [staging] ERROR (EXTERNAL IP): Internal Server Error: /panic"
    );
    assert!(
        email.text.contains("Environment: staging\n"),
        "{}",
        email.text
    );
    assert!(email.text.contains("Release: shop@9.9.9+abc1234\n"));
    let message = mail_parser::MessageParser::default()
        .parse(email.raw.as_bytes())
        .expect("a MIME message");
    let html = message.body_html(0).expect("an HTML part");
    assert!(
        html.contains("<th scope=\"row\">Environment:</th><td>staging</td>"),
        "{html}"
    );
    assert!(html.contains("<th scope=\"row\">Release:</th><td>shop@9.9.9+abc1234</td>"));

    // An error logged through the `log` crate says it too.
    let answer = get(demo.addr, "/log-error", None).await;
    assert_eq!(answer.status, 200);
    let emails = demo.wait_for_emails(2);
    assert!(
        emails.iter().any(|email| email.subject
            == "[safe-report] [staging] ERROR: inventory sync failed for sku-17"),
        "{emails:#?}"
    );
}

async fn without_an_environment_the_subject_has_no_environment_part(shop: Shop) {
    let demo = shop.start(&[]);
    let page = get(demo.addr, "/panic", None).await;
    assert_eq!(page.status, 500);
    let emails = demo.wait_for_emails(1);
    assert!(
        !emails[0].subject.contains("] [") && !emails[0].text.contains("\nEnvironment: "),
        "{emails:#?}"
    );
    // The release defaults to the demo's crate name and version.
    assert!(
        emails[0]
            .text
            .contains(concat!("Release: safe-report@", env!("CARGO_PKG_VERSION"))),
        "{}",
        emails[0].text
    );
}
