//! The compiled mapping and the transform itself (spec §4.2-§4.6).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use regex::Regex;
use regex_automata::util::primitives::NonMaxUsize;
use regex_automata::{Anchored, Input, MatchKind, PatternID, meta};
use regex_syntax::hir::Look;
use serde_json::{Map, Value as Json};

use crate::js;
use crate::mozlog::{self, Depth, Record};
use crate::view::{Bag, JsonRef, Kind};
use crate::words::{self, KeyWords};
use metricsmith_spec::{
    Capture, Cond, Field, GroupExpr, GroupProperties, Layout, MappingSpec, Part, RewritePart,
    Source, Target, Value,
};

/// OAuth client id -> service name (FxA's `oauth.clientIds`).
pub type OauthClients = HashMap<String, String>;

/// What the transform needs besides the mapping and the event.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// OAuth client id -> service name.
    pub oauth_clients: &'a OauthClients,
    /// The `app_version` field; absent when `None`.
    pub app_version: Option<&'a str>,
    /// The clock's now in ms (device windows, time fallback).
    pub now_ms: i64,
}

/// The source event: FxA's `{type, time}`.
#[derive(Debug, Clone, Copy)]
pub struct SourceEvent<'a> {
    /// The event name; any JSON value (JavaScript converts it with `String()`), `None` when absent.
    pub name: Option<&'a Json>,
    /// The event time; `None` when absent.
    pub time: Option<&'a Json>,
}

/// One amplitude event produced by the transform.
#[derive(Debug, Clone, PartialEq)]
pub struct AmplitudeEvent {
    /// The event object in FxA key order.
    pub event: Map<String, Json>,
    /// Whether the service logs it (see [`super::Policy::require_user_or_device`]).
    pub logged: bool,
}

/// Why a [`MappingSpec`] could not be compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// A rule's pattern does not compile.
    #[error("rule {index} of service `{service}`: invalid pattern: {source}")]
    Pattern {
        /// The service.
        service: String,
        /// The rule index.
        index: usize,
        /// The regex error.
        source: regex::Error,
    },
    /// The rules together exceed the limits of the multi-pattern automaton.
    #[error("service `{service}`: the rules cannot be compiled together: {source}")]
    Rules {
        /// The service.
        service: String,
        /// The builder's error.
        source: Box<regex_automata::meta::BuildError>,
    },
    /// A table id points past the tables.
    #[error("service `{service}`: table id {table} does not exist")]
    Table {
        /// The service.
        service: String,
        /// The missing table id.
        table: usize,
    },
    /// The text given to [`spec_from_json`](super::spec_from_json) is not the JSON of a
    /// [`MappingSpec`].
    #[error("invalid mapping spec JSON at line {line} column {column}: {message}")]
    Json {
        /// serde_json's message, without the location.
        message: String,
        /// The line where reading stopped, from 1 (0 when serde_json knows none).
        line: usize,
        /// The column where reading stopped, from 1 (0 when serde_json knows none).
        column: usize,
    },
}

/// Which definition a source name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// An exact name, by index into [`MappingSpec::exact`].
    Exact(usize),
    /// A regex rule, by index into [`MappingSpec::rules`].
    Rule(usize),
}

/// How [`Mapping::transform_to`] writes each logged event.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Encoding<'a> {
    /// The amplitude event object, as `JSON.stringify` writes it.
    Json,
    /// The complete mozlog object the service would log for the event: `record` with the
    /// event as its `Fields` (heka conversion: nested objects become JSON text), no newline.
    /// `record.fields` is ignored.
    Mozlog(Record<'a>),
    /// The `Fields` object mozlog would log for the event (heka conversion: nested objects
    /// become JSON text), without the envelope: for writers that add the envelope themselves,
    /// such as the collector, whose lines are written by `collect` and `serve` alike.
    Fields,
}

/// A compiled mapping: exact names in a hash map, all rules in one leftmost-first automaton.
#[derive(Debug)]
pub struct Mapping {
    spec: MappingSpec,
    exact: FastMap<usize>,
    /// Every rule, searched at once; `None` without rules.
    rules: Option<meta::Regex>,
    /// Per rule, for its captures.
    regexes: Vec<meta::Regex>,
    tables: Vec<FastMap<String>>,
    group_properties: FastMap<usize>,
    /// No key of the base layout repeats or needs an escape, so events can be written
    /// straight out.
    distinct: bool,
    /// Per group properties: whether its keys are distinct from each other and the base ones.
    distinct_groups: Vec<bool>,
    /// Tells this mapping's remembered names from other mappings' (see [`HITS`]).
    id: u64,
    /// The data keys the layout reads, each read once per event.
    plan: Plan,
}

/// The captures of a match, as FxA's transform assigns them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Captures<'n> {
    pub(super) category: Option<&'n str>,
    pub(super) target: Option<&'n str>,
}

impl<'n> Captures<'n> {
    fn get(&self, capture: Capture) -> Option<&'n str> {
        match capture {
            Capture::Category => self.category,
            Capture::Target => self.target,
        }
    }
}

