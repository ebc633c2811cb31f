//! Value detectors: secrets found by their shape inside any text, whatever its name.
//!
//! Each detector looks for a cheap trigger first (a literal such as `://`, `Bearer`,
//! `-----BEGIN`, `eyJ`, `AKIA`, a `=` or `:`, a run of digits) and only then checks the exact
//! shape, so text without triggers costs one pass of a multi-literal search. The checks are
//! small hand-written scanners around the triggers: general-purpose regexes over every string
//! of a report would cost far more than the whole report is allowed to.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

use super::Rule;
use super::names::NameRules;
use crate::limits::REVERSE_LOOKUP_MIN_CHARS;
use crate::words::{HIGH, LOW, bytes_equal, word_at};

/// A value detector of the default filter; each can be switched off on the builder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detector {
    /// `name=value` and `name: value` inside text, where the name matches the name rules.
    NameValueText,
    /// Query parameters inside any URL whose names match the name rules (`?access_token=…`).
    UrlQueryParameter,
    /// Passwords in URL userinfo (`postgres://user:password@host`); a userinfo without a
    /// password (a DSN key, a token as user name) is hidden whole.
    UrlPassword,
    /// `Bearer …` and `Basic …` credentials.
    AuthorizationCredential,
    /// PEM private key blocks.
    PemPrivateKey,
    /// Card numbers: 13 to 19 digits, optionally grouped by spaces or dashes, passing Luhn.
    CardNumber,
    /// JSON Web Tokens (`eyJ….eyJ….…`).
    Jwt,
    /// Well-known key formats: AWS access keys, GitHub, GitLab, npm, Stripe, Slack, Google,
    /// SendGrid and OpenAI-style keys, Slack webhook paths.
    KnownKeyFormat,
}

