use super::super::names::{NameRuleConfig, NameRules};
use super::cards::{card_runs, next_four_digits};
use super::*;
use crate::limits::REVERSE_LOOKUP_MIN_CHARS;

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
    widen(text, &mut spans, |_| {});
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
        assert!(hidden("-----BEGIN PRIVATE KEY-----\nMIIabc"));
        assert!(hidden(
            "https://hooks.slack.com/services/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"
        ));
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
        scrub("gh ghp_R2d4Kq9Zx7LmP3vT8wYb1Nc6Hs5Jf0Ga2Ue4"),
        format!("gh {SUB}")
    );
    assert_eq!(
        scrub("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        format!("stripe {SUB}")
    );
    assert_eq!(
        scrub("slack xoxb-123456789012-1234567890123-Rk3vLmZ2pT9wXn4sYb7Hc1qA"),
        format!("slack {SUB}")
    );
    assert_eq!(
        scrub("https://hooks.slack.com/services/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"),
        format!("https://hooks.slack.com/services/{SUB}")
    );
    // Placeholders from vendors' documentation are not random enough to be tokens.
    assert_eq!(
        scrub(&format!("gh ghp_{}", "a".repeat(36))),
        format!("gh ghp_{}", "a".repeat(36))
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

/// `text` with `secret` hidden, `secret` appearing once in it.
fn hides_exactly(text: &str, secret: &str) {
    let expected = text.replacen(secret, SUB, 1);
    assert_eq!(scrub(text), expected, "in {text:?}");
    // The same inside a long text (the other search path).
    let padding = "lorem ipsum ".repeat(12);
    let long = format!("{padding}{text}\n{padding}");
    assert_eq!(scrub(&long), long.replacen(secret, SUB, 1), "long {text:?}");
}

#[test]
fn assignments_hide_the_whole_value_in_every_syntax() {
    for (text, secret) in [
        ("password=s3cr3t-Value", "s3cr3t-Value"),
        ("password: s3cr3t-Value", "s3cr3t-Value"),
        (r#"{"password": "s3cr3t-Value"}"#, "s3cr3t-Value"),
        (
            r#""onePasswordToken" => "A3-XYZ123-ABCDEF""#,
            "A3-XYZ123-ABCDEF",
        ),
        ("'api_key' => 'k/ey+v}al=ue'", "k/ey+v}al=ue"),
        (r#"var azureClientSecret := "Zq8~abc.def""#, "Zq8~abc.def"),
        ("azureClientSecret := Zq8abcdef", "Zq8abcdef"),
        ("password <- 'r-s3cret'", "r-s3cret"),
        ("db:\n  password: ab}c/d=e+f\n  host: x", "ab}c/d=e+f"),
        ("[db]\npassword = \"ab}c/d=e+f\"\nport = 5432", "ab}c/d=e+f"),
        ("[db]\npassword = ab}c/d=e+f\nport = 5432", "ab}c/d=e+f"),
        ("DB_PASSWORD=ab}c/d=e+f\nDEBUG=1", "ab}c/d=e+f"),
        ("export API_TOKEN=ab}c/d=e+f", "ab}c/d=e+f"),
        ("export API_TOKEN=\"ab}c d=e+f\"", "ab}c d=e+f"),
        ("<password>ab}c/d=e+f</password>", "ab}c/d=e+f"),
        ("<db><password>s3 cr3t</password></db>", "s3 cr3t"),
        (r#"<user name="bob" password="ab}c/d=e+f"/>"#, "ab}c/d=e+f"),
        ("mysqldump --password s3cr3tValue db", "s3cr3tValue"),
        ("tool --api-key=s3cr3tValue --verbose", "s3cr3tValue"),
        ("mysql -u root -ps3cr3tValue shop", "s3cr3tValue"),
        ("mysql -u root -p s3cr3tValue shop", "s3cr3tValue"),
        ("curl -u alice:s3cr3tValue https://x", "s3cr3tValue"),
        ("curl --user alice:s3cr3tValue https://x", "s3cr3tValue"),
        (
            "curl -H 'Authorization: Bearer abc.def/ghi' https://x",
            "Bearer abc.def/ghi",
        ),
        ("GET /\nX-Api-Key: ab}c/d=e+f\nAccept: */*", "ab}c/d=e+f"),
        ("Cookie: sid=abc; theme=dark", "sid=abc; theme=dark"),
        (
            "Authorization: Digest username=\"a\", response=\"b\"",
            "Digest username=\"a\", response=\"b\"",
        ),
        (
            "Server=db;User Id=app;Password=ab}c/d=e+f;Database=shop",
            "ab}c/d=e+f",
        ),
        ("Driver={SQL};Uid=app;Pwd={ab;c}}d};", "{ab;c}}d}"),
        (
            "jdbc:sqlserver://db:1433;user=app;password=s3cr3t=/+x;",
            "s3cr3t=/+x",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9v/YmFy+cXV4==;EndpointSuffix=core.windows.net",
            "Zm9v/YmFy+cXV4==",
        ),
        (
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=Zm9v/YmFy+cXV4=",
            "Zm9v/YmFy+cXV4=",
        ),
        (
            "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2020&sig=Zm9v%2F",
            "sv=2020&sig=Zm9v%2F",
        ),
    ] {
        hides_exactly(text, secret);
    }
}

#[test]
fn flags_and_words_that_only_look_like_assignments_stay() {
    for text in [
        "grep -p pattern file",
        "ssh -p 2222 host",
        "set timeout 30",
        "<title>Password reset</title>",
        "order=42 city: Berlin",
    ] {
        assert_eq!(scrub(text), text);
    }
}

#[test]
fn ibans_are_hidden_when_their_check_passes() {
    hides_exactly(
        "pay to DE89370400440532013000 today",
        "DE89370400440532013000",
    );
    hides_exactly(
        "IBAN: GB82 WEST 1234 5698 7654 32.",
        "GB82 WEST 1234 5698 7654 32",
    );
    hides_exactly("konto NO9386011117947", "NO9386011117947");
    // One digit off, or part of a longer word.
    assert_eq!(scrub("DE89370400440532013001"), "DE89370400440532013001");
    assert_eq!(scrub("xDE89370400440532013000"), "xDE89370400440532013000");
    assert_eq!(scrub("ORD-2024-000123 AB12"), "ORD-2024-000123 AB12");
}

#[test]
fn social_security_numbers_are_hidden_only_next_to_their_name() {
    hides_exactly("SSN: 123-45-6789", "123-45-6789");
    hides_exactly("social security number 078-05-1120.", "078-05-1120");
    assert_eq!(scrub("part 123-45-6789"), "part 123-45-6789");
    assert_eq!(scrub("ssn 000-12-3456"), "ssn 000-12-3456");
    assert_eq!(scrub("ssn\npart 123-45-6789"), "ssn\npart 123-45-6789");
}

#[test]
fn random_tokens_are_hidden_after_a_credential_word_or_alone_when_long() {
    hides_exactly("token 8f3a9c2e71b04d5a9e6f", "8f3a9c2e71b04d5a9e6f");
    hides_exactly("the api key is q8Rk3vLm2pT9wXn4", "q8Rk3vLm2pT9wXn4");
    hides_exactly(
        "upstream replied with R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U in the body",
        "R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U",
    );
    hides_exactly(
        "blob 3q2+7wAbc9/Xy1ZkLm4PqR8sTu5Vw6Xy7zA0bC1dE2fG3hI4jK==",
        "3q2+7wAbc9/Xy1ZkLm4PqR8sTu5Vw6Xy7zA0bC1dE2fG3hI4jK==",
    );
    for shown in [
        "commit 0f3a1b2c4d5e6f708192a3b4c5d6e7f809a1b2c3",
        "request 5f0c6a1e-8f1b-4c5e-9a2d-3b4c5d6e7f80",
        "HttpServletRequestWrapperWithUTF8Encoding2 failed",
        "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZy4=",
        "ORD-2024-000123 shipped",
    ] {
        assert_eq!(scrub(shown), shown);
    }
    // Text that is not shown is not scanned for them.
    let text = "upstream replied with R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U";
    assert_eq!(scrub_kind(text, TextKind::LookupOnly), text);
}

#[test]
fn a_random_query_value_is_hidden_whole_with_its_dots() {
    assert_eq!(
        scrub("GET /x?q=R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U.eyJabc.def&page=2"),
        format!("GET /x?q={SUB}&page=2")
    );
}

#[test]
fn runs_of_zeros_in_ids_are_not_card_numbers() {
    for id in [
        "api-00000000-0000-0000-0000-000000000000",
        "access-production-00000000-0000-0000-0000-000000000000",
        "0000 0000 0000 0000",
    ] {
        assert_eq!(scrub(id), id);
    }
    assert_eq!(scrub("card 4111 1111 1111 1111"), format!("card {SUB}"));
}

#[test]
fn a_token_recognised_in_part_of_a_url_component_hides_the_component() {
    // The random part after the last dot is what is recognised; the reverse lookup of the
    // whole value, found decoded elsewhere, needs none of the rest to stay.
    let value = "acct-7731.v2.R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U%2Bx%2Fy";
    assert_eq!(
        scrub(&format!("GET /x?q={value}&page=2")),
        format!("GET /x?q={SUB}&page=2")
    );
    assert_eq!(
        scrub(&format!("pref={value}; lang=en")),
        format!("pref={SUB}; lang=en")
    );
    assert_eq!(scrub(value), SUB);
    assert_eq!(
        scrub(&format!("comment={value}&qty=2")),
        format!("comment={SUB}&qty=2")
    );
    // A full stop after a token is punctuation.
    assert_eq!(
        scrub("upstream replied R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U."),
        format!("upstream replied {SUB}.")
    );
    // A detector that knows a value by its syntax keeps the bounds it gives.
    assert_eq!(
        scrub("mysql -u root -ps3cr3tValue shop"),
        format!("mysql -u root -p{SUB} shop")
    );
}

#[test]
fn a_label_before_a_token_does_not_count_toward_its_randomness() {
    // 24 random characters after the label: too short alone, whatever the label adds.
    for shown in [
        "build-cache-R7kq2ZxL9mP3vT8wYb1Nc6Hs",
        "pypi-AgENdGVzdC5weXBpLm9yZwShort",
    ] {
        assert_eq!(scrub(shown), shown);
    }
    // 32 random characters after it: hidden, the label with them.
    assert_eq!(
        scrub("got build-cache-R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U back"),
        format!("got {SUB} back")
    );
}

/// A small deterministic generator (xorshift), so that a failure can be reproduced.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }

    fn pick<'a>(&mut self, pieces: &[&'a str]) -> &'a str {
        pieces[self.below(pieces.len())]
    }
}

/// Texts of random pieces: the shapes the scans look for, their near misses and what lies
/// around them, short and long (the two search paths).
fn random_texts(pieces: &[&str], count: usize) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|index| {
            let parts = if index % 4 == 0 { 60 } else { 8 };
            (0..parts).map(|_| rng.pick(pieces)).collect()
        })
        .collect()
}