impl Mapping {
    /// Compiles a mapping: builds the exact-name index, one multi-pattern automaton over every
    /// rule and the per-rule regexes used for captures.
    ///
    /// # Errors
    /// [`MappingError::Pattern`] when a rule's pattern does not compile,
    /// [`MappingError::Rules`] when the rules together exceed the automaton's limits, and
    /// [`MappingError::Table`] when a table id is out of range.
    pub fn new(spec: MappingSpec) -> Result<Self, MappingError> {
        // The regex crate's defaults, without its `Captures` allocation per match; on an
        // error the regex crate's message is the one reported.
        let compile = |index: usize, pattern: &str| {
            meta::Regex::new(pattern).map_err(|meta_error| match Regex::new(pattern) {
                Err(source) => MappingError::Pattern {
                    service: spec.service.clone(),
                    index,
                    source,
                },
                Ok(_) => MappingError::Rules {
                    service: spec.service.clone(),
                    source: Box::new(meta_error),
                },
            })
        };
        let regexes = spec
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| compile(index, &rule.pattern))
            .collect::<Result<Vec<_>, _>>()?;
        let rules = if spec.rules.is_empty() {
            None
        } else {
            let patterns: Vec<String> = spec
                .rules
                .iter()
                .map(|rule| anchored_at_start(&rule.pattern))
                .collect();
            let rules = meta::Regex::builder()
                .configure(meta::Config::new().match_kind(MatchKind::LeftmostFirst))
                .build_many(&patterns)
                .map_err(|source| MappingError::Rules {
                    service: spec.service.clone(),
                    source: Box::new(source),
                })?;
            Some(rules)
        };
        let tables: Vec<FastMap<String>> = spec
            .tables
            .iter()
            .map(|entries| entries.iter().cloned().collect())
            .collect();
        check_tables(&spec, tables.len())?;
        let exact = spec
            .exact
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.clone(), i))
            .collect();
        let group_properties = spec
            .group_properties
            .iter()
            .enumerate()
            .map(|(i, g)| (g.prefix.clone(), i))
            .collect();
        let layout = &spec.layout;
        let base_event_properties = || layout.event_properties.iter().map(|f| f.name.as_str());
        let distinct = all_distinct(
            ["op", "event_type", "time"]
                .into_iter()
                .chain(layout.fields.iter().map(|f| f.name.as_str()))
                .chain(["event_properties", "user_properties"]),
        ) && all_distinct(base_event_properties())
            && all_distinct(layout.append.iter().map(|f| f.name.as_str()))
            && all_distinct(
                layout
                    .user_properties
                    .iter()
                    .map(|f| f.name.as_str())
                    .chain(["$append"])
                    .chain(layout.device_counts.iter().flat_map(|d| {
                        std::iter::once(d.count.as_str())
                            .chain(d.windows.iter().map(|(name, _)| name.as_str()))
                    }))
                    .chain(layout.user_properties_tail.iter().map(|f| f.name.as_str()))
                    .chain(layout.newsletter.iter().map(|n| n.name.as_str()))
                    .chain(layout.user_properties_last.iter().map(|f| f.name.as_str())),
            );
        let distinct_groups = spec
            .group_properties
            .iter()
            .map(|g| {
                all_distinct(base_event_properties().chain(g.set.iter().map(|r| r.name.as_str())))
            })
            .collect();
        Ok(Self {
            exact,
            rules,
            regexes,
            tables,
            group_properties,
            distinct,
            distinct_groups,
            id: NEXT_MAPPING_ID.fetch_add(1, Ordering::Relaxed),
            plan: Plan::new(&spec.layout, &spec.group_properties),
            spec,
        })
    }

    /// The spec this mapping was compiled from.
    pub fn spec(&self) -> &MappingSpec {
        &self.spec
    }

    /// Which definition maps `name`: an exact name first, else the first rule (in schema
    /// order) whose pattern matches anywhere in `name`, as JavaScript's `exec` would find it.
    ///
    /// One search over all rules: a pattern that is not anchored at the start is searched as
    /// `(?s:.)*?(?:P)` anchored at the start, and a leftmost-first search prefers the lowest
    /// pattern index among those that match there, so the result is the first matching rule
    /// whatever the number of rules.
    ///
    /// # Examples
    /// ```
    /// use metricsmith::amplitude::{Mapping, MappingSpec, Matched, Rule, Target, GroupExpr, Part};
    /// let target = Target {
    ///     group: GroupExpr::Fixed("fxa_login".into()),
    ///     event: vec![Part::Text("view".into())],
    ///     when: vec![],
    ///     time_offset: None,
    /// };
    /// let spec = MappingSpec {
    ///     rules: vec![Rule { pattern: "^screen\\.".into(), targets: vec![target] }],
    ///     ..MappingSpec::default()
    /// };
    /// let mapping = Mapping::new(spec)?;
    /// assert_eq!(mapping.resolve("screen.signin"), Some(Matched::Rule(0)));
    /// assert_eq!(mapping.resolve("flow.signin"), None);
    /// # Ok::<(), metricsmith::amplitude::MappingError>(())
    /// ```
    pub fn resolve(&self, name: &str) -> Option<Matched> {
        if let Some(&i) = self.exact.get(name) {
            return Some(Matched::Exact(i));
        }
        let input = Input::new(name).anchored(Anchored::Yes);
        let found = self.rules.as_ref()?.search_half(&input)?;
        Some(Matched::Rule(found.pattern().as_usize()))
    }

    /// Maps one source event and its data bag to the amplitude events it produces.
    ///
    /// Follows fxa-shared's transform plus the service policies: rewrites, the time
    /// fallback, the first matching definition, dropping on a falsy group or event name,
    /// pruning, and the `logged` decision.
    /// [`Mapping::transform_to`] writes the same events as JSON without building maps.
    pub fn transform(
        &self,
        event: SourceEvent<'_>,
        data: &Map<String, Json>,
        env: &Env<'_>,
    ) -> Vec<AmplitudeEvent> {
        let mut out = Vec::new();
        let capacity = self.spec.layout.fields.len() + 5;
        self.each_target(event.name, event.time, data, env, |ctx, target| {
            let mut sink = MapSink::new(capacity);
            let logged = ctx.write_event(target, &mut sink);
            out.push(AmplitudeEvent {
                event: sink.finish(),
                logged,
            });
        });
        out
    }

    /// Writes the JSON array of the events of [`Mapping::transform`] that are logged, each
    /// as `encoding` says, to `out`; returns how many it wrote.
    ///
    /// The bytes are those of the events `transform` returns, written with JavaScript's
    /// `JSON.stringify` rules (the [`crate::mozlog`] writer), but the values are written
    /// straight from the data bag, without building a map per event.
    /// Reuse `out` across calls: then an event whose name this thread has seen before allocates
    /// nothing (names are remembered per thread; the first sight of a name costs a few
    /// allocations for what is remembered of it).
    ///
    /// # Examples
    /// ```
    /// use metricsmith::amplitude::{Encoding, Env, GroupExpr, Mapping, MappingSpec, Part, SourceEvent, Target};
    /// use serde_json::json;
    /// let target = Target {
    ///     group: GroupExpr::Fixed("fxa_login".into()),
    ///     event: vec![Part::Text("success".into())],
    ///     when: vec![],
    ///     time_offset: None,
    /// };
    /// let spec = MappingSpec {
    ///     exact: vec![("account.login".into(), vec![target])],
    ///     ..MappingSpec::default()
    /// };
    /// let mapping = Mapping::new(spec)?;
    /// let (name, time) = (json!("account.login"), json!(1551700123456_i64));
    /// let event = SourceEvent { name: Some(&name), time: Some(&time) };
    /// let clients = Default::default();
    /// let env = Env { oauth_clients: &clients, app_version: None, now_ms: 0 };
    /// let mut out = Vec::new();
    /// let logged = mapping.transform_to(event, &serde_json::Map::new(), &env, Encoding::Json, &mut out);
    /// assert_eq!(logged, 1);
    /// assert_eq!(
    ///     String::from_utf8(out)?,
    ///     r#"[{"op":"amplitudeEvent","event_type":"fxa_login - success","time":1551700123456,"event_properties":{},"user_properties":{}}]"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transform_to(
        &self,
        event: SourceEvent<'_>,
        data: &Map<String, Json>,
        env: &Env<'_>,
        encoding: Encoding<'_>,
        out: &mut Vec<u8>,
    ) -> usize {
        self.transform_view_to(event.name, event.time, data, env, encoding, out)
    }

    /// [`Mapping::transform_to`] on borrowed values: the event's `type` and `time` and its data
    /// bag as views, for instance into a line parsed with [`crate::line::Doc`].
    ///
    /// Writes the same bytes as `transform_to` on the owned values, without copying any value
    /// of the line.
    ///
    /// # Examples
    /// ```
    /// use metricsmith::amplitude::{Encoding, Env, GroupExpr, Mapping, MappingSpec, Part, Target};
    /// use metricsmith::line::Doc;
    /// use metricsmith::view::JsonRef;
    /// let target = Target {
    ///     group: GroupExpr::Fixed("fxa_login".into()),
    ///     event: vec![Part::Text("success".into())],
    ///     when: vec![],
    ///     time_offset: None,
    /// };
    /// let spec = MappingSpec {
    ///     exact: vec![("account.login".into(), vec![target])],
    ///     ..MappingSpec::default()
    /// };
    /// let mapping = Mapping::new(spec)?;
    /// let mut doc = Doc::new();
    /// let parsed = doc.parse(r#"{"event":{"type":"account.login","time":1551700123456},"data":{}}"#)?;
    /// let line = parsed.root();
    /// let event = line.get("event");
    /// let (name, time) = (event.and_then(|e| e.get("type")), event.and_then(|e| e.get("time")));
    /// let data = line.get("data").expect("the line has data");
    /// let clients = Default::default();
    /// let env = Env { oauth_clients: &clients, app_version: None, now_ms: 0 };
    /// let mut out = Vec::new();
    /// assert_eq!(mapping.transform_view_to(name, time, data, &env, Encoding::Json, &mut out), 1);
    /// assert_eq!(
    ///     String::from_utf8(out)?,
    ///     r#"[{"op":"amplitudeEvent","event_type":"fxa_login - success","time":1551700123456,"event_properties":{},"user_properties":{}}]"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transform_view_to<'d, B: Bag<'d>>(
        &self,
        name: Option<B::Value>,
        time: Option<B::Value>,
        data: B,
        env: &Env<'_>,
        encoding: Encoding<'_>,
        out: &mut Vec<u8>,
    ) -> usize {
        out.push(b'[');
        // Each event is followed by a comma, and the last comma is taken back.
        let count = self.transform_view_each_to(name, time, data, env, encoding, out, |out| {
            out.push(b',');
        });
        if count > 0 {
            out.pop();
        }
        out.push(b']');
        count
    }

    /// [`Mapping::transform_view_to`] without the array: writes each logged event as
    /// `encoding` says to `out`, then calls `written(out)`, which may note where the event
    /// ends or end the line; returns how many events it wrote.
    ///
    /// # Examples
    /// ```
    /// use metricsmith::amplitude::{Encoding, Env, GroupExpr, Mapping, MappingSpec, Part, Target};
    /// use serde_json::json;
    /// let target = |event: &str| Target {
    ///     group: GroupExpr::Fixed("fxa_login".into()),
    ///     event: vec![Part::Text(event.into())],
    ///     when: vec![],
    ///     time_offset: None,
    /// };
    /// let spec = MappingSpec {
    ///     exact: vec![("account.login".into(), vec![target("success"), target("again")])],
    ///     ..MappingSpec::default()
    /// };
    /// let mapping = Mapping::new(spec)?;
    /// let (name, time) = (json!("account.login"), json!(1551700123456_i64));
    /// let data = serde_json::Map::new();
    /// let clients = Default::default();
    /// let env = Env { oauth_clients: &clients, app_version: None, now_ms: 0 };
    /// let (mut out, mut ends) = (Vec::new(), Vec::new());
    /// let written = mapping.transform_view_each_to(
    ///     Some(&name), Some(&time), &data, &env, Encoding::Fields, &mut out,
    ///     |out| ends.push(out.len()),
    /// );
    /// assert_eq!(written, 2);
    /// assert_eq!(
    ///     String::from_utf8(out[..ends[0]].to_vec())?,
    ///     r#"{"op":"amplitudeEvent","event_type":"fxa_login - success","time":1551700123456,"event_properties":"{}","user_properties":"{}"}"#
    /// );
    /// assert!(out[ends[0]..].starts_with(br#"{"op":"amplitudeEvent","event_type":"fxa_login - again""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::too_many_arguments)] // transform_view_to's arguments and the callback
    pub fn transform_view_each_to<'d, B: Bag<'d>>(
        &self,
        name: Option<B::Value>,
        time: Option<B::Value>,
        data: B,
        env: &Env<'_>,
        encoding: Encoding<'_>,
        out: &mut Vec<u8>,
        mut written: impl FnMut(&mut Vec<u8>),
    ) -> usize {
        let mut count = 0;
        self.each_target(name, time, data, env, |ctx, target| {
            let start = out.len();
            if self.write_event(ctx, target, encoding, out) {
                count += 1;
                written(out);
            } else {
                out.truncate(start);
            }
        });
        count
    }

    /// Writes the event of `target` as `encoding` says; returns whether it is logged (the
    /// caller removes what was written when it is not).
    fn write_event<'d, B: Bag<'d>>(
        &self,
        ctx: &Ctx<'_, 'd, B>,
        target: &Target,
        encoding: Encoding<'_>,
        out: &mut Vec<u8>,
    ) -> bool {
        let heka = !matches!(encoding, Encoding::Json);
        match &encoding {
            Encoding::Json | Encoding::Fields => out.push(b'{'),
            Encoding::Mozlog(record) => {
                mozlog::write_head(out, record);
                out.extend_from_slice(b",\"Fields\":{");
            }
        }
        let fast = self.distinct
            && ctx
                .group_index
                .is_none_or(|i| self.distinct_groups.get(i).copied().unwrap_or(false));
        let logged = if fast {
            ctx.write_event(target, &mut ByteSink::new(out, heka, true))
        } else {
            // A repeated key keeps its first position and its last value, as a map
            // insert does: build the map, then write it.
            let mut map = MapSink::new(0);
            let logged = ctx.write_event(target, &mut map);
            let mut sink = ByteSink::new(out, heka, false);
            for (key, value) in &map.finish() {
                sink.field(key, Val::<&Json>::Json(value));
            }
            logged
        };
        out.push(b'}');
        if matches!(encoding, Encoding::Mozlog(_)) {
            out.push(b'}');
        }
        logged
    }

    /// Calls `f` for every target of `event` that produces an amplitude event.
    fn each_target<'d, B: Bag<'d>>(
        &self,
        name: Option<B::Value>,
        time: Option<B::Value>,
        data: B,
        env: &Env<'_>,
        mut f: impl FnMut(&Ctx<'_, 'd, B>, &Target),
    ) {
        // An absent or falsy name never reaches the transform (FxA's badArgument).
        let Some(raw_name) = name.filter(|n| js::truthy(*n)) else {
            return;
        };
        let mut name: Cow<'_, str> = match raw_name.kind() {
            Kind::String(s) => Cow::Borrowed(s),
            _ => Cow::Owned(js::string_of(Some(raw_name))),
        };
        let mut rewritten = [0u8; 128];
        if let Some(rewrite) = self.spec.policy.rewrites.iter().find(|r| r.event == name) {
            name = render_rewrite(&rewrite.to, data, &mut rewritten);
        }
        let resolved = self.resolved(&name);
        let targets = match resolved.targets {
            Some(TargetList::Exact(i)) => &self.spec.exact[i].1,
            Some(TargetList::Rule(rule)) => &self.spec.rules[rule].targets,
            None => return,
        };
        let captures = resolved.hit.captures(&name);
        let fallback = self.spec.policy.time_falls_back_to_now;
        let time = match time {
            Some(t) if js::truthy(t) || !fallback => Some(Time::Data(t)),
            _ if fallback => Some(Time::Now(env.now_ms)),
            _ => None,
        };
        let mut event = EventCtx {
            mapping: self,
            data,
            env,
            time,
            service: Service {
                name: None,
                client_id: None,
            },
            slots: [None; MAX_SLOTS],
            _data: std::marker::PhantomData,
        };
        self.plan.fill(data, &mut event.slots);
        // Derived once per event: four sources read it.
        event.service = event.derive_service();

        for (i, target) in targets.iter().enumerate() {
            // The target's event name, group and first members, from the name alone.
            let head = resolved.heads.get(i).and_then(Option::as_ref);
            let logged = head.and_then(|head| {
                let ctx = Ctx {
                    event: &event,
                    captures,
                    event_name: &head.name,
                    group: &head.group,
                    group_index: head.group_index,
                    head: &head.bytes,
                };
                target.when.iter().all(|c| ctx.cond(c)).then_some(ctx)
            });
            match logged {
                Some(ctx) => f(&ctx, target),
                // Extra targets are copies of the first: none without it.
                None if i == 0 => return,
                None => {}
            }
        }
    }

    /// The first rule that matches `name` and its captures, as [`Mapping::resolved`]
    /// remembers them.
    #[cfg(test)]
    pub(super) fn rule_hit(&self, name: &str) -> Option<(usize, RuleHit)> {
        let resolved = self.resolved(name);
        match resolved.targets {
            Some(TargetList::Rule(rule)) => Some((rule, resolved.hit)),
            _ => None,
        }
    }

    /// What `name` maps to, with each target's event name, group and first members worked
    /// out once: remembered per thread, because event names repeat and a search with captures
    /// costs more than the rest of an event.
    fn resolved(&self, name: &str) -> Rc<Resolved> {
        if name.len() > MAX_REMEMBERED_NAME {
            return Rc::new(self.resolve_now(name));
        }
        HITS.with_borrow_mut(|caches| {
            let at = match caches.iter().position(|(id, _)| *id == self.id) {
                Some(at) => at,
                None => {
                    if caches.len() == MAX_REMEMBERED_MAPPINGS {
                        caches.remove(0);
                    }
                    caches.push((self.id, FastMap::default()));
                    caches.len() - 1
                }
            };
            let hits = &mut caches[at].1;
            if let Some(hit) = hits.get(name) {
                return Rc::clone(hit);
            }
            let hit = Rc::new(self.resolve_now(name));
            if hits.len() >= MAX_REMEMBERED_NAMES {
                hits.clear();
            }
            hits.insert(name.to_owned(), Rc::clone(&hit));
            hit
        })
    }

    /// [`Mapping::resolved`] without the memory.
    fn resolve_now(&self, name: &str) -> Resolved {
        let (targets, list, hit) = if let Some(&i) = self.exact.get(name) {
            (
                &self.spec.exact[i].1,
                TargetList::Exact(i),
                RuleHit::default(),
            )
        } else {
            let Some(Matched::Rule(rule)) = self.resolve(name) else {
                return Resolved {
                    targets: None,
                    hit: RuleHit::default(),
                    heads: Vec::new(),
                };
            };
            let captures = self.captures(rule, name);
            let range = |s: Option<&str>| {
                // A capture is a slice of `name`: its offset is the distance of the pointers.
                s.map(|s| (s.as_ptr() as usize - name.as_ptr() as usize, s.len()))
            };
            let hit = RuleHit {
                category: range(captures.category),
                target: range(captures.target),
            };
            (&self.spec.rules[rule].targets, TargetList::Rule(rule), hit)
        };
        let captures = hit.captures(name);
        let heads = targets
            .iter()
            .map(|target| {
                let event_name = render_template(&target.event, captures);
                let (group, group_index) = self.group_of(target, captures, &event_name)?;
                let mut bytes = br#""op":"amplitudeEvent","event_type":""#.to_vec();
                mozlog::write_escaped(&mut bytes, group, Depth::Top);
                bytes.extend_from_slice(b" - ");
                mozlog::write_escaped(&mut bytes, &event_name, Depth::Top);
                bytes.push(b'"');
                Some(Head {
                    name: event_name,
                    group: group.to_owned(),
                    group_index,
                    bytes: bytes.into_boxed_slice(),
                })
            })
            .collect();
        Resolved {
            targets: Some(list),
            hit,
            heads,
        }
    }

    /// The group prefix of `target` and its group properties, or `None` when the target
    /// is dropped whatever the data (no event name, no group).
    fn group_of<'m>(
        &'m self,
        target: &'m Target,
        captures: Captures<'_>,
        event_name: &str,
    ) -> Option<(&'m str, Option<usize>)> {
        if event_name.is_empty() {
            return None;
        }
        let group = match &target.group {
            GroupExpr::Fixed(prefix) => prefix.as_str(),
            GroupExpr::Lookup { table, key } => {
                let key = captures.get(*key)?;
                self.tables.get(table.0)?.get(key)?.as_str()
            }
        };
        if group.is_empty() {
            return None;
        }
        Some((group, self.group_properties.get(group).copied()))
    }

    pub(super) fn captures<'n>(&self, rule: usize, name: &'n str) -> Captures<'n> {
        let Some(regex) = self.regexes.get(rule) else {
            return Captures::default();
        };
        // `match.length` in JavaScript: 1 + the number of groups, participating or not.
        let len = regex.group_info().group_len(PatternID::ZERO);
        // Groups 0 to 2 are all the transform reads: slots on the stack.
        let mut slots = [None::<NonMaxUsize>; 6];
        let used = slots.len().min(2 * len);
        if regex
            .search_slots(&Input::new(name), &mut slots[..used])
            .is_none()
        {
            return Captures::default();
        }
        let group = |i: usize| match (slots[2 * i], slots[2 * i + 1]) {
            (Some(start), Some(end)) => name.get(start.get()..end.get()),
            _ => None,
        };
        Captures {
            category: if len >= 2 { group(1) } else { None },
            target: if len == 3 { group(2) } else { None },
        }
    }
}

