//! JSON values with JavaScript's semantics, borrowed from the line they were parsed from.
//!
//! fxa-amplitude-send ran `JSON.parse` and `JSON.stringify` in node, and the bodies it posted
//! depend on what those do that serde_json's `Value` does not:
//! - object keys: integer-like keys (`0` .. `4294967294`) first in ascending order, then the
//!   others in insertion order; a duplicate key keeps its first position and its last value;
//! - numbers are doubles (`1e400` is `Infinity`, `1.0` prints `1`);
//! - strings are UTF-16: a lone surrogate escape (`"\ud800"`) is a valid string, which
//!   `JSON.stringify` writes back as `\ud800`.
//!
//! [`Js`] keeps strings as WTF-8 bytes, borrowed from the input where the JSON text had no
//! escape. Parsing a line builds one small tree of borrowed slices, no owned
//! `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

/// A JSON value as JavaScript sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Js<'a> {
    Null,
    Bool(bool),
    Num(f64),
    /// WTF-8: UTF-8 in which lone surrogates are encoded like other code points.
    Str(Cow<'a, [u8]>),
    Arr(Vec<Js<'a>>),
    Obj(Obj<'a>),
}

/// An object's entries in JavaScript's own-key order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obj<'a> {
    entries: Vec<(Cow<'a, [u8]>, Js<'a>)>,
}

/// Why text is not a JSON value, with the byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub reason: &'static str,
    /// Byte offset in the parsed text.
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON: {} at byte {}", self.reason, self.offset)
    }
}

/// Nesting deeper than this is an error (node's `JSON.parse` overflowed its stack instead).
const MAX_DEPTH: usize = 512;

