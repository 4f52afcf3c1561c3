//! `warehouse summarize`: `calculate_daily_summary.py` (daily activity per device and
//! multi-device users), per sample in the order `_sampled_10`, `_sampled_50`, unsuffixed.

use crate::date::Day;
use crate::engine::days_between;
use crate::tables::{ACTIVITY_EVENTS, DAILY_ACTIVITY_PER_DEVICE, DAILY_MULTI_DEVICE_USERS, Sample};
use crate::{Error, Warehouse};

/// The bounds one sample was summarised with (as the script printed them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSummary {
    /// The sample.
    pub sample: Sample,
    /// The first day recomputed: the day after the newest multi-device day, or the first
    /// activity day when there is none.
    pub day_from: Day,
    /// The last day recomputed: the newest activity day (`None`: no activity left).
    pub day_until: Option<Day>,
    /// Both tables were trimmed to start at this day, the first activity day.
    pub day_first: Option<Day>,
}

/// How `summarize` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryOutcome {
    /// Each sample summarised (a sample without any data is left out).
    Summarised(Vec<SampleSummary>),
    /// `activity_events_sampled_10` and `daily_multi_device_users_sampled_10` are both empty
    /// (the script raised `RuntimeError('no events in db')`): nothing changed.
    NoEvents,
}

/// The newest multi-device day, and the first and last activity days.
type Bounds = (Option<Day>, Option<Day>, Option<Day>);

impl Warehouse {
    /// Computes the daily summaries of every sample.
    ///
    /// # Errors
    /// A database error; the samples finished before it stay committed.
    pub fn summarize(&mut self) -> Result<SummaryOutcome, Error> {
        self.engine.lock()?;
        let result = self.summarize_locked();
        let unlocked = self.engine.unlock();
        let outcome = result?;
        unlocked?;
        Ok(outcome)
    }

    fn summarize_locked(&mut self) -> Result<SummaryOutcome, Error> {
        let mut done = Vec::new();
        for sample in Sample::ALL {
            let (newest_summary, first, last) = self.summary_bounds(sample)?;
            let day_from = match newest_summary {
                Some(day) => day.add_days(1).ok_or(Error::DayOutOfRange(day))?,
                None => match first {
                    Some(day) => day,
                    None if sample == Sample::Ten => return Ok(SummaryOutcome::NoEvents),
                    None => continue,
                },
            };
            self.engine.batch("BEGIN")?;
            let result = self.summarize_sample(sample, day_from, first, last);
            self.finish_transaction(result)?;
            done.push(SampleSummary {
                sample,
                day_from,
                day_until: last,
                day_first: first,
            });
        }
        Ok(SummaryOutcome::Summarised(done))
    }

    /// The newest multi-device day, and the first and last activity days, of a sample.
    fn summary_bounds(&mut self, sample: Sample) -> Result<Bounds, Error> {
        let dialect = self.engine.dialect();
        let rows = self.engine.query(&format!(
            "SELECT (SELECT MAX(day) FROM {}), (SELECT {} FROM {ae}), (SELECT {} FROM {ae})",
            DAILY_MULTI_DEVICE_USERS.table(sample),
            dialect.day_of("MIN(\"timestamp\")"),
            dialect.day_of("MAX(\"timestamp\")"),
            ae = ACTIVITY_EVENTS.table(sample),
        ))?;
        let row = rows.into_iter().next().unwrap_or_default();
        let mut days = row
            .into_iter()
            .map(|value| value.and_then(|text| Day::parse(text.get(..10).unwrap_or(&text))));
        Ok((
            days.next().flatten(),
            days.next().flatten(),
            days.next().flatten(),
        ))
    }

    fn summarize_sample(
        &mut self,
        sample: Sample,
        from: Day,
        first: Option<Day>,
        until: Option<Day>,
    ) -> Result<(), Error> {
        let dialect = self.engine.dialect();
        let ae = ACTIVITY_EVENTS.table(sample);
        let dapd = DAILY_ACTIVITY_PER_DEVICE.table(sample);
        let dmdu = DAILY_MULTI_DEVICE_USERS.table(sample);
        if let Some(until) = until.filter(|until| from <= *until) {
            let days = format!(
                "day >= {} AND day <= {}",
                dialect.date(from),
                dialect.date(until)
            );
            let statements = [
                format!("DELETE FROM {dapd} WHERE {days}"),
                format!(
                    "INSERT INTO {dapd} (day, uid, device_id, service, ua_browser, ua_version, ua_os) \
                     SELECT DISTINCT {}, uid, device_id, service, ua_browser, ua_version, ua_os FROM {ae} \
                     WHERE {} AND device_id <> ''",
                    dialect.day_of("\"timestamp\""),
                    days_between(dialect, "\"timestamp\"", from, until)
                ),
                format!("DELETE FROM {dmdu} WHERE {days}"),
                format!(
                    "INSERT INTO {dmdu} (day, uid, device_now, device_prev) \
                     SELECT DISTINCT present.day, present.uid, present.device_id, past.device_id \
                     FROM {dapd} AS present JOIN {dapd} AS past ON past.uid = present.uid \
                     AND past.device_id <> present.device_id AND past.day >= {} AND past.day <= present.day \
                     WHERE present.day >= {} AND present.day <= {}",
                    dialect.minus_days("present.day", 7),
                    dialect.date(from),
                    dialect.date(until)
                ),
            ];
            for sql in &statements {
                self.engine.execute(sql)?;
            }
        }
        if let Some(first) = first {
            for table in [&dapd, &dmdu] {
                self.engine.execute(&format!(
                    "DELETE FROM {table} WHERE day < {}",
                    dialect.date(first)
                ))?;
            }
        }
        Ok(())
    }
}
