//! Delivery to servers: a [`Sink`] sends filtered reports to a Sentry-compatible server
//! (feature `sentry`, `Sink::sentry`) or a webhook (feature `webhook`, `Sink::webhook`),
//! through one bounded queue and worker design that the mailer shares.
//!
//! Callers never wait: [`Sink::capture`] and [`Sink::send`] only try to enqueue. The
//! worker builds the report through the filter (a [`Capture`] never leaves it any other
//! way), encodes it, and POSTs it; connection failures, timeouts and 5xx answers are
//! retried with a doubling backoff, a 429 waits as long as the server asks (counted in
//! [`SinkStats::rate_limited`]), and other 4xx answers drop the report and count it. See
//! [`QueueConfig`] for the bounds, and `docs/sentry.md` for the Sentry mapping.
//!
//! ```no_run
//! # #[cfg(feature = "sentry")] {
//! use std::time::Duration;
//! use safe_report::sinks::{Origin, SentryConfig, Sink};
//! use safe_report::{Capture, ExceptionReporter};
//!
//! let config = SentryConfig::new("https://public@sentry.example.com/42")?;
//! let sentry = Sink::sentry(config)?;
//! let _flush = sentry.shutdown_guard(Duration::from_secs(5));
//! let capture = Capture::error("PaymentError", "card declined");
//! sentry.capture(capture, &ExceptionReporter::default(), Origin::Error);
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod queue;
#[cfg(feature = "sentry")]
pub mod sentry;
#[cfg(any(feature = "sentry", feature = "webhook"))]
mod spool;
#[cfg(any(feature = "sentry", feature = "webhook"))]
mod transport;
#[cfg(feature = "webhook")]
mod webhook;

use std::sync::Arc;
use std::time::Duration;

pub use queue::{Outcome, QueueConfig};
#[cfg(feature = "sentry")]
pub use sentry::{SentryConfig, SentryConfigError};
#[cfg(feature = "webhook")]
pub use webhook::{WebhookConfig, WebhookConfigError};

use crate::model::Capture;
use crate::model::Level;
use crate::report::{Controls, ExceptionReporter, Report};
use queue::{Counters, Outbox, Refused};

/// What produced a report: the Sentry event's `mechanism` and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// A panic (not handled by the application: level `fatal`).
    Panic,
    /// An error value the application returned or handled (level `error`).
    Error,
    /// A log event at this level (the `tracing` layer's ERROR events).
    Log(Level),
}

impl Origin {
    /// The Sentry level: `fatal`, `error`, `warning`, `info` or `debug`.
    pub fn level(self) -> &'static str {
        match self {
            Origin::Panic | Origin::Log(Level::Critical) => "fatal",
            Origin::Error | Origin::Log(Level::Error) => "error",
            Origin::Log(Level::Warning) => "warning",
            Origin::Log(Level::Info) => "info",
            Origin::Log(Level::Debug) => "debug",
        }
    }
}

/// Counters since a sink started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkStats {
    /// Reports queued.
    pub queued: u64,
    /// Reports the server accepted.
    pub delivered: u64,
    /// Reports given up on: rejected, retried too long, held too many, or failed to build.
    pub failed: u64,
    /// Of `failed`, those the server refused for good (a 4xx other than 408 and 429).
    pub rejected: u64,
    /// Failed attempts that were retried later.
    pub retries: u64,
    /// Times a report was held back because the server asked to wait (429, rate limits).
    pub rate_limited: u64,
    /// Reports dropped because the queue was full.
    pub queue_full: u64,
    /// Reports waiting for a retry now.
    pub awaiting_retry: u64,
}

/// A report to send: built already, or a capture the worker builds through the filter.
#[cfg_attr(not(any(feature = "sentry", feature = "webhook")), allow(dead_code))]
pub(crate) enum Source {
    Report(Box<Report>),
    Capture(Box<Capture>, ExceptionReporter, Controls),
}

#[cfg_attr(not(any(feature = "sentry", feature = "webhook")), allow(dead_code))]
pub(crate) struct Job {
    pub(crate) source: Source,
    pub(crate) origin: Origin,
}

