//! Injected time and randomness.
//!
//! Everything in the runtime that reads the time (mozlog `Timestamp`, flow `time`, context TTLs)
//! goes through a [`Clock`], and everything that needs random bytes (flow id salts) goes through a
//! [`SaltSource`], so tests can pin both.
//!
//! ```
//! use metricsmith::clock::{Clock, FixedClock};
//!
//! let clock = FixedClock::new(1_551_700_123_456);
//! assert_eq!(clock.now_ms(), 1_551_700_123_456);
//! clock.advance(4);
//! assert_eq!(clock.now_ms(), 1_551_700_123_460);
//! ```

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in milliseconds since the Unix epoch (JavaScript's `Date.now()`).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time in ms since the Unix epoch.
    fn now_ms(&self) -> i64;
}

impl<T: Clock + ?Sized> Clock for Arc<T> {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now_ms(&self) -> i64 {
        (**self).now_ms()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970: report negative ms like `Date.now()` would.
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
        }
    }
}

/// A clock that returns a settable time; for tests.
#[derive(Debug, Default)]
pub struct FixedClock {
    now_ms: AtomicI64,
}

impl FixedClock {
    /// A clock stopped at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self {
            now_ms: AtomicI64::new(now_ms),
        }
    }

    /// Sets the time.
    pub fn set(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward by `ms` (backward when negative), saturating.
    pub fn advance(&self, ms: i64) {
        let _ = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(ms))
            });
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Why random bytes could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system's random source failed.
    #[error("the operating system's random source failed: {0}")]
    Os(getrandom::Error),
}

/// A source of the 16 random bytes of a flow id salt.
pub trait SaltSource: Send + Sync + fmt::Debug {
    /// Fills `salt` with random bytes.
    ///
    /// # Errors
    /// [`Error::Os`] when the operating system's random source fails.
    fn fill(&self, salt: &mut [u8; 16]) -> Result<(), Error>;
}

impl<T: SaltSource + ?Sized> SaltSource for Arc<T> {
    fn fill(&self, salt: &mut [u8; 16]) -> Result<(), Error> {
        (**self).fill(salt)
    }
}

impl<T: SaltSource + ?Sized> SaltSource for &T {
    fn fill(&self, salt: &mut [u8; 16]) -> Result<(), Error> {
        (**self).fill(salt)
    }
}

/// Random bytes from the operating system (`getrandom`), like node's `crypto.randomBytes`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl SaltSource for OsRng {
    fn fill(&self, salt: &mut [u8; 16]) -> Result<(), Error> {
        getrandom::fill(salt).map_err(Error::Os)
    }
}

/// Always the same salt; for tests and reproducible vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedSalt(pub [u8; 16]);

impl SaltSource for FixedSalt {
    fn fill(&self, salt: &mut [u8; 16]) -> Result<(), Error> {
        *salt = self.0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_set_and_advance() {
        let clock = FixedClock::new(10);
        clock.advance(5);
        assert_eq!(clock.now_ms(), 15);
        clock.set(-3);
        assert_eq!(clock.now_ms(), -3);
        clock.set(i64::MAX);
        clock.advance(1);
        assert_eq!(clock.now_ms(), i64::MAX);
    }

    #[test]
    fn system_clock_is_after_2019() {
        assert!(SystemClock.now_ms() > 1_551_700_000_000);
    }

    #[test]
    fn os_rng_fills_and_fixed_salt_repeats() {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        OsRng.fill(&mut a).unwrap();
        OsRng.fill(&mut b).unwrap();
        assert_ne!(a, b);
        let fixed = FixedSalt(*b"MozillaFirefox!!");
        fixed.fill(&mut a).unwrap();
        assert_eq!(&a, b"MozillaFirefox!!");
    }
}
