//! Parse and validate a synthetic 2,000-event schema (plus families and an Amplitude mapping).
//!
//! `cargo bench -p metricsmith-codegen --bench frontend`

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use metricsmith_codegen::{Date, Loader};

const EVENTS: usize = 2_000;

fn schema() -> String {
    let mut text = String::from(
        "metricsmith: 1\nservice: bench\ndescription: A synthetic schema.\n\
         defaults:\n  owners: [a@example.com]\n  bugs: ['https://bugs.example/1']\n  \
         data_reviews: ['https://reviews.example/1']\n  expires: never\n\
         mozlog: {logger: bench, stream: stdout}\n\
         properties:\n  uid: {type: hex, length: 32, sensitivity: identifier, description: The uid.}\n  \
         service: {type: string, pattern: '^(?:sync|[0-9a-f]{16})$', max_length: 32, description: The service.}\n\
         events:\n",
    );
    let kinds = [
        "[activity, flow]",
        "[flow]",
        "[activity, not-flow]",
        "[email, flow]",
    ];
    for i in 0..EVENTS {
        let _ = write!(
            text,
            "  area{a}.thing{i}.done:\n    description: Event number {i}.\n    kinds: {k}\n    \
             properties:\n      uid: {{required: true}}\n      service: {{}}\n      \
             count{i}: {{type: integer, min: 0, max: 100, description: A count.}}\n",
            a = i % 20,
            k = kinds[i % kinds.len()],
        );
    }
    text.push_str("families:\n");
    for i in 0..20 {
        let _ = write!(
            text,
            "  family{i}:\n    name: 'family{i}.{{view}}.engage'\n    description: Family {i}.\n    \
             kinds: [flow]\n    parameters:\n      view: {{type: string, pattern: '^[a-z-]+$', description: The view.}}\n"
        );
    }
    text.push_str(
        "amplitude:\n  groups:\n    login: {prefix: fxa_login, description: Sign-in.}\n    \
         reg: {prefix: fxa_reg, description: Sign-up.}\n  tables:\n    views:\n      \
         description: View to group.\n      values: group\n      entries: {signin: login, signup: reg}\n  \
         exact:\n",
    );
    for i in 0..200 {
        let _ = writeln!(
            text,
            "    area{a}.thing{i}.done: {{group: login, event: thing{i}}}",
            a = i % 20
        );
    }
    text.push_str("  rules:\n");
    for a in 0..20 {
        let _ = write!(
            text,
            "    - pattern: '^area{a}\\.(\\w+)\\.done$'\n      group: reg\n      event: '{{category}}'\n"
        );
    }
    text.push_str(
        "    - pattern: '^flow\\.([\\w-]+)\\.engage$'\n      group: 'views[category]'\n      event: engage\n",
    );
    text
}

fn frontend(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("metricsmith-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bench.yaml");
    std::fs::write(&path, schema()).expect("write schema");
    let mut loader = Loader::new();
    loader.today(Date {
        year: 2026,
        month: 1,
        day: 1,
    });
    let checked = loader
        .load(&path)
        .unwrap_or_else(|report| panic!("{report}"));
    assert_eq!(checked.model.services["bench"].events.len(), EVENTS);
    assert!(
        checked
            .report
            .diagnostics
            .iter()
            .all(|d| d.code.as_str().starts_with('I')),
        "{}",
        checked.report
    );
    let text = std::fs::read_to_string(&path).expect("read");
    let source = metricsmith_codegen::SourceFile::new("bench.yaml", text);
    c.bench_function("yaml only (IgnoredAny)", |b| {
        b.iter(|| black_box(serde_saphyr::from_str::<serde::de::IgnoredAny>(&source.text).is_ok()))
    });
    c.bench_function("parse only", |b| {
        b.iter(|| {
            black_box(
                metricsmith_codegen::parse::parse_file(metricsmith_codegen::FileId(0), &source)
                    .1
                    .len(),
            )
        })
    });
    let rules: Vec<String> = checked.model.services["bench"]
        .amplitude
        .rules
        .iter()
        .map(|r| r.rust_pattern.clone())
        .collect();
    let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
    c.bench_function("shadow only", |b| {
        b.iter(|| black_box(metricsmith_codegen::shadow::analyse(&rules).map(|r| r.len())))
    });
    c.bench_function("parse+validate 2000 events", |b| {
        b.iter(|| black_box(loader.load(&path).map(|c| c.model.services.len())))
    });
}

/// CPU time of this process (user + system) in milliseconds, from `/proc/self/stat` (Linux),
/// which a loaded machine inflates much less than wall-clock time.
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(ticks * 10.0)
}

/// `METRICSMITH_CPU_TIME=1 cargo bench -p metricsmith-codegen --bench frontend` also prints the
/// CPU time per parse+validate.
fn cpu_time(_: &mut Criterion) {
    if std::env::var_os("METRICSMITH_CPU_TIME").is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("metricsmith-bench-cpu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bench.yaml");
    std::fs::write(&path, schema()).expect("write schema");
    let loader = Loader::new();
    let runs = 40;
    let (Some(before), wall) = (cpu_ms(), std::time::Instant::now()) else {
        return;
    };
    for _ in 0..runs {
        black_box(loader.load(&path).map(|c| c.model.services.len()).ok());
    }
    if let Some(after) = cpu_ms() {
        println!(
            "parse+validate 2000 events: {:.1} ms CPU, {:.1} ms wall per run ({runs} runs)",
            (after - before) / f64::from(runs),
            wall.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
        );
    }
}

criterion_group!(benches, frontend, cpu_time);
criterion_main!(benches);
