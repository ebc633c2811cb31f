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

mod environment;
mod error;
mod load;
pub mod panic;
pub(crate) mod raw_text;
pub mod scope;
pub mod trace;
pub(crate) mod value;

pub use environment::Environment;
pub use error::{MAX_CAUSES, ResultExt, Traced};
pub use load::CaptureError;
pub use raw_text::RawText;
pub use value::{CapturedKind, CapturedRef, CapturedValue, Entries, Items};

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The schema tag of the JSON form of a [`Capture`].
pub const SCHEMA: &str = "capture-v1";

/// Plain, unfiltered data about one error: the error and its causes, frames with their
/// variables, the request, settings, environment and the debug flag.
///
/// A `Capture` is never rendered directly; [`ExceptionReporter`](crate::ExceptionReporter)
/// filters it into a [`Report`](crate::Report).
#[derive(Debug, Clone, Default, PartialEq)]
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

    /// Sets the environment.
    #[must_use]
    pub fn with_environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// Sets the settings from any serializable value whose form is a map or a struct.
    ///
    /// A value that cannot be turned into a JSON object (a map with keys that are not
    /// strings or numbers, a `Serialize` impl that fails, a value that is not a map) is not
    /// lost silently: the settings then hold one entry, `SETTINGS`, whose value is
    /// `Error in formatting: …` with the reason.
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

/// The entered `tracing` spans of this thread as frame scopes (with the `tracing` feature).
pub(crate) fn span_scopes() -> Vec<scope::CapturedScope> {
    #[cfg(feature = "tracing")]
    {
        crate::integrations::tracing::current_span_scopes()
    }
    #[cfg(not(feature = "tracing"))]
    {
        Vec::new()
    }
}

/// The message of a panic payload: the `&str` or `String` it carries, or a placeholder.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

fn settings_object<T: Serialize + ?Sized>(settings: &T) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            let mut map = Map::new();
            map.insert(
                "SETTINGS".to_owned(),
                Value::String(format!(
                    "Error in formatting: settings must be a map or a struct, not {}",
                    value_kind(&other)
                )),
            );
            map
        }
        Err(error) => {
            let mut map = Map::new();
            map.insert(
                "SETTINGS".to_owned(),
                Value::String(format!("Error in formatting: {error}")),
            );
            map
        }
    }
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

/// The error: its type name, message and causes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorInfo {
    /// The type name, such as `std::io::Error`; `None` for a report about a message alone.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// The message (`Display` of the error).
    pub message: Option<String>,
    /// Causes, the direct cause first and the innermost (oldest) last.
    #[serde(default)]
    pub chain: Vec<Cause>,
}

impl ErrorInfo {
    /// An error with a type name and a message.
    pub fn new(type_name: Option<String>, message: Option<String>) -> Self {
        Self {
            type_name,
            message,
            chain: Vec::new(),
        }
    }
}

/// One cause in an error's chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cause {
    /// The cause's type name, if known.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// The cause's message.
    pub message: Option<String>,
    /// `true`: the error above was raised *because of* this one ("direct cause");
    /// `false`: it was raised *while handling* this one ("during handling").
    #[serde(default = "default_true")]
    pub explicit: bool,
    /// Frames of this cause, when it carries its own trace (outermost first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
}

fn default_true() -> bool {
    true
}

impl Cause {
    /// A cause the error above was raised from ("direct cause").
    pub fn direct(type_name: Option<String>, message: impl Into<String>) -> Self {
        Self {
            type_name,
            message: Some(message.into()),
            explicit: true,
            frames: Vec::new(),
        }
    }

    /// A cause the error above was raised while handling ("during handling").
    pub fn during_handling(type_name: Option<String>, message: impl Into<String>) -> Self {
        Self {
            explicit: false,
            ..Self::direct(type_name, message)
        }
    }

    /// Adds a frame of this cause's own trace (outermost first).
    #[must_use]
    pub fn with_frame(mut self, frame: Frame) -> Self {
        self.frames.push(frame);
        self
    }
}

/// One stack frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Frame {
    /// The function, with its module path (`shop::checkout::charge`).
    pub function: String,
    /// The source file; relative names are resolved against the reporter's source root.
    pub file: Option<String>,
    /// The 1-based line number.
    pub line: Option<u32>,
    /// Whether this is application code (`true`) or library code.
    pub in_app: bool,
    /// Variables attached to this frame.
    #[serde(default)]
    pub vars: Vec<Variable>,
    /// Variables declared sensitive in this frame (Django's `@sensitive_variables`). The
    /// frames this one calls (those after it) inherit the declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_variables: Option<SensitiveNames>,
}

impl Frame {
    /// A frame at `file:line` in `function`.
    pub fn new(function: impl Into<String>, file: impl Into<String>, line: u32) -> Self {
        Self {
            function: function.into(),
            file: Some(file.into()),
            line: Some(line),
            in_app: true,
            vars: Vec::new(),
            sensitive_variables: None,
        }
    }

    /// Marks the frame as application (`true`) or library (`false`) code.
    #[must_use]
    pub fn in_app(mut self, in_app: bool) -> Self {
        self.in_app = in_app;
        self
    }

    /// Attaches a variable.
    #[must_use]
    pub fn var(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<CapturedValue>,
    ) -> Self {
        self.vars.push(Variable::new(name, value));
        self
    }

