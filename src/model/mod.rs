//! The capture: plain, unfiltered data an error report is built from.
//!
//! Everything that produces reports (a capture-v1 JSON file, the panic hook, error values,
//! middleware) produces a [`Capture`]. A capture holds secrets as they were found; the only
//! way to turn it into something that can be shown is [`ExceptionReporter`], which runs it
//! through a [`ReporterFilter`](crate::ReporterFilter).
//!
//! Its JSON form is capture-v1:
//!
//! ```
//! use safe_report::Capture;
//!
//! let capture = Capture::from_json(r#"{
//!     "schema": "capture-v1",
//!     "debug": false,
//!     "error": {"type": "ValueError", "message": "Can't find my keys", "chain": []},
//!     "frames": [{"function": "shop::view", "file": "src/view.rs", "line": 12,
//!                 "in_app": true, "vars": [{"name": "order_id", "value": "ord_42"}]}],
//!     "request": null,
//!     "settings": {"DEBUG": false}
//! }"#)?;
//! assert_eq!(capture.error.type_name.as_deref(), Some("ValueError"));
//! assert_eq!(capture.frames[0].vars[0].name, "order_id");
//! # Ok::<(), safe_report::CaptureError>(())
//! ```
//!
//! [`ExceptionReporter`]: crate::ExceptionReporter

mod breadcrumb;
mod context;
mod environment;
#[cfg(feature = "mail")]
pub(crate) use environment::host_name;
mod error;
mod frame;
mod identity;
mod level;
mod load;
pub(crate) mod raw_text;
pub(crate) mod redacted;
mod request;
pub(crate) mod value;

pub use breadcrumb::{Breadcrumb, BreadcrumbField, BreadcrumbLevel};
pub use context::TaskContext;
pub use environment::Environment;
pub(crate) use error::panic_message;
pub use error::{Cause, ErrorInfo};
pub use frame::{Frame, SensitiveNames, Variable};
pub use identity::{ENVIRONMENT_VAR, Identity, IdentityInstalled, RELEASE_VAR, SERVER_NAME_VAR};
pub use level::Level;
pub use load::CaptureError;
pub use raw_text::RawText;
pub use request::{RequestInfo, UploadedFile};
pub use value::{CapturedKind, CapturedRef, CapturedValue, Entries, Items};

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

/// The schema tag of the JSON form of a [`Capture`].
pub const SCHEMA: &str = "capture-v1";

/// Plain, unfiltered data about one error: the error and its causes, frames with their
/// variables, the request, settings, environment and the debug flag.
///
/// A `Capture` is never rendered directly; [`ExceptionReporter`](crate::ExceptionReporter)
/// filters it into a [`Report`](crate::Report). Its `Debug` shows names, kinds and sizes
/// (type names, frames, variable and header names, how many settings), never a value.
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Capture {
    /// Debug mode (Django's `DEBUG`). When `false` the default filter is active and also hides
    /// POST parameters and frame variables declared sensitive.
    pub debug: bool,
    /// The error and the chain of its causes.
    pub error: ErrorInfo,
    /// Frames of the error, outermost first; the error was raised in the last one.
    pub frames: Vec<Frame>,
    /// The HTTP request being handled, if any.
    pub request: Option<RequestInfo>,
    /// Settings as a JSON object (any `impl Serialize`, see [`Capture::with_settings`]),
    /// shared: captures of one process usually carry the same settings, and a report
    /// reuses the filtered settings section while they stay the same.
    pub settings: Option<Arc<Map<String, Value>>>,
    /// Where the error happened. When absent, reports show the reporting process's environment.
    pub environment: Option<Environment>,
    /// The events logged before the error, oldest first (see
    /// [`runtime::breadcrumbs`](crate::runtime::breadcrumbs)).
    pub breadcrumbs: Vec<Breadcrumb>,
    /// The tags and context values of the work the error happened in (see
    /// [`runtime::context`](crate::runtime::context)).
    pub context: Option<Arc<TaskContext>>,
    /// Set once the capture passed an entry point's [`Controls`](crate::report::Controls)
    /// (ignore rules, sampling), so that a second entry point does not sample it again.
    pub(crate) admitted: bool,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("debug", &self.debug)
            .field("error", &self.error)
            .field("frames", &self.frames)
            .field("request", &self.request)
            .field(
                "settings",
                &self
                    .settings
                    .as_ref()
                    .map(|settings| redacted::Count::entries(settings.len())),
            )
            .field(
                "environment",
                &self.environment.as_ref().map(|_| format_args!("..")),
            )
            .field("breadcrumbs", &self.breadcrumbs)
            .field("context", &self.context)
            .finish()
    }
}

impl Capture {
    /// An empty capture: no error type, no message, no frames, no request.
    pub fn new() -> Self {
        Self::default()
    }

