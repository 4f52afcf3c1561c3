//! `metricsmith map`: try a schema's Amplitude mapping on sample events.
//!
//! Reads JSON Lines `{"event":{"type":..,"time":..},"data":{..}}` on stdin and writes exactly one
//! line per input line: a JSON array of the amplitude events the service would log (or of their
//! complete mozlog objects), or `{"error":"..."}` for a line that is not a valid input.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith::amplitude::{Encoding, Env, Mapping, OauthClients, SourceEvent};
use metricsmith::mozlog::{self, Record, Severity};
use serde_json::{Map, Value};

use metricsmith_cli::schema;

/// Arguments of `metricsmith map`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service's entry schema file, e.g. schema/fxa/auth-server.yaml.
    #[arg(long)]
    schema: PathBuf,
    /// A JSON object of OAuth client id -> service name.
    #[arg(long = "oauth-clients")]
    oauth_clients: Option<PathBuf>,
    /// The app_version field (absent when not given).
    #[arg(long = "app-version")]
    app_version: Option<String>,
    /// The clock's now in ms since the epoch (device windows, time fallback, mozlog Timestamp).
    #[arg(long)]
    now: Option<i64>,
    /// What each output line holds.
    #[arg(long, value_enum, default_value_t = Format::Amplitude)]
    format: Format,
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A JSON array of amplitude event objects, in FxA key order.
    Amplitude,
    /// A JSON array of the complete mozlog objects the service would write for them.
    Mozlog,
}

/// What the mozlog format needs from the schema.
struct LogInfo {
    logger: String,
    pid: u32,
}

pub fn run(args: &Args) -> ExitCode {
    match map(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn map(args: &Args) -> Result<(), String> {
    let (model, mapping) = schema::load_mapping(&args.schema)?;
    // load_mapping succeeded, so the model holds exactly one service.
    let Some(service) = model.services.values().next() else {
        return Err("no service".to_owned());
    };
    let oauth_clients = match &args.oauth_clients {
        Some(path) => read_clients(path)?,
        None => HashMap::new(),
    };
    let now_ms = match args.now {
        Some(now) => now,
        None => metricsmith::clock::Clock::now_ms(&metricsmith::clock::SystemClock),
    };
    let env = Env {
        oauth_clients: &oauth_clients,
        app_version: args.app_version.as_deref(),
        now_ms,
    };
    let log = LogInfo {
        logger: service
            .mozlog
            .as_ref()
            .map_or_else(|| service.name.clone(), |m| m.logger.clone()),
        pid: std::process::id(),
    };

    let encoding = match args.format {
        Format::Amplitude => Encoding::Json,
        Format::Mozlog => Encoding::Mozlog(Record {
            timestamp_ms: env.now_ms,
            logger: &log.logger,
            type_name: "amplitudeEvent",
            hostname: None,
            severity: Severity::Info,
            pid: log.pid,
            fields: None,
        }),
    };

    let mut stdin = io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut line = Vec::with_capacity(1024);
    let mut line_out = Vec::with_capacity(1024);
    loop {
        line.clear();
        let read = stdin
            .read_until(b'\n', &mut line)
            .map_err(|err| format!("reading stdin: {err}"))?;
        if read == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        line_out.clear();
        map_line(text, &mapping, &env, encoding, &mut line_out);
        line_out.push(b'\n');
        out.write_all(&line_out)
            .map_err(|err| format!("writing stdout: {err}"))?;
    }
    out.flush().map_err(|err| format!("writing stdout: {err}"))
}

fn read_clients(path: &PathBuf) -> Result<OauthClients, String> {
    let text = fs::read_to_string(path)
        .map_err(|err| format!("cannot read --oauth-clients {}: {err}", path.display()))?;
    let value: Map<String, Value> = serde_json::from_str(&text).map_err(|err| {
        format!(
            "--oauth-clients {} is not a JSON object: {err}",
            path.display()
        )
    })?;
    value
        .into_iter()
        .map(|(id, name)| match name {
            Value::String(name) => Ok((id, name)),
            other => Err(format!(
                "--oauth-clients {}: the name of client `{id}` is {other}, not a string",
                path.display()
            )),
        })
        .collect()
}

/// Maps one input line into `out` (without the newline).
fn map_line(
    line: &[u8],
    mapping: &Mapping,
    env: &Env<'_>,
    encoding: Encoding<'_>,
    out: &mut Vec<u8>,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // The common shape parses straight into its parts; anything else (and every error) takes
    // the general path, whose messages are the ones users see.
    let input = match serde_json::from_slice::<Input>(line) {
        Ok(input) => input,
        Err(_) => match parse_input(line) {
            Ok(input) => input,
            Err(message) => {
                let error =
                    Value::Object(Map::from_iter([("error".to_owned(), Value::from(message))]));
                out.extend_from_slice(mozlog::to_js_json(&error).as_bytes());
                return;
            }
        },
    };
    let source = SourceEvent {
        name: input.name.as_ref(),
        time: input.time.as_ref(),
    };
    match &input.data {
        Some(data) => {
            mapping.transform_to(source, data, env, encoding, out);
        }
        // FxA's transform returns nothing without a data bag.
        None => out.extend_from_slice(b"[]"),
    }
}

/// An input line: the event's `type` and `time` and the `data` bag (`None` when absent).
#[derive(Debug, Default)]
struct Input {
    name: Option<Value>,
    time: Option<Value>,
    data: Option<Map<String, Value>>,
}

impl<'de> serde::Deserialize<'de> for Input {
    /// Only the exact shape `{"event":{..},"data":{..}}`, keys in any order, later duplicates
    /// winning as in a map; anything else is an error, and [`parse_input`] explains it.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> serde::de::Visitor<'de> for LineVisitor {
    type Value = Input;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object {\"event\":{..},\"data\":{..}}")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Input, A::Error> {
        let mut input = Input::default();
        let mut event = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key.0 {
                "event" => {
                    let EventFields { name, time } = map.next_value()?;
                    (input.name, input.time) = (name, time);
                    event = true;
                }
                "data" => input.data = Some(map.next_value::<DataBag>()?.0),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        if !event {
            return Err(serde::de::Error::missing_field("event"));
        }
        Ok(input)
    }
}

/// A key that matters (`event`, `data`, `type`, `time`) or the empty string, without
/// allocating.
struct Key(&'static str);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl serde::de::Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(Key(match key {
            "event" => "event",
            "data" => "data",
            "type" => "type",
            "time" => "time",
            _ => "",
        }))
    }
}

