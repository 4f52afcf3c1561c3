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

pub mod ast;
pub mod backend;
pub mod diagnostic;
pub mod driver;
pub mod expr;
pub mod ident;
pub mod jsregex;
mod loader;
pub mod lower;
pub mod model;
pub mod parse;
pub mod shadow;
pub mod source;
mod suggest;

pub use driver::{Builder, Error, Generated, GeneratedFile, compile};

pub use ast::json_schema;
pub use diagnostic::{Code, Diagnostic, Label, Report, Severity, Style};
pub use loader::{Checked, DEFAULT_MAX_FILE_SIZE, Loader, load, today};
pub use model::{Date, Model};
pub use source::{FileId, SourceFile, Sources, Span};
