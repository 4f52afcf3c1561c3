//! The `warehouse:` section: schema/fxa declares FxA's 7 tables, and every broken rule of a
//! section is reported, all in one run, at the value that breaks it.

use std::path::PathBuf;

use metricsmith_codegen::warehouse::{ColumnType, Engine, render_ddl};
use metricsmith_codegen::{Loader, Style};

fn write(name: &str, yaml: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("warehouse-section");
    std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("create {}: {err}", dir.display()));
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
    path
}

#[test]
fn fxa_declares_the_seven_table_families() {
    let checked = Loader::new()
        .load("../schema/fxa")
        .unwrap_or_else(|report| panic!("{}", report.render(Style::Plain)));
    let warehouse = checked
        .model
        .warehouse
        .unwrap_or_else(|| panic!("schema/fxa has a warehouse section"));
    let names: Vec<&str> = warehouse.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "activity_events",
            "flow_events",
            "flow_metadata",
            "flow_experiments",
            "email_events",
            "daily_activity_per_device",
            "daily_multi_device_users"
        ]
    );
    let samples: Vec<(&str, u32, u32)> = warehouse
        .samples
        .iter()
        .map(|s| (s.suffix.as_str(), s.percent, s.months))
        .collect();
    assert_eq!(
        samples,
        [
            ("", 100, 3),
            ("_sampled_50", 50, 6),
            ("_sampled_10", 10, 24)
        ]
    );
    let flow_events = &warehouse.tables[1];
    assert_eq!(flow_events.sampled_by.as_deref(), Some("flow_id"));
    assert_eq!(flow_events.columns[1].ty, ColumnType::Varchar(79));
    // 7 families in 3 samples.
    assert_eq!(
        render_ddl(&warehouse, Engine::Postgres)
            .matches("CREATE TABLE")
            .count(),
        21
    );
}

#[test]
fn every_broken_rule_is_reported_at_its_value() {
    let path = write(
        "broken.yaml",
        r#"metricsmith: 1
warehouse:
  samples:
    - {suffix: "", percent: 100, months: 3}
    - {suffix: "", percent: 150, months: 0}
  tables:
    events:
      source: activity-events
      sampled_by: uuid
      columns:
        timestamp: {type: timestamptz, required: true}
        uid: {type: varchar(0)}
        flag: {type: boolean, default: "0"}
    Other:
      source: clicks
      columns:
        n: {type: bigint}
    again:
      source: activity-events
      sampled_by: n
      columns:
        n: {type: bigint}
"#,
    );
    let report = match Loader::new().load(&path) {
        Ok(_) => panic!("the broken section must not load"),
        Err(report) => report,
    };
    let rendered = report.render(Style::Plain);
    for expected in [
        "sample percent 150 is not between 1 and 100",
        "retention of 0 months is not between 1 and 1200",
        "sample suffix `` is declared twice",
        "`sampled_by: uuid` is not a column of `events`",
        "unknown column type `timestamptz`",
        "unknown column type `varchar(0)`",
        "default `0` does not fit the column type",
        "table name `Other` is not a lower-case identifier",
        "unknown source `clicks`",
        "source `activity-events` fills two tables",
        "`sampled_by: n` is not a varchar column",
        "broken.yaml:11:27",
    ] {
        assert!(
            rendered.contains(expected),
            "missing {expected:?} in:\n{rendered}"
        );
    }
}

#[test]
fn two_sections_are_one_too_many() {
    let section = "metricsmith: 1\nwarehouse:\n  samples: [{suffix: \"\", percent: 100, months: 3}]\n  tables: {}\n";
    let first = write("first.yaml", section);
    let second = write("second.yaml", section);
    let report = match Loader::new().load_all(&[first, second]) {
        Ok(_) => panic!("two warehouse sections must not load"),
        Err(report) => report,
    };
    assert!(
        report
            .render(Style::Plain)
            .contains("a second `warehouse:` section")
    );
}
