//! The abstract syntax tree: serde types that mirror the YAML exactly.
//!
//! Every value a user may be told about carries its byte range ([`Spanned`]).
//! The same types derive `JsonSchema`, so the JSON Schema editors use is generated from the
//! types that parse.

use std::borrow::Cow;
use std::ops::Range;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};

/// A value and the byte range of its YAML node (quotes included) in its file.
///
/// Offsets, lines and columns are `u32` (files are far smaller than 4 GiB; the loader's size
/// limit is 16 MiB by default): a schema of 2,000 events holds about 100,000 spans, and 16
/// bytes less per span is a tenth of the syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Byte range inside the file; `u32::MAX..u32::MAX` when the parser reported none.
    pub range: Range<u32>,
    /// 1-based line and column as the parser reported them (used when bytes are unknown).
    pub line_col: (u32, u32),
}

impl<T> Spanned<T> {
    /// The byte range inside the file, when the parser reported one.
    pub fn bytes(&self) -> Option<Range<usize>> {
        (self.range.start != u32::MAX).then_some(self.range.start as usize..self.range.end as usize)
    }
}

/// A parser's offset or position as a span part; one that does not fit is unknown.
fn part(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The fast YAML path answers with its own span protocol.
        if crate::yaml::active() {
            return crate::yaml::spanned(deserializer);
        }
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let location = spanned.referenced;
        let span = location.span();
        let start = part(span.byte_offset().unwrap_or(u64::MAX));
        let end = match start {
            u32::MAX => u32::MAX,
            start => part(u64::from(start) + span.byte_len().unwrap_or(0)),
        };
        let range = if end == u32::MAX {
            u32::MAX..u32::MAX
        } else {
            start..end
        };
        Ok(Spanned {
            value: spanned.value,
            range,
            line_col: (part(location.line()).max(1), part(location.column()).max(1)),
        })
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// A YAML mapping whose order and key spans are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

impl<V> Map<V> {
    /// The entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = &(Spanned<String>, V)> {
        self.0.iter()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Map<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = Map<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Map<V>, E> {
                Ok(Map::default())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Map<V>, A::Error> {
                // Sized once when the parser knows the count (the fast path does): growing by
                // doubling leaves up to half of each small mapping's room unused.
                // Capped, as serde does, so a hint cannot allocate much up front.
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(4096));
                while let Some(key) = access.next_key::<Spanned<String>>()? {
                    entries.push((key, access.next_value()?));
                }
                Ok(Map(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for Map<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let values = generator.subschema_for::<V>();
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": values,
        })
    }
    fn inline_schema() -> bool {
        true
    }
}

/// One schema file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "metricsmith schema file")]
pub struct File {
    /// The format version; must be `1`.
    pub metricsmith: Option<Spanned<u32>>,
    /// The service this entry file describes; include-only files have none.
    pub service: Option<Spanned<String>>,
    /// What the file contains.
    pub description: Option<String>,
    /// Files to include, relative to this file.
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    /// Governance defaults for every event and family of the service.
    pub defaults: Option<Spanned<Governance>>,
    /// The mozlog logger of the service.
    pub mozlog: Option<Spanned<Mozlog>>,
    /// Shared typed properties, referenced by name from events.
    #[serde(default)]
    pub properties: Map<PropertyDef>,
    /// Events by dotted name.
    #[serde(default)]
    pub events: Map<EventDef>,
    /// Event families by id.
    #[serde(default)]
    pub families: Map<FamilyDef>,
    /// The Amplitude mapping.
    pub amplitude: Option<Amplitude>,
    /// The analysts' warehouse tables (one file of a model declares them).
    pub warehouse: Option<Spanned<crate::warehouse::WarehouseDef>>,
    /// The `POST /metrics` collector: the request body a front end may post, and the policy
    /// of how the service turns it into lines.
    pub collector: Option<Spanned<CollectorDef>>,
    /// Breaking changes accepted on purpose, each with its reason: `metricsmith diff` reports
    /// them as allowed (docs/diff.md).
    #[serde(default)]
    pub accepted_changes: Vec<AcceptedChange>,
}

/// A breaking change accepted on purpose.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedChange {
    /// `CODE:PATH` of the change, as `metricsmith diff` prints it, e.g.
    /// `event-renamed:auth-server.events.account.deleted`; a trailing `*` matches every path
    /// with the prefix before it.
    pub change: Spanned<String>,
    /// Why the change is acceptable (who agreed, which bug).
    pub reason: Spanned<String>,
}

