//! Keys read a word at a time, without copying their bytes: the transform's slot table, the
//! key indexes of [`crate::line::Doc`] and the remembered rule hits hash and compare keys so.

/// rustc's Fx hash step.
#[inline]
pub(crate) fn fx_add(hash: u64, word: u64) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    (hash.rotate_left(5) ^ word).wrapping_mul(K)
}

/// Calls `f` with the words of `bytes`: eight bytes at a time, a tail of one to seven bytes as
/// the last eight bytes (overlapping the word before), and a key of fewer than eight bytes as
/// one [`short_word`]. Keys of one length give the same number of words.
#[inline]
pub(crate) fn each_word(bytes: &[u8], mut f: impl FnMut(u64)) {
    let n = bytes.len();
    if n < 8 {
        f(short_word(bytes));
        return;
    }
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        f(word_at(chunk, 0));
    }
    if !chunks.remainder().is_empty() {
        f(word_at(bytes, n - 8));
    }
}

/// The Fx hash of `bytes` and their length.
#[inline]
pub(crate) fn fx_hash(bytes: &[u8]) -> u64 {
    let mut hash = bytes.len() as u64;
    each_word(bytes, |word| hash = fx_add(hash, word));
    hash
}

/// A key read as two words and its length, where most keys are short: a key of 8 bytes or
/// more as its first and its last eight bytes (overlapping in keys of 8 to 16 bytes), a
/// shorter one as its bytes in one word. Two keys of up to 16 bytes are equal exactly when
/// their `KeyWords` are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyWords {
    first: u64,
    last: u64,
    len: usize,
}

impl KeyWords {
    #[inline]
    pub(crate) fn of(bytes: &[u8]) -> Self {
        let n = bytes.len();
        let (first, last) = if n >= 8 {
            (word_at(bytes, 0), word_at(bytes, n - 8))
        } else {
            (short_word(bytes), 0)
        };
        Self {
            first,
            last,
            len: n,
        }
    }

    /// One multiply.
    #[inline]
    pub(crate) fn hash(self) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        (self.first ^ self.last.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(K)
            .rotate_left(26)
    }

    /// Whether `bytes` (whose words these are) equal `other` (whose words are `words`): the
    /// words decide up to 16 bytes, longer keys are compared.
    #[inline]
    pub(crate) fn equals(self, bytes: &[u8], words: KeyWords, other: &[u8]) -> bool {
        self == words && (self.len <= 16 || long_keys_equal(bytes, other))
    }

    /// Whether `bytes` equal the key whose words these are, `key`, reading `bytes` only
    /// when the lengths agree.
    #[inline]
    pub(crate) fn is(self, key: &[u8], bytes: &[u8]) -> bool {
        bytes.len() == self.len && KeyWords::of(bytes).equals(bytes, self, key)
    }
}

/// Keys of more than 16 bytes whose words are equal: compared whole, out of the loops that
/// compare keys.
#[cold]
#[inline(never)]
fn long_keys_equal(key: &[u8], other: &[u8]) -> bool {
    key == other
}

/// The eight bytes of `bytes` at `at`, little-endian (0 past the end).
#[inline]
pub(crate) fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_le_bytes)
}

/// Up to seven bytes in one word, without a copy: four to seven bytes as their first and
/// their last four (overlapping), fewer byte by byte. Distinct strings of one length give
/// distinct words.
#[inline]
pub(crate) fn short_word(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let half = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map_or(0, u32::from_le_bytes)
    };
    if n >= 4 {
        u64::from(half(0)) | (u64::from(half(n - 4)) << 32)
    } else {
        bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    }
}

#[cfg(test)]
mod tests {
    use super::KeyWords;

    #[test]
    fn keys_are_equal_exactly_when_their_words_say_so() {
        // Every pair of keys of 0 to 24 bytes over a small alphabet: one byte changed at each
        // position, and keys that share their first and last eight bytes.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for n in 0..=24usize {
            let key: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            for at in 0..n {
                let mut near = key.clone();
                near[at] = b'Z';
                keys.push(near);
            }
            keys.push(key);
        }
        keys.push(b"0123456789abcdefXYZ0123456789abcdef".to_vec());
        keys.push(b"0123456789abcdefXYW0123456789abcdef".to_vec());
        for a in &keys {
            let words = KeyWords::of(a);
            for b in &keys {
                assert_eq!(words.is(a, b), a == b, "{a:?} {b:?}");
                assert_eq!(KeyWords::of(b).equals(b, words, a), a == b, "{a:?} {b:?}");
            }
        }
    }
}
