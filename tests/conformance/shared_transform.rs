//! Spec §8.1: fxa-shared's own test mapper, written in YAML (tests/schemas/shared-test.yaml),
//! against the cases of its test/metrics/amplitude.js (tests/schemas/shared-test.cases.jsonl).
//!
//! S12 and S13 are 2020 additions (snake-cased newsletters, product and plan ids) outside the
//! 2019 transform that metricsmith reproduces; they are not in the case file.

use std::path::Path;

use metricsmith::amplitude::{Env, OauthClients, SourceEvent};
use serde_json::Value;

#[test]
fn shared_test_mapper_reproduces_fxa_shared_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, mapping) =
        metricsmith_cli::schema::load_mapping(&root.join("schemas/shared-test.yaml"))
            .unwrap_or_else(|err| panic!("{err}"));
    let clients: OauthClients = [("foo", "bar"), ("baz", "qux")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let env = Env {
        oauth_clients: &clients,
        app_version: None,
        now_ms: metricsmith_tests::NOW_MS,
    };
    let text = std::fs::read_to_string(root.join("schemas/shared-test.cases.jsonl")).unwrap();
    let mut count = 0;
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let event = case["event"].as_object().unwrap();
        let source = SourceEvent {
            name: event.get("type"),
            time: event.get("time"),
        };
        // FxA's transform returns nothing without a data bag.
        let got: Vec<Value> = match case.get("data") {
            Some(Value::Object(data)) => mapping
                .transform(source, data, &env)
                .into_iter()
                .map(|e| Value::Object(e.event))
                .collect(),
            _ => Vec::new(),
        };
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&case["output"]).unwrap(),
            "{}",
            case["id"]
        );
        count += 1;
    }
    assert_eq!(count, 15);
}
