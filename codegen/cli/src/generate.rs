//! `metricsmith generate`: Rust code with its tests, reviewer docs and JSON Schemas.

use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith_codegen::Builder;

/// Arguments of `metricsmith generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A schema entry file, or a directory whose `*.yaml` files are entry files.
    #[arg(long, required = true)]
    pub schema: Vec<PathBuf>,
    /// The output directory, laid out as a crate: `src/`, `docs/`.
    #[arg(long)]
    pub out: PathBuf,
    /// A directory of user templates: each `*.tera` file is rendered (tera 2) over the view
    /// of the model in docs/templates.md, into OUT under its name without `.tera`.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

pub fn run(args: &Args) -> ExitCode {
    let mut builder = Builder::new();
    for schema in &args.schema {
        builder.schema(schema);
    }
    builder
        .tests(true)
        .docs(true)
        .json_schema(true)
        .crate_layout(true);
    if let Some(dir) = &args.templates {
        builder.templates(dir);
    }
    write(&builder, &args.out)
}

/// Generates with `builder` and writes the files that changed under `out`.
///
/// Exit status as `metricsmith check`: 1 when a schema has errors, 2 for usage or I/O errors.
pub fn write(builder: &Builder, out: &std::path::Path) -> ExitCode {
    let generated = match builder.generate() {
        Ok(generated) => generated,
        Err(err) => {
            eprint!("{err}");
            if !err.to_string().ends_with('\n') {
                eprintln!();
            }
            return match err {
                metricsmith_codegen::Error::Schema { report, .. }
                | metricsmith_codegen::Error::Template { report, .. } => {
                    metricsmith_cli::exit_status(&report, false)
                }
                _ => ExitCode::from(2),
            };
        }
    };
    eprint!("{}", generated.warnings);
    match metricsmith_codegen::driver::sync_dir(out, &generated.files) {
        Ok(synced) => {
            for path in &synced.removed {
                eprintln!(
                    "removed {} (generated earlier, not by this schema)",
                    path.display()
                );
            }
            eprintln!(
                "{} files generated in {} ({} changed, {} removed)",
                generated.files.len(),
                out.display(),
                synced.written.len(),
                synced.removed.len()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
