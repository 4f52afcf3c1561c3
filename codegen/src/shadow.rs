//! Which regex rules can never win, decided on automata (never by sampling).
//!
//! All rules are compiled into one dense DFA over `(?s-u:.)*(?:P)(?s-u:.)*` per rule (JavaScript's
//! `exec` matches anywhere), with every match reported (`MatchKind::All`).
//! A DFA state reached after reading a whole name, then end of input, tells exactly which
//! rules match that name.
//! Rule `i` can never win iff in every reachable end state where `i` matches, some earlier rule
//! matches too; it matches nothing iff it is in no reachable end state.
//! The walk visits each reachable state once, so the cost is bounded by the DFA size, which is
//! itself bounded by [`DFA_SIZE_LIMIT`].

use std::collections::BTreeSet;

use regex_automata::dfa::{Automaton, dense};
use regex_automata::util::start::Config as StartConfig;
use regex_automata::{Anchored, MatchKind};

/// The largest DFA (in bytes) the analysis builds before it gives up.
pub const DFA_SIZE_LIMIT: usize = 16 * 1024 * 1024;

/// What the analysis found about one rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleReach {
    /// The rule matches no name at all.
    pub matches_nothing: bool,
    /// `Some(earlier rules)` when the rule can never win: the earlier rules that match names it
    /// matches.
    pub shadowed_by: Option<Vec<usize>>,
}

/// The analysis could not run: the automaton would exceed [`DFA_SIZE_LIMIT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge(pub String);

/// Analyses rules given as `regex` syntax patterns, in order.
///
/// # Errors
/// [`TooLarge`] when the automaton exceeds the size limit.
pub fn analyse(patterns: &[&str]) -> Result<Vec<RuleReach>, TooLarge> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let wrapped: Vec<String> = patterns
        .iter()
        .map(|p| format!("(?s-u:.)*(?:{p})(?s-u:.)*"))
        .collect();
    let dfa = dense::Builder::new()
        .configure(
            dense::DFA::config()
                .match_kind(MatchKind::All)
                .start_kind(regex_automata::dfa::StartKind::Anchored)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DFA_SIZE_LIMIT))
                .minimize(false),
        )
        // Any byte may precede or follow a match: a byte-level `.` keeps the DFA small, and the
        // patterns themselves still match only valid UTF-8.
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(true)
                .utf8(false),
        )
        .thompson(
            regex_automata::nfa::thompson::Config::new()
                .utf8(false)
                .shrink(false),
        )
        .build_many(&wrapped)
        .map_err(|e| TooLarge(e.to_string()))?;
    let start = dfa
        .start_state(&StartConfig::new().anchored(Anchored::Yes))
        .map_err(|e| TooLarge(e.to_string()))?;

    let n = patterns.len();
    let mut matched = vec![false; n];
    let mut sole = vec![false; n];
    let mut overlaps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];

    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![start];
    seen.insert(start);
    let representatives: Vec<_> = dfa.byte_classes().representatives(..).collect();
    while let Some(state) = stack.pop() {
        let end = dfa.next_eoi_state(state);
        if dfa.is_match_state(end) {
            let ids: Vec<usize> = (0..dfa.match_len(end))
                .map(|i| dfa.match_pattern(end, i).as_usize())
                .collect();
            let Some(&first) = ids.iter().min() else {
                continue;
            };
            for &id in &ids {
                matched[id] = true;
                if id == first {
                    sole[id] = true;
                } else {
                    overlaps[id].extend(ids.iter().copied().filter(|&j| j < id));
                }
            }
        }
        for unit in &representatives {
            let Some(byte) = unit.as_u8() else { continue };
            let next = dfa.next_state(state, byte);
            if dfa.is_dead_state(next) || dfa.is_quit_state(next) {
                continue;
            }
            if seen.insert(next) {
                stack.push(next);
            }
        }
    }
    Ok((0..n)
        .map(|i| RuleReach {
            matches_nothing: !matched[i],
            shadowed_by: (matched[i] && !sole[i]).then(|| overlaps[i].iter().copied().collect()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadowing() {
        let reach = analyse(&[
            r"^flow\.([0-9A-Za-z_-]+)\.engage$",
            r"^flow\.signin\.engage$",
            r"^flow\.signin\.submit$",
            r"^flow\.",
            r"^flow\.x$",
            r"a^b",
        ])
        .unwrap();
        assert_eq!(reach[0].shadowed_by, None);
        assert_eq!(reach[1].shadowed_by, Some(vec![0]));
        assert_eq!(reach[2].shadowed_by, None);
        assert_eq!(reach[3].shadowed_by, None);
        assert_eq!(reach[4].shadowed_by, Some(vec![3]));
        assert!(reach[5].matches_nothing);
    }

    #[test]
    fn unanchored_patterns_match_anywhere() {
        let reach = analyse(&[r"engage", r"^flow\.x\.engage\.y$"]).unwrap();
        assert_eq!(reach[1].shadowed_by, Some(vec![0]));
        let reach = analyse(&[r"^engage", r"^flow\.x\.engage$"]).unwrap();
        assert_eq!(reach[1].shadowed_by, None);
    }
}
