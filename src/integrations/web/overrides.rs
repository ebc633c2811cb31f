//! Per-route and per-request settings: the counterparts of Django's
//! `@sensitive_post_parameters` and of `request.exception_reporter_filter` and
//! `request.exception_reporter_class`.

use std::cell::Cell;
use std::sync::Arc;

use super::pages::DebugPageRenderer;
use crate::filter::ReporterFilter;
use crate::model::SensitiveNames;

/// What a route or a handler changed for the report of its request.
#[derive(Default, Clone)]
pub(crate) struct Overrides {
    pub(crate) sensitive_post_parameters: Option<SensitiveNames>,
    pub(crate) filter: Option<Arc<dyn ReporterFilter>>,
    pub(crate) renderer: Option<Arc<dyn DebugPageRenderer>>,
    pub(crate) user: Option<String>,
}

impl Overrides {
    /// `Debug` of the layer or middleware named `name` that holds these overrides.
    pub(crate) fn fmt_as(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("sensitive_post_parameters", &self.sensitive_post_parameters)
            .field("filter", &self.filter.is_some())
            .field("reporter", &self.renderer.is_some())
            .finish()
    }

    pub(crate) fn add_sensitive(&mut self, names: &SensitiveNames) {
        match &mut self.sensitive_post_parameters {
            Some(existing) => existing.extend(names),
            None => self.sensitive_post_parameters = Some(names.clone()),
        }
    }
}

/// The builder methods of a route's settings (`new`, `sensitive_post_parameters`,
/// `filter`, `reporter`), for the overrides layer or middleware of an adapter: a type with
/// a field `overrides: Arc<Overrides>`, which derives `Default`.
macro_rules! override_methods {
    () => {
        /// No settings yet.
        pub fn new() -> Self {
            Self::default()
        }

        /// Declares POST parameters sensitive for these routes (`SensitiveNames::All` for
        /// Django's `@sensitive_post_parameters()` without names).
        pub fn sensitive_post_parameters(mut self, names: crate::SensitiveNames) -> Self {
            std::sync::Arc::make_mut(&mut self.overrides).add_sensitive(&names);
            self
        }

        /// Reports these routes through `filter`.
        pub fn filter(mut self, filter: impl crate::ReporterFilter + 'static) -> Self {
            std::sync::Arc::make_mut(&mut self.overrides).filter =
                Some(std::sync::Arc::new(filter));
            self
        }

        /// Renders the debug page of these routes with `reporter`.
        pub fn reporter(
            mut self,
            reporter: impl crate::integrations::web::DebugPageRenderer,
        ) -> Self {
            std::sync::Arc::make_mut(&mut self.overrides).renderer =
                Some(std::sync::Arc::new(reporter));
            self
        }
    };
}
pub(crate) use override_methods;

thread_local! {
    /// [`INSIDE`] and [`HELD`]: whether the layer is running a request's service or handler
    /// on this thread, and whether `CURRENT` holds that request's settings. A request
    /// without settings (the common case) never touches `CURRENT`, whose destructor makes it
    /// dearer to reach.
    static STATE: Cell<u8> = const { Cell::new(0) };
    /// The settings of the running request, while [`HELD`].
    static CURRENT: Cell<Option<Box<Overrides>>> = const { Cell::new(None) };
}

/// A [`STATE`] bit: the layer is running a request's service or handler on this thread.
const INSIDE: u8 = 1;
/// A [`STATE`] bit: `CURRENT` holds the running request's settings.
const HELD: u8 = 2;

/// Runs `f` (a call of the inner service or a poll of its future) with `overrides` as the
/// current request's settings, and keeps what `f` changed. Nothing is allocated until a
/// route or handler changes a setting.
#[inline]
pub(crate) fn with_overrides<R>(
    overrides: &mut Option<Box<Overrides>>,
    f: impl FnOnce() -> R,
) -> R {
    let before = STATE.get();
    if before & HELD == 0 && overrides.is_none() {
        // The common case: no settings, here or in an enclosing layer's request.
        struct Restore<'a> {
            before: u8,
            slot: &'a mut Option<Box<Overrides>>,
        }
        impl Drop for Restore<'_> {
            #[inline]
            fn drop(&mut self) {
                if STATE.get() & HELD != 0 {
                    keep_current(self.slot);
                }
                STATE.set(self.before);
            }
        }
        STATE.set(INSIDE);
        let _restore = Restore {
            before,
            slot: overrides,
        };
        return f();
    }
    with_overrides_held(before, overrides, f)
}

/// The settings of the request running on this thread, taken: for a panic that will never
/// be caught (`panic = "abort"`), reported from the hook.
pub(crate) fn take_current() -> Option<Box<Overrides>> {
    if STATE.get() & HELD == 0 {
        return None;
    }
    CURRENT.try_with(Cell::take).unwrap_or(None)
}

/// Takes what the route or the handler set into `slot`.
#[cold]
fn keep_current(slot: &mut Option<Box<Overrides>>) {
    *slot = CURRENT.try_with(Cell::take).unwrap_or(None);
}

