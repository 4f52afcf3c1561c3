//! `metricsmith generate`.

use std::process::ExitCode;

/// Arguments of `metricsmith generate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> ExitCode {
    ExitCode::from(2)
}
