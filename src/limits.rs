//! The bounds every part of a report respects, in one place: what is captured, filtered
//! and shown at most.
//!
//! Each layer reads these rather than another layer's constants, so that the model, the
//! filter and the reporter agree on one figure without importing each other.
//!
//! ```
//! assert_eq!(safe_report::limits::DEFAULT_SUBSTITUTE.len(), 20);
//! assert!(safe_report::limits::MAX_VALUE_CHARS < safe_report::MAX_INTERPRETED_BODY);
//! ```

/// Django's `cleansed_substitute`: exactly 20 asterisks, whatever the hidden value's length.
pub const DEFAULT_SUBSTITUTE: &str = "********************";

/// Values nested deeper than this are replaced by the substitute (fail closed).
pub const MAX_DEPTH: usize = 64;

/// Values whose formatted text is longer than this many characters are cut.
pub const MAX_VALUE_CHARS: usize = 4096;

/// Characters of a long string value that are filtered beyond what a report shows
/// ([`MAX_VALUE_CHARS`]), so that a secret which straddles the cut is still recognised.
/// The rest of the string is never shown and not filtered.
pub const FILTER_MARGIN_CHARS: usize = 2048;

/// Hidden values shorter than this (in characters) are not looked up elsewhere in the
/// report: short values such as `42` or `admin` would hide ordinary text.
pub const REVERSE_LOOKUP_MIN_CHARS: usize = 8;

/// Frames kept per trace; beyond this the outermost frames are left out (and counted).
pub const MAX_FRAMES: usize = 512;

/// Variables kept per frame; beyond this the rest are left out (and counted).
pub const MAX_VARS_PER_FRAME: usize = 256;

/// Causes followed at most (a chain longer than this, or a cycle, is cut).
pub const MAX_CAUSES: usize = 64;

/// Request bodies larger than this are not interpreted (the report says so).
pub const MAX_INTERPRETED_BODY: usize = 1024 * 1024;

/// Breadcrumbs a thread (or a task) keeps by default: the most recent events before an error.
pub const DEFAULT_BREADCRUMBS: usize = 50;

/// Bytes of text one breadcrumb keeps at most for its target and message, and as many for
/// its fields' values; what does not fit is cut on a character boundary, with `…`.
pub const MAX_BREADCRUMB_BYTES: usize = 1024;

/// Fields one breadcrumb keeps at most; the rest are left out.
pub const MAX_BREADCRUMB_FIELDS: usize = 16;
