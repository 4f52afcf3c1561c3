//! The delivery benchmark: FxA-shaped lines -> `send` -> a fake Amplitude on loopback.
//!
//! `send-bench [--lines N] [--devices D] [--batch-events B]` generates N mozlog lines
//! (`fake_amplitude::fxa_line`: auth-server `fxa_login - success`, an `$identify` record every
//! other line, 1.5 payloads per line) and pipes them into a child process that runs `send`
//! (this binary in `sender` mode: the library code of `metricsmith send`, with the same
//! allocator), measured by GNU time: wall time, user and system CPU, peak RSS. The fake
//! server runs in this process and counts the events it accepted; generating the lines costs
//! this process too, not the measured child.

use std::io::{BufWriter, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{Parser, Subcommand};
use metricsmith_sender::fake_amplitude::{FakeAmplitude, fxa_line};
use metricsmith_sender::{Config, deliver};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "send-bench")]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
    /// Lines to send.
    #[arg(long, default_value_t = 1_000_000)]
    lines: u64,
    /// Distinct users and devices.
    #[arg(long, default_value_t = 10_000)]
    devices: u64,
    /// Events per request.
    #[arg(long, default_value_t = 1000)]
    batch_events: usize,
    /// Directory of the child's state.
    #[arg(long, default_value = "target/send-bench")]
    dir: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// The measured child: `send` with these options.
    Sender(Box<Config>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Mode::Sender(config)) = &cli.mode {
        return match deliver::run(config) {
            Ok(_) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::from(2)
            }
        };
    }
    match bench(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn bench(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let fake = FakeAmplitude::start("bench-key", false)?;
    let state = cli.dir.join(format!("state-{}", cli.lines));
    let _ = std::fs::remove_dir_all(&state);
    let time_file = cli.dir.join("time.txt");
    std::fs::create_dir_all(&cli.dir)?;
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(&time_file)
        .arg(std::env::current_exe()?)
        .args([
            "sender",
            "--input",
            "-",
            "--hmac-key",
            "bench-hmac-key",
            "--api-key",
            "bench-key",
        ])
        .args([
            "--amplitude-url",
            &fake.url(),
            "--batch-events",
            &cli.batch_events.to_string(),
        ])
        .args(["--progress-interval-ms", "3600000", "--state"])
        .arg(&state)
        .stdin(Stdio::piped())
        .spawn()?;
    let started = Instant::now();
    let mut bytes = 0u64;
    {
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut out = BufWriter::with_capacity(1 << 20, stdin);
        for i in 0..cli.lines {
            let line = fxa_line(i, cli.devices);
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            bytes += line.len() as u64 + 1;
        }
        out.flush()?;
    }
    let status = child.wait()?;
    let wall = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("the sender failed: {status}").into());
    }
    let time = std::fs::read_to_string(&time_file)?;
    let fields: Vec<f64> = time
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [_, user, sys, max_rss_kb] = fields[..] else {
        return Err(format!("unexpected GNU time output: {time}").into());
    };
    let events = fake.stats().ingested;
    let cpu = user + sys;
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let (events_f, lines_f) = (events as f64, cli.lines as f64);
    println!(
        "{{\"lines\":{},\"input_mb\":{:.0},\"events\":{events},\"requests\":{},\"wall_s\":{wall:.2},\"user_s\":{user:.2},\"sys_s\":{sys:.2},\"events_per_s\":{:.0},\"events_per_cpu_s\":{:.0},\"lines_per_cpu_s\":{:.0},\"peak_rss_mb\":{:.1}}}",
        cli.lines,
        bytes as f64 / 1e6,
        fake.stats().requests,
        events_f / wall,
        events_f / cpu,
        lines_f / cpu,
        max_rss_kb / 1024.0
    );
    Ok(())
}
