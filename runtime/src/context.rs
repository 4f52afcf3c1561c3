//! The metrics context: the flow data that follows a user across requests (spec §3.2).
//!
//! A request's payload may carry a `metricsContext` ([`MetricsContext`]); the auth server checks
//! it ([`MetricsContext::validate_schema`], [`MetricsContext::from_payload`]) and stashes it
//! under a key derived from the session token ([`ContextKey`]) so later requests of the same
//! flow can find it.
//! [`Contexts`] holds FxA's four operations (`stash`, `get`, `propagate`, `clear`) over any
//! [`ContextStore`]: [`MemoryStore`] (default), [`DisabledStore`] (`memcached.address = "none"`)
//! or, with the `memcached` feature, [`MemcachedStore`].
//!
//! ```
//! use std::sync::Arc;
//! use metricsmith::clock::FixedClock;
//! use metricsmith::context::{Contexts, MemoryStore, MetricsContext, Token};
//!
//! let contexts = Contexts::new(Arc::new(MemoryStore::new(Arc::new(FixedClock::new(0)))));
//! let token = Token { uid: "0123456789abcdef0123456789abcdef", id: "session-token-id" };
//! let first = MetricsContext { entrypoint: Some("menupanel".into()), ..Default::default() };
//! let second = MetricsContext { entrypoint: Some("other".into()), ..Default::default() };
//! assert!(contexts.stash(token, &first).unwrap());
//! assert!(!contexts.stash(token, &second).unwrap()); // first stash wins
//! assert_eq!(contexts.get(token).unwrap(), Some(first));
//! contexts.clear(token).unwrap();
//! assert_eq!(contexts.get(token).unwrap(), None);
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::clock::Clock;

#[cfg(feature = "memcached")]
mod memcached;
#[cfg(feature = "memcached")]
pub use memcached::{MemcachedConfig, MemcachedStore};

/// The memcached namespace prefix of every key (`fxa-metrics~`).
pub const NAMESPACE: &str = "fxa-metrics~";

/// FxA's `memcached.lifetime`: two hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(7200);

/// The longest TTL memcached reads as relative; longer ones would be read as a date.
pub const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Errors of metrics contexts and their stores.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field breaks its schema rule.
    #[error("metrics context field `{field}` is invalid: expected {expected}")]
    InvalidField {
        /// The field, in FxA's camelCase.
        field: &'static str,
        /// What the rule wants.
        expected: &'static str,
    },
    /// A field that the schema does not know.
    #[error("metrics context field `{0}` is not allowed")]
    UnknownField(String),
    /// One of `flowId` and `flowBeginTime` without the other.
    #[error("metrics context field `{present}` requires `{missing}`")]
    MissingPeer {
        /// The field that is there.
        present: &'static str,
        /// The field that is not.
        missing: &'static str,
    },
    /// The payload is not an object.
    #[error("metrics context must be an object")]
    NotAnObject,
    /// The token has no uid or no id.
    #[error("metrics context token needs a uid and an id")]
    MissingToken,
    /// The TTL is longer than [`MAX_TTL`].
    #[error("metrics context ttl of {0:?} is longer than 30 days")]
    Ttl(Duration),
    /// A stored value is not a metrics context.
    #[error("stored metrics context is not valid json: {0}")]
    Corrupt(#[source] serde_json::Error),
    /// The store failed or timed out.
    #[error("{backend} {op} failed: {message}")]
    Store {
        /// The store (`memcached`).
        backend: &'static str,
        /// The operation (`add`, `get`, `delete`, `connect`).
        op: &'static str,
        /// The backend's message.
        message: String,
    },
}

