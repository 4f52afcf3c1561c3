//! The JavaScript value semantics that FxA's metrics behaviour depends on.
//!
//! FxA's transform ran in node: which values are dropped depends on JavaScript truthiness,
//! table lookups convert keys with `String()`, device windows compare with `>=` after
//! `ToNumber`, and `time + 1` concatenates when the time is a string.
//! These functions reproduce that for JSON values, so the port stays byte-for-byte faithful.

use serde_json::{Number, Value};

use crate::view::{JsonRef, Kind, Num};

/// JavaScript truthiness of a present value (`undefined` is modelled as `None` by callers).
///
/// # Examples
/// ```
/// use metricsmith::js::truthy;
/// use serde_json::json;
/// assert!(!truthy(&json!(0)));
/// assert!(!truthy(&json!("")));
/// assert!(truthy(&json!([])));
/// assert!(truthy(&json!("0")));
/// ```
pub fn truthy<'a>(value: impl JsonRef<'a>) -> bool {
    kind_truthy(value.kind())
}

/// JavaScript truthiness of a value of `kind`.
#[inline]
pub fn kind_truthy(kind: Kind<'_>) -> bool {
    match kind {
        Kind::Null => false,
        Kind::Bool(b) => b,
        Kind::Number(n) => {
            let f = n.as_f64();
            f != 0.0 && !f.is_nan()
        }
        Kind::String(s) => !s.is_empty(),
        Kind::Array | Kind::Object => true,
    }
}

/// JavaScript truthiness of a possibly absent value.
pub fn truthy_opt(value: Option<&Value>) -> bool {
    value.is_some_and(truthy)
}

/// JavaScript `String(value)`; `None` (undefined) gives `"undefined"`.
///
/// # Examples
/// ```
/// use metricsmith::js::to_string;
/// use serde_json::json;
/// assert_eq!(to_string(Some(&json!(1))), "1");
/// assert_eq!(to_string(Some(&json!([1, null, "a"]))), "1,,a");
/// assert_eq!(to_string(Some(&json!({"a": 1}))), "[object Object]");
/// assert_eq!(to_string(None), "undefined");
/// ```
pub fn to_string(value: Option<&Value>) -> String {
    string_of(value)
}

/// JavaScript `String(value)` of any [`JsonRef`]; `None` (undefined) gives `"undefined"`.
pub fn string_of<'a>(value: Option<impl JsonRef<'a>>) -> String {
    let mut out = String::new();
    match value {
        None => out.push_str("undefined"),
        Some(value) => write_string(value, &mut out),
    }
    out
}

fn write_string<'a>(value: impl JsonRef<'a>, out: &mut String) {
    match value.kind() {
        Kind::Null => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Kind::Number(n) => out.push_str(&num_to_string(n)),
        Kind::String(s) => out.push_str(s),
        Kind::Array => {
            for (i, item) in value.items().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                // Array.prototype.join writes null and undefined as empty strings.
                if item.kind() != Kind::Null {
                    write_string(item, out);
                }
            }
        }
        Kind::Object => out.push_str("[object Object]"),
    }
}

/// JavaScript `Number.prototype.toString()` of a JSON number.
///
/// Integers beyond 2^53 are not exact in JavaScript: they print as the double they round to.
pub fn number_to_string(n: &Number) -> String {
    num_to_string(Num::from(n))
}

/// [`number_to_string`] of a [`Num`].
pub fn num_to_string(n: Num) -> String {
    const SAFE: u64 = 1 << 53;
    match n {
        Num::I64(i) if i.unsigned_abs() <= SAFE => i.to_string(),
        Num::U64(u) if u <= SAFE => u.to_string(),
        other => format_f64(other.as_f64()),
    }
}

/// JavaScript `Number.prototype.toString()` of an `f64` (ECMA-262 Number::toString).
pub fn format_f64(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Rust's `{:e}` prints the shortest digits that round-trip, like JavaScript.
    let exp_form = format!("{:e}", x.abs());
    let (mantissa, exponent) = exp_form.split_once('e').unwrap_or((exp_form.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let e: i64 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i64;
    let n = e + 1;
    let body = if k <= n && n <= 21 {
        let mut s = digits.clone();
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
        s
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exp_sign = if n > 0 { "+" } else { "-" };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{exp_sign}{}", (n - 1).abs())
        } else {
            format!("{first}.{rest}e{exp_sign}{}", (n - 1).abs())
        }
    };
    format!("{sign}{body}")
}

/// JavaScript `ToNumber(value)` after `ToPrimitive`; `None` (undefined) gives NaN.
///
/// # Examples
/// ```
/// use metricsmith::js::to_number;
/// use serde_json::json;
/// assert_eq!(to_number(Some(&json!(" 12 "))), 12.0);
/// assert_eq!(to_number(Some(&json!(null))), 0.0);
/// assert!(to_number(Some(&json!("12px"))).is_nan());
/// assert_eq!(to_number(Some(&json!("0x10"))), 16.0);
/// ```
pub fn to_number(value: Option<&Value>) -> f64 {
    number_of(value)
}

/// [`to_number`] of any [`JsonRef`].
pub fn number_of<'a>(value: Option<impl JsonRef<'a>>) -> f64 {
    let Some(value) = value else {
        return f64::NAN;
    };
    match value.kind() {
        Kind::Null => 0.0,
        Kind::Bool(b) => f64::from(u8::from(b)),
        Kind::Number(n) => n.as_f64(),
        Kind::String(s) => string_to_number(s),
        Kind::Array => string_to_number(&string_of(Some(value))),
        Kind::Object => f64::NAN,
    }
}

