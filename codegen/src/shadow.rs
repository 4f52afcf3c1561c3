//! Which regex rules can never win, decided on automata (never by sampling).
//!
//! All rules are compiled into ONE dense DFA with an anchored start, every match reported
//! (`MatchKind::All`).
//! JavaScript's `exec` matches anywhere, so a rule `P` is compiled as `(?s-u:.)*(?:P)(?s-u:.)*`,
//! except that the leading `(?s-u:.)*` is left out when every match of `P` starts at the start
//! of input (`P` begins with `^`), and the trailing one when every match ends at the end of
//! input (`P` ends with `$`, which without the `m` flag means end of input in JavaScript too):
//! there the wrapper changes no match, and leaving it out keeps the DFA small.
//! The leading wrapper keeps the start of its rule alive in every DFA state, so with it, R
//! rules make states that hold NFA states of all R rules; without it, anchored rules with
//! distinct prefixes make a trie whose states each hold one or a few rules.
//!
//! A DFA state reached after reading a whole name, then end of input, tells exactly which
//! rules match that name: the set `M` of its match patterns.
//! Rule `i` can win iff some reachable state has `i == min(M)`; it is shadowed iff it is in
//! some `M` but never the minimum (the earlier rules it shares those sets with shadow it); it
//! matches nothing iff it is in no `M`.
//! The walk visits each reachable state once and each distinct `M` once, so the cost is
//! bounded by the DFA size, which is itself bounded by [`DFA_SIZE_LIMIT`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::hybrid;
use regex_automata::util::start::Config as StartConfig;
use regex_automata::{Anchored, MatchKind};
use regex_syntax::hir::Look;

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
pub struct TooLarge {
    /// What the automaton builder said.
    pub reason: String,
    /// The first rule (an index into the patterns) whose automaton, with the rules before it,
    /// exceeds the limit: the one that blew the budget.
    pub rule: usize,
    /// Whether that rule is too large on its own.
    pub alone: bool,
}

/// Any byte may precede or follow a match: a byte-level `.` keeps the DFA small, and the
/// patterns themselves still match only valid UTF-8.
const ANY: &str = "(?s-u:.)*";

/// Analyses rules given as `regex` syntax patterns, in order.
///
/// # Errors
/// [`TooLarge`] when the automaton exceeds the size limit.
pub fn analyse(patterns: &[&str]) -> Result<Vec<RuleReach>, TooLarge> {
    let wrapped: Vec<String> = patterns.iter().map(|p| wrap(p, true)).collect();
    walk(&wrapped).map_err(|reason| {
        let (rule, alone) = culprit(&wrapped);
        TooLarge {
            reason,
            rule,
            alone,
        }
    })
}

/// The first rule whose automaton, with the rules before it, is too large: a rule too large
/// on its own (the usual case, found by building each alone), else the shortest prefix of the
/// rules that is (a binary search), and whether it is too large alone. Only runs once the
/// whole analysis failed.
fn culprit(wrapped: &[String]) -> (usize, bool) {
    let too_large = |rules: &[String]| build(rules).is_err();
    if let Some(alone) = (0..wrapped.len()).find(|&i| too_large(&wrapped[i..=i])) {
        // The rules before it together may be too large already.
        if alone == 0 || !too_large(&wrapped[..alone]) {
            return (alone, true);
        }
    }
    // The smallest `k` such that rules `0..=k` are too large; all of them are.
    let (mut low, mut high) = (0, wrapped.len().saturating_sub(1));
    while low < high {
        let mid = low + (high - low) / 2;
        if too_large(&wrapped[..=mid]) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    (low, false)
}

/// One DFA of every wrapped rule, within the size limit.
fn build(wrapped: &[String]) -> Result<dense::DFA<Vec<u32>>, String> {
    dense::Builder::new()
        .configure(
            dense::DFA::config()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DFA_SIZE_LIMIT))
                .minimize(false),
        )
        .syntax(syntax_config())
        .thompson(thompson_config())
        .build_many(wrapped)
        .map_err(|e| e.to_string())
}

/// `P` as the DFA needs it: `(?s-u:.)*(?:P)(?s-u:.)*`, without the parts that change no match
/// when `trim` is set.
fn wrap(pattern: &str, trim: bool) -> String {
    let (start, end) = if trim {
        anchors(pattern)
    } else {
        (false, false)
    };
    format!(
        "{}(?:{pattern}){}",
        if start { "" } else { ANY },
        if end { "" } else { ANY }
    )
}

