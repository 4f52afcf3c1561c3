//! The Rust backend writes text, not tokens: every module it writes must parse as Rust.
//!
//! Checked on the FxA reference schema and on a schema made of what text generation could get
//! wrong: quotes, backslashes, braces, carriage returns and non-ASCII in descriptions, names,
//! patterns and examples; `"#` in the mapping's JSON; keywords as property names; negative and
//! extreme integer bounds.
//! The JSON of each mapping, read back from its string literal, must be the service's spec.

use std::path::{Path, PathBuf};

use metricsmith_codegen::{Builder, GeneratedFile, spec};
use metricsmith_spec::MappingSpec;

/// The schema of awkward strings and names (also checked by `rustfmt.rs`).
const AWKWARD: &str = include_str!("schemas/awkward.yaml");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metricsmith-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

fn generate(schema: &Path) -> Vec<GeneratedFile> {
    Builder::new()
        .schema(schema)
        .tests(true)
        .docs(false)
        .crate_layout(true)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .files
}

fn assert_parses(files: &[GeneratedFile]) -> usize {
    let mut parsed = 0;
    for file in files.iter().filter(|f| f.path.ends_with(".rs")) {
        if let Err(e) = syn::parse_file(&file.contents) {
            panic!("{}: {e}\n{}", file.path, file.contents);
        }
        parsed += 1;
    }
    parsed
}

/// The value of `pub const SPEC_JSON: &str = ..;` in a module, as rustc reads the literal.
#[track_caller]
fn spec_json(module: &str) -> String {
    let file = syn::parse_file(module).unwrap_or_else(|e| panic!("{e}"));
    let found = file.items.iter().find_map(|item| match item {
        syn::Item::Const(c) if c.ident == "SPEC_JSON" => match &*c.expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) => Some(text.value()),
            _ => None,
        },
        _ => None,
    });
    found.unwrap_or_else(|| panic!("no string constant SPEC_JSON in\n{module}"))
}

/// Every service module's `SPEC_JSON` reads back as the service's `MappingSpec`.
#[track_caller]
fn assert_specs_round_trip(schema: &Path, files: &[GeneratedFile]) -> usize {
    let model = metricsmith_codegen::load(schema)
        .unwrap_or_else(|report| panic!("{report}"))
        .model;
    for service in model.services.values() {
        let path = format!(
            "src/{}.rs",
            metricsmith_codegen::driver::module_name(service)
        );
        let module = files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no {path} among {:?}", files.iter().map(|f| &f.path)));
        let read: MappingSpec = serde_json::from_str(&spec_json(&module.contents))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(read, spec::mapping_spec(service), "{path}");
    }
    model.services.len()
}

#[test]
fn every_fxa_module_parses_as_rust() {
    let fxa = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/fxa");
    let files = generate(&fxa);
    assert_eq!(assert_parses(&files), 5, "lib.rs and four services");
    assert_eq!(assert_specs_round_trip(&fxa, &files), 4);
}

#[test]
fn awkward_strings_and_names_are_written_as_valid_rust() {
    let dir = scratch("awkward");
    let schema = dir.join("awkward.yaml");
    std::fs::write(&schema, AWKWARD).unwrap_or_else(|e| panic!("{e}"));
    let files = generate(&schema);
    assert_eq!(assert_parses(&files), 2);
    let module = files
        .iter()
        .find(|f| f.path == "src/awkward_service.rs")
        .unwrap_or_else(|| panic!("no module among {:?}", files.iter().map(|f| &f.path)));
    let text = &module.contents;
    for expected in [
        "pub r#type: values::Type,",
        "::metricsmith::types::Int<{ i64::MIN }, { -1 }>",
        "::metricsmith::types::Int<0, { i64::MAX }>",
        // In JSON, in a raw literal that the `"##` of the event name cannot end.
        "pub const SPEC_JSON: &str = r###\"{",
        r#""Fixed":"fxa_\"quote\\""#,
        r###""Text":"a \"quoted\"## \\ event""###,
        "Self::A => \"éa\",",
        "pub enum Self_ {",
        r#"Self::AB => "a\"b","#,
        "#[doc = ",
        r#"::std::format!("brace.{}.x", self.kind)"#,
    ] {
        assert!(text.contains(expected), "`{expected}` missing from\n{text}");
    }
    assert_eq!(assert_specs_round_trip(&schema, &files), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
