//! One store test suite, run against every [`ContextStore`]: the memory store and, with the
//! `memcached` feature, a real memcached that the test starts itself.

// A test crate: helpers outside #[test] fns unwrap too, and a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use metricsmith::clock::FixedClock;
use metricsmith::context::{
    ContextKey, ContextStore, Contexts, DisabledStore, Error, MemoryStore, MetricsContext, Token,
};

fn full_context() -> MetricsContext {
    MetricsContext {
        device_id: Some("fedcba9876543210fedcba9876543210".into()),
        entrypoint: Some("menupanel".into()),
        entrypoint_experiment: Some("exp".into()),
        entrypoint_variation: Some("var".into()),
        flow_id: Some("1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef".into()),
        flow_begin_time: Some(1_551_700_000_000),
        utm_campaign: Some("page+referral+-+not+part+of+a+campaign".into()),
        utm_content: Some("content".into()),
        utm_medium: Some("medium".into()),
        utm_source: Some("source".into()),
        utm_term: Some("term".into()),
        product_id: Some("prod".into()),
        plan_id: Some("plan".into()),
        service: Some("sync".into()),
        flow_complete_signal: Some("account.signed".into()),
        flow_type: Some("login".into()),
    }
}

fn key(id: &str) -> ContextKey {
    ContextKey::new(Token {
        uid: "0123456789abcdef0123456789abcdef",
        id,
    })
    .unwrap()
}

/// The shared suite. `advance` moves the store's notion of time forward (the memory store's
/// clock, or real time for memcached, whose TTLs have a resolution of one second).
fn store_suite(store: Arc<dyn ContextStore>, advance: &dyn Fn(Duration)) {
    let hour = Duration::from_secs(3600);
    let first = full_context();
    let second = MetricsContext {
        entrypoint: Some("other".into()),
        ..MetricsContext::default()
    };

    // add / get / first write wins / delete.
    let k = key("suite-basic");
    assert_eq!(store.get(&k).unwrap(), None);
    assert!(store.add(&k, &first, hour).unwrap());
    assert_eq!(store.get(&k).unwrap(), Some(first.clone()));
    assert!(!store.add(&k, &second, hour).unwrap());
    assert_eq!(store.get(&k).unwrap(), Some(first.clone()));
    store.delete(&k).unwrap();
    assert_eq!(store.get(&k).unwrap(), None);
    store.delete(&k).unwrap();
    assert!(store.add(&k, &second, hour).unwrap());
    assert_eq!(store.get(&k).unwrap(), Some(second.clone()));

    // An empty context round-trips too.
    let empty = key("suite-empty");
    assert!(store.add(&empty, &MetricsContext::default(), hour).unwrap());
    assert_eq!(store.get(&empty).unwrap(), Some(MetricsContext::default()));

    // Over-long TTLs are refused rather than read as dates.
    let too_long = store.add(
        &key("suite-ttl-long"),
        &first,
        Duration::from_secs(31 * 24 * 3600),
    );
    assert!(matches!(too_long, Err(Error::Ttl(_))), "{too_long:?}");

    // TTL: a 1 s entry expires, a zero TTL never does, and an expired key is free again.
    let short = key("suite-ttl-short");
    let forever = key("suite-ttl-zero");
    assert!(store.add(&short, &first, Duration::from_secs(1)).unwrap());
    assert!(store.add(&forever, &first, Duration::ZERO).unwrap());
    assert!(store.get(&short).unwrap().is_some());
    advance(Duration::from_millis(2100));
    assert_eq!(store.get(&short).unwrap(), None);
    assert_eq!(store.get(&forever).unwrap(), Some(first.clone()));
    assert!(store.add(&short, &second, hour).unwrap());
    assert_eq!(store.get(&short).unwrap(), Some(second.clone()));

    // FxA's operations over the store.
    let contexts = Contexts::new(Arc::clone(&store));
    let old = Token {
        uid: "0123456789abcdef0123456789abcdef",
        id: "suite-old-token",
    };
    let new = Token {
        uid: "0123456789abcdef0123456789abcdef",
        id: "suite-new-token",
    };
    assert_eq!(contexts.get(old).unwrap(), None);
    assert!(!contexts.propagate(old, new).unwrap());
    assert!(contexts.stash(old, &first).unwrap());
    assert!(!contexts.stash(old, &second).unwrap());
    assert!(contexts.propagate(old, new).unwrap());
    assert_eq!(contexts.get(new).unwrap(), Some(first.clone()));
    assert!(!contexts.propagate(old, new).unwrap());
    contexts.clear(old).unwrap();
    assert_eq!(contexts.get(old).unwrap(), None);
    assert_eq!(contexts.get(new).unwrap(), Some(first));
    let missing = Token { uid: "", id: "x" };
    assert!(matches!(
        contexts.stash(missing, &second),
        Err(Error::MissingToken)
    ));
    assert!(matches!(contexts.clear(missing), Err(Error::MissingToken)));
}

#[test]
fn memory_store_passes_the_store_suite() {
    let clock = Arc::new(FixedClock::new(1_551_700_000_000));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    store_suite(store, &|d| {
        clock.advance(i64::try_from(d.as_millis()).unwrap())
    });
}

#[test]
fn memory_store_expires_at_the_ttl_boundary() {
    let clock = Arc::new(FixedClock::new(0));
    let store = MemoryStore::new(clock.clone());
    let k = key("boundary");
    store
        .add(&k, &full_context(), Duration::from_secs(7200))
        .unwrap();
    clock.set(7_199_999);
    assert!(store.get(&k).unwrap().is_some());
    clock.set(7_200_000);
    assert!(store.get(&k).unwrap().is_none());
}

#[test]
fn disabled_store_keeps_nothing() {
    let contexts = Contexts::new(Arc::new(DisabledStore));
    let token = Token { uid: "u", id: "i" };
    assert!(!contexts.stash(token, &full_context()).unwrap());
    assert_eq!(contexts.get(token).unwrap(), None);
    contexts.clear(token).unwrap();
}

#[cfg(feature = "memcached")]
mod memcached {
    use std::time::Duration;

    use metricsmith::context::{Contexts, Error, MemcachedConfig, MemcachedStore, Token};

    use super::*;

    mod server {
        include!("support/memcached.rs");
    }

    #[test]
    fn real_memcached_passes_the_store_suite() {
        let server = server::Memcached::start();
        let store = Arc::new(MemcachedStore::new(MemcachedConfig {
            address: server.address(),
            ..MemcachedConfig::default()
        }));
        store_suite(store.clone(), &std::thread::sleep);

        // The value is FxA-shaped JSON under the namespaced key.
        let raw =
            memcache::Client::connect(format!("memcache://{}", server.address()).as_str()).unwrap();
        let k = key("suite-basic");
        let text: String = raw.get(&k.namespaced()).unwrap().unwrap();
        assert_eq!(text, r#"{"entrypoint":"other"}"#);
        assert!(k.namespaced().starts_with("fxa-metrics~"));
    }

    #[test]
    fn unreachable_memcached_is_an_error_not_a_hang() {
        let address = server::closed_port_address();
        let store = Arc::new(MemcachedStore::new(MemcachedConfig {
            address,
            connect_timeout: Duration::from_millis(200),
            io_timeout: Duration::from_millis(200),
        }));
        let contexts = Contexts::new(store);
        let token = Token { uid: "u", id: "i" };
        let started = std::time::Instant::now();
        let err = contexts.get(token).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Store {
                    backend: "memcached",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with("memcached connect failed"),
            "{err}"
        );
        assert!(contexts.stash(token, &full_context()).is_err());
        assert!(contexts.clear(token).is_err());
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