/// `JSON.parse(text)`, borrowing every string that has no escape.
///
/// A hand-written reader rather than serde_json, for three differences that decide the bytes
/// sent: serde_json rejects lone surrogate escapes in text mode and numbers beyond a double's
/// range (JavaScript reads `Infinity`), and its maps do not order keys as JavaScript does.
///
/// # Errors
/// When the text is not one JSON value surrounded by JSON whitespace.
pub fn parse(text: &[u8]) -> Result<Js<'_>, ParseError> {
    let mut reader = Reader { text, at: 0 };
    let value = reader.value(0)?;
    reader.skip_ws();
    if reader.at != text.len() {
        return Err(reader.error("unexpected data after the value"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            reason,
            offset: self.at,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &[u8], value: Js<'a>) -> Result<Js<'a>, ParseError> {
        if self.text[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected token"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Js<'a>, ParseError> {
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'"') => self.string().map(Js::Str),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b't') => self.literal(b"true", Js::Bool(true)),
            Some(b'f') => self.literal(b"false", Js::Bool(false)),
            Some(b'n') => self.literal(b"null", Js::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected token")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Js<'a>, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.at += 1;
        let mut obj = Obj {
            // FxA's Fields hold about 16 keys.
            entries: Vec::with_capacity(16),
        };
        let mut sorted = true;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Js::Obj(obj));
        }
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'"') => {}
                None => return Err(self.error("unexpected end of input")),
                Some(_) => return Err(self.error("expected a string key")),
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.at += 1;
            let value = self.value(depth)?;
            if array_index(&key).is_some() {
                sorted = false;
            }
            // A duplicate key keeps its first position and takes the last value.
            if let Some(slot) = obj.get_mut(&key) {
                *slot = value;
            } else {
                obj.entries.push((key, value));
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    break;
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
        if !sorted {
            // Stable: the other keys keep their insertion order, after the integer keys.
            obj.entries
                .sort_by_key(|(k, _)| array_index(k).map_or(1u64 << 32, u64::from));
        }
        Ok(Js::Obj(obj))
    }

    fn array(&mut self, depth: usize) -> Result<Js<'a>, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Js::Arr(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Js::Arr(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn number(&mut self) -> Result<Js<'a>, ParseError> {
        let start = self.at;
        let digits = |r: &mut Self| {
            let from = r.at;
            while r.peek().is_some_and(|b| b.is_ascii_digit()) {
                r.at += 1;
            }
            r.at - from
        };
        // Fast path: an integer of up to 15 digits is exact in a double.
        let rest = &self.text[start..];
        let int_len = rest
            .iter()
            .take(16)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if (1..=15).contains(&int_len)
            && (rest[0] != b'0' || int_len == 1)
            && !matches!(rest.get(int_len), Some(b'.' | b'e' | b'E' | b'0'..=b'9'))
        {
            let value = rest[..int_len]
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            self.at += int_len;
            // Below 10^15 < 2^53: exact.
            #[allow(clippy::cast_precision_loss)]
            return Ok(Js::Num(value as f64));
        }
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if digits(self) == 0 {
                return Err(self.error("invalid number"));
            }
        }
        // The grammar above is a subset of what `f64::from_str` reads, which rounds
        // correctly and gives infinity beyond the range, as JavaScript does.
        std::str::from_utf8(&self.text[start..self.at])
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(Js::Num)
            .ok_or_else(|| self.error("invalid number"))
    }

    /// A string literal at `"`, borrowed when it holds no escape.
    fn string(&mut self) -> Result<Cow<'a, [u8]>, ParseError> {
        self.at += 1;
        let start = self.at;
        // Skip the plain bytes in one tight loop; most strings have no escape.
        let rest = &self.text[start..];
        let Some(stop) = rest.iter().position(|b| STRING_STOP[usize::from(*b)]) else {
            self.at = self.text.len();
            return Err(self.error("unterminated string"));
        };
        self.at += stop;
        match rest[stop] {
            b'"' => {
                self.at += 1;
                return Ok(Cow::Borrowed(&rest[..stop]));
            }
            b'\\' => {}
            _ => return Err(self.error("control character in string")),
        }
        let mut owned = rest[..stop].to_vec();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut owned)?;
                }
                Some(0..0x20) => return Err(self.error("control character in string")),
                Some(b) => {
                    owned.push(b);
                    self.at += 1;
                }
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let Some(b) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.at += 1;
        let plain = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let mut code = u32::from(unit);
                // A high surrogate followed by an escaped low one is one code point.
                if (0xd800..0xdc00).contains(&unit) && self.text[self.at..].starts_with(b"\\u") {
                    let save = self.at;
                    self.at += 2;
                    let low = self.hex4()?;
                    if (0xdc00..0xe000).contains(&low) {
                        code = 0x10000 + ((code - 0xd800) << 10) + (u32::from(low) - 0xdc00);
                    } else {
                        self.at = save;
                    }
                }
                push_wtf8(out, code);
                return Ok(());
            }
            _ => {
                self.at -= 1;
                return Err(self.error("invalid escape"));
            }
        };
        out.push(plain);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, ParseError> {
        let mut unit = 0u16;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            // A hex digit is below 16.
            unit = unit * 16 + u16::try_from(digit).unwrap_or(0);
            self.at += 1;
        }
        Ok(unit)
    }
}

/// Bytes that end the plain run of a string literal: `"`, `\\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A code point (a lone surrogate included) as WTF-8.
fn push_wtf8(out: &mut Vec<u8>, code: u32) {
    // The shifts and masks keep every value below 256.
    let byte = |v: u32| u8::try_from(v & 0xff).unwrap_or(0);
    if code < 0x80 {
        out.push(byte(code));
    } else if code < 0x800 {
        out.extend_from_slice(&[byte(0xc0 | (code >> 6)), byte(0x80 | (code & 0x3f))]);
    } else if code < 0x10000 {
        out.extend_from_slice(&[
            byte(0xe0 | (code >> 12)),
            byte(0x80 | ((code >> 6) & 0x3f)),
            byte(0x80 | (code & 0x3f)),
        ]);
    } else {
        out.extend_from_slice(&[
            byte(0xf0 | (code >> 18)),
            byte(0x80 | ((code >> 12) & 0x3f)),
            byte(0x80 | ((code >> 6) & 0x3f)),
            byte(0x80 | (code & 0x3f)),
        ]);
    }
}