/// `pattern` as a search anchored at the start finds it: as it is when every match starts at
/// the start of the input, else behind a lazy `(?s:.)*?`.
///
/// Leftmost-first among patterns that all match from offset 0 prefers the lowest index, so an
/// anchored multi-pattern search returns the first rule that matches anywhere.
/// A pattern that does not parse is returned as it is (the builder then reports it).
fn anchored_at_start(pattern: &str) -> String {
    let anchored = regex_syntax::parse(pattern)
        .is_ok_and(|hir| hir.properties().look_set_prefix().contains(Look::Start));
    if anchored {
        pattern.to_owned()
    } else {
        format!("(?s:.)*?(?:{pattern})")
    }
}

/// The mapping's own tables: keys from the schema, looked up once or twice per event.
type FastMap<V> = HashMap<String, V, BuildHasherDefault<FxHasher>>;

static NEXT_MAPPING_ID: AtomicU64 = AtomicU64::new(0);

/// Names up to this length are remembered.
const MAX_REMEMBERED_NAME: usize = 256;
/// Per mapping and thread, at most this many names are remembered (then all are forgotten).
const MAX_REMEMBERED_NAMES: usize = 4096;
/// Per thread, the names of at most this many mappings are remembered.
const MAX_REMEMBERED_MAPPINGS: usize = 4;

