//! Schema evolution: `diff` of two 8,000-event synthetic schemas, and `live-check` lines per
//! second on lines of that schema.
//!
//! `cargo bench -p metricsmith-cli --bench evolution`

// Benchmark setup: a failed unwrap is a broken benchmark, reported with its message.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use metricsmith::line::Reader;
use metricsmith_bench::{Shape, schema};
use metricsmith_cli::live_check::Checker;
use metricsmith_codegen::model::FlowKind;
use metricsmith_codegen::{Date, Loader, Model};

const EVENTS: usize = 8_000;

fn load(path: &Path, facts: bool) -> Model {
    let mut loader = Loader::new();
    loader
        .today(Date {
            year: 2026,
            month: 1,
            day: 1,
        })
        .facts(facts);
    loader.load(path).unwrap().model
}

/// The synthetic schema, and an edit of it: two rules swapped (they never overlap: no
/// change), one rule narrowed, one event renamed, one table entry changed.
fn schemas(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let text = schema::render(&Shape::new(EVENTS, 5));
    let rules = text.find("  rules:\n").unwrap() + "  rules:\n".len();
    let (head, tail) = text.split_at(rules);
    let blocks: Vec<&str> = tail.split("    - pattern:").collect();
    let mut edited = head.to_owned();
    edited.push_str(blocks[0]);
    for i in [2, 1] {
        let _ = write!(edited, "    - pattern:{}", blocks[i]);
    }
    for block in &blocks[3..] {
        let _ = write!(edited, "    - pattern:{block}");
    }
    let edited = edited
        .replacen(r"^a0003\.(obj[0-9]{5})", r"^a0003\.(obj[0-9]{4}1)", 1)
        .replacen("  a0000.obj00001.submit:", "  a0000.obj00001.submitted:", 1);
    assert_ne!(edited, text);
    let (old, new) = (dir.join("old.yaml"), dir.join("new.yaml"));
    std::fs::write(&old, text).unwrap();
    std::fs::write(&new, edited).unwrap();
    (old, new)
}

fn diff(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("metricsmith-bench-diff-{}", std::process::id()));
    let (old, new) = schemas(&dir);
    let (a, b) = (load(&old, false), load(&new, false));
    let report = metricsmith_codegen::diff::diff(&a, &b, &[]);
    assert!(report.breaking());
    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    group.bench_function("8000 events, models loaded", |bench| {
        bench.iter(|| metricsmith_codegen::diff::diff(black_box(&a), black_box(&b), &[]));
    });
    group.bench_function("8000 events, load both and diff", |bench| {
        bench.iter(|| {
            let (a, b) = (load(&old, false), load(&new, false));
            metricsmith_codegen::diff::diff(&a, &b, &[])
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

/// One mozlog line per event of the model, from its example data, as activity or flow lines.
fn lines(model: &Model) -> String {
    let mut out = String::new();
    for service in model.services.values() {
        let logger = service.mozlog.as_ref().unwrap().logger.clone();
        for event in service.events.values() {
            let ty = if event.kinds.activity {
                "activityEvent"
            } else if event.kinds.flow != FlowKind::None {
                "flowEvent"
            } else {
                "emailEvent"
            };
            let mut fields = serde_json::Map::new();
            fields.insert("event".into(), event.name.clone().into());
            fields.extend(event.example.data.clone());
            let line = serde_json::json!({
                "Timestamp": 1_551_700_123_460_000_000_u64, "Logger": logger, "Type": ty,
                "Severity": 6, "Pid": 4242, "EnvVersion": "2.0", "Fields": fields,
            });
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

fn live_check(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("metricsmith-bench-live-{}", std::process::id()));
    let (old, _) = schemas(&dir);
    let model = load(&old, true);
    let input = lines(&model);
    let count = input.lines().count() as u64;
    let mut checker = Checker::new(&model, 3);
    let mut reader = Reader::new(input.as_bytes());
    let mut n = 0;
    while let Some(line) = reader.next_line().unwrap() {
        n += 1;
        checker.line(&line, n);
    }
    // The lines are valid: the benchmark measures the common case.
    assert!(
        checker.tally().violations.is_empty(),
        "{}",
        checker.to_text()
    );
    let mut group = c.benchmark_group("live-check");
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.bench_function("8000 events, one line each", |bench| {
        // The checker is built once (it compiles the schema's patterns), as a run builds it.
        bench.iter(|| {
            let mut reader = Reader::new(input.as_bytes());
            let mut n = 0;
            while let Some(line) = reader.next_line().unwrap() {
                n += 1;
                checker.line(&line, n);
            }
            black_box(checker.tally().lines)
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

criterion_group!(benches, diff, live_check);
criterion_main!(benches);
