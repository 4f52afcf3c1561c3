//! `metricsmith map` end to end: the whole conformance corpus through the binary.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use metricsmith_tests::{APP_VERSION, NOW_MS, read_cases};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn map_command(schema: &str) -> Command {
    let mut cmd = Command::cargo_bin("metricsmith").unwrap();
    // One file per call: tests run on parallel threads and must not read a file another
    // test is still writing.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let clients = std::env::temp_dir().join(format!(
        "metricsmith-clients-{}-{call}.json",
        std::process::id()
    ));
    let map: serde_json::Map<String, Value> = metricsmith_tests::oauth_clients()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    std::fs::write(&clients, serde_json::to_string(&map).unwrap()).unwrap();
    cmd.current_dir(repo()).args([
        "map",
        "--schema",
        schema,
        "--oauth-clients",
        clients.to_str().unwrap(),
        "--app-version",
        APP_VERSION,
        "--now",
        &NOW_MS.to_string(),
    ]);
    cmd
}

/// The input lines of a corpus file for `metricsmith map`.
fn corpus_input(file: &str) -> String {
    read_cases(file)
        .iter()
        .map(|c| {
            let line = serde_json::json!({"event": c.input.event, "data": c.input.data});
            format!("{}\n", serde_json::to_string(&line).unwrap())
        })
        .collect()
}

