//! Controls set on the panic hook: ignore rules, sampling with a seeded source,
//! `before_send` changing and dropping reports, and a custom grouping, for the hook's own
//! destinations and for its admin notifier. Its own binary: the hook is process-wide.
#![cfg(feature = "mail")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use safe_report::mail::{AdminNotifier, MailConfig, Mailer, MemoryBackend};
use safe_report::panic::{Destination, HookBuilder};
use safe_report::report::{Controls, Fingerprint};

/// Panics on a thread of its own with `message`, and waits until the hook delivered it.
fn panic_with(message: &'static str) {
    let thread = std::thread::spawn(move || panic!("{message}"));
    assert!(thread.join().is_err());
    assert!(safe_report::panic::flush(Duration::from_secs(30)));
}

#[test]
fn the_hooks_controls_ignore_sample_change_drop_and_group() {
    let delivered: Arc<Mutex<Vec<(String, String, Fingerprint)>>> = Arc::default();
    let kept = Arc::clone(&delivered);
    let draws = [0.9, 0.1, 0.1, 0.1];
    let drawn = Arc::new(AtomicUsize::new(0));
    let next = Arc::clone(&drawn);
    let controls = Controls::new()
        .ignore_message("^client closed")
        .unwrap()
        .sample_rate(0.5)
        .random_source(move || draws[next.fetch_add(1, Ordering::SeqCst) % draws.len()])
        .fingerprint(|error| Some(vec![error.exception_type.unwrap_or("").to_owned()]))
        .before_send(|draft| {
            if draft.report().message().starts_with("drop me") {
                draft.drop_report();
            } else {
                draft.set_tag("team", "payments");
            }
        });

    let outbox = MemoryBackend::new();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .build()
        .unwrap();
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .build()
        .unwrap();
    let _hook = HookBuilder::new()
        .controls(controls)
        .destination(Destination::Callback(Arc::new(move |report| {
            let team = report
                .tags
                .iter()
                .find(|tag| tag.name == "team")
                .map(|tag| tag.value.clone())
                .unwrap_or_default();
            kept.lock().unwrap().push((
                report.message().to_owned(),
                team,
                Fingerprint::of_report(report, ""),
            ));
        })))
        .destination(Destination::Notifier(AdminNotifier::new(mailer.clone())))
        .install();

    // Ignored by its message: no draw, nothing delivered.
    panic_with("client closed the connection");
    // Drawn 0.9, over the rate: nothing delivered.
    panic_with("sampled out");
    // Drawn 0.1; `before_send` drops it.
    panic_with("drop me");
    // Drawn 0.1 each; changed by `before_send`; one group by type.
    panic_with("orders table locked");
    panic_with("customers table locked");

    assert!(mailer.flush(Duration::from_secs(10)));
    let delivered = delivered.lock().unwrap();
    let messages: Vec<&str> = delivered.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("orders table locked"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("customers table locked"),
        "{messages:?}"
    );
    assert!(delivered.iter().all(|(_, team, _)| team == "payments"));
    assert_eq!(delivered[0].2, delivered[1].2, "one group");
    // One draw per admitted-or-not panic that was not ignored, the notifier drawing none.
    assert_eq!(drawn.load(Ordering::SeqCst), 4);

    // The notifier got the controls too: the grouped second panic is a repeat, not mailed.
    let emails = outbox.messages();
    assert_eq!(emails.len(), 1);
    assert!(emails[0].subject().contains("orders table locked"));
    assert!(emails[0].text().contains("\nTags:\nteam = payments\n"));
}
