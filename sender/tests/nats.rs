//! `send --nats` and `publish` against a real NATS JetStream server (`NATS_URL`, default
//! 127.0.0.1:4222; each test uses its own stream), and a private nats-server restarted
//! mid-stream.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use metricsmith_sender::fake_amplitude::{FakeAmplitude, Fault, fxa_line, write_lines};
use metricsmith_sender::nats::{PublishConfig, publish};
use metricsmith_sender::{Config, deliver};

mod common;
use common::temp_dir;
use serde_json::Value;

const API_KEY: &str = "test-api-key";

fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

/// A stream and subject of this test alone.
fn names(test: &str) -> (String, String) {
    let id = std::process::id();
    (format!("MSTEST_{test}_{id}"), format!("mstest.{test}.{id}"))
}

fn publish_lines(url: &str, stream: &str, subject: &str, input: &Path) -> u64 {
    publish(&PublishConfig {
        nats: url.to_owned(),
        subject: subject.to_owned(),
        stream: Some(stream.to_owned()),
        inputs: vec![input.display().to_string()],
        in_flight: 64,
        max_line_bytes: 1 << 20,
    })
    .expect("published")
}

fn config(fake: &FakeAmplitude, dir: &Path, url: &str, stream: &str) -> Config {
    let mut config = Config::new("metricsmith-test-hmac-key", API_KEY);
    config.amplitude_url = fake.url();
    config.state = dir.join("state");
    config.batch_events = 50;
    config.max_pending_events = 500;
    config.backoff_base_ms = 10;
    config.backoff_max_ms = 200;
    config.nats = Some(url.to_owned());
    config.stream = Some(stream.to_owned());
    config.consumer = Some("sender".to_owned());
    config.exit_when_drained = true;
    config
}

#[track_caller]
fn send(config: &Config) -> deliver::Summary {
    common::send(config, Duration::from_secs(120)).expect("delivered")
}

fn lines_of(events: &[Value]) -> BTreeSet<u64> {
    common::lines_of(events).into_iter().collect()
}

/// Consumer counts, from the server: (pending, ack pending).
fn consumer_counts(url: &str, stream: &str) -> (u64, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = async_nats::connect(url).await.expect("nats");
        let context = async_nats::jetstream::new(client);
        let stream = context.get_stream(stream).await.expect("stream");
        let mut consumer: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer("sender").await.expect("consumer");
        let info = consumer.info().await.expect("info");
        (info.num_pending, info.num_ack_pending)
    })
}

fn delete_stream(url: &str, stream: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if let Ok(client) = async_nats::connect(url).await {
            let _ = async_nats::jetstream::new(client)
                .delete_stream(stream)
                .await;
        }
    });
}

#[test]
fn messages_are_acknowledged_after_amplitude_accepted_them() {
    let url = nats_url();
    let (stream, subject) = names("ack");
    let dir = temp_dir("ack");
    let input = dir.join("in.log");
    let mut lines: Vec<String> = (0..300).map(|i| fxa_line(i, 9)).collect();
    lines.insert(5, "{\"not\":\"an event\"}".to_owned());
    write_lines(&input, lines).expect("writable");
    assert_eq!(publish_lines(&url, &stream, &subject, &input), 301);
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    fake.script([
        Fault::Status(503, "{}".to_owned()),
        Fault::Status(500, "{}".to_owned()),
    ]);
    let summary = send(&config(&fake, &dir, &url, &stream));
    assert_eq!(
        (summary.lines, summary.sent, summary.dead_lettered),
        (301, 450, 1)
    );
    assert_eq!(lines_of(&fake.events()), (0..300).collect());
    assert_eq!(fake.stats().duplicates, 0);
    assert_eq!(
        consumer_counts(&url, &stream),
        (0, 0),
        "everything acknowledged"
    );
    let dead = fs::read_to_string(dir.join("state/dead-letter.jsonl")).expect("dead letters");
    assert!(
        dead.contains(&format!("\"source\":\"nats:{stream}/sender\"")),
        "{dead}"
    );
    // Nothing is left for a second run.
    let summary = send(&config(&fake, &dir, &url, &stream));
    assert_eq!(summary.lines, 0);
    delete_stream(&url, &stream);
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_senders_on_one_consumer_share_the_work() {
    let url = nats_url();
    let (stream, subject) = names("share");
    let dir = temp_dir("share");
    let input = dir.join("in.log");
    write_lines(&input, (0..2000).map(|i| fxa_line(i, 40))).expect("writable");
    assert_eq!(publish_lines(&url, &stream, &subject, &input), 2000);
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    let config = config(&fake, &dir, &url, &stream);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| send(&config));
        let b = scope.spawn(|| send(&config));
        (a.join().expect("sender a"), b.join().expect("sender b"))
    });
    assert_eq!(a.lines + b.lines, 2000, "{a:?} {b:?}");
    assert_eq!(lines_of(&fake.events()).len(), 2000);
    assert_eq!(consumer_counts(&url, &stream), (0, 0));
    delete_stream(&url, &stream);
    fs::remove_dir_all(&dir).ok();
}

/// A private nats-server with JetStream on a free port, stopped on drop.
struct Server {
    child: Child,
    port: u16,
    store: PathBuf,
}

impl Server {
    fn start(port: u16, store: &Path) -> Self {
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server is installed (.ci/run installs it)");
        let server = Self {
            child,
            port,
            store: store.to_path_buf(),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// SIGTERM (JetStream writes its store) and wait.
    fn stop(mut self) -> (u16, PathBuf) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (self.port, self.store.clone())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_nats_restart_mid_stream_loses_nothing() {
    let dir = temp_dir("restart");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = Server::start(port, &dir.join("store"));
    let url = format!("127.0.0.1:{port}");
    let (stream, subject) = names("restart");
    let input = dir.join("in.log");
    write_lines(&input, (0..3000).map(|i| fxa_line(i, 30))).expect("writable");
    assert_eq!(publish_lines(&url, &stream, &subject, &input), 3000);
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    // Slow answers keep the sender busy while the server goes away.
    fake.script((0..20).map(|_| Fault::Slow(Duration::from_millis(40))));
    let mut config = config(&fake, &dir, &url, &stream);
    config.progress_interval_ms = 100_000;
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let config = config.clone();
        std::thread::spawn(move || {
            let _ = tx.send(deliver::run(&config));
        });
    }
    let start = Instant::now();
    while fake.stats().ingested < 300 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no delivery before the restart"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (port, store) = server.stop();
    std::thread::sleep(Duration::from_millis(500));
    let server = Server::start(port, &store);
    let summary = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("send ends within 90 s")
        .expect("send ends cleanly");
    assert!(!summary.interrupted);
    assert_eq!(lines_of(&fake.events()), (0..3000).collect(), "{summary:?}");
    // Acknowledgements sent while the server was away went out after the reconnect.
    let start = Instant::now();
    while consumer_counts(&url, &stream) != (0, 0) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "messages left unacknowledged"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    fs::remove_dir_all(&dir).ok();
}