/// A request's `metricsContext`, with FxA's camelCase names; absent fields are `None`.
///
/// `service`, `flowCompleteSignal` and `flowType` are not part of the payload schema: the auth
/// server adds them before stashing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricsContext {
    /// 32 hex digits identifying the browser profile for this flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// Where the flow started (`menupanel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<String>,
    /// The entrypoint experiment (later FxA versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint_experiment: Option<String>,
    /// The entrypoint variation (later FxA versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint_variation: Option<String>,
    /// The signed flow id, 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<String>,
    /// When the flow began, ms since the epoch.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_begin_time"
    )]
    pub flow_begin_time: Option<i64>,
    /// `utm_campaign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_campaign: Option<String>,
    /// `utm_content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_content: Option<String>,
    /// `utm_medium`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_medium: Option<String>,
    /// `utm_source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_source: Option<String>,
    /// `utm_term`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm_term: Option<String>,
    /// The subscription product (later FxA versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The subscription plan (later FxA versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The service (`sync` or an OAuth client id), set when stashing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The event that completes this flow, set by the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_complete_signal: Option<String>,
    /// `login` or `registration`, set by the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_type: Option<String>,
}

/// The payload schema's keys, in Joi's order.
const PAYLOAD_KEYS: [&str; 13] = [
    "deviceId",
    "entrypoint",
    "entrypointExperiment",
    "entrypointVariation",
    "flowId",
    "flowBeginTime",
    "utmCampaign",
    "utmContent",
    "utmMedium",
    "utmSource",
    "utmTerm",
    "productId",
    "planId",
];

/// The one utm_campaign value that the pattern would reject but FxA allows.
const UTM_CAMPAIGN_EXCEPTION: &str = "page+referral+-+not+part+of+a+campaign";

impl MetricsContext {
    /// Parses and validates a request payload's `metricsContext` like FxA's Joi schema:
    /// unknown keys are rejected, strings must be strings, `flowBeginTime` an integer (an
    /// integral float or a decimal string converts, as Joi converts).
    ///
    /// # Errors
    /// [`Error::NotAnObject`], [`Error::UnknownField`], [`Error::InvalidField`] naming the
    /// field, or [`Error::MissingPeer`].
    pub fn from_payload(payload: &Value) -> Result<Self, Error> {
        let map = payload.as_object().ok_or(Error::NotAnObject)?;
        if let Some(key) = map.keys().find(|k| !PAYLOAD_KEYS.contains(&k.as_str())) {
            return Err(Error::UnknownField(key.clone()));
        }
        let string = |field: &'static str| -> Result<Option<String>, Error> {
            match map.get(field) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::InvalidField {
                    field,
                    expected: "a string",
                }),
            }
        };
        let flow_begin_time = match map.get("flowBeginTime") {
            None => None,
            Some(v) => Some(begin_time_from_json(v).ok_or(Error::InvalidField {
                field: "flowBeginTime",
                expected: "an integer greater than 0",
            })?),
        };
        let context = Self {
            device_id: string("deviceId")?,
            entrypoint: string("entrypoint")?,
            entrypoint_experiment: string("entrypointExperiment")?,
            entrypoint_variation: string("entrypointVariation")?,
            flow_id: string("flowId")?,
            flow_begin_time,
            utm_campaign: string("utmCampaign")?,
            utm_content: string("utmContent")?,
            utm_medium: string("utmMedium")?,
            utm_source: string("utmSource")?,
            utm_term: string("utmTerm")?,
            product_id: string("productId")?,
            plan_id: string("planId")?,
            service: None,
            flow_complete_signal: None,
            flow_type: None,
        };
        context.validate_schema()?;
        Ok(context)
    }

    /// Checks the payload schema's rules (spec §3.2) and reports the first broken one.
    ///
    /// # Errors
    /// [`Error::InvalidField`] naming the field, or [`Error::MissingPeer`] when only one of
    /// `flowId` and `flowBeginTime` is present.
    ///
    /// ```
    /// use metricsmith::context::{Error, MetricsContext};
    ///
    /// let bad = MetricsContext { device_id: Some("xyz".into()), ..Default::default() };
    /// assert!(matches!(bad.validate_schema(), Err(Error::InvalidField { field: "deviceId", .. })));
    /// ```
    pub fn validate_schema(&self) -> Result<(), Error> {
        fn check(
            value: &Option<String>,
            field: &'static str,
            expected: &'static str,
            ok: impl Fn(&str) -> bool,
        ) -> Result<(), Error> {
            match value {
                Some(v) if !ok(v) => Err(Error::InvalidField { field, expected }),
                _ => Ok(()),
            }
        }
        let entrypoint = "at most 128 characters of [A-Za-z0-9_.:-]";
        let utm = "at most 128 characters of [A-Za-z0-9_/.%-]";
        let any = "a non-empty string of at most 128 characters";
        check(&self.device_id, "deviceId", "32 hex digits", |v| {
            is_hex_of_len(v, 32)
        })?;
        check(&self.entrypoint, "entrypoint", entrypoint, is_entrypoint)?;
        check(
            &self.entrypoint_experiment,
            "entrypointExperiment",
            entrypoint,
            is_entrypoint,
        )?;
        check(
            &self.entrypoint_variation,
            "entrypointVariation",
            entrypoint,
            is_entrypoint,
        )?;
        check(&self.flow_id, "flowId", "64 hex digits", |v| {
            is_hex_of_len(v, 64)
        })?;
        if matches!(self.flow_begin_time, Some(t) if t <= 0) {
            return Err(Error::InvalidField {
                field: "flowBeginTime",
                expected: "an integer greater than 0",
            });
        }
        check(&self.utm_campaign, "utmCampaign", utm, |v| {
            v == UTM_CAMPAIGN_EXCEPTION || is_utm(v)
        })?;
        check(&self.utm_content, "utmContent", utm, is_utm)?;
        check(&self.utm_medium, "utmMedium", utm, is_utm)?;
        check(&self.utm_source, "utmSource", utm, is_utm)?;
        check(&self.utm_term, "utmTerm", utm, is_utm)?;
        check(&self.product_id, "productId", any, is_short_string)?;
        check(&self.plan_id, "planId", any, is_short_string)?;
        match (&self.flow_id, self.flow_begin_time) {
            (Some(_), None) => Err(Error::MissingPeer {
                present: "flowId",
                missing: "flowBeginTime",
            }),
            (None, Some(_)) => Err(Error::MissingPeer {
                present: "flowBeginTime",
                missing: "flowId",
            }),
            _ => Ok(()),
        }
    }
}

