//! The requests of the `handle` benchmark, shared with the allocation test
//! (`benches/handle.rs` and `tests/allocations.rs` include this file): a realistic content-server body (10 events,
//! flow data valid, a sampled user) and a payments body, with their collectors.

use metricsmith_collector::{Collector, Config, Location, Request};

/// When the requests are received.
pub const RECEIVED: i64 = 1_554_499_308_559;

/// The collector of an FxA schema file.
pub fn collector(service: &str, version: &str) -> Collector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/fxa/").to_owned() + service;
    let checked = match metricsmith_codegen::load(&path) {
        Ok(checked) => checked,
        Err(report) => panic!("{report}"),
    };
    let Some(service) = checked.model.services.values().next() else {
        panic!("no service in {path}");
    };
    match Collector::new(service, Config::new("S3CR37", version)) {
        Ok(collector) => collector,
        Err(e) => panic!("{e}"),
    }
}

/// A POST of `body` to `/metrics` from Firefox 66 on Windows.
pub fn request(body: String) -> Request {
    Request {
        method: "POST".to_owned(),
        path: "/metrics".to_owned(),
        headers: vec![
            ("host".to_owned(), "accounts.firefox.com".to_owned()),
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

/// The content server's body: 10 events, flow data valid, a sampled user.
pub fn content_body() -> String {
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

/// Where geolocation places the content request.
pub fn location() -> Location {
    Location {
        country: Some("Germany".to_owned()),
        state: Some("Bavaria".to_owned()),
    }
}

/// The payments server's request: 2 events.
pub fn payments_request() -> Request {
    request(
        r#"{"events":[{"offset":1,"type":"amplitude.subPaySetup.view"},{"offset":2,"type":"amplitude.subPaySetup.engage"}],
"data":{"deviceId":"0123456789abcdef0123456789abcdef","flowBeginTime":"1570000000000","planId":"plan_x","productId":"prod_x"}}"#
            .to_owned(),
    )
}
