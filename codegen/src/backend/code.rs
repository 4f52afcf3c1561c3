//! Rust source text, written directly.
//!
//! The Rust backend writes the generated module as text instead of building a `TokenStream`
//! and printing it with syn and prettyplease: for a 2,000-event schema that round trip took
//! about 0.7 s of CPU (tokens 139 ms, syn and prettyplease 586 ms, timed one after another)
//! where the whole, threaded `metricsmith generate` took 0.65 s, and the output is regular enough that
//! writing it formatted costs little.
//! Safety comes from three rules kept here, not from a parser: every string literal is
//! written by [`lit`] (Rust's own escaping) or [`raw_lit`] (a raw literal its text cannot end),
//! every identifier comes from the `ident` module, and doc text goes through [`Code::doc`].
//! The codegen tests parse every generated module with syn (`tests/generated_syntax.rs`).
//!
//! Lines are broken where rustfmt breaks them: statements are built as [`Expr`] trees and laid
//! out by rustfmt's rules (the layout section below), and `tests/rustfmt.rs` checks that rustfmt
//! changes nothing in the output.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};

/// Indented lines of Rust source.
#[derive(Debug, Default)]
pub(crate) struct Code {
    out: String,
    depth: usize,
    /// Struct literal fields laid out so far (see [`Memo`]).
    memo: RefCell<Memo>,
}

impl Code {
    /// An empty writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            depth: 0,
            memo: RefCell::default(),
        }
    }

    /// The text written so far.
    pub(crate) fn finish(self) -> String {
        self.out
    }

    /// The number of bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    /// Forgets what was written after the first `len` bytes (a length [`len`](Self::len)
    /// returned at the same depth).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
    }

    /// One line, indented.
    pub(crate) fn line(&mut self, text: &str) {
        self.indent();
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Whole lines written as they are, for fixed text at module level (depth 0).
    pub(crate) fn raw(&mut self, lines: &str) {
        debug_assert_eq!(self.depth, 0, "raw text is not re-indented");
        self.out.push_str(lines);
    }

    /// One formatted line, indented.
    pub(crate) fn fmt(&mut self, args: fmt::Arguments<'_>) {
        self.indent();
        // Writing into a String cannot fail.
        let _ = self.out.write_fmt(args);
        self.out.push('\n');
    }

    /// A line that opens a block (`... {`): the lines after it are indented one more level.
    pub(crate) fn open(&mut self, args: fmt::Arguments<'_>) {
        self.fmt(args);
        self.depth += 1;
    }

    /// A line that closes a block (`}`), one level less indented.
    pub(crate) fn close(&mut self, text: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(text);
    }

    /// A line that closes one block and opens the next at the same level (`) -> T {`).
    pub(crate) fn reopen(&mut self, text: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(text);
        self.depth += 1;
    }

    /// A doc comment, one `///` line per line of `text` (trimmed as rustdoc shows it).
    ///
    /// A line holding a carriage return, which a `///` comment may not contain, becomes a
    /// `#[doc = "..."]` attribute.
    pub(crate) fn doc(&mut self, text: &str) {
        for line in text.trim().lines() {
            let line = line.trim_end();
            if line.contains('\r') {
                self.fmt(format_args!("#[doc = {}]", lit(&format!(" {line}"))));
            } else if line.is_empty() {
                self.line("///");
            } else {
                self.fmt(format_args!("/// {line}"));
            }
        }
    }
}

/// A Rust string literal of `text`: Rust's own `Debug` escaping, which writes a valid literal
/// for every string.
pub(crate) fn lit(text: &str) -> String {
    format!("{text:?}")
}

/// A raw string literal of `text`, which shows `text` as it is (JSON stays readable line by
/// line): `r#"..."#` with one `#` more than the longest run of `#` after a `"` in `text`, so
/// nothing in `text` can end it.
///
/// Text that a raw literal cannot hold (a carriage return, which rustc rejects there, or a
/// run needing more than the 255 `#` rustc allows) gets an escaped literal ([`lit`]) instead.
pub(crate) fn raw_lit(text: &str) -> String {
    let longest_run = text
        .split('"')
        .skip(1)
        .map(|after_quote| after_quote.bytes().take_while(|&b| b == b'#').count())
        .max();
    let hashes = longest_run.map_or(0, |run| run + 1);
    if hashes > 255 || text.contains('\r') {
        return lit(text);
    }
    let hashes = "#".repeat(hashes);
    format!("r{hashes}\"{text}\"{hashes}")
}

// ---- layout as rustfmt writes it -----------------------------------------------------------
//
// Generated code is written as rustfmt (1.9, default configuration) would format it, so that
// `rustfmt --check` passes on it as written. A statement is built as a small expression tree
// ([`Expr`]) and laid out by the rules rustfmt applies to the constructs the backends write
// (calls, macro calls, arrays, struct literals, one-method chains, `?`, `&`), with its width
// limits: `max_width` 100 and the default "width heuristics" (`fn_call_width` 60,
// `array_width` 60, `struct_lit_width` 18, `short_array_element_width_threshold` 10).
// The functions below follow rustfmt's own (`overflow.rs`, `chains.rs`, `expr.rs`,
// `matches.rs`, `items.rs`), simplified to these constructs and to the 2021 style edition
// (which rustfmt uses for `--edition 2021`). Where rustfmt cannot fit a statement at all (a
// string literal too long for any line), it keeps the statement as written; [`Code`] writes such
// a statement as the 2024 style edition formats it (see `Code::laid_out`).
// What is not modelled, because the backends never write it: comments inside expressions,
// closures, blocks, `if`/`match` as arguments, binary operators, attributes on expressions.

/// rustfmt's `max_width`.
const MAX_WIDTH: usize = 100;
/// rustfmt's `tab_spaces`.
const TAB: usize = 4;
/// rustfmt's `fn_call_width`: the most the arguments of a call take on one line.
const FN_CALL_WIDTH: usize = 60;
/// rustfmt's `array_width`.
const ARRAY_WIDTH: usize = 60;
/// rustfmt's `struct_lit_width`: the most the fields of a struct literal take on one line.
const STRUCT_LIT_WIDTH: usize = 18;
/// rustfmt's `short_array_element_width_threshold`: lists of simple items at most this wide
/// are packed several to a line when they do not fit on one.
const SHORT_ITEM_WIDTH: usize = 10;
/// Macros whose first arguments rustfmt keeps on the line of the macro name (its
/// `SPECIAL_CASE_MACROS`), with the number of those arguments.
const SPECIAL_MACROS: [(&str, usize); 4] = [
    ("format!", 0),
    ("assert!", 1),
    ("assert_eq!", 2),
    ("assert_ne!", 2),
];

/// The columns `text` takes, as rustfmt counts them (Unicode width).
fn width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        unicode_width::UnicodeWidthStr::width(text)
    }
}

fn first_line_width(text: &str) -> usize {
    width(text.split('\n').next().unwrap_or(""))
}

fn last_line_width(text: &str) -> usize {
    width(text.rsplit('\n').next().unwrap_or(""))
}

fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

fn push_indent(out: &mut String, columns: usize) {
    for _ in 0..columns {
        out.push(' ');
    }
}

/// Struct literal fields already laid out, by their name, value, shape and context: the
/// generated tests build the same example values for many events, and laying out a value
/// that does not fit on one line takes several tries.
/// Keyed by a hash, each entry compared in full, so a collision costs only a layout.
#[derive(Debug, Default)]
struct Memo {
    fields: HashMap<u64, Vec<(FieldKey, Option<String>)>>,
}

