//! The content server's route after validation (spec §3.4, §5.1): the offset check, the
//! `client.metrics` and `client.marketing` lines, the flow events and the amplitude events.

use metricsmith::js;
use metricsmith_codegen::model::{FlowPolicy, Picked};
use regex::Regex;
use serde_json::{Map, Value};

use crate::{Collector, Location, Outcome, Request};

/// The flow policy with its regexes compiled.
#[derive(Debug)]
pub(crate) struct FlowRules {
    properties: Vec<(String, Regex)>,
    picked: Vec<(Picked, Option<Regex>)>,
    max_length: usize,
    auth_views: Vec<String>,
}

impl FlowRules {
    pub(crate) fn new(policy: &FlowPolicy) -> Result<Self, regex::Error> {
        Ok(Self {
            properties: policy
                .properties
                .iter()
                .map(|(name, p)| Ok((name.clone(), Regex::new(&p.rust)?)))
                .collect::<Result<_, regex::Error>>()?,
            picked: policy
                .picked
                .iter()
                .map(|p| {
                    let regex = p
                        .pattern
                        .as_ref()
                        .map(|x| Regex::new(&x.rust))
                        .transpose()?;
                    Ok((p.clone(), regex))
                })
                .collect::<Result<_, regex::Error>>()?,
            max_length: usize::try_from(policy.max_length).unwrap_or(usize::MAX),
            auth_views: policy.auth_views.clone(),
        })
    }
}

const NAVIGATION_TERMS: &[(&str, &[(&str, &str)])] = &[
    (
        "network",
        &[
            ("redirectStart", "redirectEnd"),
            ("domainLookupStart", "domainLookupEnd"),
            ("connectStart", "connectEnd"),
            ("responseStart", "responseEnd"),
        ],
    ),
    ("server", &[("requestStart", "responseStart")]),
    ("client", &[("domLoading", "domComplete")]),
];

pub(crate) fn handle(
    collector: &Collector,
    request: &Request,
    body: Value,
    received_at: i64,
    location: Option<&Location>,
) -> Outcome {
    let Value::Object(mut metrics) = body else {
        // Validation only lets objects through.
        return Outcome::json(
            400,
            &serde_json::json!({"statusCode": 400, "error": "Bad Request",
                "message": "\"value\" must be an object"}),
        );
    };
    let number = |m: &Map<String, Value>, key: &str| js::number_of(m.get(key));
    let max_offset = number(&metrics, "flushTime") - number(&metrics, "startTime");
    let events: Vec<Value> = metrics
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for event in &events {
        let offset = js::number_of(event.get("offset"));
        if offset > max_offset {
            return Outcome::json(
                400,
                &serde_json::json!({
                    "error": "Bad Request",
                    "message": format!("offset {} > maxiumum possible of {}",
                        js::format_f64(offset), js::format_f64(max_offset)),
                    "statusCode": 400,
                    "validation": {"keys": ["offset"]},
                }),
            );
        }
    }
    let mut outcome = Outcome::json(200, &serde_json::json!({"success": true}));
    let agent = request.header("user-agent").map(str::to_owned);
    match &agent {
        Some(agent) => metrics.insert("agent".to_owned(), Value::from(agent.clone())),
        None => metrics.remove("agent"),
    };
    if collector.collector.client_metrics
        && metrics.get("isSampledUser") == Some(&Value::Bool(true))
    {
        client_metrics(
            collector,
            &metrics,
            agent.as_deref(),
            received_at,
            &mut outcome.stderr,
        );
    }
    if let Some(rules) = &collector.flow {
        let flow = Flow {
            collector,
            rules,
            request,
            received_at,
            location,
            agent: agent.as_deref(),
        };
        flow.run(&mut metrics, &events, &mut outcome);
    }
    outcome
}

