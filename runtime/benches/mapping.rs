//! Mapping throughput as the number of regex rules grows (issue 6) and for a mix of exact hits,
//! rule hits and misses (issue 4).
//!
//! The spec is built here, like the synthetic schema of `metricsmith-bench synth`: rule `r`
//! is `^aRRRR\.(obj[0-9]{5})\.(view|submit|engage|fail)$` (distinct, anchored, two captures),
//! and 200 exact names `xNNN.done`. The layout is FxA's, so `transform` builds a realistic
//! amplitude event.
//!
//! `resolve` is the name lookup alone (one hash lookup, then one leftmost-first multi-pattern
//! search); `transform` is the whole event as a `serde_json::Map`, `*_to_json` the same event
//! written as JSON bytes into a reused buffer (`Mapping::transform_to`, what `metricsmith map`
//! does). Throughput is in events, so criterion reports events per second.
//!
//! `line/*` is the line path of `metricsmith map` and the services, stage by stage: reading
//! lines from a buffer, parsing each into a reused `line::Doc`, and parsing plus mapping
//! (`Mapping::transform_view_to` on the parsed data, output into a reused buffer), for lines of
//! the mix below. Throughput is in lines.
//!
//! Run: `cargo bench -p metricsmith --bench mapping` (add `-- resolve`, `-- transform`,
//! `-- mix` or `-- line` to filter).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use metricsmith::amplitude::{
    Capture, Encoding, Env, Field, GroupExpr, Layout, Mapping, MappingSpec, Matched, OauthClients,
    Part, Rule, ServiceRule, Source, SourceEvent, Target,
};
use metricsmith::line::{Doc, Reader};
use metricsmith::view::JsonRef;
use serde_json::{Map, Value};

const RULE_COUNTS: [usize; 3] = [10, 100, 1000];
const EXACT_NAMES: usize = 200;

fn rule_name(rule: usize, action: &str) -> String {
    format!("a{rule:04}.obj{:05}.{action}", rule * 4 + 1)
}

/// FxA's layout (schema/fxa/common/amplitude.yaml) without device counts.
fn layout() -> Layout {
    Layout {
        fields: vec![
            Field::new("user_id", Source::data("uid")),
            Field::new("device_id", Source::data("deviceId")),
            Field::new("session_id", Source::data("flowBeginTime")),
            Field::new("app_version", Source::AppVersion),
            Field::new("language", Source::data("lang")),
            Field::new("country", Source::data("country")),
            Field::new("region", Source::data("region")),
            Field::new("os_name", Source::data("os")),
            Field::new("os_version", Source::data("osVersion")),
        ],
        service: Some(ServiceRule {
            data: "service".to_owned(),
            ignore: vec!["content-server".to_owned()],
            passthrough: vec!["sync".to_owned()],
            unknown: "undefined_oauth".to_owned(),
        }),
        event_properties: vec![
            Field::new("service", Source::ServiceName),
            Field::new("oauth_client_id", Source::OauthClientId),
        ],
        user_properties: vec![
            Field::new("entrypoint", Source::data("entrypoint")),
            Field::new("flow_id", Source::data("flowId")),
            Field::new("ua_browser", Source::data("browser")),
            Field::new("ua_version", Source::data("browserVersion")),
            Field::new("utm_campaign", Source::data("utm_campaign")),
        ],
        append: vec![
            Field::new("fxa_services_used", Source::ServiceName),
            Field::new("experiments", Source::Experiments("experiments".to_owned())),
        ],
        ..Layout::default()
    }
}

fn spec(rules: usize) -> MappingSpec {
    let exact = (0..EXACT_NAMES)
        .map(|i| {
            (
                format!("x{i:03}.done"),
                vec![Target::fixed("bench_login", "done")],
            )
        })
        .collect();
    let rules = (0..rules)
        .map(|r| Rule {
            pattern: format!(r"^a{r:04}\.(obj[0-9]{{5}})\.(view|submit|engage|fail)$"),
            targets: vec![Target::new(
                GroupExpr::Fixed("bench_engagement".to_owned()),
                vec![
                    Part::Capture(Capture::Category),
                    Part::text("_"),
                    Part::Capture(Capture::Target),
                ],
            )],
        })
        .collect();
    MappingSpec {
        service: "bench".to_owned(),
        exact,
        rules,
        layout: layout(),
        ..MappingSpec::default()
    }
}

