//! mozlog lines exactly as FxA's mozlog 2.2.0 heka formatter wrote them (spec §1.2).
//!
//! A line is one JSON object with the keys `Timestamp` (ms × 1,000,000), `Logger`, `Type`,
//! `Hostname` (only when configured: FxA's lines lack it), `Severity`, `Pid`, `EnvVersion`
//! (`"2.0"`) and `Fields`, in that order, followed by `\n`.
//! In `Fields`, numbers, strings and booleans are copied, while `null`, objects and arrays
//! become their JSON text as a string.
//! Numbers are written the way JavaScript's `JSON.stringify` writes them (`1.0` as `1`,
//! `1e21` as `1e+21`).
//!
//! ```
//! use metricsmith::mozlog::{self, Record, Severity};
//! use serde_json::json;
//!
//! let fields = json!({"op": "amplitudeEvent", "event_properties": {"service": "sync"}, "x": null});
//! let line = mozlog::format_line(&Record {
//!     timestamp_ms: 1_551_700_123_460,
//!     logger: "fxa-auth-server",
//!     type_name: "amplitudeEvent",
//!     hostname: None,
//!     severity: Severity::Info,
//!     pid: 4242,
//!     fields: fields.as_object(),
//! });
//! assert_eq!(
//!     line,
//!     concat!(
//!         r#"{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"amplitudeEvent","#,
//!         r#""Severity":6,"Pid":4242,"EnvVersion":"2.0","Fields":{"op":"amplitudeEvent","#,
//!         r#""event_properties":"{\"service\":\"sync\"}","x":"null"}}"#,
//!         "\n"
//!     )
//! );
//! ```

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};

use crate::clock::{Clock, SystemClock};
use crate::view::{JsonRef, Kind, Num};

/// Why a line could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The sink failed.
    #[error("cannot write a mozlog line: {0}")]
    Io(#[from] io::Error),
}

/// mozlog severities as heka (syslog) numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// intel CRITICAL: 0.
    Critical = 0,
    /// intel ERROR: 2 (mozlog's table, not syslog's 3).
    Error = 2,
    /// intel WARN: 4.
    Warn = 4,
    /// intel INFO: 6; every metrics line.
    Info = 6,
    /// intel DEBUG, VERBOSE and TRACE: 7.
    Debug = 7,
}

impl Severity {
    /// The number written in `Severity`.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Everything one line holds.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// When the line is logged, ms since the epoch; written × 1,000,000.
    pub timestamp_ms: i64,
    /// `Logger`: the app name.
    pub logger: &'a str,
    /// `Type`: the logger-name suffix and the op, joined by `.`.
    pub type_name: &'a str,
    /// `Hostname`; FxA's lines lack it, so `None` unless configured.
    pub hostname: Option<&'a str>,
    /// `Severity`.
    pub severity: Severity,
    /// `Pid`.
    pub pid: u32,
    /// The payload; `Fields` is absent when `None`.
    pub fields: Option<&'a Map<String, Value>>,
}

/// Formats one line, `\n` included.
pub fn format_line(record: &Record<'_>) -> String {
    let mut out = Vec::with_capacity(512);
    write_line(&mut out, record);
    // Only UTF-8 goes in: `str`s, JSON escapes and ASCII digits.
    String::from_utf8(out)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

/// Appends one line, `\n` included, to `out`.
pub fn write_line(out: &mut Vec<u8>, record: &Record<'_>) {
    write_head(out, record);
    if let Some(fields) = record.fields {
        out.extend_from_slice(b",\"Fields\":{");
        for (i, (key, value)) in fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, key, Depth::Top);
            out.push(b':');
            write_field_value(out, value);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"}\n");
}

