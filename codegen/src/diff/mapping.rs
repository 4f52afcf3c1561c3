//! Which incoming event names map differently through two versions of a service's Amplitude
//! mapping, decided on one automaton of both versions' rules.
//!
//! A name is resolved by a rewrite, an exact entry, the first rule that matches it, or nothing.
//! Exact names and rewritten names are finitely many: each is compared on its own.
//! Every other name falls in a class `(old rule or none, new rule or none)`, read from the
//! match set of its state in one automaton of the old rules, the new rules and a few restricted
//! copies of them.
//! Within a class, a name changes when exactly one of the two rules produces something for it
//! (a rule whose first target needs `table[capture]`, as a group or in `when`, produces nothing
//! for a capture missing from the table, as FxA's email rules), or when both do and:
//! - their targets differ beyond that gate, or
//! - its capture is a key of a table they read whose value changed (whose truthiness, for a
//!   table only tested in `when`), or
//! - the group properties of a prefix they produce changed.
//!
//! So a reordering of rules that never overlap changes no class.
//! The restrictions to a capture's keys replace the capture group of the pattern by the keys,
//! which is exact when two rules capture the same text from a name: the same pattern, or the
//! same literal skeleton `^lit(cap)lit...$` where no capture can hold the literal after it.
//! When two rules with other different patterns read their captures, and their first targets
//! do not differ in a fixed group or a capture-free event name, the capture of a name may make
//! them agree; every name either produces something for is then listed, with `exact: false`.
//! The property test `codegen/cli/tests/diff_mapping.rs` checks all of it against the runtime.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex_syntax::hir::{Hir, HirKind};
use serde_json::{Map, Value as Json};

use super::names::{Automaton, NameSet, Size};
use crate::example::Captures as Caps;
use crate::example::Evaluator;
use crate::model::{Amplitude, Capture, Cond, GroupExpr, Rule, Service, Target, Value};

/// What resolves a name in one version of the mapping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Definition {
    /// A rewrite of this exact name before matching.
    Rewrite(String),
    /// The exact entry of this name.
    Exact(String),
    /// The rule at this index.
    Rule(usize),
    /// Nothing: the name produces no amplitude event.
    None,
}

/// The names that one pair of definitions maps differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingChange {
    /// What resolved the names before.
    pub old: Definition,
    /// What resolves them now.
    pub new: Definition,
    /// The names whose output changes.
    pub names: NameSet,
    /// For each example name, its old and new amplitude `event_type`s (with an empty data bag).
    pub examples: Vec<NameExample>,
    /// Whether the set is exact; `false` when two rules with different patterns read their
    /// captures (see the module docs), and the set may hold names that map the same.
    pub exact: bool,
}

/// An example name and what it maps to before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameExample {
    /// The incoming event name.
    pub name: String,
    /// Its amplitude event types before.
    pub old: Vec<String>,
    /// Its amplitude event types now.
    pub new: Vec<String>,
}

/// The result of comparing two mappings.
#[derive(Debug)]
pub struct MappingDiff {
    /// The changes, exact and rewritten names first (by name), then rule classes.
    pub changes: Vec<MappingChange>,
    /// Whether the layout (the shape of every event) changed.
    pub layout_changed: bool,
    /// Decides membership of single names, for tests and `live-check`.
    pub oracle: Oracle,
}

/// The analysis could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge(pub String);

/// A serialized form of targets and group properties where table ids are table names, so two
/// versions compare by meaning.
fn normalize<T: serde::Serialize>(value: &T, amplitude: &Amplitude, contents: bool) -> Json {
    fn walk(v: &mut Json, amplitude: &Amplitude, contents: bool) {
        match v {
            Json::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key == "table"
                        && let Some(id) = value.as_u64()
                    {
                        let table = usize::try_from(id)
                            .ok()
                            .and_then(|i| amplitude.tables.get(i));
                        *value = match table {
                            Some(t) if contents => serde_json::json!([t.name, t.entries]),
                            Some(t) => Json::String(t.name.clone()),
                            None => Json::Null,
                        };
                    } else {
                        walk(value, amplitude, contents);
                    }
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|i| walk(i, amplitude, contents)),
            _ => {}
        }
    }
    let mut json = serde_json::to_value(value).unwrap_or(Json::Null);
    walk(&mut json, amplitude, contents);
    json
}

