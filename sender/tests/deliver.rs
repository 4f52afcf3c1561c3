//! `send` against a fake Amplitude on loopback: every response class of the documented
//! contract, the checkpoint and restarts.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use metricsmith_sender::Config;
use metricsmith_sender::fake_amplitude::{FakeAmplitude, Fault, fxa_line, write_lines};

mod common;
use common::{lines_of, temp_dir};
use serde_json::Value;

const API_KEY: &str = "test-api-key";

fn config(fake: &FakeAmplitude, dir: &Path, input: &Path) -> Config {
    let mut config = Config::new("metricsmith-test-hmac-key", API_KEY);
    config.inputs = vec![input.display().to_string()];
    config.amplitude_url = fake.url();
    config.state = dir.join("state");
    config.batch_events = 100;
    config.max_pending_events = 1000;
    config.timeout_ms = 2_000;
    config.backoff_base_ms = 10;
    config.backoff_max_ms = 100;
    config.throttle_hold_ms = 200;
    config.checkpoint_interval_ms = 0;
    config
}

fn checkpoint_offset(dir: &Path) -> u64 {
    let text = fs::read_to_string(dir.join("state/checkpoint.json")).expect("a checkpoint");
    let value: Value = serde_json::from_str(&text).expect("JSON");
    value["offset"].as_u64().expect("an offset")
}

