//! Tests of registering and capturing frame variables.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::collect::{capture_scopes_in_panic, format_guarded};
use super::*;
use crate::limits::DEFAULT_SUBSTITUTE;

/// As the panic hook captures, with no deadline for the helper thread.
fn in_panic() -> Vec<SiteScope> {
    capture_scopes_in_panic(Duration::MAX)
}

fn names(scope: &CapturedScope) -> Vec<&str> {
    scope.vars.iter().map(|v| v.name.as_ref()).collect()
}

#[test]
fn registered_values_are_captured_with_their_scope() {
    let order_id = "ord_42".to_owned();
    let quantity = 3u32;
    let scopes = crate::vars!(order_id, quantity).run(capture_scopes);
    assert_eq!(scopes.len(), 1);
    assert_eq!(names(&scopes[0]), ["order_id", "quantity"]);
    assert_eq!(scopes[0].vars[0].value, Value::from("ord_42"));
    assert_eq!(scopes[0].vars[1].value, Value::from(3));
    assert!(
        scopes[0]
            .function
            .ends_with("registered_values_are_captured_with_their_scope")
    );
    assert!(scopes[0].file.ends_with("tests.rs"));
    assert!(!has_scopes());
}

#[test]
fn nested_scopes_come_outermost_first_and_unwind_cleanly() {
    let outer = 1u8;
    let inner = 2u8;
    let scopes = crate::vars!(outer).run(|| crate::vars!(inner).run(capture_scopes));
    assert_eq!(
        scopes.iter().map(|s| names(s)[0]).collect::<Vec<_>>(),
        ["outer", "inner"]
    );
    let result = std::panic::catch_unwind(|| crate::vars!(outer).run(|| -> () { panic!("boom") }));
    assert!(result.is_err());
    assert!(!has_scopes(), "a panic must pop the scope");
}

#[test]
fn sensitive_names_are_never_formatted_and_callees_inherit_them() {
    struct Bomb;
    impl fmt::Debug for Bomb {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("a sensitive value must never be formatted")
        }
    }
    let card_number = Bomb;
    let card = "4111111111111111";
    let scopes = crate::vars!(card_number)
        .sensitive(&["card_number", "card"])
        .run(|| crate::vars!(card).run(capture_scopes));
    assert_eq!(scopes[0].vars[0].value, Value::from(DEFAULT_SUBSTITUTE));
    assert_eq!(scopes[1].vars[0].value, Value::from(DEFAULT_SUBSTITUTE));
    assert_eq!(
        scopes[0].sensitive_variables,
        Some(SensitiveNames::names(["card_number", "card"]))
    );
    let all = crate::vars!(card).sensitive_all().run(capture_scopes);
    assert_eq!(all[0].vars[0].value, Value::from(DEFAULT_SUBSTITUTE));
}

