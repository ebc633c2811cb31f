//! Property tests: canary secrets placed where the default filter's documented rules must
//! hide them never reach any output.
//!
//! Every case builds a capture with nested settings, a request (query parameters, a form,
//! multipart or JSON body, uploaded files, headers, cookies), frames with nested variables,
//! causes with frames, an environment and free text, and plants random canaries (12 letters
//! and digits, or the digits of a number or card) in it:
//!
//! * under sensitive names (Django's terms and the extended terms anywhere in a name in any
//!   case, the extended stems as whole words or camelCase humps, the session cookie): as
//!   settings keys and keys at any depth, tag and context names, header, cookie, query and form field names, JSON
//!   body keys, variable names and keys nested in variables; and in headers the HTTP stack
//!   marked sensitive;
//! * in secret-shaped values under innocent names, anywhere a string is shown (values,
//!   messages, types, function and file names, user, route, environment, uploaded file
//!   names, the request URL, the identity, tags and context values) and as secret-shaped names: URL passwords and DSN keys,
//!   `Bearer` and `Basic` credentials, `name=value` and `name: value` pairs in text,
//!   sensitive query parameters inside URLs, Luhn-valid card numbers, JWTs, AWS access keys,
//!   PEM private keys and the other well-known key formats;
//! * while the filter is active (debug off): under variables and POST parameters declared
//!   sensitive (by name or all, inherited by called frames), including copies of the POST
//!   data held by frame variables;
//! * as bare copies of a value hidden elsewhere (the reverse lookup);
//! * in the source lines around the frames (quoted literals assigned to sensitive names,
//!   secret shapes in comments and calls).
//!
//! Breadcrumbs carry canaries too: in their messages, and in their fields under sensitive
//! names or secret-shaped values.
//!
//! Each case is rendered as text (`Report::render_text` and `ExceptionReporter::render`),
//! email text, the email's log message (subject), browser HTML, email HTML, JSON, Markdown, the
//! Sentry event and the webhook body (with the `sentry` and `webhook` features), and no
//! canary may appear in any of them: raw, HTML-escaped, URL-encoded or JSON-escaped. An
//! ordinary setting must stay visible in every report.
//!
//! The tests at the end of this file pin cases that once leaked.
#![cfg(feature = "mail")]

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use safe_report::filter::{DJANGO_TERMS, EXTENDED_TERMS, EXTENDED_WORDS};
use safe_report::mail::{EmailParts, EmailRenderer};
use safe_report::report::SourceCache;
use safe_report::{
    Breadcrumb, BreadcrumbLevel, Capture, Cause, Environment, ExceptionReporter, Frame, Identity,
    ReporterFilter, RequestInfo, SafeReporterFilter, SensitiveNames, TaskContext, UploadedFile,
    Variable,
};
use serde_json::{Map, Value, json};
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

const NAME_CASES: u32 = 2000;
const SHAPE_CASES: u32 = 2500;
const DECLARED_CASES: u32 = 800;
const COPY_CASES: u32 = 1000;
const SOURCE_CASES: u32 = 300;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // A failure's seed is saved in `tests/no_leak_properties.regressions` (commit it):
        // each later run tries the saved seeds first, and the shrunk input is printed.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------

/// Names that no rule of the default filter treats as sensitive (checked by a test below).
const INNOCENT: &[&str] = &[
    "order_id",
    "city",
    "note",
    "label",
    "comment",
    "lang",
    "ref",
    "items",
    "next",
    "redirect",
    "endpoint",
    "callback",
    "payload",
    "message",
    "detail",
    "data",
    "info",
    "config",
    "value",
    "title",
    "query",
    "ctx",
    "extra",
    "meta",
    "url",
    "href",
    "body",
    "blob",
    "log_line",
    "reason",
    "user_name",
    "email",
    "amount",
    "currency",
    "region",
    "host",
    "locale",
    "page",
];

const INNOCENT_HEADERS: &[&str] = &[
    "X-Debug-Note",
    "X-Trace-Context",
    "Referer",
    "X-Original-Url",
    "Via",
    "X-Request-Note",
    "Forwarded",
    "X-Upstream",
    "Warning",
    "X-Comment",
];

const INNOCENT_COOKIES: &[&str] = &[
    "cart_id",
    "lang",
    "theme",
    "ref",
    "_ga",
    "last_page",
    "prefs",
    "promo",
];

/// Natural sensitive names on top of the library's documented terms.
const NATURAL_SENSITIVE: &[&str] = &[
    "password",
    "api_key",
    "apikey",
    "access_token",
    "authorization",
    "client_secret",
    "secret_key",
    "refresh_token",
    "session",
];

const FILLER_WORDS: &[&str] = &[
    "en",
    "utf-8",
    "default",
    "mail",
    "ok",
    "",
    "shop.example.com",
    "https://shop.example.com/",
    "beta",
    "fast-checkout",
    "Alice Example",
];

/// A value that must stay visible in every output (the filter is not hiding everything).
const CONTROL_SETTING: (&str, &str) = ("TIME_ZONE", "Europe/Berlin");

fn anywhere_terms() -> Vec<String> {
    DJANGO_TERMS
        .iter()
        .chain(EXTENDED_TERMS)
        .chain(NATURAL_SENSITIVE)
        .map(|term| term.to_ascii_lowercase())
        .collect()
}

fn random_case(text: &str, mask: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(index, ch)| {
            if (mask >> (index % 64)) & 1 == 1 {
                ch.to_ascii_uppercase()
            } else {
                ch.to_ascii_lowercase()
            }
        })
        .collect()
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A random token: 12 characters, letters and digits, starting with a letter.
fn canary() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9]{9}[0-9][a-z]"
}

// ---------------------------------------------------------------------------------------
// Sensitive names
// ---------------------------------------------------------------------------------------

/// Where a name is used, which limits its characters.
#[derive(Debug, Clone, Copy)]
enum NameCtx {
    /// Settings keys, JSON keys, variable names, query names (URL-encoded): anything.
    Key,
    /// Header, cookie and multipart field names: letters, digits, `_` and `-`.
    Token,
    /// Names inside text (`name=value`): letters, digits, `_`, `-` and `.`.
    Text,
}

fn fragment(ctx: NameCtx) -> BoxedStrategy<String> {
    match ctx {
        NameCtx::Key => "[a-zA-Z0-9äéß]{0,6}".boxed(),
        NameCtx::Token | NameCtx::Text => "[a-zA-Z0-9]{0,6}".boxed(),
    }
}

fn any_separator(ctx: NameCtx) -> BoxedStrategy<&'static str> {
    match ctx {
        NameCtx::Token => select(&["", "_", "-"][..]).boxed(),
        NameCtx::Key | NameCtx::Text => select(&["", "_", "-", "."][..]).boxed(),
    }
}

/// Separators that end a word (not letters or digits).
fn word_separator(ctx: NameCtx) -> BoxedStrategy<&'static str> {
    match ctx {
        NameCtx::Token => select(&["_", "-"][..]).boxed(),
        NameCtx::Text => select(&["_", "-", "."][..]).boxed(),
        NameCtx::Key => select(&["_", "-", ".", " ", "/"][..]).boxed(),
    }
}

