//! `warehouse ingest`: the services' log lines instead of the daily CSV files.
//!
//! In 2016-2019 a Heka filter (not public) turned the auth and content servers' log lines into
//! the daily CSV files. `ingest` does that step: each line becomes one CSV row of its kind, rows
//! are spooled into one file per day of their timestamp, and those files are imported exactly
//! as [`Warehouse::import`] imports FxA's files (same candidate days, samples, derivations).
//! The line-to-row mapping is documented in docs/warehouse.md ("From log lines").
//!
//! Lines of another type (amplitude events, request summaries) are skipped and counted; a line
//! that is not JSON, not UTF-8, longer than [`MAX_LINE`], or lacks a field its row needs, is
//! rejected with its line number.
//!
//! Lines go through the line path every stage shares ([`metricsmith::line`]): one large read
//! buffer, each line parsed into reused storage with its strings borrowed.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use metricsmith::line::{Doc, Reader};
use metricsmith::view::{JsonRef, Kind as JsonKind};

use crate::csv::Rejected;
use crate::date::{Day, Timestamp};
use crate::import::{ImportOptions, ImportReport};
use crate::kind::Kind;
use crate::{Error, Warehouse};

/// The most days one ingest files rows into (each is an open spool file).
pub const MAX_DAYS: usize = 1000;

/// The longest line read (a longer one is rejected without being held in memory).
pub const MAX_LINE: usize = metricsmith::line::DEFAULT_MAX_LINE;

/// What an ingest read, besides the import report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IngestCounts {
    /// Lines read.
    pub lines: u64,
    /// Rows made from lines of the kind.
    pub rows: u64,
    /// Lines of another kind or type, skipped.
    pub skipped: u64,
    /// Lines of the kind that could not become a row.
    pub rejected: Vec<Rejected>,
}

/// The report of an ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestReport {
    /// What was read.
    pub counts: IngestCounts,
    /// The import of the spooled daily files (`None` when no line made a row).
    pub import: Option<ImportReport>,
}

fn text<'a, V: JsonRef<'a>>(fields: V, key: &str) -> Option<Cow<'a, str>> {
    match fields.get(key)?.kind() {
        JsonKind::String(s) => Some(s.into()),
        JsonKind::Number(n) => Some(n.to_number()?.to_string().into()),
        JsonKind::Bool(b) => Some(b.to_string().into()),
        _ => None,
    }
}

fn or_empty<'a, V: JsonRef<'a>>(fields: V, key: &str) -> String {
    text(fields, key).map(Cow::into_owned).unwrap_or_default()
}

