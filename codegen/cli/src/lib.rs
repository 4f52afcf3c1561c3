//! The library behind the `metricsmith` command-line tool: loading a schema and building the
//! runtime's mapping from its model (through `metricsmith_codegen::spec::mapping_spec`).
//!
//! The binary's subcommands are thin shells over this and over `metricsmith-codegen`; tests
//! and benchmarks use it to run a schema's mapping without generating code first.

pub mod live_check;
pub mod schema;

use std::process::ExitCode;

use metricsmith_codegen::{Code, Report};

/// The exit status of a command that checked schemas: 2 when an argument could not be read
/// (usage or I/O), 1 for schema errors (or warnings with `deny_warnings`), else 0.
pub fn exit_status(report: &Report, deny_warnings: bool) -> ExitCode {
    let unreadable_argument = report.diagnostics.iter().any(|d| {
        matches!(d.code, Code::Io | Code::NotAFile)
            && d.primary.span.start == 0
            && d.primary.span.end == 0
            && report
                .sources
                .get(d.primary.span.file)
                .is_some_and(|s| s.text.is_empty())
    });
    if unreadable_argument {
        ExitCode::from(2)
    } else if report.has_errors() || (deny_warnings && report.warnings() > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
