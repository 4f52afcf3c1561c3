//! Emission order and exact lines: spec §8.5 V01–V08, the data bag, store failures.

// A test crate: helpers outside #[test] fns unwrap too, and a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use metricsmith::amplitude::{AmplitudeEvent, Mapping, MappingSpec, SourceEvent};
use metricsmith::clock::FixedClock;
use metricsmith::context::{
    ContextKey, ContextStore, Contexts, Error as ContextError, MemoryStore, MetricsContext, Token,
};
use metricsmith::emit::{
    self, Emitter, EventKinds, FlowKind, MappingTransform, Request, Transform, UserAgent,
};
use metricsmith::mozlog::{Logger, MemorySink};
use serde_json::{Map, Value, json};

const T: i64 = 1_551_700_123_456;
const ENVELOPE_INFO: &str =
    r#""Logger":"fxa-auth-server","Type":"TYPE","Severity":6,"Pid":4242,"EnvVersion":"2.0""#;

/// The line FxA writes for `Type` and `Fields` at INFO (or ERROR with `severity` 2).
fn line(type_name: &str, severity: u8, fields: &str) -> String {
    let envelope = ENVELOPE_INFO
        .replace("TYPE", type_name)
        .replace("\"Severity\":6", &format!("\"Severity\":{severity}"));
    format!(r#"{{"Timestamp":{T}000000,{envelope},"Fields":{fields}}}"#)
}

/// One transform call: the event name, its time and the data bag.
type Call = (String, Option<Value>, Map<String, Value>);

/// A transform that records every call and answers with canned events.
#[derive(Debug, Default)]
struct FakeTransform {
    calls: Mutex<Vec<Call>>,
}

impl Transform for FakeTransform {
    fn transform(
        &self,
        event: SourceEvent<'_>,
        data: &Map<String, Value>,
        _now_ms: i64,
    ) -> Vec<AmplitudeEvent> {
        let name = event.name.and_then(Value::as_str).unwrap_or("").to_owned();
        self.calls
            .lock()
            .unwrap()
            .push((name.clone(), event.time.cloned(), data.clone()));
        let event_type = match (name.as_str(), data.get("flowType").and_then(Value::as_str)) {
            ("flow.complete", Some("registration")) => "fxa_reg - complete",
            ("account.signed", _) => "fxa_activity - cert_signed",
            ("account.keyfetch", _) => "fxa_activity - keyfetch",
            _ => return Vec::new(),
        };
        let mut event = Map::new();
        event.insert("op".into(), json!("amplitudeEvent"));
        event.insert("event_type".into(), json!(event_type));
        event.insert(
            "time".into(),
            event.get("time").cloned().unwrap_or(json!(T)),
        );
        if let Some(uid) = data.get("uid") {
            event.insert("user_id".into(), uid.clone());
        }
        event.insert("event_properties".into(), json!({}));
        event.insert("user_properties".into(), json!({}));
        let logged = data.get("uid").is_some();
        vec![AmplitudeEvent { event, logged }]
    }
}

struct Harness {
    sink: MemorySink,
    emitter: Emitter,
    fake: Arc<FakeTransform>,
    store: Arc<MemoryStore>,
    reported: Arc<Mutex<Vec<String>>>,
}

fn harness_with(store: Option<Arc<dyn ContextStore>>) -> Harness {
    let sink = MemorySink::new();
    let clock = Arc::new(FixedClock::new(T));
    let log = Logger::builder("fxa-auth-server")
        .clock(clock.clone())
        .pid(4242)
        .writer(sink.clone())
        .build();
    let fake = Arc::new(FakeTransform::default());
    let memory = Arc::new(MemoryStore::new(clock.clone()));
    let reported = Arc::new(Mutex::new(Vec::new()));
    let reported_in = Arc::clone(&reported);
    let store: Arc<dyn ContextStore> = store.unwrap_or_else(|| memory.clone());
    let emitter = Emitter::builder(Arc::new(log))
        .contexts(Contexts::new(store))
        .transform(fake.clone())
        .on_error(move |err| reported_in.lock().unwrap().push(err.to_string()))
        .build();
    Harness {
        sink,
        emitter,
        fake,
        store: memory,
        reported,
    }
}

fn harness() -> Harness {
    harness_with(None)
}

fn obj(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn geo<'a>() -> Request<'a> {
    Request {
        country: Some("United States"),
        region: Some("California"),
        locale: Some("en-US"),
        ..Request::default()
    }
}

fn v03_context() -> MetricsContext {
    MetricsContext {
        entrypoint: Some("wibble".into()),
        flow_id: Some("bar".into()),
        flow_begin_time: Some(T - 1000),
        flow_complete_signal: Some("account.signed".into()),
        utm_campaign: Some("utm campaign".into()),
        utm_content: Some("utm content".into()),
        utm_medium: Some("utm medium".into()),
        utm_source: Some("utm source".into()),
        utm_term: Some("utm term".into()),
        ..MetricsContext::default()
    }
}

const SIGNED: EventKinds = EventKinds {
    activity: true,
    flow: FlowKind::Optional,
    not_flow_for_services: &["content-server"],
};

#[test]
fn v01_activity_event_with_query_service() {
    let h = harness();
    let request = Request {
        user_agent: Some("foo"),
        query_service: Some("bar"),
        ..geo()
    };
    let out = h.emitter.emit(
        "device.created",
        &request,
        &obj(json!({"uid": "baz"})),
        EventKinds::ACTIVITY,
    );
    assert_eq!(
        h.sink.lines(),
        [line(
            "activityEvent",
            6,
            r#"{"country":"United States","event":"device.created","region":"California","userAgent":"foo","uid":"baz","service":"bar"}"#
        )]
    );
    assert!(out.activity && !out.flow && out.amplitude == 0 && out.errors.is_empty());
    // Not a flow event: the transform still sees the gathered context's time.
    let calls = h.fake.calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, Some(json!(T)));
}

#[test]
fn v02_activity_event_without_uid_is_an_error_line() {
    let h = harness();
    let request = Request {
        user_agent: Some("foo"),
        payload_service: Some("bar"),
        ..geo()
    };
    let out = h.emitter.emit(
        "device.created",
        &request,
        &Map::new(),
        EventKinds::ACTIVITY,
    );
    assert_eq!(
        h.sink.lines(),
        [line(
            "log.activityEvent",
            2,
            r#"{"op":"log.activityEvent","data":"{\"country\":\"United States\",\"event\":\"device.created\",\"region\":\"California\",\"userAgent\":\"foo\",\"service\":\"bar\"}"}"#
        )]
    );
    assert!(!out.activity);
    assert_eq!(out.error_lines, 1);
}

fn v03_request<'a>(context: &'a MetricsContext) -> Request<'a> {
    Request {
        user_agent: Some("test user-agent"),
        payload_service: Some("baz"),
        token_uid: Some("deadbeef"),
        metrics_context: Some(context),
        ..geo()
    }
}

