mod svc {
    metricsmith::schema!("../../../../tests/macro-crate/tests/ui/schemas/unknown_group.yaml");
}

fn main() {}