#[test]
fn values_are_captured_plain_then_serialized_then_debugged() {
    #[derive(Serialize)]
    struct Cart {
        items: Vec<&'static str>,
    }
    #[derive(Debug)]
    struct Opaque(#[allow(dead_code)] u8);
    let cart = Cart {
        items: vec!["sku-1"],
    };
    let opaque = Opaque(7);
    let scopes = crate::vars!(cart, opaque, total = 10u64 * 42).run(capture_scopes);
    let vars = &scopes[0].vars;
    assert_eq!(vars[0].value, serde_json::json!({"items": ["sku-1"]}));
    assert_eq!(vars[1].value, Value::from("Opaque(7)"));
    assert_eq!(vars[2].value, Value::from(420));
}

#[test]
fn standard_types_are_captured_as_serde_would_serialize_them() {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Arc;
    let (small, negative, float, nan, letter) = (7u8, -42i64, 2.5f32, f64::NAN, 'é');
    let (text, owned) = ("ord_42", String::from("Berlin"));
    let (none, some) = (None::<u32>, Some(vec![vec![1u32, 2], vec![]]));
    let (array, boxed, shared) = ([true, false], Box::<str>::from("box"), Arc::new(3u16));
    let hashed = HashMap::from([(String::from("k"), 1u32)]);
    let sorted = BTreeMap::from([("a", vec!["x".to_owned()]), ("b", Vec::new())]);
    let keyed = BTreeMap::from([(std::borrow::Cow::Borrowed("c"), -1i8)]);
    let json = serde_json::json!({"nested": [1, {"deep": null}]});
    let huge = u128::MAX;
    let scopes = crate::vars!(
        small, negative, float, nan, letter, text, owned, none, some, array, boxed, shared, hashed,
        sorted, keyed, json, huge
    )
    .run(capture_scopes);
    let vars = &scopes[0].vars;
    let expected = [
        serde_json::to_value(small),
        serde_json::to_value(negative),
        serde_json::to_value(float),
        serde_json::to_value(nan),
        serde_json::to_value(letter),
        serde_json::to_value(text),
        serde_json::to_value(&owned),
        serde_json::to_value(none),
        serde_json::to_value(&some),
        serde_json::to_value(array),
        serde_json::to_value(&boxed),
        serde_json::to_value(&shared),
        serde_json::to_value(&hashed),
        serde_json::to_value(&sorted),
        serde_json::to_value(&keyed),
        Ok(json.clone()),
    ];
    for (var, expected) in vars.iter().zip(expected) {
        assert_eq!(var.value, expected.unwrap(), "{}", var.name);
    }
    // Beyond what JSON numbers hold: the digits, as text.
    assert_eq!(vars[16].value, Value::from(u128::MAX.to_string()));
}

#[test]
fn values_behind_locks_are_read_without_waiting_for_the_lock() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, RwLock};
    #[derive(Serialize)]
    struct Cart {
        items: Vec<&'static str>,
    }
    let orders = Arc::new(Mutex::new(vec!["ord_1"]));
    let stock = RwLock::new(HashMap::from([("sku_1".to_owned(), 3u32)]));
    let cart = Mutex::new(Cart {
        items: vec!["sku_1"],
    });
    let shared = Arc::new(RwLock::new(Cart {
        items: vec!["sku_2"],
    }));
    let nested = vec![Mutex::new(1u8), Mutex::new(2u8)];
    let optional = Some(Arc::new(Mutex::new("free".to_owned())));
    let (locked, in_panic) =
        crate::vars!(orders, stock, cart, shared, nested, optional).run(|| {
            // All held by this thread, as by a thread that panics holding them; `shared` is
            // only read, so it can be read again.
            let _orders = orders.lock().unwrap();
            let _stock = stock.write().unwrap();
            let _cart = cart.lock().unwrap();
            let _shared = shared.read().unwrap();
            let _second = nested[1].lock().unwrap();
            (capture_scopes(), in_panic())
        });
    let in_panic: Vec<CapturedScope> = in_panic.into_iter().map(CapturedScope::from).collect();
    for scopes in [locked, in_panic] {
        let values: Vec<Value> = scopes[0].vars.iter().map(|v| v.value.to_value()).collect();
        assert_eq!(
            values,
            [
                Value::from("<locked>"),
                Value::from("<locked>"),
                Value::from("<locked>"),
                serde_json::json!({"items": ["sku_2"]}),
                serde_json::json!([1, "<locked>"]),
                Value::from("free"),
            ]
        );
    }
    let free = crate::vars!(orders, cart).run(capture_scopes);
    assert_eq!(free[0].vars[0].value, serde_json::json!(["ord_1"]));
    assert_eq!(
        free[0].vars[1].value,
        serde_json::json!({"items": ["sku_1"]})
    );
}

#[test]
fn a_poisoned_lock_shows_its_value_under_a_notice() {
    use std::sync::{Arc, Mutex, RwLock};
    #[derive(Serialize)]
    struct Cart {
        items: Vec<&'static str>,
    }
    let visits = Arc::new(Mutex::new(5u32));
    let cart = Arc::new(RwLock::new(Cart {
        items: vec!["sku_1"],
    }));
    let poisoned = std::thread::scope(|s| {
        s.spawn(|| {
            let _visits = visits.lock().unwrap();
            let _cart = cart.write().unwrap();
            panic!("poisons both");
        })
        .join()
    });
    assert!(poisoned.is_err() && visits.is_poisoned() && cart.is_poisoned());
    let scopes = crate::vars!(visits, cart).run(capture_scopes);
    assert_eq!(
        scopes[0].vars[0].value,
        serde_json::json!({"<poisoned>": 5})
    );
    assert_eq!(
        scopes[0].vars[1].value,
        serde_json::json!({"<poisoned>": {"items": ["sku_1"]}})
    );
}

#[test]
fn a_panicking_debug_becomes_an_error_in_formatting() {
    struct Bad;
    impl fmt::Debug for Bad {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("cannot print")
        }
    }
    let bad = Bad;
    let fine = 5i64;
    for vars in [
        crate::vars!(bad, fine).run(capture_scopes).remove(0).vars,
        crate::vars!(bad, fine).run(in_panic).remove(0).vars,
    ] {
        let error = vars[0].error.as_deref().unwrap();
        assert!(error.contains("cannot print"), "{error}");
        assert_eq!(vars[1].value, Value::from(5));
    }
}

#[test]
fn a_value_whose_formatting_captures_again_is_captured_once() {
    struct Reentrant;
    impl fmt::Debug for Reentrant {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // A capture from inside the formatting (a `Traced` created here) sees nothing,
            // instead of formatting this value again, and again.
            let inner = 1u8;
            let seen = crate::vars!(inner).run(capture_scopes);
            write!(f, "Reentrant(saw {} scopes)", seen.len())
        }
    }
    let reentrant = Reentrant;
    let scopes = crate::vars!(reentrant).run(capture_scopes);
    assert_eq!(
        scopes[0].vars[0].value,
        Value::from("Reentrant(saw 0 scopes)")
    );
    assert!(!is_formatting());
}

#[test]
fn formatting_inside_formatting_leaves_the_outer_mark_in_place() {
    let outer = format_guarded(|| {
        assert_eq!(format_guarded(is_formatting), Ok(true));
        // Still marked: a panic from here on is the value's, not the application's.
        is_formatting()
    });
    assert_eq!(outer, Ok(true));
    assert!(!is_formatting());
    let panicked = format_guarded(|| -> () { panic!("cannot print") });
    assert_eq!(
        panicked,
        Err("the value's formatting panicked: cannot print".to_owned())
    );
}

