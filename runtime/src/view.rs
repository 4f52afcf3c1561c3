//! Read-only views of JSON values: what the transform and the writers need from a value,
//! whether it is an owned [`serde_json::Value`] or a value borrowed from a parsed line
//! ([`crate::line::Value`]).
//!
//! The transform is written once against [`JsonRef`]; the emitter hands it owned maps, the
//! line path hands it views into a reused parse buffer, and both write the same bytes.

use serde_json::{Map, Number, Value};

/// A JSON number as serde_json holds it: a non-negative integer, a negative integer or a
/// float (never NaN or infinite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// Any other number.
    F64(f64),
}

impl Num {
    /// The number as JavaScript holds it.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::U64(u) => u as f64,
            Num::I64(i) => i as f64,
            Num::F64(f) => f,
        }
    }

    /// The number as an `i64` when it is an integer that fits.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Num::U64(u) => i64::try_from(u).ok(),
            Num::I64(i) => Some(i),
            Num::F64(_) => None,
        }
    }

    /// The serde_json number.
    pub fn to_number(self) -> Option<Number> {
        match self {
            Num::U64(u) => Some(Number::from(u)),
            Num::I64(i) => Some(Number::from(i)),
            Num::F64(f) => Number::from_f64(f),
        }
    }
}

impl From<&Number> for Num {
    fn from(n: &Number) -> Self {
        if let Some(u) = n.as_u64() {
            Num::U64(u)
        } else if let Some(i) = n.as_i64() {
            Num::I64(i)
        } else {
            Num::F64(n.as_f64().unwrap_or(f64::NAN))
        }
    }
}

/// What kind of value a [`JsonRef`] is, with its scalar content.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Num),
    /// A string.
    String(&'a str),
    /// An array: see [`JsonRef::items`].
    Array,
    /// An object: see [`JsonRef::get`] and [`JsonRef::entries`].
    Object,
}

/// A borrowed, read-only JSON value.
///
/// Objects behave as serde_json's map does when it is built from JSON text with repeated
/// keys: a key keeps the position of its first occurrence and the value of its last.
pub trait JsonRef<'a>: Copy + 'a {
    /// The kind of the value, with its scalar content.
    fn kind(self) -> Kind<'a>;
    /// The items of an array; nothing for any other value.
    fn items(self) -> impl Iterator<Item = Self> + 'a;
    /// The number of items of an array; 0 for any other value.
    fn len(self) -> usize;
    /// Whether [`JsonRef::len`] is 0.
    fn is_empty(self) -> bool {
        self.len() == 0
    }
    /// The member `key` of an object; `None` for any other value.
    fn get(self, key: &str) -> Option<Self>;
    /// [`JsonRef::get`] of two keys, in one walk where the value can.
    fn get_pair(self, a: &str, b: &str) -> (Option<Self>, Option<Self>) {
        (self.get(a), self.get(b))
    }
    /// The members of an object in order, each key once; nothing for any other value.
    fn entries(self) -> impl Iterator<Item = (&'a str, Self)> + 'a;
    /// The value as an owned [`serde_json::Value`].
    fn to_json(self) -> Value {
        match self.kind() {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(b),
            Kind::Number(n) => n.to_number().map_or(Value::Null, Value::Number),
            Kind::String(s) => Value::String(s.to_owned()),
            Kind::Array => Value::Array(self.items().map(JsonRef::to_json).collect()),
            Kind::Object => Value::Object(
                self.entries()
                    .map(|(k, v)| (k.to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
    /// The string, when the value is one that a JSON writer copies as it is (no byte of it
    /// needs an escape); `None` when that is not known, as for any value that is no string.
    fn escape_free_str(self) -> Option<&'a str> {
        None
    }
    /// [`JsonRef::kind`] and whether [`JsonRef::escape_free_str`] gives the string, in one
    /// reading of the value (writers read each value once).
    fn kind_plain(self) -> (Kind<'a>, bool) {
        (self.kind(), self.escape_free_str().is_some())
    }
    /// The value's JSON text with its quotes, when it is a string that needs no escape and its
    /// text is at hand (a string of a parsed line): a writer copies it as it is.
    fn quoted_text(self) -> Option<&'a [u8]> {
        None
    }
    /// The string, when the value is one.
    fn as_str(self) -> Option<&'a str> {
        match self.kind() {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }
}

impl<'a> JsonRef<'a> for &'a Value {
    fn kind(self) -> Kind<'a> {
        match self {
            Value::Null => Kind::Null,
            Value::Bool(b) => Kind::Bool(*b),
            Value::Number(n) => Kind::Number(Num::from(n)),
            Value::String(s) => Kind::String(s),
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        self.as_array().into_iter().flatten()
    }

    fn len(self) -> usize {
        self.as_array().map_or(0, Vec::len)
    }

    fn get(self, key: &str) -> Option<Self> {
        self.as_object().and_then(|o| o.get(key))
    }

    fn entries(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        self.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
    }

    fn to_json(self) -> Value {
        self.clone()
    }
}

/// A data bag: the object that a source event's `data` is.
pub trait Bag<'a>: Copy + 'a {
    /// The values of the bag.
    type Value: JsonRef<'a>;
    /// `data[key]`.
    fn get(self, key: &str) -> Option<Self::Value>;
    /// Calls `f` with every (key, value) pair in order, a repeated key each time (so the last
    /// call for a key has the value that [`Bag::get`] gives).
    fn pairs(self, f: impl FnMut(&'a str, Self::Value));
    /// [`Bag::pairs`] with each key's bytes, for readers that only compare keys (a bag that
    /// holds its keys as bytes gives them without making `str`s of them).
    fn key_pairs(self, mut f: impl FnMut(&'a [u8], Self::Value)) {
        self.pairs(|key, value| f(key.as_bytes(), value));
    }
}

impl<'a> Bag<'a> for &'a Map<String, Value> {
    type Value = &'a Value;

    fn get(self, key: &str) -> Option<&'a Value> {
        // Data bags are small: a scan of the insertion-ordered entries compares a few short
        // keys, which is cheaper than hashing the key.
        if self.len() <= 16 {
            // Lengths and first bytes rule out most keys without a call to memcmp.
            let first = key.as_bytes().first();
            self.iter().find_map(|(k, v)| {
                (k.len() == key.len() && k.as_bytes().first() == first && k == key).then_some(v)
            })
        } else {
            Map::get(self, key)
        }
    }

    fn pairs(self, mut f: impl FnMut(&'a str, &'a Value)) {
        for (key, value) in self {
            f(key, value);
        }
    }
}
