//! A JSON document parsed into a reused flat buffer, with strings borrowed from the line.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::view::{Bag, JsonRef, Kind, Num};
use crate::words::KeyWords;

/// One node of a parsed document, in document order.
///
/// Arrays and objects are followed by their children (for objects: key, value, key, value..)
/// and record where their subtree ends, so a child is skipped in one step.
#[derive(Debug, Clone, Copy)]
pub(super) enum Node {
    Null,
    Bool(bool),
    // A number's three forms are nodes of their own, not a `Num` inside one: a node is then
    // 16 bytes, not 24.
    U64(u64),
    I64(i64),
    F64(f64),
    /// A string borrowed from the line: its byte range there.
    Line {
        at: u32,
        len: u32,
    },
    /// A string with escapes, unescaped into the scratch text: its byte range there.
    Scratch {
        at: u32,
        len: u32,
    },
    Array {
        len: u32,
        end: u32,
    },
    /// `index`: where the object's key index starts in [`Doc::index`], or [`NO_INDEX`] for a
    /// small object (its keys are scanned). `repeats`: an indexed object has a key more than
    /// once (found while its index is built; not known for a small object).
    Object {
        len: u32,
        end: u32,
        index: u32,
        repeats: bool,
    },
}

// Nodes are written and read for every value of every line: keep them small.
const _: () = assert!(std::mem::size_of::<Node>() == 16);

impl Node {
    /// The node of a number.
    pub(super) fn num(num: Num) -> Node {
        match num {
            Num::U64(u) => Node::U64(u),
            Num::I64(i) => Node::I64(i),
            Num::F64(f) => Node::F64(f),
        }
    }

    /// An object node, before its index is built.
    pub(super) fn object(len: u32, end: u32) -> Node {
        Node::Object {
            len,
            end,
            index: NO_INDEX,
            repeats: false,
        }
    }
}

/// Objects with more members than this get a hash index of their keys when parsed: data
/// bags are looked up once per layout field, and a scan of every key each time costs more
/// than hashing the key.
const INDEXED_FROM: u32 = 8;
const NO_INDEX: u32 = u32::MAX;
/// An empty slot of an index.
const EMPTY: u32 = u32::MAX;

/// Reused storage for parsing lines: after the first few lines, parsing allocates nothing.
///
/// The grammar, the number conversions, the depth limit (128) and the messages are
/// serde_json's: a line parses here exactly when `serde_json::from_str::<Value>` accepts it,
/// into the same values.
///
/// # Examples
/// ```
/// use metricsmith::line::Doc;
/// use metricsmith::view::{JsonRef, Kind};
/// let mut doc = Doc::new();
/// let parsed = doc.parse(r#"{"a":[1,"x\ny"],"a":{"b":true}}"#)?;
/// let root = parsed.root();
/// assert_eq!(root.get("a").and_then(|a| a.get("b")).map(|b| b.kind()), Some(Kind::Bool(true)));
/// assert_eq!(root.to_json(), serde_json::json!({"a": {"b": true}}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Doc {
    nodes: Vec<Node>,
    scratch: String,
    /// The key indexes of large objects: open addressing, a power of two of slots each,
    /// each slot the node index of a key (its value follows it) or [`EMPTY`].
    index: Vec<u32>,
    /// Large objects get no index (see [`Doc::unindexed`]).
    unindexed: bool,
    /// The parser's stack of open arrays and objects.
    frames: Vec<super::fast::Frame>,
}

/// A parsed line: the document's nodes and the text they point into.
#[derive(Debug, Clone, Copy)]
pub struct Parsed<'a> {
    nodes: &'a [Node],
    line: &'a str,
    scratch: &'a str,
    index: &'a [u32],
}

/// A value of a [`Parsed`] line.
#[derive(Clone, Copy)]
pub struct Value<'a> {
    doc: &'a Parsed<'a>,
    index: u32,
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

impl Doc {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empty storage for a reader that looks up few keys per object, or reads its objects in
    /// one walk over their members: objects get no key index, which saves building one per
    /// large object; a lookup then scans the object's keys.
    pub fn unindexed() -> Self {
        Self {
            unindexed: true,
            ..Self::default()
        }
    }

