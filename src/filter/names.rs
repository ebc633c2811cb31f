//! Name rules: which names (settings, headers, cookies, fields, variables, keys) are sensitive.
//!
//! Django's rule is a case-insensitive regex searched anywhere in the name:
//! `API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE`, plus the session cookie's name.
//! The extended rule adds terms Django misses. Long terms match anywhere, like Django's;
//! short stems (`dsn`, `otp`, `sso`, …) match only as whole words, the name being split on
//! anything that is not a letter or digit and on camelCase humps, so `SENTRY_DSN`,
//! `userPwd` and `X-CSRF` are hidden while `classname` (`ssn`) or `footprint` (`otp`) are not.
//!
//! Case is ignored as Django's regex ignores it: Python's `re.IGNORECASE` also takes `ſ`
//! (long s) for `s`, the Kelvin sign `K` for `k`, and `İ` and `ı` for `i`, so
//! `PAſſWORD` is hidden as Django hides it. Names are almost always ASCII and checked by the
//! thousand per report: the byte matcher notices a byte beyond ASCII in the same table
//! lookup that finds term candidates, and only then folds the name ([`fold_like_python`])
//! and looks again.

use std::borrow::Cow;

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
        self.terms.check(name)
    }
}

/// Whether [`TermMatcher::check_trigrams`] still has to fold the name it looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// Not yet: a byte beyond ASCII starts again on the folded name.
    OnFirstNonAscii,
    /// Done (or nothing to fold): bytes beyond ASCII are just not term letters.
    Done,
}

/// The ASCII letter Python's case-insensitive matching takes `c` for, when `c` is not
/// ASCII: `ſ` (U+017F) is `s`, the Kelvin sign (U+212A) `K`, `İ` (U+0130) `I` and `ı`
/// (U+0131) `i`. No other code point matches an ASCII letter, digit or `_` in Python's
/// `re` with `IGNORECASE` (checked over every code point; the tests list them). The case
/// is kept, so that camelCase word boundaries stay where they were.
const fn ascii_fold(c: char) -> Option<char> {
    match c {
        '\u{17F}' => Some('s'),
        '\u{212A}' => Some('K'),
        '\u{130}' => Some('I'),
        '\u{131}' => Some('i'),
        _ => None,
    }
}

/// `name` with the letters of [`ascii_fold`] replaced by their ASCII letters (borrowed
/// when it has none). Other characters are kept: they are not letters to the matcher, so
/// they still end words.
fn fold_like_python(name: &str) -> Cow<'_, str> {
    if !name.chars().any(|c| ascii_fold(c).is_some()) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(name.chars().map(|c| ascii_fold(c).unwrap_or(c)).collect())
}

/// Finds terms in a name, ignoring case as Python's `re` does (ASCII case, and the folds of
/// [`ascii_fold`]).
///
/// Names are short and checked by the thousand per report, so instead of a general
/// multi-pattern search (whose per-call setup dominated in profiles), each term is indexed
/// by its first three bytes in a table of all 32,768 trigrams: one lookup per position of
/// the name rejects almost every position, and the few candidates are compared with the
/// terms directly.
///
/// A byte beyond ASCII has a class of its own, and every trigram ending with one is marked
/// [`NON_ASCII`] in the same table: an ASCII name pays nothing for folding, and a name with
/// other characters is folded and looked at again when the scan first meets one. Checking
/// `name.is_ascii()` before each name instead cost 4% of the settings filter's instructions
/// (`bash benches/callgrind.sh settings`: 354,520 against 340,176 without folding); the mark
/// costs 0.16% (340,713). The plain search at every position of the folded name is the
/// reference it is tested against.
#[derive(Debug, Clone)]
struct TermMatcher {
    /// Folded, lower-cased terms with their kinds.
    terms: Vec<(Vec<u8>, TermKind)>,
    /// For each trigram, 1 + the position in `by_trigram` of the first term starting with
    /// it, 0 when no term does, or [`NON_ASCII`] when it ends with a byte beyond ASCII.
    first: Box<[u8; 1 << 15]>,
    /// (trigram, index in `terms`) of each term of three bytes or more, sorted.
    by_trigram: Vec<(usize, usize)>,
    /// Whether some term is shorter than three bytes or has characters beyond ASCII, or
    /// there are more terms than `first` can index (then every position is a candidate).
    check_every_position: bool,
}

/// The mark in [`TermMatcher::first`] of a trigram ending with a byte beyond ASCII.
const NON_ASCII: u8 = u8::MAX;

