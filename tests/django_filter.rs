//! Django's `ExceptionReporterFilterTests` and `CustomExceptionReporterFilterTests`
//! (`tests/view_tests/tests/test_debug.py`), ported to safe-report.
//!
//! Django's views become captures: the view's frame holds the locals `cooked_eggs` and
//! `sauce`, `@sensitive_variables` is the frame's `sensitive_variables`,
//! `@sensitive_post_parameters` is the request's `sensitive_post_parameters`, and `DEBUG` is
//! the capture's debug flag. Django's "response" is the browser page (`render_html`); the JSON
//! report is checked alongside it. Of Django's `verify_*_email` checks only the report half is
//! ported (the email text and HTML renderings); sending mail belongs to a later feature.
//!
//! Exact Django behaviour is checked with `SafeReporterFilter::django()`; where the default
//! filter behaves differently, the test says so and asserts it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use regex::Regex;
use safe_report::{
    Capture, Environment, ExceptionReporter, FilterContext, Frame, Named, Report, ReporterFilter,
    RequestInfo, Rule, SafeReporterFilter, SensitiveNames, Shown,
};
use serde_json::{Value, json};

const SUBSTITUTE: &str = "********************";

/// Django's `ExceptionReportTestMixin.breakfast_data`, the POST body of every view test.
const BREAKFAST: [(&str, &str); 4] = [
    ("sausage-key", "sausage-value"),
    ("baked-beans-key", "baked-beans-value"),
    ("hash-brown-key", "hash-brown-value"),
    ("bacon-key", "bacon-value"),
];

/// Django's `sensitive_settings` list of `ExceptionReporterFilterTests`.
const SENSITIVE_SETTINGS: [&str; 6] = [
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "PASSWORD",
    "API_KEY",
    "SOME_TOKEN",
    "MY_AUTH",
];

// ---------------------------------------------------------------------------------------
// The views of tests/view_tests/views.py, as captures.

/// `RequestFactory().post("/some_url/", breakfast_data)`.
fn breakfast_request() -> RequestInfo {
    let body = BREAKFAST
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    RequestInfo::new("POST", "http://testserver/some_url/")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
}

/// A capture with a fixed, empty environment (so nothing of the test machine is shown).
fn capture(request: RequestInfo) -> Capture {
    Capture::error("Exception", "")
        .with_environment(Environment::default())
        .with_request(request)
}

/// The frame of a function that sets `cooked_eggs = "scrambled"` and
/// `sauce = "worcestershire"`, then raises.
fn breakfast_frame(function: &str, line: u32) -> Frame {
    Frame::new(function, "view_tests/views.rs", line)
        .var("cooked_eggs", "scrambled")
        .var("sauce", "worcestershire")
}

fn sauce() -> SensitiveNames {
    SensitiveNames::names(["sauce"])
}

fn bacon_and_sausage() -> SensitiveNames {
    SensitiveNames::names(["bacon-key", "sausage-key"])
}

/// `non_sensitive_view`: no decorators.
fn non_sensitive_view() -> Capture {
    capture(breakfast_request()).with_frame(breakfast_frame("views::non_sensitive_view", 10))
}

/// `sensitive_view`: `@sensitive_variables("sauce")` and
/// `@sensitive_post_parameters("bacon-key", "sausage-key")`.
fn sensitive_view() -> Capture {
    capture(breakfast_request().sensitive_post_parameters(bacon_and_sausage()))
        .with_frame(breakfast_frame("views::sensitive_view", 20).sensitive_variables(sauce()))
}

/// `async_sensitive_view`: the same decorators on an `async fn`. A capture does not know
/// whether a frame belongs to an `async fn`, so the capture is the one of `sensitive_view`
/// under another name, polled by an executor frame.
fn async_sensitive_view() -> Capture {
    capture(breakfast_request().sensitive_post_parameters(bacon_and_sausage()))
        .with_frame(Frame::new("executor::block_on", "executor.rs", 5).in_app(false))
        .with_frame(breakfast_frame("views::async_sensitive_view", 30).sensitive_variables(sauce()))
}

/// `async_sensitive_view_nested`: an undecorated view awaits the decorated
/// `async_sensitive_function`, which raises.
fn async_sensitive_view_nested() -> Capture {
    capture(breakfast_request().sensitive_post_parameters(bacon_and_sausage()))
        .with_frame(Frame::new(
            "views::async_sensitive_view_nested",
            "view_tests/views.rs",
            40,
        ))
        .with_frame(
            breakfast_frame("views::async_sensitive_function", 45).sensitive_variables(sauce()),
        )
}

/// `paranoid_view`: `@sensitive_variables()` and `@sensitive_post_parameters()`.
fn paranoid_view() -> Capture {
    capture(breakfast_request().sensitive_post_parameters(SensitiveNames::All)).with_frame(
        breakfast_frame("views::paranoid_view", 50).sensitive_variables(SensitiveNames::All),
    )
}

