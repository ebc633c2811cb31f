//! The catalog checked against itself: every format well formed, tokens generated from each
//! pattern hidden whole in every context, each near miss left visible, and the generated
//! documentation and token corpus current.

use std::collections::HashSet;
use std::fmt::Write as _;

use regex_syntax::hir::{Class, Hir, HirKind};

use super::Span;
use super::catalog::{self, Anchor, FORMATS, Family, Format};

/// A small deterministic generator (splitmix64), so that generated tokens are the same on
/// every run and a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

fn parse(pattern: &str) -> Hir {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .unwrap_or_else(|error| panic!("{pattern}: {error}"))
}

/// A string matching `hir`, each character of a class equally likely (as in real tokens).
fn generate(hir: &Hir, rng: &mut Rng, out: &mut String) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(std::str::from_utf8(&literal.0).unwrap()),
        HirKind::Class(Class::Unicode(class)) => {
            let size = |range: &regex_syntax::hir::ClassUnicodeRange| {
                u64::from(range.end()) - u64::from(range.start()) + 1
            };
            let mut pick = rng.below(class.ranges().iter().map(size).sum());
            for range in class.ranges() {
                if pick < size(range) {
                    out.push(char::from_u32(range.start() as u32 + pick as u32).unwrap());
                    return;
                }
                pick -= size(range);
            }
        }
        HirKind::Class(Class::Bytes(_)) => panic!("catalog patterns are Unicode"),
        HirKind::Repetition(repetition) => {
            let max = repetition.max.unwrap_or(repetition.min + 40);
            let count = repetition.min + rng.below(u64::from(max - repetition.min) + 1) as u32;
            for _ in 0..count {
                generate(&repetition.sub, rng, out);
            }
        }
        HirKind::Capture(capture) => generate(&capture.sub, rng, out),
        HirKind::Concat(parts) => parts.iter().for_each(|part| generate(part, rng, out)),
        HirKind::Alternation(alternatives) => {
            let pick = rng.below(alternatives.len() as u64) as usize;
            generate(&alternatives[pick], rng, out);
        }
    }
}

/// Tokens of `format`, the same on every run.
pub(crate) fn tokens(format: &Format, count: usize) -> Vec<String> {
    let hir = parse(format.pattern);
    let mut rng = Rng(format.id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    }));
    let mut tokens = Vec::new();
    while tokens.len() < count {
        let mut token = String::new();
        generate(&hir, &mut rng, &mut token);
        // A generated token can be as repetitive as a placeholder; real ones are not.
        let random = match format.anchor {
            Anchor::Prefix(literal) => &token[literal.len()..],
            Anchor::Inside(_) | Anchor::Keyword(_) => &token,
        };
        if catalog::shannon_entropy(random.as_bytes()) >= format.min_entropy {
            tokens.push(token);
        }
    }
    tokens
}

/// Where a token of `format` is placed and the part of it that must be hidden.
fn hidden_part(format: &Format, token: &str) -> (usize, usize) {
    match format.anchor {
        Anchor::Inside(literal) if literal.ends_with('/') => {
            let at = token.find(literal).expect("the token holds its anchor");
            (at + literal.len(), token.len())
        }
        _ => (0, token.len()),
    }
}

fn catalog_spans(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    catalog::scan(text, catalog::Shape::ANY, &mut spans);
    super::merge(&mut spans);
    spans
}

fn covered(spans: &[Span], start: usize, end: usize) -> bool {
    spans
        .iter()
        .any(|span| span.start <= start && span.end >= end)
}

#[test]
fn every_format_is_well_formed() {
    let mut ids = HashSet::new();
    assert!(FORMATS.len() >= 200, "{} formats", FORMATS.len());
    for format in FORMATS {
        assert!(ids.insert(format.id), "{} twice", format.id);
        assert!(
            format
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}: ids are kebab-case",
            format.id
        );
        assert!(!format.service.is_empty() && !format.what.is_empty());
        let hir = parse(format.pattern);
        let shortest = hir.properties().minimum_len().unwrap_or(0);
        assert!(
            shortest >= catalog::MIN_TOKEN,
            "{}: shortest match {shortest} is under MIN_TOKEN",
            format.id
        );
        assert!(
            hir.properties().look_set().is_empty(),
            "{}: no anchors or word boundaries in patterns",
            format.id
        );
        assert_eq!(
            hir.properties().explicit_captures_len(),
            0,
            "{}: no capture groups",
            format.id
        );
        match format.anchor {
            Anchor::Prefix(literal) => {
                for token in tokens(format, 4) {
                    assert!(token.starts_with(literal), "{}: {token}", format.id);
                }
            }
            Anchor::Inside(literal) => {
                if literal.ends_with('/') {
                    assert!(
                        literal.as_bytes().windows(4).any(|w| w == catalog::WEBHOOK),
                        "{}: a URL path literal holds `hook`",
                        format.id
                    );
                }
                for token in tokens(format, 4) {
                    assert!(token.contains(literal), "{}: {token}", format.id);
                }
            }
            Anchor::Keyword(words) => {
                assert!(!words.is_empty());
                for word in words {
                    assert!(
                        word.bytes().all(|b| !b.is_ascii_uppercase()),
                        "{}: keywords are lower case",
                        format.id
                    );
                }
            }
        }
    }
}

