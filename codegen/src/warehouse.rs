//! The `warehouse:` section: the analysts' tables that `metricsmith warehouse` loads (FxA's
//! fxa-activity-metrics tables, spec §7), with their columns, types and widths, the id column
//! that samples them, and the samples' rates and retention windows.
//!
//! This module holds the whole section: its syntax tree ([`WarehouseDef`]), its validation and
//! lowering ([`lower_all`]) into the model ([`Warehouse`]), and its two backends: the DDL of each
//! engine ([`render_ddl`]) and the analysts' docs page ([`render_docs`]).
//! The derivations themselves (flow metadata, experiments, daily summaries) are built into the
//! loader; the schema names which one fills each table (`source:`).

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::ast::{Map, Spanned};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::Model;
use crate::parse::span_of;
use crate::source::{FileId, SourceFile, Span};

/// The `warehouse:` section of a schema file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseDef {
    /// What the warehouse holds, for the docs page.
    pub description: Option<String>,
    /// The samples every sampled table exists in: a table-name suffix, the share of ids kept
    /// and how many months of rows are kept.
    pub samples: Vec<Spanned<SampleDef>>,
    /// Tables by name (the unsuffixed name), in the order the docs list them.
    pub tables: Map<Spanned<TableDef>>,
}

/// One sample.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleDef {
    /// The table-name suffix (`""` for the full table, `_sampled_10`, ...).
    pub suffix: Spanned<String>,
    /// A row is kept when the cohort of its id (the first 7 hex digits mod 100) is below this.
    pub percent: Spanned<u32>,
    /// Rows older than this many months before the newest imported day are deleted.
    pub months: Spanned<u32>,
}

/// One table.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    /// What a row is.
    pub description: Option<String>,
    /// The built-in import or derivation that fills the table.
    pub source: Spanned<String>,
    /// The id column whose cohort decides the samples; absent for tables derived from a
    /// sampled table (they inherit its sampling).
    pub sampled_by: Option<Spanned<String>>,
    /// The columns in table order.
    pub columns: Map<Spanned<ColumnDef>>,
}

/// One column.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// `timestamp`, `date`, `bigint`, `boolean` or `varchar(N)`.
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    /// `NOT NULL`.
    #[serde(default)]
    pub required: bool,
    /// The default value (`0`, `false`, `true`).
    pub default: Option<Spanned<String>>,
    /// Where the value comes from.
    pub from: Option<String>,
    /// What the value means.
    pub description: Option<String>,
}

/// The sources the loader implements, with what each does (for the docs).
pub const SOURCES: [(&str, &str); 7] = [
    (
        "activity-events",
        "imported from the daily activity CSV (`events-YYYY-MM-DD.csv`)",
    ),
    (
        "flow-events",
        "imported from the daily flow CSV (`flow-YYYY-MM-DD.csv`)",
    ),
    (
        "email-events",
        "imported from the daily email CSV (`email-events-YYYY-MM-DD.csv`)",
    ),
    (
        "flow-metadata",
        "one row per `flow.begin` of a flow CSV, completed from the flow's events of its day and the next",
    ),
    (
        "flow-experiments",
        "one row per `flow.experiment.<experiment>.<cohort>` of a flow CSV",
    ),
    (
        "daily-activity-per-device",
        "`warehouse summarize`: distinct (day, uid, device, service, user agent) with a device id",
    ),
    (
        "daily-multi-device-users",
        "`warehouse summarize`: a user's two devices active within 7 days",
    ),
];

/// A column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `TIMESTAMP`.
    Timestamp,
    /// `DATE`.
    Date,
    /// `BIGINT`.
    BigInt,
    /// `BOOLEAN`.
    Boolean,
    /// `VARCHAR(n)`, n in bytes.
    Varchar(u32),
}

/// The validated warehouse section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warehouse {
    /// The file that declared it (as named to the loader).
    pub file: String,
    /// What it holds.
    pub description: Option<String>,
    /// The samples, in declaration order.
    pub samples: Vec<Sample>,
    /// The tables, in declaration order.
    pub tables: Vec<Table>,
}

/// A validated sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The suffix.
    pub suffix: String,
    /// The share of ids, 1 to 100.
    pub percent: u32,
    /// The retention in months.
    pub months: u32,
}

/// A validated table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The unsuffixed name.
    pub name: String,
    /// What a row is.
    pub description: Option<String>,
    /// The built-in source (one of [`SOURCES`]).
    pub source: String,
    /// The sampling id column.
    pub sampled_by: Option<String>,
    /// The columns.
    pub columns: Vec<Column>,
}

