//! Helpers shared by the warehouse tests: a fresh warehouse per test on each engine.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use metricsmith_warehouse::Warehouse;

/// The PostgreSQL server of the tests (`DATABASE_URL`, default the local trust-auth server).
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The engines every test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique name for this test's database (SQLite file) or schema (PostgreSQL).
pub fn unique_name(label: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("wh_{label}_{}_{n}", std::process::id())
}

/// Where a test keeps its files (inside the target directory, removed at the start).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("create {}: {err}", dir.display()));
    dir
}

/// A connection URL and schema that `Warehouse::open_in_schema` accepts for a fresh warehouse.
pub fn fresh(engine: EngineKind, label: &str) -> (String, Option<String>) {
    let name = unique_name(label);
    match engine {
        EngineKind::Sqlite => {
            let dir = scratch_dir(&name);
            (
                format!("sqlite:{}", dir.join("warehouse.db").display()),
                None,
            )
        }
        EngineKind::Postgres => {
            let url = database_url();
            let mut client = postgres::Client::connect(&url, postgres::NoTls)
                .unwrap_or_else(|err| panic!("PostgreSQL at {url} is needed for this test: {err}"));
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .unwrap_or_else(|err| panic!("drop schema {name}: {err}"));
            (url, Some(name))
        }
    }
}

/// Opens a fresh warehouse.
#[track_caller]
pub fn open(engine: EngineKind, label: &str) -> (Warehouse, String, Option<String>) {
    let (url, schema) = fresh(engine, label);
    let warehouse = Warehouse::open_in_schema(&url, schema.as_deref())
        .unwrap_or_else(|err| panic!("open {url}: {err}"));
    (warehouse, url, schema)
}

/// Drops a test's PostgreSQL schema.
pub fn drop_schema(schema: Option<&str>) {
    if let Some(schema) = schema {
        let url = database_url();
        if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}