/// [`with_overrides`] when this request or an enclosing one (nested layers) has settings.
#[cold]
fn with_overrides_held<R>(
    before: u8,
    overrides: &mut Option<Box<Overrides>>,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore<'a> {
        before: u8,
        /// The settings of an enclosing layer's request.
        outer: Option<Box<Overrides>>,
        slot: &'a mut Option<Box<Overrides>>,
    }
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            if STATE.get() & HELD != 0 {
                keep_current(self.slot);
            }
            if self.before & HELD != 0 {
                let outer = self.outer.take();
                let _ = CURRENT.try_with(|current| current.set(outer));
            }
            STATE.set(self.before);
        }
    }
    let outer = if before & HELD != 0 {
        CURRENT.try_with(Cell::take).unwrap_or(None)
    } else {
        None
    };
    let held = overrides.is_some()
        && CURRENT
            .try_with(|current| current.set(overrides.take()))
            .is_ok();
    STATE.set(if held { INSIDE | HELD } else { INSIDE });
    let _restore = Restore {
        before,
        outer,
        slot: overrides,
    };
    f()
}

/// The report settings of the request being handled, for its handler (or a middleware
/// inside the layer): what a report of this request shows.
///
/// These are the counterparts of what a Django view sets on its request:
/// [`sensitive_post_parameters`](Self::sensitive_post_parameters) (the decorator sets
/// `request.sensitive_post_parameters`), [`filter`](Self::filter)
/// (`request.exception_reporter_filter`), [`reporter`](Self::reporter)
/// (`request.exception_reporter_class`), and [`user`](Self::user) (`request.user`).
///
/// The handle acts on the request whose handler the tower layer or the actix middleware
/// is running on this thread: use it in the handler's own future (across `.await` is fine),
/// not in a task it spawns. Outside the layer it changes nothing
/// ([`is_attached`](Self::is_attached) says so). It costs nothing until a setting is made.
///
/// ```
/// use safe_report::SensitiveNames;
/// use safe_report::integrations::web::RequestReport;
///
/// async fn change_password(report: RequestReport /* , form … */) -> &'static str {
///     report.sensitive_post_parameters(SensitiveNames::names(["old", "new"]));
///     report.user("alice");
///     "changed"
/// }
/// ```
#[derive(Clone, Copy, Default)]
pub struct RequestReport {
    _private: (),
}

impl std::fmt::Debug for RequestReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestReport")
            .field("attached", &self.is_attached())
            .finish()
    }
}

impl RequestReport {
    /// The handle of the request being handled on this thread.
    pub fn current() -> Self {
        Self::default()
    }

    /// Whether a request's handler is running in the layer on this thread, so that what is
    /// set here is used.
    pub fn is_attached(&self) -> bool {
        STATE.get() & INSIDE != 0
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut Overrides)) {
        let state = STATE.get();
        if state & INSIDE == 0 {
            return;
        }
        let held = state & HELD != 0;
        let stored = CURRENT.try_with(|current| {
            let mut overrides = if held { current.take() } else { None }.unwrap_or_default();
            change(&mut overrides);
            current.set(Some(overrides));
        });
        STATE.set(if stored.is_ok() {
            state | HELD
        } else {
            state & !HELD
        });
    }

    /// Declares POST parameters of this request sensitive (Django's
    /// `@sensitive_post_parameters`): while debug is off their values are hidden in reports.
    /// Adds to what a route declared.
    pub fn sensitive_post_parameters(&self, names: SensitiveNames) {
        self.update(|overrides| overrides.add_sensitive(&names));
    }

    /// Reports this request through `filter` (Django's `request.exception_reporter_filter`):
    /// the debug page and the admin email.
    pub fn filter(&self, filter: impl ReporterFilter + 'static) {
        let filter: Arc<dyn ReporterFilter> = Arc::new(filter);
        self.update(|overrides| overrides.filter = Some(filter));
    }

    /// Renders the debug page of this request with `reporter` (Django's
    /// `request.exception_reporter_class`).
    pub fn reporter(&self, reporter: impl DebugPageRenderer) {
        let reporter: Arc<dyn DebugPageRenderer> = Arc::new(reporter);
        self.update(|overrides| overrides.renderer = Some(reporter));
    }

    /// The user the report names (Django's `request.user`).
    pub fn user(&self, user: impl Into<String>) {
        let user = user.into();
        self.update(|overrides| overrides.user = Some(user));
    }
}

/// Adds a route's settings to those of the request running on this thread (the route's
/// overrides layer or middleware, called inside the error-report layer).
pub(crate) fn apply_route(route: &Overrides) {
    RequestReport::current().update(|overrides| {
        if let Some(names) = &route.sensitive_post_parameters {
            overrides.add_sensitive(names);
        }
        if let Some(filter) = &route.filter {
            overrides.filter = Some(Arc::clone(filter));
        }
        if let Some(renderer) = &route.renderer {
            overrides.renderer = Some(Arc::clone(renderer));
        }
    });
}