thread_local! {
    /// Per mapping id, what the names seen on this thread resolve to.
    static HITS: RefCell<Vec<(u64, FastMap<Rc<Resolved>>)>> = const { RefCell::new(Vec::new()) };
}

/// What a name resolves to (see [`Mapping::resolved`]).
#[derive(Debug)]
struct Resolved {
    /// The targets of its exact name or rule; `None` when it maps to nothing.
    targets: Option<TargetList>,
    /// The rule's captures (none for an exact name).
    hit: RuleHit,
    /// Per target: `None` when the target is dropped whatever the data.
    heads: Vec<Option<Head>>,
}

#[derive(Debug, Clone, Copy)]
enum TargetList {
    Exact(usize),
    Rule(usize),
}

/// A target's event name and group, and the event's first members as written at the top
/// of an event (`"op":"amplitudeEvent","event_type":"group - name"`).
#[derive(Debug)]
struct Head {
    name: String,
    group: String,
    group_index: Option<usize>,
    bytes: Box<[u8]>,
}

/// The byte ranges (offset, length) of a rule's captures in the name it matched.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RuleHit {
    category: Option<(usize, usize)>,
    target: Option<(usize, usize)>,
}

impl RuleHit {
    pub(super) fn captures<'n>(&self, name: &'n str) -> Captures<'n> {
        let slice =
            |range: Option<(usize, usize)>| range.and_then(|(at, len)| name.get(at..at + len));
        Captures {
            category: slice(self.category),
            target: slice(self.target),
        }
    }
}

/// rustc's Fx hash: a multiply and a rotate per eight bytes, where SipHash costs more than
/// the rest of a lookup.
/// The tables are fixed by the schema, so input can only choose which lookups it makes, not
/// how the tables are laid out.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = words::fx_add(self.0, word);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        // The length follows as the `str` terminator.
        words::each_word(bytes, |word| self.add(word));
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Whether no name repeats or needs an escape in JSON, so names can be written as they are,
/// in order.
fn all_distinct<'a>(names: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .all(|name| !mozlog::needs_escape(name) && seen.insert(name))
}

fn check_tables(spec: &MappingSpec, count: usize) -> Result<(), MappingError> {
    let check = |id: usize| {
        if id < count {
            Ok(())
        } else {
            Err(MappingError::Table {
                service: spec.service.clone(),
                table: id,
            })
        }
    };
    let check_value = |v: &Value| match v {
        Value::Lookup { table, .. } | Value::LookupData { table, .. } => check(table.0),
        _ => Ok(()),
    };
    let check_cond = |c: &Cond| match c {
        Cond::Truthy(v) => check_value(v),
        Cond::EventIs(_) => Ok(()),
    };
    let targets = spec
        .exact
        .iter()
        .flat_map(|(_, t)| t)
        .chain(spec.rules.iter().flat_map(|r| &r.targets));
    for target in targets {
        if let GroupExpr::Lookup { table, .. } = &target.group {
            check(table.0)?;
        }
        target.when.iter().try_for_each(check_cond)?;
    }
    for group in &spec.group_properties {
        group.when.iter().try_for_each(check_cond)?;
        for rule in &group.set {
            check_value(&rule.value)?;
            rule.when.iter().try_for_each(check_cond)?;
        }
    }
    Ok(())
}

/// The event name of a target, rendered once per remembered name (see
/// [`Mapping::resolved`]). A JavaScript template literal writes an absent capture as
/// `undefined`.
fn render_template(parts: &[Part], captures: Captures<'_>) -> String {
    let mut name = String::new();
    for part in parts {
        match part {
            Part::Text(text) => name.push_str(text),
            Part::Capture(c) => name.push_str(captures.get(*c).unwrap_or("undefined")),
            Part::SnakeCapture(c) => match captures.get(*c) {
                Some(text) => js::snake_case_into(text, &mut name),
                None => name.push_str("undefined"),
            },
        }
    }
    name
}

/// A rewritten event name, written into `stack` when it fits.
fn render_rewrite<'t, 'd: 't>(
    parts: &'t [RewritePart],
    data: impl Bag<'d>,
    stack: &'t mut [u8],
) -> Cow<'t, str> {
    let mut owned = String::new();
    let mut len = 0;
    let mut fits = true;
    for part in parts {
        let piece: Cow<'t, str> = match part {
            RewritePart::Text(text) => Cow::Borrowed(text),
            RewritePart::Data(key) => key_string(data.get(key)),
        };
        if fits {
            match stack.get_mut(len..len + piece.len()) {
                Some(room) => {
                    room.copy_from_slice(piece.as_bytes());
                    len += piece.len();
                    continue;
                }
                None => {
                    fits = false;
                    owned.push_str(
                        std::str::from_utf8(stack.get(..len).unwrap_or_default())
                            .unwrap_or_default(),
                    );
                }
            }
        }
        owned.push_str(&piece);
    }
    if fits && let Some(Ok(name)) = stack.get(..len).map(std::str::from_utf8) {
        // Whole `str`s one after another: always valid UTF-8.
        return Cow::Borrowed(name);
    }
    Cow::Owned(owned)
}

/// JavaScript `String(value)`, borrowed when the value is a string.
fn key_string<'d, V: JsonRef<'d>>(value: Option<V>) -> Cow<'d, str> {
    match value.map(JsonRef::kind) {
        Some(Kind::String(s)) => Cow::Borrowed(s),
        _ => Cow::Owned(js::string_of(value)),
    }
}

/// The time of an event: from the event, or the clock's now when the policy falls back to it.
#[derive(Debug, Clone, Copy)]
enum Time<V> {
    Data(V),
    Now(i64),
}

/// A value of the output, borrowed wherever it can be.
#[derive(Debug)]
enum Val<'a, V> {
    /// A JSON value of the data bag or the event.
    Json(V),
    /// A JSON value with its [`JsonRef::kind_plain`], read once by [`pruned`] for pruning
    /// and writing.
    Read(V, Kind<'a>, bool),
    /// A string of the mapping, the configuration, a capture or the data bag.
    Str(&'a str),
    /// A count.
    Int(i64),
    /// A value computed for this event.
    Owned(Json),
    /// The event type: `group - name`.
    EventType(&'a str, &'a str),
    /// The experiments of a data bag value: `snake(choice)_snake(group)` of each item with
    /// string `choice` and `group` (at least one has them).
    Experiments(V),
    /// The string items of a data bag array, each snake-cased.
    SnakeItems(V),
}

impl<'d, V: JsonRef<'d>> Val<'_, V> {
    fn truthy(&self) -> bool {
        match self {
            Val::Json(v) => js::truthy(*v),
            Val::Read(_, kind, _) => js::kind_truthy(*kind),
            Val::Owned(v) => js::truthy(v),
            Val::Str(s) => !s.is_empty(),
            Val::Int(i) => *i != 0,
            Val::EventType(..) | Val::Experiments(_) | Val::SnakeItems(_) => true,
        }
    }

    fn into_json(self) -> Json {
        match self {
            Val::Json(v) | Val::Read(v, ..) => v.to_json(),
            Val::Owned(v) => v,
            Val::Str(s) => Json::String(s.to_owned()),
            Val::Int(i) => Json::from(i),
            Val::EventType(group, name) => Json::String(format!("{group} - {name}")),
            Val::Experiments(v) => Json::Array(
                experiment_items(v)
                    .map(|(choice, group)| {
                        let mut name = String::new();
                        experiment_name(choice, group, &mut name);
                        Json::String(name)
                    })
                    .collect(),
            ),
            Val::SnakeItems(v) => Json::Array(
                v.items()
                    .filter_map(|item| item.as_str().map(js::snake_case))
                    .map(Json::String)
                    .collect(),
            ),
        }
    }
}

