//! `metricsmith live-check`: checks what services actually logged against their schema.
//!
//! Reads mozlog lines (files or stdin) through the shared line path ([`metricsmith::line`]) and
//! checks every activity, flow, email and amplitude line of a service the schema declares:
//! unknown event types, missing, unexpected or ill-typed properties, pattern and length
//! violations, amplitude event types the mapping cannot produce, and lines that are not mozlog.
//! It counts each violation code with its first examples (input line numbers) and reports the
//! coverage: the events, families and rules declared but never seen.
//!
//! Memory does not grow with the input: per line, one reused parse buffer; overall, counters,
//! a bounded number of examples and one flag per declared event, family and rule.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use metricsmith::line::{self, Doc, Line, Value};
use metricsmith::view::{JsonRef, Kind, Num};
use metricsmith_codegen::model::{
    Family, GroupExpr, Kinds, Model, Part, Property, PropertyType, RewritePart, Service,
    TemplatePart,
};
use regex::{Regex, RegexSet};
use serde_json::json;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text.
    Text,
    /// One JSON document (docs/diff.md describes it).
    Json,
}

/// Arguments of `metricsmith live-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The schema: an entry file or a directory of services.
    #[arg(long)]
    pub schema: PathBuf,
    /// Log files to read, in order; `-` or nothing reads stdin.
    pub files: Vec<PathBuf>,
    /// How to print the result (on stdout).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Examples kept per violation code.
    #[arg(long, default_value_t = 3)]
    pub examples: usize,
    /// The longest line read, in bytes; a longer line is a violation and is skipped without
    /// being held in memory.
    #[arg(long = "max-line", default_value_t = line::DEFAULT_MAX_LINE)]
    pub max_line: usize,
}

/// Keys that services add to every line of a kind around the event's own properties (FxA
/// spec §2.3, §3.1, §3.4, §3.1 email lines), so they are never unexpected.
const ACTIVITY_KEYS: &[&str] = &["country", "event", "region", "userAgent", "service"];
const FLOW_KEYS: &[&str] = &[
    "country",
    "event",
    "locale",
    "region",
    "userAgent",
    "time",
    "device_id",
    "flow_id",
    "flow_time",
    "flowBeginTime",
    "flowCompleteSignal",
    "flowType",
    "service",
    "entrypoint",
    "entrypoint_experiment",
    "entrypoint_variation",
    "product_id",
    "plan_id",
    "utm_campaign",
    "utm_content",
    "utm_medium",
    "utm_source",
    "utm_term",
    "uid",
    // The content server's raw flow lines.
    "hostname",
    "op",
    "pid",
    "v",
    "context",
    "migration",
];
const EMAIL_KEYS: &[&str] = &[
    "domain",
    "locale",
    "template",
    "templateVersion",
    "type",
    "flow_id",
    "bounced",
    "complaint",
];

/// The kind of a line, from its mozlog `Type` (or a raw line's `op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Activity,
    Flow,
    Email,
    Amplitude,
}

impl Op {
    fn of(type_name: &str) -> Option<Op> {
        // A logger suffix comes before the op: `<suffix>.activityEvent`.
        match type_name.rsplit('.').next()? {
            "activityEvent" => Some(Op::Activity),
            "flowEvent" => Some(Op::Flow),
            "emailEvent" => Some(Op::Email),
            "amplitudeEvent" => Some(Op::Amplitude),
            _ => None,
        }
    }

    fn context(self) -> &'static [&'static str] {
        match self {
            Op::Activity => ACTIVITY_KEYS,
            Op::Flow => FLOW_KEYS,
            Op::Email => EMAIL_KEYS,
            Op::Amplitude => &[],
        }
    }

    /// Whether the line kind adds `key` around the event's properties.
    fn adds(self, key: &str) -> bool {
        // The common keys first: most lines carry them.
        match (self, key) {
            (Op::Activity | Op::Flow, "event" | "country" | "region" | "userAgent" | "service") => {
                true
            }
            (Op::Amplitude, _) => false,
            (op, key) => op.context().contains(&key),
        }
    }

    fn allowed(self, kinds: Kinds) -> bool {
        match self {
            Op::Activity => kinds.activity,
            Op::Flow => kinds.flow != metricsmith_codegen::model::FlowKind::None,
            Op::Email => kinds.email,
            Op::Amplitude => true,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::Activity => "activityEvent",
            Op::Flow => "flowEvent",
            Op::Email => "emailEvent",
            Op::Amplitude => "amplitudeEvent",
        }
    }
}