impl Job {
    /// The report: a capture goes through the filter here, on the worker.
    #[cfg_attr(not(any(feature = "sentry", feature = "webhook")), allow(dead_code))]
    /// `None` when a `before_send` step dropped it.
    pub(crate) fn report(self) -> Option<(Report, Origin)> {
        let report = match self.source {
            Source::Report(report) => *report,
            Source::Capture(capture, reporter, controls) => {
                let report = reporter.report(&capture);
                controls.apply(report, reporter.filter())?
            }
        };
        Some((report, self.origin))
    }
}

struct Inner {
    outbox: Outbox<Job>,
    kind: &'static str,
}

/// A destination for filtered reports (a Sentry-compatible server, a webhook): a bounded
/// queue to one background worker. Cloning is cheap; clones share the queue and the
/// worker, which stops when the last clone is dropped (after delivering what is queued) or
/// [`shutdown`](Self::shutdown) is called.
#[derive(Clone)]
pub struct Sink {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink")
            .field("kind", &self.inner.kind)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Why a sink could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum SinkError {
    /// The spool directory could not be opened or read.
    Spool {
        /// Why.
        source: std::io::Error,
    },
    /// The worker thread could not be started.
    Thread {
        /// The sink's kind.
        kind: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkError::Spool { .. } => f.write_str("the spool directory could not be opened"),
            SinkError::Thread { kind, .. } => {
                write!(f, "the {kind} worker thread could not be started")
            }
        }
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SinkError::Spool { source } | SinkError::Thread { source, .. } => Some(source),
        }
    }
}

impl Sink {
    /// Starts the worker of an HTTP sink sending to `endpoint` as `delivery` says.
    #[cfg(any(feature = "sentry", feature = "webhook"))]
    fn start_http<E: Endpoint + Send + 'static>(
        kind: &'static str,
        thread: &str,
        delivery: &DeliveryOptions,
        endpoint: E,
    ) -> Result<Self, SinkError> {
        let courier = HttpCourier::new(endpoint, delivery.timeout, delivery.spool.as_ref())?;
        Sink::start(kind, thread, delivery.queue, courier)
    }

    #[cfg_attr(not(any(feature = "sentry", feature = "webhook")), allow(dead_code))]
    fn start<C>(
        kind: &'static str,
        thread: &str,
        queue: QueueConfig,
        courier: C,
    ) -> Result<Self, SinkError>
    where
        C: queue::Courier<Job = Job>,
    {
        let outbox = Outbox::start(thread, kind, queue, courier)
            .map_err(|source| SinkError::Thread { kind, source })?;
        Ok(Self {
            inner: Arc::new(Inner { outbox, kind }),
        })
    }

    /// Queues `capture`; the worker builds its report through `reporter` (its filter) and
    /// sends it. Never waits: the caller pays a move into the queue.
    pub fn capture(
        &self,
        capture: Capture,
        reporter: &ExceptionReporter,
        origin: Origin,
    ) -> Outcome {
        self.capture_controlled(capture, reporter, Controls::default(), origin)
    }

    /// As [`capture`](Self::capture), with `controls`' grouping and `before_send` applied
    /// on the worker (the caller has applied their ignore rules and sampling).
    pub(crate) fn capture_controlled(
        &self,
        capture: Capture,
        reporter: &ExceptionReporter,
        controls: Controls,
        origin: Origin,
    ) -> Outcome {
        self.submit(Job {
            source: Source::Capture(Box::new(capture), reporter.clone(), controls),
            origin,
        })
    }

    /// Queues a copy of a report already built (the panic hook's reporting thread has one).
    pub fn send(&self, report: &Report, origin: Origin) -> Outcome {
        self.submit(Job {
            source: Source::Report(Box::new(report.clone())),
            origin,
        })
    }

    fn submit(&self, job: Job) -> Outcome {
        match self.inner.outbox.submit(job) {
            Ok(()) => Outcome::Queued,
            Err(Refused::Full) => {
                if Counters::get(&self.inner.outbox.counters().queue_full) == 1 {
                    tracing::warn!(
                        "{} queue full: reports are dropped and counted until it drains",
                        self.inner.kind
                    );
                }
                Outcome::QueueFull
            }
            Err(Refused::Closed) => Outcome::Closed,
        }
    }

    /// Waits at most `timeout` for the worker to send what is queued and retry what is held
    /// once more (not while the server asked to wait). `true` when nothing is left.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.inner.outbox.flush(true, timeout)
    }

    /// Stops accepting reports, then flushes, waiting at most `timeout`. `true` when
    /// everything was delivered.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.inner.outbox.shutdown(timeout)
    }

    /// A guard that calls [`shutdown`](Self::shutdown) with `timeout` when dropped (also
    /// when a panic unwinds `main`; with `panic = "abort"`, the panic hook flushes the sinks
    /// it reports to).
    pub fn shutdown_guard(&self, timeout: Duration) -> SinkGuard {
        SinkGuard {
            sink: self.clone(),
            timeout,
        }
    }

    /// Counters since the sink started.
    pub fn stats(&self) -> SinkStats {
        let c = self.inner.outbox.counters();
        SinkStats {
            queued: Counters::get(&c.queued),
            delivered: Counters::get(&c.delivered),
            failed: Counters::get(&c.failed),
            rejected: Counters::get(&c.rejected),
            retries: Counters::get(&c.retries),
            rate_limited: Counters::get(&c.rate_limited),
            queue_full: Counters::get(&c.queue_full),
            awaiting_retry: Counters::get(&c.awaiting_retry),
        }
    }
}

