//! The NATS JetStream source of `send` (a durable pull consumer, one mozlog line per message,
//! acknowledged once every payload made from it was accepted or dead-lettered) and
//! `metricsmith publish`, which puts lines on a stream.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use crate::Error;
use crate::config::Config;
use crate::dead_letter::DeadLetter;
use crate::deliver::{Chunk, LineInfo};
use crate::input::Input;
use crate::transform::{Payloads, Transformer};
use metricsmith::line::Reader;

/// JetStream redelivers a message not acknowledged within this time.
pub const ACK_WAIT: Duration = Duration::from_secs(300);
/// Messages that wait here (a 429 hold, an outage) are reported in progress this often.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(60);

fn nats_error(what: &str, err: impl std::fmt::Display) -> Error {
    Error::Nats(format!("{what}: {err}"))
}

/// Connects, retrying while the server is not up yet.
async fn connect(url: &str) -> Result<async_nats::Client, Error> {
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(url)
        .await
        .map_err(|e| nats_error(url, e))
}

/// The reader of `send --nats`: fetches messages, transforms them, hands them over in chunks.
pub(crate) async fn read(
    config: &Config,
    mut transformer: Transformer,
    dead_letter: &std::sync::Mutex<DeadLetter>,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Result<Chunk, Error>>,
) -> Result<(), Error> {
    let (Some(url), Some(stream_name), Some(consumer_name)) =
        (&config.nats, &config.stream, &config.consumer)
    else {
        return Err(Error::Config(
            "--nats needs --stream and --consumer".to_owned(),
        ));
    };
    let client = connect(url).await?;
    let context = jetstream::new(client);
    let stream = context
        .get_stream(stream_name)
        .await
        .map_err(|e| nats_error(&format!("stream {stream_name}"), e))?;
    let mut consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            consumer_name,
            pull::Config {
                durable_name: Some(consumer_name.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: i64::try_from(config.max_pending_events).unwrap_or(i64::MAX),
                ..pull::Config::default()
            },
        )
        .await
        .map_err(|e| nats_error(&format!("consumer {consumer_name}"), e))?;
    let source = format!("nats:{stream_name}/{consumer_name}");
    let mut payloads = Payloads::new();
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let batch = consumer
            .fetch()
            .max_messages(config.batch_events)
            .expires(Duration::from_millis(500))
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(err) => {
                // The client reconnects by itself (a NATS restart): wait and fetch again.
                failures = failures.saturating_add(1);
                crate::deliver::log_line(&format!(
                    "{{\"type\":\"send.nats_fetch_failed\",\"error\":{}}}",
                    crate::deliver::json_string(&err.to_string())
                ));
                tokio::time::sleep(Duration::from_millis(100 * u64::from(failures.min(20)))).await;
                continue;
            }
        };
        failures = 0;
        let mut chunk = Chunk::default();
        while let Some(message) = batch.next().await {
            let Ok(message) = message else {
                // A fetch cut short (a reconnect): what was not received is fetched again.
                break;
            };
            let mut bytes: &[u8] = &message.payload;
            // `publish` sends lines without their terminator; tolerate one anyway.
            if let Some(rest) = bytes.strip_suffix(b"\n") {
                bytes = rest.strip_suffix(b"\r").unwrap_or(rest);
            }
            let sequence = message.info().map_or(0, |info| info.stream_sequence);
            let too_long = (bytes.len() > config.max_line_bytes).then_some(config.max_line_bytes);
            let bytes = bytes.get(..config.max_line_bytes).unwrap_or(bytes).to_vec();
            let info = LineInfo {
                source: &source,
                input: 0,
                start: sequence,
                end: sequence,
                bytes: &bytes,
                too_long,
            };
            chunk.add_line(
                &mut transformer,
                &mut payloads,
                info,
                dead_letter,
                Some(Box::new(message)),
            )?;
        }
        let drained = chunk.marks.is_empty();
        if !drained && tx.send(Ok(chunk)).await.is_err() {
            return Ok(());
        }
        // An empty fetch may be a connection going away: drained only if the server says so.
        if drained && config.exit_when_drained {
            let pending = consumer.info().await.map(|info| info.num_pending);
            if pending.is_ok_and(|pending| pending == 0) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Options of `metricsmith publish`.
#[derive(Debug, Clone, clap::Args)]
pub struct PublishConfig {
    /// The NATS server.
    #[arg(long)]
    pub nats: String,
    /// The subject each line is published on.
    #[arg(long)]
    pub subject: String,
    /// Create this stream (capturing --subject) if it does not exist.
    #[arg(long)]
    pub stream: Option<String>,
    /// Input files of lines; `-` is stdin.
    #[arg(long = "input", default_value = "-", num_args = 1..)]
    pub inputs: Vec<String>,
    /// Publish acknowledgements awaited at most at once.
    #[arg(long, default_value_t = 512)]
    pub in_flight: usize,
    /// Lines longer than this many bytes are refused (an error).
    #[arg(long, default_value_t = 4 << 20)]
    pub max_line_bytes: usize,
}

/// Publishes every line of the inputs as one message, each acknowledged by JetStream;
/// returns the number of messages.
///
/// # Errors
/// When an input cannot be read, a line is too long, or NATS refuses a message.
pub fn publish(config: &PublishConfig) -> Result<u64, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    runtime.block_on(publish_async(config))
}

async fn publish_async(config: &PublishConfig) -> Result<u64, Error> {
    let client = connect(&config.nats).await?;
    let context = jetstream::new(client.clone());
    if let Some(name) = &config.stream {
        context
            .get_or_create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![config.subject.clone()],
                ..stream::Config::default()
            })
            .await
            .map_err(|e| nats_error(&format!("stream {name}"), e))?;
    }
    let mut pending = VecDeque::new();
    let mut published = 0u64;
    for input in &config.inputs {
        let mut reader = Reader::with_limit(Input::open(input)?, config.max_line_bytes);
        // The reader blocks on its input; lines are few bytes each, so this stays simple.
        while let Some(line) = reader.next_line().map_err(|e| Error::io(input, e))? {
            if line.too_long {
                return Err(Error::Config(format!(
                    "{input}: the line at byte {} is longer than {} bytes",
                    line.offset, config.max_line_bytes
                )));
            }
            let ack = context
                .publish(
                    config.subject.clone(),
                    bytes::Bytes::copy_from_slice(line.text),
                )
                .await
                .map_err(|e| nats_error("publish", e))?;
            pending.push_back(ack);
            if pending.len() >= config.in_flight.max(1)
                && let Some(ack) = pending.pop_front()
            {
                ack.await.map_err(|e| nats_error("publish", e))?;
            }
            published += 1;
        }
    }
    while let Some(ack) = pending.pop_front() {
        ack.await.map_err(|e| nats_error("publish", e))?;
    }
    client.flush().await.map_err(|e| nats_error("flush", e))?;
    Ok(published)
}
