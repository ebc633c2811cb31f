//! Captures of error values: the `source()` chain as causes, and frames from a trace the
//! error carries or one taken where it was created.
//!
//! ```
//! use safe_report::{Capture, Traced};
//!
//! fn load(order_id: &str) -> Result<String, Traced<std::io::Error>> {
//!     safe_report::vars!(order_id).run(|| {
//!         // `traced` takes the stack and the registered variables here, where it fails.
//!         std::fs::read_to_string("/no/such/order").map_err(Traced::new)
//!     })
//! }
//!
//! let error = load("ord_42").unwrap_err();
//! let capture = Capture::from_traced(&error);
//! assert_eq!(capture.error.type_name.as_deref(), Some("std::io::error::Error"));
//! assert!(capture.frames.iter().any(|f| f.vars.iter().any(|v| v.name == "order_id")));
//! ```

use std::error::Error;
use std::fmt;

use super::scope::{self, CapturedScope, SiteScope};
use super::trace::{self, InApp, Trace};
use crate::limits::MAX_CAUSES;
use crate::model::{Capture, Cause, ErrorInfo};

/// An error with the stack (unresolved, about ten microseconds to take) and the registered
/// frame variables of the place where it was created.
///
/// Wrap errors where they happen (`.map_err(Traced::new)`, or `?` on a
/// `Result<_, Traced<E>>`); report them with [`Capture::from_traced`]. `Display`, `Debug`
/// and `source()` are those of the inner error.
pub struct Traced<E> {
    error: E,
    backtrace: Trace,
    scopes: Vec<SiteScope>,
    spans: Vec<CapturedScope>,
    breadcrumbs: Vec<crate::model::Breadcrumb>,
}

impl<E> Traced<E> {
    /// Wraps `error`, taking the stack and the registered variables now.
    #[inline(never)]
    pub fn new(error: E) -> Self {
        Self {
            error,
            backtrace: Trace::capture(),
            scopes: scope::capture_site_scopes(),
            spans: super::span_scopes(),
            breadcrumbs: super::breadcrumbs::snapshot(),
        }
    }

    /// The error.
    pub fn error(&self) -> &E {
        &self.error
    }

    /// The error, unwrapped.
    pub fn into_inner(self) -> E {
        self.error
    }
}

/// `?` wraps an error into `Traced<E>`, taking the stack and the registered variables
/// where `?` was applied.
///
/// ```
/// use safe_report::{Capture, Traced};
///
/// fn parse(text: &str) -> Result<u32, Traced<std::num::ParseIntError>> {
///     let text = text.trim();
///     safe_report::vars!(text).run(|| Ok(text.parse::<u32>()?))
/// }
///
/// let error = parse("forty-two").unwrap_err();
/// let capture = Capture::from_traced(&error);
/// assert!(capture.frames.iter().any(|f| f.vars.iter().any(|v| v.name == "text")));
/// ```
impl<E: Error> From<E> for Traced<E> {
    #[inline(never)]
    fn from(error: E) -> Self {
        Self::new(error)
    }
}

impl<E: fmt::Display> fmt::Display for Traced<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<E: fmt::Debug> fmt::Debug for Traced<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl<E: Error> Error for Traced<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// `result.traced()`: wraps the error of a `Result` in [`Traced`].
pub trait ResultExt<T, E> {
    /// Wraps the error, taking the stack and the registered variables here.
    fn traced(self) -> Result<T, Traced<E>>;
}

impl<T, E> ResultExt<T, E> for Result<T, E> {
    #[inline(never)]
    fn traced(self) -> Result<T, Traced<E>> {
        self.map_err(Traced::new)
    }
}

