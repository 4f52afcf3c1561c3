//! `metricsmith check`: load schema files, report every problem.
//!
//! Exit status: 0 when there is no error (warnings allowed unless `--deny-warnings`), 1 when
//! the schema has errors, 2 on a usage error or when a path on the command line cannot be read.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith_codegen::{Loader, Style};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-like text on stderr.
    Human,
    /// One JSON document on stdout.
    Json,
}

/// Arguments of `metricsmith check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Schema files or directories (every `*.yaml` under a directory).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// The largest schema file accepted, in bytes.
    #[arg(long, default_value_t = metricsmith_codegen::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// The current service version, for `expires: vNNN`.
    #[arg(long)]
    pub current_version: Option<u32>,
}

/// Runs the check and returns the exit status.
pub fn run(args: &Args) -> ExitCode {
    let mut loader = Loader::new();
    loader
        .max_file_size(args.max_file_size)
        .current_version(args.current_version)
        // Only diagnostics are reported: the examples that backends show are not needed.
        .facts(false);
    let (report, services) = match loader.load_all(&args.paths) {
        Ok(checked) => (checked.report, checked.model.services.len()),
        Err(report) => (report, 0),
    };
    if services == 0 && !report.has_errors() {
        // A wrong path in CI must not pass as "no problems".
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "error: no service found in {}: `check` reads the given YAML files and every `*.yaml` \
             under the given directories, and a service is declared by an entry file (one with \
             `service:`); pass a schema directory or an entry file",
            paths.join(", ")
        );
        return ExitCode::from(2);
    }
    match args.format {
        Format::Json => {
            // A closed pipe is not worth a panic.
            let _ = writeln!(std::io::stdout(), "{}", report.to_json());
        }
        Format::Human => {
            let style = if std::io::stderr().is_terminal() {
                Style::Styled
            } else {
                Style::Plain
            };
            let text = report.render(style);
            if text.is_empty() {
                eprintln!("ok: {services} service(s) checked, no problems");
            } else {
                eprint!("{text}");
            }
        }
    }
    metricsmith_cli::exit_status(&report, args.deny_warnings)
}