    /// Whether the fast parser reads `line` by itself, without serde_json's help (which it
    /// needs only for lines that are not JSON). For tests and benchmarks.
    #[doc(hidden)]
    pub fn reads_fast(&mut self, line: &str) -> bool {
        self.nodes.clear();
        self.scratch.clear();
        super::fast::Parser::new(line, &mut self.nodes, &mut self.scratch, &mut self.frames)
            .parse()
            .is_ok()
    }

    /// Parses one JSON text (a whole line, without its newline).
    ///
    /// # Errors
    /// serde_json's error, with its line and column, when `line` is not one JSON value
    /// (trailing whitespace allowed), or when it nests deeper than 128 levels.
    pub fn parse<'a>(&'a mut self, line: &'a str) -> Result<Parsed<'a>, serde_json::Error> {
        self.nodes.clear();
        self.scratch.clear();
        self.index.clear();
        // Offsets are u32: a longer line is refused rather than misread.
        if u32::try_from(line.len()).is_err() {
            return Err(de::Error::custom("line longer than 4 GiB"));
        }
        let fast =
            super::fast::Parser::new(line, &mut self.nodes, &mut self.scratch, &mut self.frames)
                .parse();
        if fast.is_err() {
            // serde_json explains what is wrong (or, should the two parsers ever disagree,
            // reads the line itself).
            self.nodes.clear();
            self.scratch.clear();
            let mut de = serde_json::Deserializer::from_str(line);
            NodeSeed {
                nodes: &mut self.nodes,
                scratch: &mut self.scratch,
                base: line.as_ptr() as usize,
            }
            .deserialize(&mut de)?;
            de.end()?;
        }
        if !self.unindexed {
            build_indexes(&mut self.nodes, line, &self.scratch, &mut self.index);
        }
        Ok(Parsed {
            nodes: &self.nodes,
            line,
            scratch: &self.scratch,
            index: &self.index,
        })
    }
}

/// The bytes of a string node, or `None` for any other node.
fn str_bytes<'t>(node: Node, line: &'t str, scratch: &'t str) -> Option<&'t [u8]> {
    let (source, at, len) = match node {
        Node::Line { at, len } => (line, at, len),
        Node::Scratch { at, len } => (scratch, at, len),
        _ => return None,
    };
    source
        .as_bytes()
        .get(at as usize..at as usize + len as usize)
}

/// The Fx hash of a key, a word at a time.
fn hash(key: &[u8]) -> u64 {
    crate::words::fx_hash(key)
}

/// The index after the subtree of the value at `i`.
fn subtree_end(nodes: &[Node], i: usize) -> usize {
    match nodes.get(i) {
        Some(Node::Array { end, .. } | Node::Object { end, .. }) => *end as usize,
        _ => i + 1,
    }
}

/// Gives every object with more than [`INDEXED_FROM`] members a key index; a repeated key
/// keeps its slot and points at its last occurrence.
fn build_indexes(nodes: &mut [Node], line: &str, scratch: &str, index: &mut Vec<u32>) {
    for i in 0..nodes.len() {
        let Some(&Node::Object { len, .. }) = nodes.get(i) else {
            continue;
        };
        if len <= INDEXED_FROM {
            continue;
        }
        let Ok(start) = u32::try_from(index.len()) else {
            return;
        };
        let slots = (len as usize * 2).next_power_of_two();
        let mask = slots - 1;
        index.resize(index.len() + slots, EMPTY);
        let table = &mut index[start as usize..];
        let mut repeats = false;
        let mut key = i + 1;
        for _ in 0..len {
            let Some(bytes) = nodes.get(key).and_then(|n| str_bytes(*n, line, scratch)) else {
                break;
            };
            let mut slot = hash(bytes) as usize & mask;
            // The table has twice as many slots as keys: a free or equal slot is found.
            while let Some(entry) = table.get_mut(slot) {
                let same = *entry != EMPTY
                    && nodes
                        .get(*entry as usize)
                        .and_then(|n| str_bytes(*n, line, scratch))
                        == Some(bytes);
                if *entry == EMPTY || same {
                    repeats |= same;
                    // Node indexes fit in u32: the parser checks it.
                    *entry = key as u32;
                    break;
                }
                slot = (slot + 1) & mask;
            }
            key = subtree_end(nodes, key + 1);
        }
        if let Some(Node::Object {
            index, repeats: r, ..
        }) = nodes.get_mut(i)
        {
            *index = start;
            *r = repeats;
        }
    }
}

