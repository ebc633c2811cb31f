//! The prefilter in front of the detectors: the trigger literals each detector needs, and
//! tables that let a short text skip every detector whose bytes it lacks.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind, packed};

use crate::limits::REVERSE_LOOKUP_MIN_CHARS;
use crate::words::{bytes_equal, word_at};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    Scheme,
    Bearer,
    Basic,
    Pem,
    Jwt,
}

/// Trigger literals, matched case-sensitively (so the search can use its SIMD prefilter);
/// the scheme words of authorization credentials are listed in their usual spellings.
pub(super) const TRIGGERS: &[(&str, Trigger)] = &[
    ("://", Trigger::Scheme),
    ("Bearer", Trigger::Bearer),
    ("bearer", Trigger::Bearer),
    ("BEARER", Trigger::Bearer),
    ("Basic", Trigger::Basic),
    ("basic", Trigger::Basic),
    ("BASIC", Trigger::Basic),
    ("-----BEGIN", Trigger::Pem),
    ("eyJ", Trigger::Jwt),
];

/// The shortest text a URL userinfo can be found in (`a://b:c@d`).
pub(super) const MIN_URL_TEXT: usize = 9;

/// The shortest text another trigger-based detector can find something in
/// (`Basic ` and 8 characters).
pub(super) const MIN_TRIGGER_TEXT: usize = 14;

/// The shortest text in which a trigger's detector can find something: its pattern's
/// shortest match (`MIN_TRIGGER_TEXT` for the credentials after `Bearer`/`Basic` and for
/// JSON Web Tokens).
pub(super) const fn min_text_len(trigger: Trigger) -> usize {
    match trigger {
        Trigger::Scheme => MIN_URL_TEXT,
        Trigger::Bearer | Trigger::Basic | Trigger::Jwt => MIN_TRIGGER_TEXT,
        // `-----BEGIN PRIVATE KEY-----`
        Trigger::Pem => 27,
    }
}

/// The longest of [`min_text_len`].
pub(super) const LONGEST_MIN_TEXT: usize = 27;

/// Per text length up to [`LONGEST_MIN_TEXT`]: the triggers that fit (bit `i` for
/// `TRIGGERS[i]`).
pub(super) const TRIGGERS_FITTING: [u64; LONGEST_MIN_TEXT + 1] = {
    let mut table = [0u64; LONGEST_MIN_TEXT + 1];
    let mut len = 0;
    while len <= LONGEST_MIN_TEXT {
        let mut index = 0;
        while index < TRIGGERS.len() {
            let needs = min_text_len(TRIGGERS[index].1);
            assert!(
                needs <= LONGEST_MIN_TEXT,
                "LONGEST_MIN_TEXT covers every trigger"
            );
            if needs <= len {
                table[len] |= 1 << index;
            }
            index += 1;
        }
        len += 1;
    }
    table
};

/// Texts up to this long are scanned by the single-pass scalar scanner.
pub(super) const SHORT_TEXT: usize = 128;

/// A search for some of the trigger literals, with the index in [`TRIGGERS`] of each.
pub(super) struct TriggerSearch {
    pub(super) search: AhoCorasick,
    pub(super) triggers: Vec<usize>,
}

impl TriggerSearch {
    fn new(triggers: u64) -> Self {
        let triggers: Vec<usize> = (0..TRIGGERS.len())
            .filter(|&index| triggers & (1 << index) != 0)
            .collect();
        let search = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(triggers.iter().map(|&index| TRIGGERS[index].0))
            .expect("trigger literals are plain");
        Self { search, triggers }
    }
}

/// Every trigger.
pub(super) static TRIGGER_SEARCH: LazyLock<TriggerSearch> =
    LazyLock::new(|| TriggerSearch::new(ALL_TRIGGERS));

/// The triggers of text that is not shown ([`TextKind::LookupOnly`]).
pub(super) static LOOKUP_TRIGGER_SEARCH: LazyLock<TriggerSearch> =
    LazyLock::new(|| TriggerSearch::new(LOOKUP_TRIGGERS));

/// Where a flag may start in a long text, for `scan_marked`: a blank, line break or quote
/// before a `-`. Searched for with the packed (SIMD) searcher, the dashes inside words
/// (`worker-0`, ids, dates) do not stop the search. `None` where there is no packed
/// searcher.
pub(super) static FLAG_STARTS: LazyLock<Option<packed::Searcher>> =
    LazyLock::new(|| packed::Searcher::new([" -", "\t-", "\n-", "'-", "\"-"]));

