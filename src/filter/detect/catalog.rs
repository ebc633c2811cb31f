//! The credential catalog: token formats of public services ([`FORMATS`]), found by a
//! literal each one carries and checked against the whole token's shape and entropy.
//!
//! One multi-literal search looks for every anchor at once; only where an anchor is found
//! does a format's pattern run, anchored at the token's start, so the catalog costs one pass
//! over a text however many formats it holds. A token must stand alone: the byte before it
//! and the byte after it are not letters, digits, `_` or `-`, so a longer word that merely
//! contains a prefix stays visible, and a match never cuts a token in two.

use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;

use super::Span;
pub(crate) use super::formats::FORMATS;
use crate::filter::Rule;

/// One token format of a public service. The names and the near miss are read by the
/// generated documentation and the tests.
#[derive(Debug)]
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "read by the documentation generator and the tests"
    )
)]
pub(crate) struct Format {
    /// A stable, unique identifier (`github-classic-pat`).
    pub(crate) id: &'static str,
    /// The service, as its vendor names it.
    pub(crate) service: &'static str,
    /// What the token is (`personal access token`).
    pub(crate) what: &'static str,
    pub(crate) family: Family,
    pub(crate) anchor: Anchor,
    /// The whole token: no `^`, `$`, `\b` or capture groups.
    pub(crate) pattern: &'static str,
    /// The least Shannon entropy (bits per character) of a real token, after its prefix
    /// literal if it has one; placeholders such as
    /// `AKIAXXXXXXXXXXXXXXXX` fall below it.
    pub(crate) min_entropy: f32,
    /// Text that looks like the format but is not a token; tests check it stays visible.
    pub(crate) near_miss: &'static str,
}

/// How a format is found before its pattern runs.
#[derive(Debug)]
pub(crate) enum Anchor {
    /// The token starts with this literal.
    Prefix(&'static str),
    /// The token holds this literal past its start.
    Inside(&'static str),
    /// The token has no literal of its own and counts only right after one of these names
    /// (matched without regard to ASCII case) and an assignment operator.
    Keyword(&'static [&'static str]),
}

/// The kind of service a format belongs to, for the catalog's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Family {
    Cloud,
    SourceAndCi,
    Registry,
    Payments,
    Messaging,
    Ai,
    Observability,
    Identity,
    Saas,
    Infrastructure,
    Database,
    Other,
}

impl Family {
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "read by the documentation generator")
    )]
    pub(crate) fn label(self) -> &'static str {
        match self {
            Family::Cloud => "Cloud providers",
            Family::SourceAndCi => "Source hosting and CI",
            Family::Registry => "Package registries",
            Family::Payments => "Payments",
            Family::Messaging => "Messaging and mail",
            Family::Ai => "AI providers",
            Family::Observability => "Observability",
            Family::Identity => "Identity and secret managers",
            Family::Saas => "SaaS",
            Family::Infrastructure => "Infrastructure",
            Family::Database => "Databases",
            Family::Other => "Other",
        }
    }
}

/// The shortest text a catalog token fits in; a unit test checks it against every
/// pattern's shortest match.
pub(super) const MIN_TOKEN: usize = 13;

/// The longest token looked at; AWS session tokens run to about 2,000 characters.
const MAX_TOKEN: usize = 8 * 1024;

/// How far before a value its name may end (`"aws_secret_access_key" => "`).
const MAX_OPERATOR: usize = 8;

