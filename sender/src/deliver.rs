//! `metricsmith send`: lines from files or stdin to Amplitude's `/batch` API, at least once.
//!
//! A reader thread reads and transforms lines into chunks of payloads, on a bounded channel.
//! The delivery loop batches the payloads, posts one request at a time (HTTP in tokio's
//! blocking pool) and settles them by the answer ([`crate::response`]). The checkpoint is the
//! offset after the last line whose payloads were all accepted or dead-lettered; it moves only
//! over a contiguous prefix of lines, so a crash at any point resends, and never loses.
//!
//! Order per user and device is kept: one request is in flight at a time, a failed batch goes
//! back to the front of the queue, and while a user or device is held after a 429 every later
//! payload of it waits too (others are still sent).

use std::collections::{HashMap, VecDeque};
use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::Error;
use crate::checkpoint::{Checkpoint, Position};
use crate::config::Config;
use crate::dead_letter::DeadLetter;
use crate::input::Input;
use crate::response::{self, Ids, Verdict};
use crate::transform::{Outcome, Payloads, Transformer};
use metricsmith::line::Reader;

/// Counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Payloads accepted by Amplitude.
    pub sent: u64,
    /// Payloads sent again after a failed or partial answer.
    pub retried: u64,
    /// Lines and payloads written to the dead-letter file.
    pub dead_lettered: u64,
    /// Lines whose event matched --ignored-events.
    pub ignored: u64,
    /// Requests made.
    pub requests: u64,
    /// Whether the run stopped on SIGTERM or SIGINT before the end of its input.
    pub interrupted: bool,
}

/// One payload waiting for delivery.
#[derive(Debug)]
pub(crate) struct Entry {
    json: Box<[u8]>,
    user_id: Option<Box<str>>,
    device_id: Option<Box<str>>,
    /// Sequence number of its line.
    line: u64,
}

impl Ids for Entry {
    fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
    fn device_id(&self) -> Option<&str> {
        self.device_id.as_deref()
    }
}

/// A line (or NATS message): where it ends, for the checkpoint, how many payloads are still
/// unsettled, and the message to acknowledge once none is.
#[derive(Debug)]
pub(crate) struct Mark {
    pub(crate) input: usize,
    pub(crate) end: u64,
    pub(crate) unsettled: u32,
    pub(crate) ack: Option<Box<async_nats::jetstream::Message>>,
}

/// What the reader hands over.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    entries: Vec<Entry>,
    /// One mark per line, in order; line numbers continue from the previous chunk.
    pub(crate) marks: Vec<Mark>,
    lines: u64,
    ignored: u64,
    dead_lettered: u64,
}

impl Chunk {
    /// Transforms one line into the chunk; malformed lines go to the dead-letter file here.
    pub(crate) fn add_line(
        &mut self,
        transformer: &mut Transformer,
        payloads: &mut Payloads,
        line: LineInfo<'_>,
        dead_letter: &std::sync::Mutex<DeadLetter>,
        ack: Option<Box<async_nats::jetstream::Message>>,
    ) -> Result<(), Error> {
        self.lines += 1;
        let outcome = match line.too_long {
            Some(max) => Outcome::Malformed(format!("line longer than {max} bytes")),
            None => transformer.transform(line.bytes, payloads),
        };
        let unsettled = match outcome {
            Outcome::Payloads(n) => n,
            Outcome::Ignored => {
                self.ignored += 1;
                0
            }
            Outcome::Malformed(reason) => {
                lock(dead_letter).line(&reason, line.source, line.start, line.bytes)?;
                self.dead_lettered += 1;
                0
            }
        };
        let line_number = self.marks.len() as u64;
        payloads.drain(|json, item| {
            self.entries.push(Entry {
                json: json.into(),
                user_id: item.user_id,
                device_id: item.device_id,
                line: line_number,
            });
        });
        self.marks.push(Mark {
            input: line.input,
            end: line.end,
            unsettled: u32::try_from(unsettled).unwrap_or(u32::MAX),
            ack,
        });
        Ok(())
    }
}

/// One line for [`Chunk::add_line`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineInfo<'a> {
    pub(crate) source: &'a str,
    pub(crate) input: usize,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) bytes: &'a [u8],
    /// The limit, when the line was longer.
    pub(crate) too_long: Option<usize>,
}

