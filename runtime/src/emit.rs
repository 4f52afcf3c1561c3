//! Activity, flow and amplitude emission like the auth server's `request.emitMetricsEvent`
//! (spec §2.2, §2.3, §3.1, §4.7).
//!
//! [`Emitter::emit`] takes an event name, what the request knows ([`Request`]), the call-site
//! data and the event's [`EventKinds`] (generated code provides them), and writes in FxA's order:
//!
//! 1. an empty name: the error `metricsEvents.emit`, nothing else;
//! 2. for an activity event, the `activityEvent` line (or the error `log.activityEvent`);
//! 3. for a flow event, the `flowEvent` line gathered from the metrics context (or the error
//!    `metricsEvents.emitFlowEvent` / `flow.missingData`);
//! 4. the amplitude events of the [`Transform`], each as an `amplitudeEvent` line (or the error
//!    `amplitude.missingData`);
//! 5. when the event is the context's `flowCompleteSignal`: a `flow.complete` flow line, the
//!    amplitude events of `flow.complete`, then the stashed context is cleared.
//!
//! A failing context store never loses an event: the lines are written without the stored
//! context, the failure is logged (`metricsContext.gather` / `metricsContext.clear`), passed to
//! the error callback and returned in the [`Outcome`].
//!
//! ```
//! use std::sync::Arc;
//! use metricsmith::clock::FixedClock;
//! use metricsmith::emit::{Emitter, EventKinds, Request};
//! use metricsmith::mozlog::{Logger, MemorySink};
//! use serde_json::json;
//!
//! let sink = MemorySink::new();
//! let log = Logger::builder("fxa-auth-server")
//!     .clock(Arc::new(FixedClock::new(1_551_700_123_460)))
//!     .pid(4242)
//!     .writer(sink.clone())
//!     .build();
//! let emitter = Emitter::builder(Arc::new(log)).build();
//! let request = Request {
//!     country: Some("United States"),
//!     region: Some("California"),
//!     user_agent: Some("foo"),
//!     query_service: Some("bar"),
//!     ..Request::default()
//! };
//! let data = json!({"uid": "baz"});
//! let outcome = emitter.emit("device.created", &request, data.as_object().unwrap(), EventKinds::ACTIVITY);
//! assert!(outcome.activity);
//! assert_eq!(
//!     sink.lines(),
//!     [concat!(
//!         r#"{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"activityEvent","#,
//!         r#""Severity":6,"Pid":4242,"EnvVersion":"2.0","Fields":{"country":"United States","#,
//!         r#""event":"device.created","region":"California","userAgent":"foo","uid":"baz","service":"bar"}}"#
//!     )]
//! );
//! ```

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::amplitude::{AmplitudeEvent, Env, Mapping, OauthClients, SourceEvent};
use crate::clock::Clock;
use crate::context::{self, Contexts, MemoryStore, MetricsContext, Token};
use crate::mozlog::{self, Logger};

/// What went wrong while emitting; the event itself is still emitted as far as possible.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line could not be written.
    #[error(transparent)]
    Log(#[from] mozlog::Error),
    /// The context store failed while reading or clearing.
    #[error("metrics context {op} failed: {source}")]
    Context {
        /// `gather` or `clear`.
        op: &'static str,
        /// The store's error.
        source: context::Error,
    },
}

/// Whether and how an event is a flow event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowKind {
    /// Not a flow event (FxA's NOT_FLOW_EVENTS).
    None,
    /// A flow event; a missing flow id is an error.
    Required,
    /// A flow event whose missing flow id is not an error (OPTIONAL_FLOW_EVENTS).
    Optional,
}

/// What kinds of line an event produces; generated code provides one per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKinds {
    /// An activity event (ACTIVITY_EVENTS).
    pub activity: bool,
    /// Whether it is a flow event.
    pub flow: FlowKind,
    /// Query `service` values for which it is not a flow event
    /// (IGNORE_FLOW_EVENTS_FROM_SERVICES: `account.signed` from `content-server`).
    pub not_flow_for_services: &'static [&'static str],
}