/// A name the documented name rules make sensitive: a term anywhere in any case, a short
/// stem as a whole word (separated or a camelCase hump), or the session cookie's name.
fn sensitive_name(ctx: NameCtx) -> BoxedStrategy<String> {
    let anywhere = (
        select(anywhere_terms()),
        fragment(ctx),
        fragment(ctx),
        any_separator(ctx),
        any_separator(ctx),
        any::<u64>(),
    )
        .prop_map(|(term, before, after, sep1, sep2, mask)| {
            format!("{before}{sep1}{}{sep2}{after}", random_case(&term, mask))
        });
    let word = (
        select(EXTENDED_WORDS),
        fragment(ctx),
        fragment(ctx),
        word_separator(ctx),
        word_separator(ctx),
        any::<u64>(),
    )
        .prop_map(|(stem, before, after, sep1, sep2, mask)| {
            let mut name = String::new();
            if !before.is_empty() {
                name.push_str(&before);
                name.push_str(sep1);
            }
            name.push_str(&random_case(stem, mask));
            if !after.is_empty() {
                name.push_str(sep2);
                name.push_str(&after);
            }
            name
        });
    let camel = (select(EXTENDED_WORDS), "[a-z]{1,6}", "([A-Z][a-z]{0,5})?")
        .prop_map(|(stem, before, after)| format!("{before}{}{after}", capitalized(stem)));
    prop_oneof![
        5 => anywhere,
        3 => word,
        1 => camel,
        1 => Just("sessionid".to_owned()),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Values hidden by name or declaration
// ---------------------------------------------------------------------------------------

/// A value holding a canary, as it sits under a sensitive (or declared) name.
#[derive(Debug, Clone)]
enum Hidden {
    Plain(String),
    InText(&'static str, String, &'static str),
    InList(String),
    InMap(&'static str, String),
    Deep(String),
    /// A number of 13 to 18 digits (kept as its decimal text).
    Number(String),
}

impl Hidden {
    fn canary(&self) -> &str {
        match self {
            Hidden::Plain(c)
            | Hidden::InText(_, c, _)
            | Hidden::InList(c)
            | Hidden::InMap(_, c)
            | Hidden::Deep(c)
            | Hidden::Number(c) => c,
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Hidden::Plain(c) => json!(c),
            Hidden::InText(before, c, after) => json!(format!("{before}{c}{after}")),
            Hidden::InList(c) => json!(["first", c, 3]),
            Hidden::InMap(key, c) => json!({ *key: c, "n": 1 }),
            Hidden::Deep(c) => json!({"level": [{"inner": {"leaf": c}}]}),
            Hidden::Number(n) => json!(n.parse::<u64>().expect("digits")),
        }
    }
}

/// How a hidden value may look at a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueForm {
    /// Exactly the canary.
    Plain,
    /// A string without blanks, `;` or `,` (cookie values).
    CookieSafe,
    /// A string on one line (header values).
    OneLine,
    /// Anything.
    Any,
}

fn hidden(form: ValueForm) -> BoxedStrategy<Hidden> {
    let plain = canary().prop_map(Hidden::Plain);
    match form {
        ValueForm::Plain => plain.boxed(),
        ValueForm::CookieSafe => prop_oneof![
            plain,
            canary().prop_map(|c| Hidden::InText("v1.", c, "")),
        ]
        .boxed(),
        ValueForm::OneLine => prop_oneof![
            plain,
            (
                select(&["", "v1.", "prefix ", "Token "][..]),
                canary(),
                select(&["", " end", ".sig"][..])
            )
                .prop_map(|(a, c, b)| Hidden::InText(a, c, b)),
        ]
        .boxed(),
        ValueForm::Any => prop_oneof![
            3 => plain,
            1 => (
                select(&["", "v1.", "line one\n", "Token "][..]),
                canary(),
                select(&["", " end", "\nmore"][..])
            )
                .prop_map(|(a, c, b)| Hidden::InText(a, c, b)),
            1 => canary().prop_map(Hidden::InList),
            1 => (select(INNOCENT), canary()).prop_map(|(k, c)| Hidden::InMap(k, c)),
            1 => canary().prop_map(Hidden::Deep),
            1 => (1_000_000_000_000u64..1_000_000_000_000_000_000).prop_map(|n| Hidden::Number(n.to_string())),
        ]
        .boxed(),
    }
}

// ---------------------------------------------------------------------------------------
// Secret-shaped values
// ---------------------------------------------------------------------------------------

const URL_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "redis",
    "amqp",
    "mysql",
    "mongodb+srv",
    "https",
    "http",
    "git+ssh",
    "s3",
];
const URL_HOSTS: &[&str] = &[
    "db.internal",
    "10.0.0.5:5432",
    "cache:6379",
    "mq.internal:5672",
    "example.com",
];
const URL_TAILS: &[&str] = &["", "/", "/shop", "/0?ssl=true", "/db#main"];
const PEM_KINDS: &[&str] = &["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP "];

/// A value whose shape a detector of the default filter must recognise.
#[derive(Debug, Clone)]
enum Shape {
    /// `scheme://user:PASSWORD@host…`
    UrlPassword {
        scheme: &'static str,
        user: String,
        host: &'static str,
        tail: &'static str,
        password: String,
    },
    /// `https://KEY@host/45` (a DSN key: userinfo without a password).
    UrlUserinfo { key: String },
    /// `Bearer TOKEN`, `Basic TOKEN`.
    Credential {
        scheme: &'static str,
        gap: &'static str,
        token: String,
    },
    /// `name=VALUE`, `name: VALUE`, `"name": "VALUE"`, …
    NameValue {
        name: String,
        style: u8,
        value: String,
    },
    /// `https://host/cb?…&name=VALUE&…` or `…#name=VALUE&…`
    UrlQuery {
        before: &'static str,
        name: String,
        value: String,
        fragment: bool,
    },
    /// A Luhn-valid card number, possibly grouped by 4.
    Card {
        digits: String,
        separator: &'static str,
    },
    /// `eyJ….eyJPAYLOAD.SIGNATURE`
    Jwt {
        header: String,
        payload: String,
        signature: String,
    },
    /// `AKIA…` and friends.
    Aws { key: String },
    /// A PEM private key block with the canary in its body.
    Pem {
        kind: &'static str,
        filler: String,
        secret: String,
    },
    /// GitHub, GitLab, npm, Stripe, Slack, Google, SendGrid, OpenAI keys, Slack webhooks.
    KnownKey { text: String, secret: String },
}

impl Shape {
    fn text(&self) -> String {
        match self {
            Shape::UrlPassword {
                scheme,
                user,
                host,
                tail,
                password,
            } => format!("{scheme}://{user}:{password}@{host}{tail}"),
            Shape::UrlUserinfo { key } => format!("https://{key}@o1.ingest.example.io/45"),
            Shape::Credential { scheme, gap, token } => format!("{scheme}{gap}{token}"),
            Shape::NameValue { name, style, value } => match style % 8 {
                0 => format!("{name}={value}"),
                1 => format!("{name} = {value}"),
                2 => format!("{name}: {value}"),
                3 => format!("\"{name}\": \"{value}\""),
                4 => format!("'{name}': '{value}'"),
                5 => format!("{name}=\"{value}\""),
                6 => format!("{name}='{value}'"),
                _ => format!("{name}:{value}"),
            },
            Shape::UrlQuery {
                before,
                name,
                value,
                fragment,
            } => {
                let mark = if *fragment { '#' } else { '?' };
                format!("https://shop.example.com/cb{mark}{before}{name}={value}&ref=cart")
            }
            Shape::Card { digits, separator } => digits
                .as_bytes()
                .chunks(4)
                .map(|chunk| std::str::from_utf8(chunk).unwrap())
                .collect::<Vec<_>>()
                .join(separator),
            Shape::Jwt {
                header,
                payload,
                signature,
            } => format!("eyJ{header}.eyJ{payload}.{signature}"),
            Shape::Aws { key } => key.clone(),
            Shape::Pem {
                kind,
                filler,
                secret,
            } => {
                let label = if *kind == "PGP " {
                    "PGP PRIVATE KEY BLOCK".to_owned()
                } else {
                    format!("{kind}PRIVATE KEY")
                };
                format!(
                    "-----BEGIN {label}-----\nMII{filler}\n{secret}{filler}==\n-----END {label}-----"
                )
            }
            Shape::KnownKey { text, .. } => text.clone(),
        }
    }

    /// What must not appear in any output.
    fn canaries(&self) -> Vec<String> {
        match self {
            Shape::UrlPassword { password, .. } => vec![password.clone()],
            Shape::UrlUserinfo { key } => vec![key.clone()],
            Shape::Credential { token, .. } => vec![token.clone()],
            Shape::NameValue { value, .. } | Shape::UrlQuery { value, .. } => vec![value.clone()],
            Shape::Card { digits, .. } => {
                let text = self.text();
                if text == *digits {
                    vec![text]
                } else {
                    vec![text, digits.clone()]
                }
            }
            Shape::Jwt {
                payload, signature, ..
            } => vec![payload.clone(), signature.clone()],
            Shape::Aws { key } => vec![key.clone()],
            Shape::Pem { secret, .. } => vec![secret.clone()],
            Shape::KnownKey { secret, .. } => vec![secret.clone()],
        }
    }

    /// The exact text the detector hides (and the reverse lookup then hides everywhere),
    /// when that is a single token.
    fn exact(&self) -> Option<String> {
        match self {
            Shape::Pem { .. } => None,
            Shape::Jwt { .. } | Shape::Card { .. } => Some(self.text()),
            other => other.canaries().into_iter().next(),
        }
    }
}

fn luhn_completed(first: u8, body: &[u8]) -> String {
    let mut digits: Vec<u8> = std::iter::once(first).chain(body.iter().copied()).collect();
    // With the check digit appended, the last payload digit is the first one doubled.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(index, &digit)| {
            let digit = u32::from(digit);
            if index % 2 == 0 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    digits.push(((10 - sum % 10) % 10) as u8);
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn card(separators: &'static [&'static str]) -> BoxedStrategy<Shape> {
    (3u8..=6, 12usize..=18)
        .prop_flat_map(move |(first, len)| (Just(first), vec(0u8..10, len - 1), select(separators)))
        .prop_map(|(first, body, separator)| Shape::Card {
            digits: luhn_completed(first, &body),
            separator,
        })
        .boxed()
}

fn known_key(webhook: bool) -> BoxedStrategy<Shape> {
    let whole = |text: String| Shape::KnownKey {
        secret: text.clone(),
        text,
    };
    let keys = prop_oneof![
        "gh[pousr]_[A-Za-z0-9]{36}".prop_map(whole),
        "github_pat_[A-Za-z0-9_]{22,40}".prop_map(whole),
        "glpat-[A-Za-z0-9]{20}".prop_map(whole),
        "npm_[A-Za-z0-9]{36}".prop_map(whole),
        "[sr]k_(live|test)_[A-Za-z0-9]{16,32}".prop_map(whole),
        "whsec_[A-Za-z0-9]{24,32}".prop_map(whole),
        "xox[abposr]-[0-9]{10,12}-[A-Za-z0-9]{12,24}".prop_map(whole),
        "xapp-1-[A-Z0-9]{10}-[a-z0-9]{12}".prop_map(whole),
        "AIza[0-9A-Za-z]{35}".prop_map(whole),
        "SG\\.[A-Za-z0-9]{22}\\.[A-Za-z0-9]{43}".prop_map(whole),
        "sk-(proj-)?[A-Za-z0-9]{40,48}".prop_map(whole),
    ];
    if webhook {
        prop_oneof![
            11 => keys,
            1 => "T0[A-Z0-9]{8}/B0[A-Z0-9]{8}/[A-Za-z0-9]{24}".prop_map(|path| Shape::KnownKey {
                text: format!("https://hooks.slack.com/services/{path}"),
                secret: path,
            }),
        ]
        .boxed()
    } else {
        keys.boxed()
    }
}

/// Which shapes a site can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShapeSet {
    /// Free text.
    All,
    /// One line: no PEM block.
    OneLine,
    /// A cookie value: no blanks, `;`, `,` or quotes.
    Cookie,
    /// A query parameter value, URL-encoded in the request URL. The request URL is scanned
    /// as it was received, and the reverse lookup searches it for the decoded secrets, so a
    /// secret is only hidden there when its encoded form is the same text: no PEM block, no
    /// space-grouped card number, no Slack webhook path, and spans that end at the secret
    /// (the leaks are pinned by the ignored tests).
    QueryValue,
    /// The request URL itself.
    RequestUrl,
    /// A line of source code: `name = value` pairs only count with quoted values, a PEM
    /// block spans several lines, and query parameters in URLs are not hidden in code (see
    /// the ignored tests).
    Code,
}

fn shape(set: ShapeSet) -> BoxedStrategy<Shape> {
    let url_password = |schemes: &'static [&'static str]| {
        (
            select(schemes),
            prop_oneof![Just(String::new()), "[a-z][a-z0-9_.]{0,7}"],
            select(URL_HOSTS),
            select(URL_TAILS),
            canary(),
        )
            .prop_map(|(scheme, user, host, tail, password)| Shape::UrlPassword {
                scheme,
                user,
                host,
                tail,
                password,
            })
    };
    let userinfo = canary().prop_map(|key| Shape::UrlUserinfo { key });
    let credential = (
        select(&["Bearer", "bearer", "BEARER", "Basic", "basic", "BASIC"][..]),
        select(&[" ", "  ", "\t"][..]),
        canary(),
    )
        .prop_map(|(scheme, gap, token)| Shape::Credential { scheme, gap, token });
    let name_value = |styles: std::ops::Range<u8>| {
        (sensitive_name(NameCtx::Text), styles, canary())
            .prop_map(|(name, style, value)| Shape::NameValue { name, style, value })
    };
    let url_query = (
        select(&["", "utm_source=mail&", "page=2;"][..]),
        sensitive_name(NameCtx::Text),
        canary(),
        any::<bool>(),
    )
        .prop_map(|(before, name, value, fragment)| Shape::UrlQuery {
            before,
            name,
            value,
            fragment,
        });
    let jwt =
        ("[A-Za-z0-9_-]{2,20}", canary(), canary()).prop_map(|(header, payload, signature)| {
            Shape::Jwt {
                header,
                payload,
                signature,
            }
        });
    let aws = (
        select(&["AKIA", "ASIA", "ABIA", "ACCA"][..]),
        "[A-Z0-9]{16}",
    )
        .prop_map(|(prefix, rest)| Shape::Aws {
            key: format!("{prefix}{rest}"),
        });
    let pem =
        (select(PEM_KINDS), "[A-Za-z0-9+/]{16,60}", canary()).prop_map(|(kind, filler, secret)| {
            Shape::Pem {
                kind,
                filler,
                secret,
            }
        });
    match set {
        ShapeSet::All => prop_oneof![
            url_password(URL_SCHEMES),
            userinfo,
            credential,
            name_value(0..8),
            url_query,
            card(&["", " ", "-"]),
            jwt,
            aws,
            pem,
            known_key(true),
        ]
        .boxed(),
        ShapeSet::OneLine => prop_oneof![
            url_password(URL_SCHEMES),
            userinfo,
            credential,
            name_value(0..8),
            url_query,
            card(&["", " ", "-"]),
            jwt,
            aws,
            known_key(true),
        ]
        .boxed(),
        ShapeSet::QueryValue => prop_oneof![
            url_password(URL_SCHEMES),
            userinfo,
            credential,
            name_value(0..8),
            url_query,
            card(&["", "-"]),
            jwt,
            aws,
            known_key(false),
        ]
        .boxed(),
        ShapeSet::Cookie => prop_oneof![
            url_password(URL_SCHEMES),
            userinfo,
            name_value(0..1),
            card(&["", "-"]),
            jwt,
            aws,
            known_key(true),
        ]
        .boxed(),
        ShapeSet::Code => prop_oneof![
            url_password(URL_SCHEMES),
            userinfo,
            credential,
            name_value(3..7),
            card(&["", " ", "-"]),
            jwt,
            aws,
            known_key(true),
        ]
        .boxed(),
        ShapeSet::RequestUrl => {
            prop_oneof![url_password(&["https", "http"]), userinfo, url_query,].boxed()
        }
    }
}

