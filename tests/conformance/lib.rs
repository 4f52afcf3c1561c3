//! The conformance corpus of ../shared/conformance: cases produced by running FxA's April 2019
//! JavaScript, and the harness that runs them through a compiled mapping.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use metricsmith::amplitude::{Env, Mapping, OauthClients, SourceEvent};
use serde::Deserialize;
use serde_json::{Map, Value};

/// `now` of the whole corpus (`Date.now` frozen).
pub const NOW_MS: i64 = 1_551_700_200_000;
/// `app_version` of the whole corpus.
pub const APP_VERSION: &str = "134";

/// The corpus folder, beside the repository (`../shared/conformance`).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance")
}

/// The OAuth services map of the whole corpus.
pub fn oauth_clients() -> OauthClients {
    [
        ("0", "amo"),
        ("1", "pocket"),
        ("dcdb5ae7add825d2", "123done"),
        ("5882386c6d801776", "fx-monitor"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// One amplitude case.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// `a-<group>-<n>` or `c-<group>-<n>`.
    pub id: String,
    /// What the case exercises.
    pub why: String,
    /// `{event, data}`.
    pub input: Input,
    /// The amplitude events the JavaScript produced, in JS key order.
    pub output: Vec<Map<String, Value>>,
    /// The mozlog `Fields` of each output event.
    pub mozlog_fields: Vec<Map<String, Value>>,
    /// Whether the server really logs each output event.
    pub logged: Vec<bool>,
    /// Present when the JavaScript threw.
    pub js_error: Option<String>,
}

/// A case's input.
#[derive(Debug, Clone, Deserialize)]
pub struct Input {
    /// `{type, time}`.
    pub event: Map<String, Value>,
    /// The data bag.
    pub data: Map<String, Value>,
}

impl Case {
    /// Cases that reproduce JavaScript prototype-chain or exception quirks.
    pub fn is_js_quirk(&self) -> bool {
        self.id.contains("-proto-") || self.js_error.is_some()
    }

    /// The events the service logs, as compact JSON text (key order included).
    pub fn logged_output(&self) -> Vec<String> {
        self.output
            .iter()
            .zip(&self.logged)
            .filter(|(_, logged)| **logged)
            .map(|(event, _)| metricsmith::mozlog::to_js_json(&Value::Object(event.clone())))
            .collect()
    }
}

/// Reads a corpus file.
///
/// # Panics
/// When the file is missing or a line is not a case: the corpus is a test fixture.
pub fn read_cases(file: &str) -> Vec<Case> {
    let path = corpus_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("{}:{}: {err}", path.display(), i + 1))
        })
        .collect()
}

/// What the port produced for a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Every produced event, as compact JSON text.
    pub events: Vec<String>,
    /// The heka `Fields` of every produced event.
    pub fields: Vec<Map<String, Value>>,
    /// The `logged` flag of every produced event.
    pub logged: Vec<bool>,
}

impl Outcome {
    /// The events the service logs.
    pub fn logged_events(&self) -> Vec<String> {
        self.events
            .iter()
            .zip(&self.logged)
            .filter(|(_, l)| **l)
            .map(|(e, _)| e.clone())
            .collect()
    }
}

/// Runs a case through a mapping with the corpus configuration.
pub fn run(mapping: &Mapping, case: &Case) -> Outcome {
    let clients = oauth_clients();
    let env = Env {
        oauth_clients: &clients,
        app_version: Some(APP_VERSION),
        now_ms: NOW_MS,
    };
    let source = SourceEvent {
        name: case.input.event.get("type"),
        time: case.input.event.get("time"),
    };
    let produced = mapping.transform(source, &case.input.data, &env);
    Outcome {
        events: produced
            .iter()
            .map(|e| metricsmith::mozlog::to_js_json(&Value::Object(e.event.clone())))
            .collect(),
        fields: produced
            .iter()
            .map(|e| metricsmith::mozlog::heka_fields(&e.event))
            .collect(),
        logged: produced.iter().map(|e| e.logged).collect(),
    }
}

/// Checks every case of a file against a mapping, except the listed deviations; returns the
/// number of cases that passed and a report of every failure.
pub fn check_file(
    file: &str,
    mapping: &Mapping,
    deviations: &[(&str, &str)],
) -> (usize, usize, String) {
    let deviations: HashMap<&str, &str> = deviations.iter().copied().collect();
    let mut passed = 0;
    let mut failed = 0;
    let mut report = String::new();
    for case in read_cases(file) {
        if case.is_js_quirk() || deviations.contains_key(case.id.as_str()) {
            continue;
        }
        let got = run(mapping, &case);
        let want_events: Vec<String> = case
            .output
            .iter()
            .map(|e| metricsmith::mozlog::to_js_json(&Value::Object(e.clone())))
            .collect();
        // Only the events the service logs are output; the flags themselves must agree too.
        let ok = got.logged_events() == case.logged_output()
            && got.events == want_events
            && got.logged == case.logged
            && got.fields == case.mozlog_fields;
        if ok {
            passed += 1;
        } else {
            failed += 1;
            let _ = writeln!(
                report,
                "{} ({})\n  input: {}\n  want:  {:?} logged {:?}\n  got:   {:?} logged {:?}",
                case.id,
                case.why,
                serde_json::to_string(&case.input.event).unwrap_or_default(),
                want_events,
                case.logged,
                got.events,
                got.logged
            );
        }
    }
    (passed, failed, report)
}