impl<'a> Js<'a> {
    /// JavaScript truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Js::Null => false,
            Js::Bool(b) => *b,
            Js::Num(n) => *n != 0.0 && !n.is_nan(),
            Js::Str(s) => !s.is_empty(),
            Js::Arr(_) | Js::Obj(_) => true,
        }
    }

    /// The object, if this is one.
    pub fn as_obj(&self) -> Option<&Obj<'a>> {
        match self {
            Js::Obj(obj) => Some(obj),
            _ => None,
        }
    }

    /// The string's WTF-8 bytes, if this is a string.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Js::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `value[key]` for a property read on any value: only objects have own keys here
    /// (strings' indices are handled by the callers that need them).
    pub fn get(&self, key: &[u8]) -> Option<&Js<'a>> {
        self.as_obj().and_then(|obj| obj.get(key))
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Js<'static> {
        match self {
            Js::Null => Js::Null,
            Js::Bool(b) => Js::Bool(b),
            Js::Num(n) => Js::Num(n),
            Js::Str(s) => Js::Str(Cow::Owned(s.into_owned())),
            Js::Arr(items) => Js::Arr(items.into_iter().map(Js::into_owned).collect()),
            Js::Obj(obj) => Js::Obj(obj.into_owned()),
        }
    }

    /// JavaScript `String(value)` appended to `out` as WTF-8.
    pub fn write_string(&self, out: &mut Vec<u8>) {
        match self {
            Js::Null => out.extend_from_slice(b"null"),
            Js::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Js::Num(n) => write_number_text(out, *n),
            Js::Str(s) => out.extend_from_slice(s),
            Js::Arr(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    // Array.prototype.join writes null (and undefined) as nothing.
                    if *item != Js::Null {
                        item.write_string(out);
                    }
                }
            }
            Js::Obj(_) => out.extend_from_slice(b"[object Object]"),
        }
    }
}

impl<'a> Obj<'a> {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// The entries in own-key order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Js<'a>)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&Js<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Js<'a>> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v)
    }

    /// Whether `key` is an own key.
    pub fn contains(&self, key: &[u8]) -> bool {
        self.entries.iter().any(|(k, _)| k.as_ref() == key)
    }

    /// `obj[key] = value`: an existing key keeps its position, a new one takes JavaScript's.
    pub fn set(&mut self, key: Cow<'a, [u8]>, value: Js<'a>) {
        if let Some(slot) = self.get_mut(&key) {
            *slot = value;
            return;
        }
        match array_index(&key) {
            Some(index) => {
                // Integer keys stay sorted ahead of the others.
                let at = self
                    .entries
                    .iter()
                    .position(|(k, _)| array_index(k).is_none_or(|other| other > index))
                    .unwrap_or(self.entries.len());
                self.entries.insert(at, (key, value));
            }
            None => self.entries.push((key, value)),
        }
    }

    /// `delete obj[key]`, returning the value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Js<'a>> {
        let at = self.entries.iter().position(|(k, _)| k.as_ref() == key)?;
        Some(self.entries.remove(at).1)
    }

    fn into_owned(self) -> Obj<'static> {
        Obj {
            entries: self
                .entries
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                .collect(),
        }
    }
}

/// The array index a key names (ECMAScript's canonical numeric string below 2^32 - 1), which
/// puts it among an object's integer keys.
fn array_index(key: &[u8]) -> Option<u32> {
    match key {
        [b'0'] => Some(0),
        [b'1'..=b'9', rest @ ..] if rest.len() < 10 && rest.iter().all(u8::is_ascii_digit) => {
            let value = key
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            u32::try_from(value).ok().filter(|v| *v != u32::MAX)
        }
        _ => None,
    }
}

