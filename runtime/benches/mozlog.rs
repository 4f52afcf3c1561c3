//! Formatting an amplitude mozlog line (spec §8.2 A01) into a reused buffer.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metricsmith::mozlog::{self, Record, Severity};
use serde_json::{Map, Value};

/// The A01 `account.confirmed` amplitude event, in FxA key order.
const A01: &str = r#"{"op":"amplitudeEvent","event_type":"fxa_login - email_confirmed","time":1551700123456,"user_id":"0123456789abcdef0123456789abcdef","device_id":"fedcba9876543210fedcba9876543210","session_id":1551700000000,"app_version":"134","language":"en-GB","country":"United Kingdom","region":"England","os_name":"Windows","os_version":"10","device_model":"melm","event_properties":{"service":"amo","oauth_client_id":"0"},"user_properties":{"flow_id":"1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef","ua_browser":"Firefox","ua_version":"65.0","$append":{"fxa_services_used":"amo"},"sync_device_count":0,"sync_active_devices_day":0,"sync_active_devices_week":0,"sync_active_devices_month":0}}"#;

fn format_amplitude_line(c: &mut Criterion) {
    let fields: Map<String, Value> = serde_json::from_str(A01).expect("A01 is a JSON object");
    let record = Record {
        timestamp_ms: 1_551_700_123_460,
        logger: "fxa-auth-server",
        type_name: "amplitudeEvent",
        hostname: None,
        severity: Severity::Info,
        pid: 4242,
        fields: Some(&fields),
    };
    let mut buf = Vec::with_capacity(1024);
    mozlog::write_line(&mut buf, &record);
    let bytes = buf.len();

    let mut group = c.benchmark_group("mozlog");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("amplitude_line_a01 ({bytes} bytes)"), |b| {
        b.iter(|| {
            buf.clear();
            mozlog::write_line(&mut buf, std::hint::black_box(&record));
            std::hint::black_box(buf.len())
        });
    });
    group.finish();
}

criterion_group!(benches, format_amplitude_line);
criterion_main!(benches);