impl EventKinds {
    /// An activity event that is not a flow event (`device.created`).
    pub const ACTIVITY: Self = Self {
        activity: true,
        flow: FlowKind::None,
        not_flow_for_services: &[],
    };
    /// A flow event only (`email.verification.sent`).
    pub const FLOW: Self = Self {
        activity: false,
        flow: FlowKind::Required,
        not_flow_for_services: &[],
    };
    /// An activity and flow event (`account.login`).
    pub const HYBRID: Self = Self {
        activity: true,
        flow: FlowKind::Required,
        not_flow_for_services: &[],
    };
    /// An activity event whose flow id is optional (`account.keyfetch`).
    pub const HYBRID_OPTIONAL: Self = Self {
        activity: true,
        flow: FlowKind::Optional,
        not_flow_for_services: &[],
    };
    /// Neither (an amplitude-only event).
    pub const NONE: Self = Self {
        activity: false,
        flow: FlowKind::None,
        not_flow_for_services: &[],
    };
}

/// The parsed user agent (FxA's `request.app.ua`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserAgent<'a> {
    /// Browser family.
    pub browser: Option<&'a str>,
    /// Browser version.
    pub browser_version: Option<&'a str>,
    /// Operating system.
    pub os: Option<&'a str>,
    /// Operating system version.
    pub os_version: Option<&'a str>,
    /// Device form factor.
    pub form_factor: Option<&'a str>,
}

/// What the request contributes; `None` is JavaScript's `undefined` (the key is absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// Geo-IP country name (`location.country`).
    pub country: Option<&'a str>,
    /// Geo-IP region name (`location.state`).
    pub region: Option<&'a str>,
    /// The negotiated locale (`request.app.locale`).
    pub locale: Option<&'a str>,
    /// The raw `User-Agent` header.
    pub user_agent: Option<&'a str>,
    /// The `dnt` header; exactly `"1"` drops `entrypoint` and `utm_*` from flow lines.
    pub dnt: Option<&'a str>,
    /// `payload.service`.
    pub payload_service: Option<&'a str>,
    /// `query.service`.
    pub query_service: Option<&'a str>,
    /// The authenticated token's uid (`auth.credentials.uid`).
    pub token_uid: Option<&'a str>,
    /// The token the metrics context is stashed under, read when the payload has none.
    pub context_token: Option<Token<'a>>,
    /// `payload.metricsContext`; when present it is used as-is and the store is not read.
    pub metrics_context: Option<&'a MetricsContext>,
    /// The parsed user agent.
    pub ua: UserAgent<'a>,
    /// The account's devices (`request.app.devices`) for the Sync device counts.
    pub devices: Option<&'a Value>,
}

impl Request<'_> {
    fn dnt(&self) -> bool {
        self.dnt == Some("1")
    }
}

/// Maps one source event and its data bag to amplitude events.
pub trait Transform: Send + Sync + fmt::Debug {
    /// The amplitude events of `event`; `now_ms` is the emitter's clock.
    fn transform(
        &self,
        event: SourceEvent<'_>,
        data: &Map<String, Value>,
        now_ms: i64,
    ) -> Vec<AmplitudeEvent>;
}

/// A compiled [`Mapping`] with its configuration, as a [`Transform`].
#[derive(Debug, Clone)]
pub struct MappingTransform {
    /// The mapping.
    pub mapping: Arc<Mapping>,
    /// OAuth client id -> service name.
    pub oauth_clients: OauthClients,
    /// `app_version`; absent when `None`.
    pub app_version: Option<String>,
}

impl Transform for MappingTransform {
    fn transform(
        &self,
        event: SourceEvent<'_>,
        data: &Map<String, Value>,
        now_ms: i64,
    ) -> Vec<AmplitudeEvent> {
        let env = Env {
            oauth_clients: &self.oauth_clients,
            app_version: self.app_version.as_deref(),
            now_ms,
        };
        self.mapping.transform(event, data, &env)
    }
}

/// What one [`Emitter::emit`] call wrote.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Outcome {
    /// The activity line was written.
    pub activity: bool,
    /// The flow line was written.
    pub flow: bool,
    /// The `flow.complete` flow line was written.
    pub flow_complete: bool,
    /// How many `amplitudeEvent` lines were written.
    pub amplitude: usize,
    /// How many error lines were written.
    pub error_lines: usize,
    /// Store and sink failures (each also went to the error callback).
    pub errors: Vec<Error>,
}

