//! The settings of error reporting in a web service, shared by the tower layer and the
//! actix middleware, and the builder methods both offer.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::pages::{DebugPageRenderer, ProductionPages};
use crate::mail::{AdminNotifier, BrokenLinkReporter};
use crate::render::{EditorLinks, ReportTemplate};
use crate::report::ExceptionReporter;
use crate::sinks::Sink;

/// Request bodies are buffered up to this many bytes by default.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How long the layer waits for a body it buffers, by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the user of a request from its extensions (the framework's extensions type, which
/// the adapter that set it knows).
pub(crate) type UserFn = fn(&dyn std::any::Any) -> Option<String>;

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) debug: bool,
    pub(crate) reporter: ExceptionReporter,
    /// Whether `reporter` was chosen on the layer: then the emails use it too.
    pub(crate) reporter_chosen: bool,
    pub(crate) renderer: Option<Arc<dyn DebugPageRenderer>>,
    /// The application's templates: the debug page when no renderer is chosen, and the
    /// emails of a notifier without a template of its own.
    pub(crate) template: Option<Arc<dyn ReportTemplate>>,
    pub(crate) notifier: Option<AdminNotifier>,
    pub(crate) sinks: Vec<Sink>,
    pub(crate) broken_links: Option<BrokenLinkReporter>,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Option<Duration>,
    pub(crate) routes: Arc<[String]>,
    /// The routes, to find the one a request matched when the router did not say.
    pub(crate) route_matcher: Option<Arc<matchit::Router<usize>>>,
    pub(crate) settings: Option<Arc<Map<String, Value>>>,
    pub(crate) pages: ProductionPages,
    pub(crate) user: Option<UserFn>,
    /// Editor links chosen on the layer: given to `reporter`, also one chosen later.
    pub(crate) editor: Option<EditorLinks>,
    /// Ignore rules, sampling, grouping and `before_send` for the emails and sinks.
    pub(crate) controls: Option<crate::report::Controls>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            debug: false,
            reporter: ExceptionReporter::default(),
            reporter_chosen: false,
            renderer: None,
            template: None,
            notifier: None,
            sinks: Vec::new(),
            broken_links: None,
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: Some(DEFAULT_BODY_TIMEOUT),
            routes: Arc::from(Vec::new()),
            route_matcher: None,
            settings: None,
            pages: ProductionPages::default(),
            user: None,
            editor: None,
            controls: None,
        }
    }
}

impl Config {
    /// `Debug` of the layer or middleware named `name` that holds this configuration: its
    /// settings, never what the reporter or the notifier hold.
    pub(crate) fn fmt_as(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("debug", &self.debug)
            .field("template", &self.template.is_some())
            .field("notifier", &self.notifier.is_some())
            .field("sinks", &self.sinks.len())
            .field("broken_links", &self.broken_links.is_some())
            .field("body_limit", &self.body_limit)
            .field("body_timeout", &self.body_timeout)
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }

    /// The route of `path` among the given routes.
    pub(crate) fn match_route(&self, path: &str) -> Option<&str> {
        let matcher = self.route_matcher.as_ref()?;
        let at = *matcher.at(path).ok()?.value;
        self.routes.get(at).map(String::as_str)
    }
}

