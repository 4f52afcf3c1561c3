//! The transform of fxa-amplitude-send's November 2019 `pubsub/index.js` (spec §6.2): one
//! input line -> zero, one or two Amplitude payloads (`$identify` first), written as JSON into
//! a reused buffer.
//!
//! The exact rules, JavaScript's quirks included, are those of
//! `../shared/conformance/delivery/README.md`; what a port does differently on purpose is
//! listed there too: nothing crashes (a line that made node throw is malformed, with the
//! reason), and ignored events are consumed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Error;
use crate::js::{self, Js, Obj};

/// What each input line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum InputFormat {
    /// One mozlog line (the `jsonPayload` of FxA's log entries).
    #[default]
    Mozlog,
    /// One Cloud Logging entry whose `jsonPayload` is the mozlog line (what a GCP log sink
    /// publishes, and what FxA's sender read from Pub/Sub).
    Stackdriver,
}

/// The identify verbs that move a `user_properties` key into a `$identify` record.
const VERBS: [&[u8]; 5] = [b"$set", b"$setOnce", b"$add", b"$append", b"$unset"];

/// `IGNORED_EVENTS`: event_type -> a criteria object, or an array of them.
#[derive(Debug, Clone, Default)]
pub struct IgnoredEvents {
    by_type: BTreeMap<Vec<u8>, Js<'static>>,
}

impl IgnoredEvents {
    /// Reads the JSON object of an `--ignored-events` file.
    ///
    /// # Errors
    /// When the text is not a JSON object.
    pub fn from_json(text: &[u8]) -> Result<Self, Error> {
        let value = js::parse(text).map_err(|err| Error::IgnoredEvents(err.to_string()))?;
        let Js::Obj(obj) = value.into_owned() else {
            return Err(Error::IgnoredEvents(
                "expected a JSON object of event_type -> criteria".to_owned(),
            ));
        };
        let by_type = obj.iter().map(|(k, v)| (k.to_vec(), v.clone())).collect();
        Ok(Self { by_type })
    }

    /// Whether no event type is listed.
    pub fn is_empty(&self) -> bool {
        self.by_type.is_empty()
    }

