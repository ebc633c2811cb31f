//! Assignments in text: a name that means "secret" followed by its value.

use super::{Detector, DetectorSet, Span, TextKind};
use crate::filter::Rule;
use crate::filter::names::NameRules;

/// `name=value` and `name: value` where the name matches the name rules.
pub(super) fn scan_pairs(
    text: &str,
    kind: TextKind,
    detectors: DetectorSet,
    names: &NameRules,
    substitute: &str,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    for separator in memchr::memchr2_iter(b'=', b':', bytes) {
        let colon = bytes[separator] == b':';
        // `scheme://` and `module::path` are not pairs; the `:` of `:=` is read with its `=`.
        if colon
            && (bytes[separator + 1..].starts_with(b"//")
                || matches!(bytes.get(separator + 1), Some(b':' | b'='))
                || (separator > 0 && bytes[separator - 1] == b':'))
        {
            continue;
        }
        // The name: skip blanks, the `:` of `:=`, and one closing quote, then name characters.
        let mut name_end = skip_blanks_back(bytes, separator);
        if !colon && name_end > 0 && bytes[name_end - 1] == b':' {
            name_end = skip_blanks_back(bytes, name_end - 1);
        }
        if name_end > 0 && matches!(bytes[name_end - 1], b'"' | b'\'') {
            name_end -= 1;
            // JSON inside a JSON string: `{\"password\": …}`.
            if name_end > 0 && bytes[name_end - 1] == b'\\' {
                name_end -= 1;
            }
        }
        // Bytes of characters beyond ASCII are name characters too (`paſſword`, which the
        // name rules fold to `password`); the name then starts at a character boundary.
        let mut name_start = name_end;
        while name_start > 0 && name_end - name_start < 100 {
            let byte = bytes[name_start - 1];
            if byte.is_ascii_alphanumeric()
                || !byte.is_ascii()
                || matches!(byte, b'_' | b'-' | b'.' | b'[' | b']' | b'%' | b'+')
            {
                name_start -= 1;
            } else {
                break;
            }
        }
        if name_start == name_end {
            continue;
        }
        let in_url = name_start > 0 && matches!(bytes[name_start - 1], b'?' | b'&' | b';');
        let rule = if in_url && !colon {
            if !detectors.contains(Detector::UrlQueryParameter) {
                continue;
            }
            Rule::UrlQueryParameter
        } else {
            if !detectors.contains(Detector::NameValueText) {
                continue;
            }
            Rule::NameValueText
        };
        let raw_name = &text[name_start..name_end];
        // A percent-encoded name in a URL (`user%5Bpassword%5D`) is checked decoded.
        let decoded;
        let name = if raw_name.contains(['%', '+']) {
            decoded = percent_encoding::percent_decode_str(&raw_name.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            decoded.as_str()
        } else {
            raw_name
        };
        let sensitive = names.check(name).is_some()
            || (colon && is_credential_header(name))
            || (kind == TextKind::Code
                && !colon
                && code_target_is_sensitive(text, name_start, names));
        if !sensitive {
            continue;
        }
        // The value: after the `>` of `=>` and blanks; a quoted value runs to its closing
        // quote.
        let mut start = separator + 1;
        if !colon && bytes.get(start) == Some(&b'>') {
            start += 1;
        }
        while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
            start += 1;
        }
        if start >= bytes.len() {
            continue;
        }
        // An escaped quote opens the value too (`\"password\": \"…\"`).
        if bytes[start] == b'\\' && matches!(bytes.get(start + 1), Some(b'"' | b'\'')) {
            start += 1;
        }
        let end = match bytes[start] {
            quote @ (b'"' | b'\'') => {
                start += 1;
                quoted_end(bytes, start, quote)
            }
            // In code only quoted literals are values, except query parameters in URLs.
            _ if kind == TextKind::Code && rule != Rule::UrlQueryParameter => continue,
            // ODBC quotes a value in braces, `}}` standing for `}`.
            b'{' if !colon => braced_end(bytes, start),
            // A header line's value is the rest of the line (`Cookie: a=1; b=2`), up to the
            // quote that opened the header (`curl -H 'Authorization: …'`).
            _ if colon && is_credential_header(name) => {
                let quote = name_start
                    .checked_sub(1)
                    .map(|before| bytes[before])
                    .filter(|&b| matches!(b, b'"' | b'\''));
                let stop = bytes[start..]
                    .iter()
                    .position(|&b| matches!(b, b'\n' | b'\r') || Some(b) == quote)
                    .map_or(bytes.len(), |offset| start + offset);
                trim_blanks_back(bytes, start, stop)
            }
            _ if colon => {
                let stop = unquoted_end(bytes, start, |b| {
                    matches!(b, b'\n' | b'\r' | b',' | b';' | b'"' | b'\'' | b'<' | b'>')
                });
                trim_blanks_back(bytes, start, stop)
            }
            // An Azure shared access signature is a query string of its own.
            _ if name.eq_ignore_ascii_case("SharedAccessSignature") => bytes[start..]
                .iter()
                .position(|&b| b.is_ascii_whitespace() || matches!(b, b';' | b'"' | b'\''))
                .map_or(bytes.len(), |offset| start + offset),
            _ => unquoted_end(bytes, start, |b| {
                b.is_ascii_whitespace()
                    || matches!(b, b'&' | b';' | b',' | b'"' | b'\'' | b'<' | b'>' | b'|')
            }),
        };
        if end <= start || &text[start..end] == substitute {
            continue;
        }
        spans.push(Span { start, end, rule });
    }
}