/// Runs `send` until the input is delivered (or, with `--follow`, until SIGTERM/SIGINT).
///
/// # Errors
/// When the configuration, an input, the state directory or the dead-letter file fails, or
/// Amplitude refuses the requests themselves (a 400 naming no event, e.g. a wrong API key).
pub fn run(config: &Config) -> Result<Summary, Error> {
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    let result = runtime.block_on(run_async(config));
    // A reader blocked on stdin must not keep a stopped sender alive.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn run_async(config: &Config) -> Result<Summary, Error> {
    let transformer = config.transformer()?;
    let checkpoint = Checkpoint::new(&config.state)?;
    // A NATS consumer keeps its own position: acknowledgements are the checkpoint.
    let start = if config.nats.is_some() {
        Position {
            index: 0,
            input: String::new(),
            offset: 0,
        }
    } else {
        resume_position(config, checkpoint.load()?)?
    };
    let dead_letter = Arc::new(std::sync::Mutex::new(DeadLetter::new(
        config.dead_letter_path(),
    )));
    let stop = Arc::new(AtomicBool::new(false));
    // Two chunks of read-ahead; the delivery loop bounds its own queue.
    let (tx, rx) = mpsc::channel::<Result<Chunk, Error>>(2);
    let reader = {
        let config = config.clone();
        let dead_letter = Arc::clone(&dead_letter);
        let stop = Arc::clone(&stop);
        let start = start.clone();
        if config.nats.is_some() {
            tokio::spawn(async move {
                if let Err(err) =
                    crate::nats::read(&config, transformer, &dead_letter, &stop, &tx).await
                {
                    let _ = tx.send(Err(err)).await;
                }
            })
        } else {
            tokio::task::spawn_blocking(move || {
                read(&config, transformer, start, &dead_letter, &stop, &tx)
            })
        }
    };
    let checkpoint = config.nats.is_none().then_some(checkpoint);
    let mut delivery = Delivery::new(config, checkpoint, start, dead_letter);
    let result = delivery.run(rx, &stop).await;
    stop.store(true, Ordering::SeqCst);
    if result.as_ref().is_ok_and(|summary| !summary.interrupted) {
        // The input was read to its end: the reader has finished or is about to.
        let _ = reader.await;
    }
    result
}

/// Where reading starts: the checkpoint's position, if it belongs to these inputs.
fn resume_position(config: &Config, saved: Option<Position>) -> Result<Position, Error> {
    let Some(saved) = saved else {
        return Ok(Position {
            index: 0,
            input: config.inputs.first().cloned().unwrap_or_default(),
            offset: 0,
        });
    };
    if config.inputs.get(saved.index) != Some(&saved.input) {
        return Err(Error::Config(format!(
            "the checkpoint in {} is for input {:?} (position {} of --input), which is not given; \
             remove checkpoint.json to start over",
            config.state.display(),
            saved.input,
            saved.index + 1
        )));
    }
    Ok(saved)
}

/// The reader thread: lines -> payloads, in chunks of about one batch.
fn read(
    config: &Config,
    mut transformer: Transformer,
    start: Position,
    dead_letter: &std::sync::Mutex<DeadLetter>,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Result<Chunk, Error>>,
) {
    if let Err(err) = read_inputs(config, &mut transformer, start, dead_letter, stop, tx) {
        let _ = tx.blocking_send(Err(err));
    }
}

