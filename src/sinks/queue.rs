//! The one queue and worker design every delivery uses: the mailer, the Sentry sink and
//! the webhook sink each own an [`Outbox`] and one worker thread running a [`Courier`].
//!
//! What is shared, and so behaves the same for every destination:
//! - callers only try to enqueue ([`Outbox::submit`]): a full queue drops the job and
//!   counts it, a closed one refuses it; nothing waits;
//! - the worker turns each job into what it delivers ([`Courier::prepare`]: an email is
//!   composed, a report built through the filter and encoded), then attempts it;
//! - [`Attempt::Retry`] holds the item, and every later one in order, for a retry after a
//!   backoff that doubles from [`QueueConfig::backoff_initial`] to
//!   [`QueueConfig::backoff_max`], or after the wait the server asked for (HTTP 429), during
//!   which nothing is sent; an item still not delivered after [`QueueConfig::retry_for`], or
//!   pushed out of a full hold ([`QueueConfig::capacity`]), is dropped and counted;
//!   [`Attempt::Reject`] drops and counts at once;
//! - [`Outbox::flush`] and [`Outbox::shutdown`] wait, at most as long as they are told, for
//!   the worker to deliver what is queued and retry what is held once more (not while a
//!   server asked to wait); dropping the last handle does the same, then the worker ends;
//! - what the worker logs goes through `tracing` on a thread marked as a delivery thread,
//!   so it never becomes a report of its own; a courier that panics is counted, not fatal.
//!
//! What each destination adds is its [`Courier`]: the mail courier runs flood control and
//! sends digests on a timer ([`Courier::due`]); the HTTP couriers read a server's answer.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// What happened to a report or email handed to the mailer or a sink. None of these waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Queued for the worker.
    Queued,
    /// A repeat inside its flood window: counted for the digest.
    Repeat,
    /// Beyond the cap per minute: counted for the storm summary.
    Storm,
    /// The queue was full: dropped and counted for the next summary.
    QueueFull,
    /// Nobody to send it to (no admins or no managers): nothing was rendered.
    NoRecipients,
    /// Not reportable (a broken link an ignore rule matched, debug mode, or the
    /// notifier's [`Controls`](crate::report::Controls): an ignore rule or sampling).
    Ignored,
    /// The mailer was shut down.
    Closed,
}

/// Queue and retry settings, for the mailer and the HTTP sinks alike.
///
/// ```
/// use std::time::Duration;
/// use safe_report::sinks::QueueConfig;
///
/// let queue = QueueConfig::default().capacity(1024).retry_for(Duration::from_secs(600));
/// assert_eq!(queue.capacity, 1024);
/// assert_eq!(QueueConfig::default().backoff_initial, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Jobs waiting for the worker at most (default 256); more are dropped and counted.
    /// Items held for a retry are bounded by the same number.
    pub capacity: usize,
    /// How long an item is retried before it is dropped (default 1 hour).
    pub retry_for: Duration,
    /// The first retry delay (default 1 s); it doubles after each failed retry.
    pub backoff_initial: Duration,
    /// The longest retry delay (default 5 minutes).
    pub backoff_max: Duration,
    /// How often the mail worker looks for due digests and summaries (default 1 s).
    pub tick: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 256,
            retry_for: Duration::from_secs(3600),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            tick: Duration::from_secs(1),
        }
    }
}

impl QueueConfig {
    /// Sets the capacity (at least 1).
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Sets how long items are retried.
    #[must_use]
    pub fn retry_for(mut self, retry_for: Duration) -> Self {
        self.retry_for = retry_for;
        self
    }

    /// Sets the first and the longest retry delay.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max.max(initial);
        self
    }

    /// Sets how often the worker checks for due digests.
    #[must_use]
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick.max(Duration::from_millis(1));
        self
    }
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    not(any(feature = "mail", feature = "sentry", feature = "webhook")),
    allow(dead_code, reason = "the mail queue and the HTTP sinks deliver")
)]
pub(crate) enum Attempt {
    /// Delivered. `pause`: the server asked that nothing more be sent for that long.
    Delivered { pause: Option<Duration> },
    /// Not delivered; try again after the backoff, or after `after` when the server said
    /// how long to wait (a rate limit).
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Not delivered, and retrying will not help: dropped and counted.
    Reject { reason: String },
}