/// Every casing of `ssn` and of `soc` (the start of `social security`), where `scan_ssns`
/// looks for numbers in a long text. With the packed searcher, not every `s` stops the
/// search (one ignoring case would start from each). `None` where there is no packed
/// searcher.
pub(super) static SSN_WORDS: LazyLock<Option<packed::Searcher>> = LazyLock::new(|| {
    let mut words = Vec::new();
    for word in [b"ssn", b"soc"] {
        for case in 0..8 {
            let cased: Vec<u8> = (0..3)
                .map(|index| {
                    if case >> index & 1 == 1 {
                        word[index].to_ascii_uppercase()
                    } else {
                        word[index]
                    }
                })
                .collect();
            words.push(cased);
        }
    }
    packed::Searcher::new(words)
});

// Kinds of byte noted by the first pass of `scan_short`.
pub(super) const SEPARATOR: u32 = 1;
pub(super) const DIGIT: u32 = 1 << 1;
pub(super) const COLON: u32 = 1 << 2;
pub(super) const BLANK: u32 = 1 << 3;
/// `<`, which opens XML elements and `<-`.
pub(super) const ANGLE: u32 = 1 << 24;
/// `n` or `N`, of `ssn`.
pub(super) const LETTER_N: u32 = 1 << 25;
/// `o` or `O`, of `social security`.
pub(super) const LETTER_O: u32 = 1 << 26;
/// A byte that cannot be part of a catalog token ([`super::catalog::TOKEN_BYTE`]).
pub(super) const NOT_TOKEN: u32 = 1 << 31;

/// Per byte: its kinds. `=` and `:` are separators of pairs, `:` also of URLs; blanks must
/// follow `Bearer` and `Basic`; and most bytes of the trigger literals have a kind of their
/// own (`B` and `b` share one), so that a text lacking one of a literal's bytes skips it.
/// The catalog's prefilter reads [`NOT_TOKEN`] and the bits of `=`, `:` and `/`.
pub(super) const BYTE_FLAGS: [u32; 256] = {
    let mut flags = [0u32; 256];
    flags[b'=' as usize] |= SEPARATOR;
    flags[b':' as usize] |= SEPARATOR | COLON;
    let mut digit = b'0';
    while digit <= b'9' {
        flags[digit as usize] |= DIGIT;
        digit += 1;
    }
    flags[b' ' as usize] |= BLANK;
    flags[b'\t' as usize] |= BLANK;
    flags[b'<' as usize] |= ANGLE;
    flags[b'n' as usize] |= LETTER_N;
    flags[b'N' as usize] |= LETTER_N;
    flags[b'o' as usize] |= LETTER_O;
    flags[b'O' as usize] |= LETTER_O;
    let own = b"-./JyearsicEARSICGN";
    assert!(own.len() + 5 <= 24, "one bit per kind, below ANGLE");
    let mut index = 0;
    while index < own.len() {
        flags[own[index] as usize] |= 1 << (4 + index);
        index += 1;
    }
    let letter_b = 1 << (4 + own.len());
    flags[b'B' as usize] |= letter_b;
    flags[b'b' as usize] |= letter_b;
    let mut byte = 0;
    while byte < 256 {
        if !super::catalog::TOKEN_BYTE[byte] {
            flags[byte] |= NOT_TOKEN;
        }
        byte += 1;
    }
    flags
};

/// The kinds of byte a text must hold for a trigger to find something: those of its
/// literal, and those its check requires after it: the blank before a `Bearer` or `Basic`
/// credential, the blank in `-----BEGIN … PRIVATE KEY-----`, the dot between a JSON Web
/// Token's parts, the dash after `xox?`.
pub(super) const fn trigger_needs(index: usize) -> u32 {
    let (literal, trigger) = TRIGGERS[index];
    let literal = literal.as_bytes();
    let mut needs = match trigger {
        Trigger::Bearer | Trigger::Basic | Trigger::Pem => BLANK,
        Trigger::Jwt => BYTE_FLAGS[b'.' as usize],
        _ => 0,
    };
    let mut at = 0;
    while at < literal.len() {
        needs |= BYTE_FLAGS[literal[at] as usize];
        at += 1;
    }
    needs
}

/// Kinds of byte of which every trigger needs one ([`trigger_needs`]): the `:` of `://`,
/// the blank after `Bearer` and `Basic` and inside `-----BEGIN … PRIVATE KEY-----`, the `.`
/// between a JSON Web Token's parts. A text with none of them (an identifier, a word, a
/// number) skips the trigger tables.
pub(super) const TRIGGER_KINDS: u32 = COLON | BLANK | BYTE_FLAGS[b'.' as usize];

const _: () = {
    let mut index = 0;
    while index < TRIGGERS.len() {
        assert!(
            trigger_needs(index) & TRIGGER_KINDS != 0,
            "every trigger needs one of TRIGGER_KINDS"
        );
        index += 1;
    }
};