type ErrorCallback = Arc<dyn Fn(&Error) + Send + Sync>;

/// Emits metrics events as mozlog lines; cheap to share behind an `Arc`.
pub struct Emitter {
    log: Arc<Logger>,
    clock: Arc<dyn Clock>,
    contexts: Contexts,
    transform: Option<Arc<dyn Transform>>,
    on_error: Option<ErrorCallback>,
}

impl fmt::Debug for Emitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("log", &self.log)
            .field("contexts", &self.contexts)
            .field("transform", &self.transform)
            .finish_non_exhaustive()
    }
}

/// Options of an [`Emitter`].
pub struct EmitterBuilder {
    log: Arc<Logger>,
    clock: Option<Arc<dyn Clock>>,
    contexts: Option<Contexts>,
    transform: Option<Arc<dyn Transform>>,
    on_error: Option<ErrorCallback>,
}

impl fmt::Debug for EmitterBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmitterBuilder")
            .field("log", &self.log)
            .field("contexts", &self.contexts)
            .field("transform", &self.transform)
            .finish_non_exhaustive()
    }
}

impl EmitterBuilder {
    /// The clock of the `time` fields (default: the logger's clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The metrics context store (default: a [`MemoryStore`] on the clock).
    #[must_use]
    pub fn contexts(mut self, contexts: Contexts) -> Self {
        self.contexts = Some(contexts);
        self
    }

    /// The amplitude transform (default: none, so no amplitude lines).
    #[must_use]
    pub fn transform(mut self, transform: Arc<dyn Transform>) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Called with every store or sink failure, besides the error line.
    #[must_use]
    pub fn on_error(mut self, callback: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(callback));
        self
    }

    /// Builds the emitter.
    pub fn build(self) -> Emitter {
        let clock = self.clock.unwrap_or_else(|| Arc::clone(self.log.clock()));
        let contexts = self
            .contexts
            .unwrap_or_else(|| Contexts::new(Arc::new(MemoryStore::new(Arc::clone(&clock)))));
        Emitter {
            log: self.log,
            clock,
            contexts,
            transform: self.transform,
            on_error: self.on_error,
        }
    }
}

impl Emitter {
    /// Starts an emitter writing to `log`.
    pub fn builder(log: Arc<Logger>) -> EmitterBuilder {
        EmitterBuilder {
            log,
            clock: None,
            contexts: None,
            transform: None,
            on_error: None,
        }
    }

    /// The context operations (for `stash` and `propagate` in route handlers).
    pub fn contexts(&self) -> &Contexts {
        &self.contexts
    }

    /// Emits `event` like `request.emitMetricsEvent(event, data)`; see the module docs.
    ///
    /// Never fails: problems are error lines, and store or sink failures are also in
    /// [`Outcome::errors`] and passed to the error callback.
    pub fn emit(
        &self,
        event: &str,
        request: &Request<'_>,
        data: &Map<String, Value>,
        kinds: EventKinds,
    ) -> Outcome {
        let mut out = Outcome::default();
        if event.is_empty() {
            let mut fields = Map::new();
            fields.insert("missingEvent".to_owned(), Value::Bool(true));
            self.error_line(&mut out, "metricsEvents.emit", fields);
            return out;
        }
        if kinds.activity {
            self.emit_activity(&mut out, event, request, data);
        }
        let ignored = request.query_service.is_some_and(|service| {
            !service.is_empty() && kinds.not_flow_for_services.contains(&service)
        });
        let is_flow = kinds.flow != FlowKind::None && !ignored;
        let gathered = if is_flow {
            self.emit_flow(&mut out, event, request, data, kinds.flow)
        } else {
            self.gather(&mut out, request, Map::new())
        };
        self.emit_amplitude(&mut out, event, request, data, &gathered);
        let completes = matches!(
            gathered.get("flowCompleteSignal"),
            Some(Value::String(signal)) if signal == event
        );
        if is_flow && completes {
            let mut complete = gathered.clone();
            complete.insert(
                "event".to_owned(),
                Value::String("flow.complete".to_owned()),
            );
            out.flow_complete = self.flow_line(&mut out, complete);
            self.emit_amplitude(&mut out, "flow.complete", request, data, &gathered);
            if let Some(token) = request.context_token
                && let Err(source) = self.contexts.clear(token)
            {
                self.store_failure(&mut out, "clear", source);
            }
        }
        out
    }

