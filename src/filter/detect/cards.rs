//! Card numbers: digit groups that pass Luhn.

use super::Span;
use crate::filter::Rule;
use crate::words::{HIGH, LOW, word_at};

/// The shortest card number.
pub(super) const MIN_CARD_DIGITS: usize = 13;

/// Card numbers: 13–19 digits, single spaces, dashes or `+` between groups, Luhn-valid.
///
/// A card number lies in a run of digits and separators holding 13 digits or more, so 13
/// bytes long or more; any 13 consecutive positions include one multiple of 13 (counted from
/// where the search resumes). So the scan looks at every 13th byte only, and where that byte
/// is a digit or separator, measures the run around it; only a run with 13 digits or more is
/// parsed. Text full of short numbers (log lines, timestamps, dates) or of words costs about
/// one test per 13 bytes.
pub(super) fn scan_card_numbers(bytes: &[u8], spans: &mut Vec<Span>) {
    card_runs(bytes, |start, end| {
        scan_cards_in(bytes, start, end, spans);
    });
}

/// Calls `each` with the start and end of every run of digits and separators that holds
/// 13 digits or more (see [`scan_card_numbers`]).
pub(super) fn card_runs(bytes: &[u8], mut each: impl FnMut(usize, usize)) {
    let in_run = |byte: u8| byte.is_ascii_digit() || matches!(byte, b' ' | b'-' | b'+');
    let mut at = MIN_CARD_DIGITS - 1;
    while at < bytes.len() {
        if !in_run(bytes[at]) {
            at += MIN_CARD_DIGITS;
            continue;
        }
        let mut start = at;
        while start > 0 && in_run(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && in_run(bytes[end]) {
            end += 1;
        }
        let run = &bytes[start..end];
        if run.len() >= MIN_CARD_DIGITS
            && run.iter().filter(|byte| byte.is_ascii_digit()).count() >= MIN_CARD_DIGITS
        {
            each(start, end);
        }
        // `bytes[end]` ends the run: a later run starts after it.
        at = end + MIN_CARD_DIGITS;
    }
}

/// Parses the card numbers that start in `bytes[from..to]`; returns where parsing stopped.
pub(super) fn scan_cards_in(bytes: &[u8], from: usize, to: usize, spans: &mut Vec<Span>) -> usize {
    let mut at = from;
    while at < to && !bytes[at].is_ascii_digit() {
        at += 1;
    }
    let mut reached = from;
    while at < to {
        let Some(run) = next_four_digits(&bytes[..to.max(at + 4).min(bytes.len())], at) else {
            break;
        };
        // Back up to the start of this run of digits.
        let mut start = run;
        while start > 0 && bytes[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let end = parse_card(bytes, start, spans);
        reached = reached.max(end);
        at = end.max(run + 1);
    }
    reached
}

/// The most groups a digit sequence is split into before it is no longer a card number.
pub(super) const MAX_GROUPS: usize = 12;

/// Parses digit groups starting at `start` (single ` `, `-` or `+` between groups) and
/// hides the longest run of whole groups that is a Luhn-valid card number, so that a number
/// next to other numbers ("order 1299 4111…", "4111… 12/29") is still found. Returns where
/// the digits ended.
pub(super) fn parse_card(bytes: &[u8], start: usize, spans: &mut Vec<Span>) -> usize {
    let mut digits = [0u8; 64];
    // Each group: (first digit's index in `digits`, digits so far at its end, start, end).
    let mut groups: [(usize, usize, usize, usize); MAX_GROUPS] = [(0, 0, 0, 0); MAX_GROUPS];
    let mut group_count = 0usize;
    let mut count = 0usize;
    let mut group_start = start;
    let mut first_digit = 0usize;
    let mut i = start;
    let mut end = start;
    while i < bytes.len() && count < digits.len() {
        let byte = bytes[i];
        if byte.is_ascii_digit() {
            digits[count] = byte - b'0';
            count += 1;
            i += 1;
            end = i;
        } else if matches!(byte, b' ' | b'-' | b'+')
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && count > first_digit
            && group_count + 1 < MAX_GROUPS
        {
            groups[group_count] = (first_digit, count, group_start, i);
            group_count += 1;
            first_digit = count;
            i += 1;
            group_start = i;
        } else {
            break;
        }
    }
    if count > first_digit && group_count < MAX_GROUPS {
        groups[group_count] = (first_digit, count, group_start, end);
        group_count += 1;
    }
    let groups = &groups[..group_count];
    let separated_before =
        |at: usize| at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'.');
    let separated_after = |at: usize| bytes.get(at).is_none_or(|b| !b.is_ascii_alphanumeric());
    'starts: for (first, &(from_digit, _, span_start, _)) in groups.iter().enumerate() {
        if !separated_before(span_start) {
            continue;
        }
        for &(_, to_digit, _, span_end) in groups[first..].iter().rev() {
            let length = to_digit - from_digit;
            // No card number starts with 0 (no issuer's number does), so runs of zeros in
            // ids (`00000000-0000-…`) stay visible.
            if (13..=19).contains(&length)
                && digits[from_digit] != 0
                && separated_after(span_end)
                && luhn(&digits[from_digit..to_digit])
            {
                spans.push(Span {
                    start: span_start,
                    end: span_end,
                    rule: Rule::CardNumber,
                });
                break 'starts;
            }
        }
    }
    end
}

/// One bit (the low bit of each byte) per ASCII digit byte of `word`.
pub(super) fn digit_bits(word: u64) -> u64 {
    let shifted = word ^ (LOW * 0x30);
    // High bit set where the low seven bits are 10 or more; no carry crosses a byte.
    let ten_or_more = (shifted & !HIGH) + LOW * (0x80 - 10);
    (!(ten_or_more | shifted) & HIGH) >> 7
}

/// The position of the first run of four consecutive digits at or after `from`.
pub(super) fn next_four_digits(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    // Digits right before `at` (a run that continues into the next word).
    let mut carry = 0usize;
    while at + 8 <= bytes.len() {
        let word = word_at(bytes, at);
        // Bit j set when byte j of the word is a digit.
        let mask = (digit_bits(word).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32;
        if mask != 0 {
            if carry + (mask.trailing_ones() as usize) >= 4 {
                return Some(at - carry);
            }
            let runs = mask & (mask >> 1) & (mask >> 2) & (mask >> 3);
            if runs != 0 {
                return Some(at + runs.trailing_zeros() as usize);
            }
        }
        carry = if mask == 0xff {
            carry + 8
        } else {
            (mask << 24).leading_ones() as usize
        };
        at += 8;
    }
    let mut run = carry;
    for (index, byte) in bytes.iter().enumerate().skip(at) {
        if byte.is_ascii_digit() {
            run += 1;
            if run == 4 {
                return Some(index + 1 - 4);
            }
        } else {
            run = 0;
        }
    }
    None
}

pub(super) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (index, &digit) in digits.iter().rev().enumerate() {
        let mut value = u32::from(digit);
        if index % 2 == 1 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        sum += value;
    }
    sum.is_multiple_of(10)
}