fn spans_of(rule: Rule, text: &str, kind: TextKind) -> Vec<(usize, usize)> {
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
    let mut found: Vec<(usize, usize)> = spans
        .iter()
        .filter(|span| span.rule == rule)
        .map(|span| (span.start, span.end))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[test]
fn the_sampled_iban_scan_finds_what_trying_every_position_finds() {
    let pieces = [
        "DE89370400440532013000",
        "GB82 WEST 1234 5698 7654 32",
        "NO9386011117947",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "AB12",
        " ",
        "  ",
        "x",
        "IBAN ",
        "007 INFO ",
        "7000",
        "ok....",
        "\n",
        "ABCD EFGH IJKL MNOP",
        "12 34 56",
        "-",
        "é",
    ];
    let mut found = 0;
    for text in random_texts(&pieces, 3000) {
        let mut plain = Vec::new();
        super::pii::ibans_in(text.as_bytes(), 0, text.len(), &mut plain);
        let plain: Vec<(usize, usize)> = plain.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(
            spans_of(Rule::Iban, &text, TextKind::Free),
            plain,
            "{text:?}"
        );
        found += plain.len();
    }
    assert!(found > 1000, "{found}");
}

/// Social security numbers as found before their words were searched for first: from every
/// dash, with the word in the 40 bytes before the number, on its line.
fn ssns_from_every_dash(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
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
        let valid = &number[..3] != b"000"
            && &number[..3] != b"666"
            && number[0] != b'9'
            && &number[4..6] != b"00"
            && &number[7..] != b"0000";
        let before = &bytes[start.saturating_sub(40)..start];
        let line = memchr::memrchr(b'\n', before).map_or(before, |newline| &before[newline + 1..]);
        let lower = line.to_ascii_lowercase();
        let named = [&b"ssn"[..], b"social security", b"social_security"]
            .iter()
            .any(|word| memchr::memmem::find(&lower, word).is_some());
        if shaped && bounded && valid && named {
            found.push((start, end));
        }
    }
    found
}