/// FxA's prune: absent and falsy values go, except `false` itself. A data value comes out
/// with its kind read, for the writer.
#[inline]
fn pruned<'a, 'd: 'a, V: JsonRef<'d>>(value: Option<Val<'a, V>>) -> Option<Val<'a, V>> {
    match value? {
        Val::Json(v) => {
            let (kind, plain) = v.kind_plain();
            (js::kind_truthy(kind) || kind == Kind::Bool(false))
                .then_some(Val::Read(v, kind, plain))
        }
        Val::Owned(v) => (js::truthy(&v) || v == Json::Bool(false)).then_some(Val::Owned(v)),
        other => other.truthy().then_some(other),
    }
}

/// Where an event goes: a map for [`Mapping::transform`], bytes for
/// [`Mapping::transform_to`].
trait Sink {
    /// Sets `key` in the current object.
    fn field<'d, V: JsonRef<'d>>(&mut self, key: &str, value: Val<'_, V>);
    /// Sets `key` in the current object; `quoted` is `,"key":` (see [`PlanField`]).
    fn field_quoted<'d, V: JsonRef<'d>>(&mut self, key: &str, quoted: &[u8], value: Val<'_, V>) {
        let _ = quoted;
        self.field(key, value);
    }
    /// [`Sink::field_quoted`] when `quoted` is known, else [`Sink::field`].
    fn field_maybe_quoted<'d, V: JsonRef<'d>>(
        &mut self,
        key: &str,
        quoted: Option<&[u8]>,
        value: Val<'_, V>,
    ) {
        match quoted {
            Some(quoted) => self.field_quoted(key, quoted, value),
            None => self.field(key, value),
        }
    }
    /// Sets `key` in the current object to a data value that is a string with its
    /// [`JsonRef::quoted_text`], `text`; `quoted` is `,"key":` (see [`PlanField`]).
    fn field_text<'d, V: JsonRef<'d>>(&mut self, key: &str, quoted: &[u8], value: V, text: &[u8]) {
        let _ = text;
        let (kind, plain) = value.kind_plain();
        self.field_read(key, quoted, value, kind, plain);
    }
    /// [`Sink::field_quoted`] of a string.
    fn field_str(&mut self, key: &str, quoted: &[u8], value: &str) {
        self.field_quoted(key, quoted, Val::<&Json>::Str(value));
    }
    /// Sets `key` in the current object to a data value whose [`JsonRef::kind_plain`] was
    /// read; `quoted` is `,"key":` (see [`PlanField`]).
    fn field_read<'d, V: JsonRef<'d>>(
        &mut self,
        key: &str,
        quoted: &[u8],
        value: V,
        kind: Kind<'_>,
        plain: bool,
    ) {
        self.field_quoted(key, quoted, Val::Read(value, kind, plain));
    }
    /// Sets the first two members of an event: `op` and `event_type` (`group - name`), whose
    /// JSON text is `bytes`.
    fn head(&mut self, group: &str, name: &str, bytes: &[u8]) {
        let _ = bytes;
        self.field("op", Val::<&Json>::Str("amplitudeEvent"));
        self.field("event_type", Val::<&Json>::EventType(group, name));
    }
    /// Starts the object at `key` in the current object; `quoted` is `,"key":`, a key that
    /// needs no escape.
    fn open(&mut self, key: &str, quoted: &[u8]);
    /// Ends the current object; an empty one is left out unless `keep_empty`.
    fn close(&mut self, keep_empty: bool);
}

/// Builds a `serde_json::Map`; a repeated key keeps its first position and its last value.
struct MapSink {
    /// The open objects, the event first, with the key each goes to.
    stack: Vec<(String, Map<String, Json>)>,
}

impl MapSink {
    fn new(capacity: usize) -> Self {
        let mut stack = Vec::with_capacity(3);
        stack.push((String::new(), Map::with_capacity(capacity)));
        Self { stack }
    }

    fn finish(mut self) -> Map<String, Json> {
        // `close` never pops the event itself.
        self.stack.swap_remove(0).1
    }
}

impl Sink for MapSink {
    fn field<'d, V: JsonRef<'d>>(&mut self, key: &str, value: Val<'_, V>) {
        if let Some((_, map)) = self.stack.last_mut() {
            map.insert(key.to_owned(), value.into_json());
        }
    }

    fn open(&mut self, key: &str, _quoted: &[u8]) {
        self.stack.push((key.to_owned(), Map::new()));
    }

    fn close(&mut self, keep_empty: bool) {
        if self.stack.len() < 2 {
            return;
        }
        if let Some((key, map)) = self.stack.pop()
            && (keep_empty || !map.is_empty())
            && let Some((_, parent)) = self.stack.last_mut()
        {
            parent.insert(key, Json::Object(map));
        }
    }
}

/// Writes JSON with the mozlog writer (JavaScript number formatting); with `heka`, the
/// top-level values are converted as mozlog's `Fields` are.
struct ByteSink<'o> {
    out: &'o mut Vec<u8>,
    heka: bool,
    /// Open objects below the event.
    level: usize,
    /// Nothing was written yet in the current object.
    first: bool,
    /// Per open object: where its key started and `first` before it.
    marks: [(usize, bool); 4],
    /// Every key is known to need no escape.
    plain_keys: bool,
}

impl<'o> ByteSink<'o> {
    /// Writes into an event object whose `{` is already written; `plain_keys` promises
    /// that no key needs an escape.
    fn new(out: &'o mut Vec<u8>, heka: bool, plain_keys: bool) -> Self {
        Self {
            out,
            heka,
            level: 0,
            first: true,
            marks: [(0, false); 4],
            plain_keys,
        }
    }

    /// `quoted` (`,"key":`) for the next member of the current object, without its comma
    /// for the first one.
    #[inline(always)]
    fn member<'q>(&mut self, quoted: &'q [u8]) -> &'q [u8] {
        let first = std::mem::replace(&mut self.first, false);
        if first {
            quoted.get(1..).unwrap_or_default()
        } else {
            quoted
        }
    }

    /// A member whose value is a string that needs no escape, with its key in one
    /// reservation.
    #[inline(always)]
    fn plain_member(&mut self, quoted: &[u8], s: &str) {
        let out = &mut *self.out;
        out.reserve(quoted.len() + s.len() + 2);
        out.extend_from_slice(quoted);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }

    /// [`Sink::field_read`] of any value but a string the line holds without escapes.
    #[inline(never)]
    fn field_read_general<'d, V: JsonRef<'d>>(
        &mut self,
        key: &str,
        quoted: &[u8],
        value: V,
        kind: Kind<'_>,
        plain: bool,
    ) {
        if !(self.plain_keys && self.depth() == Depth::Top) {
            self.key(key);
            self.value(Val::Read(value, kind, plain));
            return;
        }
        let quoted = self.member(quoted);
        match kind {
            // A string of another bag: one scan tells whether it needs an escape.
            Kind::String(s) if plain || mozlog::next_escape(s.as_bytes(), 0) == s.len() => {
                self.plain_member(quoted, s);
            }
            _ => {
                self.out.extend_from_slice(quoted);
                self.value(Val::Read(value, kind, plain));
            }
        }
    }

    /// Inside a stringified object, every literal is escaped once more.
    fn depth(&self) -> Depth {
        if self.heka && self.level > 0 {
            Depth::Nested
        } else {
            Depth::Top
        }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        let depth = self.depth();
        if self.plain_keys && depth == Depth::Top {
            // One reservation, then bytes pushed into it: keys are short.
            self.out.reserve(key.len() + 3);
            self.out.push(b'"');
            self.out.extend_from_slice(key.as_bytes());
            self.out.extend_from_slice(b"\":");
            return;
        }
        if self.plain_keys {
            mozlog::write_quote(self.out, depth);
            self.out.extend_from_slice(key.as_bytes());
            mozlog::write_quote(self.out, depth);
        } else {
            mozlog::write_str(self.out, key, depth);
        }
        self.out.push(b':');
    }
    /// Writes a member's value, after its key.
    fn value<'d, V: JsonRef<'d>>(&mut self, value: Val<'_, V>) {
        let depth = self.depth();
        let out = &mut *self.out;
        match value {
            Val::Read(v, kind, plain) if self.heka && self.level == 0 => {
                mozlog::write_field_kind(out, v, kind, plain);
            }
            Val::Read(v, kind, plain) => mozlog::write_kind(out, v, kind, plain, depth),
            Val::Json(v) if self.heka && self.level == 0 => mozlog::write_field_value(out, v),
            Val::Owned(v) if self.heka && self.level == 0 => mozlog::write_field_value(out, &v),
            Val::Json(v) => mozlog::write_value(out, v, depth),
            Val::Owned(v) => mozlog::write_value(out, &v, depth),
            Val::Str(s) => mozlog::write_str(out, s, depth),
            Val::Int(i) => mozlog::push_int(out, i),
            Val::EventType(group, name) => {
                mozlog::write_quote(out, depth);
                mozlog::write_escaped(out, group, depth);
                out.extend_from_slice(b" - ");
                mozlog::write_escaped(out, name, depth);
                mozlog::write_quote(out, depth);
            }
            // At the top of mozlog's `Fields`, an array is written as its JSON text.
            Val::Experiments(v) => write_snake_strings(
                out,
                self.heka && self.level == 0,
                depth,
                experiment_values(v).map(|(choice, group)| (choice, Some(group))),
            ),
            Val::SnakeItems(v) => write_snake_strings(
                out,
                self.heka && self.level == 0,
                depth,
                v.items()
                    .filter(|item| item.as_str().is_some())
                    .map(|item| (item, None)),
            ),
        }
    }
}