/// What one destination does with the jobs of its queue (see the module docs).
pub(crate) trait Courier: Send + 'static {
    /// What callers enqueue.
    type Job: Send + 'static;
    /// What is delivered, and held for retries.
    type Item: Send + 'static;

    /// The item to deliver for `job`, built on the worker; `Ok(None)`: nothing to send;
    /// `Err`: the job failed (counted and logged).
    fn prepare(&mut self, job: Self::Job) -> Result<Option<Self::Item>, String>;

    /// One delivery attempt.
    fn attempt(&mut self, item: &Self::Item) -> Attempt;

    /// Items that come due with time (the mail courier's digests); with `all`, everything
    /// pending (a flush).
    fn due(&mut self, _all: bool) -> Vec<Self::Item> {
        Vec::new()
    }

    /// How often [`due`](Self::due) is asked; `None`: only at a flush.
    fn tick(&self) -> Option<Duration> {
        None
    }

    /// Names an item in log lines (an email's subject, an event id): never its content.
    fn describe(item: &Self::Item) -> String;

    /// Called when an item starts waiting for a retry (an HTTP sink spools it).
    fn held(&mut self, _item: &mut Self::Item) {}

    /// Called when an item leaves: delivered, or dropped.
    fn left(&mut self, _item: &Self::Item) {}

    /// Items waiting from before this worker (a spool), sent before anything new.
    fn restore(&mut self) -> Vec<Self::Item> {
        Vec::new()
    }
}

/// Counters since the queue started, shared by the handles and the worker.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) queue_full: AtomicU64,
    pub(crate) awaiting_retry: AtomicU64,
}

impl Counters {
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

enum Message<J> {
    Job(J),
    Flush { all: bool, ack: mpsc::Sender<bool> },
    Stop,
}

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is full: the job was dropped and counted.
    Full,
    /// The queue was shut down, or its worker is gone.
    Closed,
}

/// The callers' end of a queue: cheap to share behind an `Arc`; the worker ends when the
/// last `Outbox` is dropped, after delivering what was queued.
pub(crate) struct Outbox<J> {
    sender: SyncSender<Message<J>>,
    counters: Arc<Counters>,
    closed: AtomicBool,
}

/// `now + wait`, or a point about a century away when that overflows (a setting such as
/// `Duration::MAX`): `Instant + Duration` panics on overflow, and the worker would stop
/// (with `panic = "abort"`, the process).
pub(crate) fn later(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

impl<J: Send + 'static> Outbox<J> {
    /// Starts the worker thread `name` for `courier`. `what` names the items in log lines
    /// (`mail`, `Sentry event`).
    pub(crate) fn start<C: Courier<Job = J>>(
        name: &str,
        what: &'static str,
        config: QueueConfig,
        courier: C,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::sync_channel(config.capacity);
        let counters = Arc::new(Counters::default());
        let worker = Worker {
            courier,
            receiver,
            counters: Arc::clone(&counters),
            config,
            what,
            held: VecDeque::new(),
            retry_at: None,
            wait_until: None,
            backoff: config.backoff_initial,
        };
        // Log through the subscriber of the thread that built the queue, if it has one;
        // otherwise through whatever global subscriber exists when something is logged.
        let dispatch = tracing::dispatcher::get_default(|dispatch| {
            (!dispatch.is::<tracing::subscriber::NoSubscriber>()).then(|| dispatch.clone())
        });
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                // What is logged here (a delivery given up, what a transport's libraries
                // say) is never turned into a report.
                crate::runtime::mark_delivery_thread();
                match dispatch {
                    Some(dispatch) => tracing::dispatcher::with_default(&dispatch, || worker.run()),
                    None => worker.run(),
                }
            })?;
        Ok(Self {
            sender,
            counters,
            closed: AtomicBool::new(false),
        })
    }

    /// Tries to enqueue `job`; never waits.
    pub(crate) fn submit(&self, job: J) -> Result<(), Refused> {
        if self.is_closed() {
            return Err(Refused::Closed);
        }
        match self.sender.try_send(Message::Job(job)) {
            Ok(()) => {
                Counters::add(&self.counters.queued);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                Counters::add(&self.counters.queue_full);
                Err(Refused::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(Refused::Closed),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Waits at most `timeout` for the worker to deliver what was queued so far and retry
    /// what is held once more; with `all`, also what [`Courier::due`] has pending. `true`
    /// when nothing is left undelivered.
    pub(crate) fn flush(&self, all: bool, timeout: Duration) -> bool {
        // `None`: no deadline (`Duration::MAX` and the like).
        let deadline = Instant::now().checked_add(timeout);
        let (ack, done) = mpsc::channel();
        let mut message = Message::Flush { all, ack };
        // The queue may be full: retry enqueueing until the deadline (this is the one call
        // that waits, and only as long as it is told).
        loop {
            match self.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back))
                    if deadline.is_none_or(|deadline| Instant::now() < deadline) =>
                {
                    message = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return false,
            }
        }
        match deadline {
            Some(deadline) => done
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or(false),
            None => done.recv().unwrap_or(false),
        }
    }

    /// Stops accepting jobs, flushes everything (as [`flush`](Self::flush) with `all`),
    /// then stops the worker. `true` when everything was delivered.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        self.closed.store(true, Ordering::Relaxed);
        let delivered = self.flush(true, timeout);
        let _ = self.sender.try_send(Message::Stop);
        delivered
    }
}

