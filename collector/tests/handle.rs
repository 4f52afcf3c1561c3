//! `Collector::handle` on the FxA schemas: transport, validation and the route's answers,
//! beyond what the recorded corpus covers (codegen/cli/tests/collect_conformance.rs).

use std::sync::OnceLock;

use metricsmith_collector::{Collector, Config, Error, Location, Outcome, Request};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const RECEIVED: i64 = 1_554_499_308_559;

fn collector(service: &str, version: &str) -> Collector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/fxa/").to_owned() + service;
    let checked = metricsmith_codegen::load(&path).expect("the FxA schema loads");
    let model = checked.model.services.values().next().expect("one service");
    let mut config = Config::new("S3CR37", version);
    config.process = Some(("host".to_owned(), 42));
    Collector::new(model, config).expect("a collector")
}

/// Built once: loading the schema and compiling uap-core's regexes costs about a second in a
/// debug build.
fn content() -> &'static Collector {
    static CONTENT: OnceLock<Collector> = OnceLock::new();
    CONTENT.get_or_init(|| collector("content-server.yaml", "1.134.0"))
}

fn payments() -> &'static Collector {
    static PAYMENTS: OnceLock<Collector> = OnceLock::new();
    PAYMENTS.get_or_init(|| collector("payments-server.yaml", "1.148.4"))
}

fn post(content_type: Option<&str>, body: &[u8]) -> Request {
    let mut headers = vec![
        (
            "User-Agent".to_owned(),
            "Mozilla/5.0 (X11; Linux x86_64; rv:66.0) Gecko/20100101 Firefox/66.0".to_owned(),
        ),
        ("Accept-Language".to_owned(), "pt-BR,pt;q=0.9".to_owned()),
    ];
    if let Some(t) = content_type {
        headers.push(("Content-Type".to_owned(), t.to_owned()));
    }
    Request {
        method: "POST".to_owned(),
        path: "/metrics".to_owned(),
        headers,
        body: body.to_vec(),
    }
}

/// A valid content body with a signed flow that began a minute before `RECEIVED`.
fn content_body() -> Value {
    let begin = RECEIVED - 60_000;
    let flow_id = metricsmith::flow_id::sign("S3CR37", "1234567890abcdef1234567890abcdef", begin);
    json!({
        "broker": "web", "context": "web", "deviceId": "none", "duration": 1000,
        "events": [{"offset": 0, "type": "flow.begin"}, {"offset": 500, "type": "screen.signin"}],
        "experiments": [], "flowBeginTime": begin, "flowId": flow_id,
        "flushTime": RECEIVED - 1000, "isSampledUser": true, "lang": "en", "marketing": [],
        "migration": "none", "referrer": "none",
        "screen": {"clientHeight": 1, "clientWidth": 1, "devicePixelRatio": 1, "height": 600, "width": 800},
        "service": "sync", "startTime": RECEIVED - 2000, "uid": "none", "uniqueUserId": "none",
        "utm_campaign": "none", "utm_content": "none", "utm_medium": "none", "utm_source": "none",
        "utm_term": "none"
    })
}

/// The stderr lines, each parsed (in its key order).
#[track_caller]
fn stderr_lines(outcome: &Outcome) -> Vec<Map<String, Value>> {
    outcome
        .stderr
        .iter()
        .map(|line| serde_json::from_slice(line).expect("a JSON object per line"))
        .collect()
}

/// The `Type` of log line `index`.
#[track_caller]
fn op(outcome: &Outcome, index: usize) -> &str {
    outcome.log.get(index).expect("the log line").op
}

/// The fields of log line `index`, parsed.
#[track_caller]
fn fields(outcome: &Outcome, index: usize) -> Map<String, Value> {
    let line = outcome.log.get(index).expect("the log line");
    serde_json::from_slice(line.fields.expect("fields")).expect("a JSON object")
}

fn error_body(outcome: &Outcome) -> Value {
    serde_json::from_str(&outcome.body).expect("a JSON body")
}

