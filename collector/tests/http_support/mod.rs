//! An in-process `serve` on a loopback port, and a raw HTTP/1.1 client: requests are written
//! byte for byte (the corpus records the exact header lines), so slow and malformed clients can
//! be played too.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use metricsmith_collector::http::{Options, Output, Route, Server, Summary};
use metricsmith_collector::{Collector, Config};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The corpus's fixed configuration (README "Fixed configuration").
pub fn collector(schema_file: &str, version: &str, process: Option<(String, u32)>) -> Route {
    let checked = metricsmith_codegen::load(root().join("schema/fxa").join(schema_file))
        .unwrap_or_else(|report| panic!("{}", report.render(metricsmith_codegen::Style::Plain)));
    let service = checked.model.services.values().next().expect("one service");
    let mut config = Config::new("S3CR37", version);
    config.oauth_clients = HashMap::from_iter(
        [
            ("0", "amo"),
            ("1", "pocket"),
            ("dcdb5ae7add825d2", "123done"),
            ("5882386c6d801776", "fx-monitor"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    config.process = process;
    let logger = service
        .collector
        .as_ref()
        .expect("a collector")
        .validation_logger
        .clone();
    Route::new(
        Collector::new(service, config).expect("the collector builds"),
        logger,
    )
}

/// A `Write` whose bytes the test reads afterwards.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8(
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
        .expect("UTF-8 lines")
    }
}

pub struct TestServer {
    pub address: SocketAddr,
    pub mozlog: Captured,
    pub stderr: Captured,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<Summary>>,
}

impl TestServer {
    /// Starts `server` on 127.0.0.1:0 on a runtime of its own, capturing its lines.
    pub fn start(server: Server) -> Self {
        let mozlog = Captured::default();
        let stderr = Captured::default();
        let output = Output {
            mozlog: Box::new(mozlog.clone()),
            stderr: Box::new(stderr.clone()),
        };
        Self::start_with(server, output, mozlog, stderr)
    }

    /// Starts `server` writing to `output` (`mozlog` and `stderr` stay empty unless they are
    /// what `output` writes to).
    pub fn start_with(server: Server, output: Output, mozlog: Captured, stderr: Captured) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, address) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                ready
                    .send(listener.local_addr().expect("an address"))
                    .expect("the test waits");
                server
                    .run(listener, output, async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("the server runs")
            })
        });
        let address = address
            .recv_timeout(Duration::from_secs(30))
            .expect("the server starts");
        Self {
            address,
            mozlog,
            stderr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Shuts down (as SIGTERM would) and returns the summary; every line is flushed then.
    pub fn stop(mut self) -> Summary {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Summary {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread
            .take()
            .map(|t| t.join().expect("the server thread ends"))
            .unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Writes `request` and reads the answer until the server closes the connection.
#[track_caller]
pub fn exchange(address: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("write the request");
    read_response(&mut stream).expect("an answer")
}

/// Reads one answer (to EOF) from `stream`; `None` when the server closed without answering.
pub fn read_response(stream: &mut TcpStream) -> Option<RawResponse> {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Option<RawResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(RawResponse {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// A request with `headers` (name, value) and `body`, closing the connection after it.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

pub fn options() -> Options {
    Options {
        received_at_header: Some("x-test-received-at".to_owned()),
        location_header: Some("x-test-location".to_owned()),
        ..Options::default()
    }
}

/// Mozlog lines as `{op, severity, fields}` (heka fields), leaving out the server's own
/// `server.*` lines.
pub fn mozlog_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a mozlog line is JSON"))
        .filter(|l| !l["Type"].as_str().unwrap_or("").starts_with("http."))
        .collect()
}
