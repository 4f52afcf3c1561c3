//! The engine interface: what the loader needs from a database, and the SQL dialect differences.
//!
//! The import logic (crate::import, crate::summary) writes its SQL once; the few places where
//! PostgreSQL and SQLite differ go through [`Dialect`]. User data never enters SQL text: it goes
//! through [`Engine::load`] (COPY on PostgreSQL, a prepared statement on SQLite). SQL text only
//! holds identifiers from the table catalog and dates rendered from [`Day`] values.

use crate::Error;
use crate::date::{Day, Timestamp};
use crate::tables::{Column, ColumnType};

/// One value of a row given to [`Engine::load`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// A string (never containing NUL; the CSV reader rejects those rows).
    Text(&'a str),
    /// A BIGINT.
    Int(i64),
    /// A BOOLEAN.
    Bool(bool),
    /// A DATE.
    Day(Day),
    /// A TIMESTAMP.
    Timestamp(Timestamp),
}

/// Receives the rows of one bulk load.
pub trait RowSink {
    /// Adds one row; the values are in the order of the load's columns.
    ///
    /// # Errors
    /// A database error.
    fn row(&mut self, values: &[Value<'_>]) -> Result<(), Error>;
}

/// The rows of a bulk load, produced into a [`RowSink`].
pub type RowSource<'s> = dyn FnMut(&mut dyn RowSink) -> Result<(), Error> + 's;

/// A database the warehouse can live in.
///
/// Each method runs on one connection; transactions are plain `BEGIN`/`COMMIT` statements.
pub trait Engine {
    /// The SQL dialect of the engine.
    fn dialect(&self) -> Dialect;
    /// Runs one or more statements without parameters.
    ///
    /// # Errors
    /// A database error.
    fn batch(&mut self, sql: &str) -> Result<(), Error>;
    /// Runs one statement and returns the number of rows it changed.
    ///
    /// # Errors
    /// A database error.
    fn execute(&mut self, sql: &str) -> Result<u64, Error>;
    /// Runs a query; every value comes back as the engine's text rendering, NULL as `None`.
    ///
    /// # Errors
    /// A database error.
    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error>;
    /// Appends rows to a table the engine's fastest way.
    ///
    /// # Errors
    /// A database error, or the first error `rows` returned.
    fn load(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut RowSource<'_>,
    ) -> Result<u64, Error>;
    /// Takes the warehouse's advisory lock, waiting for another holder to release it.
    /// The lock is released by [`Engine::unlock`] or when the process ends.
    ///
    /// # Errors
    /// A database or file error.
    fn lock(&mut self) -> Result<(), Error>;
    /// Releases the advisory lock.
    ///
    /// # Errors
    /// A database or file error.
    fn unlock(&mut self) -> Result<(), Error>;
}

/// The SQL differences between the engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: dates and timestamps stored as ISO text, booleans as 0/1.
    Sqlite,
    /// PostgreSQL: native types, text columns with the byte-order `"C"` collation.
    Postgres,
}

impl Dialect {
    /// The column type in DDL.
    pub fn column_type(self, ty: ColumnType) -> String {
        let engine = match self {
            Dialect::Sqlite => metricsmith_codegen::warehouse::Engine::Sqlite,
            Dialect::Postgres => metricsmith_codegen::warehouse::Engine::Postgres,
        };
        engine.column_type(ty)
    }

    /// `CREATE TABLE IF NOT EXISTS` for a table of these columns.
    pub fn create_table(self, name: &str, columns: &[Column], temporary: bool) -> String {
        let body = columns
            .iter()
            .map(|c| {
                let mut text = format!("  \"{}\" {}", c.name, self.column_type(c.ty));
                if c.not_null {
                    text.push_str(" NOT NULL");
                }
                if let Some(default) = c.default {
                    text.push_str(" DEFAULT ");
                    text.push_str(default);
                }
                text
            })
            .collect::<Vec<_>>()
            .join(",\n");
        let temp = if temporary { "TEMPORARY " } else { "" };
        format!("CREATE {temp}TABLE IF NOT EXISTS {name} (\n{body}\n);\n")
    }

    /// A DATE literal.
    pub fn date(self, day: Day) -> String {
        match self {
            Dialect::Sqlite => format!("'{day}'"),
            Dialect::Postgres => format!("DATE '{day}'"),
        }
    }

    /// A TIMESTAMP literal for midnight at the start of `day`.
    pub fn midnight(self, day: Day) -> String {
        match self {
            Dialect::Sqlite => format!("'{day} 00:00:00'"),
            Dialect::Postgres => format!("TIMESTAMP '{day} 00:00:00'"),
        }
    }

    /// `expr::DATE` for a TIMESTAMP expression.
    pub fn day_of(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("substr({expr}, 1, 10)"),
            Dialect::Postgres => format!("CAST({expr} AS DATE)"),
        }
    }

    /// `expr - days` for a DATE expression.
    pub fn minus_days(self, expr: &str, days: u32) -> String {
        match self {
            Dialect::Sqlite => format!("date({expr}, '-{days} days')"),
            Dialect::Postgres => format!("({expr} - {days})"),
        }
    }

    /// Removes every row of a (staging) table.
    pub fn clear(self, table: &str) -> String {
        match self {
            Dialect::Sqlite => format!("DELETE FROM {table}"),
            Dialect::Postgres => format!("TRUNCATE {table}"),
        }
    }
}

/// `"a", "b", ...`: column names quoted for SQL (names come from the table catalog).
pub fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A condition that a TIMESTAMP column falls on a day in `[from, until]`.
pub fn days_between(dialect: Dialect, column: &str, from: Day, until: Day) -> String {
    let end = until.add_days(1).map_or_else(
        || "'9999-12-31 23:59:59'".to_owned(),
        |d| dialect.midnight(d),
    );
    format!(
        "{column} >= {} AND {column} < {end}",
        dialect.midnight(from)
    )
}

/// A condition that a TIMESTAMP column falls on a day before `day`.
pub fn before_day(dialect: Dialect, column: &str, day: Day) -> String {
    format!("{column} < {}", dialect.midnight(day))
}
