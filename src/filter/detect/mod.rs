//! Value detectors: secrets found by their shape inside any text, whatever its name.
//!
//! Each detector looks for a cheap trigger first (a literal such as `://`, `Bearer`,
//! `-----BEGIN`, `eyJ`, `AKIA`, a `=` or `:`, a run of digits) and only then checks the exact
//! shape, so text without triggers costs one pass of a multi-literal search. The checks are
//! small hand-written scanners around the triggers: general-purpose regexes over every string
//! of a report would cost far more than the whole report is allowed to.

mod assign;
mod cards;
mod catalog;
mod entropy;
mod formats;
mod keys;
mod people;
mod pii;
mod prefilter;
mod url;

use super::Rule;
use super::names::NameRules;
use assign::{mark_at, scan_marked, scan_pairs};
use cards::{MIN_CARD_DIGITS, scan_card_numbers};
use entropy::{scan_token_run, scan_tokens};
use keys::*;
use people::{MIN_HOME_PATH, scan_emails, scan_home_users};
use pii::{MIN_IBAN, scan_ibans, scan_ssns, ssns_after};
use prefilter::*;
use url::{credential, url_userinfo};

pub(crate) use prefilter::may_hold_unshown_secret;

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
    /// Token formats of public services, from the credential catalog (AWS, GitHub, GitLab,
    /// Stripe, Slack, OpenAI and about 300 more; `docs/credential-formats.md` lists them).
    KnownKeyFormat,
    /// Random-looking tokens: after a credential word (`token 8f3a…`), or on their own when
    /// long, of mixed case and digits, and high in entropy.
    HighEntropyToken,
    /// IBANs, compact or grouped, passing their mod-97 check.
    Iban,
    /// US social security numbers (`123-45-6789`) next to a word naming them.
    Ssn,
    /// The user name in home-directory paths: `alice` in `/home/alice/…`, `/Users/alice/…`
    /// and `C:\Users\alice\…`; the rest of the path stays. On by default.
    HomeDirectoryUser,
    /// Email addresses in any text. Off by default: the address of the user a report is
    /// about is usually what its reader needs to act on it.
    EmailAddress,
    /// The client's IP address: `REMOTE_ADDR` and the `X-Forwarded-For`, `X-Real-IP`,
    /// `Forwarded`, `True-Client-IP`, `CF-Connecting-IP` and `X-Client-IP` headers, hidden
    /// whole. Off by default, as in Django and Rails: reports go to the site's own
    /// operators. The Sentry sink sends no client address unless asked, whatever this says.
    ClientAddress,
}

impl Detector {
    /// Every detector.
    pub const ALL: [Detector; 14] = [
        Detector::NameValueText,
        Detector::UrlQueryParameter,
        Detector::UrlPassword,
        Detector::AuthorizationCredential,
        Detector::PemPrivateKey,
        Detector::CardNumber,
        Detector::Jwt,
        Detector::KnownKeyFormat,
        Detector::HighEntropyToken,
        Detector::Iban,
        Detector::Ssn,
        Detector::HomeDirectoryUser,
        Detector::EmailAddress,
        Detector::ClientAddress,
    ];

