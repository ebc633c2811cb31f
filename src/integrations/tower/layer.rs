//! The layer: the web core's settings, applied to a tower service.

use std::sync::Arc;

use tower::Layer;

use super::service::ErrorReport;
use crate::integrations::web::config::Config;

/// A tower [`Layer`] that reports what goes wrong in the services it wraps, the way Django
/// does: the technical 500 and 404 pages in debug mode; otherwise a generic page, the
/// report mailed to the admins and broken links to the managers.
///
/// Debug mode is off by default. See the [module documentation](super) for what it does
/// on each kind of failure, and an example.
#[derive(Clone, Default)]
#[must_use]
pub struct ErrorReportLayer {
    config: Arc<Config>,
}

impl std::fmt::Debug for ErrorReportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.config.fmt_as("ErrorReportLayer", f)
    }
}

impl ErrorReportLayer {
    /// Debug mode off, the default reporter, no email, bodies buffered up to 64 KiB.
    pub fn new() -> Self {
        Self::default()
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    crate::integrations::web::config::settings_methods!(http::Extensions);
}

impl<S> Layer<S> for ErrorReportLayer {
    type Service = ErrorReport<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ErrorReport::new(inner, Arc::clone(&self.config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EditorLinks, ExceptionReporter, SafeReporterFilter};

    fn links() -> EditorLinks {
        EditorLinks::new("zed").unwrap()
    }

    #[test]
    fn editor_links_reach_a_reporter_chosen_before_or_after() {
        let before = ErrorReportLayer::new()
            .filter(SafeReporterFilter::default())
            .editor(links());
        assert_eq!(before.config.reporter.editor_links(), Some(&links()));
        let after = ErrorReportLayer::new()
            .editor(links())
            .filter(SafeReporterFilter::default());
        assert_eq!(after.config.reporter.editor_links(), Some(&links()));
        let own = EditorLinks::new("idea").unwrap();
        let chosen = ErrorReportLayer::new()
            .editor(links())
            .reporter(ExceptionReporter::default().editor(own.clone()));
        assert_eq!(chosen.config.reporter.editor_links(), Some(&own));
        assert_eq!(ErrorReportLayer::new().config.reporter.editor_links(), None);
    }
}