#[derive(Debug)]
struct FieldKey {
    name: String,
    value: Expr,
    shape: Shape,
    flags: (bool, bool, bool),
}

/// Where an expression is written: `indent` is the indentation of the block it belongs to
/// (where its broken lines are indented from), `col` the column it starts at and `width` the
/// columns it may take on its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    indent: usize,
    col: usize,
    width: usize,
}

impl Shape {
    /// A line of its own at `indent`.
    fn indented(indent: usize) -> Self {
        Self {
            indent,
            col: indent,
            width: MAX_WIDTH.saturating_sub(indent),
        }
    }

    fn offset_left(self, n: usize) -> Option<Self> {
        Some(Self {
            col: self.col + n,
            width: self.width.checked_sub(n)?,
            ..self
        })
    }

    fn sub_width(self, n: usize) -> Option<Self> {
        Some(Self {
            width: self.width.checked_sub(n)?,
            ..self
        })
    }

    /// What the caller keeps at the end of the line (a `;` or `,`).
    fn rhs_overhead(self) -> usize {
        MAX_WIDTH.saturating_sub(self.col + self.width)
    }

    /// The shape of the items of a list broken over lines (one level deeper, room for a `,`).
    fn nested(self) -> Self {
        let indent = self.indent + TAB;
        Self {
            indent,
            col: indent,
            width: MAX_WIDTH.saturating_sub(indent + 1),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Cx<'m> {
    /// Where field layouts are kept, to be written once per module.
    memo: Option<&'m RefCell<Memo>>,
    /// Inside the arguments of a macro: lists get no trailing comma of their own.
    in_macro: bool,
    /// A chain must stay on one line (rustfmt's `force_one_line_chain`).
    one_line_chain: bool,
    /// A string literal may run past the end of the line.
    long_literals: bool,
}

/// What kind of parenthesised list a [`Expr::Call`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CallKind {
    /// `path(args)`
    Fn,
    /// `path!(args)`: the callee ends with `!`.
    Macro,
    /// `(items)`: the callee is empty.
    Tuple,
}

/// An expression of generated code, laid out as rustfmt would by [`Code::assign`],
/// [`Code::stmt`] and [`Code::arm`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Expr {
    /// Text that is never broken: a literal, a path, `self.x`, `x.is_empty()`.
    /// `simple` is rustfmt's "simple expression" (a literal, a path of one segment, a field of
    /// one, `&` of one), which it packs several to a line.
    Atom { text: String, simple: bool },
    /// `&expr`.
    Ref(Box<Expr>),
    /// `expr?`.
    Try(Box<Expr>),
    /// A call, macro call or tuple.
    Call {
        callee: String,
        args: Vec<Expr>,
        kind: CallKind,
    },
    /// `[items]`, or `vec![items]` when `vec` is set.
    Array { items: Vec<Expr>, vec: bool },
    /// `path { name: value, .. }`; a field without a value is shorthand.
    Struct {
        path: String,
        fields: Vec<(String, Option<Expr>)>,
    },
    /// `receiver.method(args)`.
    Method {
        receiver: Box<Expr>,
        method: String,
        args: Vec<Expr>,
    },
    /// `<base<generics>>::method(args)`: a function of a type named with its generic arguments.
    Qualified {
        base: String,
        generics: Vec<String>,
        method: String,
        args: Vec<Expr>,
    },
}

impl Expr {
    /// A literal (already written by [`lit`] or as a number or `true`/`false`).
    pub(crate) fn lit(text: impl Into<String>) -> Self {
        Self::Atom {
            text: text.into(),
            simple: true,
        }
    }

