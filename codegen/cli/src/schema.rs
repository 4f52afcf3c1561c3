//! Loading a schema for commands that run it (`map`, benchmarks, tests).

use std::io::IsTerminal;
use std::path::Path;

use metricsmith::amplitude::{Mapping, MappingSpec};
use metricsmith_codegen::{Loader, Model, Style};

/// The exit status of a command that failed with `Err(message)`: 2, after printing the
/// message (an empty one was printed already, e.g. rendered diagnostics).
pub fn exit_status(result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            std::process::ExitCode::from(2)
        }
    }
}

/// [`load_or_report`] for commands: the rendered report is printed to stderr and the error
/// message is empty (see [`exit_status`]).
///
/// # Errors
/// An empty message when the schema has errors or cannot be read.
pub fn load_printing(path: &Path) -> Result<Model, String> {
    load_or_report(path).map_err(|report| {
        // The rendered diagnostics say `error[E....]` themselves.
        eprintln!("{report}");
        String::new()
    })
}

/// Loads and checks a schema; on errors returns the rendered diagnostics (styled when stderr is
/// a terminal), on success prints nothing and returns the model.
///
/// # Errors
/// The rendered report when the schema has errors or cannot be read.
pub fn load_or_report(path: &Path) -> Result<Model, String> {
    let style = if std::io::stderr().is_terminal() {
        Style::Styled
    } else {
        Style::Plain
    };
    Loader::new()
        .load(path)
        .map(|checked| checked.model)
        .map_err(|report| report.render(style).trim_end().to_owned())
}

/// The runtime mapping of the one service of an entry file.
///
/// # Errors
/// A message when the file has errors, declares no service or several, or its mapping does
/// not compile.
pub fn load_mapping(path: &Path) -> Result<(Model, Mapping), String> {
    let model = load_or_report(path)?;
    let mapping = mapping_of(&model, path)?;
    Ok((model, mapping))
}

/// The runtime mapping of the one service of a loaded entry file (`path`, for messages).
///
/// # Errors
/// A message when the model holds no service or several, or its mapping does not compile.
pub fn mapping_of(model: &Model, path: &Path) -> Result<Mapping, String> {
    let spec = only_service_spec(model, path)?;
    Mapping::new(spec).map_err(|err| err.to_string())
}

fn only_service_spec(model: &Model, path: &Path) -> Result<MappingSpec, String> {
    only_service(model, path).map(metricsmith_codegen::spec::mapping_spec)
}

/// The one service of a loaded entry file (`path`, for messages).
///
/// # Errors
/// A message when the model holds no service or several.
pub fn only_service<'m>(
    model: &'m Model,
    path: &Path,
) -> Result<&'m metricsmith_codegen::model::Service, String> {
    let mut services = model.services.values();
    match (services.next(), services.next()) {
        (Some(service), None) => Ok(service),
        (None, _) => Err(format!(
            "{} declares no service: pass an entry file (one with `service:`)",
            path.display()
        )),
        (Some(_), Some(_)) => Err(format!(
            "{} holds {} services: pass one entry file",
            path.display(),
            model.services.len()
        )),
    }
}

/// Reads an `--oauth-clients` file: a JSON object of client id -> service name.
///
/// # Errors
/// A message naming the file when it cannot be read or is not such an object.
pub fn read_oauth_clients(
    path: &Path,
) -> Result<std::collections::HashMap<String, String>, String> {
    use serde_json::{Map, Value};
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read --oauth-clients {}: {err}", path.display()))?;
    let value: Map<String, Value> = serde_json::from_str(&text).map_err(|err| {
        format!(
            "--oauth-clients {} is not a JSON object: {err}",
            path.display()
        )
    })?;
    value
        .into_iter()
        .map(|(id, name)| match name {
            Value::String(name) => Ok((id, name)),
            other => Err(format!(
                "--oauth-clients {}: the name of client `{id}` is {other}, not a string",
                path.display()
            )),
        })
        .collect()
}