fn read_inputs(
    config: &Config,
    transformer: &mut Transformer,
    start: Position,
    dead_letter: &std::sync::Mutex<DeadLetter>,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Result<Chunk, Error>>,
) -> Result<(), Error> {
    let mut payloads = Payloads::new();
    let mut chunk = Chunk::default();
    let last = config.inputs.len().saturating_sub(1);
    for (index, input) in config.inputs.iter().enumerate().skip(start.index) {
        let offset = if index == start.index {
            start.offset
        } else {
            0
        };
        let mut file = Input::open(input)?;
        file.skip_to(input, offset)?;
        let mut reader = Reader::with_limit(file, config.max_line_bytes).starting_at(offset);
        let follow = config.follow && index == last;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let line = if follow {
                reader.next_complete_line()
            } else {
                reader.next_line()
            };
            let line = line.map_err(|e| Error::io(input, e))?;
            let Some(line) = line else {
                if !follow {
                    break;
                }
                // A growing file: hand over what there is, then look again.
                if !chunk.marks.is_empty()
                    && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
                {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(100));
                reader.reset_eof();
                continue;
            };
            let info = LineInfo {
                source: input,
                input: index,
                start: line.offset,
                end: line.end,
                bytes: line.text,
                too_long: line.too_long.then_some(config.max_line_bytes),
            };
            chunk.add_line(transformer, &mut payloads, info, dead_letter, None)?;
            if (chunk.entries.len() >= config.batch_events
                || chunk.marks.len() >= 4 * config.batch_events)
                && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err()
            {
                return Ok(());
            }
        }
        // An input read to its end is settled once its lines are: mark its end.
        if !chunk.marks.is_empty() && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock would already have ended the run; the data is plain.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The delivery side: queue, holds, in-flight request, checkpoint.
struct Delivery<'c> {
    config: &'c Config,
    agent: ureq::Agent,
    checkpoint: Option<Checkpoint>,
    /// Acknowledgements of NATS messages in flight.
    acks: tokio::task::JoinSet<()>,
    nats_client: Option<async_nats::Client>,
    last_progress_ack: Instant,
    dead_letter: Arc<std::sync::Mutex<DeadLetter>>,
    queue: VecDeque<Entry>,
    /// Lines not yet settled, from line number `first_line` on.
    marks: VecDeque<Mark>,
    first_line: u64,
    /// Lines handed over so far (the next chunk's first line number).
    next_line: u64,
    position: Position,
    saved: Position,
    last_save: Instant,
    held_users: HashMap<Box<str>, Instant>,
    held_devices: HashMap<Box<str>, Instant>,
    batch_limit: usize,
    failures: u32,
    body: Vec<u8>,
    rng: u64,
    summary: Summary,
    last_progress: Instant,
}