/// Whether every match of `pattern` starts at the start of input, and whether every match
/// ends at the end of input.
/// A pattern that does not parse keeps both wrappers (the DFA builder then reports it).
fn anchors(pattern: &str) -> (bool, bool) {
    // The same syntax options as the DFA builder below.
    let Ok(hir) = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
    else {
        return (false, false);
    };
    let props = hir.properties();
    (
        props.look_set_prefix().contains(Look::Start),
        props.look_set_suffix().contains(Look::End),
    )
}

fn walk(wrapped: &[String]) -> Result<Vec<RuleReach>, String> {
    let n = wrapped.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let dfa = build(wrapped)?;
    let start = dfa
        .start_state(&StartConfig::new().anchored(Anchored::Yes))
        .map_err(|e| e.to_string())?;

    let mut matched = vec![false; n];
    let mut wins = vec![false; n];
    let mut overlaps: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    // Many states end in the same match set (every state inside one rule's tail, say): each
    // distinct set is read once.
    let mut sets_seen: HashSet<Vec<usize>> = HashSet::new();
    let mut ids = Vec::new();

    let mut seen = HashSet::new();
    let mut stack = vec![start];
    seen.insert(start);
    let representatives: Vec<u8> = dfa
        .byte_classes()
        .representatives(..)
        .filter_map(|unit| unit.as_u8())
        .collect();
    while let Some(state) = stack.pop() {
        let end = dfa.next_eoi_state(state);
        if dfa.is_match_state(end) {
            ids.clear();
            ids.extend((0..dfa.match_len(end)).map(|i| dfa.match_pattern(end, i).as_usize()));
            ids.sort_unstable();
            ids.dedup();
            if let Some(&first) = ids.first()
                && !sets_seen.contains(&ids)
            {
                wins[first] = true;
                for (k, &id) in ids.iter().enumerate() {
                    matched[id] = true;
                    overlaps[id].extend(&ids[..k]);
                }
                sets_seen.insert(ids.clone());
            }
        }
        for &byte in &representatives {
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
            shadowed_by: (matched[i] && !wins[i]).then(|| overlaps[i].iter().copied().collect()),
        })
        .collect())
}

/// Which rules can match a name of a family, decided on automata: the rules as one lazy DFA
/// (built once per service, states made as a walk needs them), walked together with a small
/// DFA of each family's names.
/// A state pair reached after a whole name, then end of input, where the family's DFA matches,
/// shows a name of the family and, in the rules' match set `M`, every rule that matches it:
/// `min(M)` is the rule that maps it.
#[derive(Debug)]
pub struct RuleMatcher {
    dfa: hybrid::dfa::DFA,
    cache: hybrid::dfa::Cache,
}

/// The most state pairs one family's walk visits before it gives up.
const PAIR_LIMIT: usize = 1 << 20;

/// Bytes in the order a walk tries them, so that the names it shows read well: letters and
/// digits first.
const PREFERRED: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-.";

impl RuleMatcher {
    /// The rules, given as `regex` syntax patterns, in order.
    ///
    /// # Errors
    /// What the automaton builder said when a pattern does not compile or the rules are too
    /// large.
    pub fn new(patterns: &[&str]) -> Result<Self, String> {
        let wrapped: Vec<String> = patterns.iter().map(|p| wrap(p, true)).collect();
        let wrapped: Vec<&str> = wrapped.iter().map(String::as_str).collect();
        let dfa = lazy_dfa(&wrapped)?;
        let cache = dfa.create_cache();
        Ok(RuleMatcher { dfa, cache })
    }

    /// For each rule that maps some name `names` matches (a pattern anchored at both ends):
    /// the rule's index and the shortest such name the walk found, by rule. With `first`, the
    /// walk stops at the first such name (the shortest), which is all that "is the family
    /// mapped at all" needs.
    ///
    /// # Errors
    /// When the family's pattern does not compile, or the automata or the walk exceed their
    /// limits.
    pub fn first_rules(
        &mut self,
        names: &str,
        first: bool,
    ) -> Result<BTreeMap<usize, Vec<u8>>, String> {
        let family = lazy_dfa(&[names])?;
        match self.walk(&family, first) {
            Ok(found) => Ok(found),
            Err(_) => {
                // The states of earlier families may have filled the cache: once more, empty.
                self.cache.reset(&self.dfa);
                self.walk(&family, first)
            }
        }
    }

