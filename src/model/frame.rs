//! Stack frames, their variables, and the names declared sensitive in them.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::CapturedValue;
use super::redacted::ByteLen;

/// One stack frame. `Debug` shows its variables' names and kinds, never their values.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Frame {
    /// The function, with its module path (`shop::checkout::charge`).
    pub function: String,
    /// The source file; relative names are resolved against the reporter's source root.
    pub file: Option<String>,
    /// The 1-based line number.
    pub line: Option<u32>,
    /// The 1-based column, when known (the frame where a panic happened has its location's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
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

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("function", &self.function)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("in_app", &self.in_app)
            .field("vars", &self.vars)
            .field("sensitive_variables", &self.sensitive_variables)
            .finish()
    }
}

impl Frame {
    /// A frame at `file:line` in `function`.
    pub fn new(function: impl Into<String>, file: impl Into<String>, line: u32) -> Self {
        Self {
            function: function.into(),
            file: Some(file.into()),
            line: Some(line),
            column: None,
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

    /// Sets the 1-based column on the line (the browser page marks it with a caret).
    #[must_use]
    pub fn column(mut self, column: u32) -> Self {
        self.column = Some(column);
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

/// A named value attached to a frame. `Debug` shows the name, and the value's kind and
/// size (`<str, 12 bytes>`), never the value.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl fmt::Debug for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.name)
            .field("value", &self.value.root().outline())
            .field("error", &ByteLen::of(self.error.as_deref()))
            .finish()
    }
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
/// A closed pair, as Django's, so not `#[non_exhaustive]`: match it without a catch-all.
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
