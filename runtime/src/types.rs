//! Validated value types and the small generic helpers that generated code calls.
//!
//! Generated event structs type their fields with these, so an invalid value cannot be stored:
//! [`Hex`] for fixed-length lowercase hexadecimal (a 32-hex uid is `Hex<32>`), [`Text`] for
//! strings bounded by a pattern and a length, [`Int`] for bounded integers.
//! Everything shared by every event lives here as generic code, so the per-event code that
//! metricsmith generates stays a struct, a name and a short [`Event::write_data`].
//!
//! # Examples
//!
//! ```
//! use metricsmith::types::{Hex, InvalidValue};
//!
//! let uid = Hex::<32>::new("0123456789abcdef0123456789abcdef")?;
//! assert_eq!(uid.as_str(), "0123456789abcdef0123456789abcdef");
//! assert!(matches!(Hex::<32>::new("XYZ"), Err(InvalidValue::Hex { .. })));
//! # Ok::<(), InvalidValue>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::amplitude::{Env, Mapping, OauthClients, SourceEvent};
use crate::emit::{Emitter, EventKinds, Outcome, Request};

/// Why a value was rejected by a validated type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidValue {
    /// Not lowercase hexadecimal of the expected length.
    #[error("expected {} lowercase hex characters, got {value:?}", match length { Some(n) => n.to_string(), None => "only".to_owned() })]
    Hex {
        /// The required length, if any.
        length: Option<usize>,
        /// The rejected value.
        value: String,
    },
    /// Longer than the maximum length (in characters).
    #[error("expected at most {max_length} characters, got {length} in {value:?}")]
    TooLong {
        /// The maximum length.
        max_length: usize,
        /// The actual length.
        length: usize,
        /// The rejected value.
        value: String,
    },
    /// Does not match the pattern.
    #[error("{value:?} does not match `{pattern}`")]
    Pattern {
        /// The pattern (regex crate syntax).
        pattern: &'static str,
        /// The rejected value.
        value: String,
    },
    /// Not one of the enum's values.
    #[error("{value:?} is not one of {expected:?}")]
    Enum {
        /// The allowed values.
        expected: &'static [&'static str],
        /// The rejected value.
        value: String,
    },
    /// Outside the inclusive range.
    #[error("{value} is outside {min}..={max}")]
    OutOfRange {
        /// The minimum.
        min: i64,
        /// The maximum.
        max: i64,
        /// The rejected value.
        value: i64,
    },
}

/// A regex compiled on first use, for patterns that generated code declares as statics.
///
/// Generated code only declares patterns that the metricsmith compiler already compiled with
/// the same `regex` crate, so compilation cannot fail there.
#[derive(Debug)]
pub struct LazyRegex {
    source: &'static str,
    cell: OnceLock<Regex>,
}

impl LazyRegex {
    /// A regex compiled from `source` on first use.
    pub const fn new(source: &'static str) -> Self {
        Self {
            source,
            cell: OnceLock::new(),
        }
    }

    /// The pattern.
    pub fn as_str(&self) -> &'static str {
        self.source
    }

    /// Whether `text` matches.
    ///
    /// # Panics
    /// When the pattern does not compile, which cannot happen for patterns that the metricsmith
    /// compiler generated (it compiled each one before writing it).
    pub fn is_match(&self, text: &str) -> bool {
        self.cell
            // Proven not to fail: see `# Panics`.
            .get_or_init(|| Regex::new(self.source).expect("metricsmith compiled this pattern"))
            .is_match(text)
    }
}

/// Lowercase hexadecimal: exactly `N` characters, or any non-zero length when `N` is 0.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex<const N: usize>(String);

impl<const N: usize> Hex<N> {
    /// Validates `value`.
    ///
    /// # Errors
    /// [`InvalidValue::Hex`] when `value` is not `N` lowercase hex characters.
    ///
    /// # Examples
    /// ```
    /// use metricsmith::types::Hex;
    /// assert!(Hex::<4>::new("00ff").is_ok());
    /// assert!(Hex::<4>::new("00FF").is_err());
    /// ```
    pub fn new(value: &str) -> Result<Self, InvalidValue> {
        let length_ok = if N == 0 {
            !value.is_empty()
        } else {
            value.len() == N
        };
        if length_ok
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidValue::Hex {
                length: (N != 0).then_some(N),
                value: value.to_owned(),
            })
        }
    }

    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hex values are identifiers (user, device and flow ids): `Debug`, which ends up in logs and