    /// The detectors that are on by default: all but the personal data categories
    /// [`Detector::HomeDirectoryUser`], [`Detector::EmailAddress`] and
    /// [`Detector::ClientAddress`] (docs/redaction.md says why).
    pub const DEFAULT: [Detector; 11] = [
        Detector::NameValueText,
        Detector::UrlQueryParameter,
        Detector::UrlPassword,
        Detector::AuthorizationCredential,
        Detector::PemPrivateKey,
        Detector::CardNumber,
        Detector::Jwt,
        Detector::KnownKeyFormat,
        Detector::HighEntropyToken,
        Detector::Iban,
        Detector::Ssn,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DetectorSet(u16);

impl DetectorSet {
    pub(crate) const ALL: DetectorSet = DetectorSet((1 << Detector::ALL.len()) - 1);
    pub(crate) const NONE: DetectorSet = DetectorSet(0);
    pub(crate) const DEFAULT: DetectorSet = {
        let mut bits = 0;
        let mut at = 0;
        while at < Detector::DEFAULT.len() {
            bits |= 1 << (Detector::DEFAULT[at] as u16);
            at += 1;
        }
        DetectorSet(bits)
    };

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
#[non_exhaustive]
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
    /// password after `password=`, a key after `-----BEGIN`, a webhook's secret path after
    /// its host).
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
                context.set(Detector::Iban, false);
                context.set(Detector::HighEntropyToken, false);
                // Personal data, not secrets: hidden where found, not looked up elsewhere.
                context.set(Detector::HomeDirectoryUser, false);
                context.set(Detector::EmailAddress, false);
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

fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Scans `text` with the enabled detectors and appends the parts to hide to `spans`.
#[inline]
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
    let marked = kind != TextKind::Code && detectors.contains(Detector::NameValueText);
    scan_long_marks(
        text,
        marked,
        detectors.contains(Detector::Ssn),
        names,
        substitute,
        spans,
    );
    if detectors.contains(Detector::CardNumber) {
        scan_card_numbers(bytes, spans);
    }
    if detectors.contains(Detector::Iban) {
        scan_ibans(bytes, spans);
    }
    scan_people(bytes, detectors, spans);
    let catalog = detectors
        .contains(Detector::KnownKeyFormat)
        .then_some(catalog::Shape {
            context_only: kind == TextKind::LookupOnly,
            ..catalog::Shape::ANY
        });
    let entropy = detectors.contains(Detector::HighEntropyToken);
    scan_token_runs(text, catalog, entropy, names, spans);
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

/// In a long text, the flags and other marks of [`scan_marked`] (with `marked`) and the
/// social security numbers (with `ssns`), each from a packed search for the few literals it
/// starts from ([`FLAG_STARTS`], [`SSN_WORDS`]) rather than from every `-` or `s`.
fn scan_long_marks(
    text: &str,
    marked: bool,
    ssns: bool,
    names: &NameRules,
    substitute: &str,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    if marked {
        match &*FLAG_STARTS {
            Some(search) => {
                if bytes.first() == Some(&b'-') {
                    mark_at(text, 0, names, substitute, spans);
                }
                for found in search.find_iter(bytes) {
                    mark_at(text, found.start() + 1, names, substitute, spans);
                }
                for at in memchr::memchr_iter(b'<', bytes) {
                    mark_at(text, at, names, substitute, spans);
                }
            }
            None => scan_marked(text, names, substitute, spans),
        }
    }
    if ssns {
        match &*SSN_WORDS {
            Some(search) => {
                let mut checked = 0;
                for found in search.find_iter(bytes) {
                    ssns_after(bytes, found.start(), &mut checked, spans);
                }
            }
            None => scan_ssns(bytes, spans),
        }
    }
}

/// Home-directory user names and email addresses, each when its detector is on.
#[inline]
fn scan_people(bytes: &[u8], detectors: DetectorSet, spans: &mut Vec<Span>) {
    if bytes.len() >= MIN_HOME_PATH && detectors.contains(Detector::HomeDirectoryUser) {
        scan_home_users(bytes, spans);
    }
    if detectors.contains(Detector::EmailAddress) {
        scan_emails(bytes, spans);
    }
}

/// The credential catalog (with `catalog`, its shape, when it is on) and the high-entropy
/// tokens (with `entropy`). The tokens of both lie in runs of catalog token bytes, searched
/// for once: the catalog hands each run it reads to the other detector too.
fn scan_token_runs(
    text: &str,
    catalog: Option<catalog::Shape>,
    entropy: bool,
    names: &NameRules,
    spans: &mut Vec<Span>,
) {
    match catalog {
        Some(shape) if entropy && !shape.context_only => {
            catalog::scan_with(text, shape, spans, |from, to, spans| {
                scan_token_run(text, from, to, names, spans);
            });
        }
        Some(shape) => {
            catalog::scan(text, shape, spans);
            if entropy {
                scan_tokens(text, names, spans);
            }
        }
        None if entropy => scan_tokens(text, names, spans),
        None => {}
    }
}

/// Short texts (most names and values): one scalar pass notes which kinds of byte occur
/// (separators, digits, and bytes of the trigger literals); the detectors then run only
/// where that pass saw something, and the trigger search only for the literals whose bytes
/// all occur. Library searches cost more to start than a short text takes to scan.
#[inline]
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
    if may_hold_marked(seen)
        && kind != TextKind::Code
        && detectors.contains(Detector::NameValueText)
    {
        scan_marked(text, names, substitute, spans);
    }
    if seen & DIGIT != 0
        && bytes.len() >= MIN_CARD_DIGITS
        && detectors.contains(Detector::CardNumber)
    {
        scan_card_numbers(bytes, spans);
    }
    if seen & DIGIT != 0 && bytes.len() >= MIN_IBAN && detectors.contains(Detector::Iban) {
        scan_ibans(bytes, spans);
    }
    if seen & DIGIT != 0
        && bytes.len() >= entropy::MIN_GOVERNED
        && detectors.contains(Detector::HighEntropyToken)
    {
        scan_tokens(text, names, spans);
    }
    if may_hold_ssn(seen) && detectors.contains(Detector::Ssn) {
        scan_ssns(bytes, spans);
    }
    scan_people(bytes, detectors, spans);
    if bytes.len() >= catalog::MIN_TOKEN && detectors.contains(Detector::KnownKeyFormat) {
        let shape = catalog::Shape {
            one_run: seen & NOT_TOKEN == 0,
            separators: seen & (SEPARATOR | BYTE_FLAGS[usize::from(b'/')]) != 0,
            context_only: kind == TextKind::LookupOnly,
        };
        catalog::scan(text, shape, spans);
    }
    if bytes.len() < MIN_URL_TEXT || seen & TRIGGER_KINDS == 0 || !wants_triggers(detectors) {
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
    }
}

/// Whether `byte` stays as it is in a URL-encoded component (a query parameter, a form
/// field, a cookie value): what `form_urlencoded` leaves unescaped, and `%` of the escapes.
fn is_component_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'+' | b'*' | b'%')
}