const V03_FLOW: &str = concat!(
    r#"{"country":"United States","event":"email.verification.sent","locale":"en-US","#,
    r#""region":"California","userAgent":"test user-agent","time":1551700123456,"#,
    r#""flow_id":"bar","flow_time":1000,"flowBeginTime":1551700122456,"#,
    r#""flowCompleteSignal":"account.signed","entrypoint":"wibble","#,
    r#""utm_campaign":"utm campaign","utm_content":"utm content","utm_medium":"utm medium","#,
    r#""utm_source":"utm source","utm_term":"utm term","uid":"deadbeef"}"#
);

#[test]
fn v03_flow_event() {
    let h = harness();
    let context = v03_context();
    let out = h.emitter.emit(
        "email.verification.sent",
        &v03_request(&context),
        &Map::new(),
        EventKinds::FLOW,
    );
    assert_eq!(h.sink.lines(), [line("flowEvent", 6, V03_FLOW)]);
    assert!(out.flow && !out.activity && !out.flow_complete && out.errors.is_empty());
}

#[test]
fn v04_do_not_track_drops_entrypoint_and_utm() {
    let h = harness();
    let context = v03_context();
    let request = Request {
        dnt: Some("1"),
        ..v03_request(&context)
    };
    h.emitter.emit(
        "email.verification.sent",
        &request,
        &Map::new(),
        EventKinds::FLOW,
    );
    let expected = concat!(
        r#"{"country":"United States","event":"email.verification.sent","locale":"en-US","#,
        r#""region":"California","userAgent":"test user-agent","time":1551700123456,"#,
        r#""flow_id":"bar","flow_time":1000,"flowBeginTime":1551700122456,"#,
        r#""flowCompleteSignal":"account.signed","uid":"deadbeef"}"#
    );
    assert_eq!(h.sink.lines(), [line("flowEvent", 6, expected)]);

    // Only exactly "1" means do-not-track.
    let h = harness();
    let request = Request {
        dnt: Some("0"),
        ..v03_request(&context)
    };
    h.emitter.emit(
        "email.verification.sent",
        &request,
        &Map::new(),
        EventKinds::FLOW,
    );
    assert_eq!(h.sink.lines(), [line("flowEvent", 6, V03_FLOW)]);
}

