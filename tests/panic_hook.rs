//! The panic hook and error capture from real code: a panic deep in a sync call chain and in
//! async code on a multi-threaded runtime, the previous hook still running, a panicking
//! `Debug` in a registered variable, and error chains of std, anyhow and eyre.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use safe_report::panic::{Destination, HookBuilder, handled_here, take_last_capture};
use safe_report::{Capture, DEFAULT_SUBSTITUTE, ExceptionReporter, Format, Frame, ResultExt};

/// Panics the previously installed hook saw.
static PREVIOUS_HOOK_CALLS: AtomicUsize = AtomicUsize::new(0);
/// Text reports the reporting thread delivered to the callback.
static DELIVERED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // A hook installed before ours: it must still run, after ours.
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PREVIOUS_HOOK_CALLS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
        let hook = HookBuilder::new()
            .in_app_include(["panic_hook"])
            .destination(Destination::Callback(Arc::new(|report| {
                DELIVERED.lock().unwrap().push(report.render(Format::Text));
            })))
            .install();
        std::mem::forget(hook);
    });
}

/// Runs `f`, which must panic, as a catch site would, and returns the hook's capture.
fn capture_panic(f: impl FnOnce()) -> Capture {
    install();
    let result = catch_unwind(AssertUnwindSafe(|| handled_here(f)));
    assert!(result.is_err(), "the closure should panic");
    take_last_capture().expect("the hook captured the panic")
}

fn frame<'c>(capture: &'c Capture, function_suffix: &str) -> &'c Frame {
    capture
        .frames
        .iter()
        .find(|frame| frame.function.ends_with(function_suffix))
        .unwrap_or_else(|| {
            let functions: Vec<&str> = capture.frames.iter().map(|f| f.function.as_str()).collect();
            panic!("no frame {function_suffix} in {functions:#?}")
        })
}

fn value(frame: &Frame, name: &str) -> serde_json::Value {
    frame
        .vars
        .iter()
        .find(|var| var.name == name)
        .unwrap_or_else(|| panic!("no variable {name} in {}", frame.function))
        .value
        .to_value()
}

#[inline(never)]
fn checkout(order_id: &str, card_number: &str) {
    safe_report::vars!(order_id).run(|| charge(card_number, order_id))
}

#[inline(never)]
fn charge(card_number: &str, order_id: &str) {
    let amount_cents = 4200u32;
    safe_report::vars!(card_number, order_id, amount_cents)
        .sensitive(&["card_number"])
        .run(|| refuse(amount_cents))
}

#[inline(never)]
fn refuse(amount_cents: u32) {
    let line = line!() + 1;
    panic!("payment declined for {amount_cents} (line {line})");
}

#[test]
fn a_panic_deep_in_a_sync_chain_reports_frames_variables_and_the_panic_site() {
    let capture = capture_panic(|| checkout("ord_42", "4111111111111111"));
    assert_eq!(capture.error.type_name.as_deref(), Some("panic"));
    let message = capture.error.message.clone().unwrap();
    assert!(
        message.starts_with("payment declined for 4200"),
        "{message}"
    );

    // Frames outermost first; the innermost application frame is the panic site.
    let checkout_index = capture
        .frames
        .iter()
        .position(|f| f.function.ends_with("panic_hook::checkout"))
        .unwrap();
    let charge_index = capture
        .frames
        .iter()
        .position(|f| f.function.ends_with("panic_hook::charge"))
        .unwrap();
    assert!(checkout_index < charge_index);
    let refuse = frame(&capture, "panic_hook::refuse");
    assert!(refuse.in_app);
    assert!(
        refuse
            .file
            .as_deref()
            .unwrap()
            .ends_with("tests/panic_hook.rs")
    );
    let panic_line: u32 = message
        .split("(line ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        message.contains(&format!("tests/panic_hook.rs:{panic_line}:")),
        "{message}"
    );
    assert_eq!(refuse.line, Some(panic_line));
    let last_app = capture.frames.iter().rev().find(|f| f.in_app).unwrap();
    assert!(
        last_app.function.ends_with("panic_hook::refuse"),
        "{}",
        last_app.function
    );

    assert_eq!(
        value(frame(&capture, "panic_hook::checkout"), "order_id"),
        "ord_42"
    );
    let charge = frame(&capture, "panic_hook::charge");
    assert_eq!(value(charge, "order_id"), "ord_42");
    assert_eq!(value(charge, "amount_cents"), 4200);
    assert_eq!(value(charge, "card_number"), DEFAULT_SUBSTITUTE);

    let text = ExceptionReporter::default()
        .report(&capture)
        .html()
        .to_string();
    assert!(!text.contains("4111111111111111"));
    assert!(text.contains("ord_42"));
}

#[test]
fn a_panic_in_async_code_on_a_multi_threaded_runtime_reports_its_variables() {
    install();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let capture = runtime.block_on(async {
        tokio::spawn(async {
            let order_id = String::from("ord_77");
            let card_number = String::from("5500000000000004");
            let future = safe_report::vars!(order_id, card_number)
                .sensitive(&["card_number"])
                .run_async(async {
                    // Cross an await (and possibly a thread) before failing.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    tokio::task::yield_now().await;
                    async_refuse().await
                });
            // Poll inside `handled_here`, as a web framework integration does, and catch.
            let caught = futures_catch(future).await;
            assert!(caught.is_err());
            take_last_capture().expect("the hook captured the panic")
        })
        .await
        .unwrap()
    });
    let scoped = capture
        .frames
        .iter()
        .find(|f| f.vars.iter().any(|v| v.name == "order_id"))
        .expect("a frame with the registered variables");
    assert_eq!(value(scoped, "order_id"), "ord_77");
    assert_eq!(value(scoped, "card_number"), DEFAULT_SUBSTITUTE);
    assert!(
        scoped.function.contains("panic_hook"),
        "{}",
        scoped.function
    );
    assert!(
        capture
            .frames
            .iter()
            .any(|f| f.function.contains("async_refuse"))
    );
    assert!(
        capture
            .error
            .message
            .as_deref()
            .unwrap()
            .starts_with("async payment declined")
    );
}

