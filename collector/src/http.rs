//! The collector's HTTP server (`metricsmith serve`): `POST <path>` for each collector, and
//! Mozilla's Dockerflow endpoints, on axum and hyper.
//!
//! Each request goes through the same [`Collector::handle`] as `metricsmith collect`, with the
//! clock read when the request arrives and the location from the GeoIP database (when one is
//! configured) for the client address of [`metricsmith_enrich::client_address`].
//! Mozlog lines go to one sink (stdout), flow and `client.metrics` lines to another (stderr),
//! each through a bounded queue and a writer thread that batches writes and flushes whenever
//! its queue runs empty.
//! A request's lines are queued before its answer is sent, so an answered request's lines are
//! never lost: on shutdown the server stops accepting, lets in-flight requests finish (up to
//! [`Options::drain_timeout`]), then drains and flushes both queues.
//!
//! Limits, each a clear answer and a mozlog line, never a panic:
//! - headers not complete within [`Options::header_timeout`] (also the idle limit of a
//!   keep-alive connection): hyper closes the connection; the server logs
//!   `http.connection.timeout` (warning) on a connection that sent no request yet, and
//!   `http.connection.idle` (debug) on one that did;
//! - a body larger than the collector's `max_body_bytes`: 413 with a JSON body, read no further;
//! - a body not complete within [`Options::body_timeout`]: 408 with a JSON body;
//! - a request not answered within [`Options::request_timeout`]: 408 with a JSON body;
//! - more than [`Options::max_connections`] connections: new ones wait in the accept queue;
//!   more than [`Options::max_in_flight`] requests: the others wait (tower's concurrency limit);
//! - a panic in a handler: 500 with a JSON body (tower-http's catch-panic), the server goes on.
//!
//! Content types, invalid JSON, deep JSON and invalid bodies are the collector core's: its
//! 4xx answers and log lines.

use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::rt::{TokioIo, TokioTimer};
use metricsmith::clock::{Clock, SystemClock};
use metricsmith::mozlog::{self, Record, Severity};
use metricsmith_enrich::GeoIp;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tower::ServiceExt;

use crate::{Collector, Location, Outcome, Request};

/// The server's settings beyond the collectors (flags of `metricsmith serve`).
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a client may take to send a request's headers, and how long a keep-alive
    /// connection may stay idle.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body once its headers arrived.
    pub body_timeout: Duration,
    /// How long a request may take from its headers to its answer.
    pub request_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: usize,
    /// Requests handled at once; further ones wait.
    pub max_in_flight: usize,
    /// How many addresses from the end of `X-Forwarded-For` (with the peer appended) the
    /// client is: 1 without a proxy, 2 behind one load balancer (FxA's `clientAddressDepth`).
    pub client_address_depth: usize,
    /// How long shutdown waits for in-flight requests before it stops waiting.
    pub drain_timeout: Duration,
    /// Batches of lines each output queue holds before requests wait for the writer.
    pub queue_batches: usize,
    /// The body of `/__version__` (Dockerflow's `version.json`).
    pub version: Value,
    /// Tests only: take each request's receive time (ms since the epoch) from this header
    /// instead of the clock, so recorded requests replay with their recorded time.
    pub received_at_header: Option<String>,
    /// Tests only: take each request's location (`{"country","state"}` JSON) from this
    /// header instead of GeoIP.
    pub location_header: Option<String>,
}

impl Options {
    /// The settings as the start-up line shows them (no secrets are among them).
    fn settings(&self) -> Value {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        json!({
            "header_timeout_ms": ms(self.header_timeout),
            "body_timeout_ms": ms(self.body_timeout),
            "request_timeout_ms": ms(self.request_timeout),
            "drain_timeout_ms": ms(self.drain_timeout),
            "max_connections": self.max_connections,
            "max_in_flight": self.max_in_flight,
            "client_address_depth": self.client_address_depth,
            "queue_batches": self.queue_batches,
            "test_headers": self.received_at_header.is_some() || self.location_header.is_some(),
        })
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_in_flight: 1024,
            client_address_depth: 1,
            drain_timeout: Duration::from_secs(30),
            queue_batches: 4096,
            version: json!({
                "source": "https://example.invalid/metricsmith",
                "version": env!("CARGO_PKG_VERSION"),
                "commit": "unknown",
                "build": "unknown",
            }),
            received_at_header: None,
            location_header: None,
        }
    }
}

