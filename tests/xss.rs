//! XSS: hostile text in any field of a capture never becomes markup.
//!
//! Each payload is put into one field at a time (error and cause types and messages,
//! header, cookie, GET, POST and JSON body names and values, uploaded file names, variable
//! names and values, function and file names, user, route, method, client address, settings
//! names and values, environment strings (the identity's too), tags and context values, the
//! URL path). The browser page and the email HTML
//! are parsed with a real HTML parser and compared with the same report rendered with a
//! harmless placeholder in that field: the same elements and the same attributes (names and
//! values), no script but the page's own (the email has none), no `on*` attribute, no
//! `javascript:` link, no form; and the payload is there as text, so the field really was
//! rendered. Breadcrumbs (target, message, field names and values) are fields too, and the
//! Markdown rendering, turned into HTML by a Markdown renderer, keeps the elements it has
//! with the placeholder whatever a field holds. With the `sentry` feature, the Sentry event of each report keeps its structure
//! whatever a field holds, and the payload is in it as data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use safe_report::{
    Breadcrumb, BreadcrumbLevel, Capture, Cause, EditorLinks, Environment, ExceptionReporter,
    Frame, Identity, RequestInfo, TaskContext, UploadedFile, Variable,
};
use scraper::{Html, Selector};
use serde_json::json;

const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "javascript:alert(1)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "&#x3C;img src=x onerror=alert(1)&#x3E;",
    "</textarea><script>alert(1)</script>",
    "</pre><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</style><script>alert(1)</script>",
    "</td></tr></table><script>alert(1)</script>",
    "{{ 7*7 }}{% if true %}x{% endif %}{# c #}",
    "a\u{2028}b\u{2029}<script>alert(1)</script>",
    "nul\u{0}<script>alert(1)</script>",
    "<!--<script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "\" onmouseover=\"alert(1)",
    "' onfocus='alert(1)' autofocus='",
    "<form action=https://evil.example/><input name=q><button>go</button></form>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    "`${alert(1)}`",
    "\u{202e}<script>alert(1)</script>",
];

const PLACEHOLDER: &str = "harmless placeholder";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    ErrorType,
    ErrorMessage,
    CauseType,
    CauseMessage,
    HeaderName,
    HeaderValue,
    CookieName,
    CookieValue,
    GetName,
    GetValue,
    PostName,
    PostValue,
    JsonKey,
    JsonValue,
    UploadedFileName,
    UploadFieldName,
    VariableName,
    VariableValue,
    Function,
    File,
    User,
    Route,
    Method,
    RemoteAddr,
    SettingName,
    SettingValue,
    NestedSettingValue,
    EnvApplication,
    EnvExecutable,
    EnvHostname,
    EnvTarget,
    EnvRustVersion,
    EnvEnvironment,
    EnvRelease,
    EnvServerName,
    TagName,
    TagValue,
    ContextName,
    ContextValue,
    UrlPath,
    CrumbCategory,
    CrumbMessage,
    CrumbFieldName,
    CrumbFieldValue,
}

const FIELDS: &[Field] = &[
    Field::ErrorType,
    Field::ErrorMessage,
    Field::CauseType,
    Field::CauseMessage,
    Field::HeaderName,
    Field::HeaderValue,
    Field::CookieName,
    Field::CookieValue,
    Field::GetName,
    Field::GetValue,
    Field::PostName,
    Field::PostValue,
    Field::JsonKey,
    Field::JsonValue,
    Field::UploadedFileName,
    Field::UploadFieldName,
    Field::VariableName,
    Field::VariableValue,
    Field::Function,
    Field::File,
    Field::User,
    Field::Route,
    Field::Method,
    Field::RemoteAddr,
    Field::SettingName,
    Field::SettingValue,
    Field::NestedSettingValue,
    Field::EnvApplication,
    Field::EnvExecutable,
    Field::EnvHostname,
    Field::EnvTarget,
    Field::EnvRustVersion,
    Field::EnvEnvironment,
    Field::EnvRelease,
    Field::EnvServerName,
    Field::TagName,
    Field::TagValue,
    Field::ContextName,
    Field::ContextValue,
    Field::UrlPath,
    Field::CrumbCategory,
    Field::CrumbMessage,
    Field::CrumbFieldName,
    Field::CrumbFieldValue,
];

