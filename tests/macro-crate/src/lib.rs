//! schema/fxa's auth and payments services, generated inline by `metricsmith::schema!`.

/// The auth server's events.
pub mod auth_server {
    metricsmith::schema!("../../schema/fxa/auth-server.yaml");
}

/// The payments server's events.
pub mod payments_server {
    metricsmith::schema!("../../schema/fxa/payments-server.yaml");
}
