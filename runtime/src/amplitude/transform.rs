//! The compiled mapping and the transform itself (spec §4.2-§4.6).

use std::collections::HashMap;

use regex::{Regex, RegexSet};
use serde_json::{Map, Value as Json};

use super::mapping::{
    Capture, Cond, Field, GroupExpr, GroupProperties, Layout, MappingSpec, Part, RewritePart,
    Source, Target, Value,
};
use crate::js;

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
    /// A table id points past the tables.
    #[error("service `{service}`: table id {table} does not exist")]
    Table {
        /// The service.
        service: String,
        /// The missing table id.
        table: usize,
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

/// A compiled mapping: exact names in a hash map, all rules in one `RegexSet` pass.
#[derive(Debug)]
pub struct Mapping {
    spec: MappingSpec,
    exact: HashMap<String, usize>,
    set: RegexSet,
    regexes: Vec<Regex>,
    tables: Vec<HashMap<String, String>>,
    group_properties: HashMap<String, usize>,
}

/// The captures of a match, as FxA's transform assigns them.
#[derive(Debug, Clone, Copy, Default)]
struct Captures<'n> {
    category: Option<&'n str>,
    target: Option<&'n str>,
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
    /// Compiles a mapping: builds the exact-name index, one `RegexSet` over every rule and
    /// the per-rule regexes used for captures.
    ///
    /// # Errors
    /// [`MappingError::Pattern`] when a rule's pattern does not compile and
    /// [`MappingError::Table`] when a table id is out of range.
    pub fn new(spec: MappingSpec) -> Result<Self, MappingError> {
        let compile = |index: usize, pattern: &str| {
            Regex::new(pattern).map_err(|source| MappingError::Pattern {
                service: spec.service.clone(),
                index,
                source,
            })
        };
        let regexes = spec
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| compile(index, &rule.pattern))
            .collect::<Result<Vec<_>, _>>()?;
        let set = RegexSet::new(spec.rules.iter().map(|rule| rule.pattern.as_str())).map_err(
            |source| MappingError::Pattern {
                service: spec.service.clone(),
                index: 0,
                source,
            },
        )?;
        let tables: Vec<HashMap<String, String>> = spec
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
        Ok(Self {
            spec,
            exact,
            set,
            regexes,
            tables,
            group_properties,
        })
    }

    /// The spec this mapping was compiled from.
    pub fn spec(&self) -> &MappingSpec {
        &self.spec
    }

    /// Which definition maps `name`: an exact name first, else the first rule that matches.
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
        // One pass over every rule; the lowest index is the first rule in schema order.
        self.set.matches(name).iter().next().map(Matched::Rule)
    }

    /// Maps one source event and its data bag to the amplitude events it produces.
    ///
    /// Follows fxa-shared's transform plus the service policies: rewrites, the time
    /// fallback, the first matching definition, dropping on a falsy group or event name,
    /// pruning, and the `logged` decision.
    pub fn transform(
        &self,
        event: SourceEvent<'_>,
        data: &Map<String, Json>,
        env: &Env<'_>,
    ) -> Vec<AmplitudeEvent> {
        // An absent or falsy name never reaches the transform (FxA's badArgument).
        let Some(raw_name) = event.name.filter(|n| js::truthy(n)) else {
            return Vec::new();
        };
        let mut name = match raw_name {
            Json::String(s) => s.clone(),
            other => js::to_string(Some(other)),
        };
        if let Some(rewrite) = self.spec.policy.rewrites.iter().find(|r| r.event == name) {
            name = render_rewrite(&rewrite.to, data);
        }
        let now = Json::from(env.now_ms);
        let time = match event.time {
            Some(t) if js::truthy(t) || !self.spec.policy.time_falls_back_to_now => Some(t),
            _ if self.spec.policy.time_falls_back_to_now => Some(&now),
            _ => None,
        };

        let (targets, captures) = match self.resolve(&name) {
            None => return Vec::new(),
            Some(Matched::Exact(i)) => (&self.spec.exact[i].1, Captures::default()),
            Some(Matched::Rule(i)) => {
                let captures = self.captures(i, &name);
                (&self.spec.rules[i].targets, captures)
            }
        };

        let mut out = Vec::with_capacity(targets.len());
        for (i, target) in targets.iter().enumerate() {
            match self.build(target, captures, time, data, env) {
                Some(event) => out.push(event),
                // Extra targets are copies of the first: none without it.
                None if i == 0 => return Vec::new(),
                None => {}
            }
        }
        out
    }

    fn captures<'n>(&self, rule: usize, name: &'n str) -> Captures<'n> {
        let regex = &self.regexes[rule];
        let Some(caps) = regex.captures(name) else {
            return Captures::default();
        };
        // `match.length` in JavaScript: 1 + the number of groups, participating or not.
        let len = caps.len();
        Captures {
            category: if len >= 2 {
                caps.get(1).map(|m| m.as_str())
            } else {
                None
            },
            target: if len == 3 {
                caps.get(2).map(|m| m.as_str())
            } else {
                None
            },
        }
    }

    fn build(
        &self,
        target: &Target,
        captures: Captures<'_>,
        time: Option<&Json>,
        data: &Map<String, Json>,
        env: &Env<'_>,
    ) -> Option<AmplitudeEvent> {
        let event_name = render_template(&target.event, captures);
        if event_name.is_empty() {
            return None;
        }
        let ctx = Ctx {
            mapping: self,
            captures,
            data,
            env,
            event_name: &event_name,
        };
        if !target.when.iter().all(|c| ctx.cond(c)) {
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

        let layout = &self.spec.layout;
        let mut event = Map::new();
        event.insert("op".to_owned(), Json::from("amplitudeEvent"));
        event.insert(
            "event_type".to_owned(),
            Json::String(format!("{group} - {event_name}")),
        );
        if let Some(time) = time {
            let time = match target.time_offset {
                Some(offset) => js::plus(time, offset),
                None => time.clone(),
            };
            insert_pruned(&mut event, "time", Some(time));
        }
        for field in &layout.fields {
            insert_pruned(&mut event, &field.name, ctx.source(&field.source));
        }
        event.insert(
            "event_properties".to_owned(),
            Json::Object(ctx.event_properties(layout, group)),
        );
        event.insert(
            "user_properties".to_owned(),
            Json::Object(ctx.user_properties(layout)),
        );

        // Pruning keeps `false`, so presence is not enough: the logger tests truthiness.
        let logged = !self.spec.policy.require_user_or_device
            || js::truthy_opt(event.get("user_id"))
            || js::truthy_opt(event.get("device_id"));
        Some(AmplitudeEvent { event, logged })
    }
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

fn render_template(parts: &[Part], captures: Captures<'_>) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::Text(text) => out.push_str(text),
            // A JavaScript template literal writes an absent capture as `undefined`.
            Part::Capture(c) => out.push_str(captures.get(*c).unwrap_or("undefined")),
        }
    }
    out
}

