//! An error value that travels to the layer or middleware with the response.

use std::sync::Arc;

use http::StatusCode;

use crate::limits::MAX_CAUSES;
use crate::model::{Capture, Cause};
use crate::runtime::Traced;

/// An error a handler answers with: the layer reports it as it reports a panic.
///
/// It converts from any [`std::error::Error`], keeping the type name, the message, the
/// chain of sources and the stack where the conversion happened (with the variables
/// registered there by [`vars!`](crate::vars)), so `?` works in handlers returning
/// `Result<_, ReportedError>`. Taking the stack costs about ten microseconds; its symbols
/// are resolved only if the error is reported. With the `axum` feature it is a response
/// (its status, `500 Internal Server Error` by default, with the error in the response
/// extensions); with the `actix` feature it is an actix-web `ResponseError`; otherwise
/// put it in the extensions of your response yourself.
///
/// ```
/// use safe_report::integrations::web::ReportedError;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("order {0} could not be loaded")]
/// struct OrderError(String, #[source] std::io::Error);
///
/// fn load() -> Result<String, OrderError> {
///     Err(OrderError("ord_42".into(), std::io::Error::other("connection refused")))
/// }
///
/// async fn show_order() -> Result<String, ReportedError> {
///     let order = load()?;
///     Ok(order)
/// }
///
/// let capture = ReportedError::from(load().unwrap_err()).capture();
/// assert!(capture.error.type_name.as_deref().unwrap().ends_with("OrderError"));
/// assert_eq!(capture.error.chain[0].message.as_deref(), Some("connection refused"));
/// assert!(!capture.frames.is_empty());
/// ```
///
/// A plain hyper or tower service puts it in its response:
///
/// ```
/// use safe_report::integrations::web::ReportedError;
///
/// let mut response = http::Response::new(String::new());
/// *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
/// response.extensions_mut().insert(ReportedError::new(&std::io::Error::other("disk full")));
/// ```
#[derive(Clone)]
pub struct ReportedError {
    source: Arc<dyn Source>,
    status: StatusCode,
}

/// Where the capture comes from: made already, or an error with its unresolved stack.
trait Source: Send + Sync {
    fn capture(&self) -> Capture;
}

impl Source for Capture {
    fn capture(&self) -> Capture {
        self.clone()
    }
}

impl<E: std::error::Error + Send + Sync + 'static> Source for Traced<E> {
    fn capture(&self) -> Capture {
        let mut capture = Capture::from_traced(self);
        capture.error.chain = causes(self.error());
        capture
    }
}

/// The `source()` chain, the direct cause first.
///
/// WORKAROUND: `Capture::from_error` cuts a chain where a source sits at the address of
/// the error holding it (a source that is the first field, as in `struct E(#[source] F)`),
/// taking it for a cycle; here an error is the same only if its address *and* type are.
fn causes(error: &(dyn std::error::Error + 'static)) -> Vec<Cause> {
    let mut seen: Vec<*const (dyn std::error::Error + 'static)> = Vec::new();
    let mut chain = Vec::new();
    let mut next = error.source();
    while let Some(cause) = next {
        let this: *const (dyn std::error::Error + 'static) = cause;
        if chain.len() >= MAX_CAUSES || seen.iter().any(|&other| std::ptr::eq(other, this)) {
            break;
        }
        seen.push(this);
        chain.push(Cause::direct(None, cause.to_string()));
        next = cause.source();
    }
    chain
}

impl std::fmt::Debug for ReportedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportedError")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for ReportedError {
    /// The status's reason phrase: what the client is told.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.status().canonical_reason().unwrap_or("Error"))
    }
}

impl ReportedError {
    /// The report of `error`: its type name, message and sources (no frames).
    pub fn new<E: std::error::Error + 'static>(error: &E) -> Self {
        let mut capture = Capture::from_error(error);
        capture.error.chain = causes(error);
        Self::from_capture(capture)
    }

    /// The report of `error` with the stack of the caller and the variables registered
    /// there (what `?` does through `From`).
    #[inline(never)]
    pub fn traced<E: std::error::Error + Send + Sync + 'static>(error: E) -> Self {
        Self::from_traced(Traced::new(error))
    }

    /// The report of an error wrapped in [`Traced`] where it happened.
    pub fn from_traced<E: std::error::Error + Send + Sync + 'static>(error: Traced<E>) -> Self {
        Self {
            source: Arc::new(error),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An error described by a capture (frames, variables, causes), reported as it is.
    pub fn from_capture(capture: Capture) -> Self {
        Self {
            source: Arc::new(capture),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 404 with a reason (Django's `raise Http404("…")`): in debug mode the technical 404
    /// page shows the reason; otherwise the production 404 page is shown.
    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::from_capture(Capture::error("NotFound", reason)).with_status(StatusCode::NOT_FOUND)
    }

    /// Answers with `status` instead of 500.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What will be reported, unfiltered: hand it to an
    /// [`ExceptionReporter`](crate::ExceptionReporter), never to an output. The symbols of
    /// a stack are resolved now.
    pub fn capture(&self) -> Capture {
        self.source.capture()
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ReportedError {
    #[inline(never)]
    fn from(error: E) -> Self {
        Self::from_traced(Traced::new(error))
    }
}
