//! The standard queries of docs/warehouse.md, run as written on both engines after importing
//! scenario s01 (one bulk run of each script): each gives rows, the same rows on SQLite and
//! PostgreSQL, and the multi-device query agrees with the recorded table of the original scripts.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::EngineKind;
use metricsmith_warehouse::{ImportOptions, Kind, Warehouse};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ```sql blocks of the "Standard queries" section.
fn documented_queries() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/warehouse.md"))
        .unwrap_or_else(|err| panic!("read docs/warehouse.md: {err}"));
    let section = doc
        .split("## Standard queries")
        .nth(1)
        .unwrap_or_else(|| panic!("docs/warehouse.md has a Standard queries section"));
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .split("```sql\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(str::to_owned)
        .collect()
}

fn load_s01(engine: EngineKind) -> (Warehouse, Option<String>) {
    let input = root().join("../shared/conformance/warehouse/s01_bulk_40d/input");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&input)
        .unwrap_or_else(|err| panic!("list {}: {err}", input.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names.sort();
    let (mut warehouse, _, schema) = common::open(engine, "queries");
    for kind in Kind::ALL {
        let files: Vec<PathBuf> = names
            .iter()
            .filter(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                name.starts_with(kind.file_prefix())
                    && name[kind.file_prefix().len()..].starts_with(char::is_numeric)
            })
            .cloned()
            .collect();
        warehouse
            .import(kind, &files, &ImportOptions::default())
            .unwrap_or_else(|err| panic!("import {kind}: {err}"));
    }
    warehouse
        .summarize()
        .unwrap_or_else(|err| panic!("summarize: {err}"));
    (warehouse, schema)
}

#[test]
fn standard_queries_give_the_same_rows_on_both_engines() {
    let queries = documented_queries();
    assert_eq!(queries.len(), 4, "docs/warehouse.md has 4 standard queries");
    let mut results = Vec::new();
    for engine in [EngineKind::Sqlite, EngineKind::Postgres] {
        let (mut warehouse, schema) = load_s01(engine);
        let rows: Vec<Vec<Vec<Option<String>>>> = queries
            .iter()
            .map(|sql| {
                warehouse
                    .query(sql)
                    .unwrap_or_else(|err| panic!("{engine:?}: {err}\n{sql}"))
            })
            .collect();
        drop(warehouse);
        common::drop_schema(schema.as_deref());
        results.push(rows);
    }
    for (index, sql) in queries.iter().enumerate() {
        assert!(results[0][index].len() > 1, "query gives rows:\n{sql}");
        assert_eq!(
            results[0][index], results[1][index],
            "SQLite and PostgreSQL differ on:\n{sql}"
        );
    }
    // Multi-device users per day, counted from the table the original scripts produced.
    let recorded = std::fs::read_to_string(root().join(
        "../shared/conformance/warehouse/s01_bulk_40d/expected/daily_multi_device_users.csv",
    ))
    .unwrap_or_else(|err| panic!("read the recorded table: {err}"));
    let mut users: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for line in recorded.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        users
            .entry(fields[0].to_owned())
            .or_default()
            .insert(fields[1].to_owned());
    }
    let expected: Vec<Vec<Option<String>>> = users
        .iter()
        .map(|(day, set)| vec![Some(day.clone()), Some(set.len().to_string())])
        .collect();
    assert_eq!(results[0][2], expected);
}
