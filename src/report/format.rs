//! Formatting captured values for people, like Python's `pprint.pformat` (width 80), and
//! cutting long ones with Django's trim notice.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

use crate::filter::Shown;
use crate::limits::MAX_VALUE_CHARS;
use crate::model::raw_text::INVALID_BYTE_BASE;
use crate::model::value::{Kind, Leaf, Tree};
use crate::words::{HIGH, LOW, bytes_equal, word_at};

const WIDTH: usize = 80;

/// The entries of a shown map.
#[derive(Clone)]
pub(crate) struct ShownEntries<'a, 'v>(std::slice::Iter<'a, (Cow<'v, str>, Shown<'v>)>);

impl<'a, 'v> Iterator for ShownEntries<'a, 'v> {
    type Item = (&'a str, &'a Shown<'v>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(key, shown)| (key.as_ref(), shown))
    }
}

impl<'a, 'v> Tree<'a> for &'a Shown<'v> {
    type Items = std::slice::Iter<'a, Shown<'v>>;
    type Entries = ShownEntries<'a, 'v>;

    #[inline]
    fn kind(self) -> Kind<'a, Self> {
        match self {
            Shown::Same(Value::String(text)) => Kind::Str(text),
            Shown::Same(value) => Kind::Value(value),
            Shown::Captured(value) => match value.as_str() {
                Some(text) => Kind::Str(text),
                None => Kind::Captured(*value),
            },
            Shown::New(value) => match &**value {
                Value::String(text) => Kind::Str(text),
                value => Kind::Value(value),
            },
            Shown::Text(text) => Kind::Str(text),
            Shown::List(items) => Kind::List(items.len(), items.iter()),
            Shown::Map(entries) => Kind::Map(entries.len(), ShownEntries(entries.iter())),
        }
    }
}

/// Formats a value: strings quoted with Rust escapes, maps and lists on one line when they fit
/// in 80 columns, one entry per line otherwise; long multi-line strings one line per segment.
pub(crate) fn format_value<'a, T: Tree<'a>>(value: T) -> String {
    let mut out = String::with_capacity(estimate_len(value, 0));
    write_value(value, 0, &mut out);
    out
}

/// A cheap estimate of the formatted length, to allocate once.
fn estimate_len<'a, T: Tree<'a>>(value: T, depth: usize) -> usize {
    match value.kind() {
        Kind::Str(text) => text.len() + 2 + text.len() / 16,
        Kind::Leaf(_) => 8,
        Kind::Value(plain) => estimate_len(plain, depth),
        Kind::Captured(captured) => estimate_len(captured, depth),
        _ if depth >= 8 => 8,
        Kind::List(_, items) => {
            items
                .map(|item| estimate_len(item, depth + 1) + 2 + depth)
                .sum::<usize>()
                + 2
        }
        Kind::Map(_, entries) => {
            entries
                .map(|(key, item)| key.len() + 4 + estimate_len(item, depth + 1) + depth)
                .sum::<usize>()
                + 2
        }
    }
}

fn write_value<'a, T: Tree<'a>>(value: T, indent: usize, out: &mut String) {
    // The one-line form when it fits in what is left of the line (written, and taken back
    // when it turns out too long: measuring first would read every string twice).
    let before = out.len();
    if write_flat_within(value, before + WIDTH.saturating_sub(indent), out) {
        return;
    }
    out.truncate(before);
    write_broken(value, indent, out);
}