#[test]
fn a_valid_body_is_answered_and_logged() {
    let outcome = content().handle(
        &post(
            Some("text/plain;charset=UTF-8"),
            content_body().to_string().as_bytes(),
        ),
        RECEIVED,
        Some(&Location {
            country: Some("Brazil".to_owned()),
            state: None,
        }),
    );
    assert_eq!(
        (outcome.status, outcome.body.as_str()),
        (200, r#"{"success":true}"#)
    );
    let stderr = stderr_lines(&outcome);
    let ops: Vec<&str> = stderr
        .iter()
        .map(|l| l["op"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ops, ["client.metrics", "flowEvent", "flowEvent"]);
    let flow = &stderr[2];
    assert_eq!(flow["event"], "flow.signin.view");
    assert_eq!(flow["locale"], "pt_BR");
    assert_eq!(flow["country"], "Brazil");
    assert!(flow.get("region").is_none());
    // hostname and pid, where FxA writes them.
    let keys: Vec<&str> = flow.keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..8],
        [
            "country",
            "event",
            "flow_id",
            "flow_time",
            "hostname",
            "locale",
            "op",
            "pid"
        ]
    );
    let amplitude: Vec<Value> = (0..outcome.log.len())
        .map(|i| fields(&outcome, i)["event_type"].clone())
        .collect();
    assert_eq!(amplitude, ["fxa_login - view"]);
    assert_eq!(op(&outcome, 0), "amplitudeEvent");
    assert_eq!(fields(&outcome, 0)["os_name"], "Linux");
}

#[test]
fn transport_errors_answer_4xx_json_and_log_once() {
    let c = content();
    let cases: [(Option<&str>, Vec<u8>, u16); 5] = [
        (Some("application/json"), b"not json".to_vec(), 400),
        (Some("application/json"), b"null".to_vec(), 400),
        (
            Some("application/json; charset=koi8-r"),
            b"{}".to_vec(),
            415,
        ),
        (Some("text/plain"), vec![b' '; 102_401], 413),
        (Some("application/json"), vec![0xff, 0xfe], 400),
    ];
    for (content_type, body, status) in cases {
        let outcome = c.handle(&post(content_type, &body), RECEIVED, None);
        assert_eq!(outcome.status, status, "{content_type:?}");
        assert_eq!(error_body(&outcome)["statusCode"], status);
        assert_eq!(outcome.log.len(), 1);
        assert_eq!(op(&outcome, 0), "server.routes.request.failed");
        assert!(outcome.stderr.is_empty());
    }
}

#[test]
fn unparsed_content_types_give_an_empty_body() {
    for content_type in [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("application/vnd.api+json"),
    ] {
        let outcome = content().handle(
            &post(content_type, content_body().to_string().as_bytes()),
            RECEIVED,
            None,
        );
        assert_eq!(outcome.status, 400);
        assert_eq!(
            error_body(&outcome)["validation"]["keys"],
            json!(["broker"])
        );
    }
}

#[test]
fn other_routes_are_not_found() {
    let mut request = post(Some("text/plain"), b"{}");
    request.path = "/metrics-flow".to_owned();
    assert_eq!(content().handle(&request, RECEIVED, None).status, 404);
    let mut request = post(Some("text/plain"), b"{}");
    request.method = "GET".to_owned();
    assert_eq!(content().handle(&request, RECEIVED, None).status, 404);
}

#[test]
fn validation_reports_the_first_failing_key_in_schema_order() {
    let c = content();
    let cases = [
        ("broker", json!(1), "broker", "\"broker\" must be a string"),
        (
            "context",
            json!(""),
            "context",
            "\"context\" is not allowed to be empty",
        ),
        ("isSampledUser", json!("TRUE"), "", ""),
        (
            "isSampledUser",
            json!("yes"),
            "isSampledUser",
            "must be a boolean",
        ),
        ("duration", json!(" 123 "), "", ""),
        ("duration", json!("0x10"), "", ""),
        (
            "duration",
            json!(9_007_199_254_740_993_i64),
            "duration",
            "must be an integer",
        ),
        (
            "screen",
            json!(
                "{\"clientHeight\":1,\"clientWidth\":1,\"devicePixelRatio\":\"none\",\"height\":\"none\",\"width\":2}"
            ),
            "",
            "",
        ),
        (
            "events",
            json!([{"offset": 0, "type": "a b"}, {"offset": -1, "type": "x"}]),
            "events.1.offset",
            "at position 1",
        ),
        (
            "referrer",
            json!("ftp://example.com"),
            "referrer",
            "valid uri",
        ),
        (
            "uid",
            json!("NONE"),
            "uid",
            "fails to match the required pattern",
        ),
        (
            "experiments",
            json!([{"choice": "nope", "group": "a"}]),
            "experiments.0.choice",
            "must be one of",
        ),
    ];
    for (key, value, failing, message) in cases {
        let mut body = content_body();
        body[key] = value.clone();
        // The earliest failing key wins: `events` fails before `uid` whatever the order of
        // the body's own keys.
        let outcome = c.handle(
            &post(Some("text/plain"), body.to_string().as_bytes()),
            RECEIVED,
            None,
        );
        if failing.is_empty() {
            assert_eq!(outcome.status, 200, "{key} = {value}: {}", outcome.body);
        } else {
            assert_eq!(outcome.status, 400, "{key} = {value}");
            let answer = error_body(&outcome);
            assert_eq!(
                answer["validation"]["keys"],
                json!([failing]),
                "{key} = {value}"
            );
            assert!(
                answer["message"].as_str().unwrap_or("").contains(message),
                "{answer}"
            );
            assert_eq!(op(&outcome, 0), "server.routes.validation.failed");
            assert_eq!(outcome.log.get(0).map(|l| l.severity), Some(2));
        }
    }
}

