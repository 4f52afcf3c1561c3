//! The `POST /metrics` collector core of metricsmith: FxA's content and payments servers'
//! route, driven by the `collector:` section of a service's schema.
//!
//! [`Collector::handle`] takes one request, the time it was received and its geolocation, and
//! returns the [`Outcome`]: the answer, and the stderr and mozlog lines it produced, in order.
//! It is synchronous and pure (the clock and geolocation are injected), so `metricsmith collect`
//! (replay) and `metricsmith serve` (HTTP) run the same code.
//!
//! ```no_run
//! use metricsmith_collector::{Collector, Config, Request};
//! let checked = metricsmith_codegen::load("schema/fxa/content-server.yaml").expect("valid schema");
//! let service = checked.model.services.values().next().expect("one service");
//! let collector = Collector::new(service, Config::new("S3CR37", "1.134.0"))?;
//! let request = Request {
//!     method: "POST".into(),
//!     path: "/metrics".into(),
//!     headers: vec![("content-type".into(), "text/plain".into())],
//!     body: b"{}".to_vec(),
//! };
//! let outcome = collector.handle(&request, 1_554_499_308_559, None);
//! assert_eq!(outcome.status, 400);
//! # Ok::<(), metricsmith_collector::Error>(())
//! ```

mod bag;
mod body;
mod content;
pub mod http;
mod outcome;
mod payments;
mod transport;
mod validate;

use std::cell::Cell;
use std::collections::HashMap;

use metricsmith::amplitude::{Mapping, MappingError};
use metricsmith::line::Doc;
use metricsmith::view::{Bag, JsonRef, Kind};
use metricsmith_codegen::model::{self, Handler, Service};
use serde_json::Value;

use crate::body::View;

pub use outcome::{Lines, Log, LogLine, Outcome};

/// Why a collector cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The service's schema declares no `collector:` section.
    #[error("service `{0}` declares no `collector:` section")]
    NoCollector(String),
    /// The service's Amplitude mapping does not compile.
    #[error("the amplitude mapping of `{service}` does not compile: {source}")]
    Mapping {
        /// The service.
        service: String,
        /// Why.
        source: MappingError,
    },
    /// A pattern of the collector section does not compile.
    #[error("a pattern of the collector of `{service}` does not compile: {source}")]
    Pattern {
        /// The service.
        service: String,
        /// Why.
        source: regex::Error,
    },
    /// The user-agent regexes do not load.
    #[error(transparent)]
    Enrich(#[from] metricsmith_enrich::Error),
    /// The service version is not a release such as `1.134.0`.
    #[error("invalid service version `{0}`: expected a release such as 1.134.0")]
    Version(String),
}

/// The settings of a collector that do not come from the schema (flags of `collect` and
/// `serve`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The flow id HMAC key (`flow_id_key`).
    pub flow_key: String,
    /// How old a flow may be, in ms (`flow_id_expiry`).
    pub flow_expiry_ms: i64,
    /// The largest event offset, in ms (`client_metrics.max_event_offset`).
    pub max_event_offset_ms: i64,
    /// The release, e.g. `1.134.0`, from which `app_version` is derived.
    pub service_version: String,
    /// OAuth client id -> service name.
    pub oauth_clients: HashMap<String, String>,
    /// The host name and process id written into stderr lines; `None` leaves both out
    /// (replay output).
    pub process: Option<(String, u32)>,
}

impl Config {
    /// A configuration with FxA's defaults: flows expire after 2 hours, offsets up to 2 days,
    /// no OAuth clients, no host name or pid in stderr lines.
    pub fn new(flow_key: impl Into<String>, service_version: impl Into<String>) -> Self {
        Self {
            flow_key: flow_key.into(),
            flow_expiry_ms: 7_200_000,
            max_event_offset_ms: model::DEFAULT_MAX_EVENT_OFFSET_MS,
            service_version: service_version.into(),
            oauth_clients: HashMap::new(),
            process: None,
        }
    }
}

/// One HTTP request, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path without the query string, e.g. `/metrics`.
    pub path: String,
    /// The header lines in order; names in any case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (case-insensitive), its value trimmed as node does.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim_matches(|c| c == ' ' || c == '\t'))
    }
}

/// What geolocation found for the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The country name, e.g. `United States`.
    pub country: Option<String>,
    /// The region (state) name, e.g. `California`.
    pub state: Option<String>,
}

/// A collector for one service: its compiled body rules, policy and Amplitude mapping.
#[derive(Debug)]
pub struct Collector {
    service: String,
    logger: String,
    collector: model::Collector,
    schema: validate::Schema,
    mapping: Mapping,
    config: Config,
    app_version: Option<String>,
    flow: Option<content::FlowRules>,
    unmapped: Vec<regex::Regex>,
    user_agents: metricsmith_enrich::UserAgentParser,
    languages: Option<metricsmith_enrich::Languages>,
}

