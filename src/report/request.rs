//! Request data as a report shows it: path, query, form, multipart and JSON bodies, cookies.
//!
//! Parsing uses maintained crates: `form_urlencoded` for query strings and form bodies,
//! `multer` for multipart bodies (with the `web` feature; without it a multipart body is
//! not shown and the report says why), `mediatype` for the `Content-Type` header and
//! `serde_json` for JSON. Splitting a URL into path and query is done by hand because the
//! report must show the URL exactly as received (a URL parser would normalise it); so is
//! splitting the `Cookie` header into its `name=value` pairs, which has nothing to decode.

#[cfg(feature = "web")]
use std::convert::Infallible;
#[cfg(feature = "web")]
use std::future::Future;
#[cfg(feature = "web")]
use std::pin::pin;
#[cfg(feature = "web")]
use std::task::{Context, Poll, Waker};

use mediatype::MediaType;
use serde_json::Value;

use crate::limits::MAX_INTERPRETED_BODY;
use crate::model::redacted::ByteLen;
use crate::model::{RequestInfo, UploadedFile};

/// The parts of a URL a report needs. `Debug` shows their sizes (a path or query string
/// may hold a token).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    /// The path, without query or fragment (`/api/v1/checkout/`).
    pub(crate) path: &'a str,
    /// The query string without `?`.
    pub(crate) query: &'a str,
}

impl std::fmt::Debug for UrlParts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlParts")
            .field("path", &ByteLen(self.path.len()))
            .field("query", &ByteLen(self.query.len()))
            .finish()
    }
}

pub(crate) fn split_url(url: &str) -> UrlParts<'_> {
    let without_fragment = url.split('#').next().unwrap_or("");
    let (before_query, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = match before_query.find("://") {
        Some(scheme_end) => {
            let after = &before_query[scheme_end + 3..];
            match after.find('/') {
                Some(slash) => &after[slash..],
                None => "/",
            }
        }
        None if before_query.is_empty() => "/",
        None => before_query,
    };
    UrlParts { path, query }
}

/// `name=value` pairs of a query string or form body, in order, duplicates kept.
pub(crate) fn parse_pairs(input: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(input)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// Cookies from every `Cookie` header, in order. Pairs that do not parse are returned with
/// the name `[unparsable cookie]` so that they are hidden rather than lost.
pub(crate) fn parse_cookies(request: &RequestInfo) -> Vec<(String, String)> {
    let mut cookies = Vec::new();
    for (name, value) in &request.headers {
        if !name.eq_ignore_ascii_case("cookie") {
            continue;
        }
        let text = value.to_marked_text();
        // `name=value` pairs separated by `;` (RFC 6265 §4.2.1), read as browsers send
        // them: no attributes, no decoding; a value keeps its quotes.
        for pair in text
            .split(';')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let parsed = match pair.split_once('=') {
                Some((name, _)) if name.trim().is_empty() => Err("the cookie's name is empty"),
                Some((name, value)) => Ok((name.trim().to_owned(), value.trim().to_owned())),
                None => Err("the cookie is missing a name/value pair"),
            };
            cookies.push(
                parsed.unwrap_or_else(|error| {
                    ("[unparsable cookie]".to_owned(), format!("[{error}]"))
                }),
            );
        }
    }
    cookies
}

/// What a request body holds, as far as the report shows it. `Debug` shows field names
/// and sizes, never values.
#[derive(Clone, PartialEq)]
pub(crate) enum Body {
    /// No body.
    None,
    /// A form: its fields.
    Form(Vec<(String, String)>),
    /// A multipart form: its text fields and its files (never their content).
    #[cfg_attr(
        not(feature = "web"),
        allow(dead_code, reason = "multipart bodies are parsed with `web`")
    )]
    Multipart(Vec<(String, String)>, Vec<UploadedFile>),
    /// A JSON document.
    Json(Value),
    /// A body that is not shown, and why.
    NotShown(String),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields = |fields: &[(String, String)]| {
            fields
                .iter()
                .map(|(name, value)| (name.clone(), ByteLen(value.len())))
                .collect::<Vec<_>>()
        };
        match self {
            Body::None => f.write_str("None"),
            Body::Form(form) => f.debug_tuple("Form").field(&fields(form)).finish(),
            Body::Multipart(form, files) => f
                .debug_tuple("Multipart")
                .field(&fields(form))
                .field(files)
                .finish(),
            Body::Json(_) => f.debug_tuple("Json").finish_non_exhaustive(),
            Body::NotShown(reason) => f.debug_tuple("NotShown").field(reason).finish(),
        }
    }
}

