//! The generated events emit the lines FxA wrote (spec §1.2), compiled by a build script.

use metricsmith_test_build_script as fxa;

include!("../../common/fxa_lines.rs");

#[test]
fn every_service_has_its_mapping() {
    assert_eq!(fxa::oauth_server::SERVICE, "oauth-server");
    assert_eq!(
        metricsmith::types::event_types(
            fxa::oauth_server::mapping(),
            "token.created",
            &Default::default()
        ),
        ["fxa_activity - access_token_created"]
    );
}
