mod svc {
    metricsmith::schema!("../../../../tests/macro-crate/tests/ui/schemas/yaml_syntax_error.yaml");
}

fn main() {}
