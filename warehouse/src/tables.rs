//! The warehouse tables (spec §7.2), each in three samples, and the import's staging tables.

/// A column type, with the width FxA's Redshift DDL gave it (the compiler's type).
pub use metricsmith_codegen::warehouse::ColumnType;

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The column name.
    pub name: &'static str,
    /// Its type.
    pub ty: ColumnType,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The SQL default, if any (`0`, `FALSE`).
    pub default: Option<&'static str>,
}

const fn col(name: &'static str, ty: ColumnType, not_null: bool) -> Column {
    Column {
        name,
        ty,
        not_null,
        default: None,
    }
}

const fn col_default(name: &'static str, ty: ColumnType, default: &'static str) -> Column {
    Column {
        name,
        ty,
        not_null: true,
        default: Some(default),
    }
}

use crate::engine::Dialect;
use ColumnType::{BigInt, Boolean, Date, Timestamp, Varchar};

/// A table family: the unsuffixed table and its `_sampled_50` and `_sampled_10` samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The unsuffixed table name.
    pub name: &'static str,
    /// The columns in table order.
    pub columns: &'static [Column],
    /// The built-in import or derivation that fills it (the schema's `source:`).
    pub source: &'static str,
    /// The id column whose cohort decides the samples (`None`: inherited from the source table).
    pub sampled_by: Option<&'static str>,
}

impl Family {
    /// The table name for a sample.
    pub fn table(&self, sample: Sample) -> String {
        format!("{}{}", self.name, sample.suffix())
    }

    /// The comma-separated quoted column list.
    pub fn column_list(&self) -> String {
        crate::engine::quoted_list(self.columns.iter().map(|c| c.name))
    }
}

/// A sample of the event data: 100 %, 50 % or 10 % of the ids, each with its own retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sample {
    /// `_sampled_10`: 10 % of ids, kept 24 months.
    Ten,
    /// `_sampled_50`: 50 % of ids, kept 6 months.
    Fifty,
    /// The unsuffixed tables: every id, kept 3 months.
    Full,
}

impl Sample {
    /// The order the scripts process the samples in.
    pub const ALL: [Sample; 3] = [Sample::Ten, Sample::Fifty, Sample::Full];

    /// The table-name suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Sample::Ten => "_sampled_10",
            Sample::Fifty => "_sampled_50",
            Sample::Full => "",
        }
    }

    /// A row is in the sample when its id cohort is below this.
    pub fn percent(self) -> i64 {
        match self {
            Sample::Ten => 10,
            Sample::Fifty => 50,
            Sample::Full => 100,
        }
    }

    /// How many months the sample keeps.
    pub fn months(self) -> u32 {
        match self {
            Sample::Ten => 24,
            Sample::Fifty => 6,
            Sample::Full => 3,
        }
    }
}

pub const ACTIVITY_EVENTS: Family = Family {
    name: "activity_events",
    source: "activity-events",
    sampled_by: Some("uid"),
    columns: &[
        col("timestamp", Timestamp, true),
        col("uid", Varchar(64), true),
        col("type", Varchar(30), true),
        col("device_id", Varchar(32), false),
        col("service", Varchar(40), false),
        col("ua_browser", Varchar(40), false),
        col("ua_version", Varchar(40), false),
        col("ua_os", Varchar(40), false),
    ],
};

pub const FLOW_EVENTS: Family = Family {
    name: "flow_events",
    source: "flow-events",
    sampled_by: Some("flow_id"),
    columns: &[
        col("timestamp", Timestamp, true),
        col("type", Varchar(79), true),
        col("flow_id", Varchar(64), true),
        col("flow_time", BigInt, true),
        col("locale", Varchar(40), false),
        col("uid", Varchar(64), false),
    ],
};

pub const FLOW_METADATA: Family = Family {
    name: "flow_metadata",
    source: "flow-metadata",
    sampled_by: Some("flow_id"),
    columns: &[
        col("flow_id", Varchar(64), true),
        col("begin_time", Timestamp, true),
        col_default("duration", BigInt, "0"),
        col_default("completed", Boolean, "FALSE"),
        col_default("new_account", Boolean, "FALSE"),
        col("ua_browser", Varchar(40), false),
        col("ua_version", Varchar(40), false),
        col("ua_os", Varchar(40), false),
        col("context", Varchar(40), false),
        col("entrypoint", Varchar(40), false),
        col("migration", Varchar(40), false),
        col("service", Varchar(40), false),
        col("utm_campaign", Varchar(40), false),
        col("utm_content", Varchar(40), false),
        col("utm_medium", Varchar(40), false),
        col("utm_source", Varchar(40), false),
        col("utm_term", Varchar(40), false),
        col("export_date", Date, true),
        col("locale", Varchar(40), false),
        col("uid", Varchar(64), false),
        col("continued_from", Varchar(64), false),
    ],
};