#[test]
fn v05_null_uid_without_credentials_gives_no_uid() {
    let h = harness();
    let context = v03_context();
    let request = Request {
        token_uid: None,
        ..v03_request(&context)
    };
    h.emitter.emit(
        "email.verification.sent",
        &request,
        &obj(json!({"uid": null})),
        EventKinds::FLOW,
    );
    let expected = V03_FLOW.replace(r#","uid":"deadbeef""#, "");
    assert_eq!(h.sink.lines(), [line("flowEvent", 6, &expected)]);

    // A null call-site uid falls back to the token's uid.
    let h = harness();
    h.emitter.emit(
        "email.verification.sent",
        &v03_request(&context),
        &obj(json!({"uid": null})),
        EventKinds::FLOW,
    );
    assert_eq!(h.sink.lines(), [line("flowEvent", 6, V03_FLOW)]);
}

#[test]
fn v06_flow_complete_signal_writes_flow_complete_then_clears_the_context() {
    let h = harness();
    let token = Token {
        uid: "deadbeef",
        id: "session",
    };
    let stashed = MetricsContext {
        flow_complete_signal: Some("email.verification.sent".into()),
        flow_type: Some("registration".into()),
        ..v03_context()
    };
    assert!(h.emitter.contexts().stash(token, &stashed).unwrap());
    let request = Request {
        locale: Some("fr"),
        user_agent: Some("test user-agent"),
        token_uid: Some("deadbeef"),
        context_token: Some(token),
        ..geo()
    };
    let out = h.emitter.emit(
        "email.verification.sent",
        &request,
        &obj(json!({"uid": "qux"})),
        EventKinds::FLOW,
    );
    let flow = concat!(
        r#"{"country":"United States","event":"email.verification.sent","locale":"fr","#,
        r#""region":"California","userAgent":"test user-agent","time":1551700123456,"#,
        r#""flow_id":"bar","flow_time":1000,"flowBeginTime":1551700122456,"#,
        r#""flowCompleteSignal":"email.verification.sent","flowType":"registration","#,
        r#""entrypoint":"wibble","utm_campaign":"utm campaign","utm_content":"utm content","#,
        r#""utm_medium":"utm medium","utm_source":"utm source","utm_term":"utm term","uid":"qux"}"#
    );
    let complete = flow.replace(
        r#""event":"email.verification.sent""#,
        r#""event":"flow.complete""#,
    );
    assert_eq!(
        h.sink.lines(),
        [
            line("flowEvent", 6, flow),
            line("flowEvent", 6, &complete),
            line(
                "amplitudeEvent",
                6,
                r#"{"op":"amplitudeEvent","event_type":"fxa_reg - complete","time":1551700123456,"user_id":"qux","event_properties":"{}","user_properties":"{}"}"#
            ),
        ]
    );
    assert!(out.flow && out.flow_complete && out.amplitude == 1 && out.errors.is_empty());
    // The transform saw the event, then flow.complete, both with the flow's time and type.
    let calls = h.fake.calls.lock().unwrap();
    let names: Vec<&str> = calls.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["email.verification.sent", "flow.complete"]);
    assert!(calls.iter().all(|c| c.1 == Some(json!(T))));
    assert_eq!(calls[1].2["flowType"], json!("registration"));
    assert_eq!(calls[1].2["flowId"], json!("bar"));
    // Cleared.
    assert_eq!(h.emitter.contexts().get(token).unwrap(), None);
    assert!(h.store.is_empty());
}

