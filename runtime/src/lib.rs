//! metricsmith runtime: what generated code and services link.
//!
//! - [`mozlog`]: mozlog lines exactly as FxA wrote them.
//! - [`emit`]: activity, flow and amplitude emission like FxA's `emitMetricsEvent`.
//! - [`context`]: the metrics context and its stores (memory, memcached).
//! - [`flow_id`]: signing and verifying flow ids.
//! - [`amplitude`]: the Amplitude transform driven by a compiled mapping.
//! - [`js`]: the JavaScript value semantics that FxA's behaviour depends on.

pub mod amplitude;
pub mod clock;
pub mod context;
pub mod emit;
pub mod flow_id;
pub mod js;
pub mod line;
pub mod mozlog;
pub mod types;
pub mod view;

#[cfg(feature = "macros")]
pub use metricsmith_macros::schema;

/// Re-exports for generated code; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use regex;
    pub use serde_json;
}