    /// A capture for an error with this type name and message.
    ///
    /// ```
    /// let capture = safe_report::Capture::error("PaymentError", "payment declined");
    /// assert_eq!(capture.error.message.as_deref(), Some("payment declined"));
    /// ```
    pub fn error(type_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorInfo {
                type_name: Some(type_name.into()),
                message: Some(message.into()),
                chain: Vec::new(),
            },
            ..Self::default()
        }
    }

    /// A report for a message alone, without an error type (Django's `Report at …`).
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            error: ErrorInfo {
                type_name: None,
                message: Some(message.into()),
                chain: Vec::new(),
            },
            ..Self::default()
        }
    }

    /// Sets the debug flag.
    #[must_use]
    pub fn with_debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Adds a cause to the end of the chain (each call adds an older cause).
    #[must_use]
    pub fn with_cause(mut self, cause: Cause) -> Self {
        self.error.chain.push(cause);
        self
    }

    /// Adds a frame below the existing ones (frames go outermost first).
    #[must_use]
    pub fn with_frame(mut self, frame: Frame) -> Self {
        self.frames.push(frame);
        self
    }

    /// Sets the request.
    #[must_use]
    pub fn with_request(mut self, request: RequestInfo) -> Self {
        self.request = Some(request);
        self
    }

    /// Adds a breadcrumb after the existing ones (breadcrumbs go oldest first).
    #[must_use]
    pub fn with_breadcrumb(mut self, breadcrumb: Breadcrumb) -> Self {
        self.breadcrumbs.push(breadcrumb);
        self
    }

    /// Sets the environment.
    #[must_use]
    pub fn with_environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Sets the tags and context values.
    #[must_use]
    pub fn with_context(mut self, context: TaskContext) -> Self {
        self.context = Some(Arc::new(context));
        self
    }

    /// Sets the settings from any serializable value whose form is a map or a struct.
    ///
    /// A value that cannot be turned into a JSON object (a map with keys that are not
    /// strings or numbers, a `Serialize` impl that fails or panics, a value that is not a
    /// map) is not lost silently: the settings then hold one entry, `SETTINGS`, whose value
    /// is `Error in formatting: …` with the reason.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Settings { database_url: String, workers: u32 }
    ///
    /// let capture = safe_report::Capture::new().with_settings(&Settings {
    ///     database_url: "postgres://app:secret@db/app".into(),
    ///     workers: 4,
    /// });
    /// assert_eq!(capture.settings.unwrap()["workers"], 4);
    /// ```
    #[must_use]
    pub fn with_settings<T: Serialize + ?Sized>(mut self, settings: &T) -> Self {
        self.settings = Some(Arc::new(settings_object(settings)));
        self
    }

    /// Sets settings turned into a map once and shared by many captures (see
    /// [`Capture::settings_map`]): nothing is copied, and a reporter reuses the filtered
    /// settings section for as long as the captures it reports share the same map.
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let settings = Arc::new(safe_report::Capture::settings_map(&serde_json::json!({
    ///     "DEBUG": false, "SECRET_KEY": "k3y",
    /// })));
    /// let capture = safe_report::Capture::error("E", "x").with_shared_settings(Arc::clone(&settings));
    /// assert!(Arc::ptr_eq(capture.settings.as_ref().unwrap(), &settings));
    /// ```
    #[must_use]
    pub fn with_shared_settings(mut self, settings: Arc<Map<String, Value>>) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Settings as the map a capture holds, from any serializable value whose form is a
    /// map or a struct (with the `SETTINGS` error entry of [`Capture::with_settings`]
    /// otherwise).
    pub fn settings_map<T: Serialize + ?Sized>(settings: &T) -> Map<String, Value> {
        settings_object(settings)
    }

    /// Reads a capture-v1 JSON document.
    ///
    /// Errors name the offending field, for example
    /// `frames[3].line: invalid type: string "x", expected u32`.
    pub fn from_json(json: &str) -> Result<Self, CaptureError> {
        load::from_slice(json.as_bytes())
    }

    /// Reads a capture-v1 JSON document from bytes (which must be UTF-8 JSON).
    pub fn from_json_slice(json: &[u8]) -> Result<Self, CaptureError> {
        load::from_slice(json)
    }

    /// Writes this capture as a capture-v1 JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Capture always serializes")
    }
}

fn settings_object<T: Serialize + ?Sized>(settings: &T) -> Map<String, Value> {
    // The settings' `Serialize` is the application's code: a panic in it becomes the notice,
    // as an error does, instead of taking down whoever sets the settings.
    let serialized = catch_unwind(AssertUnwindSafe(|| serde_json::to_value(settings)));
    let reason = match serialized {
        Ok(Ok(Value::Object(map))) => return map,
        Ok(Ok(other)) => format!(
            "settings must be a map or a struct, not {}",
            value_kind(&other)
        ),
        Ok(Err(error)) => error.to_string(),
        Err(payload) => format!(
            "the settings' formatting panicked: {}",
            panic_message(payload.as_ref())
        ),
    };
    let mut map = Map::new();
    map.insert(
        "SETTINGS".to_owned(),
        Value::String(format!("Error in formatting: {reason}")),
    );
    map
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}
