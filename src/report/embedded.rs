//! Source files embedded in the binary at build time ([`embed_sources!`](crate::embed_sources)),
//! for source lines in reports from a deployed build whose source is not on the host.
//!
//! The report reads a frame's file from disk first; only a file that is not there is looked
//! up among the installed embedded sources. The filter on source lines applies to both.

use std::sync::{PoisonError, RwLock};

use super::source::{MAX_SOURCE_FILE, SourceFile};

/// The first bytes of a blob, with the format's version (written by `safe-report-macros`).
const MAGIC: &[u8] = b"safe-report sources 1\n";

/// The source files one [`embed_sources!`](crate::embed_sources) put in the binary.
///
/// ```
/// # fn main() {
/// // In the application's `main`: its `src/**/*.rs` files, compressed, in the binary.
/// safe_report::embed_sources!().install();
/// # }
/// ```
///
/// Name other files or directories (relative to the crate's `Cargo.toml`) to embed them
/// instead: `embed_sources!("src", "examples/demo.rs")`. A directory stands for every `.rs`
/// file below it.
#[derive(Clone)]
pub struct EmbeddedSources {
    manifest_dir: &'static str,
    files: Vec<EmbeddedFile>,
}

#[derive(Clone)]
struct EmbeddedFile {
    /// Relative to the manifest directory, `/`-separated.
    path: &'static str,
    original_len: usize,
    compressed: &'static [u8],
}

impl std::fmt::Debug for EmbeddedSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // File names only: the files themselves may hold anything.
        f.debug_struct("EmbeddedSources")
            .field("manifest_dir", &self.manifest_dir)
            .field("files", &self.files.len())
            .finish()
    }
}

/// Why a blob could not be read (one from a different version of the macro, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedSourcesError(&'static str);

impl std::fmt::Display for EmbeddedSourcesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "embedded sources could not be read: {}", self.0)
    }
}

impl std::error::Error for EmbeddedSourcesError {}

static INSTALLED: RwLock<Vec<EmbeddedSources>> = RwLock::new(Vec::new());

impl EmbeddedSources {
    /// Reads the blob [`embed_sources!`](crate::embed_sources) made. The macro calls this;
    /// a blob that cannot be read gives an empty set and a message on standard error, never
    /// a panic.
    #[doc(hidden)]
    pub fn from_macro(blob: &'static [u8]) -> Self {
        Self::parse(blob).unwrap_or_else(|error| {
            eprintln!("safe-report: {error}; reports will have no embedded source lines");
            Self {
                manifest_dir: "",
                files: Vec::new(),
            }
        })
    }

    /// Reads a blob, checking every length against what is left.
    pub(crate) fn parse(blob: &'static [u8]) -> Result<Self, EmbeddedSourcesError> {
        let mut reader = Reader(blob);
        let magic = reader.take(MAGIC.len())?;
        if magic != MAGIC {
            return Err(EmbeddedSourcesError(
                "not a blob of this version of safe-report",
            ));
        }
        let manifest_dir = reader.text()?;
        let count = reader.number()?;
        let mut files = Vec::with_capacity(count.min(blob.len() / 12));
        for _ in 0..count {
            let path = reader.text()?;
            let original_len = reader.number()?;
            let compressed = reader.bytes()?;
            files.push(EmbeddedFile {
                path,
                original_len,
                compressed,
            });
        }
        if !reader.0.is_empty() {
            return Err(EmbeddedSourcesError("bytes after the last file"));
        }
        Ok(Self {
            manifest_dir,
            files,
        })
    }

    /// Makes these files available to every report of the process (for files not on
    /// disk). Installing the same crate's files twice keeps one copy.
    pub fn install(self) {
        let mut installed = INSTALLED.write().unwrap_or_else(PoisonError::into_inner);
        installed.retain(|set| set.manifest_dir != self.manifest_dir);
        installed.push(self);
    }

    /// The embedded files' paths, relative to the crate's manifest directory.
    pub fn paths(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.files.iter().map(|file| file.path)
    }

    /// The manifest directory of the crate at build time.
    pub fn manifest_dir(&self) -> &'static str {
        self.manifest_dir
    }

    /// How many files are embedded.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The embedded files' size before compression, in bytes.
    pub fn source_bytes(&self) -> usize {
        self.files.iter().map(|file| file.original_len).sum()
    }

    /// What the embedded files take in the binary, in bytes (compressed, with their
    /// names).
    pub fn compressed_bytes(&self) -> usize {
        self.files
            .iter()
            .map(|file| file.compressed.len() + file.path.len() + 12)
            .sum()
    }

    /// Whether no file is embedded.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The embedded file that `name` (a frame's file name) stands for, and how well it
    /// matches: the length of the part of `name` that matched, longest being best.
    fn find(&self, name: &str) -> Option<(&EmbeddedFile, usize)> {
        let name = name.strip_prefix("./").unwrap_or(name);
        // An absolute path under the manifest directory it was built in.
        if let Some(rest) = name
            .strip_prefix(self.manifest_dir)
            .and_then(|rest| rest.strip_prefix('/'))
            && let Some(file) = self.files.iter().find(|file| file.path == rest)
        {
            return Some((file, name.len()));
        }
        // A name relative to the package (`src/main.rs`), or ending in one at a component
        // boundary (`crates/app/src/main.rs`, `/deploy/build/src/main.rs`).
        self.files
            .iter()
            .filter(|file| {
                name == file.path
                    || name
                        .strip_suffix(file.path)
                        .is_some_and(|head| head.ends_with('/'))
            })
            .max_by_key(|file| file.path.len())
            .map(|file| (file, file.path.len()))
    }
}

