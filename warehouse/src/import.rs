//! `warehouse import`: the three import scripts of fxa-activity-metrics (spec §7, and the
//! conformance README's checklist), step for step.
//!
//! A run: take the days from the file names; candidates are the days at or after the newest day
//! of the unsuffixed event table that `_sampled_10` does not hold yet; process them newest first,
//! each day in one transaction; then expire. What differs from the scripts is only how outcomes
//! are reported (no crash, rejected rows named, late days listed, interrupted runs resumed).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::csv::{self, LoadCounts, Rejected};
use crate::date::Day;
use crate::engine::{Dialect, Value, before_day, days_between};
use crate::kind::Kind;
use crate::tables::{FLOW_EVENTS, FLOW_EXPERIMENTS, FLOW_METADATA, Sample};
use crate::{Error, Warehouse};

/// Redshift's `MAXERROR AS 100`: more rejected records than this fail the file.
pub const MAX_ERRORS: usize = 100;

/// The day before which the flow import back-filled empty metrics-context fields.
const LEGACY_CUTOVER: (i32, u32, u32) = (2016, 10, 25);

/// Options of an import run.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Days to import even though they are older than the newest imported day ("late" days,
    /// which the scripts never imported). Each must be the day of one of the files.
    pub late_days: Vec<Day>,
}

/// What one file's load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The file as given.
    pub file: PathBuf,
    /// The file's day.
    pub day: Day,
    /// Records read, accepted, values truncated and rejected records.
    pub counts: LoadCounts,
}

/// How an import run ended (besides errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Every candidate day was imported and the tables were expired.
    Imported,
    /// No file had a day to import (the scripts crashed with `IndexError` here): nothing changed.
    NothingToImport,
}

/// The report of an import run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The kind of files.
    pub kind: Kind,
    /// How the run ended.
    pub outcome: ImportOutcome,
    /// Days of an interrupted earlier run that this run finished first.
    pub resumed_days: Vec<Day>,
    /// Days of the given files that are older than the newest imported day and not imported:
    /// the scripts skip them for good; `ImportOptions::late_days` imports them on purpose.
    pub late_days: Vec<Day>,
    /// The candidate days, in processing order (newest first).
    pub days_processed: Vec<Day>,
    /// The day the retention windows are measured from.
    pub max_day: Option<Day>,
    /// Whether the expiry ran.
    pub expiry_ran: bool,
    /// One entry per loaded file, in processing order.
    pub copies: Vec<CopyReport>,
}

struct Plan {
    days: Vec<(Day, PathBuf)>,
    max_day: Day,
}

const PLAN_TABLE: &str = "metricsmith_import_plan";

pub(crate) fn plan_table_ddl() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {PLAN_TABLE} (kind VARCHAR(16) NOT NULL, day VARCHAR(10) NOT NULL, \
         max_day VARCHAR(10) NOT NULL, file TEXT NOT NULL, done INTEGER NOT NULL)"
    )
}

/// The day of an FxA file name: the last three `-`-separated parts before the 4-character
/// extension, as `"-".join(name[:-4].split("-")[-3:])`, which must be a real date.
///
/// # Errors
/// [`Error::FileName`] when the name has no such date.
pub fn day_of_file(path: &Path) -> Result<Day, Error> {
    let bad = || Error::FileName {
        path: path.to_owned(),
    };
    let name = path.file_name().and_then(|n| n.to_str()).ok_or_else(bad)?;
    let stem = name
        .get(..name.len().checked_sub(4).ok_or_else(bad)?)
        .ok_or_else(bad)?;
    let parts: Vec<&str> = stem.rsplitn(4, '-').collect();
    if parts.len() < 3 {
        return Err(bad());
    }
    Day::parse(&format!("{}-{}-{}", parts[2], parts[1], parts[0])).ok_or_else(bad)
}

fn text(rows: &[Vec<Option<String>>]) -> Option<String> {
    rows.first().and_then(|row| row.first()).cloned().flatten()
}

fn parse_day(value: Option<String>, what: &str) -> Result<Option<Day>, Error> {
    match value {
        None => Ok(None),
        Some(text) => Day::parse(text.get(..10).unwrap_or(&text))
            .map(Some)
            .ok_or_else(|| Error::Corrupt(format!("{what} is not a date: {text:?}"))),
    }
}

