//! `metricsmith serve`: the collector over HTTP, a thin shell over
//! `metricsmith_collector::http`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use metricsmith_collector::http::{Options, Output, Route, Server, serve_until_terminated};

use crate::collect;

/// Arguments of `metricsmith serve`: those of `collect`, and the server's.
#[derive(Debug, clap::Args)]
#[group(id = "serve")]
pub struct Args {
    #[command(flatten)]
    collect: collect::Args,
    /// The address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port; the
    /// `server.listening` line names it).
    #[arg(long)]
    listen: SocketAddr,
    /// A MaxMind database (GeoIP2 or GeoLite2 City) to locate clients; without it, requests
    /// have no location.
    #[arg(long = "geoip-db")]
    geoip_db: Option<PathBuf>,
    /// How many addresses from the end of X-Forwarded-For (with the peer appended) the client
    /// is: 1 without a proxy, 2 behind one load balancer (FxA's clientAddressDepth).
    #[arg(long = "client-address-depth", default_value_t = 1)]
    client_address_depth: usize,
    /// How long a client may take to send its headers (and a keep-alive connection may idle).
    #[arg(long = "header-timeout-ms", default_value_t = 20_000)]
    header_timeout_ms: u64,
    /// How long a client may take to send a body.
    #[arg(long = "body-timeout-ms", default_value_t = 10_000)]
    body_timeout_ms: u64,
    /// How long a request may take from its headers to its answer.
    #[arg(long = "request-timeout-ms", default_value_t = 30_000)]
    request_timeout_ms: u64,
    /// How long SIGTERM waits for in-flight requests before it stops waiting.
    #[arg(long = "drain-timeout-ms", default_value_t = 30_000)]
    drain_timeout_ms: u64,
    /// Connections served at once.
    #[arg(long = "max-connections", default_value_t = 4096)]
    max_connections: usize,
    /// Requests handled at once.
    #[arg(long = "max-in-flight", default_value_t = 1024)]
    max_in_flight: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Dockerflow's version.json, served at /__version__ (default: this build's version).
    #[arg(long = "version-file")]
    version_file: Option<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    metricsmith_cli::schema::exit_status(serve(args))
}

fn serve(args: &Args) -> Result<(), String> {
    let process = (hostname(), std::process::id());
    let (collector, validation_logger) = collect::load_collector(&args.collect, Some(process))?;
    let ms = Duration::from_millis;
    let mut options = Options {
        header_timeout: ms(args.header_timeout_ms),
        body_timeout: ms(args.body_timeout_ms),
        request_timeout: ms(args.request_timeout_ms),
        drain_timeout: ms(args.drain_timeout_ms),
        max_connections: args.max_connections,
        max_in_flight: args.max_in_flight,
        client_address_depth: args.client_address_depth,
        ..Options::default()
    };
    if let Some(path) = &args.version_file {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read --version-file {}: {err}", path.display()))?;
        options.version = serde_json::from_str(&text)
            .map_err(|err| format!("--version-file {} is not JSON: {err}", path.display()))?;
    }
    let mut server = Server::new(vec![Route::new(collector, validation_logger)], options);
    if let Some(path) = &args.geoip_db {
        server = server.geoip(metricsmith_enrich::GeoIp::open(path).map_err(|e| e.to_string())?);
    }
    let output = Output {
        mozlog: Box::new(std::io::stdout()),
        stderr: Box::new(std::io::stderr()),
    };
    let summary = serve_until_terminated(server, args.listen, args.workers, output)
        .map_err(|err| err.to_string())?;
    if summary.lost_lines > 0 {
        return Err(format!("{} lines could not be written", summary.lost_lines));
    }
    Ok(())
}

/// The host name written into stderr lines, as node's `os.hostname()`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