#[inline(never)]
async fn async_refuse() {
    panic!("async payment declined");
}

/// Polls `future` inside `handled_here` and `catch_unwind`, each poll.
async fn futures_catch<F: std::future::Future>(future: F) -> Result<F::Output, ()> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| {
            handled_here(|| future.as_mut().poll(cx))
        })) {
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Ok(output)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    })
    .await
}

#[test]
fn the_previously_installed_hook_still_runs() {
    install();
    let before = PREVIOUS_HOOK_CALLS.load(Ordering::SeqCst);
    let _ = capture_panic(|| panic!("one more"));
    assert!(PREVIOUS_HOOK_CALLS.load(Ordering::SeqCst) > before);
}

#[test]
fn a_panicking_debug_in_a_registered_variable_is_an_error_in_formatting() {
    struct Explodes;
    impl std::fmt::Debug for Explodes {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("Debug exploded")
        }
    }
    let explodes = Explodes;
    let order_id = "ord_9";
    let capture = capture_panic(|| {
        safe_report::vars!(explodes, order_id).run(|| panic!("outer failure"));
    });
    let scoped = capture
        .frames
        .iter()
        .find(|f| f.vars.iter().any(|v| v.name == "explodes"))
        .unwrap();
    let explodes = scoped.vars.iter().find(|v| v.name == "explodes").unwrap();
    assert!(
        explodes
            .error
            .as_deref()
            .unwrap()
            .contains("Debug exploded")
    );
    assert_eq!(value(scoped, "order_id"), "ord_9");
    let report = ExceptionReporter::default().report(&capture);
    let shown = report
        .frames
        .iter()
        .flat_map(|f| &f.vars)
        .find(|v| v.name == "explodes")
        .unwrap();
    assert!(
        shown
            .value
            .starts_with("Error in formatting: the value's formatting panicked: Debug exploded"),
        "{}",
        shown.value
    );
    assert_eq!(
        capture
            .error
            .message
            .as_deref()
            .map(|m| m.starts_with("outer failure")),
        Some(true)
    );
}

#[test]
fn panics_outside_a_catch_site_are_delivered_by_the_reporting_thread() {
    install();
    let handle = std::thread::Builder::new()
        .name("worker-7".to_owned())
        .spawn(|| {
            let order_id = "ord_delivered";
            safe_report::vars!(order_id).run(|| panic!("background failure"))
        })
        .unwrap();
    assert!(handle.join().is_err());
    assert!(safe_report::panic::flush(std::time::Duration::from_secs(
        10
    )));
    let delivered = DELIVERED.lock().unwrap();
    let report = delivered
        .iter()
        .find(|report| report.contains("background failure"))
        .expect("a delivered report");
    assert!(report.starts_with("panic\nbackground failure"), "{report}");
    assert!(report.contains("Thread: worker-7"));
}

#[derive(Debug)]
struct Outer(std::io::Error);

impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not load the order")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[inline(never)]
fn load_order(order_id: &str) -> Result<(), safe_report::Traced<Outer>> {
    safe_report::vars!(order_id)
        .run(|| Err(Outer(std::io::Error::other("connection refused"))).traced())
}

#[test]
fn std_error_chains_report_each_cause_and_where_they_were_created() {
    let error = load_order("ord_5").unwrap_err();
    let capture = Capture::from_traced(&error);
    assert_eq!(
        capture.error.type_name.as_deref(),
        Some("panic_hook::Outer")
    );
    assert_eq!(
        capture.error.message.as_deref(),
        Some("could not load the order")
    );
    assert_eq!(capture.error.chain.len(), 1);
    assert_eq!(
        capture.error.chain[0].message.as_deref(),
        Some("connection refused")
    );
    let scoped = frame(&capture, "panic_hook::load_order");
    assert_eq!(value(scoped, "order_id"), "ord_5");
    let text = ExceptionReporter::default()
        .text_report(&capture)
        .text()
        .to_string();
    assert!(text.contains(
        "The above exception (connection refused) was the direct cause of the following exception:"
    ));
}

#[cfg(feature = "anyhow")]
#[test]
fn anyhow_chains_report_each_cause() {
    use anyhow::Context as _;
    let error = Err::<(), _>(std::io::Error::other("disk full"))
        .context("writing the invoice")
        .context("closing the order")
        .unwrap_err();
    let capture = Capture::from_anyhow(&error);
    assert_eq!(capture.error.message.as_deref(), Some("closing the order"));
    let causes: Vec<_> = capture
        .error
        .chain
        .iter()
        .map(|c| c.message.clone().unwrap())
        .collect();
    assert_eq!(causes, ["writing the invoice", "disk full"]);
}

#[cfg(feature = "eyre")]
#[test]
fn eyre_chains_report_each_cause() {
    use eyre::WrapErr as _;
    let error = Err::<(), _>(std::io::Error::other("timeout"))
        .wrap_err("calling the gateway")
        .unwrap_err();
    let capture = Capture::from_eyre(&error);
    assert_eq!(
        capture.error.message.as_deref(),
        Some("calling the gateway")
    );
    assert_eq!(capture.error.chain.len(), 1);
    assert_eq!(capture.error.chain[0].message.as_deref(), Some("timeout"));
}
