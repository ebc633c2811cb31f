//! A program whose worker thread panics while charging a card: the panic hook reports it to
//! standard error, filtered, and the process exits non-zero as a panic would.
//!
//! ```text
//! cargo run --example panic_hook
//! ```
//!
//! The worker runs `checkout → charge(card_number, order_id)`; `card_number` is declared
//! sensitive, so its value is never formatted, and the report shows the substitute.

use std::process::ExitCode;
use std::time::Duration;

#[inline(never)]
fn checkout(order_id: &str) {
    let card_number = String::from("4111111111111111");
    safe_report::vars!(order_id).run(|| charge(&card_number, order_id));
}

#[inline(never)]
fn charge(card_number: &str, order_id: &str) {
    let amount_cents = 4200u64;
    safe_report::vars!(card_number, order_id, amount_cents)
        .sensitive(&["card_number"])
        .run(|| {
            // The payment provider refuses the card.
            panic!("payment declined");
        });
}

fn main() -> ExitCode {
    // This file, compressed, in the binary: a deployed build shows source lines without
    // its source on the host (an application embeds its `src` with `embed_sources!()`).
    #[cfg(feature = "embed-sources")]
    safe_report::embed_sources!("examples/panic_hook.rs").install();
    let hook = safe_report::panic::HookBuilder::new()
        .in_app_include([env!("CARGO_CRATE_NAME")])
        .application(concat!(
            env!("CARGO_PKG_NAME"),
            " ",
            env!("CARGO_PKG_VERSION")
        ))
        .flush_timeout(Duration::from_secs(10))
        .install();

    let worker = std::thread::Builder::new()
        .name("checkout-worker".to_owned())
        .spawn(|| checkout("ord_42"))
        .expect("the worker thread starts");
    let outcome = worker.join();

    // Write the pending report before exiting (`ExitCode` returns normally; with
    // `std::process::exit` the guard would not run, so flush first).
    drop(hook);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        // A panic's exit status.
        Err(_) => ExitCode::from(101),
    }
}
