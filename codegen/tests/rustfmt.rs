//! Generated Rust is what rustfmt makes of it: every module the codegen tests generate is
//! compared with `rustfmt --edition 2021 --emit stdout` of itself.
//! The schemas are the FxA reference schema (as a crate with its tests, and as the build-script
//! route writes it), fxa-shared's test mapper, the awkward strings and names of
//! `generated_syntax.rs` (`tests/schemas/awkward.yaml`) and `tests/schemas/wide.yaml`, whose
//! names and values push every construct the Rust backend writes past rustfmt's widths.
//!
//! rustfmt is a component of the pinned toolchain (`rust-toolchain.toml`); without it the test
//! fails and says so.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use metricsmith_codegen::{Builder, GeneratedFile};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// `text` formatted by rustfmt with its default configuration for `edition`.
#[track_caller]
fn rustfmt(text: &str, edition: &str) -> String {
    // An empty directory: no rustfmt.toml of the repository applies, only the defaults.
    let dir = std::env::temp_dir().join(format!("metricsmith-rustfmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let child = Command::new("rustfmt")
        .args(["--edition", edition, "--emit", "stdout"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| {
        panic!(
            "cannot run rustfmt ({e}): it is a component of the pinned toolchain; \
             install it with `rustup component add rustfmt`"
        )
    });
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let input = text.to_owned();
    // Written on a thread: rustfmt may fill its output pipe before it has read all its input.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("rustfmt ran");
    writer
        .join()
        .expect("the writer thread does not panic")
        .expect("rustfmt reads its input");
    assert!(
        output.status.success(),
        "rustfmt failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("rustfmt writes UTF-8")
}

/// The first lines where `written` and `formatted` differ, numbered as in `written`.
fn difference(written: &str, formatted: &str) -> String {
    let written: Vec<&str> = written.lines().collect();
    let formatted: Vec<&str> = formatted.lines().collect();
    let first = written
        .iter()
        .zip(&formatted)
        .position(|(a, b)| a != b)
        .unwrap_or(written.len().min(formatted.len()));
    let start = first.saturating_sub(3);
    let show = |lines: &[&str]| {
        lines
            .iter()
            .enumerate()
            .skip(start)
            .take(12)
            .map(|(i, line)| format!("{:5} | {line}\n", i + 1))
            .collect::<String>()
    };
    format!(
        "written (line {}):\n{}rustfmt:\n{}",
        first + 1,
        show(&written),
        show(&formatted)
    )
}

/// Every `.rs` file of `files` is what rustfmt makes of it with the 2021 edition's style;
/// returns how many were checked.
#[track_caller]
fn assert_formatted(files: &[GeneratedFile]) -> usize {
    assert_formatted_as(files, "2021")
}

#[track_caller]
fn assert_formatted_as(files: &[GeneratedFile], edition: &str) -> usize {
    let mut checked = 0;
    for file in files.iter().filter(|f| f.path.ends_with(".rs")) {
        let formatted = rustfmt(&file.contents, edition);
        assert!(
            formatted == file.contents,
            "{} is not formatted as rustfmt (edition {edition}) formats it\n{}",
            file.path,
            difference(&file.contents, &formatted)
        );
        checked += 1;
    }
    checked
}

fn generate(builder: &mut Builder) -> Vec<GeneratedFile> {
    builder.generate().unwrap_or_else(|e| panic!("{e}")).files
}

#[test]
fn fxa_crate_with_tests_is_rustfmt_clean() {
    let files = generate(
        Builder::new()
            .schema(root().join("schema/fxa"))
            .tests(true)
            .docs(false)
            .crate_layout(true),
    );
    assert_eq!(assert_formatted(&files), 5, "lib.rs and four services");
    // generated/ is a crate of the workspace, of its edition (2024): `cargo fmt` leaves it as
    // the generator writes it.
    assert_eq!(assert_formatted_as(&files, "2024"), 5);
}

#[test]
fn build_script_modules_are_rustfmt_clean() {
    // What `compile()` writes to OUT_DIR: modules without tests, one per schema file.
    let files = generate(
        Builder::new()
            .schema(root().join("schema/fxa/auth-server.yaml"))
            .schema(root().join("schema/fxa/oauth-server.yaml")),
    );
    assert_eq!(assert_formatted(&files), 2);
}

#[test]
fn test_schemas_are_rustfmt_clean() {
    for (schema, modules) in [
        (root().join("tests/schemas/shared-test.yaml"), 2),
        (tests_dir().join("schemas/awkward.yaml"), 2),
        (tests_dir().join("schemas/wide.yaml"), 2),
    ] {
        let files = generate(
            Builder::new()
                .schema(&schema)
                .tests(true)
                .docs(false)
                .crate_layout(true),
        );
        assert_eq!(assert_formatted(&files), modules, "{}", schema.display());
    }
}