#[test]
fn threads_write_what_one_thread_writes_in_input_order() {
    // Several 1 MiB blocks, with bad lines among them, so workers finish out of order.
    let corpus = corpus_input("amplitude-auth.jsonl");
    let mut input = String::new();
    for i in 0..12 {
        input.push_str(&corpus);
        input.push_str(&format!("not json {i}\n"));
    }
    let run = |threads: &str| {
        let output = map_command("schema/fxa/auth-server.yaml")
            .args(["--threads", threads])
            .write_stdin(input.clone())
            .assert()
            .success();
        String::from_utf8(output.get_output().stdout.clone()).unwrap()
    };
    let one = run("1");
    assert_eq!(one.lines().count(), input.lines().count());
    let bad = one.lines().nth(corpus.lines().count()).unwrap();
    assert!(bad.starts_with(r#"{"error":"invalid JSON"#), "{bad}");
    for threads in ["2", "3"] {
        assert!(
            run(threads) == one,
            "--threads {threads} differs from one thread"
        );
    }
}

#[test]
fn a_line_over_the_limit_yields_an_error_line_and_the_next_lines_are_mapped() {
    let good = "{\"event\":{\"type\":\"account.login\",\"time\":5},\"data\":{\"uid\":\"u\"}}\n";
    let long = format!("{{\"event\":{{\"type\":\"{}\"}}}}\n", "x".repeat(500));
    let input = format!("{good}{long}{good}");
    for threads in ["1", "2"] {
        let output = map_command("schema/fxa/auth-server.yaml")
            .args(["--max-line", "200", "--threads", threads])
            .write_stdin(input.clone())
            .assert()
            .success();
        let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{stdout}");
        assert_eq!(lines[0], lines[2]);
        assert!(lines[0].contains("fxa_login - success"));
        assert_eq!(
            lines[1],
            r#"{"error":"line longer than 200 bytes: skipped"}"#
        );
    }
}

/// Pipes every case of a corpus file through `metricsmith map` and compares each output line
/// with the events the service would log.
#[track_caller]
fn check_corpus(file: &str, schema: &str) {
    let cases = read_cases(file);
    let input: String = cases
        .iter()
        .map(|c| {
            let line = serde_json::json!({"event": c.input.event, "data": c.input.data});
            format!("{}\n", serde_json::to_string(&line).unwrap())
        })
        .collect();
    let output = map_command(schema).write_stdin(input).assert().success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), cases.len(), "one output line per input line");
    let mut failures = Vec::new();
    let mut passed = 0;
    for (case, line) in cases.iter().zip(&lines) {
        if case.is_js_quirk() {
            continue;
        }
        let want = format!("[{}]", case.logged_output().join(","));
        if *line == want {
            passed += 1;
        } else {
            failures.push(format!("{}\n  want {want}\n  got  {line}", case.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{file}: {passed} cases passed through `metricsmith map`");
}

#[test]
fn auth_corpus_through_the_binary() {
    check_corpus("amplitude-auth.jsonl", "schema/fxa/auth-server.yaml");
}

#[test]
fn content_corpus_through_the_binary() {
    check_corpus("amplitude-content.jsonl", "schema/fxa/content-server.yaml");
}

#[test]
fn a_repeated_key_counts_with_its_last_value_as_in_json_parse() {
    // The same event written plainly, then with `event`, `type`, `time` and `data` repeated
    // (the earlier values must lose), then with extra keys around them.
    let input = concat!(
        "{\"event\":{\"type\":\"account.login\",\"time\":5},\"data\":{\"uid\":\"u\"}}\n",
        "{\"event\":{\"type\":\"x\"},\"data\":{\"uid\":\"other\"},",
        "\"event\":{\"type\":\"flow.x\",\"type\":\"account.login\",\"time\":1,\"time\":5},",
        "\"data\":{\"uid\":\"u\"}}\n",
        "{\"a\":1,\"event\":{\"b\":[],\"type\":\"account.login\",\"time\":5,\"c\":{}},",
        "\"data\":{\"uid\":\"u\"},\"z\":null}\n",
    );
    let output = map_command("schema/fxa/auth-server.yaml")
        .write_stdin(input)
        .assert()
        .success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].contains("fxa_login - success"), "{}", lines[0]);
    assert_eq!(lines[1], lines[0]);
    assert_eq!(lines[2], lines[0]);
}

#[test]
fn a_bad_line_yields_an_error_line_and_processing_continues() {
    let input = concat!(
        "{\"event\":{\"type\":\"account.login\",\"time\":5},\"data\":{\"uid\":\"u\"}}\n",
        "not json\n",
        "[1,2]\n",
        "{\"event\":\"account.login\",\"data\":{}}\n",
        "{\"event\":{\"type\":\"account.login\",\"time\":5},\"data\":{\"uid\":\"u\"}}\n",
    );
    let output = map_command("schema/fxa/auth-server.yaml")
        .write_stdin(input)
        .assert()
        .success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0], lines[4]);
    assert_eq!(lines[0][0]["event_type"], "fxa_login - success");
    for bad in &lines[1..4] {
        assert!(
            bad["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{bad}"
        );
    }
}

#[test]
fn mozlog_format_writes_complete_lines() {
    let input = "{\"event\":{\"type\":\"account.login\",\"time\":5},\"data\":{\"uid\":\"u\",\"experiments\":[{\"choice\":\"a\",\"group\":\"b\"}]}}\n";
    let output = map_command("schema/fxa/auth-server.yaml")
        .arg("--format")
        .arg("mozlog")
        .write_stdin(input)
        .assert()
        .success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    let line: Value = serde_json::from_str(stdout.trim_end()).unwrap();
    let record = &line[0];
    let keys: Vec<&str> = record
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "Timestamp",
            "Logger",
            "Type",
            "Severity",
            "Pid",
            "EnvVersion",
            "Fields"
        ]
    );
    assert_eq!(
        record["Timestamp"],
        serde_json::json!(NOW_MS as u64 * 1_000_000)
    );
    assert_eq!(record["Logger"], "fxa-auth-server");
    assert_eq!(record["Type"], "amplitudeEvent");
    assert_eq!(record["Severity"], 6);
    assert_eq!(
        record["Fields"]["user_properties"],
        "{\"$append\":{\"experiments\":[\"a_b\"]}}"
    );
}

#[test]
fn an_entry_file_with_errors_is_reported_with_its_location() {
    let dir = std::env::temp_dir().join(format!("metricsmith-map-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "metricsmith: 1\nservice: x\namplitude:\n  rules:\n    - pattern: '('\n      group: nope\n      event: x\n").unwrap();
    let output = map_command(file.to_str().unwrap())
        .write_stdin("")
        .assert()
        .code(2);
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("bad.yaml:5:"), "{stderr}");
    // The report as `check` prints it, not wrapped in a second `error:`.
    assert!(stderr.starts_with("error["), "{stderr}");
    assert!(!stderr.contains("error: error"), "{stderr}");
}
