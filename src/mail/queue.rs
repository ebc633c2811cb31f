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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lettre::message::Mailbox;

use super::backend::{BackendError, ConsoleBackend, FileBackend, MailBackend, NullBackend};
use super::config::MailConfig;
use super::email_url::BackendConfig;
use super::flood::{
    Clock, Decision, Digest, Fingerprint, FloodControl, Key, Notice, Summary, SystemClock,
};
use super::message::Email;
use crate::filter::{FilterContext, ReporterFilter, SafeReporterFilter, TextKind};
use crate::model::Capture;
use crate::model::Level;
use crate::sinks::queue::{Attempt, Counters as QueueCounters, Courier, Outbox, Refused};
pub use crate::sinks::{Outcome, QueueConfig};

/// Who an email is for: the admins (error reports) or the managers (broken links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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

/// An email to compose on the worker, with its flood-control key.
struct Job {
    key: Option<Key>,
    compose: Compose,
}

/// The mail counters beyond the queue's own.
#[derive(Default)]
struct Counters {
    overflow_unreported: AtomicU64,
    repeats: AtomicU64,
    storm: AtomicU64,
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
    outbox: Outbox<Job>,
    state: Arc<State>,
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
        let state = Arc::new(State {
            flood: Mutex::new(FloodControl::new(self.config.flood)),
            config: self.config,
            clock: self.clock,
            counters: Counters::default(),
        });
        let courier = MailCourier {
            backend,
            state: Arc::clone(&state),
            labels: SafeReporterFilter::default(),
        };
        let queue = state.config.queue;
        let outbox =
            Outbox::start("safe-report-mail", "mail", queue, courier).map_err(|error| {
                BackendError::permanent(format!(
                    "the mail worker thread could not be started: {error}"
                ))
            })?;
        Ok(Mailer {
            handle: Arc::new(Handle { outbox, state }),
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
        if self.handle.outbox.is_closed() {
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
        match self.handle.outbox.submit(Job { key, compose }) {
            Ok(()) => Outcome::Queued,
            Err(Refused::Full) => {
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
            Err(Refused::Closed) => Outcome::Closed,
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
        self.handle.outbox.shutdown(timeout)
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
        // Reports still being built on the report worker (a web request's, say) are
        // submitted first.
        if !crate::runtime::background::flush(timeout) {
            return false;
        }
        self.handle.outbox.flush(all, timeout)
    }

    /// Counters since the mailer started.
    pub fn stats(&self) -> MailStats {
        let state = &self.handle.state;
        let c = &state.counters;
        let q = self.handle.outbox.counters();
        MailStats {
            queued: QueueCounters::get(&q.queued),
            sent: QueueCounters::get(&q.delivered),
            failed: QueueCounters::get(&q.failed),
            retries: QueueCounters::get(&q.retries),
            queue_full: QueueCounters::get(&q.queue_full),
            repeats: c.repeats.load(Ordering::Relaxed),
            storm: c.storm.load(Ordering::Relaxed),
            tracked_fingerprints: state.flood().tracked(),
            awaiting_retry: QueueCounters::get(&q.awaiting_retry),
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

/// The mail worker's part of the queue: composes emails, sends digests and summaries when
/// they are due, and delivers through the backend.
struct MailCourier {
    backend: Box<dyn MailBackend>,
    state: Arc<State>,
    labels: SafeReporterFilter,
}

impl Courier for MailCourier {
    type Job = Job;
    type Item = Email;

    fn prepare(&mut self, job: Job) -> Result<Option<Email>, String> {
        let config = &self.state.config;
        let Some(composed) = (job.compose)(config) else {
            return Ok(None);
        };
        if let Some(key) = job.key {
            self.state.flood().set_title(key, &composed.title);
        }
        Ok(Some(composed.email))
    }

    fn attempt(&mut self, email: &Email) -> Attempt {
        match self.backend.send(email) {
            Ok(()) => Attempt::Delivered { pause: None },
            Err(error) if error.is_transient() => Attempt::Retry {
                reason: error.to_string(),
                after: None,
            },
            Err(error) => Attempt::Reject {
                reason: error.to_string(),
            },
        }
    }

    /// The digests and summaries that are due (all of them with `all`).
    fn due(&mut self, all: bool) -> Vec<Email> {
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
        notices
            .into_iter()
            .filter_map(|notice| self.notice_email(notice))
            .collect()
    }

    fn tick(&self) -> Option<Duration> {
        Some(self.state.config.queue.tick)
    }

    fn describe(email: &Email) -> String {
        email.subject().to_owned()
    }
}

impl MailCourier {
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
