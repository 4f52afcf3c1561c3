//! `metricsmith docs`.

use std::process::ExitCode;

/// Arguments of `metricsmith docs`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> ExitCode {
    ExitCode::from(2)
}
