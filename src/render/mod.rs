//! Writing the views of a [`Report`] (text, browser HTML, email HTML and JSON), plus content
//! negotiation.
//!
//! The templates live in `templates/` and are compiled in by askama. The HTML templates
//! escape every value (askama's HTML escaping on `.html` files); the text template does
//! not escape. Every rendering ends with the redaction summary.

mod escape;
mod negotiate;

pub use negotiate::negotiate;

use std::fmt;

use askama::Template;

use crate::report::{Html, Json, Report, Text};

#[derive(Template)]
#[template(path = "report.txt")]
struct TextView<'a> {
    report: &'a Report,
    is_email: bool,
    with_variables: bool,
}

#[derive(Template)]
#[template(path = "report.html", config = "templates/askama.toml")]
struct HtmlView<'a> {
    report: &'a Report,
    is_email: bool,
}

/// Writes `template`; rendering only fails if a value's `Display` fails, which none of ours
/// do: fail closed with a fixed notice rather than an error.
fn write(template: &impl Template, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match template.render() {
        Ok(text) => f.write_str(&text),
        Err(error) => write!(f, "[the report could not be rendered: {error}]"),
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(
            &TextView {
                report: self.report,
                is_email: self.email,
                with_variables: self.variables,
            },
            f,
        )
    }
}

impl fmt::Display for Html<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(
            &HtmlView {
                report: self.report,
                is_email: self.email,
            },
            f,
        )
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string_pretty(self.report) {
            Ok(json) => f.write_str(&json),
            Err(error) => write!(
                f,
                "{{\"error\": \"the report could not be serialized: {error}\"}}"
            ),
        }
    }
}
