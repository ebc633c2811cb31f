//! The error and the chain of its causes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Frame;
use super::redacted::ByteLen;

/// The error: its type name, message and causes. `Debug` shows the message's size only.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl fmt::Debug for ErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorInfo")
            .field("type_name", &self.type_name)
            .field("message", &ByteLen::of(self.message.as_deref()))
            .field("chain", &self.chain)
            .finish()
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

/// One cause in an error's chain. `Debug` shows the message's size only.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cause")
            .field("type_name", &self.type_name)
            .field("message", &ByteLen::of(self.message.as_deref()))
            .field("explicit", &self.explicit)
            .field("frames", &self.frames)
            .finish()
    }
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
