//! The one configuration of `metricsmith send`, read from flags and the environment.

use std::fmt;
use std::path::PathBuf;

use crate::Error;
use crate::transform::{IgnoredEvents, InputFormat, Transformer};

/// Amplitude's US `/batch` endpoint.
pub const AMPLITUDE_US: &str = "https://api2.amplitude.com/batch";

/// Amplitude takes at most this many events per `/batch` request.
pub const MAX_BATCH_EVENTS: usize = 2000;

/// Options of `metricsmith send`.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Input files of lines; `-` is stdin. Several files are read one after the other.
    #[arg(long = "input", default_value = "-", num_args = 1..)]
    pub inputs: Vec<String>,
    /// What each line holds.
    #[arg(long, value_enum, default_value_t = InputFormat::Mozlog)]
    pub input_format: InputFormat,
    /// Key of the HMAC-SHA256 that hashes user_id and makes insert_id (FxA's HMAC_KEY).
    #[arg(long, env = "METRICSMITH_HMAC_KEY", hide_env_values = true)]
    pub hmac_key: String,
    /// Amplitude project API key, sent in each body.
    #[arg(long, env = "AMPLITUDE_API_KEY", hide_env_values = true)]
    pub api_key: String,
    /// A JSON file of event_type -> criteria object (or array of them): matching events are
    /// consumed and not sent (FxA's IGNORED_EVENTS).
    #[arg(long)]
    pub ignored_events: Option<PathBuf>,
    /// Events (and $identify records) per request, at most 2000.
    #[arg(long, default_value_t = 1000)]
    pub batch_events: usize,
    /// The /batch endpoint.
    #[arg(long, default_value = AMPLITUDE_US)]
    pub amplitude_url: String,
    /// Directory of the checkpoint (and of the dead-letter file unless --dead-letter).
    #[arg(long, default_value = "metricsmith-send-state")]
    pub state: PathBuf,
    /// Where malformed lines and refused events go, one JSON line each
    /// (default: dead-letter.jsonl in the state directory).
    #[arg(long)]
    pub dead_letter: Option<PathBuf>,
    /// Send nothing: print each request that would be sent as one JSON line
    /// {"url":..,"body":..}.
    #[arg(long)]
    pub dry_run: bool,
    /// Lines longer than this many bytes are malformed (memory stays bounded).
    #[arg(long, default_value_t = 4 << 20)]
    pub max_line_bytes: usize,
    /// Keep reading the last input as it grows (without it, send exits 0 once every line is
    /// delivered or dead-lettered).
    #[arg(long)]
    pub follow: bool,
    /// Time allowed for one request, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// First retry delay after a 5xx, a timeout or a refused connection, in milliseconds;
    /// it doubles with each failure, with jitter, up to --backoff-max-ms.
    #[arg(long, default_value_t = 1_000)]
    pub backoff_base_ms: u64,
    /// Longest retry delay, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub backoff_max_ms: u64,
    /// How long users and devices named in a 429 are held back when the answer has no
    /// Retry-After, in milliseconds (Amplitude asks for 30 s).
    #[arg(long, default_value_t = 30_000)]
    pub throttle_hold_ms: u64,
    /// Events read ahead of delivery at most (bounds memory whatever the input or outage).
    #[arg(long, default_value_t = 20_000)]
    pub max_pending_events: usize,
    /// Least time between two checkpoint writes, in milliseconds (one is always written at
    /// the end).
    #[arg(long, default_value_t = 1_000)]
    pub checkpoint_interval_ms: u64,
    /// Time between two progress lines on stderr, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub progress_interval_ms: u64,
    /// Read from this NATS server's JetStream instead of --input (with --stream, --consumer).
    #[arg(long, requires_all = ["stream", "consumer"])]
    pub nats: Option<String>,
    /// The JetStream stream to read.
    #[arg(long, requires = "nats")]
    pub stream: Option<String>,
    /// The durable pull consumer (created if missing); several senders on one consumer share
    /// the messages.
    #[arg(long, requires = "nats")]
    pub consumer: Option<String>,
    /// With --nats: exit once a fetch finds no new message and everything is settled (for
    /// batch jobs and tests); without it, run until SIGTERM.
    #[arg(long, requires = "nats")]
    pub exit_when_drained: bool,
}

