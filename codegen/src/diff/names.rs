//! Sets of event names as one automaton: which patterns match a name, and, for a set of
//! automaton states, how many names end there and the shortest of them.
//!
//! The automaton is the shadowing analysis's ([`crate::shadow`]): every pattern in one dense
//! DFA with an anchored start that reports every match.
//! A name's state after its last byte, then end of input, holds the ids of every pattern that
//! matches the name; a set of names is a set of such states.

use std::collections::{HashMap, VecDeque};

use regex_automata::MatchKind;
use regex_automata::dfa::{Automaton as _, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start::Config as StartConfig;
use regex_syntax::hir::{Class, ClassBytes, ClassBytesRange, Hir, Look, Repetition};

use super::mapping::TooLarge;
use crate::shadow;

/// Parses a pattern in `regex` syntax as the automaton reads it (bytes may be any value, so
/// `(?-u:.)` is allowed, as in the shadowing analysis).
///
/// # Errors
/// [`TooLarge`] with the parser's message when the pattern does not parse.
pub fn parse(pattern: &str) -> Result<Hir, TooLarge> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| TooLarge(e.to_string()))
}

/// `P` as the automaton needs it: any bytes, `P`, any bytes, without the parts that change no
/// match (a `P` that starts at the start or ends at the end of input), as
/// [`crate::shadow`] writes it in syntax.
fn wrap(hir: &Hir) -> Hir {
    let props = hir.properties();
    let any = || {
        Hir::repetition(Repetition {
            min: 0,
            max: None,
            greedy: true,
            sub: Box::new(Hir::class(Class::Bytes(ClassBytes::new([
                ClassBytesRange::new(0, 255),
            ])))),
        })
    };
    let mut items = Vec::new();
    if !props.look_set_prefix().contains(Look::Start) {
        items.push(any());
    }
    items.push(hir.clone());
    if !props.look_set_suffix().contains(Look::End) {
        items.push(any());
    }
    Hir::concat(items)
}

/// How many names a set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Exactly this many.
    Finite(u128),
    /// Infinitely many.
    Infinite,
}

/// A set of names: its size and its shortest members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameSet {
    /// How many names it holds.
    pub size: Size,
    /// Up to [`EXAMPLES`] of its shortest names (valid UTF-8), shortest first.
    pub examples: Vec<String>,
}

/// How many example names a set shows.
pub const EXAMPLES: usize = 5;

/// The byte order in which examples are built: letters, digits and punctuation read best.
fn preference(byte: u8) -> (u8, u8) {
    let rank = match byte {
        b'a'..=b'z' => 0,
        b'0'..=b'9' => 1,
        b'.' | b'_' | b'-' => 2,
        b'A'..=b'Z' => 3,
        0x21..=0x7e => 4,
        _ => 5,
    };
    (rank, byte)
}

/// Every pattern in one automaton, with the reachable states numbered.
#[derive(Debug)]
pub struct Automaton {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
    index: HashMap<StateID, usize>,
    /// Per state: (next state, a byte, the bytes of its class for the first byte of a class
    /// and 0 for the others).
    edges: Vec<Vec<(usize, u8, u32)>>,
    /// Per state: the sorted ids of the patterns that match a name ending there.
    matches: Vec<Vec<usize>>,
    /// Per state: the states with an edge to it, built on first use.
    reverse: std::sync::OnceLock<Vec<Vec<usize>>>,
}

