//! How many times `Collector::handle` allocates per request once warm, on the body of the
//! `handle` benchmark (10 events, flow data valid, a sampled user) and on a payments body.
//!
//! `cargo test -p metricsmith-collector --test allocations -- --nocapture` prints the counts.

use std::hint::black_box;

use metricsmith_collector::{Collector, Config, Location, Request};

const RECEIVED: i64 = 1_554_499_308_559;
const REQUESTS: u64 = 50;

fn collector(service: &str, version: &str) -> Collector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/fxa/").to_owned() + service;
    let checked = metricsmith_codegen::load(&path).expect("the FxA schema loads");
    let model = checked.model.services.values().next().expect("one service");
    Collector::new(model, Config::new("S3CR37", version)).expect("a collector")
}

fn request(body: String) -> Request {
    Request {
        method: "POST".to_owned(),
        path: "/metrics".to_owned(),
        headers: vec![
            (
                "user-agent".to_owned(),
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:66.0) Gecko/20100101 Firefox/66.0"
                    .to_owned(),
            ),
            (
                "accept-language".to_owned(),
                "de-DE,de;q=0.9,en;q=0.5".to_owned(),
            ),
            (
                "content-type".to_owned(),
                "text/plain;charset=UTF-8".to_owned(),
            ),
        ],
        body: body.into_bytes(),
    }
}

/// The body of `benches/handle.rs`.
fn content_body() -> String {
    let begin = RECEIVED - 600_000;
    let flow_id = metricsmith::flow_id::sign("S3CR37", "1234567890abcdef1234567890abcdef", begin);
    let names = [
        "flow.begin",
        "screen.enter-email",
        "flow.enter-email.engage",
        "flow.enter-email.submit",
        "screen.signin",
        "flow.signin.engage",
        "flow.signin.submit",
        "flow.timing.signin.1234",
        "screen.settings",
        "settings.change-password.success",
    ];
    let events: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!(r#"{{"offset":{},"type":"{n}"}}"#, i * 1000))
        .collect();
    format!(
        r#"{{"broker":"web","context":"web","deviceId":"0123456789abcdef0123456789abcdef","duration":20000,
"entrypoint":"menupanel","events":[{}],"experiments":[{{"choice":"emailFirst","group":"treatment"}}],
"flowBeginTime":{begin},"flowId":"{flow_id}","flushTime":{},"initialView":"enter-email","isSampledUser":true,
"lang":"de","marketing":[],"migration":"none","referrer":"https://www.mozilla.org/",
"screen":{{"clientHeight":900,"clientWidth":1440,"devicePixelRatio":2,"height":900,"width":1440}},
"service":"sync","startTime":{},"uid":"0123456789abcdef0123456789abcdef","uniqueUserId":"c31ec014-e07a-4e69-b5c4-8a771beaf77a",
"utm_campaign":"none","utm_content":"none","utm_medium":"none","utm_source":"none","utm_term":"none"}}"#,
        events.join(","),
        RECEIVED - 1000,
        RECEIVED - 25_000,
    )
}

/// The allocations per request of `handle`, after a few requests of warm-up.
fn allocations_per_request(handle: impl Fn()) -> (u64, u64) {
    for _ in 0..3 {
        handle();
    }
    let info = allocation_counter::measure(|| {
        for _ in 0..REQUESTS {
            handle();
        }
    });
    (info.count_total / REQUESTS, info.bytes_total / REQUESTS)
}

#[test]
fn a_warm_request_allocates_little_beyond_its_outcome() {
    let content = collector("content-server.yaml", "1.134.0");
    let content_request = request(content_body());
    let location = Location {
        country: Some("Germany".to_owned()),
        state: Some("Bavaria".to_owned()),
    };
    let outcome = content.handle(&content_request, RECEIVED, Some(&location));
    assert_eq!(
        (outcome.status, outcome.log.len()),
        (200, 8),
        "{}",
        outcome.body
    );
    let (count, bytes) = allocations_per_request(|| {
        black_box(content.handle(black_box(&content_request), RECEIVED, Some(&location)));
    });
    println!("content, 10 events: {count} allocations ({bytes} bytes) per request");
    // 73 in a debug build: the outcome's buffers as they grow, the data bag's strings from
    // the user agent and the location, the locale, the picked values of the flow lines and
    // the like, once per request; the body itself costs none once the thread's parse buffer
    // has grown (with the body parsed into serde_json values, 211).
    assert!(count <= 80, "{count} allocations per content request");

    let payments = collector("payments-server.yaml", "1.148.4");
    let payments_request = request(
        r#"{"events":[{"offset":1,"type":"amplitude.subPaySetup.view"},{"offset":2,"type":"amplitude.subPaySetup.engage"}],
"data":{"deviceId":"0123456789abcdef0123456789abcdef","flowBeginTime":"1570000000000","planId":"plan_x","productId":"prod_x"}}"#
            .to_owned(),
    );
    assert_eq!(
        payments.handle(&payments_request, RECEIVED, None).log.len(),
        2
    );
    let (count, bytes) = allocations_per_request(|| {
        black_box(payments.handle(black_box(&payments_request), RECEIVED, None));
    });
    println!("payments, 2 events: {count} allocations ({bytes} bytes) per request");
    // 22 in a debug build.
    assert!(count <= 25, "{count} allocations per payments request");
}
