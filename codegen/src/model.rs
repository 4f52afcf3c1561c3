//! The validated model: what backends consume.
//!
//! A [`Model`] is only ever built by the front end after every check passed, so backends trust
//! it and never re-validate.
//! Every collection is a `BTreeMap` or a sorted `Vec`, so output never depends on hash order.
//!
//! The Amplitude part is built from the runtime's own types (crate `metricsmith-spec`, which the
//! runtime re-exports as `metricsmith::amplitude`): targets, values, conditions and the layout are
//! handed over as they are.
//! Around them the model keeps what reviewers need (descriptions, group keys, table names,
//! source locations, shadowing); `also` targets are already flattened.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The expression and layout types are the runtime's own (crate `metricsmith-spec`): the model
/// hands them to the runtime as they are.
pub use metricsmith_spec::{
    Capture, Cond, DeviceCounts, Field, GroupExpr, Layout, Newsletter, Part, Policy, PropertyRule,
    Rewrite, RewritePart, ServiceRule, Source, TableId, Target, Value,
};

pub use crate::first_match::CompiledRules;

/// Every service found in the loaded schema files, by service name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Model {
    /// Services by name (the `service:` of each entry file).
    pub services: BTreeMap<String, Service>,
    /// The warehouse tables, when a file declares them.
    pub warehouse: Option<crate::warehouse::Warehouse>,
}

/// One service: an entry file and everything it includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The `service:` name, e.g. `auth-server`.
    pub name: String,
    /// The entry file's description.
    pub description: Option<String>,
    /// Every file that contributed, entry file first, then includes in load order
    /// (for `cargo:rerun-if-changed`).
    pub files: Vec<PathBuf>,
    /// Where mozlog lines go.
    pub mozlog: Option<Mozlog>,
    /// The governance defaults of the service (`defaults:`), which definitions inherit.
    pub defaults: Governance,
    /// Events by dotted name.
    pub events: BTreeMap<String, Event>,
    /// Event families by id.
    pub families: BTreeMap<String, Family>,
    /// The Amplitude mapping.
    pub amplitude: Amplitude,
    /// The `POST /metrics` collector, when the service declares one.
    pub collector: Option<Collector>,
    /// Breaking changes accepted on purpose (`accepted_changes:` of its files, in load order).
    pub accepted_changes: Vec<AcceptedChange>,
}

impl Service {
    /// Every property of the service in the order that names the shared value types of
    /// generated code: events by name, then families by id (parameters, then properties), each
    /// in declared order.
    pub fn value_type_order(&self) -> impl Iterator<Item = &Property> {
        self.events.values().flat_map(|e| &e.properties).chain(
            self.families
                .values()
                .flat_map(|f| f.parameters.iter().chain(&f.properties)),
        )
    }
}

/// A breaking change accepted on purpose, for `metricsmith diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedChange {
    /// `CODE:PATH` as written.
    pub change: String,
    /// Why the change is acceptable.
    pub reason: String,
    /// Where it is written.
    pub location: Location,
}

/// The mozlog logger of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mozlog {
    /// The logger name, e.g. `fxa-auth-server`.
    pub logger: String,
    /// The stream the lines are written to.
    pub stream: Stream,
}

/// An output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A place in a schema file, for generated docs and messages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file as it was named to the loader (relative paths stay relative).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

/// The kinds of an event (FxA spec §2-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Kinds {
    /// An activity event (`activityEvent` line).
    pub activity: bool,
    /// Whether the event is a flow event.
    pub flow: FlowKind,
    /// An email event (`emailEvent` line).
    pub email: bool,
}

/// Whether an event belongs to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum FlowKind {
    /// Always a flow event (`flow`).
    Required,
    /// A flow event when flow data is present (`optional-flow`).
    Optional,
    /// Never a flow event (`not-flow`, or no flow kind at all).
    #[default]
    None,
}

/// A calendar date (proleptic Gregorian), ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// The year, e.g. 2026.
    pub year: u16,
    /// The month, 1-12.
    pub month: u8,
    /// The day of the month, 1-31.
    pub day: u8,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// When an event expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expiry {
    /// On this date (`YYYY-MM-DD`).
    Date(Date),
    /// With this version of the service (`vNNN`).
    Version(u32),
    /// Never (`never`).
    Never,
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expiry::Date(date) => date.fmt(f),
            Expiry::Version(version) => write!(f, "v{version}"),
            Expiry::Never => f.write_str("never"),
        }
    }
}