    /// A path, `self.field` or any other text that is not broken.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        // rustfmt's simple expressions: paths of one segment and fields of them.
        let simple = !text.contains("::")
            && text
                .trim_start_matches('&')
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'#');
        Self::Atom { text, simple }
    }

    /// `callee(args)`.
    pub(crate) fn call(callee: impl Into<String>, args: Vec<Expr>) -> Self {
        let callee = callee.into();
        let kind = if callee.ends_with('!') {
            CallKind::Macro
        } else {
            CallKind::Fn
        };
        Self::Call { callee, args, kind }
    }

    /// `(items)`.
    pub(crate) fn tuple(items: Vec<Expr>) -> Self {
        Self::Call {
            callee: String::new(),
            args: items,
            kind: CallKind::Tuple,
        }
    }

    /// `[items]`.
    pub(crate) fn array(items: Vec<Expr>) -> Self {
        Self::Array { items, vec: false }
    }

    /// `vec![items]`.
    pub(crate) fn vec(items: Vec<Expr>) -> Self {
        Self::Array { items, vec: true }
    }

    /// `&self`.
    pub(crate) fn by_ref(self) -> Self {
        Self::Ref(Box::new(self))
    }

    /// `self?`.
    pub(crate) fn try_(self) -> Self {
        Self::Try(Box::new(self))
    }

    /// `path { fields }`.
    pub(crate) fn struct_lit(path: impl Into<String>, fields: Vec<(String, Option<Expr>)>) -> Self {
        Self::Struct {
            path: path.into(),
            fields,
        }
    }

    /// `<ty>::method(args)`, where `ty` is a path with generic arguments or without
    /// (`::metricsmith::types::Int<0, { i64::MAX }>`, `values::Kind`).
    pub(crate) fn qualified(ty: &str, method: impl Into<String>, args: Vec<Expr>) -> Self {
        let (base, generics) = match ty.split_once('<') {
            Some((base, rest)) if rest.ends_with('>') => (
                base.to_owned(),
                // The generated types' arguments hold no commas of their own.
                rest[..rest.len() - 1]
                    .split(", ")
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => (ty.to_owned(), Vec::new()),
        };
        Self::Qualified {
            base,
            generics,
            method: method.into(),
            args,
        }
    }

    /// `self.method(args)`.
    pub(crate) fn method(self, method: impl Into<String>, args: Vec<Expr>) -> Self {
        Self::Method {
            receiver: Box::new(self),
            method: method.into(),
            args,
        }
    }

    /// The expression on one line.
    pub(crate) fn flat(&self) -> String {
        let mut out = String::new();
        self.write_flat(&mut out);
        out
    }

    fn write_flat(&self, out: &mut String) {
        match self {
            Self::Atom { text, .. } => out.push_str(text),
            Self::Ref(inner) => {
                out.push('&');
                inner.write_flat(out);
            }
            Self::Try(inner) => {
                inner.write_flat(out);
                out.push('?');
            }
            Self::Call { callee, args, kind } => {
                out.push_str(callee);
                out.push('(');
                write_flat_list(out, args);
                if *kind == CallKind::Tuple && args.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Self::Array { items, vec } => {
                if *vec {
                    out.push_str("vec!");
                }
                out.push('[');
                write_flat_list(out, items);
                out.push(']');
            }
            Self::Struct { path, fields } => {
                out.push_str(path);
                out.push_str(" { ");
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    if let Some(value) = value {
                        out.push_str(": ");
                        value.write_flat(out);
                    }
                }
                out.push_str(" }");
            }
            Self::Method {
                receiver,
                method,
                args,
            } => {
                receiver.write_flat(out);
                out.push('.');
                out.push_str(method);
                out.push('(');
                write_flat_list(out, args);
                out.push(')');
            }
            Self::Qualified {
                base,
                generics,
                method,
                args,
            } => {
                out.push('<');
                out.push_str(base);
                if !generics.is_empty() {
                    out.push('<');
                    out.push_str(&generics.join(", "));
                    out.push('>');
                }
                out.push_str(">::");
                out.push_str(method);
                out.push('(');
                write_flat_list(out, args);
                out.push(')');
            }
        }
    }

    /// rustfmt's `is_simple_expr`.
    fn is_simple(&self) -> bool {
        match self {
            Self::Atom { simple, .. } => *simple,
            Self::Ref(inner) | Self::Try(inner) => inner.is_simple(),
            _ => false,
        }
    }

    /// rustfmt's `is_nested_call`.
    fn is_nested_call(&self) -> bool {
        match self {
            Self::Call { kind, .. } => *kind != CallKind::Tuple,
            Self::Qualified { .. } => true,
            Self::Ref(inner) | Self::Try(inner) => inner.is_nested_call(),
            _ => false,
        }
    }

    /// rustfmt's `can_be_overflowed_expr`: whether this, as the last of `args` arguments, may
    /// start on the line of the call and go on over the next lines.
    fn can_overflow(&self, args: usize) -> bool {
        match self {
            Self::Atom { .. } => false,
            Self::Ref(inner) | Self::Try(inner) => inner.can_overflow(args),
            Self::Call { .. }
            | Self::Array { .. }
            | Self::Struct { .. }
            | Self::Method { .. }
            | Self::Qualified { .. } => args == 1,
        }
    }

    /// rustfmt's `is_block_expr` for a chain's receiver written as `text`.
    fn ends_with_block(&self, text: &str) -> bool {
        match self {
            Self::Atom { .. } => false,
            Self::Ref(inner) | Self::Try(inner) => inner.ends_with_block(text),
            _ => text.contains('\n'),
        }
    }

    /// The width of the expression on one line.
    fn flat_width(&self) -> usize {
        match self {
            Self::Atom { text, .. } => width(text),
            Self::Ref(inner) | Self::Try(inner) => inner.flat_width() + 1,
            Self::Call { callee, args, kind } => {
                width(callee)
                    + 2
                    + list_width(args)
                    + usize::from(*kind == CallKind::Tuple && args.len() == 1)
            }
            Self::Array { items, vec } => 2 + list_width(items) + if *vec { 4 } else { 0 },
            Self::Struct { path, fields } => {
                width(path)
                    + 4
                    + fields
                        .iter()
                        .map(|(name, value)| {
                            width(name) + value.as_ref().map_or(0, |v| 2 + v.flat_width())
                        })
                        .sum::<usize>()
                    + 2 * fields.len().saturating_sub(1)
            }
            Self::Method {
                receiver,
                method,
                args,
            } => receiver.flat_width() + 1 + width(method) + 2 + list_width(args),
            Self::Qualified {
                base,
                generics,
                method,
                args,
            } => qualified_width(base, generics, method) + 2 + list_width(args),
        }
    }

    /// Whether [`rewrite`](Self::rewrite) in `shape` gives the expression on one line: a
    /// sufficient condition, checked without writing anything, that spares the common case
    /// the layouts rustfmt would try and reject.
    fn fits_flat(&self, shape: Shape) -> bool {
        match self {
            Self::Atom { text, .. } => width(text) <= shape.width,
            Self::Ref(inner) => shape.offset_left(1).is_some_and(|s| inner.fits_flat(s)),
            Self::Try(inner) => shape.sub_width(1).is_some_and(|s| inner.fits_flat(s)),
            Self::Call { callee, args, kind } => {
                !(*kind == CallKind::Tuple && args.len() == 1)
                    && width(callee) <= shape.width
                    && list_fits_flat(width(callee), args, FN_CALL_WIDTH, shape)
            }
            Self::Array { items, vec } => {
                list_fits_flat(if *vec { 4 } else { 0 }, items, ARRAY_WIDTH, shape)
            }
            Self::Struct { .. } => false,
            Self::Method {
                receiver,
                method,
                args,
            } => {
                let parent = receiver.flat_width();
                receiver.fits_flat(shape)
                    && MAX_WIDTH.saturating_sub(shape.indent + TAB) >= shape.rhs_overhead()
                    && shape
                        .offset_left(parent)
                        .is_some_and(|s| list_fits_flat(1 + width(method), args, FN_CALL_WIDTH, s))
            }
            Self::Qualified {
                base,
                generics,
                method,
                args,
            } => {
                let callee = qualified_width(base, generics, method);
                callee <= shape.width && list_fits_flat(callee, args, FN_CALL_WIDTH, shape)
            }
        }
    }

    fn rewrite(&self, cx: Cx<'_>, shape: Shape) -> Option<String> {
        if !matches!(self, Self::Atom { .. } | Self::Struct { .. }) && self.fits_flat(shape) {
            return Some(self.flat());
        }
        match self {
            Self::Atom { text, .. } => (width(text) <= shape.width
                || cx.long_literals && text.ends_with('"'))
            .then(|| text.clone()),
            Self::Ref(inner) => Some(format!("&{}", inner.rewrite(cx, shape.offset_left(1)?)?)),
            Self::Try(inner) => Some(format!("{}?", inner.rewrite(cx, shape.sub_width(1)?)?)),
            Self::Call { callee, args, kind } => {
                // The callee of a function call is a path, which rustfmt writes only where it
                // fits.
                if *kind == CallKind::Fn && width(callee) > shape.width {
                    return None;
                }
                let (item_cx, trailing) = match kind {
                    CallKind::Macro => (
                        Cx {
                            in_macro: true,
                            ..cx
                        },
                        Trailing::Never,
                    ),
                    CallKind::Tuple if cx.in_macro => (cx, Trailing::Never),
                    CallKind::Tuple if args.len() == 1 => (cx, Trailing::Always),
                    _ => (cx, Trailing::Vertical),
                };
                let special = match kind {
                    CallKind::Macro => SPECIAL_MACROS
                        .iter()
                        .find(|(name, _)| name == callee)
                        .map(|&(_, n)| n),
                    _ => None,
                };
                let list = List {
                    ident: callee,
                    open: "(",
                    close: ")",
                    items: args,
                    item_max_width: FN_CALL_WIDTH,
                    trailing,
                    special,
                    macro_args: *kind == CallKind::Macro,
                };
                list.rewrite(item_cx, shape)
            }
            Self::Array { items, vec } => {
                // rustfmt keeps the trailing comma of a macro's list as written (the generated
                // code writes one only after a `vec!` item on a line of its own, as the 2024
                // style edition does) and gives other lists one when they are vertical.
                let trailing = if cx.in_macro && !*vec {
                    Trailing::Never
                } else {
                    Trailing::Vertical
                };
                let item_cx = Cx {
                    in_macro: cx.in_macro || *vec,
                    ..cx
                };
                let list = List {
                    ident: if *vec { "vec!" } else { "" },
                    open: "[",
                    close: "]",
                    items,
                    item_max_width: ARRAY_WIDTH,
                    trailing,
                    special: None,
                    macro_args: *vec,
                };
                list.rewrite(item_cx, shape)
            }
            Self::Struct { path, fields } => rewrite_struct(cx, shape, path, fields),
            Self::Method {
                receiver,
                method,
                args,
            } => rewrite_chain(cx, shape, receiver, method, args),
            Self::Qualified {
                base,
                generics,
                method,
                args,
            } => {
                let callee = rewrite_qualified_path(shape, base, generics, method)?;
                let list = List {
                    ident: &callee,
                    open: "(",
                    close: ")",
                    items: args,
                    item_max_width: FN_CALL_WIDTH,
                    trailing: Trailing::Vertical,
                    special: None,
                    macro_args: false,
                };
                list.rewrite(cx, shape)
            }
        }
    }
}

