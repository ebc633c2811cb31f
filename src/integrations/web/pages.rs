//! The pages the web core answers with: the technical 500 and 404 pages in debug mode, the
//! production pages otherwise. A page is plain data ([`Page`]); each framework's adapter
//! turns it into its own response type.

use askama::Template;
use bytes::Bytes;
use http::StatusCode;

use crate::filter::ReporterFilter;
use crate::model::Capture;
use crate::report::Format;
use crate::report::{ExceptionReporter, Report, RequestSection};

/// Renders the technical 500 response: the counterpart of Django's
/// `exception_reporter_class` for the debug page.
///
/// [`ExceptionReporter`] implements it. Your own implementation receives the capture as it
/// is, unfiltered: build what you show through the filter it is given (or a reporter of
/// your own), never from the capture directly.
///
/// ```
/// use safe_report::{Capture, ExceptionReporter, Format, ReporterFilter};
/// use safe_report::integrations::web::DebugPageRenderer;
///
/// /// Django's test reporter: a fixed text.
/// struct Custom;
///
/// impl DebugPageRenderer for Custom {
///     fn render(&self, _: &Capture, _: Option<&dyn ReporterFilter>, _: Format) -> String {
///         "custom traceback text".to_owned()
///     }
/// }
///
/// let page = DebugPageRenderer::render(&ExceptionReporter::default(), &Capture::error("E", "boom"), None, Format::Text);
/// assert!(page.starts_with("E\nboom"));
/// # let _ = Custom;
/// ```
pub trait DebugPageRenderer: Send + Sync + 'static {
    /// The body of the technical 500 response for `capture` in `format`. `filter` is the
    /// filter a route or request chose; `None` means the renderer's own.
    fn render(
        &self,
        capture: &Capture,
        filter: Option<&dyn ReporterFilter>,
        format: Format,
    ) -> String;
}

impl DebugPageRenderer for ExceptionReporter {
    fn render(
        &self,
        capture: &Capture,
        filter: Option<&dyn ReporterFilter>,
        format: Format,
    ) -> String {
        let filter = filter.unwrap_or_else(|| self.filter());
        match format {
            // The text report never shows frame variables: they are not formatted.
            Format::Text => self.build(capture, filter, false).text().to_string(),
            other => self.build(capture, filter, true).render(other),
        }
    }
}

/// The production pages: Django's minimal `500.html` and `404.html`, which tell the visitor
/// nothing about the error.
#[derive(Debug, Clone)]
pub(crate) struct ProductionPages {
    pub(crate) server_error: Bytes,
    pub(crate) not_found: Bytes,
}

impl Default for ProductionPages {
    fn default() -> Self {
        Self {
            server_error: Bytes::from_static(include_bytes!("../../../templates/500.html")),
            not_found: Bytes::from_static(include_bytes!("../../../templates/404.html")),
        }
    }
}

impl ProductionPages {
    /// The page for `status`, in the format the client prefers. Text and JSON carry only
    /// the status.
    pub(crate) fn response(&self, status: StatusCode, format: Format) -> Page {
        let title = title(status);
        let body = match format {
            Format::Html => match status {
                StatusCode::INTERNAL_SERVER_ERROR => self.server_error.clone(),
                StatusCode::NOT_FOUND => self.not_found.clone(),
                _ => Bytes::from(error_page(&title)),
            },
            Format::Text | Format::Markdown => Bytes::from(format!("{title}\n")),
            Format::Json => Bytes::from(
                serde_json::json!({ "error": title, "status": status.as_u16() }).to_string(),
            ),
        };
        page(status, format, body)
    }
}

/// Django's titles: `Server Error (500)`, `Not Found`, `403 Forbidden`, `Bad Request (400)`,
/// and the reason with the code for the others.
fn title(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "Not Found".to_owned(),
        StatusCode::INTERNAL_SERVER_ERROR => "Server Error (500)".to_owned(),
        StatusCode::FORBIDDEN => "403 Forbidden".to_owned(),
        _ => format!(
            "{} ({})",
            status.canonical_reason().unwrap_or("Error"),
            status.as_u16()
        ),
    }
}

/// Django's `ERROR_PAGE_TEMPLATE`, with the title only (the title holds no request data).
fn error_page(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n  \
         <title>{title}</title>\n</head>\n<body>\n  <h1>{title}</h1><p></p>\n</body>\n</html>\n"
    )
}

/// A response the core wrote: its status, its format and its body. Sent with
/// [`Page::HEADERS`]: never cached, never sniffed.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) format: Format,
    pub(crate) body: Bytes,
}

impl Page {
    /// The headers every page carries besides its `Content-Type`.
    pub(crate) const HEADERS: [(&'static str, &'static str); 2] = [
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ];

    /// The page's `Content-Type`.
    pub(crate) fn content_type(&self) -> &'static str {
        self.format.content_type()
    }
}

/// A page of `status` in `format`.
pub(crate) fn page(status: StatusCode, format: Format, body: impl Into<Bytes>) -> Page {
    Page {
        status,
        format,
        body: body.into(),
    }
}

#[derive(Template)]
#[template(path = "technical_404.html")]
struct NotFoundHtml<'a> {
    report: &'a Report,
    request: &'a RequestSection,
    routes: &'a [String],
    resolved: bool,
}

#[derive(Template)]
#[template(path = "technical_404.txt")]
struct NotFoundText<'a> {
    report: &'a Report,
    request: &'a RequestSection,
    routes: &'a [String],
    resolved: bool,
}

/// The technical 404 page (Django's `technical_404.html`) of a filtered report: the request
/// method and URL, the route that answered 404 (`resolved`) with its reason, the routes
/// tried and the request data.
pub(crate) fn technical_404(
    report: &Report,
    routes: &[String],
    resolved: bool,
    format: Format,
) -> String {
    let Some(request) = report.request.as_ref() else {
        return "Page not found (404)".to_owned();
    };
    // A route that answered 404 was the last one tried.
    let routes = match (resolved, report.raised_during.as_deref()) {
        (true, Some(route)) => match routes.iter().position(|r| r == route) {
            Some(at) => &routes[..=at],
            None => routes,
        },
        _ => routes,
    };
    let rendered = match format {
        Format::Html => NotFoundHtml {
            report,
            request,
            routes,
            resolved,
        }
        .render(),
        Format::Text | Format::Markdown => NotFoundText {
            report,
            request,
            routes,
            resolved,
        }
        .render(),
        Format::Json => {
            return serde_json::json!({
                "status": 404,
                "title": format!("Page not found at {}", request.path),
                "reason": if resolved { report.exception_value.as_deref() } else { None },
                "request": { "method": request.method, "url": request.url, "path": request.path },
                "raised_by": report.raised_during,
                "routes": routes,
                "matched": resolved,
            })
            .to_string();
        }
    };
    rendered.unwrap_or_else(|error| format!("[the page could not be rendered: {error}]"))
}