/// A property type, compiled.
#[derive(Debug)]
enum Check {
    String {
        pattern: Option<(Regex, String)>,
        max_length: Option<u64>,
    },
    Hex(Option<u64>),
    Integer(Option<i64>, Option<i64>),
    Boolean,
    Enum(Vec<String>),
    List(Box<Check>),
}

impl Check {
    fn new(ty: &PropertyType) -> Check {
        match ty {
            PropertyType::String {
                pattern,
                max_length,
            } => Check::String {
                pattern: pattern
                    .as_ref()
                    .and_then(|p| Some((Regex::new(&p.rust).ok()?, p.js.clone()))),
                max_length: *max_length,
            },
            PropertyType::Hex { length } => Check::Hex(*length),
            PropertyType::Integer { min, max } => Check::Integer(*min, *max),
            PropertyType::Boolean => Check::Boolean,
            PropertyType::Enum { values } => {
                Check::Enum(values.iter().map(|v| v.value.clone()).collect())
            }
            PropertyType::List { items } => Check::List(Box::new(Check::new(items))),
        }
    }

    /// The violation of `value`, if any: (code, message).
    fn check<'a>(&self, value: impl JsonRef<'a>) -> Option<(Code, String)> {
        let kind = value.kind();
        match (self, kind) {
            (
                Check::String {
                    pattern,
                    max_length,
                },
                Kind::String(s),
            ) => self.string(s, pattern, *max_length),
            (Check::Hex(length), Kind::String(s)) => {
                if !s
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    Some((Code::PatternMismatch, "is not lowercase hex".into()))
                } else if let Some(n) = length
                    && s.len() as u64 != *n
                {
                    Some((
                        Code::TooLong,
                        format!("has {} hex digits, not {n}", s.len()),
                    ))
                } else {
                    None
                }
            }
            (Check::Integer(min, max), Kind::Number(n)) => {
                let Some(v) = (match n {
                    Num::U64(u) => i64::try_from(u).ok(),
                    Num::I64(i) => Some(i),
                    Num::F64(_) => None,
                }) else {
                    return Some((Code::WrongType, "is not an integer".into()));
                };
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    Some((
                        Code::OutOfRange,
                        format!("{v} is outside {}..={}", show(*min), show(*max)),
                    ))
                } else {
                    None
                }
            }
            (Check::Boolean, Kind::Bool(_)) => None,
            (Check::Enum(values), Kind::String(s)) => (!values.iter().any(|v| v == s)).then(|| {
                (
                    Code::NotInEnum,
                    format!("`{s}` is not one of {}", values.join(", ")),
                )
            }),
            (Check::List(items), Kind::Array) => value.items().find_map(|i| items.check(i)),
            // mozlog writes arrays as their JSON text (spec §1.2).
            (Check::List(items), Kind::String(s)) => {
                match serde_json::from_str::<serde_json::Value>(s) {
                    Ok(serde_json::Value::Array(list)) => list.iter().find_map(|i| items.check(i)),
                    _ => Some((Code::WrongType, "is not a list".into())),
                }
            }
            _ => Some((Code::WrongType, format!("is not {}", self.type_name()))),
        }
    }

    fn string(
        &self,
        s: &str,
        pattern: &Option<(Regex, String)>,
        max_length: Option<u64>,
    ) -> Option<(Code, String)> {
        if let Some(max) = max_length {
            let len = s.chars().count() as u64;
            if len > max {
                return Some((Code::TooLong, format!("has {len} characters, over {max}")));
            }
        }
        if let Some((regex, js)) = pattern
            && !regex.is_match(s)
        {
            return Some((
                Code::PatternMismatch,
                format!("`{s}` does not match `{js}`"),
            ));
        }
        None
    }

    fn type_name(&self) -> &'static str {
        match self {
            Check::String { .. } => "a string",
            Check::Hex(_) => "a hex string",
            Check::Integer(..) => "an integer",
            Check::Boolean => "a boolean",
            Check::Enum(_) => "an enum string",
            Check::List(_) => "a list",
        }
    }
}

