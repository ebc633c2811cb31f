//! HTML escaping for the report pages.
//!
//! The output is askama's own (`"`, `&`, `'`, `<` and `>` as numeric character references),
//! but the search for those five bytes goes a word (8 bytes) at a time instead of a byte at a
//! time, and the escaped pieces of a text are joined before they are written: the pages are
//! mostly escaped values, and askama's byte loop was most of the time spent rendering them.

use std::cell::RefCell;
use std::fmt::{self, Write};

use crate::words::{LOW, bytes_equal, word_at, zero_bytes};

/// The escaper the HTML templates use (configured in `templates/askama.toml`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let Some(first) = next_escaped(text.as_bytes(), 0) else {
            return dest.write_str(text);
        };
        // Escapes come in numbers (every formatted string is quoted): the pieces are joined
        // in a string kept for this thread and written at once, rather than two writes per
        // escape. A call made while that string is in use writes its pieces one by one.
        JOINED.with(|joined| match joined.try_borrow_mut() {
            Ok(mut joined) => {
                joined.clear();
                escape_pieces(text, first, |piece| {
                    joined.push_str(piece);
                    Ok(())
                })?;
                let written = dest.write_str(&joined);
                if joined.capacity() > MAX_KEPT {
                    *joined = String::new();
                }
                written
            }
            Err(_) => escape_pieces(text, first, |piece| dest.write_str(piece)),
        })
    }

    fn write_escaped_char<W: Write>(&self, mut dest: W, c: char) -> fmt::Result {
        match u8::try_from(c) {
            Ok(byte) if is_escaped(byte) => dest.write_str(reference(byte)),
            _ => dest.write_char(c),
        }
    }
}

thread_local! {
    /// Where the escaped pieces of one text are joined.
    static JOINED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The joining string is let go after a text that made it larger than this.
const MAX_KEPT: usize = 64 * 1024;

/// Passes `text` to `write` in pieces, escaped: the plain runs between the bytes to escape,
/// and their references. `first` is the first byte to escape.
fn escape_pieces(
    text: &str,
    first: usize,
    mut write: impl FnMut(&str) -> fmt::Result,
) -> fmt::Result {
    let bytes = text.as_bytes();
    let mut found = first;
    let mut plain_from = 0;
    loop {
        if plain_from < found {
            write(&text[plain_from..found])?;
        }
        write(reference(bytes[found]))?;
        plain_from = found + 1;
        match next_escaped(bytes, plain_from) {
            Some(next) => found = next,
            None => break,
        }
    }
    if plain_from < bytes.len() {
        write(&text[plain_from..])?;
    }
    Ok(())
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

/// The first byte at or after `from` to escape.
fn next_escaped(bytes: &[u8], mut from: usize) -> Option<usize> {
    while from + 8 <= bytes.len() {
        let word = word_at(bytes, from);
        // `"`; `&` or `'` (0x26, 0x27: equal but for the lowest bit); `<` or `>` (0x3c, 0x3e:
        // equal but for the second bit).
        let marks = bytes_equal(word, b'"')
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
        // Plain runs of many lengths, multi-byte characters included, between escapes.
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2_000,
            ..Default::default()
        })]

        /// Generated texts, weighted towards the bytes that are escaped and multi-byte
        /// characters at every alignment: the same output as askama's escaper.
        #[test]
        fn generated_texts_escape_like_askama(
            text in proptest::string::string_regex("([<>&\"'a-z0-9 é€😀\u{0}]{0,40}){0,8}").unwrap(),
            any_text in ".{0,300}",
        ) {
            proptest::prop_assert_eq!(escaped(&text), askama_escaped(&text));
            proptest::prop_assert_eq!(escaped(&any_text), askama_escaped(&any_text));
        }
    }

    /// A writer that escapes what it is given again, with the escaper under test.
    struct EscapingAgain(String);

    impl std::fmt::Write for EscapingAgain {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            Html.write_escaped_str(&mut self.0, text)
        }
    }

    #[test]
    fn an_escape_inside_an_escape_writes_its_pieces_one_by_one() {
        let text = r#"<a href="x">'&'</a>"#;
        let mut twice = EscapingAgain(String::new());
        Html.write_escaped_str(&mut twice, text).unwrap();
        assert_eq!(twice.0, askama_escaped(&askama_escaped(text)));
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