#[test]
fn every_event_arrives_once_and_the_checkpoint_reaches_the_end() {
    let dir = temp_dir("happy");
    let input = dir.join("in.log");
    let mut lines: Vec<String> = (0..250).map(|i| fxa_line(i, 7)).collect();
    lines.insert(100, "not json".to_owned());
    write_lines(&input, lines).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    assert_eq!(
        (summary.lines, summary.sent, summary.dead_lettered),
        (251, 375, 1)
    );
    let events = fake.events();
    assert_eq!(events.len(), 375, "250 events and 125 $identify records");
    assert_eq!(lines_of(&events), (0..250).collect::<Vec<_>>());
    assert_eq!(fake.stats().duplicates, 0);
    // Batches go out as soon as the reader has a chunk, so a chunk may straddle two.
    let requests = fake.stats().requests;
    assert!((4..=8).contains(&requests), "{requests} requests");
    assert_eq!(
        checkpoint_offset(&dir),
        fs::metadata(&input).expect("input").len()
    );
    let dead = fs::read_to_string(dir.join("state/dead-letter.jsonl")).expect("dead letters");
    assert!(
        dead.starts_with(r#"{"reason":"invalid JSON: unexpected token at byte 0","source":""#),
        "{dead}"
    );
    // A second run resumes at the checkpoint: nothing is sent again.
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    assert_eq!((summary.lines, summary.sent), (0, 0));
    // Lines appended later are sent from where the checkpoint is.
    let mut more = fs::read_to_string(&input).expect("input");
    more.push_str(&fxa_line(250, 7));
    more.push('\n');
    fs::write(&input, more).expect("writable");
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    assert_eq!((summary.lines, summary.sent), (1, 2));
    assert_eq!(lines_of(&fake.events()).last(), Some(&250));
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn payload_too_large_splits_the_batch() {
    let dir = temp_dir("413");
    let input = dir.join("in.log");
    write_lines(&input, (0..100).map(|i| fxa_line(i, 5))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    fake.script([
        Fault::Status(
            413,
            r#"{"code":413,"error":"Payload too large"}"#.to_owned(),
        ),
        Fault::Status(
            413,
            r#"{"code":413,"error":"Payload too large"}"#.to_owned(),
        ),
    ]);
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    assert_eq!(summary.sent, 150);
    assert_eq!(lines_of(&fake.events()), (0..100).collect::<Vec<_>>());
    // 100 -> 50 -> 25 events, then the limit grows back.
    assert!(fake.stats().requests >= 5, "{:?}", fake.stats());
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_request_dead_letters_only_the_named_events() {
    let dir = temp_dir("400");
    let input = dir.join("in.log");
    let mut lines: Vec<String> = (0..20).map(|i| fxa_line(i, 5)).collect();
    // A fractional time passes FxA's validity rules; Amplitude refuses it.
    lines[7] = lines[7].replace("\"time\":1551700123463", "\"time\":1551700123463.5");
    write_lines(&input, lines).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    assert_eq!(summary.dead_lettered, 1);
    let sent = lines_of(&fake.events());
    assert_eq!(sent, (0..20).filter(|i| *i != 7).collect::<Vec<_>>());
    let dead = fs::read_to_string(dir.join("state/dead-letter.jsonl")).expect("dead letters");
    assert!(
        dead.starts_with(r#"{"reason":"amplitude 400: Invalid field values on some events (invalid field time)","event":{"op":"amplitudeEvent","#),
        "{dead}"
    );
    assert_eq!(
        checkpoint_offset(&dir),
        fs::metadata(&input).expect("input").len()
    );
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_throttled_device_waits_while_the_others_flow() {
    let dir = temp_dir("429");
    let input = dir.join("in.log");
    write_lines(&input, (0..60).map(|i| fxa_line(i, 3))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    let storm = "device-00000000000000000000000001";
    fake.throttle_device(storm, Duration::from_millis(700));
    let mut config = config(&fake, &dir, &input);
    config.batch_events = 10;
    let started = Instant::now();
    let summary = common::send(&config, Duration::from_secs(60)).expect("delivered");
    assert_eq!(summary.sent, 90);
    assert!(started.elapsed() >= Duration::from_millis(600));
    let events = fake.events();
    let order = lines_of(&events);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..60).collect::<Vec<_>>(), "every event once");
    // The others were not held: the last line of device 0 came before device 1's first line.
    let position = |line: u64| order.iter().position(|l| *l == line).expect("sent");
    assert!(position(57) < position(1), "{order:?}");
    // Order per device is kept, $identify before its event.
    for device in 0..3 {
        let of_device: Vec<u64> = order.iter().copied().filter(|l| l % 3 == device).collect();
        assert!(of_device.is_sorted(), "device {device}: {of_device:?}");
    }
    assert!(fake.stats().statuses.get(&429).copied().unwrap_or(0) >= 1);
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn server_errors_timeouts_and_dropped_connections_are_retried() {
    let dir = temp_dir("5xx");
    let input = dir.join("in.log");
    write_lines(&input, (0..30).map(|i| fxa_line(i, 5))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    fake.script([
        Fault::Status(500, r#"{"code":500,"error":"boom"}"#.to_owned()),
        Fault::Close,
        Fault::Slow(Duration::from_millis(800)),
        Fault::Status(503, "{}".to_owned()),
        Fault::Status(302, "{}".to_owned()),
    ]);
    let mut config = config(&fake, &dir, &input);
    config.timeout_ms = 400;
    let summary = common::send(&config, Duration::from_secs(60)).expect("delivered");
    assert_eq!(summary.sent, 45);
    assert!(summary.retried >= 5 * 45, "{summary:?}");
    let events = fake.events();
    let mut order = lines_of(&events);
    // The slow answer may have been ingested before the client gave up: a duplicate with the
    // same insert_id, which Amplitude drops.
    order.dedup();
    assert_eq!(order, (0..30).collect::<Vec<_>>());
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_outage_is_waited_out_without_losing_events() {
    let dir = temp_dir("down");
    let input = dir.join("in.log");
    write_lines(&input, (0..30).map(|i| fxa_line(i, 5))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    fake.down_for(Duration::from_millis(500));
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    assert_eq!(summary.sent, 45);
    assert_eq!(lines_of(&fake.events()), (0..30).collect::<Vec<_>>());
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn daily_quota_events_are_dead_lettered() {
    let dir = temp_dir("quota");
    let input = dir.join("in.log");
    write_lines(&input, (0..10).map(|i| fxa_line(i, 2))).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    fake.exceed_quota("device-00000000000000000000000001");
    let summary =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect("delivered");
    // Device 1 has the odd lines, which carry no $identify record.
    assert_eq!(
        (summary.sent, summary.dead_lettered),
        (10, 5),
        "{summary:?}"
    );
    assert_eq!(lines_of(&fake.events()), vec![0, 2, 4, 6, 8]);
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_refused_api_key_stops_without_moving_the_checkpoint() {
    let dir = temp_dir("key");
    let input = dir.join("in.log");
    write_lines(&input, (0..10).map(|i| fxa_line(i, 2))).expect("writable");
    let fake = FakeAmplitude::start("another-key", true).expect("loopback");
    let err =
        common::send(&config(&fake, &dir, &input), Duration::from_secs(60)).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "amplitude refused the request (400): Invalid API key"
    );
    assert!(!dir.join("state/checkpoint.json").exists());
    assert!(fake.events().is_empty());
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_line_over_the_limit_is_dead_lettered_with_its_start_and_the_rest_delivered() {
    let dir = temp_dir("too-long");
    let input = dir.join("in.log");
    let long = format!("{{\"padding\":\"{}\"}}", "x".repeat(5_000));
    let lines = vec![fxa_line(0, 7), long.clone(), fxa_line(1, 7)];
    write_lines(&input, lines.clone()).expect("writable");
    let fake = FakeAmplitude::start(API_KEY, true).expect("loopback");
    let mut config = config(&fake, &dir, &input);
    config.max_line_bytes = 1_000;
    let summary = common::send(&config, Duration::from_secs(60)).expect("delivered");
    assert_eq!((summary.lines, summary.dead_lettered), (3, 1));
    assert_eq!(lines_of(&fake.events()), vec![0, 1]);
    let dead = fs::read_to_string(config.dead_letter_path()).expect("a dead-letter file");
    let record: Value = serde_json::from_str(dead.trim_end()).expect("one JSON record");
    assert_eq!(record["offset"], lines[0].len() + 1, "{record}");
    assert_eq!(
        record["line"].as_str(),
        Some(&long[..1_000]),
        "the line's kept start"
    );
    assert!(
        record["reason"]
            .as_str()
            .is_some_and(|r| r.contains("1000")),
        "{record}"
    );
}
