//! Credentials in URLs and authorization schemes: the userinfo of a URL of any scheme, and
//! `Bearer`/`Basic` credentials.

use super::Span;
use crate::filter::Rule;

/// `scheme://userinfo@host`: hides the password, or the whole userinfo when it has none.
pub(super) fn url_userinfo(bytes: &[u8], colon: usize, after: usize, spans: &mut Vec<Span>) {
    // The scheme must be `[A-Za-z][A-Za-z0-9+.-]*` right before `://`.
    let mut scheme_start = colon;
    while scheme_start > 0 {
        let byte = bytes[scheme_start - 1];
        if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'.' | b'-') {
            scheme_start -= 1;
        } else {
            break;
        }
    }
    if scheme_start == colon || !bytes[scheme_start].is_ascii_alphabetic() {
        return;
    }
    let authority_end = bytes[after..]
        .iter()
        .position(|&b| {
            matches!(
                b,
                b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'\\' | b'`'
            ) || b.is_ascii_whitespace()
        })
        .map_or(bytes.len(), |offset| after + offset);
    let authority = &bytes[after..authority_end];
    let Some(at) = memchr::memrchr(b'@', authority) else {
        return;
    };
    let userinfo = &authority[..at];
    if userinfo.is_empty() {
        return;
    }
    match memchr::memchr(b':', userinfo) {
        Some(colon) if colon + 1 < userinfo.len() => spans.push(Span {
            start: after + colon + 1,
            end: after + at,
            rule: Rule::UrlPassword,
        }),
        Some(_) => {}
        None => spans.push(Span {
            start: after,
            end: after + at,
            rule: Rule::UrlPassword,
        }),
    }
}

/// `Bearer <token>` / `Basic <base64>` after the scheme word ending at `end`.
pub(super) fn credential(bytes: &[u8], end: usize, basic: bool, spans: &mut Vec<Span>) {
    // The scheme word must end there ("Bearers" is not a scheme) and be followed by blanks.
    let mut start = end;
    while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    if start == end || start == bytes.len() {
        return;
    }
    let mut stop = start;
    while stop < bytes.len()
        && (bytes[stop].is_ascii_alphanumeric()
            || matches!(bytes[stop], b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
    {
        stop += 1;
    }
    while stop < bytes.len() && bytes[stop] == b'=' {
        stop += 1;
    }
    let token = &bytes[start..stop];
    if token.len() < 8 {
        return;
    }
    // "basic information" is prose, not a credential: require something word-like to be
    // missing (a digit, an upper-case letter or a symbol of base64).
    if basic && token.iter().all(u8::is_ascii_lowercase) {
        return;
    }
    spans.push(Span {
        start,
        end: stop,
        rule: Rule::AuthorizationCredential,
    });
}
