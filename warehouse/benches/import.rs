//! Import benchmark (a bench binary, not a timed test): one synthetic day of 1,000,000 flow
//! events and 200,000 activity events imported on SQLite and on PostgreSQL, against a bare
//! `COPY ... FORMAT csv` of the same files into plain tables on the same PostgreSQL.
//!
//! ```text
//! cargo bench --profile bench-fast -p metricsmith-warehouse --bench import -- [FLOW ACTIVITY]
//! ```
//!
//! PostgreSQL comes from `DATABASE_URL` (default the local trust-auth server); the benchmark
//! works in a schema of its own and drops it at the end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metricsmith_warehouse::{Day, ImportOptions, Kind, Warehouse, synthetic};

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn rows(path: &Path) -> usize {
    std::fs::read(path)
        .map(|bytes| bytes.iter().filter(|b| **b == b'\n').count())
        .unwrap_or(0)
}

fn import(warehouse: &mut Warehouse, kind: Kind, file: &Path) -> Duration {
    let start = Instant::now();
    let report = warehouse
        .import(kind, &[file.to_owned()], &ImportOptions::default())
        .unwrap_or_else(|err| panic!("import: {err}"));
    assert_eq!(report.copies.len(), 1, "one day imported");
    start.elapsed()
}

fn bare_copy(client: &mut postgres::Client, table: &str, columns: &str, file: &Path) -> Duration {
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns})"
        ))
        .unwrap_or_else(|err| panic!("{err}"));
    let bytes = std::fs::read(file).unwrap_or_else(|err| panic!("read {}: {err}", file.display()));
    let start = Instant::now();
    let mut writer = client
        .copy_in(&format!("COPY {table} FROM STDIN WITH (FORMAT csv)"))
        .unwrap_or_else(|err| panic!("{err}"));
    writer
        .write_all(&bytes)
        .unwrap_or_else(|err| panic!("{err}"));
    writer.finish().unwrap_or_else(|err| panic!("{err}"));
    start.elapsed()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let flow_events = args.first().copied().unwrap_or(1_000_000);
    let activity_events = args.get(1).copied().unwrap_or(200_000);
    let dir = std::env::temp_dir().join(format!(
        "metricsmith-warehouse-bench-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
    let day = Day::from_ymd(2019, 3, 1).unwrap_or_else(|| panic!("a day"));
    let (flow, activity) = synthetic::write_day(&dir, day, flow_events, activity_events, 1)
        .unwrap_or_else(|err| panic!("{err}"));
    let (flow_rows, activity_rows) = (rows(&flow), rows(&activity));
    println!("one day: {flow_rows} flow events, {activity_rows} activity events");

    let secs = |d: Duration| d.as_secs_f64();
    let sqlite_path: PathBuf = dir.join("bench.db");
    let mut sqlite = Warehouse::open(&format!("sqlite:{}", sqlite_path.display()))
        .unwrap_or_else(|err| panic!("{err}"));
    let sqlite_activity = import(&mut sqlite, Kind::Activity, &activity);
    let sqlite_flow = import(&mut sqlite, Kind::Flow, &flow);
    drop(sqlite);

    let schema = format!("bench_{}", std::process::id());
    let mut pg = Warehouse::open_in_schema(&database_url(), Some(&schema))
        .unwrap_or_else(|err| panic!("{err}"));
    let pg_activity = import(&mut pg, Kind::Activity, &activity);
    let pg_flow = import(&mut pg, Kind::Flow, &flow);
    drop(pg);

    let mut client = postgres::Client::connect(&database_url(), postgres::NoTls)
        .unwrap_or_else(|err| panic!("{err}"));
    client
        .batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap_or_else(|err| panic!("{err}"));
    let text = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("\"{n}\" TEXT"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let flow_columns = Kind::Flow
        .csv_columns()
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>();
    let activity_columns = Kind::Activity
        .csv_columns()
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>();
    let copy_flow = bare_copy(&mut client, "bare_flow", &text(&flow_columns), &flow);
    let copy_activity = bare_copy(
        &mut client,
        "bare_activity",
        &text(&activity_columns),
        &activity,
    );
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap_or_else(|err| panic!("{err}"));
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "| file | rows | SQLite import | rows/s | PostgreSQL import | rows/s | bare COPY (PostgreSQL) | import / COPY |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, n, lite, pgi, copy) in [
        ("flow", flow_rows, sqlite_flow, pg_flow, copy_flow),
        (
            "activity",
            activity_rows,
            sqlite_activity,
            pg_activity,
            copy_activity,
        ),
    ] {
        #[allow(clippy::cast_precision_loss)] // Row counts far below 2^52.
        let n_f = n as f64;
        println!(
            "| {name} | {n} | {:.2} s | {:.0} | {:.2} s | {:.0} | {:.2} s | {:.1}x |",
            secs(lite),
            n_f / secs(lite),
            secs(pgi),
            n_f / secs(pgi),
            secs(copy),
            secs(pgi) / secs(copy)
        );
    }
}
