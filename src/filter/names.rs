//! Name rules: which names (settings, headers, cookies, fields, variables, keys) are sensitive.
//!
//! Django's rule is a case-insensitive regex searched anywhere in the name:
//! `API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE`, plus the session cookie's name.
//! The extended rule adds terms Django misses. Long terms match anywhere, like Django's;
//! short stems (`dsn`, `otp`, `sso`, …) match only as whole words, the name being split on
//! anything that is not a letter or digit and on camelCase humps, so `SENTRY_DSN`,
//! `userPwd` and `X-CSRF` are hidden while `classname` (`ssn`) or `footprint` (`otp`) are not.

use regex::Regex;

/// Django's hidden-settings terms, matched anywhere in a name, ignoring case.
pub const DJANGO_TERMS: &[&str] = &[
    "API",
    "AUTH",
    "TOKEN",
    "KEY",
    "SECRET",
    "PASS",
    "SIGNATURE",
    "HTTP_COOKIE",
];

/// Extended terms matched anywhere in a name, ignoring case.
pub const EXTENDED_TERMS: &[&str] = &[
    "credential",
    "private",
    "session",
    "sessid",
    "bearer",
    "passwd",
];

/// Extended short stems matched only as whole words of a name, ignoring case.
pub const EXTENDED_WORDS: &[&str] = &[
    "dsn", "csrf", "xsrf", "jwt", "cvv", "cvc", "ssn", "otp", "sso", "pwd",
];

/// The default session cookie name (Django's `SESSION_COOKIE_NAME`).
pub const DEFAULT_SESSION_COOKIE_NAME: &str = "sessionid";

/// Which rule made a name sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameHit {
    SessionCookie,
    Pattern,
    Extended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermKind {
    Pattern,
    Extended,
    ExtendedWord,
}

#[derive(Debug, Clone)]
pub(crate) struct NameRules {
    terms: TermMatcher,
    custom_pattern: Option<Regex>,
    session_cookie: String,
}

/// What the name rules are built from.
#[derive(Debug, Clone)]
pub(crate) struct NameRuleConfig {
    pub(crate) custom_pattern: Option<Regex>,
    pub(crate) extended: bool,
    pub(crate) extra_terms: Vec<String>,
    pub(crate) extra_words: Vec<String>,
    pub(crate) session_cookie: String,
}

impl Default for NameRuleConfig {
    fn default() -> Self {
        Self {
            custom_pattern: None,
            extended: true,
            extra_terms: Vec::new(),
            extra_words: Vec::new(),
            session_cookie: DEFAULT_SESSION_COOKIE_NAME.to_owned(),
        }
    }
}

impl NameRules {
    pub(crate) fn new(config: &NameRuleConfig) -> Self {
        let mut terms: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        if config.custom_pattern.is_none() {
            for term in DJANGO_TERMS {
                terms.push((*term).to_owned());
                kinds.push(TermKind::Pattern);
            }
        }
        if config.extended {
            for term in EXTENDED_TERMS {
                terms.push((*term).to_owned());
                kinds.push(TermKind::Extended);
            }
            for word in EXTENDED_WORDS {
                terms.push((*word).to_owned());
                kinds.push(TermKind::ExtendedWord);
            }
        }
        for term in config.extra_terms.iter().filter(|t| !t.is_empty()) {
            terms.push(term.clone());
            kinds.push(TermKind::Extended);
        }
        for word in config.extra_words.iter().filter(|t| !t.is_empty()) {
            terms.push(word.clone());
            kinds.push(TermKind::ExtendedWord);
        }
        Self {
            terms: TermMatcher::new(&terms, kinds),
            custom_pattern: config.custom_pattern.clone(),
            session_cookie: config.session_cookie.clone(),
        }
    }

    /// The rule that makes `name` sensitive, if any.
    pub(crate) fn check(&self, name: &str) -> Option<NameHit> {
        if name.is_empty() {
            return None;
        }
        if name == self.session_cookie {
            return Some(NameHit::SessionCookie);
        }
        if let Some(pattern) = &self.custom_pattern
            && pattern.is_match(name)
        {
            return Some(NameHit::Pattern);
        }
        self.terms.check(name.as_bytes())
    }
}

/// Finds terms in a name, ignoring ASCII case.
///
/// Names are short and checked by the thousand per report, so instead of a general
/// multi-pattern search (whose per-call setup dominated in profiles), each term is indexed
/// by its first three bytes in a table of all 32,768 trigrams: one lookup per position of
/// the name rejects almost every position, and the few candidates are compared with the
/// terms directly.
#[derive(Debug, Clone)]
struct TermMatcher {
    /// Lower-cased terms with their kinds.
    terms: Vec<(Vec<u8>, TermKind)>,
    /// For each trigram, 1 + the position in `by_trigram` of the first term starting with
    /// it, or 0 when no term does.
    first: Box<[u8; 1 << 15]>,
    /// (trigram, index in `terms`) of each term of three bytes or more, sorted.
    by_trigram: Vec<(usize, usize)>,
    /// Whether some term is shorter than three bytes, or there are more terms than `first`
    /// can index (then every position is a candidate).
    check_every_position: bool,
}