/// The data bag, built with room for a typical bag so the map does not grow step by step.
struct DataBag(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for DataBag {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> serde::de::Visitor<'de> for DataVisitor {
    type Value = DataBag;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<DataBag, A::Error> {
        let mut bag = Map::with_capacity(map.size_hint().unwrap_or(16));
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            // A repeated key keeps its first position and its last value, as in serde_json.
            bag.insert(key, value);
        }
        Ok(DataBag(bag))
    }
}

/// The event object's `type` and `time`.
struct EventFields {
    name: Option<Value>,
    time: Option<Value>,
}

impl<'de> serde::Deserialize<'de> for EventFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = EventFields;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object {\"type\":..,\"time\":..}")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<EventFields, A::Error> {
        let mut event = EventFields {
            name: None,
            time: None,
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key.0 {
                "type" => event.name = Some(map.next_value()?),
                "time" => event.time = Some(map.next_value()?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(event)
    }
}

/// Parses an input line, with a message for every way it can be invalid.
fn parse_input(line: &[u8]) -> Result<Input, String> {
    let value: Value =
        serde_json::from_slice(line).map_err(|err| format!("invalid JSON: {err}"))?;
    let Value::Object(mut object) = value else {
        return Err("expected an object {\"event\":{..},\"data\":{..}}".to_owned());
    };
    let mut event = match object.remove("event") {
        Some(Value::Object(event)) => event,
        Some(_) => return Err("`event` must be an object {\"type\":..,\"time\":..}".to_owned()),
        None => return Err("missing `event`".to_owned()),
    };
    let data = match object.remove("data") {
        Some(Value::Object(data)) => Some(data),
        // FxA's transform returns nothing without a data bag.
        None => None,
        Some(_) => return Err("`data` must be an object".to_owned()),
    };
    Ok(Input {
        name: event.remove("type"),
        time: event.remove("time"),
        data,
    })
}