/// The `(capture, table)` pairs that targets look up captures in, and whether they look up
/// data values in tables or read captures at all.
#[derive(Debug, Default)]
struct Reads {
    /// Lookups whose value is used (a group, a property).
    lookups: BTreeSet<(CaptureKey, String)>,
    /// Lookups only tested for truthiness (conditions).
    tested: BTreeSet<(CaptureKey, String)>,
    data_tables: BTreeSet<String>,
    captures: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum CaptureKey {
    Category,
    Target,
}

impl From<Capture> for CaptureKey {
    fn from(c: Capture) -> Self {
        match c {
            Capture::Category => CaptureKey::Category,
            Capture::Target => CaptureKey::Target,
        }
    }
}

fn reads_value(v: &Value, amplitude: &Amplitude, reads: &mut Reads) {
    reads_value_as(v, amplitude, reads, false);
}

fn reads_value_as(v: &Value, amplitude: &Amplitude, reads: &mut Reads, tested: bool) {
    let name = |t: usize| amplitude.tables.get(t).map(|t| t.name.clone());
    match v {
        Value::Capture(_) => reads.captures = true,
        Value::Lookup { table, key } => {
            reads.captures = true;
            if let Some(n) = name(table.0) {
                if tested {
                    reads.tested.insert(((*key).into(), n));
                } else {
                    reads.lookups.insert(((*key).into(), n));
                }
            }
        }
        Value::LookupData { table, .. } => {
            if let Some(n) = name(table.0) {
                reads.data_tables.insert(n);
            }
        }
        Value::Literal(_) | Value::Data(_) => {}
    }
}

fn reads_conds(conds: &[Cond], amplitude: &Amplitude, reads: &mut Reads) {
    for c in conds {
        if let Cond::Truthy(v) = c {
            reads_value_as(v, amplitude, reads, true);
        }
    }
}

/// What a list of targets reads, with the group properties of every prefix it may produce.
fn reads(targets: &[Target], amplitude: &Amplitude) -> Reads {
    let mut reads = Reads::default();
    for t in targets {
        match &t.group {
            GroupExpr::Fixed(_) => {}
            GroupExpr::Lookup { table, key } => {
                reads.captures = true;
                if let Some(tb) = amplitude.tables.get(table.0) {
                    reads.lookups.insert(((*key).into(), tb.name.clone()));
                }
            }
        }
        if t.event
            .iter()
            .any(|p| matches!(p, crate::model::Part::Capture(_)))
        {
            reads.captures = true;
        }
        reads_conds(&t.when, amplitude, &mut reads);
    }
    for prefix in prefixes(targets, amplitude) {
        for g in amplitude.groups.values().filter(|g| g.prefix == prefix) {
            if let Some(props) = &g.event_properties {
                reads_conds(&props.when, amplitude, &mut reads);
                for p in &props.set {
                    reads_value(&p.value, amplitude, &mut reads);
                    reads_conds(&p.when, amplitude, &mut reads);
                }
            }
        }
    }
    reads
}

/// Every group prefix that targets may produce.
fn prefixes(targets: &[Target], amplitude: &Amplitude) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for t in targets {
        match &t.group {
            GroupExpr::Fixed(p) => {
                out.insert(p.clone());
            }
            GroupExpr::Lookup { table, .. } => {
                if let Some(tb) = amplitude.tables.get(table.0) {
                    out.extend(tb.entries.iter().map(|(_, v)| v.clone()));
                }
            }
        }
    }
    out
}

/// The group properties by prefix, normalized.
fn group_properties(amplitude: &Amplitude) -> BTreeMap<String, Json> {
    amplitude
        .groups
        .values()
        .map(|g| {
            let props = g.event_properties.as_ref().map(|p| {
                serde_json::json!([
                    normalize(&p.when, amplitude, false),
                    normalize(&p.set, amplitude, false)
                ])
            });
            (g.prefix.clone(), props.unwrap_or(Json::Null))
        })
        .collect()
}

/// The `(capture, table)` a rule's first target needs a truthy value of: without it the rule
/// produces nothing (the transform stops at a dropped first target).
fn gate(rule: &Rule, amplitude: &Amplitude) -> Option<(CaptureKey, String)> {
    let first = rule.targets.first()?;
    let table_name = |t: usize| amplitude.tables.get(t).map(|t| t.name.clone());
    if let GroupExpr::Lookup { table, key } = &first.group {
        return Some(((*key).into(), table_name(table.0)?));
    }
    first.when.iter().find_map(|c| match c {
        Cond::Truthy(Value::Lookup { table, key }) => Some(((*key).into(), table_name(table.0)?)),
        _ => None,
    })
}

fn table<'a>(amplitude: &'a Amplitude, name: &str) -> Option<&'a crate::model::Table> {
    amplitude.tables.iter().find(|t| t.name == name)
}

