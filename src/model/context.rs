//! Tags and context values that the running work attached (a tenant, a job id), as
//! captured with an error.

use serde::{Deserialize, Serialize};

/// Tags and context key/values of the work an error happened in, unfiltered.
///
/// Running code attaches them with [`runtime::context`](crate::runtime::context); the
/// report shows them, filtered like everything else (`api_key` is hidden by its name, a
/// token in a value by its form). `Debug` counts them and shows no value.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskContext {
    /// Short labels to search and group by (`tenant`, `region`), in the order set; a later
    /// tag of the same name replaces an earlier one.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Other key/values (`job_id`, `order`), in the order set, a later key replacing an
    /// earlier one.
    #[serde(default)]
    pub values: Vec<(String, String)>,
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext")
            .field("tags", &self.tags.len())
            .field("values", &self.values.len())
            .finish()
    }
}

impl TaskContext {
    /// No tags, no values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tag, replacing one of the same name.
    #[must_use]
    pub fn with_tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::put(&mut self.tags, name.into(), value.into());
        self
    }

    /// Adds a context value, replacing one of the same name.
    #[must_use]
    pub fn with_value(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::put(&mut self.values, name.into(), value.into());
        self
    }

    /// Whether there is neither a tag nor a value.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.values.is_empty()
    }

    /// Adds `name` and `value` to `list`, replacing an entry of the same name.
    pub(crate) fn put(list: &mut Vec<(String, String)>, name: String, value: String) {
        match list.iter_mut().find(|(known, _)| *known == name) {
            Some(entry) => entry.1 = value,
            None => list.push((name, value)),
        }
    }

    /// `self` with `inner`'s entries over it (inner ones win on equal names).
    pub(crate) fn merged(&self, inner: &TaskContext) -> TaskContext {
        let mut out = self.clone();
        for (name, value) in &inner.tags {
            Self::put(&mut out.tags, name.clone(), value.clone());
        }
        for (name, value) in &inner.values {
            Self::put(&mut out.values, name.clone(), value.clone());
        }
        out
    }
}
