//! The layer never does a report's slow work on the async runtime's thread: the debug page
//! of a panic is rendered on the report worker while the request's future waits without
//! blocking, and the admin email's capture is built there too.
#![cfg(feature = "axum")]

use std::future::{Future, poll_fn};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use safe_report::integrations::tower::{DebugPageRenderer, ErrorReportLayer, ReportedError};
use safe_report::mail::RenderedReport;
use safe_report::mail::{
    AdminNotifier, EmailParts, EmailRenderer, MailConfig, Mailer, MemoryBackend,
};
use safe_report::{Capture, ExceptionReporter, Format, ReporterFilter};
use tower::ServiceExt;

/// Renders only once released, and says on which thread it ran.
struct Gated {
    release: Mutex<mpsc::Receiver<()>>,
    thread: Arc<Mutex<Option<String>>>,
}

impl DebugPageRenderer for Gated {
    fn render(
        &self,
        capture: &Capture,
        filter: Option<&dyn ReporterFilter>,
        format: Format,
    ) -> String {
        *self.thread.lock().unwrap() = std::thread::current().name().map(str::to_owned);
        // A deadline only so that a layer rendering in place fails the test instead of
        // hanging it: the test releases the renderer right after its first poll.
        let _ = self
            .release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(60));
        DebugPageRenderer::render(&ExceptionReporter::default(), capture, filter, format)
    }
}

async fn panics() -> &'static str {
    let order_id = "ord_42";
    safe_report::vars!(order_id).run(|| panic!("the handler panicked"))
}

async fn fails() -> Result<&'static str, ReportedError> {
    Err(ReportedError::new(&std::io::Error::other(
        "the store is down",
    )))
}

fn request(path: &str) -> Request<Body> {
    Request::get(path)
        .header("accept", "text/plain")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_debug_page_is_rendered_off_the_runtime_thread_while_the_request_waits() {
    let _hook = safe_report::panic::HookBuilder::new().install();
    for path in ["/panic", "/error"] {
        let (release, gate) = mpsc::channel();
        let thread = Arc::new(Mutex::new(None));
        let app = Router::new()
            .route("/panic", get(panics))
            .route("/error", get(fails))
            .layer(
                ErrorReportLayer::new()
                    .debug(true)
                    .debug_page_renderer(Gated {
                        release: Mutex::new(gate),
                        thread: Arc::clone(&thread),
                    }),
            );
        let mut response = Box::pin(app.oneshot(request(path)));
        // The renderer is held: a layer rendering here would block in this poll.
        let first = poll_fn(|cx| Poll::Ready(response.as_mut().poll(cx))).await;
        assert!(
            first.is_pending(),
            "{path}: the first poll waited for the page"
        );
        release.send(()).unwrap();
        let response = response.await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("Request Method: GET"), "{path}: {body}");
        let rendered_on = thread.lock().unwrap().clone();
        assert_eq!(rendered_on.as_deref(), Some("safe-report-worker"), "{path}");
    }
}

/// Records the functions of each capture's frames.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<Vec<String>>>>);

impl EmailRenderer for Recording {
    fn render(&self, capture: &Capture, message: &str, parts: EmailParts) -> RenderedReport {
        let functions = capture.frames.iter().map(|f| f.function.clone()).collect();
        self.0.lock().unwrap().push(functions);
        EmailRenderer::render(&ExceptionReporter::default(), capture, message, parts)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_production_page_is_answered_at_once_and_the_email_has_the_resolved_frames() {
    let _hook = safe_report::panic::HookBuilder::new().install();
    let config = MailConfig::builder()
        .admins(["ops@example.com"])
        .build()
        .unwrap();
    let outbox = MemoryBackend::new();
    let mailer = Mailer::builder(config)
        .backend(outbox.clone())
        .build()
        .unwrap();
    let recording = Recording::default();
    let app = Router::new().route("/panic", get(panics)).layer(
        ErrorReportLayer::new()
            .notifier(AdminNotifier::new(mailer.clone()).reporter(recording.clone())),
    );
    let response = app.oneshot(request("/panic")).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // `flush` waits for the report worker too: the email is there afterwards.
    assert!(mailer.flush(Duration::from_secs(60)));
    let emails = outbox.messages();
    assert_eq!(emails.len(), 1);
    assert!(
        emails[0].text().contains("order_id"),
        "{}",
        emails[0].text()
    );
    let recorded = recording.0.lock().unwrap();
    let functions = &recorded[0];
    assert!(
        functions.iter().any(|f| f.contains("panics")),
        "the handler's frame, resolved: {functions:?}"
    );
}
