//! The memcached [`ContextStore`] (feature `memcached`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use memcache::{Client, CommandError, MemcacheError};

use super::{ContextKey, ContextStore, Error, MetricsContext, check_ttl};

/// Where memcached is and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemcachedConfig {
    /// `host:port` (FxA's `memcached.address`, default `127.0.0.1:11211`).
    pub address: String,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for each read and write.
    pub io_timeout: Duration,
}

impl Default for MemcachedConfig {
    fn default() -> Self {
        Self {
            address: "127.0.0.1:11211".to_owned(),
            connect_timeout: Duration::from_secs(1),
            io_timeout: Duration::from_secs(1),
        }
    }
}

/// A memcached store: JSON values under [`ContextKey::namespaced`] keys, `add` for first write
/// wins, TTLs in seconds.
///
/// It connects on first use and again after a failed connection, so a service starts while
/// memcached is down; every failure or timeout is an [`Error::Store`].
pub struct MemcachedStore {
    config: MemcachedConfig,
    client: Mutex<Option<Arc<Client>>>,
}

impl fmt::Debug for MemcachedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemcachedStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MemcachedStore {
    /// A store for `config`; nothing is connected yet.
    pub fn new(config: MemcachedConfig) -> Self {
        Self {
            config,
            client: Mutex::new(None),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MemcachedConfig {
        &self.config
    }

    fn client(&self) -> Result<Arc<Client>, Error> {
        // The slot only ever holds a complete client, so a poisoned lock is usable.
        let mut slot = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = &*slot {
            return Ok(Arc::clone(client));
        }
        // `timeout` sets the read and write timeouts of every connection the pool opens.
        let url = format!(
            "memcache://{}?timeout={}",
            self.config.address,
            self.config.io_timeout.as_secs_f64()
        );
        let client = Client::builder()
            .add_server(url.as_str())
            .and_then(|b| {
                b.with_connection_timeout(self.config.connect_timeout)
                    .build()
            })
            .map_err(|err| failure("connect", &err))?;
        let client = Arc::new(client);
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }
}

fn failure(op: &'static str, err: &MemcacheError) -> Error {
    Error::Store {
        backend: "memcached",
        op,
        message: err.to_string(),
    }
}

/// Whole seconds, rounded up so a short TTL does not become "never expires".
fn ttl_secs(ttl: Duration) -> u32 {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    // check_ttl keeps ttl within 30 days.
    u32::try_from(secs).unwrap_or(u32::MAX)
}

impl ContextStore for MemcachedStore {
    fn add(
        &self,
        key: &ContextKey,
        context: &MetricsContext,
        ttl: Duration,
    ) -> Result<bool, Error> {
        check_ttl(ttl)?;
        let value = serde_json::to_string(context).map_err(Error::Corrupt)?;
        let client = self.client()?;
        match client.add(&key.namespaced(), value.as_str(), ttl_secs(ttl)) {
            Ok(()) => Ok(true),
            // The binary protocol answers `add` on a live key with "key exists".
            Err(MemcacheError::CommandError(CommandError::KeyExists)) => Ok(false),
            Err(err) => Err(failure("add", &err)),
        }
    }

    fn get(&self, key: &ContextKey) -> Result<Option<MetricsContext>, Error> {
        let client = self.client()?;
        match client.get::<String>(&key.namespaced()) {
            Ok(Some(text)) => serde_json::from_str(&text)
                .map(Some)
                .map_err(Error::Corrupt),
            Ok(None) => Ok(None),
            Err(err) => Err(failure("get", &err)),
        }
    }

    fn delete(&self, key: &ContextKey) -> Result<(), Error> {
        let client = self.client()?;
        client
            .delete(&key.namespaced())
            .map(|_| ())
            .map_err(|err| failure("delete", &err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_rounds_up() {
        assert_eq!(ttl_secs(Duration::from_millis(1)), 1);
        assert_eq!(ttl_secs(Duration::from_secs(7200)), 7200);
        assert_eq!(ttl_secs(Duration::ZERO), 0);
    }
}