/// One collector served at its path, with the logger of its service.
#[derive(Debug)]
pub struct Route {
    collector: Collector,
    validation_logger: String,
}

impl Route {
    /// Serves `collector` at its path; `validation_logger` names the ops of its transport
    /// errors (`<validation_logger>.request.failed`), as the core does.
    pub fn new(collector: Collector, validation_logger: impl Into<String>) -> Self {
        Self {
            collector,
            validation_logger: validation_logger.into(),
        }
    }

    /// The collector this route serves.
    pub fn collector(&self) -> &Collector {
        &self.collector
    }
}

/// Where the two kinds of lines go.
pub struct Output {
    /// Mozlog lines (FxA's stdout).
    pub mozlog: Box<dyn Write + Send>,
    /// Flow, `client.metrics` and `client.marketing` lines (FxA's stderr).
    pub stderr: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").finish_non_exhaustive()
    }
}

/// What the server did, returned when it has shut down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Requests answered (every path).
    pub requests: u64,
    /// Answers with a 4xx status.
    pub client_errors: u64,
    /// Answers with a 5xx status.
    pub server_errors: u64,
    /// Mozlog lines written.
    pub mozlog_lines: u64,
    /// Stderr lines written.
    pub stderr_lines: u64,
    /// Lines that could not be written (the sink failed); they are counted, not retried.
    pub lost_lines: u64,
    /// Connections still open when the drain timeout ended the wait.
    pub abandoned_connections: u64,
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// No collector to serve.
    #[error("no collector to serve: the schema declares no `collector:` section")]
    NoRoutes,
    /// Two collectors want the same path.
    #[error("two collectors are declared at {0}")]
    DuplicatePath(String),
    /// A collector's path is not an absolute path, or is a Dockerflow path.
    #[error("a collector cannot be served at `{0}`")]
    InvalidPath(String),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The listener failed.
    #[error("accepting connections failed: {0}")]
    Accept(io::Error),
    /// A writer thread could not be started.
    #[error("cannot start a writer thread: {0}")]
    Thread(io::Error),
}

/// The server: its routes, GeoIP database, clock and options.
#[derive(Debug)]
pub struct Server {
    routes: Vec<Route>,
    geoip: Option<GeoIp>,
    clock: Arc<dyn Clock>,
    options: Options,
}

impl Server {
    /// A server for `routes`, with the system clock and no GeoIP database.
    pub fn new(routes: Vec<Route>, options: Options) -> Self {
        Self {
            routes,
            geoip: None,
            clock: Arc::new(SystemClock),
            options,
        }
    }

    /// Locates clients with `geoip`.
    pub fn geoip(mut self, geoip: GeoIp) -> Self {
        self.geoip = Some(geoip);
        self
    }

