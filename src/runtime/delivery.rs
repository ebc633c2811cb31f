//! Threads that deliver reports (the mail worker, the panic reporting thread).
//!
//! What is logged on them is about the crate's own work: a failed delivery, or what a mail
//! library says while it fails. An integration that turns log events into reports asks
//! [`on_delivery_thread`] and leaves those events alone, so that a failing delivery is not
//! reported, and the report delivered, and that delivery failing too, without end.

use std::cell::Cell;

thread_local! {
    static DELIVERING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread as one that delivers reports, for the rest of its life.
pub(crate) fn mark_delivery_thread() {
    DELIVERING.with(|delivering| delivering.set(true));
}

/// Whether the calling thread delivers reports.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn on_delivery_thread() -> bool {
    // While the thread is being torn down its locals may be gone: not a delivery thread
    // then, as nothing of ours runs there any more.
    DELIVERING.try_with(Cell::get).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_marked_thread_delivers() {
        let marked = std::thread::spawn(|| {
            mark_delivery_thread();
            on_delivery_thread()
        });
        assert!(marked.join().unwrap());
        assert!(!std::thread::spawn(on_delivery_thread).join().unwrap());
    }
}
