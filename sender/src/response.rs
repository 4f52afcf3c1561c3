//! What an answer of Amplitude's `/batch` API means for the events of the request
//! (../shared/reference/amplitude-api.md §3 and §4).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

/// The ids a batch's events carry, as Amplitude names them back.
pub trait Ids {
    /// The `user_id` sent.
    fn user_id(&self) -> Option<&str>;
    /// The `device_id` sent.
    fn device_id(&self) -> Option<&str>;
}

/// What to do with a batch after Amplitude answered (or did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: every event was accepted.
    Accepted,
    /// 413 on more than one event: send the events again in smaller requests.
    Split,
    /// Some events cannot ever be accepted (dead-letter them with the reason), some users or
    /// devices must wait; every other event is sent again.
    Partial {
        /// Batch index -> reason, for the dead-letter place.
        dead: BTreeMap<usize, String>,
        /// Users to hold back.
        hold_users: Vec<String>,
        /// Devices to hold back.
        hold_devices: Vec<String>,
        /// For how long.
        hold_for: Duration,
    },
    /// 5xx, 3xx, other 4xx, a timeout, a refused connection: retry the same events after a
    /// backoff (at least `retry_after` when the server said so).
    Transient {
        /// What happened, for the log.
        reason: String,
        /// The server's Retry-After.
        retry_after: Option<Duration>,
    },
    /// The request itself is refused (a 400 that names no event, e.g. an invalid API key):
    /// retrying cannot help and dead-lettering everything would be wrong.
    Fatal(String),
}

/// The fields of Amplitude's error bodies that decide what happens (all optional).
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    missing_field: Option<String>,
    #[serde(default)]
    events_with_invalid_fields: BTreeMap<String, Vec<usize>>,
    #[serde(default)]
    events_with_missing_fields: BTreeMap<String, Vec<usize>>,
    #[serde(default)]
    silenced_events: Vec<usize>,
    #[serde(default)]
    throttled_users: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    throttled_devices: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    throttled_events: Vec<usize>,
    #[serde(default)]
    exceeded_daily_quota_users: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    exceeded_daily_quota_devices: BTreeMap<String, serde_json::Value>,
}

