//! Personal data with a checkable shape: IBANs, and US social security numbers next to a
//! word that names them.

use super::Span;
use crate::filter::Rule;

/// The shortest IBAN (Norway's, 15 characters).
pub(super) const MIN_IBAN: usize = 15;
const MAX_IBAN: usize = 34;

/// IBANs: two capital letters, two check digits and up to 30 capital letters or digits,
/// compact or in groups of four separated by single spaces, whose mod-97 check gives 1.
///
/// An IBAN lies in a stretch of at least [`MIN_IBAN`] capital letters and digits, in which
/// single spaces may stand between them. Only every `MIN_IBAN`th byte is looked at until one
/// lies in such a stretch long enough, and only those stretches are read: prose, code and
/// log lines cost one to three tests per fifteen bytes.
pub(super) fn scan_ibans(bytes: &[u8], spans: &mut Vec<Span>) {
    // A capital letter or digit, or a single space between two of them (`at` in `bytes`).
    let holds = |at: usize| match IBAN_BYTE[usize::from(bytes[at])] {
        ALNUM => true,
        SPACE => {
            at > 0
                && IBAN_BYTE[usize::from(bytes[at - 1])] == ALNUM
                && bytes
                    .get(at + 1)
                    .is_some_and(|&next| IBAN_BYTE[usize::from(next)] == ALNUM)
        }
        _ => false,
    };
    // A stretch of `MIN_IBAN` bytes or more through `at` holds `at - REACH` or `at + REACH`:
    // a byte in a shorter stretch (a number, a word in capitals) is passed over unread.
    const REACH: usize = MIN_IBAN / 2;
    let mut at = MIN_IBAN - 1;
    while at < bytes.len() {
        if !holds(at) || !(holds(at - REACH) || (at + REACH < bytes.len() && holds(at + REACH))) {
            at += MIN_IBAN;
            continue;
        }
        let mut start = at;
        while start > 0 && holds(start - 1) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && holds(end) {
            end += 1;
        }
        if end - start >= MIN_IBAN {
            ibans_in(bytes, start, end, spans);
        }
        // `bytes[end]` ends the stretch: a later one starts after it.
        at = end + MIN_IBAN;
    }
}

const ALNUM: u8 = 1;
const SPACE: u8 = 2;

/// Per byte: [`ALNUM`] for capital letters and digits, the characters of an IBAN, [`SPACE`]
/// for the space that may stand between its groups.
const IBAN_BYTE: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        if (byte as u8).is_ascii_uppercase() || (byte as u8).is_ascii_digit() {
            table[byte] = ALNUM;
        }
        byte += 1;
    }
    table[b' ' as usize] = SPACE;
    table
};

/// The IBANs starting in `bytes[from..to]`, a run of capital letters, digits and spaces.
pub(super) fn ibans_in(bytes: &[u8], from: usize, to: usize, spans: &mut Vec<Span>) {
    let mut at = from;
    while at + MIN_IBAN <= to {
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

/// The length of a social security number, `123-45-6789`.
const SSN_LEN: usize = 11;

/// Calls `each` with every position in `bytes` where `ssn` or `soc` (the start of `social
/// security`) starts, in any case. A long text is searched for these with its other marks
/// instead ([`super::prefilter::SSN_WORDS`]).
fn ssn_words(bytes: &[u8], mut each: impl FnMut(usize)) {
    for at in memchr::memchr2_iter(b's', b'S', bytes) {
        let word = bytes.get(at..at + 3);
        if word.is_some_and(|word| {
            word.eq_ignore_ascii_case(b"ssn") || word.eq_ignore_ascii_case(b"soc")
        }) {
            each(at);
        }
    }
}

/// The end of the word naming a social security number that starts at `start`, where `ssn`
/// or `soc` was found: `ssn`, `social security` or `social_security`, in any case.
fn ssn_word_end(bytes: &[u8], start: usize) -> Option<usize> {
    let found = &bytes[start..start + 3];
    if found.eq_ignore_ascii_case(b"ssn") {
        return Some(start + 3);
    }
    let rest = bytes.get(start + 3..start + 15)?;
    (rest.eq_ignore_ascii_case(b"ial security") || rest.eq_ignore_ascii_case(b"ial_security"))
        .then_some(start + 15)
}

/// US social security numbers (`123-45-6789`, area not 000, 666 or 9xx, group not 00,
/// serial not 0000) with `ssn`, `social security` or `SSN` in the 40 bytes before on
/// the same line. Without such a word, a number of that shape is as likely a part number.
///
/// The words are rarer than dashes and digits: each is looked for first, and numbers only
/// after it, where one may start.
pub(super) fn scan_ssns(bytes: &[u8], spans: &mut Vec<Span>) {
    let mut checked = 0;
    ssn_words(bytes, |word| ssns_after(bytes, word, &mut checked, spans));
}

/// The social security numbers named by a word starting at `word` with `ssn` or `soc`, if it
/// is one of those words: the numbers starting after it, on its line, within 40 bytes from
/// its start. Starts before `checked` were looked at for an earlier word.
pub(super) fn ssns_after(bytes: &[u8], word: usize, checked: &mut usize, spans: &mut Vec<Span>) {
    let Some(word_end) = ssn_word_end(bytes, word) else {
        return;
    };
    let mut last = (word + SSN_CONTEXT).min(bytes.len());
    if let Some(newline) = memchr::memchr(b'\n', &bytes[word_end..last]) {
        last = word_end + newline;
    }
    for start in word_end.max(*checked)..=last {
        if let Some(end) = ssn_at(bytes, start) {
            spans.push(Span {
                start,
                end,
                rule: Rule::Ssn,
            });
        }
    }
    *checked = last + 1;
}

/// The end of the social security number starting at `start`, if one does.
fn ssn_at(bytes: &[u8], start: usize) -> Option<usize> {
    let end = start + SSN_LEN;
    let number = bytes.get(start..end)?;
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
    let valid = &number[..3] != b"000"
        && &number[..3] != b"666"
        && number[0] != b'9'
        && &number[4..6] != b"00"
        && &number[7..] != b"0000";
    (shaped && bounded && valid).then_some(end)
}
