//! The metricsmith warehouse loader: FxA's activity, flow and email events in the tables
//! analysts queried (fxa-activity-metrics, spec §7), on SQLite or PostgreSQL.
//!
//! [`Warehouse::open`] takes `sqlite:PATH` or a `postgres://` URL. [`Warehouse::import`] imports
//! FxA's daily CSV files with the original scripts' semantics, [`Warehouse::summarize`] computes
//! the daily summaries and [`Warehouse::dump`] writes every table as CSV.
//!
//! ```no_run
//! use metricsmith_warehouse::{ImportOptions, Kind, Warehouse};
//!
//! let mut warehouse = Warehouse::open("sqlite:warehouse.db")?;
//! let report = warehouse.import(Kind::Flow, &["flow-2019-02-01.csv".into()], &ImportOptions::default())?;
//! assert_eq!(report.days_processed.len(), 1);
//! warehouse.summarize()?;
//! # Ok::<(), metricsmith_warehouse::Error>(())
//! ```

use std::path::{Path, PathBuf};

mod csv;
mod date;
mod dump;
mod engine;
mod import;
mod ingest;
mod kind;
mod postgres;
mod sqlite;
mod summary;
pub mod synthetic;
mod tables;

pub use crate::csv::{LoadCounts, Rejected, cohort};
pub use crate::date::{Day, Timestamp};
pub use crate::dump::TableDump;
pub use crate::engine::{Dialect, Engine, RowSink, RowSource, Value};
pub use crate::import::{
    CopyReport, ImportOptions, ImportOutcome, ImportReport, MAX_ERRORS, day_of_file,
};
pub use crate::ingest::{IngestCounts, IngestReport};
pub use crate::kind::Kind;
pub use crate::summary::{SampleSummary, SummaryOutcome};
pub use crate::tables::{Column, ColumnType, FAMILIES, Family, Sample, all_tables};

/// Errors of the warehouse loader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database URL is neither `sqlite:PATH` nor `postgres://`/`postgresql://`.
    #[error("unsupported database `{0}` (expected sqlite:PATH or postgres://...)")]
    Url(String),
    /// A schema name that is not a lower-case SQL identifier.
    #[error("schema name `{0}` is not a lower-case identifier ([a-z_][a-z0-9_]*)")]
    Schema(String),
    /// The database reported an error.
    #[error("{engine}: {message}")]
    Database {
        /// `sqlite` or `postgresql`.
        engine: &'static str,
        /// The database's message.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file name without a `-YYYY-MM-DD.xxx` day.
    #[error("{}: the file name does not end in -YYYY-MM-DD with a 3-letter extension", path.display())]
    FileName {
        /// The file.
        path: PathBuf,
    },
    /// Two files of one import have the same day.
    #[error("two files for {day}: {} and {}", first.display(), second.display())]
    DuplicateDay {
        /// The day.
        day: Day,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// A late day was asked for without a file of that day.
    #[error("late day {0} was asked for, but no file of that day was given")]
    LateDayWithoutFile(Day),
    /// More than [`MAX_ERRORS`] records of a file were rejected: the file is not loaded and the
    /// run stops there, as Redshift's COPY and the scripts did.
    #[error(
        "{}: {rejected} rejected records, more than the {max} allowed; nothing of this file was loaded and the run stopped (first: {})",
        file.display(),
        import::describe_rejected(first),
        max = MAX_ERRORS
    )]
    TooManyRejected {
        /// The file.
        file: PathBuf,
        /// How many records were rejected.
        rejected: usize,
        /// The first rejected records.
        first: Vec<Rejected>,
    },
    /// An ingest whose lines fall on more days than it files at once.
    #[error("the lines fall on more than {0} days; ingest them in smaller parts")]
    TooManyDays(usize),
    /// A day at the end of the calendar.
    #[error("day {0} is too close to the year 9999")]
    DayOutOfRange(Day),
    /// The warehouse's own bookkeeping holds something unexpected.
    #[error("the warehouse's bookkeeping is damaged: {0}")]
    Corrupt(String),
}

/// A warehouse: the 21 tables of fxa-activity-metrics in one database.
#[derive(Debug)]
pub struct Warehouse {
    engine: Box<dyn Engine + Send>,
}

impl std::fmt::Debug for dyn Engine + Send {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} engine", self.dialect())
    }
}

impl Warehouse {
    /// Opens a warehouse (`sqlite:PATH` or `postgres://...`) and creates its tables if needed.
    ///
    /// # Errors
    /// An unsupported URL or a database error.
    pub fn open(url: &str) -> Result<Warehouse, Error> {
        Warehouse::open_in_schema(url, None)
    }

    /// Like [`Warehouse::open`]; on PostgreSQL the tables live in `schema` (created if needed).
    ///
    /// # Errors
    /// An unsupported URL, a schema name that is not an identifier, or a database error.
    pub fn open_in_schema(url: &str, schema: Option<&str>) -> Result<Warehouse, Error> {
        let engine: Box<dyn Engine + Send> = if let Some(path) = url.strip_prefix("sqlite:") {
            if schema.is_some() {
                return Err(Error::Url(format!(
                    "{url} (a schema is for PostgreSQL only)"
                )));
            }
            Box::new(sqlite::Sqlite::open(Path::new(path))?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Box::new(postgres::Postgres::connect(url, schema)?)
        } else {
            return Err(Error::Url(url.to_owned()));
        };
        Warehouse::with_engine(engine)
    }

    /// Uses an engine of one's own, creating the tables if needed.
    ///
    /// # Errors
    /// A database error.
    pub fn with_engine(engine: Box<dyn Engine + Send>) -> Result<Warehouse, Error> {
        let mut warehouse = Warehouse { engine };
        // Under the lock: two processes creating the same PostgreSQL tables at once can collide.
        warehouse.engine.lock()?;
        let created = warehouse.create_tables();
        let unlocked = warehouse.engine.unlock();
        created?;
        unlocked?;
        Ok(warehouse)
    }

    /// The engine's dialect.
    pub fn dialect(&self) -> Dialect {
        self.engine.dialect()
    }

    /// Runs a query and returns every value as text (`None` for NULL), for analysts' queries
    /// and tests.
    ///
    /// # Errors
    /// A database error.
    pub fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        self.engine.query(sql)
    }

    fn create_tables(&mut self) -> Result<(), Error> {
        let dialect = self.engine.dialect();
        let mut ddl = vec![tables::generated_ddl(dialect).to_owned()];
        for (name, columns) in all_tables() {
            // The scripts' sort keys: the import deletes and updates by day and by flow id.
            let key = if columns.iter().any(|c| c.name == "timestamp")
                && !name.starts_with("flow_experiments")
            {
                "\"timestamp\""
            } else if name.starts_with("flow_") {
                "flow_id"
            } else {
                "day"
            };
            ddl.push(format!(
                "CREATE INDEX IF NOT EXISTS {name}_key ON {name} ({key})"
            ));
        }
        ddl.push(import::plan_table_ddl());
        self.engine.batch("BEGIN")?;
        let result = ddl.iter().try_for_each(|sql| self.engine.batch(sql));
        self.finish_transaction(result)
    }
}
