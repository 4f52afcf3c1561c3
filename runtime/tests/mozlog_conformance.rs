//! The heka `Fields` conversion against `mozlog_fields` in `shared/conformance/amplitude-*.jsonl`.

// A test crate: helpers outside #[test] fns unwrap too, and a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use metricsmith::mozlog::{self, Record, Severity};
use serde_json::Value;

fn cases(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[track_caller]
fn check_file(name: &str) -> usize {
    let mut checked = 0;
    for case in cases(name) {
        let id = case["id"].as_str().unwrap();
        // The `proto` cases show JavaScript prototype-chain lookups that the port does not copy.
        if id.contains("-proto-") {
            continue;
        }
        let outputs = case["output"].as_array().unwrap();
        let expected = case["mozlog_fields"].as_array().unwrap();
        assert_eq!(outputs.len(), expected.len(), "{id}");
        for (i, (output, want)) in outputs.iter().zip(expected).enumerate() {
            let got = mozlog::heka_fields(output.as_object().unwrap());
            let want = want.as_object().unwrap();
            assert_eq!(&got, want, "{id}[{i}]");
            assert!(got.keys().eq(want.keys()), "{id}[{i}]: key order");

            // The whole line carries the same Fields, in the same order.
            let line = mozlog::format_line(&Record {
                timestamp_ms: 1_551_700_123_460,
                logger: "fxa-auth-server",
                type_name: "amplitudeEvent",
                hostname: None,
                severity: Severity::Info,
                pid: 4242,
                fields: output.as_object(),
            });
            assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
            let parsed: Value = serde_json::from_str(&line).unwrap();
            let envelope: Vec<&str> = parsed
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                envelope,
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
            let fields = parsed["Fields"].as_object().unwrap();
            assert_eq!(fields, want, "{id}[{i}]: line");
            assert!(fields.keys().eq(want.keys()), "{id}[{i}]: line key order");
            checked += 1;
        }
    }
    checked
}

#[test]
fn heka_fields_match_auth_corpus() {
    assert!(check_file("amplitude-auth.jsonl") > 300);
}

#[test]
fn heka_fields_match_content_corpus() {
    assert!(check_file("amplitude-content.jsonl") > 300);
}