#[test]
fn v07_missing_flow_id_is_an_error_unless_optional() {
    let h = harness();
    let context = MetricsContext {
        flow_begin_time: Some(T - 1),
        ..MetricsContext::default()
    };
    let request = Request {
        metrics_context: Some(&context),
        token_uid: Some("deadbeef"),
        ..geo()
    };
    h.emitter.emit(
        "email.verification.sent",
        &request,
        &Map::new(),
        EventKinds::FLOW,
    );
    assert_eq!(
        h.sink.lines(),
        [line(
            "metricsEvents.emitFlowEvent",
            2,
            r#"{"op":"metricsEvents.emitFlowEvent","event":"email.verification.sent","missingFlowId":true}"#
        )]
    );

    let h = harness();
    let out = h.emitter.emit(
        "account.keyfetch",
        &request,
        &obj(json!({"uid": "deadbeef"})),
        EventKinds::HYBRID_OPTIONAL,
    );
    assert_eq!(
        h.sink.lines(),
        [
            line(
                "activityEvent",
                6,
                r#"{"country":"United States","event":"account.keyfetch","region":"California","uid":"deadbeef"}"#
            ),
            line(
                "amplitudeEvent",
                6,
                r#"{"op":"amplitudeEvent","event_type":"fxa_activity - keyfetch","time":1551700123456,"user_id":"deadbeef","event_properties":"{}","user_properties":"{}"}"#
            ),
        ]
    );
    assert!(out.activity && !out.flow && out.error_lines == 0);
}

#[test]
fn v08_account_signed_from_content_server_is_not_a_flow_event() {
    let h = harness();
    let context = v03_context();
    let request = Request {
        user_agent: Some("ua"),
        query_service: Some("content-server"),
        metrics_context: Some(&context),
        ..geo()
    };
    let out = h.emitter.emit(
        "account.signed",
        &request,
        &obj(json!({"uid": "deadbeef", "device_id": "aaaa"})),
        SIGNED,
    );
    assert_eq!(
        h.sink.lines(),
        [
            line(
                "activityEvent",
                6,
                r#"{"country":"United States","event":"account.signed","region":"California","userAgent":"ua","uid":"deadbeef","device_id":"aaaa","service":"content-server"}"#
            ),
            line(
                "amplitudeEvent",
                6,
                r#"{"op":"amplitudeEvent","event_type":"fxa_activity - cert_signed","time":1551700123456,"user_id":"deadbeef","event_properties":"{}","user_properties":"{}"}"#
            ),
        ]
    );
    assert!(out.activity && !out.flow && !out.flow_complete);
    let calls = h.fake.calls.lock().unwrap();
    assert_eq!(calls[0].2["service"], json!("content-server"));

    // From any other service it is a flow event.
    let h = harness();
    let request = Request {
        query_service: Some("sync"),
        ..request
    };
    let out = h.emitter.emit(
        "account.signed",
        &request,
        &obj(json!({"uid": "deadbeef"})),
        SIGNED,
    );
    assert!(out.activity && out.flow && out.flow_complete);
    // activity, flow, amplitude, flow.complete (no flowType, so no amplitude for it).
    assert_eq!(h.sink.lines().len(), 4);
}

#[test]
fn empty_event_name_is_one_error_line() {
    let h = harness();
    let out = h.emitter.emit("", &geo(), &Map::new(), EventKinds::HYBRID);
    assert_eq!(
        h.sink.lines(),
        [line(
            "metricsEvents.emit",
            2,
            r#"{"op":"metricsEvents.emit","missingEvent":true}"#
        )]
    );
    assert_eq!(out.error_lines, 1);
    assert!(h.fake.calls.lock().unwrap().is_empty());
}

