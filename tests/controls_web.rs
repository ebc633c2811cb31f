//! Controls set on the web layer (through real HTTP on 127.0.0.1): `before_send` changing
//! and dropping the report of a failed request, ignore rules by type and message, sampling
//! with a seeded source, and a custom grouping, all deciding what the admins are mailed.
#![cfg(feature = "axum")]

mod web;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use safe_report::integrations::tower::{ErrorReportLayer, ReportedError};
use safe_report::mail::{AdminNotifier, Email, MailConfig, Mailer, MemoryBackend};
use safe_report::report::Controls;
use web::{get as http_get, serve};

fn routes() -> Router {
    Router::new()
        .route(
            "/orders",
            get(|| async { panic!("orders table locked") as &'static str }),
        )
        .route(
            "/customers",
            get(|| async { panic!("customers table locked") as &'static str }),
        )
        .route(
            "/busy",
            get(|| async { panic!("retry later") as &'static str }),
        )
        .route(
            "/parse",
            get(|| async {
                let n: u32 = "seven".parse()?;
                Ok::<_, ReportedError>(n.to_string())
            }),
        )
}

struct Outbox {
    mailer: Mailer,
    memory: MemoryBackend,
}

impl Outbox {
    fn new() -> Self {
        let config = MailConfig::builder()
            .admins(["ops@example.com"])
            .build()
            .unwrap();
        let memory = MemoryBackend::new();
        let mailer = Mailer::builder(config)
            .backend(memory.clone())
            .build()
            .unwrap();
        Self { mailer, memory }
    }

    async fn serve(&self, controls: Controls) -> std::net::SocketAddr {
        let layer = ErrorReportLayer::new()
            .notifier(AdminNotifier::new(self.mailer.clone()))
            .controls(controls);
        serve(routes().layer(layer)).await
    }

    /// The emails sent so far: the report worker and then the mail worker waited for.
    fn emails(&self) -> Vec<Email> {
        assert!(safe_report::runtime::background::flush(
            Duration::from_secs(30)
        ));
        assert!(self.mailer.flush(Duration::from_secs(10)));
        self.memory.messages()
    }

    fn subjects(&self) -> Vec<String> {
        self.emails()
            .iter()
            .map(|email| email.subject().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn before_send_on_the_layer_changes_and_drops_reports() {
    let outbox = Outbox::new();
    let controls = Controls::new().before_send(|draft| {
        if draft.report().message().contains("retry later") {
            draft.drop_report();
        } else {
            draft.set_tag("team", "payments");
            draft.set_message("the orders table is locked");
        }
    });
    let addr = outbox.serve(controls).await;

    assert_eq!(http_get(addr, "/busy", None).await.status, 500);
    assert!(outbox.emails().is_empty(), "dropped by before_send");

    assert_eq!(http_get(addr, "/orders", None).await.status, 500);
    let emails = outbox.emails();
    assert_eq!(emails.len(), 1);
    let text = emails[0].text();
    assert!(text.contains("\nTags:\nteam = payments\n"), "{text}");
    assert!(
        text.contains("\n\npanic at /orders\nthe orders table is locked\n"),
        "{text}"
    );
}

#[tokio::test]
async fn the_layer_mails_nothing_for_ignored_types_and_messages() {
    let outbox = Outbox::new();
    let controls = Controls::new()
        .ignore_type("ParseIntError")
        .ignore_message("^retry later")
        .unwrap();
    let addr = outbox.serve(controls).await;
    for path in ["/parse", "/busy", "/orders"] {
        assert_eq!(http_get(addr, path, None).await.status, 500, "{path}");
    }
    assert_eq!(
        outbox.subjects(),
        ["[safe-report] ERROR (EXTERNAL IP): Internal Server Error: /orders"]
    );
}

#[tokio::test]
async fn the_layer_samples_with_the_given_source_once_per_error() {
    let outbox = Outbox::new();
    let draws = [0.9, 0.2, 0.7, 0.1];
    let drawn = Arc::new(AtomicUsize::new(0));
    let next = Arc::clone(&drawn);
    let controls = Controls::new()
        .sample_rate(0.5)
        .random_source(move || draws[next.fetch_add(1, Ordering::SeqCst) % draws.len()]);
    let addr = outbox.serve(controls).await;
    // One request at a time: the draws are taken in the order of the requests.
    for path in ["/orders", "/customers", "/busy", "/parse"] {
        assert_eq!(http_get(addr, path, None).await.status, 500, "{path}");
        outbox.emails();
    }
    assert_eq!(
        outbox.subjects(),
        [
            "[safe-report] ERROR (EXTERNAL IP): Internal Server Error: /customers",
            "[safe-report] ERROR (EXTERNAL IP): Internal Server Error: /parse",
        ]
    );
    // One draw per error, though the layer and its notifier both apply the controls.
    assert_eq!(drawn.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn the_layers_custom_fingerprint_groups_what_the_default_keeps_apart() {
    // By default the two panics are two errors: two emails.
    let apart = Outbox::new();
    let addr = apart.serve(Controls::new()).await;
    for path in ["/orders", "/customers"] {
        http_get(addr, path, None).await;
    }
    assert_eq!(apart.emails().len(), 2);

    // Grouped by their type alone, the second is a repeat of the first: one email.
    let grouped = Outbox::new();
    let controls = Controls::new()
        .fingerprint(|error| Some(vec![error.exception_type.unwrap_or("").to_owned()]));
    let addr = grouped.serve(controls).await;
    for path in ["/orders", "/customers"] {
        http_get(addr, path, None).await;
        grouped.emails();
    }
    assert_eq!(
        grouped.subjects(),
        ["[safe-report] ERROR (EXTERNAL IP): Internal Server Error: /orders"]
    );
}
