mod svc {
    metricsmith::schema!("../../../../tests/macro-crate/tests/ui/schemas/does_not_exist.yaml");
}

fn main() {}
