//! What the generator can know statically: example values derived from types, example names
//! for rules, and the amplitude `event_type`s that a name and a data bag produce.
//!
//! The evaluator follows the runtime transform (`metricsmith::amplitude::Mapping::transform`)
//! for everything that decides `event_type`: rewrites, exact names, the first matching rule,
//! captures, conditions, table lookups and dropping.
//! Lowering runs it once per event, family and rule (`lower::facts`); generated tests then
//! check the runtime against what it found.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Value as Json};

use crate::model::{
    Amplitude, Capture, Cond, GroupExpr, MappedBy, Part, PropertyType, RewritePart, Target,
    TemplatePart, Value,
};
pub use crate::model::{Outcome, Resolved};

/// A service's mapping with its rules compiled, for static evaluation.
#[derive(Debug)]
pub struct Evaluator<'a> {
    amplitude: &'a Amplitude,
}

/// The captures of a name, as the transform assigns them (the diff reads them too).
#[derive(Clone, Copy, Default)]
pub(crate) struct Captures<'n> {
    category: Option<&'n str>,
    target: Option<&'n str>,
}

impl<'n> Captures<'n> {
    /// FxA's convention: with one group it is the category; with two, the category and the
    /// target; none when the rule's regex does not match.
    pub(crate) fn of(regex: Option<&regex::Regex>, name: &'n str) -> Self {
        regex
            .and_then(|r| r.captures(name))
            .map(|c| {
                let len = c.len();
                Captures {
                    category: if len >= 2 {
                        c.get(1).map(|m| m.as_str())
                    } else {
                        None
                    },
                    target: if len == 3 {
                        c.get(2).map(|m| m.as_str())
                    } else {
                        None
                    },
                }
            })
            .unwrap_or_default()
    }

    pub(crate) fn get(self, c: Capture) -> Option<&'n str> {
        match c {
            Capture::Category => self.category,
            Capture::Target => self.target,
        }
    }
}

/// JavaScript truthiness.
fn truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Json::String(s) => !s.is_empty(),
        Json::Array(_) | Json::Object(_) => true,
    }
}

