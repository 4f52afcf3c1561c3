//! The metricsmith schema compiler: YAML schema files -> validated [`Model`] -> backends.
//!
//! The front end reads schema files ([`Loader`]), parses them into an [`ast`], and validates
//! and lowers them ([`lower`]) into a [`Model`] while collecting every [`Diagnostic`] of the
//! run into a [`Report`].
//!
//! ```no_run
//! let checked = metricsmith_codegen::load("schema/fxa").map_err(|report| {
//!     eprintln!("{report}");
//! });
//! # let _ = checked;
//! ```
//!
//! # In a build script
//!
//! The [`driver`] runs the backends ([`backend`]): `build.rs` generates one module per service
//! into `OUT_DIR`, rerunning when any schema file changes and printing the diagnostics as
//! `cargo::error=` lines when there are errors:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), metricsmith_codegen::Error> {
//!     metricsmith_codegen::compile("schema/fxa/auth-server.yaml")
//! }
//! ```
//!
//! and the crate includes the module (its items carry no inner attributes):
//!
//! ```ignore
//! pub mod auth_server {
//!     include!(concat!(env!("OUT_DIR"), "/auth_server.rs"));
//! }
//! ```
//!
//! [`Builder`] takes several schemas and options (`out_dir`, `tests`, `docs`, `json_schema`);
//! its `generate()` returns the files in memory, as the CLI and the `schema!` macro use it.

pub mod ast;
pub mod backend;
pub mod diagnostic;
pub mod diff;
pub mod driver;
pub mod example;
pub mod expr;
mod first_match;
pub mod ident;
pub mod jsregex;
mod loader;
pub mod lower;
pub mod model;
pub mod parse;
pub mod shadow;
pub mod source;
pub mod spec;
mod suggest;
pub mod warehouse;
mod yaml;

pub use driver::{Builder, Error, Generated, GeneratedFile, compile};

pub use ast::json_schema;
pub use diagnostic::{Code, Diagnostic, Label, Report, Severity, Style};
pub use loader::{Checked, DEFAULT_MAX_FILE_SIZE, Loader, load, today};
pub use model::{Date, Model};
pub use source::{FileId, SourceFile, Sources, Span};
