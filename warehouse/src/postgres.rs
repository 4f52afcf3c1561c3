//! The server engine: PostgreSQL (`postgres://...`), bulk loads through `COPY ... FROM STDIN`.

use std::io::{BufWriter, Write};

use postgres::{Client, NoTls, SimpleQueryMessage};

use crate::Error;
use crate::engine::{Dialect, Engine, RowSink, RowSource, Value, quoted_list};

/// A warehouse in a PostgreSQL database (optionally in a schema of its own).
pub struct Postgres {
    client: Client,
    locked: bool,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("locked", &self.locked)
            .finish_non_exhaustive()
    }
}

pub(crate) fn pg(err: postgres::Error) -> Error {
    let message = match err.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => err.to_string(),
    };
    Error::Database {
        engine: "postgresql",
        message,
    }
}

impl Postgres {
    /// Connects, and when `schema` is given creates it if needed and works inside it.
    ///
    /// # Errors
    /// The connection fails, or the schema name is not a plain lower-case identifier.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Postgres, Error> {
        let mut client = Client::connect(url, NoTls).map_err(pg)?;
        // Timestamps are naive UTC and dates ISO text, whatever the server's defaults.
        client
            .batch_execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_min_messages = WARNING;")
            .map_err(pg)?;
        if let Some(schema) = schema {
            if !is_identifier(schema) {
                return Err(Error::Schema(schema.to_owned()));
            }
            client
                .batch_execute(&format!(
                    "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema};"
                ))
                .map_err(pg)?;
        }
        Ok(Postgres {
            client,
            locked: false,
        })
    }
}

pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
}

struct CopySink<'a> {
    writer: BufWriter<postgres::CopyInWriter<'a>>,
    line: Vec<u8>,
    count: u64,
}

/// Appends a value in COPY's text format: `\N` for NULL, backslash escapes for the delimiter,
/// line breaks and the backslash itself.
fn push_copy_text(out: &mut Vec<u8>, text: &str) {
    for &byte in text.as_bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }
}

impl RowSink for CopySink<'_> {
    fn row(&mut self, values: &[Value<'_>]) -> Result<(), Error> {
        self.line.clear();
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                self.line.push(b'\t');
            }
            match value {
                Value::Null => self.line.extend_from_slice(b"\\N"),
                Value::Text(text) => push_copy_text(&mut self.line, text),
                Value::Int(value) => self.line.extend_from_slice(value.to_string().as_bytes()),
                Value::Bool(value) => self.line.push(if *value { b't' } else { b'f' }),
                Value::Day(day) => self.line.extend_from_slice(day.to_string().as_bytes()),
                Value::Timestamp(ts) => self.line.extend_from_slice(ts.to_string().as_bytes()),
            }
        }
        self.line.push(b'\n');
        self.writer
            .write_all(&self.line)
            .map_err(|err| Error::Database {
                engine: "postgresql",
                message: format!("COPY: {err}"),
            })?;
        self.count += 1;
        Ok(())
    }
}

impl Engine for Postgres {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn batch(&mut self, sql: &str) -> Result<(), Error> {
        self.client.batch_execute(sql).map_err(pg)
    }

    fn execute(&mut self, sql: &str) -> Result<u64, Error> {
        self.client.execute(sql, &[]).map_err(pg)
    }

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, Error> {
        let messages = self.client.simple_query(sql).map_err(pg)?;
        let mut out = Vec::new();
        for message in messages {
            if let SimpleQueryMessage::Row(row) = message {
                out.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                );
            }
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
        let writer = self
            .client
            .copy_in(&format!("COPY {table} ({names}) FROM STDIN"))
            .map_err(pg)?;
        let mut sink = CopySink {
            writer: BufWriter::with_capacity(1 << 16, writer),
            line: Vec::new(),
            count: 0,
        };
        // On an error the writer is dropped unfinished, which aborts the COPY.
        rows(&mut sink)?;
        let count = sink.count;
        let writer = sink.writer.into_inner().map_err(|err| Error::Database {
            engine: "postgresql",
            message: format!("COPY: {}", err.error()),
        })?;
        writer.finish().map_err(pg)?;
        Ok(count)
    }

    fn lock(&mut self) -> Result<(), Error> {
        // A session lock keyed by the schema: released on unlock, on disconnect, and when the
        // server notices the client died (kill -9 closes the socket).
        self.client
            .batch_execute(
                "SELECT pg_advisory_lock(hashtext('metricsmith-warehouse:' || current_schema()))",
            )
            .map_err(pg)?;
        self.locked = true;
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), Error> {
        if self.locked {
            self.client
                .batch_execute("SELECT pg_advisory_unlock(hashtext('metricsmith-warehouse:' || current_schema()))")
                .map_err(pg)?;
            self.locked = false;
        }
        Ok(())
    }
}
