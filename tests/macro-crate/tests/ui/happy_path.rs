mod svc {
    metricsmith::schema!("../../../../tests/macro-crate/tests/ui/schemas/valid.yaml");
}

fn main() {
    let types = metricsmith::types::event_types_of(svc::mapping(), &svc::AccountLogin);
    assert_eq!(types, ["fxa_login - success"]);
}
