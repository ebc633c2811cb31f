//! Flood control: the first occurrence of an error is mailed at once, repeats are counted
//! into a digest, and a global cap per minute turns a storm into one summary.
//!
//! # The rules
//! - Each report has a [`Fingerprint`]: the error type and the application frames
//!   (function and file, no line numbers); without application frames, the type and the
//!   message with numbers, ids, UUIDs and hex values replaced by placeholders.
//! - The first occurrence of a fingerprint is mailed at once and opens a window of
//!   [`FloodConfig::window`] (5 minutes by default). Repeats inside the window are only
//!   counted. When the window closes, if there were repeats, one digest says
//!   `N more occurrences of … since …` with the first and last times, and a new window
//!   opens; if there were none, the fingerprint is forgotten and its next occurrence is
//!   mailed at once again.
//! - At most [`FloodConfig::max_per_minute`] reports and digests go out per minute (30 by
//!   default). A new fingerprint beyond the cap is not mailed; it is counted, and one
//!   summary per minute says `storm: N reports suppressed`, with counts per error type and
//!   the reports the full queue dropped. A digest beyond the cap waits for the next minute.
//! - At most [`FloodConfig::max_fingerprints`] fingerprints are tracked (1,000 by default);
//!   a new one evicts the one mailed longest ago, whose pending count moves to the summary.
//!
//! # How many emails
//! Every occurrence is counted exactly once: mailed, in a digest's count, or in a summary's
//! count. For `K` distinct fingerprints recurring over a time `T`, the mails are at most
//!
//! ```text
//! min(K · (1 + ⌈T / window⌉), max_per_minute · ⌈T / 1 min⌉) + ⌈T / 1 min⌉
//! ```
//!
//! (one mail and then one digest per window per fingerprint, never more than the cap per
//! minute, plus at most one summary per minute). A burst of any size shorter than the
//! window, of `K ≤ max_per_minute` kinds, gives exactly `2·K` mails: `K` at once and `K`
//! digests when the window closes.
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use safe_report::mail::{FloodConfig, ManualClock};
//!
//! let flood = FloodConfig::default()
//!     .window(Duration::from_secs(600))
//!     .max_per_minute(10)
//!     .max_fingerprints(500);
//! let clock = ManualClock::new("2026-03-21T10:00:00Z".parse().unwrap());
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(clock.now().to_string(), "2026-03-21T10:01:00Z");
//! # let _ = flood;
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

use super::queue::Audience;
use crate::model::Level;
pub use crate::report::{Fingerprint, normalise_message};

/// Flood-control limits; every knob has a default.
///
/// ```
/// use std::time::Duration;
/// use safe_report::mail::FloodConfig;
///
/// let flood = FloodConfig::default();
/// assert_eq!(flood.window, Duration::from_secs(300));
/// assert_eq!(flood.max_per_minute, 30);
/// assert_eq!(flood.max_fingerprints, 1000);
/// assert!(!FloodConfig::disabled().enabled);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FloodConfig {
    /// Whether flood control applies. Off: every report is mailed (Django's behaviour).
    pub enabled: bool,
    /// How long repeats of a fingerprint are counted before a digest (default 5 minutes).
    pub window: Duration,
    /// Reports and digests mailed per minute at most (default 30).
    pub max_per_minute: u32,
    /// Fingerprints tracked at most (default 1,000).
    pub max_fingerprints: usize,
}

impl Default for FloodConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_secs(300),
            max_per_minute: 30,
            max_fingerprints: 1000,
        }
    }
}

impl FloodConfig {
    /// No flood control: every report is mailed.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets the digest window.
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Sets the cap per minute.
    #[must_use]
    pub fn max_per_minute(mut self, max: u32) -> Self {
        self.max_per_minute = max;
        self
    }

    /// Sets how many fingerprints are tracked.
    #[must_use]
    pub fn max_fingerprints(mut self, max: usize) -> Self {
        self.max_fingerprints = max.max(1);
        self
    }
}

/// The time source of flood control, replaceable in tests.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to; clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = after(*now, by);
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        ManualClock::now(self)
    }
}

fn after(time: Timestamp, duration: Duration) -> Timestamp {
    time.checked_add(duration).unwrap_or(Timestamp::MAX)
}