/// `JSON.stringify(value)` appended to `out`.
pub fn write_json(out: &mut Vec<u8>, value: &Js<'_>) {
    match value {
        Js::Null => out.extend_from_slice(b"null"),
        Js::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Js::Num(n) if n.is_finite() => write_number_text(out, *n),
        // JSON.stringify writes NaN and the infinities as null.
        Js::Num(_) => out.extend_from_slice(b"null"),
        Js::Str(s) => write_json_str(out, s),
        Js::Arr(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Js::Obj(obj) => write_obj(out, obj.iter()),
    }
}

/// An object from its entries, in the order given.
pub fn write_obj<'v, 'a: 'v>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (&'v [u8], &'v Js<'a>)>,
) {
    out.push(b'{');
    for (i, (key, value)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_str(out, key);
        out.push(b':');
        write_json(out, value);
    }
    out.push(b'}');
}

/// A JSON string literal as node 12's `JSON.stringify` writes it: `"`, `\` and control
/// characters escaped (short forms where JSON has them), lone surrogates as `\udxxx`,
/// everything else (U+2028 included) as it is.
pub fn write_json_str(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        // Most bytes are copied as they are: find the next one that is not.
        match s[i..].iter().position(|b| SPECIAL[usize::from(*b)]) {
            Some(skip) => i += skip,
            None => break,
        }
        let b = s[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0x0f)]);
                i += 1;
                start = i;
                continue;
            }
            // WTF-8 of a surrogate: ED A0..BF xx.
            0xed if s.get(i + 1).is_some_and(|c| *c >= 0xa0) => {
                out.extend_from_slice(&s[start..i]);
                let unit = surrogate_unit(s, i);
                out.extend_from_slice(b"\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[usize::from((unit >> shift) & 0x0f)]);
                }
                i += 3;
                start = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(escape);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&s[start.min(s.len())..]);
    out.push(b'"');
}

/// Bytes that [`write_json_str`] looks at: control characters, `"`, `\\`, and 0xED (which
/// starts the WTF-8 of a surrogate).
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0xed] = true;
    table
};

/// The UTF-16 unit of the 3-byte WTF-8 sequence at `i`.
fn surrogate_unit(s: &[u8], i: usize) -> u16 {
    let byte = |k: usize| u16::from(s.get(i + k).copied().unwrap_or(0x80));
    ((byte(0) & 0x0f) << 12) | ((byte(1) & 0x3f) << 6) | (byte(2) & 0x3f)
}