impl Sink for ByteSink<'_> {
    fn field<'d, V: JsonRef<'d>>(&mut self, key: &str, value: Val<'_, V>) {
        self.key(key);
        self.value(value);
    }

    fn field_quoted<'d, V: JsonRef<'d>>(&mut self, key: &str, quoted: &[u8], value: Val<'_, V>) {
        if !(self.plain_keys && self.depth() == Depth::Top) {
            self.key(key);
            self.value(value);
            return;
        }
        let quoted = self.member(quoted);
        match value {
            Val::Str(s) if mozlog::next_escape(s.as_bytes(), 0) == s.len() => {
                self.plain_member(quoted, s);
            }
            _ => {
                self.out.extend_from_slice(quoted);
                self.value(value);
            }
        }
    }

    #[inline(always)]
    fn field_text<'d, V: JsonRef<'d>>(&mut self, key: &str, quoted: &[u8], value: V, text: &[u8]) {
        // The key and the string's text with its quotes, in one reservation.
        if self.plain_keys && self.depth() == Depth::Top {
            let quoted = self.member(quoted);
            let out = &mut *self.out;
            out.reserve(quoted.len() + text.len());
            out.extend_from_slice(quoted);
            out.extend_from_slice(text);
            return;
        }
        let (kind, plain) = value.kind_plain();
        self.field_read_general(key, quoted, value, kind, plain);
    }

    #[inline(always)]
    fn field_read<'d, V: JsonRef<'d>>(
        &mut self,
        key: &str,
        quoted: &[u8],
        value: V,
        kind: Kind<'_>,
        plain: bool,
    ) {
        // Most values: a string that the line holds without escapes, written with its key in
        // one reservation; inlined into the layout's loops.
        if self.plain_keys && self.depth() == Depth::Top {
            match kind {
                Kind::String(s) if plain => {
                    let quoted = self.member(quoted);
                    self.plain_member(quoted, s);
                    return;
                }
                // Numbers (times, counts) are written alike at any depth.
                Kind::Number(n) => {
                    let quoted = self.member(quoted);
                    self.out.extend_from_slice(quoted);
                    mozlog::write_number(self.out, n);
                    return;
                }
                _ => {}
            }
        }
        self.field_read_general(key, quoted, value, kind, plain);
    }

    fn head(&mut self, group: &str, name: &str, bytes: &[u8]) {
        if !(self.first && self.plain_keys && self.depth() == Depth::Top) {
            self.field("op", Val::<&Json>::Str("amplitudeEvent"));
            self.field("event_type", Val::<&Json>::EventType(group, name));
            return;
        }
        self.first = false;
        self.out.extend_from_slice(bytes);
    }

    fn open(&mut self, key: &str, quoted: &[u8]) {
        if let Some(mark) = self.marks.get_mut(self.level) {
            *mark = (self.out.len(), self.first);
        }
        if !self.heka {
            // The key and the brace in one reservation.
            let quoted = self.member(quoted);
            self.out.reserve(quoted.len() + 1);
            self.out.extend_from_slice(quoted);
            self.out.push(b'{');
            self.level += 1;
            self.first = true;
            return;
        }
        self.key(key);
        if self.heka && self.level == 0 {
            // mozlog writes a nested object as its JSON text.
            self.out.push(b'"');
        }
        self.out.push(b'{');
        self.level += 1;
        self.first = true;
    }

    fn close(&mut self, keep_empty: bool) {
        self.level = self.level.saturating_sub(1);
        if self.first
            && !keep_empty
            && let Some(&(start, first)) = self.marks.get(self.level)
        {
            self.out.truncate(start);
            self.first = first;
            return;
        }
        self.out.push(b'}');
        if self.heka && self.level == 0 {
            self.out.push(b'"');
        }
        self.first = false;
    }
}

/// Writes a JSON array of strings, each the snake case of an item's string, or of two joined
/// by `_` (`snake(choice)_snake(group)`); `as_text` writes the array as its JSON text, as
/// mozlog does at the top of `Fields`.
///
/// A string without escapes gives one without escapes (snake case changes only ASCII
/// letters, `.` and `-`): those are written straight into `out`; others are built in a reused
/// scratch string and escaped.
fn write_snake_strings<'d, V: JsonRef<'d>>(
    out: &mut Vec<u8>,
    as_text: bool,
    depth: Depth,
    items: impl Iterator<Item = (V, Option<V>)>,
) {
    let depth = if as_text { Depth::Nested } else { depth };
    if as_text {
        out.push(b'"');
    }
    out.push(b'[');
    for (i, (first, second)) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let plain_second = second.map(|v| v.escape_free_str());
        match (first.escape_free_str(), plain_second) {
            (Some(a), None | Some(Some(_))) => {
                mozlog::write_quote(out, depth);
                js::snake_case_bytes_into(a, out);
                if let Some(Some(b)) = plain_second {
                    out.push(b'_');
                    js::snake_case_bytes_into(b, out);
                }
                mozlog::write_quote(out, depth);
            }
            _ => SCRATCH.with_borrow_mut(|name| {
                name.clear();
                js::snake_case_into(first.as_str().unwrap_or(""), name);
                if let Some(second) = second {
                    name.push('_');
                    js::snake_case_into(second.as_str().unwrap_or(""), name);
                }
                mozlog::write_str(out, name, depth);
            }),
        }
    }
    out.push(b']');
    if as_text {
        out.push(b'"');
    }
}

/// At most this many data keys of a layout get slots; a layout that reads more reads them
/// all with lookups.
pub(super) const MAX_SLOTS: usize = 32;

/// The data keys a layout reads, each given a slot: an event's data bag is walked once to
/// fill the slots, instead of one lookup per field (most keys of a data bag are read).
///
/// Each field list has the slot of each field's data key, or `None` for a field that reads
/// no data key.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Open addressing over the keys: a power of two of entries, each a key's index in
    /// `keys` or [`NO_SLOT`].
    table: Vec<u8>,
    /// Each key with its [`KeyWords`], which decide equality for keys of up to 16 bytes.
    keys: Vec<(KeyWords, String)>,
    fields: Vec<PlanField>,
    event_properties: Vec<PlanField>,
    user_properties: Vec<PlanField>,
    append: Vec<PlanField>,
    tail: Vec<PlanField>,
    last: Vec<PlanField>,
    service: Option<u8>,
    devices: Option<u8>,
    newsletter: Option<u8>,
    /// [`quoted_key`] of the device counts' names (the count, then each window), of the
    /// newsletter state's, and of each group property (by group, then rule).
    counts_quoted: Vec<Box<[u8]>>,
    newsletter_quoted: Box<[u8]>,
    groups_quoted: Vec<Vec<Box<[u8]>>>,
}

const NO_SLOT: u8 = u8::MAX;

/// What the plan knows of one field of a layout list.
#[derive(Debug)]
struct PlanField {
    /// The slot of the field's data key.
    slot: Option<u8>,
    /// `,"name":` as JSON writes it at the top level: the comma is left out for the first
    /// member of an object.
    quoted: Box<[u8]>,
    /// The field is `user_id` or `device_id`, which the logging policy reads.
    user: bool,
    device: bool,
}

/// `,"name":` as JSON writes it at the top level.
fn quoted_key(name: &str) -> Box<[u8]> {
    let mut quoted = vec![b','];
    mozlog::write_str(&mut quoted, name, Depth::Top);
    quoted.push(b':');
    quoted.into_boxed_slice()
}

impl PlanField {
    fn new(name: &str, slot: Option<u8>) -> Self {
        Self {
            slot,
            quoted: quoted_key(name),
            user: name == "user_id",
            device: name == "device_id",
        }
    }
}

impl Plan {
    /// Slots for the data keys of `layout`, then for those that `groups` read while the
    /// slots last (the layout's own keys are never crowded out).
    pub(super) fn new(layout: &Layout, groups: &[GroupProperties]) -> Self {
        fn data_key(source: &Source) -> Option<&str> {
            match source {
                Source::Data(key)
                | Source::Experiments(key)
                | Source::NonEmptyArray(key)
                | Source::SnakeCaseItems(key) => Some(key.as_str()),
                Source::AppVersion
                | Source::ServiceName
                | Source::OauthClientId
                | Source::Literal(_) => None,
            }
        }
        let lists = [
            &layout.fields,
            &layout.event_properties,
            &layout.user_properties,
            &layout.append,
            &layout.user_properties_tail,
            &layout.user_properties_last,
        ];
        fn value_key(value: &Value) -> Option<&str> {
            match value {
                Value::Data(key) | Value::LookupData { key, .. } => Some(key.as_str()),
                Value::Literal(_) | Value::Capture(_) | Value::Lookup { .. } => None,
            }
        }
        fn cond_key(cond: &Cond) -> Option<&str> {
            match cond {
                Cond::Truthy(value) => value_key(value),
                Cond::EventIs(_) => None,
            }
        }
        fn add(keys: &mut Vec<String>, key: Option<&str>) {
            if let Some(key) = key
                && !keys.iter().any(|k| k == key)
            {
                keys.push(key.to_owned());
            }
        }
        let mut keys: Vec<String> = Vec::new();
        for list in lists {
            list.iter()
                .for_each(|field| add(&mut keys, data_key(&field.source)));
        }
        add(&mut keys, layout.service.as_ref().map(|s| s.data.as_str()));
        add(
            &mut keys,
            layout.device_counts.as_ref().map(|d| d.data.as_str()),
        );
        add(
            &mut keys,
            layout.newsletter.as_ref().map(|n| n.data.as_str()),
        );
        let layout_keys = keys.len();
        let group_keys = groups.iter().flat_map(|group| {
            let rules = group.set.iter().flat_map(|rule| {
                rule.when
                    .iter()
                    .filter_map(cond_key)
                    .chain(value_key(&rule.value))
            });
            group.when.iter().filter_map(cond_key).chain(rules)
        });
        for key in group_keys {
            if keys.len() >= MAX_SLOTS {
                break;
            }
            add(&mut keys, Some(key));
        }
        if layout_keys > MAX_SLOTS {
            // Every read is a lookup: no slots at all.
            let none = |fields: &[Field]| -> Vec<PlanField> {
                fields
                    .iter()
                    .map(|field| PlanField::new(&field.name, None))
                    .collect()
            };
            let mut plan = Self {
                fields: none(&layout.fields),
                event_properties: none(&layout.event_properties),
                user_properties: none(&layout.user_properties),
                append: none(&layout.append),
                tail: none(&layout.user_properties_tail),
                last: none(&layout.user_properties_last),
                ..Self::default()
            };
            plan.quote_names(layout, groups);
            return plan;
        }
        let size = (keys.len() * 4).next_power_of_two();
        let mut table = vec![NO_SLOT; size];
        let keys: Vec<(KeyWords, String)> = keys
            .into_iter()
            .map(|key| (KeyWords::of(key.as_bytes()), key))
            .collect();
        for (slot, (words, _)) in keys.iter().enumerate() {
            let mut at = words.hash() as usize & (size - 1);
            while table[at] != NO_SLOT {
                at = (at + 1) & (size - 1);
            }
            // At most MAX_SLOTS keys: the slot fits in a u8.
            table[at] = slot as u8;
        }
        let mut plan = Self {
            table,
            keys,
            ..Self::default()
        };
        let slots = |plan: &Self, fields: &[Field]| -> Vec<PlanField> {
            fields
                .iter()
                .map(|field| {
                    let slot = data_key(&field.source).and_then(|key| plan.slot(key));
                    PlanField::new(&field.name, slot)
                })
                .collect()
        };
        plan.fields = slots(&plan, &layout.fields);
        plan.event_properties = slots(&plan, &layout.event_properties);
        plan.user_properties = slots(&plan, &layout.user_properties);
        plan.append = slots(&plan, &layout.append);
        plan.tail = slots(&plan, &layout.user_properties_tail);
        plan.last = slots(&plan, &layout.user_properties_last);
        plan.service = layout.service.as_ref().and_then(|s| plan.slot(&s.data));
        plan.devices = layout
            .device_counts
            .as_ref()
            .and_then(|d| plan.slot(&d.data));
        plan.newsletter = layout.newsletter.as_ref().and_then(|n| plan.slot(&n.data));
        plan.quote_names(layout, groups);
        plan
    }