/// Byte classes for trigrams: bytes beyond ASCII 0, letters (either case) 1–26, `_` 27,
/// digits 28, `-` 29, `.` 30, any other ASCII byte 31.
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut ascii = 0;
    while ascii < 128 {
        table[ascii] = 31;
        ascii += 1;
    }
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
        // Terms are folded as names are (an extra term may be given as `paſſ`).
        let terms: Vec<(Vec<u8>, TermKind)> = terms
            .iter()
            .map(|term| fold_like_python(term).to_ascii_lowercase().into_bytes())
            .zip(kinds)
            .collect();
        let mut by_trigram = Vec::with_capacity(terms.len());
        for (index, (term, _)) in terms.iter().enumerate() {
            // A term with bytes beyond ASCII would have trigrams of the class the table
            // marks: it is looked for at every position instead.
            if term.len() < 3 || !term.is_ascii() {
                check_every_position = true;
            } else {
                by_trigram.push((trigram(term), index));
            }
        }
        by_trigram.sort_unstable();
        let mut first = Box::new([0u8; 1 << 15]);
        for (position, &(gram, _)) in by_trigram.iter().enumerate().rev() {
            match u8::try_from(position + 1) {
                Ok(slot) if slot != NON_ASCII => first[gram] = slot,
                // More terms than the table can index: every position is a candidate.
                _ => check_every_position = true,
            }
        }
        // No term's trigram ends with a byte beyond ASCII (those terms are checked at
        // every position), so these slots are free for the mark.
        for leading in 0..1 << 10 {
            first[leading << 5] = NON_ASCII;
        }
        Self {
            terms,
            first,
            by_trigram,
            check_every_position,
        }
    }

    #[inline]
    fn check(&self, name: &str) -> Option<NameHit> {
        if self.check_every_position {
            let name = if name.is_ascii() {
                Cow::Borrowed(name)
            } else {
                fold_like_python(name)
            };
            return self.check_every_position(name.as_bytes());
        }
        self.check_trigrams(name, Fold::OnFirstNonAscii)
    }

    /// Every term at every position.
    fn check_every_position(&self, name: &[u8]) -> Option<NameHit> {
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
        hit
    }

    /// The terms whose trigram occurs in `name`.
    #[inline]
    fn check_trigrams(&self, name: &str, fold: Fold) -> Option<NameHit> {
        let [first, second, rest @ ..] = name.as_bytes() else {
            return None;
        };
        if fold == Fold::OnFirstNonAscii && (first | second) >= 0x80 {
            return self.check_folded(name);
        }
        let mut hit = None;
        let mut gram = (usize::from(CLASS[usize::from(*first)]) << 5)
            | usize::from(CLASS[usize::from(*second)]);
        for (start, &byte) in rest.iter().enumerate() {
            gram = ((gram << 5) | usize::from(CLASS[usize::from(byte)])) & 0x7fff;
            let slot = self.first[gram];
            if slot == 0 {
                continue;
            }
            if slot == NON_ASCII {
                if fold == Fold::OnFirstNonAscii {
                    return self.check_folded(name);
                }
                continue;
            }
            // The terms with this trigram.
            for &(term_gram, index) in &self.by_trigram[usize::from(slot) - 1..] {
                if term_gram != gram {
                    break;
                }
                match self.check_term(name.as_bytes(), start, index) {
                    Some(NameHit::Pattern) => return Some(NameHit::Pattern),
                    Some(found) => hit = Some(found),
                    None => {}
                }
            }
        }
        hit
    }

    /// A name with bytes beyond ASCII, looked at again with Python's folds applied.
    #[cold]
    fn check_folded(&self, name: &str) -> Option<NameHit> {
        self.check_trigrams(&fold_like_python(name), Fold::Done)
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
    fn extra_terms_beyond_ascii_are_found_folded() {
        let rules = NameRules::new(&NameRuleConfig {
            extra_terms: vec!["пароль".to_owned(), "geheimſchlüssel".to_owned()],
            ..NameRuleConfig::default()
        });
        assert_eq!(rules.check("мой_пароль"), Some(NameHit::Extended));
        assert_eq!(rules.check("GEHEIMSCHLüSSEL"), Some(NameHit::Extended));
        assert_eq!(rules.check("geheimſchlüssel_2"), Some(NameHit::Extended));
        assert_eq!(rules.check("PAſſWORD"), Some(NameHit::Pattern));
        assert_eq!(rules.check("ключ_доступа"), None);
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

    /// The code points Python's `re.IGNORECASE` matches to an ASCII letter, digit or `_`
    /// besides the ASCII character itself, as Django's pattern is compiled. Found over every
    /// code point with Python 3.11:
    ///
    /// ```text
    /// [(c, hex(cp)) for c in string.ascii_letters + string.digits + "_"
    ///  for cp in range(128, 0x110000) if re.fullmatch(re.escape(c), chr(cp), re.I)]
    /// ```
    ///
    /// Nothing else: not the ligatures (`ﬀ`), whose upper case is two letters, nor the
    /// Angstrom sign, which folds to `å`.
    const PYTHON_FOLDS: [(char, char); 4] = [
        ('\u{130}', 'i'),  // İ LATIN CAPITAL LETTER I WITH DOT ABOVE
        ('\u{131}', 'i'),  // ı LATIN SMALL LETTER DOTLESS I
        ('\u{17F}', 's'),  // ſ LATIN SMALL LETTER LONG S
        ('\u{212A}', 'k'), // K KELVIN SIGN
    ];

    #[test]
    fn names_fold_case_as_django_does() {
        for name in [
            "PA\u{17F}\u{17F}WORD",
            "THEME\u{17F}IGNATURE",
            "ACCESS_TO\u{212A}EN",
            "\u{212A}EY",
            "AP\u{130}_URL",
            "ap\u{131}_url",
            "\u{17F}ECRET_KEY_FALLBACKS",
            "database_pa\u{17F}\u{17F}word",
            "SIGNATURE_\u{130}",
            "HTTP_COO\u{212A}IE",
        ] {
            assert_eq!(django().check(name), Some(NameHit::Pattern), "{name}");
            assert_eq!(rules().check(name), Some(NameHit::Pattern), "{name}");
        }
        for name in [
            "\u{17F}e\u{17F}\u{17F}ion_id",
            "PR\u{130}VATE_PEM",
            "CREDENT\u{131}ALS",
            "sentry_d\u{17F}n",
            "user_\u{17F}\u{17F}o",
        ] {
            assert_eq!(rules().check(name), Some(NameHit::Extended), "{name}");
        }
    }

    #[test]
    fn every_fold_of_every_letter_of_every_term_is_matched() {
        let all = [
            (DJANGO_TERMS, django()),
            (EXTENDED_TERMS, rules()),
            (EXTENDED_WORDS, rules()),
        ];
        for (terms, rules) in all {
            for term in terms {
                for (at, letter) in term.char_indices() {
                    for (folded, ascii) in PYTHON_FOLDS {
                        if letter.to_ascii_lowercase() != ascii {
                            continue;
                        }
                        let name = format!("{}{folded}{}", &term[..at], &term[at + 1..]);
                        assert!(rules.check(&name).is_some(), "{term}: {name}");
                        let upper = name.to_uppercase();
                        assert!(rules.check(&upper).is_some(), "{term}: {upper}");
                    }
                }
            }
        }
    }

    #[test]
    fn only_what_python_folds_onto_a_term_letter_is_taken_for_it() {
        // Every code point outside ASCII, in the place of an `s`, a `k` and an `i` of a term.
        let rules = django();
        for c in ('\u{80}'..=char::MAX).filter(|c| !c.is_ascii()) {
            let fold = PYTHON_FOLDS
                .iter()
                .find(|(folded, _)| *folded == c)
                .map(|&(_, ascii)| ascii);
            for (name, letter) in [
                (format!("PA{c}{c}"), 's'),
                (format!("{c}EY"), 'k'),
                (format!("AP{c}"), 'i'),
            ] {
                let expected = (fold == Some(letter)).then_some(NameHit::Pattern);
                assert_eq!(rules.check(&name), expected, "U+{:04X} {name}", c as u32);
            }
        }
    }

    #[test]
    fn the_fold_table_is_pythons_and_agrees_with_rusts_case_mappings() {
        for c in ('\u{80}'..=char::MAX).filter(|c| !c.is_ascii()) {
            let expected = PYTHON_FOLDS
                .iter()
                .find(|(folded, _)| *folded == c)
                .map(|&(_, ascii)| ascii);
            assert_eq!(
                ascii_fold(c).map(|a| a.to_ascii_lowercase()),
                expected,
                "U+{:04X}",
                c as u32
            );
            // Where Rust's case mapping gives one ASCII character, Python folds it too;
            // `İ` is the one Python folds whose full lower case is two characters (`i̇`).
            let single_ascii = |mapped: String| mapped.len() == 1 && mapped.is_ascii();
            if single_ascii(c.to_lowercase().collect()) || single_ascii(c.to_uppercase().collect())
            {
                assert!(expected.is_some(), "U+{:04X}", c as u32);
            }
        }
    }

    #[test]
    fn the_trigram_path_finds_what_every_position_finds_in_the_folded_name() {
        // Generated names of pieces of terms, separators, the folded letters and other
        // characters beyond ASCII; the plain search (every term at every position of the
        // folded name) is the reference for the table's, which folds only when it meets a
        // byte beyond ASCII.
        const PIECES: &[&str] = &[
            "pa", "ss", "SS", "word", "\u{17F}", "\u{212A}", "\u{130}", "\u{131}", "ey", "EY",
            "ap", "AP", "sso", "dsn", "Pwd", "otp", "_", "-", ".", "x", "é", "ü", "€", "🔑", "tok",
            "en", "sec", "ret", "sion", "ignature", "S", "K", "I", "i",
        ];
        let matcher = &rules().terms;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut name = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut draw = seed;
            for _ in 0..(draw % 7 + 1) {
                draw /= 7;
                name.push_str(PIECES[(draw % PIECES.len() as u64) as usize]);
                draw /= PIECES.len() as u64;
            }
            let reference = matcher.check_every_position(fold_like_python(&name).as_bytes());
            assert_eq!(matcher.check(&name), reference, "{name:?}");
        }
    }
}