    /// Spec §2.3.
    fn emit_activity(
        &self,
        out: &mut Outcome,
        event: &str,
        request: &Request<'_>,
        data: &Map<String, Value>,
    ) {
        let mut line = Map::new();
        put(&mut line, "country", request.country);
        line.insert("event".to_owned(), Value::String(event.to_owned()));
        put(&mut line, "region", request.region);
        put(&mut line, "userAgent", request.user_agent);
        for (key, value) in data {
            line.insert(key.clone(), value.clone());
        }
        if !truthy(line.get("service")) {
            let service = if truthy_str(request.payload_service) {
                request.payload_service
            } else {
                request.query_service
            };
            put(&mut line, "service", service);
        }
        if truthy(line.get("event")) && truthy(line.get("uid")) {
            out.activity = self.info_line(out, "activityEvent", &line);
        } else {
            self.missing_data(out, "log.activityEvent", line);
        }
    }

    /// Spec §3.1 `emitFlowEvent`; returns the gathered data.
    fn emit_flow(
        &self,
        out: &mut Outcome,
        event: &str,
        request: &Request<'_>,
        data: &Map<String, Value>,
        flow: FlowKind,
    ) -> Map<String, Value> {
        let mut initial = Map::new();
        put(&mut initial, "country", request.country);
        initial.insert("event".to_owned(), Value::String(event.to_owned()));
        put(&mut initial, "locale", request.locale);
        put(&mut initial, "region", request.region);
        put(&mut initial, "userAgent", request.user_agent);
        let mut gathered = self.gather(out, request, initial);
        if truthy(gathered.get("flow_id")) {
            let uid = match data.get("uid") {
                Some(uid) if truthy(Some(uid)) => Some(uid.clone()),
                _ => request
                    .token_uid
                    .filter(|uid| !uid.is_empty())
                    .map(|uid| Value::String(uid.to_owned())),
            };
            if let Some(uid) = uid {
                gathered.insert("uid".to_owned(), uid);
            }
            out.flow = self.flow_line(out, gathered.clone());
        } else if flow != FlowKind::Optional {
            let mut fields = Map::new();
            fields.insert("event".to_owned(), Value::String(event.to_owned()));
            fields.insert("missingFlowId".to_owned(), Value::Bool(true));
            self.error_line(out, "metricsEvents.emitFlowEvent", fields);
        }
        gathered
    }

    /// FxA's `gather`: adds the metrics context's flow fields to `data`.
    fn gather(
        &self,
        out: &mut Outcome,
        request: &Request<'_>,
        mut data: Map<String, Value>,
    ) -> Map<String, Value> {
        let stored;
        let metadata = match (request.metrics_context, request.context_token) {
            (Some(context), _) => context,
            (None, Some(token)) => match self.contexts.get(token) {
                Ok(found) => {
                    stored = found.unwrap_or_default();
                    &stored
                }
                Err(source) => {
                    // FxA logs the failure and gathers nothing, not even `time`.
                    self.store_failure(out, "gather", source);
                    return data;
                }
            },
            (None, None) => {
                stored = MetricsContext::default();
                &stored
            }
        };
        let time = self.clock.now_ms();
        data.insert("time".to_owned(), Value::from(time));
        put(&mut data, "device_id", metadata.device_id.as_deref());
        put(&mut data, "flow_id", metadata.flow_id.as_deref());
        let flow_time = match metadata.flow_begin_time {
            // JavaScript: `time - undefined` is NaN, which JSON writes as null.
            None => Value::Null,
            Some(begin) if time <= begin => Value::from(0),
            Some(begin) => Value::from(time.saturating_sub(begin)),
        };
        data.insert("flow_time".to_owned(), flow_time);
        if let Some(begin) = metadata.flow_begin_time {
            data.insert("flowBeginTime".to_owned(), Value::from(begin));
        }
        put(
            &mut data,
            "flowCompleteSignal",
            metadata.flow_complete_signal.as_deref(),
        );
        put(&mut data, "flowType", metadata.flow_type.as_deref());
        if truthy_str(metadata.service.as_deref()) {
            put(&mut data, "service", metadata.service.as_deref());
        }
        if !request.dnt() {
            put(&mut data, "entrypoint", metadata.entrypoint.as_deref());
            put(&mut data, "utm_campaign", metadata.utm_campaign.as_deref());
            put(&mut data, "utm_content", metadata.utm_content.as_deref());
            put(&mut data, "utm_medium", metadata.utm_medium.as_deref());
            put(&mut data, "utm_source", metadata.utm_source.as_deref());
            put(&mut data, "utm_term", metadata.utm_term.as_deref());
            put(
                &mut data,
                "entrypoint_experiment",
                metadata.entrypoint_experiment.as_deref(),
            );
            put(
                &mut data,
                "entrypoint_variation",
                metadata.entrypoint_variation.as_deref(),
            );
            put(&mut data, "product_id", metadata.product_id.as_deref());
            put(&mut data, "plan_id", metadata.plan_id.as_deref());
        }
        data
    }

