//! The Amplitude transform (spec §4.2-§4.6), driven by a [`MappingSpec`].

mod json;
mod transform;

pub use json::spec_from_json;
// The mapping types live in crate `metricsmith-spec`, shared with the compiler.
pub use metricsmith_spec::*;
pub use transform::*;

#[cfg(test)]
mod tests;
