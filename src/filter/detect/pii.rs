//! Personal data with a checkable shape: IBANs, and US social security numbers next to a
//! word that names them.

use super::Span;
use crate::filter::Rule;

/// The shortest IBAN (Norway's, 15 characters).
pub(super) const MIN_IBAN: usize = 15;
const MAX_IBAN: usize = 34;

/// IBANs: two capital letters, two check digits and up to 30 capital letters or digits,
/// compact or in groups of four separated by single spaces, whose mod-97 check gives 1.
pub(super) fn scan_ibans(bytes: &[u8], spans: &mut Vec<Span>) {
    let mut at = 0;
    while at + MIN_IBAN <= bytes.len() {
        let starts = bytes[at].is_ascii_uppercase()
            && bytes[at + 1].is_ascii_uppercase()
            && bytes[at + 2].is_ascii_digit()
            && bytes[at + 3].is_ascii_digit()
            && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric());
        if !starts {
            at += 1;
            continue;
        }
        let mut compact = [0u8; MAX_IBAN];
        let mut len = 0;
        let mut group = 0;
        let mut end = at;
        let mut cursor = at;
        while cursor < bytes.len() {
            let byte = bytes[cursor];
            if byte.is_ascii_uppercase() || byte.is_ascii_digit() {
                if len == MAX_IBAN {
                    len = 0; // too long: not an IBAN
                    break;
                }
                compact[len] = byte;
                len += 1;
                group += 1;
                cursor += 1;
                end = cursor;
            } else if byte == b' '
                && group == 4
                && bytes
                    .get(cursor + 1)
                    .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                group = 0;
                cursor += 1;
            } else {
                break;
            }
        }
        let ends_word = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        if len >= MIN_IBAN && ends_word && iban_checks(&compact[..len]) {
            spans.push(Span {
                start: at,
                end,
                rule: Rule::Iban,
            });
            at = end;
        } else {
            at += 1;
        }
    }
}

/// ISO 13616's check: the first four characters moved to the end, letters read as 10 to
/// 35, the number modulo 97 is 1.
fn iban_checks(compact: &[u8]) -> bool {
    let (head, tail) = compact.split_at(4);
    let mut rest = 0u32;
    for &byte in tail.iter().chain(head) {
        let value = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else {
            u32::from(byte - b'A') + 10
        };
        rest = if value >= 10 {
            (rest * 100 + value) % 97
        } else {
            (rest * 10 + value) % 97
        };
    }
    rest == 1
}

/// How far before a number a word naming it may be.
const SSN_CONTEXT: usize = 40;

/// US social security numbers (`123-45-6789`, area not 000, 666 or 9xx, group not 00,
/// serial not 0000) with `ssn`, `social security` or `SSN` in the 40 bytes before on
/// the same line. Without such a word, a number of that shape is as likely a part number.
pub(super) fn scan_ssns(bytes: &[u8], spans: &mut Vec<Span>) {
    for dash in memchr::memchr_iter(b'-', bytes) {
        let Some(start) = dash.checked_sub(3) else {
            continue;
        };
        let end = start + 11;
        if end > bytes.len() {
            break;
        }
        let number = &bytes[start..end];
        let shaped = number.iter().enumerate().all(|(index, byte)| {
            if index == 3 || index == 6 {
                *byte == b'-'
            } else {
                byte.is_ascii_digit()
            }
        });
        let bounded = (start == 0
            || !bytes[start - 1].is_ascii_alphanumeric() && bytes[start - 1] != b'-')
            && bytes
                .get(end)
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'-');
        if !shaped || !bounded {
            continue;
        }
        let valid = &number[..3] != b"000"
            && &number[..3] != b"666"
            && number[0] != b'9'
            && &number[4..6] != b"00"
            && &number[7..] != b"0000";
        if valid && names_ssn(&bytes[start.saturating_sub(SSN_CONTEXT)..start]) {
            spans.push(Span {
                start,
                end,
                rule: Rule::Ssn,
            });
        }
    }
}

fn names_ssn(before: &[u8]) -> bool {
    let line = memchr::memrchr(b'\n', before).map_or(before, |newline| &before[newline + 1..]);
    let lower = line.to_ascii_lowercase();
    memchr::memmem::find(&lower, b"ssn").is_some()
        || memchr::memmem::find(&lower, b"social security").is_some()
        || memchr::memmem::find(&lower, b"social_security").is_some()
}
