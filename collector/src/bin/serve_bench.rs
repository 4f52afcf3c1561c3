//! Load generator for `metricsmith serve`: keep-alive HTTP/1.1 connections posting a realistic
//! content-server body (10 events, valid flow data signed with `--flow-key`) for a bounded time,
//! then one JSON line with the request count, errors, requests per second and latency
//! percentiles.
//!
//! ```text
//! serve-bench --target 127.0.0.1:8080 --connections 8 --duration-ms 10000 --warmup-ms 2000
//! ```
//!
//! Used by docs/performance.md (with the server pinned to one core) and by the collector's load
//! test (as the second process).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use serde_json::json;

/// Posts realistic bodies to a collector for a bounded time and reports throughput and latency.
#[derive(Debug, Parser)]
struct Args {
    /// The server's address.
    #[arg(long)]
    target: SocketAddr,
    /// The path of the collector.
    #[arg(long, default_value = "/metrics")]
    path: String,
    /// Concurrent keep-alive connections, one thread each.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// How long to measure.
    #[arg(long = "duration-ms", default_value_t = 5_000)]
    duration_ms: u64,
    /// How long to send before measuring.
    #[arg(long = "warmup-ms", default_value_t = 1_000)]
    warmup_ms: u64,
    /// The server's flow id key, to sign the flow ids.
    #[arg(long = "flow-key", default_value = "S3CR37")]
    flow_key: String,
}

#[derive(Debug, Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    non_200: u64,
    first_error: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let request = Arc::new(request(&args));
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..args.connections.max(1))
        .map(|_| {
            let (request, stop, measuring) = (
                Arc::clone(&request),
                Arc::clone(&stop),
                Arc::clone(&measuring),
            );
            let target = args.target;
            std::thread::spawn(move || connection(target, &request, &stop, &measuring))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(args.warmup_ms));
    measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(args.duration_ms));
    measuring.store(false, Ordering::SeqCst);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut all = Tally::default();
    for thread in threads {
        match thread.join() {
            Ok(t) => {
                all.latencies_us.extend(t.latencies_us);
                all.errors += t.errors;
                all.non_200 += t.non_200;
                all.first_error = all.first_error.or(t.first_error);
            }
            Err(_) => all.errors += 1,
        }
    }
    all.latencies_us.sort_unstable();
    let percentile = |p: f64| {
        let n = all.latencies_us.len();
        if n == 0 {
            return 0;
        }
        let i = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        all.latencies_us[i]
    };
    let requests = all.latencies_us.len();
    let summary = json!({
        "requests": requests,
        "errors": all.errors,
        "non_200": all.non_200,
        "first_error": all.first_error,
        "seconds": elapsed.as_secs_f64(),
        "requests_per_second": requests as f64 / elapsed.as_secs_f64(),
        "p50_us": percentile(0.50),
        "p90_us": percentile(0.90),
        "p99_us": percentile(0.99),
        "max_us": all.latencies_us.last().copied().unwrap_or(0),
        "connections": args.connections,
        "body_bytes": request.len(),
    });
    println!("{summary}");
    if all.errors == 0 && all.non_200 == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One keep-alive connection: request, answer, again, until told to stop; reconnects after an
/// error (counted).
fn connection(
    target: SocketAddr,
    request: &[u8],
    stop: &AtomicBool,
    measuring: &AtomicBool,
) -> Tally {
    let mut tally = Tally::default();
    let mut stream: Option<BufReader<TcpStream>> = None;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let result = match stream.as_mut() {
            Some(s) => exchange(s, request),
            None => match TcpStream::connect(target) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    stream = Some(BufReader::new(s));
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        let counted = measuring.load(Ordering::Relaxed);
        match result {
            Ok(status) => {
                if counted {
                    let us = started.elapsed().as_micros();
                    tally
                        .latencies_us
                        .push(u32::try_from(us).unwrap_or(u32::MAX));
                    if status != 200 {
                        tally.non_200 += 1;
                        tally.first_error.get_or_insert(format!("status {status}"));
                    }
                }
            }
            Err(e) => {
                stream = None;
                if counted {
                    tally.errors += 1;
                    tally.first_error.get_or_insert(e.to_string());
                }
            }
        }
    }
    tally
}

/// Writes one request and reads one answer; returns its status.
fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> io::Result<u16> {
    stream.get_mut().write_all(request)?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no status line: {line:?}")))?;
    let mut length = 0usize;
    let mut close = false;
    loop {
        line.clear();
        if stream.read_line(&mut line)? == 0 {
            return Err(io::Error::other("closed within the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.trim().eq_ignore_ascii_case("close");
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body)?;
    if close {
        return Err(io::Error::other("the server closed the connection"));
    }
    Ok(status)
}

/// A content-server body like the front end's: 10 events, a flow that began a minute ago,
/// signed with the server's key, a sampled user (so `client.metrics` is written too).
fn request(args: &Args) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let begin = now - 60_000;
    let flow_id =
        metricsmith::flow_id::sign(&args.flow_key, "0123456789abcdef0123456789abcdef", begin);
    let types = [
        "flow.begin",
        "screen.enter-email",
        "flow.enter-email.engage",
        "flow.enter-email.submit",
        "screen.signup",
        "flow.signup.engage",
        "flow.signup.submit",
        "screen.confirm",
        "flow.timing.signup.1200",
        "settings.signout.success",
    ];
    let events: Vec<_> = types
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"offset": 1000 * (i as i64 + 1), "type": t}))
        .collect();
    let body = json!({
        "broker": "web", "context": "web", "deviceId": "efedb8c719510d6721dc802726e74d01",
        "duration": 20_000, "entrypoint": "menupanel", "events": events,
        "experiments": [{"choice": "sentryEnabled", "group": "false"}],
        "flowBeginTime": begin, "flowId": flow_id, "flushTime": now - 1_000,
        "initialView": "enter-email", "isSampledUser": true, "lang": "en-US", "marketing": [],
        "migration": "none", "numStoredAccounts": 0, "referrer": "https://www.mozilla.org/",
        "screen": {"clientHeight": 900, "clientWidth": 1440, "devicePixelRatio": 2,
                   "height": 900, "width": 1440},
        "service": "sync", "startTime": now - 30_000, "uid": "none",
        "uniqueUserId": "c31ec014-e07a-4e69-b5c4-8a771beaf77a",
        "utm_campaign": "fxa-embedded-form", "utm_content": "fx-66.0", "utm_medium": "referral",
        "utm_source": "menupanel", "utm_term": "none",
    })
    .to_string();
    let mut out = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\nuser-agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:66.0) Gecko/20100101 Firefox/66.0\r\naccept: */*\r\naccept-language: en-US,en;q=0.5\r\ncontent-type: text/plain;charset=UTF-8\r\norigin: https://accounts.firefox.com\r\ncontent-length: {}\r\n\r\n",
        args.path,
        args.target,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}