/// JavaScript `String()` of a data value, as rewrites and lookups convert keys.
fn js_string(v: Option<&Json>) -> String {
    match v {
        None => "undefined".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) => "null".to_owned(),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| match i {
                Json::Null => String::new(),
                other => js_string(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(Json::Object(_)) => "[object Object]".to_owned(),
        Some(other) => other.to_string(),
    }
}

impl<'a> Evaluator<'a> {
    /// An evaluator of `amplitude`, whose rules lowering compiled.
    pub fn new(amplitude: &'a Amplitude) -> Self {
        Self { amplitude }
    }

    /// Whether rule `index` matches `name`.
    pub fn rule_matches(&self, index: usize, name: &str) -> bool {
        self.amplitude.compiled.matches(index, name)
    }

    /// The indices of every rule that matches `name`, in order, ignoring exact names.
    ///
    /// The first-match search finds the first; only a name that some rule matches is tried
    /// against the later rules one by one (most names match one rule or none, and a set of
    /// every rule cost a fifth of the docs to build).
    pub fn matching_rules(&self, name: &str) -> Vec<usize> {
        let Some(first) = self.first_rule(name) else {
            return Vec::new();
        };
        std::iter::once(first)
            .chain((first + 1..self.amplitude.rules.len()).filter(|&i| self.rule_matches(i, name)))
            .collect()
    }

    /// The first rule that matches `name`, ignoring exact names.
    pub fn first_rule(&self, name: &str) -> Option<usize> {
        self.amplitude.compiled.first(name)
    }

    /// What `name` with `data` produces.
    pub fn evaluate(&self, name: &str, data: &Map<String, Json>) -> Outcome {
        self.evaluate_mapped(name, None, data)
    }

    /// [`evaluate`](Self::evaluate), given what lowering found maps `name` (an event's
    /// [`Event::amplitude`](crate::model::Event::amplitude)): then the rules need not be
    /// searched again.
    /// Lowering decides it only for names no rewrite applies to.
    pub fn evaluate_mapped(
        &self,
        name: &str,
        mapped: Option<MappedBy>,
        data: &Map<String, Json>,
    ) -> Outcome {
        let mut name = name.to_owned();
        if let Some(rewrite) = self
            .amplitude
            .policy
            .rewrites
            .iter()
            .find(|r| r.event == name)
        {
            name = rewrite
                .to
                .iter()
                .map(|p| match p {
                    RewritePart::Text(t) => t.clone(),
                    RewritePart::Data(k) => js_string(data.get(k)),
                })
                .collect();
        }
        let (resolved, targets, captures) = if let Some(t) = self.amplitude.exact.get(&name) {
            (Resolved::Exact, t.as_slice(), Captures::default())
        } else if let Some(i) = match mapped {
            Some(MappedBy::Rule(i)) => Some(i),
            Some(MappedBy::Exact | MappedBy::Unmapped | MappedBy::Excluded) => None,
            None => self.first_rule(&name),
        } {
            let captures = Captures::of(self.amplitude.compiled.regex(i), &name);
            (
                Resolved::Rule(i),
                self.amplitude.rules[i].targets.as_slice(),
                captures,
            )
        } else {
            (Resolved::None, &[][..], Captures::default())
        };
        let mut event_types = Vec::new();
        for (i, target) in targets.iter().enumerate() {
            match self.target(target, captures, data) {
                Some(t) => event_types.push(t),
                None if i == 0 => break,
                None => {}
            }
        }
        Outcome {
            name: name.clone(),
            resolved,
            event_types,
        }
    }

    fn table(&self, table: usize, key: &str) -> Option<&'a str> {
        let entries = &self.amplitude.tables.get(table)?.entries;
        entries
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| entries[i].1.as_str())
    }

    fn value(&self, v: &Value, captures: Captures<'_>, data: &Map<String, Json>) -> Option<Json> {
        match v {
            Value::Literal(t) => Some(Json::String(t.clone())),
            Value::Capture(c) => captures.get(*c).map(|s| Json::String(s.to_owned())),
            Value::Data(k) => data.get(k).cloned(),
            Value::Lookup { table, key } => self
                .table(table.0, captures.get(*key)?)
                .map(|s| Json::String(s.to_owned())),
            Value::LookupData { table, key } => self
                .table(table.0, &js_string(data.get(key)))
                .map(|s| Json::String(s.to_owned())),
        }
    }

    fn target(
        &self,
        target: &Target,
        captures: Captures<'_>,
        data: &Map<String, Json>,
    ) -> Option<String> {
        let event: String = target
            .event
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.clone(),
                Part::Capture(c) => captures.get(*c).unwrap_or("undefined").to_owned(),
                Part::SnakeCapture(c) => captures.get(*c).map_or_else(
                    || "undefined".to_owned(),
                    |text| {
                        let mut out = String::new();
                        metricsmith_spec::snake_case_into(text, &mut out);
                        out
                    },
                ),
            })
            .collect();
        if event.is_empty() {
            return None;
        }
        let holds = |c: &Cond| match c {
            Cond::Truthy(v) => self.value(v, captures, data).is_some_and(|v| truthy(&v)),
            Cond::EventIs(e) => *e == event,
        };
        if !target.when.iter().all(holds) {
            return None;
        }
        let group = match &target.group {
            GroupExpr::Fixed(p) => p.as_str(),
            GroupExpr::Lookup { table, key } => self.table(table.0, captures.get(*key)?)?,
        };
        if group.is_empty() {
            return None;
        }
        Some(format!("{group} - {event}"))
    }
}

// ---- example values -------------------------------------------------------------------------

/// Characters tried, in order, when an example needs one character of a class.
const PREFERRED: &str = "ae0x1_-./AZ";

