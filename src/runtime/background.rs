//! The report worker: one thread, started on first use, that does a report's slow work
//! (resolving symbols, filtering, rendering) for callers that must not wait for it, such as
//! an async runtime's worker threads.
//!
//! The queue is bounded ([`CAPACITY`]): a job that does not fit is handed back to the
//! caller, who decides (a debug page is then rendered in place; a production report is
//! counted in [`dropped`] and left out). A job that panics is contained; the thread goes on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// What the worker runs.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Jobs that may wait for the worker.
pub(crate) const CAPACITY: usize = 256;

struct Worker {
    sender: SyncSender<Job>,
    /// Jobs submitted and not finished yet.
    pending: Mutex<usize>,
    idle: Condvar,
}

static WORKER: OnceLock<Option<Worker>> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the worker's own thread: a job waiting for the worker would wait for itself.
    static ON_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn worker() -> Option<&'static Worker> {
    WORKER
        .get_or_init(|| {
            let (sender, receiver) = sync_channel::<Job>(CAPACITY);
            let spawned = std::thread::Builder::new()
                .name("safe-report-worker".to_owned())
                .spawn(move || {
                    // What is logged while delivering is never turned into a report.
                    super::mark_delivery_thread();
                    ON_WORKER.with(|on| on.set(true));
                    for job in receiver {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        if let Some(Some(worker)) = WORKER.get() {
                            let mut pending = worker
                                .pending
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner);
                            *pending = pending.saturating_sub(1);
                            if *pending == 0 {
                                worker.idle.notify_all();
                            }
                        }
                    }
                });
            match spawned {
                Ok(_) => Some(Worker {
                    sender,
                    pending: Mutex::new(0),
                    idle: Condvar::new(),
                }),
                Err(_) => None,
            }
        })
        .as_ref()
}

/// Hands `job` to the worker without waiting; the job comes back when the queue is full or
/// the thread could not be started.
pub(crate) fn submit(job: Job) -> Result<(), Job> {
    let Some(worker) = worker() else {
        return Err(job);
    };
    *worker
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner) += 1;
    match worker.sender.try_send(job) {
        Ok(()) => Ok(()),
        Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
            let mut pending = worker
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *pending = pending.saturating_sub(1);
            if *pending == 0 {
                worker.idle.notify_all();
            }
            Err(job)
        }
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

/// Waits at most `timeout` until every job submitted so far has finished; `true` when
/// they have. Returns at once when the worker was never used, and on the worker itself
/// (a job cannot wait for its own end).
pub(crate) fn wait_idle(timeout: Duration) -> bool {
    let Some(Some(worker)) = WORKER.get() else {
        return true;
    };
    if ON_WORKER.try_with(std::cell::Cell::get).unwrap_or(false) {
        return true;
    }
    let deadline = Instant::now().checked_add(timeout);
    let mut pending = worker
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    while *pending > 0 {
        pending = match deadline {
            None => worker
                .idle
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner),
            Some(deadline) => {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    return false;
                };
                worker
                    .idle
                    .wait_timeout(pending, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn jobs_run_off_the_caller_and_wait_idle_sees_them_finish() {
        let caller = std::thread::current().id();
        let ran = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..10 {
            let ran = Arc::clone(&ran);
            let job: Job = Box::new(move || {
                ran.lock().unwrap().push(std::thread::current().id());
            });
            assert!(submit(job).is_ok());
        }
        assert!(wait_idle(Duration::MAX));
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
        assert!(wait_idle(Duration::MAX));
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_full_queue_hands_the_job_back() {
        // Hold the worker on a job until the queue has filled up behind it.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        assert!(
            submit(Box::new(move || {
                let _ = started.send(());
                let _ = hold.recv();
            }))
            .is_ok()
        );
        has_started.recv().unwrap();
        let mut refused = 0;
        for _ in 0..CAPACITY + 1 {
            if submit(Box::new(|| {})).is_err() {
                refused += 1;
            }
        }
        // Other tests may have jobs in the queue too: at least one is refused.
        assert!(refused >= 1);
        assert!(!wait_idle(Duration::ZERO));
        release.send(()).unwrap();
        assert!(wait_idle(Duration::MAX));
    }
}
