//! Every case of ../shared/conformance through metricsmith (tests/conformance/README.md).

use std::path::Path;

use metricsmith::amplitude::Mapping;
use metricsmith_tests::{check_file, read_cases, run};

/// Cases that deliberately differ from the JavaScript, by id, with the reason. Empty: every
/// case that is not a JavaScript quirk (`-proto-`, `js_error`) must pass.
const DEVIATIONS: &[(&str, &str)] = &[];

fn repo_path(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The mapping of an FxA service loaded from its YAML at run time (what `metricsmith map` does).
fn loaded(entry: &str) -> Mapping {
    metricsmith_cli::schema::load_mapping(&repo_path(entry))
        .unwrap_or_else(|err| panic!("{entry}: {err}"))
        .1
}

#[track_caller]
fn assert_all_pass(file: &str, mapping: &Mapping, how: &str) {
    let (passed, failed, report) = check_file(file, mapping, DEVIATIONS);
    assert_eq!(failed, 0, "{file} via {how}:\n{report}");
    assert!(passed > 400, "{file}: only {passed} cases ran");
    println!("{file} via {how}: {passed} passed, {failed} failed");
}

#[test]
fn auth_corpus_through_the_loaded_schema() {
    assert_all_pass(
        "amplitude-auth.jsonl",
        &loaded("schema/fxa/auth-server.yaml"),
        "the loaded schema",
    );
}

#[test]
fn content_corpus_through_the_loaded_schema() {
    assert_all_pass(
        "amplitude-content.jsonl",
        &loaded("schema/fxa/content-server.yaml"),
        "the loaded schema",
    );
}

#[test]
fn auth_corpus_through_the_generated_crate() {
    assert_all_pass(
        "amplitude-auth.jsonl",
        metricsmith_fxa::auth_server::mapping(),
        "the generated crate",
    );
}

#[test]
fn content_corpus_through_the_generated_crate() {
    assert_all_pass(
        "amplitude-content.jsonl",
        metricsmith_fxa::content_server::mapping(),
        "the generated crate",
    );
}

/// The generated mapping and the loaded one are the same data.
#[test]
fn generated_and_loaded_mappings_agree() {
    for (entry, generated) in [
        (
            "schema/fxa/auth-server.yaml",
            metricsmith_fxa::auth_server::mapping(),
        ),
        (
            "schema/fxa/content-server.yaml",
            metricsmith_fxa::content_server::mapping(),
        ),
        (
            "schema/fxa/oauth-server.yaml",
            metricsmith_fxa::oauth_server::mapping(),
        ),
        (
            "schema/fxa/payments-server.yaml",
            metricsmith_fxa::payments_server::mapping(),
        ),
    ] {
        assert_eq!(generated.spec(), loaded(entry).spec(), "{entry}");
    }
}

/// The quirk cases are not reproduced; the port's own behaviour for them is pinned here
/// (see the table in tests/conformance/README.md).
#[test]
fn js_quirk_cases_follow_the_documented_port_behaviour() {
    let auth = loaded("schema/fxa/auth-server.yaml");
    let content = loaded("schema/fxa/content-server.yaml");
    let mut seen = 0;
    for (file, mapping) in [
        ("amplitude-auth.jsonl", &auth),
        ("amplitude-content.jsonl", &content),
    ] {
        for case in read_cases(file).iter().filter(|c| c.is_js_quirk()) {
            seen += 1;
            let got = run(mapping, case);
            let data = &case.input.data;
            let bad_experiment = data
                .get("experiments")
                .and_then(|e| e.as_array())
                .is_some_and(|items| {
                    items.iter().any(|i| {
                        !(i.get("choice").is_some_and(|c| c.is_string())
                            && i.get("group").is_some_and(|g| g.is_string()))
                    })
                });
            let proto_service = data
                .get("service")
                .and_then(|s| s.as_str())
                .is_some_and(|s| {
                    [
                        "constructor",
                        "toString",
                        "valueOf",
                        "hasOwnProperty",
                        "__proto__",
                    ]
                    .contains(&s)
                });
            if bad_experiment {
                // The event is kept; malformed experiments are skipped.
                assert_eq!(got.events.len(), 1, "{}: {:?}", case.id, got.events);
                let event: serde_json::Value = serde_json::from_str(&got.events[0]).unwrap();
                let experiments = &event["user_properties"]["$append"]["experiments"];
                let valid = data["experiments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["choice"].is_string() && i["group"].is_string())
                    .count();
                assert_eq!(
                    experiments.as_array().map_or(0, Vec::len),
                    valid,
                    "{}: {event}",
                    case.id
                );
            } else if proto_service {
                // An unknown client id: named `undefined_oauth`, raw id kept.
                assert_eq!(got.events.len(), 1, "{}", case.id);
                let event: serde_json::Value = serde_json::from_str(&got.events[0]).unwrap();
                assert_eq!(
                    event["event_properties"]["service"], "undefined_oauth",
                    "{}",
                    case.id
                );
                assert_eq!(
                    event["event_properties"]["oauth_client_id"],
                    data["service"]
                );
            } else {
                // A prototype member as a name, group key, view or template: a plain miss.
                assert!(got.events.is_empty(), "{}: {:?}", case.id, got.events);
            }
        }
    }
    assert_eq!(seen, 13, "the corpus holds 13 quirk cases");
}