/// Governance metadata, after merging defaults (entry file, then includes) under the event's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Governance {
    /// Owners' notification emails.
    pub owners: Vec<String>,
    /// Bug links.
    pub bugs: Vec<String>,
    /// Data-review links.
    pub data_reviews: Vec<String>,
    /// When the event expires; `None` only when a `missing-governance` lint was allowed.
    pub expires: Option<Expiry>,
    /// The version that introduced the event.
    pub version: Option<u32>,
}

/// A validated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The dotted name, e.g. `account.login`.
    pub name: String,
    /// The Rust type name, e.g. `AccountLogin` (from [`crate::ident`]).
    pub rust_name: String,
    /// What the event means.
    pub description: String,
    /// Its kinds.
    pub kinds: Kinds,
    /// Request `service` values for which it is not a flow event (sorted).
    pub not_flow_for_services: Vec<String>,
    /// Its properties, in declared order (the key order of its data in mozlog lines).
    pub properties: Vec<Property>,
    /// Governance metadata.
    pub governance: Governance,
    /// The mozlog logger suffix (`<service logger>.<logger>`), if any.
    pub logger: Option<String>,
    /// Where the event is defined.
    pub location: Location,
    /// How the Amplitude mapping treats this event's name, when it can be decided statically.
    pub amplitude: Option<MappedBy>,
    /// Its example and what the mapping makes of it (computed once by lowering).
    pub example: EventExample,
}

/// A validated event family: events whose names vary by typed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The family id, e.g. `route`.
    pub id: String,
    /// The Rust type name of the family, e.g. `Route`.
    pub rust_name: String,
    /// The name template, e.g. `route.{path}.{status}`.
    pub name_template: Vec<TemplatePart>,
    /// The template as written.
    pub name: String,
    /// The parameters, in the order they first appear in the template.
    pub parameters: Vec<Property>,
    /// What the events mean.
    pub description: String,
    /// Their kinds.
    pub kinds: Kinds,
    /// Their properties, in declared order.
    pub properties: Vec<Property>,
    /// Governance metadata.
    pub governance: Governance,
    /// The mozlog logger suffix, if any.
    pub logger: Option<String>,
    /// Where the family is defined.
    pub location: Location,
    /// What maps the family's events, when the service maps any and a policy rewrite renames
    /// none of them: `Exact` when an exact name is an event of the family, `Rule(i)` when rule
    /// `i` maps one of its names (the shortest name a rule maps; with `amplitude: false`, one
    /// that is an event of the family when there is one), `Unmapped` or `Excluded` when
    /// nothing can.
    pub amplitude: Option<MappedBy>,
    /// An example event of the family and what the mapping makes of it (computed once by
    /// lowering): a declared event or exact name of the family when there is one.
    pub example: EventExample,
    /// The parameter values `example` was rendered from, in parameter order (empty when the
    /// example is incomplete).
    pub example_values: Vec<String>,
    /// The example with each value of the family's first enum parameter, in declared order
    /// (empty without one).
    pub value_examples: Vec<EventExample>,
}

/// A piece of a family's name template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// A parameter, by name.
    Parameter(String),
}

/// A typed property (or family parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The name in the event data, e.g. `marketingOptIn`.
    pub name: String,
    /// The Rust field name, e.g. `marketing_opt_in` (from [`crate::ident`]).
    pub rust_name: String,
    /// The type and its constraints.
    pub ty: PropertyType,
    /// Whether every event carries it (parameters are always required).
    pub required: bool,
    /// Its data-sensitivity class.
    pub sensitivity: Sensitivity,
    /// What it means.
    pub description: Option<String>,
}

