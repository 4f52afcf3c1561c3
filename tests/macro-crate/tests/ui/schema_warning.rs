// Schema warnings are compiler warnings at the path literal; denied here, so that trybuild
// shows them.
#![deny(warnings)]

mod svc {
    metricsmith::schema!("../../../../tests/macro-crate/tests/ui/schemas/shadowed_rule.yaml");
}

fn main() {}
