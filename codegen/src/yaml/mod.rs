//! A fast path for the block-style YAML that schema files are written in.
//!
//! serde-saphyr reads about 10 MB/s; most of `metricsmith check` went into it. This module
//! parses the subset of YAML that schema files use (block mappings and sequences, single-line
//! plain, quoted and flow values, literal and folded block scalars, comments) into a tree, and
//! deserializes the AST from it with the same spans and the same scalar resolution.
//!
//! It never reports anything: on any text outside the subset, any malformed text and any serde
//! error it returns `None`, and the caller runs serde-saphyr, which produces every diagnostic.
//! So it only has to be exact on the valid documents it accepts; the differential tests in
//! `tests/yaml_fast.rs` compare it with serde-saphyr.

mod de;
mod tree;

use std::cell::Cell;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, SeqAccess, Visitor};

use crate::ast::Spanned;

/// The struct name under which [`Spanned`] asks the fast deserializer for a node's span.
const SPANNED: &str = "__metricsmith_fast_yaml_spanned";

thread_local! {
    /// Set while the fast deserializer runs on this thread, so that [`Spanned`] asks it for
    /// spans instead of going through `serde_saphyr::Spanned`.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

/// Restores the flag when deserialization ends, also by unwinding.
struct ActiveGuard(bool);

impl ActiveGuard {
    fn set() -> Self {
        ActiveGuard(ACTIVE.with(|active| active.replace(true)))
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        ACTIVE.with(|active| active.set(self.0));
    }
}

/// Deserializes `text` when it is inside the subset and deserializes without any error.
pub(crate) fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    let tree = tree::Tree::parse(text)?;
    let _active = ActiveGuard::set();
    T::deserialize(de::NodeDeserializer {
        tree: &tree,
        id: tree.root,
    })
    .ok()
}

/// Whether [`Spanned`] is being deserialized by the fast path on this thread.
pub(crate) fn active() -> bool {
    ACTIVE.with(Cell::get)
}

/// Deserializes a [`Spanned`] from the fast deserializer: its span parts, then the value.
pub(crate) fn spanned<'de, D, T>(deserializer: D) -> Result<Spanned<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct SpannedVisitor<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
        type Value = Spanned<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a spanned node")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut parts: A) -> Result<Spanned<T>, A::Error> {
            let missing = || serde::de::Error::custom("missing span part");
            let start: u32 = parts.next_element()?.ok_or_else(missing)?;
            let end: u32 = parts.next_element()?.ok_or_else(missing)?;
            let line: u32 = parts.next_element()?.ok_or_else(missing)?;
            let column: u32 = parts.next_element()?.ok_or_else(missing)?;
            let value: T = parts.next_element()?.ok_or_else(missing)?;
            Ok(Spanned {
                value,
                range: start..end,
                line_col: (line, column),
            })
        }
    }

    deserializer.deserialize_struct(SPANNED, &[], SpannedVisitor(PhantomData))
}