/// Appends one line whose `Fields` object is already written as JSON text (for instance by
/// [`crate::amplitude::Encoding::Fields`]), `\n` included; `record.fields` is ignored.
///
/// ```
/// use metricsmith::mozlog::{self, Record, Severity};
///
/// let record = Record {
///     timestamp_ms: 1,
///     logger: "fxa-content-server",
///     type_name: "amplitudeEvent",
///     hostname: None,
///     severity: Severity::Info,
///     pid: 7,
///     fields: None,
/// };
/// let mut out = Vec::new();
/// mozlog::write_line_with_fields(&mut out, &record, Some(br#"{"a":"[1]"}"#));
/// assert_eq!(
///     String::from_utf8(out)?,
///     concat!(
///         r#"{"Timestamp":1000000,"Logger":"fxa-content-server","Type":"amplitudeEvent","#,
///         r#""Severity":6,"Pid":7,"EnvVersion":"2.0","Fields":{"a":"[1]"}}"#,
///         "\n"
///     )
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_line_with_fields(out: &mut Vec<u8>, record: &Record<'_>, fields: Option<&[u8]>) {
    write_head(out, record);
    if let Some(fields) = fields {
        out.extend_from_slice(b",\"Fields\":");
        out.extend_from_slice(fields);
    }
    out.extend_from_slice(b"}\n");
}

/// The envelope of a line up to `Fields`, without it: `{"Timestamp":..,"EnvVersion":"2.0"`.
///
/// The amplitude transform writes its own `Fields` after it (see
/// [`crate::amplitude::Mapping::transform_to`]), so the envelope has one writer.
pub(crate) fn write_head(out: &mut Vec<u8>, record: &Record<'_>) {
    out.extend_from_slice(b"{\"Timestamp\":");
    // ms × 10^6 is the ms digits and six zeros; that also holds past i64 (after the year
    // 2262), where JavaScript still prints the digits.
    if record.timestamp_ms == 0 {
        out.push(b'0');
    } else {
        push_int(out, record.timestamp_ms);
        out.extend_from_slice(b"000000");
    }
    out.extend_from_slice(b",\"Logger\":");
    write_str(out, record.logger, Depth::Top);
    out.extend_from_slice(b",\"Type\":");
    write_str(out, record.type_name, Depth::Top);
    if let Some(hostname) = record.hostname {
        out.extend_from_slice(b",\"Hostname\":");
        write_str(out, hostname, Depth::Top);
    }
    out.extend_from_slice(b",\"Severity\":");
    push_int(out, i64::from(record.severity.code()));
    out.extend_from_slice(b",\"Pid\":");
    push_int(out, i64::from(record.pid));
    out.extend_from_slice(b",\"EnvVersion\":\"2.0\"");
}

/// One value of `Fields`: scalars as they are, `null` as `"null"`, objects and arrays as
/// their JSON text in a string.
pub(crate) fn write_field_value<'a>(out: &mut Vec<u8>, value: impl JsonRef<'a>) {
    let (kind, plain) = value.kind_plain();
    write_field_kind(out, value, kind, plain);
}

/// [`write_field_value`] of a value whose [`JsonRef::kind_plain`] was read already.
#[inline]
pub(crate) fn write_field_kind<'a>(
    out: &mut Vec<u8>,
    value: impl JsonRef<'a>,
    kind: Kind<'_>,
    plain: bool,
) {
    match kind {
        Kind::Number(n) => write_number(out, n),
        Kind::String(s) if plain => write_plain_str(out, s, Depth::Top),
        Kind::String(s) => write_str(out, s, Depth::Top),
        Kind::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Kind::Null => out.extend_from_slice(b"\"null\""),
        Kind::Array | Kind::Object => {
            out.push(b'"');
            write_value(out, value, Depth::Nested);
            out.push(b'"');
        }
    }
}

/// The heka formatter's `Fields` conversion of a payload object.
///
/// ```
/// use metricsmith::mozlog::heka_fields;
/// use serde_json::json;
///
/// let fields = heka_fields(json!({"a": 1, "b": null, "c": [1.0, "x"]}).as_object().unwrap());
/// assert_eq!(serde_json::Value::Object(fields), json!({"a": 1, "b": "null", "c": "[1,\"x\"]"}));
/// ```
pub fn heka_fields(payload: &Map<String, Value>) -> Map<String, Value> {
    payload
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Number(_) | Value::String(_) | Value::Bool(_) => value.clone(),
                Value::Null => Value::String("null".to_owned()),
                Value::Array(_) | Value::Object(_) => Value::String(to_js_json(value)),
            };
            (key.clone(), value)
        })
        .collect()
}

/// `JSON.stringify(value)`: compact, JavaScript number formatting.
pub fn to_js_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_value(&mut out, value, Depth::Top);
    String::from_utf8(out)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

