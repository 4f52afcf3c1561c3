//! The shared scenarios of ../shared/conformance/warehouse, recorded by running the original
//! fxa-activity-metrics scripts: every step is replayed on SQLite and on PostgreSQL, and every
//! table the step maintains is compared after it, then all 21 tables after the last step.
//! What the scripts printed (days in order, max_day, rows read/loaded/rejected, summary bounds)
//! is compared too.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::EngineKind;
use metricsmith_warehouse::{Error, ImportOptions, ImportOutcome, Kind, SummaryOutcome, Warehouse};
use serde_json::Value as Json;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/warehouse")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

/// The first line where two dumps differ, for a readable failure.
fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for index in 0..e.len().max(a.len()) {
        if e.get(index) != a.get(index) {
            return format!(
                "{} expected lines, {} actual; line {}:\n  expected {:?}\n  actual   {:?}",
                e.len(),
                a.len(),
                index + 1,
                e.get(index),
                a.get(index)
            );
        }
    }
    "identical".into()
}

fn days(values: &[metricsmith_warehouse::Day]) -> Json {
    Json::Array(values.iter().map(|d| Json::String(d.to_string())).collect())
}

fn run_step(warehouse: &mut Warehouse, scenario: &Path, step: &Json, failures: &mut Vec<String>) {
    let number = step["step"].as_u64().unwrap_or(0);
    let script = step["script"].as_str().unwrap_or("");
    let observed = &step["observed"];
    let error_type = step["error"]["type"].as_str();
    let context = format!("step {number} ({script})");
    let mut check = |what: &str, expected: &Json, actual: Json| {
        if *expected != actual {
            failures.push(format!(
                "{context}: {what}: expected {expected}, got {actual}"
            ));
        }
    };
    if script == "calculate_daily_summary.py" {
        match warehouse.summarize() {
            Ok(SummaryOutcome::NoEvents) => check(
                "outcome",
                &Json::from("RuntimeError"),
                Json::from(error_type.unwrap_or("ok")),
            ),
            Ok(SummaryOutcome::Summarised(samples)) => {
                check(
                    "outcome",
                    &Json::from(error_type.unwrap_or("ok")),
                    Json::from("ok"),
                );
                let actual: Vec<Json> = samples
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "suffix": s.sample.suffix(),
                            "day_from": s.day_from.to_string(),
                            "day_until": s.day_until.map(|d| d.to_string()),
                            "day_first": s.day_first.map(|d| d.to_string()),
                        })
                    })
                    .collect();
                check("summaries", &observed["summaries"], Json::Array(actual));
            }
            Err(err) => failures.push(format!("{context}: {err}")),
        }
        return;
    }
    let kind = match script {
        "import_activity_events.py" => Kind::Activity,
        "import_flow_events.py" => Kind::Flow,
        "import_email_events.py" => Kind::Email,
        other => panic!("unknown script {other}"),
    };
    let files: Vec<PathBuf> = step["bucket"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(Json::as_str)
                .map(|name| scenario.join("input").join(name))
                .collect()
        })
        .unwrap_or_default();
    match warehouse.import(kind, &files, &ImportOptions::default()) {
        Ok(report) => {
            let outcome = match report.outcome {
                ImportOutcome::Imported => "ok",
                ImportOutcome::NothingToImport => "IndexError",
            };
            check(
                "outcome",
                &Json::from(error_type.unwrap_or("ok")),
                Json::from(outcome),
            );
            check(
                "days processed",
                &observed["days_processed_in_order"],
                days(&report.days_processed),
            );
            check(
                "max_day",
                &observed["max_day"],
                report
                    .max_day
                    .map_or(Json::Null, |d| Json::from(d.to_string())),
            );
            check(
                "expiry ran",
                &observed["expiry_ran"],
                Json::from(report.expiry_ran),
            );
            let copies: Vec<Json> = report
                .copies
                .iter()
                .map(|copy| {
                    serde_json::json!({
                        "file": copy.file.file_name().map(|n| n.to_string_lossy().into_owned()),
                        "rows_read": copy.counts.rows_read,
                        "rows_loaded": copy.counts.rows_loaded,
                        "rejected_lines": copy.counts.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
                        "truncated_values": copy.counts.truncated_values,
                    })
                })
                .collect();
            let expected_copies: Vec<Json> = observed["copies"]
                .as_array()
                .map(|copies| {
                    copies
                        .iter()
                        .map(|c| {
                            serde_json::json!({
                                "file": c["file"], "rows_read": c["rows_read"], "rows_loaded": c["rows_loaded"],
                                "rejected_lines": c["rejected_lines"], "truncated_values": c["truncated_values"],
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            check("copies", &Json::Array(expected_copies), Json::Array(copies));
        }
        Err(Error::TooManyRejected { file, .. }) => {
            check(
                "outcome",
                &Json::from(error_type.unwrap_or("ok")),
                Json::from("RedshiftLoadError"),
            );
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let failed = observed["failed_while_importing_day"]
                .as_str()
                .unwrap_or("");
            if !name.as_deref().unwrap_or("").contains(failed) || failed.is_empty() {
                failures.push(format!(
                    "{context}: failed on {name:?}, expected day {failed}"
                ));
            }
        }
        Err(err) => failures.push(format!("{context}: {err}")),
    }
}

fn compare_dir(
    warehouse: &mut Warehouse,
    dir: &Path,
    context: &str,
    failures: &mut Vec<String>,
) -> usize {
    let all: BTreeMap<String, &'static [metricsmith_warehouse::Column]> =
        metricsmith_warehouse::all_tables().into_iter().collect();
    let mut compared = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("list {}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(columns) = all.get(&name) else {
            failures.push(format!("{context}: unknown table {name}"));
            continue;
        };
        let dump = warehouse
            .dump_table(&name, columns)
            .unwrap_or_else(|err| panic!("{context}: dump {name}: {err}"));
        let expected = read(&path);
        if dump.csv != expected {
            failures.push(format!(
                "{context}: {name} differs: {}",
                first_difference(&expected, &dump.csv)
            ));
        }
        compared += 1;
    }
    compared
}

fn run_scenario(name: &str, engine: EngineKind) {
    let scenario = corpus().join(name);
    let steps: Json = serde_json::from_str(&read(&scenario.join("steps.json")))
        .unwrap_or_else(|err| panic!("steps.json: {err}"));
    let (mut warehouse, _url, schema) = common::open(engine, name);
    let mut failures = Vec::new();
    let mut compared = 0;
    let steps = steps["steps"].as_array().cloned().unwrap_or_default();
    assert!(!steps.is_empty(), "{name} has steps");
    for step in &steps {
        run_step(&mut warehouse, &scenario, step, &mut failures);
        if let Some(dir) = step["snapshot"]["dir"].as_str() {
            let context = format!("{name} on {engine:?}, after step {}", step["step"]);
            compared += compare_dir(&mut warehouse, &scenario.join(dir), &context, &mut failures);
        }
    }
    let context = format!("{name} on {engine:?}, final state");
    let final_tables = compare_dir(
        &mut warehouse,
        &scenario.join("expected"),
        &context,
        &mut failures,
    );
    assert_eq!(final_tables, 21, "{context}: every table is in expected/");
    compared += final_tables;
    drop(warehouse);
    common::drop_schema(schema.as_deref());
    assert!(
        failures.is_empty(),
        "{} mismatches ({compared} tables compared):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

macro_rules! scenarios {
    ($($test:ident: $scenario:literal on $engine:ident,)*) => {
        $(
            #[test]
            fn $test() {
                run_scenario($scenario, EngineKind::$engine);
            }
        )*
    };
}

scenarios! {
    s01_bulk_40d_sqlite: "s01_bulk_40d" on Sqlite,
    s01_bulk_40d_postgres: "s01_bulk_40d" on Postgres,
    s04_late_arrivals_sqlite: "s04_late_arrivals" on Sqlite,
    s04_late_arrivals_postgres: "s04_late_arrivals" on Postgres,
    s07_single_run_window_month_end_sqlite: "s07_single_run_window_month_end" on Sqlite,
    s07_single_run_window_month_end_postgres: "s07_single_run_window_month_end" on Postgres,
    s10_multi_device_sqlite: "s10_multi_device" on Sqlite,
    s10_multi_device_postgres: "s10_multi_device" on Postgres,
}

/// The corpus folder holds exactly the scenarios above, so a new shared scenario cannot be missed.
#[test]
fn every_shared_scenario_is_replayed() {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap_or_else(|err| panic!("list the corpus: {err}"))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("steps.json").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "s01_bulk_40d",
            "s04_late_arrivals",
            "s07_single_run_window_month_end",
            "s10_multi_device"
        ]
    );
}
