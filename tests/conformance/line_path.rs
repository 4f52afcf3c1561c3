//! The shared line path on the conformance corpora: every case read from its line and mapped
//! from the parsed document gives the events of the JavaScript, and once the buffers are
//! warm a line costs no allocation.

// Test helpers: a failed unwrap is a failed test with its message.
#![allow(clippy::unwrap_used)]

use metricsmith::amplitude::{Encoding, Env, Mapping};
use metricsmith::line::{Doc, Reader};
use metricsmith::view::JsonRef;
use metricsmith_tests::{APP_VERSION, NOW_MS, oauth_clients, read_cases};

/// The corpus as `metricsmith map` input, and the expected output line of each case (`None`
/// for the JavaScript quirks, which the conformance tests cover).
fn corpus(file: &str) -> (String, Vec<Option<String>>) {
    let cases = read_cases(file);
    let input = cases
        .iter()
        .map(|c| {
            let line = serde_json::json!({"event": c.input.event, "data": c.input.data});
            format!("{}\n", serde_json::to_string(&line).unwrap())
        })
        .collect();
    let want = cases
        .iter()
        .map(|c| (!c.is_js_quirk()).then(|| format!("[{}]", c.logged_output().join(","))))
        .collect();
    (input, want)
}

/// Maps every line of `input` into `out` (one output line each), reusing every buffer.
fn map_lines(mapping: &Mapping, env: &Env<'_>, input: &str, doc: &mut Doc, out: &mut Vec<u8>) {
    let mut reader = Reader::new(input.as_bytes());
    while let Some(line) = reader.next_line().unwrap() {
        let text = std::str::from_utf8(line.text).unwrap();
        let parsed = doc.parse(text).unwrap();
        let root = parsed.root();
        let event = root.get("event").unwrap();
        let data = root.get("data").unwrap();
        mapping.transform_view_to(
            event.get("type"),
            event.get("time"),
            data,
            env,
            Encoding::Json,
            out,
        );
        out.push(b'\n');
    }
}

#[track_caller]
fn check(file: &str, mapping: &Mapping) {
    let (input, want) = corpus(file);
    let clients = oauth_clients();
    let env = Env {
        oauth_clients: &clients,
        app_version: Some(APP_VERSION),
        now_ms: NOW_MS,
    };
    let (mut doc, mut out) = (Doc::new(), Vec::new());
    map_lines(mapping, &env, &input, &mut doc, &mut out);
    let text = String::from_utf8(out.clone()).unwrap();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), want.len());
    let mut compared = 0;
    for (i, (got, want)) in got.iter().zip(&want).enumerate() {
        if let Some(want) = want {
            assert_eq!(got, want, "{file} case {}", i + 1);
            compared += 1;
        }
    }
    assert!(compared > 400, "{compared}");

    // Warm: the reader's buffer is allocated per call, so it is measured apart.
    let info = allocation_counter::measure(|| {
        out.clear();
        map_lines(mapping, &env, &input, &mut doc, &mut out);
    });
    let reader = allocation_counter::measure(|| {
        let mut reader = Reader::new(input.as_bytes());
        while reader.next_line().unwrap().is_some() {}
    });
    let lines = want.len() as u64;
    println!(
        "{file}: {} allocations for {lines} lines ({} of them the reader's buffer)",
        info.count_total, reader.count_total
    );
    // What still allocates is rare in real traffic and common in the corpus, which is made
    // of edge cases: numbers written as text (a fractional time, a numeric `service`), a
    // non-string event name, event names longer than 128 bytes.
    assert!(
        info.count_total - reader.count_total <= lines / 4,
        "{file}: {} allocations for {lines} warm lines",
        info.count_total
    );
}

#[test]
fn typical_lines_allocate_nothing_once_warm() {
    // The content server's common shapes: an exact hit, rule hits with captures, a rewrite
    // (flow.complete), a miss; string values, an integer time, experiments, devices.
    let bag = r#"{"uid":"0123456789abcdef0123456789abcdef","deviceId":"fedcba9876543210fedcba9876543210","flowId":"3e49f6120ca9277bae4702d54c15a3e5c0986c290bdf197af00cb456fec49859","flowBeginTime":1551700000000,"lang":"en-US","country":"United States","region":"California","os":"Mac OS X","osVersion":"10.14","browser":"Firefox","browserVersion":"65.0","service":"dcdb5ae7add825d2","entrypoint":"menupanel","utm_campaign":"fxa-embedded-form","flowType":"login","experiments":[{"choice":"FirstExperiment","group":"Group-Two"}],"devices":[{"lastAccessTime":1551700100000}],"marketingOptIn":true}"#;
    let names = [
        "flow.reset-password.submit",
        "screen.signin",
        "flow.signin.engage",
        "settings.change-password.success",
        "flow.complete",
        "email.verify.clicked",
        "nothing.at.all",
    ];
    let input: String = names
        .iter()
        .map(|name| {
            format!(r#"{{"event":{{"type":"{name}","time":1551700123456}},"data":{bag}}}"#) + "\n"
        })
        .collect();
    let mapping = metricsmith_fxa::content_server::mapping();
    let clients = oauth_clients();
    let env = Env {
        oauth_clients: &clients,
        app_version: Some(APP_VERSION),
        now_ms: NOW_MS,
    };
    let (mut doc, mut out) = (Doc::new(), Vec::new());
    map_lines(mapping, &env, &input, &mut doc, &mut out);
    let produced = String::from_utf8_lossy(&out).matches("event_type").count();
    assert!(produced >= 4, "{}", String::from_utf8_lossy(&out));
    let mut reader_allocations = 0;
    let info = allocation_counter::measure(|| {
        for _ in 0..10 {
            out.clear();
            map_lines(mapping, &env, &input, &mut doc, &mut out);
            // One buffer per reader: the map command makes one for its whole input.
            reader_allocations += 1;
        }
    });
    assert_eq!(
        info.count_total,
        reader_allocations,
        "allocations beyond the reader's buffer for {} warm lines",
        names.len() * 10
    );
}

#[test]
fn the_auth_corpus_through_the_line_path() {
    check(
        "amplitude-auth.jsonl",
        metricsmith_fxa::auth_server::mapping(),
    );
}

#[test]
fn the_content_corpus_through_the_line_path() {
    check(
        "amplitude-content.jsonl",
        metricsmith_fxa::content_server::mapping(),
    );
}