#[test]
fn unknown_keys_are_stripped_at_every_level() {
    let mut body = content_body();
    body["client_id"] = json!("0123456789abcdef");
    body["screen"]["extra"] = json!(1);
    body["events"][1]["extra"] = json!(1);
    let outcome = content().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    assert_eq!(outcome.status, 200);
}

#[test]
fn too_many_events_are_a_400_that_says_so() {
    let event = json!({"offset": 0, "type": "screen.signin"});
    for (count, status) in [(1000, 200), (1001, 400)] {
        let mut body = content_body();
        body["events"] = Value::Array(vec![event.clone(); count]);
        let outcome = content().handle(
            &post(Some("text/plain"), body.to_string().as_bytes()),
            RECEIVED,
            None,
        );
        assert_eq!(outcome.status, status, "{count} events: {}", outcome.body);
        if status == 400 {
            assert_eq!(
                error_body(&outcome),
                json!({
                    "statusCode": 400, "error": "Bad Request",
                    "message": "child \"events\" fails because [\"events\" must contain less than or equal to 1000 items]",
                    "validation": {"source": "body", "keys": ["events"]}
                })
            );
            assert_eq!(outcome.log.len(), 1, "one log line and nothing else");
            assert_eq!(op(&outcome, 0), "server.routes.validation.failed");
            assert!(outcome.stderr.is_empty());
        }
    }
}

#[test]
fn the_offset_check_runs_after_validation() {
    let mut body = content_body();
    body["events"][1]["offset"] = json!(5000);
    let outcome = content().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    assert_eq!(outcome.status, 400);
    assert_eq!(
        outcome.body,
        r#"{"error":"Bad Request","message":"offset 5000 > maxiumum possible of 1000","statusCode":400,"validation":{"keys":["offset"]}}"#
    );
    assert!(outcome.log.is_empty() && outcome.stderr.is_empty());
}

#[test]
fn an_invalid_flow_writes_no_flow_line_and_no_amplitude_event() {
    let mut body = content_body();
    body["entrypoint"] = json!("fxa:signup");
    let outcome = content().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    assert_eq!(outcome.status, 200);
    assert_eq!(outcome.stderr.len(), 1, "only client.metrics");
    assert!(outcome.log.is_empty());
}

