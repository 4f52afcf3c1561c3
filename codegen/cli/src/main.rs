//! The `metricsmith` command-line tool: a thin shell over the codegen and runtime libraries.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod collect;
mod docs;
mod flow_id;
mod generate;
mod map;
mod send;
mod serve;
mod warehouse;

// A fifth of `metricsmith generate`'s time was glibc malloc and free (docs/performance.md).
// Built without transparent huge pages (`no_thp`): on a machine whose memory another process
// just fragmented, faulting in huge pages stalled a 70 ms run for 200 ms and more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Typed, reviewed metrics events: check schemas, generate code and docs, try mappings.
#[derive(Debug, Parser)]
#[command(name = "metricsmith", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check schema files and report every problem.
    Check(check::Args),
    /// Generate Rust code, tests, reviewer docs and JSON Schemas for a schema.
    Generate(generate::Args),
    /// Generate only the reviewer docs for a schema.
    Docs(docs::Args),
    /// Map JSON Lines events through a schema's Amplitude mapping.
    Map(map::Args),
    /// Replay POST /metrics requests (JSON Lines) through a service's collector.
    Collect(collect::Args),
    /// Serve POST /metrics over HTTP (and the Dockerflow endpoints) until SIGTERM.
    Serve(Box<serve::Args>),
    /// Deliver Amplitude events from mozlog lines to Amplitude's /batch API.
    Send(Box<metricsmith_sender::Config>),
    /// Publish lines to a NATS JetStream subject, one message per line.
    Publish(metricsmith_sender::nats::PublishConfig),
    /// Sign or verify flow ids.
    #[command(name = "flow-id", subcommand)]
    FlowId(flow_id::Command),
    /// Load FxA's daily event files into the warehouse tables (SQLite or PostgreSQL).
    #[command(subcommand)]
    Warehouse(warehouse::Command),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout with success; usage errors exit 2.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Docs(args) => docs::run(&args),
        Command::Map(args) => map::run(&args),
        Command::Collect(args) => collect::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::FlowId(command) => flow_id::run(&command),
        Command::Warehouse(command) => warehouse::run(&command),
        Command::Send(config) => send::run(&config),
        Command::Publish(config) => send::publish(&config),
    }
}