/// Assignments marked by `<` or `-`: `name <- value` (R), XML elements
/// (`<password>value</password>`), command-line flags (`--password value`; `--password=value`
/// is a pair), a user and password after curl's `-u`/`--user`, and mysql's `-pvalue`.
///
/// A one-letter flag says nothing by itself (`-p` is a port to ssh, a pattern to grep), so
/// only `-u user:password` (curl and wget read it so) and `-p` on a line that runs `mysql`,
/// `mysqldump` or `mysqladmin` count. Source code is left to [`scan_pairs`].
pub(super) fn scan_marked(text: &str, names: &NameRules, substitute: &str, spans: &mut Vec<Span>) {
    for at in memchr::memchr2_iter(b'<', b'-', text.as_bytes()) {
        mark_at(text, at, names, substitute, spans);
    }
}

/// What [`scan_marked`] hides from the `<` or `-` at `at`. A `-` counts where it starts a
/// word: at the start of the text, or after a blank, a line break or a quote; a long text is
/// searched for those only ([`super::prefilter::FLAG_STARTS`]).
pub(super) fn mark_at(
    text: &str,
    at: usize,
    names: &NameRules,
    substitute: &str,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    let mut push = |start: usize, end: usize| {
        if end > start && &text[start..end] != substitute {
            spans.push(Span {
                start,
                end,
                rule: Rule::NameValueText,
            });
        }
    };
    let next = bytes.get(at + 1).copied().unwrap_or(b' ');
    if bytes[at] == b'<' {
        if next == b'-' && bytes.get(at + 2).is_none_or(|&b| matches!(b, b' ' | b'\t')) {
            // `name <- value`
            let name_end = skip_blanks_back(bytes, at);
            let name_start = word_start(bytes, name_end);
            if name_start < name_end && names.check(&text[name_start..name_end]).is_some() {
                let (start, end) = word_value(bytes, at + 2);
                push(start, end);
            }
        } else if next.is_ascii_alphabetic() {
            // `<name>value</name>`; attributes are pairs.
            let name_end = at
                + 1
                + bytes[at + 1..]
                    .iter()
                    .position(|&b| {
                        !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
                    })
                    .unwrap_or(bytes.len() - at - 1);
            if bytes.get(name_end) != Some(&b'>') || names.check(&text[at + 1..name_end]).is_none()
            {
                return;
            }
            let start = name_end + 1;
            if let Some(close) = memchr::memmem::find(&bytes[start..], b"</") {
                let value = &bytes[start..start + close];
                if !value.contains(&b'<') {
                    push(start, start + close);
                }
            }
        }
        return;
    }
    // A flag starts a word.
    if at > 0 && !matches!(bytes[at - 1], b' ' | b'\t' | b'\n' | b'\'' | b'"') {
        return;
    }
    if next == b'-' {
        let name_start = at + 2;
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')))
                .unwrap_or(bytes.len() - name_start);
        if name_end == name_start || !matches!(bytes.get(name_end), Some(b' ' | b'\t')) {
            return;
        }
        let flag = &text[name_start..name_end];
        let (start, end) = word_value(bytes, name_end);
        if start < end && bytes[start] == b'-' {
            return;
        }
        if flag == "user" || flag == "proxy-user" {
            if let Some(colon) = memchr::memchr(b':', &bytes[start..end]) {
                push(start + colon + 1, end);
            }
        } else if names.check(flag).is_some() {
            push(start, end);
        }
    } else if matches!(next, b'u' | b'p')
        && bytes
            .get(at + 2)
            .is_none_or(|&b| matches!(b, b' ' | b'\t') || (next == b'p' && b != b'\n'))
    {
        if next == b'u' {
            let (start, end) = word_value(bytes, at + 2);
            if let Some(colon) = memchr::memchr(b':', &bytes[start..end]) {
                push(start + colon + 1, end);
            }
        } else if runs_mysql(bytes, at) {
            let (start, end) = word_value(bytes, at + 2);
            if start < end && bytes[start] != b'-' {
                push(start, end);
            }
        }
    }
}