/// JavaScript `\w` (ASCII only).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_hex_of_len(v: &str, len: usize) -> bool {
    v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `^[\w.:-]+$`, at most 128 characters.
fn is_entrypoint(v: &str) -> bool {
    !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| is_word(b) || b".:-".contains(&b))
}

/// `^[\w\/.%-]+$`, at most 128 characters.
fn is_utm(v: &str) -> bool {
    !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| is_word(b) || b"/.%-".contains(&b))
}

/// Joi `string().max(128)`: non-empty, at most 128 UTF-16 code units.
fn is_short_string(v: &str) -> bool {
    !v.is_empty() && v.encode_utf16().count() <= 128
}

/// An integer, an integral float or a decimal integer string (Joi's conversion), > 0.
fn begin_time_from_json(value: &Value) -> Option<i64> {
    let n = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                // In range and integral, so the cast is exact.
                .map(|f| f as i64)
        })?,
        Value::String(s) => s.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    (n > 0).then_some(n)
}

fn deserialize_begin_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => begin_time_from_json(&v).map(Some).ok_or_else(|| {
            serde::de::Error::custom("flowBeginTime must be an integer greater than 0")
        }),
    }
}

/// The token a context is stashed under: a session (or similar) token's uid and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The account uid (hex).
    pub uid: &'a str,
    /// The token id.
    pub id: &'a str,
}

/// A store key: `base64(SHA-256(uid ‖ id))` (spec §3.2); stores prefix it with [`NAMESPACE`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextKey(String);

impl ContextKey {
    /// Derives the key of a token.
    ///
    /// # Errors
    /// [`Error::MissingToken`] when the uid or the id is empty.
    ///
    /// ```
    /// use metricsmith::context::{ContextKey, Token};
    ///
    /// let uid = "c".repeat(64);
    /// let key = ContextKey::new(Token { uid: &uid, id: "foo" }).unwrap();
    /// assert_eq!(key.as_str(), "3Jdetk+tBRPG/waYN0UCQEKu3H+/zrtSF2KvpNKGwuc=");
    /// assert_eq!(key.namespaced(), "fxa-metrics~3Jdetk+tBRPG/waYN0UCQEKu3H+/zrtSF2KvpNKGwuc=");
    /// ```
    pub fn new(token: Token<'_>) -> Result<Self, Error> {
        if token.uid.is_empty() || token.id.is_empty() {
            return Err(Error::MissingToken);
        }
        let mut hash = Sha256::new();
        hash.update(token.uid.as_bytes());
        hash.update(token.id.as_bytes());
        Ok(Self(
            base64::engine::general_purpose::STANDARD.encode(hash.finalize()),
        ))
    }

