//! `metricsmith::schema!` errors, as the user sees them (trybuild, pinned toolchain).

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    // trybuild builds the fixtures in `<target>/tests/trybuild/<crate>`, and the fixtures name
    // their schemas relative to that folder (`../../../../tests/...`): that holds for the
    // workspace's own target directory only.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    assert!(
        same(&target, &workspace.join("target")),
        "run the UI tests with the workspace's target directory (unset CARGO_TARGET_DIR, now {})",
        target.display()
    );
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/happy_path.rs");
    t.compile_fail("tests/ui/missing_file.rs");
    t.compile_fail("tests/ui/yaml_syntax_error.rs");
    t.compile_fail("tests/ui/validation_error.rs");
    t.compile_fail("tests/ui/schema_warning.rs");
    t.compile_fail("tests/ui/spec_format_mismatch.rs");
}
