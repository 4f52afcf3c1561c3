//! `metricsmith warehouse` as a process: an import killed with SIGKILL part-way and run again
//! ends with the tables of an uninterrupted import, and two imports at once are serialised by
//! the advisory lock. On SQLite and on PostgreSQL (`DATABASE_URL`, default the local server).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use metricsmith_warehouse::{Day, ImportOptions, Kind, Warehouse, synthetic};

const BIN: &str = env!("CARGO_BIN_EXE_metricsmith");

fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh warehouse location: (URL, schema).
fn fresh(engine: Engine, dir: &Path, name: &str) -> (String, Option<String>) {
    match engine {
        Engine::Sqlite => (
            format!("sqlite:{}", dir.join(format!("{name}.db")).display()),
            None,
        ),
        Engine::Postgres => {
            let schema = format!("cli_{name}_{}", std::process::id());
            let mut client = postgres::Client::connect(&database_url(), postgres::NoTls)
                .unwrap_or_else(|err| panic!("PostgreSQL is needed: {err}"));
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .unwrap_or_else(|err| panic!("{err}"));
            (database_url(), Some(schema))
        }
    }
}

fn drop_schema(schema: Option<&str>) {
    if let (Some(schema), Ok(mut client)) = (
        schema,
        postgres::Client::connect(&database_url(), postgres::NoTls),
    ) {
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    }
}

/// Eight synthetic days of 12,000 flow events each.
fn days(dir: &Path) -> Vec<PathBuf> {
    let first = Day::from_ymd(2019, 3, 1).unwrap_or_else(|| panic!("a day"));
    (0..8)
        .map(|offset| {
            let day = first.add_days(offset).unwrap_or_else(|| panic!("a day"));
            let (flow, _) = synthetic::write_day(dir, day, 12_000, 10, 7)
                .unwrap_or_else(|err| panic!("write: {err}"));
            flow
        })
        .collect()
}

fn spawn_import(url: &str, schema: Option<&str>, files: &[PathBuf]) -> Child {
    let mut command = Command::new(BIN);
    command.args(["warehouse", "import", "--db", url, "--kind", "flow"]);
    if let Some(schema) = schema {
        command.args(["--schema", schema]);
    }
    command
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
        .spawn()
        .unwrap_or_else(|err| panic!("spawn {BIN}: {err}"))
}

/// (days done, days planned) of the running import, read beside it.
fn progress(engine: Engine, url: &str, schema: Option<&str>) -> Option<(i64, i64)> {
    let sql = "SELECT CAST(COALESCE(SUM(done), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM metricsmith_import_plan WHERE kind = 'flow'";
    match engine {
        Engine::Sqlite => {
            let path = url.strip_prefix("sqlite:")?;
            let connection = rusqlite::Connection::open(path).ok()?;
            connection
                .query_row(sql, [], |row| Ok((row.get(0)?, row.get(1)?)))
                .ok()
        }
        Engine::Postgres => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).ok()?;
            let row = client
                .query_one(
                    &sql.replace(
                        "metricsmith_import_plan",
                        &format!("{}.metricsmith_import_plan", schema?),
                    ),
                    &[],
                )
                .ok()?;
            Some((row.get(0), row.get(1)))
        }
    }
}

/// Waits until the import has committed at least one day but not all (bounded: 120 s).
fn wait_mid_import(engine: Engine, url: &str, schema: Option<&str>, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some((done, planned)) = progress(engine, url, schema)
            && done >= 1
            && done < planned
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{engine:?}: the import ended ({status}) before it was seen part-way");
        }
        assert!(
            Instant::now() < deadline,
            "{engine:?}: no day committed within 120 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn open(url: &str, schema: Option<&str>) -> Warehouse {
    Warehouse::open_in_schema(url, schema).unwrap_or_else(|err| panic!("open {url}: {err}"))
}

