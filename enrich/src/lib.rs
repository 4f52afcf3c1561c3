//! Request enrichment for the metrics collector: what FxA's servers derived from a request's
//! headers and address before mapping its events to Amplitude.
//!
//! - [`UserAgentParser`]: the `User-Agent` header to browser, operating system and form
//!   factor, with uap-core's regexes and FxA's safety rules, behind a bounded cache.
//! - [`Languages`]: `Accept-Language` negotiation against a service's supported languages, as
//!   i18n-abide did for the content server (the flow line's `locale`).
//! - [`GeoIp`] and [`client_address`]: the client's address and its country and state from a
//!   MaxMind database.
//!
//! Everything here is synchronous and shared by reference between threads.

pub mod geo;
pub mod locale;
pub mod user_agent;

pub use geo::{GeoIp, Location, client_address};
pub use locale::{Languages, Negotiated};
pub use user_agent::{UserAgent, UserAgentParser};

use std::net::IpAddr;
use std::path::PathBuf;

/// What can go wrong while enriching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The embedded uap-core regexes did not load or compile.
    #[error("the uap-core regexes do not load: {0}")]
    UserAgentRegexes(String),
    /// A MaxMind database could not be opened.
    #[error("cannot open the GeoIP database {}: {source}", path.display())]
    GeoIpOpen {
        /// The file, empty for a database given as bytes.
        path: PathBuf,
        /// The reader's reason.
        source: maxminddb::MaxMindDbError,
    },
    /// An address could not be looked up.
    #[error("cannot look up {address} in the GeoIP database: {source}")]
    GeoIpLookup {
        /// The address.
        address: IpAddr,
        /// The reader's reason.
        source: maxminddb::MaxMindDbError,
    },
}
