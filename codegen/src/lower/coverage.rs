//! What the Amplitude mapping covers, checked once every part of it is lowered:
//!
//! - an exact name must name a declared event, an event of a family, or a name a policy
//!   rewrite produces (`E0031`), so a typo cannot map nothing in silence;
//! - a declared event that no exact name or rule maps is a warning (`W0007`) unless it says
//!   `amplitude: false`, and one that says so may not be mapped (`E0032`); the same for a
//!   family, whose names are mapped when an exact name is one of them or a rule can match one
//!   (decided on automata, [`shadow::RuleMatcher`]);
//! - a service that maps events needs a layout that gives Amplitude a `user_id` or a
//!   `device_id`, and both when its policy requires either (`E0033`).

use std::collections::{BTreeMap, HashMap};

use super::*;

/// The parts of a service that coverage reads.
pub(super) struct Coverage<'a, 'm> {
    pub events: &'m mut BTreeMap<String, Event>,
    pub event_defs: &'m BTreeMap<String, Def<'a, ast::EventDef>>,
    pub families: &'m mut BTreeMap<String, Family>,
    pub family_defs: &'m BTreeMap<String, Def<'a, ast::FamilyDef>>,
    pub exact_defs: &'m BTreeMap<String, Def<'a, ast::TargetDef>>,
    pub compiled: &'m Compiled<'a>,
    pub rules: &'m [Rule],
    pub compiled_rules: &'m CompiledRules,
    pub policy: &'m Policy,
    pub layout: Option<(usize, &'a Spanned<ast::LayoutDef>)>,
    pub policy_def: Option<(usize, &'a Spanned<ast::PolicyDef>)>,
}

impl<'a> Lower<'a, '_> {
    pub(super) fn coverage(&mut self, mut c: Coverage<'a, '_>) {
        // Compiled once, for both checks, and only when one of them needs them.
        let mut matchers = None;
        self.exact_names(&c, &mut matchers);
        self.unmapped_events(&mut c);
        self.unmapped_families(&mut c, &mut matchers);
        self.layout_coverage(&c);
    }

    /// `E0031`: every exact name is a name the service can log.
    fn exact_names(&mut self, c: &Coverage<'a, '_>, matchers: &mut Option<Matchers>) {
        if c.exact_defs.keys().all(|name| c.events.contains_key(name)) {
            return;
        }
        let families = matchers.get_or_insert_with(|| family_matchers(c.families));
        let rewrites: Vec<regex::Regex> = c
            .policy
            .rewrites
            .iter()
            .filter_map(|r| rewrite_regex(&r.to))
            .collect();
        for (name, def) in c.exact_defs {
            if c.events.contains_key(name)
                || families.values().flatten().any(|f| f.matches(name))
                || rewrites.iter().any(|r| r.is_match(name))
            {
                continue;
            }
            let span = self.span(def.file, def.key);
            let help =
                suggest::help(name, c.events.keys().map(String::as_str)).unwrap_or_else(|| {
                    "declare the event under `events:`, or remove this mapping".to_owned()
                });
            self.push(
                Diagnostic::new(
                    Code::UnknownEvent,
                    span,
                    format!("exact mapping for `{name}`, which is not a declared event"),
                )
                .label("no event, family or rewrite has this name")
                .help(help),
            );
        }
    }

    /// `W0007` and `E0032`: events that nothing maps, and the `amplitude: false` marker.
    fn unmapped_events(&mut self, c: &mut Coverage<'a, '_>) {
        for (name, event) in c.events.iter_mut() {
            let Some(def) = c.event_defs.get(name) else {
                continue;
            };
            let marker = def.def.amplitude.as_ref().filter(|m| !m.value);
            match (event.amplitude, marker) {
                (Some(MappedBy::Unmapped), Some(_)) => event.amplitude = Some(MappedBy::Excluded),
                (Some(MappedBy::Unmapped), None) => {
                    let span = self.span(def.file, def.key);
                    self.lint(
                        &def.def.allow,
                        Diagnostic::new(
                            Code::UnmappedEvent,
                            span,
                            format!("no exact name or rule maps `{name}`"),
                        )
                        .label("not sent to Amplitude")
                        .help(
                            "map it under `amplitude.exact` or with a rule, or say \
                             `amplitude: false` on the event if it is not sent on purpose",
                        )
                        .allowed_at("on the event"),
                    );
                }
                (Some(mapped @ (MappedBy::Exact | MappedBy::Rule(_))), Some(marker)) => {
                    let span = self.span(def.file, marker);
                    let (by, by_span) = self.mapped_by_text(c.compiled, c.exact_defs, mapped, name);
                    let mut d = Diagnostic::new(
                        Code::ExcludedButMapped,
                        span,
                        format!("`{name}` says it is not sent to Amplitude, but {by} maps it"),
                    )
                    .label("`amplitude: false` here")
                    .help(
                        "remove `amplitude: false`, or change the mapping so that it does not \
                         match this name",
                    );
                    if let Some(by_span) = by_span {
                        d = d.secondary(by_span, format!("{by} maps `{name}`"));
                    }
                    self.push(d);
                }
                _ => {}
            }
        }
    }

    /// `W0007` and `E0032` for families. A family is mapped when an exact name is one of its
    /// events, or when a rule can match a name of its shape: the name template with each
    /// parameter as its type allows (an enum's values, an integer's or hex string's digits, any
    /// text for a string). The cheap proofs come first (a plain name of the family, its exact
    /// names, the declared events among its names), the automata last. A name found on the
    /// automata is an example of the mapping; only one that is an event of the family (its
    /// string patterns and lengths, its integer bounds hold) proves `E0032`. When the automata
    /// are too large to walk, or a policy rewrites one of the family's names, the family counts
    /// as mapped: never a warning that may be false.
    fn unmapped_families(&mut self, c: &mut Coverage<'a, '_>, matchers: &mut Option<Matchers>) {
        if (c.exact_defs.is_empty() && c.rules.is_empty()) || c.families.is_empty() {
            return;
        }
        let matchers = matchers.get_or_insert_with(|| family_matchers(c.families));
        // Built for the first family that needs it, and once per service.
        let mut matcher: Option<Option<shadow::RuleMatcher>> = None;
        for (id, family) in c.families.iter_mut() {
            let Some(def) = c.family_defs.get(id) else {
                continue;
            };
            let Some(Some(names)) = matchers.get(id) else {
                continue;
            };
            if c.policy.rewrites.iter().any(|r| names.matches(&r.event)) {
                continue;
            }
            let marker = def.def.amplitude.as_ref().filter(|m| !m.value);
            // What maps the family, and a name of it that is proven to be mapped so.
            // A plain name of the family (`a` for a string, the first value of an enum) is
            // often mapped, and checking it needs no regex of the family; else an exact name of
            // the family, else a declared event of the family that a rule maps (both sorted by
            // name, and the family's names share a prefix); else the automata.
            let mut found: Option<(MappedBy, Option<String>)> =
                plain_name(family, names).and_then(|name| {
                    let mapped = if c.exact_defs.contains_key(&name) {
                        MappedBy::Exact
                    } else {
                        MappedBy::Rule(c.compiled_rules.first(&name)?)
                    };
                    Some((mapped, Some(name)))
                });
            if found.is_none() {
                found = with_prefix(c.exact_defs, names)
                    .find(|name| names.matches(name))
                    .map(|name| (MappedBy::Exact, Some(name.clone())));
            }
            if found.is_none() {
                found = with_prefix(c.events, names).find_map(|name| {
                    let mapped = c.events.get(name)?.amplitude?;
                    (matches!(mapped, MappedBy::Rule(_)) && names.matches(name))
                        .then(|| (mapped, Some(name.clone())))
                });
            }
            if found.is_none() && !c.compiled.is_empty() {
                let rules = matcher.get_or_insert_with(|| {
                    let patterns: Vec<&str> = c
                        .compiled
                        .iter()
                        .map(|(i, ..)| c.rules[*i].rust_pattern.as_str())
                        .collect();
                    shadow::RuleMatcher::new(&patterns).ok()
                });
                // Without the marker, one name mapped is enough to know; with it, the walk looks
                // for a name that is an event of the family.
                let first = marker.is_none();
                let Some(Ok(by_rule)) = rules
                    .as_mut()
                    .map(|r| r.first_rules(names.pattern(), first))
                else {
                    continue;
                };
                let proven = by_rule.iter().find_map(|(k, name)| {
                    let index = c.compiled.get(*k)?.0;
                    let name = String::from_utf8(name.clone()).ok()?;
                    (names.matches(&name) && c.compiled_rules.first(&name) == Some(index))
                        .then_some((index, name))
                });
                found = match (proven, by_rule.keys().next()) {
                    (Some((index, name)), _) => Some((MappedBy::Rule(index), Some(name))),
                    // Names of the family's shape that are not its events may be all a rule
                    // matches: mapped, unless the family says it is not.
                    (None, Some(&k)) if marker.is_none() => {
                        c.compiled.get(k).map(|r| (MappedBy::Rule(r.0), None))
                    }
                    (None, _) => None,
                };
            }
            match (found, marker) {
                (None, Some(_)) => family.amplitude = Some(MappedBy::Excluded),
                (None, None) => {
                    family.amplitude = Some(MappedBy::Unmapped);
                    let span = self.span(def.file, def.key);
                    self.lint(
                        &def.def.allow,
                        Diagnostic::new(
                            Code::UnmappedEvent,
                            span,
                            format!(
                                "no exact name or rule maps an event of family `{id}` (`{}`)",
                                family.name
                            ),
                        )
                        .label("not sent to Amplitude")
                        .help(
                            "map its names under `amplitude.exact` or with a rule, or say \
                             `amplitude: false` on the family if they are not sent on purpose",
                        )
                        .allowed_at("on the family"),
                    );
                }
                (Some((mapped, _)), None) => family.amplitude = Some(mapped),
                (Some((mapped, name)), Some(marker)) => {
                    family.amplitude = Some(mapped);
                    let name = name.unwrap_or_default();
                    let span = self.span(def.file, marker);
                    let (by, by_span) =
                        self.mapped_by_text(c.compiled, c.exact_defs, mapped, &name);
                    let mut d = Diagnostic::new(
                        Code::ExcludedButMapped,
                        span,
                        format!(
                            "family `{id}` says its events are not sent to Amplitude, but {by} \
                             maps `{name}`"
                        ),
                    )
                    .label("`amplitude: false` here")
                    .help(
                        "remove `amplitude: false`, or change the mapping so that it matches no \
                         name of the family",
                    );
                    if let Some(by_span) = by_span {
                        d = d.secondary(by_span, format!("{by} maps `{name}`"));
                    }
                    self.push(d);
                }
            }
        }
    }

    /// `rule N` or `an exact mapping`, and where it is defined.
    fn mapped_by_text(
        &self,
        compiled: &Compiled<'a>,
        exact_defs: &BTreeMap<String, Def<'a, ast::TargetDef>>,
        mapped: MappedBy,
        name: &str,
    ) -> (String, Option<Span>) {
        match mapped {
            MappedBy::Rule(index) => {
                let found = compiled.iter().find(|(i, ..)| *i == index);
                let by_span = found.map(|(_, file, rule, _)| self.span(*file, &rule.value.pattern));
                (format!("rule {}", index + 1), by_span)
            }
            _ => (
                "an exact mapping".to_owned(),
                exact_defs.get(name).map(|d| self.span(d.file, d.key)),
            ),
        }
    }

    /// `E0033`: a service that maps events has a layout that identifies their user or device.
    fn layout_coverage(&mut self, c: &Coverage<'a, '_>) {
        let mapping = self.first_mapping(c);
        let require = c.policy_def.and_then(|(file, p)| {
            let r = p.value.require.as_ref()?;
            (r.value == ast::RequirePolicy::UserOrDevice).then_some((file, r))
        });
        let Some((layout_file, layout)) = c.layout else {
            // Without a mapping nothing is sent, and a layout is not needed.
            if let Some(span) = require.map(|(f, r)| self.span(f, r)).or(mapping) {
                self.push(
                    Diagnostic::new(
                        Code::IncompleteLayout,
                        span,
                        "the service maps events to Amplitude but has no `layout`",
                    )
                    .label("no event mapped here gets a `user_id` or `device_id`")
                    .help(
                        "add `amplitude.layout` with `fields: {user_id: data.uid, device_id: \
                         data.deviceId}`, or include the file that has it; Amplitude rejects \
                         events without either",
                    ),
                );
            }
            return;
        };
        let has = |field: &str| layout.value.fields.iter().any(|(k, _)| k.value == field);
        let missing: Vec<&str> = ["user_id", "device_id"]
            .into_iter()
            .filter(|f| !has(f))
            .collect();
        let layout_span = self.span(layout_file, layout);
        let fields_span = layout
            .value
            .fields
            .iter()
            .next()
            .map_or(layout_span, |(k, _)| self.span(layout_file, k));
        if let Some((file, require)) = require.filter(|_| !missing.is_empty()) {
            let span = self.span(file, require);
            let which = missing
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" or ");
            let consequence = if missing.len() == 2 {
                "so every event is dropped".to_owned()
            } else {
                let other = if missing[0] == "user_id" {
                    "device"
                } else {
                    "user"
                };
                format!("so every event without a {other} is dropped")
            };
            self.push(
                Diagnostic::new(
                    Code::IncompleteLayout,
                    span,
                    format!(
                        "`require: user_or_device` needs {which}, which the layout does not set"
                    ),
                )
                .label(consequence)
                .secondary(fields_span, "the layout's fields")
                .help(format!(
                    "add {} to `layout.fields`, or remove `require`",
                    missing
                        .iter()
                        .map(|f| format!("`{f}: data.<key>`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )),
            );
        } else if missing.len() == 2 && mapping.is_some() {
            self.push(
                Diagnostic::new(
                    Code::IncompleteLayout,
                    fields_span,
                    "the layout sets neither `user_id` nor `device_id`",
                )
                .label("Amplitude rejects events without either")
                .help("add `user_id: data.uid` or `device_id: data.deviceId` to `layout.fields`"),
            );
        }
    }

    /// The first exact name or rule pattern of the service, when it maps anything.
    fn first_mapping(&self, c: &Coverage<'a, '_>) -> Option<Span> {
        let exact = c
            .exact_defs
            .values()
            .min_by_key(|d| (d.file, d.key.range.start))
            .map(|d| (d.file, self.span(d.file, d.key)));
        let rule = self.files.iter().enumerate().find_map(|(file, f)| {
            let rule = f.ast.amplitude.as_ref()?.rules.first()?;
            Some((file, self.span(file, &rule.value.pattern)))
        });
        [exact, rule]
            .into_iter()
            .flatten()
            .min_by_key(|(file, span)| (*file, span.start))
            .map(|(_, span)| span)
    }
}

/// A name of the family's shape with plain values: `a` for a string, the first value of an
/// enum, the smallest allowed integer near 0, zeros for hex.
/// It is checked against the parameters' constraints, never against the name regex, which is
/// compiled only when a check needs it.
fn plain_name(family: &Family, names: &FamilyMatcher) -> Option<String> {
    let mut name = String::new();
    let mut values = Vec::new();
    for part in &family.name_template {
        match part {
            TemplatePart::Text(text) => name.push_str(text),
            TemplatePart::Parameter(p) => {
                let p = family.parameters.iter().find(|q| &q.name == p)?;
                let value = match &p.ty {
                    PropertyType::Enum { values } => values.first()?.value.clone(),
                    PropertyType::Integer { min, max } => 0
                        .max(min.unwrap_or(i64::MIN))
                        .min(max.unwrap_or(i64::MAX))
                        .to_string(),
                    PropertyType::Hex { length } => {
                        // A length no name has is not worth a string of it.
                        let n = usize::try_from(length.unwrap_or(1))
                            .ok()
                            .filter(|n| *n <= 1024)?;
                        "0".repeat(n)
                    }
                    _ => "a".to_owned(),
                };
                name.push_str(&value);
                values.push(value);
            }
        }
    }
    let valid = values.len() == names.parameters.len()
        && (names.parameters.iter().zip(&values)).all(|(check, value)| check.allows(value));
    valid.then_some(name)
}

/// The keys of `map` that start with the literal text before the family's first parameter.
fn with_prefix<'m, V>(
    map: &'m BTreeMap<String, V>,
    names: &'m FamilyMatcher,
) -> impl Iterator<Item = &'m String> {
    map.range::<str, _>((
        std::ops::Bound::Included(names.prefix()),
        std::ops::Bound::Unbounded,
    ))
    .map(|(name, _)| name)
    .take_while(|name| name.starts_with(names.prefix()))
}

/// Each family's matcher, by family id (`None` when its pattern does not compile).
type Matchers = BTreeMap<String, Option<FamilyMatcher>>;

fn family_matchers(families: &BTreeMap<String, Family>) -> Matchers {
    // Families often share their parameters' patterns: each is compiled once.
    let mut patterns = HashMap::new();
    families
        .iter()
        .map(|(id, f)| (id.clone(), FamilyMatcher::with_patterns(f, &mut patterns)))
        .collect()
}

/// Whether a name is an event of a family: the name template as a regex, each parameter as its
/// type allows, then each string parameter checked against its pattern and length.
pub(super) struct FamilyMatcher {
    /// The name template as a regex; compiled when a name is first checked, since the coverage
    /// of most families is settled without it.
    pattern: String,
    regex: std::cell::OnceCell<Option<regex::Regex>>,
    parameters: Vec<Check>,
    /// The text before the first parameter, which every name of the family starts with.
    prefix: String,
}

/// What a parameter's value must satisfy beyond the shape the name regex gives it.
enum Check {
    Text {
        pattern: Option<regex::Regex>,
        max_length: Option<u64>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    None,
}

impl FamilyMatcher {
    pub(super) fn new(family: &Family) -> Option<Self> {
        Self::with_patterns(family, &mut HashMap::new())
    }

    /// `patterns`: the parameter patterns compiled so far, by pattern.
    fn with_patterns(
        family: &Family,
        patterns: &mut HashMap<String, Option<regex::Regex>>,
    ) -> Option<Self> {
        let mut pattern = String::from("^");
        let mut parameters = Vec::new();
        for part in &family.name_template {
            match part {
                TemplatePart::Text(text) => pattern.push_str(&regex::escape(text)),
                TemplatePart::Parameter(name) => {
                    let p = family.parameters.iter().find(|p| &p.name == name)?;
                    let (shape, check) = match &p.ty {
                        PropertyType::Enum { values } => (
                            values
                                .iter()
                                .map(|v| regex::escape(&v.value))
                                .collect::<Vec<_>>()
                                .join("|"),
                            Check::None,
                        ),
                        PropertyType::Integer { min, max } => (
                            "-?[0-9]+".to_owned(),
                            Check::Integer {
                                min: *min,
                                max: *max,
                            },
                        ),
                        PropertyType::Hex { length: Some(n) } => {
                            (format!("[0-9a-f]{{{n}}}"), Check::None)
                        }
                        PropertyType::Hex { length: None } => ("[0-9a-f]+".to_owned(), Check::None),
                        PropertyType::String {
                            pattern,
                            max_length,
                        } => (
                            ".+".to_owned(),
                            Check::Text {
                                pattern: pattern.as_ref().and_then(|p| {
                                    patterns
                                        .entry(p.rust.clone())
                                        .or_insert_with(|| regex::Regex::new(&p.rust).ok())
                                        .clone()
                                }),
                                max_length: *max_length,
                            },
                        ),
                        _ => (".+".to_owned(), Check::None),
                    };
                    pattern.push('(');
                    pattern.push_str(&shape);
                    pattern.push(')');
                    parameters.push(check);
                }
            }
        }
        pattern.push('$');
        let prefix = match family.name_template.first() {
            Some(TemplatePart::Text(text)) => text.clone(),
            _ => String::new(),
        };
        Some(FamilyMatcher {
            pattern,
            regex: std::cell::OnceCell::new(),
            parameters,
            prefix,
        })
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The name template as a `regex` pattern, anchored at both ends.
    pub(super) fn pattern(&self) -> &str {
        &self.pattern
    }

    pub(super) fn matches(&self, name: &str) -> bool {
        self.values(name).is_some()
    }

    /// The parameter values of `name`, in the family's parameter order, when it is an event of
    /// the family.
    pub(super) fn values(&self, name: &str) -> Option<Vec<String>> {
        if !name.starts_with(&self.prefix) {
            return None;
        }
        let regex = self
            .regex
            .get_or_init(|| regex::Regex::new(&self.pattern).ok())
            .as_ref()?;
        let captures = regex.captures(name)?;
        let valid = self.valid(&captures);
        valid.then(|| {
            (1..captures.len())
                .map(|i| captures.get(i).map_or("", |m| m.as_str()).to_owned())
                .collect()
        })
    }

    fn valid(&self, captures: &regex::Captures<'_>) -> bool {
        self.parameters.iter().enumerate().all(|(i, check)| {
            captures
                .get(i + 1)
                .is_some_and(|m| check.allows(m.as_str()))
        })
    }
}

impl Check {
    fn allows(&self, value: &str) -> bool {
        match self {
            Check::Text {
                pattern,
                max_length,
            } => {
                pattern.as_ref().is_none_or(|r| r.is_match(value))
                    && max_length.is_none_or(|max| value.chars().count() as u64 <= max)
            }
            Check::Integer { min, max } => value
                .parse::<i64>()
                .is_ok_and(|v| min.is_none_or(|min| v >= min) && max.is_none_or(|max| v <= max)),
            Check::None => true,
        }
    }
}

/// The names a policy rewrite can produce: its text, and anything for its data.
fn rewrite_regex(to: &[RewritePart]) -> Option<regex::Regex> {
    let mut pattern = String::from("^");
    for part in to {
        match part {
            RewritePart::Text(text) => pattern.push_str(&regex::escape(text)),
            RewritePart::Data(_) => pattern.push_str(".*"),
        }
    }
    pattern.push('$');
    regex::Regex::new(&pattern).ok()
}
