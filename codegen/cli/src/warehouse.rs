//! `metricsmith warehouse`: a thin shell over the `metricsmith-warehouse` crate.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith_warehouse::{
    Day, ImportOptions, ImportOutcome, ImportReport, Kind, SummaryOutcome, Warehouse,
};

/// `metricsmith warehouse import|summarize|dump`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Import FxA daily CSV files (events-, flow- or email-events-YYYY-MM-DD.csv) as the
    /// fxa-activity-metrics scripts did.
    Import(ImportArgs),
    /// Import the services' mozlog activity, flow or email lines (what Heka made the CSVs from).
    Ingest(IngestArgs),
    /// Compute the daily summaries (daily activity per device, multi-device users).
    Summarize(DbArgs),
    /// Write every table as <table>.csv (header, sorted rows, \N for NULL).
    Dump(DumpArgs),
}

/// Where the warehouse is.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The database: sqlite:PATH (embedded) or postgres://USER@HOST:PORT/DB.
    #[arg(long)]
    db: String,
    /// On PostgreSQL, keep the tables in this schema (created if needed).
    #[arg(long)]
    schema: Option<String>,
}

/// Late days to import on purpose.
#[derive(Debug, clap::Args)]
pub struct LateDays {
    /// Import this day although it is older than the newest imported day (a late day, which
    /// the scripts never imported). Repeatable.
    #[arg(long = "late-day", value_name = "YYYY-MM-DD", value_parser = parse_day)]
    late_days: Vec<Day>,
}

/// Arguments of `metricsmith warehouse import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The kind of files: activity, flow or email.
    #[arg(long)]
    kind: Kind,
    #[command(flatten)]
    late: LateDays,
    /// The daily files; the day comes from each name.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Arguments of `metricsmith warehouse ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The kind of lines to take: activity, flow or email (others are skipped).
    #[arg(long)]
    kind: Kind,
    #[command(flatten)]
    late: LateDays,
    /// Where the daily files are spooled before the import (removed afterwards).
    #[arg(long, value_name = "DIR")]
    spool: Option<PathBuf>,
    /// Log files; `-` or none reads standard input.
    files: Vec<PathBuf>,
}

/// Arguments of `metricsmith warehouse dump`.
#[derive(Debug, clap::Args)]
pub struct DumpArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The output directory.
    #[arg(long)]
    out: PathBuf,
}

fn parse_day(text: &str) -> Result<Day, String> {
    Day::parse(text).ok_or_else(|| format!("`{text}` is not a YYYY-MM-DD date"))
}

fn open(args: &DbArgs) -> Result<Warehouse, metricsmith_warehouse::Error> {
    Warehouse::open_in_schema(&args.db, args.schema.as_deref())
}

/// Runs the subcommand: 0 on success (also when there was nothing to import or summarise,
/// which the message says), 1 when the run failed.
pub fn run(command: &Command) -> ExitCode {
    let result = match command {
        Command::Import(args) => import(args),
        Command::Ingest(args) => ingest(args),
        Command::Summarize(args) => summarize(args),
        Command::Dump(args) => dump(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}

fn import(args: &ImportArgs) -> Result<(), metricsmith_warehouse::Error> {
    let mut warehouse = open(&args.db)?;
    let options = ImportOptions {
        late_days: args.late.late_days.clone(),
    };
    let report = warehouse.import(args.kind, &args.files, &options)?;
    print_import(&report);
    Ok(())
}

fn print_import(report: &ImportReport) {
    let mut out = std::io::stdout().lock();
    if !report.resumed_days.is_empty() {
        let days: Vec<String> = report.resumed_days.iter().map(Day::to_string).collect();
        let _ = writeln!(
            out,
            "resumed the interrupted run's days: {}",
            days.join(", ")
        );
    }
    for copy in &report.copies {
        let counts = &copy.counts;
        let _ = writeln!(
            out,
            "{} {}: {} rows read, {} loaded, {} rejected, {} values truncated",
            copy.day,
            copy.file.display(),
            counts.rows_read,
            counts.rows_loaded,
            counts.rejected.len(),
            counts.truncated_values
        );
        for rejected in &counts.rejected {
            let _ = writeln!(
                out,
                "  rejected line {}: {}",
                rejected.line, rejected.reason
            );
        }
    }
    if !report.late_days.is_empty() {
        let days: Vec<String> = report.late_days.iter().map(Day::to_string).collect();
        eprintln!(
            "warning: {} late day(s) not imported, older than the newest imported {} day: {}; \
             import one on purpose with --late-day YYYY-MM-DD",
            days.len(),
            report.kind,
            days.join(", ")
        );
    }
    match report.outcome {
        ImportOutcome::Imported => {
            let max_day = report.max_day.map(|d| d.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "imported {} day(s) of {} events; expired relative to {max_day}",
                report.copies.len(),
                report.kind
            );
        }
        ImportOutcome::NothingToImport => {
            eprintln!(
                "nothing to import: every {} day given is already imported or late",
                report.kind
            );
        }
    }
}

fn ingest(args: &IngestArgs) -> Result<(), metricsmith_warehouse::Error> {
    let mut inputs: Vec<(String, Box<dyn std::io::Read>)> = Vec::new();
    let stdin = [PathBuf::from("-")];
    let files = if args.files.is_empty() {
        &stdin[..]
    } else {
        &args.files[..]
    };
    for file in files {
        if file.as_os_str() == "-" {
            inputs.push(("-".to_owned(), Box::new(std::io::stdin().lock())));
            continue;
        }
        let opened =
            std::fs::File::open(file).map_err(|source| metricsmith_warehouse::Error::Io {
                path: file.clone(),
                source,
            })?;
        inputs.push((
            file.display().to_string(),
            // The ingest reads through one large buffer of its own.
            Box::new(opened),
        ));
    }
    let mut warehouse = open(&args.db)?;
    let options = ImportOptions {
        late_days: args.late.late_days.clone(),
    };
    let spool = args.spool.clone().unwrap_or_else(std::env::temp_dir);
    let report = warehouse.ingest(args.kind, inputs, &spool, &options)?;
    let counts = &report.counts;
    println!(
        "{} lines read: {} {} rows, {} lines of other types skipped, {} rejected",
        counts.lines,
        counts.rows,
        args.kind,
        counts.skipped,
        counts.rejected.len()
    );
    for rejected in &counts.rejected {
        println!("  rejected line {} of {}", rejected.line, rejected.reason);
    }
    match &report.import {
        Some(import) => print_import(import),
        None => eprintln!("nothing to import: no {} line", args.kind),
    }
    Ok(())
}

fn summarize(args: &DbArgs) -> Result<(), metricsmith_warehouse::Error> {
    let mut warehouse = open(args)?;
    match warehouse.summarize()? {
        SummaryOutcome::NoEvents => {
            eprintln!("nothing to summarise: activity_events_sampled_10 is empty")
        }
        SummaryOutcome::Summarised(samples) => {
            for sample in samples {
                let until = sample
                    .day_until
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "summarised{} from {} until {until}",
                    sample.sample.suffix(),
                    sample.day_from
                );
            }
        }
    }
    Ok(())
}

fn dump(args: &DumpArgs) -> Result<(), metricsmith_warehouse::Error> {
    let mut warehouse = open(&args.db)?;
    let tables = warehouse.dump(&args.out)?;
    println!("wrote {} tables to {}", tables.len(), args.out.display());
    Ok(())
}