/// The start of the identifier ending at `end`.
fn word_start(bytes: &[u8], end: usize) -> usize {
    let mut start = end;
    while start > 0
        && end - start < 100
        && (bytes[start - 1].is_ascii_alphanumeric() || matches!(bytes[start - 1], b'_' | b'.'))
    {
        start -= 1;
    }
    start
}

/// The word after `from` and blanks, or the quoted text there without its quotes.
fn word_value(bytes: &[u8], from: usize) -> (usize, usize) {
    let mut start = from;
    while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    match bytes.get(start) {
        Some(&quote @ (b'"' | b'\'')) => (start + 1, quoted_end(bytes, start + 1, quote)),
        _ => {
            let end = bytes[start..]
                .iter()
                .position(|&b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b'|'))
                .map_or(bytes.len(), |offset| start + offset);
            (start, end)
        }
    }
}

/// Whether the line before `at` runs a mysql client.
fn runs_mysql(bytes: &[u8], at: usize) -> bool {
    let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |newline| newline + 1);
    memchr::memmem::find(&bytes[line_start..at], b"mysql").is_some()
}

/// In code, `const API_KEY: &str = "…"` assigns to `API_KEY`, not to the type before `=`:
/// any identifier of the statement's left-hand side counts.
pub(super) fn code_target_is_sensitive(text: &str, before: usize, names: &NameRules) -> bool {
    let bytes = text.as_bytes();
    let mut start = before;
    while start > 0
        && before - start < 200
        && !matches!(bytes[start - 1], b';' | b'{' | b'}' | b'(' | b'\n')
    {
        start -= 1;
    }
    text[start..before]
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| !word.is_empty() && names.check(word).is_some())
}

fn skip_blanks_back(bytes: &[u8], mut at: usize) -> usize {
    while at > 0 && matches!(bytes[at - 1], b' ' | b'\t') {
        at -= 1;
    }
    at
}

fn trim_blanks_back(bytes: &[u8], start: usize, end: usize) -> usize {
    skip_blanks_back(bytes, end).max(start)
}

/// The closing quote of a value opened by `quote` at `start - 1`, or the end of its line; an
/// escaped closing quote (`\"` in JSON inside a JSON string) ends before its backslash.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut close =
        memchr::memchr2(quote, b'\n', &bytes[start..]).map_or(bytes.len(), |offset| start + offset);
    if close > start && bytes[close - 1] == b'\\' {
        close -= 1;
    }
    close
}

/// The end of an ODBC value in braces opened at `start`: after the `}` that is not doubled.
fn braced_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'}' if bytes.get(at + 1) == Some(&b'}') => at += 2,
            b'}' => return at + 1,
            b'\n' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The end of an unquoted value: the first byte `stops` accepts, or a closing bracket that
/// ends the text or is followed by a blank or punctuation (`{password=abc}`). A bracket
/// followed by a letter, digit or another value byte belongs to the value (`ab}c`), so a
/// secret is never cut at its first `}`.
fn unquoted_end(bytes: &[u8], start: usize, stops: impl Fn(u8) -> bool) -> usize {
    let mut at = start;
    while at < bytes.len() {
        let byte = bytes[at];
        if stops(byte) {
            return at;
        }
        if matches!(byte, b'}' | b']' | b')')
            && bytes.get(at + 1).is_none_or(|&next| {
                next.is_ascii_whitespace()
                    || matches!(
                        next,
                        b',' | b';' | b'}' | b']' | b')' | b'"' | b'\'' | b'&' | b'|'
                    )
            })
        {
            return at;
        }
        at += 1;
    }
    bytes.len()
}

/// Headers whose whole value is a credential, separators and all.
fn is_credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|header| name.eq_ignore_ascii_case(header))
}