/// rustfmt's `rewrite_path` of `<base<generics>>::method`: the type is written in the shape of
/// the whole expression, and when it does not fit there its generic arguments go one per line.
fn rewrite_qualified_path(
    shape: Shape,
    base: &str,
    generics: &[String],
    method: &str,
) -> Option<String> {
    let args_width: usize =
        generics.iter().map(|g| width(g)).sum::<usize>() + 2 * generics.len().saturating_sub(1);
    let ty_width = width(base)
        + if generics.is_empty() {
            0
        } else {
            args_width + 2
        };
    let mut out = String::with_capacity(base.len() + args_width + method.len() + 32);
    out.push('<');
    out.push_str(base);
    if ty_width <= shape.width {
        if !generics.is_empty() {
            out.push('<');
            out.push_str(&generics.join(", "));
            out.push('>');
        }
        out.push_str(">::");
        out.push_str(method);
        return (width(&out) <= shape.width).then_some(out);
    }
    // The path before the generic arguments must fit.
    let last_segment = base.rsplit("::").next().unwrap_or(base);
    if generics.is_empty() || width(base) - width(last_segment) > shape.width {
        return None;
    }
    out.push('<');
    for arg in generics {
        out.push('\n');
        push_indent(&mut out, shape.indent + TAB);
        out.push_str(arg);
        out.push(',');
    }
    out.push('\n');
    push_indent(&mut out, shape.indent);
    out.push_str(">>::");
    out.push_str(method);
    Some(out)
}

fn list_width(items: &[Expr]) -> usize {
    items.iter().map(Expr::flat_width).sum::<usize>() + 2 * items.len().saturating_sub(1)
}

/// The width of `<base<generics>>::method` on one line.
fn qualified_width(base: &str, generics: &[String], method: &str) -> usize {
    let generics = if generics.is_empty() {
        0
    } else {
        2 + generics.iter().map(|g| width(g)).sum::<usize>() + 2 * (generics.len() - 1)
    };
    1 + width(base) + generics + 3 + width(method)
}

/// Whether [`List::rewrite`] writes `ident(items)` on one line: the items fit within the
/// list's limit and the line, each is on one line where rustfmt first writes it, and so is the
/// last one where it would try to overflow it.
fn list_fits_flat(ident_width: usize, items: &[Expr], item_max_width: usize, shape: Shape) -> bool {
    let Some(last) = items.last() else {
        return true;
    };
    let Some(one_line_width) = shape.width.checked_sub(ident_width + 2) else {
        return false;
    };
    let total = list_width(items);
    if total > item_max_width.min(one_line_width) {
        return false;
    }
    let nested = shape.nested();
    if !items.iter().all(|item| item.fits_flat(nested)) {
        return false;
    }
    let count = items.len();
    if !(count == 1 && ident_width < TAB || last.can_overflow(count)) {
        return true;
    }
    let one_line_shape = Shape {
        col: shape.col + ident_width + 1,
        width: one_line_width,
        ..shape
    };
    let last_shape = if count == 1 && !last.is_nested_call() {
        Some(one_line_shape)
    } else {
        Shape {
            width: item_max_width.min(one_line_width),
            ..one_line_shape
        }
        .offset_left(total - last.flat_width())
    };
    last_shape.is_some_and(|s| last.fits_flat(s))
}

fn write_flat_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_flat(out);
    }
}

/// When a list ends with a separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trailing {
    Always,
    Never,
    /// When the list is broken over lines.
    Vertical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tactic {
    Horizontal,
    Vertical,
    Mixed,
}

/// rustfmt's `definitive_tactic` for comma-separated items: one line when they fit in `limit`
/// and none is broken.
fn horizontal(items: &[Option<String>], limit: usize) -> bool {
    let mut total = 0;
    for item in items {
        let text = item.as_deref().unwrap_or("");
        if text.contains('\n') {
            return false;
        }
        total += width(text);
    }
    total + 2 * items.len().saturating_sub(1) <= limit
}

/// A parenthesised or bracketed list after `ident`: rustfmt's `overflow::Context`.
struct List<'a> {
    ident: &'a str,
    open: &'static str,
    close: &'static str,
    items: &'a [Expr],
    item_max_width: usize,
    trailing: Trailing,
    special: Option<usize>,
    /// The items are a macro's arguments (rustfmt's `MacroArg`s rather than expressions).
    macro_args: bool,
}

