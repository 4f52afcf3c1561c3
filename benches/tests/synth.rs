//! The synthetic schema is a valid metricsmith schema with no diagnostic at all, and the
//! generator is deterministic.

use std::fs;
use std::path::PathBuf;

use metricsmith_bench::{Shape, glean, lines, schema};
use metricsmith_codegen::{Loader, Style};

/// A fresh directory under the target dir for one test.
#[track_caller]
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("the target dir is writable");
    dir
}

#[test]
fn synthetic_schemas_check_without_diagnostics() {
    let shapes = [
        Shape::new(1, 0),
        Shape::new(100, 5),
        Shape::new(237, 12),
        Shape {
            events: 200,
            properties: 3,
            rules: 0,
        },
        Shape {
            events: 60,
            properties: 2,
            rules: 7,
        },
    ];
    let dir = scratch("synth-check");
    for shape in shapes {
        let path = dir.join(format!(
            "bench-{}-{}-{}.yaml",
            shape.events, shape.properties, shape.rules
        ));
        fs::write(&path, schema::render(&shape)).expect("the scratch dir is writable");
        let checked = match Loader::new().load(&path) {
            Ok(checked) => checked,
            Err(report) => panic!("{shape:?} has errors:\n{}", report.render(Style::Plain)),
        };
        assert!(
            checked.report.diagnostics.is_empty(),
            "{shape:?} has diagnostics:\n{}",
            checked.report.render(Style::Plain)
        );
        let service = checked.model.services.values().next();
        assert!(service.is_some(), "{shape:?} declares its service");
    }
}

#[test]
fn output_is_deterministic() {
    let shape = Shape::new(120, 5);
    assert_eq!(schema::render(&shape), schema::render(&shape));
    assert_eq!(glean::render(&shape), glean::render(&shape));
    let mut a = Vec::new();
    let mut b = Vec::new();
    lines::write(&shape, 50, &mut a).expect("writing to memory");
    lines::write(&shape, 50, &mut b).expect("writing to memory");
    assert_eq!(a, b);
}

#[test]
fn glean_file_has_one_metric_per_event_with_every_required_field() {
    let shape = Shape::new(45, 5);
    let text = glean::render(&shape);
    assert!(text.contains("$schema: moz://mozilla.org/schemas/glean/metrics/2-0-0"));
    for field in [
        "type: event",
        "bugs:",
        "data_reviews:",
        "notification_emails:",
        "expires: never",
        "extra_keys:",
    ] {
        assert_eq!(text.matches(field).count(), 45, "{field}");
    }
    // One category per 20 events.
    assert_eq!(text.matches("\nbench.a").count(), 3);
}

#[test]
fn lines_are_one_json_object_per_line_and_mix_the_classes() {
    let shape = Shape::new(200, 5);
    let mut out = Vec::new();
    lines::write(&shape, 100, &mut out).expect("writing to memory");
    let text = String::from_utf8(out).expect("ASCII output");
    let names: Vec<&str> = text
        .lines()
        .map(|line| {
            assert!(
                line.starts_with(r#"{"event":{"type":""#) && line.ends_with("}}"),
                "{line}"
            );
            line.split('"')
                .nth(5)
                .expect("the type is the third string")
        })
        .collect();
    assert_eq!(names.len(), 100);
    let exact = names.iter().filter(|n| n.ends_with(".success")).count();
    let misses = names.iter().filter(|n| n.starts_with("zz.")).count();
    assert_eq!(exact, 30);
    assert_eq!(misses, 20);
}
