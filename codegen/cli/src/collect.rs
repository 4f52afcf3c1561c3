//! `metricsmith collect`: replay `POST /metrics` requests through a service's collector.
//!
//! Reads JSON Lines `{"request":{"method","path","headers","body"},"received_at":MS,
//! "location":{..}|null}` and writes one line per request:
//! `{"status","response_text","stderr":[..],"log":[{"op","severity","fields"}]}`, with the clock
//! frozen at `received_at` and geolocation given by `location`. The same code path as `serve`.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith::mozlog;
use metricsmith_collector::{Collector, Config, Location, Outcome, Request};
use serde_json::Value;

use metricsmith_cli::schema;

/// Arguments of `metricsmith collect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service's entry schema file, which declares `collector:`.
    #[arg(long)]
    pub(crate) schema: PathBuf,
    /// A JSON object of OAuth client id -> service name.
    #[arg(long = "oauth-clients")]
    pub(crate) oauth_clients: Option<PathBuf>,
    /// The flow id HMAC key (FxA's flow_id_key).
    #[arg(long = "flow-key")]
    pub(crate) flow_key: String,
    /// How old a flow may be, in ms (FxA's flow_id_expiry).
    #[arg(long = "flow-expiry-ms", default_value_t = 7_200_000)]
    pub(crate) flow_expiry_ms: i64,
    /// The largest event offset, in ms (FxA's client_metrics.max_event_offset).
    #[arg(long = "max-event-offset-ms", default_value_t = metricsmith_codegen::model::DEFAULT_MAX_EVENT_OFFSET_MS)]
    pub(crate) max_event_offset_ms: i64,
    /// The service's release, e.g. 1.134.0, from which app_version is derived.
    #[arg(long = "service-version")]
    pub(crate) service_version: String,
}

pub fn run(args: &Args) -> ExitCode {
    schema::exit_status(collect(args))
}

fn collect(args: &Args) -> Result<(), String> {
    let (collector, _) = load_collector(args, None)?;
    let stdin = io::stdin();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut text = Vec::with_capacity(1 << 16);
    for (index, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|err| format!("reading stdin: {err}"))?;
        if line.trim().is_empty() {
            continue;
        }
        text.clear();
        match parse_input(&line) {
            Ok((request, received_at, location)) => {
                let outcome = collector.handle(&request, received_at, location.as_ref());
                write_output(&outcome, &mut text);
            }
            Err(message) => {
                let error = serde_json::json!({"error": format!("line {}: {message}", index + 1)});
                mozlog::write_json(&mut text, &error);
            }
        }
        text.push(b'\n');
        out.write_all(&text)
            .map_err(|err| format!("writing stdout: {err}"))?;
    }
    out.flush().map_err(|err| format!("writing stdout: {err}"))
}

/// Loads the schema and builds the collector of its one service, with `process` (host name and
/// pid) for the stderr lines; also returns the service's validation logger. Shared with `serve`.
///
/// # Errors
/// A message (empty when the schema's diagnostics were already printed).
pub(crate) fn load_collector(
    args: &Args,
    process: Option<(String, u32)>,
) -> Result<(Collector, String), String> {
    let model = schema::load_printing(&args.schema)?;
    let service = schema::only_service(&model, &args.schema)?;
    let mut config = Config::new(args.flow_key.clone(), args.service_version.clone());
    config.flow_expiry_ms = args.flow_expiry_ms;
    config.max_event_offset_ms = args.max_event_offset_ms;
    if let Some(path) = &args.oauth_clients {
        config.oauth_clients = schema::read_oauth_clients(path)?;
    }
    config.process = process;
    let validation_logger = service
        .collector
        .as_ref()
        .map(|c| c.validation_logger.clone())
        .unwrap_or_default();
    let collector = Collector::new(service, config).map_err(|err| err.to_string())?;
    Ok((collector, validation_logger))
}

/// Writes the output line of one outcome (without the newline):
/// `{"status","response_text","stderr":[..],"log":[{"op","severity","fields"}]}`, the stderr
/// lines and log fields as the collector wrote them (log fields as heka writes them).
pub fn write_output(outcome: &Outcome, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"status\":");
    mozlog::write_json(out, &Value::from(outcome.status));
    out.extend_from_slice(b",\"response_text\":");
    mozlog::write_json_str(out, &outcome.body);
    out.extend_from_slice(b",\"stderr\":[");
    for (i, line) in outcome.stderr.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b"],\"log\":[");
    for (i, line) in outcome.log.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"op\":");
        mozlog::write_json_str(out, line.op);
        out.extend_from_slice(b",\"severity\":");
        mozlog::write_json(out, &Value::from(line.severity));
        if let Some(fields) = line.fields {
            out.extend_from_slice(b",\"fields\":");
            out.extend_from_slice(fields);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
}

/// One input line: the request, the time it was received and its geolocation.
fn parse_input(line: &str) -> Result<(Request, i64, Option<Location>), String> {
    let value: Value = serde_json::from_str(line).map_err(|err| format!("invalid JSON: {err}"))?;
    let request = value
        .get("request")
        .and_then(Value::as_object)
        .ok_or("missing `request` object")?;
    let text = |key: &str| -> Result<String, String> {
        match request.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            None => Ok(String::new()),
            Some(_) => Err(format!("`request.{key}` must be a string")),
        }
    };
    let headers = match request.get("headers") {
        Some(Value::Object(headers)) => headers
            .iter()
            .map(|(name, value)| match value {
                Value::String(v) => Ok((name.clone(), latin1(v))),
                _ => Err(format!("header `{name}` must be a string")),
            })
            .collect::<Result<Vec<_>, String>>()?,
        Some(Value::Array(pairs)) => pairs
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(n), Value::String(v)]) => Ok((n.clone(), latin1(v))),
                _ => Err("each header must be a [name, value] pair of strings".to_owned()),
            })
            .collect::<Result<Vec<_>, String>>()?,
        None => Vec::new(),
        Some(_) => return Err("`request.headers` must be an object or an array".to_owned()),
    };
    let received_at = value
        .get("received_at")
        .and_then(Value::as_i64)
        .ok_or("`received_at` must be an integer (ms since the epoch)")?;
    let location = match value.get("location") {
        None | Some(Value::Null) => None,
        Some(Value::Object(l)) => {
            let field = |key: &str| l.get(key).and_then(Value::as_str).map(str::to_owned);
            Some(Location {
                country: field("country"),
                state: field("state"),
            })
        }
        Some(_) => return Err("`location` must be an object or null".to_owned()),
    };
    let request = Request {
        method: text("method")?,
        path: text("path")?,
        headers,
        body: text("body")?.into_bytes(),
    };
    Ok((request, received_at, location))
}

/// A header value as node reads it: the UTF-8 bytes that were sent, each taken as one Latin-1
/// character (so `été` arrives as `Ã©tÃ©`, as in FxA's lines).
fn latin1(value: &str) -> String {
    value.bytes().map(char::from).collect()
}