    /// `isIgnoredEvent(event)`; `Err` where node threw (a criterion that reads a property of
    /// `undefined` or `null`, or a `null` criterion).
    fn matches(&self, event: &Js<'_>) -> Result<bool, &'static str> {
        let Some(Js::Str(event_type)) = event.get(b"event_type") else {
            // `Map.has` does not coerce: only a string event_type can be listed.
            return Ok(false);
        };
        let Some(criteria) = self.by_type.get(event_type.as_ref()) else {
            return Ok(false);
        };
        match criteria {
            Js::Arr(list) => {
                for criterion in list {
                    if deep_match(Some(event), criterion)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            criterion => deep_match(Some(event), criterion),
        }
    }
}

/// Every entry of `criterion` matches `target` (`undefined` is `None`): objects and arrays
/// recursively, other values with `===`.
fn deep_match(target: Option<&Js<'_>>, criterion: &Js<'_>) -> Result<bool, &'static str> {
    // `Object.entries(criterion)`: null throws; numbers and booleans have no entries.
    let entries: Vec<(Cow<'_, [u8]>, &Js<'_>)> = match criterion {
        Js::Null => return Err("an IGNORED_EVENTS criterion is null"),
        Js::Obj(obj) => obj.iter().map(|(k, v)| (Cow::Borrowed(k), v)).collect(),
        Js::Arr(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (Cow::Owned(i.to_string().into_bytes()), v))
            .collect(),
        Js::Str(_) | Js::Num(_) | Js::Bool(_) => Vec::new(),
    };
    for (key, expected) in entries {
        let actual = match target {
            None | Some(Js::Null) => {
                return Err("an IGNORED_EVENTS criterion reads a property of a missing value");
            }
            Some(Js::Obj(obj)) => obj.get(&key),
            Some(Js::Arr(items)) => std::str::from_utf8(&key)
                .ok()
                .and_then(|k| k.parse::<usize>().ok())
                .and_then(|i| items.get(i)),
            Some(_) => None,
        };
        let matched = match expected {
            Js::Obj(_) | Js::Arr(_) | Js::Null => deep_match(actual, expected)?,
            primitive => actual.is_some_and(|actual| strict_equals(actual, primitive)),
        };
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `===` between a value and a primitive.
fn strict_equals(a: &Js<'_>, b: &Js<'_>) -> bool {
    match (a, b) {
        (Js::Num(x), Js::Num(y)) => x == y,
        (Js::Str(x), Js::Str(y)) => x == y,
        (Js::Bool(x), Js::Bool(y)) => x == y,
        _ => false,
    }
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The payloads were appended (2 with a `$identify` record, else 1).
    Payloads(usize),
    /// Matched `--ignored-events`: consumed, nothing to send.
    Ignored,
    /// Not a valid event (or a line that made node throw): goes to the dead-letter place.
    Malformed(String),
}

/// One payload in a [`Payloads`] buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The payload's JSON in [`Payloads::bytes`].
    pub range: Range<usize>,
    /// The `user_id` sent (hashed), as Amplitude names it in `throttled_users`.
    pub user_id: Option<Box<str>>,
    /// The `device_id` sent, as Amplitude names it in `throttled_devices`.
    pub device_id: Option<Box<str>>,
}

/// Payloads as JSON objects, back to back in one buffer that is reused from batch to batch.
#[derive(Debug, Default, Clone)]
pub struct Payloads {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

impl Payloads {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The payloads in order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The JSON of `item`.
    pub fn json(&self, item: &Item) -> &[u8] {
        self.bytes.get(item.range.clone()).unwrap_or_default()
    }

    /// Number of payloads.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Empties the buffer, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }

    /// Hands each payload (its JSON and its item) to `f`, emptying the buffer.
    pub fn drain(&mut self, mut f: impl FnMut(&[u8], Item)) {
        for item in self.items.drain(..) {
            let json = self.bytes.get(item.range.clone()).unwrap_or_default();
            f(json, item);
        }
        self.bytes.clear();
    }

    fn push(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>),
        user_id: Option<&Js<'_>>,
        device_id: Option<&Js<'_>>,
    ) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.items.push(Item {
            range: start..self.bytes.len(),
            user_id: user_id.and_then(id_text),
            device_id: device_id.and_then(id_text),
        });
    }

    /// Removes the first `n` payloads, keeping the rest (and the memory).
    pub fn remove_front(&mut self, n: usize) {
        let Some(shift) = self.items.get(n).map(|item| item.range.start) else {
            self.clear();
            return;
        };
        self.bytes.drain(..shift);
        self.items.drain(..n);
        for item in &mut self.items {
            item.range = item.range.start - shift..item.range.end - shift;
        }
    }

    /// The `/batch` body `{"api_key":..,"events":[..]}` of these payloads, into `out`.
    pub fn write_body(&self, api_key: &str, out: &mut Vec<u8>) {
        self.write_body_first(api_key, self.items.len(), out);
    }

    /// The `/batch` body of the first `n` payloads, into `out`.
    pub fn write_body_first(&self, api_key: &str, n: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"api_key\":");
        js::write_json_str(out, api_key.as_bytes());
        out.extend_from_slice(b",\"events\":[");
        for (i, item) in self.items.iter().take(n).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.json(item));
        }
        out.extend_from_slice(b"]}");
    }
}

/// A string id as Amplitude reads it back (`throttled_users` keys), for holding throttled ids.
fn id_text(value: &Js<'_>) -> Option<Box<str>> {
    match value {
        Js::Str(s) if !s.is_empty() => Some(match std::str::from_utf8(s) {
            Ok(text) => text.into(),
            Err(_) => String::from_utf8_lossy(s).into(),
        }),
        _ => None,
    }
}

/// Turns lines into payloads; holds the HMAC key and the ignore criteria.
#[derive(Debug, Clone)]
pub struct Transformer {
    hmac: Hmac<Sha256>,
    ignored: IgnoredEvents,
    format: InputFormat,
    scratch: Vec<u8>,
}

impl Transformer {
    /// A transformer with the `HMAC_KEY` (UTF-8, as node used it), the ignore criteria and the
    /// input format.
    pub fn new(hmac_key: &str, ignored: IgnoredEvents, format: InputFormat) -> Self {
        // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
        let hmac = <Hmac<Sha256> as Mac>::new_from_slice(hmac_key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        Self {
            hmac,
            ignored,
            format,
            scratch: Vec::new(),
        }
    }

    /// Transforms one line (without its line terminator), appending its payloads to `out`.
    pub fn transform(&mut self, line: &[u8], out: &mut Payloads) -> Outcome {
        // node's `Buffer#toString()` replaces invalid UTF-8 the same way; valid UTF-8 (the
        // usual case) is checked by the faster `from_utf8`.
        let text = match std::str::from_utf8(line) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(line),
        };
        match self.event(text.as_bytes(), out) {
            Ok(outcome) => outcome,
            Err(reason) => Outcome::Malformed(reason),
        }
    }