    /// Reads the time from `clock` (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Serves connections from `listener` until `shutdown` completes, then stops accepting,
    /// lets in-flight requests finish, flushes every line and returns what it did.
    ///
    /// # Errors
    ///
    /// [`ServeError`] when the routes are unusable, a writer thread cannot start, or the
    /// listener fails for good.
    pub async fn run(
        self,
        listener: TcpListener,
        output: Output,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Summary, ServeError> {
        let Server {
            routes,
            geoip,
            clock,
            options,
        } = self;
        let logger = routes
            .first()
            .map(|r| r.collector.logger().to_owned())
            .ok_or(ServeError::NoRoutes)?;
        let mozlog_sink =
            LineSink::spawn("metricsmith-mozlog", output.mozlog, options.queue_batches)?;
        let stderr_sink =
            LineSink::spawn("metricsmith-stderr", output.stderr, options.queue_batches)?;
        let shared = Arc::new(Shared {
            logger,
            pid: std::process::id(),
            geoip,
            clock,
            mozlog: mozlog_sink.sender(),
            stderr: stderr_sink.sender(),
            counters: Counters::default(),
            options,
        });
        let paths: Vec<String> = routes
            .iter()
            .map(|r| r.collector.path().to_owned())
            .collect();
        let app = match router(routes, &shared) {
            // Around the whole router, so the limits are the server's, not each route's.
            Ok(app) => tower::ServiceBuilder::new()
                .layer(tower_http::catch_panic::CatchPanicLayer::custom(
                    panic_response,
                ))
                .layer(tower::limit::ConcurrencyLimitLayer::new(
                    shared.options.max_in_flight.max(1),
                ))
                .service(app),
            Err(err) => {
                close(&shared, mozlog_sink, stderr_sink).await;
                return Err(err);
            }
        };
        let address = listener.local_addr().map_err(ServeError::Accept)?;
        shared
            .log(
                "http.listening",
                Severity::Info,
                Some(json!({
                    "address": address.to_string(),
                    "config": shared.options.settings(),
                    "routes": paths,
                    "geoip": shared.geoip.as_ref().map(|g| format!("{g:?}")),
                })),
            )
            .await;

        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let connections = Arc::new(Semaphore::new(shared.options.max_connections.max(1)));
        let mut accept_failure = None;
        tokio::pin!(shutdown);
        loop {
            // A permit per connection: beyond the limit, clients wait in the listen queue.
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = Arc::clone(&connections).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) if is_transient(&err) => {
                        shared.log("http.accept.failed", Severity::Warn,
                            Some(json!({"err": err.to_string()}))).await;
                        // Out of file descriptors and the like: give the system a moment.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    Err(err) => {
                        accept_failure = Some(err);
                        break;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let app = app.clone();
            // Requests begun on this connection: a header timeout after at least one is most
            // likely an idle keep-alive connection closing, not a slow client.
            let served = Arc::new(AtomicU64::new(0));
            let counted = Arc::clone(&served);
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    counted.fetch_add(1, Ordering::Relaxed);
                    request.extensions_mut().insert(Peer(peer));
                    app.clone().oneshot(request.map(Body::new))
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(shared.options.header_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            let watched = graceful.watch(connection);
            let conn_shared = Arc::clone(&shared);
            tokio::spawn(async move {
                if let Err(err) = watched.await {
                    let requests = served.load(Ordering::Relaxed);
                    let (op, severity) = match (err.is_timeout(), requests) {
                        // Headers that never came: a slow or stalled client.
                        (true, 0) => ("http.connection.timeout", Severity::Warn),
                        (true, _) => ("http.connection.idle", Severity::Debug),
                        // Clients that hang up mid-request are routine.
                        (false, _) => ("http.connection.failed", Severity::Debug),
                    };
                    conn_shared
                        .log(
                            op,
                            severity,
                            Some(json!({
                                "err": err.to_string(),
                                "peer": peer.to_string(),
                                "requests": requests,
                            })),
                        )
                        .await;
                }
                drop(permit);
            });
        }
        drop(listener);
        let abandoned = tokio::select! {
            () = graceful.shutdown() => 0,
            () = tokio::time::sleep(shared.options.drain_timeout) => {
                let open = shared.options.max_connections.max(1) - connections.available_permits();
                u64::try_from(open).unwrap_or(u64::MAX)
            }
        };
        let c = &shared.counters;
        shared
            .log(
                "http.shutdown",
                Severity::Info,
                Some(json!({
                    "requests": c.requests.load(Ordering::Relaxed),
                    "client_errors": c.client_errors.load(Ordering::Relaxed),
                    "server_errors": c.server_errors.load(Ordering::Relaxed),
                    "abandoned_connections": abandoned,
                })),
            )
            .await;
        let mut summary = Summary {
            requests: c.requests.load(Ordering::Relaxed),
            client_errors: c.client_errors.load(Ordering::Relaxed),
            server_errors: c.server_errors.load(Ordering::Relaxed),
            abandoned_connections: abandoned,
            ..Summary::default()
        };
        let (mozlog, stderr) = close(&shared, mozlog_sink, stderr_sink).await;
        summary.mozlog_lines = mozlog.written;
        summary.stderr_lines = stderr.written;
        summary.lost_lines = mozlog.lost + stderr.lost;
        match accept_failure {
            Some(err) => Err(ServeError::Accept(err)),
            None => Ok(summary),
        }
    }
}

/// Stops both writers after what is queued, in a blocking task (joining threads blocks).
async fn close(shared: &Shared, mozlog: LineSink, stderr: LineSink) -> (Written, Written) {
    let _ = shared.mozlog.send(Batch::Close).await;
    let _ = shared.stderr.send(Batch::Close).await;
    tokio::task::spawn_blocking(move || (mozlog.join(), stderr.join()))
        .await
        .unwrap_or_default()
}

fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || matches!(err.raw_os_error(), Some(23 | 24)) // ENFILE, EMFILE
}

/// The peer address of the connection a request came on.
#[derive(Debug, Clone, Copy)]
struct Peer(SocketAddr);

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
}