impl Automaton {
    /// Builds the automaton of `patterns` (in `regex` syntax), each matching anywhere in a name
    /// as JavaScript's `exec` does.
    ///
    /// # Errors
    /// [`TooLarge`] when the automaton exceeds the shadowing analysis's size limit.
    pub fn new(patterns: &[String]) -> Result<Automaton, TooLarge> {
        let hirs = patterns
            .iter()
            .map(|p| parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        Automaton::from_hirs(&hirs)
    }

    /// [`Automaton::new`] from patterns already parsed with [`parse`] (or built from parsed
    /// ones): nothing is printed and parsed again, which for patterns restricted to hundreds
    /// of table keys was most of the time.
    ///
    /// # Errors
    /// [`TooLarge`] when the automaton exceeds the shadowing analysis's size limit.
    pub fn from_hirs(hirs: &[Hir]) -> Result<Automaton, TooLarge> {
        let wrapped: Vec<Hir> = hirs.iter().map(wrap).collect();
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .utf8(false)
                    .shrink(false)
                    .which_captures(thompson::WhichCaptures::None),
            )
            .build_many_from_hir(&wrapped)
            .map_err(|e| TooLarge(e.to_string()))?;
        let dfa = dense::Builder::new()
            .configure(
                dense::DFA::config()
                    .match_kind(MatchKind::All)
                    .start_kind(StartKind::Anchored)
                    .dfa_size_limit(Some(shadow::DFA_SIZE_LIMIT))
                    .determinize_size_limit(Some(shadow::DFA_SIZE_LIMIT))
                    .minimize(false),
            )
            .build_from_nfa(&nfa)
            .map_err(|e| TooLarge(e.to_string()))?;
        let start = dfa
            .start_state(&StartConfig::new().anchored(regex_automata::Anchored::Yes))
            .map_err(|e| TooLarge(e.to_string()))?;
        // One byte per class, the most readable one, and the class sizes.
        let classes = *dfa.byte_classes();
        let mut bytes: Vec<u8> = (0..=255).collect();
        bytes.sort_by_key(|&b| preference(b));
        let mut sizes: HashMap<u8, u32> = HashMap::new();
        for &b in &bytes {
            *sizes.entry(classes.get(b)).or_insert(0) += 1;
        }
        // Up to EXAMPLES bytes per class, in preference order, so that examples differ in more
        // than their class: the first of each class carries the class's size for counting.
        let mut taken: HashMap<u8, u32> = HashMap::new();
        let mut chosen: Vec<(u8, u32)> = Vec::new();
        for &b in &bytes {
            let class = classes.get(b);
            let n = taken.entry(class).or_insert(0);
            if (*n as usize) < EXAMPLES {
                chosen.push((b, if *n == 0 { sizes[&class] } else { 0 }));
            }
            *n += 1;
        }
        let mut automaton = Automaton {
            start,
            index: HashMap::new(),
            edges: Vec::new(),
            matches: Vec::new(),
            reverse: std::sync::OnceLock::new(),
            dfa,
        };
        let mut stack = vec![start];
        automaton.index.insert(start, 0);
        automaton.edges.push(Vec::new());
        automaton.matches.push(Vec::new());
        while let Some(state) = stack.pop() {
            let from = automaton.index[&state];
            automaton.matches[from] = automaton.eoi_matches(state);
            let mut edges = Vec::new();
            for &(b, size) in &chosen {
                let next = automaton.dfa.next_state(state, b);
                if automaton.dfa.is_dead_state(next) || automaton.dfa.is_quit_state(next) {
                    continue;
                }
                let to = match automaton.index.get(&next) {
                    Some(&to) => to,
                    None => {
                        let to = automaton.edges.len();
                        automaton.index.insert(next, to);
                        automaton.edges.push(Vec::new());
                        automaton.matches.push(Vec::new());
                        stack.push(next);
                        to
                    }
                };
                edges.push((to, b, size));
            }
            automaton.edges[from] = edges;
        }
        Ok(automaton)
    }

