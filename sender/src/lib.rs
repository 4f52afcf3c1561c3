//! Delivery of Amplitude events to Amplitude's `/batch` API: the successor of FxA's
//! fxa-amplitude-send (spec §6.2), behind `metricsmith send`.
//!
//! Each input line is one mozlog line (or one Cloud Logging entry around it). The
//! [`transform`] turns it into the payloads FxA's November 2019 `pubsub/index.js` posted, byte
//! for byte: `Fields` unwrapping, validity, the HMAC `user_id` and `insert_id`, the
//! `$identify` split and JavaScript's key order. Lines that are not valid events go to a
//! dead-letter file with the reason, never dropped silently.
//!
//! ```
//! use metricsmith_sender::transform::{IgnoredEvents, InputFormat, Outcome, Payloads, Transformer};
//!
//! let mut transformer = Transformer::new("key", IgnoredEvents::default(), InputFormat::Mozlog);
//! let mut payloads = Payloads::new();
//! let line = br#"{"Fields":{"event_type":"fxa_login - success","time":1551700123456,"device_id":"d1","user_properties":"{}"}}"#;
//! assert_eq!(transformer.transform(line, &mut payloads), Outcome::Payloads(1));
//! let mut body = Vec::new();
//! payloads.write_body("api-key", &mut body);
//! assert!(body.starts_with(br#"{"api_key":"api-key","events":[{"event_type":"fxa_login - success","#));
//! ```

pub use config::Config;

pub mod checkpoint;
pub mod config;
pub mod dead_letter;
pub mod deliver;
pub mod dry_run;
pub mod fake_amplitude;
pub mod input;
pub mod js;
pub mod nats;
pub mod response;
pub mod transform;

/// What went wrong in `send`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The `--ignored-events` file is not valid.
    #[error("invalid ignored events: {0}")]
    IgnoredEvents(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// NATS failed (connection, stream, consumer, publish).
    #[error("nats: {0}")]
    Nats(String),
    /// Amplitude refuses the requests themselves (a 400 that names no event).
    #[error("{0}")]
    Refused(String),
    /// An option is not valid.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_string(),
            source,
        }
    }
}
