//! Facts that several backends show, computed once after validation: each event's and family's
//! example and what the mapping makes of it, and each rule's example with the rules and exact
//! names it overlaps.
//!
//! The docs and the generated tests both read them, so neither evaluates the mapping itself.

use serde_json::{Map, Value as Json};

use crate::example::{Evaluator, example_matching, example_value, render_template};
use crate::model::{
    Capture, Cond, EventExample, GroupExpr, MappedBy, Property, PropertyType, Rule, RuleExample,
    Service, Value,
};

/// Fills in [`Event::example`](crate::model::Event::example),
/// [`Family::example`](crate::model::Family::example) and each rule's `example`, `takes_from`
/// and `exact_matched`.
pub(super) fn compute(service: &mut Service) {
    let eval = Evaluator::new(&service.amplitude);
    let events: Vec<EventExample> = service
        .events
        .values()
        .map(|e| event_example(&eval, e.name.clone(), e.amplitude, &e.properties, true))
        .collect();
    // A family's example is a real name where the schema has one: a declared event, an exact
    // name or a rule's example that is an event of the family; else each parameter's example
    // value.
    // The rules' examples come from the tables and patterns, so they are real too.
    let rules = rule_facts(service, &eval);
    let real_names: Vec<&str> = service
        .events
        .keys()
        .chain(service.amplitude.exact.keys())
        .map(String::as_str)
        .collect();
    let rule_names: Vec<&str> = rules
        .iter()
        .filter_map(|(r, ..)| r.as_ref().map(|r| r.name.as_str()))
        .collect();
    let matchers: Vec<_> = service
        .families
        .values()
        .map(super::coverage::FamilyMatcher::new)
        .collect();
    let real: Vec<Option<Vec<String>>> = matchers
        .iter()
        .map(|m| {
            m.as_ref()
                .and_then(|m| real_names.iter().find_map(|name| m.values(name)))
        })
        .collect();
    // A family without a declared event or exact name of its own takes a rule's example (which
    // the tables make one that maps), else borrows the real values of parameters of the same
    // name in other families (`view` of `flow.{view}.engage`) when they are valid here.
    let mut known: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (f, values) in service.families.values().zip(&real) {
        for (p, v) in f.parameters.iter().zip(values.iter().flatten()) {
            known.entry(p.name.as_str()).or_insert(v.as_str());
        }
    }
    let borrowed: Vec<Option<Vec<String>>> = service
        .families
        .values()
        .zip(&matchers)
        .zip(&real)
        .map(|((f, m), own)| {
            if own.is_some() {
                return own.clone();
            }
            let from_rules = || {
                m.as_ref()
                    .and_then(|m| rule_names.iter().find_map(|name| m.values(name)))
            };
            let values: Option<Vec<String>> = f
                .parameters
                .iter()
                .map(|p| match known.get(p.name.as_str()) {
                    Some(v) => Some((*v).to_owned()),
                    None => match example_value(&p.ty)? {
                        Json::String(s) => Some(s),
                        other => Some(other.to_string()),
                    },
                })
                .collect::<Option<_>>();
            let borrowed = values.filter(|values| {
                let name = render_template(&f.name_template, &|n| {
                    let i = f.parameters.iter().position(|p| p.name == n)?;
                    values.get(i).cloned()
                });
                let borrows = f
                    .parameters
                    .iter()
                    .any(|p| known.contains_key(p.name.as_str()));
                borrows && name.is_some_and(|name| m.as_ref().is_some_and(|m| m.matches(&name)))
            });
            // Values borrowed from declared names when the mapping sends that event, else the
            // rule's example (whose values may be made up), else the borrowed ones.
            let sends = |values: &Vec<String>| {
                render_template(&f.name_template, &|n| {
                    let i = f.parameters.iter().position(|p| p.name == n)?;
                    values.get(i).cloned()
                })
                .is_some_and(|name| {
                    !event_example(&eval, name, None, &f.properties, true)
                        .outcome
                        .event_types
                        .is_empty()
                })
            };
            match borrowed {
                Some(other) if sends(&other) => Some(other),
                other => from_rules().or(other),
            }
        })
        .collect();
    let families: Vec<(EventExample, Vec<String>, Vec<EventExample>)> = service
        .families
        .values()
        .zip(borrowed)
        .map(|(f, real)| {
            let value = |index: usize, p: &Property| -> Option<String> {
                if let Some(values) = &real {
                    return values.get(index).cloned();
                }
                Some(match example_value(&p.ty)? {
                    Json::String(s) => s,
                    other => other.to_string(),
                })
            };
            let render = |replace: Option<(usize, &str)>| {
                render_template(&f.name_template, &|n| {
                    let index = f.parameters.iter().position(|p| p.name == n)?;
                    match replace {
                        Some((i, v)) if i == index => Some(v.to_owned()),
                        _ => value(index, &f.parameters[index]),
                    }
                })
            };
            let mut complete = true;
            let name = render(None).unwrap_or_else(|| {
                complete = false;
                f.name.clone()
            });
            let example = event_example(&eval, name, None, &f.properties, complete);
            // Every value of the first enum parameter, which often decides the mapping.
            let enum_parameter = f
                .parameters
                .iter()
                .enumerate()
                .find_map(|(i, p)| match &p.ty {
                    PropertyType::Enum { values } => Some((i, values)),
                    _ => None,
                });
            let per_value = enum_parameter
                .map(|(i, values)| {
                    values
                        .iter()
                        .filter_map(|v| render(Some((i, &v.value))))
                        .map(|name| event_example(&eval, name, None, &f.properties, complete))
                        .collect()
                })
                .unwrap_or_default();
            // The values the name was rendered from, for the generated test's constructor.
            let values: Vec<String> = if complete {
                f.parameters
                    .iter()
                    .enumerate()
                    .map_while(|(i, p)| value(i, p))
                    .collect()
            } else {
                Vec::new()
            };
            (example, values, per_value)
        })
        .collect();
    for (e, example) in service.events.values_mut().zip(events) {
        e.example = example;
    }
    for (f, (example, values, per_value)) in service.families.values_mut().zip(families) {
        f.example = example;
        f.example_values = values;
        f.value_examples = per_value;
    }
    for (r, facts) in service.amplitude.rules.iter_mut().zip(rules) {
        (r.example, r.takes_from, r.exact_matched) = facts;
    }
}

