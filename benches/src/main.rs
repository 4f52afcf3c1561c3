//! `metricsmith-bench`: writes the synthetic schemas and inputs that metricsmith's benchmarks
//! run on (see benches/README.md).

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use metricsmith_bench::{Shape, glean, lines, schema};

/// Synthetic schemas and inputs for metricsmith's benchmarks.
#[derive(Debug, Parser)]
#[command(name = "metricsmith-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a metricsmith schema and the equivalent glean_parser metrics.yaml.
    ///
    /// DIR/metricsmith/bench.yaml is the metricsmith entry file, DIR/glean/metrics.yaml the
    /// glean_parser file, DIR/oauth-clients.json the clients for `metricsmith map`.
    Synth(SynthArgs),
    /// Write JSON Lines input for `metricsmith map` on the schema of the same shape.
    Lines(LinesArgs),
}

#[derive(Debug, clap::Args)]
struct ShapeArgs {
    /// Number of events.
    #[arg(long, default_value_t = 500)]
    events: usize,
    /// Typed properties per event.
    #[arg(long, default_value_t = 5)]
    properties: usize,
    /// Number of ordered regex rules (default: one per 20 events).
    #[arg(long)]
    rules: Option<usize>,
}

impl ShapeArgs {
    fn shape(&self) -> Shape {
        Shape {
            events: self.events,
            properties: self.properties,
            rules: self
                .rules
                .unwrap_or_else(|| Shape::default_rules(self.events)),
        }
    }
}

#[derive(Debug, clap::Args)]
struct SynthArgs {
    #[command(flatten)]
    shape: ShapeArgs,
    /// The output directory (created when missing).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
struct LinesArgs {
    #[command(flatten)]
    shape: ShapeArgs,
    /// Number of lines.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// The output file.
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth(&args),
        Command::Lines(args) => write_lines(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn synth(args: &SynthArgs) -> Result<(), String> {
    let shape = args.shape.shape();
    write_file(
        &args.out.join("metricsmith").join("bench.yaml"),
        &schema::render(&shape),
    )?;
    write_file(
        &args.out.join("glean").join("metrics.yaml"),
        &glean::render(&shape),
    )?;
    write_file(
        &args.out.join("oauth-clients.json"),
        &lines::oauth_clients_json(),
    )?;
    eprintln!(
        "wrote {} events, {} properties each, {} rules to {}",
        shape.events,
        shape.properties,
        shape.rules,
        args.out.display()
    );
    Ok(())
}

fn write_lines(args: &LinesArgs) -> Result<(), String> {
    let shape = args.shape.shape();
    create_parent(&args.out)?;
    let file = fs::File::create(&args.out)
        .map_err(|err| format!("cannot create {}: {err}", args.out.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    lines::write(&shape, args.count, &mut out)
        .map_err(|err| format!("cannot write {}: {err}", args.out.display()))
}

fn write_file(path: &Path, contents: &str) -> Result<(), String> {
    create_parent(path)?;
    fs::write(path, contents).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            fs::create_dir_all(dir).map_err(|err| format!("cannot create {}: {err}", dir.display()))
        }
        _ => Ok(()),
    }
}
