//! `metricsmith send`: delivery to Amplitude, a thin shell over `metricsmith-sender`.

use std::io::{self, BufWriter};
use std::process::ExitCode;

use metricsmith_sender::{Config, Error, deliver, dry_run};

pub fn run(config: &Config) -> ExitCode {
    let result = if config.dry_run {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        dry_run::run(config, &mut out).map(|s| {
            eprintln!(
                "{{\"type\":\"send.done\",\"lines\":{},\"requests\":{},\"payloads\":{},\"ignored\":{},\"dead_lettered\":{}}}",
                s.lines, s.requests, s.payloads, s.ignored, s.dead_lettered
            );
        })
    } else {
        eprintln!(
            "{{\"type\":\"send.start\",\"config\":{:?}}}",
            format!("{config:?}")
        );
        deliver::run(config).map(|s| {
            eprintln!(
                "{{\"type\":\"send.done\",\"lines\":{},\"sent\":{},\"retried\":{},\"dead_lettered\":{},\"ignored\":{},\"requests\":{},\"interrupted\":{}}}",
                s.lines, s.sent, s.retried, s.dead_lettered, s.ignored, s.requests, s.interrupted
            );
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err @ Error::Refused(_)) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

pub fn publish(config: &metricsmith_sender::nats::PublishConfig) -> ExitCode {
    match metricsmith_sender::nats::publish(config) {
        Ok(count) => {
            eprintln!("{{\"type\":\"publish.done\",\"messages\":{count}}}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