impl<'c> Delivery<'c> {
    fn new(
        config: &'c Config,
        checkpoint: Option<Checkpoint>,
        start: Position,
        dead_letter: Arc<std::sync::Mutex<DeadLetter>>,
    ) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_millis(config.timeout_ms)))
                .http_status_as_error(false)
                // A redirect of a POST is a failure to retry, as in FxA's sender.
                .max_redirects(0)
                .build(),
        );
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        Self {
            config,
            agent,
            checkpoint,
            acks: tokio::task::JoinSet::new(),
            nats_client: None,
            last_progress_ack: Instant::now(),
            dead_letter,
            queue: VecDeque::new(),
            marks: VecDeque::new(),
            first_line: 0,
            next_line: 0,
            position: start.clone(),
            saved: start,
            last_save: Instant::now(),
            held_users: HashMap::new(),
            held_devices: HashMap::new(),
            batch_limit: config.batch_events,
            failures: 0,
            body: Vec::new(),
            rng: seed | 1,
            summary: Summary::default(),
            last_progress: Instant::now(),
        }
    }

    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Result<Chunk, Error>>,
        stop: &AtomicBool,
    ) -> Result<Summary, Error> {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| Error::io("SIGTERM handler", e))?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| Error::io("SIGINT handler", e))?;
        let mut input_done = false;
        let mut stopping = false;
        loop {
            // Take in what the reader has, within the bound.
            while !input_done && self.has_room() {
                match rx.try_recv() {
                    Ok(chunk) => self.take(chunk?)?,
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => input_done = true,
                }
            }
            self.settle_prefix(false)?;
            self.extend_unsettled();
            self.progress(false);
            if stopping || (input_done && self.queue.is_empty() && self.marks.is_empty()) {
                break;
            }
            let batch = self.next_batch();
            if batch.is_empty() {
                // Nothing to send now: wait for input, a hold to end, or a signal.
                let wake = self
                    .next_release()
                    .map_or(Duration::from_millis(200), |at| {
                        at.saturating_duration_since(Instant::now())
                    });
                let can_take = !input_done && self.has_room();
                tokio::select! {
                    chunk = rx.recv(), if can_take => match chunk {
                        Some(chunk) => self.take(chunk?)?,
                        None => input_done = true,
                    },
                    () = tokio::time::sleep(wake) => {}
                    _ = term.recv() => stopping = true,
                    _ = int.recv() => stopping = true,
                }
                continue;
            }
            // The request runs to its end even on SIGTERM: its answer settles its events.
            let (batch, verdict) = {
                let send = self.send(batch);
                tokio::pin!(send);
                loop {
                    tokio::select! {
                        done = &mut send => break done,
                        _ = term.recv() => stopping = true,
                        _ = int.recv() => stopping = true,
                    }
                }
            };
            if let Some(delay) = self.apply(batch, verdict)? {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = term.recv() => stopping = true,
                    _ = int.recv() => stopping = true,
                }
            }
        }
        if stopping {
            stop.store(true, Ordering::SeqCst);
            self.summary.interrupted = true;
        }
        self.settle_prefix(true)?;
        self.release_unsettled().await;
        self.progress(true);
        Ok(self.summary)
    }

    /// Before exit: unsettled NATS messages are handed back for redelivery (to this or
    /// another sender) and pending acknowledgements are given a few seconds to go out.
    async fn release_unsettled(&mut self) {
        for mark in &mut self.marks {
            if let Some(message) = mark.ack.take() {
                self.acks.spawn(async move {
                    let kind = async_nats::jetstream::AckKind::Nak(None);
                    let _ = message.ack_with(kind).await;
                });
            }
        }
        let all = async { while self.acks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(Duration::from_secs(15), all).await;
        if let Some(client) = &self.nats_client {
            // The naks above are plain publishes: make sure they left.
            let _ = tokio::time::timeout(Duration::from_secs(5), client.flush()).await;
        }
    }

    /// Acknowledges a settled NATS message, and waits for the server to confirm it (a
    /// double ack), retrying through a reconnect.
    fn ack(&mut self, message: Box<async_nats::jetstream::Message>) {
        if self.nats_client.is_none() {
            self.nats_client = Some(message.context.client());
        }
        self.acks.spawn(async move {
            let mut attempt = 0u64;
            loop {
                match message.double_ack().await {
                    Ok(()) => return,
                    Err(err) if attempt >= 8 => {
                        // JetStream redelivers it after its ack wait, with the same insert_id.
                        log_line(&format!(
                            "{{\"type\":\"send.ack_failed\",\"error\":{}}}",
                            json_string(&err.to_string())
                        ));
                        return;
                    }
                    Err(_) => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                    }
                }
            }
        });
        while self.acks.try_join_next().is_some() {}
    }

    /// Keeps JetStream from redelivering messages that wait here (a 429 hold, an outage).
    fn extend_unsettled(&mut self) {
        if self.last_progress_ack.elapsed() < crate::nats::PROGRESS_EVERY {
            return;
        }
        self.last_progress_ack = Instant::now();
        for mark in &self.marks {
            if let (Some(message), true) = (&mark.ack, mark.unsettled > 0) {
                let message = message.clone();
                self.acks.spawn(async move {
                    let _ = message
                        .ack_with(async_nats::jetstream::AckKind::Progress)
                        .await;
                });
            }
        }
    }

    /// Whether another chunk fits within the bounds (payloads queued, lines unsettled).
    fn has_room(&self) -> bool {
        self.queue.len() < self.config.max_pending_events
            && self.marks.len() < 4 * self.config.max_pending_events
    }

    fn take(&mut self, chunk: Chunk) -> Result<(), Error> {
        let base = self.next_line;
        self.next_line += chunk.marks.len() as u64;
        self.summary.lines += chunk.lines;
        self.summary.ignored += chunk.ignored;
        self.summary.dead_lettered += chunk.dead_lettered;
        if chunk.dead_lettered > 0 && self.checkpoint.is_none() {
            // Malformed messages are acknowledged below: their entries must be durable first.
            lock(&self.dead_letter).sync()?;
        }
        for mut mark in chunk.marks {
            if mark.unsettled == 0
                && let Some(message) = mark.ack.take()
            {
                self.ack(message);
            }
            self.marks.push_back(mark);
        }
        self.queue
            .extend(chunk.entries.into_iter().map(|mut entry| {
                entry.line += base;
                entry
            }));
        Ok(())
    }

    /// Up to `batch_limit` payloads in queue order, skipping (and so keeping in order behind
    /// them) those of held users and devices.
    fn next_batch(&mut self) -> Vec<Entry> {
        let now = Instant::now();
        self.held_users.retain(|_, until| *until > now);
        self.held_devices.retain(|_, until| *until > now);
        let limit = self.batch_limit.min(self.queue.len());
        if self.held_users.is_empty() && self.held_devices.is_empty() {
            return self.queue.drain(..limit).collect();
        }
        let mut batch = Vec::with_capacity(limit);
        let mut kept = VecDeque::with_capacity(self.queue.len());
        for entry in self.queue.drain(..) {
            if batch.len() < limit && !held_in(&self.held_users, &self.held_devices, &entry, now) {
                batch.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.queue = kept;
        batch
    }

    fn next_release(&self) -> Option<Instant> {
        self.held_users
            .values()
            .chain(self.held_devices.values())
            .min()
            .copied()
    }

    /// Posts the batch in the blocking pool; gives the batch back with the verdict.
    async fn send(&mut self, batch: Vec<Entry>) -> (Vec<Entry>, Verdict) {
        let mut body = std::mem::take(&mut self.body);
        body.clear();
        body.extend_from_slice(b"{\"api_key\":");
        crate::js::write_json_str(&mut body, self.config.api_key.as_bytes());
        body.extend_from_slice(b",\"events\":[");
        for (i, entry) in batch.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&entry.json);
        }
        body.extend_from_slice(b"]}");
        self.summary.requests += 1;
        let agent = self.agent.clone();
        let url = self.config.amplitude_url.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let answer = post(&agent, &url, &body);
            (body, answer)
        })
        .await;
        let (body, (status, text, retry_after)) = match answer {
            Ok(done) => done,
            Err(err) => (
                Vec::new(),
                (None, format!("request task failed: {err}"), None),
            ),
        };
        self.body = body;
        let verdict = response::classify(
            status,
            &text,
            retry_after,
            &batch,
            Duration::from_millis(self.config.throttle_hold_ms),
        );
        (batch, verdict)
    }

    /// Settles a batch by its verdict; returns how long to wait before the next request.
    fn apply(&mut self, batch: Vec<Entry>, verdict: Verdict) -> Result<Option<Duration>, Error> {
        match verdict {
            Verdict::Accepted => {
                self.failures = 0;
                // After a 413, the limit grows back step by step.
                self.batch_limit = (self.batch_limit * 2).min(self.config.batch_events);
                self.summary.sent += batch.len() as u64;
                for entry in &batch {
                    self.settle(entry.line);
                }
                Ok(None)
            }
            Verdict::Split => {
                self.batch_limit = (batch.len() / 2).max(1);
                self.requeue(batch);
                Ok(None)
            }
            Verdict::Partial {
                dead,
                hold_users,
                hold_devices,
                hold_for,
            } => {
                let until = Instant::now() + hold_for;
                for id in hold_users {
                    self.held_users.insert(id.into(), until);
                }
                for id in hold_devices {
                    self.held_devices.insert(id.into(), until);
                }
                let mut rest = Vec::with_capacity(batch.len());
                for (i, entry) in batch.into_iter().enumerate() {
                    match dead.get(&i) {
                        Some(reason) => {
                            lock(&self.dead_letter).event(reason, &entry.json)?;
                            self.summary.dead_lettered += 1;
                            self.settle(entry.line);
                        }
                        None => rest.push(entry),
                    }
                }
                self.requeue(rest);
                Ok(None)
            }
            Verdict::Transient {
                reason,
                retry_after,
            } => {
                self.failures = self.failures.saturating_add(1);
                let delay = self.backoff().max(retry_after.unwrap_or_default());
                log_line(&format!(
                    "{{\"type\":\"send.retry\",\"reason\":{},\"events\":{},\"delay_ms\":{}}}",
                    json_string(&reason),
                    batch.len(),
                    delay.as_millis()
                ));
                self.requeue(batch);
                Ok(Some(delay))
            }
            Verdict::Fatal(reason) => {
                self.requeue(batch);
                Err(Error::Refused(reason))
            }
        }
    }

    fn requeue(&mut self, batch: Vec<Entry>) {
        self.summary.retried += batch.len() as u64;
        for entry in batch.into_iter().rev() {
            self.queue.push_front(entry);
        }
    }

    /// Capped exponential backoff with equal jitter: half fixed, half random.
    fn backoff(&mut self) -> Duration {
        let exp = self.failures.saturating_sub(1).min(30);
        let full = self
            .config
            .backoff_base_ms
            .saturating_mul(1u64 << exp)
            .min(self.config.backoff_max_ms);
        // xorshift64*: jitter needs no cryptographic randomness.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let random = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let half = full / 2;
        Duration::from_millis(half + random % (full - half + 1))
    }

    fn settle(&mut self, line: u64) {
        let at = line
            .checked_sub(self.first_line)
            .and_then(|i| usize::try_from(i).ok());
        let Some(mark) = at.and_then(|i| self.marks.get_mut(i)) else {
            return;
        };
        mark.unsettled = mark.unsettled.saturating_sub(1);
        if mark.unsettled == 0
            && let Some(message) = mark.ack.take()
        {
            self.ack(message);
        }
    }

    /// Pops settled lines off the front and writes the checkpoint when due (or `force`d).
    fn settle_prefix(&mut self, force: bool) -> Result<(), Error> {
        while self.marks.front().is_some_and(|m| m.unsettled == 0) {
            let Some(mark) = self.marks.pop_front() else {
                break;
            };
            self.first_line += 1;
            self.position = Position {
                index: mark.input,
                input: self
                    .config
                    .inputs
                    .get(mark.input)
                    .cloned()
                    .unwrap_or_default(),
                offset: mark.end,
            };
        }
        let Some(checkpoint) = &self.checkpoint else {
            return Ok(());
        };
        let due = force
            || self.last_save.elapsed()
                >= Duration::from_millis(self.config.checkpoint_interval_ms);
        if due && self.position != self.saved {
            // Entries written for lines the checkpoint passes must be durable first.
            lock(&self.dead_letter).sync()?;
            checkpoint.save(&self.position)?;
            self.saved = self.position.clone();
            self.last_save = Instant::now();
        }
        Ok(())
    }

    fn progress(&mut self, last: bool) {
        if !last
            && self.last_progress.elapsed()
                < Duration::from_millis(self.config.progress_interval_ms)
        {
            return;
        }
        self.last_progress = Instant::now();
        let s = &self.summary;
        let backlog = self.queue.len();
        if io::stderr().is_terminal() {
            let end = if last { "\n" } else { "" };
            eprint!(
                "\rread {} lines | sent {} | retried {} | dead-lettered {} | ignored {} | backlog {}   {end}",
                s.lines, s.sent, s.retried, s.dead_lettered, s.ignored, backlog
            );
        } else {
            log_line(&format!(
                "{{\"type\":\"send.progress\",\"lines\":{},\"sent\":{},\"retried\":{},\"dead_lettered\":{},\"ignored\":{},\"requests\":{},\"backlog\":{}}}",
                s.lines, s.sent, s.retried, s.dead_lettered, s.ignored, s.requests, backlog
            ));
        }
    }
}

fn held_in(
    users: &HashMap<Box<str>, Instant>,
    devices: &HashMap<Box<str>, Instant>,
    entry: &Entry,
    now: Instant,
) -> bool {
    let held = |map: &HashMap<Box<str>, Instant>, id: Option<&str>| {
        id.and_then(|id| map.get(id))
            .is_some_and(|until| *until > now)
    };
    held(users, entry.user_id()) || held(devices, entry.device_id())
}

pub(crate) fn json_string(s: &str) -> String {
    let mut out = Vec::new();
    crate::js::write_json_str(&mut out, s.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn log_line(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// One POST; the status (None when no answer came), the body text and Retry-After.
fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> (Option<u16>, String, Option<Duration>) {
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .send(body);
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = response::retry_after(
                response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()),
            );
            let text = response
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_string()
                .unwrap_or_default();
            (Some(status), text, retry_after)
        }
        Err(err) => (None, format!("request failed: {err}"), None),
    }
}
