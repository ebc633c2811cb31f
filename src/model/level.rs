//! The severity of a report or notification.

use std::fmt;

/// The severity of a notification, shown in the subject as Python's logging does
/// (`ERROR`, `WARNING`, …).
///
/// ```
/// use safe_report::model::Level;
///
/// assert_eq!(Level::Error.to_string(), "ERROR");
/// assert_eq!(Level::from(tracing::Level::WARN), Level::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Level {
    /// `DEBUG`
    Debug,
    /// `INFO`
    Info,
    /// `WARNING`
    Warning,
    /// `ERROR`
    Error,
    /// `CRITICAL`
    Critical,
}

impl Level {
    /// The name shown in subjects.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<tracing::Level> for Level {
    fn from(level: tracing::Level) -> Self {
        match level {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warning,
            tracing::Level::INFO => Level::Info,
            _ => Level::Debug,
        }
    }
}