/// A validated column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The name.
    pub name: String,
    /// The type.
    pub ty: ColumnType,
    /// `NOT NULL`.
    pub required: bool,
    /// The SQL default (`0`, `FALSE`, `TRUE`).
    pub default: Option<&'static str>,
    /// Where the value comes from.
    pub from: Option<String>,
    /// What it means.
    pub description: Option<String>,
}

fn parse_type(text: &str) -> Option<ColumnType> {
    match text {
        "timestamp" => Some(ColumnType::Timestamp),
        "date" => Some(ColumnType::Date),
        "bigint" => Some(ColumnType::BigInt),
        "boolean" => Some(ColumnType::Boolean),
        _ => {
            let width = text.strip_prefix("varchar(")?.strip_suffix(')')?;
            if !width.bytes().all(|b| b.is_ascii_digit()) || width.starts_with('0') {
                return None;
            }
            let width: u32 = width.parse().ok()?;
            (1..=65_535)
                .contains(&width)
                .then_some(ColumnType::Varchar(width))
        }
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z' | '_'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 48
}

struct Check<'a> {
    id: FileId,
    source: &'a SourceFile,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Check<'_> {
    fn span<T>(&self, spanned: &Spanned<T>) -> Span {
        span_of(self.id, self.source, spanned)
    }

    fn error<T>(&mut self, code: Code, at: &Spanned<T>, message: String, label: &str) {
        let diagnostic = Diagnostic::new(code, self.span(at), message).label(label);
        self.diagnostics.push(diagnostic);
    }
}

/// Validates every file's `warehouse:` section and puts the one warehouse into the model.
/// Two files with the section are an error (a model holds one warehouse).
pub fn lower_all<'a>(
    files: impl Iterator<Item = (FileId, &'a SourceFile, &'a crate::ast::File)>,
    model: &mut Model,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut first: Option<Span> = None;
    for (id, source, ast) in files {
        let Some(def) = &ast.warehouse else { continue };
        let mut check = Check {
            id,
            source,
            diagnostics,
        };
        let here = check.span(def);
        if let Some(first) = first {
            let diagnostic =
                Diagnostic::new(Code::Duplicate, here, "a second `warehouse:` section")
                    .label("defined again here")
                    .secondary(first, "first defined here");
            check.diagnostics.push(diagnostic);
            continue;
        }
        first = Some(here);
        let before = check.diagnostics.len();
        let warehouse = lower_one(&mut check, &def.value);
        let failed = check.diagnostics[before..]
            .iter()
            .any(|d| d.severity == crate::Severity::Error);
        if !failed {
            model.warehouse = Some(Warehouse {
                file: source
                    .name
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                ..warehouse
            });
        }
    }
}

