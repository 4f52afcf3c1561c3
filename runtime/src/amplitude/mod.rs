//! The Amplitude transform (spec §4.2-§4.6), driven by a [`MappingSpec`].

mod mapping;
mod transform;

pub use mapping::*;
pub use transform::*;
