// The tests that the build-script crate and the macro crate share: both compile schema/fxa,
// so both must emit FxA's lines. Included by each crate's tests/lines.rs after
// `use <crate> as fxa;`.

use std::sync::Arc;

use fxa::auth_server;
use metricsmith::clock::FixedClock;
use metricsmith::emit::{Emitter, Request};
use metricsmith::mozlog::{Logger, MemorySink};
use metricsmith::types::{Hex, InvalidValue, emit};

fn emitter(sink: &MemorySink) -> Emitter {
    let log = Logger::builder("fxa-auth-server")
        .clock(Arc::new(FixedClock::new(1_551_700_123_460)))
        .pid(4242)
        .writer(sink.clone())
        .build();
    Emitter::builder(Arc::new(log))
        .transform(Arc::new(auth_server::transform(Default::default(), None)))
        .build()
}

fn request() -> Request<'static> {
    Request {
        country: Some("United States"),
        region: Some("California"),
        user_agent: Some("Mozilla/5.0 (...) Firefox/65.0"),
        ..Request::default()
    }
}

#[test]
fn device_created_writes_the_activity_line() -> Result<(), InvalidValue> {
    let sink = MemorySink::new();
    let event = auth_server::DeviceCreated {
        uid: Hex::new("0123456789abcdef0123456789abcdef")?,
        device_id: Hex::new("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")?,
        is_placeholder: false,
    };
    let outcome = emit(&emitter(&sink), &event, &request());
    assert!(outcome.activity);
    assert_eq!(outcome.amplitude, 0);
    // Byte for byte the activity line of spec §1.2: the data keys in declared order.
    assert_eq!(
        sink.lines(),
        [concat!(
            r#"{"Timestamp":1551700123460000000,"Logger":"fxa-auth-server","Type":"activityEvent","#,
            r#""Severity":6,"Pid":4242,"EnvVersion":"2.0","Fields":{"country":"United States","#,
            r#""event":"device.created","region":"California","userAgent":"Mozilla/5.0 (...) Firefox/65.0","#,
            r#""uid":"0123456789abcdef0123456789abcdef","#,
            r#""device_id":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","is_placeholder":false}}"#
        )]
    );
    Ok(())
}

#[test]
fn account_login_maps_to_amplitude() -> Result<(), InvalidValue> {
    let sink = MemorySink::new();
    let event = auth_server::AccountLogin {
        uid: Hex::new("0123456789abcdef0123456789abcdef")?,
    };
    let outcome = emit(&emitter(&sink), &event, &request());
    assert_eq!(outcome.amplitude, 1);
    let lines = sink.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(r#""Type":"amplitudeEvent""#)
                && l.contains(r#""event_type":"fxa_login - success""#)),
        "{lines:#?}"
    );
    Ok(())
}

#[test]
fn families_validate_their_parameters() {
    let route = auth_server::Route::new("/account/login", "200");
    assert_eq!(
        route
            .as_ref()
            .map(|r| metricsmith::types::Event::name(r).into_owned()),
        Ok("route./account/login.200".to_owned())
    );
    assert!(matches!(
        auth_server::Route::new("account/login", "200"),
        Err(InvalidValue::Pattern { .. })
    ));
    assert!(matches!(
        auth_server::Route::new("/account/login", "20"),
        Err(InvalidValue::Pattern { .. })
    ));
}

/// `account.signed` is not a flow event when the query service is `content-server`
/// (FxA's IGNORE_FLOW_EVENTS_FROM_SERVICES, declared with `not_flow_for_services`).
#[test]
fn account_signed_is_no_flow_event_from_the_content_server() -> Result<(), InvalidValue> {
    let context = metricsmith::context::MetricsContext::from_payload(&serde_json::json!({
        "flowId": "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
        "flowBeginTime": 1_551_700_000_000_i64,
    }))
    .expect("a valid metrics context");
    let event = auth_server::AccountSigned {
        uid: Hex::new("0123456789abcdef0123456789abcdef")?,
        device_id: None,
    };
    for (service, flow) in [("sync", true), ("content-server", false)] {
        let sink = MemorySink::new();
        let request = Request {
            query_service: Some(service),
            metrics_context: Some(&context),
            ..request()
        };
        let outcome = emit(&emitter(&sink), &event, &request);
        assert!(outcome.activity, "{service}");
        assert_eq!(outcome.flow, flow, "{service}: {:#?}", sink.lines());
        assert_eq!(outcome.amplitude, 1, "{service}");
    }
    Ok(())
}