#[test]
fn social_security_numbers_are_found_from_their_words_as_from_every_dash() {
    let pieces = [
        "SSN: ",
        "ssn ",
        "Social Security number ",
        "SOCIAL_SECURITY=",
        "sSn",
        "social ",
        "123-45-6789",
        "078-05-1120",
        "000-12-3456",
        "123-45-67890",
        "x123-45-6789",
        "worker-0 ",
        "processed ",
        "\n",
        " ",
        "lorem ipsum dolor ",
        "-",
        "12-34",
        "é",
    ];
    let mut found = 0;
    for text in random_texts(&pieces, 3000) {
        let expected = ssns_from_every_dash(text.as_bytes());
        for kind in [TextKind::Free, TextKind::LookupOnly] {
            assert_eq!(spans_of(Rule::Ssn, &text, kind), expected, "{text:?}");
        }
        found += expected.len();
    }
    assert!(found > 200, "{found}");
}

#[test]
fn flags_in_a_long_text_are_found_as_from_every_dash() {
    let names = NameRules::new(&NameRuleConfig::default());
    let pieces = [
        "--password ",
        "--api-key=",
        "-p",
        "-u ",
        "alice:s3cr3t ",
        "mysql ",
        "s3cr3tValue ",
        "<password>",
        "ab}c</password>",
        "token <- ",
        "'x' ",
        "\"-",
        "\t",
        "\n",
        " ",
        "-",
        "worker-0 ",
        "--verbose ",
        "é",
    ];
    let mut found = 0;
    for text in random_texts(&pieces, 3000) {
        let mut every_dash = Vec::new();
        scan_marked(&text, &names, SUB, &mut every_dash);
        let mut searched = Vec::new();
        scan_long_marks(&text, true, false, &names, SUB, &mut searched);
        for spans in [&mut every_dash, &mut searched] {
            spans.sort_by_key(|span| (span.start, span.end));
        }
        assert_eq!(searched, every_dash, "{text:?}");
        found += every_dash.len();
    }
    assert!(found > 1000, "{found}");
}

