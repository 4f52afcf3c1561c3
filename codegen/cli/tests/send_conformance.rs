//! `metricsmith send --dry-run` on every case of the delivery corpus
//! (../shared/conformance/delivery/pubsub-2019.jsonl, recorded from fxa-amplitude-send's
//! November 2019 `pubsub/index.js`): the events of each request come out byte for byte.
//!
//! The port differs from the recording on purpose where the original lost data (the corpus
//! README lists it): a line that crashed node is dead-lettered and the rest is still sent, so
//! for crash cases the recorded requests must be a prefix of what is sent.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/delivery/pubsub-2019.jsonl")
}

#[derive(Deserialize)]
struct Case<'a> {
    id: String,
    env: Env,
    #[serde(borrow)]
    messages: Vec<Message<'a>>,
    #[serde(default)]
    pulls: Option<serde_json::Value>,
    #[serde(borrow)]
    expected: Expected<'a>,
}

#[derive(Deserialize)]
struct Env {
    #[serde(rename = "AMPLITUDE_API_KEY")]
    api_key: String,
    #[serde(rename = "HMAC_KEY")]
    hmac_key: String,
    #[serde(rename = "IGNORED_EVENTS")]
    ignored_events: Option<String>,
    #[serde(rename = "BATCH_API_MAX_EVENTS_PER_BATCH")]
    batch: Option<String>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    data_json: Option<&'a RawValue>,
    data_raw: Option<String>,
    data_b64: Option<String>,
}

#[derive(Deserialize)]
struct Expected<'a> {
    #[serde(borrow)]
    requests: Vec<Request<'a>>,
    logs: Vec<serde_json::Value>,
    crash: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Request<'a> {
    url: String,
    #[serde(borrow)]
    body: &'a RawValue,
    body_text: Option<String>,
}

/// `parseInt(value, 10) || 1000`.
fn batch_size(value: Option<&str>) -> usize {
    let digits: String = value
        .unwrap_or("")
        .trim_start()
        .trim_start_matches(['-', '+'])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    match digits.parse::<usize>() {
        Ok(0) | Err(_) => 1000,
        Ok(n) => n,
    }
}