    fn eoi_matches(&self, state: StateID) -> Vec<usize> {
        let end = self.dfa.next_eoi_state(state);
        if !self.dfa.is_match_state(end) {
            return Vec::new();
        }
        let mut ids: Vec<usize> = (0..self.dfa.match_len(end))
            .map(|i| self.dfa.match_pattern(end, i).as_usize())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The number of reachable states.
    pub fn states(&self) -> usize {
        self.edges.len()
    }

    /// The sorted ids of the patterns that match a name ending in `state`.
    pub fn matches(&self, state: usize) -> &[usize] {
        &self.matches[state]
    }

    /// The state `name` ends in, `None` when no pattern can match it or anything longer.
    pub fn state_of(&self, name: &str) -> Option<usize> {
        let mut state = self.start;
        for &b in name.as_bytes() {
            state = self.dfa.next_state(state, b);
            if self.dfa.is_dead_state(state) || self.dfa.is_quit_state(state) {
                return None;
            }
        }
        self.index.get(&state).copied()
    }

    /// The sorted ids of the patterns that match `name`.
    pub fn matches_of(&self, name: &str) -> &[usize] {
        self.state_of(name).map_or(&[], |s| self.matches(s))
    }

    /// The names that end in a state where `accept` holds, minus the names in `excluded`
    /// (which the caller decided one by one): their number and up to [`EXAMPLES`] shortest.
    pub fn language(&self, accept: &[bool], excluded: &[&str]) -> NameSet {
        let n = self.states();
        // States from which an accepting state can be reached.
        let reverse = self.reverse.get_or_init(|| {
            let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); n];
            for (from, edges) in self.edges.iter().enumerate() {
                for &(to, _, size) in edges {
                    // One edge per class is enough to walk back.
                    if size > 0 {
                        reverse[to].push(from);
                    }
                }
            }
            reverse
        });
        let mut useful = vec![false; n];
        let mut queue: Vec<usize> = (0..n).filter(|&s| accept[s]).collect();
        for &s in &queue {
            useful[s] = true;
        }
        while let Some(s) = queue.pop() {
            for &p in &reverse[s] {
                if !useful[p] {
                    useful[p] = true;
                    queue.push(p);
                }
            }
        }
        let excluded_inside: Vec<&str> = excluded
            .iter()
            .copied()
            .filter(|name| self.state_of(name).is_some_and(|s| accept[s]))
            .collect();
        let size = match self.count(&useful, accept) {
            Some(count) => Size::Finite(count.saturating_sub(excluded_inside.len() as u128)),
            None => Size::Infinite,
        };
        let examples = self.shortest(&useful, accept, &excluded_inside);
        NameSet { size, examples }
    }

    /// The number of names ending in accepting states, `None` when infinite (a cycle through
    /// useful states); saturates at `u128::MAX`.
    fn count(&self, useful: &[bool], accept: &[bool]) -> Option<u128> {
        if !useful[0] {
            return Some(0);
        }
        // Iterative depth-first search in post-order, with grey marks for cycles.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            White,
            Grey,
            Black,
        }
        let n = self.states();
        let mut mark = vec![Mark::White; n];
        let mut count = vec![0u128; n];
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        mark[0] = Mark::Grey;
        while let Some(&mut (state, ref mut next)) = stack.last_mut() {
            let edges = &self.edges[state];
            if *next < edges.len() {
                let (to, _, size) = edges[*next];
                *next += 1;
                if !useful[to] || size == 0 {
                    continue;
                }
                match mark[to] {
                    Mark::Grey => return None,
                    Mark::White => {
                        mark[to] = Mark::Grey;
                        stack.push((to, 0));
                    }
                    Mark::Black => {}
                }
            } else {
                let mut total = u128::from(accept[state]);
                for &(to, _, size) in edges {
                    if useful[to] {
                        total = total.saturating_add(count[to].saturating_mul(u128::from(size)));
                    }
                }
                count[state] = total;
                mark[state] = Mark::Black;
                stack.pop();
            }
        }
        Some(count[0])
    }

    /// Breadth first, each state expanded at most `cap` times: the first arrivals at a state are
    /// its shortest walks, so the first accepted names are the shortest.
    fn shortest(&self, useful: &[bool], accept: &[bool], excluded: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        if !useful[0] {
            return out;
        }
        // Names skipped (excluded, or not UTF-8) need as many more walks; the cap bounds the
        // work at cap * states * classes.
        let cap = EXAMPLES + excluded.len().min(64) + 8;
        let mut visits = vec![0usize; self.states()];
        let mut queue: VecDeque<(usize, Vec<u8>)> = VecDeque::new();
        queue.push_back((0, Vec::new()));
        visits[0] = 1;
        while let Some((state, name)) = queue.pop_front() {
            if accept[state]
                && let Ok(text) = std::str::from_utf8(&name)
                && !excluded.contains(&text)
            {
                out.push(text.to_owned());
                if out.len() == EXAMPLES {
                    break;
                }
            }
            for &(to, byte, _) in &self.edges[state] {
                if useful[to] && visits[to] < cap {
                    visits[to] += 1;
                    let mut longer = name.clone();
                    longer.push(byte);
                    queue.push_back((to, longer));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[&str], accept: impl Fn(&[usize]) -> bool) -> NameSet {
        let patterns: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        let automaton = Automaton::new(&patterns).unwrap();
        let accept: Vec<bool> = (0..automaton.states())
            .map(|s| accept(automaton.matches(s)))
            .collect();
        automaton.language(&accept, &[])
    }

    #[test]
    fn finite_sets_are_counted() {
        let s = set(&[r"^a\.(x|yy|zzz)$"], |m| m == [0]);
        assert_eq!(s.size, Size::Finite(3));
        assert_eq!(s.examples, ["a.x", "a.yy", "a.zzz"]);
        // Names of one rule that another does not match.
        let s = set(&[r"^a\.[0-9]$", r"^a\.[0-4]$"], |m| m == [0]);
        assert_eq!(s.size, Size::Finite(5));
        assert_eq!(s.examples, ["a.5", "a.6", "a.7", "a.8", "a.9"]);
    }

    #[test]
    fn infinite_sets_show_their_shortest_names() {
        let s = set(&[r"^flow\.\w+$", r"^flow\.x"], |m| m == [0]);
        assert_eq!(s.size, Size::Infinite);
        assert_eq!(
            s.examples,
            ["flow.a", "flow.b", "flow.c", "flow.d", "flow.e"]
        );
        let s = set(&[r"engage"], |m| m == [0]);
        assert_eq!(s.size, Size::Infinite);
        assert_eq!(s.examples[0], "engage");
    }

    #[test]
    fn empty_sets_are_empty() {
        let s = set(&[r"^a$", r"^a$"], |m| m == [0]);
        assert_eq!(s.size, Size::Finite(0));
        assert!(s.examples.is_empty());
    }

    #[test]
    fn excluded_names_are_left_out() {
        let patterns = vec![r"^a\.(x|y|z)$".to_owned()];
        let automaton = Automaton::new(&patterns).unwrap();
        let accept: Vec<bool> = (0..automaton.states())
            .map(|s| automaton.matches(s) == [0])
            .collect();
        let s = automaton.language(&accept, &["a.y", "b"]);
        assert_eq!(s.size, Size::Finite(2));
        assert_eq!(s.examples, ["a.x", "a.z"]);
        assert_eq!(automaton.matches_of("a.y"), [0]);
        assert!(automaton.matches_of("a.w").is_empty());
    }
}
