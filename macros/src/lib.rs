//! `metricsmith::schema!`: compile a metricsmith schema inline.
