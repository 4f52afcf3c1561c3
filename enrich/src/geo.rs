//! GeoIP: the client address of a request, and its country and state from a MaxMind database.
//!
//! FxA's content server (`server/lib/remote-address.js`, `server/lib/geo-locate.js`, with
//! `fxa-geodb`) took the `X-Forwarded-For` addresses, trimmed, followed by the socket's peer
//! address, kept those that looked like addresses, and chose the one at `clientAddressDepth`
//! from the end (1 by default: the last one; clamped to the first).
//! It looked that address up and kept `{country, state}`: the English names of the country and
//! of the first subdivision.
//! A failed lookup logged an error and gave `{}`.
//!
//! The port does the same, with one deliberate difference: FxA's filter was a crude IPv4
//! pattern (`^[0-9]{1,3}(\.[0-9]{1,3}){3}$`, which let `999.1.1.1` through and dropped every
//! IPv6 address); the port keeps what parses as an IPv4 or IPv6 address, so IPv6 clients are
//! located too, and IPv4-mapped IPv6 addresses (what a dual-stack socket reports for an IPv4
//! client) are looked up as the IPv4 address they carry.

use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where a request came from, as FxA's geolocation returned it.
///
/// Serialized as `{"country": .., "state": ..}` with absent keys left out, the form of the
/// conformance cases' `location`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The country's English name (`United States`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The English name of the first subdivision (`California`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl Location {
    /// True when neither the country nor the state is known (FxA's `{}`).
    pub fn is_empty(&self) -> bool {
        self.country.is_none() && self.state.is_none()
    }
}

/// The client address of a request: FxA's `remote-address.js` with `clientAddressDepth`.
///
/// `x_forwarded_for` is the header's value (`None` when absent), `peer` the socket's address,
/// `depth` how many addresses from the end the client is (1: the last one, which is the peer
/// when there is one; a load balancer in front adds one).
///
/// # Example
///
/// ```
/// use metricsmith_enrich::client_address;
/// use std::net::IpAddr;
///
/// let peer: IpAddr = "10.0.0.2".parse().unwrap();
/// let xff = Some("203.0.113.7, 198.51.100.1");
/// assert_eq!(client_address(xff, Some(peer), 1), Some(peer));
/// assert_eq!(client_address(xff, Some(peer), 3), "203.0.113.7".parse().ok());
/// assert_eq!(client_address(xff, Some(peer), 9), "203.0.113.7".parse().ok());
/// assert_eq!(client_address(Some("junk"), None, 1), None);
/// ```
pub fn client_address(
    x_forwarded_for: Option<&str>,
    peer: Option<IpAddr>,
    depth: usize,
) -> Option<IpAddr> {
    let mut addresses: Vec<IpAddr> = x_forwarded_for
        .unwrap_or("")
        .split(',')
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect();
    addresses.extend(peer);
    // A dual-stack socket reports IPv4 clients as `::ffff:a.b.c.d`: look them up as IPv4.
    for address in &mut addresses {
        *address = address.to_canonical();
    }
    let index = addresses.len().saturating_sub(depth.max(1));
    addresses.get(index).copied()
}

/// A MaxMind database (GeoIP2 or GeoLite2 City, or any database with the same fields).
///
/// The whole file is read into memory at start-up; lookups are lock-free (`Send + Sync`).
pub struct GeoIp {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let metadata = self.reader.metadata();
        f.debug_struct("GeoIp")
            .field("database_type", &metadata.database_type)
            .field("build_epoch", &metadata.build_epoch)
            .finish_non_exhaustive()
    }
}

/// The fields read from a record; the rest is skipped while decoding.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<Named<'a>>,
    #[serde(borrow, default)]
    subdivisions: Option<Vec<Named<'a>>>,
}

#[derive(Deserialize)]
struct Named<'a> {
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

impl Named<'_> {
    fn english(&self) -> Option<String> {
        self.names.as_ref()?.en.map(str::to_owned)
    }
}

impl GeoIp {
    /// Opens a database file.
    ///
    /// # Errors
    ///
    /// [`Error::GeoIpOpen`] with the path if the file cannot be read or is not a MaxMind
    /// database.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let reader = maxminddb::Reader::open_readfile(path).map_err(|source| Error::GeoIpOpen {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self { reader })
    }

    /// Builds a database from its bytes (tests, or a database shipped inside a binary).
    ///
    /// # Errors
    ///
    /// [`Error::GeoIpOpen`] (with an empty path) if the bytes are not a MaxMind database.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, Error> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|source| Error::GeoIpOpen {
            path: Default::default(),
            source,
        })?;
        Ok(Self { reader })
    }

    /// The country and state of an address.
    ///
    /// # Errors
    ///
    /// [`Error::GeoIpLookup`] when the database is corrupt where the address leads, or when
    /// an IPv6 address is looked up in an IPv4-only database.
    /// FxA logged such errors and carried on with `{}`; [`GeoIp::locate`] does that.
    pub fn lookup(&self, address: IpAddr) -> Result<Location, Error> {
        let lookup_error = |source| Error::GeoIpLookup { address, source };
        let result = self.reader.lookup(address).map_err(lookup_error)?;
        let Some(record) = result.decode::<Record<'_>>().map_err(lookup_error)? else {
            return Ok(Location::default());
        };
        Ok(Location {
            country: record.country.as_ref().and_then(Named::english),
            state: record
                .subdivisions
                .as_ref()
                .and_then(|s| s.first())
                .and_then(Named::english),
        })
    }

    /// The location of a request's client, or the empty location when there is no usable
    /// address or the lookup fails (the error is returned alongside, for the caller to log).
    pub fn locate(
        &self,
        x_forwarded_for: Option<&str>,
        peer: Option<IpAddr>,
        depth: usize,
    ) -> (Location, Option<Error>) {
        match client_address(x_forwarded_for, peer, depth) {
            None => (Location::default(), None),
            Some(address) => match self.lookup(address) {
                Ok(location) => (location, None),
                Err(error) => (Location::default(), Some(error)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_is_counted_from_the_end() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let peer = ip("10.0.0.9");
        for (xff, peer, depth, expected) in [
            (None, peer, 1, peer),
            (None, None, 1, None),
            (Some("1.2.3.4"), peer, 1, peer),
            (Some("1.2.3.4"), peer, 2, ip("1.2.3.4")),
            (Some("1.2.3.4"), None, 1, ip("1.2.3.4")),
            (Some(" 1.2.3.4 ,  5.6.7.8 "), peer, 2, ip("5.6.7.8")),
            (Some("1.2.3.4, 5.6.7.8"), peer, 3, ip("1.2.3.4")),
            (Some("1.2.3.4, 5.6.7.8"), peer, 30, ip("1.2.3.4")),
            // Depth 0 counts as 1, as FxA's `|| 1` did.
            (Some("1.2.3.4"), peer, 0, peer),
            // Junk entries are skipped before counting.
            (Some("unknown, 1.2.3.4, 999.1.1.1"), peer, 2, ip("1.2.3.4")),
            (Some("2001:db8::1"), peer, 2, ip("2001:db8::1")),
            (Some("::ffff:1.2.3.4"), peer, 2, ip("1.2.3.4")),
            (None, ip("::ffff:10.0.0.9"), 1, peer),
            (Some(""), None, 1, None),
        ] {
            assert_eq!(
                client_address(xff, peer, depth),
                expected,
                "{xff:?} {depth}"
            );
        }
    }
}