    fn event(&mut self, text: &[u8], out: &mut Payloads) -> Result<Outcome, String> {
        let root = js::parse(text).map_err(|err| err.to_string())?;
        let payload = match self.format {
            InputFormat::Mozlog => root,
            InputFormat::Stackdriver => match root {
                Js::Obj(mut entry) => entry.remove(b"jsonPayload").unwrap_or(Js::Null),
                Js::Null => Js::Null,
                // `(5).jsonPayload` is undefined.
                _ => Js::Null,
            },
        };
        if payload == Js::Null {
            return Err(match self.format {
                InputFormat::Mozlog => "the line is null".to_owned(),
                InputFormat::Stackdriver => "the entry has no jsonPayload".to_owned(),
            });
        }
        let mut event = unwrap_fields(payload)?;
        if !self.ignored.is_empty() && self.ignored.matches(&event)? {
            return Ok(Outcome::Ignored);
        }
        if let Some(reason) = invalid(&event) {
            return Err(reason.to_owned());
        }
        let Js::Obj(event) = &mut event else {
            return Err("the event is not an object".to_owned());
        };
        self.hash(event);
        let user_properties = match event.get(b"user_properties") {
            None => return Err("the event has no user_properties".to_owned()),
            Some(Js::Null) => return Err("the event's user_properties is null".to_owned()),
            Some(value) => value,
        };
        let split = user_properties.as_obj().is_some_and(|props| {
            VERBS
                .iter()
                .any(|verb| props.get(verb).is_some_and(|v| *v != Js::Null))
        });
        if !split {
            out.push(
                |buf| write_event(buf, event),
                event.get(b"user_id"),
                event.get(b"device_id"),
            );
            return Ok(Outcome::Payloads(1));
        }
        // The identify record takes every verb key present (null ones too), in key order.
        let mut verbs = Obj::new();
        if let Some(Js::Obj(props)) = event.get_mut(b"user_properties") {
            let keys: Vec<Vec<u8>> = props
                .iter()
                .filter(|(k, _)| VERBS.contains(k))
                .map(|(k, _)| k.to_vec())
                .collect();
            for key in keys {
                if let Some(value) = props.remove(&key) {
                    verbs.set(Cow::Owned(key), value);
                }
            }
        }
        out.push(
            |buf| write_identify(buf, event, &verbs),
            event.get(b"user_id"),
            event.get(b"device_id"),
        );
        out.push(
            |buf| write_event(buf, event),
            event.get(b"user_id"),
            event.get(b"device_id"),
        );
        Ok(Outcome::Payloads(2))
    }

    /// `user_id` -> hex HMAC of `String(user_id)` when truthy; `insert_id` -> hex HMAC of the
    /// truthy parts of (user_id, device_id, session_id, event_type, time), concatenated.
    fn hash(&mut self, event: &mut Obj<'_>) {
        if let Some(user_id) = event.get(b"user_id").filter(|v| v.truthy()) {
            self.scratch.clear();
            user_id.write_string(&mut self.scratch);
            let hex = self.hex_hmac();
            event.set(
                Cow::Borrowed(b"user_id"),
                Js::Str(Cow::Owned(hex.into_bytes())),
            );
        }
        self.scratch.clear();
        for key in [
            &b"user_id"[..],
            b"device_id",
            b"session_id",
            b"event_type",
            b"time",
        ] {
            if let Some(part) = event.get(key).filter(|v| v.truthy()) {
                part.write_string(&mut self.scratch);
            }
        }
        let hex = self.hex_hmac();
        event.set(
            Cow::Borrowed(b"insert_id"),
            Js::Str(Cow::Owned(hex.into_bytes())),
        );
    }

    /// Hex HMAC-SHA256 of the scratch text (WTF-8 made UTF-8 as node's `Buffer.from` does).
    fn hex_hmac(&self) -> String {
        let mut mac = self.hmac.clone();
        mac.update(&js::to_utf8_lossy(&self.scratch));
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        hex
    }
}