/// Shuts a sink down, waiting at most its timeout, when dropped.
#[must_use = "the sink is shut down when the guard is dropped"]
#[derive(Debug)]
pub struct SinkGuard {
    sink: Sink,
    timeout: Duration,
}

impl Drop for SinkGuard {
    fn drop(&mut self) {
        if !self.sink.shutdown(self.timeout) {
            tracing::warn!(
                timeout_ms = self.timeout.as_millis() as u64,
                "sink shutdown: not everything was delivered in time"
            );
        }
    }
}

/// One HTTP destination: where requests go, and how a report is encoded.
#[cfg(any(feature = "sentry", feature = "webhook"))]
pub(crate) trait Endpoint: Send + 'static {
    /// The body that carries `report`, and a name for log lines (an event id).
    fn encode(&mut self, report: &Report, origin: Origin) -> (Vec<u8>, String);
    /// The URL and the headers of every request.
    fn target(&self) -> (&str, &[(String, String)]);
    /// The kind of item in `X-Sentry-Rate-Limits`.
    fn category(&self) -> &'static str {
        "error"
    }
}

/// What an HTTP sink holds for a retry: the encoded body (from the filtered report only),
/// and its spool file when it has one.
#[cfg(any(feature = "sentry", feature = "webhook"))]
pub(crate) struct Encoded {
    body: Vec<u8>,
    name: String,
    spooled: Option<std::path::PathBuf>,
}

/// Where an HTTP sink spools what waits for a retry (see [`spool`]).
#[cfg(any(feature = "sentry", feature = "webhook"))]
#[derive(Debug, Clone)]
pub(crate) struct SpoolConfig {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) max_bytes: u64,
}

/// How an HTTP sink delivers: its queue and retries, how long one request may take, and an
/// optional spool on disk. `SentryConfig` and `WebhookConfig` each hold one, and their
/// setters of the same names (`queue`, `timeout`, `spool`) set it; `delivery` sets all.
///
/// ```
/// use std::time::Duration;
/// use safe_report::mail::QueueConfig;
/// use safe_report::sinks::DeliveryOptions;
///
/// let delivery = DeliveryOptions::new()
///     .queue(QueueConfig::default().capacity(1024))
///     .timeout(Duration::from_secs(10))
///     .spool("/var/spool/shop-reports", 64 * 1024 * 1024);
/// assert_eq!(delivery.request_timeout(), Duration::from_secs(10));
/// assert_eq!(delivery.queue_config().capacity, 1024);
/// # #[cfg(feature = "sentry")]
/// # let _ = safe_report::sinks::SentryConfig::new("https://k@sentry.example.com/1")?
/// #     .delivery(delivery.clone());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(any(feature = "sentry", feature = "webhook"))]
#[derive(Debug, Clone)]
#[must_use = "DeliveryOptions do nothing until given to a sink's configuration"]
#[non_exhaustive]
pub struct DeliveryOptions {
    queue: QueueConfig,
    timeout: Duration,
    spool: Option<SpoolConfig>,
}