#[test]
fn flow_time_zero_is_flow_missing_data() {
    let h = harness();
    let context = MetricsContext {
        flow_id: Some("bar".into()),
        flow_begin_time: Some(T),
        ..MetricsContext::default()
    };
    let request = Request {
        metrics_context: Some(&context),
        ..Request::default()
    };
    h.emitter.emit(
        "email.verification.sent",
        &request,
        &Map::new(),
        EventKinds::FLOW,
    );
    assert_eq!(
        h.sink.lines(),
        [line(
            "flow.missingData",
            2,
            r#"{"op":"flow.missingData","data":"{\"event\":\"email.verification.sent\",\"time\":1551700123456,\"flow_id\":\"bar\",\"flow_time\":0,\"flowBeginTime\":1551700123456}"}"#
        )]
    );
}

#[test]
fn unlogged_amplitude_event_is_amplitude_missing_data() {
    let h = harness();
    // No uid anywhere: the fake marks the event as not logged.
    h.emitter.emit(
        "account.signed",
        &Request::default(),
        &Map::new(),
        EventKinds::NONE,
    );
    assert_eq!(
        h.sink.lines(),
        [line(
            "amplitude.missingData",
            2,
            r#"{"op":"amplitude.missingData","data":"{\"op\":\"amplitudeEvent\",\"event_type\":\"fxa_activity - cert_signed\",\"time\":1551700123456,\"event_properties\":{},\"user_properties\":{}}"}"#
        )]
    );
}

#[test]
fn data_bag_follows_the_auth_wrapper() {
    let context = MetricsContext {
        device_id: Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into()),
        flow_id: Some("2222".into()),
        flow_begin_time: Some(1_551_600_000_000),
        ..MetricsContext::default()
    };
    let devices = json!([]);
    let request = Request {
        locale: Some("en-GB"),
        country: Some("United Kingdom"),
        region: Some("England"),
        query_service: Some("0"),
        payload_service: Some(""),
        token_uid: Some("0123456789abcdef0123456789abcdef"),
        metrics_context: Some(&context),
        devices: Some(&devices),
        ua: UserAgent {
            browser: Some("Firefox"),
            browser_version: Some("65.0"),
            os: Some(""),
            os_version: Some("10"),
            form_factor: Some("melm"),
        },
        ..Request::default()
    };
    let gathered = obj(json!({
        "time": T, "device_id": "fedcba9876543210fedcba9876543210",
        "flowBeginTime": 1_551_700_000_000_i64, "flowType": "login", "service": "ignored"
    }));
    let data = obj(json!({
        "email_domain": "other", "deviceId": "stale", "os": "kept", "templateVersion": 2
    }));
    let bag = emit::data_bag(&request, &data, &gathered);
    assert_eq!(
        Value::Object(bag.clone()),
        json!({
            "email_domain": "other",
            "deviceId": "fedcba9876543210fedcba9876543210",
            "os": "kept",
            "templateVersion": 2,
            "devices": [],
            "formFactor": "melm",
            "uid": "0123456789abcdef0123456789abcdef",
            "flowId": "2222",
            "flowBeginTime": 1_551_700_000_000_i64,
            "lang": "en-GB",
            "emailDomain": "other",
            "service": "0",
            "flowType": "login",
            "browser": "Firefox",
            "browserVersion": "65.0",
            "country": "United Kingdom",
            "region": "England"
        })
    );
    let keys: Vec<&str> = bag.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "email_domain",
            "deviceId",
            "os",
            "templateVersion",
            "devices",
            "formFactor",
            "uid",
            "flowId",
            "flowBeginTime",
            "lang",
            "emailDomain",
            "service",
            "flowType",
            "browser",
            "browserVersion",
            "country",
            "region"
        ]
    );
}

/// A store that always fails, like a memcached that timed out.
#[derive(Debug)]
struct FailingStore;

impl ContextStore for FailingStore {
    fn add(
        &self,
        _: &ContextKey,
        _: &MetricsContext,
        _: std::time::Duration,
    ) -> Result<bool, ContextError> {
        Err(timeout("add"))
    }
    fn get(&self, _: &ContextKey) -> Result<Option<MetricsContext>, ContextError> {
        Err(timeout("get"))
    }
    fn delete(&self, _: &ContextKey) -> Result<(), ContextError> {
        Err(timeout("delete"))
    }
}

