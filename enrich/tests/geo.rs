//! GeoIP against a small MaxMind database written by this test (no network, no MaxMind data).
//!
//! `tests/fixtures/geoip-test.mmdb` is the database [`test_database`] writes, committed so that
//! other crates' tests (the collector's `serve`) can open it by path; the freshness test fails
//! when the committed file differs from what the writer produces, and rewrites it with
//! `METRICSMITH_UPDATE_FIXTURES=1 cargo test -p metricsmith-enrich --test geo`.

mod mmdb;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use metricsmith_enrich::{Error, GeoIp, Location};
use mmdb::{Data, Writer};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/geoip-test.mmdb")
}

fn names(pairs: &[(&str, &str)]) -> Data {
    Data::Map(
        pairs
            .iter()
            .map(|(lang, name)| ((*lang).to_owned(), Data::String((*name).to_owned())))
            .collect(),
    )
}

fn place(english: Option<&str>, code: &str) -> Data {
    let mut pairs = vec![("iso_code".to_owned(), Data::String(code.to_owned()))];
    let mut translated = vec![("de", "Irgendwo")];
    if let Some(english) = english {
        translated.push(("en", english));
    }
    pairs.push(("names".to_owned(), names(&translated)));
    Data::Map(pairs)
}

fn record(country: Option<Data>, subdivisions: Vec<Data>) -> Data {
    let mut pairs = vec![(
        "continent".to_owned(),
        Data::Map(vec![("code".to_owned(), Data::String("XX".to_owned()))]),
    )];
    if let Some(country) = country {
        pairs.push(("country".to_owned(), country));
    }
    if !subdivisions.is_empty() {
        pairs.push(("subdivisions".to_owned(), Data::Array(subdivisions)));
    }
    pairs.push((
        "location".to_owned(),
        Data::Map(vec![("accuracy_radius".to_owned(), Data::U16(100))]),
    ));
    Data::Map(pairs)
}

/// The test networks (documentation and shared address ranges) and what they locate to.
fn test_database() -> Vec<u8> {
    let mut w = Writer::new();
    let net = |s: &str| s.parse::<IpAddr>().expect("a test network");
    w.insert(
        net("198.51.100.0"),
        24,
        &record(
            Some(place(Some("United States"), "US")),
            vec![place(Some("California"), "CA")],
        ),
    );
    w.insert(
        net("203.0.113.0"),
        24,
        &record(
            Some(place(Some("Brazil"), "BR")),
            vec![place(Some("São Paulo"), "SP")],
        ),
    );
    w.insert(
        net("192.0.2.0"),
        25,
        &record(Some(place(Some("France"), "FR")), vec![]),
    );
    w.insert(
        net("192.0.2.128"),
        25,
        &record(None, vec![place(Some("Île-de-France"), "IDF")]),
    );
    w.insert(
        net("100.64.0.0"),
        10,
        &record(Some(place(None, "DE")), vec![place(None, "BE")]),
    );
    w.insert(
        net("2001:db8::"),
        32,
        &record(
            Some(place(Some("Germany"), "DE")),
            vec![place(Some("Berlin"), "BE"), place(Some("Mitte"), "MI")],
        ),
    );
    w.finish("metricsmith-test-City", 1_700_000_000)
}

fn location(country: Option<&str>, state: Option<&str>) -> Location {
    Location {
        country: country.map(str::to_owned),
        state: state.map(str::to_owned),
    }
}

#[test]
fn the_committed_fixture_is_what_the_writer_produces() {
    let bytes = test_database();
    let path = fixture();
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != bytes {
        if std::env::var_os("METRICSMITH_UPDATE_FIXTURES").is_some() {
            std::fs::write(&path, &bytes).expect("write the fixture");
        } else {
            panic!(
                "{} is stale: run `METRICSMITH_UPDATE_FIXTURES=1 cargo test -p metricsmith-enrich --test geo`",
                path.display()
            );
        }
    }
    let geo = GeoIp::open(&path).expect("the fixture opens");
    let ip: IpAddr = "198.51.100.1".parse().expect("an address");
    assert_eq!(
        geo.lookup(ip).expect("lookup"),
        location(Some("United States"), Some("California"))
    );
}

#[test]
fn addresses_locate_to_english_country_and_first_subdivision() {
    let geo = GeoIp::from_bytes(test_database()).expect("the database opens");
    for (address, expected) in [
        (
            "198.51.100.7",
            location(Some("United States"), Some("California")),
        ),
        ("203.0.113.255", location(Some("Brazil"), Some("São Paulo"))),
        ("192.0.2.1", location(Some("France"), None)),
        ("192.0.2.200", location(None, Some("Île-de-France"))),
        // Names without an English one are absent.
        ("100.100.1.1", location(None, None)),
        ("2001:db8:1::5", location(Some("Germany"), Some("Berlin"))),
        // Not in the database: the empty location, as FxA's `{}`.
        ("8.8.8.8", location(None, None)),
        ("127.0.0.1", location(None, None)),
        ("2001:db9::1", location(None, None)),
        // IPv4-mapped IPv6 is a different address in the tree: not found.
        ("::ffff:198.51.100.7", location(None, None)),
    ] {
        let ip: IpAddr = address.parse().expect("a test address");
        assert_eq!(geo.lookup(ip).expect("lookup"), expected, "{address}");
    }
    assert!(location(None, None).is_empty());
}

#[test]
fn requests_locate_through_the_client_address() {
    let geo = GeoIp::from_bytes(test_database()).expect("the database opens");
    let peer: Option<IpAddr> = "10.1.2.3".parse().ok();
    let (found, error) = geo.locate(Some("198.51.100.7, 10.0.0.1"), peer, 3);
    assert_eq!(found, location(Some("United States"), Some("California")));
    assert!(error.is_none());
    // Depth 1 is the peer itself, which is not in the database.
    let (found, error) = geo.locate(Some("198.51.100.7"), peer, 1);
    assert!(found.is_empty() && error.is_none());
    let (found, error) = geo.locate(Some("not an address"), None, 1);
    assert!(found.is_empty() && error.is_none());
}

#[test]
fn a_location_serializes_like_the_corpus() {
    let full = location(Some("Brazil"), Some("São Paulo"));
    let text = serde_json::to_string(&full).expect("serialize");
    assert_eq!(text, r#"{"country":"Brazil","state":"São Paulo"}"#);
    assert_eq!(
        serde_json::to_string(&location(None, Some("x"))).expect("serialize"),
        r#"{"state":"x"}"#
    );
    let back: Location = serde_json::from_str(r#"{"country":"France"}"#).expect("deserialize");
    assert_eq!(back, location(Some("France"), None));
}

#[test]
fn bad_databases_are_clear_errors() {
    let missing = Path::new("/nonexistent/GeoLite2-City.mmdb");
    match GeoIp::open(missing) {
        Err(e @ Error::GeoIpOpen { .. }) => {
            let text = e.to_string();
            assert!(text.contains("/nonexistent/GeoLite2-City.mmdb"), "{text}");
        }
        other => panic!("expected GeoIpOpen, got {other:?}"),
    }
    assert!(matches!(
        GeoIp::from_bytes(b"not a database".to_vec()),
        Err(Error::GeoIpOpen { .. })
    ));
    let mut truncated = test_database();
    truncated.truncate(40);
    assert!(GeoIp::from_bytes(truncated).is_err());
}