/// Every byte `hir` can match.
fn bytes_matched(hir: &Hir, out: &mut HashSet<u8>) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.extend(literal.0.iter().copied()),
        HirKind::Class(Class::Unicode(class)) => {
            for range in class.ranges() {
                out.extend((range.start()..=range.end()).filter_map(|c| u8::try_from(c).ok()));
            }
        }
        HirKind::Class(Class::Bytes(class)) => {
            for range in class.ranges() {
                out.extend(range.start()..=range.end());
            }
        }
        HirKind::Repetition(repetition) => bytes_matched(&repetition.sub, out),
        HirKind::Capture(capture) => bytes_matched(&capture.sub, out),
        HirKind::Concat(parts) | HirKind::Alternation(parts) => {
            parts.iter().for_each(|part| bytes_matched(part, out));
        }
    }
}

#[test]
fn every_byte_of_every_token_continues_a_run() {
    for format in FORMATS {
        let mut bytes = HashSet::new();
        bytes_matched(&parse(format.pattern), &mut bytes);
        // A comma separates the tokens of a list (Fly.io macaroons), each found on its own.
        bytes.remove(&b',');
        for byte in bytes {
            assert!(
                catalog::TOKEN_BYTE[usize::from(byte)],
                "{}: {:?} can be part of a token",
                format.id,
                char::from(byte)
            );
        }
    }
}

/// The contexts a token is placed in: alone, in prose, quoted, as a query parameter, in
/// JSON and YAML, after a header name; a keyword format only after one of its names.
fn contexts(format: &Format, token: &str) -> Vec<(String, usize)> {
    match format.anchor {
        Anchor::Keyword(words) => {
            let mut placed = Vec::new();
            for (index, word) in words.iter().enumerate() {
                let word = if index % 2 == 1 {
                    word.to_ascii_uppercase()
                } else {
                    (*word).to_owned()
                };
                for (before, after) in [
                    (format!("{word}="), ""),
                    (format!("export {word}=\""), "\""),
                    (format!("\"{word}\": \""), "\", \"x\": 1"),
                    (format!("{word}: "), "\n"),
                    (format!("MY_{word} = '"), "'"),
                ] {
                    placed.push((format!("{before}{token}{after}"), before.len()));
                }
            }
            placed
        }
        Anchor::Prefix(_) | Anchor::Inside(_) => [
            ("", ""),
            ("value ", "."),
            ("\"", "\""),
            ("https://example.com/?q=", "&page=2"),
            ("{\"value\": \"", "\"}"),
            ("note: ", "\n"),
            ("X-Debug-Info: ", "\r\n"),
            ("(", ")"),
        ]
        .iter()
        .map(|(before, after)| (format!("{before}{token}{after}"), before.len()))
        .collect(),
    }
}

