//! The parser of [`super::Doc`]: JSON text straight into nodes, a few instructions per byte.
//!
//! It accepts exactly what serde_json's `from_str` accepts and reads the same values (the
//! property tests in `runtime/tests/line_doc.rs` hold it to that), but it gives no messages:
//! when it refuses a line, [`super::Doc::parse`] parses the line again with serde_json, which
//! either explains the error or, should the two ever disagree, reads the line itself.

use super::doc::Node;
// The bytes that end the plain run of a string (`"`, `\` and control characters) are the
// bytes that a JSON writer escapes: the mozlog writer's table and word test serve both.
use crate::mozlog::next_escape;
use crate::view::Num;

/// serde_json's recursion limit: 127 nested arrays or objects parse, 128 do not.
const DEPTH: u32 = 128;

/// The line cannot be read by the fast parser.
#[derive(Debug)]
pub(super) struct Refused;

/// An open array or object while its members are parsed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    /// Its node.
    node: u32,
    /// Its members so far.
    len: u32,
    object: bool,
}

pub(super) struct Parser<'p> {
    bytes: &'p [u8],
    nodes: &'p mut Vec<Node>,
    scratch: &'p mut String,
    /// The open arrays and objects, innermost last (storage reused from line to line).
    frames: &'p mut Vec<Frame>,
}

impl<'p> Parser<'p> {
    pub(super) fn new(
        line: &'p str,
        nodes: &'p mut Vec<Node>,
        scratch: &'p mut String,
        frames: &'p mut Vec<Frame>,
    ) -> Self {
        frames.clear();
        Self {
            bytes: line.as_bytes(),
            nodes,
            scratch,
            frames,
        }
    }

