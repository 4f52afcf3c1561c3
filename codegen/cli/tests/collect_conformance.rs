//! `metricsmith collect` on every case of the collector corpus
//! (../shared/conformance/collector/, recorded from fxa-content-server 1.134.0 and
//! fxa-payments-server 1.148.4): status, response text, stderr lines and mozlog lines are
//! compared exactly, apart from the deviations listed in [`Deviation`], each asserted to be
//! what the port does instead.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Map, Value};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/collector")
        .join(name)
}

fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schema/fxa")
        .join(name)
}

/// The content server's `oauth_client_id_map` of the recordings.
const CLIENTS: &str =
    r#"{"0":"amo","1":"pocket","dcdb5ae7add825d2":"123done","5882386c6d801776":"fx-monitor"}"#;

/// Where today's uap-core (in crate `metricsmith-enrich`) derives another browser, OS or form
/// factor than the 2019 regexes the corpus was recorded with: the table
/// `UAP_CORE_DIFFERENCES` of enrich/tests/corpus.rs, one place for both tests, read here.
/// Each entry is (case id, data-bag field, today's value).
fn uap_core_differences() -> Vec<(String, String, Option<String>)> {
    let text = include_str!("../../../enrich/tests/corpus.rs");
    let start = text
        .find("const UAP_CORE_DIFFERENCES")
        .expect("enrich/tests/corpus.rs declares UAP_CORE_DIFFERENCES");
    let body = &text[start..];
    let body = &body[body.find("= &[").expect("a slice") + 4..body.find("\n];").expect("its end")];
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0, false, 0);
    for (i, c) in body.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => {
                if depth == 0 {
                    start = i + 1;
                }
                depth += 1;
            }
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    // (case id, field, 2019 value, today's value, reason)
                    let items: Vec<&str> = split_top(&body[start..i])
                        .into_iter()
                        .map(str::trim)
                        .collect();
                    let unquote = |s: &str| s.trim_matches('"').to_owned();
                    let value = items[3]
                        .strip_prefix("Some(")
                        .and_then(|v| v.strip_suffix(')'))
                        .map(unquote);
                    out.push((unquote(items[0]), unquote(items[1]), value));
                }
            }
            _ => {}
        }
    }
    assert!(
        out.len() >= 30,
        "{} UAP_CORE_DIFFERENCES entries read",
        out.len()
    );
    out
}

