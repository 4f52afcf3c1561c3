//! Flow ids: creating, signing and validating them exactly like FxA (spec §3.3).
//!
//! A flow id is 64 hex characters: a 32-character salt (16 random bytes, hex) followed by the
//! first 32 hex characters of `HMAC-SHA256(key, salt_hex + "\n" + hex(flowBeginTime))`.
//!
//! ```
//! use metricsmith::flow_id::{self, Reason};
//!
//! let id = flow_id::sign("S3CR37", "1234567890abcdef1234567890abcdef", 1_451_566_800_000);
//! assert_eq!(id, "1234567890abcdef1234567890abcdef06146f1d05e7ae215885a4e45b66ff1f");
//!
//! let ok = flow_id::validate("S3CR37", &id, 1_451_566_800_000, 1_451_566_859_999, 60_000);
//! assert!(ok.valid);
//! let late = flow_id::validate("S3CR37", &id, 1_451_566_800_000, 1_451_566_860_001, 60_000);
//! assert_eq!(late.reason, Some(Reason::ExpiredFlowBeginTime));
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::clock::{self, SaltSource};

/// FxA's default `flow_id_expiry`: two hours.
pub const DEFAULT_EXPIRY_MS: i64 = 7_200_000;

/// Why a flow id could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The salt source failed.
    #[error("cannot create a flow id salt: {0}")]
    Salt(#[from] clock::Error),
}

/// A freshly created flow id and its begin time, as the content server hands them to pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowId {
    /// The 64 lowercase hex characters.
    pub flow_id: String,
    /// The begin time in ms that the signature covers.
    pub flow_begin_time: i64,
}

/// Creates a flow id for `begin_ms` with a salt of 16 bytes from `salt_source`.
///
/// # Errors
/// [`Error::Salt`] when the salt source fails.
///
/// ```
/// use metricsmith::clock::FixedSalt;
/// use metricsmith::flow_id;
///
/// let id = flow_id::create("S3CR37", 1_451_566_800_000, &FixedSalt(*b"MozillaFirefox!!")).unwrap();
/// assert_eq!(id.flow_id, "4d6f7a696c6c6146697265666f7821212a204a6d26b009b26b3116f643d84c6f");
/// ```
pub fn create(key: &str, begin_ms: i64, salt_source: &dyn SaltSource) -> Result<FlowId, Error> {
    let mut salt = [0u8; 16];
    salt_source.fill(&mut salt)?;
    let mut salt_hex = String::with_capacity(32);
    push_hex(&mut salt_hex, &salt);
    Ok(FlowId {
        flow_id: sign(key, &salt_hex, begin_ms),
        flow_begin_time: begin_ms,
    })
}

/// Signs `salt_hex` (used verbatim, whatever its case or length) for `begin_ms` and returns the
/// flow id: `salt_hex` followed by the 32-character signature.
pub fn sign(key: &str, salt_hex: &str, begin_ms: i64) -> String {
    let digest = hmac(key, salt_hex, begin_ms);
    let mut id = String::with_capacity(salt_hex.len() + 32);
    id.push_str(salt_hex);
    push_hex(&mut id, &digest[..16]);
    id
}

/// Why a flow id is invalid; the `Display` text is FxA's reason string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reason {
    /// The flow id is empty.
    #[serde(rename = "missing flowId")]
    MissingFlowId,
    /// The begin time is 0.
    #[serde(rename = "missing flowBeginTime")]
    MissingFlowBeginTime,
    /// The age is not positive or exceeds the expiry.
    #[serde(rename = "expired flowBeginTime")]
    ExpiredFlowBeginTime,
    /// The flow id is not an even number of hex digits.
    #[serde(rename = "invalid flowId")]
    InvalidFlowId,
    /// The signature does not match.
    #[serde(rename = "invalid signature")]
    InvalidSignature,
}

