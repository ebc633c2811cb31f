//! What `Debug` shows in place of captured data: its size, never its text.
//!
//! Captured values, messages, URLs and bodies may hold secrets, and `Debug` output ends up
//! in logs (`tracing::debug!(?capture)`), panic messages and test failures, none of which
//! pass through the filter. So types holding captured data write names, kinds and sizes,
//! and these stand for the rest.

use std::fmt;

/// Stands for a text: `<12 bytes>`.
#[derive(Clone, Copy)]
pub(crate) struct ByteLen(pub(crate) usize);

impl ByteLen {
    /// The size of a text that may be absent.
    pub(crate) fn of(text: Option<&str>) -> Option<Self> {
        text.map(|text| Self(text.len()))
    }
}

impl fmt::Debug for ByteLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.0 == 1 { "byte" } else { "bytes" };
        write!(f, "<{} {noun}>", self.0)
    }
}

/// Stands for a collection: `<3 entries>`, `<1 entry>`.
#[derive(Clone, Copy)]
pub(crate) struct Count {
    n: usize,
    one: &'static str,
    many: &'static str,
}

impl Count {
    /// `n` things, called `one` or `many`.
    pub(crate) fn new(n: usize, one: &'static str, many: &'static str) -> Self {
        Self { n, one, many }
    }

    /// `n` entries of a map.
    pub(crate) fn entries(n: usize) -> Self {
        Self::new(n, "entry", "entries")
    }

    /// `n` items of a list.
    pub(crate) fn items(n: usize) -> Self {
        Self::new(n, "item", "items")
    }
}

impl fmt::Debug for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.n == 1 { self.one } else { self.many };
        write!(f, "<{} {noun}>", self.n)
    }
}
