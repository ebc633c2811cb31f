//! Never less than Django: random nested settings, with the values Django 5.2's own
//! `SafeExceptionReporterFilter` hides (`tests/data/django-differential.json`, written by
//! `tests/django/differential.py` from Django itself). Their names mix Django's hidden-name
//! words in every case with the characters Python's case-insensitive match folds onto ASCII
//! (`ſ`, `K`, `İ`, `ı`) and other non-ASCII letters. No value Django hides may show in any
//! rendering of ours.

use safe_report::{Capture, ExceptionReporter, Format};
use serde_json::{Value, json};

#[test]
fn no_value_django_hides_is_shown() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("data/django-differential.json")).expect("cases");
    assert!(cases.len() >= 500, "{} cases", cases.len());
    let reporter = ExceptionReporter::default();
    let (mut hidden, mut shown_by_both, mut shown_by_django) = (0, 0, 0);
    let mut leaks = Vec::new();
    for case in &cases {
        let capture = json!({
            "schema": "capture-v1",
            "debug": true,
            "error": {"type": "E", "message": "boom"},
            "frames": [],
            "settings": case["settings"],
        });
        let capture = Capture::from_json(&capture.to_string()).expect("a valid capture");
        let renderings = [Format::Json, Format::Html, Format::Text]
            .map(|format| reporter.report(&capture).render(format));
        let django_hides: Vec<&str> = case["hidden"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for marker in &django_hides {
            hidden += 1;
            if renderings.iter().any(|output| output.contains(marker)) {
                leaks.push(format!("{marker} in {}", case["settings"]));
            }
        }
        let all = case["settings"].to_string();
        for at in all.match_indices("mark").map(|(at, _)| at) {
            let marker = &all[at..at + 11];
            if !django_hides.contains(&marker) {
                shown_by_django += 1;
                shown_by_both += usize::from(renderings[0].contains(marker));
            }
        }
    }
    println!(
        "{} cases: {hidden} values hidden by Django, all hidden here; of the \
         {shown_by_django} Django shows, {shown_by_both} shown here",
        cases.len()
    );
    assert!(hidden >= 3_000, "{hidden} values hidden by Django");
    assert!(
        leaks.is_empty(),
        "{} values Django hides are shown:\n{}",
        leaks.len(),
        leaks[..leaks.len().min(20)].join("\n")
    );
}
