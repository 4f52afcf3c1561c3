//! `send --dry-run`: every request that would be sent, printed as one JSON line
//! `{"url":..,"body":..}`, with no network.

use std::io::Write;

use crate::Error;
use crate::config::Config;
use crate::dead_letter::DeadLetter;
use crate::input::Input;
use crate::js;
use crate::transform::{Outcome, Payloads};
use metricsmith::line::Reader;

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Payloads (events and $identify records) in the printed requests.
    pub payloads: u64,
    /// Requests printed.
    pub requests: u64,
    /// Lines whose event matched --ignored-events.
    pub ignored: u64,
    /// Lines written to the dead-letter file.
    pub dead_lettered: u64,
}

/// Reads every input to its end and prints the requests to `out`; batches are filled to
/// `--batch-events` and the last one is flushed at the end of the input.
///
/// # Errors
/// When an input, the output or the dead-letter file fails.
pub fn run(config: &Config, out: &mut dyn Write) -> Result<Summary, Error> {
    config.validate()?;
    let mut transformer = config.transformer()?;
    let mut dead_letter = DeadLetter::new(config.dead_letter_path());
    let mut payloads = Payloads::new();
    let mut body = Vec::new();
    let mut summary = Summary::default();
    let mut prefix = b"{\"url\":".to_vec();
    js::write_json_str(&mut prefix, config.amplitude_url.as_bytes());
    prefix.extend_from_slice(b",\"body\":");
    let mut flush = |payloads: &mut Payloads, summary: &mut Summary| -> Result<(), Error> {
        let n = payloads.len().min(config.batch_events);
        body.clear();
        body.extend_from_slice(&prefix);
        payloads.write_body_first(&config.api_key, n, &mut body);
        body.extend_from_slice(b"}\n");
        out.write_all(&body).map_err(|e| Error::io("stdout", e))?;
        summary.requests += 1;
        summary.payloads += n as u64;
        payloads.remove_front(n);
        Ok(())
    };
    for input in &config.inputs {
        let mut reader = Reader::with_limit(Input::open(input)?, config.max_line_bytes);
        while let Some(line) = reader.next_line().map_err(|e| Error::io(input, e))? {
            summary.lines += 1;
            let outcome = if line.too_long {
                Outcome::Malformed(format!("line longer than {} bytes", config.max_line_bytes))
            } else {
                transformer.transform(line.text, &mut payloads)
            };
            match outcome {
                Outcome::Payloads(_) => {}
                Outcome::Ignored => summary.ignored += 1,
                Outcome::Malformed(reason) => {
                    dead_letter.line(&reason, input, line.offset, line.text)?;
                    summary.dead_lettered += 1;
                }
            }
            // An $identify record and its event may land in different requests, as in FxA.
            while payloads.len() >= config.batch_events {
                flush(&mut payloads, &mut summary)?;
            }
        }
    }
    while !payloads.is_empty() {
        flush(&mut payloads, &mut summary)?;
    }
    out.flush().map_err(|e| Error::io("stdout", e))?;
    dead_letter.sync()?;
    Ok(summary)
}