struct Shared {
    logger: String,
    pid: u32,
    geoip: Option<GeoIp>,
    clock: Arc<dyn Clock>,
    mozlog: mpsc::Sender<Batch>,
    stderr: mpsc::Sender<Batch>,
    counters: Counters,
    options: Options,
}

impl Shared {
    /// Writes one of the server's own mozlog lines.
    async fn log(&self, op: &str, severity: Severity, fields: Option<Value>) {
        let fields = fields.and_then(|f| match f {
            Value::Object(map) => Some(map),
            _ => None,
        });
        let mut out = Vec::with_capacity(256);
        mozlog::write_line(
            &mut out,
            &Record {
                timestamp_ms: self.clock.now_ms(),
                logger: &self.logger,
                type_name: op,
                hostname: None,
                severity,
                pid: self.pid,
                fields: fields.as_ref(),
            },
        );
        let _ = self.mozlog.send(Batch::Lines(out, 1)).await;
    }

    fn count(&self, status: StatusCode) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        if status.is_client_error() {
            self.counters.client_errors.fetch_add(1, Ordering::Relaxed);
        } else if status.is_server_error() {
            self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn router(routes: Vec<Route>, shared: &Arc<Shared>) -> Result<Router, ServeError> {
    let mut app = Router::new()
        .route("/__lbheartbeat__", get(lbheartbeat))
        .route("/__heartbeat__", get(heartbeat))
        .route("/__version__", get(version));
    let mut paths = std::collections::BTreeSet::new();
    for route in routes {
        let path = route.collector.path().to_owned();
        if !path.starts_with('/') || path.starts_with("/__") || path.contains(['{', '}', '*']) {
            return Err(ServeError::InvalidPath(path));
        }
        if !paths.insert(path.clone()) {
            return Err(ServeError::DuplicatePath(path));
        }
        let state = (Arc::clone(shared), Arc::new(route));
        // Every method reaches the core, which answers its own 404 for the wrong method.
        app = app.route(&path, any(collect).with_state(state));
    }
    Ok(app.fallback(not_found).with_state(Arc::clone(shared)))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Body::from(mozlog::to_js_json(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn error_body(status: StatusCode, message: &str) -> Value {
    json!({
        "statusCode": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "message": message,
    })
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    json_response(status, &error_body(status, "internal error"))
}

async fn lbheartbeat(State(shared): State<Arc<Shared>>) -> Response {
    shared.count(StatusCode::OK);
    StatusCode::OK.into_response()
}

async fn heartbeat(State(shared): State<Arc<Shared>>) -> Response {
    // The writers are the server's only dependencies: a closed queue means a writer died.
    let check = |sender: &mpsc::Sender<Batch>| if sender.is_closed() { "error" } else { "ok" };
    let checks = json!({
        "mozlog_writer": check(&shared.mozlog),
        "stderr_writer": check(&shared.stderr),
        "geoip": if shared.geoip.is_some() { "ok" } else { "disabled" },
    });
    let healthy = !shared.mozlog.is_closed() && !shared.stderr.is_closed();
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    shared.count(status);
    let c = &shared.counters;
    json_response(
        status,
        &json!({
            "status": if healthy { "ok" } else { "error" },
            "checks": checks,
            "details": {
                "requests": c.requests.load(Ordering::Relaxed),
                "client_errors": c.client_errors.load(Ordering::Relaxed),
                "server_errors": c.server_errors.load(Ordering::Relaxed),
            },
        }),
    )
}

async fn version(State(shared): State<Arc<Shared>>) -> Response {
    shared.count(StatusCode::OK);
    json_response(StatusCode::OK, &shared.options.version)
}

async fn not_found(State(shared): State<Arc<Shared>>, request: axum::extract::Request) -> Response {
    let status = StatusCode::NOT_FOUND;
    shared.count(status);
    let message = format!(
        "{} {} does not exist",
        request.method(),
        request.uri().path()
    );
    json_response(status, &error_body(status, &message))
}

/// `POST <path>`: reads the body within its limits, then hands the request to the core.
async fn collect(
    State((shared, route)): State<(Arc<Shared>, Arc<Route>)>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let received_at = received_at(&shared, &parts.headers);
    // The whole request, body and queueing of its lines included; on time out nothing of it
    // was queued, and the client gets a 408 like a slow body's.
    let limit = shared.options.request_timeout;
    let head = (parts.method.clone(), parts.uri.clone());
    match tokio::time::timeout(
        limit,
        collect_within(&shared, &route, parts, body, received_at),
    )
    .await
    {
        Ok(response) => response,
        Err(_) => {
            let message = format!(
                "the request was not handled within {} ms",
                limit.as_millis()
            );
            let (parts, _) = {
                let mut request = axum::http::Request::new(());
                *request.method_mut() = head.0;
                *request.uri_mut() = head.1;
                request.into_parts()
            };
            let status = StatusCode::REQUEST_TIMEOUT;
            reject(&shared, &route, &parts, received_at, status, &message).await
        }
    }
}

async fn collect_within(
    shared: &Arc<Shared>,
    route: &Arc<Route>,
    parts: axum::http::request::Parts,
    body: Body,
    received_at: i64,
) -> Response {
    let (shared, route) = (Arc::clone(shared), Arc::clone(route));
    let limit = usize::try_from(route.collector.max_body_bytes()).unwrap_or(usize::MAX);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = declared.filter(|&length| length > limit as u64) {
        // Refused before reading a byte of it.
        let message = format!("request entity too large: {length} bytes, the limit is {limit}");
        let status = StatusCode::PAYLOAD_TOO_LARGE;
        return reject(&shared, &route, &parts, received_at, status, &message).await;
    }
    let read = tokio::time::timeout(
        shared.options.body_timeout,
        Limited::new(body, limit).collect(),
    )
    .await;
    let body = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(err)) => {
            let (status, message) = if err.downcast_ref::<LengthLimitError>().is_some() {
                // A chunked body that grew past the limit (a declared length is checked
                // above, in the core's wording, so `serve` and `collect` answer alike).
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "request entity too large: more than {limit} bytes, the limit is {limit}"
                    ),
                )
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    format!("the body could not be read: {err}"),
                )
            };
            return reject(&shared, &route, &parts, received_at, status, &message).await;
        }
        Err(_) => {
            let message = format!(
                "the body did not arrive within {} ms",
                shared.options.body_timeout.as_millis()
            );
            return reject(
                &shared,
                &route,
                &parts,
                received_at,
                StatusCode::REQUEST_TIMEOUT,
                &message,
            )
            .await;
        }
    };
    let peer = parts.extensions.get::<Peer>().map(|p| p.0.ip());
    let location = locate(&shared, &parts.headers, peer).await;
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), latin1(value.as_bytes())))
            .collect(),
        body: body.to_vec(),
    };
    let mut outcome = route
        .collector
        .handle(&request, received_at, location.as_ref());
    write_lines(&shared, &route, received_at, &mut outcome).await;
    let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    shared.count(status);
    let mut response = Response::new(Body::from(outcome.body));
    *response.status_mut() = status;
    if let Some(content_type) = outcome.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// Header bytes as node read them: each byte one character (latin1), as `collect` does.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn received_at(shared: &Shared, headers: &HeaderMap) -> i64 {
    shared
        .options
        .received_at_header
        .as_deref()
        .and_then(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| shared.clock.now_ms())
}

