//! The data that drives the Amplitude transform: what a compiled schema hands the runtime.
//!
//! Both sides share these types: the compiler's model holds them (so its backends and the CLI
//! hand them over as they are), and the runtime crate `metricsmith` re-exports them as
//! `metricsmith::amplitude::*`.
//! This crate has no dependencies by default, so the compiler does not depend on the runtime
//! (which re-exports the compiler's proc-macro).
//!
//! With the `serde` feature every type derives `Serialize` and `Deserialize` in serde's default
//! representation (enums externally tagged, [`TableId`] a plain number; a target's or property
//! rule's empty `when` and absent `time_offset` are left out): the compiler writes a
//! generated crate's [`MappingSpec`] as JSON and the runtime reads it back, which costs rustc far
//! less than the same data written as Rust expressions.
//!
//! A [`Mapping`] is built once per service (generated code keeps it in a `LazyLock`; the CLI
//! builds it from a schema at start-up) and then used for every event.
//! Every string in it is already resolved: group keys became prefixes (`login` ->
//! `fxa_login`), table names became [`TableId`]s, and patterns were checked by the compiler.

/// The version of the mapping data format: what [`MappingSpec`] and its JSON mean.
///
/// The compiler writes it into generated code next to the mapping's JSON, and the runtime
/// checks it when that code compiles (`metricsmith::SPEC_FORMAT`): code written for another
/// format fails to build, naming both versions, instead of panicking at first use.
/// Bumped with every change to these types that changes which JSON reads or what it means.
pub const SPEC_FORMAT: u32 = 2;

/// Index of a lookup table inside [`MappingSpec::tables`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct TableId(pub usize);

/// A capture group of the rule that matched.
///
/// JavaScript's transform sets `category` to group 1 when the pattern has at least one group,
/// and `target` to group 2 only when the pattern has exactly two groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Capture {
    /// Group 1.
    Category,
    /// Group 2, only for patterns with exactly two groups.
    Target,
}

/// One piece of an event-name template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Part {
    /// Literal text.
    Text(String),
    /// A capture; an absent capture renders as `undefined`, as a JavaScript template does.
    Capture(Capture),
    /// A capture through FxA's `toSnakeCase` (`checkoutEngage` -> `checkout_engage`); an
    /// absent capture renders as `undefined`.
    SnakeCapture(Capture),
}

/// How the group prefix of a target is found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum GroupExpr {
    /// A fixed prefix such as `fxa_login`.
    Fixed(String),
    /// `table[capture]`, whose values are prefixes; a miss drops the event.
    Lookup {
        /// The table (its values are already prefixes).
        table: TableId,
        /// The capture used as the key.
        key: Capture,
    },
}

/// A value that a property rule or condition reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Value {
    /// A literal string.
    Literal(String),
    /// A capture of the matched rule.
    Capture(Capture),
    /// `data[key]` as it is (any JSON value); absent when the key is absent.
    Data(String),
    /// `table[capture]`; absent on a miss.
    Lookup {
        /// The table.
        table: TableId,
        /// The capture used as the key.
        key: Capture,
    },
    /// `table[data[key]]` with JavaScript property-key conversion of the data value.
    LookupData {
        /// The table.
        table: TableId,
        /// The data key whose value is the lookup key.
        key: String,
    },
}

/// A condition; all conditions of a list must hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Cond {
    /// The value is present and truthy in the JavaScript sense.
    Truthy(Value),
    /// The resolved event name (the part after `<group> - `) equals this text.
    EventIs(String),
}

/// One amplitude event that a source event produces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Target {
    /// The group prefix.
    pub group: GroupExpr,
    /// The event name; an empty result drops the event.
    pub event: Vec<Part>,
    /// Conditions on the captures; when one fails the event is dropped.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub when: Vec<Cond>,
    /// Added to the event time with JavaScript `+` (so a string time is concatenated).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub time_offset: Option<i64>,
}

/// An ordered regex rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rule {
    /// The pattern in `regex` crate syntax: the compiler translated the schema's JavaScript
    /// pattern (ASCII `\w`, `.` not matching line terminators, ...).
    pub pattern: String,
    /// What the rule produces.
    pub targets: Vec<Target>,
}