/// Reads `Retry-After` in seconds (the HTTP-date form is not used by Amplitude).
pub fn retry_after(header: Option<&str>) -> Option<Duration> {
    header
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// The verdict on `batch` for an answer with `status` and `body` (`status` is `None` when no
/// answer came: a timeout or a connection error, described by `body`).
pub fn classify<E: Ids>(
    status: Option<u16>,
    body: &str,
    retry_after: Option<Duration>,
    batch: &[E],
    default_hold: Duration,
) -> Verdict {
    let Some(status) = status else {
        return Verdict::Transient {
            reason: body.to_owned(),
            retry_after: None,
        };
    };
    match status {
        200..=299 => Verdict::Accepted,
        413 if batch.len() > 1 => Verdict::Split,
        413 => Verdict::Partial {
            dead: BTreeMap::from([(0, "amplitude 413: the event alone is too large".to_owned())]),
            hold_users: Vec::new(),
            hold_devices: Vec::new(),
            hold_for: Duration::ZERO,
        },
        400 => bad_request(body, batch, retry_after.unwrap_or(default_hold)),
        429 => too_many(body, batch, retry_after.unwrap_or(default_hold)),
        _ => Verdict::Transient {
            reason: format!("amplitude {status}: {}", snippet(body)),
            retry_after,
        },
    }
}

fn snippet(body: &str) -> &str {
    let end = body
        .char_indices()
        .nth(200)
        .map_or(body.len(), |(at, _)| at);
    &body[..end]
}

fn bad_request<E: Ids>(body: &str, batch: &[E], hold_for: Duration) -> Verdict {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let error = parsed.error.as_deref().unwrap_or("bad request");
    let mut dead = BTreeMap::new();
    for (field, indices) in &parsed.events_with_invalid_fields {
        for &i in indices {
            dead.entry(i)
                .or_insert_with(|| format!("amplitude 400: {error} (invalid field {field})"));
        }
    }
    for (field, indices) in &parsed.events_with_missing_fields {
        for &i in indices {
            dead.entry(i)
                .or_insert_with(|| format!("amplitude 400: {error} (missing field {field})"));
        }
    }
    for &i in &parsed.silenced_events {
        dead.entry(i)
            .or_insert_with(|| format!("amplitude 400: {error} (silenced)"));
    }
    dead.retain(|i, _| *i < batch.len());
    quota(&parsed, batch, &mut dead);
    let (hold_users, hold_devices) = throttled(&parsed, batch);
    if dead.is_empty() && hold_users.is_empty() && hold_devices.is_empty() {
        let missing = parsed
            .missing_field
            .map(|f| format!(" (missing field {f})"))
            .unwrap_or_default();
        return Verdict::Fatal(format!(
            "amplitude refused the request (400): {error}{missing}"
        ));
    }
    Verdict::Partial {
        dead,
        hold_users,
        hold_devices,
        hold_for,
    }
}

fn too_many<E: Ids>(body: &str, batch: &[E], hold_for: Duration) -> Verdict {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let mut dead = BTreeMap::new();
    quota(&parsed, batch, &mut dead);
    let (hold_users, hold_devices) = throttled(&parsed, batch);
    if dead.is_empty() && hold_users.is_empty() && hold_devices.is_empty() {
        // Nobody named: the whole request waits.
        return Verdict::Transient {
            reason: format!("amplitude 429: {}", snippet(body)),
            retry_after: Some(hold_for),
        };
    }
    Verdict::Partial {
        dead,
        hold_users,
        hold_devices,
        hold_for,
    }
}

/// Events of users or devices over their daily quota go to the dead-letter place.
fn quota<E: Ids>(parsed: &ErrorBody, batch: &[E], dead: &mut BTreeMap<usize, String>) {
    for (i, event) in batch.iter().enumerate() {
        let user = event
            .user_id()
            .filter(|u| parsed.exceeded_daily_quota_users.contains_key(*u));
        let device = event
            .device_id()
            .filter(|d| parsed.exceeded_daily_quota_devices.contains_key(*d));
        if user.is_some() || device.is_some() {
            dead.entry(i).or_insert_with(|| {
                "amplitude 429: daily quota exceeded for this user or device".to_owned()
            });
        }
    }
}

/// The users and devices to hold: those named, else those of the `throttled_events`.
fn throttled<E: Ids>(parsed: &ErrorBody, batch: &[E]) -> (Vec<String>, Vec<String>) {
    let mut users: Vec<String> = parsed.throttled_users.keys().cloned().collect();
    let mut devices: Vec<String> = parsed.throttled_devices.keys().cloned().collect();
    if users.is_empty() && devices.is_empty() {
        for event in parsed.throttled_events.iter().filter_map(|&i| batch.get(i)) {
            users.extend(event.user_id().map(str::to_owned));
            devices.extend(event.device_id().map(str::to_owned));
        }
    }
    (users, devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct E(Option<&'static str>, Option<&'static str>);

    impl Ids for E {
        fn user_id(&self) -> Option<&str> {
            self.0
        }
        fn device_id(&self) -> Option<&str> {
            self.1
        }
    }

    const HOLD: Duration = Duration::from_secs(30);

    fn batch() -> Vec<E> {
        vec![
            E(Some("u1"), Some("d1")),
            E(None, Some("d2")),
            E(Some("u3"), None),
        ]
    }

    #[test]
    fn answers_are_classified_by_the_documented_contract() {
        let b = batch();
        assert_eq!(classify(Some(200), "{}", None, &b, HOLD), Verdict::Accepted);
        assert_eq!(classify(Some(204), "", None, &b, HOLD), Verdict::Accepted);
        assert_eq!(classify(Some(413), "", None, &b, HOLD), Verdict::Split);
        assert!(
            matches!(classify(Some(413), "", None, &b[..1], HOLD), Verdict::Partial { dead, .. } if dead.len() == 1)
        );
        assert!(matches!(
            classify(Some(503), "x", None, &b, HOLD),
            Verdict::Transient { .. }
        ));
        assert!(matches!(
            classify(Some(302), "", None, &b, HOLD),
            Verdict::Transient { .. }
        ));
        assert!(matches!(
            classify(None, "timed out", None, &b, HOLD),
            Verdict::Transient { .. }
        ));
        assert_eq!(
            classify(
                Some(400),
                r#"{"code":400,"error":"Invalid API key"}"#,
                None,
                &b,
                HOLD
            ),
            Verdict::Fatal("amplitude refused the request (400): Invalid API key".to_owned())
        );
    }

    #[test]
    fn bad_request_dead_letters_the_named_events() {
        let body = r#"{"code":400,"error":"Invalid field values on some events","events_with_invalid_fields":{"time":[0,7]},"events_with_missing_fields":{"event_type":[2]}}"#;
        let Verdict::Partial {
            dead, hold_users, ..
        } = classify(Some(400), body, None, &batch(), HOLD)
        else {
            panic!("partial");
        };
        assert_eq!(
            dead,
            BTreeMap::from([
                (
                    0,
                    "amplitude 400: Invalid field values on some events (invalid field time)"
                        .to_owned()
                ),
                (
                    2,
                    "amplitude 400: Invalid field values on some events (missing field event_type)"
                        .to_owned()
                ),
            ])
        );
        assert!(hold_users.is_empty());
    }

    #[test]
    fn too_many_requests_holds_only_the_named_ids() {
        let body = r#"{"code":429,"error":"Too many requests for some devices and users","eps_threshold":1000,"throttled_devices":{"d2":1500},"throttled_users":{},"exceeded_daily_quota_users":{"u3":500001}}"#;
        let verdict = classify(Some(429), body, retry_after(Some("5")), &batch(), HOLD);
        assert_eq!(
            verdict,
            Verdict::Partial {
                dead: BTreeMap::from([(
                    2,
                    "amplitude 429: daily quota exceeded for this user or device".to_owned()
                )]),
                hold_users: vec![],
                hold_devices: vec!["d2".to_owned()],
                hold_for: Duration::from_secs(5),
            }
        );
        assert_eq!(
            classify(Some(429), "{}", None, &batch(), HOLD),
            Verdict::Transient {
                reason: "amplitude 429: {}".to_owned(),
                retry_after: Some(HOLD)
            }
        );
    }
}
