//! The Amplitude transform (spec §4.2-§4.6), driven by a [`MappingSpec`].

mod transform;

// The mapping types live in crate `metricsmith-spec`, shared with the compiler.
pub use metricsmith_spec::*;
pub use transform::*;

#[cfg(test)]
mod tests;