/// A property rule: `name` is set to `value` when every condition in `when` holds and the
/// value is present.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PropertyRule {
    /// The property name.
    pub name: String,
    /// Where the value comes from.
    pub value: Value,
    /// Conditions for this property alone.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub when: Vec<Cond>,
}

/// Event properties that one group adds (FxA's `EVENT_PROPERTIES[group]`); not pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GroupProperties {
    /// The group prefix these apply to.
    pub prefix: String,
    /// When one fails, the group adds nothing.
    pub when: Vec<Cond>,
    /// The properties, in output order.
    pub set: Vec<PropertyRule>,
}

/// Where a pruned field of the output comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Source {
    /// `data[key]` as it is.
    Data(String),
    /// The configured app version.
    AppVersion,
    /// The service name derived by [`ServiceRule`].
    ServiceName,
    /// The OAuth client id derived by [`ServiceRule`].
    OauthClientId,
    /// `data[key]` when it is a non-empty array of `{choice, group}`: each item becomes
    /// `snake(choice) + "_" + snake(group)`.
    Experiments(String),
    /// `data[key]` when it is a non-empty array, as it is.
    NonEmptyArray(String),
    /// `data[key]` when it is a non-empty array: its string items through FxA's `toSnakeCase`
    /// (other items left out), as fxa-shared v1.148 wrote `newsletters`.
    SnakeCaseItems(String),
    /// A literal string.
    Literal(String),
}

/// A named field and its source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Field {
    /// The output key.
    pub name: String,
    /// The source.
    pub source: Source,
}

/// How `data.service` becomes a service name and an OAuth client id (spec 4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServiceRule {
    /// The data key holding the service (`service`).
    pub data: String,
    /// Values that give neither a name nor a client id (`content-server`).
    pub ignore: Vec<String>,
    /// Values that are their own name and no client id (`sync`).
    pub passthrough: Vec<String>,
    /// The name of a client id missing from the configured map (`undefined_oauth`).
    pub unknown: String,
}

/// Device counts in user properties (spec 4.5): only when `data[data]` is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeviceCounts {
    /// The data key holding the device list (`devices`).
    pub data: String,
    /// The key of each device's last access time (`lastAccessTime`).
    pub time_key: String,
    /// The output key of the device count (`sync_device_count`).
    pub count: String,
    /// Output key and window in ms: devices with `time >= now - window`.
    pub windows: Vec<(String, i64)>,
}

/// The newsletter state in user properties (spec 4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Newsletter {
    /// The output key (`newsletter_state`).
    pub name: String,
    /// Category -> state (`optIn` -> `subscribed`), checked first.
    pub by_category: Vec<(String, String)>,
    /// The data key of the boolean opt-in (`marketingOptIn`), read only when strictly boolean.
    pub data: String,
    /// The state for `true`.
    pub when_true: String,
    /// The state for `false`.
    pub when_false: String,
}

/// The shape of every amplitude event of a service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Layout {
    /// Top-level fields after `op`, `event_type` and `time`, pruned of falsy values except `false`.
    pub fields: Vec<Field>,
    /// The service rule behind [`Source::ServiceName`] and [`Source::OauthClientId`].
    pub service: Option<ServiceRule>,
    /// Base event properties, pruned; group properties are merged after them.
    pub event_properties: Vec<Field>,
    /// Base user properties, pruned.
    pub user_properties: Vec<Field>,
    /// Entries of `$append`, each only when present; `$append` is absent when none is.
    pub append: Vec<Field>,
    /// Sync device counts.
    pub device_counts: Option<DeviceCounts>,
    /// Keys added after the device counts when present (`sync_engines`).
    pub user_properties_tail: Vec<Field>,
    /// Newsletter state.
    pub newsletter: Option<Newsletter>,
    /// Keys added after the newsletter state when present (`newsletters`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub user_properties_last: Vec<Field>,
}

/// A rewrite of a source event name before matching (FxA's `flow.complete` + flowType).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rewrite {
    /// The exact source name that is rewritten.
    pub event: String,
    /// The new name: text and data values converted with JavaScript `String()`.
    pub to: Vec<RewritePart>,
}

/// A piece of a rewritten name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RewritePart {
    /// Literal text.
    Text(String),
    /// `String(data[key])`; `undefined` when absent.
    Data(String),
}