/// Appends `JSON.stringify(value)` to `out`: [`to_js_json`] into a buffer the caller reuses.
///
/// ```
/// use serde_json::json;
///
/// let mut out = b"x=".to_vec();
/// metricsmith::mozlog::write_json(&mut out, &json!({"a": [1.0, 1e21, null]}));
/// assert_eq!(out, br#"x={"a":[1,1e+21,null]}"#);
/// ```
pub fn write_json<'a>(out: &mut Vec<u8>, value: impl JsonRef<'a>) {
    write_value(out, value, Depth::Top);
}

/// Appends `s` as a JSON string literal to `out`, escaped as `JSON.stringify` escapes it.
///
/// ```
/// let mut out = Vec::new();
/// metricsmith::mozlog::write_json_str(&mut out, "a\"b\n");
/// assert_eq!(out, br#""a\"b\n""#);
/// ```
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    write_str(out, s, Depth::Top);
}

/// Whether text lands directly in the line or inside a JSON string (stringified objects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Directly in the output.
    Top,
    /// Inside a JSON string: every literal is escaped once more.
    Nested,
}

pub(crate) fn write_value<'a>(out: &mut Vec<u8>, value: impl JsonRef<'a>, depth: Depth) {
    let (kind, plain) = value.kind_plain();
    write_kind(out, value, kind, plain, depth);
}

/// A string literal of a string that needs no escape.
#[inline]
fn write_plain_str(out: &mut Vec<u8>, s: &str, depth: Depth) {
    write_quote(out, depth);
    out.extend_from_slice(s.as_bytes());
    write_quote(out, depth);
}

/// [`write_value`] of a value whose [`JsonRef::kind_plain`] was read already.
#[inline]
pub(crate) fn write_kind<'a>(
    out: &mut Vec<u8>,
    value: impl JsonRef<'a>,
    kind: Kind<'_>,
    plain: bool,
    depth: Depth,
) {
    match kind {
        Kind::String(s) if plain => write_plain_str(out, s, depth),
        Kind::Null => out.extend_from_slice(b"null"),
        Kind::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Kind::Number(n) => write_number(out, n),
        Kind::String(s) => write_str(out, s, depth),
        Kind::Array => {
            out.push(b'[');
            for (i, item) in value.items().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth);
            }
            out.push(b']');
        }
        Kind::Object => {
            out.push(b'{');
            for (i, (key, item)) in value.entries().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key, depth);
                out.push(b':');
                write_value(out, item, depth);
            }
            out.push(b'}');
        }
    }
}

/// Bytes that JSON escapes: control characters, `"` and `\\`.
pub(crate) static NEEDS_ESCAPE: [bool; 256] = {
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

/// Writes a JSON string literal; at [`Depth::Nested`] the literal itself is escaped again,
/// because it sits inside the string that holds the stringified object.
#[inline]
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str, depth: Depth) {
    write_quote(out, depth);
    write_escaped(out, s, depth);
    write_quote(out, depth);
}

/// The quote of a string literal at `depth`.
pub(crate) fn write_quote(out: &mut Vec<u8>, depth: Depth) {
    // A push, not a one-byte slice copy: quotes are a good part of every line's writes.
    match depth {
        Depth::Top => out.push(b'"'),
        Depth::Nested => out.extend_from_slice(b"\\\""),
    }
}

/// The body of a string literal, without quotes, so a literal can be written in pieces.
#[inline]
pub(crate) fn write_escaped(out: &mut Vec<u8>, s: &str, depth: Depth) {
    let bytes = s.as_bytes();
    let first = next_escape(bytes, 0);
    if first == bytes.len() {
        // Most strings need no escape: one copy, without the escaping loop's frame.
        out.extend_from_slice(bytes);
    } else {
        write_escaped_from(out, bytes, first, depth);
    }
}

