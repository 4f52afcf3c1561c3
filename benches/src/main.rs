//! `metricsmith-bench`: writes the synthetic schemas and inputs that metricsmith's benchmarks
//! run on (see benches/README.md).

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use metricsmith_bench::{Shape, glean, lines, schema};

// The allocator of the `metricsmith` binary, so that `stages` times what the CLI does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Time each stage of `metricsmith generate` on a schema, in this process, one thread per
    /// stage (the median of RUNS runs), then the whole `generate` as the CLI runs it.
    Stages(StagesArgs),
}

#[derive(Debug, clap::Args)]
struct StagesArgs {
    /// The schema: an entry file or a directory, as `metricsmith generate --schema` takes it.
    #[arg(long)]
    schema: PathBuf,
    /// Runs per stage.
    #[arg(long, default_value_t = 3)]
    runs: usize,
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
        Command::Stages(args) => stages(&args),
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

fn stages(args: &StagesArgs) -> Result<(), String> {
    use metricsmith_codegen::{Builder, Loader, backend};
    let runs = args.runs.max(1);
    let mut rows: Vec<(&str, Vec<Duration>)> = Vec::new();
    let mut time =
        |stage: &'static str, elapsed: Duration| match rows.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, times)) => times.push(elapsed),
            None => rows.push((stage, vec![elapsed])),
        };
    let mut lines = 0;
    for _ in 0..runs {
        if args.schema.is_file() {
            let text = std::fs::read_to_string(&args.schema).map_err(|e| e.to_string())?;
            let source = metricsmith_codegen::SourceFile::new(&args.schema, text);
            let start = Instant::now();
            let (ast, _) =
                metricsmith_codegen::parse::parse_file(metricsmith_codegen::FileId(0), &source);
            time(
                "YAML parsing of the entry file (part of load)",
                start.elapsed(),
            );
            drop(ast);
        }
        let start = Instant::now();
        let checked = Loader::new()
            .load_all(std::slice::from_ref(&args.schema))
            .map_err(|report| report.to_string())?;
        time("load: parse, validate, lower", start.elapsed());
        for service in checked.model.services.values() {
            let start = Instant::now();
            let module = backend::rust::emit_service(service);
            time("Rust module (text)", start.elapsed());
            let start = Instant::now();
            let tests = backend::tests::emit_tests(service);
            time("tests module (text)", start.elapsed());
            lines = module.lines().count() + tests.lines().count();
            let start = Instant::now();
            backend::docs::render_service(service)?;
            time("docs", start.elapsed());
            let start = Instant::now();
            backend::json_schema::render(service);
            time("JSON Schema", start.elapsed());
        }
        let start = Instant::now();
        Builder::new()
            .schema(&args.schema)
            .tests(true)
            .docs(true)
            .json_schema(true)
            .crate_layout(true)
            .generate()
            .map_err(|e| e.to_string())?;
        time("Builder::generate, as the CLI (threads)", start.elapsed());
    }
    println!("{lines} lines of Rust; median of {runs} runs\n");
    println!("| stage | ms |\n|---|---:|");
    for (stage, mut times) in rows {
        times.sort();
        let median = times[times.len() / 2];
        println!("| {stage} | {:.1} |", median.as_secs_f64() * 1000.0);
    }
    Ok(())
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
