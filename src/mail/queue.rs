//! The mailer: a bounded queue to one background worker that builds and delivers emails,
//! retries with backoff, and sends digests and storm summaries.
//!
//! Callers never wait: [`Mailer::send`], [`Mailer::mail_admins`] and
//! [`AdminNotifier::notify`](super::AdminNotifier::notify) only try to enqueue. When the
//! queue is full the email is dropped and counted; the count goes out in the next summary.
//! The worker owns the backend: a transient failure (server down, timeout, 4xx) holds the
//! email, and every later one in order, for a retry after a backoff that doubles from
//! [`QueueConfig::backoff_initial`] to [`QueueConfig::backoff_max`]; an email still not
//! delivered after [`QueueConfig::retry_for`] is dropped. A permanent failure (5xx) drops
//! the email at once. Every failure is logged through `tracing`; nothing panics out of the
//! worker.
//!
//! At shutdown, [`Mailer::shutdown`] (or dropping a [`ShutdownGuard`], also when a panic
//! unwinds `main`) sends what is queued and every pending digest, waiting at most the given
//! time.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lettre::message::Mailbox;

use super::backend::{BackendError, ConsoleBackend, FileBackend, MailBackend, NullBackend};
use super::config::MailConfig;
use super::email_url::BackendConfig;
use super::flood::{
    Clock, Decision, Digest, Fingerprint, FloodControl, Key, Notice, Summary, SystemClock,
};
use super::message::{Email, Level};
use crate::filter::{FilterContext, ReporterFilter, SafeReporterFilter, TextKind};
use crate::model::Capture;

/// Queue and retry settings.
///
/// ```
/// use std::time::Duration;
/// use safe_report::mail::QueueConfig;
///
/// let queue = QueueConfig::default().capacity(1024).retry_for(Duration::from_secs(600));
/// assert_eq!(queue.capacity, 1024);
/// assert_eq!(QueueConfig::default().backoff_initial, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// Emails waiting for the worker at most (default 256); more are dropped and counted.
    /// Emails held for a retry are bounded by the same number.
    pub capacity: usize,
    /// How long an email is retried before it is dropped (default 1 hour).
    pub retry_for: Duration,
    /// The first retry delay (default 1 s); it doubles after each failed retry.
    pub backoff_initial: Duration,
    /// The longest retry delay (default 5 minutes).
    pub backoff_max: Duration,
    /// How often the worker looks for due digests and summaries (default 1 s).
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

    /// Sets how long emails are retried.
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

/// Who an email is for: the admins (error reports) or the managers (broken links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// [`MailConfig::admins`].
    Admins,
    /// [`MailConfig::managers`].
    Managers,
}

impl Audience {
    pub(crate) fn index(self) -> usize {
        match self {
            Audience::Admins => 0,
            Audience::Managers => 1,
        }
    }

    /// The recipients in `config`.
    pub fn recipients(self, config: &MailConfig) -> &[Mailbox] {
        match self {
            Audience::Admins => &config.admins,
            Audience::Managers => &config.managers,
        }
    }
}

/// What happened to a report or email handed to the mailer. None of these waits.
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
    /// Not reportable (a broken link an ignore rule matched, or debug mode).
    Ignored,
    /// The mailer was shut down.
    Closed,
}

/// Counters since the mailer started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailStats {
    /// Jobs queued.
    pub queued: u64,
    /// Emails delivered by the backend.
    pub sent: u64,
    /// Emails given up on (permanent failure, retried too long, or held too many).
    pub failed: u64,
    /// Failed attempts that were retried later.
    pub retries: u64,
    /// Reports dropped because the queue was full.
    pub queue_full: u64,
    /// Repeats counted into digests.
    pub repeats: u64,
    /// New fingerprints beyond the cap, counted into summaries.
    pub storm: u64,
    /// Fingerprints tracked now.
    pub tracked_fingerprints: usize,
    /// Emails waiting for a retry now.
    pub awaiting_retry: u64,
}

/// An email built by the worker, and the subject (without prefix) its digests repeat.
pub(crate) struct Composed {
    pub(crate) email: Email,
    pub(crate) title: String,
}

type Compose = Box<dyn FnOnce(&MailConfig) -> Option<Composed> + Send>;