/// The builder methods of the settings above, for a type with `fn config(&mut self) ->
/// &mut Config`; `$extensions` is the framework's request extensions type, which
/// `user_extension` reads.
macro_rules! settings_methods {
    ($extensions:ty) => {
        /// Debug mode (Django's `DEBUG`): the technical pages instead of the production pages
        /// and emails. Never turn it on where strangers can reach the service.
        pub fn debug(mut self, debug: bool) -> Self {
            self.config().debug = debug;
            self
        }

        /// Builds every report with `reporter` (its filter, source root and caches): the debug
        /// page and the admin emails. Without it the debug page uses the default reporter and
        /// the emails the notifier's.
        pub fn reporter(mut self, reporter: crate::ExceptionReporter) -> Self {
            let config = self.config();
            config.reporter = match (&config.editor, reporter.editor_links()) {
                (Some(links), None) => reporter.editor(links.clone()),
                _ => reporter,
            };
            config.reporter_chosen = true;
            self
        }

        /// Links each frame of the debug page to its line in an editor (see
        /// [`render::editor`](crate::render::editor); `EditorLinks::from_env` reads
        /// `SAFE_REPORT_EDITOR` and `SAFE_REPORT_EDITOR_PATH_MAP`). A reporter chosen with
        /// [`reporter`](Self::reporter) or [`filter`](Self::filter) gets them too, unless it
        /// is chosen after this call with links of its own.
        pub fn editor(mut self, links: crate::EditorLinks) -> Self {
            let config = self.config();
            config.reporter = config.reporter.clone().editor(links.clone());
            config.editor = Some(links);
            self
        }

        /// Filters every report with `filter` (Django's `DEFAULT_EXCEPTION_REPORTER_FILTER`):
        /// the debug page and the admin emails. Short for
        /// `.reporter(crate::ExceptionReporter::new(filter))`.
        pub fn filter(self, filter: impl crate::ReporterFilter + 'static) -> Self {
            self.reporter(crate::ExceptionReporter::new(filter))
        }

        /// Renders the debug page with your own renderer (Django's
        /// `DEFAULT_EXCEPTION_REPORTER`).
        pub fn debug_page_renderer(
            mut self,
            renderer: impl crate::integrations::web::DebugPageRenderer,
        ) -> Self {
            self.config().renderer = Some(std::sync::Arc::new(renderer));
            self
        }

        /// Renders the debug page, and the admin emails of a notifier without a template of
        /// its own, with the application's templates (see
        /// [`render::template`](crate::render::template)): they get the report the filter
        /// built, never the capture, and where they fail our rendering is used. A
        /// [`debug_page_renderer`](Self::debug_page_renderer), on the layer or on a route,
        /// comes first for the page; the technical 404 page stays ours.
        pub fn template(mut self, template: impl crate::render::ReportTemplate) -> Self {
            self.config().template = Some(std::sync::Arc::new(template));
            self
        }

        /// Mails a report of every server error to the admins while debug mode is off (the
        /// notifier decides the audience: [`AdminNotifier::for_managers`](crate::AdminNotifier::for_managers) sends to managers).
        pub fn notifier(mut self, notifier: crate::AdminNotifier) -> Self {
            self.config().notifier = Some(notifier);
            self
        }

        /// Ignore rules, sampling, grouping and `before_send` (see
        /// [`Controls`](crate::report::Controls)) for the reports of server errors: applied
        /// once per error before the notifier and the sinks get it (replacing the notifier's
        /// own), `before_send` on their workers. The pages are not affected.
        pub fn controls(mut self, controls: crate::report::Controls) -> Self {
            self.config().controls = Some(controls);
            self
        }

        /// Also sends a report of every server error to `sink` while debug mode is off (a
        /// Sentry-compatible server, a webhook): the same reports the admins get, built through
        /// the same filter on the sink's worker. Call it again for more sinks.
        pub fn sink(mut self, sink: crate::sinks::Sink) -> Self {
            self.config().sinks.push(sink);
            self
        }

        /// Hands every 404 to `reporter` while debug mode is off (Django's
        /// `BrokenLinkEmailsMiddleware`).
        pub fn broken_links(mut self, reporter: crate::BrokenLinkReporter) -> Self {
            self.config().broken_links = Some(reporter);
            self
        }

        /// Buffers form, multipart and JSON bodies up to `limit` bytes (64 KiB by default);
        /// larger bodies are handed on unread and the report says so. `0` buffers nothing.
        pub fn body_limit(mut self, limit: usize) -> Self {
            self.config().body_limit = limit;
            self
        }

        /// How long to wait for a body being buffered (10 s by default; `None`: no limit).
        /// When it runs out, the handler gets the body as far as it came and the rest as it
        /// comes, and the report says the body was not buffered. The timer is tokio's: without
        /// a tokio runtime there is no limit.
        pub fn body_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.config().body_timeout = timeout;
            self
        }

        /// The service's routes (axum's syntax: `/orders/{id}`, `/files/{*path}`), in the order
        /// they are tried: the technical 404 page lists them, and a report names the route a
        /// request matched ("Raised during") when the router does not say (the layer around a
        /// whole router, or a plain hyper service).
        pub fn routes<I, S>(mut self, routes: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            let routes: std::sync::Arc<[String]> = routes.into_iter().map(Into::into).collect();
            let mut matcher = matchit::Router::new();
            for (at, route) in routes.iter().enumerate() {
                // A pattern the matcher refuses (a conflict) is only listed, not matched.
                let _ = matcher.insert(route.as_str(), at);
            }
            let config = self.config();
            config.routes = routes;
            config.route_matcher = Some(std::sync::Arc::new(matcher));
            self
        }

        /// Settings every report shows (filtered like every other part of the report).
        pub fn settings<T: serde::Serialize + ?Sized>(mut self, settings: &T) -> Self {
            // A panic in the settings' `Serialize` becomes a notice in the settings, not a report.
            let settings = crate::runtime::scope::while_formatting(|| {
                crate::model::Capture::settings_map(settings)
            });
            self.config().settings = Some(std::sync::Arc::new(settings));
            self
        }

        /// The production 500 page (HTML). The default is Django's minimal page.
        pub fn server_error_page(mut self, html: impl Into<String>) -> Self {
            self.config().pages.server_error = bytes::Bytes::from(html.into());
            self
        }

        /// The production 404 page (HTML). The default is Django's minimal page.
        pub fn not_found_page(mut self, html: impl Into<String>) -> Self {
            self.config().pages.not_found = bytes::Bytes::from(html.into());
            self
        }

        /// Names the user from a request extension of type `U` (as set by an authentication
        /// layer or middleware outside this one). Handlers can also name the user with
        /// [`RequestReport::user`](crate::integrations::web::RequestReport::user).
        pub fn user_extension<U>(mut self) -> Self
        where
            U: std::fmt::Display + Send + Sync + 'static,
        {
            self.config().user = Some(|extensions| {
                extensions
                    .downcast_ref::<$extensions>()?
                    .get::<U>()
                    .map(ToString::to_string)
            });
            self
        }
    };
}
pub(crate) use settings_methods;