/// Governance metadata.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Governance {
    /// Owners' notification emails.
    pub owners: Option<Vec<Spanned<String>>>,
    /// Bug links.
    pub bugs: Option<Vec<Spanned<String>>>,
    /// Data-review links.
    pub data_reviews: Option<Vec<Spanned<String>>>,
    /// `YYYY-MM-DD`, `vNNN` or `never`.
    pub expires: Option<Spanned<String>>,
}

/// The mozlog logger.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mozlog {
    /// The logger name.
    pub logger: Spanned<String>,
    /// `stdout` or `stderr`.
    pub stream: Spanned<Stream>,
}

/// An output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A property type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TypeName {
    /// A string.
    String,
    /// Lowercase hex.
    Hex,
    /// An integer.
    Integer,
    /// A boolean.
    Boolean,
    /// One of `values`.
    Enum,
    /// A list of `items`.
    List,
}

/// A data-sensitivity class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// Technical data.
    Technical,
    /// Interaction data.
    Interaction,
    /// Identifiers.
    Identifier,
    /// Highly sensitive data.
    Sensitive,
}

/// A property definition, or (without `type`) a reference to a shared property.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PropertyDef {
    /// The type; absent in a reference.
    #[serde(rename = "type")]
    pub ty: Option<Spanned<TypeName>>,
    /// The shared property this entry refers to (default: the entry's own name).
    #[serde(rename = "use")]
    pub use_: Option<Spanned<String>>,
    /// `string`: a JavaScript regex the value must match.
    pub pattern: Option<Spanned<String>>,
    /// `string`: the maximum length in characters.
    pub max_length: Option<Spanned<u64>>,
    /// `hex`: the exact length.
    pub length: Option<Spanned<u64>>,
    /// `integer`: the minimum.
    pub min: Option<Spanned<i64>>,
    /// `integer`: the maximum.
    pub max: Option<Spanned<i64>>,
    /// `enum`: the values.
    pub values: Option<Vec<Spanned<String>>>,
    /// `list`: the item type.
    pub items: Option<Box<Spanned<PropertyDef>>>,
    /// The data-sensitivity class (default `technical`).
    pub sensitivity: Option<Spanned<Sensitivity>>,
    /// What it means.
    pub description: Option<String>,
    /// Whether every event carries it (default `false`).
    pub required: Option<Spanned<bool>>,
}

/// An event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An activity event.
    Activity,
    /// Always a flow event.
    Flow,
    /// A flow event when flow data is present.
    OptionalFlow,
    /// Never a flow event.
    NotFlow,
    /// An email event.
    Email,
}

/// An event.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    /// What the event means.
    pub description: Spanned<String>,
    /// Its kinds.
    #[serde(default)]
    pub kinds: Vec<Spanned<Kind>>,
    /// Its properties.
    #[serde(default)]
    pub properties: Map<PropertyDef>,
    /// Request `service` values (query string) for which this flow event is not a flow event
    /// (FxA's IGNORE_FLOW_EVENTS_FROM_SERVICES: `account.signed` from `content-server`).
    #[serde(default)]
    pub not_flow_for_services: Vec<Spanned<String>>,
    /// The mozlog logger suffix.
    pub logger: Option<Spanned<String>>,
    /// Owners' notification emails.
    pub owners: Option<Vec<Spanned<String>>>,
    /// Bug links.
    pub bugs: Option<Vec<Spanned<String>>>,
    /// Data-review links.
    pub data_reviews: Option<Vec<Spanned<String>>>,
    /// `YYYY-MM-DD`, `vNNN` or `never`.
    pub expires: Option<Spanned<String>>,
    /// The version that introduced it.
    pub version: Option<Spanned<u32>>,
    /// `false` when the event is not sent to Amplitude on purpose: no exact name or rule may
    /// map it, and the check does not warn that nothing does.
    pub amplitude: Option<Spanned<bool>>,
    /// Lints allowed for this event.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
}

