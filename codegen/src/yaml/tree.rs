//! Text -> tree for the block-style YAML subset that schema files use.
//!
//! Every function returns `None` ("decline") as soon as the text leaves the subset or is not
//! valid YAML, so that the full parser runs and reports it. Nothing here is an error message.
//! The spans reproduce serde-saphyr's (granit-parser's) node locations exactly:
//! plain scalars cover their trimmed text, quoted scalars their quotes, block scalars run from
//! the first content character to where the scanner stopped, flow collections cover their
//! opening bracket, and block mappings are empty at their first key.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::parse::limits;

/// Deeper nesting declines: the full parser then runs on its big-stack thread and enforces
/// [`limits::MAX_DEPTH`]. The fast path runs on the caller's stack, where serde's recursion
/// through 24 levels of the AST takes under 512 KiB in debug builds (schema files nest about
/// 10).
const MAX_DEPTH: usize = 24;

/// granit-parser buffers at most 32 comments in a row while it looks ahead for a node
/// (`max_buffered_comment_events`); longer runs decline rather than find out where.
const MAX_COMMENTS_IN_A_ROW: usize = 31;

/// granit-parser's `simple_key_max_lookahead` (1,024 characters), with a margin.
const MAX_KEY_BYTES: usize = 1_000;

/// The parsed document: nodes in an arena, children of collections in one list.
#[derive(Debug)]
pub(super) struct Tree<'a> {
    pub text: &'a str,
    pub nodes: Vec<Node>,
    /// The values of scalars that are not a slice of the text (escapes, folded lines).
    pub owned: Vec<String>,
    /// Sequence items, or mapping keys and values alternating.
    pub children: Vec<u32>,
    pub root: u32,
}

/// A node in 28 bytes: a schema of 2,000 events has about 155,000 (4.3 MB instead of 7.5 MB
/// when each held its `Kind`).
#[derive(Debug)]
pub(super) struct Node {
    pub kind: Stored,
    /// Byte range of the node as serde-saphyr reports it.
    pub start: u32,
    pub len: u32,
    /// 1-based line of `start`, and the offset where that line starts.
    pub line: u32,
    pub line_start: u32,
}

#[derive(Debug)]
pub(super) enum Kind<'a> {
    /// An omitted value (`key:` with nothing after it).
    Null,
    /// A plain scalar: its type is resolved from its text.
    Plain(&'a str),
    /// A quoted or block scalar: always a string.
    Text(Cow<'a, str>),
    /// `first..first + len` in [`Tree::children`].
    Seq { first: u32, len: u32 },
    /// `first..first + 2 * len` in [`Tree::children`], key then value.
    Map { first: u32, len: u32 },
}

// The node size the comment on `Node` counts on.
const _: () = assert!(std::mem::size_of::<Node>() == 28);

/// A node's [`Kind`] as the tree keeps it: scalars as ranges of the text or indices into
/// [`Tree::owned`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Stored {
    Null,
    /// `text[start..start + len]`, plain.
    Plain {
        start: u32,
        len: u32,
    },
    /// `text[start..start + len]`, quoted or block.
    Borrowed {
        start: u32,
        len: u32,
    },
    /// `owned[index]`.
    Owned(u32),
    Seq {
        first: u32,
        len: u32,
    },
    Map {
        first: u32,
        len: u32,
    },
}