/// Whether two rules' outputs differ for every name both produce something for, whatever the
/// captures: their first targets have different fixed groups or different capture-free event
/// names.
fn always_differ(a: &Rule, b: &Rule) -> bool {
    let (Some(x), Some(y)) = (a.targets.first(), b.targets.first()) else {
        return false;
    };
    let text = |t: &Target| -> Option<String> {
        t.event
            .iter()
            .map(|p| match p {
                crate::model::Part::Text(s) => Some(s.as_str()),
                crate::model::Part::Capture(_) | crate::model::Part::SnakeCapture(_) => None,
            })
            .collect()
    };
    let groups_differ =
        matches!((&x.group, &y.group), (GroupExpr::Fixed(p), GroupExpr::Fixed(q)) if p != q);
    let events_differ = matches!((text(x), text(y)), (Some(e), Some(f)) if e != f);
    groups_differ || events_differ
}

/// A rule's targets without its gate's condition on the first target.
fn ungated(rule: &Rule, amplitude: &Amplitude) -> Vec<Target> {
    let mut targets = rule.targets.clone();
    let table_name = |t: usize| amplitude.tables.get(t).map(|t| t.name.clone());
    if let (Some(g), Some(first)) = (gate(rule, amplitude), targets.first_mut()) {
        first.when.retain(|c| match c {
            Cond::Truthy(Value::Lookup { table, key }) => {
                table_name(table.0).map(|t| (CaptureKey::from(*key), t)) != Some(g.clone())
            }
            _ => true,
        });
    }
    targets
}

/// Keys whose truthiness differs between two versions of a table (a missing key is falsy).
fn changed_truthiness(old: &Amplitude, new: &Amplitude, name: &str) -> Option<BTreeSet<String>> {
    let (a, b) = (table(old, name)?, table(new, name)?);
    let truthy = |t: &crate::model::Table| -> BTreeSet<String> {
        t.entries
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    };
    let (a, b) = (truthy(a), truthy(b));
    Some(a.symmetric_difference(&b).cloned().collect())
}

/// Keys whose value differs between two versions of a table (present in one only included).
fn changed_keys(old: &Amplitude, new: &Amplitude, name: &str) -> Option<BTreeSet<String>> {
    let (a, b) = (table(old, name)?, table(new, name)?);
    let a: BTreeMap<&str, &str> = a
        .entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let b: BTreeMap<&str, &str> = b
        .entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    Some(
        a.keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| (*k).to_owned())
            .collect(),
    )
}

/// `pattern` with capture group `index` (1-based) replaced by an alternation of the `keys` that
/// the group itself matches whole; `None` when no key does (the restriction is empty) or the
/// pattern does not parse.
fn restrict(
    pattern: &str,
    index: u32,
    keys: &KeySet,
    cache: &mut HashMap<(String, usize), Hir>,
) -> Option<Hir> {
    let hir = super::names::parse(pattern).ok()?;
    let mut found = None;
    let replaced = replace_capture(&hir, index, keys, &mut found, cache);
    found?;
    Some(replaced)
}

/// A set of table keys with an id, so the alternation of the keys a capture group can hold
/// is built once per group and set (rules share their groups and tables).
struct KeySet {
    id: usize,
    keys: BTreeSet<String>,
}

fn replace_capture(
    hir: &Hir,
    index: u32,
    keys: &KeySet,
    found: &mut Option<()>,
    cache: &mut HashMap<(String, usize), Hir>,
) -> Hir {
    let mut recurse = |h: &Hir| replace_capture(h, index, keys, found, cache);
    match hir.kind() {
        HirKind::Capture(cap) if cap.index == index => {
            let sub = cache
                .entry((cap.sub.to_string(), keys.id))
                .or_insert_with(|| {
                    let whole = regex::Regex::new(&format!("^(?:{})$", cap.sub)).ok();
                    let keys: Vec<Hir> = keys
                        .keys
                        .iter()
                        .filter(|k| whole.as_ref().is_some_and(|w| w.is_match(k)))
                        .map(|k| Hir::literal(k.as_bytes()))
                        .collect();
                    if keys.is_empty() {
                        Hir::fail()
                    } else {
                        Hir::alternation(keys)
                    }
                })
                .clone();
            if !matches!(sub.kind(), HirKind::Class(c) if c.is_empty()) {
                *found = Some(());
            }
            Hir::capture(regex_syntax::hir::Capture {
                index: cap.index,
                name: cap.name.clone(),
                sub: Box::new(sub),
            })
        }
        HirKind::Capture(cap) => Hir::capture(regex_syntax::hir::Capture {
            index: cap.index,
            name: cap.name.clone(),
            sub: Box::new(recurse(&cap.sub)),
        }),
        HirKind::Concat(items) => Hir::concat(items.iter().map(recurse).collect()),
        HirKind::Alternation(items) => Hir::alternation(items.iter().map(recurse).collect()),
        HirKind::Repetition(rep) => Hir::repetition(regex_syntax::hir::Repetition {
            min: rep.min,
            max: rep.max,
            greedy: rep.greedy,
            sub: Box::new(recurse(&rep.sub)),
        }),
        _ => hir.clone(),
    }
}

