//! The slot through which an integration tells the runtime about the spans a thread is in.
//!
//! The runtime names no integration: the `tracing` layer fills this slot when it is created,
//! and captures then carry the entered spans' fields as frames.

use std::sync::OnceLock;

use super::scope::CapturedScope;

/// Where the entered spans of the current thread come from, once an integration set it.
static SPAN_SOURCE: OnceLock<fn() -> Vec<CapturedScope>> = OnceLock::new();

/// Sets where the entered spans come from; the first source set stays.
#[doc(hidden)]
pub fn set_span_source(source: fn() -> Vec<CapturedScope>) {
    let _ = SPAN_SOURCE.set(source);
}

/// The entered spans of this thread as frame scopes, outermost first (none without a source).
pub(crate) fn span_scopes() -> Vec<CapturedScope> {
    SPAN_SOURCE.get().map_or_else(Vec::new, |source| source())
}