fn lower_one(check: &mut Check<'_>, def: &WarehouseDef) -> Warehouse {
    let mut samples: Vec<Sample> = Vec::new();
    for sample in &def.samples {
        let s = &sample.value;
        if !s.suffix.value.is_empty() && !is_identifier(&format!("x{}", s.suffix.value)) {
            check.error(
                Code::InvalidValue,
                &s.suffix,
                format!(
                    "sample suffix `{}` is not an identifier part",
                    s.suffix.value
                ),
                "not [a-z0-9_]*",
            );
        }
        if !(1..=100).contains(&s.percent.value) {
            check.error(
                Code::InvalidValue,
                &s.percent,
                format!(
                    "sample percent {} is not between 1 and 100",
                    s.percent.value
                ),
                "out of range",
            );
        }
        if s.months.value == 0 || s.months.value > 1200 {
            check.error(
                Code::InvalidValue,
                &s.months,
                format!(
                    "retention of {} months is not between 1 and 1200",
                    s.months.value
                ),
                "out of range",
            );
        }
        if samples.iter().any(|other| other.suffix == s.suffix.value) {
            check.error(
                Code::Duplicate,
                &s.suffix,
                format!("sample suffix `{}` is declared twice", s.suffix.value),
                "declared again here",
            );
        }
        samples.push(Sample {
            suffix: s.suffix.value.clone(),
            percent: s.percent.value,
            months: s.months.value,
        });
    }
    if samples.is_empty() {
        let at = def.tables.iter().next().map(|(name, _)| name.clone());
        if let Some(at) = at {
            check.error(
                Code::InvalidValue,
                &at,
                "the warehouse declares no samples".into(),
                "tables need at least one sample",
            );
        }
    }
    let mut tables: Vec<Table> = Vec::new();
    let mut sources_used: Vec<(String, Span)> = Vec::new();
    for (name, table) in def.tables.iter() {
        let t = &table.value;
        if !is_identifier(&name.value) {
            check.error(
                Code::InvalidValue,
                name,
                format!(
                    "table name `{}` is not a lower-case identifier of at most 48 characters",
                    name.value
                ),
                "not [a-z_][a-z0-9_]*",
            );
        }
        if !SOURCES.iter().any(|(source, _)| *source == t.source.value) {
            let names: Vec<&str> = SOURCES.iter().map(|(s, _)| *s).collect();
            let diagnostic = Diagnostic::new(
                Code::InvalidValue,
                check.span(&t.source),
                format!("unknown source `{}`", t.source.value),
            )
            .label("not a built-in import or derivation")
            .help(format!("the loader implements {}", names.join(", ")));
            check.diagnostics.push(diagnostic);
        } else if let Some((_, first)) = sources_used.iter().find(|(s, _)| *s == t.source.value) {
            let diagnostic = Diagnostic::new(
                Code::Duplicate,
                check.span(&t.source),
                format!("source `{}` fills two tables", t.source.value),
            )
            .label("used again here")
            .secondary(*first, "first used here");
            check.diagnostics.push(diagnostic);
        } else {
            sources_used.push((t.source.value.clone(), check.span(&t.source)));
        }
        let mut columns = Vec::new();
        for (column_name, column) in t.columns.iter() {
            let c = &column.value;
            if !is_identifier(&column_name.value) {
                check.error(
                    Code::InvalidValue,
                    column_name,
                    format!(
                        "column name `{}` is not a lower-case identifier",
                        column_name.value
                    ),
                    "not [a-z_][a-z0-9_]*",
                );
            }
            let ty = parse_type(&c.ty.value);
            if ty.is_none() {
                let diagnostic = Diagnostic::new(
                    Code::InvalidValue,
                    check.span(&c.ty),
                    format!("unknown column type `{}`", c.ty.value),
                )
                .label("not a warehouse type")
                .help("use timestamp, date, bigint, boolean or varchar(N) with N from 1 to 65535");
                check.diagnostics.push(diagnostic);
            }
            let default = match (&c.default, ty) {
                (None, _) => None,
                (Some(d), Some(ColumnType::BigInt)) if d.value == "0" => Some("0"),
                (Some(d), Some(ColumnType::Boolean)) if d.value == "false" => Some("FALSE"),
                (Some(d), Some(ColumnType::Boolean)) if d.value == "true" => Some("TRUE"),
                (Some(d), _) => {
                    check.error(
                        Code::InvalidValue,
                        d,
                        format!("default `{}` does not fit the column type", d.value),
                        "only 0 for bigint, false or true for boolean",
                    );
                    None
                }
            };
            columns.push(Column {
                name: column_name.value.clone(),
                ty: ty.unwrap_or(ColumnType::BigInt),
                required: c.required,
                default,
                from: c.from.clone(),
                description: c.description.clone(),
            });
        }
        if let Some(by) = &t.sampled_by {
            match columns.iter().find(|c| c.name == by.value) {
                None => check.error(
                    Code::InvalidValue,
                    by,
                    format!(
                        "`sampled_by: {}` is not a column of `{}`",
                        by.value, name.value
                    ),
                    "no such column",
                ),
                Some(column) if !matches!(column.ty, ColumnType::Varchar(_)) => check.error(
                    Code::InvalidValue,
                    by,
                    format!("`sampled_by: {}` is not a varchar column", by.value),
                    "ids are hex text",
                ),
                Some(_) => {}
            }
        }
        tables.push(Table {
            name: name.value.clone(),
            description: t.description.clone(),
            source: t.source.value.clone(),
            sampled_by: t.sampled_by.as_ref().map(|s| s.value.clone()),
            columns,
        });
    }
    Warehouse {
        file: String::new(),
        description: def.description.clone(),
        samples,
        tables,
    }
}

/// An SQL engine the DDL is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL: native types, byte-order (`"C"`) collation for text.
    Postgres,
    /// SQLite: timestamps and dates as ISO text, booleans as 0/1.
    Sqlite,
}

impl Engine {
    /// The file-name part of the engine's DDL file.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Sqlite => "sqlite",
        }
    }

    /// The SQL type of a column type (the loader creates its staging tables with it too).
    pub fn column_type(self, ty: ColumnType) -> String {
        match (self, ty) {
            (Engine::Postgres, ColumnType::Timestamp) => "TIMESTAMP".into(),
            (Engine::Postgres, ColumnType::Date) => "DATE".into(),
            (_, ColumnType::BigInt) => "BIGINT".into(),
            (_, ColumnType::Boolean) => "BOOLEAN".into(),
            (Engine::Postgres, ColumnType::Varchar(n)) => format!("VARCHAR({n}) COLLATE \"C\""),
            (Engine::Sqlite, ColumnType::Timestamp | ColumnType::Date | ColumnType::Varchar(_)) => {
                "TEXT".into()
            }
        }
    }
}