#[test]
fn values_that_run_user_code_are_formatted_on_a_helper_thread() {
    #[derive(Debug)]
    struct OnWhichThread;
    impl Serialize for OnWhichThread {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(std::thread::current().name().unwrap_or(""))
        }
    }
    let probe = OnWhichThread;
    let scopes = crate::vars!(probe).run(in_panic);
    assert_eq!(scopes[0].vars[0].value, Value::from("safe-report-format"));
}

/// A value whose `Serialize` waits for its own lock, and says whether it started and ended.
struct Account {
    balance: Mutex<u64>,
    started: AtomicBool,
    serialized: AtomicBool,
}

impl Account {
    fn new() -> Self {
        Self {
            balance: Mutex::new(120),
            started: AtomicBool::new(false),
            serialized: AtomicBool::new(false),
        }
    }
}

impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.started.store(true, Ordering::SeqCst);
        let balance = *self.balance.lock().unwrap();
        self.serialized.store(true, Ordering::SeqCst);
        s.serialize_u64(balance)
    }
}

#[test]
fn in_the_hook_a_value_whose_formatting_waits_for_this_thread_is_reported_as_not_finished() {
    let account = Account::new();
    let order_id = "ord_1";
    let after = vec!["x"];
    let cart = Opaque;
    let scopes = crate::vars!(order_id, account, after, cart).run(|| {
        // As a thread that panics holding the lock: it lets go only after the hook.
        let _held = account.balance.lock().unwrap();
        capture_scopes_in_panic(Duration::from_millis(200))
    });
    // Leaving the scope waited for a read still going on: none is left behind.
    assert_eq!(
        account.started.load(Ordering::SeqCst),
        account.serialized.load(Ordering::SeqCst)
    );
    let vars = &scopes[0].vars;
    assert_eq!(vars[0].value, Value::from("ord_1"));
    let late = vars[1].error.as_deref().unwrap();
    assert!(late.contains("did not finish within 200ms"), "{late}");
    assert_eq!(vars[2].value, serde_json::json!(["x"]));
    let next = vars[3].error.as_deref().unwrap();
    assert!(next.contains("formatting of `account` before it"), "{next}");
}

#[derive(Debug)]
struct Opaque;

#[test]
fn leaving_an_inner_scope_does_not_wait_for_the_read_of_an_outer_value() {
    let account = Account::new();
    let scopes = crate::vars!(account).run(|| {
        let held = account.balance.lock().unwrap();
        let inner = 1u8;
        // The helper is still reading `account` when this scope ends; this thread lets go
        // of the lock only after that, so waiting here would never end.
        let scopes = crate::vars!(inner).run(|| capture_scopes_in_panic(Duration::ZERO));
        drop(held);
        scopes
    });
    assert_eq!(
        account.started.load(Ordering::SeqCst),
        account.serialized.load(Ordering::SeqCst)
    );
    assert!(scopes[0].vars[0].error.is_some());
    assert_eq!(scopes[1].vars[0].value, Value::from(1));
}

/// A future that is pending once, then ready.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn async_scopes_are_registered_only_while_polled() {
    let order_id = String::from("ord_7");
    let mut future = Box::pin(crate::vars!(order_id).run_async(async {
        let before = capture_scopes();
        YieldOnce(false).await;
        let after = capture_scopes();
        (before, after)
    }));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    assert!(!has_scopes(), "nothing stays registered between polls");
    let Poll::Ready((before, after)) = future.as_mut().poll(&mut cx) else {
        panic!("the future should be ready");
    };
    assert_eq!(before[0].vars[0].value, Value::from("ord_7"));
    assert_eq!(after[0].vars[0].value, Value::from("ord_7"));
    assert!(!has_scopes());
}

#[test]
// Miri's leak check would report the forgotten box (a leak, which is safe, not UB).
#[cfg_attr(miri, ignore = "leaks the future on purpose")]
fn a_future_forgotten_between_polls_leaves_nothing_registered() {
    let secret = String::from("x");
    let mut future = Box::pin(crate::vars!(secret).run_async(YieldOnce(false)));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_pending());
    std::mem::forget(future);
    assert!(!has_scopes());
    assert!(capture_scopes().is_empty());
}

#[test]
fn scopes_of_other_threads_are_not_seen() {
    let mine = 1u8;
    crate::vars!(mine).run(|| {
        let seen = std::thread::scope(|s| s.spawn(capture_scopes).join().unwrap());
        assert!(seen.is_empty());
    });
}

#[test]
fn debug_of_site_scopes_shows_names_only() {
    let password = "mk7q-plant3d".to_owned();
    let scopes = crate::vars!(password).run(capture_site_scopes);
    for shown in [format!("{scopes:?}"), format!("{scopes:#?}")] {
        assert!(!shown.contains("mk7q"), "{shown}");
        assert!(shown.contains("password"), "{shown}");
    }
}
