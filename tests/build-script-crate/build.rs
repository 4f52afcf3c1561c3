//! Compiles the FxA auth and oauth schemas into `OUT_DIR`.

use std::path::PathBuf;

fn main() -> Result<(), metricsmith_codegen::Error> {
    // Absolute paths: the schema lives outside this crate, two levels up.
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    metricsmith_codegen::Builder::new()
        .schema(root.join("../../schema/fxa/auth-server.yaml"))
        .schema(root.join("../../schema/fxa/oauth-server.yaml"))
        .compile()
}
