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
        // `scheme://` and `module::path` are not pairs.
        if colon
            && (bytes[separator + 1..].starts_with(b"//")
                || bytes.get(separator + 1) == Some(&b':')
                || (separator > 0 && bytes[separator - 1] == b':'))
        {
            continue;
        }
        // The name: skip blanks and one closing quote, then name characters.
        let mut name_end = separator;
        while name_end > 0 && matches!(bytes[name_end - 1], b' ' | b'\t') {
            name_end -= 1;
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
            || (kind == TextKind::Code
                && !colon
                && code_target_is_sensitive(text, name_start, names));
        if !sensitive {
            continue;
        }
        // The value: skip blanks; a quoted value runs to its closing quote.
        let mut start = separator + 1;
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
                let mut close = memchr::memchr2(quote, b'\n', &bytes[start..])
                    .map_or(bytes.len(), |offset| start + offset);
                if close > start && bytes[close - 1] == b'\\' {
                    close -= 1;
                }
                close
            }
            // In code only quoted literals are values, except query parameters in URLs.
            _ if kind == TextKind::Code && rule != Rule::UrlQueryParameter => continue,
            _ if colon => {
                let mut stop = bytes[start..]
                    .iter()
                    .position(|&b| {
                        matches!(
                            b,
                            b'\n'
                                | b'\r'
                                | b','
                                | b';'
                                | b'"'
                                | b'\''
                                | b'<'
                                | b'>'
                                | b'}'
                                | b']'
                                | b')'
                        )
                    })
                    .map_or(bytes.len(), |offset| start + offset);
                while stop > start && matches!(bytes[stop - 1], b' ' | b'\t') {
                    stop -= 1;
                }
                stop
            }
            _ => bytes[start..]
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace()
                        || matches!(
                            b,
                            b'&' | b';'
                                | b','
                                | b'"'
                                | b'\''
                                | b'<'
                                | b'>'
                                | b')'
                                | b'}'
                                | b']'
                                | b'|'
                        )
                })
                .map_or(bytes.len(), |offset| start + offset),
        };
        if end <= start || &text[start..end] == substitute {
            continue;
        }
        spans.push(Span { start, end, rule });
    }
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