    /// Parses the whole line: one value and trailing whitespace.
    ///
    /// One loop with an explicit stack of open arrays and objects, the position in a local:
    /// no call per value, which is what a line of short strings and numbers costs most.
    pub(super) fn parse(mut self) -> Result<(), Refused> {
        if self.bytes.len() >= u32::MAX as usize {
            return Err(Refused);
        }
        let bytes = self.bytes;
        let mut pos = 0usize;
        'value: loop {
            // Most values are strings: looked for before the other kinds.
            if bytes.get(pos) == Some(&b'"') {
                pos = self.string(pos + 1)?;
            } else {
                match bytes.get(pos) {
                    Some(b'-' | b'0'..=b'9') => pos = self.number(pos)?,
                    Some(&open_byte @ (b'{' | b'[')) => {
                        let object = open_byte == b'{';
                        if self.frames.len() >= DEPTH as usize - 1 {
                            // serde_json's recursion limit.
                            return Err(Refused);
                        }
                        let node = self.index()?;
                        self.frames.push(Frame {
                            node,
                            len: 0,
                            object,
                        });
                        self.nodes.push(if object {
                            Node::object(0, 0)
                        } else {
                            Node::Array { len: 0, end: 0 }
                        });
                        pos = skip_whitespace(bytes, pos + 1);
                        let close = if object { b'}' } else { b']' };
                        if bytes.get(pos) != Some(&close) {
                            if object {
                                pos = self.key(pos)?;
                            }
                            continue 'value;
                        }
                        // An empty array or object: closed below as it would be after a member.
                        pos += 1;
                        let frame = self.frames.pop();
                        self.close(frame)?;
                    }
                    Some(b'n') => pos = self.literal(pos, b"null", Node::Null)?,
                    Some(b't') => pos = self.literal(pos, b"true", Node::Bool(true))?,
                    Some(b'f') => pos = self.literal(pos, b"false", Node::Bool(false))?,
                    // Whitespace before the value (compact JSON has none: looked at last).
                    Some(b' ' | b'\n' | b'\t' | b'\r') => {
                        pos = skip_whitespace(bytes, pos);
                        continue 'value;
                    }
                    _ => return Err(Refused),
                }
            }
            // After a value: a comma and the next member, or the end of arrays and objects.
            loop {
                let Some(frame) = self.frames.last_mut() else {
                    pos = skip_whitespace(bytes, pos);
                    return if pos == bytes.len() {
                        Ok(())
                    } else {
                        Err(Refused)
                    };
                };
                frame.len += 1;
                let object = frame.object;
                // Compact JSON has no whitespace here: look before skipping.
                let mut next = bytes.get(pos);
                if !matches!(next, Some(b',' | b'}' | b']')) {
                    pos = skip_whitespace(bytes, pos);
                    next = bytes.get(pos);
                }
                match next {
                    Some(b',') => {
                        pos += 1;
                        if object {
                            pos = self.key(pos)?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(Refused),
                }
                pos += 1;
                let frame = self.frames.pop();
                self.close(frame)?;
            }
        }
    }

    /// Gives the array or object of `frame` its length and end.
    fn close(&mut self, frame: Option<Frame>) -> Result<(), Refused> {
        let Frame { node, len, object } = frame.ok_or(Refused)?;
        let end = self.index()?;
        let slot = self.nodes.get_mut(node as usize).ok_or(Refused)?;
        *slot = if object {
            Node::object(len, end)
        } else {
            Node::Array { len, end }
        };
        Ok(())
    }

    fn literal(&mut self, pos: usize, text: &[u8], node: Node) -> Result<usize, Refused> {
        if self.bytes.get(pos..pos + text.len()) == Some(text) {
            self.nodes.push(node);
            Ok(pos + text.len())
        } else {
            Err(Refused)
        }
    }

    fn index(&self) -> Result<u32, Refused> {
        u32::try_from(self.nodes.len()).map_err(|_| Refused)
    }

    /// An object member's key at `pos` (or after whitespace there) and its colon; returns the
    /// position after the colon.
    #[inline(always)]
    fn key(&mut self, mut pos: usize) -> Result<usize, Refused> {
        if self.bytes.get(pos) != Some(&b'"') {
            pos = skip_whitespace(self.bytes, pos);
            if self.bytes.get(pos) != Some(&b'"') {
                return Err(Refused);
            }
        }
        let mut pos = self.string(pos + 1)?;
        // Compact JSON has the colon right after the key.
        if self.bytes.get(pos) != Some(&b':') {
            pos = skip_whitespace(self.bytes, pos);
            if self.bytes.get(pos) != Some(&b':') {
                return Err(Refused);
            }
        }
        Ok(pos + 1)
    }

    /// A string whose text starts at `start` (after its opening quote); returns the position
    /// after its closing quote.
    #[inline(always)]
    fn string(&mut self, start: usize) -> Result<usize, Refused> {
        let stop = next_escape(self.bytes, start);
        match self.bytes.get(stop) {
            Some(b'"') => {
                // Offsets fit in u32: `parse` refuses longer lines.
                self.nodes.push(Node::Line {
                    at: start as u32,
                    len: (stop - start) as u32,
                });
                Ok(stop + 1)
            }
            Some(b'\\') => self.escaped_string(start, stop),
            _ => Err(Refused),
        }
    }

    /// A string with escapes: its text goes to the scratch buffer.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, first_escape: usize) -> Result<usize, Refused> {
        let text_at = self.scratch.len();
        let bytes = self.bytes;
        let mut run_start = start;
        let mut i = first_escape;
        loop {
            // `bytes[run_start..i]` is plain text of a valid `str`, cut at ASCII bytes.
            let run = std::str::from_utf8(bytes.get(run_start..i).ok_or(Refused)?)
                .map_err(|_| Refused)?;
            self.scratch.push_str(run);
            match bytes.get(i) {
                Some(b'"') => {
                    let at = u32::try_from(text_at).map_err(|_| Refused)?;
                    let len = u32::try_from(self.scratch.len() - text_at).map_err(|_| Refused)?;
                    self.nodes.push(Node::Scratch { at, len });
                    return Ok(i + 1);
                }
                Some(b'\\') => {
                    i = self.escape(i + 1)?;
                    run_start = i;
                    i = next_escape(bytes, i);
                }
                _ => return Err(Refused),
            }
        }
    }

