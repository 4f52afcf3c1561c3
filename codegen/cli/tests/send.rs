//! `metricsmith send` as a process: SIGTERM drains and checkpoints; kill -9 at random points
//! and restarts lose nothing (at-least-once, one insert_id per event).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use metricsmith_sender::fake_amplitude::{FakeAmplitude, Fault, fxa_line, write_lines};
use serde_json::Value;

const API_KEY: &str = "test-api-key";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "metricsmith-cli-send-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn send(fake: &FakeAmplitude, dir: &Path, input: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metricsmith"));
    command
        .args([
            "send",
            "--hmac-key",
            "k",
            "--api-key",
            API_KEY,
            "--amplitude-url",
        ])
        .arg(fake.url())
        .arg("--input")
        .arg(input)
        .arg("--state")
        .arg(dir.join("state"))
        .args([
            "--backoff-base-ms",
            "10",
            "--backoff-max-ms",
            "200",
            "--progress-interval-ms",
            "100000",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Waits for the child, at most `limit`.
#[track_caller]
fn wait(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waitable") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("metricsmith send did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn checkpoint_offset(dir: &Path) -> u64 {
    fs::read_to_string(dir.join("state/checkpoint.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|value| value["offset"].as_u64())
        .unwrap_or(0)
}

/// Line number -> the insert_ids of its copies, from the events the fake ingested.
fn insert_ids_by_line(events: &[Value]) -> BTreeMap<u64, BTreeSet<String>> {
    let mut by_line: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    for event in events.iter().filter(|e| e["event_type"] != "$identify") {
        let line = event["event_properties"]["line"]
            .as_u64()
            .expect("a line number");
        let insert_id = event["insert_id"]
            .as_str()
            .expect("an insert_id")
            .to_owned();
        by_line.entry(line).or_default().insert(insert_id);
    }
    by_line
}

#[test]
fn sigterm_finishes_the_request_in_flight_and_checkpoints() {
    let dir = temp_dir("sigterm");
    let input = dir.join("in.log");
    write_lines(&input, (0..50).map(|i| fxa_line(i, 5))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    fake.script([Fault::Slow(Duration::from_millis(800))]);
    let mut child = send(&fake, &dir, &input, &["--follow", "--batch-events", "20"])
        .spawn()
        .expect("metricsmith starts");
    // The first request is in flight (answered after 800 ms) when SIGTERM arrives.
    let start = Instant::now();
    while fake.stats().received == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no request within 10 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        fake.events().is_empty(),
        "the first request is still in flight"
    );
    signal(&child, "-TERM");
    let status = wait(&mut child, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
        .expect("stderr");
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("\"interrupted\":true"), "{stderr}");
    // The slow request was answered and settled: its 20 payloads are in the checkpoint.
    let accepted = fake.events().len();
    assert!(accepted >= 20, "{accepted} events accepted\n{stderr}");
    let offset = checkpoint_offset(&dir);
    let text = fs::read_to_string(&input).expect("input");
    let settled_lines = text[..usize::try_from(offset).expect("small")]
        .lines()
        .count() as u64;
    let sent_lines: BTreeSet<u64> = insert_ids_by_line(&fake.events()).into_keys().collect();
    assert!(settled_lines > 0, "{stderr}");
    assert!(
        (0..settled_lines).all(|l| sent_lines.contains(&l)),
        "checkpoint past an unsent line"
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn kill_9_at_random_points_loses_nothing() {
    let dir = temp_dir("kill9");
    let input = dir.join("in.log");
    const LINES: u64 = 3000;
    write_lines(&input, (0..LINES).map(|i| fxa_line(i, 50))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    // Some requests fail, some are slow: kills land in every state.
    fake.script((0..40).map(|i| match i % 4 {
        0 => Fault::Slow(Duration::from_millis(30)),
        1 => Fault::Status(503, "{}".to_owned()),
        _ => Fault::Slow(Duration::from_millis(5)),
    }));
    let mut seed = u64::from(std::process::id()) | 1;
    let mut random = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let extra = ["--batch-events", "50", "--checkpoint-interval-ms", "0"];
    let mut kills = 0;
    for _ in 0..8 {
        let mut child = send(&fake, &dir, &input, &extra)
            .spawn()
            .expect("metricsmith starts");
        std::thread::sleep(Duration::from_millis(20 + random(150)));
        if child.try_wait().expect("waitable").is_none() {
            signal(&child, "-KILL");
            kills += 1;
        }
        let _ = wait(&mut child, Duration::from_secs(10));
    }
    let mut child = send(&fake, &dir, &input, &extra)
        .spawn()
        .expect("metricsmith starts");
    let status = wait(&mut child, Duration::from_secs(60));
    assert!(status.success());
    assert_eq!(
        checkpoint_offset(&dir),
        fs::metadata(&input).expect("input").len()
    );
    let by_line = insert_ids_by_line(&fake.events());
    assert_eq!(
        by_line.len() as u64,
        LINES,
        "every line arrived ({kills} kills)"
    );
    assert!(
        by_line.values().all(|ids| ids.len() == 1),
        "one insert_id per event"
    );
    assert!(kills >= 1, "no run was killed");
    fs::remove_dir_all(&dir).ok();
}
