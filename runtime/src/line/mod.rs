//! The line path that every stage shares: JSON Lines read through one large buffer, each line
//! parsed into reused storage with its strings borrowed, and output written into reused
//! buffers.
//!
//! `metricsmith map` reads with [`Reader`], parses each line with [`Doc::parse`] and hands the
//! [`Value`]s straight to [`crate::amplitude::Mapping::transform_view_to`]: in steady state a
//! line costs no allocation at all.

mod doc;
mod fast;
mod reader;

pub use doc::{Doc, Parsed, Value};
pub use reader::{DEFAULT_MAX_LINE, Line, Reader};

/// `bytes` as text, for a line before it is parsed: checked with SIMD (simdutf8, which picks
/// the CPU's widest instructions at run time); std's check runs only to explain a failure.
///
/// ```
/// use metricsmith::line::utf8;
/// assert_eq!(utf8(b"{\"a\":\"\xc3\xa9\"}"), Ok("{\"a\":\"\u{e9}\"}"));
/// assert_eq!(utf8(b"ab\xff").map_err(|e| e.valid_up_to()), Err(2));
/// ```
pub fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}