    /// Decodes the escape after a backslash at `at`; returns the offset after it.
    fn escape(&mut self, at: usize) -> Result<usize, Refused> {
        let c = match self.bytes.get(at) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = self.hex4(at + 1)?;
                let (c, next) = match unit {
                    // A trailing surrogate first, or a leading one without its trailing half:
                    // serde_json refuses both.
                    0xDC00..=0xDFFF => return Err(Refused),
                    0xD800..=0xDBFF => {
                        if self.bytes.get(at + 5..at + 7) != Some(b"\\u") {
                            return Err(Refused);
                        }
                        let low = self.hex4(at + 7)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(Refused);
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code).ok_or(Refused)?, at + 11)
                    }
                    _ => (char::from_u32(unit).ok_or(Refused)?, at + 5),
                };
                self.scratch.push(c);
                return Ok(next);
            }
            _ => return Err(Refused),
        };
        self.scratch.push(c);
        Ok(at + 1)
    }

    fn hex4(&self, at: usize) -> Result<u32, Refused> {
        let digits = self.bytes.get(at..at + 4).ok_or(Refused)?;
        let mut value = 0;
        for &d in digits {
            let digit = char::from(d).to_digit(16).ok_or(Refused)?;
            value = value * 16 + digit;
        }
        Ok(value)
    }

    /// A number with serde_json's grammar and conversions: an integer without fraction or
    /// exponent is a `u64` (or an `i64` when negative) while it fits; anything else is the
    /// correctly rounded `f64` (serde_json's `float_roundtrip`), and a number too large for
    /// an `f64` is refused, as serde_json refuses it.
    fn number(&mut self, start: usize) -> Result<usize, Refused> {
        let bytes = self.bytes;
        let mut i = start;
        let negative = bytes.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        // The integer's value, read while its digits are found: exact up to 19 digits.
        let mut value: u64 = 0;
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if let Some(b'0'..=b'9') = bytes.get(i) {
                    return Err(Refused);
                }
            }
            Some(b'1'..=b'9') => {
                // Times are 13 digits: the first eight at once when they are all digits.
                if let Some(eight) = bytes
                    .get(i..i + 8)
                    .and_then(|w| <[u8; 8]>::try_from(w).ok())
                    .and_then(|w| eight_digits(u64::from_le_bytes(w)))
                {
                    value = eight;
                    i += 8;
                }
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    i += 1;
                }
            }
            _ => return Err(Refused),
        }
        let int_end = i;
        let mut float = false;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            let digits = i;
            while let Some(b'0'..=b'9') = bytes.get(i) {
                i += 1;
            }
            if i == digits {
                return Err(Refused);
            }
            float = true;
        }
        if let Some(b'e' | b'E') = bytes.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            let digits = i;
            while let Some(b'0'..=b'9') = bytes.get(i) {
                i += 1;
            }
            if i == digits {
                return Err(Refused);
            }
            float = true;
        }
        if !float {
            // At most 19 digits always fit in a u64; 20 may, and are read again with checks.
            let digits = bytes.get(int_start..int_end).ok_or(Refused)?;
            if digits.len() <= 20 {
                let mut fits = true;
                if digits.len() == 20 {
                    value = 0;
                    for &d in digits {
                        match value
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(u64::from(d - b'0')))
                        {
                            Some(v) => value = v,
                            None => {
                                fits = false;
                                break;
                            }
                        }
                    }
                }
                if fits {
                    let num = if !negative {
                        Num::U64(value)
                    } else {
                        // As serde_json: `-0` and what does not fit an i64 become floats.
                        let neg = (value as i64).wrapping_neg();
                        if neg >= 0 {
                            Num::F64(-(value as f64))
                        } else {
                            Num::I64(neg)
                        }
                    };
                    self.nodes.push(Node::num(num));
                    return Ok(i);
                }
            }
        }
        let text = std::str::from_utf8(bytes.get(start..i).ok_or(Refused)?).map_err(|_| Refused)?;
        let value: f64 = text.parse().map_err(|_| Refused)?;
        if !value.is_finite() {
            return Err(Refused);
        }
        self.nodes.push(Node::F64(value));
        Ok(i)
    }
}

/// The value of eight ASCII digits read as a little-endian word (the first digit in the lowest
/// byte), or `None` when a byte is no digit: simdjson's three multiplies.
#[inline]
fn eight_digits(word: u64) -> Option<u64> {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    // Every byte is 0x30..=0x3F, and none above 0x39 (adding 6 would carry it to 0x40).
    let digits = word & HIGH_NIBBLES == THREES
        && word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES == THREES;
    if !digits {
        return None;
    }
    let v = (word & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    Some((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32)
}

/// The position of the first byte at or after `pos` that is not JSON whitespace.
#[inline]
fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::eight_digits;

    #[test]
    fn eight_digits_reads_exactly_eight_digits() {
        let word = |s: &[u8; 8]| u64::from_le_bytes(*s);
        assert_eq!(eight_digits(word(b"15517000")), Some(15_517_000));
        assert_eq!(eight_digits(word(b"00000000")), Some(0));
        assert_eq!(eight_digits(word(b"99999999")), Some(99_999_999));
        assert_eq!(eight_digits(word(b"01234567")), Some(1_234_567));
        for bad in [
            b"1551700,",
            b"155170.0",
            b"/5517000",
            b":5517000",
            b"1551700 ",
            b"1e517000",
        ] {
            assert_eq!(
                eight_digits(word(bad)),
                None,
                "{:?}",
                std::str::from_utf8(bad)
            );
        }
        // Every digit position against every byte that is no digit.
        for at in 0..8 {
            for b in (0u8..=255).filter(|b| !b.is_ascii_digit()) {
                let mut w = *b"12345678";
                w[at] = b;
                assert_eq!(eight_digits(word(&w)), None, "{w:?}");
            }
        }
    }
}
