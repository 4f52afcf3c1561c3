//! `metricsmith live-check` end to end: real amplitude lines of the conformance corpora pass,
//! each kind of violation is counted with its line, examples stay bounded, exit codes.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use metricsmith_tests::read_cases;
use serde_json::{Value, json};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn live_check(schema: &str, args: &[&str], stdin: &str) -> (i32, String) {
    let out = Command::cargo_bin("metricsmith")
        .unwrap()
        .current_dir(repo())
        .args(["live-check", "--schema", schema])
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    (out.status.code().unwrap(), text)
}

/// Every amplitude line the services of the corpora logged is one the mapping can produce.
#[test]
fn conformance_amplitude_lines_pass() {
    for (file, schema, logger) in [
        (
            "amplitude-auth.jsonl",
            "schema/fxa/auth-server.yaml",
            "fxa-auth-server",
        ),
        (
            "amplitude-content.jsonl",
            "schema/fxa/content-server.yaml",
            "fxa-content-server",
        ),
    ] {
        let mut input = String::new();
        let mut count = 0;
        for case in read_cases(file) {
            for fields in &case.mozlog_fields {
                let line = json!({"Timestamp": 1_551_700_123_460_000_000_u64, "Logger": logger, "Type": "amplitudeEvent", "Severity": 6, "Pid": 1, "EnvVersion": "2.0", "Fields": fields});
                input.push_str(&format!("{line}\n"));
                count += 1;
            }
        }
        assert!(count > 20, "{file}: {count} lines");
        let (code, text) = live_check(schema, &["--format", "json"], &input);
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(code, 0, "{file}: {text}");
        assert_eq!(json["checked"], count, "{file}: {text}");
        assert_eq!(json["violations"], json!([]), "{file}");
    }
}

#[test]
fn violations_are_counted_with_their_lines() {
    let log =
        std::fs::read_to_string(repo().join("codegen/cli/tests/fixtures/live-check-auth.log"))
            .unwrap();
    let (code, text) = live_check("schema/fxa/auth-server.yaml", &[], &log);
    assert_eq!(code, 1, "{text}");
    insta::assert_snapshot!("live_check_auth", text);
}

#[test]
fn clean_lines_exit_0_and_files_count_lines_on() {
    let line = r#"{"Timestamp":1,"Logger":"fxa-auth-server","Type":"activityEvent","Severity":6,"Pid":1,"EnvVersion":"2.0","Fields":{"event":"account.login","uid":"0123456789abcdef0123456789abcdef","country":"France"}}"#;
    let (code, text) = live_check(
        "schema/fxa/auth-server.yaml",
        &["-"],
        &format!("{line}\n{line}\n"),
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.ends_with("2 lines: 2 checked, 0 skipped, 0 with violations\n"),
        "{text}"
    );
    // Two files: the second file's line numbers follow the first's.
    let dir = std::env::temp_dir().join(format!("metricsmith-live-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.log"), dir.join("b.log"));
    std::fs::write(&a, format!("{line}\n{line}\n")).unwrap();
    std::fs::write(&b, "not json\n").unwrap();
    let (code, text) = live_check(
        "schema/fxa/auth-server.yaml",
        &[a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"],
        "",
    );
    assert_eq!(code, 1, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["violations"][0]["code"], "not-json");
    assert_eq!(json["violations"][0]["examples"][0]["line"], 3);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn examples_stay_bounded_whatever_the_input() {
    let input = "x\n".repeat(10_000);
    let (code, text) = live_check(
        "schema/fxa/auth-server.yaml",
        &["--format", "json", "--examples", "2"],
        &input,
    );
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["violations"][0]["count"], 10_000);
    assert_eq!(
        json["violations"][0]["examples"].as_array().unwrap().len(),
        2
    );
    assert_eq!(json["bad_lines"], 10_000);
}

#[test]
fn lines_over_the_limit_are_violations_and_the_next_lines_are_read() {
    let long = format!("{{\"a\":\"{}\"}}\n", "x".repeat(2_000));
    let input = format!(
        "{long}{{\"Timestamp\":1,\"Logger\":\"fxa-auth-server\",\"Type\":\"flowEvent\",\"Fields\":{{\"event\":\"nope\"}}}}\n"
    );
    let (code, text) = live_check(
        "schema/fxa/auth-server.yaml",
        &["--max-line", "100"],
        &input,
    );
    assert_eq!(code, 1);
    assert!(text.contains("line-too-long: 1\n  line 1:"), "{text}");
    assert!(text.contains("unknown-event: 1\n  line 2:"), "{text}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _) = live_check("schema/fxa/auth-server.yaml", &["/no/such/file.log"], "");
    assert_eq!(code, 2);
    let (code, _) = live_check("schema/no-such.yaml", &[], "");
    assert_eq!(code, 2);
}

/// The content server writes its flow lines as raw JSON with `op` (FxA spec §3.4): they are
/// checked as its flow lines, and a family is chosen by its parameter types first.
#[test]
fn raw_content_server_flow_lines_are_checked() {
    let good = r#"{"country":"United States","event":"flow.signin.submit","flow_id":"1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef","flow_time":1000,"hostname":"h","locale":"en","op":"flowEvent","pid":1,"region":"California","time":"2016-11-14T12:43:18.349Z","userAgent":"bar","v":1,"service":"sync"}"#;
    let bad = r#"{"event":"flow.signin.submit","op":"flowEvent","colour":"red"}"#;
    let (code, text) = live_check(
        "schema/fxa/content-server.yaml",
        &["--format", "json"],
        &format!("{good}\n{bad}\n"),
    );
    assert_eq!(code, 1, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["checked"], 2);
    assert_eq!(json["bad_lines"], 1);
    assert_eq!(json["violations"][0]["code"], "unexpected-property");
    assert_eq!(json["violations"][0]["examples"][0]["line"], 2);
    let unseen = json["coverage"][0]["families_never_seen"]
        .as_array()
        .unwrap();
    assert!(!unseen.contains(&json!("view-submit")), "{text}");
}