fn data_bag() -> Map<String, Value> {
    let json = serde_json::json!({
        "uid": "0123456789abcdef0123456789abcdef",
        "deviceId": "fedcba9876543210fedcba9876543210",
        "flowBeginTime": 1_551_700_000_000_i64,
        "flowId": "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
        "lang": "en-US",
        "country": "United States",
        "region": "California",
        "os": "Windows",
        "osVersion": "10",
        "browser": "Firefox",
        "browserVersion": "65.0",
        "service": "dcdb5ae7add825d2",
    });
    match json {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The four paths: name, and what it must resolve to (checked once, outside the timing).
fn cases(rules: usize) -> [(&'static str, String, Option<Matched>); 4] {
    [
        ("exact", "x150.done".to_owned(), Some(Matched::Exact(150))),
        ("rule_early", rule_name(0, "submit"), Some(Matched::Rule(0))),
        (
            "rule_late",
            rule_name(rules - 1, "submit"),
            Some(Matched::Rule(rules - 1)),
        ),
        // Same shape as a rule hit, but no rule's area.
        ("miss", rule_name(rules + 7, "submit"), None),
    ]
}

fn criterion() -> Criterion {
    // Short runs: the machine has 2 cores shared with builds; see docs/performance.md.
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

fn resolve(c: &mut Criterion) {
    let mut group = c.benchmark_group("mapping/resolve");
    group.throughput(Throughput::Elements(1));
    for rules in RULE_COUNTS {
        let mapping = Mapping::new(spec(rules)).expect("the bench spec compiles");
        for (case, name, expected) in cases(rules) {
            assert_eq!(
                mapping.resolve(&name),
                expected,
                "{case} with {rules} rules"
            );
            group.bench_with_input(BenchmarkId::new(case, rules), &name, |b, name| {
                b.iter(|| mapping.resolve(black_box(name)));
            });
        }
    }
    group.finish();
}

fn transform(c: &mut Criterion) {
    let clients: OauthClients = HashMap::from([("dcdb5ae7add825d2".to_owned(), "amo".to_owned())]);
    let env = Env {
        oauth_clients: &clients,
        app_version: Some("134"),
        now_ms: 1_551_700_200_000,
    };
    let data = data_bag();
    let time = Value::from(1_551_700_123_456_i64);
    let mut group = c.benchmark_group("mapping/transform");
    group.throughput(Throughput::Elements(1));
    for rules in RULE_COUNTS {
        let mapping = Mapping::new(spec(rules)).expect("the bench spec compiles");
        for (case, name, expected) in cases(rules) {
            let name = Value::String(name);
            let event = SourceEvent {
                name: Some(&name),
                time: Some(&time),
            };
            let produced = mapping.transform(event, &data, &env).len();
            assert_eq!(produced, usize::from(expected.is_some()), "{case}");
            group.bench_function(BenchmarkId::new(case, rules), |b| {
                b.iter(|| mapping.transform(black_box(event), black_box(&data), &env));
            });
            let mut out = Vec::with_capacity(1024);
            group.bench_function(BenchmarkId::new(format!("{case}_to_json"), rules), |b| {
                b.iter(|| {
                    out.clear();
                    mapping.transform_to(
                        black_box(event),
                        black_box(&data),
                        &env,
                        Encoding::Json,
                        &mut out,
                    )
                });
            });
        }
    }
    group.finish();

    // Issue 4's mix: 30% exact hits, 50% rule hits (spread over all rules), 20% misses.
    let mut group = c.benchmark_group("mapping/mix");
    for rules in RULE_COUNTS {
        let mapping = Mapping::new(spec(rules)).expect("the bench spec compiles");
        let names: Vec<Value> = (0..100)
            .map(|i| {
                let name = match i % 10 {
                    0..=2 => format!("x{:03}.done", (i * 37) % EXACT_NAMES),
                    3..=7 => rule_name((i * 7919) % rules, "view"),
                    _ => format!("zz.unmapped{i:03}.view"),
                };
                Value::String(name)
            })
            .collect();
        group.throughput(Throughput::Elements(names.len() as u64));
        group.bench_function(BenchmarkId::new("transform", rules), |b| {
            b.iter(|| {
                let mut produced = 0;
                for name in &names {
                    let event = SourceEvent {
                        name: Some(name),
                        time: Some(&time),
                    };
                    produced += mapping.transform(black_box(event), &data, &env).len();
                }
                produced
            });
        });
        // The same events with the data bag and the names as views into parsed lines.
        let lines: Vec<String> = names
            .iter()
            .map(|name| {
                serde_json::json!({"event": {"type": name, "time": time}, "data": data}).to_string()
            })
            .collect();
        let mut docs: Vec<Doc> = lines.iter().map(|_| Doc::new()).collect();
        let parsed: Vec<_> = docs
            .iter_mut()
            .zip(&lines)
            .map(|(doc, line)| doc.parse(line).expect("bench lines are JSON"))
            .collect();
        let mut out = Vec::with_capacity(1024);
        group.bench_function(BenchmarkId::new("transform_view_to_json", rules), |b| {
            b.iter(|| {
                let mut produced = 0;
                for line in &parsed {
                    let root = line.root();
                    let (Some(event), Some(data)) = (root.get("event"), root.get("data")) else {
                        continue;
                    };
                    out.clear();
                    produced += mapping.transform_view_to(
                        black_box(event.get("type")),
                        event.get("time"),
                        data,
                        &env,
                        Encoding::Json,
                        &mut out,
                    );
                }
                produced
            });
        });
        group.bench_function(BenchmarkId::new("transform_to_json", rules), |b| {
            b.iter(|| {
                let mut produced = 0;
                for name in &names {
                    let event = SourceEvent {
                        name: Some(name),
                        time: Some(&time),
                    };
                    out.clear();
                    produced += mapping.transform_to(
                        black_box(event),
                        &data,
                        &env,
                        Encoding::Json,
                        &mut out,
                    );
                }
                produced
            });
        });
    }
    group.finish();
}

/// The line path stage by stage on lines of the mix (100 rules).
fn line(c: &mut Criterion) {
    let clients: OauthClients = HashMap::from([("dcdb5ae7add825d2".to_owned(), "amo".to_owned())]);
    let env = Env {
        oauth_clients: &clients,
        app_version: Some("134"),
        now_ms: 1_551_700_200_000,
    };
    let rules = 100;
    let mapping = Mapping::new(spec(rules)).expect("the bench spec compiles");
    let data = data_bag();
    let input: String = (0..1000)
        .map(|i| {
            let name = match i % 10 {
                0..=2 => format!("x{:03}.done", (i * 37) % EXACT_NAMES),
                3..=7 => rule_name((i * 7919) % rules, "view"),
                _ => format!("zz.unmapped{i:03}.view"),
            };
            let line = serde_json::json!({"event": {"type": name, "time": 1_551_700_123_456_i64}, "data": data});
            format!("{line}\n")
        })
        .collect();
    let lines: Vec<&str> = input.lines().collect();
    let mut group = c.benchmark_group("line");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("read", |b| {
        b.iter(|| {
            let mut reader = Reader::new(black_box(input.as_bytes()));
            let mut bytes = 0;
            while let Ok(Some(line)) = reader.next_line() {
                bytes += line.text.len();
            }
            bytes
        });
    });
    let mut doc = Doc::new();
    group.bench_function("parse", |b| {
        b.iter(|| {
            let mut nodes = 0;
            for line in &lines {
                if let Ok(parsed) = doc.parse(black_box(line)) {
                    nodes += parsed.root().len();
                }
            }
            nodes
        });
    });
    // `metricsmith map` parses without key indexes: the transform walks each data bag once.
    let mut doc = Doc::unindexed();
    group.bench_function("parse_unindexed", |b| {
        b.iter(|| {
            let mut nodes = 0;
            for line in &lines {
                if let Ok(parsed) = doc.parse(black_box(line)) {
                    nodes += parsed.root().len();
                }
            }
            nodes
        });
    });
    let mut out = Vec::with_capacity(1 << 20);
    group.bench_function("parse_map_write", |b| {
        b.iter(|| {
            out.clear();
            let mut produced = 0;
            for line in &lines {
                let Ok(parsed) = doc.parse(black_box(line)) else {
                    continue;
                };
                let root = parsed.root();
                let (Some(event), Some(data)) = (root.get("event"), root.get("data")) else {
                    continue;
                };
                produced += mapping.transform_view_to(
                    event.get("type"),
                    event.get("time"),
                    data,
                    &env,
                    Encoding::Json,
                    &mut out,
                );
                out.push(b'\n');
            }
            produced
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = resolve, transform, line
}
criterion_main!(benches);