/// `mapped` is what lowering found maps `name`, when it is an event's own name.
fn event_example(
    eval: &Evaluator<'_>,
    name: String,
    mapped: Option<MappedBy>,
    properties: &[Property],
    complete: bool,
) -> EventExample {
    let mut data = Map::new();
    let mut all = true;
    for p in properties {
        match example_value(&p.ty) {
            Some(value) => {
                data.insert(p.name.clone(), value);
            }
            None => all = false,
        }
    }
    let outcome = eval.evaluate_mapped(&name, mapped, &data);
    EventExample {
        name,
        data,
        complete: complete && all,
        outcome,
    }
}

type RuleFacts = (Option<RuleExample>, Vec<usize>, Vec<String>);

fn rule_facts(service: &Service, eval: &Evaluator<'_>) -> Vec<RuleFacts> {
    let rules = &service.amplitude.rules;
    // One pass of all rules over each example and each exact name, instead of one match per
    // pair of rules.
    let mut facts: Vec<RuleFacts> = rules
        .iter()
        .map(|r| {
            let example = rule_example(r, service, eval).map(|name| RuleExample {
                outcome: eval.evaluate(&name, &Map::new()),
                matching: eval.matching_rules(&name),
                name,
            });
            (example, Vec::new(), Vec::new())
        })
        .collect();
    let mut later: Vec<Vec<usize>> = vec![Vec::new(); facts.len()];
    for (o, (example, ..)) in facts.iter().enumerate() {
        let matching = example.as_ref().map_or(&[][..], |e| &e.matching);
        for &i in matching.iter().filter(|&&i| i < o) {
            later[i].push(o);
        }
    }
    for ((_, takes_from, _), later) in facts.iter_mut().zip(later) {
        *takes_from = later;
    }
    for name in service.amplitude.exact.keys() {
        for i in eval.matching_rules(name) {
            if let Some((.., exact)) = facts.get_mut(i) {
                exact.push(name.clone());
            }
        }
    }
    facts
}

/// The table a rule looks its category up in, if any: its example then uses a key of it.
fn category_table(rule: &Rule) -> Option<usize> {
    let target = rule.targets.first()?;
    if let GroupExpr::Lookup {
        table,
        key: Capture::Category,
    } = &target.group
    {
        return Some(table.0);
    }
    target.when.iter().find_map(|c| match c {
        Cond::Truthy(Value::Lookup {
            table,
            key: Capture::Category,
        }) => Some(table.0),
        _ => None,
    })
}

/// An example name that rule `rule` wins, preferring one that produces amplitude events;
/// else any name it matches (the test then shows which rule shadows it).
///
/// Candidates are, in order, the pattern's example with each key of the table the rule looks
/// its category up in, then its plain example; they are made one at a time and the first that
/// wins and produces events ends the search.
fn rule_example(rule: &Rule, service: &Service, eval: &Evaluator<'_>) -> Option<String> {
    let wins = |name: &str| {
        !service.amplitude.exact.contains_key(name) && eval.first_rule(name) == Some(rule.index)
    };
    // The regex lowering compiled; a rule without one has no example.
    let regex = service.amplitude.compiled.regex(rule.index)?;
    let hir = regex_syntax::parse(regex.as_str()).ok()?;
    let plain = example_matching(&hir, regex, &|_| None);
    let keys = category_table(rule)
        .and_then(|t| service.amplitude.tables.get(t))
        .map(|table| table.entries.as_slice())
        .unwrap_or_default();
    let candidates = keys
        .iter()
        .filter_map(|(key, _)| {
            let fill = |i: usize| (i == 1).then(|| key.clone());
            example_matching(&hir, regex, &fill)
        })
        .chain(plain.clone());
    let mut first_winner = None;
    for name in candidates {
        if !wins(&name) {
            continue;
        }
        if !eval.evaluate(&name, &Map::new()).event_types.is_empty() {
            return Some(name);
        }
        first_winner.get_or_insert(name);
    }
    first_winner.or(plain)
}