enum Job {
    Compose { key: Option<Key>, compose: Compose },
    Flush { all: bool, ack: mpsc::Sender<bool> },
    Stop,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
    queue_full: AtomicU64,
    overflow_unreported: AtomicU64,
    repeats: AtomicU64,
    storm: AtomicU64,
    awaiting_retry: AtomicU64,
}

/// What the worker shares with the handles.
struct State {
    config: MailConfig,
    flood: Mutex<FloodControl>,
    clock: Arc<dyn Clock>,
    counters: Counters,
}

impl State {
    fn flood(&self) -> MutexGuard<'_, FloodControl> {
        self.flood.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Handle {
    sender: SyncSender<Job>,
    state: Arc<State>,
    closed: AtomicBool,
}

/// The queue to the background mail worker (Django's `mail_admins`/`mail_managers`,
/// never blocking). Cloning is cheap; clones share the queue and the worker, which stops
/// when the last clone is dropped or [`shutdown`](Self::shutdown) is called.
///
/// ```
/// use std::time::Duration;
/// use safe_report::mail::{MailConfig, Mailer, MemoryBackend, Outcome};
///
/// let outbox = MemoryBackend::new();
/// let config = MailConfig::builder().admins(["ops@example.com"]).build()?;
/// let mailer = Mailer::builder(config).backend(outbox.clone()).build()?;
/// assert_eq!(mailer.mail_admins("Disk almost full", "93% used on /var", None), Outcome::Queued);
/// assert_eq!(mailer.mail_managers("hello", "nobody to tell", None), Outcome::NoRecipients);
/// assert!(mailer.flush(Duration::from_secs(5)));
/// assert_eq!(outbox.messages()[0].subject(), "[safe-report] Disk almost full");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Mailer {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("config", &self.handle.state.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Mailer`]: the backend defaults to the configuration's, the clock to the
/// system clock.
#[must_use]
pub struct MailerBuilder {
    config: MailConfig,
    backend: Option<Box<dyn MailBackend>>,
    clock: Arc<dyn Clock>,
}

impl MailerBuilder {
    /// Uses `backend` instead of the configuration's.
    pub fn backend(mut self, backend: impl MailBackend) -> Self {
        self.backend = Some(Box::new(backend));
        self
    }

    /// Uses `clock` for flood control (tests use a [`ManualClock`](super::ManualClock)).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Starts the worker thread. Fails when the configured backend cannot be made (the
    /// file backend's directory, an SMTP root certificate, SMTP without the `smtp` feature).
    pub fn build(self) -> Result<Mailer, BackendError> {
        let backend = match self.backend {
            Some(backend) => backend,
            None => backend_for(&self.config.backend)?,
        };
        let (sender, receiver) = mpsc::sync_channel(self.config.queue.capacity);
        let state = Arc::new(State {
            flood: Mutex::new(FloodControl::new(self.config.flood)),
            config: self.config,
            clock: self.clock,
            counters: Counters::default(),
        });
        let worker = Worker::new(backend, receiver, Arc::clone(&state));
        // Log through the subscriber of the thread that built the mailer, if it has one;
        // otherwise through whatever global subscriber exists when something is logged.
        let dispatch = tracing::dispatcher::get_default(|dispatch| {
            (!dispatch.is::<tracing::subscriber::NoSubscriber>()).then(|| dispatch.clone())
        });
        let spawned = std::thread::Builder::new()
            .name("safe-report-mail".to_owned())
            .spawn(move || {
                // What is logged here (a delivery given up, what the backend's libraries
                // say) is never turned into a report.
                crate::runtime::mark_delivery_thread();
                match dispatch {
                    Some(dispatch) => tracing::dispatcher::with_default(&dispatch, || worker.run()),
                    None => worker.run(),
                }
            });
        if let Err(error) = spawned {
            return Err(BackendError::permanent(format!(
                "the mail worker thread could not be started: {error}"
            )));
        }
        Ok(Mailer {
            handle: Arc::new(Handle {
                sender,
                state,
                closed: AtomicBool::new(false),
            }),
        })
    }
}

fn backend_for(config: &BackendConfig) -> Result<Box<dyn MailBackend>, BackendError> {
    Ok(match config {
        #[cfg(feature = "smtp")]
        BackendConfig::Smtp(smtp) => Box::new(super::backend::SmtpBackend::new(smtp.clone())?),
        #[cfg(not(feature = "smtp"))]
        BackendConfig::Smtp(smtp) => {
            return Err(BackendError::permanent(format!(
                "{smtp}: SMTP delivery needs the `smtp` feature of safe-report"
            )));
        }
        BackendConfig::Console => Box::new(ConsoleBackend::new()),
        BackendConfig::File(dir) => Box::new(FileBackend::new(dir)?),
        BackendConfig::Null => Box::new(NullBackend),
    })
}

impl Mailer {
    /// A mailer using the configuration's backend.
    pub fn new(config: MailConfig) -> Result<Self, BackendError> {
        Self::builder(config).build()
    }