/// WTF-8 as UTF-8, each lone surrogate replaced by U+FFFD: what node's `Buffer.from(string)`
/// (and so its HMAC input) makes of a JavaScript string.
pub fn to_utf8_lossy(s: &[u8]) -> Cow<'_, [u8]> {
    if !s.windows(2).any(|w| w[0] == 0xed && w[1] >= 0xa0) {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == 0xed && s.get(i + 1).is_some_and(|c| *c >= 0xa0) {
            out.extend_from_slice("\u{fffd}".as_bytes());
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// JavaScript's `Number.prototype.toString()`, which `JSON.stringify` and `String()` use.
pub fn write_number_text(out: &mut Vec<u8>, n: f64) {
    // Safe integers print all their digits (the shortest form that reads back); most numbers
    // in events are such. Larger ones print their shortest digits padded with zeros.
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
        // Exact: |n| <= 2^53 and n has no fraction.
        #[allow(clippy::cast_possible_truncation)]
        let int = n as i64;
        out.extend_from_slice(int.to_string().as_bytes());
        return;
    }
    out.extend_from_slice(metricsmith::js::format_f64(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let value = parse(text.as_bytes()).expect("valid JSON in the table");
        let mut out = Vec::new();
        write_json(&mut out, &value);
        String::from_utf8(out).expect("the table has no lone surrogates")
    }

    #[test]
    fn stringify_after_parse_is_javascripts() {
        let table = [
            (r#"{"b":1,"a":2}"#, r#"{"b":1,"a":2}"#),
            (r#"{"b":1,"2":2,"1":3}"#, r#"{"1":3,"2":2,"b":1}"#),
            (r#"{"a":1,"b":2,"a":3}"#, r#"{"a":3,"b":2}"#),
            (
                r#"{"01":1,"1":2,"4294967295":3,"4294967294":4}"#,
                r#"{"1":2,"4294967294":4,"01":1,"4294967295":3}"#,
            ),
            (
                r#"[1.0,1e3,1.5e-7,-0,1e21,123456789012345678901]"#,
                r#"[1,1000,1.5e-7,0,1e+21,123456789012345680000]"#,
            ),
            (r#""\u0041\/\u2028\u0001\b""#, "\"A/\u{2028}\\u0001\\b\""),
            (
                r#""\ud83d\ude00 \ud800 x\udc00""#,
                "\"\u{1f600} \\ud800 x\\udc00\"",
            ),
            (r#"{"__proto__":1}"#, r#"{"__proto__":1}"#),
        ];
        for (input, expected) in table {
            assert_eq!(round_trip(input), expected, "{input}");
        }
    }

    #[test]
    fn string_conversion_is_javascripts() {
        let table = [
            ("1", "1"),
            ("0.5", "0.5"),
            ("1e21", "1e+21"),
            ("5e-324", "5e-324"),
            (r#"[1,null,"a",[2,3]]"#, "1,,a,2,3"),
            (r#"{"a":1}"#, "[object Object]"),
            ("true", "true"),
            ("null", "null"),
        ];
        for (input, expected) in table {
            let mut out = Vec::new();
            parse(input.as_bytes())
                .expect("valid")
                .write_string(&mut out);
            assert_eq!(String::from_utf8_lossy(&out), expected, "{input}");
        }
    }

    #[test]
    fn lone_surrogates_become_replacement_characters_for_hashing() {
        let value = parse(br#""a\ud800b""#).expect("valid");
        let bytes = value.as_str().expect("a string");
        assert_eq!(to_utf8_lossy(bytes).as_ref(), "a\u{fffd}b".as_bytes());
    }

    #[test]
    fn invalid_json_is_an_error() {
        for text in [
            "",
            "not json",
            "{\"a\":1} x",
            "\u{feff}{}",
            "[1,]",
            "{\"a\" 1}",
            "\"\\x\"",
            "01",
            "1.",
            "\"a\u{1}\"",
            "[[[[",
            "tru",
        ] {
            assert!(parse(text.as_bytes()).is_err(), "{text:?}");
        }
    }

    #[test]
    fn numbers_beyond_a_double_are_infinity_as_in_javascript() {
        assert_eq!(parse(b"1e400").expect("valid"), Js::Num(f64::INFINITY));
        let mut out = Vec::new();
        write_json(&mut out, &Js::Num(f64::INFINITY));
        assert_eq!(out, b"null");
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        let err = parse(deep.as_bytes()).expect_err("too deep");
        assert_eq!(err.reason, "nesting too deep");
    }

    #[test]
    fn set_places_new_keys_as_javascript_does() {
        let Js::Obj(mut obj) = parse(br#"{"b":1,"5":2}"#).expect("valid") else {
            panic!("an object");
        };
        obj.set(Cow::Borrowed(b"a"), Js::Null);
        obj.set(Cow::Borrowed(b"3"), Js::Null);
        obj.set(Cow::Borrowed(b"b"), Js::Bool(true));
        let mut out = Vec::new();
        write_json(&mut out, &Js::Obj(obj));
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"3":null,"5":2,"b":true,"a":null}"#
        );
    }
}