/// The corpus writes U+2028, U+2029 and U+0085 as `\u` escapes; node sent them raw.
fn unescape_recorder(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut backslashes = 0usize;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\\' && backslashes.is_multiple_of(2) {
            let replaced = [
                ("\\u2028", '\u{2028}'),
                ("\\u2029", '\u{2029}'),
                ("\\u0085", '\u{85}'),
            ]
            .into_iter()
            .find(|(escape, _)| rest.starts_with(escape));
            if let Some((escape, raw)) = replaced {
                out.push(raw);
                rest = &rest[escape.len()..];
                backslashes = 0;
                continue;
            }
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The `events` array's inside of a body text: `{"api_key":..,"events":[<this>]}`.
fn events_of(body: &str) -> &str {
    let start = body
        .find(",\"events\":[")
        .map_or(0, |at| at + ",\"events\":[".len());
    body.get(start..body.len().saturating_sub(2)).unwrap_or("")
}

struct Outcome {
    bodies: Vec<String>,
    dead_letters: usize,
}

fn run(case: &Case<'_>, dir: &Path) -> Outcome {
    let mut input = Vec::new();
    for (index, message) in case.messages.iter().enumerate() {
        let mut data = if let Some(json) = message.data_json {
            json.get().as_bytes().to_vec()
        } else if let Some(raw) = &message.data_raw {
            raw.as_bytes().to_vec()
        } else {
            let b64 = message.data_b64.as_deref().unwrap_or_default();
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_else(|err| panic!("{}: message {index}: {err}", case.id))
        };
        // One line per message: a trailing newline is JSON whitespace, the line terminator.
        if data.last() == Some(&b'\n') {
            data.pop();
        }
        assert!(
            !data.contains(&b'\n'),
            "{}: message {index} spans lines",
            case.id
        );
        input.extend_from_slice(&data);
        input.push(b'\n');
    }
    let input_path = dir.join(format!("{}.jsonl", case.id));
    fs::write(&input_path, &input).expect("temp dir is writable");
    let dead_letter = dir.join(format!("{}.dead-letter.jsonl", case.id));
    let url = case
        .expected
        .requests
        .first()
        .map_or("https://api.amplitude.com/batch", |r| r.url.as_str());
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("metricsmith");
    command
        .args([
            "send",
            "--dry-run",
            "--input-format",
            "stackdriver",
            "--input",
        ])
        .arg(&input_path)
        .args([
            "--hmac-key",
            &case.env.hmac_key,
            "--api-key",
            &case.env.api_key,
        ])
        .args(["--amplitude-url", url, "--batch-events"])
        .arg(batch_size(case.env.batch.as_deref()).to_string())
        .arg("--dead-letter")
        .arg(&dead_letter)
        .arg("--state")
        .arg(dir.join("state"));
    if let Some(ignored) = &case.env.ignored_events {
        let path = dir.join(format!("{}.ignored.json", case.id));
        fs::write(&path, ignored).expect("temp dir is writable");
        command.arg("--ignored-events").arg(path);
    }
    let output = command.output().expect("metricsmith runs");
    assert!(
        output.status.success(),
        "{}: {}",
        case.id,
        String::from_utf8_lossy(&output.stderr)
    );
    let prefix = format!(
        "{{\"url\":{},\"body\":",
        serde_json::to_string(url).expect("a string")
    );
    let stdout = String::from_utf8(output.stdout).expect("requests are UTF-8 here");
    let bodies = stdout
        .lines()
        .map(|line| {
            line.strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{}: not a request line: {line}", case.id))
                .to_owned()
        })
        .collect();
    let dead_letters = fs::read_to_string(&dead_letter).map_or(0, |text| text.lines().count());
    Outcome {
        bodies,
        dead_letters,
    }
}

#[test]
fn every_delivery_case_sends_the_recorded_events() {
    let text = fs::read_to_string(corpus()).expect("the shared corpus is beside the repository");
    let dir = std::env::temp_dir().join(format!(
        "metricsmith-send-conformance-{}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).expect("temp dir");
    let (mut exact, mut regrouped, mut crashes) = (0, 0, 0);
    for line in text.lines() {
        let case: Case<'_> = serde_json::from_str(line).expect("a corpus case");
        let outcome = run(&case, &dir);
        let expected: Vec<String> = case
            .expected
            .requests
            .iter()
            .map(|r| {
                r.body_text
                    .clone()
                    .unwrap_or_else(|| unescape_recorder(r.body.get()))
            })
            .collect();
        let sent_events: Vec<&str> = outcome
            .bodies
            .iter()
            .map(|b| events_of(b))
            .filter(|e| !e.is_empty())
            .collect();
        let expected_events: Vec<&str> = expected
            .iter()
            .map(|b| events_of(b))
            .filter(|e| !e.is_empty())
            .collect();
        if case.expected.crash.is_some() {
            // Node died on one line; the port dead-letters it and delivers the others.
            let sent = sent_events.join(",");
            let recorded = expected_events.join(",");
            assert!(
                sent.starts_with(&recorded),
                "{}: recorded events are not a prefix of\n{sent}\n{recorded}",
                case.id
            );
            assert!(
                outcome.dead_letters >= 1,
                "{}: the crashing line is not dead-lettered",
                case.id
            );
            crashes += 1;
            continue;
        }
        let malformed = case
            .expected
            .logs
            .iter()
            .filter(|log| log.get("type").and_then(|t| t.as_str()) == Some("event.malformed"))
            .count();
        assert_eq!(
            outcome.dead_letters, malformed,
            "{}: dead-lettered lines",
            case.id
        );
        if case.pulls.is_none() {
            // One pull: the requests are the same, body for body.
            assert_eq!(
                outcome.bodies.len(),
                expected.len(),
                "{}: request count",
                case.id
            );
            for (i, (sent, recorded)) in outcome.bodies.iter().zip(&expected).enumerate() {
                assert_eq!(sent, recorded, "{}: request {i}", case.id);
            }
            exact += 1;
        } else {
            // Several pulls: FxA cut requests where a pull ended; a file has no pulls, so only
            // the events and their order are compared.
            assert_eq!(
                sent_events.join(","),
                expected_events.join(","),
                "{}: events",
                case.id
            );
            regrouped += 1;
        }
    }
    fs::remove_dir_all(&dir).ok();
    assert_eq!((exact, regrouped, crashes), (205, 3, 12), "cases by kind");
}