/// panic messages, shows only their length; `Display` writes the value.
///
/// ```
/// use metricsmith::types::Hex;
/// let uid = Hex::<32>::new("0123456789abcdef0123456789abcdef")?;
/// assert_eq!(format!("{uid:?}"), "Hex(<redacted, 32 hex digits>)");
/// assert_eq!(uid.to_string(), "0123456789abcdef0123456789abcdef");
/// # Ok::<(), metricsmith::types::InvalidValue>(())
/// ```
impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hex(<redacted, {} hex digits>)", self.0.len())
    }
}

impl<const N: usize> fmt::Display for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The constraints of a [`Text`]: generated code declares one marker type per distinct rule.
pub trait TextRule {
    /// The maximum length in characters.
    const MAX_LENGTH: Option<usize>;
    /// The pattern the value must match.
    const PATTERN: Option<&'static LazyRegex>;
}

/// A string that matches the pattern and length of its [`TextRule`].
pub struct Text<R>(String, PhantomData<fn() -> R>);

impl<R: TextRule> Text<R> {
    /// Validates `value` against `R`.
    ///
    /// # Errors
    /// [`InvalidValue::TooLong`] or [`InvalidValue::Pattern`].
    pub fn new(value: &str) -> Result<Self, InvalidValue> {
        if let Some(max_length) = R::MAX_LENGTH {
            let length = value.chars().count();
            if length > max_length {
                return Err(InvalidValue::TooLong {
                    max_length,
                    length,
                    value: value.to_owned(),
                });
            }
        }
        if let Some(pattern) = R::PATTERN
            && !pattern.is_match(value)
        {
            return Err(InvalidValue::Pattern {
                pattern: pattern.as_str(),
                value: value.to_owned(),
            });
        }
        Ok(Self(value.to_owned(), PhantomData))
    }
}

impl<R> Text<R> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<R> Clone for Text<R> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<R> PartialEq for Text<R> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<R> Eq for Text<R> {}

impl<R> std::hash::Hash for Text<R> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<R> fmt::Debug for Text<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<R> fmt::Display for Text<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An integer in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Int<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Int<MIN, MAX> {
    /// Validates `value`.
    ///
    /// # Errors
    /// [`InvalidValue::OutOfRange`].
    ///
    /// # Examples
    /// ```
    /// use metricsmith::types::Int;
    /// assert_eq!(Int::<0, 9>::new(3).map(|n| n.get()), Ok(3));
    /// assert!(Int::<0, 9>::new(10).is_err());
    /// ```
    pub fn new(value: i64) -> Result<Self, InvalidValue> {
        if (MIN..=MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(InvalidValue::OutOfRange {
                min: MIN,
                max: MAX,
                value,
            })
        }
    }

    /// The integer.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MIN: i64, const MAX: i64> fmt::Display for Int<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A value that can go into an event's data bag; `None` leaves the key out.
pub trait ToJson {
    /// The JSON value, or `None` for an absent optional value.
    fn to_json(&self) -> Option<Value>;
}

impl ToJson for bool {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}

impl ToJson for i64 {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(*self))
    }
}

impl ToJson for String {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.clone()))
    }
}

impl<const N: usize> ToJson for Hex<N> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl<R> ToJson for Text<R> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

