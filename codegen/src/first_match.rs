//! The first of several regexes (by index) that matches anywhere in a name, in one search.
//!
//! The mapping's rules are tried in order and the first that matches anywhere wins (FxA's
//! `FUZZY_EVENTS`). One leftmost-first regex of all the patterns, searched anchored at the
//! start of the name with each pattern `P` written `(?s:.)*?(?:P)`, finds it: every pattern
//! starts at offset 0, so the highest-priority pattern that can match is the lowest index that
//! matches anywhere, and the search stops at its first match. An overlapping `RegexSet` search
//! would read every pattern's matches instead (a quarter of lowering's profile at 2,000 events).

use regex_automata::{Anchored, Input, MatchKind, meta};
use regex_syntax::hir::Look;

/// Patterns in `regex` syntax, compiled into one leftmost-first regex.
#[derive(Debug)]
pub(crate) struct FirstMatch(meta::Regex);

impl FirstMatch {
    /// `None` when a pattern does not compile or all of them exceed the regex size limits (the
    /// caller then tries the patterns in turn).
    pub(crate) fn new<'p>(patterns: impl IntoIterator<Item = &'p str>) -> Option<Self> {
        // A pattern whose every match starts at the start of input needs no prefix, and
        // without it the automaton stays small.
        let wrapped: Vec<String> = patterns
            .into_iter()
            .map(|p| {
                let anchored = regex_syntax::parse(p)
                    .is_ok_and(|hir| hir.properties().look_set_prefix().contains(Look::Start));
                if anchored {
                    p.to_owned()
                } else {
                    format!("(?s:.)*?(?:{p})")
                }
            })
            .collect();
        meta::Regex::builder()
            .configure(meta::Config::new().match_kind(MatchKind::LeftmostFirst))
            .build_many(&wrapped)
            .ok()
            .map(FirstMatch)
    }

    /// The index of the first pattern that matches `name` anywhere.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        let input = Input::new(name).anchored(Anchored::Yes);
        Some(self.0.search_half(&input)?.pattern().as_usize())
    }
}
