//! `metricsmith map`: try a schema's Amplitude mapping on sample events.
//!
//! Reads JSON Lines `{"event":{"type":..,"time":..},"data":{..}}` on stdin and writes exactly one
//! line per input line: a JSON array of the amplitude events the service would log (or of their
//! complete mozlog objects), or `{"error":"..."}` for a line that is not a valid input.

use std::collections::HashMap;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith::amplitude::{Encoding, Env, Mapping, SourceEvent};
use metricsmith::line;
use metricsmith::mozlog::{self, Record, Severity};
use metricsmith::view::{Bag, JsonRef, Kind};
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
    /// Worker threads; the output keeps the input's order whatever the number.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The longest input line kept, in bytes; a longer line yields an error line and is
    /// skipped without being held in memory.
    #[arg(long = "max-line", default_value_t = line::DEFAULT_MAX_LINE)]
    max_line: usize,
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
    schema::exit_status(map(args))
}

fn map(args: &Args) -> Result<(), String> {
    let model = schema::load_printing(&args.schema)?;
    let mapping = schema::mapping_of(&model, &args.schema)?;
    // mapping_of succeeded, so the model holds exactly one service.
    let Some(service) = model.services.values().next() else {
        return Err("no service".to_owned());
    };
    let oauth_clients = match &args.oauth_clients {
        Some(path) => schema::read_oauth_clients(path)?,
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

    let stdin = io::stdin();
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let write_err = |err: io::Error| format!("writing stdout: {err}");
    let threads = args.threads.max(1);
    if threads == 1 {
        let mut reader = line::Reader::with_limit(stdin.lock(), args.max_line);
        let mut mapper = LineMapper::new(&mapping, &env, encoding, args.max_line);
        // Written in pieces of at least the writer's capacity, which it passes straight to
        // stdout without copying them (one `write_all` per line costs more than the mapping).
        let piece = out.capacity();
        let mut line_out = Vec::with_capacity(piece + (1 << 16));
        while let Some(line) = reader
            .next_line()
            .map_err(|err| format!("reading stdin: {err}"))?
        {
            mapper.map(&line, &mut line_out);
            if line_out.len() >= piece {
                out.write_all(&line_out).map_err(write_err)?;
                line_out.clear();
            }
        }
        out.write_all(&line_out).map_err(write_err)?;
    } else {
        let workers = Workers {
            threads,
            max_line: args.max_line,
        };
        map_parallel(stdin, &mut out, workers, &mapping, &env, encoding)?;
    }
    out.flush().map_err(write_err)
}

/// Maps lines on `threads` workers: the reader cuts the input into blocks of whole lines, the
/// workers map blocks, and the output is written in input order.
///
/// Every queue is bounded, so memory stays at a few blocks per worker whatever the input.
fn map_parallel(
    input: impl io::Read + Send,
    out: &mut impl Write,
    Workers { threads, max_line }: Workers,
    mapping: &Mapping,
    env: &Env<'_>,
    encoding: Encoding<'_>,
) -> Result<(), String> {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, mpsc};

    const BLOCK: usize = 1 << 20;
    let (work_tx, work_rx) = mpsc::sync_channel::<Block>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<u8>)>(threads * 2);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || {
                let mut mapper = LineMapper::new(mapping, env, encoding, max_line);
                loop {
                    // A poisoned lock means another worker panicked: stop too.
                    let Ok(guard) = work_rx.lock() else { return };
                    let Ok(block) = guard.recv() else { return };
                    drop(guard);
                    let mut mapped = Vec::with_capacity(block.data.len() * 2);
                    block.map(&mut mapper, &mut mapped);
                    if done_tx.send((block.seq, mapped)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        // The reader runs on its own thread; this one writes in order.
        let reader = scope.spawn(move || -> Result<(), String> {
            let mut reader = line::Reader::with_limit(input, max_line);
            let mut block = Block::new(0, BLOCK);
            while let Some(line) = reader
                .next_line()
                .map_err(|err| format!("reading stdin: {err}"))?
            {
                block.push(&line);
                if block.data.len() >= BLOCK {
                    let next = Block::new(block.seq + 1, BLOCK);
                    if work_tx.send(std::mem::replace(&mut block, next)).is_err() {
                        return Ok(());
                    }
                }
            }
            if !block.ends.is_empty() {
                let _ = work_tx.send(block);
            }
            Ok(())
        });
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut result = Ok(());
        for (seq, mapped) in done_rx {
            pending.insert(seq, mapped);
            while let Some(mapped) = pending.remove(&next) {
                if result.is_ok() {
                    result = out
                        .write_all(&mapped)
                        .map_err(|err| format!("writing stdout: {err}"));
                }
                next += 1;
            }
        }
        let read = reader
            .join()
            .unwrap_or_else(|_| Err("the reader thread panicked".to_owned()));
        read.and(result)
    })
}