async fn locate(
    shared: &Shared,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Option<Location> {
    if let Some(name) = shared.options.location_header.as_deref() {
        let found: metricsmith_enrich::Location =
            serde_json::from_slice(headers.get(name)?.as_bytes()).ok()?;
        return Some(Location {
            country: found.country,
            state: found.state,
        });
    }
    let geoip = shared.geoip.as_ref()?;
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let (found, error) = geoip.locate(forwarded, peer, shared.options.client_address_depth);
    if let Some(error) = error {
        // FxA's geo-locate.js logged `geodb.error` and went on without a location.
        shared
            .log(
                "geodb.error",
                Severity::Error,
                Some(json!({"err": error.to_string()})),
            )
            .await;
    }
    Some(Location {
        country: found.country,
        state: found.state,
    })
}

/// A transport rejection decided here (size, time): the core's 4xx shape and log line.
async fn reject(
    shared: &Shared,
    route: &Route,
    parts: &axum::http::request::Parts,
    received_at: i64,
    status: StatusCode,
    message: &str,
) -> Response {
    let mut outcome = Outcome {
        status: status.as_u16(),
        content_type: Some("application/json; charset=utf-8"),
        body: mozlog::to_js_json(&error_body(status, message)),
        ..Outcome::default()
    };
    outcome.log.push_strings(
        format!("{}.request.failed", route.validation_logger),
        Severity::Error.code(),
        &[
            ("err", message),
            ("method", parts.method.as_str()),
            ("path", parts.uri.path()),
        ],
    );
    write_lines(shared, route, received_at, &mut outcome).await;
    shared.count(status);
    json_response(status, &error_body(status, message))
}

fn severity(code: u8) -> Severity {
    match code {
        0 | 1 => Severity::Critical,
        2 | 3 => Severity::Error,
        4 | 5 => Severity::Warn,
        6 => Severity::Info,
        _ => Severity::Debug,
    }
}

/// Queues a request's lines, one batch per stream, before its answer goes out.
async fn write_lines(shared: &Shared, route: &Route, received_at: i64, outcome: &mut Outcome) {
    if !outcome.log.is_empty() {
        // The envelope is about 130 bytes.
        let mut out = Vec::with_capacity(outcome.log.fields_len() + 160 * outcome.log.len());
        for line in outcome.log.iter() {
            mozlog::write_line_with_fields(
                &mut out,
                &Record {
                    timestamp_ms: received_at,
                    logger: route.collector.logger(),
                    type_name: line.op,
                    hostname: None,
                    severity: severity(line.severity),
                    pid: shared.pid,
                    fields: None,
                },
                line.fields,
            );
        }
        let lines = outcome.log.len() as u64;
        let _ = shared.mozlog.send(Batch::Lines(out, lines)).await;
    }
    if !outcome.stderr.is_empty() {
        // Written as they are: the core wrote each line once, `\n` included.
        let stderr = std::mem::take(&mut outcome.stderr);
        let lines = stderr.len() as u64;
        let _ = shared
            .stderr
            .send(Batch::Lines(stderr.into_bytes(), lines))
            .await;
    }
}

/// How long a writer waits after a write before it looks for more lines.
const WRITER_PAUSE: Duration = Duration::from_millis(2);

/// What an output queue carries: lines (bytes and how many), or the end.
enum Batch {
    Lines(Vec<u8>, u64),
    Close,
}

#[derive(Debug, Clone, Copy, Default)]
struct Written {
    written: u64,
    lost: u64,
}

/// A bounded queue of line batches and the thread that writes them.
struct LineSink {
    sender: mpsc::Sender<Batch>,
    thread: JoinHandle<Written>,
}

impl LineSink {
    fn spawn(name: &str, out: Box<dyn Write + Send>, capacity: usize) -> Result<Self, ServeError> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || write_batches(receiver, out))
            .map_err(ServeError::Thread)?;
        Ok(Self { sender, thread })
    }

    fn sender(&self) -> mpsc::Sender<Batch> {
        self.sender.clone()
    }

    fn join(self) -> Written {
        drop(self.sender);
        self.thread.join().unwrap_or_default()
    }
}

