//! Random-looking tokens: hidden after a credential word (`token 8f3a…`, `api key is …`),
//! or on their own when long, of mixed case with digits, and high in entropy.
//!
//! Thresholds, calibrated on random base62 and base64 tokens against `tests/data/benign.txt`
//! (UUIDs, hashes, paths, module paths, CamelCase identifiers, base64 of sentences), applied
//! to the token after its label, if it starts with one (`pypi-`, `bedrock-api-key-`): a
//! label names a token and says nothing of its randomness.
//!
//! | | governed by a word | alone |
//! |---|---|---|
//! | length | ≥ 16 | ≥ 32 |
//! | characters | a letter and a digit | upper and lower case and a digit, not only hex |
//! | Shannon entropy per character | ≥ 3.0 bits | ≥ 4.0 bits |
//! | changes of character class | — | ≥ 40% of neighbours |
//! | base64 of text | hidden | shown |
//!
//! Alone, 1% to 2% of random 32-character tokens miss (no digit, or their letters happen to
//! cluster), under 1% at 40 and at most 0.2% at 64 (20,000 draws each of base62, base64
//! and base64url); no line of the benign corpus is hidden. The class changes keep
//! CamelCase identifiers and paths visible (`HttpServletRequestWrapperWithUTF8Encoding2`
//! has an entropy of 4.5 bits but changes class at 20% of its characters).

use super::Span;
use super::catalog::TOKEN_BYTE;
use crate::filter::Rule;
use crate::filter::names::NameRules;

/// The shortest token hidden after a credential word.
pub(super) const MIN_GOVERNED: usize = 16;
const MIN_ALONE: usize = 32;
const GOVERNED_ENTROPY: f64 = 3.0;
const ALONE_ENTROPY: f64 = 4.0;
/// The share of neighbouring characters of different classes (upper, lower, digit, other).
const ALONE_CLASS_CHANGES: f64 = 0.4;
/// How far before a token its credential word may be, in words and in bytes.
const GOVERNING_WORDS: usize = 3;
const GOVERNING_BYTES: usize = 40;

/// Bytes of a run. `%` keeps a percent-encoded token in one piece, judged whole rather than
/// as the short pieces between its escapes.
const fn is_run_byte(byte: u8) -> bool {
    RUN_BYTE[byte as usize]
}

const RUN_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-' | b'%');
        byte += 1;
    }
    table
};

// The runs of catalog token bytes the catalog hands to `scan_token_run` hold every run it
// judges there.
const _: () = {
    assert!(super::catalog::MIN_TOKEN <= MIN_GOVERNED);
    let mut byte = 0;
    while byte < 256 {
        assert!(!is_run_byte(byte as u8) && byte != b'=' as usize || TOKEN_BYTE[byte]);
        byte += 1;
    }
};

/// Hides high-entropy tokens in `text`. Only every [`MIN_RUN`]th byte is looked at until
/// one may be part of a token ([`scan_run`]); in a long text, the credential catalog's scan
/// hands its runs of token bytes to [`scan_token_run`] instead, so that they are not searched
/// for twice.
pub(super) fn scan_tokens(text: &str, names: &NameRules, spans: &mut Vec<Span>) {
    if text.len() >= MIN_GOVERNED {
        scan_run(text, 0, text.len(), names, spans);
    }
}

/// Hides the high-entropy tokens in `text[from..to]`, a run of catalog token bytes. Most
/// runs are passed over at their first probe (`ok..........`, `a::b::c`), before the call.
#[inline]
pub(super) fn scan_token_run(
    text: &str,
    from: usize,
    to: usize,
    names: &NameRules,
    spans: &mut Vec<Span>,
) {
    let probe = from + MIN_RUN - 1;
    if to - from < MIN_GOVERNED || (!is_run_byte(text.as_bytes()[probe]) && probe + MIN_RUN >= to) {
        return;
    }
    scan_run(text, from, to, names, spans);
}

/// The fewest [`is_run_byte`]s a run judged holds: with two `=` of padding it reaches
/// [`MIN_GOVERNED`].
const MIN_RUN: usize = MIN_GOVERNED - 2;

/// Judges the runs of [`is_run_byte`]s in `text[from..to]`, the whole text or a run of
/// catalog token bytes (no run byte touches it). Only every [`MIN_RUN`]th byte is looked at
/// until one is a run byte: a run judged holds one of them, and words, numbers and runs of
/// catalog token bytes made mostly of dots or colons (`ok.......`, `a::b::c`) are passed
/// over.
#[inline(never)]
fn scan_run(text: &str, from: usize, to: usize, names: &NameRules, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut probe = from + MIN_RUN - 1;
    while probe < to {
        if !is_run_byte(bytes[probe]) {
            probe += MIN_RUN;
            continue;
        }
        // The byte before `from`, if any, is no run byte.
        let mut start = probe;
        while start > from && is_run_byte(bytes[start - 1]) {
            start -= 1;
        }
        let mut at = probe + 1;
        while at < to && is_run_byte(bytes[at]) {
            at += 1;
        }
        // Base64 padding (`=` is a catalog token byte: it lies before `to`).
        let mut end = at;
        while end < to && end - at < 2 && bytes[end] == b'=' {
            end += 1;
        }
        if end > at && bytes.get(end).is_some_and(|&b| is_run_byte(b) || b == b'=') {
            end = at; // `name=value`: the `=` is an operator
        }
        // `bytes[end]` ends the run: a later run starts after it.
        probe = end + MIN_RUN;
        if end - start < MIN_GOVERNED {
            continue;
        }
        let token = &bytes[start..end];
        if is_path(token) {
            // Each segment of a path is a token of its own (`/services/T04…/q8Rk…`).
            let mut segment_start = start;
            for segment in token.split(|&b| b == b'/') {
                check_token(
                    text,
                    segment_start,
                    segment_start + segment.len(),
                    names,
                    spans,
                );
                segment_start += segment.len() + 1;
            }
        } else {
            check_token(text, start, end, names, spans);
        }
    }
}