impl<'a> Parsed<'a> {
    /// The document's value.
    pub fn root(&'a self) -> Value<'a> {
        Value {
            doc: self,
            index: 0,
        }
    }
}

impl<'a> Value<'a> {
    /// The value's place in its document: every value of one parse has its own, so a reader
    /// can keep notes on values (a validator's conversions, say) and find them again.
    pub fn id(self) -> u32 {
        self.index
    }

    #[inline]
    fn node(self) -> Node {
        self.doc
            .nodes
            .get(self.index as usize)
            .copied()
            .unwrap_or(Node::Null)
    }

    /// The index after this value's subtree.
    fn end(self) -> u32 {
        match self.node() {
            Node::Array { end, .. } | Node::Object { end, .. } => end,
            _ => self.index + 1,
        }
    }

    fn at(self, index: u32) -> Value<'a> {
        Value {
            doc: self.doc,
            index,
        }
    }

    /// Every (key, value) pair of an object, repeated keys included.
    fn pairs(self) -> Pairs<'a> {
        let (len, next) = match self.node() {
            Node::Object { len, .. } => (len, self.index + 1),
            _ => (0, self.index + 1),
        };
        Pairs {
            doc: self.doc,
            next,
            left: len,
        }
    }
}

/// Every (key, value) pair of an object, in order.
struct Pairs<'a> {
    doc: &'a Parsed<'a>,
    next: u32,
    left: u32,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let key = Value {
            doc: self.doc,
            index: self.next,
        };
        let value = key.at(self.next + 1);
        self.next = value.end();
        Some((key.as_str().unwrap_or(""), value))
    }
}

/// The items of an array, in order.
struct Items<'a> {
    doc: &'a Parsed<'a>,
    next: u32,
    left: u32,
}

impl<'a> Iterator for Items<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let item = Value {
            doc: self.doc,
            index: self.next,
        };
        self.next = item.end();
        Some(item)
    }
}