/// The skeleton of `^lit(cap)lit(cap)...lit$`: the literal texts between the capture groups,
/// when every capture ends where the next literal starts (no capture can hold the first byte
/// of the literal after it), so the captures of a name are determined by the literals alone.
fn skeleton(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::Look;
    let hir = regex_syntax::parse(pattern).ok()?;
    let HirKind::Concat(items) = hir.kind() else {
        return None;
    };
    let (first, last) = (items.first()?, items.last()?);
    if *first.kind() != HirKind::Look(Look::Start) || *last.kind() != HirKind::Look(Look::End) {
        return None;
    }
    let mut literals: Vec<Vec<u8>> = vec![Vec::new()];
    let mut captures: Vec<[bool; 256]> = Vec::new();
    for h in &items[1..items.len() - 1] {
        match h.kind() {
            HirKind::Literal(l) => literals.last_mut()?.extend_from_slice(&l.0),
            HirKind::Capture(c) if c.sub.properties().explicit_captures_len() == 0 => {
                captures.push(bytes_of(&c.sub)?);
                literals.push(Vec::new());
            }
            _ => return None,
        }
    }
    // Each capture must stop at the literal after it, which must not be empty, except for a
    // last capture, which ends at the end of the name.
    for (i, bytes) in captures.iter().enumerate() {
        let next = literals.get(i + 1)?;
        match next.first() {
            None if i + 2 == literals.len() => {}
            None => return None,
            Some(&b) if bytes[usize::from(b)] => return None,
            Some(_) => {}
        }
    }
    Some(literals)
}

/// The bytes a pattern may match anywhere; `None` for what is not read here.
fn bytes_of(hir: &Hir) -> Option<[bool; 256]> {
    use regex_syntax::hir::Class;
    let mut out = [false; 256];
    let mut stack = vec![hir];
    while let Some(h) = stack.pop() {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(l) => l.0.iter().for_each(|&b| out[usize::from(b)] = true),
            HirKind::Class(Class::Bytes(c)) => {
                for r in c.ranges() {
                    (r.start()..=r.end()).for_each(|b| out[usize::from(b)] = true);
                }
            }
            HirKind::Class(Class::Unicode(c)) => {
                for r in c.ranges() {
                    let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                    if hi >= 0x80 {
                        out[0x80..].iter_mut().for_each(|b| *b = true);
                    }
                    for b in lo.min(0x80)..hi.min(0x7f) + 1 {
                        if b < 0x80 {
                            out[b as usize] = true;
                        }
                    }
                }
            }
            HirKind::Repetition(r) => stack.push(&r.sub),
            HirKind::Capture(c) => stack.push(&c.sub),
            HirKind::Concat(items) | HirKind::Alternation(items) => stack.extend(items),
        }
    }
    Some(out)
}

/// Whether two patterns capture the same text from every name both match: both have the same
/// [`skeleton`].
fn same_captures(a: &str, b: &str) -> bool {
    matches!((skeleton(a), skeleton(b)), (Some(x), Some(y)) if x == y)
}

/// The capture group number of a capture, given the rule's number of groups (`target` exists
/// only with exactly two).
fn group_index(key: CaptureKey, captures: usize) -> Option<u32> {
    match key {
        CaptureKey::Category if captures >= 1 => Some(1),
        CaptureKey::Target if captures == 2 => Some(2),
        _ => None,
    }
}

/// Whether a rule produces anything for a name: always (no gate), never (no key of its gate's
/// table fits its capture), or when the name matches a restricted pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Always,
    Never,
    Matching(usize),
}

impl Gate {
    fn of(productive: &Option<Option<usize>>) -> Gate {
        match productive {
            None => Gate::Always,
            Some(None) => Gate::Never,
            Some(Some(id)) => Gate::Matching(*id),
        }
    }

    fn holds(self, matches: &[usize]) -> bool {
        match self {
            Gate::Always => true,
            Gate::Never => false,
            Gate::Matching(id) => matches.contains(&id),
        }
    }
}

/// How the names of one class change: a name changes when exactly one side produces something
/// for it, or when both do and its capture is a changed key (`keyed`; `None`: every name).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Verdict {
    old: Gate,
    new: Gate,
    keyed: Option<Vec<usize>>,
}

impl Verdict {
    const SAME: Verdict = Verdict {
        old: Gate::Always,
        new: Gate::Always,
        keyed: Some(Vec::new()),
    };
    const ALL: Verdict = Verdict {
        old: Gate::Always,
        new: Gate::Always,
        keyed: None,
    };