pub(crate) fn content_type(request: &RequestInfo) -> Option<String> {
    request
        .header_value("content-type")
        .map(|value| value.to_text().trim().to_owned())
}

/// Interprets the body by its content type.
pub(crate) fn parse_body(request: &RequestInfo) -> Body {
    let Some(body) = request.body.as_ref() else {
        return match &request.body_omitted {
            Some(reason) => Body::NotShown(reason.clone()),
            None => Body::None,
        };
    };
    if body.is_empty() {
        return Body::None;
    }
    let content_type = content_type(request).unwrap_or_default();
    if body.len() > MAX_INTERPRETED_BODY {
        return Body::NotShown(format!(
            "{} bytes of {}: larger than the {} bytes the report interprets",
            body.len(),
            display_type(&content_type),
            MAX_INTERPRETED_BODY
        ));
    }
    let media = MediaType::parse(&content_type).ok();
    // `application/vnd.api+json`: the structured suffix says how to read it.
    let json_suffix = media
        .as_ref()
        .and_then(|media| media.suffix.as_ref())
        .is_some_and(|suffix| suffix.as_str().eq_ignore_ascii_case("json"));
    let essence = media.map(|media| {
        if json_suffix {
            "application/json".to_owned()
        } else {
            format!("{}/{}", media.ty, media.subty).to_ascii_lowercase()
        }
    });
    match essence.as_deref() {
        Some("application/x-www-form-urlencoded") => Body::Form(parse_pairs(body.as_bytes())),
        #[cfg(feature = "web")]
        Some("multipart/form-data") => match parse_multipart(&content_type, body.as_bytes()) {
            Ok((fields, files)) => Body::Multipart(fields, files),
            Err(reason) => Body::NotShown(format!(
                "{} bytes of multipart/form-data that could not be parsed: {reason}",
                body.len()
            )),
        },
        #[cfg(not(feature = "web"))]
        Some("multipart/form-data") => Body::NotShown(format!(
            "{} bytes of multipart/form-data: multipart bodies are read with the `web` feature",
            body.len()
        )),
        Some(json) if json == "application/json" => match serde_json::from_slice(body.as_bytes()) {
            Ok(value) => Body::Json(value),
            Err(error) => Body::NotShown(format!(
                "{} bytes of {json} that is not valid JSON ({error})",
                body.len()
            )),
        },
        _ => Body::NotShown(format!(
            "{} bytes of {}: only form, multipart and JSON bodies are shown",
            body.len(),
            display_type(&content_type)
        )),
    }
}

fn display_type(content_type: &str) -> String {
    if content_type.is_empty() {
        "unknown type".to_owned()
    } else {
        content_type.chars().take(100).collect()
    }
}

#[cfg(feature = "web")]
/// Text fields are kept up to this many bytes; the rest is not needed for a report.
const MAX_FIELD_BYTES: usize = 64 * 1024;

#[cfg(feature = "web")]
type Multipart = (Vec<(String, String)>, Vec<UploadedFile>);

