//! Backends: pure functions of the validated [`Model`](crate::model::Model).
//!
//! - [`rust`]: the Rust module of a service, as formatted text (written through `code`).
//! - [`tests`]: the generated per-event and per-rule tests of a service, as formatted text.
//! - [`docs`]: reviewer docs in Markdown, written straight into a `String`.
//! - [`json_schema`]: the JSON Schema of a service's amplitude events.
//! - [`collector`]: the JSON Schema of a collector's request body and its front-end page.
//! - [`templates`]: user templates (tera 2) over a documented, versioned view of the model.
//!
//! Each is one pass over the model that only reads it: the facts several of them show (each
//! event's and family's example and what it maps to, each rule's example and the rules and exact
//! names it overlaps) are computed once by [lowering](crate::lower).
//!
//! Every backend writes text directly: at 2,000 events, building tokens, parsing and printing
//! them and rendering tera templates took about four fifths of the stages of
//! `metricsmith generate` timed one after another (docs/performance.md).
//! Only the [driver](crate::driver) writes what they return.

pub(crate) mod code;
pub mod collector;
pub mod docs;
/// Moved to [`crate::example`]: lowering evaluates the examples once for every backend.
pub use crate::example;
pub mod json_schema;
pub mod rust;
pub mod templates;
pub mod tests;
