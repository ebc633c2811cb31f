//! Frame variables: named values attached to the running code, read by the panic hook and by
//! error capture.
//!
//! Rust cannot read a frame's locals, so a program names the values worth reporting:
//!
//! ```
//! fn charge(card_number: &str, order_id: &str) -> u64 {
//!     safe_report::vars!(card_number, order_id)
//!         .sensitive(&["card_number"])
//!         .run(|| {
//!             // … code that may panic or fail …
//!             42
//!         })
//! }
//! # assert_eq!(charge("4111111111111111", "ord_42"), 42);
//! ```
//!
//! and for async code, across `.await` on any runtime:
//!
//! ```
//! async fn charge(card_number: String, order_id: String) -> u64 {
//!     safe_report::vars!(card_number, order_id)
//!         .sensitive(&["card_number"])
//!         .run_async(async {
//!             // … awaits …
//!             42
//!         })
//!         .await
//! }
//! ```

mod collect;
mod macros;
mod plain;
mod read;
mod registry;
#[cfg(test)]
mod tests;

pub use collect::capture_scopes;
pub(crate) use collect::{
    capture_scopes_in_panic, capture_site_scopes, is_formatting, while_formatting,
};
// For integrations that format values themselves (the `tracing` layer); unused without them.
#[allow(unused_imports)]
pub(crate) use collect::format_guarded;
#[doc(hidden)]
pub use macros::private;
pub use plain::{Plain, PlainKey};
pub use read::Lock;
pub use registry::{How, Var, has_scopes};

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::model::{SensitiveNames, Variable};

/// Which names a scope declares sensitive. Closed (none, these, all), as
/// [`SensitiveNames`] is, so not `#[non_exhaustive]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// None.
    None,
    /// These names.
    Names(&'static [&'static str]),
    /// Every variable of this scope and of the scopes it runs.
    All,
}

impl Sensitivity {
    pub(super) fn covers(self, name: &str) -> bool {
        match self {
            Sensitivity::None => false,
            Sensitivity::Names(names) => names.contains(&name),
            Sensitivity::All => true,
        }
    }

    pub(crate) fn to_names(self) -> Option<SensitiveNames> {
        match self {
            Sensitivity::None => None,
            Sensitivity::Names(names) => Some(SensitiveNames::names(names.iter().copied())),
            Sensitivity::All => Some(SensitiveNames::All),
        }
    }
}

/// Variables of one frame, ready to be registered for a call ([`run`](Self::run)) or a
/// future ([`run_async`](Self::run_async)). Made by [`vars!`](crate::vars).
#[derive(Debug)]
#[must_use = "a scope registers nothing until `run` or `run_async` is called"]
pub struct Scope<V> {
    site: Site,
    /// The variables, an array `[Var<'a>; N]`.
    vars: V,
    sensitive: Sensitivity,
}

/// Where a scope was declared.
#[derive(Debug, Clone, Copy)]
#[doc(hidden)]
pub struct Site {
    pub function: &'static str,
    pub file: &'static str,
    pub line: u32,
}

impl<'a, const N: usize> Scope<[Var<'a>; N]> {
    /// A scope for `function` at `file:line` with these variables (see [`vars!`](crate::vars)).
    #[doc(hidden)]
    pub fn new(site: Site, vars: [Var<'a>; N]) -> Self {
        Self {
            site,
            vars,
            sensitive: Sensitivity::None,
        }
    }

    /// Declares these variables sensitive, here and in every scope run inside this one
    /// (Django's `@sensitive_variables("card_number")`). They are never formatted.
    pub fn sensitive(mut self, names: &'static [&'static str]) -> Self {
        self.sensitive = Sensitivity::Names(names);
        self
    }

    /// Declares every variable sensitive, here and in every scope run inside this one
    /// (Django's `@sensitive_variables()`).
    pub fn sensitive_all(mut self) -> Self {
        self.sensitive = Sensitivity::All;
        self
    }

    /// Runs `f` with these variables registered.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        registry::run_registered(self.site, &self.vars, self.sensitive, f)
    }

    /// Wraps `future` so that these variables are registered while it is polled.
    pub fn run_async<F: Future>(self, future: F) -> Scoped<F, [Var<'a>; N]> {
        Scoped {
            scope: self,
            future,
        }
    }
}

pin_project_lite::pin_project! {
    /// A future with variables registered while it is polled ([`Scope::run_async`]).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F, V> {
        scope: Scope<V>,
        #[pin]
        future: F,
    }
}

impl<'a, F: Future, const N: usize> Future for Scoped<F, [Var<'a>; N]> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let (site, sensitive) = (this.scope.site, this.scope.sensitive);
        registry::run_registered(site, &this.scope.vars, sensitive, || this.future.poll(cx))
    }
}

/// A frame's variables as captured: the site of the scope and its variables. `Debug` shows
/// the variables' names and kinds, never their values.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct CapturedScope {
    /// The function that registered the scope (`crate::module::function`).
    pub function: String,
    /// The source file of the registration.
    pub file: String,
    /// The line of the registration.
    pub line: u32,
    /// The variables; declared-sensitive ones carry the substitute, never their value.
    pub vars: Vec<Variable>,
    /// The names this scope declared sensitive (its callees inherit them).
    pub sensitive_variables: Option<SensitiveNames>,
}

impl fmt::Debug for CapturedScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapturedScope")
            .field("function", &self.function)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("vars", &self.vars)
            .field("sensitive_variables", &self.sensitive_variables)
            .finish()
    }
}

impl From<SiteScope> for CapturedScope {
    fn from(scope: SiteScope) -> Self {
        Self {
            function: scope.site.function.to_owned(),
            file: scope.site.file.to_owned(),
            line: scope.site.line,
            vars: scope.vars,
            sensitive_variables: scope.sensitive.to_names(),
        }
    }
}

/// A frame's variables as captured, with the scope's site and declaration as registered:
/// the function's and file's names are only copied if a report needs them (most scopes
/// join a frame of the trace, which has its own). `Debug` as [`CapturedScope`]'s.
#[derive(Clone)]
pub(crate) struct SiteScope {
    pub(crate) site: Site,
    /// As in [`CapturedScope::vars`].
    pub(crate) vars: Vec<Variable>,
    pub(crate) sensitive: Sensitivity,
}

impl fmt::Debug for SiteScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SiteScope")
            .field("site", &self.site)
            .field("vars", &self.vars)
            .field("sensitive", &self.sensitive)
            .finish()
    }
}
