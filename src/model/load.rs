//! Reading and writing the capture-v1 JSON form, with errors that name the offending field.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Breadcrumb, Capture, Environment, ErrorInfo, Frame, RequestInfo, SCHEMA, TaskContext};

/// Why a capture-v1 document could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureError {
    /// The input is not JSON at all.
    NotJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON parser reported.
        message: String,
    },
    /// The input is JSON, but a field is missing or has the wrong form.
    Field {
        /// The path of the offending field, such as `frames[3].line` (`.` for the whole document).
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::NotJson {
                line,
                column,
                message,
            } => write!(
                f,
                "not a capture-v1 document: invalid JSON at line {line}, column {column}: {message}"
            ),
            CaptureError::Field { field, message } => {
                write!(f, "not a capture-v1 document: {field}: {message}")
            }
        }
    }
}

impl std::error::Error for CaptureError {}

pub(super) fn from_slice(json: &[u8]) -> Result<Capture, CaptureError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let capture: Capture =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let field = error.path().to_string();
            classify(error.into_inner(), field)
        })?;
    deserializer
        .end()
        .map_err(|error| classify(error, ".".to_owned()))?;
    Ok(capture)
}

fn classify(error: serde_json::Error, field: String) -> CaptureError {
    match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            CaptureError::NotJson {
                line: error.line(),
                column: error.column(),
                message: strip_position(&error.to_string()),
            }
        }
        _ => CaptureError::Field {
            field,
            message: error.to_string(),
        },
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// The `schema` field: exactly `"capture-v1"`.
struct Schema;

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let tag = String::deserialize(deserializer)?;
        if tag == SCHEMA {
            Ok(Schema)
        } else {
            Err(serde::de::Error::custom(format!(
                "expected \"{SCHEMA}\", found {tag:?}"
            )))
        }
    }
}

impl Serialize for Schema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(SCHEMA)
    }
}

#[derive(Deserialize)]
struct Incoming {
    #[allow(dead_code)]
    schema: Schema,
    debug: bool,
    error: ErrorInfo,
    frames: Vec<Frame>,
    #[serde(default)]
    request: Option<RequestInfo>,
    #[serde(default)]
    settings: Option<Map<String, Value>>,
    #[serde(default)]
    environment: Option<Environment>,
    #[serde(default)]
    breadcrumbs: Vec<Breadcrumb>,
    context: Option<TaskContext>,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    schema: Schema,
    debug: bool,
    error: &'a ErrorInfo,
    frames: &'a [Frame],
    request: &'a Option<RequestInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: &'a Option<Environment>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    breadcrumbs: &'a [Breadcrumb],
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a TaskContext>,
}

impl<'de> Deserialize<'de> for Capture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let incoming = Incoming::deserialize(deserializer)?;
        Ok(Capture {
            debug: incoming.debug,
            error: incoming.error,
            frames: incoming.frames,
            request: incoming.request,
            settings: incoming.settings.map(Arc::new),
            environment: incoming.environment,
            breadcrumbs: incoming.breadcrumbs,
            context: incoming.context.map(Arc::new),
            admitted: false,
        })
    }
}

impl Serialize for Capture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Outgoing {
            schema: Schema,
            debug: self.debug,
            error: &self.error,
            frames: &self.frames,
            request: &self.request,
            settings: self.settings.as_deref(),
            environment: &self.environment,
            breadcrumbs: &self.breadcrumbs,
            context: self.context.as_deref(),
        }
        .serialize(serializer)
    }
}
