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

const AWKWARD: &str = r###"metricsmith: 1
service: awkward-service
description: "Quotes \" and backslashes \\ and braces {} in a description,\r\nwith a carriage return, */ and /* and é ✓."
defaults:
  owners: ['o@example.com']
  bugs: ['https://example.com/1']
  data_reviews: ['https://example.com/2']
  expires: never
mozlog:
  logger: "awk\"ward\\logger"
  stream: stdout
events:
  quote.event:
    description: "An event whose description holds \"quotes\", a \\ backslash,\ra carriage return and {braces}."
    kinds: [activity, not-flow]
    properties:
      type:
        type: string
        pattern: '^["\\a-z{}]+$'
        max_length: 8
        description: "A property named like a keyword, matching quotes and \\ backslashes."
        required: true
      self_:
        type: enum
        values: ['a"b', 'c\d', 'mod', 'éa']
        description: Enum values that are not identifiers.
        required: false
      low:
        type: integer
        min: -9223372036854775808
        max: -1
        description: The most negative bounds.
        required: true
      high:
        type: integer
        min: 0
        max: 9223372036854775807
        description: The largest bound.
        required: false
      ids:
        type: list
        items: {type: hex, length: 4}
        description: A list of hex ids.
        required: false
families:
  brace:
    name: 'brace.{kind}.x'
    description: A family whose name template has text around the parameter.
    kinds: [activity, not-flow]
    parameters:
      kind:
        type: enum
        values: ['a"b', 'fn']
        description: A parameter whose values are not identifiers.
amplitude:
  groups:
    quote:
      prefix: 'fxa_"quote\'
      description: A group whose prefix needs escaping.
  rules:
    - pattern: '^quote\.(event)$'
      description: A rule.
      group: quote
      event: 'a "quoted"## \ event'
  layout:
    fields: {user_id: data.uid}
  examples:
    - description: "An example whose data holds \"quotes\" and \\ backslashes."
      event: quote.event
      time: 1551700123456
      data: {"uid": "0123456789abcdef0123456789abcdef", "type": "\"\\"}
      expect:
        - {"op": "amplitudeEvent", "event_type": "fxa_\"quote\\ - a \"quoted\"## \\ event", "time": 1551700123456, "user_id": "0123456789abcdef0123456789abcdef", "event_properties": {}, "user_properties": {}}
"###;

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