/// Text around a secret-shaped value: padding (to cross the scanner's short/long
/// threshold), a prefix and a suffix that end and start the secret's shape cleanly.
#[derive(Debug, Clone)]
struct Embed {
    pad_before: usize,
    prefix: &'static str,
    suffix: &'static str,
    pad_after: usize,
}

impl Embed {
    fn none() -> Self {
        Embed {
            pad_before: 0,
            prefix: "",
            suffix: "",
            pad_after: 0,
        }
    }

    fn wrap(&self, secret: &str) -> String {
        format!(
            "{}{}{secret}{}{}",
            "lorem ipsum dolor sit amet ".repeat(self.pad_before),
            self.prefix,
            self.suffix,
            " consectetur adipiscing elit".repeat(self.pad_after),
        )
    }
}

const PREFIXES: &[&str] = &[
    "",
    " ",
    "error: ",
    "while calling ",
    "(",
    "[",
    "<",
    "see ",
    "\n",
    "failed for ",
    "value was ",
];
const ONE_LINE_PREFIXES: &[&str] = &[
    "",
    " ",
    "error: ",
    "while calling ",
    "(",
    "[",
    "<",
    "see ",
    "failed for ",
];
const SUFFIXES: &[&str] = &[
    "",
    " ",
    " failed",
    ")",
    "]",
    ">",
    ",",
    ".",
    "\n",
    " returned 502",
    "; retrying",
];
const ONE_LINE_SUFFIXES: &[&str] = &[
    "",
    " ",
    " failed",
    ")",
    "]",
    ">",
    ",",
    ".",
    " returned 502",
    "; retrying",
];
/// Suffixes after which every detector's span ends exactly at the secret.
const EXACT_SUFFIXES: &[&str] = &["", ")", "]", ",", "\n", "; retrying"];

fn embed(set: ShapeSet, exact: bool) -> BoxedStrategy<Embed> {
    match set {
        ShapeSet::Cookie | ShapeSet::RequestUrl | ShapeSet::Code => Just(Embed::none()).boxed(),
        _ => {
            let exact = exact || set == ShapeSet::QueryValue;
            let one_line = set != ShapeSet::All;
            let prefixes = if one_line {
                ONE_LINE_PREFIXES
            } else {
                PREFIXES
            };
            let suffixes = match (exact, one_line) {
                (true, true) => &EXACT_SUFFIXES[..4],
                (true, false) => EXACT_SUFFIXES,
                (false, true) => ONE_LINE_SUFFIXES,
                (false, false) => SUFFIXES,
            };
            let pad_after = if exact { 0..1usize } else { 0..4usize };
            (0usize..6, select(prefixes), select(suffixes), pad_after)
                .prop_map(|(pad_before, prefix, suffix, pad_after)| Embed {
                    pad_before,
                    prefix,
                    suffix,
                    pad_after,
                })
                .boxed()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Sites and placements
// ---------------------------------------------------------------------------------------

/// Where a canary is put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    /// A settings entry, at any depth (the path picks the maps and lists on the way).
    Setting,
    Header,
    Cookie,
    Query,
    /// A field of the body: form, multipart or JSON (at any depth in JSON).
    Body,
    /// A frame variable (of the error's frames or a cause's).
    Var,
    /// A key inside a frame variable's value, at any depth.
    VarNested,
    /// The reason a variable could not be formatted.
    VarError,
    /// An uploaded file's name (in a multipart body when it fits, else a known file).
    Upload,
    Message,
    CauseMessage,
    CauseType,
    ErrorType,
    /// A string of the environment (the identity's included).
    Env,
    /// A tag of the work's context.
    Tag,
    /// A value of the work's context.
    ContextValue,
    Function,
    File,
    User,
    Route,
    RequestUrl,
    /// A breadcrumb's message.
    Crumb,
    /// A field of a breadcrumb.
    CrumbField,
}

const NAME_SITES: &[Site] = &[
    Site::Tag,
    Site::ContextValue,
    Site::Setting,
    Site::Header,
    Site::Cookie,
    Site::Query,
    Site::Body,
    Site::Var,
    Site::VarNested,
    Site::VarError,
    Site::CrumbField,
];

/// Sites whose names can hold any one-line text (secret-shaped names).
const SHAPED_NAME_SITES: &[Site] = &[
    Site::Setting,
    Site::Header,
    Site::Query,
    Site::Var,
    Site::VarNested,
];

const VALUE_SITES: &[Site] = &[
    Site::Tag,
    Site::ContextValue,
    Site::Setting,
    Site::Header,
    Site::Cookie,
    Site::Query,
    Site::Body,
    Site::Var,
    Site::VarNested,
    Site::VarError,
    Site::Upload,
    Site::Message,
    Site::CauseMessage,
    Site::CauseType,
    Site::ErrorType,
    Site::Env,
    Site::Function,
    Site::File,
    Site::User,
    Site::Route,
    Site::RequestUrl,
    Site::Crumb,
    Site::CrumbField,
];

/// Value sites outside frame variables (see the ignored text-report test).
const NON_VARIABLE_VALUE_SITES: &[Site] = &[
    Site::Tag,
    Site::ContextValue,
    Site::Setting,
    Site::Header,
    Site::Cookie,
    Site::Query,
    Site::Body,
    Site::Upload,
    Site::Message,
    Site::CauseMessage,
    Site::CauseType,
    Site::ErrorType,
    Site::Env,
    Site::Function,
    Site::File,
    Site::User,
    Site::Route,
    Site::RequestUrl,
    Site::Crumb,
    Site::CrumbField,
];

const VARIABLE_VALUE_SITES: &[Site] = &[Site::Var, Site::VarNested, Site::VarError];

/// Sites a bare copy of a hidden value is put at (values, never names).
const COPY_SITES: &[Site] = &[
    Site::Tag,
    Site::ContextValue,
    Site::Setting,
    Site::Header,
    Site::Cookie,
    Site::Query,
    Site::Body,
    Site::Var,
    Site::VarNested,
    Site::Message,
    Site::CauseMessage,
    Site::CauseType,
    Site::ErrorType,
    Site::Env,
    Site::Function,
    Site::File,
    Site::User,
    Site::Route,
    Site::Crumb,
    Site::CrumbField,
];

fn name_ctx(site: Site) -> NameCtx {
    match site {
        Site::Header | Site::Cookie | Site::Body => NameCtx::Token,
        // Names that need no percent-encoding in the URL; encoded names leak (see the
        // ignored tests).
        Site::Query => NameCtx::Text,
        _ => NameCtx::Key,
    }
}

fn value_form(site: Site, plain: bool) -> ValueForm {
    match site {
        _ if plain => ValueForm::Plain,
        Site::Cookie => ValueForm::CookieSafe,
        Site::Header | Site::Query | Site::VarError => ValueForm::OneLine,
        _ => ValueForm::Any,
    }
}

fn shape_set(site: Site) -> ShapeSet {
    match site {
        Site::Cookie => ShapeSet::Cookie,
        Site::Header | Site::Upload => ShapeSet::OneLine,
        Site::Query => ShapeSet::QueryValue,
        Site::RequestUrl => ShapeSet::RequestUrl,
        _ => ShapeSet::All,
    }
}

/// Where to put something: which frame, which path of maps and lists, which innocent name.
#[derive(Debug, Clone)]
struct Spot {
    frame: u8,
    path: Vec<u8>,
    innocent: u8,
}

fn spot() -> impl Strategy<Value = Spot> {
    (any::<u8>(), vec(any::<u8>(), 0..=3), any::<u8>()).prop_map(|(frame, path, innocent)| Spot {
        frame,
        path,
        innocent,
    })
}

/// A canary planted in a capture.
#[derive(Debug, Clone)]
enum Placement {
    /// Under a sensitive name.
    Named {
        site: Site,
        name: String,
        value: Hidden,
        spot: Spot,
    },
    /// A secret-shaped value under an innocent name.
    Shaped {
        site: Site,
        shape: Shape,
        embed: Embed,
        spot: Spot,
    },
    /// A secret-shaped name (a settings key, header name, query name, variable name or
    /// nested key) with an ordinary value.
    ShapedName {
        site: Site,
        shape: Shape,
        embed: Embed,
        spot: Spot,
    },
    /// A header with an innocent name that the HTTP stack marked sensitive.
    MarkedHeader { name: u8, value: Hidden },
    /// A frame variable declared sensitive by its frame or a frame calling it.
    DeclaredVariable {
        declared_at: u8,
        below: u8,
        all: bool,
        name: u8,
        value: Hidden,
    },
    /// A POST parameter declared sensitive (form, multipart or JSON top-level key).
    DeclaredPost { all: bool, name: u8, value: Hidden },
    /// A declared-sensitive POST field and a copy of it in a frame variable's map.
    DeclaredPostCopy {
        all: bool,
        name: u8,
        frame: u8,
        value: String,
    },
    /// A bare copy of a canary hidden by another placement.
    Copy {
        site: Site,
        canary: String,
        in_text: bool,
        spot: Spot,
    },
}

fn named(plain: bool) -> BoxedStrategy<Placement> {
    named_at(NAME_SITES, plain)
}

fn named_at(sites: &'static [Site], plain: bool) -> BoxedStrategy<Placement> {
    select(sites)
        .prop_flat_map(move |site| {
            (
                Just(site),
                sensitive_name(name_ctx(site)),
                hidden(value_form(site, plain)),
                spot(),
            )
        })
        .prop_map(|(site, name, value, spot)| Placement::Named {
            site,
            name,
            value,
            spot,
        })
        .boxed()
}

fn shaped(sites: &'static [Site], exact: bool) -> BoxedStrategy<Placement> {
    select(sites)
        .prop_flat_map(move |site| {
            let set = shape_set(site);
            (Just(site), shape(set), embed(set, exact), spot())
        })
        .prop_filter("an exact secret", move |(_, shape, _, _)| {
            !exact || shape.exact().is_some()
        })
        .prop_map(|(site, shape, embed, spot)| Placement::Shaped {
            site,
            shape,
            embed,
            spot,
        })
        .boxed()
}

fn shaped_name() -> BoxedStrategy<Placement> {
    select(SHAPED_NAME_SITES)
        .prop_flat_map(|site| {
            let set = match site {
                Site::Query => ShapeSet::QueryValue,
                _ => ShapeSet::OneLine,
            };
            (Just(site), shape(set), embed(set, false), spot())
        })
        .prop_map(|(site, shape, embed, spot)| Placement::ShapedName {
            site,
            shape,
            embed,
            spot,
        })
        .boxed()
}

fn marked_header(plain: bool) -> BoxedStrategy<Placement> {
    let form = if plain {
        ValueForm::Plain
    } else {
        ValueForm::OneLine
    };
    (any::<u8>(), hidden(form))
        .prop_map(|(name, value)| Placement::MarkedHeader { name, value })
        .boxed()
}

fn declared(plain: bool) -> BoxedStrategy<Placement> {
    let form = if plain {
        ValueForm::Plain
    } else {
        ValueForm::Any
    };
    prop_oneof![
        (
            any::<u8>(),
            any::<u8>(),
            prop::bool::weighted(0.2),
            any::<u8>(),
            hidden(form)
        )
            .prop_map(|(declared_at, below, all, name, value)| {
                Placement::DeclaredVariable {
                    declared_at,
                    below,
                    all,
                    name,
                    value,
                }
            }),
        (
            prop::bool::weighted(0.2),
            any::<u8>(),
            hidden(if plain {
                ValueForm::Plain
            } else {
                ValueForm::OneLine
            })
        )
            .prop_map(|(all, name, value)| Placement::DeclaredPost { all, name, value }),
        (
            prop::bool::weighted(0.2),
            any::<u8>(),
            any::<u8>(),
            canary()
        )
            .prop_map(|(all, name, frame, value)| Placement::DeclaredPostCopy {
                all,
                name,
                frame,
                value,
            }),
    ]
    .boxed()
}

/// Whether `text` reads the same percent-encoded (unreserved characters only).
fn url_invariant(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn copies(canary: String) -> BoxedStrategy<Vec<Placement>> {
    // A copy in the query string whose encoded form differs stays in the request URL (see
    // the ignored tests).
    let sites: Vec<Site> = COPY_SITES
        .iter()
        .copied()
        .filter(|site| *site != Site::Query || url_invariant(&canary))
        .collect();
    vec((select(sites), any::<bool>(), spot()), 1..=3)
        .prop_map(move |sites| {
            sites
                .into_iter()
                .map(|(site, in_text, spot)| Placement::Copy {
                    site,
                    canary: canary.clone(),
                    in_text,
                    spot,
                })
                .collect()
        })
        .boxed()
}

/// The canary a placement hides exactly (for the reverse-lookup property).
fn exact_canary(placement: &Placement) -> String {
    match placement {
        Placement::Named { value, .. }
        | Placement::MarkedHeader { value, .. }
        | Placement::DeclaredVariable { value, .. }
        | Placement::DeclaredPost { value, .. } => value.canary().to_owned(),
        Placement::DeclaredPostCopy { value, .. } => value.clone(),
        Placement::Shaped { shape, .. } | Placement::ShapedName { shape, .. } => {
            shape.exact().expect("exact shapes only")
        }
        Placement::Copy { canary, .. } => canary.clone(),
    }
}

// ---------------------------------------------------------------------------------------
// The capture around the placements
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Form,
    Multipart,
    Json,
    /// A JSON list holding the map (no top-level keys: declared POST names do not apply).
    JsonList,
}

impl BodyKind {
    /// `Content-Type` spellings, picked by a base's `content_type`.
    fn content_types(self) -> &'static [&'static str] {
        match self {
            BodyKind::Form => &[
                "application/x-www-form-urlencoded",
                "application/x-www-form-urlencoded; charset=UTF-8",
                "Application/X-WWW-Form-Urlencoded",
            ],
            BodyKind::Multipart => &[
                "multipart/form-data; boundary=safeReportBoundary7MA4YWxk",
                "multipart/form-data; boundary=\"safeReportBoundary7MA4YWxk\"",
                "Multipart/Form-Data; charset=utf-8; boundary=safeReportBoundary7MA4YWxk",
            ],
            // Not `application/…+json`: such bodies are not interpreted (see the ignored
            // tests).
            BodyKind::Json | BodyKind::JsonList => &[
                "application/json",
                "application/json; charset=utf-8",
                "APPLICATION/JSON",
            ],
        }
    }
}

/// Everything of a case that holds no canary.
#[derive(Debug, Clone)]
struct Base {
    debug: bool,
    body: BodyKind,
    content_type: u8,
    main_frames: usize,
    cause_frames: Vec<usize>,
    settings: Map<String, Value>,
    variables: Vec<(u8, Value)>,
    query: Vec<(u8, &'static str)>,
}

fn filler_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        select(FILLER_WORDS).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((select(INNOCENT), inner), 0..4).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect(),
                )
            }),
        ]
    })
}

