//! HTML escaping for the report pages.
//!
//! The output is askama's own (`"`, `&`, `'`, `<` and `>` as numeric character references),
//! but the search for those five bytes goes a word (8 bytes) at a time instead of a byte at a
//! time, and the escaped pieces are joined before they are written: the pages are mostly
//! escaped values, and askama's byte loop was most of the time spent rendering them.

use std::fmt::{self, Write};

/// The escaper the HTML templates use (configured in `templates/askama.toml`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let bytes = text.as_bytes();
        let Some(mut found) = next_escaped(bytes, 0) else {
            return dest.write_str(text);
        };
        // Escapes come in numbers (every formatted string is quoted): the pieces are joined
        // in a buffer and written a few hundred bytes at a time rather than two writes per
        // escape. Each piece is whole characters, so the buffer is always valid UTF-8.
        let mut buffer = [0u8; BUFFER];
        let mut len = 0;
        let mut plain_from = 0;
        loop {
            let plain = &bytes[plain_from..found];
            if len + plain.len() + REFERENCE_LEN > BUFFER {
                flush(&mut dest, &buffer[..len])?;
                len = 0;
            }
            if plain.len() + REFERENCE_LEN > BUFFER {
                dest.write_str(&text[plain_from..found])?;
            } else {
                buffer[len..len + plain.len()].copy_from_slice(plain);
                len += plain.len();
            }
            buffer[len..len + REFERENCE_LEN].copy_from_slice(reference(bytes[found]).as_bytes());
            len += REFERENCE_LEN;
            plain_from = found + 1;
            match next_escaped(bytes, plain_from) {
                Some(next) => found = next,
                None => break,
            }
        }
        flush(&mut dest, &buffer[..len])?;
        dest.write_str(&text[plain_from..])
    }

    fn write_escaped_char<W: Write>(&self, mut dest: W, c: char) -> fmt::Result {
        match u8::try_from(c) {
            Ok(byte) if is_escaped(byte) => dest.write_str(reference(byte)),
            _ => dest.write_char(c),
        }
    }
}

/// The size of the buffer escaped text is joined in.
const BUFFER: usize = 256;

/// The length of every character reference.
const REFERENCE_LEN: usize = 5;

/// Writes joined pieces of text (whole characters, so valid UTF-8).
fn flush<W: Write>(dest: &mut W, joined: &[u8]) -> fmt::Result {
    dest.write_str(std::str::from_utf8(joined).map_err(|_| fmt::Error)?)
}

fn is_escaped(byte: u8) -> bool {
    matches!(byte, b'"' | b'&' | b'\'' | b'<' | b'>')
}

/// The character reference for an escaped byte.
fn reference(byte: u8) -> &'static str {
    match byte {
        b'"' => "&#34;",
        b'&' => "&#38;",
        b'\'' => "&#39;",
        b'<' => "&#60;",
        _ => "&#62;",
    }
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is zero. A byte after a zero byte may be marked
/// too (a borrow), so only the lowest mark is exact.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW) & !word & HIGH
}

/// The first byte at or after `from` to escape.
fn next_escaped(bytes: &[u8], mut from: usize) -> Option<usize> {
    while from + 8 <= bytes.len() {
        let word = u64::from_le_bytes(bytes[from..from + 8].try_into().expect("8 bytes"));
        // `"`; `&` or `'` (0x26, 0x27: equal but for the lowest bit); `<` or `>` (0x3c, 0x3e:
        // equal but for the second bit).
        let marks = zero_bytes(word ^ (LOW * u64::from(b'"')))
            | zero_bytes((word & !LOW) ^ (LOW * u64::from(b'&')))
            | zero_bytes((word & !(LOW * 2)) ^ (LOW * u64::from(b'<')));
        if marks != 0 {
            return Some(from + marks.trailing_zeros() as usize / 8);
        }
        from += 8;
    }
    bytes[from..]
        .iter()
        .position(|&byte| is_escaped(byte))
        .map(|offset| from + offset)
}

#[cfg(test)]
mod tests {
    use askama::filters::Escaper;

    use super::Html;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, text).unwrap();
        out
    }

    fn askama_escaped(text: &str) -> String {
        let mut out = String::new();
        askama::filters::Html
            .write_escaped_str(&mut out, text)
            .unwrap();
        out
    }

    #[test]
    fn escapes_like_askama() {
        let mut texts = vec![
            String::new(),
            "plain text without markup".to_owned(),
            r#"<script>alert("x")</script> & 'y'"#.to_owned(),
            "\"\"\"\"\"\"\"\"\"".to_owned(),
            "é<ü>€&\u{0}\u{7f}\u{ff}&#34;".to_owned(),
            "=>%$#'(;".to_owned(),
        ];
        // Every byte value at every position of a word, around the special ones.
        for special in 0u8..=0x7f {
            for at in 0..17 {
                let mut text = "a".repeat(at);
                text.push(char::from(special));
                text.push_str("bc<");
                texts.push(text);
            }
        }
        // Runs of every length around the join buffer's size, multi-byte characters
        // included, between escapes.
        for run in [
            0, 1, 2, 7, 50, 120, 248, 249, 250, 251, 252, 255, 256, 257, 300, 600,
        ] {
            for plain in ["a", "é", "€x"] {
                let mut text = String::new();
                for special in ['"', '<', '&', '\'', '>'].iter().cycle().take(40) {
                    text.push_str(&plain.repeat(run / plain.len()));
                    text.push(*special);
                }
                text.push_str("tail");
                texts.push(text);
            }
        }
        for text in &texts {
            assert_eq!(escaped(text), askama_escaped(text), "{text:?}");
        }
    }

    #[test]
    fn single_characters_are_escaped_like_askama() {
        for c in ['"', '&', '\'', '<', '>', 'a', 'é', '\u{0}'] {
            let mut ours = String::new();
            Html.write_escaped_char(&mut ours, c).unwrap();
            let mut theirs = String::new();
            askama::filters::Html
                .write_escaped_char(&mut theirs, c)
                .unwrap();
            assert_eq!(ours, theirs);
        }
    }
}