fn push_example(
    hir: &Hir,
    out: &mut String,
    captures: &mut usize,
    fill: &dyn Fn(usize) -> Option<String>,
) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.push_str(&String::from_utf8_lossy(&lit.0)),
        HirKind::Class(Class::Unicode(class)) => {
            let ranges = class.ranges();
            let has = |c: char| ranges.iter().any(|r| r.start() <= c && c <= r.end());
            // A class that takes almost anything (JavaScript's `.`) reads best as a dot.
            if has('.') && has('a') && has('!') && has(' ') {
                out.push('.');
                return;
            }
            let pick = PREFERRED
                .chars()
                .find(|c| ranges.iter().any(|r| r.start() <= *c && *c <= r.end()))
                .or_else(|| ranges.first().map(|r| r.start()));
            out.extend(pick);
        }
        HirKind::Class(Class::Bytes(class)) => {
            let ranges = class.ranges();
            let pick = PREFERRED
                .bytes()
                .find(|c| ranges.iter().any(|r| r.start() <= *c && *c <= r.end()))
                .or_else(|| ranges.first().map(|r| r.start()));
            out.extend(pick.map(char::from));
        }
        HirKind::Repetition(rep) => {
            // `?` takes the short way; `*` and `+` one round, so names read naturally.
            let n = match rep.max {
                Some(1) => rep.min,
                _ => rep.min.max(1),
            };
            for _ in 0..n {
                push_example(&rep.sub, out, captures, fill);
            }
        }
        HirKind::Capture(cap) => {
            *captures += 1;
            match fill(cap.index as usize) {
                Some(text) => {
                    // Skip the inner groups so numbering stays right.
                    *captures += count_captures(&cap.sub);
                    out.push_str(&text);
                }
                None => push_example(&cap.sub, out, captures, fill),
            }
        }
        HirKind::Concat(items) => {
            for item in items {
                push_example(item, out, captures, fill);
            }
        }
        HirKind::Alternation(items) => {
            if let Some(first) = items.first() {
                push_example(first, out, captures, fill);
            }
        }
    }
}

fn count_captures(hir: &Hir) -> usize {
    match hir.kind() {
        HirKind::Capture(c) => 1 + count_captures(&c.sub),
        HirKind::Repetition(r) => count_captures(&r.sub),
        HirKind::Concat(items) | HirKind::Alternation(items) => {
            items.iter().map(count_captures).sum()
        }
        _ => 0,
    }
}

/// A short string that `pattern` matches, with capture group `i` replaced by `fill(i)` when it
/// returns text; `None` when the result does not match (the caller then has no example).
pub fn example_for_pattern(
    pattern: &str,
    fill: &dyn Fn(usize) -> Option<String>,
) -> Option<String> {
    let (hir, regex) = &*parsed(pattern)?;
    example_matching(hir, regex, fill)
}

/// [`example_for_pattern`] for a pattern already parsed (`hir`) and compiled (`regex`).
pub fn example_matching(
    hir: &Hir,
    regex: &Regex,
    fill: &dyn Fn(usize) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut captures = 0;
    push_example(hir, &mut out, &mut captures, fill);
    regex.is_match(&out).then_some(out)
}

/// A pattern's syntax tree and compiled regex, or `None` when it does not compile.
type Parsed = Option<Rc<(Hir, Regex)>>;

/// How many patterns [`parsed`] keeps before it starts over (the proc-macro server is a
/// long-lived process).
const PARSED_CACHE: usize = 4096;

thread_local! {
    // Schemas share few distinct patterns among many properties and examples (one per value
    // type, one per rule): each is parsed and compiled once, not once per use.
    static PARSED: RefCell<HashMap<String, Parsed>> = RefCell::new(HashMap::new());
}

fn parsed(pattern: &str) -> Parsed {
    PARSED.with_borrow_mut(|cache| {
        if let Some(hit) = cache.get(pattern) {
            return hit.clone();
        }
        let value = regex_syntax::parse(pattern)
            .ok()
            .zip(Regex::new(pattern).ok())
            .map(Rc::new);
        if cache.len() >= PARSED_CACHE {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), value.clone());
        value
    })
}