fn base(debug: BoxedStrategy<bool>) -> impl Strategy<Value = Base> {
    (
        debug,
        (
            select(
                &[
                    BodyKind::Form,
                    BodyKind::Multipart,
                    BodyKind::Json,
                    BodyKind::JsonList,
                ][..],
            ),
            any::<u8>(),
        ),
        1usize..=4,
        vec(0usize..=2, 0..=2),
        vec((select(INNOCENT), filler_tree()), 0..5),
        vec((any::<u8>(), filler_tree()), 0..4),
        vec((any::<u8>(), select(FILLER_WORDS)), 0..3),
    )
        .prop_map(
            |(
                debug,
                (body, content_type),
                main_frames,
                cause_frames,
                settings,
                variables,
                query,
            )| Base {
                debug,
                body,
                content_type,
                main_frames,
                cause_frames,
                settings: settings
                    .into_iter()
                    .map(|(key, value)| (key.to_ascii_uppercase(), value))
                    .collect(),
                variables,
                query,
            },
        )
}

/// A canary and where it was put.
#[derive(Debug, Clone)]
struct Canary {
    text: String,
    place: String,
    /// Whether the capture holds this form (the digits of a grouped card number do not).
    in_capture: bool,
}

/// Inserts `key: value` into `map`, under a fresh key if `key` is taken.
fn insert_fresh(map: &mut Map<String, Value>, key: &str, value: Value) {
    let mut candidate = key.to_owned();
    let mut n = 2;
    while map.contains_key(&candidate) {
        candidate = format!("{key}_{n}");
        n += 1;
    }
    map.insert(candidate, value);
}

