//! `ingest` of log lines gives the same tables as `import` of the equivalent daily CSV files.
//!
//! The CSV rows of scenario s10 (activity, flow and email; rows whose day is not their file's day
//! left out, since lines are filed by their own day) are written back as the lines the services
//! logged: auth-server mozlog `activityEvent`, `flowEvent` and `emailEvent` lines, and
//! content-server flow lines for the `flow.*` events. One warehouse imports the CSVs, another
//! ingests the lines; after `summarize` all 21 tables must be identical, on both engines.

mod common;

use std::io::BufReader;
use std::path::{Path, PathBuf};

use common::EngineKind;
use metricsmith_warehouse::{Day, ImportOptions, Kind, Warehouse};
use serde_json::{Map, Value, json};

fn corpus_input() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/warehouse/s10_multi_device/input")
}

fn insert_nonempty(fields: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        fields.insert(key.to_owned(), Value::from(value));
    }
}

fn mozlog(kind: &str, seconds: i64, fields: Map<String, Value>) -> String {
    json!({
        "Timestamp": seconds * 1_000_000_000 + 460_000_000,
        "Logger": "fxa-auth-server",
        "Type": kind,
        "Severity": 6,
        "Pid": 4242,
        "EnvVersion": "2.0",
        "Fields": fields,
    })
    .to_string()
}

/// The line a service logged for a CSV row (the corpus rows hold no quotes or commas).
fn line_of(kind: Kind, row: &[&str]) -> String {
    let seconds: i64 = row[0]
        .parse()
        .unwrap_or_else(|err| panic!("timestamp {:?}: {err}", row[0]));
    let mut fields = Map::new();
    match kind {
        Kind::Activity => {
            fields.insert("event".into(), Value::from(row[5]));
            fields.insert("uid".into(), Value::from(row[4]));
            insert_nonempty(&mut fields, "userAgent", "Mozilla/5.0");
            for (key, value) in [
                ("ua_browser", row[1]),
                ("ua_version", row[2]),
                ("ua_os", row[3]),
                ("service", row[6]),
                ("device_id", row[7]),
            ] {
                insert_nonempty(&mut fields, key, value);
            }
            mozlog("activityEvent", seconds, fields)
        }
        Kind::Flow => {
            let keys: Vec<&str> = kind.csv_columns()[4..].iter().map(|c| c.name).collect();
            fields.insert("event".into(), Value::from(row[1]));
            fields.insert("flow_id".into(), Value::from(row[2]));
            let flow_time: i64 = row[3]
                .parse()
                .unwrap_or_else(|err| panic!("flow_time {:?}: {err}", row[3]));
            fields.insert("flow_time".into(), Value::from(flow_time));
            for (key, value) in keys.iter().zip(&row[4..]) {
                insert_nonempty(&mut fields, key, value);
            }
            if row[1].starts_with("flow.") {
                // A content-server flow line: raw JSON, ISO time with milliseconds.
                fields.insert("op".into(), Value::from("flowEvent"));
                fields.insert("v".into(), Value::from(1));
                fields.insert("time".into(), Value::from(iso(seconds)));
                Value::Object(fields).to_string()
            } else {
                fields.insert("time".into(), Value::from(seconds * 1000 + 999));
                mozlog("flowEvent", seconds, fields)
            }
        }
        Kind::Email => {
            for (key, value) in [
                ("flow_id", row[1]),
                ("domain", row[2]),
                ("template", row[3]),
                ("type", row[4]),
                ("locale", row[7]),
            ] {
                insert_nonempty(&mut fields, key, value);
            }
            fields.insert("type".into(), Value::from(row[4]));
            for (key, value) in [("bounced", row[5]), ("complaint", row[6])] {
                match value {
                    "" => {}
                    "true" => {
                        fields.insert(key.into(), Value::from(true));
                    }
                    other => {
                        fields.insert(key.into(), Value::from(other));
                    }
                }
            }
            mozlog("emailEvent", seconds, fields)
        }
    }
}