/// A node's kind as the deserializer reads it: text borrowed from the schema (`'a`) or from
/// the tree (`'t`).
#[derive(Debug, Clone, Copy)]
pub(super) enum View<'a, 't> {
    Null,
    Plain(&'a str),
    /// A quoted or block scalar whose value is a slice of the text.
    Borrowed(&'a str),
    /// A quoted or block scalar whose value the parser built.
    Owned(&'t str),
    Seq {
        first: u32,
        len: u32,
    },
    Map {
        first: u32,
        len: u32,
    },
}

impl<'a> Tree<'a> {
    /// Parses `text`, or `None` when it is outside the subset.
    pub fn parse(text: &'a str) -> Option<Tree<'a>> {
        if u32::try_from(text.len()).ok()? > u32::MAX / 2 || !plain_characters(text.as_bytes()) {
            return None;
        }
        let mut parser = Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            next: None,
            // About one node per 10 bytes of schema text.
            nodes: Vec::with_capacity(text.len() / 10),
            owned: Vec::new(),
            children: Vec::with_capacity(text.len() / 10),
            scratch: Vec::new(),
            depth: 0,
            comments_in_a_row: 0,
            comment_bytes: 0,
            scalar_bytes: 0,
        };
        let root = parser.document()?;
        parser.within_budgets()?;
        Some(Tree {
            text,
            nodes: parser.nodes,
            owned: parser.owned,
            children: parser.children,
            root,
        })
    }

    pub fn node(&self, id: u32) -> &Node {
        &self.nodes[id as usize]
    }

    /// What node `id` is, with its text.
    pub fn kind(&self, id: u32) -> View<'a, '_> {
        view(self.text, &self.owned, self.node(id).kind)
    }

    /// 1-based line and column (in characters) of a node's start.
    pub fn line_col(&self, node: &Node) -> (usize, usize) {
        let (line_start, start) = (node.line_start as usize, node.start as usize);
        let before = &self.text[line_start..start];
        let column = if before.is_ascii() {
            before.len()
        } else {
            before.chars().count()
        };
        (node.line as usize, column + 1)
    }

    /// The children of a collection (items, or keys and values alternating).
    pub fn children(&self, first: u32, count: usize) -> &[u32] {
        &self.children[first as usize..first as usize + count]
    }
}

/// A stored kind with its text: `text` is the schema, `owned` the tree's built values.
fn view<'a, 't>(text: &'a str, owned: &'t [String], kind: Stored) -> View<'a, 't> {
    let slice = |start: u32, len: u32| &text[start as usize..start as usize + len as usize];
    match kind {
        Stored::Null => View::Null,
        Stored::Plain { start, len } => View::Plain(slice(start, len)),
        Stored::Borrowed { start, len } => View::Borrowed(slice(start, len)),
        Stored::Owned(index) => View::Owned(owned.get(index as usize).map_or("", String::as_str)),
        Stored::Seq { first, len } => View::Seq { first, len },
        Stored::Map { first, len } => View::Map { first, len },
    }
}

/// Whether the text holds only characters whose handling the subset knows: no tabs, no
/// carriage returns, no other control characters, no byte-order marks, no Unicode line
/// separators and no YAML non-printables.
fn plain_characters(bytes: &[u8]) -> bool {
    // Most files are ASCII text: check 64 bytes at a time, without branches, and look closer
    // only at chunks with anything else.
    bytes.chunks(64).enumerate().all(|(n, chunk)| {
        let other = chunk.iter().fold(false, |other, b| {
            other | (*b < 0x20 && *b != b'\n') | (*b > 0x7e)
        });
        !other || plain_characters_at(bytes, n * 64, chunk.len())
    })
}

/// [`plain_characters`] for `len` bytes at `from`, looking at the following bytes of
/// multi-byte characters.
fn plain_characters_at(bytes: &[u8], from: usize, len: usize) -> bool {
    (from..from + len).all(|i| match bytes[i] {
        b'\n' | 0x20..=0x7e => true,
        0x00..=0x1f | 0x7f => false,
        // U+0080..U+009F (C1 controls, NEL).
        0xc2 => !matches!(bytes.get(i + 1), Some(0x80..=0x9f)),
        // U+2028, U+2029.
        0xe2 => !(bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9))),
        // U+FEFF, U+FFFE, U+FFFF.
        0xef => !matches!(
            (bytes.get(i + 1), bytes.get(i + 2)),
            (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
        ),
        _ => true,
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// The cursor.
    pos: usize,
    /// 1-based line of `pos`.
    line: u32,
    /// Offset of the start of the cursor's line.
    line_start: usize,
    /// After a block-level value: the indentation of the next content line (the cursor is on
    /// its first character), or `None` at the end of the text.
    next: Option<usize>,
    nodes: Vec<Node>,
    owned: Vec<String>,
    children: Vec<u32>,
    /// Children of the collections being parsed, copied to `children` when each ends.
    scratch: Vec<u32>,
    depth: usize,
    comments_in_a_row: usize,
    comment_bytes: usize,
    scalar_bytes: usize,
}

/// The line of a node's start, and where that line starts.
#[derive(Clone, Copy)]
struct Mark {
    line: u32,
    line_start: usize,
}

/// What starts at a position where a mapping key may be.
enum KeyScan<'a> {
    /// A key: its kind, its byte range and the offset of its `:`.
    Key {
        kind: Kind<'a>,
        start: usize,
        end: usize,
        colon: usize,
    },
    /// Something else (a scalar value).
    NotKey,
}

impl<'a> Parser<'a> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Whether `at` ends a token: a space, a line break or the end of the text.
    fn is_break_or_space(&self, at: usize) -> bool {
        matches!(self.byte(at), None | Some(b' ' | b'\n'))
    }

    /// Where the cursor is, for a node that starts there.
    fn mark(&self) -> Mark {
        Mark {
            line: self.line,
            line_start: self.line_start,
        }
    }

    /// Where `slice`, a slice of the text, starts in it, and its length.
    fn range_of(&self, slice: &'a str) -> Option<(u32, u32)> {
        let start = (slice.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        (start + slice.len() <= self.text.len()).then_some(())?;
        Some((u32::try_from(start).ok()?, u32::try_from(slice.len()).ok()?))
    }

    fn add(&mut self, kind: Kind<'a>, start: usize, end: usize, at: Mark) -> Option<u32> {
        let kind = match kind {
            Kind::Null => Stored::Null,
            Kind::Plain(text) => {
                self.scalar_bytes += text.len();
                let (start, len) = self.range_of(text)?;
                Stored::Plain { start, len }
            }
            Kind::Text(Cow::Borrowed(text)) => {
                self.scalar_bytes += text.len();
                let (start, len) = self.range_of(text)?;
                Stored::Borrowed { start, len }
            }
            Kind::Text(Cow::Owned(text)) => {
                self.scalar_bytes += text.len();
                let index = u32::try_from(self.owned.len()).ok()?;
                self.owned.push(text);
                Stored::Owned(index)
            }
            Kind::Seq { first, len } => Stored::Seq { first, len },
            Kind::Map { first, len } => Stored::Map { first, len },
        };
        let id = u32::try_from(self.nodes.len()).ok()?;
        self.nodes.push(Node {
            kind,
            start: u32::try_from(start).ok()?,
            len: u32::try_from(end - start).ok()?,
            line: at.line,
            line_start: u32::try_from(at.line_start).ok()?,
        });
        Some(id)
    }

    /// Moves the children pushed since `mark` to the children list.
    fn take_children(&mut self, mark: usize) -> Option<u32> {
        let first = u32::try_from(self.children.len()).ok()?;
        self.children.extend_from_slice(&self.scratch[mark..]);
        self.scratch.truncate(mark);
        Some(first)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Declines what serde-saphyr's budgets might reject, with a wide margin: each node is at
    /// most two parser events, and each line holds at most one comment.
    fn within_budgets(&self) -> Option<()> {
        let nodes = self.nodes.len();
        let events = 2 * nodes + self.line as usize + 16;
        (nodes < limits::MAX_NODES / 2
            && events < limits::MAX_EVENTS / 2
            && self.scalar_bytes < limits::MAX_SCALAR_BYTES / 2
            && self.comment_bytes < limits::MAX_SCALAR_BYTES / 2)
            .then_some(())
    }

    /// Counts a comment starting at `self.pos` and moves past its line.
    fn comment(&mut self) -> Option<()> {
        self.comments_in_a_row += 1;
        if self.comments_in_a_row > MAX_COMMENTS_IN_A_ROW {
            return None;
        }
        let end = self.line_end(self.pos);
        self.comment_bytes += end - self.pos;
        self.pos = end;
        self.next_line();
        Some(())
    }

    fn line_end(&self, from: usize) -> usize {
        self.bytes[from..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(self.bytes.len(), |n| from + n)
    }

    /// Moves from a line break (or the end) to the start of the next line.
    fn next_line(&mut self) {
        if self.pos < self.bytes.len() {
            self.pos += 1;
            self.line += 1;
        }
        self.line_start = self.pos;
    }

    fn skip_spaces(&mut self) -> usize {
        let from = self.pos;
        while self.byte(self.pos) == Some(b' ') {
            self.pos += 1;
        }
        self.pos - from
    }

    /// From the start of a line, skips blank and comment lines and sets `self.next`.
    /// Declines at a document marker or directive.
    fn skip_to_content(&mut self) -> Option<()> {
        loop {
            let indent = self.skip_spaces();
            match self.byte(self.pos) {
                None => {
                    self.next = None;
                    return Some(());
                }
                Some(b'\n') => self.next_line(),
                Some(b'#') => self.comment()?,
                Some(_) => {
                    if indent == 0 && self.at_marker() {
                        return None;
                    }
                    self.comments_in_a_row = 0;
                    self.next = Some(indent);
                    return Some(());
                }
            }
        }
    }

    /// `---`, `...` or a directive at the start of a line.
    fn at_marker(&self) -> bool {
        let rest = &self.bytes[self.pos..];
        rest.first() == Some(&b'%')
            || ((rest.starts_with(b"---") || rest.starts_with(b"..."))
                && self.is_break_or_space(self.pos + 3))
    }

    /// After a value on the cursor's line: only spaces and a comment may follow.
    fn end_of_line(&mut self) -> Option<()> {
        let spaces = self.skip_spaces();
        self.rest_of_line(spaces)
    }

    /// At the end of a line or at a comment after `spaces` spaces: moves to the next content
    /// line.
    fn rest_of_line(&mut self, spaces: usize) -> Option<()> {
        match self.byte(self.pos) {
            None => {}
            Some(b'\n') => self.next_line(),
            Some(b'#') if spaces > 0 => self.comment()?,
            Some(_) => return None,
        }
        self.skip_to_content()
    }

    fn document(&mut self) -> Option<u32> {
        // Leading comments and blank lines, then an optional `---`.
        loop {
            let indent = self.skip_spaces();
            match self.byte(self.pos) {
                None => return None,
                Some(b'\n') => self.next_line(),
                Some(b'#') => self.comment()?,
                Some(_) => {
                    if indent == 0
                        && self.bytes[self.pos..].starts_with(b"---")
                        && self.is_break_or_space(self.pos + 3)
                    {
                        self.pos += 3;
                        let spaces = self.skip_spaces();
                        self.rest_of_line(spaces)?;
                    } else {
                        self.pos = self.line_start;
                        self.skip_to_content()?;
                    }
                    break;
                }
            }
        }
        if self.next != Some(0) {
            return None;
        }
        if !matches!(self.key_at(self.pos)?, KeyScan::Key { .. }) {
            return None;
        }
        let root = self.block_map(0)?;
        // Anything after the root mapping is not part of the subset.
        self.next.is_none().then_some(root)
    }

    /// A block mapping whose first key is at the cursor, in column `col`.
    fn block_map(&mut self, col: usize) -> Option<u32> {
        self.enter()?;
        let (start, line) = (self.pos, self.mark());
        let mark = self.scratch.len();
        loop {
            let KeyScan::Key {
                kind,
                start: key_start,
                end: key_end,
                colon,
            } = self.key_at(self.pos)?
            else {
                return None;
            };
            if let Kind::Plain(text) = &kind
                && !plain_key(text)
            {
                return None;
            }
            let key = self.add(kind, key_start, key_end, self.mark())?;
            self.scratch.push(key);
            self.pos = colon + 1;
            let value = self.map_value(col, colon)?;
            self.scratch.push(value);
            match self.next {
                Some(indent) if indent == col => {
                    if self.at_entry(self.pos) {
                        return None;
                    }
                }
                Some(indent) if indent > col => return None,
                _ => break,
            }
        }
        self.unique_keys(mark)?;
        let len = u32::try_from((self.scratch.len() - mark) / 2).ok()?;
        let first = self.take_children(mark)?;
        self.depth -= 1;
        self.add(Kind::Map { first, len }, start, start, line)
    }

    /// The value after the `:` of a key of a block mapping in column `col`.
    fn map_value(&mut self, col: usize, colon: usize) -> Option<u32> {
        let line = self.mark();
        let spaces = self.skip_spaces();
        match self.byte(self.pos) {
            None | Some(b'\n' | b'#') => {
                self.rest_of_line(spaces)?;
                match self.next {
                    Some(indent) if indent > col => self.block_node(indent),
                    Some(indent) if indent == col && self.at_entry(self.pos) => self.block_seq(col),
                    _ => self.add(Kind::Null, colon, colon, line),
                }
            }
            Some(_) => self.inline_value(col),
        }
    }

    /// A collection starting a line with indentation `indent`.
    fn block_node(&mut self, indent: usize) -> Option<u32> {
        if self.at_entry(self.pos) {
            self.block_seq(indent)
        } else if matches!(self.key_at(self.pos)?, KeyScan::Key { .. }) {
            self.block_map(indent)
        } else {
            None
        }
    }

    /// Whether a block sequence entry (`-` and a space or line break) starts at `at`.
    fn at_entry(&self, at: usize) -> bool {
        self.byte(at) == Some(b'-') && self.is_break_or_space(at + 1)
    }

    /// A block sequence whose first `-` is at the cursor, in column `col`.
    fn block_seq(&mut self, col: usize) -> Option<u32> {
        self.enter()?;
        let (start, line) = (self.pos, self.mark());
        let mark = self.scratch.len();
        loop {
            let dash = self.pos;
            let dash_line = self.mark();
            self.pos += 1;
            let spaces = self.skip_spaces();
            let item = match self.byte(self.pos) {
                None | Some(b'\n' | b'#') => {
                    self.rest_of_line(spaces)?;
                    match self.next {
                        Some(indent) if indent > col => self.block_node(indent)?,
                        _ => self.add(Kind::Null, dash + 1, dash + 1, dash_line)?,
                    }
                }
                Some(_) => {
                    // Only spaces and dashes precede it on the line: bytes are columns.
                    let column = self.pos - self.line_start;
                    if self.at_entry(self.pos) {
                        self.block_seq(column)?
                    } else if matches!(self.key_at(self.pos)?, KeyScan::Key { .. }) {
                        self.block_map(column)?
                    } else {
                        self.inline_value(col)?
                    }
                }
            };
            self.scratch.push(item);
            match self.next {
                Some(indent) if indent == col && self.at_entry(self.pos) => {}
                Some(indent) if indent > col => return None,
                _ => break,
            }
        }
        let len = u32::try_from(self.scratch.len() - mark).ok()?;
        let first = self.take_children(mark)?;
        self.depth -= 1;
        self.add(Kind::Seq { first, len }, start, start, line)
    }

    /// A value on the cursor's line after `key:` or `- `, in a block collection whose column
    /// is `parent` (the indentation a block scalar must exceed). Leaves `self.next` set.
    fn inline_value(&mut self, parent: usize) -> Option<u32> {
        let (start, line) = (self.pos, self.mark());
        let node = match self.byte(start)? {
            b'|' | b'>' => return self.block_scalar(parent),
            b'[' | b'{' => self.flow_node()?,
            b'\'' | b'"' => {
                let (kind, end) = self.quoted(start)?;
                self.pos = end;
                self.add(kind, start, end, line)?
            }
            _ => {
                let end = self.plain_block_value(start)?;
                self.pos = end;
                self.add(Kind::Plain(&self.text[start..end]), start, end, line)?
            }
        };
        self.end_of_line()?;
        Some(node)
    }

    /// The end of a plain scalar value in block context starting at `start`, which must not
    /// hold a `: ` (a nested mapping on one line) or continue on the next line.
    fn plain_block_value(&self, start: usize) -> Option<usize> {
        if !plain_first(self.bytes, start, false) {
            return None;
        }
        let mut i = start;
        let mut end = loop {
            match self.byte(i) {
                None | Some(b'\n') => break i,
                Some(b'#') if self.bytes[i - 1] == b' ' => break i,
                Some(b':') if self.is_break_or_space(i + 1) => return None,
                _ => i += 1,
            }
        };
        while self.bytes[end - 1] == b' ' {
            end -= 1;
        }
        Some(end)
    }

    /// Scans a block mapping key at `at` without moving the cursor.
    fn key_at(&self, at: usize) -> Option<KeyScan<'a>> {
        let (kind, end) = match self.byte(at)? {
            b'\'' | b'"' => self.quoted(at)?,
            _ => {
                if !plain_first(self.bytes, at, false) {
                    return Some(KeyScan::NotKey);
                }
                let mut i = at;
                loop {
                    match self.byte(i) {
                        None | Some(b'\n') => return Some(KeyScan::NotKey),
                        Some(b'#') if self.bytes[i - 1] == b' ' => return Some(KeyScan::NotKey),
                        Some(b':') if self.is_break_or_space(i + 1) => break,
                        _ => i += 1,
                    }
                }
                let mut end = i;
                while self.bytes[end - 1] == b' ' {
                    end -= 1;
                }
                (Kind::Plain(&self.text[at..end]), end)
            }
        };
        let mut colon = end;
        while self.byte(colon) == Some(b' ') {
            colon += 1;
        }
        if self.byte(colon) != Some(b':') || !self.is_break_or_space(colon + 1) {
            return Some(KeyScan::NotKey);
        }
        if colon - at > MAX_KEY_BYTES {
            return None;
        }
        Some(KeyScan::Key {
            kind,
            start: at,
            end,
            colon,
        })
    }

    /// A single-line quoted scalar starting at `at`: its value and the offset after it.
    fn quoted(&self, at: usize) -> Option<(Kind<'a>, usize)> {
        if self.bytes[at] == b'\'' {
            single_quoted(self.text, at)
        } else {
            double_quoted(self.text, at)
        }
    }

    /// A literal or folded block scalar whose indicator is at the cursor, in a block collection
    /// in column `parent`. The algorithm is granit-parser's `scan_block_scalar`.
    fn block_scalar(&mut self, parent: usize) -> Option<u32> {
        let literal = self.bytes[self.pos] == b'|';
        self.pos += 1;
        let chomping = match self.byte(self.pos) {
            Some(b'-') => Chomping::Strip,
            Some(b'+') => Chomping::Keep,
            _ => Chomping::Clip,
        };
        if chomping != Chomping::Clip {
            self.pos += 1;
        }
        let spaces = self.skip_spaces();
        match self.byte(self.pos) {
            Some(b'\n') => self.next_line(),
            Some(b'#') if spaces > 0 => {
                self.comment()?;
            }
            // Indentation indicators, text after the header, or nothing after it.
            _ => return None,
        }
        // Leading empty lines, then the first content line sets the indentation.
        let mut max_indent = 0;
        let mut trailing_breaks = 0;
        let indent = loop {
            let spaces = self.skip_spaces();
            max_indent = max_indent.max(spaces);
            match self.byte(self.pos) {
                // No content: an empty scalar.
                None => return None,
                Some(b'\n') => {
                    trailing_breaks += 1;
                    self.next_line();
                }
                Some(_) => break spaces,
            }
        };
        if indent < max_indent.max(parent + 1) {
            return None;
        }
        let (start, line) = (self.pos, self.mark());
        let mut value = String::new();
        let mut leading_break = false;
        let mut leading_blank = false;
        let end = loop {
            // At the first character after the indentation of a content line.
            let trailing_blank = self.bytes[self.pos] == b' ';
            if !literal && leading_break && !leading_blank && !trailing_blank {
                push_breaks(&mut value, trailing_breaks);
                if trailing_breaks == 0 {
                    value.push(' ');
                }
            } else {
                if leading_break {
                    value.push('\n');
                }
                push_breaks(&mut value, trailing_breaks);
            }
            trailing_breaks = 0;
            leading_blank = trailing_blank;
            let line_end = self.line_end(self.pos);
            value.push_str(&self.text[self.pos..line_end]);
            self.pos = line_end;
            if line_end == self.bytes.len() {
                break line_end;
            }
            self.next_line();
            leading_break = true;
            // Indentation and empty lines.
            let column = loop {
                let from = self.pos;
                while self.pos - from < indent && self.byte(self.pos) == Some(b' ') {
                    self.pos += 1;
                }
                if self.byte(self.pos) == Some(b'\n') {
                    trailing_breaks += 1;
                    self.next_line();
                } else {
                    break self.pos - from;
                }
            };
            if column != indent || self.pos == self.bytes.len() {
                break self.pos;
            }
        };
        if chomping != Chomping::Strip {
            // A last content line without a line break still ends with one.
            value.push('\n');
        }
        if chomping == Chomping::Keep {
            push_breaks(&mut value, trailing_breaks);
        }
        let node = self.add(Kind::Text(Cow::Owned(value)), start, end, line)?;
        // Continue with the line where the scalar ended.
        if self.pos < self.bytes.len() {
            self.pos = self.line_start;
        }
        self.skip_to_content()?;
        Some(node)
    }

    /// A flow sequence or mapping on one line, at the cursor.
    fn flow_node(&mut self) -> Option<u32> {
        self.enter()?;
        let (start, line) = (self.pos, self.mark());
        let mapping = self.bytes[start] == b'{';
        let close = if mapping { b'}' } else { b']' };
        self.pos += 1;
        self.skip_spaces();
        let mark = self.scratch.len();
        if self.byte(self.pos) == Some(close) {
            self.pos += 1;
        } else {
            loop {
                if mapping {
                    let key = self.flow_key()?;
                    self.scratch.push(key);
                }
                let item = self.flow_item()?;
                self.scratch.push(item);
                self.skip_spaces();
                match self.byte(self.pos) {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_spaces();
                    }
                    Some(b) if b == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let count = self.scratch.len() - mark;
        let kind = if mapping {
            self.unique_keys(mark)?;
            let len = u32::try_from(count / 2).ok()?;
            Kind::Map {
                first: self.take_children(mark)?,
                len,
            }
        } else {
            let len = u32::try_from(count).ok()?;
            Kind::Seq {
                first: self.take_children(mark)?,
                len,
            }
        };
        self.depth -= 1;
        self.add(kind, start, start + 1, line)
    }

    /// A key of a flow mapping and its `: `.
    fn flow_key(&mut self) -> Option<u32> {
        let (start, line) = (self.pos, self.mark());
        let (kind, end) = match self.byte(start)? {
            b'\'' | b'"' => self.quoted(start)?,
            _ => {
                let end = self.plain_flow(start)?;
                let text = &self.text[start..end];
                if !plain_key(text) {
                    return None;
                }
                (Kind::Plain(text), end)
            }
        };
        self.pos = end;
        self.skip_spaces();
        if self.byte(self.pos) != Some(b':') || self.byte(self.pos + 1) != Some(b' ') {
            return None;
        }
        if self.pos - start > MAX_KEY_BYTES {
            return None;
        }
        self.pos += 1;
        self.skip_spaces();
        self.add(kind, start, end, line)
    }

    /// A value in a flow collection: a scalar or a nested flow collection.
    fn flow_item(&mut self) -> Option<u32> {
        let (start, line) = (self.pos, self.mark());
        match self.byte(start)? {
            b'[' | b'{' => self.flow_node(),
            b'\'' | b'"' => {
                let (kind, end) = self.quoted(start)?;
                self.pos = end;
                self.add(kind, start, end, line)
            }
            _ => {
                let end = self.plain_flow(start)?;
                // A `:` after a scalar in a flow sequence makes a one-pair mapping.
                let mut after = end;
                while self.byte(after) == Some(b' ') {
                    after += 1;
                }
                if self.byte(after) == Some(b':') {
                    return None;
                }
                self.pos = end;
                self.add(Kind::Plain(&self.text[start..end]), start, end, line)
            }
        }
    }

    /// The end of a plain scalar in flow context at `start`, trimmed. It ends before a flow
    /// indicator, a comment or a `:` that is followed by a space or flow indicator.
    fn plain_flow(&self, start: usize) -> Option<usize> {
        if !plain_first(self.bytes, start, true) {
            return None;
        }
        let mut i = start;
        loop {
            match self.byte(i) {
                None | Some(b'\n' | b',' | b'[' | b']' | b'{' | b'}') => break,
                Some(b'#') if self.bytes[i - 1] == b' ' => return None,
                Some(b':')
                    if matches!(
                        self.byte(i + 1),
                        None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                    ) =>
                {
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let mut end = i;
        while self.bytes[end - 1] == b' ' {
            end -= 1;
        }
        (end > start).then_some(end)
    }

    /// Declines a mapping (its keys pushed since `mark`) with two equal keys: serde-saphyr
    /// rejects them.
    fn unique_keys(&self, mark: usize) -> Option<()> {
        let key = |id: &u32| match view(self.text, &self.owned, self.nodes[*id as usize].kind) {
            View::Plain(text) | View::Borrowed(text) => text,
            View::Owned(text) => text,
            // Keys are scalars.
            _ => "",
        };
        let keys = &self.scratch[mark..];
        let count = keys.len() / 2;
        if count <= 8 {
            for (i, first) in keys.iter().step_by(2).enumerate() {
                let first = key(first);
                if keys[2 * i + 2..]
                    .iter()
                    .step_by(2)
                    .any(|other| key(other) == first)
                {
                    return None;
                }
            }
        } else {
            let mut seen = HashSet::with_capacity(count);
            if !keys.iter().step_by(2).all(|id| seen.insert(key(id))) {
                return None;
            }
        }
        Some(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomping {
    Strip,
    Clip,
    Keep,
}

fn push_breaks(value: &mut String, count: usize) {
    for _ in 0..count {
        value.push('\n');
    }
}

/// Whether a plain scalar may start at `at`: not with an indicator, except `-` before a
/// character that could continue it.
fn plain_first(bytes: &[u8], at: usize, flow: bool) -> bool {
    match bytes[at] {
        b'-' => match bytes.get(at + 1) {
            None | Some(b' ' | b'\n') => false,
            Some(b',' | b'[' | b']' | b'{' | b'}') => !flow,
            Some(_) => true,
        },
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' | b'\n' => false,
        _ => true,
    }
}

/// Whether a plain mapping key surely resolves to itself as a string: null-like keys are
/// rejected for string keys, integer-like keys compare by value in serde-saphyr's duplicate
/// check, and `<<` merges a mapping.
fn plain_key(text: &str) -> bool {
    if matches!(text, "~" | "null" | "Null" | "NULL" | "<<") {
        return false;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let radix = unsigned.len() > 1
        && unsigned.starts_with('0')
        && matches!(
            unsigned.as_bytes()[1],
            b'x' | b'X' | b'o' | b'O' | b'b' | b'B'
        );
    !(radix || unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// A single-quoted scalar on one line starting at `at`.
fn single_quoted(text: &str, at: usize) -> Option<(Kind<'_>, usize)> {
    let bytes = text.as_bytes();
    let mut i = at + 1;
    let mut escaped = false;
    loop {
        match bytes.get(i)? {
            b'\n' => return None,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                escaped = true;
                i += 2;
            }
            b'\'' => break,
            _ => i += 1,
        }
    }
    let inner = &text[at + 1..i];
    let value = if escaped {
        Cow::Owned(inner.replace("''", "'"))
    } else {
        Cow::Borrowed(inner)
    };
    Some((Kind::Text(value), i + 1))
}

/// A double-quoted scalar on one line starting at `at`, with the escapes whose result is a
/// printable character.
fn double_quoted(text: &str, at: usize) -> Option<(Kind<'_>, usize)> {
    let bytes = text.as_bytes();
    let mut i = at + 1;
    let mut owned: Option<String> = None;
    let mut run = i;
    loop {
        match bytes.get(i)? {
            b'\n' => return None,
            b'"' => break,
            b'\\' => {
                let out = owned.get_or_insert_with(String::new);
                out.push_str(&text[run..i]);
                let (c, len) = escape(bytes, i + 1)?;
                out.push(c);
                i += 1 + len;
                run = i;
            }
            _ => i += 1,
        }
    }
    let value = match owned {
        Some(mut out) => {
            out.push_str(&text[run..i]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(&text[at + 1..i]),
    };
    Some((Kind::Text(value), i + 1))
}

/// The character of the escape whose letter is at `at`, and the length of the escape after
/// the backslash.
fn escape(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let (c, len) = match bytes.get(at)? {
        b'\\' => ('\\', 1),
        b'"' => ('"', 1),
        b'/' => ('/', 1),
        b' ' => (' ', 1),
        b'n' => ('\n', 1),
        b't' => ('\t', 1),
        b'x' => (hex(bytes, at + 1, 2)?, 3),
        b'u' => (hex(bytes, at + 1, 4)?, 5),
        b'U' => (hex(bytes, at + 1, 8)?, 9),
        _ => return None,
    };
    Some((c, len))
}

/// A printable character from `digits` hex digits at `at`.
fn hex(bytes: &[u8], at: usize, digits: usize) -> Option<char> {
    let digits = bytes.get(at..at + digits)?;
    let mut code = 0u32;
    for d in digits {
        code = code * 16 + char::from(*d).to_digit(16)?;
    }
    let c = char::from_u32(code)?;
    let printable = matches!(code, 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd | 0x10000..)
        && !matches!(code, 0xfeff | 0x2028 | 0x2029);
    printable.then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keys_that_are_not_plain_strings_decline() {
        for (key, plain) in [
            ("service", true),
            ("a.b-c_d", true),
            ("1x", true),
            ("0x", false),
            ("yes", true),
            ("~", false),
            ("null", false),
            ("NULL", false),
            ("<<", false),
            ("1", false),
            ("-1", false),
            ("+1_000", false),
            ("0x1f", false),
            ("0o7", false),
            ("0B1", false),
        ] {
            assert_eq!(plain_key(key), plain, "{key}");
        }
    }

    #[test]
    fn plain_scalars_start_with_no_indicator() {
        for (text, block, flow) in [
            ("a", true, true),
            ("-1", true, true),
            ("-", false, false),
            ("- a", false, false),
            ("-[", true, false),
            ("?a", false, false),
            (":a", false, false),
            ("#a", false, false),
            ("&a", false, false),
            ("'a'", false, false),
            ("%a", false, false),
            ("@a", false, false),
        ] {
            assert_eq!(plain_first(text.as_bytes(), 0, false), block, "{text}");
            assert_eq!(plain_first(text.as_bytes(), 0, true), flow, "{text}");
        }
    }

    #[test]
    fn only_known_characters_take_the_fast_path() {
        for (text, plain) in [
            ("a: b\n", true),
            ("é§ü 😀", true),
            ("a:\tb", false),
            ("a\r\n", false),
            ("\u{feff}a", false),
            ("\u{85}", false),
            ("\u{2028}", false),
            ("\u{fffe}", false),
            ("\u{7f}", false),
        ] {
            assert_eq!(plain_characters(text.as_bytes()), plain, "{text:?}");
        }
        let long = format!("{}\u{2029}", "a".repeat(63));
        assert!(!plain_characters(long.as_bytes()));
    }

    #[test]
    fn quoted_scalars_decode_their_escapes() {
        let text = |kind: Option<(Kind<'_>, usize)>| match kind {
            Some((Kind::Text(text), _)) => Some(text.into_owned()),
            _ => None,
        };
        for (quoted, value) in [
            ("'a''b'", Some("a'b")),
            ("'a", None),
            ("'a\nb'", None),
            ("\"a\\tb\"", Some("a\tb")),
            ("\"\\x41\\u00e9\\U0001F600\\/\\ \"", Some("Aé😀/ ")),
            ("\"\\x01\"", None),
            ("\"\\N\"", None),
            ("\"\\ud800\"", None),
            ("\"a\\\nb\"", None),
        ] {
            let decoded = if quoted.starts_with('\'') {
                text(single_quoted(quoted, 0))
            } else {
                text(double_quoted(quoted, 0))
            };
            assert_eq!(decoded.as_deref(), value, "{quoted}");
        }
    }
}