#[test]
fn generated_tokens_are_hidden_whole_in_every_context() {
    let mut failures = Vec::new();
    for format in FORMATS {
        for token in tokens(format, 12) {
            let (from, to) = hidden_part(format, &token);
            for (text, at) in contexts(format, &token) {
                let spans = catalog_spans(&text);
                if !covered(&spans, at + from, at + to) {
                    failures.push(format!("{}: {text:?} -> {spans:?}", format.id));
                }
            }
        }
    }
    let mut formats: Vec<&str> = failures
        .iter()
        .map(|failure| failure.split(':').next().unwrap_or_default())
        .collect();
    formats.dedup();
    assert!(
        failures.is_empty(),
        "{} misses in {formats:?}:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn near_misses_stay_visible() {
    let mut failures = Vec::new();
    for format in FORMATS {
        let spans = catalog_spans(format.near_miss);
        if !spans.is_empty() {
            failures.push(format!("{}: {:?}", format.id, format.near_miss));
        }
    }
    assert!(failures.is_empty(), "hidden:\n{}", failures.join("\n"));
}

#[test]
fn a_token_inside_a_longer_word_stays_visible() {
    for format in FORMATS {
        if let Anchor::Prefix(_) = format.anchor {
            let text = format!("x{}", tokens(format, 1)[0]);
            let spans = catalog_spans(&text);
            // A token made of several parts (a comma-separated macaroon list) may hold
            // another token later on; its start must stay visible.
            assert!(
                spans.iter().all(|span| span.start > 2),
                "{}: {text:?} -> {spans:?}",
                format.id
            );
        }
    }
}

/// The catalog as Markdown: a table per family.
fn catalog_markdown() -> String {
    let mut families: Vec<Family> = FORMATS.iter().map(|format| format.family).collect();
    families.sort();
    families.dedup();
    let mut out = String::new();
    writeln!(
        out,
        "# Credential formats\n\n\
         <!-- Generated from src/filter/detect/formats.rs by `cargo test --lib catalog`; \
         do not edit. -->\n\n\
         The default filter recognises {} token formats of public services by their shape \
         alone, wherever they appear in a report: a literal each format carries (its \
         *anchor*), then the whole token's pattern, then the least entropy a real token has. \
         A token must stand alone: a letter, digit, `_` or `-` right before or after it \
         makes it part of a longer word, which stays visible. Formats without a literal of \
         their own count only after one of their key names. Each is switched off with \
         the others by `Detector::KnownKeyFormat`.\n",
        FORMATS.len()
    )
    .unwrap();
    for family in families {
        writeln!(out, "## {}\n", family.label()).unwrap();
        writeln!(
            out,
            "| Service | Token | Anchor | Rule id |\n|---|---|---|---|"
        )
        .unwrap();
        for format in FORMATS.iter().filter(|format| format.family == family) {
            let anchor = match format.anchor {
                Anchor::Prefix(literal) => format!("starts with `{literal}`"),
                Anchor::Inside(literal) => format!("holds `{literal}`"),
                Anchor::Keyword(words) => format!("after `{}`", words.join("`, `")),
            };
            writeln!(
                out,
                "| {} | {} | {} | `{}` |",
                format.service.replace('|', "\\|"),
                format.what.replace('|', "\\|"),
                anchor.replace('|', "\\|"),
                format.id
            )
            .unwrap();
        }
        out.push('\n');
    }
    out
}

/// Generated files are rewritten with `SAFE_REPORT_BLESS=1`; otherwise they must match.
fn check_generated(path: &str, expected: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("SAFE_REPORT_BLESS").is_some() {
        std::fs::write(&path, expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is out of date: run `SAFE_REPORT_BLESS=1 cargo test --lib catalog`",
        path.display()
    );
}

#[test]
fn the_catalog_page_is_current() {
    check_generated("docs/credential-formats.md", &catalog_markdown());
}

/// The README's list: per family, its services.
fn readme_list() -> String {
    let mut families: Vec<Family> = FORMATS.iter().map(|format| format.family).collect();
    families.sort();
    families.dedup();
    let mut out = format!("{} formats:\n\n", FORMATS.len());
    for family in families {
        let mut services: Vec<&str> = Vec::new();
        for format in FORMATS.iter().filter(|format| format.family == family) {
            if !services.contains(&format.service) {
                services.push(format.service);
            }
        }
        writeln!(out, "- **{}**: {}", family.label(), services.join(", ")).unwrap();
    }
    out
}

#[test]
fn the_readme_list_is_current() {
    const START: &str = "<!-- credential-catalog:start -->\n";
    const END: &str = "<!-- credential-catalog:end -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme.find(START).expect("README marks the list's start") + START.len();
    let end = readme.find(END).expect("README marks the list's end");
    let expected = format!("{}{}{}", &readme[..start], readme_list(), &readme[end..]);
    check_generated("README.md", &expected);
}

/// Generated tokens and near misses for the tests outside the crate, one line each:
/// `id<TAB>anchor kind<TAB>characters that may stay visible<TAB>token` (a webhook URL's
/// host and path stay) and `id<TAB>near miss`.
#[test]
fn the_token_corpus_is_current() {
    let mut tokens_out = String::new();
    let mut near_out = String::new();
    for format in FORMATS {
        let kind = match format.anchor {
            Anchor::Prefix(_) => "prefix",
            Anchor::Inside(_) => "inside",
            Anchor::Keyword(_) => "keyword",
        };
        for token in tokens(format, 3) {
            let (visible, _) = hidden_part(format, &token);
            writeln!(tokens_out, "{}\t{kind}\t{visible}\t{token}", format.id).unwrap();
        }
        writeln!(near_out, "{}\t{}", format.id, format.near_miss).unwrap();
    }
    check_generated("tests/data/credential-tokens.tsv", &tokens_out);
    check_generated("tests/data/credential-near-misses.tsv", &near_out);
}

/// The same tokens through the whole scan, whose prefilter tells the catalog what it saw
/// (short texts and long ones take different paths).
#[test]
fn generated_tokens_are_hidden_by_the_whole_scan() {
    use super::super::names::{NameRuleConfig, NameRules};
    use super::{DetectorSet, TextKind};
    let names = NameRules::new(&NameRuleConfig::default());
    let mut failures = Vec::new();
    for format in FORMATS {
        for token in tokens(format, 4) {
            let (from, to) = hidden_part(format, &token);
            let long = "lorem ipsum ".repeat(12);
            let alone = match format.anchor {
                Anchor::Keyword(_) => None,
                Anchor::Prefix(_) | Anchor::Inside(_) => {
                    Some((format!("{long}{token} {long}"), long.len()))
                }
            };
            for (text, at) in contexts(format, &token).into_iter().chain(alone) {
                let mut spans = Vec::new();
                super::scan(
                    &text,
                    TextKind::Free,
                    DetectorSet::ALL,
                    &names,
                    "***",
                    &mut spans,
                );
                super::merge(&mut spans);
                if !covered(&spans, at + from, at + to) {
                    failures.push(format!("{}: {text:?}", format.id));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
