//! The report worker: one thread, started on first use, that does a report's slow work
//! (resolving symbols, filtering, rendering) for callers that must not wait for it, such as
//! an async runtime's worker threads.
//!
//! The queue is bounded (256 jobs): a job that does not fit is handed back to the
//! caller, who decides (a debug page is then rendered in place; a production report is
//! counted in [`dropped`] and left out). A job that panics is contained; the thread goes on.

// Only the integrations hand work to the worker; without them it is never started.
#![cfg_attr(
    not(any(feature = "tower", feature = "tracing", feature = "log")),
    allow(dead_code)
)]

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// What the worker runs.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Jobs that may wait for the worker.
pub(crate) const CAPACITY: usize = 256;

/// A worker thread and its bounded queue.
struct Worker {
    sender: SyncSender<Job>,
    progress: Arc<Progress>,
}

/// Jobs submitted and not finished yet, and the signal that there are none.
#[derive(Default)]
struct Progress {
    pending: Mutex<usize>,
    idle: Condvar,
}

impl Progress {
    fn add(&self) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    fn done(&self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *pending = pending.saturating_sub(1);
        if *pending == 0 {
            self.idle.notify_all();
        }
    }
}

static WORKER: OnceLock<Option<Worker>> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on a worker's own thread: a job waiting for the worker would wait for itself.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

impl Worker {
    /// Starts a worker thread with a queue of `capacity`; `None` when no thread can be
    /// started.
    fn start(capacity: usize) -> Option<Self> {
        let (sender, receiver) = sync_channel::<Job>(capacity);
        let progress = Arc::new(Progress::default());
        let seen = Arc::clone(&progress);
        std::thread::Builder::new()
            .name("safe-report-worker".to_owned())
            .spawn(move || {
                // What is logged while delivering is never turned into a report.
                super::mark_delivery_thread();
                ON_WORKER.with(|on| on.set(true));
                for job in receiver {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    seen.done();
                }
            })
            .ok()?;
        Some(Self { sender, progress })
    }

    fn submit(&self, job: Job) -> Result<(), Job> {
        self.progress.add();
        match self.sender.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                self.progress.done();
                Err(job)
            }
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        if ON_WORKER.try_with(Cell::get).unwrap_or(false) {
            return true;
        }
        let deadline = Instant::now().checked_add(timeout);
        let progress = &self.progress;
        let mut pending = progress
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *pending > 0 {
            pending = match deadline {
                None => progress
                    .idle
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        return false;
                    };
                    progress
                        .idle
                        .wait_timeout(pending, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        true
    }
}

/// Hands `job` to the report worker (started on first use) without waiting; the job comes
/// back when the queue is full or the thread could not be started.
pub(crate) fn submit(job: Job) -> Result<(), Job> {
    match WORKER.get_or_init(|| Worker::start(CAPACITY)) {
        Some(worker) => worker.submit(job),
        None => Err(job),
    }
}

/// Counts a job that was left out because the queue was full.
pub(crate) fn count_dropped() {
    DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// How many reports were left out because the report worker's queue was full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Waits at most `timeout` until every report handed to the worker so far has been built
/// and handed on (to a mailer's queue, or to the `tracing` layer's `on_error` callback);
/// `true` when they have. Returns at once when the worker was never used, and on the worker
/// itself (a job cannot wait for its own end). [`Mailer::flush`](crate::Mailer::flush)
/// calls it first.
///
/// ```
/// use std::time::Duration;
/// assert!(safe_report::runtime::background::flush(Duration::from_secs(5)));
/// ```
pub fn flush(timeout: Duration) -> bool {
    match WORKER.get() {
        Some(Some(worker)) => worker.flush(timeout),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn jobs_run_off_the_caller_and_flush_sees_them_finish() {
        let caller = std::thread::current().id();
        let ran = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..10 {
            let ran = Arc::clone(&ran);
            let job: Job = Box::new(move || {
                ran.lock().unwrap().push(std::thread::current().id());
            });
            assert!(submit(job).is_ok());
        }
        assert!(flush(Duration::MAX));
        let ran = ran.lock().unwrap();
        assert_eq!(ran.len(), 10);
        assert!(ran.iter().all(|id| *id != caller));
    }

    #[test]
    fn a_panicking_job_does_not_stop_the_worker() {
        assert!(submit(Box::new(|| panic!("a job fails"))).is_ok());
        let count = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        assert!(
            submit(Box::new(move || {
                seen.fetch_add(1, Ordering::SeqCst);
            }))
            .is_ok()
        );
        assert!(flush(Duration::MAX));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_full_queue_hands_the_job_back() {
        // A worker of its own, held on a job until its queue of 2 has filled up.
        let worker = Worker::start(2).unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        assert!(
            worker
                .submit(Box::new(move || {
                    let _ = started.send(());
                    let _ = hold.recv();
                }))
                .is_ok()
        );
        has_started.recv().unwrap();
        assert!(worker.submit(Box::new(|| {})).is_ok());
        assert!(worker.submit(Box::new(|| {})).is_ok());
        assert!(worker.submit(Box::new(|| {})).is_err());
        assert!(!worker.flush(Duration::ZERO));
        release.send(()).unwrap();
        assert!(worker.flush(Duration::MAX));
        assert!(worker.submit(Box::new(|| {})).is_ok());
        assert!(worker.flush(Duration::MAX));
    }
}
