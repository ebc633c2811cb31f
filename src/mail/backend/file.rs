//! The backend that writes one `.eml` file per email.

use std::path::{Path, PathBuf};

use super::{BackendError, Email, MailBackend};

/// Writes each email as one `.eml` file (its wire form) into a directory, as Django's
/// `filebased` backend does. The names sort by time:
/// `20260321-101530-000001-4242.eml` (UTC time, sequence, process id).
///
/// ```
/// use safe_report::mail::{Email, FileBackend, MailBackend};
///
/// let dir = tempfile::tempdir()?;
/// let mut backend = FileBackend::new(dir.path().join("mail"))?;
/// backend.send(&Email::new("root@localhost".parse()?, vec!["ops@example.com".parse()?], "hello", "body"))?;
/// let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))?.collect();
/// assert_eq!(files.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileBackend {
    dir: PathBuf,
    sequence: u64,
}

impl FileBackend {
    /// Writes into `dir`, creating it if needed. Fails, naming the directory, if it cannot
    /// be created or is not a directory.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, BackendError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|error| {
            BackendError::permanent(format!(
                "file backend: cannot create the directory {}: {error}",
                dir.display()
            ))
        })?;
        Ok(Self { dir, sequence: 0 })
    }

    /// The directory the files go to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl MailBackend for FileBackend {
    fn send(&mut self, email: &Email) -> Result<(), BackendError> {
        let mime = email.to_mime()?;
        self.sequence += 1;
        let time = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
        let name = format!("{time}-{:06}-{}.eml", self.sequence, std::process::id());
        let path = self.dir.join(name);
        std::fs::write(&path, mime).map_err(|error| {
            BackendError::transient(format!(
                "file backend: cannot write {}: {error}",
                path.display()
            ))
        })
    }
}