/// `custom_exception_reporter_filter_view`: decorated like `paranoid_view`; the test reports it
/// through `UnsafeExceptionReporterFilter`.
fn custom_exception_reporter_filter_view() -> Capture {
    capture(breakfast_request().sensitive_post_parameters(SensitiveNames::All)).with_frame(
        breakfast_frame("views::custom_exception_reporter_filter_view", 60)
            .sensitive_variables(SensitiveNames::All),
    )
}

/// `sensitive_method_view`: calls `Klass().method(request)`, which has
/// `@sensitive_variables("sauce")`.
fn sensitive_method_view() -> Capture {
    capture(breakfast_request())
        .with_frame(Frame::new(
            "views::sensitive_method_view",
            "view_tests/views.rs",
            70,
        ))
        .with_frame(breakfast_frame("views::Klass::method", 75).sensitive_variables(sauce()))
}

/// `async_sensitive_method_view`: the async method variant.
fn async_sensitive_method_view() -> Capture {
    capture(breakfast_request())
        .with_frame(Frame::new(
            "views::async_sensitive_method_view",
            "view_tests/views.rs",
            80,
        ))
        .with_frame(breakfast_frame("views::Klass::async_method", 85).sensitive_variables(sauce()))
}

/// `async_sensitive_method_view_nested`: an undecorated async method awaits a decorated inner
/// async method.
fn async_sensitive_method_view_nested() -> Capture {
    capture(breakfast_request())
        .with_frame(Frame::new(
            "views::async_sensitive_method_view_nested",
            "view_tests/views.rs",
            90,
        ))
        .with_frame(Frame::new(
            "views::Klass::async_method_nested",
            "view_tests/views.rs",
            92,
        ))
        .with_frame(
            breakfast_frame("views::Klass::async_method_inner", 95).sensitive_variables(sauce()),
        )
}

/// `sensitive_args_function_caller`: passes `"worcestershire"` as the argument `sauce` of
/// `sensitive_args_function`, which has `@sensitive_variables("sauce")` and raises. An argument
/// is a variable of the callee's frame (there is no wrapper frame with `func_args`).
fn sensitive_args_function_caller() -> Capture {
    capture(breakfast_request())
        .with_frame(
            Frame::new(
                "views::sensitive_args_function_caller",
                "view_tests/views.rs",
                100,
            )
            .var("request", "<WSGIRequest: POST '/some_url/'>"),
        )
        .with_frame(
            Frame::new("views::sensitive_args_function", "view_tests/views.rs", 105)
                .var("sauce", "worcestershire")
                .var("cooked_eggs", "scrambled")
                .sensitive_variables(sauce()),
        )
}

/// `sensitive_kwargs_function_caller`: the keyword-argument variant (`sauce=None` default,
/// passed the value).
fn sensitive_kwargs_function_caller() -> Capture {
    capture(breakfast_request())
        .with_frame(Frame::new(
            "views::sensitive_kwargs_function_caller",
            "view_tests/views.rs",
            110,
        ))
        .with_frame(
            Frame::new(
                "views::sensitive_kwargs_function",
                "view_tests/views.rs",
                115,
            )
            .var("sauce", "worcestershire")
            .var("cooked_eggs", "scrambled")
            .sensitive_variables(sauce()),
        )
}

/// `multivalue_dict_key_error`: decorated like `sensitive_view`; `request.POST["bar"]` raises
/// inside `MultiValueDict.__getitem__`, whose frame holds the POST data as `self`.
fn multivalue_dict_key_error() -> Capture {
    let post_copy: serde_json::Map<String, Value> = BREAKFAST
        .iter()
        .map(|(key, value)| ((*key).to_owned(), json!([value])))
        .collect();
    let mut capture = capture(breakfast_request().sensitive_post_parameters(bacon_and_sausage()))
        .with_frame(
            breakfast_frame("views::multivalue_dict_key_error", 120).sensitive_variables(sauce()),
        )
        .with_frame(
            Frame::new(
                "datastructures::MultiValueDict::get_item",
                "datastructures.rs",
                84,
            )
            .in_app(false)
            .var("self", Value::Object(post_copy))
            .var("key", "bar"),
        );
    capture.error.type_name = Some("MultiValueDictKeyError".to_owned());
    capture.error.message = Some("'bar'".to_owned());
    capture
}

/// Django's `UnsafeExceptionReporterFilter`: a `SafeExceptionReporterFilter` whose
/// `get_post_parameters` and `get_traceback_frame_variables` return everything unfiltered.
struct UnsafeExceptionReporterFilter(SafeReporterFilter);

