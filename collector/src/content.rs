//! The content server's route after validation (spec §3.4, §5.1): the offset check, the
//! `client.metrics` and `client.marketing` lines, the flow events and the amplitude events.

use std::borrow::Cow;
use std::io::Write;

use metricsmith::view::{JsonRef, Kind};
use metricsmith::{js, mozlog};
use metricsmith_codegen::model::{FlowPolicy, Picked};
use regex::Regex;
use serde_json::Value;

use crate::bag::{self, Added, ContentBag};
use crate::body::{NULL, Root, View};
use crate::outcome::Object;
use crate::{Collector, Lines, Location, Log, Outcome, Request};

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
    body: View<'_>,
    received_at: i64,
    location: Option<&Location>,
    log: &mut Log,
) -> Outcome {
    if !body.is_object() {
        // Validation only lets objects through.
        return Outcome::json(
            400,
            &serde_json::json!({"statusCode": 400, "error": "Bad Request",
                "message": "\"value\" must be an object"}),
        );
    }
    let number = |key: &str| js::number_of(body.get(key));
    let max_offset = number("flushTime") - number("startTime");
    for event in events_of(body) {
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
    let mut outcome = Outcome {
        status: 200,
        content_type: Some("application/json; charset=utf-8"),
        body: r#"{"success":true}"#.to_owned(),
        ..Outcome::default()
    };
    let agent = request.header("user-agent");
    let mut metrics = Root::new(body);
    match agent {
        Some(agent) => metrics.set("agent", View::Str(agent)),
        None => metrics.delete("agent"),
    }
    if collector.collector.client_metrics
        && View::Root(&metrics).get("isSampledUser").map(JsonRef::kind) == Some(Kind::Bool(true))
    {
        client_metrics(
            collector,
            View::Root(&metrics),
            agent,
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
            agent,
        };
        flow.run(metrics, &mut outcome.stderr, log);
    }
    outcome
}

/// The body's `events`, or none.
fn events_of(metrics: View<'_>) -> impl Iterator<Item = View<'_>> {
    metrics.get("events").into_iter().flat_map(JsonRef::items)
}

/// `String(event.type)`.
fn type_of(event: View<'_>) -> Cow<'_, str> {
    let kind = event.get("type");
    match kind.map(JsonRef::kind) {
        Some(Kind::String(s)) => Cow::Borrowed(s),
        _ => Cow::Owned(js::string_of(kind)),
    }
}

/// A value that the content server sets on a `client.*` line.
#[derive(Debug, Clone, Copy)]
enum Set<'a> {
    /// The hour of the request, as an ISO time.
    Hour,
    Str(&'a str),
    Int(i64),
    /// The body's value of the key, or `"unknown"`.
    Copied,
}

/// The `client.metrics` line and one `client.marketing` line per impression.
fn client_metrics(
    collector: &Collector,
    metrics: View<'_>,
    agent: Option<&str>,
    received_at: i64,
    stderr: &mut Lines,
) {
    let hour = (received_at.div_euclid(3_600_000) * 3_600_000) as f64;
    let write = |out: &mut Vec<u8>, key: &str, value: Set<'_>| match value {
        Set::Hour => write_iso_time(out, hour),
        Set::Str(s) => mozlog::write_json_str(out, s),
        Set::Int(i) => mozlog::write_json(out, &Value::from(i)),
        Set::Copied => match metrics.get(key) {
            Some(value) => mozlog::write_json(out, value),
            None => mozlog::write_json_str(out, "unknown"),
        },
    };
    // The keys both kinds of line start with, in the order FxA set them.
    let mut head = vec![("time", Set::Hour), ("op", Set::Str("client.metrics"))];
    if let Some((hostname, pid)) = &collector.config.process {
        head.push(("hostname", Set::Str(hostname)));
        head.push(("pid", Set::Int(i64::from(*pid))));
    }
    head.push(("v", Set::Int(1)));
    let mut set = head.clone();
    copied(
        agent,
        &[
            "lang",
            "agent",
            "duration",
            "context",
            "broker",
            "entrypoint",
            "service",
            "migration",
        ],
        &mut set,
    );
    let events = || events_of(metrics);
    stderr.push(|out| {
        let mut line = Object::new(out);
        for &(key, value) in &set {
            write(line.key(key), key, value);
        }
        if let Some(timing) = metrics.get("navigationTiming").filter(|t| t.is_object()) {
            let mut key = String::with_capacity(32);
            for (name, value) in timing.entries() {
                if !matches!(value.kind(), Kind::Null) {
                    key.clear();
                    key.push_str("nt.");
                    key.push_str(name);
                    mozlog::write_json(line.key(&key), value);
                }
            }
        }
        let not_flow = || events().filter(|e| !type_of(*e).starts_with("flow."));
        write_array(line.key("events"), not_flow(), |out, event| {
            mozlog::write_json_str(out, &type_of(event));
        });
        write_array(line.key("event_durations"), not_flow(), |out, event| {
            mozlog::write_json(out, event.get("offset").unwrap_or(View::Owned(&NULL)));
        });
        if let Some(screen) = metrics.get("screen").filter(|s| s.is_object()) {
            for (key, name) in [("width", "screen.width"), ("height", "screen.height")] {
                if let Some(value) = screen.get(key)
                    && matches!(value.kind(), Kind::Number(_))
                    && js::truthy(value)
                {
                    mozlog::write_json(line.key(name), value);
                }
            }
        }
        line.end();
    });

    let Some(marketing) = metrics.get("marketing").filter(|m| m.is_array()) else {
        return;
    };
    if marketing.is_empty() {
        return;
    }
    let mut set = head;
    set[1].1 = Set::Str("client.marketing");
    copied(
        agent,
        &[
            "lang",
            "agent",
            "context",
            "entrypoint",
            "service",
            "migration",
        ],
        &mut set,
    );
    for impression in marketing.items() {
        let own = Some(impression).filter(|i| i.is_object());
        // The impression's keys first; a key the server sets keeps its place there and takes
        // the server's value, as an assignment to an existing key does.
        stderr.push(|out| {
            let mut line = Object::new(out);
            for (key, value) in own.into_iter().flat_map(JsonRef::entries) {
                match set.iter().find(|(k, _)| *k == key) {
                    Some(&(_, set)) => write(line.key(key), key, set),
                    None => mozlog::write_json(line.key(key), value),
                }
            }
            for &(key, value) in &set {
                if own.is_none_or(|own| own.get(key).is_none()) {
                    write(line.key(key), key, value);
                }
            }
            line.end();
        });
    }
}

/// The body keys a `client.*` line copies, `agent` from the header (absent without one).
fn copied<'a>(
    agent: Option<&'a str>,
    keys: &[&'static str],
    set: &mut Vec<(&'static str, Set<'a>)>,
) {
    for &key in keys {
        match (key, agent) {
            ("agent", Some(agent)) => set.push(("agent", Set::Str(agent))),
            ("agent", None) => {}
            _ => set.push((key, Set::Copied)),
        }
    }
}

/// Writes `[..]` with `write` for each item.
fn write_array<T>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

struct Flow<'a> {
    collector: &'a Collector,
    rules: &'a FlowRules,
    request: &'a Request,
    received_at: i64,
    location: Option<&'a Location>,
    agent: Option<&'a str>,
}

/// The picked properties of a request's flow lines, with the DNT and pattern rules applied.
struct PickedValues {
    /// Those whose key is also a key the line sets before them: their value goes there.
    overrides: Vec<(String, String)>,
    /// The others, written after the line's own keys: `,"key":"value"` each.
    tail: Vec<u8>,
}

impl PickedValues {
    fn get(&self, key: &str) -> Option<&str> {
        self.overrides
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Flow<'_> {
    fn run<'r>(&'r self, mut metrics: Root<'r>, stderr: &mut Lines, log: &mut Log) {
        let Some(begin) = self.valid(View::Root(&metrics)) else {
            return;
        };
        metrics.set("location", View::Location(self.location));
        let metrics = View::Root(&metrics);
        let added = self.amplitude_added();
        let pruned = bag::pruned(metrics);
        let data = ContentBag {
            metrics,
            pruned: &pruned,
            added: &added,
        };
        let picked = self.picked(metrics);
        let locale = self.locale();
        let env = self.collector.env(self.received_at);
        let flow_id = metrics.get("flowId");
        let number = |key: &str| js::number_of(metrics.get(key));
        let (start, flush) = (number("startTime"), number("flushTime"));
        let received = self.received_at as f64;
        let view = match metrics.get("initialView").and_then(JsonRef::as_str) {
            Some(view) if self.rules.auth_views.iter().any(|v| v == view) => "auth",
            _ => "other",
        };
        let mut loaded = false;
        // One name buffer for every event: it goes into the `Value` the transform reads, and
        // back.
        let mut name = String::new();
        for event in events_of(metrics) {
            name.clear();
            name.push_str(&type_of(event));
            let (time, flow_time) = if name == "flow.begin" {
                (begin, 0.0)
            } else {
                let time = start + js::number_of(event.get("offset")) + (received - flush);
                if name == "loaded" {
                    loaded = true;
                    name.clear();
                    name.push_str("flow.performance.");
                    name.push_str(view);
                }
                if !self.fresh(time) {
                    continue;
                }
                let flow_time = match name.strip_prefix("flow.timing.") {
                    Some(_) => {
                        let dot = name.rfind('.').unwrap_or(name.len());
                        let tail = js::string_to_number(&name[dot + 1..]);
                        name.truncate(dot);
                        tail.floor()
                    }
                    None => (time - begin).floor(),
                };
                (time, flow_time)
            };
            let time_value = js::number_value(time);
            let name_value = Value::String(std::mem::take(&mut name));
            self.collector.amplitude(
                View::Owned(&name_value),
                Some(View::Owned(&time_value)),
                data,
                &env,
                log,
            );
            if let Value::String(taken) = name_value {
                name = taken;
            }
            if name.starts_with("screen.") {
                name.replace_range(.."screen.".len(), "flow.");
                name.push_str(".view");
            }
            if name.starts_with("flow.") {
                stderr
                    .push(|out| self.line(out, &name, flow_id, flow_time, time, &locale, &picked));
            }
        }
        let timing = metrics.get("navigationTiming").filter(|t| t.is_object());
        if let (true, Some(timing)) = (loaded, timing) {
            for (what, terms) in NAVIGATION_TERMS {
                let sum: f64 = terms
                    .iter()
                    .map(|(from, until)| {
                        let from = js::number_of(timing.get(from));
                        let until = js::number_of(timing.get(until));
                        if from >= 0.0 && until > from {
                            until - from
                        } else {
                            0.0
                        }
                    })
                    .sum();
                if sum > 0.0 && self.fresh(begin + sum) {
                    let name = format!("flow.performance.{view}.{what}");
                    stderr.push(|out| {
                        self.line(
                            out,
                            &name,
                            flow_id,
                            sum.floor(),
                            begin + sum,
                            &locale,
                            &picked,
                        );
                    });
                }
            }
        }
    }

    /// The flow begin time when the flow data is valid (all or nothing).
    fn valid(&self, metrics: View<'_>) -> Option<f64> {
        let flow_id = metrics.get("flowId").filter(|v| js::truthy(*v))?;
        let Some(Kind::Number(begin)) = metrics.get("flowBeginTime").map(JsonRef::kind) else {
            return None;
        };
        let begin = begin.as_f64();
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

    /// Whether flow lines of this request have `key` among the keys they set before the picked
    /// ones (see [`Flow::line`]).
    fn sets(&self, key: &str) -> bool {
        let location = self.location;
        match key {
            "event" | "flow_id" | "flow_time" | "locale" | "op" | "time" | "v" => true,
            "country" => location.is_some_and(|l| l.country.is_some()),
            "region" => location.is_some_and(|l| l.state.is_some()),
            "hostname" | "pid" => self.collector.config.process.is_some(),
            "userAgent" => self.agent.is_some(),
            _ => false,
        }
    }

    /// The picked properties of flow lines, with the DNT and pattern rules applied.
    fn picked(&self, metrics: View<'_>) -> PickedValues {
        let dnt = self.request.header("dnt") == Some("1");
        let max = self.rules.max_length;
        // In insertion order; a key set again keeps its place and takes the new value.
        let mut out: Vec<(String, String)> = Vec::new();
        let mut set = |name: &str, value: String| match out.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => out.push((name.to_owned(), value)),
        };
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
                Some(value) => set(&picked.name, truncate(&value, max)),
                None => {
                    if let Some(fallback) = &picked.fallback {
                        fallbacks.push((&picked.name, fallback));
                    }
                }
            }
        }
        for (name, fallback) in fallbacks {
            if let Some(value) = metrics.get(fallback).filter(|v| js::truthy(*v)) {
                set(name, truncate(&js::string_of(Some(value)), max));
            }
        }
        let (overrides, rest): (Vec<_>, Vec<_>) = out.into_iter().partition(|(k, _)| self.sets(k));
        let mut tail = Vec::new();
        for (key, value) in &rest {
            tail.push(b',');
            mozlog::write_json_str(&mut tail, key);
            tail.push(b':');
            mozlog::write_json_str(&mut tail, value);
        }
        PickedValues { overrides, tail }
    }

    /// Writes one flow line: its keys in the order FxA set them, then the picked ones.
    #[allow(clippy::too_many_arguments)] // the line's values, each of its own kind
    fn line(
        &self,
        out: &mut Vec<u8>,
        name: &str,
        flow_id: Option<View<'_>>,
        flow_time: f64,
        time: f64,
        locale: &str,
        picked: &PickedValues,
    ) {
        let mut line = Object::new(out);
        // A picked value of the same key takes the key's place.
        let mut set = |key: &str, write: &dyn Fn(&mut Vec<u8>)| {
            let out = line.key(key);
            match picked.get(key) {
                Some(value) => mozlog::write_json_str(out, value),
                None => write(out),
            }
        };
        let location = self.location;
        if let Some(country) = location.and_then(|l| l.country.as_deref()) {
            set("country", &|out| mozlog::write_json_str(out, country));
        }
        set("event", &|out| mozlog::write_json_str(out, name));
        set("flow_id", &|out| {
            mozlog::write_json(out, flow_id.unwrap_or(View::Owned(&NULL)));
        });
        set("flow_time", &|out| {
            mozlog::write_json(out, &js::number_value(flow_time));
        });
        let process = &self.collector.config.process;
        if let Some((hostname, _)) = process {
            set("hostname", &|out| mozlog::write_json_str(out, hostname));
        }
        set("locale", &|out| mozlog::write_json_str(out, locale));
        set("op", &|out| mozlog::write_json_str(out, "flowEvent"));
        if let Some((_, pid)) = process {
            set("pid", &|out| {
                mozlog::write_json(out, &Value::from(*pid));
            });
        }
        if let Some(state) = location.and_then(|l| l.state.as_deref()) {
            set("region", &|out| mozlog::write_json_str(out, state));
        }
        set("time", &|out| write_iso_time(out, time));
        if let Some(agent) = self.agent {
            set("userAgent", &|out| mozlog::write_json_str(out, agent));
        }
        set("v", &|out| out.push(b'1'));
        line.end_with(&picked.tail);
    }

    /// The keys the content server adds to the body for its data bag, in its order: the user
    /// agent's browser, OS and form factor, then the country and region.
    fn amplitude_added(&self) -> Added {
        let mut added = Vec::with_capacity(8);
        self.collector.user_agent_fields(self.request, &mut added);
        if let Some(l) = self.location
            && (l.country.is_some() || l.state.is_some())
        {
            if let Some(country) = &l.country {
                added.push(("country", Value::from(country.clone())));
            }
            if let Some(state) = &l.state {
                added.push(("region", Value::from(state.clone())));
            }
        }
        added
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

/// Writes `new Date(ms).toISOString()` as a JSON string.
pub(crate) fn write_iso_time(out: &mut Vec<u8>, ms: f64) {
    let ms = ms.floor() as i64;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if !(0..=9999).contains(&year) {
        // Writing to a `Vec` cannot fail.
        let _ = write!(
            out,
            "\"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z\""
        );
        return;
    }
    let parts: [(i64, u32, u8); 7] = [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (hour, 2, b':'),
        (minute, 2, b':'),
        (second, 2, b'.'),
        (milli, 3, b'Z'),
    ];
    out.push(b'"');
    for (value, width, after) in parts {
        // Every part is in range here, so it fits its width: digits without `fmt`, which cost
        // more than the rest of a flow line's time.
        for power in (0..width).rev() {
            // A digit, 0 to 9.
            out.push(b'0' + (value / 10_i64.pow(power) % 10) as u8);
        }
        out.push(after);
    }
    out.push(b'"');
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_written_as_to_iso_string_writes_them() {
        let cases = [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (1_554_499_308_559.0, "2019-04-05T21:21:48.559Z"),
            (1_554_499_308_559.9, "2019-04-05T21:21:48.559Z"),
            (-1.0, "1969-12-31T23:59:59.999Z"),
            (951_782_400_000.0, "2000-02-29T00:00:00.000Z"),
            (253_402_300_799_999.0, "9999-12-31T23:59:59.999Z"),
            // Outside four-digit years: the width is a minimum, as before.
            (253_402_300_800_000.0, "10000-01-01T00:00:00.000Z"),
            (-62_198_755_200_000.0, "-001-01-01T00:00:00.000Z"),
        ];
        for (ms, expected) in cases {
            let mut out = Vec::new();
            write_iso_time(&mut out, ms);
            assert_eq!(
                String::from_utf8_lossy(&out),
                format!("\"{expected}\""),
                "{ms}"
            );
        }
    }
}
