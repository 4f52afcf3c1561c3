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
#[derive(Debug, Clone)]
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

/// A mapping's rules compiled once, by lowering, for everything that evaluates them at
/// generation time: which rule maps each event, and the examples of events and rules.
///
/// Compiling 100 rules took a tenth of `generate` at 2,000 events when lowering, the tests and
/// the docs each compiled their own.
#[derive(Debug, Clone, Default)]
pub struct CompiledRules {
    /// By rule index; `None` for a rule whose pattern does not compile (an error was reported).
    regexes: Vec<Option<regex::Regex>>,
    /// The rules that compiled, for the first that matches, and the rule index of each.
    first: Option<(FirstMatch, Vec<usize>)>,
}

impl CompiledRules {
    /// The rules' regexes, by rule index.
    pub(crate) fn new(regexes: Vec<Option<regex::Regex>>) -> Self {
        let (indices, patterns): (Vec<usize>, Vec<&str>) = regexes
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.as_ref()?.as_str())))
            .unzip();
        let first = FirstMatch::new(patterns).map(|first| (first, indices));
        CompiledRules { regexes, first }
    }

    /// Rule `index`'s regex, if it compiled.
    pub fn regex(&self, index: usize) -> Option<&regex::Regex> {
        self.regexes.get(index).and_then(Option::as_ref)
    }

    /// Whether rule `index` matches `name` anywhere.
    pub fn matches(&self, index: usize, name: &str) -> bool {
        self.regex(index).is_some_and(|r| r.is_match(name))
    }

    /// The first rule that matches `name` anywhere (FxA's `FUZZY_EVENTS` order).
    pub fn first(&self, name: &str) -> Option<usize> {
        match &self.first {
            Some((first, indices)) => first.find(name).map(|i| indices[i]),
            // Too large for the regex size limits together: one search per rule.
            None => (0..self.regexes.len()).find(|&i| self.matches(i, name)),
        }
    }
}

/// Two compilations of the same patterns are equal.
impl PartialEq for CompiledRules {
    fn eq(&self, other: &Self) -> bool {
        fn pattern(r: &Option<regex::Regex>) -> Option<&str> {
            r.as_ref().map(regex::Regex::as_str)
        }
        self.regexes
            .iter()
            .map(pattern)
            .eq(other.regexes.iter().map(pattern))
    }
}

impl Eq for CompiledRules {}
