//! The metricsmith schema compiler.