/// The `client.metrics` line and one `client.marketing` line per impression.
fn client_metrics(
    collector: &Collector,
    metrics: &Map<String, Value>,
    agent: Option<&str>,
    received_at: i64,
    stderr: &mut Vec<Map<String, Value>>,
) {
    let hour = received_at.div_euclid(3_600_000) * 3_600_000;
    let time = Value::from(iso_time(hour as f64));
    let copied = |line: &mut Map<String, Value>, key: &str| {
        if key == "agent" {
            if let Some(agent) = agent {
                line.insert("agent".to_owned(), Value::from(agent));
            }
            return;
        }
        let value = metrics
            .get(key)
            .cloned()
            .unwrap_or_else(|| Value::from("unknown"));
        line.insert(key.to_owned(), value);
    };
    let mut line = Map::new();
    line.insert("time".to_owned(), time.clone());
    line.insert("op".to_owned(), Value::from("client.metrics"));
    process_keys(collector, &mut line);
    line.insert("v".to_owned(), Value::from(1));
    for key in [
        "lang",
        "agent",
        "duration",
        "context",
        "broker",
        "entrypoint",
        "service",
        "migration",
    ] {
        copied(&mut line, key);
    }
    if let Some(Value::Object(timing)) = metrics.get("navigationTiming") {
        for (key, value) in timing {
            if !value.is_null() {
                line.insert(format!("nt.{key}"), value.clone());
            }
        }
    }
    let (mut names, mut offsets) = (Vec::new(), Vec::new());
    for event in metrics
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = js::string_of(event.get("type"));
        if !name.starts_with("flow.") {
            names.push(Value::from(name));
            offsets.push(event.get("offset").cloned().unwrap_or(Value::Null));
        }
    }
    line.insert("events".to_owned(), Value::Array(names));
    line.insert("event_durations".to_owned(), Value::Array(offsets));
    if let Some(Value::Object(screen)) = metrics.get("screen") {
        for key in ["width", "height"] {
            if let Some(value @ Value::Number(_)) = screen.get(key)
                && js::truthy(value)
            {
                line.insert(format!("screen.{key}"), value.clone());
            }
        }
    }
    stderr.push(line);

    for impression in metrics
        .get("marketing")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut line = impression.as_object().cloned().unwrap_or_default();
        line.insert("time".to_owned(), time.clone());
        line.insert("op".to_owned(), Value::from("client.marketing"));
        process_keys(collector, &mut line);
        line.insert("v".to_owned(), Value::from(1));
        for key in [
            "lang",
            "agent",
            "context",
            "entrypoint",
            "service",
            "migration",
        ] {
            copied(&mut line, key);
        }
        stderr.push(line);
    }
}

/// `hostname` and `pid`, when the configuration writes them.
fn process_keys(collector: &Collector, line: &mut Map<String, Value>) {
    if let Some((hostname, pid)) = &collector.config.process {
        line.insert("hostname".to_owned(), Value::from(hostname.clone()));
        line.insert("pid".to_owned(), Value::from(*pid));
    }
}

struct Flow<'a> {
    collector: &'a Collector,
    rules: &'a FlowRules,
    request: &'a Request,
    received_at: i64,
    location: Option<&'a Location>,
    agent: Option<&'a str>,
}