/// The form over several lines, for a value whose one-line form is too long.
fn write_broken<'a, T: Tree<'a>>(value: T, indent: usize, out: &mut String) {
    match value.kind() {
        Kind::Str(text) if memchr::memchr(b'\n', text.as_bytes()).is_some() => {
            // One quoted string per line, each line ending with its `\n`.
            out.push('(');
            quote_lines(text, indent + 1, out);
            out.push(')');
        }
        Kind::Str(text) => quote(text, out),
        Kind::Leaf(leaf) => write_leaf(&leaf, out),
        Kind::Value(plain) => write_broken(plain, indent, out),
        Kind::Captured(captured) => write_broken(captured, indent, out),
        Kind::List(0, _) => out.push_str("[]"),
        Kind::List(_, items) => {
            out.push('[');
            for (index, item) in items.enumerate() {
                if index > 0 {
                    out.push_str(",\n");
                    push_spaces(out, indent + 1);
                }
                write_value(item, indent + 1, out);
            }
            out.push(']');
        }
        Kind::Map(0, _) => out.push_str("{}"),
        Kind::Map(_, entries) => {
            out.push('{');
            for (index, (key, item)) in entries.enumerate() {
                if index > 0 {
                    out.push_str(",\n");
                    push_spaces(out, indent + 1);
                }
                let before = out.len();
                quote(key, out);
                out.push_str(": ");
                let key_width = out[before..].chars().count();
                write_value(item, indent + 1 + key_width, out);
            }
            out.push('}');
        }
    }
}

fn push_spaces(out: &mut String, mut count: usize) {
    const SPACES: &str = "                                ";
    while count > 0 {
        let run = count.min(SPACES.len());
        out.push_str(&SPACES[..run]);
        count -= run;
    }
}