/// Which body carries the POST fields and the upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Form,
    Multipart,
    Json,
}

fn body_for(field: Field) -> Body {
    match field {
        Field::JsonKey | Field::JsonValue => Body::Json,
        Field::UploadedFileName => Body::Multipart,
        _ => Body::Form,
    }
}

/// Whether `text` can sit in a quoted multipart header parameter as it is.
fn fits_multipart_header(text: &str) -> bool {
    !text.contains(['"', '\\', '\r', '\n', '\0'])
}

const BOUNDARY: &str = "xssBoundary5f0c6a1e";

/// A capture with every field set to an ordinary value but `field`, which is `text`.
/// `multipart_name` says whether an uploaded file name goes into a multipart body (else
/// into the request's known files); the payload and its placeholder use the same way.
fn capture(field: Field, text: &str, multipart_name: bool) -> Capture {
    let pick = |f: Field, ordinary: &str| -> String {
        if f == field {
            text.to_owned()
        } else {
            ordinary.to_owned()
        }
    };

    let mut cause = Cause::direct(
        Some(pick(Field::CauseType, "UpstreamError")),
        pick(Field::CauseMessage, "upstream returned 502"),
    );
    if field == Field::CauseType {
        // The sentence linking the cause shows its type when it has no message.
        cause.message = None;
    }
    cause
        .frames
        .push(Frame::new("shop::gateway::call", "src/gateway.rs", 12).var("attempt", 2));

    let mut settings = serde_json::Map::new();
    settings.insert("DEBUG".to_owned(), json!(true));
    settings.insert(
        pick(Field::SettingName, "LANGUAGE_CODE"),
        json!(pick(Field::SettingValue, "en-us")),
    );
    settings.insert(
        "CACHES".to_owned(),
        json!({"default": {"LOCATION": pick(Field::NestedSettingValue, "cache.internal:6379")}}),
    );

    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("ref", "cart")
        .append_pair(&pick(Field::GetName, "page"), &pick(Field::GetValue, "2"))
        .finish();
    // A path as received: `?` and `#` in it arrive percent-encoded.
    let path = pick(Field::UrlPath, "checkout/")
        .replace('?', "%3F")
        .replace('#', "%23");
    let url = format!("https://shop.example.com/{path}?{query}");

    let post_name = pick(Field::PostName, "city");
    let post_value = pick(Field::PostValue, "Berlin");
    let (content_type, body) = match body_for(field) {
        Body::Form => (
            "application/x-www-form-urlencoded".to_owned(),
            form_urlencoded::Serializer::new(String::new())
                .append_pair("promo_code", "SPRING25")
                .append_pair(&post_name, &post_value)
                .finish(),
        ),
        Body::Json => {
            let mut object = serde_json::Map::new();
            object.insert("promo_code".to_owned(), json!("SPRING25"));
            object.insert(
                pick(Field::JsonKey, "city"),
                json!(pick(Field::JsonValue, "Berlin")),
            );
            (
                "application/json".to_owned(),
                serde_json::Value::Object(object).to_string(),
            )
        }
        Body::Multipart => {
            let name = if multipart_name {
                pick(Field::UploadedFileName, "receipt.pdf")
            } else {
                "receipt.pdf".to_owned()
            };
            (
                format!("multipart/form-data; boundary={BOUNDARY}"),
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"city\"\r\n\r\nBerlin\r\n\
                     --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"{name}\"\r\n\
                     Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--{BOUNDARY}--\r\n"
                ),
            )
        }
    };

    let cookie = format!(
        "cart_id=cart_000123; {}={}",
        pick(Field::CookieName, "theme"),
        pick(Field::CookieValue, "dark")
    );
    let mut request = RequestInfo::new(pick(Field::Method, "POST"), url)
        .header("Host", "shop.example.com")
        .header("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
        .header(
            pick(Field::HeaderName, "X-Request-Id"),
            pick(Field::HeaderValue, "5f0c6a1e-8f1b-4c5e-9a57-3d2f1b0c9e11"),
        )
        .header("Cookie", cookie)
        .header("Content-Type", content_type)
        .body(body)
        .remote_addr(pick(Field::RemoteAddr, "203.0.113.7"))
        .user(pick(Field::User, "alice"))
        .route(pick(Field::Route, "shop::checkout"));
    let known_name = if field == Field::UploadedFileName && !multipart_name {
        text.to_owned()
    } else {
        "avatar.png".to_owned()
    };
    request.files.push(UploadedFile::new(
        pick(Field::UploadFieldName, "avatar"),
        Some(known_name),
        Some("image/png".to_owned()),
        Some(2048),
    ));

    let mut environment = Environment::default();
    environment.application = Some(pick(Field::EnvApplication, "shop 1.4.2"));
    environment.executable = Some(pick(Field::EnvExecutable, "/srv/shop/bin/shop"));
    environment.hostname = Some(pick(Field::EnvHostname, "web-1"));
    environment.target = Some(pick(Field::EnvTarget, "x86_64-unknown-linux-gnu"));
    environment.rustc_version = Some(pick(Field::EnvRustVersion, "rustc 1.88.0"));
    environment.safe_report_version = Some("0.1.0".to_owned());
    environment.pid = Some(4242);
    environment.identity = Identity::new()
        .environment(pick(Field::EnvEnvironment, "staging"))
        .release(pick(Field::EnvRelease, "shop@1.4.2"))
        .server_name(pick(Field::EnvServerName, "web-1a"));
    let context = TaskContext::new()
        .with_tag(
            pick(Field::TagName, "tenant"),
            pick(Field::TagValue, "acme"),
        )
        .with_value(
            pick(Field::ContextName, "job_id"),
            pick(Field::ContextValue, "j-7"),
        );

    let mut frame = Frame::new(
        pick(Field::Function, "shop::checkout::view"),
        pick(Field::File, "src/checkout.rs"),
        42,
    )
    .var("order_id", "ord_123000")
    .var("items", json!(["sku-000-0000", "sku-000-0001"]));
    frame.vars.push(Variable::new(
        pick(Field::VariableName, "city"),
        json!(pick(Field::VariableValue, "Berlin")),
    ));
    // A frame with real source lines, so the context lists are rendered too.
    let source = Frame::new("bench_chain::checkout_view", "bench_chain.py", 72).var("depth", 0);

    Capture::error(
        pick(Field::ErrorType, "PaymentGatewayError"),
        pick(Field::ErrorMessage, "payment declined"),
    )
    .with_debug(true)
    .with_cause(cause)
    .with_frame(source)
    .with_frame(frame)
    .with_request(request)
    .with_settings(&settings)
    .with_environment(environment)
    .with_breadcrumb(
        Breadcrumb::new(
            BreadcrumbLevel::Info,
            pick(Field::CrumbCategory, "shop::orders"),
            pick(Field::CrumbMessage, "charging order ord_42"),
        )
        .field(
            pick(Field::CrumbFieldName, "order_id"),
            pick(Field::CrumbFieldValue, "ord_42"),
        ),
    )
    .with_context(context)
}