impl Flow<'_> {
    fn run(&self, metrics: &mut Map<String, Value>, events: &[Value], outcome: &mut Outcome) {
        let Some(begin) = self.valid(metrics) else {
            return;
        };
        let mut location = Map::new();
        if let Some(l) = self.location {
            if let Some(country) = &l.country {
                location.insert("country".to_owned(), Value::from(country.clone()));
            }
            if let Some(state) = &l.state {
                location.insert("state".to_owned(), Value::from(state.clone()));
            }
        }
        metrics.insert("location".to_owned(), Value::Object(location));
        let data = self.amplitude_data(metrics);
        let picked = self.picked(metrics);
        let locale = self.locale();
        let number = |key: &str| js::number_of(metrics.get(key));
        let (start, flush) = (number("startTime"), number("flushTime"));
        let received = self.received_at as f64;
        let view = match metrics.get("initialView").and_then(Value::as_str) {
            Some(view) if self.rules.auth_views.iter().any(|v| v == view) => "auth",
            _ => "other",
        };
        let mut loaded = false;
        for event in events {
            let mut name = js::string_of(event.get("type"));
            let (time, flow_time) = if name == "flow.begin" {
                (begin, Value::from(0))
            } else {
                let time = start + js::number_of(event.get("offset")) + (received - flush);
                if name == "loaded" {
                    loaded = true;
                    name = format!("flow.performance.{view}");
                }
                if !self.fresh(time) {
                    continue;
                }
                let flow_time = match name.strip_prefix("flow.timing.") {
                    Some(_) => {
                        let dot = name.rfind('.').unwrap_or(name.len());
                        let tail = js::string_to_number(&name[dot + 1..]);
                        name.truncate(dot);
                        js::number_value(tail.floor())
                    }
                    None => js::number_value((time - begin).floor()),
                };
                (time, flow_time)
            };
            let time_value = js::number_value(time);
            self.collector.amplitude(
                &Value::from(name.clone()),
                Some(&time_value),
                &data,
                &self.collector.env(self.received_at),
                &mut outcome.log,
            );
            if let Some(rest) = name.strip_prefix("screen.") {
                name = format!("flow.{rest}.view");
            }
            if name.starts_with("flow.") {
                outcome
                    .stderr
                    .push(self.line(&name, metrics, flow_time, time, &locale, &picked));
            }
        }
        if let (true, Some(Value::Object(timing))) = (loaded, metrics.get("navigationTiming")) {
            for (what, terms) in NAVIGATION_TERMS {
                let sum: f64 = terms
                    .iter()
                    .map(|(from, until)| {
                        let from = js::number_of(timing.get(*from));
                        let until = js::number_of(timing.get(*until));
                        if from >= 0.0 && until > from {
                            until - from
                        } else {
                            0.0
                        }
                    })
                    .sum();
                if sum > 0.0 && self.fresh(begin + sum) {
                    let name = format!("flow.performance.{view}.{what}");
                    let line = self.line(
                        &name,
                        metrics,
                        js::number_value(sum.floor()),
                        begin + sum,
                        &locale,
                        &picked,
                    );
                    outcome.stderr.push(line);
                }
            }
        }
    }

    /// The flow begin time when the flow data is valid (all or nothing).
    fn valid(&self, metrics: &Map<String, Value>) -> Option<f64> {
        let flow_id = metrics.get("flowId").filter(|v| js::truthy(*v))?;
        let Some(Value::Number(begin)) = metrics.get("flowBeginTime") else {
            return None;
        };
        let begin = begin.as_f64()?;
        if !self.fresh(begin) {
            return None;
        }
        for (name, regex) in &self.rules.properties {
            if let Some(value) = metrics.get(name).filter(|v| js::truthy(*v))
                && !regex.is_match(&js::string_of(Some(value)))
            {
                return None;
            }
        }
        let flow_id = flow_id.as_str()?;
        let salt = flow_id.get(..32)?;
        if begin.fract() != 0.0 {
            return None;
        }
        // A safe integer (validated), so the cast is exact.
        let signed =
            metricsmith::flow_id::sign(&self.collector.config.flow_key, salt, begin as i64);
        (signed == flow_id).then_some(begin)
    }

    /// The age test: `0 <= R - time <= flow_expiry`.
    fn fresh(&self, time: f64) -> bool {
        let age = self.received_at as f64 - time;
        age >= 0.0 && age <= self.collector.config.flow_expiry_ms as f64
    }

    fn locale(&self) -> String {
        match &self.collector.languages {
            Some(languages) => {
                languages
                    .negotiate(self.request.header("accept-language"))
                    .locale
            }
            None => String::new(),
        }
    }

    /// The picked properties of flow lines, with the DNT and pattern rules applied.
    fn picked(&self, metrics: &Map<String, Value>) -> Map<String, Value> {
        let dnt = self.request.header("dnt") == Some("1");
        let max = self.rules.max_length;
        let mut out = Map::new();
        let mut fallbacks = Vec::new();
        for (picked, regex) in &self.rules.picked {
            if dnt && !picked.dnt {
                continue;
            }
            let value = metrics
                .get(&picked.name)
                .filter(|v| js::truthy(*v) && v.as_str() != Some("none"))
                .map(|v| js::string_of(Some(v)))
                .filter(|v| regex.as_ref().is_none_or(|r| r.is_match(v)));
            match value {
                Some(value) => {
                    out.insert(picked.name.clone(), Value::from(truncate(&value, max)));
                }
                None => {
                    if let Some(fallback) = &picked.fallback {
                        fallbacks.push((picked.name.clone(), fallback.clone()));
                    }
                }
            }
        }
        for (name, fallback) in fallbacks {
            if let Some(value) = metrics.get(&fallback).filter(|v| js::truthy(*v)) {
                let value = js::string_of(Some(value));
                out.insert(name, Value::from(truncate(&value, max)));
            }
        }
        out
    }

    fn line(
        &self,
        name: &str,
        metrics: &Map<String, Value>,
        flow_time: Value,
        time: f64,
        locale: &str,
        picked: &Map<String, Value>,
    ) -> Map<String, Value> {
        let mut line = Map::new();
        let location = self.location;
        if let Some(country) = location.and_then(|l| l.country.as_deref()) {
            line.insert("country".to_owned(), Value::from(country));
        }
        line.insert("event".to_owned(), Value::from(name));
        line.insert(
            "flow_id".to_owned(),
            metrics.get("flowId").cloned().unwrap_or(Value::Null),
        );
        line.insert("flow_time".to_owned(), flow_time);
        let process = &self.collector.config.process;
        if let Some((hostname, _)) = process {
            line.insert("hostname".to_owned(), Value::from(hostname.clone()));
        }
        line.insert("locale".to_owned(), Value::from(locale));
        line.insert("op".to_owned(), Value::from("flowEvent"));
        if let Some((_, pid)) = process {
            line.insert("pid".to_owned(), Value::from(*pid));
        }
        if let Some(state) = location.and_then(|l| l.state.as_deref()) {
            line.insert("region".to_owned(), Value::from(state));
        }
        line.insert("time".to_owned(), Value::from(iso_time(time)));
        if let Some(agent) = self.agent {
            line.insert("userAgent".to_owned(), Value::from(agent));
        }
        line.insert("v".to_owned(), Value::from(1));
        for (key, value) in picked {
            line.insert(key.clone(), value.clone());
        }
        line
    }

    /// The content server's data bag: the body and location without falsy values and
    /// `"none"`, the user agent's browser, OS and form factor, and the country and region.
    fn amplitude_data(&self, metrics: &Map<String, Value>) -> Map<String, Value> {
        let mut data: Map<String, Value> = metrics
            .iter()
            .filter(|(_, v)| js::truthy(*v) && v.as_str() != Some("none"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.collector.user_agent_fields(self.request, &mut data);
        if let Some(l) = self.location
            && (l.country.is_some() || l.state.is_some())
        {
            if let Some(country) = &l.country {
                data.insert("country".to_owned(), Value::from(country.clone()));
            }
            if let Some(state) = &l.state {
                data.insert("region".to_owned(), Value::from(state.clone()));
            }
        }
        data
    }
}

/// The first `max` UTF-16 units of `s`, as JavaScript's `substr(0, max)`.
fn truncate(s: &str, max: usize) -> String {
    let mut units = 0;
    let mut out = String::new();
    for c in s.chars() {
        units += c.len_utf16();
        if units > max {
            break;
        }
        out.push(c);
    }
    out
}

/// `new Date(ms).toISOString()`.
pub(crate) fn iso_time(ms: f64) -> String {
    let ms = ms.floor() as i64;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