    /// `log.flowEvent`: written only when `event`, `flow_id`, `flow_time` and `time` are
    /// truthy; returns whether it was written.
    fn flow_line(&self, out: &mut Outcome, data: Map<String, Value>) -> bool {
        let complete = ["event", "flow_id", "flow_time", "time"]
            .iter()
            .all(|key| truthy(data.get(*key)));
        if complete {
            self.info_line(out, "flowEvent", &data)
        } else {
            self.missing_data(out, "flow.missingData", data);
            false
        }
    }

    /// The auth wrapper `receiveEvent` (spec §4.7): builds the data bag, transforms, logs.
    fn emit_amplitude(
        &self,
        out: &mut Outcome,
        event: &str,
        request: &Request<'_>,
        data: &Map<String, Value>,
        context: &Map<String, Value>,
    ) {
        let Some(transform) = &self.transform else {
            return;
        };
        let bag = data_bag(request, data, context);
        let name = Value::String(event.to_owned());
        let source = SourceEvent {
            name: Some(&name),
            time: context.get("time"),
        };
        for amplitude in transform.transform(source, &bag, self.clock.now_ms()) {
            if amplitude.logged {
                if self.info_line(out, "amplitudeEvent", &amplitude.event) {
                    out.amplitude += 1;
                }
            } else {
                self.missing_data(out, "amplitude.missingData", amplitude.event);
            }
        }
    }

    fn info_line(&self, out: &mut Outcome, op: &str, fields: &Map<String, Value>) -> bool {
        match self.log.info(op, Some(fields)) {
            Ok(()) => true,
            Err(err) => {
                self.report(out, Error::Log(err));
                false
            }
        }
    }

    /// `log.error({op, ...fields})`: `op` first, then the details.
    fn error_line(&self, out: &mut Outcome, op: &str, details: Map<String, Value>) {
        let mut fields = Map::with_capacity(details.len() + 1);
        fields.insert("op".to_owned(), Value::String(op.to_owned()));
        fields.extend(details);
        match self.log.error(op, Some(&fields)) {
            Ok(()) => out.error_lines += 1,
            Err(err) => self.report(out, Error::Log(err)),
        }
    }

    /// `log.error({op, data})`.
    fn missing_data(&self, out: &mut Outcome, op: &str, data: Map<String, Value>) {
        let mut details = Map::new();
        details.insert("data".to_owned(), Value::Object(data));
        self.error_line(out, op, details);
    }

    /// `log.error({op: 'metricsContext.<op>', err})`, then the callback.
    fn store_failure(&self, out: &mut Outcome, op: &'static str, source: context::Error) {
        let mut details = Map::new();
        details.insert("err".to_owned(), Value::String(source.to_string()));
        let line_op = match op {
            "gather" => "metricsContext.gather",
            _ => "metricsContext.clear",
        };
        self.error_line(out, line_op, details);
        self.report(out, Error::Context { op, source });
    }

    fn report(&self, out: &mut Outcome, err: Error) {
        if let Some(callback) = &self.on_error {
            callback(&err);
        }
        out.errors.push(err);
    }
}

