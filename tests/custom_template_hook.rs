//! The panic hook with the application's own template: the report written to a file and the
//! admin email are the template's, from the filtered report, with a registered secret shown
//! as the substitute. Its own binary: the hook is process-wide.
#![cfg(feature = "mail")]

use std::time::Duration;

use safe_report::mail::{AdminNotifier, MailConfig, Mailer, MemoryBackend};
use safe_report::panic::{Destination, HookBuilder};
use safe_report::render::{ReportTemplate, TemplateError};
use safe_report::{DEFAULT_SUBSTITUTE, Report};

const SECRET: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

/// The variables of the report's frames, one `name=value` a line, under a heading.
fn house(heading: &str, report: &Report) -> String {
    let mut text = format!(
        "{heading} {}",
        report.exception_value.as_deref().unwrap_or("")
    );
    for frame in &report.frames {
        for var in &frame.vars {
            text.push_str(&format!("\n{}={}", var.name, var.value));
        }
    }
    text
}

struct House;

impl ReportTemplate for House {
    fn email_text(&self, report: &Report) -> Result<String, TemplateError> {
        Ok(house("HOUSE EMAIL", report))
    }

    fn log_text(&self, report: &Report) -> Result<String, TemplateError> {
        Ok(house("HOUSE LOG", report))
    }
}

#[inline(never)]
fn charge(api_key: &str) {
    safe_report::vars!(api_key).run(|| panic!("the card was declined"))
}

#[test]
fn the_hook_writes_and_mails_the_templates_rendering_without_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("panics.log");
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
        .destination(Destination::File(log.clone()))
        .destination(Destination::Notifier(AdminNotifier::new(mailer.clone())))
        .template(House)
        .install();

    let thread = std::thread::spawn(|| charge(SECRET));
    assert!(thread.join().is_err());
    assert!(safe_report::panic::flush(Duration::from_secs(30)));
    assert!(mailer.flush(Duration::from_secs(10)));

    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.starts_with("HOUSE LOG the card was declined"),
        "{written}"
    );
    assert!(
        written.contains(&format!("\napi_key=\"{DEFAULT_SUBSTITUTE}\"")),
        "{written}"
    );
    assert!(!written.contains(SECRET), "{written}");

    let emails = outbox.messages();
    assert_eq!(emails.len(), 1);
    let text = emails[0].text();
    assert!(
        text.starts_with("the card was declined (at ")
            && text.contains("\n\nHOUSE EMAIL the card was declined (at "),
        "{text}"
    );
    assert!(
        text.contains(&format!("\napi_key=\"{DEFAULT_SUBSTITUTE}\"")),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
}