fn show(v: Option<i64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// A violation code; `as_str` is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The line is not JSON (or not UTF-8).
    NotJson,
    /// The line is JSON but not a mozlog line (no `Type`/`Fields`) nor a raw line with `op`.
    NotMozlog,
    /// The line is longer than `--max-line`.
    LineTooLong,
    /// The event name is neither an event nor a family of the service.
    UnknownEvent,
    /// The event is not of the line's kind (an activity line for a flow-only event).
    WrongKind,
    /// A required property (or the event name) is absent.
    MissingProperty,
    /// A key the event does not declare and the line kind does not add.
    UnexpectedProperty,
    /// A value of the wrong JSON type.
    WrongType,
    /// A value that does not match its pattern (or is not hex).
    PatternMismatch,
    /// A value longer than its maximum (or a hex value of the wrong length).
    TooLong,
    /// An enum value that is not declared.
    NotInEnum,
    /// An integer outside its range.
    OutOfRange,
    /// A family parameter that does not fit its type.
    InvalidParameter,
    /// An amplitude `event_type` that no target of the mapping can produce.
    UnproducibleAmplitudeEvent,
}

impl Code {
    /// The code as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotJson => "not-json",
            Code::NotMozlog => "not-mozlog",
            Code::LineTooLong => "line-too-long",
            Code::UnknownEvent => "unknown-event",
            Code::WrongKind => "wrong-kind",
            Code::MissingProperty => "missing-property",
            Code::UnexpectedProperty => "unexpected-property",
            Code::WrongType => "wrong-type",
            Code::PatternMismatch => "pattern-mismatch",
            Code::TooLong => "too-long",
            Code::NotInEnum => "not-in-enum",
            Code::OutOfRange => "out-of-range",
            Code::InvalidParameter => "invalid-parameter",
            Code::UnproducibleAmplitudeEvent => "unproducible-amplitude-event",
        }
    }
}

#[derive(Debug)]
struct PropCheck {
    name: String,
    required: bool,
    check: Check,
}

fn props(properties: &[Property]) -> Vec<PropCheck> {
    properties
        .iter()
        .map(|p| PropCheck {
            name: p.name.clone(),
            required: p.required,
            check: Check::new(&p.ty),
        })
        .collect()
}

#[derive(Debug)]
struct EventCheck {
    kinds: Kinds,
    props: Vec<PropCheck>,
}

#[derive(Debug)]
struct FamilyCheck {
    /// The template with each parameter written as its own type's language: a name that
    /// matches is a valid event of the family.
    strict: Option<Regex>,
    /// The template with every parameter `(.+)`: a name that matches only this has a bad
    /// parameter.
    loose: Regex,
    kinds: Kinds,
    props: Vec<PropCheck>,
}

/// A parameter's language as a regex fragment, when it can be written inside a template.
fn fragment(ty: &PropertyType) -> Option<String> {
    match ty {
        PropertyType::String {
            pattern: Some(p), ..
        } => {
            let inner = p.rust.strip_prefix('^')?.strip_suffix('$')?;
            Some(format!("(?:{inner})"))
        }
        PropertyType::String { pattern: None, .. } => Some("(?:.+)".into()),
        PropertyType::Hex { length: Some(n) } => Some(format!("[0-9a-f]{{{n}}}")),
        PropertyType::Hex { length: None } => Some("[0-9a-f]+".into()),
        PropertyType::Integer { .. } => Some("-?[0-9]+".into()),
        PropertyType::Boolean => Some("(?:true|false)".into()),
        PropertyType::Enum { values } => Some(format!(
            "(?:{})",
            values
                .iter()
                .map(|v| regex::escape(&v.value))
                .collect::<Vec<_>>()
                .join("|")
        )),
        PropertyType::List { .. } => None,
    }
}