fn timeout(op: &'static str) -> ContextError {
    let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out");
    ContextError::Store {
        backend: "test",
        op,
        message: err.to_string(),
    }
}

#[test]
fn failing_store_reports_and_still_emits() {
    let h = harness_with(Some(Arc::new(FailingStore)));
    let request = Request {
        token_uid: Some("deadbeef"),
        context_token: Some(Token {
            uid: "deadbeef",
            id: "session",
        }),
        ..geo()
    };
    let out = h.emitter.emit(
        "account.signed",
        &request,
        &obj(json!({"uid": "deadbeef"})),
        SIGNED,
    );
    let lines = h.sink.lines();
    assert_eq!(
        lines,
        [
            line(
                "activityEvent",
                6,
                r#"{"country":"United States","event":"account.signed","region":"California","uid":"deadbeef"}"#
            ),
            line(
                "metricsContext.gather",
                2,
                r#"{"op":"metricsContext.gather","err":"test get failed: timed out"}"#
            ),
            line(
                "amplitudeEvent",
                6,
                r#"{"op":"amplitudeEvent","event_type":"fxa_activity - cert_signed","time":1551700123456,"user_id":"deadbeef","event_properties":"{}","user_properties":"{}"}"#
            ),
        ]
    );
    assert!(out.activity && out.amplitude == 1);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(
        *h.reported.lock().unwrap(),
        ["metrics context gather failed: test get failed: timed out"]
    );
    // Without a gathered context the transform gets no time (the wrapper falls back to now).
    assert_eq!(h.fake.calls.lock().unwrap()[0].1, None);
}

#[test]
fn real_mapping_transform_is_wired() {
    let sink = MemorySink::new();
    let log = Logger::builder("fxa-auth-server")
        .clock(Arc::new(FixedClock::new(T)))
        .writer(sink.clone())
        .build();
    let transform = MappingTransform {
        mapping: Arc::new(Mapping::new(MappingSpec::default()).unwrap()),
        oauth_clients: Default::default(),
        app_version: Some("134".into()),
    };
    let emitter = Emitter::builder(Arc::new(log))
        .transform(Arc::new(transform))
        .build();
    // An empty mapping maps nothing, so only the activity line is written.
    let out = emitter.emit(
        "account.login",
        &geo(),
        &obj(json!({"uid": "u"})),
        EventKinds::HYBRID,
    );
    assert!(out.activity && out.amplitude == 0);
}

#[cfg(feature = "memcached")]
#[test]
fn unreachable_memcached_reports_and_still_emits() {
    use metricsmith::context::{MemcachedConfig, MemcachedStore};

    // Only the closed-port helper is used here.
    #[allow(dead_code)]
    mod server {
        include!("support/memcached.rs");
    }

    let store = Arc::new(MemcachedStore::new(MemcachedConfig {
        address: server::closed_port_address(),
        connect_timeout: std::time::Duration::from_millis(200),
        io_timeout: std::time::Duration::from_millis(200),
    }));
    let h = harness_with(Some(store));
    let token = Token {
        uid: "deadbeef",
        id: "session",
    };
    let request = Request {
        token_uid: Some("deadbeef"),
        context_token: Some(token),
        ..geo()
    };
    let out = h.emitter.emit(
        "account.login",
        &request,
        &obj(json!({"uid": "deadbeef"})),
        EventKinds::HYBRID,
    );
    let lines = h.sink.lines();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[0].contains(r#""Type":"activityEvent""#));
    assert!(lines[1].contains(r#""Type":"metricsContext.gather","Severity":2"#));
    assert!(lines[1].contains("memcached connect failed"));
    // Gathering failed, so there is no flow id: FxA's missing-flow-id error follows.
    assert!(lines[2].contains(r#""Type":"metricsEvents.emitFlowEvent""#));
    assert!(out.activity);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(h.reported.lock().unwrap().len(), 1);
}
