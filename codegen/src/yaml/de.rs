//! Tree -> serde, resolving scalars as serde-saphyr does for every type the AST asks for.
//!
//! Where serde-saphyr would fail, or where a resolution is not certain to match it, the
//! deserializer fails with [`Decline`] and the full parser runs instead.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer, UsizeDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

use super::SPANNED;
use super::tree::{Tree, View};

/// The only error: the fast path gives the text to the full parser.
#[derive(Debug)]
pub(super) struct Decline;

impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outside the fast YAML subset")
    }
}

impl std::error::Error for Decline {}

impl de::Error for Decline {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Decline
    }
}

/// A deserializer for one node of the tree.
#[derive(Clone, Copy)]
pub(super) struct NodeDeserializer<'t, 'a> {
    pub tree: &'t Tree<'a>,
    pub id: u32,
}

/// Null-like plain scalars (serde-saphyr's `scalar_is_nullish`).
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.1 booleans, as serde-saphyr accepts them when `strict_booleans` is off.
fn yaml11_bool(text: &str) -> Option<bool> {
    let is = |word: &str| text.eq_ignore_ascii_case(word);
    if is("true") || is("yes") || is("y") || is("on") {
        Some(true)
    } else if is("false") || is("no") || is("n") || is("off") {
        Some(false)
    } else {
        None
    }
}

/// A plain decimal integer without sign (other than `-`), leading zeros or underscores.
/// Other spellings serde-saphyr also reads (`+1`, `0x1f`, `1_000`) decline.
fn decimal(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    if digits.is_empty()
        || digits.len() > 38
        || (digits.len() > 1 && digits.starts_with('0'))
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut value: i128 = 0;
    for b in digits.bytes() {
        value = value * 10 + i128::from(b - b'0');
    }
    Some(if negative { -value } else { value })
}

/// A plain decimal fraction (`-1.5`, `2.0e-3`): serde-saphyr parses what is not an integer
/// with `f64::from_str`. Other spellings (`.5`, `1.`, `.inf`, `007`) decline.
fn float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let shaped = digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && fraction.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
        && (fraction.is_some() || exponent.is_some());
    if !shaped {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Whether serde-saphyr's typeless inference could read a plain scalar as a number.
fn numeric_start(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'0'..=b'9' | b'+' | b'-' | b'.')
    )
}

impl<'t, 'a> NodeDeserializer<'t, 'a> {
    fn kind(&self) -> View<'a, 't> {
        self.tree.kind(self.id)
    }

    fn at(&self, id: u32) -> Self {
        NodeDeserializer {
            tree: self.tree,
            id,
        }
    }

    /// The text of a scalar a string is asked for; null-like plain scalars are not strings.
    fn string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Plain(text) if !is_null(text) => visitor.visit_borrowed_str(text),
            View::Borrowed(text) => visitor.visit_borrowed_str(text),
            View::Owned(text) => visitor.visit_str(text),
            _ => Err(Decline),
        }
    }

    fn integer(self) -> Result<i128, Decline> {
        match self.kind() {
            View::Plain(text) => decimal(text).ok_or(Decline),
            _ => Err(Decline),
        }
    }
}

macro_rules! integers {
    ($($method:ident $ty:ty => $visit:ident,)*) => {
        $(
            fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
                let value = <$ty>::try_from(self.integer()?).map_err(|_| Decline)?;
                visitor.$visit(value)
            }
        )*
    };
}

impl<'a> Deserializer<'a> for NodeDeserializer<'_, 'a> {
    type Error = Decline;