impl EmbeddedFile {
    fn decompress(&self) -> Option<SourceFile> {
        if self.original_len as u64 > MAX_SOURCE_FILE {
            return None;
        }
        let bytes =
            miniz_oxide::inflate::decompress_to_vec_with_limit(self.compressed, self.original_len)
                .ok()?;
        Some(SourceFile::from_bytes(&bytes))
    }
}

/// The installed embedded file that best matches `name`, decompressed.
pub(crate) fn lookup(name: &str) -> Option<SourceFile> {
    let installed = INSTALLED.read().unwrap_or_else(PoisonError::into_inner);
    installed
        .iter()
        .filter_map(|set| set.find(name))
        .max_by_key(|(_, matched)| *matched)
        .and_then(|(file, _)| file.decompress())
}

/// Reads the blob's parts; every read is bounds-checked.
struct Reader(&'static [u8]);

impl Reader {
    fn take(&mut self, len: usize) -> Result<&'static [u8], EmbeddedSourcesError> {
        if len > self.0.len() {
            return Err(EmbeddedSourcesError("a length runs past the end"));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    fn number(&mut self) -> Result<usize, EmbeddedSourcesError> {
        let bytes = self.take(4)?;
        let value = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        usize::try_from(value).map_err(|_| EmbeddedSourcesError("a length does not fit"))
    }

    fn bytes(&mut self) -> Result<&'static [u8], EmbeddedSourcesError> {
        let len = self.number()?;
        self.take(len)
    }

    fn text(&mut self) -> Result<&'static str, EmbeddedSourcesError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| EmbeddedSourcesError("a name is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob as the macro writes it, made here from `(path, text)` pairs.
    fn blob(manifest_dir: &str, files: &[(&str, &str)]) -> &'static [u8] {
        fn push(blob: &mut Vec<u8>, bytes: &[u8]) {
            blob.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            blob.extend_from_slice(bytes);
        }
        let mut blob = MAGIC.to_vec();
        push(&mut blob, manifest_dir.as_bytes());
        blob.extend_from_slice(&(files.len() as u32).to_le_bytes());
        for (path, text) in files {
            push(&mut blob, path.as_bytes());
            blob.extend_from_slice(&(text.len() as u32).to_le_bytes());
            push(
                &mut blob,
                &miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 6),
            );
        }
        Vec::leak(blob)
    }

    fn line(set: &EmbeddedSources, name: &str, line0: usize) -> Option<String> {
        let (file, _) = set.find(name)?;
        Some(file.decompress()?.line(line0).0.to_owned())
    }

    #[test]
    fn files_are_found_by_absolute_relative_and_workspace_names() {
        let set = EmbeddedSources::parse(blob(
            "/build/shop",
            &[
                ("src/main.rs", "fn main() {\n    charge();\n}\n"),
                ("src/pay/mod.rs", "pub fn charge() {}\n"),
            ],
        ))
        .unwrap();
        assert_eq!(set.len(), 2);
        for name in [
            "/build/shop/src/main.rs",
            "src/main.rs",
            "./src/main.rs",
            "crates/shop/src/main.rs",
            "/elsewhere/shop/src/main.rs",
        ] {
            assert_eq!(
                line(&set, name, 1).as_deref(),
                Some("    charge();"),
                "{name}"
            );
        }
        assert_eq!(
            line(&set, "src/pay/mod.rs", 0).as_deref(),
            Some("pub fn charge() {}")
        );
        // Only at a component boundary, and never a file of another name.
        for name in [
            "xsrc/main.rs",
            "src/main.rs.bak",
            "main.rs",
            "src/lib.rs",
            "",
        ] {
            assert!(set.find(name).is_none(), "{name}");
        }
    }

    #[test]
    fn the_longest_match_wins() {
        let set = EmbeddedSources::parse(blob(
            "/build/shop",
            &[("main.rs", "short\n"), ("src/main.rs", "long\n")],
        ))
        .unwrap();
        assert_eq!(line(&set, "/x/src/main.rs", 0).as_deref(), Some("long"));
        assert_eq!(line(&set, "/x/main.rs", 0).as_deref(), Some("short"));
    }

    #[test]
    fn damaged_blobs_are_refused_without_panicking() {
        let good = blob("/build/shop", &[("src/main.rs", "fn main() {}\n")]);
        assert!(EmbeddedSources::parse(good).is_ok());
        // Every truncation, and every single changed byte in the header and lengths.
        for len in 0..good.len() {
            assert!(
                EmbeddedSources::parse(&good[..len]).is_err(),
                "cut at {len}"
            );
        }
        for index in 0..good.len() {
            let mut damaged = good.to_vec();
            damaged[index] ^= 0xff;
            if let Ok(set) = EmbeddedSources::parse(Vec::leak(damaged)) {
                // A changed byte inside names or data may still parse: decompressing must
                // then fail or give some text, never panic.
                for path in set.paths().collect::<Vec<_>>() {
                    let _ = line(&set, path, 0);
                }
            }
        }
        let empty = EmbeddedSources::from_macro(b"not a blob");
        assert!(empty.is_empty());
    }

    #[test]
    fn a_file_that_inflates_past_its_length_is_not_shown() {
        let mut set = EmbeddedSources::parse(blob("/b", &[("src/a.rs", "line one\n")])).unwrap();
        set.files[0].original_len = 3;
        assert!(set.find("src/a.rs").unwrap().0.decompress().is_none());
    }

    #[test]
    fn debug_names_no_file_contents() {
        let set =
            EmbeddedSources::parse(blob("/b", &[("src/a.rs", "const KEY: &str = \"mk7q\";\n")]))
                .unwrap();
        let shown = format!("{set:?}");
        assert!(
            !shown.contains("mk7q") && !shown.contains("src/a.rs"),
            "{shown}"
        );
    }
}