impl Reason {
    /// FxA's reason string, e.g. `"expired flowBeginTime"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingFlowId => "missing flowId",
            Self::MissingFlowBeginTime => "missing flowBeginTime",
            Self::ExpiredFlowBeginTime => "expired flowBeginTime",
            Self::InvalidFlowId => "invalid flowId",
            Self::InvalidSignature => "invalid signature",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of [`validate`]; serializes as `{"valid":true,"reason":null}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Whether the flow id is valid.
    pub valid: bool,
    /// The first failed check; `None` when valid.
    pub reason: Option<Reason>,
}

impl Validation {
    fn invalid(reason: Reason) -> Self {
        Self {
            valid: false,
            reason: Some(reason),
        }
    }
}

/// Validates a flow id like the auth server's `metricsContext.validate()`.
///
/// The checks run in FxA's order and the first failure is the reason:
/// empty `flow_id` (JavaScript falsy), `begin_ms == 0` (falsy), age `now_ms - begin_ms` not in
/// `1..=expiry_ms`, not an even number of hex digits, then the signature: the hex-decoded
/// characters 32..96 compared in constant time with the first 16 bytes of the HMAC of the first
/// 32 characters (a length mismatch is a mismatch).
pub fn validate(
    key: &str,
    flow_id: &str,
    begin_ms: i64,
    now_ms: i64,
    expiry_ms: i64,
) -> Validation {
    if flow_id.is_empty() {
        return Validation::invalid(Reason::MissingFlowId);
    }
    if begin_ms == 0 {
        return Validation::invalid(Reason::MissingFlowBeginTime);
    }
    // i128: no overflow for any pair of i64 times.
    let age = i128::from(now_ms) - i128::from(begin_ms);
    if age > i128::from(expiry_ms) || age <= 0 {
        return Validation::invalid(Reason::ExpiredFlowBeginTime);
    }
    let bytes = flow_id.as_bytes();
    if !bytes.len().is_multiple_of(2) || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return Validation::invalid(Reason::InvalidFlowId);
    }
    // Every byte is an ASCII hex digit now, so byte offsets are character offsets and both
    // halves have an even length. JavaScript: `substr(0, 32)` and `substr(32, 64)`.
    let salt = &flow_id[..bytes.len().min(32)];
    let signature = &bytes[bytes.len().min(32)..bytes.len().min(96)];
    let mut decoded = [0u8; 32];
    let mut len = 0;
    for pair in signature.chunks_exact(2) {
        decoded[len] = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        len += 1;
    }
    let digest = hmac(key, salt, begin_ms);
    if constant_time_eq(&decoded[..len], &digest[..16]) {
        Validation {
            valid: true,
            reason: None,
        }
    } else {
        Validation::invalid(Reason::InvalidSignature)
    }
}

/// `HMAC-SHA256(key, salt + "\n" + begin.toString(16))`.
fn hmac(key: &str, salt: &str, begin_ms: i64) -> [u8; 32] {
    // HMAC takes keys of any length (long keys are hashed, short ones padded):
    // `new_from_slice` only fails for MACs with a fixed key size, so this cannot panic.
    #[allow(clippy::expect_used)]
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).expect("hmac accepts any key length");
    mac.update(salt.as_bytes());
    mac.update(b"\n");
    let mut time = String::with_capacity(17);
    push_js_hex(&mut time, begin_ms);
    mac.update(time.as_bytes());
    mac.finalize().into_bytes().into()
}

/// JavaScript's `n.toString(16)` for an integer: lowercase, unpadded, `-` for negatives.
fn push_js_hex(out: &mut String, n: i64) {
    use fmt::Write;
    if n < 0 {
        out.push('-');
    }
    let _ = write!(out, "{:x}", n.unsigned_abs());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
}

/// The value of an ASCII hex digit (callers check `is_ascii_hexdigit` first; others give 0).
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// Compares in time that depends only on the lengths (like node's `crypto.timingSafeEqual`
/// after FxA's length check).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_hex_of_times() {
        for (n, hex) in [
            (0, "0"),
            (1, "1"),
            (256, "100"),
            (1_451_566_800_000, "151f81f9c80"),
            ((1 << 53) - 1, "1fffffffffffff"),
            (-255, "-ff"),
            (i64::MIN, "-8000000000000000"),
        ] {
            let mut s = String::new();
            push_js_hex(&mut s, n);
            assert_eq!(s, hex, "{n}");
        }
    }

    #[test]
    fn constant_time_eq_cases() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"ab", b"ab"));
        assert!(!constant_time_eq(b"ab", b"ac"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }

    #[test]
    fn falsy_inputs_come_first() {
        let v = validate("k", "", 0, 0, 0);
        assert_eq!(v.reason, Some(Reason::MissingFlowId));
        let v = validate("k", "zz", 0, 0, 0);
        assert_eq!(v.reason, Some(Reason::MissingFlowBeginTime));
        let v = validate("k", "zz", 1, 1, 10);
        assert_eq!(v.reason, Some(Reason::ExpiredFlowBeginTime));
        let v = validate("k", "zz", i64::MIN, i64::MAX, i64::MAX);
        assert_eq!(v.reason, Some(Reason::ExpiredFlowBeginTime));
        let v = validate("k", "zz", 1, 2, 10);
        assert_eq!(v.reason, Some(Reason::InvalidFlowId));
        let v = validate("k", "abc", 1, 2, 10);
        assert_eq!(v.reason, Some(Reason::InvalidFlowId));
        let v = validate("k", "ab", 1, 2, 10);
        assert_eq!(v.reason, Some(Reason::InvalidSignature));
    }

    #[test]
    fn validation_serializes_like_the_cli_prints_it() {
        let ok = Validation {
            valid: true,
            reason: None,
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"valid":true,"reason":null}"#
        );
        let bad = Validation::invalid(Reason::InvalidSignature);
        assert_eq!(
            serde_json::to_string(&bad).unwrap(),
            r#"{"valid":false,"reason":"invalid signature"}"#
        );
    }
}
