//! Every flow-id case of ../shared/conformance through the `metricsmith flow-id` binary.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use serde_json::Value;

fn cases(file: &str) -> Vec<Value> {
    let path = metricsmith_tests::corpus_dir().join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn stdout(args: &[String]) -> String {
    let output = Command::cargo_bin("metricsmith")
        .unwrap()
        .args(args)
        .assert()
        .success();
    String::from_utf8(output.get_output().stdout.clone())
        .unwrap()
        .trim_end()
        .to_owned()
}

fn text(case: &Value, key: &str) -> String {
    match &case[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn every_signing_case_prints_the_javascript_flow_id() {
    let cases = cases("flow-id.jsonl");
    assert_eq!(cases.len(), 100);
    for case in &cases {
        let args = [
            "flow-id".to_owned(),
            "sign".to_owned(),
            format!("--key={}", text(case, "key")),
            format!("--salt={}", text(case, "salt_hex")),
            format!("--begin={}", text(case, "flow_begin_time_ms")),
        ];
        assert_eq!(stdout(&args), text(case, "flow_id"), "{}", case["id"]);
    }
}

#[test]
fn every_validation_case_prints_the_javascript_result() {
    let cases = cases("flow-id-validate.jsonl");
    assert_eq!(cases.len(), 33);
    for case in &cases {
        let args = [
            "flow-id".to_owned(),
            "verify".to_owned(),
            format!("--key={}", text(case, "key")),
            format!("--flow-id={}", text(case, "flow_id")),
            format!("--begin={}", text(case, "flow_begin_time_ms")),
            format!("--now={}", text(case, "now_ms")),
            format!("--expiry={}", text(case, "expiry_ms")),
        ];
        let want = serde_json::json!({"valid": case["valid"], "reason": case["reason"]});
        assert_eq!(
            stdout(&args),
            serde_json::to_string(&want).unwrap(),
            "{}",
            case["id"]
        );
    }
}
