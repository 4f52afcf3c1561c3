//! Late days: a day older than the newest imported day is listed at every run, never imported
//! by default (the scripts' candidate rule), and imported when asked for by name.

mod common;

use std::path::{Path, PathBuf};

use common::EngineKind;
use metricsmith_warehouse::{Day, Error, ImportOptions, ImportOutcome, Kind};

fn file(day: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../shared/conformance/warehouse/s04_late_arrivals/input/events-2019-02-0{day}.csv"
    ))
}

fn day(d: u32) -> Day {
    Day::from_ymd(2019, 2, d).unwrap_or_else(|| panic!("2019-02-0{d} is a day"))
}

fn late_days(engine: EngineKind) {
    let (mut warehouse, _, schema) = common::open(engine, "late");
    let first = warehouse.import(
        Kind::Activity,
        &[file(1), file(2), file(3), file(5)],
        &ImportOptions::default(),
    );
    assert_eq!(
        first.map(|r| r.days_processed).ok(),
        Some(vec![day(5), day(3), day(2), day(1)])
    );
    let all = [file(1), file(2), file(3), file(4), file(5)];
    let again = warehouse
        .import(Kind::Activity, &all, &ImportOptions::default())
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(again.outcome, ImportOutcome::NothingToImport);
    assert_eq!(again.late_days, [day(4)], "{engine:?}");
    let asked = ImportOptions {
        late_days: vec![day(4)],
    };
    let late = warehouse
        .import(Kind::Activity, &all, &asked)
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        (late.outcome, late.days_processed.clone(), late.max_day),
        (ImportOutcome::Imported, vec![day(4)], Some(day(5)))
    );
    let rows = warehouse
        .query(&format!(
            "SELECT COUNT(*) FROM activity_events WHERE {}",
            day_condition(engine)
        ))
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        rows,
        [[Some("51".to_owned())]],
        "{engine:?}: the 51 rows of the file dated 2019-02-04"
    );
    let missing = warehouse.import(
        Kind::Activity,
        &[file(5)],
        &ImportOptions {
            late_days: vec![day(4)],
        },
    );
    assert!(
        matches!(missing, Err(Error::LateDayWithoutFile(d)) if d == day(4)),
        "{missing:?}"
    );
    drop(warehouse);
    common::drop_schema(schema.as_deref());
}

fn day_condition(engine: EngineKind) -> &'static str {
    match engine {
        EngineKind::Sqlite => "substr(\"timestamp\", 1, 10) = '2019-02-04'",
        EngineKind::Postgres => "CAST(\"timestamp\" AS DATE) = DATE '2019-02-04'",
    }
}

#[test]
fn late_days_on_sqlite() {
    late_days(EngineKind::Sqlite);
}

#[test]
fn late_days_on_postgres() {
    late_days(EngineKind::Postgres);
}