/// Per-service policies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Policy {
    /// A missing or falsy event time becomes the clock's now (the auth wrapper).
    pub time_falls_back_to_now: bool,
    /// An event is logged only when `user_id` or `device_id` is truthy (the auth logger).
    pub require_user_or_device: bool,
    /// Name rewrites applied before matching.
    pub rewrites: Vec<Rewrite>,
}

/// Everything the transform needs for one service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MappingSpec {
    /// The service name (for messages).
    pub service: String,
    /// Lookup tables; [`TableId`] indexes this.
    pub tables: Vec<Vec<(String, String)>>,
    /// Exact source names and their targets.
    pub exact: Vec<(String, Vec<Target>)>,
    /// Ordered regex rules: the first that matches wins.
    pub rules: Vec<Rule>,
    /// Group properties by prefix.
    pub group_properties: Vec<GroupProperties>,
    /// The event shape.
    pub layout: Layout,
    /// Policies.
    pub policy: Policy,
}

impl Target {
    /// A target without conditions or time offset.
    pub fn new(group: GroupExpr, event: Vec<Part>) -> Target {
        Target {
            group,
            event,
            when: Vec::new(),
            time_offset: None,
        }
    }

    /// The most common target: a fixed group prefix and a literal event name.
    ///
    /// ```
    /// use metricsmith_spec::{GroupExpr, Part, Target};
    /// let target = Target::fixed("fxa_login", "success");
    /// assert_eq!(target.group, GroupExpr::Fixed("fxa_login".into()));
    /// assert_eq!(target.event, [Part::Text("success".into())]);
    /// ```
    pub fn fixed(prefix: &str, event: &str) -> Target {
        Target::new(GroupExpr::Fixed(prefix.to_owned()), vec![Part::text(event)])
    }
}

impl Part {
    /// Literal text.
    pub fn text(text: &str) -> Part {
        Part::Text(text.to_owned())
    }
}

impl Field {
    /// A named field and its source.
    pub fn new(name: &str, source: Source) -> Field {
        Field {
            name: name.to_owned(),
            source,
        }
    }
}

impl Source {
    /// `data[key]` as it is.
    pub fn data(key: &str) -> Source {
        Source::Data(key.to_owned())
    }
}

/// FxA's `toSnakeCase`, the meaning of [`Part::SnakeCapture`], appended to `out`: `aB` ->
/// `a_b`, other upper case lowered, `.` and `-` -> `_`; only ASCII letters are affected, as in
/// the JavaScript (no `u` flag).
pub fn snake_case_into(s: &str, out: &mut String) {
    snake_case_parts(s, |piece| match piece {
        SnakePiece::Same(run) => out.push_str(run),
        SnakePiece::Byte(byte) => out.push(char::from(byte)),
    });
}

/// A piece of [`snake_case_parts`]'s output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnakePiece<'s> {
    /// A stretch of non-ASCII characters of the input, which stay as they are.
    Same(&'s str),
    /// An ASCII byte of the output.
    Byte(u8),
}

/// The core of [`snake_case_into`] for any output: `piece` gets the output in order, ASCII
/// bytes one by one and runs of other characters as they are.
///
/// Byte by byte: only ASCII bytes change, and a byte of a multi-byte character is never
/// ASCII, so the stretches of other characters are cut at character boundaries.
#[inline]
pub fn snake_case_parts<'s>(s: &'s str, mut piece: impl FnMut(SnakePiece<'s>)) {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        i += 1;
        match c {
            b'a'..=b'z' => {
                piece(SnakePiece::Byte(c));
                // `aB` -> `a_b`.
                if let Some(&next) = bytes.get(i)
                    && next.is_ascii_uppercase()
                {
                    piece(SnakePiece::Byte(b'_'));
                    piece(SnakePiece::Byte(next.to_ascii_lowercase()));
                    i += 1;
                }
            }
            b'A'..=b'Z' => piece(SnakePiece::Byte(c.to_ascii_lowercase())),
            b'.' | b'-' => piece(SnakePiece::Byte(b'_')),
            0..=0x7f => piece(SnakePiece::Byte(c)),
            _ => {
                // A run of multi-byte characters, cut before the next ASCII byte.
                let start = i - 1;
                while bytes.get(i).is_some_and(|b| !b.is_ascii()) {
                    i += 1;
                }
                piece(SnakePiece::Same(s.get(start..i).unwrap_or("")));
            }
        }
    }
}