impl Warehouse {
    /// Imports FxA daily CSV files of one kind, as the import script of that kind did.
    ///
    /// # Errors
    /// A file name without a day, two files of one day, an unreadable file, a file with more
    /// than 100 rejected records ([`Error::TooManyRejected`], after which the run stops as the
    /// scripts did), or a database error. Every day imported before the error stays imported.
    pub fn import(
        &mut self,
        kind: Kind,
        files: &[PathBuf],
        options: &ImportOptions,
    ) -> Result<ImportReport, Error> {
        self.engine.lock()?;
        let result = self.import_locked(kind, files, options);
        let unlocked = self.engine.unlock();
        let report = result?;
        unlocked?;
        Ok(report)
    }

    fn import_locked(
        &mut self,
        kind: Kind,
        files: &[PathBuf],
        options: &ImportOptions,
    ) -> Result<ImportReport, Error> {
        let mut by_day: BTreeMap<Day, PathBuf> = BTreeMap::new();
        for file in files {
            let day = day_of_file(file)?;
            if let Some(first) = by_day.insert(day, file.clone()) {
                return Err(Error::DuplicateDay {
                    day,
                    first,
                    second: file.clone(),
                });
            }
        }
        for day in &options.late_days {
            if !by_day.contains_key(day) {
                return Err(Error::LateDayWithoutFile(*day));
            }
        }
        let mut report = ImportReport {
            kind,
            outcome: ImportOutcome::NothingToImport,
            resumed_days: Vec::new(),
            late_days: Vec::new(),
            days_processed: Vec::new(),
            max_day: None,
            expiry_ran: false,
            copies: Vec::new(),
        };

        // An interrupted run is finished first, with its own days and max_day.
        if let Some(plan) = self.pending_plan(kind, &by_day)? {
            report.resumed_days = plan.days.iter().map(|(day, _)| *day).collect();
            self.run_plan(kind, &plan, &mut report)?;
        }

        let events = kind.events();
        let dialect = self.engine.dialect();
        let newest = parse_day(
            text(&self.engine.query(&format!(
                "SELECT {} FROM {}",
                dialect.day_of("MAX(\"timestamp\")"),
                events.table(Sample::Full)
            ))?),
            "the newest day",
        )?;
        let populated: BTreeSet<Day> = self
            .engine
            .query(&format!(
                "SELECT DISTINCT {} FROM {}",
                dialect.day_of("\"timestamp\""),
                events.table(Sample::Ten)
            ))?
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .filter_map(|day| Day::parse(day.get(..10).unwrap_or(&day)))
            .collect();
        let mut candidates = Vec::new();
        for (day, file) in by_day.iter().rev() {
            if populated.contains(day) {
                continue;
            }
            let late = newest.is_some_and(|newest| *day < newest);
            if late && !options.late_days.contains(day) {
                report.late_days.push(*day);
                continue;
            }
            candidates.push((*day, file.clone()));
        }
        report.late_days.reverse();
        let Some(&(first, _)) = candidates.first() else {
            return Ok(report);
        };
        let max_day = newest.map_or(first, |newest| newest.max(first));
        let plan = Plan {
            days: candidates,
            max_day,
        };
        self.write_plan(kind, &plan)?;
        self.run_plan(kind, &plan, &mut report)?;
        Ok(report)
    }

    fn pending_plan(
        &mut self,
        kind: Kind,
        given: &BTreeMap<Day, PathBuf>,
    ) -> Result<Option<Plan>, Error> {
        let rows = self.engine.query(&format!(
            "SELECT day, max_day, file FROM {PLAN_TABLE} WHERE kind = '{}' AND done = 0 ORDER BY day DESC",
            kind.name()
        ))?;
        let mut days = Vec::new();
        let mut max_day = None;
        for row in rows {
            let mut values = row.into_iter();
            let day = parse_day(values.next().flatten(), "a planned day")?;
            let planned_max = parse_day(values.next().flatten(), "a planned max_day")?;
            let file = values.next().flatten().map(PathBuf::from);
            let (Some(day), Some(planned_max), Some(file)) = (day, planned_max, file) else {
                return Err(Error::Corrupt(format!(
                    "{PLAN_TABLE} has an incomplete row"
                )));
            };
            max_day = Some(planned_max);
            // The file given now wins over the path recorded by the interrupted run.
            days.push((day, given.get(&day).cloned().unwrap_or(file)));
        }
        if let Some(max_day) = max_day {
            return Ok(Some(Plan { days, max_day }));
        }
        // Every planned day done but not expired yet (killed between the last day and expiry).
        let rows = self.engine.query(&format!(
            "SELECT MAX(max_day) FROM {PLAN_TABLE} WHERE kind = '{}'",
            kind.name()
        ))?;
        Ok(
            parse_day(text(&rows), "a planned max_day")?.map(|max_day| Plan {
                days: Vec::new(),
                max_day,
            }),
        )
    }