#[cfg(any(feature = "sentry", feature = "webhook"))]
impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            queue: QueueConfig::default(),
            timeout: Duration::from_secs(30),
            spool: None,
        }
    }
}

#[cfg(any(feature = "sentry", feature = "webhook"))]
impl DeliveryOptions {
    /// The default queue ([`QueueConfig::default`]), 30 s per request, no spool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue and retry settings (the mailer's [`QueueConfig`]).
    pub fn queue(mut self, queue: QueueConfig) -> Self {
        self.queue = queue;
        self
    }

    /// How long one request may take, connecting included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Also keeps what waits for a retry in `dir`, at most `max_bytes` (the oldest go first),
    /// and sends what a previous process left there first: an outage longer than the
    /// process loses nothing. Only what is sent for filtered reports is written, one file
    /// each, atomically; never the DSN or the webhook's header. One process per directory.
    pub fn spool(mut self, dir: impl Into<std::path::PathBuf>, max_bytes: u64) -> Self {
        self.spool = Some(SpoolConfig {
            dir: dir.into(),
            max_bytes,
        });
        self
    }

    /// The queue settings.
    pub fn queue_config(&self) -> &QueueConfig {
        &self.queue
    }

    /// The time one request may take.
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// The spool directory and its cap in bytes, when there is a spool.
    pub fn spool_dir(&self) -> Option<(&std::path::Path, u64)> {
        self.spool
            .as_ref()
            .map(|spool| (spool.dir.as_path(), spool.max_bytes))
    }
}

/// The delivery setters of an HTTP sink's configuration, written once: each sets the
/// configuration's `delivery` field ([`DeliveryOptions`]) through the setter of that name.
#[cfg(any(feature = "sentry", feature = "webhook"))]
macro_rules! delivery_setters {
    () => {
        /// Queue and retry settings (the mailer's [`QueueConfig`](crate::mail::QueueConfig));
        /// see [`DeliveryOptions::queue`](crate::sinks::DeliveryOptions::queue).
        pub fn queue(mut self, queue: $crate::sinks::QueueConfig) -> Self {
            self.delivery = self.delivery.queue(queue);
            self
        }

        /// How long one request may take, connecting included (default 30 s).
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.delivery = self.delivery.timeout(timeout);
            self
        }

        /// Also keeps what waits for a retry in `dir`, at most `max_bytes`, and sends what a
        /// previous process left there first; see
        /// [`DeliveryOptions::spool`](crate::sinks::DeliveryOptions::spool).
        pub fn spool(mut self, dir: impl Into<::std::path::PathBuf>, max_bytes: u64) -> Self {
            self.delivery = self.delivery.spool(dir, max_bytes);
            self
        }

        /// All the delivery settings at once, replacing those set before.
        pub fn delivery(mut self, delivery: $crate::sinks::DeliveryOptions) -> Self {
            self.delivery = delivery;
            self
        }

        /// The delivery settings.
        pub fn delivery_options(&self) -> &$crate::sinks::DeliveryOptions {
            &self.delivery
        }
    };
}
#[cfg(any(feature = "sentry", feature = "webhook"))]
pub(crate) use delivery_setters;

#[cfg(any(feature = "sentry", feature = "webhook"))]
pub(crate) struct HttpCourier<E> {
    client: transport::Client,
    endpoint: E,
    spool: Option<spool::Spool>,
    restored: Vec<spool::Spooled>,
}

