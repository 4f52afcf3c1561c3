//! How many times `Collector::handle` allocates per request once warm, on the body of the
//! `handle` benchmark (10 events, flow data valid, a sampled user) and on a payments body.
//!
//! `cargo test -p metricsmith-collector --test allocations -- --nocapture` prints the counts.

use std::hint::black_box;

#[path = "../benches/support/requests.rs"]
mod requests;

use requests::{RECEIVED, collector, content_body, location, payments_request, request};

const REQUESTS: u64 = 50;

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
    let location = location();
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
    let payments_request = payments_request();
    assert_eq!(
        payments.handle(&payments_request, RECEIVED, None).log.len(),
        2
    );
    let (count, bytes) = allocations_per_request(|| {
        black_box(payments.handle(black_box(&payments_request), RECEIVED, None));
    });
    println!("payments, 2 events: {count} allocations ({bytes} bytes) per request");
    // 21 in a debug build.
    assert!(count <= 25, "{count} allocations per payments request");
}