impl Collector {
    /// Builds the collector of `service` (a validated model, e.g. from
    /// `metricsmith_codegen::load`).
    ///
    /// # Errors
    /// [`Error::NoCollector`] when the schema declares no collector, [`Error::Version`] when
    /// `config.service_version` is not a release, and [`Error::Mapping`] or [`Error::Pattern`]
    /// when the schema's mapping or patterns do not compile.
    pub fn new(service: &Service, config: Config) -> Result<Self, Error> {
        let collector = service
            .collector
            .clone()
            .ok_or_else(|| Error::NoCollector(service.name.clone()))?;
        if !is_release(&config.service_version) {
            return Err(Error::Version(config.service_version.clone()));
        }
        let pattern = |source| Error::Pattern {
            service: service.name.clone(),
            source,
        };
        let schema = validate::Schema::new(
            &collector.body,
            collector.convert,
            config.max_event_offset_ms,
        )
        .map_err(pattern)?;
        let mapping =
            Mapping::new(metricsmith_codegen::spec::mapping_spec(service)).map_err(|source| {
                Error::Mapping {
                    service: service.name.clone(),
                    source,
                }
            })?;
        let flow = collector
            .flow
            .as_ref()
            .map(content::FlowRules::new)
            .transpose()
            .map_err(pattern)?;
        let unmapped = collector
            .unmapped
            .iter()
            .map(|p| regex::Regex::new(&p.rust))
            .collect::<Result<_, _>>()
            .map_err(pattern)?;
        let languages = collector.languages.as_ref().map(|l| {
            metricsmith_enrich::Languages::new(
                &l.supported,
                &l.default,
                l.debug.as_deref().unwrap_or(""),
            )
        });
        let user_agents = metricsmith_enrich::UserAgentParser::new()?;
        let logger = service
            .mozlog
            .as_ref()
            .map_or_else(|| service.name.clone(), |m| m.logger.clone());
        Ok(Self {
            service: service.name.clone(),
            logger,
            app_version: app_version(&config.service_version),
            collector,
            schema,
            mapping,
            config,
            flow,
            unmapped,
            user_agents,
            languages,
        })
    }

    /// The service's name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The mozlog logger name of the service's lines, e.g. `fxa-content-server`.
    pub fn logger(&self) -> &str {
        &self.logger
    }

