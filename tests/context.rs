//! Tags and context values that follow the work into tasks spawned with the adaptor, in
//! every rendering, filtered.

use safe_report::runtime::context::{self, Context, ContextExt};
use safe_report::{Capture, ExceptionReporter};

#[derive(Debug)]
struct JobFailed;

impl std::fmt::Display for JobFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("job failed")
    }
}

impl std::error::Error for JobFailed {}

const KEY: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_set_for_a_request_is_in_the_report_of_a_task_it_spawned() {
    let request = async {
        let child = tokio::spawn(
            async {
                // A nested scope inside the task adds to what it carried.
                async { Capture::from_error(&JobFailed) }
                    .with_context(Context::new().value("step", "charge"))
                    .await
            }
            .in_current_context(),
        );
        child.await.expect("the task ran")
    };
    let capture = request
        .with_context(
            Context::new()
                .tag("tenant", "acme")
                .value("job_id", "j-7")
                .value("api_key", KEY)
                .value(
                    "callback",
                    format!("https://hooks.example.com/?token={KEY}"),
                ),
        )
        .await;
    assert!(context::current().is_none());

    let report = ExceptionReporter::default().report(&capture);
    let text = report.text().to_string();
    assert!(text.contains("Tags:\ntenant = acme\n"), "{text}");
    assert!(
        text.contains("Context:\njob_id = j-7\napi_key = ********************\n"),
        "{text}"
    );
    assert!(text.contains("step = charge"), "{text}");
    let html = report.html().to_string();
    assert!(html.contains("<h3 id=\"tags-info\">Tags</h3>"));
    assert!(html.contains("<tr><td>tenant</td><td class=\"code\"><pre>acme</pre></td></tr>"));
    let email = report.html().for_email().to_string();
    assert!(email.contains("<tr><td>job_id</td><td class=\"code\"><pre>j-7</pre></td></tr>"));
    let json = report.json().to_string();
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(
        parsed["tags"],
        serde_json::json!([{"name": "tenant", "value": "acme"}])
    );
    assert_eq!(parsed["context"][1]["value"], "********************");
    for rendering in [&text, &html, &email, &json] {
        assert!(!rendering.contains(KEY), "{rendering}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_spawned_without_the_adaptor_does_not_carry_the_context() {
    let seen = async { tokio::spawn(async { context::current() }).await.unwrap() }
        .with_context(Context::new().tag("tenant", "acme"))
        .await;
    assert!(seen.is_none());
}