/// An event family.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyDef {
    /// The name template, e.g. `route.{path}.{status}`.
    pub name: Spanned<String>,
    /// What the events mean.
    pub description: Spanned<String>,
    /// Their kinds.
    #[serde(default)]
    pub kinds: Vec<Spanned<Kind>>,
    /// The typed parameters of the name.
    #[serde(default)]
    pub parameters: Map<PropertyDef>,
    /// Their properties.
    #[serde(default)]
    pub properties: Map<PropertyDef>,
    /// The mozlog logger suffix.
    pub logger: Option<Spanned<String>>,
    /// Owners' notification emails.
    pub owners: Option<Vec<Spanned<String>>>,
    /// Bug links.
    pub bugs: Option<Vec<Spanned<String>>>,
    /// Data-review links.
    pub data_reviews: Option<Vec<Spanned<String>>>,
    /// `YYYY-MM-DD`, `vNNN` or `never`.
    pub expires: Option<Spanned<String>>,
    /// The version that introduced it.
    pub version: Option<Spanned<u32>>,
    /// `false` when the family's events are not sent to Amplitude on purpose: no exact name or
    /// rule may map one of them, and the check does not warn that nothing does.
    pub amplitude: Option<Spanned<bool>>,
    /// Lints allowed for this family.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
}

/// The Amplitude mapping.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Amplitude {
    /// Groups by key.
    #[serde(default)]
    pub groups: Map<GroupDef>,
    /// Lookup tables by name.
    #[serde(default)]
    pub tables: Map<TableDef>,
    /// Exact source names and their target.
    #[serde(default)]
    pub exact: Map<TargetDef>,
    /// Ordered regex rules.
    #[serde(default)]
    pub rules: Vec<Spanned<RuleDef>>,
    /// The event shape.
    pub layout: Option<Spanned<LayoutDef>>,
    /// Per-service policies.
    pub policy: Option<Spanned<PolicyDef>>,
    /// Worked examples: a source event, its data bag and the amplitude events the service must
    /// log for it; each becomes a generated test.
    #[serde(default)]
    pub examples: Vec<Spanned<ExampleDef>>,
}

/// A worked example of the mapping.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleDef {
    /// What the example shows.
    pub description: Option<String>,
    /// The source event name.
    pub event: Spanned<String>,
    /// The event time (absent: no time).
    pub time: Option<serde_json::Value>,
    /// The data bag (absent: the transform gets none and produces nothing).
    pub data: Option<serde_json::Value>,
    /// OAuth client id -> service name for this example.
    #[serde(default)]
    pub oauth_clients: std::collections::BTreeMap<String, String>,
    /// The configured app version.
    pub app_version: Option<String>,
    /// The clock's now in ms (default 1551700200000).
    pub now: Option<i64>,
    /// The amplitude events the service logs, in order, each in FxA key order.
    #[serde(default)]
    pub expect: Vec<serde_json::Value>,
}

/// A group.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    /// The prefix, e.g. `fxa_login`.
    pub prefix: Spanned<String>,
    /// What the group covers.
    pub description: String,
    /// The event properties the group adds.
    pub event_properties: Option<GroupPropertiesDef>,
}

/// Event properties a group adds.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupPropertiesDef {
    /// Conditions: all must hold.
    #[serde(default)]
    pub when: Vec<Spanned<String>>,
    /// Property name -> `VALUE [if COND]`.
    #[serde(default)]
    pub set: Map<Spanned<String>>,
}

/// What the values of a table are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TableValues {
    /// Group keys, resolved to prefixes.
    Group,
}

/// A lookup table.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    /// What it maps.
    pub description: String,
    /// `group` when the values are group keys.
    pub values: Option<Spanned<TableValues>>,
    /// Key -> value.
    #[serde(default)]
    pub entries: Map<Spanned<String>>,
}

/// An amplitude event that a source event produces.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetDef {
    /// A group key, or `table[category|target]`.
    pub group: Spanned<String>,
    /// The event name template.
    pub event: Spanned<String>,
    /// Conditions: all must hold.
    #[serde(default)]
    pub when: Vec<Spanned<String>>,
    /// Added to the event time.
    pub time_offset: Option<i64>,
    /// Further events produced.
    #[serde(default)]
    pub also: Vec<TargetDef>,
}

/// An ordered regex rule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// A JavaScript regex.
    pub pattern: Spanned<String>,
    /// What the rule is for.
    pub description: Option<String>,
    /// A group key, or `table[category|target]`.
    pub group: Spanned<String>,
    /// The event name template.
    pub event: Spanned<String>,
    /// Conditions: all must hold.
    #[serde(default)]
    pub when: Vec<Spanned<String>>,
    /// Lints allowed for this rule.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Further events produced.
    #[serde(default)]
    pub also: Vec<TargetDef>,
}

