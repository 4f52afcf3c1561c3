//! Loader behaviour: includes, directories, defaults.

use std::path::{Path, PathBuf};

use metricsmith_codegen::model::Expiry;
use metricsmith_codegen::{Code, Date, Loader};

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("metricsmith-loader-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(dir.join("sub")).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn loader() -> Loader {
    let mut loader = Loader::new();
    loader.today(Date {
        year: 2026,
        month: 1,
        day: 1,
    });
    loader
}

const EVENT: &str = "events:\n  a.b:\n    description: An event.\n    kinds: [flow]\n";

#[test]
fn a_file_included_through_two_paths_is_loaded_once() {
    let d = dir("twice");
    write(
        &d,
        "common.yaml",
        "metricsmith: 1\ndefaults: {owners: [a@x], bugs: [b], data_reviews: [c], expires: never}\n",
    );
    write(
        &d,
        "sub/mid.yaml",
        "metricsmith: 1\ninclude: [../common.yaml]\n",
    );
    write(
        &d,
        "svc.yaml",
        &format!(
            "metricsmith: 1\nservice: svc\ninclude: [common.yaml, sub/mid.yaml, ./sub/../common.yaml]\n{EVENT}"
        ),
    );
    let checked = loader()
        .load(d.join("svc.yaml"))
        .unwrap_or_else(|r| panic!("{r}"));
    assert!(checked.report.diagnostics.is_empty(), "{}", checked.report);
    let service = &checked.model.services["svc"];
    assert_eq!(service.files.len(), 3, "{:?}", service.files);
}

#[test]
fn entry_defaults_win_over_included_defaults_and_event_fields_win_over_both() {
    let d = dir("defaults");
    write(
        &d,
        "common.yaml",
        "metricsmith: 1\ndefaults: {owners: [common@x], bugs: [b], data_reviews: [c], expires: never}\n",
    );
    write(
        &d,
        "svc.yaml",
        "metricsmith: 1\nservice: svc\ninclude: [common.yaml]\ndefaults: {owners: [entry@x]}\n\
         events:\n  a.b:\n    description: An event.\n    kinds: [flow]\n  \
         a.c:\n    description: Another.\n    kinds: [flow]\n    expires: v200\n    bugs: [own]\n",
    );
    let checked = loader()
        .load(d.join("svc.yaml"))
        .unwrap_or_else(|r| panic!("{r}"));
    let events = &checked.model.services["svc"].events;
    assert_eq!(events["a.b"].governance.owners, ["entry@x"]);
    assert_eq!(events["a.b"].governance.bugs, ["b"]);
    assert_eq!(events["a.b"].governance.expires, Some(Expiry::Never));
    assert_eq!(events["a.c"].governance.bugs, ["own"]);
    assert_eq!(events["a.c"].governance.expires, Some(Expiry::Version(200)));
}

#[test]
fn versions_expire_against_the_configured_version() {
    let d = dir("version");
    write(
        &d,
        "svc.yaml",
        "metricsmith: 1\nservice: svc\ndefaults: {owners: [a], bugs: [b], data_reviews: [c], expires: v134}\n\
         events:\n  a.b:\n    description: An event.\n    kinds: [flow]\n",
    );
    let mut l = loader();
    assert!(
        l.load(d.join("svc.yaml"))
            .unwrap()
            .report
            .diagnostics
            .is_empty()
    );
    l.current_version(Some(134));
    let report = l.load(d.join("svc.yaml")).unwrap().report;
    assert_eq!(report.diagnostics[0].code, Code::Expired);
}

#[test]
fn directories_check_entry_files_and_orphan_includes() {
    let d = dir("directory");
    write(
        &d,
        "svc.yaml",
        &format!(
            "metricsmith: 1\nservice: svc\ninclude: [sub/shared.yaml]\ndefaults: {{owners: [a], bugs: [b], data_reviews: [c], expires: never}}\n{EVENT}"
        ),
    );
    write(
        &d,
        "sub/shared.yaml",
        "metricsmith: 1\nproperties:\n  uid: {type: hex, length: 32}\n",
    );
    // Included by nothing: checked on its own.
    write(
        &d,
        "sub/orphan.yaml",
        "metricsmith: 1\nproperties:\n  bad: {type: integer, pattern: x}\n",
    );
    let report = loader().load(&d).unwrap_err();
    assert_eq!(report.errors(), 1, "{report}");
    assert_eq!(report.diagnostics[0].code, Code::InvalidConstraint);
    std::fs::remove_file(d.join("sub/orphan.yaml")).unwrap();
    let checked = loader().load(&d).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(checked.model.services.len(), 1);
}

#[test]
fn errors_in_several_files_are_all_reported() {
    let d = dir("several");
    write(&d, "a.yaml", "metricsmith: 1\nservice: a\nnmae: x\n");
    write(
        &d,
        "b.yaml",
        "metricsmith: 1\nservice: b\nevents:\n  x.y:\n    description: d\n    kinds: [flow, flow]\n",
    );
    let report = loader().load(&d).unwrap_err();
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert!(
        codes.contains(&"E0007") && codes.contains(&"E0019"),
        "{report}"
    );
}