fn reporter() -> ExceptionReporter {
    ExceptionReporter::default()
        .source_root(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench/source"))
}

/// What the parser built: elements, attributes and text.
struct Parsed {
    /// Element name → count.
    elements: BTreeMap<String, usize>,
    /// (element, attribute, value) triples.
    attributes: BTreeSet<(String, String, String)>,
    /// The text of every `<script>`.
    scripts: Vec<String>,
    /// All text, with what the parser drops or replaces (NUL, U+FFFD, CR) removed.
    text: String,
}

fn normalized(text: &str) -> String {
    text.chars()
        .filter(|ch| !matches!(ch, '\0' | '\u{fffd}' | '\r'))
        .collect()
}

fn parse(html: &str) -> Parsed {
    let document = Html::parse_document(html);
    let all = Selector::parse("*").unwrap();
    let mut elements = BTreeMap::new();
    let mut attributes = BTreeSet::new();
    let mut scripts = Vec::new();
    for element in document.select(&all) {
        let name = element.value().name().to_owned();
        for (attribute, value) in element.value().attrs() {
            attributes.insert((name.clone(), attribute.to_owned(), value.to_owned()));
        }
        if name == "script" {
            scripts.push(element.text().collect());
        }
        *elements.entry(name).or_insert(0) += 1;
    }
    let text = normalized(&document.root_element().text().collect::<String>());
    Parsed {
        elements,
        attributes,
        scripts,
        text,
    }
}

/// `text` as the reports show quoted values: Rust escapes for quotes, backslashes, control
/// characters, line separators and bidi controls.
fn quoted_inner(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            ch if ch.is_control()
                || matches!(ch, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.extend(ch.escape_unicode())
            }
            ch => out.push(ch),
        }
    }
    out
}