    fn walk(
        &mut self,
        family: &hybrid::dfa::DFA,
        first: bool,
    ) -> Result<BTreeMap<usize, Vec<u8>>, String> {
        let f_cache = &mut family.create_cache();
        let (dfa, cache) = (&self.dfa, &mut self.cache);
        let anchored = StartConfig::new().anchored(Anchored::Yes);
        let f_start = family
            .start_state(f_cache, &anchored)
            .map_err(|e| e.to_string())?;
        let r_start = dfa
            .start_state(cache, &anchored)
            .map_err(|e| e.to_string())?;
        // One byte per pair of byte classes of the two automata, preferred bytes first.
        let (f_classes, r_classes) = (family.byte_classes(), dfa.byte_classes());
        let mut classes = vec![false; f_classes.alphabet_len() * r_classes.alphabet_len()];
        let bytes: Vec<u8> = PREFERRED
            .iter()
            .copied()
            .chain(0..=255)
            .filter(|&b| {
                let pair = usize::from(f_classes.get(b)) * r_classes.alphabet_len()
                    + usize::from(r_classes.get(b));
                !std::mem::replace(&mut classes[pair], true)
            })
            .collect();
        // Breadth first, so each name found is a shortest one: every pair with the pair it
        // was reached from and the byte that reached it.
        let mut pairs = vec![(f_start, r_start, usize::MAX, 0u8)];
        let mut seen = HashMap::new();
        seen.insert((f_start, r_start), 0);
        let mut found = BTreeMap::new();
        let mut next = 0;
        let error = |e: hybrid::CacheError| e.to_string();
        while let Some(&(f, r, ..)) = pairs.get(next) {
            if family.next_eoi_state(f_cache, f).map_err(error)?.is_match() {
                let r_end = dfa.next_eoi_state(cache, r).map_err(error)?;
                if r_end.is_match() {
                    let rule = (0..dfa.match_len(cache, r_end))
                        .map(|i| dfa.match_pattern(cache, r_end, i).as_usize())
                        .min();
                    if let Some(rule) = rule {
                        found.entry(rule).or_insert_with(|| {
                            let mut name = Vec::new();
                            let mut at = next;
                            while at != 0 {
                                name.push(pairs[at].3);
                                at = pairs[at].2;
                            }
                            name.reverse();
                            name
                        });
                        if first {
                            break;
                        }
                    }
                }
            }
            for &byte in &bytes {
                // The rules first: their states are shared by every family, so their
                // transitions are mostly known, and most bytes end every rule.
                let r_next = dfa.next_state(cache, r, byte).map_err(error)?;
                if r_next.is_dead() || r_next.is_quit() {
                    continue;
                }
                let f_next = family.next_state(f_cache, f, byte).map_err(error)?;
                if f_next.is_dead() || f_next.is_quit() {
                    continue;
                }
                if let std::collections::hash_map::Entry::Vacant(v) = seen.entry((f_next, r_next)) {
                    if pairs.len() >= PAIR_LIMIT {
                        return Err("too many states".to_owned());
                    }
                    v.insert(pairs.len());
                    pairs.push((f_next, r_next, next, byte));
                }
            }
            next += 1;
        }
        Ok(found)
    }
}

/// A lazy DFA of `patterns` (already wrapped as they should match), every match reported, that
/// gives up rather than clear its cache: a cleared cache would invalidate the states a walk
/// holds.
/// The syntax both automata read patterns with: Unicode classes, matching bytes (names are
/// compared byte for byte).
fn syntax_config() -> regex_automata::util::syntax::Config {
    regex_automata::util::syntax::Config::new()
        .unicode(true)
        .utf8(false)
}

/// The NFA both automata are built from.
fn thompson_config() -> regex_automata::nfa::thompson::Config {
    regex_automata::nfa::thompson::Config::new()
        .utf8(false)
        .shrink(false)
}

