//! Backends: pure functions of the validated [`Model`](crate::model::Model).
//!
//! - [`rust`]: the Rust module of a service, as formatted text (written through `code`).
//! - [`tests`]: the generated per-event and per-rule tests of a service, as formatted text.
//! - [`docs`]: reviewer docs in Markdown, written straight into a `String`.
//! - [`json_schema`]: the JSON Schema of a service's amplitude events.
//!
//! Every backend writes text directly: at 2,000 events, building tokens, parsing and printing
//! them and rendering tera templates took about four fifths of the stages of
//! `metricsmith generate` timed one after another (docs/performance.md).
//! Only the [driver](crate::driver) writes what they return.

pub(crate) mod code;
pub mod docs;
pub mod example;
pub mod json_schema;
pub mod rust;
pub mod tests;
