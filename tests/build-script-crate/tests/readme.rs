//! The README's "Use it in a service" example, compiled and run: the lines between the
//! `README` markers below are what README.md shows, verbatim (checked by
//! `readme_shows_this_example`).

use metricsmith_test_build_script::auth_server;

// README begin
use std::sync::Arc;

use metricsmith::emit::{Emitter, Outcome, Request};
use metricsmith::types::{Hex, InvalidValue, emit};

/// Built once at start-up and shared by every request: the mozlog logger that the schema's
/// `mozlog:` names, and the service's Amplitude transform (without it, the emitter writes the
/// activity and flow lines but no amplitude line).
fn emitter() -> Emitter {
    let logger = auth_server::logger().build();
    // OAuth client ids -> service names (none here), and the app version for `app_version()`.
    let transform = auth_server::transform(Default::default(), Some("134".to_owned()));
    Emitter::builder(Arc::new(logger))
        .transform(Arc::new(transform))
        .build()
}

/// In a request handler: what the request tells about the user, then the typed event.
fn on_login(emitter: &Emitter, uid: &str, user_agent: &str) -> Result<Outcome, InvalidValue> {
    let request = Request {
        user_agent: Some(user_agent),
        ..Request::default()
    };
    let event = auth_server::AccountLogin {
        uid: Hex::new(uid)?,
    };
    Ok(emit(emitter, &event, &request))
}
// README end

#[test]
fn the_readme_example_writes_the_activity_and_amplitude_lines() -> Result<(), InvalidValue> {
    let outcome = on_login(
        &emitter(),
        "0123456789abcdef0123456789abcdef",
        "Mozilla/5.0 (X11; Linux x86_64; rv:65.0) Gecko/20100101 Firefox/65.0",
    )?;
    assert!(outcome.activity, "{outcome:?}");
    assert_eq!(outcome.amplitude, 1, "{outcome:?}");
    assert!(outcome.errors.is_empty(), "{outcome:?}");
    // A uid that is not 32 hex digits never becomes an event.
    assert!(on_login(&emitter(), "not-hex", "Firefox").is_err());
    Ok(())
}

#[test]
fn readme_shows_this_example() {
    let this = include_str!("readme.rs");
    let begin = this
        .find("// README begin\n")
        .map(|i| i + "// README begin\n".len());
    let end = this.find("// README end\n");
    let (Some(begin), Some(end)) = (begin, end) else {
        panic!("the README markers are missing from tests/readme.rs");
    };
    let example = &this[begin..end];
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&format!("```rust\n{example}```\n")),
        "README.md's \"Use it in a service\" example differs from \
         tests/build-script-crate/tests/readme.rs; copy it over:\n\n{example}"
    );
}