/// Writes the one-line form of `value` while `out` stays at most `end` bytes long; `false`
/// (with part of the form written) as soon as it would not.
fn write_flat_within<'a, T: Tree<'a>>(value: T, end: usize, out: &mut String) -> bool {
    match value.kind() {
        Kind::Str(text) => {
            // Quoting adds two bytes or more.
            if out.len() + text.len() + 2 > end {
                return false;
            }
            quote(text, out);
        }
        Kind::Leaf(leaf) => write_leaf(&leaf, out),
        Kind::Value(plain) => return write_flat_within(plain, end, out),
        Kind::Captured(captured) => return write_flat_within(captured, end, out),
        Kind::List(_, items) => {
            out.push('[');
            for (index, item) in items.enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                if !write_flat_within(item, end, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Kind::Map(_, entries) => {
            out.push('{');
            for (index, (key, item)) in entries.enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                if out.len() + key.len() + 4 > end {
                    return false;
                }
                quote(key, out);
                out.push_str(": ");
                if !write_flat_within(item, end, out) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    out.len() <= end
}

/// Writes null, a boolean or a number.
fn write_leaf(leaf: &Leaf, out: &mut String) {
    match leaf {
        Leaf::Null => out.push_str("null"),
        Leaf::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Leaf::Number(n) => {
            let _ = write!(out, "{n}");
        }
    }
}

fn needs_escape(ch: char) -> bool {
    matches!(ch, '"' | '\\')
        || ch.is_control()
        || is_invisible_separator(ch)
        || invalid_byte(ch).is_some()
}

/// ASCII bytes that must be escaped: controls, DEL, `"` and `\`.
fn ascii_needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f || byte == b'"' || byte == b'\\'
}

/// Bytes examined at once: the test of a chunk compiles to a few SIMD instructions (SSE2 on
/// any x86_64), far less than one comparison per byte.
const CHUNK: usize = 16;

/// Whether any byte of `chunk` needs a closer look: a control, DEL, `"`, `\` or non-ASCII.
#[inline]
fn chunk_needs_look(chunk: &[u8; CHUNK]) -> bool {
    chunk.iter().fold(false, |any, &byte| {
        any | !(0x20..0x7f).contains(&byte) | (byte == b'"') | (byte == b'\\')
    })
}

/// The high bit of the bytes of `word` that need a closer look (only the lowest is exact).
fn look_marks(word: u64) -> u64 {
    (word.wrapping_sub(LOW * 0x20) & !word & HIGH)
        | (word & HIGH)
        | bytes_equal(word, 0x7f)
        | bytes_equal(word, b'"')
        | bytes_equal(word, b'\\')
}

/// The index of the first byte at or after `from` that is not plain printable ASCII
/// (`bytes.len()` if there is none).
fn next_interesting(bytes: &[u8], mut from: usize) -> usize {
    loop {
        let rest = &bytes[from.min(bytes.len())..];
        if let Some(chunk) = rest.first_chunk::<CHUNK>() {
            if chunk_needs_look(chunk) {
                let low = look_marks(word_at(chunk, 0));
                let offset = if low != 0 {
                    low.trailing_zeros() / 8
                } else {
                    8 + look_marks(word_at(chunk, 8)).trailing_zeros() / 8
                };
                return from + offset as usize;
            }
            from += CHUNK;
            continue;
        }
        // Fewer than 16 bytes left: two words that may overlap (the bytes they share had
        // no mark in the first), or one byte at a time below 8.
        if rest.len() >= 8 {
            let low = look_marks(word_at(rest, 0));
            if low != 0 {
                return from + (low.trailing_zeros() / 8) as usize;
            }
            let high = look_marks(word_at(rest, rest.len() - 8));
            if high != 0 {
                return from + rest.len() - 8 + (high.trailing_zeros() / 8) as usize;
            }
            return bytes.len();
        }
        return rest
            .iter()
            .position(|&byte| byte >= 0x80 || ascii_needs_escape(byte))
            .map_or(bytes.len(), |offset| from + offset);
    }
}

/// Line and paragraph separators and bidi controls: escaped so that text cannot pretend to
/// be on another line or reorder what is shown around it.
fn is_invisible_separator(ch: char) -> bool {
    matches!(ch, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A marker for an invalid byte of raw input (see `RawText`), shown as `\xNN`.
fn invalid_byte(ch: char) -> Option<u8> {
    let code = u32::from(ch);
    (INVALID_BYTE_BASE..=INVALID_BYTE_BASE + 0x7f)
        .contains(&code)
        .then(|| 0x80 | (code - INVALID_BYTE_BASE) as u8)
}

/// Writes `text` in double quotes with Rust's escapes for quotes, backslashes and control
/// characters (and line separators and bidi controls).
pub(crate) fn quote(text: &str, out: &mut String) {
    quote_into(text, None, out);
}

/// Quotes `text` as one quoted string per line, each ending with its `\n`, the next one on
/// a new line after `indent` blanks.
fn quote_lines(text: &str, indent: usize, out: &mut String) {
    quote_into(text, Some(indent), out);
}

/// [`quote`], or with `lines` [`quote_lines`], in one pass over `text`.
fn quote_into(text: &str, lines: Option<usize>, out: &mut String) {
    out.reserve(text.len() + 2);
    out.push('"');
    let bytes = text.as_bytes();
    let mut plain_from = 0;
    let mut index = 0;
    loop {
        index = next_interesting(bytes, index);
        if index >= bytes.len() {
            break;
        }
        let byte = bytes[index];
        let (ch, width) = if byte < 0x80 {
            if !ascii_needs_escape(byte) {
                index += 1;
                continue;
            }
            (byte as char, 1)
        } else {
            let ch = text[index..].chars().next().unwrap_or('\u{fffd}');
            if !needs_escape(ch) {
                index += ch.len_utf8();
                continue;
            }
            (ch, ch.len_utf8())
        };
        out.push_str(&text[plain_from..index]);
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => match lines {
                // The line ends here; the next one (if any) is another quoted string.
                Some(indent) if index + 1 < bytes.len() => {
                    out.push_str("\\n\"\n");
                    push_spaces(out, indent);
                    out.push('"');
                }
                _ => out.push_str("\\n"),
            },
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            other => match invalid_byte(other) {
                Some(byte) => {
                    let _ = write!(out, "\\x{byte:02x}");
                }
                None => out.extend(other.escape_unicode()),
            },
        }
        index += width;
        plain_from = index;
    }
    out.push_str(&text[plain_from..]);
    out.push('"');
}

/// A quoted, escaped copy of `text`.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::new();
    quote(text, &mut out);
    out
}

/// Whether [`trim_counting`] may cut `text` (if not, it leaves `text` as it is).
pub(crate) fn may_cut(text: &str) -> bool {
    text.len() > MAX_VALUE_CHARS
}

/// Cuts `text` after [`MAX_VALUE_CHARS`] characters with Django's notice,
/// `… <trimmed N bytes string>`, N being `full`: the size of the captured value (a value
/// whose text was only partly formatted counts its whole size).
pub(crate) fn trim_counting(text: &mut String, full: usize) {
    if !may_cut(text) {
        return;
    }
    let cut = if text.as_bytes()[..MAX_VALUE_CHARS].is_ascii() {
        Some(MAX_VALUE_CHARS)
    } else {
        text.char_indices().nth(MAX_VALUE_CHARS).map(|(cut, _)| cut)
    };
    if let Some(cut) = cut {
        text.truncate(cut);
        text.push_str(&format!("\u{2026} <trimmed {full} bytes string>"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `quote` one character at a time, without searching ahead.
    fn quoted_slowly(text: &str) -> String {
        let mut out = String::from('"');
        for ch in text.chars() {
            match ch {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                ch if needs_escape(ch) => match invalid_byte(ch) {
                    Some(byte) => out.push_str(&format!("\\x{byte:02x}")),
                    None => out.extend(ch.escape_unicode()),
                },
                ch => out.push(ch),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn quoting_finds_every_special_character_at_every_position() {
        let specials = ['"', '\\', '\n', '\u{1}', '\u{7f}', 'é', '\u{2028}', '€'];
        for len in 0..40 {
            for at in 0..len {
                for special in specials {
                    let mut text: String = "a".repeat(at);
                    text.push(special);
                    text.push_str(&"b".repeat(len - at - 1));
                    assert_eq!(quoted(&text), quoted_slowly(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn each_line_of_a_long_text_is_quoted_on_its_own() {
        let texts = [
            "\n".to_owned(),
            "\n\n".to_owned(),
            "a\n".to_owned(),
            "\na".to_owned(),
            "a\nb".to_owned(),
            "a\n\nb\n".to_owned(),
            "é\"\\\n\t\u{2028}\nlast".to_owned(),
            format!("{}\n{}", "x".repeat(100), "y".repeat(37)),
        ];
        for text in texts {
            // One `quote` per line, each with its `\n`, joined as the form prints them.
            let lines: Vec<String> = text.split_inclusive('\n').map(quoted).collect();
            let expected = format!("({})", lines.join("\n   "));
            let mut out = String::new();
            quote_lines(&text, 3, &mut out);
            assert_eq!(format!("({out})"), expected, "{text:?}");
        }
        let blob = "line one\nline two\n".repeat(10);
        assert!(format_value(&json!(blob)).starts_with("(\"line one\\n\"\n \"line two\\n\""));
    }

    #[test]
    fn short_values_stay_on_one_line() {
        assert_eq!(format_value(&json!("scrambled")), "\"scrambled\"");
        assert_eq!(
            format_value(&json!({"login": "cooper", "n": 1, "ok": true, "x": null})),
            r#"{"login": "cooper", "n": 1, "ok": true, "x": null}"#
        );
        assert_eq!(format_value(&json!([1, [2, 3]])), "[1, [2, 3]]");
    }

    #[test]
    fn long_values_get_one_entry_per_line() {
        let items: Vec<String> = (0..10).map(|k| format!("sku-000-{k:04}")).collect();
        let text = format_value(&json!(items));
        assert!(
            text.starts_with("[\"sku-000-0000\",\n \"sku-000-0001\","),
            "{text}"
        );
        let text = format_value(&json!({"k": items}));
        assert!(
            text.starts_with("{\"k\": [\"sku-000-0000\",\n       \"sku-000-0001\""),
            "{text}"
        );
    }

    #[test]
    fn long_multiline_strings_are_split_per_line() {
        let blob = "a".repeat(50) + "\n" + &"b".repeat(50) + "\n";
        assert_eq!(
            format_value(&json!(blob)),
            format!("(\"{}\\n\"\n \"{}\\n\")", "a".repeat(50), "b".repeat(50))
        );
    }

    #[test]
    fn quotes_escape_controls_and_line_tricks() {
        assert_eq!(quoted("a\"b\\c\n\u{1b}[31m"), r#""a\"b\\c\n\u{1b}[31m""#);
        assert_eq!(quoted("x\u{2028}y\u{202e}"), r#""x\u{2028}y\u{202e}""#);
        assert_eq!(quoted("café"), "\"café\"");
    }

    #[test]
    fn invalid_bytes_and_literal_backslashes_look_different() {
        let raw = crate::model::RawText(b"VAL\xe9VAL".to_vec());
        assert_eq!(quoted(&raw.to_marked_text()), r#""VAL\xe9VAL""#);
        assert_eq!(quoted(r"VAL\xe9VAL"), r#""VAL\\xe9VAL""#);
    }

    #[test]
    fn trimming_counts_the_whole_value() {
        let mut text = "A".repeat(262_146);
        let full = text.len();
        trim_counting(&mut text, full);
        assert!(text.ends_with("\u{2026} <trimmed 262146 bytes string>"));
        assert_eq!(text.chars().filter(|&c| c == 'A').count(), MAX_VALUE_CHARS);
        let mut short = "x".repeat(MAX_VALUE_CHARS);
        let full = short.len();
        trim_counting(&mut short, full);
        assert_eq!(short.len(), MAX_VALUE_CHARS);
        let mut wide = "é".repeat(MAX_VALUE_CHARS + 1);
        let full = wide.len();
        trim_counting(&mut wide, full);
        assert!(wide.ends_with(&format!(
            "<trimmed {} bytes string>",
            2 * (MAX_VALUE_CHARS + 1)
        )));
    }

    /// A small deterministic generator (xorshift) for the cases below.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, below: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % below
        }

        fn text(&mut self) -> String {
            const PIECES: [&str; 8] = ["a", "Berlin", "\n", "é", "\"", " ", "ord_42", "\t"];
            let len = [0, 1, 3, 12, 40][self.next(5) as usize];
            (0..len).map(|_| PIECES[self.next(8) as usize]).collect()
        }

        fn value(&mut self, depth: usize) -> Value {
            match self.next(if depth > 3 { 4 } else { 6 }) {
                0 => Value::Null,
                1 => Value::from(self.next(1_000_000)),
                2 | 3 => Value::String(self.text()),
                4 => (0..self.next(6)).map(|_| self.value(depth + 1)).collect(),
                _ => Value::Object(
                    (0..self.next(6))
                        .map(|index| (format!("{}{index}", self.text()), self.value(depth + 1)))
                        .collect(),
                ),
            }
        }

        /// `value` as a filter might show it: some parts kept, some replaced.
        fn shown<'v>(&mut self, value: &'v Value) -> Shown<'v> {
            match (value, self.next(4)) {
                (_, 0) => Shown::Same(value),
                (_, 1) => Shown::Text(self.text().into()),
                (_, 2) => Shown::from(self.value(2)),
                (Value::Array(items), _) => {
                    Shown::List(items.iter().map(|item| self.shown(item)).collect())
                }
                (Value::Object(map), _) => Shown::Map(
                    map.iter()
                        .map(|(key, item)| (key.as_str().into(), self.shown(item)))
                        .collect(),
                ),
                _ => Shown::Same(value),
            }
        }
    }

    #[test]
    fn a_shown_value_formats_as_the_plain_value_it_stands_for() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3_000 {
            let value = rng.value(0);
            let shown = rng.shown(&value);
            let plain = shown.clone().into_value();
            assert_eq!(format_value(&shown), format_value(&plain), "{plain:?}");
        }
    }

    #[test]
    fn a_captured_value_formats_as_the_plain_value_it_holds() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..3_000 {
            let value = rng.value(0);
            let captured = crate::model::CapturedValue::from(&value);
            let expected = format_value(&value);
            assert_eq!(format_value(captured.root()), expected, "{value:?}");
            assert_eq!(
                format_value(&Shown::Captured(captured.root())),
                expected,
                "{value:?}"
            );
        }
    }
}