    /// Typeless positions (`serde_json::Value`): serde-saphyr infers null, then booleans,
    /// then integers and floats for plain scalars; quoted and block scalars are strings.
    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Null => visitor.visit_unit(),
            View::Plain(text) if is_null(text) => visitor.visit_unit(),
            View::Plain(text) => {
                if let Some(value) = yaml11_bool(text) {
                    visitor.visit_bool(value)
                } else if numeric_start(text) {
                    if let Some(value) = decimal(text) {
                        if text.starts_with('-') {
                            visitor.visit_i64(i64::try_from(value).map_err(|_| Decline)?)
                        } else {
                            visitor.visit_u64(u64::try_from(value).map_err(|_| Decline)?)
                        }
                    } else {
                        visitor.visit_f64(float(text).ok_or(Decline)?)
                    }
                } else {
                    visitor.visit_borrowed_str(text)
                }
            }
            View::Borrowed(_) | View::Owned(_) => self.string(visitor),
            View::Seq { .. } => self.deserialize_seq(visitor),
            View::Map { .. } => self.deserialize_map(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Plain(text) => visitor.visit_bool(yaml11_bool(text).ok_or(Decline)?),
            _ => Err(Decline),
        }
    }

    integers! {
        deserialize_i8 i8 => visit_i8,
        deserialize_i16 i16 => visit_i16,
        deserialize_i32 i32 => visit_i32,
        deserialize_i64 i64 => visit_i64,
        deserialize_u8 u8 => visit_u8,
        deserialize_u16 u16 => visit_u16,
        deserialize_u32 u32 => visit_u32,
        deserialize_u64 u64 => visit_u64,
    }

    fn deserialize_f32<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_char<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        self.string(visitor)
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        self.string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Null => visitor.visit_none(),
            View::Plain(text) if is_null(text) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Null => visitor.visit_unit(),
            View::Plain(text) if is_null(text) => visitor.visit_unit(),
            _ => Err(Decline),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Decline> {
        // serde-saphyr's own wrappers (`__yaml_spanned`, ...) need its event stream.
        if name.starts_with("__yaml") {
            return Err(Decline);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Seq { first, len } => {
                let items = self.tree.children(first, len as usize);
                let mut access = Items {
                    node: self,
                    items: items.iter(),
                };
                let value = visitor.visit_seq(&mut access)?;
                // A visitor that stops early would leave items serde-saphyr reports.
                if access.items.len() == 0 {
                    Ok(value)
                } else {
                    Err(Decline)
                }
            }
            _ => Err(Decline),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _: usize, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        match self.kind() {
            View::Map { first, len } => {
                let entries = self.tree.children(first, 2 * len as usize);
                let mut access = Entries {
                    node: self,
                    entries: entries.iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut access)?;
                if access.entries.len() == 0 && access.value.is_none() {
                    Ok(value)
                } else {
                    Err(Decline)
                }
            }
            _ => Err(Decline),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Decline> {
        if name == SPANNED {
            let line_col = self.tree.line_col(self.tree.node(self.id));
            visitor.visit_seq(SpanParts {
                node: self,
                next: 0,
                line_col,
            })
        } else {
            self.deserialize_map(visitor)
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Decline> {
        // Unit variants named by a scalar; `StrDeserializer` offers only unit variants.
        match self.kind() {
            View::Plain(text) if !is_null(text) => {
                visitor.visit_enum(BorrowedStrDeserializer::<Decline>::new(text))
            }
            View::Borrowed(text) | View::Owned(text) => {
                let variant: StrDeserializer<'_, Decline> = text.into_deserializer();
                visitor.visit_enum(variant)
            }
            _ => Err(Decline),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Decline> {
        self.string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_i128<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }

    fn deserialize_u128<V: Visitor<'a>>(self, _: V) -> Result<V::Value, Decline> {
        Err(Decline)
    }
}

struct Items<'t, 'a, 'i> {
    node: NodeDeserializer<'t, 'a>,
    items: std::slice::Iter<'i, u32>,
}

impl<'a> de::SeqAccess<'a> for Items<'_, 'a, '_> {
    type Error = Decline;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Decline> {
        match self.items.next() {
            Some(id) => seed.deserialize(self.node.at(*id)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'t, 'a, 'i> {
    node: NodeDeserializer<'t, 'a>,
    entries: std::slice::Iter<'i, u32>,
    /// The value of the key just read.
    value: Option<u32>,
}

impl<'a> de::MapAccess<'a> for Entries<'_, 'a, '_> {
    type Error = Decline;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Decline> {
        let Some(key) = self.entries.next() else {
            return Ok(None);
        };
        // Keys and values alternate.
        self.value = self.entries.next().copied();
        seed.deserialize(self.node.at(*key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Decline> {
        let value = self.value.take().ok_or(Decline)?;
        seed.deserialize(self.node.at(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() / 2)
    }
}

/// The parts of a spanned value: start, end, line, column, then the value.
struct SpanParts<'t, 'a> {
    node: NodeDeserializer<'t, 'a>,
    next: u8,
    line_col: (usize, usize),
}

impl<'a> de::SeqAccess<'a> for SpanParts<'_, 'a> {
    type Error = Decline;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Decline> {
        let tree = self.node.tree;
        let node = tree.node(self.node.id);
        let part = match self.next {
            0 => node.start as usize,
            1 => node.start as usize + node.len as usize,
            2 => self.line_col.0,
            3 => self.line_col.1,
            4 => {
                self.next += 1;
                return seed.deserialize(self.node).map(Some);
            }
            _ => return Ok(None),
        };
        self.next += 1;
        seed.deserialize(UsizeDeserializer::<Decline>::new(part))
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_plain_decimals() {
        for (text, value) in [
            ("0", Some(0)),
            ("-0", Some(0)),
            ("42", Some(42)),
            ("-7", Some(-7)),
            ("18446744073709551616", Some(18_446_744_073_709_551_616)),
            ("007", None),
            ("+1", None),
            ("1_000", None),
            ("0x1f", None),
            ("1.0", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(decimal(text), value, "{text}");
        }
    }

    #[test]
    fn floats_are_plain_decimal_fractions() {
        for (text, value) in [
            ("1.5", Some(1.5)),
            ("-0.25e3", Some(-250.0)),
            ("2E+2", Some(200.0)),
            ("1e5", Some(100_000.0)),
            ("1", None),
            ("01.5", None),
            (".5", None),
            ("1.", None),
            ("1e", None),
            ("1e999", None),
            (".inf", None),
            ("nan", None),
            ("1.5x", None),
        ] {
            assert_eq!(float(text), value, "{text}");
        }
    }

    #[test]
    fn booleans_are_yaml_1_1_words() {
        for (text, value) in [
            ("true", Some(true)),
            ("Yes", Some(true)),
            ("ON", Some(true)),
            ("y", Some(true)),
            ("false", Some(false)),
            ("No", Some(false)),
            ("off", Some(false)),
            ("n", Some(false)),
            ("truth", None),
            ("1", None),
        ] {
            assert_eq!(yaml11_bool(text), value, "{text}");
        }
    }
}
