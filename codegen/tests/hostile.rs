//! Hostile input: every case is rejected with a located error diagnostic, never a panic.

use std::path::PathBuf;

use metricsmith_codegen::{Code, Loader, Report};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metricsmith-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[track_caller]
fn rejected(path: &PathBuf, loader: &Loader, code: Code) -> Report {
    let report = loader
        .load(path)
        .expect_err("hostile input must be rejected");
    let diagnostic = report
        .diagnostics
        .iter()
        .find(|d| d.code == code)
        .unwrap_or_else(|| panic!("expected {code}, got:\n{report}"));
    let json = report.to_json();
    let first = &json["diagnostics"][0];
    assert!(first["line"].as_u64().expect("a line") >= 1);
    assert!(first["column"].as_u64().expect("a column") >= 1);
    assert!(report.sources.get(diagnostic.primary.span.file).is_some());
    report
}

#[test]
fn missing_file() {
    let path = scratch("missing.yaml");
    rejected(&path, &Loader::new(), Code::Io);
}

#[test]
fn directory_where_a_file_is_expected() {
    let dir = scratch("a-directory.yaml");
    std::fs::create_dir_all(&dir).unwrap();
    let entry = scratch("includes-a-directory.yaml");
    std::fs::write(
        &entry,
        "metricsmith: 1\nservice: s\ninclude: [a-directory.yaml]\n",
    )
    .unwrap();
    rejected(&entry, &Loader::new(), Code::NotAFile);
}

#[test]
fn non_utf8() {
    let path = scratch("latin1.yaml");
    std::fs::write(&path, b"metricsmith: 1\nservice: caf\xe9\n").unwrap();
    let report = rejected(&path, &Loader::new(), Code::NotUtf8);
    assert_eq!(report.diagnostics[0].primary.span.start, 27);
}

#[test]
fn yaml_syntax_error() {
    let path = scratch("syntax.yaml");
    std::fs::write(&path, "metricsmith: 1\nservice: s\nevents:\n  a: {b: [\n").unwrap();
    let report = loader_err(&path);
    assert!(report.has_errors());
}

fn loader_err(path: &PathBuf) -> Report {
    Loader::new().load(path).expect_err("must be rejected")
}

#[test]
fn alias_bomb() {
    // `also` is the one recursive list in the language, so aliases there could expand to
    // 10^12 targets if the parser did not bound them.
    let mut text = String::from(
        "metricsmith: 1\nservice: s\namplitude:\n  exact:\n    t0: &t0 {group: g, event: e}\n",
    );
    for i in 1..=12 {
        let items = vec![format!("*t{}", i - 1); 10].join(", ");
        text.push_str(&format!(
            "    t{i}: &t{i} {{group: g, event: e, also: [{items}]}}\n"
        ));
    }
    let path = scratch("billion-laughs.yaml");
    std::fs::write(&path, text).unwrap();
    rejected(&path, &Loader::new(), Code::ResourceLimit);
}

#[test]
fn deep_recursive_nesting() {
    let depth = 100_000;
    let text = format!(
        "metricsmith: 1\nservice: s\namplitude:\n  exact:\n    a: {}{{group: g, event: e}}{}\n",
        "{group: g, event: e, also: [".repeat(depth),
        "]}".repeat(depth)
    );
    let path = scratch("deep-also.yaml");
    std::fs::write(&path, text).unwrap();
    rejected(&path, &Loader::new(), Code::ResourceLimit);
}

#[test]
fn deep_nesting() {
    let depth = 100_000;
    let text = format!(
        "metricsmith: 1\nservice: s\nevents: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let path = scratch("deep.yaml");
    std::fs::write(&path, text).unwrap();
    // Rejected by the typed AST before the depth budget is reached; still located.
    rejected(&path, &Loader::new(), Code::InvalidValue);
}

#[test]
fn deep_block_nesting() {
    let mut text = String::from("metricsmith: 1\nservice: s\nproperties:\n  p:\n");
    for i in 0..200 {
        text.push_str(&" ".repeat(2 * i + 4));
        text.push_str("type: list\n");
        text.push_str(&" ".repeat(2 * i + 4));
        text.push_str("items:\n");
    }
    let path = scratch("deep-block.yaml");
    std::fs::write(&path, text).unwrap();
    rejected(&path, &Loader::new(), Code::ResourceLimit);
}

#[test]
fn oversize_file() {
    let path = scratch("big.yaml");
    std::fs::write(
        &path,
        format!(
            "metricsmith: 1\nservice: s\ndescription: {}\n",
            "x".repeat(2048)
        ),
    )
    .unwrap();
    let mut loader = Loader::new();
    loader.max_file_size(1024);
    rejected(&path, &loader, Code::TooLarge);
}

#[test]
fn default_size_limit_is_16_mib() {
    assert_eq!(metricsmith_codegen::DEFAULT_MAX_FILE_SIZE, 16 * 1024 * 1024);
}

#[test]
fn ten_thousand_events_fit_the_budgets() {
    let mut text = String::from(
        "metricsmith: 1\nservice: s\ndefaults: {owners: [a], bugs: [b], data_reviews: [c], expires: never}\nevents:\n",
    );
    for i in 0..10_000 {
        text.push_str(&format!(
            "  area.event{i}:\n    description: Event {i}.\n    kinds: [activity, flow]\n    properties:\n      count: {{type: integer, min: 0, required: true}}\n"
        ));
    }
    let path = scratch("ten-thousand.yaml");
    std::fs::write(&path, text).expect("write");
    let checked = Loader::new()
        .load(&path)
        .unwrap_or_else(|report| panic!("{report}"));
    assert_eq!(checked.model.services["s"].events.len(), 10_000);
}