    fn changes(&self, matches: &[usize]) -> bool {
        let (a, b) = (self.old.holds(matches), self.new.holds(matches));
        a != b
            || (a
                && b
                && self
                    .keyed
                    .as_ref()
                    .is_none_or(|ids| ids.iter().any(|id| matches.contains(id))))
    }
}

/// Decides single names: which class and whether it changes.
#[derive(Debug)]
pub struct Oracle {
    automaton: Automaton,
    old_rules: usize,
    new_rules: usize,
    verdicts: HashMap<(Option<usize>, Option<usize>), (Verdict, bool)>,
    finite: BTreeMap<String, bool>,
}

impl Oracle {
    /// The old and new rule of a name that is neither exact nor rewritten.
    fn class(&self, matches: &[usize]) -> (Option<usize>, Option<usize>) {
        let old = matches.iter().copied().find(|&i| i < self.old_rules);
        let new = matches
            .iter()
            .copied()
            .find(|&i| i >= self.old_rules && i < self.old_rules + self.new_rules)
            .map(|i| i - self.old_rules);
        (old, new)
    }

    fn changes(&self, matches: &[usize]) -> bool {
        let class = self.class(matches);
        self.verdicts
            .get(&class)
            .is_some_and(|(v, _)| v.changes(matches))
    }

    /// Whether [`Oracle::affected`] is exact for `name`: `false` only for a name that two rules
    /// with different patterns map, both reading their captures; then it says "affected"
    /// whether or not the captures differ.
    pub fn exact(&self, name: &str) -> bool {
        if self.finite.contains_key(name) {
            return true;
        }
        let class = self.class(self.automaton.matches_of(name));
        self.verdicts.get(&class).is_none_or(|(_, exact)| *exact)
    }

    /// Whether `name`'s amplitude output changes between the two versions (the layout aside).
    pub fn affected(&self, name: &str) -> bool {
        match self.finite.get(name) {
            Some(&changed) => changed,
            None => self.changes(self.automaton.matches_of(name)),
        }
    }
}

/// A value of a target for a known name: known (present or absent) or read from the data bag.
enum Known {
    Value(Option<String>),
    Data(Json),
}