/// The `source()` chain of `error` as causes (the direct cause first), cycles and overlong
/// chains cut.
fn causes(mut next: Option<&(dyn Error + 'static)>) -> Vec<Cause> {
    let mut seen: Vec<*const ()> = Vec::new();
    let mut chain = Vec::new();
    while let Some(cause) = next {
        let identity = (cause as *const dyn Error).cast::<()>();
        if seen.contains(&identity) || chain.len() >= MAX_CAUSES {
            break;
        }
        seen.push(identity);
        chain.push(Cause::direct(None, cause.to_string()));
        next = cause.source();
    }
    chain
}

impl Capture {
    /// A capture of an error value: its message, and its `source()` chain as causes (each a
    /// direct cause). No frames: use [`Capture::from_traced`] for those.
    ///
    /// ```
    /// let error = std::io::Error::other("disk full");
    /// let capture = safe_report::Capture::from_error(&error);
    /// assert_eq!(capture.error.message.as_deref(), Some("disk full"));
    /// ```
    pub fn from_error<E: Error + 'static>(error: &E) -> Self {
        Self::from_dyn_error(Some(std::any::type_name::<E>()), error)
    }

    /// As [`from_error`](Self::from_error) for an error whose type is not known.
    pub fn from_dyn_error(type_name: Option<&str>, error: &(dyn Error + 'static)) -> Self {
        let mut info = ErrorInfo::new(type_name.map(str::to_owned), Some(error.to_string()));
        info.chain = causes(error.source());
        Capture {
            error: info,
            environment: Some(crate::model::Environment::current()),
            breadcrumbs: super::breadcrumbs::snapshot(),
            context: super::context::current(),
            ..Capture::default()
        }
    }

    /// A capture of a [`Traced`] error: message, causes, the frames of where it was
    /// created (symbols resolved now, with a cache) and the variables registered there.
    pub fn from_traced<E: Error + 'static>(error: &Traced<E>) -> Self {
        Self::from_traced_with(error, &InApp::default())
    }

    /// As [`from_traced`](Self::from_traced), with rules for which frames are application
    /// code.
    pub fn from_traced_with<E: Error + 'static>(error: &Traced<E>, in_app: &InApp) -> Self {
        let mut capture = Self::from_error(&error.error);
        capture.frames = trace::resolve_to_frames(
            &error.backtrace,
            in_app,
            error.scopes.clone(),
            error.spans.clone(),
        );
        capture.breadcrumbs = error.breadcrumbs.clone();
        capture
    }

    /// As [`from_traced`](Self::from_traced), consuming the error: its captured variables
    /// move into the capture instead of being copied.
    ///
    /// ```
    /// use safe_report::{Capture, Traced};
    ///
    /// let order_id = "ord_42";
    /// let error = safe_report::vars!(order_id)
    ///     .run(|| Traced::new(std::io::Error::other("disk full")));
    /// let capture = Capture::from_traced_owned(error);
    /// assert_eq!(capture.error.message.as_deref(), Some("disk full"));
    /// assert!(capture.frames.iter().any(|f| f.vars.iter().any(|v| v.name == "order_id")));
    /// ```
    pub fn from_traced_owned<E: Error + 'static>(error: Traced<E>) -> Self {
        let mut capture = Self::from_error(&error.error);
        capture.frames = trace::resolve_to_frames(
            &error.backtrace,
            &InApp::default(),
            error.scopes,
            error.spans,
        );
        capture.breadcrumbs = error.breadcrumbs;
        capture
    }

    /// A capture of an `anyhow::Error`: the chain as causes, and the frames of the
    /// backtrace it carries (anyhow captures one when `RUST_BACKTRACE` or
    /// `RUST_LIB_BACKTRACE` is set). A [`Traced`] error inside is not found here, since its
    /// type depends on the error it wraps: take it out with
    /// `error.downcast_ref::<Traced<MyError>>()` and report it with
    /// [`from_traced`](Self::from_traced) for its own frames and variables.
    #[cfg(feature = "anyhow")]
    pub fn from_anyhow(error: &anyhow::Error) -> Self {
        let root: &(dyn Error + 'static) = error.as_ref();
        let mut capture = Self::from_dyn_error(Some("anyhow::Error"), root);
        let backtrace = error.backtrace();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            let symbols = trace::parse_std_backtrace(&backtrace.to_string());
            capture.frames = trace::to_frames(&symbols, &InApp::default(), Vec::new());
        }
        capture
    }

    /// A capture of an `eyre::Report`: the chain as causes, and the frames of the backtrace
    /// its handler printed (eyre's default handler captures one when `RUST_BACKTRACE` or
    /// `RUST_LIB_BACKTRACE` is set).
    #[cfg(feature = "eyre")]
    pub fn from_eyre(report: &eyre::Report) -> Self {
        let root: &(dyn Error + 'static) = report.as_ref();
        let mut capture = Self::from_dyn_error(Some("eyre::Report"), root);
        let printed = format!("{report:?}");
        if let Some((_, backtrace)) = printed.split_once("Stack backtrace:") {
            let symbols = trace::parse_std_backtrace(backtrace);
            capture.frames = trace::to_frames(&symbols, &InApp::default(), Vec::new());
        }
        capture
    }
}