#[test]
fn tokens_in_the_catalog_runs_of_a_long_text_are_those_of_the_whole_text() {
    let names = NameRules::new(&NameRuleConfig::default());
    let pieces = [
        "R7kq2ZxL9mP3vT8wYb1Nc6Hs5Jf0Ga2U",
        "token ",
        "8f3a9c2e71b04d5a9e6f",
        "q8Rk3vLm2pT9wXn4",
        ".",
        "..........",
        "::",
        "=",
        "==",
        "%2F",
        "/",
        "abc",
        " ",
        "\n",
        "build-cache-",
        "é",
        "3q2+7wAbc9/Xy1ZkLm4PqR8sTu5Vw6Xy7zA0bC1dE2fG3hI4jK==",
        "ok",
        "@",
        "~",
    ];
    let mut found = 0;
    for text in random_texts(&pieces, 3000) {
        let mut whole = Vec::new();
        scan_tokens(&text, &names, &mut whole);
        let mut fused = Vec::new();
        scan_token_runs(&text, Some(catalog::Shape::ANY), true, &names, &mut fused);
        fused.retain(|span| span.rule == Rule::HighEntropyToken);
        for spans in [&mut whole, &mut fused] {
            spans.sort_by_key(|span| (span.start, span.end));
        }
        assert_eq!(fused, whole, "{text:?}");
        found += whole.len();
    }
    assert!(found > 1000, "{found}");
}

/// The catalog looks for `Inside` anchors only at positions whose first byte starts one:
/// a token of the shortest `Inside` format (Mailchimp, 36 bytes) is found alone, at either
/// end of a longer run, and after an operator, and a text without a trigger's bytes
/// (`:`, blank, `.`) still has its catalog tokens hidden.
#[test]
fn inside_anchored_tokens_are_found_at_every_place_in_a_run() {
    let mailchimp = "3f9a1c7e5b2d4086af13c5e7092b4d6f-us7";
    assert_eq!(mailchimp.len(), 36);
    let telegram = "123456789:AAHq8Xk2Zp7mN4vR1tY6wL0sJ3eD5fG9bC2";
    for token in [mailchimp, telegram] {
        for text in [
            token.to_owned(),
            format!("{token}/next"),
            format!("see/{token}"),
            format!("q={token}"),
            format!("value {token}"),
        ] {
            let shown = scrub(&text);
            assert!(!shown.contains(&token[..12]), "{text} gave {shown}");
            assert!(
                !shown.contains(&token[token.len() - 8..]),
                "{text} gave {shown}"
            );
        }
    }
    // No `:`, blank or `.`: no trigger can match, the catalog still runs.
    let github = "ghp_R7kq2Xw9Lm4Tz8Vb1Nc6Hd3Fj5Gs0Pa2Qe7Yu";
    assert_eq!(scrub(github), SUB);
}