/// The DDL of every table in every sample, for one engine.
pub fn render_ddl(warehouse: &Warehouse, engine: Engine) -> String {
    let mut out = format!(
        "-- @generated by metricsmith from {}. Do not edit.\n",
        warehouse.file
    );
    for sample in &warehouse.samples {
        let _ = writeln!(
            out,
            "-- sample \"{}\": ids of cohort < {}, kept {} months",
            sample.suffix, sample.percent, sample.months
        );
    }
    for table in &warehouse.tables {
        let by = table
            .sampled_by
            .as_deref()
            .unwrap_or("its source table's sample");
        let _ = write!(
            out,
            "\n-- {}: filled by {}, sampled by {by}\n",
            table.name, table.source
        );
        for sample in &warehouse.samples {
            let _ = writeln!(
                out,
                "\nCREATE TABLE IF NOT EXISTS {}{} (",
                table.name, sample.suffix
            );
            let columns: Vec<String> = table
                .columns
                .iter()
                .map(|c| {
                    let mut text = format!("  \"{}\" {}", c.name, engine.column_type(c.ty));
                    if c.required {
                        text.push_str(" NOT NULL");
                    }
                    if let Some(default) = c.default {
                        text.push_str(" DEFAULT ");
                        text.push_str(default);
                    }
                    text
                })
                .collect();
            out.push_str(&columns.join(",\n"));
            out.push_str("\n);\n");
        }
    }
    out
}

fn type_name(ty: ColumnType) -> String {
    match ty {
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
    }
}

fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The analysts' docs page: samples, and every table with its columns and where each comes from.
pub fn render_docs(warehouse: &Warehouse) -> String {
    let mut p = format!(
        "# Warehouse tables\n\nGenerated by metricsmith from `{}`; do not edit.\n",
        warehouse.file
    );
    if let Some(description) = &warehouse.description {
        let _ = write!(p, "\n{}\n", description.trim());
    }
    p.push_str(
        "\nThe DDL: [PostgreSQL](warehouse.postgres.sql), [SQLite](warehouse.sqlite.sql).\n\
         \n## Samples\n\
         \nEach sampled table exists once per sample.\n\
         A row is in a sample when the cohort of its id (the first 7 hex digits, base 16, mod 100) is below the percentage.\n\
         \n| Suffix | Ids kept | Rows kept for |\n|---|---:|---|\n",
    );
    for sample in &warehouse.samples {
        let suffix = if sample.suffix.is_empty() {
            "(none)".to_owned()
        } else {
            format!("`{}`", sample.suffix)
        };
        let _ = writeln!(
            p,
            "| {suffix} | {} % | {} months |",
            sample.percent, sample.months
        );
    }
    p.push_str("\n## Tables\n\n| Table | Filled by | Sampled by |\n|---|---|---|\n");
    for table in &warehouse.tables {
        let what = SOURCES
            .iter()
            .find(|(s, _)| *s == table.source)
            .map_or("", |(_, what)| what);
        let by = table
            .sampled_by
            .as_deref()
            .map_or("its source table's sample".to_owned(), |c| format!("`{c}`"));
        let _ = writeln!(
            p,
            "| [{0}](#{0}) | `{1}`: {2} | {by} |",
            table.name,
            table.source,
            cell(what)
        );
    }
    for table in &warehouse.tables {
        let _ = write!(p, "\n### {}\n\n", table.name);
        if let Some(description) = &table.description {
            let _ = write!(p, "{}\n\n", description.trim());
        }
        let names: Vec<String> = warehouse
            .samples
            .iter()
            .map(|s| format!("`{}{}`", table.name, s.suffix))
            .collect();
        let _ = write!(
            p,
            "Tables: {}.\n\n| Column | Type | Null | Comes from | Meaning |\n|---|---|---|---|---|\n",
            names.join(", ")
        );
        for column in &table.columns {
            let mut ty = type_name(column.ty);
            if let Some(default) = column.default {
                let _ = write!(ty, " DEFAULT {default}");
            }
            let _ = writeln!(
                p,
                "| `{}` | {ty} | {} | {} | {} |",
                column.name,
                if column.required { "no" } else { "yes" },
                cell(column.from.as_deref().unwrap_or("")),
                cell(column.description.as_deref().unwrap_or(""))
            );
        }
    }
    p
}

/// The warehouse's generated files: the docs page and the DDL of each engine, under `dir`.
pub fn render_files(warehouse: &Warehouse, dir: &str) -> Vec<crate::GeneratedFile> {
    let mut files = vec![crate::GeneratedFile {
        path: format!("{dir}warehouse.md"),
        contents: render_docs(warehouse),
    }];
    for engine in [Engine::Postgres, Engine::Sqlite] {
        files.push(crate::GeneratedFile {
            path: format!("{dir}warehouse.{}.sql", engine.name()),
            contents: render_ddl(warehouse, engine),
        });
    }
    files
}