impl Detector {
    /// Every detector.
    pub const ALL: [Detector; 8] = [
        Detector::NameValueText,
        Detector::UrlQueryParameter,
        Detector::UrlPassword,
        Detector::AuthorizationCredential,
        Detector::PemPrivateKey,
        Detector::CardNumber,
        Detector::Jwt,
        Detector::KnownKeyFormat,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DetectorSet(u16);

impl DetectorSet {
    pub(crate) const ALL: DetectorSet = DetectorSet(0xff);
    pub(crate) const NONE: DetectorSet = DetectorSet(0);

    pub(crate) fn contains(self, detector: Detector) -> bool {
        self.0 & detector.bit() != 0
    }

    pub(crate) fn set(&mut self, detector: Detector, on: bool) {
        if on {
            self.0 |= detector.bit();
        } else {
            self.0 &= !detector.bit();
        }
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What kind of text is scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Any text: messages, values, header values, URLs.
    Free,
    /// Source code lines: `name = value` pairs count only when the value is a quoted literal,
    /// so `let password = form.get("password")` stays readable.
    Code,
    /// Text that is not shown, scanned only so that its secrets are hidden wherever else
    /// they appear. Card numbers, JSON Web Tokens and known key formats (AWS, GitHub,
    /// Stripe, …) are not looked for: they are recognised by their shape alone, so every
    /// copy is found wherever it appears. The detectors that rely on context run, since
    /// what they hide may appear elsewhere without the context that gave it away (a
    /// password after `password=`, a key after `-----BEGIN`, a webhook secret after
    /// `hooks.slack.com/services/`).
    LookupOnly,
}

impl TextKind {
    /// The detectors that run on text of this kind.
    pub(crate) fn detectors(self, enabled: DetectorSet) -> DetectorSet {
        match self {
            TextKind::Free | TextKind::Code => enabled,
            TextKind::LookupOnly => {
                let mut context = enabled;
                context.set(Detector::CardNumber, false);
                context.set(Detector::Jwt, false);
                context
            }
        }
    }
}

/// A part of a text to hide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) rule: Rule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Scheme,
    Bearer,
    Basic,
    Pem,
    Jwt,
    Aws,
    GitHub,
    GitHubPat,
    GitLab,
    Npm,
    Stripe,
    Slack,
    SlackWebhook,
    Google,
    SendGrid,
    OpenAi,
}

/// Trigger literals, matched case-sensitively (so the search can use its SIMD prefilter);
/// the scheme words of authorization credentials are listed in their usual spellings.
const TRIGGERS: &[(&str, Trigger)] = &[
    ("://", Trigger::Scheme),
    ("Bearer", Trigger::Bearer),
    ("bearer", Trigger::Bearer),
    ("BEARER", Trigger::Bearer),
    ("Basic", Trigger::Basic),
    ("basic", Trigger::Basic),
    ("BASIC", Trigger::Basic),
    ("-----BEGIN", Trigger::Pem),
    ("eyJ", Trigger::Jwt),
    ("AKIA", Trigger::Aws),
    ("ASIA", Trigger::Aws),
    ("ABIA", Trigger::Aws),
    ("ACCA", Trigger::Aws),
    ("A3T", Trigger::Aws),
    ("ghp_", Trigger::GitHub),
    ("gho_", Trigger::GitHub),
    ("ghu_", Trigger::GitHub),
    ("ghs_", Trigger::GitHub),
    ("ghr_", Trigger::GitHub),
    ("github_pat_", Trigger::GitHubPat),
    ("glpat-", Trigger::GitLab),
    ("npm_", Trigger::Npm),
    ("sk_live_", Trigger::Stripe),
    ("rk_live_", Trigger::Stripe),
    ("sk_test_", Trigger::Stripe),
    ("rk_test_", Trigger::Stripe),
    ("whsec_", Trigger::Stripe),
    ("xox", Trigger::Slack),
    ("xapp-", Trigger::Slack),
    ("hooks.slack.com/services/", Trigger::SlackWebhook),
    ("AIza", Trigger::Google),
    ("SG.", Trigger::SendGrid),
    ("sk-", Trigger::OpenAi),
];

/// The shortest text a URL userinfo can be found in (`a://b:c@d`).
const MIN_URL_TEXT: usize = 9;

/// The shortest text another trigger-based detector can find something in
/// (`Basic ` and 8 characters).
const MIN_TRIGGER_TEXT: usize = 14;

/// The shortest card number.
const MIN_CARD_DIGITS: usize = 13;

/// The shortest text in which a trigger's detector can find something: its pattern's
/// shortest match (`MIN_TRIGGER_TEXT` for the credentials after `Bearer`/`Basic` and for
/// JSON Web Tokens).
const fn min_text_len(trigger: Trigger) -> usize {
    match trigger {
        Trigger::Scheme => MIN_URL_TEXT,
        Trigger::Bearer | Trigger::Basic | Trigger::Jwt => MIN_TRIGGER_TEXT,
        // `-----BEGIN PRIVATE KEY-----`
        Trigger::Pem => 27,
        // `AKIA` and 16
        Trigger::Aws => 20,
        // `ghp_` and 36
        Trigger::GitHub => 40,
        // `github_pat_` and 22
        Trigger::GitHubPat => 33,
        // `glpat-` and 20
        Trigger::GitLab => 26,
        // `npm_` and 36
        Trigger::Npm => 40,
        // `sk_live_` and 10 (`whsec_` and 20 is longer)
        Trigger::Stripe => 18,
        // `xoxb-` or `xapp-` and 10
        Trigger::Slack => 15,
        // `hooks.slack.com/services/` and 8
        Trigger::SlackWebhook => 33,
        // `AIza` and 35
        Trigger::Google => 39,
        // `SG.`, 16, `.` and 16
        Trigger::SendGrid => 36,
        // `sk-` and 32
        Trigger::OpenAi => 35,
    }
}

/// The longest of [`min_text_len`].
const LONGEST_MIN_TEXT: usize = 40;

/// Per text length up to [`LONGEST_MIN_TEXT`]: the triggers that fit (bit `i` for
/// `TRIGGERS[i]`).
const TRIGGERS_FITTING: [u64; LONGEST_MIN_TEXT + 1] = {
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
const SHORT_TEXT: usize = 128;

/// A search for some of the trigger literals, with the index in [`TRIGGERS`] of each.
struct TriggerSearch {
    search: AhoCorasick,
    triggers: Vec<usize>,
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
static TRIGGER_SEARCH: LazyLock<TriggerSearch> = LazyLock::new(|| TriggerSearch::new(ALL_TRIGGERS));

/// The triggers of text that is not shown ([`TextKind::LookupOnly`]).
static LOOKUP_TRIGGER_SEARCH: LazyLock<TriggerSearch> =
    LazyLock::new(|| TriggerSearch::new(LOOKUP_TRIGGERS));

fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})")).expect("detector patterns are valid")
}

static PEM_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"));
static PEM_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----").unwrap());
/// A JSON Web Token: the header and the start of the payload are enough, so that a token
/// cut short (at the end of a shown value, say) is still hidden whole.
static JWT: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?"));
static AWS: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"));
static GITHUB: LazyLock<Regex> = LazyLock::new(|| anchored(r"gh[pousr]_[A-Za-z0-9]{36,255}"));
static GITHUB_PAT: LazyLock<Regex> = LazyLock::new(|| anchored(r"github_pat_[A-Za-z0-9_]{22,255}"));
static GITLAB: LazyLock<Regex> = LazyLock::new(|| anchored(r"glpat-[A-Za-z0-9_-]{20,255}"));
static NPM: LazyLock<Regex> = LazyLock::new(|| anchored(r"npm_[A-Za-z0-9]{36}"));
static STRIPE: LazyLock<Regex> = LazyLock::new(|| {
    anchored(r"(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,255}|whsec_[A-Za-z0-9+/=]{20,255})")
});
static SLACK: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"(?:xox[abposre]-[A-Za-z0-9-]{10,255}|xapp-[A-Za-z0-9-]{10,255})"));
static SLACK_WEBHOOK: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"hooks\.slack\.com/services/[A-Za-z0-9/_-]{8,255}"));
static GOOGLE: LazyLock<Regex> = LazyLock::new(|| anchored(r"AIza[0-9A-Za-z_-]{35}"));
static SENDGRID: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"));
static OPENAI: LazyLock<Regex> =
    LazyLock::new(|| anchored(r"sk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_-]{32,255}"));

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Scans `text` with the enabled detectors and appends the parts to hide to `spans`.
pub(crate) fn scan(
    text: &str,
    kind: TextKind,
    detectors: DetectorSet,
    names: &NameRules,
    substitute: &str,
    spans: &mut Vec<Span>,
) {
    if detectors.is_empty() || text.len() < 3 {
        return;
    }
    if text.len() <= SHORT_TEXT {
        scan_short(text, kind, detectors, names, substitute, spans);
    } else {
        scan_long(text, kind, detectors, names, substitute, spans);
    }
}

