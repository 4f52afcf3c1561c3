//! The metricsmith schema compiler.

pub mod model;
