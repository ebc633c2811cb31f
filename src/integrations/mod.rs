//! Integrations, each behind a cargo feature.

/// `tracing` integration: span fields as frame variables, ERROR events as reports.
#[cfg(feature = "tracing")]
pub mod tracing;