/// Whether `rule` finds a secret by its shape alone, so that where the shape ends says
/// nothing of where the value holding it ends. The other detectors take a value to the end
/// its syntax gives (`password=…`, a URL's userinfo, the credential after `Bearer`).
fn found_by_shape(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::CardNumber | Rule::Jwt | Rule::KnownKeyFormat | Rule::HighEntropyToken | Rule::Iban
    )
}

/// Widens each merged span found by a token's shape to the whole run of URL-component bytes
/// around it ([`is_component_byte`]), dots at either end of the run excepted (a full stop
/// after a token is punctuation); `narrow` gets the text of each span that grew, as found.
///
/// A detector may recognise only a part of a value: the random part after the last `.` of
/// `name.v1.%3DR7kq…`, or a token that goes on percent-encoded. The reverse lookup then
/// cannot hide the rest: it looks for the whole value, found decoded elsewhere (a GET
/// parameter), in its URL-encoded form, and that no longer occurs once a part of it is the
/// substitute. A URL-encoded form is made of component bytes only, so it lies inside one
/// run of them: hiding the whole run leaves no part of it, whatever the format.
pub(crate) fn widen(text: &str, spans: &mut Vec<Span>, mut narrow: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut widened_to = 0;
    let mut grew = false;
    for span in spans.iter_mut() {
        // A span starting inside the previous widened one is merged into it below.
        if !found_by_shape(span.rule) || span.start < widened_to {
            continue;
        }
        let mut start = span.start;
        while start > 0 && is_component_byte(bytes[start - 1]) {
            start -= 1;
        }
        while start < span.start && bytes[start] == b'.' {
            start += 1;
        }
        let mut end = span.end;
        while end < bytes.len() && is_component_byte(bytes[end]) {
            end += 1;
        }
        while end > span.end && bytes[end - 1] == b'.' {
            end -= 1;
        }
        if (start, end) != (span.start, span.end) {
            if let Some(found) = text.get(span.start..span.end) {
                narrow(found);
            }
            span.start = start;
            span.end = end;
            grew = true;
        }
        widened_to = end;
    }
    if grew {
        merge(spans);
    }
}

/// Sorts and merges overlapping spans; a merged span keeps the rule of its first part.
pub(crate) fn merge(spans: &mut Vec<Span>) {
    if spans.len() < 2 {
        return;
    }
    // Of spans that cover the same text, one that a detector recognised by its form stays
    // before one that only looks random (a GitHub token is a known key format), whatever
    // order the detectors found them in.
    spans.sort_by_key(|span| {
        (
            span.start,
            std::cmp::Reverse(span.end),
            span.rule == Rule::HighEntropyToken,
        )
    });
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
mod catalog_tests;
#[cfg(test)]
mod tests;
