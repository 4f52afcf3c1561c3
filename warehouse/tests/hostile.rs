//! Hostile CSV content is stored verbatim (up to the column width, as Redshift's TRUNCATECOLUMNS
//! did) or rejected with its line number; it never becomes SQL. On both engines.

mod common;

use common::EngineKind;
use metricsmith_warehouse::{Error, ImportOptions, Kind};

const UID: &str = "0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728";

fn hostile_file(dir: &std::path::Path) -> std::path::PathBuf {
    let ts = 1_548_984_151; // 2019-02-01
    let mut bytes: Vec<u8> = Vec::new();
    let mut line = |text: &[u8]| {
        bytes.extend_from_slice(text);
        bytes.push(b'\n');
    };
    // 1: quotes, commas and a line break inside quotes, SQL in a value, COPY's escapes.
    line(format!("{ts},\"Fire,fox\",\"6\"\"3\",\"Win\ndows\",{UID},account.login,\"'); DROP TABLE activity_events; --\",a\\tb\\N").as_bytes());
    // 3: a NUL byte.
    line(format!("{ts},Firefox,63,Linux,{UID},account.login,sync,nul\0here").as_bytes());
    // 4: invalid UTF-8.
    line(
        &[
            format!("{ts},Firefox,63,").as_bytes(),
            &[0xff, 0xfe],
            format!(",{UID},account.login,sync,dev").as_bytes(),
        ]
        .concat(),
    );
    // 5: a 1 MB field (kept to its 40-byte width) and multi-byte text cut at a character boundary.
    let huge = "x".repeat(1 << 20);
    line(
        format!(
            "{ts},{huge},63,{},{UID},account.signed,sync,d2",
            "é".repeat(30)
        )
        .as_bytes(),
    );
    // 6: SQL and a tab in the id column itself; a semicolon-terminated statement as the type.
    line(format!("{ts},Firefox,63,Linux,0'; DELETE FROM activity_events_sampled_10; --,x;SELECT 1;,sync,\t").as_bytes());
    // 7: wrong field count; 8: a timestamp that is SQL.
    line(b"1,2,3");
    line(
        format!("1; DROP TABLE flow_events,Firefox,63,Linux,{UID},account.login,sync,d").as_bytes(),
    );
    let path = dir.join("events-2019-02-01.csv");
    std::fs::write(&path, bytes).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
    path
}

fn hostile_content(engine: EngineKind) {
    let dir = common::scratch_dir(&common::unique_name("hostile"));
    let file = hostile_file(&dir);
    let (mut warehouse, _, schema) = common::open(engine, "hostile");
    let report = warehouse
        .import(Kind::Activity, &[file], &ImportOptions::default())
        .unwrap_or_else(|err| panic!("{engine:?}: {err}"));
    let counts = &report.copies[0].counts;
    let rejected: Vec<(u64, &str)> = counts
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (3, "NUL byte in device_id"),
            (4, "invalid UTF-8 in ua_os"),
            (7, "3 fields, expected 8"),
            (
                8,
                "timestamp is not an integer: \"1; DROP TABLE flow_events\""
            ),
        ],
        "{engine:?}"
    );
    assert_eq!(
        (
            counts.rows_read,
            counts.rows_loaded,
            counts.truncated_values
        ),
        (7, 3, 2),
        "{engine:?}"
    );
    let rows = warehouse
        .query("SELECT ua_browser, ua_version, ua_os, uid, type, service, device_id FROM activity_events ORDER BY type, uid")
        .unwrap_or_else(|err| panic!("{engine:?}: {err}"));
    let text = |row: &Vec<Option<String>>| {
        row.iter()
            .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
            .collect::<Vec<_>>()
    };
    let rows: Vec<Vec<String>> = rows.iter().map(text).collect();
    assert_eq!(
        rows,
        [
            vec![
                "Fire,fox",
                "6\"3",
                "Win\ndows",
                UID,
                "account.login",
                "'); DROP TABLE activity_events; --",
                "a\\tb\\N"
            ],
            vec![
                &"x".repeat(40),
                "63",
                &"é".repeat(20),
                UID,
                "account.signed",
                "sync",
                "d2"
            ],
            vec![
                "Firefox",
                "63",
                "Linux",
                "0'; DELETE FROM activity_events_sampled_10; --",
                "x;SELECT 1;",
                "sync",
                "\t"
            ],
        ],
        "{engine:?}"
    );
    // Nothing was executed: every table is still there, and the 10 % sample holds its rows.
    assert_eq!(warehouse.dump_all().map(|t| t.len()).ok(), Some(21));
    let sampled = warehouse
        .query("SELECT COUNT(*) FROM activity_events_sampled_10")
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        sampled,
        [[Some("3".to_owned())]],
        "{engine:?}: uid 0a0b0c0... has cohort 0xa0b0c0 % 100 = 8, and 0'; DELETE... has strtol(\"0'\") = 0"
    );
    drop(warehouse);
    common::drop_schema(schema.as_deref());
}

#[test]
fn hostile_content_on_sqlite() {
    hostile_content(EngineKind::Sqlite);
}

#[test]
fn hostile_content_on_postgres() {
    hostile_content(EngineKind::Postgres);
}

/// 101 rejected rows fail the file: nothing of it is loaded, the error names the file and its
/// first rejected lines, and the run stops there as the scripts did.
#[test]
fn over_the_rejected_row_budget_nothing_is_loaded() {
    for engine in [EngineKind::Sqlite, EngineKind::Postgres] {
        let dir = common::scratch_dir(&common::unique_name("budget"));
        let mut text = String::new();
        for index in 0..150 {
            if index % 3 == 0 {
                text.push_str("x,y\n");
            } else {
                text.push_str(&format!(
                    "1548984151,Firefox,63,Linux,{UID},account.login,sync,d{index}\n"
                ));
            }
        }
        let newer = dir.join("events-2019-02-02.csv");
        std::fs::write(
            &newer,
            format!("1549070551,Firefox,63,Linux,{UID},account.login,sync,d\n"),
        )
        .unwrap_or_else(|err| panic!("{err}"));
        let ok = dir.join("events-2019-02-01.csv");
        std::fs::write(&ok, text.repeat(3)).unwrap_or_else(|err| panic!("{err}"));
        let (mut warehouse, _, schema) = common::open(engine, "budget");
        let result = warehouse.import(
            Kind::Activity,
            &[ok.clone(), newer],
            &ImportOptions::default(),
        );
        match result {
            Err(Error::TooManyRejected {
                file,
                rejected,
                first,
            }) => {
                assert_eq!(file, ok);
                assert_eq!(rejected, 150);
                assert_eq!(first.first().map(|r| r.line), Some(1));
                assert_eq!(first.get(1).map(|r| r.line), Some(4));
            }
            other => panic!("{engine:?}: expected TooManyRejected, got {other:?}"),
        }
        // The newer day (processed first) stays imported; nothing of the failed day was loaded.
        let days = warehouse
            .query("SELECT COUNT(*) FROM activity_events")
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(days, [[Some("1".to_owned())]], "{engine:?}");
        drop(warehouse);
        common::drop_schema(schema.as_deref());
    }
}