/// What flood control decided for one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Mail it now.
    Send,
    /// A repeat inside the window: counted for the digest.
    Repeat,
    /// A new fingerprint beyond the cap: counted for the storm summary.
    Storm,
}

/// The key of a tracked error: who gets it and its fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) audience: Audience,
    pub(crate) fingerprint: Fingerprint,
}

/// A digest or summary that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    Digest(Digest),
    Summary(Summary),
}

/// `count` more occurrences of an error mailed at `since`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Digest {
    pub(crate) audience: Audience,
    pub(crate) level: Level,
    pub(crate) fingerprint: Fingerprint,
    /// The subject of the mailed report (already filtered), if the worker built it.
    pub(crate) title: Option<String>,
    pub(crate) count: u64,
    pub(crate) since: Timestamp,
    pub(crate) first: Timestamp,
    pub(crate) last: Timestamp,
}

/// Reports left out in a storm, per error type, and reports the full queue dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) audience: Audience,
    pub(crate) suppressed: u64,
    /// Raw labels (error type names or titles) with counts; the worker filters labels.
    pub(crate) kinds: Vec<(String, u64)>,
    pub(crate) other_kinds: u64,
    pub(crate) dropped: u64,
    pub(crate) since: Timestamp,
}

#[derive(Debug)]
struct State {
    level: Level,
    title: Option<String>,
    label: String,
    since: Timestamp,
    window_end: Timestamp,
    pending: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

/// Storm counts for one audience.
#[derive(Debug, Default)]
struct Tally {
    since: Option<Timestamp>,
    suppressed: u64,
    kinds: Vec<(String, u64)>,
    other_kinds: u64,
    dropped: u64,
}

/// Kinds listed by name in a summary; the rest are counted together.
const SUMMARY_KINDS: usize = 16;
/// Labels are cut to this many characters.
const LABEL_CHARS: usize = 120;

impl Tally {
    fn add(&mut self, label: &str, count: u64, now: Timestamp) {
        self.since.get_or_insert(now);
        self.suppressed += count;
        if let Some(kind) = self.kinds.iter_mut().find(|(name, _)| name == label) {
            kind.1 += count;
        } else if self.kinds.len() < SUMMARY_KINDS {
            self.kinds.push((label.to_owned(), count));
        } else {
            self.other_kinds += count;
        }
    }

    fn is_empty(&self) -> bool {
        self.suppressed == 0 && self.dropped == 0
    }
}

/// The flood-control state of one mailer. Memory: at most `max_fingerprints` states and
/// [`SUMMARY_KINDS`] labels per audience.
#[derive(Debug)]
pub(crate) struct FloodControl {
    config: FloodConfig,
    states: HashMap<Key, State>,
    minute_start: Option<Timestamp>,
    sent_this_minute: u32,
    last_summary: Option<Timestamp>,
    tallies: [Tally; 2],
}

const MINUTE: Duration = Duration::from_secs(60);

impl FloodControl {
    pub(crate) fn new(config: FloodConfig) -> Self {
        Self {
            config,
            states: HashMap::new(),
            minute_start: None,
            sent_this_minute: 0,
            last_summary: None,
            tallies: [Tally::default(), Tally::default()],
        }
    }

    /// How many fingerprints are tracked now.
    pub(crate) fn tracked(&self) -> usize {
        self.states.len()
    }

    fn roll_minute(&mut self, now: Timestamp) {
        match self.minute_start {
            Some(start) if now < after(start, MINUTE) => {}
            _ => {
                self.minute_start = Some(now);
                self.sent_this_minute = 0;
            }
        }
    }

    fn under_cap(&self) -> bool {
        self.sent_this_minute < self.config.max_per_minute
    }

    /// Records one occurrence and decides what to do with it.
    pub(crate) fn occurrence(
        &mut self,
        key: Key,
        level: Level,
        label: &str,
        now: Timestamp,
    ) -> Decision {
        if !self.config.enabled {
            return Decision::Send;
        }
        self.roll_minute(now);
        if let Some(state) = self.states.get_mut(&key) {
            // A closed window whose digest the worker has not sent yet still counts repeats.
            if now < state.window_end || state.pending > 0 {
                state.pending += 1;
                state.first.get_or_insert(now);
                state.last = Some(now);
                return Decision::Repeat;
            }
            self.states.remove(&key);
        }
        if !self.under_cap() {
            self.tallies[key.audience.index()].add(&cut(label), 1, now);
            return Decision::Storm;
        }
        self.sent_this_minute += 1;
        if self.states.len() >= self.config.max_fingerprints {
            self.evict(now);
        }
        self.states.insert(
            key,
            State {
                level,
                title: None,
                label: cut(label),
                since: now,
                window_end: after(now, self.config.window),
                pending: 0,
                first: None,
                last: None,
            },
        );
        Decision::Send
    }