/// Inserts `key: value` into a map reached from `map` by `path`: each step descends into an
/// existing map or list, or into a new map under an innocent key.
fn insert_at(map: &mut Map<String, Value>, path: &[u8], key: &str, value: Value) {
    let Some((&choice, rest)) = path.split_first() else {
        insert_fresh(map, key, value);
        return;
    };
    let containers: Vec<String> = map
        .iter()
        .filter(|(_, v)| v.is_object() || v.is_array())
        .map(|(k, _)| k.clone())
        .collect();
    let child_key = if containers.is_empty() || choice % 3 == 0 {
        let fresh = format!(
            "{}_{}",
            INNOCENT[usize::from(choice) % INNOCENT.len()],
            choice
        );
        map.entry(fresh.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        fresh
    } else {
        containers[usize::from(choice) % containers.len()].clone()
    };
    let child = map.get_mut(&child_key).expect("just found or inserted");
    insert_into(child, rest, key, value);
}

fn insert_into(target: &mut Value, path: &[u8], key: &str, value: Value) {
    match target {
        Value::Object(map) => insert_at(map, path, key, value),
        Value::Array(items) => {
            let mut map = Map::new();
            insert_at(&mut map, path, key, value);
            items.push(Value::Object(map));
        }
        other => {
            let mut map = Map::new();
            insert_at(&mut map, path, key, value);
            *other = Value::Object(map);
        }
    }
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn join(slot: &mut Option<String>, text: String) {
    *slot = Some(match slot.take() {
        Some(before) => format!("{before}\n{text}"),
        None => text,
    });
}

const MULTIPART_BOUNDARY: &str = "safeReportBoundary7MA4YWxk";

/// Collects placements, then builds the capture.
struct Builder {
    base: Base,
    settings: Map<String, Value>,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
    json: Map<String, Value>,
    /// Variables of every frame: the error's frames first, then each cause's.
    variables: Vec<Vec<Variable>>,
    functions: Vec<Option<String>>,
    files: Vec<Option<String>>,
    declared_variables: Vec<Option<SensitiveNames>>,
    declared_post: Option<SensitiveNames>,
    sensitive_headers: Vec<String>,
    uploads: Vec<String>,
    message: Option<String>,
    error_type: Option<String>,
    cause_messages: Vec<Option<String>>,
    cause_types: Vec<Option<String>>,
    env: [Option<String>; 8],
    tags: Vec<(String, String)>,
    context_values: Vec<(String, String)>,
    user: Option<String>,
    route: Option<String>,
    url: Option<String>,
    crumbs: Vec<Breadcrumb>,
    canaries: Vec<Canary>,
}

impl Builder {
    fn new(base: Base) -> Self {
        let frames = base.main_frames + base.cause_frames.iter().sum::<usize>();
        let mut settings = base.settings.clone();
        settings.insert(CONTROL_SETTING.0.to_owned(), json!(CONTROL_SETTING.1));
        let mut variables = vec![Vec::new(); frames];
        for (index, (name, value)) in base.variables.iter().enumerate() {
            let frame = usize::from(*name) % frames;
            let name = INNOCENT[(usize::from(*name) + index) % INNOCENT.len()];
            variables[frame].push(Variable::new(name, value.clone()));
        }
        let query = base
            .query
            .iter()
            .map(|(name, value)| {
                (
                    INNOCENT[usize::from(*name) % INNOCENT.len()].to_owned(),
                    (*value).to_owned(),
                )
            })
            .collect();
        let causes = base.cause_frames.len();
        Self {
            settings,
            headers: vec![
                ("Host".to_owned(), "shop.example.com".to_owned()),
                (
                    "User-Agent".to_owned(),
                    "Mozilla/5.0 (X11; Linux x86_64)".to_owned(),
                ),
                ("Accept".to_owned(), "text/html".to_owned()),
            ],
            cookies: vec![("cart_id".to_owned(), "cart_000123".to_owned())],
            query,
            form: vec![("city".to_owned(), "Berlin".to_owned())],
            json: [("city".to_owned(), json!("Berlin"))].into_iter().collect(),
            variables,
            functions: vec![None; frames],
            files: vec![None; frames],
            declared_variables: vec![None; base.main_frames],
            declared_post: None,
            sensitive_headers: Vec::new(),
            uploads: Vec::new(),
            message: None,
            error_type: None,
            cause_messages: vec![None; causes],
            cause_types: vec![None; causes],
            env: Default::default(),
            tags: vec![("tenant".to_owned(), "acme".to_owned())],
            context_values: vec![("job_id".to_owned(), "j-7".to_owned())],
            user: None,
            route: None,
            url: None,
            crumbs: vec![
                Breadcrumb::new(
                    BreadcrumbLevel::Info,
                    "shop::checkout",
                    "charging order ord_42",
                )
                .field("order_id", "ord_42"),
            ],
            canaries: Vec::new(),
            base,
        }
    }

    fn frame_count(&self) -> usize {
        self.variables.len()
    }

    fn note(&mut self, text: &str, place: String) {
        self.canaries.push(Canary {
            text: text.to_owned(),
            place,
            in_capture: true,
        });
    }

    /// Puts `value` at a value site under `name` (a name only matters for named sites).
    fn put(&mut self, site: Site, name: &str, value: Value, spot: &Spot) -> String {
        let frames = self.frame_count();
        let frame = usize::from(spot.frame) % frames;
        match site {
            Site::Setting => {
                if spot.path.is_empty() {
                    insert_fresh(&mut self.settings, name, value);
                } else {
                    insert_at(&mut self.settings, &spot.path, name, value);
                }
                format!("settings, {name:?} at depth {}", spot.path.len())
            }
            Site::Header => {
                self.headers.push((name.to_owned(), as_text(&value)));
                format!("header {name:?}")
            }
            Site::Cookie => {
                self.cookies.push((name.to_owned(), as_text(&value)));
                format!("cookie {name:?}")
            }
            Site::Tag => {
                self.tags.push((name.to_owned(), as_text(&value)));
                format!("tag {name:?}")
            }
            Site::ContextValue => {
                self.context_values.push((name.to_owned(), as_text(&value)));
                format!("context value {name:?}")
            }
            Site::Query => {
                self.query.push((name.to_owned(), as_text(&value)));
                format!("query parameter {name:?}")
            }
            Site::Body => match self.base.body {
                BodyKind::Form | BodyKind::Multipart => {
                    self.form.push((name.to_owned(), as_text(&value)));
                    format!("{:?} body field {name:?}", self.base.body)
                }
                BodyKind::Json | BodyKind::JsonList => {
                    insert_at(&mut self.json, &spot.path, name, value);
                    format!(
                        "{:?} body key {name:?} at depth {}",
                        self.base.body,
                        spot.path.len()
                    )
                }
            },
            Site::Var => {
                self.variables[frame].push(Variable::new(name.to_owned(), value));
                format!("variable {name:?} of frame {frame}")
            }
            Site::VarNested => {
                let mut map = Map::new();
                map.insert("kind".to_owned(), json!("checkout"));
                insert_at(&mut map, &spot.path, name, value);
                let holder = INNOCENT[usize::from(spot.innocent) % INNOCENT.len()];
                self.variables[frame].push(Variable::new(holder, Value::Object(map)));
                format!(
                    "key {name:?} at depth {} in variable {holder:?} of frame {frame}",
                    spot.path.len() + 1
                )
            }
            Site::Upload => {
                self.uploads.push(as_text(&value));
                "an uploaded file's name".to_owned()
            }
            Site::VarError => {
                self.variables[frame].push(Variable::formatting_failed(
                    name.to_owned(),
                    as_text(&value),
                ));
                format!("formatting error of variable {name:?} of frame {frame}")
            }
            Site::Message => {
                join(&mut self.message, as_text(&value));
                "the exception message".to_owned()
            }
            Site::ErrorType => {
                join(&mut self.error_type, as_text(&value));
                "the exception type".to_owned()
            }
            Site::CauseMessage | Site::CauseType => {
                if self.cause_messages.is_empty() {
                    self.cause_messages.push(None);
                    self.cause_types.push(None);
                    self.base.cause_frames.push(0);
                }
                let cause = usize::from(spot.innocent) % self.cause_messages.len();
                if site == Site::CauseMessage {
                    join(&mut self.cause_messages[cause], as_text(&value));
                    format!("the message of cause {cause}")
                } else {
                    join(&mut self.cause_types[cause], as_text(&value));
                    format!("the type of cause {cause}")
                }
            }
            Site::Env => {
                let field = usize::from(spot.innocent) % self.env.len();
                join(&mut self.env[field], as_text(&value));
                format!("environment field {field}")
            }
            Site::Function => {
                join(&mut self.functions[frame], as_text(&value));
                format!("the function name of frame {frame}")
            }
            Site::File => {
                join(&mut self.files[frame], as_text(&value));
                format!("the file name of frame {frame}")
            }
            Site::User => {
                join(&mut self.user, as_text(&value));
                "the request's user".to_owned()
            }
            Site::Route => {
                join(&mut self.route, as_text(&value));
                "the request's route".to_owned()
            }
            Site::Crumb => {
                self.crumbs.push(Breadcrumb::new(
                    BreadcrumbLevel::Info,
                    "shop::checkout",
                    as_text(&value),
                ));
                "a breadcrumb's message".to_owned()
            }
            Site::CrumbField => {
                self.crumbs.push(
                    Breadcrumb::new(BreadcrumbLevel::Warn, "shop::checkout", "retrying")
                        .field(name, as_text(&value)),
                );
                format!("breadcrumb field {name:?}")
            }
            Site::RequestUrl => {
                if self.url.is_none() {
                    self.url = Some(as_text(&value));
                    "the request URL".to_owned()
                } else {
                    self.headers
                        .push(("X-Original-Url".to_owned(), as_text(&value)));
                    "header \"X-Original-Url\"".to_owned()
                }
            }
        }
    }

    fn innocent_name(site: Site, index: u8) -> String {
        let index = usize::from(index);
        match site {
            Site::Header => INNOCENT_HEADERS[index % INNOCENT_HEADERS.len()].to_owned(),
            Site::Cookie => INNOCENT_COOKIES[index % INNOCENT_COOKIES.len()].to_owned(),
            Site::Setting => INNOCENT[index % INNOCENT.len()].to_ascii_uppercase(),
            _ => INNOCENT[index % INNOCENT.len()].to_owned(),
        }
    }

    fn place(&mut self, placement: &Placement) {
        match placement {
            Placement::Named {
                site,
                name,
                value,
                spot,
            } => {
                let place = self.put(*site, name, value.to_value(), spot);
                self.note(value.canary(), format!("{place} ({value:?})"));
            }
            Placement::Shaped {
                site,
                shape,
                embed,
                spot,
            } => {
                let text = embed.wrap(&shape.text());
                let name = Self::innocent_name(*site, spot.innocent);
                let place = self.put(*site, &name, Value::String(text.clone()), spot);
                for (index, canary) in shape.canaries().into_iter().enumerate() {
                    self.note(&canary, format!("{place}, in {text:?}"));
                    if index > 0 && matches!(shape, Shape::Card { .. }) {
                        self.canaries.last_mut().expect("just noted").in_capture = false;
                    }
                }
            }
            Placement::ShapedName {
                site,
                shape,
                embed,
                spot,
            } => {
                let text = embed.wrap(&shape.text());
                let place = self.put(*site, &text, json!("ok"), spot);
                for (index, canary) in shape.canaries().into_iter().enumerate() {
                    self.note(&canary, format!("the name at {place}"));
                    if index > 0 && matches!(shape, Shape::Card { .. }) {
                        self.canaries.last_mut().expect("just noted").in_capture = false;
                    }
                }
            }
            Placement::MarkedHeader { name, value } => {
                let name = INNOCENT_HEADERS[usize::from(*name) % INNOCENT_HEADERS.len()];
                self.headers
                    .push((name.to_owned(), as_text(&value.to_value())));
                // Compared ignoring case.
                self.sensitive_headers.push(name.to_ascii_lowercase());
                self.note(
                    value.canary(),
                    format!("header {name:?} marked sensitive ({value:?})"),
                );
            }
            Placement::DeclaredVariable {
                declared_at,
                below,
                all,
                name,
                value,
            } => {
                let main = self.base.main_frames;
                let declaring = usize::from(*declared_at) % main;
                let frame = declaring + usize::from(*below) % (main - declaring);
                let name = format!(
                    "{}_v{}",
                    INNOCENT[usize::from(*name) % INNOCENT.len()],
                    self.canaries.len()
                );
                self.variables[frame].push(Variable::new(name.clone(), value.to_value()));
                let declared = if *all {
                    SensitiveNames::All
                } else {
                    SensitiveNames::names([name.clone()])
                };
                match &mut self.declared_variables[declaring] {
                    Some(names) => names.extend(&declared),
                    slot => *slot = Some(declared),
                }
                self.note(
                    value.canary(),
                    format!(
                        "variable {name:?} of frame {frame}, declared sensitive{} by frame {declaring}",
                        if *all { " (all)" } else { "" }
                    ),
                );
            }
            Placement::DeclaredPost { all, name, value } => {
                let name = format!(
                    "{}_f{}",
                    INNOCENT[usize::from(*name) % INNOCENT.len()],
                    self.canaries.len()
                );
                let spot = Spot {
                    frame: 0,
                    path: Vec::new(),
                    innocent: 0,
                };
                let place = self.put(Site::Body, &name, value.to_value(), &spot);
                self.declare_post(&name, *all);
                self.note(value.canary(), format!("{place}, declared sensitive POST"));
            }
            Placement::DeclaredPostCopy {
                all,
                name,
                frame,
                value,
            } => {
                let name = format!(
                    "{}_f{}",
                    INNOCENT[usize::from(*name) % INNOCENT.len()],
                    self.canaries.len()
                );
                let spot = Spot {
                    frame: *frame,
                    path: Vec::new(),
                    innocent: 0,
                };
                let place = self.put(Site::Body, &name, json!(value), &spot);
                self.declare_post(&name, *all);
                let frame = usize::from(*frame) % self.frame_count();
                self.variables[frame].push(Variable::new(
                    "form_data",
                    json!({ "city": "Berlin", name.clone(): value }),
                ));
                self.note(
                    value,
                    format!("{place}, declared sensitive POST, and its copy in form_data of frame {frame}"),
                );
            }
            Placement::Copy {
                site,
                canary,
                in_text,
                spot,
            } => {
                let text = if *in_text && *site != Site::Cookie {
                    format!("saw {canary} here")
                } else {
                    canary.clone()
                };
                let name = Self::innocent_name(*site, spot.innocent);
                let place = self.put(*site, &name, Value::String(text), spot);
                self.note(canary, format!("bare copy at {place}"));
            }
        }
    }

    fn declare_post(&mut self, name: &str, all: bool) {
        let declared = if all {
            SensitiveNames::All
        } else {
            SensitiveNames::names([name])
        };
        match &mut self.declared_post {
            Some(names) => names.extend(&declared),
            slot => *slot = Some(declared),
        }
    }

    fn build(self) -> (Capture, Vec<Canary>) {
        let mut capture = Capture::error(
            self.error_type
                .clone()
                .unwrap_or_else(|| "CheckoutError".to_owned()),
            self.message
                .clone()
                .unwrap_or_else(|| "checkout failed".to_owned()),
        )
        .with_debug(self.base.debug)
        .with_settings(&self.settings);

        let mut frames = self
            .variables
            .iter()
            .enumerate()
            .map(|(index, vars)| {
                let function = self.functions[index]
                    .clone()
                    .unwrap_or_else(|| format!("shop::checkout::step_{index}"));
                let file = self.files[index]
                    .clone()
                    .unwrap_or_else(|| "src/checkout.rs".to_owned());
                let mut frame = Frame::new(function, file, 10 + index as u32);
                frame.vars = vars.clone();
                frame
            })
            .collect::<Vec<_>>()
            .into_iter();
        for declared in &self.declared_variables {
            let mut frame = frames.next().expect("a main frame");
            frame.sensitive_variables = declared.clone();
            capture = capture.with_frame(frame);
        }
        // Causes: the direct cause first; each with its own frames.
        for (index, count) in self.base.cause_frames.iter().enumerate() {
            let message = self.cause_messages[index]
                .clone()
                .unwrap_or_else(|| format!("upstream failure {index}"));
            let mut cause = if index % 2 == 0 {
                Cause::direct(self.cause_types[index].clone(), message)
            } else {
                Cause::during_handling(self.cause_types[index].clone(), message)
            };
            cause.frames = frames.by_ref().take(*count).collect();
            capture = capture.with_cause(cause);
        }

        let mut url = self
            .url
            .clone()
            .unwrap_or_else(|| "https://shop.example.com/checkout/".to_owned());
        if !self.query.is_empty() {
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&self.query)
                .finish();
            let (before, fragment) = match url.find('#') {
                Some(at) => (url[..at].to_owned(), url[at..].to_owned()),
                None => (url.clone(), String::new()),
            };
            let mark = if before.contains('?') { '&' } else { '?' };
            url = format!("{before}{mark}{query}{fragment}");
        }
        let mut request = RequestInfo::new("POST", url)
            .remote_addr("203.0.113.7")
            .user(self.user.clone().unwrap_or_else(|| "alice".to_owned()))
            .route(
                self.route
                    .clone()
                    .unwrap_or_else(|| "shop::checkout".to_owned()),
            );
        for (name, value) in &self.headers {
            request = request.header(name.clone(), value.clone());
        }
        let cookie = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        request = request.header("Cookie", cookie);
        // Declared POST names only apply to top-level keys: a list body would not hold any.
        let kind = match self.base.body {
            BodyKind::JsonList if self.declared_post.is_some() => BodyKind::Json,
            kind => kind,
        };
        let types = kind.content_types();
        let content_type = types[usize::from(self.base.content_type) % types.len()].to_owned();
        let mut files = Vec::new();
        let body = match kind {
            BodyKind::Form => form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&self.form)
                .finish(),
            BodyKind::Multipart => {
                let mut body = String::new();
                for (name, value) in &self.form {
                    body.push_str(&format!(
                        "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                    ));
                }
                let mut names = vec!["notes.txt".to_owned()];
                for upload in &self.uploads {
                    if upload.contains(['"', '\\', '\r', '\n', '\0']) {
                        files.push(upload.clone());
                    } else {
                        names.push(upload.clone());
                    }
                }
                for name in names {
                    body.push_str(&format!(
                        "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\nfile content\r\n"
                    ));
                }
                body.push_str(&format!("--{MULTIPART_BOUNDARY}--\r\n"));
                body
            }
            BodyKind::Json => serde_json::to_string(&self.json).unwrap(),
            BodyKind::JsonList => serde_json::to_string(&json!([self.json, 1])).unwrap(),
        };
        if kind != BodyKind::Multipart {
            files = self.uploads.clone();
        }
        request = request.header("Content-Type", content_type).body(body);
        if let Some(declared) = &self.declared_post {
            request = request.sensitive_post_parameters(declared.clone());
        }
        request.sensitive_headers = self.sensitive_headers.clone();
        for name in files {
            request.files.push(UploadedFile::new(
                "attachment",
                Some(name),
                Some("text/plain".to_owned()),
                Some(12),
            ));
        }
        capture = capture.with_request(request);

        let mut env = Environment::default();
        let [
            executable,
            application,
            hostname,
            rustc,
            target,
            environment,
            release,
            server_name,
        ] = self.env.clone();
        env.executable = Some(executable.unwrap_or_else(|| "/srv/shop/bin/shop".to_owned()));
        env.application = Some(application.unwrap_or_else(|| "shop 1.4.2".to_owned()));
        env.hostname = Some(hostname.unwrap_or_else(|| "web-1".to_owned()));
        env.rustc_version = Some(rustc.unwrap_or_else(|| "rustc 1.88.0".to_owned()));
        env.target = Some(target.unwrap_or_else(|| "x86_64-unknown-linux-gnu".to_owned()));
        env.pid = Some(4242);
        env.identity = Identity::new()
            .environment(environment.unwrap_or_else(|| "staging".to_owned()))
            .release(release.unwrap_or_else(|| "shop@1.4.2".to_owned()))
            .server_name(server_name.unwrap_or_else(|| "web-1a".to_owned()));
        capture = capture.with_environment(env);
        for crumb in self.crumbs {
            capture = capture.with_breadcrumb(crumb);
        }
        // Pushed as they are: a second entry of one name must not replace the first.
        let mut context = TaskContext::new();
        context.tags = self.tags.clone();
        context.values = self.context_values.clone();
        capture = capture.with_context(context);
        (capture, self.canaries)
    }
}

fn build(base: Base, placements: &[Placement]) -> (Capture, Vec<Canary>) {
    let mut builder = Builder::new(base);
    for placement in placements {
        builder.place(placement);
    }
    builder.build()
}

// ---------------------------------------------------------------------------------------
// Rendering and checking
// ---------------------------------------------------------------------------------------

/// `text` HTML-escaped with numeric character references (as the templates write it) or
/// with named ones.
fn html_escaped(text: &str, numeric: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        let entity = match (ch, numeric) {
            ('&', true) => "&#38;",
            ('<', true) => "&#60;",
            ('>', true) => "&#62;",
            ('"', true) => "&#34;",
            ('\'', true) => "&#39;",
            ('&', false) => "&amp;",
            ('<', false) => "&lt;",
            ('>', false) => "&gt;",
            ('"', false) => "&quot;",
            ('\'', false) => "&#x27;",
            _ => {
                out.push(ch);
                continue;
            }
        };
        out.push_str(entity);
    }
    out
}

fn percent_encoded(text: &str, space_as_plus: bool) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte))
            }
            b' ' if space_as_plus => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("a string serializes");
    quoted[1..quoted.len() - 1].to_owned()
}

