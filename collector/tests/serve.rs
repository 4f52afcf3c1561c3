//! `serve` over real HTTP on loopback: a sample of the shared collector corpus answers and logs
//! exactly as `collect` (the core, called directly) does; GeoIP locates clients; and every
//! robustness limit answers a clear 4xx with a log line while the server keeps serving.

mod http_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use http_support::{TestServer, exchange, mozlog_lines, read_response, request};
use metricsmith::mozlog::{self, Record, Severity};
use metricsmith_collector::http::{Options, Server};
use metricsmith_collector::{Location, Request};
use serde_json::{Map, Value};

fn cases(name: &str) -> Vec<Value> {
    let path = http_support::root()
        .join("../shared/conformance/collector")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a case is JSON"))
        .collect()
}

/// The corpus request as raw bytes: its header lines in order, the test's clock and location
/// headers first.
fn raw_request(case: &Value) -> Vec<u8> {
    let req = &case["request"];
    let mut out = format!(
        "{} {} HTTP/1.1\r\nx-test-received-at: {}\r\n",
        req["method"].as_str().unwrap_or("POST"),
        req["path"].as_str().unwrap_or("/metrics"),
        case["received_at"]
    );
    if case["location"].is_object() {
        out.push_str(&format!("x-test-location: {}\r\n", case["location"]));
    }
    for (name, value) in req["headers"].as_object().into_iter().flatten() {
        out.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap_or("")));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(req["body"].as_str().unwrap_or("").as_bytes());
    bytes
}

/// The same request as `collect` reads it: header values as node's latin1 view of the bytes.
fn core_request(case: &Value) -> (Request, i64, Option<Location>) {
    let req = &case["request"];
    let headers = req["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(n, v)| {
            (
                n.clone(),
                v.as_str().unwrap_or("").bytes().map(char::from).collect(),
            )
        })
        .collect();
    let location = case["location"].as_object().map(|l| Location {
        country: l.get("country").and_then(Value::as_str).map(str::to_owned),
        state: l.get("state").and_then(Value::as_str).map(str::to_owned),
    });
    let request = Request {
        method: req["method"].as_str().unwrap_or("POST").to_owned(),
        path: req["path"].as_str().unwrap_or("/metrics").to_owned(),
        headers,
        body: req["body"].as_str().unwrap_or("").as_bytes().to_vec(),
    };
    (request, case["received_at"].as_i64().unwrap_or(0), location)
}

fn severity(code: u8) -> Severity {
    match code {
        2 => Severity::Error,
        4 => Severity::Warn,
        6 => Severity::Info,
        other => panic!("unexpected severity {other}"),
    }
}

/// Compares line by line, naming the first difference (the texts are long).
#[track_caller]
fn same_lines(got: &str, expected: &str, what: &str) {
    if got != expected {
        let dir = std::env::temp_dir();
        let _ = std::fs::write(dir.join("serve-got.txt"), got);
        let _ = std::fs::write(dir.join("serve-expected.txt"), expected);
    }
    let (got, expected): (Vec<&str>, Vec<&str>) =
        (got.lines().collect(), expected.lines().collect());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "{what}: line {} of {}", i + 1, expected.len());
    }
    assert_eq!(got.len(), expected.len(), "{what}: line count");
}

