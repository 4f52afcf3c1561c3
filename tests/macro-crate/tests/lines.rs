//! The generated events emit the lines FxA wrote (spec §1.2), compiled by `schema!`.

use metricsmith_test_macro as fxa;

include!("../../common/fxa_lines.rs");

#[test]
fn every_service_has_its_mapping() -> Result<(), InvalidValue> {
    assert_eq!(fxa::payments_server::SERVICE, "payments-server");
    let event = fxa::payments_server::Amplitude::new("subPaySetup", "view")?;
    assert_eq!(
        metricsmith::types::event_types_of(fxa::payments_server::mapping(), &event),
        ["fxa_pay_setup - view"]
    );
    Ok(())
}