/// Every form a canary could take in an output, named; duplicates dropped.
fn encodings(token: &str) -> Vec<(&'static str, String)> {
    let candidates = [
        ("raw", token.to_owned()),
        ("HTML-escaped", html_escaped(token, true)),
        ("HTML-escaped (named)", html_escaped(token, false)),
        ("URL-encoded", percent_encoded(token, false)),
        ("URL-encoded (form)", percent_encoded(token, true)),
        ("JSON-escaped", json_escaped(token)),
    ];
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (name, form) in candidates {
        if !out.iter().any(|(_, seen)| *seen == form) {
            out.push((name, form));
        }
    }
    out
}

/// Which renderings to check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outputs {
    All,
    TextOnly,
}

fn render(
    reporter: &ExceptionReporter,
    capture: &Capture,
    which: Outputs,
) -> Vec<(&'static str, String)> {
    let mut outputs = vec![
        (
            "text (ExceptionReporter::text_report)",
            reporter.text_report(capture).text().to_string(),
        ),
        (
            "email text (ExceptionReporter::text_report, text().for_email())",
            reporter.text_report(capture).text().for_email().to_string(),
        ),
        (
            SUBJECT,
            EmailRenderer::render(reporter, capture, &log_message(capture), EmailParts::Text)
                .message,
        ),
    ];
    if which == Outputs::All {
        let report = reporter.report(capture);
        outputs.extend([
            ("text (Report::render_text)", report.text().to_string()),
            (
                "text with variables (Report::render_text_with_variables)",
                report.text().with_variables().to_string(),
            ),
            ("browser HTML (render_html)", report.html().to_string()),
            (
                "email HTML (render_email_html)",
                report.html().for_email().to_string(),
            ),
            ("JSON (render_json)", report.json().to_string()),
            (MARKDOWN, report.markdown().to_string()),
        ]);
        #[cfg(feature = "sentry")]
        outputs.push((
            "Sentry event (SentryConfig::event)",
            sentry_config()
                .event(&report, safe_report::sinks::Origin::Error)
                .to_string(),
        ));
        #[cfg(feature = "webhook")]
        outputs.push((
            "webhook body (WebhookConfig::body)",
            safe_report::sinks::WebhookConfig::new("https://hooks.example.invalid/report")
                .expect("a URL")
                .body(&report, safe_report::sinks::Origin::Error),
        ));
    }
    outputs
}

/// The Sentry sink's settings for the event output (the client's IP address sent too).
#[cfg(feature = "sentry")]
fn sentry_config() -> &'static safe_report::sinks::SentryConfig {
    static CONFIG: std::sync::OnceLock<safe_report::sinks::SentryConfig> =
        std::sync::OnceLock::new();
    CONFIG.get_or_init(|| {
        safe_report::sinks::SentryConfig::new("https://public@sentry.example.invalid/1")
            .expect("a DSN")
            .send_client_ip(true)
            .tag("region", "eu-west")
    })
}

/// The Markdown rendering: the error, causes, application frames, request line and
/// breadcrumbs, no settings.
const MARKDOWN: &str = "Markdown (Report::markdown)";

/// The output that is an email's log message (subject and first line), not a report.
const SUBJECT: &str = "email subject and first line (EmailRenderer::render)";

/// The log message a framework sends with a report: the error message and the URL.
fn log_message(capture: &Capture) -> String {
    let url = capture.request.as_ref().map_or("", |request| &request.url);
    format!(
        "{} at {url}",
        capture.error.message.as_deref().unwrap_or("")
    )
}

fn excerpt(text: &str, at: usize, len: usize) -> String {
    let mut start = at.saturating_sub(60);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + len + 60).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text[start..end].replace('\n', "\\n")
}

fn check(capture: &Capture, canaries: &[Canary], which: Outputs) -> Result<(), TestCaseError> {
    check_with(&ExceptionReporter::default(), capture, canaries, which)
}

