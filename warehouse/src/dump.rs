//! `warehouse dump`: every table as `<table>.csv` in the conformance corpus's format.
//!
//! Header line of column names; rows sorted by their rendered fields (code-point order, column
//! by column); TIMESTAMP as `YYYY-MM-DDTHH:MM:SSZ`, DATE as `YYYY-MM-DD`, BOOLEAN as
//! `true`/`false`; NULL as `\N` and the empty string as an empty field; a field is quoted only
//! when it holds `,`, `"`, CR or LF, or starts or ends with white space.

use std::path::Path;

use crate::tables::{Column, ColumnType, all_tables};
use crate::{Error, Warehouse};

/// One table's rendered rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump {
    /// The table name.
    pub name: String,
    /// The file content: header and sorted rows, each line ending in LF.
    pub csv: String,
}

fn render(value: Option<String>, column: &Column) -> String {
    let Some(text) = value else {
        return "\\N".to_owned();
    };
    match column.ty {
        ColumnType::Timestamp => format!("{}Z", text.replacen(' ', "T", 1)),
        ColumnType::Boolean => match text.as_str() {
            "t" | "1" | "true" => "true".to_owned(),
            _ => "false".to_owned(),
        },
        _ => text,
    }
}

fn quote(field: &str) -> String {
    let needs = field.contains([',', '"', '\r', '\n'])
        || field.starts_with(char::is_whitespace)
        || field.ends_with(char::is_whitespace);
    if needs {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

impl Warehouse {
    /// Renders one table.
    ///
    /// # Errors
    /// A database error.
    pub fn dump_table(&mut self, name: &str, columns: &[Column]) -> Result<TableDump, Error> {
        let list = crate::engine::quoted_list(columns.iter().map(|c| c.name));
        let rows = self.engine.query(&format!("SELECT {list} FROM {name}"))?;
        let mut rendered: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(columns)
                    .map(|(value, column)| render(value, column))
                    .collect()
            })
            .collect();
        rendered.sort();
        let mut csv = columns.iter().map(|c| c.name).collect::<Vec<_>>().join(",");
        csv.push('\n');
        for row in rendered {
            csv.push_str(
                &row.iter()
                    .map(|field| quote(field))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            csv.push('\n');
        }
        Ok(TableDump {
            name: name.to_owned(),
            csv,
        })
    }

    /// Renders all 21 tables, sorted by name.
    ///
    /// # Errors
    /// A database error.
    pub fn dump_all(&mut self) -> Result<Vec<TableDump>, Error> {
        all_tables()
            .into_iter()
            .map(|(name, columns)| self.dump_table(&name, columns))
            .collect()
    }

    /// Writes every table as `<dir>/<table>.csv`, creating `dir`.
    ///
    /// # Errors
    /// A database or file error.
    pub fn dump(&mut self, dir: &Path) -> Result<Vec<TableDump>, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let tables = self.dump_all()?;
        for table in &tables {
            let path = dir.join(format!("{}.csv", table.name));
            std::fs::write(&path, &table.csv).map_err(|source| Error::Io { path, source })?;
        }
        Ok(tables)
    }
}