    fn quote_names(&mut self, layout: &Layout, groups: &[GroupProperties]) {
        if let Some(counts) = &layout.device_counts {
            self.counts_quoted = std::iter::once(counts.count.as_str())
                .chain(counts.windows.iter().map(|(name, _)| name.as_str()))
                .map(quoted_key)
                .collect();
        }
        if let Some(newsletter) = &layout.newsletter {
            self.newsletter_quoted = quoted_key(&newsletter.name);
        }
        self.groups_quoted = groups
            .iter()
            .map(|group| {
                group
                    .set
                    .iter()
                    .map(|rule| quoted_key(&rule.name))
                    .collect()
            })
            .collect();
    }

    /// The slot of `key`, if the layout reads it.
    #[inline]
    pub(super) fn slot(&self, key: &str) -> Option<u8> {
        self.slot_of(key.as_bytes())
    }

    /// [`Plan::slot`] of a key's bytes; inlined into the walk that fills the slots.
    #[inline(always)]
    fn slot_of(&self, key: &[u8]) -> Option<u8> {
        let mask = self.table.len().checked_sub(1)?;
        let words = KeyWords::of(key);
        let mut at = words.hash() as usize & mask;
        loop {
            let slot = *self.table.get(at)?;
            if slot == NO_SLOT {
                return None;
            }
            if self
                .keys
                .get(usize::from(slot))
                .is_some_and(|(w, k)| w.equals(k.as_bytes(), words, key))
            {
                return Some(slot);
            }
            at = (at + 1) & mask;
        }
    }

    /// Fills `slots` from one walk over the bag; a repeated key ends with its last value,
    /// as a lookup finds it.
    fn fill<'d, B: Bag<'d>>(&self, data: B, slots: &mut [Option<B::Value>; MAX_SLOTS]) {
        if self.keys.is_empty() {
            return;
        }
        data.key_pairs(|key, value| {
            if let Some(slot) = self.slot_of(key)
                && let Some(entry) = slots.get_mut(usize::from(slot))
            {
                *entry = Some(value);
            }
        });
    }
}

/// What one source event shares between its targets.
struct EventCtx<'a, 'd, B: Bag<'d>> {
    mapping: &'a Mapping,
    data: B,
    env: &'a Env<'a>,
    time: Option<Time<B::Value>>,
    service: Service<'a, B::Value>,
    /// The values of the layout's data keys, by [`Plan`] slot.
    slots: [Option<B::Value>; MAX_SLOTS],
    _data: std::marker::PhantomData<&'d ()>,
}

/// The service name and OAuth client id derived from `data.service` (spec §4.3).
#[derive(Debug, Clone, Copy)]
struct Service<'a, V> {
    name: Option<&'a str>,
    client_id: Option<V>,
}

impl<'a, 'd: 'a, B: Bag<'d>> EventCtx<'a, 'd, B> {
    /// `data[key]`, from its slot when the plan gave it one.
    #[inline]
    fn read(&self, key: &str, slot: Option<u8>) -> Option<B::Value> {
        match slot {
            Some(slot) => self.slots.get(usize::from(slot)).copied().flatten(),
            None => self.data.get(key),
        }
    }

    /// `data[key]`, from its slot when the plan gave `key` one (group properties' keys).
    fn read_key(&self, key: &str) -> Option<B::Value> {
        self.read(key, self.mapping.plan.slot(key))
    }

    fn derive_service(&self) -> Service<'a, B::Value> {
        let none = Service {
            name: None,
            client_id: None,
        };
        let mapping = self.mapping;
        let Some(rule) = &mapping.spec.layout.service else {
            return none;
        };
        let service = self.read(&rule.data, mapping.plan.service);
        let Some(service) = service.filter(|s| js::truthy(*s)) else {
            return none;
        };
        // Strict equality: only a string can equal `content-server` or `sync`.
        if let Some(s) = service.as_str() {
            if rule.ignore.iter().any(|i| i == s) {
                return none;
            }
            if rule.passthrough.iter().any(|p| p == s) {
                return Service {
                    name: Some(s),
                    client_id: None,
                };
            }
        }
        let clients: &'a OauthClients = self.env.oauth_clients;
        let name = clients
            .get(key_string(Some(service)).as_ref())
            .map(String::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(&rule.unknown);
        Service {
            name: Some(name),
            client_id: Some(service),
        }
    }
}

/// One target of one event.
struct Ctx<'a, 'd, B: Bag<'d>> {
    event: &'a EventCtx<'a, 'd, B>,
    captures: Captures<'a>,
    event_name: &'a str,
    group: &'a str,
    group_index: Option<usize>,
    /// The event's first members (see [`Head`]).
    head: &'a [u8],
}

impl<'d, B: Bag<'d>> Clone for Ctx<'_, 'd, B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<'d, B: Bag<'d>> Copy for Ctx<'_, 'd, B> {}

impl<'a, 'd: 'a, B: Bag<'d>> Ctx<'a, 'd, B> {
    /// Writes the event in FxA key order; returns whether it is logged.
    fn write_event(&self, target: &Target, sink: &mut impl Sink) -> bool {
        let mapping = self.event.mapping;
        let layout = &mapping.spec.layout;
        sink.head(self.group, self.event_name, self.head);
        if let Some(Time::Data(t)) = self.event.time
            && target.time_offset.is_none()
        {
            // The common case, a data value as it is: pruned and written as a slot field is.
            let (kind, plain) = t.kind_plain();
            if js::kind_truthy(kind) || kind == Kind::Bool(false) {
                sink.field_read("time", b",\"time\":", t, kind, plain);
            }
        } else if let Some(time) = self.event.time {
            let time = match (time, target.time_offset) {
                (Time::Data(t), Some(offset)) => Val::Owned(js::plus(t, offset)),
                (Time::Now(now), Some(offset)) => Val::Owned(js::plus(&Json::from(now), offset)),
                (Time::Data(t), None) => Val::Json(t),
                (Time::Now(now), None) => Val::Int(now),
            };
            match pruned(Some(time)) {
                Some(Val::Read(t, kind, plain)) => {
                    sink.field_read("time", b",\"time\":", t, kind, plain);
                }
                Some(time) => sink.field("time", time),
                None => {}
            }
        }
        // Pruning keeps `false`, so presence is not enough: the logger tests truthiness of
        // the last value set.
        let (mut user, mut device) = (false, false);
        for (field, plan) in layout.fields.iter().zip(&mapping.plan.fields) {
            if let Some(truthy) = self.field_pruned(field, plan, sink) {
                if plan.user {
                    user = truthy;
                } else if plan.device {
                    device = truthy;
                }
            }
        }
        sink.open("event_properties", b",\"event_properties\":");
        self.fields_pruned(
            &layout.event_properties,
            &mapping.plan.event_properties,
            sink,
        );
        if let Some(i) = self.group_index
            && let Some(props) = mapping.spec.group_properties.get(i)
        {
            let quoted = mapping
                .plan
                .groups_quoted
                .get(i)
                .map_or(&[][..], Vec::as_slice);
            self.group_properties(props, quoted, sink);
        }
        sink.close(true);
        sink.open("user_properties", b",\"user_properties\":");
        self.user_properties(layout, sink);
        sink.close(true);
        !mapping.spec.policy.require_user_or_device || user || device
    }

    fn value(&self, value: &'a Value) -> Option<Val<'a, B::Value>> {
        match value {
            Value::Literal(s) => Some(Val::Str(s)),
            Value::Capture(c) => self.captures.get(*c).map(Val::Str),
            Value::Data(key) => self.event.read_key(key).map(Val::Json),
            Value::Lookup { table, key } => {
                let key = self.captures.get(*key)?;
                self.lookup(table.0, key)
            }
            Value::LookupData { table, key } => {
                let key = key_string(self.event.read_key(key));
                self.lookup(table.0, &key)
            }
        }
    }

    fn lookup(&self, table: usize, key: &str) -> Option<Val<'a, B::Value>> {
        let mapping: &'a Mapping = self.event.mapping;
        mapping
            .tables
            .get(table)?
            .get(key)
            .map(|v| Val::Str(v.as_str()))
    }