fn check_with(
    reporter: &ExceptionReporter,
    capture: &Capture,
    canaries: &[Canary],
    which: Outputs,
) -> Result<(), TestCaseError> {
    // The canaries really are in the capture (the generator did not lose one).
    let json = capture.to_json();
    for canary in canaries.iter().filter(|canary| canary.in_capture) {
        let forms = encodings(&canary.text);
        prop_assert!(
            forms.iter().any(|(_, form)| json.contains(form.as_str())),
            "generator error: canary {:?} ({}) is not in the capture",
            canary.text,
            canary.place
        );
    }
    let outputs = render(reporter, capture, which);
    let mut leaks = Vec::new();
    for canary in canaries {
        for (encoding, form) in encodings(&canary.text) {
            for (format, output) in &outputs {
                if let Some(at) = output.find(&form) {
                    leaks.push(format!(
                        "canary {:?} ({}) leaked in {format} ({encoding}): …{}…",
                        canary.text,
                        canary.place,
                        excerpt(output, at, form.len())
                    ));
                }
            }
        }
    }
    prop_assert!(
        leaks.is_empty(),
        "{} leak(s):\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    // Reports show the settings; the email subject is only the message, and the Markdown
    // has no settings section.
    for (format, output) in outputs
        .iter()
        .filter(|(format, _)| *format != SUBJECT && *format != MARKDOWN)
    {
        prop_assert!(
            output.contains(CONTROL_SETTING.1),
            "the ordinary setting {} = {:?} is missing from {format}",
            CONTROL_SETTING.0,
            CONTROL_SETTING.1
        );
    }
    Ok(())
}

fn any_debug() -> BoxedStrategy<bool> {
    any::<bool>().boxed()
}

fn debug_off() -> BoxedStrategy<bool> {
    Just(false).boxed()
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(NAME_CASES))]

    /// Canaries under sensitive names (settings keys at any depth, header, cookie, query and
    /// body field names, JSON keys, variable names and nested keys) are hidden, debug or not.
    #[test]
    fn values_under_sensitive_names_never_leak(
        base in base(any_debug()),
        placements in vec(prop_oneof![5 => named(false), 1 => marked_header(false)], 1..=6),
    ) {
        let (capture, canaries) = build(base, &placements);
        check(&capture, &canaries, Outputs::All)?;
    }
}

proptest! {
    #![proptest_config(config(SHAPE_CASES))]

    /// Secret-shaped values under innocent names, anywhere in the capture, are hidden by the
    /// detectors, debug or not.
    #[test]
    fn secret_shaped_values_never_leak(
        base in base(any_debug()),
        placements in vec(
            prop_oneof![4 => shaped(VALUE_SITES, false), 1 => shaped_name()],
            1..=6,
        ),
    ) {
        let (capture, canaries) = build(base, &placements);
        check(&capture, &canaries, Outputs::All)?;
    }
}

proptest! {
    #![proptest_config(config(DECLARED_CASES))]

    /// With debug off, variables declared sensitive (by their frame or a calling frame, by
    /// name or all), POST parameters declared sensitive and copies of them in variables are
    /// hidden; mixed with names and shapes.
    #[test]
    fn declared_sensitive_values_never_leak_while_active(
        base in base(debug_off()),
        declared in vec(declared(false), 1..=4),
        named in vec(named(false), 0..=2),
        shaped in vec(shaped(VALUE_SITES, false), 0..=2),
    ) {
        let placements: Vec<Placement> =
            declared.into_iter().chain(named).chain(shaped).collect();
        let (capture, canaries) = build(base, &placements);
        check(&capture, &canaries, Outputs::All)?;
    }
}

fn hidden_then_copied(
    hidden: BoxedStrategy<Placement>,
) -> impl Strategy<Value = (Placement, Vec<Placement>)> {
    hidden.prop_flat_map(|placement| {
        let canary = exact_canary(&placement);
        (Just(placement), copies(canary))
    })
}

proptest! {
    #![proptest_config(config(COPY_CASES))]

    /// A value hidden anywhere (by name, by shape outside frame variables, by declaration)
    /// is hidden wherever else it appears as a value, in every output.
    #[test]
    fn values_hidden_anywhere_are_hidden_everywhere(
        debug in any::<bool>(),
        base in base(debug_off()),
        (hidden, copies) in hidden_then_copied(prop_oneof![
            // Not a variable's formatting error: its reason is not a value that is hidden.
            3 => named_at(&NAME_SITES[..7], true),
            1 => marked_header(true),
            3 => shaped(NON_VARIABLE_VALUE_SITES, true),
            3 => declared(true),
        ].boxed()),
    ) {
        let mut base = base;
        // Declarations only hide while the filter is active.
        base.debug = debug && !matches!(
            hidden,
            Placement::DeclaredVariable { .. }
                | Placement::DeclaredPost { .. }
                | Placement::DeclaredPostCopy { .. }
        );
        let placements: Vec<Placement> = std::iter::once(hidden).chain(copies).collect();
        let (capture, canaries) = build(base, &placements);
        check(&capture, &canaries, Outputs::All)?;
    }
}

// ---------------------------------------------------------------------------------------
// Source lines
// ---------------------------------------------------------------------------------------

const CODE_FILLER: &[&str] = &[
    "def view(request):",
    "    total = compute(items)",
    "    password = form.get(\"password\")",
    "    return render(request, \"shop/cart.html\", {\"total\": total})",
    "",
    "    # charge the card",
    "    if retries > 3:",
    "        raise GatewayError(\"upstream returned 502\")",
];

/// A line of the source file the frames point at.
#[derive(Debug, Clone)]
enum SourceLine {
    Filler(&'static str),
    /// A sensitive name assigned a quoted literal.
    Literal {
        name: String,
        style: u8,
        value: String,
    },
    /// A secret-shaped value in a comment, a call or an assignment to an innocent name.
    Shaped {
        template: u8,
        shape: Shape,
    },
}

impl SourceLine {
    fn text(&self) -> String {
        match self {
            SourceLine::Filler(line) => (*line).to_owned(),
            SourceLine::Literal { name, style, value } => match style % 8 {
                0 => format!("    {name} = \"{value}\""),
                1 => format!("    {name} = '{value}'"),
                2 => format!("    {name}: str = \"{value}\""),
                3 => format!("const {name}: &str = \"{value}\";"),
                4 => format!("    let {name} = \"{value}\";"),
                5 => format!("    \"{name}\": \"{value}\","),
                6 => format!("    connect(host=\"db\", {name}=\"{value}\")"),
                _ => format!("        self.{name} = \"{value}\""),
            },
            SourceLine::Shaped { template, shape } => {
                let secret = shape.text();
                match template % 3 {
                    0 => format!("    # {secret}"),
                    1 => format!("    log.info({secret})"),
                    _ => format!("    note = {secret}"),
                }
            }
        }
    }

    fn canaries(&self) -> Vec<String> {
        match self {
            SourceLine::Filler(_) => Vec::new(),
            SourceLine::Literal { value, .. } => vec![value.clone()],
            SourceLine::Shaped { shape, .. } => shape.canaries(),
        }
    }
}

fn source_line() -> impl Strategy<Value = SourceLine> {
    prop_oneof![
        3 => select(CODE_FILLER).prop_map(SourceLine::Filler),
        1 => (sensitive_name(NameCtx::Text), any::<u8>(), canary())
            .prop_map(|(name, style, value)| SourceLine::Literal { name, style, value }),
        1 => (any::<u8>(), shape(ShapeSet::Code))
            .prop_map(|(template, shape)| SourceLine::Shaped { template, shape }),
    ]
}

proptest! {
    #![proptest_config(config(SOURCE_CASES))]

    /// Source lines around the frames (context lines in HTML, the frame's own line in
    /// text): quoted literals assigned to sensitive names and secret-shaped values are
    /// hidden.
    #[test]
    fn source_lines_never_leak(
        base in base(any_debug()),
        lines in vec(source_line(), 3..24),
        frame_lines in vec(any::<u8>(), 1..=4),
    ) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let text: Vec<String> = lines.iter().map(SourceLine::text).collect();
        std::fs::write(dir.path().join("app_src.py"), text.join("\n") + "\n")
            .expect("the source file is written");
        let (mut capture, _) = build(base, &[]);
        let frames = capture
            .frames
            .iter_mut()
            .chain(capture.error.chain.iter_mut().flat_map(|cause| cause.frames.iter_mut()));
        for (frame, line) in frames.zip(&frame_lines) {
            frame.file = Some("app_src.py".to_owned());
            frame.line = Some(u32::from(*line) % lines.len() as u32 + 1);
        }
        let canaries: Vec<Canary> = lines
            .iter()
            .enumerate()
            .flat_map(|(index, line)| {
                line.canaries().into_iter().map(move |text| Canary {
                    text,
                    place: format!("line {} of the source file", index + 1),
                    in_capture: false,
                })
            })
            .collect();
        let reporter = ExceptionReporter::default()
            .source_root(dir.path())
            .source_cache(Arc::new(SourceCache::new()));
        check_with(&reporter, &capture, &canaries, Outputs::All)?;
    }
}

#[test]
fn the_innocent_names_are_innocent() {
    let filter = SafeReporterFilter::default();
    for name in INNOCENT
        .iter()
        .chain(INNOCENT_COOKIES)
        .map(|name| (*name).to_owned())
        .chain(INNOCENT.iter().map(|name| name.to_ascii_uppercase()))
        .chain(INNOCENT.iter().map(|name| format!("{name}_v12")))
        .chain(INNOCENT.iter().map(|name| format!("{name}_f3")))
        .chain(["form_data".to_owned(), "kind".to_owned()])
    {
        assert!(
            filter.sensitive_name(&name).is_none(),
            "{name} is sensitive"
        );
    }
    for header in INNOCENT_HEADERS {
        let meta = format!("HTTP_{}", header.to_ascii_uppercase().replace('-', "_"));
        assert!(filter.sensitive_name(header).is_none(), "{header}");
        assert!(filter.sensitive_name(&meta).is_none(), "{meta}");
    }
}

// ---------------------------------------------------------------------------------------
// Leaks found (ignored until the filter is fixed)
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(200))]

    /// The text report built by `ExceptionReporter::text_report` skips formatting frame variables and, for the reverse lookup,
    /// only remembers what the name and declaration rules hide in them, not what the value
    /// detectors find. A secret found by shape in a variable (or a variable's formatting
    /// error) then stays visible where it appears bare elsewhere. `Report::render_text` and
    /// the other formats hide it.
    #[test]

    fn text_report_hides_copies_of_secrets_found_in_variables(
        debug in any::<bool>(),
        base in base(debug_off()),
        (hidden, copies) in hidden_then_copied(shaped(VARIABLE_VALUE_SITES, true)),
    ) {
        let mut base = base;
        base.debug = debug;
        let placements: Vec<Placement> = std::iter::once(hidden).chain(copies).collect();
        let (capture, canaries) = build(base, &placements);
        check(&capture, &canaries, Outputs::TextOnly)?;
    }
}

fn all_outputs(capture: &Capture) -> Vec<(&'static str, String)> {
    render(&ExceptionReporter::default(), capture, Outputs::All)
}

