//! The filtered settings section, reused while the settings stay the same.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde_json::{Map, Value};

use super::Entry;
use super::lookup::sorted_forms_of;
use crate::filter::{FilterContext, RedactionSummary};
use crate::model::redacted::Count;

/// What identifies a settings section: a 64-bit hash of the settings' content (names,
/// values and their types, in order) and whether the filter was active.
pub(crate) type SettingsKey = (u64, bool);

/// One remembered settings section: the formatted entries, what filtering them added to the
/// redaction counts, and the forms of the values it hid (to hide them everywhere).
#[derive(Debug, Default)]
pub(crate) struct SettingsCache {
    last: Mutex<Option<Cached>>,
}

/// `Debug` counts the forms of the hidden values and never shows them.
struct Cached {
    /// The map the section was made from. While this weak reference exists its allocation
    /// is not reused and its value cannot change (`Arc::get_mut` fails, `Arc::make_mut`
    /// moves the value), so a capture holding the same pointer holds the same settings.
    shared: Weak<Map<String, Value>>,
    key: SettingsKey,
    entries: Arc<[Entry]>,
    summary: RedactionSummary,
    forms: Arc<[String]>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("key", &self.key)
            .field("entries", &self.entries.len())
            .field("summary", &self.summary)
            .field("forms", &Count::new(self.forms.len(), "form", "forms"))
            .finish_non_exhaustive()
    }
}

/// A settings section and the forms of the values it hid, both shared with the cache.
pub(crate) type Section = (Arc<[Entry]>, Arc<[String]>);

/// A cache miss: what to store the section under.
pub(crate) struct Miss(SettingsKey);

impl SettingsCache {
    /// The cached entries for these settings and the forms of the values they hid, after
    /// adding their counts to `cx`: found by the map's address when the capture shares the
    /// map the section was made from, else by a hash of its content.
    pub(crate) fn replay(
        &self,
        settings: &Arc<Map<String, Value>>,
        active: bool,
        cx: &mut FilterContext<'_>,
    ) -> Result<Section, Miss> {
        {
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(cached) = last.as_ref().filter(|cached| {
                cached.key.1 == active
                    && std::ptr::eq(cached.shared.as_ptr(), Arc::as_ptr(settings))
            }) {
                cx.replay(&cached.summary);
                return Ok((Arc::clone(&cached.entries), Arc::clone(&cached.forms)));
            }
        }
        let mut hasher = FastHasher::default();
        hash_map(settings, &mut hasher);
        let key = (hasher.finish(), active);
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        match last.as_mut().filter(|cached| cached.key == key) {
            Some(cached) => {
                cached.shared = Arc::downgrade(settings);
                cx.replay(&cached.summary);
                Ok((Arc::clone(&cached.entries), Arc::clone(&cached.forms)))
            }
            None => Err(Miss(key)),
        }
    }

    /// Remembers a section; returns the forms of the values it hid (sorted).
    pub(crate) fn store<'h>(
        &self,
        settings: &Arc<Map<String, Value>>,
        Miss(key): Miss,
        entries: &Arc<[Entry]>,
        summary: RedactionSummary,
        hidden: impl IntoIterator<Item = &'h str>,
    ) -> Arc<[String]> {
        let forms: Arc<[String]> = sorted_forms_of(hidden).into();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        *last = Some(Cached {
            shared: Arc::downgrade(settings),
            key,
            entries: Arc::clone(entries),
            summary,
            forms: Arc::clone(&forms),
        });
        forms
    }
}

/// A fast multiply-rotate hash (the FxHash construction). The key only tells whether the
/// settings are the same as last time; it need not resist crafted collisions, since a
/// collision could only show the previous settings' already filtered section.
#[derive(Default)]
struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn hash_map(map: &Map<String, Value>, hasher: &mut FastHasher) {
    hasher.write_usize(map.len());
    for (key, value) in map {
        key.hash(hasher);
        hash_value(value, hasher);
    }
}

