//! Reporting never takes the process down. Each test runs one scenario in a child process
//! (this test binary again, running only that test) with the panic hook installed, and checks
//! that the child wrote its report to standard error and exited normally. The parent waits
//! for the child with a generous deadline: a hang, a deadlock, an abort or a stack overflow
//! in the child fails the test instead of stalling the suite.
#![cfg(feature = "mail")]

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use safe_report::mail::{AdminNotifier, MailConfig, Mailer, MemoryBackend};
use safe_report::panic::{Destination, HookBuilder, HookGuard};
use serde::Serialize;

/// Set in the child to the name of the test whose scenario it runs.
const SCENARIO: &str = "SAFE_REPORT_TORTURE_SCENARIO";
/// Far beyond what any scenario needs, even on a loaded machine: only a hang reaches it.
const DEADLINE: Duration = Duration::from_secs(120);
/// The child's last line, written after the hook's guard flushed the reports.
const FINISHED: &str = "torture: scenario finished";

/// What a child left behind.
struct Child {
    status: ExitStatus,
    stderr: String,
}

impl Child {
    /// Asserts that the child exited normally after delivering the reports, and that its
    /// standard error contains each of `expected`.
    fn assert_reported(&self, expected: &[&str]) {
        let stderr = &self.stderr;
        assert!(self.status.success(), "{}\n{stderr}", self.status);
        assert!(stderr.contains(FINISHED), "unfinished:\n{stderr}");
        assert!(
            stderr.contains("Exception Type: panic"),
            "no report:\n{stderr}"
        );
        for expected in expected {
            assert!(
                stderr.contains(expected),
                "{expected:?} missing from:\n{stderr}"
            );
        }
    }

    /// How many reports the child wrote.
    fn reports(&self) -> usize {
        self.stderr.matches("Exception Type: panic").count()
    }
}

/// In the parent, runs the calling test again in a child process with `SCENARIO` set, and
/// returns what it left; in that child, runs `scenario` and returns `None`.
fn in_child(scenario: impl FnOnce()) -> Option<Child> {
    let test = std::thread::current()
        .name()
        .expect("the test harness names each test's thread")
        .to_owned();
    if std::env::var(SCENARIO).as_deref() == Ok(test.as_str()) {
        scenario();
        eprintln!("{FINISHED}");
        return None;
    }
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, &test)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs again");
    // Standard error reaches its end when the child exits.
    let mut stderr = child.stderr.take().expect("piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        let _ = sender.send(String::from_utf8_lossy(&text).into_owned());
    });
    match receiver.recv_timeout(DEADLINE) {
        Ok(stderr) => {
            let status = child.wait().expect("the child is waited for");
            Some(Child { status, stderr })
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child running {test} did not finish: it hung");
        }
    }
}

/// The hook as every scenario installs it: reports to standard error.
fn install() -> HookGuard {
    HookBuilder::new().in_app_include(["torture"]).install()
}

/// Runs `work` on a thread named `worker`, which must panic.
fn panics_on_a_worker(work: impl FnOnce() + Send + 'static) {
    let outcome = std::thread::Builder::new()
        .name("worker".to_owned())
        .spawn(work)
        .expect("the worker starts")
        .join();
    assert!(outcome.is_err(), "the worker should have panicked");
}

#[derive(Serialize)]
struct Cart {
    items: Vec<String>,
}

/// A value whose `Debug` panics.
struct Explodes;

impl fmt::Debug for Explodes {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug exploded")
    }
}

#[test]
fn a_panic_while_holding_registered_locks_reports_them_as_locked() {
    let Some(child) = in_child(|| {
        let hook = install();
        let orders = Arc::new(Mutex::new(vec!["ord_1".to_owned()]));
        let stock = Arc::new(RwLock::new(BTreeMap::from([("sku_1".to_owned(), 3u32)])));
        let cart = Arc::new(Mutex::new(Cart {
            items: vec!["sku_1".to_owned()],
        }));
        let free = Mutex::new(Some(7u32));
        panics_on_a_worker(move || {
            safe_report::vars!(orders, stock, cart, free).run(|| {
                let _orders = orders.lock().unwrap();
                let _stock = stock.write().unwrap();
                let _cart = cart.lock().unwrap();
                panic!("out of stock while holding the locks");
            })
        });
        drop(hook);
    }) else {
        return;
    };
    child.assert_reported(&[
        "out of stock while holding the locks",
        "orders = \"<locked>\"",
        "stock = \"<locked>\"",
        "cart = \"<locked>\"",
        "free = 7",
    ]);
}

