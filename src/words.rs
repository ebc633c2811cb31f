//! Testing the bytes of a text a word (8 bytes) at a time, for the scans that look for a few
//! byte values (the detectors, quoting, HTML escaping).

/// The lowest bit of every byte of a word.
pub(crate) const LOW: u64 = 0x0101_0101_0101_0101;
/// The highest bit of every byte of a word.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `bytes` from `at`, the first in the lowest byte of the word.
#[inline]
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The high bit of each byte of `word` that is zero. A byte after a zero byte may be marked
/// too (a borrow), so only the lowest mark is exact; whether there is a mark at all is.
#[inline]
pub(crate) fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW) & !word & HIGH
}

/// The high bit of each byte of `word` equal to `byte` (only the lowest mark is exact).
#[inline]
pub(crate) fn bytes_equal(word: u64, byte: u8) -> u64 {
    zero_bytes(word ^ (LOW * u64::from(byte)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_mark_is_the_first_equal_byte() {
        let bytes = b"ab=cd=ef\0=";
        let word = word_at(bytes, 0);
        assert_eq!(bytes_equal(word, b'=').trailing_zeros() / 8, 2);
        assert_eq!(bytes_equal(word, b'x'), 0);
        assert_eq!(zero_bytes(word_at(bytes, 2)).trailing_zeros() / 8, 6);
        assert_eq!(zero_bytes(word), 0);
    }
}
