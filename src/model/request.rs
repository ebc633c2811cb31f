//! The HTTP request being handled when the error happened.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::redacted::ByteLen;
use super::{RawText, SensitiveNames};

/// The HTTP request being handled when the error happened.
///
/// `Debug` shows the method, the route, header names and the sizes of the rest (URL,
/// header values, body, client address, user), never their text.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
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

impl fmt::Debug for RequestInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("method", &self.method)
            .field("url", &ByteLen(self.url.len()))
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("body_omitted", &self.body_omitted)
            .field("remote_addr", &ByteLen::of(self.remote_addr.as_deref()))
            .field("user", &ByteLen::of(self.user.as_deref()))
            .field("route", &self.route)
            .field("sensitive_post_parameters", &self.sensitive_post_parameters)
            .field("files", &self.files)
            .field("sensitive_headers", &self.sensitive_headers)
            .finish()
    }
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
/// `Debug` shows the file name's size only.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl fmt::Debug for UploadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadedFile")
            .field("field", &self.field)
            .field("filename", &ByteLen::of(self.filename.as_deref()))
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .finish()
    }
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
