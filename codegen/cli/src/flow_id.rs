//! `metricsmith flow-id`.

use std::process::ExitCode;

/// `metricsmith flow-id sign|verify`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {}

pub fn run(command: &Command) -> ExitCode {
    match *command {}
}
