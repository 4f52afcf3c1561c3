//! The payments server's route after validation (spec §5.2, §4.10): each posted event is mapped
//! with the posted `data` bag; the answer is an empty 200.

use metricsmith::view::{Bag, JsonRef};
use serde_json::Value;

use crate::bag::{Added, PaymentsBag};
use crate::body::{NULL, View};
use crate::{Collector, Log, Outcome, Request};

pub(crate) fn handle(
    collector: &Collector,
    request: &Request,
    body: View<'_>,
    received_at: i64,
    log: &mut Log,
) -> Outcome {
    let outcome = Outcome {
        status: 200,
        ..Outcome::default()
    };
    if !body.is_object() {
        return outcome;
    }
    let posted = body.get("data").filter(|d| d.is_object());
    // `{version, ...userAgent, ...mapLocation(data.location), ...data}`: the posted data wins.
    let mut added: Added = Vec::with_capacity(8);
    added.push((
        "version",
        Value::from(collector.config.service_version.clone()),
    ));
    collector.user_agent_fields(request, &mut added);
    if let Some(location) = posted
        .and_then(|p| p.get("location"))
        .filter(|l| l.is_object())
    {
        let truthy = |key: &str| location.get(key).filter(|v| metricsmith::js::truthy(*v));
        if truthy("country").is_some() || truthy("state").is_some() {
            if let Some(country) = location.get("country") {
                added.push(("country", country.to_json()));
            }
            if let Some(state) = location.get("state") {
                added.push(("region", state.to_json()));
            }
        }
    }
    let data = PaymentsBag {
        posted,
        added: &added,
    };
    // The app version comes from the bag's version, which the posted data may replace.
    let version = metricsmith::js::string_of(data.get("version"));
    let app_version = app_version_of(&version);
    let env = metricsmith::amplitude::Env {
        oauth_clients: &collector.config.oauth_clients,
        app_version: app_version.as_deref(),
        now_ms: received_at,
    };
    for event in body.get("events").into_iter().flat_map(JsonRef::items) {
        let name = event.get("type").unwrap_or(View::Owned(&NULL));
        // The handler passes the posted `{offset, type}`: no time.
        collector.amplitude(name, None, data, &env, log);
    }
    outcome
}

/// `/^[0-9]+\.([0-9]+)\./` on the version.
fn app_version_of(version: &str) -> Option<String> {
    let (major, rest) = version.split_once('.')?;
    let (minor, _) = rest.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then(|| minor.to_owned())
}
