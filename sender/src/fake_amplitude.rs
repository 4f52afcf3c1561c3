//! A fake of Amplitude's `/batch` API on loopback, for tests and benchmarks: it implements the
//! documented contract (../shared/reference/amplitude-api.md: limits, validation, error
//! bodies, throttling) and takes scripted faults (statuses, slow answers, dropped
//! connections, throttled devices, an outage).
//!
//! Plain threads and `std::net`: one thread accepts, one thread serves each connection
//! (HTTP/1.1 with keep-alive and `Content-Length` bodies, which is what the sender sends).

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// Amplitude's limits on one `/batch` request.
pub const MAX_EVENTS: usize = 2000;
/// 20 MB.
pub const MAX_BODY_BYTES: usize = 20 * 1000 * 1000;

/// A scripted answer for the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and body, ingesting nothing.
    Status(u16, String),
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// Close the connection without answering.
    Close,
}

/// What the server saw.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Requests whose head was read (counted before any answer).
    pub received: u64,
    /// Requests answered (dropped connections included).
    pub requests: u64,
    /// Events ingested (duplicates included).
    pub ingested: u64,
    /// Ingested events whose insert_id had been ingested before.
    pub duplicates: u64,
    /// Answers by status.
    pub statuses: HashMap<u16, u64>,
}

#[derive(Debug, Default)]
struct State {
    script: VecDeque<Fault>,
    throttled_devices: HashMap<String, Instant>,
    throttled_users: HashMap<String, Instant>,
    quota_devices: Vec<String>,
    down_until: Option<Instant>,
    record: bool,
    events: Vec<Value>,
    insert_ids: HashMap<String, u32>,
    stats: Stats,
}

/// The running fake; stopped when dropped.
#[derive(Debug)]
pub struct FakeAmplitude {
    addr: SocketAddr,
    api_key: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeAmplitude {
    /// Starts a server on `127.0.0.1:0` that accepts `api_key`; with `record`, it validates
    /// every event and keeps it (tests), else it checks the body's shape and counts the events
    /// (benchmarks: the server's own cost stays small).
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start(api_key: &str, record: bool) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            record,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            let api_key = api_key.to_owned();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = Arc::clone(&state);
                    let stop = Arc::clone(&stop);
                    let api_key = api_key.clone();
                    std::thread::spawn(move || serve(stream, &state, &stop, &api_key));
                }
            })
        };
        Ok(Self {
            addr,
            api_key: api_key.to_owned(),
            state,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// `http://127.0.0.1:<port>/batch`.
    pub fn url(&self) -> String {
        format!("http://{}/batch", self.addr)
    }

    /// The accepted API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// Queues answers for the next requests, in order.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        lock(&self.state).script.extend(faults);
    }

    /// Answers 429 for events of `device_id` for `duration` (a 429 storm for one device).
    pub fn throttle_device(&self, device_id: &str, duration: Duration) {
        lock(&self.state)
            .throttled_devices
            .insert(device_id.to_owned(), Instant::now() + duration);
    }

    /// Answers 429 for events of `user_id` for `duration`.
    pub fn throttle_user(&self, user_id: &str, duration: Duration) {
        lock(&self.state)
            .throttled_users
            .insert(user_id.to_owned(), Instant::now() + duration);
    }

    /// Answers 429 with `exceeded_daily_quota_devices` for events of `device_id`.
    pub fn exceed_quota(&self, device_id: &str) {
        lock(&self.state).quota_devices.push(device_id.to_owned());
    }

    /// Drops every connection without an answer for `duration` (an outage).
    pub fn down_for(&self, duration: Duration) {
        lock(&self.state).down_until = Some(Instant::now() + duration);
    }

    /// The events ingested so far, in arrival order (with `record`).
    pub fn events(&self) -> Vec<Value> {
        lock(&self.state).events.clone()
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        lock(&self.state).stats.clone()
    }
}