    /// The base64 hash without the namespace.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as memcached sees it: [`NAMESPACE`] + hash.
    pub fn namespaced(&self) -> String {
        format!("{NAMESPACE}{}", self.0)
    }
}

impl fmt::Display for ContextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where contexts are kept between requests; memcached semantics.
pub trait ContextStore: Send + Sync + fmt::Debug {
    /// Stores `context` under `key` unless the key already holds a live value (memcached
    /// `add`); returns whether it was stored. A zero `ttl` never expires.
    ///
    /// # Errors
    /// [`Error::Ttl`] when `ttl` exceeds [`MAX_TTL`]; [`Error::Store`] when the store fails.
    fn add(&self, key: &ContextKey, context: &MetricsContext, ttl: Duration)
    -> Result<bool, Error>;

    /// Reads the live value under `key`.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails; [`Error::Corrupt`] for an unreadable value.
    fn get(&self, key: &ContextKey) -> Result<Option<MetricsContext>, Error>;

    /// Deletes `key`; deleting a missing key is not an error.
    ///
    /// # Errors
    /// [`Error::Store`] when the store fails.
    fn delete(&self, key: &ContextKey) -> Result<(), Error>;
}

fn check_ttl(ttl: Duration) -> Result<(), Error> {
    if ttl > MAX_TTL {
        Err(Error::Ttl(ttl))
    } else {
        Ok(())
    }
}

/// An in-process store that honours TTLs against an injected [`Clock`]; first write wins.
#[derive(Debug)]
pub struct MemoryStore {
    clock: Arc<dyn Clock>,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<ContextKey, (MetricsContext, Option<i64>)>,
    prune_at: usize,
}

impl MemoryStore {
    /// An empty store reading the time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            entries: Mutex::new(Entries {
                map: HashMap::new(),
                prune_at: 1024,
            }),
        }
    }

    /// How many entries are held, expired ones not yet pruned included.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every critical section leaves the map consistent, so a poisoned lock is usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn live(expires: Option<i64>, now: i64) -> bool {
    expires.is_none_or(|at| now < at)
}

impl ContextStore for MemoryStore {
    fn add(
        &self,
        key: &ContextKey,
        context: &MetricsContext,
        ttl: Duration,
    ) -> Result<bool, Error> {
        check_ttl(ttl)?;
        let now = self.clock.now_ms();
        let expires = (!ttl.is_zero())
            .then(|| now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)));
        let mut entries = self.lock();
        if entries.map.len() >= entries.prune_at {
            entries.map.retain(|_, (_, at)| live(*at, now));
            entries.prune_at = (entries.map.len() * 2).max(1024);
        }
        if let Some((_, at)) = entries.map.get(key)
            && live(*at, now)
        {
            return Ok(false);
        }
        entries.map.insert(key.clone(), (context.clone(), expires));
        Ok(true)
    }

    fn get(&self, key: &ContextKey) -> Result<Option<MetricsContext>, Error> {
        let now = self.clock.now_ms();
        let entries = self.lock();
        Ok(entries
            .map
            .get(key)
            .filter(|(_, at)| live(*at, now))
            .map(|(context, _)| context.clone()))
    }

    fn delete(&self, key: &ContextKey) -> Result<(), Error> {
        self.lock().map.remove(key);
        Ok(())
    }
}

/// A store that keeps nothing (FxA's `memcached.address = "none"`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DisabledStore;

impl ContextStore for DisabledStore {
    fn add(&self, _: &ContextKey, _: &MetricsContext, ttl: Duration) -> Result<bool, Error> {
        check_ttl(ttl)?;
        Ok(false)
    }

    fn get(&self, _: &ContextKey) -> Result<Option<MetricsContext>, Error> {
        Ok(None)
    }