    /// Attaches a variable whose value could not be formatted (the report shows
    /// `Error in formatting: <reason>`).
    #[must_use]
    pub fn var_failed(
        mut self,
        name: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
    ) -> Self {
        self.vars.push(Variable::formatting_failed(name, reason));
        self
    }

    /// Declares variables of this frame (and of the frames it calls) sensitive.
    #[must_use]
    pub fn sensitive_variables(mut self, names: SensitiveNames) -> Self {
        self.sensitive_variables = Some(names);
        self
    }
}

/// A named value attached to a frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Variable {
    /// The variable's name (borrowed when it is known at compile time, as the names
    /// `vars!` registers are).
    pub name: Cow<'static, str>,
    /// Its value, as structured data where possible (so nested keys can be filtered).
    #[serde(default)]
    pub value: CapturedValue,
    /// Set when the value could not be formatted (a panicking `Debug`, say); the report then
    /// shows `Error in formatting: <this text>` instead of the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Variable {
    /// A variable with a value.
    pub fn new(name: impl Into<Cow<'static, str>>, value: impl Into<CapturedValue>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            error: None,
        }
    }

    /// A variable whose value could not be formatted.
    pub fn formatting_failed(
        name: impl Into<Cow<'static, str>>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            value: CapturedValue::default(),
            error: Some(reason.into()),
        }
    }
}

/// Names declared sensitive: a list of names, or all of them (Django's `"__ALL__"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SensitiveNames {
    /// Every name is sensitive.
    All,
    /// These names are sensitive.
    Names(Vec<String>),
}

impl SensitiveNames {
    /// A list of names.
    pub fn names<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::Names(names.into_iter().map(Into::into).collect())
    }

    /// Whether `name` is covered.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Names(names) => names.iter().any(|n| n == name),
        }
    }

    /// Adds `other` to this set: `All` absorbs everything.
    pub fn extend(&mut self, other: &SensitiveNames) {
        match (&mut *self, other) {
            (Self::All, _) => {}
            (_, Self::All) => *self = Self::All,
            (Self::Names(mine), Self::Names(theirs)) => {
                for name in theirs {
                    if !mine.contains(name) {
                        mine.push(name.clone());
                    }
                }
            }
        }
    }
}

const ALL_MARKER: &str = "__ALL__";

impl Serialize for SensitiveNames {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str(ALL_MARKER),
            Self::Names(names) => names.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SensitiveNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Marker(String),
            Names(Vec<String>),
        }
        match Form::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom("expected a list of names or the string \"__ALL__\"")
        })? {
            Form::Marker(marker) if marker == ALL_MARKER => Ok(Self::All),
            Form::Marker(other) => Err(serde::de::Error::custom(format!(
                "expected a list of names or the string \"__ALL__\", found the string {other:?}"
            ))),
            Form::Names(names) => Ok(Self::Names(names)),
        }
    }
}

/// The HTTP request being handled when the error happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestInfo {
    /// The method, such as `POST`.
    pub method: String,
    /// The full URL with scheme, host, path and query string.
    pub url: String,
    /// Headers in the order received, duplicates kept.
    #[serde(default)]
    pub headers: Vec<(String, RawText)>,
    /// The body as received (it is interpreted by the `Content-Type` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RawText>,
    /// Why the body is missing, when it was not buffered (too large, streaming, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_omitted: Option<String>,
    /// The client address.
    #[serde(default)]
    pub remote_addr: Option<String>,
    /// The authenticated user, as text.
    #[serde(default)]
    pub user: Option<String>,
    /// The route or handler that raised (Django's "Raised during").
    #[serde(default)]
    pub route: Option<String>,
    /// POST parameters declared sensitive (Django's `@sensitive_post_parameters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_post_parameters: Option<SensitiveNames>,
    /// Uploaded files known without the body (the body may also hold them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<UploadedFile>,
    /// Header names the HTTP stack marked sensitive (`HeaderValue::is_sensitive`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_headers: Vec<String>,
}

impl RequestInfo {
    /// A request with a method and a full URL.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            ..Self::default()
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<RawText>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<RawText>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets the client address.
    #[must_use]
    pub fn remote_addr(mut self, addr: impl Into<String>) -> Self {
        self.remote_addr = Some(addr.into());
        self
    }

    /// Sets the user.
    #[must_use]
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets the route or handler name.
    #[must_use]
    pub fn route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// Declares POST parameters sensitive.
    #[must_use]
    pub fn sensitive_post_parameters(mut self, names: SensitiveNames) -> Self {
        self.sensitive_post_parameters = Some(names);
        self
    }

    /// The first header with this name (compared case-insensitively), as text.
    pub fn header_value(&self, name: &str) -> Option<&RawText> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// An uploaded file: its field, file name, content type and size. Never its content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadedFile {
    /// The form field name.
    pub field: String,
    /// The file name the client sent.
    pub filename: Option<String>,
    /// The content type the client sent.
    pub content_type: Option<String>,
    /// The size in bytes, when known.
    pub size: Option<u64>,
}

impl UploadedFile {
    /// An uploaded file.
    pub fn new(
        field: impl Into<String>,
        filename: Option<String>,
        content_type: Option<String>,
        size: Option<u64>,
    ) -> Self {
        Self {
            field: field.into(),
            filename,
            content_type,
            size,
        }
    }
}