impl Drop for FakeAmplitude {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so that it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// One connection: requests until the client closes it or the server stops.
fn serve(stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool, api_key: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    let mut body = Vec::new();
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        };
        lock(state).stats.received += 1;
        if lock(state)
            .down_until
            .is_some_and(|until| until > Instant::now())
        {
            lock(state).stats.requests += 1;
            return;
        }
        if head.content_length > MAX_BODY_BYTES {
            let _ = respond(
                &mut writer,
                state,
                413,
                &json!({"code":413,"error":"Payload too large"}),
            );
            return;
        }
        body.resize(head.content_length, 0);
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let fault = lock(state).script.pop_front();
        let (status, answer) = match fault {
            Some(Fault::Close) => {
                lock(state).stats.requests += 1;
                return;
            }
            Some(Fault::Status(status, text)) => {
                (status, serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Some(Fault::Slow(delay)) => {
                std::thread::sleep(delay);
                handle(&head, &body, state, api_key)
            }
            None => handle(&head, &body, state, api_key),
        };
        if respond(&mut writer, state, status, &answer).is_err() {
            return;
        }
    }
}

struct Head {
    method: String,
    path: String,
    content_length: usize,
}

fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut content_length = 0;
    let mut head_bytes = line.len();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        head_bytes += line.len();
        if head_bytes > 64 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    Ok(Some(Head {
        method,
        path,
        content_length,
    }))
}

fn respond(
    writer: &mut TcpStream,
    state: &Mutex<State>,
    status: u16,
    body: &Value,
) -> io::Result<()> {
    {
        let mut state = lock(state);
        state.stats.requests += 1;
        *state.stats.statuses.entry(status).or_default() += 1;
    }
    let text = if status == 204 {
        String::new()
    } else {
        body.to_string()
    };
    // One write: pieces written one by one meet Nagle's algorithm and delayed ACKs (40 ms
    // per request on loopback).
    let answer = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
        text.len()
    );
    writer.write_all(answer.as_bytes())?;
    writer.flush()
}

fn bad_request(error: &str) -> (u16, Value) {
    (400, json!({"code": 400, "error": error}))
}

/// The body as a benchmark's fake reads it: the events stay unparsed JSON text.
#[derive(serde::Deserialize)]
struct CountedBody<'a> {
    api_key: &'a str,
    #[serde(borrow)]
    events: Vec<&'a serde_json::value::RawValue>,
}

/// The contract: validation, limits, throttling, ingestion.
fn handle(head: &Head, body: &[u8], state: &Mutex<State>, api_key: &str) -> (u16, Value) {
    if head.method != "POST" || head.path != "/batch" {
        return bad_request("Invalid request path");
    }
    if body.is_empty() {
        return bad_request("Missing request body");
    }
    if !lock(state).record {
        // Counting only (benchmarks): the body is still checked to be JSON of the right
        // shape, but events are not validated one by one, and no scripted throttling applies.
        let Ok(counted) = serde_json::from_slice::<CountedBody<'_>>(body) else {
            return bad_request("Invalid JSON request body");
        };
        if counted.api_key != api_key {
            return bad_request("Invalid API key");
        }
        if counted.events.len() > MAX_EVENTS {
            return (413, json!({"code":413,"error":"Payload too large"}));
        }
        lock(state).stats.ingested += counted.events.len() as u64;
        return (
            200,
            json!({"code":200,"events_ingested":counted.events.len(),"payload_size_bytes":body.len()}),
        );
    }
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return bad_request("Invalid JSON request body");
    };
    let Some(key) = request.get("api_key") else {
        return (
            400,
            json!({"code":400,"error":"Request missing required field","missing_field":"api_key"}),
        );
    };
    if key.as_str() != Some(api_key) {
        return bad_request("Invalid API key");
    }
    let Some(Value::Array(events)) = request.get("events") else {
        return (
            400,
            json!({"code":400,"error":"Request missing required field","missing_field":"events"}),
        );
    };
    if events.len() > MAX_EVENTS {
        return (413, json!({"code":413,"error":"Payload too large"}));
    }
    let mut invalid: Map<String, Value> = Map::new();
    let mut missing: Map<String, Value> = Map::new();
    let add = |map: &mut Map<String, Value>, field: &str, i: usize| {
        if let Value::Array(list) = map.entry(field).or_insert_with(|| Value::Array(Vec::new())) {
            list.push(json!(i));
        }
    };
    for (i, event) in events.iter().enumerate() {
        let id_ok = |key: &str| {
            event
                .get(key)
                .and_then(Value::as_str)
                .is_some_and(|id| id.chars().count() >= 5)
        };
        if !event.get("event_type").is_some_and(Value::is_string) {
            add(&mut missing, "event_type", i);
        }
        if !id_ok("user_id") && !id_ok("device_id") {
            add(&mut missing, "device_id", i);
        }
        if event
            .get("time")
            .is_some_and(|t| !t.is_u64() && !t.is_i64())
        {
            add(&mut invalid, "time", i);
        }
    }
    if !invalid.is_empty() || !missing.is_empty() {
        return (
            400,
            json!({"code":400,"error":"Invalid field values on some events",
                   "events_with_invalid_fields":invalid,"events_with_missing_fields":missing}),
        );
    }
    let mut state = lock(state);
    let now = Instant::now();
    state.throttled_devices.retain(|_, until| *until > now);
    state.throttled_users.retain(|_, until| *until > now);
    let (mut devices, mut users, mut throttled_events, mut quota) =
        (Map::new(), Map::new(), Vec::new(), Map::new());
    for (i, event) in events.iter().enumerate() {
        let device = event.get("device_id").and_then(Value::as_str);
        let user = event.get("user_id").and_then(Value::as_str);
        if let Some(d) = device.filter(|d| state.throttled_devices.contains_key(*d)) {
            devices.insert(d.to_owned(), json!(1500));
            throttled_events.push(i);
        } else if let Some(u) = user.filter(|u| state.throttled_users.contains_key(*u)) {
            users.insert(u.to_owned(), json!(1500));
            throttled_events.push(i);
        }
        if let Some(d) = device.filter(|d| state.quota_devices.iter().any(|q| q == d)) {
            quota.insert(d.to_owned(), json!(500_001));
        }
    }
    if !throttled_events.is_empty() || !quota.is_empty() {
        return (
            429,
            json!({"code":429,"error":"Too many requests for some devices and users","eps_threshold":1000,
                   "throttled_devices":devices,"throttled_users":users,"throttled_events":throttled_events,
                   "exceeded_daily_quota_users":{},"exceeded_daily_quota_devices":quota}),
        );
    }
    for event in events {
        // $identify records carry no insert_id.
        if let Some(insert_id) = event.get("insert_id").and_then(Value::as_str) {
            let copies = state.insert_ids.entry(insert_id.to_owned()).or_default();
            *copies += 1;
            if *copies > 1 {
                state.stats.duplicates += 1;
            }
        }
        state.events.push(event.clone());
    }
    state.stats.ingested += events.len() as u64;
    let upload = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    (
        200,
        json!({"code":200,"events_ingested":events.len(),"payload_size_bytes":body.len(),"server_upload_time":upload}),
    )
}