fn render_rewrite(parts: &[RewritePart], data: &Map<String, Json>) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            RewritePart::Text(text) => out.push_str(text),
            RewritePart::Data(key) => out.push_str(&js::to_string(data.get(key))),
        }
    }
    out
}

/// Inserts `value` unless it is absent or falsy; `false` itself is kept (FxA's prune).
fn insert_pruned(map: &mut Map<String, Json>, key: &str, value: Option<Json>) {
    if let Some(value) = value
        && (js::truthy(&value) || value == Json::Bool(false))
    {
        map.insert(key.to_owned(), value);
    }
}

/// Everything one evaluation needs.
struct Ctx<'a> {
    mapping: &'a Mapping,
    captures: Captures<'a>,
    data: &'a Map<String, Json>,
    env: &'a Env<'a>,
    event_name: &'a str,
}

/// The service name and OAuth client id derived from `data.service` (spec §4.3).
struct ServiceInfo {
    name: Option<String>,
    client_id: Option<Json>,
}

impl Ctx<'_> {
    fn value(&self, value: &Value) -> Option<Json> {
        match value {
            Value::Literal(s) => Some(Json::String(s.clone())),
            Value::Capture(c) => self.captures.get(*c).map(Json::from),
            Value::Data(key) => self.data.get(key).cloned(),
            Value::Lookup { table, key } => {
                let key = self.captures.get(*key)?;
                self.lookup(table.0, key)
            }
            Value::LookupData { table, key } => {
                let key = js::to_string(self.data.get(key));
                self.lookup(table.0, &key)
            }
        }
    }

    fn lookup(&self, table: usize, key: &str) -> Option<Json> {
        self.mapping
            .tables
            .get(table)?
            .get(key)
            .map(|v| Json::String(v.clone()))
    }

    fn cond(&self, cond: &Cond) -> bool {
        match cond {
            Cond::Truthy(value) => self.value(value).as_ref().is_some_and(js::truthy),
            Cond::EventIs(name) => self.event_name == name,
        }
    }

    fn service(&self) -> ServiceInfo {
        let none = ServiceInfo {
            name: None,
            client_id: None,
        };
        let Some(rule) = &self.mapping.spec.layout.service else {
            return none;
        };
        let Some(service) = self.data.get(&rule.data).filter(|s| js::truthy(s)) else {
            return none;
        };
        // Strict equality: only a string can equal `content-server` or `sync`.
        if let Json::String(s) = service {
            if rule.ignore.iter().any(|i| i == s) {
                return none;
            }
            if rule.passthrough.iter().any(|p| p == s) {
                return ServiceInfo {
                    name: Some(s.clone()),
                    client_id: None,
                };
            }
        }
        let key = js::to_string(Some(service));
        let name = self
            .env
            .oauth_clients
            .get(&key)
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| rule.unknown.clone());
        ServiceInfo {
            name: Some(name),
            client_id: Some(service.clone()),
        }
    }

    fn source(&self, source: &Source) -> Option<Json> {
        match source {
            Source::Data(key) => self.data.get(key).cloned(),
            Source::AppVersion => self.env.app_version.map(Json::from),
            Source::ServiceName => self.service().name.map(Json::String),
            Source::OauthClientId => self.service().client_id,
            Source::Experiments(key) => experiments(self.data.get(key)),
            Source::NonEmptyArray(key) => self
                .data
                .get(key)
                .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                .cloned(),
            Source::Literal(s) => Some(Json::String(s.clone())),
        }
    }

    fn fields_pruned(&self, fields: &[Field], out: &mut Map<String, Json>) {
        for field in fields {
            insert_pruned(out, &field.name, self.source(&field.source));
        }
    }

    fn event_properties(&self, layout: &Layout, group: &str) -> Map<String, Json> {
        let mut out = Map::new();
        self.fields_pruned(&layout.event_properties, &mut out);
        if let Some(&i) = self.mapping.group_properties.get(group) {
            self.group_properties(&self.mapping.spec.group_properties[i], &mut out);
        }
        out
    }

    fn group_properties(&self, props: &GroupProperties, out: &mut Map<String, Json>) {
        if !props.when.iter().all(|c| self.cond(c)) {
            return;
        }
        // Not pruned: only absent values disappear, as `undefined` does in JSON.
        for rule in &props.set {
            if rule.when.iter().all(|c| self.cond(c))
                && let Some(value) = self.value(&rule.value)
            {
                out.insert(rule.name.clone(), value);
            }
        }
    }

    fn user_properties(&self, layout: &Layout) -> Map<String, Json> {
        let mut out = Map::new();
        self.fields_pruned(&layout.user_properties, &mut out);

        let mut append = Map::new();
        for field in &layout.append {
            if let Some(value) = self.source(&field.source) {
                append.insert(field.name.clone(), value);
            }
        }
        if !append.is_empty() {
            out.insert("$append".to_owned(), Json::Object(append));
        }

        if let Some(counts) = &layout.device_counts
            && let Some(Json::Array(devices)) = self.data.get(&counts.data)
        {
            out.insert(counts.count.clone(), Json::from(devices.len()));
            let now = self.env.now_ms as f64;
            for (name, window) in &counts.windows {
                let since = now - *window as f64;
                let active = devices
                    .iter()
                    .filter(|d| {
                        // `d.lastAccessTime` is undefined (NaN) on anything but an object.
                        let t = d.as_object().and_then(|o| o.get(&counts.time_key));
                        js::to_number(t) >= since
                    })
                    .count();
                out.insert(name.clone(), Json::from(active));
            }
        }

        self.fields_pruned(&layout.user_properties_tail, &mut out);

        if let Some(newsletter) = &layout.newsletter {
            let by_category = self.captures.category.and_then(|c| {
                newsletter
                    .by_category
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.clone())
            });
            let state = by_category.or_else(|| match self.data.get(&newsletter.data) {
                Some(Json::Bool(true)) => Some(newsletter.when_true.clone()),
                Some(Json::Bool(false)) => Some(newsletter.when_false.clone()),
                _ => None,
            });
            if let Some(state) = state.filter(|s| !s.is_empty()) {
                out.insert(newsletter.name.clone(), Json::String(state));
            }
        }
        out
    }
}

/// `snake(choice) + "_" + snake(group)` for each experiment of a non-empty array.
///
/// The JavaScript throws on an item whose `choice` or `group` is not a string, losing the
/// whole event; the port skips such items instead and keeps the event.
fn experiments(value: Option<&Json>) -> Option<Json> {
    let items = value?.as_array().filter(|a| !a.is_empty())?;
    let mapped: Vec<Json> = items
        .iter()
        .filter_map(|item| {
            let item = item.as_object()?;
            let choice = item.get("choice")?.as_str()?;
            let group = item.get("group")?.as_str()?;
            Some(Json::String(format!(
                "{}_{}",
                js::snake_case(choice),
                js::snake_case(group)
            )))
        })
        .collect();
    (!mapped.is_empty()).then_some(Json::Array(mapped))
}