fn wants_triggers(detectors: DetectorSet) -> bool {
    detectors.contains(Detector::UrlPassword)
        || detectors.contains(Detector::AuthorizationCredential)
        || detectors.contains(Detector::PemPrivateKey)
        || detectors.contains(Detector::Jwt)
        || detectors.contains(Detector::KnownKeyFormat)
}

fn wants_pairs(detectors: DetectorSet) -> bool {
    detectors.contains(Detector::NameValueText) || detectors.contains(Detector::UrlQueryParameter)
}

/// Long texts: SIMD searches (memchr for separators, a packed multi-literal search for
/// triggers) run well ahead of the scalar checks.
fn scan_long(
    text: &str,
    kind: TextKind,
    detectors: DetectorSet,
    names: &NameRules,
    substitute: &str,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    if wants_pairs(detectors) {
        scan_pairs(text, kind, detectors, names, substitute, spans);
    }
    if detectors.contains(Detector::CardNumber) {
        scan_card_numbers(bytes, spans);
    }
    if wants_triggers(detectors) {
        let search = match kind {
            TextKind::LookupOnly => &*LOOKUP_TRIGGER_SEARCH,
            TextKind::Free | TextKind::Code => &*TRIGGER_SEARCH,
        };
        for found in search.search.find_iter(bytes) {
            let (_, trigger) = TRIGGERS[search.triggers[found.pattern().as_usize()]];
            check_trigger(text, found.start(), found.end(), trigger, detectors, spans);
        }
    }
}

/// Short texts (most names and values): one scalar pass notes which kinds of byte occur
/// (separators, digits, and bytes of the trigger literals); the detectors then run only
/// where that pass saw something, and the trigger search only for the literals whose bytes
/// all occur. Library searches cost more to start than a short text takes to scan.
fn scan_short(
    text: &str,
    kind: TextKind,
    detectors: DetectorSet,
    names: &NameRules,
    substitute: &str,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    // One pass of table lookups: which kinds of byte occur at all.
    let seen = bytes
        .iter()
        .fold(0u32, |seen, &b| seen | BYTE_FLAGS[usize::from(b)]);
    if seen & SEPARATOR != 0 && wants_pairs(detectors) {
        scan_pairs(text, kind, detectors, names, substitute, spans);
    }
    if seen & DIGIT != 0
        && bytes.len() >= MIN_CARD_DIGITS
        && detectors.contains(Detector::CardNumber)
    {
        scan_card_numbers(bytes, spans);
    }
    if bytes.len() < MIN_URL_TEXT || !wants_triggers(detectors) {
        return;
    }
    let missing = (!seen).to_le_bytes();
    let mut possible = !(TRIGGERS_MISSING[0][usize::from(missing[0])]
        | TRIGGERS_MISSING[1][usize::from(missing[1])]
        | TRIGGERS_MISSING[2][usize::from(missing[2])]
        | TRIGGERS_MISSING[3][usize::from(missing[3])]);
    // Triggers whose shortest match is longer than the text cannot be in it.
    possible &= TRIGGERS_FITTING[bytes.len().min(LONGEST_MIN_TEXT)];
    if kind == TextKind::LookupOnly {
        possible &= LOOKUP_TRIGGERS;
    }
    if possible & ALL_TRIGGERS == 0 {
        return;
    }
    let mut from = 0;
    while let Some((start, mut found)) = next_triggers(bytes, from, possible) {
        while found != 0 {
            let index = found.trailing_zeros() as usize;
            found &= found - 1;
            let (literal, trigger) = TRIGGERS[index];
            check_trigger(
                text,
                start,
                start + literal.len(),
                trigger,
                detectors,
                spans,
            );
        }
        from = start + 1;
    }
}

