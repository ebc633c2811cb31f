//! Breadcrumbs: the last events a thread or a task logged, carried into the report of the
//! error that follows them.
//!
//! The `tracing` layer ([`ReportLayer`]) and the `log` logger ([`ReportLogger`]) record
//! every event at INFO or above (each configurable) into a trail; a report made on the
//! same thread (a panic, a [`Traced`](crate::Traced) error, an ERROR event, a capture of an
//! error value) carries the trail as [`Capture::breadcrumbs`](crate::Capture::breadcrumbs),
//! and the filter passes each one like every other string of the report.
//!
//! ```
//! use safe_report::runtime::breadcrumbs;
//! use safe_report::BreadcrumbLevel;
//!
//! breadcrumbs::record(BreadcrumbLevel::Info, "shop::orders", format_args!("charging order {}", "ord_42"));
//! let capture = safe_report::Capture::from_error(&std::io::Error::other("card declined"));
//! assert_eq!(capture.breadcrumbs.last().unwrap().message, "charging order ord_42");
//! ```
//!
//! # The model: per thread, carried by tasks that ask for it
//!
//! - Each thread keeps one trail, a ring of the last [`capacity`] events (default
//!   [`DEFAULT_BREADCRUMBS`], 50). A report takes a copy of the trail of the thread it is
//!   captured on; the trail is not cleared, so two errors in a row share their history.
//! - An async task runs on whichever worker thread polls it, where other tasks log too. A
//!   future wrapped with [`BreadcrumbsExt::with_breadcrumbs`] (or
//!   [`with_new_breadcrumbs`](BreadcrumbsExt::with_new_breadcrumbs)) owns a trail of its
//!   own, swapped into the thread for the length of each poll: what the task logs goes to
//!   its trail, across threads and `.await`s, and a panic or an error captured while it
//!   runs carries that trail, not its neighbours'. `with_breadcrumbs` starts the task's
//!   trail with a copy of the spawning thread's (what led to the spawn); the copy is made
//!   when the future is wrapped.
//! - A task that is not wrapped logs into the trail of the thread polling it.
//!
//! # Bounds and cost
//!
//! A trail holds at most [`capacity`] events, each with at most [`MAX_BREADCRUMB_BYTES`]
//! bytes of target and message and as many of field values (cut with `…`), and
//! [`MAX_BREADCRUMB_FIELDS`] fields. Its slots and their buffers are reused once the ring
//! is full, so recording allocates nothing after
//! warm-up. Recording copies the record's parts (the clock, the level, the target, the
//! message, the fields' values) into the slot; a message without arguments is copied as it
//! is, and only messages and fields with arguments are written out by their own `Display` or
//! `Debug` (`fmt::Arguments` cannot be kept). Nothing is filtered, escaped, timestamped as
//! text or allocated until a report is built. What this costs per event is measured in
//! `docs/performance.md`.
//!
//! Events this crate logs about its own work, and events on the threads that deliver
//! reports, are not recorded. An event logged while another is being recorded on the same
//! thread (a `Debug` that logs) is dropped.
//!
//! [`ReportLayer`]: crate::integrations
//! [`ReportLogger`]: crate::integrations

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::SystemTime;

use crate::limits::{DEFAULT_BREADCRUMBS, MAX_BREADCRUMB_BYTES, MAX_BREADCRUMB_FIELDS};
use crate::model::{Breadcrumb, BreadcrumbField, BreadcrumbLevel};

/// The most events a trail keeps.
static CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_BREADCRUMBS);

/// What replaces the end of a text cut at the byte bound.
const CUT: &str = "…";

/// Sets how many events each trail keeps (default [`DEFAULT_BREADCRUMBS`]); `0` turns
/// breadcrumbs off. Trails shrink to it at their next event.
///
/// ```
/// safe_report::runtime::breadcrumbs::set_capacity(100);
/// assert_eq!(safe_report::runtime::breadcrumbs::capacity(), 100);
/// # safe_report::runtime::breadcrumbs::set_capacity(50);
/// ```
pub fn set_capacity(events: usize) {
    CAPACITY.store(events, Ordering::Relaxed);
}

/// How many events each trail keeps (see [`set_capacity`]).
pub fn capacity() -> usize {
    CAPACITY.load(Ordering::Relaxed)
}

