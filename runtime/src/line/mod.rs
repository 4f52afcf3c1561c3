//! The line path that every stage shares: JSON Lines read through one large buffer, each line
//! parsed into reused storage with its strings borrowed, and output written into reused
//! buffers.
//!
//! `metricsmith map` reads with [`Reader`], parses each line with [`Doc::parse`] and hands the
//! [`Value`]s straight to [`crate::amplitude::Mapping::transform_view_to`]: in steady state a
//! line costs no allocation at all.

mod doc;
mod fast;
mod reader;

pub use doc::{Doc, Parsed, Value};
pub use reader::{DEFAULT_MAX_LINE, Line, Reader};