/// JavaScript's white space and line terminators (what `trim`, `Number` and `parseFloat` skip).
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{A}' | '\u{B}' | '\u{C}' | '\u{D}' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// JavaScript `StringToNumber`.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            if rest.is_empty() || !rest.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return rest
                .chars()
                .filter_map(|c| c.to_digit(radix))
                .fold(0.0, |acc, d| acc * f64::from(radix) + f64::from(d));
        }
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    if !is_decimal_literal(unsigned) {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// `StrUnsignedDecimalLiteral`: digits [. digits] | . digits, then an optional exponent.
fn is_decimal_literal(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == bytes.len()
}

/// JavaScript `value + n` for a present, truthy time value.
///
/// Numbers add, strings concatenate, other values go through `ToPrimitive` first.
pub fn plus<'a>(value: impl JsonRef<'a>, n: i64) -> Value {
    match value.kind() {
        Kind::Number(num) => {
            if let Some(i) = num.as_i64().and_then(|i| i.checked_add(n)) {
                return Value::from(i);
            }
            let sum = num.as_f64() + n as f64;
            number_value(sum)
        }
        Kind::Bool(b) => number_value(f64::from(u8::from(b)) + n as f64),
        Kind::Null => Value::from(n),
        Kind::String(s) => Value::String(format!("{s}{n}")),
        Kind::Array | Kind::Object => Value::String(format!("{}{n}", string_of(Some(value)))),
    }
}

/// A JSON number for an `f64`, integral values as integers (as `JSON.stringify` writes them);
/// NaN and infinities become `null`, as in `JSON.stringify`.
pub fn number_value(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        // The guard above proves the conversion is exact.
        return Value::from(x as i64);
    }
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// FxA's `toSnakeCase`: `aB` -> `a_b`, other upper case lowered, `.` and `-` -> `_`.
///
/// Only ASCII letters are affected, as in the JavaScript (no `u` flag).
///
/// # Examples
/// ```
/// use metricsmith::js::snake_case;
/// assert_eq!(snake_case("FirstExperiment"), "first_experiment");
/// assert_eq!(snake_case("jJ-J"), "j_j_j");
/// assert_eq!(snake_case("Group.FOUR"), "group_four");
/// ```
pub fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    snake_case_into(s, &mut out);
    out
}

/// [`snake_case`] appended to `out`.
pub fn snake_case_into(s: &str, out: &mut String) {
    metricsmith_spec::snake_case_into(s, out);
}

/// [`snake_case`] appended to bytes (the line writers' output).
#[inline]
pub(crate) fn snake_case_bytes_into(s: &str, out: &mut Vec<u8>) {
    // At most one byte more per byte of `s` (`aB` -> `a_b`).
    out.reserve(2 * s.len());
    metricsmith_spec::snake_case_parts(s, |piece| match piece {
        metricsmith_spec::SnakePiece::Same(run) => out.extend_from_slice(run.as_bytes()),
        metricsmith_spec::SnakePiece::Byte(byte) => out.push(byte),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_numbers_like_javascript() {
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (-5.0, "-5"),
            (1551700123456.5, "1551700123456.5"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::NAN, "NaN"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (-0.0, "0"),
        ];
        for (x, want) in cases {
            assert_eq!(format_f64(x), want, "{x:e}");
        }
    }

    #[test]
    fn converts_strings_to_numbers_like_javascript() {
        let cases = [
            ("", 0.0),
            ("  ", 0.0),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("-Infinity", f64::NEG_INFINITY),
            ("0b101", 5.0),
        ];
        for (s, want) in cases {
            assert_eq!(string_to_number(s), want, "{s:?}");
        }
        for s in ["inf", "nan", "1e", "e5", "-0x10", "1_000", "12px", "."] {
            assert!(string_to_number(s).is_nan(), "{s:?}");
        }
    }

    #[test]
    fn adds_like_javascript() {
        assert_eq!(plus(&json!(1551700123456_i64), 1), json!(1551700123457_i64));
        assert_eq!(plus(&json!(1.5), 1), json!(2.5));
        assert_eq!(plus(&json!("abc"), 1), json!("abc1"));
        assert_eq!(plus(&json!(true), 1), json!(2));
        assert_eq!(plus(&json!([5]), 1), json!("51"));
    }

    #[test]
    fn snake_cases_like_fxa() {
        let cases = [
            ("FirstExperiment", "first_experiment"),
            ("Group-Two", "group_two"),
            ("THIRD_EXPERIMENT", "third_experiment"),
            ("Group.FOUR", "group_four"),
            ("iI", "i_i"),
            ("jJ-J", "j_j_j"),
            ("test-pilot", "test_pilot"),
            ("aBC", "a_bc"),
            ("Ärger", "Ärger"),
            ("aÄB", "aÄb"),
            ("xyÄöB-ü.zZ", "xyÄöb_ü_z_z"),
            ("\u{1F600}A\u{1F600}b", "\u{1F600}a\u{1F600}b"),
            ("", ""),
            ("aB\"cD", "a_b\"c_d"),
        ];
        for (s, want) in cases {
            assert_eq!(snake_case(s), want, "{s:?}");
            // The writers' byte version gives the same text.
            let mut bytes = b"[".to_vec();
            snake_case_bytes_into(s, &mut bytes);
            assert_eq!(bytes.get(1..), Some(want.as_bytes()), "{s:?}");
        }
    }
}