/// One recorded event, its text in two reused buffers: the target then the message, and
/// the fields' values.
struct Slot {
    time: SystemTime,
    level: BreadcrumbLevel,
    text: String,
    target_end: usize,
    values: String,
    /// Each field's name and the end of its value in `values`.
    fields: Vec<(&'static str, usize)>,
}

impl Slot {
    fn to_breadcrumb(&self) -> Breadcrumb {
        let timestamp = jiff::Timestamp::try_from(self.time).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let mut crumb = Breadcrumb::new(
            self.level,
            &self.text[..self.target_end],
            &self.text[self.target_end..],
        );
        crumb.timestamp = timestamp;
        let mut start = 0;
        crumb.fields = self
            .fields
            .iter()
            .map(|&(name, end)| {
                let value = self.values[start..end].to_owned();
                start = end;
                BreadcrumbField {
                    name: name.to_owned(),
                    value,
                }
            })
            .collect();
        crumb
    }
}

/// A ring of the last events: a thread's, or a task's or a request's own (see
/// [`Trail::enter`]).
///
/// The slots are written in place: once the ring is full, the next event overwrites the
/// oldest, at `oldest`, and nothing moves.
#[derive(Default)]
pub(crate) struct Trail {
    slots: Vec<Slot>,
    /// Where the oldest event is once the ring is full (`0` while it grows).
    oldest: usize,
}

impl Clone for Trail {
    fn clone(&self) -> Self {
        let slots = self
            .events()
            .map(|slot| Slot {
                time: slot.time,
                level: slot.level,
                text: slot.text.clone(),
                target_end: slot.target_end,
                values: slot.values.clone(),
                fields: slot.fields.clone(),
            })
            .collect();
        Self { slots, oldest: 0 }
    }
}

impl Trail {
    /// Makes this the trail of the current thread until the guard is dropped (also by
    /// unwinding), when the thread's own comes back: what is logged meanwhile, and what a
    /// report captured meanwhile carries, is this trail's. Nothing changes while the
    /// thread's trail is being written.
    pub(crate) fn enter(&mut self) -> Entered<'_> {
        let swapped = swap(self);
        Entered {
            trail: self,
            swapped,
        }
    }

    /// A slot for a new event: a fresh one while the ring grows, the oldest one reused
    /// once it is full. `None` when breadcrumbs are off.
    fn next_slot(&mut self, capacity: usize) -> Option<&mut Slot> {
        if capacity == 0 {
            self.clear();
            return None;
        }
        if self.slots.len() == capacity {
            let slot = &mut self.slots[self.oldest];
            self.oldest = (self.oldest + 1) % capacity;
            return Some(slot);
        }
        // Still growing, or the capacity changed since the ring was full: the events are
        // put in order, and the oldest let go when there are too many.
        self.slots.rotate_left(self.oldest);
        self.oldest = 0;
        if self.slots.len() > capacity {
            self.slots.drain(..self.slots.len() - capacity + 1);
        }
        self.slots.push(Slot {
            time: SystemTime::UNIX_EPOCH,
            level: BreadcrumbLevel::Info,
            text: String::new(),
            target_end: 0,
            values: String::new(),
            fields: Vec::new(),
        });
        self.slots.last_mut()
    }

    /// The events, oldest first.
    fn events(&self) -> impl Iterator<Item = &Slot> {
        let (newer, older) = self.slots.split_at(self.oldest);
        older.iter().chain(newer)
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.oldest = 0;
    }
}

thread_local! {
    static TRAIL: RefCell<Trail> = RefCell::default();
}

/// Where an integration writes one event: the message, then its fields.
pub(crate) struct Recorder<'s> {
    slot: &'s mut Slot,
}

impl Recorder<'_> {
    /// Appends to the message.
    pub(crate) fn message(&mut self, message: fmt::Arguments<'_>) {
        write_bounded(&mut self.slot.text, message);
    }

    /// Appends to the message, as it is.
    pub(crate) fn message_str(&mut self, message: &str) {
        push_bounded(&mut self.slot.text, message);
    }

    /// Adds a field written by `value`, unless the crumb has its most fields.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn field(&mut self, name: &'static str, value: fmt::Arguments<'_>) {
        let slot = &mut *self.slot;
        if slot.fields.len() < MAX_BREADCRUMB_FIELDS {
            write_bounded(&mut slot.values, value);
            slot.fields.push((name, slot.values.len()));
        }
    }

    /// Adds a field, as it is, unless the crumb has its most fields.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn field_str(&mut self, name: &'static str, value: &str) {
        let slot = &mut *self.slot;
        if slot.fields.len() < MAX_BREADCRUMB_FIELDS {
            push_bounded(&mut slot.values, value);
            slot.fields.push((name, slot.values.len()));
        }
    }
}