impl List<'_> {
    fn rewrite(&self, cx: Cx<'_>, shape: Shape) -> Option<String> {
        // A callee broken over lines counts with its last line (rustfmt's `extra_offset`).
        let ident_width = last_line_width(self.ident);
        let used = if self.ident.contains('\n') {
            ident_width.saturating_sub(shape.col)
        } else {
            ident_width
        };
        if self.items.is_empty() {
            return Some(format!("{}{}{}", self.ident, self.open, self.close));
        }
        let one_line_width = shape.width.saturating_sub(used + 2);
        let one_line_shape = shape
            .offset_left(ident_width + 1)
            .and_then(|s| s.sub_width(1))
            .unwrap_or(Shape { width: 0, ..shape });
        let nested = shape.nested();
        if !self.ident.contains('\n')
            && self.trailing != Trailing::Always
            && list_fits_flat(ident_width, self.items, self.item_max_width, shape)
        {
            let mut out = String::with_capacity(self.ident.len() + 64);
            out.push_str(self.ident);
            out.push_str(self.open);
            write_flat_list(&mut out, self.items);
            out.push_str(self.close);
            return Some(out);
        }
        // The last item is written by `try_overflow_last_item`, where rustfmt writes it.
        let mut items: Vec<Option<String>> = self.items[..self.items.len() - 1]
            .iter()
            .map(|item| item.rewrite(cx, nested))
            .collect();
        items.push(None);
        let tactic =
            self.try_overflow_last_item(cx, &mut items, one_line_shape, one_line_width, nested);
        let items: Vec<String> = items.into_iter().collect::<Option<_>>()?;
        let trailing = match self.trailing {
            Trailing::Vertical if tactic == Tactic::Mixed => true,
            Trailing::Vertical => tactic == Tactic::Vertical,
            Trailing::Always => true,
            Trailing::Never => false,
        };
        let mut out = String::with_capacity(self.ident.len() + 64);
        out.push_str(self.ident);
        out.push_str(self.open);
        match tactic {
            Tactic::Horizontal => {
                let joined = items.join(", ");
                let extend_width = first_line_width(&joined) + 1;
                if extend_width <= shape.width.saturating_sub(ident_width) {
                    out.push_str(&joined);
                    if trailing {
                        out.push(',');
                    }
                } else {
                    out.push('\n');
                    push_indent(&mut out, nested.indent);
                    out.push_str(&joined);
                    out.push('\n');
                    push_indent(&mut out, shape.indent);
                }
            }
            Tactic::Vertical => {
                for (i, item) in items.iter().enumerate() {
                    out.push('\n');
                    push_indent(&mut out, nested.indent);
                    out.push_str(item);
                    if i + 1 < items.len() || trailing {
                        out.push(',');
                    }
                }
                out.push('\n');
                push_indent(&mut out, shape.indent);
            }
            Tactic::Mixed => {
                out.push('\n');
                push_indent(&mut out, nested.indent);
                let mut line = 0;
                for (i, item) in items.iter().enumerate() {
                    let separate = i + 1 < items.len() || trailing;
                    let total = width(item) + usize::from(separate);
                    if line > 0 && line + 1 + total > nested.width {
                        out.push('\n');
                        push_indent(&mut out, nested.indent);
                        line = 0;
                    } else if line > 0 {
                        out.push(' ');
                        line += 1;
                    }
                    line += total;
                    out.push_str(item);
                    if separate {
                        out.push(',');
                    }
                }
                out.push('\n');
                push_indent(&mut out, shape.indent);
            }
        }
        out.push_str(self.close);
        Some(out)
    }

    /// rustfmt's `try_overflow_last_item`: the last item may start on the first line and go on
    /// over the next ones, when the items before it fit on that line.
    fn try_overflow_last_item(
        &self,
        cx: Cx<'_>,
        items: &mut [Option<String>],
        one_line_shape: Shape,
        one_line_width: usize,
        nested: Shape,
    ) -> Tactic {
        let count = self.items.len();
        let last = &self.items[count - 1];
        let combine_with_callee = count == 1 && width(self.ident) < TAB;
        let overflow = combine_with_callee || last.can_overflow(count);
        let placeholder = if overflow {
            // A method call as the last argument of a function stays on one line there (for a
            // macro's arguments only in the 2024 style edition).
            let last_cx = match last {
                Expr::Method { .. } if !combine_with_callee && !self.macro_args => Cx {
                    one_line_chain: true,
                    ..cx
                },
                _ => cx,
            };
            let last_shape = if count == 1 && !last.is_nested_call() {
                Some(one_line_shape)
            } else {
                let before: usize = items[..count - 1]
                    .iter()
                    .map(|item| 2 + item.as_deref().map_or(0, width))
                    .sum();
                Shape {
                    width: self.item_max_width.min(one_line_shape.width),
                    ..one_line_shape
                }
                .offset_left(before)
            };
            let rewrite = last_shape.and_then(|s| last.rewrite(last_cx, s));
            if let Some(text) = &rewrite {
                items[count - 1] = Some(text.split('\n').next().unwrap_or("").to_owned());
            }
            rewrite
        } else {
            None
        };
        // Without a placeholder the last item is as rustfmt first wrote it, in the nested
        // shape, and stays so below.
        let nested_last = placeholder.is_none();
        if nested_last {
            items[count - 1] = last.rewrite(cx, nested);
        }
        let limit = self.item_max_width.min(one_line_width);
        let mut tactic = if horizontal(items, limit) {
            Tactic::Horizontal
        } else {
            Tactic::Vertical
        };
        match (overflow, tactic, placeholder) {
            (true, Tactic::Horizontal, Some(overflowed)) if count == 1 => {
                if newlines(&overflowed) == 1 {
                    let rewrite = last.rewrite(cx, nested);
                    items[0] = match rewrite {
                        Some(text) if !text.contains('\n') => Some(text),
                        _ => Some(overflowed),
                    };
                } else {
                    items[0] = Some(overflowed);
                }
            }
            (true, Tactic::Horizontal, Some(overflowed)) => items[count - 1] = Some(overflowed),
            _ => {
                if !nested_last {
                    items[count - 1] = last.rewrite(cx, nested);
                }
                let single = count == 1
                    && one_line_width != 0
                    && items[0]
                        .as_deref()
                        .is_some_and(|t| !t.contains('\n') && width(t) <= one_line_width);
                if single {
                    tactic = Tactic::Horizontal;
                } else {
                    tactic = if horizontal(items, limit) {
                        Tactic::Horizontal
                    } else {
                        Tactic::Vertical
                    };
                    if tactic == Tactic::Vertical {
                        if self.special.is_some() {
                            // Only simple leading arguments stay on the first line; the
                            // generated code has none.
                        } else if self.items.iter().all(Expr::is_simple)
                            && items
                                .iter()
                                .all(|t| t.as_deref().map_or(0, str::len) <= SHORT_ITEM_WIDTH)
                        {
                            tactic = Tactic::Mixed;
                        }
                    }
                }
            }
        }
        tactic
    }
}

/// rustfmt's `rewrite_struct_lit` (no base, no attributes).
fn rewrite_struct(
    cx: Cx<'_>,
    shape: Shape,
    path: &str,
    fields: &[(String, Option<Expr>)],
) -> Option<String> {
    let path_width = width(path);
    if path_width > shape.width.checked_sub(2)? {
        return None;
    }
    if fields.is_empty() {
        return Some(format!("{path} {{}}"));
    }
    let v_shape = Shape::indented(shape.indent + TAB);
    let h_width = shape
        .width
        .checked_sub(path_width + 3 + 2)
        .map(|w| w.min(STRUCT_LIT_WIDTH));
    let field_shape = v_shape.sub_width(1)?;
    let items: Vec<String> = fields
        .iter()
        .map(|(name, value)| rewrite_field(cx, field_shape, name, value.as_ref()))
        .collect::<Option<_>>()?;
    let one_line = h_width.is_some_and(|w| {
        !items.iter().any(|item| item.contains('\n'))
            && items.iter().map(|item| width(item)).sum::<usize>() + 2 * (items.len() - 1) <= w
    });
    let mut out = String::with_capacity(path.len() + 64);
    out.push_str(path);
    if one_line {
        let joined = items.join(", ");
        if joined.len() <= h_width.unwrap_or(0) {
            out.push_str(" { ");
            out.push_str(&joined);
            out.push_str(" }");
            return Some(out);
        }
    }
    out.push_str(" {");
    for (i, item) in items.iter().enumerate() {
        out.push('\n');
        push_indent(&mut out, v_shape.indent);
        out.push_str(item);
        if i + 1 < items.len() || !cx.in_macro {
            out.push(',');
        }
    }
    out.push('\n');
    push_indent(&mut out, shape.indent);
    out.push('}');
    Some(out)
}

/// rustfmt's `rewrite_field`: `name: value`, or `name:` and the value on the next line.
fn rewrite_field(cx: Cx<'_>, shape: Shape, name: &str, value: Option<&Expr>) -> Option<String> {
    let Some(value) = value else {
        return Some(name.to_owned());
    };
    let Some(memo) = cx.memo else {
        return rewrite_field_value(cx, shape, name, value);
    };
    let flags = (cx.in_macro, cx.one_line_chain, cx.long_literals);
    let mut hasher = std::hash::DefaultHasher::new();
    (name, value, shape, flags).hash(&mut hasher);
    let hash = hasher.finish();
    let same =
        |k: &FieldKey| k.name == name && k.value == *value && k.shape == shape && k.flags == flags;
    let found = memo.borrow().fields.get(&hash).and_then(|entries| {
        entries
            .iter()
            .find(|(k, _)| same(k))
            .map(|(_, v)| v.clone())
    });
    if let Some(found) = found {
        return found;
    }
    let text = rewrite_field_value(cx, shape, name, value);
    memo.borrow_mut().fields.entry(hash).or_default().push((
        FieldKey {
            name: name.to_owned(),
            value: value.clone(),
            shape,
            flags,
        },
        text.clone(),
    ));
    text
}

fn rewrite_field_value(cx: Cx<'_>, shape: Shape, name: &str, value: &Expr) -> Option<String> {
    let value_shape = shape.offset_left(width(name) + 2)?;
    match value.rewrite(cx, value_shape) {
        Some(text) => Some(format!("{name}: {text}")),
        None => {
            let indent = shape.indent + TAB;
            let text = value.rewrite(cx, Shape::indented(indent))?;
            let mut out = format!("{name}:\n");
            push_indent(&mut out, indent);
            out.push_str(&text);
            Some(out)
        }
    }
}

/// rustfmt's `last_line_extendable`: the last line holds only closing delimiters.
fn last_line_extendable(text: &str) -> bool {
    if text.ends_with("\"#") {
        return true;
    }
    for c in text.chars().rev() {
        match c {
            '(' | ')' | ']' | '}' | '?' | '>' => continue,
            '\n' => break,
            c if c.is_whitespace() => continue,
            _ => return false,
        }
    }
    true
}

