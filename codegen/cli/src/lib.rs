//! The library behind the `metricsmith` command-line tool: loading a schema for the runtime
//! and lowering its model into the runtime's mapping.
//!
//! The binary's subcommands are thin shells over this and over `metricsmith-codegen`; tests
//! and benchmarks use it to run a schema's mapping without generating code first.

pub mod lower;
pub mod schema;