#[cfg(feature = "web")]
fn parse_multipart(content_type: &str, body: &[u8]) -> Result<Multipart, String> {
    let boundary = multer::parse_boundary(content_type).map_err(|error| error.to_string())?;
    let stream = futures_util::stream::iter([Ok::<_, Infallible>(body.to_vec())]);
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(mut field) = run_ready(multipart.next_field())?.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or("").to_owned();
        let filename = field.file_name().map(str::to_owned);
        let media = field.content_type().map(ToString::to_string);
        let mut size: u64 = 0;
        let mut text = Vec::new();
        while let Some(chunk) = run_ready(field.chunk())?.map_err(|e| e.to_string())? {
            size += chunk.len() as u64;
            if filename.is_none() && text.len() < MAX_FIELD_BYTES {
                let room = MAX_FIELD_BYTES - text.len();
                text.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        match filename {
            // A part with a file name is a file: its content is never kept.
            Some(filename) => {
                files.push(UploadedFile::new(name, Some(filename), media, Some(size)))
            }
            None => fields.push((
                name,
                crate::model::RawText(text).to_marked_text().into_owned(),
            )),
        }
    }
    Ok((fields, files))
}

#[cfg(feature = "web")]
/// Polls a future whose input is already in memory; it completes without waiting.
fn run_ready<F: Future>(future: F) -> Result<F::Output, String> {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    for _ in 0..1024 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return Ok(output);
        }
    }
    Err("the multipart parser did not finish on in-memory input".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_path_and_query() {
        assert_eq!(
            split_url("https://shop.example.com/api/v1/?a=1&b=2#frag"),
            UrlParts {
                path: "/api/v1/",
                query: "a=1&b=2"
            }
        );
        assert_eq!(split_url("http://evil.com").path, "/");
        assert_eq!(split_url("/////absolute-uri").path, "/////absolute-uri");
        assert_eq!(
            split_url("http://evil.com//absolute-uri").path,
            "//absolute-uri"
        );
    }

    #[cfg(feature = "web")]
    #[test]
    fn multipart_bodies_give_fields_and_files_without_content() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"file_data.txt\"\r\n\
                    Content-Type: text/plain\r\n\r\nhaha\r\n--XyZ--\r\n";
        let request = RequestInfo::new("POST", "http://x/")
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body);
        match parse_body(&request) {
            Body::Multipart(fields, files) => {
                assert_eq!(fields, vec![("title".to_owned(), "hello".to_owned())]);
                assert_eq!(files.len(), 1);
                assert_eq!(files[0].filename.as_deref(), Some("file_data.txt"));
                assert_eq!(files[0].size, Some(4));
            }
            other => panic!("expected multipart, got {other:?}"),
        }
    }

    #[test]
    fn broken_bodies_are_not_shown_and_say_why() {
        let request = RequestInfo::new("POST", "http://x/")
            .header("Content-Type", "application/json")
            .body(vec![b'{', 0xff]);
        assert!(
            matches!(parse_body(&request), Body::NotShown(reason) if reason.contains("not valid JSON"))
        );
        let request = RequestInfo::new("POST", "http://x/")
            .header("Content-Type", "multipart/form-data; boundary=B")
            .body("garbage");
        assert!(matches!(parse_body(&request), Body::NotShown(_)));
    }

    #[test]
    fn json_suffix_bodies_are_read_as_json() {
        let request = RequestInfo::new("POST", "http://x/")
            .header("Content-Type", "application/vnd.api+json; charset=utf-8")
            .body(r#"{"a": 1}"#);
        assert_eq!(
            parse_body(&request),
            Body::Json(serde_json::json!({"a": 1}))
        );
    }

    #[test]
    fn cookies_come_from_every_cookie_header() {
        let request = RequestInfo::new("GET", "http://x/")
            .header("Cookie", "a=1; b=2")
            .header("cookie", "c=3");
        assert_eq!(
            parse_cookies(&request),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("b".to_owned(), "2".to_owned()),
                ("c".to_owned(), "3".to_owned())
            ]
        );
    }

    #[test]
    fn cookies_are_split_as_sent_and_broken_pairs_are_kept_hidden() {
        let request = RequestInfo::new("GET", "http://x/")
            .header("Cookie", " a = 1 ;; ;q=\"x=y\"; =orphan; flag; sid=%41");
        assert_eq!(
            parse_cookies(&request),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("q".to_owned(), "\"x=y\"".to_owned()),
                (
                    "[unparsable cookie]".to_owned(),
                    "[the cookie's name is empty]".to_owned()
                ),
                (
                    "[unparsable cookie]".to_owned(),
                    "[the cookie is missing a name/value pair]".to_owned()
                ),
                ("sid".to_owned(), "%41".to_owned()),
            ]
        );
    }

    #[test]
    fn debug_shows_field_names_and_sizes_only() {
        let request = RequestInfo::new("POST", "http://x/reset/mk7q-plant3d?token=mk7q-plant3d")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("card=mk7q-plant3d&amount=12");
        let url = split_url(&request.url);
        let form = parse_body(&request);
        let json = Body::Json(serde_json::json!({"card": "mk7q-plant3d"}));
        let multipart = Body::Multipart(vec![("card".into(), "mk7q-plant3d".into())], vec![]);
        for shown in [
            format!("{url:?} {form:?} {json:?} {multipart:?}"),
            format!("{url:#?} {form:#?} {json:#?} {multipart:#?}"),
        ] {
            assert!(!shown.contains("mk7q"), "{shown}");
            assert!(
                shown.contains("card") && shown.contains("amount"),
                "{shown}"
            );
        }
    }
}
