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
mod handshake;
pub mod js;
pub mod line;
pub mod mozlog;
pub mod types;
pub mod view;
mod words;

#[cfg(feature = "macros")]
pub use metricsmith_macros::schema;

/// The version of the mapping data format this runtime reads.
///
/// Generated code checks it when it compiles: code written by a compiler of another format
/// fails to build with an error that names both versions and says how to regenerate it.
pub use metricsmith_spec::SPEC_FORMAT;

/// Re-exports for generated code; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use regex;
    pub use serde_json;

    pub use crate::handshake::check_spec_format;
}