/// An item held for a retry.
struct Held<T> {
    item: T,
    since: Instant,
    attempts: u32,
}

struct Worker<C: Courier> {
    courier: C,
    receiver: Receiver<Message<C::Job>>,
    counters: Arc<Counters>,
    config: QueueConfig,
    what: &'static str,
    held: VecDeque<Held<C::Item>>,
    /// When the held items are tried again.
    retry_at: Option<Instant>,
    /// Until when the server asked that nothing be sent (a rate limit).
    wait_until: Option<Instant>,
    backoff: Duration,
}

impl<C: Courier> Worker<C> {
    fn run(mut self) {
        let courier = &mut self.courier;
        let restored = catch_unwind(AssertUnwindSafe(|| courier.restore())).unwrap_or_default();
        let now = Instant::now();
        for item in restored {
            self.held.push_back(Held {
                item,
                since: now,
                attempts: 0,
            });
        }
        if !self.held.is_empty() {
            self.retry_at = Some(now);
            self.counters
                .awaiting_retry
                .store(self.held.len() as u64, Ordering::Relaxed);
        }
        let tick = self.courier.tick();
        let mut next_tick = tick.map(|tick| later(Instant::now(), tick));
        loop {
            let wake = match (self.retry_at, next_tick) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let message = match wake {
                Some(wake) => self
                    .receiver
                    .recv_timeout(wake.saturating_duration_since(Instant::now())),
                None => self
                    .receiver
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
            };
            match message {
                Ok(Message::Job(job)) => self.prepare(job),
                Ok(Message::Flush { all, ack }) => {
                    self.due(all);
                    self.retry();
                    let _ = ack.send(self.held.is_empty());
                }
                Ok(Message::Stop) => return,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.due(true);
                    self.retry();
                    return;
                }
            }
            let now = Instant::now();
            if let (Some(at), Some(tick)) = (next_tick, tick)
                && now >= at
            {
                self.due(false);
                next_tick = Some(later(now, tick));
            }
            if self.retry_at.is_some_and(|at| now >= at) {
                self.retry();
            }
        }
    }

    fn prepare(&mut self, job: C::Job) {
        let courier = &mut self.courier;
        match catch_unwind(AssertUnwindSafe(|| courier.prepare(job))) {
            Ok(Ok(Some(item))) => self.deliver(item),
            Ok(Ok(None)) => {}
            Ok(Err(reason)) => {
                Counters::add(&self.counters.failed);
                tracing::error!(reason, "{} dropped: it could not be built", self.what);
            }
            Err(_) => {
                Counters::add(&self.counters.failed);
                tracing::error!("building a {} panicked; it was dropped", self.what);
            }
        }
    }

    fn due(&mut self, all: bool) {
        let courier = &mut self.courier;
        let items = catch_unwind(AssertUnwindSafe(|| courier.due(all))).unwrap_or_default();
        for item in items {
            self.deliver(item);
        }
    }

    /// Whether the server asked to wait, and the time has not come.
    fn waiting(&self, now: Instant) -> bool {
        self.wait_until.is_some_and(|until| now < until)
    }

    fn deliver(&mut self, item: C::Item) {
        if !self.held.is_empty() || self.waiting(Instant::now()) {
            // Failing, or asked to wait: keep the order, wait for the retry.
            if self.waiting(Instant::now()) {
                Counters::add(&self.counters.rate_limited);
            }
            self.hold(item, 0);
            self.retry_at.get_or_insert_with(|| {
                self.wait_until
                    .unwrap_or_else(|| later(Instant::now(), self.backoff))
            });
            return;
        }
        match self.attempt(&item) {
            Attempt::Delivered { .. } => {}
            Attempt::Retry { reason, after } => {
                let wait = after.unwrap_or(self.backoff);
                tracing::warn!(
                    reason,
                    retry_in_ms = wait.as_millis() as u64,
                    item = C::describe(&item),
                    "{} delivery failed; will retry",
                    self.what
                );
                self.hold(item, 1);
                self.retry_at = Some(later(Instant::now(), wait));
            }
            Attempt::Reject { reason } => self.give_up(&item, &reason, true),
        }
    }

    fn hold(&mut self, mut item: C::Item, attempts: u32) {
        if self.held.len() >= self.config.capacity
            && let Some(oldest) = self.held.pop_front()
        {
            let reason = format!("too many items waiting for a retry ({})", self.what);
            self.give_up(&oldest.item, &reason, false);
        }
        let courier = &mut self.courier;
        let _ = catch_unwind(AssertUnwindSafe(|| courier.held(&mut item)));
        self.held.push_back(Held {
            item,
            since: Instant::now(),
            attempts,
        });
        self.counters
            .awaiting_retry
            .store(self.held.len() as u64, Ordering::Relaxed);
    }

    /// Retries the held items in order until one fails again (not while the server asked
    /// to wait).
    fn retry(&mut self) {
        let now = Instant::now();
        if self.waiting(now) {
            self.retry_at = self.wait_until;
            return;
        }
        let retry_for = self.config.retry_for;
        while let Some(front) = self.held.front_mut() {
            if front.since.elapsed() > retry_for {
                let held = self.held.pop_front().expect("front exists");
                let reason = format!("not delivered after {} attempts", held.attempts);
                self.give_up(&held.item, &reason, false);
                continue;
            }
            front.attempts += 1;
            let Some(held) = self.held.pop_front() else {
                break;
            };
            match self.attempt(&held.item) {
                Attempt::Delivered { .. } => {
                    self.backoff = self.config.backoff_initial;
                    if self.waiting(Instant::now()) {
                        self.retry_at = self.wait_until;
                        break;
                    }
                }
                Attempt::Retry { reason, after } => {
                    let wait = match after {
                        Some(after) => after,
                        None => {
                            self.backoff =
                                self.backoff.saturating_mul(2).min(self.config.backoff_max);
                            self.backoff
                        }
                    };
                    tracing::warn!(
                        reason,
                        retry_in_ms = wait.as_millis() as u64,
                        waiting = self.held.len() + 1,
                        "{} delivery failed again; will retry",
                        self.what
                    );
                    self.held.push_front(held);
                    self.retry_at = Some(later(Instant::now(), wait));
                    break;
                }
                Attempt::Reject { reason } => self.give_up(&held.item, &reason, true),
            }
        }
        if self.held.is_empty() {
            self.retry_at = None;
            self.backoff = self.config.backoff_initial;
        }
        self.counters
            .awaiting_retry
            .store(self.held.len() as u64, Ordering::Relaxed);
    }

    fn attempt(&mut self, item: &C::Item) -> Attempt {
        let courier = &mut self.courier;
        let result =
            catch_unwind(AssertUnwindSafe(|| courier.attempt(item))).unwrap_or_else(|_| {
                Attempt::Reject {
                    reason: format!("the {} transport panicked", self.what),
                }
            });
        match &result {
            Attempt::Delivered { pause } => {
                Counters::add(&self.counters.delivered);
                self.courier.left(item);
                tracing::debug!(item = C::describe(item), "{} delivered", self.what);
                if let Some(pause) = pause {
                    self.wait_until = Some(later(Instant::now(), *pause));
                }
            }
            Attempt::Retry { after, .. } => {
                Counters::add(&self.counters.retries);
                if let Some(after) = after {
                    Counters::add(&self.counters.rate_limited);
                    self.wait_until = Some(later(Instant::now(), *after));
                }
            }
            Attempt::Reject { .. } => {}
        }
        result
    }

    fn give_up(&mut self, item: &C::Item, reason: &str, rejected: bool) {
        self.courier.left(item);
        Counters::add(&self.counters.failed);
        if rejected {
            Counters::add(&self.counters.rejected);
        }
        tracing::error!(
            reason,
            item = C::describe(item),
            "{} dropped: it could not be delivered",
            self.what
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_wait_too_long_for_an_instant_is_a_point_far_away_not_a_panic() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > later(now, Duration::from_secs(86_400)));
        assert_eq!(later(now, Duration::ZERO), now);
    }

    /// Answers each attempt from a script, then delivers; records what it delivered.
    struct Scripted {
        answers: VecDeque<Attempt>,
        delivered: Arc<Mutex<Vec<u32>>>,
    }

    impl Courier for Scripted {
        type Job = u32;
        type Item = u32;

        fn prepare(&mut self, job: u32) -> Result<Option<u32>, String> {
            Ok(Some(job))
        }

        fn attempt(&mut self, item: &u32) -> Attempt {
            let answer = self
                .answers
                .pop_front()
                .unwrap_or(Attempt::Delivered { pause: None });
            if matches!(answer, Attempt::Delivered { .. }) {
                self.delivered.lock().unwrap().push(*item);
            }
            answer
        }

        fn describe(item: &u32) -> String {
            item.to_string()
        }
    }

    fn outbox(answers: Vec<Attempt>) -> (Outbox<u32>, Arc<Mutex<Vec<u32>>>) {
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let courier = Scripted {
            answers: answers.into(),
            delivered: Arc::clone(&delivered),
        };
        let config = QueueConfig::default().backoff(Duration::ZERO, Duration::ZERO);
        let outbox = Outbox::start("test-outbox", "item", config, courier).unwrap();
        (outbox, delivered)
    }

    fn retry(after: Option<Duration>) -> Attempt {
        Attempt::Retry {
            reason: "down".into(),
            after,
        }
    }

    #[test]
    fn failed_items_are_held_in_order_and_delivered_once_on_recovery() {
        let (outbox, delivered) = outbox(vec![retry(None), retry(None)]);
        for job in 1..=3 {
            outbox.submit(job).unwrap();
        }
        assert!(outbox.flush(false, Duration::from_secs(10)));
        assert_eq!(*delivered.lock().unwrap(), [1, 2, 3]);
        assert_eq!(Counters::get(&outbox.counters().retries), 2);
        assert_eq!(Counters::get(&outbox.counters().delivered), 3);
    }

    #[test]
    fn while_the_server_asks_to_wait_nothing_is_sent_and_what_waits_is_counted() {
        let hour = Some(Duration::from_secs(3600));
        let (outbox, delivered) = outbox(vec![retry(hour)]);
        for job in 1..=3 {
            outbox.submit(job).unwrap();
        }
        // The flush does not send during the wait: nothing delivered, all held.
        assert!(!outbox.flush(true, Duration::from_secs(10)));
        assert!(delivered.lock().unwrap().is_empty());
        let counters = outbox.counters();
        assert_eq!(Counters::get(&counters.rate_limited), 3);
        assert_eq!(Counters::get(&counters.awaiting_retry), 3);
        assert_eq!(Counters::get(&counters.retries), 1);
    }

    #[test]
    fn rejected_items_are_dropped_and_counted_and_the_next_goes_on() {
        let reject = Attempt::Reject {
            reason: "400".into(),
        };
        let (outbox, delivered) = outbox(vec![reject]);
        outbox.submit(1).unwrap();
        outbox.submit(2).unwrap();
        assert!(outbox.shutdown(Duration::from_secs(10)));
        assert_eq!(*delivered.lock().unwrap(), [2]);
        assert_eq!(Counters::get(&outbox.counters().rejected), 1);
        assert_eq!(outbox.submit(3), Err(Refused::Closed));
    }
}