/// An example value of a property type, as it appears in event data.
pub fn example_value(ty: &PropertyType) -> Option<Json> {
    Some(match ty {
        PropertyType::String {
            pattern,
            max_length,
        } => {
            let text = match pattern {
                Some(p) => example_for_pattern(&p.rust, &|_| None)?,
                None => "example".to_owned(),
            };
            if let Some(max) = max_length
                && text.chars().count() as u64 > *max
            {
                return None;
            }
            Json::String(text)
        }
        PropertyType::Hex { length } => {
            let n = length.unwrap_or(16) as usize;
            Json::String("0123456789abcdef".chars().cycle().take(n).collect())
        }
        PropertyType::Integer { min, max } => {
            let n = 0i64.clamp(min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX));
            Json::from(n)
        }
        PropertyType::Boolean => Json::Bool(true),
        PropertyType::Enum { values } => Json::String(values.first()?.value.clone()),
        PropertyType::List { items } => Json::Array(vec![example_value(items)?]),
    })
}

/// A family's name rendered with parameter values (`value(name)`), as its constructor does.
pub fn render_template(
    parts: &[TemplatePart],
    value: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    parts
        .iter()
        .map(|p| match p {
            TemplatePart::Text(t) => Some(t.clone()),
            TemplatePart::Parameter(name) => value(name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CompiledRules;

    #[test]
    fn pattern_examples() {
        let cases = [
            (r"^/[A-Za-z0-9_/.-]*$", Some("/a")),
            (r"^[1-5][0-9]{2}(?:\.[0-9]+)?$", Some("100")),
            (r"^(?:sync|content-server|[0-9a-f]{16})$", Some("sync")),
            (r"^flow\.([\w-]+)\.engage$", Some("flow.a.engage")),
            (r"^[A-Z]{2}$", Some("AA")),
        ];
        for (pattern, expected) in cases {
            assert_eq!(
                example_for_pattern(pattern, &|_| None).as_deref(),
                expected,
                "{pattern}"
            );
        }
    }

    #[test]
    fn captures_can_be_filled() {
        let fill = |i: usize| (i == 1).then(|| "signin".to_owned());
        assert_eq!(
            example_for_pattern(r"^flow\.([\w-]+)\.(engage|x)$", &fill).as_deref(),
            Some("flow.signin.engage")
        );
    }

    #[test]
    fn the_first_rule_is_the_lowest_index_that_matches_anywhere() {
        // Unanchored, anchored at either end, alternations with one anchored branch: the
        // answer must be the lowest index whose regex matches, wherever the match is.
        let patterns = [
            r"b$",
            r"^a",
            r"^a|c",
            r"x.*y",
            r"^(?:ab|cd)$",
            r"d",
            r"^$",
            r"(?:^q|r)s",
        ];
        let amplitude = Amplitude {
            rules: patterns
                .iter()
                .enumerate()
                .map(|(index, p)| crate::model::Rule {
                    index,
                    js_pattern: (*p).to_owned(),
                    rust_pattern: (*p).to_owned(),
                    captures: 0,
                    description: None,
                    targets: Vec::new(),
                    shadowed: false,
                    shadowed_by: Vec::new(),
                    location: crate::model::Location {
                        file: "rules.yaml".into(),
                        line: index + 1,
                        column: 1,
                    },
                    unmatchable: false,
                    example: None,
                    takes_from: Vec::new(),
                    exact_matched: Vec::new(),
                })
                .collect(),
            ..Amplitude::default()
        };
        let regexes: Vec<Regex> = patterns.iter().map(|p| Regex::new(p).unwrap()).collect();
        let amplitude = Amplitude {
            compiled: CompiledRules::new(regexes.iter().cloned().map(Some).collect()),
            ..amplitude
        };
        let eval = Evaluator::new(&amplitude);
        for name in [
            "ab", "a", "b", "cab", "c", "xzzy", "cd", "", "zd", "qs", "zrs", "zqs", "yx", "abd",
        ] {
            let want = regexes.iter().position(|r| r.is_match(name));
            assert_eq!(eval.first_rule(name), want, "{name:?}");
            let all: Vec<usize> = (0..regexes.len())
                .filter(|&i| regexes[i].is_match(name))
                .collect();
            assert_eq!(eval.matching_rules(name), all, "{name:?}");
        }
    }
}