/// An FxA-shaped mozlog line (auth-server `fxa_login - success`, with an `$append` identify
/// verb every other line), for tests and benchmarks: line `i` of a stream spread over
/// `devices` devices and users.
pub fn fxa_line(i: u64, devices: u64) -> String {
    let k = i % devices.max(1);
    let user_properties = if i.is_multiple_of(2) {
        r#"{\"entrypoint\":\"menupanel\",\"ua_browser\":\"Firefox\",\"ua_version\":\"65.0\",\"$append\":{\"fxa_services_used\":\"sync\"},\"sync_device_count\":2}"#
    } else {
        r#"{\"entrypoint\":\"menupanel\",\"ua_browser\":\"Firefox\",\"ua_version\":\"65.0\",\"sync_device_count\":2}"#
    };
    format!(
        concat!(
            r#"{{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"amplitudeEvent","Severity":6,"Pid":4242,"EnvVersion":"2.0","#,
            r#""Fields":{{"op":"amplitudeEvent","event_type":"fxa_login - success","time":{time},"user_id":"{k:032x}","#,
            r#""device_id":"device-{k:026}","session_id":1551700000000,"app_version":"134","language":"en-US","#,
            r#""country":"United States","region":"California","os_name":"Mac OS X","os_version":"10.13","#,
            r#""event_properties":"{{\"service\":\"sync\",\"line\":{i}}}","user_properties":"{up}"}}}}"#
        ),
        time = 1_551_700_123_456 + i,
        k = k,
        i = i,
        up = user_properties
    )
}

/// Writes `lines` to `path`, one per line (test inputs).
///
/// # Errors
/// When the file cannot be written.
pub fn write_lines(
    path: &std::path::Path,
    lines: impl IntoIterator<Item = String>,
) -> io::Result<()> {
    let mut file = io::BufWriter::new(std::fs::File::create(path)?);
    for line in lines {
        file.write_all(line.as_bytes())?;
        file.write_all(b"\n")?;
    }
    file.flush()
}