fn hash_value(value: &Value, hasher: &mut FastHasher) {
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(b) => {
            hasher.write_u8(1);
            b.hash(hasher);
        }
        Value::Number(n) => {
            hasher.write_u8(2);
            n.hash(hasher);
        }
        Value::String(text) => {
            hasher.write_u8(3);
            text.hash(hasher);
        }
        Value::Array(items) => {
            hasher.write_u8(4);
            hasher.write_usize(items.len());
            for item in items {
                hash_value(item, hasher);
            }
        }
        Value::Object(map) => {
            hasher.write_u8(5);
            hash_map(map, hasher);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Map, Value, json};

    use crate::{Capture, ExceptionReporter, Report};

    fn shared(value: Value) -> Arc<Map<String, Value>> {
        Arc::new(Capture::settings_map(&value))
    }

    fn report(reporter: &ExceptionReporter, settings: &Arc<Map<String, Value>>) -> Report {
        // The secret also appears in the message: the reverse lookup must hide it there
        // whether the section was filtered now or reused.
        let capture = Capture::error("E", "key was k3y-0123456789")
            .with_shared_settings(Arc::clone(settings));
        reporter.report(&capture)
    }

    fn section(report: &Report) -> Vec<(String, String)> {
        report
            .settings
            .iter()
            .map(|entry| (entry.name.clone(), entry.value.clone()))
            .collect()
    }

    #[test]
    fn a_shared_map_gives_the_same_section_counts_and_hidden_copies_each_time() {
        let reporter = ExceptionReporter::default();
        let settings = shared(json!({"SECRET_KEY": "k3y-0123456789", "WORKERS": 4}));
        let first = report(&reporter, &settings);
        let second = report(&reporter, &settings);
        assert_eq!(section(&first), section(&second));
        assert_eq!(first.redactions, second.redactions);
        for report in [&first, &second] {
            assert!(
                !report
                    .exception_value
                    .as_deref()
                    .unwrap()
                    .contains("k3y-0123456789")
            );
            assert_eq!(report.settings[1].value, "4");
        }
    }

    #[test]
    fn a_value_hidden_elsewhere_is_hidden_in_a_shared_section_without_changing_it() {
        let reporter = ExceptionReporter::default();
        let settings = shared(json!({"GREETING": "hello swordfish-0123", "WORKERS": 4}));
        let with_secret = |secret: &str| {
            Capture::error("E", "boom")
                .with_frame(crate::Frame::new("app::f", "src/f.rs", 1).var("password", secret))
                .with_shared_settings(Arc::clone(&settings))
        };
        let plain = reporter.report(&with_secret("another-secret-99"));
        assert_eq!(plain.settings[0].value, "\"hello swordfish-0123\"");
        let hiding = reporter.report(&with_secret("swordfish-0123"));
        assert_eq!(hiding.settings[0].value, "\"hello ********************\"");
        // The copy was changed, not the section the cache shares.
        let again = reporter.report(&with_secret("another-secret-99"));
        assert_eq!(again.settings[0].value, "\"hello swordfish-0123\"");
        assert!(Arc::ptr_eq(&plain.settings, &again.settings));
        assert!(!Arc::ptr_eq(&plain.settings, &hiding.settings));
    }

    #[test]
    fn a_map_changed_in_place_is_filtered_anew() {
        let reporter = ExceptionReporter::default();
        let mut settings = shared(json!({"SECRET_KEY": "k3y-0123456789", "WORKERS": 4}));
        let first = report(&reporter, &settings);
        assert_eq!(first.settings[1].value, "4");
        // The only strong reference: `make_mut` changes the map without copying it, unless
        // something else still points at it.
        Arc::make_mut(&mut settings).insert("WORKERS".to_owned(), json!(8));
        let second = report(&reporter, &settings);
        assert_eq!(second.settings[1].value, "8");
    }

    #[test]
    fn an_equal_map_in_another_allocation_gives_the_same_section() {
        let reporter = ExceptionReporter::default();
        let value = json!({"DATABASE_URL": "postgres://app:pa55word-9@db/app", "DEBUG": false});
        let first = report(&reporter, &shared(value.clone()));
        let second = report(&reporter, &shared(value));
        assert_eq!(section(&first), section(&second));
        assert!(!section(&second)[0].1.contains("pa55word-9"));
        let other = report(&reporter, &shared(json!({"DEBUG": true})));
        assert_eq!(section(&other), [("DEBUG".to_owned(), "true".to_owned())]);
    }

    #[test]
    fn debug_never_shows_the_hidden_values_it_keeps() {
        let reporter = ExceptionReporter::default();
        let settings = shared(json!({"SECRET_KEY": "mk7q-plant3d-secret", "WORKERS": 4}));
        report(&reporter, &settings);
        let cache = reporter
            .settings_cache
            .as_ref()
            .expect("a reporter has a cache");
        for shown in [format!("{cache:?}"), format!("{cache:#?}")] {
            assert!(!shown.contains("mk7q"), "{shown}");
            assert!(shown.contains("forms"), "{shown}");
        }
    }
}
