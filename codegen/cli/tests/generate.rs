//! `metricsmith generate` and `metricsmith docs`: deterministic output, errors as reports.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metricsmith-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Every file under `dir`, relative path -> bytes, sorted.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let (Ok(rel), Ok(bytes)) = (path.strip_prefix(dir), std::fs::read(&path)) {
                out.push((rel.to_owned(), bytes));
            }
        }
    }
    out.sort();
    out
}

fn generate(out: &Path) {
    Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .current_dir(workspace())
        .args(["generate", "--schema", "schema/fxa", "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn generate_twice_gives_identical_bytes() {
    let (a, b) = (scratch("a"), scratch("b"));
    generate(&a);
    generate(&b);
    let (first, second) = (snapshot(&a), snapshot(&b));
    assert!(
        first
            .iter()
            .any(|(p, _)| p == Path::new("src/auth_server.rs"))
    );
    assert!(
        first
            .iter()
            .any(|(p, _)| p == Path::new("docs/auth-server-rules.md"))
    );
    assert!(
        first
            .iter()
            .any(|(p, _)| p == Path::new("docs/auth-server.amplitude-event.schema.json"))
    );
    assert_eq!(first, second);
    // And it is what generated/ holds.
    for (path, bytes) in &first {
        let checked_in = std::fs::read(workspace().join("generated").join(path));
        assert_eq!(
            checked_in.ok().as_ref(),
            Some(bytes),
            "generated/{} differs",
            path.display()
        );
    }
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn docs_writes_only_docs() {
    let out = scratch("docs");
    Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .current_dir(workspace())
        .args(["docs", "--schema", "schema/fxa/oauth-server.yaml", "--out"])
        .arg(&out)
        .assert()
        .success();
    let files: Vec<PathBuf> = snapshot(&out).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        files,
        [
            // What the next run removes when a service leaves the schema.
            ".metricsmith-generated",
            "README.md",
            "oauth-server-rules.md",
            "oauth-server.amplitude-event.schema.json",
            "oauth-server.md"
        ]
        .map(PathBuf::from)
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn schema_errors_are_rendered_reports() {
    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let schema = dir.join("bad.yaml");
    std::fs::write(&schema, "metricsmith: 1\nservice: svc\nevents:\n  a: [\n").expect("a schema");
    let output = Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .args(["generate", "--schema"])
        .arg(&schema)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("the command runs");
    assert_eq!(output.status.code(), Some(1), "schema errors exit 1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error[E"), "{stderr}");
    assert!(stderr.contains("bad.yaml:4:"), "{stderr}");
    assert!(!dir.join("out").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_schema_exits_2_with_its_path() {
    let dir = scratch("missing");
    let output = Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .args(["generate", "--schema"])
        .arg(dir.join("nope.yaml"))
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .expect("the command runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nope.yaml"), "{stderr}");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
}

#[test]
fn templates_render_next_to_the_crate_and_errors_exit_with_1() {
    let out = scratch("templates");
    Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .current_dir(workspace())
        .args([
            "generate",
            "--schema",
            "schema/fxa",
            "--templates",
            "codegen/templates",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let golden = workspace().join("codegen/tests/golden/templates");
    for name in ["data-dictionary.csv", "events.d.ts"] {
        assert_eq!(
            std::fs::read(out.join(name)).ok(),
            std::fs::read(golden.join(name)).ok(),
            "{name}"
        );
    }
    assert!(out.join("src/auth_server.rs").is_file());

    let broken = scratch("templates-broken");
    std::fs::create_dir_all(&broken).expect("scratch dir");
    std::fs::write(broken.join("broken.txt.tera"), "{{ services.0.name }\n").expect("template");
    let failed = scratch("templates-failed");
    let assert = Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .current_dir(workspace())
        .args(["generate", "--schema", "schema/fxa", "--templates"])
        .arg(&broken)
        .arg("--out")
        .arg(&failed)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("error[E0030]"), "{stderr}");
    assert!(stderr.contains("broken.txt.tera:1:"), "{stderr}");
    assert!(!failed.exists(), "nothing is written when a template fails");
    for dir in [&out, &broken] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Files of a service that left the schema go: the ones the last run listed, and modules with
/// metricsmith's header; a hand-written file stays.
#[test]
fn generate_removes_the_files_of_services_no_longer_generated() {
    let out = scratch("stale");
    generate(&out);
    let manifest = out.join(".metricsmith-generated");
    let listed = std::fs::read_to_string(&manifest).expect("generate lists its files");
    assert!(
        listed.lines().any(|l| l == "src/auth_server.rs"),
        "{listed}"
    );
    // A page an earlier run listed, a module with the header, and a hand-written module.
    std::fs::write(out.join("docs/old-server.md"), "# old-server\n").expect("writable");
    std::fs::write(&manifest, format!("{listed}docs/old-server.md\n")).expect("writable");
    let old_module = "// @generated by metricsmith from old-server.yaml. Do not edit.\n";
    std::fs::write(out.join("src/old_server.rs"), old_module).expect("writable");
    std::fs::write(out.join("src/hand.rs"), "// mine\n").expect("writable");
    let output = Command::cargo_bin("metricsmith")
        .expect("the metricsmith binary")
        .current_dir(workspace())
        .args(["generate", "--schema", "schema/fxa", "--out"])
        .arg(&out)
        .output()
        .expect("generate runs");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!out.join("docs/old-server.md").exists(), "{stderr}");
    assert!(!out.join("src/old_server.rs").exists(), "{stderr}");
    assert!(out.join("src/hand.rs").exists(), "{stderr}");
    assert!(
        stderr.contains("old-server.md (generated earlier, not by this schema)"),
        "{stderr}"
    );
    assert!(stderr.contains("2 removed"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&manifest).ok().as_deref(),
        Some(listed.as_str())
    );
    let _ = std::fs::remove_dir_all(&out);
}
