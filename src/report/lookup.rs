//! The reverse lookup: values hidden anywhere in a report are hidden wherever else they
//! appear in it.
//!
//! Each hidden value is searched for in every form it takes in a report (as captured,
//! escaped as in a quoted value, URL-encoded), and every occurrence of every form is hidden,
//! overlapping ones too.
//!
//! The search is written here rather than taken from a multi-pattern library because of
//! what it gets: a new set of forms for every report (a few dozen to a few hundred, each at
//! least [`REVERSE_LOOKUP_MIN_CHARS`] long) searched once over every string of the report,
//! most of them short. Building a packed SIMD searcher cost more than the search itself,
//! and its speed varied tenfold with the forms (its buckets share nibble masks; settings
//! values such as `31449600` made every digit a candidate). Since every form is at least
//! 8 bytes long, looking at a 4-byte window every 5 bytes sees each occurrence: the window
//! is indexed for the first 5 offsets of each form, so building is a sort of a small table
//! and searching costs a hash and a bit test per 5 bytes, whatever the forms.

use super::{Report, quoted};
use crate::limits::REVERSE_LOOKUP_MIN_CHARS;
use crate::model::redacted::Count;

/// Window positions are this many bytes apart.
const STRIDE: usize = 5;
/// The window's size in bytes.
const WINDOW: usize = 4;
/// Bits of the window filter.
const FILTER_BITS: u32 = 15;
/// Bits of a window's offset in its form.
const OFFSET_BITS: u32 = 3;

const _: () = assert!(STRIDE <= 1 << OFFSET_BITS);

// Every occurrence of a form contains a whole window starting at one of its first STRIDE
// bytes.
const _: () = assert!(REVERSE_LOOKUP_MIN_CHARS >= STRIDE + WINDOW - 1);

/// The forms a hidden value is searched for: itself, escaped as in a quoted value, and
/// URL-encoded (a space both as `+` and as `%20`). Appended to `forms`.
pub(crate) fn add_forms(secret: &str, forms: &mut Vec<String>) {
    forms.push(secret.to_owned());
    let bytes = secret.as_bytes();
    if bytes
        .iter()
        .any(|&b| !(0x20..0x7f).contains(&b) || b == b'"' || b == b'\\')
    {
        let escaped = quoted(secret);
        let escaped = &escaped[1..escaped.len() - 1];
        if escaped != secret {
            forms.push(escaped.to_owned());
        }
    }
    // form_urlencoded leaves only these bytes as they are.
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'))
    {
        let form: String = form_urlencoded::byte_serialize(bytes).collect();
        if form.contains('+') {
            forms.push(form.replace('+', "%20"));
        }
        forms.push(form);
    }
}

/// The forms of `secrets` (see [`add_forms`]), each secret once. Two secrets may share a
/// form (an escaped form equal to another secret), which then appears twice.
pub(crate) fn forms_of<'s>(secrets: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let mut secrets: Vec<&str> = secrets.into_iter().collect();
    secrets.sort_unstable();
    secrets.dedup();
    let mut forms = Vec::with_capacity(secrets.len());
    for secret in secrets {
        add_forms(secret, &mut forms);
    }
    forms
}

/// The forms of `secrets`, sorted, without duplicates.
pub(crate) fn sorted_forms_of<'s>(secrets: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let mut forms = forms_of(secrets);
    forms.sort_unstable();
    forms.dedup();
    forms
}

/// A searcher for a set of forms. `Debug` counts the forms and never shows them: they are the hidden values.
pub(crate) struct Lookup<'f> {
    forms: Vec<&'f str>,
    /// One bit per hash of a window some form holds at one of its first [`STRIDE`] bytes.
    filter: Box<[u64; 1 << (FILTER_BITS - 6)]>,
    /// Per window some form holds at one of its first [`STRIDE`] bytes, sorted: the window
    /// in the high 32 bits, then the form's index, then the window's offset in the form
    /// (the low [`OFFSET_BITS`]). One integer sorts several times faster than a tuple.
    windows: Vec<u64>,
    shortest: usize,
}

impl std::fmt::Debug for Lookup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup")
            .field("forms", &Count::new(self.forms.len(), "form", "forms"))
            .field("windows", &self.windows.len())
            .field("shortest", &self.shortest)
            .finish_non_exhaustive()
    }
}

