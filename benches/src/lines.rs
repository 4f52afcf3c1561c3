//! JSON Lines input for `metricsmith map`: a deterministic mix of exact hits, rule hits and
//! misses, with an FxA-like data bag.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::{ACTIONS, EXACT_ACTION, Event, Shape, SplitMix64};

/// OAuth clients for `--oauth-clients`: id -> service name.
pub const OAUTH_CLIENTS: [(&str, &str); 3] = [
    ("5882386c6d801776", "firefox-desktop"),
    ("98adfa37698f255b", "lockbox"),
    ("dcdb5ae7add825d2", "amo"),
];

/// The `--oauth-clients` file.
pub fn oauth_clients_json() -> String {
    let entries: Vec<String> = OAUTH_CLIENTS
        .iter()
        .map(|(id, name)| format!("  \"{id}\": \"{name}\""))
        .collect();
    format!("{{\n{}\n}}\n", entries.join(",\n"))
}

/// How a line's event name resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// An exact mapping.
    Exact,
    /// A regex rule.
    Rule,
    /// Nothing: a defined event with no mapping, or an unknown name.
    Miss,
}

/// The class of line `i`: 30% exact hits, 50% rule hits, 20% misses.
pub fn class(i: u64) -> Class {
    match i % 10 {
        0..=2 => Class::Exact,
        3..=7 => Class::Rule,
        _ => Class::Miss,
    }
}

/// Writes `count` lines for `shape` to `out`; line `i` has class [`class`]`(i)`.
///
/// # Errors
/// When writing fails.
pub fn write(shape: &Shape, count: u64, out: &mut impl Write) -> io::Result<()> {
    let mut rng = SplitMix64::new(0x6d65_7472_6963_7373);
    let objects = shape.events.div_ceil(ACTIONS.len()).max(1);
    let mut line = String::with_capacity(1024);
    let time0: u64 = 1_551_700_000_000;
    for i in 0..count {
        let name = event_name(shape, class(i), objects, &mut rng);
        let time = time0 + i;
        let uid = rng.hex(32);
        let device_id = rng.hex(32);
        let flow_id = rng.hex(64);
        let service = match rng.below(4) {
            0 => "sync",
            n => OAUTH_CLIENTS[n - 1].0,
        };
        line.clear();
        let _ = write!(
            line,
            r#"{{"event":{{"type":"{name}","time":{time}}},"data":{{"uid":"{uid}","deviceId":"{device_id}","flowBeginTime":{begin},"flowId":"{flow_id}","lang":"en-US","country":"United States","region":"California","os":"Windows","osVersion":"10","browser":"Firefox","browserVersion":"65.0","service":"{service}","label":"settings_{label}"}}}}"#,
            begin = time - 60_000,
            label = i % 97,
        );
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

/// A name of class `class`, falling back to a miss when the shape has no such event.
fn event_name(shape: &Shape, class: Class, objects: usize, rng: &mut SplitMix64) -> String {
    let ruled_objects =
        (shape.rules.min(shape.areas()) * crate::EVENTS_PER_AREA / ACTIONS.len()).min(objects);
    match class {
        Class::Exact if shape.events > EXACT_ACTION => {
            // The last object may be incomplete: stay below the last full one.
            let object = rng.below((shape.events / ACTIONS.len()).max(1));
            Event::new(object * ACTIONS.len() + EXACT_ACTION).name()
        }
        Class::Rule if ruled_objects > 0 => {
            let object = rng.below(ruled_objects);
            let action = rng.below(EXACT_ACTION);
            let event = Event::new(object * ACTIONS.len() + action);
            if event.index < shape.events && event.is_ruled(shape.rules) {
                event.name()
            } else {
                miss(rng)
            }
        }
        _ => miss(rng),
    }
}

fn miss(rng: &mut SplitMix64) -> String {
    format!("zz.unmapped{:03}.view", rng.below(1000))
}