    fn cond(&self, cond: &'a Cond) -> bool {
        match cond {
            Cond::Truthy(value) => self.value(value).is_some_and(|v| v.truthy()),
            Cond::EventIs(name) => self.event_name == name,
        }
    }

    /// The value of `source` when it is a string of the configuration (`None` inside when it
    /// is absent); `None` for any other source.
    #[inline]
    fn config_str(&self, source: &'a Source) -> Option<Option<&'a str>> {
        match source {
            Source::AppVersion => Some(self.event.env.app_version),
            Source::ServiceName => Some(self.event.service.name),
            Source::Literal(s) => Some(Some(s.as_str())),
            _ => None,
        }
    }

    /// The value of `source`; `slot` is the plan's slot of its data key.
    fn source(&self, source: &'a Source, slot: Option<u8>) -> Option<Val<'a, B::Value>> {
        let event = self.event;
        match source {
            Source::Data(key) => event.read(key, slot).map(Val::Json),
            Source::AppVersion => event.env.app_version.map(Val::Str),
            Source::ServiceName => event.service.name.map(Val::Str),
            Source::OauthClientId => event.service.client_id.map(Val::Json),
            Source::Experiments(key) => event
                .read(key, slot)
                .filter(|v| experiment_items(*v).next().is_some())
                .map(Val::Experiments),
            Source::NonEmptyArray(key) => event
                .read(key, slot)
                .filter(|v| v.kind() == Kind::Array && !v.is_empty())
                .map(Val::Json),
            Source::SnakeCaseItems(key) => event
                .read(key, slot)
                .filter(|v| v.kind() == Kind::Array && !v.is_empty())
                .map(Val::SnakeItems),
            Source::Literal(s) => Some(Val::Str(s)),
        }
    }

    fn fields_pruned(&self, fields: &'a [Field], plan: &[PlanField], sink: &mut impl Sink) {
        for (field, plan) in fields.iter().zip(plan) {
            self.field_pruned(field, plan, sink);
        }
    }

    /// Writes `field` unless pruning drops it; returns the truthiness of what it wrote.
    ///
    /// Inlined into the loops over the layout: most fields are a data key read from its slot
    /// (often absent), whose value's kind is read once; other sources take the general path.
    #[inline(always)]
    fn field_pruned(
        &self,
        field: &'a Field,
        plan: &PlanField,
        sink: &mut impl Sink,
    ) -> Option<bool> {
        if let (Source::Data(_), Some(slot)) = (&field.source, plan.slot) {
            let value = self.event.slots.get(usize::from(slot)).copied().flatten()?;
            if let Some(text) = value.quoted_text() {
                // A string: truthy unless empty (`""`).
                if text.len() <= 2 {
                    return None;
                }
                sink.field_text(&field.name, &plan.quoted, value, text);
                return Some(true);
            }
            let (kind, plain) = value.kind_plain();
            let truthy = js::kind_truthy(kind);
            if truthy || kind == Kind::Bool(false) {
                sink.field_read(&field.name, &plan.quoted, value, kind, plain);
                return Some(truthy);
            }
            return None;
        }
        self.field_pruned_general(field, plan, sink)
    }

    /// [`Ctx::field_pruned`] of a field that is not read from a slot.
    #[inline(never)]
    fn field_pruned_general(
        &self,
        field: &'a Field,
        plan: &PlanField,
        sink: &mut impl Sink,
    ) -> Option<bool> {
        // Strings of the configuration: truthy unless empty, written without a `Val` built
        // and pruned.
        if let Some(text) = self.config_str(&field.source) {
            let text = text.filter(|s| !s.is_empty())?;
            sink.field_str(&field.name, &plan.quoted, text);
            return Some(true);
        }
        let value = pruned(self.source(&field.source, plan.slot))?;
        let truthy = value.truthy();
        sink.field_quoted(&field.name, &plan.quoted, value);
        Some(truthy)
    }

    /// `quoted`: the [`quoted_key`] of each of `props`' rules.
    fn group_properties(
        &self,
        props: &'a GroupProperties,
        quoted: &[Box<[u8]>],
        sink: &mut impl Sink,
    ) {
        if !props.when.iter().all(|c| self.cond(c)) {
            return;
        }
        // Not pruned: only absent values disappear, as `undefined` does in JSON.
        for (i, rule) in props.set.iter().enumerate() {
            if rule.when.iter().all(|c| self.cond(c))
                && let Some(value) = self.value(&rule.value)
            {
                sink.field_maybe_quoted(&rule.name, quoted.get(i).map(|q| &q[..]), value);
            }
        }
    }

    fn user_properties(&self, layout: &'a Layout, sink: &mut impl Sink) {
        let plan = &self.event.mapping.plan;
        self.fields_pruned(&layout.user_properties, &plan.user_properties, sink);

        // `$append` is absent when none of its entries is present.
        sink.open("$append", b",\"$append\":");
        for (field, plan) in layout.append.iter().zip(&plan.append) {
            // Not pruned: only absent values are left out.
            if let Some(text) = self.config_str(&field.source) {
                if let Some(text) = text {
                    sink.field_str(&field.name, &plan.quoted, text);
                }
            } else if let Some(value) = self.source(&field.source, plan.slot) {
                sink.field_quoted(&field.name, &plan.quoted, value);
            }
        }
        sink.close(false);

        if let Some(counts) = &layout.device_counts
            && let Some(devices) = self
                .event
                .read(&counts.data, plan.devices)
                .filter(|d| d.kind() == Kind::Array)
        {
            let quoted = |i: usize| plan.counts_quoted.get(i).map(|q| &q[..]);
            sink.field_maybe_quoted(
                &counts.count,
                quoted(0),
                Val::<B::Value>::Int(devices.len() as i64),
            );
            let now = self.event.env.now_ms as f64;
            // `d.lastAccessTime` is undefined (NaN) on anything but an object.
            let time = |d: B::Value| js::number_of(d.get(&counts.time_key));
            let mut active = [0i64; 4];
            if let Some(active) = active.get_mut(..counts.windows.len()) {
                // Each device's time is read once for all windows.
                for t in devices.items().map(time) {
                    for ((_, window), n) in counts.windows.iter().zip(active.iter_mut()) {
                        *n += i64::from(t >= now - *window as f64);
                    }
                }
                for (i, ((name, _), n)) in counts.windows.iter().zip(active.iter()).enumerate() {
                    sink.field_maybe_quoted(name, quoted(i + 1), Val::<B::Value>::Int(*n));
                }
            } else {
                for (i, (name, window)) in counts.windows.iter().enumerate() {
                    let since = now - *window as f64;
                    let n = devices.items().filter(|d| time(*d) >= since).count();
                    sink.field_maybe_quoted(name, quoted(i + 1), Val::<B::Value>::Int(n as i64));
                }
            }
        }

        self.fields_pruned(&layout.user_properties_tail, &plan.tail, sink);

        if let Some(newsletter) = &layout.newsletter {
            let by_category = self.captures.category.and_then(|c| {
                newsletter
                    .by_category
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.as_str())
            });
            let state = by_category.or_else(|| {
                match self
                    .event
                    .read(&newsletter.data, plan.newsletter)
                    .map(JsonRef::kind)
                {
                    Some(Kind::Bool(true)) => Some(newsletter.when_true.as_str()),
                    Some(Kind::Bool(false)) => Some(newsletter.when_false.as_str()),
                    _ => None,
                }
            });
            if let Some(state) = state.filter(|s| !s.is_empty()) {
                sink.field_quoted(
                    &newsletter.name,
                    &plan.newsletter_quoted,
                    Val::<B::Value>::Str(state),
                );
            }
        }

        self.fields_pruned(&layout.user_properties_last, &plan.last, sink);
    }
}

/// The `(choice, group)` of each experiment of an array whose `choice` and `group` are
/// strings.
///
/// The JavaScript throws on an item whose `choice` or `group` is not a string, losing the
/// whole event; the port skips such items instead and keeps the event.
fn experiment_items<'d, V: JsonRef<'d>>(value: V) -> impl Iterator<Item = (&'d str, &'d str)> {
    experiment_values(value).filter_map(|(choice, group)| Some((choice.as_str()?, group.as_str()?)))
}

/// The `(choice, group)` values of [`experiment_items`].
fn experiment_values<'d, V: JsonRef<'d>>(value: V) -> impl Iterator<Item = (V, V)> {
    value.items().filter_map(|item| {
        if item.kind() != Kind::Object {
            return None;
        }
        let (choice, group) = item.get_pair("choice", "group");
        let (choice, group) = (choice?, group?);
        (choice.as_str().is_some() && group.as_str().is_some()).then_some((choice, group))
    })
}

/// `snake(choice) + "_" + snake(group)`, appended to `out`.
fn experiment_name(choice: &str, group: &str, out: &mut String) {
    js::snake_case_into(choice, out);
    out.push('_');
    js::snake_case_into(group, out);
}

thread_local! {
    /// Scratch text for values computed while an event is written, reused across events.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}