#[test]
fn a_corpus_sample_answers_and_logs_as_collect_does() {
    for (file, schema, version, logger) in [
        (
            "content-post-metrics.jsonl",
            "content-server.yaml",
            "1.134.0",
            "fxa-content-server",
        ),
        (
            "payments-post-metrics.jsonl",
            "payments-server.yaml",
            "1.148.4",
            "fxa-payments-server",
        ),
    ] {
        let process = Some(("test-host".to_owned(), 4242));
        let direct = http_support::collector(schema, version, process.clone());
        let server = TestServer::start(Server::new(
            vec![http_support::collector(schema, version, process)],
            http_support::options(),
        ));
        let direct = direct.collector();
        let mut expected_mozlog = String::new();
        let mut expected_stderr = String::new();
        let sample: Vec<Value> = cases(file).into_iter().step_by(3).collect();
        for case in &sample {
            let got = exchange(server.address, &raw_request(case));
            let (request, received_at, location) = core_request(case);
            let outcome = direct.handle(&request, received_at, location.as_ref());
            assert_eq!(got.status, outcome.status, "{}", case["id"]);
            assert_eq!(got.body, outcome.body, "{}", case["id"]);
            assert_eq!(
                got.header("content-type"),
                outcome.content_type,
                "{}",
                case["id"]
            );
            // Written again from the parsed lines, with the map-based writers: the server's
            // bytes must be those.
            for line in outcome.log.iter() {
                let fields: Option<Map<String, Value>> = line
                    .fields
                    .map(|f| serde_json::from_slice(f).expect("fields are a JSON object"));
                expected_mozlog.push_str(&mozlog::format_line(&Record {
                    timestamp_ms: received_at,
                    logger,
                    type_name: line.op,
                    hostname: None,
                    severity: severity(line.severity),
                    pid: std::process::id(),
                    fields: fields.as_ref(),
                }));
            }
            for line in outcome.stderr.iter() {
                let line: Value = serde_json::from_slice(line).expect("a JSON line");
                expected_stderr.push_str(&mozlog::to_js_json(&line));
                expected_stderr.push('\n');
            }
        }
        let mozlog = server.mozlog.clone();
        let stderr = server.stderr.clone();
        let summary = server.stop();
        assert_eq!(summary.requests, sample.len() as u64);
        assert_eq!(summary.lost_lines, 0);
        let got_mozlog: String = mozlog
            .text()
            .lines()
            .filter(|l| !l.contains(r#""Type":"http."#))
            .map(|l| format!("{l}\n"))
            .collect();
        same_lines(&got_mozlog, &expected_mozlog, &format!("{file}: mozlog"));
        same_lines(&stderr.text(), &expected_stderr, &format!("{file}: stderr"));
        let amplitude = got_mozlog.matches(r#""Type":"amplitudeEvent""#).count();
        assert!(amplitude > 25, "{file}: only {amplitude} amplitude lines");
        if schema == "content-server.yaml" {
            let flow = expected_stderr.matches(r#""op":"flowEvent""#).count();
            assert!(flow > 100, "only {flow} flow lines");
            assert!(expected_stderr.contains(r#""hostname":"test-host","pid":4242"#));
        }
    }
}

#[test]
fn geoip_locates_the_client_of_x_forwarded_for() {
    let geoip = metricsmith_enrich::GeoIp::open(
        &http_support::root().join("enrich/tests/fixtures/geoip-test.mmdb"),
    )
    .expect("the test database opens");
    let options = Options {
        client_address_depth: 2,
        location_header: None,
        ..http_support::options()
    };
    let server = TestServer::start(
        Server::new(
            vec![http_support::collector(
                "content-server.yaml",
                "1.134.0",
                None,
            )],
            options,
        )
        .geoip(geoip),
    );
    let case = cases("content-post-metrics.jsonl")
        .into_iter()
        .find(|c| c["id"] == "c-ua-002")
        .expect("the case exists");
    let mut raw = raw_request(&case);
    let at = raw
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a request line")
        + 2;
    raw.splice(at..at, b"x-forwarded-for: 203.0.113.9\r\n".iter().copied());
    let got = exchange(server.address, &raw);
    assert_eq!(got.status, 200, "{}", got.body);
    let stderr = server.stderr.clone();
    let mozlog = server.mozlog.clone();
    server.stop();
    let flow: Vec<Value> = stderr
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .filter(|l: &Value| l["op"] == "flowEvent")
        .collect();
    assert!(!flow.is_empty());
    for line in &flow {
        assert_eq!(line["country"], "Brazil");
        assert_eq!(line["region"], "São Paulo");
    }
    let amplitude: Vec<Value> = mozlog_lines(&mozlog.text())
        .into_iter()
        .filter(|l| l["Type"] == "amplitudeEvent")
        .collect();
    assert!(!amplitude.is_empty());
    assert_eq!(amplitude[0]["Fields"]["country"], "Brazil");
}

/// Reads what the server sends until it closes, giving up after `limit`.
fn read_all_within(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    use std::io::Read;
    let started = Instant::now();
    stream
        .set_read_timeout(Some(limit))
        .expect("a read timeout");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    (raw, started.elapsed())
}

#[test]
fn limits_answer_clear_4xx_with_a_log_line_and_the_server_keeps_serving() {
    let options = Options {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..http_support::options()
    };
    let server = TestServer::start(Server::new(
        vec![http_support::collector(
            "content-server.yaml",
            "1.134.0",
            None,
        )],
        options,
    ));
    let address = server.address;
    let json = [("content-type", "application/json")];
    let text = [("content-type", "text/plain;charset=UTF-8")];

    // A declared body over the limit is refused before it is read.
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 5000000\r\n\r\n{")
        .expect("write");
    let got = read_response(&mut stream).expect("an answer");
    assert_eq!(got.status, 413);
    assert_eq!(got.json()["statusCode"], 413);
    assert_eq!(got.json()["error"], "Payload Too Large");

    // So is a chunked body that grows past it, and a body of too many events.
    let big = format!("[{}]", vec!["1"; 60_000].join(","));
    let mut chunked = b"POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    for chunk in big.as_bytes().chunks(8192) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(exchange(address, &chunked).status, 413);
    let events = vec![r#"{"offset":0,"type":"screen.signup"}"#; 10_000].join(",");
    let many = format!(r#"{{"events":[{events}]}}"#);
    assert_eq!(
        exchange(
            address,
            &request("POST", "/metrics", &text, many.as_bytes())
        )
        .status,
        413
    );

    // Wrong content type, invalid JSON and deep JSON are the core's 400s.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let got = exchange(address, &request("POST", "/metrics", &form, b"{}"));
    assert_eq!(got.status, 400);
    assert_eq!(got.json()["validation"]["keys"][0], "broker");
    let got = exchange(address, &request("POST", "/metrics", &json, b"{not json"));
    assert_eq!(got.status, 400);
    assert_eq!(got.json()["statusCode"], 400);
    let deep = "[".repeat(50_000);
    for headers in [&json, &text] {
        let got = exchange(
            address,
            &request("POST", "/metrics", headers, deep.as_bytes()),
        );
        assert_eq!(got.status, 400, "deep JSON: {}", got.body);
    }
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(15_000), "}".repeat(15_000));
    let got = exchange(
        address,
        &request("POST", "/metrics", &json, deep_object.as_bytes()),
    );
    assert_eq!(got.status, 400, "deep object: {}", got.body);

    // A body that does not arrive in time: 408 with a JSON body.
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{\"br")
        .expect("write");
    let (raw, took) = read_all_within(&mut stream, Duration::from_secs(10));
    let got = http_support::parse_response(&raw).expect("an answer");
    assert_eq!(got.status, 408, "{}", got.body);
    assert_eq!(got.json()["error"], "Request Timeout");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // Headers that do not arrive in time: the connection is closed.
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"POST /metrics HTTP/1.1\r\nhost: x\r\n")
        .expect("write");
    let (_, took) = read_all_within(&mut stream, Duration::from_secs(10));
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // A keep-alive connection left idle after a request is closed too, logged as idle.
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"GET /__lbheartbeat__ HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("write");
    let (raw, took) = read_all_within(&mut stream, Duration::from_secs(10));
    assert_eq!(
        http_support::parse_response(&raw).map(|r| r.status),
        Some(200)
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // Garbage instead of HTTP.
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .write_all(b"\x16\x03\x01garbage\r\n\r\n")
        .expect("write");
    let (raw, _) = read_all_within(&mut stream, Duration::from_secs(10));
    if let Some(got) = http_support::parse_response(&raw) {
        assert_eq!(got.status, 400);
    }

    // Still serving: Dockerflow endpoints and JSON 404s.
    let got = exchange(address, &request("GET", "/__heartbeat__", &[], b""));
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["status"], "ok");
    assert_eq!(got.json()["checks"]["geoip"], "disabled");
    assert_eq!(
        exchange(address, &request("GET", "/__lbheartbeat__", &[], b"")).status,
        200
    );
    let got = exchange(address, &request("GET", "/__version__", &[], b""));
    assert_eq!(got.status, 200);
    assert!(got.json()["version"].is_string());
    let got = exchange(address, &request("GET", "/nowhere", &[], b""));
    assert_eq!(got.status, 404);
    assert_eq!(got.json()["statusCode"], 404);
    let got = exchange(address, &request("GET", "/metrics", &[], b""));
    assert_eq!(got.status, 404);

    let mozlog = server.mozlog.clone();
    let summary = server.stop();
    let ops: Vec<String> = mozlog
        .text()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .map(|l| l["Type"].as_str().unwrap_or("").to_owned())
        .collect();
    let count = |op: &str| ops.iter().filter(|o| *o == op).count();
    // Three 413s, the 408, and the core's 400s for invalid and too deep JSON (two).
    assert_eq!(count("server.routes.request.failed"), 7, "{ops:?}");
    // The form body and the deep text/plain body (after its parse error line).
    assert_eq!(count("server.routes.validation.failed"), 2, "{ops:?}");
    assert_eq!(count("http.connection.failed"), 1, "{ops:?}");
    assert_eq!(count("http.connection.timeout"), 1, "{ops:?}");
    assert_eq!(count("http.connection.idle"), 1, "{ops:?}");
    assert_eq!(count("http.listening"), 1);
    assert_eq!(count("http.shutdown"), 1);
    assert!(summary.client_errors >= 10, "{summary:?}");
    assert_eq!(summary.server_errors, 0, "{summary:?}");
}

#[test]
fn a_request_over_its_time_is_answered_408_with_a_log_line() {
    let options = Options {
        request_timeout: Duration::from_millis(300),
        ..http_support::options()
    };
    let server = TestServer::start(Server::new(
        vec![http_support::collector(
            "content-server.yaml",
            "1.134.0",
            None,
        )],
        options,
    ));
    let mut stream = TcpStream::connect(server.address).expect("connect");
    stream
        .write_all(b"POST /metrics HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{")
        .expect("write");
    let (raw, took) = read_all_within(&mut stream, Duration::from_secs(10));
    let got = http_support::parse_response(&raw).expect("an answer");
    assert_eq!(got.status, 408, "{}", got.body);
    assert!(
        got.json()["message"]
            .as_str()
            .unwrap_or("")
            .contains("not handled within 300 ms")
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let mozlog = server.mozlog.clone();
    server.stop();
    assert!(
        mozlog
            .text()
            .contains(r#""Type":"server.routes.request.failed""#)
    );
}

#[test]
fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let options = Options {
        max_connections: 1,
        ..http_support::options()
    };
    let server = TestServer::start(Server::new(
        vec![http_support::collector(
            "content-server.yaml",
            "1.134.0",
            None,
        )],
        options,
    ));
    // The first connection holds the only slot (keep-alive, idle).
    let mut first = TcpStream::connect(server.address).expect("connect");
    first
        .write_all(b"GET /__lbheartbeat__ HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("write");
    let mut buf = [0u8; 256];
    let n = std::io::Read::read(&mut first, &mut buf).expect("an answer");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // The second waits in the listen queue: no answer while the first is open.
    let mut second = TcpStream::connect(server.address).expect("connect");
    second
        .write_all(&request("GET", "/__lbheartbeat__", &[], b""))
        .expect("write");
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let waited = std::io::Read::read(&mut second, &mut buf);
    assert!(waited.is_err(), "answered beyond the limit: {waited:?}");
    // Once the first closes, the second is served.
    drop(first);
    let (raw, _) = read_all_within(&mut second, Duration::from_secs(10));
    assert_eq!(
        http_support::parse_response(&raw).map(|r| r.status),
        Some(200)
    );
    server.stop();
}