    /// Forgets the fingerprint mailed longest ago; its pending count goes to the summary.
    fn evict(&mut self, now: Timestamp) {
        let Some(oldest) = self
            .states
            .iter()
            .min_by_key(|(_, state)| state.since)
            .map(|(key, _)| *key)
        else {
            return;
        };
        if let Some(state) = self.states.remove(&oldest)
            && state.pending > 0
        {
            let label = state.title.unwrap_or(state.label);
            self.tallies[oldest.audience.index()].add(&label, state.pending, now);
        }
    }

    /// Remembers the (filtered) subject of a mailed report, for its digests.
    pub(crate) fn set_title(&mut self, key: Key, title: &str) {
        if let Some(state) = self.states.get_mut(&key) {
            state.title = Some(title.to_owned());
        }
    }

    /// Counts reports the full queue dropped (for the next summary).
    pub(crate) fn dropped(&mut self, count: u64, now: Timestamp) {
        if count > 0 {
            let tally = &mut self.tallies[Audience::Admins.index()];
            tally.since.get_or_insert(now);
            tally.dropped += count;
        }
    }

    /// The digests and summaries due at `now`. With `all`, every pending count is due
    /// regardless of windows and the cap (at shutdown).
    pub(crate) fn due(&mut self, now: Timestamp, all: bool) -> Vec<Notice> {
        self.roll_minute(now);
        let mut notices = Vec::new();
        let mut keys: Vec<Key> = self
            .states
            .iter()
            .filter(|(_, state)| all || now >= state.window_end)
            .map(|(key, _)| *key)
            .collect();
        keys.sort_by_key(|key| self.states[key].since);
        for key in keys {
            let state = self.states.get_mut(&key).expect("collected above");
            if state.pending == 0 {
                self.states.remove(&key);
                continue;
            }
            if !all && self.sent_this_minute >= self.config.max_per_minute {
                continue;
            }
            if !all {
                self.sent_this_minute += 1;
            }
            notices.push(Notice::Digest(Digest {
                audience: key.audience,
                level: state.level,
                fingerprint: key.fingerprint,
                title: state.title.clone(),
                count: state.pending,
                since: state.since,
                first: state.first.unwrap_or(now),
                last: state.last.unwrap_or(now),
            }));
            state.since = now;
            state.window_end = after(now, self.config.window);
            state.pending = 0;
            state.first = None;
            state.last = None;
        }
        let summary_allowed = all
            || self
                .last_summary
                .is_none_or(|last| now >= after(last, MINUTE));
        if summary_allowed {
            for audience in [Audience::Admins, Audience::Managers] {
                let tally = &mut self.tallies[audience.index()];
                if tally.is_empty() {
                    continue;
                }
                let tally = std::mem::take(tally);
                notices.push(Notice::Summary(Summary {
                    audience,
                    suppressed: tally.suppressed,
                    kinds: tally.kinds,
                    other_kinds: tally.other_kinds,
                    dropped: tally.dropped,
                    since: tally.since.unwrap_or(now),
                }));
                self.last_summary = Some(now);
            }
        }
        notices
    }
}

fn cut(label: &str) -> String {
    match label.char_indices().nth(LABEL_CHARS) {
        Some((at, _)) => format!("{}…", &label[..at]),
        None => label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-03-21T10:00:00Z".parse().unwrap()
    }

    fn key(n: u64) -> Key {
        Key {
            audience: Audience::Admins,
            fingerprint: Fingerprint(n),
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn first_occurrence_is_sent_and_repeats_become_one_digest_when_the_window_closes() {
        let mut flood = FloodControl::new(FloodConfig::default());
        assert_eq!(
            flood.occurrence(key(1), Level::Error, "E", t0()),
            Decision::Send
        );
        for i in 1..=4 {
            assert_eq!(
                flood.occurrence(key(1), Level::Error, "E", after(t0(), secs(i))),
                Decision::Repeat
            );
        }
        assert!(flood.due(after(t0(), secs(299)), false).is_empty());
        let notices = flood.due(after(t0(), secs(300)), false);
        let [Notice::Digest(digest)] = notices.as_slice() else {
            panic!("{notices:?}")
        };
        assert_eq!(digest.count, 4);
        assert_eq!(digest.since, t0());
        assert_eq!(digest.first, after(t0(), secs(1)));
        assert_eq!(digest.last, after(t0(), secs(4)));
    }

    #[test]
    fn a_quiet_window_forgets_the_fingerprint_so_the_next_occurrence_is_sent_at_once() {
        let mut flood = FloodControl::new(FloodConfig::default());
        flood.occurrence(key(1), Level::Error, "E", t0());
        assert!(flood.due(after(t0(), secs(300)), false).is_empty());
        assert_eq!(flood.tracked(), 0);
        assert_eq!(
            flood.occurrence(key(1), Level::Error, "E", after(t0(), secs(301))),
            Decision::Send
        );
    }

    #[test]
    fn new_fingerprints_beyond_the_cap_are_summarised_once_a_minute() {
        let mut flood = FloodControl::new(FloodConfig::default().max_per_minute(3));
        let decisions: Vec<_> = (0..10)
            .map(|n| {
                flood.occurrence(
                    key(n),
                    Level::Error,
                    if n % 2 == 0 { "A" } else { "B" },
                    t0(),
                )
            })
            .collect();
        assert_eq!(
            decisions.iter().filter(|d| **d == Decision::Send).count(),
            3
        );
        assert_eq!(
            decisions.iter().filter(|d| **d == Decision::Storm).count(),
            7
        );
        let notices = flood.due(after(t0(), secs(1)), false);
        let [Notice::Summary(summary)] = notices.as_slice() else {
            panic!("{notices:?}")
        };
        assert_eq!(summary.suppressed, 7);
        assert_eq!(
            summary.kinds,
            vec![("B".to_owned(), 4), ("A".to_owned(), 3)]
        );
        // The next storm in the same minute waits for the next summary.
        flood.occurrence(key(100), Level::Error, "C", after(t0(), secs(2)));
        assert!(flood.due(after(t0(), secs(3)), false).is_empty());
        let notices = flood.due(after(t0(), secs(61)), false);
        assert!(matches!(notices.as_slice(), [Notice::Summary(s)] if s.suppressed == 1));
    }

    #[test]
    fn tracked_fingerprints_are_bounded_and_evicted_counts_are_kept() {
        let mut flood = FloodControl::new(
            FloodConfig::default()
                .max_per_minute(u32::MAX)
                .max_fingerprints(10),
        );
        flood.occurrence(key(0), Level::Error, "Old", t0());
        flood.occurrence(key(0), Level::Error, "Old", t0());
        for n in 1..1000 {
            flood.occurrence(key(n), Level::Error, "E", after(t0(), secs(1)));
            assert!(flood.tracked() <= 10);
        }
        let notices = flood.due(after(t0(), secs(2)), false);
        let [Notice::Summary(summary)] = notices.as_slice() else {
            panic!("{notices:?}")
        };
        assert_eq!(summary.kinds, vec![("Old".to_owned(), 1)]);
    }

    #[test]
    fn disabled_flood_control_sends_everything() {
        let mut flood = FloodControl::new(FloodConfig::disabled());
        for _ in 0..100 {
            assert_eq!(
                flood.occurrence(key(1), Level::Error, "E", t0()),
                Decision::Send
            );
        }
    }

    #[test]
    fn shutdown_flushes_pending_digests_before_their_window_closes() {
        let mut flood = FloodControl::new(FloodConfig::default());
        flood.occurrence(key(1), Level::Error, "E", t0());
        flood.occurrence(key(1), Level::Error, "E", t0());
        let notices = flood.due(after(t0(), secs(5)), true);
        assert!(matches!(notices.as_slice(), [Notice::Digest(d)] if d.count == 1));
    }

    #[test]
    fn message_normalisation_keeps_words_and_replaces_variable_parts() {
        assert_eq!(normalise_message("deadbeef cafe"), "deadbeef cafe");
        assert_eq!(normalise_message("ord_42 failed"), "ord_<n> failed");
        assert_eq!(normalise_message("a1b2c3d4e5"), "<hex>");
    }
}