/// A property type with its constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyType {
    /// A string, optionally matching a pattern and bounded in length (in characters).
    String {
        /// The pattern the value must match.
        pattern: Option<Pattern>,
        /// The maximum length in characters.
        max_length: Option<u64>,
    },
    /// Lowercase hexadecimal of a fixed length, if given.
    Hex {
        /// The exact length in characters.
        length: Option<u64>,
    },
    /// A signed integer in an inclusive range.
    Integer {
        /// The minimum.
        min: Option<i64>,
        /// The maximum.
        max: Option<i64>,
    },
    /// `true` or `false`.
    Boolean,
    /// One of a fixed set of strings.
    Enum {
        /// The values, in declared order.
        values: Vec<EnumValue>,
    },
    /// A list of items of one type.
    List {
        /// The item type.
        items: Box<PropertyType>,
    },
}

/// What makes properties share one value type of the generated `values` module: strings with
/// the same pattern and maximum length, or enums with the same values in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueKey<'a> {
    /// A string with a pattern (its Rust form, empty for none) or a maximum length.
    Text(&'a str, Option<u64>),
    /// An enum with these values.
    Enum(&'a [EnumValue]),
}

impl PropertyType {
    /// The value type this type needs in generated code, if any (a list's is its items').
    pub fn value_key(&self) -> Option<ValueKey<'_>> {
        match self {
            PropertyType::String {
                pattern,
                max_length,
            } if pattern.is_some() || max_length.is_some() => Some(ValueKey::Text(
                pattern.as_ref().map_or("", |p| p.rust.as_str()),
                *max_length,
            )),
            PropertyType::Enum { values } => Some(ValueKey::Enum(values)),
            PropertyType::List { items } => items.value_key(),
            _ => None,
        }
    }
}

/// One value of an enum property.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnumValue {
    /// The value as it appears in data, e.g. `send_code`.
    pub value: String,
    /// The Rust variant name, e.g. `SendCode`.
    pub rust_name: String,
}

/// A regex written in the JavaScript flavour and its Rust translation (see [`crate::jsregex`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// As written in the schema.
    pub js: String,
    /// The same language in `regex` crate syntax.
    pub rust: String,
    /// The number of capture groups.
    pub captures: usize,
}

/// A data-sensitivity class (Mozilla's data collection categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Sensitivity {
    /// Category 1: technical data.
    #[default]
    Technical,
    /// Category 2: interaction data.
    Interaction,
    /// Category 3: stored content or identifiers.
    Identifier,
    /// Category 4: highly sensitive data.
    Sensitive,
}

/// How the Amplitude mapping handles an event's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MappedBy {
    /// An `exact` entry.
    Exact,
    /// The rule at this index (the first that matches).
    Rule(usize),
    /// Nothing maps it: the transform drops it.
    Unmapped,
    /// Nothing maps it, on purpose: the event says `amplitude: false`.
    Excluded,
}

/// The Amplitude mapping of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amplitude {
    /// Groups by key, e.g. `login` -> `fxa_login`.
    pub groups: BTreeMap<String, Group>,
    /// Lookup tables; [`TableId`] indexes this (sorted by name).
    pub tables: Vec<Table>,
    /// Exact source names and the amplitude events each produces (`also` flattened).
    pub exact: BTreeMap<String, Vec<Target>>,
    /// Ordered regex rules: the first that matches wins.
    pub rules: Vec<Rule>,
    /// The event shape, when the schema declares one.
    pub layout: Option<Layout>,
    /// Per-service policies.
    pub policy: Policy,
    /// Worked examples, in declared order (entry file first).
    pub examples: Vec<Example>,
    /// The rules' patterns compiled once by lowering, which the docs and the tests reuse.
    pub compiled: CompiledRules,
}

/// A worked example: an input and the amplitude events the service must log for it.
///
/// JSON values are kept as compact JSON text (object keys in declared order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// What the example shows.
    pub description: Option<String>,
    /// The source event name.
    pub event: String,
    /// The event time as JSON text; `None` when absent.
    pub time: Option<String>,
    /// The data bag as JSON text (an object); `None` when absent.
    pub data: Option<String>,
    /// OAuth client id -> service name, sorted by id.
    pub oauth_clients: Vec<(String, String)>,
    /// The configured app version.
    pub app_version: Option<String>,
    /// The clock's now in ms.
    pub now_ms: i64,
    /// Each expected amplitude event as JSON text.
    pub expect: Vec<String>,
    /// Where the example is defined.
    pub location: Location,
}