/// rustfmt's chain formatting for a receiver and one method call (block indent style).
fn rewrite_chain(
    cx: Cx<'_>,
    shape: Shape,
    receiver: &Expr,
    method: &str,
    args: &[Expr],
) -> Option<String> {
    let parent = receiver.rewrite(cx, shape)?;
    let child_indent = if receiver.ends_with_block(&parent) {
        shape.indent
    } else {
        shape.indent + TAB
    };
    let child_shape = Shape::indented(child_indent);
    let callee = format!(".{method}");
    let child = List {
        ident: &callee,
        open: "(",
        close: ")",
        items: args,
        item_max_width: FN_CALL_WIDTH,
        trailing: Trailing::Vertical,
        special: None,
        macro_args: false,
    };
    let extendable = last_line_extendable(&parent);
    let almost_total = if extendable {
        last_line_width(&parent)
    } else {
        width(&parent)
    };
    let one_line_budget = shape.width.saturating_sub(almost_total);
    let all_in_one_line = !parent.contains('\n') && one_line_budget > 0;
    let last_shape = if all_in_one_line {
        Some(shape)
    } else if extendable {
        Some(child_shape)
    } else {
        child_shape.sub_width(shape.rhs_overhead())
    };
    let mut last = None;
    let mut fits_single_line = false;
    let overflowed = (all_in_one_line || extendable)
        .then(|| last_shape?.offset_left(almost_total))
        .flatten()
        .and_then(|one_line_shape| child.rewrite(cx, one_line_shape));
    if let Some(rw) = overflowed {
        let line_count = newlines(&rw) + 1;
        let could_fit = first_line_width(&rw) <= one_line_budget;
        if could_fit && line_count >= 5 {
            last = Some(rw);
            fits_single_line = all_in_one_line;
        } else {
            let own_line = child_shape.sub_width(shape.rhs_overhead())?;
            match child.rewrite(cx, own_line) {
                Some(new) if !could_fit => last = Some(new),
                Some(new) if newlines(&new) + 1 >= line_count => {
                    last = Some(rw);
                    fits_single_line = could_fit && all_in_one_line;
                }
                Some(new) => last = Some(new),
                None => {
                    last = Some(rw);
                    fits_single_line = could_fit && all_in_one_line;
                }
            }
        }
    }
    let last = match last {
        Some(last) => last,
        None => child.rewrite(cx, last_shape?)?,
    };
    let mut out = parent;
    if !fits_single_line {
        if cx.one_line_chain {
            return None;
        }
        out.push('\n');
        push_indent(&mut out, child_indent);
    }
    out.push_str(&last);
    Some(out)
}

/// rustfmt's `prefer_next_line` for a right-hand side.
fn prefer_next_line(same_line: &str, next_line: &str) -> bool {
    let ends = |text: &str, c: char| text.split('\n').next().unwrap_or("").ends_with(c);
    !next_line.contains('\n')
        || newlines(same_line) > newlines(next_line) + 1
        || ends(same_line, '(') && !ends(next_line, '(')
        || ends(same_line, '{') && !ends(next_line, '{')
        || ends(same_line, '[') && !ends(next_line, '[')
}

/// rustfmt's `filtered_str_fits`.
fn fits(text: &str, shape: Shape) -> bool {
    if first_line_width(text) > shape.width {
        return false;
    }
    if !text.contains('\n') {
        return true;
    }
    if text.split('\n').skip(1).any(|line| width(line) > MAX_WIDTH) {
        return false;
    }
    last_line_width(text) <= shape.col + shape.width
}

/// rustfmt's `rewrite_assign_rhs`: `lhs` (which ends with `=` or `:`) and `rhs`, on one line,
/// or with `rhs` on the next line indented when that looks better.
fn rewrite_assign(cx: Cx<'_>, shape: Shape, lhs: &str, rhs: &Expr) -> Option<String> {
    let lhs_width = last_line_width(lhs);
    let same_shape = shape.offset_left(lhs_width + 1).unwrap_or(Shape {
        width: 0,
        col: shape.col + lhs_width + 1,
        ..shape
    });
    let same = rhs.rewrite(cx, same_shape);
    if let Some(text) = &same
        && !text.contains('\n')
        && width(text) <= same_shape.width
    {
        return Some(format!("{lhs} {text}"));
    }
    // A struct literal broken over lines starts with `Path {` on either line, and a narrower
    // shape does not take fewer lines: rustfmt keeps it on the line of `lhs` (what
    // `prefer_next_line` decides), so the next-line layout is not worth writing.
    if let (Expr::Struct { .. }, Some(text)) = (rhs, &same)
        && text.contains('\n')
        && rhs.flat_width() > MAX_WIDTH.saturating_sub(shape.indent + TAB + 1)
    {
        return Some(format!("{lhs} {text}"));
    }
    let next_indent = shape.indent + TAB;
    let next_shape = Shape::indented(next_indent).sub_width(same_shape.rhs_overhead())?;
    let next = rhs.rewrite(cx, next_shape);
    let on_next_line = |text: &str| {
        let mut out = String::with_capacity(lhs.len() + text.len() + next_indent + 1);
        out.push_str(lhs);
        out.push('\n');
        push_indent(&mut out, next_indent);
        out.push_str(text);
        out
    };
    match (same, next) {
        (Some(same), Some(next)) if !fits(&next, next_shape) => Some(format!("{lhs} {same}")),
        (Some(same), Some(next)) if prefer_next_line(&same, &next) => Some(on_next_line(&next)),
        (None, Some(next)) => Some(on_next_line(&next)),
        (None, None) => None,
        (Some(same), _) => Some(format!("{lhs} {same}")),
    }
}

/// rustfmt's `rewrite_match_body` for `pat => body` at `indent`: the body on the line of the
/// pattern, or in a block of its own when it does not fit there.
fn rewrite_arm(cx: Cx<'_>, indent: usize, pat: &str, body: &Expr) -> Option<String> {
    let same_shape = Shape::indented(indent)
        .offset_left(width(pat) + 4)
        .and_then(|s| s.sub_width(1));
    let same = same_shape.and_then(|s| body.rewrite(cx, s));
    if let (Some(text), Some(s)) = (&same, same_shape)
        && !text.contains('\n')
        && width(text) <= s.width
    {
        return Some(format!("{pat} => {text},"));
    }
    let budget = same_shape.map_or(0, |s| s.width);
    let next_indent = indent + TAB;
    let next = body.rewrite(cx, Shape::indented(next_indent));
    let extend = body.can_overflow(1);
    let block = |text: &str| {
        let mut out = format!("{pat} => {{\n");
        push_indent(&mut out, next_indent);
        out.push_str(text);
        out.push('\n');
        push_indent(&mut out, indent);
        out.push('}');
        out
    };
    match (same, next) {
        (Some(same), Some(next)) if prefer_next_line(&same, &next) => Some(block(&next)),
        (Some(same), _) if extend && first_line_width(&same) <= budget => {
            Some(format!("{pat} => {same},"))
        }
        (Some(same), Some(next)) if same.contains('\n') => Some(block(&next)),
        (None, Some(next)) => Some(block(&next)),
        (Some(same), _) => Some(format!("{pat} => {same},")),
        (None, None) => None,
    }
}

impl Code {
    /// The column the next line starts at.
    fn column(&self) -> usize {
        self.depth * TAB
    }

    /// `lhs = rhs;` (a `let`, `const`, `static` or `type` item), laid out as rustfmt would.
    pub(crate) fn assign(&mut self, lhs: &str, rhs: &Expr) {
        self.rhs(lhs, " =", rhs, ";");
    }

