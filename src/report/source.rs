//! Source context for frames: files read once, cached, and cut around the frame's line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use crate::model::raw_text::escape_invalid_utf8;

/// Lines shown before the frame's line.
pub const CONTEXT_BEFORE: usize = 7;
/// Lines shown after the frame's line.
pub const CONTEXT_AFTER: usize = 6;
/// Source files larger than this are not read.
pub const MAX_SOURCE_FILE: u64 = 8 * 1024 * 1024;
/// The cache stops adding files once it holds this many bytes of source.
pub const MAX_CACHED_SOURCE: usize = 64 * 1024 * 1024;

/// Shown when a frame's source cannot be read or does not have the frame's line.
pub const SOURCE_NOT_AVAILABLE: &str = "<source code not available>";

/// A source file split into lines (`\n`, `\r\n` and `\r` all end a line). Bytes that are
/// not UTF-8 are shown as `\xNN`. `Debug` counts the lines: a source file may hold a
/// private key.
pub(crate) struct SourceFile {
    lines: Vec<String>,
    /// Whether each line is part of a PEM private key block (from its `BEGIN` line to its
    /// `END` line): such lines are hidden whole, since a key's body lines look like nothing
    /// in particular on their own.
    in_private_key: Vec<bool>,
}

impl std::fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceFile")
            .field("lines", &self.lines.len())
            .finish_non_exhaustive()
    }
}

impl SourceFile {
    pub(crate) fn from_bytes(bytes: &[u8]) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'\n' => {
                    lines.push(escape_invalid_utf8(&bytes[start..index]).into_owned());
                    start = index + 1;
                }
                b'\r' => {
                    lines.push(escape_invalid_utf8(&bytes[start..index]).into_owned());
                    if bytes.get(index + 1) == Some(&b'\n') {
                        index += 1;
                    }
                    start = index + 1;
                }
                _ => {}
            }
            index += 1;
        }
        if start < bytes.len() {
            lines.push(escape_invalid_utf8(&bytes[start..]).into_owned());
        }
        let mut inside = false;
        let in_private_key = lines
            .iter()
            .map(|line| {
                if line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
                    inside = true;
                }
                let flagged = inside;
                if inside && line.contains("-----END") {
                    inside = false;
                }
                flagged
            })
            .collect();
        Self {
            lines,
            in_private_key,
        }
    }

    fn byte_size(&self) -> usize {
        self.lines.iter().map(|line| line.len() + 1).sum()
    }

    /// Line `line0` (which must exist) and whether it is part of a private key block.
    pub(crate) fn line(&self, line0: usize) -> (&str, bool) {
        (&self.lines[line0], self.in_private_key[line0])
    }

    /// How many lines the file has.
    pub(crate) fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The context around 0-based line `line0`, with `context` lines before and
    /// `context - 1` after (Django's `_get_lines_from_file`).
    pub(crate) fn context(&self, line0: usize, context: usize) -> Option<Context<'_>> {
        let current = self.lines.get(line0)?;
        let lower = line0.saturating_sub(context);
        let upper = (line0 + context).min(self.lines.len());
        Some(Context {
            first_line0: lower,
            before: &self.lines[lower..line0],
            line: current,
            after: &self.lines[line0 + 1..upper],
        })
    }
}

/// Lines around a frame's line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Context<'a> {
    pub(crate) first_line0: usize,
    pub(crate) before: &'a [String],
    pub(crate) line: &'a str,
    pub(crate) after: &'a [String],
}

/// A cache of source files, shared by every report of the process unless a reporter is given
/// its own. A file that cannot be read is remembered as missing.
#[derive(Debug, Default)]
pub struct SourceCache {
    inner: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    files: HashMap<PathBuf, Option<Arc<SourceFile>>>,
    bytes: usize,
}

static SHARED: LazyLock<Arc<SourceCache>> = LazyLock::new(|| Arc::new(SourceCache::default()));

impl SourceCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide cache.
    pub fn shared() -> Arc<SourceCache> {
        Arc::clone(&SHARED)
    }

    /// Forgets every file (after a deploy, say).
    pub fn clear(&self) {
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        state.files.clear();
        state.bytes = 0;
    }

    pub(crate) fn get(&self, path: &Path) -> Option<Arc<SourceFile>> {
        {
            let state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = state.files.get(path) {
                return entry.clone();
            }
        }
        let file = read_source(path).map(Arc::new);
        let mut state = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let size = file.as_ref().map_or(0, |f| f.byte_size());
        if state.bytes + size <= MAX_CACHED_SOURCE {
            state.bytes += size;
            state.files.insert(path.to_path_buf(), file.clone());
        }
        file
    }
}

fn read_source(path: &Path) -> Option<SourceFile> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > MAX_SOURCE_FILE {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    Some(SourceFile::from_bytes(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Django's `test_eol_support`: `\n`, `\r\n` and `\r` all end lines.
    #[test]
    fn every_line_ending_gives_the_same_context() {
        let lines = ["print 1", "print 2", "print 3", "print 4", "print 5"];
        for newline in ["\n", "\r\n", "\r"] {
            let text = lines.join(newline) + newline;
            let file = SourceFile::from_bytes(text.as_bytes());
            let context = file.context(3, 2).unwrap();
            assert_eq!(context.first_line0, 1, "{newline:?}");
            assert_eq!(context.before, ["print 2", "print 3"]);
            assert_eq!(context.line, "print 4");
            assert_eq!(context.after, ["print 5"]);
        }
    }

    #[test]
    fn private_key_blocks_are_marked_line_by_line() {
        let file = SourceFile::from_bytes(
            b"a\nKEY = \"\"\"\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n\"\"\"\n",
        );
        assert_eq!(file.in_private_key, [false, false, true, true, true, false]);
    }

    #[test]
    fn a_line_past_the_end_has_no_context() {
        let file = SourceFile::from_bytes(b"only\n");
        assert!(file.context(5, 7).is_none());
    }

    #[test]
    fn invalid_utf8_is_shown_escaped() {
        let file = SourceFile::from_bytes(b"ok\nbad \xe9 byte\n");
        assert_eq!(file.context(1, 1).unwrap().line, "bad \\xe9 byte");
    }

    #[test]
    fn files_are_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "one\ntwo\n").unwrap();
        let cache = SourceCache::new();
        assert_eq!(cache.get(&path).unwrap().lines.len(), 2);
        std::fs::write(&path, "changed\n").unwrap();
        assert_eq!(cache.get(&path).unwrap().lines[0], "one");
        cache.clear();
        assert_eq!(cache.get(&path).unwrap().lines[0], "changed");
    }

    #[test]
    fn debug_counts_lines_and_never_shows_them() {
        let file = SourceFile::from_bytes(b"const KEY: &str = \"mk7q-plant3d\";\n");
        for shown in [format!("{file:?}"), format!("{file:#?}")] {
            assert!(!shown.contains("mk7q"), "{shown}");
        }
    }
}