/// The event of a `jsonPayload`: `Fields` when truthy (`Fields.data` parsed for email-service
/// lines, else the string-valued property bags parsed), the payload itself otherwise.
fn unwrap_fields(payload: Js<'_>) -> Result<Js<'_>, String> {
    let Js::Obj(mut payload) = payload else {
        // A string, number or array payload has no Fields: it is the (malformed) event.
        return Ok(payload);
    };
    if !payload.get(b"Fields").is_some_and(Js::truthy) {
        return Ok(Js::Obj(payload));
    }
    let mut fields = match payload.remove(b"Fields") {
        Some(Js::Obj(fields)) => fields,
        // A truthy non-object Fields is the event, and a malformed one.
        Some(other) => return Ok(other),
        None => return Ok(Js::Obj(payload)),
    };
    let op = fields.get(b"op").is_some_and(Js::truthy);
    if op && let Some(data) = fields.get(b"data").filter(|d| d.truthy()) {
        // `JSON.parse(Fields.data)`: the argument goes through `String()` first.
        let event = match data {
            Js::Str(Cow::Borrowed(text)) => {
                let text: &[u8] = text;
                js::parse(text)
            }
            other => {
                let mut text = Vec::new();
                other.write_string(&mut text);
                js::parse(&text).map(Js::into_owned)
            }
        };
        return match event {
            Err(err) => Err(format!("Fields.data: {err}")),
            Ok(Js::Null) => Err("Fields.data is null".to_owned()),
            Ok(event) => Ok(event),
        };
    }
    for key in [&b"event_properties"[..], b"user_properties"] {
        let parsed = match fields.get(key) {
            Some(Js::Str(Cow::Borrowed(text))) if !text.is_empty() => js::parse(text),
            Some(Js::Str(Cow::Owned(text))) if !text.is_empty() => {
                js::parse(text).map(Js::into_owned)
            }
            _ => continue,
        };
        let value = parsed.map_err(|err| format!("{}: {err}", String::from_utf8_lossy(key)))?;
        if let Some(slot) = fields.get_mut(key) {
            *slot = value;
        }
    }
    Ok(Js::Obj(fields))
}

/// Why an event is not valid (`isEventOk`), if it is not.
fn invalid(event: &Js<'_>) -> Option<&'static str> {
    let Js::Obj(event) = event else {
        return Some("the event is not an object");
    };
    let non_empty_string = |key: &[u8]| matches!(event.get(key), Some(Js::Str(s)) if !s.is_empty());
    if !non_empty_string(b"device_id") && !non_empty_string(b"user_id") {
        return Some("neither device_id nor user_id is a non-empty string");
    }
    if !non_empty_string(b"event_type") {
        return Some("event_type is not a non-empty string");
    }
    match event.get(b"time") {
        Some(Js::Num(t)) if t.is_finite() && *t > 0.0 => None,
        _ => Some("time is not a positive finite number"),
    }
}

/// The `$identify` record: `{device_id, event_type, user_id, user_properties}`, the ids only
/// where the event has them.
fn write_identify(out: &mut Vec<u8>, event: &Obj<'_>, verbs: &Obj<'_>) {
    let identify_type = Js::Str(Cow::Borrowed(b"$identify"));
    let verbs = Js::Obj(verbs.clone());
    let entries = [
        (&b"device_id"[..], event.get(b"device_id")),
        (b"event_type", Some(&identify_type)),
        (b"user_id", event.get(b"user_id")),
        (b"user_properties", Some(&verbs)),
    ];
    js::write_obj(out, entries.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
}

/// The event, without the `_insert_id` key (the 2019 code set it to `undefined`).
fn write_event(out: &mut Vec<u8>, event: &Obj<'_>) {
    js::write_obj(out, event.iter().filter(|(k, _)| *k != b"_insert_id"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str, ignored: &str) -> (Outcome, Vec<String>) {
        let ignored = IgnoredEvents::from_json(ignored.as_bytes()).expect("valid criteria");
        let mut transformer = Transformer::new("key", ignored, InputFormat::Mozlog);
        let mut out = Payloads::new();
        let outcome = transformer.transform(line.as_bytes(), &mut out);
        let json = out
            .items()
            .iter()
            .map(|item| String::from_utf8_lossy(out.json(item)).into_owned())
            .collect();
        (outcome, json)
    }

    #[test]
    fn malformed_lines_say_why() {
        let table = [
            ("not json", "invalid JSON: unexpected token at byte 0"),
            ("null", "the line is null"),
            (
                r#"{"Fields":{"op":"x","data":"null"}}"#,
                "Fields.data is null",
            ),
            (
                r#"{"Fields":{"op":"x","data":"{"}}"#,
                "Fields.data: invalid JSON: unexpected end of input at byte 1",
            ),
            (
                r#"{"Fields":{"event_properties":"   "}}"#,
                "event_properties: invalid JSON: unexpected end of input at byte 3",
            ),
            (
                r#"{"event_type":"e","time":1}"#,
                "neither device_id nor user_id is a non-empty string",
            ),
            (
                r#"{"device_id":"d","time":1}"#,
                "event_type is not a non-empty string",
            ),
            (
                r#"{"device_id":"d","event_type":"e","time":"1"}"#,
                "time is not a positive finite number",
            ),
            (
                r#"{"device_id":"d","event_type":"e","time":1e400}"#,
                "time is not a positive finite number",
            ),
            (
                r#"{"device_id":"d","event_type":"e","time":1}"#,
                "the event has no user_properties",
            ),
            (
                r#"{"device_id":"d","event_type":"e","time":1,"user_properties":null}"#,
                "the event's user_properties is null",
            ),
            (r#"{"Fields":"abc"}"#, "the event is not an object"),
            ("[1]", "the event is not an object"),
        ];
        for (line, reason) in table {
            assert_eq!(
                run(line, "{}").0,
                Outcome::Malformed(reason.to_owned()),
                "{line}"
            );
        }
    }

    #[test]
    fn ignore_criteria_follow_javascript() {
        let event = r#"{"device_id":"d","event_type":"e","time":1,"user_properties":{},"tags":["a","b"],"n":{"x":1}}"#;
        let table = [
            (r#"{"e":{}}"#, Outcome::Ignored),
            (r#"{"e":[]}"#, Outcome::Payloads(1)),
            (r#"{"e":{"tags":["a","b"]}}"#, Outcome::Ignored),
            (r#"{"e":{"tags":["a","c"]}}"#, Outcome::Payloads(1)),
            (r#"{"e":[{"n":{"x":2}},{"n":{"x":1}}]}"#, Outcome::Ignored),
            (r#"{"e":{"missing":{}}}"#, Outcome::Ignored),
            (
                r#"{"e":{"missing":{"a":1}}}"#,
                Outcome::Malformed(
                    "an IGNORED_EVENTS criterion reads a property of a missing value".to_owned(),
                ),
            ),
            (
                r#"{"e":{"n":null}}"#,
                Outcome::Malformed("an IGNORED_EVENTS criterion is null".to_owned()),
            ),
            (r#"{"f":{}}"#, Outcome::Payloads(1)),
        ];
        for (criteria, outcome) in table {
            assert_eq!(run(event, criteria).0, outcome, "{criteria}");
        }
    }

    #[test]
    fn identify_split_moves_assigned_verbs() {
        let line = r#"{"device_id":"d","event_type":"e","time":1,"user_properties":{"a":1,"$unset":null,"$set":{"x":1},"$prepend":2}}"#;
        let (outcome, json) = run(line, "{}");
        assert_eq!(outcome, Outcome::Payloads(2));
        assert_eq!(
            json[0],
            r#"{"device_id":"d","event_type":"$identify","user_properties":{"$unset":null,"$set":{"x":1}}}"#
        );
        assert!(json[1].starts_with(r#"{"device_id":"d","event_type":"e","time":1,"user_properties":{"a":1,"$prepend":2},"insert_id":""#), "{}", json[1]);
        let (_, json) = run(
            r#"{"device_id":"d","event_type":"e","time":1,"user_properties":{"$set":null}}"#,
            "{}",
        );
        assert_eq!(json.len(), 1);
    }

    #[test]
    fn underscore_insert_id_is_dropped_and_insert_id_keeps_its_place() {
        let line = r#"{"insert_id":"x","_insert_id":"y","device_id":"d","event_type":"e","time":1,"user_properties":"s"}"#;
        let (_, json) = run(line, "{}");
        assert!(json[0].starts_with(r#"{"insert_id":""#), "{}", json[0]);
        assert!(!json[0].contains("_insert_id"), "{}", json[0]);
    }
}