impl<'a> JsonRef<'a> for Value<'a> {
    #[inline]
    fn kind(self) -> Kind<'a> {
        let text = |source: &'a str, at: u32, len: u32| {
            source
                .get(at as usize..(at as usize + len as usize))
                .unwrap_or("")
        };
        match self.node() {
            Node::Null => Kind::Null,
            Node::Bool(b) => Kind::Bool(b),
            Node::U64(u) => Kind::Number(Num::U64(u)),
            Node::I64(i) => Kind::Number(Num::I64(i)),
            Node::F64(f) => Kind::Number(Num::F64(f)),
            Node::Line { at, len } => Kind::String(text(self.doc.line, at, len)),
            Node::Scratch { at, len } => Kind::String(text(self.doc.scratch, at, len)),
            Node::Array { .. } => Kind::Array,
            Node::Object { .. } => Kind::Object,
        }
    }

    #[inline]
    fn quoted_text(self) -> Option<&'a [u8]> {
        match self.node() {
            // The quotes around a string read from the line are the bytes around its text.
            Node::Line { at, len } => self
                .doc
                .line
                .as_bytes()
                .get((at as usize).checked_sub(1)?..at as usize + len as usize + 1),
            _ => None,
        }
    }

    #[inline]
    fn kind_plain(self) -> (Kind<'a>, bool) {
        match self.node() {
            // A string read from the line without escapes: see `escape_free_str`.
            Node::Line { at, len } => (
                Kind::String(
                    self.doc
                        .line
                        .get(at as usize..(at as usize + len as usize))
                        .unwrap_or(""),
                ),
                true,
            ),
            _ => (self.kind(), false),
        }
    }

    fn escape_free_str(self) -> Option<&'a str> {
        // A string read from the line without escapes holds no quote, backslash or control
        // character: JSON does not allow them unescaped.
        match self.node() {
            Node::Line { at, len } => self.doc.line.get(at as usize..(at as usize + len as usize)),
            _ => None,
        }
    }

    fn items(self) -> impl Iterator<Item = Self> + 'a {
        let left = match self.node() {
            Node::Array { len, .. } => len,
            _ => 0,
        };
        Items {
            doc: self.doc,
            next: self.index + 1,
            left,
        }
    }

    fn len(self) -> usize {
        match self.node() {
            Node::Array { len, .. } => len as usize,
            _ => 0,
        }
    }

    fn get_pair(self, a: &str, b: &str) -> (Option<Self>, Option<Self>) {
        let doc = self.doc;
        let Some(&Node::Object { index, .. }) = doc.nodes.get(self.index as usize) else {
            return (None, None);
        };
        if index != NO_INDEX {
            return (JsonRef::get(self, a), JsonRef::get(self, b));
        }
        // One walk over a small object; the last occurrence of a key wins, as in `get`.
        let (mut first, mut second) = (None, None);
        self.key_pairs(|key, value| {
            if key == a.as_bytes() {
                first = Some(value);
            } else if key == b.as_bytes() {
                second = Some(value);
            }
        });
        (first, second)
    }

    fn get(self, key: &str) -> Option<Self> {
        let doc = self.doc;
        let nodes = doc.nodes;
        let Some(&Node::Object { len, index, .. }) = nodes.get(self.index as usize) else {
            return None;
        };
        let key = key.as_bytes();
        let words = KeyWords::of(key);
        // The length first: most keys differ in it, and it is in the node; then the words.
        let is_key = |i: usize| match nodes.get(i) {
            Some(&Node::Line { at, len }) => {
                len as usize == key.len()
                    && doc
                        .line
                        .as_bytes()
                        .get(at as usize..(at + len) as usize)
                        .is_some_and(|bytes| words.is(key, bytes))
            }
            Some(&Node::Scratch { at, len }) => {
                len as usize == key.len()
                    && doc.scratch.as_bytes().get(at as usize..(at + len) as usize) == Some(key)
            }
            _ => false,
        };
        if index == NO_INDEX {
            // The last occurrence wins, as in serde_json's map.
            let mut found = None;
            let mut next = self.index as usize + 1;
            for _ in 0..len {
                if is_key(next) {
                    found = Some(next + 1);
                }
                next = subtree_end(nodes, next + 1);
            }
            // Node indexes fit in u32: the parser checks it.
            return found.map(|i| self.at(i as u32));
        }
        let slots = (len as usize * 2).next_power_of_two();
        let table = doc.index.get(index as usize..index as usize + slots)?;
        let mask = slots - 1;
        let mut slot = hash(key) as usize & mask;
        loop {
            let entry = *table.get(slot)?;
            if entry == EMPTY {
                return None;
            }
            if is_key(entry as usize) {
                return Some(self.at(entry + 1));
            }
            slot = (slot + 1) & mask;
        }
    }

    fn entries(self) -> impl Iterator<Item = (&'a str, Self)> + 'a {
        // A repeated key keeps its first position and its last value. Repeats are rare: an
        // object without them gives its pairs as they are; one with them scans for each key.
        let repeats = match self.node() {
            Node::Object { index, repeats, .. } if index != NO_INDEX => repeats,
            Node::Object { len, .. } if len <= INDEXED_FROM => {
                let mut keys = [""; INDEXED_FROM as usize];
                for (slot, (key, _)) in keys.iter_mut().zip(self.pairs()) {
                    *slot = key;
                }
                let keys = keys.get(..len as usize).unwrap_or(&[]);
                keys.iter()
                    .enumerate()
                    .any(|(i, k)| keys.get(..i).is_some_and(|before| before.contains(k)))
            }
            // A large object of an unindexed document: every key against the ones before it.
            Node::Object { .. } => self
                .pairs()
                .enumerate()
                .any(|(i, (key, _))| self.pairs().take(i).any(|(k, _)| k == key)),
            _ => false,
        };
        let pairs = self.pairs();
        let object = self;
        pairs.enumerate().filter_map(move |(i, (key, value))| {
            if !repeats {
                return Some((key, value));
            }
            let mut seen = object.pairs().take(i);
            if seen.any(|(k, _)| k == key) {
                return None;
            }
            object.pairs().skip(i).filter(|(k, _)| *k == key).last()
        })
    }
}

impl<'a> Bag<'a> for Value<'a> {
    type Value = Value<'a>;

    fn get(self, key: &str) -> Option<Value<'a>> {
        JsonRef::get(self, key)
    }

    fn pairs(self, mut f: impl FnMut(&'a str, Value<'a>)) {
        let doc = self.doc;
        self.members(|key, value| {
            let text = match key {
                Node::Line { at, len } => doc.line.get(at as usize..(at + len) as usize),
                Node::Scratch { at, len } => doc.scratch.get(at as usize..(at + len) as usize),
                _ => None,
            };
            f(text.unwrap_or(""), value);
        });
    }

    fn key_pairs(self, mut f: impl FnMut(&'a [u8], Value<'a>)) {
        let doc = self.doc;
        self.members(|key, value| {
            f(
                str_bytes(key, doc.line, doc.scratch).unwrap_or_default(),
                value,
            );
        });
    }
}