/// Byte classes for trigrams: letters (either case) 1–26, `_` 27, digits 28, `-` 29, `.` 30,
/// anything else 31.
const CLASS: [u8; 256] = {
    let mut table = [31u8; 256];
    let mut byte = 0;
    while byte < 26 {
        table[b'a' as usize + byte] = byte as u8 + 1;
        table[b'A' as usize + byte] = byte as u8 + 1;
        byte += 1;
    }
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = 28;
        digit += 1;
    }
    table[b'_' as usize] = 27;
    table[b'-' as usize] = 29;
    table[b'.' as usize] = 30;
    table
};

fn trigram(bytes: &[u8]) -> usize {
    (usize::from(CLASS[usize::from(bytes[0])]) << 10)
        | (usize::from(CLASS[usize::from(bytes[1])]) << 5)
        | usize::from(CLASS[usize::from(bytes[2])])
}

impl TermMatcher {
    fn new(terms: &[String], kinds: Vec<TermKind>) -> Self {
        let mut check_every_position = false;
        let terms: Vec<(Vec<u8>, TermKind)> = terms
            .iter()
            .map(|term| term.to_ascii_lowercase().into_bytes())
            .zip(kinds)
            .collect();
        let mut by_trigram = Vec::with_capacity(terms.len());
        for (index, (term, _)) in terms.iter().enumerate() {
            if term.len() < 3 {
                check_every_position = true;
            } else {
                by_trigram.push((trigram(term), index));
            }
        }
        by_trigram.sort_unstable();
        let mut first = Box::new([0u8; 1 << 15]);
        for (position, &(gram, _)) in by_trigram.iter().enumerate().rev() {
            match u8::try_from(position + 1) {
                Ok(slot) => first[gram] = slot,
                // More terms than the table can index: every position is a candidate.
                Err(_) => check_every_position = true,
            }
        }
        Self {
            terms,
            first,
            by_trigram,
            check_every_position,
        }
    }

    fn check(&self, name: &[u8]) -> Option<NameHit> {
        if self.check_every_position {
            let mut hit = None;
            for start in 0..name.len() {
                for index in 0..self.terms.len() {
                    match self.check_term(name, start, index) {
                        Some(NameHit::Pattern) => return Some(NameHit::Pattern),
                        Some(found) => hit = Some(found),
                        None => {}
                    }
                }
            }
            return hit;
        }
        let [first, second, rest @ ..] = name else {
            return None;
        };
        let mut hit = None;
        let mut gram = (usize::from(CLASS[usize::from(*first)]) << 5)
            | usize::from(CLASS[usize::from(*second)]);
        for (start, &byte) in rest.iter().enumerate() {
            gram = ((gram << 5) | usize::from(CLASS[usize::from(byte)])) & 0x7fff;
            let slot = usize::from(self.first[gram]);
            if slot == 0 {
                continue;
            }
            // The terms with this trigram.
            for &(term_gram, index) in &self.by_trigram[slot - 1..] {
                if term_gram != gram {
                    break;
                }
                match self.check_term(name, start, index) {
                    Some(NameHit::Pattern) => return Some(NameHit::Pattern),
                    Some(found) => hit = Some(found),
                    None => {}
                }
            }
        }
        hit
    }

    /// Whether term `index` is at `start` in `name`, and what that makes the name.
    fn check_term(&self, name: &[u8], start: usize, index: usize) -> Option<NameHit> {
        let (term, kind) = &self.terms[index];
        let end = start + term.len();
        if end > name.len() || !name[start..end].eq_ignore_ascii_case(term) {
            return None;
        }
        match kind {
            TermKind::Pattern => Some(NameHit::Pattern),
            TermKind::Extended => Some(NameHit::Extended),
            TermKind::ExtendedWord => is_word(name, start, end).then_some(NameHit::Extended),
        }
    }
}

/// Whether `name[start..end]` is a whole word: bounded by the ends of the name, by
/// characters that are not letters or digits, by camelCase humps or by letter/digit changes.
fn is_word(name: &[u8], start: usize, end: usize) -> bool {
    boundary_before(name, start) && boundary_after(name, end)
}

