//! Code generated for another spec format than the runtime reads does not compile, and the
//! error names both formats and how to regenerate it.
//! The const item is the line `metricsmith generate` writes into every service module
//! (generated/src/auth_server.rs), with the format one past the runtime's.

const _: () = ::metricsmith::__private::check_spec_format(
    ::metricsmith::SPEC_FORMAT + 1,
    "auth-server.yaml",
);

fn main() {}
