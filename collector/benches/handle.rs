//! `Collector::handle` on a realistic content-server body (10 events, flow data valid, a
//! sampled user) and on a payments body: the core of `serve` without HTTP.
//!
//! `cargo bench -p metricsmith-collector --profile measure --bench handle`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
#[path = "support/requests.rs"]
mod requests;

use requests::{RECEIVED, collector, content_body, location, payments_request, request};

// The allocator of the `metricsmith` binary, which runs `collect` and `serve`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn handle(c: &mut Criterion) {
    let content = collector("content-server.yaml", "1.134.0");
    let content_request = request(content_body());
    let location = location();
    let outcome = content.handle(&content_request, RECEIVED, Some(&location));
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    assert_eq!(outcome.log.len(), 8, "amplitude events of the body");
    c.bench_function("content, 10 events, flow valid, sampled", |b| {
        b.iter(|| content.handle(black_box(&content_request), RECEIVED, Some(&location)));
    });

    let payments = collector("payments-server.yaml", "1.148.4");
    let payments_request = payments_request();
    assert_eq!(
        payments.handle(&payments_request, RECEIVED, None).log.len(),
        2
    );
    c.bench_function("payments, 2 events", |b| {
        b.iter(|| payments.handle(black_box(&payments_request), RECEIVED, None));
    });
}

criterion_group!(benches, handle);
criterion_main!(benches);
