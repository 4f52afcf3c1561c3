//! `metricsmith send`: delivery to Amplitude, a thin shell over `metricsmith-sender`.

use std::io::{self, BufWriter};
use std::process::ExitCode;

use metricsmith_sender::{Config, dry_run};

pub fn run(config: &Config) -> ExitCode {
    let result = if config.dry_run {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        dry_run::run(config, &mut out).map(|summary| {
            eprintln!(
                "{{\"lines\":{},\"requests\":{},\"payloads\":{},\"ignored\":{},\"dead_lettered\":{}}}",
                summary.lines, summary.requests, summary.payloads, summary.ignored, summary.dead_lettered
            );
        })
    } else {
        Err(metricsmith_sender::Error::Config(
            "only --dry-run is available in this build".to_owned(),
        ))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