/// Seconds since the epoch of the line's event.
///
/// `Fields.time` in ms (auth-server flow lines) or as ISO-8601 (content-server flow lines);
/// otherwise the envelope's `Timestamp` in ns (activity and email lines carry no event time).
fn seconds<'a, V: JsonRef<'a>>(envelope: V, fields: V) -> Result<i64, String> {
    match fields.get("time").map(JsonRef::kind) {
        Some(JsonKind::Number(ms)) => {
            let ms = ms.as_f64();
            if !ms.is_finite() || ms.abs() > 1e17 {
                return Err("`time` is out of range".into());
            }
            // Float ms to whole seconds, as Heka's integer division did.
            #[allow(clippy::cast_possible_truncation)] // Bounded above.
            let ms = ms.floor() as i64;
            return Ok(ms.div_euclid(1000));
        }
        Some(JsonKind::String(iso)) => {
            return parse_iso(iso)
                .ok_or_else(|| format!("`time` is not an ISO-8601 UTC time: {iso:?}"));
        }
        _ => {}
    }
    match envelope.get("Timestamp").map(JsonRef::kind) {
        Some(JsonKind::Number(ns)) => {
            let ns = ns.as_i64().ok_or("`Timestamp` is not an integer")?;
            Ok(ns.div_euclid(1_000_000_000))
        }
        _ => Err("no `Timestamp` and no `time`".into()),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` to whole seconds.
fn parse_iso(text: &str) -> Option<i64> {
    let day = Day::parse(text.get(..10)?)?;
    let rest = text.get(10..)?;
    let bytes = rest.as_bytes();
    if bytes.len() < 10
        || bytes[0] != b'T'
        || bytes[3] != b':'
        || bytes[6] != b':'
        || !rest.ends_with('Z')
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| rest.get(range)?.parse::<i64>().ok();
    let (h, m, s) = (number(1..3)?, number(4..6)?, number(7..9)?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let fraction = &rest[9..rest.len() - 1];
    if !(fraction.is_empty()
        || (fraction.starts_with('.') && fraction[1..].bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    Some(i64::from(day.epoch_days()) * 86_400 + h * 3600 + m * 60 + s)
}

/// One line as a CSV row of the kind (`Ok(None)`: a line of another type).
fn row<'a, V: JsonRef<'a>>(kind: Kind, envelope: V) -> Result<Option<(i64, Vec<String>)>, String> {
    if envelope.kind() != JsonKind::Object {
        return Err("not a JSON object".into());
    }
    // mozlog lines carry the payload in `Fields`; content-server flow lines are the payload.
    let (kind_name, fields) = match envelope.get("Fields") {
        Some(fields) if fields.kind() == JsonKind::Object => (
            envelope.get("Type").and_then(JsonRef::as_str).unwrap_or(""),
            fields,
        ),
        _ => (
            envelope.get("op").and_then(JsonRef::as_str).unwrap_or(""),
            envelope,
        ),
    };
    let wanted = match kind {
        Kind::Activity => "activityEvent",
        Kind::Flow => "flowEvent",
        Kind::Email => "emailEvent",
    };
    if kind_name != wanted {
        return Ok(None);
    }
    let required = |key: &str| {
        text(fields, key)
            .map(Cow::into_owned)
            .ok_or_else(|| format!("no `{key}`"))
    };
    let seconds = seconds(envelope, fields)?;
    let mut row = vec![seconds.to_string()];
    match kind {
        Kind::Activity => {
            for key in ["ua_browser", "ua_version", "ua_os"] {
                row.push(or_empty(fields, key));
            }
            row.push(required("uid")?);
            row.push(required("event")?);
            row.push(or_empty(fields, "service"));
            row.push(or_empty(fields, "device_id"));
        }
        Kind::Flow => {
            row.push(required("event")?);
            row.push(required("flow_id")?);
            let flow_time = match fields.get("flow_time").map(JsonRef::kind) {
                Some(JsonKind::Number(n)) => Some(n.as_f64())
                    .filter(|f| f.is_finite() && f.abs() < 9e15)
                    .map(f64::floor),
                Some(JsonKind::String(s)) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && f.abs() < 9e15)
                    .map(f64::floor),
                _ => None,
            }
            .ok_or("no integer `flow_time`")?;
            #[allow(clippy::cast_possible_truncation)] // Bounded above.
            row.push((flow_time as i64).to_string());
            // ua_browser .. utm_term, locale, uid: the flow file's columns after flow_time.
            for column in &kind.csv_columns()[4..] {
                row.push(or_empty(fields, column.name));
            }
        }
        Kind::Email => {
            for key in ["flow_id", "domain", "template"] {
                row.push(or_empty(fields, key));
            }
            row.push(required("type")?);
            for key in ["bounced", "complaint", "locale"] {
                row.push(or_empty(fields, key));
            }
        }
    }
    Ok(Some((seconds, row)))
}

/// One line's text as a CSV row of the kind, parsed into `doc`'s reused storage.
fn parse_row(doc: &mut Doc, kind: Kind, line: &str) -> Result<Option<(i64, Vec<String>)>, String> {
    let parsed = doc.parse(line).map_err(|err| format!("not JSON: {err}"))?;
    row(kind, parsed.root())
}

fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// A directory removed when dropped.
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Warehouse {
    /// Reads log lines of one kind from `inputs` and imports them as daily files.
    ///
    /// # Errors
    /// An unreadable input, a spool file that cannot be written (under `spool_dir`), or an
    /// import error.
    pub fn ingest<R: Read>(
        &mut self,
        kind: Kind,
        inputs: Vec<(String, R)>,
        spool_dir: &Path,
        options: &ImportOptions,
    ) -> Result<IngestReport, Error> {
        static SPOOLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = SPOOLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let spool = Spool(spool_dir.join(format!("metricsmith-ingest-{}-{n}", std::process::id())));
        std::fs::create_dir_all(&spool.0).map_err(|source| Error::Io {
            path: spool.0.clone(),
            source,
        })?;
        let mut writers: std::collections::BTreeMap<Day, (PathBuf, BufWriter<File>)> =
            std::collections::BTreeMap::new();
        let mut counts = IngestCounts::default();
        let mut files_open = 0;
        let mut doc = Doc::new();
        let mut text = String::new();
        for (name, input) in inputs {
            let mut number = 0_u64;
            let mut reader = Reader::with_limit(input, MAX_LINE);
            while let Some(line) = reader.next_line().map_err(|source| Error::Io {
                path: PathBuf::from(&name),
                source,
            })? {
                number += 1;
                counts.lines += 1;
                let parsed = if line.too_long {
                    Err(format!("line longer than {MAX_LINE} bytes"))
                } else {
                    metricsmith::line::utf8(line.text)
                        .map_err(|err| format!("not UTF-8: {err}"))
                        .map(|text| text.trim_end_matches('\r'))
                };
                let made = match parsed {
                    Ok(line) if line.trim().is_empty() => {
                        counts.skipped += 1;
                        continue;
                    }
                    Ok(line) => parse_row(&mut doc, kind, line),
                    Err(reason) => Err(reason),
                };
                let (seconds, fields) = match made {
                    Ok(Some(row)) => row,
                    Ok(None) => {
                        counts.skipped += 1;
                        continue;
                    }
                    Err(reason) => {
                        counts.rejected.push(Rejected {
                            line: number,
                            reason: format!("{name}: {reason}"),
                        });
                        continue;
                    }
                };
                let Some(ts) = Timestamp::from_epoch_seconds(seconds) else {
                    counts.rejected.push(Rejected {
                        line: number,
                        reason: format!("{name}: time outside the years 1 to 9999"),
                    });
                    continue;
                };
                let day = ts.day();
                let (path, writer) = match writers.entry(day) {
                    std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                    std::collections::btree_map::Entry::Vacant(entry) => {
                        // One open file per day: a bound on what a hostile input can open.
                        if files_open >= MAX_DAYS {
                            return Err(Error::TooManyDays(MAX_DAYS));
                        }
                        files_open += 1;
                        let path = spool.0.join(format!("{}{day}.csv", kind.file_prefix()));
                        let file = File::create(&path).map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        })?;
                        entry.insert((path, BufWriter::new(file)))
                    }
                };
                text.clear();
                for (index, field) in fields.iter().enumerate() {
                    if index > 0 {
                        text.push(',');
                    }
                    csv_field(&mut text, field);
                }
                text.push('\n');
                writer
                    .write_all(text.as_bytes())
                    .map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?;
                counts.rows += 1;
            }
        }
        let mut files = Vec::new();
        for (_, (path, mut writer)) in writers {
            writer.flush().map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            files.push(path);
        }
        let import = if files.is_empty() {
            None
        } else {
            Some(self.import(kind, &files, options)?)
        };
        Ok(IngestReport { counts, import })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_whole_utc_seconds() {
        assert_eq!(parse_iso("2016-11-14T12:43:18.349Z"), Some(1_479_127_398));
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso("2016-11-14 12:43:18Z"), None);
        assert_eq!(parse_iso("2016-11-14T12:43:18"), None);
    }

    #[test]
    fn lines_become_rows_of_their_kind() {
        let activity = r#"{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"activityEvent","Severity":6,"Pid":4242,"EnvVersion":"2.0","Fields":{"country":"United States","event":"device.created","region":"California","userAgent":"Mozilla/5.0","uid":"0123","device_id":"aaaa","is_placeholder":false}}"#;
        let mut doc = Doc::new();
        let mut row_of = |kind, line| {
            parse_row(&mut doc, kind, line)
                .ok()
                .flatten()
                .map(|(_, fields)| fields.join(","))
        };
        assert_eq!(
            row_of(Kind::Activity, activity).as_deref(),
            Some("1551700123,,,,0123,device.created,,aaaa")
        );
        assert_eq!(row_of(Kind::Flow, activity), None);
        let flow = r#"{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"flowEvent","Fields":{"event":"email.verification.sent","locale":"en-US","time":1551700123456,"flow_id":"12ab","flow_time":123456,"service":"sync","entrypoint":"menupanel","uid":"0123"}}"#;
        assert_eq!(
            row_of(Kind::Flow, flow).as_deref(),
            Some(
                "1551700123,email.verification.sent,12ab,123456,,,,,menupanel,,sync,,,,,,en-US,0123"
            )
        );
        let content = r#"{"event":"flow.begin","flow_id":"12ab","flow_time":0,"locale":"en","op":"flowEvent","time":"2016-11-14T12:43:18.349Z","v":1,"context":"fx_desktop_v3"}"#;
        assert_eq!(
            row_of(Kind::Flow, content).as_deref(),
            Some("1479127398,flow.begin,12ab,0,,,,fx_desktop_v3,,,,,,,,,en,")
        );
        let email = r#"{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"emailEvent","Fields":{"domain":"other","locale":"en","template":"verifyEmail","type":"bounced","bounced":true}}"#;
        assert_eq!(
            row_of(Kind::Email, email).as_deref(),
            Some("1551700123,,other,verifyEmail,bounced,true,,en")
        );
        assert!(parse_row(&mut doc, Kind::Flow, "not json").is_err());
        assert!(
            parse_row(
                &mut doc,
                Kind::Flow,
                r#"{"Type":"flowEvent","Fields":{"event":"x","time":1}}"#
            )
            .is_err()
        );
    }
}