    fn delete(&self, _: &ContextKey) -> Result<(), Error> {
        Ok(())
    }
}

/// FxA's context operations over a [`ContextStore`] (`lib/metrics/context.js`).
#[derive(Debug, Clone)]
pub struct Contexts {
    store: Arc<dyn ContextStore>,
    ttl: Duration,
}

impl Contexts {
    /// Operations over `store` with the default TTL of 7200 s.
    pub fn new(store: Arc<dyn ContextStore>) -> Self {
        Self {
            store,
            ttl: DEFAULT_TTL,
        }
    }

    /// Sets the TTL of stashed contexts.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ContextStore> {
        &self.store
    }

    /// Stashes `context` for `token`; the first stash of a key wins (memcached `add`), so
    /// UTM values cannot change mid-flow. Returns whether it was stored.
    ///
    /// FxA stores the payload's `metricsContext` with `service` set to
    /// `payload.service || query.service`: set [`MetricsContext::service`] before calling.
    ///
    /// # Errors
    /// [`Error::MissingToken`], [`Error::Ttl`] or the store's error.
    pub fn stash(&self, token: Token<'_>, context: &MetricsContext) -> Result<bool, Error> {
        self.store.add(&ContextKey::new(token)?, context, self.ttl)
    }

    /// Reads the context stashed for `token`.
    ///
    /// # Errors
    /// [`Error::MissingToken`] or the store's error.
    pub fn get(&self, token: Token<'_>) -> Result<Option<MetricsContext>, Error> {
        self.store.get(&ContextKey::new(token)?)
    }

    /// Copies the context of `old` to `new` (first write wins); returns whether it was stored.
    ///
    /// # Errors
    /// [`Error::MissingToken`] or the store's error.
    pub fn propagate(&self, old: Token<'_>, new: Token<'_>) -> Result<bool, Error> {
        let new_key = ContextKey::new(new)?;
        match self.store.get(&ContextKey::new(old)?)? {
            Some(context) => self.store.add(&new_key, &context, self.ttl),
            None => Ok(false),
        }
    }

    /// Deletes the context of `token` (after `flow.complete`).
    ///
    /// # Errors
    /// [`Error::MissingToken`] or the store's error.
    pub fn clear(&self, token: Token<'_>) -> Result<(), Error> {
        self.store.delete(&ContextKey::new(token)?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FLOW_ID: &str = "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef";

    #[track_caller]
    fn field_error(payload: Value) -> (String, String) {
        match MetricsContext::from_payload(&payload) {
            Err(Error::InvalidField { field, .. }) => (field.to_owned(), String::new()),
            Err(Error::MissingPeer { present, missing }) => {
                (present.to_owned(), missing.to_owned())
            }
            Err(Error::UnknownField(field)) => (field, "unknown".to_owned()),
            other => panic!("{payload}: {other:?}"),
        }
    }

    #[test]
    fn valid_payloads() {
        let long = "a".repeat(128);
        for payload in [
            json!({}),
            json!({"deviceId": "FEDCBA9876543210fedcba9876543210"}),
            json!({"flowId": FLOW_ID, "flowBeginTime": 1_551_700_000_000_i64}),
            json!({"flowId": FLOW_ID, "flowBeginTime": 1.5517e12}),
            json!({"flowId": FLOW_ID, "flowBeginTime": "1551700000000"}),
            json!({"entrypoint": "fxa:signup-menu.panel_1"}),
            json!({"entrypoint": long}),
            json!({"utmCampaign": "page+referral+-+not+part+of+a+campaign"}),
            json!({"utmCampaign": "a/b.c%20-d_e", "utmTerm": "x", "utmSource": "y"}),
            json!({"productId": "prod_123", "planId": "plan 1"}),
        ] {
            assert!(MetricsContext::from_payload(&payload).is_ok(), "{payload}");
        }
    }

    #[test]
    fn invalid_payloads_name_the_field() {
        let long = "a".repeat(129);
        let cases = [
            (json!({"deviceId": "abc"}), "deviceId"),
            (json!({"deviceId": "g".repeat(32)}), "deviceId"),
            (json!({"deviceId": 5}), "deviceId"),
            (json!({"entrypoint": ""}), "entrypoint"),
            (json!({"entrypoint": "a b"}), "entrypoint"),
            (json!({"entrypoint": long}), "entrypoint"),
            (json!({"entrypointExperiment": "é"}), "entrypointExperiment"),
            (
                json!({"flowId": "a".repeat(63), "flowBeginTime": 1}),
                "flowId",
            ),
            (
                json!({"flowId": FLOW_ID, "flowBeginTime": 0}),
                "flowBeginTime",
            ),
            (
                json!({"flowId": FLOW_ID, "flowBeginTime": -1}),
                "flowBeginTime",
            ),
            (
                json!({"flowId": FLOW_ID, "flowBeginTime": 1.5}),
                "flowBeginTime",
            ),
            (
                json!({"flowId": FLOW_ID, "flowBeginTime": true}),
                "flowBeginTime",
            ),
            (json!({"utmCampaign": "page+referral"}), "utmCampaign"),
            (json!({"utmContent": "a:b"}), "utmContent"),
            (json!({"utmMedium": ""}), "utmMedium"),
            (json!({"utmSource": "a+b"}), "utmSource"),
            (json!({"utmTerm": "a b"}), "utmTerm"),
            (json!({"productId": ""}), "productId"),
            (json!({"planId": "é".repeat(129)}), "planId"),
        ];
        for (payload, field) in cases {
            assert_eq!(field_error(payload.clone()).0, field, "{payload}");
        }
        assert_eq!(
            field_error(json!({"flowId": FLOW_ID})),
            ("flowId".to_owned(), "flowBeginTime".to_owned())
        );
        assert_eq!(
            field_error(json!({"flowBeginTime": 5})),
            ("flowBeginTime".to_owned(), "flowId".to_owned())
        );
        assert_eq!(
            field_error(json!({"service": "sync"})),
            ("service".to_owned(), "unknown".to_owned())
        );
        assert!(matches!(
            MetricsContext::from_payload(&json!([])),
            Err(Error::NotAnObject)
        ));
    }

    #[test]
    fn error_messages_are_lower_case_and_name_the_field() {
        let err = MetricsContext {
            utm_term: Some("a b".into()),
            ..Default::default()
        }
        .validate_schema()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "metrics context field `utmTerm` is invalid: expected at most 128 characters of [A-Za-z0-9_/.%-]"
        );
    }

    #[test]
    fn serde_uses_fxa_names() {
        let context = MetricsContext {
            device_id: Some("d".into()),
            flow_begin_time: Some(5),
            flow_complete_signal: Some("account.signed".into()),
            utm_campaign: Some("c".into()),
            ..Default::default()
        };
        let json = serde_json::to_value(&context).unwrap();
        assert_eq!(
            json,
            json!({"deviceId": "d", "flowBeginTime": 5, "utmCampaign": "c", "flowCompleteSignal": "account.signed"})
        );
        assert_eq!(
            serde_json::from_value::<MetricsContext>(json).unwrap(),
            context
        );
        assert!(serde_json::from_value::<MetricsContext>(json!({"nope": 1})).is_err());
    }

    #[test]
    fn key_needs_uid_and_id() {
        assert!(matches!(
            ContextKey::new(Token { uid: "", id: "x" }),
            Err(Error::MissingToken)
        ));
        assert!(matches!(
            ContextKey::new(Token { uid: "x", id: "" }),
            Err(Error::MissingToken)
        ));
    }

    #[test]
    fn memory_store_prunes_expired_entries() {
        let clock = Arc::new(crate::clock::FixedClock::new(0));
        let store = MemoryStore::new(clock.clone());
        let context = MetricsContext::default();
        for i in 0..1024 {
            let id = i.to_string();
            let key = ContextKey::new(Token { uid: "u", id: &id }).unwrap();
            assert!(store.add(&key, &context, Duration::from_secs(1)).unwrap());
        }
        clock.advance(1000);
        let key = ContextKey::new(Token {
            uid: "u",
            id: "new",
        })
        .unwrap();
        assert!(store.add(&key, &context, Duration::from_secs(1)).unwrap());
        assert_eq!(store.len(), 1);
    }
}