#[cfg(any(feature = "sentry", feature = "webhook"))]
impl<E: Endpoint> HttpCourier<E> {
    pub(crate) fn new(
        endpoint: E,
        timeout: Duration,
        spool: Option<&SpoolConfig>,
    ) -> Result<Self, SinkError> {
        let (spool, restored) = match spool {
            Some(config) => {
                let (spool, held) = spool::Spool::open(&config.dir, config.max_bytes)
                    .map_err(|source| SinkError::Spool { source })?;
                (Some(spool), held)
            }
            None => (None, Vec::new()),
        };
        Ok(Self {
            client: transport::Client::new(timeout),
            endpoint,
            spool,
            restored,
        })
    }
}

#[cfg(any(feature = "sentry", feature = "webhook"))]
impl<E: Endpoint> queue::Courier for HttpCourier<E> {
    type Job = Job;
    type Item = Encoded;

    fn prepare(&mut self, job: Job) -> Result<Option<Encoded>, String> {
        let Some((report, origin)) = job.report() else {
            return Ok(None);
        };
        let (body, name) = self.endpoint.encode(&report, origin);
        Ok(Some(Encoded {
            body,
            name,
            spooled: None,
        }))
    }

    fn attempt(&mut self, item: &Encoded) -> queue::Attempt {
        let (url, headers) = self.endpoint.target();
        match self.client.post(url, headers, &item.body) {
            Ok(answer) => transport::classify(&answer, self.endpoint.category()),
            Err(reason) => queue::Attempt::Retry {
                reason,
                after: None,
            },
        }
    }

    fn describe(item: &Encoded) -> String {
        item.name.clone()
    }

    fn held(&mut self, item: &mut Encoded) {
        let Some(spool) = &mut self.spool else {
            return;
        };
        match spool.write(&item.body) {
            Ok((path, removed)) => {
                item.spooled = Some(path);
                if removed > 0 {
                    tracing::warn!(
                        removed,
                        "spool full: its oldest items are kept in memory only"
                    );
                }
            }
            Err(error) => tracing::warn!(%error, item = item.name, "cannot spool an item"),
        }
    }

    fn left(&mut self, item: &Encoded) {
        if let (Some(spool), Some(path)) = (&mut self.spool, &item.spooled) {
            spool.remove(path);
        }
    }

    fn restore(&mut self) -> Vec<Encoded> {
        std::mem::take(&mut self.restored)
            .into_iter()
            .map(|(path, body)| Encoded {
                name: format!(
                    "spooled {}",
                    path.file_name().and_then(|n| n.to_str()).unwrap_or("item")
                ),
                body,
                spooled: Some(path),
            })
            .collect()
    }
}

#[cfg(all(test, feature = "sentry", feature = "webhook"))]
mod tests {
    use super::*;

    #[test]
    fn both_configurations_set_their_delivery_through_the_same_setters() {
        let queue = QueueConfig::default().capacity(7);
        let sentry = SentryConfig::new("https://k@sentry.example.com/1")
            .unwrap()
            .queue(queue)
            .timeout(Duration::from_secs(3))
            .spool("spool-dir", 1024);
        let webhook = WebhookConfig::new("https://hooks.example.com/x")
            .unwrap()
            .queue(queue)
            .timeout(Duration::from_secs(3))
            .spool("spool-dir", 1024);
        for delivery in [sentry.delivery_options(), webhook.delivery_options()] {
            assert_eq!(delivery.queue_config().capacity, 7);
            assert_eq!(delivery.request_timeout(), Duration::from_secs(3));
            assert_eq!(
                delivery.spool_dir(),
                Some((std::path::Path::new("spool-dir"), 1024))
            );
        }
        // `delivery` replaces all three.
        let reset = sentry.delivery(DeliveryOptions::new());
        assert_eq!(reset.delivery_options().spool_dir(), None);
        assert_eq!(
            reset.delivery_options().request_timeout(),
            Duration::from_secs(30)
        );
    }
}
