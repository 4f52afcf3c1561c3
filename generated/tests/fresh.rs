//! `generated/` must be exactly what the generator writes for `schema/fxa` today.
//!
//! Regenerate with `cargo run -p metricsmith-cli -- generate --schema schema/fxa --out generated`
//! (or run this test with `METRICSMITH_UPDATE=1`, which writes the files and still fails once).

use std::path::{Path, PathBuf};

const COMMAND: &str =
    "cargo run -p metricsmith-cli -- generate --schema schema/fxa --out generated";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn generated_files_are_fresh() -> Result<(), metricsmith_codegen::Error> {
    let root = workspace();
    // The CLI is run from the workspace root with relative paths; so is this, so the
    // `@generated` headers and docs name the same files.
    std::env::set_current_dir(&root).map_err(|source| metricsmith_codegen::Error::Read {
        path: root.clone(),
        source,
    })?;
    let generated = metricsmith_codegen::Builder::new()
        .schema("schema/fxa")
        .tests(true)
        .docs(true)
        .json_schema(true)
        .crate_layout(true)
        .generate()?;
    let out = Path::new("generated");
    let stale: Vec<&str> = generated
        .files
        .iter()
        .filter(|f| std::fs::read_to_string(out.join(&f.path)).ok().as_deref() != Some(&f.contents))
        .map(|f| f.path.as_str())
        .collect();
    if !stale.is_empty() && std::env::var_os("METRICSMITH_UPDATE").is_some() {
        metricsmith_codegen::driver::write_all(out, &generated.files)?;
    }
    assert!(
        stale.is_empty(),
        "generated/ is stale ({}); regenerate it with:\n\n    {COMMAND}\n",
        stale.join(", ")
    );
    Ok(())
}