/// How [`map_parallel`] works.
#[derive(Debug, Clone, Copy)]
struct Workers {
    threads: usize,
    max_line: usize,
}

/// Whole lines for one worker: their bytes one after another, and where each ends.
struct Block {
    seq: u64,
    data: Vec<u8>,
    /// Per line: the end of its bytes in `data`, and whether it was too long to keep.
    ends: Vec<(usize, bool)>,
}

impl Block {
    fn new(seq: u64, capacity: usize) -> Self {
        Self {
            seq,
            data: Vec::with_capacity(capacity + (capacity >> 2)),
            ends: Vec::with_capacity(capacity / 256),
        }
    }

    fn push(&mut self, line: &line::Line<'_>) {
        // A too-long line is an error line whatever its kept prefix holds.
        if !line.too_long {
            self.data.extend_from_slice(line.text);
        }
        self.ends.push((self.data.len(), line.too_long));
    }

    fn map(&self, mapper: &mut LineMapper<'_>, out: &mut Vec<u8>) {
        let mut start = 0;
        for &(end, too_long) in &self.ends {
            let text = self.data.get(start..end).unwrap_or(&[]);
            let line = line::Line {
                text,
                offset: 0,
                end: 0,
                too_long,
            };
            mapper.map(&line, out);
            start = end;
        }
    }
}

/// Maps lines one by one into reused storage.
struct LineMapper<'m> {
    mapping: &'m Mapping,
    env: &'m Env<'m>,
    encoding: Encoding<'m>,
    doc: line::Doc,
    max_line: usize,
}

impl<'m> LineMapper<'m> {
    fn new(
        mapping: &'m Mapping,
        env: &'m Env<'m>,
        encoding: Encoding<'m>,
        max_line: usize,
    ) -> Self {
        Self {
            mapping,
            env,
            encoding,
            // The transform reads data bags in one walk (its slots): no key indexes.
            doc: line::Doc::unindexed(),
            max_line,
        }
    }

    /// Appends the output line of `line`, with its newline, to `out`.
    fn map(&mut self, line: &line::Line<'_>, out: &mut Vec<u8>) {
        if line.too_long {
            let message = format!("line longer than {} bytes: skipped", self.max_line);
            write_error(&message, out);
        } else {
            map_line(
                line.text,
                self.mapping,
                self.env,
                self.encoding,
                &mut self.doc,
                out,
            );
        }
        out.push(b'\n');
    }
}

fn write_error(message: &str, out: &mut Vec<u8>) {
    let error = Value::Object(Map::from_iter([("error".to_owned(), Value::from(message))]));
    out.extend_from_slice(mozlog::to_js_json(&error).as_bytes());
}

/// Maps one input line into `out` (without the newline).
fn map_line(
    line: &[u8],
    mapping: &Mapping,
    env: &Env<'_>,
    encoding: Encoding<'_>,
    doc: &mut line::Doc,
    out: &mut Vec<u8>,
) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // The line is parsed into reused storage and mapped from there; anything but the expected
    // shape (and every error) takes the general path, whose messages are the ones users see.
    if let Ok(text) = line::utf8(line)
        && let Ok(parsed) = doc.parse(text)
    {
        let root = parsed.root();
        let is_object = |v: &line::Value<'_>| v.kind() == Kind::Object;
        // One walk over each object's members (a repeated key: its last value, as a lookup).
        let (mut event, mut data) = (None, None);
        Bag::key_pairs(root, |key, value| match key {
            b"event" => event = Some(value),
            b"data" => data = Some(value),
            _ => {}
        });
        if let Some(event) = event.filter(is_object) {
            let (mut name, mut time) = (None, None);
            Bag::key_pairs(event, |key, value| match key {
                b"type" => name = Some(value),
                b"time" => time = Some(value),
                _ => {}
            });
            match data {
                Some(data) if is_object(&data) => {
                    mapping.transform_view_to(name, time, data, env, encoding, out);
                    return;
                }
                // FxA's transform returns nothing without a data bag.
                None if is_object(&root) => {
                    out.extend_from_slice(b"[]");
                    return;
                }
                _ => {}
            }
        }
    }
    match parse_input(line) {
        Ok(input) => {
            let source = SourceEvent {
                name: input.name.as_ref(),
                time: input.time.as_ref(),
            };
            match &input.data {
                Some(data) => {
                    mapping.transform_to(source, data, env, encoding, out);
                }
                None => out.extend_from_slice(b"[]"),
            }
        }
        Err(message) => write_error(&message, out),
    }
}

/// An input line: the event's `type` and `time` and the `data` bag (`None` when absent).
#[derive(Debug, Default)]
struct Input {
    name: Option<Value>,
    time: Option<Value>,
    data: Option<Map<String, Value>>,
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
