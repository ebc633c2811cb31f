//! Bytes that are usually text: header values and bodies as received.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that are usually UTF-8 text but need not be (header values, request bodies).
///
/// Its JSON form is a string; bytes that are not UTF-8 are written as a list of numbers,
/// and either form is read back. Shown to people, invalid bytes appear as `\xNN` escapes.
/// `Debug` shows the length only (`RawText(<3 bytes>)`): the bytes may hold a secret.
///
/// ```
/// use safe_report::RawText;
///
/// assert_eq!(RawText::from("abc").to_text(), "abc");
/// assert_eq!(RawText::from(vec![b'a', 0xff, b'b']).to_text(), "a\\xffb");
/// ```
// A newtype over its bytes, built as `RawText(bytes)`: nothing to add, so not
// `#[non_exhaustive]`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct RawText(pub Vec<u8>);

impl RawText {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text when the bytes are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The text, with each byte that is not valid UTF-8 written as `\xNN`.
    pub fn to_text(&self) -> Cow<'_, str> {
        escape_invalid_utf8(&self.0)
    }

    /// The text for a value that reports show quoted: each byte that is not valid UTF-8
    /// becomes a marker character that quoting renders as `\xNN`, so that an invalid byte
    /// and a literal backslash stay distinguishable.
    pub(crate) fn to_marked_text(&self) -> Cow<'_, str> {
        mark_invalid_utf8(&self.0)
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Text from bytes, each byte that is not valid UTF-8 written as `\xNN`.
pub(crate) fn escape_invalid_utf8(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    Cow::Owned(out)
}

/// The first of the 128 code points that stand for invalid bytes 0x80–0xFF in quoted values
/// (the end of Supplementary Private Use Area-B). Text that really contains these code
/// points shows them as the bytes they stand for.
pub(crate) const INVALID_BYTE_BASE: u32 = 0x10_FF80;

/// Text from bytes, each byte that is not valid UTF-8 replaced by its marker character.
pub(crate) fn mark_invalid_utf8(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &byte in chunk.invalid() {
            // Invalid bytes are always 0x80 or above.
            let marker = char::from_u32(INVALID_BYTE_BASE + u32::from(byte & 0x7f))
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            out.push(marker);
        }
    }
    Cow::Owned(out)
}

impl fmt::Debug for RawText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawText")
            .field(&super::redacted::ByteLen(self.len()))
            .finish()
    }
}

impl From<&str> for RawText {
    fn from(text: &str) -> Self {
        Self(text.as_bytes().to_vec())
    }
}

impl From<String> for RawText {
    fn from(text: String) -> Self {
        Self(text.into_bytes())
    }
}

impl From<Vec<u8>> for RawText {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for RawText {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl Serialize for RawText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(text) => serializer.serialize_str(text),
            None => self.0.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RawText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawTextVisitor;

        impl<'de> Visitor<'de> for RawTextVisitor {
            type Value = RawText;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of bytes")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawText, E> {
                Ok(RawText::from(text))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<RawText, E> {
                Ok(RawText::from(text))
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<RawText, E> {
                Ok(RawText::from(bytes))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawText, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(byte) = seq.next_element::<u8>()? {
                    bytes.push(byte);
                }
                Ok(RawText(bytes))
            }
        }

        deserializer.deserialize_any(RawTextVisitor)
    }
}
