//! The metricsmith schema compiler.

pub mod ast;
pub mod diagnostic;
pub mod expr;
pub mod ident;
pub mod jsregex;
pub mod lower;
pub mod model;
pub mod parse;
pub mod shadow;
pub mod source;
mod suggest;
