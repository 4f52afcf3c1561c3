//! The embedded engine: one SQLite file (`sqlite:PATH`).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use crate::Error;
use crate::engine::{Dialect, Engine, RowSink, RowSource, Value, quoted_list};

/// A warehouse in a SQLite file.
#[derive(Debug)]
pub struct Sqlite {
    connection: Connection,
    lock_path: PathBuf,
    lock: Option<File>,
}

impl Sqlite {
    /// Opens (creating if needed) the database file.
    ///
    /// # Errors
    /// The file cannot be opened as a SQLite database.
    pub fn open(path: &Path) -> Result<Sqlite, Error> {
        let connection = Connection::open(path).map_err(sqlite)?;
        // WAL keeps readers (dumps, analysts) working during an import; NORMAL synchronous is
        // durable at every checkpoint and never corrupts on a crash.
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 60000;")
            .map_err(sqlite)?;
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        Ok(Sqlite {
            connection,
            lock_path: PathBuf::from(lock_path),
            lock: None,
        })
    }
}

pub(crate) fn sqlite(err: rusqlite::Error) -> Error {
    Error::Database {
        engine: "sqlite",
        message: err.to_string(),
    }
}

struct Bind<'a>(Value<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Value::Int(value) => ToSqlOutput::Borrowed(ValueRef::Integer(value)),
            Value::Bool(value) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(value))),
            Value::Day(day) => ToSqlOutput::from(day.to_string()),
            Value::Timestamp(ts) => ToSqlOutput::from(ts.to_string()),
        })
    }
}

struct StatementSink<'c> {
    statement: rusqlite::CachedStatement<'c>,
    count: u64,
}

impl RowSink for StatementSink<'_> {
    fn row(&mut self, values: &[Value<'_>]) -> Result<(), Error> {
        for (index, value) in values.iter().enumerate() {
            self.statement
                .raw_bind_parameter(index + 1, Bind(*value))
                .map_err(sqlite)?;
        }
        self.statement.raw_execute().map_err(sqlite)?;
        self.count += 1;
        Ok(())
    }
}

impl Engine for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.connection.execute_batch(sql).map_err(sqlite)
    }

    fn execute(&mut self, sql: &str) -> Result<u64, Error> {
        let changed = self.connection.execute(sql, []).map_err(sqlite)?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        let mut statement = self.connection.prepare(sql).map_err(sqlite)?;
        let width = statement.column_count();
        let mut rows = statement.query([]).map_err(sqlite)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sqlite)? {
            let mut values = Vec::with_capacity(width);
            for index in 0..width {
                let value = match row.get_ref(index).map_err(sqlite)? {
                    ValueRef::Null => None,
                    ValueRef::Integer(value) => Some(value.to_string()),
                    ValueRef::Real(value) => Some(value.to_string()),
                    ValueRef::Text(text) | ValueRef::Blob(text) => {
                        Some(String::from_utf8_lossy(text).into_owned())
                    }
                };
                values.push(value);
            }
            out.push(values);
        }
        Ok(out)
    }

    fn load(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut RowSource<'_>,
    ) -> Result<u64, Error> {
        let names = quoted_list(columns.iter().copied());
        let marks = vec!["?"; columns.len()].join(", ");
        let sql = format!("INSERT INTO {table} ({names}) VALUES ({marks})");
        let statement = self.connection.prepare_cached(&sql).map_err(sqlite)?;
        let mut sink = StatementSink {
            statement,
            count: 0,
        };
        rows(&mut sink)?;
        Ok(sink.count)
    }

    fn lock(&mut self) -> Result<(), Error> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(|source| Error::Io {
                path: self.lock_path.clone(),
                source,
            })?;
        // An OS file lock: released by the kernel when the process dies, even by kill -9.
        file.lock().map_err(|source| Error::Io {
            path: self.lock_path.clone(),
            source,
        })?;
        self.lock = Some(file);
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), Error> {
        if let Some(file) = self.lock.take() {
            file.unlock().map_err(|source| Error::Io {
                path: self.lock_path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}