impl fmt::Debug for Config {
    // Printed at start-up: without the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("inputs", &self.inputs)
            .field("input_format", &self.input_format)
            .field("hmac_key", &"<redacted>")
            .field("api_key", &"<redacted>")
            .field("ignored_events", &self.ignored_events)
            .field("batch_events", &self.batch_events)
            .field("amplitude_url", &self.amplitude_url)
            .field("state", &self.state)
            .field("dead_letter", &self.dead_letter)
            .field("dry_run", &self.dry_run)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("follow", &self.follow)
            .field("timeout_ms", &self.timeout_ms)
            .field("backoff_base_ms", &self.backoff_base_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .field("throttle_hold_ms", &self.throttle_hold_ms)
            .field("max_pending_events", &self.max_pending_events)
            .field("checkpoint_interval_ms", &self.checkpoint_interval_ms)
            .field("progress_interval_ms", &self.progress_interval_ms)
            .field("nats", &self.nats)
            .field("stream", &self.stream)
            .field("consumer", &self.consumer)
            .field("exit_when_drained", &self.exit_when_drained)
            .finish()
    }
}

impl Config {
    /// A configuration with the defaults of the command line.
    pub fn new(hmac_key: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            inputs: vec!["-".to_owned()],
            input_format: InputFormat::Mozlog,
            hmac_key: hmac_key.into(),
            api_key: api_key.into(),
            ignored_events: None,
            batch_events: 1000,
            amplitude_url: AMPLITUDE_US.to_owned(),
            state: PathBuf::from("metricsmith-send-state"),
            dead_letter: None,
            dry_run: false,
            max_line_bytes: 4 << 20,
            follow: false,
            timeout_ms: 30_000,
            backoff_base_ms: 1_000,
            backoff_max_ms: 60_000,
            throttle_hold_ms: 30_000,
            max_pending_events: 20_000,
            checkpoint_interval_ms: 1_000,
            progress_interval_ms: 10_000,
            nats: None,
            stream: None,
            consumer: None,
            exit_when_drained: false,
        }
    }

    /// Checks the options that clap cannot.
    ///
    /// # Errors
    /// When an option is out of range.
    pub fn validate(&self) -> Result<(), Error> {
        if self.batch_events == 0 || self.batch_events > MAX_BATCH_EVENTS {
            return Err(Error::Config(format!(
                "--batch-events must be between 1 and {MAX_BATCH_EVENTS}, not {}",
                self.batch_events
            )));
        }
        if self.max_pending_events < self.batch_events {
            return Err(Error::Config(format!(
                "--max-pending-events ({}) must be at least --batch-events ({})",
                self.max_pending_events, self.batch_events
            )));
        }
        if self.max_line_bytes == 0 {
            return Err(Error::Config(
                "--max-line-bytes must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    /// The dead-letter file.
    pub fn dead_letter_path(&self) -> PathBuf {
        self.dead_letter
            .clone()
            .unwrap_or_else(|| self.state.join("dead-letter.jsonl"))
    }

    /// The transformer of these options (reads `--ignored-events`).
    ///
    /// # Errors
    /// When the ignored-events file cannot be read or is not valid.
    pub fn transformer(&self) -> Result<Transformer, Error> {
        let ignored = match &self.ignored_events {
            Some(path) => {
                let text = std::fs::read(path).map_err(|e| Error::io(path.display(), e))?;
                IgnoredEvents::from_json(&text).map_err(|err| match err {
                    Error::IgnoredEvents(reason) => {
                        Error::IgnoredEvents(format!("{}: {reason}", path.display()))
                    }
                    other => other,
                })?
            }
            None => IgnoredEvents::default(),
        };
        Ok(Transformer::new(&self.hmac_key, ignored, self.input_format))
    }
}
