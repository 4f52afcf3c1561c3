//! The checked-in JSON Schema is what the AST types generate.

#[test]
fn json_schema_is_fresh() {
    let path = std::path::Path::new("../schema/metricsmith.schema.json");
    let generated = metricsmith_codegen::json_schema();
    if std::env::var_os("METRICSMITH_BLESS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        current == generated,
        "schema/metricsmith.schema.json is stale; refresh it with\n    \
         METRICSMITH_BLESS=1 cargo test -p metricsmith-codegen --test json_schema"
    );
}
