//! Backends: pure functions of the validated [`Model`](crate::model::Model).
//!
//! - [`rust`]: the Rust module of a service (`TokenStream`).
//! - [`tests`]: the generated per-event and per-rule tests of a service (`TokenStream`).
//! - [`docs`]: reviewer docs in Markdown (tera templates).
//! - [`json_schema`]: the JSON Schema of a service's amplitude events.
//!
//! Only the [driver](crate::driver) formats and writes what they return.

pub(crate) mod code;
pub mod docs;
pub mod example;
pub mod json_schema;
pub mod rust;
pub mod tests;