/// [`write_escaped`] of a string whose first escaped byte is at `first`.
#[inline(never)]
fn write_escaped_from(out: &mut Vec<u8>, bytes: &[u8], first: usize, depth: Depth) {
    let mut start = 0;
    let mut next = Some(first);
    loop {
        // The plain run up to the next escaped byte is copied whole.
        let i = next.take().unwrap_or_else(|| next_escape(bytes, start));
        let Some(&b) = bytes.get(i) else {
            break;
        };
        let escape: &[u8] = match (b, depth) {
            (b'"', Depth::Top) => b"\\\"",
            (b'\\', Depth::Top) => b"\\\\",
            (b'\n', Depth::Top) => b"\\n",
            (b'\r', Depth::Top) => b"\\r",
            (b'\t', Depth::Top) => b"\\t",
            (0x08, Depth::Top) => b"\\b",
            (0x0c, Depth::Top) => b"\\f",
            (b'"', Depth::Nested) => b"\\\\\\\"",
            (b'\\', Depth::Nested) => b"\\\\\\\\",
            (b'\n', Depth::Nested) => b"\\\\n",
            (b'\r', Depth::Nested) => b"\\\\r",
            (b'\t', Depth::Nested) => b"\\\\t",
            (0x08, Depth::Nested) => b"\\\\b",
            (0x0c, Depth::Nested) => b"\\\\f",
            // `next_escape` stops only at control characters, quotes and backslashes.
            _ => {
                out.extend_from_slice(&bytes[start..i]);
                if depth == Depth::Nested {
                    out.push(b'\\');
                }
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0x0f)]);
                start = i + 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The index of the first byte at or after `from` that a JSON string literal escapes (a
/// control character, `"` or a backslash), or `bytes.len()` when there is none.
///
/// A word of eight bytes at a time (two while sixteen are left): the lowest flagged byte of
/// [`escape_mask`] is the first one, so a word that holds a stop gives its position at once,
/// and a short rest is read as the last eight bytes of `bytes` with the bytes before `from`
/// masked off.
#[inline(always)]
pub(crate) fn next_escape(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    // Sixteen bytes a step while they last (ids and tokens are 32 to 64 bytes), then eight.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some(block) = bytes
        .get(i..i + 16)
        .and_then(|w| <&[u8; 16]>::try_from(w).ok())
    {
        let mask = sse2::escape_mask16(block);
        if mask != 0 {
            return i + mask.trailing_zeros() as usize;
        }
        i += 16;
    }
    // The rest of a slice of sixteen bytes or more: its last sixteen, the bytes already
    // scanned shifted out of the mask.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if let Some(block) = bytes
        .len()
        .checked_sub(16)
        .filter(|_| i < bytes.len())
        .and_then(|at| bytes.get(at..))
        .and_then(|w| <&[u8; 16]>::try_from(w).ok())
    {
        let skip = i + 16 - bytes.len();
        let mask = sse2::escape_mask16(block) >> skip;
        return if mask == 0 {
            bytes.len()
        } else {
            i + mask.trailing_zeros() as usize
        };
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    while let Some((a, b)) = bytes.get(i..i + 16).and_then(|w| {
        let a = <[u8; 8]>::try_from(w.get(..8)?).ok()?;
        let b = <[u8; 8]>::try_from(w.get(8..)?).ok()?;
        Some((u64::from_le_bytes(a), u64::from_le_bytes(b)))
    }) {
        let mask = escape_mask(a);
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        let mask = escape_mask(b);
        if mask != 0 {
            return i + 8 + (mask.trailing_zeros() / 8) as usize;
        }
        i += 16;
    }
    while let Some(word) = bytes
        .get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let mask = escape_mask(u64::from_le_bytes(word));
        if mask != 0 {
            return i + (mask.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let len = bytes.len();
    if i >= len {
        return len;
    }
    if let Some(word) = len
        .checked_sub(8)
        .and_then(|at| bytes.get(at..))
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        // The word ends at `len`: its first `8 - (len - i)` bytes (1 to 7) were already
        // scanned, and are replaced by plain ones (a borrow from a flagged byte could flag
        // the bytes above it).
        let scanned = (1u64 << (8 * (8 - (len - i)))) - 1;
        let word = (u64::from_le_bytes(word) & !scanned) | (0x4141_4141_4141_4141 & scanned);
        let mask = escape_mask(word);
        return if mask == 0 {
            len
        } else {
            len - 8 + (mask.trailing_zeros() / 8) as usize
        };
    }
    bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| NEEDS_ESCAPE[usize::from(b)]))
        .map_or(len, |at| i + at)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether `s` holds a byte that a JSON string literal escapes.
pub(crate) fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| NEEDS_ESCAPE[usize::from(b)])
}

/// SSE2 (x86_64's baseline) through `safe_arch`: sixteen bytes in a few instructions.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, max_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };

    /// Bit `i` is set when byte `i` of `block` needs an escape (see [`super::escape_mask`]).
    #[inline(always)]
    pub(super) fn escape_mask16(block: &[u8; 16]) -> u32 {
        let v = load_unaligned_m128i(block);
        let quote = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8));
        let backslash = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8));
        // Below 0x20 exactly when the unsigned maximum with 0x1f is 0x1f.
        let limit = set_splat_i8_m128i(0x1f);
        let control = cmp_eq_mask_i8_m128i(max_u8_m128i(v, limit), limit);
        move_mask_i8_m128i(bitor_m128i(bitor_m128i(quote, backslash), control)) as u32
    }

    #[cfg(test)]
    #[test]
    fn every_byte_at_every_position_is_flagged_as_the_table_says() {
        for at in 0..16 {
            for byte in 0..=255u8 {
                let mut block = [b'a'; 16];
                block[at] = byte;
                let want = if super::NEEDS_ESCAPE[usize::from(byte)] {
                    1 << at
                } else {
                    0
                };
                assert_eq!(escape_mask16(&block), want, "{byte:#x} at {at}");
            }
        }
    }
}