fn killed_and_rerun_equals_uninterrupted(engine: Engine) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("warehouse-kill-{engine:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
    let files = days(&dir);

    let (url, schema) = fresh(engine, &dir, "whole");
    let mut whole = open(&url, schema.as_deref());
    whole
        .import(Kind::Flow, &files, &ImportOptions::default())
        .unwrap_or_else(|err| panic!("{err}"));
    let expected = whole.dump_all().unwrap_or_else(|err| panic!("{err}"));
    drop(whole);
    drop_schema(schema.as_deref());

    let (url, schema) = fresh(engine, &dir, "killed");
    // Create the tables first, so the progress can be read from the start.
    drop(open(&url, schema.as_deref()));
    let mut child = spawn_import(&url, schema.as_deref(), &files);
    wait_mid_import(engine, &url, schema.as_deref(), &mut child);
    child.kill().unwrap_or_else(|err| panic!("kill -9: {err}"));
    let status = child.wait().unwrap_or_else(|err| panic!("{err}"));
    assert!(!status.success(), "{engine:?}: the import was killed");
    let (done, planned) =
        progress(engine, &url, schema.as_deref()).unwrap_or_else(|| panic!("the plan is readable"));
    assert!(
        done >= 1 && done < planned,
        "{engine:?}: killed after {done} of {planned} days"
    );

    let mut again = open(&url, schema.as_deref());
    let report = again
        .import(Kind::Flow, &files, &ImportOptions::default())
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        report.resumed_days.len(),
        usize::try_from(planned - done).unwrap_or(0),
        "{engine:?}: {report:?}"
    );
    let actual = again.dump_all().unwrap_or_else(|err| panic!("{err}"));
    drop(again);
    drop_schema(schema.as_deref());
    assert_eq!(expected.len(), 21);
    assert!(
        expected.iter().map(|t| t.csv.len()).sum::<usize>() > 300_000,
        "the import holds data"
    );
    for (e, a) in expected.iter().zip(&actual) {
        assert!(
            e.csv == a.csv,
            "{engine:?}: {} differs after kill -9 and rerun",
            e.name
        );
    }
}

#[test]
fn kill_during_import_then_rerun_gives_the_same_tables_on_sqlite() {
    killed_and_rerun_equals_uninterrupted(Engine::Sqlite);
}

#[test]
fn kill_during_import_then_rerun_gives_the_same_tables_on_postgres() {
    killed_and_rerun_equals_uninterrupted(Engine::Postgres);
}

fn second_import_waits_for_the_first(engine: Engine) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("warehouse-lock-{engine:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
    let files = days(&dir);
    let (url, schema) = fresh(engine, &dir, "lock");
    drop(open(&url, schema.as_deref()));
    let mut child = spawn_import(&url, schema.as_deref(), &files);
    wait_mid_import(engine, &url, schema.as_deref(), &mut child);
    // Opening takes the same lock: it returns only once the running import has finished,
    // that is committed its last day and its expiry and cleared its plan (the process may still
    // be closing its database).
    let mut second = open(&url, schema.as_deref());
    let progress_then = progress(engine, &url, schema.as_deref());
    if progress_then != Some((0, 0)) {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{engine:?}: a second warehouse got the lock while the import ran ({progress_then:?} days done/planned)"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|err| panic!("{err}")) {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{engine:?}: the first import did not exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{engine:?}: the first import succeeded");
    // The second import then finds every day imported.
    let report = second
        .import(Kind::Flow, &files, &ImportOptions::default())
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        report.days_processed.is_empty(),
        "{engine:?}: {:?}",
        report.days_processed
    );
    drop(second);
    drop_schema(schema.as_deref());
}

#[test]
fn two_imports_are_serialised_on_sqlite() {
    second_import_waits_for_the_first(Engine::Sqlite);
}

#[test]
fn two_imports_are_serialised_on_postgres() {
    second_import_waits_for_the_first(Engine::Postgres);
}