#[test]
fn payments_answers_empty_and_maps_each_event() {
    let body = json!({
        "data": {"deviceId": "0123456789abcdef0123456789abcdef", "flowBeginTime": "1570000000000",
                 "planId": "plan_x", "version": "148.8"},
        "events": [{"offset": 1, "type": "amplitude.subPaySetup.checkoutEngage"},
                   {"offset": 2, "type": "amplitude.email.submit"},
                   {"offset": 3, "type": "amplitude.constructor.view"}],
    });
    let outcome = payments().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    assert_eq!(
        (outcome.status, outcome.body.as_str(), outcome.content_type),
        (200, "", None)
    );
    assert_eq!(outcome.log.len(), 1);
    let fields = fields(&outcome, 0);
    assert_eq!(fields["event_type"], "fxa_pay_setup - checkout_engage");
    assert_eq!(fields["session_id"], "1570000000000");
    assert!(fields.get("time").is_none());
    // `version` posted as 148.8 has no app_version (FxA's /^[0-9]+\.([0-9]+)\./).
    assert!(fields.get("app_version").is_none());
    // As mozlog writes it: nested objects as their JSON text.
    assert_eq!(fields["event_properties"], r#"{"plan_id":"plan_x"}"#);
}

#[test]
fn payments_validation_logs_no_body() {
    let body = json!({"data": {"secret": "x"}, "events": "nope"});
    let outcome = payments().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    assert_eq!(outcome.status, 400);
    assert_eq!(op(&outcome, 0), "server.main.validation.failed");
    let logged = Value::Object(fields(&outcome, 0)).to_string();
    assert!(!logged.contains("secret"), "{logged}");
}

#[test]
fn a_collector_is_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Collector>();
    let c = content();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let outcome = c.handle(
                    &post(Some("text/plain"), content_body().to_string().as_bytes()),
                    RECEIVED,
                    None,
                );
                assert_eq!(outcome.status, 200);
            });
        }
    });
}