/// An Amplitude group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The key, e.g. `login`.
    pub key: String,
    /// The prefix, e.g. `fxa_login`.
    pub prefix: String,
    /// What the group covers.
    pub description: String,
    /// The event properties the group adds (spec §4.3).
    pub event_properties: Option<GroupProperties>,
}

/// Event properties that one group adds (FxA's `EVENT_PROPERTIES[group]`); not pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupProperties {
    /// When one fails, the group adds nothing.
    pub when: Vec<Cond>,
    /// The properties, in output (declared) order.
    pub set: Vec<PropertyRule>,
}

/// A lookup table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The table name, e.g. `email_types`.
    pub name: String,
    /// What it maps.
    pub description: String,
    /// Whether the values were group keys (now resolved to prefixes).
    pub values_are_groups: bool,
    /// Key -> value, sorted by key; group keys already resolved to prefixes.
    pub entries: Vec<(String, String)>,
}

/// An ordered regex rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its position in `rules` (0-based).
    pub index: usize,
    /// The pattern as written (JavaScript syntax), for docs and messages.
    pub js_pattern: String,
    /// The pattern in `regex` crate syntax; this is what the runtime's `Rule::pattern` gets.
    pub rust_pattern: String,
    /// The number of capture groups.
    pub captures: usize,
    /// What the rule is for.
    pub description: Option<String>,
    /// What it produces (`also` flattened after the main target).
    pub targets: Vec<Target>,
    /// Whether earlier rules match every name this rule matches (it can never win).
    pub shadowed: bool,
    /// When shadowed, the indices of the earlier rules that match names this rule matches.
    pub shadowed_by: Vec<usize>,
    /// Where the rule is defined.
    pub location: Location,
    /// Whether its pattern matches no name at all (the `unmatchable-rule` lint was allowed).
    pub unmatchable: bool,
    /// A name the rule wins and what it maps to, when one can be derived from its pattern.
    pub example: Option<RuleExample>,
    /// Later rules (0-based) whose examples this rule matches, so it takes them first.
    pub takes_from: Vec<usize>,
    /// Exact names this rule also matches (the exact mapping wins), sorted.
    pub exact_matched: Vec<String>,
}

/// A rule's example name: one the rule wins, preferring one that produces amplitude events
/// (its category capture then takes a key of the table the rule looks it up in); else any name
/// the rule matches, which shows what takes it instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleExample {
    /// The name.
    pub name: String,
    /// What the name with empty data produces.
    pub outcome: Outcome,
    /// Every rule (0-based) that matches the name, in order.
    pub matching: Vec<usize>,
}

/// An example of an event or family: one value of each property that has one (derived from its
/// type), and what the mapping makes of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventExample {
    /// The event name; for a family, its template with example parameters (the template as
    /// written when a parameter has no example value).
    pub name: String,
    /// The data bag: every property that has an example value, in declared order.
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Whether every property (and parameter) has an example value.
    pub complete: bool,
    /// What `name` with `data` produces.
    pub outcome: Outcome,
}

/// Which definition of the mapping a name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolved {
    /// An exact name.
    Exact,
    /// The rule at this index.
    Rule(usize),
    /// Nothing: the transform produces no event.
    #[default]
    None,
}

/// The outcome of a name and data bag through the mapping.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The name after rewrites.
    pub name: String,
    /// What matched.
    pub resolved: Resolved,
    /// The `event_type` of every amplitude event produced, in order.
    pub event_types: Vec<String>,
}

/// The `POST /metrics` collector of a service: the declared request body and the policy of
/// its processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collector {
    /// What the collector receives.
    pub description: Option<String>,
    /// Which FxA route's processing runs after validation.
    pub handler: Handler,
    /// The route's path, e.g. `/metrics`.
    pub path: String,
    /// The logger name of the `validation.failed` line, e.g. `server.routes`.
    pub validation_logger: String,
    /// Whether values are converted as Joi's `convert` mode does.
    pub convert: bool,
    /// The largest request body in bytes.
    pub max_body_bytes: u64,
    /// Whether sampled users get `client.metrics` and `client.marketing` lines.
    pub client_metrics: bool,
    /// The body: an object whose fields are checked in order.
    pub body: ObjectShape,
    /// The flow-event policy (content-server handler).
    pub flow: Option<FlowPolicy>,
    /// The languages `Accept-Language` is negotiated against.
    pub languages: Option<Languages>,
    /// Event names never handed to the Amplitude mapping.
    pub unmapped: Vec<Pattern>,
}

