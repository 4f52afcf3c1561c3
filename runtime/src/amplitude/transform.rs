//! The compiled mapping and the transform itself.

use serde_json::{Map, Value as Json};

use super::mapping::MappingSpec;

/// OAuth client id -> service name (FxA's `oauth.clientIds`).
pub type OauthClients = std::collections::HashMap<String, String>;

/// What the transform needs besides the mapping and the event.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// OAuth client id -> service name.
    pub oauth_clients: &'a OauthClients,
    /// The `app_version` field; absent when `None`.
    pub app_version: Option<&'a str>,
    /// The clock's now in ms (device windows, time fallback).
    pub now_ms: i64,
}

/// The source event: FxA's `{type, time}`.
#[derive(Debug, Clone, Copy)]
pub struct SourceEvent<'a> {
    /// The event name; any JSON value (JavaScript converts it with `String()`), `None` when absent.
    pub name: Option<&'a Json>,
    /// The event time; `None` when absent.
    pub time: Option<&'a Json>,
}

/// One amplitude event produced by the transform.
#[derive(Debug, Clone, PartialEq)]
pub struct AmplitudeEvent {
    /// The event object in FxA key order.
    pub event: Map<String, Json>,
    /// Whether the service logs it (see [`super::Policy::require_user_or_device`]).
    pub logged: bool,
}

/// Why a [`MappingSpec`] could not be compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// A rule's pattern does not compile.
    #[error("rule {index} of service `{service}`: invalid pattern: {source}")]
    Pattern {
        /// The service.
        service: String,
        /// The rule index.
        index: usize,
        /// The regex error.
        source: regex::Error,
    },
}

/// A compiled mapping: exact names in a hash map, all rules in one `RegexSet`.
#[derive(Debug)]
pub struct Mapping {
    spec: MappingSpec,
}

impl Mapping {
    /// Compiles a mapping.
    ///
    /// # Errors
    /// [`MappingError::Pattern`] when a rule's pattern does not compile.
    pub fn new(spec: MappingSpec) -> Result<Self, MappingError> {
        Ok(Self { spec })
    }

    /// The spec this mapping was compiled from.
    pub fn spec(&self) -> &MappingSpec {
        &self.spec
    }

    /// Maps one source event and its data bag to the amplitude events it produces.
    pub fn transform(
        &self,
        _event: SourceEvent<'_>,
        _data: &Map<String, Json>,
        _env: &Env<'_>,
    ) -> Vec<AmplitudeEvent> {
        Vec::new()
    }
}