/// Elements whose number must not change whatever a field holds.
const WATCHED: &[&str] = &[
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "img", "svg", "math",
    "form", "input", "button", "select", "textarea", "link", "meta", "base", "a", "title",
    "template", "video", "audio", "source", "details", "summary", "table", "mglyph", "mtext",
];

const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "srcdoc",
    "poster",
    "background",
];

/// Whether the field shows `payload` whole. Cookies are split at `;` (and their names end at
/// `=`), and a cookie's name and value are trimmed; a path shows `?` and `#` encoded.
fn shown_whole(field: Field, payload: &str) -> bool {
    match field {
        Field::CookieName => {
            !payload.contains([';', '=']) && payload.trim() == payload && !payload.contains('"')
        }
        Field::CookieValue => !payload.contains(';') && payload.trim() == payload,
        Field::UrlPath => !payload.contains(['?', '#']),
        _ => true,
    }
}

/// Checks one payload in one field; returns the problems found.
fn check(field: Field, payload: &str) -> Vec<String> {
    // Without `web` a multipart body is not parsed: the upload's name goes in directly.
    let multipart_name = cfg!(feature = "web") && fits_multipart_header(payload);
    let reporter = reporter();
    let hostile = reporter.report(&capture(field, payload, multipart_name));
    let harmless = reporter.report(&capture(field, PLACEHOLDER, multipart_name));
    let mut problems = compare(
        &hostile.html().to_string(),
        &harmless.html().to_string(),
        false,
        shown_whole(field, payload).then_some(payload),
    );
    problems.extend(compare(
        &hostile.html().for_email().to_string(),
        &harmless.html().for_email().to_string(),
        true,
        shown_whole(field, payload).then_some(payload),
    ));
    let format = |is_email: bool| {
        if is_email {
            "email HTML"
        } else {
            "browser HTML"
        }
    };
    problems
        .into_iter()
        .map(|(is_email, what)| format!("{field:?} {payload:?} {}: {what}", format(is_email)))
        .collect()
}

