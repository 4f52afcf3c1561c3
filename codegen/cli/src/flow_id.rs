//! `metricsmith flow-id`: sign and verify flow ids with the runtime's [`metricsmith::flow_id`].

use std::process::ExitCode;

use metricsmith::clock::OsRng;
use metricsmith::flow_id;

/// `metricsmith flow-id sign|verify`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a flow id for a begin time (a random salt unless --salt is given).
    Sign(SignArgs),
    /// Check a flow id like the auth server and print {"valid":..,"reason":..}.
    Verify(VerifyArgs),
}

/// Arguments of `metricsmith flow-id sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The `flow_id_key` (may be empty).
    #[arg(long, allow_hyphen_values = true)]
    key: String,
    /// The salt as 32 hex digits, used verbatim; 16 random bytes when absent.
    #[arg(long, value_name = "HEX")]
    salt: Option<String>,
    /// The flow begin time in ms since the epoch.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    begin: i64,
}

/// Arguments of `metricsmith flow-id verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The `flow_id_key` (may be empty).
    #[arg(long, allow_hyphen_values = true)]
    key: String,
    /// The flow id to check (may be empty: "missing flowId").
    #[arg(long = "flow-id", value_name = "ID", allow_hyphen_values = true)]
    flow_id: String,
    /// The flow begin time in ms (0: "missing flowBeginTime").
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    begin: i64,
    /// The current time in ms.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    now: i64,
    /// The maximum age in ms (FxA's flow_id_expiry; 7200000 by default there).
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    expiry: i64,
}

/// Runs the subcommand: 0 when it printed its result (for `verify`, whatever the verdict: it is
/// in the output), 2 for bad arguments or failures.
pub fn run(command: &Command) -> ExitCode {
    match command {
        Command::Sign(args) => sign(args),
        Command::Verify(args) => verify(args),
    }
}

fn sign(args: &SignArgs) -> ExitCode {
    let id = match &args.salt {
        Some(salt) => {
            if salt.len() != 32 || !salt.bytes().all(|b| b.is_ascii_hexdigit()) {
                eprintln!("error: --salt must be 32 hex digits, got {salt:?}");
                return ExitCode::from(2);
            }
            flow_id::sign(&args.key, salt, args.begin)
        }
        None => match flow_id::create(&args.key, args.begin, &OsRng) {
            Ok(created) => created.flow_id,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::from(2);
            }
        },
    };
    println!("{id}");
    ExitCode::SUCCESS
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let validation = flow_id::validate(&args.key, &args.flow_id, args.begin, args.now, args.expiry);
    match serde_json::to_string(&validation) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