fn window_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + WINDOW].try_into().expect("4 bytes"))
}

fn hash(window: u32) -> usize {
    (window.wrapping_mul(0x9e37_79b1) >> (32 - FILTER_BITS)) as usize
}

impl<'f> Lookup<'f> {
    /// A searcher for `forms`; those shorter than [`REVERSE_LOOKUP_MIN_CHARS`] bytes are
    /// left out. `None` if no form is left.
    pub(crate) fn new(forms: impl IntoIterator<Item = &'f str>) -> Option<Self> {
        // A form's index must fit beside its offset in the low 32 bits of an entry: 2^29
        // forms, which as strings of 8 bytes or more would take over 16 GiB.
        let forms: Vec<&str> = forms
            .into_iter()
            .filter(|form| form.len() >= REVERSE_LOOKUP_MIN_CHARS)
            .take(1 << (32 - OFFSET_BITS))
            .collect();
        let shortest = forms.iter().map(|form| form.len()).min()?;
        let mut filter = Box::new([0u64; 1 << (FILTER_BITS - 6)]);
        let mut windows = Vec::with_capacity(forms.len() * STRIDE);
        for (index, form) in forms.iter().enumerate() {
            for offset in 0..STRIDE {
                let window = window_at(form.as_bytes(), offset);
                let bit = hash(window);
                filter[bit / 64] |= 1 << (bit % 64);
                windows.push(
                    (u64::from(window) << 32) | ((index as u64) << OFFSET_BITS) | offset as u64,
                );
            }
        }
        windows.sort_unstable();
        windows.dedup();
        Some(Self {
            forms,
            filter,
            windows,
            shortest,
        })
    }

    /// Appends every occurrence of every form in `text`. Returns `false` if checking the
    /// candidates took too long (a text of many overlapping occurrences, such as a hidden
    /// `aaaaaaaa` in a long run of `a`); the caller then hides the whole text.
    fn find_all(&self, text: &str, hits: &mut Vec<(usize, usize)>) -> bool {
        let bytes = text.as_bytes();
        if bytes.len() < self.shortest {
            return true;
        }
        // Bytes compared with candidates; in ordinary text, about the size of the hits.
        let budget = bytes.len().saturating_mul(16).saturating_add(1 << 16);
        let mut work = 0usize;
        let mut at = 0;
        while at + WINDOW <= bytes.len() {
            let window = window_at(bytes, at);
            let bit = hash(window);
            if self.filter[bit / 64] & (1 << (bit % 64)) != 0 {
                let first = self
                    .windows
                    .partition_point(|&entry| ((entry >> 32) as u32) < window);
                for &entry in &self.windows[first..] {
                    if (entry >> 32) as u32 != window {
                        break;
                    }
                    let index = (entry as u32) >> OFFSET_BITS;
                    let offset = entry as u32 & ((1 << OFFSET_BITS) - 1);
                    let Some(start) = at.checked_sub(offset as usize) else {
                        continue;
                    };
                    let form = self.forms[index as usize].as_bytes();
                    let end = start + form.len();
                    work = work.saturating_add(form.len());
                    if bytes.get(start..end) == Some(form) {
                        hits.push((start, end));
                    }
                }
                if work > budget {
                    return false;
                }
            }
            at += STRIDE;
        }
        true
    }
}

impl Lookup<'_> {
    /// Whether a form occurs in `text` (or checking took too long, which hides it whole).
    /// `hits` is scratch space.
    fn occurs_in(&self, text: &str, hits: &mut Vec<(usize, usize)>) -> bool {
        hits.clear();
        !self.find_all(text, hits) || !hits.is_empty()
    }
}

/// Replaces every occurrence of the lookup's forms in the report with `substitute`.
/// Returns how many were hidden in the detail parts (variables, surrounding source lines)
/// and elsewhere.
pub(crate) fn hide_everywhere(
    report: &mut Report,
    lookup: &Lookup,
    substitute: &str,
) -> (u32, u32) {
    let (mut in_detail, mut elsewhere) = (0u32, 0u32);
    let mut hits = Vec::new();
    let mut probe = Vec::new();
    report.visit_strings_mut(
        false,
        &mut |text, part| {
            let found = if part.detail {
                &mut in_detail
            } else {
                &mut elsewhere
            };
            *found = found.saturating_add(hide_in(text, lookup, substitute, &mut hits));
        },
        &mut |text, _| lookup.occurs_in(text, &mut probe),
    );
    (in_detail, elsewhere)
}