    /// A builder, to choose the backend or the clock.
    pub fn builder(config: MailConfig) -> MailerBuilder {
        MailerBuilder {
            config,
            backend: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MailConfig {
        &self.handle.state.config
    }

    /// Queues an email to the admins (Django's `mail_admins`): the subject gets the prefix;
    /// with no admins nothing is queued. No flood control: this is an explicit message.
    pub fn mail_admins(&self, subject: &str, text: &str, html: Option<&str>) -> Outcome {
        self.mail(Audience::Admins, subject, text, html)
    }

    /// Queues an email to the managers (Django's `mail_managers`).
    pub fn mail_managers(&self, subject: &str, text: &str, html: Option<&str>) -> Outcome {
        self.mail(Audience::Managers, subject, text, html)
    }

    fn mail(&self, audience: Audience, subject: &str, text: &str, html: Option<&str>) -> Outcome {
        let subject = format!("{}{subject}", self.config().subject_prefix);
        let (text, html) = (text.to_owned(), html.map(str::to_owned));
        self.submit(
            Some(audience),
            None,
            Box::new(move |config| {
                let mut email = Email::new(
                    config.server_email.clone(),
                    audience.recipients(config).to_vec(),
                    &subject,
                    text,
                );
                if let Some(html) = html {
                    email = email.with_html(html);
                }
                Some(Composed {
                    email,
                    title: subject,
                })
            }),
        )
    }

    /// Queues a ready email, as it is.
    pub fn send(&self, email: Email) -> Outcome {
        if email.to().is_empty() {
            return Outcome::NoRecipients;
        }
        self.submit(
            None,
            None,
            Box::new(move |_| {
                Some(Composed {
                    title: email.subject().to_owned(),
                    email,
                })
            }),
        )
    }

    /// Flood control, then the queue. With an `audience` that has nobody in it, nothing is
    /// queued. `flood` is the fingerprint, level and label (an error type) of a report;
    /// `compose` builds the email on the worker.
    pub(crate) fn submit(
        &self,
        audience: Option<Audience>,
        flood: Option<(Fingerprint, Level, &str)>,
        compose: Compose,
    ) -> Outcome {
        let state = &self.handle.state;
        if self.handle.closed.load(Ordering::Relaxed) {
            return Outcome::Closed;
        }
        if audience.is_some_and(|audience| audience.recipients(&state.config).is_empty()) {
            return Outcome::NoRecipients;
        }
        let key = match (audience, flood) {
            (Some(audience), Some((fingerprint, level, label))) => {
                let key = Key {
                    audience,
                    fingerprint,
                };
                let now = state.clock.now();
                match state.flood().occurrence(key, level, label, now) {
                    Decision::Send => {}
                    Decision::Repeat => {
                        state.counters.repeats.fetch_add(1, Ordering::Relaxed);
                        return Outcome::Repeat;
                    }
                    Decision::Storm => {
                        state.counters.storm.fetch_add(1, Ordering::Relaxed);
                        return Outcome::Storm;
                    }
                }
                Some(key)
            }
            _ => None,
        };
        match self.handle.sender.try_send(Job::Compose { key, compose }) {
            Ok(()) => {
                state.counters.queued.fetch_add(1, Ordering::Relaxed);
                Outcome::Queued
            }
            Err(TrySendError::Full(_)) => {
                state.counters.queue_full.fetch_add(1, Ordering::Relaxed);
                if state
                    .counters
                    .overflow_unreported
                    .fetch_add(1, Ordering::Relaxed)
                    == 0
                {
                    tracing::warn!(
                        capacity = state.config.queue.capacity,
                        "mail queue full: reports are dropped and counted until it drains"
                    );
                }
                Outcome::QueueFull
            }
            Err(TrySendError::Disconnected(_)) => Outcome::Closed,
        }
    }

    /// Waits at most `timeout` for the worker to deliver everything queued so far, retry
    /// what is held once more, and send the digests that are due. Returns `true` when
    /// nothing is left undelivered.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.request_flush(false, timeout)
    }

    /// As [`flush`](Self::flush), and also sends the pending digests and summaries (their
    /// windows cut short), still accepting emails: for a process about to abort.
    pub(crate) fn flush_all(&self, timeout: Duration) -> bool {
        self.request_flush(true, timeout)
    }

    /// Stops accepting emails, then waits at most `timeout` for the worker to deliver what
    /// is queued and every pending digest and summary (their windows cut short). Returns
    /// `true` when everything was delivered.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.handle.closed.store(true, Ordering::Relaxed);
        let delivered = self.request_flush(true, timeout);
        let _ = self.handle.sender.try_send(Job::Stop);
        delivered
    }