#[test]
fn a_poisoned_registered_lock_is_shown_as_poisoned() {
    let Some(child) = in_child(|| {
        let visits = Arc::new(Mutex::new(5u32));
        let cart = Arc::new(RwLock::new(Cart {
            items: vec!["sku_2".to_owned()],
        }));
        // Poisoned before the hook is installed: only the worker's panic is reported.
        let (poisoned_visits, poisoned_cart) = (Arc::clone(&visits), Arc::clone(&cart));
        let _ = std::thread::spawn(move || {
            let _visits = poisoned_visits.lock().unwrap();
            let _cart = poisoned_cart.write().unwrap();
            panic!("poisons both locks");
        })
        .join();
        let hook = install();
        panics_on_a_worker(move || {
            safe_report::vars!(visits, cart).run(|| panic!("after the poisoning"))
        });
        drop(hook);
    }) else {
        return;
    };
    child.assert_reported(&[
        "after the poisoning",
        "visits = {\"<poisoned>\": 5}",
        "cart = {\"<poisoned>\": {\"items\": [\"sku_2\"]}}",
    ]);
}

#[derive(Serialize)]
struct Account {
    owner: String,
    balance: Mutex<u64>,
}

#[test]
fn a_serialize_waiting_for_a_lock_the_panicking_thread_holds_is_reported_as_timed_out() {
    let Some(child) = in_child(|| {
        let hook = install();
        panics_on_a_worker(|| {
            let account = Account {
                owner: "alice".to_owned(),
                balance: Mutex::new(120),
            };
            let order_id = "ord_9";
            safe_report::vars!(order_id, account).run(|| {
                // `Serialize for Mutex` waits for this guard, which is only released when
                // the panic unwinds out of this closure, after the hook returned.
                let _balance = account.balance.lock().unwrap();
                panic!("overdrawn");
            })
        });
        drop(hook);
    }) else {
        return;
    };
    child.assert_reported(&[
        "overdrawn",
        "order_id = \"ord_9\"",
        "account = Error in formatting",
    ]);
    assert!(child.stderr.contains("did not finish"), "{}", child.stderr);
}

#[test]
fn a_panicking_debug_in_a_registered_value_is_an_error_in_formatting() {
    let Some(child) = in_child(|| {
        let hook = install();
        panics_on_a_worker(|| {
            let explodes = Explodes;
            let order_id = "ord_3";
            safe_report::vars!(explodes, order_id).run(|| panic!("checkout failed"))
        });
        drop(hook);
    }) else {
        return;
    };
    child.assert_reported(&[
        "checkout failed",
        "order_id = \"ord_3\"",
        "explodes = Error in formatting: the value's formatting panicked: Debug exploded",
    ]);
    assert_eq!(child.reports(), 1, "{}", child.stderr);
}

#[test]
fn flushes_without_a_deadline_wait_for_the_report_without_overflowing() {
    let Some(child) = in_child(|| {
        let outbox = MemoryBackend::new();
        let config = MailConfig::builder()
            .admins(["ops@example.com"])
            .build()
            .unwrap();
        let mailer = Mailer::builder(config)
            .backend(outbox.clone())
            .build()
            .unwrap();
        // `Instant::now() + Duration::MAX` would panic; these wait as long as it takes.
        let hook = HookBuilder::new()
            .in_app_include(["torture"])
            .flush_timeout(Duration::MAX)
            .format_timeout(Duration::MAX)
            .destination(Destination::Stderr)
            .destination(Destination::Notifier(AdminNotifier::new(mailer.clone())))
            .install();
        panics_on_a_worker(|| panic!("flushed without a deadline"));
        drop(hook);
        assert!(mailer.flush(Duration::MAX));
        eprintln!("torture: {} mailed", outbox.len());
    }) else {
        return;
    };
    child.assert_reported(&["flushed without a deadline", "torture: 1 mailed"]);
}

/// A value whose `Debug` registers a variable of its own, creates a traced error there, and
/// then panics.
struct Reentrant;

impl fmt::Debug for Reentrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depth = Cart {
            items: vec!["nested".to_owned()],
        };
        let error = safe_report::vars!(depth)
            .run(|| safe_report::Traced::new(std::io::Error::other("while formatting")));
        let captured = safe_report::Capture::from_traced(&error);
        write!(f, "Reentrant({} frames)", captured.frames.len())?;
        panic!("formatting gave up")
    }
}

#[test]
fn a_debug_that_creates_a_traced_error_is_captured_once_without_recursing() {
    let Some(child) = in_child(|| {
        let hook = install();
        panics_on_a_worker(|| {
            let reentrant = Reentrant;
            // An error captured on this thread: the value's `Debug` runs here.
            let error = safe_report::vars!(reentrant)
                .run(|| safe_report::Traced::new(std::io::Error::other("outer failure")));
            let capture = safe_report::Capture::from_traced(&error);
            let variable = capture
                .frames
                .iter()
                .flat_map(|frame| &frame.vars)
                .find(|var| var.name == "reentrant")
                .expect("the registered variable");
            eprintln!("torture: error capture: {:?}", variable.error);
            // And a panic, whose hook runs the value's `Debug` on its helper thread.
            safe_report::vars!(reentrant).run(|| panic!("worker failed"))
        });
        drop(hook);
    }) else {
        return;
    };
    child.assert_reported(&[
        "torture: error capture: Some(\"the value's formatting panicked: formatting gave up\")",
        "worker failed",
        "reentrant = Error in formatting: the value's formatting panicked: formatting gave up",
    ]);
    assert_eq!(child.reports(), 1, "{}", child.stderr);
}

