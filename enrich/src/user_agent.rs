//! User agents: uap-core's regexes, and the fields FxA derived from their result.
//!
//! FxA parsed the `User-Agent` header with node-uap (uap-core's regexes), passed the result
//! through a "safe" wrapper (`fxa-shared/metrics/user-agent.js`), and then kept four values for
//! Amplitude (`fxa-shared/metrics/amplitude.js`: `mapBrowser`, `mapOs`, `mapFormFactor`):
//!
//! - a family (browser or operating system) is kept only when it matches `^[\w ]{1,32}$`
//!   (ASCII word characters and spaces) and is not `Other`;
//! - a version is node-uap's `toVersionString()`, emptied when it does not match
//!   `^[\w.]{1,16}$`;
//! - the form factor is the device family, only when the device has a brand and the brand is
//!   not `Generic`.
//!
//! The content server (1.134.0) and the payments server (1.148.4) used the same code, so one
//! [`UserAgent`] serves both.
//! The regexes are uap-core's, as shipped by the `ua-parser` crate (see `uap-core/README.md`
//! in this crate for the version and for the cases where they answer differently from the
//! 2019 regexes that FxA ran).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::Error;

/// uap-core's `regexes.yaml`, the copy that the `ua-parser` crate's package ships.
const REGEXES_YAML: &str = include_str!("../uap-core/regexes.yaml");

/// The headers remembered by default: real traffic repeats a few thousand user agents.
pub const DEFAULT_CACHE_CAPACITY: usize = 8192;

/// Headers longer than this are parsed every time instead of being remembered, so that the
/// cache's memory stays bounded by its capacity times this length.
pub const MAX_CACHED_HEADER_BYTES: usize = 1024;

/// What FxA kept of a parsed `User-Agent` header, ready for the Amplitude data bag.
///
/// `None` means the key is absent from the data bag.
/// FxA sometimes set a version to the empty string (a family with no version, or a version
/// that failed the safety pattern); the transform prunes falsy values, so the port gives
/// `None` for those too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgent {
    /// The browser family (`browser` in the data bag, `ua_browser` in Amplitude).
    pub browser: Option<String>,
    /// The browser version (`browserVersion`, Amplitude `ua_version`).
    pub browser_version: Option<String>,
    /// The operating system family (`os`, Amplitude `os_name`).
    pub os: Option<String>,
    /// The operating system version (`osVersion`, Amplitude `os_version`).
    pub os_version: Option<String>,
    /// The device family (`formFactor`, Amplitude `device_model`).
    pub form_factor: Option<String>,
}

/// Counters of the parser's cache, for an operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that ran the regexes.
    pub misses: u64,
}

/// A user-agent parser with uap-core's regexes and a bounded cache keyed by the header.
///
/// Building one loads and compiles uap-core's 1,200 regexes (about a quarter of a second in an
/// optimized build, docs/performance.md): build it once and share it (`Send + Sync`).
///
/// # Example
///
/// ```
/// let parser = metricsmith_enrich::UserAgentParser::new()?;
/// let ua = parser.parse(
///     "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:65.0) Gecko/20100101 Firefox/65.0",
/// );
/// assert_eq!(ua.browser.as_deref(), Some("Firefox"));
/// assert_eq!(ua.browser_version.as_deref(), Some("65.0"));
/// assert_eq!(ua.os.as_deref(), Some("Windows"));
/// assert_eq!(ua.os_version.as_deref(), Some("10"));
/// assert_eq!(ua.form_factor, None);
/// # Ok::<(), metricsmith_enrich::Error>(())
/// ```
pub struct UserAgentParser {
    extractor: ua_parser::Extractor<'static>,
    cache: Cache,
}

impl std::fmt::Debug for UserAgentParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAgentParser")
            .field("cache_capacity", &self.cache.capacity)
            .field("cache_stats", &self.cache_stats())
            .finish_non_exhaustive()
    }
}

impl UserAgentParser {
    /// Builds a parser with [`DEFAULT_CACHE_CAPACITY`].
    ///
    /// # Errors
    ///
    /// [`Error::UserAgentRegexes`] if the embedded regexes fail to load or compile (a build
    /// defect, caught by this crate's tests).
    pub fn new() -> Result<Self, Error> {
        Self::with_cache_capacity(DEFAULT_CACHE_CAPACITY)
    }