/// The auth wrapper's data bag: `data` overlaid with the request's and context's values.
/// An overlay whose value is `undefined` removes the key, as the transform cannot tell the two
/// apart.
pub fn data_bag(
    request: &Request<'_>,
    data: &Map<String, Value>,
    context: &Map<String, Value>,
) -> Map<String, Value> {
    let payload = request.metrics_context;
    let mut bag = data.clone();
    overlay(&mut bag, "devices", request.devices.cloned());
    overlay(&mut bag, "formFactor", string(request.ua.form_factor));
    let uid = first_truthy(data.get("uid").cloned(), string(request.token_uid));
    overlay(&mut bag, "uid", uid);
    let device_id = first_truthy(
        context.get("device_id").cloned(),
        string(payload.and_then(|p| p.device_id.as_deref())),
    );
    overlay(&mut bag, "deviceId", device_id);
    let flow_id = first_truthy(
        context.get("flow_id").cloned(),
        string(payload.and_then(|p| p.flow_id.as_deref())),
    );
    overlay(&mut bag, "flowId", flow_id);
    let begin = first_truthy(
        context.get("flowBeginTime").cloned(),
        payload.and_then(|p| p.flow_begin_time).map(Value::from),
    );
    overlay(&mut bag, "flowBeginTime", begin);
    overlay(&mut bag, "lang", string(request.locale));
    overlay(&mut bag, "emailDomain", data.get("email_domain").cloned());
    overlay(&mut bag, "emailSender", data.get("email_sender").cloned());
    overlay(&mut bag, "emailService", data.get("email_service").cloned());
    let service = first_truthy(
        first_truthy(
            first_truthy(
                data.get("service").cloned(),
                string(request.payload_service),
            ),
            string(request.query_service),
        ),
        context.get("service").cloned(),
    );
    overlay(&mut bag, "service", service);
    // The mapping's `flow.complete` rewrite reads the flow type from the bag; FxA's wrapper
    // read `metricsContext.flowType`.
    overlay(&mut bag, "flowType", context.get("flowType").cloned());
    if truthy_str(request.ua.os) {
        overlay(&mut bag, "os", string(request.ua.os));
        overlay(&mut bag, "osVersion", string(request.ua.os_version));
    }
    if truthy_str(request.ua.browser) {
        overlay(&mut bag, "browser", string(request.ua.browser));
        overlay(
            &mut bag,
            "browserVersion",
            string(request.ua.browser_version),
        );
    }
    if truthy_str(request.country) || truthy_str(request.region) {
        overlay(&mut bag, "country", string(request.country));
        overlay(&mut bag, "region", string(request.region));
    }
    bag
}

fn string(value: Option<&str>) -> Option<Value> {
    value.map(|s| Value::String(s.to_owned()))
}

/// JavaScript `a || b`.
fn first_truthy(a: Option<Value>, b: Option<Value>) -> Option<Value> {
    if truthy(a.as_ref()) { a } else { b }
}

/// Sets `key` (keeping its position) or, for `undefined`, removes it (keeping the others' order).
fn overlay(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    match value {
        Some(value) => {
            map.insert(key.to_owned(), value);
        }
        None => {
            map.shift_remove(key);
        }
    }
}

/// `data[key] = value` for a string that may be `undefined` (then the key is dropped).
fn put(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    overlay(map, key, string(value));
}

/// JavaScript truthiness; absent is `undefined`.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

fn truthy_str(value: Option<&str>) -> bool {
    value.is_some_and(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn truthiness() {
        for (value, expected) in [
            (json!(null), false),
            (json!(false), false),
            (json!(0), false),
            (json!(-0.0), false),
            (json!(""), false),
            (json!(true), true),
            (json!(0.5), true),
            (json!("0"), true),
            (json!([]), true),
            (json!({}), true),
        ] {
            assert_eq!(truthy(Some(&value)), expected, "{value}");
        }
        assert!(!truthy(None));
    }

    #[test]
    fn overlay_keeps_order() {
        let mut map = json!({"a": 1, "b": 2, "c": 3}).as_object().unwrap().clone();
        overlay(&mut map, "b", None);
        overlay(&mut map, "a", Some(json!(9)));
        overlay(&mut map, "d", Some(json!(4)));
        assert_eq!(
            serde_json::to_string(&map).unwrap(),
            r#"{"a":9,"c":3,"d":4}"#
        );
    }
}