/// Writes batches as they come, flushing whenever the queue is empty, until `Close` or until
/// every sender is gone. After a write error it keeps draining (counting the lost lines), so
/// requests never wait on a dead sink.
fn write_batches(mut receiver: mpsc::Receiver<Batch>, out: Box<dyn Write + Send>) -> Written {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    let mut written = Written::default();
    let mut healthy = true;
    'outer: while let Some(batch) = receiver.blocking_recv() {
        let mut next = Some(batch);
        while let Some(batch) = next.take() {
            match batch {
                Batch::Lines(bytes, lines) => {
                    if healthy && out.write_all(&bytes).is_ok() {
                        written.written += lines;
                    } else {
                        healthy = false;
                        written.lost += lines;
                    }
                }
                Batch::Close => break 'outer,
            }
            next = receiver.try_recv().ok();
        }
        if healthy && out.flush().is_err() {
            healthy = false;
        }
        // Let the next batches gather: under load one wake-up and one write then carry many
        // requests' lines instead of one each (a futex wake and a write per request cost more
        // than the rest of the writer's work). Lines wait at most this long before they are
        // written; none is lost, since shutdown drains the queue.
        std::thread::sleep(WRITER_PAUSE);
    }
    let _ = out.flush();
    written
}

/// Waits for SIGTERM or SIGINT (Ctrl-C).
///
/// # Errors
///
/// When the signal handlers cannot be installed.
pub async fn termination() -> io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => Ok(()),
        result = tokio::signal::ctrl_c() => result,
    }
}

/// Runs `server` on its own tokio runtime (`workers` threads, all cores when `None`), listening
/// on `listen`, until SIGTERM or SIGINT; then shuts down as [`Server::run`] does.
///
/// # Errors
///
/// [`ServeError::Bind`] when the address cannot be bound, and what [`Server::run`] returns.
pub fn serve_until_terminated(
    server: Server,
    listen: SocketAddr,
    workers: Option<usize>,
    output: Output,
) -> Result<Summary, ServeError> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = workers {
        builder.worker_threads(workers.max(1));
    }
    let runtime = builder
        .enable_all()
        .thread_name("metricsmith-serve")
        .build()
        .map_err(ServeError::Thread)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ServeError::Bind {
                address: listen,
                source,
            })?;
        let signals = termination();
        server
            .run(listener, output, async move {
                // Without signal handlers the server would not stop cleanly: stop at once.
                let _ = signals.await;
            })
            .await
    })
}