    /// Builds a parser that remembers up to `capacity` headers (0 disables the cache).
    ///
    /// # Errors
    ///
    /// As [`UserAgentParser::new`].
    pub fn with_cache_capacity(capacity: usize) -> Result<Self, Error> {
        let regexes: ua_parser::Regexes<'static> = serde_saphyr::from_str(REGEXES_YAML)
            .map_err(|e| Error::UserAgentRegexes(e.to_string()))?;
        let extractor = ua_parser::Extractor::try_from(regexes)
            .map_err(|e| Error::UserAgentRegexes(e.to_string()))?;
        Ok(Self {
            extractor,
            cache: Cache::new(capacity),
        })
    }

    /// Parses a `User-Agent` header, from the cache when it was seen recently.
    pub fn parse(&self, header: &str) -> Arc<UserAgent> {
        if let Some(hit) = self.cache.get(header) {
            return hit;
        }
        let parsed = Arc::new(self.parse_uncached(header));
        self.cache.insert(header, Arc::clone(&parsed));
        parsed
    }

    /// Parses a `User-Agent` header without the cache (what [`UserAgentParser::parse`] does on
    /// a miss).
    pub fn parse_uncached(&self, header: &str) -> UserAgent {
        let (ua, os, device) = self.extractor.extract(header);
        let mut out = UserAgent::default();
        if let Some(ua) = ua
            && let Some(family) = kept_family(&ua.family)
        {
            out.browser = Some(family.to_owned());
            out.browser_version = version_string(
                ua.major.map(Cow::Borrowed),
                ua.minor.map(Cow::Borrowed),
                ua.patch.map(Cow::Borrowed),
                // node-uap's user-agent version has three parts: no patch-minor.
                None,
            );
        }
        if let Some(os) = os
            && let Some(family) = kept_family(&os.os)
        {
            out.os = Some(family.to_owned());
            out.os_version = version_string(os.major, os.minor, os.patch, os.patch_minor);
        }
        if let Some(device) = device
            && let Some(brand) = device.brand.as_deref()
            && brand != "Generic"
        {
            // The reference implementation names a device without a family `Other`.
            out.form_factor = Some(if device.device.is_empty() {
                "Other".to_owned()
            } else {
                device.device.into_owned()
            });
        }
        out
    }

    /// The cache's hit and miss counts since the parser was built.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            hits: self.cache.hits.load(Ordering::Relaxed),
            misses: self.cache.misses.load(Ordering::Relaxed),
        }
    }
}

/// `safeFamily` then `mapUserAgentProperties`: the family when it is safe and not `Other`.
fn kept_family(family: &str) -> Option<&str> {
    let safe = (1..=32).contains(&family.len())
        && family
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ');
    (safe && family != "Other").then_some(family)
}

/// node-uap's `toVersionString()` followed by `safeVersion`.
///
/// Each part is appended only while the previous ones are present; a patch (or patch-minor)
/// that does not start with a digit is appended without a dot (`4.0b1`).
/// A result that fails `^[\w.]{1,16}$` is emptied, which the port returns as `None`.
fn version_string(
    major: Option<Cow<'_, str>>,
    minor: Option<Cow<'_, str>>,
    patch: Option<Cow<'_, str>>,
    patch_minor: Option<Cow<'_, str>>,
) -> Option<String> {
    let mut out = String::new();
    if let Some(major) = major {
        out.push_str(&major);
        if let Some(minor) = minor {
            out.push('.');
            out.push_str(&minor);
            if let Some(patch) = patch {
                push_tail(&mut out, &patch);
                if let Some(patch_minor) = patch_minor {
                    push_tail(&mut out, &patch_minor);
                }
            }
        }
    }
    let safe = (1..=16).contains(&out.len())
        && out
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    safe.then_some(out)
}

fn push_tail(out: &mut String, part: &str) {
    if part.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('.');
    }
    out.push_str(part);
}

