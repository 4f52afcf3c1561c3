//! `metricsmith::schema!` errors, as the user sees them (trybuild, pinned toolchain).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/happy_path.rs");
    t.compile_fail("tests/ui/missing_file.rs");
    t.compile_fail("tests/ui/yaml_syntax_error.rs");
    t.compile_fail("tests/ui/validation_error.rs");
}