/// Splits at commas outside quotes and parentheses.
fn split_top(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Where each data-bag field lands in an amplitude line: top-level field, or inside
/// `user_properties`.
fn amplitude_key(field: &str) -> (&'static str, bool) {
    match field {
        "browser" => ("ua_browser", true),
        "browserVersion" => ("ua_version", true),
        "os" => ("os_name", false),
        "osVersion" => ("os_version", false),
        _ => ("device_model", false),
    }
}

/// For a case of [`uap_core_differences`]: asserts the port's amplitude lines carry today's
/// values, then takes them (in the port's key order) into `expected`.
fn apply_uap_core(
    id: &str,
    differences: &[(String, String, Option<String>)],
    expected: &mut Value,
    got: &Value,
) -> bool {
    let mine: Vec<_> = differences.iter().filter(|(d, _, _)| d == id).collect();
    if mine.is_empty() {
        return false;
    }
    let got_log = got["log"].as_array().cloned().unwrap_or_default();
    for (line, port) in expected["log"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .zip(&got_log)
    {
        if line["op"] != "amplitudeEvent" {
            continue;
        }
        let (Some(e), Some(g)) = (
            line.get_mut("fields").and_then(Value::as_object_mut),
            port["fields"].as_object(),
        ) else {
            continue;
        };
        for (_, field, value) in &mine {
            let (key, nested) = amplitude_key(field);
            let port_value = if nested {
                let props: Map<String, Value> = g
                    .get("user_properties")
                    .and_then(Value::as_str)
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default();
                props.get(key).and_then(Value::as_str).map(str::to_owned)
            } else {
                g.get(key).and_then(Value::as_str).map(str::to_owned)
            };
            assert_eq!(&port_value, value, "{id}: {key} is today's uap-core value");
            if nested {
                let mut props: Map<String, Value> = e
                    .get("user_properties")
                    .and_then(Value::as_str)
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default();
                let port_props: Map<String, Value> = g
                    .get("user_properties")
                    .and_then(Value::as_str)
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default();
                props.shift_remove(key);
                if let Some(v) = value {
                    props.insert(key.to_owned(), Value::from(v.clone()));
                }
                let props = in_order_of(&props, &port_props);
                let text = metricsmith::mozlog::to_js_json(&Value::Object(props));
                e.insert("user_properties".to_owned(), Value::String(text));
            } else {
                e.shift_remove(key);
                if let Some(v) = value {
                    e.insert(key.to_owned(), Value::from(v.clone()));
                }
                *e = in_order_of(e, g);
            }
        }
    }
    true
}

/// `map`'s entries, those that `order` has in its order first, then the others.
fn in_order_of(map: &Map<String, Value>, order: &Map<String, Value>) -> Map<String, Value> {
    let mut out: Map<String, Value> = order
        .keys()
        .filter_map(|k| map.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    for (k, v) in map {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Every way the port differs from a recording on purpose, with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deviation {
    /// README deviation 1: a transport error that FxA's stack turned into a 500 page (invalid
    /// JSON under a JSON type, a strict-mode non-object, a body over the limit) answers the
    /// proper 4xx with a JSON body and one `request.failed` log line, and writes nothing else.
    TransportError,
    /// README deviation 3: the V8 text of a `JSON.parse` error is opaque; the op keeps FxA's
    /// `server.post-metrics.SyntaxError: ` prefix followed by serde_json's message.
    V8Message,
    /// README deviation 4: a payments group found through the JavaScript prototype chain, or
    /// the `email` group, is a group that does not exist: no event, no 500.
    MissingGroup,
}

/// The deviating cases by id (README "What a port does differently, on purpose").
/// The payments log's body (deviation 5) is handled for every 400 in `compare_validation`.
const DEVIATIONS: &[(&str, Deviation)] = &[
    ("c-transport-030", Deviation::TransportError),
    ("c-transport-033", Deviation::TransportError),
    ("c-transport-034", Deviation::TransportError),
    ("c-transport-036", Deviation::TransportError),
    ("p-transport-017", Deviation::TransportError),
    ("c-transport-016", Deviation::V8Message),
    ("p-event-008", Deviation::MissingGroup),
    ("p-name-019", Deviation::MissingGroup),
];

fn run(file: &str, schema_file: &str, version: &str) -> (Vec<Value>, Vec<Value>) {
    let text = std::fs::read_to_string(corpus(file)).expect("the corpus is readable");
    let cases: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a corpus line is JSON"))
        .collect();
    let mut input = String::new();
    for case in &cases {
        let line = serde_json::json!({
            "request": case["request"],
            "received_at": case["received_at"],
            "location": case["location"],
        });
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let dir = std::env::temp_dir().join(format!("metricsmith-collect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let clients = dir.join("clients.json");
    std::fs::write(&clients, CLIENTS).expect("clients file");
    let output = Command::cargo_bin("metricsmith")
        .expect("the binary is built")
        .args(["collect", "--schema"])
        .arg(schema(schema_file))
        .arg("--oauth-clients")
        .arg(&clients)
        .args(["--flow-key", "S3CR37", "--flow-expiry-ms", "7200000"])
        .args([
            "--max-event-offset-ms",
            "172800000",
            "--service-version",
            version,
        ])
        .write_stdin(input)
        .output()
        .expect("collect runs");
    assert!(
        output.status.success(),
        "collect failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let got: Vec<Value> = String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("an output line is JSON"))
        .collect();
    assert_eq!(got.len(), cases.len(), "one output line per request");
    (cases, got)
}

/// For a payments celebrate 400 (README deviation 5): FxA logged the JSON of celebrate 10's
/// error, which holds the whole posted body (`_object`); the port logs
/// `ValidationError: <message>`, the message of the 400 body, and never the body. The 400 body
/// itself, and the content server's logged `err`, are compared as recorded: the port writes
/// Joi 10's wording (README deviation 2 would allow its own, it is not needed).
fn compare_validation(id: &str, expected: &mut Value, got: &Value) {
    let answer: Value =
        serde_json::from_str(got["response_text"].as_str().unwrap_or("")).unwrap_or(Value::Null);
    let got_log = got["log"].as_array().cloned().unwrap_or_default();
    for (line, port) in expected["log"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .zip(got_log)
    {
        let recorded = line["fields"]["err"].as_str().unwrap_or("");
        if line["op"] == "server.main.validation.failed" && recorded.starts_with("{\"joi\"") {
            let err = port["fields"]["err"].as_str().unwrap_or("");
            let message = answer["message"].as_str().unwrap_or("");
            assert_eq!(err, format!("ValidationError: {message}"), "{id}");
            assert!(
                recorded.contains("_object") && !err.contains("_object"),
                "{id}"
            );
            line["fields"]["err"] = port["fields"]["err"].clone();
        }
    }
}

fn check(file: &str, schema_file: &str, version: &str) -> usize {
    let (cases, got) = run(file, schema_file, version);
    let differences = uap_core_differences();
    let mut failures = Vec::new();
    let mut exact = 0;
    let mut uap_core = 0;
    for (case, got) in cases.iter().zip(got) {
        let id = case["id"].as_str().unwrap_or("?");
        let recorded = &case["expected"];
        let mut expected = serde_json::json!({
            "status": recorded["status"],
            "response_text": recorded["response_text"],
            "stderr": recorded["stderr"],
            "log": recorded["log"],
        });
        if let Some((_, deviation)) = DEVIATIONS.iter().find(|(d, _)| *d == id) {
            assert_deviation(id, *deviation, &expected, &got);
            continue;
        }
        compare_validation(id, &mut expected, &got);
        if apply_uap_core(id, &differences, &mut expected, &got) {
            uap_core += 1;
        }
        // Compared as text: key order counts.
        if as_text(&expected) == as_text(&got) {
            exact += 1;
        } else {
            failures.push(format!("{id}:\n  expected {expected}\n  got      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    let listed = differences
        .iter()
        .filter(|(id, _, _)| id.starts_with(&file[..1]))
        .map(|(id, _, _)| id)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    assert_eq!(
        uap_core, listed,
        "every listed user-agent difference is a case of {file}"
    );
    eprintln!(
        "{file}: {exact} of {} cases equal; {} deliberate deviations; {uap_core} compared with \
         today's uap-core values",
        cases.len(),
        DEVIATIONS
            .iter()
            .filter(|(id, _)| id.starts_with(&file[..1]))
            .count()
    );
    exact
}

fn assert_deviation(id: &str, deviation: Deviation, expected: &Value, got: &Value) {
    match deviation {
        Deviation::TransportError => {
            let status = got["status"].as_u64().unwrap_or(0);
            assert!(matches!(status, 400 | 413 | 415), "{id}: status {status}");
            let body: Value = serde_json::from_str(got["response_text"].as_str().unwrap_or(""))
                .expect("a JSON error body");
            assert_eq!(body["statusCode"].as_u64(), Some(status), "{id}");
            let log = got["log"].as_array().expect("log");
            assert_eq!(log.len(), 1, "{id}: one log line");
            assert!(
                log[0]["op"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with(".request.failed"),
                "{id}: {}",
                log[0]["op"]
            );
            assert_eq!(got["stderr"], serde_json::json!([]), "{id}: no stderr line");
            let recorded = expected["response_text"].as_str().unwrap_or("");
            if recorded.contains("too large") || recorded.contains("Payload Too Large") {
                assert_eq!(status, 413, "{id}");
            }
        }
        Deviation::V8Message => {
            let mut expected = expected.clone();
            let (e, g) = (&expected["log"][0], &got["log"][0]);
            let prefix = "server.post-metrics.SyntaxError: ";
            assert!(e["op"].as_str().unwrap_or("").starts_with(prefix), "{id}");
            assert!(g["op"].as_str().unwrap_or("").starts_with(prefix), "{id}");
            assert_eq!(e["severity"], g["severity"], "{id}");
            expected["log"][0] = got["log"][0].clone();
            compare_validation(id, &mut expected, got);
            assert_eq!(&expected, got, "{id}");
        }
        Deviation::MissingGroup => {
            assert_eq!(got["status"], 200, "{id}");
            assert_eq!(got["response_text"], "", "{id}");
            assert_eq!(
                got["log"],
                serde_json::json!([]),
                "{id}: no amplitude event"
            );
            assert_eq!(got["stderr"], serde_json::json!([]), "{id}");
        }
    }
}

#[test]
fn content_cases_match_the_recordings() {
    let exact = check(
        "content-post-metrics.jsonl",
        "content-server.yaml",
        "1.134.0",
    );
    assert!(exact >= 370, "{exact} content cases equal");
}

#[test]
fn payments_cases_match_the_recordings() {
    let exact = check(
        "payments-post-metrics.jsonl",
        "payments-server.yaml",
        "1.148.4",
    );
    assert!(exact >= 100, "{exact} payments cases equal");
}

/// The JSON text of a value, in its key order (`Value`'s `==` ignores the order of keys).
fn as_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