fn lazy_dfa(patterns: &[&str]) -> Result<hybrid::dfa::DFA, String> {
    hybrid::dfa::Builder::new()
        .configure(
            hybrid::dfa::DFA::config()
                .match_kind(MatchKind::All)
                .cache_capacity(DFA_SIZE_LIMIT)
                .minimum_cache_clear_count(Some(0)),
        )
        .syntax(syntax_config())
        .thompson(thompson_config())
        .build_many(patterns)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        let reach = analyse(&[r"engage$", r"^flow\.engage"]).unwrap();
        assert_eq!(reach[1].shadowed_by, None);
        let reach = analyse(&[r"^flow", r"x\.engage$", r"^flow\.x\.engage$"]).unwrap();
        assert_eq!(reach[2].shadowed_by, Some(vec![0, 1]));
    }

    #[test]
    fn anchors_are_read_from_the_pattern() {
        let cases = [
            (r"^a", (true, false)),
            (r"a$", (false, true)),
            (r"^a$", (true, true)),
            (r"^a|^b$", (true, false)),
            (r"^a|b", (false, false)),
            (r"(?m)^a$", (false, false)),
            (r"(?:^)?a", (false, false)),
            (r"a\z", (false, true)),
            (r"(", (false, false)),
        ];
        for (pattern, expected) in cases {
            assert_eq!(anchors(pattern), expected, "{pattern}");
        }
    }

    #[test]
    fn hundreds_of_anchored_rules_fit() {
        // The synthetic benchmark's rules: before the wrappers were trimmed, 100 of them
        // exceeded the size limit.
        let patterns: Vec<String> = (0..1000)
            .map(|r| format!(r"^a{r:04}\.(obj[0-9]{{5}})\.(view|submit|engage|fail)$"))
            .collect();
        let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let reach = analyse(&patterns).unwrap();
        assert!(reach.iter().all(|r| *r == RuleReach::default()));
    }

    /// What the analysis must find, by matching every string over `a`, `b` and `c` of at most
    /// `max_len` characters.
    fn brute_force(patterns: &[String], max_len: usize) -> Vec<RuleReach> {
        let set = regex::RegexSet::new(patterns).unwrap();
        let n = patterns.len();
        let mut matched = vec![false; n];
        let mut wins = vec![false; n];
        let mut overlaps = vec![BTreeSet::new(); n];
        let mut strings = vec![String::new()];
        for len in 0..=max_len {
            for s in strings.iter().filter(|s| s.len() == len) {
                let ids: Vec<usize> = set.matches(s).into_iter().collect();
                if let Some(&first) = ids.first() {
                    wins[first] = true;
                }
                for (k, &id) in ids.iter().enumerate() {
                    matched[id] = true;
                    overlaps[id].extend(&ids[..k]);
                }
            }
            if len < max_len {
                strings = strings
                    .iter()
                    .flat_map(|s| ['a', 'b', 'c'].map(|c| format!("{s}{c}")))
                    .chain(strings.iter().cloned())
                    .collect();
            }
        }
        (0..n)
            .map(|i| RuleReach {
                matches_nothing: !matched[i],
                shadowed_by: (matched[i] && !wins[i])
                    .then(|| overlaps[i].iter().copied().collect()),
            })
            .collect()
    }

    /// A rule of at most three atoms, each matching one character of `a` and `b` or nothing,
    /// optionally anchored at either end.
    fn small_rule() -> impl Strategy<Value = String> {
        let atom = prop::sample::select(vec!["a", "b", "[ab]", "a?", "b?"]);
        (
            any::<bool>(),
            prop::collection::vec(atom, 0..=3),
            any::<bool>(),
        )
            .prop_map(|(start, atoms, end)| {
                format!(
                    "{}{}{}",
                    if start { "^" } else { "" },
                    atoms.concat(),
                    if end { "$" } else { "" }
                )
            })
    }

    /// A rule with the constructs whose anchoring is harder to read.
    fn rich_rule() -> impl Strategy<Value = String> {
        let atom = prop::sample::select(vec![
            "a",
            "b",
            ".",
            "[^a]",
            "a*",
            "b+",
            "(?:ab|b)",
            "(a|^b)",
            "(?:b$|a)",
            "^",
            "$",
            "(?m:^)",
            r"(?-u:\b)",
        ]);
        (
            prop::sample::select(vec!["", "^", "(?:^)?", "^|"]),
            prop::collection::vec(atom, 0..=4),
            prop::sample::select(vec!["", "$", "$?", "|$"]),
        )
            .prop_map(|(start, atoms, end)| format!("{start}{}{end}", atoms.concat()))
    }

    #[test]
    fn rule_matcher_finds_the_first_rule_of_each_name() {
        let mut rules =
            RuleMatcher::new(&[r"^flow\.signin\.", r"\.engage$", r"^flow\.[0-9]+\.view$"]).unwrap();
        let found = |rules: &mut RuleMatcher, names: &str| -> Vec<(usize, String)> {
            rules
                .first_rules(names, false)
                .unwrap()
                .into_iter()
                .map(|(k, name)| (k, String::from_utf8(name).unwrap()))
                .collect()
        };
        // Rule 0 wins `flow.signin.engage`, which rule 1 also matches.
        assert_eq!(
            found(&mut rules, r"^flow\.(signin|signup)\.engage$"),
            [
                (0, "flow.signin.engage".to_owned()),
                (1, "flow.signup.engage".to_owned())
            ]
        );
        // Names read well: letters first.
        assert_eq!(
            found(&mut rules, r"^flow\.(.+)\.engage$"),
            [
                (0, "flow.signin.engage".to_owned()),
                (1, "flow.a.engage".to_owned())
            ]
        );
        assert_eq!(
            found(&mut rules, r"^flow\.(-?[0-9]+)\.view$"),
            [(2, "flow.0.view".to_owned())]
        );
        assert_eq!(found(&mut rules, r"^screen\.([0-9]+)$"), []);
        // Asked for the first only, the walk stops at the shortest name mapped.
        let first = rules.first_rules(r"^flow\.(.+)\.engage$", true).unwrap();
        assert_eq!(first, BTreeMap::from([(1, b"flow.a.engage".to_vec())]));
        // Too large a family: an error, never a guess.
        assert!(rules.first_rules(r"^[ab]*a[ab]{20}$", false).is_err());
    }

    proptest! {
        // The rules that map a name of a small anchored family, and a name for each, agree with
        // matching every name: a family of at most three atoms has names of at most three
        // characters.
        #[test]
        fn rule_matcher_agrees_with_brute_force(
            family in prop::collection::vec(
                prop::sample::select(vec!["a", "b", "[ab]", "a?", "c?"]), 1..=3),
            rules in prop::collection::vec(rich_rule(), 1..=4),
        ) {
            let names = format!("^{}$", family.concat());
            let patterns: Vec<&str> = rules.iter().map(String::as_str).collect();
            let found = RuleMatcher::new(&patterns).unwrap().first_rules(&names, false).unwrap();
            let family_regex = regex::Regex::new(&names).unwrap();
            let set = regex::RegexSet::new(&rules).unwrap();
            let mut expected = BTreeSet::new();
            let mut strings = vec![String::new()];
            for _ in 0..3 {
                strings = strings
                    .iter()
                    .flat_map(|s| ["a", "b", "c"].map(|c| format!("{s}{c}")))
                    .chain(strings.iter().cloned())
                    .collect();
            }
            strings.sort();
            strings.dedup();
            for s in strings.iter().filter(|s| family_regex.is_match(s)) {
                if let Some(first) = set.matches(s).into_iter().next() {
                    expected.insert(first);
                }
            }
            prop_assert_eq!(found.keys().copied().collect::<BTreeSet<_>>(), expected);
            for (k, name) in &found {
                let name = std::str::from_utf8(name).unwrap();
                prop_assert!(family_regex.is_match(name), "{name}");
                prop_assert_eq!(set.matches(name).into_iter().next(), Some(*k), "{}", name);
            }
        }

        // No match of a small rule is longer than 3 characters and `c` matches no atom, so a
        // string that shows a rule winning can be cut to its match with a `c` on either side
        // (at most 5 characters), and one that shows two rules matching together to the two
        // matches (at most 6): strings up to 6 characters decide every fact exactly.
        #[test]
        fn agrees_with_brute_force(rules in prop::collection::vec(small_rule(), 1..=5)) {
            let patterns: Vec<&str> = rules.iter().map(String::as_str).collect();
            prop_assert_eq!(analyse(&patterns).unwrap(), brute_force(&rules, 6));
        }

        // Leaving the wrappers out changes nothing, whatever the pattern.
        #[test]
        fn trimming_changes_nothing(rules in prop::collection::vec(rich_rule(), 1..=5)) {
            let patterns: Vec<&str> = rules.iter().map(String::as_str).collect();
            let full: Vec<String> = rules.iter().map(|p| wrap(p, false)).collect();
            prop_assert_eq!(analyse(&patterns).unwrap(), walk(&full).unwrap());
        }
    }
}