fn iso(seconds: i64) -> String {
    let day = Day::from_ymd(1970, 1, 1)
        .and_then(|epoch| epoch.add_days(i32::try_from(seconds.div_euclid(86_400)).ok()?));
    let day = day.unwrap_or_else(|| panic!("{seconds} is a day"));
    let s = seconds.rem_euclid(86_400);
    format!(
        "{day}T{:02}:{:02}:{:02}.349Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn day_of(seconds: &str) -> String {
    iso(seconds.parse().unwrap_or(0))[..10].to_owned()
}

#[track_caller]
fn dump(warehouse: &mut Warehouse) -> Vec<(String, String)> {
    let tables = warehouse
        .dump_all()
        .unwrap_or_else(|err| panic!("dump: {err}"));
    tables.into_iter().map(|t| (t.name, t.csv)).collect()
}

fn lines_equal_csvs(engine: EngineKind) {
    let dir = common::scratch_dir(&common::unique_name("ingest_files"));
    let (mut from_csv, _, schema_a) = common::open(engine, "ingest_csv");
    let (mut from_lines, _, schema_b) = common::open(engine, "ingest_lines");
    let mut names: Vec<String> = std::fs::read_dir(corpus_input())
        .unwrap_or_else(|err| panic!("list the corpus: {err}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut total_rows = 0;
    for kind in Kind::ALL {
        let mut csv_files = Vec::new();
        let mut lines = String::new();
        for name in names.iter().filter(|n| {
            n.starts_with(kind.file_prefix())
                && n[kind.file_prefix().len()..].starts_with(char::is_numeric)
        }) {
            let text = std::fs::read_to_string(corpus_input().join(name))
                .unwrap_or_else(|err| panic!("read {name}: {err}"));
            let file_day = &name[name.len() - 14..name.len() - 4];
            let mut kept = String::new();
            for row in text.lines() {
                let fields: Vec<&str> = row.split(',').collect();
                if day_of(fields[0]) != file_day {
                    continue;
                }
                kept.push_str(row);
                kept.push('\n');
                lines.push_str(&line_of(kind, &fields));
                lines.push('\n');
                // Lines of other types in the same stream are skipped.
                lines.push_str(&mozlog("amplitudeEvent", 1_551_700_123, Map::new()));
                lines.push('\n');
                total_rows += 1;
            }
            let path = dir.join(name);
            std::fs::write(&path, kept)
                .unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
            csv_files.push(path);
        }
        let imported = from_csv
            .import(kind, &csv_files, &ImportOptions::default())
            .unwrap_or_else(|err| panic!("import {kind}: {err}"));
        let input = vec![(format!("{kind}.log"), BufReader::new(lines.as_bytes()))];
        let ingested = from_lines
            .ingest(kind, input, &dir, &ImportOptions::default())
            .unwrap_or_else(|err| panic!("ingest {kind}: {err}"));
        assert!(
            ingested.counts.rejected.is_empty(),
            "{kind}: {:?}",
            ingested.counts.rejected
        );
        assert_eq!(
            ingested.counts.skipped, ingested.counts.rows,
            "{kind}: one amplitude line per row skipped"
        );
        let report = ingested
            .import
            .unwrap_or_else(|| panic!("{kind}: lines were imported"));
        assert_eq!(report.days_processed, imported.days_processed, "{kind}");
    }
    assert!(total_rows > 1000, "the scenario gives {total_rows} rows");
    for warehouse in [&mut from_csv, &mut from_lines] {
        warehouse
            .summarize()
            .unwrap_or_else(|err| panic!("summarize: {err}"));
    }
    let (a, b) = (dump(&mut from_csv), dump(&mut from_lines));
    assert_eq!(a.len(), 21);
    let with_rows = a.iter().filter(|(_, csv)| csv.lines().count() > 1).count();
    assert!(with_rows >= 18, "only {with_rows} tables have rows");
    for ((name, csv), (_, lines)) in a.iter().zip(&b) {
        assert_eq!(
            csv, lines,
            "{name} differs between the CSV import and the line ingest on {engine:?}"
        );
    }
    drop((from_csv, from_lines));
    common::drop_schema(schema_a.as_deref());
    common::drop_schema(schema_b.as_deref());
}

#[test]
fn lines_and_csvs_give_identical_tables_on_sqlite() {
    lines_equal_csvs(EngineKind::Sqlite);
}

#[test]
fn lines_and_csvs_give_identical_tables_on_postgres() {
    lines_equal_csvs(EngineKind::Postgres);
}

#[test]
fn bad_lines_are_rejected_with_their_numbers_and_the_good_ones_ingested() {
    let dir = common::scratch_dir(&common::unique_name("ingest_bad"));
    let (mut warehouse, _, schema) = common::open(EngineKind::Sqlite, "ingest_bad");
    let good = |seconds: i64| {
        line_of(
            Kind::Activity,
            &[
                &seconds.to_string(),
                "Firefox",
                "65.0",
                "Mac OS X",
                "0123456789abcdef0123456789abcdef",
                "account.login",
                "sync",
                "",
            ],
        )
    };
    let mut input = Vec::new();
    for part in [
        good(1_551_700_123).into_bytes(),
        b"{\"Type\":\"activityEvent\",\"Fields\":{\"event\":\"caf\xe9\"}}".to_vec(),
        b"not json".to_vec(),
        b"\r".to_vec(),
        good(1_551_700_124).into_bytes(),
    ] {
        input.extend_from_slice(&part);
        input.push(b'\n');
    }
    let report = warehouse
        .ingest(
            Kind::Activity,
            vec![("bad.log".to_owned(), &input[..])],
            &dir,
            &ImportOptions::default(),
        )
        .unwrap_or_else(|err| panic!("an ingest with bad lines goes on: {err}"));
    let counts = &report.counts;
    assert_eq!((counts.lines, counts.rows, counts.skipped), (5, 2, 1));
    let rejected: Vec<(u64, bool)> = counts
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.starts_with("bad.log: not ")))
        .collect();
    assert_eq!(
        rejected,
        vec![(2, true), (3, true)],
        "{:?}",
        counts.rejected
    );
    assert!(
        counts.rejected[0].reason.contains("UTF-8"),
        "{:?}",
        counts.rejected
    );
    drop(warehouse);
    common::drop_schema(schema.as_deref());
}