fn family_check(f: &Family) -> Option<FamilyCheck> {
    let mut strict = String::from("^");
    let mut loose = String::from("^");
    let mut strict_ok = true;
    for part in &f.name_template {
        match part {
            TemplatePart::Text(t) => {
                strict.push_str(&regex::escape(t));
                loose.push_str(&regex::escape(t));
            }
            TemplatePart::Parameter(p) => {
                loose.push_str("(?:.+)");
                match f
                    .parameters
                    .iter()
                    .find(|x| &x.name == p)
                    .and_then(|x| fragment(&x.ty))
                {
                    Some(frag) => strict.push_str(&frag),
                    None => strict_ok = false,
                }
            }
        }
    }
    strict.push('$');
    loose.push('$');
    Some(FamilyCheck {
        strict: if strict_ok {
            Regex::new(&strict).ok()
        } else {
            None
        },
        loose: Regex::new(&loose).ok()?,
        kinds: f.kinds,
        props: props(&f.properties),
    })
}

/// What a service declares, compiled for checking lines.
#[derive(Debug)]
struct ServiceCheck {
    name: String,
    event_names: Vec<String>,
    events: HashMap<String, usize>,
    event_checks: Vec<EventCheck>,
    /// Per event: the rule that maps its name (`Some(None)`: none, or an exact entry);
    /// `None` when a rewrite reads the line's data first.
    event_rules: Vec<Option<Option<usize>>>,
    family_ids: Vec<String>,
    families: Vec<FamilyCheck>,
    family_set: Option<RegexSet>,
    /// One regex per target of the mapping: what event types it can produce.
    amplitude: Option<RegexSet>,
    service: Service,
}

fn amplitude_types(service: &Service) -> Option<RegexSet> {
    let a = &service.amplitude;
    let mut patterns = Vec::new();
    let targets = a
        .exact
        .values()
        .flatten()
        .chain(a.rules.iter().flat_map(|r| &r.targets));
    for t in targets {
        let group = match &t.group {
            GroupExpr::Fixed(p) => regex::escape(p),
            GroupExpr::Lookup { table, .. } => {
                let values: Vec<String> = a
                    .tables
                    .get(table.0)
                    .map(|t| t.entries.iter().map(|(_, v)| regex::escape(v)).collect())
                    .unwrap_or_default();
                if values.is_empty() {
                    continue;
                }
                format!("(?:{})", values.join("|"))
            }
        };
        // A capture may be any text the rule's pattern captures: any text here.
        let event: String = t
            .event
            .iter()
            .map(|p| match p {
                Part::Text(s) => regex::escape(s),
                Part::Capture(_) | Part::SnakeCapture(_) => "(?s:.*)".into(),
            })
            .collect();
        patterns.push(format!("^{group} - {event}$"));
    }
    RegexSet::new(patterns).ok()
}

impl ServiceCheck {
    fn new(service: &Service) -> ServiceCheck {
        let event_names: Vec<String> = service.events.keys().cloned().collect();
        let events = event_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let event_checks = service
            .events
            .values()
            .map(|e| EventCheck {
                kinds: e.kinds,
                props: props(&e.properties),
            })
            .collect();
        let amplitude = &service.amplitude;
        let event_rules = event_names
            .iter()
            .map(|n| {
                if amplitude.policy.rewrites.iter().any(|r| &r.event == n) {
                    None
                } else if amplitude.exact.contains_key(n) {
                    Some(None)
                } else {
                    Some(amplitude.compiled.first(n))
                }
            })
            .collect();
        let mut family_ids = Vec::new();
        let mut families = Vec::new();
        for (id, f) in &service.families {
            if let Some(check) = family_check(f) {
                family_ids.push(id.clone());
                families.push(check);
            }
        }
        let family_set = RegexSet::new(families.iter().map(|f| f.loose.as_str().to_owned())).ok();
        ServiceCheck {
            name: service.name.clone(),
            event_names,
            events,
            event_checks,
            event_rules,
            family_ids,
            families,
            family_set,
            amplitude: amplitude_types(service),
            service: service.clone(),
        }
    }
}