    /// A guard that calls [`shutdown`](Self::shutdown) with `timeout` when dropped. Keep it
    /// in `main`: it also runs when a panic unwinds `main`, so reports of the panic are
    /// sent before the process exits (not with `panic = "abort"`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use safe_report::mail::{MailConfig, Mailer, NullBackend};
    ///
    /// let mailer = Mailer::builder(MailConfig::default()).backend(NullBackend).build()?;
    /// let _guard = mailer.shutdown_guard(Duration::from_secs(5));
    /// // … run the service …
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn shutdown_guard(&self, timeout: Duration) -> ShutdownGuard {
        ShutdownGuard {
            mailer: self.clone(),
            timeout,
        }
    }

    fn request_flush(&self, all: bool, timeout: Duration) -> bool {
        // `None`: no deadline (`Duration::MAX` and the like).
        let deadline = Instant::now().checked_add(timeout);
        let (ack, done) = mpsc::channel();
        let mut job = Job::Flush { all, ack };
        // The queue may be full: retry enqueueing until the deadline (this is the one call
        // that waits, and only as long as it is told).
        loop {
            match self.handle.sender.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Full(back))
                    if deadline.is_none_or(|deadline| Instant::now() < deadline) =>
                {
                    job = back;
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

    /// Counters since the mailer started.
    pub fn stats(&self) -> MailStats {
        let state = &self.handle.state;
        let c = &state.counters;
        MailStats {
            queued: c.queued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            queue_full: c.queue_full.load(Ordering::Relaxed),
            repeats: c.repeats.load(Ordering::Relaxed),
            storm: c.storm.load(Ordering::Relaxed),
            tracked_fingerprints: state.flood().tracked(),
            awaiting_retry: c.awaiting_retry.load(Ordering::Relaxed),
        }
    }
}

/// Shuts the mailer down, waiting at most its timeout, when dropped.
#[must_use = "the mailer is shut down when the guard is dropped"]
#[derive(Debug)]
pub struct ShutdownGuard {
    mailer: Mailer,
    timeout: Duration,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        if !self.mailer.shutdown(self.timeout) {
            tracing::warn!(
                timeout_ms = self.timeout.as_millis() as u64,
                "mail shutdown: not everything was delivered in time"
            );
        }
    }
}

/// An email held for a retry.
struct Held {
    email: Email,
    since: Instant,
    attempts: u32,
}

struct Worker {
    backend: Box<dyn MailBackend>,
    receiver: Receiver<Job>,
    state: Arc<State>,
    held: VecDeque<Held>,
    retry_at: Option<Instant>,
    backoff: Duration,
    labels: SafeReporterFilter,
}

/// `now + wait`, or a point about a century away when that overflows (a setting such as
/// `Duration::MAX`): `Instant + Duration` panics on overflow, and the worker would stop
/// (with `panic = "abort"`, the process).
fn later(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

impl Worker {
    fn new(backend: Box<dyn MailBackend>, receiver: Receiver<Job>, state: Arc<State>) -> Self {
        Self {
            backoff: state.config.queue.backoff_initial,
            backend,
            receiver,
            state,
            held: VecDeque::new(),
            retry_at: None,
            labels: SafeReporterFilter::default(),
        }
    }

    fn run(mut self) {
        let tick = self.state.config.queue.tick;
        let mut next_tick = later(Instant::now(), tick);
        loop {
            let wake = match self.retry_at {
                Some(retry_at) => retry_at.min(next_tick),
                None => next_tick,
            };
            match self
                .receiver
                .recv_timeout(wake.saturating_duration_since(Instant::now()))
            {
                Ok(Job::Compose { key, compose }) => self.compose(key, compose),
                Ok(Job::Flush { all, ack }) => {
                    self.tick(all);
                    self.retry();
                    let _ = ack.send(self.held.is_empty());
                }
                Ok(Job::Stop) => return,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.tick(true);
                    self.retry();
                    return;
                }
            }
            let now = Instant::now();
            if now >= next_tick {
                self.tick(false);
                next_tick = later(now, tick);
            }
            if self.retry_at.is_some_and(|at| now >= at) {
                self.retry();
            }
        }
    }

    fn compose(&mut self, key: Option<Key>, compose: Compose) {
        let config = &self.state.config;
        match catch_unwind(AssertUnwindSafe(|| compose(config))) {
            Ok(Some(composed)) => {
                if let Some(key) = key {
                    self.state.flood().set_title(key, &composed.title);
                }
                self.deliver(composed.email);
            }
            Ok(None) => {}
            Err(_) => {
                self.state.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!("building a report email panicked; that email was dropped");
            }
        }
    }

    /// Sends the digests and summaries that are due (all of them with `all`).
    fn tick(&mut self, all: bool) {
        let now = self.state.clock.now();
        let dropped = self
            .state
            .counters
            .overflow_unreported
            .swap(0, Ordering::Relaxed);
        let notices = {
            let mut flood = self.state.flood();
            flood.dropped(dropped, now);
            flood.due(now, all)
        };
        for notice in notices {
            if let Some(email) = self.notice_email(notice) {
                self.deliver(email);
            }
        }
    }

    fn notice_email(&self, notice: Notice) -> Option<Email> {
        let config = &self.state.config;
        let (audience, subject, text) = match notice {
            Notice::Digest(digest) => digest_email(config, &digest),
            Notice::Summary(summary) => self.summary_email(config, summary),
        };
        let recipients = audience.recipients(config);
        (!recipients.is_empty()).then(|| {
            Email::new(
                config.server_email.clone(),
                recipients.to_vec(),
                subject,
                text,
            )
        })
    }

    fn summary_email(&self, config: &MailConfig, summary: Summary) -> (Audience, String, String) {
        let empty = Capture::new();
        let mut cx = FilterContext::new(&empty, &self.labels);
        let mut label = |text: &str| {
            self.labels
                .safe_text(text, TextKind::Free, &mut cx)
                .to_string()
        };
        let subject = if summary.suppressed > 0 {
            format!(
                "{}storm: {} reports suppressed",
                config.subject_prefix, summary.suppressed
            )
        } else {
            format!(
                "{}WARNING: {} reports dropped (mail queue full)",
                config.subject_prefix, summary.dropped
            )
        };
        let mut text = String::new();
        if summary.suppressed > 0 {
            text.push_str(&format!(
                "storm: {} reports suppressed since {}: more than {} reports a minute.\n\nSuppressed, by kind:\n",
                summary.suppressed,
                summary.since.strftime("%Y-%m-%d %H:%M:%S UTC"),
                config.flood.max_per_minute
            ));
            for (kind, count) in &summary.kinds {
                text.push_str(&format!("{count:>8}  {}\n", label(kind)));
            }
            if summary.other_kinds > 0 {
                text.push_str(&format!("{:>8}  (other kinds)\n", summary.other_kinds));
            }
        }
        if summary.dropped > 0 {
            text.push_str(&format!(
                "\n{} reports were dropped because the mail queue (capacity {}) was full.\n",
                summary.dropped, config.queue.capacity
            ));
        }
        (summary.audience, subject, text)
    }

    fn deliver(&mut self, email: Email) {
        if !self.held.is_empty() {
            // The backend is failing: keep the order, wait for the retry.
            self.hold(email, 0);
            return;
        }
        match self.attempt(&email) {
            Ok(()) => {}
            Err(error) if error.is_transient() => {
                self.state.counters.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, retry_in_ms = self.backoff.as_millis() as u64, subject = email.subject(), "mail delivery failed; will retry");
                self.hold(email, 1);
                self.retry_at = Some(later(Instant::now(), self.backoff));
            }
            Err(error) => self.give_up(&email, &error.to_string()),
        }
    }

