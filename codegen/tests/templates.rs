//! User templates (`Builder::templates`): the example templates of `codegen/templates/` over the
//! FxA schema give the checked-in golden files, and template errors are diagnostics at the
//! template's line.

use std::path::{Path, PathBuf};

use metricsmith_codegen::{Builder, Code, Error};

/// The command that rewrites the golden files.
const BLESS: &str = "METRICSMITH_BLESS=1 cargo test -p metricsmith-codegen --test templates";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "metricsmith-templates-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

#[track_caller]
fn render(templates: &Path) -> Result<Vec<(String, String)>, Error> {
    let generated = Builder::new()
        .schema("../schema/fxa")
        .code(false)
        .templates(templates)
        .generate()?;
    Ok(generated
        .files
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect())
}

#[test]
fn example_templates_match_their_golden_files() {
    let rendered = render(Path::new("templates")).expect("the example templates render");
    let names: Vec<&str> = rendered.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(names, ["data-dictionary.csv", "events.d.ts"]);
    let golden = Path::new("tests/golden/templates");
    let bless = std::env::var_os("METRICSMITH_BLESS").is_some();
    for (name, text) in &rendered {
        let path = golden.join(name);
        if bless {
            std::fs::create_dir_all(golden).expect("golden dir");
            std::fs::write(&path, text).expect("golden file");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            want == *text,
            "{} differs from what codegen/templates/{name}.tera renders; if the change is \
             intended, rewrite it with:\n\n    {BLESS}\n",
            path.display()
        );
    }
}

#[test]
fn the_data_dictionary_lists_amplitude_events_with_their_sources() {
    let rendered = render(Path::new("templates")).expect("the example templates render");
    let csv = &rendered[0].1;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("service,amplitude_event,source_events"));
    // Every row has three fields, and the events come from the lowering's examples.
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 20, "{} rows", rows.len());
    assert!(
        rows.iter()
            .any(|r| r.starts_with("auth-server,fxa_login - success,")),
        "{csv}"
    );
    for row in &rows {
        assert_eq!(row.split(',').count(), 3, "{row}");
    }
}

#[test]
fn the_view_is_versioned() {
    let dir = scratch("version");
    std::fs::write(
        dir.join("version.txt.tera"),
        "{{ view_version }} {{ schema_format }} {{ services | length }}",
    )
    .expect("template");
    let rendered = render(&dir).expect("renders");
    assert_eq!(rendered, [("version.txt".to_owned(), "1 1 4".to_owned())]);
}

#[test]
fn every_template_error_is_a_diagnostic_at_its_line() {
    let dir = scratch("errors");
    // A syntax error on line 3 of one template, and one that would render.
    std::fs::write(
        dir.join("broken.txt.tera"),
        "line one\nline two\n{% for s in services %}{{ s.name }\n{% endfor %}\n",
    )
    .expect("template");
    std::fs::write(dir.join("fine.txt.tera"), "{{ view_version }}").expect("template");
    let err = render(&dir).expect_err("a syntax error");
    let Error::Template { report, rendered } = err else {
        panic!("not a template error: {err}");
    };
    assert_eq!(report.diagnostics.len(), 1, "{rendered}");
    assert_eq!(report.diagnostics[0].code, Code::Template);
    assert!(rendered.contains("broken.txt.tera:3:"), "{rendered}");
    assert!(rendered.contains("E0030"), "{rendered}");

    // A rendering error: a field the view does not have, on line 2.
    std::fs::remove_file(dir.join("broken.txt.tera")).expect("remove");
    std::fs::write(
        dir.join("missing.txt.tera"),
        "{% for s in services %}\n{{ s.no_such_field }}\n{% endfor %}\n",
    )
    .expect("template");
    let err = render(&dir).expect_err("a rendering error");
    let Error::Template { rendered, .. } = err else {
        panic!("not a template error: {err}");
    };
    assert!(rendered.contains("missing.txt.tera:2:"), "{rendered}");
    assert!(rendered.contains("fails to render"), "{rendered}");
}

#[test]
fn a_missing_template_directory_is_a_read_error() {
    let dir = scratch("missing").join("nowhere");
    let err = render(&dir).expect_err("no directory");
    assert!(matches!(err, Error::Read { .. }), "{err}");
}