fn boundary_before(name: &[u8], start: usize) -> bool {
    if start == 0 {
        return true;
    }
    let (before, at) = (name[start - 1], name[start]);
    if !before.is_ascii_alphanumeric() {
        return true;
    }
    // "userPwd": lower or digit, then upper.
    if at.is_ascii_uppercase() && (before.is_ascii_lowercase() || before.is_ascii_digit()) {
        return true;
    }
    // "XMLJwt"-style acronym end: upper, then upper followed by lower.
    if before.is_ascii_uppercase()
        && at.is_ascii_uppercase()
        && name.get(start + 1).is_some_and(u8::is_ascii_lowercase)
    {
        return true;
    }
    before.is_ascii_digit() != at.is_ascii_digit()
}

fn boundary_after(name: &[u8], end: usize) -> bool {
    let Some(&next) = name.get(end) else {
        return true;
    };
    let last = name[end - 1];
    if !next.is_ascii_alphanumeric() {
        return true;
    }
    // "pwdHash": lower, then upper.
    if next.is_ascii_uppercase() && last.is_ascii_lowercase() {
        return true;
    }
    // "CSRFToken": upper, then upper followed by lower.
    if last.is_ascii_uppercase()
        && next.is_ascii_uppercase()
        && name.get(end + 1).is_some_and(u8::is_ascii_lowercase)
    {
        return true;
    }
    last.is_ascii_digit() != next.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> NameRules {
        NameRules::new(&NameRuleConfig::default())
    }

    fn django() -> NameRules {
        NameRules::new(&NameRuleConfig {
            extended: false,
            ..NameRuleConfig::default()
        })
    }

    #[test]
    fn django_terms_match_anywhere_ignoring_case() {
        for name in [
            "MONKEY",
            "PASSWORD_RESET_TIMEOUT",
            "AUTH_USER_MODEL",
            "AUTHENTICATION_BACKENDS",
            "csrftoken",
            "HTTP_AUTHORIZATION",
            "HTTP_COOKIE",
            "api_url",
        ] {
            assert_eq!(django().check(name), Some(NameHit::Pattern), "{name}");
        }
        for name in ["DATABASE_URL", "SENTRY_DSN", "CREDENTIALS", "COOKIE"] {
            assert_eq!(django().check(name), None, "{name}");
        }
    }

    #[test]
    fn session_cookie_name_matches_only_exactly() {
        assert_eq!(django().check("sessionid"), Some(NameHit::SessionCookie));
        assert_eq!(django().check("sessionid2"), None);
    }

    #[test]
    fn extended_terms_cover_what_django_misses() {
        for name in [
            "SENTRY_DSN",
            "CREDENTIALS",
            "private_pem",
            "X-Session-Id",
            "sso_ticket",
            "userPwd",
            "cvv",
            "card-cvc",
            "ssn",
            "otp_code",
            "X-CSRF",
            "xsrfHeader",
            "jwt",
            "CSRFCookie",
        ] {
            assert!(rules().check(name).is_some(), "{name} should be sensitive");
        }
    }

    #[test]
    fn short_stems_need_word_boundaries() {
        for name in [
            "classname",
            "inside",
            "footprint",
            "lesson",
            "cvvalue_x_unused",
            "address",
        ] {
            assert_eq!(rules().check(name), None, "{name} should not be sensitive");
        }
    }

    #[test]
    fn a_custom_pattern_replaces_django_terms() {
        let rules = NameRules::new(&NameRuleConfig {
            custom_pattern: Some(Regex::new("(?i)PASS|DATABASE").unwrap()),
            extended: false,
            ..NameRuleConfig::default()
        });
        assert_eq!(rules.check("database_url"), Some(NameHit::Pattern));
        assert_eq!(rules.check("API_KEY"), None);
    }

    #[test]
    fn many_terms_are_all_found() {
        // More terms than the trigram table indexes: every position is then checked.
        let extra_terms: Vec<String> = (0..300).map(|n| format!("zq{n:03}x")).collect();
        let rules = NameRules::new(&NameRuleConfig {
            extra_terms,
            ..NameRuleConfig::default()
        });
        assert_eq!(rules.check("my_zq299x_name"), Some(NameHit::Extended));
        assert_eq!(rules.check("my_zq000x"), Some(NameHit::Extended));
        assert_eq!(rules.check("API_URL"), Some(NameHit::Pattern));
        assert_eq!(rules.check("classname"), None);
        assert_eq!(rules.check("zq300x"), None);
    }

    #[test]
    fn terms_sharing_a_trigram_are_each_found() {
        // "session", "sessid" and "secret" begin alike; "pass" and "passwd" too.
        for (name, hit) in [
            ("x_sessid", Some(NameHit::Extended)),
            ("x_session", Some(NameHit::Extended)),
            ("x_secret", Some(NameHit::Pattern)),
            ("x_passwd", Some(NameHit::Pattern)),
            ("x_sesame", None),
        ] {
            assert_eq!(rules().check(name), hit, "{name}");
        }
    }
}