/// Settings whose `Serialize` panics.
struct ExplodingSettings;

impl Serialize for ExplodingSettings {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("settings exploded")
    }
}

#[test]
fn a_panic_in_the_settings_formatting_becomes_a_notice_in_the_report() {
    let Some(child) = in_child(|| {
        let hook = HookBuilder::new()
            .in_app_include(["torture"])
            .settings(&ExplodingSettings)
            .install();
        panics_on_a_worker(|| panic!("with broken settings"));
        drop(hook);
    }) else {
        return;
    };
    child.assert_reported(&[
        "with broken settings",
        "SETTINGS = \"Error in formatting: the settings' formatting panicked: settings exploded\"",
    ]);
    assert_eq!(child.reports(), 1, "{}", child.stderr);
}

#[cfg(feature = "tracing")]
mod tracing_spans {
    use super::*;
    use safe_report::integrations::tracing::ReportLayer;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[test]
    fn a_panicking_debug_recorded_into_a_span_is_an_error_in_formatting() {
        let Some(child) = in_child(|| {
            let subscriber = tracing_subscriber::registry().with(ReportLayer::new());
            tracing::subscriber::set_global_default(subscriber).unwrap();
            let hook = install();
            panics_on_a_worker(|| {
                let span = tracing::info_span!(
                    "checkout",
                    order_id = "ord_5",
                    note = tracing::field::Empty
                );
                let _entered = span.enter();
                span.record("note", tracing::field::debug(Explodes));
                panic!("after recording");
            });
            drop(hook);
        }) else {
            return;
        };
        child.assert_reported(&[
            "after recording",
            "order_id = \"ord_5\"",
            "note = Error in formatting",
            "Debug exploded",
        ]);
        assert_eq!(child.reports(), 1, "{}", child.stderr);
    }

    #[test]
    fn a_panic_in_another_layer_holding_a_span_lock_does_not_block_the_hook() {
        let Some(child) = in_child(|| {
            // The fmt layer formats recorded values while it holds the span's extensions
            // lock; a panic there reaches the hook with that lock held by this thread.
            let subscriber = tracing_subscriber::registry()
                .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
                .with(ReportLayer::new());
            tracing::subscriber::set_global_default(subscriber).unwrap();
            let hook = install();
            panics_on_a_worker(|| {
                let span = tracing::info_span!(
                    "checkout",
                    order_id = "ord_6",
                    note = tracing::field::Empty
                );
                let _entered = span.enter();
                span.record("note", tracing::field::debug(Explodes));
            });
            drop(hook);
        }) else {
            return;
        };
        child.assert_reported(&["Debug exploded", "order_id = \"ord_6\""]);
    }
}

#[test]
fn eight_threads_panicking_while_another_resolves_symbols_for_the_first_time_all_report() {
    let Some(child) = in_child(|| {
        let _hook = install();
        // The first resolution of the process (it loads the debug information) runs on
        // its own thread while the eight panic.
        let resolving = std::thread::spawn(safe_report::runtime::trace::caller_has_line_tables);
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let workers: Vec<_> = (0..8)
            .map(|index| {
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let worker_index = index;
                    barrier.wait();
                    safe_report::vars!(worker_index)
                        .run(|| panic!("worker {worker_index} gave up"));
                })
            })
            .collect();
        for worker in workers {
            assert!(worker.join().is_err());
        }
        let _ = resolving.join();
    }) else {
        return;
    };
    let expected: Vec<String> = (0..8).map(|i| format!("worker {i} gave up")).collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    child.assert_reported(&expected);
    assert_eq!(child.reports(), 8, "{}", child.stderr);
}

#[test]
fn a_panic_inside_a_destination_while_it_renders_the_report_is_contained() {
    let Some(child) = in_child(|| {
        let _hook = HookBuilder::new()
            .in_app_include(["torture"])
            .destination(Destination::Callback(std::sync::Arc::new(|_report| {
                panic!("the destination failed while rendering")
            })))
            .destination(Destination::Stderr)
            .install();
        panics_on_a_worker(|| panic!("reported despite a failing destination"));
        // The reporting thread goes on: a second panic is reported too.
        panics_on_a_worker(|| panic!("and the next one as well"));
    }) else {
        return;
    };
    child.assert_reported(&[
        "reported despite a failing destination",
        "and the next one as well",
    ]);
}
