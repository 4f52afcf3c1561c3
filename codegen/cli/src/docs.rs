//! `metricsmith docs`: reviewer docs and JSON Schemas only.

use std::path::PathBuf;
use std::process::ExitCode;

use metricsmith_codegen::Builder;

/// Arguments of `metricsmith docs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A schema entry file, or a directory whose `*.yaml` files are entry files.
    #[arg(long, required = true)]
    pub schema: Vec<PathBuf>,
    /// The output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// An older version of the schema (a path or `git:REV:PATH`): adds a `changes.md` page
    /// listing what changed since it, as `metricsmith diff` finds it.
    #[arg(long, value_name = "OLD")]
    pub baseline: Option<String>,
}

pub fn run(args: &Args) -> ExitCode {
    let mut builder = Builder::new();
    for schema in &args.schema {
        builder.schema(schema);
    }
    builder.code(false).docs(true).json_schema(true);
    match &args.baseline {
        None => crate::generate::write(&builder, &args.out),
        Some(old) => match crate::diff::changes_page(old, &args.schema) {
            Ok(page) => crate::generate::write_with(&builder, &args.out, page),
            Err(message) => {
                eprintln!("{}", message.trim_end());
                ExitCode::from(2)
            }
        },
    }
}
