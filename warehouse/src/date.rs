//! Calendar days and UTC timestamps, computed the way PostgreSQL and Redshift do.
//!
//! The warehouse stores naive UTC timestamps (`'epoch' + seconds`) and dates; both engines get
//! them as `YYYY-MM-DD HH:MM:SS` and `YYYY-MM-DD` text, computed here once, so neither engine's
//! own date functions decide a result.

use std::fmt;

/// A calendar day, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i32);

/// The first and last day a stored timestamp may fall on (years 1 to 9999).
const MIN_DAY: i32 = -719_162;
const MAX_DAY: i32 = 2_932_896;

impl Day {
    /// The day of a civil date, or `None` when the date does not exist or is outside years 1..=9999.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// Parses `YYYY-MM-DD` exactly.
    pub fn parse(text: &str) -> Option<Day> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        Day::from_ymd(year, digits(5..7)?, digits(8..10)?)
    }

    /// Days since 1970-01-01.
    pub fn epoch_days(self) -> i32 {
        self.0
    }

    /// The civil date `(year, month, day)`.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// This day plus `days` (negative goes back), or `None` outside years 1..=9999.
    pub fn add_days(self, days: i32) -> Option<Day> {
        let value = self.0.checked_add(days)?;
        (MIN_DAY..=MAX_DAY).contains(&value).then_some(Day(value))
    }

    /// This day minus `months` calendar months, clamped to the end of a shorter month, as
    /// PostgreSQL's `DATE - 'N months'::INTERVAL` does (`2019-03-31 - 6 months = 2018-09-30`).
    pub fn sub_months(self, months: u32) -> Option<Day> {
        let (year, month, day) = self.ymd();
        let index = i64::from(year) * 12 + i64::from(month) - 1 - i64::from(months);
        let new_year = i32::try_from(index.div_euclid(12)).ok()?;
        let new_month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
        if !(1..=9999).contains(&new_year) {
            return None;
        }
        let new_day = day.min(days_in_month(new_year, new_month));
        Day::from_ymd(new_year, new_month, new_day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

/// A naive UTC timestamp with whole seconds, as seconds since 1970-01-01 00:00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    /// `'epoch' + seconds`, or `None` outside years 1..=9999.
    pub fn from_epoch_seconds(seconds: i64) -> Option<Timestamp> {
        let days = seconds.div_euclid(86_400);
        let days = i32::try_from(days).ok()?;
        (MIN_DAY..=MAX_DAY)
            .contains(&days)
            .then_some(Timestamp(seconds))
    }

    /// The day the timestamp falls on (`timestamp::DATE`).
    pub fn day(self) -> Day {
        // In range by construction: `from_epoch_seconds` checked the day.
        Day(i32::try_from(self.0.div_euclid(86_400)).unwrap_or(MAX_DAY))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.rem_euclid(86_400);
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.day(),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

// Howard Hinnant's `days_from_civil` and `civil_from_days` (proleptic Gregorian calendar).
fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = month as i32;
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i32 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i32::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn day(text: &str) -> Day {
        Day::parse(text).unwrap_or_else(|| panic!("{text} is a day"))
    }

    #[test]
    fn days_round_trip_and_reject_impossible_dates() {
        for text in [
            "1970-01-01",
            "0001-01-01",
            "9999-12-31",
            "2016-02-29",
            "2019-03-31",
        ] {
            assert_eq!(day(text).to_string(), text);
        }
        for text in [
            "2019-02-29",
            "2019-13-01",
            "2019-00-10",
            "2019-1-01",
            "20190101",
            "0000-01-01",
            "２０19-01-01",
        ] {
            assert_eq!(Day::parse(text), None, "{text}");
        }
    }

    #[test]
    fn months_are_subtracted_with_month_end_clamping() {
        let cases = [
            ("2019-03-31", 6, "2018-09-30"),
            ("2018-12-31", 3, "2018-09-30"),
            ("2018-12-31", 6, "2018-06-30"),
            ("2018-12-31", 24, "2016-12-31"),
            ("2019-01-02", 3, "2018-10-02"),
            ("2016-05-31", 3, "2016-02-29"),
            ("2018-12-10", 24, "2016-12-10"),
        ];
        for (from, months, expected) in cases {
            assert_eq!(
                day(from)
                    .sub_months(months)
                    .map(|d| d.to_string())
                    .as_deref(),
                Some(expected),
                "{from} - {months}"
            );
        }
    }

    #[test]
    fn timestamps_render_as_naive_utc() {
        let cases = [
            (0, "1970-01-01 00:00:00"),
            (1_548_984_151, "2019-02-01 01:22:31"),
            (-1, "1969-12-31 23:59:59"),
        ];
        for (seconds, expected) in cases {
            let ts = Timestamp::from_epoch_seconds(seconds).map(|t| t.to_string());
            assert_eq!(ts.as_deref(), Some(expected));
        }
        assert_eq!(Timestamp::from_epoch_seconds(i64::MAX), None);
        assert_eq!(Timestamp::from_epoch_seconds(253_402_300_800), None);
    }
}
