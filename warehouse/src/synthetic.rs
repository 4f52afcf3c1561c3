//! Synthetic FxA daily files of any size, for benchmarks and reliability tests.
//!
//! Deterministic for a seed: flows of 4 to 12 events (a `flow.begin`, views, engages, submits,
//! an account event, sometimes `flow.complete` and a `flow.experiment.*`), and activity events
//! of users with one to three devices. Ids are 64 hex digits spread over every cohort.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::date::Day;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn hex64(&mut self) -> String {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.next(),
            self.next(),
            self.next(),
            self.next()
        )
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items[index]
    }
}

const BROWSERS: [&str; 4] = ["Firefox", "Chrome", "Safari", "Mobile Safari"];
const OSES: [&str; 4] = ["Windows 10", "Mac OS X 10.13", "Linux", "iOS 12.1"];
const ENTRYPOINTS: [&str; 5] = [
    "menupanel",
    "app-menu",
    "preferences",
    "fxa_discoverability_native",
    "",
];
const SCREENS: [&str; 4] = ["signin", "signup", "enter-email", "reset-password"];
const LOCALES: [&str; 4] = ["en-US", "de", "fr", "es-ES"];

/// Writes `flow-DAY.csv` with about `flow_events` rows and `events-DAY.csv` with
/// `activity_events` rows into `dir`, every timestamp on `day`.
///
/// # Errors
/// An I/O error writing the files.
pub fn write_day(
    dir: &Path,
    day: Day,
    flow_events: usize,
    activity_events: usize,
    seed: u64,
) -> std::io::Result<(PathBuf, PathBuf)> {
    let mut rng = Rng(seed
        ^ u64::try_from(day.epoch_days())
            .unwrap_or(0)
            .wrapping_mul(0x1000_0000_01b3));
    let start = i64::from(day.epoch_days()) * 86_400;
    let flow_path = dir.join(format!("flow-{day}.csv"));
    let mut flow = BufWriter::new(File::create(&flow_path)?);
    let mut written = 0;
    while written < flow_events {
        let flow_id = rng.hex64();
        let uid = rng.hex64();
        let begin = start + i64::try_from(rng.below(80_000)).unwrap_or(0);
        let browser = rng.pick(&BROWSERS);
        let os = rng.pick(&OSES);
        let entrypoint = rng.pick(&ENTRYPOINTS);
        let screen = rng.pick(&SCREENS);
        let locale = rng.pick(&LOCALES);
        let service = if rng.below(2) == 0 { "sync" } else { "" };
        let count = 4 + usize::try_from(rng.below(9)).unwrap_or(0);
        let mut flow_time = 0_i64;
        for index in 0..count.min(flow_events - written) {
            let ty = match index {
                0 => "flow.begin".to_owned(),
                1 => format!("flow.{screen}.view"),
                2 => format!("flow.{screen}.engage"),
                3 => format!("flow.{screen}.submit"),
                4 => "account.login".to_owned(),
                5 if rng.below(3) == 0 => "flow.experiment.emailFirst.treatment".to_owned(),
                _ if index + 1 == count && rng.below(2) == 0 => "flow.complete".to_owned(),
                _ => format!("route./account/login.{}", 200 + rng.below(2) * 200),
            };
            let uid = if index >= 4 { uid.as_str() } else { "" };
            let ts = begin + flow_time / 1000;
            writeln!(
                flow,
                "{ts},{ty},{flow_id},{flow_time},{browser},63.0,{os},fx_desktop_v3,{entrypoint},,{service},,,,,,{locale},{uid}"
            )?;
            flow_time += 1000 + i64::try_from(rng.below(20_000)).unwrap_or(0);
        }
        written += count.min(flow_events - written);
    }
    flow.flush()?;
    let activity_path = dir.join(format!("events-{day}.csv"));
    let mut activity = BufWriter::new(File::create(&activity_path)?);
    let users = (activity_events / 6).max(1);
    let uids: Vec<String> = (0..users).map(|_| rng.hex64()).collect();
    for _ in 0..activity_events {
        let user = usize::try_from(rng.below(users as u64)).unwrap_or(0);
        let device = format!("{:032x}", (user as u128) * 4 + u128::from(rng.below(3)));
        let ts = start + i64::try_from(rng.below(86_400)).unwrap_or(0);
        let ty = rng.pick(&[
            "account.login",
            "account.signed",
            "account.keyfetch",
            "device.created",
        ]);
        let browser = rng.pick(&BROWSERS);
        writeln!(
            activity,
            "{ts},{browser},63.0,Windows 10,{},{ty},sync,{device}",
            uids[user]
        )?;
    }
    activity.flush()?;
    Ok((flow_path, activity_path))
}