    /// A struct field `lhs: ty,` (`lhs` is `pub name`), laid out as rustfmt would.
    pub(crate) fn field(&mut self, lhs: &str, ty: &str) {
        // `lhs: ty,` on one line.
        if self.column() + width(lhs) + width(": ") + width(ty) + width(",") <= MAX_WIDTH {
            self.indent();
            for text in [lhs, ": ", ty, ",\n"] {
                self.out.push_str(text);
            }
        } else {
            self.rhs(lhs, ":", &Expr::text(ty), ",");
        }
    }

    /// `lhs`, `sep` (`=` or `:`), `rhs` and `end`.
    fn rhs(&mut self, lhs: &str, sep: &str, rhs: &Expr, end: &str) {
        let col = self.column();
        let shape = Shape::indented(col).sub_width(end.len());
        // The common case, written without building the layouts rustfmt would reject.
        let head_width = width(lhs) + sep.len() + 1;
        if let Some(same) = shape.and_then(|s| s.offset_left(head_width))
            && rhs.fits_flat(same)
        {
            self.indent();
            self.out.push_str(lhs);
            self.out.push_str(sep);
            self.out.push(' ');
            rhs.write_flat(&mut self.out);
        } else {
            let head = format!("{lhs}{sep}");
            self.laid_out(
                |cx| rewrite_assign(cx, shape?, &head, rhs),
                || format!("{head} {}", rhs.flat()),
            );
        }
        self.out.push_str(end);
        self.out.push('\n');
    }

    /// An expression statement followed by `end` (`;`, or nothing for a block's value).
    pub(crate) fn stmt(&mut self, expr: &Expr, end: &str) {
        let shape = Shape::indented(self.column()).sub_width(end.len());
        if shape.is_some_and(|s| expr.fits_flat(s)) {
            self.indent();
            expr.write_flat(&mut self.out);
        } else {
            self.laid_out(|cx| expr.rewrite(cx, shape?), || expr.flat());
        }
        self.out.push_str(end);
        self.out.push('\n');
    }

    /// A match arm `pat => body,`, laid out as rustfmt's `rewrite_match_body` would: the body
    /// on the line of the pattern, or in a block of its own when it does not fit there.
    pub(crate) fn arm(&mut self, pat: &str, body: &Expr) {
        let indent = self.column();
        self.laid_out(
            |cx| rewrite_arm(cx, indent, pat, body),
            || format!("{pat} => {},", body.flat()),
        );
        self.out.push('\n');
    }