/// Whether a text whose bytes are of the kinds `seen` may hold what `scan_marked` hides:
/// a `<` (an XML element, `<-`), or a `-` with a blank (a flag and its value) or a `y` (a
/// `-p…` glued to its value on a line running `mysql`).
#[inline]
pub(super) const fn may_hold_marked(seen: u32) -> bool {
    const DASH: u32 = BYTE_FLAGS[b'-' as usize];
    const BLANK_OR_Y: u32 = BLANK | BYTE_FLAGS[b'y' as usize];
    seen & ANGLE != 0 || (seen & DASH != 0 && seen & BLANK_OR_Y != 0)
}

/// Whether a text whose bytes are of the kinds `seen` may hold a social security number
/// with the word naming it: digits, dashes, an `s` and an `n` (`ssn`) or an `o` (`social`).
#[inline]
pub(super) const fn may_hold_ssn(seen: u32) -> bool {
    const DIGIT_AND_DASH: u32 = DIGIT | BYTE_FLAGS[b'-' as usize];
    const S: u32 = BYTE_FLAGS[b's' as usize] | BYTE_FLAGS[b'S' as usize];
    seen & DIGIT_AND_DASH == DIGIT_AND_DASH && seen & S != 0 && seen & (LETTER_N | LETTER_O) != 0
}

/// Per value of one byte (the one at `shift`) of the kinds a text lacks: the triggers that
/// cannot find anything in it (bit `i` for `TRIGGERS[i]`).
pub(super) const fn triggers_missing(shift: u32) -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut missing = 0;
    while missing < 256 {
        let mut index = 0;
        while index < TRIGGERS.len() {
            if (trigger_needs(index) >> shift) as usize & missing != 0 {
                table[missing] |= 1 << index;
            }
            index += 1;
        }
        missing += 1;
    }
    table
}

pub(super) const TRIGGERS_MISSING: [[u64; 256]; 4] = [
    triggers_missing(0),
    triggers_missing(8),
    triggers_missing(16),
    triggers_missing(24),
];

/// Every trigger (bit `i` for `TRIGGERS[i]`).
pub(super) const ALL_TRIGGERS: u64 = (1 << TRIGGERS.len()) - 1;

/// The triggers whose detectors need the context around what they hide (bit `i` for
/// `TRIGGERS[i]`): the only ones looked for in text that is not shown. A known key format
/// is recognised by its shape alone, like a card number or a JSON Web Token, wherever
/// else it appears.
pub(super) const LOOKUP_TRIGGERS: u64 = {
    let mut bits = 0;
    let mut index = 0;
    while index < TRIGGERS.len() {
        if matches!(
            TRIGGERS[index].1,
            Trigger::Scheme | Trigger::Bearer | Trigger::Basic | Trigger::Pem
        ) {
            bits |= 1 << index;
        }
        index += 1;
    }
    bits
};

/// Whether text that is not shown ([`TextKind::LookupOnly`]) can hold something its scan
/// remembers: each of the detectors that run on it needs one of these bytes (the `=` or `:`
/// of a pair or query parameter, the `:` of a URL scheme, the blank after `Bearer` or
/// `Basic` and inside `-----BEGIN … PRIVATE KEY-----`, the `/` of a URL), and
/// nothing shorter than [`REVERSE_LOOKUP_MIN_CHARS`] is remembered. Most values of a frame
/// (ids, names, numbers as text) have none of them, and the check costs less than the scan.
///
/// The bytes are tested a word (8 bytes) at a time; the last word may overlap the one before.
pub(crate) fn may_hold_unshown_secret(text: &str) -> bool {
    const {
        assert!(
            REVERSE_LOOKUP_MIN_CHARS >= 8,
            "texts it remembers fill a word"
        )
    };
    let bytes = text.as_bytes();
    if bytes.len() < REVERSE_LOOKUP_MIN_CHARS {
        return false;
    }
    let marked = |at: usize| {
        let word = word_at(bytes, at);
        let has = |byte: u8| bytes_equal(word, byte) != 0;
        has(b'=') | has(b':') | has(b' ') | has(b'\t') | has(b'/')
    };
    let mut at = 0;
    while at + 8 <= bytes.len() {
        if marked(at) {
            return true;
        }
        at += 8;
    }
    at < bytes.len() && marked(bytes.len() - 8)
}

/// Per byte: the triggers (bit `i` for `TRIGGERS[i]`) whose literal starts with it.
pub(super) const TRIGGERS_BY_FIRST_BYTE: [u64; 256] = triggers_by_byte(0);

/// Per byte: the triggers whose literal has it second.
pub(super) const TRIGGERS_BY_SECOND_BYTE: [u64; 256] = triggers_by_byte(1);

pub(super) const fn triggers_by_byte(position: usize) -> [u64; 256] {
    assert!(TRIGGERS.len() <= 64, "one bit per trigger");
    let mut table = [0u64; 256];
    let mut index = 0;
    while index < TRIGGERS.len() {
        table[TRIGGERS[index].0.as_bytes()[position] as usize] |= 1 << index;
        index += 1;
    }
    table
}