/// The next position at or after `from` where some of the `possible` trigger literals
/// start, with those literals (bit `i` for `TRIGGERS[i]`). Kept out of line: inlined into
/// its caller, the loop ran out of registers.
#[inline(never)]
fn next_triggers(bytes: &[u8], from: usize, possible: u64) -> Option<(usize, u64)> {
    // Every trigger is at least 3 bytes long.
    let end = bytes.len().checked_sub(2)?;
    for start in from..end {
        // The triggers whose first two bytes are the two bytes here.
        let mut candidates = TRIGGERS_BY_FIRST_BYTE[usize::from(bytes[start])] & possible;
        if candidates == 0 {
            continue;
        }
        candidates &= TRIGGERS_BY_SECOND_BYTE[usize::from(bytes[start + 1])];
        let mut found = 0;
        while candidates != 0 {
            let index = candidates.trailing_zeros() as usize;
            let bit = candidates & candidates.wrapping_neg();
            candidates ^= bit;
            let literal = TRIGGERS[index].0.as_bytes();
            if bytes[start + 2] == literal[2] && bytes[start..].starts_with(literal) {
                found |= bit;
            }
        }
        if found != 0 {
            return Some((start, found));
        }
    }
    None
}

// Kinds of byte noted by the first pass of `scan_short`.
const SEPARATOR: u32 = 1;
const DIGIT: u32 = 1 << 1;
const COLON: u32 = 1 << 2;
const BLANK: u32 = 1 << 3;

/// Per byte: its kinds. `=` and `:` are separators of pairs, `:` also of URLs; blanks must
/// follow `Bearer` and `Basic`; and most bytes of the trigger literals have a kind of their
/// own (`B` and `b` share one), so that a text lacking one of a literal's bytes skips it.
const BYTE_FLAGS: [u32; 256] = {
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
    let own = b"-._/ACJSIKGgkxzhnpwyertlsco";
    assert!(own.len() + 5 <= 32, "one bit per kind");
    let mut index = 0;
    while index < own.len() {
        flags[own[index] as usize] |= 1 << (4 + index);
        index += 1;
    }
    let letter_b = 1 << (4 + own.len());
    flags[b'B' as usize] |= letter_b;
    flags[b'b' as usize] |= letter_b;
    flags
};

/// The kinds of byte a text must hold for a trigger to find something: those of its
/// literal, and those its check requires after it: the blank before a `Bearer` or `Basic`
/// credential, the blank in `-----BEGIN … PRIVATE KEY-----`, the dot between a JSON Web
/// Token's parts, the dash after `xox?`.
const fn trigger_needs(index: usize) -> u32 {
    let (literal, trigger) = TRIGGERS[index];
    let literal = literal.as_bytes();
    let mut needs = match trigger {
        Trigger::Bearer | Trigger::Basic | Trigger::Pem => BLANK,
        Trigger::Jwt => BYTE_FLAGS[b'.' as usize],
        Trigger::Slack => BYTE_FLAGS[b'-' as usize],
        _ => 0,
    };
    let mut at = 0;
    while at < literal.len() {
        needs |= BYTE_FLAGS[literal[at] as usize];
        at += 1;
    }
    needs
}

