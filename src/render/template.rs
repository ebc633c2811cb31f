//! Your own templates: the debug page, the logged text and the admin email rendered by the
//! application's askama templates (Django's custom error reports: `html_template_path`,
//! `text_template_path`, `get_traceback_data`).
//!
//! # Example
//!
//! ```
//! use askama::Template;
//! use safe_report::render::{ReportTemplate, TemplateError};
//! use safe_report::{Capture, ExceptionReporter, Format, Frame, Report};
//!
//! #[derive(Template)]
//! #[template(
//!     ext = "html",
//!     source = "<h1>{{ report.exception_type.as_deref().unwrap_or(\"Error\") }}</h1>\
//!               {% for frame in report.frames %}<p>{{ frame.function }}</p>{% endfor %}"
//! )]
//! struct Page<'a> {
//!     report: &'a Report,
//! }
//!
//! struct House;
//!
//! impl ReportTemplate for House {
//!     fn page(&self, report: &Report, format: Format) -> Result<String, TemplateError> {
//!         match format {
//!             Format::Html => Ok(Page { report }.render()?),
//!             // Text, JSON and Markdown stay ours.
//!             other => Ok(report.render(other)),
//!         }
//!     }
//! }
//!
//! let capture = Capture::error("PaymentError", "declined")
//!     .with_frame(Frame::new("shop::charge", "src/charge.rs", 42).var("api_key", "sk_live_abcdef123456"));
//! let report = ExceptionReporter::default().report(&capture);
//! let page = House.page(&report, Format::Html)?;
//! assert_eq!(page, "<h1>PaymentError</h1><p>shop::charge</p>");
//! # Ok::<(), TemplateError>(())
//! ```
//!
//! The template gets a [`Report`], never a [`Capture`](crate::Capture): the filter has run
//! before, so a template cannot show what the filter hid, whatever it reads. The report's
//! public fields are the data our own templates use (Django's `get_traceback_data`): the
//! error, its location, the causes, the frames with their source lines and variables, the
//! request, settings, environment, identity, breadcrumbs, tags, context and the redaction
//! summary; its views (`report.text()`, `report.html()`, `report.markdown()`) can be
//! embedded. Keep askama's HTML escaping on (an `.html` template, or `ext = "html"`).
//!
//! Where a template is used:
//!
//! | method | used for | given to |
//! |---|---|---|
//! | [`page`](ReportTemplate::page) | the debug page, in the negotiated format | the web layer's and actix middleware's `.template(..)` |
//! | [`email_text`](ReportTemplate::email_text) | the admin email's text body (after the log message) | [`AdminNotifier::template`](crate::AdminNotifier::template), and through it the layers and the hook |
//! | [`email_html`](ReportTemplate::email_html) | the admin email's HTML part, when the mail configuration includes HTML | the same |
//! | [`log_text`](ReportTemplate::log_text) | the panic hook's report on standard error or in a file | [`HookBuilder::template`](crate::panic::HookBuilder::template) |
//!
//! Each method's default is our rendering, so a template overrides only what it changes. A
//! template that fails (an error, or a panic) never loses the report: our rendering is used
//! for that report, and standard error says so.

use std::error::Error;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::report::{Format, Report};

/// What a template's rendering may fail with: any error (askama's converts with `?`).
pub type TemplateError = Box<dyn Error + Send + Sync>;

/// Renders filtered reports with the application's own templates; see the
/// [module documentation](self). Every method has our rendering as its default.
pub trait ReportTemplate: Send + Sync + 'static {
    /// The debug page's body in `format` (the format the client negotiated).
    fn page(&self, report: &Report, format: Format) -> Result<String, TemplateError> {
        Ok(report.render(format))
    }

    /// The admin email's text, after the log message and a blank line.
    fn email_text(&self, report: &Report) -> Result<String, TemplateError> {
        Ok(report.text().for_email().to_string())
    }

    /// The admin email's HTML part, asked for when the mail configuration includes HTML;
    /// `None` sends the text alone.
    fn email_html(&self, report: &Report) -> Result<Option<String>, TemplateError> {
        Ok(Some(report.html().for_email().to_string()))
    }

    /// The text the panic hook writes to standard error or to a file.
    fn log_text(&self, report: &Report) -> Result<String, TemplateError> {
        Ok(report.text().with_variables().to_string())
    }
}

/// Calls `render`; on its error or panic, says so on standard error and renders with
/// `ours` instead.
fn or_ours<T>(
    what: &str,
    render: impl FnOnce() -> Result<T, TemplateError>,
    ours: impl FnOnce() -> T,
) -> T {
    match catch_unwind(AssertUnwindSafe(render)) {
        Ok(Ok(rendered)) => rendered,
        Ok(Err(error)) => {
            eprintln!(
                "safe-report: the application's {what} template failed ({error}); the report is rendered with the built-in one"
            );
            ours()
        }
        Err(_) => {
            eprintln!(
                "safe-report: the application's {what} template panicked; the report is rendered with the built-in one"
            );
            ours()
        }
    }
}

/// The debug page of `report` with `template`, or ours when it fails.
// Only the web adapters show debug pages.
#[cfg_attr(not(any(feature = "tower", feature = "actix")), allow(dead_code))]
pub(crate) fn page(template: &dyn ReportTemplate, report: &Report, format: Format) -> String {
    or_ours(
        "page",
        || template.page(report, format),
        || report.render(format),
    )
}

/// The email text of `report` with `template`, or ours when it fails.
#[cfg(feature = "mail")]
pub(crate) fn email_text(template: &dyn ReportTemplate, report: &Report) -> String {
    or_ours(
        "email text",
        || template.email_text(report),
        || report.text().for_email().to_string(),
    )
}

/// The email HTML of `report` with `template`, or ours when it fails.
#[cfg(feature = "mail")]
pub(crate) fn email_html(template: &dyn ReportTemplate, report: &Report) -> Option<String> {
    or_ours(
        "email HTML",
        || template.email_html(report),
        || Some(report.html().for_email().to_string()),
    )
}

/// The logged text of `report` with `template`, or ours when it fails.
pub(crate) fn log_text(template: &dyn ReportTemplate, report: &Report) -> String {
    or_ours(
        "log text",
        || template.log_text(report),
        || report.text().with_variables().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Capture, ExceptionReporter};

    struct Failing;

    impl ReportTemplate for Failing {
        fn page(&self, _: &Report, _: Format) -> Result<String, TemplateError> {
            Err("no such template".into())
        }

        fn email_text(&self, _: &Report) -> Result<String, TemplateError> {
            panic!("the template panicked")
        }
    }

    #[test]
    fn a_failing_template_falls_back_to_ours() {
        let report = ExceptionReporter::default().report(&Capture::error("E", "boom"));
        assert_eq!(
            page(&Failing, &report, Format::Text),
            report.render(Format::Text)
        );
        #[cfg(feature = "mail")]
        assert_eq!(
            email_text(&Failing, &report),
            report.text().for_email().to_string()
        );
        // What it does not override is ours.
        assert_eq!(
            log_text(&Failing, &report),
            report.text().with_variables().to_string()
        );
    }
}
