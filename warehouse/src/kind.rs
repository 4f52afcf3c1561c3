//! The three kinds of daily event files and their staging tables.

use std::fmt;
use std::str::FromStr;

use crate::csv::{CsvColumn, CsvType};
use crate::tables::{self, Column, ColumnType, Family};

/// A kind of FxA daily event file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `events-YYYY-MM-DD.csv` into `activity_events`.
    Activity,
    /// `flow-YYYY-MM-DD.csv` into `flow_events`, `flow_metadata` and `flow_experiments`.
    Flow,
    /// `email-events-YYYY-MM-DD.csv` into `email_events`.
    Email,
}

const fn int(name: &'static str) -> CsvColumn {
    CsvColumn {
        name,
        ty: CsvType::Int,
    }
}

const fn text(name: &'static str, width: usize) -> CsvColumn {
    CsvColumn {
        name,
        ty: CsvType::Text(width),
    }
}

// The columns and widths of the scripts' `temporary_raw_<type>_data` tables, in COPY order.
const ACTIVITY_CSV: [CsvColumn; 8] = [
    int("timestamp"),
    text("ua_browser", 40),
    text("ua_version", 40),
    text("ua_os", 40),
    text("uid", 64),
    text("type", 30),
    text("service", 40),
    text("device_id", 32),
];

const FLOW_CSV: [CsvColumn; 18] = [
    int("timestamp"),
    text("type", 79),
    text("flow_id", 64),
    int("flow_time"),
    text("ua_browser", 40),
    text("ua_version", 40),
    text("ua_os", 40),
    text("context", 40),
    text("entrypoint", 40),
    text("migration", 40),
    text("service", 40),
    text("utm_campaign", 40),
    text("utm_content", 40),
    text("utm_medium", 40),
    text("utm_source", 40),
    text("utm_term", 40),
    text("locale", 40),
    text("uid", 64),
];

const EMAIL_CSV: [CsvColumn; 8] = [
    int("timestamp"),
    text("flow_id", 64),
    text("domain", 40),
    text("template", 64),
    text("type", 64),
    text("bounced", 64),
    text("complaint", 64),
    text("locale", 64),
];

impl Kind {
    /// Every kind, in the Makefile's order.
    pub const ALL: [Kind; 3] = [Kind::Activity, Kind::Flow, Kind::Email];

    /// The name used on the command line and in the bookkeeping table.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Activity => "activity",
            Kind::Flow => "flow",
            Kind::Email => "email",
        }
    }

    /// The CSV columns in file order.
    pub fn csv_columns(self) -> &'static [CsvColumn] {
        match self {
            Kind::Activity => &ACTIVITY_CSV,
            Kind::Flow => &FLOW_CSV,
            Kind::Email => &EMAIL_CSV,
        }
    }

    /// The index of the CSV column whose first seven hex digits give the sampling cohort.
    pub fn id_column(self) -> usize {
        match self {
            Kind::Activity => 4,
            Kind::Flow | Kind::Email => 1 + usize::from(self == Kind::Flow),
        }
    }

    /// The event table family.
    pub fn events(self) -> Family {
        match self {
            Kind::Activity => tables::ACTIVITY_EVENTS,
            Kind::Flow => tables::FLOW_EVENTS,
            Kind::Email => tables::EMAIL_EVENTS,
        }
    }

    /// The file-name prefix before `YYYY-MM-DD.csv`.
    pub fn file_prefix(self) -> &'static str {
        match self {
            Kind::Activity => "events-",
            Kind::Flow => "flow-",
            Kind::Email => "email-events-",
        }
    }

    /// The staging table (a temporary table of the connection).
    pub fn staging_table(self) -> String {
        format!("metricsmith_raw_{}_data", self.name())
    }

    /// The staging table's columns: the physical line, the timestamp, its day, the id cohort,
    /// for flow files the experiment name parts, then the CSV columns.
    pub fn staging_columns(self) -> Vec<Column> {
        let mut columns = vec![
            Column {
                name: "line",
                ty: ColumnType::BigInt,
                not_null: true,
                default: None,
            },
            Column {
                name: "timestamp",
                ty: ColumnType::Timestamp,
                not_null: true,
                default: None,
            },
            Column {
                name: "day",
                ty: ColumnType::Date,
                not_null: true,
                default: None,
            },
            Column {
                name: "cohort",
                ty: ColumnType::BigInt,
                not_null: true,
                default: None,
            },
        ];
        if self == Kind::Flow {
            for name in ["experiment", "experiment_cohort"] {
                columns.push(Column {
                    name,
                    ty: ColumnType::Varchar(40),
                    not_null: true,
                    default: None,
                });
            }
        }
        for csv in self.csv_columns().iter().skip(1) {
            let ty = match csv.ty {
                CsvType::Int => ColumnType::BigInt,
                CsvType::Text(width) => {
                    ColumnType::Varchar(u32::try_from(width).unwrap_or(u32::MAX))
                }
            };
            columns.push(Column {
                name: csv.name,
                ty,
                not_null: true,
                default: None,
            });
        }
        columns
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(text: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| format!("unknown kind `{text}` (expected activity, flow or email)"))
    }
}