/// The shape of amplitude events.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayoutDef {
    /// Top-level fields: name -> VALUE.
    #[serde(default)]
    pub fields: Map<Spanned<String>>,
    /// How `data.service` becomes a service name.
    pub service: Option<ServiceRuleDef>,
    /// Base event properties.
    #[serde(default)]
    pub event_properties: Map<Spanned<String>>,
    /// Base user properties.
    #[serde(default)]
    pub user_properties: Map<Spanned<String>>,
    /// `$append` entries.
    #[serde(default)]
    pub append: Map<Spanned<String>>,
    /// Sync device counts.
    pub device_counts: Option<DeviceCountsDef>,
    /// User properties after the device counts.
    #[serde(default)]
    pub user_properties_tail: Map<Spanned<String>>,
    /// Newsletter state.
    pub newsletter: Option<NewsletterDef>,
    /// User properties after the newsletter state.
    #[serde(default)]
    pub user_properties_last: Map<Spanned<String>>,
}

/// The service rule.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRuleDef {
    /// The data key.
    pub data: String,
    /// Values giving neither name nor client id.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Values that are their own name.
    #[serde(default)]
    pub passthrough: Vec<String>,
    /// The name of an unknown client id.
    pub unknown: String,
}

/// Device counts.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceCountsDef {
    /// The data key of the device list.
    pub data: String,
    /// The key of each device's last access time.
    pub time_key: String,
    /// The output key of the count.
    pub count: String,
    /// Output key -> window (`1d`, `12h`, `30m`, `500ms`).
    #[serde(default)]
    pub windows: Map<Spanned<String>>,
}

/// Newsletter state.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewsletterDef {
    /// The output key.
    pub name: String,
    /// Category -> state.
    #[serde(default)]
    pub by_category: Map<String>,
    /// The data key of the boolean opt-in.
    pub data: String,
    /// The state for `true`.
    pub when_true: String,
    /// The state for `false`.
    pub when_false: String,
}

/// Per-service policies.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDef {
    /// `event` (default) or `event_or_now`.
    pub time: Option<TimePolicy>,
    /// `none` (default) or `user_or_device`.
    pub require: Option<Spanned<RequirePolicy>>,
    /// Source name -> new name template with `{data.<key>}`.
    #[serde(default)]
    pub rewrites: Map<Spanned<String>>,
}

/// Where the event time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimePolicy {
    /// The event's own time.
    Event,
    /// The event's time, or now when it is missing.
    EventOrNow,
}

/// What an event needs to be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequirePolicy {
    /// Nothing.
    None,
    /// A truthy `user_id` or `device_id`.
    UserOrDevice,
}

/// The JSON Schema of a schema file, pretty-printed with a trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(File);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The `POST /metrics` collector of a service.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectorDef {
    /// What the collector receives, for the front-end developers' page.
    pub description: Option<String>,
    /// Which FxA route's processing runs after validation: `content-server` (flow events,
    /// `client.metrics` lines, amplitude) or `payments-server` (amplitude only).
    pub handler: Spanned<HandlerName>,
    /// The route's path; `/metrics` when absent.
    pub path: Option<Spanned<String>>,
    /// The logger name of the `validation.failed` line, e.g. `server.routes`.
    pub validation_logger: Spanned<String>,
    /// Whether values are converted as Joi's `convert` mode does before they are checked:
    /// numeric strings to numbers, `"true"`/`"false"` to booleans, JSON text to objects and
    /// arrays. `false` when absent.
    pub convert: Option<Spanned<bool>>,
    /// What happens to keys an object does not declare; `strip` when absent.
    pub unknown_keys: Option<Spanned<UnknownKeys>>,
    /// The largest request body in bytes; 102400 (body-parser's 100 kB) when absent.
    pub max_body_bytes: Option<Spanned<u64>>,
    /// Whether sampled users (`isSampledUser`) get `client.metrics` and `client.marketing`
    /// lines on stderr; `false` when absent.
    pub client_metrics: Option<Spanned<bool>>,
    /// The fields of the JSON body, checked in this order (the first failing one is reported).
    pub body: Map<FieldDef>,
    /// The flow-event policy (content-server handler).
    pub flow: Option<Spanned<FlowDef>>,
    /// The languages the service negotiates `Accept-Language` against.
    pub languages: Option<Spanned<LanguagesDef>>,
    /// JavaScript regexes of event names the collector never hands to the Amplitude mapping
    /// (for instance a group whose mapping needs data the route does not have).
    #[serde(default)]
    pub unmapped: Vec<Spanned<String>>,
}

