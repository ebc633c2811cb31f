//! The optional on-disk spool of an HTTP sink: what waits for a retry is also written to a
//! directory, so that an outage longer than the process, or a restart, loses nothing.
//!
//! - Only encoded items are written: the envelope or JSON body made from the filtered
//!   report, never a capture. The DSN key and the webhook's header are not in the files.
//! - Each item is one file, written to a `.tmp` name, flushed to disk and renamed: a file
//!   with the final name is always whole. Leftover `.tmp` files (a crash mid-write) are
//!   removed when the spool is opened.
//! - A file is removed when its item is delivered, or dropped (rejected, retried too long).
//! - The spool holds at most `max_bytes`; the oldest files go first (counted as dropped).
//! - A new sink on the same directory replays the files, oldest first, before anything new.
//!
//! Two processes must not share one directory.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

const SUFFIX: &str = "item";

/// A spooled item: its file and its body.
pub(crate) type Spooled = (PathBuf, Vec<u8>);

pub(crate) struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    /// The files held now, oldest first, with their sizes.
    files: Vec<(PathBuf, u64)>,
    next: u64,
}

impl Spool {
    /// Opens (creating) `dir`; returns the spool and what it holds, oldest first.
    pub(crate) fn open(dir: &Path, max_bytes: u64) -> io::Result<(Spool, Vec<Spooled>)> {
        fs::create_dir_all(dir)?;
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some(SUFFIX) => names.push(path),
                Some("tmp") => {
                    let _ = fs::remove_file(&path);
                }
                _ => {}
            }
        }
        // Names start with a zero-padded sequence: their order is the order written.
        names.sort();
        let mut held = Vec::new();
        let mut files = Vec::new();
        for path in names {
            match fs::read(&path) {
                Ok(body) => {
                    files.push((path.clone(), body.len() as u64));
                    held.push((path, body));
                }
                Err(_) => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let next = files
            .last()
            .and_then(|(path, _)| path.file_stem()?.to_str()?.parse::<u64>().ok())
            .map_or(0, |last| last + 1);
        let spool = Spool {
            dir: dir.to_owned(),
            max_bytes,
            files,
            next,
        };
        Ok((spool, held))
    }

    /// Writes `body` atomically; returns its file and how many older files were removed to
    /// stay within the cap (their items are then held in memory only).
    pub(crate) fn write(&mut self, body: &[u8]) -> io::Result<(PathBuf, usize)> {
        let size = body.len() as u64;
        if size > self.max_bytes {
            return Err(io::Error::other("the item is larger than the spool's cap"));
        }
        let mut removed = 0;
        while !self.files.is_empty() && self.bytes() + size > self.max_bytes {
            let (oldest, _) = self.files.remove(0);
            let _ = fs::remove_file(oldest);
            removed += 1;
        }
        let name = format!("{:020}", self.next);
        self.next += 1;
        let path = self.dir.join(format!("{name}.{SUFFIX}"));
        let tmp = self.dir.join(format!("{name}.tmp"));
        let written = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(body)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(error) = written {
            let _ = fs::remove_file(&tmp);
            return Err(error);
        }
        self.files.push((path.clone(), size));
        Ok((path, removed))
    }

    /// Removes the file of an item that left (delivered or dropped).
    pub(crate) fn remove(&mut self, path: &Path) {
        if let Some(at) = self.files.iter().position(|(p, _)| p == path) {
            self.files.remove(at);
            let _ = fs::remove_file(path);
        }
    }

    fn bytes(&self) -> u64 {
        self.files.iter().map(|(_, size)| size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "safe-report-spool-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn items_survive_a_reopen_in_order_and_leave_when_removed() {
        let dir = dir();
        let (mut spool, held) = Spool::open(&dir, 1000).unwrap();
        assert!(held.is_empty());
        let (first, _) = spool.write(b"one").unwrap();
        spool.write(b"two").unwrap();
        spool.remove(&first);
        fs::write(dir.join("00000000000000000009.tmp"), b"half").unwrap();
        drop(spool);
        let (mut spool, held) = Spool::open(&dir, 1000).unwrap();
        let bodies: Vec<&[u8]> = held.iter().map(|(_, body)| body.as_slice()).collect();
        assert_eq!(bodies, [b"two".as_slice()]);
        assert!(!dir.join("00000000000000000009.tmp").exists());
        // New files come after the replayed ones.
        let (third, _) = spool.write(b"three").unwrap();
        assert!(third > held[0].0);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_cap_removes_the_oldest_first() {
        let dir = dir();
        let (mut spool, _) = Spool::open(&dir, 10).unwrap();
        spool.write(b"aaaa").unwrap();
        spool.write(b"bbbb").unwrap();
        let (_, removed) = spool.write(b"cccc").unwrap();
        assert_eq!(removed, 1);
        assert!(spool.write(&[0; 11]).is_err());
        drop(spool);
        let (_, held) = Spool::open(&dir, 10).unwrap();
        assert_eq!(
            held.len(),
            2,
            "an item over the cap is refused, and removes nothing"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