fn lookup(amplitude: &Amplitude, table: usize, key: &str) -> Option<String> {
    let t = amplitude.tables.get(table)?;
    t.entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn known(v: &Value, amplitude: &Amplitude, caps: Caps<'_>) -> Known {
    match v {
        Value::Literal(t) => Known::Value(Some(t.clone())),
        Value::Capture(c) => Known::Value(caps.get(*c).map(str::to_owned)),
        Value::Lookup { table, key } => {
            Known::Value(caps.get(*key).and_then(|k| lookup(amplitude, table.0, k)))
        }
        Value::Data(_) | Value::LookupData { .. } => Known::Data(normalize(v, amplitude, true)),
    }
}

/// Conditions for a known name: `None` when one fails; else the data-dependent ones.
fn conditions(
    conds: &[Cond],
    amplitude: &Amplitude,
    caps: Caps<'_>,
    event: &str,
) -> Option<Vec<Json>> {
    let mut left = Vec::new();
    for c in conds {
        match c {
            Cond::EventIs(e) if e != event => return None,
            Cond::EventIs(_) => {}
            Cond::Truthy(v) => match known(v, amplitude, caps) {
                Known::Value(Some(s)) if !s.is_empty() => {}
                Known::Value(_) => return None,
                Known::Data(d) => left.push(d),
            },
        }
    }
    Some(left)
}

/// What the targets produce for a name with captures `caps`: every target that can produce an
/// event, with its prefix, event name, data-dependent conditions, time offset and the group's
/// event properties, all evaluated as far as the name decides them.
fn instantiate(targets: &[Target], amplitude: &Amplitude, caps: Caps<'_>) -> Json {
    let mut out = Vec::new();
    for (k, t) in targets.iter().enumerate() {
        let mut event = String::new();
        for part in &t.event {
            match part {
                crate::model::Part::Text(s) => event.push_str(s),
                crate::model::Part::Capture(c) => {
                    event.push_str(caps.get(*c).unwrap_or("undefined"))
                }
                crate::model::Part::SnakeCapture(c) => match caps.get(*c) {
                    Some(text) => metricsmith_spec::snake_case_into(text, &mut event),
                    None => event.push_str("undefined"),
                },
            }
        }
        let group = match &t.group {
            GroupExpr::Fixed(p) => Some(p.clone()),
            GroupExpr::Lookup { table, key } => {
                caps.get(*key).and_then(|c| lookup(amplitude, table.0, c))
            }
        };
        let when = conditions(&t.when, amplitude, caps, &event);
        let (Some(group), Some(when)) = (group.filter(|g| !g.is_empty()), when) else {
            // The transform stops at a dropped first target.
            if k == 0 {
                break;
            }
            continue;
        };
        if event.is_empty() {
            if k == 0 {
                break;
            }
            continue;
        }
        let props = amplitude
            .groups
            .values()
            .filter(|g| g.prefix == group)
            .filter_map(|g| g.event_properties.as_ref())
            .map(|p| {
                let Some(when) = conditions(&p.when, amplitude, caps, &event) else {
                    return Json::Null;
                };
                let set: Vec<Json> = p
                    .set
                    .iter()
                    .filter_map(|r| {
                        let when = conditions(&r.when, amplitude, caps, &event)?;
                        let value = match known(&r.value, amplitude, caps) {
                            Known::Value(v) => serde_json::json!({"value": v?}),
                            Known::Data(d) => d,
                        };
                        Some(serde_json::json!([r.name, value, when]))
                    })
                    .collect();
                serde_json::json!([when, set])
            })
            .collect::<Vec<_>>();
        out.push(serde_json::json!({
            "group": group,
            "event": event,
            "when": when,
            "time_offset": t.time_offset,
            "properties": props,
        }));
    }
    Json::Array(out)
}

/// The concrete form of what a name resolves to, for comparing exact and rewritten names.
fn concrete(amplitude: &Amplitude, evaluator: &Evaluator<'_>, name: &str) -> Json {
    if let Some(r) = amplitude.policy.rewrites.iter().find(|r| r.event == name) {
        return serde_json::json!({"rewrite": r.to});
    }
    if let Some(t) = amplitude.exact.get(name) {
        return instantiate(t, amplitude, Caps::default());
    }
    let Some(i) = evaluator.first_rule(name) else {
        return Json::Array(Vec::new());
    };
    let caps = Caps::of(amplitude.compiled.regex(i), name);
    instantiate(&amplitude.rules[i].targets, amplitude, caps)
}

/// Compares the mappings of two versions of a service.
///
/// # Errors
/// [`TooLarge`] when the automaton of both versions' rules exceeds its size limit.
pub fn diff(old: &Service, new: &Service) -> Result<MappingDiff, TooLarge> {
    let (a, b) = (&old.amplitude, &new.amplitude);
    let (ea, eb) = (Evaluator::new(a), Evaluator::new(b));
    let empty = Map::new();
    let types = |e: &Evaluator<'_>, name: &str| e.evaluate(name, &empty).event_types;

    // Exact and rewritten names, one by one.
    let mut finite_names: BTreeSet<&str> = BTreeSet::new();
    finite_names.extend(a.exact.keys().map(String::as_str));
    finite_names.extend(b.exact.keys().map(String::as_str));
    finite_names.extend(a.policy.rewrites.iter().map(|r| r.event.as_str()));
    finite_names.extend(b.policy.rewrites.iter().map(|r| r.event.as_str()));
    let definition = |amp: &Amplitude, e: &Evaluator<'_>, name: &str| {
        if amp.policy.rewrites.iter().any(|r| r.event == name) {
            Definition::Rewrite(name.to_owned())
        } else if amp.exact.contains_key(name) {
            Definition::Exact(name.to_owned())
        } else if let Some(i) = e.first_rule(name) {
            Definition::Rule(i)
        } else {
            Definition::None
        }
    };
    let mut changes = Vec::new();
    let mut finite = BTreeMap::new();
    for &name in &finite_names {
        let changed = concrete(a, &ea, name) != concrete(b, &eb, name);
        finite.insert(name.to_owned(), changed);
        if changed {
            changes.push(MappingChange {
                old: definition(a, &ea, name),
                new: definition(b, &eb, name),
                names: NameSet {
                    size: Size::Finite(1),
                    examples: vec![name.to_owned()],
                },
                examples: vec![NameExample {
                    name: name.to_owned(),
                    old: types(&ea, name),
                    new: types(&eb, name),
                }],
                exact: true,
            });
        }
    }

    // The automaton: old rules, new rules, then restricted copies.
    let (m, n) = (a.rules.len(), b.rules.len());
    let mut patterns: Vec<Hir> = Vec::new();
    for r in a.rules.iter().chain(&b.rules) {
        patterns.push(super::names::parse(&r.rust_pattern).map_err(|e| TooLarge(e.0))?);
    }
    let add = |p: Option<Hir>, patterns: &mut Vec<Hir>| {
        p.map(|p| {
            patterns.push(p);
            patterns.len() - 1
        })
    };
    // A rule restricted to a key set, once: (pattern, group, key set) -> pattern id.
    let mut restricted: HashMap<(String, u32, usize), Option<usize>> = HashMap::new();
    let mut restrict_once = |pattern: &str,
                             index: u32,
                             keys: &KeySet,
                             cache: &mut HashMap<(String, usize), Hir>,
                             patterns: &mut Vec<Hir>| {
        *restricted
            .entry((pattern.to_owned(), index, keys.id))
            .or_insert_with(|| add(restrict(pattern, index, keys, cache), patterns))
    };
    // Key sets by (kind, table), each computed once.
    // Equal sets share an id, so that a rule restricted to them is one pattern whether it
    // comes from the old or the new version.
    let mut sets: HashMap<(u8, String), Option<std::rc::Rc<KeySet>>> = HashMap::new();
    let mut ids: HashMap<BTreeSet<String>, usize> = HashMap::new();
    let mut key_set = |kind: u8, name: &str| -> Option<std::rc::Rc<KeySet>> {
        sets.entry((kind, name.to_owned()))
            .or_insert_with(|| {
                let keys = match kind {
                    0 | 1 => {
                        let amp = if kind == 0 { a } else { b };
                        Some(
                            table(amp, name)
                                .map(|t| {
                                    t.entries
                                        .iter()
                                        .filter(|(_, v)| !v.is_empty())
                                        .map(|(k, _)| k.clone())
                                        .collect()
                                })
                                .unwrap_or_default(),
                        )
                    }
                    2 => changed_keys(a, b, name),
                    _ => changed_truthiness(a, b, name),
                };
                keys.map(|keys| {
                    let next = ids.len();
                    let id = *ids.entry(keys.clone()).or_insert(next);
                    std::rc::Rc::new(KeySet { id, keys })
                })
            })
            .clone()
    };
    let mut cache: HashMap<(String, usize), Hir> = HashMap::new();
    // Per rule of a side (0 old, 1 new): the names it may produce an event for, when it has a
    // gate (`None`: all).
    let mut productive = |side: u8, amplitude: &Amplitude| -> Vec<Option<Option<usize>>> {
        amplitude
            .rules
            .iter()
            .map(|rule| {
                gate(rule, amplitude).and_then(|(c, t)| {
                    let index = group_index(c, rule.captures)?;
                    let keys = key_set(side, &t)?;
                    Some(restrict_once(
                        &rule.rust_pattern,
                        index,
                        &keys,
                        &mut cache,
                        &mut patterns,
                    ))
                })
            })
            .collect()
    };
    let productive_old = productive(0, a);
    let productive_new = productive(1, b);
    // Per old rule: the names whose capture is a changed key of a table it looks it up in
    // (`None` when a table it reads was added, removed or is read by a data value that
    // changed: then every name).
    let mut keyed_old: Vec<Option<Vec<usize>>> = Vec::new();
    for rule in &a.rules {
        // The gate is decided by the gates of both sides; what else the rule reads, here.
        let reads = reads(&ungated(rule, a), a);
        let mut ids = Vec::new();
        let mut all = false;
        for t in &reads.data_tables {
            if key_set(2, t).is_none_or(|k| !k.keys.is_empty()) {
                all = true;
            }
        }
        let tested_only: Vec<_> = reads
            .tested
            .iter()
            .filter(|l| !reads.lookups.contains(*l))
            .map(|(c, t)| (c, key_set(3, t)))
            .collect();
        let used: Vec<_> = reads
            .lookups
            .iter()
            .map(|(c, t)| (c, key_set(2, t)))
            .collect();
        for (c, keys) in used.into_iter().chain(tested_only) {
            match (keys, group_index(*c, rule.captures)) {
                (None, _) => all = true,
                (Some(keys), _) if keys.keys.is_empty() => {}
                (Some(keys), Some(index)) => {
                    ids.extend(restrict_once(
                        &rule.rust_pattern,
                        index,
                        &keys,
                        &mut cache,
                        &mut patterns,
                    ));
                }
                // A capture the rule does not have reads as absent: no key applies.
                (Some(_), None) => {}
            }
        }
        keyed_old.push((!all).then_some(ids));
    }

    let automaton = Automaton::from_hirs(&patterns).map_err(|e| TooLarge(e.0))?;

    let groups_a = group_properties(a);
    let groups_b = group_properties(b);
    let verdict = |i: Option<usize>, j: Option<usize>| -> (Verdict, bool) {
        let never = Gate::Never;
        match (i, j) {
            (None, None) => (Verdict::SAME, true),
            (Some(i), None) => (
                Verdict {
                    old: Gate::of(&productive_old[i]),
                    new: never,
                    keyed: Some(Vec::new()),
                },
                true,
            ),
            (None, Some(j)) => (
                Verdict {
                    old: never,
                    new: Gate::of(&productive_new[j]),
                    keyed: Some(Vec::new()),
                },
                true,
            ),
            (Some(i), Some(j)) => {
                let (ra, rb) = (&a.rules[i], &b.rules[j]);
                let (reads_a, reads_b) = (reads(&ra.targets, a), reads(&rb.targets, b));
                let same_pattern = ra.rust_pattern == rb.rust_pattern
                    || same_captures(&ra.rust_pattern, &rb.rust_pattern);
                let captures_read = reads_a.captures || reads_b.captures;
                let groups_same = {
                    let pa = prefixes(&ra.targets, a);
                    let pb = prefixes(&rb.targets, b);
                    pa.iter()
                        .chain(&pb)
                        .all(|p| groups_a.get(p) == groups_b.get(p))
                };
                if !captures_read {
                    // The output does not depend on the name: compare the tables' contents.
                    let same = normalize(&ra.targets, a, true) == normalize(&rb.targets, b, true)
                        && groups_same;
                    return (if same { Verdict::SAME } else { Verdict::ALL }, true);
                }
                // The gates decide whether anything is produced; beyond them the targets must
                // agree.
                let targets_same = normalize(&ungated(ra, a), a, false)
                    == normalize(&ungated(rb, b), b, false)
                    && ra.captures == rb.captures
                    && groups_same;
                let gates = (Gate::of(&productive_old[i]), Gate::of(&productive_new[j]));
                if same_pattern && targets_same {
                    return (
                        Verdict {
                            old: gates.0,
                            new: gates.1,
                            keyed: keyed_old[i].clone(),
                        },
                        true,
                    );
                }
                (
                    Verdict {
                        old: gates.0,
                        new: gates.1,
                        keyed: None,
                    },
                    same_pattern || always_differ(ra, rb),
                )
            }
        }
    };

    // Every class that occurs, with its verdict, and the states of its changed names.
    let mut verdicts: HashMap<(Option<usize>, Option<usize>), (Verdict, bool)> = HashMap::new();
    let mut classes: BTreeMap<(Option<usize>, Option<usize>), Vec<usize>> = BTreeMap::new();
    let mut oracle = Oracle {
        automaton,
        old_rules: m,
        new_rules: n,
        verdicts: HashMap::new(),
        finite,
    };
    for state in 0..oracle.automaton.states() {
        let matches = oracle.automaton.matches(state);
        let class = oracle.class(matches);
        if class == (None, None) {
            continue;
        }
        let (v, exact) = verdicts
            .entry(class)
            .or_insert_with(|| verdict(class.0, class.1))
            .clone();
        oracle.verdicts.insert(class, (v, exact));
        if oracle.changes(matches) {
            classes.entry(class).or_default().push(state);
        }
    }
    let excluded: Vec<&str> = finite_names.iter().copied().collect();
    for ((i, j), states) in classes {
        let mut accept = vec![false; oracle.automaton.states()];
        for s in states {
            accept[s] = true;
        }
        let names = oracle.automaton.language(&accept, &excluded);
        if names.size == Size::Finite(0) {
            continue;
        }
        let examples = names
            .examples
            .iter()
            .map(|name| NameExample {
                name: name.clone(),
                old: types(&ea, name),
                new: types(&eb, name),
            })
            .collect();
        let exact = oracle.verdicts.get(&(i, j)).is_none_or(|v| v.1);
        changes.push(MappingChange {
            old: i.map_or(Definition::None, Definition::Rule),
            new: j.map_or(Definition::None, Definition::Rule),
            names,
            examples,
            exact,
        });
    }
    Ok(MappingDiff {
        changes,
        layout_changed: a.layout != b.layout,
        oracle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_decide_when_captures_agree() {
        let cases = [
            (r"^a\.(\w+)\.view$", r"^a\.([a-z]+)\.view$", true),
            (
                r"^a\.(obj[0-9]{5})\.(view|fail)$",
                r"^a\.(obj[0-9]{4}1)\.(view)$",
                true,
            ),
            (r"^a\.(\w+)\.view$", r"^a\.(\w+)\.views$", false),
            // `.` may be captured: the capture of `a.b.c.view` is ambiguous in form.
            (r"^a\.(.+)\.view$", r"^a\.(.+)\.view$", false),
            (r"^a\.(\w+)", r"^a\.(\w+)", false),
            (r"^(\w+)\.submit$", r"^(\w+)\.submit$", true),
        ];
        for (a, b, same) in cases {
            assert_eq!(same_captures(a, b), same, "{a} {b}");
        }
    }
}