/// The high bit of every byte of `word` (little-endian: the first byte lowest) that needs an
/// escape, and possibly of later bytes: the lowest set bit is always exact, so
/// `trailing_zeros() / 8` is the position of the first such byte.
///
/// The classic bit tricks: `x - 0x01..01 * n & !x & 0x80..80` flags the bytes of `x` below `n`
/// (for `n` <= 128; a borrow can only flag bytes above a flagged one), and `x ^ c` has a zero
/// byte where `x` holds `c`.
pub(crate) fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let control = below(word, 0x20);
    let quote = below(word ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(word ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash
}

/// Integers up to 2^53 are printed as they are; anything else goes through an `f64` and
/// JavaScript's `Number.prototype.toString`, which is what `JSON.stringify` prints.
pub(crate) fn write_number(out: &mut Vec<u8>, n: Num) {
    const SAFE: u64 = 1 << 53;
    // Fast path: safe integers print as they are, without an intermediate String.
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= SAFE) {
        push_int(out, i);
        return;
    }
    // JSON.stringify writes NaN and ±Infinity as null; serde_json never holds them.
    if n.as_f64().is_finite() {
        out.extend_from_slice(crate::js::num_to_string(n).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// An integer in decimal, without the formatting machinery (numbers are most of a line's
/// values).
pub(crate) fn push_int(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Where a [`Logger`] writes.
struct Sink {
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
}

/// A mozlog logger: formats each record into a reused buffer and writes the whole line with
/// one `write_all` under a mutex, so lines never interleave across threads.
///
/// ```
/// use std::sync::Arc;
/// use metricsmith::clock::FixedClock;
/// use metricsmith::mozlog::{Logger, MemorySink};
/// use serde_json::json;
///
/// let sink = MemorySink::new();
/// let log = Logger::builder("fxa-oauth-server.grant")
///     .clock(Arc::new(FixedClock::new(1)))
///     .pid(7)
///     .writer(sink.clone())
///     .build();
/// log.info("amplitudeEvent", json!({"n": 1}).as_object()).unwrap();
/// assert_eq!(
///     sink.lines(),
///     [r#"{"Timestamp":1000000,"Logger":"fxa-oauth-server","Type":"grant.amplitudeEvent","Severity":6,"Pid":7,"EnvVersion":"2.0","Fields":{"n":1}}"#]
/// );
/// ```
pub struct Logger {
    app: String,
    type_prefix: String,
    hostname: Option<String>,
    pid: u32,
    clock: Arc<dyn Clock>,
    sink: Mutex<Sink>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("app", &self.app)
            .field("type_prefix", &self.type_prefix)
            .field("hostname", &self.hostname)
            .field("pid", &self.pid)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// Starts a logger named like an intel logger: `app[.suffix...]`.
    ///
    /// The first segment becomes `Logger`; the rest is prepended to every op in `Type`.
    /// Defaults: stderr (the auth server's stream), the system clock, this process's pid and
    /// no `Hostname`.
    pub fn builder(name: &str) -> LoggerBuilder {
        let (app, type_prefix) = name.split_once('.').unwrap_or((name, ""));
        LoggerBuilder {
            app: app.to_owned(),
            type_prefix: type_prefix.to_owned(),
            hostname: None,
            pid: std::process::id(),
            clock: Arc::new(SystemClock),
            out: Box::new(io::stderr()),
        }
    }

    /// The app name written in `Logger`.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The clock behind `Timestamp`.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Writes one line with `Type` = the logger suffix and `op`.
    ///
    /// # Errors
    /// [`Error::Io`] when the sink fails.
    pub fn log(
        &self,
        severity: Severity,
        op: &str,
        fields: Option<&Map<String, Value>>,
    ) -> Result<(), Error> {
        let timestamp_ms = self.clock.now_ms();
        let mut type_name_buf;
        let type_name = if self.type_prefix.is_empty() {
            op
        } else {
            type_name_buf = String::with_capacity(self.type_prefix.len() + 1 + op.len());
            type_name_buf.push_str(&self.type_prefix);
            type_name_buf.push('.');
            type_name_buf.push_str(op);
            type_name_buf.as_str()
        };
        let record = Record {
            timestamp_ms,
            logger: &self.app,
            type_name,
            hostname: self.hostname.as_deref(),
            severity,
            pid: self.pid,
            fields,
        };
        // The buffer is cleared before use, so a poisoned lock holds nothing half-written.
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        let Sink { out, buf } = &mut *sink;
        buf.clear();
        write_line(buf, &record);
        out.write_all(buf)?;
        out.flush()?;
        Ok(())
    }

    /// [`Logger::log`] at [`Severity::Info`].
    ///
    /// # Errors
    /// [`Error::Io`] when the sink fails.
    pub fn info(&self, op: &str, fields: Option<&Map<String, Value>>) -> Result<(), Error> {
        self.log(Severity::Info, op, fields)
    }

    /// [`Logger::log`] at [`Severity::Error`].
    ///
    /// # Errors
    /// [`Error::Io`] when the sink fails.
    pub fn error(&self, op: &str, fields: Option<&Map<String, Value>>) -> Result<(), Error> {
        self.log(Severity::Error, op, fields)
    }
}

/// Options of a [`Logger`].
pub struct LoggerBuilder {
    app: String,
    type_prefix: String,
    hostname: Option<String>,
    pid: u32,
    clock: Arc<dyn Clock>,
    out: Box<dyn Write + Send>,
}

impl fmt::Debug for LoggerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggerBuilder")
            .field("app", &self.app)
            .field("type_prefix", &self.type_prefix)
            .field("hostname", &self.hostname)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl LoggerBuilder {
    /// Writes `Hostname` (FxA's lines lack it).
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = Some(hostname.into());
        self
    }

    /// Sets `Pid` (default: this process).
    pub fn pid(mut self, pid: u32) -> Self {
        self.pid = pid;
        self
    }

    /// Sets the clock behind `Timestamp`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Writes to stderr (the default; the auth server's stream).
    pub fn stderr(mut self) -> Self {
        self.out = Box::new(io::stderr());
        self
    }

    /// Writes to stdout (mozlog's default; the content and oauth servers' stream).
    pub fn stdout(mut self) -> Self {
        self.out = Box::new(io::stdout());
        self
    }

    /// Writes to any sink.
    pub fn writer(mut self, out: impl Write + Send + 'static) -> Self {
        self.out = Box::new(out);
        self
    }

    /// Builds the logger.
    pub fn build(self) -> Logger {
        Logger {
            app: self.app,
            type_prefix: self.type_prefix,
            hostname: self.hostname,
            pid: self.pid,
            clock: self.clock,
            sink: Mutex::new(Sink {
                out: self.out,
                buf: Vec::with_capacity(1024),
            }),
        }
    }
}

/// A cloneable in-memory sink: every clone appends to the same buffer; for tests.
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far.
    pub fn contents(&self) -> Vec<u8> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Everything written so far, split into lines without their `\n`.
    pub fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.contents())
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Empties the sink.
    pub fn clear(&self) {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn js(value: Value) -> String {
        to_js_json(&value)
    }

    #[test]
    fn numbers_like_javascript() {
        let cases: [(Value, &str); 14] = [
            (json!(0), "0"),
            (json!(-0.0), "0"),
            (json!(1.0), "1"),
            (json!(1.5), "1.5"),
            (json!(-2.25), "-2.25"),
            (json!(0.1), "0.1"),
            (json!(1e21), "1e+21"),
            (json!(1e20), "100000000000000000000"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(0.000001), "0.000001"),
            (json!(1551700123456.5), "1551700123456.5"),
            (json!(u64::MAX), "18446744073709552000"),
            (json!(i64::MIN), "-9223372036854776000"),
            (json!(9_007_199_254_740_993_u64), "9007199254740992"),
        ];
        for (value, text) in cases {
            assert_eq!(js(value.clone()), text, "{value:?}");
        }
        assert_eq!(js(json!(123_456_789e-30)), "1.23456789e-22");
    }

    #[test]
    fn strings_are_escaped_once_at_top_and_twice_when_nested() {
        let s = "q\"b\\n\nt\tc\u{1}u\u{2028}é";
        assert_eq!(js(json!(s)), serde_json::to_string(s).unwrap());
        let fields = json!({"s": s, "o": {"k": s}});
        let line = format_line(&Record {
            timestamp_ms: 0,
            logger: "a",
            type_name: "b",
            hostname: None,
            severity: Severity::Info,
            pid: 1,
            fields: fields.as_object(),
        });
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["Fields"]["s"], json!(s));
        let inner: Value = serde_json::from_str(parsed["Fields"]["o"].as_str().unwrap()).unwrap();
        assert_eq!(inner, json!({"k": s}));
    }

    #[test]
    fn envelope_with_hostname_and_without_fields() {
        let line = format_line(&Record {
            timestamp_ms: 1,
            logger: "app",
            type_name: "op",
            hostname: Some("h"),
            severity: Severity::Error,
            pid: 2,
            fields: None,
        });
        assert_eq!(
            line,
            "{\"Timestamp\":1000000,\"Logger\":\"app\",\"Type\":\"op\",\"Hostname\":\"h\",\"Severity\":2,\"Pid\":2,\"EnvVersion\":\"2.0\"}\n"
        );
        let far = format_line(&Record {
            timestamp_ms: i64::MAX,
            fields: None,
            hostname: None,
            ..Record {
                timestamp_ms: 0,
                logger: "a",
                type_name: "b",
                hostname: None,
                severity: Severity::Debug,
                pid: 0,
                fields: None,
            }
        });
        assert!(far.starts_with("{\"Timestamp\":9223372036854775807000000,"));
    }

    #[test]
    fn integers_are_written_in_decimal() {
        for i in [0, 7, -7, 10, 1_551_700_123_456, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_int(&mut out, i);
            assert_eq!(out, i.to_string().into_bytes());
        }
    }

    #[test]
    fn the_word_test_agrees_with_the_byte_table() {
        for b in 0..=255u8 {
            for at in 0..8 {
                for fill in [b'a', 0xff, b' ', 0x7f] {
                    let mut word = [fill; 8];
                    word[at] = b;
                    let want = word.iter().any(|&x| NEEDS_ESCAPE[usize::from(x)]);
                    assert_eq!(escape_mask(u64::from_le_bytes(word)) != 0, want, "{word:?}");
                }
            }
        }
    }

    #[test]
    fn next_escape_finds_the_first_escaped_byte() {
        let naive = |bytes: &[u8], from: usize| {
            (from..bytes.len())
                .find(|&i| NEEDS_ESCAPE[usize::from(bytes[i])])
                .unwrap_or(bytes.len())
        };
        for len in 0..40 {
            for stop_at in 0..=len {
                for stop in [b'"', b'\\', b'\n', 0x00, 0x1f] {
                    for fill in [b'a', 0xff, b' ', 0x7f, 0x21, 0x80, 0xe0] {
                        let mut bytes = vec![fill; len];
                        if stop_at < len {
                            bytes[stop_at] = stop;
                        }
                        // A second stop later must not hide the first one.
                        if stop_at + 1 < len {
                            bytes[len - 1] = b'"';
                        }
                        for from in 0..=len {
                            assert_eq!(
                                next_escape(&bytes, from),
                                naive(&bytes, from),
                                "{bytes:?} from {from}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn severities() {
        let codes: Vec<u8> = [
            Severity::Critical,
            Severity::Error,
            Severity::Warn,
            Severity::Info,
            Severity::Debug,
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        assert_eq!(codes, [0, 2, 4, 6, 7]);
    }
}
