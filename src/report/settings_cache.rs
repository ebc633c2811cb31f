//! The filtered settings section, reused while the settings stay the same.

use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use serde_json::{Map, Value};

use super::Entry;
use crate::filter::{FilterContext, RedactionSummary};

/// What identifies a settings section: a 64-bit hash of the settings' content (names,
/// values and their types, in order) and whether the filter was active.
pub(crate) type SettingsKey = (u64, bool);

/// One remembered settings section: the formatted entries and what filtering them added to
/// the redaction counts and to the values hidden everywhere.
#[derive(Debug, Default)]
pub(crate) struct SettingsCache {
    last: Mutex<Option<Cached>>,
}

#[derive(Debug)]
struct Cached {
    key: SettingsKey,
    entries: Vec<Entry>,
    summary: RedactionSummary,
    hidden: Vec<String>,
}

impl SettingsCache {
    pub(crate) fn key(settings: &Map<String, Value>, active: bool) -> SettingsKey {
        let mut hasher = FastHasher::default();
        hash_map(settings, &mut hasher);
        (hasher.finish(), active)
    }

    /// The cached entries for `key`, after adding their counts and hidden values to `cx`.
    pub(crate) fn replay(
        &self,
        key: SettingsKey,
        cx: &mut FilterContext<'_>,
    ) -> Option<Vec<Entry>> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = last.as_ref().filter(|cached| cached.key == key)?;
        cx.replay(&cached.summary, &cached.hidden);
        Some(cached.entries.clone())
    }

    pub(crate) fn store(
        &self,
        key: SettingsKey,
        entries: &[Entry],
        summary: RedactionSummary,
        hidden: &[String],
    ) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        *last = Some(Cached {
            key,
            entries: entries.to_vec(),
            summary,
            hidden: hidden.to_vec(),
        });
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