    fn hold(&mut self, email: Email, attempts: u32) {
        if self.held.len() >= self.state.config.queue.capacity
            && let Some(oldest) = self.held.pop_front()
        {
            self.give_up(&oldest.email, "too many emails waiting for a retry");
        }
        self.held.push_back(Held {
            email,
            since: Instant::now(),
            attempts,
        });
        self.state
            .counters
            .awaiting_retry
            .store(self.held.len() as u64, Ordering::Relaxed);
    }

    /// Retries the held emails in order until one fails again.
    fn retry(&mut self) {
        let retry_for = self.state.config.queue.retry_for;
        while let Some(front) = self.held.front_mut() {
            if front.since.elapsed() > retry_for {
                let held = self.held.pop_front().expect("front exists");
                self.give_up(
                    &held.email,
                    &format!("not delivered after {} attempts", held.attempts),
                );
                continue;
            }
            front.attempts += 1;
            let email = front.email.clone();
            match self.attempt(&email) {
                Ok(()) => {
                    self.held.pop_front();
                    self.backoff = self.state.config.queue.backoff_initial;
                }
                Err(error) if error.is_transient() => {
                    self.state.counters.retries.fetch_add(1, Ordering::Relaxed);
                    let queue = &self.state.config.queue;
                    self.backoff = self.backoff.saturating_mul(2).min(queue.backoff_max);
                    tracing::warn!(%error, retry_in_ms = self.backoff.as_millis() as u64, waiting = self.held.len(), "mail delivery failed again; will retry");
                    self.retry_at = Some(later(Instant::now(), self.backoff));
                    break;
                }
                Err(error) => {
                    self.held.pop_front();
                    self.give_up(&email, &error.to_string());
                }
            }
        }
        if self.held.is_empty() {
            self.retry_at = None;
            self.backoff = self.state.config.queue.backoff_initial;
        }
        self.state
            .counters
            .awaiting_retry
            .store(self.held.len() as u64, Ordering::Relaxed);
    }