/// One example of a violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The 1-based line number in the input (files read in order count on).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// Counters of one run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Lines read.
    pub lines: u64,
    /// Lines checked against an event or the mapping.
    pub checked: u64,
    /// Lines of other loggers or other types, not checked.
    pub skipped: u64,
    /// Per code: count and first examples.
    pub violations: BTreeMap<Code, (u64, Vec<Example>)>,
    /// Lines with at least one violation.
    pub bad_lines: u64,
}

/// Checks lines against a model; holds the coverage flags.
#[derive(Debug)]
pub struct Checker {
    services: Vec<ServiceCheck>,
    by_logger: HashMap<String, usize>,
    seen_events: Vec<Vec<bool>>,
    seen_families: Vec<Vec<bool>>,
    seen_rules: Vec<Vec<bool>>,
    examples: usize,
    doc: Doc,
    tally: Tally,
    line_bad: bool,
    /// Which declared properties a line has, reused from line to line.
    seen_props: Vec<bool>,
}

impl Checker {
    /// A checker of every service of `model` that has a mozlog logger, keeping `examples`
    /// examples per code.
    pub fn new(model: &Model, examples: usize) -> Checker {
        let services: Vec<ServiceCheck> = model
            .services
            .values()
            .filter(|s| s.mozlog.is_some())
            .map(ServiceCheck::new)
            .collect();
        let by_logger = services
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((s.service.mozlog.as_ref()?.logger.clone(), i)))
            .collect();
        Checker {
            seen_events: services
                .iter()
                .map(|s| vec![false; s.event_names.len()])
                .collect(),
            seen_families: services
                .iter()
                .map(|s| vec![false; s.families.len()])
                .collect(),
            seen_rules: services
                .iter()
                .map(|s| vec![false; s.service.amplitude.rules.len()])
                .collect(),
            services,
            by_logger,
            examples,
            doc: Doc::new(),
            tally: Tally::default(),
            line_bad: false,
            seen_props: Vec::new(),
        }
    }

    fn violation(&mut self, code: Code, line: u64, message: impl FnOnce() -> String) {
        self.line_bad = true;
        let entry = self.tally.violations.entry(code).or_default();
        entry.0 += 1;
        if entry.1.len() < self.examples {
            entry.1.push(Example {
                line,
                message: message(),
            });
        }
    }

    /// Checks one line of the input (`number` is 1-based).
    pub fn line(&mut self, line: &Line<'_>, number: u64) {
        self.tally.lines += 1;
        self.line_bad = false;
        self.check_line(line, number);
        if self.line_bad {
            self.tally.bad_lines += 1;
        }
    }

    fn check_line(&mut self, line: &Line<'_>, number: u64) {
        if line.too_long {
            self.violation(Code::LineTooLong, number, || {
                "the line is over the limit".into()
            });
            return;
        }
        let Ok(text) = metricsmith::line::utf8(line.text) else {
            self.violation(Code::NotJson, number, || "the line is not UTF-8".into());
            return;
        };
        let text = text.strip_suffix('\r').unwrap_or(text);
        if text.trim().is_empty() {
            self.tally.skipped += 1;
            return;
        }
        // The parse borrows the checker's buffer: take it out for the line.
        let mut doc = std::mem::take(&mut self.doc);
        match doc.parse(text) {
            Err(err) => self.violation(Code::NotJson, number, || format!("not JSON: {err}")),
            Ok(parsed) => self.check_doc(parsed.root(), number),
        }
        self.doc = doc;
    }

    fn check_doc(&mut self, root: Value<'_>, number: u64) {
        let envelope = (
            root.get("Type").and_then(|v| v.as_str()),
            root.get("Logger").and_then(|v| v.as_str()),
            root.get("Fields"),
        );
        let (op, service, fields) = match envelope {
            (Some(ty), Some(logger), Some(fields)) if fields.kind() == Kind::Object => {
                let Some(op) = Op::of(ty) else {
                    self.tally.skipped += 1;
                    return;
                };
                let Some(&service) = self.by_logger.get(logger) else {
                    self.tally.skipped += 1;
                    return;
                };
                (op, service, fields)
            }
            _ => match root.get("op").and_then(|v| v.as_str()) {
                // The content server writes raw flow lines without the envelope (spec §3.4):
                // they belong to the one service with a `stderr` logger named content-server,
                // else to the only service.
                Some(op) if root.kind() == Kind::Object => {
                    let Some(op) = Op::of(op) else {
                        self.tally.skipped += 1;
                        return;
                    };
                    let service = self
                        .services
                        .iter()
                        .position(|s| s.name == "content-server")
                        .or_else(|| (self.services.len() == 1).then_some(0));
                    let Some(service) = service else {
                        self.tally.skipped += 1;
                        return;
                    };
                    (op, service, root)
                }
                _ => {
                    self.violation(Code::NotMozlog, number, || {
                        "no `Type`, `Logger` and `Fields` (nor a raw `op`)".into()
                    });
                    return;
                }
            },
        };
        self.tally.checked += 1;
        if op == Op::Amplitude {
            self.check_amplitude(service, fields, number);
            return;
        }
        let name = match op {
            Op::Email => {
                let template = fields.get("template").and_then(|v| v.as_str());
                let kind = fields.get("type").and_then(|v| v.as_str());
                match (template, kind) {
                    (Some(t), Some(k)) => Cow::Owned(format!("email.{t}.{k}")),
                    _ => {
                        self.violation(Code::MissingProperty, number, || {
                            "an emailEvent line without `template` and `type`".into()
                        });
                        return;
                    }
                }
            }
            _ => match fields.get("event").and_then(|v| v.as_str()) {
                Some(n) => Cow::Borrowed(n),
                None => {
                    self.violation(Code::MissingProperty, number, || {
                        format!("a {} line without `event`", op.name())
                    });
                    return;
                }
            },
        };
        let s = &self.services[service];
        if let Some(&i) = s.events.get(name.as_ref()) {
            // The rule of a declared name is known, unless a rewrite reads the line's data.
            match s.event_rules[i] {
                Some(Some(rule)) => self.seen_rules[service][rule] = true,
                Some(None) => {}
                None => self.cover_rules(service, &name, fields),
            }
            let s = &self.services[service];
            self.seen_events[service][i] = true;
            let kinds = s.event_checks[i].kinds;
            self.check_event(service, op, &name, kinds, Target::Event(i), fields, number);
            return;
        }
        self.cover_rules(service, &name, fields);
        let s = &self.services[service];
        // The family whose template and parameter types fit the name; else one whose template
        // fits, with a bad parameter.
        let family = s.family_set.as_ref().and_then(|set| {
            let loose = set.matches(name.as_ref());
            let strict = loose.iter().find(|&f| {
                s.families[f]
                    .strict
                    .as_ref()
                    .is_none_or(|r| r.is_match(name.as_ref()))
            });
            strict.or_else(|| loose.iter().next())
        });
        let Some(f) = family else {
            let service_name = s.name.clone();
            self.violation(Code::UnknownEvent, number, || {
                format!("`{name}` is not an event of `{service_name}`")
            });
            return;
        };
        let check = &s.families[f];
        let bad_parameter = check
            .strict
            .as_ref()
            .is_some_and(|r| !r.is_match(name.as_ref()));
        let kinds = check.kinds;
        let id = s.family_ids[f].clone();
        self.seen_families[service][f] = true;
        if bad_parameter {
            self.violation(Code::InvalidParameter, number, || {
                format!("`{name}` has a parameter of family `{id}` that does not fit its type")
            });
        }
        self.check_event(service, op, &name, kinds, Target::Family(f), fields, number);
    }

    #[allow(clippy::too_many_arguments)]
    fn check_event(
        &mut self,
        service: usize,
        op: Op,
        name: &str,
        kinds: Kinds,
        target: Target,
        fields: Value<'_>,
        number: u64,
    ) {
        if !op.allowed(kinds) {
            self.violation(Code::WrongKind, number, || {
                format!("`{name}` is not logged as {}", op.name())
            });
        }
        // One pass over the line's keys, each found among the declared properties; then the
        // required ones that were not found. Messages are only written while examples are kept.
        let mut found: Vec<(Code, String)> = Vec::new();
        let mut seen = std::mem::take(&mut self.seen_props);
        {
            let s = &self.services[service];
            let props = match target {
                Target::Event(i) => &s.event_checks[i].props,
                Target::Family(f) => &s.families[f].props,
            };
            let wanted = |code: Code| {
                self.tally
                    .violations
                    .get(&code)
                    .is_none_or(|(_, examples)| examples.len() < self.examples)
            };
            seen.clear();
            seen.resize(props.len(), false);
            for (key, value) in fields.entries() {
                match props.iter().position(|p| p.name == key) {
                    Some(i) => {
                        seen[i] = true;
                        if let Some((code, message)) = props[i].check.check(value) {
                            let message = if wanted(code) {
                                format!("`{name}`.`{key}` {message}")
                            } else {
                                String::new()
                            };
                            found.push((code, message));
                        }
                    }
                    None if op.adds(key) => {}
                    None => {
                        let code = Code::UnexpectedProperty;
                        let message = if wanted(code) {
                            format!("`{name}` has undeclared `{key}`")
                        } else {
                            String::new()
                        };
                        found.push((code, message));
                    }
                }
            }
            for (p, _) in props
                .iter()
                .zip(&seen)
                .filter(|(p, seen)| p.required && !**seen)
            {
                found.push((
                    Code::MissingProperty,
                    format!("`{name}` lacks required `{}`", p.name),
                ));
            }
        }
        self.seen_props = seen;
        for (code, message) in found {
            self.violation(code, number, || message);
        }
    }

    /// Marks the rule that maps `name` (after a rewrite) as seen.
    fn cover_rules(&mut self, service: usize, name: &str, fields: Value<'_>) {
        let amplitude = &self.services[service].service.amplitude;
        let rewritten;
        let name = match amplitude.policy.rewrites.iter().find(|r| r.event == name) {
            Some(r) => {
                rewritten =
                    r.to.iter()
                        .map(|p| match p {
                            RewritePart::Text(t) => t.clone(),
                            RewritePart::Data(k) => match fields.get(k).map(|v| v.kind()) {
                                Some(Kind::String(s)) => s.to_owned(),
                                Some(_) => fields
                                    .get(k)
                                    .map(|v| v.to_json().to_string())
                                    .unwrap_or_default(),
                                None => "undefined".into(),
                            },
                        })
                        .collect::<String>();
                rewritten.as_str()
            }
            None => name,
        };
        if amplitude.exact.contains_key(name) {
            return;
        }
        if let Some(rule) = amplitude.compiled.first(name) {
            self.seen_rules[service][rule] = true;
        }
    }

    fn check_amplitude(&mut self, service: usize, fields: Value<'_>, number: u64) {
        let Some(event_type) = fields.get("event_type").and_then(|v| v.as_str()) else {
            self.violation(Code::MissingProperty, number, || {
                "an amplitudeEvent line without `event_type`".into()
            });
            return;
        };
        let producible = self.services[service]
            .amplitude
            .as_ref()
            .is_some_and(|set| set.is_match(event_type));
        if !producible {
            self.violation(Code::UnproducibleAmplitudeEvent, number, || {
                format!("no target of the mapping produces `{event_type}`")
            });
        }
    }

    /// The counters so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Per service: the events, families and rules never seen.
    pub fn unseen(&self) -> Vec<Unseen> {
        self.services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let events = s
                    .event_names
                    .iter()
                    .zip(&self.seen_events[i])
                    .filter(|(_, seen)| !**seen)
                    .map(|(n, _)| n.clone())
                    .collect();
                let families = s
                    .family_ids
                    .iter()
                    .zip(&self.seen_families[i])
                    .filter(|(_, seen)| !**seen)
                    .map(|(n, _)| n.clone())
                    .collect();
                let rules = s
                    .service
                    .amplitude
                    .rules
                    .iter()
                    .zip(&self.seen_rules[i])
                    .filter(|(_, seen)| !**seen)
                    .map(|(r, _)| (r.index, r.js_pattern.clone()))
                    .collect();
                Unseen {
                    service: s.name.clone(),
                    events,
                    families,
                    rules,
                }
            })
            .collect()
    }

    /// The result as JSON (docs/diff.md describes it).
    pub fn to_json(&self) -> serde_json::Value {
        let t = &self.tally;
        json!({
            "format": 1,
            "lines": t.lines,
            "checked": t.checked,
            "skipped": t.skipped,
            "bad_lines": t.bad_lines,
            "violations": t.violations.iter().map(|(code, (count, examples))| json!({
                "code": code.as_str(),
                "count": count,
                "examples": examples.iter().map(|e| json!({"line": e.line, "message": e.message})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "coverage": self.unseen().into_iter().map(|Unseen { service, events, families, rules }| json!({
                "service": service,
                "events_never_seen": events,
                "families_never_seen": families,
                "rules_never_seen": rules.into_iter().map(|(i, p)| json!({"index": i, "pattern": p})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// The result as text.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let t = &self.tally;
        let mut out = String::new();
        for (code, (count, examples)) in &t.violations {
            let _ = writeln!(out, "{}: {count}", code.as_str());
            for e in examples {
                let _ = writeln!(out, "  line {}: {}", e.line, e.message);
            }
        }
        for Unseen {
            service,
            events,
            families,
            rules,
        } in self.unseen()
        {
            let _ = writeln!(
                out,
                "coverage of {service}: {} events, {} families and {} rules never seen",
                events.len(),
                families.len(),
                rules.len()
            );
            if !events.is_empty() {
                let _ = writeln!(out, "  events: {}", events.join(", "));
            }
            if !families.is_empty() {
                let _ = writeln!(out, "  families: {}", families.join(", "));
            }
            for (i, p) in rules {
                let _ = writeln!(out, "  rule {i}: {p}");
            }
        }
        let _ = writeln!(
            out,
            "{} lines: {} checked, {} skipped, {} with violations",
            t.lines, t.checked, t.skipped, t.bad_lines
        );
        out
    }
}

/// What one service declares and the input never showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unseen {
    /// The service.
    pub service: String,
    /// Events never seen.
    pub events: Vec<String>,
    /// Families never seen, by id.
    pub families: Vec<String>,
    /// Rules never seen: index and pattern as written.
    pub rules: Vec<(usize, String)>,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Event(usize),
    Family(usize),
}

/// Runs the check and returns the exit status: 0 without violations, 1 with, 2 on a usage or
/// I/O error or a schema that does not load.
pub fn run(args: &Args) -> std::process::ExitCode {
    use std::process::ExitCode;
    let model = match crate::schema::load_or_report(&args.schema) {
        Ok(model) => model,
        Err(report) => {
            eprintln!("{report}");
            return ExitCode::from(2);
        }
    };
    let mut checker = Checker::new(&model, args.examples);
    if checker.services.is_empty() {
        eprintln!(
            "error: no service with a `mozlog:` logger in {}",
            args.schema.display()
        );
        return ExitCode::from(2);
    }
    let mut number = 0u64;
    let stdin_only = args.files.is_empty() || args.files.iter().all(|f| f.as_os_str() == "-");
    let inputs: Vec<Option<&PathBuf>> = if stdin_only {
        vec![None]
    } else {
        args.files
            .iter()
            .map(|f| (f.as_os_str() != "-").then_some(f))
            .collect()
    };
    for input in inputs {
        let reader: Box<dyn Read> = match input {
            None => Box::new(io::stdin().lock()),
            Some(path) => match std::fs::File::open(path) {
                Ok(f) => Box::new(f),
                Err(err) => {
                    eprintln!("error: cannot read `{}`: {err}", path.display());
                    return ExitCode::from(2);
                }
            },
        };
        let mut lines = line::Reader::with_limit(reader, args.max_line);
        loop {
            match lines.next_line() {
                Ok(Some(line)) => {
                    number += 1;
                    checker.line(&line, number);
                }
                Ok(None) => break,
                Err(err) => {
                    eprintln!("error: reading input: {err}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    let text = match args.format {
        Format::Text => checker.to_text(),
        Format::Json => format!("{:#}\n", checker.to_json()),
    };
    let _ = io::stdout().write_all(text.as_bytes());
    if checker.tally.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
