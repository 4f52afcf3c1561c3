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
}

pub fn run(args: &Args) -> ExitCode {
    let mut builder = Builder::new();
    for schema in &args.schema {
        builder.schema(schema);
    }
    builder.code(false).docs(true).json_schema(true);
    crate::generate::write(&builder, &args.out)
}