    fn write_plan(&mut self, kind: Kind, plan: &Plan) -> Result<(), Error> {
        self.engine.batch("BEGIN")?;
        let result = (|| {
            self.engine.execute(&format!(
                "DELETE FROM {PLAN_TABLE} WHERE kind = '{}'",
                kind.name()
            ))?;
            let max_day = plan.max_day.to_string();
            let days: Vec<(String, String)> = plan
                .days
                .iter()
                .map(|(d, f)| (d.to_string(), f.to_string_lossy().into_owned()))
                .collect();
            self.engine.load(
                PLAN_TABLE,
                &["kind", "day", "max_day", "file", "done"],
                &mut |sink| {
                    for (day, file) in &days {
                        sink.row(&[
                            Value::Text(kind.name()),
                            Value::Text(day),
                            Value::Text(&max_day),
                            Value::Text(file),
                            Value::Int(0),
                        ])?;
                    }
                    Ok(())
                },
            )?;
            Ok(())
        })();
        self.finish_transaction(result)
    }

    pub(crate) fn finish_transaction<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        match result {
            Ok(value) => {
                self.engine.batch("COMMIT")?;
                Ok(value)
            }
            Err(err) => {
                // The original error matters more than a failed rollback on a broken connection.
                let _ = self.engine.batch("ROLLBACK");
                Err(err)
            }
        }
    }

    fn run_plan(
        &mut self,
        kind: Kind,
        plan: &Plan,
        report: &mut ImportReport,
    ) -> Result<(), Error> {
        report.max_day = Some(plan.max_day);
        for (day, file) in &plan.days {
            report.days_processed.push(*day);
            self.engine.batch("BEGIN")?;
            let result = self.import_day(kind, *day, file, plan.max_day);
            let counts = match self.finish_transaction(result) {
                Ok(counts) => counts,
                Err(Error::TooManyRejected {
                    file,
                    rejected,
                    first,
                }) => {
                    // As the scripts: the run stops, its older days are skipped for good
                    // (later runs list them as late days), and no expiry runs.
                    self.engine.execute(&format!(
                        "DELETE FROM {PLAN_TABLE} WHERE kind = '{}'",
                        kind.name()
                    ))?;
                    return Err(Error::TooManyRejected {
                        file,
                        rejected,
                        first,
                    });
                }
                Err(err) => return Err(err),
            };
            report.copies.push(CopyReport {
                file: file.clone(),
                day: *day,
                counts,
            });
        }
        self.engine.batch("BEGIN")?;
        let result = self.expire(kind, plan.max_day);
        self.finish_transaction(result)?;
        report.expiry_ran = true;
        report.outcome = ImportOutcome::Imported;
        Ok(())
    }

    /// Loads one file into the staging table and runs the day's statements (in the open
    /// transaction).
    fn import_day(
        &mut self,
        kind: Kind,
        day: Day,
        file: &Path,
        max_day: Day,
    ) -> Result<LoadCounts, Error> {
        let counts = self.stage(kind, file)?;
        if counts.rejected.len() > MAX_ERRORS {
            let first = counts.rejected.iter().take(20).cloned().collect();
            return Err(Error::TooManyRejected {
                file: file.to_owned(),
                rejected: counts.rejected.len(),
                first,
            });
        }
        let dialect = self.engine.dialect();
        let staging = kind.staging_table();
        let events = kind.events();
        let next_day = day.add_days(1).ok_or(Error::DayOutOfRange(day))?;
        for sample in Sample::ALL {
            let table = events.table(sample);
            let columns = events.column_list();
            self.engine.execute(&format!(
                "DELETE FROM {table} WHERE {}",
                days_between(dialect, "\"timestamp\"", day, day)
            ))?;
            let window = match max_day.sub_months(sample.months()) {
                Some(start) => format!(" AND day >= {}", dialect.date(start)),
                None => String::new(),
            };
            self.engine.execute(&format!(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging} WHERE day = {}{window} AND cohort < {}",
                dialect.date(day),
                sample.percent()
            ))?;
        }
        if kind == Kind::Flow {
            for sample in Sample::ALL {
                self.flow_derivations(dialect, sample, day, next_day)?;
            }
        }
        self.engine.execute(&format!(
            "UPDATE {PLAN_TABLE} SET done = 1 WHERE kind = '{}' AND day = '{day}'",
            kind.name()
        ))?;
        Ok(counts)
    }

    fn stage(&mut self, kind: Kind, path: &Path) -> Result<LoadCounts, Error> {
        let dialect = self.engine.dialect();
        let staging = kind.staging_table();
        let columns = kind.staging_columns();
        self.engine
            .batch(&dialect.create_table(&staging, &columns, true))?;
        self.engine.execute(&dialect.clear(&staging))?;
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        let mut counts = LoadCounts::default();
        let id_column = kind.id_column();
        let csv_columns = kind.csv_columns();
        self.engine.load(&staging, &names, &mut |sink| {
            let width = names.len();
            csv::read::<_, Error>(
                BufReader::with_capacity(1 << 16, &file),
                csv_columns,
                &mut counts,
                |record| {
                    let mut values: Vec<Value<'_>> = Vec::with_capacity(width);
                    values.push(Value::Int(i64::try_from(record.line).unwrap_or(i64::MAX)));
                    values.push(Value::Timestamp(record.timestamp));
                    values.push(Value::Day(record.timestamp.day()));
                    values.push(Value::Int(csv::cohort(record.fields[id_column])));
                    let experiment_parts;
                    if kind == Kind::Flow {
                        let mut parts = record.fields[1].split('.');
                        experiment_parts = [parts.nth(2).unwrap_or(""), parts.next().unwrap_or("")];
                        values.push(Value::Text(csv::truncate(experiment_parts[0], 40)));
                        values.push(Value::Text(csv::truncate(experiment_parts[1], 40)));
                    }
                    for (index, column) in csv_columns.iter().enumerate().skip(1) {
                        values.push(match column.ty {
                            csv::CsvType::Int => Value::Int(record.ints[index]),
                            csv::CsvType::Text(_) => Value::Text(record.fields[index]),
                        });
                    }
                    sink.row(&values)
                },
            )
            .map_err(|err| match err {
                csv::ReadError::Io(source) => Error::Io {
                    path: path.to_owned(),
                    source,
                },
                csv::ReadError::Accept(err) => err,
            })
        })?;
        Ok(counts)
    }

    fn flow_derivations(
        &mut self,
        dialect: Dialect,
        sample: Sample,
        day: Day,
        next_day: Day,
    ) -> Result<(), Error> {
        let staging = Kind::Flow.staging_table();
        let fe = FLOW_EVENTS.table(sample);
        let fm = FLOW_METADATA.table(sample);
        let fx = FLOW_EXPERIMENTS.table(sample);
        let pct = sample.percent();
        let date = dialect.date(day);
        let window = days_between(dialect, "\"timestamp\"", day, next_day);
        let up_to_day = before_day(dialect, "\"timestamp\"", next_day);
        // The metrics-context columns of a flow file: ua_browser .. utm_term.
        let context: Vec<&str> = Kind::Flow.csv_columns()[4..16]
            .iter()
            .map(|c| c.name)
            .collect();
        let context_list = context.join(", ");
        let statements = [
            // 1. and 2. One metadata row for every flow.begin of the file (cohort filter only).
            format!("DELETE FROM {fm} WHERE export_date = {date}"),
            format!(
                "INSERT INTO {fm} (flow_id, begin_time, {context_list}, export_date) \
                 SELECT flow_id, \"timestamp\", {context_list}, {date} FROM {staging} \
                 WHERE type = 'flow.begin' AND cohort < {pct}"
            ),
            // 3.
            format!("DELETE FROM {fe} WHERE type = 'flow.begin' AND {up_to_day}"),
            // 4. Not scoped to the day's flows: every row of the flow id is updated.
            format!(
                "UPDATE {fm} SET duration = x.duration, locale = x.locale, uid = x.uid \
                 FROM (SELECT flow_id, MAX(flow_time) AS duration, MAX(locale) AS locale, MAX(uid) AS uid \
                 FROM {fe} WHERE {window} GROUP BY flow_id) AS x WHERE {fm}.flow_id = x.flow_id"
            ),
            format!(
                "UPDATE {fm} SET completed = TRUE FROM (SELECT DISTINCT flow_id FROM {fe} \
                 WHERE type = 'flow.complete' AND {window}) AS x WHERE {fm}.flow_id = x.flow_id"
            ),
            format!(
                "UPDATE {fm} SET new_account = TRUE FROM (SELECT DISTINCT flow_id FROM {fe} \
                 WHERE type = 'account.created' AND {window}) AS x WHERE {fm}.flow_id = x.flow_id"
            ),
        ];
        for sql in &statements {
            self.engine.execute(sql)?;
        }
        // 5. The legacy back-fill of empty metrics-context fields from the raw file.
        let (y, m, d) = LEGACY_CUTOVER;
        if Day::from_ymd(y, m, d).is_some_and(|cutover| day < cutover) {
            let backfilled = &context[3..];
            let sets = backfilled
                .iter()
                .map(|c| format!("{c} = CASE WHEN {fm}.{c} = '' THEN x.{c} ELSE {fm}.{c} END"))
                .collect::<Vec<_>>()
                .join(", ");
            let maxes = backfilled
                .iter()
                .map(|c| format!("MAX({c}) AS {c}"))
                .collect::<Vec<_>>()
                .join(", ");
            self.engine.execute(&format!(
                "UPDATE {fm} SET {sets} FROM (SELECT flow_id, {maxes} FROM {staging} WHERE cohort < {pct} \
                 GROUP BY flow_id) AS x WHERE {fm}.flow_id = x.flow_id"
            ))?;
        }
        let statements = [
            // 6.
            format!(
                "UPDATE {fm} SET continued_from = x.continued_from FROM (SELECT flow_id, \
                 MAX(substr(type, 16, 64)) AS continued_from FROM {fe} WHERE substr(type, 1, 15) = 'flow.continued.' \
                 AND {window} GROUP BY flow_id) AS x WHERE {fm}.flow_id = x.flow_id"
            ),
            format!(
                "DELETE FROM {fe} WHERE substr(type, 1, 15) = 'flow.continued.' AND {up_to_day}"
            ),
            // 7.
            format!("DELETE FROM {fx} WHERE export_date = {date}"),
            format!(
                "INSERT INTO {fx} (experiment, cohort, \"timestamp\", flow_id, uid, export_date) \
                 SELECT experiment, experiment_cohort, \"timestamp\", flow_id, uid, {date} FROM {staging} \
                 WHERE substr(type, 1, 16) = 'flow.experiment.' AND cohort < {pct}"
            ),
            format!(
                "UPDATE {fx} SET uid = x.uid FROM (SELECT flow_id, MAX(uid) AS uid FROM {fe} WHERE {window} \
                 GROUP BY flow_id) AS x WHERE {fx}.flow_id = x.flow_id"
            ),
            format!(
                "DELETE FROM {fe} WHERE substr(type, 1, 16) = 'flow.experiment.' AND {up_to_day}"
            ),
        ];
        for sql in &statements {
            self.engine.execute(sql)?;
        }
        Ok(())
    }

    fn expire(&mut self, kind: Kind, max_day: Day) -> Result<(), Error> {
        let dialect = self.engine.dialect();
        for sample in Sample::ALL {
            let Some(start) = max_day.sub_months(sample.months()) else {
                continue;
            };
            let table = kind.events().table(sample);
            self.engine.execute(&format!(
                "DELETE FROM {table} WHERE {}",
                before_day(dialect, "\"timestamp\"", start)
            ))?;
            if kind == Kind::Flow {
                for family in [FLOW_METADATA, FLOW_EXPERIMENTS] {
                    self.engine.execute(&format!(
                        "DELETE FROM {} WHERE export_date < {}",
                        family.table(sample),
                        dialect.date(start)
                    ))?;
                }
            }
        }
        self.engine.execute(&format!(
            "DELETE FROM {PLAN_TABLE} WHERE kind = '{}'",
            kind.name()
        ))?;
        Ok(())
    }
}

/// The first rejected records of a file, for messages.
pub fn describe_rejected(first: &[Rejected]) -> String {
    first
        .iter()
        .map(|r| format!("line {}: {}", r.line, r.reason))
        .collect::<Vec<_>>()
        .join("; ")
}