    /// Writes, indented, what `layout` makes of a statement.
    ///
    /// rustfmt keeps a statement that it cannot fit within its widths as it is written (with
    /// the 2021 style edition; the 2024 one lets a string literal run past the line's end): such
    /// a statement is laid out with long literals allowed, as the 2024 style would, and when
    /// even that fails, on one line.
    fn laid_out(
        &mut self,
        layout: impl Fn(Cx<'_>) -> Option<String>,
        flat: impl FnOnce() -> String,
    ) {
        let cx = Cx {
            memo: Some(&self.memo),
            ..Cx::default()
        };
        let text = layout(cx)
            .or_else(|| {
                layout(Cx {
                    long_literals: true,
                    ..cx
                })
            })
            .unwrap_or_else(flat);
        self.indent();
        self.out.push_str(&text);
    }

    /// The signature of a function and the `{` of its body: `head(params) -> ret {` on one
    /// line when it fits, else one parameter per line (rustfmt's `fn_params_layout = "Tall"`).
    pub(crate) fn fn_open(&mut self, head: &str, params: &[String], ret: &str) {
        let one_line: usize = width(head)
            + 1
            + params.iter().map(|p| width(p)).sum::<usize>()
            + 2 * params.len().saturating_sub(1)
            + 5
            + width(ret)
            + 2;
        if self.column() + one_line <= MAX_WIDTH {
            self.open(format_args!("{head}({}) -> {ret} {{", params.join(", ")));
        } else {
            self.open(format_args!("{head}("));
            for param in params {
                self.fmt(format_args!("{param},"));
            }
            self.reopen(&format!(") -> {ret} {{"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_escape_quotes_backslashes_and_controls() {
        assert_eq!(lit("a\"b\\c\nd\r\u{7}"), r#""a\"b\\c\nd\r\u{7}""#);
    }

    #[test]
    fn doc_lines_with_carriage_returns_become_attributes() {
        let mut code = Code::default();
        code.doc("first\n\nthird\ra");
        assert_eq!(code.finish(), "/// first\n///\n#[doc = \" third\\ra\"]\n");
    }

    #[test]
    fn raw_literals_cannot_be_ended_by_their_text() {
        let cases = [
            ("", r#"r"""#),
            ("no quotes", r#"r"no quotes""#),
            ("{\n  \"a\": \"b\"\n}", "r#\"{\n  \"a\": \"b\"\n}\"#"),
            ("\"#", r####"r##""#"##"####),
            ("a\"##b\"#", r#####"r###"a"##b"#"###"#####),
            (r"\ stays", r#"r"\ stays""#),
            // A carriage return cannot be in a raw literal: it is escaped instead.
            ("a\rb", r#""a\rb""#),
        ];
        for (text, expected) in cases {
            assert_eq!(raw_lit(text), expected, "{text:?}");
        }
    }

    #[test]
    fn raw_literals_fall_back_to_escapes_past_255_hashes() {
        let most = format!("\"{}", "#".repeat(254));
        let hashes = "#".repeat(255);
        assert_eq!(raw_lit(&most), format!("r{hashes}\"{most}\"{hashes}"));
        let too_many = format!("\"{}", "#".repeat(255));
        assert_eq!(raw_lit(&too_many), lit(&too_many));
    }

    /// `f` writing statements in the body of `fn f()`, as text.
    fn in_fn(f: impl FnOnce(&mut Code)) -> String {
        let mut code = Code::default();
        code.open(format_args!("fn f() {{"));
        f(&mut code);
        code.close("}");
        code.finish()
    }

    fn lits(texts: &[&str]) -> Vec<Expr> {
        texts.iter().map(|t| Expr::lit(lit(t))).collect()
    }

    fn expect_valid(new: Expr) -> Expr {
        new.method("expect", vec![Expr::lit(lit("a valid example"))])
    }

    /// Each layout rule of rustfmt the backends rely on, with the text rustfmt writes (each
    /// expected text is rustfmt's output for itself; `tests/rustfmt.rs` checks whole modules).
    fn layout_cases() -> Vec<(&'static str, String)> {
        vec![
            (
                "arguments within fn_call_width stay on one line",
                in_fn(|c| {
                    c.stmt(
                        &Expr::call(
                            "put",
                            vec![
                                Expr::text("data"),
                                Expr::lit(lit("name")),
                                Expr::text("&self.name"),
                            ],
                        ),
                        ";",
                    )
                }),
            ),
            (
                "arguments wider than fn_call_width go one per line, with a trailing comma",
                in_fn(|c| {
                    c.stmt(
                        &Expr::call(
                            "::metricsmith::types::put",
                            vec![
                                Expr::text("data"),
                                Expr::lit(lit("a_rather_long_property_name")),
                                Expr::text("&self.a_rather_long_property_name"),
                            ],
                        ),
                        ";",
                    )
                }),
            ),
            (
                "a macro's arguments broken over lines get no trailing comma",
                in_fn(|c| {
                    c.stmt(
                        &Expr::call(
                            "assert!",
                            vec![
                                Expr::text("types.is_empty()"),
                                Expr::lit(lit("expected no amplitude event, got {types:?}")),
                            ],
                        ),
                        ";",
                    )
                }),
            ),
            (
                "a single argument wider than fn_call_width stays on the line when it fits",
                in_fn(|c| {
                    c.stmt(
                        &Expr::call(
                            "::core::option::Option::Some",
                            lits(&["a string literal of sixty-odd characters, past fn_call_width"]),
                        ),
                        ";",
                    )
                }),
            ),
            (
                "a nested call as the only argument overflows: its own arguments break",
                in_fn(|c| {
                    let format = Expr::call(
                        "::std::format!",
                        vec![
                            Expr::lit(lit("password.forgot.{}.{}")),
                            Expr::text("self.step"),
                            Expr::text("self.state"),
                        ],
                    );
                    c.stmt(&Expr::call("::std::borrow::Cow::Owned", vec![format]), "")
                }),
            ),
            (
                "struct literals: one line within struct_lit_width, else one field per line",
                in_fn(|c| {
                    c.assign(
                        "let a",
                        &Expr::struct_lit(
                            "Self",
                            vec![("step".into(), None), ("state".into(), None)],
                        ),
                    );
                    c.assign(
                        "let b",
                        &Expr::struct_lit(
                            "Self",
                            vec![("step".into(), None), ("state_of_it".into(), None)],
                        ),
                    );
                }),
            ),
            (
                "a struct literal as the only argument overflows",
                in_fn(|c| {
                    let init =
                        Expr::qualified("values::Kind", "new", vec![Expr::text("kind")]).try_();
                    c.stmt(
                        &Expr::call(
                            "::core::result::Result::Ok",
                            vec![Expr::struct_lit("Self", vec![("kind".into(), Some(init))])],
                        ),
                        "",
                    )
                }),
            ),
            (
                "short simple items are packed several to a line, with a trailing comma",
                in_fn(|c| {
                    let values = [
                        "a", "bb", "ccc", "dddd", "eeeee", "ff", "gg", "hh", "ii", "jj", "kk",
                        "ll", "mm", "nn", "oo", "pp",
                    ];
                    c.assign("let expected", &Expr::array(lits(&values)).by_ref());
                }),
            ),
            (
                "a method call that does not fit goes to the next line, one level deeper",
                in_fn(|c| {
                    let hex = Expr::qualified(
                        "::metricsmith::types::Hex<32>",
                        "new",
                        lits(&["0123456789abcdef0123456789abcdef"]),
                    );
                    c.assign(
                        "let identifier",
                        &Expr::struct_lit("Event", vec![("uid".into(), Some(expect_valid(hex)))]),
                    );
                }),
            ),
            (
                "a right-hand side that fits only on the next line goes there",
                in_fn(|c| {
                    c.assign(
                        "const LOGGER: ::core::option::Option<&'static str>",
                        &Expr::call("::core::option::Option::Some", lits(&["routes.verify"])),
                    );
                }),
            ),
            (
                "a type too wide for its line breaks its generic arguments",
                in_fn(|c| {
                    let int = Expr::qualified(
                        "::metricsmith::types::Int<{ -5 }, { i64::MAX }>",
                        "new",
                        vec![Expr::lit("0")],
                    );
                    let field = (
                        "a_bounded_integer_property_with_a_long_name".to_owned(),
                        Some(expect_valid(int)),
                    );
                    c.assign("let event", &Expr::struct_lit("Event", vec![field]));
                }),
            ),
            (
                "a match arm whose body does not fit gets a block",
                in_fn(|c| {
                    c.open(format_args!("match value {{"));
                    let ok = |v: &str| {
                        Expr::call(
                            "::core::result::Result::Ok",
                            vec![Expr::text(format!("Self::{v}"))],
                        )
                    };
                    c.arm(&lit("short"), &ok("Short"));
                    c.arm(
                        &lit("a-value-long-enough-to-break-its-match-arm"),
                        &ok("AValueLongEnoughToBreakItsMatchArm"),
                    );
                    c.close("}");
                }),
            ),
            (
                "a statement with a literal too long for any line: one item per line",
                in_fn(|c| {
                    let long = "x".repeat(120);
                    c.stmt(
                        &Expr::call("assert_eq!", vec![Expr::text("got"), Expr::lit(lit(&long))]),
                        ";",
                    );
                }),
            ),
            (
                "signatures: one line when they fit, else one parameter per line",
                {
                    let mut c = Code::default();
                    c.fn_open(
                        "pub fn new",
                        &[
                            "step: values::Step".to_owned(),
                            "state: values::State".to_owned(),
                        ],
                        "Self",
                    );
                    c.line("todo!()");
                    c.close("}");
                    c.fn_open(
                        "pub fn new",
                        &[
                            "first_parameter: values::FirstParameter".to_owned(),
                            "second_parameter: values::SecondParameter".to_owned(),
                        ],
                        "Self",
                    );
                    c.line("todo!()");
                    c.close("}");
                    c.finish()
                },
            ),
        ]
    }

    #[test]
    fn layouts_are_the_ones_rustfmt_writes() {
        // Checked with `rustfmt --edition 2021 --check`.
        let expected = [
            r#"fn f() {
    put(data, "name", &self.name);
}
"#,
            r#"fn f() {
    ::metricsmith::types::put(
        data,
        "a_rather_long_property_name",
        &self.a_rather_long_property_name,
    );
}
"#,
            r#"fn f() {
    assert!(
        types.is_empty(),
        "expected no amplitude event, got {types:?}"
    );
}
"#,
            r#"fn f() {
    ::core::option::Option::Some("a string literal of sixty-odd characters, past fn_call_width");
}
"#,
            r#"fn f() {
    ::std::borrow::Cow::Owned(::std::format!(
        "password.forgot.{}.{}",
        self.step,
        self.state
    ))
}
"#,
            r#"fn f() {
    let a = Self { step, state };
    let b = Self { step, state_of_it };
}
"#,
            r#"fn f() {
    ::core::result::Result::Ok(Self {
        kind: <values::Kind>::new(kind)?,
    })
}
"#,
            r#"fn f() {
    let expected = &[
        "a", "bb", "ccc", "dddd", "eeeee", "ff", "gg", "hh", "ii", "jj", "kk", "ll", "mm", "nn",
        "oo", "pp",
    ];
}
"#,
            r#"fn f() {
    let identifier = Event {
        uid: <::metricsmith::types::Hex<32>>::new("0123456789abcdef0123456789abcdef")
            .expect("a valid example"),
    };
}
"#,
            r#"fn f() {
    const LOGGER: ::core::option::Option<&'static str> =
        ::core::option::Option::Some("routes.verify");
}
"#,
            r#"fn f() {
    let event = Event {
        a_bounded_integer_property_with_a_long_name: <::metricsmith::types::Int<
            { -5 },
            { i64::MAX },
        >>::new(0)
        .expect("a valid example"),
    };
}
"#,
            r#"fn f() {
    match value {
        "short" => ::core::result::Result::Ok(Self::Short),
        "a-value-long-enough-to-break-its-match-arm" => {
            ::core::result::Result::Ok(Self::AValueLongEnoughToBreakItsMatchArm)
        }
    }
}
"#,
            r#"fn f() {
    assert_eq!(
        got,
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    );
}
"#,
            r#"pub fn new(step: values::Step, state: values::State) -> Self {
    todo!()
}
pub fn new(
    first_parameter: values::FirstParameter,
    second_parameter: values::SecondParameter,
) -> Self {
    todo!()
}
"#,
        ];
        let cases = layout_cases();
        assert_eq!(cases.len(), expected.len());
        for ((name, text), expected) in cases.iter().zip(expected) {
            assert_eq!(text, expected, "{name}");
        }
    }
}