impl<const MIN: i64, const MAX: i64> ToJson for Int<MIN, MAX> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(self.0))
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Option<Value> {
        self.as_ref().and_then(ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Option<Value> {
        Some(Value::Array(
            self.iter().filter_map(ToJson::to_json).collect(),
        ))
    }
}

/// An event's data bag: property name -> JSON value, in insertion order.
pub type Data = Map<String, Value>;

/// A typed metrics event: generated code implements it for every event and family.
pub trait Event {
    /// The lines the event produces.
    const KINDS: EventKinds;
    /// The mozlog logger suffix of the event, if the schema gives one (`grant`).
    const LOGGER: Option<&'static str>;
    /// The event name, e.g. `account.login` or `route./account/login.200`.
    fn name(&self) -> Cow<'_, str>;
    /// Adds the event's properties to a data bag (by default none).
    fn write_data(&self, data: &mut Data) {
        let _ = data;
    }
    /// The event's properties as a data bag.
    fn data(&self) -> Map<String, Value> {
        let mut data = Map::new();
        self.write_data(&mut data);
        data
    }
}

/// Inserts `value` under `key` unless it is absent; generated [`Event::write_data`] calls it.
pub fn put<T: ToJson + ?Sized>(data: &mut Map<String, Value>, key: &str, value: &T) {
    if let Some(value) = value.to_json() {
        data.insert(key.to_owned(), value);
    }
}

/// Emits a typed event: its name, its properties as the call-site data and its kinds.
///
/// The same as `emitter.emit(&event.name(), request, &event.data(), E::KINDS)`.
pub fn emit<E: Event + ?Sized>(emitter: &Emitter, event: &E, request: &Request<'_>) -> Outcome {
    emitter.emit(&event.name(), request, &event.data(), E::KINDS)
}

/// The `event_type` of every amplitude event that `name` and `data` produce through `mapping`,
/// with a fixed time, no OAuth clients and no app version: what generated tests assert.
///
/// # Examples
/// ```
/// use metricsmith::amplitude::{GroupExpr, Mapping, MappingSpec, Part, Target};
/// let target = Target {
///     group: GroupExpr::Fixed("fxa_login".into()),
///     event: vec![Part::Text("success".into())],
///     when: vec![],
///     time_offset: None,
/// };
/// let spec = MappingSpec {
///     exact: vec![("account.login".into(), vec![target])],
///     ..MappingSpec::default()
/// };
/// let mapping = Mapping::new(spec)?;
/// let types = metricsmith::types::event_types(&mapping, "account.login", &Default::default());
/// assert_eq!(types, ["fxa_login - success"]);
/// # Ok::<(), metricsmith::amplitude::MappingError>(())
/// ```
pub fn event_types(mapping: &Mapping, name: &str, data: &Map<String, Value>) -> Vec<String> {
    let name = Value::String(name.to_owned());
    let time = Value::from(1_551_700_123_456_i64);
    let clients = OauthClients::new();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: 1_551_700_123_456,
    };
    let source = SourceEvent {
        name: Some(&name),
        time: Some(&time),
    };
    mapping
        .transform(source, data, &env)
        .into_iter()
        .filter_map(|event| match event.event.get("event_type") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The amplitude events a service logs for a worked example, as JSON text (FxA key order,
/// JavaScript number formatting), and the expected ones normalized the same way.
///
/// Generated tests call this for every `examples:` entry of a schema; JSON arguments are
/// JSON text as the compiler wrote it.
///
/// # Panics
/// When a JSON argument is not valid JSON: the compiler wrote them, so that is a bug.
#[allow(clippy::too_many_arguments)] // one argument per field of a schema example
pub fn example_output(
    mapping: &Mapping,
    name: &str,
    time: Option<&str>,
    data: Option<&str>,
    oauth_clients: &[(&str, &str)],
    app_version: Option<&str>,
    now_ms: i64,
    expect: &[&str],
) -> (Vec<String>, Vec<String>) {
    let parse = |text: &str| -> Value {
        serde_json::from_str(text)
            .unwrap_or_else(|err| panic!("invalid example JSON {text}: {err}"))
    };
    let name = Value::String(name.to_owned());
    let time = time.map(parse);
    let clients: OauthClients = oauth_clients
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let env = Env {
        oauth_clients: &clients,
        app_version,
        now_ms,
    };
    let source = SourceEvent {
        name: Some(&name),
        time: time.as_ref(),
    };
    let got = match data.map(parse) {
        Some(Value::Object(data)) => mapping
            .transform(source, &data, &env)
            .into_iter()
            .filter(|e| e.logged)
            .map(|e| crate::mozlog::to_js_json(&Value::Object(e.event)))
            .collect(),
        // FxA's transform returns nothing without a data bag.
        _ => Vec::new(),
    };
    let want = expect
        .iter()
        .map(|text| crate::mozlog::to_js_json(&parse(text)))
        .collect();
    (got, want)
}

/// [`event_types`] of a typed event.
pub fn event_types_of<E: Event + ?Sized>(mapping: &Mapping, event: &E) -> Vec<String> {
    event_types(mapping, &event.name(), &event.data())
}

#[cfg(test)]
mod tests {
    use super::*;

    static LOWER: LazyRegex = LazyRegex::new("^[a-z]+$");
    enum Lower {}
    impl TextRule for Lower {
        const MAX_LENGTH: Option<usize> = Some(3);
        const PATTERN: Option<&'static LazyRegex> = Some(&LOWER);
    }

    #[test]
    fn text_checks_length_then_pattern() {
        assert_eq!(
            Text::<Lower>::new("abc").map(|t| t.to_string()),
            Ok("abc".to_owned())
        );
        assert!(matches!(
            Text::<Lower>::new("abcd"),
            Err(InvalidValue::TooLong { length: 4, .. })
        ));
        assert!(matches!(
            Text::<Lower>::new("AB"),
            Err(InvalidValue::Pattern { .. })
        ));
    }

    #[test]
    fn hex_of_any_length() {
        assert!(Hex::<0>::new("ab12").is_ok());
        assert!(Hex::<0>::new("").is_err());
        assert!(Hex::<2>::new("abc").is_err());
    }

    #[test]
    fn optional_values_are_left_out() {
        let mut data = Map::new();
        put(&mut data, "a", &Some(true));
        put(&mut data, "b", &None::<bool>);
        assert_eq!(Value::Object(data), serde_json::json!({"a": true}));
    }
}