impl<'a> Value<'a> {
    /// Calls `f` with each member's key node and value, in order, straight over the nodes (the
    /// transform fills its slots from here, once per event): a key node, its value, the
    /// value's subtree skipped in one step.
    #[inline]
    fn members(self, mut f: impl FnMut(Node, Value<'a>)) {
        let doc = self.doc;
        let nodes = doc.nodes;
        let Some(&Node::Object { len, .. }) = nodes.get(self.index as usize) else {
            return;
        };
        let mut key = self.index as usize + 1;
        for _ in 0..len {
            let value = key + 1;
            // Node indexes fit in u32: the parser checks it.
            f(
                nodes.get(key).copied().unwrap_or(Node::Null),
                Value {
                    doc,
                    index: value as u32,
                },
            );
            key = subtree_end(nodes, value);
        }
    }
}

/// Deserializes one value into the node list.
struct NodeSeed<'d> {
    nodes: &'d mut Vec<Node>,
    scratch: &'d mut String,
    /// The address of the line's first byte: borrowed strings are stored as offsets from it.
    base: usize,
}

impl NodeSeed<'_> {
    fn reborrow(&mut self) -> NodeSeed<'_> {
        NodeSeed {
            nodes: self.nodes,
            scratch: self.scratch,
            base: self.base,
        }
    }

    fn push_str<E: de::Error>(&mut self, node: Result<Node, ()>) -> Result<(), E> {
        match node {
            Ok(node) => {
                self.nodes.push(node);
                Ok(())
            }
            Err(()) => Err(E::custom("line longer than 4 GiB")),
        }
    }

    fn index<E: de::Error>(&self) -> Result<u32, E> {
        u32::try_from(self.nodes.len()).map_err(|_| E::custom("too many values in one line"))
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// The range of `s` as `u32`s, or `Err` when it does not fit.
fn range(at: usize, len: usize) -> Result<(u32, u32), ()> {
    Ok((
        u32::try_from(at).map_err(|_| ())?,
        u32::try_from(len).map_err(|_| ())?,
    ))
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.nodes.push(Node::Null);
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.nodes.push(Node::Bool(b));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<(), E> {
        self.nodes.push(Node::U64(u));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<(), E> {
        // serde_json's Value keeps a non-negative integer as u64.
        let num = u64::try_from(i).map_or(Num::I64(i), Num::U64);
        self.nodes.push(Node::num(num));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<(), E> {
        self.nodes.push(Node::F64(f));
        Ok(())
    }

    fn visit_borrowed_str<E: de::Error>(mut self, s: &'de str) -> Result<(), E> {
        // serde_json borrows a string without escapes from the line itself.
        let at = (s.as_ptr() as usize).wrapping_sub(self.base);
        let node = range(at, s.len()).map(|(at, len)| Node::Line { at, len });
        self.push_str(node)
    }

    fn visit_str<E: de::Error>(mut self, s: &str) -> Result<(), E> {
        let at = self.scratch.len();
        self.scratch.push_str(s);
        let node = range(at, s.len()).map(|(at, len)| Node::Scratch { at, len });
        self.push_str(node)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let index = self.index()?;
        self.nodes.push(Node::Array { len: 0, end: 0 });
        let mut len = 0u32;
        while seq.next_element_seed(self.reborrow())?.is_some() {
            len = len.saturating_add(1);
        }
        let end = self.index()?;
        if let Some(node) = self.nodes.get_mut(index as usize) {
            *node = Node::Array { len, end };
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let index = self.index()?;
        self.nodes.push(Node::object(0, 0));
        let mut len = 0u32;
        while map.next_key_seed(KeySeed(self.reborrow()))?.is_some() {
            map.next_value_seed(self.reborrow())?;
            len = len.saturating_add(1);
        }
        let end = self.index()?;
        if let Some(node) = self.nodes.get_mut(index as usize) {
            *node = Node::object(len, end);
        }
        Ok(())
    }
}

/// Deserializes an object key into the node list, as a string node.
struct KeySeed<'d>(NodeSeed<'d>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self.0)
    }
}