/// Literals of one kind of anchor, found by their first two bytes.
struct Anchors {
    /// Per byte: whether a literal starts with it. Tested before [`Anchors::pairs`] where
    /// every position of a run is a candidate: one load rejects most of them.
    firsts: [bool; 256],
    /// One bit per pair of bytes that starts a literal (65,536 bits).
    pairs: Box<[u64; 1024]>,
    /// The literals sorted by their first two bytes, each with the formats it anchors.
    literals: Vec<(u16, &'static [u8], Vec<usize>)>,
}

impl Anchors {
    fn new(literals: impl Iterator<Item = (&'static str, usize)>) -> Self {
        let mut found: Vec<(u16, &'static [u8], Vec<usize>)> = Vec::new();
        for (literal, format) in literals {
            let literal = literal.as_bytes();
            match found.iter_mut().find(|(_, known, _)| *known == literal) {
                Some((_, _, formats)) => formats.push(format),
                None => found.push((pair(literal), literal, vec![format])),
            }
        }
        found.sort_by_key(|&(key, literal, _)| (key, std::cmp::Reverse(literal.len())));
        let mut pairs = Box::new([0u64; 1024]);
        let mut firsts = [false; 256];
        for &(key, _, _) in &found {
            pairs[usize::from(key >> 6)] |= 1 << (key & 63);
            firsts[usize::from(key >> 8)] = true;
        }
        Self {
            firsts,
            pairs,
            literals: found,
        }
    }

    /// Whether a literal may start at `bytes[at..]` (its first two bytes do).
    #[inline(always)]
    fn may_start(&self, bytes: &[u8], at: usize) -> bool {
        let key = pair(&bytes[at..]);
        self.pairs[usize::from(key >> 6)] & (1 << (key & 63)) != 0
    }

    /// The formats of the literals that start at `bytes[at..]`.
    fn at(&self, bytes: &[u8], at: usize) -> impl Iterator<Item = (&'static [u8], &[usize])> {
        let key = pair(&bytes[at..]);
        let from = self.literals.partition_point(|&(known, _, _)| known < key);
        self.literals[from..]
            .iter()
            .take_while(move |&&(known, _, _)| known == key)
            .filter(move |&&(_, literal, _)| bytes[at..].starts_with(literal))
            .map(|(_, literal, formats)| (*literal, formats.as_slice()))
    }
}

/// The first two bytes of `bytes` (callers pass at least two).
fn pair(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

/// What every webhook URL literal of the catalog holds.
pub(super) const WEBHOOK: &[u8] = b"hook";

/// The compiled catalog: the anchors and, built on first use, each pattern.
struct Catalog {
    prefixes: Anchors,
    insides: Anchors,
    /// The shortest token of a format with an `Inside` anchor: shorter runs skip them.
    shortest_inside: usize,
    /// The `Inside` literals that end a webhook URL's host and path
    /// (`hooks.slack.com/services/`), with their formats: what follows them is known to be
    /// secret by this context alone. Each holds [`WEBHOOK`], at the offset kept beside it.
    url_paths: Vec<(&'static [u8], usize, Vec<usize>)>,
    /// The keywords of `Keyword` formats, without regard to ASCII case.
    keywords: AhoCorasick,
    /// Per keyword: its format.
    by_keyword: Vec<usize>,
    /// Per format: its pattern, anchored at the start of what it is run on.
    anchored: Vec<OnceLock<Regex>>,
    /// Per format: its pattern, unanchored (for `Inside` formats).
    unanchored: Vec<OnceLock<Regex>>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::new);

impl Catalog {
    fn new() -> Self {
        let anchors = |inside: bool| {
            FORMATS
                .iter()
                .enumerate()
                .filter_map(move |(index, format)| match format.anchor {
                    Anchor::Prefix(literal) if !inside => Some((literal, index)),
                    Anchor::Inside(literal) if inside => Some((literal, index)),
                    _ => None,
                })
        };
        let mut keywords: Vec<&'static str> = Vec::new();
        let mut by_keyword = Vec::new();
        for (index, format) in FORMATS.iter().enumerate() {
            if let Anchor::Keyword(words) = format.anchor {
                for &word in words {
                    keywords.push(word);
                    by_keyword.push(index);
                }
            }
        }
        let insides = Anchors::new(anchors(true));
        let url_paths = insides
            .literals
            .iter()
            .filter(|(_, literal, _)| literal.ends_with(b"/"))
            .map(|(_, literal, formats)| {
                let hook = memchr::memmem::find(literal, WEBHOOK).unwrap_or(0);
                (*literal, hook, formats.clone())
            })
            .collect();
        let keywords = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&keywords)
            .expect("catalog keywords are plain literals");
        Self {
            prefixes: Anchors::new(anchors(false)),
            insides,
            url_paths,
            shortest_inside: FORMATS
                .iter()
                .filter(|format| matches!(format.anchor, Anchor::Inside(_)))
                .map(|format| shortest_match(format.pattern))
                .min()
                .unwrap_or(usize::MAX),
            keywords,
            by_keyword,
            anchored: FORMATS.iter().map(|_| OnceLock::new()).collect(),
            unanchored: FORMATS.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    fn anchored(&self, format: usize) -> &Regex {
        self.anchored[format].get_or_init(|| {
            Regex::new(&format!("^(?:{})", FORMATS[format].pattern))
                .expect("catalog patterns are valid")
        })
    }

    fn unanchored(&self, format: usize) -> &Regex {
        self.unanchored[format].get_or_init(|| {
            Regex::new(FORMATS[format].pattern).expect("catalog patterns are valid")
        })
    }
}

/// The length of the shortest text `pattern` matches.
fn shortest_match(pattern: &str) -> usize {
    regex_syntax::parse(pattern)
        .ok()
        .and_then(|hir| hir.properties().minimum_len())
        .unwrap_or(0)
}

/// Whether `byte` continues a token: a token next to one of these is part of a longer word.
fn joins(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// Per byte: whether it can be part of a catalog token (letters, digits and the symbols
/// the patterns use). Anything else ends a token.
pub(super) const TOKEN_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_alphanumeric();
        byte += 1;
    }
    let symbols = b"!$%+-./:=@_|~";
    let mut index = 0;
    while index < symbols.len() {
        table[symbols[index] as usize] = true;
        index += 1;
    }
    table
};

/// What the caller already knows about a text, so that the scan can skip work.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Every byte is a token byte: the text is one run.
    pub(super) one_run: bool,
    /// The text holds a `=`, `:` or `/`.
    pub(super) separators: bool,
    /// The text is not shown ([`super::TextKind::LookupOnly`]): only secrets known by their
    /// context are looked for (the path after a webhook URL's host), since every other
    /// format is recognised by its shape wherever else it appears.
    pub(super) context_only: bool,
}

impl Shape {
    /// Nothing known.
    pub(super) const ANY: Shape = Shape {
        one_run: false,
        separators: true,
        context_only: false,
    };
}

/// Appends the catalog tokens in `text` to `spans`.
///
/// A token starts where a run of token bytes starts, or right after a `=`, `:` or `/`
/// inside one (`key=…`, `user:…`, `/path/…`); the bytes `_`, `-` and `.` join the parts of
/// names and paths, so nothing is looked for after them.
pub(super) fn scan(text: &str, shape: Shape, spans: &mut Vec<Span>) {
    scan_with(text, shape, spans, |_, _, _| {});
}

/// As [`scan`], calling `also` with the start and end of every run of token bytes read
/// (not in a text of [`Shape::context_only`]): another detector whose tokens lie in such
/// runs reads them without searching for them again.
pub(super) fn scan_with(
    text: &str,
    shape: Shape,
    spans: &mut Vec<Span>,
    mut also: impl FnMut(usize, usize, &mut Vec<Span>),
) {
    let catalog = &*CATALOG;
    let bytes = text.as_bytes();
    if shape.context_only {
        if shape.separators {
            for hook in memchr::memmem::find_iter(bytes, WEBHOOK) {
                for (literal, offset, formats) in &catalog.url_paths {
                    let Some(at) = hook.checked_sub(*offset) else {
                        continue;
                    };
                    if bytes[at..].starts_with(literal) {
                        for &format in formats {
                            inside(catalog, format, literal, text, at, spans);
                        }
                    }
                }
            }
        }
        return;
    }
    let mut each_run = |start: usize, end: usize, spans: &mut Vec<Span>| {
        also(start, end, spans);
        if catalog.prefixes.may_start(bytes, start) {
            prefixes_at(catalog, text, start, spans);
        }
        if end - start >= catalog.shortest_inside {
            for at in start..end - 1 {
                // The first byte alone rejects most positions (`may_start` implies it).
                if catalog.insides.firsts[usize::from(bytes[at])]
                    && catalog.insides.may_start(bytes, at)
                {
                    insides_at(catalog, text, at, spans);
                }
            }
        }
    };
    if shape.one_run {
        if bytes.len() >= MIN_TOKEN {
            each_run(0, bytes.len(), spans);
        }
    } else {
        token_runs(bytes, |start, end| each_run(start, end, spans));
    }
    if bytes.len() < MIN_TOKEN || !shape.separators {
        return;
    }
    for separator in memchr::memchr3_iter(b'=', b':', b'/', bytes) {
        let at = separator + 1;
        if at + MIN_TOKEN > bytes.len() {
            break;
        }
        if catalog.prefixes.may_start(bytes, at) {
            prefixes_at(catalog, text, at, spans);
        }
        if bytes[separator] != b'/' {
            keyword_value(catalog, text, at, spans);
        }
    }
}

#[inline(never)]
fn prefixes_at(catalog: &Catalog, text: &str, at: usize, spans: &mut Vec<Span>) {
    for (_, formats) in catalog.prefixes.at(text.as_bytes(), at) {
        for &format in formats {
            prefixed(catalog, format, text, at, spans);
        }
    }
}

#[inline(never)]
fn insides_at(catalog: &Catalog, text: &str, at: usize, spans: &mut Vec<Span>) {
    for (literal, formats) in catalog.insides.at(text.as_bytes(), at) {
        for &format in formats {
            inside(catalog, format, literal, text, at, spans);
        }
    }
}

/// Calls `each` with the start and end of every run of [`TOKEN_BYTE`]s at least
/// [`MIN_TOKEN`] long: every token lies in one. Any `MIN_TOKEN` consecutive positions hold
/// one multiple of `MIN_TOKEN` (counted from where the search resumes), so only every
/// `MIN_TOKEN`th byte is looked at until one is a token byte; prose and short values cost
/// about one test per word.
fn token_runs(bytes: &[u8], mut each: impl FnMut(usize, usize)) {
    let mut at = MIN_TOKEN - 1;
    while at < bytes.len() {
        if !TOKEN_BYTE[usize::from(bytes[at])] {
            at += MIN_TOKEN;
            continue;
        }
        let mut start = at;
        while start > 0 && TOKEN_BYTE[usize::from(bytes[start - 1])] {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && TOKEN_BYTE[usize::from(bytes[end])] {
            end += 1;
        }
        if end - start >= MIN_TOKEN {
            each(start, end);
        }
        // `bytes[end]` ends the run: a later run starts after it.
        at = end + MIN_TOKEN;
    }
}

/// A token of a keyword format in the value after the `=` or `:` that ends right before
/// `after`, assigned to a name that ends with one of the format's keywords.
fn keyword_value(catalog: &Catalog, text: &str, after: usize, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut value = after;
    let limit = (after + MAX_OPERATOR).min(bytes.len());
    // `=>`, `:=` and the blanks and quote before the value.
    while value < limit && matches!(bytes[value], b'>' | b'=' | b' ' | b'\t' | b'"' | b'\'') {
        value += 1;
    }
    if value >= bytes.len() || !TOKEN_BYTE[usize::from(bytes[value])] {
        return;
    }
    let Some((name_start, name_end)) = name_before(bytes, value) else {
        return;
    };
    let name = &text[name_start..name_end];
    for found in catalog.keywords.find_overlapping_iter(name) {
        // The keyword ends the name and starts it or follows a non-letter
        // (`MY_AWS_SECRET_ACCESS_KEY`).
        if found.end() != name.len()
            || (found.start() > 0 && name.as_bytes()[found.start() - 1].is_ascii_alphanumeric())
        {
            continue;
        }
        let format = catalog.by_keyword[found.pattern().as_usize()];
        prefixed(catalog, format, text, value, spans);
    }
}

/// The name a value starting at `value` is assigned to: before it an opening quote and
/// blanks, an operator (`=`, `:`, `=>`, `:=`, `->`), blanks, a closing quote and the name.
fn name_before(bytes: &[u8], value: usize) -> Option<(usize, usize)> {
    let floor = value.saturating_sub(MAX_OPERATOR);
    let mut at = value;
    while at > floor && matches!(bytes[at - 1], b' ' | b'\t' | b'"' | b'\'') {
        at -= 1;
    }
    let before = &bytes[floor..at];
    if before.ends_with(b"=>") || before.ends_with(b":=") || before.ends_with(b"->") {
        at -= 2;
    } else if before.ends_with(b"=") || before.ends_with(b":") {
        at -= 1;
    } else {
        return None;
    }
    while at > floor && matches!(bytes[at - 1], b' ' | b'\t') {
        at -= 1;
    }
    if at > 0 && matches!(bytes[at - 1], b'"' | b'\'') {
        at -= 1;
    }
    let name_end = at;
    while at > 0
        && name_end - at < 100
        && (bytes[at - 1].is_ascii_alphanumeric() || matches!(bytes[at - 1], b'_' | b'-' | b'.'))
    {
        at -= 1;
    }
    (at < name_end).then_some((at, name_end))
}

/// The end of the text a token starting at `start` may reach, on a character boundary.
fn reach(text: &str, start: usize) -> usize {
    let mut end = (start + MAX_TOKEN).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// A token of `format` starting at `start`, where a literal it starts with was found.
fn prefixed(catalog: &Catalog, format: usize, text: &str, start: usize, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
        return;
    }
    // The literal a token starts with says nothing of its randomness.
    let random_from = match FORMATS[format].anchor {
        Anchor::Prefix(literal) => start + literal.len(),
        Anchor::Inside(_) | Anchor::Keyword(_) => start,
    };
    if let Some(found) = catalog
        .anchored(format)
        .find(&text[start..reach(text, start)])
    {
        accept(
            format,
            bytes,
            start,
            random_from,
            start + found.end(),
            spans,
        );
    }
}

/// A token of `format` holding the literal found at `at`: the pattern runs over the word
/// around it, and a match that covers the literal counts.
fn inside(
    catalog: &Catalog,
    format: usize,
    literal: &[u8],
    text: &str,
    at: usize,
    spans: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    let delimits = |byte: u8| {
        byte.is_ascii_whitespace()
            || matches!(
                byte,
                b'"' | b'\'' | b'`' | b'<' | b'>' | b',' | b';' | b'(' | b')' | b'[' | b']'
            )
    };
    let mut from = at;
    while from > 0 && at - from < MAX_TOKEN && !delimits(bytes[from - 1]) {
        from -= 1;
    }
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let to = reach(text, at);
    for found in catalog.unanchored(format).find_iter(&text[from..to]) {
        let (start, end) = (from + found.start(), from + found.end());
        if start > at {
            break;
        }
        if end < at + literal.len() {
            continue;
        }
        if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        // A webhook URL keeps its host and path visible; what follows the path is the secret,
        // to the end of the URL's path whatever is glued to it.
        let (hide_from, end) = if literal.ends_with(b"/") {
            let mut end = end;
            while bytes
                .get(end)
                .is_some_and(|&byte| joins(byte) || byte == b'/')
            {
                end += 1;
            }
            (at + literal.len(), end)
        } else {
            (start, end)
        };
        if accept(format, bytes, start, hide_from, end, spans)
            && let Some(last) = spans.last_mut()
        {
            last.start = hide_from;
        }
        break;
    }
}

/// Records `bytes[start..end]` as a token of `format` when nothing joins it after its end
/// and `bytes[random_from..end]` is random enough; `=` padding after it is hidden with it.
fn accept(
    format: usize,
    bytes: &[u8],
    start: usize,
    random_from: usize,
    end: usize,
    spans: &mut Vec<Span>,
) -> bool {
    if end == start || bytes.get(end).is_some_and(|&byte| joins(byte)) {
        return false;
    }
    if shannon_entropy(&bytes[random_from.min(end)..end]) < FORMATS[format].min_entropy {
        return false;
    }
    let mut end = end;
    while bytes.get(end) == Some(&b'=') {
        end += 1;
    }
    // In a URL or a cookie the token may go on percent-encoded (`%2F`, `%2B`, `%3D`): the
    // rest of the component is the token too.
    if is_escape(bytes, end) {
        while end < bytes.len()
            && (is_escape(bytes, end)
                || bytes[end].is_ascii_alphanumeric()
                || matches!(bytes[end], b'-' | b'_' | b'.' | b'~' | b'+'))
        {
            end += if bytes[end] == b'%' { 3 } else { 1 };
        }
    }
    spans.push(Span {
        start,
        end,
        rule: Rule::KnownKeyFormat,
    });
    true
}

/// Whether a percent-escape (`%2F`) starts at `at`.
fn is_escape(bytes: &[u8], at: usize) -> bool {
    bytes.get(at) == Some(&b'%')
        && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
        && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
}

/// Shannon entropy of `bytes` in bits per byte.
pub(super) fn shannon_entropy(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &byte in bytes {
        counts[usize::from(byte)] += 1;
    }
    let total = bytes.len() as f32;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let share = count as f32 / total;
            -share * share.log2()
        })
        .sum()
}