/// Per value of one byte (the one at `shift`) of the kinds a text lacks: the triggers that
/// cannot find anything in it (bit `i` for `TRIGGERS[i]`).
const fn triggers_missing(shift: u32) -> [u64; 256] {
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

const TRIGGERS_MISSING: [[u64; 256]; 4] = [
    triggers_missing(0),
    triggers_missing(8),
    triggers_missing(16),
    triggers_missing(24),
];

/// Every trigger (bit `i` for `TRIGGERS[i]`).
const ALL_TRIGGERS: u64 = (1 << TRIGGERS.len()) - 1;

/// The triggers whose detectors need the context around what they hide (bit `i` for
/// `TRIGGERS[i]`): the only ones looked for in text that is not shown. A known key format
/// is recognised by its shape alone, like a card number or a JSON Web Token, wherever
/// else it appears; a Slack webhook's secret is recognised only after its URL.
const LOOKUP_TRIGGERS: u64 = {
    let mut bits = 0;
    let mut index = 0;
    while index < TRIGGERS.len() {
        if matches!(
            TRIGGERS[index].1,
            Trigger::Scheme
                | Trigger::Bearer
                | Trigger::Basic
                | Trigger::Pem
                | Trigger::SlackWebhook
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
/// `Basic` and inside `-----BEGIN … PRIVATE KEY-----`, the `/` of a Slack webhook), and
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
const TRIGGERS_BY_FIRST_BYTE: [u64; 256] = triggers_by_byte(0);

/// Per byte: the triggers whose literal has it second.
const TRIGGERS_BY_SECOND_BYTE: [u64; 256] = triggers_by_byte(1);

const fn triggers_by_byte(position: usize) -> [u64; 256] {
    assert!(TRIGGERS.len() <= 64, "one bit per trigger");
    let mut table = [0u64; 256];
    let mut index = 0;
    while index < TRIGGERS.len() {
        table[TRIGGERS[index].0.as_bytes()[position] as usize] |= 1 << index;
        index += 1;
    }
    table
}

fn check_trigger(
    text: &str,
    start: usize,
    end: usize,
    trigger: Trigger,
    detectors: DetectorSet,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    let boundary_before = start == 0 || !is_token_byte(bytes[start - 1]);
    let key_format = |regex: &Regex, spans: &mut Vec<Span>| {
        if !detectors.contains(Detector::KnownKeyFormat) || !boundary_before {
            return;
        }
        if let Some(found) = regex.find(&text[start..]) {
            let stop = start + found.end();
            if bytes.get(stop).is_none_or(|&b| !b.is_ascii_alphanumeric()) {
                spans.push(Span {
                    start,
                    end: stop,
                    rule: Rule::KnownKeyFormat,
                });
            }
        }
    };
    match trigger {
        Trigger::Scheme => {
            if detectors.contains(Detector::UrlPassword) {
                url_userinfo(bytes, start, end, spans);
            }
        }
        Trigger::Bearer | Trigger::Basic => {
            if detectors.contains(Detector::AuthorizationCredential) && boundary_before {
                credential(bytes, end, matches!(trigger, Trigger::Basic), spans);
            }
        }
        Trigger::Pem => {
            if detectors.contains(Detector::PemPrivateKey)
                && let Some(begin) = PEM_BEGIN.find(&text[start..])
            {
                let after = start + begin.end();
                let stop = PEM_END
                    .find(&text[after..])
                    .map_or(text.len(), |found| after + found.end());
                spans.push(Span {
                    start,
                    end: stop,
                    rule: Rule::PemPrivateKey,
                });
            }
        }
        Trigger::Jwt => {
            if detectors.contains(Detector::Jwt)
                && boundary_before
                && let Some(found) = JWT.find(&text[start..])
            {
                spans.push(Span {
                    start,
                    end: start + found.end(),
                    rule: Rule::Jwt,
                });
            }
        }
        Trigger::Aws => key_format(&AWS, spans),
        Trigger::GitHub => key_format(&GITHUB, spans),
        Trigger::GitHubPat => key_format(&GITHUB_PAT, spans),
        Trigger::GitLab => key_format(&GITLAB, spans),
        Trigger::Npm => key_format(&NPM, spans),
        Trigger::Stripe => key_format(&STRIPE, spans),
        Trigger::Slack => key_format(&SLACK, spans),
        Trigger::Google => key_format(&GOOGLE, spans),
        Trigger::SendGrid => key_format(&SENDGRID, spans),
        Trigger::OpenAi => key_format(&OPENAI, spans),
        Trigger::SlackWebhook => {
            if detectors.contains(Detector::KnownKeyFormat)
                && let Some(found) = SLACK_WEBHOOK.find(&text[start..])
            {
                spans.push(Span {
                    start: start + "hooks.slack.com/services/".len(),
                    end: start + found.end(),
                    rule: Rule::KnownKeyFormat,
                });
            }
        }
    }
}

/// `scheme://userinfo@host`: hides the password, or the whole userinfo when it has none.
fn url_userinfo(bytes: &[u8], colon: usize, after: usize, spans: &mut Vec<Span>) {
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
fn credential(bytes: &[u8], end: usize, basic: bool, spans: &mut Vec<Span>) {
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

/// Card numbers: 13–19 digits, single spaces, dashes or `+` between groups, Luhn-valid.
///
/// A card number lies in a run of digits and separators holding 13 digits or more, so 13
/// bytes long or more; any 13 consecutive positions include one multiple of 13 (counted from
/// where the search resumes). So the scan looks at every 13th byte only, and where that byte
/// is a digit or separator, measures the run around it; only a run with 13 digits or more is
/// parsed. Text full of short numbers (log lines, timestamps, dates) or of words costs about
/// one test per 13 bytes.
fn scan_card_numbers(bytes: &[u8], spans: &mut Vec<Span>) {
    card_runs(bytes, |start, end| {
        scan_cards_in(bytes, start, end, spans);
    });
}

/// Calls `each` with the start and end of every run of digits and separators that holds
/// 13 digits or more (see [`scan_card_numbers`]).
fn card_runs(bytes: &[u8], mut each: impl FnMut(usize, usize)) {
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
fn scan_cards_in(bytes: &[u8], from: usize, to: usize, spans: &mut Vec<Span>) -> usize {
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
const MAX_GROUPS: usize = 12;

/// Parses digit groups starting at `start` (single ` `, `-` or `+` between groups) and
/// hides the longest run of whole groups that is a Luhn-valid card number, so that a number
/// next to other numbers ("order 1299 4111…", "4111… 12/29") is still found. Returns where
/// the digits ended.
fn parse_card(bytes: &[u8], start: usize, spans: &mut Vec<Span>) -> usize {
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
            if (13..=19).contains(&length)
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
fn digit_bits(word: u64) -> u64 {
    let shifted = word ^ (LOW * 0x30);
    // High bit set where the low seven bits are 10 or more; no carry crosses a byte.
    let ten_or_more = (shifted & !HIGH) + LOW * (0x80 - 10);
    (!(ten_or_more | shifted) & HIGH) >> 7
}

/// The position of the first run of four consecutive digits at or after `from`.
fn next_four_digits(bytes: &[u8], from: usize) -> Option<usize> {
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

fn luhn(digits: &[u8]) -> bool {
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

/// `name=value` and `name: value` where the name matches the name rules.
fn scan_pairs(
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
fn code_target_is_sensitive(text: &str, before: usize, names: &NameRules) -> bool {
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

/// Sorts and merges overlapping spans; a merged span keeps the rule of its first part.
pub(crate) fn merge(spans: &mut Vec<Span>) {
    if spans.len() < 2 {
        return;
    }
    spans.sort_by_key(|span| (span.start, std::cmp::Reverse(span.end)));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans.drain(..) {
        match merged.last_mut() {
            Some(last) if span.start < last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    *spans = merged;
}

/// `text` with each span replaced by `substitute`; spans must be merged.
pub(crate) fn apply(text: &str, spans: &[Span], substitute: &str) -> String {
    let mut out = String::with_capacity(text.len() + spans.len() * substitute.len());
    let mut at = 0;
    for span in spans {
        // Spans come from byte scans; keep cuts on character boundaries.
        let start = floor_char_boundary(text, span.start.max(at));
        let end = ceil_char_boundary(text, span.end);
        out.push_str(&text[at..start]);
        out.push_str(substitute);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while index < text.len() && !text.is_char_boundary(index) {
        index += 1;
    }
    index.min(text.len())
}

#[cfg(test)]
mod tests {
    use super::super::names::{NameRuleConfig, NameRules};
    use super::*;

    const SUB: &str = "********************";

    fn scrub(text: &str) -> String {
        scrub_kind(text, TextKind::Free)
    }

    fn scrub_kind(text: &str, kind: TextKind) -> String {
        let names = NameRules::new(&NameRuleConfig::default());
        let mut spans = Vec::new();
        scan(
            text,
            kind,
            kind.detectors(DetectorSet::ALL),
            &names,
            SUB,
            &mut spans,
        );
        merge(&mut spans);
        apply(text, &spans, SUB)
    }

    #[test]
    fn text_that_is_not_shown_is_scanned_for_what_needs_context_only() {
        // In a short text and in a long one (the two search paths).
        for padding in ["", &*"lorem ipsum ".repeat(20)] {
            let hidden = |secret: &str| {
                let text = format!("{padding}{secret}{padding}");
                scrub_kind(&text, TextKind::LookupOnly) != text
            };
            assert!(hidden("auth: Bearer abcdef123456"));
            assert!(hidden("postgres://shop:hunter2-db-pass@db/shop"));
            assert!(hidden("password=hunter2-pass"));
            assert!(hidden(
                "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX"
            ));
            assert!(hidden("-----BEGIN PRIVATE KEY-----\nMIIabc"));
            assert!(hidden("auth:\tBasic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
            for found in [
                "auth: Bearer abcdef123456",
                "postgres://shop:hunter2-db-pass@db/shop",
                "password=hunter2-pass",
                "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX",
                "hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX",
                "-----BEGIN PRIVATE KEY-----\nMIIabc",
                "Bearer\tabcdef123456",
            ] {
                assert!(may_hold_unshown_secret(found), "{found}");
            }
            assert!(!may_hold_unshown_secret("sku-000-0001"));
            assert!(!may_hold_unshown_secret("a=b"));
            // Recognised by their shape wherever else they appear.
            assert!(!hidden("id AKIAIOSFODNN7EXAMPLE."));
            assert!(!hidden("card 4111111111111111"));
            assert!(!hidden("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
            // The same texts shown are scanned for everything.
            let text = format!("{padding}id AKIAIOSFODNN7EXAMPLE.{padding}");
            assert_ne!(scrub(&text), text);
        }
    }

    #[test]
    fn url_passwords_are_hidden_and_user_names_kept() {
        assert_eq!(
            scrub("postgres://shop:hunter2-db-pass@db.internal/shop"),
            format!("postgres://shop:{SUB}@db.internal/shop")
        );
        assert_eq!(
            scrub("redis://:pw-123456@cache:6379/0"),
            format!("redis://:{SUB}@cache:6379/0")
        );
        assert_eq!(
            scrub("https://abcdef0123@o1.ingest.example.io/45"),
            format!("https://{SUB}@o1.ingest.example.io/45")
        );
        assert_eq!(scrub("https://example.com/a@b"), "https://example.com/a@b");
    }

    #[test]
    fn pair_names_with_letters_python_folds_are_hidden() {
        assert_eq!(
            scrub("login failed: pa\u{17F}\u{17F}word=hunter2 for alice"),
            format!("login failed: pa\u{17F}\u{17F}word={SUB} for alice")
        );
        assert_eq!(
            scrub("GET /x?ap\u{131}_key=abc123&ref=cart"),
            format!("GET /x?ap\u{131}_key={SUB}&ref=cart")
        );
        assert_eq!(
            scrub_kind(
                "const PA\u{17F}\u{17F}: &str = \"hunter2-hunter2\";",
                TextKind::Code
            ),
            format!("const PA\u{17F}\u{17F}: &str = \"{SUB}\";")
        );
    }

    #[test]
    fn query_parameters_and_pairs_with_sensitive_names_are_hidden() {
        assert_eq!(
            scrub("GET /x?utm=1&access_token=abc123&ref=cart"),
            format!("GET /x?utm=1&access_token={SUB}&ref=cart")
        );
        assert_eq!(
            scrub("POST https://api/v1?key=S3CR3T returned 502"),
            format!("POST https://api/v1?key={SUB} returned 502")
        );
        assert_eq!(
            scrub("replay api_key=abc.def.ghi..."),
            format!("replay api_key={SUB}")
        );
        assert_eq!(
            scrub("Authorization: Bearer abc\nnext"),
            format!("Authorization: {SUB}\nnext")
        );
        assert_eq!(
            scrub(r#"{"password": "hunter2", "user": "bob"}"#),
            format!(r#"{{"password": "{SUB}", "user": "bob"}}"#)
        );
        assert_eq!(scrub("order=42 city: Berlin"), "order=42 city: Berlin");
    }

    #[test]
    fn code_lines_hide_only_quoted_literals() {
        assert_eq!(
            scrub_kind("let password = form.get(\"password\");", TextKind::Code),
            "let password = form.get(\"password\");"
        );
        assert_eq!(
            scrub_kind("const API_KEY: &str = \"abc123\";", TextKind::Code),
            format!("const API_KEY: &str = \"{SUB}\";")
        );
    }

    #[test]
    fn bearer_and_basic_credentials_are_hidden() {
        assert_eq!(
            scrub("sent Bearer eyXabc.def-ghi to upstream"),
            format!("sent Bearer {SUB} to upstream")
        );
        assert_eq!(
            scrub("basic dXNlcjpwYXNzd29yZA== ok"),
            format!("basic {SUB} ok")
        );
        assert_eq!(scrub("basic information"), "basic information");
    }

    #[test]
    fn runs_of_four_digits_are_found_across_words() {
        for (text, expected) in [
            ("abcdefg1234", Some(7)),
            ("abcdef12 34", None),
            ("abcdefgh12345678", Some(8)),
            ("1234", Some(0)),
            ("xx123yyy4567zz", Some(8)),
            ("abcde123|4abcdefgh", None),
            ("abcdefg12345678", Some(7)),
        ] {
            assert_eq!(next_four_digits(text.as_bytes(), 0), expected, "{text}");
        }
    }

    #[test]
    fn card_numbers_pass_luhn_and_other_numbers_stay() {
        assert_eq!(scrub("card 4111 1111 1111 1111."), format!("card {SUB}."));
        assert_eq!(scrub("card 4111-1111-1111-1111"), format!("card {SUB}"));
        assert_eq!(scrub("4111111111111111"), SUB);
        assert_eq!(scrub("4111111111111112"), "4111111111111112");
        assert_eq!(scrub("id 5f0c6a1e-8f1b-4c5e"), "id 5f0c6a1e-8f1b-4c5e");
        assert_eq!(scrub("+49 30 1234567"), "+49 30 1234567");
    }

    #[test]
    fn jwts_pem_keys_and_key_formats_are_hidden() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert_eq!(scrub(&format!("t={jwt}")), format!("t={SUB}"));
        assert_eq!(
            scrub(&format!("token {jwt} end")),
            format!("token {SUB} end")
        );
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----";
        assert_eq!(scrub(&format!("k\n{pem}\nrest")), format!("k\n{SUB}\nrest"));
        assert_eq!(
            scrub("-----BEGIN PRIVATE KEY-----\nMIIabc truncated"),
            SUB.to_string()
        );
        assert_eq!(scrub("id AKIAIOSFODNN7EXAMPLE."), format!("id {SUB}."));
        assert_eq!(
            scrub(&format!("gh ghp_{}", "a".repeat(36))),
            format!("gh {SUB}")
        );
        assert_eq!(
            scrub("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            format!("stripe {SUB}")
        );
        assert_eq!(
            scrub("slack xoxb-123456789012-abcdefghij"),
            format!("slack {SUB}")
        );
        assert_eq!(scrub("a task-runner"), "a task-runner");
    }

    #[test]
    fn card_numbers_are_found_at_every_offset_among_other_numbers() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
        ] {
            for before in 0..17 {
                let text = format!(
                    "{}002.150 batch 2150 ok........ {card} 12/29 ...",
                    "x".repeat(before)
                );
                let shown = scrub(&text);
                assert!(!shown.contains("4111"), "{shown}");
                assert!(shown.contains("batch 2150 ok"), "{shown}");
            }
        }
    }

    #[test]
    fn each_trigger_finds_a_match_of_its_shortest_length() {
        let examples = [
            (Trigger::Scheme, "a://b:c@d".to_owned()),
            (Trigger::Basic, "Basic QWxhZGRp".to_owned()),
            (Trigger::Jwt, "eyJab.eyJcdefg".to_owned()),
            (Trigger::Pem, "-----BEGIN PRIVATE KEY-----".to_owned()),
            (Trigger::Aws, "AKIAIOSFODNN7EXAMPLE".to_owned()),
            (Trigger::GitHub, format!("ghp_{}", "a1".repeat(18))),
            (
                Trigger::GitHubPat,
                format!("github_pat_{}", "a1".repeat(11)),
            ),
            (Trigger::GitLab, format!("glpat-{}", "a1".repeat(10))),
            (Trigger::Npm, format!("npm_{}", "a1".repeat(18))),
            (Trigger::Stripe, "sk_live_4eC39HqLyj".to_owned()),
            (Trigger::Slack, "xoxb-1234567890".to_owned()),
            (
                Trigger::SlackWebhook,
                "hooks.slack.com/services/T0000000".to_owned(),
            ),
            (Trigger::Google, format!("AIza{}", "a1".repeat(17) + "b")),
            (
                Trigger::SendGrid,
                format!("SG.{}.{}", "a".repeat(16), "b".repeat(16)),
            ),
            (Trigger::OpenAi, format!("sk-{}", "a1".repeat(16))),
        ];
        for (trigger, text) in examples {
            assert_eq!(text.len(), min_text_len(trigger), "{text}");
            let shown = scrub(&text);
            assert!(
                !shown.contains(&text[text.len() - 4..]),
                "{text} gave {shown}"
            );
        }
    }

    #[test]
    fn the_unshown_text_precheck_sees_each_byte_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                for byte in 0u8..=0x7f {
                    let mut text = vec![b'x'; len];
                    text[at] = byte;
                    let text = String::from_utf8(text).unwrap();
                    let expected = len >= REVERSE_LOOKUP_MIN_CHARS
                        && matches!(byte, b'=' | b':' | b' ' | b'\t' | b'/');
                    assert_eq!(may_hold_unshown_secret(&text), expected, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn sampling_finds_every_run_with_enough_digits() {
        let in_run = |byte: u8| byte.is_ascii_digit() || matches!(byte, b' ' | b'-' | b'+');
        let alphabet = b"1 -x";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut runs_seen = 0;
        for case in 0..50_000u64 {
            // Mostly digits, so that runs of 13 digits are common.
            let len = (next() % 90) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| match next() % 16 {
                    0 => alphabet[1 + (case % 3) as usize],
                    1 => b'x',
                    _ => b'1',
                })
                .collect();
            let mut sampled = Vec::new();
            card_runs(&text, |start, end| sampled.push((start, end)));
            let mut expected = Vec::new();
            let mut at = 0;
            while at < text.len() {
                let start = at;
                while at < text.len() && in_run(text[at]) {
                    at += 1;
                }
                if text[start..at]
                    .iter()
                    .filter(|b| b.is_ascii_digit())
                    .count()
                    >= 13
                {
                    expected.push((start, at));
                }
                at += 1;
            }
            assert_eq!(sampled, expected, "{}", String::from_utf8_lossy(&text));
            runs_seen += expected.len();
        }
        assert!(
            runs_seen > 10_000,
            "the inputs hold long runs ({runs_seen})"
        );
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let text = "пароль password=секрет и всё";
        assert_eq!(scrub(text), format!("пароль password={SUB} и всё"));
    }
}