fn assert_hidden(capture: &Capture, secret: &str) {
    let leaked: Vec<&str> = all_outputs(capture)
        .iter()
        .filter(|(_, output)| output.contains(secret))
        .map(|(format, _)| *format)
        .collect();
    assert!(leaked.is_empty(), "{secret:?} leaked in {leaked:?}");
}

/// The smallest case of the property above.
#[test]

fn text_report_hides_a_bearer_token_seen_in_a_variable_and_the_message() {
    let capture = Capture::error("GatewayError", "replayed with Qx7rT2mPz9Lk4a").with_frame(
        Frame::new("shop::gateway", "src/gateway.rs", 7)
            .var("log_line", "Authorization: Bearer Qx7rT2mPz9Lk4a"),
    );
    assert_hidden(&capture, "Qx7rT2mPz9Lk4a");
}

/// A value hidden whole under its name (a setting) that also goes URL-encoded in a query
/// parameter and a cookie under neutral names, where a detector recognises only its random
/// part after the last dot. The reverse lookup looks for the whole encoded value: once that
/// part was the substitute it no longer found it, and `acct-7731.v2.` stayed visible. The
/// format is no one's: what is hidden must not depend on knowing it.
#[test]

fn a_value_recognised_in_part_in_a_url_leaves_no_part_visible() {
    let secret = "acct-7731.v2.R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U+x/y";
    let encoded = "acct-7731.v2.R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U%2Bx%2Fy";
    let capture = Capture::error("E", "x")
        .with_request(
            RequestInfo::new(
                "GET",
                format!("https://shop.example.com/cart/?q={encoded}&page=2"),
            )
            .header("Cookie", format!("pref={encoded}; lang=en")),
        )
        .with_settings(&json!({ "API_KEY": secret }));
    for part in ["acct-7731", "R7kq2ZxL9mP3", "x/y", "x%2Fy"] {
        assert_hidden(&capture, part);
    }
    let text = ExceptionReporter::default()
        .text_report(&capture)
        .text()
        .to_string();
    for shown in ["https://shop.example.com/cart/?q=", "&page=2", "lang"] {
        assert!(text.contains(shown), "{shown:?} in {text}");
    }
}

/// A card number followed by more digits after one space ("4111111111111111 12/29", a
/// number and its expiry) is read as one 18-digit number, which fails Luhn, so it is not
/// hidden. Same for a number before it ("order 1299 4111…").
#[test]

fn card_number_followed_by_its_expiry_is_hidden() {
    let capture = Capture::error(
        "PaymentError",
        "charge failed for card 4111111111111111 12/29",
    );
    assert_hidden(&capture, "4111111111111111");
}

/// Card numbers stored as JSON numbers (a variable, a JSON body field, a setting) are never
/// scanned: detectors only look at strings.
#[test]

fn card_number_held_as_a_number_is_hidden() {
    let capture = Capture::error("PaymentError", "declined")
        .with_frame(
            Frame::new("shop::pay", "src/pay.rs", 3).var("number", json!(4_111_111_111_111_111u64)),
        )
        .with_request(
            RequestInfo::new("POST", "https://shop.example.com/pay")
                .header("Content-Type", "application/json")
                .body(r#"{"number": 5500000000000004}"#),
        );
    assert_hidden(&capture, "4111111111111111");
    assert_hidden(&capture, "5500000000000004");
}

/// The request URL is scanned as received (percent-encoded), and the reverse lookup
/// searches it for the decoded secrets. A query parameter the GET section hides stays in the
/// Request URL whenever its encoded form differs from the decoded text: a sensitive name that
/// is percent-encoded (`user[password]` is sent as `user%5Bpassword%5D`, so the URL scanner
/// sees the name `5D`) with a value under 8 characters or with encoded characters, a
/// space-grouped card number (`+`), a PEM block, a Slack webhook path (`%2F`), a
/// `name: value` pair whose hidden span holds blanks.
#[test]

fn query_string_secrets_are_hidden_in_the_request_url() {
    let cases = [
        (
            "https://shop.example.com/login?user%5Bpassword%5D=hunter2",
            "hunter2",
        ),
        (
            "https://shop.example.com/login?user%5Bpassword%5D=correct+horse+battery",
            "correct+horse+battery",
        ),
        (
            "https://shop.example.com/pay?card=4111+1111+1111+1111&step=2",
            "4111+1111+1111+1111",
        ),
        (
            "https://shop.example.com/import?cert=-----BEGIN+PRIVATE+KEY-----%0AMIIEvQIBADANBgkqhkiG9w0BAQEFAASC%0A-----END+PRIVATE+KEY-----",
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        ),
        (
            "https://shop.example.com/x?next=https%3A%2F%2Fhooks.slack.com%2Fservices%2FT0ABCDEFGH%2FB0ABCDEFGH%2Fabcdefghijklmnopqrstuvwx",
            "abcdefghijklmnopqrstuvwx",
        ),
        (
            "https://shop.example.com/x?note=password%3A+Qx7rT2mPz9Lk4a+please",
            "Qx7rT2mPz9Lk4a",
        ),
    ];
    let mut leaks = Vec::new();
    for (url, secret) in cases {
        let capture = Capture::error("E", "x").with_request(RequestInfo::new("GET", url));
        for (format, output) in all_outputs(&capture) {
            if output.contains(secret) {
                leaks.push(format!("{secret:?} from {url} in {format}"));
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}

fn query_leak_placement() -> BoxedStrategy<Placement> {
    prop_oneof![
        // Sensitive names with characters that are percent-encoded in the URL.
        (
            sensitive_name(NameCtx::Key),
            hidden(ValueForm::OneLine),
            spot()
        )
            .prop_map(|(name, value, spot)| Placement::Named {
                site: Site::Query,
                name,
                value,
                spot,
            }),
        // Any secret shape, with any text around it.
        (shape(ShapeSet::All), embed(ShapeSet::All, false), spot()).prop_map(
            |(shape, embed, spot)| Placement::Shaped {
                site: Site::Query,
                shape,
                embed,
                spot,
            }
        ),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(200))]

    /// The general form of the test above.
    #[test]

    fn query_parameters_hidden_in_get_are_hidden_in_the_request_url(
        base in base(any_debug()),
        placements in vec(query_leak_placement(), 1..=4),
    ) {
        let (capture, canaries) = build(base, &placements);
        check(&capture, &canaries, Outputs::All)?;
    }
}

fn source_outputs(source: &str, line: u32) -> Vec<(&'static str, String)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("app.py"), source).expect("the source file is written");
    let capture = Capture::error("E", "x").with_frame(Frame::new("app.view", "app.py", line));
    let reporter = ExceptionReporter::default()
        .source_root(dir.path())
        .source_cache(Arc::new(SourceCache::new()));
    render(&reporter, &capture, Outputs::All)
}

fn assert_hidden_in(outputs: &[(&'static str, String)], secret: &str) {
    let leaked: Vec<&str> = outputs
        .iter()
        .filter(|(_, output)| output.contains(secret))
        .map(|(format, _)| *format)
        .collect();
    assert!(leaked.is_empty(), "{secret:?} leaked in {leaked:?}");
}

/// In source lines (`TextKind::Code`) the `name=value` scanner skips unquoted values, and
/// it does so for query parameters inside URLs too, so a key hard-coded in a URL literal
/// shows in the context lines (and as the frame's line in text).
#[test]

fn key_in_a_url_literal_in_source_is_hidden() {
    let source = "import requests\n\
                  ENDPOINT = \"https://maps.example.com/geo?key=Qx7rT2mPz9Lk4a&q=berlin\"\n\
                  def view(request):\n    return requests.get(ENDPOINT)\n";
    assert_hidden_in(&source_outputs(source, 2), "Qx7rT2mPz9Lk4a");
}

/// Source files are filtered line by line: the line with `-----BEGIN … PRIVATE KEY-----` is
/// hidden, the key's body lines after it are not.
#[test]

fn pem_key_in_source_is_hidden() {
    let source = "PRIVATE = \"\"\"\n-----BEGIN RSA PRIVATE KEY-----\n\
                  MIIEowIBAAKCAQEAsecretQx7rT2mPz9Lk4b\n-----END RSA PRIVATE KEY-----\n\"\"\"\n\
                  def view(request):\n    return sign(PRIVATE)\n";
    assert_hidden_in(
        &source_outputs(source, 7),
        "MIIEowIBAAKCAQEAsecretQx7rT2mPz9Lk4b",
    );
}

/// `application/…+json` bodies are meant to be read as JSON (`parse_body` checks
/// `ends_with("+json")`), but `mediatype` keeps `+json` apart as the suffix, so the essence
/// is `application/vnd.api` and the body is not interpreted. With every POST parameter
/// declared sensitive (`All`), the reporter then knows no field names, and a copy of the
/// POST data in a frame variable is shown.
#[test]

fn json_suffix_body_copies_are_hidden_when_all_post_parameters_are_sensitive() {
    let capture = Capture::error("E", "x")
        .with_request(
            RequestInfo::new("POST", "https://shop.example.com/checkout/")
                .header("Content-Type", "application/vnd.api+json")
                .body(r#"{"city": "Berlin", "card_holder_note": "Qx7rT2mPz9Lk4a"}"#)
                .sensitive_post_parameters(SensitiveNames::All),
        )
        .with_frame(Frame::new("shop::checkout", "src/checkout.rs", 3).var(
            "form_data",
            json!({"city": "Berlin", "card_holder_note": "Qx7rT2mPz9Lk4a"}),
        ));
    assert_hidden(&capture, "Qx7rT2mPz9Lk4a");
}

/// Frames beyond `MAX_FRAMES` (the outermost) are left out of the report, and so are their
/// variables from the reverse lookup: a secret hidden by name there is shown where it
/// appears bare in a frame that is kept.
#[test]

fn secret_of_a_left_out_frame_is_hidden_elsewhere() {
    let mut capture = Capture::error("RecursionError", "maximum recursion depth exceeded")
        .with_frame(Frame::new("app::handler", "src/app.rs", 1).var("api_key", "Qx7rT2mPz9Lk4a"));
    for index in 0..600 {
        capture = capture
            .with_frame(Frame::new("app::walk", "src/walk.rs", 2 + index % 3).var("node", index));
    }
    capture =
        capture.with_frame(Frame::new("app::leaf", "src/walk.rs", 9).var("arg", "Qx7rT2mPz9Lk4a"));
    assert_hidden(&capture, "Qx7rT2mPz9Lk4a");
}

/// JSON that was itself put in a JSON string (`{\"password\": \"…\"}`, common in logged
/// request bodies): the backslash before the closing quote of the name stops the
/// `name: value` detector.
#[test]

fn password_in_escaped_json_text_is_hidden() {
    let capture = Capture::error(
        "UpstreamError",
        r#"upstream said: {\"user\": \"alice\", \"password\": \"Qx7rT2mPz9Lk4a\"}"#,
    );
    assert_hidden(&capture, "Qx7rT2mPz9Lk4a");
}