/// Which FxA route's processing runs after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// fxa-content-server's `post-metrics.js` (April 2019): flow events, `client.metrics`
    /// lines and amplitude events; answers `{"success":true}`.
    ContentServer,
    /// fxa-payments-server's `post-metrics.js` (October 2019): amplitude events only, from the
    /// posted `data`; answers with an empty body.
    PaymentsServer,
}

impl Handler {
    /// The name used in schemas.
    pub fn as_str(self) -> &'static str {
        match self {
            Handler::ContentServer => "content-server",
            Handler::PaymentsServer => "payments-server",
        }
    }
}

/// What happens to keys an object does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownKeys {
    /// Removed silently.
    Strip,
    /// The request is rejected.
    Reject,
    /// Kept.
    Keep,
}

/// An object of the body: its declared fields in check order, or any content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectShape {
    /// The declared fields in order; `None` accepts any object as it is.
    pub fields: Option<Vec<BodyField>>,
    /// What happens to undeclared keys.
    pub unknown_keys: UnknownKeys,
}

/// One declared field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyField {
    /// The key.
    pub name: String,
    /// What it holds.
    pub description: Option<String>,
    /// Whether it must be present.
    pub required: bool,
    /// Its value's rule.
    pub rule: ValueRule,
}

/// The rule of one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRule {
    /// Strings accepted as they are, before the type is checked.
    pub allow: Vec<String>,
    /// Whether `null` is accepted.
    pub nullable: bool,
    /// The type and its constraints.
    pub shape: Shape,
}

/// A value's type and constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// A string.
    String(StringShape),
    /// An integer.
    Integer(NumberShape),
    /// A finite number.
    Number(NumberShape),
    /// A boolean.
    Boolean,
    /// An object.
    Object(ObjectShape),
    /// An array.
    Array(ArrayShape),
}

/// The items of an array and how many are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayShape {
    /// The rule of each item.
    pub items: Box<ValueRule>,
    /// The most items accepted.
    pub max_items: Option<u64>,
}

/// The constraints of a string or URI.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StringShape {
    /// The only values accepted, when not empty.
    pub values: Vec<String>,
    /// Only hexadecimal digits.
    pub hex: bool,
    /// The exact length in UTF-16 units, as JavaScript counts.
    pub length: Option<u64>,
    /// The maximum length in UTF-16 units.
    pub max_length: Option<u64>,
    /// A regex the value must match.
    pub pattern: Option<Pattern>,
    /// A URI with one of these schemes (`None`: not a URI).
    pub uri_schemes: Option<Vec<String>>,
}

/// The bounds of a number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumberShape {
    /// The minimum.
    pub min: Option<i64>,
    /// The maximum.
    pub max: Option<Limit>,
}

/// The default of the `max_event_offset` setting: FxA's `client_metrics.max_event_offset`,
/// two days in ms.
pub const DEFAULT_MAX_EVENT_OFFSET_MS: i64 = 172_800_000;

/// A maximum: a value, or a collector setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A fixed value.
    Value(i64),
    /// The `max_event_offset` setting (`--max-event-offset-ms`).
    MaxEventOffset,
}

/// The flow-event policy of the content-server handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowPolicy {
    /// Body properties that, when truthy, must match for the flow data to be valid.
    pub properties: Vec<(String, Pattern)>,
    /// The body properties copied into every flow line, in order.
    pub picked: Vec<Picked>,
    /// Picked values are cut to this many characters.
    pub max_length: u64,
    /// The `initialView` values whose `loaded` event is `flow.performance.auth`.
    pub auth_views: Vec<String>,
}

/// A property copied into flow lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    /// The key.
    pub name: String,
    /// A regex the value must match, or it is left out.
    pub pattern: Option<Pattern>,
    /// Whether it is kept under `DNT: 1`.
    pub dnt: bool,
    /// The property used when this one is empty.
    pub fallback: Option<String>,
}

/// The languages of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages {
    /// The language when nothing matches.
    pub default: String,
    /// The debug language.
    pub debug: Option<String>,
    /// The supported tags, in schema order.
    pub supported: Vec<String>,
}