/// The processing after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HandlerName {
    /// fxa-content-server's `post-metrics.js` (April 2019).
    ContentServer,
    /// fxa-payments-server's `post-metrics.js` (October 2019).
    PaymentsServer,
}

/// What happens to keys an object does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnknownKeys {
    /// Removed silently (Joi's `stripUnknown`).
    Strip,
    /// The request is rejected.
    Reject,
    /// Kept as they are.
    Keep,
}

/// The type of a body field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// A string.
    String,
    /// A URI (a string with a scheme).
    Uri,
    /// An integer (a safe JavaScript integer).
    Integer,
    /// A finite number.
    Number,
    /// A boolean.
    Boolean,
    /// An object, with declared `fields` or (without) any content.
    Object,
    /// An array of `items`.
    Array,
}

/// One field of the request body (or of an object or array item inside it).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The type.
    #[serde(rename = "type")]
    pub ty: Spanned<FieldType>,
    /// What the field holds.
    pub description: Option<String>,
    /// Whether the field must be present; `false` when absent.
    pub required: Option<Spanned<bool>>,
    /// Values accepted as they are, whatever the type says (e.g. `none`).
    pub allow: Option<Vec<Spanned<String>>>,
    /// Whether `null` is accepted.
    pub nullable: Option<Spanned<bool>>,
    /// `string`: the only values accepted.
    pub values: Option<Vec<Spanned<String>>>,
    /// `string`: a JavaScript regex the value must match.
    pub pattern: Option<Spanned<String>>,
    /// `string`: only hexadecimal digits.
    pub hex: Option<Spanned<bool>>,
    /// `string`, `uri`: the exact length in characters.
    pub length: Option<Spanned<u64>>,
    /// `string`, `uri`: the maximum length in characters.
    pub max_length: Option<Spanned<u64>>,
    /// `uri`: the schemes accepted.
    pub schemes: Option<Vec<Spanned<String>>>,
    /// `integer`, `number`: the minimum.
    pub min: Option<Spanned<i64>>,
    /// `integer`, `number`: the maximum.
    pub max: Option<Spanned<i64>>,
    /// `integer`: the maximum is a collector setting (`max_event_offset`).
    pub max_setting: Option<Spanned<String>>,
    /// `object`: its fields, checked in this order; without them any object is accepted.
    pub fields: Option<Map<FieldDef>>,
    /// `object`: what happens to undeclared keys (the collector's `unknown_keys` when absent).
    pub unknown_keys: Option<Spanned<UnknownKeys>>,
    /// `array`: the type of each item.
    pub items: Option<Box<Spanned<FieldDef>>>,
    /// `array`: the most items accepted (a longer array is a 400).
    pub max_items: Option<Spanned<u64>>,
}

/// The flow-event policy of the content-server handler (spec §3.4).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    /// Body properties that, when truthy, must match a JavaScript regex for the flow data to
    /// be valid (all or nothing).
    #[serde(default)]
    pub properties: Map<Spanned<String>>,
    /// The body properties copied into every flow line, in this order.
    #[serde(default)]
    pub picked: Map<PickedDef>,
    /// Picked values are cut to this many characters.
    pub max_length: Spanned<u64>,
    /// The `initialView` values whose `loaded` event is `flow.performance.auth` (the others give
    /// `flow.performance.other`).
    #[serde(default)]
    pub auth_views: Vec<Spanned<String>>,
}

/// A property copied into flow lines.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PickedDef {
    /// A JavaScript regex the value must match, or it is left out.
    pub pattern: Option<Spanned<String>>,
    /// Whether the property is kept when the request carries `DNT: 1`; `true` when absent.
    pub dnt: Option<Spanned<bool>>,
    /// The body property used when this one is empty.
    pub fallback: Option<Spanned<String>>,
}

/// The languages of a service (i18n-abide's configuration).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguagesDef {
    /// The language when nothing matches.
    pub default: Spanned<String>,
    /// The debug language (pseudo-localization), when the service has one.
    pub debug: Option<Spanned<String>>,
    /// The supported language tags.
    pub supported: Vec<Spanned<String>>,
}