/// Replaces every occurrence of the lookup's forms in `text` with `substitute`; returns how
/// many were hidden. `hits` is scratch space.
pub(crate) fn hide_in(
    text: &mut String,
    lookup: &Lookup,
    substitute: &str,
    hits: &mut Vec<(usize, usize)>,
) -> u32 {
    if text.len() < lookup.shortest {
        return 0;
    }
    hits.clear();
    if !lookup.find_all(text, hits) {
        // Fail closed: a text made of overlapping hidden values is hidden whole.
        *text = substitute.to_owned();
        return 1;
    }
    if hits.is_empty() {
        return 0;
    }
    hits.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut index = 0;
    let mut hidden = 0u32;
    while index < hits.len() {
        let (start, mut end) = hits[index];
        index += 1;
        // Overlapping occurrences are hidden as one.
        while index < hits.len() && hits[index].0 < end {
            end = end.max(hits[index].1);
            index += 1;
        }
        out.push_str(&text[at..start]);
        out.push_str(substitute);
        at = end;
        hidden = hidden.saturating_add(1);
    }
    out.push_str(&text[at..]);
    *text = out;
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(secrets: &[&str], text: &str) -> String {
        let secrets: Vec<String> = secrets.iter().map(|s| (*s).to_owned()).collect();
        let forms = forms_of(secrets.iter().map(String::as_str));
        let lookup = Lookup::new(forms.iter().map(String::as_str)).unwrap();
        let mut hits = Vec::new();
        assert!(lookup.find_all(text, &mut hits));
        hits.sort_unstable();
        let mut out = String::new();
        let mut at = 0;
        for (start, end) in hits {
            if start < at {
                at = at.max(end);
                continue;
            }
            out.push_str(&text[at..start]);
            out.push('*');
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    #[test]
    fn every_occurrence_is_found_wherever_it_starts() {
        let secret = "k3y-0123456789";
        for before in 0..12 {
            for after in 0..3 {
                let text = format!("{}{secret}{}", "x".repeat(before), "y".repeat(after));
                let expected = format!("{}*{}", "x".repeat(before), "y".repeat(after));
                assert_eq!(hidden(&[secret], &text), expected);
            }
        }
        assert_eq!(
            hidden(&[secret], &format!("{secret}{secret} {secret}")),
            "** *"
        );
        assert_eq!(hidden(&[secret], "k3y-012345678"), "k3y-012345678");
    }

    #[test]
    fn overlapping_values_are_hidden_whole() {
        // Leftmost-longest matching alone would hide `abcdefgh1` and show `xyz9`, the rest
        // of the second value.
        assert_eq!(hidden(&["abcdefgh1", "fgh1xyz9"], "<abcdefgh1xyz9>"), "<*>");
        assert_eq!(
            hidden(&["Bearer abc12345", "abc12345"], "Bearer abc12345 abc12345"),
            "* *"
        );
    }

    #[test]
    fn escaped_and_url_encoded_forms_are_looked_up() {
        let secret = "pa\"ss word/1";
        assert_eq!(hidden(&[secret], r#"q=pa\"ss word/1"#), "q=*");
        assert_eq!(hidden(&[secret], "q=pa%22ss+word%2F1&x"), "q=*&x");
        assert_eq!(hidden(&[secret], "q=pa%22ss%20word%2F1&x"), "q=*&x");
        assert_eq!(hidden(&["пароль-секрет"], "x=пароль-секрет!"), "x=*!");
    }

    #[test]
    fn a_text_of_overlapping_occurrences_is_hidden_whole() {
        let forms = [&*"a".repeat(600)];
        let lookup = Lookup::new(forms).unwrap();
        let mut hits = Vec::new();
        assert!(!lookup.find_all(&"a".repeat(100_000), &mut hits));
    }

    #[test]
    fn debug_counts_the_forms_and_never_shows_them() {
        let forms = sorted_forms_of(["mk7q-plant3d-secret"]);
        let lookup = Lookup::new(forms.iter().map(String::as_str)).unwrap();
        for shown in [format!("{lookup:?}"), format!("{lookup:#?}")] {
            assert!(!shown.contains("mk7q"), "{shown}");
            assert!(shown.contains("forms"), "{shown}");
        }
    }
}
