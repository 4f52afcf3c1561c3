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

use metricsmith::amplitude::{Env, Mapping, OauthClients, SourceEvent};
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

    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut line_out = Vec::with_capacity(1024);
    for line in stdin.split(b'\n') {
        let line = line.map_err(|err| format!("reading stdin: {err}"))?;
        line_out.clear();
        map_line(&line, &mapping, &env, args.format, &log, &mut line_out);
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
    format: Format,
    log: &LogInfo,
    out: &mut Vec<u8>,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let input = match parse_input(line) {
        Ok(input) => input,
        Err(message) => {
            let error = Value::Object(Map::from_iter([("error".to_owned(), Value::from(message))]));
            out.extend_from_slice(mozlog::to_js_json(&error).as_bytes());
            return;
        }
    };
    let (event, data) = input;
    let source = SourceEvent {
        name: event.get("type"),
        time: event.get("time"),
    };
    let events = match &data {
        Some(data) => mapping.transform(source, data, env),
        None => Vec::new(),
    };
    let logged = events.into_iter().filter(|e| e.logged).map(|e| e.event);
    let array: Vec<Value> = match format {
        Format::Amplitude => logged.map(Value::Object).collect(),
        Format::Mozlog => logged
            .map(|event| {
                let record = Record {
                    timestamp_ms: env.now_ms,
                    logger: &log.logger,
                    type_name: "amplitudeEvent",
                    hostname: None,
                    severity: Severity::Info,
                    pid: log.pid,
                    fields: Some(&event),
                };
                let line = mozlog::format_line(&record);
                // The formatter writes valid JSON; parse it back to nest it in the array.
                serde_json::from_str(line.trim_end()).unwrap_or(Value::Null)
            })
            .collect(),
    };
    out.extend_from_slice(mozlog::to_js_json(&Value::Array(array)).as_bytes());
}

/// An input line's `event` object and its `data` bag (`None` when absent).
type Input = (Map<String, Value>, Option<Map<String, Value>>);

/// Parses an input line.
fn parse_input(line: &[u8]) -> Result<Input, String> {
    let value: Value =
        serde_json::from_slice(line).map_err(|err| format!("invalid JSON: {err}"))?;
    let Value::Object(mut object) = value else {
        return Err("expected an object {\"event\":{..},\"data\":{..}}".to_owned());
    };
    let event = match object.remove("event") {
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
    Ok((event, data))
}