#[test]
fn a_collector_needs_a_release_version_and_a_collector_section() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/fxa/auth-server.yaml"
    );
    let checked = metricsmith_codegen::load(path).expect("loads");
    let auth = checked.model.services.values().next().expect("one service");
    assert!(matches!(
        Collector::new(auth, Config::new("k", "1.134.0")),
        Err(Error::NoCollector(name)) if name == "auth-server"
    ));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/fxa/content-server.yaml"
    );
    let checked = metricsmith_codegen::load(path).expect("loads");
    let content = checked.model.services.values().next().expect("one service");
    assert!(matches!(
        Collector::new(content, Config::new("k", "134")),
        Err(Error::Version(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_body_is_answered_without_panic(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        content_type in prop_oneof![
            Just("text/plain"), Just("application/json"), Just("Text/Plain"),
            Just("application/csp-report"), Just("text/plain; charset=latin1"),
        ],
    ) {
        let outcome = content().handle(&post(Some(content_type), &body), RECEIVED, None);
        prop_assert!(matches!(outcome.status, 200 | 400 | 413 | 415));
    }

    #[test]
    fn any_json_value_for_a_field_is_answered(
        key in prop_oneof![Just("events"), Just("screen"), Just("flowBeginTime"), Just("navigationTiming"), Just("marketing")],
        value in prop_oneof![
            any::<i64>().prop_map(Value::from),
            ".{0,20}".prop_map(Value::from),
            Just(json!([[[]]])),
            Just(json!({"a": {"b": null}})),
            Just(json!([{"offset": "1e400", "type": 5}])),
        ],
    ) {
        let mut body = content_body();
        body[key] = value;
        let outcome = content().handle(&post(Some("text/plain"), body.to_string().as_bytes()), RECEIVED, None);
        prop_assert!(matches!(outcome.status, 200 | 400));
    }
}

/// The content schema with undeclared keys kept, and `locale` and `region` declared and picked:
/// body keys of the same names as keys the server sets on its lines.
fn overlapping() -> &'static Collector {
    static OVERLAPPING: OnceLock<Collector> = OnceLock::new();
    OVERLAPPING.get_or_init(|| {
        let fxa = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/fxa");
        let dir = std::env::temp_dir().join(format!(
            "metricsmith-collector-overlapping-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(dir.join("common")).expect("a temporary directory");
        for entry in std::fs::read_dir(fxa.join("common")).expect("schema/fxa/common") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, dir.join("common").join(name)).expect("copied");
        }
        let text = std::fs::read_to_string(fxa.join("content-server.yaml")).expect("the schema");
        let declared = "  body:\n    locale:\n      type: string\n      required: false\n      \
                        description: A locale.\n    region:\n      type: string\n      \
                        required: false\n      description: A region.\n";
        let text = text
            .replacen("unknown_keys: strip", "unknown_keys: keep", 1)
            .replacen("  body:\n", declared, 1)
            .replacen(
                "    picked:\n",
                "    picked:\n      locale: {}\n      region: {}\n",
                1,
            );
        let path = dir.join("content-server.yaml");
        std::fs::write(&path, text).expect("written");
        let checked = match metricsmith_codegen::load(&path) {
            Ok(checked) => checked,
            Err(report) => panic!("{report}"),
        };
        let _ = std::fs::remove_dir_all(&dir);
        let model = checked.model.services.values().next().expect("one service");
        let mut config = Config::new("S3CR37", "1.134.0");
        config.process = Some(("host".to_owned(), 42));
        Collector::new(model, config).expect("a collector")
    })
}

/// The key order of a JSON object line.
fn keys(line: &Map<String, Value>) -> Vec<&str> {
    line.keys().map(String::as_str).collect()
}

#[test]
fn keys_the_server_sets_take_the_place_of_body_keys_of_the_same_name() {
    let mut body = content_body();
    body["locale"] = json!("xx_YY");
    body["region"] = json!("Elsewhere");
    body["marketing"] = json!([{"campaignId": "c", "clicked": false, "url": "https://x.example/",
        "lang": "own", "time": "own", "extra": 1}]);
    let outcome = overlapping().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        Some(&Location {
            country: Some("Brazil".to_owned()),
            state: None,
        }),
    );
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    let stderr = stderr_lines(&outcome);
    let marketing = &stderr[1];
    assert_eq!(marketing["op"], "client.marketing");
    // The impression's keys first, then those the server adds, as an assignment does.
    assert_eq!(
        keys(marketing),
        [
            "campaignId",
            "clicked",
            "url",
            "lang",
            "time",
            "extra",
            "op",
            "hostname",
            "pid",
            "v",
            "agent",
            "context",
            "entrypoint",
            "service",
            "migration"
        ]
    );
    assert_eq!(marketing["lang"], "en", "the body's lang");
    assert_eq!(marketing["time"], "2019-04-05T21:00:00.000Z", "the hour");
    assert_eq!(marketing["extra"], 1);

    let flow = &stderr[2];
    assert_eq!(flow["op"], "flowEvent");
    // A picked key the line sets takes its place; one it does not set (no state, so no
    // region) comes after the line's own keys, in the picked order (`entrypoint` is absent
    // and `migration` is "none").
    assert_eq!(
        keys(flow),
        [
            "country",
            "event",
            "flow_id",
            "flow_time",
            "hostname",
            "locale",
            "op",
            "pid",
            "time",
            "userAgent",
            "v",
            "region",
            "context",
            "service"
        ]
    );
    assert_eq!(flow["locale"], "xx_YY");
    assert_eq!(flow["region"], "Elsewhere");
}

/// `body`'s JSON text with `edit` made: `(from, to)` replaces the first `from`, where `to`
/// writes members before those at `from`, so that a key of both comes first where `to` puts it
/// and has the later value, as serde_json's map of the text holds it.
fn edited(body: &Value, (from, to): (&str, &str)) -> String {
    let text = body.to_string();
    assert!(text.contains(from), "{from} in {text}");
    text.replacen(from, to, 1)
}

/// Whether `text` and the JSON text of serde_json's value of it give the same outcome.
#[track_caller]
fn assert_read_as_serde_json_reads(collector: &Collector, text: &str, location: Option<&Location>) {
    let value: Value = serde_json::from_str(text).expect("JSON");
    let outcome = collector.handle(
        &post(Some("text/plain"), text.as_bytes()),
        RECEIVED,
        location,
    );
    let expected = collector.handle(
        &post(Some("text/plain"), value.to_string().as_bytes()),
        RECEIVED,
        location,
    );
    assert_eq!(outcome, expected, "{text}");
}

#[test]
fn repeated_keys_have_their_first_place_and_their_last_value() {
    let timing: Map<String, Value> = [
        "connectEnd",
        "connectStart",
        "domainLookupEnd",
        "domainLookupStart",
        "domComplete",
        "domContentLoadedEventEnd",
        "domContentLoadedEventStart",
        "domInteractive",
        "domLoading",
        "fetchStart",
        "loadEventEnd",
        "loadEventStart",
        "navigationStart",
        "redirectEnd",
        "redirectStart",
        "requestStart",
        "responseEnd",
        "responseStart",
        "secureConnectionStart",
        "unloadEventEnd",
        "unloadEventStart",
    ]
    .iter()
    .enumerate()
    .map(|(i, key)| (key.to_string(), json!(i * 10)))
    .collect();
    let mut body = content_body();
    body["navigationTiming"] = Value::Object(timing);
    body["events"] = json!([{"offset": 0, "type": "flow.begin"}, {"offset": 100, "type": "loaded"},
        {"offset": 500, "type": "screen.signin"}]);
    body["marketing"] = json!([{"campaignId": "c", "clicked": false, "url": "https://x.example/"}]);
    body["utm_source"] = json!("none");
    let location = Location {
        country: Some("Brazil".to_owned()),
        state: Some("Bahia".to_owned()),
    };
    let cases = [
        // Top-level keys: validated, read by the lines and the data bag, stripped.
        (
            "{",
            r#"{"isSampledUser":false,"flowId":"0","extra":1,"extra":2,"utm_source":"kept","#,
        ),
        // A value that only the first occurrence would convert or fail.
        (
            "{",
            r#"{"flowBeginTime":"x","duration":"not a number","screen":"{}","#,
        ),
        // Nested objects: the lines write their members in order.
        (
            r#""navigationTiming":{"#,
            r#""navigationTiming":{"responseEnd":1,"domComplete":"x","#,
        ),
        (
            r#"{"campaignId":"c""#,
            r#"{"url":1,"clicked":"yes","campaignId":"c""#,
        ),
        (
            r#"{"offset":100,"type":"loaded"}"#,
            r#"{"type":"x","offset":"x","offset":100,"type":"loaded"}"#,
        ),
    ];
    let plain = content().handle(
        &post(Some("text/plain"), body.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    let lines: Vec<Value> = stderr_lines(&plain)
        .iter()
        .map(|line| line.get("event").unwrap_or(&line["op"]).clone())
        .collect();
    assert_eq!(
        lines,
        [
            "client.metrics",
            "client.marketing",
            "flow.begin",
            "flow.performance.other",
            "flow.signin.view",
            "flow.performance.other.server"
        ]
    );
    assert_eq!(plain.log.len(), 1, "fxa_login - view");
    for edit in cases {
        let text = edited(&body, edit);
        for collector in [content(), overlapping()] {
            assert_read_as_serde_json_reads(collector, &text, Some(&location));
        }
        let outcome = content().handle(&post(Some("text/plain"), text.as_bytes()), RECEIVED, None);
        assert_eq!(outcome.status, 200, "{text}: {}", outcome.body);
        assert_eq!(
            outcome.stderr.len(),
            plain.stderr.len(),
            "{text}: the lines"
        );
        assert_eq!(outcome.log.len(), plain.log.len(), "{text}: the events");
    }
    // Payments: the posted data is the bag.
    let text = r#"{"data":{"planId":"a","flowBeginTime":"1","planId":"plan_x","flowBeginTime":"1570000000000",
        "deviceId":"0123456789abcdef0123456789abcdef","productId":"prod_x"},
        "events":[{"offset":1,"type":"amplitude.subPaySetup.view","type":"amplitude.subPaySetup.engage"}]}"#;
    assert_read_as_serde_json_reads(payments(), text, None);
    assert_eq!(
        payments()
            .handle(&post(Some("text/plain"), text.as_bytes()), RECEIVED, None)
            .log
            .len(),
        1
    );
}

#[test]
fn converted_values_read_as_the_values_they_convert_to() {
    let native = content_body();
    let begin = native["flowBeginTime"].as_i64().expect("a time");
    let mut converted = native.clone();
    converted["flowBeginTime"] = json!(begin.to_string());
    converted["isSampledUser"] = json!("TRUE");
    converted["duration"] = json!("1000");
    converted["screen"] = json!(native["screen"].to_string());
    converted["events"] =
        json!(r#"[{"offset":"0","type":"flow.begin"},{"offset":"5e2","type":"screen.signin"}]"#);
    let outcome = |body: &Value| {
        content().handle(
            &post(Some("text/plain"), body.to_string().as_bytes()),
            RECEIVED,
            None,
        )
    };
    let expected = outcome(&native);
    assert_eq!(
        expected.stderr.len(),
        3,
        "client.metrics and two flow events"
    );
    assert_eq!(outcome(&converted), expected);
    // Whole bodies of JSON text in a string, as Joi receives other spellings of text/plain.
    let quoted = content().handle(
        &post(Some("Text/Plain"), converted.to_string().as_bytes()),
        RECEIVED,
        None,
    );
    assert_eq!(quoted, expected);
}