/// Records an event on this thread's trail (or the polled task's): `write` adds the message
/// and fields. Never panics: a `Debug` or `Display` that panics leaves what it wrote, and
/// an event logged from inside `write` is dropped.
pub(crate) fn record_with(
    level: BreadcrumbLevel,
    target: &str,
    write: impl FnOnce(&mut Recorder<'_>),
) {
    let capacity = capacity();
    let _ = TRAIL.try_with(|trail| {
        let Ok(mut trail) = trail.try_borrow_mut() else {
            return;
        };
        let Some(slot) = trail.next_slot(capacity) else {
            return;
        };
        slot.time = SystemTime::now();
        slot.level = level;
        slot.text.clear();
        slot.values.clear();
        slot.fields.clear();
        push_bounded(&mut slot.text, target);
        slot.target_end = slot.text.len();
        let mut recorder = Recorder { slot };
        // A panicking `Debug` of the application's must not unwind out of its log call.
        let _ = catch_unwind(AssertUnwindSafe(|| write(&mut recorder)));
    });
}

/// Records an event by hand, on this thread's trail (or the polled task's), as the
/// integrations do for each `tracing` event or `log` record.
///
/// ```
/// use safe_report::{BreadcrumbLevel, runtime::breadcrumbs};
///
/// breadcrumbs::record(BreadcrumbLevel::Warn, "shop::cache", format_args!("cache miss"));
/// assert_eq!(breadcrumbs::snapshot().last().unwrap().message, "cache miss");
/// ```
pub fn record(level: BreadcrumbLevel, target: &str, message: fmt::Arguments<'_>) {
    record_with(level, target, |recorder| match message.as_str() {
        Some(text) => recorder.message_str(text),
        None => recorder.message(message),
    });
}

/// A copy of this thread's trail (or the polled task's), oldest first. Never blocks or
/// panics: while the trail is being written on this thread, the copy is empty.
pub fn snapshot() -> Vec<Breadcrumb> {
    TRAIL
        .try_with(|trail| {
            trail
                .try_borrow()
                .map(|trail| trail.events().map(Slot::to_breadcrumb).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// Forgets this thread's trail (or the polled task's).
pub fn clear() {
    let _ = TRAIL.try_with(|trail| {
        if let Ok(mut trail) = trail.try_borrow_mut() {
            trail.clear();
        }
    });
}

/// Appends `text` to `buffer` up to the byte bound of a crumb.
fn push_bounded(buffer: &mut String, text: &str) {
    let room = MAX_BREADCRUMB_BYTES.saturating_sub(buffer.len());
    if text.len() <= room {
        buffer.push_str(text);
    } else {
        cut_into(buffer, text, room);
    }
}

/// Writes `args` into `buffer` up to the byte bound of a crumb.
fn write_bounded(buffer: &mut String, args: fmt::Arguments<'_>) {
    if let Some(text) = args.as_str() {
        push_bounded(buffer, text);
        return;
    }
    let _ = Bounded { buffer }.write_fmt(args);
}

/// Appends the part of `text` that fits in `room` bytes with the cut mark, on a character
/// boundary.
fn cut_into(buffer: &mut String, text: &str, room: usize) {
    if room < CUT.len() {
        return;
    }
    let mut end = room - CUT.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    buffer.push_str(&text[..end]);
    buffer.push_str(CUT);
}

/// A writer that stops at the byte bound of a crumb (and tells the formatter to stop).
struct Bounded<'b> {
    buffer: &'b mut String,
}

impl fmt::Write for Bounded<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = MAX_BREADCRUMB_BYTES.saturating_sub(self.buffer.len());
        if text.len() <= room {
            self.buffer.push_str(text);
            Ok(())
        } else {
            cut_into(self.buffer, text, room);
            Err(fmt::Error)
        }
    }
}

/// Futures that carry a trail of their own (see [the model](self#the-model-per-thread-carried-by-tasks-that-ask-for-it)).
///
/// ```
/// use safe_report::runtime::breadcrumbs::{self, BreadcrumbsExt};
/// use safe_report::BreadcrumbLevel;
///
/// breadcrumbs::record(BreadcrumbLevel::Info, "app", format_args!("before the spawn"));
/// let task = async {
///     breadcrumbs::record(BreadcrumbLevel::Info, "app", format_args!("in the task"));
///     breadcrumbs::snapshot()
/// }
/// .with_breadcrumbs();
/// let seen = futures_executor_block_on(task);
/// assert_eq!(seen.len(), 2);
/// // The task's events stay in the task's trail.
/// assert_eq!(breadcrumbs::snapshot().last().unwrap().message, "before the spawn");
/// # fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     let mut future = std::pin::pin!(future);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) { return out; }
/// #     }
/// # }
/// ```
pub trait BreadcrumbsExt: Future + Sized {
    /// This future with a trail of its own, starting with a copy of the current thread's
    /// (or task's) trail.
    fn with_breadcrumbs(self) -> WithBreadcrumbs<Self> {
        let trail = TRAIL
            .try_with(|trail| trail.try_borrow().map(|t| t.clone()).unwrap_or_default())
            .unwrap_or_default();
        WithBreadcrumbs { inner: self, trail }
    }

    /// This future with a trail of its own, starting empty (a request handled by a
    /// server: only what the request logged).
    fn with_new_breadcrumbs(self) -> WithBreadcrumbs<Self> {
        WithBreadcrumbs {
            inner: self,
            trail: Trail::default(),
        }
    }
}

impl<F: Future> BreadcrumbsExt for F {}

pin_project_lite::pin_project! {
    /// A future with a trail of its own, swapped into the polling thread for each poll (see
    /// [`BreadcrumbsExt`]).
    #[must_use = "futures do nothing unless polled"]
    pub struct WithBreadcrumbs<F> {
        #[pin]
        inner: F,
        trail: Trail,
    }
}

impl<F> fmt::Debug for WithBreadcrumbs<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithBreadcrumbs")
            .field("events", &self.trail.slots.len())
            .finish_non_exhaustive()
    }
}