/// A bounded cache of two generations: lookups promote an entry from the old generation to
/// the young one, and when the young generation is full it becomes the old one (dropping the
/// previous old one).
/// It keeps the recently used headers like an LRU would, with O(1) work and no list.
struct Cache {
    capacity: usize,
    generations: Mutex<Generations>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct Generations {
    young: HashMap<Box<str>, Arc<UserAgent>>,
    old: HashMap<Box<str>, Arc<UserAgent>>,
}

impl Cache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            generations: Mutex::new(Generations::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn generation_size(&self) -> usize {
        self.capacity.div_ceil(2)
    }

    fn get(&self, header: &str) -> Option<Arc<UserAgent>> {
        if self.capacity == 0 || header.len() > MAX_CACHED_HEADER_BYTES {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // A panic while holding the lock cannot leave the maps inconsistent (every update is
        // a single insert or swap), so a poisoned lock is still usable.
        let mut g = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let found = if let Some(hit) = g.young.get(header) {
            Some(Arc::clone(hit))
        } else if let Some((key, hit)) = g.old.remove_entry(header) {
            self.push_young(&mut g, key, Arc::clone(&hit));
            Some(hit)
        } else {
            None
        };
        drop(g);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    fn insert(&self, header: &str, parsed: Arc<UserAgent>) {
        if self.capacity == 0 || header.len() > MAX_CACHED_HEADER_BYTES {
            return;
        }
        let mut g = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if g.young.contains_key(header) {
            return;
        }
        self.push_young(&mut g, header.into(), parsed);
    }

    fn push_young(&self, g: &mut Generations, key: Box<str>, value: Arc<UserAgent>) {
        if g.young.len() >= self.generation_size() {
            g.old = std::mem::take(&mut g.young);
        }
        g.young.insert(key, value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let g = self
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        g.young.len() + g.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_kept_when_safe_and_not_other() {
        for (family, kept) in [
            ("Firefox", true),
            ("Firefox Mobile", true),
            ("Chrome_Mobile 2", true),
            ("Other", false),
            ("", false),
            ("Mail.ru", false),
            ("Symbian^3", false),
            ("UI/WKWebView", false),
            ("été", false),
            ("a23456789012345678901234567890bc", true),
            ("a23456789012345678901234567890bcd", false),
        ] {
            assert_eq!(kept_family(family).is_some(), kept, "{family:?}");
        }
    }

    #[test]
    fn versions_join_present_parts_like_node_uap() {
        let v = |parts: [Option<&'static str>; 4]| {
            version_string(
                parts[0].map(Cow::Borrowed),
                parts[1].map(Cow::Borrowed),
                parts[2].map(Cow::Borrowed),
                parts[3].map(Cow::Borrowed),
            )
        };
        let cases: [([Option<&'static str>; 4], Option<&str>); 9] = [
            ([Some("65"), Some("0"), None, None], Some("65.0")),
            ([Some("66"), Some("0"), Some("2"), None], Some("66.0.2")),
            (
                [Some("10"), Some("14"), Some("4"), Some("1")],
                Some("10.14.4.1"),
            ),
            ([Some("4"), Some("0"), Some("b1"), None], Some("4.0b1")),
            ([Some("XP"), None, None, None], Some("XP")),
            ([Some("7"), None, Some("1"), None], Some("7")),
            ([None, Some("1"), None, None], None),
            ([Some("1234567890"), Some("1234567"), None, None], None),
            ([Some("1"), Some("2 beta"), None, None], None),
        ];
        for (parts, expected) in cases {
            assert_eq!(v(parts).as_deref(), expected, "{parts:?}");
        }
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_recent_headers() {
        let cache = Cache::new(4);
        let value = Arc::new(UserAgent::default());
        for i in 0..100 {
            cache.insert(&format!("ua {i}"), Arc::clone(&value));
            assert!(cache.len() <= 4, "{} entries after {i}", cache.len());
        }
        assert!(cache.get("ua 99").is_some());
        assert!(cache.get("ua 98").is_some());
        assert!(cache.get("ua 0").is_none());
        // A header used again survives the next rotations.
        cache.insert("hot", Arc::clone(&value));
        for i in 100..110 {
            assert!(cache.get("hot").is_some(), "lost after {i}");
            cache.insert(&format!("ua {i}"), Arc::clone(&value));
        }
        let long = "x".repeat(MAX_CACHED_HEADER_BYTES + 1);
        cache.insert(&long, Arc::clone(&value));
        assert!(cache.get(&long).is_none());
        let disabled = Cache::new(0);
        disabled.insert("a", value);
        assert!(disabled.get("a").is_none());
    }
}
