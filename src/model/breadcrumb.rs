//! Breadcrumbs: the events a thread or a task logged before the error, as plain data.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::redacted::ByteLen;

/// The severity of a breadcrumb, from the `tracing` or `log` record it was made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BreadcrumbLevel {
    /// `TRACE`.
    Trace,
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `WARN`.
    Warn,
    /// `ERROR`.
    Error,
}

impl BreadcrumbLevel {
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreadcrumbLevel::Trace => "TRACE",
            BreadcrumbLevel::Debug => "DEBUG",
            BreadcrumbLevel::Info => "INFO",
            BreadcrumbLevel::Warn => "WARN",
            BreadcrumbLevel::Error => "ERROR",
        }
    }
}

impl fmt::Display for BreadcrumbLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event logged before the error: when, how severe, where from (the record's target),
/// its message and its fields, unfiltered. `Debug` shows the level, the target and sizes,
/// never the message or a field's value.
///
/// ```
/// use safe_report::{Breadcrumb, BreadcrumbLevel, Capture};
///
/// let crumb = Breadcrumb::new(BreadcrumbLevel::Info, "shop::orders", "charging order ord_42")
///     .field("order_id", "ord_42");
/// let capture = Capture::error("PaymentError", "declined").with_breadcrumb(crumb);
/// assert_eq!(capture.breadcrumbs[0].message, "charging order ord_42");
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Breadcrumb {
    /// When the event was logged.
    pub timestamp: jiff::Timestamp,
    /// Its severity.
    pub level: BreadcrumbLevel,
    /// The record's target (by default its module path).
    pub category: String,
    /// The message.
    pub message: String,
    /// The event's fields, in the order logged (`tracing` fields; none for `log` records).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<BreadcrumbField>,
}

/// A field of a breadcrumb: its name and its value as logged (`Debug` of the value, or the
/// string itself).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BreadcrumbField {
    /// The field's name.
    pub name: String,
    /// The field's value, formatted when the report was built.
    pub value: String,
}

impl Breadcrumb {
    /// A breadcrumb logged now.
    pub fn new(
        level: BreadcrumbLevel,
        category: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            timestamp: jiff::Timestamp::now(),
            level,
            category: category.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field.
    #[must_use]
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push(BreadcrumbField {
            name: name.into(),
            value: value.into(),
        });
        self
    }
}

impl fmt::Debug for Breadcrumb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breadcrumb")
            .field("level", &self.level)
            .field("category", &self.category)
            .field("message", &ByteLen(self.message.len()))
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BreadcrumbField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BreadcrumbField")
            .field("name", &self.name)
            .field("value", &ByteLen(self.value.len()))
            .finish()
    }
}