    /// The route's path, e.g. `/metrics`.
    pub fn path(&self) -> &str {
        &self.collector.path
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> u64 {
        self.collector.max_body_bytes
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one request received at `received_at_ms` (the frozen clock of every line it
    /// writes) from a client that geolocation placed at `location` (the content server's
    /// flow lines and data bag; the payments server of 2019 read the location from the posted
    /// `data` instead and ignores it).
    ///
    /// Never panics on any request: transport problems answer 4xx with a JSON body and a log
    /// line, invalid bodies answer celebrate's 400.
    pub fn handle(
        &self,
        request: &Request,
        received_at_ms: i64,
        location: Option<&Location>,
    ) -> Outcome {
        if !request.method.eq_ignore_ascii_case("POST") || request.path != self.collector.path {
            return Outcome::json(
                404,
                &serde_json::json!({"statusCode": 404, "error": "Not Found",
                    "message": format!("{} {} does not exist", request.method, request.path)}),
            );
        }
        let body = match transport::read_body(request, self.collector.max_body_bytes) {
            Ok(body) => body,
            Err(err) => return self.unreadable(request, &err),
        };
        with_doc(request.body.len(), |doc| {
            self.handle_body(request, &body, doc, received_at_ms, location)
        })
    }

    /// Handles a request whose body `read_body` accepted, parsing it into `doc`.
    fn handle_body(
        &self,
        request: &Request,
        body: &transport::Body<'_>,
        doc: &mut Doc,
        received_at_ms: i64,
        location: Option<&Location>,
    ) -> Outcome {
        let mut log = Log::default();
        // Only for a text/plain body that is not JSON.
        let mut empty = Doc::new();
        let parsed = match transport::parse(body, doc) {
            Ok(parsed) => parsed,
            Err(transport::Unparsed::Failed(err)) => return self.unreadable(request, &err),
            Err(transport::Unparsed::TextNotJson(message)) => {
                // The content server's preProcess logs the parse error and goes on with `{}`.
                if self.collector.handler == Handler::ContentServer {
                    log.push_strings(
                        format!("server.post-metrics.SyntaxError: {message}"),
                        2,
                        &[("stack", &format!("SyntaxError: {message}"))],
                    );
                }
                match empty.parse(transport::EMPTY) {
                    Ok(parsed) => parsed,
                    Err(err) => {
                        return self.unreadable(
                            request,
                            &transport::TransportError::Json(err.to_string()),
                        );
                    }
                }
            }
        };
        let root = parsed.root();
        let overlay = match self.schema.validate(root) {
            Ok(overlay) => overlay,
            Err(failure) => {
                let mut outcome = Outcome::json(400, &celebrate_body(&failure));
                log.push_strings(
                    format!("{}.validation.failed", self.collector.validation_logger),
                    2,
                    &[
                        ("err", &format!("ValidationError: {}", failure.message)),
                        ("method", &request.method),
                        ("path", &request.path),
                    ],
                );
                outcome.log = log;
                return outcome;
            }
        };
        let body = overlay.view(root);
        let mut outcome = match self.collector.handler {
            Handler::ContentServer => {
                content::handle(self, request, body, received_at_ms, location, &mut log)
            }
            Handler::PaymentsServer => {
                payments::handle(self, request, body, received_at_ms, &mut log)
            }
        };
        outcome.log = log;
        outcome
    }

    /// The 4xx answer and log line of a body that cannot be read.
    fn unreadable(&self, request: &Request, err: &transport::TransportError) -> Outcome {
        let mut outcome = Outcome::json(err.status(), &err.body());
        outcome.log.push_strings(
            format!("{}.request.failed", self.collector.validation_logger),
            2,
            &[
                ("err", &err.to_string()),
                ("method", &request.method),
                ("path", &request.path),
            ],
        );
        outcome
    }

    /// The data-bag keys FxA derived from the `User-Agent` header, in its order: `browser`,
    /// `browserVersion`, `os`, `osVersion`, `formFactor` (absent ones left out).
    fn user_agent_fields(&self, request: &Request, data: &mut Vec<(&'static str, Value)>) {
        let Some(header) = request.header("user-agent") else {
            return;
        };
        let parsed = self.user_agents.parse(header);
        let fields = [
            ("browser", &parsed.browser),
            ("browserVersion", &parsed.browser_version),
            ("os", &parsed.os),
            ("osVersion", &parsed.os_version),
            ("formFactor", &parsed.form_factor),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                data.push((key, Value::from(value.clone())));
            }
        }
    }

    fn env(&self, now_ms: i64) -> metricsmith::amplitude::Env<'_> {
        metricsmith::amplitude::Env {
            oauth_clients: &self.config.oauth_clients,
            app_version: self.app_version.as_deref(),
            now_ms,
        }
    }

    /// The amplitude events of one source event, as mozlog lines.
    fn amplitude<'d, B: Bag<'d, Value = View<'d>>>(
        &self,
        name: View<'d>,
        time: Option<View<'d>>,
        data: B,
        env: &metricsmith::amplitude::Env<'_>,
        log: &mut Log,
    ) {
        let text = match name.kind() {
            Kind::String(s) => std::borrow::Cow::Borrowed(s),
            _ => std::borrow::Cow::Owned(metricsmith::js::string_of(Some(name))),
        };
        if self.unmapped.iter().any(|r| r.is_match(&text)) {
            return;
        }
        log.amplitude(&self.mapping, name, time, data, env);
    }
}

/// Bodies up to this size are parsed into a document kept by the thread for the next request;
/// a larger one gets a document of its own, dropped after the request, so what a thread keeps
/// stays bounded (a node per value, at most one per byte or two of text: about 1 MiB).
const KEPT_DOC_BODY: usize = 64 * 1024;

thread_local! {
    /// The parse buffer of the thread's requests: after the first few, parsing a body
    /// allocates nothing.
    static DOC: Cell<Option<Doc>> = const { Cell::new(None) };
}

/// Runs `f` with the thread's parse buffer, or with a buffer of its own for a body of
/// `length` bytes over [`KEPT_DOC_BODY`].
fn with_doc<R>(length: usize, f: impl FnOnce(&mut Doc) -> R) -> R {
    if length > KEPT_DOC_BODY {
        return f(&mut Doc::new());
    }
    // Taken out while in use: a nested call, should there ever be one, gets a new buffer.
    let mut doc = DOC.take().unwrap_or_default();
    let result = f(&mut doc);
    DOC.set(Some(doc));
    result
}

/// celebrate's 400 body.
fn celebrate_body(failure: &validate::Failure) -> Value {
    serde_json::json!({
        "statusCode": 400,
        "error": "Bad Request",
        "message": failure.message,
        "validation": {"source": "body", "keys": [failure.key()]},
    })
}

/// `1.134.0` and the like.
fn is_release(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// FxA's `app_version`: the minor number of the release (`1.134.0` -> `134`).
fn app_version(version: &str) -> Option<String> {
    let mut parts = version.split('.');
    let major = parts.next()?;
    let minor = parts.next()?;
    parts.next()?;
    (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()) && !minor.is_empty())
        .then(|| minor.to_owned())
}