/// Gives the thread its own trail back when dropped (see [`Trail::enter`]).
pub(crate) struct Entered<'t> {
    trail: &'t mut Trail,
    /// Whether the trails were exchanged on entering (and so are exchanged back).
    swapped: bool,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if self.swapped {
            swap(self.trail);
        }
    }
}

/// Exchanges the thread's trail and `own`; `false` when the thread's is in use, or gone
/// (the thread is ending), and nothing was exchanged.
fn swap(own: &mut Trail) -> bool {
    TRAIL
        .try_with(|current| match current.try_borrow_mut() {
            Ok(mut current) => {
                std::mem::swap(&mut *current, own);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false)
}

impl<F: Future> Future for WithBreadcrumbs<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.trail.enter();
        this.inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trail_keeps_the_last_events_in_order() {
        clear();
        for i in 0..(DEFAULT_BREADCRUMBS + 7) {
            record(BreadcrumbLevel::Info, "t", format_args!("event {i}"));
        }
        let crumbs = snapshot();
        assert_eq!(crumbs.len(), DEFAULT_BREADCRUMBS);
        assert_eq!(crumbs[0].message, "event 7");
        assert_eq!(
            crumbs.last().unwrap().message,
            format!("event {}", DEFAULT_BREADCRUMBS + 6)
        );
    }

    #[test]
    fn the_ring_keeps_its_order_when_it_wraps_grows_and_shrinks() {
        fn push(trail: &mut Trail, capacity: usize, event: usize) {
            let slot = trail.next_slot(capacity).unwrap();
            slot.text.clear();
            slot.text.push_str(&event.to_string());
        }
        fn events(trail: &Trail) -> Vec<String> {
            trail.events().map(|slot| slot.text.clone()).collect()
        }
        let mut trail = Trail::default();
        for event in 0..7 {
            push(&mut trail, 3, event);
        }
        assert_eq!(events(&trail), ["4", "5", "6"]);
        // Grown after wrapping: the order holds, nothing is lost.
        for event in 7..9 {
            push(&mut trail, 5, event);
        }
        assert_eq!(events(&trail), ["4", "5", "6", "7", "8"]);
        push(&mut trail, 5, 9);
        assert_eq!(events(&trail), ["5", "6", "7", "8", "9"]);
        // Shrunk after wrapping: the newest are kept.
        push(&mut trail, 2, 10);
        assert_eq!(events(&trail), ["9", "10"]);
        assert!(trail.next_slot(0).is_none());
        assert!(events(&trail).is_empty());
    }

    #[test]
    fn a_crumb_keeps_at_most_its_bound_of_text_cut_on_a_character() {
        clear();
        let long = "é".repeat(MAX_BREADCRUMB_BYTES);
        record(BreadcrumbLevel::Info, "t", format_args!("{long}"));
        record_with(BreadcrumbLevel::Warn, "t", |r| {
            r.message_str("m");
            for _ in 0..(MAX_BREADCRUMB_FIELDS + 3) {
                r.field("f", format_args!("{long}"));
            }
        });
        let crumbs = snapshot();
        assert!(crumbs[0].message.len() <= MAX_BREADCRUMB_BYTES);
        assert!(crumbs[0].message.ends_with(CUT));
        assert_eq!(crumbs[1].fields.len(), MAX_BREADCRUMB_FIELDS);
        let total: usize = crumbs[1].fields.iter().map(|f| f.value.len()).sum();
        assert!(total <= MAX_BREADCRUMB_BYTES);
    }

    #[test]
    fn a_panicking_debug_does_not_unwind_out_of_the_log_call() {
        struct Bad;
        impl fmt::Display for Bad {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("bad display")
            }
        }
        clear();
        record(BreadcrumbLevel::Info, "t", format_args!("x{}", Bad));
        record(BreadcrumbLevel::Info, "t", format_args!("after"));
        assert_eq!(snapshot().last().unwrap().message, "after");
    }
}