    fn attempt(&mut self, email: &Email) -> Result<(), BackendError> {
        let backend = &mut self.backend;
        let result = catch_unwind(AssertUnwindSafe(|| backend.send(email)))
            .unwrap_or_else(|_| Err(BackendError::permanent("the mail backend panicked")));
        if result.is_ok() {
            self.state.counters.sent.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(subject = email.subject(), "mail delivered");
        }
        result
    }

    fn give_up(&self, email: &Email, reason: &str) {
        self.state.counters.failed.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            reason,
            subject = email.subject(),
            "mail dropped: it could not be delivered"
        );
    }
}

fn digest_email(config: &MailConfig, digest: &Digest) -> (Audience, String, String) {
    let what = match &digest.title {
        Some(title) => format!("\"{title}\""),
        None => format!("an error with fingerprint {}", digest.fingerprint),
    };
    let occurrences = if digest.count == 1 {
        "occurrence"
    } else {
        "occurrences"
    };
    let subject = match &digest.title {
        Some(title) => format!(
            "{}{title} ({} more {occurrences})",
            config.subject_prefix, digest.count
        ),
        None => format!(
            "{}{}: {} more {occurrences}",
            config.subject_prefix, digest.level, digest.count
        ),
    };
    let time = |t: jiff::Timestamp| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string();
    let text = format!(
        "{count} more {occurrences} of {what} since {since}.\n\n\
         First: {first}\n\
         Last:  {last}\n\
         Fingerprint: {fingerprint}\n\n\
         The report was mailed at {since}. Repeats are counted, not mailed, for {window} s \
         after each email.\n",
        count = digest.count,
        since = time(digest.since),
        first = time(digest.first),
        last = time(digest.last),
        fingerprint = digest.fingerprint,
        window = config.flood.window.as_secs(),
    );
    (digest.audience, subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_too_long_for_an_instant_is_a_point_far_away_not_a_panic() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > later(now, Duration::from_secs(86_400)));
        assert_eq!(later(now, Duration::ZERO), now);
    }
}