fn check_token(text: &str, start: usize, end: usize, names: &NameRules, spans: &mut Vec<Span>) {
    if end - start >= MIN_GOVERNED && is_token(&text.as_bytes()[start..end], text, start, names) {
        spans.push(Span {
            start,
            end,
            rule: Rule::HighEntropyToken,
        });
    }
}

/// A run with a segment of lower-case letters between slashes is a path, not base64.
fn is_path(token: &[u8]) -> bool {
    memchr::memchr(b'/', token).is_some()
        && token
            .split(|&b| b == b'/')
            .any(|segment| segment.len() >= 2 && segment.iter().all(u8::is_ascii_lowercase))
}

/// The length of the label a token starts with: words of two or more lower-case letters,
/// each followed by `-` or `_` (`pypi-`, `bedrock-api-key-`, `sk_live_`). A label names the
/// token and says nothing of its randomness, so the thresholds apply to what follows it.
fn label_len(token: &[u8]) -> usize {
    let mut label = 0;
    loop {
        let word = token[label..]
            .iter()
            .take_while(|byte| byte.is_ascii_lowercase())
            .count();
        match token.get(label + word) {
            Some(b'-' | b'_') if word >= 2 => label += word + 1,
            _ => return label,
        }
    }
}

fn is_token(token: &[u8], text: &str, start: usize, names: &NameRules) -> bool {
    let token = &token[label_len(token)..];
    if token.len() < MIN_GOVERNED {
        return false;
    }
    let (mut upper, mut lower, mut digit, mut hex_only) = (false, false, false, true);
    for &byte in token {
        upper |= byte.is_ascii_uppercase();
        lower |= byte.is_ascii_lowercase();
        digit |= byte.is_ascii_digit();
        hex_only &= byte.is_ascii_hexdigit();
    }
    if !digit || !(upper || lower) {
        return false;
    }
    // The cheap tests first: the entropy costs the most.
    if token.len() >= MIN_ALONE
        && upper
        && lower
        && !hex_only
        && class_changes(token) >= ALONE_CLASS_CHANGES
        && shannon_entropy(token) >= ALONE_ENTROPY
        && !is_base64_of_text(token)
    {
        return true;
    }
    governed(text, start, names) && shannon_entropy(token) >= GOVERNED_ENTROPY
}

/// Bits per character of the token's own character distribution.
fn shannon_entropy(token: &[u8]) -> f64 {
    let mut counts = [0u16; 128];
    for &byte in token {
        counts[usize::from(byte & 0x7f)] += 1;
    }
    let len = token.len() as f64;
    // Each byte value once: its count is taken, then cleared.
    let mut entropy = 0.0;
    for &byte in token {
        let count = std::mem::take(&mut counts[usize::from(byte & 0x7f)]);
        if count > 0 {
            let p = f64::from(count) / len;
            entropy -= p * p.log2();
        }
    }
    entropy
}

fn class_changes(token: &[u8]) -> f64 {
    let class = |byte: u8| match byte {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    let changes = token
        .windows(2)
        .filter(|pair| class(pair[0]) != class(pair[1]))
        .count();
    changes as f64 / (token.len() - 1) as f64
}

/// Whether the token decodes as base64 (standard or URL-safe) to mostly printable text:
/// an encoded sentence or JSON document, not a key.
fn is_base64_of_text(token: &[u8]) -> bool {
    let value = |byte: u8| -> Option<u32> {
        Some(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let data = token
        .strip_suffix(b"==")
        .or_else(|| token.strip_suffix(b"="))
        .unwrap_or(token);
    let (mut bits, mut held, mut decoded, mut printable) = (0u32, 0u32, 0usize, 0usize);
    for &byte in data {
        let Some(six) = value(byte) else {
            return false;
        };
        bits = (bits << 6 | six) & 0xffff;
        held += 6;
        if held >= 8 {
            held -= 8;
            let out = (bits >> held) as u8;
            decoded += 1;
            printable += usize::from(matches!(out, b' '..=b'~' | b'\t' | b'\n' | b'\r'));
        }
    }
    decoded > 0 && printable * 10 >= decoded * 9
}

/// Whether a credential word stands among the few words before `start` on its line
/// (`token 8f3a…`, `api key is …`, `secret: "…`).
fn governed(text: &str, start: usize, names: &NameRules) -> bool {
    let mut from = start.saturating_sub(GOVERNING_BYTES);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = &text[from..start];
    let line = before.rsplit('\n').next().unwrap_or(before);
    line.rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|word| !word.is_empty())
        .take(GOVERNING_WORDS)
        .any(|word| names.check(word).is_some())
}
