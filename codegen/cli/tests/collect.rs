//! `metricsmith collect`: its input errors and flags (the corpus runs in collect_conformance.rs).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schema/fxa")
        .join(name)
}

fn collect(schema_file: &str, input: &str) -> assert_cmd::assert::Assert {
    Command::cargo_bin("metricsmith")
        .expect("the binary is built")
        .args(["collect", "--schema"])
        .arg(schema(schema_file))
        .args(["--flow-key", "S3CR37", "--service-version", "1.148.4"])
        .write_stdin(input.to_owned())
        .assert()
}

#[test]
fn each_bad_line_gives_an_error_line_and_the_next_is_read() {
    let input = concat!(
        "not json\n",
        "{\"request\":{},\"received_at\":\"soon\"}\n",
        "{\"request\":{\"headers\":5},\"received_at\":1}\n",
        "\n",
        "{\"request\":{\"method\":\"POST\",\"path\":\"/metrics\",\"headers\":[[\"content-type\",\"text/plain\"]],",
        "\"body\":\"{\\\"data\\\":{},\\\"events\\\":[]}\"},\"received_at\":1573699277969,\"location\":null}\n",
    );
    let output = collect("payments-server.yaml", input)
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(output)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 4, "one line per non-empty input line");
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("line 1: invalid JSON")
    );
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap_or("")
            .contains("received_at")
    );
    assert!(lines[2]["error"].as_str().unwrap_or("").contains("headers"));
    assert_eq!(
        lines[3],
        serde_json::json!({"status": 200, "response_text": "", "stderr": [], "log": []})
    );
}

#[test]
fn a_schema_without_a_collector_is_refused() {
    let assert = collect("auth-server.yaml", "").code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("declares no `collector:` section"),
        "{stderr}"
    );
}

#[test]
fn the_flow_key_and_the_version_are_required() {
    Command::cargo_bin("metricsmith")
        .expect("the binary is built")
        .args(["collect", "--schema"])
        .arg(schema("content-server.yaml"))
        .assert()
        .code(2);
    let assert = Command::cargo_bin("metricsmith")
        .expect("the binary is built")
        .args(["collect", "--schema"])
        .arg(schema("content-server.yaml"))
        .args(["--flow-key", "k", "--service-version", "134"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("invalid service version `134`"), "{stderr}");
}