impl ReporterFilter for UnsafeExceptionReporterFilter {
    fn sensitive_name(&self, name: &str) -> Option<Rule> {
        self.0.sensitive_name(name)
    }

    fn post_parameters<'v>(
        &self,
        _request: &RequestInfo,
        parameters: &'v [(String, String)],
        _cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        parameters
            .iter()
            .map(|(name, value)| {
                (
                    Cow::Borrowed(name.as_str()),
                    Shown::Text(Cow::Borrowed(value.as_str())),
                )
            })
            .collect()
    }

    fn frame_variables<'v>(
        &self,
        frame: &'v Frame,
        _sensitive: Option<&SensitiveNames>,
        _cx: &mut FilterContext<'_>,
    ) -> Vec<Named<'v>> {
        frame
            .vars
            .iter()
            .map(|var| {
                (
                    Cow::Borrowed(var.name.as_ref()),
                    Shown::Captured(var.value.root()),
                )
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// ExceptionReportTestMixin's assertions.

/// Everything a report is shown as.
struct Outputs {
    /// Django's debug response: the browser page, and the JSON report next to it.
    responses: [(&'static str, String); 2],
    /// The plain-text body of the admin email, from each way of rendering it.
    email_texts: Vec<String>,
    /// The HTML alternative of the admin email.
    email_html: String,
}

impl Outputs {
    fn of(report: &Report) -> Self {
        Self {
            responses: [
                ("html", report.html().to_string()),
                ("json", report.json().to_string()),
            ],
            email_texts: vec![report.text().for_email().to_string()],
            email_html: report.html().for_email().to_string(),
        }
    }
}

fn django_reporter() -> ExceptionReporter {
    ExceptionReporter::new(SafeReporterFilter::django())
}

/// The outputs of `capture` with Django's filter. The email text is rendered both from the
/// report and by the reporter directly (which skips formatting variables).
fn django_outputs(capture: &Capture) -> Outputs {
    let reporter = django_reporter();
    let mut out = Outputs::of(&reporter.report(capture));
    out.email_texts
        .push(reporter.text_report(capture).text().for_email().to_string());
    out
}

#[derive(Clone, Copy)]
struct Check {
    vars: bool,
    post: bool,
}

const ALL: Check = Check {
    vars: true,
    post: true,
};
const VARS_ONLY: Check = Check {
    vars: true,
    post: false,
};

#[track_caller]
fn contains(body: &str, what: &str, label: &str) {
    assert!(
        body.contains(what),
        "{label}: {what:?} missing from:\n{body}"
    );
}

#[track_caller]
fn lacks(body: &str, what: &str, label: &str) {
    assert!(!body.contains(what), "{label}: {what:?} shown in:\n{body}");
}

/// `verify_unsafe_response`: every variable and POST parameter is shown.
#[track_caller]
fn verify_unsafe_response(out: &Outputs, check: Check) {
    for (label, body) in &out.responses {
        if check.vars {
            for what in ["cooked_eggs", "scrambled", "sauce", "worcestershire"] {
                contains(body, what, label);
            }
        }
        if check.post {
            for (key, value) in BREAKFAST {
                contains(body, key, label);
                contains(body, value, label);
            }
        }
    }
}

/// `verify_safe_response`: `sauce`, `sausage-key` and `bacon-key` keep their names but not
/// their values.
#[track_caller]
fn verify_safe_response(out: &Outputs, check: Check) {
    for (label, body) in &out.responses {
        if check.vars {
            contains(body, "cooked_eggs", label);
            contains(body, "scrambled", label);
            contains(body, "sauce", label);
            lacks(body, "worcestershire", label);
        }
        if check.post {
            for (key, _) in BREAKFAST {
                contains(body, key, label);
            }
            contains(body, "baked-beans-value", label);
            contains(body, "hash-brown-value", label);
            lacks(body, "sausage-value", label);
            lacks(body, "bacon-value", label);
        }
    }
}

/// `verify_paranoid_response`: names are shown, no value is.
#[track_caller]
fn verify_paranoid_response(out: &Outputs, check: Check) {
    for (label, body) in &out.responses {
        if check.vars {
            contains(body, "cooked_eggs", label);
            lacks(body, "scrambled", label);
            contains(body, "sauce", label);
            lacks(body, "worcestershire", label);
        }
        if check.post {
            for (key, value) in BREAKFAST {
                contains(body, key, label);
                lacks(body, value, label);
            }
        }
    }
}

/// The text email never shows frame variables, names or values.
#[track_caller]
fn no_variables_in_text(text: &str) {
    for what in ["cooked_eggs", "scrambled", "sauce", "worcestershire"] {
        lacks(text, what, "email text");
    }
}

/// Each email body with its label: the text ones, then the HTML one.
fn email_bodies(out: &Outputs) -> Vec<(&'static str, &str)> {
    let mut bodies: Vec<(&'static str, &str)> = out
        .email_texts
        .iter()
        .map(|text| ("email text", text.as_str()))
        .collect();
    bodies.push(("email html", &out.email_html));
    bodies
}

/// The report half of `verify_unsafe_email`.
#[track_caller]
fn verify_unsafe_email(out: &Outputs, check: Check) {
    out.email_texts
        .iter()
        .for_each(|text| no_variables_in_text(text));
    for what in ["cooked_eggs", "scrambled", "sauce", "worcestershire"] {
        contains(&out.email_html, what, "email html");
    }
    if check.post {
        for (key, value) in BREAKFAST {
            for (label, body) in email_bodies(out) {
                contains(body, key, label);
                contains(body, value, label);
            }
        }
    }
}

/// The report half of `verify_safe_email`.
#[track_caller]
fn verify_safe_email(out: &Outputs, check: Check) {
    out.email_texts
        .iter()
        .for_each(|text| no_variables_in_text(text));
    contains(&out.email_html, "cooked_eggs", "email html");
    contains(&out.email_html, "scrambled", "email html");
    contains(&out.email_html, "sauce", "email html");
    lacks(&out.email_html, "worcestershire", "email html");
    if check.post {
        for (key, _) in BREAKFAST {
            for text in &out.email_texts {
                contains(text, key, "email text");
            }
        }
        for (label, body) in email_bodies(out) {
            contains(body, "baked-beans-value", label);
            contains(body, "hash-brown-value", label);
            lacks(body, "sausage-value", label);
            lacks(body, "bacon-value", label);
        }
    }
}

/// The report half of `verify_paranoid_email` (Django checks only the text body).
#[track_caller]
fn verify_paranoid_email(out: &Outputs) {
    for text in &out.email_texts {
        no_variables_in_text(text);
        for (key, value) in BREAKFAST {
            contains(text, key, "email text");
            lacks(text, value, "email text");
        }
    }
}

// ---------------------------------------------------------------------------------------
// ExceptionReporterFilterTests: the views.

/// `test_non_sensitive_request`: without declarations everything is shown, whatever the debug
/// flag.
#[test]
fn test_non_sensitive_request() {
    for debug in [true, false] {
        let out = django_outputs(&non_sensitive_view().with_debug(debug));
        verify_unsafe_response(&out, ALL);
        verify_unsafe_email(&out, ALL);
    }
}

/// Beyond Django: the default filter applies the name pattern to POST fields, and every
/// breakfast field name contains `KEY`, so no POST value is shown, debug or not. Variables
/// with ordinary names are still shown.
#[test]
fn test_non_sensitive_request_default_filter_hides_key_fields() {
    for debug in [true, false] {
        let report = ExceptionReporter::default().report(&non_sensitive_view().with_debug(debug));
        let out = Outputs::of(&report);
        for (label, body) in &out.responses {
            for (key, value) in BREAKFAST {
                contains(body, key, label);
                lacks(body, value, label);
            }
            contains(body, "scrambled", label);
            contains(body, "worcestershire", label);
        }
        assert_eq!(report.redactions.count(Rule::NamePattern), 4);
    }
}

/// `test_sensitive_request`: declared POST parameters and variables are hidden when debug is
/// off, and shown when it is on.
#[test]
fn test_sensitive_request() {
    let out = django_outputs(&sensitive_view().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&sensitive_view().with_debug(false));
    verify_safe_response(&out, ALL);
    verify_safe_email(&out, ALL);
}

/// `test_async_sensitive_request` (adapted: a capture has no async frames; the decorated
/// `async fn` is a frame like any other, here below an executor frame).
#[test]
fn test_async_sensitive_request() {
    let out = django_outputs(&async_sensitive_view().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&async_sensitive_view().with_debug(false));
    verify_safe_response(&out, ALL);
    verify_safe_email(&out, ALL);
}

/// `test_async_sensitive_nested_request`: the decorated function raises inside an undecorated
/// outer one.
#[test]
fn test_async_sensitive_nested_request() {
    let out = django_outputs(&async_sensitive_view_nested().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&async_sensitive_view_nested().with_debug(false));
    verify_safe_response(&out, ALL);
    verify_safe_email(&out, ALL);
}

/// `test_paranoid_request`: `@sensitive_variables()` and `@sensitive_post_parameters()` hide
/// every value when debug is off.
#[test]
fn test_paranoid_request() {
    let out = django_outputs(&paranoid_view().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&paranoid_view().with_debug(false));
    verify_paranoid_response(&out, ALL);
    verify_paranoid_email(&out);
}

/// `test_multivalue_dict_key_error` (#21098): the POST data held by a frame variable is
/// cleansed like the POST section.
#[test]
fn test_multivalue_dict_key_error() {
    let out = django_outputs(&multivalue_dict_key_error().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let report = django_reporter().report(&multivalue_dict_key_error().with_debug(false));
    let out = Outputs::of(&report);
    verify_safe_response(&out, ALL);
    verify_safe_email(&out, ALL);
    let copy = &report.frames[1]
        .vars
        .iter()
        .find(|var| var.name == "self")
        .unwrap()
        .value;
    assert!(copy.contains("baked-beans-value"), "{copy}");
    assert!(copy.contains(SUBSTITUTE), "{copy}");
    assert!(
        !copy.contains("sausage-value") && !copy.contains("bacon-value"),
        "{copy}"
    );
}

/// Beyond Django (its `get_cleansed_multivaluedict` iterates the characters of `"__ALL__"`):
/// with `@sensitive_post_parameters()` the POST data held by a variable is fully hidden.
#[test]
fn test_multivalue_dict_key_error_all_post_parameters() {
    let mut capture = multivalue_dict_key_error().with_debug(false);
    capture.request.as_mut().unwrap().sensitive_post_parameters = Some(SensitiveNames::All);
    let report = django_reporter().report(&capture);
    let copy = &report.frames[1]
        .vars
        .iter()
        .find(|var| var.name == "self")
        .unwrap()
        .value;
    for (key, value) in BREAKFAST {
        assert!(copy.contains(key), "{copy}");
        assert!(!copy.contains(value), "{copy}");
    }
    verify_paranoid_response(
        &Outputs::of(&report),
        Check {
            vars: false,
            post: true,
        },
    );
}

/// `test_custom_exception_reporter_filter`: a per-request filter (Django's
/// `request.exception_reporter_filter`) overrides the reporter's; the unsafe one shows
/// everything whatever the debug flag.
#[test]
fn test_custom_exception_reporter_filter() {
    let unsafe_filter = UnsafeExceptionReporterFilter(SafeReporterFilter::django());
    for debug in [true, false] {
        let capture = custom_exception_reporter_filter_view().with_debug(debug);
        let out = Outputs::of(&django_reporter().report_with(&capture, &unsafe_filter));
        verify_unsafe_response(&out, ALL);
        verify_unsafe_email(&out, ALL);
    }
    // The override applies to that report only: the reporter's own filter still hides.
    let capture = custom_exception_reporter_filter_view().with_debug(false);
    verify_paranoid_response(&django_outputs(&capture), ALL);
}

/// `test_sensitive_method`: a decorated method.
#[test]
fn test_sensitive_method() {
    let out = django_outputs(&sensitive_method_view().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&sensitive_method_view().with_debug(false));
    verify_safe_response(&out, VARS_ONLY);
    verify_safe_email(&out, VARS_ONLY);
}

/// `test_async_sensitive_method` (adapted: async frames are ordinary frames).
#[test]
fn test_async_sensitive_method() {
    let out = django_outputs(&async_sensitive_method_view().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&async_sensitive_method_view().with_debug(false));
    verify_safe_response(&out, VARS_ONLY);
    verify_safe_email(&out, VARS_ONLY);
}

/// `test_async_sensitive_method_nested` (adapted: async frames are ordinary frames).
#[test]
fn test_async_sensitive_method_nested() {
    let out = django_outputs(&async_sensitive_method_view_nested().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&async_sensitive_method_view_nested().with_debug(false));
    verify_safe_response(&out, VARS_ONLY);
    verify_safe_email(&out, VARS_ONLY);
}

/// `test_sensitive_function_arguments`: a sensitive value passed as a positional argument is
/// hidden (adapted: the argument is a variable of the decorated frame; Rust has no wrapper
/// frame with `func_args`). The calling frame, which is not decorated, stays unfiltered.
#[test]
fn test_sensitive_function_arguments() {
    let out = django_outputs(&sensitive_args_function_caller().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let report = django_reporter().report(&sensitive_args_function_caller().with_debug(false));
    let out = Outputs::of(&report);
    verify_safe_response(&out, VARS_ONLY);
    verify_safe_email(&out, VARS_ONLY);
    assert_eq!(report.redactions.count(Rule::SensitiveVariables), 1);
    // The declaration covers the decorated function and what it calls, not its caller.
    assert_eq!(report.frames[0].vars[0].name, "request");
    assert_eq!(
        report.frames[0].vars[0].value,
        r#""<WSGIRequest: POST '/some_url/'>""#
    );
}

/// `test_sensitive_function_keyword_arguments`: the same for a keyword argument.
#[test]
fn test_sensitive_function_keyword_arguments() {
    let out = django_outputs(&sensitive_kwargs_function_caller().with_debug(true));
    verify_unsafe_response(&out, ALL);
    verify_unsafe_email(&out, ALL);

    let out = django_outputs(&sensitive_kwargs_function_caller().with_debug(false));
    verify_safe_response(&out, VARS_ONLY);
    verify_safe_email(&out, VARS_ONLY);
}

// ---------------------------------------------------------------------------------------
// ExceptionReporterFilterTests: settings, META and cookies.

/// Every rendering of `capture` with `reporter`.
fn renderings(reporter: &ExceptionReporter, capture: &Capture) -> Vec<(&'static str, String)> {
    let report = reporter.report(capture);
    vec![
        ("html", report.html().to_string()),
        ("text", report.text().to_string()),
        ("json", report.json().to_string()),
        ("email html", report.html().for_email().to_string()),
        ("email text", report.text().for_email().to_string()),
    ]
}

/// `test_dict_setting_with_non_str_key`: `FOOBAR = {42: None}` is shown, no crash (adapted:
/// settings are serialized; serde_json writes the integer key as the text `"42"`).
#[test]
fn test_dict_setting_with_non_str_key() {
    let settings = BTreeMap::from([("FOOBAR", BTreeMap::from([(42u32, None::<()>)]))]);
    let capture = Capture::error("Exception", "")
        .with_environment(Environment::default())
        .with_debug(true)
        .with_settings(&settings);
    let report = django_reporter().report(&capture);
    assert_eq!(report.settings.len(), 1);
    assert_eq!(report.settings[0].name, "FOOBAR");
    assert_eq!(report.settings[0].value, r#"{"42": null}"#);
    assert!(report.html().to_string().contains("FOOBAR"));
}

/// `test_sensitive_settings`: settings whose names match the pattern are hidden, debug on.
#[test]
fn test_sensitive_settings() {
    for name in SENSITIVE_SETTINGS {
        let capture = Capture::error("Exception", "")
            .with_environment(Environment::default())
            .with_debug(true)
            .with_settings(&json!({ name: "should not be displayed" }));
        for reporter in [django_reporter(), ExceptionReporter::default()] {
            for (label, body) in renderings(&reporter, &capture) {
                contains(&body, name, label);
                lacks(&body, "should not be displayed", label);
            }
        }
    }
}

/// `test_settings_with_sensitive_keys`: sensitive keys nested in a setting are hidden.
#[test]
fn test_settings_with_sensitive_keys() {
    for name in SENSITIVE_SETTINGS {
        let settings = json!({
            "FOOBAR": {
                name: "should not be displayed",
                "recursive": { name: "should not be displayed" },
            }
        });
        let capture = Capture::error("Exception", "")
            .with_environment(Environment::default())
            .with_debug(true)
            .with_settings(&settings);
        for reporter in [django_reporter(), ExceptionReporter::default()] {
            for (label, body) in renderings(&reporter, &capture) {
                contains(&body, "recursive", label);
                lacks(&body, "should not be displayed", label);
            }
        }
    }
}

/// Django matches its pattern with Python's case-insensitive `re`, which takes `ſ` for `s`,
/// the Kelvin sign for `k`, and `İ` and `ı` for `i`: such names are hidden, nested too.
#[test]
fn names_spelled_with_letters_python_folds_are_hidden_like_django() {
    let names = [
        "PA\u{17F}\u{17F}WORD",
        "THEME\u{17F}IGNATURE",
        "ACCESS_TO\u{212A}EN",
        "AP\u{130}_URL",
        "ap\u{131}_url",
        "\u{17F}ECRET_KEY",
    ];
    for name in names {
        let settings = json!({
            name: "should not be displayed",
            "DATABASES": {"default": {name: "should not be displayed"}},
        });
        let capture = Capture::error("Exception", "")
            .with_environment(Environment::default())
            .with_debug(true)
            .with_settings(&settings);
        for reporter in [django_reporter(), ExceptionReporter::default()] {
            for (label, body) in renderings(&reporter, &capture) {
                contains(&body, "DATABASES", label);
                lacks(&body, "should not be displayed", label);
            }
        }
    }
}

/// Django's `SafeExceptionReporterFilter().cleanse_setting(key, value)`.
fn cleanse_setting(filter: &dyn ReporterFilter, key: &str, value: Value) -> Value {
    let capture = Capture::new();
    let mut cx = FilterContext::new(&capture, filter);
    filter.cleanse_value(key, &value, &mut cx).into_value()
}

/// `test_cleanse_setting_basic`.
#[test]
fn test_cleanse_setting_basic() {
    for filter in [SafeReporterFilter::django(), SafeReporterFilter::default()] {
        assert_eq!(
            cleanse_setting(&filter, "TEST", json!("TEST")),
            json!("TEST")
        );
        assert_eq!(
            cleanse_setting(&filter, "PASSWORD", json!("super_secret")),
            json!(SUBSTITUTE)
        );
    }
}

/// `test_cleanse_setting_ignore_case`.
#[test]
fn test_cleanse_setting_ignore_case() {
    for filter in [SafeReporterFilter::django(), SafeReporterFilter::default()] {
        assert_eq!(
            cleanse_setting(&filter, "password", json!("super_secret")),
            json!(SUBSTITUTE)
        );
    }
}

/// `test_cleanse_setting_recurses_in_dictionary`.
#[test]
fn test_cleanse_setting_recurses_in_dictionary() {
    for filter in [SafeReporterFilter::django(), SafeReporterFilter::default()] {
        let initial = json!({"login": "cooper", "password": "secret"});
        assert_eq!(
            cleanse_setting(&filter, "SETTING_NAME", initial),
            json!({"login": "cooper", "password": SUBSTITUTE})
        );
    }
}

/// `test_cleanse_setting_recurses_in_dictionary_with_non_string_key` (adapted: keys of a
/// JSON map are text). An integer key is serialized as text and the map below it is still
/// cleansed; a tuple key cannot be serialized, and the settings then say so instead of
/// showing anything.
#[test]
fn test_cleanse_setting_recurses_in_dictionary_with_non_string_key() {
    let inner = BTreeMap::from([("login", "cooper"), ("password", "secret")]);
    let settings = BTreeMap::from([("SETTING_NAME", BTreeMap::from([(8000u16, inner.clone())]))]);
    let capture = Capture::new().with_settings(&settings);
    let report = django_reporter().report(&capture);
    assert_eq!(
        report.settings[0].value,
        format!(r#"{{"8000": {{"login": "cooper", "password": "{SUBSTITUTE}"}}}}"#)
    );

    let settings = BTreeMap::from([(("localhost".to_owned(), 8000u16), inner)]);
    let capture = Capture::new().with_settings(&settings);
    let report = django_reporter().report(&capture);
    assert_eq!(report.settings.len(), 1);
    assert_eq!(report.settings[0].name, "SETTINGS");
    assert!(report.settings[0].value.contains("Error in formatting"));
    assert!(!report.html().to_string().contains("secret\""));
}

/// `test_cleanse_setting_recurses_in_list_tuples` (adapted: JSON has lists only, so Django's
/// tuple cases are lists).
#[test]
fn test_cleanse_setting_recurses_in_list_tuples() {
    let initial = json!([
        {
            "login": "cooper",
            "password": "secret",
            "apps": [
                {"name": "app1", "api_key": "a06b-c462cffae87a"},
                {"name": "app2", "api_key": "a9f4-f152e97ad808"},
            ],
            "tokens": ["98b37c57-ec62-4e39", "8690ef7d-8004-4916"],
        },
        {"SECRET_KEY": "c4d77c62-6196-4f17-a06b-c462cffae87a"},
    ]);
    let expected = json!([
        {
            "login": "cooper",
            "password": SUBSTITUTE,
            "apps": [
                {"name": "app1", "api_key": SUBSTITUTE},
                {"name": "app2", "api_key": SUBSTITUTE},
            ],
            "tokens": SUBSTITUTE,
        },
        {"SECRET_KEY": SUBSTITUTE},
    ]);
    for filter in [SafeReporterFilter::django(), SafeReporterFilter::default()] {
        assert_eq!(
            cleanse_setting(&filter, "SETTING_NAME", initial.clone()),
            expected
        );
        // Django's tuple variant: a list nested in a list.
        assert_eq!(
            cleanse_setting(&filter, "SETTING_NAME", json!([initial])),
            json!([expected])
        );
    }
}

/// `test_request_meta_filtering`: headers whose META names match the pattern are hidden, and
/// so is the `Cookie` header (`HTTP_COOKIE`).
#[test]
fn test_request_meta_filtering() {
    let names = [
        "API_URL",
        "A_SIGNATURE_VALUE",
        "MY_KEY",
        "PASSWORD",
        "SECRET_VALUE",
        "SOME_TOKEN",
        "THE_AUTH",
    ];
    let mut request = RequestInfo::new("GET", "http://testserver/raises500/");
    for name in names {
        request = request.header(name, "super secret");
    }
    request = request.header("Cookie", "foo=bar");
    for reporter in [django_reporter(), ExceptionReporter::default()] {
        let report =
            reporter.report(&Capture::error("Exception", "").with_request(request.clone()));
        let meta = &report.request.as_ref().unwrap().meta;
        assert_eq!(meta.len(), names.len() + 1);
        for (entry, name) in meta.iter().zip(names.iter().chain(["Cookie"].iter())) {
            assert_eq!(entry.name, *name);
            assert_eq!(entry.value, format!("\"{SUBSTITUTE}\""), "{name}");
        }
    }
}

/// `test_exception_report_uses_meta_filtering`: META filtering does not depend on the debug
/// flag, in the browser page and in the text report (and the JSON report).
#[test]
fn test_exception_report_uses_meta_filtering() {
    for debug in [false, true] {
        let capture = Capture::error("Exception", "")
            .with_environment(Environment::default())
            .with_debug(debug)
            .with_request(
                RequestInfo::new("GET", "http://testserver/raises500/")
                    .header("secret-header", "super_secret"),
            );
        for (label, body) in renderings(&django_reporter(), &capture) {
            contains(&body, "secret-header", label);
            lacks(&body, "super_secret", label);
        }
    }
}

/// `test_cleanse_session_cookie_value`: with `SESSION_COOKIE_NAME = "djangosession"`, that
/// cookie's value is hidden.
#[test]
fn test_cleanse_session_cookie_value() {
    let filter = SafeReporterFilter::builder()
        .django_parity()
        .session_cookie_name("djangosession")
        .build();
    let reporter = ExceptionReporter::new(filter);
    for debug in [false, true] {
        let capture = Capture::error("Exception", "")
            .with_environment(Environment::default())
            .with_debug(debug)
            .with_request(
                RequestInfo::new("GET", "http://testserver/raises500/")
                    .header("Cookie", "djangosession=should not be displayed"),
            );
        let report = reporter.report(&capture);
        let cookies = &report.request.as_ref().unwrap().cookies;
        assert_eq!(cookies.len(), 1);
        assert_eq!(cookies[0].name, "djangosession");
        assert_eq!(cookies[0].value, format!("\"{SUBSTITUTE}\""));
        for (label, body) in renderings(&reporter, &capture) {
            lacks(&body, "should not be displayed", label);
        }
    }
}

// ---------------------------------------------------------------------------------------
// CustomExceptionReporterFilterTests: Django's `CustomExceptionReporterFilter` subclass with
// `cleansed_substitute = "XXXXXXXXXXXXXXXXXXXX"` and `hidden_settings = PASS|DATABASE`
// (case-insensitive).

const X_SUBSTITUTE: &str = "XXXXXXXXXXXXXXXXXXXX";

/// The subclass as a `ReporterFilter` implementation.
struct CustomExceptionReporterFilter(Regex);

impl CustomExceptionReporterFilter {
    fn new() -> Self {
        Self(Regex::new("(?i)PASS|DATABASE").unwrap())
    }
}

impl ReporterFilter for CustomExceptionReporterFilter {
    fn substitute(&self) -> &str {
        X_SUBSTITUTE
    }

    fn sensitive_name(&self, name: &str) -> Option<Rule> {
        self.0.is_match(name).then_some(Rule::NamePattern)
    }
}

/// The subclass built from `SafeReporterFilter`'s builder.
fn custom_builder_filter() -> SafeReporterFilter {
    SafeReporterFilter::builder()
        .django_parity()
        .substitute(X_SUBSTITUTE)
        .hidden_names(Regex::new("(?i)PASS|DATABASE").unwrap())
        .build()
}

/// `test_setting_allows_custom_subclass` (adapted: there is no `DEFAULT_EXCEPTION_REPORTER_FILTER`
/// setting; the reporter is built with the custom filter, and that filter is the one it uses).
#[test]
fn test_setting_allows_custom_subclass() {
    let capture = Capture::error("Exception", "")
        .with_environment(Environment::default())
        .with_settings(&json!({"DATABASE_URL": "sqlite://db", "API_KEY": "shown"}));
    for reporter in [
        ExceptionReporter::new(CustomExceptionReporterFilter::new()),
        ExceptionReporter::new(custom_builder_filter()),
    ] {
        assert_eq!(reporter.filter().substitute(), X_SUBSTITUTE);
        let report = reporter.report(&capture);
        assert_eq!(report.substitute, X_SUBSTITUTE);
        // `API_KEY` matches Django's pattern but not the custom one.
        assert_eq!(report.settings[0].name, "API_KEY");
        assert_eq!(report.settings[0].value, "\"shown\"");
        assert_eq!(report.settings[1].name, "DATABASE_URL");
        assert_eq!(report.settings[1].value, format!("\"{X_SUBSTITUTE}\""));
    }
}

/// `test_cleansed_substitute_override`.
#[test]
fn test_cleansed_substitute_override() {
    let custom = CustomExceptionReporterFilter::new();
    let built = custom_builder_filter();
    for filter in [&custom as &dyn ReporterFilter, &built] {
        assert_eq!(
            cleanse_setting(filter, "password", json!("super_secret")),
            json!(X_SUBSTITUTE)
        );
    }
}

/// `test_hidden_settings_override`.
#[test]
fn test_hidden_settings_override() {
    let custom = CustomExceptionReporterFilter::new();
    let built = custom_builder_filter();
    for filter in [&custom as &dyn ReporterFilter, &built] {
        assert_eq!(
            cleanse_setting(filter, "database_url", json!("super_secret")),
            json!(X_SUBSTITUTE)
        );
    }
}
