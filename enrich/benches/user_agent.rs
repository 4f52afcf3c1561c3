//! User-agent parsing: uap-core's regexes without the cache, and the cache's hit path.
//!
//! `cargo bench -p metricsmith-enrich --profile measure --bench user_agent`

use criterion::{Criterion, criterion_group, criterion_main};
use metricsmith_enrich::UserAgentParser;
use std::hint::black_box;

/// Real user agents of the kind FxA saw (from the conformance corpus).
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:66.0) Gecko/20100101 Firefox/66.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:66.0) Gecko/20100101 Firefox/66.0",
    "Mozilla/5.0 (Android 9; Mobile; rv:68.0) Gecko/68.0 Firefox/68.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/16.0 Mobile/15E148 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/73.0.3683.86 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 9; SAMSUNG SM-G960U) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/9.0 Chrome/67.0.3396.87 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
];

fn parse(c: &mut Criterion) {
    let parser = match UserAgentParser::new() {
        Ok(parser) => parser,
        Err(e) => panic!("{e}"),
    };
    c.bench_function("uap-core, uncached, 10 agents", |b| {
        b.iter(|| {
            for agent in AGENTS {
                black_box(parser.parse_uncached(black_box(agent)));
            }
        });
    });
    c.bench_function("cache hit, 10 agents", |b| {
        b.iter(|| {
            for agent in AGENTS {
                black_box(parser.parse(black_box(agent)));
            }
        });
    });
    c.bench_function("build the parser", |b| {
        b.iter(|| black_box(UserAgentParser::new().is_ok()));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = parse
}
criterion_main!(benches);