/// Compares a page rendered with a payload with the same page rendered with the
/// placeholder; `shown` is the payload when it must be there as text.
fn compare(
    rendered: &str,
    reference: &str,
    is_email: bool,
    shown: Option<&str>,
) -> Vec<(bool, String)> {
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push((is_email, what));
    let got = parse(rendered);
    let expected = parse(reference);

    let got_names: BTreeSet<&String> = got.elements.keys().collect();
    let expected_names: BTreeSet<&String> = expected.elements.keys().collect();
    if got_names != expected_names {
        problem(format!(
            "element names differ: extra {:?}, missing {:?}",
            got_names.difference(&expected_names).collect::<Vec<_>>(),
            expected_names.difference(&got_names).collect::<Vec<_>>()
        ));
    }
    for name in WATCHED {
        let (g, e) = (
            got.elements.get(*name).copied().unwrap_or(0),
            expected.elements.get(*name).copied().unwrap_or(0),
        );
        if g != e {
            problem(format!("{g} <{name}> elements, {e} with the placeholder"));
        }
    }
    if got.attributes != expected.attributes {
        problem(format!(
            "attributes differ: extra {:?}, missing {:?}",
            got.attributes
                .difference(&expected.attributes)
                .collect::<Vec<_>>(),
            expected
                .attributes
                .difference(&got.attributes)
                .collect::<Vec<_>>()
        ));
    }
    let scripts = if is_email { 0 } else { 1 };
    if got.scripts.len() != scripts || got.scripts != expected.scripts {
        problem(format!(
            "{} script elements (expected {scripts}, the page's own)",
            got.scripts.len()
        ));
    }
    if is_email && got.elements.contains_key("form") {
        problem("the email HTML has a form".to_owned());
    }
    for (element, attribute, value) in &got.attributes {
        if attribute.to_ascii_lowercase().starts_with("on") {
            problem(format!(
                "<{element}> has an event handler {attribute}={value:?}"
            ));
        }
        let squeezed: String = value
            .chars()
            .filter(|ch| !ch.is_whitespace() && !ch.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        if URL_ATTRIBUTES.contains(&attribute.as_str()) && squeezed.starts_with("javascript:") {
            problem(format!("<{element}> {attribute}={value:?}"));
        }
    }
    if let Some(payload) = shown {
        let raw = normalized(payload);
        let escaped = normalized(&quoted_inner(payload));
        if !got.text.contains(&raw) && !got.text.contains(&escaped) {
            problem("the payload is not shown as text".to_owned());
        }
    }
    problems
}

fn check_fields(fields: &[Field]) {
    let mut problems = Vec::new();
    for &field in fields {
        for payload in PAYLOADS {
            problems.extend(check(field, payload));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

const ERROR_FIELDS: &[Field] = &[
    Field::ErrorType,
    Field::ErrorMessage,
    Field::CauseType,
    Field::CauseMessage,
];

const REQUEST_FIELDS: &[Field] = &[
    Field::HeaderName,
    Field::HeaderValue,
    Field::CookieName,
    Field::CookieValue,
    Field::GetName,
    Field::GetValue,
    Field::PostName,
    Field::PostValue,
    Field::JsonKey,
    Field::JsonValue,
    Field::UploadedFileName,
    Field::UploadFieldName,
    Field::User,
    Field::Route,
    Field::Method,
    Field::RemoteAddr,
    Field::UrlPath,
];

const FRAME_FIELDS: &[Field] = &[
    Field::VariableName,
    Field::VariableValue,
    Field::Function,
    Field::File,
];

const CONFIG_FIELDS: &[Field] = &[
    Field::SettingName,
    Field::SettingValue,
    Field::NestedSettingValue,
    Field::EnvApplication,
    Field::EnvExecutable,
    Field::EnvHostname,
    Field::EnvTarget,
    Field::EnvRustVersion,
    Field::EnvEnvironment,
    Field::EnvRelease,
    Field::EnvServerName,
    Field::TagName,
    Field::TagValue,
    Field::ContextName,
    Field::ContextValue,
];

#[test]
fn error_and_cause_fields_do_not_inject_markup() {
    check_fields(ERROR_FIELDS);
}

#[test]
fn request_fields_do_not_inject_markup() {
    check_fields(REQUEST_FIELDS);
}

#[test]
fn frame_fields_do_not_inject_markup() {
    check_fields(FRAME_FIELDS);
}

#[test]
fn settings_and_environment_fields_do_not_inject_markup() {
    check_fields(CONFIG_FIELDS);
}

const CRUMB_FIELDS: &[Field] = &[
    Field::CrumbCategory,
    Field::CrumbMessage,
    Field::CrumbFieldName,
    Field::CrumbFieldValue,
];

#[test]
fn breadcrumb_fields_do_not_inject_markup() {
    check_fields(CRUMB_FIELDS);
}

/// The Markdown rendering, as a Markdown renderer turns it into HTML (GitHub's sanitizer
/// aside): whatever a field holds, the same elements and attributes as with the
/// placeholder, so no payload becomes a link, an image or raw HTML.
#[test]
fn markdown_keeps_every_payload_as_code() {
    let to_html = |markdown: &str| {
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(markdown));
        html
    };
    let reporter = reporter();
    let mut problems = Vec::new();
    for &field in FIELDS {
        let harmless = reporter
            .report(&capture(field, PLACEHOLDER, cfg!(feature = "web")))
            .markdown()
            .to_string();
        let harmless = parse(&to_html(&harmless));
        for payload in PAYLOADS {
            let hostile = reporter
                .report(&capture(field, payload, true))
                .markdown()
                .to_string();
            let hostile = parse(&to_html(&hostile));
            if hostile.elements != harmless.elements {
                problems.push(format!(
                    "{field:?} {payload:?}: elements {:?} instead of {:?}",
                    hostile.elements, harmless.elements
                ));
            }
            let links: Vec<_> = hostile
                .attributes
                .iter()
                .filter(|(_, name, _)| URL_ATTRIBUTES.contains(&name.as_str()))
                .collect();
            if !links.is_empty() {
                problems.push(format!("{field:?} {payload:?}: links {links:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_field_is_covered() {
    let tested: Vec<Field> = [
        ERROR_FIELDS,
        REQUEST_FIELDS,
        FRAME_FIELDS,
        CONFIG_FIELDS,
        CRUMB_FIELDS,
    ]
    .concat();
    assert_eq!(tested.len(), FIELDS.len());
    for field in FIELDS {
        assert!(tested.contains(field), "{field:?} is not tested");
    }
    // Each field really changes the report: the placeholder shows up in the browser page.
    let reporter = reporter();
    for &field in FIELDS {
        let html = reporter
            .report(&capture(field, PLACEHOLDER, cfg!(feature = "web")))
            .html()
            .to_string();
        assert!(
            parse(&html).text.contains(PLACEHOLDER),
            "{field:?} is not rendered"
        );
    }
}

#[test]
fn the_pages_own_structure_is_as_expected() {
    let report = reporter().report(&capture(Field::ErrorMessage, PLACEHOLDER, true));
    let page = parse(&report.html().to_string());
    assert_eq!(
        page.scripts.len(),
        1,
        "the browser page has one inline script"
    );
    assert!(
        page.elements.contains_key("textarea"),
        "copy-and-paste view"
    );
    assert!(!page.elements.contains_key("form"));
    let email = parse(&report.html().for_email().to_string());
    assert!(email.scripts.is_empty(), "the email HTML has no script");
    assert!(!email.elements.contains_key("form"));
    assert!(!email.elements.contains_key("textarea"));
}

/// The checks themselves catch markup that gets through: the placeholder page with the
/// placeholder replaced by raw, unescaped payloads.
#[test]
fn the_checks_catch_injected_markup() {
    let report = reporter().report(&capture(Field::ErrorMessage, PLACEHOLDER, true));
    for (is_email, reference) in [
        (false, report.html().to_string()),
        (true, report.html().for_email().to_string()),
    ] {
        for payload in [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">click</a>",
            "</textarea><form action=x></form>",
        ] {
            let injected = reference.replace(PLACEHOLDER, payload);
            assert!(
                !compare(&injected, &reference, is_email, Some(payload)).is_empty(),
                "{payload:?} injected raw is not caught (email: {is_email})"
            );
        }
        // And the page compared with itself is fine.
        assert!(compare(&reference, &reference, is_email, Some(PLACEHOLDER)).is_empty());
    }
}

/// A hostile file name in a frame, with editor links on: the frame still has exactly one
/// editor link, to the configured editor, with the file name percent-encoded in it; the
/// page has the same elements as with a harmless file name.
#[test]
fn file_names_cannot_turn_editor_links_into_anything_else() {
    let editors = [
        ("vscode", "vscode://file/"),
        ("idea", "idea://open?file="),
        ("zed", "zed://file/"),
        (
            "https://code.example/open?file={path}&line={line}",
            "https://code.example/open?file=",
        ),
    ];
    let links = Selector::parse("li.frame > a.editor").unwrap();
    for (editor, start) in editors {
        let reporter = ExceptionReporter::default().editor(EditorLinks::new(editor).unwrap());
        let page_for = |file: &str| {
            let capture = Capture::error("E", "boom").with_frame(Frame::new(
                "shop::handler",
                format!("/app/{file}"),
                7,
            ));
            reporter.report(&capture).html().to_string()
        };
        let reference = parse(&page_for(PLACEHOLDER));
        for payload in PAYLOADS {
            let html = page_for(payload);
            let document = Html::parse_document(&html);
            let hrefs: Vec<&str> = document
                .select(&links)
                .map(|a| a.value().attr("href").unwrap())
                .collect();
            assert_eq!(hrefs.len(), 1, "{editor} {payload:?}: {hrefs:?}");
            let href = hrefs[0];
            let rest = href
                .strip_prefix(start)
                .unwrap_or_else(|| panic!("{editor} {payload:?}: {href}"));
            let path = rest.split(['&', ':']).next().unwrap();
            assert!(
                path.bytes().all(|b| b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'%')),
                "{editor} {payload:?}: {href}"
            );
            let parsed = parse(&html);
            assert_eq!(parsed.elements, reference.elements, "{editor} {payload:?}");
            assert_eq!(parsed.scripts, reference.scripts, "{editor} {payload:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// The Sentry event: JSON, shown by a server's own pages. A payload must stay data: the event
// has the same structure as with the placeholder, and the payload is there in a value.
// ---------------------------------------------------------------------------------------

/// The event's structure: objects and arrays as the kinds of structure they hold (the keys
/// aside, since a payload may be a name; counts aside, since a payload with `;` is two
/// cookies), every scalar as its type.
#[cfg(feature = "sentry")]
fn shape(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "bool".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(_) => "string".to_owned(),
        Value::Array(items) => {
            let shapes: BTreeSet<String> = items.iter().map(shape).collect();
            format!("[{}]", shapes.into_iter().collect::<Vec<_>>().join(","))
        }
        Value::Object(members) => {
            let shapes: BTreeSet<String> = members.values().map(shape).collect();
            format!("{{{}}}", shapes.into_iter().collect::<Vec<_>>().join(","))
        }
    }
}

#[cfg(feature = "sentry")]
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(members) => {
            for (key, item) in members {
                out.push(key.clone());
                strings(item, out);
            }
        }
        _ => {}
    }
}

#[cfg(feature = "sentry")]
#[test]
fn the_sentry_event_keeps_every_payload_as_data() {
    use safe_report::sinks::{Origin, SentryConfig};
    let config = SentryConfig::new("https://public@sentry.example.invalid/1")
        .unwrap()
        .send_client_ip(true);
    let reporter = reporter();
    let mut problems = Vec::new();
    let fields = [ERROR_FIELDS, REQUEST_FIELDS, FRAME_FIELDS, CONFIG_FIELDS].concat();
    for field in fields {
        for payload in PAYLOADS {
            // Without `web` a multipart body is not parsed: the upload's name goes in directly.
            let multipart_name = cfg!(feature = "web") && fits_multipart_header(payload);
            let hostile = reporter.report(&capture(field, payload, multipart_name));
            let harmless = reporter.report(&capture(field, PLACEHOLDER, multipart_name));
            let hostile = config.event(&hostile, Origin::Error);
            let harmless = config.event(&harmless, Origin::Error);
            // Written and read back as JSON, as a server does.
            let hostile: serde_json::Value =
                serde_json::from_str(&hostile.to_string()).expect("the event is JSON");
            if shape(&hostile) != shape(&harmless) {
                problems.push(format!(
                    "{field:?} {payload:?}: the event's structure changed"
                ));
            }
            // The client address goes only as an IP address, which no payload is.
            if shown_whole(field, payload) && field != Field::RemoteAddr {
                let mut found = Vec::new();
                strings(&hostile, &mut found);
                let (raw, escaped) = (normalized(payload), normalized(&quoted_inner(payload)));
                if !found
                    .iter()
                    .map(|text| normalized(text))
                    .any(|text| text.contains(&raw) || text.contains(&escaped))
                {
                    problems.push(format!(
                        "{field:?} {payload:?}: the payload is not in the event {}",
                        hostile["request"]
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
