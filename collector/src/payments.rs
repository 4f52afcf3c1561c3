//! The payments server's route after validation (spec §5.2, §4.10): each posted event is mapped
//! with the posted `data` bag; the answer is an empty 200.

use serde_json::{Map, Value};

use crate::{Collector, Outcome, Request};

pub(crate) fn handle(
    collector: &Collector,
    request: &Request,
    body: Value,
    received_at: i64,
) -> Outcome {
    let mut outcome = Outcome {
        status: 200,
        content_type: None,
        body: String::new(),
        stderr: Vec::new(),
        log: Vec::new(),
    };
    let Value::Object(body) = body else {
        return outcome;
    };
    let posted = body
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // `{version, ...userAgent, ...mapLocation(data.location), ...data}`: the posted data wins.
    let mut data = Map::new();
    data.insert(
        "version".to_owned(),
        Value::from(collector.config.service_version.clone()),
    );
    collector.user_agent_fields(request, &mut data);
    if let Some(Value::Object(location)) = posted.get("location") {
        let truthy = |key: &str| location.get(key).filter(|v| metricsmith::js::truthy(*v));
        if truthy("country").is_some() || truthy("state").is_some() {
            if let Some(country) = location.get("country") {
                data.insert("country".to_owned(), country.clone());
            }
            if let Some(state) = location.get("state") {
                data.insert("region".to_owned(), state.clone());
            }
        }
    }
    for (key, value) in posted {
        data.insert(key, value);
    }
    // The app version comes from the bag's version, which the posted data may replace.
    let version = metricsmith::js::string_of(data.get("version"));
    let app_version = app_version_of(&version);
    let env = metricsmith::amplitude::Env {
        oauth_clients: &collector.config.oauth_clients,
        app_version: app_version.as_deref(),
        now_ms: received_at,
    };
    for event in body
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = event.get("type").cloned().unwrap_or(Value::Null);
        // The handler passes the posted `{offset, type}`: no time.
        collector.amplitude(&name, None, &data, &env, &mut outcome.log);
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