pub const FLOW_EXPERIMENTS: Family = Family {
    name: "flow_experiments",
    source: "flow-experiments",
    sampled_by: Some("flow_id"),
    columns: &[
        col("experiment", Varchar(40), true),
        col("cohort", Varchar(40), true),
        col("timestamp", Timestamp, true),
        col("flow_id", Varchar(64), true),
        col("uid", Varchar(64), false),
        col("export_date", Date, true),
    ],
};

pub const EMAIL_EVENTS: Family = Family {
    name: "email_events",
    source: "email-events",
    sampled_by: Some("flow_id"),
    columns: &[
        col("timestamp", Timestamp, true),
        col("flow_id", Varchar(64), false),
        col("domain", Varchar(40), false),
        col("template", Varchar(64), false),
        col("type", Varchar(64), true),
        col("bounced", Varchar(64), false),
        col("complaint", Varchar(64), false),
        col("locale", Varchar(64), false),
    ],
};

pub const DAILY_ACTIVITY_PER_DEVICE: Family = Family {
    name: "daily_activity_per_device",
    source: "daily-activity-per-device",
    sampled_by: None,
    columns: &[
        col("day", Date, true),
        col("uid", Varchar(64), true),
        col("device_id", Varchar(32), true),
        col("service", Varchar(40), false),
        col("ua_browser", Varchar(40), false),
        col("ua_version", Varchar(40), false),
        col("ua_os", Varchar(40), false),
    ],
};

pub const DAILY_MULTI_DEVICE_USERS: Family = Family {
    name: "daily_multi_device_users",
    source: "daily-multi-device-users",
    sampled_by: None,
    columns: &[
        col("day", Date, true),
        col("uid", Varchar(64), true),
        col("device_now", Varchar(32), true),
        col("device_prev", Varchar(32), true),
    ],
};

/// Every table family, in the order `dump` and the DDL list them.
pub const FAMILIES: [Family; 7] = [
    ACTIVITY_EVENTS,
    FLOW_EVENTS,
    FLOW_METADATA,
    FLOW_EXPERIMENTS,
    EMAIL_EVENTS,
    DAILY_ACTIVITY_PER_DEVICE,
    DAILY_MULTI_DEVICE_USERS,
];

/// The DDL the compiler generated from the schema's `warehouse:` section
/// (`generated/docs/warehouse.<engine>.sql`); the loader creates its tables with it.
pub fn generated_ddl(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => include_str!("../../generated/docs/warehouse.postgres.sql"),
        Dialect::Sqlite => include_str!("../../generated/docs/warehouse.sqlite.sql"),
    }
}

#[cfg(test)]
/// The DDL of the built-in catalog, in the compiler's format (samples in declaration order).
pub fn catalog_ddl(dialect: Dialect) -> String {
    let mut out = "-- @generated by metricsmith from warehouse.yaml. Do not edit.\n".to_owned();
    let samples = [Sample::Full, Sample::Fifty, Sample::Ten];
    for sample in samples {
        out.push_str(&format!(
            "-- sample \"{}\": ids of cohort < {}, kept {} months\n",
            sample.suffix(),
            sample.percent(),
            sample.months()
        ));
    }
    for family in FAMILIES {
        let by = family.sampled_by.unwrap_or("its source table's sample");
        out.push_str(&format!(
            "\n-- {}: filled by {}, sampled by {by}\n",
            family.name, family.source
        ));
        for sample in samples {
            out.push('\n');
            out.push_str(&dialect.create_table(&family.table(sample), family.columns, false));
        }
    }
    out
}

/// Every one of the 21 tables with its columns, sorted by name.
pub fn all_tables() -> Vec<(String, &'static [Column])> {
    let mut tables: Vec<(String, &'static [Column])> = FAMILIES
        .iter()
        .flat_map(|family| {
            Sample::ALL
                .iter()
                .map(move |sample| (family.table(*sample), family.columns))
        })
        .collect();
    tables.sort_by(|a, b| a.0.cmp(&b.0));
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loader's built-in tables are exactly the ones the schema declares: the DDL rendered
    /// from the catalog equals the DDL the compiler generated from schema/fxa/warehouse.yaml
    /// (names, column order, types, widths, NOT NULL, defaults, samples).
    #[test]
    fn the_catalog_is_the_schema() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            assert_eq!(catalog_ddl(dialect), generated_ddl(dialect), "{dialect:?}");
        }
    }
}
