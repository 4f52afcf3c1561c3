//! mozlog lines: one JSON object per line under concurrency and for arbitrary payloads.

use std::sync::Arc;

use metricsmith::clock::FixedClock;
use metricsmith::mozlog::{self, Logger, MemorySink, Record, Severity};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[test]
fn concurrent_lines_never_interleave() {
    let sink = MemorySink::new();
    let log = Arc::new(
        Logger::builder("fxa-auth-server")
            .clock(Arc::new(FixedClock::new(1)))
            .pid(1)
            .writer(sink.clone())
            .build(),
    );
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let big = "x".repeat(4000);
                for i in 0..250 {
                    let fields = json!({"thread": t, "i": i, "big": big, "nested": {"t": t}});
                    log.info("flowEvent", fields.as_object()).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let lines = sink.lines();
    assert_eq!(lines.len(), 1000);
    for line in lines {
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["Fields"]["big"].as_str().unwrap().len(), 4000);
    }
}

#[test]
fn logger_name_suffix_goes_into_type() {
    for (name, op, logger, type_name) in [
        (
            "fxa-auth-server",
            "amplitudeEvent",
            "fxa-auth-server",
            "amplitudeEvent",
        ),
        (
            "fxa-oauth-server.grant",
            "amplitudeEvent",
            "fxa-oauth-server",
            "grant.amplitudeEvent",
        ),
        (
            "fxa-oauth-server.routes.verify",
            "amplitudeEvent",
            "fxa-oauth-server",
            "routes.verify.amplitudeEvent",
        ),
        (
            "fxa-content-server.server.post-metrics",
            "validation.failed",
            "fxa-content-server",
            "server.post-metrics.validation.failed",
        ),
    ] {
        let sink = MemorySink::new();
        let log = Logger::builder(name).writer(sink.clone()).build();
        log.info(op, None).unwrap();
        let parsed: Value = serde_json::from_str(&sink.lines()[0]).unwrap();
        assert_eq!(parsed["Logger"], json!(logger));
        assert_eq!(parsed["Type"], json!(type_name));
        assert_eq!(parsed["Pid"], json!(std::process::id()));
        assert!(parsed.get("Fields").is_none());
        assert!(parsed.get("Hostname").is_none());
    }
}

#[test]
fn hostname_only_when_configured() {
    let sink = MemorySink::new();
    let log = Logger::builder("app")
        .hostname("web-1")
        .clock(Arc::new(FixedClock::new(2)))
        .pid(3)
        .writer(sink.clone())
        .build();
    log.log(Severity::Warn, "op", json!({}).as_object())
        .unwrap();
    assert_eq!(
        sink.lines(),
        [
            r#"{"Timestamp":2000000,"Logger":"app","Type":"op","Hostname":"web-1","Severity":4,"Pid":3,"EnvVersion":"2.0","Fields":{}}"#
        ]
    );
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<String>().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Integers beyond 2^53 are rounded as JavaScript rounds them; compare through f64 there.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

proptest! {
    #[test]
    fn every_payload_gives_one_parseable_line(
        fields in prop::collection::vec((any::<String>(), value()), 0..6),
        float in any::<f64>().prop_filter("finite", |f| f.is_finite()),
        ms in 0i64..4_102_444_800_000,
    ) {
        let mut map: Map<String, Value> = fields.into_iter().collect();
        map.insert("float".to_owned(), json!(float));
        let line = mozlog::format_line(&Record {
            timestamp_ms: ms,
            logger: "fxa-auth-server",
            type_name: "amplitudeEvent",
            hostname: None,
            severity: Severity::Info,
            pid: 1,
            fields: Some(&map),
        });
        prop_assert!(line.ends_with('\n'));
        prop_assert_eq!(line.matches('\n').count(), 1);
        let parsed: Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(parsed["Timestamp"].as_u64(), Some(u64::try_from(ms).unwrap() * 1_000_000));
        let written = parsed["Fields"].as_object().unwrap();
        prop_assert!(written.keys().eq(map.keys()));
        // serde_json's default float parser may be one ulp off, so check the text with std's.
        prop_assert_eq!(mozlog::to_js_json(&json!(float)).parse::<f64>().unwrap(), float);
        let back = written["float"].as_f64().unwrap();
        prop_assert!((back - float).abs() <= float.abs() * 1e-15, "{back} vs {float}");
        for (key, original) in map.iter().filter(|(k, _)| *k != "float") {
            let got = &written[key];
            match original {
                Value::Null => prop_assert_eq!(got, &json!("null")),
                Value::Array(_) | Value::Object(_) => {
                    let inner: Value = serde_json::from_str(got.as_str().unwrap()).unwrap();
                    prop_assert!(same(&inner, original), "{key}: {inner} vs {original}");
                }
                _ => prop_assert!(same(got, original)),
            }
        }
        let heka = mozlog::heka_fields(&map);
        prop_assert!(heka.keys().eq(written.keys()));
    }
}

/// `Timestamp` is the integer ms x 1,000,000 written out, for any ms.
#[test]
fn timestamp_is_ms_times_a_million() {
    for (ms, want) in [
        (0_i64, "0"),
        (1, "1000000"),
        (-5, "-5000000"),
        (1_551_700_123_456, "1551700123456000000"),
        (i64::MAX, "9223372036854775807000000"),
        (i64::MIN, "-9223372036854775808000000"),
    ] {
        let record = Record {
            timestamp_ms: ms,
            logger: "app",
            type_name: "op",
            hostname: None,
            severity: Severity::Info,
            pid: 1,
            fields: None,
        };
        let line = mozlog::format_line(&record);
        assert!(
            line.starts_with(&format!("{{\"Timestamp\":{want},")),
            "{ms}: {line}"
        );
    }
}
